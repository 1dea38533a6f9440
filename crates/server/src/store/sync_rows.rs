//! Each repository's [`SyncState`] as rows (migration 0007): one head row,
//! one row per tracked issue number, one per scanned file. Saving writes
//! the [`SyncState::delta_from`] the state the caller loaded, so a push
//! that touches k items writes O(k) rows, not the whole state as the JSON
//! blob in `repo_state` did (13.8 MB at 10,000 items).
//!
//! Blobs left by earlier versions under [`RepoStateKey::LegacySyncState`] are
//! converted when the store opens and, should a replica of an older
//! version still write one during a rolling upgrade, on the next load of
//! that repository; the blob is deleted in the same transaction.

use paydown_sync::SyncState;
use paydown_sync::state::{IssueRow, StateDelta, StateHead, StoredAnnotation};

use super::{RepoStateKey, Store, StoreError, now_ms, with_pool};

/// What a save wrote: rows inserted, replaced or deleted, and the bytes of
/// the values written (the JSON columns and keys).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowsWritten {
    /// Rows inserted, replaced or deleted.
    pub rows: u64,
    /// Bytes of the keys and values written.
    pub bytes: u64,
}

const UPSERT_HEAD: &str = "INSERT INTO sync_heads (repo, version, sha, head, updated_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (repo) DO UPDATE SET version = excluded.version, sha = excluded.sha,
        head = excluded.head, updated_at = excluded.updated_at";
const UPSERT_ISSUE: &str = "INSERT INTO sync_issues (repo, number, item_id, row_json, updated_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (repo, number) DO UPDATE SET item_id = excluded.item_id,
        row_json = excluded.row_json, updated_at = excluded.updated_at";
const UPSERT_FILE: &str = "INSERT INTO sync_files (repo, path, annotations, updated_at)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (repo, path) DO UPDATE SET annotations = excluded.annotations,
        updated_at = excluded.updated_at";

/// A delta as the text the statements bind.
struct Encoded {
    head: Option<(i64, String, String)>,
    issues: Vec<(i64, Option<String>, String)>,
    removed_issues: Vec<i64>,
    files: Vec<(String, String)>,
    removed_files: Vec<String>,
    /// Delete every row of the repository first (no previous state known).
    replace: bool,
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("sync state: {e}")))
}

fn number(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("issue number {n} out of range")))
}

impl Encoded {
    fn new(delta: StateDelta, replace: bool) -> Result<Encoded, StoreError> {
        Ok(Encoded {
            head: match delta.head {
                Some(head) => Some((i64::from(head.version), head.sha.clone(), json(&head)?)),
                None => None,
            },
            issues: delta
                .issues
                .iter()
                .map(|row| {
                    Ok((
                        number(row.number)?,
                        row.item_id().map(str::to_owned),
                        json(row)?,
                    ))
                })
                .collect::<Result<_, StoreError>>()?,
            removed_issues: delta
                .removed_issues
                .into_iter()
                .map(number)
                .collect::<Result<_, _>>()?,
            files: delta
                .files
                .iter()
                .map(|(path, list)| Ok((path.clone(), json(list)?)))
                .collect::<Result<_, StoreError>>()?,
            removed_files: delta.removed_files,
            replace,
        })
    }

    fn bytes(&self) -> u64 {
        let head = self
            .head
            .as_ref()
            .map_or(0, |(_, sha, h)| sha.len() + h.len());
        let issues: usize = self
            .issues
            .iter()
            .map(|(_, id, row)| 8 + id.as_ref().map_or(0, String::len) + row.len())
            .sum();
        let files: usize = self.files.iter().map(|(p, a)| p.len() + a.len()).sum();
        (head + issues + files) as u64
    }
}

impl Store {
    /// The sync state of `repo`, `None` when none is kept (or it is of
    /// another version): the caller then runs a full sync.
    pub async fn sync_state_load(&self, repo: &str) -> Result<Option<SyncState>, StoreError> {
        self.convert_sync_blob(repo).await?;
        let head: Option<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT head FROM sync_heads WHERE repo = $1")
                .bind(repo)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read a sync state head"))?;
        let Some((head,)) = head else {
            return Ok(None);
        };
        let Ok(head) = serde_json::from_str::<StateHead>(&head) else {
            tracing::warn!(
                repo,
                "unreadable sync state head; the next sync is a full one"
            );
            return Ok(None);
        };
        let issues: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT row_json FROM sync_issues WHERE repo = $1")
                .bind(repo)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read sync state issues"))?;
        let files: Vec<(String, String)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT path, annotations FROM sync_files WHERE repo = $1")
                .bind(repo)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read sync state files"))?;
        let issues: Result<Vec<IssueRow>, _> = issues
            .iter()
            .map(|(row,)| serde_json::from_str(row))
            .collect();
        let files: Result<Vec<(String, Vec<StoredAnnotation>)>, _> = files
            .into_iter()
            .map(|(path, list)| serde_json::from_str(&list).map(|list| (path, list)))
            .collect();
        match (issues, files) {
            (Ok(issues), Ok(files)) => Ok(SyncState::from_rows(head, issues, files)),
            _ => {
                tracing::warn!(
                    repo,
                    "unreadable sync state rows; the next sync is a full one"
                );
                Ok(None)
            }
        }
    }

    /// Writes `new` as the sync state of `repo`, given `old`, the state
    /// [`Store::sync_state_load`] returned before the run: only the rows
    /// that differ are written. With no `old`, every row of the repository
    /// is replaced.
    pub async fn sync_state_save(
        &self,
        repo: &str,
        old: Option<&SyncState>,
        new: &SyncState,
    ) -> Result<RowsWritten, StoreError> {
        let encoded = Encoded::new(new.delta_from(old), old.is_none())?;
        self.write_rows(repo, &encoded, false).await
    }

    /// Converts every sync state blob to rows (on start, after migrating).
    /// Returns how many were converted.
    pub async fn convert_sync_state_blobs(&self) -> Result<usize, StoreError> {
        let blob_key = RepoStateKey::LegacySyncState.as_key();
        let repos: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT repo FROM repo_state WHERE key = $1 ORDER BY repo")
                .bind(&blob_key)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("list sync state blobs"))?;
        let mut converted = 0;
        for (repo,) in repos {
            converted += usize::from(self.convert_sync_blob(&repo).await?);
        }
        if converted > 0 {
            tracing::info!(converted, "sync state blobs converted to rows");
        }
        Ok(converted)
    }

    /// Converts `repo`'s blob, if one is kept; returns whether there was one.
    async fn convert_sync_blob(&self, repo: &str) -> Result<bool, StoreError> {
        let blob_key = RepoStateKey::LegacySyncState.as_key();
        let blob: Option<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT value FROM repo_state WHERE repo = $1 AND key = $2")
                .bind(repo)
                .bind(&blob_key)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read a sync state blob"))?;
        let Some((blob,)) = blob else {
            return Ok(false);
        };
        // An unreadable blob (or one of another version) converts to no
        // rows: the next sync is a full one, as it was with the blob.
        let encoded = match SyncState::from_json(&blob) {
            Some(state) => Encoded::new(state.delta_from(None), true)?,
            None => Encoded::new(StateDelta::default(), true)?,
        };
        self.write_rows(repo, &encoded, true).await?;
        Ok(true)
    }

    /// Writes `rows` in one transaction; `drop_blob` also deletes the blob
    /// they were converted from (a blob written by an older replica
    /// meanwhile is converted on the next load).
    async fn write_rows(
        &self,
        repo: &str,
        rows: &Encoded,
        drop_blob: bool,
    ) -> Result<RowsWritten, StoreError> {
        let now = now_ms();
        let blob_key = RepoStateKey::LegacySyncState.as_key();
        let mut written = RowsWritten {
            rows: 0,
            bytes: rows.bytes(),
        };
        let count = with_pool!(self, |pool| {
            async {
                let mut n = 0u64;
                let mut tx = pool.begin().await?;
                if drop_blob {
                    sqlx::query("DELETE FROM repo_state WHERE repo = $1 AND key = $2")
                        .bind(repo)
                        .bind(&blob_key)
                        .execute(&mut *tx)
                        .await?;
                }
                if rows.replace {
                    for table in ["sync_heads", "sync_issues", "sync_files"] {
                        n += sqlx::query(&format!("DELETE FROM {table} WHERE repo = $1"))
                            .bind(repo)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                }
                if let Some((version, sha, head)) = &rows.head {
                    n += sqlx::query(UPSERT_HEAD)
                        .bind(repo)
                        .bind(version)
                        .bind(sha)
                        .bind(head)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                for number in &rows.removed_issues {
                    n += sqlx::query("DELETE FROM sync_issues WHERE repo = $1 AND number = $2")
                        .bind(repo)
                        .bind(number)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                for (number, item_id, row) in &rows.issues {
                    n += sqlx::query(UPSERT_ISSUE)
                        .bind(repo)
                        .bind(number)
                        .bind(item_id)
                        .bind(row)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                for path in &rows.removed_files {
                    n += sqlx::query("DELETE FROM sync_files WHERE repo = $1 AND path = $2")
                        .bind(repo)
                        .bind(path)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                for (path, annotations) in &rows.files {
                    n += sqlx::query(UPSERT_FILE)
                        .bind(repo)
                        .bind(path)
                        .bind(annotations)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                Ok::<u64, sqlx::Error>(n)
            }
            .await
        })
        .map_err(StoreError::query("write a sync state"))?;
        written.rows = count;
        Ok(written)
    }
}
