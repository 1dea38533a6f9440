//! Operators' hands on the queue (`paydown queue list|retry|drop`): list
//! the deliveries waiting or given up on, put a dead one back in the queue,
//! delete one. Each change is one guarded statement, so it cannot race a
//! worker: a running delivery is never touched.

use super::{DeliveryRecord, DeliveryStatus, Store, StoreError, now_ms, with_pool};

/// What [`Store::requeue`] or [`Store::drop_delivery`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorOutcome {
    /// The operation was applied.
    Done,
    /// No delivery has this id.
    NotFound,
    /// The delivery is in a state the operation does not apply to.
    WrongStatus(DeliveryStatus),
}

impl Store {
    /// Deliveries in `statuses`, oldest first, at most `limit`.
    pub async fn deliveries_in(
        &self,
        statuses: &[DeliveryStatus],
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        // The status names are the enum's own constants, never user text.
        let list = statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT delivery_id FROM deliveries WHERE status IN ({list})
              ORDER BY created_at, id LIMIT $1"
        );
        let ids: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("list deliveries"))?;
        let mut records = Vec::with_capacity(ids.len());
        for (id,) in ids {
            // A delivery finished and pruned meanwhile is simply not shown.
            if let Some(record) = self.delivery(&id).await? {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// Puts a `dead` (or `retry`) delivery back in the queue, due now, with
    /// its attempts reset; its last error is kept until the next attempt.
    pub async fn requeue(&self, delivery_id: &str) -> Result<OperatorOutcome, StoreError> {
        let now = now_ms();
        let changed = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE deliveries
                    SET status = 'pending', attempts = 0, run_at = $2, updated_at = $2,
                        finished_at = NULL, lease_owner = NULL, lease_expires_at = NULL
                  WHERE delivery_id = $1 AND status IN ('dead', 'retry')",
            )
            .bind(delivery_id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(StoreError::query("requeue a delivery"))?;
        self.outcome(delivery_id, changed).await
    }

    /// Deletes a delivery that is not running and not done (a done one is
    /// kept: its id stops GitHub's redeliveries of it).
    pub async fn drop_delivery(&self, delivery_id: &str) -> Result<OperatorOutcome, StoreError> {
        let changed = with_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM deliveries
                  WHERE delivery_id = $1 AND status IN ('dead', 'pending', 'retry')",
            )
            .bind(delivery_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(StoreError::query("drop a delivery"))?;
        self.outcome(delivery_id, changed).await
    }

    async fn outcome(
        &self,
        delivery_id: &str,
        changed: u64,
    ) -> Result<OperatorOutcome, StoreError> {
        if changed > 0 {
            return Ok(OperatorOutcome::Done);
        }
        Ok(match self.delivery(delivery_id).await? {
            None => OperatorOutcome::NotFound,
            Some(record) => OperatorOutcome::WrongStatus(record.status),
        })
    }
}
