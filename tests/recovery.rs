//! `paydown serve` as a real process recovers the deliveries GitHub could
//! not make while it was down: GitHub never retries them, but its delivery
//! log lets the App ask for each again. Three pushes happen while the
//! server is down; once it starts again the repository ends in the same
//! state as when the server had been up all along.

mod support;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_server::store::{DeliveryStatus, Store};

const SECRET: &str = "recovery-webhook-secret";
const REPO: &str = "octo-org/octo-repo";

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("paydown.sqlite").display())
}

async fn start(fake: &FakeGitHub, db_url: &str, port: u16, log: &Path) -> Child {
    let mut child = support::spawn_serve(
        fake,
        SECRET,
        db_url,
        port,
        log,
        &[("PAYDOWN_WORKERS", "2"), ("PAYDOWN_LEASE_SECONDS", "2")],
    );
    support::wait_healthy(port, &mut child, log).await;
    child
}

/// Waits until every GUID in `guids` is done in the store and nothing is
/// queued.
async fn settled(store: &Store, guids: &[String], log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut done = true;
        for guid in guids {
            done &= store
                .delivery(guid)
                .await
                .unwrap()
                .is_some_and(|d| d.status == DeliveryStatus::Done);
        }
        if done && store.queue_depth().await.unwrap() == 0 {
            let counts = store.counts_by_status().await.unwrap();
            assert_eq!(counts.get(DeliveryStatus::Dead), 0, "{counts:?}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never settled: {:?}\n{}",
            store.counts_by_status().await.unwrap(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

type Item = (String, String, String, usize);

/// What a reader of the repository sees: each debt issue's title, state,
/// item marker and number of comments, and the number of dashboards.
fn state(fake: &FakeGitHub) -> (Vec<Item>, usize) {
    let issues = fake.repo(REPO).issues();
    let mut items: Vec<Item> = issues
        .iter()
        .filter_map(|i| {
            let body = i.body.as_deref().unwrap_or_default();
            let start = body.find("<!-- paydown:item")?;
            let marker = body[start..].split("-->").next()?.to_string();
            let comments = fake.take_comments(REPO, i.number).len();
            Some((i.title.clone(), i.state.clone(), marker, comments))
        })
        .collect();
    items.sort();
    let dashboards = issues
        .iter()
        .filter(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:dashboard")
        })
        .count();
    (items, dashboards)
}

/// The three pushes: one adds an item, one removes one, one edits one.
const PUSHES: [&str; 3] = [
    "// TODO: alpha\n// TODO: beta\n// FIXME: gamma\n",
    "// TODO: beta\n// FIXME: gamma\n",
    "// TODO: beta, now with more words\n// FIXME: gamma\n",
];

/// Installs the App on a repository with two items, then makes the three
/// pushes, with the server down during them when `down`. Returns the
/// final state and the fake (for its delivery log).
async fn scenario(down: bool) -> ((Vec<Item>, usize), FakeGitHub) {
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    let mut head = repo.set_files("main", &[("src/lib.rs", "// TODO: alpha\n// TODO: beta\n")]);
    let dir = tempfile::tempdir().unwrap();
    let db_url = sqlite_url(dir.path());
    let port = support::free_port();
    fake.set_webhook(&format!("http://127.0.0.1:{port}/webhook"), SECRET);
    let log1 = dir.path().join("serve-1.log");
    let mut server = start(&fake, &db_url, port, &log1).await;
    let store = Store::connect(&db_url).await.unwrap();

    // Given the App installed and its backfill done,
    let install = fake
        .deliver(
            "installation",
            &serde_json::json!({
                "action": "created",
                "installation": {"id": 1, "account": {"login": "octo-org", "type": "Organization"}},
                "sender": {"login": "alice"}
            }),
        )
        .await;
    assert!(install.succeeded(), "{install:?}");
    settled(&store, std::slice::from_ref(&install.guid), &log1).await;
    assert_eq!(state(&fake).0.len(), 2);

    // when the server goes down (killed, as in a crash),
    if down {
        server.kill().unwrap();
        server.wait().unwrap();
    }
    // and three pushes happen,
    let mut guids = Vec::new();
    for files in PUSHES {
        let before = head.clone();
        head = repo.set_files("main", &[("src/lib.rs", files)]);
        let payload = fake.push_payload(REPO, "main", &before, "alice");
        let attempt = fake.deliver("push", &payload).await;
        // GitHub could not deliver them while the server was down.
        assert_eq!(attempt.succeeded(), !down, "{attempt:?}");
        if !down {
            settled(&store, std::slice::from_ref(&attempt.guid), &log1).await;
        }
        guids.push(attempt.guid);
    }

    // then once the server is back, the missed pushes are recovered and
    // handled, and the repository ends as if it had been up.
    let log2 = dir.path().join("serve-2.log");
    if down {
        server = start(&fake, &db_url, port, &log2).await;
    }
    settled(&store, &guids, if down { &log2 } else { &log1 }).await;
    let end = state(&fake);
    server.kill().unwrap();
    server.wait().unwrap();
    (end, fake)
}

#[tokio::test]
async fn pushes_missed_while_down_are_recovered_at_start_and_end_as_if_it_had_been_up() {
    let (up, up_fake) = scenario(false).await;
    let (recovered, fake) = scenario(true).await;

    // The reference run: gamma added, alpha closed, beta's edit (a new
    // text, so a new item) open in place of the old beta.
    let open: Vec<&str> =
        up.0.iter()
            .filter(|(_, s, _, _)| s == "open")
            .map(|(t, _, _, _)| t.as_str())
            .collect();
    assert_eq!(
        open,
        ["FIXME: gamma", "TODO: beta, now with more words"],
        "{up:?}"
    );
    assert_eq!((up.0.len(), up.1), (4, 1), "{up:?}");
    assert_eq!(recovered, up);

    // Each missed push was asked for once and delivered once: three
    // failed first attempts, then three redeliveries that got through.
    let log = fake.hook_deliveries();
    let pushes: Vec<_> = log.iter().filter(|d| d.event == "push").collect();
    let failed = pushes.iter().filter(|d| !d.redelivery && !d.succeeded());
    let redelivered: Vec<_> = pushes.iter().filter(|d| d.redelivery).collect();
    assert_eq!(failed.count(), 3, "{pushes:#?}");
    assert_eq!(redelivered.len(), 3, "{pushes:#?}");
    assert!(redelivered.iter().all(|d| d.succeeded()), "{pushes:#?}");
    // The reference run never needed a redelivery.
    assert!(up_fake.hook_deliveries().iter().all(|d| !d.redelivery));
    let asked = fake.requests_matching("POST", "/app/hook/deliveries/");
    assert_eq!(asked.len(), 3);
    assert!(
        asked
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer <redacted>"))
    );
}
