//! Pushes reconciled incrementally by the App: signed `push` webhooks
//! through the real router, workers and SQLite store, the real App client,
//! and the fake GitHub's request log and issues checked afterwards. The
//! first push of a repository is a full sync that leaves a state in the
//! store; a push starting at that commit reads only what it changed.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_github::{FakeGitHub, RecordedRequest};
use paydown_server::Server;
use paydown_server::handlers::GitHubHandler;
use paydown_server::store::Store;
use support::{
    REPO, TestApp, ZEROS, dashboards, db_url, debt_issues, github_app, post_webhook, server_options,
};

/// `files` source files holding `per_file` items each; the first
/// `edited` items' text changed.
fn tree(files: usize, per_file: usize, edited: usize) -> Vec<(String, String)> {
    (0..files)
        .map(|f| {
            let body: String = (0..per_file)
                .map(|i| {
                    let item = f * per_file + i;
                    let suffix = if item < edited { " (edited)" } else { "" };
                    format!("fn f{i}() {{}}\n// TODO: debt item {item}{suffix}\n")
                })
                .collect();
            (format!("src/m{f}.rs"), body)
        })
        .collect()
}

fn set_tree(fake: &FakeGitHub, files: &[(String, String)]) -> String {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    fake.repo(REPO).set_files("main", &refs)
}

/// The requests a push made to the repository, without the App's token
/// exchange (the sprint-budget dashboard sections read the App's cache
/// and cost none).
fn sync_requests(fake: &FakeGitHub) -> Vec<RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| !r.path.starts_with("/app/"))
        .collect()
}

/// Requests that change something on GitHub: the GraphQL blob query is a
/// POST but reads.
fn writes(fake: &FakeGitHub) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.is_write() && r.path != "/graphql")
        .count()
}

fn describe(requests: &[RecordedRequest]) -> String {
    requests
        .iter()
        .map(|r| {
            format!(
                "{} {}{}",
                r.method,
                r.path,
                r.query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Given a repository synced once by a first push, returns the sha the
/// state is at.
async fn first_push(fake: &FakeGitHub, app: &TestApp, files: &[(String, String)]) -> String {
    let sha = set_tree(fake, files);
    let push = fake.push_payload(REPO, "main", ZEROS, "alice");
    app.post("push", "push-first", &push).await;
    app.settle().await;
    sha
}

#[tokio::test]
async fn a_push_changing_k_items_costs_at_most_k_plus_3_requests_and_redeliveries_write_nothing() {
    // Given a repository of 200 items in 20 files, synced once,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_at(&fake, &db_url(&dir), Duration::from_secs(30)).await;
    let before = first_push(&fake, &app, &tree(20, 10, 0)).await;
    assert_eq!(debt_issues(&fake).len(), 200);
    let dashboard = dashboards(&fake);
    assert_eq!(dashboard.len(), 1);
    assert!(dashboard[0].pinned, "the dashboard is pinned on creation");

    // and, a few seconds later (more than the listing's clock-skew margin),
    // a push adding a file without debt (its `since` listing pages through
    // the 200 issues the first sync created: a one-off),
    tokio::time::sleep(
        (paydown_sync::LISTING_MARGIN + chrono::Duration::seconds(1))
            .to_std()
            .unwrap(),
    )
    .await;
    let mut warm = tree(20, 10, 0);
    warm.push(("README.md".into(), "# octo-repo\n".into()));
    let warmed = set_tree(&fake, &warm);
    fake.clear_requests();
    let push = fake.push_payload(REPO, "main", &before, "alice");
    app.post("push", "push-readme", &push).await;
    app.settle().await;
    // (which changes no issue, and not the dashboard either),
    assert_eq!(writes(&fake), 0, "{}", describe(&fake.requests()));

    // when a push edits k = 3 items (in 1 file),
    fake.clear_requests();
    let mut edited = tree(20, 10, 3);
    edited.push(("README.md".into(), "# octo-repo\n".into()));
    set_tree(&fake, &edited);
    let push = fake.push_payload(REPO, "main", &warmed, "alice");
    app.post("push", "push-k", &push).await;
    app.settle().await;

    // then the sync read a compare, one GraphQL batch of file texts and
    // one `since` listing, and wrote the 3 issues and the dashboard: k + 3
    // reads and writes for the items, plus the dashboard whose list changed.
    let requests = sync_requests(&fake);
    let log = describe(&requests);
    let k = 3;
    let dashboard_writes = requests
        .iter()
        .filter(|r| {
            r.method == "PATCH"
                && r.path
                    .ends_with(&format!("/issues/{}", dashboard[0].number))
        })
        .count();
    assert!(
        requests.len() <= k + 3 + dashboard_writes,
        "{} requests:\n{log}",
        requests.len()
    );
    assert!(
        log.contains("GET /repos/octo-org/octo-repo/compare/"),
        "{log}"
    );
    assert!(log.contains("POST /graphql"), "{log}");
    assert!(!log.contains("/tarball/"), "no tarball:\n{log}");
    assert!(log.contains("since="), "{log}");
    let edited: Vec<_> = debt_issues(&fake)
        .into_iter()
        .filter(|i| i.title.contains("(edited)"))
        .collect();
    assert_eq!(edited.len(), k);
    let all = fake.requests();
    println!(
        "incremental push, k = {k}: {} requests\n{log}\nall {} requests (with the token exchange):\n{}",
        requests.len(),
        all.len(),
        describe(&all)
    );

    // and the same push delivered 3 more times writes nothing.
    fake.clear_requests();
    for n in 0..3 {
        app.post("push", &format!("push-k-again-{n}"), &push).await;
    }
    app.settle().await;
    assert_eq!(fake.count_writes(), 0, "{}", describe(&fake.requests()));
    assert_eq!(debt_issues(&fake).len(), 200);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_config_change_in_a_push_takes_effect_on_that_push() {
    // Given a synced repository with a NOTE comment that is not (yet) a keyword,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_at(&fake, &db_url(&dir), Duration::from_secs(30)).await;
    let mut files = tree(2, 2, 0);
    files.push(("src/notes.rs".into(), "// NOTE: revisit the cache\n".into()));
    let before = first_push(&fake, &app, &files).await;
    assert_eq!(debt_issues(&fake).len(), 4);

    // when a push adds NOTE to the keywords in .github/paydown.yml,
    files.push((
        ".github/paydown.yml".into(),
        "annotations:\n  keywords: [TODO, NOTE]\n".into(),
    ));
    set_tree(&fake, &files);
    fake.clear_requests();
    let push = fake.push_payload(REPO, "main", &before, "alice");
    app.post("push", "push-config", &push).await;
    app.settle().await;

    // then the NOTE already in an unchanged file has its issue now.
    let issues = debt_issues(&fake);
    assert_eq!(issues.len(), 5, "{issues:#?}");
    assert!(issues.iter().any(|i| i.title == "NOTE: revisit the cache"));
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unknown_before_builds_on_the_synced_commit_and_a_force_push_runs_a_full_sync() {
    // Given a synced repository,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_at(&fake, &db_url(&dir), Duration::from_secs(30)).await;
    let base = fake.repo(REPO).head("main");
    let first = first_push(&fake, &app, &tree(3, 2, 0)).await;
    let mut older = fake.push_payload(REPO, "main", ZEROS, "alice");
    older["after"] = serde_json::json!(first);

    // when a push arrives whose `before` is not the synced commit but
    // whose head descends from it (a push paydown never saw, or an older
    // push retried after newer ones),
    set_tree(&fake, &tree(3, 2, 1));
    let mut push = fake.push_payload(REPO, "main", ZEROS, "alice");
    push["before"] = serde_json::json!("1111111111111111111111111111111111111111");
    fake.clear_requests();
    app.post("push", "push-unknown-before", &push).await;
    app.settle().await;

    // then the branch's current head is reconciled from the synced commit
    // (no tarball), and the edit landed;
    let log = describe(&fake.requests());
    assert!(log.contains("/compare/"), "{log}");
    assert!(!log.contains("/tarball/"), "{log}");
    assert!(
        debt_issues(&fake)
            .iter()
            .any(|i| i.title == "TODO: debt item 0 (edited)")
    );

    // and the first push, retried late (a new delivery of the older
    // commit), rolls nothing back: the current head is already synced;
    fake.clear_requests();
    app.post("push", "push-first-retried", &older).await;
    app.settle().await;
    assert_eq!(fake.count_writes(), 0, "{}", describe(&fake.requests()));
    assert!(
        debt_issues(&fake)
            .iter()
            .any(|i| i.title == "TODO: debt item 0 (edited)" && i.state == "open")
    );

    // and when history is rewritten (main reset behind the synced commit,
    // then a different tree pushed with force),
    if let Some(base) = base {
        fake.repo(REPO).set_branch("main", &base);
    }
    set_tree(&fake, &tree(3, 2, 2));
    let mut push = fake.push_payload(REPO, "main", ZEROS, "alice");
    push["forced"] = serde_json::json!(true);
    fake.clear_requests();
    app.post("push", "push-forced", &push).await;
    app.settle().await;

    // then the whole tree is read from one tarball, and the edits landed.
    let log = describe(&fake.requests());
    assert!(log.contains("/tarball/"), "{log}");
    assert!(
        debt_issues(&fake)
            .iter()
            .any(|i| i.title == "TODO: debt item 1 (edited)")
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_person_closing_an_issue_between_pushes_is_seen_through_the_since_listing() {
    // Given a synced repository of two files,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_at(&fake, &db_url(&dir), Duration::from_secs(30)).await;
    let files = tree(2, 2, 0);
    let before = first_push(&fake, &app, &files).await;
    // and a person closing item 3's issue (in src/m1.rs) as not planned,
    let closed = debt_issues(&fake)
        .into_iter()
        .find(|i| i.title == "TODO: debt item 3")
        .unwrap()
        .number;
    fake.repo(REPO).edit_issue(closed, |i| {
        i.state = "closed".into();
        i.state_reason = Some("not_planned".into());
        i.updated_at = chrono::Utc::now();
        i.closed_at = Some(chrono::Utc::now());
    });

    // when a push changes only the other file,
    let mut next = files.clone();
    next[0].1.push_str("// FIXME: a new item\n");
    set_tree(&fake, &next);
    fake.clear_requests();
    let push = fake.push_payload(REPO, "main", &before, "alice");
    app.post("push", "push-after-close", &push).await;
    app.settle().await;

    // then the closed issue stays closed and is marked debt:wontfix, and
    // the push was still incremental.
    let issue = fake.repo(REPO).issue(closed).unwrap();
    assert_eq!(issue.state, "closed");
    assert!(
        issue.labels.iter().any(|l| l == "debt:wontfix"),
        "{:?}",
        issue.labels
    );
    let log = describe(&fake.requests());
    assert!(!log.contains("/tarball/"), "{log}");
    assert!(
        debt_issues(&fake)
            .iter()
            .any(|i| i.title == "FIXME: a new item")
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_gateways_then_a_secondary_rate_limit_during_a_reconcile_are_waited_out() {
    // Given a synced repository,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_at(&fake, &db_url(&dir), Duration::from_secs(30)).await;
    let before = first_push(&fake, &app, &tree(2, 2, 0)).await;

    // and GitHub answering the next compare with 502 three times, then a
    // secondary rate limit asking to wait 1 s,
    let compare = "/repos/octo-org/octo-repo/compare/";
    fake.fail_next_on("GET", compare, 3, 502);
    fake.secondary_rate_limit_next_on("GET", compare, 1, 1);

    // when a push editing one item is reconciled,
    set_tree(&fake, &tree(2, 2, 1));
    fake.clear_requests();
    let started = Instant::now();
    let push = fake.push_payload(REPO, "main", &before, "alice");
    app.post("push", "push-flaky", &push).await;
    app.settle().await;

    // then it completed, after waiting the second GitHub asked for, with
    // the compare asked five times and the edit applied once.
    assert!(started.elapsed() >= Duration::from_secs(1));
    let compares = fake.requests_matching("GET", compare);
    let statuses: Vec<Option<u16>> = compares.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [Some(502), Some(502), Some(502), Some(403), Some(200)]
    );
    let edited: Vec<_> = debt_issues(&fake)
        .into_iter()
        .filter(|i| i.title.contains("(edited)"))
        .collect();
    assert_eq!(edited.len(), 1);
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn creates_github_refuses_for_a_while_are_retried_incrementally_without_duplicates() {
    // Given a synced repository,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_at(&fake, &db_url(&dir), Duration::from_secs(30)).await;
    let mut files = tree(2, 2, 0);
    let before = first_push(&fake, &app, &files).await;

    // and a push adding three items while GitHub answers the first issue
    // create with 502 past the client's own retries,
    let added: String = (0..3).map(|i| format!("// TODO: added {i}\n")).collect();
    files.push(("src/added.rs".into(), added));
    set_tree(&fake, &files);
    fake.fail_next_on("POST", "/repos/octo-org/octo-repo/issues", 6, 502);
    fake.clear_requests();
    let push = fake.push_payload(REPO, "main", &before, "alice");

    // when it is delivered and the queue retries it,
    app.post("push", "push-refused", &push).await;
    app.settle().await;

    // then every item has exactly one issue,
    let issues = debt_issues(&fake);
    let mut titles: Vec<&str> = issues.iter().map(|i| i.title.as_str()).collect();
    titles.sort_unstable();
    let listed = titles.len();
    titles.dedup();
    assert_eq!((listed, titles.len()), (7, 7), "{titles:?}");
    // and the retry built on the kept state: no tarball was downloaded.
    let log = describe(&fake.requests());
    assert!(!log.contains("/tarball/"), "{log}");
    assert!(log.matches("/compare/").count() >= 2, "{log}");
    app.server.shutdown().await.unwrap();
}

/// A server on a runtime of its own, stopped the way a crash stops it: the
/// runtime is torn down with every task dropped at whatever `.await` it was
/// in, nothing flushed or finished.
struct Crashable {
    base: String,
    crash: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

fn start_crashable(fake: &FakeGitHub, url: &str, lease: Duration) -> Crashable {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (crash_tx, crash_rx) = std::sync::mpsc::channel::<()>();
    let app = github_app(fake);
    let url = url.to_string();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(async {
            let store = Store::connect(&url).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            Server::start(
                listener,
                store.clone(),
                Arc::new(GitHubHandler::new(app.clone(), store)),
                Some(app.stats()),
                server_options(lease),
            )
            .unwrap()
        });
        ready_tx
            .send(format!("http://{}", server.local_addr()))
            .unwrap();
        let _ = crash_rx.recv();
        rt.shutdown_background();
        // No orderly shutdown of anything the server held.
        std::mem::forget(server);
    });
    Crashable {
        base: ready_rx.recv().unwrap(),
        crash: crash_tx,
        thread,
    }
}

#[tokio::test]
async fn a_worker_killed_half_way_through_applying_a_plan_leaves_no_duplicate_after_restart() {
    // Given a repository synced once by a server that is then replaced by
    // one that can crash,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = db_url(&dir);
    let lease = Duration::from_secs(2);
    let app = TestApp::start_at(&fake, &url, lease).await;
    let mut files = tree(2, 2, 0);
    let before = first_push(&fake, &app, &files).await;
    app.server.shutdown().await.unwrap();
    let crashable = start_crashable(&fake, &url, lease);

    // and a push adding 8 items while GitHub is slow to create issues,
    let added: String = (0..8).map(|i| format!("// TODO: new item {i}\n")).collect();
    files.push(("src/new.rs".into(), added));
    set_tree(&fake, &files);
    let creates = "/repos/octo-org/octo-repo/issues";
    fake.delay_all(creates, Duration::from_millis(300));
    fake.clear_requests();
    let push = fake.push_payload(REPO, "main", &before, "alice");
    post_webhook(&crashable.base, "push", "push-crash", &push).await;

    // when the server dies after 3 of them were created,
    let deadline = Instant::now() + Duration::from_secs(30);
    while fake
        .requests_matching("POST", creates)
        .iter()
        .filter(|r| r.path == creates && r.status == Some(201))
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "creates never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    crashable.crash.send(()).unwrap();
    crashable.thread.join().unwrap();
    let created_before_crash = debt_issues(&fake).len() - 4;
    assert!(
        (3..8).contains(&created_before_crash),
        "the crash came half-way: {created_before_crash} of 8 created"
    );

    // and a new server takes the delivery over once its lease expired,
    fake.clear_faults();
    fake.clear_requests();
    let restarted = TestApp::start_at(&fake, &url, lease).await;
    restarted.settle().await;

    // then every item has exactly one issue, and there is one dashboard.
    let issues = debt_issues(&fake);
    let mut titles: Vec<&str> = issues.iter().map(|i| i.title.as_str()).collect();
    titles.sort_unstable();
    let before_dedup = titles.len();
    titles.dedup();
    assert_eq!(before_dedup, titles.len(), "duplicates: {titles:?}");
    assert_eq!(issues.len(), 12, "{titles:?}");
    assert!(issues.iter().all(|i| i.state == "open"), "{issues:#?}");
    assert_eq!(dashboards(&fake).len(), 1);
    // and the retried delivery was still incremental: the kept state was
    // not advanced by the crashed run, the `since` listing found its issues.
    let log = describe(&fake.requests());
    assert!(!log.contains("/tarball/"), "{log}");
    assert!(log.contains("since="), "{log}");
    restarted.server.shutdown().await.unwrap();
}
