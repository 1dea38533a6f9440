//! The delivery queue: enqueue with dedupe, claim with leases and the
//! per-repository rule, heartbeat, complete / fail (retry policy) /
//! release, and read-only views for metrics and operators.

use std::time::Duration;

use sqlx::Row;

use super::{
    Claimed, DeliveryRecord, DeliveryStatus, Enqueued, FailOutcome, NewDelivery, StatusCounts,
    Store, StoreError, duration_ms, now_ms, postgres, to_datetime, with_pool,
};

/// A claim candidate: the oldest row matching `$filter` whose repository
/// has no other delivery under an unexpired lease, found by a `LIMIT 1`
/// walk of `deliveries_ready (status, run_at, id)` in index order. The walk
/// skips rows of busy repositories at its head, so it serves the statuses
/// that hold few rows (retry, running); an `OR` over statuses would read
/// every ready row and sort them.
macro_rules! claim_walk {
    ($filter:literal, $lock:literal) => {
        concat!(
            "SELECT b.id, b.run_at FROM (
                SELECT d.id, d.run_at FROM deliveries d
                 WHERE ",
            $filter,
            "
                   AND (d.repo_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM deliveries o
                         WHERE o.repo_key = d.repo_key AND o.status = 'running'
                           AND o.lease_expires_at > $2 AND o.id <> d.id))
                 ORDER BY d.run_at, d.id
                 LIMIT 1 ",
            $lock,
            ") b"
        )
    };
}

/// The pending candidate. Among repositories' heads, the installation
/// served least recently goes first ([`NOTE_CLAIM`] keeps when each was
/// last served), then the oldest: a round-robin by installation, so one
/// noisy installation cannot starve the others. A backlog is often one
/// busy repository (a push storm), where a walk in age order would step over the whole backlog on
/// every claim. Instead, a skip scan of `deliveries_queue_heads (status,
/// repo_key, run_at, id)` visits each repository with pending work once,
/// takes its oldest delivery unless the repository is busy, and keeps the
/// oldest of those: O(repositories · log n), independent of queue length.
/// Deliveries without a repository key are one more index seek.
macro_rules! claim_pending {
    ($lock:literal) => {
        concat!(
            "SELECT b.id, b.run_at FROM (
                WITH RECURSIVE keys(k) AS (
                    SELECT MIN(repo_key) FROM deliveries WHERE status = 'pending'
                    UNION ALL
                    SELECT (SELECT MIN(q.repo_key) FROM deliveries q
                             WHERE q.status = 'pending' AND q.repo_key > keys.k)
                      FROM keys WHERE keys.k IS NOT NULL)
                SELECT d.id, d.run_at FROM keys JOIN deliveries d ON d.id = (
                        SELECT h.id FROM deliveries h
                         WHERE h.status = 'pending' AND h.repo_key = keys.k AND h.run_at <= $4
                         ORDER BY h.run_at, h.id LIMIT 1)
                 WHERE keys.k IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM deliveries o
                         WHERE o.repo_key = keys.k AND o.status = 'running'
                           AND o.lease_expires_at > $2)
                 ORDER BY COALESCE((SELECT f.claimed_at FROM installation_claims f
                                     WHERE f.installation_id = d.installation_id), 0),
                          d.run_at, d.id
                 LIMIT 1 ",
            $lock,
            ") b
             UNION ALL
             SELECT b.id, b.run_at FROM (
                SELECT d.id, d.run_at FROM deliveries d
                 WHERE d.status = 'pending' AND d.repo_key IS NULL AND d.run_at <= $4
                 ORDER BY d.run_at, d.id
                 LIMIT 1 ",
            $lock,
            ") b"
        )
    };
}

/// Picks the oldest ready delivery — pending/retry and due, or running with
/// an expired lease (its worker died or stalled; that counts as a failed
/// attempt) — whose repository has no other delivery under an unexpired
/// lease, and leases it: the earliest of the per-status candidates, each
/// found through an index without reading the backlog.
/// `$1` worker, `$2` now, `$3` lease expiry, `$4` the time deliveries
/// are due by (now on the pacing clock: a simulated one in tests, where
/// leases stay on the wall clock). `$lock` is
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL. In `SET`, `status` is the value
/// before the update.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE deliveries
                SET status = 'running', lease_owner = $1, lease_token = lease_token + 1,
                    lease_expires_at = $3, updated_at = $2,
                    attempts = CASE WHEN status = 'running' THEN attempts + 1 ELSE attempts END,
                    last_error = CASE WHEN status = 'running'
                                      THEN 'lease expired: worker ' || COALESCE(lease_owner, '?')
                                           || ' stopped or stalled before finishing'
                                      ELSE last_error END
              WHERE id = (
                    SELECT c.id FROM (",
            claim_pending!($lock),
            " UNION ALL ",
            claim_walk!("d.status = 'retry' AND d.run_at <= $4", $lock),
            " UNION ALL ",
            claim_walk!("d.status = 'running' AND d.lease_expires_at <= $2", $lock),
            ") c
                     ORDER BY c.run_at, c.id
                     LIMIT 1)
          RETURNING id, delivery_id, event, action, repo_key, installation_id, payload,
                    attempts, lease_token"
        )
    };
}

/// Dead-letters deliveries whose lease expired on their last allowed
/// attempt, so a payload that crashes workers is not retried forever.
/// `$1` now, `$2` max attempts.
const SWEEP_EXPIRED: &str = "UPDATE deliveries
    SET status = 'dead', attempts = attempts + 1, lease_expires_at = NULL,
        last_error = 'lease expired: worker ' || COALESCE(lease_owner, '?')
                     || ' stopped or stalled before finishing',
        updated_at = $1, finished_at = $1
  WHERE status = 'running' AND lease_expires_at <= $1 AND attempts + 1 >= $2";

/// Notes when the claimed delivery's installation was served (the order
/// claims take, [`NOTE_CLAIM`]), inside the claim's transaction; the same
/// text for both backends' transaction types.
macro_rules! note_claim {
    ($tx:ident, $row:ident, $now:ident) => {
        if let Some(installation) = $row
            .as_ref()
            .map(|r| r.try_get::<Option<i64>, _>("installation_id"))
            .transpose()?
            .flatten()
        {
            sqlx::query(NOTE_CLAIM)
                .bind(installation)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// Records when the claimed delivery's installation was served, for the
/// round-robin in [`claim_pending`]. `$1` installation, `$2` now.
const NOTE_CLAIM: &str = "INSERT INTO installation_claims (installation_id, claimed_at)
     VALUES ($1, $2)
     ON CONFLICT (installation_id) DO UPDATE SET claimed_at = excluded.claimed_at";

const CLAIM_SQLITE: &str = claim_sql!("");
const CLAIM_POSTGRES: &str = claim_sql!("FOR UPDATE SKIP LOCKED");

const RECORD_COLUMNS: &str = "id, delivery_id, event, action, repo_key, installation_id, status, \
     attempts, last_error, lease_owner, lease_expires_at, run_at, created_at, updated_at, \
     finished_at";

macro_rules! claimed_from_row {
    ($row:expr, $worker:expr) => {{
        let row = $row;
        let attempts: i32 = row.try_get("attempts")?;
        Claimed {
            id: row.try_get("id")?,
            delivery_id: row.try_get("delivery_id")?,
            event: row.try_get("event")?,
            action: row.try_get("action")?,
            repo_key: row.try_get("repo_key")?,
            installation_id: row.try_get("installation_id")?,
            payload: row.try_get("payload")?,
            attempts: u32::try_from(attempts).unwrap_or(0),
            lease_token: row.try_get("lease_token")?,
            worker_id: $worker.to_owned(),
        }
    }};
}

macro_rules! record_from_row {
    ($row:expr) => {{
        let row = $row;
        let delivery_id: String = row.try_get("delivery_id")?;
        let status: String = row.try_get("status")?;
        let attempts: i32 = row.try_get("attempts")?;
        let lease_expires_at: Option<i64> = row.try_get("lease_expires_at")?;
        let finished_at: Option<i64> = row.try_get("finished_at")?;
        Ok::<_, sqlx::Error>(match DeliveryStatus::parse(&status) {
            Some(status) => Ok(DeliveryRecord {
                id: row.try_get("id")?,
                event: row.try_get("event")?,
                action: row.try_get("action")?,
                repo_key: row.try_get("repo_key")?,
                installation_id: row.try_get("installation_id")?,
                status,
                attempts: u32::try_from(attempts).unwrap_or(0),
                last_error: row.try_get("last_error")?,
                lease_owner: row.try_get("lease_owner")?,
                lease_expires_at: lease_expires_at.map(to_datetime),
                run_at: to_datetime(row.try_get("run_at")?),
                created_at: to_datetime(row.try_get("created_at")?),
                updated_at: to_datetime(row.try_get("updated_at")?),
                finished_at: finished_at.map(to_datetime),
                delivery_id,
            }),
            None => Err(StoreError::UnknownStatus {
                delivery_id,
                status,
            }),
        })
    }};
}

impl Store {
    /// Stores a delivery unless one with the same `delivery_id` exists.
    /// Race-free: concurrent enqueues of one id store exactly one row.
    pub async fn enqueue(&self, delivery: NewDelivery) -> Result<Enqueued, StoreError> {
        self.enqueue_at(delivery, None).await
    }

    /// [`Store::enqueue`] of a delivery not to run before `run_at_ms`
    /// (unix ms on the pacing clock; `None`: at once), such as the next
    /// batch of a paced import.
    pub async fn enqueue_at(
        &self,
        delivery: NewDelivery,
        run_at_ms: Option<i64>,
    ) -> Result<Enqueued, StoreError> {
        let now = now_ms();
        let run_at = run_at_ms.unwrap_or(now);
        let sql = "INSERT INTO deliveries
                       (delivery_id, event, action, repo_key, installation_id, payload,
                        status, attempts, run_at, created_at, updated_at, finished_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $9, 0, $8, $7, $7, $10)
                   ON CONFLICT (delivery_id) DO NOTHING
                   RETURNING id";
        let inserted = with_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(&delivery.delivery_id)
                .bind(&delivery.event)
                .bind(&delivery.action)
                .bind(&delivery.repo_key)
                .bind(delivery.installation_id)
                .bind(&delivery.payload)
                .bind(now)
                .bind(run_at)
                .bind(super::batch::status(&delivery))
                .bind(delivery.settled.then_some(now))
                .fetch_optional(pool)
                .await
                .map(|row| row.is_some())
        })
        .map_err(StoreError::query("enqueue a delivery"))?;
        Ok(if inserted {
            Enqueued::New
        } else {
            Enqueued::Duplicate
        })
    }

    /// Leases the oldest ready delivery to `worker_id` for `lease`, or
    /// returns `None` when nothing is ready. A delivery whose repository
    /// already has a delivery under an unexpired lease is not ready.
    pub async fn claim(
        &self,
        worker_id: &str,
        lease: Duration,
    ) -> Result<Option<Claimed>, StoreError> {
        self.claim_due(worker_id, lease, now_ms()).await
    }

    /// [`Store::claim`] of deliveries due by `due_ms` (unix milliseconds on
    /// the pacing clock); leases still run on the wall clock.
    pub async fn claim_due(
        &self,
        worker_id: &str,
        lease: Duration,
        due_ms: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let now = now_ms();
        let expires = now.saturating_add(duration_ms(lease));
        let max_attempts = i64::from(self.retry.max_attempts.max(1));
        let claimed = match &self.lease {
            super::Backend::Sqlite(pool) => {
                async {
                    // One transaction, so one commit (one WAL sync) per
                    // claim. The sweep takes SQLite's write lock before
                    // anything is read, so selection and lease are atomic.
                    let mut tx = pool.begin().await?;
                    sqlx::query(SWEEP_EXPIRED)
                        .bind(now)
                        .bind(max_attempts)
                        .execute(&mut *tx)
                        .await?;
                    let row = sqlx::query(CLAIM_SQLITE)
                        .bind(worker_id)
                        .bind(now)
                        .bind(expires)
                        .bind(due_ms)
                        .fetch_optional(&mut *tx)
                        .await?;
                    note_claim!(tx, row, now);
                    tx.commit().await?;
                    row.map(|row| Ok::<_, sqlx::Error>(claimed_from_row!(row, worker_id)))
                        .transpose()
                }
                .await
            }
            super::Backend::Postgres(pool) => {
                async {
                    let mut tx = pool.begin().await?;
                    sqlx::query(postgres::CLAIM_LOCK).execute(&mut *tx).await?;
                    sqlx::query(SWEEP_EXPIRED)
                        .bind(now)
                        .bind(max_attempts)
                        .execute(&mut *tx)
                        .await?;
                    let row = sqlx::query(CLAIM_POSTGRES)
                        .bind(worker_id)
                        .bind(now)
                        .bind(expires)
                        .bind(due_ms)
                        .fetch_optional(&mut *tx)
                        .await?;
                    note_claim!(tx, row, now);
                    tx.commit().await?;
                    row.map(|row| Ok::<_, sqlx::Error>(claimed_from_row!(row, worker_id)))
                        .transpose()
                }
                .await
            }
        };
        claimed.map_err(StoreError::query("claim a delivery"))
    }

    /// Heartbeat: moves the lease expiry of `claim` to now + `lease`.
    pub async fn extend_lease(&self, claim: &Claimed, lease: Duration) -> Result<(), StoreError> {
        let now = now_ms();
        let expires = now.saturating_add(duration_ms(lease));
        self.finish_claim(
            claim,
            "extend a lease",
            "UPDATE deliveries SET lease_expires_at = $3, updated_at = $4
              WHERE id = $1 AND lease_token = $2 AND status = 'running'",
            QueryBinds::default().bind(expires).bind(now),
        )
        .await
    }

    /// Marks the claimed delivery done.
    pub async fn complete(&self, claim: &Claimed) -> Result<(), StoreError> {
        let now = now_ms();
        self.finish_claim(
            claim,
            "complete a delivery",
            "UPDATE deliveries
                SET status = 'done', lease_expires_at = NULL, updated_at = $3, finished_at = $3
              WHERE id = $1 AND lease_token = $2 AND status = 'running'",
            QueryBinds::default().bind(now),
        )
        .await
    }

    /// Records a failed attempt with `error`: the delivery is scheduled
    /// again after the policy's backoff, or becomes `dead` when this was
    /// its last allowed attempt.
    pub async fn fail(&self, claim: &Claimed, error: &str) -> Result<FailOutcome, StoreError> {
        let outcome = self.retry.after_failure(claim.attempts);
        self.record_failure(claim, error, outcome).await
    }

    /// Records a failed attempt that no retry can fix (a payload that
    /// cannot be parsed): the delivery is `dead` at once, with `error`.
    pub async fn fail_permanently(
        &self,
        claim: &Claimed,
        error: &str,
    ) -> Result<FailOutcome, StoreError> {
        let attempts = claim.attempts.saturating_add(1);
        self.record_failure(claim, error, FailOutcome::Dead { attempts })
            .await
    }

    async fn record_failure(
        &self,
        claim: &Claimed,
        error: &str,
        outcome: FailOutcome,
    ) -> Result<FailOutcome, StoreError> {
        let now = now_ms();
        let (status, attempts, run_at, finished_at) = match outcome {
            FailOutcome::Retry { attempts, delay } => (
                DeliveryStatus::Retry,
                attempts,
                now.saturating_add(duration_ms(delay)),
                None,
            ),
            FailOutcome::Dead { attempts } => (DeliveryStatus::Dead, attempts, now, Some(now)),
        };
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        self.finish_claim(
            claim,
            "record a failed delivery",
            "UPDATE deliveries
                SET status = $3, attempts = $4, run_at = $5, last_error = $6,
                    lease_expires_at = NULL, updated_at = $7, finished_at = $8
              WHERE id = $1 AND lease_token = $2 AND status = 'running'",
            QueryBinds::default()
                .bind(status.as_str())
                .bind(attempts)
                .bind(run_at)
                .bind(error)
                .bind(now)
                .bind(finished_at),
        )
        .await?;
        Ok(outcome)
    }

    /// Ends this attempt without counting it and schedules the delivery
    /// to run again at `run_at_ms` (unix milliseconds on the pacing
    /// clock): a paced job whose write budget is spent, so no worker
    /// sleeps holding its lease. `note` says why (shown as its last error).
    pub async fn defer(
        &self,
        claim: &Claimed,
        run_at_ms: i64,
        note: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.finish_claim(
            claim,
            "defer a delivery",
            "UPDATE deliveries
                SET status = 'pending', run_at = $3, last_error = $4,
                    lease_expires_at = NULL, updated_at = $5
              WHERE id = $1 AND lease_token = $2 AND status = 'running'",
            QueryBinds::default().bind(run_at_ms).bind(note).bind(now),
        )
        .await
    }

    /// The earliest `run_at` of the deliveries waiting to run (pending or
    /// retry), due or not; `None` when none waits. Idle workers sleep until
    /// then (on the pacing clock) rather than poll past it.
    pub async fn next_run_at(&self) -> Result<Option<i64>, StoreError> {
        let (pending, retry): (Option<i64>, Option<i64>) = with_pool!(lease: self, |pool| {
            sqlx::query_as(
                "SELECT (SELECT MIN(run_at) FROM deliveries WHERE status = 'pending'),
                        (SELECT MIN(run_at) FROM deliveries WHERE status = 'retry')",
            )
            .fetch_one(pool)
            .await
        })
        .map_err(StoreError::query("read the next run time"))?;
        Ok(match (pending, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// Gives the delivery back without counting an attempt (graceful
    /// shutdown); it is ready again at once.
    pub async fn release(&self, claim: &Claimed) -> Result<(), StoreError> {
        let now = now_ms();
        self.finish_claim(
            claim,
            "release a delivery",
            "UPDATE deliveries
                SET status = 'pending', lease_expires_at = NULL, updated_at = $3
              WHERE id = $1 AND lease_token = $2 AND status = 'running'",
            QueryBinds::default().bind(now),
        )
        .await
    }

    /// Runs an update guarded by the claim's lease token (`$1` id, `$2`
    /// token, then `binds`); no row updated means the lease was lost.
    async fn finish_claim(
        &self,
        claim: &Claimed,
        op: &'static str,
        sql: &'static str,
        binds: QueryBinds<'_>,
    ) -> Result<(), StoreError> {
        let updated = with_pool!(lease: self, |pool| {
            let mut query = sqlx::query(sql).bind(claim.id).bind(claim.lease_token);
            for value in binds.values {
                query = match value {
                    BindValue::Int(v) => query.bind(v),
                    BindValue::OptInt(v) => query.bind(v),
                    BindValue::Text(v) => query.bind(v),
                };
            }
            query.execute(pool).await.map(|done| done.rows_affected())
        })
        .map_err(StoreError::query(op))?;
        if updated == 0 {
            return Err(StoreError::LeaseLost {
                delivery_id: claim.delivery_id.clone(),
            });
        }
        Ok(())
    }

    /// Deletes deliveries that finished successfully more than
    /// `older_than` ago; returns how many. Their ids stop deduplicating, so
    /// keep this well above GitHub's redelivery window (days, not minutes).
    /// Dead letters are kept for operators.
    pub async fn prune_done(&self, older_than: Duration) -> Result<u64, StoreError> {
        let cutoff = now_ms().saturating_sub(duration_ms(older_than));
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM deliveries WHERE status = 'done' AND finished_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(StoreError::query("prune finished deliveries"))
    }

    /// Deliveries still to be handled: pending, retry and running.
    pub async fn queue_depth(&self) -> Result<i64, StoreError> {
        let counts = self.counts_by_status().await?;
        Ok(counts.pending + counts.retry + counts.running)
    }

    /// Number of deliveries per status.
    pub async fn counts_by_status(&self) -> Result<StatusCounts, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("count deliveries"))?;
        let mut counts = StatusCounts::default();
        for (status, count) in rows {
            // The CHECK constraint keeps other values out.
            if let Some(status) = DeliveryStatus::parse(&status) {
                *counts.slot(status) += count;
            }
        }
        Ok(counts)
    }

    /// The delivery with this `X-GitHub-Delivery` id, if stored.
    pub async fn delivery(&self, delivery_id: &str) -> Result<Option<DeliveryRecord>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM deliveries WHERE delivery_id = $1");
        let record = with_pool!(self, |pool| {
            async {
                let row = sqlx::query(&sql)
                    .bind(delivery_id)
                    .fetch_optional(pool)
                    .await?;
                row.map(|row| record_from_row!(row)).transpose()
            }
            .await
        })
        .map_err(StoreError::query("read a delivery"))?;
        record.transpose()
    }

    /// The most recently dead-lettered deliveries, newest first.
    pub async fn dead_letters(&self, limit: u32) -> Result<Vec<DeliveryRecord>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM deliveries WHERE status = 'dead'
              ORDER BY finished_at DESC, id DESC LIMIT $1"
        );
        let records = with_pool!(self, |pool| {
            async {
                let rows = sqlx::query(&sql)
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await?;
                rows.into_iter()
                    .map(|row| record_from_row!(row))
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            }
            .await
        })
        .map_err(StoreError::query("list dead letters"))?;
        records.into_iter().collect()
    }
}

/// Values bound after id and token in [`Store::finish_claim`]; a small
/// owned list because one closure cannot produce queries of both backends.
#[derive(Default)]
struct QueryBinds<'q> {
    values: Vec<BindValue<'q>>,
}

enum BindValue<'q> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'q str),
}

trait Bind<'q> {
    fn push(self, binds: &mut QueryBinds<'q>);
}

impl<'q> Bind<'q> for i64 {
    fn push(self, binds: &mut QueryBinds<'q>) {
        binds.values.push(BindValue::Int(self));
    }
}

impl<'q> Bind<'q> for i32 {
    fn push(self, binds: &mut QueryBinds<'q>) {
        binds.values.push(BindValue::Int(i64::from(self)));
    }
}

impl<'q> Bind<'q> for Option<i64> {
    fn push(self, binds: &mut QueryBinds<'q>) {
        binds.values.push(BindValue::OptInt(self));
    }
}

impl<'q> Bind<'q> for &'q str {
    fn push(self, binds: &mut QueryBinds<'q>) {
        binds.values.push(BindValue::Text(self));
    }
}

impl<'q> QueryBinds<'q> {
    fn bind(mut self, value: impl Bind<'q>) -> Self {
        value.push(&mut self);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Given a backlog of pending deliveries, when SQLite plans the claim,
    /// then every read of `deliveries` is an index search (no table scan)
    /// and pending work is looked up per repository: claim cost must not
    /// grow with the queue.
    #[tokio::test]
    async fn sqlite_claim_plan_searches_indexes_only() {
        let store = Store::connect("sqlite::memory:")
            .await
            .expect("in-memory store");
        let super::super::Backend::Sqlite(pool) = &store.backend else {
            panic!("sqlite::memory: opened another backend");
        };
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999)
             INSERT INTO deliveries (delivery_id, event, repo_key, payload, status, run_at,
                                     created_at, updated_at)
             SELECT 'd' || i, 'push', 'o/r' || (i % 7), x'00', 'pending', i, i, i FROM n",
        )
        .execute(pool)
        .await
        .expect("backlog");
        sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {CLAIM_SQLITE}"))
                .bind("w")
                .bind(1_000_i64)
                .bind(2_000_i64)
                .bind(1_000_i64)
                .fetch_all(pool)
                .await
                .expect("plan");
        let details: Vec<&str> = plan.iter().map(|(_, _, _, d)| d.as_str()).collect();
        let reads: Vec<&str> = details
            .iter()
            .copied()
            .filter(|d| d.starts_with("SEARCH") || d.starts_with("SCAN"))
            // Subquery results of at most a few rows, and the repository keys.
            .filter(|d| !["SCAN b", "SCAN c", "SCAN keys"].contains(d))
            .collect();
        assert!(!reads.is_empty(), "{details:#?}");
        assert!(
            reads.iter().all(|d| !d.starts_with("SCAN")),
            "table scan in {details:#?}"
        );
        // Pending work is found per repository, never by walking the backlog.
        assert!(
            details.iter().any(|d| d.contains(
                "USING COVERING INDEX deliveries_queue_heads (status=? AND repo_key=? AND run_at<?)"
            )),
            "{details:#?}"
        );
    }
}
