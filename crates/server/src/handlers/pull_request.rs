//! `pull_request`: the debt a pull request adds and removes (sticky comment
//! and check run), the sprint budget it draws on (drift comment and check
//! run), and, once merged, the sync of the default branch it changed.
//!
//! The sprint ledger's inputs are cached in the store per repository, one
//! `pr:<number>` entry (a JSON `PrRecord`) per pull request, seeded from the
//! API (`paydown_budgets::fetch_records`) the first time a repository is
//! seen (`budgets:seeded`) and updated from each event's payload. The cache
//! only saves API reads: everything in it can be rebuilt from GitHub, which
//! is what `paydown report` does. It stays bounded: a PR closed without
//! merging is dropped, and each sync drops PRs merged before the dashboard's
//! sprints. Open PRs whose drift check is not green
//! are remembered under `budgets:drifting:<number>` (their head sha), so a
//! later merge that clears their drift (debt work merged meanwhile) turns
//! them green without waiting for an event on them.

use chrono::Utc;
use paydown_budgets::{BudgetError, DriftOutcome};
use paydown_config::Config;
use paydown_github::{Client, Repo};
use paydown_ledger::{CheckConclusion, DASHBOARD_SPRINTS, PrRecord};
use paydown_sync::DashboardSections;
use paydown_sync::fetch::Head;

use super::{GitHubHandler, HandlerError};
use crate::events::{PullRequest, PullRequestAction, PullRequestEvent};
use crate::store::{RepoStateKey, RepoStatePrefix};

const RESEED_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(24);

fn budget_error(e: BudgetError) -> HandlerError {
    match e {
        BudgetError::GitHub(e) => HandlerError::GitHub(e),
        other => HandlerError::Other(other.to_string()),
    }
}

fn json_error(e: serde_json::Error) -> HandlerError {
    HandlerError::Other(format!("budget cache: {e}"))
}

/// The ledger record an event's payload describes; what slash commands and
/// reviews decided (overrides, acceptance, debt paid) comes from `cached`
/// and is refreshed from the PR's comments by the drift check.
fn record_from_payload(pr: &PullRequest, cached: Option<&PrRecord>) -> PrRecord {
    let base = cached.cloned().unwrap_or_default();
    PrRecord {
        number: pr.number,
        title: pr.title.clone(),
        merged_at: pr.merged_at,
        labels: pr.labels.iter().map(|l| l.name.clone()).collect(),
        additions: pr.additions.unwrap_or(base.additions),
        deletions: pr.deletions.unwrap_or(base.deletions),
        ..base
    }
}

impl GitHubHandler {
    pub(super) async fn pull_request(
        &self,
        ev: &PullRequestEvent,
        delivery_id: &str,
    ) -> Result<(), HandlerError> {
        let action = &ev.action;
        if !action.updates_ledger() {
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
        let records = self
            .budget_records(&client, &repo, full_name, &config)
            .await?;
        let cached = records.iter().find(|r| r.number == pr.number);
        let mut record = record_from_payload(pr, cached);
        if pr.merged == Some(true) && record.merged_at.is_none() {
            // Payloads from old GHES versions say `merged` without `merged_at`.
            let fetched = paydown_budgets::fetch_pr_record(&client, &repo, pr.number)
                .await
                .map_err(budget_error)?;
            record.merged_at = fetched.merged_at;
        }
        if action.is_reviewed() {
            // The debt this PR adds and pays (its own comment and check);
            // what it pays also counts as debt work in the budget.
            // A review GitHub refuses for good (a 422 on annotations, a 403
            // on the comment, a bad glob) must not cost the PR its budget
            // check: only a transient failure fails the delivery for a retry.
            // Without a review, the cache's `debt_items_paid` stands.
            if let Some(review) = self.review(&client, &repo, pr, &config).await? {
                record.debt_items_paid = review.delta.paid();
            }
        }
        let merged = record.merged_at.is_some();
        if *action == PullRequestAction::Closed && !merged {
            // Closed without merging: abandoned work draws on no budget and
            // lists no accepted drift (as `fetch_records` sees it). Reopening
            // brings it back from the payload and its comments.
            self.store
                .repo_state_delete(full_name, &RepoStateKey::PrRecord(pr.number))
                .await?;
            self.forget_drifting(full_name, pr.number).await?;
            return Ok(());
        }
        let others: Vec<PrRecord> = records
            .into_iter()
            .filter(|r| r.number != pr.number)
            .collect();
        let outcome = self
            .drift_and_cache(
                &client,
                &repo,
                full_name,
                &config,
                &others,
                &record,
                &pr.head.sha,
            )
            .await?;
        tracing::info!(
            repo = %full_name,
            pr = pr.number,
            action = action.as_str(),
            drifting = outcome.verdict.as_ref().is_some_and(|v| v.drifting),
            comment = ?outcome.comment,
            check = ?outcome.check,
            "budget checked"
        );
        if *action == PullRequestAction::Closed {
            self.recheck_drifting(&client, &repo, full_name, &config)
                .await?;
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

    /// The PR debt review (`paydown_review`): sticky comment and
    /// `paydown / debt` check run. `None` when it failed for a reason a
    /// retry would not cure (logged); a transient failure is an error.
    async fn review(
        &self,
        client: &Client,
        repo: &Repo,
        pr: &PullRequest,
        config: &Config,
    ) -> Result<Option<paydown_review::ReviewOutcome>, HandlerError> {
        let context = paydown_review::PullContext {
            number: pr.number,
            head_sha: pr.head.sha.clone(),
            base_sha: pr.base.sha.clone(),
        };
        let options = paydown_review::ReviewOptions {
            dry_run: false,
            html_base: paydown_sync::html_base_for(client.api_base()),
        };
        let outcome = match paydown_review::review_pull_request(
            client, repo, &context, config, &options,
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(paydown_review::ReviewError::GitHub(e)) if e.is_transient() => {
                return Err(HandlerError::GitHub(e));
            }
            Err(e) => {
                tracing::warn!(repo = %repo, pr = pr.number, error = %e, "review failed; the budget check runs without it");
                return Ok(None);
            }
        };
        for warning in &outcome.warnings {
            tracing::warn!(repo = %repo, pr = pr.number, %warning, "review");
        }
        Ok(Some(outcome))
    }

    /// Runs the drift check for `record` and keeps the cache (the record as
    /// refreshed from its comments, and whether it is left drifting).
    #[allow(clippy::too_many_arguments)]
    async fn drift_and_cache(
        &self,
        client: &Client,
        repo: &Repo,
        full_name: &str,
        config: &Config,
        others: &[PrRecord],
        record: &PrRecord,
        head_sha: &str,
    ) -> Result<DriftOutcome, HandlerError> {
        let mut all = others.to_vec();
        all.push(record.clone());
        let outcome =
            paydown_budgets::check_drift(client, repo, config, &all, record, head_sha, false)
                .await
                .map_err(budget_error)?;
        self.cache_pr_record(full_name, &outcome.pr).await?;
        let open = outcome.pr.merged_at.is_none();
        let red = matches!(
            outcome.conclusion,
            Some(CheckConclusion::Neutral | CheckConclusion::Failure)
        ) || outcome
            .verdict
            .as_ref()
            .is_some_and(|v| v.drifting && v.accepted.is_none());
        if open && red {
            self.store
                .repo_state_put(full_name, &RepoStateKey::Drifting(record.number), head_sha)
                .await?;
        } else {
            self.forget_drifting(full_name, record.number).await?;
        }
        Ok(outcome)
    }

    async fn forget_drifting(&self, full_name: &str, number: u64) -> Result<(), HandlerError> {
        self.store
            .repo_state_delete(full_name, &RepoStateKey::Drifting(number))
            .await?;
        Ok(())
    }

    /// After a merge, re-checks the open PRs left drifting: debt work merged
    /// meanwhile may have cleared them.
    async fn recheck_drifting(
        &self,
        client: &Client,
        repo: &Repo,
        full_name: &str,
        config: &Config,
    ) -> Result<(), HandlerError> {
        let drifting = self
            .store
            .repo_state_list(full_name, RepoStatePrefix::Drifting)
            .await?;
        if drifting.is_empty() {
            return Ok(());
        }
        let records = self.cached_records(full_name).await?;
        for (number, head_sha) in drifting {
            let Some(record) = records.iter().find(|r| r.number == number).cloned() else {
                self.forget_drifting(full_name, number).await?;
                continue;
            };
            let others: Vec<PrRecord> = records
                .iter()
                .filter(|r| r.number != number)
                .cloned()
                .collect();
            self.drift_and_cache(client, repo, full_name, config, &others, &record, &head_sha)
                .await?;
        }
        Ok(())
    }

    /// Stores (replaces) one PR's ledger record in the cache.
    pub(super) async fn cache_pr_record(
        &self,
        full_name: &str,
        record: &PrRecord,
    ) -> Result<(), HandlerError> {
        let value = serde_json::to_string(record).map_err(json_error)?;
        self.store
            .repo_state_put(full_name, &RepoStateKey::PrRecord(record.number), &value)
            .await?;
        Ok(())
    }

    /// Every cached PR record of `full_name` (without seeding).
    async fn cached_records(&self, full_name: &str) -> Result<Vec<PrRecord>, HandlerError> {
        self.store
            .repo_state_list(full_name, RepoStatePrefix::PrRecords)
            .await?
            .into_iter()
            .map(|(_, value)| serde_json::from_str(&value).map_err(json_error))
            .collect()
    }

    /// The cached PR records of `full_name`, seeded from the API (the
    /// dashboard's sprints) the first time the repository is seen, then
    /// brought up to date with what the bot's comments recorded since the
    /// last look (slash-command overrides, accepted drifts, debt paid): one
    /// repo-wide comment listing, so whoever posts a record — the commands
    /// handler, the Action, a person re-running a command — the cache follows.
    pub(super) async fn budget_records(
        &self,
        client: &Client,
        repo: &Repo,
        full_name: &str,
        config: &Config,
    ) -> Result<Vec<PrRecord>, HandlerError> {
        let seeded = self
            .store
            .repo_state_get(full_name, &RepoStateKey::BudgetsSeeded)
            .await?;
        let since = match seeded.as_deref().map(chrono::DateTime::parse_from_rfc3339) {
            Some(Ok(at)) => {
                self.reseed_when_due(client, repo, full_name, config)
                    .await?;
                at.with_timezone(&Utc)
            }
            _ => {
                let now = Utc::now();
                self.seed_from_api(client, repo, full_name, config, now)
                    .await?;
                self.store
                    .repo_state_put(full_name, &RepoStateKey::BudgetsSeeded, &now.to_rfc3339())
                    .await?;
                now
            }
        };
        let facts = paydown_budgets::fetch_comment_facts(client, repo, since)
            .await
            .map_err(budget_error)?;
        let mut records = self.cached_records(full_name).await?;
        let touched = facts.numbers();
        for record in records.iter_mut().filter(|r| touched.contains(&r.number)) {
            let before = record.clone();
            facts.apply(record);
            if *record != before {
                self.cache_pr_record(full_name, record).await?;
            }
        }
        // A PR the cache has not seen (no event since the seeding) that a
        // command recorded something for — typically an open PR whose drift
        // was accepted: the dashboard lists it, so it joins the cache.
        let unseen: Vec<u64> = facts
            .record_numbers()
            .filter(|n| !records.iter().any(|r| r.number == *n))
            .collect();
        for number in unseen {
            let mut record = paydown_budgets::fetch_pr_record(client, repo, number)
                .await
                .map_err(budget_error)?;
            facts.apply(&mut record);
            self.cache_pr_record(full_name, &record).await?;
            records.push(record);
        }
        if let Some(latest) = facts.latest_update.filter(|t| *t > since) {
            // `since` is inclusive, so the newest comment is read once more
            // next time; applying a record twice changes nothing.
            self.store
                .repo_state_put(
                    full_name,
                    &RepoStateKey::BudgetsSeeded,
                    &latest.to_rfc3339(),
                )
                .await?;
        }
        Ok(records)
    }

    /// Adds to the cache what the API knows and the cache does not: PRs it
    /// never saw, and merges whose `closed` event it missed (a delivery
    /// dead-lettered, the App uninstalled for a while). Events seen since
    /// are newer than the API's view of an open PR, so those are kept.
    async fn seed_from_api(
        &self,
        client: &Client,
        repo: &Repo,
        full_name: &str,
        config: &Config,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let sprints = u32::try_from(DASHBOARD_SPRINTS).unwrap_or(u32::MAX);
        let fetched = paydown_budgets::fetch_records(client, repo, config, sprints, now)
            .await
            .map_err(budget_error)?;
        let existing = self.cached_records(full_name).await?;
        for record in fetched {
            let cached = existing.iter().find(|e| e.number == record.number);
            let missed_merge =
                cached.is_some_and(|c| c.merged_at.is_none()) && record.merged_at.is_some();
            if cached.is_none() || missed_merge {
                self.cache_pr_record(full_name, &record).await?;
            }
        }
        self.store
            .repo_state_put(full_name, &RepoStateKey::BudgetsReseeded, &now.to_rfc3339())
            .await?;
        Ok(())
    }

    /// Seeds again from the API once a day, so a missed event costs the
    /// ledger a day at most.
    async fn reseed_when_due(
        &self,
        client: &Client,
        repo: &Repo,
        full_name: &str,
        config: &Config,
    ) -> Result<(), HandlerError> {
        let now = Utc::now();
        let last = self
            .store
            .repo_state_get(full_name, &RepoStateKey::BudgetsReseeded)
            .await?;
        let due = match last.as_deref().map(chrono::DateTime::parse_from_rfc3339) {
            Some(Ok(at)) => now - at.with_timezone(&Utc) >= RESEED_EVERY,
            _ => true,
        };
        if due {
            self.seed_from_api(client, repo, full_name, config, now)
                .await?;
        }
        Ok(())
    }

    /// The dashboard's sprint-budget and accepted-drift sections for a sync
    /// of `full_name` at `head`.
    /// With `kept_config` (the config of the last synced commit) and a
    /// seeded cache, it costs no request (milestone sprints aside): events
    /// and commands keep the cache current.
    pub(super) async fn budget_sections(
        &self,
        client: &Client,
        repo: &Repo,
        full_name: &str,
        head: &Head,
        kept_config: Option<Config>,
    ) -> Result<DashboardSections, HandlerError> {
        let seeded = self
            .store
            .repo_state_get(full_name, &RepoStateKey::BudgetsSeeded)
            .await?
            .is_some();
        let (config, records) = match kept_config {
            Some(config) if seeded => (config, self.cached_records(full_name).await?),
            _ => {
                let config = self
                    .config_at_or_last_valid(client, repo, full_name, &head.sha)
                    .await?
                    .config;
                let records = self
                    .budget_records(client, repo, full_name, &config)
                    .await?;
                (config, records)
            }
        };
        let now = Utc::now();
        let calendar = paydown_budgets::fetch_calendar(client, repo, &config)
            .await
            .map_err(budget_error)?;
        // The cache only serves the dashboard's sprints and the current one:
        // PRs merged before them are dropped so it stays bounded.
        let dashboard_sprints = u32::try_from(DASHBOARD_SPRINTS).unwrap_or(u32::MAX);
        if let Some(start) = paydown_budgets::window_start(&calendar, dashboard_sprints, now) {
            for old in records
                .iter()
                .filter(|r| r.merged_at.is_some_and(|at| at < start))
            {
                self.store
                    .repo_state_delete(full_name, &RepoStateKey::PrRecord(old.number))
                    .await?;
            }
        }
        let mut ledger = paydown_ledger::Ledger::build(&config, calendar, &records)
            .map_err(|e| budget_error(e.into()))?;
        // Hot items raise the current reservation (`sprints.hot_share_boost`),
        // and the sprint chart shows the incidents per sprint (issues.rs).
        paydown_budgets::apply_hot_boost(client, repo, &config, &mut ledger, now)
            .await
            .map_err(budget_error)?;
        if let Some(incidents) = self.incidents_for_sync(full_name, &config).await? {
            ledger.set_incidents(incidents.iter().map(|i| i.started_at));
        }
        let sections = paydown_budgets::render_sections(&ledger, now);
        Ok(DashboardSections::budget(
            sections.sprint_budget,
            sections.accepted_drifts,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, parse_event};
    use paydown_ledger::{Acceptance, Overrides, WorkClass};

    fn fixture(name: &str) -> PullRequestEvent {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(path).unwrap();
        match parse_event("pull_request", &body).unwrap() {
            Event::PullRequest(ev) => *ev,
            other => panic!("not a pull_request: {other:?}"),
        }
    }

    #[test]
    fn a_real_labeled_payload_gives_labels_and_size_and_keeps_what_commands_decided() {
        // Given GitHub's own `labeled` payload and a cached record with an
        // override and an acceptance,
        let ev = fixture("api.pull_request.labeled.4.json");
        let cached = PrRecord {
            number: ev.pull_request.number,
            title: "old title".into(),
            labels: vec!["stale".into()],
            debt_items_paid: 2,
            overrides: Overrides {
                class: Some(WorkClass::Debt),
                points: Some(3),
            },
            accepted_drift: Some(Acceptance {
                by: "lead".into(),
                reason: "launch".into(),
                at: chrono::DateTime::UNIX_EPOCH,
            }),
            ..PrRecord::default()
        };

        let record = record_from_payload(&ev.pull_request, Some(&cached));

        // then labels, title and size come from the payload,
        assert_eq!(record.labels, ["bug"]);
        assert_eq!(record.title, ev.pull_request.title);
        assert_eq!((record.additions, record.deletions), (1, 1));
        assert_eq!(record.merged_at, None);
        assert_eq!(ev.label.as_ref().map(|l| l.name.as_str()), Some("bug"));
        assert_eq!(
            ev.pull_request.milestone.as_ref().map(|m| m.number),
            Some(1)
        );
        // and the decisions from the cache are kept.
        assert_eq!(record.overrides, cached.overrides);
        assert_eq!(record.accepted_drift, cached.accepted_drift);
        assert_eq!(record.debt_items_paid, 2);
    }

    #[test]
    fn a_closed_unmerged_payload_is_not_merged_work() {
        let ev = fixture("api.pull_request.closed.2.json");
        assert_eq!(ev.pull_request.merged, Some(false));
        let record = record_from_payload(&ev.pull_request, None);
        assert_eq!(record.merged_at, None);
        assert_eq!(record.overrides, Overrides::default());
    }
}
