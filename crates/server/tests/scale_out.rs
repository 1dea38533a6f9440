//! Replicas sharing one database: periodic jobs run on one elected leader
//! only, keep their schedule across a change of leader, and a leader that
//! stops hands over at once; `/readyz` answers 200 only when the database
//! answers with its schema migrated. Each scenario runs on SQLite and, when
//! `PAYDOWN_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_server::periodic::{Job, LEADER_LEASE, LeaderOptions, Periodic};
use paydown_server::store::Store;
use support::TestApp;
use support::postgres::PgSchema;

/// A database for one scenario: a temporary SQLite file or a fresh
/// PostgreSQL schema.
enum Db {
    /// The directory lives as long as the scenario.
    Sqlite(#[allow(dead_code)] tempfile::TempDir, String),
    Postgres(PgSchema),
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = support::db_url(&dir);
        Db::Sqlite(dir, url)
    }

    fn url(&self) -> &str {
        match self {
            Db::Sqlite(_, url) => url,
            Db::Postgres(schema) => &schema.url,
        }
    }

    async fn cleanup(self) {
        if let Db::Postgres(schema) = self {
            schema.drop_schema().await;
        }
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::Db::sqlite();
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(schema) = super::PgSchema::create().await else {
                        return;
                    };
                    let db = super::Db::Postgres(schema);
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

on_both_backends!(
    periodic_jobs_run_on_the_leader_only_and_keep_their_schedule_across_a_handover,
    readyz_answers_only_with_the_database_up_and_migrated,
);

type Runs = Arc<Mutex<Vec<(String, String)>>>;

/// A job recording (job, replica) for every run.
fn recording_job(name: &'static str, every: Duration, replica: &str, runs: &Runs) -> Job {
    let runs = runs.clone();
    let replica = replica.to_owned();
    Job::new(name, every, move || {
        let runs = runs.clone();
        let replica = replica.clone();
        async move {
            runs.lock().unwrap().push((name.to_owned(), replica));
            Ok::<(), String>(())
        }
    })
}

fn replica(store: Store, name: &str, runs: &Runs) -> Periodic {
    let jobs = vec![
        recording_job("often", Duration::from_millis(100), name, runs),
        recording_job("hourly", Duration::from_secs(3600), name, runs),
    ];
    Periodic::spawn(
        store,
        jobs,
        LeaderOptions {
            lease: Duration::from_millis(900),
            holder: name.to_owned(),
        },
    )
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn periodic_jobs_run_on_the_leader_only_and_keep_their_schedule_across_a_handover(db: &Db) {
    // Given two replicas with the same jobs on one database,
    let runs: Runs = Arc::default();
    let a = replica(Store::connect(db.url()).await.unwrap(), "replica-a", &runs);
    let b = replica(Store::connect(db.url()).await.unwrap(), "replica-b", &runs);
    let store = Store::connect(db.url()).await.unwrap();

    // when the frequent job has run a few times,
    wait_until("five runs", || runs.lock().unwrap().len() >= 5).await;

    // then every run was on the one replica holding the lease,
    let leader = store.leader(LEADER_LEASE).await.unwrap().unwrap().holder;
    {
        let runs = runs.lock().unwrap();
        assert!(runs.iter().all(|(_, r)| *r == leader), "{runs:?}");
    }
    // and the store knows when each job last ran, and by whom.
    let hourly = store.periodic_run("hourly").await.unwrap().unwrap();
    assert_eq!(hourly.holder, leader);

    // When the leader shuts down, it gives the lease up,
    let (gone, stays, follower) = if leader == "replica-a" {
        (a, b, "replica-b")
    } else {
        (b, a, "replica-a")
    };
    gone.shutdown().await;
    let handed_over = Instant::now();
    let before = runs.lock().unwrap().len();

    // so the other replica leads well within one lease (900 ms),
    wait_until("the follower to run the job", || {
        runs.lock().unwrap()[before..]
            .iter()
            .any(|(_, r)| r == follower)
    })
    .await;
    assert!(
        handed_over.elapsed() < Duration::from_millis(900),
        "hand-over took {:?}",
        handed_over.elapsed()
    );
    assert_eq!(
        store.leader(LEADER_LEASE).await.unwrap().unwrap().holder,
        follower
    );
    // and every run after the hand-over is the new leader's,
    let runs_after: Vec<_> = runs.lock().unwrap()[before..].to_vec();
    assert!(
        runs_after.iter().all(|(_, r)| r == follower),
        "{runs_after:?}"
    );
    // and the hourly job, already run by the old leader, does not run again.
    let hourly_runs = runs
        .lock()
        .unwrap()
        .iter()
        .filter(|(job, _)| job == "hourly")
        .count();
    assert_eq!(hourly_runs, 1);
    stays.shutdown().await;
    assert!(store.leader(LEADER_LEASE).await.unwrap().is_none());
    store.close().await;
}

async fn readyz_answers_only_with_the_database_up_and_migrated(db: &Db) {
    // Given a running server on a migrated database,
    let fake = FakeGitHub::start().await;
    let app = TestApp::start_at(&fake, db.url(), Duration::from_secs(30)).await;
    let readyz = format!("{}/readyz", app.base);

    // then it is ready, at the schema version this binary migrates to,
    let resp = reqwest::get(&readyz).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let version = body["schema_version"].as_i64().unwrap();
    assert!(version >= 3, "{body}");

    // when the last migration is missing (an older schema), it is not ready
    // and says why, while /healthz (liveness) stays up;
    exec(
        db.url(),
        &format!("UPDATE _sqlx_migrations SET success = FALSE WHERE version = {version}"),
    )
    .await;
    let resp = reqwest::get(&readyz).await.unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "database schema not migrated", "{body}");
    assert_eq!(body["expected_version"], version);
    let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    exec(
        db.url(),
        &format!("UPDATE _sqlx_migrations SET success = TRUE WHERE version = {version}"),
    )
    .await;
    assert_eq!(reqwest::get(&readyz).await.unwrap().status().as_u16(), 200);

    // and when the database is gone, it is not ready either.
    app.store.close().await;
    let resp = reqwest::get(&readyz).await.unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "database unavailable", "{body}");
}

/// Runs `sql` on the database at `url` behind the store's back.
async fn exec(url: &str, sql: &str) {
    use sqlx::Connection;
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}
