//! PostgreSQL backend: connecting, migrating (sqlx takes an advisory lock,
//! so replicas starting together migrate once) and the claim lock that
//! makes the per-repository rule hold across replicas.

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{StoreError, migrations};

/// The two pools of a PostgreSQL store: `main` commits synchronously (an
/// acknowledged webhook survives a crash of the database server); `lease`
/// serves the queue's lease bookkeeping and write pacing with
/// `synchronous_commit = off`.
pub(super) struct Pools {
    pub main: PgPool,
    pub lease: PgPool,
}

/// Lease bookkeeping (claim, heartbeat, complete, fail, release) and pacing
/// reservations commit without waiting for their WAL flush, as on SQLite
/// (`sqlite::Pools`): only a crash of the database server itself can lose
/// their last commits (at most `wal_writer_delay`, 200 ms by default), and
/// that only means a delivery runs again (delivery is at least once anyway)
/// or a few writes' reservations are forgotten. The next synchronous commit
/// — any intake — makes every earlier one durable, the WAL being one
/// sequence. This takes two of the three WAL flushes per delivery off the
/// path that webhook intake waits on.
const LEASE_POOL_CONNECTIONS: u32 = 6;

pub(super) async fn connect(url: &str, redacted: &str) -> Result<Pools, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl {
        url: redacted.to_owned(),
        source,
    })?;
    let options = super::quiet_statements(options);
    let connect_error = |source| StoreError::Connect {
        url: redacted.to_owned(),
        source,
    };
    // No ping before handing a connection out: sqlx pings it when it comes
    // back already, and a second round trip per statement or transaction
    // costs as much as the statement (a connection that died while idle
    // fails one statement, which is then retried as any database error).
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await
        .map_err(connect_error)?;
    let migrate_error = |source| StoreError::Migrate {
        url: redacted.to_owned(),
        source,
    };
    migrations::postgres()
        .await
        .map_err(migrate_error)?
        .run(&pool)
        .await
        .map_err(migrate_error)?;
    let lease = PgPoolOptions::new()
        .max_connections(LEASE_POOL_CONNECTIONS)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.options([("synchronous_commit", "off")]))
        .await
        .map_err(connect_error)?;
    Ok(Pools { main: pool, lease })
}

/// Serialises claims of all replicas sharing this schema for the rest of
/// the claiming transaction. Under READ COMMITTED the claim statement that
/// follows takes a fresh snapshot, so it sees every lease committed by an
/// earlier claimer; without the lock two replicas could each lease a
/// different delivery of the same repository.
pub(super) const CLAIM_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('paydown.claim:' || current_schema()))";
