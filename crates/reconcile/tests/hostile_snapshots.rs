//! The debt issue body and the dashboard quote code text, file names,
//! areas and issue titles: text anyone who can push (or open a PR that
//! gets merged) controls. Rendered with a hostile corpus they must notify,
//! load and link nothing and forge no marker; an ordinary issue body and
//! the hostile dashboard are pinned as `insta` snapshots.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use paydown_annotations::{Annotation, Metadata};
use paydown_config::Config;
use paydown_markdown::testing::{HOSTILE, hostile_line, leaks};
use paydown_reconcile::render::{ItemFacts, RenderContext, render_issue};
use paydown_reconcile::{DashboardInput, DashboardItem, PaidDownItem, RepoRef, render_dashboard};

fn annotation(text: &str, path: &str, area: Option<&str>, owners: &[&str]) -> Annotation {
    Annotation {
        path: path.to_string(),
        line: 12,
        column: 5,
        end_line: 13,
        keyword: "FIXME".to_string(),
        text: text.to_string(),
        body: "when the gateway times out".to_string(),
        metadata: Metadata {
            owners: owners.iter().map(|o| o.to_string()).collect(),
            area: area.map(str::to_string),
            ..Metadata::default()
        },
        id: "fixme-0123456789ab".to_string(),
    }
}

fn issue_body(a: &Annotation) -> String {
    let repo = RepoRef::new("acme", "shop");
    let config = Config::default();
    let ctx = RenderContext {
        repo: &repo,
        html_base: "https://github.com/",
        sha: "0123456789abcdef0123456789abcdef01234567",
        config: &config,
    };
    let counts = BTreeMap::new();
    let facts = ItemFacts {
        first_seen: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        priority: None,
        incident_counts: &counts,
        impact: None,
        adopted: false,
    };
    render_issue(a, &ctx, &facts).body
}

#[test]
fn a_debt_issue_body_reads_as_pinned() {
    // Given an ordinary annotation with owners (shown as names, not
    // mentions: issues.mention_owners is off by default),
    let a = annotation(
        "retries double-charge",
        "src/billing/retry.rs",
        Some("billing"),
        &["alice", "org/payments"],
    );
    // then its issue body is exactly this.
    let body = issue_body(&a);
    assert_eq!(leaks(&body), Vec::<String>::new(), "{body}");
    insta::assert_snapshot!("debt_issue_body", body);
}

#[test]
fn a_debt_issue_body_with_hostile_text_owners_and_file_name_notifies_nobody() {
    let mut a = annotation(
        &hostile_line(),
        &format!("src/{}.rs", hostile_line()),
        Some(&hostile_line()),
        &["mallory", "evil-org/everyone"],
    );
    a.body = HOSTILE.join("\n");
    let body = issue_body(&a);
    assert_eq!(leaks(&body), Vec::<String>::new(), "{body}");
    insta::assert_snapshot!("debt_issue_body_hostile", body);
}

#[test]
fn a_dashboard_of_hostile_items_titles_and_config_errors_notifies_nobody() {
    // Given open items whose text, file name and area are hostile, a
    // paid-down issue with a hostile title and a hostile config error,
    let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let hostile = hostile_line();
    let open: Vec<DashboardItem> = (0..3)
        .map(|i| DashboardItem {
            number: Some(10 + i),
            id: format!("todo-{i:012}"),
            keyword: "TODO".into(),
            text: format!("{i} {hostile}"),
            path: format!("src/{hostile}/{i}.rs"),
            line: 7,
            area: Some(hostile.clone()),
            first_seen: day(1),
            priority: None,
            tier: None,
        })
        .collect();
    let paid = [PaidDownItem {
        number: 3,
        title: format!("TODO: {hostile}"),
        closed_on: day(20),
        pull_request: Some(4),
    }];
    let errors = [format!("line 3: unknown key `{hostile}`")];
    let config = Config::default();
    let input = DashboardInput {
        config: &config,
        today: day(25),
        open_items: &open,
        paid_down: &paid,
        recent_days: 30,
        top_n: 10,
        config_errors: &errors,
        open_over_time: &[(day(1), 3), (day(25), 3)],
        sprint_budget: None,
        hot_items: None,
        accepted_drifts: None,
        import_next_batch: None,
        impact: None,
        hot: None,
    };

    // when the dashboard is rendered,
    let body = render_dashboard(&input);

    // then nothing of the corpus is live, while the items do show.
    assert_eq!(leaks(&body), Vec::<String>::new(), "{body}");
    assert!(body.contains("mallory"), "{body}");
    insta::assert_snapshot!("dashboard_hostile", body);
}
