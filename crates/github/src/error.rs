//! The one error type of this crate: what failed, where, and whether a caller can wait it out.
//!
//! No variant ever carries a token, a JWT or key material.

use chrono::{DateTime, Utc};

/// Everything that can go wrong talking to GitHub.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// GitHub answered with a status paydown does not retry (or stopped retrying).
    #[error("GitHub answered {status} for {route}: {message}")]
    Http {
        status: u16,
        /// GitHub's own `message` field, or the start of the body.
        message: String,
        route: String,
    },
    /// A rate limit that does not reset within the configured maximum wait.
    #[error("GitHub rate limit exhausted until {reset_at}")]
    RateLimited { reset_at: DateTime<Utc> },
    /// No complete response within the configured timeout.
    #[error("GitHub request timed out: {route}")]
    Timeout { route: String },
    /// Connection-level failure (DNS, refused, reset, TLS, ...).
    #[error("GitHub request failed for {route}: {reason}")]
    Transport { route: String, reason: String },
    /// The App private key could not be used.
    #[error("invalid GitHub App private key: {reason}")]
    InvalidKey { reason: String },
    /// A 2xx body that is not what the caller expected.
    #[error("could not decode GitHub response for {route}: {error}")]
    Decode { route: String, error: String },
    /// Caller input that cannot form a valid request (repository name, route, URL).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A paginated listing had more pages than the configured cap; partial data is not
    /// returned because callers reconcile against it (a missing page would look like deletions).
    #[error("{route} has more than {max_pages} pages")]
    TooManyPages { route: String, max_pages: u32 },
}

impl GitHubError {
    /// HTTP status when GitHub answered, for callers that branch on 404/410/422.
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for failures every other request would meet too (a rate limit,
    /// a refused or expired credential): work that reads many things stops
    /// at the first, instead of reporting each thing as unreadable.
    pub fn stops_every_request(&self) -> bool {
        matches!(self, GitHubError::RateLimited { .. }) || matches!(self.status(), Some(401 | 403))
    }

    /// True when a write that failed this way may nonetheless have been
    /// applied: GitHub answered 5xx, or the answer never came (timeout,
    /// connection reset). Repeating a create after one of these can
    /// duplicate it; look for it first.
    pub fn maybe_applied(&self) -> bool {
        match self {
            GitHubError::Timeout { .. } | GitHubError::Transport { .. } => true,
            GitHubError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// True for failures that may succeed later (rate limits, timeouts, transport, 5xx):
    /// worth re-queueing a job rather than reporting a user error.
    pub fn is_transient(&self) -> bool {
        match self {
            GitHubError::RateLimited { .. }
            | GitHubError::Timeout { .. }
            | GitHubError::Transport { .. } => true,
            GitHubError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

pub type Result<T, E = GitHubError> = std::result::Result<T, E>;
