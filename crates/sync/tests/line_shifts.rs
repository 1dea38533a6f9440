//! A push that only shifts lines writes nothing: the debt issues' bodies
//! carry a permalink pinned to the commit they were written at, which stays
//! true. A push changing k items costs at most k item writes.

mod support;

use fake_github::FakeGitHub;
use paydown_github::{Client, Repo};
use paydown_sync::{SyncState, sync_push};
use support::{REPO, at, world};

const CONFIG: (&str, &str) = (".github/paydown.yml", "issues:\n  max_new_per_run: 100\n");

/// `header` lines, then `n` annotations numbered from `first`, one per function.
fn code(header: usize, items: &[String]) -> String {
    let mut out = "// header\n".repeat(header);
    for text in items {
        out.push_str(&format!("// TODO: {text}\nfn f() {{}}\n\n"));
    }
    out
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("item number {i}")).collect()
}

/// Writes to debt issues (not the dashboard) since the log was cleared.
fn item_writes(fake: &FakeGitHub, dashboard: u64) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|r| r.is_write())
        .map(|r| format!("{} {}", r.method, r.path))
        .filter(|w| !w.contains(&format!("/issues/{dashboard}")))
        .collect()
}

async fn push(
    fake: &FakeGitHub,
    client: &Client,
    repo: &Repo,
    state: SyncState,
    before: &str,
    files: &[(&str, &str)],
) -> (String, SyncState) {
    let after = fake.repo(REPO).set_files("main", files);
    fake.clear_requests();
    let pushed = sync_push(client, repo, &at(&after), Some(state), Some(before))
        .await
        .expect("push");
    assert!(pushed.state.complete);
    (after, pushed.state)
}

#[tokio::test]
async fn a_push_inserting_a_line_above_50_annotations_writes_no_item() {
    // Given 50 annotations in one file, synced,
    let (fake, client, repo) = world().await;
    let items = texts(50);
    let first = code(0, &items);
    let sha = fake
        .repo(REPO)
        .set_files("main", &[CONFIG, ("src/lib.rs", &first)]);
    let synced = sync_push(&client, &repo, &at(&sha), None, None)
        .await
        .expect("first sync");
    assert_eq!(synced.outcome.annotations, 50);
    let dashboard = synced.state.tracked.dashboard.as_ref().unwrap().number;

    // when a push inserts a line above all of them,
    let shifted = code(1, &items);
    let (sha, state) = push(
        &fake,
        &client,
        &repo,
        synced.state,
        &sha,
        &[CONFIG, ("src/lib.rs", &shifted)],
    )
    .await;

    // then no debt issue is written;
    let writes = item_writes(&fake, dashboard);
    assert!(writes.is_empty(), "{writes:#?}");

    // and when a later push changes 3 items' text and shifts every line again,
    let mut changed = items.clone();
    for i in [0, 20, 49] {
        changed[i] = format!("{} (revised)", changed[i]);
    }
    let edited = code(3, &changed);
    push(
        &fake,
        &client,
        &repo,
        state,
        &sha,
        &[CONFIG, ("src/lib.rs", &edited)],
    )
    .await;

    // then at most 3 item writes are made (the dashboard aside).
    let writes = item_writes(&fake, dashboard);
    eprintln!("3 items changed: {} item writes: {writes:?}", writes.len());
    assert!(writes.len() <= 3, "{writes:#?}");
    assert!(!writes.is_empty());
}
