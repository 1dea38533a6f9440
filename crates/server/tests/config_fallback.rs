//! An invalid `.github/paydown.yml` on the default branch, through the App:
//! signed webhooks through the real router, workers and SQLite store, the
//! real App client against the fake GitHub. The App never falls back on the
//! defaults once it saw a valid config: it keeps the last valid one for
//! syncs, incremental pushes and slash commands, and lists the file's errors
//! on the dashboard until they are fixed.

mod support;

use fake_github::{FakeGitHub, Permission};
use support::{REPO, TestApp, ZEROS, dashboards, debt_issues};

/// NOTE is a keyword here (not by default), and commands that change state
/// need admin (write by default).
const VALID: &str = "annotations:\n  keywords: [TODO, NOTE]\ncommands:\n  permission: admin\n";
/// The same config with a typo in `keywords`: an unknown key, so invalid.
const BROKEN: &str = "annotations:\n  kewords: [TODO, NOTE]\ncommands:\n  permission: admin\n";

fn open_titles(fake: &FakeGitHub) -> Vec<String> {
    let mut titles: Vec<String> = debt_issues(fake)
        .into_iter()
        .filter(|i| i.state == "open")
        .map(|i| i.title)
        .collect();
    titles.sort();
    titles
}

fn dashboard_body(fake: &FakeGitHub) -> String {
    let dashboards = dashboards(fake);
    assert_eq!(dashboards.len(), 1);
    dashboards[0].body.clone().unwrap_or_default()
}

#[tokio::test]
async fn a_broken_config_on_the_default_branch_keeps_the_last_valid_one_in_force() {
    // Given a default branch whose valid config makes NOTE a keyword, and a
    // NOTE item synced to an issue,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    let code = "// TODO: flush the cache\nfn a() {}\n// NOTE: the cache is per process\n";
    let synced = repo.set_files(
        "main",
        &[(".github/paydown.yml", VALID), ("src/cache.rs", code)],
    );
    let app = TestApp::start(&fake).await;
    app.deliver("push", &fake.push_payload(REPO, "main", ZEROS, "alice"))
        .await;
    assert_eq!(
        open_titles(&fake),
        ["NOTE: the cache is per process", "TODO: flush the cache"]
    );
    assert!(!dashboard_body(&fake).contains("Configuration errors"));

    // when a push breaks the config (a typo in `keywords`),
    let broken = repo.set_files(
        "main",
        &[(".github/paydown.yml", BROKEN), ("src/cache.rs", code)],
    );
    app.deliver("push", &fake.push_payload(REPO, "main", &synced, "alice"))
        .await;

    // then the NOTE issue stays open (the default keywords would close it),
    assert_eq!(
        open_titles(&fake),
        ["NOTE: the cache is per process", "TODO: flush the cache"]
    );
    // and the dashboard lists the error.
    let body = dashboard_body(&fake);
    assert!(body.contains("Configuration errors"), "{body}");
    assert!(body.contains("kewords"), "{body}");

    // When a further push changes only code (an incremental sync from the
    // kept state),
    fake.clear_requests();
    repo.set_files(
        "main",
        &[
            (".github/paydown.yml", BROKEN),
            ("src/cache.rs", code),
            ("src/queue.rs", "// NOTE: the queue is unbounded\n"),
        ],
    );
    app.deliver("push", &fake.push_payload(REPO, "main", &broken, "alice"))
        .await;

    // then it still goes by the last valid config: the new NOTE is tracked,
    // the old one stays open,
    let log: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        !log.iter().any(|r| r.contains("/tarball/")),
        "incremental: {log:#?}"
    );
    assert_eq!(
        open_titles(&fake),
        [
            "NOTE: the cache is per process",
            "NOTE: the queue is unbounded",
            "TODO: flush the cache"
        ]
    );
    // and the dashboard keeps listing the error.
    let body = dashboard_body(&fake);
    assert!(body.contains("kewords"), "{body}");

    // When bob, who has write (enough by default, not under the last valid
    // config), comments `/debt ignore` on the NOTE issue,
    repo.set_permission("bob", Permission::Write);
    let note = debt_issues(&fake)
        .into_iter()
        .find(|i| i.title == "NOTE: the cache is per process")
        .expect("the NOTE issue");
    let id = repo.add_comment(note.number, "bob", "/debt ignore");
    let comment = fake.issue_comment_payload(REPO, id, "created", None);
    app.deliver("issue_comment", &comment).await;

    // then the command is refused for want of admin, the reply says which
    // config it went by, and the issue is not ignored.
    let replies = fake.take_comments(REPO, note.number);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let reply = &replies[0].body;
    assert!(
        reply.contains("needs admin permission on this repository; you have write"),
        "{reply}"
    );
    assert!(
        reply.contains("is invalid, so these commands ran with the last valid configuration"),
        "{reply}"
    );
    assert!(
        !repo
            .issue(note.number)
            .unwrap()
            .labels
            .contains(&"debt:ignored".to_string())
    );

    // When the config is fixed, the error leaves the dashboard.
    let fixed = repo.head("main").unwrap();
    repo.set_files(
        "main",
        &[
            (".github/paydown.yml", VALID),
            ("src/cache.rs", code),
            ("src/queue.rs", "// NOTE: the queue is unbounded\n"),
        ],
    );
    app.deliver("push", &fake.push_payload(REPO, "main", &fixed, "alice"))
        .await;
    assert!(!dashboard_body(&fake).contains("Configuration errors"));
    assert_eq!(open_titles(&fake).len(), 3);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_config_broken_from_the_start_runs_with_the_defaults_and_says_so() {
    // Given a repository whose config was never valid,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files(
        "main",
        &[
            (".github/paydown.yml", BROKEN),
            (
                "src/cache.rs",
                "// TODO: flush the cache\n// NOTE: the cache is per process\n",
            ),
        ],
    );
    let app = TestApp::start(&fake).await;

    // when it is synced, the defaults apply (no NOTE issue) and the
    // dashboard lists the error.
    app.deliver("push", &fake.push_payload(REPO, "main", ZEROS, "alice"))
        .await;
    assert_eq!(open_titles(&fake), ["TODO: flush the cache"]);
    let body = dashboard_body(&fake);
    assert!(body.contains("kewords"), "{body}");

    // When bob (write) runs a command, the default permission lets him.
    repo.set_permission("bob", Permission::Write);
    let todo = debt_issues(&fake)[0].number;
    let id = repo.add_comment(todo, "bob", "/debt ignore");
    let comment = fake.issue_comment_payload(REPO, id, "created", None);
    app.deliver("issue_comment", &comment).await;
    assert!(
        repo.issue(todo)
            .unwrap()
            .labels
            .contains(&"debt:ignored".to_string())
    );
    assert!(fake.take_comments(REPO, todo).is_empty());

    // When he asks for help, the reply says the defaults are in force.
    let id = repo.add_comment(todo, "bob", "/debt help");
    let comment = fake.issue_comment_payload(REPO, id, "created", None);
    app.deliver("issue_comment", &comment).await;
    let replies = fake.take_comments(REPO, todo);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert!(
        replies[0].body.starts_with(
            "⚠️ `.github/paydown.yml` on the default branch is invalid, so these commands \
             ran with the default settings (no valid configuration was seen before)."
        ),
        "{}",
        replies[0].body
    );
    app.server.shutdown().await.unwrap();
}
