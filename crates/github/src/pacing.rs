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

use crate::error::Result;

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
    pub installation: u64,
    pub method: &'a Method,
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
}
