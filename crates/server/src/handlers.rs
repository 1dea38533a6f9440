//! What a worker does with a delivery. [`Handler`] is the seam between the
//! queue and paydown's features; [`GitHubHandler`] is the production one:
//! it keeps installation records in sync and (for now) records every other
//! event without acting on it.

use std::future::Future;
use std::pin::Pin;

use paydown_github::{GitHubApp, GitHubError};
use serde::Deserialize;

use crate::events::{
    Event, EventError, InstallationAction, InstallationEvent, InstallationReposAction,
    InstallationRepositoriesEvent, RepoRef, parse_event,
};
use crate::store::{Claimed, Store, StoreError};

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
        match parse_event(&delivery.event, &delivery.payload)? {
            Event::Ping(ping) => {
                tracing::info!(delivery = %delivery.delivery_id, hook_id = ?ping.hook_id, "ping");
                Ok(())
            }
            Event::Installation(ev) => self.installation(&ev).await,
            Event::InstallationRepositories(ev) => self.installation_repositories(&ev).await,
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

    async fn installation(&self, ev: &InstallationEvent) -> Result<(), HandlerError> {
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
