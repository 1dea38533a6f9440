//! The incident endpoints end to end: the real router and workers on
//! loopback, real signatures, a SQLite store that survives a restart.

mod support;

use std::sync::Arc;
use std::time::Duration;

use fake_github::FakeGitHub;
use hmac::{Hmac, Mac};
use paydown_server::handlers::GitHubHandler;
use paydown_server::incident_endpoints::{IncidentSecrets, sign_standard};
use paydown_server::store::Store;
use paydown_server::{Server, ServerOptions};
use serde_json::json;
use sha2::Sha256;

const PD_SECRET: &str = "pd-secret";
const GENERIC_SECRET: &str = "generic-secret";

struct App {
    server: Server,
    store: Store,
    base: String,
}

async fn start(fake: &FakeGitHub, url: &str, secrets: IncidentSecrets) -> App {
    let store = Store::connect(url).await.unwrap();
    let github = support::github_app(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = ServerOptions {
        incident_secrets: secrets,
        max_body_bytes: 64 * 1024,
        ..support::server_options(Duration::from_secs(30))
    };
    let server = Server::start(
        listener,
        store.clone(),
        Arc::new(GitHubHandler::new(github.clone(), store.clone())),
        None,
        options,
    )
    .unwrap();
    App {
        base: format!("http://{}", server.local_addr()),
        server,
        store,
    }
}

fn both() -> IncidentSecrets {
    IncidentSecrets::from_values(Some(&format!("old,{PD_SECRET}")), Some(GENERIC_SECRET))
}

fn pd_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn pd_body(id: &str, number: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({"event": {
        "id": "evt1", "event_type": "incident.triggered", "resource_type": "incident",
        "occurred_at": "2026-03-01T10:00:00Z",
        "data": {"type": "incident", "id": id, "number": number, "title": "Checkout 500s",
                 "status": "triggered", "urgency": "high",
                 "html_url": format!("https://acme.pagerduty.com/incidents/{id}"),
                 "service": {"id": "PABC123", "type": "service_reference"},
                 "created_at": "2026-03-01T09:59:30Z"}}}))
    .unwrap()
}

async fn post_pd(base: &str, webhook_id: &str, signature: &str, body: &[u8]) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/incidents/pagerduty"))
        .header("content-type", "application/json")
        .header("x-webhook-id", webhook_id)
        .header("x-pagerduty-signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

async fn post_generic(
    base: &str,
    id: &str,
    timestamp: i64,
    secret: &str,
    body: &[u8],
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/incidents"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            sign_standard(secret.as_bytes(), id, timestamp, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

async fn pd_incidents(store: &Store) -> usize {
    store
        .incidents_for(&[], &["PABC123".to_string()])
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn given_pagerduty_webhooks_then_signatures_dedupe_ping_and_restart_hold() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = support::db_url(&dir);
    let app = start(&fake, &url, both()).await;

    // A bad signature: 401, nothing stored.
    let body = pd_body("Q1", 1234);
    let r = post_pd(&app.base, "wh-1", &pd_signature("wrong", &body), &body).await;
    assert_eq!(r.status().as_u16(), 401);
    support::settle(&app.store).await;
    assert_eq!(pd_incidents(&app.store).await, 0);
    assert!(
        app.store
            .delivery("pagerduty:wh-1")
            .await
            .unwrap()
            .is_none()
    );

    // Two signatures, one valid (rotation): accepted and stored.
    let header = format!(
        "{},{}",
        pd_signature("retired", &body),
        pd_signature(PD_SECRET, &body)
    );
    let r = post_pd(&app.base, "wh-1", &header, &body).await;
    assert_eq!(r.status().as_u16(), 202);
    // The same X-Webhook-Id again counts once.
    let r = post_pd(&app.base, "wh-1", &header, &body).await;
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );
    support::settle(&app.store).await;
    let stored = app
        .store
        .incidents_for(&[], &["PABC123".to_string()])
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].number, Some(1234));

    // pagey.ping: 2xx, nothing stored.
    let ping =
        serde_json::to_vec(&json!({"event": {"event_type": "pagey.ping", "data": null}})).unwrap();
    let r = post_pd(&app.base, "wh-ping", &pd_signature(PD_SECRET, &ping), &ping).await;
    assert!(r.status().is_success());
    assert!(
        app.store
            .delivery("pagerduty:wh-ping")
            .await
            .unwrap()
            .is_none()
    );

    // Malformed JSON, correctly signed: 400 naming where.
    let bad = br#"{"event": {"event_type": 5}}"#;
    let r = post_pd(&app.base, "wh-bad", &pd_signature(PD_SECRET, bad), bad).await;
    assert_eq!(r.status().as_u16(), 400);
    let text = r.text().await.unwrap();
    assert!(text.contains("event.event_type"), "{text}");

    // Over the body limit: 413.
    let huge = vec![b' '; 128 * 1024];
    let r = post_pd(&app.base, "wh-big", &pd_signature(PD_SECRET, &huge), &huge).await;
    assert_eq!(r.status().as_u16(), 413);

    // A restart of the server between incidents loses nothing.
    app.server.shutdown().await.unwrap();
    let app = start(&fake, &url, both()).await;
    let second = pd_body("Q2", 1235);
    let r = post_pd(
        &app.base,
        "wh-2",
        &pd_signature(PD_SECRET, &second),
        &second,
    )
    .await;
    assert_eq!(r.status().as_u16(), 202);
    support::settle(&app.store).await;
    assert_eq!(pd_incidents(&app.store).await, 2);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn given_standard_webhooks_then_stale_timestamps_are_refused_and_a_generic_body_is_stored() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start(&fake, &support::db_url(&dir), both()).await;
    let now = chrono::Utc::now().timestamp();
    let body = serde_json::to_vec(
        &json!({"source": "statuspage", "id": "inc-1", "status": "triggered",
        "title": "Slow checkout", "repository": "acme/widgets", "debt": ["orders-n-plus-one"],
        "started_at": "2026-03-01T10:00:00Z"}),
    )
    .unwrap();

    // A timestamp six minutes old: 401, nothing stored.
    let r = post_generic(&app.base, "msg_1", now - 360, GENERIC_SECRET, &body).await;
    assert_eq!(r.status().as_u16(), 401);
    // The wrong secret: 401.
    let r = post_generic(&app.base, "msg_1", now, "nope", &body).await;
    assert_eq!(r.status().as_u16(), 401);
    support::settle(&app.store).await;
    assert!(
        app.store
            .incidents_for(&["acme/widgets".into()], &[])
            .await
            .unwrap()
            .is_empty()
    );

    // A fresh, signed body is stored with its debt link.
    let r = post_generic(&app.base, "msg_1", now, GENERIC_SECRET, &body).await;
    assert_eq!(r.status().as_u16(), 202);
    support::settle(&app.store).await;
    let stored = app
        .store
        .incidents_for(&["acme/widgets".into()], &[])
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0]
            .references
            .contains(&paydown_incidents::Reference::Item {
                id: "orders-n-plus-one".into()
            })
    );

    // A body missing a field: 400 naming it.
    let bad = serde_json::to_vec(&json!({"source": "s", "id": "2", "status": "resolved", "repository": "acme/widgets", "started_at": 7})).unwrap();
    let r = post_generic(&app.base, "msg_2", now, GENERIC_SECRET, &bad).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("started_at"));
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn given_no_secrets_then_both_endpoints_do_not_exist() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start(&fake, &support::db_url(&dir), IncidentSecrets::default()).await;
    let body = pd_body("Q1", 1);
    assert_eq!(
        post_pd(&app.base, "w", &pd_signature(PD_SECRET, &body), &body)
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        post_generic(&app.base, "m", 0, GENERIC_SECRET, b"{}")
            .await
            .status()
            .as_u16(),
        404
    );
    app.server.shutdown().await.unwrap();
}

/// Installs the App on `REPO` through a signed `installation` webhook and
/// waits for the first sync; returns the one debt issue's number and item id.
async fn install(fake: &FakeGitHub, app: &App) -> (u64, String) {
    let install = json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [{"id": 1, "name": "octo-repo", "full_name": support::REPO, "private": false}],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    });
    support::post_webhook(&app.base, "installation", "install-1", &install).await;
    support::settle(&app.store).await;
    let debt = support::debt_issues(fake);
    assert_eq!(debt.len(), 1, "{debt:#?}");
    let body = debt[0].body.clone().unwrap_or_default();
    let id = body
        .split("<!-- paydown:item id=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an item marker")
        .to_string();
    (debt[0].number, id)
}

fn debt_body(fake: &FakeGitHub, number: u64) -> String {
    fake.repo(support::REPO)
        .issue(number)
        .unwrap()
        .body
        .unwrap_or_default()
}

#[tokio::test]
async fn a_pagerduty_incident_links_to_the_item_whose_annotation_names_its_number() {
    // Given a repository routing PagerDuty service PABC123 to itself, whose
    // FIXME names PagerDuty incident 1234, installed,
    let fake = FakeGitHub::start().await;
    fake.repo(support::REPO).set_files(
        "main",
        &[
            (
                ".github/paydown.yml",
                "incidents:\n  pagerduty_services: [PABC123]\n",
            ),
            (
                "src/pay.rs",
                "// FIXME(incident=PD-1234): retries double-charge\n",
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let url = support::db_url(&dir);
    let app = start(&fake, &url, both()).await;
    let (n, _) = install(&fake, &app).await;

    // when PagerDuty sends incident 1234, triggered yesterday, with two
    // signatures of which one is valid,
    let started = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let body = serde_json::to_vec(&json!({"event": {
        "id": "evt1", "event_type": "incident.triggered", "resource_type": "incident",
        "occurred_at": started,
        "data": {"type": "incident", "id": "Q9", "number": 1234, "title": "Checkout 500s",
                 "status": "triggered", "urgency": "high",
                 "html_url": "https://acme.pagerduty.com/incidents/Q9",
                 "service": {"id": "PABC123", "type": "service_reference"},
                 "created_at": started}}}))
    .unwrap();
    let header = format!(
        "{},{}",
        pd_signature("retired", &body),
        pd_signature(PD_SECRET, &body)
    );
    let r = post_pd(&app.base, "wh-pd-1", &header, &body).await;
    assert_eq!(r.status().as_u16(), 202);
    support::settle(&app.store).await;

    // then the debt issue counts it, with its link.
    let text = debt_body(&fake, n);
    assert!(
        text.contains("| Incidents | 1 in 90 days, 1 all time, 1 open"),
        "{text}"
    );
    assert!(
        text.contains("[Checkout 500s](https://acme.pagerduty.com/incidents/Q9)"),
        "{text}"
    );

    // A restart, then the resolution: nothing is lost, the count holds and
    // the incident is no longer open.
    app.server.shutdown().await.unwrap();
    let app = start(&fake, &url, both()).await;
    let resolved = serde_json::to_vec(&json!({"event": {
        "id": "evt2", "event_type": "incident.resolved", "resource_type": "incident",
        "occurred_at": chrono::Utc::now().to_rfc3339(),
        "data": {"type": "incident", "id": "Q9", "number": 1234, "title": "Checkout 500s",
                 "status": "resolved", "urgency": "high",
                 "service": {"id": "PABC123", "type": "service_reference"},
                 "created_at": started}}}))
    .unwrap();
    let r = post_pd(
        &app.base,
        "wh-pd-2",
        &pd_signature(PD_SECRET, &resolved),
        &resolved,
    )
    .await;
    assert_eq!(r.status().as_u16(), 202);
    support::settle(&app.store).await;
    let text = debt_body(&fake, n);
    assert!(
        text.contains("| Incidents | 1 in 90 days, 1 all time, last"),
        "{text}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_generic_incident_links_to_the_item_named_in_its_debt_list() {
    // Given an installed repository with one TODO,
    let fake = FakeGitHub::start().await;
    fake.repo(support::REPO).set_files(
        "main",
        &[("src/orders.rs", "// TODO: orders load N+1 queries\n")],
    );
    let dir = tempfile::tempdir().unwrap();
    let app = start(&fake, &support::db_url(&dir), both()).await;
    let (n, id) = install(&fake, &app).await;

    // when a signed generic body routed to it names the item's id in `debt`,
    let body = serde_json::to_vec(&json!({
        "source": "statuspage", "id": "inc-7", "status": "triggered",
        "title": "Slow orders page", "repository": support::REPO, "debt": [id],
        "url": "https://status.example.com/incidents/7",
        "started_at": (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339(),
    }))
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let r = post_generic(&app.base, "msg_7", now, GENERIC_SECRET, &body).await;
    assert_eq!(r.status().as_u16(), 202);
    support::settle(&app.store).await;

    // then the debt issue counts it.
    let text = debt_body(&fake, n);
    assert!(
        text.contains("| Incidents | 1 in 90 days, 1 all time, 1 open"),
        "{text}"
    );
    assert!(text.contains("Slow orders page"), "{text}");
    app.server.shutdown().await.unwrap();
}
