//! `paydown serve` end to end in-process: the real router on loopback, a
//! temporary SQLite database, real HMAC signatures and the fake GitHub as
//! API base.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_github::{AppCredentials, ClientOptions, GitHubApp};
use paydown_server::handlers::{GitHubHandler, Handler, HandlerError, HandlerFuture};
use paydown_server::signature::{WebhookSecrets, sign};
use paydown_server::store::{Claimed, DeliveryStatus, RetryPolicy, Store};
use paydown_server::{Server, ServerOptions};
use serde_json::json;
use tempfile::TempDir;

const SECRET: &str = "test-webhook-secret";

struct Harness {
    server: Option<Server>,
    store: Store,
    base: String,
    http: reqwest::Client,
    _dir: TempDir,
}

fn options(secrets: &[&str]) -> ServerOptions {
    ServerOptions {
        webhook_secrets: WebhookSecrets::new(secrets.iter().copied()).unwrap(),
        workers: 4,
        lease: Duration::from_secs(5),
        max_body_bytes: 64 * 1024,
        shutdown_grace: Duration::from_secs(5),
        idle_poll: Duration::from_millis(50),
        http: paydown_server::http::HttpLimits::default(),
        incident_secrets: Default::default(),
        clock: paydown_github::Clock::system(),
    }
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(50),
        cap: Duration::from_millis(200),
    }
}

async fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("paydown.sqlite").display()
    );
    let store = Store::connect(&url)
        .await
        .unwrap()
        .with_retry_policy(quick_retries());
    (dir, store)
}

fn github_handler(fake: &FakeGitHub, store: &Store) -> (Arc<dyn Handler>, GitHubApp) {
    let creds =
        AppCredentials::from_pem(fake_github::APP_ID, fake_github::app_private_key_pem()).unwrap();
    let client_options = ClientOptions {
        max_attempts: 2,
        ..ClientOptions::for_tests()
    };
    let app = GitHubApp::new(&fake.url(), creds, client_options).unwrap();
    (
        Arc::new(GitHubHandler::new(app.clone(), store.clone())),
        app,
    )
}

impl Harness {
    async fn with_handler(
        handler: impl FnOnce(&Store) -> (Arc<dyn Handler>, Option<GitHubApp>),
        opts: ServerOptions,
    ) -> Harness {
        let (dir, store) = temp_store().await;
        let (handler, app) = handler(&store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stats = app.map(|a| a.stats());
        let server = Server::start(listener, store.clone(), handler, stats, opts).unwrap();
        Harness {
            base: format!("http://{}", server.local_addr()),
            server: Some(server),
            store,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    async fn github(fake: &FakeGitHub) -> Harness {
        Self::with_handler(
            |store| {
                let (h, app) = github_handler(fake, store);
                (h, Some(app))
            },
            options(&[SECRET]),
        )
        .await
    }

    async fn post(
        &self,
        event: &str,
        delivery: &str,
        body: &[u8],
        signature: Option<String>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .post(format!("{}/webhook", self.base))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .body(body.to_vec());
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let json = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    async fn deliver(
        &self,
        event: &str,
        delivery: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let body = serde_json::to_vec(body).unwrap();
        self.post(event, delivery, &body, Some(sign(SECRET.as_bytes(), &body)))
            .await
    }

    async fn wait_status(
        &self,
        delivery: &str,
        want: DeliveryStatus,
    ) -> paydown_server::store::DeliveryRecord {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let rec = self.store.delivery(delivery).await.unwrap();
            if let Some(rec) = &rec
                && rec.status == want
            {
                return rec.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{delivery} never reached {want:?}: {rec:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn stop(&mut self) -> paydown_server::worker::ShutdownReport {
        self.server.take().unwrap().shutdown().await.unwrap()
    }
}

fn ping() -> serde_json::Value {
    json!({"zen": "Keep it logically awesome.", "hook_id": 1})
}

fn installation_created(id: u64, login: &str) -> serde_json::Value {
    json!({
        "action": "created",
        "installation": {"id": id, "account": {"login": login, "id": 9, "type": "Organization"}},
        "sender": {"login": "alice"}
    })
}

#[tokio::test]
async fn signed_ping_is_acknowledged_then_processed() {
    let fake = FakeGitHub::start().await;
    let mut h = Harness::github(&fake).await;
    let started = Instant::now();
    let (status, body) = h.deliver("ping", "d-ping", &ping()).await;
    assert_eq!((status, body), (202, json!({"status": "queued"})));
    assert!(started.elapsed() < Duration::from_secs(1));
    h.wait_status("d-ping", DeliveryStatus::Done).await;
    let health = h
        .http
        .get(format!("{}/healthz", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    h.stop().await;
}

#[tokio::test]
async fn wrong_or_missing_signature_is_401_and_nothing_is_stored() {
    let fake = FakeGitHub::start().await;
    let mut h = Harness::github(&fake).await;
    let body = serde_json::to_vec(&ping()).unwrap();
    // Given a body signed with another secret, when posted, then 401.
    let (status, _) = h
        .post(
            "ping",
            "d-wrong",
            &body,
            Some(sign(b"not-the-secret", &body)),
        )
        .await;
    assert_eq!(status, 401);
    // A signature over a different body is refused too.
    let (status, _) = h
        .post(
            "ping",
            "d-tampered",
            &body,
            Some(sign(SECRET.as_bytes(), b"{}")),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = h.post("ping", "d-missing", &body, None).await;
    assert_eq!(status, 401);
    let (status, _) = h
        .post("ping", "d-garbage", &body, Some("sha256=xyz".into()))
        .await;
    assert_eq!(status, 401);
    for id in ["d-wrong", "d-tampered", "d-missing", "d-garbage"] {
        assert!(h.store.delivery(id).await.unwrap().is_none(), "{id} stored");
    }
    let text = h.metrics().await;
    assert!(
        text.contains("paydown_deliveries_rejected_total{reason=\"signature_mismatch\"} 2"),
        "{text}"
    );
    assert!(text.contains("paydown_deliveries_rejected_total{reason=\"signature_missing\"} 1"));
    assert!(text.contains("paydown_deliveries_rejected_total{reason=\"signature_malformed\"} 1"));
    h.stop().await;
}

#[tokio::test]
async fn rotated_secrets_are_both_accepted() {
    let fake = FakeGitHub::start().await;
    let mut h = Harness::with_handler(
        |store| {
            let (h, app) = github_handler(&fake, store);
            (h, Some(app))
        },
        options(&["old-secret", "new-secret"]),
    )
    .await;
    let body = serde_json::to_vec(&ping()).unwrap();
    let (status, _) = h
        .post("ping", "d-old", &body, Some(sign(b"old-secret", &body)))
        .await;
    assert_eq!(status, 202);
    let (status, _) = h
        .post("ping", "d-new", &body, Some(sign(b"new-secret", &body)))
        .await;
    assert_eq!(status, 202);
    let (status, _) = h
        .post("ping", "d-x", &body, Some(sign(SECRET.as_bytes(), &body)))
        .await;
    assert_eq!(status, 401);
    h.stop().await;
}

#[tokio::test]
async fn oversize_malformed_and_headerless_requests_are_refused() {
    let fake = FakeGitHub::start().await;
    let mut h = Harness::github(&fake).await;
    // Given a body over the 64 KiB limit (signed correctly), then 413.
    let big = serde_json::to_vec(&json!({"zen": "x".repeat(70 * 1024)})).unwrap();
    let (status, _) = h
        .post("ping", "d-big", &big, Some(sign(SECRET.as_bytes(), &big)))
        .await;
    assert_eq!(status, 413);
    // Given signed bytes that are not JSON, then 400 naming the problem.
    let bad = b"{\"action\": ".to_vec();
    let (status, body) = h
        .post("issues", "d-bad", &bad, Some(sign(SECRET.as_bytes(), &bad)))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("issues payload"),
        "{body}"
    );
    // A routing field of the wrong type is reported with its JSON path.
    let wrong = serde_json::to_vec(&json!({"installation": {"id": "seven"}})).unwrap();
    let (status, body) = h
        .post(
            "push",
            "d-path",
            &wrong,
            Some(sign(SECRET.as_bytes(), &wrong)),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("installation.id"),
        "{body}"
    );
    // Signed but without X-GitHub-Event: 400.
    let ok = serde_json::to_vec(&ping()).unwrap();
    let resp = h
        .http
        .post(format!("{}/webhook", h.base))
        .header("x-github-delivery", "d-noevent")
        .header("x-hub-signature-256", sign(SECRET.as_bytes(), &ok))
        .body(ok.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    for id in ["d-big", "d-bad", "d-path", "d-noevent"] {
        assert!(h.store.delivery(id).await.unwrap().is_none(), "{id} stored");
    }
    let text = h.metrics().await;
    assert!(text.contains("reason=\"body_too_large\"} 1"), "{text}");
    assert!(text.contains("reason=\"malformed_payload\"} 2"), "{text}");
    assert!(text.contains("reason=\"missing_event\"} 1"), "{text}");
    h.stop().await;
}

#[tokio::test]
async fn installation_created_fetches_and_stores_its_repositories_once_despite_redelivery() {
    let fake = FakeGitHub::start().await;
    fake.add_repo("octo-org", "second-repo", 1);
    let mut h = Harness::github(&fake).await;
    // When GitHub delivers `installation created` and then redelivers it,
    let (status, body) = h
        .deliver(
            "installation",
            "d-inst",
            &installation_created(1, "octo-org"),
        )
        .await;
    assert_eq!((status, body), (202, json!({"status": "queued"})));
    h.wait_status("d-inst", DeliveryStatus::Done).await;
    let (status, body) = h
        .deliver(
            "installation",
            "d-inst",
            &installation_created(1, "octo-org"),
        )
        .await;
    assert_eq!((status, body), (202, json!({"status": "duplicate"})));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // then the App exchanged a token for the listing (metadata only, all
    // repositories) and listed the repositories exactly once (each
    // repository's backfill sync has its own token, scoped to it),
    let tokens = fake.token_requests();
    let listing: Vec<_> = tokens
        .iter()
        .filter(|(_, body)| body.get("repositories").is_none())
        .collect();
    assert_eq!(listing.len(), 1, "{tokens:?}");
    assert_eq!(listing[0].1, json!({"permissions": {"metadata": "read"}}));
    for repo in ["octo-repo", "second-repo"] {
        let scoped = tokens
            .iter()
            .filter(|(_, body)| body["repositories"] == json!([repo]))
            .count();
        assert!(scoped <= 1, "{repo}: {tokens:?}");
    }
    assert_eq!(
        fake.requests_matching("GET", "/installation/repositories")
            .len(),
        1
    );
    // and the store knows the installation and both repositories.
    let repos: Vec<String> = h
        .store
        .installation_repos(1)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.full_name)
        .collect();
    assert_eq!(repos, vec!["octo-org/octo-repo", "octo-org/second-repo"]);
    let installs = h.store.installations().await.unwrap();
    assert_eq!(installs.len(), 1);
    assert_eq!(installs[0].account_login, "octo-org");
    let text = h.metrics().await;
    assert!(
        text.contains("paydown_deliveries_processed_total{event=\"installation\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("paydown_deliveries_duplicate_total 1"),
        "{text}"
    );
    // and a backfill sync was queued for each repository (the debt-sync
    // scenarios follow those through).
    for repo in ["octo-org/octo-repo", "octo-org/second-repo"] {
        let job = format!("paydown.sync:{repo}:backfill:d-inst");
        assert!(h.store.delivery(&job).await.unwrap().is_some(), "{job}");
    }

    // When the installation is deleted, then its records are removed.
    let deleted =
        json!({"action": "deleted", "installation": {"id": 1, "account": {"login": "octo-org"}}});
    h.deliver("installation", "d-del", &deleted).await;
    h.wait_status("d-del", DeliveryStatus::Done).await;
    assert!(h.store.installations().await.unwrap().is_empty());
    assert!(h.store.installation_repos(1).await.unwrap().is_empty());
    h.stop().await;
}

#[tokio::test]
async fn installation_repositories_added_and_removed_update_the_store() {
    let fake = FakeGitHub::start().await;
    let mut h = Harness::github(&fake).await;
    let added = json!({
        "action": "added",
        "installation": {"id": 5, "account": {"login": "acme"}},
        "repository_selection": "selected",
        "repositories_added": [
            {"id": 11, "name": "a", "full_name": "acme/a", "private": false},
            {"id": 12, "name": "b", "full_name": "acme/b", "private": true}
        ],
        "repositories_removed": []
    });
    h.deliver("installation_repositories", "d-add", &added)
        .await;
    h.wait_status("d-add", DeliveryStatus::Done).await;
    let removed = json!({
        "action": "removed",
        "installation": {"id": 5, "account": {"login": "acme"}},
        "repositories_added": [],
        "repositories_removed": [{"id": 11, "name": "a", "full_name": "acme/a"}]
    });
    h.deliver("installation_repositories", "d-rm", &removed)
        .await;
    h.wait_status("d-rm", DeliveryStatus::Done).await;
    let repos: Vec<String> = h
        .store
        .installation_repos(5)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.full_name)
        .collect();
    assert_eq!(repos, vec!["acme/b"]);
    // No GitHub call was needed to update the store; each added repository
    // got a backfill sync queued (it fails here: the fake has no acme/a).
    assert!(
        fake.requests_matching("GET", "/installation/repositories")
            .is_empty()
    );
    for repo in ["acme/a", "acme/b"] {
        let job = format!("paydown.sync:{repo}:backfill:d-add");
        assert!(h.store.delivery(&job).await.unwrap().is_some(), "{job}");
    }
    h.stop().await;
}

#[tokio::test]
async fn github_errors_are_retried_until_the_delivery_succeeds() {
    let fake = FakeGitHub::start().await;
    let mut h = Harness::github(&fake).await;
    // Given GitHub answers 502 three times (the client tries twice per attempt),
    fake.fail_next_on("GET", "/installation/repositories", 3, 502);
    h.deliver(
        "installation",
        "d-retry",
        &installation_created(1, "octo-org"),
    )
    .await;
    // then the first attempt fails, the queue retries, and the second succeeds.
    let rec = h.wait_status("d-retry", DeliveryStatus::Done).await;
    assert_eq!(rec.attempts, 1, "{rec:?}");
    assert_eq!(h.store.installation_repos(1).await.unwrap().len(), 1);
    let text = h.metrics().await;
    assert!(
        text.contains("paydown_deliveries_failed_total{event=\"installation\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("paydown_deliveries_processed_total{event=\"installation\"} 1"),
        "{text}"
    );
    h.stop().await;
}

/// A `MakeWriter` appending every log line to one buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn debug_logs_of_a_full_scenario_hold_no_secret_token_or_key() {
    // Given every log line at trace level captured (this test's runtime is
    // single-threaded, so the server, workers and fake all log here),
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // when an installation is delivered (a JWT, a token exchange, API
    // calls), a forged delivery is refused and a GitHub failure retried,
    let fake = FakeGitHub::start().await;
    let mut h = Harness::github(&fake).await;
    let body = serde_json::to_vec(&installation_created(1, "octo-org")).unwrap();
    let (status, _) = h
        .post("installation", "d-forged", &body, Some("sha256=00".into()))
        .await;
    assert_eq!(status, 401);
    fake.fail_next_on("GET", "/installation/repositories", 1, 502);
    h.deliver(
        "installation",
        "d-logs",
        &installation_created(1, "octo-org"),
    )
    .await;
    h.wait_status("d-logs", DeliveryStatus::Done).await;
    fake.expire_installation_tokens();
    h.deliver(
        "installation",
        "d-logs-2",
        &installation_created(1, "octo-org"),
    )
    .await;
    h.wait_status("d-logs-2", DeliveryStatus::Done).await;
    h.stop().await;

    // then the logs say what happened without any credential.
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("d-logs"),
        "the capture saw the scenario:\n{text}"
    );
    let key = fake_github::app_private_key_pem();
    let key_line = key.lines().nth(1).unwrap();
    let signature = sign(SECRET.as_bytes(), &body);
    let signature = signature.trim_start_matches("sha256=").to_string();
    for (what, needle) in [
        ("webhook secret", SECRET),
        ("installation token", "ghs_"),
        ("JWT", "eyJ"),
        ("private key header", "PRIVATE KEY"),
        ("private key material", key_line),
        ("webhook signature", &signature),
    ] {
        assert!(!text.contains(needle), "the logs show a {what}:\n{text}");
    }
}

#[tokio::test]
async fn an_unparseable_payload_goes_dead_at_once_with_the_reason() {
    // Given a signed push delivery whose payload is not a push,
    let fake = FakeGitHub::start().await;
    let mut h = Harness::github(&fake).await;
    h.deliver("push", "d-garbage", &serde_json::json!({"ref": 42}))
        .await;

    // then it is dead after one attempt, saying where the payload is wrong.
    let rec = h.wait_status("d-garbage", DeliveryStatus::Dead).await;
    assert_eq!(rec.attempts, 1, "{rec:?}");
    let reason = rec.last_error.as_deref().unwrap_or("");
    assert!(reason.contains("push payload"), "{reason}");
    h.stop().await;
}

#[tokio::test]
async fn a_delivery_that_always_fails_goes_dead_and_is_counted() {
    let fake = FakeGitHub::start().await;
    let mut h = Harness::github(&fake).await;
    fake.fail_next_on("GET", "/installation/repositories", 1000, 502);
    h.deliver(
        "installation",
        "d-dead",
        &installation_created(1, "octo-org"),
    )
    .await;
    let rec = h.wait_status("d-dead", DeliveryStatus::Dead).await;
    assert_eq!(rec.attempts, 3);
    assert!(
        rec.last_error.as_deref().unwrap_or("").contains("502"),
        "{rec:?}"
    );
    let text = h.metrics().await;
    assert!(
        text.contains("paydown_deliveries_dead_total{event=\"installation\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("paydown_deliveries_failed_total{event=\"installation\"} 3"),
        "{text}"
    );
    h.stop().await;
}

/// Records how many deliveries run at once, per repository and overall.
#[derive(Default)]
struct ConcurrencyProbe {
    state: Mutex<(HashMap<String, usize>, usize)>,
    max_per_repo: Mutex<usize>,
    max_total: Mutex<usize>,
    done: Mutex<Vec<String>>,
}

impl Handler for ConcurrencyProbe {
    fn handle<'a>(&'a self, d: &'a Claimed) -> HandlerFuture<'a> {
        Box::pin(async move {
            let key = d.repo_key.clone().unwrap_or_default();
            {
                let mut s = self.state.lock().unwrap();
                let n = s.0.entry(key.clone()).or_default();
                *n += 1;
                let n = *n;
                s.1 += 1;
                let total = s.1;
                let mut m = self.max_per_repo.lock().unwrap();
                *m = (*m).max(n);
                let mut t = self.max_total.lock().unwrap();
                *t = (*t).max(total);
            }
            tokio::time::sleep(Duration::from_millis(80)).await;
            {
                let mut s = self.state.lock().unwrap();
                *s.0.get_mut(&key).unwrap() -= 1;
                s.1 -= 1;
            }
            self.done.lock().unwrap().push(d.delivery_id.clone());
            Ok::<(), HandlerError>(())
        })
    }
}

#[tokio::test]
async fn work_on_one_repository_is_serialised_while_repositories_run_in_parallel() {
    let probe = Arc::new(ConcurrencyProbe::default());
    let p = probe.clone();
    let mut h =
        Harness::with_handler(move |_| (p as Arc<dyn Handler>, None), options(&[SECRET])).await;
    for i in 0..4 {
        for repo in ["o/one", "o/two"] {
            let body = json!({"action": "opened", "repository": {"full_name": repo}, "number": i});
            let (status, _) = h.deliver("issues", &format!("{repo}-{i}"), &body).await;
            assert_eq!(status, 202);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.done.lock().unwrap().len() < 8 {
        assert!(Instant::now() < deadline, "not all processed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        *probe.max_per_repo.lock().unwrap(),
        1,
        "one repository ran concurrently"
    );
    assert_eq!(
        *probe.max_total.lock().unwrap(),
        2,
        "repositories did not run in parallel"
    );
    h.stop().await;
}

/// Never finishes: stands for a handler still running at shutdown.
struct Stuck {
    started: tokio::sync::Notify,
}

impl Handler for Stuck {
    fn handle<'a>(&'a self, _d: &'a Claimed) -> HandlerFuture<'a> {
        Box::pin(async move {
            self.started.notify_one();
            std::future::pending::<()>().await;
            Ok(())
        })
    }
}

#[tokio::test]
async fn graceful_shutdown_releases_in_flight_work_for_the_next_start() {
    let stuck = Arc::new(Stuck {
        started: tokio::sync::Notify::new(),
    });
    let s = stuck.clone();
    let mut opts = options(&[SECRET]);
    opts.shutdown_grace = Duration::from_millis(200);
    let mut h = Harness::with_handler(move |_| (s as Arc<dyn Handler>, None), opts).await;
    h.deliver("ping", "d-stuck", &ping()).await;
    tokio::time::timeout(Duration::from_secs(5), stuck.started.notified())
        .await
        .expect("handler never started");
    assert_eq!(
        h.store.delivery("d-stuck").await.unwrap().unwrap().status,
        DeliveryStatus::Running
    );
    // When the server shuts down, the in-flight delivery is released, not failed,
    let report = h.stop().await;
    assert_eq!(report.released, 1);
    let rec = h.store.delivery("d-stuck").await.unwrap().unwrap();
    assert_eq!((rec.status, rec.attempts), (DeliveryStatus::Pending, 0));
    // and the HTTP side no longer accepts connections.
    assert!(
        h.http
            .get(format!("{}/healthz", h.base))
            .send()
            .await
            .is_err()
    );
    // A new server on the same database finishes it.
    let probe = Arc::new(ConcurrencyProbe::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server::start(
        listener,
        h.store.clone(),
        probe.clone(),
        None,
        options(&[SECRET]),
    )
    .unwrap();
    h.wait_status("d-stuck", DeliveryStatus::Done).await;
    assert_eq!(*probe.done.lock().unwrap(), vec!["d-stuck".to_string()]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_concurrent_burst_with_redeliveries_stores_each_delivery_once() {
    let probe = Arc::new(ConcurrencyProbe::default());
    let p = probe.clone();
    let mut h =
        Harness::with_handler(move |_| (p as Arc<dyn Handler>, None), options(&[SECRET])).await;
    // Given 40 deliveries sent at once, each of 20 ids twice,
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (http, url) = (h.http.clone(), format!("{}/webhook", h.base));
        sends.spawn(async move {
            let body = serde_json::to_vec(
                &json!({"action": "opened", "repository": {"full_name": format!("o/r{}", i % 20)}}),
            )
            .unwrap();
            let resp = http
                .post(url)
                .header("x-github-event", "issues")
                .header("x-github-delivery", format!("burst-{}", i % 20))
                .header("x-hub-signature-256", sign(SECRET.as_bytes(), &body))
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        });
    }
    let answers = sends.join_all().await;
    // then every request is acknowledged, exactly 20 as new,
    assert!(
        answers.iter().all(|(status, _)| *status == 202),
        "{answers:?}"
    );
    let queued = answers
        .iter()
        .filter(|(_, b)| b["status"] == "queued")
        .count();
    let duplicate = answers
        .iter()
        .filter(|(_, b)| b["status"] == "duplicate")
        .count();
    assert_eq!((queued, duplicate), (20, 20));
    // and each id is processed once.
    for i in 0..20 {
        h.wait_status(&format!("burst-{i}"), DeliveryStatus::Done)
            .await;
    }
    let mut done = probe.done.lock().unwrap().clone();
    assert_eq!(done.len(), 20);
    done.sort();
    done.dedup();
    assert_eq!(done.len(), 20);
    h.stop().await;
}

/// Counts the deliveries a worker was handed, by id.
#[derive(Default)]
struct Handed(Mutex<Vec<String>>);

impl Handler for Handed {
    fn handle<'a>(&'a self, d: &'a Claimed) -> HandlerFuture<'a> {
        Box::pin(async move {
            self.0.lock().unwrap().push(d.delivery_id.clone());
            Ok(())
        })
    }
}

#[tokio::test]
async fn deliveries_the_handlers_would_ignore_are_stored_done_without_a_claim() {
    // Given a server whose worker records what it is handed,
    let handed = Arc::new(Handed::default());
    let probe = handed.clone();
    let mut h = Harness::with_handler(
        move |_| (probe as Arc<dyn Handler>, None),
        options(&[SECRET]),
    )
    .await;
    let push = |git_ref: &str| {
        json!({
            "ref": git_ref, "before": "0".repeat(40), "after": "1".repeat(40),
            "repository": {"id": 1, "name": "r", "full_name": "o/r", "default_branch": "main",
                           "owner": {"login": "o"}},
            "installation": {"id": 7}
        })
    };

    // when a push to a topic branch, a redelivery of it and a push to the
    // default branch arrive,
    let (status, body) = h
        .deliver("push", "d-topic", &push("refs/heads/topic"))
        .await;
    assert_eq!((status, body), (202, json!({"status": "queued"})));
    let (_, again) = h
        .deliver("push", "d-topic", &push("refs/heads/topic"))
        .await;
    h.deliver("push", "d-main", &push("refs/heads/main")).await;
    h.wait_status("d-main", DeliveryStatus::Done).await;

    // then the topic push is stored (deduplicated like any delivery) and
    // done at once, and only the default-branch push reached a worker.
    assert_eq!(again, json!({"status": "duplicate"}));
    let topic = h.store.delivery("d-topic").await.unwrap().unwrap();
    assert_eq!(topic.status, DeliveryStatus::Done);
    assert_eq!(topic.attempts, 0);
    assert_eq!(*handed.0.lock().unwrap(), ["d-main"]);
    h.stop().await;
}
