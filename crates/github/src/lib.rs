//! GitHub access for paydown: App authentication (RS256 JWT → cached installation tokens),
//! a retrying, rate-limit-aware client over octocrab, route helpers and API usage metrics.
//!
//! Entry points: [`GitHubApp`] for the server, [`Client::from_token`] for the CLI and Action,
//! [`api_base_from_env`] for the API URL, [`Client::files_at`] for many files at one commit
//! (GraphQL, 100 per query), [`Client::get_stream`] for a large body (a tarball) read as it
//! arrives.
//!
//! ```no_run
//! # async fn demo(pem: &str) -> Result<(), paydown_github::GitHubError> {
//! use paydown_github::{AppCredentials, ClientOptions, GitHubApp, Repo, api_base_from_env};
//!
//! let app = GitHubApp::new(
//!     &api_base_from_env(),
//!     AppCredentials::from_pem(4242, pem)?,
//!     ClientOptions::default(),
//! )?;
//! let repo = Repo::parse("octo-org/octo-repo")?;
//! let installation = app.installation_for_repo(&repo.owner, &repo.name).await?;
//! let client = app.installation_client(installation).await?;
//! let open: Vec<serde_json::Value> = client.get_all(&repo.route("/issues?labels=debt")).await?;
//! # let _ = open;
//! # Ok(())
//! # }
//! ```

mod app;
mod auth;
mod blobs;
mod checks;
mod client;
mod create;
mod error;
mod issues;
pub mod models;
pub mod pacing;
mod repo;
pub mod retry;
mod stats;
mod stream;
mod upsert;

pub use app::{Access, GitHubApp, TokenScope};
pub use auth::{AppClaims, AppCredentials};
pub use blobs::{FILES_PER_QUERY, FileAt};
pub use checks::{CheckRunApp, CheckRunInfo, CheckRunOutput, latest_check_run};
pub use client::{Client, ClientOptions, Conditional, api_base_from, api_base_from_env};
pub use error::{GitHubError, Result, workflow_permissions};
pub use issues::IssueEdit;
pub use octocrab;
pub use pacing::{Clock, WritePacer};
/// Who the bot is, and so whose markers count: the markers protocol owns the rule.
pub use paydown_markers::BotIdentity;
pub use repo::{Repo, encode_path, encode_segment};
pub use stats::{ApiStats, ApiStatsSnapshot};
pub use stream::{BodyReader, CHUNKS_IN_FLIGHT};
pub use upsert::{
    ANNOTATIONS_PER_REQUEST, CheckRunSpec, StickyComment, Upsert, comparable, upsert_check_run,
    upsert_sticky_comment,
};
