//! The per-repository dashboard issue: the body rendered by
//! `paydown_reconcile::dashboard` from this run's scan, plan and issue
//! history, written only when it differs from the live body, never
//! reopened once a maintainer has closed it.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use paydown_annotations::Annotation;
use paydown_config::Config;
use paydown_github::{Client, GitHubError, Repo};
use paydown_reconcile::dashboard::{DashboardInput, DashboardItem, PaidDownItem, render_dashboard};
use paydown_reconcile::{Effect, ExistingIssue, IssueState, Plan};
use serde::Serialize;
use serde_json::{Value, json};

use crate::TRACKING_LABEL;
use crate::apply::ApplyReport;
use crate::fetch::{DashboardIssue, IssueDates};

/// Weekly points in the open-debt chart.
const CHART_WEEKS: i64 = 12;
const RECENT_DAYS: u32 = 30;
const TOP_ITEMS: usize = 25;

/// What happened to the dashboard issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum DashboardWrite {
    /// A new dashboard issue was opened.
    Created {
        /// The dashboard issue's number.
        number: u64,
    },
    /// The body changed and was rewritten.
    Updated {
        /// The dashboard issue's number.
        number: u64,
    },
    /// The body was already up to date: no write.
    Unchanged {
        /// The dashboard issue's number.
        number: u64,
    },
    /// A maintainer closed it: it stays closed and is not rewritten.
    LeftClosed {
        /// The dashboard issue's number.
        number: u64,
    },
    /// `dashboard: false` in the config.
    Disabled,
    /// GitHub refused the token a permission it needs (a workflow token
    /// without `issues: write`): no retry changes that, so the effects
    /// already applied are still reported. `accepted` is GitHub's
    /// `X-Accepted-GitHub-Permissions` (`issues=write`).
    Refused {
        /// GitHub's message.
        message: String,
        /// The permissions GitHub said the request needs.
        accepted: String,
    },
    /// A dry run: what would happen.
    WouldCreate,
    /// A dry run: the existing dashboard would be rewritten.
    WouldUpdate {
        /// The dashboard issue's number.
        number: u64,
    },
}

/// Everything one sync knows that the dashboard shows.
pub struct DashboardContext<'a> {
    /// The configuration in force.
    pub config: &'a Config,
    /// Problems in `.github/paydown.yml`, listed at the top.
    pub config_errors: &'a [String],
    /// Every annotation found in the scan.
    pub annotations: &'a [Annotation],
    /// The debt issues as fetched, before this run's plan.
    pub issues: &'a [ExistingIssue],
    /// Open and close dates of the debt issues, for the trend.
    pub dates: &'a [IssueDates],
    /// This run's plan.
    pub plan: &'a Plan,
    /// What applying the plan did; `None` for a dry run.
    pub applied: Option<&'a ApplyReport>,
    /// The day the dashboard is rendered for (ages, due dates).
    pub today: NaiveDate,
    /// Sections other features render (budgets, incidents).
    pub sections: &'a DashboardSections,
    /// Each item's impact when incidents are read (`SyncOptions::incidents`).
    pub impact: Option<&'a BTreeMap<String, paydown_reconcile::Impact>>,
}

/// Dashboard sections other features render (Markdown), passed in by the
/// caller: sync itself knows nothing of sprints or incidents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardSections {
    /// The sprint budget table and chart (`paydown_budgets`).
    pub sprint_budget: Option<String>,
    /// Accepted drifts (`/debt accept-drift`).
    pub accepted_drifts: Option<String>,
    /// Items with an incident spike.
    pub hot_items: Option<String>,
    /// When a paced import's next batch is expected (the App's write
    /// pacing); shown while some items have no issue yet.
    pub import_next_batch: Option<chrono::DateTime<chrono::Utc>>,
}

impl DashboardSections {
    /// The sprint budget sections (`paydown_budgets::BudgetSections`'
    /// fields), the others empty. Budgets and sync do not depend on each
    /// other; the surfaces that call both join them here.
    pub fn budget(sprint_budget: String, accepted_drifts: Option<String>) -> Self {
        Self {
            sprint_budget: Some(sprint_budget),
            accepted_drifts,
            ..Self::default()
        }
    }
}

/// The dashboard body after this run's plan is applied.
pub fn desired_body(ctx: &DashboardContext<'_>) -> String {
    let numbers = issue_numbers(ctx);
    let first_seen: BTreeMap<&str, NaiveDate> = ctx
        .issues
        .iter()
        .filter_map(|i| {
            let marker = i.marker.as_ref()?;
            Some((marker.id.as_str(), marker.meta.as_ref()?.first_seen))
        })
        .collect();
    let items: Vec<DashboardItem> = ctx
        .annotations
        .iter()
        .map(|a| {
            let seen = first_seen.get(a.id.as_str()).copied().unwrap_or(ctx.today);
            DashboardItem::from_annotation(a, numbers.get(a.id.as_str()).copied(), seen, None)
        })
        .collect();
    let paid = paid_down(ctx);
    let open_now = items.iter().filter(|i| i.number.is_some()).count();
    let history = open_over_time(ctx.dates, ctx.today, open_now);
    let hot = ctx
        .impact
        .map(|impact| paydown_reconcile::impact::hot_reasons(impact, ctx.issues, ctx.config));
    render_dashboard(&DashboardInput {
        config: ctx.config,
        today: ctx.today,
        open_items: &items,
        paid_down: &paid,
        recent_days: RECENT_DAYS,
        top_n: TOP_ITEMS,
        config_errors: ctx.config_errors,
        open_over_time: &history,
        sprint_budget: ctx.sections.sprint_budget.as_deref(),
        hot_items: ctx.sections.hot_items.as_deref(),
        accepted_drifts: ctx.sections.accepted_drifts.as_deref(),
        import_next_batch: ctx.sections.import_next_batch,
        impact: ctx.impact,
        hot: hot.as_ref(),
    })
}

/// Item id → issue number, as things stand after the plan is applied.
fn issue_numbers<'a>(ctx: &'a DashboardContext<'_>) -> BTreeMap<&'a str, u64> {
    let mut numbers: BTreeMap<&str, u64> = ctx
        .issues
        .iter()
        .filter(|i| i.state == IssueState::Open)
        .filter_map(|i| Some((i.marker.as_ref()?.id.as_str(), i.number)))
        .collect();
    for effect in &ctx.plan.effects {
        match effect {
            Effect::Update { number, id, .. } | Effect::Reopen { number, id, .. } => {
                numbers.insert(id, *number);
            }
            _ => {}
        }
    }
    if let Some(applied) = ctx.applied {
        for created in &applied.created {
            numbers.insert(&created.id, created.number);
        }
    }
    numbers
}

fn paid_down(ctx: &DashboardContext<'_>) -> Vec<PaidDownItem> {
    let closed_now: Vec<u64> = ctx
        .plan
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Close { number, .. } => Some(*number),
            _ => None,
        })
        .collect();
    let closed_by_bot: Vec<u64> = ctx
        .issues
        .iter()
        .filter(|i| i.state == IssueState::Closed && i.closed_by_bot == Some(true))
        .map(|i| i.number)
        .collect();
    ctx.dates
        .iter()
        .filter_map(|d| {
            let closed_on = if closed_now.contains(&d.number) {
                ctx.today
            } else if closed_by_bot.contains(&d.number) {
                d.closed?
            } else {
                return None;
            };
            Some(PaidDownItem {
                number: d.number,
                title: d.title.clone(),
                closed_on,
                pull_request: None,
            })
        })
        .collect()
}

/// Open debt issues at weekly points up to `today`, from when each issue
/// was opened and closed; the last point is `open_now`, the state this
/// run leaves. Rebuilt from GitHub alone, so no history store is needed.
pub fn open_over_time(
    dates: &[IssueDates],
    today: NaiveDate,
    open_now: usize,
) -> Vec<(NaiveDate, usize)> {
    let mut series: Vec<(NaiveDate, usize)> = (1..CHART_WEEKS)
        .rev()
        .map(|weeks| {
            let day = today - Duration::weeks(weeks);
            let open = dates
                .iter()
                .filter(|d| d.created <= day && d.closed.is_none_or(|c| c > day))
                .count();
            (day, open)
        })
        .skip_while(|&(_, open)| open == 0)
        .collect();
    series.push((today, open_now));
    series
}

/// Creates or updates the dashboard issue when its body should change.
pub async fn write_dashboard(
    client: &Client,
    repo: &Repo,
    config: &Config,
    existing: Option<&DashboardIssue>,
    body: &str,
    dry_run: bool,
) -> Result<DashboardWrite, GitHubError> {
    if !config.dashboard.enabled {
        return Ok(DashboardWrite::Disabled);
    }
    match existing {
        Some(d) if !d.open => Ok(DashboardWrite::LeftClosed { number: d.number }),
        Some(d) if d.body == body => Ok(DashboardWrite::Unchanged { number: d.number }),
        Some(d) if dry_run => Ok(DashboardWrite::WouldUpdate { number: d.number }),
        Some(d) => {
            let edit = paydown_github::IssueEdit {
                body: Some(body.to_string()),
                ..Default::default()
            };
            client.edit_issue(repo, d.number, &edit).await?;
            Ok(DashboardWrite::Updated { number: d.number })
        }
        None if dry_run => Ok(DashboardWrite::WouldCreate),
        None => {
            let request = json!({
                "title": config.dashboard.title,
                "body": body,
                "labels": [TRACKING_LABEL],
            });
            let created = crate::apply::create_issue_node(
                client,
                repo,
                &request,
                paydown_markers::dashboard::MARKER,
            )
            .await?;
            match &created.node_id {
                Some(node_id) => {
                    if let Err(error) = pin_issue(client, node_id).await {
                        // Pinning is a convenience: the dashboard works unpinned.
                        tracing::warn!(repo = %repo, number = created.number, %error, "cannot pin the dashboard issue");
                    }
                }
                None => {
                    tracing::warn!(repo = %repo, number = created.number, "no node id; dashboard not pinned")
                }
            }
            Ok(DashboardWrite::Created {
                number: created.number,
            })
        }
    }
}

/// Why pinning failed.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// Talking to GitHub failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// GitHub answered, but did not pin the issue.
    #[error("GitHub refused to pin: {0}")]
    Refused(String),
}

/// Pins an issue to the repository's issue list. REST has no pin API, so
/// this is GraphQL's `pinIssue`; GitHub allows three pinned issues per
/// repository and refuses a fourth, which callers log and carry on from.
pub async fn pin_issue(client: &Client, node_id: &str) -> Result<(), PinError> {
    let request = json!({
        "query": "mutation($id: ID!) { pinIssue(input: {issueId: $id}) { issue { number } } }",
        "variables": {"id": node_id},
    });
    // Pinning a pinned issue changes nothing: safe to repeat.
    let answer: Value = client.post_idempotent_json("/graphql", &request).await?;
    match answer.get("errors").and_then(Value::as_array) {
        Some(errors) if !errors.is_empty() => Err(PinError::Refused(
            errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("; "),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dates(number: u64, created: &str, closed: Option<&str>) -> IssueDates {
        IssueDates {
            number,
            title: format!("#{number}"),
            created: day(created),
            closed: closed.map(day),
        }
    }

    #[test]
    fn the_chart_counts_issues_open_at_each_week_and_ends_with_now() {
        // Given one issue opened 10 weeks ago and closed 3 weeks ago, and
        // one opened 5 weeks ago and still open,
        let today = day("2026-11-23");
        let history = [
            dates(1, "2026-09-14", Some("2026-11-02")),
            dates(2, "2026-10-19", None),
        ];
        // when the series is computed with 2 open now,
        let series = open_over_time(&history, today, 2);
        // then it starts at the first week with debt, and ends today.
        assert_eq!(series.first(), Some(&(day("2026-09-14"), 1)));
        assert!(series.contains(&(day("2026-10-26"), 2)));
        assert!(series.contains(&(day("2026-11-09"), 1)));
        assert_eq!(series.last(), Some(&(today, 2)));
    }

    #[test]
    fn an_empty_history_is_just_today() {
        assert_eq!(
            open_over_time(&[], day("2026-11-23"), 0),
            [(day("2026-11-23"), 0)]
        );
    }
}
