//! What a caller keeps between syncs of one repository so that a push can
//! be reconciled from its changed files alone: the commit last synced, the
//! configuration in force at it (the file's text when valid, else the last
//! valid one's, with the file's errors), the issue index (the debt issues as the planner needs
//! them, their dates, the dashboard), the annotations of every file (for
//! the dashboard's counts and lists), and when the issues were last listed.
//!
//! The state is plain serde data; the server keeps it in its store, the
//! CLI and the Action keep none and always run full syncs. Updating it
//! after a plan is applied is pure ([`after_apply`]) and mirrors
//! what the writes did on GitHub, so the next push needs no re-listing of
//! every issue; the `since` listing of the next push then overwrites
//! anything GitHub holds differently.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use paydown_annotations::{Annotation, Metadata};
use paydown_markers::labels::WONTFIX as LABEL_WONTFIX;
use paydown_markers::{closed_by_bot, item as marker};
use paydown_reconcile::{Effect, ExistingIssue, IssueState, Plan};
use serde::{Deserialize, Serialize};

use crate::DashboardWrite;
use crate::apply::ApplyReport;
use crate::fetch::{DashboardIssue, IssueDates, Tracked};

/// Bumped when the shape changes; a state of another version is ignored
/// (the next push runs a full sync and writes a new one).
pub const STATE_VERSION: u32 = 1;

/// One repository's sync state after a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// The state format's version ([`STATE_VERSION`] when written).
    pub version: u32,
    /// The default branch commit the issues were reconciled with.
    pub sha: String,
    /// The text of the configuration in force at `sha`: `.github/paydown.yml`
    /// when it is valid; when it is not, the last valid config the run was
    /// given ([`crate::SyncOptions::last_valid_config`]). `None`: the defaults.
    pub config_text: Option<String>,
    /// The problems of `.github/paydown.yml` at `sha` (empty when it is
    /// valid), so a push that does not touch the file keeps listing them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_errors: Vec<String>,
    /// The `since` of the next issue listing: when the last listing
    /// started, less a margin for clock skew between us and GitHub.
    pub listed_since: DateTime<Utc>,
    /// Whether the run left nothing to do: no creates deferred by pacing,
    /// no effect GitHub refused. Only a complete state is built on
    /// incrementally; otherwise the next run is a full sync.
    pub complete: bool,
    /// The debt issues and dashboard found under the bot's label at `sha`.
    pub tracked: Tracked,
    /// The annotations of every scanned file, by path (what the dashboard
    /// shows of them).
    pub files: BTreeMap<String, Vec<StoredAnnotation>>,
}

/// The part of an annotation the dashboard shows, enough to rebuild it
/// without rescanning its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnnotation {
    /// The debt item's stable id.
    pub id: String,
    /// 1-based line of the keyword.
    pub line: u32,
    /// 1-based column of the keyword.
    pub column: u32,
    /// Last line of the annotation's body.
    pub end_line: u32,
    /// The keyword as written.
    pub keyword: String,
    /// The annotation's first line of text.
    pub text: String,
    /// The `area=` metadata, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
}

impl StoredAnnotation {
    /// Keeps what the dashboard shows of `a`.
    pub fn from_annotation(a: &Annotation) -> Self {
        Self {
            id: a.id.clone(),
            line: a.line,
            column: a.column,
            end_line: a.end_line,
            keyword: a.keyword.clone(),
            text: a.text.clone(),
            area: a.metadata.area.clone(),
        }
    }

    /// The annotation as the dashboard needs it (body and other metadata
    /// are not kept).
    pub fn to_annotation(&self, path: &str) -> Annotation {
        Annotation {
            path: path.to_string(),
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            keyword: self.keyword.clone(),
            text: self.text.clone(),
            body: String::new(),
            metadata: Metadata {
                area: self.area.clone(),
                ..Metadata::default()
            },
            id: self.id.clone(),
        }
    }
}

/// Annotations grouped by path, as the state keeps them.
pub fn group_by_path(annotations: &[Annotation]) -> BTreeMap<String, Vec<StoredAnnotation>> {
    let mut files: BTreeMap<String, Vec<StoredAnnotation>> = BTreeMap::new();
    for a in annotations {
        files
            .entry(a.path.clone())
            .or_default()
            .push(StoredAnnotation::from_annotation(a));
    }
    files
}

impl SyncState {
    /// Every annotation of the state, by path then line.
    pub fn annotations(&self) -> Vec<Annotation> {
        self.files
            .iter()
            .flat_map(|(path, list)| list.iter().map(move |a| a.to_annotation(path)))
            .collect()
    }

    /// The configuration this state was synced with, and the problems of
    /// the file at `sha`. A state written before the problems were kept may
    /// hold a broken file's text: that is resolved as a fresh read would
    /// be, `last_valid` standing in for it.
    pub fn config_in_force(&self, last_valid: Option<&str>) -> crate::ConfigInForce {
        let mut in_force = crate::resolve_config(self.config_text.as_deref(), last_valid);
        if in_force.errors.is_empty() {
            in_force.errors = self.config_errors.clone();
        }
        in_force
    }

    /// The state as JSON, for a store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored state; `None` when it cannot be read or is of another
    /// version (the caller then runs a full sync).
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str::<SyncState>(text)
            .ok()
            .filter(|s| s.version == STATE_VERSION)
    }
}

/// The part of a [`SyncState`] that is not per item: one small row per
/// repository in a store (the synced commit, the config in force, the
/// listing cursor, the dashboard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateHead {
    /// The state format's version, as in [`SyncState::version`].
    pub version: u32,
    /// As [`SyncState::sha`].
    pub sha: String,
    /// As [`SyncState::config_text`].
    pub config_text: Option<String>,
    /// As [`SyncState::config_errors`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_errors: Vec<String>,
    /// As [`SyncState::listed_since`].
    pub listed_since: DateTime<Utc>,
    /// As [`SyncState::complete`].
    pub complete: bool,
    /// The dashboard issue, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<DashboardIssue>,
}

/// One tracked issue as a store row: the issue as the planner needs it
/// and its dates, either of which may be missing (an issue named by `#N`
/// has no dates; a date may outlive its issue's marker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueRow {
    /// The issue number.
    pub number: u64,
    /// The issue as the planner needs it, when its marker was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<ExistingIssue>,
    /// Its dates, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dates: Option<IssueDates>,
}

impl IssueRow {
    /// The debt item the issue tracks (its marker's id), if any.
    pub fn item_id(&self) -> Option<&str> {
        self.issue
            .as_ref()
            .and_then(|i| i.marker.as_ref())
            .map(|m| m.id.as_str())
    }
}

/// What a store must write to turn the rows of `old` into those of `new`:
/// only the rows that differ, so a push that touches k items writes O(k)
/// rows whatever the size of the repository.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateDelta {
    /// The head row, when it changed (or there was no old state).
    pub head: Option<StateHead>,
    /// Issue rows to insert or replace, by number.
    pub issues: Vec<IssueRow>,
    /// Issue rows to delete.
    pub removed_issues: Vec<u64>,
    /// Files whose annotations to insert or replace.
    pub files: Vec<(String, Vec<StoredAnnotation>)>,
    /// Files to delete.
    pub removed_files: Vec<String>,
}

impl StateDelta {
    /// Rows written or deleted.
    pub fn rows(&self) -> usize {
        usize::from(self.head.is_some())
            + self.issues.len()
            + self.removed_issues.len()
            + self.files.len()
            + self.removed_files.len()
    }
}

impl SyncState {
    /// The per-repository row.
    pub fn head(&self) -> StateHead {
        StateHead {
            version: self.version,
            sha: self.sha.clone(),
            config_text: self.config_text.clone(),
            config_errors: self.config_errors.clone(),
            listed_since: self.listed_since,
            complete: self.complete,
            dashboard: self.tracked.dashboard.clone(),
        }
    }

    /// One row per issue number known to the index or to its dates.
    pub fn issue_rows(&self) -> BTreeMap<u64, IssueRow> {
        let mut rows: BTreeMap<u64, IssueRow> = BTreeMap::new();
        let row = |number| IssueRow {
            number,
            issue: None,
            dates: None,
        };
        for issue in &self.tracked.issues {
            rows.entry(issue.number)
                .or_insert_with(|| row(issue.number))
                .issue = Some(issue.clone());
        }
        for dates in &self.tracked.dates {
            rows.entry(dates.number)
                .or_insert_with(|| row(dates.number))
                .dates = Some(dates.clone());
        }
        rows
    }

    /// The state the rows describe, issues and dates in number order.
    /// `None` when the head is of another version (the caller then runs a
    /// full sync, as for an unreadable state).
    pub fn from_rows(
        head: StateHead,
        issues: impl IntoIterator<Item = IssueRow>,
        files: impl IntoIterator<Item = (String, Vec<StoredAnnotation>)>,
    ) -> Option<SyncState> {
        if head.version != STATE_VERSION {
            return None;
        }
        let mut rows: Vec<IssueRow> = issues.into_iter().collect();
        rows.sort_by_key(|r| r.number);
        let mut tracked = Tracked {
            dashboard: head.dashboard,
            ..Tracked::default()
        };
        for row in rows {
            tracked.issues.extend(row.issue);
            tracked.dates.extend(row.dates);
        }
        Some(SyncState {
            version: head.version,
            sha: head.sha,
            config_text: head.config_text,
            config_errors: head.config_errors,
            listed_since: head.listed_since,
            complete: head.complete,
            tracked,
            files: files.into_iter().collect(),
        })
    }

    /// The rows to write to go from `old` (what the store holds; `None`:
    /// nothing) to this state. Rows are compared in place; only the ones
    /// that differ are copied.
    pub fn delta_from(&self, old: Option<&SyncState>) -> StateDelta {
        let head = self.head();
        let new_issues = self.issue_refs();
        let old_issues = old.map(SyncState::issue_refs).unwrap_or_default();
        let empty = BTreeMap::new();
        let old_files = old.map_or(&empty, |o| &o.files);
        StateDelta {
            head: (old.map(SyncState::head).as_ref() != Some(&head)).then_some(head),
            removed_issues: old_issues
                .keys()
                .filter(|n| !new_issues.contains_key(n))
                .copied()
                .collect(),
            issues: new_issues
                .iter()
                .filter(|(n, row)| old_issues.get(n) != Some(row))
                .map(|(&number, (issue, dates))| IssueRow {
                    number,
                    issue: issue.cloned(),
                    dates: dates.cloned(),
                })
                .collect(),
            removed_files: old_files
                .keys()
                .filter(|p| !self.files.contains_key(*p))
                .cloned()
                .collect(),
            files: self
                .files
                .iter()
                .filter(|(p, list)| old_files.get(*p) != Some(*list))
                .map(|(p, list)| (p.clone(), list.clone()))
                .collect(),
        }
    }

    /// [`Self::issue_rows`] by reference.
    #[allow(clippy::type_complexity)]
    fn issue_refs(&self) -> BTreeMap<u64, (Option<&ExistingIssue>, Option<&IssueDates>)> {
        let mut rows: BTreeMap<u64, (Option<&ExistingIssue>, Option<&IssueDates>)> =
            BTreeMap::new();
        for issue in &self.tracked.issues {
            rows.entry(issue.number).or_default().0 = Some(issue);
        }
        for dates in &self.tracked.dates {
            rows.entry(dates.number).or_default().1 = Some(dates);
        }
        rows
    }
}

/// Brings the issue index in line with what applying `plan` did: created
/// issues with their numbers, edits, closes, reopens, labels; and the
/// dashboard write. Effects GitHub refused make the run incomplete, so the
/// next run is a full sync and a wrong guess here is never built upon.
pub fn after_apply(
    tracked: &mut Tracked,
    plan: &Plan,
    applied: &ApplyReport,
    dashboard: &DashboardWrite,
    dashboard_body: &str,
    today: NaiveDate,
) {
    let created: BTreeMap<&str, u64> = applied
        .created
        .iter()
        .map(|c| (c.id.as_str(), c.number))
        .collect();
    for effect in &plan.effects {
        match effect {
            Effect::Create {
                id,
                title,
                body,
                labels,
                assignees,
                ..
            } => {
                let Some(&number) = created.get(id.as_str()) else {
                    continue;
                };
                let mut issue = ExistingIssue::new(number, IssueState::Open, title, body);
                issue.labels = labels.clone();
                issue.assignees = assignees.clone();
                tracked.issues.retain(|i| i.number != number);
                tracked.issues.push(issue);
                tracked.dates.retain(|d| d.number != number);
                tracked.dates.push(IssueDates {
                    number,
                    title: title.clone(),
                    created: today,
                    closed: None,
                });
            }
            Effect::Update {
                number,
                title,
                body,
                add_labels,
                remove_labels,
                add_assignees,
                ..
            } => edit(tracked, *number, |issue| {
                if let Some(title) = title {
                    issue.title = title.clone();
                }
                if let Some(body) = body {
                    set_body(issue, body.clone());
                }
                add_missing(&mut issue.labels, add_labels);
                issue
                    .labels
                    .retain(|l| !remove_labels.iter().any(|r| r.eq_ignore_ascii_case(l)));
                add_missing(&mut issue.assignees, add_assignees);
            }),
            Effect::Close { number, .. } => {
                edit(tracked, *number, |issue| {
                    if !closed_by_bot::is_marked(&issue.body) {
                        let body = closed_by_bot::mark(&issue.body);
                        set_body(issue, body);
                    }
                    issue.state = IssueState::Closed;
                    issue.state_reason = Some("completed".into());
                    issue.closed_by_bot = Some(true);
                });
                set_closed(tracked, *number, Some(today));
            }
            Effect::Reopen { number, .. } => {
                edit(tracked, *number, |issue| {
                    let body = closed_by_bot::unmark(&issue.body);
                    set_body(issue, body);
                    issue.state = IssueState::Open;
                    issue.state_reason = Some("reopened".into());
                    issue.closed_by_bot = None;
                });
                set_closed(tracked, *number, None);
            }
            Effect::MarkWontfix { number, .. } => edit(tracked, *number, |issue| {
                add_missing(&mut issue.labels, &[LABEL_WONTFIX.to_string()]);
            }),
            Effect::CloseDuplicate { number, .. } => {
                edit(tracked, *number, |issue| {
                    issue.state = IssueState::Closed;
                    issue.state_reason = Some("not_planned".into());
                    // As a re-listing would read it: no close mark in the body.
                    issue.closed_by_bot = Some(closed_by_bot::is_marked(&issue.body));
                });
                set_closed(tracked, *number, Some(today));
            }
        }
    }
    match dashboard {
        DashboardWrite::Created { number } => {
            tracked.dashboard = Some(DashboardIssue {
                number: *number,
                open: true,
                body: dashboard_body.to_string(),
            });
        }
        DashboardWrite::Updated { number } => {
            if let Some(d) = tracked.dashboard.as_mut().filter(|d| d.number == *number) {
                d.body = dashboard_body.to_string();
            }
        }
        _ => {}
    }
}

fn edit(tracked: &mut Tracked, number: u64, change: impl FnOnce(&mut ExistingIssue)) {
    if let Some(issue) = tracked.issues.iter_mut().find(|i| i.number == number) {
        change(issue);
    }
}

fn set_body(issue: &mut ExistingIssue, body: String) {
    issue.marker = marker::parse(&body);
    issue.body = body;
}

fn set_closed(tracked: &mut Tracked, number: u64, closed: Option<NaiveDate>) {
    if let Some(d) = tracked.dates.iter_mut().find(|d| d.number == number) {
        d.closed = closed;
    }
}

fn add_missing(list: &mut Vec<String>, new: &[String]) {
    for item in new {
        if !list.iter().any(|x| x.eq_ignore_ascii_case(item)) {
            list.push(item.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::CreatedIssue;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn created_closed_and_labelled_issues_are_recorded_as_github_now_has_them() {
        // Given an index with one open debt issue,
        let mut tracked = Tracked::default();
        let mut open = ExistingIssue::new(7, IssueState::Open, "TODO: old", "old body");
        open.labels = vec!["paydown".into()];
        tracked.issues.push(open);
        tracked.dates.push(IssueDates {
            number: 7,
            title: "TODO: old".into(),
            created: day(),
            closed: None,
        });
        // when a plan creating one issue and closing #7 was applied,
        let plan = Plan {
            effects: vec![
                Effect::Close {
                    number: 7,
                    id: "old".into(),
                    comment: "gone".into(),
                },
                Effect::Create {
                    id: "new".into(),
                    title: "TODO: new".into(),
                    body: "new body".into(),
                    // as the planner renders them, tracking label first
                    labels: vec!["paydown".into(), "debt:todo".into()],
                    assignees: vec!["bob".into()],
                    comment: None,
                },
            ],
            ..Plan::default()
        };
        let applied = ApplyReport {
            applied: 2,
            created: vec![CreatedIssue {
                id: "new".into(),
                number: 8,
            }],
            failures: Vec::new(),
            ..ApplyReport::default()
        };
        after_apply(
            &mut tracked,
            &plan,
            &applied,
            &DashboardWrite::Created { number: 9 },
            "dash",
            day(),
        );
        // then #7 is closed by the bot with the mark in its body,
        let closed = tracked.issues.iter().find(|i| i.number == 7).unwrap();
        assert_eq!(closed.state, IssueState::Closed);
        assert_eq!(closed.closed_by_bot, Some(true));
        assert!(closed.body.ends_with(closed_by_bot::MARKER));
        assert_eq!(tracked.dates[0].closed, Some(day()));
        // #8 exists with the plan's labels,
        let created = tracked.issues.iter().find(|i| i.number == 8).unwrap();
        assert_eq!(created.labels, ["paydown", "debt:todo"]);
        assert_eq!(created.assignees, ["bob"]);
        // and the dashboard is known.
        assert_eq!(tracked.dashboard.as_ref().map(|d| d.number), Some(9));
    }

    #[test]
    fn a_state_keeps_the_config_in_force_and_the_files_errors() {
        let valid = "annotations:\n  keywords: [TODO, NOTE]\n";
        let broken = "annotations:\n  kewords: [TODO, NOTE]\n";
        // Given a state synced under the last valid config while the file was broken,
        let kept = SyncState {
            version: STATE_VERSION,
            sha: "abc".into(),
            config_text: Some(valid.into()),
            config_errors: vec!["kewords: unknown key".into()],
            listed_since: DateTime::<Utc>::default(),
            complete: true,
            tracked: Tracked::default(),
            files: BTreeMap::new(),
        };
        // then its config is the kept one, with the file's errors,
        let in_force = kept.config_in_force(None);
        assert_eq!(in_force.config.annotations.keywords, ["TODO", "NOTE"]);
        assert_eq!(in_force.errors, kept.config_errors);
        // and a state written before errors were kept, holding the broken
        // file's text, resolves to the last valid config it is given.
        let old: SyncState = serde_json::from_str(
            &kept
                .to_json()
                .replace(
                    &serde_json::to_string(valid).unwrap(),
                    &serde_json::to_string(broken).unwrap(),
                )
                .replace(r#","config_errors":["kewords: unknown key"]"#, ""),
        )
        .unwrap();
        assert!(old.config_errors.is_empty());
        let in_force = old.config_in_force(Some(valid));
        assert_eq!(in_force.text.as_deref(), Some(valid));
        assert!(
            in_force.errors[0].contains("kewords"),
            "{:?}",
            in_force.errors
        );
    }

    #[test]
    fn a_state_of_another_version_is_not_read() {
        let state = SyncState {
            version: STATE_VERSION + 1,
            sha: "abc".into(),
            config_text: None,
            config_errors: Vec::new(),
            listed_since: DateTime::<Utc>::default(),
            complete: true,
            tracked: Tracked::default(),
            files: BTreeMap::new(),
        };
        assert!(SyncState::from_json(&state.to_json()).is_none());
        let current = SyncState {
            version: STATE_VERSION,
            ..state
        };
        assert_eq!(SyncState::from_json(&current.to_json()), Some(current));
    }

    fn big_state(n: u64) -> SyncState {
        let mut tracked = Tracked::default();
        let mut files = BTreeMap::new();
        for number in 1..=n {
            let id = format!("item{number}");
            let body = format!("body\n{}", marker::item_line(&id));
            tracked.issues.push(ExistingIssue::new(
                number,
                IssueState::Open,
                &format!("TODO: {number}"),
                &body,
            ));
            tracked.dates.push(IssueDates {
                number,
                title: format!("TODO: {number}"),
                created: day(),
                closed: None,
            });
            files.insert(
                format!("src/f{number}.rs"),
                vec![StoredAnnotation {
                    id,
                    line: 1,
                    column: 1,
                    end_line: 1,
                    keyword: "TODO".into(),
                    text: format!("{number}"),
                    area: None,
                }],
            );
        }
        SyncState {
            version: STATE_VERSION,
            sha: "a".into(),
            config_text: None,
            config_errors: Vec::new(),
            listed_since: DateTime::<Utc>::default(),
            complete: true,
            tracked,
            files,
        }
    }

    #[test]
    fn a_state_goes_to_rows_and_back_unchanged() {
        // Given a state whose issues are not in number order,
        let mut state = big_state(5);
        state.tracked.issues.reverse();
        // when it is cut into rows and read back,
        let delta = state.delta_from(None);
        let back = SyncState::from_rows(
            delta.head.clone().unwrap(),
            delta.issues.clone(),
            delta.files.clone(),
        )
        .unwrap();
        // then it is the same state, issues in number order,
        state.tracked.issues.sort_by_key(|i| i.number);
        assert_eq!(back, state);
        assert_eq!(delta.issues[0].item_id(), Some("item1"));
        // and a head of another version is not read.
        let mut head = delta.head.unwrap();
        head.version += 1;
        assert!(SyncState::from_rows(head, Vec::new(), Vec::new()).is_none());
    }

    #[test]
    fn a_change_to_k_items_writes_k_rows_and_the_head() {
        // Given a kept state of 1,000 items,
        let old = big_state(1000);
        // when a push edits 3 issues, closes one, deletes a file and moves on,
        let mut new = old.clone();
        new.sha = "b".into();
        for number in [10, 20, 30] {
            let issue = new
                .tracked
                .issues
                .iter_mut()
                .find(|i| i.number == number)
                .unwrap();
            issue.title = "edited".into();
        }
        set_closed(&mut new.tracked, 40, Some(day()));
        new.files.remove("src/f50.rs");
        let delta = new.delta_from(Some(&old));
        // then only those rows are written, with the head.
        let numbers: Vec<u64> = delta.issues.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [10, 20, 30, 40]);
        assert_eq!(delta.removed_files, ["src/f50.rs"]);
        assert!(delta.files.is_empty() && delta.removed_issues.is_empty());
        assert_eq!(delta.head.as_ref().map(|h| h.sha.as_str()), Some("b"));
        assert_eq!(delta.rows(), 6);
        // An unchanged state writes nothing.
        assert_eq!(old.delta_from(Some(&old)).rows(), 0);
    }
}
