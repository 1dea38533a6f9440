//! A create whose answer comes after the client's timeout was applied all
//! the same (GitHub does not undo a write because the caller stopped
//! waiting). The client treats the timeout as "maybe applied", looks for
//! what it wrote, adopts it, and never sends the create again: exactly
//! one object.

use std::time::Duration;

use fake_github::{APP_ID, FakeGitHub, NewIssue, app_private_key_pem};
use paydown_github::{AppCredentials, Client, ClientOptions, GitHubApp, Repo};
use serde_json::{Value, json};

const REPO: &str = "octo-org/octo-repo";

async fn installation(fake: &FakeGitHub) -> (GitHubApp, Client) {
    let creds = AppCredentials::from_pem(APP_ID, app_private_key_pem()).unwrap();
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap();
    let client = app.installation_client(1).await.unwrap();
    (app, client)
}

fn posts(fake: &FakeGitHub, path: &str) -> usize {
    fake.requests_matching("POST", path)
        .iter()
        .filter(|r| r.path == path)
        .count()
}

/// Past `ClientOptions::for_tests().timeout` (2 s).
const LATE: Duration = Duration::from_secs(3);

#[tokio::test]
async fn an_issue_create_that_times_out_after_being_applied_ends_with_one_issue() {
    // Given GitHub applies the next issue create but answers after the
    // client has given up,
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let path = "/repos/octo-org/octo-repo/issues";
    fake.apply_then_answer_late_on("POST", path, 1, LATE);
    let marker = "<!-- paydown:item id=late1 v=1 -->";

    // when the bot creates an issue carrying its marker,
    let created: Value = client
        .create_issue(
            &repo,
            &json!({"title": "TODO: slow", "body": format!("text\n{marker}"), "labels": ["paydown"]}),
            marker,
            Some("paydown"),
        )
        .await
        .expect("the timed-out create is adopted");

    // then exactly one issue exists, it is the one returned, and the
    // create was sent once.
    let issues = fake.repo(REPO).issues();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(created["number"], issues[0].number);
    assert_eq!(posts(&fake, path), 1);
}

#[tokio::test]
async fn a_comment_create_that_times_out_after_being_applied_ends_with_one_comment() {
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let number = fake.repo(REPO).add_issue(NewIssue::new("debt"));
    let path = format!("/repos/octo-org/octo-repo/issues/{number}/comments");
    fake.apply_then_answer_late_on("POST", &path, 1, LATE);

    let created: Value = client
        .create_comment(&repo, number, "Paid down in abc123.")
        .await
        .expect("the timed-out comment is adopted");

    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert_eq!(created["id"], comments[0].id);
    assert_eq!(posts(&fake, &path), 1);
}
