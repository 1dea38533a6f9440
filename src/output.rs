//! Rendering a scan for people and tools: text, JSON, SARIF 2.1.0,
//! Markdown and CSV. Pure functions from a report to a string.

use std::fmt::Write as _;

use paydown_annotations::{Annotation, Cost, CostUnit, Metadata};
use paydown_config::{Annotations, Severity};
use serde_json::{Value, json};

use paydown_scan::ScanReport;
use paydown_sync::DashboardWrite;

/// The SARIF level for a keyword's configured severity.
fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "note",
        Severity::Medium | Severity::High => "warning",
        Severity::Critical => "error",
    }
}

/// An annotation's cost as written in its tag (`3h`, `2d`, `5pt`).
pub fn cost_string(cost: &Cost) -> String {
    let unit = match cost.unit {
        CostUnit::Hours => "h",
        CostUnit::Days => "d",
        CostUnit::Weeks => "w",
        CostUnit::Points => "pt",
    };
    format!("{}{unit}", cost.amount)
}

/// The metadata as the user would write it inside the parentheses.
pub fn metadata_string(m: &Metadata) -> String {
    let mut parts: Vec<String> = m.owners.iter().map(|o| format!("@{o}")).collect();
    if let Some(issue) = m.issue {
        parts.push(format!("#{issue}"));
    }
    if let Some(id) = &m.id {
        parts.push(format!("id={id}"));
    }
    if let Some(cost) = &m.cost {
        parts.push(format!("cost={}", cost_string(cost)));
    }
    if let Some(area) = &m.area {
        parts.push(format!("area={area}"));
    }
    if let Some(tier) = m.tier {
        parts.push(format!("tier={tier}"));
    }
    parts.extend(m.incidents.iter().map(|i| format!("incident={i}")));
    if let Some(due) = &m.due {
        parts.push(format!("due={due}"));
    }
    parts.extend(m.extra.iter().map(|(k, v)| format!("{k}={v}")));
    parts.join(", ")
}

/// `path:line:col: KEYWORD(meta): text  [id]`, body lines indented below.
pub fn text(report: &ScanReport) -> String {
    let mut out = String::new();
    for a in &report.annotations {
        let meta = metadata_string(&a.metadata);
        let meta = if meta.is_empty() {
            String::new()
        } else {
            format!("({meta})")
        };
        let _ = writeln!(
            out,
            "{}:{}:{}: {}{}: {}  [{}]",
            a.path, a.line, a.column, a.keyword, meta, a.text, a.id
        );
        for line in a.body.lines() {
            let _ = writeln!(out, "    {line}");
        }
        for problem in &a.metadata.problems {
            let _ = writeln!(out, "    warning: {problem}");
        }
    }
    out
}

/// One line for stderr: what was found and what was left out.
pub fn summary(report: &ScanReport) -> String {
    let mut line = format!(
        "{} annotation{} in {} file{} scanned",
        report.annotations.len(),
        if report.annotations.len() == 1 {
            ""
        } else {
            "s"
        },
        report.files_scanned,
        if report.files_scanned == 1 { "" } else { "s" },
    );
    if !report.skipped.is_empty() {
        let parts: Vec<String> = report
            .skipped
            .iter()
            .map(|(reason, n)| {
                let name = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                    .unwrap_or_default();
                format!("{n} {name}")
            })
            .collect();
        let _ = write!(line, "; skipped: {}", parts.join(", "));
    }
    line
}

/// `{"annotations": [...], "files_scanned": N, "skipped": {...}}`.
pub fn json(report: &ScanReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF 2.1.0 for GitHub code scanning: one rule per keyword, one result
/// per annotation, the item id as a partial fingerprint so alerts follow
/// an annotation when lines move.
pub fn sarif(report: &ScanReport, config: &Annotations) -> String {
    let level = |k: &str| sarif_level(config.severity_of(k));
    let keywords = &config.keywords;
    // Rules for configured keywords first, in config order, then any other
    // keyword seen, so rule indexes are stable across runs.
    let mut rule_keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
    for a in &report.annotations {
        if !rule_keywords.contains(&a.keyword.as_str()) {
            rule_keywords.push(&a.keyword);
        }
    }
    let rules: Vec<Value> = rule_keywords
        .iter()
        .map(|k| {
            json!({
                "id": format!("paydown/{k}"),
                "name": format!("DebtAnnotation{}", k),
                "shortDescription": {"text": format!("{k} annotation")},
                "fullDescription": {"text": format!("A {k} comment marks technical debt tracked by paydown.")},
                "defaultConfiguration": {"level": level(k)},
                "help": {"text": "paydown tracks each debt annotation as a GitHub issue; see the item's metadata for owner, cost and area."},
                "properties": {"tags": ["technical-debt"]},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .annotations
        .iter()
        .map(|a| {
            let index = rule_keywords
                .iter()
                .position(|k| *k == a.keyword)
                .unwrap_or(0);
            let mut message = format!("{}: {}", a.keyword, a.text);
            let meta = metadata_string(&a.metadata);
            if !meta.is_empty() {
                let _ = write!(message, " ({meta})");
            }
            json!({
                "ruleId": format!("paydown/{}", a.keyword),
                "ruleIndex": index,
                "level": level(&a.keyword),
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": sarif_uri(&a.path), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": a.line,
                            "startColumn": a.column,
                            "endLine": a.end_line.max(a.line),
                        }
                    }
                }],
                "partialFingerprints": {"paydownItemId/v1": a.id},
                "properties": {"paydownId": a.id, "metadata": a.metadata},
            })
        })
        .collect();
    let doc = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "paydown",
                "informationUri": "https://github.com/paydown/paydown",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///"}},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// SARIF URIs are URI references: percent-encode what isn't allowed in a
/// path segment, keep `/`.
fn sarif_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A sync for people: what was scanned, the plan, and what was applied.
pub fn sync_text(outcome: &paydown_sync::SyncOutcome) -> String {
    let mut out = format!(
        "{}@{} ({}): {} annotation{} in {} files\n",
        outcome.repo,
        &outcome.sha[..outcome.sha.len().min(12)],
        outcome.branch,
        outcome.annotations,
        if outcome.annotations == 1 { "" } else { "s" },
        outcome.files_scanned,
    );
    for error in &outcome.config_errors {
        let _ = writeln!(out, "config error (defaults used): {error}");
    }
    out.push_str(&outcome.plan.to_text());
    let _ = writeln!(
        out,
        "dashboard: {}",
        match &outcome.dashboard {
            DashboardWrite::Created { number } => format!("created #{number}"),
            DashboardWrite::Updated { number } => format!("updated #{number}"),
            DashboardWrite::Unchanged { number } => format!("#{number} unchanged"),
            DashboardWrite::LeftClosed { number } =>
                format!("#{number} closed by a maintainer; left alone"),
            DashboardWrite::Disabled => "off (dashboard: false)".to_string(),
            DashboardWrite::Refused { message, accepted } =>
                format!("refused: {message} (the token needs {accepted})"),
            DashboardWrite::WouldCreate => "would be created".to_string(),
            DashboardWrite::WouldUpdate { number } => format!("#{number} would be updated"),
        }
    );
    match &outcome.applied {
        None => out.push_str("dry run: nothing was changed\n"),
        Some(applied) => {
            let _ = writeln!(
                out,
                "applied {} effect{}, {} failed",
                applied.applied,
                if applied.applied == 1 { "" } else { "s" },
                applied.failures.len()
            );
            for failure in &applied.failures {
                let _ = writeln!(out, "failed: {}: {}", failure.effect, failure.error);
            }
        }
    }
    out
}

/// Code text in a table cell, escaped like the bot's bodies: no HTML,
/// mention, reference, link or bidi control, and no way out of the cell.
fn md_cell(s: &str) -> String {
    paydown_markdown::table_cell(s)
}

/// A code span in a table cell.
fn md_code(s: &str) -> String {
    format!("`{}`", paydown_markdown::table_code_span(s))
}

/// A Markdown table, for job summaries and pasting into issues.
pub fn markdown(report: &ScanReport) -> String {
    let mut out = String::from("| Keyword | Location | Text | Owner | Cost | Area | Id |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for a in &report.annotations {
        let m = &a.metadata;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md_cell(&a.keyword),
            md_code(&format!("{}:{}", a.path, a.line)),
            md_cell(&a.text),
            m.owners
                .iter()
                .map(|o| paydown_markdown::user(o, false))
                .collect::<Vec<_>>()
                .join(" "),
            m.cost.as_ref().map(cost_string).unwrap_or_default(),
            md_cell(m.area.as_deref().unwrap_or("")),
            md_code(&a.id),
        );
    }
    let _ = writeln!(out, "\n_{}_", summary(report));
    out
}

/// CSV with one row per annotation; multi-valued fields joined by `;`.
pub fn csv(report: &ScanReport) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "path",
        "line",
        "column",
        "keyword",
        "text",
        "body",
        "owners",
        "issue",
        "cost",
        "area",
        "tier",
        "incidents",
        "due",
        "extra",
        "id",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    rows.extend(
        report
            .annotations
            .iter()
            .map(|a| csv_row(a).into_iter().map(spreadsheet_safe).collect()),
    );
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&row);
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// A cell a spreadsheet will not run as a formula: one starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's
/// CSV-injection advice), which spreadsheets show as text.
fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_row(a: &Annotation) -> Vec<String> {
    let m = &a.metadata;
    vec![
        a.path.clone(),
        a.line.to_string(),
        a.column.to_string(),
        a.keyword.clone(),
        a.text.clone(),
        a.body.clone(),
        m.owners.join(";"),
        m.issue.map(|i| i.to_string()).unwrap_or_default(),
        m.cost.as_ref().map(cost_string).unwrap_or_default(),
        m.area.clone().unwrap_or_default(),
        m.tier.map(|t| t.to_string()).unwrap_or_default(),
        m.incidents.join(";"),
        m.due.clone().unwrap_or_default(),
        m.extra
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";"),
        a.id.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> ScanReport {
        let mut metadata = Metadata {
            owners: vec!["alice".into()],
            cost: Some(Cost {
                amount: 3,
                unit: CostUnit::Days,
            }),
            area: Some("billing".into()),
            incidents: vec!["#412".into()],
            ..Metadata::default()
        };
        metadata.extra.insert("team".into(), "core".into());
        ScanReport {
            annotations: vec![Annotation {
                path: "src/a b.rs".into(),
                line: 7,
                column: 4,
                end_line: 8,
                keyword: "FIXME".into(),
                text: "retries | double-charge".into(),
                body: "see the ledger".into(),
                metadata,
                id: "fixme-0123456789ab".into(),
            }],
            files_scanned: 2,
            ..ScanReport::default()
        }
    }

    #[test]
    fn text_shows_location_metadata_body_and_id() {
        let out = text(&report());
        assert_eq!(
            out,
            "src/a b.rs:7:4: FIXME(@alice, cost=3d, area=billing, incident=#412, team=core): retries | double-charge  [fixme-0123456789ab]\n    see the ledger\n"
        );
    }

    #[test]
    fn sarif_has_one_rule_per_keyword_and_fingerprints_from_ids() {
        let config = Annotations {
            keywords: ["TODO", "FIXME"].iter().map(|s| s.to_string()).collect(),
            ..Annotations::default()
        };
        let doc: Value = serde_json::from_str(&sarif(&report(), &config)).unwrap();
        assert_eq!(doc["version"], "2.1.0");
        let run = &doc["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1]["id"], "paydown/FIXME");
        let result = &run["results"][0];
        assert_eq!(result["ruleIndex"], 1);
        assert_eq!(result["level"], "warning");
        assert_eq!(
            result["partialFingerprints"]["paydownItemId/v1"],
            "fixme-0123456789ab"
        );
        let loc = &result["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/a%20b.rs");
        assert_eq!(loc["region"]["startLine"], 7);
        assert_eq!(loc["region"]["endLine"], 8);
    }

    #[test]
    fn markdown_escapes_pipes() {
        let out = markdown(&report());
        assert!(out.contains("retries \\| double-charge"), "{out}");
        assert!(out.contains("| FIXME | `src/a b.rs:7` |"), "{out}");
    }

    #[test]
    fn markdown_is_escaped_like_the_bots_bodies() {
        let mut r = report();
        r.annotations[0].text = paydown_markdown::testing::hostile_line();
        r.annotations[0].path = format!("src/{}.rs", paydown_markdown::testing::hostile_line());
        r.annotations[0].metadata.owners = vec!["@org/everyone".into()];
        let out = markdown(&r);
        assert_eq!(
            paydown_markdown::testing::leaks(&out),
            Vec::<String>::new(),
            "{out}"
        );
        let row = out.lines().nth(2).unwrap();
        let cells = row
            .replace("\\\\", "")
            .replace("\\|", "")
            .matches('|')
            .count();
        assert_eq!(cells, 8, "{row}");
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_quoted_as_text() {
        let mut r = report();
        r.annotations[0].text = "=HYPERLINK(\"https://evil.example\")".into();
        r.annotations[0].metadata.area = Some("+1".into());
        r.annotations[0].metadata.owners = vec!["@alice".into()];
        r.annotations[0].body = "-2".into();
        let out = csv(&r);
        let row = out.lines().nth(1).unwrap();
        assert!(
            row.contains("\"'=HYPERLINK(\"\"https://evil.example\"\")\""),
            "{row}"
        );
        assert!(
            row.contains(",'+1,") && row.contains(",'-2,") && row.contains(",'@alice,"),
            "{row}"
        );
    }

    #[test]
    fn csv_quotes_fields_and_joins_lists() {
        let out = csv(&report());
        let mut lines = out.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("path,line,column,keyword")
        );
        assert_eq!(
            lines.next().unwrap(),
            "src/a b.rs,7,4,FIXME,retries | double-charge,see the ledger,alice,,3d,billing,,#412,,team=core,fixme-0123456789ab"
        );
    }
}

/// `paydown report --incidents`: every debt item ranked by its impact
/// score, computed by `paydown_reconcile::impact` exactly as the App and
/// the Action compute it, from the API alone.
#[derive(Debug, serde::Serialize)]
pub struct ImpactReport {
    /// `owner/name`.
    pub repository: String,
    /// The days counted as recent (`incidents.window_days`).
    pub window_days: u32,
    /// Incident issues read (the repository's and `incidents.repositories`').
    pub incidents: usize,
    /// Most important first.
    pub items: Vec<ImpactRow>,
}

/// One item of [`ImpactReport`].
#[derive(Debug, serde::Serialize)]
pub struct ImpactRow {
    /// 1 for the most important.
    pub rank: usize,
    /// The item's stable id.
    pub id: String,
    /// Its debt issue, once filed.
    pub issue: Option<u64>,
    /// `TODO`, `FIXME`, …
    pub keyword: String,
    /// The annotation's text.
    pub text: String,
    /// Where it is.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The annotation's `tier=` (1 is the highest), if any.
    pub tier: Option<u8>,
    /// The tier's name from the config's `tiers`.
    pub tier_name: Option<String>,
    /// The impact score it is ranked by.
    pub score: f64,
    /// The priority band it falls in (`P1` most urgent … `P4`).
    pub band: String,
    /// The score explained in words.
    pub why: String,
    /// Incidents linked within the window.
    pub incidents_in_window: u32,
    /// Incidents linked ever.
    pub incidents_all_time: u32,
    /// Linked incidents still open.
    pub open_incidents: u32,
    /// When the latest linked incident started.
    pub last_incident: Option<chrono::DateTime<chrono::Utc>>,
    /// Why it is hot (an incident spike), when it is.
    pub hot: Option<String>,
    /// Incident groups per calendar week, oldest first (12 weeks).
    pub weekly: Vec<u32>,
}

/// Ranks `input`'s items (its annotations and debt issues, `impact` unset)
/// against `incidents` at `now`.
pub fn impact_report(
    input: &paydown_reconcile::PlanInput,
    incidents: &[paydown_incidents::Incident],
    now: chrono::DateTime<chrono::Utc>,
) -> ImpactReport {
    let impact = paydown_reconcile::impact::compute(input, incidents, now);
    let hot = paydown_reconcile::impact::hot_reasons(&impact, &input.issues, &input.config);
    let numbers: std::collections::HashMap<&str, u64> = input
        .issues
        .iter()
        .filter_map(|i| Some((i.marker.as_ref()?.id.as_str(), i.number)))
        .collect();
    let mut rows: Vec<(&Annotation, &paydown_reconcile::Impact)> = input
        .annotations
        .iter()
        .filter_map(|a| Some((a, impact.get(&a.id)?)))
        .collect();
    rows.sort_by(|(a, x), (b, y)| {
        y.score
            .value
            .total_cmp(&x.score.value)
            .then_with(|| (&a.path, a.line, &a.id).cmp(&(&b.path, b.line, &b.id)))
    });
    let items = rows
        .into_iter()
        .enumerate()
        .map(|(n, (a, i))| ImpactRow {
            rank: n + 1,
            id: a.id.clone(),
            issue: a.metadata.issue.or(numbers.get(a.id.as_str()).copied()),
            keyword: a.keyword.clone(),
            text: a.text.lines().next().unwrap_or("").to_string(),
            path: a.path.clone(),
            line: a.line,
            tier: a.metadata.tier,
            tier_name: a
                .metadata
                .tier
                .and_then(|t| input.config.tiers.get(&u32::from(t)).cloned()),
            score: i.score.value,
            band: i.score.band.as_str().to_string(),
            why: i.score.why.clone(),
            incidents_in_window: i.counts.in_window,
            incidents_all_time: i.counts.all_time,
            open_incidents: i.counts.open,
            last_incident: i.counts.last,
            hot: hot.get(&a.id).cloned(),
            weekly: i.weekly.clone(),
        })
        .collect();
    ImpactReport {
        repository: input.repo.to_string(),
        window_days: input.config.incidents.window_days,
        incidents: incidents.len(),
        items,
    }
}

fn issue_ref(issue: Option<u64>) -> String {
    issue.map_or_else(|| "(no issue yet)".to_string(), |n| format!("#{n}"))
}

/// Plain text, one item per line with its why below.
pub fn impact_text(report: &ImpactReport) -> String {
    let mut out = format!(
        "{}: {} items ranked by impact ({} incident issues read, window {} days)\n",
        report.repository,
        report.items.len(),
        report.incidents,
        report.window_days
    );
    for row in &report.items {
        let _ = writeln!(
            out,
            "{:>3}. {} {:>7} {} {}: {}  ({}:{}){}",
            row.rank,
            row.band,
            row.score,
            issue_ref(row.issue),
            row.keyword,
            paydown_markdown::single_line(&row.text),
            row.path,
            row.line,
            if row.hot.is_some() { "  HOT" } else { "" }
        );
        let _ = writeln!(
            out,
            "     {}; incidents: {} in {} days, {} all time{}",
            paydown_markdown::single_line(&row.why),
            row.incidents_in_window,
            report.window_days,
            row.incidents_all_time,
            row.last_incident
                .map(|d| format!(", last {}", d.format("%Y-%m-%d")))
                .unwrap_or_default()
        );
    }
    let hot: Vec<&ImpactRow> = report.items.iter().filter(|r| r.hot.is_some()).collect();
    if !hot.is_empty() {
        out.push_str("\nHot:\n");
        for row in hot {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                issue_ref(row.issue),
                row.keyword,
                row.hot.as_deref().unwrap_or("")
            );
        }
    }
    out
}

/// JSON, the whole report.
pub fn impact_json(report: &ImpactReport) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

/// Markdown (mention-safe): the ranking, with each item's tier, and the hot items.
pub fn impact_markdown(report: &ImpactReport) -> String {
    let cell = paydown_markdown::table_cell;
    let mut out = format!(
        "## Top debt by impact: {}\n\n{} items, {} incident issues read (window {} days).\n\n",
        cell(&report.repository),
        report.items.len(),
        report.incidents,
        report.window_days
    );
    if report.items.is_empty() {
        out.push_str("_No debt items._\n");
        return out;
    }
    out.push_str("| | Issue | Item | Tier | Priority | Score | Why | Incidents |\n|---|---|---|---|---|---|---|---|\n");
    for row in &report.items {
        let tier = match (row.tier, &row.tier_name) {
            (Some(t), Some(name)) => format!("{t} ({})", cell(name)),
            (Some(t), None) => t.to_string(),
            (None, _) => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {}: {} | {tier} | {}{} | {} | {} | {} in {} d, {} all time |",
            row.rank,
            issue_ref(row.issue),
            cell(&row.keyword),
            cell(&row.text),
            row.band,
            if row.hot.is_some() { " 🔥" } else { "" },
            row.score,
            cell(&row.why),
            row.incidents_in_window,
            report.window_days,
            row.incidents_all_time
        );
    }
    let hot: Vec<&ImpactRow> = report.items.iter().filter(|r| r.hot.is_some()).collect();
    if !hot.is_empty() {
        out.push_str("\n### Hot\n\n");
        for row in hot {
            let _ = writeln!(
                out,
                "- {} {}: {} — {}",
                issue_ref(row.issue),
                cell(&row.keyword),
                cell(&row.text),
                cell(row.hot.as_deref().unwrap_or(""))
            );
        }
    }
    out
}
