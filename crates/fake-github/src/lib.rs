//! A stateful fake of the GitHub REST API, served over real HTTP on loopback,
//! for paydown's tests (modelled on rust-lang/bors's test harness).
//!
//! ```no_run
//! # async fn demo() {
//! let fake = fake_github::FakeGitHub::start().await;
//! // Point the client under test at `fake.url()`, authenticate as the App with
//! // `fake_github::APP_ID` + `fake_github::app_private_key_pem()` …
//! let posted = fake.take_comments("octo-org/octo-repo", 1);
//! assert!(posted.is_empty());
//! # }
//! ```
//!
//! The default world: installation 1 on `octo-org`, repository
//! `octo-org/octo-repo` (default branch `main`), users `alice` (admin), `bob`
//! (write), `carol` (read), `mallory` (none).
//!
//! What it offers, by purpose:
//! - auth: [`APP_ID`], [`app_private_key_pem`], RS256 App JWTs verified on
//!   `/app…` routes, installation tokens (`token`/`Bearer`) scoped to their
//!   repositories and permissions, [`FakeGitHub::with_user_token`] for PATs;
//! - seeding and inspection: [`FakeGitHub::add_repo`], [`RepoHandle`]
//!   (`set_files`, `add_issue`, `add_pull_request`, `merge_pull_request`,
//!   `add_comment`, `set_permission`, `snapshot`, …);
//! - request log: [`FakeGitHub::requests`], `requests_matching`, `count_writes`;
//! - faults: `fail_next(_on)`, `apply_then_fail_next_on`, `secondary_rate_limit_next(_on)`,
//!   `too_many_requests_next_on`, `retry_after_violations` (requests sent
//!   inside a `Retry-After` window),
//!   `limit_content_creation`, `set_rate_limit`, `exhaust_rate_limit`,
//!   `delay_next`, `delay_all`, `uninstall`, `expire_installation_tokens`;
//! - webhooks: [`sign_webhook`], [`send_webhook`] and payloads rendered from
//!   the fake's state (`issue_comment_payload`, `push_payload`, …).
//!
//! Pagination `Link` headers are absolute URLs on the fake's address, as
//! GitHub's are on `api.github.com`; octocrab attaches credentials only to
//! `api.github.com` or relative URIs, so clients must re-root them.
//!
//! **Strictness**: every comment the client under test posts or edits must be
//! taken with [`FakeGitHub::take_comments`] before the fake is dropped, or the
//! drop panics listing them (unless the test is already panicking). Call
//! [`FakeGitHub::allow_unasserted_comments`] to opt out.

#![recursion_limit = "512"]

mod api;
mod app;
mod diff;
mod graphql;
mod hooks;
mod model;
mod notify;
mod payloads;
mod render;
mod reset;
mod server;
mod webhook;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use app::{APP_ID, APP_SLUG, app_private_key_pem, bot_login};
pub use hooks::HookDelivery;
pub use model::{
    CheckRun, Comment, Commit, FileChange, Installation, Issue, Label, Milestone, Permission,
    PullData, Reaction, Repo, Tree, User, UserKind,
};
pub use webhook::{send_webhook, sign_webhook};
pub use world::{RecordedRequest, RetryAfterViolation, WriteOverlap};

use server::{Shared, lock};
use world::{Fault, FaultKind, Grant, IssuedToken, Scope, World};

/// A running fake GitHub; stops when dropped.
pub struct FakeGitHub {
    shared: Shared,
    addr: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeGitHub {
    /// Starts the fake with the default world on `127.0.0.1:<free port>`.
    pub async fn start() -> FakeGitHub {
        FakeGitHub::start_with(World::default_world()).await
    }

    /// Starts the fake with no installations, repositories or users.
    pub async fn start_empty() -> FakeGitHub {
        FakeGitHub::start_with(World::empty()).await
    }

    async fn start_with(mut world: World) -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("fake-github: cannot bind 127.0.0.1:0: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("fake-github: no local address: {e}"));
        world.base_url = format!("http://{addr}");
        let shared: Shared = Arc::new(Mutex::new(world));
        let router = axum::Router::new()
            .fallback(server::handle)
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = reset::ResettableListener(listener);
        let router = router.into_make_service_with_connect_info::<reset::Conn>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        FakeGitHub {
            shared,
            addr,
            task: Some(task),
            stop: Some(stop),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (octocrab `base_uri`, `GITHUB_API_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving; open connections are cut after a short grace period.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        lock(&self.shared)
    }

    // ---- identity and tokens -------------------------------------------------

    /// Registers a personal access token acting as user `octocat` on every repository.
    pub fn with_user_token(self, token: &str) -> FakeGitHub {
        self.add_user_token(token, "octocat");
        self
    }

    /// Registers a personal access token acting as `login`.
    pub fn add_user_token(&self, token: &str, login: &str) {
        let mut w = self.world();
        w.user(login);
        w.tokens.insert(
            token.to_owned(),
            IssuedToken {
                grant: Grant::User(login.to_owned()),
                expires_at: None,
                restriction: None,
            },
        );
    }

    /// Lifetime of installation tokens minted from now on (GitHub: one hour).
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.world().token_ttl =
            chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
    }

    /// Expires every installation token issued so far (clients must refresh).
    pub fn expire_installation_tokens(&self) {
        let now = chrono::Utc::now();
        for t in self.world().tokens.values_mut() {
            if matches!(t.grant, Grant::Installation(_)) {
                t.expires_at = Some(now - chrono::Duration::seconds(1));
            }
        }
    }

    /// Number of installation tokens minted so far.
    pub fn installation_tokens_issued(&self) -> usize {
        self.world()
            .tokens
            .values()
            .filter(|t| matches!(t.grant, Grant::Installation(_)))
            .count()
    }

    /// The bodies of the installation-token requests made so far
    /// (`POST /app/installations/{id}/access_tokens`), with the
    /// installation id: what each token was narrowed to (`repositories`,
    /// `repository_ids`, `permissions`; `{}` for everything).
    pub fn token_requests(&self) -> Vec<(u64, serde_json::Value)> {
        self.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/access_tokens"))
            .filter_map(|r| {
                let id = r.path.split('/').nth(3)?.parse().ok()?;
                let body = if r.body.is_empty() {
                    serde_json::json!({})
                } else {
                    serde_json::from_slice(&r.body).ok()?
                };
                Some((id, body))
            })
            .collect()
    }

    /// Adds an installation of the App on `account` (covering no repository yet).
    pub fn add_installation(&self, id: u64, account: &str) {
        self.world().add_installation(id, account);
    }

    /// Removes the App from installation `id`: its tokens answer 401, token
    /// exchange and installation lookups 404.
    pub fn uninstall(&self, id: u64) {
        if let Some(i) = self.world().installations.get_mut(&id) {
            i.removed = true;
        }
    }

    /// Sets installation `id`'s permission `name` (`issues`, `checks`,
    /// `contents`, `pull_requests`, `metadata`) to `level` (`read`, `write`,
    /// or `none` to remove it). Tokens without the needed permission get 403
    /// "Resource not accessible by integration".
    pub fn set_installation_permission(&self, id: u64, name: &str, level: &str) {
        if let Some(i) = self.world().installations.get_mut(&id) {
            if level == "none" {
                i.permissions.remove(name);
            } else {
                i.permissions.insert(name.to_owned(), level.to_owned());
            }
        }
    }

    /// Limits every token of `login` to `permissions` (GitHub's names and
    /// levels: `("issues", "read")`, `("pull_requests", "write")`, ...), as
    /// a workflow's `permissions:` block limits GITHUB_TOKEN; a permission
    /// left out is `none`. A request needing more gets 403 "Resource not
    /// accessible by integration" with `X-Accepted-GitHub-Permissions`.
    pub fn restrict_user_permissions(&self, login: &str, permissions: &[(&str, &str)]) {
        self.world().restricted_users.insert(
            login.to_ascii_lowercase(),
            permissions
                .iter()
                .map(|(name, level)| ((*name).to_owned(), (*level).to_owned()))
                .collect(),
        );
    }

    /// Every installation, removed ones included.
    pub fn installations(&self) -> Vec<Installation> {
        self.world().installations.values().cloned().collect()
    }

    // ---- repositories and seeding --------------------------------------------

    /// Adds repository `owner/name` (default branch `main`, no commits),
    /// covered by `installation` (created on `owner` if unknown).
    pub fn add_repo(&self, owner: &str, name: &str, installation: u64) -> RepoHandle {
        let full = self.world().add_repo(owner, name, Some(installation));
        RepoHandle {
            shared: self.shared.clone(),
            full,
        }
    }

    /// Handle on an existing repository (`owner/name`).
    pub fn repo(&self, full_name: &str) -> RepoHandle {
        let w = self.world();
        let r = w
            .repo(full_name)
            .unwrap_or_else(|| panic!("fake-github: no repository {full_name}"));
        RepoHandle {
            shared: self.shared.clone(),
            full: r.full_name(),
        }
    }

    /// The default world's repository, `octo-org/octo-repo`.
    pub fn default_repo(&self) -> RepoHandle {
        self.repo("octo-org/octo-repo")
    }

    // ---- request log ---------------------------------------------------------

    /// Every request received so far, in order.
    /// The mentions every write so far would have notified people with
    /// (`@login`, `@org/team` in bodies, titles and check-run output, read
    /// as GitHub renders Markdown), with the request that wrote each.
    pub fn notifications(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for request in self.requests().iter().filter(|r| r.is_write()) {
            let body = request.json();
            for text in notify::rendered_fields(&body) {
                for mention in notify::mentions(text) {
                    out.push((format!("{} {}", request.method, request.path), mention));
                }
            }
        }
        out
    }

    /// Every request received so far (since the last [`FakeGitHub::clear_requests`]), in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.world().requests.clone()
    }

    /// Requests with `method` (any when empty) whose path starts with `path_prefix`.
    pub fn requests_matching(&self, method: &str, path_prefix: &str) -> Vec<RecordedRequest> {
        self.world()
            .requests
            .iter()
            .filter(|r| method.is_empty() || r.method.eq_ignore_ascii_case(method))
            .filter(|r| r.path.starts_with(path_prefix))
            .cloned()
            .collect()
    }

    /// Number of write requests received: POST/PATCH/PUT/DELETE, GraphQL
    /// queries excepted (see [`RecordedRequest::is_write`]).
    pub fn count_writes(&self) -> usize {
        self.world()
            .requests
            .iter()
            .filter(|r| r.is_write())
            .count()
    }

    /// Every pair of writes to one repository that were in flight at the
    /// same time (see [`WriteOverlap`]); widen the window with
    /// [`FakeGitHub::delay_all`] on the writes to make overlaps visible.
    pub fn write_overlaps(&self) -> Vec<WriteOverlap> {
        self.world().write_overlaps.clone()
    }

    /// Forgets the recorded requests, so a test can count those of one step.
    pub fn clear_requests(&self) {
        self.world().requests.clear();
    }

    // ---- faults and rate limits ----------------------------------------------

    fn inject(
        &self,
        method: Option<&str>,
        path_prefix: Option<&str>,
        kind: FaultKind,
        n: Option<usize>,
    ) {
        if n == Some(0) {
            return;
        }
        self.world().faults.push(Fault {
            scope: Scope {
                method: method.map(str::to_owned),
                path_prefix: path_prefix.map(str::to_owned),
            },
            kind,
            remaining: n,
        });
    }

    /// The next `n` requests answer `status` (e.g. 502) instead of being served.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.inject(None, None, FaultKind::Status(status), Some(n));
    }

    /// Like [`fail_next`](Self::fail_next), only for requests with `method`
    /// (any when empty) and a path starting with `path_prefix`.
    pub fn fail_next_on(&self, method: &str, path_prefix: &str, n: usize, status: u16) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(
            method,
            Some(path_prefix),
            FaultKind::Status(status),
            Some(n),
        );
    }

    /// The next `n` requests with `method` (any when empty) under
    /// `path_prefix` are served (a create is applied) and then answered
    /// `status` instead, as GitHub sometimes does with a 502.
    pub fn apply_then_fail_next_on(&self, method: &str, path_prefix: &str, n: usize, status: u16) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(
            method,
            Some(path_prefix),
            FaultKind::AppliedThen(status),
            Some(n),
        );
    }

    /// The next `n` requests with `method` (any when empty) under
    /// `path_prefix` are served at once (a create is applied) and answered
    /// only after `delay`: past the client's timeout, the write is applied
    /// though the client saw a timeout.
    pub fn apply_then_answer_late_on(
        &self,
        method: &str,
        path_prefix: &str,
        n: usize,
        delay: Duration,
    ) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(
            method,
            Some(path_prefix),
            FaultKind::AppliedThenLate(delay),
            Some(n),
        );
    }

    /// The next request gets GitHub's secondary-rate-limit answer: 403 with
    /// `retry-after: <secs>`.
    pub fn secondary_rate_limit_next(&self, retry_after_secs: u64) {
        self.inject(
            None,
            None,
            FaultKind::SecondaryRateLimit { retry_after_secs },
            Some(1),
        );
    }

    /// Secondary rate limit on the next `n` requests matching `method`/`path_prefix`.
    pub fn secondary_rate_limit_next_on(
        &self,
        method: &str,
        path_prefix: &str,
        n: usize,
        retry_after_secs: u64,
    ) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(
            method,
            Some(path_prefix),
            FaultKind::SecondaryRateLimit { retry_after_secs },
            Some(n),
        );
    }

    /// The next `n` requests matching `method`/`path_prefix` get 429 with
    /// `retry-after: <secs>`.
    pub fn too_many_requests_next_on(
        &self,
        method: &str,
        path_prefix: &str,
        n: usize,
        retry_after_secs: u64,
    ) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(
            method,
            Some(path_prefix),
            FaultKind::TooManyRequests { retry_after_secs },
            Some(n),
        );
    }

    /// The next `n` requests with `method` (any when empty) under
    /// `path_prefix` are not served: their connection is reset (TCP RST)
    /// instead of answered.
    pub fn reset_next_on(&self, method: &str, path_prefix: &str, n: usize) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(method, Some(path_prefix), FaultKind::Reset, Some(n));
    }

    /// The next `n` requests with `method` (any when empty) under
    /// `path_prefix` are served (a create is applied) and then their
    /// connection is reset before a byte of the answer goes out: the
    /// client cannot tell the write was applied.
    pub fn apply_then_reset_next_on(&self, method: &str, path_prefix: &str, n: usize) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(
            method,
            Some(path_prefix),
            FaultKind::AppliedThenReset,
            Some(n),
        );
    }

    /// The next `n` requests with `method` (any when empty) under
    /// `path_prefix` are served, and their answer breaks off halfway
    /// through the body (the connection closes short of its
    /// `content-length`).
    pub fn break_body_next_on(&self, method: &str, path_prefix: &str, n: usize) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(method, Some(path_prefix), FaultKind::BodyBreaksOff, Some(n));
    }

    /// Connections cut by a reset or broken-off body fault so far.
    pub fn connections_cut(&self) -> u64 {
        self.world().cuts
    }

    /// The next request under `path_prefix` is answered only after `delay`.
    pub fn delay_next(&self, path_prefix: &str, delay: Duration) {
        self.inject(None, Some(path_prefix), FaultKind::Delay(delay), Some(1));
    }

    /// The next `n` requests with `method` (any when empty) under
    /// `path_prefix` are answered only after `delay`.
    pub fn delay_next_on(&self, method: &str, path_prefix: &str, n: usize, delay: Duration) {
        let method = (!method.is_empty()).then_some(method);
        self.inject(method, Some(path_prefix), FaultKind::Delay(delay), Some(n));
    }

    /// Every request under `path_prefix` is answered only after `delay`.
    pub fn delay_all(&self, path_prefix: &str, delay: Duration) {
        self.inject(None, Some(path_prefix), FaultKind::Delay(delay), None);
    }

    /// Drops every pending fault and delay.
    pub fn clear_faults(&self) {
        self.world().faults.clear();
    }

    /// Sets the primary rate limit of every caller: `remaining` requests left
    /// until `reset_in` from now. At 0, requests get 403 with
    /// `x-ratelimit-remaining: 0` until the reset time passes.
    pub fn set_rate_limit(&self, remaining: u64, reset_in: Duration) {
        let reset = app::unix_now() + reset_in.as_secs() as i64;
        let mut w = self.world();
        for key in ["app", "anonymous"] {
            w.bucket(key);
        }
        let keys: Vec<String> = w
            .installations
            .keys()
            .map(|id| format!("installation:{id}"))
            .chain(w.tokens.values().filter_map(|t| match &t.grant {
                Grant::User(l) => Some(format!("user:{}", l.to_ascii_lowercase())),
                Grant::Installation(_) => None,
            }))
            .collect();
        for key in keys {
            w.bucket(&key);
        }
        for b in w.rate.values_mut() {
            b.remaining = remaining.min(b.limit);
            b.reset = reset;
        }
    }

    /// Sets the primary rate limit of installation `id` alone.
    pub fn set_installation_rate_limit(&self, id: u64, remaining: u64, reset_in: Duration) {
        let reset = app::unix_now() + reset_in.as_secs() as i64;
        let mut w = self.world();
        let b = w.bucket(&format!("installation:{id}"));
        b.remaining = remaining.min(b.limit);
        b.reset = reset;
    }

    /// Answer primary-rate-limit refusals with `status` (403, GitHub's usual, or 429).
    pub fn set_primary_rate_limit_status(&self, status: u16) {
        self.world().primary_limit_status = status;
    }

    /// Turns on a content-creation secondary limit: beyond `max`
    /// content-creating POSTs (issues, comments, labels, milestones, reactions,
    /// check runs) of one caller within `window`, requests get 403 with
    /// `retry-after`. Called again with another window, both apply.
    pub fn limit_content_creation(&self, max: usize, window: Duration) {
        let mut w = self.world();
        let limit = w.content_limit.get_or_insert_with(world::ContentLimit::new);
        limit.windows.retain(|(_, existing)| *existing != window);
        limit.windows.push((max, window));
    }

    /// GitHub's documented content-creation limits: 80 a minute and 500 an
    /// hour per caller, with no refill but time passing.
    pub fn limit_content_creation_like_github(&self) {
        self.limit_content_creation(80, Duration::from_secs(60));
        self.limit_content_creation(500, Duration::from_secs(3600));
    }

    /// The content limiter counts on `now_ms` (unix milliseconds) instead
    /// of the wall clock: a test's simulated clock, shared with the code
    /// under test, so an hour of paced writes takes no hour.
    pub fn set_clock(&self, now_ms: impl Fn() -> i64 + Send + Sync + 'static) {
        self.world().limit_clock = world::LimitClock(Some(std::sync::Arc::new(now_ms)));
    }

    /// Requests a caller sent while an earlier answer's `Retry-After` (a
    /// secondary limit, a 429) still told it to wait; empty for a client
    /// that honours every `Retry-After` for all its requests.
    pub fn retry_after_violations(&self) -> Vec<RetryAfterViolation> {
        self.world().retry_after_violations.clone()
    }

    /// Requests refused with the content-creation secondary limit so far.
    pub fn secondary_limit_hits(&self) -> u64 {
        self.world().content_limit.as_ref().map_or(0, |l| l.hits)
    }

    /// Content-creating requests the limiter accepted so far.
    pub fn content_created(&self) -> u64 {
        self.world()
            .content_limit
            .as_ref()
            .map_or(0, |l| l.accepted)
    }

    /// Writes sent less than a second after the same caller's previous
    /// write (counted while a content limit is on).
    pub fn writes_under_a_second_apart(&self) -> u64 {
        self.world()
            .content_limit
            .as_ref()
            .map_or(0, |l| l.close_writes)
    }

    /// Uses up every caller's primary rate limit until `reset_in` from now.
    pub fn exhaust_rate_limit(&self, reset_in: Duration) {
        self.set_rate_limit(0, reset_in);
    }

    // ---- webhook payloads ----------------------------------------------------

    /// An `issue_comment` payload for comment `comment_id` of `repo`
    /// (`created`, `edited` — with `changes.body.from = previous_body` — or `deleted`).
    pub fn issue_comment_payload(
        &self,
        repo: &str,
        comment_id: u64,
        action: &str,
        previous_body: Option<&str>,
    ) -> serde_json::Value {
        payloads::issue_comment(&self.world(), repo, comment_id, action, previous_body)
    }

    /// An `issues` payload for issue `number` of `repo`, sent by `sender`
    /// (`label` names the label of a `labeled` / `unlabeled` action).
    pub fn issues_payload(
        &self,
        repo: &str,
        number: u64,
        action: &str,
        sender: &str,
        label: Option<&str>,
    ) -> serde_json::Value {
        payloads::issues(&self.world(), repo, number, action, sender, label)
    }

    /// A `pull_request` payload for PR `number` of `repo`, sent by `sender`.
    pub fn pull_request_payload(
        &self,
        repo: &str,
        number: u64,
        action: &str,
        sender: &str,
        label: Option<&str>,
    ) -> serde_json::Value {
        payloads::pull_request(&self.world(), repo, number, action, sender, label)
    }

    /// A `push` payload for `branch` of `repo` moving from `before` (use 40
    /// zeros for a new branch) to the branch's current head.
    pub fn push_payload(
        &self,
        repo: &str,
        branch: &str,
        before: &str,
        pusher: &str,
    ) -> serde_json::Value {
        payloads::push(&self.world(), repo, branch, before, pusher)
    }

    // ---- the App's webhook -------------------------------------------------

    /// Sets the App's webhook URL and secret: where [`FakeGitHub::deliver`]
    /// and requested redeliveries go.
    pub fn set_webhook(&self, url: &str, secret: &str) {
        self.world().hooks.target = Some((url.to_owned(), secret.to_owned()));
    }

    /// Delivers `event` with `payload` to the App's webhook under a fresh
    /// GUID, as GitHub does once, and records the attempt in the delivery
    /// log (failed when nothing listens or the answer is not 2xx). Like
    /// GitHub, the fake never retries it on its own.
    pub async fn deliver(&self, event: &str, payload: &serde_json::Value) -> HookDelivery {
        let first = hooks::new_delivery(&mut self.world(), event, payload);
        hooks::send(&self.shared, first, false).await
    }

    /// The delivery log, oldest attempt first.
    pub fn hook_deliveries(&self) -> Vec<HookDelivery> {
        self.world().hooks.log.clone()
    }

    /// Moves every logged attempt `by` into the past (to test look-back
    /// windows without waiting).
    pub fn age_hook_deliveries(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        for d in &mut self.world().hooks.log {
            d.delivered_at -= by;
        }
    }

    // ---- strictness ----------------------------------------------------------

    /// Comments posted or edited through the API on issue/PR `number` of
    /// `repo` (`owner/name`) since last taken, oldest first; marks them asserted.
    pub fn take_comments(&self, repo: &str, number: u64) -> Vec<Comment> {
        let mut w = self.world();
        let Some(r) = w.repo_mut(repo) else {
            return Vec::new();
        };
        r.comments
            .values_mut()
            .filter(|c| c.issue_number == number && c.unasserted)
            .map(|c| {
                c.unasserted = false;
                c.clone()
            })
            .collect()
    }

    /// Descriptions of API-posted comments no test has taken yet.
    pub fn unasserted_comments(&self) -> Vec<String> {
        let w = self.world();
        w.repos
            .values()
            .flat_map(|r| {
                r.comments.values().filter(|c| c.unasserted).map(move |c| {
                    format!(
                        "{}#{} by {}: {:?}",
                        r.full_name(),
                        c.issue_number,
                        c.user,
                        c.body
                    )
                })
            })
            .collect()
    }

    /// Panics listing every API-posted comment not taken with [`take_comments`](Self::take_comments).
    pub fn assert_no_unasserted_comments(&self) {
        let left = self.unasserted_comments();
        assert!(
            left.is_empty(),
            "fake-github: the client posted comments the test did not assert:\n  {}",
            left.join("\n  ")
        );
    }

    /// Turns off the check on drop for unasserted comments.
    pub fn allow_unasserted_comments(&self) {
        self.world().strict_comments = false;
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if std::thread::panicking() || !self.world().strict_comments {
            return;
        }
        self.assert_no_unasserted_comments();
    }
}

/// Seeds and inspects one repository of a running fake.
#[derive(Clone)]
pub struct RepoHandle {
    shared: Shared,
    full: String,
}

/// A new issue or PR for [`RepoHandle::add_issue`] / [`RepoHandle::add_pull_request`].
#[derive(Clone, Debug, Default)]
pub struct NewIssue {
    /// The title.
    pub title: String,
    /// The body; `None` for GitHub's `null`.
    pub body: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// Author login; `alice` when empty.
    pub user: String,
    /// Created closed (as `completed`).
    pub closed: bool,
}

impl NewIssue {
    /// An open issue titled `title`, by `alice`, with nothing else.
    pub fn new(title: &str) -> NewIssue {
        NewIssue {
            title: title.to_owned(),
            ..NewIssue::default()
        }
    }

    /// With this body.
    pub fn body(mut self, body: &str) -> NewIssue {
        self.body = Some(body.to_owned());
        self
    }

    /// With these labels.
    pub fn labels(mut self, labels: &[&str]) -> NewIssue {
        self.labels = labels.iter().map(|l| (*l).to_owned()).collect();
        self
    }

    /// Assigned to these logins.
    pub fn assignees(mut self, assignees: &[&str]) -> NewIssue {
        self.assignees = assignees.iter().map(|l| (*l).to_owned()).collect();
        self
    }

    /// Opened by `login`.
    pub fn user(mut self, login: &str) -> NewIssue {
        self.user = login.to_owned();
        self
    }

    /// Already closed.
    pub fn closed(mut self) -> NewIssue {
        self.closed = true;
        self
    }
}

impl RepoHandle {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        lock(&self.shared)
    }

    /// `owner/name`.
    pub fn full_name(&self) -> &str {
        &self.full
    }

    /// A snapshot of the whole repository state.
    pub fn snapshot(&self) -> Repo {
        self.world()
            .repo(&self.full)
            .cloned()
            .unwrap_or_else(|| panic!("fake-github: repository {} vanished", self.full))
    }

    /// Commits `files` (the complete new tree) on `branch`; returns the sha.
    pub fn set_files(&self, branch: &str, files: &[(&str, &str)]) -> String {
        let tree = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
            .collect();
        self.commit(branch, tree, "fake commit")
    }

    /// Commits `tree` on `branch` with `message`; returns the sha.
    pub fn commit(&self, branch: &str, tree: Tree, message: &str) -> String {
        self.world().commit(&self.full, branch, tree, message)
    }

    /// Points `branch` at `sha` (creating the branch).
    pub fn set_branch(&self, branch: &str, sha: &str) {
        if let Some(r) = self.world().repo_mut(&self.full) {
            r.branches.insert(branch.to_owned(), sha.to_owned());
        }
    }

    /// Sha `branch` points at.
    pub fn head(&self, branch: &str) -> Option<String> {
        self.world().repo(&self.full)?.branches.get(branch).cloned()
    }

    /// Makes `branch` the default branch (it need not exist).
    pub fn set_default_branch(&self, branch: &str) {
        if let Some(r) = self.world().repo_mut(&self.full) {
            r.default_branch = branch.to_owned();
        }
    }

    /// Marks the repository private or public.
    pub fn set_private(&self, private: bool) {
        if let Some(r) = self.world().repo_mut(&self.full) {
            r.private = private;
        }
    }

    /// Gives `login` this permission on the repository.
    pub fn set_permission(&self, login: &str, permission: Permission) {
        self.world().set_permission(&self.full, login, permission);
    }

    /// Seeds an issue; returns its number.
    pub fn add_issue(&self, new: NewIssue) -> u64 {
        self.add(new, None)
    }

    /// Seeds an open PR from `head_branch` into the default branch (both must
    /// have commits); returns its number.
    pub fn add_pull_request(&self, new: NewIssue, head_branch: &str) -> u64 {
        let (base_ref, base_sha, head_sha) = {
            let w = self.world();
            let r = w
                .repo(&self.full)
                .unwrap_or_else(|| panic!("fake-github: no repository {}", self.full));
            let base_ref = r.default_branch.clone();
            let base_sha = r.branches.get(&base_ref).cloned().unwrap_or_else(|| {
                panic!("fake-github: {} has no commit on {base_ref}", self.full)
            });
            let head_sha = r.branches.get(head_branch).cloned().unwrap_or_else(|| {
                panic!("fake-github: {} has no branch {head_branch}", self.full)
            });
            (base_ref, base_sha, head_sha)
        };
        self.add(
            new,
            Some(PullData {
                head_ref: head_branch.to_owned(),
                head_sha,
                base_ref,
                base_sha,
                merged_at: None,
                merge_commit_sha: None,
                merged_by: None,
                draft: false,
                files: None,
            }),
        )
    }

    fn add(&self, new: NewIssue, pull: Option<PullData>) -> u64 {
        let mut w = self.world();
        let user = if new.user.is_empty() {
            "alice".to_owned()
        } else {
            new.user
        };
        let mut issue = world::blank_issue(&new.title, &user);
        issue.body = new.body;
        issue.labels = new.labels;
        issue.assignees = new.assignees;
        issue.pull = pull;
        if new.closed {
            issue.state = "closed".into();
            issue.state_reason = Some("completed".into());
            issue.closed_at = Some(issue.created_at);
        }
        w.new_issue(&self.full, issue)
    }

    /// Merges PR `number`: commits the head tree onto the base branch and
    /// marks the PR merged and closed; returns the merge commit sha.
    pub fn merge_pull_request(&self, number: u64, merged_by: &str) -> String {
        let mut w = self.world();
        let (base_ref, tree) = {
            let r = w
                .repo(&self.full)
                .unwrap_or_else(|| panic!("no repository {}", self.full));
            let p = r
                .issues
                .get(&number)
                .and_then(|i| i.pull.as_ref())
                .unwrap_or_else(|| panic!("fake-github: #{number} is not a pull request"));
            let tree = r.commits[&p.head_sha].tree.as_ref().clone();
            (p.base_ref.clone(), tree)
        };
        let sha = w.commit(
            &self.full,
            &base_ref,
            tree,
            &format!("Merge pull request #{number}"),
        );
        w.user(merged_by);
        let t = world::now();
        if let Some(i) = w
            .repo_mut(&self.full)
            .and_then(|r| r.issues.get_mut(&number))
        {
            i.state = "closed".into();
            i.closed_at = Some(t);
            i.updated_at = t;
            if let Some(p) = i.pull.as_mut() {
                p.merged_at = Some(t);
                p.merge_commit_sha = Some(sha.clone());
                p.merged_by = Some(merged_by.to_owned());
            }
        }
        sha
    }

    /// Changes issue/PR `number` in place (any field; `updated_at` is yours to set).
    pub fn edit_issue(&self, number: u64, edit: impl FnOnce(&mut Issue)) {
        let mut w = self.world();
        if let Some(i) = w
            .repo_mut(&self.full)
            .and_then(|r| r.issues.get_mut(&number))
        {
            edit(i);
        }
        let labels = w
            .repo(&self.full)
            .and_then(|r| r.issues.get(&number))
            .map(|i| i.labels.clone())
            .unwrap_or_default();
        for l in labels {
            w.ensure_label(&self.full, &l);
        }
    }

    /// A copy of issue (or pull request) `number`, as the fake holds it now.
    pub fn issue(&self, number: u64) -> Option<Issue> {
        self.world().repo(&self.full)?.issues.get(&number).cloned()
    }

    /// All issues and PRs, by number.
    pub fn issues(&self) -> Vec<Issue> {
        self.world()
            .repo(&self.full)
            .map(|r| r.issues.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Seeds a comment by `user` (not subject to the strictness check).
    pub fn add_comment(&self, number: u64, user: &str, body: &str) -> u64 {
        let mut w = self.world();
        w.user(user);
        let id = w.next_id();
        let t = world::now();
        if let Some(r) = w.repo_mut(&self.full) {
            r.comments.insert(
                id,
                Comment {
                    id,
                    issue_number: number,
                    user: user.to_owned(),
                    body: body.to_owned(),
                    created_at: t,
                    updated_at: t,
                    reactions: Vec::new(),
                    unasserted: false,
                },
            );
        }
        id
    }

    /// Every comment on issue/PR `number` (seeded or posted), oldest first.
    /// Does not mark anything asserted; see [`FakeGitHub::take_comments`].
    pub fn comments(&self, number: u64) -> Vec<Comment> {
        self.world()
            .repo(&self.full)
            .map(|r| {
                r.comments
                    .values()
                    .filter(|c| c.issue_number == number)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Changes comment `id` in place (its times, say, to date it back).
    pub fn edit_comment(&self, id: u64, edit: impl FnOnce(&mut Comment)) {
        if let Some(c) = self
            .world()
            .repo_mut(&self.full)
            .and_then(|r| r.comments.get_mut(&id))
        {
            edit(c);
        }
    }

    /// A copy of comment `id`, as the fake holds it now.
    pub fn comment(&self, id: u64) -> Option<Comment> {
        self.world().repo(&self.full)?.comments.get(&id).cloned()
    }

    /// Seeds a reaction by `user` on comment `comment_id`.
    pub fn add_comment_reaction(&self, comment_id: u64, user: &str, content: &str) {
        let mut w = self.world();
        w.user(user);
        let id = w.next_id();
        if let Some(c) = w
            .repo_mut(&self.full)
            .and_then(|r| r.comments.get_mut(&comment_id))
        {
            c.reactions.push(Reaction {
                id,
                user: user.to_owned(),
                content: content.to_owned(),
                created_at: world::now(),
            });
        }
    }

    /// Creates a repository label (or updates its color and description).
    pub fn add_label(&self, name: &str, color: &str, description: Option<&str>) {
        let mut w = self.world();
        let name = w.ensure_label(&self.full, name);
        if let Some(l) = w
            .repo_mut(&self.full)
            .and_then(|r| r.labels.iter_mut().find(|l| l.name == name))
        {
            l.color = color.to_owned();
            l.description = description.map(str::to_owned);
        }
    }

    /// The repository's labels now.
    pub fn labels(&self) -> Vec<Label> {
        self.world()
            .repo(&self.full)
            .map(|r| r.labels.clone())
            .unwrap_or_default()
    }

    /// Seeds a milestone; returns its number.
    pub fn add_milestone(
        &self,
        title: &str,
        due_on: Option<chrono::DateTime<chrono::Utc>>,
        open: bool,
    ) -> u64 {
        let mut w = self.world();
        let id = w.next_id();
        let t = world::now();
        let Some(r) = w.repo_mut(&self.full) else {
            return 0;
        };
        let number = r.milestones.keys().next_back().map_or(1, |n| n + 1);
        r.milestones.insert(
            number,
            Milestone {
                id,
                number,
                title: title.to_owned(),
                description: None,
                state: if open { "open" } else { "closed" }.into(),
                due_on,
                created_at: t,
                updated_at: t,
                closed_at: (!open).then_some(t),
            },
        );
        number
    }

    /// The repository's milestones now, by number.
    pub fn milestones(&self) -> Vec<Milestone> {
        self.world()
            .repo(&self.full)
            .map(|r| r.milestones.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Check runs, oldest first.
    pub fn check_runs(&self) -> Vec<CheckRun> {
        self.world()
            .repo(&self.full)
            .map(|r| r.check_runs.values().cloned().collect())
            .unwrap_or_default()
    }
}
