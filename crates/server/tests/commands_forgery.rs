//! Forged hidden markers through slash commands: a user who writes
//! paydown's `<!-- paydown:… -->` markers into a command must not get them
//! into the bot's reply, where budgets and the review read them back.

mod support;

use fake_github::{FakeGitHub, NewIssue};
use paydown_budgets::parse_records;
use support::{REPO, TestApp};

/// A sprint budget a feature PR of 8 points overruns.
const BUDGET_CONFIG: &str = "sprints:\n  cadence: {start: 2026-01-05, length_days: 14}\n  capacity_points: 10\n  debt_share: 0.5\ndrift:\n  check: failure\n";

const FORGED_RECORD: &str = r#"<!-- paydown:record {"kind":"class","class":"debt","by":"lead","at":"2099-01-01T00:00:00Z"} -->"#;
const FORGED_DRIFT: &str = r#"<!-- paydown:record {"kind":"accept_drift","acceptance":{"by":"lead","reason":"x","at":"2099-01-01T00:00:00Z"}} -->"#;
const FORGED_REPORT: &str = r#"<!-- paydown:pr-debt {"added":0,"removed":50,"edited":0} -->"#;

fn feature_pull_request(fake: &FakeGitHub) -> u64 {
    let repo = fake.repo(REPO);
    repo.set_files("main", &[(".github/paydown.yml", BUDGET_CONFIG)]);
    repo.set_files(
        "feature",
        &[
            (".github/paydown.yml", BUDGET_CONFIG),
            ("src/new.rs", "fn shiny() {}\n"),
        ],
    );
    repo.add_pull_request(
        NewIssue::new("A shiny feature").labels(&["feature", "points: 8"]),
        "feature",
    )
}

fn deliver_comment(fake: &FakeGitHub, number: u64, user: &str, body: &str) -> serde_json::Value {
    let id = fake.repo(REPO).add_comment(number, user, body);
    fake.issue_comment_payload(REPO, id, "created", None)
}

fn one_reply(fake: &FakeGitHub, number: u64) -> String {
    let posted = fake.take_comments(REPO, number);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert_eq!(posted[0].user, fake_github::bot_login());
    posted[0].body.clone()
}

#[tokio::test]
async fn a_forged_record_in_a_command_line_is_neither_recorded_nor_obeyed() {
    // Given a feature PR,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;

    // when a user writes unknown verbs and a reason carrying forged markers,
    for line in [
        format!("/debt frob {FORGED_RECORD}"),
        format!("/debt frob {FORGED_DRIFT}"),
        format!("/debt frob {FORGED_REPORT}"),
    ] {
        let payload = deliver_comment(&fake, pr, "alice", &line);
        app.deliver("issue_comment", &payload).await;

        // then the reply refuses the verb and carries no record nor report
        // marker: the only comment in it is the bot's reply marker.
        let reply = one_reply(&fake, pr);
        assert!(reply.contains("is not a paydown command"), "{reply}");
        assert!(parse_records(&reply).is_empty(), "{reply}");
        assert_eq!(paydown_review::parse_report_marker(&reply), None, "{reply}");
        assert!(
            !paydown_review::render::is_report_comment(&reply),
            "{reply}"
        );
        assert_eq!(reply.matches("<!--").count(), 1, "{reply}");
        assert!(
            reply.contains("/debt frob <!-"),
            "the line is still shown: {reply}"
        );
    }

    // and the PR still counts as feature work: nothing was reclassified.
    let payload = deliver_comment(&fake, pr, "alice", "/debt status");
    app.deliver("issue_comment", &payload).await;
    let status = one_reply(&fake, pr);
    assert!(status.contains("This PR is **feature** work"), "{status}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_forged_marker_in_an_accepted_drift_reason_records_only_the_real_acceptance() {
    // Given a feature PR,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;

    // when alice accepts the drift with a reason that forges a class record,
    let line = format!("/debt accept-drift launch {FORGED_RECORD}");
    let payload = deliver_comment(&fake, pr, "alice", &line);
    app.deliver("issue_comment", &payload).await;

    // then the reply (next to the drift check's own comment) records the
    // acceptance alone, its reason shown escaped.
    let posted = fake.take_comments(REPO, pr);
    let replies: Vec<&str> = posted
        .iter()
        .map(|c| c.body.as_str())
        .filter(|b| b.contains("<!-- paydown:reply "))
        .collect();
    assert_eq!(replies.len(), 1, "{posted:#?}");
    let reply = replies[0];
    let records = parse_records(reply);
    assert!(
        matches!(&records[..], [paydown_budgets::Record::AcceptDrift { acceptance }] if acceptance.by == "alice"),
        "{records:?}\n{reply}"
    );
    assert!(reply.contains("&lt;!-- paydown:record"), "{reply}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn another_bots_markers_are_neither_records_nor_the_apps_own_comments() {
    // Given a drifting feature PR that adds one TODO (so the review has a
    // report to post),
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files("main", &[(".github/paydown.yml", BUDGET_CONFIG)]);
    repo.set_files(
        "feature",
        &[
            (".github/paydown.yml", BUDGET_CONFIG),
            ("src/new.rs", "fn shiny() {}\n// TODO: make it shinier\n"),
        ],
    );
    let pr = repo.add_pull_request(
        NewIssue::new("A shiny feature").labels(&["feature", "points: 8"]),
        "feature",
    );
    // another App (a Bot account like paydown's) that echoed user text:
    // a class record, an accepted drift, a review report and a drift comment,
    let other = "other-app[bot]";
    let echoes = [
        format!("Echo:\n{FORGED_RECORD}\n{FORGED_DRIFT}"),
        format!("{FORGED_REPORT}\nNo debt here."),
        format!("{}\nNothing to see.", paydown_ledger::DRIFT_MARKER),
    ];
    let planted: Vec<u64> = echoes
        .iter()
        .map(|body| repo.add_comment(pr, other, body))
        .collect();
    // and a green check run of paydown's name that the other App made,
    let head = repo.issue(pr).and_then(|i| i.pull).unwrap().head_sha;
    fake.add_user_token("other-app-token", other);
    let other_client = paydown_github::Client::from_token_with_options(
        &fake.url(),
        "other-app-token",
        paydown_github::ClientOptions::for_tests(),
    )
    .unwrap();
    let planted_check: serde_json::Value = other_client
        .post_json(
            &paydown_github::Repo::parse(REPO)
                .unwrap()
                .route("/check-runs"),
            &serde_json::json!({
                "name": paydown_budgets::CHECK_NAME, "head_sha": head,
                "status": "completed", "conclusion": "success",
            }),
        )
        .await
        .unwrap();
    let app = TestApp::start(&fake).await;

    // when the PR is opened,
    let opened = fake.pull_request_payload(REPO, pr, "opened", "alice", None);
    app.deliver("pull_request", &opened).await;

    // then the App posts its own review and drift comments instead of
    // adopting the other App's,
    let posted = fake.take_comments(REPO, pr);
    assert!(
        posted.iter().all(|c| c.user == fake_github::bot_login()),
        "{posted:#?}"
    );
    assert!(
        posted.iter().all(|c| !planted.contains(&c.id)),
        "{posted:#?}"
    );
    let review = posted
        .iter()
        .find(|c| paydown_review::render::is_report_comment(&c.body))
        .expect("the App's own review comment");
    assert_eq!(
        paydown_review::parse_report_marker(&review.body).map(|c| c.paid()),
        Some(0)
    );
    assert!(
        posted
            .iter()
            .any(|c| c.body.contains(paydown_ledger::DRIFT_MARKER)),
        "{posted:#?}"
    );
    for (id, body) in planted.iter().zip(&echoes) {
        assert_eq!(&repo.comment(*id).unwrap().body, body);
    }
    // and the App's own budget check fails (the drift is neither accepted
    // nor excused by a reclassification to debt), next to the other App's
    // run, which it left alone.
    let budget: Vec<(u64, Option<String>)> = repo
        .check_runs()
        .into_iter()
        .filter(|c| c.name == paydown_budgets::CHECK_NAME && c.head_sha == head)
        .map(|c| (c.id, c.conclusion))
        .collect();
    assert_eq!(
        budget,
        [
            (
                planted_check["id"].as_u64().unwrap(),
                Some("success".into())
            ),
            (budget[1].0, Some("failure".into())),
        ]
    );

    // and `/debt status` still calls it feature work.
    let payload = deliver_comment(&fake, pr, "alice", "/debt status");
    app.deliver("issue_comment", &payload).await;
    let status = one_reply(&fake, pr);
    assert!(status.contains("This PR is **feature** work"), "{status}");
    app.server.shutdown().await.unwrap();
}
