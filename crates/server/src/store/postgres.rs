//! PostgreSQL backend: connecting, migrating (sqlx takes an advisory lock,
//! so replicas starting together migrate once) and the claim lock that
//! makes the per-repository rule hold across replicas.

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{StoreError, migrations};

pub(super) async fn connect(url: &str, redacted: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl {
        url: redacted.to_owned(),
        source,
    })?;
    let options = super::quiet_statements(options);
    // No ping before handing a connection out: sqlx pings it when it comes
    // back already, and a second round trip per statement or transaction
    // costs as much as the statement (a connection that died while idle
    // fails one statement, which is then retried as any database error).
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect {
            url: redacted.to_owned(),
            source,
        })?;
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
    Ok(pool)
}

/// Serialises claims of all replicas sharing this schema for the rest of
/// the claiming transaction. Under READ COMMITTED the claim statement that
/// follows takes a fresh snapshot, so it sees every lease committed by an
/// earlier claimer; without the lock two replicas could each lease a
/// different delivery of the same repository.
pub(super) const CLAIM_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('paydown.claim:' || current_schema()))";
