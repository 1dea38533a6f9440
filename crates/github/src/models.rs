//! GitHub response models shared by every paydown crate: only the fields
//! paydown reads, all defaulted where GitHub may omit them, so a crate
//! never keeps a private copy of the same JSON shape.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::BotIdentity;

/// A GitHub account as it appears on comments, issues and pull requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The account name (`octocat`, `paydown[bot]`).
    #[serde(default)]
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// An issue or pull request comment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    /// The comment's id, for editing or deleting it.
    pub id: u64,
    /// The Markdown body (GitHub may omit an empty one).
    #[serde(default)]
    pub body: Option<String>,
    /// Who wrote it (absent for a deleted account).
    #[serde(default)]
    pub user: Option<User>,
}

impl Comment {
    /// Written by the bot itself (not merely by some bot).
    pub fn by(&self, identity: &BotIdentity) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| identity.owns(&u.login, u.kind.as_deref()))
    }

    /// Possibly the bot's own write of exactly what it sent
    /// ([`BotIdentity::may_have_written`]).
    pub fn may_be_by(&self, identity: &BotIdentity) -> bool {
        let user = self.user.clone().unwrap_or_default();
        identity.may_have_written(&user.login, user.kind.as_deref())
    }
}

/// The `id` GitHub answers a create with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Created {
    /// The new object's id.
    pub id: u64,
}

/// A label as it appears on issues and pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Label {
    /// The label's name, compared case-insensitively by GitHub.
    pub name: String,
}

/// An issue as GitHub answers it (listings and `GET /issues/{n}`). Pull
/// requests are issues too: [`Issue::pull_request`] tells them apart.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Issue {
    /// The issue number within its repository.
    pub number: u64,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// `open` or `closed`.
    #[serde(default)]
    pub state: String,
    /// Why it was closed (`completed`, `not_planned`…), or `reopened`.
    #[serde(default)]
    pub state_reason: Option<String>,
    /// The Markdown body (`null` when empty).
    #[serde(default)]
    pub body: Option<String>,
    /// The web page of the issue.
    #[serde(default)]
    pub html_url: Option<String>,
    /// Its labels.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Who it is assigned to.
    #[serde(default)]
    pub assignees: Vec<User>,
    /// Who opened it.
    #[serde(default)]
    pub user: Option<User>,
    /// Kept raw: only its presence is read, and a milestone object GitHub
    /// trims must not fail the whole issue.
    #[serde(default)]
    pub milestone: Option<serde_json::Value>,
    /// Present (an object) only on pull requests.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
    /// When it was opened.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last closed (`None` while open).
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
}

impl Issue {
    /// A pull request listed among issues (issue listings include them).
    pub fn is_pull_request(&self) -> bool {
        self.pull_request.as_ref().is_some_and(|p| !p.is_null())
    }
}

/// A pull request's head or base: the commit it is at and its branch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PullBranch {
    /// The commit it is at.
    pub sha: String,
    /// The branch name (`ref` in GitHub's JSON).
    #[serde(rename = "ref", default)]
    pub branch: String,
}

/// A pull request as GitHub answers it (listings, `GET /pulls/{n}`,
/// `GET /commits/{sha}/pulls`). Listings leave out `additions` and
/// `deletions`, hence the options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PullRequest {
    /// The pull request (= issue) number.
    pub number: u64,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// `open` or `closed` (merged pull requests are `closed`).
    #[serde(default)]
    pub state: String,
    /// When it was merged (`None` when not merged).
    #[serde(default)]
    pub merged_at: Option<DateTime<Utc>>,
    /// The commit the merge made on the base branch.
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    /// When it was opened.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When anything on it last changed.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Its labels.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Lines added (only on `GET /pulls/{n}`).
    #[serde(default)]
    pub additions: Option<u64>,
    /// Lines deleted (only on `GET /pulls/{n}`).
    #[serde(default)]
    pub deletions: Option<u64>,
    /// The branch being merged, at its current commit.
    pub head: PullBranch,
    /// The branch it merges into, at its current commit.
    pub base: PullBranch,
}

/// A milestone (`GET /milestones`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Milestone {
    /// The milestone number within its repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// The due date, when set.
    #[serde(default)]
    pub due_on: Option<DateTime<Utc>>,
}

/// A commit, by its sha: what `GET /commits/{ref}` answers and what a
/// compare names as its merge base.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Commit {
    /// The commit's full sha.
    pub sha: String,
}

/// A file a compare or a pull request changed, as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChangedFile {
    /// The file's path after the change.
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed`, `unchanged`.
    pub status: String,
    /// For a rename, the path before it.
    #[serde(default)]
    pub previous_filename: Option<String>,
}

/// A comparison of two commits (`GET /compare/{base}...{head}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Compare {
    /// `ahead`, `behind`, `diverged` or `identical`.
    #[serde(default)]
    pub status: String,
    /// Absent when the caller did not ask for it or GitHub left it out.
    #[serde(default)]
    pub merge_base_commit: Option<Commit>,
    /// Absent (not empty) when GitHub leaves the files out, e.g. on a
    /// comparison too large to list.
    #[serde(default)]
    pub files: Option<Vec<ChangedFile>>,
}
