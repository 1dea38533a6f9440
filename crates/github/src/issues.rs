//! Typed issue writes: an edit, labels, assignees and a comment edit, each
//! with the answer GitHub gives when the desired state already holds
//! treated as success, so every caller repeats them safely.

use serde::Serialize;
use serde_json::Value;

use crate::{Client, Repo, Result, encode_segment};

/// The fields of an issue to change (`PATCH /issues/{number}`); unset
/// fields are not sent, so they keep whatever GitHub holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IssueEdit {
    /// A new title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A new body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `open` or `closed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// Why it is closed: `completed` or `not_planned`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<&'static str>,
}

impl IssueEdit {
    /// Whether the edit would change nothing (and need no request).
    pub fn is_empty(&self) -> bool {
        *self == IssueEdit::default()
    }
}

impl Client {
    /// Applies `edit` to issue `number` (nothing is sent for an empty edit).
    /// An edit is idempotent: repeating one after a 5xx is safe.
    pub async fn edit_issue(&self, repo: &Repo, number: u64, edit: &IssueEdit) -> Result<()> {
        if edit.is_empty() {
            return Ok(());
        }
        let _: Value = self.patch_json(&repo.issue(number), edit).await?;
        Ok(())
    }

    /// Adds `labels` to issue `number` (labels it already has stay once).
    pub async fn add_labels(&self, repo: &Repo, number: u64, labels: &[String]) -> Result<()> {
        if labels.is_empty() {
            return Ok(());
        }
        let route = repo.route(&format!("/issues/{number}/labels"));
        let _: Value = self
            .post_idempotent_json(&route, &serde_json::json!({ "labels": labels }))
            .await?;
        Ok(())
    }

    /// Removes `label` from issue `number`; a label already gone (404) is
    /// the desired state.
    pub async fn remove_label(&self, repo: &Repo, number: u64, label: &str) -> Result<()> {
        let route = repo.route(&format!(
            "/issues/{number}/labels/{}",
            encode_segment(label)
        ));
        match self.delete(&route).await {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other,
        }
    }

    /// Assigns `logins` to issue `number`; GitHub's 422 (a login that
    /// cannot be assigned) leaves the issue as it is and is not an error.
    pub async fn add_assignees(&self, repo: &Repo, number: u64, logins: &[String]) -> Result<()> {
        if logins.is_empty() {
            return Ok(());
        }
        let route = repo.route(&format!("/issues/{number}/assignees"));
        match self
            .post_idempotent_json::<_, Value>(&route, &serde_json::json!({ "assignees": logins }))
            .await
        {
            Err(e) if e.status() == Some(422) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Replaces the body of issue comment `id`.
    pub async fn edit_comment(&self, repo: &Repo, id: u64, body: &str) -> Result<()> {
        let route = repo.route(&format!("/issues/comments/{id}"));
        let _: Value = self
            .patch_json(&route, &serde_json::json!({ "body": body }))
            .await?;
        Ok(())
    }
}
