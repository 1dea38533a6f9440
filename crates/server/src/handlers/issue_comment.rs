//! `issue_comment`: slash commands (`/debt …`) in pull request and issue
//! comments. The payload becomes a neutral `paydown_commands::CommentEvent`
//! and runs through `paydown_commands::run_comment`, the same path the
//! Action takes; the config is read from the default branch (the last valid
//! one while the file there is invalid).

use paydown_commands::{CommentAction, CommentEvent, PermissionCache, RunOptions};
use paydown_github::Repo;

use super::{GitHubHandler, HandlerError};
use crate::events::IssueCommentEvent;

/// The payload in the commands crate's terms (what
/// `CommentEvent::from_payload` reads from the raw JSON; a test checks both agree).
pub(crate) fn comment_event(ev: &IssueCommentEvent) -> Result<CommentEvent, HandlerError> {
    // The sender acted: on an edit it may not be the comment's author, and
    // the commands the edit added are the editor's to answer for.
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
            .is_some_and(|u| paydown_commands::is_bot(&u.login, u.kind.as_deref())),
    })
}

/// The debt issues `/debt link` commands of this comment linked to (read
/// from the hidden link markers of their results).
fn linked_debt_issues(outcome: &paydown_commands::RunOutcome) -> Vec<u64> {
    outcome
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            paydown_commands::Outcome::Done { markers, .. } => Some(markers),
            _ => None,
        })
        .flatten()
        .flat_map(|m| paydown_incidents::extract_references(m))
        .filter_map(|r| match r {
            paydown_incidents::Reference::Issue {
                repository: None,
                number,
            } => Some(number),
            _ => None,
        })
        .collect()
}

impl GitHubHandler {
    pub(super) async fn issue_comment(
        &self,
        ev: &IssueCommentEvent,
        delivery_id: &str,
    ) -> Result<(), HandlerError> {
        let event = comment_event(ev)?;
        // Cheap checks first: most comments hold no command and cost no API call.
        if event.action == CommentAction::Other
            || (event.action == CommentAction::Edited && event.previous_body.is_none())
            || event.by_bot()
            || event.author.is_empty()
        {
            return Ok(());
        }
        // Most comments hold no command and cost no API call; the App's slug
        // (asked once per process) is needed only for a line starting `@`.
        let mentions = event
            .body
            .lines()
            .any(|line| line.trim_start().starts_with('@'));
        let app_slug = if mentions {
            self.app_slug().await
        } else {
            String::new()
        };
        if !paydown_commands::could_hold_command(&event.body, &app_slug) {
            return Ok(());
        }
        let Some(installation) = ev.installation.as_ref().map(|i| i.id) else {
            tracing::warn!(delivery = %delivery_id, repo = %ev.repository.full_name, "issue_comment without an installation; ignored");
            return Ok(());
        };
        let client = self.app.installation_client(installation).await?;
        let in_force = self.commands_config(&client, &event, ev).await?;
        let options = RunOptions {
            app_slug,
            html_base: paydown_sync::html_base_for(client.api_base()),
        };
        let note = config_note(&in_force);
        let outcome = paydown_commands::run_comment_with_note(
            &client,
            &in_force.config,
            PermissionCache::shared(),
            &event,
            &options,
            note.as_deref(),
        )
        .await
        .map_err(|e| match e {
            paydown_commands::RunError::GitHub(e) => HandlerError::GitHub(e),
        })?;
        if outcome.recorded_budget() {
            // The dashboard's sprint table and accepted drifts changed; a
            // sync job rewrites it (keyed by the comment's revision, so a
            // redelivery queues nothing more).
            let reason = format!(
                "budget-record:{}:{}",
                event.comment_id,
                event.updated_at.as_deref().unwrap_or_default()
            );
            self.queue_sync(&ev.repository.full_name, installation, &reason)
                .await?;
        }
        // `/debt link #N` on an incident issue links it (incidents, in issues.rs).
        let linked = linked_debt_issues(&outcome);
        if !linked.is_empty() && !event.is_pull_request {
            self.record_incident_links(
                &ev.repository.full_name,
                event.number,
                &linked,
                delivery_id,
            )
            .await?;
        }
        tracing::info!(
            delivery = %delivery_id,
            repo = %ev.repository.full_name,
            number = event.number,
            skipped = ?outcome.skipped,
            commands = outcome.results.len(),
            reply = ?outcome.reply_id,
            "issue_comment handled"
        );
        Ok(())
    }

    /// The config on the default branch: the file's when it is valid, the
    /// last valid one when it is not (the defaults if none was ever seen),
    /// with its errors for the reply to name.
    async fn commands_config(
        &self,
        client: &paydown_github::Client,
        event: &CommentEvent,
        ev: &IssueCommentEvent,
    ) -> Result<paydown_sync::ConfigInForce, HandlerError> {
        let branch = match &ev.repository.default_branch {
            Some(branch) => branch.clone(),
            None => {
                paydown_sync::fetch::default_branch_head(client, &event.repo)
                    .await?
                    .branch
            }
        };
        self.config_at_or_last_valid(client, &event.repo, &ev.repository.full_name, &branch)
            .await
    }

    /// The App's slug for the `@slug verb` form, asked of GitHub once per
    /// process; empty (mentions off) while GitHub cannot say.
    async fn app_slug(&self) -> String {
        // Cached by the App client, which also uses it to tell its own
        // comments from other bots'.
        self.app.slug().await.unwrap_or_else(|| {
            tracing::warn!("cannot read the App's slug; @mention commands are off until it can");
            String::new()
        })
    }
}

/// The reply's warning about an invalid config file, naming what the
/// commands ran with instead.
fn config_note(in_force: &paydown_sync::ConfigInForce) -> Option<String> {
    let first = in_force.errors.first()?;
    let instead = if in_force.text.is_some() {
        "the last valid configuration"
    } else {
        "the default settings (no valid configuration was seen before)"
    };
    Some(format!(
        "⚠️ `{}` on the default branch is invalid, so these commands ran with {instead}. First error: {}",
        paydown_config::DEFAULT_PATH,
        first.trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, parse_event};

    #[test]
    fn given_githubs_own_payloads_then_the_app_and_the_action_read_the_same_event() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("api.issue_comment.") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let Event::IssueComment(ev) = parse_event("issue_comment", &bytes).unwrap() else {
                panic!("{name} is not an issue_comment");
            };
            let app = comment_event(&ev).unwrap();
            let action = CommentEvent::from_payload(&bytes).unwrap();
            assert_eq!(app, action, "{name}");
            if name.contains(".edited.") {
                assert!(app.previous_body.is_some(), "{name}");
                assert_eq!(app.action, CommentAction::Edited);
            }
            seen += 1;
        }
        assert!(seen >= 9, "only {seen} fixtures");
    }
}
