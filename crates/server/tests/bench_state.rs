//! Benchmark (ignored; `scripts/bench-state.sh` runs it in release): what
//! keeping a repository's sync state costs per push, the JSON blob of
//! versions before migration 0007 against the rows, measured in the same
//! run on the same database.
//!
//! - `blob`: read the blob and parse it, serialise the new state and
//!   write it whole (what `handlers/push.rs` did).
//! - `rows`: [`Store::sync_state_load`], then [`Store::sync_state_save`]
//!   of the delta.
//!
//! For N items (default 10,000, `BENCH_ITEMS`) with k = 5 changed per
//! push, it prints bytes handed to the database per push, the database's
//! own write volume (SQLite: bytes this process appended to the WAL,
//! checkpoints not counted; PostgreSQL: WAL
//! LSN advance; the minimum over the rounds, since a checkpoint or other
//! sessions sharing the cluster's WAL add noise) and the median time of load + save. Then, with
//! `BENCH_RSS_DB=<path>`, it fills an SQLite file with 1,000 repositories
//! of 100 items each (rows, or blobs with `BENCH_RSS_BLOBS=1`) for the
//! script to start `paydown serve` on, and reports this process's RSS
//! while loading every one of them in turn.

use std::time::{Duration, Instant};

use paydown_server::store::{RepoStateKey, Store};
use paydown_sync::SyncState;
use serde_json::json;

#[path = "support/postgres.rs"]
mod pg;

const REPO: &str = "acme/large";
/// The blob is kept under its own repository, with the key versions before
/// 0007 used: loading `REPO`'s rows would otherwise convert it to rows.
const BLOB_REPO: &str = "bench/blob-era";
const K: u64 = 5;
const ROUNDS: usize = 7;

/// A state like a real import's: issue bodies of about 1 KB (the rendered
/// body with its marker and meta), dates, one annotation per item.
fn state(n: u64, sha: &str) -> SyncState {
    // Words drawn pseudo-randomly, so that PostgreSQL's TOAST compression
    // does about what it does to real text rather than to a repeated line.
    const WORDS: [&str; 16] = [
        "cache",
        "retry",
        "parser",
        "legacy",
        "the",
        "of",
        "remove",
        "after",
        "migration",
        "handler",
        "when",
        "config",
        "is",
        "slow",
        "flaky",
        "test",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut filler = move || {
        (0..150)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                WORDS[(seed >> 60) as usize]
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let issues: Vec<_> = (1..=n)
        .map(|i| {
            json!({
                "number": i, "state": "open", "state_reason": null,
                "labels": ["paydown", "debt:todo"], "assignees": [],
                "title": format!("TODO: debt item {i}"),
                "body": format!("**TODO** in `src/m{}.rs` line {}\n\n{}\n\n<!-- paydown:item item{i} -->\n<!-- paydown:meta {{\"id\":\"item{i}\",\"path\":\"src/m{}.rs\",\"line\":{},\"end_line\":{},\"keyword\":\"TODO\",\"text\":\"debt item {i}\"}} -->", i / 100, i % 100, filler(), i / 100, i % 100, i % 100),
                "has_milestone": false,
                "marker": {"id": format!("item{i}"), "meta": null},
                "closed_by_bot": null,
            })
        })
        .collect();
    let dates: Vec<_> = (1..=n)
        .map(|i| json!({"number": i, "title": format!("TODO: debt item {i}"), "created": "2026-11-23", "closed": null}))
        .collect();
    let mut files = serde_json::Map::new();
    for i in 1..=n {
        let list = files
            .entry(format!("src/m{}.rs", i / 100))
            .or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.push(json!({"id": format!("item{i}"), "line": i % 100 * 2 + 2, "column": 4,
                             "end_line": i % 100 * 2 + 2, "keyword": "TODO", "text": format!("debt item {i}")}));
        }
    }
    serde_json::from_value(json!({
        "version": paydown_sync::state::STATE_VERSION, "sha": sha, "config_text": null,
        "listed_since": "2026-11-23T10:00:00Z", "complete": true,
        "tracked": {"issues": issues, "dates": dates,
                    "dashboard": {"number": n + 1, "open": true, "body": "dashboard ".repeat(800)}},
        "files": files,
    }))
    .expect("state")
}

/// The state after a push editing `k` items (round `r` makes each edit new).
fn pushed(from: &SyncState, r: usize) -> SyncState {
    let mut next = from.clone();
    next.sha = format!("sha{r}");
    next.listed_since += chrono::Duration::seconds(60);
    for i in 0..K {
        let number = 1 + i * 997 % next.tracked.issues.len() as u64;
        if let Some(issue) = next.tracked.issues.iter_mut().find(|x| x.number == number) {
            // A length that changes each round, as real edits do (SQLite
            // rewrites only the changed pages of a record of equal size).
            issue.title = format!("TODO: debt item {number} (edited{})", "!".repeat(r));
        }
    }
    next
}

/// Bytes this process handed to write(2) so far (SQLite writes its WAL
/// from this process; the background checkpointer's writes count too when
/// one runs meanwhile, hence the minimum over the rounds).
fn written_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("wchar:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

enum Db {
    /// A connection of its own, to empty the WAL before each measure.
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    /// Resets the measure; returns the position to diff against.
    async fn mark(&self) -> i64 {
        match self {
            Db::Sqlite(pool) => {
                // Write back (and empty) the WAL first, so the background
                // checkpoint of the previous write is not counted here.
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(pool)
                    .await
                    .expect("checkpoint");
                written_bytes()
            }
            Db::Postgres(pool) => {
                sqlx::query_scalar("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")
                    .fetch_one(pool)
                    .await
                    .expect("lsn")
            }
        }
    }

    async fn since(&self, mark: i64) -> i64 {
        match self {
            Db::Sqlite(_) => written_bytes() - mark,
            Db::Postgres(_) => self.mark().await - mark,
        }
    }
}

#[derive(Default)]
struct Figures {
    bytes: Vec<u64>,
    db_bytes: Vec<i64>,
    time: Vec<Duration>,
}

fn median<T: Copy + Ord>(v: &[T]) -> T {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

async fn measure(name: &str, store: &Store, db: &Db, n: u64) {
    let start = state(n, "sha0");
    let blob_len = start.to_json().len();
    let mut blob = Figures::default();
    let mut rows = Figures::default();
    store
        .repo_state_put(BLOB_REPO, &RepoStateKey::LegacySyncState, &start.to_json())
        .await
        .expect("put");
    store
        .sync_state_save(REPO, None, &start)
        .await
        .expect("save");
    for r in 1..=ROUNDS {
        // Before: the whole blob read, parsed, rewritten.
        let mark = db.mark().await;
        let t = Instant::now();
        let json = store
            .repo_state_get(BLOB_REPO, &RepoStateKey::LegacySyncState)
            .await
            .expect("get")
            .expect("blob");
        let old = SyncState::from_json(&json).expect("parse");
        let new = pushed(&old, r);
        let text = new.to_json();
        store
            .repo_state_put(BLOB_REPO, &RepoStateKey::LegacySyncState, &text)
            .await
            .expect("put");
        blob.time.push(t.elapsed());
        blob.bytes.push(text.len() as u64);
        blob.db_bytes.push(db.since(mark).await);

        // After: the rows read, the delta written.
        let mark = db.mark().await;
        let t = Instant::now();
        let old = store
            .sync_state_load(REPO)
            .await
            .expect("load")
            .expect("state");
        let new = pushed(&old, r);
        let written = store
            .sync_state_save(REPO, Some(&old), &new)
            .await
            .expect("save");
        rows.time.push(t.elapsed());
        rows.bytes.push(written.bytes);
        rows.db_bytes.push(db.since(mark).await);
    }
    let db_bytes = |f: &Figures| f.db_bytes.iter().copied().min().unwrap_or(0);
    println!(
        "{name}: {n} items, k={K} changed per push, state blob {:.1} MB, {ROUNDS} rounds (medians)",
        blob_len as f64 / 1e6
    );
    println!(
        "| {name:<10} | {:<5} | {:>16} | {:>20} | {:>17} |",
        "", "bytes sent/push", "DB WAL bytes/push", "load+save ms/push"
    );
    for (label, f) in [("blob", &blob), ("rows", &rows)] {
        println!(
            "| {name:<10} | {label:<5} | {:>16} | {:>20} | {:>17.1} |",
            median(&f.bytes),
            db_bytes(f),
            median(&f.time).as_secs_f64() * 1000.0
        );
    }
    println!(
        "| {name:<10} | ratio | {:>15.0}× | {:>19.0}× | {:>16.1}× |",
        median(&blob.bytes) as f64 / median(&rows.bytes).max(1) as f64,
        db_bytes(&blob) as f64 / db_bytes(&rows).max(1) as f64,
        median(&blob.time).as_secs_f64() / median(&rows.time).as_secs_f64()
    );
}

fn items() -> u64 {
    std::env::var("BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: scripts/bench-state.sh"]
async fn state_bytes_and_time_per_push() {
    let n = items();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bench.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = Store::connect(&url).await.expect("store");
    let raw = sqlx::SqlitePool::connect(&url).await.expect("raw");
    measure("SQLite", &store, &Db::Sqlite(raw), n).await;
    store.close().await;
    if let Some(schema) = pg::PgSchema::create().await {
        let store = Store::connect(&schema.url).await.expect("store");
        let raw = sqlx::PgPool::connect(&schema.url).await.expect("raw");
        measure("PostgreSQL", &store, &Db::Postgres(raw.clone()), n).await;
        raw.close().await;
        store.close().await;
        schema.drop_schema().await;
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Fills `BENCH_RSS_DB` with 1,000 installed repositories of 100 items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: scripts/bench-state.sh"]
async fn many_repositories_fill_and_load() {
    let Ok(path) = std::env::var("BENCH_RSS_DB") else {
        println!("BENCH_RSS_DB not set; nothing to do");
        return;
    };
    let blobs = std::env::var("BENCH_RSS_BLOBS").is_ok_and(|v| v == "1");
    let repos: u64 = std::env::var("BENCH_REPOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let store = Store::connect(&format!("sqlite://{path}?mode=rwc"))
        .await
        .expect("store");
    store
        .upsert_installation(1, "acme")
        .await
        .expect("installation");
    let names: Vec<(i64, String)> = (0..repos as i64)
        .map(|i| (i + 1, format!("acme/repo{i}")))
        .collect();
    store
        .set_installation_repos(1, &names)
        .await
        .expect("repos");
    let one = state(100, "sha0");
    for (_, name) in &names {
        if blobs {
            store
                .repo_state_put(name, &RepoStateKey::LegacySyncState, &one.to_json())
                .await
                .expect("blob");
        } else {
            store.sync_state_save(name, None, &one).await.expect("rows");
        }
    }
    if blobs {
        println!("filled {path}: {repos} repositories x 100 items as blobs");
        return;
    }
    // Loading each repository's state in turn, as pushes to all of them
    // would: memory must not grow with the number of repositories.
    let before = rss_kib();
    let mut peak = before;
    let mut at_100 = before;
    for (i, (_, name)) in names.iter().enumerate() {
        let loaded = store.sync_state_load(name).await.expect("load");
        assert!(loaded.is_some());
        if i % 100 == 99 {
            peak = peak.max(rss_kib());
        }
        if i == 99 {
            at_100 = rss_kib();
        }
    }
    println!(
        "RSS_LOAD repos={repos} before_kib={before} after_100_repos_kib={at_100} peak_kib={peak} after_all_kib={}",
        rss_kib()
    );
    store.close().await;
}
