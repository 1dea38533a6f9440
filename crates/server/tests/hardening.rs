//! Issue 16's smaller server items, through the real router, workers,
//! SQLite store and App client against the fake GitHub:
//! - every job's installation token is scoped to its repository and the
//!   permissions it needs;
//! - while `GET /app` fails no bot's markers are trusted: the delivery
//!   fails and is retried, and goes through once GitHub answers;
//! - `/metrics` can live on a separate listener;
//! - the queue's SQL is not logged at debug level on every poll.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_github::{FakeGitHub, NewIssue};
use paydown_server::Server;
use paydown_server::handlers::GitHubHandler;
use paydown_server::store::{DeliveryStatus, Store};
use support::{REPO, TestApp, ZEROS, debt_issues, github_app, server_options};

#[tokio::test]
async fn a_push_syncs_with_a_token_for_its_repository_and_the_permissions_a_sync_needs() {
    // Given an installation with two repositories and a push to one,
    let fake = FakeGitHub::start().await;
    fake.add_repo("octo-org", "other-repo", 1);
    fake.repo(REPO)
        .set_files("main", &[("src/a.rs", "// TODO: flush the cache\n")]);
    let push = fake.push_payload(REPO, "main", ZEROS, "alice");
    let app = TestApp::start(&fake).await;

    // when the push is handled,
    app.post("push", "push-scoped", &push).await;
    app.settle().await;
    assert_eq!(debt_issues(&fake).len(), 1);

    // then every token it used names that one repository and no more than
    // a sync needs (no checks, pull requests read-only),
    let requests = fake.token_requests();
    assert!(!requests.is_empty());
    for (installation, body) in &requests {
        assert_eq!(*installation, 1);
        assert_eq!(
            body,
            &serde_json::json!({
                "repositories": ["octo-repo"],
                "permissions": {
                    "contents": "read",
                    "issues": "write",
                    "metadata": "read",
                    "pull_requests": "read",
                },
            }),
        );
    }
    // and nothing was asked of the other repository.
    assert!(
        fake.requests_matching("", "/repos/octo-org/other-repo")
            .is_empty()
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn while_github_cannot_say_who_the_bot_is_a_pull_request_waits_and_is_retried() {
    // Given an open pull request adding debt, another App's comment that
    // carries paydown's report marker, and GitHub refusing `GET /app`,
    let fake = FakeGitHub::start().await;
    let handle = fake.repo(REPO);
    handle.set_files("main", &[("src/a.rs", "fn main() {}\n")]);
    handle.set_files(
        "feature",
        &[("src/a.rs", "fn main() {}\n// TODO: a new debt item\n")],
    );
    let pr = handle.add_pull_request(NewIssue::new("Add debt"), "feature");
    let forged_body =
        "<!-- paydown:pr-debt {\"added\":0,\"removed\":0,\"edited\":0} -->\nforged report";
    let forged = handle.add_comment(pr, "other-app[bot]", forged_body);
    fake.fail_next_on("GET", "/app", 1, 404);
    let app = TestApp::start(&fake).await;

    // when the pull request is delivered,
    let payload = fake.pull_request_payload(REPO, pr, "opened", "alice", None);
    app.post("pull_request", "pr-identity", &payload).await;
    app.settle().await;

    // then GitHub was asked who the bot is again after the failure (not
    // cached as a failure), the forged comment was not adopted (left as
    // it was) and paydown's own report was posted as a new comment.
    assert!(fake.requests_matching("GET", "/app").len() >= 2);
    let record = app.store.delivery("pr-identity").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Done, "{record:?}");
    // (one failed attempt, for the identity, then a retry that went through)
    assert_eq!(record.attempts, 1, "{record:?}");
    assert!(
        record
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no bot's markers are trusted")),
        "{record:?}"
    );
    let forged_now = fake.repo(REPO).comment(forged).unwrap();
    assert_eq!(forged_now.body, forged_body);
    let comments = fake.take_comments(REPO, pr);
    assert!(
        comments
            .iter()
            .any(|c| c.user == "paydown[bot]" && c.body.contains("<!-- paydown:pr-debt ")),
        "{comments:#?}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_mention_command_while_github_cannot_name_the_app_is_retried_not_dropped() {
    // Given an issue, a comment addressing the bot by its @slug, and
    // GitHub refusing `GET /app` once,
    let fake = FakeGitHub::start().await;
    let issue = fake.repo(REPO).add_issue(NewIssue::new("Question"));
    let id = fake.repo(REPO).add_comment(issue, "alice", "@paydown help");
    let payload = fake.issue_comment_payload(REPO, id, "created", None);
    fake.fail_next_on("GET", "/app", 1, 404);
    let app = TestApp::start(&fake).await;

    // when the comment is delivered,
    app.post("issue_comment", "mention-identity", &payload)
        .await;
    app.settle().await;

    // then the delivery failed once for the unknown identity and was
    // retried (not taken for someone else's mention and dropped),
    let record = app
        .store
        .delivery("mention-identity")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, DeliveryStatus::Done, "{record:?}");
    assert_eq!(record.attempts, 1, "{record:?}");
    // and the retry answered the command.
    let posted = fake.take_comments(REPO, issue);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert!(
        posted[0].body.contains("accept-drift"),
        "{}",
        posted[0].body
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn metrics_on_a_separate_listener_are_not_served_on_the_main_one() {
    // Given a server started with a metrics listener,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&support::db_url(&dir)).await.unwrap();
    let github = github_app(&fake);
    let main = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server::start_with_metrics(
        main,
        Some(metrics),
        store.clone(),
        Arc::new(GitHubHandler::new(github.clone(), store.clone())),
        Some(github.stats()),
        server_options(Duration::from_secs(30)),
    )
    .unwrap();
    let main_base = format!("http://{}", server.local_addr());
    let metrics_base = format!("http://{}", server.metrics_addr().unwrap());
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap() }
    };

    // then /metrics answers there (Prometheus text, unauthenticated), with
    // the probes,
    let m = get(format!("{metrics_base}/metrics")).await;
    assert_eq!(m.status(), 200);
    let text = m.text().await.unwrap();
    assert!(text.contains("# TYPE"), "{text}");
    assert_eq!(get(format!("{metrics_base}/healthz")).await.status(), 200);
    // and not on the main listener, which still takes webhooks and probes,
    assert_eq!(get(format!("{main_base}/metrics")).await.status(), 404);
    assert_eq!(get(format!("{main_base}/healthz")).await.status(), 200);
    // while the metrics listener takes no webhook.
    let posted = http
        .post(format!("{metrics_base}/webhook"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 404);
    server.shutdown().await.unwrap();
}

/// Collects everything the global subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn polling_an_empty_queue_logs_no_sql_at_debug_level() {
    // Given logs captured at debug level from every thread (sqlx's SQLite
    // worker runs on its own),
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let dir = tempfile::tempdir().unwrap();
    let url = support::db_url(&dir);
    let store = Store::connect(&url).await.unwrap();
    captured.clear();

    // when workers poll the empty queue many times,
    for _ in 0..20 {
        assert!(
            store
                .claim("w", Duration::from_secs(30))
                .await
                .unwrap()
                .is_none()
        );
    }

    // then no statement was logged,
    let text = captured.text();
    assert!(!text.contains("sqlx::query"), "{text}");
    // while the same capture does see sqlx's statement log on a pool with
    // sqlx's defaults (so the check above can fail).
    let plain = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("SELECT 1").execute(&plain).await.unwrap();
    plain.close().await;
    assert!(
        captured.text().contains("sqlx::query"),
        "{}",
        captured.text()
    );
    store.close().await;
}
