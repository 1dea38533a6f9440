//! Delivery recovery's bounds, against the fake's delivery log: only
//! failed deliveries within the look-back window whose GUID the store never
//! accepted are asked for again, the oldest first, at most `max_per_run`.

mod support;

use std::time::Duration;

use fake_github::FakeGitHub;
use paydown_server::recovery::{RecoveryOptions, recover_once};
use paydown_server::store::{NewDelivery, Store};

#[tokio::test]
async fn only_missed_deliveries_in_the_window_are_redelivered_oldest_first_and_bounded() {
    // Given a webhook URL where nothing listens,
    let fake = FakeGitHub::start().await;
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhook", nobody.local_addr().unwrap());
    drop(nobody);
    fake.set_webhook(&url, support::SECRET);
    let payload =
        |n: u32| serde_json::json!({"action": "opened", "n": n, "installation": {"id": 1}});
    // two deliveries that failed four days ago (beyond GitHub's three),
    let old: Vec<_> = [
        fake.deliver("issues", &payload(0)).await,
        fake.deliver("issues", &payload(1)).await,
    ]
    .to_vec();
    fake.age_hook_deliveries(Duration::from_secs(4 * 24 * 3600));
    // and four that failed just now, one of which the store did accept
    // (GitHub timed out waiting for the answer),
    let mut recent = Vec::new();
    for n in 2..6 {
        recent.push(fake.deliver("issues", &payload(n)).await);
    }
    assert!(old.iter().chain(&recent).all(|d| !d.succeeded()));
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store
        .enqueue(NewDelivery {
            settled: false,
            delivery_id: recent[1].guid.clone(),
            event: "issues".into(),
            action: Some("opened".into()),
            repo_key: None,
            installation_id: Some(1),
            payload: b"{}".to_vec(),
        })
        .await
        .unwrap();

    // when a run may ask for two redeliveries,
    let opts = RecoveryOptions {
        max_per_run: 2,
        pace: Duration::ZERO,
        ..RecoveryOptions::default()
    };
    let app = support::github_app(&fake);
    let report = recover_once(&app, &store, &opts, chrono::Utc::now())
        .await
        .unwrap();

    // then the two oldest missed ones in the window are asked for, the
    // third waits for the next run, and the old and accepted ones never are.
    assert_eq!(report.listed, 4);
    assert_eq!(report.missed, 3);
    assert_eq!(
        report.redelivered,
        [recent[0].guid.clone(), recent[2].guid.clone()]
    );
    assert_eq!(report.deferred, 1);
    let asked: Vec<String> = fake
        .requests_matching("POST", "/app/hook/deliveries/")
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        asked,
        [
            format!("/app/hook/deliveries/{}/attempts", recent[0].id),
            format!("/app/hook/deliveries/{}/attempts", recent[2].id),
        ]
    );

    // And the next run asks for the one left, then for the others again
    // (their redeliveries failed too: nothing listens), never for the
    // accepted one.
    let next = recover_once(
        &app,
        &store,
        &RecoveryOptions {
            max_per_run: 10,
            ..opts
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let mut again = next.redelivered.clone();
    again.sort();
    let mut expected = vec![
        recent[0].guid.clone(),
        recent[2].guid.clone(),
        recent[3].guid.clone(),
    ];
    expected.sort();
    assert_eq!(again, expected);
}

#[tokio::test]
async fn the_delivery_log_pages_by_cursor_and_needs_the_app_jwt() {
    // Given 130 attempts in the log,
    let fake = FakeGitHub::start().await;
    fake.set_webhook("http://127.0.0.1:9/webhook", support::SECRET);
    for n in 0..130 {
        fake.deliver("ping", &serde_json::json!({"n": n})).await;
    }
    // when the App reads it 100 at a time, it gets all of them newest
    // first across two pages,
    let client = support::github_app(&fake).app_client();
    let (first, next) = client
        .get_page::<serde_json::Value>("/app/hook/deliveries?per_page=100")
        .await
        .unwrap();
    let next = next.expect("a second page");
    assert!(next.contains("cursor="), "{next}");
    let (second, last) = client.get_page::<serde_json::Value>(&next).await.unwrap();
    assert_eq!((first.len(), second.len(), last), (100, 30, None));
    let ids: Vec<u64> = first
        .iter()
        .chain(&second)
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    // and an installation token is refused.
    let installation = support::github_app(&fake)
        .installation_client(1)
        .await
        .unwrap();
    assert!(
        installation
            .get_page::<serde_json::Value>("/app/hook/deliveries")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_delivery_refused_for_good_is_given_up_after_max_attempts() {
    // Given a receiver that refuses every delivery (as a server whose
    // secret does not match would),
    let refuser = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", refuser.local_addr().unwrap());
    let app = axum::Router::new().fallback(|| async { http::StatusCode::UNAUTHORIZED });
    tokio::spawn(async move { axum::serve(refuser, app).await });
    let fake = FakeGitHub::start().await;
    fake.set_webhook(&url, support::SECRET);
    let first = fake
        .deliver("issues", &serde_json::json!({"action": "opened"}))
        .await;
    assert_eq!(first.status_code, 401);
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let app = support::github_app(&fake);
    let opts = RecoveryOptions {
        pace: Duration::ZERO,
        max_attempts: 3,
        ..RecoveryOptions::default()
    };
    // when recovery runs again and again (each redelivery refused too),
    let mut asked = 0;
    for run in 0..5 {
        let report = recover_once(&app, &store, &opts, chrono::Utc::now())
            .await
            .unwrap();
        asked += report.redelivered.len();
        // (the fake sends a redelivery once the request is answered)
        let expected = 1 + asked;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while fake.hook_deliveries().len() < expected {
            assert!(
                std::time::Instant::now() < deadline,
                "run {run}: redelivery never sent"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if run >= 2 {
            assert_eq!(
                (report.redelivered.len(), report.given_up),
                (0, 1),
                "run {run}"
            );
        }
    }
    // then it was asked for twice more, three attempts in all, and no more.
    assert_eq!(asked, 2);
    let log = fake.hook_deliveries();
    assert_eq!(log.len(), 3);
    assert!(
        log.iter()
            .all(|d| d.guid == first.guid && d.status_code == 401)
    );
}
