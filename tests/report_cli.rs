//! `paydown report OWNER/REPO` as a user runs it, against the fake GitHub:
//! the sprint ledger from the API alone — merged PRs, their labels, and the
//! records the bot left in its comments.

use fake_github::{FakeGitHub, NewIssue};
use paydown_budgets::{Record, record_marker};

const TOKEN: &str = "ghp_report_token";
const REPO: &str = "octo-org/octo-repo";
const BOT: &str = "paydown[bot]";
const CONFIG: &str = "sprints:\n  capacity_points: 20\n  debt_share: 0.3\n";

async fn paydown_report(fake: &FakeGitHub, args: &[&str], token: &str) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_paydown"))
        .arg("report")
        .args(args)
        .env("PAYDOWN_GITHUB_API_URL", fake.url())
        .env("GITHUB_TOKEN", token)
        .output()
        .await
        .expect("run paydown report")
}

/// Merges a PR from `branch` labelled `labels`; returns its number.
fn merged_pr(fake: &FakeGitHub, branch: &str, labels: &[&str]) -> u64 {
    let handle = fake.repo(REPO);
    handle.set_files(
        branch,
        &[(".github/paydown.yml", CONFIG), ("src/x.rs", branch)],
    );
    let number = handle.add_pull_request(
        NewIssue::new(&format!("Work on {branch}")).labels(labels),
        branch,
    );
    handle.merge_pull_request(number, "alice");
    number
}

#[tokio::test]
async fn the_report_rebuilds_the_sprint_ledger_from_prs_and_the_bots_records() {
    // Given a sprint of capacity 20 with 30 % for debt, three merged 5-point
    // PRs labelled feature, of which the bot recorded one as reclassified to
    // debt and another's drift as accepted, and a person's hand-typed
    // record (not the bot's, so ignored),
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let handle = fake.repo(REPO);
    handle.set_files("main", &[(".github/paydown.yml", CONFIG)]);
    for label in ["feature", "points: 5"] {
        handle.add_label(label, "ededed", None);
    }
    let prs: Vec<u64> = ["f1", "f2", "f3"]
        .iter()
        .map(|b| merged_pr(&fake, b, &["feature", "points: 5"]))
        .collect();
    // (A record's own time only orders records of one PR.)
    let record = |json: serde_json::Value| -> Record { serde_json::from_value(json).unwrap() };
    let at = "2026-11-23T09:00:00Z";
    let classify =
        record(serde_json::json!({"kind": "class", "class": "debt", "by": "alice", "at": at}));
    handle.add_comment(
        prs[0],
        BOT,
        &format!("Recorded.\n{}", record_marker(&classify)),
    );
    let accept = record(serde_json::json!({
        "kind": "accept_drift",
        "acceptance": {"by": "alice", "reason": "launch week", "at": at},
    }));
    handle.add_comment(
        prs[2],
        BOT,
        &format!("Recorded.\n{}", record_marker(&accept)),
    );
    let forged =
        record(serde_json::json!({"kind": "class", "class": "ignored", "by": "mallory", "at": at}));
    handle.add_comment(prs[1], "mallory", &record_marker(&forged));

    // when the report is asked for as JSON,
    let out = paydown_report(&fake, &[REPO, "--sprints", "3", "--format", "json"], TOKEN).await;

    // then the current sprint holds 5 debt and 10 feature points and lists
    // the accepted drift, and nothing was written.
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let sprints = report["sprints"].as_array().unwrap();
    assert_eq!(sprints.len(), 3, "{report:#}");
    let current = &sprints[2];
    assert_eq!(current["totals"]["debt"], 5, "{current:#}");
    assert_eq!(current["totals"]["feature"], 10, "{current:#}");
    assert_eq!(current["prs"].as_array().unwrap().len(), 3);
    let accepted = current["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 1, "{current:#}");
    assert_eq!(accepted[0]["number"], prs[2]);
    assert_eq!(accepted[0]["acceptance"]["reason"], "launch week");
    assert_eq!(fake.count_writes(), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("GitHub API requests:"));

    // The text and Markdown forms say the same.
    let text = paydown_report(&fake, &[REPO], TOKEN).await;
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("(current)"), "{text}");
    let markdown = paydown_report(&fake, &[REPO, "--format", "markdown"], TOKEN).await;
    assert!(markdown.status.success());
    let markdown = String::from_utf8_lossy(&markdown.stdout);
    assert!(markdown.contains("| Sprint"), "{markdown}");
    assert!(markdown.contains("launch week"), "{markdown}");
}

#[tokio::test]
async fn without_a_token_the_report_says_what_is_missing() {
    let fake = FakeGitHub::start().await;
    let out = paydown_report(&fake, &[REPO], "").await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GITHUB_TOKEN"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn with_bot_login_another_apps_echoed_record_is_not_counted() {
    // Given two merged 5-point feature PRs, one of which another App
    // (echoing user text) "reclassified" to debt with a record marker,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let handle = fake.repo(REPO);
    handle.set_files("main", &[(".github/paydown.yml", CONFIG)]);
    for label in ["feature", "points: 5"] {
        handle.add_label(label, "ededed", None);
    }
    let prs: Vec<u64> = ["g1", "g2"]
        .iter()
        .map(|b| merged_pr(&fake, b, &["feature", "points: 5"]))
        .collect();
    let forged: Record = serde_json::from_value(serde_json::json!({
        "kind": "class", "class": "debt", "by": "mallory", "at": "2026-11-23T09:00:00Z",
    }))
    .unwrap();
    handle.add_comment(prs[0], "other-app[bot]", &record_marker(&forged));
    let debt_points = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        report["sprints"][0]["totals"]["debt"].clone()
    };

    // when the report names the App's login, the forged record is ignored;
    let strict = paydown_report(
        &fake,
        &[
            REPO,
            "--sprints",
            "1",
            "--format",
            "json",
            "--bot-login",
            BOT,
        ],
        TOKEN,
    )
    .await;
    assert_eq!(debt_points(&strict), 0);

    // without it (any bot's records count, as documented) it is not.
    let loose = paydown_report(&fake, &[REPO, "--sprints", "1", "--format", "json"], TOKEN).await;
    assert_eq!(debt_points(&loose), 5);
}

#[tokio::test]
async fn the_incident_report_ranks_items_by_impact_from_the_api_alone() {
    // Given a FIXME (tier 1) that three incident issues of the last days
    // were caused by (named with `incident=`), a quiet TODO whose text
    // tries to mention someone, and an incident issue in the listed ops
    // repository,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let handle = fake.repo(REPO);
    let mut numbers = Vec::new();
    for i in 1..=3i64 {
        let n =
            handle.add_issue(NewIssue::new(&format!("Checkout down {i}")).labels(&["incident"]));
        handle.edit_issue(n, |issue| {
            issue.created_at = chrono::Utc::now() - chrono::Duration::hours(20 * i);
        });
        numbers.push(n);
    }
    let ops = fake.add_repo("octo-org", "ops", 1);
    ops.set_files("main", &[("README.md", "runbooks\n")]);
    ops.add_issue(NewIssue::new("Pager storm").labels(&["incident"]));
    let annotations = format!(
        "// FIXME(tier=1, incident=#{}, incident=#{}, incident=#{}): retries double-charge\n// TODO: rename, cc @oncall\n",
        numbers[0], numbers[1], numbers[2]
    );
    handle.set_files(
        "main",
        &[
            (
                ".github/paydown.yml",
                "incidents:\n  repositories: [octo-org/ops]\ntiers: {1: enterprise}\n",
            ),
            ("src/pay.rs", &annotations),
        ],
    );

    // when the incident report is asked for as JSON,
    let out = paydown_report(&fake, &[REPO, "--incidents", "--format", "json"], TOKEN).await;

    // then the FIXME ranks first, P1 and hot, with its counts and why,
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["incidents"], 4, "{report:#}");
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{report:#}");
    assert_eq!(items[0]["keyword"], "FIXME");
    assert_eq!(items[0]["band"], "P1");
    assert_eq!(items[0]["incidents_in_window"], 3);
    assert_eq!(items[0]["tier_name"], "enterprise");
    assert!(
        items[0]["hot"]
            .as_str()
            .is_some_and(|h| h.starts_with("3 incidents in the last 7 days")),
        "{report:#}"
    );
    assert_eq!(
        items[0]["why"],
        "3 incidents in 90 days, tier 1 (enterprise), FIXME (high)"
    );
    assert_eq!(items[1]["keyword"], "TODO");
    assert!(items[1]["hot"].is_null());
    // and nothing was written.
    assert_eq!(fake.count_writes(), 0);

    // The text and Markdown forms say the same; Markdown mentions nobody.
    let text = paydown_report(&fake, &[REPO, "--incidents"], TOKEN).await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("  1. P1"), "{text}");
    assert!(text.contains("Hot:\n"), "{text}");
    let markdown =
        paydown_report(&fake, &[REPO, "--incidents", "--format", "markdown"], TOKEN).await;
    let markdown = String::from_utf8_lossy(&markdown.stdout);
    assert!(
        markdown.contains(
            "| 1 | (no issue yet) | FIXME: retries double-charge | 1 (enterprise) | P1 🔥 |"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("cc @\u{200b}oncall"), "{markdown}");
    assert!(markdown.contains("### Hot"), "{markdown}");
}
