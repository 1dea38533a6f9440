//! Group commit for webhook intake: several deliveries stored by one
//! statement, so a burst of webhooks costs one durable commit (one fsync)
//! and one round trip instead of one each. Same insert and dedupe rule as
//! `Store::enqueue`.
//!
//! An intake writer ([`BatchWriter`]) owns a connection of its own, taken
//! out of the pool: a pooled statement costs two extra round trips (sqlx
//! pings a connection when it is handed out and again when it comes back;
//! on SQLite each is a hand-off to the connection's thread and back), three
//! times what the INSERT itself costs on PostgreSQL.

use std::collections::HashSet;

use sqlx::{Connection, PgConnection, SqliteConnection};

use super::{Backend, Enqueued, NewDelivery, Store, StoreError, now_ms, with_pool};

/// Columns bound per delivery.
const COLUMNS: usize = 9;

/// One multi-row INSERT for `n` deliveries: one statement (one parse, one
/// round trip to the database thread or server) instead of `n`. Returns
/// the ids of the rows it inserted; a delivery id already stored, or seen
/// earlier in the same statement, is skipped by `ON CONFLICT DO NOTHING`.
fn insert_many(n: usize) -> String {
    let mut sql = String::with_capacity(200 + n * 48);
    sql.push_str(
        "INSERT INTO deliveries
        (delivery_id, event, action, repo_key, installation_id, payload,
         status, attempts, run_at, created_at, updated_at, finished_at) VALUES ",
    );
    for i in 0..n {
        let b = i * COLUMNS;
        if i > 0 {
            sql.push(',');
        }
        // `now` is bound once per row: a parameter used three times would
        // need the same number in both dialects, which `$n` gives.
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 0, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 8,
            b + 7,
            b + 7,
            b + 7,
            b + 9
        ));
    }
    sql.push_str(" ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id");
    sql
}

/// Deliveries per statement: well under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters.
const PER_STATEMENT: usize = 256;

/// Inserts `deliveries` through `$conn` (a connection or a pool) and
/// evaluates to the set of delivery ids inserted. Rows go in delivery-id
/// order: two PostgreSQL writers inserting overlapping batches (a
/// redelivery racing its original) then wait for each other's rows in the
/// same order, never in a cycle (a deadlock). A batch that fits one
/// statement runs without BEGIN/COMMIT: a single statement is atomic on
/// its own, and its commit is the same durable commit.
macro_rules! insert_all {
    ($conn:expr, $deliveries:expr, $now:expr) => {
        async {
            let mut sorted: Vec<&NewDelivery> = $deliveries.iter().collect();
            sorted.sort_unstable_by(|a, b| a.delivery_id.cmp(&b.delivery_id));
            let mut inserted: HashSet<String> = HashSet::with_capacity(sorted.len());
            if sorted.len() <= PER_STATEMENT {
                let sql = insert_many(sorted.len());
                let mut query = sqlx::query_scalar::<_, String>(&sql);
                for d in &sorted {
                    query = bind_row(query, d, $now);
                }
                inserted.extend(query.fetch_all($conn).await?);
            } else {
                let mut tx = $conn.begin().await?;
                for chunk in sorted.chunks(PER_STATEMENT) {
                    let sql = insert_many(chunk.len());
                    let mut query = sqlx::query_scalar::<_, String>(&sql);
                    for d in chunk {
                        query = bind_row(query, d, $now);
                    }
                    inserted.extend(query.fetch_all(&mut *tx).await?);
                }
                tx.commit().await?;
            }
            Ok::<_, sqlx::Error>(inserted)
        }
        .await
    };
}

fn bind_row<'q, DB: sqlx::Database>(
    query: sqlx::query::QueryScalar<'q, DB, String, <DB as sqlx::Database>::Arguments<'q>>,
    d: &'q NewDelivery,
    now: i64,
) -> sqlx::query::QueryScalar<'q, DB, String, <DB as sqlx::Database>::Arguments<'q>>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(&d.delivery_id)
        .bind(&d.event)
        .bind(&d.action)
        .bind(&d.repo_key)
        .bind(d.installation_id)
        .bind(&d.payload)
        .bind(now)
        .bind(status(d).to_owned())
        .bind(d.settled.then_some(now))
}

/// The status a new delivery is stored with: `done` when it needs no work.
pub(super) fn status(d: &NewDelivery) -> &'static str {
    if d.settled { "done" } else { "pending" }
}

/// The result at index `i` tells whether `deliveries[i]` was new or a
/// duplicate (also of an earlier entry of the same batch).
fn outcomes(deliveries: &[NewDelivery], inserted: &HashSet<String>) -> Vec<Enqueued> {
    // The first entry of an inserted id is the new one; any later entry
    // of the same id in the batch is its duplicate.
    let mut seen: HashSet<&str> = HashSet::with_capacity(deliveries.len());
    deliveries
        .iter()
        .map(|d| {
            let first = seen.insert(d.delivery_id.as_str());
            if first && inserted.contains(&d.delivery_id) {
                Enqueued::New
            } else {
                Enqueued::Duplicate
            }
        })
        .collect()
}

const OP: &str = "enqueue a batch of deliveries";

impl Store {
    /// Stores `deliveries` atomically; the result at index `i` tells
    /// whether `deliveries[i]` was new or a duplicate (also of an earlier
    /// entry of the same batch). Either all are stored or none.
    pub async fn enqueue_batch(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<Enqueued>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let inserted = with_pool!(self, |pool| insert_all!(pool, deliveries, now))
            .map_err(StoreError::query(OP))?;
        Ok(outcomes(deliveries, &inserted))
    }

    /// A writer for [`BatchWriter::enqueue_batch`] with a connection of its
    /// own (opened on first use).
    pub fn batch_writer(&self) -> BatchWriter {
        BatchWriter {
            store: self.clone(),
            conn: None,
        }
    }

    /// How many intake writers this database takes in parallel: one for
    /// SQLite (one writer at a time anyway), several for PostgreSQL,
    /// whose own group commit merges the WAL flushes of concurrent
    /// commits, so a writer inserts while another waits for its flush.
    pub fn intake_writers(&self) -> usize {
        match self.backend {
            Backend::Sqlite(_) => 1,
            Backend::Postgres(_) => POSTGRES_INTAKE_WRITERS,
        }
    }
}

/// Parallel intake writers on PostgreSQL; each holds one connection.
const POSTGRES_INTAKE_WRITERS: usize = 3;

enum WriterConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
    /// An in-memory SQLite database lives in the pool's one connection:
    /// a connection taken out of the pool would be another, empty database.
    Pooled,
}

/// One intake writer's connection, out of the pool (see the module docs).
/// After an error it is dropped and a fresh one opened for the next batch,
/// since a failed statement may have left it broken.
pub struct BatchWriter {
    store: Store,
    conn: Option<WriterConn>,
}

impl std::fmt::Debug for BatchWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl BatchWriter {
    async fn connect(&self) -> Result<WriterConn, sqlx::Error> {
        Ok(match &self.store.backend {
            Backend::Sqlite(_) if self.store.in_memory => WriterConn::Pooled,
            Backend::Sqlite(pool) => WriterConn::Sqlite(pool.acquire().await?.detach()),
            Backend::Postgres(pool) => WriterConn::Postgres(pool.acquire().await?.detach()),
        })
    }

    /// [`Store::enqueue_batch`] through this writer's connection.
    pub async fn enqueue_batch(
        &mut self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<Enqueued>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        if matches!(self.conn, Some(WriterConn::Pooled)) {
            return self.store.enqueue_batch(deliveries).await;
        }
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.connect().await.map_err(StoreError::query(OP))?,
        };
        let now = now_ms();
        let (conn, inserted) = match conn {
            WriterConn::Sqlite(mut c) => {
                let r = insert_all!(&mut c, deliveries, now);
                (WriterConn::Sqlite(c), r)
            }
            WriterConn::Postgres(mut c) => {
                let r = insert_all!(&mut c, deliveries, now);
                (WriterConn::Postgres(c), r)
            }
            WriterConn::Pooled => {
                self.conn = Some(WriterConn::Pooled);
                return self.store.enqueue_batch(deliveries).await;
            }
        };
        match inserted {
            Ok(inserted) => {
                self.conn = Some(conn);
                Ok(outcomes(deliveries, &inserted))
            }
            Err(e) => Err(StoreError::query(OP)(e)),
        }
    }
}
