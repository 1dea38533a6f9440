//! Creates answered 502, or whose connection was reset, are "maybe
//! applied": the client looks for what it wrote before writing again. Each
//! create path runs against the fake GitHub once per fault: GitHub applied
//! the write and then answered 502; answered 502 without applying it;
//! applied it and then reset the connection (TCP RST before any byte of
//! the answer); reset the connection without applying it; applied it and
//! broke the answer off halfway through its body. All end with exactly one
//! object.

use fake_github::{APP_ID, FakeGitHub, NewIssue, app_private_key_pem};
use paydown_github::{AppCredentials, Client, ClientOptions, GitHubApp, Repo};
use serde_json::{Value, json};

const REPO: &str = "octo-org/octo-repo";

#[derive(Clone, Copy, Debug)]
enum Fault {
    AppliedThen502,
    Refused502,
    AppliedThenReset,
    Reset,
    AppliedThenBodyBreaksOff,
}

const BOTH: [Fault; 5] = [
    Fault::AppliedThen502,
    Fault::Refused502,
    Fault::AppliedThenReset,
    Fault::Reset,
    Fault::AppliedThenBodyBreaksOff,
];

fn inject(fake: &FakeGitHub, fault: Fault, path: &str) {
    match fault {
        Fault::AppliedThen502 => fake.apply_then_fail_next_on("POST", path, 1, 502),
        Fault::Refused502 => fake.fail_next_on("POST", path, 1, 502),
        Fault::AppliedThenReset => fake.apply_then_reset_next_on("POST", path, 1),
        Fault::Reset => fake.reset_next_on("POST", path, 1),
        Fault::AppliedThenBodyBreaksOff => fake.break_body_next_on("POST", path, 1),
    }
}

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

#[tokio::test]
async fn an_issue_create_answered_502_or_cut_off_ends_with_exactly_one_issue() {
    for fault in BOTH {
        // Given a repository and a create GitHub answers with a 502,
        let fake = FakeGitHub::start().await;
        let (_app, client) = installation(&fake).await;
        let repo = Repo::parse(REPO).unwrap();
        let path = "/repos/octo-org/octo-repo/issues";
        inject(&fake, fault, path);
        let marker = "<!-- paydown:item id=abc v=1 -->";

        // when the bot creates an issue carrying its marker,
        let created: Value = client
            .create_issue(
                &repo,
                &json!({"title": "TODO: x", "body": format!("text\n{marker}"), "labels": ["paydown"]}),
                marker,
                Some("paydown"),
            )
            .await
            .expect("create");

        // then exactly one issue exists, and it is the one returned.
        let issues = fake.repo(REPO).issues();
        assert_eq!(issues.len(), 1, "{fault:?}: {issues:#?}");
        assert_eq!(created["number"], issues[0].number, "{fault:?}");
        let expected_posts = match fault {
            Fault::AppliedThen502 | Fault::AppliedThenReset | Fault::AppliedThenBodyBreaksOff => 1,
            Fault::Refused502 | Fault::Reset => 2,
        };
        assert_eq!(posts(&fake, path), expected_posts, "{fault:?}");
        // A cut connection really was cut: the client saw no answer.
        let cut = !matches!(fault, Fault::AppliedThen502 | Fault::Refused502);
        assert_eq!(fake.connections_cut(), u64::from(cut), "{fault:?}");
    }
}

#[tokio::test]
async fn a_marker_in_someone_elses_issue_is_not_adopted() {
    // Given a person's issue that quotes the bot's marker,
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let marker = "<!-- paydown:item id=abc v=1 -->";
    fake.repo(REPO)
        .add_issue(NewIssue::new("copy").body(marker).labels(&["paydown"]));
    let path = "/repos/octo-org/octo-repo/issues";
    fake.fail_next_on("POST", path, 1, 502);

    // when the bot's create is refused with a 502,
    let created: Value = client
        .create_issue(
            &repo,
            &json!({"title": "TODO: x", "body": marker, "labels": ["paydown"]}),
            marker,
            Some("paydown"),
        )
        .await
        .expect("create");

    // then the bot writes its own issue instead of adopting the person's.
    assert_eq!(created["number"], 2);
    assert_eq!(fake.repo(REPO).issues().len(), 2);
}

#[tokio::test]
async fn a_comment_create_answered_502_or_cut_off_ends_with_exactly_one_comment() {
    for fault in BOTH {
        let fake = FakeGitHub::start().await;
        let (_app, client) = installation(&fake).await;
        let repo = Repo::parse(REPO).unwrap();
        let number = fake.repo(REPO).add_issue(NewIssue::new("debt"));
        // An earlier, different comment of the bot's is not what it looks for.
        let path = format!("/repos/octo-org/octo-repo/issues/{number}/comments");
        let _: Value = client
            .create_comment(&repo, number, "an older note")
            .await
            .unwrap();
        inject(&fake, fault, &path);

        let created: Value = client
            .create_comment(&repo, number, "Paid down in abc123.")
            .await
            .expect("comment");

        let comments = fake.take_comments(REPO, number);
        let bodies: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
        assert_eq!(
            bodies,
            ["an older note", "Paid down in abc123."],
            "{fault:?}"
        );
        assert_eq!(created["id"], comments[1].id, "{fault:?}");
    }
}

#[tokio::test]
async fn a_check_run_create_answered_502_or_cut_off_ends_with_exactly_one_run() {
    for fault in BOTH {
        let fake = FakeGitHub::start().await;
        let (_app, client) = installation(&fake).await;
        let repo = Repo::parse(REPO).unwrap();
        let sha = fake.repo(REPO).set_files("main", &[("a.rs", "// x\n")]);
        let path = "/repos/octo-org/octo-repo/check-runs";
        inject(&fake, fault, path);

        let created: Value = client
            .create_check_run(
                &repo,
                &json!({"name": "paydown", "head_sha": sha, "status": "completed", "conclusion": "success"}),
            )
            .await
            .expect("check run");

        let runs = fake.repo(REPO).check_runs();
        assert_eq!(runs.len(), 1, "{fault:?}: {runs:#?}");
        assert_eq!(created["id"], runs[0].id, "{fault:?}");
    }
}

#[tokio::test]
async fn a_reaction_create_answered_502_or_cut_off_ends_with_exactly_one_reaction() {
    for fault in BOTH {
        let fake = FakeGitHub::start().await;
        let (_app, client) = installation(&fake).await;
        let repo = Repo::parse(REPO).unwrap();
        let number = fake.repo(REPO).add_issue(NewIssue::new("debt"));
        let comment = fake.repo(REPO).add_comment(number, "alice", "/debt ignore");
        // Someone else's identical reaction is theirs, not the bot's.
        fake.repo(REPO).add_comment_reaction(comment, "bob", "eyes");
        let path = format!("/repos/octo-org/octo-repo/issues/comments/{comment}/reactions");
        inject(&fake, fault, &path);

        let _: Value = client
            .create_comment_reaction(&repo, comment, "eyes")
            .await
            .expect("reaction");

        let reactions = fake.repo(REPO).comment(comment).unwrap().reactions;
        let bots = reactions.iter().filter(|r| r.user != "bob").count();
        assert_eq!(bots, 1, "{fault:?}: {reactions:#?}");
        assert_eq!(reactions.len(), 2, "{fault:?}");
    }
}

#[tokio::test]
async fn a_patch_answered_502_is_a_plain_retry() {
    // PATCH is idempotent: repeating it is harmless, so no lookup is made.
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let number = fake.repo(REPO).add_issue(NewIssue::new("debt"));
    let path = format!("/repos/octo-org/octo-repo/issues/{number}");
    fake.fail_next_on("PATCH", &path, 1, 502);
    let before = fake.requests().len();

    let _: Value = client
        .patch_json(&repo.issue(number), &json!({"body": "new"}))
        .await
        .expect("patch");

    let after: Vec<_> = fake.requests()[before..].to_vec();
    assert!(after.iter().all(|r| r.method == "PATCH"), "{after:#?}");
    assert_eq!(after.len(), 2);
    assert_eq!(
        fake.repo(REPO).issue(number).unwrap().body.as_deref(),
        Some("new")
    );
}

#[tokio::test]
async fn a_patch_whose_connection_is_reset_is_a_plain_retry() {
    // Given an edit whose connection GitHub resets after applying it,
    let fake = FakeGitHub::start().await;
    let (_app, client) = installation(&fake).await;
    let repo = Repo::parse(REPO).unwrap();
    let number = fake.repo(REPO).add_issue(NewIssue::new("debt"));
    let path = format!("/repos/octo-org/octo-repo/issues/{number}");
    fake.apply_then_reset_next_on("PATCH", &path, 1);
    let before = fake.requests().len();

    // when the bot edits the issue, then the reset is retried like a 502
    // (repeating an edit is harmless): two PATCHes, no lookup, one edit.
    let _: Value = client
        .patch_json(&repo.issue(number), &json!({"body": "new"}))
        .await
        .expect("patch");
    let after: Vec<_> = fake.requests()[before..].to_vec();
    assert!(after.iter().all(|r| r.method == "PATCH"), "{after:#?}");
    assert_eq!(after.len(), 2);
    assert_eq!(fake.connections_cut(), 1);
    assert_eq!(
        fake.repo(REPO).issue(number).unwrap().body.as_deref(),
        Some("new")
    );
}
