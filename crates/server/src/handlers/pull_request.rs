//! `pull_request`: the App's adapter for `paydown_app::on_pull_request`
//! (review, ledger record, drift check), with the sprint ledger's records
//! in the store's cache (`paydown_app::CachedRecords`), and, once merged,
//! the sync of the default branch the pull request changed.

use paydown_app::{CachedRecords, PullRequestInput, PullRequestOutcome};
use paydown_github::Repo;
use paydown_review::Reviewed;

use super::{GitHubHandler, HandlerError};
use crate::events::PullRequestEvent;

impl GitHubHandler {
    pub(super) async fn pull_request(
        &self,
        ev: &PullRequestEvent,
        delivery_id: &str,
    ) -> Result<(), HandlerError> {
        let action = &ev.action;
        if !action.updates_ledger() {
            // Decided before asking for a token: most actions change nothing.
            tracing::debug!(delivery = %delivery_id, action = action.as_str(), "pull_request action not acted on");
            return Ok(());
        }
        let Some(installation) = ev.installation.as_ref().map(|i| i.id) else {
            tracing::warn!(repo = %ev.repository.full_name, "pull_request without an installation; ignored");
            return Ok(());
        };
        let full_name = ev.repository.full_name.as_str();
        let repo = Repo::parse(full_name)?;
        let client = self
            .app
            .installation_client_for(installation, &super::token_scopes::pull_request(&repo))
            .await?;
        let pr = &ev.pull_request;
        // The budget rules of the branch the PR merges into (the last valid
        // ones while its config file is invalid; the review reports a PR
        // that breaks the file).
        let config = self
            .config_at_or_last_valid(&client, &repo, full_name, &pr.base.sha)
            .await?
            .config;
        let html_base = paydown_sync::html_base_for(client.api_base());
        let input = PullRequestInput {
            action: action.clone(),
            pr,
            dry_run: false,
            html_base: &html_base,
        };
        let records = CachedRecords::new(&self.store, full_name);
        let outcome =
            paydown_app::on_pull_request(&client, &repo, &config, input, &records).await?;
        let PullRequestOutcome::Checked {
            review,
            drift,
            merged,
        } = outcome
        else {
            return Ok(());
        };
        match &review {
            Some(Reviewed::Done(review)) => {
                for warning in &review.warnings {
                    tracing::warn!(repo = %repo, pr = pr.number, %warning, "review");
                }
            }
            Some(Reviewed::Refused(error)) => {
                tracing::warn!(repo = %repo, pr = pr.number, %error, "review failed; the budget check runs without it");
            }
            None => {}
        }
        tracing::info!(
            repo = %full_name,
            pr = pr.number,
            action = action.as_str(),
            drifting = drift.verdict.as_ref().is_some_and(|v| v.drifting),
            comment = ?drift.comment,
            check = ?drift.check,
            "budget checked"
        );
        if merged {
            // A squash merge also arrives as a push; sync is idempotent, so
            // whichever comes second finds nothing to do. Only a PR merged
            // into the default branch paid down what the sync may close;
            // after any other merge the sync asks GitHub which PR the
            // default branch's head came from, if anything closes.
            let into_default =
                ev.repository.default_branch.as_deref() == Some(pr.base.git_ref.as_str());
            let credited = into_default.then_some(pr.number);
            self.sync(full_name, installation, None, credited).await?;
        }
        Ok(())
    }
}
