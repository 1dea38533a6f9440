//! Write pacing: the seam through which every write of an installation
//! client asks for a slot before it is sent, and the clock pacing runs on.
//!
//! GitHub asks integrations to leave about a second between writes and
//! caps content-creating requests (80 a minute, 500 an hour); an
//! integration that keeps writing while limited risks a ban. The client
//! does not decide the pace itself: it asks a [`WritePacer`] (the server's
//! one keeps a per-installation log in its database, shared by all workers
//! and replicas) and either waits for the slot it is given or fails with
//! [`GitHubError::RateLimited`] naming when the budget frees, so the caller
//! re-queues its work instead of sleeping on it.
//!
//! [`Clock`] is the time all of this runs on: the system clock in
//! production, a simulated one in tests, where sleeping moves time forward
//! at once (an hour of paced import runs in seconds).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::Method;

use crate::error::{GitHubError, Result};

/// Time for pacing and scheduling: the system clock, or a simulated one a
/// test drives. Cheap to clone; clones of a simulated clock share its time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    simulated: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The wall clock; sleeping sleeps.
    pub fn system() -> Clock {
        Clock { simulated: None }
    }

    /// A clock standing at `start` that moves only when told to
    /// ([`Clock::advance`]) or when something sleeps on it: sleeping until
    /// a time jumps the clock there at once.
    pub fn simulated(start: DateTime<Utc>) -> Clock {
        Clock {
            simulated: Some(Arc::new(AtomicI64::new(start.timestamp_millis()))),
        }
    }

    /// Whether time is simulated (tests), so waits advance it instead of sleeping.
    pub fn is_simulated(&self) -> bool {
        self.simulated.is_some()
    }

    /// Now, in UTC unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.simulated {
            Some(now) => now.load(Ordering::SeqCst),
            None => Utc::now().timestamp_millis(),
        }
    }

    /// Now, in UTC.
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.now_ms()).unwrap_or_default()
    }

    /// Moves a simulated clock forward by `by` (the system clock ignores it).
    pub fn advance(&self, by: Duration) {
        if let Some(now) = &self.simulated {
            now.fetch_add(
                i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
                Ordering::SeqCst,
            );
        }
    }

    /// Waits until `at_ms` (unix milliseconds). A simulated clock jumps
    /// there (never backwards) and yields once.
    pub async fn sleep_until_ms(&self, at_ms: i64) {
        match &self.simulated {
            Some(now) => {
                now.fetch_max(at_ms, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
            None => {
                let wait = at_ms.saturating_sub(self.now_ms());
                if wait > 0 {
                    tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
                }
            }
        }
    }
}

/// One write about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Write<'a> {
    /// The installation whose limits it counts against.
    pub installation: u64,
    /// The HTTP method (only writes are paced).
    pub method: &'a Method,
    /// The route, for logs.
    pub route: &'a str,
    /// Whether GitHub counts it against its content-creation limit.
    pub creates_content: bool,
}

/// Decides when each write of an installation may be sent.
pub trait WritePacer: Send + Sync + std::fmt::Debug + 'static {
    /// Waits until `write` may be sent, or fails with
    /// [`crate::GitHubError::RateLimited`] when the installation's budget is
    /// spent for longer than is worth waiting: the caller re-queues its
    /// work for then.
    fn before_write<'a>(
        &'a self,
        write: Write<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

    /// Records that GitHub told `installation` to send nothing before
    /// `until` (a 403/429 with `Retry-After`, or a secondary-limit answer):
    /// GitHub limits the installation, not the process that was told, so
    /// a pacer shared by replicas keeps all of them quiet. Best effort: a
    /// pacer that cannot record it only loses the sharing (the client
    /// still keeps its own process quiet).
    fn note_quiet_until<'a>(
        &'a self,
        installation: u64,
        until: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        let _ = (installation, until);
        Box::pin(async {})
    }

    /// Until when `installation` must send nothing, as recorded by any
    /// sharer of this pacer ([`WritePacer::note_quiet_until`]); `None`
    /// when nothing holds it back (or the record cannot be read).
    fn quiet_until<'a>(
        &'a self,
        installation: u64,
    ) -> Pin<Box<dyn Future<Output = Option<DateTime<Utc>>> + Send + 'a>> {
        let _ = installation;
        Box::pin(async { None })
    }
}

/// How long the installation a request is made for must still keep quiet
/// according to `pacer`'s shared record (zero without a pacer or
/// installation).
pub(crate) async fn shared_quiet_left(pacer: Option<(&dyn WritePacer, u64)>) -> Duration {
    let Some((pacer, installation)) = pacer else {
        return Duration::ZERO;
    };
    pacer
        .quiet_until(installation)
        .await
        .and_then(|until| (until - Utc::now()).to_std().ok())
        .unwrap_or(Duration::ZERO)
}

/// Shares a quiet window of `wait` from now through `pacer`, if any.
pub(crate) async fn share_quiet(pacer: Option<(&dyn WritePacer, u64)>, wait: Duration) {
    if let Some((pacer, installation)) = pacer {
        let until =
            Utc::now() + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
        pacer.note_quiet_until(installation, until).await;
    }
}

/// Requests GitHub counts as content creation (its secondary limit of 80 a
/// minute and 500 an hour): POSTs creating issues, comments, labels,
/// milestones, reactions, check runs, pull requests and releases. The fake
/// GitHub counts the same list.
pub fn creates_content(method: &Method, route: &str) -> bool {
    let path = route.split('?').next().unwrap_or(route);
    *method == Method::POST
        && [
            "/issues",
            "/comments",
            "/labels",
            "/milestones",
            "/reactions",
            "/check-runs",
            "/pulls",
            "/releases",
        ]
        .iter()
        .any(|suffix| path.ends_with(suffix))
}

/// Whether a request is a write the pacer sees: anything but GET/HEAD, and
/// not a GraphQL query (paydown sends no GraphQL mutation).
pub fn is_paced_write(method: &Method, route: &str) -> bool {
    !(*method == Method::GET || *method == Method::HEAD || route.starts_with("/graphql"))
}

/// One reserved (or spent) write slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSlot {
    /// UTC unix milliseconds on the pacing clock.
    pub at_ms: i64,
    /// GitHub counts it as content creation.
    pub content: bool,
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// How fast one installation (or token) may write. Defaults from GitHub's docs
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
    /// The limits the environment asks for, `None` when pacing is turned
    /// off: `PAYDOWN_WRITE_PACING` (`on`/`off`, default on),
    /// `PAYDOWN_WRITE_INTERVAL_MS` (default 1000),
    /// `PAYDOWN_CONTENT_WRITES_PER_MINUTE` (80) and
    /// `PAYDOWN_CONTENT_WRITES_PER_HOUR` (500); 0 turns a limit off.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Option<PacingLimits>> {
        let var = |k: &str| {
            get(k)
                .map(|v| v.trim().to_ascii_lowercase())
                .filter(|v| !v.is_empty())
        };
        match var("PAYDOWN_WRITE_PACING").as_deref() {
            None | Some("on" | "true" | "1" | "yes") => {}
            Some("off" | "false" | "0" | "no") => return Ok(None),
            Some(other) => {
                return Err(GitHubError::InvalidInput(format!(
                    "PAYDOWN_WRITE_PACING: expected on or off, got {other:?}"
                )));
            }
        }
        let num = |k: &str, default: u64| -> Result<u64> {
            var(k).map_or(Ok(default), |v| {
                v.parse().map_err(|_| {
                    GitHubError::InvalidInput(format!("{k}: expected a whole number, got {v:?}"))
                })
            })
        };
        let d = PacingLimits::default();
        let count = |k: &str, default: u32| -> Result<u32> {
            u32::try_from(num(k, u64::from(default))?)
                .map_err(|_| GitHubError::InvalidInput(format!("{k}: too large")))
        };
        Ok(Some(PacingLimits {
            min_interval: Duration::from_millis(num("PAYDOWN_WRITE_INTERVAL_MS", 1000)?),
            content_per_minute: count("PAYDOWN_CONTENT_WRITES_PER_MINUTE", d.content_per_minute)?,
            content_per_hour: count("PAYDOWN_CONTENT_WRITES_PER_HOUR", d.content_per_hour)?,
            ..d
        }))
    }

    /// The minimum gap between two writes, in milliseconds.
    pub fn interval_ms(&self) -> i64 {
        ms(self.min_interval)
    }

    /// (window, limit) of the content-creation limits in force.
    pub fn windows(&self) -> Vec<(i64, usize)> {
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
    pub fn horizon_ms(&self) -> i64 {
        HOUR_MS + ms(self.margin) + self.interval_ms()
    }
}

/// `d` in milliseconds, saturating.
pub fn ms(d: Duration) -> i64 {
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

/// The pacer of one process that writes as one token: the CLI's `sync`
/// and the Action, where no store is shared and no queue can take work
/// back. It keeps the write log in memory and waits for every slot, however
/// far (a first import of hundreds of items takes its hours instead of
/// tripping GitHub's secondary limits).
#[derive(Debug)]
pub struct LocalPacer {
    clock: Clock,
    limits: PacingLimits,
    log: std::sync::Mutex<Vec<WriteSlot>>,
}

impl LocalPacer {
    /// A pacer reading `clock`, holding writes to `limits`.
    pub fn new(clock: Clock, limits: PacingLimits) -> Self {
        Self {
            clock,
            limits,
            log: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The pacer the environment asks for, on the system clock:
    /// `PAYDOWN_WRITE_PACING` (`on`, the default, or `off`: `None`),
    /// `PAYDOWN_WRITE_INTERVAL_MS`, `PAYDOWN_CONTENT_WRITES_PER_MINUTE`,
    /// `PAYDOWN_CONTENT_WRITES_PER_HOUR` (as for `paydown serve`).
    pub fn from_env() -> Result<Option<Arc<dyn WritePacer>>> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// [`LocalPacer::from_env`] over any variable source.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Option<Arc<dyn WritePacer>>> {
        Ok(PacingLimits::from_vars(get)?.map(|limits| {
            Arc::new(LocalPacer::new(Clock::system(), limits)) as Arc<dyn WritePacer>
        }))
    }

    /// Reserves the next slot and returns when it is (unix ms).
    fn reserve(&self, content: bool) -> i64 {
        let now = self.clock.now_ms();
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let since = now - self.limits.horizon_ms();
        log.retain(|s| s.at_ms >= since);
        let at = earliest_slot(&log, now, content, &self.limits);
        log.push(WriteSlot { at_ms: at, content });
        at
    }
}

impl WritePacer for LocalPacer {
    fn before_write<'a>(
        &'a self,
        write: Write<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            let at = self.reserve(write.creates_content);
            let wait = at - self.clock.now_ms();
            if wait > ms(self.limits.max_wait) {
                tracing::info!(
                    route = write.route,
                    wait_s = wait / 1000,
                    "pacing writes within GitHub's limits: waiting for the next slot"
                );
            }
            self.clock.sleep_until_ms(at).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_simulated_clock_jumps_forward_when_slept_on_and_never_back() {
        // Given a simulated clock,
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let clock = Clock::simulated(start);
        let shared = clock.clone();
        // when something sleeps an hour on it, then it is an hour later at
        // once, for every clone,
        clock
            .sleep_until_ms(start.timestamp_millis() + 3_600_000)
            .await;
        assert_eq!(shared.now_ms(), start.timestamp_millis() + 3_600_000);
        // and sleeping until an earlier time changes nothing.
        clock.sleep_until_ms(start.timestamp_millis()).await;
        assert_eq!(shared.now_ms(), start.timestamp_millis() + 3_600_000);
    }

    #[test]
    fn content_creation_is_the_creating_posts() {
        let post = Method::POST;
        assert!(creates_content(&post, "/repos/o/r/issues"));
        assert!(creates_content(&post, "/repos/o/r/issues/3/comments"));
        assert!(creates_content(&post, "/repos/o/r/check-runs"));
        assert!(!creates_content(&Method::PATCH, "/repos/o/r/issues/3"));
        assert!(!creates_content(&post, "/graphql"));
        assert!(is_paced_write(&Method::PATCH, "/repos/o/r/issues/3"));
        assert!(!is_paced_write(&post, "/graphql"));
        assert!(!is_paced_write(&Method::GET, "/repos/o/r/issues"));
    }

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
