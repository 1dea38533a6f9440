//! The periodic safety sync: every installed repository is fully synced
//! once a period (a day by default), whatever webhooks did or did not
//! arrive, so a delivery lost beyond recovery, a human edit GitHub sent no
//! event for, or a location left stale by a line shift is reconciled.
//!
//! The syncs are spread over the period: each repository has a stable
//! offset in it (a hash of its name), so a thousand repositories make a
//! thousand syncs spread over the day, not a burst at midnight. The leader
//! job ([`job`]) wakes every `tick` and queues a full sync
//! (`paydown.sync`) for each repository whose slot passed since shortly
//! before; the queued job's delivery id names the slot, so a slot is queued
//! once however many replicas or leaders look at it. The sync itself goes
//! through the queue like any other work: serialised per repository and
//! paced with the installation's writes.
//!
//! A slot missed by more than `catch_up` (no leader for a while, or a
//! first start) is not made up for: that repository is synced at its next
//! slot. This keeps a restart from queueing every repository at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::periodic::Job;
use crate::store::{Enqueued, Store, StoreError};

/// When and how often repositories are synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetySyncOptions {
    /// Each repository is synced once per period.
    pub period: Duration,
    /// How often the leader looks for slots that passed.
    pub tick: Duration,
}

impl Default for SafetySyncOptions {
    fn default() -> Self {
        Self {
            period: Duration::from_secs(24 * 60 * 60),
            tick: Duration::from_secs(5 * 60),
        }
    }
}

impl SafetySyncOptions {
    /// How late a slot may still be queued: two ticks, so one late or
    /// skipped run of the job loses nothing.
    pub fn catch_up(&self) -> Duration {
        self.tick.saturating_mul(2)
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// `repo`'s stable offset within a period: the same on every replica and
/// across restarts.
pub fn offset_of(repo: &str, period: Duration) -> Duration {
    let digest = Sha256::digest(repo.to_ascii_lowercase().as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    let period_ms = u64::try_from(millis(period)).unwrap_or(1);
    Duration::from_millis(u64::from_be_bytes(head) % period_ms)
}

/// `repo`'s most recent slot at or before `now`, as Unix milliseconds:
/// `k · period + offset`.
pub fn slot_at(repo: &str, period: Duration, now: DateTime<Utc>) -> i64 {
    let period_ms = millis(period);
    let offset = i64::try_from(offset_of(repo, period).as_millis()).unwrap_or(0);
    let k = (now.timestamp_millis() - offset).div_euclid(period_ms);
    k * period_ms + offset
}

/// The delivery id of `repo`'s safety sync for the slot at `slot_ms`.
pub fn delivery_id(repo: &str, slot_ms: i64) -> String {
    format!("{}:{repo}:safety-{slot_ms}", crate::handlers::SYNC_EVENT)
}

/// One pass at `now`: queues a full sync of every installed repository
/// whose slot passed within the catch-up window and was not queued yet.
/// Returns the repositories queued.
pub async fn queue_due(
    store: &Store,
    opts: &SafetySyncOptions,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let window_start = now.timestamp_millis() - millis(opts.catch_up());
    let mut queued = Vec::new();
    for installation in store.installations().await? {
        for repo in store.installation_repos(installation.id).await? {
            let slot = slot_at(&repo.full_name, opts.period, now);
            if slot <= window_start {
                continue;
            }
            let delivery = crate::handlers::sync_delivery(
                &repo.full_name,
                installation.id,
                delivery_id(&repo.full_name, slot),
            )
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if store.enqueue(delivery).await? == Enqueued::New {
                queued.push(repo.full_name);
            }
        }
    }
    if !queued.is_empty() {
        tracing::info!(repos = queued.len(), "safety sync queued");
    }
    Ok(queued)
}

/// The leader job: a pass every `opts.tick`.
pub fn job(store: &Store, opts: SafetySyncOptions) -> Job {
    let store = store.clone();
    Job::new("repos.safety-sync", opts.tick, move || {
        let store = store.clone();
        async move { queue_due(&store, &opts, Utc::now()).await.map(|_| ()) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_is_the_latest_period_start_plus_the_offset() {
        let period = Duration::from_secs(3600);
        let now = DateTime::from_timestamp_millis(10 * 3_600_000 + 5).unwrap();
        let slot = slot_at("o/r", period, now);
        assert!(slot <= now.timestamp_millis());
        assert!(now.timestamp_millis() - slot < 3_600_000);
        // The next slot is one period later.
        let later = DateTime::from_timestamp_millis(slot + 3_600_000).unwrap();
        assert_eq!(slot_at("o/r", period, later), slot + 3_600_000);
        let just_before = DateTime::from_timestamp_millis(slot + 3_600_000 - 1).unwrap();
        assert_eq!(slot_at("o/r", period, just_before), slot);
    }
}
