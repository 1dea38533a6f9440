//! Scenarios for paydown-github against the fake GitHub over real loopback HTTP:
//! real JWTs verified by the fake, real token exchange, injected faults.

use std::time::{Duration, Instant};

use fake_github::{APP_ID, FakeGitHub, app_private_key_pem};
use paydown_github::{
    AppCredentials, Client, ClientOptions, Conditional, GitHubApp, GitHubError, Repo,
};
use serde_json::{Value, json};

const INSTALLATION: u64 = 1;
const OTHER_KEY: &str = include_str!("fixtures/app-key.pem");

fn repo() -> Repo {
    Repo::parse("octo-org/octo-repo").unwrap()
}

fn app_with(fake: &FakeGitHub, options: ClientOptions) -> GitHubApp {
    let creds = AppCredentials::from_pem(APP_ID, app_private_key_pem()).unwrap();
    GitHubApp::new(&fake.url(), creds, options).unwrap()
}

fn app(fake: &FakeGitHub) -> GitHubApp {
    app_with(fake, ClientOptions::for_tests())
}

fn token_exchanges(fake: &FakeGitHub) -> usize {
    fake.requests_matching(
        "POST",
        &format!("/app/installations/{INSTALLATION}/access_tokens"),
    )
    .len()
}

#[tokio::test]
async fn given_many_calls_and_concurrent_clients_then_one_token_exchange() {
    let fake = FakeGitHub::start().await;
    let app = app(&fake);

    // Two tasks ask for the same installation at once.
    let (a, b) = tokio::join!(
        app.installation_client(INSTALLATION),
        app.installation_client(INSTALLATION)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..10 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        calls.spawn(async move { c.get_json::<Value>(&repo().route("")).await });
    }
    for r in calls.join_all().await {
        assert_eq!(r.unwrap()["full_name"], "octo-org/octo-repo");
    }

    assert_eq!(token_exchanges(&fake), 1);
    assert_eq!(fake.installation_tokens_issued(), 1);
    let stats = app.stats().snapshot();
    assert_eq!(stats.token_requests, 1);
    assert_eq!(stats.ok, 11, "{stats:?}");
    assert_eq!(stats.failed, 0);
    assert!(stats.rate_limit_remaining.is_some());
}

#[tokio::test]
async fn given_tokens_expiring_within_the_margin_then_each_call_refreshes() {
    let fake = FakeGitHub::start().await;
    // GitHub normally grants an hour; one minute is inside the 5-minute refresh margin.
    fake.set_token_ttl(Duration::from_secs(60));
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    for _ in 0..3 {
        client.get_json::<Value>(&repo().route("")).await.unwrap();
    }
    assert_eq!(token_exchanges(&fake), 4);

    // Tokens that live long are reused.
    fake.set_token_ttl(Duration::from_secs(3600));
    client.get_json::<Value>(&repo().route("")).await.unwrap();
    client.get_json::<Value>(&repo().route("")).await.unwrap();
    assert_eq!(token_exchanges(&fake), 5);
}

#[tokio::test]
async fn given_a_token_revoked_early_then_401_mints_a_new_one_and_succeeds() {
    let fake = FakeGitHub::start().await;
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    fake.expire_installation_tokens();

    let r: Value = client.get_json(&repo().route("")).await.unwrap();
    assert_eq!(r["name"], "octo-repo");
    assert_eq!(token_exchanges(&fake), 2);
    let statuses: Vec<_> = fake
        .requests_matching("GET", "/repos/octo-org/octo-repo")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(401), Some(200)]);
}

#[tokio::test]
async fn given_invalidate_then_next_call_mints_a_new_token() {
    let fake = FakeGitHub::start().await;
    let app = app(&fake);
    let client = app.installation_client(INSTALLATION).await.unwrap();
    app.invalidate(INSTALLATION).await;
    client.get_json::<Value>(&repo().route("")).await.unwrap();
    assert_eq!(token_exchanges(&fake), 2);
}

#[tokio::test]
async fn given_three_502s_then_the_fourth_attempt_succeeds() {
    let fake = FakeGitHub::start().await;
    let app = app(&fake);
    let client = app.installation_client(INSTALLATION).await.unwrap();
    fake.fail_next_on("GET", "/repos/octo-org/octo-repo/issues", 3, 502);

    let issues: Vec<Value> = client.get_json(&repo().issues()).await.unwrap();
    assert!(issues.is_empty());
    let seen = fake.requests_matching("GET", "/repos/octo-org/octo-repo/issues");
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3].status, Some(200));
    let stats = app.stats().snapshot();
    assert_eq!(stats.retried, 3);
    assert_eq!(stats.ok, 2, "token exchange + the listing");
}

#[tokio::test]
async fn given_502s_beyond_max_attempts_then_http_error_after_exactly_max_attempts() {
    let fake = FakeGitHub::start().await;
    let options = ClientOptions {
        max_attempts: 3,
        ..ClientOptions::for_tests()
    };
    let client = app_with(&fake, options)
        .installation_client(INSTALLATION)
        .await
        .unwrap();
    fake.fail_next_on("GET", "/repos/octo-org/octo-repo/issues", 10, 502);

    let err = client
        .get_json::<Value>(&repo().issues())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502), "{err}");
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/issues")
            .len(),
        3
    );
    fake.clear_faults();
}

#[tokio::test]
async fn given_a_secondary_rate_limit_with_retry_after_then_wait_and_succeed() {
    let fake = FakeGitHub::start().await;
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    fake.secondary_rate_limit_next_on("GET", "/repos/octo-org/octo-repo/labels", 1, 1);

    let started = Instant::now();
    let labels: Vec<Value> = client.get_json(&repo().labels()).await.unwrap();
    let elapsed = started.elapsed();

    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(labels.iter().all(|l| l["name"].is_string()));
    let statuses: Vec<_> = fake
        .requests_matching("GET", "/repos/octo-org/octo-repo/labels")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(403), Some(200)]);
}

#[tokio::test]
async fn given_secondary_limit_longer_than_max_wait_then_rate_limited_without_waiting() {
    let fake = FakeGitHub::start().await;
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    fake.secondary_rate_limit_next_on("GET", "/repos/octo-org/octo-repo/labels", 1, 600);

    let started = Instant::now();
    let err = client
        .get_json::<Value>(&repo().labels())
        .await
        .unwrap_err();
    assert!(matches!(err, GitHubError::RateLimited { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/labels")
            .len(),
        1
    );
}

#[tokio::test]
async fn given_primary_limit_exhausted_for_an_hour_then_rate_limited_with_reset_time() {
    let fake = FakeGitHub::start().await;
    let app = app(&fake);
    let client = app.installation_client(INSTALLATION).await.unwrap();
    fake.exhaust_rate_limit(Duration::from_secs(3600));

    let err = client
        .get_json::<Value>(&repo().issues())
        .await
        .unwrap_err();
    let GitHubError::RateLimited { reset_at } = err else {
        panic!("expected RateLimited, got {err}");
    };
    let in_secs = (reset_at - chrono::Utc::now()).num_seconds();
    assert!((3500..=3700).contains(&in_secs), "reset in {in_secs}s");
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/issues")
            .len(),
        1
    );
    assert_eq!(app.stats().snapshot().rate_limit_remaining, Some(0));
}

#[tokio::test]
async fn given_primary_limit_resetting_within_max_wait_then_wait_and_succeed() {
    let fake = FakeGitHub::start().await;
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    // The fake's reset is whole seconds, like GitHub's `x-ratelimit-reset`.
    fake.exhaust_rate_limit(Duration::from_secs(1));

    let issues: Vec<Value> = client.get_json(&repo().issues()).await.unwrap();
    assert!(issues.is_empty());
    let statuses: Vec<_> = fake
        .requests_matching("GET", "/repos/octo-org/octo-repo/issues")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(403), Some(200)]);
}

#[tokio::test]
async fn given_a_missing_resource_then_404_at_once_without_retry() {
    let fake = FakeGitHub::start().await;
    let app = app(&fake);
    let client = app.installation_client(INSTALLATION).await.unwrap();

    let err = client
        .get_json::<Value>(&repo().issue(999))
        .await
        .unwrap_err();
    match &err {
        GitHubError::Http {
            status,
            message,
            route,
        } => {
            assert_eq!(*status, 404);
            assert!(!message.is_empty());
            assert_eq!(route, "/repos/octo-org/octo-repo/issues/999");
        }
        other => panic!("expected Http 404, got {other}"),
    }
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/issues/999")
            .len(),
        1
    );
    let stats = app.stats().snapshot();
    assert_eq!((stats.failed, stats.retried), (1, 0));
}

#[tokio::test]
async fn given_a_validation_error_then_422_with_githubs_message() {
    let fake = FakeGitHub::start().await;
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let err = client
        .post_json::<_, Value>(&repo().issues(), &json!({"body": "no title"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    assert_eq!(fake.requests_matching("POST", "/repos/").len(), 1);
}

#[tokio::test]
async fn given_more_issues_than_a_page_then_get_all_follows_link_next() {
    let fake = FakeGitHub::start().await;
    let r = fake.default_repo();
    for i in 0..7 {
        r.add_issue(fake_github_issue(&format!("debt {i}")));
    }
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();

    let all: Vec<Value> = client
        .get_all(&repo().route("/issues?state=all&per_page=3"))
        .await
        .unwrap();
    let mut titles: Vec<_> = all
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    assert_eq!(titles.len(), 7);
    assert_eq!(titles[0], "debt 0");
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/issues")
            .len(),
        3
    );

    // Default page size is 100: one request.
    fake.clear_requests();
    let all: Vec<Value> = client.get_all(&repo().issues()).await.unwrap();
    assert_eq!(all.len(), 7);
    let seen = fake.requests_matching("GET", "/repos/octo-org/octo-repo/issues");
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .query
            .as_deref()
            .unwrap_or("")
            .contains("per_page=100")
    );
}

#[tokio::test]
async fn given_more_pages_than_the_cap_then_error_not_truncation() {
    let fake = FakeGitHub::start().await;
    let r = fake.default_repo();
    for i in 0..5 {
        r.add_issue(fake_github_issue(&format!("debt {i}")));
    }
    let options = ClientOptions {
        max_pages: 2,
        ..ClientOptions::for_tests()
    };
    let client = app_with(&fake, options)
        .installation_client(INSTALLATION)
        .await
        .unwrap();
    let err = client
        .get_all::<Value>(&repo().route("/issues?per_page=2"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GitHubError::TooManyPages { max_pages: 2, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn given_a_slow_response_then_timeout_error_after_bounded_time() {
    let fake = FakeGitHub::start().await;
    let options = ClientOptions {
        timeout: Duration::from_millis(300),
        max_attempts: 2,
        ..ClientOptions::for_tests()
    };
    let client = app_with(&fake, options)
        .installation_client(INSTALLATION)
        .await
        .unwrap();
    fake.delay_all("/repos/octo-org/octo-repo/issues", Duration::from_secs(5));

    let started = Instant::now();
    let err = client
        .get_json::<Value>(&repo().issues())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, GitHubError::Timeout { .. }), "{err}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    // GETs are idempotent, so the timeout was retried once.
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/issues")
            .len(),
        2
    );
    fake.clear_faults();
}

#[tokio::test]
async fn given_a_slow_post_then_timeout_is_not_retried_to_avoid_duplicates() {
    let fake = FakeGitHub::start().await;
    let options = ClientOptions {
        timeout: Duration::from_millis(300),
        ..ClientOptions::for_tests()
    };
    let client = app_with(&fake, options)
        .installation_client(INSTALLATION)
        .await
        .unwrap();
    fake.delay_all("/repos/octo-org/octo-repo/issues", Duration::from_secs(3));

    let err = client
        .post_json::<_, Value>(&repo().issues(), &json!({"title": "TODO: once"}))
        .await
        .unwrap_err();
    assert!(matches!(err, GitHubError::Timeout { .. }), "{err}");
    assert_eq!(
        fake.requests_matching("POST", "/repos/octo-org/octo-repo/issues")
            .len(),
        1
    );
    fake.clear_faults();
}

#[tokio::test]
async fn given_a_key_that_is_not_the_apps_then_token_exchange_fails_with_401() {
    let fake = FakeGitHub::start().await;
    let creds = AppCredentials::from_pem(APP_ID, OTHER_KEY).unwrap();
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).unwrap();
    let err = app.installation_client(INSTALLATION).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert_eq!(token_exchanges(&fake), 1, "a 401 is not retried");
}

#[test]
fn given_a_malformed_key_then_invalid_key_error() {
    let err =
        AppCredentials::from_pem(APP_ID, "-----BEGIN RSA PRIVATE KEY-----\nnope\n").unwrap_err();
    assert!(matches!(err, GitHubError::InvalidKey { .. }), "{err}");
    assert!(err.to_string().contains("private key"));
}

#[tokio::test]
async fn given_a_repo_then_installation_for_repo_finds_its_installation() {
    let fake = FakeGitHub::start().await;
    fake.add_repo("other-org", "tool", 77);
    let app = app(&fake);
    assert_eq!(
        app.installation_for_repo("octo-org", "octo-repo")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.installation_for_repo("other-org", "tool")
            .await
            .unwrap(),
        77
    );
    let err = app
        .installation_for_repo("nobody", "nothing")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    // App-level calls are made with the JWT: no installation token was minted.
    assert_eq!(token_exchanges(&fake), 0);
    assert_eq!(fake.installation_tokens_issued(), 0);
}

#[tokio::test]
async fn given_write_helpers_then_issue_is_created_edited_and_label_deleted() {
    let fake = FakeGitHub::start().await;
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let r = repo();

    let created: Value = client
        .post_json(
            &r.issues(),
            &json!({"title": "TODO: pay down", "labels": ["debt"]}),
        )
        .await
        .unwrap();
    let number = created["number"].as_u64().unwrap();
    let edited: Value = client
        .patch_json(&r.issue(number), &json!({"state": "closed"}))
        .await
        .unwrap();
    assert_eq!(edited["state"], "closed");
    let labels: Vec<Value> = client
        .put_json(
            &r.route(&format!("/issues/{number}/labels")),
            &json!({"labels": ["debt", "later"]}),
        )
        .await
        .unwrap();
    assert_eq!(labels.len(), 2);
    client.delete(&r.route("/labels/later")).await.unwrap();

    let issue = fake.default_repo().issue(number).unwrap();
    assert_eq!(issue.title, "TODO: pay down");
    assert!(
        fake.default_repo()
            .labels()
            .iter()
            .all(|l| l.name != "later")
    );
}

#[tokio::test]
async fn given_a_tarball_route_then_get_bytes_follows_the_redirect() {
    let fake = FakeGitHub::start().await;
    fake.default_repo()
        .set_files("main", &[("src/lib.rs", "// TODO: split this\n")]);
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();

    let bytes = client
        .get_bytes(&repo().tarball("main"), "application/vnd.github+json")
        .await
        .unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(!fake.requests_matching("GET", "/_codeload/").is_empty());
}

#[tokio::test]
async fn given_a_plain_token_then_client_calls_and_typed_octocrab_work() {
    let fake = FakeGitHub::start().await.with_user_token("ghp_test_token");
    let client =
        Client::from_token_with_options(&fake.url(), "ghp_test_token", ClientOptions::for_tests())
            .unwrap();
    assert_eq!(client.installation_id(), None);
    let repo_json: Value = client.get_json(&repo().route("")).await.unwrap();
    assert_eq!(repo_json["full_name"], "octo-org/octo-repo");

    let crab = client.octocrab().await.unwrap();
    let via_octocrab: Value = crab
        .get("/repos/octo-org/octo-repo", None::<&()>)
        .await
        .unwrap();
    assert_eq!(via_octocrab["full_name"], "octo-org/octo-repo");
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo")
            .len(),
        2,
        "octocrab's typed calls reach the configured base URI"
    );
    assert!(!format!("{client:?}").contains("ghp_test_token"));

    let wrong =
        Client::from_token_with_options(&fake.url(), "ghp_wrong", ClientOptions::for_tests())
            .unwrap();
    let err = wrong
        .get_json::<Value>(&repo().route(""))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(!err.to_string().contains("ghp_wrong"));
}

#[tokio::test]
async fn given_an_installation_client_then_typed_octocrab_uses_its_token() {
    let fake = FakeGitHub::start().await;
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let crab = client.octocrab().await.unwrap();
    let issues: Value = crab
        .get("/repos/octo-org/octo-repo/issues", None::<&()>)
        .await
        .unwrap();
    assert!(issues.as_array().is_some());
    assert_eq!(token_exchanges(&fake), 1);
}

#[tokio::test]
async fn given_nothing_listening_then_transport_error_after_retries() {
    // Bind then drop to get a port that refuses connections.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::from_token_with_options(
        &format!("http://127.0.0.1:{port}"),
        "t",
        ClientOptions::for_tests(),
    )
    .unwrap();
    let err = client.get_json::<Value>("/rate_limit").await.unwrap_err();
    assert!(matches!(err, GitHubError::Transport { .. }), "{err}");
    let stats = client.stats().snapshot();
    assert_eq!(stats.requests, 5);
    assert_eq!(stats.retried, 4);
}

fn fake_github_issue(title: &str) -> fake_github::NewIssue {
    fake_github::NewIssue::new(title)
}

#[tokio::test]
async fn given_an_etag_then_unchanged_resource_is_not_modified() {
    let fake = FakeGitHub::start().await;
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();
    let route = repo().labels();

    let first = client
        .get_json_if_changed::<Vec<Value>>(&route, None)
        .await
        .unwrap();
    let Conditional::Modified {
        etag: Some(etag), ..
    } = first
    else {
        panic!("expected a body with an ETag, got {first:?}");
    };
    let again = client
        .get_json_if_changed::<Vec<Value>>(&route, Some(&etag))
        .await
        .unwrap();
    assert_eq!(again, Conditional::NotModified);

    fake.default_repo().add_label("fresh", "ededed", None);
    let changed = client
        .get_json_if_changed::<Vec<Value>>(&route, Some(&etag))
        .await
        .unwrap();
    assert!(
        matches!(changed, Conditional::Modified { ref value, .. } if value.iter().any(|l| l["name"] == "fresh"))
    );
}

#[tokio::test]
async fn given_raw_accept_then_get_bytes_returns_file_contents() {
    let fake = FakeGitHub::start().await;
    fake.default_repo()
        .set_files("main", &[("docs/a b.md", "# TODO: write docs\n")]);
    let client = app(&fake).installation_client(INSTALLATION).await.unwrap();

    let bytes = client
        .get_bytes(
            &repo().contents("docs/a b.md", "main"),
            "application/vnd.github.raw",
        )
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"# TODO: write docs\n");
}

#[tokio::test]
async fn given_an_uninstalled_app_then_installation_client_fails_with_404_and_no_retry() {
    let fake = FakeGitHub::start().await;
    fake.uninstall(INSTALLATION);
    let err = app(&fake)
        .installation_client(INSTALLATION)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(!err.is_transient());
    assert_eq!(token_exchanges(&fake), 1);
}
