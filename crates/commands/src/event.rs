//! The comment event in the terms commands need ([`CommentEvent`]), built
//! by the App's webhook handler from its typed payload or read from the raw
//! `issue_comment` JSON ([`CommentEvent::from_payload`]) by the Action.

use paydown_github::{GitHubError, Repo};
use serde::Deserialize;

/// What happened to a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    Created,
    /// Edited; only commands the edit added run.
    Edited,
    /// Deleted, or any other action: nothing runs.
    Other,
}

impl CommentAction {
    /// From the payload's `action`.
    pub fn from_name(action: &str) -> CommentAction {
        match action {
            "created" => CommentAction::Created,
            "edited" => CommentAction::Edited,
            _ => CommentAction::Other,
        }
    }
}

/// A comment event in the terms commands need, built by the App's webhook
/// handler or the Action from their payloads (the same JSON shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentEvent {
    pub repo: Repo,
    /// The issue or pull request the comment is on.
    pub number: u64,
    pub is_pull_request: bool,
    /// The issue's labels and body, to tell a debt or incident issue.
    pub issue_labels: Vec<String>,
    pub issue_body: String,
    pub action: CommentAction,
    pub comment_id: u64,
    pub body: String,
    /// For `edited`: `changes.body.from`; absent when the body did not change.
    pub previous_body: Option<String>,
    /// The comment's `updated_at` as sent, which tells one edit from another.
    pub updated_at: Option<String>,
    /// Who wrote the commands: the event's sender (on an edit, the editor,
    /// who may not be the comment's author), else the comment's author.
    pub author: String,
    /// `user.type` from the payload (`User`, `Bot`, `Organization`).
    pub author_type: Option<String>,
    /// The comment itself is a bot's (paydown's reply, say), whoever edited it.
    pub comment_by_bot: bool,
}

impl CommentEvent {
    /// Bots never run commands, nor does anyone through a bot's comment
    /// (a person editing paydown's reply).
    pub fn by_bot(&self) -> bool {
        self.comment_by_bot || is_bot(&self.author, self.author_type.as_deref())
    }
}

/// A bot account: `type: Bot`, or a `…[bot]` login when the type is missing
/// (older payloads).
pub fn is_bot(login: &str, kind: Option<&str>) -> bool {
    kind.is_some_and(|t| t.eq_ignore_ascii_case("bot"))
        || login.to_ascii_lowercase().ends_with("[bot]")
}

/// Why an `issue_comment` payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("not an issue_comment payload: {0}")]
    Shape(#[from] serde_json::Error),
    #[error(transparent)]
    Repository(#[from] GitHubError),
}

#[derive(Debug, Deserialize)]
struct PayloadUser {
    login: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PayloadLabel {
    name: String,
}

#[derive(Debug, Deserialize)]
struct PayloadIssue {
    number: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    labels: Vec<PayloadLabel>,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct PayloadComment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    user: Option<PayloadUser>,
}

#[derive(Debug, Deserialize)]
struct PayloadFrom {
    from: String,
}

#[derive(Debug, Default, Deserialize)]
struct PayloadChanges {
    #[serde(default)]
    body: Option<PayloadFrom>,
}

#[derive(Debug, Deserialize)]
struct PayloadRepository {
    full_name: String,
}

#[derive(Debug, Deserialize)]
struct Payload {
    action: String,
    issue: PayloadIssue,
    comment: PayloadComment,
    #[serde(default)]
    changes: Option<PayloadChanges>,
    repository: PayloadRepository,
    #[serde(default)]
    sender: Option<PayloadUser>,
}

impl CommentEvent {
    /// Reads an `issue_comment` payload: a webhook body, or the Action's
    /// `GITHUB_EVENT_PATH` file (the same JSON). The App's handler builds the
    /// same event from its typed payload; a server test checks both agree on
    /// GitHub's own payloads.
    pub fn from_payload(json: &[u8]) -> Result<CommentEvent, PayloadError> {
        let payload: Payload = serde_json::from_slice(json)?;
        // The sender acted: on an edit it may not be the comment's author,
        // and the commands the edit added are the editor's.
        let comment_by_bot = payload
            .comment
            .user
            .as_ref()
            .is_some_and(|u| is_bot(&u.login, u.kind.as_deref()));
        let user = payload.sender.or(payload.comment.user);
        Ok(CommentEvent {
            repo: Repo::parse(&payload.repository.full_name)?,
            number: payload.issue.number,
            is_pull_request: payload.issue.pull_request.is_some_and(|v| !v.is_null()),
            issue_labels: payload.issue.labels.into_iter().map(|l| l.name).collect(),
            issue_body: payload.issue.body.unwrap_or_default(),
            action: CommentAction::from_name(&payload.action),
            comment_id: payload.comment.id,
            body: payload.comment.body.unwrap_or_default(),
            previous_body: payload.changes.and_then(|c| c.body).map(|b| b.from),
            updated_at: payload.comment.updated_at,
            author: user.as_ref().map(|u| u.login.clone()).unwrap_or_default(),
            author_type: user.and_then(|u| u.kind),
            comment_by_bot,
        })
    }
}
