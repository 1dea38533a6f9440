//! The GitHub App: JWT-authenticated calls and the installation token cache.
//!
//! Each (installation, [`TokenScope`]) has one [`TokenSlot`]; its async
//! mutex is held while a token is minted, so concurrent callers wait for the
//! one exchange instead of starting their own. Tokens are replaced
//! `token_refresh_margin` before GitHub's `expires_at`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use http::Method;
use octocrab::secrecy::SecretString;
use serde::Deserialize;

use crate::auth::AppCredentials;
use crate::client::{Auth, Bearer, Client, ClientOptions, Request, Transport};
use crate::error::{GitHubError, Result};
use crate::repo::Repo;
use crate::stats::ApiStats;

/// State shared by every clone of a [`GitHubApp`] and its installation clients.
pub(crate) struct AppShared {
    pub(crate) creds: AppCredentials,
    transport: Arc<Transport>,
    /// One slot per (installation, token scope): a token minted for one
    /// repository and permission set is never used for another.
    slots: Mutex<HashMap<(u64, TokenScope), Arc<TokenSlot>>>,
    /// The last App JWT and when it was signed: RSA signing is costly (tens of ms in debug
    /// builds), and a JWT stays valid for nine minutes.
    jwt: Mutex<Option<(SecretString, Instant)>>,
    /// The App's slug once `GET /app` answered (it never changes).
    slug: Mutex<Option<String>>,
    /// Asked before each write of an installation, token mints included
    /// (see [`GitHubApp::with_write_pacer`]).
    pub(crate) pacer: std::sync::OnceLock<Arc<dyn crate::pacing::WritePacer>>,
}

/// The slug of the App behind `shared`, read once with `GET /app` and
/// cached. A failure is not cached: the next caller asks again. Until it
/// answers the bot's identity is unknown, and callers fail closed (no
/// account's markers are trusted; see [`crate::Client::identity`]).
pub(crate) async fn slug_of(shared: &Arc<AppShared>) -> Result<String> {
    #[derive(Deserialize)]
    struct AppJson {
        slug: String,
    }
    if let Some(slug) = shared.slug.lock().ok().and_then(|s| s.clone()) {
        return Ok(slug);
    }
    let client = Client::new(shared.transport.clone(), Auth::App(shared.clone()));
    match client.get_json::<AppJson>("/app").await {
        Ok(app) if !app.slug.trim().is_empty() => {
            if let Ok(mut cached) = shared.slug.lock() {
                *cached = Some(app.slug.clone());
            }
            Ok(app.slug)
        }
        Ok(_) => {
            tracing::warn!(
                "GET /app answered an empty slug; no bot's markers are trusted until it names the App"
            );
            Err(GitHubError::IdentityUnknown {
                reason: "GET /app answered an empty slug".into(),
            })
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the App's slug (GET /app); no bot's markers are trusted, and the job is retried, until it answers");
            Err(GitHubError::IdentityUnknown {
                reason: e.to_string(),
            })
        }
    }
}

/// A GitHub permission level an installation token is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// May read what the permission covers.
    Read,
    /// May also change it.
    Write,
}

impl Access {
    fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// What an installation token is minted for: the one repository a job
/// touches (GitHub's `repositories`) and only the permissions it needs
/// (GitHub's `permissions`, names as in the App manifest: `issues`,
/// `contents`, `pull_requests`, `checks`, `metadata`). A token so scoped
/// gets 404 on any other repository and 403 on anything else, so a bug
/// or a hostile payload in one job cannot reach beyond it.
///
/// [`TokenScope::installation`] asks for no restriction (every repository
/// and permission the installation has), for the few calls that span an
/// installation (`GET /installation/repositories`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TokenScope {
    /// The repository's name (without owner; an installation belongs to
    /// one account), lower-cased so the cache key ignores case as GitHub does.
    repository: Option<String>,
    permissions: BTreeMap<&'static str, Access>,
}

impl TokenScope {
    /// Everything the installation was granted, on all its repositories.
    pub fn installation() -> Self {
        Self::default()
    }

    /// Only `repo` (its owner must be the installation's account), with no
    /// permissions yet: add them with [`TokenScope::read`] / [`TokenScope::write`].
    /// `metadata: read` is always included (GitHub grants it to every token).
    pub fn repository(repo: &Repo) -> Self {
        Self {
            repository: Some(repo.name.to_ascii_lowercase()),
            permissions: BTreeMap::new(),
        }
        .read("metadata")
    }

    /// Adds `permission` at read level (a write already asked for stays).
    pub fn read(mut self, permission: &'static str) -> Self {
        self.permissions.entry(permission).or_insert(Access::Read);
        self
    }

    /// Adds `permission` at write level.
    pub fn write(mut self, permission: &'static str) -> Self {
        self.permissions.insert(permission, Access::Write);
        self
    }

    /// The repository this scope is limited to, if any.
    pub fn repository_name(&self) -> Option<&str> {
        self.repository.as_deref()
    }

    /// The permissions asked for (empty: all the installation has).
    pub fn permissions(&self) -> impl Iterator<Item = (&'static str, Access)> + '_ {
        self.permissions.iter().map(|(k, v)| (*k, *v))
    }

    /// The body of `POST /app/installations/{id}/access_tokens`.
    fn request_body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        if let Some(name) = &self.repository {
            body.insert("repositories".into(), serde_json::json!([name]));
        }
        if !self.permissions.is_empty() {
            let permissions: serde_json::Map<String, serde_json::Value> = self
                .permissions
                .iter()
                .map(|(k, v)| ((*k).to_string(), serde_json::Value::from(v.as_str())))
                .collect();
            body.insert("permissions".into(), permissions.into());
        }
        serde_json::Value::Object(body)
    }
}

/// Reuse an App JWT for at most this long (it expires after nine minutes).
const JWT_REUSE: Duration = Duration::from_secs(4 * 60);

impl AppShared {
    pub(crate) fn jwt(&self) -> Result<SecretString> {
        let mut cached = self.jwt.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((jwt, signed)) = cached.as_ref()
            && signed.elapsed() < JWT_REUSE
        {
            return Ok(jwt.clone());
        }
        let jwt = SecretString::from(self.creds.jwt()?);
        *cached = Some((jwt.clone(), Instant::now()));
        Ok(jwt)
    }

    pub(crate) fn forget_jwt(&self) {
        *self.jwt.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// A GitHub App; clones share credentials, token caches, connections and stats.
#[derive(Clone)]
pub struct GitHubApp {
    shared: Arc<AppShared>,
}

impl std::fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApp")
            .field("app_id", &self.shared.creds.app_id)
            .finish_non_exhaustive()
    }
}

impl GitHubApp {
    /// Must be called inside a Tokio runtime.
    pub fn new(api_base: &str, creds: AppCredentials, options: ClientOptions) -> Result<Self> {
        let transport = Arc::new(Transport::new(api_base, options)?);
        Ok(Self {
            shared: Arc::new(AppShared {
                creds,
                transport,
                slots: Mutex::new(HashMap::new()),
                jwt: Mutex::new(None),
                slug: Mutex::new(None),
                pacer: std::sync::OnceLock::new(),
            }),
        })
    }

    /// Every installation write of this App and its clones asks `pacer`
    /// first: the installation clients' writes and the minting of their
    /// tokens (a POST GitHub counts like any other). The first pacer set
    /// stays.
    pub fn with_write_pacer(self, pacer: Arc<dyn crate::pacing::WritePacer>) -> Self {
        let _ = self.shared.pacer.set(pacer);
        self
    }

    /// The App id the JWTs are issued for.
    pub fn app_id(&self) -> u64 {
        self.shared.creds.app_id
    }

    /// The App's slug (`GET /app`, asked once and cached); its bot user is
    /// `{slug}[bot]`. `None` while GitHub cannot say (logged; asked again
    /// on the next call).
    pub async fn slug(&self) -> Option<String> {
        slug_of(&self.shared).await.ok()
    }

    /// [`GitHubApp::slug`], failing closed with
    /// [`GitHubError::IdentityUnknown`] (transient: retry the job) while
    /// GitHub cannot say.
    pub async fn try_slug(&self) -> Result<String> {
        slug_of(&self.shared).await
    }

    /// Calls made as the App itself (JWT), e.g. `GET /app/installations`.
    pub fn app_client(&self) -> Client {
        Client::new(
            self.shared.transport.clone(),
            Auth::App(self.shared.clone()),
        )
    }

    /// A client acting as `installation_id` with everything the installation
    /// was granted. Prefer [`GitHubApp::installation_client_for`] for work on
    /// one repository.
    pub async fn installation_client(&self, installation_id: u64) -> Result<Client> {
        self.installation_client_for(installation_id, &TokenScope::installation())
            .await
    }

    /// A client acting as `installation_id`, with a token limited to `scope`
    /// (one repository, the permissions the job needs). The token is fetched
    /// now (so a removed installation fails here) and shared with every
    /// other client of the same installation and scope.
    pub async fn installation_client_for(
        &self,
        installation_id: u64,
        scope: &TokenScope,
    ) -> Result<Client> {
        let slot = self.slot(installation_id, scope);
        slot.bearer(&self.shared, installation_id).await?;
        Ok(Client::new(
            self.shared.transport.clone(),
            Auth::Installation {
                app: self.shared.clone(),
                id: installation_id,
                slot,
            },
        )
        .with_pacer(self.shared.pacer.get().cloned()))
    }

    /// The installation that covers `owner/repo` (`GET /repos/{owner}/{repo}/installation`).
    pub async fn installation_for_repo(&self, owner: &str, repo: &str) -> Result<u64> {
        #[derive(Deserialize)]
        struct Installation {
            id: u64,
        }
        let route = Repo::new(owner, repo)?.installation();
        let inst: Installation = self.app_client().get_json(&route).await?;
        Ok(inst.id)
    }

    /// Forgets the cached tokens of `installation_id`, whatever their scope
    /// (after a 401, or when the installation changed); the next call mints
    /// a new one.
    pub async fn invalidate(&self, installation_id: u64) {
        let slots: Vec<Arc<TokenSlot>> = self
            .shared
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .filter(|((id, _), _)| *id == installation_id)
            .map(|(_, slot)| slot.clone())
            .collect();
        for slot in slots {
            slot.clear().await;
        }
    }

    /// Request counters shared by the App's own and its installations' clients.
    pub fn stats(&self) -> Arc<ApiStats> {
        self.shared.transport.stats.clone()
    }

    fn slot(&self, installation_id: u64, scope: &TokenScope) -> Arc<TokenSlot> {
        // Poisoning only means another thread panicked mid-insert; the map is still valid.
        let mut slots = self
            .shared
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slots
            .entry((installation_id, scope.clone()))
            .or_insert_with(|| Arc::new(TokenSlot::new(scope.clone())))
            .clone()
    }
}

/// The cached token of one installation and scope.
pub(crate) struct TokenSlot {
    scope: TokenScope,
    state: tokio::sync::Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    token: Option<CachedToken>,
    /// Bumped on every mint, so a 401 can tell whether the token it used is still cached.
    generation: u64,
}

struct CachedToken {
    secret: SecretString,
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    token: String,
    expires_at: Option<DateTime<Utc>>,
}

impl TokenSlot {
    fn new(scope: TokenScope) -> Self {
        Self {
            scope,
            state: tokio::sync::Mutex::new(SlotState::default()),
        }
    }

    /// A token valid for at least the refresh margin, minting one if needed.
    pub(crate) async fn bearer(
        &self,
        app: &Arc<AppShared>,
        installation_id: u64,
    ) -> Result<Bearer> {
        let margin = TimeDelta::from_std(app.transport.options.token_refresh_margin)
            .unwrap_or(TimeDelta::MAX);
        let mut state = self.state.lock().await;
        if let Some(t) = &state.token
            && is_fresh(t.expires_at, Utc::now(), margin)
        {
            return Ok(Bearer {
                secret: t.secret.clone(),
                generation: state.generation,
            });
        }
        let minted = mint(app, installation_id, &self.scope).await?;
        tracing::debug!(
            installation_id,
            repository = self.scope.repository_name().unwrap_or("*"),
            expires_at = ?minted.expires_at,
            "minted installation token"
        );
        let secret = SecretString::from(minted.token);
        state.generation += 1;
        state.token = Some(CachedToken {
            secret: secret.clone(),
            expires_at: minted.expires_at,
        });
        Ok(Bearer {
            secret,
            generation: state.generation,
        })
    }

    /// Drops the cached token if it is still the one a failed request used, so a 401 seen
    /// by several tasks leads to one new token, not one per task.
    pub(crate) async fn invalidate_generation(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.generation == generation {
            state.token = None;
        }
    }

    async fn clear(&self) {
        self.state.lock().await.token = None;
    }
}

fn is_fresh(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>, margin: TimeDelta) -> bool {
    match expires_at {
        Some(exp) => exp - now > margin,
        None => true,
    }
}

async fn mint(
    app: &Arc<AppShared>,
    installation_id: u64,
    scope: &TokenScope,
) -> Result<TokenResponse> {
    let route = format!("/app/installations/{installation_id}/access_tokens");
    if let Some(pacer) = app.pacer.get() {
        // Scoped tokens are minted per repository and job kind: an
        // installation of many repositories would otherwise burst them.
        pacer
            .before_write(crate::pacing::Write {
                installation: installation_id,
                method: &Method::POST,
                route: &route,
                creates_content: false,
            })
            .await?;
    }
    let req = Request {
        method: Method::POST,
        route: &route,
        body: Some(Bytes::from(scope.request_body().to_string())),
        accept: "application/vnd.github+json",
        // Minting twice is harmless, so the exchange is retried like an idempotent call.
        idempotent: true,
        if_none_match: None,
        download: false,
    };
    app.transport.stats.token_request();
    let resp = app.transport.run(&req, &Auth::App(app.clone())).await?;
    serde_json::from_slice::<TokenResponse>(&resp.body).map_err(|e| GitHubError::Decode {
        route,
        // serde_json errors name positions and types, never the token's value.
        error: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_scope_asks_for_that_repository_and_its_permissions_only() {
        let repo = Repo::parse("Octo-Org/Widgets").unwrap();
        let scope = TokenScope::repository(&repo)
            .read("contents")
            .write("issues")
            .read("issues");
        assert_eq!(
            scope.request_body(),
            serde_json::json!({
                "repositories": ["widgets"],
                "permissions": {"contents": "read", "issues": "write", "metadata": "read"},
            })
        );
        assert_eq!(
            TokenScope::installation().request_body(),
            serde_json::json!({})
        );
        // The cache key tells scopes apart, and ignores the order they were built in.
        let same = TokenScope::repository(&repo)
            .write("issues")
            .read("contents");
        assert_eq!(scope, same);
        assert_ne!(scope, TokenScope::repository(&repo).read("contents"));
    }

    #[test]
    fn token_freshness_respects_the_refresh_margin() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let margin = TimeDelta::minutes(5);
        assert!(is_fresh(Some(now + TimeDelta::minutes(60)), now, margin));
        assert!(!is_fresh(Some(now + TimeDelta::minutes(4)), now, margin));
        assert!(!is_fresh(Some(now - TimeDelta::minutes(1)), now, margin));
        assert!(is_fresh(None, now, margin));
    }
}
