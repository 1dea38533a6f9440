//! Retention of processed deliveries: payloads carry private repositories'
//! text, so deliveries that finished successfully are deleted once they are
//! `PAYDOWN_RETENTION_DAYS` old (default 14). GitHub redelivers only on
//! request and offers its delivery log for 3 days, so ids kept 14 days still
//! stop every redelivery duplicate. Dead letters are kept for operators.
//!
//! [`run`] is the periodic job: a plain async loop with its own timer, to be
//! started on one replica at a time by whoever schedules periodic jobs.

use std::time::Duration;

use crate::store::{Store, StoreError};

/// How often the job looks for deliveries past the retention period.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// One pass: deletes done deliveries older than `retention`, logs and
/// returns how many.
pub async fn prune_once(store: &Store, retention: Duration) -> Result<u64, StoreError> {
    let pruned = store.prune_done(retention).await?;
    if pruned > 0 {
        tracing::info!(
            pruned,
            retention_days = retention.as_secs() / 86_400,
            "pruned processed deliveries past the retention period"
        );
    }
    Ok(pruned)
}

/// Prunes every `interval`, the first pass at once, until the future is
/// dropped. A failed pass is logged and retried at the next tick.
pub async fn run(store: Store, retention: Duration, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = prune_once(&store, retention).await {
            tracing::warn!(error = %e, "cannot prune processed deliveries; retrying at the next tick");
        }
    }
}
