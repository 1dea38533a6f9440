//! The sync state of a repository kept as rows (migration 0007): a push
//! that changes k items writes k item rows (and the head), whatever the
//! size of the repository; a state kept as one JSON blob by an older
//! version is converted to rows when the store opens, and the blob is
//! deleted. Each scenario runs on SQLite and on PostgreSQL (skipped, with
//! a notice, without `PAYDOWN_TEST_POSTGRES_URL`).

use paydown_server::store::{RepoStateKey, RowsWritten, Store};
use paydown_sync::SyncState;
use serde_json::json;

#[path = "support/postgres.rs"]
mod pg;

enum TestDb {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres(pg::PgSchema),
}

impl TestDb {
    fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("paydown.db");
        TestDb::Sqlite {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            _dir: dir,
        }
    }

    fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } => url,
            TestDb::Postgres(schema) => &schema.url,
        }
    }

    async fn store(&self) -> Store {
        Store::connect(self.url()).await.expect("connect store")
    }

    async fn cleanup(self) {
        if let TestDb::Postgres(schema) = self {
            schema.drop_schema().await;
        }
    }
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite();
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(schema) = super::pg::PgSchema::create().await else {
                        return;
                    };
                    let db = super::TestDb::Postgres(schema);
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

scenarios!(
    a_push_changing_k_items_writes_k_rows,
    a_kept_blob_is_converted_to_rows_on_start,
    an_unreadable_blob_converts_to_no_state,
);

/// A state of `n` debt items, one issue and one file each, as the sync
/// crate serialises it (the server does not name the planner's types).
fn state(n: u64, sha: &str) -> SyncState {
    let issues: Vec<_> = (1..=n)
        .map(|number| {
            json!({
                "number": number,
                "state": "open",
                "state_reason": null,
                "labels": ["paydown", "debt:todo"],
                "assignees": [],
                "title": format!("TODO: item {number}"),
                "body": format!("Item {number}.\n<!-- paydown:item item{number} -->"),
                "has_milestone": false,
                "marker": {"id": format!("item{number}"), "meta": null},
                "closed_by_bot": null,
            })
        })
        .collect();
    let dates: Vec<_> = (1..=n)
        .map(|number| {
            json!({"number": number, "title": format!("TODO: item {number}"),
                   "created": "2026-11-23", "closed": null})
        })
        .collect();
    let files: serde_json::Map<String, serde_json::Value> = (1..=n)
        .map(|number| {
            (
                format!("src/m{number}.rs"),
                json!([{"id": format!("item{number}"), "line": 2, "column": 4, "end_line": 2,
                        "keyword": "TODO", "text": format!("item {number}")}]),
            )
        })
        .collect();
    serde_json::from_value(json!({
        "version": paydown_sync::state::STATE_VERSION,
        "sha": sha,
        "config_text": null,
        "listed_since": "2026-11-23T10:00:00Z",
        "complete": true,
        "tracked": {"issues": issues, "dates": dates,
                    "dashboard": {"number": 9999, "open": true, "body": "dashboard"}},
        "files": files,
    }))
    .expect("a state")
}

fn title_of(state: &SyncState, number: u64) -> &str {
    &state
        .tracked
        .issues
        .iter()
        .find(|i| i.number == number)
        .expect("issue")
        .title
}

async fn a_push_changing_k_items_writes_k_rows(db: &TestDb) {
    // Given a repository whose state of 500 items is kept,
    let store = db.store().await;
    let first = state(500, "c1");
    let written = store
        .sync_state_save("acme/big", None, &first)
        .await
        .expect("save");
    // (head + 500 issue rows + 500 file rows)
    assert_eq!(written.rows, 1001);
    let loaded = store
        .sync_state_load("acme/big")
        .await
        .expect("load")
        .expect("a state");
    assert_eq!(loaded, first);

    // when a push edits k = 3 items (their issues and their files) and
    // moves the synced commit,
    let mut pushed = loaded.clone();
    pushed.sha = "c2".into();
    for number in [7, 70, 499] {
        let issue = pushed
            .tracked
            .issues
            .iter_mut()
            .find(|i| i.number == number)
            .expect("issue");
        issue.title = format!("TODO: item {number} (edited)");
        let file = pushed
            .files
            .get_mut(&format!("src/m{number}.rs"))
            .expect("file");
        file[0].text = format!("item {number} (edited)");
    }
    let before = row_stamps(db).await;
    let written: RowsWritten = store
        .sync_state_save("acme/big", Some(&loaded), &pushed)
        .await
        .expect("save");

    // then 3 issue rows, 3 file rows and the head are written, a few
    // kilobytes rather than the whole state,
    assert_eq!(written.rows, 7, "{written:?}");
    assert!(written.bytes < 8 * 1024, "{written:?}");
    // the database agrees: only those rows carry a new write stamp,
    let after = row_stamps(db).await;
    let changed: Vec<&String> = after
        .iter()
        .filter(|(key, stamp)| before.get(*key) != Some(stamp))
        .map(|(key, _)| key)
        .collect();
    assert_eq!(changed.len(), 7, "{changed:?}");
    // and the next push reads back exactly what was saved.
    let reread = store
        .sync_state_load("acme/big")
        .await
        .expect("load")
        .expect("a state");
    assert_eq!(reread, pushed);
    assert_eq!(title_of(&reread, 70), "TODO: item 70 (edited)");
    assert_eq!(reread.sha, "c2");

    // Given a run that closes one issue and removes another's file,
    let mut next = reread.clone();
    next.tracked.dates[9].closed = chrono::NaiveDate::from_ymd_opt(2026, 11, 24);
    next.files.remove("src/m11.rs");
    let written = store
        .sync_state_save("acme/big", Some(&reread), &next)
        .await
        .expect("save");
    // then one issue row is replaced and one file row deleted (the head is
    // unchanged, so not written).
    assert_eq!(written.rows, 2, "{written:?}");
    assert_eq!(
        store.sync_state_load("acme/big").await.expect("load"),
        Some(next)
    );
    // Another repository's state is not touched by any of it.
    assert_eq!(
        store.sync_state_load("acme/other").await.expect("load"),
        None
    );
}

/// `(table:key, updated_at)` of every state row; a rewritten row gets a
/// new stamp (the test waits a few milliseconds so stamps differ).
async fn row_stamps(db: &TestDb) -> std::collections::BTreeMap<String, i64> {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let query = "SELECT 'issue:' || CAST(number AS TEXT), updated_at FROM sync_issues
                 UNION ALL SELECT 'file:' || path, updated_at FROM sync_files
                 UNION ALL SELECT 'head:' || repo, updated_at FROM sync_heads";
    let rows: Vec<(String, i64)> = match db {
        TestDb::Sqlite { url, .. } => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
            let rows = sqlx::query_as(query).fetch_all(&pool).await.expect("rows");
            pool.close().await;
            rows
        }
        TestDb::Postgres(schema) => {
            let pool = sqlx::PgPool::connect(&schema.url).await.expect("connect");
            let rows = sqlx::query_as(query).fetch_all(&pool).await.expect("rows");
            pool.close().await;
            rows
        }
    };
    rows.into_iter().collect()
}

/// Writes a `repo_state` row as a version before 0007 did.
async fn put_blob(db: &TestDb, repo: &str, value: &str) {
    let store = db.store().await;
    store
        .repo_state_put(repo, &RepoStateKey::LegacySyncState, value)
        .await
        .expect("put blob");
    store.close().await;
}

async fn a_kept_blob_is_converted_to_rows_on_start(db: &TestDb) {
    // Given a state kept as one JSON blob by an older version,
    let kept = state(50, "old-head");
    put_blob(db, "acme/legacy", &kept.to_json()).await;
    // when the server starts (the store opens),
    let store = db.store().await;
    // then the blob is gone
    assert_eq!(
        store
            .repo_state_get("acme/legacy", &RepoStateKey::LegacySyncState)
            .await
            .expect("get"),
        None
    );
    // and the same state is read from rows: the next push builds on it
    // incrementally rather than running a full sync.
    assert_eq!(
        store.sync_state_load("acme/legacy").await.expect("load"),
        Some(kept.clone())
    );

    // Given a replica of the older version writing a blob again during a
    // rolling upgrade (newer than the rows),
    let newer = state(51, "newer-head");
    store
        .repo_state_put(
            "acme/legacy",
            &RepoStateKey::LegacySyncState,
            &newer.to_json(),
        )
        .await
        .expect("put");
    // then the next load converts it, replacing the rows.
    assert_eq!(
        store.sync_state_load("acme/legacy").await.expect("load"),
        Some(newer)
    );
    assert_eq!(
        store
            .repo_state_get("acme/legacy", &RepoStateKey::LegacySyncState)
            .await
            .expect("get"),
        None
    );
    store.close().await;
}

async fn an_unreadable_blob_converts_to_no_state(db: &TestDb) {
    // Given a blob of another state version and one that is not JSON,
    let mut other = serde_json::to_value(state(2, "x")).expect("json");
    other["version"] = json!(paydown_sync::state::STATE_VERSION + 1);
    put_blob(db, "acme/v2", &other.to_string()).await;
    put_blob(db, "acme/junk", "{not json").await;
    // when the store opens, then both are dropped and no state is kept:
    // those repositories' next push is a full sync, as before.
    let store = db.store().await;
    for repo in ["acme/v2", "acme/junk"] {
        assert_eq!(store.sync_state_load(repo).await.expect("load"), None);
        assert_eq!(
            store
                .repo_state_get(repo, &RepoStateKey::LegacySyncState)
                .await
                .expect("get"),
            None
        );
    }
    store.close().await;
}
