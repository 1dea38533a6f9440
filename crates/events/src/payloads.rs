//! paydown's own webhook payload structs: only the fields paydown reads.
//! Fields that GitHub added over time (absent from older GHES payloads) are
//! optional; unknown fields are ignored so new GitHub fields never break us.

use serde::Deserialize;

/// An `action` value with the ones paydown branches on named, and any other
/// (including actions GitHub adds in future) kept verbatim.
macro_rules! open_action {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
        #[serde(from = "String")]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] $variant,)*
            /// Any other action, kept as GitHub spelled it.
            Other(String),
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($text => $name::$variant,)*
                    _ => $name::Other(s),
                }
            }
        }

        impl $name {
            /// The action as GitHub spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(s) => s,
                }
            }
        }
    };
}

open_action!(
    /// `installation` event actions.
    InstallationAction {
        Created => "created",
        Deleted => "deleted",
        Suspend => "suspend",
        Unsuspend => "unsuspend",
        NewPermissionsAccepted => "new_permissions_accepted",
    }
);

open_action!(
    /// `installation_repositories` event actions.
    InstallationReposAction {
        Added => "added",
        Removed => "removed",
    }
);

open_action!(
    /// `pull_request` event actions.
    PullRequestAction {
        Opened => "opened",
        Reopened => "reopened",
        Synchronize => "synchronize",
        Edited => "edited",
        Labeled => "labeled",
        Unlabeled => "unlabeled",
        Closed => "closed",
    }
);

impl PullRequestAction {
    /// Whether the action may change the pull request's diff, so its debt
    /// is reviewed again (sticky comment, check run, annotations). The App
    /// and the Action both ask here so they review on the same events.
    pub fn is_reviewed(&self) -> bool {
        matches!(
            self,
            PullRequestAction::Opened
                | PullRequestAction::Reopened
                | PullRequestAction::Synchronize
        )
    }

    /// Whether the action changes what the sprint ledger knows of the pull
    /// request (its diff, title, labels or merge), so paydown acts on it.
    /// A `closed` counts here; whether it merged is the payload's to say.
    pub fn updates_ledger(&self) -> bool {
        self.is_reviewed()
            || matches!(
                self,
                PullRequestAction::Edited
                    | PullRequestAction::Labeled
                    | PullRequestAction::Unlabeled
                    | PullRequestAction::Closed
            )
    }
}

/// A GitHub account (user, organisation or bot) as payloads name it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The account's login.
    pub login: String,
    /// GitHub's numeric account id.
    #[serde(default)]
    pub id: Option<u64>,
    /// `User`, `Organization` or `Bot`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// An installation's account has the shape of a user (or organisation).
pub type Account = User;

/// The `installation` object as it appears in an `installation` event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Installation {
    /// The installation id, used to mint installation tokens.
    pub id: u64,
    /// The user or organisation that installed the App.
    pub account: Account,
    /// `all` or `selected`.
    #[serde(default)]
    pub repository_selection: Option<String>,
    /// Set while the installation is suspended.
    #[serde(default)]
    pub suspended_at: Option<String>,
}

/// The short `installation` reference most events carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct InstallationRef {
    /// The installation id, used to mint installation tokens.
    pub id: u64,
}

/// The short repository form in installation events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RepoRef {
    /// GitHub's numeric repository id.
    pub id: u64,
    /// The repository name without its owner.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// Whether the repository is private.
    #[serde(default)]
    pub private: Option<bool>,
}

/// The full repository object most events carry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    /// GitHub's numeric repository id.
    pub id: u64,
    /// The repository name without its owner.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// The account that owns the repository.
    pub owner: User,
    /// The branch paydown scans and syncs from.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// Whether the repository is private.
    #[serde(default)]
    pub private: Option<bool>,
}

/// `ping`: sent once when the webhook is created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PingEvent {
    /// A random GitHub aphorism.
    #[serde(default)]
    pub zen: Option<String>,
    /// The id of the webhook that was created.
    #[serde(default)]
    pub hook_id: Option<u64>,
    /// Present for repository webhooks, absent for App webhooks.
    #[serde(default)]
    pub repository: Option<Repository>,
}

/// `installation`: the App was installed, removed, suspended or re-permissioned.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InstallationEvent {
    /// What happened to the installation.
    pub action: InstallationAction,
    /// The installation the event is about.
    pub installation: Installation,
    /// Present on `created` when the installation targets selected repos;
    /// paydown refetches the list through the API anyway.
    #[serde(default)]
    pub repositories: Option<Vec<RepoRef>>,
    /// Who triggered the event.
    #[serde(default)]
    pub sender: Option<User>,
}

/// `installation_repositories`: repositories joined or left an installation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InstallationRepositoriesEvent {
    /// Whether repositories were added or removed.
    pub action: InstallationReposAction,
    /// The installation whose repositories changed.
    pub installation: Installation,
    /// `all` or `selected` after the change.
    #[serde(default)]
    pub repository_selection: Option<String>,
    /// Repositories that joined the installation.
    #[serde(default)]
    pub repositories_added: Vec<RepoRef>,
    /// Repositories that left the installation.
    #[serde(default)]
    pub repositories_removed: Vec<RepoRef>,
}

/// One commit of a push, with the paths it touched.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PushCommit {
    /// The commit SHA.
    pub id: String,
    /// The commit message.
    #[serde(default)]
    pub message: Option<String>,
    /// Paths the commit added.
    #[serde(default)]
    pub added: Vec<String>,
    /// Paths the commit removed.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Paths the commit modified.
    #[serde(default)]
    pub modified: Vec<String>,
}

/// `push`: commits pushed to a branch or tag.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PushEvent {
    /// The full ref pushed to (`refs/heads/main`).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The ref's SHA before the push (all zeros when created).
    pub before: String,
    /// The ref's SHA after the push (all zeros when deleted).
    pub after: String,
    /// The repository the event happened in.
    pub repository: Repository,
    /// The App installation the delivery is for (absent for plain repository webhooks).
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// Whether the push created the ref.
    #[serde(default)]
    pub created: Option<bool>,
    /// Whether the push deleted the ref.
    #[serde(default)]
    pub deleted: Option<bool>,
    /// Whether the push was forced.
    #[serde(default)]
    pub forced: Option<bool>,
    /// The pushed commits, oldest first (at most 2,048).
    #[serde(default)]
    pub commits: Vec<PushCommit>,
    /// The commit the ref now points to.
    #[serde(default)]
    pub head_commit: Option<PushCommit>,
}

/// Whether a push of `git_ref` (deleting it when `deleted`) changes the
/// default branch `default_branch`: only such a push changes debt issues;
/// others are left to pull-request reports. The App's intake and its push
/// handler both decide by this rule.
pub fn push_changes_default_branch(
    git_ref: &str,
    deleted: Option<bool>,
    default_branch: &str,
) -> bool {
    deleted != Some(true)
        && git_ref
            .strip_prefix("refs/heads/")
            .is_some_and(|branch| branch == default_branch)
}

impl PushEvent {
    /// Whether a commit of the push added, changed or removed `path`, as
    /// far as the payload tells (GitHub lists at most 2,048 commits).
    pub fn touches(&self, path: &str) -> bool {
        self.commits
            .iter()
            .chain(&self.head_commit)
            .flat_map(|c| c.added.iter().chain(&c.modified).chain(&c.removed))
            .any(|p| p == path)
    }
}

/// A pull request's head or base: branch name and commit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitRef {
    /// The branch name.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit SHA.
    pub sha: String,
}

/// The pull request object of `pull_request` events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequest {
    /// The number in its repository.
    pub number: u64,
    /// `open` or `closed` (merged pull requests are closed).
    pub state: String,
    /// The title.
    pub title: String,
    /// The Markdown body (`None` when empty).
    #[serde(default)]
    pub body: Option<String>,
    /// The author.
    #[serde(default)]
    pub user: Option<User>,
    /// The branch and commit being merged.
    pub head: GitRef,
    /// The branch and commit merged into.
    pub base: GitRef,
    /// Whether it is a draft.
    #[serde(default)]
    pub draft: Option<bool>,
    /// Whether it was merged (a closed one may not have been).
    #[serde(default)]
    pub merged: Option<bool>,
    /// Its labels.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Lines added; present in webhook payloads (the PR list API lacks it).
    #[serde(default)]
    pub additions: Option<u64>,
    /// Lines deleted; present in webhook payloads like `additions`.
    #[serde(default)]
    pub deletions: Option<u64>,
    /// When it was merged.
    #[serde(default)]
    pub merged_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The merge commit once merged (a test merge commit before).
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    /// Its milestone, which may decide its sprint.
    #[serde(default)]
    pub milestone: Option<MilestoneRef>,
}

/// `pull_request`: a pull request was opened, edited, synchronised, labelled, closed, …
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequestEvent {
    /// What happened to the pull request.
    pub action: PullRequestAction,
    /// The pull request number.
    pub number: u64,
    /// The pull request as it is after the event.
    pub pull_request: PullRequest,
    /// The repository the event happened in.
    pub repository: Repository,
    /// The App installation the delivery is for (absent for plain repository webhooks).
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// Who triggered the event.
    #[serde(default)]
    pub sender: Option<User>,
    /// The label added or removed (`labeled` / `unlabeled`).
    #[serde(default)]
    pub label: Option<Label>,
}

/// An issue or pull request label.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Label {
    /// The label name as written.
    pub name: String,
}

/// The milestone an issue or pull request belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MilestoneRef {
    /// The milestone number in its repository.
    pub number: u64,
    /// The milestone title.
    pub title: String,
}

/// Marker for `issue.pull_request`: its presence means the issue is a PR.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequestLink {
    /// The pull request's API URL.
    #[serde(default)]
    pub url: Option<String>,
}

/// The issue object of `issues` and `issue_comment` events (pull requests too).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Issue {
    /// The number in its repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// `open` or `closed`.
    pub state: Option<String>,
    /// The Markdown body (`None` when empty).
    #[serde(default)]
    pub body: Option<String>,
    /// The author.
    #[serde(default)]
    pub user: Option<User>,
    /// Its labels.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Its milestone.
    #[serde(default)]
    pub milestone: Option<MilestoneRef>,
    /// Present when the issue is a pull request.
    #[serde(default)]
    pub pull_request: Option<PullRequestLink>,
    /// Its page on GitHub.
    #[serde(default)]
    pub html_url: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was closed.
    #[serde(default)]
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `issues`: an issue was opened, edited, labelled, closed, …
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssuesEvent {
    /// The event's `action`, verbatim.
    pub action: String,
    /// The issue as it is after the event.
    pub issue: Issue,
    /// The repository the event happened in.
    pub repository: Repository,
    /// The App installation the delivery is for (absent for plain repository webhooks).
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// Who triggered the event.
    #[serde(default)]
    pub sender: Option<User>,
}

/// An issue or pull request conversation comment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    /// The comment id, which commands key on.
    pub id: u64,
    /// The Markdown body, where slash commands are read.
    pub body: String,
    /// The author.
    #[serde(default)]
    pub user: Option<User>,
    /// `OWNER`, `MEMBER`, `COLLABORATOR`, …: the author's relation to the repository.
    #[serde(default)]
    pub author_association: Option<String>,
    /// When it was last edited, as GitHub sent it.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `changes` of an edited comment: the body before the edit, present only
/// when the body changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CommentChanges {
    /// The body before the edit.
    #[serde(default)]
    pub body: Option<ChangedText>,
}

/// A text field's value before an edit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChangedText {
    /// The previous value.
    pub from: String,
}

/// `issue_comment`: a comment on an issue or pull request was created, edited or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssueCommentEvent {
    /// The event's `action`, verbatim.
    pub action: String,
    /// The issue or pull request commented on.
    pub issue: Issue,
    /// The comment as it is after the event.
    pub comment: Comment,
    /// On `edited`: what the edit changed.
    #[serde(default)]
    pub changes: Option<CommentChanges>,
    /// The repository the event happened in.
    pub repository: Repository,
    /// The App installation the delivery is for (absent for plain repository webhooks).
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// Who triggered the event.
    #[serde(default)]
    pub sender: Option<User>,
}

/// The milestone object of `milestone` events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Milestone {
    /// The number in its repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// The due date as GitHub sent it (an ISO 8601 timestamp).
    #[serde(default)]
    pub due_on: Option<String>,
    /// Open issues and pull requests in the milestone.
    #[serde(default)]
    pub open_issues: Option<u64>,
    /// Closed issues and pull requests in the milestone.
    #[serde(default)]
    pub closed_issues: Option<u64>,
}

/// `milestone`: a milestone was created, edited, closed, …; sprints may follow milestones.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MilestoneEvent {
    /// The event's `action`, verbatim.
    pub action: String,
    /// The milestone as it is after the event.
    pub milestone: Milestone,
    /// The repository the event happened in.
    pub repository: Repository,
    /// The App installation the delivery is for (absent for plain repository webhooks).
    #[serde(default)]
    pub installation: Option<InstallationRef>,
}

/// The check run object of `check_run` events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRun {
    /// The check run id.
    pub id: u64,
    /// The check run name (paydown's own runs have fixed names).
    pub name: String,
    /// The commit the check run reports on.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// `success`, `failure`, `neutral`, … once completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// The id paydown set when it created the run.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// The button a user pressed on a check run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RequestedAction {
    /// The identifier paydown gave the button.
    pub identifier: String,
}

/// `check_run`: a check run was created, completed, re-requested, or one of its buttons pressed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRunEvent {
    /// The event's `action`, verbatim.
    pub action: String,
    /// The check run the event is about.
    pub check_run: CheckRun,
    /// On `requested_action`: the button pressed.
    #[serde(default)]
    pub requested_action: Option<RequestedAction>,
    /// The repository the event happened in.
    pub repository: Repository,
    /// The App installation the delivery is for (absent for plain repository webhooks).
    #[serde(default)]
    pub installation: Option<InstallationRef>,
}
