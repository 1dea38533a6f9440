//! paydown-server: `paydown serve`, the GitHub App webhook server. Signed
//! deliveries are verified, queued durably in the store and processed by
//! background workers; `/healthz` and `/metrics` expose its state.

/// The typed webhook events, from the pure `paydown-events` crate.
pub use paydown_events as events;
pub mod handlers;
pub mod http;
pub mod incident_endpoints;
pub mod intake;
pub mod metrics;
pub mod pacing;
pub mod periodic;
pub mod recovery;
pub mod retention;
pub mod router;
pub mod safety_sync;
mod server;
pub mod settings;
pub mod signature;
pub mod store;
pub mod worker;

pub use server::{ServeError, Server, ServerOptions, periodic_jobs, serve};
pub use settings::{ServeArgs, Settings};
