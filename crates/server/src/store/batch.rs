//! Group commit for webhook intake: several deliveries stored in one
//! transaction, so a burst of webhooks costs one durable commit (one fsync)
//! instead of one each, and one INSERT statement for up to 256 of them.
//! Same insert and dedupe rule as `Store::enqueue`.

use std::collections::HashSet;

use super::{Enqueued, NewDelivery, Store, StoreError, now_ms, with_pool};

/// Columns bound per delivery.
const COLUMNS: usize = 7;

/// One multi-row INSERT for `n` deliveries: one statement (one parse, one
/// round trip to the database thread or server) instead of `n`. Returns
/// the ids of the rows it inserted; a delivery id already stored, or seen
/// earlier in the same statement, is skipped by `ON CONFLICT DO NOTHING`.
fn insert_many(n: usize) -> String {
    let mut sql = String::with_capacity(200 + n * 40);
    sql.push_str(
        "INSERT INTO deliveries
        (delivery_id, event, action, repo_key, installation_id, payload,
         status, attempts, run_at, created_at, updated_at) VALUES ",
    );
    for i in 0..n {
        let b = i * COLUMNS;
        if i > 0 {
            sql.push(',');
        }
        // `now` is bound once per row: a parameter used three times would
        // need the same number in both dialects, which `$n` gives.
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, 'pending', 0, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7,
            b + 7,
            b + 7
        ));
    }
    sql.push_str(" ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id");
    sql
}

/// Deliveries per statement: well under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters.
const PER_STATEMENT: usize = 256;

impl Store {
    /// Stores `deliveries` atomically, in order; the result at index `i`
    /// tells whether `deliveries[i]` was new or a duplicate (also of an
    /// earlier entry of the same batch). Either all are stored or none.
    pub async fn enqueue_batch(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<Enqueued>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let inserted: HashSet<String> = with_pool!(self, |pool| {
            async {
                let mut tx = pool.begin().await?;
                let mut inserted = HashSet::with_capacity(deliveries.len());
                for chunk in deliveries.chunks(PER_STATEMENT) {
                    let sql = insert_many(chunk.len());
                    let mut query = sqlx::query_scalar::<_, String>(&sql);
                    for d in chunk {
                        query = query
                            .bind(&d.delivery_id)
                            .bind(&d.event)
                            .bind(&d.action)
                            .bind(&d.repo_key)
                            .bind(d.installation_id)
                            .bind(&d.payload)
                            .bind(now);
                    }
                    inserted.extend(query.fetch_all(&mut *tx).await?);
                }
                tx.commit().await?;
                Ok(inserted)
            }
            .await
        })
        .map_err(StoreError::query("enqueue a batch of deliveries"))?;
        // The first entry of an inserted id is the new one; any later entry
        // of the same id in the batch is its duplicate.
        let mut seen: HashSet<&str> = HashSet::with_capacity(deliveries.len());
        Ok(deliveries
            .iter()
            .map(|d| {
                let first = seen.insert(d.delivery_id.as_str());
                if first && inserted.contains(&d.delivery_id) {
                    Enqueued::New
                } else {
                    Enqueued::Duplicate
                }
            })
            .collect())
    }
}
