//! paydown-server: `paydown serve`, the GitHub App webhook server. Signed
//! deliveries are verified, queued durably in the store and processed by
//! background workers; `/healthz` and `/metrics` expose its state.

pub mod events;
pub mod handlers;
pub mod http;
pub mod incident_endpoints;
pub mod intake;
pub mod metrics;
pub mod pacing;
pub mod periodic;
pub mod retention;
pub mod router;
mod server;
pub mod settings;
pub mod signature;
pub mod store;
pub mod worker;

pub use server::{ServeError, Server, ServerOptions, serve};
pub use settings::{ServeArgs, Settings};
