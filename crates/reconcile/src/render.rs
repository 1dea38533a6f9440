//! The GitHub issue paydown wants for one debt item: title, body (text,
//! permalink, metadata table, hidden markers), labels and assignees.
//!
//! Rendering is a pure function of the annotation and a few facts (commit,
//! first-seen date, incident counts, priority), so comparing the rendered
//! issue with the live one is how the planner decides whether to write.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use paydown_annotations::{Annotation, CostUnit};
use paydown_config::Config;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::marker::{self, ItemMeta};

pub use paydown_markers::labels::{
    AREA_PREFIX as AREA_LABEL_PREFIX, IGNORED as LABEL_IGNORED, PREFIX as LABEL_PREFIX,
    TRACKING as TRACKING_LABEL, WONTFIX as LABEL_WONTFIX,
};

/// Longest title written; GitHub allows more, people read less.
pub const MAX_TITLE_CHARS: usize = 120;
/// GitHub rejects longer label names.
const MAX_LABEL_CHARS: usize = 50;
/// Most bytes of an annotation's continuation lines quoted in the body, so a
/// huge block comment cannot push the issue past GitHub's 65,536 limit.
const MAX_QUOTED_BYTES: usize = 20_000;
/// Shown until the priority feature fills it in.
pub const PRIORITY_PLACEHOLDER: &str = "P?";

/// A repository, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RepoRef {
    /// The user or organisation login.
    pub owner: String,
    /// The repository name, without the owner.
    pub name: String,
}

impl RepoRef {
    /// The repository `owner/name`; the parts are not validated (see
    /// [`RepoRef::parse`] for text from outside).
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
        }
    }

    /// Reads `owner/name`; `None` unless both parts are present and non-empty.
    pub fn parse(text: &str) -> Option<Self> {
        let (owner, name) = text.trim().split_once('/')?;
        if owner.is_empty() || name.is_empty() || name.contains('/') {
            return None;
        }
        Some(Self::new(owner, name))
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Where an item is rendered: the repository, the commit its permalink
/// points at, and the web base URL (`https://github.com`, or a GHES host).
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// The repository the permalink and issue links point into.
    pub repo: &'a RepoRef,
    /// Web base URL that permalinks and links start with.
    pub html_base: &'a str,
    /// Commit the permalink pins.
    pub sha: &'a str,
    /// The repository's configuration: title prefix, labels, assignment.
    pub config: &'a Config,
}

/// Facts about an item that do not come from its annotation.
#[derive(Debug, Clone, Copy)]
pub struct ItemFacts<'a> {
    /// When the item was first seen; shown in the table and kept in the meta.
    pub first_seen: NaiveDate,
    /// `P1`…`P4` once the priority feature computes it.
    pub priority: Option<&'a str>,
    /// Linked incidents with how many times each was seen; incidents the
    /// annotation names but absent here show a count of 0.
    pub incident_counts: &'a BTreeMap<String, u32>,
    /// The issue predates paydown (see [`ItemMeta::adopted`]).
    pub adopted: bool,
    /// Incident counts and the priority score, when incidents are read;
    /// they replace the Incidents and Priority rows.
    pub impact: Option<&'a crate::impact::Impact>,
}

/// The issue paydown wants for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedIssue {
    /// The item id, as in the body's marker.
    pub id: String,
    /// `<prefix><KEYWORD>: <text>`, at most [`MAX_TITLE_CHARS`] characters.
    pub title: String,
    /// For an adopted issue, only the bot's section; the planner keeps the
    /// original description above it.
    pub body: String,
    /// The tracking label, the keyword's and the area's (`debt:area/…`), and
    /// any the config adds.
    pub labels: Vec<String>,
    /// The annotation's owners when `issues.assign_owner` is on; the caller
    /// drops those who cannot be assigned.
    pub assignees: Vec<String>,
}

/// Renders the desired issue for `annotation`.
pub fn render_issue(
    annotation: &Annotation,
    ctx: &RenderContext<'_>,
    facts: &ItemFacts<'_>,
) -> RenderedIssue {
    RenderedIssue {
        id: annotation.id.clone(),
        title: title(
            &ctx.config.issues.title_prefix,
            &annotation.keyword,
            &annotation.text,
            &annotation.path,
        ),
        body: body(annotation, ctx, facts),
        labels: labels(ctx.config, annotation),
        assignees: if ctx.config.issues.assign_owner {
            owners(annotation)
        } else {
            Vec::new()
        },
    }
}

/// `<prefix><KEYWORD>: <text>`, on one line, at most [`MAX_TITLE_CHARS`]
/// characters (cut at a word when one ends near the limit, then `…`). An
/// annotation without text is titled by its file name.
pub fn title(prefix: &str, keyword: &str, text: &str, path: &str) -> String {
    let text = one_line(text);
    let full = if text.is_empty() {
        let file = path.rsplit('/').next().unwrap_or(path);
        format!("{prefix}{keyword} in {file}")
    } else {
        format!("{prefix}{keyword}: {text}")
    };
    truncate(&full, MAX_TITLE_CHARS)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let kept: String = text.chars().take(max_chars - 1).collect();
    // Cutting at the last space reads better, unless that throws away a lot.
    let cut = match kept.rfind(' ') {
        Some(at) if kept[at..].chars().count() <= 20 => &kept[..at],
        _ => kept.as_str(),
    };
    format!("{}…", cut.trim_end())
}

/// [`TRACKING_LABEL`] (rendered with the others, so an issue a person took
/// it off gets it back like any missing label), configured labels, `debt:<keyword>` and
/// `debt:area/<area>`, without duplicates (compared case-insensitively, as
/// GitHub does).
pub fn labels(config: &Config, annotation: &Annotation) -> Vec<String> {
    let mut out: Vec<String> = vec![TRACKING_LABEL.to_string()];
    let mut push = |label: String| {
        let label: String = label.chars().take(MAX_LABEL_CHARS).collect();
        if !label.trim().is_empty() && !out.iter().any(|l| l.eq_ignore_ascii_case(&label)) {
            out.push(label);
        }
    };
    for label in &config.issues.labels {
        push(label.clone());
    }
    push(keyword_label(&annotation.keyword));
    if let Some(area) = annotation
        .metadata
        .area
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        push(format!("{AREA_LABEL_PREFIX}{area}"));
    }
    out
}

/// `debt:<keyword in lower case>`.
pub fn keyword_label(keyword: &str) -> String {
    format!("{LABEL_PREFIX}{}", keyword.to_lowercase())
}

fn owners(annotation: &Annotation) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for owner in &annotation.metadata.owners {
        if !owner.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(owner)) {
            out.push(owner.clone());
        }
    }
    out
}

/// Characters escaped in each path segment of a permalink.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    // Markdown link syntax and table cells: `)` would end the link, `]`
    // and `[` confuse it, `|` would end a table cell.
    .add(b'(')
    .add(b')')
    .add(b'[')
    .add(b']')
    .add(b'|')
    .add(b'\\');

/// `{html_base}/{owner}/{repo}/blob/{sha}/{path}#L{line}-L{end_line}`
/// (`#L{line}` alone for a one-line annotation).
pub fn permalink(
    html_base: &str,
    repo: &RepoRef,
    sha: &str,
    path: &str,
    line: u32,
    end_line: u32,
) -> String {
    let path: Vec<String> = path
        .split('/')
        .map(|segment| utf8_percent_encode(segment, PATH_SEGMENT).to_string())
        .collect();
    let anchor = if end_line > line {
        format!("L{line}-L{end_line}")
    } else {
        format!("L{line}")
    };
    format!(
        "{}/{}/{}/blob/{}/{}#{}",
        html_base.trim_end_matches('/'),
        repo.owner,
        repo.name,
        sha,
        path.join("/"),
        anchor
    )
}

/// Text from code shown in the body: `<!--` would hide the rest of the body
/// or forge a marker and `<tag>` would be taken for HTML, so it is made
/// inert.
fn safe(text: &str) -> String {
    paydown_markdown::inert(text)
}

fn cell(text: &str) -> String {
    paydown_markdown::table_cell(text)
}

fn cost_text(annotation: &Annotation) -> Option<String> {
    let cost = annotation.metadata.cost?;
    let unit = match cost.unit {
        CostUnit::Hours => "h",
        CostUnit::Days => "d",
        CostUnit::Weeks => "w",
        CostUnit::Points => "pt",
    };
    Some(format!("{}{unit}", cost.amount))
}

/// The Incidents, Due and Priority rows when incidents are not read: the
/// annotation's `incident=` names with the counts given, and the priority
/// placeholder.
fn incident_due_and_priority_rows(
    a: &Annotation,
    facts: &ItemFacts<'_>,
    row: &mut impl FnMut(&str, String),
) {
    let m = &a.metadata;
    let mut incidents: Vec<(String, u32)> = Vec::new();
    for name in &m.incidents {
        if !incidents.iter().any(|(n, _)| n == name) {
            incidents.push((
                name.clone(),
                facts.incident_counts.get(name).copied().unwrap_or(0),
            ));
        }
    }
    for (name, count) in facts.incident_counts {
        if !incidents.iter().any(|(n, _)| n == name) {
            incidents.push((name.clone(), *count));
        }
    }
    if !incidents.is_empty() {
        let list: Vec<String> = incidents
            .iter()
            .map(|(name, count)| format!("{} ({count})", cell(name)))
            .collect();
        row("Incidents", list.join(", "));
    }
    if let Some(due) = &m.due {
        row("Due", cell(due));
    }
    row(
        "Priority",
        cell(facts.priority.unwrap_or(PRIORITY_PLACEHOLDER)),
    );
}

fn body(annotation: &Annotation, ctx: &RenderContext<'_>, facts: &ItemFacts<'_>) -> String {
    let a = annotation;
    let mut out = String::new();
    out.push_str(&marker::item_line(&a.id));
    out.push('\n');
    let first = if a.text.trim().is_empty() {
        "(no text)".to_string()
    } else {
        safe(a.text.trim())
    };
    out.push_str(&format!("> **{}**: {}\n", cell(&a.keyword), first));
    let mut shown = 0usize;
    for line in a.body.lines() {
        shown += line.len() + 1;
        if shown > MAX_QUOTED_BYTES {
            out.push_str(">\n> …(truncated; see the permalink)\n");
            break;
        }
        let line = safe(line.trim_end());
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            out.push_str(&format!("> {line}\n"));
        }
    }
    let link = permalink(
        ctx.html_base,
        ctx.repo,
        ctx.sha,
        &a.path,
        a.line,
        a.end_line,
    );
    let lines = if a.end_line > a.line {
        format!("lines {}–{}", a.line, a.end_line)
    } else {
        format!("line {}", a.line)
    };
    let short_sha: String = ctx.sha.chars().take(7).collect();
    out.push_str(&format!(
        "\n**Where:** [`{}` {lines}]({link}) at `{short_sha}`\n\n",
        paydown_markdown::code_span(&a.path)
    ));

    out.push_str("| | |\n|---|---|\n");
    let m = &a.metadata;
    let mut row = |name: &str, value: String| out.push_str(&format!("| {name} | {value} |\n"));
    if !m.owners.is_empty() {
        let mention = ctx.config.issues.mention_owners;
        let owners: Vec<String> = m
            .owners
            .iter()
            .map(|o| paydown_markdown::user(o, mention))
            .collect();
        row("Owner", owners.join(", "));
    }
    if let Some(cost) = cost_text(a) {
        row("Cost", cost);
    }
    if let Some(area) = &m.area {
        row("Area", cell(area));
    }
    if let Some(tier) = m.tier {
        row("Tier", tier.to_string());
    }
    match facts.impact {
        Some(impact) => {
            if let Some(due) = &m.due {
                row("Due", cell(due));
            }
            crate::impact::rows(impact, ctx.config, &mut row)
        }
        None => incident_due_and_priority_rows(a, facts, &mut row),
    }
    row("First seen", facts.first_seen.to_string());
    for (key, value) in &m.extra {
        row(&cell(key), cell(value));
    }

    out.push_str(
        "\n<sub>Kept in sync by paydown from the default branch. This description is \
         rewritten when the annotation changes; labels, assignees, milestones and comments \
         you add are kept. Closing this issue while the annotation is still in the code \
         marks it `debt:wontfix`.</sub>\n\n",
    );
    out.push_str(&marker::meta_line(&ItemMeta {
        id: a.id.clone(),
        path: a.path.clone(),
        line: a.line,
        end_line: a.end_line,
        keyword: a.keyword.clone(),
        text: a.text.clone(),
        sha: ctx.sha.to_string(),
        first_seen: facts.first_seen,
        owners: owners(a),
        adopted: facts.adopted,
    }));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydown_annotations::{Cost, Metadata};

    fn annotation() -> Annotation {
        Annotation {
            path: "src/billing/retry.rs".to_string(),
            line: 12,
            column: 5,
            end_line: 14,
            keyword: "FIXME".to_string(),
            text: "retries double-charge".to_string(),
            body: "when the gateway times out\nsee the runbook".to_string(),
            metadata: Metadata {
                owners: vec!["alice".to_string(), "bob".to_string()],
                cost: Some(Cost {
                    amount: 3,
                    unit: CostUnit::Days,
                }),
                area: Some("billing".to_string()),
                tier: Some(1),
                incidents: vec!["#412".to_string()],
                due: Some("2027-03-31".to_string()),
                ..Metadata::default()
            },
            id: "fixme-0123456789ab".to_string(),
        }
    }

    fn render(a: &Annotation, config: &Config, counts: &BTreeMap<String, u32>) -> RenderedIssue {
        let repo = RepoRef::new("acme", "shop");
        let ctx = RenderContext {
            repo: &repo,
            html_base: "https://github.com/",
            sha: "0123456789abcdef0123456789abcdef01234567",
            config,
        };
        let facts = ItemFacts {
            first_seen: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            priority: None,
            incident_counts: counts,
            impact: None,
            adopted: false,
        };
        render_issue(a, &ctx, &facts)
    }

    #[test]
    fn given_annotation_with_metadata_then_body_has_everything_and_markers() {
        let counts = BTreeMap::from([("#412".to_string(), 2), ("PD-9".to_string(), 1)]);
        let issue = render(&annotation(), &Config::default(), &counts);
        let b = &issue.body;
        assert!(b.starts_with("<!-- paydown:item id=fixme-0123456789ab v=1 -->\n"));
        assert!(b.contains("> **FIXME**: retries double-charge\n> when the gateway times out\n"));
        assert!(b.contains(
            "https://github.com/acme/shop/blob/0123456789abcdef0123456789abcdef01234567/src/billing/retry.rs#L12-L14"
        ));
        for row in [
            "| Owner | `alice`, `bob` |",
            "| Cost | 3d |",
            "| Area | billing |",
            "| Tier | 1 |",
            "| Incidents | #412 (2), PD-9 (1) |",
            "| Due | 2027-03-31 |",
            "| Priority | P? |",
            "| First seen | 2026-11-01 |",
        ] {
            assert!(b.contains(row), "missing {row} in\n{b}");
        }
        let parsed = marker::parse(b).unwrap();
        let meta = parsed.meta.unwrap();
        assert_eq!(meta.path, "src/billing/retry.rs");
        assert_eq!(meta.owners, ["alice", "bob"]);
        assert_eq!(issue.title, "FIXME: retries double-charge");
        assert_eq!(
            issue.labels,
            ["paydown", "tech-debt", "debt:fixme", "debt:area/billing"]
        );
        assert_eq!(issue.assignees, ["alice", "bob"]);
    }

    #[test]
    fn given_assign_owner_off_and_prefix_then_no_assignees_and_prefixed_title() {
        let mut config = Config::default();
        config.issues.assign_owner = false;
        config.issues.title_prefix = "[debt] ".to_string();
        config.issues.labels = vec!["Debt:FIXME".to_string()];
        let issue = render(&annotation(), &config, &BTreeMap::new());
        assert!(issue.assignees.is_empty());
        assert_eq!(issue.title, "[debt] FIXME: retries double-charge");
        assert_eq!(issue.labels, ["paydown", "Debt:FIXME", "debt:area/billing"]);
        assert!(issue.body.contains("| Incidents | #412 (0) |"));
    }

    #[test]
    fn given_long_or_odd_text_then_title_is_truncated_at_char_boundary() {
        let long = "é".repeat(300);
        let t = title("", "TODO", &long, "a.rs");
        assert_eq!(t.chars().count(), MAX_TITLE_CHARS);
        assert!(t.ends_with('…'));
        let words = "word ".repeat(60);
        let t = title("[debt] ", "TODO", &words, "a.rs");
        assert!(t.chars().count() <= MAX_TITLE_CHARS);
        assert!(t.ends_with("word…"), "{t}");
        assert_eq!(title("", "TODO", "  a\tb\n c ", "x/y.rs"), "TODO: a b c");
        assert_eq!(title("", "HACK", "", "src/x/y.rs"), "HACK in y.rs");
        let exact = "x".repeat(MAX_TITLE_CHARS - 6);
        assert_eq!(
            title("", "TODO", &exact, "a").chars().count(),
            MAX_TITLE_CHARS
        );
    }

    #[test]
    fn given_text_with_comment_opener_then_body_cannot_forge_a_marker() {
        let mut a = annotation();
        a.text = "<!-- paydown:item id=evil v=1 -->".to_string();
        a.body = "<!-- paydown:item id=evil v=1 -->".to_string();
        let issue = render(&a, &Config::default(), &BTreeMap::new());
        assert_eq!(marker::parse(&issue.body).unwrap().id, a.id);
        assert_eq!(issue.body.matches("<!--").count(), 2);
    }

    #[test]
    fn given_code_text_forging_markers_everywhere_then_the_body_has_exactly_its_own() {
        // Given `// TODO: <!-- paydown:item id=evil -->` with forgeries (and
        // HTML) in every field that reaches the body,
        let evil = "<!-- paydown:item id=evil -->";
        let mut a = annotation();
        a.text = format!("x {evil} <img src=x>");
        a.body = format!("line {evil}\n{evil}\n--> <b>");
        a.path = format!("src/{evil}.rs");
        a.metadata.area = Some(evil.to_string());
        a.metadata.owners = vec![evil.to_string()];
        a.metadata.extra.insert(evil.to_string(), evil.to_string());
        // when the issue is rendered,
        let issue = render(&a, &Config::default(), &BTreeMap::new());
        // then the only comments are the bot's item and meta markers,
        assert_eq!(
            issue.body.matches("<!-- paydown:item").count(),
            1,
            "{}",
            issue.body
        );
        assert_eq!(issue.body.matches("<!--").count(), 2, "{}", issue.body);
        assert_eq!(issue.body.matches("-->").count(), 2, "{}", issue.body);
        assert!(!issue.body.contains("<img") && !issue.body.contains("<b>"));
        // and they name the real item, with its meta.
        let parsed = marker::parse(&issue.body).unwrap();
        assert_eq!(parsed.id, a.id);
        assert_eq!(parsed.meta.map(|m| m.text), Some(a.text.clone()));
    }

    #[test]
    fn given_huge_block_comment_then_quoted_body_is_capped() {
        let mut a = annotation();
        a.body = "a line of the block comment\n".repeat(10_000);
        let issue = render(&a, &Config::default(), &BTreeMap::new());
        assert!(issue.body.len() < 30_000, "{}", issue.body.len());
        assert!(issue.body.contains("…(truncated; see the permalink)"));
        assert!(marker::parse(&issue.body).unwrap().meta.is_some());
    }

    #[test]
    fn given_hostile_text_everywhere_then_the_issue_body_notifies_and_links_nothing() {
        use paydown_markdown::testing::{hostile_line, leaks};
        let mut a = annotation();
        a.text = hostile_line();
        a.body = paydown_markdown::testing::HOSTILE.join("\n");
        a.path = format!("src/{}.rs", hostile_line());
        a.metadata.owners = vec!["mallory".into(), "evil-org/everyone".into()];
        a.metadata.area = Some(hostile_line());
        let issue = render(&a, &Config::default(), &BTreeMap::new());
        assert_eq!(leaks(&issue.body), Vec::<String>::new(), "{}", issue.body);
        // The permalink stays one link: nothing in the path can end it.
        let link = issue.body.split("](").nth(1).unwrap();
        let link = &link[..link.find(')').unwrap()];
        assert!(!link.contains(['(', '[', ']', '|', ' ']), "{link}");
    }

    #[test]
    fn given_path_with_special_characters_then_permalink_is_escaped() {
        let repo = RepoRef::new("o", "r");
        assert_eq!(
            permalink("https://ghe.example/", &repo, "s", "a b/c#d?.rs", 3, 3),
            "https://ghe.example/o/r/blob/s/a%20b/c%23d%3F.rs#L3"
        );
    }

    #[test]
    fn given_repo_text_then_parse_accepts_only_owner_slash_name() {
        assert_eq!(
            RepoRef::parse("acme/shop"),
            Some(RepoRef::new("acme", "shop"))
        );
        assert_eq!(
            RepoRef::parse("acme/shop").unwrap().to_string(),
            "acme/shop"
        );
        for bad in ["acme", "/shop", "acme/", "a/b/c"] {
            assert_eq!(RepoRef::parse(bad), None, "{bad}");
        }
    }
}
