//! What a worker does with a delivery. [`Handler`] is the seam between the
//! queue and paydown's features; [`GitHubHandler`] is the production one:
//! it keeps installation records in sync, reconciles debt issues on pushes
//! to the default branch and backfills newly installed repositories
//! (through `paydown_sync`, the same core as `paydown sync`), and records
//! the events later features will act on.
//!
//! An invalid `.github/paydown.yml` never puts the defaults in force in the
//! App: each sync of the default branch keeps the last valid config's text
//! under [`crate::store::RepoStateKey::LastValidConfig`], and every handler
//! that reads the file
//! ([`GitHubHandler::config_at_or_last_valid`]) falls back on it.

use std::future::Future;
use std::pin::Pin;

use paydown_github::{Client, GitHubApp, GitHubError, Repo, TokenScope};
use paydown_sync::{ConfigInForce, SyncError};
use serde::{Deserialize, Serialize};

use crate::events::{Event, EventError, RepoRef, parse_event};
use crate::store::{Claimed, Store, StoreError};

mod installation;
mod issue_comment;
mod issues;
mod pacing;
mod pull_request;
mod push;

/// A job paydown queues for itself (not a GitHub event): a full sync of
/// one repository, for backfills and for resuming a paced import.
pub const SYNC_EVENT: &str = "paydown.sync";

#[derive(Debug, Serialize, Deserialize)]
struct SyncJob {
    repository: String,
    installation: u64,
}

/// A full sync of `full_name` queued under `delivery_id` (idempotent by
/// that id), for jobs outside the handlers (the periodic safety sync).
pub fn sync_delivery(
    full_name: &str,
    installation: i64,
    delivery_id: String,
) -> Result<crate::store::NewDelivery, HandlerError> {
    let job = SyncJob {
        repository: full_name.to_string(),
        installation: u64::try_from(installation)
            .map_err(|_| HandlerError::Other(format!("bad installation id {installation}")))?,
    };
    Ok(crate::store::NewDelivery {
        settled: false,
        delivery_id,
        event: SYNC_EVENT.to_string(),
        action: None,
        repo_key: Some(full_name.to_string()),
        installation_id: Some(installation),
        payload: serde_json::to_vec(&job).map_err(|e| HandlerError::Other(e.to_string()))?,
    })
}

/// Why handling a delivery failed. Every error is handed to the queue,
/// which retries with backoff and eventually dead-letters the delivery.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    /// The payload cannot be read as its event (permanent: dead at once).
    Payload(#[from] EventError),
    #[error(transparent)]
    /// A GitHub request failed (after the client's retries).
    GitHub(#[from] GitHubError),
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
    #[error(transparent)]
    /// The sync failed as a whole.
    Sync(#[from] SyncError),
    /// A use case failed for a reason other than GitHub or the sync
    /// (budget settings, the state store, the ledger cache).
    #[error(transparent)]
    App(paydown_app::AppError),
    #[error("{0}")]
    /// Anything else, with its message.
    Other(String),
    /// The installation's write budget is spent (see [`crate::pacing`]):
    /// the delivery runs again at `until_ms` (unix ms, pacing clock),
    /// without counting an attempt.
    #[error("{reason}")]
    Paced {
        /// When to run again (unix ms, pacing clock).
        until_ms: i64,
        /// What was deferred, for the log.
        reason: String,
    },
}

impl From<paydown_app::AppError> for HandlerError {
    /// GitHub and sync failures keep their own variants: the queue reads
    /// rate limits and pacing from them.
    fn from(e: paydown_app::AppError) -> Self {
        use paydown_app::AppError;
        match e {
            AppError::GitHub(e) | AppError::Commands(paydown_commands::RunError::GitHub(e)) => {
                HandlerError::GitHub(e)
            }
            AppError::Sync(e) => HandlerError::Sync(e),
            other => HandlerError::App(other),
        }
    }
}

impl HandlerError {
    /// A failure no retry can fix: the payload itself cannot be read. The
    /// delivery goes dead at once, with the reason, instead of being tried
    /// again until its attempts run out.
    pub fn is_permanent(&self) -> bool {
        matches!(self, HandlerError::Payload(_))
    }

    /// When a paced job should run again: for [`HandlerError::Paced`], and
    /// for a write the pacer (or GitHub's own rate limit) refused until a
    /// known time. The queue defers the delivery to then without counting
    /// an attempt.
    pub fn paced_until(&self) -> Option<i64> {
        match self {
            HandlerError::Paced { until_ms, .. } => Some(*until_ms),
            HandlerError::GitHub(GitHubError::RateLimited { reset_at }) => {
                Some(reset_at.timestamp_millis())
            }
            _ => None,
        }
    }
}

/// The future a [`Handler`] returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>>;

/// Processes one claimed delivery. Must be idempotent: a delivery whose
/// worker died mid-way is handled again from the start.
pub trait Handler: Send + Sync + 'static {
    /// Handles `delivery` once; an error is retried by the queue (or dead-letters it).
    fn handle<'a>(&'a self, delivery: &'a Claimed) -> HandlerFuture<'a>;
}

/// The production handler, acting through the GitHub App client.
#[derive(Debug, Clone)]
pub struct GitHubHandler {
    app: GitHubApp,
    store: Store,
    /// Write pacing, when on: the App's installation clients ask it before
    /// each write, and paced imports schedule their next batch with it.
    pacer: Option<crate::pacing::Pacer>,
}

impl GitHubHandler {
    /// The handler acting as `app` and keeping its state in `store`, unpaced.
    pub fn new(app: GitHubApp, store: Store) -> Self {
        Self {
            app,
            store,
            pacer: None,
        }
    }

    /// Paces every write of the App's installation clients with `pacer`
    /// (shared through the store by all workers and replicas).
    pub fn with_pacer(mut self, pacer: crate::pacing::Pacer) -> Self {
        self.app = self
            .app
            .with_write_pacer(std::sync::Arc::new(pacer.clone()));
        self.pacer = Some(pacer);
        self
    }

    async fn dispatch(&self, delivery: &Claimed) -> Result<(), HandlerError> {
        if delivery.event == SYNC_EVENT {
            let job: SyncJob =
                serde_json::from_slice(&delivery.payload).map_err(|e| EventError {
                    event: SYNC_EVENT.to_string(),
                    path: ".".to_string(),
                    message: e.to_string(),
                })?;
            self.pace_sync_job(&job).await?;
            return self
                .sync(&job.repository, job.installation, None, None)
                .await;
        }
        if delivery.event == crate::incident_endpoints::PAGERDUTY_EVENT
            || delivery.event == crate::incident_endpoints::GENERIC_EVENT
        {
            return self.incident_delivery(delivery).await;
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
            Event::PullRequest(ev) => self.pull_request(&ev, &delivery.delivery_id).await,
            Event::IssueComment(ev) => self.issue_comment(&ev, &delivery.delivery_id).await,
            Event::Issues(ev) => self.issues(&ev, &delivery.delivery_id).await,
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
}

impl GitHubHandler {
    /// The text of the last valid config a sync saw on `full_name`'s
    /// default branch; `None` when it never saw one.
    pub(super) async fn last_valid_config(
        &self,
        full_name: &str,
    ) -> Result<Option<String>, HandlerError> {
        Ok(self
            .store
            .repo_state_get(full_name, &crate::store::RepoStateKey::LastValidConfig)
            .await?)
    }

    /// The config at `git_ref` of `repo`: the file's when it is valid; when
    /// it is invalid, the last valid one (the defaults if none was ever
    /// seen), with the file's errors for the caller to show.
    pub(super) async fn config_at_or_last_valid(
        &self,
        client: &Client,
        repo: &Repo,
        full_name: &str,
        git_ref: &str,
    ) -> Result<ConfigInForce, HandlerError> {
        let text = paydown_sync::fetch::config_text_at(client, repo, git_ref).await?;
        let mut in_force = paydown_sync::resolve_config(text.as_deref(), None);
        if !in_force.errors.is_empty() {
            // Read only when needed: most files are valid.
            let kept = self.last_valid_config(full_name).await?;
            in_force = paydown_sync::resolve_config(text.as_deref(), kept.as_deref());
            tracing::warn!(repo = %full_name, git_ref, errors = in_force.errors.len(), last_valid = kept.is_some(), "invalid config; the last valid one (or the defaults, if none was seen) is used");
        }
        Ok(in_force)
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

/// The installation token each kind of job works with: the one repository
/// it touches and only the permissions it needs, so a job (or a hostile
/// payload steering one) cannot reach another repository or write what its
/// work never writes. GitHub answers 404 / 403 beyond the scope.
pub mod token_scopes {
    use super::{Repo, TokenScope};

    /// A sync (push, `paydown.sync` job, backfill): reads code, config and
    /// merged pull requests; writes debt issues, labels and the dashboard.
    pub fn sync(repo: &Repo) -> TokenScope {
        TokenScope::repository(repo)
            .read("contents")
            .write("issues")
            .read("pull_requests")
    }

    /// A pull request: its report comment (an issue comment), the debt
    /// report and drift check runs.
    pub fn pull_request(repo: &Repo) -> TokenScope {
        sync(repo).write("checks")
    }

    /// Slash commands: reply, reactions, labels; on a pull request
    /// `classify`, `points` and `accept-drift` re-run the drift check and
    /// `scan` the review, so they need what a pull request job needs.
    pub fn commands(repo: &Repo) -> TokenScope {
        pull_request(repo)
    }

    /// Listing an installation's repositories spans them all; it needs
    /// nothing but metadata.
    pub fn installation_listing() -> TokenScope {
        TokenScope::installation().read("metadata")
    }
}
