//! The body of the per-repository dashboard issue: config errors first (so
//! people see them), sprint budget, counts by keyword and area, open debt
//! over time (Mermaid), top items (by impact score when incidents are
//! read), hot items, incidents per week of the top items (Mermaid), the
//! backlog grouped by tier and ranked by score, recently paid down,
//! accepted drifts.
//!
//! The output is a pure, deterministic function of the input, so the caller
//! writes the issue only when the string differs from the live body. It fits
//! GitHub's 65,536-character body limit by trimming the least important list
//! first (the backlog, which repeats the top items, then recently paid down,
//! then the tail of the top items), saying so.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use paydown_annotations::Annotation;
use paydown_config::Config;
use serde::{Deserialize, Serialize};

use crate::impact::Impact;
use crate::plan::{ExistingIssue, IssueState};
use crate::render::{AREA_LABEL_PREFIX, LABEL_PREFIX};

/// Hidden marker by which the bot finds its dashboard issue.
pub use paydown_markers::dashboard::MARKER as DASHBOARD_MARKER;

/// GitHub's limit on an issue body. Counted here in bytes, which are never
/// fewer than characters, so the body fits whichever GitHub counts.
pub const MAX_BODY_BYTES: usize = 65_536;

/// Most points drawn in the open-debt chart (the most recent ones).
const MAX_CHART_POINTS: usize = 60;

/// One open debt item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardItem {
    /// The issue, once created (creates may be deferred by pacing).
    pub number: Option<u64>,
    /// The item id (the issue marker's id).
    pub id: String,
    /// The keyword as written; its configured severity orders the top list.
    pub keyword: String,
    /// First line of the annotation text.
    pub text: String,
    /// Repository-relative path of the file holding the annotation.
    pub path: String,
    /// 1-based line of the keyword.
    pub line: u32,
    /// The annotation's `area=`; the dashboard counts open items per area.
    pub area: Option<String>,
    /// When the item was first seen; its age counts from here.
    pub first_seen: NaiveDate,
    /// `P1`…`P4` once the priority feature computes it.
    pub priority: Option<String>,
    /// The annotation's `tier=`: the customer segment (`tiers:`).
    #[serde(default)]
    pub tier: Option<u8>,
}

impl DashboardItem {
    /// The item for a scanned annotation and its issue, when filed.
    pub fn from_annotation(
        annotation: &Annotation,
        number: Option<u64>,
        first_seen: NaiveDate,
        priority: Option<String>,
    ) -> Self {
        Self {
            number,
            id: annotation.id.clone(),
            keyword: annotation.keyword.clone(),
            text: annotation.text.clone(),
            path: annotation.path.clone(),
            line: annotation.line,
            area: annotation.metadata.area.clone(),
            first_seen,
            priority,
            tier: annotation.metadata.tier,
        }
    }

    /// The item as recorded in an open debt issue alone (marker meta, area
    /// and `debt:P1`…`P4` labels), for a dashboard rebuilt without a scan.
    /// `None` for closed issues and issues without meta.
    pub fn from_issue(issue: &ExistingIssue) -> Option<Self> {
        if issue.state != IssueState::Open {
            return None;
        }
        let marker = issue.marker.as_ref()?;
        let meta = marker.meta.as_ref()?;
        let label_value = |prefix: &str| {
            issue.labels.iter().find_map(|l| {
                l.get(..prefix.len())
                    .filter(|p| p.eq_ignore_ascii_case(prefix))
                    .map(|_| l[prefix.len()..].to_string())
            })
        };
        let priority = label_value(LABEL_PREFIX).filter(|p| {
            p.len() == 2 && p.starts_with('P') && matches!(p.as_bytes()[1], b'1'..=b'4')
        });
        Some(Self {
            number: Some(issue.number),
            id: marker.id.clone(),
            keyword: meta.keyword.clone(),
            text: meta.text.clone(),
            path: meta.path.clone(),
            line: meta.line,
            area: label_value(AREA_LABEL_PREFIX),
            first_seen: meta.first_seen,
            priority,
            tier: None,
        })
    }
}

/// A debt issue closed because its annotation left the default branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidDownItem {
    /// The closed issue.
    pub number: u64,
    /// Its title, shown in the paid-down list.
    pub title: String,
    /// The day it was closed; decides whether it is recent.
    pub closed_on: NaiveDate,
    /// The pull request that removed the annotation, when known.
    pub pull_request: Option<u64>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct DashboardInput<'a> {
    /// The repository's configuration: keyword severities, tiers, incident
    /// window.
    pub config: &'a Config,
    /// The date ages, the recent window and the chart end are measured from.
    pub today: NaiveDate,
    /// Every open debt item, in any order; the dashboard sorts them.
    pub open_items: &'a [DashboardItem],
    /// Closed debt issues; those closed within `recent_days` are listed.
    pub paid_down: &'a [PaidDownItem],
    /// Length in days of the "recently paid down" window ending `today`.
    pub recent_days: u32,
    /// How many top items to list before any trimming.
    pub top_n: usize,
    /// Problems with `.github/paydown.yml`, one message each.
    pub config_errors: &'a [String],
    /// Open debt items by date, for the chart.
    pub open_over_time: &'a [(NaiveDate, usize)],
    /// Markdown blocks later features render; `None` shows a placeholder.
    pub sprint_budget: Option<&'a str>,
    /// Markdown for the hot-items block; `None` shows a placeholder.
    pub hot_items: Option<&'a str>,
    /// Shown only when present.
    pub accepted_drifts: Option<&'a str>,
    /// While an import is paced (some open items have no issue yet): when
    /// its next batch is expected to run.
    pub import_next_batch: Option<DateTime<Utc>>,
    /// Each item's impact (by id) when incidents are read: the top list is
    /// then ranked by score and the incident sections are drawn.
    pub impact: Option<&'a BTreeMap<String, Impact>>,
    /// Hot items (id → why), from [`crate::impact::hot_reasons`]; with
    /// `impact`, replaces the `hot_items` block.
    pub hot: Option<&'a BTreeMap<String, String>>,
}

/// Most items drawn in the incidents-per-week chart.
const CHART_ITEMS: usize = 5;

/// Renders the dashboard body (at most [`MAX_BODY_BYTES`] bytes).
pub fn render_dashboard(input: &DashboardInput<'_>) -> String {
    let ranked = ranked_items(input);
    let top = top_lines(input, &ranked);
    let backlog = backlog_lines(input, &ranked);
    let paid = paid_lines(input);
    let all = Lists {
        top: &top,
        backlog: &backlog,
        paid: &paid,
    };
    let full = compose(input, &ranked, &all, None);
    if full.len() <= MAX_BODY_BYTES {
        return full;
    }
    // Keeps `keep` lines of each list (top, backlog, paid), with the note.
    let fits = |keep: [usize; 3]| {
        let kept = Lists {
            top: &top[..keep[0]],
            backlog: &backlog[..keep[1]],
            paid: &paid[..keep[2]],
        };
        let note = trim_note(
            top.len() - keep[0],
            backlog.len() - keep[1],
            paid.len() - keep[2],
        );
        let body = compose(input, &ranked, &kept, Some(&note));
        (body.len() <= MAX_BODY_BYTES).then_some(body)
    };
    // The least important list goes first: the backlog (it repeats the top
    // items), then recently paid down, then the tail of the top items; the
    // list being trimmed keeps as many lines as fit.
    let mut keep = [top.len(), backlog.len(), paid.len()];
    for list in [1, 2, 0] {
        let max = keep[list];
        keep[list] = 0;
        if let Some(body) = fits(keep) {
            let k = largest_fitting(max, |k| {
                let mut with = keep;
                with[list] = k;
                fits(with).is_some()
            });
            keep[list] = k;
            return fits(keep).unwrap_or(body);
        }
    }
    // Even without lists the body is too long (huge blocks or config
    // errors): cut it, keeping the marker at the top.
    let note = "\n\n> [!NOTE]\n> Cut to fit GitHub's 65,536-character limit.\n";
    let none = Lists {
        top: &[],
        backlog: &[],
        paid: &[],
    };
    let bare = compose(input, &ranked, &none, None);
    let mut cut = MAX_BODY_BYTES.saturating_sub(note.len());
    while !bare.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{note}", &bare[..cut])
}

/// The trimmable lists of the body.
struct Lists<'a> {
    top: &'a [String],
    backlog: &'a [String],
    paid: &'a [String],
}

/// Largest `k` in `0..=max` with `ok(k)`, given `ok(0)` and monotonicity.
fn largest_fitting(max: usize, ok: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

fn trim_note(top_dropped: usize, backlog_dropped: usize, paid_dropped: usize) -> String {
    format!(
        "> [!NOTE]\n> Trimmed to fit GitHub's 65,536-character limit: {backlog_dropped} backlog rows, \
         {paid_dropped} recently paid down and {top_dropped} top items were left out."
    )
}

/// Code, issue or config text in a table cell or list item: one line, no
/// `|`, nothing that opens an HTML comment (a forged marker) or HTML.
fn cell(text: &str) -> String {
    paydown_markdown::table_cell(text)
}

fn priority_rank(priority: Option<&str>) -> u32 {
    priority
        .and_then(|p| p.strip_prefix('P'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(u32::MAX)
}

/// Every open item, most important first: by impact score when incidents
/// are read, else by priority band, keyword severity and age.
fn ranked_items<'i>(input: &DashboardInput<'i>) -> Vec<&'i DashboardItem> {
    let severity = |item: &DashboardItem| input.config.annotations.severity_of(&item.keyword);
    let score = |item: &DashboardItem| score_of(input, item).unwrap_or(f64::NEG_INFINITY);
    let mut items: Vec<&DashboardItem> = input.open_items.iter().collect();
    items.sort_by(|a, b| {
        score(b)
            .total_cmp(&score(a))
            .then_with(|| {
                priority_rank(a.priority.as_deref()).cmp(&priority_rank(b.priority.as_deref()))
            })
            .then_with(|| severity(b).cmp(&severity(a)))
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| (&a.path, a.line, &a.id).cmp(&(&b.path, b.line, &b.id)))
    });
    items
}

fn impact_of<'i>(input: &DashboardInput<'i>, item: &DashboardItem) -> Option<&'i Impact> {
    input.impact?.get(&item.id)
}

fn score_of(input: &DashboardInput<'_>, item: &DashboardItem) -> Option<f64> {
    impact_of(input, item).map(|i| i.score.value)
}

fn issue_cell(item: &DashboardItem) -> String {
    item.number
        .map_or_else(|| "(not yet filed)".to_string(), |n| format!("#{n}"))
}

fn item_cell(item: &DashboardItem) -> String {
    format!("{}: {}", cell(&item.keyword), cell(&item.text))
}

/// The band the item's issue gets: the computed one when incidents are read.
fn band_of(input: &DashboardInput<'_>, item: &DashboardItem) -> String {
    match impact_of(input, item) {
        Some(impact) => impact.score.band.as_str().to_string(),
        None => cell(item.priority.as_deref().unwrap_or("–")),
    }
}

fn top_lines(input: &DashboardInput<'_>, ranked: &[&DashboardItem]) -> Vec<String> {
    ranked
        .iter()
        .take(input.top_n)
        .enumerate()
        .map(|(rank, item)| {
            let issue = issue_cell(item);
            if input.impact.is_some() {
                let (score, why, incidents) = match impact_of(input, item) {
                    Some(i) => (
                        i.score.value.to_string(),
                        cell(&i.score.why),
                        format!(
                            "{} in {} d, {} all time",
                            i.counts.in_window,
                            input.config.incidents.window_days,
                            i.counts.all_time
                        ),
                    ),
                    None => ("–".into(), String::new(), "–".into()),
                };
                return format!(
                    "| {} | {issue} | {} | {} | {score} | {why} | {incidents} |",
                    rank + 1,
                    item_cell(item),
                    band_of(input, item),
                );
            }
            let age = (input.today - item.first_seen).num_days().max(0);
            format!(
                "| {} | {issue} | {} | `{}:{}` | {} | {age} d |",
                rank + 1,
                item_cell(item),
                paydown_markdown::code_span(&item.path).replace('|', "\\|"),
                item.line,
                cell(item.priority.as_deref().unwrap_or("P?")),
            )
        })
        .collect()
}

/// The tier's heading cell: `1 (enterprise)`, or `none`.
fn tier_cell(input: &DashboardInput<'_>, tier: Option<u8>) -> String {
    match tier {
        Some(t) => match input.config.tiers.get(&u32::from(t)) {
            Some(name) => format!("{t} ({})", cell(name)),
            None => t.to_string(),
        },
        None => "_none_".to_string(),
    }
}

/// Every open item, grouped by tier (1 first, untiered last) and ranked
/// within its tier as in the top list. The tier is named on the first row
/// of its group.
fn backlog_lines(input: &DashboardInput<'_>, ranked: &[&DashboardItem]) -> Vec<String> {
    let mut by_tier: Vec<(usize, &DashboardItem)> = ranked.iter().copied().enumerate().collect();
    // Stable: the rank order is kept within a tier.
    by_tier.sort_by_key(|(rank, item)| (item.tier.is_none(), item.tier, *rank));
    let mut previous: Option<Option<u8>> = None;
    by_tier
        .into_iter()
        .map(|(_, item)| {
            let tier = if previous == Some(item.tier) {
                String::new()
            } else {
                previous = Some(item.tier);
                tier_cell(input, item.tier)
            };
            let score = score_of(input, item).map_or_else(|| "–".to_string(), |s| s.to_string());
            format!(
                "| {tier} | {} | {} | {score} | {} |",
                issue_cell(item),
                item_cell(item),
                band_of(input, item),
            )
        })
        .collect()
}

/// The hot items section, when incidents are read.
fn hot_section(input: &DashboardInput<'_>, ranked: &[&DashboardItem]) -> Option<String> {
    let hot = input.hot?;
    let lines: Vec<String> = ranked
        .iter()
        .filter_map(|item| {
            let why = hot.get(&item.id)?;
            Some(format!(
                "- {} {} — {}",
                issue_cell(item),
                item_cell(item),
                cell(why)
            ))
        })
        .collect();
    Some(if lines.is_empty() {
        "_No item has an incident spike._".to_string()
    } else {
        lines.join("\n")
    })
}

/// A Mermaid chart of incident groups per week for the top items that had
/// any in the chart's weeks, one line each, with the key below it. Only
/// numbers and dates go inside the code block (no item text can close it).
fn incident_chart(input: &DashboardInput<'_>, ranked: &[&DashboardItem]) -> String {
    let charted: Vec<(&DashboardItem, &Impact)> = ranked
        .iter()
        .filter_map(|item| Some((*item, impact_of(input, item)?)))
        .filter(|(_, i)| i.weekly.iter().any(|&n| n > 0))
        .take(CHART_ITEMS)
        .collect();
    let Some(weeks) = charted.iter().map(|(_, i)| i.weekly.len()).max() else {
        return format!(
            "_No linked incidents in the last {} weeks._\n",
            crate::impact::CHART_WEEKS
        );
    };
    let end = input.today.week(chrono::Weekday::Mon).first_day();
    let labels: Vec<String> = (0..weeks)
        .rev()
        .map(|back| {
            let start = end - chrono::Duration::weeks(back as i64);
            format!("\"{}\"", start.format("%m-%d"))
        })
        .collect();
    let max = charted
        .iter()
        .flat_map(|(_, i)| i.weekly.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = format!(
        "```mermaid\nxychart-beta\n    title \"Incidents per week (week starting)\"\n    x-axis [{}]\n    y-axis \"Incidents\" 0 --> {max}\n",
        labels.join(", ")
    );
    for (_, impact) in &charted {
        let mut values: Vec<String> = vec!["0".to_string(); weeks - impact.weekly.len()];
        values.extend(impact.weekly.iter().map(u32::to_string));
        let _ = writeln!(out, "    line [{}]", values.join(", "));
    }
    out.push_str("```\n\nLines, in order:\n\n");
    for (n, (item, impact)) in charted.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {} {} ({} in the last {} weeks)",
            n + 1,
            issue_cell(item),
            item_cell(item),
            impact.weekly.iter().sum::<u32>(),
            weeks
        );
    }
    out
}

fn paid_lines(input: &DashboardInput<'_>) -> Vec<String> {
    let since = input
        .today
        .checked_sub_days(chrono::Days::new(u64::from(input.recent_days)))
        .unwrap_or(NaiveDate::MIN);
    let mut items: Vec<&PaidDownItem> = input
        .paid_down
        .iter()
        .filter(|p| p.closed_on >= since && p.closed_on <= input.today)
        .collect();
    items.sort_by(|a, b| b.closed_on.cmp(&a.closed_on).then(a.number.cmp(&b.number)));
    items
        .into_iter()
        .map(|p| {
            let by = p
                .pull_request
                .map_or_else(String::new, |pr| format!(" in #{pr}"));
            format!("- #{} {} — {}{by}", p.number, cell(&p.title), p.closed_on)
        })
        .collect()
}

/// "340 of 1,000 imported; next batch about 14:05 UTC" while creates are
/// left for later runs (docs/reliability.md, pacing).
fn import_progress(out: &mut String, input: &DashboardInput<'_>) {
    let total = input.open_items.len();
    let filed = input
        .open_items
        .iter()
        .filter(|i| i.number.is_some())
        .count();
    if filed == total {
        return;
    }
    let next = match input.import_next_batch {
        Some(at) if at.date_naive() == input.today => {
            format!("next batch about {} UTC", at.format("%H:%M"))
        }
        Some(at) => format!("next batch about {} UTC", at.format("%Y-%m-%d %H:%M")),
        None => "the rest follow in later runs".to_string(),
    };
    let _ = writeln!(
        out,
        "**Import in progress:** {} of {} imported; {next} \
         (new issues are paced within GitHub's write limits).\n",
        thousands(filed),
        thousands(total)
    );
}

/// `1000` as `1,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn counts<'i>(
    items: &'i [DashboardItem],
    key: impl Fn(&'i DashboardItem) -> &'i str,
) -> BTreeMap<&'i str, usize> {
    let mut map = BTreeMap::new();
    for item in items {
        *map.entry(key(item)).or_insert(0) += 1;
    }
    map
}

fn chart(series: &[(NaiveDate, usize)]) -> String {
    let mut points: Vec<(NaiveDate, usize)> = series.to_vec();
    points.sort();
    points.dedup_by_key(|p| p.0);
    let points = &points[points.len().saturating_sub(MAX_CHART_POINTS)..];
    if points.is_empty() {
        return "_No history yet._\n".to_string();
    }
    let dates: Vec<String> = points.iter().map(|(d, _)| format!("\"{d}\"")).collect();
    let values: Vec<String> = points.iter().map(|(_, n)| n.to_string()).collect();
    let max = points.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    format!(
        "```mermaid\nxychart-beta\n    title \"Open debt items\"\n    x-axis [{}]\n    y-axis \"Open items\" 0 --> {max}\n    line [{}]\n```\n",
        dates.join(", "),
        values.join(", ")
    )
}

fn compose(
    input: &DashboardInput<'_>,
    ranked: &[&DashboardItem],
    lists: &Lists<'_>,
    note: Option<&str>,
) -> String {
    let (top, backlog, paid) = (lists.top, lists.backlog, lists.paid);
    let mut out = String::new();
    out.push_str(DASHBOARD_MARKER);
    out.push('\n');
    out.push_str(
        "This issue is kept up to date by paydown. Close it to stop updates \
         (it stays closed); set `dashboard: false` in `.github/paydown.yml` to turn it off.\n\n",
    );
    if let Some(note) = note {
        out.push_str(note);
        out.push_str("\n\n");
    }
    if !input.config_errors.is_empty() {
        out.push_str("## ⚠️ Configuration errors\n\n");
        out.push_str(
            "paydown does not use the file until these are fixed: the App keeps using \
             the last valid configuration (the defaults if it never saw one); \
             `paydown sync` uses the defaults.\n\n",
        );
        for error in input.config_errors {
            let _ = writeln!(out, "- {}", cell(error));
        }
        out.push('\n');
    }

    out.push_str("## Sprint budget\n\n");
    block(
        &mut out,
        input.sprint_budget,
        "_Sprint budgets are not tracked yet._",
    );

    let total = input.open_items.len();
    let _ = writeln!(out, "## Open debt\n\n**{total}** open items.\n");
    import_progress(&mut out, input);
    if total > 0 {
        out.push_str("| Keyword | Open |\n|---|---|\n");
        for (keyword, n) in counts(input.open_items, |i| i.keyword.as_str()) {
            let _ = writeln!(out, "| {} | {n} |", cell(keyword));
        }
        out.push('\n');
        out.push_str("| Area | Open |\n|---|---|\n");
        for (area, n) in counts(input.open_items, |i| i.area.as_deref().unwrap_or("")) {
            let name = if area.is_empty() {
                "_(none)_".to_string()
            } else {
                cell(area)
            };
            let _ = writeln!(out, "| {name} | {n} |");
        }
        out.push('\n');
    }

    out.push_str("## Open debt over time\n\n");
    out.push_str(&chart(input.open_over_time));
    out.push('\n');

    let by_impact = input.impact.is_some();
    out.push_str(if by_impact {
        "## Top debt by impact\n\n"
    } else {
        "## Top items\n\n"
    });
    if top.is_empty() {
        out.push_str(if total == 0 {
            "_No open debt._\n\n"
        } else {
            "_Left out to fit the size limit._\n\n"
        });
    } else {
        out.push_str(if by_impact {
            "| | Issue | Item | Priority | Score | Why | Incidents |\n|---|---|---|---|---|---|---|\n"
        } else {
            "| | Issue | Item | Where | Priority | Age |\n|---|---|---|---|---|---|\n"
        });
        for line in top {
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }

    out.push_str(if by_impact {
        "## Hot\n\n"
    } else {
        "## Hot items\n\n"
    });
    match hot_section(input, ranked) {
        Some(hot) => block(&mut out, Some(&hot), ""),
        None => block(
            &mut out,
            input.hot_items,
            "_Incident spikes are not tracked yet._",
        ),
    }

    if by_impact {
        out.push_str("## Incidents per week\n\n");
        out.push_str(&incident_chart(input, ranked));
        out.push('\n');
    }

    if total > 0 {
        out.push_str("## Backlog by tier\n\n");
        if backlog.is_empty() {
            out.push_str("_Left out to fit the size limit._\n\n");
        } else {
            out.push_str("| Tier | Issue | Item | Score | Priority |\n|---|---|---|---|---|\n");
            for line in backlog {
                out.push_str(line);
                out.push('\n');
            }
            out.push('\n');
        }
    }

    let _ = writeln!(
        out,
        "## Recently paid down (last {} days)\n",
        input.recent_days
    );
    if paid.is_empty() {
        out.push_str("_Nothing listed._\n\n");
    } else {
        for line in paid {
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }

    if let Some(drifts) = input.accepted_drifts {
        out.push_str("## Accepted drifts\n\n");
        block(&mut out, Some(drifts), "");
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

fn block(out: &mut String, text: Option<&str>, placeholder: &str) {
    let text = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(placeholder);
    out.push_str(text);
    out.push_str("\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn item(n: u64, keyword: &str, first_seen: NaiveDate, area: Option<&str>) -> DashboardItem {
        DashboardItem {
            number: Some(n),
            id: format!("id-{n}"),
            keyword: keyword.to_string(),
            text: format!("item {n}"),
            path: "src/a.rs".to_string(),
            line: n as u32,
            area: area.map(String::from),
            first_seen,
            priority: None,
            tier: None,
        }
    }

    fn input<'a>(
        config: &'a Config,
        items: &'a [DashboardItem],
        paid: &'a [PaidDownItem],
    ) -> DashboardInput<'a> {
        DashboardInput {
            config,
            today: day(23),
            open_items: items,
            paid_down: paid,
            recent_days: 14,
            top_n: 20,
            config_errors: &[],
            open_over_time: &[],
            sprint_budget: None,
            hot_items: None,
            accepted_drifts: None,
            import_next_batch: None,
            impact: None,
            hot: None,
        }
    }

    #[test]
    fn given_items_without_issues_then_the_import_progress_and_next_batch_show() {
        // Given 1,000 open items of which 340 have their issue, and the
        // next batch due at 14:05 today,
        let config = Config::default();
        let items: Vec<DashboardItem> = (0..1000)
            .map(|n| {
                let mut i = item(n, "TODO", day(1), None);
                if n >= 340 {
                    i.number = None;
                }
                i
            })
            .collect();
        let mut dash = input(&config, &items, &[]);
        dash.import_next_batch = day(23).and_hms_opt(14, 5, 0).map(|t| t.and_utc());
        // then the dashboard says how far the import is and when it goes on,
        let body = render_dashboard(&dash);
        assert!(
            body.contains("340 of 1,000 imported; next batch about 14:05 UTC"),
            "{body}"
        );
        // and once every item has its issue it says nothing of an import.
        let done: Vec<DashboardItem> = (0..3).map(|n| item(n, "TODO", day(1), None)).collect();
        assert!(!render_dashboard(&input(&config, &done, &[])).contains("Import"));
    }

    #[test]
    fn given_items_then_top_list_is_by_severity_then_age_and_counts_are_grouped() {
        let config = Config::default();
        let items = [
            item(1, "TODO", day(1), None),
            item(2, "FIXME", day(20), Some("billing")),
            item(3, "FIXME", day(10), Some("billing")),
            item(4, "HACK", day(2), Some("api")),
        ];
        let paid = [
            PaidDownItem {
                number: 9,
                title: "TODO: old".to_string(),
                closed_on: day(1),
                pull_request: None,
            },
            PaidDownItem {
                number: 8,
                title: "TODO: recent".to_string(),
                closed_on: day(21),
                pull_request: Some(42),
            },
        ];
        let series = [(day(22), 5), (day(21), 3), (day(23), 4)];
        let errors = ["paydown.yml:3:5: unknown key `isues`".to_string()];
        let mut inp = input(&config, &items, &paid);
        inp.open_over_time = &series;
        inp.config_errors = &errors;
        let body = render_dashboard(&inp);
        assert!(body.starts_with(DASHBOARD_MARKER));
        let order: Vec<usize> = ["| #3 |", "| #2 |", "| #4 |", "| #1 |"]
            .iter()
            .map(|needle| {
                body.find(needle)
                    .unwrap_or_else(|| panic!("{needle}\n{body}"))
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{body}");
        assert!(body.contains("| FIXME | 2 |") && body.contains("| billing | 2 |"));
        assert!(body.contains("| _(none)_ | 1 |"));
        assert!(body.contains("- #8 TODO: recent — 2026-11-21 in #42"));
        assert!(!body.contains("#9 "), "older than 14 days");
        assert!(body.contains("x-axis [\"2026-11-21\", \"2026-11-22\", \"2026-11-23\"]"));
        assert!(body.contains("line [3, 5, 4]"));
        assert!(body.find("Configuration errors").unwrap() < body.find("Sprint budget").unwrap());
        assert!(body.contains("_Sprint budgets are not tracked yet._"));
        assert_eq!(body, render_dashboard(&inp), "deterministic");
    }

    #[test]
    fn given_open_debt_issue_then_item_is_rebuilt_from_marker_and_labels() {
        use crate::marker::{self, ItemMeta};
        let meta = ItemMeta {
            id: "todo-1".to_string(),
            path: "src/a.rs".to_string(),
            line: 7,
            end_line: 7,
            keyword: "TODO".to_string(),
            text: "flush".to_string(),
            sha: "s".to_string(),
            first_seen: day(2),
            owners: Vec::new(),
            adopted: false,
        };
        let body = format!(
            "{}\n{}\n",
            marker::item_line("todo-1"),
            marker::meta_line(&meta)
        );
        let mut issue = ExistingIssue::new(12, IssueState::Open, "TODO: flush", &body);
        issue.labels = vec![
            "tech-debt".to_string(),
            "debt:P2".to_string(),
            "Debt:Area/billing".to_string(),
        ];
        let item = DashboardItem::from_issue(&issue).unwrap();
        assert_eq!(item.number, Some(12));
        assert_eq!(item.priority.as_deref(), Some("P2"));
        assert_eq!(item.area.as_deref(), Some("billing"));
        assert_eq!((item.line, item.first_seen), (7, day(2)));
        issue.state = IssueState::Closed;
        assert_eq!(DashboardItem::from_issue(&issue), None);
    }

    #[test]
    fn given_blocks_from_later_features_then_they_replace_placeholders() {
        let config = Config::default();
        let mut inp = input(&config, &[], &[]);
        inp.sprint_budget = Some("| Sprint | Debt |\n|---|---|\n| 12 | 4/8 |");
        inp.hot_items = Some("- #5 is hot");
        inp.accepted_drifts = Some("- #77 accepted by @lead");
        let body = render_dashboard(&inp);
        assert!(body.contains("| 12 | 4/8 |"));
        assert!(body.contains("- #5 is hot"));
        assert!(body.contains("## Accepted drifts\n\n- #77 accepted by @lead\n"));
        assert!(body.contains("_No open debt._"));
    }

    fn impact(score: f64, band: paydown_incidents::Band, why: &str, weekly: &[u32]) -> Impact {
        Impact {
            counts: paydown_incidents::Counts {
                in_window: weekly.iter().sum(),
                all_time: weekly.iter().sum(),
                ..Default::default()
            },
            score: paydown_incidents::Score {
                value: score,
                band,
                why: why.to_string(),
            },
            links: Vec::new(),
            weekly: weekly.to_vec(),
        }
    }

    #[test]
    fn given_impact_then_top_is_by_score_hot_and_chart_are_drawn_and_backlog_is_by_tier() {
        use paydown_incidents::Band;
        // Given four items: #1 (no tier) paging weekly, #2 (tier 1) calm,
        // #3 (tier 2) hot, #4 (tier 1) with a higher score than #2; tier
        // names and a why that try to mention people.
        let mut config = Config::default();
        config.tiers.insert(1, "enterprise @acme/sales".into());
        config.tiers.insert(2, "team".into());
        let mut items = [
            item(1, "TODO", day(1), None),
            item(2, "FIXME", day(2), None),
            item(3, "HACK", day(3), None),
            item(4, "TODO", day(4), None),
        ];
        items[1].tier = Some(1);
        items[2].tier = Some(2);
        items[3].tier = Some(1);
        let impacts: BTreeMap<String, Impact> = [
            (
                "id-1",
                impact(
                    19.5,
                    Band::P1,
                    "3 incidents in 90 days, cc @oncall",
                    &[0, 1, 1, 1],
                ),
            ),
            (
                "id-2",
                impact(2.0, Band::P4, "no incidents, FIXME (high)", &[0, 0, 0, 0]),
            ),
            (
                "id-3",
                impact(12.0, Band::P2, "2 incidents in 90 days", &[0, 0, 0, 2]),
            ),
            (
                "id-4",
                impact(5.0, Band::P3, "tier 1 (enterprise)", &[0, 0, 0, 0]),
            ),
        ]
        .into_iter()
        .map(|(id, i)| (id.to_string(), i))
        .collect();
        let hot: BTreeMap<String, String> = [(
            "id-3".to_string(),
            "2 incidents in the last 7 days".to_string(),
        )]
        .into();
        let mut inp = input(&config, &items, &[]);
        inp.impact = Some(&impacts);
        inp.hot = Some(&hot);
        // When the dashboard is rendered,
        let body = render_dashboard(&inp);
        // then the top list is ranked by score with the score, why and counts,
        let top = &body[body.find("## Top debt by impact").unwrap()..body.find("## Hot").unwrap()];
        let order: Vec<usize> = ["| 1 | #1 |", "| 2 | #3 |", "| 3 | #4 |", "| 4 | #2 |"]
            .iter()
            .map(|n| top.find(n).unwrap_or_else(|| panic!("{n}\n{body}")))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{body}");
        assert!(
            top.contains(
                "| P1 | 19.5 | 3 incidents in 90 days, cc @\u{200b}oncall | 3 in 90 d, 3 all time |"
            ),
            "{top}"
        );
        // the hot section names the hot item and why,
        assert!(
            body.contains("## Hot\n\n- #3 HACK: item 3 — 2 incidents in the last 7 days\n"),
            "{body}"
        );
        // the chart draws the items with incidents in the weeks, top first,
        let chart = &body[body
            .find("```mermaid\nxychart-beta\n    title \"Incidents")
            .unwrap()..];
        assert!(
            chart.contains("    line [0, 1, 1, 1]\n    line [0, 0, 0, 2]\n```"),
            "{chart}"
        );
        assert!(
            chart.contains("1. #1 TODO: item 1 (3 in the last 4 weeks)\n2. #3 HACK: item 3"),
            "{chart}"
        );
        // and the backlog is grouped by tier (1, 2, none), by score within one.
        let backlog = &body[body.find("## Backlog by tier").unwrap()..];
        let rows: Vec<&str> = backlog
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| Tier"))
            .collect();
        assert_eq!(
            rows,
            [
                "| 1 (enterprise @\u{200b}acme/sales) | #4 | TODO: item 4 | 5 | P3 |",
                "|  | #2 | FIXME: item 2 | 2 | P4 |",
                "| 2 (team) | #3 | HACK: item 3 | 12 | P2 |",
                "| _none_ | #1 | TODO: item 1 | 19.5 | P1 |",
            ]
        );
        assert_eq!(body, render_dashboard(&inp), "deterministic");
    }

    #[test]
    fn given_impact_without_incidents_then_the_chart_says_so_and_nobody_is_hot() {
        let config = Config::default();
        let items = [item(1, "TODO", day(1), None)];
        let impacts: BTreeMap<String, Impact> = [(
            "id-1".to_string(),
            impact(
                1.0,
                paydown_incidents::Band::P4,
                "no incidents, TODO (low)",
                &[],
            ),
        )]
        .into();
        let hot = BTreeMap::new();
        let mut inp = input(&config, &items, &[]);
        inp.impact = Some(&impacts);
        inp.hot = Some(&hot);
        let body = render_dashboard(&inp);
        assert!(body.contains("_No item has an incident spike._"), "{body}");
        assert!(
            body.contains("_No linked incidents in the last 12 weeks._"),
            "{body}"
        );
        assert!(!body.contains("```mermaid\nxychart-beta\n    title \"Incidents"));
    }

    #[test]
    fn given_huge_lists_then_paid_down_is_trimmed_before_top_items() {
        let config = Config::default();
        let items: Vec<DashboardItem> = (1..=300)
            .map(|n| {
                let mut i = item(n, "TODO", day(1), None);
                i.text = "x".repeat(150);
                i
            })
            .collect();
        let paid: Vec<PaidDownItem> = (1..=2000)
            .map(|n| PaidDownItem {
                number: 10_000 + n,
                title: "y".repeat(100),
                closed_on: day(20),
                pull_request: Some(n),
            })
            .collect();
        let mut inp = input(&config, &items, &paid);
        inp.top_n = 300;
        let body = render_dashboard(&inp);
        assert!(body.len() <= MAX_BODY_BYTES);
        assert!(body.contains("Trimmed to fit"));
        assert!(
            body.contains("| 300 |"),
            "all top items kept while paid-down can shrink"
        );
        let listed = body.matches("\n- #1").count();
        assert!(listed > 0 && listed < 2000, "{listed}");
        // Close to the limit: trimming keeps as much as fits.
        assert!(body.len() > MAX_BODY_BYTES - 400, "{}", body.len());

        inp.top_n = 2000;
        let many: Vec<DashboardItem> = (1..=2000)
            .map(|n| {
                let mut i = item(n, "TODO", day(1), None);
                i.text = "z".repeat(200);
                i
            })
            .collect();
        inp.open_items = &many;
        let body = render_dashboard(&inp);
        assert!(body.len() <= MAX_BODY_BYTES);
        assert!(body.contains("_Nothing listed._"));
        assert!(body.contains("| 1 | #1 |"));
        assert!(!body.contains("\n| 2000 | #"));
        assert!(body.contains("| TODO | 2000 |"), "counts are never trimmed");
    }

    #[test]
    fn given_oversized_block_then_body_is_cut_to_the_limit_at_a_char_boundary() {
        let config = Config::default();
        let huge = "é".repeat(40_000);
        let mut inp = input(&config, &[], &[]);
        inp.hot_items = Some(&huge);
        let body = render_dashboard(&inp);
        assert!(body.len() <= MAX_BODY_BYTES);
        assert!(body.starts_with(DASHBOARD_MARKER));
        assert!(body.contains("to fit GitHub's 65,536-character limit"));
    }
}
