//! Counters about GitHub API use, shared by every client of one App (or token) and read by
//! the server's `/metrics` endpoint. Lock-free: updated on every request.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Live counters. Cheap to share (`Arc<ApiStats>`); read with [`ApiStats::snapshot`].
#[derive(Debug)]
pub struct ApiStats {
    requests: AtomicU64,
    ok: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    token_requests: AtomicU64,
    rate_limit_remaining: AtomicI64,
    rate_limit_reset: AtomicI64,
}

impl Default for ApiStats {
    fn default() -> Self {
        Self {
            requests: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
            rate_limit_remaining: AtomicI64::new(-1),
            rate_limit_reset: AtomicI64::new(-1),
        }
    }
}

/// A point-in-time copy of [`ApiStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApiStatsSnapshot {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// Calls that ended in success.
    pub ok: u64,
    /// Attempts that were followed by a retry.
    pub retried: u64,
    /// Calls that ended in an error.
    pub failed: u64,
    /// Installation-token exchanges.
    pub token_requests: u64,
    /// Last `x-ratelimit-remaining` seen, if any.
    pub rate_limit_remaining: Option<u64>,
    /// Last `x-ratelimit-reset` seen (Unix seconds), if any.
    pub rate_limit_reset: Option<u64>,
}

impl ApiStats {
    /// The counters as they are now.
    pub fn snapshot(&self) -> ApiStatsSnapshot {
        let opt = |v: i64| u64::try_from(v).ok();
        ApiStatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            ok: self.ok.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            token_requests: self.token_requests.load(Ordering::Relaxed),
            rate_limit_remaining: opt(self.rate_limit_remaining.load(Ordering::Relaxed)),
            rate_limit_reset: opt(self.rate_limit_reset.load(Ordering::Relaxed)),
        }
    }

    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn ok(&self) {
        self.ok.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retried(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn token_request(&self) {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn rate_limit(&self, remaining: Option<u64>, reset: Option<u64>) {
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        if let Some(r) = remaining {
            self.rate_limit_remaining
                .store(to_i64(r), Ordering::Relaxed);
        }
        if let Some(r) = reset {
            self.rate_limit_reset.store(to_i64(r), Ordering::Relaxed);
        }
    }
}

impl ApiStatsSnapshot {
    /// Prometheus text exposition (format 0.0.4), metric names prefixed `paydown_github_`.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP paydown_github_{name} {help}");
            let _ = writeln!(out, "# TYPE paydown_github_{name} counter");
            let _ = writeln!(out, "paydown_github_{name} {value}");
        };
        counter(
            "requests_total",
            "HTTP requests sent to GitHub.",
            self.requests,
        );
        counter("calls_ok_total", "API calls that succeeded.", self.ok);
        counter("retries_total", "Attempts that were retried.", self.retried);
        counter("calls_failed_total", "API calls that failed.", self.failed);
        counter(
            "token_requests_total",
            "Installation token exchanges.",
            self.token_requests,
        );
        let mut gauge = |name: &str, help: &str, value: Option<u64>| {
            if let Some(v) = value {
                let _ = writeln!(out, "# HELP paydown_github_{name} {help}");
                let _ = writeln!(out, "# TYPE paydown_github_{name} gauge");
                let _ = writeln!(out, "paydown_github_{name} {v}");
            }
        };
        gauge(
            "rate_limit_remaining",
            "Last x-ratelimit-remaining seen.",
            self.rate_limit_remaining,
        );
        gauge(
            "rate_limit_reset_seconds",
            "Last x-ratelimit-reset seen (Unix time).",
            self.rate_limit_reset,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_fresh_stats_then_rate_limit_is_unknown() {
        let s = ApiStats::default().snapshot();
        assert_eq!(s, ApiStatsSnapshot::default());
        assert!(!s.to_prometheus().contains("rate_limit_remaining"));
    }

    #[test]
    fn given_activity_then_snapshot_and_exposition_reflect_it() {
        let s = ApiStats::default();
        s.request();
        s.request();
        s.retried();
        s.ok();
        s.rate_limit(Some(4999), Some(1_800_000_000));
        s.rate_limit(None, None);
        let snap = s.snapshot();
        assert_eq!(snap.requests, 2);
        assert_eq!(snap.retried, 1);
        assert_eq!(snap.rate_limit_remaining, Some(4999));
        let text = snap.to_prometheus();
        assert!(text.contains("paydown_github_requests_total 2\n"), "{text}");
        assert!(text.contains("paydown_github_rate_limit_remaining 4999\n"));
        assert!(text.contains("# TYPE paydown_github_retries_total counter\n"));
    }
}
