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
        /// The HTTP status.
        status: u16,
        /// GitHub's own `message` field, or the start of the body.
        message: String,
        /// The route asked for.
        route: String,
    },
    /// A 403 for a permission the token lacks: GitHub names what it accepts
    /// in `X-Accepted-GitHub-Permissions` (`issues=write`; alternatives
    /// separated by `;`), kept verbatim in `accepted`.
    #[error("GitHub answered 403 for {route}: {message} (the token needs {accepted})")]
    MissingPermission {
        /// GitHub's `message` field.
        message: String,
        /// The route asked for.
        route: String,
        /// What GitHub accepts, as it named it.
        accepted: String,
    },
    /// A rate limit that does not reset within the configured maximum wait.
    #[error("GitHub rate limit exhausted until {reset_at}")]
    RateLimited {
        /// When GitHub says the limit lifts.
        reset_at: DateTime<Utc>,
    },
    /// No complete response within the configured timeout.
    #[error("GitHub request timed out: {route}")]
    Timeout {
        /// The route asked for.
        route: String,
    },
    /// Connection-level failure (DNS, refused, reset, TLS, ...).
    #[error("GitHub request failed for {route}: {reason}")]
    Transport {
        /// The route asked for.
        route: String,
        /// The transport's own description of the failure.
        reason: String,
    },
    /// The App private key could not be used.
    #[error("invalid GitHub App private key: {reason}")]
    InvalidKey {
        /// Why the key was rejected.
        reason: String,
    },
    /// A 2xx body that is not what the caller expected.
    #[error("could not decode GitHub response for {route}: {error}")]
    Decode {
        /// The route asked for.
        route: String,
        /// The deserializer's error.
        error: String,
    },
    /// Caller input that cannot form a valid request (repository name, route, URL).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A paginated listing had more pages than the configured cap; partial data is not
    /// returned because callers reconcile against it (a missing page would look like deletions).
    #[error("{route} has more than {max_pages} pages")]
    TooManyPages {
        /// The listing's first route.
        route: String,
        /// The cap it exceeded.
        max_pages: u32,
    },
    /// `GET /app` failed, so the bot's own login is unknown: no account's
    /// markers are trusted until it answers. Transient: the job is retried
    /// and asks again.
    #[error(
        "the App's identity is unknown (GET /app failed: {reason}); no bot's markers are trusted until it answers"
    )]
    IdentityUnknown {
        /// Why `GET /app` failed.
        reason: String,
    },
}

impl GitHubError {
    /// HTTP status when GitHub answered, for callers that branch on 404/410/422.
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Http { status, .. } => Some(*status),
            GitHubError::MissingPermission { .. } => Some(403),
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
            | GitHubError::Transport { .. }
            | GitHubError::IdentityUnknown { .. } => true,
            GitHubError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// The error for a refused answer: a 403 naming the permission it needs
/// becomes [`GitHubError::MissingPermission`], anything else
/// [`GitHubError::Http`].
pub(crate) fn refused(
    status: u16,
    headers: &http::HeaderMap,
    message: String,
    route: &str,
) -> GitHubError {
    let accepted = headers
        .get("x-accepted-github-permissions")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match accepted {
        Some(accepted) if status == 403 => GitHubError::MissingPermission {
            message,
            route: route.to_string(),
            accepted: accepted.to_string(),
        },
        _ => GitHubError::Http {
            status,
            message,
            route: route.to_string(),
        },
    }
}

/// The workflow permissions GitHub accepts in place of a missing one, from
/// `X-Accepted-GitHub-Permissions`: the first alternative, as `permissions:`
/// keys (`pull_requests=write` becomes `("pull-requests", "write")`).
pub fn workflow_permissions(accepted: &str) -> Vec<(String, String)> {
    accepted
        .split(';')
        .next()
        .unwrap_or_default()
        .split(',')
        .filter_map(|pair| {
            let (name, level) = pair.trim().split_once('=')?;
            Some((name.trim().replace('_', "-"), level.trim().to_string()))
        })
        .filter(|(name, level)| !name.is_empty() && !level.is_empty())
        .collect()
}

/// Results of this crate: a [`GitHubError`] unless said otherwise.
pub type Result<T, E = GitHubError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_403_naming_a_permission_says_which() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "x-accepted-github-permissions",
            http::HeaderValue::from_static("issues=write"),
        );
        let err = refused(
            403,
            &headers,
            "Resource not accessible by integration".into(),
            "/repos/o/r/issues",
        );
        assert_eq!(
            err.to_string(),
            "GitHub answered 403 for /repos/o/r/issues: Resource not accessible by integration (the token needs issues=write)"
        );
        assert_eq!(err.status(), Some(403));
        assert!(err.stops_every_request() && !err.is_transient());

        let plain = refused(403, &http::HeaderMap::new(), "Forbidden".into(), "/x");
        assert!(matches!(plain, GitHubError::Http { status: 403, .. }));
    }

    #[test]
    fn accepted_permissions_become_workflow_keys() {
        assert_eq!(
            workflow_permissions("pull_requests=write,contents=read; issues=write"),
            [
                ("pull-requests".to_string(), "write".to_string()),
                ("contents".to_string(), "read".to_string())
            ]
        );
        assert!(workflow_permissions("").is_empty());
    }
}
