//! The fake against octocrab 0.54, the client paydown uses: its App auth and
//! token exchange work against the fake, and its models deserialise every
//! JSON shape the fake serves.

use fake_github::{APP_ID, FakeGitHub, NewIssue, app_private_key_pem};
use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use serde_json::{Value, json};

const REPO: &str = "octo-org/octo-repo";

fn app_client(fake: &FakeGitHub) -> Octocrab {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(app_private_key_pem().as_bytes()).unwrap();
    Octocrab::builder()
        .base_uri(fake.url())
        .unwrap()
        .app(AppId(APP_ID), key)
        .build()
        .unwrap()
}

#[tokio::test]
async fn given_octocrab_as_the_app_when_acting_on_an_installation_then_the_fake_serves_it() {
    let fake = FakeGitHub::start().await;
    let app = app_client(&fake);
    let installs = app.apps().installations().send().await.unwrap();
    assert_eq!(installs.items[0].id, InstallationId(1));

    let gh = app.installation(InstallationId(1)).unwrap();
    let issue = gh
        .issues("octo-org", "octo-repo")
        .create("TODO: flush the cache")
        .body("<!-- paydown:item id=abc -->")
        .labels(vec!["tech-debt".to_owned()])
        .send()
        .await
        .unwrap();
    assert_eq!(issue.number, 1);
    assert_eq!(issue.user.login, "paydown[bot]");
    assert_eq!(fake.installation_tokens_issued(), 1);

    let comment = gh
        .issues("octo-org", "octo-repo")
        .create_comment(1, "first!")
        .await
        .unwrap();
    assert_eq!(comment.body.as_deref(), Some("first!"));
    let page = gh
        .issues("octo-org", "octo-repo")
        .list()
        .labels(&["tech-debt".to_owned()])
        .send()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let perm = gh.repos("octo-org", "octo-repo").get().await.unwrap();
    assert_eq!(perm.default_branch.as_deref(), Some("main"));
    assert_eq!(fake.take_comments(REPO, 1).len(), 1);
}

#[tokio::test]
async fn given_many_issues_when_octocrab_pages_through_them_then_all_arrive() {
    let fake = FakeGitHub::start().await;
    let repo = fake.default_repo();
    for n in 0..7 {
        repo.add_issue(NewIssue::new(&format!("issue {n}")).labels(&["tech-debt"]));
    }
    let gh = app_client(&fake).installation(InstallationId(1)).unwrap();
    let first = gh
        .issues("octo-org", "octo-repo")
        .list()
        .per_page(3)
        .send()
        .await
        .unwrap();
    assert_eq!(first.items.len(), 3);
    // octocrab sends credentials only to api.github.com or relative URIs, so
    // following the fake's absolute `Link` URLs as-is goes out unauthenticated
    // (as it would against GitHub Enterprise Server): clients must re-root them.
    let mut all = first.items.clone();
    let mut next = first.next.clone();
    while let Some(uri) = next {
        let relative: http::Uri = uri.path_and_query().unwrap().as_str().parse().unwrap();
        let page: octocrab::Page<octocrab::models::issues::Issue> =
            gh.get_page(&Some(relative)).await.unwrap().unwrap();
        all.extend(page.items);
        next = page.next;
    }
    assert_eq!(all.len(), 7);
    let err = gh.all_pages(first).await.unwrap_err();
    assert!(
        matches!(err, octocrab::Error::GitHub { ref source, .. } if source.status_code == 401),
        "{err:?}"
    );
}

async fn get(fake: &FakeGitHub, token: &str, path: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", fake.url()))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn post(fake: &FakeGitHub, token: &str, path: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", fake.url()))
        .header("authorization", format!("token {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "POST {path}: {}", resp.status());
    resp.json().await.unwrap()
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, v: Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{what}: {e}\n{v:#}"))
}

#[tokio::test]
async fn every_shape_the_fake_serves_deserialises_into_octocrab_models() {
    use octocrab::models;
    let fake = FakeGitHub::start().await.with_user_token("pat");
    let repo = fake.default_repo();
    let base = repo.head("main").unwrap();
    repo.set_files(
        "feature",
        &[
            ("README.md", "# octo-repo\nmore\n"),
            ("src/a.rs", "// TODO: x\n"),
        ],
    );
    let m = repo.add_milestone("Sprint 1", Some(chrono::Utc::now()), true);
    let pr = repo.add_pull_request(
        NewIssue::new("A PR")
            .labels(&["feature"])
            .assignees(&["bob"]),
        "feature",
    );
    repo.edit_issue(pr, |i| i.milestone = Some(m));
    let head = repo.head("feature").unwrap();
    let t = "pat";

    let app = reqwest::Client::new();
    let jwt = {
        let key =
            jsonwebtoken::EncodingKey::from_rsa_pem(app_private_key_pem().as_bytes()).unwrap();
        let now = chrono::Utc::now().timestamp();
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &json!({"iss": APP_ID, "iat": now - 30, "exp": now + 300}),
            &key,
        )
        .unwrap()
    };
    let token: Value = app
        .post(format!("{}/app/installations/1/access_tokens", fake.url()))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _: models::InstallationToken = parse("installation token", token);
    let installs: Value = app
        .get(format!("{}/app/installations", fake.url()))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _: Vec<models::Installation> = parse("installations", installs);
    let me: Value = app
        .get(format!("{}/app", fake.url()))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _: models::App = parse("app", me);

    let issue = get(&fake, t, &format!("/repos/{REPO}/issues/{pr}")).await;
    let issue: models::issues::Issue = parse("issue", issue);
    assert!(issue.pull_request.is_some());
    assert_eq!(issue.milestone.unwrap().number, m as i64);
    let comment = post(
        &fake,
        t,
        &format!("/repos/{REPO}/issues/{pr}/comments"),
        json!({"body": "hi"}),
    )
    .await;
    let comment: models::issues::Comment = parse("comment", comment);
    let reaction = post(
        &fake,
        t,
        &format!("/repos/{REPO}/issues/comments/{}/reactions", comment.id),
        json!({"content": "+1"}),
    )
    .await;
    let _: models::reactions::Reaction = parse("reaction", reaction);
    let _: Vec<models::Label> = parse(
        "labels",
        get(&fake, t, &format!("/repos/{REPO}/labels")).await,
    );
    let _: Vec<models::Milestone> = parse(
        "milestones",
        get(&fake, t, &format!("/repos/{REPO}/milestones")).await,
    );
    let _: models::pulls::PullRequest = parse(
        "pull",
        get(&fake, t, &format!("/repos/{REPO}/pulls/{pr}")).await,
    );
    let _: Vec<models::pulls::PullRequest> = parse(
        "pulls",
        get(&fake, t, &format!("/repos/{REPO}/pulls")).await,
    );
    let _: Vec<models::repos::DiffEntry> = parse(
        "pull files",
        get(&fake, t, &format!("/repos/{REPO}/pulls/{pr}/files")).await,
    );
    let _: models::commits::CommitComparison = parse(
        "compare",
        get(&fake, t, &format!("/repos/{REPO}/compare/{base}...{head}")).await,
    );
    let _: models::repos::RepoCommit = parse(
        "commit",
        get(&fake, t, &format!("/repos/{REPO}/commits/{head}")).await,
    );
    let _: models::repos::Content = parse(
        "content",
        get(
            &fake,
            t,
            &format!("/repos/{REPO}/contents/src/a.rs?ref=feature"),
        )
        .await,
    );
    let _: Vec<models::repos::Content> = parse(
        "dir",
        get(&fake, t, &format!("/repos/{REPO}/contents/?ref=feature")).await,
    );
    let _: models::Repository = parse("repository", get(&fake, t, &format!("/repos/{REPO}")).await);
    let run = post(
        &fake,
        t,
        &format!("/repos/{REPO}/check-runs"),
        json!({"name": "paydown", "head_sha": head, "conclusion": "success", "output": {"title": "ok", "summary": "fine"}}),
    )
    .await;
    let _: models::checks::CheckRun = parse("check run", run);
    let _: models::checks::ListCheckRuns = parse(
        "check runs",
        get(
            &fake,
            t,
            &format!("/repos/{REPO}/commits/{head}/check-runs"),
        )
        .await,
    );
    let _: models::RateLimit = parse("rate limit", get(&fake, t, "/rate_limit").await);
    fake.take_comments(REPO, pr);
}

#[tokio::test]
async fn webhook_payloads_built_from_the_fake_parse_as_octocrab_webhook_events() {
    use octocrab::models::webhook_events::{WebhookEvent, WebhookEventPayload};
    let fake = FakeGitHub::start().await;
    let repo = fake.default_repo();
    let before = repo.head("main").unwrap();
    repo.set_files(
        "main",
        &[
            ("README.md", "# octo-repo\n"),
            ("src/lib.rs", "// TODO: a\n"),
        ],
    );
    repo.set_files(
        "feature",
        &[
            ("README.md", "# octo-repo\n"),
            ("src/lib.rs", "fn a() {}\n"),
        ],
    );
    let issue = repo.add_issue(NewIssue::new("debt").labels(&["tech-debt"]));
    let pr = repo.add_pull_request(
        NewIssue::new("pay it down").labels(&["refactor"]),
        "feature",
    );
    let comment = repo.add_comment(pr, "bob", "/debt classify debt");

    let cases = [
        (
            "issue_comment",
            fake.issue_comment_payload(REPO, comment, "created", None),
        ),
        (
            "issue_comment",
            fake.issue_comment_payload(REPO, comment, "edited", Some("/debt help")),
        ),
        (
            "issues",
            fake.issues_payload(REPO, issue, "labeled", "alice", Some("tech-debt")),
        ),
        (
            "pull_request",
            fake.pull_request_payload(REPO, pr, "opened", "alice", None),
        ),
        ("push", fake.push_payload(REPO, "main", &before, "alice")),
    ];
    for (event, payload) in cases {
        let body = serde_json::to_vec(&payload).unwrap();
        let parsed = WebhookEvent::try_from_header_and_body(event, &body)
            .unwrap_or_else(|e| panic!("{event}: {e}\n{payload:#}"));
        assert_eq!(parsed.repository.unwrap().name, "octo-repo");
        match parsed.specific {
            WebhookEventPayload::IssueComment(p) => assert_eq!(p.comment.id.0, comment),
            WebhookEventPayload::Issues(p) => assert_eq!(p.issue.number, issue),
            WebhookEventPayload::PullRequest(p) => assert_eq!(p.number, pr),
            WebhookEventPayload::Push(p) => {
                assert_eq!(p.commits.len(), 1);
                assert_eq!(p.commits[0].added, vec!["src/lib.rs".to_owned()]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let push = fake.push_payload(REPO, "main", &before, "alice");
    assert_eq!(push["installation"]["id"], 1);
    assert_eq!(push["after"], repo.head("main").unwrap().as_str());
}
