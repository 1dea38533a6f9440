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
    // Given a repository with 1,000 annotations and max_new_per_run 200
    // (issue 4's first install),
    let fake = FakeGitHub::start().await;
    let code: String = (0..1000).map(|i| format!("// TODO: item {i}\n")).collect();
    fake.repo(REPO).set_files(
        "main",
        &[
            ("a.rs", code.as_str()),
            (".github/paydown.yml", "issues:\n  max_new_per_run: 200\n"),
        ],
    );
    let app = TestApp::start(&fake).await;

    // when the App is installed and the queue drains (each run queues the next),
    let install = serde_json::json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [{"id": 1, "name": "octo-repo", "full_name": REPO, "private": false}],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    });
    let started = std::time::Instant::now();
    app.post("installation", "install-1", &install).await;
    app.settle().await;
    let elapsed = started.elapsed();

    // then the request log, split into runs at each full scan's tarball
    // read, shows five runs of exactly 200 new debt issues each,
    let requests = fake.requests();
    let tarball = format!("/repos/{REPO}/tarball/");
    let issues_path = format!("/repos/{REPO}/issues");
    let mut per_run: Vec<usize> = Vec::new();
    let mut dashboards_created = 0;
    for r in &requests {
        if r.method == "GET" && r.path.starts_with(&tarball) {
            per_run.push(0);
        } else if r.method == "POST" && r.path == issues_path && r.status == Some(201) {
            let body = r.json()["body"].as_str().unwrap_or_default().to_string();
            if body.contains("<!-- paydown:item ") {
                *per_run
                    .last_mut()
                    .expect("an issue created before any scan") += 1;
            } else if body.contains("<!-- paydown:dashboard -->") {
                dashboards_created += 1;
            }
        }
    }
    assert_eq!(per_run, [200; 5], "debt issues created per run");
    assert_eq!(dashboards_created, 1);
    // every item has exactly one issue (no duplicates, none missing),
    let issues = debt_issues(&fake);
    assert_eq!(issues.len(), 1000);
    let titles: std::collections::BTreeSet<&str> =
        issues.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles.len(), 1000, "two issues for one item");
    assert!((0..1000).all(|i| titles.contains(format!("TODO: item {i}").as_str())));
    let creates = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == issues_path)
        .count();
    assert_eq!(
        creates, 1001,
        "1,000 debt issues and the dashboard, nothing twice"
    );
    // and the whole import costs the creates plus a small overhead per run
    // (head, config, tarball, issue listing, dashboard): ~1,085 today.
    eprintln!(
        "backfill of 1,000 items in {} runs: {} API requests ({} writes), {elapsed:?}",
        per_run.len(),
        requests.len(),
        fake.count_writes()
    );
    assert!(
        requests.len() <= 1100,
        "{} requests for a 1,000-item backfill",
        requests.len()
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn creates_github_fails_for_a_while_are_retried_with_the_delivery() {
    // Given a push adding three annotations,
    let fake = FakeGitHub::start().await;
    fake.repo(REPO).set_files(
        "main",
        &[(
            "src/a.rs",
            "// TODO: first\n// TODO: second\n// TODO: third\n",
        )],
    );
    let push = fake.push_payload(REPO, "main", ZEROS, "alice");
    let app = TestApp::start(&fake).await;

    // when GitHub answers the first issue create with 502 beyond the
    // client's own retries,
    fake.fail_next_on("POST", "/repos/octo-org/octo-repo/issues", 6, 502);
    app.post("push", "push-flaky", &push).await;
    app.settle().await;

    // then the delivery was retried and every item has exactly one issue.
    let issues = debt_issues(&fake);
    let mut titles: Vec<&str> = issues.iter().map(|i| i.title.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(titles, ["TODO: first", "TODO: second", "TODO: third"]);
    let record = app.store.delivery("push-flaky").await.unwrap().unwrap();
    assert!(record.attempts >= 1, "{record:?}");
    app.server.shutdown().await.unwrap();
}
