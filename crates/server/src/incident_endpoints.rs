//! `POST /incidents/pagerduty` (PagerDuty webhooks v3) and `POST /incidents`
//! (the generic body, signed per Standard Webhooks; incident.io's
//! `public_incident.*` events read natively).
//!
//! Both verify the signature over the raw body before reading it, check
//! that it parses (400 with the JSON path when not), store it in the
//! delivery queue (deduplicated by the sender's webhook id) and answer 202;
//! the workers turn it into an incident ([`parse_delivery`]). An endpoint
//! whose secret is unset answers 404, as if it did not exist.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use paydown_incidents::{Incident, Reference, Status, extract_references, parse_severity};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::OwnedSemaphorePermit;

use crate::router::{AppState, read_body};
use crate::store::{Enqueued, NewDelivery};

type HmacSha256 = Hmac<Sha256>;

/// Queue event of a PagerDuty delivery.
pub const PAGERDUTY_EVENT: &str = "paydown.incident.pagerduty";
/// Queue event of a generic (or incident.io) delivery.
pub const GENERIC_EVENT: &str = "paydown.incident.generic";
/// Incident deliveries run one at a time: they share the incidents table.
const REPO_KEY: &str = "paydown.incidents";
/// Standard Webhooks: timestamps further than this from our clock are refused.
const TOLERANCE_SECONDS: i64 = 5 * 60;
/// Longest accepted webhook id.
const MAX_ID_LEN: usize = 200;

/// Secrets of the incident endpoints; `None` turns an endpoint off. `Debug`
/// never shows them.
#[derive(Clone, Default)]
pub struct IncidentSecrets {
    /// Secrets of `POST /incidents/pagerduty` (PagerDuty's v3 webhook signature); `None`: 404.
    pub pagerduty: Option<Vec<Vec<u8>>>,
    /// Secrets of `POST /incidents` (HMAC-SHA256 like GitHub's); `None`: 404.
    pub generic: Option<Vec<Vec<u8>>>,
}

impl std::fmt::Debug for IncidentSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "IncidentSecrets(pagerduty: {}, generic: {})",
            self.pagerduty.as_ref().map_or(0, Vec::len),
            self.generic.as_ref().map_or(0, Vec::len)
        )
    }
}

impl IncidentSecrets {
    /// From the comma-separated values of `PAYDOWN_PAGERDUTY_SECRET` and
    /// `PAYDOWN_INCIDENT_SECRET`. A Standard Webhooks secret written
    /// `whsec_<base64>` is the base64-decoded key, as the scheme says.
    pub fn from_values(pagerduty: Option<&str>, generic: Option<&str>) -> Self {
        let split = |v: Option<&str>, decode: bool| {
            let keys: Vec<Vec<u8>> = v?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| match s.strip_prefix("whsec_") {
                    Some(b64) if decode => STANDARD.decode(b64).unwrap_or_else(|_| s.into()),
                    _ => s.as_bytes().to_vec(),
                })
                .collect();
            (!keys.is_empty()).then_some(keys)
        };
        IncidentSecrets {
            pagerduty: split(pagerduty, false),
            generic: split(generic, true),
        }
    }
}

fn answer(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A refusal: the status and the message of the JSON error body.
type Refusal = (StatusCode, String);

fn valid_id(id: &str) -> bool {
    id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The endpoint's secrets (404 while unset, before a byte is read) and its
/// body, read the same bounded way as webhooks: the budget of
/// unauthenticated bytes in flight is shared by every endpoint.
async fn secret_and_body<S: Clone>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    pick: impl Fn(&IncidentSecrets) -> &Option<S>,
) -> Result<(S, Bytes, OwnedSemaphorePermit), Response> {
    let Some(secrets) = pick(&state.incident_secrets).clone() else {
        return Err(answer(StatusCode::NOT_FOUND, "not found"));
    };
    let (body, budget) = read_body(state, headers, body).await?;
    Ok((secrets, body, budget))
}

/// `POST /incidents/pagerduty`.
pub async fn pagerduty(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let (secrets, body, _budget) =
        match secret_and_body(&state, &headers, body, |s| &s.pagerduty).await {
            Ok(read) => read,
            Err(refused) => return refused,
        };
    if !verify_pagerduty(&secrets, header(&headers, "x-pagerduty-signature"), &body) {
        state.metrics.rejected("signature_mismatch");
        return answer(
            StatusCode::UNAUTHORIZED,
            "X-PagerDuty-Signature matches no configured secret",
        );
    }
    let envelope: PdEnvelope = match parse(&body) {
        Ok(e) => e,
        Err((status, message)) => return answer(status, &message),
    };
    if envelope.event.event_type == "pagey.ping" {
        return (StatusCode::OK, axum::Json(json!({ "status": "pong" }))).into_response();
    }
    let Some(id) = header(&headers, "x-webhook-id").filter(|id| valid_id(id)) else {
        return answer(
            StatusCode::BAD_REQUEST,
            "missing or malformed X-Webhook-Id header",
        );
    };
    enqueue(&state, format!("pagerduty:{id}"), PAGERDUTY_EVENT, &body).await
}

/// `POST /incidents`.
pub async fn generic(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let (secrets, body, _budget) =
        match secret_and_body(&state, &headers, body, |s| &s.generic).await {
            Ok(read) => read,
            Err(refused) => return refused,
        };
    let id = header(&headers, "webhook-id");
    let timestamp = header(&headers, "webhook-timestamp");
    let signature = header(&headers, "webhook-signature");
    if let Err(reason) = verify_standard(&secrets, id, timestamp, signature, &body, unix_now()) {
        state.metrics.rejected("signature_mismatch");
        return answer(StatusCode::UNAUTHORIZED, reason);
    }
    let Some(id) = id.filter(|id| valid_id(id)) else {
        return answer(StatusCode::BAD_REQUEST, "malformed webhook-id header");
    };
    let value: Value = match parse(&body) {
        Ok(v) => v,
        Err((status, message)) => return answer(status, &message),
    };
    if let Err(message) = generic_incident(&value) {
        return answer(StatusCode::BAD_REQUEST, &message);
    }
    enqueue(&state, format!("incident:{id}"), GENERIC_EVENT, &body).await
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        (
            StatusCode::BAD_REQUEST,
            format!("malformed JSON at {path}: {}", e.inner()),
        )
    })
}

async fn enqueue(state: &AppState, delivery_id: String, event: &str, body: &[u8]) -> Response {
    let new = NewDelivery {
        settled: false,
        delivery_id,
        event: event.to_string(),
        action: None,
        repo_key: Some(REPO_KEY.to_string()),
        installation_id: None,
        payload: body.to_vec(),
    };
    match state.intake.enqueue(new).await {
        Ok(Enqueued::New) => {
            state.metrics.received(event);
            state.kick.notify_one();
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "queued" })),
            )
                .into_response()
        }
        Ok(Enqueued::Duplicate) => {
            state.metrics.duplicate();
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "duplicate" })),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot store an incident delivery");
            answer(StatusCode::SERVICE_UNAVAILABLE, "cannot store the delivery")
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `v1=<hex>` signatures, comma-separated; any match with any secret.
/// Every pair is compared (constant time each) so timing does not tell
/// which one matched.
pub fn verify_pagerduty(secrets: &[Vec<u8>], header: Option<&str>, body: &[u8]) -> bool {
    let Some(header) = header else {
        return false;
    };
    let signatures: Vec<[u8; 32]> = header
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("v1="))
        .filter_map(|h| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(h, &mut out).ok().map(|()| out)
        })
        .take(16)
        .collect();
    let mut matched = false;
    for secret in secrets {
        let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
            continue;
        };
        mac.update(body);
        for sig in &signatures {
            matched |= mac.clone().verify_slice(sig).is_ok();
        }
    }
    matched
}

/// Standard Webhooks: `webhook-signature` holds space-separated
/// `v1,<base64>` signatures of `<id>.<timestamp>.<body>`; the timestamp
/// must be within 5 minutes of `now`.
pub fn verify_standard(
    secrets: &[Vec<u8>],
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let (Some(id), Some(timestamp), Some(signature)) = (id, timestamp, signature) else {
        return Err("missing webhook-id, webhook-timestamp or webhook-signature header");
    };
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| "webhook-timestamp is not a number")?;
    if (now - ts).abs() > TOLERANCE_SECONDS {
        return Err("webhook-timestamp is more than 5 minutes away from the server's clock");
    }
    let signatures: Vec<Vec<u8>> = signature
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b| STANDARD.decode(b).ok())
        .take(16)
        .collect();
    let mut matched = false;
    for secret in secrets {
        let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
            continue;
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        for sig in &signatures {
            matched |= mac.clone().verify_slice(sig).is_ok();
        }
    }
    if matched {
        Ok(())
    } else {
        Err("webhook-signature matches no configured secret")
    }
}

/// The Standard Webhooks signature header value for tests and the docs' example.
pub fn sign_standard(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[derive(Debug, Deserialize)]
struct PdEnvelope {
    event: PdEvent,
}

#[derive(Debug, Deserialize)]
struct PdEvent {
    event_type: String,
    #[serde(default)]
    occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    data: Value,
}

/// What a stored incident delivery asks of the store.
#[derive(Debug, Clone, PartialEq)]
pub enum IncidentChange {
    /// Store (or replace) this incident; `service` routes PagerDuty ones.
    Upsert {
        /// The incident.
        incident: Box<Incident>,
        /// The PagerDuty service it came from, for routing.
        service: Option<String>,
    },
    /// Forget it (a PagerDuty incident merged into another: the survivor
    /// carries on, and its status is not touched).
    Delete {
        /// Where the incident came from (`pagerduty`, …).
        source: String,
        /// Its id there.
        id: String,
    },
    /// Nothing to do (an event that is not about an incident).
    Ignore,
}

/// Reads a stored incident delivery.
pub fn parse_delivery(event: &str, payload: &[u8]) -> Result<IncidentChange, String> {
    match event {
        PAGERDUTY_EVENT => {
            let envelope: PdEnvelope =
                serde_json::from_slice(payload).map_err(|e| e.to_string())?;
            pagerduty_incident(&envelope.event)
        }
        GENERIC_EVENT => {
            let value: Value = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
            generic_incident(&value)
        }
        other => Err(format!("not an incident delivery: {other}")),
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn pagerduty_incident(event: &PdEvent) -> Result<IncidentChange, String> {
    // `incident.*` events carry the incident in `data`; others (notes,
    // responders…) in `data.incident`.
    let data = if event.data.get("type").and_then(Value::as_str) == Some("incident") {
        &event.data
    } else {
        match event.data.get("incident") {
            Some(incident) if incident.is_object() => incident,
            _ => return Ok(IncidentChange::Ignore),
        }
    };
    let Some(id) = text(data, "id") else {
        return Err("PagerDuty incident without an id".into());
    };
    let merged = data.pointer("/resolve_reason/type").and_then(Value::as_str)
        == Some("merge_resolve_reason");
    if merged {
        return Ok(IncidentChange::Delete {
            source: "pagerduty".into(),
            id,
        });
    }
    let status = text(data, "status")
        .as_deref()
        .and_then(Status::parse)
        .unwrap_or(Status::Triggered);
    let title = text(data, "title").unwrap_or_else(|| id.clone());
    let severity = data
        .pointer("/priority/summary")
        .and_then(Value::as_str)
        .and_then(parse_severity)
        .or_else(|| text(data, "urgency").as_deref().and_then(parse_severity));
    let started_at = data
        .get("created_at")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .or(event.occurred_at)
        .unwrap_or_else(Utc::now);
    Ok(IncidentChange::Upsert {
        incident: Box::new(Incident {
            source: "pagerduty".into(),
            number: data.get("number").and_then(Value::as_u64),
            references: extract_references(&title),
            title,
            url: text(data, "html_url"),
            repository: None,
            status,
            severity,
            started_at,
            resolved_at: (status == Status::Resolved)
                .then(|| event.occurred_at.unwrap_or_else(Utc::now)),
            id,
        }),
        service: data
            .pointer("/service/id")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The generic body, or an incident.io `public_incident.*` event. Errors
/// name the field.
fn generic_incident(v: &Value) -> Result<IncidentChange, String> {
    if let Some(kind) = v.get("event_type").and_then(Value::as_str) {
        if !kind.starts_with("public_incident.") {
            return Ok(IncidentChange::Ignore);
        }
        let inc = v
            .get(kind)
            .and_then(|e| e.get("incident").or(Some(e)))
            .filter(|i| i.is_object())
            .ok_or_else(|| format!("malformed JSON at {kind}: expected the incident object"))?;
        let id = text(inc, "id").ok_or_else(|| format!("malformed JSON at {kind}.id: missing"))?;
        let status = inc
            .pointer("/incident_status/category")
            .and_then(Value::as_str)
            .and_then(Status::parse)
            .unwrap_or(Status::Triggered);
        let title = text(inc, "name").unwrap_or_else(|| id.clone());
        let summary = text(inc, "summary").unwrap_or_default();
        let references = extract_references(&format!("{title}\n{summary}"));
        // incident.io names no repository: the first one its text
        // references (`owner/name#N`, an issue URL) receives it.
        let repository = references.iter().find_map(|r| match r {
            Reference::Issue { repository, .. } => repository.clone(),
            Reference::Item { .. } => None,
        });
        return Ok(IncidentChange::Upsert {
            incident: Box::new(Incident {
                source: "incident.io".into(),
                number: inc.get("reference").and_then(Value::as_str).and_then(|r| {
                    r.trim_start_matches(|c: char| !c.is_ascii_digit())
                        .parse()
                        .ok()
                }),
                references,
                url: text(inc, "permalink"),
                repository,
                status,
                severity: inc
                    .pointer("/severity/name")
                    .and_then(Value::as_str)
                    .and_then(parse_severity),
                started_at: time(inc, "created_at")?.unwrap_or_else(Utc::now),
                resolved_at: None,
                title,
                id,
            }),
            service: None,
        });
    }
    let body: GenericBody = serde_path_to_error::deserialize(v)
        .map_err(|e| format!("malformed JSON at {}: {}", e.path(), e.inner()))?;
    let status = Status::parse(&body.status).ok_or_else(|| {
        format!(
            "malformed JSON at status: {:?} is not one of {}",
            body.status,
            Status::NAMES.join(", ")
        )
    })?;
    if body.source.is_empty()
        || body.source.len() > 100
        || body.id.is_empty()
        || body.id.len() > MAX_ID_LEN
    {
        return Err(
            "malformed JSON at source/id: both are required, at most 100 and 200 characters".into(),
        );
    }
    if matches!(body.source.as_str(), "github" | "pagerduty") {
        return Err(format!(
            "malformed JSON at source: {:?} is reserved for paydown's own sources",
            body.source
        ));
    }
    let repository = body.repository.filter(|r| {
        matches!(r.split_once('/'), Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/'))
    });
    let Some(repository) = repository else {
        return Err("malformed JSON at repository: expected owner/name".into());
    };
    let mut references: Vec<Reference> = body
        .debt
        .iter()
        .flat_map(|d| match d {
            DebtRef::Number(n) => vec![Reference::Issue {
                repository: None,
                number: *n,
            }],
            DebtRef::Text(t) => {
                let refs = extract_references(t);
                if refs.is_empty()
                    || t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    vec![Reference::Item { id: t.clone() }]
                } else {
                    refs
                }
            }
        })
        .collect();
    references.extend(extract_references(&body.title));
    Ok(IncidentChange::Upsert {
        incident: Box::new(Incident {
            source: body.source,
            id: body.id,
            number: None,
            title: body.title,
            url: body.url,
            repository: Some(repository),
            status,
            severity: body.severity.as_deref().and_then(parse_severity),
            started_at: body.started_at.unwrap_or_else(Utc::now),
            resolved_at: body.resolved_at,
            references,
        }),
        service: None,
    })
}

fn time(v: &Value, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    match v.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| format!("malformed JSON at {key}: not an RFC 3339 time")),
    }
}

/// The generic body (`docs/incident.schema.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericBody {
    source: String,
    id: String,
    status: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    resolved_at: Option<DateTime<Utc>>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    debt: Vec<DebtRef>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DebtRef {
    Number(u64),
    Text(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pd_sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = HmacSha256::new_from_slice(secret).unwrap();
        mac.update(body);
        format!("v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn pagerduty_accepts_any_of_several_signatures_and_any_secret() {
        let body = br#"{"event":{"event_type":"pagey.ping"}}"#;
        let secrets = vec![b"new".to_vec(), b"old".to_vec()];
        let header = format!("v1=00ff,{}", pd_sign(b"old", body));
        assert!(verify_pagerduty(&secrets, Some(&header), body));
        assert!(!verify_pagerduty(
            &secrets,
            Some(&pd_sign(b"other", body)),
            body
        ));
        assert!(!verify_pagerduty(&secrets, Some(&header), b"tampered"));
        assert!(!verify_pagerduty(&secrets, None, body));
    }

    #[test]
    fn standard_webhooks_checks_the_signature_and_the_time_window() {
        let secrets = vec![b"k".to_vec()];
        let body = b"{}";
        let sig = sign_standard(b"k", "msg_1", 1_000, body);
        let ok = |now, sig: &str| {
            verify_standard(&secrets, Some("msg_1"), Some("1000"), Some(sig), body, now)
        };
        assert_eq!(ok(1_000 + 299, &sig), Ok(()));
        assert!(ok(1_000 + 301, &sig).unwrap_err().contains("5 minutes"));
        assert!(ok(1_000, "v1,AAAA").is_err());
        assert_eq!(ok(1_000, &format!("v1,AAAA {sig}")), Ok(()));
    }

    #[test]
    fn whsec_secrets_are_base64_keys() {
        let s = IncidentSecrets::from_values(None, Some("whsec_aGVsbG8=, plain"));
        assert_eq!(s.generic.unwrap(), [b"hello".to_vec(), b"plain".to_vec()]);
        assert!(
            IncidentSecrets::from_values(Some(" , "), None)
                .pagerduty
                .is_none()
        );
    }

    #[test]
    fn pagerduty_incidents_come_from_data_or_data_incident_and_merges_are_not_resolutions() {
        let triggered = json!({"event": {"event_type": "incident.triggered", "occurred_at": "2026-03-01T10:00:00Z",
            "data": {"type": "incident", "id": "Q1", "number": 1234, "title": "DB down", "status": "triggered",
                     "urgency": "high", "html_url": "https://acme.pagerduty.com/incidents/Q1", "service": {"id": "PABC123"},
                     "created_at": "2026-03-01T09:59:00Z"}}});
        let IncidentChange::Upsert { incident, service } =
            parse_delivery(PAGERDUTY_EVENT, triggered.to_string().as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (incident.id.as_str(), incident.number, service.as_deref()),
            ("Q1", Some(1234), Some("PABC123"))
        );
        assert_eq!(incident.status, Status::Triggered);
        let note = json!({"event": {"event_type": "incident.annotated", "data": {"type": "incident_note",
            "incident": {"id": "Q1", "type": "incident_reference", "status": "acknowledged"}}}});
        let IncidentChange::Upsert { incident, .. } =
            parse_delivery(PAGERDUTY_EVENT, note.to_string().as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(incident.status, Status::Acknowledged);
        let merged = json!({"event": {"event_type": "incident.resolved", "data": {"type": "incident", "id": "Q2", "status": "resolved",
            "resolve_reason": {"type": "merge_resolve_reason", "incident": {"id": "Q1"}}}}});
        assert_eq!(
            parse_delivery(PAGERDUTY_EVENT, merged.to_string().as_bytes()).unwrap(),
            IncidentChange::Delete {
                source: "pagerduty".into(),
                id: "Q2".into()
            }
        );
    }

    #[test]
    fn generic_bodies_are_read_and_errors_name_the_field() {
        let body = json!({"source": "statuspage", "id": "abc", "status": "triggered", "title": "API slow",
            "repository": "acme/widgets", "debt": ["orders-n-plus-one", 12, "https://github.com/acme/widgets/issues/9"]});
        let IncidentChange::Upsert { incident, .. } = generic_incident(&body).unwrap() else {
            panic!()
        };
        assert!(incident.references.contains(&Reference::Item {
            id: "orders-n-plus-one".into()
        }));
        assert!(incident.references.contains(&Reference::Issue {
            repository: None,
            number: 12
        }));
        assert!(incident.references.contains(&Reference::Issue {
            repository: Some("acme/widgets".into()),
            number: 9
        }));
        let bad = json!({"source": "s", "id": "1", "status": "triggered", "repository": "acme/w", "started_at": "yesterday"});
        assert!(generic_incident(&bad).unwrap_err().contains("started_at"));
        let bad = json!({"source": "s", "id": "1", "status": "burning", "repository": "acme/w"});
        assert!(generic_incident(&bad).unwrap_err().contains("status"));
        let io = json!({"event_type": "public_incident.incident_created_v2", "public_incident.incident_created_v2": {"incident": {
            "id": "01H", "name": "Login broken (see acme/widgets#4)", "reference": "INC-42", "created_at": "2026-03-01T10:00:00Z",
            "incident_status": {"category": "live"}, "severity": {"name": "Major"}, "permalink": "https://app.incident.io/x"}}});
        let IncidentChange::Upsert { incident, .. } = generic_incident(&io).unwrap() else {
            panic!()
        };
        assert_eq!(
            (incident.source.as_str(), incident.number),
            ("incident.io", Some(42))
        );
        assert!(incident.references.contains(&Reference::Issue {
            repository: Some("acme/widgets".into()),
            number: 4
        }));
    }
}
