//! Debt issues kept in sync by the App: signed `push` and `installation`
//! webhooks through the real router and workers, the real App client, and
//! the fake GitHub's state checked afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_github::{AppCredentials, ClientOptions, GitHubApp};
use paydown_server::handlers::GitHubHandler;
use paydown_server::signature::{WebhookSecrets, sign};
use paydown_server::store::{DeliveryStatus, Store};
use paydown_server::{Server, ServerOptions};

const SECRET: &str = "debt-sync-secret";
const REPO: &str = "octo-org/octo-repo";
const ZEROS: &str = "0000000000000000000000000000000000000000";

struct App {
    server: Server,
    store: Store,
    base: String,
    _dir: tempfile::TempDir,
}

async fn start(fake: &FakeGitHub) -> App {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    let creds =
        AppCredentials::from_pem(fake_github::APP_ID, fake_github::app_private_key_pem()).unwrap();
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = ServerOptions {
        webhook_secrets: WebhookSecrets::new([SECRET]).unwrap(),
        workers: 2,
        lease: Duration::from_secs(30),
        max_body_bytes: 25 * 1024 * 1024,
        shutdown_grace: Duration::from_secs(5),
        idle_poll: Duration::from_millis(20),
    };
    let server = Server::start(
        listener,
        store.clone(),
        Arc::new(GitHubHandler::new(app.clone(), store.clone())),
        Some(app.stats()),
        options,
    )
    .unwrap();
    App {
        base: format!("http://{}", server.local_addr()),
        server,
        store,
        _dir: dir,
    }
}

impl App {
    async fn deliver(&self, event: &str, delivery: &str, body: &serde_json::Value) {
        let body = serde_json::to_vec(body).unwrap();
        let resp = reqwest::Client::new()
            .post(format!("{}/webhook", self.base))
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .header("x-hub-signature-256", sign(SECRET.as_bytes(), &body))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 202);
    }

    /// Waits until every queued delivery (GitHub's and paydown's own
    /// follow-up jobs) is done.
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let counts = self.store.counts_by_status().await.unwrap();
            if self.store.queue_depth().await.unwrap() == 0 {
                assert_eq!(
                    counts.get(DeliveryStatus::Dead),
                    0,
                    "dead deliveries: {counts:?}"
                );
                return;
            }
            assert!(Instant::now() < deadline, "queue never drained: {counts:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn debt_issues(fake: &FakeGitHub) -> Vec<fake_github::Issue> {
    fake.repo(REPO)
        .issues()
        .into_iter()
        .filter(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:item")
        })
        .collect()
}

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
    let app = start(&fake).await;

    // when the push is delivered,
    app.deliver("push", "push-1", &push).await;
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
    app.deliver("push", "push-1-again", &push).await;
    app.deliver("push", "push-1-third", &push).await;
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
    let app = start(&fake).await;

    app.deliver("push", "push-branch", &push).await;
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
    let app = start(&fake).await;

    // when the App is installed,
    let install = serde_json::json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [{"id": 1, "name": "octo-repo", "full_name": REPO, "private": false}],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    });
    app.deliver("installation", "install-1", &install).await;
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
