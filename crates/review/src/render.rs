//! Everything paydown writes about a PR, as text: the sticky comment (with
//! its hidden counts marker), the check run's title, summary and
//! annotations. Pure; the bodies stay under GitHub's 65,536-character limit
//! by showing fewer rows per list and saying how many more there are.

use std::fmt::Write as _;

use paydown_annotations::Annotation;
use paydown_reconcile::RepoRef;
use paydown_reconcile::render::permalink;
use serde::Serialize;

use crate::delta::{DebtDelta, DeltaCounts};
use crate::lint::{ConfigFinding, LintFinding};

/// Everything the report shows, borrowed from the review's outcome.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The debt items added, removed and edited.
    pub delta: &'a DebtDelta,
    /// Metadata problems on added and edited items.
    pub lint: &'a [LintFinding],
    /// Errors in the config file as the PR leaves it.
    pub config_errors: &'a [ConfigFinding],
    /// What was read and what was skipped.
    pub coverage: &'a Coverage,
    /// Where links point.
    pub links: &'a Links,
}

/// The sticky comment's hidden counts marker (`paydown_markers::pr_debt`),
/// under the names the review's callers use.
pub use paydown_markers::pr_debt::{
    PREFIX as MARKER_PREFIX, is_report_comment, parse as parse_report_marker,
    render as report_marker,
};

/// GitHub's limit for comment bodies and check-run summaries, less a margin.
pub const MAX_BODY_CHARS: usize = 65_000;

/// The name of the check run paydown writes on a PR's head commit.
pub const CHECK_NAME: &str = "paydown / debt";

/// What links in the report point at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Links {
    /// Web root, `https://github.com` or a GHES host.
    pub html_base: String,
    /// The repository owner.
    pub owner: String,
    /// The repository name.
    pub name: String,
    /// The PR's head commit (links to added and edited items).
    pub head_sha: String,
    /// The merge base the base versions were read at (links to removed items).
    pub base_sha: String,
    /// `issues.mention_owners`: owners are written as `@login` mentions,
    /// which notify them; otherwise as names that notify nobody.
    pub mention_owners: bool,
}

/// Which of the PR's files the report covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Files GitHub listed as changed.
    pub files_changed: usize,
    /// GitHub lists at most 3,000 files of a PR; true when it hit that cap.
    pub github_capped: bool,
    /// Changed files paydown read and scanned on both sides.
    pub files_reviewed: usize,
    /// Changed files the config and language table accept (read up to the bound).
    pub files_eligible: usize,
    /// Set when paydown stopped after this many files (the bound on work).
    pub stopped_after: Option<usize>,
    /// Files left out by the config or the scanner, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Files that could not be read, with the error; the rest was reviewed.
    pub unreadable: Vec<(String, String)>,
}

/// The sticky comment: the marker, then [`summary`].
pub fn comment_body(report: &Report<'_>) -> String {
    let marker = report_marker(report.delta.counts());
    let budget = MAX_BODY_CHARS.saturating_sub(marker.len() + 1);
    format!("{marker}\n{}", summary(report, budget))
}

/// The sticky comment once the PR no longer changes debt: counts all zero.
pub fn resolved_body() -> String {
    format!(
        "{}\n### paydown: debt in this pull request\n\nResolved: this PR no longer changes debt.\n",
        report_marker(DeltaCounts::default())
    )
}

/// The report as Markdown (sticky comment, check-run summary, the Action's
/// job summary), at most `max_chars` characters: lists are cut shorter
/// until it fits, each saying how many rows it left out.
pub fn summary(report: &Report<'_>, max_chars: usize) -> String {
    const ROW_LIMITS: [usize; 8] = [usize::MAX, 200, 100, 50, 20, 10, 3, 0];
    let mut text = String::new();
    for rows in ROW_LIMITS {
        text = summary_with_rows(report, rows);
        if text.chars().count() <= max_chars {
            return text;
        }
    }
    // Only the notes can still be too long (thousands of unreadable files):
    // cut at a character boundary.
    let cut: String = text.chars().take(max_chars.saturating_sub(2)).collect();
    format!("{cut}\n…")
}

fn summary_with_rows(report: &Report<'_>, rows: usize) -> String {
    let Report {
        delta,
        lint,
        config_errors,
        coverage,
        links,
    } = *report;
    let repo = RepoRef::new(&links.owner, &links.name);
    let at_head = |a: &Annotation| where_link(links, &repo, &links.head_sha, a);
    let at_base = |a: &Annotation| where_link(links, &repo, &links.base_sha, a);
    let c = delta.counts();
    let mut out = String::from("### paydown: debt in this pull request\n\n");
    if delta.is_empty() {
        out.push_str("This PR does not add, remove or edit debt annotations.\n");
    } else {
        let _ = writeln!(
            out,
            "This PR adds **{}**, removes **{}** and edits **{}** debt {}.",
            c.added,
            c.removed,
            c.edited,
            if c.added + c.removed + c.edited == 1 {
                "item"
            } else {
                "items"
            }
        );
    }
    if !delta.added.is_empty() {
        let _ = writeln!(out, "\n#### Added ({})\n", c.added);
        out.push_str("| where | keyword | text | owner |\n|---|---|---|---|\n");
        for a in delta.added.iter().take(rows) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                at_head(a),
                cell(&a.keyword),
                cell(&a.text),
                owners(a, links.mention_owners)
            );
        }
        more(&mut out, delta.added.len(), rows);
    }
    if !delta.removed.is_empty() {
        let _ = writeln!(
            out,
            "\n#### Removed ({}): their debt issues close once this PR is merged into the default branch\n",
            c.removed
        );
        out.push_str("| where (base) | keyword | text | owner |\n|---|---|---|---|\n");
        for a in delta.removed.iter().take(rows) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                at_base(a),
                cell(&a.keyword),
                cell(&a.text),
                owners(a, links.mention_owners)
            );
        }
        more(&mut out, delta.removed.len(), rows);
    }
    if !delta.edited.is_empty() {
        let _ = writeln!(out, "\n#### Edited ({})\n", c.edited);
        out.push_str("| where | keyword | was | now |\n|---|---|---|---|\n");
        for (old, new) in delta.edited.iter().take(rows) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                at_head(new),
                cell(&new.keyword),
                describe(old, links.mention_owners),
                describe(new, links.mention_owners)
            );
        }
        more(&mut out, delta.edited.len(), rows);
    }
    if !lint.is_empty() {
        let _ = writeln!(out, "\n#### Metadata findings ({})\n", lint.len());
        for f in lint.iter().take(rows) {
            let link = permalink(
                &links.html_base,
                &repo,
                &links.head_sha,
                &f.path,
                f.line,
                f.line,
            );
            let _ = writeln!(
                out,
                "- [{}:{}]({link}): {}",
                cell(&f.path),
                f.line,
                cell(&f.message)
            );
        }
        more(&mut out, lint.len(), rows);
    }
    if !config_errors.is_empty() {
        let _ = writeln!(
            out,
            "\n#### `{}` is invalid ({} error{})\n\nOnce merged, the paydown App keeps using the last valid config until this is fixed (`paydown sync` uses the defaults; the Action stops with the errors).\n",
            paydown_config::DEFAULT_PATH,
            config_errors.len(),
            if config_errors.len() == 1 { "" } else { "s" }
        );
        for e in config_errors.iter().take(rows.max(1)) {
            let line = u32::try_from(e.line.max(1)).unwrap_or(1);
            let link = permalink(
                &links.html_base,
                &repo,
                &links.head_sha,
                &e.path,
                line,
                line,
            );
            let _ = writeln!(out, "- [line {}]({link}): {}", e.line, cell(&e.message));
        }
        more(&mut out, config_errors.len(), rows.max(1));
    }
    notes(&mut out, coverage, rows);
    out
}

fn notes(out: &mut String, coverage: &Coverage, rows: usize) {
    let mut lines: Vec<String> = Vec::new();
    if let Some(n) = coverage.stopped_after {
        lines.push(format!(
            "This report covers the first {n} of the {} changed files paydown reads.",
            coverage.files_eligible
        ));
    }
    if coverage.github_capped {
        lines.push(
            "GitHub lists at most 3,000 files of a pull request; files beyond that are not covered."
                .to_string(),
        );
    }
    if !coverage.unreadable.is_empty() {
        let shown: Vec<String> = coverage
            .unreadable
            .iter()
            .take(rows.min(20))
            .map(|(path, _)| format!("`{}`", paydown_markdown::code_span(path)))
            .collect();
        let left = coverage.unreadable.len().saturating_sub(shown.len());
        lines.push(format!(
            "Could not read {} file(s), left out of this report: {}{}.",
            coverage.unreadable.len(),
            shown.join(", "),
            if left > 0 {
                format!(" and {left} more")
            } else {
                String::new()
            }
        ));
    }
    if lines.is_empty() {
        return;
    }
    out.push('\n');
    for line in lines {
        let _ = writeln!(out, "> {line}");
    }
}

fn more(out: &mut String, total: usize, rows: usize) {
    if total > rows {
        let _ = writeln!(out, "\n…and {} more.", total - rows);
    }
}

fn where_link(links: &Links, repo: &RepoRef, sha: &str, a: &Annotation) -> String {
    let url = permalink(&links.html_base, repo, sha, &a.path, a.line, a.end_line);
    format!("[{}:{}]({url})", cell(&a.path), a.line)
}

/// The owners for a table cell: mentions only when the config asks for
/// them, since an annotation in a fork's PR can name any user or team.
fn owners(a: &Annotation, mention: bool) -> String {
    if a.metadata.owners.is_empty() {
        "—".to_string()
    } else {
        a.metadata
            .owners
            .iter()
            .map(|o| paydown_markdown::user(o, mention))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Text plus the metadata that identifies ownership and effort, for the
/// edited table's was/now columns.
fn describe(a: &Annotation, mention: bool) -> String {
    let mut parts = vec![cell(&a.text)];
    if !a.metadata.owners.is_empty() {
        parts.push(format!("(owner {})", owners(a, mention)));
    }
    if let Some(cost) = a.metadata.cost {
        let unit = match cost.unit {
            paydown_annotations::CostUnit::Hours => "h",
            paydown_annotations::CostUnit::Days => "d",
            paydown_annotations::CostUnit::Weeks => "w",
            paydown_annotations::CostUnit::Points => "pt",
        };
        parts.push(format!("(cost {}{unit})", cost.amount));
    }
    parts.join(" ")
}

/// Code or user text inside a table cell or an inline line: one line, no
/// `|`, nothing that opens or closes an HTML comment (which would hide the
/// rest of the comment or forge a marker), cut at 200 characters.
fn cell(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = if one_line.chars().count() > 200 {
        let mut s: String = one_line.chars().take(199).collect();
        s.push('…');
        s
    } else {
        one_line
    };
    paydown_markdown::table_cell(&short)
}

/// A check-run annotation, as GitHub takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckAnnotation {
    /// The file, relative to the repository root.
    pub path: String,
    /// The first line annotated (1-based).
    pub start_line: u32,
    /// The last line annotated.
    pub end_line: u32,
    /// `notice` (debt added) or `warning` (lint finding).
    pub annotation_level: &'static str,
    /// The annotation's headline.
    pub title: String,
    /// The annotation's text.
    pub message: String,
}

/// `success` when the PR adds no debt and has no findings, else `neutral`:
/// adding debt is allowed and visible, never a failing check.
/// An invalid config file is `failure`: merged, it would leave the bot on
/// an older config.
pub fn conclusion(report: &Report<'_>) -> &'static str {
    if !report.config_errors.is_empty() {
        "failure"
    } else if report.delta.added.is_empty() && report.lint.is_empty() {
        "success"
    } else {
        "neutral"
    }
}

/// The check run's one-line title.
pub fn check_title(report: &Report<'_>) -> String {
    let (delta, lint) = (report.delta, report.lint);
    let c = delta.counts();
    let mut title = if delta.is_empty() {
        "No debt changes".to_string()
    } else {
        format!(
            "{} added, {} removed, {} edited",
            c.added, c.removed, c.edited
        )
    };
    if !lint.is_empty() {
        let _ = write!(
            title,
            "; {} metadata finding{}",
            lint.len(),
            if lint.len() == 1 { "" } else { "s" }
        );
    }
    if !report.config_errors.is_empty() {
        let _ = write!(title, "; {} is invalid", paydown_config::DEFAULT_PATH);
    }
    title
}

/// A notice on each added item's lines, a warning on each finding, a
/// failure on each config error.
pub fn check_annotations(report: &Report<'_>) -> Vec<CheckAnnotation> {
    let (delta, lint) = (report.delta, report.lint);
    let mut out: Vec<CheckAnnotation> = delta
        .added
        .iter()
        .map(|a| {
            let mut message = format!("{}: {}", a.keyword, a.text.trim());
            if !a.metadata.owners.is_empty() {
                // Plain text: GitHub renders no Markdown or mentions here.
                let _ = write!(message, " (owner {})", a.metadata.owners.join(", "));
            }
            message.push_str(
                "\nThis pull request adds a debt item; paydown tracks it as an issue once merged.",
            );
            CheckAnnotation {
                path: a.path.clone(),
                start_line: a.line,
                end_line: a.end_line.max(a.line),
                annotation_level: "notice",
                title: format!("{} added", a.keyword),
                message,
            }
        })
        .collect();
    out.extend(lint.iter().map(|f| CheckAnnotation {
        path: f.path.clone(),
        start_line: f.line,
        end_line: f.line,
        annotation_level: "warning",
        title: "paydown: debt metadata".to_string(),
        message: f.message.clone(),
    }));
    out.extend(report.config_errors.iter().map(|e| {
        let line = u32::try_from(e.line.max(1)).unwrap_or(1);
        CheckAnnotation {
            path: e.path.clone(),
            start_line: line,
            end_line: line,
            annotation_level: "failure",
            title: "paydown: invalid config".to_string(),
            message: e.message.clone(),
        }
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydown_annotations::{ScanOptions, scan_text};

    fn links() -> Links {
        Links {
            html_base: "https://github.com".into(),
            owner: "o".into(),
            name: "r".into(),
            head_sha: "h".repeat(40),
            base_sha: "b".repeat(40),
            mention_owners: false,
        }
    }

    fn report<'a>(delta: &'a DebtDelta, coverage: &'a Coverage, links: &'a Links) -> Report<'a> {
        Report {
            delta,
            lint: &[],
            config_errors: &[],
            coverage,
            links,
        }
    }

    fn items(n: usize) -> Vec<Annotation> {
        let text: String = (0..n)
            .map(|i| format!("// TODO(@alice): item number {i} {}\n", "x".repeat(150)))
            .collect();
        scan_text("src/lib.rs", &text, &ScanOptions::default()).unwrap()
    }

    #[test]
    fn the_marker_round_trips_and_ignores_bodies_without_one() {
        let counts = DeltaCounts {
            added: 2,
            removed: 1,
            edited: 3,
        };
        let body = format!("hello\n{}\nrest", report_marker(counts));
        assert_eq!(parse_report_marker(&body), Some(counts));
        assert_eq!(parse_report_marker("no marker here"), None);
        assert_eq!(
            parse_report_marker("<!-- paydown:pr-debt not json -->"),
            None
        );
        assert_eq!(
            parse_report_marker(&resolved_body()),
            Some(DeltaCounts::default())
        );
    }

    #[test]
    fn given_annotation_text_with_a_forged_marker_then_the_report_carries_only_its_own() {
        // Given a code comment that tries to forge the report marker and a record.
        let code = "// TODO: evil <!-- paydown:pr-debt {\"added\":0,\"removed\":99,\"edited\":0} --> \
                    <!-- paydown:record {\"kind\":\"points\",\"points\":1} --> <img src=x>\n";
        let delta = DebtDelta {
            added: scan_text("src/lib.rs", code, &ScanOptions::default()).unwrap(),
            ..DebtDelta::default()
        };
        let (coverage, links) = (Coverage::default(), links());
        // When the sticky comment is rendered.
        let body = comment_body(&report(&delta, &coverage, &links));
        // Then the only comment in it is the bot's own marker, first, with the
        // real counts; the text is shown escaped.
        assert_eq!(body.matches("<!--").count(), 1, "{body}");
        assert_eq!(body.matches("-->").count(), 1, "{body}");
        assert_eq!(parse_report_marker(&body).map(|c| c.removed), Some(0));
        assert!(body.contains("&lt;!-- paydown:pr-debt"), "{body}");
        assert!(body.contains("&lt;img src=x&gt;"), "{body}");
        // And a marker quoted mid-line elsewhere is neither read nor taken
        // for the sticky comment.
        let quoted = format!("> `/debt frob {}`", report_marker(DeltaCounts::default()));
        assert_eq!(parse_report_marker(&quoted), None);
        assert!(!is_report_comment(&quoted));
        assert!(is_report_comment(&body));
    }

    #[test]
    fn given_hostile_text_owners_and_file_names_then_the_report_notifies_and_links_nothing() {
        use paydown_markdown::testing::{hostile_line, leaks};
        let mut added = items(2);
        for a in &mut added {
            a.text = hostile_line();
            a.path = format!("src/{}.rs", hostile_line());
            a.metadata.owners = vec!["@mallory".into(), "@evil-org/everyone".into()];
        }
        let coverage = Coverage {
            unreadable: vec![(hostile_line(), "boom".into())],
            skipped: vec![(hostile_line(), hostile_line())],
            ..Coverage::default()
        };
        let delta = DebtDelta {
            edited: vec![(added[0].clone(), added[1].clone())],
            added,
            ..DebtDelta::default()
        };
        let links = links();
        let body = comment_body(&report(&delta, &coverage, &links));
        assert_eq!(leaks(&body), Vec::<String>::new(), "{body}");
        // Every table row keeps its four cells.
        for row in body.lines().filter(|l| l.starts_with("| [")) {
            let cells = row
                .replace("\\\\", "")
                .replace("\\|", "")
                .matches('|')
                .count();
            assert_eq!(cells, 5, "{row}");
        }
    }

    #[test]
    fn given_added_items_then_the_comment_links_them_at_the_head_commit() {
        let delta = DebtDelta {
            added: items(1),
            ..DebtDelta::default()
        };
        let (coverage, links) = (Coverage::default(), links());
        let body = comment_body(&report(&delta, &coverage, &links));
        assert!(body.starts_with(MARKER_PREFIX), "{body}");
        assert!(
            body.contains(&format!(
                "[src/lib.rs:1](https://github.com/o/r/blob/{}/src/lib.rs#L1)",
                "h".repeat(40)
            )),
            "{body}"
        );
        // The owner is named without a mention unless the config asks.
        assert!(
            body.contains("| `alice` |") && !body.contains("@alice"),
            "{body}"
        );
        let mentioning = Links {
            mention_owners: true,
            ..links.clone()
        };
        let body = comment_body(&report(&delta, &coverage, &mentioning));
        assert!(body.contains("| @alice |"), "{body}");
    }

    #[test]
    fn given_thousands_of_items_then_the_body_fits_and_says_how_many_more() {
        let delta = DebtDelta {
            added: items(2_000),
            ..DebtDelta::default()
        };
        let (coverage, links) = (Coverage::default(), links());
        let body = comment_body(&report(&delta, &coverage, &links));
        assert!(body.chars().count() <= MAX_BODY_CHARS, "{}", body.len());
        assert!(body.contains("more."), "{body}");
        assert_eq!(parse_report_marker(&body).map(|c| c.added), Some(2_000));
    }

    #[test]
    fn code_text_cannot_forge_a_marker_or_break_a_table() {
        assert_eq!(cell("a | b <!-- x"), "a \\| b &lt;!-- x");
    }

    #[test]
    fn conclusion_is_neutral_only_when_debt_is_added_or_findings_exist() {
        let added = DebtDelta {
            added: items(1),
            ..DebtDelta::default()
        };
        let removed = DebtDelta {
            removed: items(1),
            ..DebtDelta::default()
        };
        let (coverage, links) = (Coverage::default(), links());
        assert_eq!(conclusion(&report(&added, &coverage, &links)), "neutral");
        assert_eq!(conclusion(&report(&removed, &coverage, &links)), "success");
        let broken = [ConfigFinding {
            path: ".github/paydown.yml".into(),
            line: 2,
            column: 3,
            message: "unknown key `foo`".into(),
        }];
        let invalid = Report {
            config_errors: &broken,
            ..report(&removed, &coverage, &links)
        };
        assert_eq!(conclusion(&invalid), "failure");
        assert_eq!(check_annotations(&invalid)[0].annotation_level, "failure");
        let annotations = check_annotations(&report(&added, &coverage, &links));
        assert_eq!(annotations.len(), 1);
        assert_eq!(annotations[0].annotation_level, "notice");
        assert_eq!((annotations[0].start_line, annotations[0].end_line), (1, 1));
    }
}
