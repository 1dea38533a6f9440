//! HTTP surface: `POST /webhook` (verify, route, queue, acknowledge),
//! `GET /healthz` and `GET /metrics`. The webhook endpoint never waits for
//! the work itself; it answers as soon as the delivery is stored.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use paydown_github::ApiStats;
use serde_json::json;
use tokio::sync::Notify;

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
    pub store: Store,
    /// Group-commit writer the webhook endpoint stores deliveries through.
    pub intake: Intake,
    pub secrets: WebhookSecrets,
    pub metrics: Arc<Metrics>,
    /// Woken on every new delivery so an idle worker claims it at once.
    pub kick: Arc<Notify>,
    /// GitHub API statistics shown on `/metrics`, when a client exists.
    pub github_stats: Option<Arc<ApiStats>>,
    /// Secrets of `POST /incidents/pagerduty` and `POST /incidents`.
    pub incident_secrets: crate::incident_endpoints::IncidentSecrets,
}

/// The axum router; `max_body_bytes` bounds webhook bodies (413 beyond).
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route(
            "/webhook",
            post(webhook).layer(DefaultBodyLimit::max(max_body_bytes)),
        )
        .route(
            "/incidents/pagerduty",
            post(crate::incident_endpoints::pagerduty).layer(DefaultBodyLimit::max(max_body_bytes)),
        )
        .route(
            "/incidents",
            post(crate::incident_endpoints::generic).layer(DefaultBodyLimit::max(max_body_bytes)),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
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

async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return reject(
                &state,
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "payload too large",
            );
        }
        Err(rejection) => {
            return reject(
                &state,
                rejection.status(),
                "body_unreadable",
                "cannot read the request body",
            );
        }
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
        installation_id: routing.installation.and_then(|i| i64::try_from(i.id).ok()),
        payload: body.to_vec(),
    };
    match state.intake.enqueue(new).await {
        Ok(Enqueued::New) => {
            state.metrics.received(event);
            state.kick.notify_one();
            tracing::debug!(delivery = %delivery_id, event = %event, "delivery queued");
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "queued" })),
            )
                .into_response()
        }
        Ok(Enqueued::Duplicate) => {
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
