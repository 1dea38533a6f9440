//! One noisy installation cannot starve the others: the claim serves
//! installations in turn (the one served least recently first), so a
//! single push of a quiet installation is taken right after the flood's
//! first delivery, not after the flood. Run on SQLite and, when
//! `PAYDOWN_TEST_POSTGRES_URL` is set, PostgreSQL.

use std::time::Duration;

use paydown_server::store::{NewDelivery, Store};

#[path = "support/postgres.rs"]
mod pg;

const LEASE: Duration = Duration::from_secs(30);

fn push(id: &str, repo: &str, installation: i64) -> NewDelivery {
    NewDelivery {
        settled: false,
        delivery_id: id.to_owned(),
        event: "push".to_owned(),
        action: None,
        repo_key: Some(repo.to_owned()),
        installation_id: Some(installation),
        payload: b"{}".to_vec(),
    }
}

/// Given installation 1 flooding 200 pushes over 20 repositories, then
/// installation 2's single push, when `workers` workers drain the queue
/// (each claims, then the batch completes), then the quiet push is among
/// the first `workers + 1` claimed; and the flood keeps its order within
/// each repository.
async fn flood_does_not_starve(store: &Store, workers: usize) {
    for n in 0..200 {
        store
            .enqueue(push(
                &format!("flood-{n:03}"),
                &format!("noisy/r{}", n % 20),
                1,
            ))
            .await
            .unwrap();
    }
    // Its first delivery is served before the quiet one arrives.
    let first = store.claim("w0", LEASE).await.unwrap().unwrap();
    assert_eq!(first.delivery_id, "flood-000");
    store.complete(&first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    store
        .enqueue(push("quiet-1", "quiet/repo", 2))
        .await
        .unwrap();

    let mut order = Vec::new();
    loop {
        let mut batch = Vec::new();
        for w in 0..workers {
            if let Some(c) = store.claim(&format!("w{w}"), LEASE).await.unwrap() {
                batch.push(c);
            }
        }
        if batch.is_empty() {
            break;
        }
        for c in batch {
            order.push(c.delivery_id.clone());
            store.complete(&c).await.unwrap();
        }
    }
    assert_eq!(order.len(), 200, "everything ran once");
    let position = order.iter().position(|d| d == "quiet-1").unwrap();
    assert!(
        position <= workers,
        "the quiet push ran {position}th of {} with {workers} workers: {:?}",
        order.len(),
        &order[..position.min(10)]
    );
    // Within a repository the flood still runs oldest first.
    for r in 0..20 {
        let of_repo: Vec<&String> = order
            .iter()
            .filter(|d| {
                d.strip_prefix("flood-")
                    .and_then(|n| n.parse::<usize>().ok())
                    .is_some_and(|n| n % 20 == r)
            })
            .collect();
        let mut sorted = of_repo.clone();
        sorted.sort();
        assert_eq!(of_repo, sorted, "repository r{r}");
    }
}

#[tokio::test]
async fn a_flooding_installation_does_not_starve_another_sqlite() {
    for workers in [1, 4] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display());
        let store = Store::connect(&url).await.unwrap();
        flood_does_not_starve(&store, workers).await;
    }
}

#[tokio::test]
async fn a_flooding_installation_does_not_starve_another_postgres() {
    for workers in [1, 4] {
        let Some(schema) = pg::PgSchema::create().await else {
            eprintln!(
                "SKIPPED: set {} to run the PostgreSQL fairness scenario",
                pg::VAR
            );
            return;
        };
        let store = Store::connect(&schema.url).await.unwrap();
        flood_does_not_starve(&store, workers).await;
        store.close().await;
        schema.drop_schema().await;
    }
}
