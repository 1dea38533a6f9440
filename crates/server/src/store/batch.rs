//! Group commit for webhook intake: several deliveries stored in one
//! transaction, so a burst of webhooks costs one durable commit (one fsync)
//! instead of one each. Same insert and dedupe rule as `Store::enqueue`.

use super::{Enqueued, NewDelivery, Store, StoreError, now_ms, with_pool};

const INSERT: &str = "INSERT INTO deliveries
        (delivery_id, event, action, repo_key, installation_id, payload,
         status, attempts, run_at, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7)
    ON CONFLICT (delivery_id) DO NOTHING
    RETURNING id";

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
        with_pool!(self, |pool| {
            async {
                let mut tx = pool.begin().await?;
                let mut out = Vec::with_capacity(deliveries.len());
                for d in deliveries {
                    let row = sqlx::query(INSERT)
                        .bind(&d.delivery_id)
                        .bind(&d.event)
                        .bind(&d.action)
                        .bind(&d.repo_key)
                        .bind(d.installation_id)
                        .bind(&d.payload)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    out.push(if row.is_some() {
                        Enqueued::New
                    } else {
                        Enqueued::Duplicate
                    });
                }
                tx.commit().await?;
                Ok(out)
            }
            .await
        })
        .map_err(StoreError::query("enqueue a batch of deliveries"))
    }
}
