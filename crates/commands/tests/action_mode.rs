//! The entry point as the Action uses it: a token client, the workflow's
//! `issue_comment` event file read with `CommentEvent::from_payload`, and
//! `run_comment` — no server involved. Also the permission cache's expiry.

use std::time::Duration;

use fake_github::{FakeGitHub, NewIssue};
use paydown_commands::{CommentEvent, PermissionCache, RunOptions, Skipped, run_comment};
use paydown_config::Config;
use paydown_github::{Client, ClientOptions, Repo};

const REPO: &str = "octo-org/octo-repo";
const TOKEN: &str = "ghs_action_token";

async fn world() -> (FakeGitHub, Client, u64) {
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let client = Client::from_token_with_options(&fake.url(), TOKEN, ClientOptions::for_tests())
        .expect("client");
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/a.rs", "fn a() {}\n")]);
    repo.set_files("topic", &[("src/a.rs", "fn a() { b() }\n")]);
    let pr = repo.add_pull_request(NewIssue::new("Topic"), "topic");
    (fake, client, pr)
}

/// What the Action would find in `GITHUB_EVENT_PATH` for a new comment.
fn event_file(fake: &FakeGitHub, pr: u64, user: &str, body: &str) -> (u64, Vec<u8>) {
    let id = fake.repo(REPO).add_comment(pr, user, body);
    let payload = fake.issue_comment_payload(REPO, id, "created", None);
    (id, serde_json::to_vec(&payload).unwrap())
}

fn options() -> RunOptions {
    RunOptions {
        app_slug: String::new(),
        html_base: "https://github.com".into(),
    }
}

#[tokio::test]
async fn given_a_workflow_event_file_then_the_same_entry_point_runs_the_command() {
    // Given a PR and bob's `/debt help` as the workflow event,
    let (fake, client, pr) = world().await;
    let (id, file) = event_file(&fake, pr, "bob", "Could you list them?\r\n/debt help\r\n");
    let event = CommentEvent::from_payload(&file).unwrap();
    assert_eq!(event.repo, Repo::parse(REPO).unwrap());

    // when the Action runs it,
    let cache = PermissionCache::new(Duration::from_secs(60));
    let outcome = run_comment(&client, &Config::default(), &cache, &event, &options())
        .await
        .unwrap();

    // then the help table was posted as the reply, with 👀 on the comment.
    assert_eq!(outcome.skipped, None);
    assert_eq!(outcome.reactions, ["eyes"]);
    let posted = fake.take_comments(REPO, pr);
    assert_eq!(posted.len(), 1);
    assert!(
        posted[0]
            .body
            .contains("| `/debt classify debt\\|feature\\|ops\\|none` |")
    );
    let reactions = fake.repo(REPO).comment(id).unwrap().reactions;
    assert_eq!(reactions.len(), 1);
    assert_eq!(reactions[0].content, "eyes");
}

#[tokio::test]
async fn given_a_comment_without_commands_then_no_request_is_made() {
    let (fake, client, pr) = world().await;
    let (_, file) = event_file(&fake, pr, "bob", "Looks good, but `/debt scan` later?");
    let event = CommentEvent::from_payload(&file).unwrap();
    fake.clear_requests();

    let cache = PermissionCache::new(Duration::from_secs(60));
    let outcome = run_comment(&client, &Config::default(), &cache, &event, &options())
        .await
        .unwrap();

    assert_eq!(outcome.skipped, Some(Skipped::NoCommands));
    assert!(fake.requests().is_empty(), "{:#?}", fake.requests());
}

#[tokio::test]
async fn given_the_cache_then_a_permission_is_asked_once_until_it_expires() {
    let (fake, client, _) = world().await;
    let repo = Repo::parse(REPO).unwrap();
    let route = "/repos/octo-org/octo-repo/collaborators/bob/permission";

    // Within the TTL, the second lookup is answered from memory;
    let cache = PermissionCache::new(Duration::from_secs(60));
    let first = cache.permission(&client, &repo, "bob").await.unwrap();
    let second = cache.permission(&client, &repo, "BOB").await.unwrap();
    assert_eq!(first, Some(paydown_config::Permission::Write));
    assert_eq!(first, second);
    assert_eq!(fake.requests_matching("GET", route).len(), 1);

    // a revoked permission shows once the entry expired;
    fake.repo(REPO)
        .set_permission("bob", fake_github::Permission::Read);
    let expiring = PermissionCache::new(Duration::ZERO);
    let now = expiring.permission(&client, &repo, "bob").await.unwrap();
    assert_eq!(now, Some(paydown_config::Permission::Read));

    // and someone GitHub does not know has no permission at all.
    let nobody = cache
        .permission(&client, &repo, "ghost-user")
        .await
        .unwrap();
    assert_eq!(nobody, None);
}
