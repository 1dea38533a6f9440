//! The GitHub App: JWT-authenticated calls and the per-installation token cache.
//!
//! Each installation has one [`TokenSlot`]; its async mutex is held while a token is minted,
//! so concurrent callers wait for the one exchange instead of starting their own. Tokens are
//! replaced `token_refresh_margin` before GitHub's `expires_at`.

use std::collections::HashMap;
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
    slots: Mutex<HashMap<u64, Arc<TokenSlot>>>,
    /// The last App JWT and when it was signed: RSA signing is costly (tens of ms in debug
    /// builds), and a JWT stays valid for nine minutes.
    jwt: Mutex<Option<(SecretString, Instant)>>,
    /// The App's slug once `GET /app` answered (it never changes).
    slug: Mutex<Option<String>>,
}

/// The slug of the App behind `shared`, read once with `GET /app`; `None`
/// while GitHub cannot say (asked again next time).
pub(crate) async fn slug_of(shared: &Arc<AppShared>) -> Option<String> {
    #[derive(Deserialize)]
    struct AppJson {
        slug: String,
    }
    if let Some(slug) = shared.slug.lock().ok().and_then(|s| s.clone()) {
        return Some(slug);
    }
    let client = Client::new(shared.transport.clone(), Auth::App(shared.clone()));
    match client.get_json::<AppJson>("/app").await {
        Ok(app) => {
            if let Ok(mut cached) = shared.slug.lock() {
                *cached = Some(app.slug.clone());
            }
            Some(app.slug)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the App's slug; trusting any bot's markers until it can");
            None
        }
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
    /// Given to every installation client (see [`GitHubApp::with_write_pacer`]).
    pacer: Option<Arc<dyn crate::pacing::WritePacer>>,
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
            }),
            pacer: None,
        })
    }

    /// Installation clients made from now on ask `pacer` before each write.
    pub fn with_write_pacer(mut self, pacer: Arc<dyn crate::pacing::WritePacer>) -> Self {
        self.pacer = Some(pacer);
        self
    }

    pub fn app_id(&self) -> u64 {
        self.shared.creds.app_id
    }

    /// The App's slug (`GET /app`, asked once and cached); its bot user is
    /// `{slug}[bot]`. `None` while GitHub cannot say.
    pub async fn slug(&self) -> Option<String> {
        slug_of(&self.shared).await
    }

    /// Calls made as the App itself (JWT), e.g. `GET /app/installations`.
    pub fn app_client(&self) -> Client {
        Client::new(
            self.shared.transport.clone(),
            Auth::App(self.shared.clone()),
        )
    }

    /// A client acting as `installation_id`. The token is fetched now (so a removed
    /// installation fails here) and shared with every other client of that installation.
    pub async fn installation_client(&self, installation_id: u64) -> Result<Client> {
        let slot = self.slot(installation_id);
        slot.bearer(&self.shared, installation_id).await?;
        Ok(Client::new(
            self.shared.transport.clone(),
            Auth::Installation {
                app: self.shared.clone(),
                id: installation_id,
                slot,
            },
        )
        .with_pacer(self.pacer.clone()))
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

    /// Forgets the cached token of `installation_id` (after a 401, or when the installation
    /// changed); the next call mints a new one.
    pub async fn invalidate(&self, installation_id: u64) {
        self.slot(installation_id).clear().await;
    }

    pub fn stats(&self) -> Arc<ApiStats> {
        self.shared.transport.stats.clone()
    }

    fn slot(&self, installation_id: u64) -> Arc<TokenSlot> {
        // Poisoning only means another thread panicked mid-insert; the map is still valid.
        let mut slots = self
            .shared
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.entry(installation_id).or_default().clone()
    }
}

/// The cached token of one installation.
#[derive(Default)]
pub(crate) struct TokenSlot {
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
        let minted = mint(app, installation_id).await?;
        tracing::debug!(
            installation_id,
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

async fn mint(app: &Arc<AppShared>, installation_id: u64) -> Result<TokenResponse> {
    let route = format!("/app/installations/{installation_id}/access_tokens");
    let req = Request {
        method: Method::POST,
        route: &route,
        body: Some(Bytes::from_static(b"{}")),
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
    fn token_freshness_respects_the_refresh_margin() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let margin = TimeDelta::minutes(5);
        assert!(is_fresh(Some(now + TimeDelta::minutes(60)), now, margin));
        assert!(!is_fresh(Some(now + TimeDelta::minutes(4)), now, margin));
        assert!(!is_fresh(Some(now - TimeDelta::minutes(1)), now, margin));
        assert!(is_fresh(None, now, margin));
    }
}
