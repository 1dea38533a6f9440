//! GitHub access for paydown: App authentication (RS256 JWT → cached installation tokens),
//! a retrying, rate-limit-aware client over octocrab, route helpers and API usage metrics.
//!
//! Entry points: [`GitHubApp`] for the server, [`Client::from_token`] for the CLI and Action,
//! [`api_base_from_env`] for the API URL.

mod app;
mod auth;
mod client;
mod error;
mod repo;
pub mod retry;
mod stats;

pub use app::GitHubApp;
pub use auth::{AppClaims, AppCredentials};
pub use client::{Client, ClientOptions, Conditional, api_base_from_env};
pub use error::{GitHubError, Result};
pub use octocrab;
pub use repo::{Repo, encode_path, encode_segment};
pub use stats::{ApiStats, ApiStatsSnapshot};
