//! The App under test, shared by the scenario suites: the real router,
//! workers and SQLite store behind `paydown serve`, the real App client
//! talking to the fake GitHub, and signed webhook deliveries.
// Each suite uses its own subset of these helpers.
#![allow(dead_code)]

pub mod postgres;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_github::{AppCredentials, ClientOptions, GitHubApp};
use paydown_server::handlers::GitHubHandler;
use paydown_server::signature::{WebhookSecrets, sign};
use paydown_server::store::{DeliveryStatus, Store};
use paydown_server::{Server, ServerOptions};

pub const SECRET: &str = "scenario-webhook-secret";
pub const REPO: &str = "octo-org/octo-repo";
/// `before` of a push that creates a branch.
pub const ZEROS: &str = "0000000000000000000000000000000000000000";

pub struct TestApp {
    pub server: Server,
    pub store: Store,
    pub github: GitHubApp,
    pub base: String,
    next: AtomicU32,
    _dir: Option<tempfile::TempDir>,
}

pub fn server_options(lease: Duration) -> ServerOptions {
    ServerOptions {
        webhook_secrets: WebhookSecrets::new([SECRET]).unwrap(),
        workers: 2,
        lease,
        max_body_bytes: 25 * 1024 * 1024,
        shutdown_grace: Duration::from_secs(5),
        idle_poll: Duration::from_millis(20),
        http: paydown_server::http::HttpLimits::default(),
        incident_secrets: Default::default(),
        clock: paydown_github::Clock::system(),
    }
}

/// The App's client, authenticated with the fake's App key.
pub fn github_app(fake: &FakeGitHub) -> GitHubApp {
    let creds =
        AppCredentials::from_pem(fake_github::APP_ID, fake_github::app_private_key_pem()).unwrap();
    GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap()
}

/// A SQLite store URL in `dir`.
pub fn db_url(dir: &tempfile::TempDir) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.sqlite").display()
    )
}

impl TestApp {
    /// The App on a fresh SQLite file.
    pub async fn start(fake: &FakeGitHub) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut app = Self::start_at(fake, &db_url(&dir), Duration::from_secs(30)).await;
        app._dir = Some(dir);
        app
    }

    /// The App on the store at `url` (a restart keeps the caller's file).
    pub async fn start_at(fake: &FakeGitHub, url: &str, lease: Duration) -> TestApp {
        let store = Store::connect(url).await.unwrap();
        let github = github_app(fake);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server::start(
            listener,
            store.clone(),
            Arc::new(GitHubHandler::new(github.clone(), store.clone())),
            Some(github.stats()),
            server_options(lease),
        )
        .unwrap();
        TestApp {
            base: format!("http://{}", server.local_addr()),
            server,
            store,
            github,
            next: AtomicU32::new(0),
            _dir: None,
        }
    }

    /// Posts one signed delivery and checks it was accepted (202); does
    /// not wait for the work.
    pub async fn post(&self, event: &str, delivery: &str, body: &serde_json::Value) {
        post_webhook(&self.base, event, delivery, body).await;
    }

    /// Delivers one event under a fresh delivery id (as GitHub's
    /// "redeliver" does) and waits until the queue is drained.
    pub async fn deliver(&self, event: &str, body: &serde_json::Value) {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        self.deliver_as(event, &format!("delivery-{n}"), body).await;
    }

    /// [`Self::deliver`] under a given delivery id.
    pub async fn deliver_as(&self, event: &str, delivery: &str, body: &serde_json::Value) {
        self.post(event, delivery, body).await;
        self.settle().await;
    }

    /// Waits until every queued delivery (GitHub's and paydown's own
    /// follow-up jobs) is done, and checks none went dead.
    pub async fn settle(&self) {
        settle(&self.store).await;
    }
}

/// Posts a signed delivery to the server at `base`; asserts 202.
pub async fn post_webhook(base: &str, event: &str, delivery: &str, body: &serde_json::Value) {
    let body = serde_json::to_vec(body).unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{base}/webhook"))
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", sign(SECRET.as_bytes(), &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
}

/// Waits until `store`'s queue is drained, none dead.
pub async fn settle(store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = store.counts_by_status().await.unwrap();
        if store.queue_depth().await.unwrap() == 0 {
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

/// The issues of `REPO` carrying paydown's item marker.
pub fn debt_issues(fake: &FakeGitHub) -> Vec<fake_github::Issue> {
    issues_with(fake, "paydown:item")
}

/// The dashboard issues of `REPO`.
pub fn dashboards(fake: &FakeGitHub) -> Vec<fake_github::Issue> {
    issues_with(fake, "paydown:dashboard")
}

fn issues_with(fake: &FakeGitHub, marker: &str) -> Vec<fake_github::Issue> {
    fake.repo(REPO)
        .issues()
        .into_iter()
        .filter(|i| i.body.as_deref().unwrap_or_default().contains(marker))
        .collect()
}
