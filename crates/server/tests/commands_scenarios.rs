//! Slash commands through the App: signed `issue_comment` webhooks through
//! the real router and workers, the real App client against the fake
//! GitHub, and what the bot reacted, replied and changed checked afterwards.

mod support;

use fake_github::{FakeGitHub, NewIssue, Permission};
use paydown_budgets::{Record, parse_records};
use paydown_ledger::{DRIFT_MARKER, WorkClass};
use support::{REPO, TestApp, ZEROS};

/// A sprint budget a feature PR of 8 points overruns: 10 points of
/// capacity, half reserved for debt; the check fails on drift.
const BUDGET_CONFIG: &str = "sprints:\n  cadence: {start: 2026-01-05, length_days: 14}\n  capacity_points: 10\n  debt_share: 0.5\ndrift:\n  check: failure\n";

/// Given: `main` with the budget config, and an open feature PR of 8
/// points from `feature`; returns its number.
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

/// `user` comments `body` on issue/PR `number`; returns the
/// `issue_comment` `created` payload GitHub would send.
fn comment(fake: &FakeGitHub, number: u64, user: &str, body: &str) -> (u64, serde_json::Value) {
    let id = fake.repo(REPO).add_comment(number, user, body);
    (id, fake.issue_comment_payload(REPO, id, "created", None))
}

/// Reactions the bot put on comment `id`, in order.
fn bot_reactions(fake: &FakeGitHub, id: u64) -> Vec<String> {
    fake.repo(REPO)
        .comment(id)
        .unwrap()
        .reactions
        .iter()
        .filter(|r| r.user == fake_github::bot_login())
        .map(|r| r.content.clone())
        .collect()
}

/// The one reply the bot posted on `number` since the last look.
fn one_reply(fake: &FakeGitHub, number: u64) -> String {
    let posted = fake.take_comments(REPO, number);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert_eq!(posted[0].user, fake_github::bot_login());
    posted[0].body.clone()
}

fn budget_check(fake: &FakeGitHub) -> Option<fake_github::CheckRun> {
    fake.repo(REPO)
        .check_runs()
        .into_iter()
        .rev()
        .find(|c| c.name == paydown_budgets::CHECK_NAME)
}

#[tokio::test]
async fn a_maintainers_classify_on_a_pull_request_changes_its_class() {
    // Given a feature PR that overruns the sprint's feature allowance,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;
    let (_, status) = comment(&fake, pr, "alice", "/debt status");
    app.deliver("issue_comment", &status).await;
    let before = one_reply(&fake, pr);
    assert!(before.contains("This PR is **feature** work"), "{before}");

    // when alice (admin) writes `/debt classify debt` after some prose,
    let (id, classify) = comment(
        &fake,
        pr,
        "alice",
        "Reviewed it: this is cleanup.\r\n/debt classify debt\r\n",
    );
    app.deliver("issue_comment", &classify).await;

    // then the bot saw it (👀) and replied with the recorded override,
    assert_eq!(bot_reactions(&fake, id), ["eyes"]);
    let reply = one_reply(&fake, pr);
    assert!(reply.contains("now counts as **debt** work"), "{reply}");
    let records = parse_records(&reply);
    assert!(
        matches!(&records[..], [Record::Class { class: WorkClass::Debt, by, .. }] if by == "alice"),
        "{records:?}"
    );
    // the budget check was re-run with it and passes (debt work cannot drift),
    let check = budget_check(&fake).expect("the budget check ran");
    assert_eq!(check.conclusion.as_deref(), Some("success"), "{check:#?}");
    // and the PR's status now reads debt.
    let (_, status) = comment(&fake, pr, "alice", "/debt status");
    app.deliver("issue_comment", &status).await;
    let after = one_reply(&fake, pr);
    assert!(
        after.contains("This PR is **debt** work (set with `classify`)"),
        "{after}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_read_only_user_is_refused_and_nothing_changes() {
    // Given the same PR,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;

    // when carol (read) writes `/debt classify debt`,
    let (id, classify) = comment(&fake, pr, "carol", "/debt classify debt");
    fake.clear_requests();
    app.deliver("issue_comment", &classify).await;

    // then her permission was asked of GitHub (not taken from the payload),
    assert_eq!(
        fake.requests_matching(
            "GET",
            "/repos/octo-org/octo-repo/collaborators/carol/permission"
        )
        .len(),
        1
    );
    // the bot answered with 😕 and an explanation pointing to help,
    assert_eq!(bot_reactions(&fake, id), ["eyes", "confused"]);
    let reply = one_reply(&fake, pr);
    assert!(
        reply.contains("`classify` needs write permission on this repository; you have read."),
        "{reply}"
    );
    assert!(reply.contains("See `/debt help`"), "{reply}");
    // and nothing was recorded or re-checked.
    assert!(parse_records(&reply).is_empty(), "{reply}");
    assert!(budget_check(&fake).is_none());

    // When she tries `points` right after, her permission comes from the
    // cache (no second lookup) and is refused the same way.
    let (_, points) = comment(&fake, pr, "carol", "/debt points 1");
    app.deliver("issue_comment", &points).await;
    assert!(one_reply(&fake, pr).contains("`points` needs write permission"));
    assert_eq!(
        fake.requests_matching(
            "GET",
            "/repos/octo-org/octo-repo/collaborators/carol/permission"
        )
        .len(),
        1
    );

    // Given mallory (no access) tries `accept-drift`, the answer says so too.
    let (id, accept) = comment(&fake, pr, "mallory", "/debt accept-drift \"launch week\"");
    app.deliver("issue_comment", &accept).await;
    assert_eq!(bot_reactions(&fake, id), ["eyes", "confused"]);
    let reply = one_reply(&fake, pr);
    assert!(
        reply.contains("needs maintain permission on this repository; you have none"),
        "{reply}"
    );
    assert!(parse_records(&reply).is_empty());
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_command_inside_a_code_block_or_quote_does_nothing() {
    // Given a PR,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;

    // when alice shows the command in a code block and quotes it,
    let body = "To reclassify, write:\n\n```\n/debt classify debt\n```\n\n> /debt points 3\n";
    let (id, payload) = comment(&fake, pr, "alice", body);
    fake.clear_requests();
    app.deliver("issue_comment", &payload).await;

    // then nothing happened: no API call at all, no reaction, no reply.
    assert!(fake.requests().is_empty(), "{:#?}", fake.requests());
    assert!(bot_reactions(&fake, id).is_empty());
    assert!(fake.take_comments(REPO, pr).is_empty());
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_bots_own_comment_with_a_command_triggers_nothing() {
    // Given a PR and the bot's own comment that lists `/debt help`
    // (paydown's replies and drift comments mention commands),
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;
    let (id, own) = comment(&fake, pr, &fake_github::bot_login(), "/debt help");
    // and another App's comment with one,
    let (other, other_bot) = comment(&fake, pr, "renovate[bot]", "/debt classify debt");
    fake.clear_requests();

    // when both are delivered,
    app.deliver("issue_comment", &own).await;
    app.deliver("issue_comment", &other_bot).await;

    // then no request was made and nothing was posted.
    assert!(fake.requests().is_empty(), "{:#?}", fake.requests());
    assert!(bot_reactions(&fake, id).is_empty());
    assert!(bot_reactions(&fake, other).is_empty());
    assert!(fake.take_comments(REPO, pr).is_empty());
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_edit_that_adds_a_second_command_runs_only_that_one() {
    // Given alice asked for help and got it,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    fake.add_user_token("alice-token", "alice");
    let app = TestApp::start(&fake).await;
    let first = "/debt help";
    let (id, created) = comment(&fake, pr, "alice", first);
    app.deliver("issue_comment", &created).await;
    let help = one_reply(&fake, pr);
    assert!(help.contains("**paydown commands**"), "{help}");

    // when she edits the comment to add `/debt points 3`,
    let edited_body = "/debt help\n/debt points 3";
    let resp = reqwest::Client::new()
        .patch(format!("{}/repos/{REPO}/issues/comments/{id}", fake.url()))
        .header("authorization", "token alice-token")
        .header("user-agent", "test")
        .json(&serde_json::json!({ "body": edited_body }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let taken = fake.take_comments(REPO, pr);
    assert_eq!(taken.len(), 1, "alice's own edit");
    let edited = fake.issue_comment_payload(REPO, id, "edited", Some(first));
    app.deliver("issue_comment", &edited).await;

    // then only `points` ran: one new reply, with the points record and no help,
    let reply = one_reply(&fake, pr);
    assert!(reply.contains("now counts as **3** points"), "{reply}");
    assert!(!reply.contains("paydown commands"), "{reply}");
    assert!(
        matches!(
            &parse_records(&reply)[..],
            [Record::Points { points: 3, .. }]
        ),
        "{reply}"
    );

    // and a redelivery of the same edit (GitHub's "redeliver") runs nothing again.
    app.deliver("issue_comment", &edited).await;
    assert!(fake.take_comments(REPO, pr).is_empty());
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn ignore_stops_tracking_a_debt_item_and_unignore_resumes_it() {
    // Given a debt issue opened by a push to the default branch,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files(
        "main",
        &[("src/cache.rs", "// TODO(id=cache-flush): flush the cache\n")],
    );
    let app = TestApp::start(&fake).await;
    app.deliver("push", &fake.push_payload(REPO, "main", ZEROS, "alice"))
        .await;
    let issue = repo
        .issues()
        .into_iter()
        .find(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:item id=cache-flush")
        })
        .expect("the debt issue");
    assert_eq!(issue.title, "TODO: flush the cache");

    // when bob (write) comments `/debt ignore` on it,
    let (id, ignore) = comment(&fake, issue.number, "bob", "/debt ignore");
    app.deliver("issue_comment", &ignore).await;

    // then it carries `debt:ignored`, and a 👍 says so without a reply,
    assert!(
        repo.issue(issue.number)
            .unwrap()
            .labels
            .contains(&"debt:ignored".to_string())
    );
    assert_eq!(bot_reactions(&fake, id), ["eyes", "+1"]);
    assert!(fake.take_comments(REPO, issue.number).is_empty());

    // and a push that rewords the annotation leaves the issue alone.
    let before = repo.head("main").unwrap();
    repo.set_files(
        "main",
        &[(
            "src/cache.rs",
            "// TODO(id=cache-flush): flush the cache on retry\n",
        )],
    );
    app.deliver("push", &fake.push_payload(REPO, "main", &before, "alice"))
        .await;
    assert_eq!(
        repo.issue(issue.number).unwrap().title,
        "TODO: flush the cache"
    );

    // When bob comments `/debt unignore`,
    let (id, unignore) = comment(&fake, issue.number, "bob", "/debt unignore");
    app.deliver("issue_comment", &unignore).await;

    // then the label is gone and the reply says the next sync updates it,
    assert!(
        !repo
            .issue(issue.number)
            .unwrap()
            .labels
            .contains(&"debt:ignored".to_string())
    );
    assert_eq!(bot_reactions(&fake, id), ["eyes"]);
    let reply = one_reply(&fake, issue.number);
    assert!(
        reply.contains("paydown tracks this debt item again"),
        "{reply}"
    );

    // and the next push brings the issue up to date.
    let before = repo.head("main").unwrap();
    repo.set_files(
        "main",
        &[(
            "src/cache.rs",
            "// TODO(id=cache-flush): flush the cache before retrying\n",
        )],
    );
    app.deliver("push", &fake.push_payload(REPO, "main", &before, "alice"))
        .await;
    assert_eq!(
        repo.issue(issue.number).unwrap().title,
        "TODO: flush the cache before retrying"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn misplaced_and_misspelt_commands_get_a_plain_explanation() {
    // Given a PR and an ordinary issue,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let issue = fake.repo(REPO).add_issue(NewIssue::new("A question"));
    fake.repo(REPO).set_permission("carol", Permission::Write);
    let app = TestApp::start(&fake).await;

    // when carol (now write) writes `ignore` on the PR and a typo beside it,
    let (id, payload) = comment(&fake, pr, "carol", "/debt ignore\n/debt clasify debt");
    app.deliver("issue_comment", &payload).await;

    // then one reply explains both, with 😕,
    assert_eq!(bot_reactions(&fake, id), ["eyes", "confused"]);
    let reply = one_reply(&fake, pr);
    assert!(
        reply.contains("`ignore` works on debt issues, not on a pull request."),
        "{reply}"
    );
    assert!(reply.contains("did you mean `classify`?"), "{reply}");

    // and `link` to an issue that is not a debt issue is refused, as is
    // `classify` on an ordinary issue.
    let (id, payload) = comment(&fake, pr, "alice", &format!("/debt link #{issue}"));
    app.deliver("issue_comment", &payload).await;
    assert_eq!(bot_reactions(&fake, id), ["eyes", "confused"]);
    let reply = one_reply(&fake, pr);
    assert!(
        reply.contains(&format!("#{issue} is not a debt issue")),
        "{reply}"
    );
    let (_, payload) = comment(&fake, issue, "alice", "/debt classify debt");
    app.deliver("issue_comment", &payload).await;
    let reply = one_reply(&fake, issue);
    assert!(
        reply.contains("`classify` works on pull requests, not on an ordinary issue."),
        "{reply}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn scan_reviews_the_pull_request_now_and_says_so_with_a_thumbs_up() {
    // Given a PR that adds a debt annotation and has not been reviewed,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/lib.rs", "fn a() {}\n")]);
    repo.set_files(
        "shortcut",
        &[(
            "src/lib.rs",
            "fn a() {}\n// HACK(@bob): skip validation for the demo\n",
        )],
    );
    let pr = repo.add_pull_request(NewIssue::new("Demo shortcut"), "shortcut");
    let app = TestApp::start(&fake).await;

    // when bob (write) comments `/debt scan`,
    let (id, scan) = comment(&fake, pr, "bob", "/debt scan");
    app.deliver("issue_comment", &scan).await;

    // then the review ran: its sticky comment reports the added item and
    // the `paydown / debt` check is on the head commit,
    let posted = fake.take_comments(REPO, pr);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert!(
        posted[0].body.contains("paydown:pr-debt"),
        "{}",
        posted[0].body
    );
    assert!(
        posted[0].body.contains("skip validation"),
        "{}",
        posted[0].body
    );
    let head = repo.head("shortcut").unwrap();
    assert!(
        repo.check_runs()
            .iter()
            .any(|c| c.name == paydown_review::render::CHECK_NAME && c.head_sha == head),
        "{:#?}",
        repo.check_runs()
    );
    // and the command itself got 👍, no reply of its own.
    assert_eq!(bot_reactions(&fake, id), ["eyes", "+1"]);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn accept_drift_by_an_admin_records_the_reason_and_passes_the_check() {
    // Given the repository's dashboard and the feature PR, opened: it
    // overruns the sprint's feature allowance,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;
    app.deliver("push", &fake.push_payload(REPO, "main", ZEROS, "alice"))
        .await;
    assert_eq!(support::dashboards(&fake).len(), 1);
    app.deliver(
        "pull_request",
        &fake.pull_request_payload(REPO, pr, "opened", "alice", None),
    )
    .await;
    // so its budget check fails (`drift.check: failure`) and it carries
    // exactly one drift comment, which offers `accept-drift`.
    let check = budget_check(&fake).expect("the budget check ran on opened");
    assert_eq!(check.status, "completed", "{check:#?}");
    assert_eq!(check.conclusion.as_deref(), Some("failure"), "{check:#?}");
    let posted = fake.take_comments(REPO, pr);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let drift_comment = &posted[0];
    assert!(
        drift_comment.body.contains(DRIFT_MARKER),
        "{}",
        drift_comment.body
    );
    assert!(
        drift_comment.body.contains("accept-drift"),
        "{}",
        drift_comment.body
    );
    assert!(
        !drift_comment.body.contains("launch week"),
        "{}",
        drift_comment.body
    );

    // When alice (admin; accept-drift needs maintain) accepts it with a quoted reason,
    let (id, accept) = comment(
        &fake,
        pr,
        "alice",
        "@paydown accept-drift “launch week: the demo ships Friday”",
    );
    app.deliver("issue_comment", &accept).await;

    // then the mention form ran it, the acceptance is on record with her reason,
    assert_eq!(bot_reactions(&fake, id), ["eyes"]);
    let posted = fake.take_comments(REPO, pr);
    let (replies, others): (Vec<_>, Vec<_>) = posted
        .into_iter()
        .partition(|c| c.body.contains("<!-- paydown:reply "));
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let reply = &replies[0].body;
    let records = parse_records(reply);
    assert!(
        matches!(&records[..], [Record::AcceptDrift { acceptance }]
            if acceptance.by == "alice" && acceptance.reason == "launch week: the demo ships Friday"),
        "{reply}"
    );
    // the failing budget check now passes,
    let check = budget_check(&fake).expect("the budget check ran");
    assert_eq!(check.conclusion.as_deref(), Some("success"), "{check:#?}");
    // the one drift comment was edited in place to show the acceptance,
    assert_eq!(others.len(), 1, "{others:#?}");
    assert_eq!(others[0].id, drift_comment.id, "{others:#?}");
    assert!(others[0].body.contains(DRIFT_MARKER), "{}", others[0].body);
    assert!(others[0].body.contains("launch week"), "{}", others[0].body);
    // and the dashboard lists the accepted drift.
    let dashboard = support::dashboards(&fake).remove(0);
    let body = dashboard.body.unwrap_or_default();
    assert!(body.contains("launch week"), "{body}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn link_on_an_incident_records_the_debt_issue_it_names() {
    // Given a debt issue and an incident issue,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files(
        "main",
        &[(
            "src/pay.rs",
            "// FIXME(id=double-charge): retries double-charge\n",
        )],
    );
    let app = TestApp::start(&fake).await;
    app.deliver("push", &fake.push_payload(REPO, "main", ZEROS, "alice"))
        .await;
    let debt = repo
        .issues()
        .into_iter()
        .find(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:item id=double-charge")
        })
        .expect("the debt issue")
        .number;
    let incident = repo.add_issue(NewIssue::new("Customers charged twice").labels(&["incident"]));

    // when bob links the incident to the debt issue by URL,
    let (id, link) = comment(
        &fake,
        incident,
        "bob",
        &format!("/debt link https://github.com/{REPO}/issues/{debt}"),
    );
    app.deliver("issue_comment", &link).await;

    // then the reply names the debt issue and carries the link marker.
    assert_eq!(bot_reactions(&fake, id), ["eyes"]);
    let reply = one_reply(&fake, incident);
    assert!(
        reply.contains(&format!("Linked this incident to debt issue #{debt}")),
        "{reply}"
    );
    assert!(
        reply.contains(&format!("<!-- paydown:link debt=#{debt} -->")),
        "{reply}"
    );

    // Linking from an ordinary issue is refused: link works on incidents and PRs.
    let plain = repo.add_issue(NewIssue::new("Just a question"));
    let (id, link) = comment(&fake, plain, "bob", &format!("/debt link #{debt}"));
    app.deliver("issue_comment", &link).await;
    assert_eq!(bot_reactions(&fake, id), ["eyes", "confused"]);
    let reply = one_reply(&fake, plain);
    assert!(
        reply.contains(
            "`link` works on incident issues or pull requests, not on an ordinary issue."
        ),
        "{reply}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_reply_that_github_fails_is_retried_and_posted_once() {
    // Given a PR, and GitHub failing the next comment post with a 502,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;
    let (id, points) = comment(&fake, pr, "bob", "/debt points 5\n/debt frobnicate");
    fake.fail_next_on(
        "POST",
        &format!("/repos/{REPO}/issues/{pr}/comments"),
        1,
        502,
    );

    // when bob's comment is delivered (the queue retries the failed delivery),
    app.deliver("issue_comment", &points).await;

    // then exactly one reply was posted, with one record, and the
    // reactions were not doubled.
    let posted: Vec<_> = fake
        .take_comments(REPO, pr)
        .into_iter()
        .filter(|c| c.body.contains("<!-- paydown:reply "))
        .collect();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert_eq!(parse_records(&posted[0].body).len(), 1);
    assert!(
        posted[0]
            .body
            .contains("`frobnicate` is not a paydown command")
    );
    assert_eq!(bot_reactions(&fake, id), ["eyes", "confused"]);
    // Redelivering it (GitHub's "redeliver" button) changes nothing.
    fake.clear_requests();
    app.deliver("issue_comment", &points).await;
    assert_eq!(fake.count_writes(), 0);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_invalid_config_is_named_in_the_reply_not_silently_replaced() {
    // Given a default branch whose config has an unknown key,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files(
        "main",
        &[(".github/paydown.yml", "commands:\n  prefixx: /td\n")],
    );
    let issue = repo.add_issue(NewIssue::new("How do I use paydown?"));
    let app = TestApp::start(&fake).await;

    // when carol asks for help,
    let (_, help) = comment(&fake, issue, "carol", "/debt help");
    app.deliver("issue_comment", &help).await;

    // then the reply is the default help, after a warning naming the file and the error.
    let reply = one_reply(&fake, issue);
    assert!(
        reply.starts_with("⚠️ `.github/paydown.yml` on the default branch is invalid"),
        "{reply}"
    );
    assert!(reply.contains("prefixx"), "{reply}");
    assert!(reply.contains("**paydown commands**"), "{reply}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_edit_is_authorised_as_the_editor_and_never_through_the_bots_comment() {
    // Given alice's comment on the PR, which bob (write) may edit,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;
    let (id, _) = comment(&fake, pr, "alice", "Nice work.");

    // when bob's edit adds `accept-drift` (which needs maintain),
    let mut edited = fake.issue_comment_payload(REPO, id, "edited", Some("Nice work."));
    edited["comment"]["body"] = "Nice work.\n/debt accept-drift ship it".into();
    edited["sender"] = serde_json::json!({"login": "bob", "id": 3, "type": "User"});
    app.deliver("issue_comment", &edited).await;

    // then it is refused as bob's, not run as alice's.
    let reply = one_reply(&fake, pr);
    assert!(
        reply.contains(
            "`accept-drift` needs maintain permission on this repository; you have write."
        ),
        "{reply}"
    );
    assert!(parse_records(&reply).is_empty());

    // And when alice edits the bot's reply to add a command, nothing runs.
    let bot_reply = fake
        .repo(REPO)
        .comments(pr)
        .into_iter()
        .rev()
        .find(|c| c.user == fake_github::bot_login())
        .unwrap();
    let mut edited =
        fake.issue_comment_payload(REPO, bot_reply.id, "edited", Some(&bot_reply.body));
    edited["comment"]["body"] = format!("{}\n/debt classify debt", bot_reply.body).into();
    edited["sender"] = serde_json::json!({"login": "alice", "id": 2, "type": "User"});
    fake.clear_requests();
    app.deliver("issue_comment", &edited).await;
    assert!(fake.requests().is_empty(), "{:#?}", fake.requests());
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_github_error_on_one_line_keeps_the_records_of_the_others() {
    // Given a PR and a debt issue whose lookup GitHub refuses (403),
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let debt = fake
        .repo(REPO)
        .add_issue(NewIssue::new("Old debt").labels(&["paydown"]));
    let app = TestApp::start(&fake).await;
    fake.fail_next_on("GET", &format!("/repos/{REPO}/issues/{debt}"), 1, 403);

    // when alice classifies the PR and links it in one comment,
    let (id, body) = comment(
        &fake,
        pr,
        "alice",
        &format!("/debt classify debt\n/debt link #{debt}"),
    );
    app.deliver("issue_comment", &body).await;

    // then the reply still carries the classify record, and says the link failed.
    let reply = one_reply(&fake, pr);
    let records = parse_records(&reply);
    assert!(
        matches!(
            &records[..],
            [Record::Class {
                class: WorkClass::Debt,
                ..
            }]
        ),
        "{reply}"
    );
    assert!(reply.contains("HTTP 403"), "{reply}");
    assert!(!reply.contains("paydown:link"), "{reply}");
    assert_eq!(bot_reactions(&fake, id), ["eyes", "confused"]);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_comment_whose_only_line_hits_a_transient_error_is_retried_whole() {
    // Given a PR and a debt issue whose lookup GitHub fails with 502s for a while,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let debt = fake
        .repo(REPO)
        .add_issue(NewIssue::new("Old debt").labels(&["paydown"]));
    let app = TestApp::start(&fake).await;
    fake.fail_next_on("GET", &format!("/repos/{REPO}/issues/{debt}"), 5, 502);

    // when bob links the PR,
    let (_, body) = comment(&fake, pr, "bob", &format!("/debt link #{debt}"));
    app.deliver("issue_comment", &body).await;

    // then the delivery was retried, and the one reply records the link.
    let reply = one_reply(&fake, pr);
    assert!(
        reply.contains(&format!("<!-- paydown:link debt=#{debt} -->")),
        "{reply}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_accepted_drift_whose_recheck_fails_does_not_claim_the_check_passes() {
    // Given a PR, and GitHub refusing the PR lookup the re-check starts with,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;
    fake.fail_next_on("GET", &format!("/repos/{REPO}/pulls/{pr}"), 1, 403);

    // when alice accepts the drift,
    let (_, body) = comment(&fake, pr, "alice", "/debt accept-drift launch week");
    app.deliver("issue_comment", &body).await;

    // then the acceptance is on record, and the reply says the check updates later.
    let reply = one_reply(&fake, pr);
    assert_eq!(parse_records(&reply).len(), 1, "{reply}");
    assert!(!reply.contains("no longer fails"), "{reply}");
    assert!(reply.contains("next event"), "{reply}");
    assert!(budget_check(&fake).is_none());
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_scan_that_github_fails_for_a_while_is_retried_not_reported_as_failed() {
    // Given a PR adding a debt annotation, and GitHub answering 502 to its
    // file listing for longer than the client's own retries,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/lib.rs", "fn a() {}\n")]);
    repo.set_files(
        "shortcut",
        &[("src/lib.rs", "fn a() {}\n// HACK(@bob): skip validation\n")],
    );
    let pr = repo.add_pull_request(NewIssue::new("Demo shortcut"), "shortcut");
    let app = TestApp::start(&fake).await;
    fake.fail_next_on("GET", &format!("/repos/{REPO}/pulls/{pr}/files"), 5, 502);

    // when bob comments `/debt scan`,
    let (id, scan) = comment(&fake, pr, "bob", "/debt scan");
    app.deliver("issue_comment", &scan).await;

    // then the queue retried it: the review's sticky comment is the only
    // comment, with no failure reply, and the scan got its 👍.
    let posted = fake.take_comments(REPO, pr);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert!(
        posted[0].body.contains("paydown:pr-debt"),
        "{}",
        posted[0].body
    );
    assert_eq!(bot_reactions(&fake, id), ["eyes", "+1"]);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_overlong_accept_drift_reason_is_refused_in_a_reply_github_accepts() {
    // Given a PR,
    let fake = FakeGitHub::start().await;
    let pr = feature_pull_request(&fake);
    let app = TestApp::start(&fake).await;

    // when alice accepts drift with a 22,000-character reason,
    let reason = "because ".repeat(2_750);
    let (id, body) = comment(&fake, pr, "alice", &format!("/debt accept-drift {reason}"));
    app.deliver("issue_comment", &body).await;

    // then the delivery did not die on GitHub's body limit: a short reply
    // refuses it, and nothing was recorded.
    let reply = one_reply(&fake, pr);
    assert!(reply.len() < 2_000, "{} chars", reply.len());
    assert!(reply.contains("takes at most 500"), "{reply}");
    assert!(parse_records(&reply).is_empty());
    assert_eq!(bot_reactions(&fake, id), ["eyes", "confused"]);
    app.server.shutdown().await.unwrap();
}
