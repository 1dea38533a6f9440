//! Store scenarios, each written once and run against SQLite (a file in a
//! temporary directory) and PostgreSQL (a fresh schema per test in the
//! database named by `PAYDOWN_TEST_POSTGRES_URL`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use paydown_server::store::{
    DeliveryStatus, Enqueued, FailOutcome, InstallationRepo, NewDelivery, RepoStateKey,
    RepoStatePrefix, RetryPolicy, Store, StoreError,
};
use sqlx::Connection;
use tokio::sync::Mutex;

const LEASE: Duration = Duration::from_secs(30);

#[path = "support/postgres.rs"]
mod pg;

/// A database for one test; dropping it drops a temporary SQLite directory.
/// PostgreSQL schemas are dropped by [`TestDb::cleanup`] when the scenario
/// passed (a failed one leaves its schema for inspection).
enum TestDb {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres(pg::PgSchema),
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state").join("paydown.db");
        TestDb::Sqlite {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            _dir: dir,
        }
    }

    /// `None` when PostgreSQL tests are skipped (no `PAYDOWN_TEST_POSTGRES_URL`).
    async fn postgres() -> Option<TestDb> {
        pg::PgSchema::create().await.map(TestDb::Postgres)
    }

    fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } => url,
            TestDb::Postgres(schema) => &schema.url,
        }
    }

    /// A new connection to the same database (a restart or another replica).
    async fn store(&self) -> Store {
        Store::connect(self.url()).await.expect("connect store")
    }

    async fn cleanup(self) {
        if let TestDb::Postgres(schema) = self {
            schema.drop_schema().await;
        }
    }
}

fn delivery(id: &str, repo: Option<&str>) -> NewDelivery {
    NewDelivery {
        settled: false,
        delivery_id: id.to_owned(),
        event: "push".to_owned(),
        action: None,
        repo_key: repo.map(str::to_owned),
        installation_id: Some(42),
        payload: format!("{{\"delivery\":\"{id}\"}}").into_bytes(),
    }
}

async fn claim_id(store: &Store, worker: &str) -> Option<String> {
    store
        .claim(worker, LEASE)
        .await
        .expect("claim")
        .map(|c| c.delivery_id)
}

/// Runs every listed scenario once per backend.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else {
                        return;
                    };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

scenarios!(
    same_delivery_twice_is_stored_once,
    a_batch_is_stored_in_one_go_with_dedupe,
    parallel_intake_writers_store_overlapping_batches_once,
    deliveries_are_claimed_oldest_first_with_their_payload,
    one_repository_runs_one_delivery_at_a_time,
    expired_lease_is_reclaimed_and_the_old_claim_cannot_finish,
    heartbeat_keeps_the_lease,
    delivery_that_keeps_killing_workers_is_dead_lettered,
    old_finished_deliveries_are_pruned,
    failures_retry_with_backoff_then_dead_letter_with_last_error,
    released_delivery_is_ready_again_without_an_attempt,
    concurrent_workers_claim_each_delivery_once_and_serialise_repositories,
    reconnecting_keeps_the_data_and_migrates_once,
    installations_and_repository_state_round_trip,
);

async fn same_delivery_twice_is_stored_once(db: &TestDb) {
    // Given a store
    let store = db.store().await;
    // When GitHub sends (and re-sends) the same delivery
    assert_eq!(
        store.enqueue(delivery("d-1", Some("o/r"))).await.unwrap(),
        Enqueued::New
    );
    assert_eq!(
        store.enqueue(delivery("d-1", Some("o/r"))).await.unwrap(),
        Enqueued::Duplicate
    );
    // ... and also concurrently, from several handlers at once
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.enqueue(delivery("d-2", None)).await.unwrap()
        }));
    }
    let mut new = 0;
    for task in tasks {
        if task.await.unwrap() == Enqueued::New {
            new += 1;
        }
    }
    // Then exactly one row exists per delivery id
    assert_eq!(new, 1);
    let counts = store.counts_by_status().await.unwrap();
    assert_eq!(counts.pending, 2);
    assert_eq!(store.queue_depth().await.unwrap(), 2);
}

async fn a_batch_is_stored_in_one_go_with_dedupe(db: &TestDb) {
    // Given one delivery already stored
    let store = db.store().await;
    store.enqueue(delivery("old", None)).await.unwrap();
    // When a batch repeats it, and repeats one of its own ids
    let results = store
        .enqueue_batch(&[
            delivery("b1", Some("o/a")),
            delivery("old", None),
            delivery("b2", Some("o/b")),
            delivery("b1", Some("o/a")),
        ])
        .await
        .unwrap();
    // Then each result says whether that entry was stored, in input order
    assert_eq!(
        results,
        [
            Enqueued::New,
            Enqueued::Duplicate,
            Enqueued::New,
            Enqueued::Duplicate
        ]
    );
    assert_eq!(store.counts_by_status().await.unwrap().pending, 3);
    assert!(store.enqueue_batch(&[]).await.unwrap().is_empty());
    // And the batch is claimed in its order after the older delivery
    assert_eq!(claim_id(&store, "w").await.as_deref(), Some("old"));
    assert_eq!(claim_id(&store, "w").await.as_deref(), Some("b1"));
    assert_eq!(claim_id(&store, "w").await.as_deref(), Some("b2"));
}

async fn parallel_intake_writers_store_overlapping_batches_once(db: &TestDb) {
    // Given two intake writers, each with a connection of its own
    let store = db.store().await;
    let (mut a, mut b) = (store.batch_writer(), store.batch_writer());
    for round in 0..5 {
        // When both store the same 40 deliveries at once, in opposite
        // orders (a redelivery burst racing the originals)
        let forward: Vec<NewDelivery> = (0..40)
            .map(|i| delivery(&format!("r{round}-{i:02}"), Some("o/r")))
            .collect();
        let backward: Vec<NewDelivery> = forward.iter().rev().cloned().collect();
        let (fa, fb) = tokio::join!(a.enqueue_batch(&forward), b.enqueue_batch(&backward));
        // Then neither fails (no deadlock between their row locks)
        let (fa, fb) = (fa.expect("writer a"), fb.expect("writer b"));
        // And each delivery is new for exactly one of them
        for (i, first) in fa.iter().enumerate() {
            let second = fb[fb.len() - 1 - i];
            assert!(
                (*first == Enqueued::New) ^ (second == Enqueued::New),
                "round {round}, delivery {i}: {first:?} and {second:?}"
            );
        }
    }
    // And the database holds each delivery once, written by both writers'
    // own connections yet visible through the store's pool
    assert_eq!(store.counts_by_status().await.unwrap().pending, 200);
}

async fn deliveries_are_claimed_oldest_first_with_their_payload(db: &TestDb) {
    // Given three deliveries of different repositories and one without a key
    let store = db.store().await;
    for (id, repo) in [
        ("first", Some("o/a")),
        ("second", Some("o/b")),
        ("third", None),
        ("fourth", Some("o/c")),
    ] {
        store.enqueue(delivery(id, repo)).await.unwrap();
    }
    // When a worker claims repeatedly
    let first = store.claim("w1", LEASE).await.unwrap().expect("a delivery");
    // Then it gets them in arrival order, with everything a handler needs
    assert_eq!(first.delivery_id, "first");
    assert_eq!(first.event, "push");
    assert_eq!(first.repo_key.as_deref(), Some("o/a"));
    assert_eq!(first.installation_id, Some(42));
    assert_eq!(first.payload, b"{\"delivery\":\"first\"}");
    assert_eq!(first.attempts, 0);
    assert_eq!(first.worker_id, "w1");
    assert_eq!(claim_id(&store, "w1").await.as_deref(), Some("second"));
    assert_eq!(claim_id(&store, "w1").await.as_deref(), Some("third"));
    assert_eq!(claim_id(&store, "w1").await.as_deref(), Some("fourth"));
    assert_eq!(claim_id(&store, "w1").await, None);
    let record = store.delivery("first").await.unwrap().expect("stored");
    assert_eq!(record.status, DeliveryStatus::Running);
    assert_eq!(record.lease_owner.as_deref(), Some("w1"));
    assert!(record.lease_expires_at.is_some());
    // And completing one finishes it
    store.complete(&first).await.unwrap();
    let record = store.delivery("first").await.unwrap().expect("stored");
    assert_eq!(record.status, DeliveryStatus::Done);
    assert!(record.finished_at.is_some());
    assert_eq!(store.queue_depth().await.unwrap(), 3);
    assert_eq!(store.delivery("unknown").await.unwrap(), None);
}

async fn one_repository_runs_one_delivery_at_a_time(db: &TestDb) {
    // Given two deliveries for o/a and one for o/b
    let store = db.store().await;
    store.enqueue(delivery("a1", Some("o/a"))).await.unwrap();
    store.enqueue(delivery("a2", Some("o/a"))).await.unwrap();
    store.enqueue(delivery("b1", Some("o/b"))).await.unwrap();
    // When a1 is leased
    let a1 = store.claim("w1", LEASE).await.unwrap().expect("a1");
    assert_eq!(a1.delivery_id, "a1");
    // Then another worker gets o/b's delivery, not a2
    assert_eq!(claim_id(&store, "w2").await.as_deref(), Some("b1"));
    assert_eq!(claim_id(&store, "w3").await, None);
    // And a2 becomes claimable once a1 is done
    store.complete(&a1).await.unwrap();
    assert_eq!(claim_id(&store, "w3").await.as_deref(), Some("a2"));
}

async fn expired_lease_is_reclaimed_and_the_old_claim_cannot_finish(db: &TestDb) {
    // Given a delivery leased briefly by a worker that then stalls
    let store = db.store().await;
    store.enqueue(delivery("d", Some("o/a"))).await.unwrap();
    store.enqueue(delivery("next", Some("o/a"))).await.unwrap();
    let stale = store
        .claim("w-old", Duration::from_millis(300))
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(claim_id(&store, "w-new").await, None);
    // When the lease expires
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Then another worker takes the same delivery over (it is the oldest)
    let fresh = store
        .claim("w-new", LEASE)
        .await
        .unwrap()
        .expect("reclaimed");
    assert_eq!(fresh.delivery_id, "d");
    // (the stalled attempt counts as a failure)
    assert_eq!(fresh.attempts, 1);
    assert!(fresh.lease_token > stale.lease_token);
    // And the repository stays serialised under the new lease
    assert_eq!(claim_id(&store, "w-third").await, None);
    // And the stalled worker can neither complete, fail, extend nor release it
    assert!(matches!(
        store.complete(&stale).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.fail(&stale, "late").await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.extend_lease(&stale, LEASE).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.release(&stale).await,
        Err(StoreError::LeaseLost { .. })
    ));
    let record = store.delivery("d").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Running);
    assert_eq!(record.lease_owner.as_deref(), Some("w-new"));
    assert_eq!(record.attempts, 1);
    assert_eq!(
        record.last_error.as_deref(),
        Some("lease expired: worker w-old stopped or stalled before finishing")
    );
    // While the new holder completes it normally
    store.complete(&fresh).await.unwrap();
    assert_eq!(
        store.delivery("d").await.unwrap().unwrap().status,
        DeliveryStatus::Done
    );
    // And a finished claim cannot be completed twice
    assert!(matches!(
        store.complete(&fresh).await,
        Err(StoreError::LeaseLost { .. })
    ));
}

async fn delivery_that_keeps_killing_workers_is_dead_lettered(db: &TestDb) {
    // Given a policy of 2 attempts and a payload whose workers never finish
    let policy = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    let store = db.store().await.with_retry_policy(policy);
    store
        .enqueue(delivery("poison", Some("o/a")))
        .await
        .unwrap();
    let short = Duration::from_millis(200);
    store.claim("w1", short).await.unwrap().expect("first try");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = store.claim("w2", short).await.unwrap().expect("second try");
    assert_eq!(second.attempts, 1);
    // When the last allowed attempt's lease expires too
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Then the next claim dead-letters it instead of running it again
    assert_eq!(claim_id(&store, "w3").await, None);
    let record = store.delivery("poison").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Dead);
    assert_eq!(record.attempts, 2);
    assert_eq!(
        record.last_error.as_deref(),
        Some("lease expired: worker w2 stopped or stalled before finishing")
    );
    assert!(matches!(
        store.complete(&second).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert_eq!(store.queue_depth().await.unwrap(), 0);
}

async fn old_finished_deliveries_are_pruned(db: &TestDb) {
    // Given a done, a dead and a pending delivery
    let store = db.store().await.with_retry_policy(RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    });
    store.enqueue(delivery("done", Some("o/a"))).await.unwrap();
    store.enqueue(delivery("dead", Some("o/b"))).await.unwrap();
    store
        .enqueue(delivery("pending", Some("o/c")))
        .await
        .unwrap();
    let done = store.claim("w", LEASE).await.unwrap().unwrap();
    store.complete(&done).await.unwrap();
    let dead = store.claim("w", LEASE).await.unwrap().unwrap();
    store.fail(&dead, "bad payload").await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    // When done deliveries older than a day are pruned, nothing goes
    assert_eq!(
        store.prune_done(Duration::from_secs(86_400)).await.unwrap(),
        0
    );
    // When those older than 10 ms are pruned
    assert_eq!(
        store.prune_done(Duration::from_millis(10)).await.unwrap(),
        1
    );
    // Then only the done one is gone
    assert_eq!(store.delivery("done").await.unwrap(), None);
    assert!(store.delivery("dead").await.unwrap().is_some());
    assert!(store.delivery("pending").await.unwrap().is_some());
}

async fn heartbeat_keeps_the_lease(db: &TestDb) {
    // Given a short lease that the worker extends while working
    let store = db.store().await;
    store.enqueue(delivery("long", Some("o/a"))).await.unwrap();
    let claim = store
        .claim("w1", Duration::from_millis(300))
        .await
        .unwrap()
        .expect("claimed");
    store.extend_lease(&claim, LEASE).await.unwrap();
    // When the original lease would have expired
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Then nobody else can take it, and the holder still completes it
    assert_eq!(claim_id(&store, "w2").await, None);
    store.complete(&claim).await.unwrap();
}

async fn failures_retry_with_backoff_then_dead_letter_with_last_error(db: &TestDb) {
    // Given a policy of 3 attempts, 400 ms doubling, capped at 600 ms
    let policy = RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(400),
        cap: Duration::from_millis(600),
    };
    let store = db.store().await.with_retry_policy(policy);
    store.enqueue(delivery("flaky", Some("o/a"))).await.unwrap();

    // When the first attempt fails
    let claim = store.claim("w1", LEASE).await.unwrap().expect("claimed");
    let outcome = store.fail(&claim, "boom 1").await.unwrap();
    // Then it is scheduled after the base delay (jittered into its upper
    // half) and not claimable before
    let FailOutcome::Retry { attempts: 1, delay } = outcome else {
        panic!("{outcome:?}")
    };
    assert!((200..=400).contains(&delay.as_millis()), "{delay:?}");
    let record = store.delivery("flaky").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Retry);
    assert_eq!(record.attempts, 1);
    assert_eq!(record.last_error.as_deref(), Some("boom 1"));
    assert_eq!(
        (record.run_at - record.updated_at).num_milliseconds(),
        i64::try_from(delay.as_millis()).unwrap(),
        "run_at is now + backoff"
    );
    assert_eq!(claim_id(&store, "w1").await, None);
    assert_eq!(store.queue_depth().await.unwrap(), 1);

    // When it is due again and fails a second time
    tokio::time::sleep(Duration::from_millis(450)).await;
    let claim = store.claim("w1", LEASE).await.unwrap().expect("due again");
    assert_eq!(claim.attempts, 1);
    let outcome = store.fail(&claim, "boom 2").await.unwrap();
    // Then the delay doubled but stays under the cap (jittered: its
    // upper half)
    let FailOutcome::Retry { attempts: 2, delay } = outcome else {
        panic!("{outcome:?}")
    };
    assert!((300..=600).contains(&delay.as_millis()), "{delay:?}");

    // When the third and last attempt fails
    tokio::time::sleep(Duration::from_millis(650)).await;
    let claim = store.claim("w1", LEASE).await.unwrap().expect("due again");
    assert_eq!(claim.attempts, 2);
    let outcome = store.fail(&claim, "boom 3").await.unwrap();
    // Then it is dead, keeps the last error and is never claimed again
    assert_eq!(outcome, FailOutcome::Dead { attempts: 3 });
    let record = store.delivery("flaky").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Dead);
    assert_eq!(record.attempts, 3);
    assert_eq!(record.last_error.as_deref(), Some("boom 3"));
    assert!(record.finished_at.is_some());
    assert_eq!(claim_id(&store, "w1").await, None);
    assert_eq!(store.queue_depth().await.unwrap(), 0);
    assert_eq!(store.counts_by_status().await.unwrap().dead, 1);
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].delivery_id, "flaky");
    assert_eq!(dead[0].last_error.as_deref(), Some("boom 3"));
}

async fn released_delivery_is_ready_again_without_an_attempt(db: &TestDb) {
    // Given a claimed delivery
    let store = db.store().await;
    store.enqueue(delivery("d", Some("o/a"))).await.unwrap();
    let claim = store.claim("w1", LEASE).await.unwrap().expect("claimed");
    // When the worker shuts down and releases it
    store.release(&claim).await.unwrap();
    // Then it is pending, no attempt was counted, and it is claimable at once
    let record = store.delivery("d").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Pending);
    assert_eq!(record.attempts, 0);
    assert_eq!(record.last_error, None);
    let again = store.claim("w2", LEASE).await.unwrap().expect("claimable");
    assert_eq!(again.delivery_id, "d");
    assert_eq!(again.attempts, 0);
    // And the released claim cannot complete it any more
    assert!(matches!(
        store.complete(&claim).await,
        Err(StoreError::LeaseLost { .. })
    ));
}

async fn concurrent_workers_claim_each_delivery_once_and_serialise_repositories(db: &TestDb) {
    const DELIVERIES: usize = 200;
    const REPOS: usize = 5;
    const WORKERS: usize = 8;
    // Given 200 deliveries over 5 repositories and 4 connections (replicas
    // on PostgreSQL) with 2 workers each
    let seed = db.store().await;
    for i in 0..DELIVERIES {
        let repo = format!("o/r{}", i % REPOS);
        seed.enqueue(delivery(&format!("d{i:03}"), Some(&repo)))
            .await
            .unwrap();
    }
    let mut stores = Vec::new();
    for _ in 0..WORKERS / 2 {
        stores.push(db.store().await);
    }
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let handled: Arc<Mutex<Vec<String>>> = Arc::default();
    let max_parallel = Arc::new(AtomicUsize::new(0));

    // When all workers drain the queue
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let store = stores[w % stores.len()].clone();
        let in_flight = in_flight.clone();
        let handled = handled.clone();
        let max_parallel = max_parallel.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            loop {
                let Some(claim) = store.claim(&worker, LEASE).await.unwrap() else {
                    if handled.lock().await.len() >= DELIVERIES {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                };
                let repo = claim.repo_key.clone().unwrap();
                {
                    let mut running = in_flight.lock().await;
                    assert!(
                        running.insert(repo.clone()),
                        "two deliveries of {repo} ran at once"
                    );
                    max_parallel.fetch_max(running.len(), Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                // Leave the repository before the store frees it, so a
                // legitimate successor is never reported as overlap.
                in_flight.lock().await.remove(&repo);
                handled.lock().await.push(claim.delivery_id.clone());
                store.complete(&claim).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    // Then each delivery was handled exactly once and all are done
    let handled = handled.lock().await;
    let unique: HashSet<&String> = handled.iter().collect();
    assert_eq!(handled.len(), DELIVERIES);
    assert_eq!(unique.len(), DELIVERIES);
    assert_eq!(
        seed.counts_by_status().await.unwrap().done,
        DELIVERIES as i64
    );
    assert_eq!(seed.queue_depth().await.unwrap(), 0);
    // And different repositories did run side by side
    assert!(max_parallel.load(Ordering::Relaxed) > 1);
}

async fn reconnecting_keeps_the_data_and_migrates_once(db: &TestDb) {
    // Given a store with a done and a queued delivery
    let store = db.store().await;
    store.enqueue(delivery("done", Some("o/b"))).await.unwrap();
    store
        .enqueue(delivery("queued", Some("o/a")))
        .await
        .unwrap();
    let claim = store.claim("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(claim.delivery_id, "done");
    store.complete(&claim).await.unwrap();
    store
        .repo_state_put("o/a", &RepoStateKey::LastValidConfig, "v")
        .await
        .unwrap();
    store.close().await;
    // When the server restarts (schema migrations run again)
    let reopened = db.store().await;
    // Then everything is still there and dedupe still holds
    let queued = reopened.delivery("queued").await.unwrap().unwrap();
    assert_eq!(queued.status, DeliveryStatus::Pending);
    let done = reopened.delivery("done").await.unwrap().unwrap();
    assert_eq!(done.status, DeliveryStatus::Done);
    assert_eq!(
        reopened.enqueue(delivery("queued", None)).await.unwrap(),
        Enqueued::Duplicate
    );
    assert_eq!(
        reopened
            .repo_state_get("o/a", &RepoStateKey::LastValidConfig)
            .await
            .unwrap()
            .as_deref(),
        Some("v")
    );
    assert_eq!(claim_id(&reopened, "w2").await.as_deref(), Some("queued"));
}

async fn installations_and_repository_state_round_trip(db: &TestDb) {
    let store = db.store().await;
    // Given an installation with two repositories
    store.upsert_installation(7, "acme").await.unwrap();
    store
        .set_installation_repos(7, &[(2, "acme/b".to_owned()), (1, "acme/a".to_owned())])
        .await
        .unwrap();
    // When repositories are added (one renamed) and removed
    store
        .add_installation_repos(7, &[(3, "acme/c".to_owned()), (2, "acme/b2".to_owned())])
        .await
        .unwrap();
    store.remove_installation_repos(7, &[1]).await.unwrap();
    // Then the list reflects every change, sorted by name
    let repo = |repo_id, name: &str| InstallationRepo {
        repo_id,
        full_name: name.to_owned(),
    };
    assert_eq!(
        store.installation_repos(7).await.unwrap(),
        vec![repo(2, "acme/b2"), repo(3, "acme/c")]
    );
    // And setting the list replaces it
    store
        .set_installation_repos(7, &[(9, "acme/z".to_owned())])
        .await
        .unwrap();
    assert_eq!(
        store.installation_repos(7).await.unwrap(),
        vec![repo(9, "acme/z")]
    );
    // And renaming the account updates the installation
    store.upsert_installation(7, "acme-corp").await.unwrap();
    store.upsert_installation(8, "other").await.unwrap();
    let installations = store.installations().await.unwrap();
    assert_eq!(installations.len(), 2);
    assert_eq!(installations[0].account_login, "acme-corp");
    // And removing the installation forgets its repositories
    store.remove_installation(7).await.unwrap();
    assert!(store.installation_repos(7).await.unwrap().is_empty());
    assert_eq!(store.installations().await.unwrap().len(), 1);

    // Given per-repository state
    assert_eq!(
        store
            .repo_state_get("acme/a", &RepoStateKey::BudgetsSeeded)
            .await
            .unwrap(),
        None
    );
    store
        .repo_state_put("acme/a", &RepoStateKey::BudgetsSeeded, "1")
        .await
        .unwrap();
    store
        .repo_state_put("acme/a", &RepoStateKey::BudgetsSeeded, "2")
        .await
        .unwrap();
    store
        .repo_state_put("acme/b", &RepoStateKey::BudgetsSeeded, "9")
        .await
        .unwrap();
    // Then the latest value wins, per repository
    assert_eq!(
        store
            .repo_state_get("acme/a", &RepoStateKey::BudgetsSeeded)
            .await
            .unwrap()
            .as_deref(),
        Some("2")
    );
    assert_eq!(
        store
            .repo_state_get("acme/b", &RepoStateKey::BudgetsSeeded)
            .await
            .unwrap()
            .as_deref(),
        Some("9")
    );
    // And numbered keys list by family, by number (not by key text:
    // `pr:10` sorts before `pr:9`), without the other families' keys
    store
        .repo_state_put("acme/a", &RepoStateKey::PrRecord(10), "j")
        .await
        .unwrap();
    store
        .repo_state_put("acme/a", &RepoStateKey::PrRecord(9), "i")
        .await
        .unwrap();
    store
        .repo_state_put("acme/a", &RepoStateKey::Drifting(9), "sha")
        .await
        .unwrap();
    store
        .repo_state_put("acme/b", &RepoStateKey::PrRecord(1), "other repo")
        .await
        .unwrap();
    assert_eq!(
        store
            .repo_state_list("acme/a", RepoStatePrefix::PrRecords)
            .await
            .unwrap(),
        vec![(9, "i".to_string()), (10, "j".to_string())],
        "a family lists only its keys, in numeric order"
    );
    assert_eq!(
        store
            .repo_state_list("acme/a", RepoStatePrefix::Drifting)
            .await
            .unwrap(),
        vec![(9, "sha".to_string())]
    );
    assert!(
        store
            .repo_state_delete("acme/a", &RepoStateKey::BudgetsSeeded)
            .await
            .unwrap()
    );
    assert!(
        !store
            .repo_state_delete("acme/a", &RepoStateKey::BudgetsSeeded)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .repo_state_get("acme/a", &RepoStateKey::BudgetsSeeded)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn plain_sqlite_path_creates_the_file_and_its_directory_in_wal_mode() {
    // Given a path whose directory does not exist yet
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("dir").join("paydown.db");
    // When the store opens it
    let store = Store::connect(path.to_str().unwrap()).await.unwrap();
    store.enqueue(delivery("d", None)).await.unwrap();
    store.close().await;
    // Then the file exists and uses the WAL journal
    assert!(path.exists());
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn in_memory_sqlite_works_for_quick_tests() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.enqueue(delivery("d", None)).await.unwrap();
    assert_eq!(claim_id(&store, "w").await.as_deref(), Some("d"));
}

#[tokio::test]
async fn unsupported_urls_are_rejected_by_name() {
    let err = Store::connect("mysql://user:hunter2@localhost/db")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }));
    assert!(
        message.contains("mysql://user:***@localhost/db"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn connection_errors_name_the_url_without_its_password() {
    // Given a PostgreSQL URL pointing at a closed loopback port
    let err = Store::connect("postgres://paydown:hunter2@127.0.0.1:1/paydown")
        .await
        .unwrap_err();
    // Then the error says where, but not the password
    let message = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{message}");
    assert!(
        message.contains("postgres://paydown:***@127.0.0.1:1/paydown"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

/// PostgreSQL only: payloads are compressed with lz4 (migration 0011),
/// which costs the database a third of pglz's CPU per stored delivery, and
/// a large payload still comes back byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_payloads_are_lz4_compressed_and_round_trip() {
    // Given a migrated PostgreSQL schema,
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = db.store().await;
    // when a 10 KB JSON payload is stored and claimed,
    let body: String = (0..300)
        .map(|i| format!("{{\"sha\":\"{i:040x}\",\"path\":\"src/{i}.rs\"}},"))
        .collect();
    let mut new = delivery("lz4-1", Some("o/r"));
    new.payload = format!("[{}{{}}]", body).into_bytes();
    let payload = new.payload.clone();
    store.enqueue(new).await.expect("enqueue");
    let claimed = store
        .claim("w", LEASE)
        .await
        .expect("claim")
        .expect("a delivery");
    // then it comes back unchanged,
    assert_eq!(claimed.payload, payload);
    // and the column is set to lz4 (or, on a server without lz4, stored
    // uncompressed rather than with pglz).
    let TestDb::Postgres(schema) = &db else {
        unreachable!()
    };
    let mut conn = sqlx::PgConnection::connect(&schema.url)
        .await
        .expect("connect");
    let (compression, storage): (String, String) = sqlx::query_as(
        "SELECT attcompression::text, attstorage::text FROM pg_attribute
         WHERE attrelid = 'deliveries'::regclass AND attname = 'payload'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("column settings");
    assert!(
        compression == "l" || storage == "e",
        "payload compression {compression:?}, storage {storage:?}"
    );
    drop(store);
    db.cleanup().await;
}
