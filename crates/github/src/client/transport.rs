//! The retrying HTTP layer over octocrab.
//!
//! Every call goes through [`Transport::run`]: one attempt at a time under an explicit
//! timeout, each failure judged by the pure policy in [`crate::retry`], rate-limit headers
//! recorded in [`ApiStats`], a rate limit's quiet window kept per caller here and shared
//! across replicas through [`crate::pacing`], and a refusal mapped to a [`GitHubError`].
//! octocrab supplies the connection pool, TLS, base URI, redirects and typed models; its
//! own retry layer is compiled out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use octocrab::Octocrab;
use octocrab::secrecy::{ExposeSecret, SecretString};

use super::{Auth, ClientOptions};
use crate::error::{GitHubError, Result};
use crate::retry::{self, Attempt, Decision, Failure};
use crate::stats::ApiStats;

const API_VERSION: &str = "2022-11-28";

/// One request, ready to be sent any number of times.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) route: &'a str,
    pub(crate) body: Option<Bytes>,
    pub(crate) accept: &'a str,
    /// Safe to repeat after an ambiguous failure (timeout mid-request).
    pub(crate) idempotent: bool,
    /// ETag for a conditional GET; a 304 answer then counts as success.
    pub(crate) if_none_match: Option<&'a str>,
    /// Use `download_timeout` instead of `timeout`.
    pub(crate) download: bool,
}

impl<'a> Request<'a> {
    /// A GET whose answer may be large (tarballs, raw contents), under
    /// `download_timeout`.
    pub(super) fn download(route: &'a str, accept: &'a str) -> Self {
        Request {
            method: Method::GET,
            route,
            body: None,
            accept,
            idempotent: true,
            if_none_match: None,
            download: true,
        }
    }
}

pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The unread body of a successful [`BodyMode::Stream`] answer (`body`
    /// is then empty).
    pub(crate) stream: Option<BoxBody<Bytes, octocrab::Error>>,
}

/// Whether an answer's body is read whole before the call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyMode {
    /// Read the whole body inside the attempt (and its timeout).
    Collect,
    /// Return a successful answer once its headers are in, its body
    /// unread; failures are still read whole, for the retry policy.
    Stream,
}

/// The shared HTTP machinery of one App or token: octocrab without auth, options, stats.
pub(crate) struct Transport {
    pub(super) crab: Octocrab,
    pub(super) api_base: String,
    pub(crate) options: ClientOptions,
    pub(crate) stats: Arc<ApiStats>,
    /// Per caller (an installation, the App, a token): no request before
    /// this instant. GitHub rate-limits the caller, not the request it
    /// answered, so a `Retry-After` told to one job holds for every job of
    /// that installation sharing this transport.
    quiet_until: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
}

impl Transport {
    /// Must run inside a Tokio runtime (octocrab spawns its request buffer).
    pub(crate) fn new(api_base: &str, options: ClientOptions) -> Result<Self> {
        let api_base = api_base.trim().trim_end_matches('/').to_string();
        let uri: http::Uri = api_base
            .parse()
            .map_err(|_| GitHubError::InvalidInput(format!("invalid API URL {api_base:?}")))?;
        if uri.scheme().is_none() || uri.authority().is_none() {
            return Err(GitHubError::InvalidInput(format!(
                "API URL needs a scheme and host: {api_base:?}"
            )));
        }
        let crab = Octocrab::builder()
            .base_uri(uri)
            .map_err(|e| GitHubError::InvalidInput(format!("API URL {api_base:?}: {e}")))?
            .set_connect_timeout(Some(options.connect_timeout))
            .set_read_timeout(Some(options.timeout))
            .set_write_timeout(Some(options.timeout))
            .build()
            .map_err(|e| GitHubError::Transport {
                route: String::new(),
                reason: error_chain(&e),
            })?;
        Ok(Self {
            crab,
            api_base,
            options,
            stats: Arc::new(ApiStats::default()),
            quiet_until: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// How long `caller` must still keep quiet after a rate limit.
    fn quiet_left(&self, caller: &str) -> Duration {
        let quiet = self
            .quiet_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        quiet.get(caller).map_or(Duration::ZERO, |until| {
            until.saturating_duration_since(Instant::now())
        })
    }

    /// Notes that `caller` was told to wait `wait`.
    fn keep_quiet(&self, caller: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut quiet = self
            .quiet_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = quiet.entry(caller.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Sends `req` until it succeeds or the retry policy gives up.
    pub(crate) async fn run(&self, req: &Request<'_>, auth: &Auth) -> Result<Response> {
        self.run_with(req, auth, BodyMode::Collect).await
    }

    /// [`Transport::run`], with the body of a successful answer collected
    /// or left to stream.
    pub(crate) async fn run_with(
        &self,
        req: &Request<'_>,
        auth: &Auth,
        mode: BodyMode,
    ) -> Result<Response> {
        let route = req.route;
        check_route(route)?;
        let limits = self.options.limits();
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut reauthenticated = false;
        let mut number = 0u32;
        let caller = auth.caller_key();
        loop {
            number += 1;
            // A rate limit another job of this caller was told about holds
            // here too: wait it out when it fits the budget, else give up
            // as rate limited (the worker defers the delivery).
            let quiet = self
                .quiet_left(&caller)
                .max(crate::pacing::shared_quiet_left(auth.pacer()).await);
            if !quiet.is_zero() {
                if quiet > limits.max_wait.saturating_sub(waited) {
                    self.stats.failed();
                    return Err(GitHubError::RateLimited {
                        reset_at: Utc::now()
                            + chrono::TimeDelta::from_std(quiet).unwrap_or(chrono::TimeDelta::MAX),
                    });
                }
                tokio::time::sleep(quiet).await;
                waited += quiet;
            }
            let bearer = match auth.bearer().await {
                Ok(b) => b,
                Err(e) => {
                    self.stats.failed();
                    return Err(e);
                }
            };
            self.stats.request();
            let outcome = self.attempt(req, &bearer.secret, mode).await;
            let (failure_kind, response) = match outcome {
                Ok((status, resp)) => {
                    self.stats.rate_limit(
                        retry::header_u64(&resp.headers, "x-ratelimit-remaining"),
                        retry::header_u64(&resp.headers, "x-ratelimit-reset"),
                    );
                    if status.is_success()
                        || (status == StatusCode::NOT_MODIFIED && req.if_none_match.is_some())
                    {
                        self.stats.ok();
                        return Ok(resp);
                    }
                    // A revoked or expired-early installation token: mint a new one once.
                    if status == StatusCode::UNAUTHORIZED
                        && !reauthenticated
                        && let Auth::Installation { slot, .. } = auth
                    {
                        reauthenticated = true;
                        slot.invalidate_generation(bearer.generation).await;
                        self.stats.retried();
                        tracing::info!(route, "GitHub answered 401; refreshing installation token");
                        continue;
                    }
                    if status == StatusCode::UNAUTHORIZED
                        && let Auth::App(app) = auth
                    {
                        // Do not keep presenting a JWT GitHub refused (e.g. clock skew).
                        app.forget_jwt();
                    }
                    (Some(status), Ok(resp))
                }
                Err(kind) => (None, Err(kind)),
            };
            let failure = match (&failure_kind, &response) {
                (Some(status), Ok(resp)) => Some(Failure::Status {
                    status: status.as_u16(),
                    headers: &resp.headers,
                    body: &resp.body,
                }),
                (_, Err(kind)) => kind.failure(),
                (None, Ok(_)) => None,
            };
            let attempt = Attempt {
                number,
                waited,
                idempotent: req.idempotent,
            };
            let decision = match failure {
                Some(f) => retry::decide(&f, &attempt, &limits, Utc::now(), retry::jitter()),
                None => Decision::Fail,
            };
            match decision {
                Decision::Retry { after, cause } => {
                    if matches!(
                        cause,
                        retry::Cause::PrimaryRateLimit | retry::Cause::SecondaryRateLimit
                    ) {
                        self.keep_quiet(&caller, after);
                        crate::pacing::share_quiet(auth.pacer(), after).await;
                    }
                    self.stats.retried();
                    tracing::warn!(
                        route,
                        method = %req.method,
                        status = failure_kind.map(|s| s.as_u16()),
                        attempt = number,
                        wait_ms = after.as_millis() as u64,
                        ?cause,
                        "retrying GitHub call"
                    );
                    tokio::time::sleep(after).await;
                    waited += after;
                }
                Decision::RateLimited { reset_at } => {
                    let wait = (reset_at - Utc::now()).to_std().unwrap_or_default();
                    self.keep_quiet(&caller, wait);
                    crate::pacing::share_quiet(auth.pacer(), wait).await;
                    self.stats.failed();
                    tracing::warn!(route, %reset_at, "GitHub rate limit: giving up");
                    return Err(GitHubError::RateLimited { reset_at });
                }
                Decision::Fail => {
                    self.stats.failed();
                    let err = match (failure_kind, response) {
                        (Some(status), Ok(resp)) => crate::error::refused(
                            status.as_u16(),
                            &resp.headers,
                            github_message(&resp.body, status),
                            route,
                        ),
                        (_, Err(kind)) => kind.into_error(route),
                        (None, Ok(_)) => GitHubError::Transport {
                            route: route.to_string(),
                            reason: "unexpected state".to_string(),
                        },
                    };
                    tracing::debug!(
                        route,
                        attempts = number,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        error = %err,
                        "GitHub call failed"
                    );
                    return Err(err);
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &Request<'_>,
        token: &SecretString,
        mode: BodyMode,
    ) -> std::result::Result<(StatusCode, Response), AttemptError> {
        let mut auth = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
            .map_err(|_| AttemptError::BadToken)?;
        auth.set_sensitive(true);
        let mut builder = http::Request::builder()
            .method(req.method.clone())
            .uri(req.route)
            .header(header::AUTHORIZATION, auth)
            .header(header::ACCEPT, req.accept)
            .header("x-github-api-version", API_VERSION);
        if let Some(etag) = req.if_none_match {
            builder = builder.header(header::IF_NONE_MATCH, etag);
        }
        let body = match &req.body {
            Some(b) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                octocrab::OctoBody::from(b.clone())
            }
            None => {
                builder = builder.header(header::CONTENT_LENGTH, "0");
                octocrab::OctoBody::empty()
            }
        };
        let request = builder.body(body).map_err(|_| AttemptError::BadRoute)?;
        let exchange = async {
            let response = self
                .crab
                .execute(request)
                .await
                .map_err(AttemptError::from_octocrab)?;
            let (parts, body) = response.into_parts();
            if mode == BodyMode::Stream && parts.status.is_success() {
                return Ok((
                    parts.status,
                    Response {
                        status: parts.status,
                        headers: parts.headers,
                        body: Bytes::new(),
                        stream: Some(body),
                    },
                ));
            }
            let body = body
                .collect()
                .await
                .map_err(AttemptError::from_octocrab)?
                .to_bytes();
            Ok((
                parts.status,
                Response {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                    stream: None,
                },
            ))
        };
        let limit = if req.download {
            self.options.download_timeout
        } else {
            self.options.timeout
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) => Err(AttemptError::Timeout),
        }
    }

    /// Turns a pagination URL back into a route, refusing any other host: the token is only
    /// ever sent to the configured API base.
    pub(super) fn route_from_url(&self, url: &str) -> Result<String> {
        let rest = url.strip_prefix(&self.api_base).ok_or_else(|| {
            GitHubError::InvalidInput(format!(
                "pagination link outside the API base: {}",
                url.split('?').next().unwrap_or(url)
            ))
        })?;
        if rest.starts_with('/') {
            Ok(rest.to_string())
        } else {
            Err(GitHubError::InvalidInput(format!(
                "pagination link outside the API base: {}",
                url.split('?').next().unwrap_or(url)
            )))
        }
    }
}

/// Why an attempt produced no response.
#[derive(Debug)]
enum AttemptError {
    Timeout,
    Connect(String),
    Other(String),
    BadToken,
    BadRoute,
}

impl AttemptError {
    fn from_octocrab(e: octocrab::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut connect = false;
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::TimedOut => return AttemptError::Timeout,
                    std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::AddrNotAvailable
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable => connect = true,
                    _ => {}
                }
            }
            if err.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
                return AttemptError::Timeout;
            }
            source = err.source();
        }
        let reason = error_chain(&e);
        if connect {
            AttemptError::Connect(reason)
        } else {
            AttemptError::Other(reason)
        }
    }

    /// The policy's view; `None` for input problems that no retry can fix.
    fn failure(&self) -> Option<Failure<'static>> {
        match self {
            AttemptError::Timeout => Some(Failure::Timeout),
            AttemptError::Connect(_) => Some(Failure::Connect),
            AttemptError::Other(_) => Some(Failure::Transport),
            AttemptError::BadToken | AttemptError::BadRoute => None,
        }
    }

    fn into_error(self, route: &str) -> GitHubError {
        let route = route.to_string();
        match self {
            AttemptError::Timeout => GitHubError::Timeout { route },
            AttemptError::Connect(reason) | AttemptError::Other(reason) => {
                GitHubError::Transport { route, reason }
            }
            AttemptError::BadToken => GitHubError::InvalidInput(
                "token contains characters not allowed in a header".into(),
            ),
            AttemptError::BadRoute => GitHubError::InvalidInput(format!("invalid route {route:?}")),
        }
    }
}

/// The error for a body that failed after its headers arrived: a timeout
/// (octocrab's idle read limit) stays a timeout.
pub(crate) fn body_error(route: &str, e: octocrab::Error) -> GitHubError {
    match AttemptError::from_octocrab(e) {
        AttemptError::Timeout => GitHubError::Timeout {
            route: route.to_string(),
        },
        other => {
            let reason = match other {
                AttemptError::Connect(reason) | AttemptError::Other(reason) => reason,
                _ => "unknown failure".to_string(),
            };
            GitHubError::Transport {
                route: route.to_string(),
                reason: format!("the body broke off: {reason}"),
            }
        }
    }
}

pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Routes are paths below the API base. Absolute URLs (such as `comments_url` from a
/// payload) are refused because they would bypass the configured base.
pub(super) fn check_route(route: &str) -> Result<()> {
    if route.starts_with('/') && !route.starts_with("//") && route.parse::<http::Uri>().is_ok() {
        Ok(())
    } else {
        Err(GitHubError::InvalidInput(format!(
            "route must be a path below the API base, got {route:?}"
        )))
    }
}

/// GitHub's `message` (plus validation `errors` for 422s), else the start of the body.
pub(super) fn github_message(body: &[u8], status: StatusCode) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        errors: Option<serde_json::Value>,
    }
    let mut msg = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            message: Some(m),
            errors,
        }) => match errors {
            Some(errors) => format!("{m} {errors}"),
            None => m,
        },
        _ => String::from_utf8_lossy(body).trim().to_string(),
    };
    if msg.is_empty() {
        msg = status
            .canonical_reason()
            .unwrap_or("no message")
            .to_string();
    }
    if msg.len() > 500 {
        let mut cut = 500;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
        msg.push('…');
    }
    msg
}
