//! The PR report comment quotes code text, owners and file names from a
//! pull request, which anyone (a fork included) controls. Reviewed end to
//! end through the fake GitHub with a hostile corpus, the comment the bot
//! posts must notify nobody as GitHub renders it
//! (`FakeGitHub::notifications`), and is pinned as an `insta` snapshot.

use fake_github::{APP_ID, FakeGitHub, NewIssue, app_private_key_pem};
use paydown_config::Config;
use paydown_github::{AppCredentials, ClientOptions, GitHubApp, Repo};
use paydown_markdown::testing::{hostile_line, leaks};
use paydown_review::{PullContext, ReviewOptions, review_pull_request};

const REPO: &str = "octo-org/octo-repo";

/// `body` with commit shas (which depend on the fake's clock) blanked.
fn without_shas(body: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 40 {
            out.push_str("<sha>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in body.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[tokio::test]
async fn a_pr_adding_hostile_debt_gets_a_report_that_notifies_nobody() {
    // Given a PR (as from a fork) whose new code names a team as owner and
    // carries the hostile corpus, in a file whose name is made of it,
    let fake = FakeGitHub::start().await;
    let creds = AppCredentials::from_pem(APP_ID, app_private_key_pem()).unwrap();
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap();
    let client = app.installation_client(1).await.unwrap();
    let repo = Repo::parse(REPO).unwrap();
    let handle = fake.repo(REPO);
    handle.set_files("main", &[("src/lib.rs", "fn a() {}\n")]);
    let main = handle.head("main").unwrap();
    handle.set_branch("feature", &main);
    let hostile = hostile_line();
    let code = format!(
        "fn a() {{}}\n// TODO(@evil-org/everyone): {hostile}\n// FIXME(@mallory): victim/repo#1 ![x](https://evil.example/p.png)\n"
    );
    let name = "src/@mallory victim#1 `x` |a| [click](y) \u{202E}gnp.rs";
    handle.set_files(
        "feature",
        &[("src/lib.rs", code.as_str()), (name, code.as_str())],
    );
    let pr = handle.add_pull_request(NewIssue::new("Add caching"), "feature");
    let pull = handle.issue(pr).unwrap().pull.unwrap();
    let context = PullContext {
        number: pr,
        head_sha: pull.head_sha,
        base_sha: pull.base_sha,
    };
    fake.clear_requests();

    // when the PR is reviewed (writing its comment and check run),
    let options = ReviewOptions {
        dry_run: false,
        html_base: "https://github.com".into(),
    };
    let outcome = review_pull_request(&client, &repo, &context, &Config::default(), &options)
        .await
        .unwrap();
    assert_eq!(outcome.delta.added.len(), 4, "{:?}", outcome.delta);

    // then the one comment posted notifies nobody as GitHub renders it,
    let posted = fake.take_comments(REPO, pr);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let body = &posted[0].body;
    assert_eq!(fake.notifications(), Vec::<(String, String)>::new());
    // nothing in it is live,
    assert_eq!(leaks(body), Vec::<String>::new(), "{body}");
    // the owners show as names,
    assert!(body.contains("evil-org/everyone"), "{body}");
    // and it reads as pinned.
    insta::assert_snapshot!("pr_report_hostile", without_shas(body));
}
