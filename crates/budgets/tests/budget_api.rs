//! `paydown_budgets` against the fake GitHub: milestone sprints, the check
//! modes of `drift.check`, comments off, and a PR that never drifted.

use chrono::{Duration, Utc};
use fake_github::{FakeGitHub, NewIssue};
use paydown_budgets::{CHECK_NAME, check_drift, fetch_ledger};
use paydown_github::{AppCredentials, Client, ClientOptions, GitHubApp, Repo, Upsert};
use paydown_ledger::{CheckConclusion, DRIFT_MARKER, PrRecord};

const REPO: &str = "octo-org/octo-repo";
const TOKEN: &str = "ghp_budget_token";

fn config(extra: &str) -> paydown_config::Config {
    let text = format!("sprints:\n  capacity_points: 20\n  debt_share: 0.3\n{extra}");
    paydown_config::parse(&text, ".github/paydown.yml").unwrap()
}

/// The App's installation client: comments and check runs are the bot's.
async fn bot_client(fake: &FakeGitHub) -> Client {
    let creds =
        AppCredentials::from_pem(fake_github::APP_ID, fake_github::app_private_key_pem()).unwrap();
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap();
    app.installation_client(1).await.unwrap()
}

fn merged_feature(number: u64) -> PrRecord {
    PrRecord {
        number,
        title: format!("Feature {number}"),
        merged_at: Some(Utc::now() - Duration::minutes(5)),
        labels: vec!["feature".into(), "points: 5".into()],
        ..PrRecord::default()
    }
}

/// An open 5-point feature PR on the fake; returns its record and head sha.
fn open_feature_pr(fake: &FakeGitHub) -> (PrRecord, String) {
    let handle = fake.repo(REPO);
    let head = handle.set_files("topic", &[("src/x.rs", "fn x() {}\n")]);
    let number = handle.add_pull_request(NewIssue::new("Feature three"), "topic");
    let record = PrRecord {
        number,
        title: "Feature three".into(),
        labels: vec!["feature".into(), "points: 5".into()],
        ..PrRecord::default()
    };
    (record, head)
}

fn budget_checks(fake: &FakeGitHub) -> Vec<Option<String>> {
    fake.repo(REPO)
        .check_runs()
        .into_iter()
        .filter(|c| c.name == CHECK_NAME)
        .map(|c| c.conclusion)
        .collect()
}

#[tokio::test]
async fn with_check_failure_a_drifting_pr_fails_once_and_a_second_look_writes_nothing() {
    // Given two merged 5-point feature PRs and a third open one, `drift.check: failure`,
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let config = config("drift:\n  check: failure\n");
    let (pr, head) = open_feature_pr(&fake);
    let records = [merged_feature(100), merged_feature(101)];

    // when the drift check runs,
    let first = check_drift(&client, &repo, &config, &records, &pr, &head, false)
        .await
        .unwrap();

    // then the check fails and one comment is posted,
    assert_eq!(first.conclusion, Some(CheckConclusion::Failure));
    assert!(matches!(first.comment, Upsert::Created { id: Some(_) }));
    assert!(matches!(first.check, Upsert::Created { id: Some(_) }));
    assert_eq!(budget_checks(&fake), vec![Some("failure".to_string())]);
    assert_eq!(fake.take_comments(REPO, pr.number).len(), 1);

    // and running it again changes nothing.
    fake.clear_requests();
    let second = check_drift(&client, &repo, &config, &records, &pr, &head, false)
        .await
        .unwrap();
    assert!(matches!(second.comment, Upsert::Unchanged { .. }));
    assert!(matches!(second.check, Upsert::Unchanged { .. }));
    assert_eq!(fake.count_writes(), 0);
}

#[tokio::test]
async fn with_check_off_and_comments_off_nothing_is_written() {
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let config = config("drift:\n  check: off\n  comment: false\n");
    let (pr, head) = open_feature_pr(&fake);
    let records = [merged_feature(100), merged_feature(101)];
    fake.clear_requests();

    let outcome = check_drift(&client, &repo, &config, &records, &pr, &head, false)
        .await
        .unwrap();

    // The PR drifts, but the team asked for neither a comment nor a check.
    assert!(outcome.verdict.as_ref().unwrap().drifting);
    assert_eq!(outcome.conclusion, None);
    assert_eq!(outcome.check, Upsert::None);
    assert_eq!(outcome.comment, Upsert::None);
    assert_eq!(fake.count_writes(), 0);
    assert!(budget_checks(&fake).is_empty());
}

#[tokio::test]
async fn a_pr_that_never_drifted_gets_a_green_check_and_no_comment() {
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let config = config("");
    let (pr, head) = open_feature_pr(&fake);

    // Only one feature PR merged before it: 10 points, within the allowance of 14.
    let outcome = check_drift(
        &client,
        &repo,
        &config,
        &[merged_feature(100)],
        &pr,
        &head,
        false,
    )
    .await
    .unwrap();

    assert!(!outcome.verdict.as_ref().unwrap().drifting);
    assert_eq!(outcome.comment, Upsert::None);
    assert_eq!(budget_checks(&fake), vec![Some("success".to_string())]);
    assert!(fake.take_comments(REPO, pr.number).is_empty());
}

#[tokio::test]
async fn milestone_sprints_come_from_the_repositorys_milestones() {
    // Given sprints from milestones — a closed one that ended ten days ago
    // and the open one due in four days — and two merged feature PRs,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let handle = fake.repo(REPO);
    let now = Utc::now();
    handle.add_milestone("Sprint A", Some(now - Duration::days(10)), false);
    handle.add_milestone("Sprint B", Some(now + Duration::days(4)), true);
    handle.add_milestone("Someday", None, true);
    for label in ["feature", "points: 5"] {
        handle.add_label(label, "ededed", None);
    }
    for branch in ["a", "b"] {
        handle.set_files(branch, &[("src/x.rs", branch)]);
        let n = handle.add_pull_request(
            NewIssue::new(branch).labels(&["feature", "points: 5"]),
            branch,
        );
        handle.merge_pull_request(n, "alice");
    }
    let client =
        Client::from_token_with_options(&fake.url(), TOKEN, ClientOptions::for_tests()).unwrap();
    let repo = Repo::parse(REPO).unwrap();
    let config = config("  source: milestones\n");

    // when the ledger is read from the API,
    let (ledger, records) = fetch_ledger(&client, &repo, &config, 2, now).await.unwrap();

    // then the current sprint is the open milestone and holds both PRs.
    assert_eq!(records.len(), 2);
    let recent = ledger.recent(now, 2);
    let names: Vec<&str> = recent.iter().map(|s| s.sprint.name.as_str()).collect();
    assert_eq!(names, ["Sprint A", "Sprint B"]);
    assert_eq!(recent[1].totals.feature, 10);
    assert_eq!(recent[0].totals.feature, 0);
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/milestones")
            .len(),
        1
    );
    // The list endpoint carried the diff size: no per-PR reads.
    assert!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/pulls/")
            .is_empty()
    );
}

#[tokio::test]
async fn closed_prs_are_paged_only_until_the_window_starts() {
    // Given 120 PRs merged half a year ago and three merged now,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let handle = fake.repo(REPO);
    for label in ["feature", "points: 5"] {
        handle.add_label(label, "ededed", None);
    }
    handle.set_files("topic", &[("src/x.rs", "fn x() {}\n")]);
    let long_ago = Utc::now() - Duration::days(180);
    for i in 0..120 {
        let n = handle.add_pull_request(
            NewIssue::new(&format!("old {i}")).labels(&["feature"]),
            "topic",
        );
        handle.merge_pull_request(n, "alice");
        handle.edit_issue(n, |issue| {
            issue.updated_at = long_ago;
            issue.closed_at = Some(long_ago);
            if let Some(pull) = issue.pull.as_mut() {
                pull.merged_at = Some(long_ago);
            }
        });
    }
    for i in 0..3 {
        let n = handle.add_pull_request(
            NewIssue::new(&format!("new {i}")).labels(&["feature", "points: 5"]),
            "topic",
        );
        handle.merge_pull_request(n, "alice");
    }
    let client =
        Client::from_token_with_options(&fake.url(), TOKEN, ClientOptions::for_tests()).unwrap();
    let repo = Repo::parse(REPO).unwrap();
    fake.clear_requests();

    // when the current sprint's records are read,
    let (ledger, records) = fetch_ledger(&client, &repo, &config(""), 1, Utc::now())
        .await
        .unwrap();

    // then one page of closed PRs was enough, and only the new ones count.
    let pages = fake.requests_matching("GET", "/repos/octo-org/octo-repo/pulls");
    assert_eq!(pages.len(), 1, "{pages:#?}");
    assert_eq!(records.len(), 3);
    assert_eq!(ledger.recent(Utc::now(), 1)[0].totals.feature, 15);
}

#[tokio::test]
async fn a_read_only_token_gets_the_verdict_with_warnings_not_a_failure() {
    // Given a drifting PR, and GitHub refusing the comment and check-run
    // writes (a fork PR's read-only GITHUB_TOKEN),
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let config = config("drift:\n  check: failure\n");
    let (pr, head) = open_feature_pr(&fake);
    let records = [merged_feature(100), merged_feature(101)];
    let comments = format!("/repos/{REPO}/issues/{}/comments", pr.number);
    fake.fail_next_on("POST", &comments, 1, 403);
    fake.fail_next_on("POST", &format!("/repos/{REPO}/check-runs"), 1, 403);

    // when the drift check runs,
    let outcome = check_drift(&client, &repo, &config, &records, &pr, &head, false)
        .await
        .expect("a refused write does not fail the check");

    // then the verdict is there, nothing was written, and both refusals are warnings.
    assert!(outcome.verdict.as_ref().unwrap().drifting);
    assert_eq!(outcome.conclusion, Some(CheckConclusion::Failure));
    assert!(matches!(outcome.comment, Upsert::Refused { .. }));
    assert!(matches!(outcome.check, Upsert::Refused { .. }));
    assert_eq!(outcome.warnings.len(), 2, "{:?}", outcome.warnings);
    assert!(fake.take_comments(REPO, pr.number).is_empty());
    assert!(budget_checks(&fake).is_empty());
}

#[tokio::test]
async fn two_racing_drift_comments_are_cut_back_to_the_oldest() {
    // Given a drifting PR on which two concurrent runs both posted the
    // drift comment, and a person quoting the marker,
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let config = config("drift:\n  check: failure\n");
    let (pr, head) = open_feature_pr(&fake);
    let records = [merged_feature(100), merged_feature(101)];
    let handle = fake.repo(REPO);
    let bot = fake_github::bot_login();
    let human = handle.add_comment(pr.number, "bob", &format!("quoting\n{DRIFT_MARKER}"));
    let first = handle.add_comment(pr.number, &bot, &format!("{DRIFT_MARKER}\nstale"));
    let second = handle.add_comment(pr.number, &bot, &format!("{DRIFT_MARKER}\nstale too"));

    // when the drift check runs,
    let outcome = check_drift(&client, &repo, &config, &records, &pr, &head, false)
        .await
        .unwrap();

    // then the oldest bot copy is the sticky one (edited), the other is
    // deleted, and the person's comment stays.
    assert_eq!(outcome.comment, Upsert::Updated { id: first });
    let left: Vec<u64> = handle.comments(pr.number).iter().map(|c| c.id).collect();
    assert_eq!(left, vec![human, first]);
    assert!(handle.comment(second).is_none());
    let edited = fake.take_comments(REPO, pr.number);
    assert_eq!(edited.len(), 1, "{edited:#?}");
    assert!(
        edited[0].body.contains("drifting to feature work"),
        "{}",
        edited[0].body
    );
}

#[tokio::test]
async fn two_concurrent_drift_checks_leave_one_drift_comment() {
    // Given a drifting PR with no drift comment yet,
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let config = config("drift:\n  check: failure\n");
    let (pr, head) = open_feature_pr(&fake);
    let records = [merged_feature(100), merged_feature(101)];

    // when two runs check it at once (both list the comments, find none
    // and post),
    let (a, b) = tokio::join!(
        check_drift(&client, &repo, &config, &records, &pr, &head, false),
        check_drift(&client, &repo, &config, &records, &pr, &head, false),
    );
    let (a, b) = (a.unwrap(), b.unwrap());

    // then one drift comment is left, and both runs name it.
    let left = fake.repo(REPO).comments(pr.number);
    assert_eq!(left.len(), 1, "{left:#?}");
    let id = left[0].id;
    for outcome in [&a, &b] {
        assert!(outcome.comment.id() == Some(id), "{:?}", outcome.comment);
    }
    fake.allow_unasserted_comments();
}

#[tokio::test]
async fn an_override_recorded_before_the_window_still_counts_for_a_pr_merged_in_it() {
    // Given a 5-point feature PR opened a month ago and merged now,
    let fake = FakeGitHub::start().await;
    let handle = fake.repo(REPO);
    for label in ["feature", "points: 5"] {
        handle.add_label(label, "ededed", None);
    }
    handle.set_files("topic", &[("src/x.rs", "fn x() {}\n")]);
    let month_ago = Utc::now() - Duration::days(30);
    let number = handle.add_pull_request(
        NewIssue::new("Long-lived").labels(&["feature", "points: 5"]),
        "topic",
    );
    handle.edit_issue(number, |issue| issue.created_at = month_ago);
    // and a maintainer's `/debt classify debt` recorded by paydown back then,
    let record = paydown_budgets::Record::Class {
        class: paydown_ledger::WorkClass::Debt,
        by: "alice".into(),
        at: month_ago,
    };
    let body = format!(
        "Classified as debt.\n\n{}",
        paydown_budgets::record_marker(&record)
    );
    let comment = handle.add_comment(number, "paydown[bot]", &body);
    handle.edit_comment(comment, |c| {
        c.created_at = month_ago;
        c.updated_at = month_ago;
    });
    handle.merge_pull_request(number, "alice");
    let client = bot_client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();

    // when the current sprint's ledger is rebuilt from the API,
    let (ledger, records) = fetch_ledger(&client, &repo, &config(""), 1, Utc::now())
        .await
        .unwrap();

    // then the override from before the window still makes it debt work.
    assert_eq!(records.len(), 1, "{records:#?}");
    let totals = &ledger.recent(Utc::now(), 1)[0].totals;
    assert_eq!((totals.debt, totals.feature), (5, 0), "{records:#?}");
}

#[tokio::test]
async fn while_a_debt_item_is_hot_the_boost_raises_the_reservation_and_the_comment_names_it() {
    // Given `hot_share_boost: 0.3` on a 0.3 share of 20 points, one merged
    // 5-point feature PR and an open one: 10 feature points, within the
    // normal allowance of 14,
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let config = config("  hot_share_boost: 0.3\n");
    let (pr, head) = open_feature_pr(&fake);
    let records = [merged_feature(100)];
    let calm = check_drift(&client, &repo, &config, &records, &pr, &head, true)
        .await
        .unwrap();
    assert!(!calm.verdict.as_ref().unwrap().drifting);

    // when a debt issue carries `debt:hot` (and a closed one did once),
    let handle = fake.repo(REPO);
    let hot = handle.add_issue(
        NewIssue::new("FIXME: retries double-charge @acme/payments")
            .labels(&["tech-debt", "debt:hot"]),
    );
    handle.add_issue(NewIssue::new("TODO: old").labels(&["debt:hot"]).closed());
    let outcome = check_drift(&client, &repo, &config, &records, &pr, &head, false)
        .await
        .unwrap();

    // then the reservation is 0.6 × 20 = 12, the allowance 8: the PR drifts,
    let verdict = outcome.verdict.as_ref().unwrap();
    assert!(verdict.drifting);
    assert_eq!(verdict.reserved.to_string(), "12");
    assert_eq!(
        verdict.hot.iter().map(|h| h.number).collect::<Vec<_>>(),
        [hot]
    );
    // and the drift comment names the hot item, mentioning nobody.
    let comments = fake.take_comments(REPO, pr.number);
    assert_eq!(comments.len(), 1);
    let body = &comments[0].body;
    assert!(body.contains("`sprints.hot_share_boost`"), "{body}");
    assert!(
        body.contains(&format!(
            "#{hot} FIXME: retries double-charge @\u{200b}acme/payments"
        )),
        "{body}"
    );
    assert!(!body.contains("TODO: old"));
}
