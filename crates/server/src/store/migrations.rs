//! Schema migrations of both backends, embedded in the binary at compile
//! time (`include_str!`), so a deployed server needs no migration files.
//! sqlx's own `migrate!` macro would pull in the proc-macro crates; a small
//! [`MigrationSource`] does the same job.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// (version, description, SQL); versions must only ever be appended.
type Script = (i64, &'static str, &'static str);

const SQLITE: &[Script] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "queue heads",
        include_str!("../../migrations/sqlite/0002_queue_heads.sql"),
    ),
    (
        3,
        "leader",
        include_str!("../../migrations/sqlite/0003_leader.sql"),
    ),
    (
        5,
        "incidents",
        include_str!("../../migrations/sqlite/0005_incidents.sql"),
    ),
    (
        6,
        "write pacing",
        include_str!("../../migrations/sqlite/0006_write_pacing.sql"),
    ),
    (
        7,
        "sync rows",
        include_str!("../../migrations/sqlite/0007_sync_rows.sql"),
    ),
    (
        9,
        "installation claims",
        include_str!("../../migrations/sqlite/0009_installation_claims.sql"),
    ),
    (
        10,
        "installation quiet",
        include_str!("../../migrations/sqlite/0010_installation_quiet.sql"),
    ),
];

const POSTGRES: &[Script] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "queue heads",
        include_str!("../../migrations/postgres/0002_queue_heads.sql"),
    ),
    (
        3,
        "leader",
        include_str!("../../migrations/postgres/0003_leader.sql"),
    ),
    (
        5,
        "incidents",
        include_str!("../../migrations/postgres/0005_incidents.sql"),
    ),
    (
        6,
        "write pacing",
        include_str!("../../migrations/postgres/0006_write_pacing.sql"),
    ),
    (
        7,
        "sync rows",
        include_str!("../../migrations/postgres/0007_sync_rows.sql"),
    ),
    (
        9,
        "installation claims",
        include_str!("../../migrations/postgres/0009_installation_claims.sql"),
    ),
    (
        10,
        "installation quiet",
        include_str!("../../migrations/postgres/0010_installation_quiet.sql"),
    ),
    (
        11,
        "payload compression",
        include_str!("../../migrations/postgres/0011_payload_compression.sql"),
    ),
];

#[derive(Debug)]
struct Embedded(&'static [Script]);

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> futures_core_boxfuture::BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The boxed-future type `MigrationSource` uses, spelled without a direct
/// dependency on `futures-core`.
mod futures_core_boxfuture {
    use std::future::Future;
    use std::pin::Pin;

    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
}

/// The newest schema version this binary migrates to (`/readyz` checks it).
pub(crate) fn latest_version(postgres: bool) -> i64 {
    let scripts = if postgres { POSTGRES } else { SQLITE };
    scripts.iter().map(|s| s.0).max().unwrap_or(0)
}

pub(crate) async fn sqlite() -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(SQLITE)).await
}

pub(crate) async fn postgres() -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(POSTGRES)).await
}
