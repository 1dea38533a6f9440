//! `sync_push` end to end through the fake GitHub: a full sync that keeps
//! a state, then pushes reconciled from their changed files alone.

mod support;

use fake_github::{FakeGitHub, NewIssue};
use paydown_github::{Client, Repo};
use paydown_sync::{DashboardWrite, SyncMode, SyncOptions, SyncState, sync_push};
use support::{REPO, at, world};

/// A first push of `files`: a full sync; returns its sha and state.
async fn synced(
    fake: &FakeGitHub,
    client: &Client,
    repo: &Repo,
    files: &[(&str, &str)],
) -> (String, SyncState) {
    let sha = fake.repo(REPO).set_files("main", files);
    let first = sync_push(client, repo, &at(&sha), None, None)
        .await
        .expect("first sync");
    assert!(matches!(first.mode, SyncMode::Full { .. }));
    assert!(first.state.complete);
    (sha, first.state)
}

fn open_titles(fake: &FakeGitHub) -> Vec<String> {
    let mut titles: Vec<String> = fake
        .repo(REPO)
        .issues()
        .into_iter()
        .filter(|i| i.state == "open")
        .filter(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:item")
        })
        .map(|i| i.title)
        .collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn a_renamed_file_keeps_its_items_issues() {
    // Given two items in src/old.rs, synced,
    let (fake, client, repo) = world().await;
    let code = "// TODO: first thing\nfn a() {}\n// FIXME: second thing\n";
    let (before, state) = synced(&fake, &client, &repo, &[("src/old.rs", code)]).await;
    let numbers: Vec<u64> = fake.repo(REPO).issues().iter().map(|i| i.number).collect();
    let ids = marker_ids(&fake);

    // when a push renames the file,
    let after = fake.repo(REPO).set_files("main", &[("src/new.rs", code)]);
    fake.clear_requests();
    let push = sync_push(&client, &repo, &at(&after), Some(state), Some(&before))
        .await
        .expect("push");

    // then it was incremental, nothing was closed or created, and the
    // issues now point at the new path.
    assert!(
        matches!(push.mode, SyncMode::Incremental { .. }),
        "{:?}",
        push.mode
    );
    assert_eq!(push.outcome.plan.summary.close, 0);
    assert_eq!(push.outcome.plan.summary.create, 0);
    assert_eq!(push.outcome.plan.summary.update, 2);
    for issue in fake.repo(REPO).issues() {
        assert!(numbers.contains(&issue.number));
    }
    assert!(
        fake.repo(REPO)
            .issues()
            .iter()
            .filter(|i| i
                .body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:item"))
            .all(|i| i.body.as_deref().unwrap_or_default().contains("src/new.rs"))
    );
    assert!(push.state.files.contains_key("src/new.rs"));
    assert!(!push.state.files.contains_key("src/old.rs"));
    // and the items keep the ids their issues carry (docs/annotations.md).
    assert_eq!(marker_ids(&fake), ids);
    assert_eq!(push.outcome.plan.kept_ids.len(), 2);
    assert!(
        push.outcome
            .plan
            .kept_ids
            .values()
            .all(|id| ids.values().any(|i| i == id))
    );
}

/// Issue number → the item id in its marker.
fn marker_ids(fake: &FakeGitHub) -> std::collections::BTreeMap<u64, String> {
    fake.repo(REPO)
        .issues()
        .into_iter()
        .filter_map(|i| {
            let marker = paydown_reconcile::marker::parse(i.body.as_deref()?)?;
            Some((i.number, marker.id))
        })
        .collect()
}

#[tokio::test]
async fn a_removed_item_is_closed_and_a_new_one_opened_from_the_changed_file_alone() {
    // Given two files with an item each, synced,
    let (fake, client, repo) = world().await;
    let (before, state) = synced(
        &fake,
        &client,
        &repo,
        &[
            ("a.rs", "// TODO: stays\n"),
            ("b.rs", "// TODO: goes away\n"),
        ],
    )
    .await;

    // when a push replaces b.rs's item with another,
    let after = fake.repo(REPO).set_files(
        "main",
        &[("a.rs", "// TODO: stays\n"), ("b.rs", "// HACK: arrives\n")],
    );
    let push = sync_push(&client, &repo, &at(&after), Some(state), Some(&before))
        .await
        .expect("push");

    // then the old issue is closed with a comment, the new one opened,
    // a.rs untouched.
    assert!(matches!(push.mode, SyncMode::Incremental { .. }));
    let gone = fake
        .repo(REPO)
        .issues()
        .into_iter()
        .find(|i| i.title == "TODO: goes away")
        .unwrap();
    assert_eq!(gone.state, "closed");
    let comments = fake.take_comments(REPO, gone.number);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains("no longer on the default branch"));
    assert_eq!(open_titles(&fake), ["HACK: arrives", "TODO: stays"]);
    assert_eq!(push.outcome.annotations, 2);
    assert!(push.state.complete);
}

#[tokio::test]
async fn files_are_read_one_by_one_when_graphql_is_not_available() {
    // Given a synced repository,
    let (fake, client, repo) = world().await;
    let (before, state) = synced(&fake, &client, &repo, &[("a.rs", "// TODO: one\n")]).await;

    // and a GitHub without a GraphQL endpoint,
    fake.fail_next_on("POST", "/graphql", 1, 404);

    // when a push adds an item,
    let after = fake
        .repo(REPO)
        .set_files("main", &[("a.rs", "// TODO: one\n// TODO: two\n")]);
    fake.clear_requests();
    let push = sync_push(&client, &repo, &at(&after), Some(state), Some(&before))
        .await
        .expect("push");

    // then the file came from the contents API and the item has its issue.
    assert!(matches!(push.mode, SyncMode::Incremental { .. }));
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/contents/a.rs")
            .len(),
        1
    );
    assert_eq!(open_titles(&fake), ["TODO: one", "TODO: two"]);
}

#[tokio::test]
async fn a_changed_file_that_cannot_be_read_is_not_taken_for_deleted() {
    // Given a synced repository with two items in one file,
    let (fake, client, repo) = world().await;
    let (before, state) = synced(
        &fake,
        &client,
        &repo,
        &[("a.rs", "// TODO: one\n// TODO: two\n")],
    )
    .await;

    // and GitHub unable to return that file's text at the pushed commit,
    fake.fail_next_on("POST", "/graphql", 1, 404);
    fake.fail_next_on("GET", "/repos/octo-org/octo-repo/contents/a.rs", 1, 404);

    // when a push edits it,
    let after = fake.repo(REPO).set_files(
        "main",
        &[("a.rs", "// TODO: one\n// TODO: two\n// TODO: three\n")],
    );
    let push = sync_push(&client, &repo, &at(&after), Some(state), Some(&before))
        .await
        .expect("push");

    // then the whole tree is read instead and no issue is closed.
    assert!(
        matches!(push.mode, SyncMode::Full { .. }),
        "{:?}",
        push.mode
    );
    assert_eq!(
        open_titles(&fake),
        ["TODO: one", "TODO: three", "TODO: two"]
    );
}

#[tokio::test]
async fn a_push_changing_many_files_reads_them_in_batches() {
    // Given a synced repository of 150 files,
    let (fake, client, repo) = world().await;
    let names: Vec<String> = (0..150).map(|i| format!("src/f{i}.rs")).collect();
    let first: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "fn a() {}\n")).collect();
    let (before, state) = synced(&fake, &client, &repo, &first).await;

    // when one push adds an item to each,
    let texts: Vec<String> = (0..150)
        .map(|i| format!("fn a() {{}}\n// TODO: item {i}\n"))
        .collect();
    let next: Vec<(&str, &str)> = names
        .iter()
        .zip(&texts)
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let after = fake.repo(REPO).set_files("main", &next);
    fake.clear_requests();
    let push = sync_push(&client, &repo, &at(&after), Some(state), Some(&before))
        .await
        .expect("push");

    // then the files came in two GraphQL queries, none one by one, and
    // the first 50 items (issues.max_new_per_run) have their issues.
    assert!(
        matches!(push.mode, SyncMode::Incremental { .. }),
        "{:?}",
        push.mode
    );
    assert_eq!(fake.requests_matching("POST", "/graphql").len(), 2);
    assert!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/contents/")
            .is_empty()
    );
    assert_eq!(open_titles(&fake).len(), 50);
    assert_eq!(push.outcome.plan.deferred_creates, 100);
}

#[tokio::test]
async fn a_dashboard_that_cannot_be_pinned_is_still_created() {
    // Given a repository whose three pin slots are taken,
    let (fake, client, repo) = world().await;
    let handle = fake.repo(REPO);
    for n in 0..3 {
        let number = handle.add_issue(NewIssue::new(&format!("pinned {n}")));
        handle.edit_issue(number, |i| i.pinned = true);
    }
    let sha = handle.set_files("main", &[("a.rs", "// TODO: one\n")]);

    // when the first sync creates the dashboard,
    let first = sync_push(&client, &repo, &at(&sha), None, None)
        .await
        .expect("sync");

    // then it exists, unpinned, after one refused pinIssue.
    let DashboardWrite::Created { number } = first.outcome.dashboard else {
        panic!("{:?}", first.outcome.dashboard);
    };
    assert!(!handle.issue(number).unwrap().pinned);
    assert_eq!(fake.requests_matching("POST", "/graphql").len(), 1);
    assert!(first.state.complete);
}

#[tokio::test]
async fn a_sync_after_a_merge_compares_the_synced_commit_with_the_head() {
    // Given a synced repository,
    let (fake, client, repo) = world().await;
    let (_, state) = synced(&fake, &client, &repo, &[("a.rs", "// TODO: one\n")]).await;

    // when the default branch moves and a sync runs without a push's
    // before or head (the sync after a merge),
    fake.repo(REPO)
        .set_files("main", &[("a.rs", "// TODO: one\n// FIXME: two\n")]);
    fake.clear_requests();
    let options = SyncOptions {
        head: None,
        pull_request: Some(7),
        ..at("unused")
    };
    let merged = sync_push(&client, &repo, &options, Some(state), None)
        .await
        .expect("sync");

    // then it read the head and the compare, not a tarball.
    assert!(
        matches!(merged.mode, SyncMode::Incremental { .. }),
        "{:?}",
        merged.mode
    );
    assert!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/tarball")
            .is_empty()
    );
    assert_eq!(open_titles(&fake), ["FIXME: two", "TODO: one"]);
}

#[tokio::test]
async fn an_issue_whose_label_a_person_removed_is_found_again_not_duplicated() {
    // Given two items synced, and a person who takes the `paydown` label
    // off the first one's issue,
    let (fake, client, repo) = world().await;
    let code = "// TODO: first thing\n// FIXME: second thing\n";
    let (before, state) = synced(&fake, &client, &repo, &[("src/a.rs", code)]).await;
    let handle = fake.repo(REPO);
    let first = handle
        .issues()
        .into_iter()
        .find(|i| i.title == "TODO: first thing")
        .unwrap();
    handle.edit_issue(first.number, |issue| {
        issue.labels.retain(|l| l != "paydown");
    });

    // when a push is reconciled by a full sync (it changes the config),
    let config = "annotations:\n  keywords: [TODO, FIXME]\n";
    let after = handle.set_files(
        "main",
        &[("src/a.rs", code), (".github/paydown.yml", config)],
    );
    let synced = sync_push(&client, &repo, &at(&after), Some(state), Some(&before))
        .await
        .unwrap();
    assert!(matches!(synced.mode, SyncMode::Full { .. }));

    // then the item keeps its issue, which gets its label back.
    assert_eq!(
        open_titles(&fake),
        ["FIXME: second thing", "TODO: first thing"]
    );
    let issue = handle.issue(first.number).unwrap();
    assert!(issue.labels.iter().any(|l| l == "paydown"), "{issue:#?}");
}
