//! PostgreSQL for tests: a fresh schema per test in the database named by
//! `PAYDOWN_TEST_POSTGRES_URL`. Without that variable the PostgreSQL tests
//! are skipped (a fresh machine has only Rust), and the skip is printed once
//! per test binary, past the harness's output capture, so it is seen; CI
//! sets the variable (`.ci/run`), so there an unreachable server fails.
// Shared by several test crates, each using a subset.
#![allow(dead_code)]

use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;

pub const VAR: &str = "PAYDOWN_TEST_POSTGRES_URL";

/// The base URL, or `None` (after the one loud notice) to skip.
pub fn base_url() -> Option<String> {
    match std::env::var(VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                // `eprintln!` would be swallowed by the test harness; the raw
                // handle is not.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPING PostgreSQL tests in {}: {VAR} is not set \
                     (CI sets it; e.g. {VAR}=postgres://postgres@127.0.0.1:5432/test) ***\n",
                    std::env::args().next().unwrap_or_default()
                );
            });
            None
        }
    }
}

/// A schema of its own in the test database; [`PgSchema::drop_schema`]
/// removes it (a failed test leaves it for inspection).
pub struct PgSchema {
    base: String,
    pub schema: String,
    /// The base URL with the schema as `search_path`: every connection made
    /// from it (one per replica) sees only this test's tables.
    pub url: String,
}

impl PgSchema {
    /// A new schema, or `None` when PostgreSQL tests are skipped. Panics
    /// (failing the test) when the variable is set but the server is down.
    pub async fn create() -> Option<PgSchema> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let base = base_url()?;
        let mut admin = match sqlx::PgConnection::connect(&base).await {
            Ok(conn) => conn,
            Err(err) => panic!(
                "PostgreSQL not reachable at {} ({VAR}): {err}: start it (see .ci/run) or unset {VAR} to skip",
                paydown_server::store::redact_url(&base)
            ),
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .subsec_nanos();
        let schema = format!(
            "t_{}_{}_{}",
            std::process::id(),
            nanos,
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .expect("create test schema");
        let separator = if base.contains('?') { '&' } else { '?' };
        Some(PgSchema {
            url: format!("{base}{separator}options[search_path]={schema}"),
            base,
            schema,
        })
    }

    pub async fn drop_schema(self) {
        let mut admin = sqlx::PgConnection::connect(&self.base)
            .await
            .expect("reconnect to drop the test schema");
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(&mut admin)
            .await
            .expect("drop test schema");
    }
}
