//! The dashboard's budget sections: the sprint table with its Mermaid chart
//! and the accepted drifts, rendered by `paydown_ledger` from a ledger.

use chrono::{DateTime, Utc};
use paydown_config::Config;
use paydown_github::{Client, Repo};
use paydown_ledger::{
    DASHBOARD_SPRINTS, Ledger, PrRecord, accepted_drifts_section, dashboard_section,
};

use crate::BudgetError;
use crate::fetch::{fetch_calendar, fetch_records};

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

/// The sections for `repo`: from `cached` records when the caller keeps
/// them, else from the API over the dashboard's sprints (`paydown sync`
/// and the Action, which keep nothing).
pub async fn dashboard_sections(
    client: &Client,
    repo: &Repo,
    config: &Config,
    cached: Option<&[PrRecord]>,
    now: DateTime<Utc>,
) -> Result<BudgetSections, BudgetError> {
    dashboard_sections_with_incidents(client, repo, config, cached, now, None).await
}

/// [`dashboard_sections`] with the start times of the incidents the
/// repository reads, so the sprint chart shows the incidents per sprint
/// next to the ops share (the interest paid).
pub async fn dashboard_sections_with_incidents(
    client: &Client,
    repo: &Repo,
    config: &Config,
    cached: Option<&[PrRecord]>,
    now: DateTime<Utc>,
    incident_starts: Option<&[DateTime<Utc>]>,
) -> Result<BudgetSections, BudgetError> {
    let calendar = fetch_calendar(client, repo, config).await?;
    let fetched;
    let records = match cached {
        Some(records) => records,
        None => {
            let sprints = u32::try_from(DASHBOARD_SPRINTS).unwrap_or(u32::MAX);
            fetched = fetch_records(client, repo, config, sprints, now).await?;
            &fetched
        }
    };
    let mut ledger = Ledger::build(config, calendar, records)?;
    crate::fetch::apply_hot_boost(client, repo, config, &mut ledger, now).await?;
    if let Some(starts) = incident_starts {
        ledger.set_incidents(starts.iter().copied());
    }
    Ok(render_sections(&ledger, now))
}
