//! Command replies quote what people wrote (command lines, reasons,
//! arguments). Written with a hostile corpus, the reply the bot posts must
//! notify nobody, load and link nothing, and forge no marker — checked on
//! the body as posted to the fake GitHub, and by the fake's own reading of
//! it as GitHub renders it (`FakeGitHub::notifications`). The reply is
//! also pinned as an `insta` snapshot.

use std::time::Duration;

use fake_github::{FakeGitHub, NewIssue, Permission};
use paydown_commands::{CommentEvent, PermissionCache, RunOptions, run_comment};
use paydown_config::Config;
use paydown_github::{Client, ClientOptions};
use paydown_markdown::testing::{HOSTILE, hostile_line, leaks};

const REPO: &str = "octo-org/octo-repo";
const TOKEN: &str = "ghs_action_token";

/// The reply with what depends on the clock (the revision, a record's
/// time) blanked, for the snapshot.
fn stable(body: &str) -> String {
    body.lines()
        .map(|line| match line.find(" rev=") {
            Some(at) if line.starts_with("<!-- paydown:reply ") => {
                format!("{} rev=… -->", &line[..at])
            }
            _ => match line.find("\"at\":\"") {
                Some(at) if line.starts_with("<!-- paydown:record ") => {
                    let rest = &line[at + 6..];
                    let end = rest.find('"').unwrap_or(rest.len());
                    format!("{}\"at\":\"…{}", &line[..at], &rest[end..])
                }
                _ => line.to_string(),
            },
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn hostile_command_lines_and_arguments_get_a_reply_that_notifies_nobody() {
    // Given a pull request and a maintainer whose comment carries every
    // command with the hostile corpus as its arguments,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let client = Client::from_token_with_options(&fake.url(), TOKEN, ClientOptions::for_tests())
        .expect("client");
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/a.rs", "fn a() {}\n")]);
    repo.set_files("topic", &[("src/a.rs", "fn a() { b() }\n")]);
    let pr = repo.add_pull_request(NewIssue::new("Topic"), "topic");
    repo.set_permission("maint", Permission::Maintain);
    let hostile = hostile_line();
    let body = [
        format!("/debt accept-drift {hostile}"),
        format!("/debt classify {hostile}"),
        format!("/debt points {hostile}"),
        format!("/debt link {hostile}"),
        format!("/debt {hostile}"),
        "/debt frob @mallory".to_string(),
        // A backtick in an echoed argument must not close the message's
        // code span and let a mention out.
        "/debt classify debt x` @mallory `y".to_string(),
    ]
    .join("\n");
    let id = repo.add_comment(pr, "maint", &body);
    let payload = fake.issue_comment_payload(REPO, id, "created", None);
    let event = CommentEvent::from_payload(&serde_json::to_vec(&payload).unwrap()).unwrap();
    fake.clear_requests();

    // when the commands run,
    let cache = PermissionCache::new(Duration::from_secs(60));
    let options = RunOptions {
        app_slug: String::new(),
        html_base: "https://github.com".into(),
    };
    run_comment(&client, &Config::default(), &cache, &event, &options)
        .await
        .unwrap();

    // then one reply was posted, answering every line,
    let posted = fake.take_comments(REPO, pr);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let reply = &posted[0].body;
    assert!(reply.matches("😕").count() >= 5, "{reply}");
    // in which nothing of the corpus is live: no mention, cross-reference,
    // link, image, bidi control or forged marker,
    assert_eq!(leaks(reply), Vec::<String>::new(), "{reply}");
    // as GitHub would render it (the fake reads every written body),
    assert_eq!(fake.notifications(), Vec::<(String, String)>::new());
    // and the corpus does show (as text), so the check above is about
    // escaping, not about dropping what people wrote.
    assert!(reply.contains("mallory"), "{reply}");
    assert!(HOSTILE.len() > 10);
    insta::assert_snapshot!("hostile_command_reply", stable(reply));
}
