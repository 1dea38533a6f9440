//! GitHub App installation records (which account, which repositories) and
//! a generic per-repository key-value state for features that need to
//! remember something between deliveries.

use sqlx::Row;

use super::{RepoStateKey, RepoStatePrefix, Store, StoreError, now_ms, with_pool};

/// A GitHub App installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// GitHub's installation id.
    pub id: i64,
    /// The account (user or organisation) it is installed on.
    pub account_login: String,
}

/// A repository an installation has access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationRepo {
    /// GitHub's repository id (stable across renames).
    pub repo_id: i64,
    /// `owner/name`.
    pub full_name: String,
}

const UPSERT_REPO: &str = "INSERT INTO installation_repos (installation_id, repo_id, full_name)
     VALUES ($1, $2, $3)
     ON CONFLICT (installation_id, repo_id) DO UPDATE SET full_name = excluded.full_name";

impl Store {
    /// Records (or renames) an installation.
    pub async fn upsert_installation(
        &self,
        id: i64,
        account_login: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO installations (id, account_login, created_at, updated_at)
                 VALUES ($1, $2, $3, $3)
                 ON CONFLICT (id) DO UPDATE
                    SET account_login = excluded.account_login, updated_at = excluded.updated_at",
            )
            .bind(id)
            .bind(account_login)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("record an installation"))?;
        Ok(())
    }

    /// Forgets an installation and its repositories.
    pub async fn remove_installation(&self, id: i64) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            async {
                let mut tx = pool.begin().await?;
                sqlx::query("DELETE FROM installation_repos WHERE installation_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM installations WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
            .await
        })
        .map_err(StoreError::query("remove an installation"))
    }

    /// All recorded installations, by id.
    pub async fn installations(&self) -> Result<Vec<Installation>, StoreError> {
        let rows: Vec<(i64, String)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, account_login FROM installations ORDER BY id")
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("list installations"))?;
        Ok(rows
            .into_iter()
            .map(|(id, account_login)| Installation { id, account_login })
            .collect())
    }

    /// Replaces the repository list of an installation with `repos`
    /// (`(repo_id, "owner/name")`).
    pub async fn set_installation_repos(
        &self,
        installation_id: i64,
        repos: &[(i64, String)],
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            async {
                let mut tx = pool.begin().await?;
                sqlx::query("DELETE FROM installation_repos WHERE installation_id = $1")
                    .bind(installation_id)
                    .execute(&mut *tx)
                    .await?;
                for (repo_id, full_name) in repos {
                    sqlx::query(UPSERT_REPO)
                        .bind(installation_id)
                        .bind(repo_id)
                        .bind(full_name)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            .await
        })
        .map_err(StoreError::query("set installation repositories"))
    }

    /// Adds (or renames) repositories of an installation.
    pub async fn add_installation_repos(
        &self,
        installation_id: i64,
        repos: &[(i64, String)],
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            async {
                let mut tx = pool.begin().await?;
                for (repo_id, full_name) in repos {
                    sqlx::query(UPSERT_REPO)
                        .bind(installation_id)
                        .bind(repo_id)
                        .bind(full_name)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            .await
        })
        .map_err(StoreError::query("add installation repositories"))
    }

    /// Removes repositories (by GitHub repository id) from an installation.
    pub async fn remove_installation_repos(
        &self,
        installation_id: i64,
        repo_ids: &[i64],
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            async {
                let mut tx = pool.begin().await?;
                for repo_id in repo_ids {
                    sqlx::query(
                        "DELETE FROM installation_repos
                          WHERE installation_id = $1 AND repo_id = $2",
                    )
                    .bind(installation_id)
                    .bind(repo_id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await
            }
            .await
        })
        .map_err(StoreError::query("remove installation repositories"))
    }

    /// Repositories of an installation, by full name.
    pub async fn installation_repos(
        &self,
        installation_id: i64,
    ) -> Result<Vec<InstallationRepo>, StoreError> {
        let rows = with_pool!(self, |pool| {
            async {
                let rows = sqlx::query(
                    "SELECT repo_id, full_name FROM installation_repos
                      WHERE installation_id = $1 ORDER BY full_name, repo_id",
                )
                .bind(installation_id)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(InstallationRepo {
                            repo_id: row.try_get("repo_id")?,
                            full_name: row.try_get("full_name")?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            }
            .await
        })
        .map_err(StoreError::query("list installation repositories"))?;
        Ok(rows)
    }

    /// The value stored under `key` for repository `repo`.
    pub async fn repo_state_get(
        &self,
        repo: &str,
        key: &RepoStateKey,
    ) -> Result<Option<String>, StoreError> {
        let key = key.as_key();
        let value: Option<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT value FROM repo_state WHERE repo = $1 AND key = $2")
                .bind(repo)
                .bind(&key)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read repository state"))?;
        Ok(value.map(|(value,)| value))
    }

    /// Stores `value` under `key` for repository `repo`, replacing any
    /// previous value.
    pub async fn repo_state_put(
        &self,
        repo: &str,
        key: &RepoStateKey,
        value: &str,
    ) -> Result<(), StoreError> {
        let key = key.as_key();
        let now = now_ms();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO repo_state (repo, key, value, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (repo, key) DO UPDATE
                    SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(repo)
            .bind(&key)
            .bind(value)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("write repository state"))?;
        Ok(())
    }

    /// Every `(number, value)` of repository `repo` whose key is of the
    /// family `prefix`, by number. Keys of the prefix whose suffix is not a
    /// number (none written by this version) are skipped.
    pub async fn repo_state_list(
        &self,
        repo: &str,
        prefix: RepoStatePrefix,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        let rows = self.repo_state_list_raw(repo, prefix.as_prefix()).await?;
        let mut numbered: Vec<(u64, String)> = rows
            .into_iter()
            .filter_map(|(key, value)| Some((prefix.parse(&key)?, value)))
            .collect();
        numbered.sort_by_key(|(number, _)| *number);
        Ok(numbered)
    }

    async fn repo_state_list_raw(
        &self,
        repo: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        // LIKE would treat `_` and `%` in the prefix as wildcards, and a key
        // range depends on the database's collation; a prefix compare is exact.
        let rows: Vec<(String, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT key, value FROM repo_state
                 WHERE repo = $1 AND substr(key, 1, length($2)) = $2 ORDER BY key",
            )
            .bind(repo)
            .bind(prefix)
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("list repository state"))?;
        Ok(rows)
    }

    /// Deletes `key` for repository `repo`; returns whether it existed.
    pub async fn repo_state_delete(
        &self,
        repo: &str,
        key: &RepoStateKey,
    ) -> Result<bool, StoreError> {
        let key = key.as_key();
        let deleted = with_pool!(self, |pool| {
            sqlx::query("DELETE FROM repo_state WHERE repo = $1 AND key = $2")
                .bind(repo)
                .bind(&key)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(StoreError::query("delete repository state"))?;
        Ok(deleted > 0)
    }
}

/// The use cases keep their caches (the sprint ledger's records) in
/// `repo_state` through this seam.
impl paydown_app::state::RepoStateStore for Store {
    async fn get(
        &self,
        repo: &str,
        key: &RepoStateKey,
    ) -> Result<Option<String>, paydown_app::state::StateError> {
        Ok(self.repo_state_get(repo, key).await?)
    }

    async fn put(
        &self,
        repo: &str,
        key: &RepoStateKey,
        value: &str,
    ) -> Result<(), paydown_app::state::StateError> {
        Ok(self.repo_state_put(repo, key, value).await?)
    }

    async fn delete(
        &self,
        repo: &str,
        key: &RepoStateKey,
    ) -> Result<bool, paydown_app::state::StateError> {
        Ok(self.repo_state_delete(repo, key).await?)
    }

    async fn list(
        &self,
        repo: &str,
        prefix: RepoStatePrefix,
    ) -> Result<Vec<(u64, String)>, paydown_app::state::StateError> {
        Ok(self.repo_state_list(repo, prefix).await?)
    }
}
