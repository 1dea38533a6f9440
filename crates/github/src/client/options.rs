//! How patient the client is: timeouts, retry bounds, caching margins, and
//! which API base it talks to.

use std::time::Duration;

use crate::retry::RetryLimits;

/// Timeouts, retry bounds and caching margins for talking to GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Whole-attempt limit: connect, send, and read the complete body. Also the idle limit
    /// between reads.
    pub timeout: Duration,
    /// Whole-attempt limit for [`Client::get_bytes`] (tarballs can be large);
    /// for [`Client::get_stream`], the limit up to the headers and the
    /// total time spent waiting for the body's bytes (time the reader takes
    /// to consume them does not count).
    pub download_timeout: Duration,
    /// TCP/TLS connect limit.
    pub connect_timeout: Duration,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Total sleeping between attempts of one call; a longer rate limit becomes
    /// [`GitHubError::RateLimited`] so the caller can re-queue the work.
    pub max_wait: Duration,
    /// First backoff step after a 5xx or transport error (doubles, with jitter).
    pub base_backoff: Duration,
    /// Largest single backoff step.
    pub max_backoff: Duration,
    /// Wait after a secondary rate limit that names no `Retry-After`.
    pub secondary_wait: Duration,
    /// Installation tokens are replaced once they have less than this left.
    pub token_refresh_margin: Duration,
    /// Page cap for [`Client::get_all`].
    pub max_pages: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            download_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            max_attempts: 5,
            max_wait: Duration::from_secs(90),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            secondary_wait: Duration::from_secs(60),
            token_refresh_margin: Duration::from_secs(5 * 60),
            max_pages: 200,
        }
    }
}

impl ClientOptions {
    /// Same rules with waits scaled down for tests against a local fake.
    pub fn for_tests() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            download_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
            max_attempts: 5,
            max_wait: Duration::from_secs(5),
            base_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            secondary_wait: Duration::from_millis(200),
            token_refresh_margin: Duration::from_secs(5 * 60),
            max_pages: 50,
        }
    }

    pub(crate) fn limits(&self) -> RetryLimits {
        RetryLimits {
            max_attempts: self.max_attempts.max(1),
            max_wait: self.max_wait,
            base_backoff: self.base_backoff,
            max_backoff: self.max_backoff,
            secondary_wait: self.secondary_wait,
        }
    }
}

/// `PAYDOWN_GITHUB_API_URL`, else `GITHUB_API_URL`, else `https://api.github.com` (docs/cli.md).
pub fn api_base_from_env() -> String {
    api_base_from(|k| std::env::var(k).ok())
}

/// [`api_base_from_env`] over any variable source (the Action passes its
/// own, so tests need not touch the process environment).
pub fn api_base_from(get: impl Fn(&str) -> Option<String>) -> String {
    ["PAYDOWN_GITHUB_API_URL", "GITHUB_API_URL"]
        .iter()
        .filter_map(|k| get(k))
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "https://api.github.com".to_string())
}
