//! Durable storage of the server: the webhook delivery queue (dedupe,
//! leases, per-repository serialisation, retries, dead letters), GitHub App
//! installation records, a small per-repository key-value state and each
//! repository's sync state as rows.
//!
//! Two backends behind one [`Store`]: SQLite (default, an embedded file in
//! WAL mode) and PostgreSQL (several replicas share one database). Both run
//! the same SQL text (`$n` placeholders work in both); only connecting and
//! the cross-replica claim lock differ. Timestamps are UTC unix milliseconds
//! taken from the application clock, so replicas need synchronised clocks
//! (leases are long compared with NTP skew).

mod batch;
mod incidents;
mod leader;
mod migrations;
mod operator;
mod pacing;
mod postgres;
mod queue;
mod records;
mod retry;
mod sqlite;
mod sync_rows;
mod url;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use sqlx::{PgPool, SqlitePool};

pub use batch::BatchWriter;
pub use leader::{LeaderLease, PeriodicRun, Readiness};
pub use operator::OperatorOutcome;
pub use pacing::WriteSlot;
/// The typed keys of the per-repository state, defined by the use-case
/// layer whose cache policy reads and writes them.
pub use paydown_app::state::{RepoStateKey, RepoStatePrefix};
pub use records::{Installation, InstallationRepo};
pub use retry::{FailOutcome, RetryPolicy};
pub use sync_rows::RowsWritten;
pub use url::redact as redact_url;

/// Errors of the storage layer. URLs in messages are redacted.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {url}: use postgres://…, sqlite://path or a plain file path")]
    /// The URL names no backend paydown knows.
    UnsupportedUrl {
        /// The URL, password redacted.
        url: String,
    },
    #[error("invalid database URL {url}: {source}")]
    /// The URL could not be parsed.
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// Why it does not parse.
        source: sqlx::Error,
    },
    #[error("cannot create the SQLite database file {path}: {source}")]
    /// The SQLite file could not be created (owner-only permissions).
    CreateFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    #[error("cannot create the directory {path} for the SQLite database: {source}")]
    /// The SQLite file's directory could not be created.
    CreateDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    #[error("cannot connect to the database at {url}: {source}")]
    /// The database did not accept a connection.
    Connect {
        /// The URL, password redacted.
        url: String,
        /// Why the connection failed.
        source: sqlx::Error,
    },
    #[error("cannot migrate the database schema at {url}: {source}")]
    /// The schema could not be brought up to date.
    Migrate {
        /// The database (password redacted).
        url: String,
        /// Why.
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error while trying to {op}: {source}")]
    /// A statement failed.
    Query {
        /// What the store was doing, for the message.
        op: &'static str,
        /// The database's error.
        source: sqlx::Error,
    },
    #[error(
        "delivery {delivery_id}: the lease is no longer held by this claim (it expired and was taken over, or the delivery was already finished)"
    )]
    /// The claim lost its lease: another worker took the delivery over, or it was already finished.
    LeaseLost {
        /// The delivery.
        delivery_id: String,
    },
    #[error("delivery {delivery_id}: unknown status {status:?} in the database")]
    /// The `status` column holds a value this version does not know (a newer schema?).
    UnknownStatus {
        /// The delivery.
        delivery_id: String,
        /// The status as stored.
        status: String,
    },
    #[error("unreadable record: {0}")]
    /// A stored value could not be read back (a cache entry, a state row).
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn query(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Query { op, source }
    }
}

/// A webhook delivery to store; `repo_key` serialises work: deliveries with
/// the same non-empty key never run concurrently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// `X-GitHub-Delivery`, the dedupe key.
    pub delivery_id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// The payload's `action`, if any.
    pub action: Option<String>,
    /// `"owner/name"` or `"installation:<id>"`; `None` runs unserialised.
    pub repo_key: Option<String>,
    /// The App installation whose token the work uses.
    pub installation_id: Option<i64>,
    /// The raw, already verified request body.
    pub payload: Vec<u8>,
    /// Stored as already done: the routing fields show it needs no work
    /// (`paydown_events::RoutingFields::needs_work`), so no worker claims
    /// it; it is kept for deduplication and the delivery log like any other.
    pub settled: bool,
}

/// Result of [`Store::enqueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored now: a worker will claim it (or, settled, it is already done).
    New,
    /// A delivery with this `delivery_id` was already stored; nothing changed.
    Duplicate,
}

/// A delivery leased to one worker. Only the holder of this exact claim can
/// finish it: once the lease expired and another worker claimed the
/// delivery, the old claim's `complete`/`fail`/`release` get
/// [`StoreError::LeaseLost`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The row id.
    pub id: i64,
    /// `X-GitHub-Delivery`.
    pub delivery_id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// The payload's `action`, if any.
    pub action: Option<String>,
    /// The key work is serialised on.
    pub repo_key: Option<String>,
    /// The installation whose token the work uses.
    pub installation_id: Option<i64>,
    /// The verified request body.
    pub payload: Vec<u8>,
    /// Failed attempts before this one; a lease that expired (worker died
    /// or stalled) counts as one.
    pub attempts: u32,
    /// Increases with every claim of this delivery.
    pub lease_token: i64,
    /// The worker that holds the lease.
    pub worker_id: String,
}

/// Lifecycle state of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryStatus {
    /// Stored, waiting for a worker.
    Pending,
    /// Failed, waiting for its backoff to pass.
    Retry,
    /// Leased to a worker.
    Running,
    /// Finished (or settled at intake).
    Done,
    /// Out of attempts, or unreadable: kept with its last error.
    Dead,
}

impl DeliveryStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Retry,
        DeliveryStatus::Running,
        DeliveryStatus::Done,
        DeliveryStatus::Dead,
    ];

    /// The status as stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Retry => "retry",
            DeliveryStatus::Running => "running",
            DeliveryStatus::Done => "done",
            DeliveryStatus::Dead => "dead",
        }
    }

    /// The status stored as `s`; `None` for an unknown one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Number of deliveries in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Waiting for a worker.
    pub pending: i64,
    /// Waiting out a backoff.
    pub retry: i64,
    /// Leased to a worker.
    pub running: i64,
    /// Finished.
    pub done: i64,
    /// Dead-lettered.
    pub dead: i64,
}

impl StatusCounts {
    /// The count of `status`.
    pub fn get(&self, status: DeliveryStatus) -> i64 {
        match status {
            DeliveryStatus::Pending => self.pending,
            DeliveryStatus::Retry => self.retry,
            DeliveryStatus::Running => self.running,
            DeliveryStatus::Done => self.done,
            DeliveryStatus::Dead => self.dead,
        }
    }

    /// Every status with its count, zeros included (handy for gauges).
    pub fn iter(&self) -> impl Iterator<Item = (DeliveryStatus, i64)> + '_ {
        DeliveryStatus::ALL
            .into_iter()
            .map(|status| (status, self.get(status)))
    }

    fn slot(&mut self, status: DeliveryStatus) -> &mut i64 {
        match status {
            DeliveryStatus::Pending => &mut self.pending,
            DeliveryStatus::Retry => &mut self.retry,
            DeliveryStatus::Running => &mut self.running,
            DeliveryStatus::Done => &mut self.done,
            DeliveryStatus::Dead => &mut self.dead,
        }
    }
}

/// A delivery as seen by operators and tests (without its payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The row id.
    pub id: i64,
    /// `X-GitHub-Delivery`.
    pub delivery_id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// The payload's `action`, if any.
    pub action: Option<String>,
    /// The key work is serialised on.
    pub repo_key: Option<String>,
    /// The installation whose token the work uses.
    pub installation_id: Option<i64>,
    /// Where it is in its lifecycle.
    pub status: DeliveryStatus,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// Worker holding (or that last held) the lease.
    pub lease_owner: Option<String>,
    /// When the current (or last) lease runs out.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When the delivery is (or was) due to run.
    pub run_at: DateTime<Utc>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When its row last changed.
    pub updated_at: DateTime<Utc>,
    /// When it became `done` or `dead`.
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool. The body is
/// written once and type-checked for each backend.
/// `with_pool!(lease: store, …)` runs it on the lease-bookkeeping pool.
macro_rules! with_pool {
    (lease: $store:expr, |$pool:ident| $body:expr) => {
        match &$store.lease {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Handle to the database; cheap to clone (a connection pool inside).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Where lease bookkeeping runs: a pool with relaxed commit sync (see
    /// `sqlite::Pools` and `postgres::Pools`).
    lease: Backend,
    retry: RetryPolicy,
    url: String,
    /// An in-memory SQLite database: its one pooled connection is the
    /// whole database, so nothing may take a connection out of the pool.
    in_memory: bool,
}

impl Store {
    /// Opens the database `url` and brings its schema up to date.
    ///
    /// `postgres://…` (or `postgresql://…`) selects PostgreSQL;
    /// `sqlite://path`, `sqlite::memory:` or a plain file path selects
    /// SQLite, creating the file and its directory when missing.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let redacted = url::redact(url);
        let (backend, lease, in_memory) = match url::kind(url) {
            Some(url::Kind::Sqlite) => {
                let pools = sqlite::connect(url, &redacted).await?;
                (
                    Backend::Sqlite(pools.main),
                    Backend::Sqlite(pools.lease),
                    pools.in_memory,
                )
            }
            Some(url::Kind::Postgres) => {
                let pools = postgres::connect(url, &redacted).await?;
                (
                    Backend::Postgres(pools.main),
                    Backend::Postgres(pools.lease),
                    false,
                )
            }
            None => return Err(StoreError::UnsupportedUrl { url: redacted }),
        };
        let store = Store {
            backend,
            lease,
            retry: RetryPolicy::default(),
            url: redacted,
            in_memory,
        };
        // Sync states kept as one blob by versions before migration 0007.
        store.convert_sync_state_blobs().await?;
        Ok(store)
    }

    /// The same store with another retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Store {
        self.retry = retry;
        self
    }

    /// The retry policy failures are scheduled by.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The database URL, password redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await);
        with_pool!(lease: self, |pool| pool.close().await);
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn to_datetime(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A statement slower than this is logged at warn level.
pub const SLOW_STATEMENT: Duration = Duration::from_secs(1);

/// sqlx logs every statement at debug level by default: with the workers
/// polling the queue, `RUST_LOG=debug` would print the claim SQL several
/// times a second and drown everything else. Statements are logged at
/// trace level instead; slow ones still warn.
pub(crate) fn quiet_statements<O: sqlx::ConnectOptions>(options: O) -> O {
    options
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT)
}
