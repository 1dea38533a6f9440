//! Write pacing shared through the store: several replicas (each its own
//! connection pool to one database), each with several workers, taking
//! write slots of one installation at once never hand out the same budget
//! twice. SQLite (one file) and PostgreSQL (skipped, loudly, without
//! `PAYDOWN_TEST_POSTGRES_URL`).

mod support;

use std::time::Duration;

use paydown_github::Clock;
use paydown_server::pacing::{Pacer, PacingLimits, Slot};
use paydown_server::store::Store;
use support::postgres::PgSchema;

const INSTALLATION: u64 = 7;

/// Content-creation limits only (no one-a-second rule), so the minute
/// window is what binds.
fn limits(max_wait: Duration) -> PacingLimits {
    PacingLimits {
        min_interval: Duration::ZERO,
        margin: Duration::ZERO,
        max_wait,
        ..PacingLimits::default()
    }
}

/// Two replicas × three workers each take 40 content slots of one
/// installation concurrently; returns every slot handed out.
async fn race(url: &str, clock: &Clock) -> Vec<i64> {
    let mut tasks = tokio::task::JoinSet::new();
    for _replica in 0..2 {
        let store = Store::connect(url).await.unwrap();
        let pacer = Pacer::new(store, clock.clone(), limits(Duration::from_secs(3600)));
        for _worker in 0..3 {
            let pacer = pacer.clone();
            tasks.spawn(async move {
                let mut got = Vec::new();
                for _ in 0..40 {
                    match pacer.reserve(INSTALLATION, true).await.unwrap() {
                        Slot::At(at) => got.push(at),
                        Slot::Busy(at) => panic!("busy until {at} within an hour's wait"),
                    }
                }
                got
            });
        }
    }
    let mut all = Vec::new();
    while let Some(got) = tasks.join_next().await {
        all.extend(got.unwrap());
    }
    all.sort_unstable();
    all
}

async fn replicas_share_one_budget(url: &str) {
    // Given one simulated clock and 240 content writes wanted at once by
    // six workers of two replicas,
    let clock = Clock::simulated(chrono::Utc::now());
    let t0 = clock.now_ms();
    // when they all take slots,
    let slots = race(url, &clock).await;
    // then 80 go out now, 80 a minute later and 80 a minute after that:
    // no rolling minute ever holds more than 80,
    assert_eq!(slots.len(), 240);
    assert_eq!(slots.iter().filter(|&&at| at == t0).count(), 80);
    assert_eq!(slots.iter().filter(|&&at| at == t0 + 60_000).count(), 80);
    assert_eq!(slots.iter().filter(|&&at| at == t0 + 120_000).count(), 80);
    for (i, &at) in slots.iter().enumerate() {
        let in_minute = slots[i..].iter().take_while(|&&b| b < at + 60_000).count();
        assert!(
            in_minute <= 80,
            "{in_minute} writes in the minute from {at}"
        );
    }
    // and a write that would have to wait longer than it may is refused
    // with the time the budget frees, reserving nothing,
    let store = Store::connect(url).await.unwrap();
    let impatient = Pacer::new(
        store.clone(),
        clock.clone(),
        limits(Duration::from_secs(10)),
    );
    assert_eq!(
        impatient.reserve(INSTALLATION, true).await.unwrap(),
        Slot::Busy(t0 + 180_000)
    );
    // an edit (not content creation) waits its turn behind the slots
    // already handed out, and another installation's create goes out at
    // once.
    assert_eq!(
        impatient.reserve(INSTALLATION, false).await.unwrap(),
        Slot::Busy(t0 + 120_000)
    );
    assert_eq!(
        impatient.reserve(INSTALLATION + 1, true).await.unwrap(),
        Slot::At(t0)
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_replicas_share_one_write_budget() {
    let dir = tempfile::tempdir().unwrap();
    replicas_share_one_budget(&support::db_url(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_share_one_write_budget() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    replicas_share_one_budget(&schema.url).await;
    schema.drop_schema().await;
}

/// A paced job's "not before" time: a delivery queued for later, or
/// deferred by its worker, is not claimed before then, costs no attempt,
/// and idle workers can see when it is due.
#[tokio::test]
async fn a_delivery_waits_for_its_run_at_and_a_deferral_costs_no_attempt() {
    use paydown_server::store::{DeliveryStatus, NewDelivery};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&support::db_url(&dir)).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let job = |id: &str| NewDelivery {
        settled: false,
        delivery_id: id.to_string(),
        event: "paydown.sync".to_string(),
        action: None,
        repo_key: Some("o/r".to_string()),
        installation_id: Some(1),
        payload: b"{}".to_vec(),
    };
    // Given a job queued to run an hour from now,
    store
        .enqueue_at(job("later"), Some(now + 3_600_000))
        .await
        .unwrap();
    let lease = Duration::from_secs(30);
    // then it is not claimed before then, and is the next run,
    assert_eq!(store.claim_due("w", lease, now).await.unwrap(), None);
    assert_eq!(store.next_run_at().await.unwrap(), Some(now + 3_600_000));
    // but is, once its time has come;
    let claim = store
        .claim_due("w", lease, now + 3_600_000)
        .await
        .unwrap()
        .expect("due");
    // when its worker defers it another hour (its write budget spent),
    store
        .defer(&claim, now + 7_200_000, "write budget spent")
        .await
        .unwrap();
    // then it waits again, pending, with no attempt counted and the reason
    // shown.
    assert_eq!(
        store.claim_due("w", lease, now + 3_600_000).await.unwrap(),
        None
    );
    let record = store.delivery("later").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Pending);
    assert_eq!(record.attempts, 0);
    assert_eq!(record.run_at.timestamp_millis(), now + 7_200_000);
    assert_eq!(record.last_error.as_deref(), Some("write budget spent"));
    let again = store
        .claim_due("w", lease, now + 7_200_000)
        .await
        .unwrap()
        .expect("due again");
    assert_eq!(again.attempts, 0);
    store.close().await;
}
