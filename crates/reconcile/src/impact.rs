//! The incident and priority part of a debt issue: its table rows, the
//! `debt:P1`…`P4` and `debt:hot` labels, and the one comment that opens a
//! spike episode. The numbers come from `paydown_incidents`; this module
//! only renders them, so an unchanged count renders (and writes) nothing new.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use paydown_annotations::{Annotation, CostUnit};
use paydown_config::Config;
use paydown_incidents::{
    Band, Counts, Incident, ItemLinks, ItemScoreInput, RankedItem, Score, SpikeDecision, SpikeRule,
    per_week, rank, spike,
};
use serde::{Deserialize, Serialize};

use crate::plan::PlanInput;

pub use paydown_markers::labels::HOT as HOT_LABEL;

/// Incidents listed by link in the body; the counts cover the rest.
const MAX_LINKS: usize = 5;

/// One linked incident, as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentLink {
    /// The incident's title as its source gives it.
    pub title: String,
    /// Where the incident can be read; without one the title is shown unlinked.
    pub url: Option<String>,
    /// When the incident started; links are ordered by it.
    pub started_at: DateTime<Utc>,
}

/// An item's operational impact, computed by the caller from its incidents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impact {
    /// Incident groups in the window, ever and still open, and the latest
    /// start: the Incidents row.
    pub counts: Counts,
    /// The priority score, its band (`debt:P1`…`P4`) and the reason shown.
    pub score: Score,
    /// Linked incidents, latest first.
    pub links: Vec<IncidentLink>,
    /// Incident groups per calendar week (Monday to Sunday, UTC) for the
    /// [`CHART_WEEKS`] weeks ending with the current one, oldest first: the
    /// dashboard's chart. Whole weeks, so the chart changes only when an
    /// incident does or a week turns, not every time it is rendered.
    pub weekly: Vec<u32>,
}

/// Weeks in the dashboard's incidents-per-week chart.
pub const CHART_WEEKS: u32 = 12;

/// The end of the current calendar week (next Monday, 00:00 UTC).
pub fn week_end(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Datelike;
    let today = now.date_naive();
    let days = 7 - i64::from(today.weekday().num_days_from_monday());
    let monday = today + chrono::Duration::days(days);
    monday.and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc())
}

/// Item id → why it is hot, for every item whose issue carries (or, after
/// this plan, will carry) `debt:hot`: the same decision the planner makes
/// from the label the issue has now.
pub fn hot_reasons(
    impact: &BTreeMap<String, Impact>,
    issues: &[crate::plan::ExistingIssue],
    config: &Config,
) -> BTreeMap<String, String> {
    let was_hot: std::collections::HashSet<&str> = issues
        .iter()
        .filter(|i| i.has_label(HOT_LABEL))
        .filter_map(|i| i.marker.as_ref().map(|m| m.id.as_str()))
        .collect();
    impact
        .iter()
        .filter_map(|(id, impact)| {
            let decision = decide(impact, config, was_hot.contains(id.as_str()));
            decision.hot.then(|| (id.clone(), decision.reason))
        })
        .collect()
}

/// The impact of every item of `input` against `incidents`: the one
/// incident flow the App and the Action share (both reach it through the
/// sync's options). Items link by their debt issue (from the issues'
/// markers and the annotations' `#N`), their id and their `incident=`.
pub fn compute(
    input: &PlanInput,
    incidents: &[Incident],
    now: DateTime<Utc>,
) -> BTreeMap<String, Impact> {
    let mut issue_of: HashMap<&str, (u64, Option<NaiveDate>)> = HashMap::new();
    for issue in &input.issues {
        if let Some(marker) = &issue.marker {
            let first_seen = marker.meta.as_ref().map(|m| m.first_seen);
            issue_of.insert(marker.id.as_str(), (issue.number, first_seen));
        }
    }
    let items: Vec<RankedItem<'_>> = input
        .annotations
        .iter()
        .map(|a| {
            let known = issue_of.get(a.id.as_str());
            let first_seen = input
                .first_seen
                .get(&a.id)
                .copied()
                .or(known.and_then(|k| k.1))
                .unwrap_or(input.today);
            RankedItem {
                links: ItemLinks {
                    id: &a.id,
                    issue: a.metadata.issue.or(known.map(|k| k.0)),
                    incidents: &a.metadata.incidents,
                },
                score: ItemScoreInput {
                    keyword: &a.keyword,
                    tier: a.metadata.tier,
                    cost_days: cost_days(a),
                    first_seen: Some(first_seen),
                    due: a
                        .metadata
                        .due
                        .as_deref()
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                },
                // The spike is decided again by the planner with the label.
                was_hot: false,
            }
        })
        .collect();
    let repo = input.repo.to_string();
    let week_end = week_end(now);
    rank(&repo, &items, incidents, &input.config, now)
        .into_iter()
        .map(|r| {
            let mut links: Vec<IncidentLink> = r
                .incidents
                .iter()
                .map(|&n| IncidentLink {
                    title: incidents[n].title.clone(),
                    url: incidents[n].url.clone(),
                    started_at: incidents[n].started_at,
                })
                .collect();
            links.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.title.cmp(&b.title)));
            let weekly = if r.counts.all_time == 0 {
                Vec::new()
            } else {
                per_week(
                    r.incidents.iter().map(|&n| &incidents[n]),
                    week_end,
                    CHART_WEEKS,
                )
            };
            (
                input.annotations[r.index].id.clone(),
                Impact {
                    counts: r.counts,
                    score: r.score,
                    links,
                    weekly,
                },
            )
        })
        .collect()
}

/// Working days: 8 hours a day, 5 days a week, a point a day.
fn cost_days(a: &Annotation) -> Option<f64> {
    let cost = a.metadata.cost?;
    let amount = f64::from(cost.amount);
    Some(match cost.unit {
        CostUnit::Hours => amount / 8.0,
        CostUnit::Days | CostUnit::Points => amount,
        CostUnit::Weeks => amount * 5.0,
    })
}

/// Every priority label the planner manages, lower case.
pub(crate) fn is_managed_label(lower: &str) -> bool {
    lower == HOT_LABEL || Band::ALL.iter().any(|b| b.label().to_lowercase() == lower)
}

/// The spike verdict for an issue that is (or is not) hot now.
pub(crate) fn decide(impact: &Impact, config: &Config, was_hot: bool) -> SpikeDecision {
    spike(
        &impact.counts,
        was_hot,
        &SpikeRule::from_config(&config.incidents),
    )
}

/// `debt:Pn`, and `debt:hot` while hot.
pub(crate) fn labels(impact: &Impact, hot: bool) -> Vec<String> {
    let mut out = vec![impact.score.band.label()];
    if hot {
        out.push(HOT_LABEL.to_string());
    }
    out
}

/// The comment that opens a spike episode (posted once, with the label).
pub(crate) fn hot_comment(impact: &Impact, decision: &SpikeDecision) -> String {
    format!(
        "paydown: this debt item is **hot**: {}. It gets `{HOT_LABEL}` until the rate falls; \
         priority {} ({}).",
        decision.reason,
        impact.score.band.as_str(),
        text(&impact.score.why)
    )
}

/// The Incidents and Priority rows of the issue's table.
pub(crate) fn rows(impact: &Impact, config: &Config, mut row: impl FnMut(&str, String)) {
    let c = &impact.counts;
    if c.all_time > 0 {
        let mut counts = format!(
            "{} in {} days, {} all time",
            c.in_window, config.incidents.window_days, c.all_time
        );
        if c.open > 0 {
            counts.push_str(&format!(", {} open", c.open));
        }
        if let Some(last) = c.last {
            counts.push_str(&format!(", last {}", last.format("%Y-%m-%d")));
        }
        row("Incidents", counts);
        let links: Vec<String> = impact
            .links
            .iter()
            .take(MAX_LINKS)
            .map(|l| match l.url.as_deref().filter(|u| safe_url(u)) {
                Some(url) => format!("[{}]({url})", text(&l.title)),
                None => text(&l.title),
            })
            .collect();
        if !links.is_empty() {
            row("Linked incidents", links.join(", "));
        }
    }
    row(
        "Priority",
        format!(
            "{} (score {}): {}",
            impact.score.band.as_str(),
            impact.score.value,
            text(&impact.score.why)
        ),
    );
}

/// Untrusted text (incident titles, tier names) for a table cell:
/// `paydown_markdown` makes it inert and unable to mention anyone.
fn text(s: &str) -> String {
    paydown_markdown::table_cell(s)
}

/// Only plain http(s) URLs become links; anything that could end the link
/// or inject markup is shown as text instead.
fn safe_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()<>[]\"'`|".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn impact() -> Impact {
        Impact {
            counts: Counts {
                in_window: 3,
                all_time: 4,
                open: 1,
                last: Some(Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()),
                in_spike_window: 3,
                before_spike_window: 0,
                weighted_in_window: 6,
            },
            score: Score {
                value: 19.0,
                band: Band::P1,
                why: "3 incidents in 90 days".into(),
            },
            links: vec![
                IncidentLink {
                    title: "Checkout down | ping @oncall <!-- x -->".into(),
                    url: Some("https://github.com/acme/ops/issues/3".into()),
                    started_at: Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap(),
                },
                IncidentLink {
                    title: "evil".into(),
                    url: Some("javascript:alert(1)".into()),
                    started_at: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
                },
            ],
            weekly: vec![0, 1, 3],
        }
    }

    #[test]
    fn rows_show_counts_links_and_the_why_without_pinging_anyone() {
        let mut out = Vec::new();
        rows(&impact(), &Config::default(), |k, v| {
            out.push(format!("{k}: {v}"))
        });
        assert_eq!(
            out,
            [
                "Incidents: 3 in 90 days, 4 all time, 1 open, last 2026-03-02",
                "Linked incidents: [Checkout down \\| ping @\u{200b}oncall &lt;!-- x --&gt;](https://github.com/acme/ops/issues/3), evil",
                "Priority: P1 (score 19): 3 incidents in 90 days",
            ]
        );
    }

    #[test]
    fn hot_labels_and_comment() {
        let i = impact();
        let d = decide(&i, &Config::default(), false);
        assert!(d.entered);
        assert_eq!(labels(&i, d.hot), ["debt:P1", "debt:hot"]);
        assert!(
            hot_comment(&i, &d)
                .starts_with("paydown: this debt item is **hot**: 3 incidents in the last 7 days")
        );
        assert!(is_managed_label("debt:p3"));
        assert!(is_managed_label("debt:hot"));
        assert!(!is_managed_label("debt:todo"));
    }
}
