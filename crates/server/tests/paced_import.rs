//! Paced imports (docs/reliability.md): a first install of a large
//! repository, through the real router, workers, store and App client,
//! against a fake GitHub that enforces GitHub's content-creation limits
//! (80 a minute, 500 an hour, no refill but time passing) on the same
//! simulated clock as the pacer and the queue, so the hours the import
//! takes pass in seconds.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_github::Clock;
use paydown_server::handlers::GitHubHandler;
use paydown_server::pacing::{Pacer, PacingLimits};
use paydown_server::store::{DeliveryStatus, Store};
use paydown_server::{Server, ServerOptions};
use support::{REPO, dashboards, db_url, debt_issues, github_app, post_webhook, server_options};

/// The App with write pacing on, its queue and pacer on `clock`.
async fn paced_app(fake: &FakeGitHub, url: &str, clock: &Clock) -> (Server, Store, String) {
    let store = Store::connect(url).await.unwrap();
    let github = github_app(fake);
    let pacer = Pacer::new(store.clone(), clock.clone(), PacingLimits::default());
    let handler = GitHubHandler::new(github.clone(), store.clone()).with_pacer(pacer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = ServerOptions {
        clock: clock.clone(),
        ..server_options(Duration::from_secs(30))
    };
    let server = Server::start(
        listener,
        store.clone(),
        Arc::new(handler),
        Some(github.stats()),
        options,
    )
    .unwrap();
    let base = format!("http://{}", server.local_addr());
    (server, store, base)
}

fn install_payload() -> serde_json::Value {
    serde_json::json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [{"id": 1, "name": "octo-repo", "full_name": REPO, "private": false}],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    })
}

/// Waits (in real time, bounded) until the queue has drained, none dead.
async fn drain(store: &Store, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let counts = store.counts_by_status().await.unwrap();
        assert_eq!(counts.get(DeliveryStatus::Dead), 0, "dead: {counts:?}");
        if store.queue_depth().await.unwrap() == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "import never finished: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1000_annotation_backfill_never_hits_the_secondary_limit() {
    // Given a repository with 1,000 annotations and the default
    // max_new_per_run (50), a fake GitHub enforcing 80 content writes a
    // minute and 500 an hour per installation, and one simulated clock
    // for the fake's limiter, the pacer and the queue,
    let fake = FakeGitHub::start().await;
    let code: String = (0..1000).map(|i| format!("// TODO: item {i}\n")).collect();
    fake.repo(REPO)
        .set_files("main", &[("a.rs", code.as_str())]);
    let clock = Clock::simulated(chrono::Utc::now());
    let shared = clock.clone();
    fake.set_clock(move || shared.now_ms());
    fake.limit_content_creation_like_github();
    let dir = tempfile::tempdir().unwrap();
    let (server, store, base) = paced_app(&fake, &db_url(&dir), &clock).await;

    // when the App is installed and the import runs to its end,
    let started_sim = clock.now_ms();
    let started = Instant::now();
    post_webhook(&base, "installation", "install-1", &install_payload()).await;
    drain(&store, Duration::from_secs(540)).await;
    let simulated = Duration::from_millis((clock.now_ms() - started_sim).unsigned_abs());

    // then every item has exactly one issue,
    let issues = debt_issues(&fake);
    let titles: std::collections::BTreeSet<&str> =
        issues.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(issues.len(), 1000);
    assert_eq!(titles.len(), 1000, "two issues for one item");
    // GitHub never had to push back: no secondary-limit answer, and no two
    // writes less than a second apart,
    let requests = fake.requests();
    assert_eq!(fake.secondary_limit_hits(), 0, "secondary-limit answers");
    assert!(
        requests.iter().all(|r| r.status != Some(403)),
        "a 403 was answered"
    );
    assert_eq!(fake.writes_under_a_second_apart(), 0);
    // which took more than an hour of (simulated) time, since 1,000
    // creates exceed one hour's 500,
    assert!(simulated > Duration::from_secs(3600), "{simulated:?}");
    // and while it ran, the dashboard said how far it was and when the
    // next batch would run.
    let progress = requests.iter().any(|r| {
        let body = r.json()["body"].as_str().unwrap_or_default().to_string();
        r.method != "GET"
            && body.contains("<!-- paydown:dashboard -->")
            && body.contains(" of 1,000 imported; next batch about ")
    });
    assert!(progress, "no dashboard write showed the import's progress");
    assert_eq!(dashboards(&fake).len(), 1);
    let content = fake.content_created();
    let tarball = format!("/repos/{REPO}/tarball/");
    let runs = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with(&tarball))
        .count();
    eprintln!(
        "paced backfill of 1,000 items in {runs} runs: {} API requests ({} writes, {content} content-creating), \
         {} secondary-limit hits, {:.2} h simulated ({simulated:?}), {:?} real",
        requests.len(),
        fake.count_writes(),
        fake.secondary_limit_hits(),
        simulated.as_secs_f64() / 3600.0,
        started.elapsed()
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pacing_the_fake_refuses_the_81st_create_of_a_minute() {
    // Given the same limits on a simulated clock, but an App without write
    // pacing and a repository importing 200 items in one run,
    let fake = FakeGitHub::start().await;
    let code: String = (0..200).map(|i| format!("// TODO: item {i}\n")).collect();
    fake.repo(REPO).set_files(
        "main",
        &[
            ("a.rs", code.as_str()),
            (".github/paydown.yml", "issues:\n  max_new_per_run: 200\n"),
        ],
    );
    let clock = Clock::simulated(chrono::Utc::now());
    let shared = clock.clone();
    fake.set_clock(move || shared.now_ms());
    fake.limit_content_creation_like_github();
    let app = support::TestApp::start(&fake).await;

    // when the App is installed,
    app.post("installation", "install-1", &install_payload())
        .await;

    // then GitHub pushes back once 80 issues were created within the
    // (simulated) minute: the limiter the paced import never meets is armed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.secondary_limit_hits() == 0 {
        assert!(Instant::now() < deadline, "the fake never refused a create");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(fake.content_created(), 80);
    app.server.shutdown().await.unwrap();
}
