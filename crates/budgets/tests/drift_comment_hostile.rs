//! The drift comment and the dashboard's accepted-drift list quote PR
//! titles, who accepted a drift and why: text anyone who can comment
//! controls. Rendered with a hostile corpus they must notify, load and
//! link nothing and forge no marker; both are pinned as `insta` snapshots.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paydown_config::{Config, Permission};
use paydown_ledger::{Acceptance, Calendar, Ledger, PrRecord, evaluate_pr, sticky_comment};
use paydown_markdown::testing::{hostile_line, leaks};

fn day(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, d, h, 0, 0).unwrap()
}

/// Two-week sprints from 2026-01-05, capacity 20, 30 % for debt.
fn config() -> Config {
    let mut config = Config::default();
    config.sprints.cadence.start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    config.sprints.cadence.length_days = 14;
    config.sprints.capacity_points = Some(20);
    config.sprints.debt_share = 0.3;
    config.sprints.tolerance = 0.05;
    config
}

/// Three 5-point feature PRs with hostile titles; the third drifts and,
/// when `accepted`, its drift was accepted by a hostile login for a
/// hostile reason.
fn ledger_and_third(accepted: bool) -> (Ledger, PrRecord) {
    let config = config();
    let mut prs: Vec<PrRecord> = (1..=3)
        .map(|i| PrRecord {
            number: i,
            title: format!("PR {i} {}", hostile_line()),
            merged_at: Some(day(5 + i as u32, 9)),
            labels: vec!["feature".into(), "points: 5".into()],
            ..PrRecord::default()
        })
        .collect();
    if accepted {
        prs[2].accepted_drift = Some(Acceptance {
            by: "@mallory".into(),
            reason: hostile_line(),
            at: day(9, 0),
        });
    }
    let calendar = Calendar::from_config(&config.sprints, &[]).unwrap();
    let ledger = Ledger::build(&config, calendar, &prs).unwrap();
    (ledger, prs[2].clone())
}

#[test]
fn a_drift_comment_with_hostile_titles_and_acceptance_notifies_nobody() {
    for accepted in [false, true] {
        // Given a drifting PR (accepted or not) among hostile titles,
        let (ledger, third) = ledger_and_third(accepted);
        let sprint = ledger.sprint_for_pr(&third, day(10, 0)).unwrap();
        let verdict = evaluate_pr(&ledger, &sprint, &third);
        assert!(verdict.drifting);

        // when the sticky comment is rendered,
        let body = sticky_comment(&verdict, "/debt", Permission::Maintain);

        // then nothing in it is live,
        assert_eq!(leaks(&body), Vec::<String>::new(), "{body}");
        if accepted {
            // the reason shows, as text,
            assert!(body.contains("mallory"), "{body}");
            insta::assert_snapshot!("drift_comment_accepted_hostile", body);
        } else {
            insta::assert_snapshot!("drift_comment_drifting", body);
        }
    }
}

#[test]
fn the_dashboards_budget_sections_with_hostile_titles_and_reasons_notify_nobody() {
    // Given an accepted drift with a hostile reason among hostile titles,
    let (ledger, _) = ledger_and_third(true);

    // when the dashboard's budget sections are rendered,
    let sections = paydown_budgets::render_sections(&ledger, day(10, 0));

    // then neither notifies, loads, links or forges anything.
    assert_eq!(
        leaks(&sections.sprint_budget),
        Vec::<String>::new(),
        "{}",
        sections.sprint_budget
    );
    let accepted = sections.accepted_drifts.expect("an accepted drift");
    assert_eq!(leaks(&accepted), Vec::<String>::new(), "{accepted}");
    assert!(accepted.contains("mallory"), "{accepted}");
    insta::assert_snapshot!("dashboard_accepted_drifts_hostile", accepted);
}
