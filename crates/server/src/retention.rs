//! Retention of processed deliveries: payloads carry private repositories'
//! text, so deliveries that finished successfully are deleted once they are
//! `PAYDOWN_RETENTION_DAYS` old (default 14). GitHub redelivers only on
//! request and offers its delivery log for 3 days, so ids kept 14 days still
//! stop every redelivery duplicate. Dead letters are kept for operators.
//!
//! [`job`] is the periodic job, run on one replica at a time by the elected
//! leader.

use std::time::Duration;

use crate::periodic::Job;
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

/// The periodic job (run by the elected replica, see [`crate::periodic`]):
/// a pass every `every`; a failed pass is logged and retried next time.
pub fn job(store: &Store, retention: Duration, every: Duration) -> Job {
    let store = store.clone();
    Job::new("deliveries.prune", every, move || {
        let store = store.clone();
        async move { prune_once(&store, retention).await.map(|_| ()) }
    })
}
