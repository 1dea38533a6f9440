//! The App's webhook and its delivery log, as GitHub keeps them: the fake
//! sends signed deliveries to the configured URL ([`FakeGitHub::deliver`]),
//! records each attempt (failed when nothing listens or the answer is not
//! 2xx), lists them on `GET /app/hook/deliveries` (JWT, newest first,
//! cursor pagination through `Link`) and sends one again on
//! `POST /app/hook/deliveries/{id}/attempts` (202), recording the new
//! attempt with `redelivery: true` and the same GUID. GitHub itself never
//! retries a failed delivery; neither does the fake.
//!
//! [`FakeGitHub::deliver`]: crate::FakeGitHub::deliver

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::api::{Reply, Req, require_app};
use crate::server::{Shared, lock};
use crate::world::World;

/// One attempt to deliver a webhook, as GitHub's delivery log shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookDelivery {
    /// Unique per attempt.
    pub id: u64,
    /// `X-GitHub-Delivery`: shared by a delivery and its redeliveries.
    pub guid: String,
    /// When the attempt was made.
    pub delivered_at: DateTime<Utc>,
    /// Made by a redelivery request, not by the event itself.
    pub redelivery: bool,
    /// The receiver's HTTP status; 0 when it could not be reached.
    pub status_code: u16,
    /// `OK`, `Invalid HTTP Response: 503`, `failed to connect to host`.
    pub status: String,
    /// The `X-GitHub-Event` name (`issues`, `pull_request`…).
    pub event: String,
    /// The payload's `action`, when it has one.
    pub action: Option<String>,
    /// The installation the payload names.
    pub installation_id: Option<u64>,
    /// The repository the payload names.
    pub repository_id: Option<u64>,
    pub(crate) payload: Vec<u8>,
}

impl HookDelivery {
    /// Whether the receiver answered 2xx.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status_code)
    }
}

/// The App's webhook configuration and delivery log.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    /// Where deliveries go, and the secret they are signed with.
    pub target: Option<(String, String)>,
    /// Every attempt, oldest first.
    pub log: Vec<HookDelivery>,
    next_id: u64,
    next_guid: u64,
    /// Attempt ids a redelivery was requested for, not yet sent.
    pub outbox: Vec<u64>,
}

impl Hooks {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        // GitHub's delivery ids are large numbers; keep them unlike others.
        9_000_000_000 + self.next_id
    }

    fn new_guid(&mut self) -> String {
        self.next_guid += 1;
        let n = self.next_guid;
        // The shape of GitHub's GUIDs (a UUID), distinct per fake.
        let salt = std::process::id();
        format!(
            "{:08x}-{:04x}-11f0-8000-{:012x}",
            salt,
            (n >> 48) & 0xffff,
            n & 0xffff_ffff_ffff
        )
    }
}

fn render(d: &HookDelivery) -> Value {
    json!({
        "id": d.id,
        "guid": d.guid,
        "delivered_at": d.delivered_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "redelivery": d.redelivery,
        "duration": 0.05,
        "status": d.status,
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repository_id": d.repository_id,
        "throttled_at": Value::Null,
    })
}

/// `GET /app/hook/deliveries`: newest first; `per_page` (1-100, default
/// 30) and an opaque `cursor` taken from the `Link` header's `next`.
pub(crate) fn list(w: &World, req: &Req) -> Result<Reply, Reply> {
    require_app(req)?;
    let per_page = req
        .q("per_page")
        .map(|p| p.parse::<usize>())
        .transpose()
        .map_err(|_| Reply::error(400, "per_page must be an integer"))?
        .unwrap_or(30)
        .clamp(1, 100);
    let start = match req.q("cursor") {
        None | Some("") => u64::MAX,
        Some(c) => c
            .strip_prefix("v1_")
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| Reply::error(400, "Invalid cursor"))?,
    };
    let mut newest_first: Vec<&HookDelivery> =
        w.hooks.log.iter().filter(|d| d.id <= start).collect();
    newest_first.sort_by_key(|d| std::cmp::Reverse(d.id));
    let page: Vec<Value> = newest_first
        .iter()
        .take(per_page)
        .map(|d| render(d))
        .collect();
    let mut reply = Reply::json(200, &Value::Array(page));
    if let Some(next) = newest_first.get(per_page) {
        reply = reply.header(
            "link",
            format!(
                "<{}/app/hook/deliveries?per_page={per_page}&cursor=v1_{}>; rel=\"next\"",
                w.base_url, next.id
            ),
        );
    }
    Ok(reply)
}

/// `GET /app/hook/deliveries/{id}`.
pub(crate) fn get(w: &World, req: &Req, id: &str) -> Result<Reply, Reply> {
    require_app(req)?;
    let d = find(w, id)?;
    let mut v = render(d);
    v["request"] =
        json!({"payload": serde_json::from_slice::<Value>(&d.payload).unwrap_or(Value::Null)});
    Ok(Reply::json(200, &v))
}

/// `POST /app/hook/deliveries/{id}/attempts`: 202, and the delivery is
/// sent again once the answer is out.
pub(crate) fn attempt(w: &mut World, req: &Req, id: &str) -> Result<Reply, Reply> {
    require_app(req)?;
    let id = find(w, id)?.id;
    w.hooks.outbox.push(id);
    Ok(Reply::json(202, &json!({})))
}

fn find<'w>(w: &'w World, id: &str) -> Result<&'w HookDelivery, Reply> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| w.hooks.log.iter().find(|d| d.id == id))
        .ok_or_else(|| Reply::error(404, "Not Found"))
}

/// Sends the redeliveries requested so far (after the request that asked
/// for them was answered, as GitHub queues them).
pub(crate) fn flush_outbox(shared: &Shared) {
    let ids = std::mem::take(&mut lock(shared).hooks.outbox);
    for id in ids {
        let shared = shared.clone();
        tokio::spawn(async move {
            let original = lock(&shared).hooks.log.iter().find(|d| d.id == id).cloned();
            if let Some(original) = original {
                send(&shared, original, true).await;
            }
        });
    }
}

/// Sends `template` (its GUID, event and payload) to the configured URL
/// and records the attempt; returns it.
pub(crate) async fn send(
    shared: &Shared,
    template: HookDelivery,
    redelivery: bool,
) -> HookDelivery {
    let target = lock(shared).hooks.target.clone();
    let (status_code, status) = match &target {
        None => (0, "no webhook URL configured".to_owned()),
        Some((url, secret)) => {
            match crate::webhook::send_webhook(
                url,
                secret,
                &template.event,
                &template.guid,
                &template.payload,
            )
            .await
            {
                Ok(resp) if resp.status().is_success() => (resp.status().as_u16(), "OK".to_owned()),
                Ok(resp) => (
                    resp.status().as_u16(),
                    format!("Invalid HTTP Response: {}", resp.status().as_u16()),
                ),
                Err(_) => (0, "failed to connect to host".to_owned()),
            }
        }
    };
    let mut w = lock(shared);
    let record = HookDelivery {
        id: w.hooks.next_id(),
        delivered_at: Utc::now(),
        redelivery,
        status_code,
        status,
        ..template
    };
    w.hooks.log.push(record.clone());
    record
}

/// A first attempt of `event` with `payload`, under a fresh GUID.
pub(crate) fn new_delivery(w: &mut World, event: &str, payload: &Value) -> HookDelivery {
    let id_of = |key: &str| {
        payload
            .get(key)
            .and_then(|v| v.get("id"))
            .and_then(Value::as_u64)
    };
    HookDelivery {
        id: 0,
        guid: w.hooks.new_guid(),
        delivered_at: Utc::now(),
        redelivery: false,
        status_code: 0,
        status: String::new(),
        event: event.to_owned(),
        action: payload
            .get("action")
            .and_then(Value::as_str)
            .map(str::to_owned),
        installation_id: id_of("installation"),
        repository_id: id_of("repository"),
        payload: serde_json::to_vec(payload).unwrap_or_default(),
    }
}
