//! `push` to the default branch, and paydown's own `paydown.sync` jobs: the
//! App's adapter for `paydown_app::sync_with_dashboard` (budget sections,
//! then the reconcile of the debt issues), keeping the sync state and the
//! last valid config in the store and queueing a follow-up run while a
//! paced import has creates left.
//!
//! The store keeps each repository's [`paydown_sync::SyncState`] (the synced commit, the
//! config in force at it, the issue index) as rows, so a push starting at
//! the synced commit is reconciled from its changed files alone
//! (`paydown_sync::sync_push`) and writes back only the rows it changed;
//! any other run is a full sync that writes a fresh state. Next to it, the last valid config's text
//! ([`RepoStateKey::LastValidConfig`]): a sync that finds the file invalid keeps
//! going by it. The state is written only after a run finished, so a
//! worker killed half-way leaves the old state, and the retried delivery
//! plans again from it plus a listing of the issues updated since — which
//! includes the issues the killed run had already created.

use paydown_app::{CachedRecords, DashboardInput, Freshness};
use paydown_github::Repo;
use paydown_sync::fetch::Head;
use paydown_sync::{DashboardSections, SyncOptions};

use super::{GitHubHandler, HandlerError};
use crate::events::PushEvent;
use crate::store::RepoStateKey;

/// What a push tells the sync beyond its head.
struct PushFrom<'a> {
    /// The commit the push started from.
    before: &'a str,
    /// Whether it changed `.github/paydown.yml`.
    config_changed: bool,
}

impl GitHubHandler {
    /// A push: only the default branch changes debt issues; other branches
    /// and deleted refs are left to pull-request reports.
    pub(super) async fn push(&self, ev: &PushEvent) -> Result<(), HandlerError> {
        let Some(installation) = ev.installation.as_ref().map(|i| i.id) else {
            tracing::warn!(repo = %ev.repository.full_name, "push without an installation; ignored");
            return Ok(());
        };
        let Some(branch) = ev.repository.default_branch.clone() else {
            // Old payload shapes lack it: a full sync asks GitHub.
            return self
                .sync(&ev.repository.full_name, installation, None, None)
                .await;
        };
        if !crate::events::push_changes_default_branch(&ev.git_ref, ev.deleted, &branch) {
            tracing::debug!(repo = %ev.repository.full_name, git_ref = %ev.git_ref, "not the default branch; no issue changes");
            return Ok(());
        }
        let head = Head {
            branch,
            sha: ev.after.clone(),
        };
        let push = PushFrom {
            before: &ev.before,
            config_changed: ev.touches(paydown_config::DEFAULT_PATH),
        };
        self.sync_from(
            &ev.repository.full_name,
            installation,
            Some(head),
            None,
            Some(push),
        )
        .await
    }

    /// Reconciles one repository's debt issues; when pacing deferred some
    /// creates, queues another run to carry on.
    pub(super) async fn sync(
        &self,
        full_name: &str,
        installation: u64,
        head: Option<Head>,
        pull_request: Option<u64>,
    ) -> Result<(), HandlerError> {
        self.sync_from(full_name, installation, head, pull_request, None)
            .await
    }

    /// [`Self::sync`] for a push: incremental when the kept state is the
    /// commit the push started from.
    async fn sync_from(
        &self,
        full_name: &str,
        installation: u64,
        head: Option<Head>,
        pull_request: Option<u64>,
        push: Option<PushFrom<'_>>,
    ) -> Result<(), HandlerError> {
        let repo = Repo::parse(full_name)?;
        let client = self
            .app
            .installation_client_for(installation, &super::token_scopes::sync(&repo))
            .await?;
        // Without a push (a sync job, a merge) the head is read once here,
        // for the budget sections and the sync alike.
        let head = match head {
            Some(head) => head,
            None => paydown_sync::fetch::default_branch_head(&client, &repo).await?,
        };
        let previous = self.store.sync_state_load(full_name).await?;
        // What the store holds, to write back only the rows that change.
        let stored = previous.clone();
        // An invalid config file never puts the defaults in force: the
        // last valid one stays. Its record is written by syncs; a state
        // kept before the record existed holds it too.
        let recorded = self.last_valid_config(full_name).await?;
        let last_valid = recorded.clone().or_else(|| {
            previous
                .as_ref()
                .and_then(|state| state.config_text.clone())
        });
        // Sprint budget and accepted drifts for the dashboard
        // (`paydown_app::budget_sections`, from the store's ledger cache). A
        // push takes the kept config and the cache as they are
        // (pull_request events keep the cache current), so it spends no
        // request on them; paydown's own sync jobs (queued after a command
        // recorded an override or accepted a drift) read the records in the
        // bot's comments first. A push that changes the config file has its
        // sections drawn with the new config (the last valid one, if the new
        // file is invalid).
        let kept_config = previous
            .as_ref()
            .filter(|_| push.as_ref().is_some_and(|p| !p.config_changed))
            .map(|state| state.config_in_force(last_valid.as_deref()).config);
        let (budget_config, freshness) = match kept_config {
            Some(config) => (config, Freshness::Kept),
            None => (
                self.config_at_or_last_valid(&client, &repo, full_name, &head.sha)
                    .await?
                    .config,
                Freshness::Current,
            ),
        };
        let dashboard_sections = DashboardSections {
            import_next_batch: self
                .next_import_batch(installation, last_valid.as_deref())
                .await?,
            ..DashboardSections::default()
        };
        let incidents = self
            .incidents_for_kept(&client, full_name, last_valid.as_deref())
            .await?;
        let options = SyncOptions {
            head: Some(head),
            pull_request,
            dashboard_sections,
            incidents,
            last_valid_config: last_valid,
            ..SyncOptions::for_api(client.api_base())
        };
        let dashboard = DashboardInput {
            config: &budget_config,
            freshness,
        };
        let records = CachedRecords::new(&self.store, full_name);
        let synced = paydown_app::sync_with_dashboard(
            &client,
            &repo,
            dashboard,
            &records,
            options,
            previous,
            push.map(|p| p.before),
        )
        .await?;
        // A valid file (or none) at the synced commit is the new last valid
        // config. Recorded before the state, so a worker killed in between
        // leaves a state whose config is no newer than the record.
        let now_valid = synced.state.config_text.clone().unwrap_or_default();
        if synced.state_changed
            && synced.outcome.config_errors.is_empty()
            && recorded.as_deref() != Some(now_valid.as_str())
        {
            self.store
                .repo_state_put(full_name, &RepoStateKey::LastValidConfig, &now_valid)
                .await?;
        }
        let outcome = synced.outcome;
        let applied = outcome.applied.as_ref();
        // What GitHub refused for now (a rate limit, a 5xx) it may accept on
        // a retry, and every effect is safe to repeat: the delivery fails so
        // the queue retries it with backoff. Left to the next push, a paced
        // import whose creates failed would queue a follow-up with the same
        // id as its own and stop. The retry builds on the previous state, as
        // after a crash (incremental when it can, the `since` listing shows
        // what this run wrote), rather than on this incomplete one, which
        // would force a full sync just while GitHub is throttling.
        let retry = applied.filter(|a| a.has_transient_failure());
        if synced.state_changed && retry.is_none() {
            self.store
                .sync_state_save(full_name, stored.as_ref(), &synced.state)
                .await?;
        }
        tracing::info!(
            repo = %full_name,
            sha = %outcome.sha,
            mode = ?synced.mode,
            annotations = outcome.annotations,
            effects = outcome.plan.effects.len(),
            failed = applied.map_or(0, |a| a.failures.len()),
            deferred = outcome.plan.deferred_creates,
            "debt issues reconciled"
        );
        for failure in applied.map(|a| a.failures.as_slice()).unwrap_or_default() {
            tracing::warn!(repo = %full_name, effect = %failure.effect, error = %failure.error, "effect failed");
        }
        if let Some(applied) = retry {
            let message = format!(
                "{full_name}: {} of {} effects failed on a transient GitHub error; retrying the sync",
                applied.failures.len(),
                outcome.plan.effects.len()
            );
            return Err(self.transient_failure(installation, message).await);
        }
        if outcome.plan.deferred_creates > 0 {
            // The count left makes each follow-up's id new while the import
            // progresses, and the same one when a run is repeated.
            let reason = format!("{}:{}-left", outcome.sha, outcome.plan.deferred_creates);
            // Paced: the next batch runs when it fits the write budget.
            let created = applied.map_or(0, |a| a.created.len());
            let at = self
                .follow_up_at(installation, created, outcome.plan.deferred_creates)
                .await?;
            self.queue_sync_at(full_name, installation, &reason, at)
                .await?;
        }
        Ok(())
    }

    /// Queues a full sync of `full_name`. The delivery id makes it
    /// idempotent: the same reason for the same repository queues once.
    pub(super) async fn queue_sync(
        &self,
        full_name: &str,
        installation: u64,
        reason: &str,
    ) -> Result<(), HandlerError> {
        self.queue_sync_at(full_name, installation, reason, None)
            .await
    }
}
