//! Why a flow failed, with its cause kept for the surface to report or
//! retry on.

use paydown_github::GitHubError;

/// Why a use case failed. The surfaces decide what a failure means for
/// them (the App's queue retries a transient one; the Action fails the
/// step), so the cause is kept, not flattened to text.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A GitHub request failed (after the client's retries).
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// The sync failed as a whole.
    #[error(transparent)]
    Sync(#[from] paydown_sync::SyncError),
    /// Budgets could not be read or checked (a failed request, sprint
    /// settings the ledger refuses, too much history).
    #[error(transparent)]
    Budget(paydown_budgets::BudgetError),
    /// Slash commands could not run.
    #[error(transparent)]
    Commands(#[from] paydown_commands::RunError),
    /// The App's state store failed.
    #[error("repository state: {0}")]
    State(#[source] crate::state::StateError),
    /// A cached ledger record could not be read back or written.
    #[error("ledger cache: {0}")]
    Cache(#[from] serde_json::Error),
}

impl From<paydown_budgets::BudgetError> for AppError {
    /// A GitHub failure stays one, so the surfaces see a rate limit or a
    /// missing permission as such whichever crate met it.
    fn from(e: paydown_budgets::BudgetError) -> Self {
        match e {
            paydown_budgets::BudgetError::GitHub(e) => AppError::GitHub(e),
            other => AppError::Budget(other),
        }
    }
}

impl From<paydown_ledger::LedgerError> for AppError {
    fn from(e: paydown_ledger::LedgerError) -> Self {
        AppError::Budget(e.into())
    }
}

impl AppError {
    /// The GitHub error underneath, if the failure is one.
    pub fn github(&self) -> Option<&GitHubError> {
        match self {
            AppError::GitHub(e) | AppError::Sync(paydown_sync::SyncError::GitHub(e)) => Some(e),
            AppError::Commands(paydown_commands::RunError::GitHub(e)) => Some(e),
            _ => None,
        }
    }
}
