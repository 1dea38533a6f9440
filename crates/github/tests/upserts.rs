//! The shared upserts under their one race policy and one 403 policy,
//! against the fake GitHub: a sticky comment per marker (the oldest copy
//! wins, no duplicates) and a check run per name (the newest is adopted).

use fake_github::{APP_ID, FakeGitHub, NewIssue, app_private_key_pem};
use paydown_github::{
    AppCredentials, CheckRunSpec, Client, ClientOptions, GitHubApp, Repo, Upsert, upsert_check_run,
    upsert_sticky_comment,
};

const REPO: &str = "octo-org/octo-repo";
const MARKER: &str = "<!-- paydown:test-sticky -->";
const BOT: &str = "paydown[bot]";

async fn installation(fake: &FakeGitHub) -> (GitHubApp, Client) {
    let creds = AppCredentials::from_pem(APP_ID, app_private_key_pem()).unwrap();
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap();
    let client = app.installation_client(1).await.unwrap();
    (app, client)
}

fn marked(body: &str) -> bool {
    body.contains(MARKER)
}

async fn upsert(client: &Client, number: u64, body: &str) -> paydown_github::StickyComment {
    let repo = Repo::parse(REPO).unwrap();
    let body = format!("{body}\n{MARKER}");
    upsert_sticky_comment(
        client,
        &repo,
        number,
        &marked,
        |_| Some(body),
        "test comment",
        false,
    )
    .await
    .expect("upsert")
}

#[tokio::test]
async fn a_comment_another_writer_posted_first_is_adopted_and_copies_go() {
    // Given a PR on which two racing writers already left two copies,
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let number = fake.repo(REPO).add_issue(NewIssue::new("a pr"));
    let oldest = fake
        .repo(REPO)
        .add_comment(number, BOT, &format!("old\n{MARKER}"));
    let _copy = fake
        .repo(REPO)
        .add_comment(number, BOT, &format!("old\n{MARKER}"));
    // and a person quoting the marker (never adopted, never deleted),
    let quoted = fake
        .repo(REPO)
        .add_comment(number, "octocat", &format!("see {MARKER}"));

    // when the bot upserts its sticky comment,
    let written = upsert(&client, number, "new").await;

    // then the oldest copy is edited, the other deleted, the quote kept.
    assert_eq!(written.write, Upsert::Updated { id: oldest });
    assert_eq!(written.duplicates_deleted, 1);
    let left = fake.repo(REPO).comments(number);
    let ids: Vec<u64> = left.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![oldest, quoted]);
    assert!(left[0].body.starts_with("new\n"), "{:?}", left[0].body);

    // and a second upsert with the same text writes nothing.
    fake.clear_requests();
    let again = upsert(&client, number, "new").await;
    assert_eq!(again.write, Upsert::Unchanged { id: oldest });
    assert_eq!(fake.count_writes(), 0);
    fake.allow_unasserted_comments();
}

#[tokio::test]
async fn a_create_applied_then_answered_502_leaves_exactly_one_comment() {
    // Given a PR without the comment and a create GitHub applies then answers 502,
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let number = fake.repo(REPO).add_issue(NewIssue::new("a pr"));
    let path = format!("/repos/{REPO}/issues/{number}/comments");
    fake.apply_then_fail_next_on("POST", &path, 1, 502);

    // when the bot upserts its sticky comment,
    let written = upsert(&client, number, "report").await;

    // then exactly one comment exists and it is the one reported.
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert_eq!(
        written.write,
        Upsert::Created {
            id: Some(comments[0].id)
        }
    );
    assert_eq!(written.duplicates_deleted, 0);
}

#[tokio::test]
async fn a_token_that_may_not_write_comments_is_a_refusal_not_an_error() {
    // Given an installation that may only read issues,
    let fake = FakeGitHub::start().await;
    let number = fake.repo(REPO).add_issue(NewIssue::new("a pr"));
    fake.set_installation_permission(1, "issues", "read");
    fake.set_installation_permission(1, "pull_requests", "read");
    let (_app, client) = installation(&fake).await;

    // when the bot upserts its sticky comment,
    let written = upsert(&client, number, "report").await;

    // then the upsert reports GitHub's refusal, tried once, and nothing exists.
    assert!(
        matches!(&written.write, Upsert::Refused { reason } if reason.contains("403") || reason.to_lowercase().contains("not accessible")),
        "{:?}",
        written.write
    );
    assert_eq!(
        fake.requests_matching("POST", &format!("/repos/{REPO}/issues/{number}/comments"))
            .len(),
        1
    );
    assert!(fake.repo(REPO).comments(number).is_empty());
}

fn spec<'a>(sha: &'a str, summary: &'a str) -> CheckRunSpec<'a> {
    CheckRunSpec {
        name: "paydown / test",
        head_sha: sha,
        conclusion: "success",
        title: "title",
        summary,
        annotations: &[],
        completed_at: None,
    }
}

#[tokio::test]
async fn a_check_run_is_created_once_then_left_alone_then_updated() {
    // Given a commit without the run,
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let sha = fake
        .repo(REPO)
        .set_files("main", &[("a.rs", "fn a() {}\n")]);

    // when the bot upserts it three times (twice the same, then new text),
    let first = upsert_check_run(&client, &repo, &spec(&sha, "one"), false).await;
    let second = upsert_check_run(&client, &repo, &spec(&sha, "one"), false).await;
    let third = upsert_check_run(&client, &repo, &spec(&sha, "two"), false).await;

    // then one run exists, created, left alone, then updated in place.
    let runs = fake.repo(REPO).check_runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let id = runs[0].id;
    assert_eq!(first.unwrap(), Upsert::Created { id: Some(id) });
    assert_eq!(second.unwrap(), Upsert::Unchanged { id });
    assert_eq!(third.unwrap(), Upsert::Updated { id });
    assert_eq!(runs[0].summary.as_deref(), Some("two"));
}

#[tokio::test]
async fn a_check_run_create_applied_then_answered_502_leaves_exactly_one_run() {
    // Given a create GitHub applies then answers 502,
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let sha = fake
        .repo(REPO)
        .set_files("main", &[("a.rs", "fn a() {}\n")]);
    fake.apply_then_fail_next_on("POST", &format!("/repos/{REPO}/check-runs"), 1, 502);

    // when the bot upserts its run,
    let written = upsert_check_run(&client, &repo, &spec(&sha, "one"), false)
        .await
        .unwrap();

    // then exactly one run exists, the one reported.
    let runs = fake.repo(REPO).check_runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(
        written,
        Upsert::Created {
            id: Some(runs[0].id)
        }
    );
}

#[tokio::test]
async fn a_token_that_may_not_write_checks_is_a_refusal_not_an_error() {
    // Given an installation without the checks permission,
    let fake = FakeGitHub::start().await;
    fake.set_installation_permission(1, "checks", "none");
    let (_app, client) = installation(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let sha = fake
        .repo(REPO)
        .set_files("main", &[("a.rs", "fn a() {}\n")]);

    // when the bot upserts its run,
    let written = upsert_check_run(&client, &repo, &spec(&sha, "one"), false)
        .await
        .expect("a 403 is an outcome, not an error");

    // then the refusal is reported and no run exists.
    assert!(matches!(written, Upsert::Refused { .. }), "{written:?}");
    assert!(fake.repo(REPO).check_runs().is_empty());
}
