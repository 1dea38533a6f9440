//! The per-installation write log behind write pacing (`crate::pacing`
//! decides; this file only keeps the rows): a slot is taken atomically —
//! the installation's recent slots are read and the new one inserted in
//! one transaction that holds the installation's lock — so workers and
//! replicas never hand out the same budget twice.

use super::{Store, StoreError, with_pool};

pub use paydown_github::pacing::WriteSlot;

/// Serialises slot reservations of one installation across replicas for
/// the rest of the transaction (SQLite's writer lock does it there).
const PACE_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('paydown.pace:' || current_schema() || ':' || CAST($1 AS TEXT)))";
/// `$1` installation, `$2` prune slots before this time.
const PRUNE: &str = "DELETE FROM write_slots WHERE installation_id = $1 AND at_ms < $2";
const RECENT: &str = "SELECT at_ms, content FROM write_slots WHERE installation_id = $1 AND at_ms >= $2 ORDER BY at_ms, id";
const INSERT: &str =
    "INSERT INTO write_slots (installation_id, at_ms, content) VALUES ($1, $2, $3)";

/// `$1` installation, `$2` until: moves the window later, never earlier.
const NOTE_QUIET: &str = "INSERT INTO installation_quiet (installation_id, until_ms) VALUES ($1, $2) \
     ON CONFLICT (installation_id) DO UPDATE SET until_ms = CASE \
     WHEN excluded.until_ms > installation_quiet.until_ms THEN excluded.until_ms \
     ELSE installation_quiet.until_ms END";
const QUIET: &str = "SELECT until_ms FROM installation_quiet WHERE installation_id = $1";

impl Store {
    /// Records that `installation` must send nothing before `until_ms`
    /// (UTC unix ms); a later window already recorded stays.
    pub async fn note_quiet_until(
        &self,
        installation: i64,
        until_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(lease: self, |pool| {
            sqlx::query(NOTE_QUIET)
                .bind(installation)
                .bind(until_ms)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(StoreError::query("note a quiet window"))
    }

    /// Until when `installation` must send nothing (UTC unix ms), if a
    /// window was ever recorded (it may be past).
    pub async fn quiet_until(&self, installation: i64) -> Result<Option<i64>, StoreError> {
        with_pool!(lease: self, |pool| {
            sqlx::query_scalar::<_, i64>(QUIET)
                .bind(installation)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read a quiet window"))
    }

    /// Takes a write slot for `installation`: prunes its slots before
    /// `since_ms`, shows `decide` the rest (oldest first, future
    /// reservations included) and stores the slot it returns, if any, all
    /// under the installation's lock. Returns what `decide` returned.
    pub async fn reserve_write_slot(
        &self,
        installation: i64,
        since_ms: i64,
        decide: impl FnOnce(&[WriteSlot]) -> Option<WriteSlot>,
    ) -> Result<Option<WriteSlot>, StoreError> {
        // Slot bookkeeping runs on the lease pool: losing the last few to a
        // power cut only lets a few writes go out a little early.
        let reserved = with_pool!(lease: self, |pool| {
            async {
                let mut tx = pool.begin().await?;
                if self.backend_name() == "postgres" {
                    sqlx::query(PACE_LOCK)
                        .bind(installation)
                        .execute(&mut *tx)
                        .await?;
                }
                // On SQLite this first write takes the writer lock, so the
                // read below and the insert are atomic.
                sqlx::query(PRUNE)
                    .bind(installation)
                    .bind(since_ms)
                    .execute(&mut *tx)
                    .await?;
                let rows: Vec<(i64, i32)> = sqlx::query_as(RECENT)
                    .bind(installation)
                    .bind(since_ms)
                    .fetch_all(&mut *tx)
                    .await?;
                let log: Vec<WriteSlot> = rows
                    .into_iter()
                    .map(|(at_ms, content)| WriteSlot {
                        at_ms,
                        content: content != 0,
                    })
                    .collect();
                let slot = decide(&log);
                if let Some(slot) = slot {
                    sqlx::query(INSERT)
                        .bind(installation)
                        .bind(slot.at_ms)
                        .bind(i32::from(slot.content))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(slot)
            }
            .await
        });
        reserved.map_err(StoreError::query("reserve a write slot"))
    }

    /// The write slots of `installation` from `since_ms` on, oldest first.
    pub async fn write_slots(
        &self,
        installation: i64,
        since_ms: i64,
    ) -> Result<Vec<WriteSlot>, StoreError> {
        let rows: Vec<(i64, i32)> = with_pool!(lease: self, |pool| {
            sqlx::query_as(RECENT)
                .bind(installation)
                .bind(since_ms)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("read write slots"))?;
        Ok(rows
            .into_iter()
            .map(|(at_ms, content)| WriteSlot {
                at_ms,
                content: content != 0,
            })
            .collect())
    }
}
