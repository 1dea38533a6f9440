//! The comment event in the terms commands need ([`CommentEvent`]), converted
//! once from the typed `issue_comment` event of `paydown-events`
//! ([`CommentEvent::from_event`]) for the App and the Action alike.

use paydown_events::{EventError, IssueCommentEvent, parse_payload};
use paydown_github::{GitHubError, Repo};

/// What happened to a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    /// A new comment: every command line in it runs.
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
    /// The repository the comment is in.
    pub repo: Repo,
    /// The issue or pull request the comment is on.
    pub number: u64,
    /// The comment is on a pull request, where a different set of commands
    /// applies.
    pub is_pull_request: bool,
    /// The issue's labels and body, to tell a debt or incident issue.
    pub issue_labels: Vec<String>,
    /// The issue's body; a debt issue is recognised by its item marker.
    pub issue_body: String,
    /// Created, edited or anything else; decides which lines run.
    pub action: CommentAction,
    /// The comment reacted to, and named in the reply's marker so a
    /// redelivery is answered once.
    pub comment_id: u64,
    /// The comment's body (after the edit, for `edited`).
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
pub use paydown_markers::is_bot_account as is_bot;

/// Why an `issue_comment` payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Not valid JSON, or not shaped like an `issue_comment` event.
    #[error(transparent)]
    Shape(#[from] EventError),
    /// The repository's `full_name` is not a valid `owner/name`.
    #[error(transparent)]
    Repository(#[from] GitHubError),
}

impl CommentEvent {
    /// Reads an `issue_comment` payload: the Action's `GITHUB_EVENT_PATH`
    /// file, or a webhook body. It parses with the same typed event the
    /// App's router does, then converts with [`CommentEvent::from_event`].
    pub fn from_payload(json: &[u8]) -> Result<CommentEvent, PayloadError> {
        let ev: IssueCommentEvent = parse_payload("issue_comment", json)?;
        Ok(CommentEvent::from_event(&ev)?)
    }

    /// The one conversion from the typed `issue_comment` event, for the App
    /// and the Action alike.
    pub fn from_event(ev: &IssueCommentEvent) -> Result<CommentEvent, GitHubError> {
        // The sender acted: on an edit it may not be the comment's author,
        // and the commands the edit added are the editor's to answer for.
        let user = ev.sender.as_ref().or(ev.comment.user.as_ref());
        Ok(CommentEvent {
            repo: Repo::parse(&ev.repository.full_name)?,
            number: ev.issue.number,
            is_pull_request: ev.issue.pull_request.is_some(),
            issue_labels: ev.issue.labels.iter().map(|l| l.name.clone()).collect(),
            issue_body: ev.issue.body.clone().unwrap_or_default(),
            action: CommentAction::from_name(&ev.action),
            comment_id: ev.comment.id,
            body: ev.comment.body.clone(),
            previous_body: ev
                .changes
                .as_ref()
                .and_then(|c| c.body.as_ref())
                .map(|b| b.from.clone()),
            updated_at: ev.comment.updated_at.clone(),
            author: user.map(|u| u.login.clone()).unwrap_or_default(),
            author_type: user.and_then(|u| u.kind.clone()),
            comment_by_bot: ev
                .comment
                .user
                .as_ref()
                .is_some_and(|u| is_bot(&u.login, u.kind.as_deref())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_githubs_own_issue_comment_payloads_then_each_reads_as_a_comment_event() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/fixtures");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("api.issue_comment.") {
                continue;
            }
            let event = CommentEvent::from_payload(&std::fs::read(&path).unwrap()).unwrap();
            assert!(!event.author.is_empty(), "{name}");
            if name.contains(".edited.") {
                assert_eq!(event.action, CommentAction::Edited, "{name}");
                assert!(event.previous_body.is_some(), "{name}");
            }
            seen += 1;
        }
        assert!(seen >= 9, "only {seen} fixtures");
    }

    #[test]
    fn given_a_payload_of_the_wrong_shape_then_the_error_names_the_json_path() {
        let err = CommentEvent::from_payload(br#"{"action":"created","issue":{"number":"x"}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("issue.number"), "{err}");
    }
}
