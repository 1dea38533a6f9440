//! Leader election for periodic jobs, and the record of when each job last
//! ran. A lease row names the replica that leads until `expires_at`; the
//! holder renews it, any replica takes it once it expired. The take-over
//! is one conditional upsert, so two replicas racing for an expired lease
//! cannot both win (the row lock on PostgreSQL, the single writer on
//! SQLite). Readiness (schema migrated) lives here too: it is the other
//! question replicas ask the database about themselves.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Backend, Store, StoreError, duration_ms, migrations, now_ms, to_datetime, with_pool};

/// Who leads, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderLease {
    /// The replica holding it (its process name: pid and start time).
    pub holder: String,
    /// When it runs out unless renewed.
    pub expires_at: DateTime<Utc>,
    /// When this holder took the lease (renewals keep it).
    pub acquired_at: DateTime<Utc>,
}

/// The last run of a periodic job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodicRun {
    /// The replica that ran it (its process name).
    pub holder: String,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it ended; `None` while running (or if the replica died).
    pub finished_at: Option<DateTime<Utc>>,
    /// Its error, when it failed.
    pub last_error: Option<String>,
}

/// Takes the lease when it is free, expired or already ours; returns the
/// holder afterwards only when that is us.
const TRY_LEAD: &str = "INSERT INTO leader_leases (name, holder, expires_at, acquired_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) DO UPDATE
        SET holder = excluded.holder,
            expires_at = excluded.expires_at,
            acquired_at = CASE WHEN leader_leases.holder = excluded.holder
                               THEN leader_leases.acquired_at ELSE excluded.acquired_at END
        WHERE leader_leases.holder = excluded.holder OR leader_leases.expires_at <= $4
     RETURNING holder";

impl Store {
    /// Takes or renews the lease `name` for `holder` for `ttl`; `true` when
    /// `holder` leads until now + `ttl`.
    pub async fn try_lead(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let row: Option<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as(TRY_LEAD)
                .bind(name)
                .bind(holder)
                .bind(now.saturating_add(duration_ms(ttl)))
                .bind(now)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("take the leader lease"))?;
        Ok(row.is_some())
    }

    /// Gives the lease up at once (graceful shutdown), if `holder` has it.
    pub async fn resign(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM leader_leases WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(StoreError::query("give up the leader lease"))
    }

    /// The lease `name` as stored (possibly expired), for operators and tests.
    pub async fn leader(&self, name: &str) -> Result<Option<LeaderLease>, StoreError> {
        let row: Option<(String, i64, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT holder, expires_at, acquired_at FROM leader_leases WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query("read the leader lease"))?;
        Ok(row.map(|(holder, expires_at, acquired_at)| LeaderLease {
            holder,
            expires_at: to_datetime(expires_at),
            acquired_at: to_datetime(acquired_at),
        }))
    }

    /// Records that `holder` starts periodic job `name` now.
    pub async fn periodic_started(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO periodic_runs (name, holder, started_at, finished_at, last_error)
                 VALUES ($1, $2, $3, NULL, NULL)
                 ON CONFLICT (name) DO UPDATE
                    SET holder = excluded.holder, started_at = excluded.started_at,
                        finished_at = NULL, last_error = NULL",
            )
            .bind(name)
            .bind(holder)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("record a periodic job start"))
    }

    /// Records how the run of `name` started by `holder` ended.
    pub async fn periodic_finished(
        &self,
        name: &str,
        holder: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE periodic_runs SET finished_at = $3, last_error = $4
                 WHERE name = $1 AND holder = $2",
            )
            .bind(name)
            .bind(holder)
            .bind(now_ms())
            .bind(error)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("record a periodic job end"))
    }

    /// The last run of periodic job `name`, if it ever ran.
    pub async fn periodic_run(&self, name: &str) -> Result<Option<PeriodicRun>, StoreError> {
        type RunRow = (String, i64, Option<i64>, Option<String>);
        let row: Option<RunRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT holder, started_at, finished_at, last_error FROM periodic_runs WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query("read a periodic job run"))?;
        Ok(row.map(
            |(holder, started_at, finished_at, last_error)| PeriodicRun {
                holder,
                started_at: to_datetime(started_at),
                finished_at: finished_at.map(to_datetime),
                last_error,
            },
        ))
    }

    /// Whether the database answers and its schema is at the version this
    /// binary migrates to (`GET /readyz`). A replica of an older binary
    /// sees a newer schema as ready too: migrations only ever add.
    pub async fn readiness(&self) -> Result<Readiness, StoreError> {
        let latest = migrations::latest_version(matches!(self.backend, Backend::Postgres(_)));
        let applied: Option<i64> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await
        })
        .map_err(StoreError::query("read the applied migrations"))?;
        let applied = applied.unwrap_or(0);
        Ok(Readiness {
            schema_version: applied,
            expected_version: latest,
        })
    }
}

/// Result of [`Store::readiness`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The newest migration applied to the database.
    pub schema_version: i64,
    /// The newest migration this binary knows.
    pub expected_version: i64,
}

impl Readiness {
    /// Whether the schema is at least what this binary expects (`/readyz` answers 200).
    pub fn is_ready(&self) -> bool {
        self.schema_version >= self.expected_version
    }
}
