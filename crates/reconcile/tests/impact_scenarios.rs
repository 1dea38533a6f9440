//! Incident counts, priority and spikes through the planner: what an issue
//! gets when incidents link to it, and that an unchanged count writes nothing.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use paydown_annotations::id::assign_ids;
use paydown_annotations::{Annotation, Metadata};
use paydown_config::Config;
use paydown_incidents::{Incident, Reference, Status};
use paydown_reconcile::{Effect, ExistingIssue, IssueState, PlanInput, RepoRef, impact, plan};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn today() -> NaiveDate {
    now().date_naive()
}

fn annotation() -> Vec<Annotation> {
    let mut a = vec![Annotation {
        path: "src/pay.rs".into(),
        line: 3,
        column: 4,
        end_line: 3,
        keyword: "TODO".into(),
        text: "retry double-charges".into(),
        body: String::new(),
        metadata: Metadata::default(),
        id: String::new(),
    }];
    assign_ids("src/pay.rs", &mut a);
    a
}

fn incident(n: u64, started: DateTime<Utc>, refs: Vec<Reference>) -> Incident {
    Incident {
        source: "github".into(),
        id: format!("acme/shop#{n}"),
        number: Some(n),
        title: format!("Checkout down {n}"),
        url: Some(format!("https://github.com/acme/shop/issues/{n}")),
        repository: Some("acme/shop".into()),
        status: Status::Resolved,
        severity: None,
        started_at: started,
        resolved_at: None,
        references: refs,
    }
}

fn to_debt(number: u64) -> Vec<Reference> {
    vec![Reference::Issue {
        repository: None,
        number,
    }]
}

struct World {
    issue: Option<ExistingIssue>,
    comments: Vec<String>,
}

impl World {
    fn run(&mut self, incidents: &[Incident], at: DateTime<Utc>) -> Vec<Effect> {
        let mut input = PlanInput::new(
            RepoRef::new("acme", "shop"),
            "a1",
            Config::default(),
            at.date_naive(),
        );
        input.annotations = annotation();
        input.issues = self.issue.iter().cloned().collect();
        input.impact = Some(impact::compute(&input, incidents, at));
        let p = plan(&input);
        for effect in &p.effects {
            match effect.clone() {
                Effect::Create {
                    title,
                    body,
                    labels,
                    comment,
                    ..
                } => {
                    let mut issue = ExistingIssue::new(7, IssueState::Open, &title, &body);
                    issue.labels = labels;
                    self.issue = Some(issue);
                    self.comments.extend(comment);
                }
                Effect::Update {
                    body,
                    add_labels,
                    remove_labels,
                    comment,
                    ..
                } => {
                    let issue = self.issue.as_mut().unwrap();
                    if let Some(body) = body {
                        *issue = ExistingIssue {
                            labels: issue.labels.clone(),
                            ..ExistingIssue::new(7, IssueState::Open, &issue.title, &body)
                        };
                    }
                    issue.labels.extend(add_labels);
                    issue.labels.retain(|l| !remove_labels.contains(l));
                    self.comments.extend(comment);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        p.effects
    }

    fn labels(&self) -> Vec<String> {
        let mut l = self.issue.as_ref().unwrap().labels.clone();
        l.retain(|l| l.starts_with("debt:P") || l == "debt:hot");
        l.sort();
        l
    }
}

#[test]
fn given_three_incidents_in_a_week_then_p1_hot_one_comment_and_decay_removes_the_label() {
    let mut w = World {
        issue: None,
        comments: vec![],
    };
    // Given the debt issue exists, with no incident yet: P4, not hot.
    w.run(&[], now() - Duration::days(30));
    assert_eq!(w.labels(), ["debt:P4"]);
    assert!(
        w.run(&[], now() - Duration::days(30)).is_empty(),
        "nothing changed, nothing written"
    );

    // When three incidents reference #7 within a week.
    let t = now() - Duration::days(3);
    let mut incidents: Vec<Incident> = (1..=3)
        .map(|n| incident(100 + n, t + Duration::hours(n as i64 * 5), to_debt(7)))
        .collect();
    w.run(&incidents, now());
    // Then: P1, hot, one comment, counts in the body.
    assert_eq!(w.labels(), ["debt:P1", "debt:hot"]);
    assert_eq!(w.comments.len(), 1, "{:?}", w.comments);
    assert!(
        w.comments[0].contains("3 incidents in the last 7 days"),
        "{}",
        w.comments[0]
    );
    let body = w.issue.as_ref().unwrap().body.clone();
    assert!(
        body.contains("| Incidents | 3 in 90 days, 3 all time"),
        "{body}"
    );
    assert!(
        body.contains("[Checkout down 103](https://github.com/acme/shop/issues/103)"),
        "{body}"
    );
    assert!(body.contains("| Priority | P1 (score"), "{body}");
    // The same incidents again write nothing.
    assert!(w.run(&incidents, now()).is_empty());

    // A fourth incident in the same episode: counts change, no second comment.
    incidents.push(incident(104, now() - Duration::hours(2), to_debt(7)));
    let effects = w.run(&incidents, now());
    assert_eq!(effects.len(), 1);
    assert_eq!(w.comments.len(), 1);
    assert!(
        w.issue
            .as_ref()
            .unwrap()
            .body
            .contains("| Incidents | 4 in 90 days")
    );

    // An incident edited to drop the reference lowers the count.
    incidents[0].references.clear();
    w.run(&incidents, now());
    assert!(
        w.issue
            .as_ref()
            .unwrap()
            .body
            .contains("| Incidents | 3 in 90 days")
    );

    // When the rate decays (two weeks later), the hot label goes; P stays by its band.
    w.run(&incidents, now() + Duration::days(14));
    assert_eq!(w.labels(), ["debt:P1"]);
    assert_eq!(w.comments.len(), 1);
}

#[test]
fn given_no_incident_data_then_priority_labels_people_set_are_left_alone() {
    let mut input = PlanInput::new(
        RepoRef::new("acme", "shop"),
        "a1",
        Config::default(),
        today(),
    );
    input.annotations = annotation();
    let created = plan(&input);
    let Effect::Create {
        title,
        body,
        labels,
        ..
    } = &created.effects[0]
    else {
        panic!()
    };
    let mut issue = ExistingIssue::new(7, IssueState::Open, title, body);
    issue.labels = labels.clone();
    issue
        .labels
        .extend(["debt:P2".to_string(), "debt:hot".to_string()]);
    input.issues = vec![issue];
    assert!(
        plan(&input).effects.is_empty(),
        "{}",
        plan(&input).to_text()
    );
}

#[test]
fn given_an_item_hot_before_its_issue_exists_then_the_new_issue_gets_the_label_and_one_comment() {
    // Given three incidents of the last days naming the item by its id
    // (the debt issue does not exist yet),
    let mut w = World {
        issue: None,
        comments: vec![],
    };
    let id = annotation()[0].id.clone();
    let t = now() - Duration::days(2);
    let incidents: Vec<Incident> = (1..=3)
        .map(|n| {
            incident(
                200 + n,
                t + Duration::hours(n as i64 * 6),
                vec![Reference::Item { id: id.clone() }],
            )
        })
        .collect();
    // when the issue is created,
    let effects = w.run(&incidents, now());
    // then it is created P1 and hot, with the one comment of the episode,
    assert!(matches!(
        effects[0],
        Effect::Create {
            comment: Some(_),
            ..
        }
    ));
    assert_eq!(w.labels(), ["debt:P1", "debt:hot"]);
    assert_eq!(w.comments.len(), 1, "{:?}", w.comments);
    assert!(w.comments[0].contains("3 incidents in the last 7 days"));
    // and the next run (the label on the issue) neither comments again nor writes.
    assert!(w.run(&incidents, now()).is_empty());
    assert_eq!(w.comments.len(), 1);
}
