//! A rate limit's quiet window shared across replicas through the store:
//! GitHub limits the installation, not the process it answered, so when
//! one replica is told `Retry-After`, another replica's next request for
//! that installation waits too. Two replicas here are two App clients
//! (each its own connection pool, token cache and in-process quiet map)
//! with a store-backed pacer over one database, against one fake GitHub
//! that records every request sent inside a window it announced.
//! SQLite (one file) and PostgreSQL (skipped, loudly, without
//! `PAYDOWN_TEST_POSTGRES_URL`).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_github::{Clock, GitHubError};
use paydown_server::pacing::{Pacer, PacingLimits};
use paydown_server::store::Store;
use serde_json::Value;
use support::postgres::PgSchema;

const REPO_ROUTE: &str = "/repos/octo-org/octo-repo";

/// One replica: its own store pool and App client, sharing the database.
async fn replica(fake: &FakeGitHub, url: &str) -> (Store, paydown_github::Client) {
    let store = Store::connect(url).await.unwrap();
    let pacer = Pacer::new(store.clone(), Clock::system(), PacingLimits::default());
    let app = support::github_app(fake).with_write_pacer(Arc::new(pacer));
    let client = app.installation_client(1).await.unwrap();
    (store, client)
}

async fn one_replicas_retry_after_holds_the_other_back(url: &str) {
    // Given two replicas of one installation, both with a token already,
    let fake = FakeGitHub::start().await;
    let issue = fake
        .default_repo()
        .add_issue(fake_github::NewIssue::new("debt"));
    let (store_a, a) = replica(&fake, url).await;
    let (_store_b, b) = replica(&fake, url).await;
    let _: Value = a.get_json(REPO_ROUTE).await.unwrap();
    let _: Value = b.get_json(REPO_ROUTE).await.unwrap();
    // and GitHub about to answer replica A's next read with its secondary
    // limit and `retry-after: 2`,
    fake.secondary_rate_limit_next_on("GET", &format!("{REPO_ROUTE}/issues"), 1, 2);

    // when A reads (is told to wait, waits and retries),
    let a_task = tokio::spawn({
        let a = a.clone();
        async move { a.get_json::<Value>(&format!("{REPO_ROUTE}/issues")).await }
    });
    // and, once A has recorded the window it was told (a request B sent
    // before that was already on its way), B reads something else of the
    // installation and then writes,
    let told = Instant::now();
    while store_a.quiet_until(1).await.unwrap().is_none() {
        assert!(
            told.elapsed() < Duration::from_secs(10),
            "A was never limited"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let b_read: Result<Value, GitHubError> = b.get_json(&format!("{REPO_ROUTE}/labels")).await;
    let b_write: Result<Value, GitHubError> = b
        .patch_json(
            &format!("{REPO_ROUTE}/issues/{issue}"),
            &serde_json::json!({"title": "edited"}),
        )
        .await;

    // then B sent nothing inside it (it waited it out: the fake saw no request
    // of the installation before the window ended),
    assert!(a_task.await.unwrap().is_ok());
    b_read.expect("B's read, after the window");
    b_write.expect("B's write, after the window");
    let violations = fake.retry_after_violations();
    assert!(violations.is_empty(), "{violations:?}");
    // and the window does not hold back other installations.
    assert_eq!(store_a.quiet_until(2).await.unwrap(), None);
    store_a.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_replicas_retry_after_holds_the_other_back() {
    let dir = tempfile::tempdir().unwrap();
    one_replicas_retry_after_holds_the_other_back(&support::db_url(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_replicas_retry_after_holds_the_other_back() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    one_replicas_retry_after_holds_the_other_back(&schema.url).await;
    schema.drop_schema().await;
}

#[tokio::test]
async fn a_quiet_window_only_ever_moves_later() {
    // Given a window recorded until t+5s,
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&support::db_url(&dir)).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    store.note_quiet_until(3, now + 5_000).await.unwrap();
    // when a shorter one is told afterwards (another replica's older
    // answer), then the longer stays; a longer one replaces it.
    store.note_quiet_until(3, now + 1_000).await.unwrap();
    assert_eq!(store.quiet_until(3).await.unwrap(), Some(now + 5_000));
    store.note_quiet_until(3, now + 9_000).await.unwrap();
    assert_eq!(store.quiet_until(3).await.unwrap(), Some(now + 9_000));
}
