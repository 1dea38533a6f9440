//! Sprint budgets against GitHub (docs/budgets.md): pull request records read from
//! the API, the drift comment and check run on a pull request, and the
//! overrides and accepted drifts that slash commands record. The arithmetic
//! and rendering live in `paydown_ledger`; this crate does the I/O around it.
//!
//! - [`records`]: the `<!-- paydown:record … -->` markers slash commands
//!   leave in the bot's replies (pure);
//! - [`fetch`]: ledger inputs from the API alone (`paydown report`, the
//!   server's first look at a repository);
//! - [`drift`]: the sticky drift comment and the `paydown / budget` check
//!   run on one PR, and re-checking after a slash command;
//! - [`dashboard`]: the dashboard's sprint-budget and accepted-drift sections;
//! - [`mod@report`]: `paydown report`'s ledger from the API alone.

pub mod dashboard;
pub mod drift;
pub mod fetch;
pub mod records;
pub mod report;

pub use dashboard::{BudgetSections, render_sections};
pub use drift::{
    CHECK_NAME, DriftOutcome, apply_record, check_drift, status_reply, status_text, write_drift,
};
pub use fetch::{
    CommentFacts, PullRequestInfo, apply_hot_boost, fetch_calendar, fetch_comment_facts,
    fetch_hot_items, fetch_ledger, fetch_pr_record, fetch_pull_request, fetch_records,
    window_start,
};
pub use records::{
    RECORD_MARKER_PREFIX, Record, RecordKind, apply_records, parse_records, record_marker,
};
pub use report::{ReportFormat, report, report_now};

/// Why reading or writing budgets failed.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// A GitHub request failed (after the client's retries).
    #[error(transparent)]
    GitHub(#[from] paydown_github::GitHubError),
    /// The ledger refused the config's sprint settings.
    #[error(transparent)]
    Ledger(#[from] paydown_ledger::LedgerError),
    /// Paging back to the window's start would take too many requests.
    #[error("more than {0} pages of closed pull requests before the window's start")]
    TooManyPulls(u32),
}
