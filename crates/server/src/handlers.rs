//! What a worker does with a delivery. [`Handler`] is the seam between the
//! queue and paydown's features; [`GitHubHandler`] is the production one:
//! it keeps installation records in sync, reconciles debt issues on pushes
//! to the default branch and backfills newly installed repositories
//! (through `paydown_sync`, the same core as `paydown sync`), and records
//! the events later features will act on.

use std::future::Future;
use std::pin::Pin;

use paydown_github::{GitHubApp, GitHubError, Repo};
use paydown_sync::fetch::Head;
use paydown_sync::{SyncError, SyncOptions};
use serde::{Deserialize, Serialize};

use crate::events::{
    Event, EventError, InstallationAction, InstallationEvent, InstallationReposAction,
    InstallationRepositoriesEvent, PushEvent, RepoRef, parse_event,
};
use crate::store::{Claimed, NewDelivery, Store, StoreError};

/// A job paydown queues for itself (not a GitHub event): a full sync of
/// one repository, for backfills and for resuming a paced import.
pub const SYNC_EVENT: &str = "paydown.sync";

#[derive(Debug, Serialize, Deserialize)]
struct SyncJob {
    repository: String,
    installation: u64,
}

/// Why handling a delivery failed. Every error is handed to the queue,
/// which retries with backoff and eventually dead-letters the delivery.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Payload(#[from] EventError),
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("{0}")]
    Other(String),
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>>;

/// Processes one claimed delivery. Must be idempotent: a delivery whose
/// worker died mid-way is handled again from the start.
pub trait Handler: Send + Sync + 'static {
    fn handle<'a>(&'a self, delivery: &'a Claimed) -> HandlerFuture<'a>;
}

/// The production handler, acting through the GitHub App client.
#[derive(Debug, Clone)]
pub struct GitHubHandler {
    app: GitHubApp,
    store: Store,
}

impl GitHubHandler {
    pub fn new(app: GitHubApp, store: Store) -> Self {
        Self { app, store }
    }

    async fn dispatch(&self, delivery: &Claimed) -> Result<(), HandlerError> {
        if delivery.event == SYNC_EVENT {
            let job: SyncJob = serde_json::from_slice(&delivery.payload)
                .map_err(|e| HandlerError::Other(format!("bad {SYNC_EVENT} job: {e}")))?;
            return self.sync(&job.repository, job.installation, None).await;
        }
        match parse_event(&delivery.event, &delivery.payload)? {
            Event::Ping(ping) => {
                tracing::info!(delivery = %delivery.delivery_id, hook_id = ?ping.hook_id, "ping");
                Ok(())
            }
            Event::Installation(ev) => self.installation(&ev, &delivery.delivery_id).await,
            Event::InstallationRepositories(ev) => {
                self.installation_repositories(&ev, &delivery.delivery_id)
                    .await
            }
            Event::Push(ev) => self.push(&ev).await,
            Event::Unknown { name } => {
                tracing::debug!(delivery = %delivery.delivery_id, event = %name, "event not handled by paydown; ignored");
                Ok(())
            }
            other => {
                tracing::debug!(delivery = %delivery.delivery_id, event = other.name(), "event recorded; no action yet");
                Ok(())
            }
        }
    }

    async fn installation(
        &self,
        ev: &InstallationEvent,
        delivery_id: &str,
    ) -> Result<(), HandlerError> {
        let id = ev.installation.id;
        match &ev.action {
            InstallationAction::Created
            | InstallationAction::NewPermissionsAccepted
            | InstallationAction::Unsuspend => {
                let repos = self.fetch_installation_repos(id).await?;
                let db_id = db_id(id)?;
                self.store
                    .upsert_installation(db_id, &ev.installation.account.login)
                    .await?;
                self.store.set_installation_repos(db_id, &repos).await?;
                for (_, full_name) in &repos {
                    self.queue_sync(full_name, id, &format!("backfill:{delivery_id}"))
                        .await?;
                }
                tracing::info!(
                    installation = id,
                    repositories = repos.len(),
                    action = ev.action.as_str(),
                    "installation synced"
                );
                Ok(())
            }
            InstallationAction::Deleted | InstallationAction::Suspend => {
                self.app.invalidate(id).await;
                self.store.remove_installation(db_id(id)?).await?;
                tracing::info!(
                    installation = id,
                    action = ev.action.as_str(),
                    "installation removed"
                );
                Ok(())
            }
            InstallationAction::Other(action) => {
                tracing::debug!(installation = id, action = %action, "installation action ignored");
                Ok(())
            }
        }
    }

    async fn installation_repositories(
        &self,
        ev: &InstallationRepositoriesEvent,
        delivery_id: &str,
    ) -> Result<(), HandlerError> {
        let id = db_id(ev.installation.id)?;
        self.store
            .upsert_installation(id, &ev.installation.account.login)
            .await?;
        match &ev.action {
            InstallationReposAction::Added | InstallationReposAction::Removed => {
                let added = repo_pairs(&ev.repositories_added)?;
                if !added.is_empty() {
                    self.store.add_installation_repos(id, &added).await?;
                }
                for (_, full_name) in &added {
                    self.queue_sync(
                        full_name,
                        ev.installation.id,
                        &format!("backfill:{delivery_id}"),
                    )
                    .await?;
                }
                let removed: Vec<i64> = repo_pairs(&ev.repositories_removed)?
                    .into_iter()
                    .map(|(repo_id, _)| repo_id)
                    .collect();
                if !removed.is_empty() {
                    self.store.remove_installation_repos(id, &removed).await?;
                }
                tracing::info!(
                    installation = id,
                    added = added.len(),
                    removed = removed.len(),
                    "installation repositories updated"
                );
                Ok(())
            }
            InstallationReposAction::Other(action) => {
                tracing::debug!(installation = id, action = %action, "installation_repositories action ignored");
                Ok(())
            }
        }
    }

    /// A push: only the default branch changes debt issues; other branches
    /// and deleted refs are left to pull-request reports.
    async fn push(&self, ev: &PushEvent) -> Result<(), HandlerError> {
        let Some(installation) = ev.installation.as_ref().map(|i| i.id) else {
            tracing::warn!(repo = %ev.repository.full_name, "push without an installation; ignored");
            return Ok(());
        };
        let Some(branch) = ev.repository.default_branch.clone() else {
            // Old payload shapes lack it: a full sync asks GitHub.
            return self
                .sync(&ev.repository.full_name, installation, None)
                .await;
        };
        if ev.deleted == Some(true) || ev.git_ref != format!("refs/heads/{branch}") {
            tracing::debug!(repo = %ev.repository.full_name, git_ref = %ev.git_ref, "not the default branch; no issue changes");
            return Ok(());
        }
        let head = Head {
            branch,
            sha: ev.after.clone(),
        };
        self.sync(&ev.repository.full_name, installation, Some(head))
            .await
    }

    /// Reconciles one repository's debt issues; when pacing deferred some
    /// creates, queues another run to carry on.
    async fn sync(
        &self,
        full_name: &str,
        installation: u64,
        head: Option<Head>,
    ) -> Result<(), HandlerError> {
        let repo = Repo::parse(full_name)?;
        let client = self.app.installation_client(installation).await?;
        let options = SyncOptions {
            head,
            ..SyncOptions::for_api(client.api_base())
        };
        let outcome = paydown_sync::sync_repository(&client, &repo, &options).await?;
        let applied = outcome.applied.as_ref();
        tracing::info!(
            repo = %full_name,
            sha = %outcome.sha,
            annotations = outcome.annotations,
            effects = outcome.plan.effects.len(),
            failed = applied.map_or(0, |a| a.failures.len()),
            deferred = outcome.plan.deferred_creates,
            "debt issues reconciled"
        );
        for failure in applied.map(|a| a.failures.as_slice()).unwrap_or_default() {
            tracing::warn!(repo = %full_name, effect = %failure.effect, error = %failure.error, "effect failed");
        }
        if outcome.plan.deferred_creates > 0 {
            // The count left makes each follow-up's id new while the import
            // progresses, and the same one when a run is repeated.
            let reason = format!("{}:{}-left", outcome.sha, outcome.plan.deferred_creates);
            self.queue_sync(full_name, installation, &reason).await?;
        }
        Ok(())
    }

    /// Queues a full sync of `full_name`. The delivery id makes it
    /// idempotent: the same reason for the same repository queues once.
    async fn queue_sync(
        &self,
        full_name: &str,
        installation: u64,
        reason: &str,
    ) -> Result<(), HandlerError> {
        let job = SyncJob {
            repository: full_name.to_string(),
            installation,
        };
        let payload = serde_json::to_vec(&job).map_err(|e| HandlerError::Other(e.to_string()))?;
        self.store
            .enqueue(NewDelivery {
                delivery_id: format!("{SYNC_EVENT}:{full_name}:{reason}"),
                event: SYNC_EVENT.to_string(),
                action: None,
                repo_key: Some(full_name.to_string()),
                installation_id: Some(db_id(installation)?),
                payload,
            })
            .await?;
        Ok(())
    }

    /// Every repository the installation can access, read with its own
    /// installation token (`GET /installation/repositories`, paginated).
    async fn fetch_installation_repos(&self, id: u64) -> Result<Vec<(i64, String)>, HandlerError> {
        #[derive(Deserialize)]
        struct Page {
            total_count: u64,
            repositories: Vec<RepoRef>,
        }
        const PER_PAGE: usize = 100;
        let client = self.app.installation_client(id).await?;
        let mut repos = Vec::new();
        for page in 1u32.. {
            let route = format!("/installation/repositories?per_page={PER_PAGE}&page={page}");
            let body: Page = client.get_json(&route).await?;
            let got = body.repositories.len();
            repos.extend(repo_pairs(&body.repositories)?);
            if got < PER_PAGE || repos.len() as u64 >= body.total_count {
                break;
            }
        }
        Ok(repos)
    }
}

impl Handler for GitHubHandler {
    fn handle<'a>(&'a self, delivery: &'a Claimed) -> HandlerFuture<'a> {
        Box::pin(self.dispatch(delivery))
    }
}

fn db_id(id: u64) -> Result<i64, HandlerError> {
    i64::try_from(id).map_err(|_| HandlerError::Other(format!("id {id} does not fit the database")))
}

fn repo_pairs(repos: &[RepoRef]) -> Result<Vec<(i64, String)>, HandlerError> {
    repos
        .iter()
        .map(|r| Ok((db_id(r.id)?, r.full_name.clone())))
        .collect()
}
