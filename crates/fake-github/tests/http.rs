//! The fake exercised over real HTTP with reqwest: App auth and token exchange,
//! issues and comments, contents, tarballs, compare, checks, faults, request log.

use std::io::Read;
use std::time::{Duration, Instant};

use fake_github::{APP_ID, FakeGitHub, NewIssue, Permission, app_private_key_pem};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

const REPO: &str = "octo-org/octo-repo";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn app_jwt() -> String {
    let key = EncodingKey::from_rsa_pem(app_private_key_pem().as_bytes()).unwrap();
    let claims = json!({"iss": APP_ID, "iat": now() - 60, "exp": now() + 540});
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

struct Client {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Client {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let b = self
            .http
            .request(method, url)
            .header("user-agent", "fake-github-tests")
            .header("accept", "application/vnd.github+json");
        if self.auth.is_empty() {
            b
        } else {
            b.header("authorization", &self.auth)
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.req(reqwest::Method::GET, path).send().await.unwrap()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.req(method, path).json(&body).send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let resp = self.send(reqwest::Method::POST, path, body).await;
        assert!(resp.status().is_success(), "POST {path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    async fn patch(&self, path: &str, body: Value) -> Value {
        let resp = self.send(reqwest::Method::PATCH, path, body).await;
        assert!(
            resp.status().is_success(),
            "PATCH {path}: {}",
            resp.status()
        );
        resp.json().await.unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
        resp.json().await.unwrap()
    }
}

fn client(fake: &FakeGitHub, auth: &str) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: fake.url(),
        auth: auth.to_owned(),
    }
}

async fn installation_client(fake: &FakeGitHub) -> Client {
    let app = client(fake, &format!("Bearer {}", app_jwt()));
    let tok = app
        .post("/app/installations/1/access_tokens", json!({}))
        .await;
    client(fake, &format!("token {}", tok["token"].as_str().unwrap()))
}

#[tokio::test]
async fn given_no_or_bad_jwt_when_calling_app_endpoints_then_401() {
    let fake = FakeGitHub::start().await;
    assert_eq!(client(&fake, "").get("/app").await.status(), 401);
    let forged = client(&fake, "Bearer aaa.bbb.ccc");
    assert_eq!(forged.get("/app/installations").await.status(), 401);
    let user = fake_github::FakeGitHub::start()
        .await
        .with_user_token("pat");
    let pat = client(&user, "token pat");
    assert_eq!(pat.get("/app").await.status(), 401);

    let app = client(&fake, &format!("Bearer {}", app_jwt()));
    let me = app.json("/app").await;
    assert_eq!(me["id"], APP_ID);
    let list = app.json("/app/installations").await;
    assert_eq!(list[0]["id"], 1);
    assert_eq!(list[0]["account"]["login"], "octo-org");
    let inst = app.json("/repos/octo-org/octo-repo/installation").await;
    assert_eq!(inst["id"], 1);
    assert_eq!(
        app.get("/repos/octo-org/nope/installation").await.status(),
        404
    );
}

#[tokio::test]
async fn given_an_app_jwt_when_exchanging_then_each_token_is_fresh_and_scoped() {
    let fake = FakeGitHub::start().await;
    fake.add_repo("other-org", "elsewhere", 2)
        .set_files("main", &[("a.txt", "a\n")]);
    let app = client(&fake, &format!("Bearer {}", app_jwt()));
    let a = app
        .post("/app/installations/1/access_tokens", json!({}))
        .await;
    let b = app
        .post("/app/installations/1/access_tokens", json!({}))
        .await;
    assert_ne!(a["token"], b["token"]);
    assert!(a["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(fake.installation_tokens_issued(), 2);

    let inst = client(&fake, &format!("token {}", a["token"].as_str().unwrap()));
    let repo = inst.json("/repos/octo-org/octo-repo").await;
    assert_eq!(repo["default_branch"], "main");
    assert_eq!(inst.get("/repos/other-org/elsewhere").await.status(), 404);
    let listed = inst.json("/installation/repositories").await;
    assert_eq!(listed["total_count"], 1);
    // Installation tokens may not call App endpoints, nor the App JWT repo ones.
    assert_eq!(inst.get("/app").await.status(), 401);
    assert_eq!(app.get("/repos/octo-org/octo-repo").await.status(), 403);
    // Bearer works like token.
    let bearer = client(&fake, &format!("Bearer {}", b["token"].as_str().unwrap()));
    assert_eq!(bearer.get("/repos/octo-org/octo-repo").await.status(), 200);
    assert_eq!(
        client(&fake, "token nope")
            .get("/repos/octo-org/octo-repo")
            .await
            .status(),
        401
    );
    assert_eq!(
        client(&fake, "")
            .get("/repos/octo-org/octo-repo")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn given_expired_tokens_or_uninstall_then_calls_fail() {
    let fake = FakeGitHub::start().await;
    let inst = installation_client(&fake).await;
    assert_eq!(inst.get("/repos/octo-org/octo-repo").await.status(), 200);
    fake.expire_installation_tokens();
    assert_eq!(inst.get("/repos/octo-org/octo-repo").await.status(), 401);

    let inst = installation_client(&fake).await;
    fake.uninstall(1);
    assert_eq!(inst.get("/repos/octo-org/octo-repo").await.status(), 401);
    let app = client(&fake, &format!("Bearer {}", app_jwt()));
    let resp = app
        .send(
            reqwest::Method::POST,
            "/app/installations/1/access_tokens",
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn given_issues_when_created_listed_and_edited_then_state_follows_github() {
    let fake = FakeGitHub::start().await;
    let gh = installation_client(&fake).await;
    for n in 1..=5 {
        let issue = gh
            .post(
                "/repos/octo-org/octo-repo/issues",
                json!({"title": format!("debt {n}"), "body": "b", "labels": ["tech-debt", "debt:TODO"]}),
            )
            .await;
        assert_eq!(issue["number"], n);
        assert_eq!(issue["user"]["login"], "paydown[bot]");
        assert_eq!(issue["user"]["type"], "Bot");
    }
    // Labels used on an issue are created in the repository.
    let labels = gh.json("/repos/octo-org/octo-repo/labels").await;
    assert_eq!(labels.as_array().unwrap().len(), 2);

    // Pagination: 5 issues, 2 per page → 3 pages linked by `Link`.
    let mut url = format!(
        "{}/repos/octo-org/octo-repo/issues?labels=tech-debt&per_page=2&state=all",
        fake.url()
    );
    let mut seen = Vec::new();
    loop {
        let resp = gh.get(&url).await;
        let next = resp
            .headers()
            .get("link")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| {
                l.split(", ")
                    .find(|p| p.ends_with("rel=\"next\""))
                    .map(|p| p[1..p.find('>').unwrap()].to_owned())
            });
        let page: Vec<Value> = resp.json().await.unwrap();
        seen.extend(page.iter().map(|i| i["number"].as_u64().unwrap()));
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(seen, vec![5, 4, 3, 2, 1]);

    let closed = gh
        .patch(
            "/repos/octo-org/octo-repo/issues/2",
            json!({"state": "closed", "state_reason": "not_planned", "labels": ["debt:wontfix"]}),
        )
        .await;
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["state_reason"], "not_planned");
    assert_eq!(closed["labels"][0]["name"], "debt:wontfix");
    let open = gh.json("/repos/octo-org/octo-repo/issues").await;
    assert_eq!(open.as_array().unwrap().len(), 4);
    let reopened = gh
        .patch(
            "/repos/octo-org/octo-repo/issues/2",
            json!({"state": "open"}),
        )
        .await;
    assert_eq!(reopened["state_reason"], "reopened");
    assert!(reopened["closed_at"].is_null());

    // Assignees must be assignable; carol only reads.
    let bad = gh
        .send(
            reqwest::Method::PATCH,
            "/repos/octo-org/octo-repo/issues/1",
            json!({"assignees": ["carol"]}),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let ok = gh
        .patch(
            "/repos/octo-org/octo-repo/issues/1",
            json!({"assignees": ["bob"]}),
        )
        .await;
    assert_eq!(ok["assignees"][0]["login"], "bob");

    // Label add / remove on an issue, with percent-encoded names.
    let after_add = gh
        .post(
            "/repos/octo-org/octo-repo/issues/1/labels",
            json!({"labels": ["debt:P1"]}),
        )
        .await;
    assert_eq!(after_add.as_array().unwrap().len(), 3);
    let resp = gh
        .req(
            reqwest::Method::DELETE,
            "/repos/octo-org/octo-repo/issues/1/labels/debt%3AP1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        fake.default_repo().issue(1).unwrap().labels,
        vec!["tech-debt", "debt:TODO"]
    );
}

#[tokio::test]
async fn given_comments_when_posted_and_taken_then_strictness_is_satisfied() {
    let fake = FakeGitHub::start().await;
    let repo = fake.default_repo();
    let n = repo.add_issue(NewIssue::new("an issue").user("alice"));
    let seeded = repo.add_comment(n, "alice", "/debt help");
    let gh = installation_client(&fake).await;
    let c = gh
        .post(
            &format!("/repos/{REPO}/issues/{n}/comments"),
            json!({"body": "hello"}),
        )
        .await;
    let id = c["id"].as_u64().unwrap();
    gh.patch(
        &format!("/repos/{REPO}/issues/comments/{id}"),
        json!({"body": "hello again"}),
    )
    .await;
    let list = gh.json(&format!("/repos/{REPO}/issues/{n}/comments")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    let r = gh
        .post(
            &format!("/repos/{REPO}/issues/comments/{seeded}/reactions"),
            json!({"content": "eyes"}),
        )
        .await;
    assert_eq!(r["content"], "eyes");
    let again = gh
        .send(
            reqwest::Method::POST,
            &format!("/repos/{REPO}/issues/comments/{seeded}/reactions"),
            json!({"content": "eyes"}),
        )
        .await;
    assert_eq!(
        again.status(),
        200,
        "a repeated reaction answers 200, not 201"
    );
    assert_eq!(repo.comment(seeded).unwrap().reactions.len(), 1);

    assert_eq!(fake.unasserted_comments().len(), 1);
    let taken = fake.take_comments(REPO, n);
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].body, "hello again");
    fake.assert_no_unasserted_comments();
    let del = gh
        .req(
            reqwest::Method::DELETE,
            &format!("/repos/{REPO}/issues/comments/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
}

#[tokio::test]
async fn given_an_unasserted_bot_comment_when_the_fake_drops_then_it_panics() {
    let fake = FakeGitHub::start().await;
    let n = fake.default_repo().add_issue(NewIssue::new("x"));
    let gh = installation_client(&fake).await;
    gh.post(
        &format!("/repos/{REPO}/issues/{n}/comments"),
        json!({"body": "surprise"}),
    )
    .await;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(fake)));
    let msg = outcome.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("surprise"), "{msg}");
}

#[tokio::test]
async fn given_files_then_contents_trees_tarball_and_compare_reflect_them() {
    let fake = FakeGitHub::start().await;
    let repo = fake.default_repo();
    let base = repo.set_files(
        "main",
        &[
            ("src/lib.rs", "// TODO: one\nfn a() {}\n"),
            ("old.txt", "same\n"),
            ("gone.md", "bye\n"),
        ],
    );
    let head = repo.set_files(
        "main",
        &[
            ("src/lib.rs", "fn a() {}\n"),
            ("new.txt", "same\n"),
            ("src/b.py", "# FIXME: two\n"),
        ],
    );
    let gh = installation_client(&fake).await;

    let file = gh
        .json(&format!("/repos/{REPO}/contents/src/lib.rs?ref={base}"))
        .await;
    let b64: String = file["content"].as_str().unwrap().split('\n').collect();
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(decoded, b"// TODO: one\nfn a() {}\n");
    let raw = gh
        .req(
            reqwest::Method::GET,
            &format!("/repos/{REPO}/contents/src/b.py"),
        )
        .header("accept", "application/vnd.github.raw")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.text().await.unwrap(), "# FIXME: two\n");
    assert_eq!(
        gh.get(&format!("/repos/{REPO}/contents/missing"))
            .await
            .status(),
        404
    );

    let tree = gh
        .json(&format!("/repos/{REPO}/git/trees/main?recursive=1"))
        .await;
    let paths: Vec<&str> = tree["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["new.txt", "src", "src/b.py", "src/lib.rs"]);

    // Tarball: a redirect to the fake's codeload, then a gzip tarball under owner-repo-sha7/.
    let resp = gh.get(&format!("/repos/{REPO}/tarball/main")).await;
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut files = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut content = String::new();
        entry.read_to_string(&mut content).unwrap();
        files.push((path, content));
    }
    let prefix = format!("octo-org-octo-repo-{}", &head[..7]);
    assert!(files.iter().any(|(p, _)| p == &format!("{prefix}/")));
    assert!(files.contains(&(format!("{prefix}/src/b.py"), "# FIXME: two\n".into())));
    assert_eq!(files.iter().filter(|(p, _)| !p.ends_with('/')).count(), 3);

    let cmp = gh
        .json(&format!("/repos/{REPO}/compare/{base}...{head}"))
        .await;
    assert_eq!(cmp["status"], "ahead");
    assert_eq!(cmp["ahead_by"], 1);
    let files: Vec<(String, String)> = cmp["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["filename"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        files,
        vec![
            ("gone.md".to_owned(), "removed".to_owned()),
            ("new.txt".to_owned(), "renamed".to_owned()),
            ("src/b.py".to_owned(), "added".to_owned()),
            ("src/lib.rs".to_owned(), "modified".to_owned()),
        ]
    );
    assert_eq!(cmp["files"][1]["previous_filename"], "old.txt");
    assert_eq!(
        cmp["files"][3]["patch"],
        "@@ -1,2 +1 @@\n-// TODO: one\n fn a() {}"
    );

    let commit = gh.json(&format!("/repos/{REPO}/commits/main")).await;
    assert_eq!(commit["sha"], head.as_str());
    assert_eq!(commit["parents"][0]["sha"], base.as_str());
}

#[tokio::test]
async fn given_a_pull_request_then_files_checks_and_commit_lookup_work() {
    let fake = FakeGitHub::start().await;
    let repo = fake.default_repo();
    repo.set_files(
        "feature",
        &[("README.md", "# octo-repo\n"), ("a.rs", "// HACK: x\n")],
    );
    let n = repo.add_pull_request(NewIssue::new("Add a").labels(&["feature"]), "feature");
    let gh = installation_client(&fake).await;
    let pr = gh.json(&format!("/repos/{REPO}/pulls/{n}")).await;
    assert_eq!(pr["head"]["ref"], "feature");
    assert_eq!(pr["merged"], false);
    let files = gh.json(&format!("/repos/{REPO}/pulls/{n}/files")).await;
    assert_eq!(files[0]["filename"], "a.rs");
    assert_eq!(files[0]["status"], "added");

    let head = repo.head("feature").unwrap();
    let run = gh
        .post(
            &format!("/repos/{REPO}/check-runs"),
            json!({"name": "paydown", "head_sha": head, "status": "in_progress"}),
        )
        .await;
    let id = run["id"].as_u64().unwrap();
    let ann = json!({"path": "a.rs", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "DEBT needs an owner"});
    gh.patch(
        &format!("/repos/{REPO}/check-runs/{id}"),
        json!({"conclusion": "neutral", "output": {"title": "t", "summary": "s", "annotations": [ann]}}),
    )
    .await;
    let runs = gh
        .json(&format!("/repos/{REPO}/commits/{head}/check-runs"))
        .await;
    assert_eq!(runs["total_count"], 1);
    assert_eq!(runs["check_runs"][0]["status"], "completed");
    assert_eq!(runs["check_runs"][0]["output"]["annotations_count"], 1);
    assert_eq!(
        repo.check_runs()[0].annotations[0]["message"],
        "DEBT needs an owner"
    );

    let merge = repo.merge_pull_request(n, "alice");
    let prs = gh
        .json(&format!("/repos/{REPO}/commits/{merge}/pulls"))
        .await;
    assert_eq!(prs[0]["number"], n);
    assert_eq!(prs[0]["merged"], true);
}

#[tokio::test]
async fn given_collaborators_then_permission_reports_role_and_legacy_names() {
    let fake = FakeGitHub::start().await;
    fake.default_repo()
        .set_permission("dave", Permission::Maintain);
    let gh = installation_client(&fake).await;
    let p = |login: &str| format!("/repos/{REPO}/collaborators/{login}/permission");
    assert_eq!(gh.json(&p("alice")).await["permission"], "admin");
    let dave = gh.json(&p("dave")).await;
    assert_eq!(
        (dave["permission"].as_str(), dave["role_name"].as_str()),
        (Some("write"), Some("maintain"))
    );
    assert_eq!(gh.json(&p("mallory")).await["permission"], "none");
    assert_eq!(gh.get(&p("stranger")).await.status(), 404);
}

#[tokio::test]
async fn given_injected_faults_then_requests_fail_then_recover() {
    let fake = FakeGitHub::start().await;
    let gh = installation_client(&fake).await;
    let path = format!("/repos/{REPO}");
    fake.fail_next(2, 502);
    assert_eq!(gh.get(&path).await.status(), 502);
    assert_eq!(gh.get(&path).await.status(), 502);
    assert_eq!(gh.get(&path).await.status(), 200);

    fake.fail_next_on("POST", "/repos/octo-org/octo-repo/issues", 1, 500);
    assert_eq!(
        gh.get(&path).await.status(),
        200,
        "scoped fault skips other routes"
    );
    let resp = gh
        .send(
            reqwest::Method::POST,
            &format!("{path}/issues"),
            json!({"title": "t"}),
        )
        .await;
    assert_eq!(resp.status(), 500);

    fake.secondary_rate_limit_next(7);
    let resp = gh.get(&path).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert!(resp.text().await.unwrap().contains("secondary rate limit"));

    let before: u64 = gh.get(&path).await.headers()["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let after: u64 = gh.get(&path).await.headers()["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(after, before - 1);

    fake.exhaust_rate_limit(Duration::from_secs(60));
    let resp = gh.get(&path).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    let reset: i64 = resp.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > now());
    fake.set_rate_limit(10, Duration::from_secs(60));
    assert_eq!(gh.get(&path).await.status(), 200);

    fake.delay_next("/repos/octo-org/octo-repo", Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(gh.get(&path).await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    gh.get(&path).await;
    assert!(t.elapsed() < Duration::from_millis(300));

    fake.delay_next_on(
        "POST",
        "/repos/octo-org/octo-repo",
        1,
        Duration::from_millis(300),
    );
    let t = Instant::now();
    gh.get(&path).await;
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "GETs are not delayed"
    );
    gh.post(&format!("{path}/labels"), json!({"name": "slow"}))
        .await;
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn given_an_etag_when_requesting_again_then_304_and_no_charge() {
    let fake = FakeGitHub::start().await;
    let gh = installation_client(&fake).await;
    let path = format!("/repos/{REPO}/issues");
    let first = gh.get(&path).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let left: u64 = first.headers()["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let second = gh
        .req(reqwest::Method::GET, &path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 304);
    assert_eq!(
        second.headers()["x-ratelimit-remaining"].to_str().unwrap(),
        left.to_string()
    );
}

#[tokio::test]
async fn given_requests_then_the_log_records_them_without_secrets() {
    let fake = FakeGitHub::start().await;
    let gh = installation_client(&fake).await;
    fake.clear_requests();
    gh.post(&format!("/repos/{REPO}/issues"), json!({"title": "t"}))
        .await;
    gh.get(&format!("/repos/{REPO}/issues?state=all")).await;
    let log = fake.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].json()["title"], "t");
    assert_eq!(log[0].status, Some(201));
    assert_eq!(log[1].query.as_deref(), Some("state=all"));
    assert_eq!(log[0].header("authorization"), Some("token <redacted>"));
    assert_eq!(fake.count_writes(), 1);
    assert_eq!(fake.requests_matching("GET", "/repos/octo-org").len(), 1);
}

#[tokio::test]
async fn given_a_user_token_then_writes_are_attributed_to_that_user() {
    let fake = FakeGitHub::start().await.with_user_token("ghp_test");
    let gh = client(&fake, "token ghp_test");
    let issue = gh
        .post(
            &format!("/repos/{REPO}/issues"),
            json!({"title": "from cli"}),
        )
        .await;
    assert_eq!(issue["user"]["login"], "octocat");
    assert_eq!(issue["user"]["type"], "User");
}

#[tokio::test]
async fn given_a_signed_webhook_then_the_receiver_sees_githubs_headers() {
    use axum::http::HeaderMap;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(HeaderMap, Vec<u8>)>();
    let app = axum::Router::new().route(
        "/webhook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                tx.send((headers, body.to_vec())).unwrap();
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let body = br#"{"action":"opened"}"#;
    let resp = fake_github::send_webhook(
        &format!("http://{addr}/webhook"),
        "s3cret",
        "issues",
        "d-1",
        body,
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let (headers, got) = rx.recv().await.unwrap();
    assert_eq!(got, body);
    assert_eq!(headers["x-github-event"], "issues");
    assert_eq!(headers["x-github-delivery"], "d-1");
    assert_eq!(
        headers["x-hub-signature-256"],
        fake_github::sign_webhook("s3cret", body).as_str()
    );
}

#[tokio::test]
async fn given_oversized_titles_bodies_or_labels_then_422_like_github() {
    let fake = FakeGitHub::start().await;
    let gh = installation_client(&fake).await;
    let issues = format!("/repos/{REPO}/issues");
    let cases = [
        json!({"title": "x".repeat(257)}),
        json!({"title": "ok", "body": "b".repeat(65537)}),
        json!({"title": "ok", "labels": ["l".repeat(51)]}),
        json!({"body": "no title"}),
    ];
    for body in cases {
        let resp = gh.send(reqwest::Method::POST, &issues, body).await;
        assert_eq!(resp.status(), 422);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["message"], "Validation Failed");
    }
    let at_limit = gh
        .post(
            &issues,
            json!({"title": "t".repeat(256), "body": "b".repeat(65536)}),
        )
        .await;
    assert_eq!(at_limit["number"], 1);
    assert_eq!(fake.default_repo().issues().len(), 1);
}

#[tokio::test]
async fn given_one_installation_out_of_budget_then_only_it_is_refused_with_429() {
    let fake = FakeGitHub::start().await;
    fake.add_repo("other-org", "elsewhere", 2);
    let app = client(&fake, &format!("Bearer {}", app_jwt()));
    let t1 = app
        .post("/app/installations/1/access_tokens", json!({}))
        .await;
    let t2 = app
        .post("/app/installations/2/access_tokens", json!({}))
        .await;
    let one = client(&fake, &format!("token {}", t1["token"].as_str().unwrap()));
    let two = client(&fake, &format!("token {}", t2["token"].as_str().unwrap()));
    fake.set_primary_rate_limit_status(429);
    fake.set_installation_rate_limit(1, 1, Duration::from_secs(120));
    assert_eq!(one.get(&format!("/repos/{REPO}")).await.status(), 200);
    let refused = one.get(&format!("/repos/{REPO}")).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(two.get("/repos/other-org/elsewhere").await.status(), 200);
    // /rate_limit itself is free and reports the exhausted budget.
    let rl = one.json("/rate_limit").await;
    assert_eq!(rl["resources"]["core"]["remaining"], 0);
}

#[tokio::test]
async fn given_since_when_listing_then_only_recently_updated_issues_return() {
    let fake = FakeGitHub::start().await;
    let repo = fake.default_repo();
    let old = repo.add_issue(NewIssue::new("old"));
    let new = repo.add_issue(NewIssue::new("new"));
    let long_ago = chrono::Utc::now() - chrono::Duration::days(30);
    repo.edit_issue(old, |i| {
        i.created_at = long_ago;
        i.updated_at = long_ago;
    });
    let gh = installation_client(&fake).await;
    let since = (chrono::Utc::now() - chrono::Duration::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let list = gh
        .json(&format!(
            "/repos/{REPO}/issues?since={since}&sort=updated&direction=asc"
        ))
        .await;
    let numbers: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![new]);
}

#[tokio::test]
async fn given_history_then_commit_lists_pr_commits_assignees_and_users_are_served() {
    let fake = FakeGitHub::start().await;
    let repo = fake.default_repo();
    let root = repo.head("main").unwrap();
    let second = repo.set_files("main", &[("README.md", "# octo-repo\n"), ("a.txt", "a\n")]);
    repo.set_files("topic", &[("README.md", "# changed\n"), ("a.txt", "a\n")]);
    let tip = repo.set_files(
        "topic",
        &[("README.md", "# changed again\n"), ("a.txt", "a\n")],
    );
    let pr = repo.add_pull_request(NewIssue::new("topic"), "topic");
    let gh = installation_client(&fake).await;

    let log = gh.json(&format!("/repos/{REPO}/commits?sha=main")).await;
    let shas: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap())
        .collect();
    assert_eq!(shas, vec![second.as_str(), root.as_str()]);
    let touching = gh.json(&format!("/repos/{REPO}/commits?path=a.txt")).await;
    assert_eq!(touching.as_array().unwrap().len(), 1);

    let commits = gh.json(&format!("/repos/{REPO}/pulls/{pr}/commits")).await;
    assert_eq!(commits.as_array().unwrap().len(), 2);
    assert_eq!(commits[1]["sha"], tip.as_str());

    let added = gh
        .post(
            &format!("/repos/{REPO}/issues/{pr}/assignees"),
            json!({"assignees": ["bob", "mallory"]}),
        )
        .await;
    let logins: Vec<&str> = added["assignees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, vec!["bob"], "unassignable logins are dropped");
    assert_eq!(
        gh.get(&format!("/repos/{REPO}/assignees/mallory"))
            .await
            .status(),
        404
    );
    assert_eq!(
        gh.get(&format!("/repos/{REPO}/assignees/bob"))
            .await
            .status(),
        204
    );

    let bob = gh.json("/users/bob").await;
    assert_eq!(bob["type"], "User");
    let bot = gh.json("/users/paydown%5Bbot%5D").await;
    assert_eq!(bot["type"], "Bot");
    assert_eq!(gh.get("/users/nobody").await.status(), 404);
}

#[tokio::test]
async fn given_a_content_creation_limit_when_posting_fast_then_secondary_limit_until_the_window_passes()
 {
    let fake = FakeGitHub::start().await;
    fake.limit_content_creation(2, Duration::from_millis(700));
    let gh = installation_client(&fake).await;
    let issues = format!("/repos/{REPO}/issues");
    gh.post(&issues, json!({"title": "a"})).await;
    gh.post(&issues, json!({"title": "b"})).await;
    let third = gh
        .send(reqwest::Method::POST, &issues, json!({"title": "c"}))
        .await;
    assert_eq!(third.status(), 403);
    assert!(third.headers().contains_key("retry-after"));
    // Reads are not content creation.
    assert_eq!(gh.get(&issues).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(750)).await;
    gh.post(&issues, json!({"title": "c"})).await;
    assert_eq!(fake.default_repo().issues().len(), 3);
}

#[tokio::test]
async fn given_githubs_content_limits_on_a_simulated_clock_then_80_a_minute_and_500_an_hour_never_refilled()
 {
    // Given GitHub's limits counted on a clock the test drives,
    let fake = FakeGitHub::start().await;
    let now = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(1_700_000_000_000));
    let t0 = now.load(std::sync::atomic::Ordering::SeqCst);
    let clock = now.clone();
    fake.set_clock(move || clock.load(std::sync::atomic::Ordering::SeqCst));
    fake.limit_content_creation_like_github();
    let gh = installation_client(&fake).await;
    let issues = format!("/repos/{REPO}/issues");
    let at = |ms: i64| now.store(t0 + ms, std::sync::atomic::Ordering::SeqCst);
    let create = |n: usize| {
        gh.send(
            reqwest::Method::POST,
            &issues,
            json!({"title": format!("issue {n}")}),
        )
    };
    // when 80 issues are created 0.7 s apart, they all pass, but the 81st
    // within the minute is refused,
    for n in 0..80 {
        at(n as i64 * 700);
        assert_eq!(create(n).await.status(), 201, "create {n}");
    }
    at(56_000);
    let refused = create(80).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.headers()["retry-after"], "4");
    assert_eq!(fake.secondary_limit_hits(), 1);
    // (and all 80 after the first came under a second after the last),
    assert_eq!(fake.writes_under_a_second_apart(), 80);
    // then, a minute on, 420 more one every 8 s pass (the hour's 500),
    for n in 0..420 {
        at(60_000 + n as i64 * 8_000);
        assert_eq!(create(100 + n).await.status(), 201, "create {n}");
    }
    // the 501st in the hour is refused until the first is an hour old,
    at(3_421_000);
    let refused = create(999).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.headers()["retry-after"], "179");
    assert_eq!(fake.secondary_limit_hits(), 2);
    // and only time leaving the window makes room again.
    at(3_600_000);
    assert_eq!(create(1000).await.status(), 201);
    assert_eq!(fake.content_created(), 501);
}

#[tokio::test]
async fn given_absurd_paging_or_a_dangling_branch_then_errors_not_crashes() {
    let fake = FakeGitHub::start().await;
    fake.default_repo()
        .set_branch("dangling", "0123456789abcdef0123456789abcdef01234567");
    let gh = installation_client(&fake).await;
    let page = gh
        .json(&format!(
            "/repos/{REPO}/issues?page=18446744073709551615&per_page=100"
        ))
        .await;
    assert_eq!(page, json!([]));
    assert_eq!(
        gh.get(&format!("/repos/{REPO}/branches/dangling"))
            .await
            .status(),
        404
    );
    assert_eq!(
        gh.get(&format!("/repos/{REPO}/tarball/dangling"))
            .await
            .status(),
        404
    );
    assert_eq!(
        gh.get(&format!("/repos/{REPO}/compare/main...dangling"))
            .await
            .status(),
        404
    );
    assert_eq!(gh.get(&format!("/repos/{REPO}")).await.status(), 200);
}

#[tokio::test]
async fn given_an_installation_with_read_only_issues_then_writes_are_refused_403() {
    let fake = FakeGitHub::start().await;
    fake.set_installation_permission(1, "issues", "read");
    fake.set_installation_permission(1, "checks", "none");
    let gh = installation_client(&fake).await;
    assert_eq!(gh.get(&format!("/repos/{REPO}/issues")).await.status(), 200);
    let resp = gh
        .send(
            reqwest::Method::POST,
            &format!("/repos/{REPO}/issues"),
            json!({"title": "t"}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["message"], "Resource not accessible by integration");
    let head = fake.default_repo().head("main").unwrap();
    assert_eq!(
        gh.get(&format!("/repos/{REPO}/commits/{head}/check-runs"))
            .await
            .status(),
        403
    );
    assert_eq!(
        gh.get(&format!("/repos/{REPO}/contents/README.md"))
            .await
            .status(),
        200
    );
    let app = client(&fake, &format!("Bearer {}", app_jwt()));
    let inst = app.json("/app/installations/1").await;
    assert_eq!(inst["permissions"]["issues"], "read");
    assert!(inst["permissions"].get("checks").is_none());
}

#[tokio::test]
async fn given_two_callers_writing_one_repository_at_once_then_the_overlap_is_recorded() {
    // Given two installation tokens (two bot processes) and slow issue creation,
    let fake = FakeGitHub::start().await;
    let first = installation_client(&fake).await;
    let second = installation_client(&fake).await;
    let creates = format!("/repos/{REPO}/issues");
    fake.delay_all(&creates, Duration::from_millis(200));

    // when both create an issue one after the other, nothing overlaps,
    first.post(&creates, json!({"title": "one"})).await;
    second.post(&creates, json!({"title": "two"})).await;
    assert!(fake.write_overlaps().is_empty());

    // but when they write at the same time, the overlap is recorded with
    // both callers (told apart, without their tokens),
    tokio::join!(
        first.post(&creates, json!({"title": "three"})),
        second.post(&creates, json!({"title": "four"})),
    );
    let overlaps = fake.write_overlaps();
    assert_eq!(overlaps.len(), 1, "{overlaps:#?}");
    assert_eq!(overlaps[0].repo, REPO);
    assert_eq!(overlaps[0].first, format!("POST {creates}"));
    assert_ne!(overlaps[0].first_caller, overlaps[0].second_caller);
    assert!(overlaps[0].first_caller.starts_with("caller-"));

    // and reads never count.
    let list = format!("/repos/{REPO}/issues");
    tokio::join!(
        first.get(&list),
        second.post(&creates, json!({"title": "five"})),
    );
    assert_eq!(fake.write_overlaps().len(), 1);
}

#[tokio::test]
async fn a_request_inside_a_retry_after_window_is_recorded() {
    // Given a caller told to wait 2 s by a secondary limit, on a clock the
    // test moves,
    let fake = FakeGitHub::start().await;
    let now = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(1_000_000));
    let clock = now.clone();
    fake.set_clock(move || clock.load(std::sync::atomic::Ordering::SeqCst));
    let gh = installation_client(&fake).await;
    let path = format!("/repos/{REPO}");
    fake.secondary_rate_limit_next(2);
    assert_eq!(gh.get(&path).await.status(), 403);
    assert!(fake.retry_after_violations().is_empty());

    // when it asks again 1.5 s later, and again once the window ended,
    now.fetch_add(1500, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(gh.get(&path).await.status(), 200);
    now.fetch_add(500, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(gh.get(&path).await.status(), 200);

    // then only the early request is recorded, with how early it came;
    let violations = fake.retry_after_violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(violations[0].caller, "installation:1");
    assert_eq!(violations[0].request, format!("GET {path}"));
    assert_eq!(violations[0].early_by_ms, 500);

    // and a 429 with retry-after opens a window the same way.
    fake.too_many_requests_next_on("GET", &path, 1, 1);
    let resp = gh.get(&path).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    now.fetch_add(999, std::sync::atomic::Ordering::SeqCst);
    gh.get(&path).await;
    assert_eq!(fake.retry_after_violations().len(), 2);
}

/// The io error kinds in `e`'s source chain.
fn io_kinds(e: &(dyn std::error::Error + 'static)) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            kinds.push(io.kind());
        }
        source = err.source();
    }
    kinds
}

#[tokio::test]
async fn given_a_reset_fault_then_the_client_reads_a_tcp_reset_and_nothing_is_applied() {
    // Given a fault that resets the next issue create's connection,
    let fake = FakeGitHub::start().await;
    let gh = installation_client(&fake).await;
    let path = format!("/repos/{REPO}/issues");
    fake.reset_next_on("POST", &path, 1);

    // when the create is sent, then the client reads a connection reset,
    // no answer at all,
    let err = gh
        .req(reqwest::Method::POST, &path)
        .json(&json!({"title": "t"}))
        .send()
        .await
        .expect_err("the connection is reset");
    assert!(
        io_kinds(&err).contains(&std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );
    // and nothing was created; the log shows the request, unanswered.
    assert!(fake.repo(REPO).issues().is_empty());
    let logged = fake.requests_matching("POST", &path);
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].status, None);
    assert_eq!(fake.connections_cut(), 1);
    // The fault is spent: the next create is answered.
    let resp = gh
        .send(reqwest::Method::POST, &path, json!({"title": "t"}))
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn given_an_applied_then_reset_fault_then_the_write_is_there_though_no_answer_came() {
    // Given a fault that applies the next create and then resets its
    // connection,
    let fake = FakeGitHub::start().await;
    let gh = installation_client(&fake).await;
    let path = format!("/repos/{REPO}/issues");
    fake.apply_then_reset_next_on("POST", &path, 1);

    // when the create is sent, then the client reads a reset,
    let err = gh
        .req(reqwest::Method::POST, &path)
        .json(&json!({"title": "applied"}))
        .send()
        .await
        .expect_err("the connection is reset");
    assert!(
        io_kinds(&err).contains(&std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );
    // but the issue exists.
    let issues = fake.repo(REPO).issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].title, "applied");
}

#[tokio::test]
async fn given_a_broken_body_fault_then_the_answer_breaks_off_after_its_headers() {
    // Given a fault that breaks off the next answer's body,
    let fake = FakeGitHub::start().await;
    let gh = installation_client(&fake).await;
    let path = format!("/repos/{REPO}");
    fake.break_body_next_on("GET", &path, 1);

    // when the repository is read, then the status line and headers
    // arrive, and reading the body fails partway.
    let resp = gh.get(&path).await;
    assert_eq!(resp.status(), 200);
    let err = resp.bytes().await.expect_err("the body breaks off");
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    // The next read is whole.
    let again = gh.get(&path).await;
    assert_eq!(again.status(), 200);
    assert!(again.json::<Value>().await.is_ok());
}
