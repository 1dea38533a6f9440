//! Carrying out a plan through the GitHub client.
//!
//! Effects are applied in the plan's order; one that fails is recorded
//! and the rest still run, so a single bad item (a label GitHub refuses, a
//! deleted issue) never blocks the others. Every effect is safe to repeat:
//! a crash half-way leaves state that the next plan, computed from GitHub
//! again, completes without duplicates.

use paydown_github::models::Comment;
use paydown_github::{Client, GitHubError, IssueEdit, Repo};
use paydown_reconcile::{Effect, ExistingIssue, Plan};
use serde::Serialize;
use serde_json::{Value, json};

use paydown_markers::closed_by_bot;

/// What applying a plan did.
#[derive(Debug, Default, Serialize)]
pub struct ApplyReport {
    /// Effects GitHub accepted, of every kind.
    pub applied: usize,
    /// Issues created, in plan order.
    pub created: Vec<CreatedIssue>,
    /// Issues reopened and closed (debt paid down), as GitHub accepted them.
    pub reopened: usize,
    /// Issues closed because their debt left the code.
    pub closed: usize,
    /// Effects GitHub refused; the rest of the plan still ran.
    pub failures: Vec<EffectFailure>,
}

/// A debt item's new issue.
#[derive(Debug, Serialize)]
pub struct CreatedIssue {
    /// The debt item's stable id.
    pub id: String,
    /// The new issue's number.
    pub number: u64,
}

/// One effect GitHub refused, with its reason.
#[derive(Debug, Serialize)]
pub struct EffectFailure {
    /// The effect, described for the run's report.
    pub effect: String,
    /// GitHub's answer.
    pub error: String,
    /// GitHub may well accept it later (rate limit, timeout, 5xx): the run
    /// is worth repeating, unlike a refusal such as a 422.
    pub transient: bool,
    /// The permission GitHub said the token lacks
    /// (`X-Accepted-GitHub-Permissions`, e.g. `issues=write`).
    pub missing_permission: Option<String>,
}

impl ApplyReport {
    /// Whether some effect failed for a reason that may pass: the caller
    /// retries the run (every effect is safe to repeat) instead of leaving
    /// the rest of the work to the next push.
    pub fn has_transient_failure(&self) -> bool {
        self.failures.iter().any(|f| f.transient)
    }
}

/// Applies `plan`; `existing` are the issues it was planned against (their
/// bodies are needed to mark the bot's own closes).
pub async fn apply(
    client: &Client,
    repo: &Repo,
    plan: &Plan,
    existing: &[ExistingIssue],
) -> ApplyReport {
    let mut report = ApplyReport::default();
    for effect in &plan.effects {
        match apply_one(client, repo, effect, existing).await {
            Ok(created) => {
                report.applied += 1;
                match effect {
                    Effect::Reopen { .. } => report.reopened += 1,
                    Effect::Close { .. } => report.closed += 1,
                    _ => {}
                }
                if let (Some(number), Effect::Create { id, .. }) = (created, effect) {
                    report.created.push(CreatedIssue {
                        id: id.clone(),
                        number,
                    });
                }
            }
            Err(error) => {
                tracing::warn!(repo = %repo, effect = describe(effect), %error, "effect failed");
                report.failures.push(EffectFailure {
                    effect: describe(effect),
                    error: error.to_string(),
                    transient: error.is_transient(),
                    missing_permission: match &error {
                        GitHubError::MissingPermission { accepted, .. } => Some(accepted.clone()),
                        _ => None,
                    },
                });
            }
        }
    }
    report
}

fn describe(effect: &Effect) -> String {
    match effect {
        Effect::Create { id, .. } => format!("create issue for {id}"),
        Effect::Update { number, .. } => format!("update #{number}"),
        Effect::Close { number, .. } => format!("close #{number}"),
        Effect::Reopen { number, .. } => format!("reopen #{number}"),
        Effect::MarkWontfix { number, .. } => format!("mark #{number} wontfix"),
        Effect::CloseDuplicate { number, of, .. } => {
            format!("close #{number} as duplicate of #{of}")
        }
    }
}

async fn apply_one(
    client: &Client,
    repo: &Repo,
    effect: &Effect,
    existing: &[ExistingIssue],
) -> Result<Option<u64>, GitHubError> {
    match effect {
        Effect::Create {
            id,
            title,
            body,
            labels,
            assignees,
            comment,
        } => {
            let mut request = json!({"title": title, "body": body, "labels": labels});
            if !assignees.is_empty() {
                request["assignees"] = json!(assignees);
            }
            let marker = paydown_markers::item::item_line(id);
            let number = match create_issue(client, repo, &request, &marker).await {
                // An owner who can't be assigned (not a collaborator, a
                // typo) must not cost the item its issue.
                Err(e) if e.status() == Some(422) && !assignees.is_empty() => {
                    request.as_object_mut().map(|o| o.remove("assignees"));
                    create_issue(client, repo, &request, &marker).await?
                }
                other => other?,
            };
            if let Some(comment) = comment {
                comment_on(client, repo, number, comment).await?;
            }
            Ok(Some(number))
        }
        Effect::Update {
            number,
            title,
            body,
            add_labels,
            remove_labels,
            add_assignees,
            comment,
            ..
        } => {
            let edit = IssueEdit {
                title: title.clone(),
                body: body.clone(),
                ..IssueEdit::default()
            };
            client.edit_issue(repo, *number, &edit).await?;
            client.add_labels(repo, *number, add_labels).await?;
            for label in remove_labels {
                // Already gone: the desired state holds.
                client.remove_label(repo, *number, label).await?;
            }
            client.add_assignees(repo, *number, add_assignees).await?;
            // After the labels: a failed comment is not retried by the next
            // run (the label says the episode is known), so it is at most once.
            if let Some(comment) = comment {
                // A 5xx is "maybe applied": create_comment looks before it
                // posts again, so a spike never gets two comments.
                comment_on(client, repo, *number, comment).await?;
            }
            Ok(None)
        }
        Effect::Close {
            number, comment, ..
        } => {
            comment_on(client, repo, *number, comment).await?;
            let body = body_of(existing, *number).unwrap_or_default();
            let body = closed_by_bot::mark(&body);
            let edit = IssueEdit {
                state: Some("closed"),
                state_reason: Some("completed"),
                body: Some(body),
                ..IssueEdit::default()
            };
            client.edit_issue(repo, *number, &edit).await?;
            Ok(None)
        }
        Effect::Reopen {
            number, comment, ..
        } => {
            comment_on(client, repo, *number, comment).await?;
            let body = body_of(existing, *number).map(|body| closed_by_bot::unmark(&body));
            let edit = IssueEdit {
                state: Some("open"),
                body,
                ..IssueEdit::default()
            };
            client.edit_issue(repo, *number, &edit).await?;
            Ok(None)
        }
        Effect::MarkWontfix { number, .. } => {
            let wontfix = [paydown_reconcile::render::LABEL_WONTFIX.to_string()];
            client.add_labels(repo, *number, &wontfix).await?;
            Ok(None)
        }
        Effect::CloseDuplicate { number, of, .. } => {
            comment_on(
                client,
                repo,
                *number,
                &format!("Duplicate of #{of}: both issues tracked the same debt item; paydown keeps #{of}."),
            )
            .await?;
            let edit = IssueEdit {
                state: Some("closed"),
                state_reason: Some("not_planned"),
                ..IssueEdit::default()
            };
            client.edit_issue(repo, *number, &edit).await?;
            Ok(None)
        }
    }
}

/// The body of an issue as it was fetched for this plan.
fn body_of(existing: &[ExistingIssue], number: u64) -> Option<String> {
    existing
        .iter()
        .find(|i| i.number == number)
        .map(|i| i.body.clone())
}

/// `POST /repos/{o}/{r}/issues`; the new issue's number. `marker` is the
/// hidden line of the body that finds the issue again when GitHub's answer
/// is lost (see [`Client::create_issue`]).
pub(crate) async fn create_issue(
    client: &Client,
    repo: &Repo,
    request: &Value,
    marker: &str,
) -> Result<u64, GitHubError> {
    Ok(create_issue_node(client, repo, request, marker)
        .await?
        .number)
}

#[derive(serde::Deserialize)]
pub(crate) struct CreatedNode {
    pub number: u64,
    /// The GraphQL id, for mutations REST lacks (pinning).
    #[serde(default)]
    pub node_id: Option<String>,
}

/// `POST /repos/{o}/{r}/issues`; the new issue's number and node id.
pub(crate) async fn create_issue_node(
    client: &Client,
    repo: &Repo,
    request: &Value,
    marker: &str,
) -> Result<CreatedNode, GitHubError> {
    client
        .create_issue(repo, request, marker, Some(crate::TRACKING_LABEL))
        .await
}

async fn comment_on(
    client: &Client,
    repo: &Repo,
    number: u64,
    body: &str,
) -> Result<(), GitHubError> {
    // A job killed between this comment and the write after it (closing
    // the issue) is run again and plans the same comment: the bot's last
    // comment on the issue being exactly it means it is already there.
    let comments: Vec<Comment> = client.get_all(&repo.issue_comments(number)).await?;
    let identity = client.identity().await?;
    let last_own = comments.iter().rev().find(|c| c.may_be_by(&identity));
    if last_own.and_then(|c| c.body.as_deref()).map(str::trim_end) == Some(body.trim_end()) {
        return Ok(());
    }
    let _: Value = client.create_comment(repo, number, body).await?;
    Ok(())
}
