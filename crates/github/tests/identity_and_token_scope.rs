//! Two hardening rules of the App client, against the fake GitHub over
//! real HTTP (real JWTs, real token exchange):
//! - the bot's identity fails closed: while `GET /app` fails nobody's
//!   markers are trusted, and the next job asks again;
//! - installation tokens are minted for one repository and the permissions
//!   a job needs, and GitHub (the fake, as strict) refuses anything beyond.

use fake_github::{APP_ID, FakeGitHub, app_private_key_pem};
use paydown_github::{
    AppCredentials, ClientOptions, GitHubApp, GitHubError, Repo, TokenScope, latest_check_run,
};
use serde_json::{Value, json};

const INSTALLATION: u64 = 1;

fn app(fake: &FakeGitHub) -> GitHubApp {
    let creds = AppCredentials::from_pem(APP_ID, app_private_key_pem()).unwrap();
    GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap()
}

fn repo() -> Repo {
    Repo::parse("octo-org/octo-repo").unwrap()
}

#[tokio::test]
async fn while_get_app_fails_no_bot_is_trusted_and_the_next_call_asks_again() {
    let fake = FakeGitHub::start().await;
    let app = app(&fake);
    let client = app.installation_client(INSTALLATION).await.unwrap();

    // Given GitHub refuses `GET /app` (twice),
    fake.fail_next_on("GET", "/app", 2, 404);

    // when a job asks who the bot is, it gets an error, not "any bot":
    // callers looking for their own markers stop instead of trusting
    // another App's (or github-actions') comments;
    let err = client.identity().await.unwrap_err();
    assert!(
        matches!(err, GitHubError::IdentityUnknown { .. }),
        "{err:?}"
    );
    assert!(err.is_transient(), "the job is retried: {err}");
    assert!(
        err.to_string().contains("no bot's markers are trusted"),
        "{err}"
    );
    // a lookup of the bot's own check run fails the same way rather than
    // adopting whatever run carries the name;
    let lookup = latest_check_run(&client, &repo(), "0123456789abcdef", "paydown").await;
    assert!(
        matches!(lookup, Err(GitHubError::IdentityUnknown { .. })),
        "{lookup:?}"
    );
    assert_eq!(fake.requests_matching("GET", "/app").len(), 2);

    // then once GitHub answers, the failure was not cached: the next job
    // asks again and trusts exactly the App's bot,
    let me = client.identity().await.unwrap();
    assert_eq!(me.known_login(), Some("paydown[bot]"));
    assert!(me.owns("paydown[bot]", Some("Bot")));
    assert!(!me.owns("other-app[bot]", Some("Bot")));
    assert!(!me.owns("github-actions[bot]", Some("Bot")));
    // and the answer is cached from then on.
    let asked = fake.requests_matching("GET", "/app").len();
    client.identity().await.unwrap();
    app.installation_client(INSTALLATION)
        .await
        .unwrap()
        .identity()
        .await
        .unwrap();
    assert_eq!(fake.requests_matching("GET", "/app").len(), asked);
}

#[tokio::test]
async fn a_token_scoped_to_one_repository_and_its_permissions_reaches_nothing_else() {
    let fake = FakeGitHub::start().await;
    fake.add_repo("octo-org", "other-repo", INSTALLATION);
    let app = app(&fake);
    let a = repo();
    let b = Repo::parse("octo-org/other-repo").unwrap();

    // Given a client whose token is scoped to repository A, reading code
    // and writing issues only,
    let scope = TokenScope::repository(&a).read("contents").write("issues");
    let client = app
        .installation_client_for(INSTALLATION, &scope)
        .await
        .unwrap();

    // then the token request named exactly that,
    assert_eq!(
        fake.token_requests(),
        vec![(
            INSTALLATION,
            json!({
                "repositories": ["octo-repo"],
                "permissions": {"contents": "read", "issues": "write", "metadata": "read"},
            })
        )]
    );
    // it works on A within its permissions,
    let issues: Vec<Value> = client.get_json(&a.issues()).await.unwrap();
    assert!(issues.is_empty());
    let created: Value = client
        .post_json(&a.issues(), &json!({"title": "in scope"}))
        .await
        .unwrap();
    assert_eq!(created["title"], "in scope");
    // repository B does not exist for it (GitHub's 404, not a 403 that
    // would confirm B is there),
    let err = client.get_json::<Value>(&b.issues()).await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    let err = client
        .post_json::<_, Value>(&b.issues(), &json!({"title": "out of scope"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    // and a permission it was not given is refused with GitHub's message,
    // naming what the call needs, although the installation has it.
    let err = client
        .post_json::<_, Value>(
            &a.route("/check-runs"),
            &json!({"name": "paydown", "head_sha": "0123456789abcdef"}),
        )
        .await
        .unwrap_err();
    match &err {
        GitHubError::MissingPermission {
            message, accepted, ..
        } => {
            assert_eq!(message, "Resource not accessible by integration");
            assert_eq!(accepted, "checks=write");
        }
        other => panic!("expected a missing permission, got {other:?}"),
    }
    // The installation-wide listing only shows A.
    let listed: Value = client.get_json("/installation/repositories").await.unwrap();
    assert_eq!(listed["total_count"], 1, "{listed}");
}

#[tokio::test]
async fn tokens_are_cached_per_installation_repository_and_permissions() {
    let fake = FakeGitHub::start().await;
    fake.add_repo("octo-org", "other-repo", INSTALLATION);
    let app = app(&fake);
    let a = repo();
    let b = Repo::parse("octo-org/other-repo").unwrap();
    let sync_a = TokenScope::repository(&a).read("contents").write("issues");
    let review_a = sync_a.clone().write("checks");
    let sync_b = TokenScope::repository(&b).read("contents").write("issues");

    // Given clients for two scopes on A and one on B, asked twice each,
    for scope in [&sync_a, &review_a, &sync_b, &sync_a, &review_a, &sync_b] {
        let client = app
            .installation_client_for(INSTALLATION, scope)
            .await
            .unwrap();
        client.get_json::<Value>(&a.route("")).await.ok();
    }
    // then one token was minted per scope,
    assert_eq!(fake.token_requests().len(), 3);
    // and a request for more than the installation was granted is refused
    // by GitHub (422) instead of silently widening.
    fake.set_installation_permission(INSTALLATION, "checks", "none");
    let wider = TokenScope::repository(&a).write("checks");
    let err = app
        .installation_client_for(INSTALLATION, &wider)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");

    // When the installation changes, every scope's token is dropped (the
    // refused request above counts among the token requests).
    app.invalidate(INSTALLATION).await;
    app.installation_client_for(INSTALLATION, &sync_a)
        .await
        .unwrap();
    app.installation_client_for(INSTALLATION, &sync_b)
        .await
        .unwrap();
    assert_eq!(fake.token_requests().len(), 6);
}
