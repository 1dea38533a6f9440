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
//! run for when a whole batch fits ([`batch_at`]).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use paydown_github::pacing::{Write, WritePacer};
use paydown_github::{Clock, GitHubError};

use crate::store::{Store, StoreError, WriteSlot};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// How fast one installation may write. Defaults from GitHub's docs
/// ("Best practices for using the REST API", "About secondary rate limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacingLimits {
    /// Least time between two writes (any method but GET).
    pub min_interval: Duration,
    /// Content-creating writes per rolling minute (0: no limit).
    pub content_per_minute: u32,
    /// Content-creating writes per rolling hour (0: no limit).
    pub content_per_hour: u32,
    /// Added to each window, so a write that takes a moment to reach
    /// GitHub is still counted by GitHub in the window it was paced in.
    pub margin: Duration,
    /// A write waits for its slot when it is at most this far off;
    /// otherwise the job is re-queued for then.
    pub max_wait: Duration,
}

impl Default for PacingLimits {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(1),
            content_per_minute: 80,
            content_per_hour: 500,
            margin: Duration::from_secs(1),
            max_wait: Duration::from_secs(10),
        }
    }
}

impl PacingLimits {
    fn interval_ms(&self) -> i64 {
        ms(self.min_interval)
    }

    /// (window, limit) of the content-creation limits in force.
    fn windows(&self) -> Vec<(i64, usize)> {
        let margin = ms(self.margin);
        [
            (MINUTE_MS, self.content_per_minute),
            (HOUR_MS, self.content_per_hour),
        ]
        .into_iter()
        .filter(|(_, max)| *max > 0)
        .map(|(w, max)| (w + margin, max as usize))
        .collect()
    }

    /// How far back the log must reach to decide.
    fn horizon_ms(&self) -> i64 {
        HOUR_MS + ms(self.margin) + self.interval_ms()
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The earliest time at or after `now` a write may go out, given the
/// installation's slots `log` (oldest first; reserved future slots
/// included): a second after the last slot, and, for content creation,
/// once each window holds fewer than its limit.
pub fn earliest_slot(log: &[WriteSlot], now: i64, content: bool, limits: &PacingLimits) -> i64 {
    let mut t = now;
    if let Some(last) = log.iter().map(|s| s.at_ms).max() {
        t = t.max(last.saturating_add(limits.interval_ms()));
    }
    if content {
        t = fits(log, t, 1, limits);
    }
    t
}

/// The earliest time at or after `now` when `want` content-creating writes
/// fit every window at once (`want` capped at the smallest limit): when a
/// paced import's next batch can run.
pub fn batch_at(log: &[WriteSlot], now: i64, want: u32, limits: &PacingLimits) -> i64 {
    let mut t = now;
    if let Some(last) = log.iter().map(|s| s.at_ms).max() {
        t = t.max(last.saturating_add(limits.interval_ms()));
    }
    fits(log, t, want.max(1) as usize, limits)
}

/// Moves `t` forward until `want` more content writes fit each window.
fn fits(log: &[WriteSlot], mut t: i64, want: usize, limits: &PacingLimits) -> i64 {
    let content: Vec<i64> = log.iter().filter(|s| s.content).map(|s| s.at_ms).collect();
    loop {
        let mut moved = false;
        for (window, max) in limits.windows() {
            let want = want.min(max);
            let inside: Vec<i64> = content
                .iter()
                .copied()
                .filter(|&at| at > t - window)
                .collect();
            // `inside[k]` and all before it must leave the window.
            if inside.len() + want > max {
                let k = inside.len() + want - max - 1;
                let free = inside[k] + window;
                if free > t {
                    t = free;
                    moved = true;
                }
            }
        }
        if !moved {
            return t;
        }
    }
}

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
    pub fn new(store: Store, clock: Clock, limits: PacingLimits) -> Self {
        Self {
            store,
            clock,
            limits,
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(ats: &[(i64, bool)]) -> Vec<WriteSlot> {
        ats.iter()
            .map(|&(at_ms, content)| WriteSlot { at_ms, content })
            .collect()
    }

    fn exact() -> PacingLimits {
        PacingLimits {
            margin: Duration::ZERO,
            ..PacingLimits::default()
        }
    }

    #[test]
    fn writes_are_a_second_apart() {
        // Given a write at t=10s, when another is asked for at 10.2s,
        // then it goes out at 11s; and a first write goes out at once.
        let log = slots(&[(10_000, false)]);
        assert_eq!(earliest_slot(&log, 10_200, false, &exact()), 11_000);
        assert_eq!(earliest_slot(&[], 5, true, &exact()), 5);
    }

    #[test]
    fn the_hour_window_holds_500_content_writes() {
        // Given 500 content writes a second apart from t=0,
        let log: Vec<WriteSlot> = (0..500)
            .map(|i| WriteSlot {
                at_ms: i * 1000,
                content: true,
            })
            .collect();
        // when a 501st content write is asked for, then it waits until the
        // first leaves the hour window,
        assert_eq!(earliest_slot(&log, 500_000, true, &exact()), HOUR_MS);
        // while an edit (not content) only waits its second,
        assert_eq!(earliest_slot(&log, 500_000, false, &exact()), 500_000);
        // and a batch of 50 waits until 50 have left.
        assert_eq!(batch_at(&log, 500_000, 50, &exact()), HOUR_MS + 49_000);
    }

    #[test]
    fn the_minute_window_holds_80_content_writes() {
        // Given 80 content writes within 8 seconds (no spacing rule),
        let limits = PacingLimits {
            min_interval: Duration::ZERO,
            ..exact()
        };
        let log: Vec<WriteSlot> = (0..80)
            .map(|i| WriteSlot {
                at_ms: i * 100,
                content: true,
            })
            .collect();
        // then the 81st waits until the first is a minute old.
        assert_eq!(earliest_slot(&log, 8_000, true, &limits), MINUTE_MS);
    }
}
