//! HTTP surface: `POST /webhook` (verify, route, queue, acknowledge),
//! `GET /healthz` (liveness), `GET /readyz` (readiness) and `GET /metrics`. The webhook endpoint never waits for
//! the work itself; it answers as soon as the delivery is stored.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use paydown_github::ApiStats;
use serde_json::json;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::events::RoutingFields;
use crate::intake::Intake;
use crate::metrics::{Metrics, Snapshot};
use crate::signature::WebhookSecrets;
use crate::store::{Enqueued, NewDelivery, Store};

/// Longest accepted `X-GitHub-Delivery` (GitHub sends 36-character GUIDs).
const MAX_DELIVERY_ID_LEN: usize = 128;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// Where deliveries are stored and `/healthz` looks.
    pub store: Store,
    /// Group-commit writer the webhook endpoint stores deliveries through.
    pub intake: Intake,
    /// The webhook secrets signatures are checked against.
    pub secrets: WebhookSecrets,
    /// The metrics the endpoints count into.
    pub metrics: Arc<Metrics>,
    /// Woken on every new delivery so an idle worker claims it at once.
    pub kick: Arc<Notify>,
    /// GitHub API statistics shown on `/metrics`, when a client exists.
    pub github_stats: Option<Arc<ApiStats>>,
    /// What an unauthenticated webhook body may cost.
    pub body_limits: Arc<BodyLimits>,
    /// Secrets of `POST /incidents/pagerduty` and `POST /incidents`.
    pub incident_secrets: crate::incident_endpoints::IncidentSecrets,
}

/// How long a webhook caller may wait for the body budget before 503.
const BUDGET_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Bounds on webhook bodies, which must be held whole before their
/// signature can be checked: a size cap per body, a time cap on sending
/// it, and a budget of bytes shared by every request in flight, counted in
/// KiB (a semaphore's permits are `u32`).
#[derive(Debug)]
pub struct BodyLimits {
    /// The largest body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// How long a body may take to arrive (408 beyond).
    pub body_timeout: std::time::Duration,
    budget: Arc<Semaphore>,
    budget_kib: u32,
}

impl BodyLimits {
    /// The limits for bodies of up to `max_body_bytes`, with the in-flight budget of `http`.
    pub fn new(max_body_bytes: usize, http: &crate::http::HttpLimits) -> BodyLimits {
        let budget_kib = u32::try_from(http.max_inflight_body_bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .max(1);
        BodyLimits {
            max_body_bytes,
            body_timeout: http.body_timeout,
            budget: Arc::new(Semaphore::new(budget_kib as usize)),
            budget_kib,
        }
    }

    /// Reserves room for `bytes` (at least 1 KiB, at most the whole
    /// budget), waiting up to [`BUDGET_WAIT`]; `None` when the budget stays
    /// spent. The reservation is released when the permit drops.
    async fn reserve(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.budget_kib);
        tokio::time::timeout(BUDGET_WAIT, self.budget.clone().acquire_many_owned(kib))
            .await
            .ok()?
            .ok()
    }
}

/// The axum router; webhook bodies are bounded by the state's [`BodyLimits`].
pub fn router(state: AppState) -> Router {
    router_with(state, true)
}

/// [`router`], with `/metrics` only when `with_metrics` (it is left out
/// when a separate metrics listener serves it).
pub fn router_with(state: AppState, with_metrics: bool) -> Router {
    let routes = Router::new()
        .route("/webhook", post(webhook))
        .route(
            "/incidents/pagerduty",
            post(crate::incident_endpoints::pagerduty),
        )
        .route("/incidents", post(crate::incident_endpoints::generic))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    let routes = if with_metrics {
        routes.route("/metrics", get(metrics))
    } else {
        routes
    };
    routes.with_state(state)
}

/// The separate metrics listener's router (`PAYDOWN_METRICS_LISTEN`):
/// `/metrics` and the probes, nothing that takes a body.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

fn reject(state: &AppState, status: StatusCode, reason: &'static str, message: &str) -> Response {
    state.metrics.rejected(reason);
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Reads a webhook body within the limits: a declared `Content-Length` over
/// the cap is refused before a byte is read, room in the shared budget is
/// reserved before reading (the declared length, or the cap for a chunked
/// body), and the body must arrive within the body timeout. The permit
/// returned keeps the reservation until the request is done with the body.
pub(crate) async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Bytes, OwnedSemaphorePermit), Response> {
    let limits = &state.body_limits;
    let too_large = || {
        reject(
            state,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &format!("payload larger than {} bytes", limits.max_body_bytes),
        )
    };
    let declared = match headers.get(header::CONTENT_LENGTH) {
        None => None,
        Some(v) => match v.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(n) => Some(n),
            None => {
                return Err(reject(
                    state,
                    StatusCode::BAD_REQUEST,
                    "bad_content_length",
                    "Content-Length is not a number",
                ));
            }
        },
    };
    let reserve = match declared {
        Some(n) if n > limits.max_body_bytes as u64 => return Err(too_large()),
        Some(n) => n as usize,
        None => limits.max_body_bytes,
    };
    let Some(permit) = limits.reserve(reserve).await else {
        tracing::warn!(
            bytes = reserve,
            "webhook refused: too many bodies in flight"
        );
        let mut resp = reject(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too many webhook bodies in flight; retry later",
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        return Err(resp);
    };
    let read = Limited::new(body, limits.max_body_bytes).collect();
    match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(collected)) => Ok((collected.to_bytes(), permit)),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(_)) => Err(reject(
            state,
            StatusCode::BAD_REQUEST,
            "body_unreadable",
            "cannot read the request body",
        )),
        Err(_) => Err(reject(
            state,
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            "the request body did not arrive in time",
        )),
    }
}

async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let (body, _budget) = match read_body(&state, &headers, body).await {
        Ok(read) => read,
        Err(response) => return response,
    };

    // Authenticate before looking at anything the sender controls.
    let signature = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if let Err(e) = state.secrets.verify(signature, &body) {
        tracing::warn!(reason = e.reason(), "webhook rejected: {e}");
        return reject(&state, StatusCode::UNAUTHORIZED, e.reason(), &e.to_string());
    }

    let Some(event) = header_str(&headers, "x-github-event") else {
        return reject(
            &state,
            StatusCode::BAD_REQUEST,
            "missing_event",
            "missing X-GitHub-Event header",
        );
    };
    let Some(delivery_id) = header_str(&headers, "x-github-delivery") else {
        if headers.contains_key("x-github-delivery") {
            return reject(
                &state,
                StatusCode::BAD_REQUEST,
                "bad_headers",
                "X-GitHub-Delivery must be printable ASCII (GitHub sends a GUID)",
            );
        }
        return reject(
            &state,
            StatusCode::BAD_REQUEST,
            "missing_delivery",
            "missing X-GitHub-Delivery header",
        );
    };
    if delivery_id.len() > MAX_DELIVERY_ID_LEN
        || !delivery_id.bytes().all(|b| b.is_ascii_graphic())
        || event.len() > 64
        || !event
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return reject(
            &state,
            StatusCode::BAD_REQUEST,
            "bad_headers",
            "malformed X-GitHub-Event or X-GitHub-Delivery header",
        );
    }

    let routing = match RoutingFields::parse(event, &body) {
        Ok(routing) => routing,
        Err(e) => {
            tracing::warn!(delivery = %delivery_id, event = %event, path = %e.path, "webhook rejected: malformed payload: {e}");
            return reject(
                &state,
                StatusCode::BAD_REQUEST,
                "malformed_payload",
                &e.to_string(),
            );
        }
    };

    let new = NewDelivery {
        delivery_id: delivery_id.to_owned(),
        event: event.to_owned(),
        action: routing.action.clone(),
        repo_key: Some(routing.repo_key()),
        installation_id: routing
            .installation
            .as_ref()
            .and_then(|i| i64::try_from(i.id).ok()),
        payload: Vec::from(body),
        // What the handlers would ignore is stored as done: no claim, no
        // worker, the same durable record for dedupe and recovery.
        settled: !routing.needs_work(event),
    };
    match state
        .intake
        .store(new)
        .await
        .map(|s| (s.enqueued, s.wake_worker))
    {
        Ok((Enqueued::New, wake_worker)) => {
            state.metrics.received(event);
            if wake_worker {
                state.kick.notify_one();
            }
            tracing::debug!(delivery = %delivery_id, event = %event, "delivery queued");
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "queued" })),
            )
                .into_response()
        }
        Ok((Enqueued::Duplicate, _)) => {
            state.metrics.duplicate();
            tracing::info!(delivery = %delivery_id, event = %event, "redelivery of a known delivery id; not queued again");
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "duplicate" })),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(delivery = %delivery_id, error = %e, "cannot store delivery");
            // 503 makes GitHub report a failed delivery that can be redelivered.
            reject(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "cannot store the delivery",
            )
        }
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    // An indexed lookup proves the database answers without the cost of
    // counting the queue (that is on /metrics), so probes stay cheap.
    match state.store.delivery("healthz-probe").await {
        Ok(_) => (
            StatusCode::OK,
            axum::Json(json!({ "status": "ok", "database": state.store.backend_name() })),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "unavailable", "error": "database unavailable" })),
            )
                .into_response()
        }
    }
}

/// Readiness for load balancers: 200 only when the database answers and
/// its schema is migrated to this binary's version; `/healthz` stays the
/// liveness probe (a process that cannot reach its database should not be
/// sent webhooks, but restarting it does not help either).
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.readiness().await {
        Ok(r) if r.is_ready() => (
            StatusCode::OK,
            axum::Json(json!({ "status": "ready", "schema_version": r.schema_version })),
        )
            .into_response(),
        Ok(r) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "status": "not ready",
                "error": "database schema not migrated",
                "schema_version": r.schema_version,
                "expected_version": r.expected_version,
            })),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "not ready", "error": "database unavailable" })),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let queue_depth = match state.store.queue_depth().await {
        Ok(depth) => depth,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read queue depth");
            -1
        }
    };
    let github = state.github_stats.as_ref().map(|s| s.snapshot());
    let text = state.metrics.render(Snapshot {
        queue_depth,
        github_api_calls: github.map(|g| g.requests).unwrap_or(0),
        github_rate_limit_remaining: github
            .and_then(|g| g.rate_limit_remaining)
            .and_then(|r| i64::try_from(r).ok()),
    });
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
