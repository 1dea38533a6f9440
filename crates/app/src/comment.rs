//! The comment flow: slash commands (`/debt …`) in issue and pull request
//! comments, and what they ask of the other flows.

use paydown_commands::{CommentEvent, PermissionCache, RunOptions, RunOutcome};
use paydown_config::Config;
use paydown_github::Client;
use paydown_incidents::Reference;

use crate::AppError;

/// What the commands of one comment did, and what follows from them.
#[derive(Debug)]
pub struct CommentOutcome {
    /// Each command's result and the reply.
    pub run: RunOutcome,
    /// A command put a budget record on file (an override, an accepted
    /// drift): the dashboard's sprint table changed, so the surface syncs
    /// the repository (the App queues the sync, the Action runs it).
    pub refresh_dashboard: bool,
    /// The debt issues `/debt link` linked this issue to (none on a pull
    /// request): on an incident issue they now count its incidents.
    pub incident_links: Vec<u64>,
}

/// Runs the comment's commands under `config` (with `note` atop any reply:
/// say, that the config file is invalid and what the commands ran with).
pub async fn on_comment(
    client: &Client,
    config: &Config,
    event: &CommentEvent,
    options: &RunOptions,
    note: Option<&str>,
) -> Result<CommentOutcome, AppError> {
    let run = paydown_commands::run_comment_with_note(
        client,
        config,
        PermissionCache::shared(),
        event,
        options,
        note,
    )
    .await?;
    let incident_links = if event.is_pull_request {
        Vec::new()
    } else {
        linked_debt_issues(&run)
    };
    Ok(CommentOutcome {
        refresh_dashboard: run.recorded_budget(),
        incident_links,
        run,
    })
}

/// The debt issues `/debt link` commands linked to (read from the hidden
/// link markers of their results).
fn linked_debt_issues(outcome: &RunOutcome) -> Vec<u64> {
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
            Reference::Issue {
                repository: None,
                number,
            } => Some(number),
            _ => None,
        })
        .collect()
}
