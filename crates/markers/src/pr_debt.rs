//! The sticky debt report comment on a pull request: its first line is
//! `<!-- paydown:pr-debt {"added":A,"removed":R,"edited":E} -->`, which lets
//! budgets read what a PR paid down from GitHub alone and lets the review
//! find its own comment to edit.

use serde::{Deserialize, Serialize};

use crate::CLOSE;

/// Start of the marker; the JSON counts follow, then ` -->`.
pub const PREFIX: &str = "<!-- paydown:pr-debt ";

/// The numbers carried by the sticky comment's hidden marker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaCounts {
    /// Debt items the PR introduces.
    pub added: u32,
    /// Debt items the PR deletes.
    pub removed: u32,
    /// Debt items present on both sides whose keyword, text or metadata the
    /// PR changed.
    pub edited: u32,
}

impl DeltaCounts {
    /// Removed plus edited: the debt items the PR paid down.
    pub fn paid(&self) -> u32 {
        self.removed.saturating_add(self.edited)
    }
}

/// The marker line for `counts`.
pub fn render(counts: DeltaCounts) -> String {
    // Three numbers: serialising cannot fail, and no markup can appear.
    let json = serde_json::to_string(&counts).unwrap_or_else(|_| "{}".to_string());
    format!("{PREFIX}{json}{CLOSE}")
}

/// The counts in a sticky comment's marker, `None` when `body` carries no
/// readable marker.
pub fn parse(body: &str) -> Option<DeltaCounts> {
    // Only a marker starting a line counts (the bot writes it first, on its
    // own line), so a forgery echoed mid-line in another comment is not read.
    let rest = body
        .lines()
        .find_map(|line| line.trim_start().strip_prefix(PREFIX))?;
    let end = rest.find(CLOSE)?;
    serde_json::from_str(rest[..end].trim()).ok()
}

/// Whether `body` is the sticky report comment: its marker starts a line, as
/// the bot writes it, rather than sitting inside another comment's text.
pub fn is_report_comment(body: &str) -> bool {
    body.lines()
        .any(|line| line.trim_start().starts_with(PREFIX))
}
