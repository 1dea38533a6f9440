//! Everything people read about sprint budgets, as pure deterministic
//! functions: the sticky drift comment on a PR (and the check-run text), the
//! dashboard's sprint-budget section with its Mermaid chart, the accepted
//! drifts list, and `paydown report` as text, Markdown or JSON.
//!
//! User-supplied text (PR titles, acceptance reasons, milestone titles) is
//! escaped so it can neither break a table nor inject HTML.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use paydown_config::{Drift, Permission};
use serde::Serialize;

use crate::classify::{ClassSource, Classification, PointsSource, WorkClass};
use crate::drift::DriftVerdict;
use crate::ledger::{Amount, Budget, Ledger, SprintLedger};

/// Hidden marker by which the bot finds its sticky drift comment on a PR.
pub use paydown_markers::drift::MARKER as DRIFT_MARKER;

/// Sprints the dashboard shows: the current one and the 6 before it.
pub const DASHBOARD_SPRINTS: usize = 7;

/// The sticky comment for `verdict`: the drift warning, the acceptance, or —
/// when the PR no longer drifts — the all-clear that replaces an earlier
/// warning. `prefix` is the command prefix (`/debt`); `accept_permission`
/// who may accept.
pub fn sticky_comment(
    verdict: &DriftVerdict,
    prefix: &str,
    accept_permission: Permission,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{DRIFT_MARKER}");
    match (&verdict.accepted, verdict.drifting) {
        (_, false) => {
            out.push_str("### ✅ No longer drifting\n\n");
            let _ = writeln!(
                out,
                "With this PR, **{}** stays within its debt budget: feature work is within its allowance or debt work meets the reservation.\n",
                cell(&verdict.sprint.label())
            );
        }
        (Some(acceptance), true) => {
            out.push_str("### ✅ Drift accepted\n\n");
            let _ = writeln!(
                out,
                "{} accepted this drift on {}: “{}”.\n",
                user(&acceptance.by),
                acceptance.at.format("%Y-%m-%d"),
                cell(&acceptance.reason)
            );
        }
        (None, true) => {
            out.push_str("### ⚠️ Reserved debt capacity is drifting to feature work\n\n");
        }
    }
    out.push_str(&budget_sentence(verdict));
    out.push_str("\n\n");
    if let Some(hot) = hot_sentence(verdict) {
        out.push_str(&hot);
        out.push_str("\n\n");
    }
    out.push_str(&numbers(verdict));
    if verdict.drifting && verdict.accepted.is_none() {
        let _ = writeln!(
            out,
            "\nIn plain words: with this PR, feature work is {} over its allowance while debt work is {} short of the reservation. To rebalance, merge debt work this sprint, or correct this PR with `{prefix} classify debt|feature|ops|none` or `{prefix} points N`. If the trade-off is intended, someone with `{}` permission can record it with `{prefix} accept-drift <reason>`.",
            bold_amount(verdict.excess),
            bold_amount(verdict.shortfall),
            accept_permission.as_str()
        );
    }
    out
}

/// What to do with the sticky drift comment on a PR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentAction {
    /// Leave the PR alone (no drift and no earlier comment, comments off, or
    /// the existing comment already says this).
    Nothing,
    /// Post this body (first drift on this PR).
    Create(String),
    /// Edit the existing comment to this body.
    Update(String),
}

/// Decides the sticky comment: posted only when the PR drifts, edited in
/// place afterwards (never duplicated), and edited only when the text
/// changes. `existing` is the body of the bot's comment carrying
/// [`DRIFT_MARKER`], if there is one.
pub fn comment_action(
    verdict: &DriftVerdict,
    existing: Option<&str>,
    drift: &Drift,
    prefix: &str,
) -> CommentAction {
    if !drift.comment {
        return CommentAction::Nothing;
    }
    let body = sticky_comment(verdict, prefix, drift.accept_permission);
    match existing {
        Some(old) if old.trim_end() == body.trim_end() => CommentAction::Nothing,
        Some(_) => CommentAction::Update(body),
        None if verdict.drifting => CommentAction::Create(body),
        None => CommentAction::Nothing,
    }
}

/// The reply to `/debt status` on a PR: the sprint's budget and this PR's
/// class and points, with where each came from.
pub fn status_reply(verdict: &DriftVerdict, classification: &Classification) -> String {
    let class_why = match &classification.class_source {
        ClassSource::Override => "set with `classify`".to_string(),
        ClassSource::Label(label) => format!("label `{}`", code(label)),
        ClassSource::DebtAnnotations => "it pays down debt annotations".to_string(),
        ClassSource::None => "no class label".to_string(),
    };
    let points_why = match &classification.points_source {
        PointsSource::Override => "set with `points`".to_string(),
        PointsSource::PointsLabel(label) | PointsSource::SizeLabel(label) => {
            format!("label `{}`", code(label))
        }
        PointsSource::DiffSize(lines) => format!("{lines} changed lines"),
    };
    let mut out = format!(
        "This PR is **{}** work ({class_why}), {} ({points_why}).\n\n",
        classification.class.as_str(),
        bold_points(u64::from(classification.points))
    );
    out.push_str(&budget_sentence(verdict));
    out.push_str("\n\n");
    if let Some(hot) = hot_sentence(verdict) {
        out.push_str(&hot);
        out.push_str("\n\n");
    }
    out.push_str(&numbers(verdict));
    let state = match (&verdict.accepted, verdict.drifting) {
        (_, false) => "Within budget.".to_string(),
        (Some(a), true) => format!(
            "Drifting; accepted by {}: “{}”.",
            user(&a.by),
            cell(&a.reason)
        ),
        (None, true) => "⚠️ Drifting: see the drift comment on this PR.".to_string(),
    };
    let _ = writeln!(out, "\n{state}");
    out
}

/// Who accepted a drift, named without a mention: the acceptance already
/// happened in their own comment, and re-rendered bodies should not ping.
fn user(login: &str) -> String {
    paydown_markdown::user(login, false)
}

/// Text safe inside a code span (backticks cannot be escaped there, and
/// comment delimiters are broken).
fn code(text: &str) -> String {
    paydown_markdown::code_span(text)
}

/// Title and summary for the drift check run.
pub fn check_output(verdict: &DriftVerdict) -> (String, String) {
    let title = match (&verdict.accepted, verdict.drifting) {
        (_, false) => format!("Within the debt budget of {}", verdict.sprint.name),
        (Some(a), true) => format!("Drift accepted by @{}", a.by),
        (None, true) => format!(
            "Drifting: feature {} over allowance, debt {} short",
            verdict.excess, verdict.shortfall
        ),
    };
    let summary = format!("{}\n\n{}", budget_sentence(verdict), numbers(verdict));
    (title, summary)
}

fn budget_sentence(v: &DriftVerdict) -> String {
    let share = percent_bp(v.share_bp);
    match v.capacity {
        Some(capacity) => format!(
            "**{}** reserves **{}** of its **{capacity}** points ({share}) for paying down debt, which leaves **{}** for feature work.",
            cell(&v.sprint.label()),
            v.reserved,
            v.allowance
        ),
        None => format!(
            "**{}** has no capacity set, so it reserves {share} of the points merged so far (with this PR): **{}** points for paying down debt, which leaves **{}** for feature work.",
            cell(&v.sprint.label()),
            v.reserved,
            v.allowance
        ),
    }
}

/// Why the reservation is raised: the hot items, by issue, with titles
/// made inert (they are code text).
fn hot_sentence(v: &DriftVerdict) -> Option<String> {
    if v.boost_bp == 0 || v.hot.is_empty() {
        return None;
    }
    const LISTED: usize = 10;
    let mut items: Vec<String> = v
        .hot
        .iter()
        .take(LISTED)
        .map(|h| format!("#{} {}", h.number, cell(&h.title)))
        .collect();
    if v.hot.len() > LISTED {
        items.push(format!("and {} more", v.hot.len() - LISTED));
    }
    Some(format!(
        "🔥 The reservation includes **+{}** (`sprints.hot_share_boost`) because {} hot (incident spike): {}.",
        percent_bp(v.boost_bp),
        if v.hot.len() == 1 {
            "this debt item is"
        } else {
            "these debt items are"
        },
        items.join("; ")
    ))
}

fn numbers(v: &DriftVerdict) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "- Feature work so far, with this PR: {} (allowance {}).",
        bold_points(v.feature_so_far),
        v.allowance
    );
    let _ = writeln!(
        out,
        "- Debt work so far: {} (reserved {}, tolerance {}).",
        bold_points(v.debt_so_far),
        v.reserved,
        v.tolerance
    );
    let class = v.this_pr_class.as_str();
    let points = u64::from(v.this_pr_points);
    if v.this_pr_feature > 0 && v.this_pr_feature < points {
        let _ = writeln!(
            out,
            "- This PR (#{}): {} of feature work, of which {} as debt work because it pays down debt annotations.",
            v.pr,
            bold_points(points),
            match points - v.this_pr_feature {
                1 => "1 counts".to_string(),
                n => format!("{n} count"),
            }
        );
    } else {
        let _ = writeln!(
            out,
            "- This PR (#{}): {} of {class} work.",
            v.pr,
            bold_points(points)
        );
    }
    out
}

/// `**1** point`, `**5** points`.
fn bold_points(n: u64) -> String {
    format!("**{n}** point{}", if n == 1 { "" } else { "s" })
}

/// The same for a budget amount.
fn bold_amount(a: Amount) -> String {
    let one = a.to_string() == "1";
    format!("**{a}** point{}", if one { "" } else { "s" })
}

/// The dashboard's "Sprint budget" section body (the caller adds the
/// heading): a table of the current and previous sprints and a Mermaid chart
/// of debt vs feature points.
pub fn dashboard_section(ledger: &Ledger, now: DateTime<Utc>) -> String {
    let sprints = ledger.recent(now, DASHBOARD_SPRINTS);
    if sprints.is_empty() {
        return "_No sprint has started yet._\n".to_string();
    }
    let mut out = budget_line(ledger.budget());
    out.push('\n');
    out.push_str(&sprint_table(&sprints, now));
    out.push('\n');
    out.push_str(&chart(&sprints));
    if let Some(interest) = interest(&sprints) {
        out.push('\n');
        out.push_str(&interest);
    }
    out
}

/// The interest debt costs, per sprint: the share of merged points that
/// went to ops work (unplanned, firefighting) and the incidents that
/// started in it. Shown once there is ops work or incidents are read.
fn interest(sprints: &[SprintLedger]) -> Option<String> {
    let any_ops = sprints.iter().any(|s| s.totals.ops > 0);
    let incidents_known = sprints.iter().any(|s| s.incidents.is_some());
    if !any_ops && !incidents_known {
        return None;
    }
    let percent = |s: &SprintLedger| s.ops_share.map_or(0, |x| (x * 100.0).round() as u64);
    let incidents = |s: &SprintLedger| u64::from(s.incidents.unwrap_or(0));
    let mut out = String::from(
        "**Interest paid per sprint**: the share of merged points that went to ops work \
         (unplanned, firefighting) and the incidents that started in the sprint. Paying \
         debt down should bring both down and free capacity; when they grow, debt is \
         compounding.\n\n| Sprint | Ops share | Incidents |\n|---|---:|---:|\n",
    );
    for s in sprints {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell(&s.sprint.name),
            share(s.ops_share),
            s.incidents
                .map_or_else(|| "—".to_string(), |n| n.to_string())
        );
    }
    let names: Vec<String> = sprints
        .iter()
        .map(|s| format!("\"{}\"", chart_label(&s.sprint.name)))
        .collect();
    let series = |f: &dyn Fn(&SprintLedger) -> u64| {
        sprints
            .iter()
            .map(|s| f(s).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let top = sprints
        .iter()
        .map(|s| percent(s).max(incidents(s)))
        .max()
        .unwrap_or(0)
        .max(1);
    out.push_str("\n```mermaid\nxychart-beta\n");
    out.push_str("    title \"Interest paid per sprint\"\n");
    let _ = writeln!(out, "    x-axis [{}]", names.join(", "));
    let _ = writeln!(out, "    y-axis \"Ops % / incidents\" 0 --> {top}");
    let _ = writeln!(out, "    bar [{}]", series(&percent));
    if incidents_known {
        let _ = writeln!(out, "    line [{}]", series(&incidents));
    }
    out.push_str("```\n\n_Bars: ops share of merged points (%).");
    if incidents_known {
        out.push_str(" Line: incidents started.");
    }
    out.push_str("_\n");
    Some(out)
}

/// The dashboard's "Accepted drifts" list for the recent sprints; `None` when
/// there is none (the section is then left out).
pub fn accepted_drifts_section(ledger: &Ledger, now: DateTime<Utc>) -> Option<String> {
    let mut out = String::new();
    for sprint in ledger.recent(now, DASHBOARD_SPRINTS).iter().rev() {
        for a in &sprint.accepted {
            let _ = writeln!(
                out,
                "- #{} {} — accepted by {} on {} ({}): {}",
                a.number,
                cell(&a.title),
                user(&a.acceptance.by),
                a.acceptance.at.format("%Y-%m-%d"),
                cell(&sprint.sprint.name),
                cell(&a.acceptance.reason)
            );
        }
    }
    (!out.is_empty()).then_some(out)
}

fn budget_line(budget: &Budget) -> String {
    let capacity = match budget.capacity {
        Some(c) => format!("a capacity of {c} points"),
        None => "no fixed capacity (the merged points are the base)".to_string(),
    };
    format!(
        "Each sprint reserves {} for debt work, with {capacity} and a tolerance of {}.\n",
        percent_bp(budget.share_bp),
        percent_bp(budget.tolerance_bp)
    )
}

fn sprint_table(sprints: &[SprintLedger], now: DateTime<Utc>) -> String {
    let mut out = String::from(
        "| Sprint | Dates | Reserved | Debt | Feature | Ops | Unclassified | Debt share | Accepted drifts |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for s in sprints {
        let current = if s.sprint.contains(now) {
            " (current)"
        } else {
            ""
        };
        let flag = if s.drifting { " ⚠️" } else { "" };
        let accepted = s
            .accepted
            .iter()
            .map(|a| format!("#{}", a.number))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "| {}{current} | {} – {} | {}{} | {} | {}{flag} | {} | {} | {} | {} |",
            cell(&s.sprint.name),
            s.sprint.first_day,
            s.sprint.last_day,
            s.reserved,
            s.capacity.map(|c| format!(" of {c}")).unwrap_or_default(),
            s.totals.debt,
            s.totals.feature,
            s.totals.ops,
            s.totals.unclassified,
            share(s.debt_share),
            if accepted.is_empty() {
                "—".to_string()
            } else {
                accepted
            }
        );
    }
    out
}

fn chart(sprints: &[SprintLedger]) -> String {
    let names: Vec<String> = sprints
        .iter()
        .map(|s| format!("\"{}\"", chart_label(&s.sprint.name)))
        .collect();
    let series = |f: &dyn Fn(&SprintLedger) -> u64| {
        sprints
            .iter()
            .map(|s| f(s).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let top = sprints
        .iter()
        .map(|s| s.totals.feature.max(s.totals.debt))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = String::from("```mermaid\nxychart-beta\n");
    out.push_str("    title \"Debt vs feature points per sprint\"\n");
    let _ = writeln!(out, "    x-axis [{}]", names.join(", "));
    let _ = writeln!(out, "    y-axis \"Points\" 0 --> {top}");
    let _ = writeln!(out, "    bar [{}]", series(&|s| s.totals.feature));
    let _ = writeln!(out, "    line [{}]", series(&|s| s.totals.debt));
    out.push_str("```\n\n_Bars: feature points. Line: debt points._\n");
    out
}

/// A Mermaid string literal cannot hold `"` (nor, in a Markdown body,
/// a comment delimiter); keep labels short.
fn chart_label(name: &str) -> String {
    let clean: String = paydown_markdown::code_span(name)
        .chars()
        .map(|c| if c == '"' || c.is_control() { '\'' } else { c })
        .collect();
    if clean.chars().count() > 24 {
        let mut short: String = clean.chars().take(23).collect();
        short.push('…');
        short
    } else {
        clean
    }
}

/// Text safe inside a table cell or a Markdown line: one line, no `|`, and
/// nothing that opens an HTML comment (a forged marker) or HTML.
fn cell(text: &str) -> String {
    paydown_markdown::table_cell(text)
}

fn share(share: Option<f64>) -> String {
    match share {
        Some(s) => format!("{:.0}%", s * 100.0),
        None => "—".to_string(),
    }
}

/// Basis points as a percentage: `30%`, `22.5%`, `0.05%`.
fn percent_bp(bp: u32) -> String {
    let text = Amount::from_raw(u64::from(bp) * 100).to_string();
    format!("{text}%")
}

/// The report of the last `count` sprints up to `now`, as plain text.
pub fn report_text(ledger: &Ledger, now: DateTime<Utc>, count: usize) -> String {
    let sprints = ledger.recent(now, count);
    let mut out = budget_line(ledger.budget());
    if sprints.is_empty() {
        out.push_str("No sprint has started yet.\n");
    }
    for s in &sprints {
        let _ = writeln!(
            out,
            "\n{}{}",
            s.sprint.label(),
            if s.sprint.contains(now) {
                " (current)"
            } else {
                ""
            }
        );
        let capacity = s
            .capacity
            .map_or_else(|| "none".to_string(), |c| c.to_string());
        let _ = writeln!(
            out,
            "  capacity {capacity}, reserved {}, allowance {}, tolerance {}",
            s.reserved, s.allowance, s.tolerance
        );
        let _ = writeln!(
            out,
            "  debt {}, feature {}, ops {}, unclassified {}, debt share {}{}",
            s.totals.debt,
            s.totals.feature,
            s.totals.ops,
            s.totals.unclassified,
            share(s.debt_share),
            if s.drifting { "  DRIFTING" } else { "" }
        );
        for pr in &s.prs {
            let c = &pr.classification;
            let credit = if c.class != WorkClass::Debt && pr.split.debt > 0 {
                format!(" ({} debt)", pr.split.debt)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  #{:<6} {:<12} {:>3} pts  {}  {}{credit}",
                pr.number,
                c.class.as_str(),
                c.points,
                pr.merged_at.format("%Y-%m-%d %H:%M"),
                single_line(&pr.title)
            );
        }
        for a in &s.accepted {
            let _ = writeln!(
                out,
                "  accepted drift on #{} by @{} ({}): {}",
                a.number,
                a.acceptance.by,
                a.acceptance.at.format("%Y-%m-%d"),
                single_line(&a.acceptance.reason)
            );
        }
    }
    let outside = ledger.outside_sprints();
    if !outside.is_empty() {
        let list: Vec<String> = outside.iter().map(|n| format!("#{n}")).collect();
        let _ = writeln!(out, "\nMerged outside any sprint: {}", list.join(", "));
    }
    out
}

/// Plain-text (terminal) report line: not Markdown, so nothing is escaped;
/// control characters only are blanked so a title cannot move the cursor.
fn single_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The report as Markdown: the dashboard section plus every PR per sprint.
pub fn report_markdown(ledger: &Ledger, now: DateTime<Utc>, count: usize) -> String {
    let sprints = ledger.recent(now, count);
    let mut out = String::from("## Sprint budget\n\n");
    if sprints.is_empty() {
        out.push_str("_No sprint has started yet._\n");
        return out;
    }
    out.push_str(&budget_line(ledger.budget()));
    out.push('\n');
    out.push_str(&sprint_table(&sprints, now));
    out.push('\n');
    out.push_str(&chart(&sprints));
    for s in sprints.iter().rev() {
        let _ = writeln!(out, "\n### {}\n", cell(&s.sprint.label()));
        if s.prs.is_empty() {
            out.push_str("_Nothing merged._\n");
        } else {
            out.push_str("| PR | Class | Points | Debt | Merged |\n|---|---|---:|---:|---|\n");
            for pr in &s.prs {
                let _ = writeln!(
                    out,
                    "| #{} {} | {} | {} | {} | {} |",
                    pr.number,
                    cell(&pr.title),
                    pr.classification.class.as_str(),
                    pr.classification.points,
                    pr.split.debt,
                    pr.merged_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        for a in &s.accepted {
            let _ = writeln!(
                out,
                "\n- Drift accepted on #{} by {} ({}): {}",
                a.number,
                user(&a.acceptance.by),
                a.acceptance.at.format("%Y-%m-%d"),
                cell(&a.acceptance.reason)
            );
        }
    }
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    budget: &'a Budget,
    sprints: Vec<SprintLedger>,
    outside_sprints: &'a [u64],
}

/// The report as pretty JSON (sprints oldest first).
pub fn report_json(ledger: &Ledger, now: DateTime<Utc>, count: usize) -> String {
    let report = JsonReport {
        budget: ledger.budget(),
        sprints: ledger.recent(now, count),
        outside_sprints: ledger.outside_sprints(),
    };
    // Serializing plain structs with string keys cannot fail; fall back to
    // an empty object rather than panic if that ever changes.
    serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::evaluate_pr;
    use crate::ledger::Acceptance;
    use crate::ledger::tests::{build, config, day, pr};

    fn third_pr_verdict(accepted: bool, third_class: &str) -> DriftVerdict {
        let cfg = config(Some(20), 0.3, 0.05);
        let mut prs: Vec<_> = (1..=3)
            .map(|i| pr(i, "feature", 5, Some(day(5 + i as u32, 9))))
            .collect();
        prs[2].labels[0] = third_class.to_string();
        if accepted {
            prs[2].accepted_drift = Some(Acceptance {
                by: "lead".into(),
                reason: "launch <week> | big".into(),
                at: day(9, 0),
            });
        }
        let ledger = build(&cfg, &prs);
        let sprint = ledger.sprint_for_pr(&prs[2], day(10, 0)).unwrap();
        evaluate_pr(&ledger, &sprint, &prs[2])
    }

    #[test]
    fn drift_comment_names_the_hot_items_that_raised_the_reservation() {
        // Given a drifting PR whose reservation was raised by two hot items,
        // one with a title that tries to mention a team,
        let mut v = third_pr_verdict(false, "feature");
        v.boost_bp = 1_000;
        v.hot = vec![
            crate::ledger::HotItem {
                number: 12,
                title: "FIXME: retries, cc @acme/payments".into(),
            },
            crate::ledger::HotItem {
                number: 15,
                title: "HACK: cache".into(),
            },
        ];
        // when the comment is rendered, then it names both, mentioning nobody.
        let body = sticky_comment(&v, "/debt", Permission::Maintain);
        assert!(
            body.contains(
                "The reservation includes **+10%** (`sprints.hot_share_boost`) because these debt items are hot (incident spike): #12 FIXME: retries, cc @\u{200b}acme/payments; #15 HACK: cache."
            ),
            "{body}"
        );
        // Without a boost nothing is said.
        v.boost_bp = 0;
        assert!(!sticky_comment(&v, "/debt", Permission::Maintain).contains("hot_share_boost"));
    }

    #[test]
    fn drift_comment_states_the_numbers_in_plain_words() {
        let body = sticky_comment(
            &third_pr_verdict(false, "feature"),
            "/debt",
            Permission::Maintain,
        );
        assert!(body.starts_with(DRIFT_MARKER));
        for want in [
            "drifting to feature work",
            "**Sprint 1 (2026-01-05 – 2026-01-18)** reserves **6** of its **20** points (30%)",
            "leaves **14** for feature work",
            "Feature work so far, with this PR: **15** points (allowance 14).",
            "Debt work so far: **0** points (reserved 6, tolerance 1)",
            "This PR (#3): **5** points of feature work",
            "feature work is **1** point over its allowance while debt work is **6** points short of the reservation",
            "someone with `maintain` permission can record it with `/debt accept-drift <reason>`",
        ] {
            assert!(body.contains(want), "missing {want:?} in\n{body}");
        }
        let again = sticky_comment(
            &third_pr_verdict(false, "feature"),
            "/debt",
            Permission::Maintain,
        );
        assert_eq!(body, again, "deterministic");
    }

    #[test]
    fn comment_and_report_show_the_debt_credit_of_a_feature_pr() {
        // Given the third feature PR is 6 points and pays down one annotation
        let cfg = config(Some(20), 0.3, 0.05);
        let mut prs: Vec<_> = (1..=3)
            .map(|i| pr(i, "feature", 5, Some(day(5 + i as u32, 9))))
            .collect();
        prs[2].labels[1] = "points: 6".into();
        prs[2].debt_items_paid = 1;
        let ledger = build(&cfg, &prs);
        let sprint = ledger.sprint_for_pr(&prs[2], day(10, 0)).unwrap();
        let v = evaluate_pr(&ledger, &sprint, &prs[2]);
        // Then 5 feature points push 15 > 14 and debt is 1
        assert!(v.drifting);
        let body = sticky_comment(&v, "/debt", Permission::Maintain);
        for want in [
            "- Debt work so far: **1** point (reserved 6, tolerance 1).",
            "- This PR (#3): **6** points of feature work, of which 1 counts as debt work because it pays down debt annotations.",
            "feature work is **1** point over its allowance while debt work is **5** points short",
        ] {
            assert!(body.contains(want), "missing {want:?} in\n{body}");
        }
        let text = report_text(&ledger, day(10, 0), 1);
        assert!(
            text.contains("  6 pts  2026-01-08 09:00  PR 3 (1 debt)"),
            "{text}"
        );
    }

    #[test]
    fn comment_is_posted_once_then_edited_only_on_change() {
        let drift = Drift::default();
        let drifting = third_pr_verdict(false, "feature");
        let clear = third_pr_verdict(false, "debt");
        // No drift and no earlier comment: nothing to say
        assert_eq!(
            comment_action(&clear, None, &drift, "/debt"),
            CommentAction::Nothing
        );
        // First drift: create
        let CommentAction::Create(body) = comment_action(&drifting, None, &drift, "/debt") else {
            panic!("expected a new comment");
        };
        // Same verdict again (a redelivered event): nothing
        assert_eq!(
            comment_action(&drifting, Some(&body), &drift, "/debt"),
            CommentAction::Nothing
        );
        // Relabelled as debt: the comment is edited to the all-clear
        let CommentAction::Update(cleared) = comment_action(&clear, Some(&body), &drift, "/debt")
        else {
            panic!("expected an edit");
        };
        assert!(cleared.contains("No longer drifting"));
        // Accepted: edited to say so
        let accepted = third_pr_verdict(true, "feature");
        assert!(matches!(
            comment_action(&accepted, Some(&body), &drift, "/debt"),
            CommentAction::Update(b) if b.contains("Drift accepted")
        ));
        // Comments off
        let off = Drift {
            comment: false,
            ..Drift::default()
        };
        assert_eq!(
            comment_action(&drifting, None, &off, "/debt"),
            CommentAction::Nothing
        );
    }

    #[test]
    fn status_reply_says_where_class_and_points_come_from() {
        let cfg = config(Some(20), 0.3, 0.05);
        let ledger = build(&cfg, &[]);
        let mut open = pr(9, "Feature", 5, None);
        open.labels = vec!["Feature".into(), "size/M".into()];
        let sprint = ledger.sprint_for_pr(&open, day(6, 0)).unwrap();
        let v = evaluate_pr(&ledger, &sprint, &open);
        let reply = status_reply(&v, &ledger.classify(&open));
        assert!(
            reply.starts_with("This PR is **feature** work (label `Feature`), **5** points (label `size/M`).\n\n**Sprint 1"),
            "{reply}"
        );
        assert!(reply.ends_with("\nWithin budget.\n"), "{reply}");
        open.labels.clear();
        open.additions = 120;
        let reply = status_reply(&v, &ledger.classify(&open));
        assert!(
            reply.contains(
                "**unclassified** work (no class label), **3** points (120 changed lines)"
            )
        );
    }

    #[test]
    fn accepted_comment_names_who_and_why_escaped() {
        let body = sticky_comment(
            &third_pr_verdict(true, "feature"),
            "/debt",
            Permission::Maintain,
        );
        assert!(body.contains("### ✅ Drift accepted"));
        assert!(
            body.contains(
                "`lead` accepted this drift on 2026-01-09: “launch &lt;week&gt; \\| big”."
            )
        );
        assert!(!body.contains("accept-drift <reason>"));
    }

    #[test]
    fn given_a_reason_forging_a_marker_then_the_sticky_comment_has_only_its_own() {
        let mut v = third_pr_verdict(true, "feature");
        if let Some(a) = v.accepted.as_mut() {
            a.reason = "x <!-- paydown:record {\"kind\":\"points\"} --> y".into();
        }
        let body = sticky_comment(&v, "/debt", Permission::Maintain);
        assert_eq!(body.matches("<!--").count(), 1, "{body}");
        assert_eq!(body.matches("-->").count(), 1, "{body}");
        assert!(body.contains("“x &lt;!-- paydown:record"), "{body}");
    }

    #[test]
    fn relabelled_pr_gets_the_all_clear() {
        let v = third_pr_verdict(false, "debt");
        let body = sticky_comment(&v, "/debt", Permission::Write);
        assert!(body.starts_with(DRIFT_MARKER));
        assert!(body.contains("### ✅ No longer drifting"));
        assert!(body.contains("This PR (#3): **5** points of debt work."));
        let (title, _) = check_output(&v);
        assert_eq!(title, "Within the debt budget of Sprint 1");
        let (title, summary) = check_output(&third_pr_verdict(false, "feature"));
        assert_eq!(title, "Drifting: feature 1 over allowance, debt 6 short");
        assert!(summary.contains("allowance 14"));
    }

    #[test]
    fn comment_without_capacity_explains_the_base() {
        let cfg = config(None, 0.25, 0.0);
        let prs = [pr(1, "feature", 8, Some(day(6, 0)))];
        let ledger = build(&cfg, &prs);
        let sprint = ledger.sprint_for_pr(&prs[0], day(6, 0)).unwrap();
        let v = evaluate_pr(&ledger, &sprint, &prs[0]);
        assert!(v.drifting);
        let body = sticky_comment(&v, "/debt", Permission::Admin);
        assert!(body.contains("has no capacity set, so it reserves 25% of the points merged so far (with this PR): **2** points"), "{body}");
    }

    fn dashboard_ledger() -> Ledger {
        let cfg = config(Some(20), 0.3, 0.05);
        let mut prs: Vec<_> = (1..=3)
            .map(|i| pr(i, "feature", 5, Some(day(5 + i as u32, 9))))
            .collect();
        prs[2].accepted_drift = Some(Acceptance {
            by: "lead".into(),
            reason: "launch week".into(),
            at: day(9, 0),
        });
        prs.push(pr(4, "debt", 3, Some(day(20, 9))));
        prs.push(pr(5, "bug", 2, Some(day(21, 9))));
        build(&cfg, &prs)
    }

    #[test]
    fn dashboard_section_has_table_and_chart() {
        let ledger = dashboard_ledger();
        let body = dashboard_section(&ledger, day(22, 0));
        let expected = "Each sprint reserves 30% for debt work, with a capacity of 20 points and a tolerance of 5%.

| Sprint | Dates | Reserved | Debt | Feature | Ops | Unclassified | Debt share | Accepted drifts |
|---|---|---:|---:|---:|---:|---:|---:|---|
| Sprint 1 | 2026-01-05 – 2026-01-18 | 6 of 20 | 0 | 15 ⚠️ | 0 | 0 | 0% | #3 |
| Sprint 2 (current) | 2026-01-19 – 2026-02-01 | 6 of 20 | 3 | 0 | 0 | 2 | 60% | — |

```mermaid
xychart-beta
    title \"Debt vs feature points per sprint\"
    x-axis [\"Sprint 1\", \"Sprint 2\"]
    y-axis \"Points\" 0 --> 15
    bar [15, 0]
    line [0, 3]
```

_Bars: feature points. Line: debt points._
";
        assert_eq!(body, expected);
        assert_eq!(
            accepted_drifts_section(&ledger, day(22, 0)).unwrap(),
            "- #3 PR 3 — accepted by `lead` on 2026-01-09 (Sprint 1): launch week\n"
        );
    }

    #[test]
    fn the_sprint_chart_shows_the_interest_paid_ops_share_and_incidents() {
        // Given a sprint of 5 feature and 5 ops points, then one of 3 debt
        // and 1 ops point, and incidents: two in sprint 1, one in sprint 2,
        let cfg = config(Some(20), 0.3, 0.05);
        let prs = vec![
            pr(1, "feature", 5, Some(day(6, 9))),
            pr(2, "ops", 5, Some(day(7, 9))),
            pr(3, "debt", 3, Some(day(20, 9))),
            pr(4, "ops", 1, Some(day(21, 9))),
        ];
        let mut ledger = build(&cfg, &prs);
        // (without incidents, the ops share alone is shown)
        let body = dashboard_section(&ledger, day(22, 0));
        assert!(body.contains("| Sprint 1 | 50% | — |"), "{body}");
        assert!(!body.contains("Line: incidents"), "{body}");
        ledger.set_incidents([day(8, 1), day(9, 2), day(21, 3), day(2, 0)]);
        // when the dashboard section is rendered,
        let body = dashboard_section(&ledger, day(22, 0));
        // then each sprint shows its ops share and incidents, in a table and a chart.
        assert!(
            body.contains("| Sprint | Ops share | Incidents |"),
            "{body}"
        );
        assert!(body.contains("| Sprint 1 | 50% | 2 |"), "{body}");
        assert!(body.contains("| Sprint 2 | 25% | 1 |"), "{body}");
        assert!(
            body.contains("    title \"Interest paid per sprint\"\n"),
            "{body}"
        );
        assert!(
            body.contains("    bar [50, 25]\n    line [2, 1]\n"),
            "{body}"
        );
        assert_eq!(ledger.recent(day(22, 0), 2)[0].incidents, Some(2));
    }

    #[test]
    fn dashboard_shows_at_most_seven_sprints_and_nothing_before_the_first() {
        let ledger = dashboard_ledger();
        let late = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let body = dashboard_section(&ledger, late);
        assert_eq!(
            body.lines()
                .filter(|l| l.starts_with("| Sprint ") && !l.starts_with("| Sprint |"))
                .count(),
            7
        );
        assert!(!body.contains("Sprint 1 "), "sprint 1 is too old");
        assert!(accepted_drifts_section(&ledger, late).is_none());
        let early = Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap();
        assert_eq!(
            dashboard_section(&ledger, early),
            "_No sprint has started yet._\n"
        );
    }

    use chrono::TimeZone;

    #[test]
    fn reports_in_three_formats() {
        let ledger = dashboard_ledger();
        let now = day(22, 0);
        let text = report_text(&ledger, now, 6);
        for want in [
            "Sprint 1 (2026-01-05 – 2026-01-18)\n  capacity 20, reserved 6, allowance 14, tolerance 1\n  debt 0, feature 15, ops 0, unclassified 0, debt share 0%  DRIFTING",
            "#3      feature        5 pts  2026-01-08 09:00  PR 3",
            "accepted drift on #3 by @lead (2026-01-09): launch week",
            "Sprint 2 (2026-01-19 – 2026-02-01) (current)",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        let md = report_markdown(&ledger, now, 6);
        assert!(md.starts_with("## Sprint budget\n\n"));
        assert!(md.contains("| #5 PR 5 | unclassified | 2 | 0 | 2026-01-21 09:00 UTC |"));
        assert!(
            md.find("### Sprint 2").unwrap() < md.find("### Sprint 1").unwrap(),
            "newest first"
        );
        let json: serde_json::Value = serde_json::from_str(&report_json(&ledger, now, 6)).unwrap();
        assert_eq!(json["budget"]["share_bp"], 3000);
        assert_eq!(json["sprints"][0]["reserved"], 6.0);
        assert_eq!(json["sprints"][0]["totals"]["feature"], 15);
        assert_eq!(json["sprints"][0]["drifting"], true);
        assert_eq!(json["sprints"][0]["sprint"]["id"]["cadence"], 0);
        assert_eq!(
            json["sprints"][1]["prs"][1]["classification"]["class"],
            "unclassified"
        );
        assert_eq!(
            json["sprints"][0]["accepted"][0]["acceptance"]["reason"],
            "launch week"
        );
    }

    #[test]
    fn chart_labels_are_safe() {
        assert_eq!(chart_label("Q1 \"big\" push"), "Q1 'big' push");
        assert_eq!(
            chart_label("a very long milestone title indeed"),
            "a very long milestone t…"
        );
        assert_eq!(percent_bp(2250), "22.5%");
        assert_eq!(percent_bp(5), "0.05%");
    }
}
