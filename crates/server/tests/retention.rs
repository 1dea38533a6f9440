//! The retention job against a real SQLite store: done deliveries past the
//! retention period disappear when the elected leader runs the job; newer ones, pending
//! and dead ones stay.

use std::time::Duration;

use paydown_server::periodic::{LeaderOptions, Periodic};
use paydown_server::retention;
use paydown_server::store::{NewDelivery, Store};

fn delivery(id: &str, repo: &str) -> NewDelivery {
    NewDelivery {
        settled: false,
        delivery_id: id.to_owned(),
        event: "push".to_owned(),
        action: None,
        repo_key: Some(repo.to_owned()),
        installation_id: Some(42),
        payload: b"{}".to_vec(),
    }
}

#[tokio::test]
async fn the_retention_job_prunes_old_done_deliveries_when_the_leader_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    // Given one done delivery and one still pending,
    store.enqueue(delivery("done", "o/a")).await.unwrap();
    let claimed = store
        .claim("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    store.complete(&claimed).await.unwrap();
    store.enqueue(delivery("pending", "o/b")).await.unwrap();
    // when a first pass runs inside the retention period, nothing goes;
    assert_eq!(
        retention::prune_once(&store, Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    // when the elected leader runs the job with a 50 ms retention every 20 ms,
    let leader = Periodic::spawn(
        store.clone(),
        vec![retention::job(
            &store,
            Duration::from_millis(50),
            Duration::from_millis(20),
        )],
        LeaderOptions::for_this_process(Duration::from_secs(5)),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while store.delivery("done").await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "never pruned");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    leader.shutdown().await;
    // then the done delivery is gone and the pending one stays.
    assert!(store.delivery("pending").await.unwrap().is_some());
}
