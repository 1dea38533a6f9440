//! The HTTP pipeline around the routes: record the request, apply injected
//! delays and faults, authenticate, charge the rate-limit bucket, route, and
//! answer with GitHub's headers (rate limits, ETag / 304).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use sha2::{Digest, Sha256};

use crate::api::{self, Identity, Reply, Req};
use crate::reset::Conn;
use crate::world::{Cut, FaultKind, Grant, RecordedRequest, RetryAfterViolation, World};

pub(crate) type Shared = Arc<Mutex<World>>;

pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, World> {
    // A test that panicked while holding the lock must not hide later failures.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

const MAX_BODY: usize = 64 * 1024 * 1024;

pub(crate) async fn handle(State(shared): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return into_response(Reply::error(413, "Payload too large")),
    };
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    // Repeated headers (e.g. two `Accept`) are joined as HTTP allows.
    let header = |name: &str| {
        parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (index, write, delay) = {
        let mut w = lock(&shared);
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| {
                let v = v.to_str().unwrap_or("<binary>");
                let v = if n == http::header::AUTHORIZATION {
                    // Keep the scheme so tests can tell JWT / token apart; never the secret.
                    format!("{} <redacted>", v.split(' ').next().unwrap_or(""))
                } else {
                    v.to_owned()
                };
                (n.as_str().to_owned(), v)
            })
            .collect();
        let request = RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_owned),
            headers,
            body: body.to_vec(),
            status: None,
        };
        // Checked when the request arrives: that is when the caller sent it.
        let caller = caller_key(&w, &header("authorization"));
        let now_ms = w.limit_clock.now_ms();
        // A request arriving within RETRY_AFTER_IN_FLIGHT_MS of the answer
        // was sent before the caller could have read it (another task's
        // request in flight): no client can take that back.
        if let Some((told, until)) = w.retry_windows.get(&caller).copied()
            && now_ms >= told + RETRY_AFTER_IN_FLIGHT_MS
            && now_ms < until
        {
            w.retry_after_violations.push(RetryAfterViolation {
                caller,
                request: format!("{method} {path}"),
                early_by_ms: until - now_ms,
            });
        }
        let write = w.write_started(&request, &caller_digest(&header("authorization")));
        w.requests.push(request);
        let index = w.requests.len() - 1;
        (index, write, take_fault(&mut w, &method, &path, true))
    };
    if let Some(FaultKind::Delay(d)) = delay {
        tokio::time::sleep(d).await;
    }
    let reply = {
        let mut w = lock(&shared);
        let caller = caller_key(&w, &header("authorization"));
        let now_ms = w.limit_clock.now_ms();
        let reply = process(
            &mut w,
            &method,
            &path,
            parts.uri.query(),
            &body,
            &header("authorization"),
            &header("accept"),
            &header("if-none-match"),
        );
        let cut = w.cut.take();
        if let Some(r) = w.requests.get_mut(index) {
            // A reset connection was never answered.
            r.status = (cut != Some(Cut::Reset)).then_some(reply.status);
        }
        if cut.is_some() {
            w.cuts += 1;
        }
        if reply.status == 403 || reply.status == 429 {
            let secs = reply
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("retry-after"))
                .and_then(|(_, v)| v.trim().parse::<i64>().ok());
            if let Some(secs) = secs {
                let until = now_ms + secs * 1000;
                let window = w.retry_windows.entry(caller).or_insert((now_ms, until));
                if until > window.1 {
                    *window = (now_ms, until);
                }
            }
        }
        if let Some(write) = write {
            w.write_finished(write);
        }
        (reply, w.late_answer.take(), cut)
    };
    let (reply, late, cut) = reply;
    if let Some(late) = late {
        // Applied already: a client that gives up waiting cannot undo it.
        tokio::time::sleep(late).await;
    }
    crate::hooks::flush_outbox(&shared);
    match cut {
        Some(Cut::Reset) => {
            // hyper writes nothing before this returns, so the peer reads
            // a reset where the status line should be.
            if let Some(ConnectInfo(conn)) = parts.extensions.get::<ConnectInfo<Conn>>() {
                conn.reset();
            }
            into_response(reply)
        }
        Some(Cut::BodyBreaksOff) => {
            // Half the body, then an error: hyper has sent the headers and
            // that half (chunked) and closes the connection short.
            let mut reply = reply;
            let body = bytes::Bytes::from(std::mem::take(&mut reply.body));
            let half = body.slice(..body.len() / 2);
            let mut resp = into_response(reply);
            *resp.body_mut() = Body::new(crate::reset::BreaksOff::new(half));
            resp
        }
        None => into_response(reply),
    }
}

/// How long after a `retry-after` answer a request of the same caller
/// still counts as already in flight, not as ignoring the answer.
const RETRY_AFTER_IN_FLIGHT_MS: i64 = 50;

/// The rate-limit bucket of whoever sent `authorization` (`installation:1`,
/// `app`, …): the caller a `Retry-After` applies to.
fn caller_key(w: &World, authorization: &str) -> String {
    let identity = authenticate(w, authorization).unwrap_or(Identity::Anonymous);
    api::bucket_key(&identity)
}

/// A short, stable name for whoever sent `authorization`, never the secret.
fn caller_digest(authorization: &str) -> String {
    if authorization.is_empty() {
        return "anonymous".to_owned();
    }
    let digest = Sha256::digest(authorization.as_bytes());
    format!("caller-{}", hex::encode(&digest[..4]))
}

/// Takes the first matching fault: delays when `delays`, else status faults.
fn take_fault(w: &mut World, method: &str, path: &str, delays: bool) -> Option<FaultKind> {
    let pos = w.faults.iter().position(|f| {
        matches!(f.kind, FaultKind::Delay(_)) == delays && f.scope.matches(method, path)
    })?;
    let fault = &mut w.faults[pos];
    let kind = fault.kind.clone();
    if let Some(n) = fault.remaining.as_mut() {
        *n -= 1;
        if *n == 0 {
            w.faults.remove(pos);
        }
    }
    Some(kind)
}

fn authenticate(w: &World, authorization: &str) -> Result<Identity, Reply> {
    if authorization.is_empty() {
        return Ok(Identity::Anonymous);
    }
    let (scheme, credential) = authorization
        .split_once(' ')
        .ok_or_else(|| Reply::error(401, "Bad credentials"))?;
    let credential = credential.trim();
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "bearer" && scheme != "token" {
        return Err(Reply::error(401, "Bad credentials"));
    }
    if scheme == "bearer" && credential.matches('.').count() == 2 {
        return crate::app::verify_app_jwt(credential)
            .map(|()| Identity::App)
            .map_err(|e| Reply::error(401, &e.0));
    }
    let issued = w
        .tokens
        .get(credential)
        .ok_or_else(|| Reply::error(401, "Bad credentials"))?;
    if issued.expires_at.is_some_and(|t| t <= chrono::Utc::now()) {
        return Err(Reply::error(401, "Bad credentials"));
    }
    match &issued.grant {
        Grant::Installation(id) => {
            if w.installations.get(id).is_none_or(|i| i.removed) {
                return Err(Reply::error(401, "Bad credentials"));
            }
            Ok(Identity::Installation(*id))
        }
        Grant::User(login) => Ok(Identity::User(login.clone())),
    }
}

/// The narrowing of the installation token in `authorization`, if any.
fn restriction_of(w: &World, authorization: &str) -> Option<crate::world::TokenRestriction> {
    let (_, credential) = authorization.split_once(' ')?;
    w.tokens.get(credential.trim())?.restriction.clone()
}

#[allow(clippy::too_many_arguments)]
fn process(
    w: &mut World,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    authorization: &str,
    accept: &str,
    if_none_match: &str,
) -> Reply {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    match segs.first().map(String::as_str) {
        Some("_codeload") if method == "GET" => return api::codeload(w, &segs),
        Some("_raw") if method == "GET" => return api::raw(w, &segs),
        _ => {}
    }
    let auth = authenticate(w, authorization);
    let identity = auth.as_ref().map_or(Identity::Anonymous, Clone::clone);
    let restriction = restriction_of(w, authorization);
    let key = api::bucket_key(&identity);
    let counts = !(method == "GET" && path == "/rate_limit");
    let bucket = w.bucket(&key).clone();
    if counts && bucket.remaining == 0 {
        let msg = match &identity {
            Identity::Installation(id) => format!(
                "API rate limit exceeded for installation ID {id}. If you reach out to GitHub Support for help, please include the request ID."
            ),
            _ => "API rate limit exceeded. See the documentation for rate limits.".to_owned(),
        };
        let status = w.primary_limit_status;
        return with_rate_headers(w, &key, Reply::error(status, &msg));
    }
    if counts {
        w.bucket(&key).remaining -= 1;
    }
    let fault = take_fault(w, method, path, false);
    let mut applied_then = None;
    if let Some(kind) = fault {
        let reply = match kind {
            FaultKind::AppliedThen(status) => {
                applied_then = Some(status);
                None
            }
            FaultKind::AppliedThenLate(delay) => {
                w.late_answer = Some(delay);
                None
            }
            FaultKind::Status(status) => Some(Reply::error(status, "fake-github: injected fault")),
            FaultKind::SecondaryRateLimit { retry_after_secs } => {
                Some(secondary_limit(retry_after_secs))
            }
            FaultKind::TooManyRequests { retry_after_secs } => Some(
                Reply::error(429, "Too many requests")
                    .header("retry-after", retry_after_secs.to_string()),
            ),
            FaultKind::Reset => {
                w.cut = Some(Cut::Reset);
                Some(Reply::error(502, "fake-github: connection reset"))
            }
            FaultKind::AppliedThenReset => {
                w.cut = Some(Cut::Reset);
                None
            }
            FaultKind::BodyBreaksOff => {
                w.cut = Some(Cut::BodyBreaksOff);
                None
            }
            FaultKind::Delay(_) => Some(Reply::error(500, "fake-github: misrouted delay fault")),
        };
        if let Some(reply) = reply {
            return with_rate_headers(w, &key, reply);
        }
    }
    if let Err(reply) = auth {
        return with_rate_headers(w, &key, reply);
    }
    if let Some(limit) = w.content_limit.as_mut() {
        let now_ms = w.limit_clock.now_ms();
        if method != "GET" && path != "/graphql" {
            limit.note_write(&key, now_ms);
        }
        if creates_content(method, path)
            && let Err(wait_secs) = limit.admit(&key, now_ms)
        {
            let reply = secondary_limit(wait_secs);
            return with_rate_headers(w, &key, reply);
        }
    }
    let req = Req {
        method,
        path,
        segs,
        query: api::parse_query(query),
        body,
        accept,
        identity,
        restriction,
    };
    let mut reply = api::route(w, &req).unwrap_or_else(|e| e);
    if let Some(status) = applied_then {
        reply = Reply::error(
            status,
            "fake-github: injected fault after applying the request",
        );
    }
    if method == "GET" && reply.status == 200 {
        let etag = format!("\"{}\"", hex::encode(Sha256::digest(&reply.body)));
        if !if_none_match.is_empty() && if_none_match.split(',').any(|t| t.trim() == etag) {
            // GitHub does not charge conditional requests answered with 304.
            if counts {
                w.bucket(&key).remaining += 1;
            }
            reply = Reply {
                status: 304,
                body: Vec::new(),
                content_type: "text/plain",
                headers: Vec::new(),
            };
        }
        reply = reply.header("etag", etag);
    }
    with_rate_headers(w, &key, reply)
}

fn secondary_limit(retry_after_secs: u64) -> Reply {
    Reply::error(
        403,
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
    )
    .header("retry-after", retry_after_secs.to_string())
}

/// Requests GitHub counts against its content-creation limit: new issues,
/// comments, labels, milestones, reactions, check runs, pull requests and
/// releases.
fn creates_content(method: &str, path: &str) -> bool {
    method == "POST"
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

fn with_rate_headers(w: &mut World, key: &str, reply: Reply) -> Reply {
    let b = w.bucket(key).clone();
    reply
        .header("x-ratelimit-limit", b.limit.to_string())
        .header("x-ratelimit-remaining", b.remaining.to_string())
        .header("x-ratelimit-reset", b.reset.to_string())
        .header("x-ratelimit-used", (b.limit - b.remaining).to_string())
        .header("x-ratelimit-resource", "core")
        .header("x-github-media-type", "github.v3; format=json")
        .header("x-github-request-id", w.request_id())
}

fn into_response(reply: Reply) -> Response {
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(n, v);
        }
    }
    resp
}
