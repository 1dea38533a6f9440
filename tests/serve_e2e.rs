//! `paydown serve` as a real process: a delivery in progress when the
//! process is SIGKILLed is retaken after restart (lease expiry) and
//! completes exactly once; a process SIGKILLed half-way through creating a
//! repository's debt issues leaves no duplicate once restarted; redeliveries
//! and forged signatures are refused.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fake_github::{FakeGitHub, send_webhook, sign_webhook};
use paydown_server::store::{DeliveryStatus, Store};

const SECRET: &str = "e2e-webhook-secret";

fn spawn_serve(fake: &FakeGitHub, db_url: &str, port: u16, log: &Path) -> Child {
    support::spawn_serve(
        fake,
        SECRET,
        db_url,
        port,
        log,
        &[("PAYDOWN_WORKERS", "2"), ("PAYDOWN_LEASE_SECONDS", "2")],
    )
}

/// A `paydown serve` process that answered its health check.
struct Served {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Served {
    fn webhook(&self) -> String {
        format!("http://127.0.0.1:{}/webhook", self.port)
    }
}

/// Starts `paydown serve` on a free port against `db_url`, logging to `log`.
async fn serve(fake: &FakeGitHub, db_url: &str, log: PathBuf) -> Served {
    let port = support::free_port();
    let mut child = spawn_serve(fake, db_url, port, &log);
    support::wait_healthy(port, &mut child, &log).await;
    Served { child, port, log }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("paydown.sqlite").display())
}

async fn wait_for(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn installation_created() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "type": "Organization"}},
        "sender": {"login": "alice"}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_delivery_interrupted_by_sigkill_completes_exactly_once_after_restart() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = sqlite_url(dir.path());
    let mut first = serve(&fake, &db_url, dir.path().join("serve-1.log")).await;
    let webhook = first.webhook();

    // Given GitHub is slow to list the installation's repositories,
    fake.delay_next("/installation/repositories", Duration::from_secs(20));
    // when an `installation created` delivery arrives,
    let resp = send_webhook(
        &webhook,
        SECRET,
        "installation",
        "kill-1",
        &installation_created(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    // and the process is SIGKILLed while the handler waits on GitHub,
    wait_for("the repositories request", async || {
        !fake
            .requests_matching("GET", "/installation/repositories")
            .is_empty()
    })
    .await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    // then the delivery is still held by the dead process's lease,
    let store = Store::connect(&db_url).await.unwrap();
    let rec = store.delivery("kill-1").await.unwrap().unwrap();
    assert_eq!(rec.status, DeliveryStatus::Running);

    // and a restarted server retakes it once the lease expires and finishes it.
    let mut second = serve(&fake, &db_url, dir.path().join("serve-2.log")).await;
    wait_for("the delivery to complete", async || {
        store.delivery("kill-1").await.unwrap().unwrap().status == DeliveryStatus::Done
    })
    .await;
    let repos: Vec<String> = store
        .installation_repos(1)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.full_name)
        .collect();
    assert_eq!(repos, vec!["octo-org/octo-repo"]);
    assert_eq!(store.installations().await.unwrap().len(), 1);

    // A redelivery of the same id is acknowledged but not processed again.
    let webhook = second.webhook();
    let resp = send_webhook(
        &webhook,
        SECRET,
        "installation",
        "kill-1",
        &installation_created(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );

    // A forged delivery is refused and leaves no trace.
    let body = installation_created();
    let resp = reqwest::Client::new()
        .post(&webhook)
        .header("x-github-event", "installation")
        .header("x-github-delivery", "forged-1")
        .header("x-hub-signature-256", sign_webhook("wrong-secret", &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(store.delivery("forged-1").await.unwrap().is_none());

    // After more than a lease period, GitHub was asked exactly twice: the
    // interrupted attempt and the one that completed; nothing ran a third time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        fake.requests_matching("GET", "/installation/repositories")
            .len(),
        2
    );
    assert_eq!(
        store.delivery("kill-1").await.unwrap().unwrap().status,
        DeliveryStatus::Done
    );

    // SIGTERM stops the server gracefully.
    let pid = second.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = second.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "paydown serve ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        exit.success(),
        "exit {exit}:\n{}",
        std::fs::read_to_string(&second.log).unwrap_or_default()
    );
}

/// The issues of the default repository whose body carries `marker`.
fn issues_marked(fake: &FakeGitHub, marker: &str) -> Vec<fake_github::Issue> {
    fake.default_repo()
        .issues()
        .into_iter()
        .filter(|i| i.body.as_deref().unwrap_or_default().contains(marker))
        .collect()
}

#[tokio::test]
async fn a_process_sigkilled_half_way_through_a_plan_leaves_no_duplicate_after_restart() {
    // Given a repository with 8 debt items and no issues yet,
    let fake = FakeGitHub::start().await;
    let items: String = (0..8).map(|i| format!("// TODO: item {i}\n")).collect();
    fake.default_repo()
        .set_files("main", &[("src/debt.rs", &items)]);
    let dir = tempfile::tempdir().unwrap();
    let db_url = sqlite_url(dir.path());
    let mut first = serve(&fake, &db_url, dir.path().join("serve-1.log")).await;

    // and GitHub slow to create issues,
    let creates = "/repos/octo-org/octo-repo/issues";
    fake.delay_all(creates, Duration::from_millis(300));

    // when the App is installed, its backfill starts creating them,
    let webhook = first.webhook();
    let resp = send_webhook(
        &webhook,
        SECRET,
        "installation",
        "kill-plan-1",
        &installation_created(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    wait_for("three issues created", async || {
        fake.requests_matching("POST", creates)
            .iter()
            .filter(|r| r.path == creates && r.status == Some(201))
            .count()
            >= 3
    })
    .await;
    // and the process is SIGKILLed in the middle of the plan,
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let created_before_kill = issues_marked(&fake, "paydown:item").len();
    assert!(
        (3..8).contains(&created_before_kill),
        "the kill came half-way: {created_before_kill} of 8 created"
    );

    // then a restarted process finishes the plan once the lease expired,
    fake.clear_faults();
    let mut second = serve(&fake, &db_url, dir.path().join("serve-2.log")).await;
    wait_for("every item to have an issue and a dashboard", async || {
        issues_marked(&fake, "paydown:item").len() >= 8
            && issues_marked(&fake, "paydown:dashboard").len() == 1
    })
    .await;
    // and, a lease period later, nothing ran again: one issue per item.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let issues = issues_marked(&fake, "paydown:item");
    let mut titles: Vec<&str> = issues.iter().map(|i| i.title.as_str()).collect();
    titles.sort_unstable();
    titles.dedup();
    assert_eq!(titles.len(), 8, "{titles:?}");
    assert_eq!(issues.len(), 8, "duplicates: {issues:#?}");
    assert!(issues.iter().all(|i| i.state == "open"));
    assert_eq!(issues_marked(&fake, "paydown:dashboard").len(), 1);
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}
