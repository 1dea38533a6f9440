//! Sprint budgets through the App: signed `pull_request` webhooks through
//! the real router and workers, the drift comment and the `paydown / budget`
//! check run written to the fake GitHub, accepted drifts at the
//! `apply_record` level, and the ledger the server keeps against the one
//! `paydown report` rebuilds from the API alone.

mod support;

use chrono::Utc;
use fake_github::{FakeGitHub, NewIssue};
use paydown_budgets::{CHECK_NAME, Record, record_marker};
use paydown_github::{Client, ClientOptions, Repo};
use paydown_ledger::{Acceptance, DRIFT_MARKER, Ledger, PrRecord, report_json};
use paydown_server::handlers::SYNC_EVENT;
use paydown_server::store::{NewDelivery, RepoStateKey, RepoStatePrefix};
use support::{REPO, TestApp};

const CONFIG: &str = "sprints:\n  capacity_points: 20\n  debt_share: 0.3\n";

/// The ledger records the server caches for the repository.
async fn cached_records(app: &TestApp) -> Vec<PrRecord> {
    app.store
        .repo_state_list(REPO, RepoStatePrefix::PrRecords)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, v)| serde_json::from_str(&v).unwrap())
        .collect()
}

fn pr_event(
    fake: &FakeGitHub,
    number: u64,
    action: &str,
    label: Option<&str>,
) -> serde_json::Value {
    fake.pull_request_payload(REPO, number, action, "alice", label)
}

/// A repository with the budget config on `main` and the labels PRs use.
fn repository(fake: &FakeGitHub) {
    let handle = fake.repo(REPO);
    handle.set_files(
        "main",
        &[("README.md", "# octo\n"), (".github/paydown.yml", CONFIG)],
    );
    for label in ["feature", "debt", "points: 5"] {
        handle.add_label(label, "ededed", None);
    }
}

/// Opens PR `branch` with `labels` (delivering `opened`) and returns its number.
async fn open_pr(fake: &FakeGitHub, app: &TestApp, branch: &str, labels: &[&str]) -> u64 {
    let handle = fake.repo(REPO);
    handle.set_files(
        branch,
        &[
            ("README.md", "# octo\n"),
            (".github/paydown.yml", CONFIG),
            (&format!("src/{branch}.rs"), "fn f() {}\n"),
        ],
    );
    let number = handle.add_pull_request(
        NewIssue::new(&format!("Work on {branch}")).labels(labels),
        branch,
    );
    app.deliver("pull_request", &pr_event(fake, number, "opened", None))
        .await;
    number
}

async fn merge(fake: &FakeGitHub, app: &TestApp, number: u64) {
    fake.repo(REPO).merge_pull_request(number, "alice");
    app.deliver("pull_request", &pr_event(fake, number, "closed", None))
        .await;
}

/// The conclusions of the budget check runs on `number`'s head, oldest first.
fn budget_checks(fake: &FakeGitHub, number: u64) -> Vec<(String, Option<String>)> {
    let handle = fake.repo(REPO);
    let head = handle
        .issue(number)
        .and_then(|i| i.pull)
        .map(|p| p.head_sha)
        .unwrap();
    handle
        .check_runs()
        .into_iter()
        .filter(|c| c.name == CHECK_NAME && c.head_sha == head)
        .map(|c| (c.status, c.conclusion))
        .collect()
}

fn completed(conclusion: &str) -> (String, Option<String>) {
    ("completed".to_string(), Some(conclusion.to_string()))
}

fn dashboard_body(fake: &FakeGitHub) -> String {
    fake.repo(REPO)
        .issues()
        .into_iter()
        .filter_map(|i| i.body)
        .find(|b| b.contains("paydown:dashboard"))
        .unwrap_or_default()
}

/// Given three 5-point feature PRs in a sprint of capacity 20 with 30 %
/// reserved for debt (allowance 14): the first two merged, the third opened.
/// Returns the numbers of the two merged PRs and the open one.
async fn two_merged_and_a_third_open(fake: &FakeGitHub, app: &TestApp) -> ([u64; 2], u64) {
    repository(fake);
    let mut merged = [0; 2];
    for (i, branch) in ["f1", "f2"].into_iter().enumerate() {
        merged[i] = open_pr(fake, app, branch, &["feature", "points: 5"]).await;
        merge(fake, app, merged[i]).await;
    }
    (
        merged,
        open_pr(fake, app, "f3", &["feature", "points: 5"]).await,
    )
}

#[tokio::test]
async fn the_third_feature_pr_gets_the_drift_comment_and_a_neutral_check() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;

    // Given two 5-point feature PRs merged and a third opened,
    let (merged, third) = two_merged_and_a_third_open(&fake, &app).await;

    // then the first two stay quiet and green,
    for n in merged {
        assert!(
            fake.take_comments(REPO, n).is_empty(),
            "PR #{n} got a comment"
        );
        assert!(
            budget_checks(&fake, n)
                .iter()
                .all(|c| *c == completed("success")),
            "{:?}",
            budget_checks(&fake, n)
        );
    }
    // and the third gets one sticky comment with the numbers in plain words
    let comments = fake.take_comments(REPO, third);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    let body = &comments[0].body;
    assert!(body.contains(DRIFT_MARKER), "{body}");
    assert!(body.contains("drifting to feature work"), "{body}");
    assert!(body.contains("**15**"), "feature so far: {body}");
    assert!(body.contains("14"), "allowance: {body}");
    assert!(body.contains("**6**"), "reservation: {body}");
    assert!(body.contains("accept-drift"), "{body}");
    assert_eq!(comments[0].user, "paydown[bot]");
    // and a neutral check.
    assert_eq!(budget_checks(&fake, third), vec![completed("neutral")]);

    // When it is merged, the comment and the check stay as they are (the
    // same numbers), and the dashboard shows the sprint budget.
    merge(&fake, &app, third).await;
    assert!(fake.take_comments(REPO, third).is_empty());
    assert_eq!(budget_checks(&fake, third), vec![completed("neutral")]);
    let dashboard = dashboard_body(&fake);
    assert!(dashboard.contains("```mermaid"), "{dashboard}");

    // Redelivered events change nothing.
    fake.clear_requests();
    app.deliver("pull_request", &pr_event(&fake, third, "closed", None))
        .await;
    app.deliver("pull_request", &pr_event(&fake, third, "opened", None))
        .await;
    app.deliver(
        "pull_request",
        &pr_event(&fake, third, "labeled", Some("feature")),
    )
    .await;
    let writes: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.is_write())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn relabelling_the_drifting_pr_as_debt_removes_the_drift() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let (_, third) = two_merged_and_a_third_open(&fake, &app).await;
    assert_eq!(fake.take_comments(REPO, third).len(), 1);

    // When someone relabels it as debt work,
    fake.repo(REPO).edit_issue(third, |i| {
        i.labels = vec!["debt".into(), "points: 5".into()];
    });
    app.deliver(
        "pull_request",
        &pr_event(&fake, third, "unlabeled", Some("feature")),
    )
    .await;
    app.deliver(
        "pull_request",
        &pr_event(&fake, third, "labeled", Some("debt")),
    )
    .await;

    // then the same comment is edited to say so and the check turns green.
    let edited = fake.take_comments(REPO, third);
    assert_eq!(edited.len(), 1, "{edited:#?}");
    assert!(
        edited[0].body.contains("No longer drifting"),
        "{}",
        edited[0].body
    );
    assert_eq!(fake.repo(REPO).comments(third).len(), 1);
    assert_eq!(budget_checks(&fake, third), vec![completed("success")]);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn debt_work_merged_meanwhile_turns_an_open_drifting_pr_green() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let (_, third) = two_merged_and_a_third_open(&fake, &app).await;
    assert_eq!(fake.take_comments(REPO, third).len(), 1);
    assert_eq!(budget_checks(&fake, third), vec![completed("neutral")]);

    // When a 5-point debt PR is merged (debt 5 ≥ reservation 6 − tolerance 1),
    let debt = open_pr(&fake, &app, "d1", &["debt", "points: 5"]).await;
    merge(&fake, &app, debt).await;

    // then the open drifting PR is re-checked without an event of its own.
    assert!(fake.take_comments(REPO, debt).is_empty());
    let edited = fake.take_comments(REPO, third);
    assert_eq!(edited.len(), 1, "{edited:#?}");
    assert!(
        edited[0].body.contains("No longer drifting"),
        "{}",
        edited[0].body
    );
    assert_eq!(budget_checks(&fake, third), vec![completed("success")]);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_accepted_drift_turns_the_check_green_and_the_dashboard_lists_it() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let (_, third) = two_merged_and_a_third_open(&fake, &app).await;
    merge(&fake, &app, third).await;
    assert_eq!(fake.take_comments(REPO, third).len(), 1);

    // When a maintainer's `/debt accept-drift "launch week"` is recorded
    // (what the commands handler does: apply_record, then its reply
    // carrying the record marker),
    let client: Client = app.github.installation_client(1).await.unwrap();
    let repo = Repo::parse(REPO).unwrap();
    let config = paydown_config::parse(CONFIG, ".github/paydown.yml").unwrap();
    let record = Record::AcceptDrift {
        acceptance: Acceptance {
            by: "alice".into(),
            reason: "launch week".into(),
            at: Utc::now(),
        },
    };
    let outcome = paydown_budgets::apply_record(&client, &repo, &config, third, &record, None)
        .await
        .unwrap();
    let _: serde_json::Value = client
        .post_json(
            &repo.route(&format!("/issues/{third}/comments")),
            &serde_json::json!({ "body": format!("Recorded.\n\n{}", record_marker(&record)) }),
        )
        .await
        .unwrap();

    // then the check turns green and the sticky comment names who and why,
    assert_eq!(outcome.conclusion.map(|c| c.as_str()), Some("success"));
    assert_eq!(budget_checks(&fake, third), vec![completed("success")]);
    let comments = fake.take_comments(REPO, third);
    assert_eq!(comments.len(), 2, "{comments:#?}");
    let sticky = comments
        .iter()
        .find(|c| c.body.contains(DRIFT_MARKER))
        .unwrap();
    assert!(sticky.body.contains("Drift accepted"), "{}", sticky.body);
    assert!(sticky.body.contains("launch week"), "{}", sticky.body);

    // and the next full sync (which the commands handler queues after an
    // acceptance) lists it on the dashboard.
    app.store
        .enqueue(NewDelivery {
            settled: false,
            delivery_id: "paydown.sync:accepted".into(),
            event: SYNC_EVENT.into(),
            action: None,
            repo_key: Some(REPO.into()),
            installation_id: Some(1),
            payload: serde_json::to_vec(
                &serde_json::json!({"repository": REPO, "installation": 1}),
            )
            .unwrap(),
        })
        .await
        .unwrap();
    app.settle().await;
    let dashboard = dashboard_body(&fake);
    assert!(dashboard.contains("launch week"), "{dashboard}");
    assert!(dashboard.contains("`alice`"), "{dashboard}");

    // A later label event on the PR keeps the acceptance (read back from
    // the record in the comments): nothing is written.
    fake.clear_requests();
    app.deliver(
        "pull_request",
        &pr_event(&fake, third, "labeled", Some("feature")),
    )
    .await;
    assert_eq!(fake.count_writes(), 0);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_ledger_rebuilt_from_the_api_alone_matches_the_servers() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let (_, third) = two_merged_and_a_third_open(&fake, &app).await;
    merge(&fake, &app, third).await;
    let debt = open_pr(&fake, &app, "d1", &["debt", "points: 5"]).await;
    merge(&fake, &app, debt).await;
    fake.allow_unasserted_comments();

    // Given the records the server cached from events,
    let cached = cached_records(&app).await;
    assert_eq!(cached.iter().filter(|r| r.merged_at.is_some()).count(), 4);
    let config = paydown_config::parse(CONFIG, ".github/paydown.yml").unwrap();
    let now = Utc::now();
    let calendar = paydown_ledger::Calendar::from_config(&config.sprints, &[]).unwrap();
    let server_ledger = Ledger::build(&config, calendar, &cached).unwrap();

    // when the ledger is rebuilt from the API alone with a user token,
    fake.add_user_token("ghp_report", "auditor");
    let client =
        Client::from_token_with_options(&fake.url(), "ghp_report", ClientOptions::for_tests())
            .unwrap();
    let repo = Repo::parse(REPO).unwrap();
    let (api_ledger, _) = paydown_budgets::fetch_ledger(&client, &repo, &config, 7, now)
        .await
        .unwrap();

    // then both say the same.
    assert_eq!(
        report_json(&api_ledger, now, 7),
        report_json(&server_ledger, now, 7)
    );
    assert!(report_json(&api_ledger, now, 7).contains("\"feature\": 15"));
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_pr_that_removes_debt_annotations_counts_as_debt_work_from_events_and_from_the_api() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    repository(&fake);
    let handle = fake.repo(REPO);
    handle.set_files(
        "main",
        &[
            (".github/paydown.yml", CONFIG),
            ("src/a.rs", "// TODO: flush the cache\nfn a() {}\n"),
        ],
    );
    // Given a PR without a class label that removes a TODO,
    handle.set_files(
        "cleanup",
        &[(".github/paydown.yml", CONFIG), ("src/a.rs", "fn a() {}\n")],
    );
    let number = handle.add_pull_request(
        NewIssue::new("Flush the cache properly").labels(&["points: 5"]),
        "cleanup",
    );

    // when it is opened and merged,
    app.deliver("pull_request", &pr_event(&fake, number, "opened", None))
        .await;
    let review = fake.take_comments(REPO, number);
    assert_eq!(review.len(), 1, "the review's sticky comment: {review:#?}");
    assert!(
        review[0].body.contains("paydown:pr-debt"),
        "{}",
        review[0].body
    );
    merge(&fake, &app, number).await;
    fake.allow_unasserted_comments();

    // then the server counts its points as debt work,
    let cached = cached_records(&app).await;
    let record = cached.iter().find(|r| r.number == number).unwrap();
    assert_eq!(record.debt_items_paid, 1, "{record:?}");
    let config = paydown_config::parse(CONFIG, ".github/paydown.yml").unwrap();
    let now = Utc::now();
    let calendar = paydown_ledger::Calendar::from_config(&config.sprints, &[]).unwrap();
    let server_ledger = Ledger::build(&config, calendar, &cached).unwrap();
    let current = server_ledger.recent(now, 1);
    assert_eq!(current[0].totals.debt, 5, "{current:#?}");

    // and so does the ledger rebuilt from the API (the review's marker).
    fake.add_user_token("ghp_report", "auditor");
    let client =
        Client::from_token_with_options(&fake.url(), "ghp_report", ClientOptions::for_tests())
            .unwrap();
    let repo = Repo::parse(REPO).unwrap();
    let (api_ledger, _) = paydown_budgets::fetch_ledger(&client, &repo, &config, 1, now)
        .await
        .unwrap();
    assert_eq!(api_ledger.recent(now, 1)[0].totals.debt, 5);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_cache_drops_abandoned_prs_and_prs_merged_before_the_dashboards_sprints() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let (_, third) = two_merged_and_a_third_open(&fake, &app).await;
    assert_eq!(fake.take_comments(REPO, third).len(), 1);
    // Given a record of a PR merged long before the dashboard's sprints,
    let ancient = PrRecord {
        number: 999,
        title: "Ancient".into(),
        merged_at: Some(Utc::now() - chrono::Duration::days(400)),
        labels: vec!["feature".into()],
        ..PrRecord::default()
    };
    app.store
        .repo_state_put(
            REPO,
            &RepoStateKey::PrRecord(999),
            &serde_json::to_string(&ancient).unwrap(),
        )
        .await
        .unwrap();

    // when the drifting PR is closed without merging,
    fake.repo(REPO).edit_issue(third, |i| {
        i.state = "closed".into();
        i.closed_at = Some(Utc::now());
    });
    app.deliver("pull_request", &pr_event(&fake, third, "closed", None))
        .await;
    // then it leaves the cache, and is no longer watched for drift,
    let numbers: Vec<u64> = cached_records(&app)
        .await
        .iter()
        .map(|r| r.number)
        .collect();
    assert!(!numbers.contains(&third), "{numbers:?}");
    assert!(
        app.store
            .repo_state_list(REPO, RepoStatePrefix::Drifting)
            .await
            .unwrap()
            .is_empty()
    );

    // and the next sync drops the ancient record but keeps this sprint's.
    let debt = open_pr(&fake, &app, "d1", &["debt", "points: 5"]).await;
    merge(&fake, &app, debt).await;
    let numbers: Vec<u64> = cached_records(&app)
        .await
        .iter()
        .map(|r| r.number)
        .collect();
    assert!(!numbers.contains(&999), "{numbers:?}");
    assert_eq!(
        numbers.len(),
        3,
        "two feature PRs and the debt PR: {numbers:?}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_review_github_refuses_does_not_cost_the_pr_its_budget_check() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    // Given two 5-point feature PRs merged,
    repository(&fake);
    for branch in ["f1", "f2"] {
        let n = open_pr(&fake, &app, branch, &["feature", "points: 5"]).await;
        merge(&fake, &app, n).await;
    }
    // and a third whose file listing GitHub refuses for good (404),
    let handle = fake.repo(REPO);
    handle.set_files(
        "f3",
        &[
            ("README.md", "# octo\n"),
            (".github/paydown.yml", CONFIG),
            ("src/f3.rs", "fn f() {}\n"),
        ],
    );
    let third = handle.add_pull_request(
        NewIssue::new("Work on f3").labels(&["feature", "points: 5"]),
        "f3",
    );
    fake.fail_next_on("GET", &format!("/repos/{REPO}/pulls/{third}/files"), 5, 404);

    // when it is opened,
    app.deliver("pull_request", &pr_event(&fake, third, "opened", None))
        .await;

    // then the delivery did not fail: the drift comment and the neutral
    // budget check were written, and the ledger cache knows the PR.
    let comments = fake.take_comments(REPO, third);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert!(
        comments[0].body.contains(DRIFT_MARKER),
        "{}",
        comments[0].body
    );
    assert_eq!(budget_checks(&fake, third), vec![completed("neutral")]);
    assert!(cached_records(&app).await.iter().any(|r| r.number == third));
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_merge_whose_event_was_lost_reaches_the_ledger_at_the_daily_reseed() {
    // Given an opened feature PR the App knows as open,
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    repository(&fake);
    let lost = open_pr(&fake, &app, "f1", &["feature", "points: 5"]).await;
    // that is merged while its `closed` event never arrives,
    fake.repo(REPO).merge_pull_request(lost, "alice");
    fake.allow_unasserted_comments();
    let merged_in_cache = |records: &[PrRecord]| {
        records
            .iter()
            .any(|r| r.number == lost && r.merged_at.is_some())
    };
    assert!(!merged_in_cache(&cached_records(&app).await));

    // when the next event comes a day after the last seeding,
    let yesterday = (Utc::now() - chrono::TimeDelta::hours(25)).to_rfc3339();
    app.store
        .repo_state_put(REPO, &RepoStateKey::BudgetsReseeded, &yesterday)
        .await
        .unwrap();
    open_pr(&fake, &app, "f2", &["feature", "points: 5"]).await;

    // then the cache has learnt the merge from the API.
    assert!(merged_in_cache(&cached_records(&app).await));
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_push_changing_the_sprint_config_redraws_the_dashboards_budget_at_once() {
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;

    // Given a sprint with 30 % reserved and a merged feature PR on the dashboard,
    repository(&fake);
    let pr = open_pr(&fake, &app, "f1", &["feature", "points: 5"]).await;
    merge(&fake, &app, pr).await;
    let dashboard = dashboard_body(&fake);
    assert!(dashboard.contains("reserves 30%"), "{dashboard}");

    // when a push to main raises the reservation to 50 %,
    let handle = fake.repo(REPO);
    let before = handle.head("main").unwrap();
    handle.set_files(
        "main",
        &[
            ("README.md", "# octo\n"),
            (
                ".github/paydown.yml",
                "sprints:\n  capacity_points: 20\n  debt_share: 0.5\n",
            ),
            ("src/f1.rs", "fn f() {}\n"),
        ],
    );
    let push = fake.push_payload(REPO, "main", &before, "alice");
    app.deliver("push", &push).await;

    // then that push's dashboard already shows the new reservation.
    let dashboard = dashboard_body(&fake);
    assert!(dashboard.contains("reserves 50%"), "{dashboard}");
    assert!(!dashboard.contains("reserves 30%"), "{dashboard}");
    app.server.shutdown().await.unwrap();
}
