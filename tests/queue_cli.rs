//! `paydown queue list|retry|drop` as a real process against a SQLite
//! file the server's store wrote: what an operator sees and can do about
//! dead and waiting deliveries, and the exit codes (0 done, 1 no such
//! delivery, 2 bad input).

use std::process::{Command, Output};
use std::time::Duration;

use paydown_server::store::{DeliveryStatus, NewDelivery, Store};

fn delivery(id: &str, event: &str, repo: &str) -> NewDelivery {
    NewDelivery {
        settled: false,
        delivery_id: id.to_owned(),
        event: event.to_owned(),
        action: Some("opened".to_owned()),
        repo_key: Some(repo.to_owned()),
        installation_id: Some(1),
        payload: b"{}".to_vec(),
    }
}

fn queue(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paydown"))
        .arg("queue")
        .args(args)
        .env_clear()
        .env("PAYDOWN_DATABASE_URL", db_url)
        .output()
        .expect("run paydown queue")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A store with one dead delivery (whose error holds a terminal escape),
/// one pending, one done.
async fn seeded() -> (tempfile::TempDir, String, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("paydown.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    store
        .enqueue(delivery("dead-1", "issues", "octo-org/a"))
        .await
        .unwrap();
    let claim = store
        .claim("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    store
        .fail_permanently(&claim, "payload: missing field `issue`\u{1b}[2J at line 1")
        .await
        .unwrap();
    store
        .enqueue(delivery("done-1", "push", "octo-org/b"))
        .await
        .unwrap();
    let claim = store
        .claim("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    store.complete(&claim).await.unwrap();
    store
        .enqueue(delivery("pending-1", "push", "octo-org/c"))
        .await
        .unwrap();
    (dir, url, store)
}

#[tokio::test]
async fn list_shows_dead_and_waiting_deliveries_in_a_table() {
    let (_dir, url, _store) = seeded().await;

    // When the operator lists the queue,
    let out = queue(&url, &["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // then a header and one row per dead or waiting delivery, oldest
    // first, in aligned columns; the done one is not shown,
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("STATUS   ATTEMPTS  AGE"), "{text}");
    assert!(lines[1].starts_with("dead  "), "{text}");
    assert!(
        lines[1].contains("issues.opened") && lines[1].contains("octo-org/a"),
        "{text}"
    );
    assert!(lines[1].contains("dead-1"), "{text}");
    assert!(lines[2].starts_with("pending"), "{text}");
    assert!(!text.contains("done-1"), "{text}");
    let column = lines[0].find("DELIVERY").unwrap();
    assert_eq!(&lines[1][column..column + 6], "dead-1", "{text}");
    // and the stored error is shown without its terminal escape.
    assert!(lines[1].contains("missing field `issue`"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text:?}");

    // Filtered by status, and as JSON.
    let dead = stdout(&queue(&url, &["list", "--status", "dead"]));
    assert_eq!(dead.lines().count(), 2, "{dead}");
    let out = queue(&url, &["list", "--status", "pending", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["delivery_id"], "pending-1");
    assert_eq!(rows[0]["status"], "pending");
}

#[tokio::test]
async fn retry_puts_a_dead_delivery_back_and_drop_deletes_one() {
    let (_dir, url, store) = seeded().await;

    // Retrying the dead delivery queues it again with its attempts reset.
    let out = queue(&url, &["retry", "dead-1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("dead-1: queued again"));
    let record = store.delivery("dead-1").await.unwrap().unwrap();
    assert_eq!(
        (record.status, record.attempts),
        (DeliveryStatus::Pending, 0)
    );
    assert!(record.finished_at.is_none());
    // It is due now: the workers take it (after the older pending one).
    let first = store
        .claim("w1", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let second = store
        .claim("w2", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.delivery_id.as_str(), second.delivery_id.as_str()),
        ("pending-1", "dead-1")
    );
    store.release(&first).await.unwrap();
    store.release(&second).await.unwrap();

    // Dropping a waiting delivery deletes it.
    let out = queue(&url, &["drop", "pending-1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(store.delivery("pending-1").await.unwrap().is_none());

    // An unknown id is 1; a delivery in a state the command refuses is 2,
    // and nothing changes.
    let out = queue(&url, &["retry", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no delivery nope"),
        "{}",
        stderr(&out)
    );
    assert_eq!(queue(&url, &["drop", "nope"]).status.code(), Some(1));
    let out = queue(&url, &["drop", "done-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("done-1 is done"), "{}", stderr(&out));
    assert!(store.delivery("done-1").await.unwrap().is_some());
    let out = queue(&url, &["retry", "dead-1"]);
    assert_eq!(out.status.code(), Some(2), "pending now, not dead");
}

#[test]
fn bad_input_exits_2() {
    // An unknown status or subcommand, and no database at all.
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("q.sqlite").display()
    );
    assert_eq!(
        queue(&url, &["list", "--status", "zombie"]).status.code(),
        Some(2)
    );
    assert_eq!(queue(&url, &["purge"]).status.code(), Some(2));
    assert_eq!(queue(&url, &["retry"]).status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_paydown"))
        .args(["queue", "list"])
        .env_clear()
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("PAYDOWN_DATABASE_URL"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.path().join("paydown.sqlite").exists(),
        "no database is created"
    );
}
