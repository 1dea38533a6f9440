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
    /// No access (GitHub's `none`).
    None,
    /// May read and clone.
    Read,
    /// May also manage issues and pull requests, but not push.
    Triage,
    /// May also push.
    Write,
    /// May also manage the repository, short of destructive settings.
    Maintain,
    /// Everything.
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
    /// A person.
    User,
    /// A GitHub App's account (`name[bot]`).
    Bot,
    /// An organisation.
    Organization,
}

impl UserKind {
    /// GitHub's `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::User => "User",
            UserKind::Bot => "Bot",
            UserKind::Organization => "Organization",
        }
    }
}

/// An account the fake knows.
#[derive(Clone, Debug)]
pub struct User {
    /// The account name.
    pub login: String,
    /// GitHub's numeric id.
    pub id: u64,
    /// Person, bot or organisation.
    pub kind: UserKind,
}

/// An installation of the fake App.
#[derive(Clone, Debug)]
pub struct Installation {
    /// The installation id tokens are minted for.
    pub id: u64,
    /// The account it is installed on.
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

/// A commit; the fake's history is linear, so one parent at most.
#[derive(Clone, Debug)]
pub struct Commit {
    /// The commit sha.
    pub sha: String,
    /// The parent's sha; `None` for a root commit.
    pub parent: Option<String>,
    /// The commit message.
    pub message: String,
    /// Author and committer date.
    pub date: DateTime<Utc>,
    /// The whole tree at the commit.
    pub tree: Arc<Tree>,
}

/// A reaction on an issue or comment.
#[derive(Clone, Debug, PartialEq)]
pub struct Reaction {
    /// The reaction's id.
    pub id: u64,
    /// Who reacted.
    pub user: String,
    /// `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket`, `eyes`.
    pub content: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// An issue or pull request comment.
#[derive(Clone, Debug)]
pub struct Comment {
    /// The comment id.
    pub id: u64,
    /// The issue (or pull request) it is on.
    pub issue_number: u64,
    /// Who wrote it.
    pub user: String,
    /// The Markdown body.
    pub body: String,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// When it was last edited.
    pub updated_at: DateTime<Utc>,
    /// Its reactions.
    pub reactions: Vec<Reaction>,
    /// Posted or edited through the HTTP API and not yet taken by the test.
    pub(crate) unasserted: bool,
}

/// A repository label.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The label id.
    pub id: u64,
    /// The name, unique case-insensitively.
    pub name: String,
    /// Hex colour without `#`.
    pub color: String,
    /// The description, when set.
    pub description: Option<String>,
}

/// A milestone.
#[derive(Clone, Debug)]
pub struct Milestone {
    /// The milestone id.
    pub id: u64,
    /// The number within the repository.
    pub number: u64,
    /// The title, unique in the repository.
    pub title: String,
    /// The description, when set.
    pub description: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// The due date, when set.
    pub due_on: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was closed, while closed.
    pub closed_at: Option<DateTime<Utc>>,
}

/// One changed file of a compare or a pull request.
#[derive(Clone, Debug, PartialEq)]
pub struct FileChange {
    /// The path after the change.
    pub filename: String,
    /// `added`, `removed`, `modified` or `renamed`.
    pub status: String,
    /// For a rename, the path before it.
    pub previous_filename: Option<String>,
    /// Lines added.
    pub additions: u64,
    /// Lines deleted.
    pub deletions: u64,
    /// Unified diff hunks, `None` for binary files.
    pub patch: Option<String>,
}

/// The pull-request half of an issue that is a PR.
#[derive(Clone, Debug)]
pub struct PullData {
    /// The branch being merged.
    pub head_ref: String,
    /// Its commit.
    pub head_sha: String,
    /// The branch merged into.
    pub base_ref: String,
    /// Its commit.
    pub base_sha: String,
    /// When it was merged.
    pub merged_at: Option<DateTime<Utc>>,
    /// The commit the merge made.
    pub merge_commit_sha: Option<String>,
    /// Who merged it.
    pub merged_by: Option<String>,
    /// Opened as a draft.
    pub draft: bool,
    /// Explicit file list; when `None` the files are computed from base...head.
    pub files: Option<Vec<FileChange>>,
}

/// An issue or, when `pull` is set, a pull request (they share the number space).
#[derive(Clone, Debug)]
pub struct Issue {
    /// The global id.
    pub id: u64,
    /// The number within the repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// The body; `None` for GitHub's `null`.
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// Why it was closed or reopened, as GitHub reports it.
    pub state_reason: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// The milestone's number.
    pub milestone: Option<u64>,
    /// Who opened it.
    pub user: String,
    /// Conversation locked.
    pub locked: bool,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When anything on it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was closed, while closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it, while closed.
    pub closed_by: Option<String>,
    /// Its reactions.
    pub reactions: Vec<Reaction>,
    /// The pull request's branches and merge state, when it is one.
    pub pull: Option<PullData>,
    /// Pinned to the repository's issue list (GraphQL `pinIssue`).
    pub pinned: bool,
}

/// A check run.
#[derive(Clone, Debug)]
pub struct CheckRun {
    /// The run id.
    pub id: u64,
    /// The check's name.
    pub name: String,
    /// The commit it is on.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// `success`, `neutral`, `failure`… once completed.
    pub conclusion: Option<String>,
    /// The link the check shows.
    pub details_url: Option<String>,
    /// The creator's own id for the run.
    pub external_id: Option<String>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// The output's headline.
    pub title: Option<String>,
    /// The output's Markdown summary.
    pub summary: Option<String>,
    /// The output's Markdown details.
    pub text: Option<String>,
    /// Every annotation sent, in order (GitHub appends on each update).
    pub annotations: Vec<serde_json::Value>,
    /// The creating App's slug when not the fake App's: `github-actions`
    /// for a run made with a workflow's `github-actions[bot]` token.
    pub app_slug: Option<String>,
}

/// A repository and everything in it.
#[derive(Clone, Debug)]
pub struct Repo {
    /// The repository id.
    pub id: u64,
    /// The owning account.
    pub owner: String,
    /// The repository name.
    pub name: String,
    /// The default branch's name.
    pub default_branch: String,
    /// Whether the repository is private.
    pub private: bool,
    /// Branch name → the sha it points at.
    pub branches: BTreeMap<String, String>,
    /// Every commit, by sha.
    pub commits: HashMap<String, Commit>,
    /// Issues and pull requests, by number.
    pub issues: BTreeMap<u64, Issue>,
    /// Issue and pull request comments, by id.
    pub comments: BTreeMap<u64, Comment>,
    /// Its labels.
    pub labels: Vec<Label>,
    /// Milestones, by number.
    pub milestones: BTreeMap<u64, Milestone>,
    /// Check runs, by id.
    pub check_runs: BTreeMap<u64, CheckRun>,
    /// Lower-cased login → permission.
    pub permissions: BTreeMap<String, Permission>,
}

impl Repo {
    /// `owner/name`.
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

    /// The label called `name`, compared case-insensitively as GitHub does.
    pub fn label(&self, name: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }

    /// `login`'s permission, compared case-insensitively; `None` when not a collaborator.
    pub fn permission_of(&self, login: &str) -> Option<Permission> {
        self.permissions.get(&login.to_ascii_lowercase()).copied()
    }

    /// The number the next issue or pull request gets.
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
