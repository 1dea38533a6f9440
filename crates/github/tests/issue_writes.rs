//! The typed issue writes against the fake GitHub: each is safe to repeat,
//! and the answers that mean "already so" are not errors.

use fake_github::{APP_ID, FakeGitHub, NewIssue, app_private_key_pem};
use paydown_github::{AppCredentials, Client, ClientOptions, GitHubApp, IssueEdit, Repo};

const REPO: &str = "octo-org/octo-repo";

async fn client(fake: &FakeGitHub) -> Client {
    let creds = AppCredentials::from_pem(APP_ID, app_private_key_pem()).unwrap();
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap();
    app.installation_client(1).await.unwrap()
}

#[tokio::test]
async fn an_edit_closes_with_its_reason_and_an_empty_one_sends_nothing() {
    // Given an open issue,
    let fake = FakeGitHub::start().await;
    let client = client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let number = fake.repo(REPO).add_issue(NewIssue::new("Debt"));

    // when an empty edit and then a closing edit are applied,
    fake.clear_requests();
    client
        .edit_issue(&repo, number, &IssueEdit::default())
        .await
        .unwrap();
    let writes_after_empty = fake.count_writes();
    let close = IssueEdit {
        state: Some("closed"),
        state_reason: Some("not_planned"),
        body: Some("gone".into()),
        ..IssueEdit::default()
    };
    client.edit_issue(&repo, number, &close).await.unwrap();

    // then the empty edit made no request, and the issue is closed as asked
    // with its title untouched.
    assert_eq!(writes_after_empty, 0);
    let issue = fake.repo(REPO).issue(number).unwrap();
    assert_eq!(issue.state, "closed");
    assert_eq!(issue.state_reason.as_deref(), Some("not_planned"));
    assert_eq!(issue.body.as_deref(), Some("gone"));
    assert_eq!(issue.title, "Debt");
}

#[tokio::test]
async fn labels_are_added_once_and_removing_one_already_gone_is_not_an_error() {
    // Given an issue,
    let fake = FakeGitHub::start().await;
    let client = client(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let number = fake.repo(REPO).add_issue(NewIssue::new("Debt"));
    let labels = ["debt".to_string(), "debt:P1".to_string()];

    // when labels are added twice and one is removed twice,
    client.add_labels(&repo, number, &labels).await.unwrap();
    client.add_labels(&repo, number, &labels).await.unwrap();
    client.remove_label(&repo, number, "debt:P1").await.unwrap();
    let again = client.remove_label(&repo, number, "debt:P1").await;

    // then the issue carries the other label once, and the second removal
    // (GitHub's 404) counts as done.
    assert!(again.is_ok(), "{again:?}");
    assert_eq!(fake.repo(REPO).issue(number).unwrap().labels, ["debt"]);
}
