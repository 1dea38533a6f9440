//! Scenarios for the reconcile planner: a simulated GitHub holds the issues,
//! each run plans against it and applies the plan the way the GitHub client
//! would, and the next run must agree nothing is left to do.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use paydown_annotations::id::assign_ids;
use paydown_annotations::{Annotation, Metadata};
use paydown_config::Config;
use paydown_reconcile::marker;
use paydown_reconcile::{
    Coverage, Effect, ExistingIssue, IssueState, Plan, PlanInput, RepoRef, plan,
};

const SHA1: &str = "1111111111111111111111111111111111111111";
const SHA2: &str = "2222222222222222222222222222222222222222";
const SHA3: &str = "3333333333333333333333333333333333333333";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn ann(path: &str, line: u32, keyword: &str, text: &str) -> Annotation {
    Annotation {
        path: path.to_string(),
        line,
        column: 4,
        end_line: line,
        keyword: keyword.to_string(),
        text: text.to_string(),
        body: String::new(),
        metadata: Metadata::default(),
        id: String::new(),
    }
}

/// Assigns ids per file the way the scanner does.
fn scanned(mut found: Vec<Annotation>) -> Vec<Annotation> {
    found.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    let mut out = Vec::new();
    let mut start = 0;
    while start < found.len() {
        let path = found[start].path.clone();
        let end = start + found[start..].iter().take_while(|a| a.path == path).count();
        let mut file: Vec<Annotation> = found[start..end].to_vec();
        assign_ids(&path, &mut file);
        out.extend(file);
        start = end;
    }
    out
}

/// GitHub as the planner sees it, with writes applied as the client would.
struct World {
    config: Config,
    issues: Vec<ExistingIssue>,
}

impl World {
    fn new() -> Self {
        Self {
            config: Config::default(),
            issues: Vec::new(),
        }
    }

    fn input(&self, sha: &str, annotations: Vec<Annotation>) -> PlanInput {
        let mut input = PlanInput::new(
            RepoRef::new("acme", "shop"),
            sha,
            self.config.clone(),
            today(),
        );
        input.annotations = annotations;
        input.issues = self.issues.clone();
        input
    }

    fn plan(&self, sha: &str, annotations: &[Annotation]) -> Plan {
        plan(&self.input(sha, annotations.to_vec()))
    }

    fn issue(&self, number: u64) -> &ExistingIssue {
        self.issues.iter().find(|i| i.number == number).unwrap()
    }

    fn issue_mut(&mut self, number: u64) -> &mut ExistingIssue {
        self.issues.iter_mut().find(|i| i.number == number).unwrap()
    }

    fn open_count(&self) -> usize {
        self.issues
            .iter()
            .filter(|i| i.state == IssueState::Open)
            .count()
    }

    fn apply(&mut self, plan: &Plan) {
        for effect in &plan.effects {
            match effect.clone() {
                Effect::Create {
                    title,
                    body,
                    labels,
                    assignees,
                    ..
                } => {
                    let number = self.issues.iter().map(|i| i.number).max().unwrap_or(0) + 1;
                    let mut issue = ExistingIssue::new(number, IssueState::Open, &title, &body);
                    issue.labels = labels;
                    issue.assignees = assignees;
                    self.issues.push(issue);
                }
                Effect::Update {
                    number,
                    title,
                    body,
                    add_labels,
                    remove_labels,
                    add_assignees,
                    ..
                } => {
                    let issue = self.issue_mut(number);
                    if let Some(title) = title {
                        issue.title = title;
                    }
                    if let Some(body) = body {
                        issue.marker = marker::parse(&body);
                        issue.body = body;
                    }
                    issue
                        .labels
                        .retain(|l| !remove_labels.iter().any(|r| r.eq_ignore_ascii_case(l)));
                    issue.labels.extend(add_labels);
                    issue.assignees.extend(add_assignees);
                }
                Effect::Close { number, .. } | Effect::CloseDuplicate { number, .. } => {
                    let issue = self.issue_mut(number);
                    issue.state = IssueState::Closed;
                    issue.state_reason = Some("completed".to_string());
                    issue.closed_by_bot = Some(true);
                }
                Effect::Reopen { number, .. } => {
                    let issue = self.issue_mut(number);
                    issue.state = IssueState::Open;
                    issue.state_reason = Some("reopened".to_string());
                }
                Effect::MarkWontfix { number, .. } => {
                    self.issue_mut(number)
                        .labels
                        .push("debt:wontfix".to_string());
                }
            }
        }
    }

    /// Plans, applies, and checks that planning again finds nothing to do.
    fn sync(&mut self, sha: &str, annotations: &[Annotation]) -> Plan {
        let first = self.plan(sha, annotations);
        self.apply(&first);
        let again = self.plan(sha, annotations);
        assert!(
            again.is_empty(),
            "re-plan after apply should be empty:\n{}",
            again.to_text()
        );
        first
    }
}

fn only_update(
    plan: &Plan,
) -> (
    u64,
    Option<String>,
    Option<String>,
    Vec<String>,
    Vec<String>,
) {
    assert_eq!(plan.effects.len(), 1, "{}", plan.to_text());
    match &plan.effects[0] {
        Effect::Update {
            number,
            title,
            body,
            add_labels,
            remove_labels,
            ..
        } => (
            *number,
            title.clone(),
            body.clone(),
            add_labels.clone(),
            remove_labels.clone(),
        ),
        other => panic!("expected an update, got {other:?}"),
    }
}

#[test]
fn given_first_run_when_planned_then_one_create_per_item_and_replan_is_empty() {
    let mut world = World::new();
    let code = scanned(vec![
        ann("src/a.rs", 3, "TODO", "flush the cache"),
        ann("src/a.rs", 9, "FIXME", "retries double-charge"),
        ann("lib/b.py", 1, "HACK", "work around v1 pagination"),
    ]);
    let plan = world.sync(SHA1, &code);
    assert_eq!(plan.summary.create, 3);
    let titles: Vec<&str> = plan
        .effects
        .iter()
        .map(|e| match e {
            Effect::Create { title, .. } => title.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    // Deterministic order: path, then line.
    assert_eq!(
        titles,
        [
            "HACK: work around v1 pagination",
            "TODO: flush the cache",
            "FIXME: retries double-charge"
        ]
    );
    assert_eq!(world.open_count(), 3);
    let ids: BTreeSet<_> = world
        .issues
        .iter()
        .map(|i| i.marker.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(ids, code.iter().map(|a| a.id.clone()).collect());
}

#[test]
fn given_1000_annotations_and_cap_200_when_run_repeatedly_then_complete_after_5_runs_without_duplicates()
 {
    let mut world = World::new();
    world.config.issues.max_new_per_run = 200;
    let code = scanned(
        (0..1000)
            .map(|i| {
                ann(
                    &format!("src/m{:02}.rs", i % 50),
                    i / 50 + 1,
                    "TODO",
                    &format!("task number {i}"),
                )
            })
            .collect(),
    );
    let first = world.plan(SHA1, &code);
    assert_eq!(first.summary.create, 200);
    assert_eq!(first.deferred_creates, 800);
    for run in 1..=5 {
        let plan = world.plan(SHA1, &code);
        assert_eq!(plan.summary.create, 200, "run {run}");
        assert_eq!(plan.deferred_creates, 1000 - 200 * run, "run {run}");
        assert_eq!(plan.summary.unchanged, 200 * (run - 1), "run {run}");
        world.apply(&plan);
    }
    assert_eq!(world.issues.len(), 1000);
    let ids: BTreeSet<_> = world
        .issues
        .iter()
        .map(|i| i.marker.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(ids.len(), 1000);
    let done = world.plan(SHA1, &code);
    assert!(done.is_empty() && done.deferred_creates == 0);
    assert_eq!(done.summary.unchanged, 1000);
}

#[test]
fn given_unrelated_push_when_planned_then_nothing_is_written() {
    let mut world = World::new();
    let code = scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]);
    world.sync(SHA1, &code);
    // A new commit that does not touch the annotation: the permalink stays
    // pinned to the commit it was written at.
    assert!(world.plan(SHA2, &code).is_empty());
}

#[test]
fn given_annotation_moved_within_file_then_nothing_is_written_until_it_changes() {
    // Given an issue written for an annotation at line 3 of SHA1,
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]),
    );
    // when a push only moves it to line 53,
    let moved = scanned(vec![ann("src/a.rs", 53, "TODO", "flush the cache")]);
    // then nothing is written: the permalink to line 3 of SHA1 stays true;
    assert!(world.plan(SHA2, &moved).is_empty());
    assert!(
        world
            .issue(1)
            .body
            .contains(&format!("/blob/{SHA1}/src/a.rs#L3)"))
    );

    // and when its text changes later, the location is refreshed with it.
    let edited = scanned(vec![ann("src/a.rs", 53, "TODO", "flush the cache twice")]);
    let plan = world.sync(SHA3, &edited);
    let (number, _title, body, _add, _remove) = only_update(&plan);
    assert_eq!(number, 1);
    let body = body.unwrap();
    assert!(
        body.contains(&format!("/blob/{SHA3}/src/a.rs#L53")),
        "{body}"
    );
    assert_eq!(world.issues.len(), 1);
}

#[test]
fn given_file_renamed_in_the_push_then_same_issue_follows_it() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![
            ann("src/old.rs", 3, "TODO", "flush the cache"),
            ann("src/old.rs", 8, "TODO", "flush the cache"),
        ]),
    );
    let before: Vec<String> = [1, 2]
        .iter()
        .map(|&n| world.issue(n).marker.clone().unwrap().id)
        .collect();
    let renamed = scanned(vec![
        ann("src/new.rs", 3, "TODO", "flush the cache"),
        ann("src/new.rs", 8, "TODO", "flush the cache"),
    ]);
    let mut input = world.input(SHA2, renamed.clone());
    input.renames = BTreeMap::from([("src/old.rs".to_string(), "src/new.rs".to_string())]);
    input.coverage = Coverage::Paths(BTreeSet::from(["src/new.rs".to_string()]));
    let plan = plan(&input);
    assert_eq!(plan.summary.update, 2, "{}", plan.to_text());
    assert_eq!(plan.summary.create + plan.summary.close, 0);
    world.apply(&plan);
    for (number, annotation) in [(1, &renamed[0]), (2, &renamed[1])] {
        let m = world.issue(number).marker.clone().unwrap();
        // The item keeps the id its issue carries, order among identical
        // ones included, and the plan says which scan id it replaces.
        assert_eq!(m.id, before[number as usize - 1]);
        assert_eq!(plan.kept_ids.get(&annotation.id), Some(&m.id));
        assert_eq!(m.meta.unwrap().path, "src/new.rs");
    }
    assert!(world.plan(SHA2, &renamed).is_empty());
}

#[test]
fn given_file_moved_without_rename_info_then_identical_text_still_follows() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![ann("src/old.rs", 3, "FIXME", "retries double-charge")]),
    );
    let moved = scanned(vec![ann(
        "pkg/elsewhere.rs",
        40,
        "FIXME",
        "Retries double-charge.",
    )]);
    let plan = world.sync(SHA2, &moved);
    let (number, title, ..) = only_update(&plan);
    assert_eq!(number, 1);
    assert_eq!(title.as_deref(), Some("FIXME: Retries double-charge."));
}

#[test]
fn given_text_edited_in_place_then_same_issue_gets_new_title_and_marker() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![
            ann("src/a.rs", 3, "TODO", "flush the cache before retrying"),
            ann("src/a.rs", 20, "TODO", "rename the billing module"),
        ]),
    );
    let edited = scanned(vec![
        ann(
            "src/a.rs",
            3,
            "TODO",
            "flush the cache before retrying twice",
        ),
        ann("src/a.rs", 20, "TODO", "rename the billing module"),
    ]);
    let plan = world.sync(SHA2, &edited);
    let (number, title, body, ..) = only_update(&plan);
    assert_eq!(number, 1);
    assert_eq!(
        title.as_deref(),
        Some("TODO: flush the cache before retrying twice")
    );
    assert!(body.unwrap().contains(&format!("id={} ", edited[0].id)));
    assert_eq!(world.issues.len(), 2);
}

#[test]
fn given_unrelated_new_text_on_same_line_then_old_closed_and_new_created() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]),
    );
    let plan = world.sync(
        SHA2,
        &scanned(vec![ann("src/a.rs", 3, "TODO", "rename billing module")]),
    );
    assert_eq!(
        (plan.summary.close, plan.summary.create),
        (1, 1),
        "{}",
        plan.to_text()
    );
}

#[test]
fn given_annotation_removed_then_closed_naming_commit_and_pr_and_reopened_when_back() {
    let mut world = World::new();
    let code = scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]);
    world.sync(SHA1, &code);

    let mut input = world.input(SHA2, Vec::new());
    input.pull_request = Some(42);
    let plan = plan(&input);
    assert_eq!(plan.effects.len(), 1);
    match &plan.effects[0] {
        Effect::Close {
            number, comment, ..
        } => {
            assert_eq!(*number, 1);
            assert!(comment.contains("2222222"), "{comment}");
            assert!(comment.contains(&format!("/commit/{SHA2}")), "{comment}");
            assert!(comment.contains("#42"), "{comment}");
        }
        other => panic!("{other:?}"),
    }
    world.apply(&plan);
    assert!(world.plan(SHA2, &[]).is_empty());

    let back = world.sync(SHA3, &code);
    assert!(
        matches!(back.effects[0], Effect::Reopen { number: 1, .. }),
        "{}",
        back.to_text()
    );
    assert_eq!(back.summary.create, 0);
    assert_eq!(world.issue(1).state, IssueState::Open);
    assert_eq!(world.issues.len(), 1);
}

#[test]
fn given_close_when_removed_off_then_removed_item_stays_open() {
    let mut world = World::new();
    world.config.issues.close_when_removed = false;
    world.sync(SHA1, &scanned(vec![ann("src/a.rs", 3, "TODO", "x y z")]));
    assert!(world.plan(SHA2, &[]).is_empty());
}

#[test]
fn given_incremental_scan_then_items_outside_its_paths_are_not_closed() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![
            ann("src/a.rs", 3, "TODO", "flush the cache"),
            ann("src/b.rs", 3, "TODO", "rename billing"),
        ]),
    );
    // The push touched only src/a.rs, which lost its annotation.
    let mut input = world.input(SHA2, Vec::new());
    input.coverage = Coverage::Paths(BTreeSet::from(["src/a.rs".to_string()]));
    let plan = plan(&input);
    assert_eq!(plan.effects.len(), 1, "{}", plan.to_text());
    assert!(matches!(plan.effects[0], Effect::Close { number: 1, .. }));
}

#[test]
fn given_person_closed_issue_while_annotation_remains_then_wontfix_and_never_reopened() {
    let mut world = World::new();
    let code = scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]);
    world.sync(SHA1, &code);
    let issue = world.issue_mut(1);
    issue.state = IssueState::Closed;
    issue.state_reason = Some("not_planned".to_string());
    issue.closed_by_bot = Some(false);

    let plan = world.sync(SHA2, &code);
    assert_eq!(
        plan.effects,
        [Effect::MarkWontfix {
            number: 1,
            id: code[0].id.clone()
        }]
    );
    assert_eq!(world.issue(1).state, IssueState::Closed);

    // Even after a bot close and the annotation coming back, wontfix wins.
    world.issue_mut(1).closed_by_bot = Some(true);
    assert!(world.plan(SHA3, &code).is_empty());
}

#[test]
fn given_closed_issue_with_unknown_closer_then_left_alone() {
    let mut world = World::new();
    let code = scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]);
    world.sync(SHA1, &code);
    world.issue_mut(1).state = IssueState::Closed;
    let plan = world.plan(SHA2, &code);
    assert!(plan.is_empty());
    assert_eq!(plan.summary.undetermined, 1);
    // The bot never closes as not planned: that close was a person's.
    world.issue_mut(1).state_reason = Some("not_planned".to_string());
    let plan = world.plan(SHA2, &code);
    assert!(matches!(
        plan.effects[..],
        [Effect::MarkWontfix { number: 1, .. }]
    ));
}

#[test]
fn given_an_id_no_marker_could_hold_then_it_is_not_tracked_and_warned() {
    let world = World::new();
    let mut a = ann("src/a.rs", 3, "TODO", "x");
    a.id = "has space".to_string();
    let plan = world.plan(SHA1, &[a]);
    assert!(plan.is_empty());
    assert!(
        plan.warnings[0].contains("cannot be written"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn given_human_label_milestone_and_assignee_when_text_and_area_change_then_they_survive() {
    let mut world = World::new();
    let mut first = ann("src/a.rs", 3, "DEBT", "one query per order line");
    first.metadata.area = Some("orders".to_string());
    first.metadata.owners = vec!["alice".to_string()];
    world.sync(SHA1, &scanned(vec![first.clone()]));
    assert_eq!(world.issue(1).assignees, ["alice"]);
    {
        let issue = world.issue_mut(1);
        issue.labels.push("customer-facing".to_string());
        issue.has_milestone = true;
        // A person reassigned the work from alice to carol.
        issue.assignees = vec!["carol".to_string()];
    }
    let mut edited = first.clone();
    edited.text = "one query per order line item".to_string();
    edited.metadata.area = Some("checkout".to_string());
    let plan = world.sync(SHA2, &scanned(vec![edited]));
    let (number, title, _, add, remove) = only_update(&plan);
    assert_eq!(number, 1);
    assert!(title.is_some());
    assert_eq!(add, ["debt:area/checkout"]);
    assert_eq!(remove, ["debt:area/orders"]);
    match &plan.effects[0] {
        Effect::Update { add_assignees, .. } => assert!(add_assignees.is_empty()),
        other => panic!("{other:?}"),
    }
    let issue = world.issue(1);
    assert!(issue.labels.contains(&"customer-facing".to_string()));
    assert!(issue.has_milestone);
    assert_eq!(issue.assignees, ["carol"]);
}

#[test]
fn given_annotation_naming_an_existing_issue_then_that_issue_is_adopted_not_duplicated() {
    let mut world = World::new();
    let mut human = ExistingIssue::new(
        123,
        IssueState::Open,
        "Pagination breaks on v1",
        "Reported by support.\r\nSteps: …",
    );
    human.labels = vec!["bug".to_string()];
    world.issues.push(human);
    let mut a = ann(
        "src/api.rs",
        10,
        "HACK",
        "work around the v1 API's pagination bug",
    );
    a.metadata.issue = Some(123);
    let code = scanned(vec![a]);
    let plan = world.sync(SHA1, &code);
    let (number, title, body, add, _) = only_update(&plan);
    assert_eq!(number, 123);
    assert_eq!(title, None, "a person's title is kept");
    let body = body.unwrap();
    assert!(
        body.starts_with("Reported by support.\r\nSteps: …\n\n<!-- paydown:item"),
        "{body}"
    );
    assert_eq!(add, ["paydown", "tech-debt", "debt:hack"]);
    assert_eq!(world.issues.len(), 1);
    let meta = world.issue(123).marker.clone().unwrap().meta.unwrap();
    assert!(meta.adopted);
    // Text edits later keep the human part and title.
    let mut edited = code[0].clone();
    edited.text = "work around the v1 API pagination bug (again)".to_string();
    let plan = world.sync(SHA2, &[edited]);
    let (_, title, body, ..) = only_update(&plan);
    assert_eq!(title, None);
    assert!(body.unwrap().starts_with("Reported by support."));
}

#[test]
fn given_two_issues_with_the_same_marker_then_higher_number_closed_as_duplicate() {
    let mut world = World::new();
    let code = scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]);
    world.sync(SHA1, &code);
    let mut copy = world.issue(1).clone();
    copy.number = 7;
    world.issues.push(copy);
    let plan = world.sync(SHA1, &code);
    assert_eq!(
        plan.effects,
        [Effect::CloseDuplicate {
            number: 7,
            id: code[0].id.clone(),
            of: 1
        }]
    );
    assert_eq!(world.open_count(), 1);
}

#[test]
fn given_ignored_issue_then_nothing_is_written_for_it() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]),
    );
    world.issue_mut(1).labels.push("debt:ignored".to_string());
    let moved = scanned(vec![ann("src/a.rs", 90, "TODO", "flush the cache")]);
    let plan = world.plan(SHA2, &moved);
    assert!(plan.is_empty());
    assert_eq!(plan.summary.ignored, 1);
    assert!(
        world.plan(SHA2, &[]).is_empty(),
        "an ignored issue is not closed"
    );
}

#[test]
fn given_explicit_id_then_it_wins_over_path_and_text_changes() {
    let mut world = World::new();
    let mut a = ann("src/orders.rs", 3, "DEBT", "one query per order line");
    a.metadata.id = Some("orders-n-plus-one".to_string());
    world.sync(SHA1, &scanned(vec![a.clone()]));
    let mut b = ann(
        "src/checkout/lines.rs",
        70,
        "DEBT",
        "batch the order line queries",
    );
    b.metadata.id = Some("orders-n-plus-one".to_string());
    let plan = world.sync(SHA2, &scanned(vec![b]));
    let (number, title, ..) = only_update(&plan);
    assert_eq!(number, 1);
    assert_eq!(title.as_deref(), Some("DEBT: batch the order line queries"));
}

#[test]
fn given_same_explicit_id_in_two_files_then_one_issue_and_a_warning() {
    let world = World::new();
    let mut a = ann("src/a.rs", 3, "DEBT", "x one");
    a.metadata.id = Some("shared".to_string());
    let mut b = ann("src/b.rs", 3, "DEBT", "x two");
    b.metadata.id = Some("shared".to_string());
    let plan = world.plan(SHA1, &scanned(vec![a, b]));
    assert_eq!(plan.summary.create, 1);
    assert_eq!(plan.warnings.len(), 1);
    assert!(
        plan.warnings[0].contains("src/b.rs:3"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn given_old_format_marker_without_meta_then_matched_by_id_and_upgraded() {
    let mut world = World::new();
    let code = scanned(vec![ann("src/a.rs", 3, "TODO", "flush the cache")]);
    let body = format!("old body\n{}\n", marker::item_line(&code[0].id));
    let mut old = ExistingIssue::new(5, IssueState::Open, "TODO: flush the cache", &body);
    old.labels = vec!["tech-debt".to_string(), "debt:todo".to_string()];
    world.issues.push(old);
    let plan = world.sync(SHA1, &code);
    let (number, title, body, ..) = only_update(&plan);
    assert_eq!((number, title), (5, None));
    assert!(marker::parse(&body.unwrap()).unwrap().meta.is_some());
    // An incremental scan elsewhere cannot close an old-format issue.
    world.issue_mut(5).body = format!("{}\n", marker::item_line(&code[0].id));
    world.issue_mut(5).marker = marker::parse(&world.issue(5).body.clone());
    let mut input = world.input(SHA2, Vec::new());
    input.coverage = Coverage::Paths(BTreeSet::from(["src/a.rs".to_string()]));
    assert!(plan_is_empty(&input));
}

fn plan_is_empty(input: &PlanInput) -> bool {
    plan(input).is_empty()
}

#[test]
fn given_a_plan_then_text_has_one_line_per_effect_and_json_round_trips() {
    let mut world = World::new();
    world.config.issues.max_new_per_run = 1;
    let code = scanned(vec![
        ann("src/a.rs", 3, "TODO", "flush the cache"),
        ann("src/a.rs", 5, "TODO", "second"),
    ]);
    let plan = world.plan(SHA1, &code);
    let text = plan.to_text();
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        format!("create     TODO: flush the cache  [{}]", code[0].id)
    );
    assert!(text.contains("deferred   1 new issues"), "{text}");
    let back: Plan = serde_json::from_str(&plan.to_json()).unwrap();
    assert_eq!(back, plan);
    assert!(plan.to_json().contains("\"action\": \"create\""));
}

#[test]
fn given_annotation_naming_a_closed_human_issue_then_it_is_left_alone_and_nothing_created() {
    let mut world = World::new();
    let mut old = ExistingIssue::new(87, IssueState::Closed, "Old bug", "fixed long ago");
    old.closed_by_bot = Some(false);
    world.issues.push(old);
    let mut a = ann("src/api.rs", 10, "HACK", "see the old bug");
    a.metadata.issue = Some(87);
    let plan = world.plan(SHA1, &scanned(vec![a]));
    assert!(plan.is_empty(), "{}", plan.to_text());
}

#[test]
fn given_apply_crashed_half_way_when_planned_again_then_the_rest_is_done_without_duplicates() {
    let mut world = World::new();
    let before = scanned(
        (0..40)
            .map(|i| ann("src/a.rs", i + 1, "TODO", &format!("first version {i}")))
            .collect(),
    );
    world.sync(SHA1, &before);
    // Half the items are removed, the rest edited, and ten new ones appear.
    let mut after: Vec<Annotation> = (0..20)
        .map(|i| {
            ann(
                "src/a.rs",
                i + 1,
                "TODO",
                &format!("first version {i} edited"),
            )
        })
        .collect();
    after.extend((0..10).map(|i| ann("src/b.rs", i + 1, "FIXME", &format!("brand new {i}"))));
    let after = scanned(after);
    let full = world.plan(SHA2, &after);
    assert_eq!(
        (full.summary.update, full.summary.close, full.summary.create),
        (20, 20, 10)
    );
    // The worker dies after applying every other effect.
    let mut partial = full.clone();
    partial.effects = full.effects.iter().step_by(2).cloned().collect();
    world.apply(&partial);
    let rest = world.sync(SHA2, &after);
    assert_eq!(
        rest.effects.len(),
        full.effects.len() - partial.effects.len()
    );
    assert_eq!(world.open_count(), 30);
    let open_ids: BTreeSet<_> = world
        .issues
        .iter()
        .filter(|i| i.state == IssueState::Open)
        .map(|i| i.marker.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(open_ids, after.iter().map(|a| a.id.clone()).collect());
}

#[test]
fn given_10000_items_when_one_push_changes_k_then_plan_has_k_effects() {
    let mut world = World::new();
    world.config.issues.max_new_per_run = 1000;
    let code = scanned(
        (0..10_000)
            .map(|i| {
                ann(
                    &format!("src/m{:03}.rs", i % 500),
                    i / 500 + 1,
                    "TODO",
                    &format!("task number {i}"),
                )
            })
            .collect(),
    );
    for _ in 0..10 {
        let plan = world.plan(SHA1, &code);
        world.apply(&plan);
    }
    assert_eq!(world.issues.len(), 10_000);
    let mut changed = code.clone();
    changed[5].text = format!("{}, now with more detail", changed[5].text);
    changed.remove(7);
    let changed = scanned(changed);
    let started = std::time::Instant::now();
    let plan = world.plan(SHA2, &changed);
    let elapsed = started.elapsed();
    eprintln!("planned 10,000 items against 10,000 issues in {elapsed:?}");
    assert_eq!(plan.effects.len(), 2, "{}", plan.to_text());
    assert_eq!((plan.summary.update, plan.summary.close), (1, 1));
}

#[test]
fn given_file_renamed_and_text_edited_without_rename_info_then_same_issue_follows() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![
            ann("src/old.rs", 3, "TODO", "flush the cache before retrying"),
            ann("src/keep.rs", 9, "TODO", "rename the billing module"),
        ]),
    );
    let old_issue = (1..=2)
        .find(|&n| world.issue(n).marker.clone().unwrap().meta.unwrap().path == "src/old.rs")
        .unwrap();
    // A full scan: src/old.rs is gone, src/new.rs holds the edited text.
    let plan = world.sync(
        SHA2,
        &scanned(vec![
            ann(
                "src/new.rs",
                3,
                "TODO",
                "flush the cache before retrying twice",
            ),
            ann("src/keep.rs", 9, "TODO", "rename the billing module"),
        ]),
    );
    let (number, title, ..) = only_update(&plan);
    assert_eq!(number, old_issue);
    assert_eq!(
        title.as_deref(),
        Some("TODO: flush the cache before retrying twice")
    );
    assert_eq!(world.issues.len(), 2);
}

#[test]
fn given_similar_text_in_another_file_while_the_old_file_keeps_items_then_a_new_issue() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![
            ann("src/a.rs", 3, "TODO", "flush the cache before retrying"),
            ann("src/a.rs", 9, "TODO", "rename the billing module"),
        ]),
    );
    // The first item is deleted from a.rs, which keeps another one, and a
    // similar one appears elsewhere: that is new debt, not a move.
    let plan = world.sync(
        SHA2,
        &scanned(vec![
            ann("src/a.rs", 9, "TODO", "rename the billing module"),
            ann(
                "src/b.rs",
                3,
                "TODO",
                "flush the cache before retrying twice",
            ),
        ]),
    );
    assert_eq!(
        (plan.summary.close, plan.summary.create),
        (1, 1),
        "{}",
        plan.to_text()
    );
}

#[test]
fn given_todo_escalated_to_fixme_in_place_then_same_issue_relabelled() {
    let mut world = World::new();
    world.sync(
        SHA1,
        &scanned(vec![ann("src/a.rs", 3, "TODO", "retries double-charge")]),
    );
    let plan = world.sync(
        SHA2,
        &scanned(vec![ann("src/a.rs", 3, "FIXME", "retries double-charge")]),
    );
    let (number, title, ..) = only_update(&plan);
    assert_eq!(number, 1);
    assert_eq!(title.as_deref(), Some("FIXME: retries double-charge"));
    assert_eq!(world.issues.len(), 1);
}
