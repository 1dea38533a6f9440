//! SQLite backend: opening the embedded database file (created on first
//! start, WAL journal, busy timeout), migrating it, and checkpointing its
//! WAL in the background.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{StoreError, migrations};

/// Waiting for the single writer lock; claims and inserts are short, so
/// hitting this means the database is wedged rather than busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The two pools of one SQLite database: `main` commits with a full sync
/// (an acknowledged webhook survives a power loss); `lease` serves the
/// queue's lease bookkeeping (claim, heartbeat, complete, fail, release).
pub(super) struct Pools {
    pub main: SqlitePool,
    pub lease: SqlitePool,
    pub in_memory: bool,
}

/// Lease bookkeeping commits without its own WAL sync. Losing its last
/// commits to a power cut only means a delivery runs again (delivery is
/// at least once anyway), and the next fully synced commit makes every
/// earlier one durable, since the WAL is one append-only file. This halves
/// the fsyncs per delivery that contend with webhook intake for SQLite's
/// single writer. Corruption-safe: WAL with NORMAL sync still syncs before
/// each checkpoint.
const LEASE_POOL_CONNECTIONS: u32 = 4;

/// Creates the database file readable by its owner only (0600) when it does
/// not exist yet: it holds webhook payloads with private repositories'
/// text. SQLite creates the `-wal` and `-shm` files with the database
/// file's permissions, so they are private too.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

pub(super) async fn connect(url: &str, redacted: &str) -> Result<Pools, StoreError> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let options = if url.trim_start().to_ascii_lowercase().starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl {
            url: redacted.to_owned(),
            source,
        })?
    } else {
        SqliteConnectOptions::new().filename(url)
    };
    let options = super::quiet_statements(
        options
            .create_if_missing(true)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true),
    );
    let pool_options = if in_memory {
        // Every connection would otherwise see its own empty database.
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        create_private(options.get_filename()).map_err(|source| StoreError::CreateFile {
            path: options.get_filename().display().to_string(),
            source,
        })?;
        SqlitePoolOptions::new().max_connections(8)
    };
    // sqlx pings a connection when the pool hands it out and again when it
    // comes back; the second ping suffices for a local file (each ping is a
    // hand-off to the connection's thread, as costly as a short statement).
    let pool_options = pool_options.test_before_acquire(false);
    // FULL rather than NORMAL: an acknowledged webhook must survive a power
    // loss, not only a process crash.
    let options = if in_memory {
        options
    } else {
        options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
    };
    let connect_error = |source| StoreError::Connect {
        url: redacted.to_owned(),
        source,
    };
    let pool = pool_options
        .connect_with(options.clone())
        .await
        .map_err(connect_error)?;
    let migrate_error = |source| StoreError::Migrate {
        url: redacted.to_owned(),
        source,
    };
    migrations::sqlite()
        .await
        .map_err(migrate_error)?
        .run(&pool)
        .await
        .map_err(migrate_error)?;
    let lease = if in_memory {
        pool.clone()
    } else {
        let lease = SqlitePoolOptions::new()
            .max_connections(LEASE_POOL_CONNECTIONS)
            .test_before_acquire(false)
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await
            .map_err(|source| StoreError::Connect {
                url: redacted.to_owned(),
                source,
            })?;
        tokio::spawn(checkpointer(lease.clone()));
        lease
    };
    Ok(Pools {
        main: pool,
        lease,
        in_memory,
    })
}

/// Pause between checkpoints while the WAL keeps growing. Small, frequent
/// checkpoints keep each database fsync short: on ext4 a large one also
/// stalls the intake's concurrent WAL fsync (hundreds of milliseconds
/// measured with 200 ms between checkpoints, p99 ~26 ms at 5 ms).
const CHECKPOINT_BUSY: Duration = Duration::from_millis(5);
/// Pause while nothing was written, so an idle server stays quiet.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(100);

/// SQLite's own checkpoint runs inside whichever commit crosses the
/// threshold, often a webhook intake commit, which then waits for megabytes
/// of page copies and a database fsync (tens of milliseconds under load).
/// Checkpoints run in [`checkpointer`] instead; this high threshold is only
/// a backstop should it fall behind.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// Checkpoints the WAL until the pool closes: again after
/// [`CHECKPOINT_BUSY`] while the WAL changed since the last checkpoint,
/// else after [`CHECKPOINT_IDLE`]. PASSIVE never takes the writer lock, so
/// intake and workers keep committing meanwhile.
async fn checkpointer(pool: SqlitePool) {
    // (WAL frames, frames checkpointed) of the last run.
    let mut last: Option<(i64, i64)> = None;
    let mut pause = CHECKPOINT_IDLE;
    loop {
        tokio::time::sleep(pause).await;
        if pool.is_closed() {
            return;
        }
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await
        {
            Ok((_busy, frames, done)) => {
                let now = Some((frames, done));
                pause = if now == last {
                    CHECKPOINT_IDLE
                } else {
                    CHECKPOINT_BUSY
                };
                last = now;
            }
            Err(error) => {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(%error, "SQLite WAL checkpoint failed; retrying");
                pause = CHECKPOINT_IDLE;
            }
        }
    }
}
