//! The whole mutable state of one fake: the model, issued tokens, rate-limit
//! buckets, the request log and pending faults, plus the seeding operations
//! tests use to build a world.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use crate::model::{
    Commit, Installation, Issue, Permission, Repo, Tree, User, UserKind, commit_sha,
};

/// One request as the fake received it (the `Authorization` value redacted).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, when there was one.
    pub query: Option<String>,
    /// Lower-cased header names; `authorization` keeps only its scheme.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Response status, once answered.
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// The body parsed as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The first value of header `name`, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request may change something: POST/PATCH/PUT/DELETE,
    /// except a GraphQL query (a `POST /graphql` that is no mutation),
    /// which only reads.
    pub fn is_write(&self) -> bool {
        if self.method == "POST" && self.path == "/graphql" {
            let json = self.json();
            let document = json.get("query").and_then(|q| q.as_str()).unwrap_or("");
            return document.trim_start().starts_with("mutation");
        }
        matches!(self.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE")
    }
}

/// Which requests a fault applies to.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    pub method: Option<String>,
    pub path_prefix: Option<String>,
}

impl Scope {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}

#[derive(Clone, Debug)]
pub(crate) enum FaultKind {
    Status(u16),
    /// The request is served (a create is applied), then answered `status`
    /// as if the answer had been lost: GitHub does this with 502s.
    AppliedThen(u16),
    /// The request is served (a create is applied) at once, and the answer
    /// held back this long: past a client's timeout, a write it cannot
    /// know was applied.
    AppliedThenLate(Duration),
    SecondaryRateLimit {
        retry_after_secs: u64,
    },
    /// 429 with `retry-after`, as GitHub also answers when limiting.
    TooManyRequests {
        retry_after_secs: u64,
    },
    Delay(Duration),
    /// The connection is reset (TCP RST) before the request is served:
    /// nothing applied, no answer.
    Reset,
    /// The request is served (a create is applied), then the connection
    /// is reset before a byte of the answer goes out.
    AppliedThenReset,
    /// The request is served and the answer breaks off halfway through its
    /// body: the connection closes short of the `content-length` it named.
    BodyBreaksOff,
}

/// How the connection of the request being served ends, when not with
/// its answer (set by a fault, taken by the pipeline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    Reset,
    BodyBreaksOff,
}

#[derive(Clone, Debug)]
pub(crate) struct Fault {
    pub scope: Scope,
    pub kind: FaultKind,
    /// How many more requests it hits; `None` for every request.
    pub remaining: Option<usize>,
}

#[derive(Clone, Debug)]
pub(crate) enum Grant {
    Installation(u64),
    User(String),
}

#[derive(Clone, Debug)]
pub(crate) struct IssuedToken {
    pub grant: Grant,
    pub expires_at: Option<DateTime<Utc>>,
    /// What an installation token was narrowed to when it was minted
    /// (`repositories` / `repository_ids` / `permissions`); `None`: all
    /// the installation has.
    pub restriction: Option<TokenRestriction>,
}

/// The narrowing asked for in `POST /app/installations/{id}/access_tokens`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TokenRestriction {
    /// Lower-cased full names; `None`: every repository of the installation.
    pub repos: Option<Vec<String>>,
    /// `None`: every permission of the installation.
    pub permissions: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug)]
pub(crate) struct RateBucket {
    pub limit: u64,
    pub remaining: u64,
    pub reset: i64,
}

pub(crate) struct World {
    pub base_url: String,
    next_id: u64,
    next_salt: u64,
    pub installations: BTreeMap<u64, Installation>,
    pub tokens: HashMap<String, IssuedToken>,
    pub token_ttl: chrono::Duration,
    /// Key: lower-cased `owner/name`.
    pub repos: BTreeMap<String, Repo>,
    /// Key: lower-cased login.
    pub users: BTreeMap<String, User>,
    pub rate: HashMap<String, RateBucket>,
    pub rate_limit: u64,
    pub requests: Vec<RecordedRequest>,
    pub faults: Vec<Fault>,
    pub strict_comments: bool,
    /// Status of primary-rate-limit refusals (GitHub sends 403 or 429).
    pub primary_limit_status: u16,
    next_request_id: u64,
    /// GitHub's content-creation secondary limit, when a test turns it on.
    pub content_limit: Option<ContentLimit>,
    /// The clock `content_limit` counts on.
    pub(crate) limit_clock: LimitClock,
    /// Writes being answered, by lower-cased `owner/name`: (id, `METHOD
    /// path`, caller). See [`WriteOverlap`].
    pub writes_in_flight: HashMap<String, Vec<(u64, String, String)>>,
    next_write_id: u64,
    pub write_overlaps: Vec<WriteOverlap>,
    /// Users whose tokens may do only this (key: lower-cased login; value:
    /// permission name -> level), as a workflow's `permissions:` block
    /// limits GITHUB_TOKEN.
    pub restricted_users: BTreeMap<String, BTreeMap<String, String>>,
    /// The App's webhook and delivery log (see [`crate::hooks`]).
    pub hooks: crate::hooks::Hooks,
    /// How long to hold back the answer being made (an `AppliedThenLate`
    /// fault), taken by the pipeline once the request is served.
    pub late_answer: Option<Duration>,
    /// How the connection of the request being served is cut, if it is.
    pub cut: Option<Cut>,
    /// Connections cut by a fault so far.
    pub cuts: u64,
    /// When (limiter-clock ms) each caller bucket was told to wait by a
    /// `retry-after` answer, and until when.
    pub retry_windows: HashMap<String, (i64, i64)>,
    pub retry_after_violations: Vec<RetryAfterViolation>,
}

/// A request sent by a caller still inside the `Retry-After` window an
/// earlier answer gave it: what GitHub warns can get an integration banned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryAfterViolation {
    /// The caller's rate-limit bucket, e.g. `installation:1`.
    pub caller: String,
    /// `METHOD path` of the early request.
    pub request: String,
    /// How long before the window's end it came.
    pub early_by_ms: i64,
}

/// Two write requests to one repository in flight at the same time: what a
/// bot that serialises its work per repository (across all its replicas)
/// never does. Callers are told apart by a digest of their credential, so a
/// test can see whether two processes (each with its own installation
/// token) overlapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOverlap {
    /// Lower-cased `owner/name`.
    pub repo: String,
    /// `METHOD path` of the write already in flight, and its caller.
    pub first: String,
    /// A short stable name for its `Authorization` (never the secret).
    pub first_caller: String,
    /// `METHOD path` of the write that started meanwhile, and its caller.
    pub second: String,
    /// The same for the write that started meanwhile.
    pub second_caller: String,
}

impl World {
    /// Registers a write starting on the repository in its path (if any),
    /// recording an overlap with every write on it still in flight; returns
    /// the id to pass to [`World::write_finished`].
    pub(crate) fn write_started(&mut self, request: &RecordedRequest, caller: &str) -> Option<u64> {
        if !request.is_write() {
            return None;
        }
        let repo = repo_of_path(&request.path)?;
        self.next_write_id += 1;
        let id = self.next_write_id;
        let what = format!("{} {}", request.method, request.path);
        let in_flight = self.writes_in_flight.entry(repo.clone()).or_default();
        for (_, first, first_caller) in in_flight.iter() {
            self.write_overlaps.push(WriteOverlap {
                repo: repo.clone(),
                first: first.clone(),
                first_caller: first_caller.clone(),
                second: what.clone(),
                second_caller: caller.to_owned(),
            });
        }
        in_flight.push((id, what, caller.to_owned()));
        Some(id)
    }

    pub(crate) fn write_finished(&mut self, id: u64) {
        for in_flight in self.writes_in_flight.values_mut() {
            in_flight.retain(|(i, _, _)| *i != id);
        }
    }
}

/// Lower-cased `owner/name` of a `/repos/{owner}/{name}/…` path.
fn repo_of_path(path: &str) -> Option<String> {
    let mut parts = path.strip_prefix("/repos/")?.split('/');
    let owner = parts.next().filter(|s| !s.is_empty())?;
    let name = parts.next().filter(|s| !s.is_empty())?;
    Some(format!("{owner}/{name}").to_ascii_lowercase())
}

/// GitHub's content-creation secondary limit: at most `max` content-creating
/// requests per rolling `window`, for each window, counted per caller (an
/// installation, a user token) on the limiter's clock; beyond that GitHub
/// answers with a secondary rate limit and `retry-after`. Nothing refills
/// between a client's runs: only time leaving the window frees room.
#[derive(Clone, Debug)]
pub(crate) struct ContentLimit {
    /// (max, window) pairs, e.g. 80 a minute and 500 an hour.
    pub windows: Vec<(usize, Duration)>,
    /// Content-creating requests accepted, by caller bucket key: unix ms.
    pub recent: HashMap<String, std::collections::VecDeque<i64>>,
    /// Requests refused with the secondary limit.
    pub hits: u64,
    /// Content-creating requests accepted.
    pub accepted: u64,
    /// Writes (any method but GET) sent less than a second after the same
    /// caller's previous write: what GitHub asks integrations not to do.
    pub close_writes: u64,
    pub last_write: HashMap<String, i64>,
}

impl ContentLimit {
    pub(crate) fn new() -> Self {
        ContentLimit {
            windows: Vec::new(),
            recent: HashMap::new(),
            hits: 0,
            accepted: 0,
            close_writes: 0,
            last_write: HashMap::new(),
        }
    }

    /// Counts a content-creating request of `caller` at `now_ms`; `Err`
    /// with the seconds to wait when a window is full (the request is
    /// refused and not counted).
    pub(crate) fn admit(&mut self, caller: &str, now_ms: i64) -> Result<(), u64> {
        let longest = self.windows.iter().map(|(_, w)| ms(*w)).max().unwrap_or(0);
        let recent = self.recent.entry(caller.to_owned()).or_default();
        while recent.front().is_some_and(|t| now_ms - *t >= longest) {
            recent.pop_front();
        }
        let mut wait_ms = 0;
        for (max, window) in &self.windows {
            let window = ms(*window);
            let inside: Vec<i64> = recent
                .iter()
                .copied()
                .filter(|t| now_ms - *t < window)
                .collect();
            if inside.len() >= *max {
                // The oldest that must leave for one more to fit.
                let leave = inside[inside.len() - *max];
                wait_ms = wait_ms.max(leave + window - now_ms);
            }
        }
        if wait_ms > 0 {
            self.hits += 1;
            return Err(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1));
        }
        recent.push_back(now_ms);
        self.accepted += 1;
        Ok(())
    }

    /// Notes a write of `caller` at `now_ms` for the one-a-second check.
    pub(crate) fn note_write(&mut self, caller: &str, now_ms: i64) {
        if let Some(last) = self.last_write.insert(caller.to_owned(), now_ms)
            && now_ms - last < 1000
        {
            self.close_writes += 1;
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The time the content limiter counts on: the wall clock unless a test
/// shares its simulated clock ([`crate::FakeGitHub::set_clock`]).
#[derive(Clone, Default)]
pub(crate) struct LimitClock(pub Option<std::sync::Arc<dyn Fn() -> i64 + Send + Sync>>);

impl LimitClock {
    pub(crate) fn now_ms(&self) -> i64 {
        match &self.0 {
            Some(now) => now(),
            None => Utc::now().timestamp_millis(),
        }
    }
}

impl std::fmt::Debug for LimitClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "LimitClock(simulated)"
        } else {
            "LimitClock(wall)"
        })
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

impl World {
    pub fn empty() -> World {
        World {
            base_url: String::new(),
            next_id: 1000,
            next_salt: 0,
            installations: BTreeMap::new(),
            tokens: HashMap::new(),
            token_ttl: chrono::Duration::hours(1),
            repos: BTreeMap::new(),
            users: BTreeMap::new(),
            rate: HashMap::new(),
            rate_limit: 5000,
            requests: Vec::new(),
            faults: Vec::new(),
            strict_comments: true,
            primary_limit_status: 403,
            next_request_id: 0,
            content_limit: None,
            limit_clock: LimitClock::default(),
            writes_in_flight: HashMap::new(),
            next_write_id: 0,
            write_overlaps: Vec::new(),
            restricted_users: BTreeMap::new(),
            hooks: Default::default(),
            late_answer: None,
            cut: None,
            cuts: 0,
            retry_windows: HashMap::new(),
            retry_after_violations: Vec::new(),
        }
    }

    /// One installation (id 1) of the App on `octo-org`, owning
    /// `octo-org/octo-repo` (default branch `main`, one commit with a README),
    /// and users alice (admin), bob (write), carol (read), mallory (none).
    pub fn default_world() -> World {
        let mut w = World::empty();
        w.ensure_user(&crate::app::bot_login(), UserKind::Bot);
        w.add_installation(1, "octo-org");
        w.add_repo("octo-org", "octo-repo", Some(1));
        let mut files = Tree::new();
        files.insert("README.md".into(), b"# octo-repo\n".to_vec());
        w.commit("octo-org/octo-repo", "main", files, "Initial commit");
        for (login, perm) in [
            ("alice", Permission::Admin),
            ("bob", Permission::Write),
            ("carol", Permission::Read),
            ("mallory", Permission::None),
        ] {
            w.set_permission("octo-org/octo-repo", login, perm);
        }
        w
    }

    /// A fresh `x-github-request-id`.
    pub fn request_id(&mut self) -> String {
        self.next_request_id += 1;
        format!(
            "FAKE:{:04X}:{:06X}",
            std::process::id() & 0xffff,
            self.next_request_id
        )
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn ensure_user(&mut self, login: &str, kind: UserKind) -> User {
        let key = login.to_ascii_lowercase();
        if let Some(u) = self.users.get(&key) {
            return u.clone();
        }
        let kind = if login.ends_with("[bot]") {
            UserKind::Bot
        } else {
            kind
        };
        let user = User {
            login: login.to_owned(),
            id: self.next_id(),
            kind,
        };
        self.users.insert(key, user.clone());
        user
    }

    /// A user, created on first use; `name[bot]` logins (an App's bot, or
    /// `github-actions[bot]` behind a workflow's token) are bots, as on GitHub.
    pub fn user(&mut self, login: &str) -> User {
        let kind = if login.ends_with("[bot]") {
            UserKind::Bot
        } else {
            UserKind::User
        };
        self.ensure_user(login, kind)
    }

    pub fn add_installation(&mut self, id: u64, account: &str) {
        self.ensure_user(account, UserKind::Organization);
        self.installations.insert(
            id,
            Installation {
                id,
                account: account.to_owned(),
                repos: Vec::new(),
                removed: false,
                permissions: crate::model::default_installation_permissions(),
            },
        );
    }

    /// Adds (or re-adds, keeping its content) a repository, covered by
    /// `installation` when given.
    pub fn add_repo(&mut self, owner: &str, name: &str, installation: Option<u64>) -> String {
        let full = format!("{owner}/{name}");
        let key = full.to_ascii_lowercase();
        if !self.users.contains_key(&owner.to_ascii_lowercase()) {
            self.ensure_user(owner, UserKind::Organization);
        }
        if !self.repos.contains_key(&key) {
            let id = self.next_id();
            self.repos.insert(
                key.clone(),
                Repo {
                    id,
                    owner: owner.to_owned(),
                    name: name.to_owned(),
                    default_branch: "main".into(),
                    private: false,
                    branches: BTreeMap::new(),
                    commits: HashMap::new(),
                    issues: BTreeMap::new(),
                    comments: BTreeMap::new(),
                    labels: Vec::new(),
                    milestones: BTreeMap::new(),
                    check_runs: BTreeMap::new(),
                    permissions: BTreeMap::new(),
                },
            );
        }
        if let Some(inst) = installation {
            if !self.installations.contains_key(&inst) {
                self.add_installation(inst, owner);
            }
            if let Some(i) = self.installations.get_mut(&inst)
                && !i.repos.iter().any(|r| r.eq_ignore_ascii_case(&full))
            {
                i.repos.push(full.clone());
            }
        }
        key
    }

    pub fn repo(&self, full: &str) -> Option<&Repo> {
        self.repos.get(&full.to_ascii_lowercase())
    }

    pub fn repo_mut(&mut self, full: &str) -> Option<&mut Repo> {
        self.repos.get_mut(&full.to_ascii_lowercase())
    }

    /// Makes a new commit on `branch` whose tree is exactly `files`; returns its
    /// sha. A new branch starts from the default branch's head.
    pub fn commit(&mut self, full: &str, branch: &str, files: Tree, message: &str) -> String {
        self.next_salt += 1;
        let salt = self.next_salt;
        let Some(repo) = self.repo_mut(full) else {
            panic!("fake-github: no repository {full}; add_repo it first");
        };
        // A new branch forks from the default branch, as `git switch -c` would.
        let parent = repo
            .branches
            .get(branch)
            .or_else(|| repo.branches.get(&repo.default_branch))
            .cloned();
        let sha = commit_sha(parent.as_deref(), &files, salt);
        repo.commits.insert(
            sha.clone(),
            Commit {
                sha: sha.clone(),
                parent,
                message: message.to_owned(),
                date: now(),
                tree: Arc::new(files),
            },
        );
        repo.branches.insert(branch.to_owned(), sha.clone());
        sha
    }

    pub fn set_permission(&mut self, full: &str, login: &str, perm: Permission) {
        self.user(login);
        if let Some(repo) = self.repo_mut(full) {
            repo.permissions.insert(login.to_ascii_lowercase(), perm);
        }
    }

    /// Creates an issue (or PR when `pull` is set) authored by `user`.
    pub fn new_issue(&mut self, full: &str, mut issue: Issue) -> u64 {
        self.user(&issue.user);
        let id = self.next_id();
        let repo = self
            .repo_mut(full)
            .unwrap_or_else(|| panic!("fake-github: no repository {full}"));
        issue.id = id;
        issue.number = repo.next_issue_number();
        let n = issue.number;
        repo.issues.insert(n, issue);
        let labels = repo.issues[&n].labels.clone();
        for l in labels {
            self.ensure_label(full, &l);
        }
        n
    }

    /// Returns the canonical name of label `name`, creating it like GitHub does
    /// when an unknown label is put on an issue.
    pub fn ensure_label(&mut self, full: &str, name: &str) -> String {
        if let Some(l) = self.repo(full).and_then(|r| r.label(name)) {
            return l.name.clone();
        }
        let id = self.next_id();
        if let Some(repo) = self.repo_mut(full) {
            repo.labels.push(crate::model::Label {
                id,
                name: name.to_owned(),
                color: "ededed".into(),
                description: None,
            });
        }
        name.to_owned()
    }

    pub fn bucket(&mut self, key: &str) -> &mut RateBucket {
        let limit = if key == "anonymous" {
            60
        } else {
            self.rate_limit
        };
        let now = crate::app::unix_now();
        let b = self
            .rate
            .entry(key.to_owned())
            .or_insert_with(|| RateBucket {
                limit,
                remaining: limit,
                reset: now + 3600,
            });
        if now >= b.reset {
            b.remaining = b.limit;
            b.reset = now + 3600;
        }
        b
    }
}

pub(crate) fn blank_issue(title: &str, user: &str) -> Issue {
    let t = now();
    Issue {
        id: 0,
        number: 0,
        title: title.to_owned(),
        body: None,
        state: "open".into(),
        state_reason: None,
        labels: Vec::new(),
        assignees: Vec::new(),
        milestone: None,
        user: user.to_owned(),
        locked: false,
        created_at: t,
        updated_at: t,
        closed_at: None,
        closed_by: None,
        reactions: Vec::new(),
        pull: None,
        pinned: false,
    }
}

#[cfg(test)]
mod request_tests {
    use super::RecordedRequest;

    fn post(path: &str, body: &str) -> RecordedRequest {
        RecordedRequest {
            method: "POST".into(),
            path: path.into(),
            query: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            status: Some(200),
        }
    }

    #[test]
    fn a_graphql_query_reads_and_a_mutation_or_rest_post_writes() {
        assert!(
            !post(
                "/graphql",
                r#"{"query": "query($o: String!) { repository { id } }"}"#
            )
            .is_write()
        );
        assert!(
            post(
                "/graphql",
                r#"{"query": " mutation { pinIssue(input: {issueId: \"I_1\"}) { issue { id } } }"}"#
            )
            .is_write()
        );
        assert!(post("/repos/o/r/issues", r#"{"title": "t"}"#).is_write());
    }
}
