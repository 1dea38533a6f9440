//! The dashboard's budget sections: the sprint table with its Mermaid chart
//! and the accepted drifts, rendered by `paydown_ledger` from a ledger.

use chrono::{DateTime, Utc};
use paydown_ledger::{Ledger, accepted_drifts_section, dashboard_section};

/// The two budget sections of the dashboard (Markdown bodies; the
/// dashboard adds the headings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetSections {
    /// The sprint table (recent sprints' debt share against the reserved one)
    /// with its Mermaid chart.
    pub sprint_budget: String,
    /// `None` when no drift was accepted in the recent sprints.
    pub accepted_drifts: Option<String>,
}

/// Renders the sections from a ledger (pure).
pub fn render_sections(ledger: &Ledger, now: DateTime<Utc>) -> BudgetSections {
    BudgetSections {
        sprint_budget: dashboard_section(ledger, now),
        accepted_drifts: accepted_drifts_section(ledger, now),
    }
}
