//! Incident issues through the App: signed `installation` and `issues`
//! webhooks, the real router, workers and client, and the fake GitHub.

mod support;

use fake_github::{FakeGitHub, NewIssue};
use serde_json::json;
use support::{REPO, TestApp, debt_issues};

#[tokio::test]
async fn three_incident_issues_make_the_debt_issue_p1_and_hot_with_one_comment() {
    // Given an installed repository whose one TODO has its debt issue,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files(
        "main",
        &[("src/pay.rs", "// TODO: retries double-charge\n")],
    );
    let app = TestApp::start(&fake).await;
    let install = json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [{"id": 1, "name": "octo-repo", "full_name": REPO, "private": false}],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    });
    app.deliver("installation", &install).await;
    let debt = debt_issues(&fake);
    assert_eq!(debt.len(), 1, "{debt:#?}");
    let n = debt[0].number;

    // when three incident issues referencing it are opened within a day,
    let mut incidents = Vec::new();
    for i in 1..=3 {
        let number = repo.add_issue(
            NewIssue::new(&format!("Checkout down {i}"))
                .body(&format!("Caused by #{n} again. cc @oncall"))
                .labels(&["incident"]),
        );
        // Started hours apart (within 30 minutes they would be one storm).
        repo.edit_issue(number, |issue| {
            issue.created_at = chrono::Utc::now() - chrono::Duration::hours(10 * (4 - i));
        });
        incidents.push(number);
        app.deliver(
            "issues",
            &fake.issues_payload(REPO, number, "opened", "alice", None),
        )
        .await;
    }

    // then the debt issue shows the counts, is P1 and hot, with one comment,
    let issue = repo.issue(n).unwrap();
    let labels: Vec<&str> = issue.labels.iter().map(|l| l.as_str()).collect();
    assert!(labels.contains(&"debt:P1"), "{labels:?}");
    assert!(labels.contains(&"debt:hot"), "{labels:?}");
    let body = issue.body.clone().unwrap_or_default();
    assert!(
        body.contains("| Incidents | 3 in 90 days, 3 all time"),
        "{body}"
    );
    let hot = fake.take_comments(REPO, n);
    assert_eq!(hot.len(), 1, "{hot:#?}");
    assert!(
        hot[0]
            .body
            .contains("is **hot**: 3 incidents in the last 7 days"),
        "{}",
        hot[0].body
    );

    // the dashboard ranks it by impact, names it hot, charts its incidents
    // per week and counts the incidents of the sprint,
    let dashboard = support::dashboards(&fake)[0]
        .body
        .clone()
        .unwrap_or_default();
    assert!(
        dashboard.contains(&format!("| 1 | #{n} | TODO: retries double-charge | P1 |")),
        "{dashboard}"
    );
    assert!(
        dashboard.contains(&format!("## Hot\n\n- #{n} TODO")),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("title \"Incidents per week (week starting)\""),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("| Sprint | Ops share | Incidents |"),
        "{dashboard}"
    );

    // a fourth incident in the same episode adds no second comment,
    let fourth = repo.add_issue(
        NewIssue::new("Checkout down 4")
            .body(&format!("see #{n}"))
            .labels(&["incident"]),
    );
    app.deliver(
        "issues",
        &fake.issues_payload(REPO, fourth, "opened", "alice", None),
    )
    .await;
    assert!(fake.take_comments(REPO, n).is_empty(), "no second comment");
    assert!(
        repo.issue(n)
            .unwrap()
            .body
            .unwrap_or_default()
            .contains("| Incidents | 4 in 90 days")
    );

    // an incident edited to drop the reference lowers the count,
    repo.edit_issue(incidents[0], |i| {
        i.body = Some("unrelated after all".into())
    });
    app.deliver(
        "issues",
        &fake.issues_payload(REPO, incidents[0], "edited", "alice", None),
    )
    .await;
    assert!(
        repo.issue(n)
            .unwrap()
            .body
            .unwrap_or_default()
            .contains("| Incidents | 3 in 90 days")
    );

    // the same delivery again writes nothing,
    fake.clear_requests();
    app.deliver(
        "issues",
        &fake.issues_payload(REPO, incidents[0], "edited", "alice", None),
    )
    .await;
    assert_eq!(fake.count_writes(), 0);

    // and when the rate decays (the incidents are two weeks old by the
    // time the next one arrives, unrelated to #n), the label goes while
    // the counts and the band stay, with no new comment.
    // (hours apart, or they would be one alert storm)
    for (k, number) in incidents[1..].iter().copied().chain([fourth]).enumerate() {
        repo.edit_issue(number, |i| {
            i.created_at = chrono::Utc::now()
                - chrono::Duration::days(14)
                - chrono::Duration::hours(5 * k as i64);
        });
    }
    let later = repo.add_issue(NewIssue::new("Unrelated outage").labels(&["incident"]));
    for number in incidents[1..].iter().copied().chain([fourth, later]) {
        app.deliver(
            "issues",
            &fake.issues_payload(REPO, number, "edited", "alice", None),
        )
        .await;
    }
    let issue = repo.issue(n).unwrap();
    let labels: Vec<&str> = issue.labels.iter().map(|l| l.as_str()).collect();
    assert!(!labels.contains(&"debt:hot"), "{labels:?}");
    assert!(labels.contains(&"debt:P1"), "{labels:?}");
    assert!(
        fake.take_comments(REPO, n).is_empty(),
        "no comment on decay"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_incident_issue_in_a_listed_ops_repository_counts_for_the_debt_repository() {
    // Given octo-repo lists octo-org/ops under incidents.repositories, and
    // both are installed,
    const OPS: &str = "octo-org/ops";
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files(
        "main",
        &[
            ("src/pay.rs", "// TODO: retries double-charge\n"),
            (
                ".github/paydown.yml",
                "incidents:\n  repositories: [octo-org/ops]\n",
            ),
        ],
    );
    let ops = fake.add_repo("octo-org", "ops", 1);
    ops.set_files("main", &[("README.md", "runbooks\n")]);
    let app = TestApp::start(&fake).await;
    let install = json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [
            {"id": 1, "name": "octo-repo", "full_name": REPO, "private": false},
            {"id": 2, "name": "ops", "full_name": OPS, "private": false},
        ],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    });
    app.deliver("installation", &install).await;
    let n = debt_issues(&fake)[0].number;

    // when an incident issue in ops references the debt issue by its full name,
    let number = ops.add_issue(
        NewIssue::new("Payments outage")
            .body(&format!("Root cause: {REPO}#{n}"))
            .labels(&["incident"]),
    );
    app.deliver(
        "issues",
        &fake.issues_payload(OPS, number, "opened", "alice", None),
    )
    .await;

    // then it counts for octo-repo's debt issue.
    let body = repo.issue(n).unwrap().body.unwrap_or_default();
    assert!(
        body.contains("| Incidents | 1 in 90 days, 1 all time"),
        "{body}"
    );
    assert!(body.contains("Payments outage"), "{body}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_first_sync_after_install_backfills_existing_incident_issues_once() {
    // Given an incident issue (closed: it still counts) that exists before
    // paydown is installed, which an annotation names with `incident=#N`,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    let incident = repo.add_issue(
        NewIssue::new("Double charges in checkout")
            .labels(&["incident"])
            .closed(),
    );
    repo.set_files(
        "main",
        &[(
            "src/pay.rs",
            &format!("// FIXME(incident=#{incident}): retries double-charge\n"),
        )],
    );
    let app = TestApp::start(&fake).await;
    let install = json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [{"id": 1, "name": "octo-repo", "full_name": REPO, "private": false}],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    });

    // when the App is installed (no `issues` event ever arrived),
    app.deliver("installation", &install).await;

    // then the first sync listed the incident issues by label and counts it,
    let debt = debt_issues(&fake);
    assert_eq!(debt.len(), 1, "{debt:#?}");
    let body = repo.issue(debt[0].number).unwrap().body.unwrap_or_default();
    assert!(
        body.contains("| Incidents | 1 in 90 days, 1 all time"),
        "{body}"
    );
    assert!(body.contains("Double charges in checkout"), "{body}");

    // and a later sync (a push) does not list them again.
    let before = repo.head("main").unwrap();
    repo.set_files(
        "main",
        &[(
            "src/pay.rs",
            &format!("// FIXME(incident=#{incident}): retries double-charge\n// TODO: more\n"),
        )],
    );
    fake.clear_requests();
    app.deliver("push", &fake.push_payload(REPO, "main", &before, "alice"))
        .await;
    assert_eq!(debt_issues(&fake).len(), 2, "the push was synced");
    let listings: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "GET"
                && r.query
                    .as_deref()
                    .is_some_and(|q| q.contains("labels=incident"))
        })
        .collect();
    assert!(listings.is_empty(), "{listings:#?}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn debt_link_on_an_incident_issue_counts_and_survives_an_edit() {
    // Given an installed repository whose TODO has its debt issue, and an
    // incident issue that does not mention it,
    let fake = FakeGitHub::start().await;
    let repo = fake.repo(REPO);
    repo.set_files(
        "main",
        &[("src/pay.rs", "// TODO: retries double-charge\n")],
    );
    let app = TestApp::start(&fake).await;
    let install = json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": [{"id": 1, "name": "octo-repo", "full_name": REPO, "private": false}],
        "sender": {"login": "alice", "id": 2, "type": "User"},
    });
    app.deliver("installation", &install).await;
    let n = debt_issues(&fake)[0].number;
    let incident = repo.add_issue(NewIssue::new("Checkout down").labels(&["incident"]));
    app.deliver(
        "issues",
        &fake.issues_payload(REPO, incident, "opened", "alice", None),
    )
    .await;
    assert!(
        !repo
            .issue(n)
            .unwrap()
            .body
            .unwrap_or_default()
            .contains("| Incidents |"),
        "not linked yet"
    );

    // when a maintainer links it with `/debt link #n`,
    repo.set_permission("alice", fake_github::Permission::Write);
    let comment = repo.add_comment(incident, "alice", &format!("/debt link #{n}"));
    app.deliver(
        "issue_comment",
        &fake.issue_comment_payload(REPO, comment, "created", None),
    )
    .await;

    // then the debt issue counts it,
    let body = repo.issue(n).unwrap().body.unwrap_or_default();
    assert!(
        body.contains("| Incidents | 1 in 90 days, 1 all time"),
        "{body}"
    );
    let replies = fake.take_comments(REPO, incident);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert!(
        replies[0]
            .body
            .contains(&format!("Linked this incident to debt issue #{n}")),
        "{}",
        replies[0].body
    );

    // and an edit of the incident (its body still silent about #n) keeps the link.
    repo.edit_issue(incident, |i| i.body = Some("Postmortem pending.".into()));
    app.deliver(
        "issues",
        &fake.issues_payload(REPO, incident, "edited", "alice", None),
    )
    .await;
    let body = repo.issue(n).unwrap().body.unwrap_or_default();
    assert!(
        body.contains("| Incidents | 1 in 90 days, 1 all time"),
        "{body}"
    );
    app.server.shutdown().await.unwrap();
}
