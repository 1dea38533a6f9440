//! Write pacing per installation (docs/reliability.md): at most one write a second and
//! GitHub's content-creation limits (80 a minute, 500 an hour), shared by
//! every worker and replica through the store's write log, before GitHub
//! has to push back.
//!
//! Every write of an installation client reserves the earliest slot that
//! keeps the installation within all limits ([`earliest_slot`], pure) and
//! waits for it when that is close; when the budget is spent for longer
//! ([`PacingLimits::max_wait`]), the write fails with
//! `GitHubError::RateLimited` and the job is deferred to when it frees, so
//! no worker sleeps holding a lease. A paced import plans its follow-up
//! run for when a whole batch fits ([`batch_at`]). The slot arithmetic is
//! pure and lives in `paydown_github::pacing`, shared with the CLI's and
//! the Action's in-process pacer.
//!
//! A `Retry-After` told to one replica is recorded in the store too
//! ([`Store::note_quiet_until`]), and every replica's client reads it
//! before each request of the installation.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use paydown_github::pacing::{Write, WritePacer};
use paydown_github::{Clock, GitHubError};

pub use paydown_github::pacing::{PacingLimits, batch_at, earliest_slot};
use paydown_github::pacing::{WriteSlot, ms};

use crate::store::{Store, StoreError};

/// The store-backed pacer of all installations (cheap to clone).
#[derive(Debug, Clone)]
pub struct Pacer {
    store: Store,
    clock: Clock,
    limits: PacingLimits,
}

/// The outcome of asking for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Reserved: send at this time (unix ms, pacing clock).
    At(i64),
    /// Not reserved: the budget is spent until then.
    Busy(i64),
}

impl Pacer {
    /// A pacer keeping its write slots in `store`, on `clock`, within `limits`.
    pub fn new(store: Store, clock: Clock, limits: PacingLimits) -> Self {
        Self {
            store,
            clock,
            limits,
        }
    }

    /// The clock slots are reserved on (simulated in tests).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The per-installation limits it enforces.
    pub fn limits(&self) -> &PacingLimits {
        &self.limits
    }

    /// Reserves the installation's next write slot, unless it is more
    /// than `max_wait` away.
    pub async fn reserve(&self, installation: u64, content: bool) -> Result<Slot, StoreError> {
        let now = self.clock.now_ms();
        let limits = self.limits;
        let mut busy = None;
        let reserved = self
            .store
            .reserve_write_slot(db_id(installation), now - limits.horizon_ms(), |log| {
                let at = earliest_slot(log, now, content, &limits);
                if at - now > ms(limits.max_wait) {
                    busy = Some(at);
                    None
                } else {
                    Some(WriteSlot { at_ms: at, content })
                }
            })
            .await?;
        Ok(match (reserved, busy) {
            (Some(slot), _) => Slot::At(slot.at_ms),
            (None, Some(at)) => Slot::Busy(at),
            (None, None) => Slot::At(now),
        })
    }

    /// When `want` content-creating writes of `installation` fit (now, if
    /// they already do).
    pub async fn next_batch_at(&self, installation: u64, want: u32) -> Result<i64, StoreError> {
        let now = self.clock.now_ms();
        let log = self
            .store
            .write_slots(db_id(installation), now - self.limits.horizon_ms())
            .await?;
        Ok(batch_at(&log, now, want, &self.limits))
    }

    /// When the batch after this run could start, supposing this run
    /// spends `spend` content-creating writes from now, one slot after
    /// another, and the next batch wants `want` (for the dashboard's
    /// "next batch about …", written before the run ends).
    pub async fn predict_next_batch(
        &self,
        installation: u64,
        spend: u32,
        want: u32,
    ) -> Result<i64, StoreError> {
        let now = self.clock.now_ms();
        let mut log = self
            .store
            .write_slots(db_id(installation), now - self.limits.horizon_ms())
            .await?;
        for _ in 0..spend {
            let at = earliest_slot(&log, now, true, &self.limits);
            log.push(WriteSlot {
                at_ms: at,
                content: true,
            });
        }
        Ok(batch_at(&log, now, want, &self.limits))
    }

    /// Whether a time is further off than a write would wait for.
    pub fn worth_deferring(&self, at_ms: i64) -> bool {
        at_ms - self.clock.now_ms() > ms(self.limits.max_wait)
    }
}

fn db_id(installation: u64) -> i64 {
    i64::try_from(installation).unwrap_or(i64::MAX)
}

/// A time on the pacing clock as a `DateTime`.
pub fn to_datetime(at_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at_ms).unwrap_or_default()
}

impl WritePacer for Pacer {
    fn before_write<'a>(
        &'a self,
        write: Write<'a>,
    ) -> Pin<Box<dyn Future<Output = paydown_github::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            match self
                .reserve(write.installation, write.creates_content)
                .await
            {
                Ok(Slot::At(at)) => {
                    self.clock.sleep_until_ms(at).await;
                    Ok(())
                }
                Ok(Slot::Busy(at)) => {
                    tracing::info!(
                        installation = write.installation,
                        route = write.route,
                        until = %to_datetime(at),
                        "write budget spent; the work is re-queued for when it frees"
                    );
                    Err(GitHubError::RateLimited {
                        reset_at: to_datetime(at),
                    })
                }
                // Unknown budget: do not write blind; the job is retried.
                Err(e) => Err(GitHubError::Transport {
                    route: write.route.to_string(),
                    reason: format!("write pacing unavailable: {e}"),
                }),
            }
        })
    }

    fn note_quiet_until<'a>(
        &'a self,
        installation: u64,
        until: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            if let Err(e) = self
                .store
                .note_quiet_until(db_id(installation), until.timestamp_millis())
                .await
            {
                // The replica told still keeps quiet itself; only the
                // others may not know.
                tracing::warn!(installation, %until, error = %e, "cannot share a rate-limit window");
            }
        })
    }

    fn quiet_until<'a>(
        &'a self,
        installation: u64,
    ) -> Pin<Box<dyn Future<Output = Option<DateTime<Utc>>> + Send + 'a>> {
        Box::pin(async move {
            match self.store.quiet_until(db_id(installation)).await {
                Ok(until) => until.map(to_datetime).filter(|&t| t > Utc::now()),
                Err(e) => {
                    tracing::warn!(installation, error = %e, "cannot read the shared rate-limit window");
                    None
                }
            }
        })
    }
}
