//! Which merged pull request a sync's close comments credit: signed
//! `pull_request` webhooks through the real router and workers, the real
//! App client against the fake GitHub. A merge syncs the default branch;
//! only a PR merged into that branch can have paid down what the sync
//! closes.

mod support;

use fake_github::{FakeGitHub, NewIssue};
use support::{REPO, TestApp, ZEROS, debt_issues};

/// The close comment the bot left on debt issue `number`.
fn close_comment(fake: &FakeGitHub, number: u64) -> String {
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    comments[0].body.clone()
}

fn issue_titled(fake: &FakeGitHub, title: &str) -> u64 {
    debt_issues(fake)
        .into_iter()
        .find(|i| i.title == title)
        .unwrap_or_else(|| panic!("no issue {title}"))
        .number
}

#[tokio::test]
async fn a_pr_merged_into_another_branch_is_not_credited_for_what_the_default_branch_paid() {
    // Given a synced default branch with two items,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files(
        "main",
        &[
            ("src/a.rs", "// TODO: one\n"),
            ("src/b.rs", "// TODO: two\n"),
        ],
    );
    let app = TestApp::start(&fake).await;
    app.deliver("push", &fake.push_payload(REPO, "main", ZEROS, "alice"))
        .await;
    let one = issue_titled(&fake, "TODO: one");
    let two = issue_titled(&fake, "TODO: two");
    let synced = repo.head("main").unwrap();

    // and a hotfix PR, merged into `release` while `main` lost item one
    // (whose push has not arrived yet),
    repo.set_branch("hotfix", &synced);
    repo.set_files(
        "hotfix",
        &[
            ("src/a.rs", "// TODO: one\n"),
            ("src/b.rs", "// TODO: two\n"),
            ("src/fix.rs", "fn fix() {}\n"),
        ],
    );
    let hotfix = repo.add_pull_request(NewIssue::new("Hotfix for the release"), "hotfix");
    repo.set_files(
        "main",
        &[("src/a.rs", "fn a() {}\n"), ("src/b.rs", "// TODO: two\n")],
    );
    let mut closed = fake.pull_request_payload(REPO, hotfix, "closed", "alice", None);
    closed["pull_request"]["base"]["ref"] = "release".into();
    closed["pull_request"]["state"] = "closed".into();
    closed["pull_request"]["merged"] = true.into();
    closed["pull_request"]["merged_at"] = "2026-11-23T12:00:00Z".into();

    // when its `closed` event arrives,
    app.deliver("pull_request", &closed).await;

    // then the sync closes item one without crediting the hotfix.
    let comment = close_comment(&fake, one);
    assert!(comment.contains("Closing as paid down"), "{comment}");
    assert!(!comment.contains(&format!("#{hotfix}")), "{comment}");

    // When a PR into the default branch removes item two and is merged,
    let main = repo.head("main").unwrap();
    repo.set_branch("pay-two", &main);
    repo.set_files("pay-two", &[("src/a.rs", "fn a() {}\n")]);
    let pay = repo.add_pull_request(NewIssue::new("Pay item two"), "pay-two");
    repo.merge_pull_request(pay, "alice");
    let closed = fake.pull_request_payload(REPO, pay, "closed", "alice", None);
    app.deliver("pull_request", &closed).await;

    // then the close comment credits it.
    let comment = close_comment(&fake, two);
    assert!(comment.contains(&format!("#{pay}")), "{comment}");
    // (The PRs' own budget comments are not this scenario's subject.)
    fake.allow_unasserted_comments();
    app.server.shutdown().await.unwrap();
}
