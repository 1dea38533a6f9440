//! The retrying HTTP layer over octocrab and the per-installation (or per-token) `Client`.
//!
//! Every call goes through [`Transport::run`]: one attempt at a time under an explicit
//! timeout, each failure judged by the pure policy in [`crate::retry`], rate-limit headers
//! recorded in [`ApiStats`]. octocrab supplies the connection pool, TLS, base URI, redirects
//! and typed models; its own retry layer is compiled out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use octocrab::Octocrab;
use octocrab::secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::BotIdentity;
use crate::app::{AppShared, TokenSlot};
use crate::error::{GitHubError, Result};
use crate::pacing::{Write, WritePacer};
use crate::retry::{self, Attempt, Decision, Failure, RetryLimits};
use crate::stats::ApiStats;
use crate::stream::{BodyReader, BodyTimeouts};

const JSON: &str = "application/vnd.github+json";
const API_VERSION: &str = "2022-11-28";

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

/// Who a request is made as.
#[derive(Clone)]
pub(crate) enum Auth {
    Token(SecretString),
    App(Arc<AppShared>),
    Installation {
        app: Arc<AppShared>,
        id: u64,
        slot: Arc<TokenSlot>,
    },
}

impl Auth {
    /// Whom GitHub's rate limits count: the installation, the App, or the token.
    fn caller_key(&self) -> String {
        match self {
            Auth::Token(_) => "token".to_owned(),
            Auth::App(_) => "app".to_owned(),
            Auth::Installation { id, .. } => format!("installation:{id}"),
        }
    }

    /// The App's write pacer and the installation, for an installation
    /// client: where a rate limit's quiet window is shared across replicas.
    fn pacer(&self) -> Option<(&dyn crate::pacing::WritePacer, u64)> {
        match self {
            Auth::Installation { app, id, .. } => Some((app.pacer.get()?.as_ref(), *id)),
            _ => None,
        }
    }
}

/// A bearer credential plus the cache generation it came from (for 401 invalidation).
pub(crate) struct Bearer {
    pub(crate) secret: SecretString,
    pub(crate) generation: u64,
}

impl Auth {
    async fn bearer(&self) -> Result<Bearer> {
        match self {
            Auth::Token(t) => Ok(Bearer {
                secret: t.clone(),
                generation: 0,
            }),
            Auth::App(app) => Ok(Bearer {
                secret: app.jwt()?,
                generation: 0,
            }),
            // Boxed: minting a token runs a request itself (as the App).
            Auth::Installation { app, id, slot } => Box::pin(slot.bearer(app, *id)).await,
        }
    }
}

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
    fn download(route: &'a str, accept: &'a str) -> Self {
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
    crab: Octocrab,
    api_base: String,
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
    fn route_from_url(&self, url: &str) -> Result<String> {
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

fn error_chain(e: &dyn std::error::Error) -> String {
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
fn check_route(route: &str) -> Result<()> {
    if route.starts_with('/') && !route.starts_with("//") && route.parse::<http::Uri>().is_ok() {
        Ok(())
    } else {
        Err(GitHubError::InvalidInput(format!(
            "route must be a path below the API base, got {route:?}"
        )))
    }
}

/// GitHub's `message` (plus validation `errors` for 422s), else the start of the body.
fn github_message(body: &[u8], status: StatusCode) -> String {
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

/// The `rel="next"` target of a `Link` header.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(header::LINK) {
        let Ok(mut rest) = value.to_str() else {
            continue;
        };
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>')?;
            let url = &after[..end];
            let tail = &after[end + 1..];
            let params_end = tail.find('<').unwrap_or(tail.len());
            let is_next = tail[..params_end].split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.strip_prefix("rel=").is_some_and(|v| {
                    v.trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if is_next {
                return Some(url.to_string());
            }
            rest = &tail[params_end..];
        }
    }
    None
}

fn with_per_page(route: &str) -> String {
    let query = route.split_once('?').map(|(_, q)| q).unwrap_or("");
    if query.split('&').any(|kv| kv.starts_with("per_page=")) {
        route.to_string()
    } else if route.contains('?') {
        format!("{route}&per_page=100")
    } else {
        format!("{route}?per_page=100")
    }
}

fn decode<T: DeserializeOwned>(route: &str, body: &[u8]) -> Result<T> {
    // 204 No Content and friends: let `()` and `Option<T>` callers succeed.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"null".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| GitHubError::Decode {
        route: route.to_string(),
        error: e.to_string(),
    })
}

fn encode<B: Serialize + ?Sized>(route: &str, body: &B) -> Result<Bytes> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| GitHubError::InvalidInput(format!("cannot serialise body for {route}: {e}")))
}

/// Result of [`Client::get_json_if_changed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional<T> {
    NotModified,
    Modified { value: T, etag: Option<String> },
}

/// GitHub access as one installation, or as a plain token (CLI, Action). Cheap to clone;
/// clones share the token cache, connection pool and stats.
#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
    auth: Auth,
    /// Set by [`Client::with_identity`]; otherwise derived from the auth.
    identity: Option<BotIdentity>,
    /// Asked for a slot before each write of an installation client.
    pacer: Option<Arc<dyn WritePacer>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = match &self.auth {
            Auth::Token(_) => "token".to_string(),
            Auth::App(app) => format!("app {}", app.creds.app_id),
            Auth::Installation { id, .. } => format!("installation {id}"),
        };
        f.debug_struct("Client")
            .field("api_base", &self.transport.api_base)
            .field("auth", &who)
            .finish()
    }
}

impl Client {
    pub(crate) fn new(transport: Arc<Transport>, auth: Auth) -> Self {
        Self {
            transport,
            auth,
            identity: None,
            pacer: None,
        }
    }

    /// Every write of this client first asks `pacer` for a slot (see
    /// [`crate::pacing`]): an installation client's per installation, a
    /// token client's (CLI, Action: [`crate::pacing::LocalPacer`]) as one.
    pub fn with_pacer(mut self, pacer: Option<Arc<dyn WritePacer>>) -> Self {
        self.pacer = pacer;
        self
    }

    /// This client posts as `identity` (e.g. the Action's `github-actions[bot]`):
    /// lookups of the bot's own comments and check runs trust only it.
    pub fn with_identity(mut self, identity: BotIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Who this client posts as, for finding the bot's own comments and
    /// check runs: the identity set with [`Client::with_identity`]; for an
    /// App installation `{slug}[bot]` (the slug is read with `GET /app` once
    /// per App and cached); for a plain token, any bot.
    ///
    /// Fails closed: while `GET /app` fails this is
    /// [`GitHubError::IdentityUnknown`] (transient, so the job is retried
    /// and asks again) instead of an identity that trusts some account's
    /// markers.
    pub async fn identity(&self) -> Result<BotIdentity> {
        if let Some(identity) = &self.identity {
            return Ok(identity.clone());
        }
        match &self.auth {
            Auth::Installation { app, .. } => {
                let slug = crate::app::slug_of(app).await?;
                Ok(BotIdentity::login(format!("{slug}[bot]")))
            }
            _ => Ok(BotIdentity::any_bot()),
        }
    }

    /// A client authenticated with a personal or Actions token (`GITHUB_TOKEN`).
    /// Must be called inside a Tokio runtime.
    pub fn from_token(api_base: &str, token: impl Into<String>) -> Result<Self> {
        Self::from_token_with_options(api_base, token, ClientOptions::default())
    }

    pub fn from_token_with_options(
        api_base: &str,
        token: impl Into<String>,
        options: ClientOptions,
    ) -> Result<Self> {
        let transport = Arc::new(Transport::new(api_base, options)?);
        Ok(Self::new(
            transport,
            Auth::Token(SecretString::from(token.into())),
        ))
    }

    /// The API base URL, without trailing slash.
    pub fn api_base(&self) -> &str {
        &self.transport.api_base
    }

    /// The installation this client acts for, if any.
    pub fn installation_id(&self) -> Option<u64> {
        match &self.auth {
            Auth::Installation { id, .. } => Some(*id),
            _ => None,
        }
    }

    pub fn stats(&self) -> Arc<ApiStats> {
        self.transport.stats.clone()
    }

    /// An octocrab handle for typed calls, authenticated with a currently valid token.
    /// Ask again for later calls: the handle keeps its token, and its calls bypass
    /// paydown's retry policy (prefer the helpers below for anything that may be throttled).
    pub async fn octocrab(&self) -> Result<Octocrab> {
        let bearer = self.auth.bearer().await?;
        self.transport
            .crab
            .user_access_token(bearer.secret)
            .map_err(|e| GitHubError::Transport {
                route: String::new(),
                reason: error_chain(&e),
            })
    }

    async fn call(
        &self,
        method: Method,
        route: &str,
        body: Option<Bytes>,
        accept: &str,
    ) -> Result<Response> {
        let idempotent = method != Method::POST;
        self.call_as(method, route, body, accept, idempotent).await
    }

    async fn call_as(
        &self,
        method: Method,
        route: &str,
        body: Option<Bytes>,
        accept: &str,
        idempotent: bool,
    ) -> Result<Response> {
        if let Some(pacer) = &self.pacer
            && crate::pacing::is_paced_write(&method, route)
        {
            pacer
                .before_write(Write {
                    // A token client (CLI, Action) paces its one token as 0.
                    installation: self.installation_id().unwrap_or(0),
                    method: &method,
                    route,
                    creates_content: crate::pacing::creates_content(&method, route),
                })
                .await?;
        }
        let req = Request {
            idempotent,
            method,
            route,
            body,
            accept,
            if_none_match: None,
            download: false,
        };
        self.transport.run(&req, &self.auth).await
    }

    pub async fn get_json<T: DeserializeOwned>(&self, route: &str) -> Result<T> {
        let resp = self.call(Method::GET, route, None, JSON).await?;
        decode(route, &resp.body)
    }

    /// A conditional GET: with the `etag` of an earlier answer, an unchanged resource comes
    /// back as [`Conditional::NotModified`] (GitHub does not charge those to the rate limit).
    pub async fn get_json_if_changed<T: DeserializeOwned>(
        &self,
        route: &str,
        etag: Option<&str>,
    ) -> Result<Conditional<T>> {
        let req = Request {
            method: Method::GET,
            route,
            body: None,
            accept: JSON,
            idempotent: true,
            if_none_match: etag,
            download: false,
        };
        let resp = self.transport.run(&req, &self.auth).await?;
        if resp.status == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified);
        }
        let etag = resp
            .headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Conditional::Modified {
            value: decode(route, &resp.body)?,
            etag,
        })
    }

    pub async fn post_json<B, T>(&self, route: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let resp = self
            .call(Method::POST, route, Some(encode(route, body)?), JSON)
            .await?;
        decode(route, &resp.body)
    }

    /// A POST that is safe to repeat (a GraphQL query, adding labels or
    /// assignees that are then simply there): retried like a PATCH.
    pub async fn post_idempotent_json<B, T>(&self, route: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let resp = self
            .call_as(Method::POST, route, Some(encode(route, body)?), JSON, true)
            .await?;
        decode(route, &resp.body)
    }

    /// A POST that creates something (an issue, a comment, a check run, a
    /// reaction), never repeated blindly. When an attempt fails in a way
    /// that may have applied it ([`GitHubError::maybe_applied`]: a 5xx, a
    /// timeout, a reset), `find` looks for what it wrote (the bot's marker
    /// in recent issues, its comment, the check run on the head sha): what
    /// it finds is adopted, and only when it finds nothing is the create
    /// sent again. A lookup that fails itself ends the call with the
    /// create's error, so the caller's retry plans again from GitHub.
    pub async fn create_json<B, T, F, Fut>(&self, route: &str, body: &B, find: F) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        let body = encode(route, body)?;
        let limits = self.transport.options.limits();
        let mut number = 0u32;
        loop {
            number += 1;
            let error = match self
                .call_as(Method::POST, route, Some(body.clone()), JSON, false)
                .await
            {
                Ok(resp) => return decode(route, &resp.body),
                Err(e) if e.maybe_applied() && number < limits.max_attempts => e,
                Err(e) => return Err(e),
            };
            self.transport.stats.retried();
            // GitHub's listings lag its writes a little: wait as a retry
            // would before looking.
            let wait = retry::backoff(number, &limits, retry::jitter());
            tracing::warn!(
                route,
                attempt = number,
                wait_ms = wait.as_millis() as u64,
                %error,
                "a create may have been applied; looking for it before writing again"
            );
            tokio::time::sleep(wait).await;
            match find().await {
                Ok(Some(found)) => {
                    tracing::info!(route, "adopted what the failed create had written");
                    return Ok(found);
                }
                Ok(None) => {}
                Err(lookup) => {
                    tracing::warn!(route, %lookup, "cannot tell whether the create was applied");
                    return Err(error);
                }
            }
        }
    }

    pub async fn patch_json<B, T>(&self, route: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let resp = self
            .call(Method::PATCH, route, Some(encode(route, body)?), JSON)
            .await?;
        decode(route, &resp.body)
    }

    pub async fn put_json<B, T>(&self, route: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let resp = self
            .call(Method::PUT, route, Some(encode(route, body)?), JSON)
            .await?;
        decode(route, &resp.body)
    }

    pub async fn delete(&self, route: &str) -> Result<()> {
        self.call(Method::DELETE, route, None, JSON).await?;
        Ok(())
    }

    /// Raw bytes (tarballs, `application/vnd.github.raw` contents), following redirects;
    /// the token is not forwarded to other hosts (e.g. codeload).
    pub async fn get_bytes(&self, route: &str, accept: &str) -> Result<Bytes> {
        let req = Request::download(route, accept);
        Ok(self.transport.run(&req, &self.auth).await?.body)
    }

    /// A body read as it arrives (tarballs), following redirects like
    /// [`Client::get_bytes`]: the request is retried under the usual policy
    /// until GitHub answers with a success, whose body is then streamed, at
    /// most [`crate::CHUNKS_IN_FLIGHT`] chunks ahead of the reader, instead
    /// of held whole in memory. Waits for the body are bounded by
    /// `timeout` per chunk and `download_timeout` in all; a failure there
    /// (no retry: the reader has seen part of the body) is an
    /// [`std::io::Error`] wrapping a [`GitHubError`]. Read the result on a
    /// blocking thread (`spawn_blocking`).
    pub async fn get_stream(&self, route: &str, accept: &str) -> Result<BodyReader> {
        let req = Request::download(route, accept);
        let resp = self
            .transport
            .run_with(&req, &self.auth, BodyMode::Stream)
            .await?;
        let content_length = resp
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        // Only a success has a stream, and the retry loop returns no other
        // answer here; were it to, an empty tarball would be a lie.
        let Some(body) = resp.stream else {
            return Err(GitHubError::Decode {
                route: route.to_string(),
                error: "the answer has no body to stream".to_string(),
            });
        };
        let options = &self.transport.options;
        Ok(BodyReader::spawn(
            route,
            body,
            content_length,
            BodyTimeouts {
                idle: options.timeout,
                total: options.download_timeout,
            },
        ))
    }

    /// The raw bytes of `path` at commit (or ref) `sha`; `None` when it has
    /// no such file.
    pub async fn file_at(
        &self,
        repo: &crate::Repo,
        path: &str,
        sha: &str,
    ) -> Result<Option<Bytes>> {
        match self
            .get_bytes(&repo.contents(path, sha), "application/vnd.github.raw")
            .await
        {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of a list and the route of the next one (from `Link:
    /// rel="next"`, re-rooted on the API base), for callers that stop early
    /// (a look-back window over a cursor-paginated log).
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        route: &str,
    ) -> Result<(Vec<T>, Option<String>)> {
        let resp = self.call(Method::GET, route, None, JSON).await?;
        let page: Vec<T> = decode(route, &resp.body)?;
        let next = match next_link(&resp.headers) {
            Some(url) => Some(self.transport.route_from_url(&url)?),
            None => None,
        };
        Ok((page, next))
    }

    /// Every item of a paginated list, following `Link: rel="next"` (100 per page unless
    /// the route says otherwise). More than `max_pages` pages is an error, not a truncation.
    pub async fn get_all<T: DeserializeOwned>(&self, route: &str) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut next = with_per_page(route);
        let mut pages = 0u32;
        loop {
            pages += 1;
            let resp = self.call(Method::GET, &next, None, JSON).await?;
            let page: Vec<T> = decode(&next, &resp.body)?;
            items.extend(page);
            match next_link(&resp.headers) {
                None => return Ok(items),
                Some(url) => {
                    if pages >= self.transport.options.max_pages {
                        return Err(GitHubError::TooManyPages {
                            route: route.to_string(),
                            max_pages: self.transport.options.max_pages,
                        });
                    }
                    next = self.transport.route_from_url(&url)?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::LINK, v.parse().unwrap());
        h
    }

    #[test]
    fn next_link_is_found_among_other_relations() {
        let h = link(
            r#"<https://api.github.com/repositories/1/issues?labels=a,b&page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#,
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/issues?labels=a,b&page=2")
        );
        let h = link(r#"<https://x/a?page=1>; rel="prev", <https://x/a?page=3>; rel="next""#);
        assert_eq!(next_link(&h).as_deref(), Some("https://x/a?page=3"));
        let last_page =
            link(r#"<https://x/a?page=1>; rel="first", <https://x/a?page=2>; rel="prev""#);
        assert_eq!(next_link(&last_page), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn per_page_is_added_once() {
        assert_eq!(with_per_page("/r/issues"), "/r/issues?per_page=100");
        assert_eq!(
            with_per_page("/r/issues?state=all"),
            "/r/issues?state=all&per_page=100"
        );
        assert_eq!(
            with_per_page("/r/issues?per_page=5"),
            "/r/issues?per_page=5"
        );
    }

    #[test]
    fn routes_must_stay_below_the_api_base() {
        assert!(check_route("/repos/a/b/issues?state=all").is_ok());
        for bad in [
            "https://api.github.com/repos/a/b",
            "//evil.example/x",
            "repos/a/b",
            "",
        ] {
            assert!(matches!(
                check_route(bad),
                Err(GitHubError::InvalidInput(_))
            ));
        }
    }

    #[test]
    fn api_base_prefers_paydown_then_actions_then_public_github() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(api_base_from(env(&[])), "https://api.github.com");
        assert_eq!(
            api_base_from(env(&[("GITHUB_API_URL", "https://ghe.example/api/v3")])),
            "https://ghe.example/api/v3"
        );
        assert_eq!(
            api_base_from(env(&[
                ("GITHUB_API_URL", "https://ghe.example/api/v3"),
                ("PAYDOWN_GITHUB_API_URL", "http://127.0.0.1:9")
            ])),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            api_base_from(env(&[("PAYDOWN_GITHUB_API_URL", " ")])),
            "https://api.github.com"
        );
    }

    #[test]
    fn error_messages_prefer_github_message_and_are_bounded() {
        let m = github_message(
            br#"{"message":"Validation Failed","errors":[{"code":"missing_field"}]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert!(m.starts_with("Validation Failed"), "{m}");
        assert!(m.contains("missing_field"));
        assert_eq!(github_message(b"", StatusCode::NOT_FOUND), "Not Found");
        let long = "é".repeat(400);
        assert!(github_message(long.as_bytes(), StatusCode::BAD_GATEWAY).len() <= 504);
    }

    #[test]
    fn empty_bodies_decode_as_unit_or_none() {
        decode::<()>("/x", b"").unwrap();
        assert_eq!(decode::<Option<u8>>("/x", b" ").unwrap(), None);
        assert!(matches!(
            decode::<Vec<u8>>("/x", b"{"),
            Err(GitHubError::Decode { .. })
        ));
    }

    #[test]
    fn jitter_stays_in_unit_interval() {
        for _ in 0..100 {
            let j = retry::jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
