//! The per-installation (or per-token) [`Client`]: GitHub's API as typed
//! operations, over three layers:
//!
//! - [`transport`]: the retrying HTTP layer (attempts, timeouts, the retry
//!   policy of [`crate::retry`], rate-limit quiet windows, error mapping);
//! - [`auth`]: who a request is made as, and the bearer it presents;
//! - [`pagination`]: lists followed over `Link: rel="next"`.
//!
//! [`options`] holds the knobs all of them read.

mod auth;
mod options;
mod pagination;
mod transport;

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode, header};
use octocrab::Octocrab;
use octocrab::secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use auth::{Auth, Bearer};
pub use options::{ClientOptions, api_base_from, api_base_from_env};
use transport::error_chain;
pub(crate) use transport::{BodyMode, Request, Response, Transport, body_error};

use crate::BotIdentity;
use crate::error::{GitHubError, Result};
use crate::pacing::{Write, WritePacer};
use crate::retry;
use crate::stats::ApiStats;
use crate::stream::{BodyReader, BodyTimeouts};

const JSON: &str = "application/vnd.github+json";

fn decode<T: DeserializeOwned>(route: &str, body: &[u8]) -> Result<T> {
    // 204 No Content and friends: let `()` and `Option<T>` callers succeed.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"null".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| GitHubError::Decode {
        route: route.to_string(),
        error: e.to_string(),
    })
}

fn encode<B: Serialize + ?Sized>(route: &str, body: &B) -> Result<Bytes> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| GitHubError::InvalidInput(format!("cannot serialise body for {route}: {e}")))
}

/// Result of [`Client::get_json_if_changed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional<T> {
    /// GitHub answered 304: what the caller holds for this ETag is current.
    NotModified,
    /// A fresh answer, with the ETag to send next time.
    Modified {
        /// The decoded body.
        value: T,
        /// GitHub's `ETag`, when it sent one.
        etag: Option<String>,
    },
}

/// GitHub access as one installation, or as a plain token (CLI, Action). Cheap to clone;
/// clones share the token cache, connection pool and stats.
#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
    auth: Auth,
    /// Set by [`Client::with_identity`]; otherwise derived from the auth.
    identity: Option<BotIdentity>,
    /// Asked for a slot before each write of an installation client.
    pacer: Option<Arc<dyn WritePacer>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = match &self.auth {
            Auth::Token(_) => "token".to_string(),
            Auth::App(app) => format!("app {}", app.creds.app_id),
            Auth::Installation { id, .. } => format!("installation {id}"),
        };
        f.debug_struct("Client")
            .field("api_base", &self.transport.api_base)
            .field("auth", &who)
            .finish()
    }
}

impl Client {
    pub(crate) fn new(transport: Arc<Transport>, auth: Auth) -> Self {
        Self {
            transport,
            auth,
            identity: None,
            pacer: None,
        }
    }

    /// Every write of this client first asks `pacer` for a slot (see
    /// [`crate::pacing`]): an installation client's per installation, a
    /// token client's (CLI, Action: [`crate::pacing::LocalPacer`]) as one.
    pub fn with_pacer(mut self, pacer: Option<Arc<dyn WritePacer>>) -> Self {
        self.pacer = pacer;
        self
    }

    /// This client posts as `identity` (e.g. the Action's `github-actions[bot]`):
    /// lookups of the bot's own comments and check runs trust only it.
    pub fn with_identity(mut self, identity: BotIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Who this client posts as, for finding the bot's own comments and
    /// check runs: the identity set with [`Client::with_identity`]; for an
    /// App installation `{slug}[bot]` (the slug is read with `GET /app` once
    /// per App and cached); for a plain token, any bot.
    ///
    /// Fails closed: while `GET /app` fails this is
    /// [`GitHubError::IdentityUnknown`] (transient, so the job is retried
    /// and asks again) instead of an identity that trusts some account's
    /// markers.
    pub async fn identity(&self) -> Result<BotIdentity> {
        if let Some(identity) = &self.identity {
            return Ok(identity.clone());
        }
        match &self.auth {
            Auth::Installation { app, .. } => {
                let slug = crate::app::slug_of(app).await?;
                Ok(BotIdentity::login(format!("{slug}[bot]")))
            }
            _ => Ok(BotIdentity::any_bot()),
        }
    }

    /// A client authenticated with a personal or Actions token (`GITHUB_TOKEN`).
    /// Must be called inside a Tokio runtime.
    pub fn from_token(api_base: &str, token: impl Into<String>) -> Result<Self> {
        Self::from_token_with_options(api_base, token, ClientOptions::default())
    }

    /// [`Client::from_token`] with explicit timeouts, retries and pacing.
    pub fn from_token_with_options(
        api_base: &str,
        token: impl Into<String>,
        options: ClientOptions,
    ) -> Result<Self> {
        let transport = Arc::new(Transport::new(api_base, options)?);
        Ok(Self::new(
            transport,
            Auth::Token(SecretString::from(token.into())),
        ))
    }

    /// The API base URL, without trailing slash.
    pub fn api_base(&self) -> &str {
        &self.transport.api_base
    }

    /// The installation this client acts for, if any.
    pub fn installation_id(&self) -> Option<u64> {
        match &self.auth {
            Auth::Installation { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The request counters this client adds to.
    pub fn stats(&self) -> Arc<ApiStats> {
        self.transport.stats.clone()
    }

    /// An octocrab handle for typed calls, authenticated with a currently valid token.
    /// Ask again for later calls: the handle keeps its token, and its calls bypass
    /// paydown's retry policy (prefer the helpers below for anything that may be throttled).
    pub async fn octocrab(&self) -> Result<Octocrab> {
        let bearer = self.auth.bearer().await?;
        self.transport
            .crab
            .user_access_token(bearer.secret)
            .map_err(|e| GitHubError::Transport {
                route: String::new(),
                reason: error_chain(&e),
            })
    }

    async fn call(
        &self,
        method: Method,
        route: &str,
        body: Option<Bytes>,
        accept: &str,
    ) -> Result<Response> {
        let idempotent = method != Method::POST;
        self.call_as(method, route, body, accept, idempotent).await
    }

    async fn call_as(
        &self,
        method: Method,
        route: &str,
        body: Option<Bytes>,
        accept: &str,
        idempotent: bool,
    ) -> Result<Response> {
        if let Some(pacer) = &self.pacer
            && crate::pacing::is_paced_write(&method, route)
        {
            pacer
                .before_write(Write {
                    // A token client (CLI, Action) paces its one token as 0.
                    installation: self.installation_id().unwrap_or(0),
                    method: &method,
                    route,
                    creates_content: crate::pacing::creates_content(&method, route),
                })
                .await?;
        }
        let req = Request {
            idempotent,
            method,
            route,
            body,
            accept,
            if_none_match: None,
            download: false,
        };
        self.transport.run(&req, &self.auth).await
    }

    /// `GET route`, decoded as `T` (retried per the client's policy).
    pub async fn get_json<T: DeserializeOwned>(&self, route: &str) -> Result<T> {
        let resp = self.call(Method::GET, route, None, JSON).await?;
        decode(route, &resp.body)
    }

    /// A conditional GET: with the `etag` of an earlier answer, an unchanged resource comes
    /// back as [`Conditional::NotModified`] (GitHub does not charge those to the rate limit).
    pub async fn get_json_if_changed<T: DeserializeOwned>(
        &self,
        route: &str,
        etag: Option<&str>,
    ) -> Result<Conditional<T>> {
        let req = Request {
            method: Method::GET,
            route,
            body: None,
            accept: JSON,
            idempotent: true,
            if_none_match: etag,
            download: false,
        };
        let resp = self.transport.run(&req, &self.auth).await?;
        if resp.status == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified);
        }
        let etag = resp
            .headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Conditional::Modified {
            value: decode(route, &resp.body)?,
            etag,
        })
    }

    /// `POST route` with `body` as JSON, the answer decoded as `T`.
    pub async fn post_json<B, T>(&self, route: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let resp = self
            .call(Method::POST, route, Some(encode(route, body)?), JSON)
            .await?;
        decode(route, &resp.body)
    }

    /// A POST that is safe to repeat (a GraphQL query, adding labels or
    /// assignees that are then simply there): retried like a PATCH.
    pub async fn post_idempotent_json<B, T>(&self, route: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let resp = self
            .call_as(Method::POST, route, Some(encode(route, body)?), JSON, true)
            .await?;
        decode(route, &resp.body)
    }

    /// A POST that creates something (an issue, a comment, a check run, a
    /// reaction), never repeated blindly. When an attempt fails in a way
    /// that may have applied it ([`GitHubError::maybe_applied`]: a 5xx, a
    /// timeout, a reset), `find` looks for what it wrote (the bot's marker
    /// in recent issues, its comment, the check run on the head sha): what
    /// it finds is adopted, and only when it finds nothing is the create
    /// sent again. A lookup that fails itself ends the call with the
    /// create's error, so the caller's retry plans again from GitHub.
    pub async fn create_json<B, T, F, Fut>(&self, route: &str, body: &B, find: F) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        let body = encode(route, body)?;
        let limits = self.transport.options.limits();
        let mut number = 0u32;
        loop {
            number += 1;
            let error = match self
                .call_as(Method::POST, route, Some(body.clone()), JSON, false)
                .await
            {
                Ok(resp) => return decode(route, &resp.body),
                Err(e) if e.maybe_applied() && number < limits.max_attempts => e,
                Err(e) => return Err(e),
            };
            self.transport.stats.retried();
            // GitHub's listings lag its writes a little: wait as a retry
            // would before looking.
            let wait = retry::backoff(number, &limits, retry::jitter());
            tracing::warn!(
                route,
                attempt = number,
                wait_ms = wait.as_millis() as u64,
                %error,
                "a create may have been applied; looking for it before writing again"
            );
            tokio::time::sleep(wait).await;
            match find().await {
                Ok(Some(found)) => {
                    tracing::info!(route, "adopted what the failed create had written");
                    return Ok(found);
                }
                Ok(None) => {}
                Err(lookup) => {
                    tracing::warn!(route, %lookup, "cannot tell whether the create was applied");
                    return Err(error);
                }
            }
        }
    }

    /// `PATCH route` with `body` as JSON, the answer decoded as `T`.
    pub async fn patch_json<B, T>(&self, route: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let resp = self
            .call(Method::PATCH, route, Some(encode(route, body)?), JSON)
            .await?;
        decode(route, &resp.body)
    }

    /// `PUT route` with `body` as JSON, the answer decoded as `T`.
    pub async fn put_json<B, T>(&self, route: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let resp = self
            .call(Method::PUT, route, Some(encode(route, body)?), JSON)
            .await?;
        decode(route, &resp.body)
    }

    /// `DELETE route`; the answer's body is ignored.
    pub async fn delete(&self, route: &str) -> Result<()> {
        self.call(Method::DELETE, route, None, JSON).await?;
        Ok(())
    }

    /// Raw bytes (tarballs, `application/vnd.github.raw` contents), following redirects;
    /// the token is not forwarded to other hosts (e.g. codeload).
    pub async fn get_bytes(&self, route: &str, accept: &str) -> Result<Bytes> {
        let req = Request::download(route, accept);
        Ok(self.transport.run(&req, &self.auth).await?.body)
    }

    /// A body read as it arrives (tarballs), following redirects like
    /// [`Client::get_bytes`]: the request is retried under the usual policy
    /// until GitHub answers with a success, whose body is then streamed, at
    /// most [`crate::CHUNKS_IN_FLIGHT`] chunks ahead of the reader, instead
    /// of held whole in memory. Waits for the body are bounded by
    /// `timeout` per chunk and `download_timeout` in all; a failure there
    /// (no retry: the reader has seen part of the body) is an
    /// [`std::io::Error`] wrapping a [`GitHubError`]. Read the result on a
    /// blocking thread (`spawn_blocking`).
    pub async fn get_stream(&self, route: &str, accept: &str) -> Result<BodyReader> {
        let req = Request::download(route, accept);
        let resp = self
            .transport
            .run_with(&req, &self.auth, BodyMode::Stream)
            .await?;
        let content_length = resp
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        // Only a success has a stream, and the retry loop returns no other
        // answer here; were it to, an empty tarball would be a lie.
        let Some(body) = resp.stream else {
            return Err(GitHubError::Decode {
                route: route.to_string(),
                error: "the answer has no body to stream".to_string(),
            });
        };
        let options = &self.transport.options;
        Ok(BodyReader::spawn(
            route,
            body,
            content_length,
            BodyTimeouts {
                idle: options.timeout,
                total: options.download_timeout,
            },
        ))
    }

    /// The raw bytes of `path` at commit (or ref) `sha`; `None` when it has
    /// no such file.
    pub async fn file_at(
        &self,
        repo: &crate::Repo,
        path: &str,
        sha: &str,
    ) -> Result<Option<Bytes>> {
        match self
            .get_bytes(&repo.contents(path, sha), "application/vnd.github.raw")
            .await
        {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pagination::{next_link, with_per_page};
    use super::transport::{check_route, github_message};
    use super::*;
    use http::HeaderMap;

    fn link(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::LINK, v.parse().unwrap());
        h
    }

    #[test]
    fn next_link_is_found_among_other_relations() {
        let h = link(
            r#"<https://api.github.com/repositories/1/issues?labels=a,b&page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#,
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/issues?labels=a,b&page=2")
        );
        let h = link(r#"<https://x/a?page=1>; rel="prev", <https://x/a?page=3>; rel="next""#);
        assert_eq!(next_link(&h).as_deref(), Some("https://x/a?page=3"));
        let last_page =
            link(r#"<https://x/a?page=1>; rel="first", <https://x/a?page=2>; rel="prev""#);
        assert_eq!(next_link(&last_page), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn per_page_is_added_once() {
        assert_eq!(with_per_page("/r/issues"), "/r/issues?per_page=100");
        assert_eq!(
            with_per_page("/r/issues?state=all"),
            "/r/issues?state=all&per_page=100"
        );
        assert_eq!(
            with_per_page("/r/issues?per_page=5"),
            "/r/issues?per_page=5"
        );
    }

    #[test]
    fn routes_must_stay_below_the_api_base() {
        assert!(check_route("/repos/a/b/issues?state=all").is_ok());
        for bad in [
            "https://api.github.com/repos/a/b",
            "//evil.example/x",
            "repos/a/b",
            "",
        ] {
            assert!(matches!(
                check_route(bad),
                Err(GitHubError::InvalidInput(_))
            ));
        }
    }

    #[test]
    fn api_base_prefers_paydown_then_actions_then_public_github() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(api_base_from(env(&[])), "https://api.github.com");
        assert_eq!(
            api_base_from(env(&[("GITHUB_API_URL", "https://ghe.example/api/v3")])),
            "https://ghe.example/api/v3"
        );
        assert_eq!(
            api_base_from(env(&[
                ("GITHUB_API_URL", "https://ghe.example/api/v3"),
                ("PAYDOWN_GITHUB_API_URL", "http://127.0.0.1:9")
            ])),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            api_base_from(env(&[("PAYDOWN_GITHUB_API_URL", " ")])),
            "https://api.github.com"
        );
    }

    #[test]
    fn error_messages_prefer_github_message_and_are_bounded() {
        let m = github_message(
            br#"{"message":"Validation Failed","errors":[{"code":"missing_field"}]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert!(m.starts_with("Validation Failed"), "{m}");
        assert!(m.contains("missing_field"));
        assert_eq!(github_message(b"", StatusCode::NOT_FOUND), "Not Found");
        let long = "é".repeat(400);
        assert!(github_message(long.as_bytes(), StatusCode::BAD_GATEWAY).len() <= 504);
    }

    #[test]
    fn empty_bodies_decode_as_unit_or_none() {
        decode::<()>("/x", b"").unwrap();
        assert_eq!(decode::<Option<u8>>("/x", b" ").unwrap(), None);
        assert!(matches!(
            decode::<Vec<u8>>("/x", b"{"),
            Err(GitHubError::Decode { .. })
        ));
    }

    #[test]
    fn jitter_stays_in_unit_interval() {
        for _ in 0..100 {
            let j = retry::jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
