//! The reconcile plan: from a scan of the default branch and the existing
//! debt issues, the GitHub writes that make exactly one issue per item, with
//! the right content and state.
//!
//! Matching follows SonarQube's cascade. An annotation naming `#N` takes
//! issue N; then ids match markers exactly; then, among what is left
//! (unmatched annotations vs unmatched open issues whose path this scan
//! covers), best pair first and one-to-one: same path (after a rename) and
//! same normalised text; same path and similar text, or text extended or
//! shortened at a word boundary (edited in place);
//! another path with the same text (moved); same path and text under
//! another keyword (a TODO escalated to FIXME); another path with similar
//! text, for issues whose file has no items left (renamed and edited in one
//! change, seen without rename information). Whatever is still unmatched is
//! created (paced by `issues.max_new_per_run`) or closed (only where the scan
//! covers the issue's path, and only with `issues.close_when_removed`).
//!
//! Writes happen only when the rendered issue differs from the live one. The
//! body's permalink stays pinned to the commit and lines it was written at
//! until something else in the body changes, so neither an unrelated push
//! nor one that only moves lines writes anything: a push changing k items
//! costs at most k item writes.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use chrono::NaiveDate;
use paydown_annotations::Annotation;
use paydown_annotations::id::{normalise_text, similarity};
use paydown_config::Config;
use serde::{Deserialize, Serialize};

use crate::impact::{self, Impact};
use crate::marker::{self, ItemMarker};
use crate::render::{
    self, AREA_LABEL_PREFIX, ItemFacts, LABEL_IGNORED, LABEL_PREFIX, LABEL_WONTFIX, RenderContext,
    RepoRef,
};

/// Two texts on the same path at least this alike are one item edited in place.
pub const EDIT_SIMILARITY: f64 = 0.6;

/// Most (issue, item) pairs whose texts are compared across files (each
/// comparison builds both texts' bigrams): a few hundred renamed-and-edited
/// items at once, well under a second of planning.
const MAX_FUZZY_PAIRS: usize = 50_000;

/// Which files the scan read. Items in files it did not read are unknown:
/// they are neither closed nor matched away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// The whole tree at the commit.
    Full,
    /// Only these paths (an incremental scan of a push's changed files,
    /// including removed ones).
    Paths(BTreeSet<String>),
}

/// An issue's open/closed state, as GitHub reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueState {
    /// Open: the item is tracked (or waiting to be closed).
    Open,
    /// Closed, by the bot or a person; see [`ExistingIssue::closed_by_bot`].
    Closed,
}

/// A debt issue as GitHub has it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExistingIssue {
    /// The issue number in the repository.
    pub number: u64,
    /// Open or closed right now.
    pub state: IssueState,
    /// GitHub's `state_reason` (`completed`, `not_planned`, `reopened`, …).
    pub state_reason: Option<String>,
    /// Label names as on GitHub; compared case-insensitively, and labels the
    /// bot does not manage are never removed.
    pub labels: Vec<String>,
    /// Logins assigned now; owners are only ever added, never unassigned.
    pub assignees: Vec<String>,
    /// The live title; a title differing from the rendered one is rewritten
    /// unless the issue is adopted.
    pub title: String,
    /// The live body, read back for its marker and compared with the render.
    pub body: String,
    /// Whether a person put the issue in a milestone. The plan never sets or
    /// clears milestones; this is carried so callers and tests can check that.
    pub has_milestone: bool,
    /// [`marker::parse`] of `body`; issues without one are not the bot's
    /// and are touched only when an annotation names them (`#N`).
    pub marker: Option<ItemMarker>,
    /// Whether the last close was the bot's (`Some(true)`) or a person's
    /// (`Some(false)`); `None` when the caller could not tell: then a
    /// `not_planned` close counts as a person's, any other is left as it is.
    pub closed_by_bot: Option<bool>,
}

impl ExistingIssue {
    /// An issue with its marker parsed from `body`.
    pub fn new(number: u64, state: IssueState, title: &str, body: &str) -> Self {
        Self {
            number,
            state,
            state_reason: None,
            labels: Vec::new(),
            assignees: Vec::new(),
            title: title.to_string(),
            body: body.to_string(),
            has_milestone: false,
            marker: marker::parse(body),
            closed_by_bot: None,
        }
    }

    /// Whether the issue carries `label`, ignoring ASCII case (GitHub label
    /// names are case-insensitive).
    pub fn has_label(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l.eq_ignore_ascii_case(label))
    }
}

/// Everything the planner needs; the caller fetches it.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// The repository whose issues are planned; used in permalinks.
    pub repo: RepoRef,
    /// The scanned commit of the default branch.
    pub sha: String,
    /// Web base URL for permalinks: `https://github.com` or a GHES host.
    pub html_base: String,
    /// The repository's `.github/paydown.yml`: keywords, labels, issue pacing and
    /// whether removed items close their issues.
    pub config: Config,
    /// Annotations found by the scan (ids assigned).
    pub annotations: Vec<Annotation>,
    /// Which paths the scan read; issues outside it are left alone.
    pub coverage: Coverage,
    /// Files renamed in this change, old path → new path.
    pub renames: BTreeMap<String, String>,
    /// Issues carrying the bot's label, plus any issue an annotation names.
    pub issues: Vec<ExistingIssue>,
    /// The merged pull request that made this change, when known.
    pub pull_request: Option<u64>,
    /// First-seen dates by item id; otherwise the issue's recorded date, else `today`.
    pub first_seen: BTreeMap<String, NaiveDate>,
    /// Incident → count, by item id (the incidents feature fills this).
    pub incident_counts: BTreeMap<String, BTreeMap<String, u32>>,
    /// `P1`…`P4` by item id (the priority feature fills this).
    pub priorities: BTreeMap<String, String>,
    /// Incident counts, score and links by item id. `None`: incidents are
    /// not read here, and the priority and `debt:hot` labels are left alone.
    pub impact: Option<BTreeMap<String, Impact>>,
    /// The date new items are first seen on, passed in so planning stays pure
    /// and reproducible.
    pub today: NaiveDate,
}

impl PlanInput {
    /// An input with no renames, pull request or per-item facts.
    pub fn new(repo: RepoRef, sha: &str, config: Config, today: NaiveDate) -> Self {
        Self {
            repo,
            sha: sha.to_string(),
            html_base: "https://github.com".to_string(),
            config,
            annotations: Vec::new(),
            coverage: Coverage::Full,
            renames: BTreeMap::new(),
            issues: Vec::new(),
            pull_request: None,
            first_seen: BTreeMap::new(),
            incident_counts: BTreeMap::new(),
            priorities: BTreeMap::new(),
            impact: None,
            today,
        }
    }
}

/// One GitHub write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Effect {
    /// Open a new issue for an item no issue tracks yet.
    Create {
        /// The item id; its marker is in `body`.
        id: String,
        /// The rendered title.
        title: String,
        /// The rendered body, markers included.
        body: String,
        /// Labels to set: tracking, configured, keyword, area and impact.
        labels: Vec<String>,
        /// The annotation's owners.
        assignees: Vec<String>,
        /// Posted once the issue exists: the comment that opens a spike
        /// episode, for an item hot from the start.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// Only what differs; never removes anything people added.
    Update {
        /// The issue to edit.
        number: u64,
        /// The item id the issue tracks.
        id: String,
        /// New title, `None` to leave it.
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// New body, `None` to leave it (the permalink stays pinned).
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// Labels the rendered issue has and the live one lacks.
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        add_labels: Vec<String>,
        /// Bot-managed labels (keyword, area, impact) that no longer apply;
        /// people's labels are never listed.
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        remove_labels: Vec<String>,
        /// Owners new since the body was last written, so an unassignment
        /// by a person sticks.
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        add_assignees: Vec<String>,
        /// Posted after the edit: the one comment that opens a spike episode.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        comment: Option<String>,
    },
    /// The annotation left the default branch: comment, then close as completed.
    Close {
        /// The issue to close.
        number: u64,
        /// The item id the issue tracked.
        id: String,
        /// Posted before closing, saying why.
        comment: String,
    },
    /// The annotation came back: comment, then reopen.
    Reopen {
        /// The issue to reopen.
        number: u64,
        /// The item id the issue tracks.
        id: String,
        /// Posted before reopening, saying why.
        comment: String,
    },
    /// A person closed the issue while the annotation remains: add
    /// `debt:wontfix` and leave it closed.
    MarkWontfix {
        /// The closed issue to label.
        number: u64,
        /// The item id the issue tracks.
        id: String,
    },
    /// Another issue carries the same marker (left by a crash): close this
    /// one as a duplicate of `of`.
    CloseDuplicate {
        /// The duplicate issue to close.
        number: u64,
        /// The item id both issues carry.
        id: String,
        /// The issue kept for the item.
        of: u64,
    },
}

impl Effect {
    /// The item id the effect is about.
    pub fn id(&self) -> &str {
        match self {
            Effect::Create { id, .. }
            | Effect::Update { id, .. }
            | Effect::Close { id, .. }
            | Effect::Reopen { id, .. }
            | Effect::MarkWontfix { id, .. }
            | Effect::CloseDuplicate { id, .. } => id,
        }
    }
}

/// How many of each thing the plan does or leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// [`Effect::Create`]s in the plan (deferred ones excluded).
    pub create: usize,
    /// [`Effect::Update`]s in the plan.
    pub update: usize,
    /// [`Effect::Close`]s in the plan.
    pub close: usize,
    /// [`Effect::Reopen`]s in the plan.
    pub reopen: usize,
    /// [`Effect::MarkWontfix`]es in the plan.
    pub wontfix: usize,
    /// [`Effect::CloseDuplicate`]s in the plan.
    pub duplicate: usize,
    /// Creates left for later runs by `max_new_per_run`.
    pub deferred: usize,
    /// Items whose issue is already right.
    pub unchanged: usize,
    /// Items whose issue carries `debt:ignored`.
    pub ignored: usize,
    /// Closed issues whose annotation remains but whose closer is unknown.
    pub undetermined: usize,
}

/// What to write to GitHub, in order; plain data, printable and serialisable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The writes, in the order they must be applied.
    pub effects: Vec<Effect>,
    /// Creates held back by `issues.max_new_per_run`; a later run makes them.
    pub deferred_creates: usize,
    /// Counts of the effects and of what was left alone.
    pub summary: PlanSummary,
    /// Things worth telling a person (duplicate ids in the code, …).
    pub warnings: Vec<String>,
    /// Items whose scan id differs from the id their issue carries (a
    /// renamed file, a moved or edited annotation): scan id → the issue's,
    /// which the item keeps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kept_ids: BTreeMap<String, String>,
}

impl Plan {
    /// True when nothing is to be written now.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }

    /// One line per effect, then the deferred count and warnings.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for effect in &self.effects {
            let line = match effect {
                Effect::Create { id, title, .. } => format!("create     {title}  [{id}]"),
                Effect::Update {
                    number,
                    id,
                    title,
                    body,
                    add_labels,
                    remove_labels,
                    add_assignees,
                    comment,
                } => {
                    let mut what: Vec<String> = Vec::new();
                    if let Some(title) = title {
                        what.push(format!("title → {title:?}"));
                    }
                    if body.is_some() {
                        what.push("body".to_string());
                    }
                    if !add_labels.is_empty() {
                        what.push(format!("+labels {}", add_labels.join(",")));
                    }
                    if !remove_labels.is_empty() {
                        what.push(format!("-labels {}", remove_labels.join(",")));
                    }
                    if !add_assignees.is_empty() {
                        what.push(format!("+assignees {}", add_assignees.join(",")));
                    }
                    if comment.is_some() {
                        what.push("+comment".to_string());
                    }
                    format!("update     #{number} {}  [{id}]", what.join("; "))
                }
                Effect::Close { number, id, .. } => format!("close      #{number}  [{id}]"),
                Effect::Reopen { number, id, .. } => format!("reopen     #{number}  [{id}]"),
                Effect::MarkWontfix { number, id } => {
                    format!("wontfix    #{number} (closed by a person; annotation remains)  [{id}]")
                }
                Effect::CloseDuplicate { number, id, of } => {
                    format!("duplicate  #{number} of #{of}  [{id}]")
                }
            };
            out.push_str(&line);
            out.push('\n');
        }
        if self.deferred_creates > 0 {
            let _ = writeln!(
                out,
                "deferred   {} new issues to later runs (issues.max_new_per_run)",
                self.deferred_creates
            );
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "{} to create, {} to update, {} to close, {} to reopen, {} wontfix, {} duplicates, {} unchanged, {} ignored",
            s.create, s.update, s.close, s.reopen, s.wontfix, s.duplicate, s.unchanged, s.ignored
        );
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        out
    }

    /// The plan as pretty JSON (for `--dry-run --format json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Computes the plan. Deterministic: the same input gives the same plan.
pub fn plan(input: &PlanInput) -> Plan {
    Planner::new(input).run()
}

struct Planner<'a> {
    input: &'a PlanInput,
    /// Annotations to track, sorted by path and line, one per id.
    items: Vec<&'a Annotation>,
    issues: &'a [ExistingIssue],
    /// Issue index matched to each item.
    item_issue: Vec<Option<usize>>,
    issue_taken: Vec<bool>,
    /// Issues closed as duplicates this run, or otherwise out of matching.
    issue_excluded: Vec<bool>,
    plan: Plan,
    /// Effects on existing issues, sorted by issue number at the end.
    issue_effects: Vec<(u64, usize, Effect)>,
}

impl<'a> Planner<'a> {
    fn new(input: &'a PlanInput) -> Self {
        let mut sorted: Vec<&Annotation> = input.annotations.iter().collect();
        sorted.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.id).cmp(&(&b.path, b.line, b.column, &b.id))
        });
        let mut plan = Plan::default();
        let mut first_at: HashMap<&str, &Annotation> = HashMap::new();
        let mut items = Vec::new();
        for a in sorted {
            // An id the marker parser would refuse could never be found
            // again: every run would create another issue.
            if !marker::is_marker_id(&a.id) {
                plan.warnings.push(format!(
                    "{}:{}: id `{}` cannot be written to an issue marker; not tracked",
                    a.path, a.line, a.id
                ));
                continue;
            }
            if let Some(first) = first_at.get(a.id.as_str()) {
                plan.warnings.push(format!(
                    "{}:{}: id `{}` is also used at {}:{}; only the first is tracked",
                    a.path, a.line, a.id, first.path, first.line
                ));
                continue;
            }
            first_at.insert(&a.id, a);
            items.push(a);
        }
        let n = input.issues.len();
        Self {
            input,
            item_issue: vec![None; items.len()],
            items,
            issues: &input.issues,
            issue_taken: vec![false; n],
            issue_excluded: vec![false; n],
            plan,
            issue_effects: Vec::new(),
        }
    }

    fn run(mut self) -> Plan {
        let keepers = self.resolve_duplicates();
        self.match_explicit_numbers();
        self.match_exact_ids(&keepers);
        self.match_cascade();
        for index in 0..self.items.len() {
            if let Some(issue) = self.item_issue[index] {
                self.reconcile_pair(index, issue);
            }
        }
        self.close_unmatched();
        self.plan_creates();
        let mut issue_effects = std::mem::take(&mut self.issue_effects);
        issue_effects.sort_by_key(|(number, seq, _)| (*number, *seq));
        let creates = std::mem::take(&mut self.plan.effects);
        self.plan.effects = issue_effects.into_iter().map(|(_, _, e)| e).collect();
        self.plan.effects.extend(creates);
        self.plan
    }

    fn push_issue_effect(&mut self, number: u64, effect: Effect) {
        let seq = self.issue_effects.len();
        self.issue_effects.push((number, seq, effect));
    }

    /// Marker id → the issue kept for it (the lowest number); open issues
    /// with a higher number and the same marker are closed as duplicates.
    fn resolve_duplicates(&mut self) -> HashMap<&'a str, usize> {
        let mut groups: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for (index, issue) in self.issues.iter().enumerate() {
            if let Some(m) = &issue.marker {
                groups.entry(m.id.as_str()).or_default().push(index);
            }
        }
        let mut keepers = HashMap::new();
        for (id, mut members) in groups {
            members.sort_by_key(|&i| self.issues[i].number);
            let keeper = members[0];
            keepers.insert(id, keeper);
            for &other in &members[1..] {
                self.issue_excluded[other] = true;
                let issue = &self.issues[other];
                if issue.state == IssueState::Open && !issue.has_label(LABEL_IGNORED) {
                    self.plan.summary.duplicate += 1;
                    self.push_issue_effect(
                        issue.number,
                        Effect::CloseDuplicate {
                            number: issue.number,
                            id: id.to_string(),
                            of: self.issues[keeper].number,
                        },
                    );
                }
            }
        }
        keepers
    }

    fn pair(&mut self, item: usize, issue: usize) {
        self.item_issue[item] = Some(issue);
        self.issue_taken[issue] = true;
    }

    fn available(&self, issue: usize) -> bool {
        !self.issue_taken[issue] && !self.issue_excluded[issue]
    }

    fn match_explicit_numbers(&mut self) {
        let by_number: HashMap<u64, usize> = self
            .issues
            .iter()
            .enumerate()
            .map(|(i, issue)| (issue.number, i))
            .collect();
        for item in 0..self.items.len() {
            let Some(number) = self.items[item].metadata.issue else {
                continue;
            };
            if let Some(&issue) = by_number.get(&number)
                && self.available(issue)
            {
                self.pair(item, issue);
            }
        }
    }

    fn match_exact_ids(&mut self, keepers: &HashMap<&'a str, usize>) {
        for item in 0..self.items.len() {
            if self.item_issue[item].is_some() {
                continue;
            }
            if let Some(&issue) = keepers.get(self.items[item].id.as_str())
                && self.available(issue)
            {
                self.pair(item, issue);
            }
        }
    }

    fn covers(&self, path: &str) -> bool {
        match &self.input.coverage {
            Coverage::Full => true,
            Coverage::Paths(paths) => paths.contains(path) || self.input.renames.contains_key(path),
        }
    }

    /// Rename, edit-in-place and move detection, best pair first.
    fn match_cascade(&mut self) {
        // Candidates: unmatched open issues with meta, whose path is covered.
        let mut by_path: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_text: HashMap<(&str, String), Vec<usize>> = HashMap::new();
        for (index, issue) in self.issues.iter().enumerate() {
            if !self.available(index) || issue.state != IssueState::Open {
                continue;
            }
            let Some(meta) = issue.marker.as_ref().and_then(|m| m.meta.as_ref()) else {
                continue;
            };
            if !self.covers(&meta.path) {
                continue;
            }
            let path = self
                .input
                .renames
                .get(&meta.path)
                .map_or(meta.path.as_str(), String::as_str);
            by_path.entry(path).or_default().push(index);
            by_text
                .entry((meta.keyword.as_str(), normalise_text(&meta.text)))
                .or_default()
                .push(index);
        }
        if by_path.is_empty() {
            return;
        }
        // (tier, similarity, issue, item): lower tier first, then more similar.
        let mut candidates: Vec<(u8, f64, usize, usize)> = Vec::new();
        for (item, a) in self.items.iter().enumerate() {
            if self.item_issue[item].is_some() {
                continue;
            }
            let text = normalise_text(&a.text);
            for &issue in by_path.get(a.path.as_str()).into_iter().flatten() {
                let Some(meta) = self.issues[issue]
                    .marker
                    .as_ref()
                    .and_then(|m| m.meta.as_ref())
                else {
                    continue;
                };
                if meta.keyword != a.keyword {
                    // TODO turned FIXME (or back) is the same debt, escalated.
                    if normalise_text(&meta.text) == text {
                        candidates.push((3, 1.0, issue, item));
                    }
                    continue;
                }
                let old = normalise_text(&meta.text);
                if old == text {
                    candidates.push((0, 1.0, issue, item));
                } else {
                    let score = edit_score(&old, &text);
                    if score >= EDIT_SIMILARITY {
                        candidates.push((1, score, issue, item));
                    }
                }
            }
            for &issue in by_text
                .get(&(a.keyword.as_str(), text.clone()))
                .into_iter()
                .flatten()
            {
                let moved = self.issues[issue]
                    .marker
                    .as_ref()
                    .and_then(|m| m.meta.as_ref())
                    .is_some_and(|meta| {
                        self.input.renames.get(&meta.path).unwrap_or(&meta.path) != &a.path
                    });
                if moved {
                    candidates.push((2, 1.0, issue, item));
                }
            }
        }
        self.renamed_and_edited(&by_path, &mut candidates);
        candidates.sort_by(|x, y| {
            x.0.cmp(&y.0)
                .then_with(|| y.1.partial_cmp(&x.1).unwrap_or(Ordering::Equal))
                .then_with(|| self.issues[x.2].number.cmp(&self.issues[y.2].number))
                .then_with(|| x.3.cmp(&y.3))
        });
        for (_, _, issue, item) in candidates {
            if self.item_issue[item].is_none() && self.available(issue) {
                self.pair(item, issue);
            }
        }
    }

    /// The last tier: an issue whose file has no items left and an item in
    /// another file with similar text (a file renamed and edited in one
    /// change, seen by a full scan that has no rename information). Pairs
    /// are scored only up to [`MAX_FUZZY_PAIRS`], so a mass deletion plus
    /// a mass addition cannot make planning quadratic.
    fn renamed_and_edited(
        &self,
        by_path: &HashMap<&str, Vec<usize>>,
        candidates: &mut Vec<(u8, f64, usize, usize)>,
    ) {
        let live: BTreeSet<&str> = self.items.iter().map(|a| a.path.as_str()).collect();
        let orphans: Vec<(usize, &str, String)> = by_path
            .iter()
            .filter(|(path, _)| !live.contains(**path))
            .flat_map(|(_, issues)| issues.iter().copied())
            .filter_map(|issue| {
                let meta = self.issues[issue].marker.as_ref()?.meta.as_ref()?;
                Some((issue, meta.keyword.as_str(), normalise_text(&meta.text)))
            })
            .collect();
        let unmatched: Vec<usize> = (0..self.items.len())
            .filter(|&item| self.item_issue[item].is_none())
            .collect();
        if orphans.is_empty() || orphans.len().saturating_mul(unmatched.len()) > MAX_FUZZY_PAIRS {
            return;
        }
        for item in unmatched {
            let a = &self.items[item];
            let text = normalise_text(&a.text);
            for (issue, keyword, old) in &orphans {
                if *keyword != a.keyword || *old == text {
                    // Identical text elsewhere is already tier 2.
                    continue;
                }
                let score = edit_score(old, &text);
                if score >= EDIT_SIMILARITY {
                    candidates.push((4, score, *issue, item));
                }
            }
        }
    }

    fn facts_for(
        &self,
        a: &Annotation,
        issue: Option<&ExistingIssue>,
    ) -> (NaiveDate, Option<&'a str>) {
        let recorded = issue
            .and_then(|i| i.marker.as_ref())
            .and_then(|m| m.meta.as_ref())
            .map(|m| m.first_seen);
        let first_seen = self
            .input
            .first_seen
            .get(&a.id)
            .copied()
            .or(recorded)
            .unwrap_or(self.input.today);
        let priority = self.input.priorities.get(&a.id).map(String::as_str);
        (first_seen, priority)
    }

    fn render(
        &self,
        a: &Annotation,
        sha: &str,
        first_seen: NaiveDate,
        priority: Option<&str>,
        adopted: bool,
    ) -> render::RenderedIssue {
        let empty = BTreeMap::new();
        let ctx = RenderContext {
            repo: &self.input.repo,
            html_base: &self.input.html_base,
            sha,
            config: &self.input.config,
        };
        let facts = ItemFacts {
            first_seen,
            priority,
            incident_counts: self.input.incident_counts.get(&a.id).unwrap_or(&empty),
            adopted,
            impact: self.impact_of(a),
        };
        render::render_issue(a, &ctx, &facts)
    }

    fn impact_of(&self, a: &Annotation) -> Option<&'a Impact> {
        self.input.impact.as_ref()?.get(&a.id)
    }

    /// Adds the priority and hot labels to `rendered`; returns the comment
    /// that opens a spike episode, when this run opens one.
    fn add_impact_labels(
        &self,
        a: &Annotation,
        issue: Option<&ExistingIssue>,
        rendered: &mut render::RenderedIssue,
    ) -> Option<String> {
        let impact = self.impact_of(a)?;
        let was_hot = issue.is_some_and(|i| i.has_label(impact::HOT_LABEL));
        let decision = impact::decide(impact, &self.input.config, was_hot);
        rendered.labels.extend(impact::labels(impact, decision.hot));
        decision
            .entered
            .then(|| impact::hot_comment(impact, &decision))
    }

    fn reconcile_pair(&mut self, item: usize, index: usize) {
        let issue = &self.issues[index];
        // An item whose file was renamed (or that moved to another file,
        // edited or not) keeps the id its issue carries: the derived id
        // names the path, and SARIF fingerprints, `/debt link` and incident
        // links key on the id. An explicit `id=` is the author's word and
        // wins; an edit in place takes the new text's id as before.
        let kept;
        // Once kept, the id stays: the next scan derives the new path's id
        // again for the same text and keyword.
        let moved = |m: &ItemMarker| {
            let a = self.items[item];
            a.metadata.id.is_none()
                && m.id != a.id
                && m.meta.as_ref().is_some_and(|meta| {
                    meta.path != a.path
                        || (meta.keyword == a.keyword
                            && normalise_text(&meta.text) == normalise_text(&a.text))
                })
        };
        let a = match issue.marker.as_ref() {
            Some(m) if moved(m) => {
                let mut renamed = self.items[item].clone();
                self.plan.kept_ids.insert(renamed.id.clone(), m.id.clone());
                renamed.id = m.id.clone();
                kept = renamed;
                &kept
            }
            _ => self.items[item],
        };
        if issue.has_label(LABEL_IGNORED) {
            self.plan.summary.ignored += 1;
            return;
        }
        if issue.state == IssueState::Closed {
            // A closed issue a person wrote (an annotation names `#N`) is
            // history, not a debt issue to reopen or label.
            if issue.has_label(LABEL_WONTFIX) || issue.marker.is_none() {
                self.plan.summary.unchanged += 1;
                return;
            }
            // The bot only ever closes as `completed` (or as a duplicate),
            // so `not_planned` is a person's word even when the closer is unknown.
            let closed_by_bot = issue.closed_by_bot.or_else(|| {
                (issue.state_reason.as_deref() == Some("not_planned")).then_some(false)
            });
            match closed_by_bot {
                Some(false) => {
                    self.plan.summary.wontfix += 1;
                    self.push_issue_effect(
                        issue.number,
                        Effect::MarkWontfix {
                            number: issue.number,
                            id: a.id.clone(),
                        },
                    );
                    return;
                }
                None => {
                    self.plan.summary.undetermined += 1;
                    return;
                }
                Some(true) => {
                    self.plan.summary.reopen += 1;
                    let comment = format!(
                        "paydown: the annotation is back on the default branch at `{}` line {} ({}). Reopening.",
                        paydown_markdown::code_span(&a.path),
                        a.line,
                        self.commit_ref()
                    );
                    self.push_issue_effect(
                        issue.number,
                        Effect::Reopen {
                            number: issue.number,
                            id: a.id.clone(),
                            comment,
                        },
                    );
                }
            }
        }
        match self.update_for(a, issue) {
            Some(update) => {
                self.plan.summary.update += 1;
                self.push_issue_effect(issue.number, update);
            }
            None if issue.state == IssueState::Open => self.plan.summary.unchanged += 1,
            None => {}
        }
    }

    /// The update that makes `issue` what `a` renders to, if anything differs.
    fn update_for(&self, a: &Annotation, issue: &ExistingIssue) -> Option<Effect> {
        let meta = issue.marker.as_ref().and_then(|m| m.meta.as_ref());
        // An issue without our marker is one a person wrote: adopt it,
        // keeping its title and description.
        let adopted = issue.marker.is_none() || meta.is_some_and(|m| m.adopted);
        let (first_seen, priority) = self.facts_for(a, Some(issue));
        let prefix = if adopted {
            let cut = marker::item_line_offset(&issue.body).unwrap_or(issue.body.len());
            issue.body[..cut].trim_end().to_string()
        } else {
            String::new()
        };
        let full_body = |section: &str| {
            if prefix.is_empty() {
                section.to_string()
            } else {
                format!("{prefix}\n\n{section}")
            }
        };
        let live_body = comparable(&issue.body);
        // The body as it was written, at the commit and lines it was written
        // for: a permalink pinned to a commit stays true when code above the
        // annotation moves, so a push that only shifts lines writes nothing.
        // Its location is refreshed with the next write for another reason
        // (text, keyword, file, metadata).
        let pinned = match meta {
            Some(m) if m.path == a.path => {
                let mut at = a.clone();
                at.line = m.line;
                at.end_line = m.end_line;
                self.render(&at, &m.sha, first_seen, priority, adopted)
            }
            Some(m) => self.render(a, &m.sha, first_seen, priority, adopted),
            None => self.render(a, &self.input.sha, first_seen, priority, adopted),
        };
        let (body, current) = if comparable(&full_body(&pinned.body)) == live_body {
            (None, pinned)
        } else {
            let current = self.render(a, &self.input.sha, first_seen, priority, adopted);
            (Some(full_body(&current.body)), current)
        };
        let mut current = current;
        let comment = self.add_impact_labels(a, Some(issue), &mut current);
        let manages_impact = self.impact_of(a).is_some();
        let title = (!adopted && current.title != issue.title).then(|| current.title.clone());

        let add_labels: Vec<String> = current
            .labels
            .iter()
            .filter(|l| !issue.has_label(l))
            .cloned()
            .collect();
        let managed_keywords: BTreeSet<String> = self
            .input
            .config
            .annotations
            .keywords
            .iter()
            .chain(meta.map(|m| &m.keyword))
            .map(|k| render::keyword_label(k).to_lowercase())
            .collect();
        let remove_labels: Vec<String> = issue
            .labels
            .iter()
            .filter(|label| {
                let lower = label.to_lowercase();
                let managed = lower.starts_with(AREA_LABEL_PREFIX)
                    || (lower.starts_with(LABEL_PREFIX) && managed_keywords.contains(&lower))
                    || (manages_impact && impact::is_managed_label(&lower));
                managed && !current.labels.iter().any(|l| l.eq_ignore_ascii_case(label))
            })
            .cloned()
            .collect();
        // Only owners new since the body was last written: a person who
        // unassigns an owner is not overruled on every run.
        let add_assignees: Vec<String> = current
            .assignees
            .iter()
            .filter(|owner| {
                let known =
                    meta.is_some_and(|m| m.owners.iter().any(|o| o.eq_ignore_ascii_case(owner)));
                !known
                    && !issue
                        .assignees
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(owner))
            })
            .cloned()
            .collect();
        if title.is_none()
            && body.is_none()
            && add_labels.is_empty()
            && remove_labels.is_empty()
            && add_assignees.is_empty()
            && comment.is_none()
        {
            return None;
        }
        Some(Effect::Update {
            number: issue.number,
            id: a.id.clone(),
            title,
            body,
            add_labels,
            remove_labels,
            add_assignees,
            comment,
        })
    }

    fn commit_ref(&self) -> String {
        let short: String = self.input.sha.chars().take(7).collect();
        let link = format!(
            "{}/{}/commit/{}",
            self.input.html_base.trim_end_matches('/'),
            self.input.repo,
            self.input.sha
        );
        match self.input.pull_request {
            Some(pr) => format!("commit [`{short}`]({link}), #{pr}"),
            None => format!("commit [`{short}`]({link})"),
        }
    }

    fn close_unmatched(&mut self) {
        if !self.input.config.issues.close_when_removed {
            return;
        }
        for index in 0..self.issues.len() {
            let issue = &self.issues[index];
            if self.issue_taken[index]
                || self.issue_excluded[index]
                || issue.state != IssueState::Open
                || issue.has_label(LABEL_IGNORED)
            {
                continue;
            }
            let Some(m) = &issue.marker else { continue };
            // Without meta the path is unknown: only a full scan can say
            // the item is gone.
            let covered = match &m.meta {
                Some(meta) => self.covers(&meta.path),
                None => self.input.coverage == Coverage::Full,
            };
            if !covered {
                continue;
            }
            let what = m
                .meta
                .as_ref()
                .map(|meta| {
                    format!(
                        "`{}: {}` in `{}`",
                        paydown_markdown::code_span(&meta.keyword),
                        paydown_markdown::code_span(&meta.text),
                        paydown_markdown::code_span(&meta.path)
                    )
                })
                .unwrap_or_else(|| "this item".to_string());
            let comment = format!(
                "paydown: the annotation {what} is no longer on the default branch as of {}. \
                 Closing as paid down; if the annotation comes back, this issue will be reopened.",
                self.commit_ref()
            );
            self.plan.summary.close += 1;
            self.push_issue_effect(
                issue.number,
                Effect::Close {
                    number: issue.number,
                    id: m.id.clone(),
                    comment,
                },
            );
        }
    }

    fn plan_creates(&mut self) {
        let cap = self.input.config.issues.max_new_per_run as usize;
        for item in 0..self.items.len() {
            if self.item_issue[item].is_some() {
                continue;
            }
            if self.plan.summary.create >= cap {
                self.plan.deferred_creates += 1;
                continue;
            }
            let a = self.items[item];
            let (first_seen, priority) = self.facts_for(a, None);
            let mut r = self.render(a, &self.input.sha, first_seen, priority, false);
            // An item hot from the start: the comment follows the create.
            let comment = self.add_impact_labels(a, None, &mut r);
            self.plan.summary.create += 1;
            self.plan.effects.push(Effect::Create {
                id: r.id,
                title: r.title,
                body: r.body,
                labels: r.labels,
                assignees: r.assignees,
                comment,
            });
        }
        self.plan.summary.deferred = self.plan.deferred_creates;
    }
}

/// Shortest normalised text whose extension counts as an edit in place.
const MIN_EXTENDED_CHARS: usize = 8;

/// How likely two normalised texts on the same path are one annotation
/// edited: their similarity, raised to the threshold when one extends the
/// other at a word boundary (`fix x` → `fix x, and y too`), which bigram
/// similarity undervalues when the text grows a lot.
fn edit_score(old: &str, new: &str) -> f64 {
    let score = similarity(old, new);
    let (short, long) = if old.len() <= new.len() {
        (old, new)
    } else {
        (new, old)
    };
    let extends = short.chars().count() >= MIN_EXTENDED_CHARS
        && long.starts_with(short)
        && long[short.len()..].starts_with(|c: char| !c.is_alphanumeric());
    if extends {
        score.max(EDIT_SIMILARITY)
    } else {
        score
    }
}

/// A body as compared: GitHub may hand back CRLF and drop trailing white space.
fn comparable(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_text_extended_at_a_word_boundary_then_it_counts_as_an_edit() {
        let n = normalise_text;
        assert!(
            edit_score(
                &n("task number 5"),
                &n("task number 5, now with more detail")
            ) >= EDIT_SIMILARITY
        );
        assert!(
            edit_score(&n("flush the cache now please"), &n("flush the cache")) >= EDIT_SIMILARITY
        );
        assert!(
            edit_score(&n("fix"), &n("fix everything in the billing module")) < EDIT_SIMILARITY
        );
        assert!(
            edit_score(
                &n("rename the mod"),
                &n("rename the module to billing and more")
            ) < EDIT_SIMILARITY
        );
    }
}
