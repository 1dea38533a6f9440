//! `installation` and `installation_repositories`: keep the store's record
//! of installations and their repositories current, and queue a backfill
//! sync for each repository the App can newly see.

use serde::Deserialize;

use super::{GitHubHandler, HandlerError, db_id, repo_pairs};
use crate::events::{
    InstallationAction, InstallationEvent, InstallationReposAction, InstallationRepositoriesEvent,
    RepoRef,
};

impl GitHubHandler {
    pub(super) async fn installation(
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

    pub(super) async fn installation_repositories(
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

    /// Every repository the installation can access, read with its own
    /// installation token (`GET /installation/repositories`, paginated).
    pub(super) async fn fetch_installation_repos(
        &self,
        id: u64,
    ) -> Result<Vec<(i64, String)>, HandlerError> {
        #[derive(Deserialize)]
        struct Page {
            total_count: u64,
            repositories: Vec<RepoRef>,
        }
        const PER_PAGE: usize = 100;
        let client = self
            .app
            .installation_client_for(id, &super::token_scopes::installation_listing())
            .await?;
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
