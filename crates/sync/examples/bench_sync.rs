//! Benchmark: reconcile N debt items against the fake GitHub, then a push
//! that changes k of them — as a full sync (one tarball, every issue
//! listed) and incrementally from a kept state (compare, one GraphQL
//! batch, one `since` listing) — and report wall time and GitHub API
//! requests.
//!
//! `cargo run --release -p paydown-sync --example bench_sync -- [N] [k]`
//! (defaults: 10000 and 5). Not a test: figures go in closing notes.

use std::time::Instant;

use chrono::NaiveDate;
use fake_github::FakeGitHub;
use paydown_github::{Client, ClientOptions, Repo};
use paydown_sync::fetch::Head;
use paydown_sync::{SyncOptions, sync_push, sync_repository};

const TOKEN: &str = "ghp_bench";
const REPO: &str = "octo-org/octo-repo";
/// The largest pacing the config allows.
const CONFIG: &str = "issues:\n  max_new_per_run: 1000\n";

fn files(n: usize, changed: usize) -> Vec<(String, String)> {
    files_edited(n, changed, " (edited)")
}

fn files_edited(n: usize, changed: usize, edit: &str) -> Vec<(String, String)> {
    // 100 items per file, like a large codebase with dense debt.
    (0..n.div_ceil(100))
        .map(|f| {
            let body: String = (0..100.min(n - f * 100))
                .map(|i| {
                    let item = f * 100 + i;
                    let edited = if item < changed { edit } else { "" };
                    format!("fn f{i}() {{}}\n// TODO: debt item {item}{edited}\n")
                })
                .collect();
            (format!("src/m{f}.rs"), body)
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let k: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    fake.allow_unasserted_comments();
    // The fake enforces GitHub's 5,000 requests an hour. Each paced run
    // (1,000 creates) fits in one hour's budget; the budget is refilled
    // between runs as if an hour had passed, so this measures our speed.
    let new_hour = || fake.set_rate_limit(5000, std::time::Duration::from_secs(3600));
    let handle = fake.repo(REPO);
    let mut tree = files(n, 0);
    tree.push((".github/paydown.yml".into(), CONFIG.to_string()));
    let refs: Vec<(&str, &str)> = tree.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    handle.set_files("main", &refs);
    let client = Client::from_token_with_options(&fake.url(), TOKEN, ClientOptions::default())
        .expect("client");
    let repo = Repo::parse(REPO).expect("repo");
    let options = SyncOptions {
        html_base: "https://github.com".into(),
        today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        ..SyncOptions::for_api(&fake.url())
    };

    let started = Instant::now();
    let (mut runs, mut created) = (0, 0);
    loop {
        new_hour();
        let outcome = sync_repository(&client, &repo, &options)
            .await
            .expect("first sync");
        assert!(
            outcome.config_errors.is_empty(),
            "{:?}",
            outcome.config_errors
        );
        runs += 1;
        created += outcome.applied.as_ref().map_or(0, |a| a.created.len());
        if outcome.plan.deferred_creates == 0 {
            break;
        }
    }
    println!(
        "first import of {n} items: {:.2} s in {runs} paced runs, {created} issues created, {} API requests",
        started.elapsed().as_secs_f64(),
        fake.requests().len(),
    );

    new_hour();
    fake.clear_requests();
    let started = Instant::now();
    let idle = sync_repository(&client, &repo, &options)
        .await
        .expect("idle sync");
    println!(
        "unchanged re-sync: {:.2} s, {} effects, {} API requests ({} writes)",
        started.elapsed().as_secs_f64(),
        idle.plan.effects.len(),
        fake.requests().len(),
        fake.count_writes(),
    );

    let mut tree = files(n, k);
    tree.push((".github/paydown.yml".into(), CONFIG.to_string()));
    let refs: Vec<(&str, &str)> = tree.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let synced_sha = handle.set_files("main", &refs);
    new_hour();
    fake.clear_requests();
    let started = Instant::now();
    let push = sync_repository(&client, &repo, &options)
        .await
        .expect("push sync");
    println!(
        "push editing k={k} items: {:.2} s, {} effects, {} API requests ({} writes)",
        started.elapsed().as_secs_f64(),
        push.plan.effects.len(),
        fake.requests().len(),
        fake.count_writes(),
    );

    // The App keeps a state after each run. Its `since` listing starts a
    // few seconds before the run that wrote it (clock skew); wait that out
    // so the issues the import wrote are not listed again, as between real
    // pushes minutes apart.
    let margin = (paydown_sync::LISTING_MARGIN + chrono::Duration::seconds(1))
        .to_std()
        .expect("margin");
    tokio::time::sleep(margin).await;
    let head = |sha: &str| Head {
        branch: "main".into(),
        sha: sha.to_string(),
    };
    let at = |sha: &str| SyncOptions {
        head: Some(head(sha)),
        ..options.clone()
    };
    new_hour();
    fake.clear_requests();
    let started = Instant::now();
    let kept = sync_push(&client, &repo, &at(&synced_sha), None, None)
        .await
        .expect("state sync");
    let elapsed = started.elapsed();
    let requests = fake.requests().len();
    // What the App pays to keep the state: serialise it after a run,
    // read it back before the next.
    let started = Instant::now();
    let json = kept.state.to_json();
    let written = started.elapsed();
    let started = Instant::now();
    let read = paydown_sync::SyncState::from_json(&json).expect("state reads back");
    let parsed = started.elapsed();
    assert_eq!(read, kept.state);
    println!(
        "full sync keeping a state (no state yet): {:.2} s, {requests} API requests; state {} KiB of JSON, {:.0} ms to write, {:.0} ms to read",
        elapsed.as_secs_f64(),
        json.len() / 1024,
        written.as_secs_f64() * 1000.0,
        parsed.as_secs_f64() * 1000.0,
    );

    let mut tree = files_edited(n, k, " (edited again)");
    tree.push((".github/paydown.yml".into(), CONFIG.to_string()));
    let refs: Vec<(&str, &str)> = tree.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let pushed_sha = handle.set_files("main", &refs);
    new_hour();
    fake.clear_requests();
    let started = Instant::now();
    let push = sync_push(
        &client,
        &repo,
        &at(&pushed_sha),
        Some(kept.state),
        Some(&synced_sha),
    )
    .await
    .expect("incremental push");
    println!(
        "incremental push editing k={k} items ({:?}): {:.2} s, {} effects, {} API requests ({} writes, {} to the dashboard)",
        push.mode,
        started.elapsed().as_secs_f64(),
        push.outcome.plan.effects.len(),
        fake.requests().len(),
        // The GraphQL POST is a read.
        fake.requests()
            .iter()
            .filter(|r| r.is_write() && r.path != "/graphql")
            .count(),
        usize::from(matches!(
            push.outcome.dashboard,
            paydown_sync::DashboardWrite::Updated { .. }
        )),
    );
    for request in fake.requests() {
        println!("  {} {}", request.method, request.path);
    }

    fake.clear_requests();
    let started = Instant::now();
    let again = sync_push(
        &client,
        &repo,
        &at(&pushed_sha),
        Some(push.state),
        Some(&synced_sha),
    )
    .await
    .expect("redelivered push");
    println!(
        "the same push redelivered ({:?}): {:.3} s, {} API requests ({} writes)",
        again.mode,
        started.elapsed().as_secs_f64(),
        fake.requests().len(),
        fake.count_writes(),
    );
}
