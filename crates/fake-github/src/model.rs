//! The fake's world: installations, repositories with their commits and trees,
//! issues, pull requests, comments, labels, milestones, check runs, permissions.
//! Plain data plus the pure operations on it (ref resolution, ancestry); no I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// A file tree at one commit: path → content.
pub type Tree = BTreeMap<String, Vec<u8>>;

/// Repository permission of a collaborator, as GitHub's `role_name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    None,
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl Permission {
    /// GitHub's `role_name` field.
    pub fn role_name(self) -> &'static str {
        match self {
            Permission::None => "none",
            Permission::Read => "read",
            Permission::Triage => "triage",
            Permission::Write => "write",
            Permission::Maintain => "maintain",
            Permission::Admin => "admin",
        }
    }

    /// GitHub's legacy `permission` field, which folds maintain into write and
    /// triage into read (clients must read `role_name` to tell them apart).
    pub fn legacy_name(self) -> &'static str {
        match self {
            Permission::None => "none",
            Permission::Read | Permission::Triage => "read",
            Permission::Write | Permission::Maintain => "write",
            Permission::Admin => "admin",
        }
    }

    /// Parses a role name (`admin`, `maintain`, `write`, `triage`, `read`, `none`).
    pub fn parse(s: &str) -> Option<Permission> {
        Some(match s {
            "none" => Permission::None,
            "read" | "pull" => Permission::Read,
            "triage" => Permission::Triage,
            "write" | "push" => Permission::Write,
            "maintain" => Permission::Maintain,
            "admin" => Permission::Admin,
            _ => return None,
        })
    }
}

/// Whether an account is a person, a bot (GitHub App) or an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserKind {
    User,
    Bot,
    Organization,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::User => "User",
            UserKind::Bot => "Bot",
            UserKind::Organization => "Organization",
        }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub login: String,
    pub id: u64,
    pub kind: UserKind,
}

#[derive(Clone, Debug)]
pub struct Installation {
    pub id: u64,
    pub account: String,
    /// Full names (`owner/name`) of the repositories the installation covers.
    pub repos: Vec<String>,
    /// Set by [`crate::FakeGitHub::uninstall`]: tokens stop working, exchange 404s.
    pub removed: bool,
    /// Granted permissions, e.g. `issues` → `write` (GitHub's names and levels).
    pub permissions: BTreeMap<String, String>,
}

/// The permissions paydown's App asks for; new installations get these.
pub fn default_installation_permissions() -> BTreeMap<String, String> {
    [
        ("checks", "write"),
        ("contents", "read"),
        ("issues", "write"),
        ("metadata", "read"),
        ("pull_requests", "write"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[derive(Clone, Debug)]
pub struct Commit {
    pub sha: String,
    pub parent: Option<String>,
    pub message: String,
    pub date: DateTime<Utc>,
    pub tree: Arc<Tree>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reaction {
    pub id: u64,
    pub user: String,
    /// `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket`, `eyes`.
    pub content: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub issue_number: u64,
    pub user: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub reactions: Vec<Reaction>,
    /// Posted or edited through the HTTP API and not yet taken by the test.
    pub(crate) unasserted: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub id: u64,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Milestone {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub description: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub due_on: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// One changed file of a compare or a pull request.
#[derive(Clone, Debug, PartialEq)]
pub struct FileChange {
    pub filename: String,
    /// `added`, `removed`, `modified` or `renamed`.
    pub status: String,
    pub previous_filename: Option<String>,
    pub additions: u64,
    pub deletions: u64,
    /// Unified diff hunks, `None` for binary files.
    pub patch: Option<String>,
}

/// The pull-request half of an issue that is a PR.
#[derive(Clone, Debug)]
pub struct PullData {
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub base_sha: String,
    pub merged_at: Option<DateTime<Utc>>,
    pub merge_commit_sha: Option<String>,
    pub merged_by: Option<String>,
    pub draft: bool,
    /// Explicit file list; when `None` the files are computed from base...head.
    pub files: Option<Vec<FileChange>>,
}

/// An issue or, when `pull` is set, a pull request (they share the number space).
#[derive(Clone, Debug)]
pub struct Issue {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub state_reason: Option<String>,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub milestone: Option<u64>,
    pub user: String,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub reactions: Vec<Reaction>,
    pub pull: Option<PullData>,
    /// Pinned to the repository's issue list (GraphQL `pinIssue`).
    pub pinned: bool,
}

#[derive(Clone, Debug)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    pub conclusion: Option<String>,
    pub details_url: Option<String>,
    pub external_id: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
    /// Every annotation sent, in order (GitHub appends on each update).
    pub annotations: Vec<serde_json::Value>,
    /// The creating App's slug when not the fake App's: `github-actions`
    /// for a run made with a workflow's `github-actions[bot]` token.
    pub app_slug: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub private: bool,
    pub branches: BTreeMap<String, String>,
    pub commits: HashMap<String, Commit>,
    pub issues: BTreeMap<u64, Issue>,
    pub comments: BTreeMap<u64, Comment>,
    pub labels: Vec<Label>,
    pub milestones: BTreeMap<u64, Milestone>,
    pub check_runs: BTreeMap<u64, CheckRun>,
    /// Lower-cased login → permission.
    pub permissions: BTreeMap<String, Permission>,
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Resolves a branch name, `heads/<branch>`, `refs/heads/<branch>`, a full
    /// sha or a sha prefix of at least 7 characters to a commit.
    pub fn resolve(&self, reference: &str) -> Option<&Commit> {
        let branch = reference
            .strip_prefix("refs/heads/")
            .or_else(|| reference.strip_prefix("heads/"))
            .unwrap_or(reference);
        if let Some(sha) = self.branches.get(branch) {
            return self.commits.get(sha);
        }
        if let Some(c) = self.commits.get(reference) {
            return Some(c);
        }
        if reference.len() >= 7 && reference.chars().all(|c| c.is_ascii_hexdigit()) {
            let mut found = self
                .commits
                .values()
                .filter(|c| c.sha.starts_with(reference));
            let first = found.next()?;
            if found.next().is_none() {
                return Some(first);
            }
        }
        None
    }

    /// Commits from `sha` back to the root, newest first.
    pub fn ancestry(&self, sha: &str) -> Vec<&Commit> {
        let mut out = Vec::new();
        let mut cur = self.commits.get(sha);
        while let Some(c) = cur {
            out.push(c);
            cur = c.parent.as_deref().and_then(|p| self.commits.get(p));
        }
        out
    }

    pub fn label(&self, name: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }

    pub fn permission_of(&self, login: &str) -> Option<Permission> {
        self.permissions.get(&login.to_ascii_lowercase()).copied()
    }

    pub fn next_issue_number(&self) -> u64 {
        self.issues.keys().next_back().map_or(1, |n| n + 1)
    }
}

/// A commit sha for new content: unique per call, stable in shape (40 hex).
pub fn commit_sha(parent: Option<&str>, tree: &Tree, salt: u64) -> String {
    let mut h = Sha256::new();
    h.update(parent.unwrap_or("root").as_bytes());
    h.update(salt.to_le_bytes());
    for (path, content) in tree {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(blob_sha(content).as_bytes());
    }
    hex::encode(h.finalize())[..40].to_owned()
}

/// Git's blob id for `content` (`sha1("blob <len>\0" + content)` in git; a
/// sha-256 prefix here, since nothing in paydown recomputes it).
pub fn blob_sha(content: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    hex::encode(h.finalize())[..40].to_owned()
}
