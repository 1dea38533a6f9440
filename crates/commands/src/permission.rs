//! Commenters' repository permissions from GitHub's collaborator-permission
//! API (never the payload's `author_association`), cached briefly.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use paydown_config::Permission;
use paydown_github::{Client, GitHubError, Repo};
use serde::Deserialize;

/// How long a looked-up permission is trusted. Short, so a revoked
/// collaborator loses command rights within a minute, yet a burst of
/// commands from one person costs one lookup.
pub const PERMISSION_TTL: Duration = Duration::from_secs(60);

/// Cached entries kept at most; expired ones are dropped when it is reached.
const PERMISSION_CACHE_CAP: usize = 10_000;

/// (API base, repository, login), the last two lower-cased: one process may
/// serve several GitHub hosts (and tests run several fakes).
type CacheKey = (String, String, String);

/// Repository permissions looked up through the collaborator-permission
/// API, kept for [`PERMISSION_TTL`] per (repository, login).
#[derive(Debug)]
pub struct PermissionCache {
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, (Instant, Option<Permission>)>>,
}

impl PermissionCache {
    /// An empty cache whose lookups are trusted for `ttl`; the App's workers
    /// share [`PermissionCache::shared`] instead.
    pub fn new(ttl: Duration) -> PermissionCache {
        PermissionCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The process-wide cache (TTL [`PERMISSION_TTL`]) the App's workers share.
    pub fn shared() -> &'static PermissionCache {
        static SHARED: OnceLock<PermissionCache> = OnceLock::new();
        SHARED.get_or_init(|| PermissionCache::new(PERMISSION_TTL))
    }

    fn key(client: &Client, repo: &Repo, login: &str) -> CacheKey {
        (
            client.api_base().to_string(),
            format!("{}/{}", repo.owner, repo.name).to_ascii_lowercase(),
            login.to_ascii_lowercase(),
        )
    }

    fn cached(&self, key: &CacheKey) -> Option<Option<Permission>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, permission)| *permission)
    }

    fn store(&self, key: CacheKey, permission: Option<Permission>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= PERMISSION_CACHE_CAP {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= PERMISSION_CACHE_CAP {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), permission));
    }

    /// `login`'s permission on `repo`; `None` for no access (GitHub answers
    /// `none`, or 404 for someone who is not a user or not visible).
    pub async fn permission(
        &self,
        client: &Client,
        repo: &Repo,
        login: &str,
    ) -> Result<Option<Permission>, GitHubError> {
        let key = Self::key(client, repo, login);
        if let Some(permission) = self.cached(&key) {
            return Ok(permission);
        }
        let permission = match client
            .get_json::<PermissionJson>(&repo.collaborator_permission(login))
            .await
        {
            Ok(answer) => answer.permission(),
            Err(e) if e.status() == Some(404) => None,
            Err(e) => return Err(e),
        };
        self.store(key, permission);
        Ok(permission)
    }
}

#[derive(Debug, Deserialize)]
struct PermissionJson {
    #[serde(default)]
    permission: Option<String>,
    #[serde(default)]
    role_name: Option<String>,
}

impl PermissionJson {
    /// `role_name` tells maintain and triage apart (the legacy `permission`
    /// folds them into write and read); a custom role's name is not a level,
    /// so `permission` (its base) decides then.
    fn permission(&self) -> Option<Permission> {
        self.role_name
            .as_deref()
            .and_then(Permission::parse)
            .or_else(|| self.permission.as_deref().and_then(Permission::parse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_role_names_then_maintain_and_triage_are_told_apart() {
        let p = |permission: &str, role: Option<&str>| {
            PermissionJson {
                permission: Some(permission.into()),
                role_name: role.map(str::to_string),
            }
            .permission()
        };
        assert_eq!(p("write", Some("maintain")), Some(Permission::Maintain));
        assert_eq!(p("read", Some("triage")), Some(Permission::Triage));
        assert_eq!(
            p("write", Some("security-reviewer")),
            Some(Permission::Write)
        );
        assert_eq!(p("admin", None), Some(Permission::Admin));
        assert_eq!(p("none", None), None);
    }
}
