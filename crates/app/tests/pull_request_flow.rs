//! `paydown_app::on_pull_request` with both record sources against the fake
//! GitHub: the App's cache (over an in-memory `RepoStateStore`) and the
//! API (the Action's) reach the same verdicts, and the cache remembers what
//! the API source cannot (drifting pull requests, abandoned ones).

use std::collections::BTreeMap;
use std::sync::Mutex;

use fake_github::{FakeGitHub, NewIssue};
use paydown_app::state::{RepoStateKey, RepoStatePrefix, RepoStateStore, StateError};
use paydown_app::{
    ApiRecords, CachedRecords, LedgerRecords, PullRequestInput, PullRequestOutcome, on_pull_request,
};
use paydown_events::{Event, PullRequestEvent, parse_event};
use paydown_github::{AppCredentials, Client, ClientOptions, GitHubApp, Repo};

const REPO: &str = "octo-org/octo-repo";
const CONFIG: &str = "sprints:\n  capacity_points: 20\n  debt_share: 0.3\n";

/// A `repo_state` table in memory: the App's store without the database.
#[derive(Default)]
struct MemoryState(Mutex<BTreeMap<(String, String), String>>);

impl MemoryState {
    fn keys(&self) -> Vec<String> {
        let map = self.0.lock().unwrap();
        map.keys().map(|(_, k)| k.clone()).collect()
    }
}

impl RepoStateStore for MemoryState {
    async fn get(&self, repo: &str, key: &RepoStateKey) -> Result<Option<String>, StateError> {
        let map = self.0.lock().unwrap();
        Ok(map.get(&(repo.to_string(), key.as_key())).cloned())
    }

    async fn put(&self, repo: &str, key: &RepoStateKey, value: &str) -> Result<(), StateError> {
        let mut map = self.0.lock().unwrap();
        map.insert((repo.to_string(), key.as_key()), value.to_string());
        Ok(())
    }

    async fn delete(&self, repo: &str, key: &RepoStateKey) -> Result<bool, StateError> {
        let mut map = self.0.lock().unwrap();
        Ok(map.remove(&(repo.to_string(), key.as_key())).is_some())
    }

    async fn list(
        &self,
        repo: &str,
        prefix: RepoStatePrefix,
    ) -> Result<Vec<(u64, String)>, StateError> {
        let map = self.0.lock().unwrap();
        Ok(map
            .iter()
            .filter(|((r, _), _)| r == repo)
            .filter_map(|((_, k), v)| Some((prefix.parse(k)?, v.clone())))
            .collect())
    }
}

async fn bot_client(fake: &FakeGitHub) -> Client {
    let creds =
        AppCredentials::from_pem(fake_github::APP_ID, fake_github::app_private_key_pem()).unwrap();
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap();
    app.installation_client(1).await.unwrap()
}

fn config() -> paydown_config::Config {
    paydown_config::parse(CONFIG, ".github/paydown.yml").unwrap()
}

/// Opens PR `branch` with `labels` on the fake; its number.
fn open_pr(fake: &FakeGitHub, branch: &str, labels: &[&str]) -> u64 {
    let handle = fake.repo(REPO);
    handle.set_files(branch, &[(&format!("src/{branch}.rs"), "fn f() {}\n")]);
    handle.add_pull_request(
        NewIssue::new(&format!("Work on {branch}")).labels(labels),
        branch,
    )
}

fn event(fake: &FakeGitHub, number: u64, action: &str) -> PullRequestEvent {
    let payload = fake.pull_request_payload(REPO, number, action, "alice", None);
    match parse_event("pull_request", payload.to_string().as_bytes()) {
        Ok(Event::PullRequest(ev)) => *ev,
        other => panic!("not a pull_request event: {other:?}"),
    }
}

async fn run<R: LedgerRecords>(
    fake: &FakeGitHub,
    client: &Client,
    ev: &PullRequestEvent,
    records: &R,
    dry_run: bool,
) -> PullRequestOutcome {
    let html_base = fake.url();
    let input = PullRequestInput {
        action: ev.action.clone(),
        pr: &ev.pull_request,
        dry_run,
        html_base: &html_base,
    };
    let repo = Repo::parse(REPO).unwrap();
    on_pull_request(client, &repo, &config(), input, records)
        .await
        .unwrap()
}

fn drifting(outcome: &PullRequestOutcome) -> Option<bool> {
    match outcome {
        PullRequestOutcome::Checked { drift, .. } => drift.verdict.as_ref().map(|v| v.drifting),
        _ => None,
    }
}

/// Given two merged 5-point feature PRs and a third one open in a sprint of
/// 20 points with 30 % reserved for debt (allowance 14): the open one.
fn two_merged_and_a_third_open(fake: &FakeGitHub) -> u64 {
    let handle = fake.repo(REPO);
    handle.set_files("main", &[(".github/paydown.yml", CONFIG)]);
    for branch in ["f1", "f2"] {
        let number = open_pr(fake, branch, &["feature", "points: 5"]);
        handle.merge_pull_request(number, "alice");
    }
    open_pr(fake, "f3", &["feature", "points: 5"])
}

/// The conclusion of the newest budget check run on PR `number`'s head.
fn last_budget_check(fake: &FakeGitHub, number: u64) -> Option<String> {
    let handle = fake.repo(REPO);
    let head = handle.issue(number).and_then(|i| i.pull)?.head_sha;
    handle
        .check_runs()
        .into_iter()
        .rfind(|c| c.name == paydown_budgets::CHECK_NAME && c.head_sha == head)
        .and_then(|c| c.conclusion)
}

#[tokio::test]
async fn the_cache_and_the_api_reach_the_same_verdict_and_only_the_cache_remembers_the_drift() {
    // Given the third feature PR opened past the allowance,
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let open = two_merged_and_a_third_open(&fake);
    let opened = event(&fake, open, "opened");

    // when the flow runs with the API's records (a dry run, as on a fork),
    let from_api = run(&fake, &client, &opened, &ApiRecords, true).await;
    // and with the App's cache,
    let state = MemoryState::default();
    let cache = CachedRecords::new(&state, REPO);
    let from_cache = run(&fake, &client, &opened, &cache, false).await;

    // then both find it drifting,
    assert_eq!(drifting(&from_api), Some(true));
    assert_eq!(drifting(&from_cache), Some(true));
    // the cache holds the three PRs, its seeding, and the drifting PR's head,
    let cached = cache.cached().await.unwrap();
    assert_eq!(cached.len(), 3, "{cached:?}");
    let heads = cache.drifting().await.unwrap();
    assert_eq!(heads.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [open]);
    assert!(state.keys().contains(&"budgets:seeded".to_string()));
    // the API source remembers nothing,
    assert!(ApiRecords.drifting().await.unwrap().is_empty());
    // and only the run that was not a dry run commented.
    assert_eq!(fake.take_comments(REPO, open).len(), 1);
}

/// Given [`two_merged_and_a_third_open`], the third PR's `opened` run
/// through the App's cache: its drift comment (taken) and neutral check.
async fn drifting_in_cache(
    fake: &FakeGitHub,
    client: &Client,
    cache: &CachedRecords<'_, MemoryState>,
) -> u64 {
    let open = two_merged_and_a_third_open(fake);
    run(fake, client, &event(fake, open, "opened"), cache, false).await;
    assert_eq!(last_budget_check(fake, open).as_deref(), Some("neutral"));
    assert_eq!(fake.take_comments(REPO, open).len(), 1);
    open
}

#[tokio::test]
async fn a_pr_closed_without_merging_is_forgotten_and_checks_nothing() {
    // Given the drifting PR kept in the cache,
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let state = MemoryState::default();
    let cache = CachedRecords::new(&state, REPO);
    let open = drifting_in_cache(&fake, &client, &cache).await;
    let checks_before = fake.repo(REPO).check_runs().len();

    // when it is closed without merging,
    fake.repo(REPO)
        .edit_issue(open, |i| i.state = "closed".to_string());
    let closed = event(&fake, open, "closed");
    let outcome = run(&fake, &client, &closed, &cache, false).await;

    // then the flow says so, writes no check, and the cache forgets it.
    assert!(matches!(outcome, PullRequestOutcome::ClosedUnmerged));
    assert_eq!(fake.repo(REPO).check_runs().len(), checks_before);
    assert!(cache.drifting().await.unwrap().is_empty());
    assert!(
        cache
            .cached()
            .await
            .unwrap()
            .iter()
            .all(|r| r.number != open)
    );
}

#[tokio::test]
async fn debt_work_merged_meanwhile_clears_the_drift_the_cache_remembered() {
    // Given the drifting PR kept in the cache and a debt PR open,
    let fake = FakeGitHub::start().await;
    let client = bot_client(&fake).await;
    let state = MemoryState::default();
    let cache = CachedRecords::new(&state, REPO);
    let open = drifting_in_cache(&fake, &client, &cache).await;
    let debt = open_pr(&fake, "d1", &["debt", "points: 5"]);
    run(&fake, &client, &event(&fake, debt, "opened"), &cache, false).await;

    // when the debt PR merges,
    fake.repo(REPO).merge_pull_request(debt, "alice");
    run(&fake, &client, &event(&fake, debt, "closed"), &cache, false).await;

    // then the feature PR, with no event of its own, is no longer drifting.
    assert!(cache.drifting().await.unwrap().is_empty());
    assert_eq!(last_budget_check(&fake, open).as_deref(), Some("success"));
    let edited = fake.take_comments(REPO, open);
    assert!(edited[0].body.contains("No longer drifting"), "{edited:#?}");
}
