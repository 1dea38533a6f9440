//! `sync_repository` end to end through the fake GitHub: the real client,
//! real HTTP, a real tarball, real issue writes.

mod support;

use fake_github::FakeGitHub;
use paydown_sync::{CLOSED_BY_BOT_MARKER, SyncOptions, TRACKING_LABEL, sync_repository};
use support::{REPO, base_options, world};

fn options(dry_run: bool) -> SyncOptions {
    SyncOptions {
        dry_run,
        ..base_options()
    }
}

fn open_debt_issues(fake: &FakeGitHub) -> Vec<fake_github::Issue> {
    fake.repo(REPO)
        .issues()
        .into_iter()
        .filter(|i| i.state == "open" && i.labels.iter().any(|l| l == TRACKING_LABEL))
        .filter(|i| {
            !i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:dashboard")
        })
        .collect()
}

#[tokio::test]
async fn first_sync_opens_one_issue_per_item_and_a_second_writes_nothing() {
    // Given a repository with two annotations on its default branch,
    let (fake, client, repo) = world().await;
    fake.repo(REPO).set_files(
        "main",
        &[
            (
                "src/lib.rs",
                "// TODO(@alice, area=billing): flush the cache\nfn a() {}\n",
            ),
            ("app.py", "x = 1  # FIXME: retries double-charge\n"),
        ],
    );

    // when it is synced,
    let first = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");

    // then one issue per item exists, labelled and carrying its marker,
    assert_eq!(first.annotations, 2);
    let issues = open_debt_issues(&fake);
    assert_eq!(issues.len(), 2, "{issues:#?}");
    let todo = issues
        .iter()
        .find(|i| i.title.contains("flush the cache"))
        .unwrap();
    assert!(
        todo.labels.iter().any(|l| l == "debt:todo"),
        "{:?}",
        todo.labels
    );
    assert!(
        todo.labels.iter().any(|l| l == "debt:area/billing"),
        "{:?}",
        todo.labels
    );
    let body = todo.body.clone().unwrap_or_default();
    assert!(body.contains("<!-- paydown:item id="), "{body}");
    assert_eq!(first.applied.as_ref().unwrap().created.len(), 2);

    // and syncing again changes nothing and writes nothing.
    fake.clear_requests();
    let second = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert!(second.plan.effects.is_empty(), "{:#?}", second.plan.effects);
    assert_eq!(fake.count_writes(), 0);
    assert_eq!(open_debt_issues(&fake).len(), 2);
}

#[tokio::test]
async fn a_dry_run_plans_but_writes_nothing() {
    let (fake, client, repo) = world().await;
    fake.repo(REPO)
        .set_files("main", &[("a.rs", "// TODO: one\n// HACK: two\n")]);

    let outcome = sync_repository(&client, &repo, &options(true))
        .await
        .expect("sync");

    assert_eq!(outcome.plan.effects.len(), 2);
    assert!(outcome.applied.is_none());
    assert_eq!(fake.count_writes(), 0);
}

#[tokio::test]
async fn removed_debt_closes_its_issue_and_returning_debt_reopens_it() {
    // Given a synced repository,
    let (fake, client, repo) = world().await;
    let handle = fake.repo(REPO);
    handle.set_files("main", &[("a.rs", "// TODO: flush the cache\nfn a() {}\n")]);
    sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    let number = open_debt_issues(&fake)[0].number;

    // when the annotation is removed,
    let fix = handle.set_files("main", &[("a.rs", "fn a() {}\n")]);
    sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");

    // then its issue is closed with a comment naming the commit,
    let issue = handle.issue(number).unwrap();
    assert_eq!(issue.state, "closed");
    assert!(
        issue
            .body
            .clone()
            .unwrap_or_default()
            .contains(CLOSED_BY_BOT_MARKER)
    );
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains(&fix[..7]), "{}", comments[0].body);

    // and when it comes back, the same issue is reopened.
    handle.set_files("main", &[("a.rs", "// TODO: flush the cache\nfn a() {}\n")]);
    sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    let issue = handle.issue(number).unwrap();
    assert_eq!(issue.state, "open");
    assert!(
        !issue
            .body
            .clone()
            .unwrap_or_default()
            .contains(CLOSED_BY_BOT_MARKER)
    );
    assert_eq!(fake.take_comments(REPO, number).len(), 1);
    assert_eq!(open_debt_issues(&fake).len(), 1);
}

#[tokio::test]
async fn a_person_closing_an_issue_while_the_debt_remains_wins() {
    let (fake, client, repo) = world().await;
    let handle = fake.repo(REPO);
    handle.set_files("main", &[("a.rs", "// TODO: flush the cache\n")]);
    sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    let number = open_debt_issues(&fake)[0].number;

    // When a person closes the issue although the annotation is still there,
    handle.edit_issue(number, |i| {
        i.state = "closed".into();
        i.state_reason = Some("not_planned".into());
    });
    sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");

    // then the bot labels it wontfix and leaves it closed, now and later.
    let issue = handle.issue(number).unwrap();
    assert_eq!(issue.state, "closed");
    assert!(
        issue.labels.iter().any(|l| l == "debt:wontfix"),
        "{:?}",
        issue.labels
    );
    fake.clear_requests();
    sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert_eq!(fake.count_writes(), 0);
}

#[tokio::test]
async fn a_large_first_import_is_paced_and_completes_without_duplicates() {
    // Given 30 annotations and max_new_per_run 10,
    let (fake, client, repo) = world().await;
    let code: String = (0..30)
        .map(|i| format!("// TODO: item number {i}\n"))
        .collect();
    fake.repo(REPO).set_files(
        "main",
        &[
            ("big.rs", code.as_str()),
            (".github/paydown.yml", "issues:\n  max_new_per_run: 10\n"),
        ],
    );

    // when synced three times, each run opens at most ten issues,
    for run in 1..=3 {
        let outcome = sync_repository(&client, &repo, &options(false))
            .await
            .expect("sync");
        assert_eq!(outcome.applied.unwrap().created.len(), 10, "run {run}");
        assert_eq!(outcome.plan.deferred_creates, 30 - 10 * run, "run {run}");
    }

    // and then every item has exactly one issue.
    let issues = open_debt_issues(&fake);
    assert_eq!(issues.len(), 30);
    let mut titles: Vec<_> = issues.iter().map(|i| i.title.clone()).collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 30);
    let fourth = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert!(fourth.plan.effects.is_empty());
}

#[tokio::test]
async fn without_a_last_valid_config_a_broken_one_is_reported_and_the_defaults_are_used() {
    // Given a default branch whose config has an unknown key, and no last
    // valid config to fall back on (`paydown sync`),
    let (fake, client, repo) = world().await;
    fake.repo(REPO).set_files(
        "main",
        &[
            ("a.rs", "// TODO: one\n// NOTE: two\n"),
            (
                ".github/paydown.yml",
                "isues: {}\nannotations:\n  keywords: [TODO, NOTE]\n",
            ),
        ],
    );

    // when it is synced,
    let outcome = sync_repository(&client, &repo, &options(true))
        .await
        .expect("sync");

    // then the error is reported and the default keywords plan one issue
    // (TODO), not the broken file's two.
    assert_eq!(
        outcome.config_errors.len(),
        1,
        "{:?}",
        outcome.config_errors
    );
    assert!(
        outcome.config_errors[0].contains("issues"),
        "{:?}",
        outcome.config_errors
    );
    assert_eq!(outcome.plan.effects.len(), 1, "{:#?}", outcome.plan);
}

#[tokio::test]
async fn with_a_last_valid_config_a_broken_one_is_reported_and_the_last_valid_one_is_used() {
    // Given a NOTE item tracked under a config whose keywords are TODO and NOTE,
    let (fake, client, repo) = world().await;
    let valid = "annotations:\n  keywords: [TODO, NOTE]\n";
    fake.repo(REPO).set_files(
        "main",
        &[
            ("a.rs", "// TODO: one\n// NOTE: two\n"),
            (".github/paydown.yml", valid),
        ],
    );
    let first = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert!(first.config_errors.is_empty(), "{:?}", first.config_errors);
    assert_eq!(open_debt_issues(&fake).len(), 2);

    // when a typo lands in the config and the App syncs with the last
    // valid config it kept,
    fake.repo(REPO).set_files(
        "main",
        &[
            ("a.rs", "// TODO: one\n// NOTE: two\n"),
            (
                ".github/paydown.yml",
                "annotations:\n  keywords: [TODO, NOTE]\n  kewords: []\n",
            ),
        ],
    );
    let app = SyncOptions {
        last_valid_config: Some(valid.to_string()),
        ..options(false)
    };
    let outcome = sync_repository(&client, &repo, &app).await.expect("sync");

    // then the error is reported, the NOTE issue stays open (nothing to
    // do), and the dashboard lists the error.
    assert_eq!(
        outcome.config_errors.len(),
        1,
        "{:?}",
        outcome.config_errors
    );
    assert!(
        outcome.config_errors[0].contains("kewords"),
        "{:?}",
        outcome.config_errors
    );
    assert!(outcome.plan.effects.is_empty(), "{:#?}", outcome.plan);
    assert_eq!(open_debt_issues(&fake).len(), 2);
    let dashboard = dashboards(&fake);
    assert_eq!(dashboard.len(), 1);
    let body = dashboard[0].body.clone().unwrap_or_default();
    assert!(body.contains("Configuration errors"), "{body}");
    assert!(body.contains("kewords"), "{body}");
}

#[tokio::test]
async fn server_errors_and_a_secondary_rate_limit_are_waited_out() {
    // Given a repository with one annotation, and GitHub failing on issue
    // creation with 502 three times, then a secondary rate limit,
    let (fake, client, repo) = world().await;
    fake.repo(REPO)
        .set_files("main", &[("a.rs", "// TODO: one\n")]);
    fake.fail_next_on("POST", "/repos/octo-org/octo-repo/issues", 3, 502);

    // when synced, then the issue is still created exactly once.
    let outcome = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert!(
        outcome.applied.as_ref().unwrap().failures.is_empty(),
        "{outcome:#?}"
    );
    assert_eq!(open_debt_issues(&fake).len(), 1);

    fake.repo(REPO)
        .set_files("main", &[("a.rs", "// TODO: one\n// FIXME: two\n")]);
    fake.secondary_rate_limit_next_on("POST", "/repos/octo-org/octo-repo/issues", 1, 1);
    let started = std::time::Instant::now();
    let outcome = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert!(
        outcome.applied.as_ref().unwrap().failures.is_empty(),
        "{outcome:#?}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(open_debt_issues(&fake).len(), 2);
}

fn dashboards(fake: &FakeGitHub) -> Vec<fake_github::Issue> {
    fake.repo(REPO)
        .issues()
        .into_iter()
        .filter(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("<!-- paydown:dashboard -->")
        })
        .collect()
}

#[tokio::test]
async fn the_dashboard_is_created_once_rewritten_only_when_changed_and_stays_closed() {
    // Given a repository with one annotation,
    let (fake, client, repo) = world().await;
    let handle = fake.repo(REPO);
    handle.set_files(
        "main",
        &[("a.rs", "// TODO(area=billing): flush the cache\n")],
    );

    // when it is synced, then one dashboard issue lists the item,
    let outcome = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    let number = match outcome.dashboard {
        paydown_sync::DashboardWrite::Created { number } => number,
        other => panic!("expected a created dashboard, got {other:?}"),
    };
    let board = dashboards(&fake);
    assert_eq!(board.len(), 1);
    let body = board[0].body.clone().unwrap_or_default();
    assert!(body.contains("flush the cache"), "{body}");
    assert!(body.contains("billing"), "{body}");

    // a second sync leaves it untouched,
    fake.clear_requests();
    let again = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert_eq!(
        again.dashboard,
        paydown_sync::DashboardWrite::Unchanged { number }
    );
    assert_eq!(fake.count_writes(), 0);

    // a change in the code rewrites it in place,
    handle.set_files(
        "main",
        &[(
            "a.rs",
            "// TODO(area=billing): flush the cache\n// FIXME: second\n",
        )],
    );
    let changed = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert_eq!(
        changed.dashboard,
        paydown_sync::DashboardWrite::Updated { number }
    );
    assert_eq!(dashboards(&fake).len(), 1);

    // and once a maintainer closes it, it stays closed.
    handle.edit_issue(number, |i| i.state = "closed".into());
    handle.set_files("main", &[("a.rs", "// FIXME: second\n")]);
    let closed = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert_eq!(
        closed.dashboard,
        paydown_sync::DashboardWrite::LeftClosed { number }
    );
    assert_eq!(handle.issue(number).unwrap().state, "closed");
    for issue in handle.issues() {
        fake.take_comments(REPO, issue.number);
    }
}

#[tokio::test]
async fn dashboard_false_turns_it_off() {
    let (fake, client, repo) = world().await;
    fake.repo(REPO).set_files(
        "main",
        &[
            ("a.rs", "// TODO: one\n"),
            (".github/paydown.yml", "dashboard: false\n"),
        ],
    );
    let outcome = sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    assert_eq!(outcome.dashboard, paydown_sync::DashboardWrite::Disabled);
    assert!(dashboards(&fake).is_empty());
}

#[tokio::test]
async fn the_close_comment_names_the_merged_pull_request_that_paid_the_debt() {
    // Given a synced item,
    let (fake, client, repo) = world().await;
    let handle = fake.repo(REPO);
    handle.set_files("main", &[("a.rs", "// TODO: flush the cache\nfn a() {}\n")]);
    sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");
    let number = open_debt_issues(&fake)[0].number;

    // when a pull request removing it is merged,
    handle.set_files("fix", &[("a.rs", "fn a() {}\n")]);
    let pr = handle.add_pull_request(fake_github::NewIssue::new("Pay down the cache debt"), "fix");
    let merge = handle.merge_pull_request(pr, "alice");
    sync_repository(&client, &repo, &options(false))
        .await
        .expect("sync");

    // then the issue is closed with a comment naming the commit and the PR.
    assert_eq!(handle.issue(number).unwrap().state, "closed");
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains(&merge[..7]),
        "{}",
        comments[0].body
    );
    assert!(
        comments[0].body.contains(&format!("#{pr}")),
        "{}",
        comments[0].body
    );
}
