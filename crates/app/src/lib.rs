//! paydown's use cases: each flow is written once here, and the three
//! surfaces only translate their input and call it.
//!
//! - the GitHub App's handlers (`paydown-server`, `handlers/*.rs`), which
//!   keep the ledger's inputs in their store ([`CachedRecords`]);
//! - `paydown action` (`src/action.rs`), which reads everything from the API
//!   ([`ApiRecords`]) and turns outcomes into a job summary and outputs;
//! - the CLI (`src/cli.rs`), like the Action without an event.
//!
//! The flows:
//! - [`sync_with_dashboard`]: the dashboard's sprint-budget sections and the
//!   reconcile of the debt issues (push, schedule, `paydown sync`, a sync
//!   job, the sync after a merge);
//! - [`on_pull_request`]: the debt review, then the pull request's ledger
//!   record and the drift check (and, after a merge, the re-check of the
//!   pull requests left drifting);
//! - [`on_comment`]: slash commands, and what they ask of the other flows;
//! - [`incident_issue`]: whether an `issues` event changes the incidents a
//!   sync counts.
//!
//! Decisions stay in the pure crates (`paydown_reconcile`, `paydown_ledger`,
//! …) and GitHub I/O in `paydown_github`'s client; this layer sequences
//! them. docs/design.md walks a webhook from the router to here.

mod comment;
mod error;
mod incidents;
mod pull_request;
mod records;
pub mod state;
mod sync;

pub use comment::{CommentOutcome, on_comment};
pub use error::AppError;
pub use incidents::{IncidentIssue, incident_issue};
pub use pull_request::{PullRequestInput, PullRequestOutcome, on_pull_request};
pub use records::{ApiRecords, CachedRecords, Freshness, LedgerRecords};
pub use sync::{DashboardInput, budget_sections, sync_with_dashboard};
