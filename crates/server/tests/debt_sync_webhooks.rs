//! Debt issues kept in sync by the App: signed `push` and `installation`
//! webhooks through the real router and workers, the real App client, and
//! the fake GitHub's state checked afterwards.

mod support;

use fake_github::FakeGitHub;
use support::{REPO, TestApp, ZEROS, debt_issues};

#[tokio::test]
async fn a_push_to_the_default_branch_opens_issues_and_redeliveries_write_nothing() {
    // Given an installed repository and a push adding two annotations,
    let fake = FakeGitHub::start().await;
    let handle = fake.repo(REPO);
    handle.set_files(
        "main",
        &[(
            "src/a.rs",
            "// TODO: flush the cache\n// FIXME(@bob): retries\n",
        )],
    );
    let push = fake.push_payload(REPO, "main", ZEROS, "alice");
    let app = TestApp::start(&fake).await;

    // when the push is delivered,
    app.post("push", "push-1", &push).await;
    app.settle().await;

    // then each item has its issue (plus the dashboard),
    let issues = debt_issues(&fake);
    assert_eq!(issues.len(), 2, "{issues:#?}");
    assert!(
        issues
            .iter()
            .any(|i| i.title == "FIXME: retries" && i.assignees == ["bob"])
    );

    // and the same push delivered again (a redelivery under another id,
    // as GitHub's "redeliver" does) twice more changes nothing.
    fake.clear_requests();
    app.post("push", "push-1-again", &push).await;
    app.post("push", "push-1-third", &push).await;
    app.settle().await;
    assert_eq!(fake.count_writes(), 0);
    assert_eq!(debt_issues(&fake).len(), 2);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_push_to_another_branch_changes_no_issue() {
    let fake = FakeGitHub::start().await;
    let handle = fake.repo(REPO);
    handle.set_files("feature", &[("a.rs", "// TODO: only on a branch\n")]);
    let push = fake.push_payload(REPO, "feature", ZEROS, "alice");
    let app = TestApp::start(&fake).await;

    app.post("push", "push-branch", &push).await;
    app.settle().await;

    assert_eq!(fake.count_writes(), 0);
    assert!(debt_issues(&fake).is_empty());
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_installation_backfills_its_repositories_in_paced_runs() {
    // Given a repository with 12 annotations and max_new_per_run 5,
    let fake = FakeGitHub::start().await;
    let code: String = (0..12).map(|i| format!("// TODO: item {i}\n")).collect();
    fake.repo(REPO).set_files(
        "main",
        &[
            ("a.rs", code.as_str()),
            (".github/paydown.yml", "issues:\n  max_new_per_run: 5\n"),
        ],
    );
    let app = TestApp::start(&fake).await;

    // when the App is installed,
    let install = serde_json::json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [{"id": 1, "name": "octo-repo", "full_name": REPO, "private": false}],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    });
    app.post("installation", "install-1", &install).await;
    app.settle().await;

    // then the backfill ran in paced runs until every item had one issue.
    let issues = debt_issues(&fake);
    let counts = app.store.counts_by_status().await.unwrap();
    assert_eq!(issues.len(), 12, "{counts:?}");
    let creates = fake
        .requests_matching("POST", "/repos/octo-org/octo-repo/issues")
        .into_iter()
        .filter(|r| r.path == "/repos/octo-org/octo-repo/issues")
        .count();
    assert_eq!(
        creates, 13,
        "12 debt issues and the dashboard, nothing twice"
    );
    app.server.shutdown().await.unwrap();
}
