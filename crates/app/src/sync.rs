//! The sync-with-dashboard flow: the dashboard's sprint-budget sections,
//! then the reconcile of the repository's debt issues (`paydown_sync`),
//! which writes them into the dashboard.

use chrono::Utc;
use paydown_config::Config;
use paydown_github::{Client, Repo};
use paydown_ledger::{DASHBOARD_SPRINTS, Ledger};
use paydown_sync::{DashboardSections, PushSync, SyncOptions, SyncState};

use crate::{AppError, Freshness, LedgerRecords};

/// What the dashboard's budget sections are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct DashboardInput<'a> {
    /// The budget rules (`sprints`, `drift`) in force.
    pub config: &'a Config,
    /// Whether the ledger's records may be taken as kept.
    pub freshness: Freshness,
}

/// The dashboard's sprint-budget and accepted-drift sections, with the
/// incidents per sprint when `incident_starts` is given. Records merged
/// before the dashboard's sprints are dropped from a cache, so it stays
/// bounded.
pub async fn budget_sections<R: LedgerRecords>(
    client: &Client,
    repo: &Repo,
    dashboard: DashboardInput<'_>,
    records: &R,
    incident_starts: Option<&[chrono::DateTime<Utc>]>,
) -> Result<DashboardSections, AppError> {
    let DashboardInput { config, freshness } = dashboard;
    let now = Utc::now();
    let records_now = records.records(client, repo, config, freshness).await?;
    let calendar = paydown_budgets::fetch_calendar(client, repo, config).await?;
    let sprints = u32::try_from(DASHBOARD_SPRINTS).unwrap_or(u32::MAX);
    if let Some(start) = paydown_budgets::window_start(&calendar, sprints, now) {
        records.prune_merged_before(&records_now, start).await?;
    }
    let mut ledger = Ledger::build(config, calendar, &records_now)?;
    // Hot items raise the current reservation (`sprints.hot_share_boost`),
    // and the sprint chart shows the incidents per sprint.
    paydown_budgets::apply_hot_boost(client, repo, config, &mut ledger, now).await?;
    if let Some(starts) = incident_starts {
        ledger.set_incidents(starts.iter().copied());
    }
    let sections = paydown_budgets::render_sections(&ledger, now);
    Ok(DashboardSections::budget(
        sections.sprint_budget,
        sections.accepted_drifts,
    ))
}

/// Reconciles `repo`'s debt issues and dashboard: the budget sections from
/// `records` (with the incidents of `options.incidents` per sprint), then
/// `paydown_sync::sync_push` from `previous` (the App's kept state; `None`
/// for a full sync) and the push's `before` commit.
///
/// `options` carries what the surface decided (head, config or last valid
/// config, dry run, incidents, the paced import's next batch); its budget
/// sections are filled here.
pub async fn sync_with_dashboard<R: LedgerRecords>(
    client: &Client,
    repo: &Repo,
    dashboard: DashboardInput<'_>,
    records: &R,
    mut options: SyncOptions,
    previous: Option<SyncState>,
    before: Option<&str>,
) -> Result<PushSync, AppError> {
    let starts: Option<Vec<_>> = options
        .incidents
        .as_ref()
        .map(|list| list.iter().map(|i| i.started_at).collect());
    let sections = budget_sections(client, repo, dashboard, records, starts.as_deref()).await?;
    options.dashboard_sections = DashboardSections {
        import_next_batch: options.dashboard_sections.import_next_batch,
        ..sections
    };
    Ok(paydown_sync::sync_push(client, repo, &options, previous, before).await?)
}
