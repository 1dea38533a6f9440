//! A debt item's life through the App: signed `push` and `pull_request`
//! webhooks through the real router, workers and SQLite store, the real App
//! client against the fake GitHub, and the issues, comments and check runs
//! checked afterwards. The same stories the library suites tell
//! (`crates/sync/tests`, `crates/review/tests`), told end to end.

mod support;

use fake_github::{FakeGitHub, NewIssue};
use support::{REPO, TestApp, ZEROS, debt_issues};

/// Commits `files` as the new tree of `main` and delivers the push from the
/// previous head (so the App takes its incremental path; the very first
/// push is a full sync from `ZEROS`); returns the new head.
async fn push_main(fake: &FakeGitHub, app: &TestApp, files: &[(&str, &str)]) -> String {
    let before = fake.repo(REPO).head("main");
    let sha = fake.repo(REPO).set_files("main", files);
    let push = fake.push_payload(REPO, "main", before.as_deref().unwrap_or(ZEROS), "alice");
    app.deliver("push", &push).await;
    sha
}

/// The one debt issue of the repository.
fn only_debt_issue(fake: &FakeGitHub) -> fake_github::Issue {
    let issues = debt_issues(fake);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    issues.into_iter().next().unwrap()
}

/// `n` lines of code without annotations.
fn filler(n: usize) -> String {
    (0..n).map(|i| format!("fn f{i}() {{}}\n")).collect()
}

#[tokio::test]
async fn an_annotation_moved_renamed_then_edited_keeps_its_one_issue() {
    // Given a synced annotation on line 2 of src/cache.rs,
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let original = "fn a() {}\n// TODO: flush the cache on shutdown\nfn b() {}\n";
    push_main(&fake, &app, &[("src/cache.rs", original)]).await;
    let issue = only_debt_issue(&fake);
    let number = issue.number;
    assert_eq!(issue.title, "TODO: flush the cache on shutdown");
    assert!(
        issue.body.as_deref().unwrap().contains("/src/cache.rs#L2)"),
        "{issue:#?}"
    );

    // when 50 lines are inserted above it,
    let before = issue.body.clone();
    let moved = format!("{}{original}", filler(50));
    push_main(&fake, &app, &[("src/cache.rs", &moved)]).await;

    // then the same issue is left as it was: its permalink is pinned to the
    // commit and line it was written for, which stay true (no write storm
    // when lines move),
    let issue = only_debt_issue(&fake);
    assert_eq!(issue.number, number);
    assert_eq!(issue.state, "open");
    assert_eq!(issue.body, before, "a line shift rewrites nothing");

    // when the file is renamed,
    let sha = push_main(&fake, &app, &[("src/store/cache.rs", &moved)]).await;

    // then the same issue links the new path,
    let issue = only_debt_issue(&fake);
    assert_eq!(issue.number, number);
    assert_eq!(issue.state, "open");
    let body = issue.body.as_deref().unwrap();
    assert!(
        body.contains(&format!("/blob/{sha}/src/store/cache.rs#L52)")),
        "{body}"
    );

    // and when its text is edited,
    let edited = moved.replace(
        "flush the cache on shutdown",
        "flush the cache on shutdown and on SIGTERM",
    );
    let sha = push_main(&fake, &app, &[("src/store/cache.rs", &edited)]).await;

    // then the same issue carries the new title, still the only one.
    let issue = only_debt_issue(&fake);
    assert_eq!(issue.number, number);
    assert_eq!(issue.state, "open");
    assert_eq!(
        issue.title,
        "TODO: flush the cache on shutdown and on SIGTERM"
    );
    let body = issue.body.as_deref().unwrap();
    assert!(
        body.contains(&format!("/blob/{sha}/src/store/cache.rs#L52)")),
        "{body}"
    );
    // No issue was ever closed or reopened on the way.
    assert!(fake.take_comments(REPO, number).is_empty());
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_removed_annotation_closes_its_issue_comes_back_reopened_and_a_human_close_sticks() {
    // Given a synced annotation,
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let with = "fn a() {}\n// TODO: drop the legacy endpoint\n";
    push_main(&fake, &app, &[("src/api.rs", with)]).await;
    let number = only_debt_issue(&fake).number;

    // when a push removes it,
    let removal = push_main(&fake, &app, &[("src/api.rs", "fn a() {}\n")]).await;

    // then its issue is closed with a comment naming the removing commit,
    let issue = fake.repo(REPO).issue(number).unwrap();
    assert_eq!(issue.state, "closed");
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert_eq!(comments[0].user, fake_github::bot_login());
    let body = &comments[0].body;
    assert!(body.contains(&format!("`{}`", &removal[..7])), "{body}");
    assert!(body.contains(&format!("/commit/{removal}")), "{body}");

    // when the annotation is put back,
    let restore = push_main(&fake, &app, &[("src/api.rs", with)]).await;

    // then the same issue is reopened with a comment naming that commit,
    // no second one opened,
    let issue = only_debt_issue(&fake);
    assert_eq!(issue.number, number);
    assert_eq!(issue.state, "open");
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    let body = &comments[0].body;
    assert!(body.contains("Reopening"), "{body}");
    assert!(body.contains(&format!("/commit/{restore}")), "{body}");

    // when a person closes it as not planned while the annotation remains
    // and another push arrives,
    fake.repo(REPO).edit_issue(number, |i| {
        i.state = "closed".into();
        i.state_reason = Some("not_planned".into());
        i.updated_at = chrono::Utc::now();
        i.closed_at = Some(chrono::Utc::now());
    });
    let still_there = format!("{with}fn b() {{}}\n");
    push_main(&fake, &app, &[("src/api.rs", &still_there)]).await;

    // then it is labelled wontfix and left closed, not reopened.
    let issue = only_debt_issue(&fake);
    assert_eq!(issue.number, number);
    assert_eq!(issue.state, "closed", "{issue:#?}");
    assert_eq!(issue.state_reason.as_deref(), Some("not_planned"));
    assert!(
        issue.labels.iter().any(|l| l == "debt:wontfix"),
        "{issue:#?}"
    );
    assert!(fake.take_comments(REPO, number).is_empty());

    // and a further push leaves it as it is.
    fake.clear_requests();
    let again = format!("{still_there}fn c() {{}}\n");
    push_main(&fake, &app, &[("src/api.rs", &again)]).await;
    let issue = fake.repo(REPO).issue(number).unwrap();
    assert_eq!(issue.state, "closed");
    assert!(fake.take_comments(REPO, number).is_empty());
    let touched = fake.requests_matching("PATCH", &format!("/repos/{REPO}/issues/{number}"));
    assert!(touched.is_empty(), "{touched:#?}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_persons_label_and_milestone_survive_the_bots_update() {
    // Given a synced annotation whose issue a person labelled and put in a
    // milestone,
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    push_main(&fake, &app, &[("src/db.rs", "// TODO: pool connections\n")]).await;
    let number = only_debt_issue(&fake).number;
    let milestone = fake.repo(REPO).add_milestone("Q3 cleanup", None, true);
    fake.repo(REPO).edit_issue(number, |i| {
        i.labels.push("team/storage".into());
        i.milestone = Some(milestone);
        i.updated_at = chrono::Utc::now();
    });

    // when the annotation's text changes in a push,
    push_main(
        &fake,
        &app,
        &[("src/db.rs", "// TODO: pool connections per tenant\n")],
    )
    .await;

    // then the issue follows the code and keeps the person's changes.
    let issue = only_debt_issue(&fake);
    assert_eq!(issue.number, number);
    assert_eq!(issue.state, "open");
    assert_eq!(issue.title, "TODO: pool connections per tenant");
    assert!(
        issue.body.as_deref().unwrap().contains("per tenant"),
        "{issue:#?}"
    );
    assert!(
        issue.labels.iter().any(|l| l == "team/storage"),
        "{issue:#?}"
    );
    assert!(issue.labels.iter().any(|l| l == "debt:todo"), "{issue:#?}");
    assert_eq!(issue.milestone, Some(milestone));
    app.server.shutdown().await.unwrap();
}

/// Which of a merge's two events GitHub delivers first.
#[derive(Clone, Copy, Debug)]
enum Order {
    PushFirst,
    PullRequestFirst,
}

/// A squash merge seen as both `push` and `pull_request` `closed`, in
/// `order`, then both redelivered.
async fn squash_merge_delivered(order: Order) {
    // Given a synced main and a PR branch adding two annotations,
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let base = "fn main() {}\n";
    push_main(&fake, &app, &[("src/main.rs", base)]).await;
    assert!(debt_issues(&fake).is_empty());
    let repo = fake.repo(REPO);
    let old_main = repo.head("main").unwrap();
    repo.set_branch("feature", &old_main);
    repo.set_files(
        "feature",
        &[
            ("src/main.rs", base),
            (
                "src/queue.rs",
                "// TODO: bound the queue\nfn q() {}\n// HACK: sleep instead of backoff\n",
            ),
        ],
    );
    let pr = repo.add_pull_request(NewIssue::new("Add a queue"), "feature");

    // when it is squash-merged and GitHub sends both events,
    repo.merge_pull_request(pr, "alice");
    let push = fake.push_payload(REPO, "main", &old_main, "alice");
    let closed = fake.pull_request_payload(REPO, pr, "closed", "alice", None);
    let deliveries = match order {
        Order::PushFirst => [("push", &push), ("pull_request", &closed)],
        Order::PullRequestFirst => [("pull_request", &closed), ("push", &push)],
    };
    for (event, payload) in deliveries {
        app.deliver(event, payload).await;
    }

    // then each item has exactly one issue,
    let mut titles: Vec<String> = debt_issues(&fake).into_iter().map(|i| i.title).collect();
    titles.sort();
    assert_eq!(
        titles,
        ["HACK: sleep instead of backoff", "TODO: bound the queue"],
        "{order:?}"
    );

    // and redelivering both (twice, in both orders) writes nothing.
    fake.clear_requests();
    for (event, payload) in deliveries.iter().chain(deliveries.iter().rev()) {
        app.deliver(event, payload).await;
    }
    assert_eq!(
        fake.count_writes(),
        0,
        "{order:?}: {:#?}",
        fake.requests()
            .iter()
            .filter(|r| r.is_write())
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
    assert_eq!(debt_issues(&fake).len(), 2);
    // The PR's own bot comments (budget) are not this scenario's subject.
    fake.allow_unasserted_comments();
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_squash_merge_pushed_first_then_closed_opens_each_issue_once() {
    squash_merge_delivered(Order::PushFirst).await;
}

#[tokio::test]
async fn a_squash_merge_closed_first_then_pushed_opens_each_issue_once() {
    squash_merge_delivered(Order::PullRequestFirst).await;
}

/// Pushes `files` as the new tree of the PR's branch and moves its head;
/// returns the new head.
fn push_branch(fake: &FakeGitHub, number: u64, branch: &str, files: &[(&str, &str)]) -> String {
    let sha = fake.repo(REPO).set_files(branch, files);
    let head = sha.clone();
    fake.repo(REPO).edit_issue(number, |i| {
        if let Some(p) = i.pull.as_mut() {
            p.head_sha = head;
        }
    });
    sha
}

/// The bot's `paydown / debt` check runs on `sha`.
fn debt_runs(fake: &FakeGitHub, sha: &str) -> Vec<fake_github::CheckRun> {
    fake.repo(REPO)
        .check_runs()
        .into_iter()
        .filter(|r| r.name == "paydown / debt" && r.head_sha == sha)
        .collect()
}

/// `(path, start_line, level)` of a check run's annotations, sorted.
fn notices(run: &fake_github::CheckRun) -> Vec<(String, u64, String)> {
    let mut out: Vec<(String, u64, String)> = run
        .annotations
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_owned(),
                a["start_line"].as_u64().unwrap(),
                a["annotation_level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The bot's debt review comments on `number`.
fn review_comments(fake: &FakeGitHub, number: u64) -> Vec<fake_github::Comment> {
    fake.repo(REPO)
        .comments(number)
        .into_iter()
        .filter(|c| c.user == fake_github::bot_login() && c.body.contains("<!-- paydown:pr-debt"))
        .collect()
}

#[tokio::test]
async fn a_pull_requests_debt_is_reviewed_in_one_sticky_comment_and_a_check_run() {
    // Given a synced main with one annotation, and a PR that removes it
    // and adds two,
    let fake = FakeGitHub::start().await;
    let app = TestApp::start(&fake).await;
    let base_lib = "fn a() {}\n// TODO: old cache hack\nfn b() {}\n";
    push_main(&fake, &app, &[("src/lib.rs", base_lib)]).await;
    let existing = only_debt_issue(&fake);
    let repo = fake.repo(REPO);
    let main = repo.head("main").unwrap();
    repo.set_branch("feature", &main);
    let head_lib = "// FIXME(@alice): first new item\nfn a() {}\nfn b() {}\n";
    let head_app = "def main():\n    # TODO: second new item\n    pass\n";
    let head = repo.set_files("feature", &[("src/lib.rs", head_lib), ("app.py", head_app)]);
    let pr = repo.add_pull_request(NewIssue::new("Add caching"), "feature");

    // when the PR is opened,
    let opened = fake.pull_request_payload(REPO, pr, "opened", "alice", None);
    app.deliver("pull_request", &opened).await;

    // then one sticky comment reports the delta,
    let posted = fake.take_comments(REPO, pr);
    let sticky: Vec<_> = posted
        .iter()
        .filter(|c| c.body.contains("<!-- paydown:pr-debt"))
        .collect();
    assert_eq!(sticky.len(), 1, "{posted:#?}");
    assert_eq!(sticky[0].user, fake_github::bot_login());
    let comment_id = sticky[0].id;
    assert_eq!(
        paydown_review::parse_report_marker(&sticky[0].body),
        Some(paydown_review::DeltaCounts {
            added: 2,
            removed: 1,
            edited: 0
        })
    );
    // and a check run on the head carries a notice on each added line.
    let runs = debt_runs(&fake, &head);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].status, "completed");
    assert_eq!(
        notices(&runs[0]),
        [
            ("app.py".to_owned(), 2, "notice".to_owned()),
            ("src/lib.rs".to_owned(), 1, "notice".to_owned()),
        ]
    );

    // when another commit on the branch adds a third item,
    let head_app =
        "def main():\n    # TODO: second new item\n    # XXX: third new item\n    pass\n";
    let head = push_branch(
        &fake,
        pr,
        "feature",
        &[("src/lib.rs", head_lib), ("app.py", head_app)],
    );
    let sync = fake.pull_request_payload(REPO, pr, "synchronize", "alice", None);
    app.deliver("pull_request", &sync).await;

    // then the same comment is edited, not a second one posted,
    let reviews = review_comments(&fake, pr);
    assert_eq!(reviews.len(), 1, "{reviews:#?}");
    assert_eq!(reviews[0].id, comment_id);
    assert_eq!(
        paydown_review::parse_report_marker(&reviews[0].body),
        Some(paydown_review::DeltaCounts {
            added: 3,
            removed: 1,
            edited: 0
        })
    );
    let edited = fake.take_comments(REPO, pr);
    assert!(edited.iter().any(|c| c.id == comment_id), "{edited:#?}");
    // the new head has its own check run,
    let runs = debt_runs(&fake, &head);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(notices(&runs[0]).len(), 3, "{runs:#?}");

    // and no issue was opened or closed from the PR.
    let issues = debt_issues(&fake);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0].number, existing.number);
    assert_eq!(issues[0].state, "open");
    assert!(fake.take_comments(REPO, existing.number).is_empty());
    app.server.shutdown().await.unwrap();
}
