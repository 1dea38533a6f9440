//! `issue_comment`: slash commands (`/debt …`) in pull request and issue
//! comments. The payload becomes a neutral `paydown_commands::CommentEvent`
//! and runs through `paydown_app::on_comment`, the same path the Action
//! takes; the config is read from the default branch (the last valid
//! one while the file there is invalid).

use paydown_commands::{CommentAction, CommentEvent, RunOptions};

use super::{GitHubHandler, HandlerError};
use crate::events::IssueCommentEvent;

impl GitHubHandler {
    pub(super) async fn issue_comment(
        &self,
        ev: &IssueCommentEvent,
        delivery_id: &str,
    ) -> Result<(), HandlerError> {
        let event = CommentEvent::from_event(ev)?;
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
            self.app_slug().await?
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
        let client = self
            .app
            .installation_client_for(installation, &super::token_scopes::commands(&event.repo))
            .await?;
        let in_force = self.commands_config(&client, &event, ev).await?;
        let options = RunOptions {
            app_slug,
            html_base: paydown_sync::html_base_for(client.api_base()),
        };
        let note = config_note(&in_force);
        let outcome =
            paydown_app::on_comment(&client, &in_force.config, &event, &options, note.as_deref())
                .await?;
        if outcome.refresh_dashboard {
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
        if !outcome.incident_links.is_empty() {
            self.record_incident_links(
                &ev.repository.full_name,
                event.number,
                &outcome.incident_links,
                delivery_id,
            )
            .await?;
        }
        let outcome = outcome.run;
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
    /// process. While GitHub cannot say, the delivery fails (transient) and
    /// is retried: a `@slug` command is neither dropped nor answered as if
    /// it were someone else's mention.
    async fn app_slug(&self) -> Result<String, HandlerError> {
        // Cached by the App client, which also uses it to tell its own
        // comments from other bots'.
        Ok(self.app.try_slug().await?)
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
