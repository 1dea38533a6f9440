//! `paydown action` as a workflow step runs it: the real binary, the
//! runner's environment variables and files, the fake GitHub as the API.

use std::path::{Path, PathBuf};

use fake_github::{FakeGitHub, NewIssue};

const TOKEN: &str = "ghs_workflow_token";
const REPO: &str = "octo-org/octo-repo";
const ZEROS: &str = "0000000000000000000000000000000000000000";

/// A runner's temporary directory: the event payload, GITHUB_OUTPUT,
/// GITHUB_STEP_SUMMARY and the checked-out workspace.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("workspace")).expect("workspace");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn workspace(&self) -> PathBuf {
        self.path("workspace")
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    async fn run(
        &self,
        fake: &FakeGitHub,
        event: &str,
        payload: &serde_json::Value,
        sha: &str,
        inputs: &[(&str, &str)],
    ) -> std::process::Output {
        std::fs::write(self.path("event.json"), payload.to_string()).expect("event");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_paydown"));
        command
            .arg("action")
            .env_clear()
            .env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_EVENT_PATH", self.path("event.json"))
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", fake.url())
            .env("GITHUB_SHA", sha)
            .env("GITHUB_WORKSPACE", self.workspace())
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_OUTPUT", self.path("output"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary.md"));
        for (name, value) in inputs {
            command.env(format!("INPUT_{}", name.to_ascii_uppercase()), value);
        }
        command.output().await.expect("run paydown action")
    }
}

fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn outputs(runner: &Runner) -> Vec<String> {
    runner.read("output").lines().map(str::to_string).collect()
}

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("dirs");
    std::fs::write(full, text).expect("write");
}

#[tokio::test]
async fn a_push_to_the_default_branch_syncs_debt_issues_and_writes_outputs() {
    // Given a repository whose default branch holds two annotations,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let sha = fake.repo(REPO).set_files(
        "main",
        &[(
            "src/a.rs",
            "// TODO: flush the cache\n// FIXME(@bob): retries\n",
        )],
    );
    let payload = fake.push_payload(REPO, "main", ZEROS, "alice");
    let runner = Runner::new();

    // when the Action runs on that push,
    let output = runner.run(&fake, "push", &payload, &sha, &[]).await;

    // then both debt issues exist, the outputs say so and the job summary
    // carries the plan.
    assert_success(&output);
    let tracked = fake
        .repo(REPO)
        .issues()
        .into_iter()
        .filter(|i| i.labels.iter().any(|l| l.starts_with("debt:")))
        .count();
    assert_eq!(tracked, 2, "two debt issues (and the dashboard)");
    assert_eq!(
        outputs(&runner),
        ["total=2", "added=2", "removed=0", "drift=false"]
    );
    let summary = runner.read("summary.md");
    assert!(summary.contains("2 to create"), "{summary}");
    let dashboard = fake
        .repo(REPO)
        .issues()
        .into_iter()
        .find(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:dashboard")
        })
        .expect("a dashboard");
    assert!(
        dashboard
            .body
            .unwrap_or_default()
            .contains("## Sprint budget"),
        "the dashboard carries the sprint budget, read from the API"
    );

    // And the same push again changes nothing.
    let writes = fake.count_writes();
    let again = Runner::new();
    assert_success(&again.run(&fake, "push", &payload, &sha, &[]).await);
    assert_eq!(fake.count_writes(), writes, "a repeated run writes nothing");
    assert_eq!(
        outputs(&again),
        ["total=2", "added=0", "removed=0", "drift=false"]
    );
}

#[tokio::test]
async fn text_from_code_never_notifies_anyone_in_what_the_sync_writes() {
    // Given annotations whose owners and text name people, a team and a
    // cross-reference, as anyone who can push a file may write,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let sha = fake.repo(REPO).set_files(
        "main",
        &[(
            "src/@alice/a.rs",
            "// TODO(@octo-org/big-team): ask @alice and @bob, see octo-org/octo-repo#1\n\
             // FIXME(@carol): **@dave** [x](https://e.example/@erin) ![i](https://e.example/i.png)\n",
        )],
    );
    let payload = fake.push_payload(REPO, "main", ZEROS, "alice");
    let runner = Runner::new();

    // when the Action syncs them into issues and the dashboard,
    assert_success(&runner.run(&fake, "push", &payload, &sha, &[]).await);

    // then GitHub, reading every body and title written, notifies nobody.
    assert_eq!(
        fake.repo(REPO).issues().len(),
        3,
        "two debt issues and the dashboard"
    );
    assert_eq!(fake.notifications(), Vec::<(String, String)>::new());
}

#[tokio::test]
async fn a_push_to_another_branch_reports_without_touching_issues() {
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    fake.repo(REPO)
        .set_files("main", &[("src/a.rs", "// TODO: one\n")]);
    let sha = fake
        .repo(REPO)
        .set_files("feature", &[("src/a.rs", "// TODO: one\n// HACK: two\n")]);
    let payload = fake.push_payload(REPO, "feature", ZEROS, "alice");
    let runner = Runner::new();

    let output = runner.run(&fake, "push", &payload, &sha, &[]).await;

    assert_success(&output);
    assert_eq!(fake.count_writes(), 0);
    assert!(
        runner
            .read("summary.md")
            .contains("only the default branch")
    );
}

#[tokio::test]
async fn inputs_and_the_workspace_config_shape_the_run() {
    // Given a workspace config listing only DEBT, and a `keywords` input
    // that widens it to TODO and DEBT, and a dry run,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let sha = fake.repo(REPO).set_files(
        "main",
        &[(
            "src/a.py",
            "# TODO: one\n# DEBT: two\n# FIXME: not counted\n",
        )],
    );
    let runner = Runner::new();
    write(
        &runner.workspace(),
        "ci/paydown.yml",
        "annotations:\n  keywords: [DEBT]\n",
    );
    let payload = serde_json::json!({});

    // when a scheduled run starts,
    let output = runner
        .run(
            &fake,
            "schedule",
            &payload,
            &sha,
            &[
                ("config-path", "ci/paydown.yml"),
                ("keywords", "TODO, DEBT"),
                ("dry-run", "true"),
            ],
        )
        .await;

    // then it plans two issues and writes none.
    assert_success(&output);
    assert_eq!(
        outputs(&runner),
        ["total=2", "added=2", "removed=0", "drift=false"]
    );
    assert_eq!(fake.count_writes(), 0);
    assert!(runner.read("summary.md").contains("dry run"));
}

#[tokio::test]
async fn fail_on_new_debt_fails_the_step() {
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let sha = fake
        .repo(REPO)
        .set_files("main", &[("src/a.rs", "// TODO: one\n")]);
    let payload = fake.push_payload(REPO, "main", ZEROS, "alice");
    let runner = Runner::new();

    let output = runner
        .run(&fake, "push", &payload, &sha, &[("fail-on", "new-debt")])
        .await;

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(outputs(&runner)[1], "added=1");
}

#[tokio::test]
async fn bad_setup_is_explained_with_exit_2() {
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let sha = fake.repo(REPO).set_files("main", &[]);
    let runner = Runner::new();

    // A payload that is not the event it claims to be,
    let output = runner
        .run(&fake, "push", &serde_json::json!({"ref": 5}), &sha, &[])
        .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("event payload"), "{stderr}");

    // and an input out of range.
    let payload = fake.push_payload(REPO, "main", ZEROS, "alice");
    let output = runner
        .run(&fake, "push", &payload, &sha, &[("debt-share", "2")])
        .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("input `debt-share`"), "{stderr}");
    assert_eq!(fake.count_writes(), 0);
}

/// A fake whose workflow token posts as `github-actions[bot]`, as
/// GITHUB_TOKEN does on GitHub.
async fn workflow_fake() -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.add_user_token(TOKEN, "github-actions[bot]");
    fake
}

#[tokio::test]
async fn a_token_without_issues_write_is_named_with_the_permissions_block_and_exit_1() {
    for dashboard in ["true", "false"] {
        // Given a workflow whose `permissions:` block left out `issues: write`,
        let fake = workflow_fake().await;
        fake.restrict_user_permissions(
            "github-actions[bot]",
            &[
                ("contents", "read"),
                ("issues", "read"),
                ("pull_requests", "write"),
                ("checks", "write"),
                ("metadata", "read"),
            ],
        );
        let sha = fake.repo(REPO).set_files(
            "main",
            &[("src/a.rs", "// TODO: flush the cache\n// HACK: two\n")],
        );
        let payload = fake.push_payload(REPO, "main", ZEROS, "alice");
        let runner = Runner::new();

        // when the Action syncs a push (with the dashboard on, then off),
        let output = runner
            .run(&fake, "push", &payload, &sha, &[("dashboard", dashboard)])
            .await;

        // then the step fails with 1, not 2, names the permission and the
        // block to add, and still writes the summary and outputs, counting
        // only what GitHub accepted: nothing.
        assert_eq!(output.status.code(), Some(1), "dashboard: {dashboard}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("::error::") && stdout.contains("issues: write"),
            "dashboard {dashboard}: {stdout}"
        );
        let summary = runner.read("summary.md");
        assert!(
            summary.contains("lacks `issues: write`")
                && summary.contains("permissions:\n  checks: write\n  contents: read\n  issues: write\n  pull-requests: write\n"),
            "dashboard {dashboard}: {summary}"
        );
        assert_eq!(
            outputs(&runner),
            ["total=2", "added=0", "removed=0", "drift=false"],
            "dashboard {dashboard}"
        );
        assert!(fake.repo(REPO).issues().is_empty(), "nothing was opened");
    }
}

#[tokio::test]
async fn a_pull_request_gets_its_debt_report_annotations_and_outputs() {
    // Given a PR that adds one annotation and removes another,
    let fake = workflow_fake().await;
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/lib.rs", "fn a() {}\n// TODO: old hack\n")]);
    let main = repo.head("main").expect("main");
    repo.set_branch("feature", &main);
    let head = repo.set_files(
        "feature",
        &[(
            "src/lib.rs",
            "fn a() {}\n// FIXME(@bob): retries double-charge\n",
        )],
    );
    let number = repo.add_pull_request(NewIssue::new("Retry payments"), "feature");
    let payload = fake.pull_request_payload(REPO, number, "opened", "alice", None);
    let runner = Runner::new();
    write(
        &runner.workspace(),
        "src/lib.rs",
        "fn a() {}\n// FIXME(@bob): retries double-charge\n",
    );

    // when the Action runs on `pull_request`,
    let output = runner
        .run(&fake, "pull_request", &payload, &head, &[])
        .await;

    // then the outputs count the change, stdout annotates the added line,
    assert_success(&output);
    assert_eq!(
        outputs(&runner),
        ["total=1", "added=1", "removed=1", "drift=false"]
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("::notice file=src/lib.rs,line=2,"),
        "{stdout}"
    );
    // the PR has one sticky comment and a check run on its head,
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].body.contains("<!-- paydown:pr-debt"));
    assert!(
        repo.check_runs()
            .iter()
            .any(|r| r.name == "paydown / debt" && r.head_sha == head)
    );
    // and the job summary carries the report.
    assert!(runner.read("summary.md").contains("FIXME"));

    // When the workflow runs again on the same commit, the comment is kept.
    let again = Runner::new();
    assert_success(&again.run(&fake, "pull_request", &payload, &head, &[]).await);
    assert!(
        fake.take_comments(REPO, number).is_empty(),
        "no second comment"
    );
    assert_eq!(fake.repo(REPO).comments(number).len(), 1);
}

#[tokio::test]
async fn a_fork_pull_request_reports_in_the_summary_and_writes_nothing() {
    // Given a PR from a fork, whose workflow token can only read,
    let fake = workflow_fake().await;
    fake.restrict_user_permissions(
        "github-actions[bot]",
        &[
            ("contents", "read"),
            ("issues", "read"),
            ("pull_requests", "read"),
            ("checks", "read"),
            ("metadata", "read"),
        ],
    );
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/lib.rs", "fn a() {}\n")]);
    let main = repo.head("main").expect("main");
    repo.set_branch("feature", &main);
    let head = repo.set_files(
        "feature",
        &[("src/lib.rs", "fn a() {}\n// HACK: from a fork\n")],
    );
    let number = repo.add_pull_request(NewIssue::new("Fork change"), "feature");
    let mut payload = fake.pull_request_payload(REPO, number, "opened", "mallory", None);
    payload["pull_request"]["head"]["repo"] = serde_json::json!({"full_name": "mallory/octo-repo"});
    let runner = Runner::new();
    write(
        &runner.workspace(),
        "src/lib.rs",
        "fn a() {}\n// HACK: from a fork\n",
    );

    // when the Action runs on its `pull_request`,
    let output = runner
        .run(&fake, "pull_request", &payload, &head, &[])
        .await;

    // then the step passes, annotates the added line, explains the skip,
    // and neither comments nor creates a check run.
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("::notice file=src/lib.rs,line=2,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("::notice title=paydown::this pull request comes from a fork"),
        "{stdout}"
    );
    assert_eq!(
        outputs(&runner),
        ["total=1", "added=1", "removed=0", "drift=false"]
    );
    let summary = runner.read("summary.md");
    assert!(
        summary.contains("HACK") && summary.contains("read-only"),
        "{summary}"
    );
    assert_eq!(fake.count_writes(), 0);
    assert!(fake.repo(REPO).comments(number).is_empty());
    assert!(fake.repo(REPO).check_runs().is_empty());

    // And `fail-on: new-debt` still decides the exit.
    let failing = Runner::new();
    write(
        &failing.workspace(),
        "src/lib.rs",
        "fn a() {}\n// HACK: from a fork\n",
    );
    let output = failing
        .run(
            &fake,
            "pull_request",
            &payload,
            &head,
            &[("fail-on", "new-debt")],
        )
        .await;
    assert_eq!(output.status.code(), Some(1));
}

#[tokio::test]
async fn a_slash_command_in_a_comment_is_answered_through_the_action() {
    // Given a maintainer asking for help on a PR,
    let fake = workflow_fake().await;
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("README.md", "hello\n")]);
    let main = repo.head("main").expect("main");
    repo.set_branch("feature", &main);
    let number = repo.add_pull_request(NewIssue::new("Docs"), "feature");
    let comment = repo.add_comment(number, "alice", "/debt help");
    let payload = fake.issue_comment_payload(REPO, comment, "created", None);
    let runner = Runner::new();

    // when the Action runs on `issue_comment`,
    let output = runner
        .run(&fake, "issue_comment", &payload, &main, &[])
        .await;

    // then the reply lists the commands and the comment got 👀.
    assert_success(&output);
    let replies = fake.take_comments(REPO, number);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(
        replies[0].body.contains("accept-drift"),
        "{}",
        replies[0].body
    );
    let reactions: Vec<String> = repo
        .comment(comment)
        .expect("comment")
        .reactions
        .iter()
        .map(|r| r.content.clone())
        .collect();
    assert!(reactions.iter().any(|r| r == "eyes"), "{reactions:?}");
}

#[tokio::test]
async fn feature_work_eating_the_debt_reservation_fails_on_drift() {
    // Given a sprint with capacity 20 and 30% reserved for debt, where two
    // feature PRs of 5 points are already merged,
    let fake = workflow_fake().await;
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/lib.rs", "fn a() {}\n")]);
    let feature_pr = |branch: &str, text: &str| {
        let main = repo.head("main").expect("main");
        repo.set_branch(branch, &main);
        let head = repo.set_files(branch, &[("src/lib.rs", text)]);
        let number = repo.add_pull_request(
            NewIssue::new(branch).labels(&["feature", "points: 5"]),
            branch,
        );
        (number, head)
    };
    for branch in ["one", "two"] {
        let (number, _) = feature_pr(branch, &format!("fn {branch}() {{}}\n"));
        repo.merge_pull_request(number, "alice");
    }
    // when a third one is opened, whose own config tries to switch the
    // drift check off,
    let (number, head) = feature_pr("three", "fn three() {}\n");
    let payload = fake.pull_request_payload(REPO, number, "opened", "alice", None);
    let runner = Runner::new();
    write(
        &runner.workspace(),
        ".github/paydown.yml",
        "drift:\n  check: off\n",
    );
    let output = runner
        .run(
            &fake,
            "pull_request",
            &payload,
            &head,
            &[
                ("capacity-points", "20"),
                ("debt-share", "0.3"),
                ("fail-on", "drift"),
            ],
        )
        .await;

    // then it is the PR that pushes the sprint over: drift is reported,
    // the step fails, and the PR has the drift comment.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(outputs(&runner)[3], "drift=true");
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].body.contains("15"), "{}", comments[0].body);
    assert!(runner.read("summary.md").contains("drift"));
    // and the base branch's rules decided, not the PR's own config.
    let budget: Vec<_> = repo
        .check_runs()
        .into_iter()
        .filter(|r| r.name == "paydown / budget" && r.head_sha == head)
        .collect();
    assert_eq!(budget.len(), 1, "{budget:#?}");
    assert_eq!(budget[0].conclusion.as_deref(), Some("neutral"));

    // When a maintainer accepts the drift in a comment,
    let comment = repo.add_comment(number, "alice", "/debt accept-drift \"launch week\"");
    let payload = fake.issue_comment_payload(REPO, comment, "created", None);
    let runner = Runner::new();
    let output = runner
        .run(
            &fake,
            "issue_comment",
            &payload,
            &head,
            &[("capacity-points", "20"), ("debt-share", "0.3")],
        )
        .await;

    // then the check turns green and the dashboard lists the acceptance.
    assert_success(&output);
    let replies = fake.take_comments(REPO, number);
    assert!(
        replies.iter().any(|c| c.body.contains("launch week")),
        "{replies:#?}"
    );
    let latest = repo
        .check_runs()
        .into_iter()
        .filter(|r| r.name == "paydown / budget" && r.head_sha == head)
        .max_by_key(|r| r.id)
        .expect("a budget check");
    assert_eq!(latest.conclusion.as_deref(), Some("success"));
    let dashboard = repo
        .issues()
        .into_iter()
        .find(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:dashboard")
        })
        .expect("a dashboard");
    assert!(
        dashboard.body.unwrap_or_default().contains("launch week"),
        "the dashboard lists the accepted drift"
    );
}

#[tokio::test]
async fn a_merge_that_pushes_the_sprint_over_is_reported_on_the_pr() {
    // Given a sprint of capacity 20 (30% debt) with two feature PRs of 5
    // points merged, and a third merged without the drift ever checked,
    let fake = workflow_fake().await;
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/lib.rs", "fn a() {}\n")]);
    let mut last = (0, String::new());
    for branch in ["one", "two", "three"] {
        let main = repo.head("main").expect("main");
        repo.set_branch(branch, &main);
        let head = repo.set_files(branch, &[("src/lib.rs", &format!("fn {branch}() {{}}\n"))]);
        let number = repo.add_pull_request(
            NewIssue::new(branch).labels(&["feature", "points: 5"]),
            branch,
        );
        repo.merge_pull_request(number, "alice");
        last = (number, head);
    }
    let (number, head) = last;

    // when the Action runs on the third one's `closed` event,
    let payload = fake.pull_request_payload(REPO, number, "closed", "alice", None);
    let runner = Runner::new();
    let output = runner
        .run(
            &fake,
            "pull_request",
            &payload,
            &head,
            &[("capacity-points", "20"), ("debt-share", "0.3")],
        )
        .await;

    // then the merge is the drift: reported in the outputs and on the PR.
    assert_success(&output);
    assert_eq!(outputs(&runner)[3], "drift=true");
    let comments = fake.take_comments(REPO, number);
    assert_eq!(comments.len(), 1, "{comments:?}");
}

#[tokio::test]
async fn incident_issues_are_counted_on_issues_events_and_on_schedule() {
    // Given a synced repository whose FIXME has its debt issue,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let repo = fake.repo(REPO);
    let sha = repo.set_files(
        "main",
        &[("src/pay.rs", "// FIXME: retries double-charge\n")],
    );
    let push = fake.push_payload(REPO, "main", ZEROS, "alice");
    assert_success(&Runner::new().run(&fake, "push", &push, &sha, &[]).await);
    let debt = repo
        .issues()
        .into_iter()
        .find(|i| i.title.contains("retries double-charge"))
        .expect("a debt issue")
        .number;

    // when three incident issues citing it are opened hours apart and the
    // workflow runs on the last one's `issues` event,
    let mut last = 0;
    for i in 1..=3i64 {
        last = repo.add_issue(
            NewIssue::new(&format!("Checkout down {i}"))
                .body(&format!("Caused by #{debt}"))
                .labels(&["incident"]),
        );
        repo.edit_issue(last, |issue| {
            issue.created_at = chrono::Utc::now() - chrono::Duration::hours(10 * i);
        });
    }
    let opened = fake.issues_payload(REPO, last, "opened", "alice", None);
    let runner = Runner::new();
    assert_success(&runner.run(&fake, "issues", &opened, &sha, &[]).await);

    // then the debt issue carries the counts, P1 and hot, and the
    // dashboard ranks it by impact,
    let issue = repo.issue(debt).unwrap();
    assert!(
        issue.labels.iter().any(|l| l == "debt:P1"),
        "{:?}",
        issue.labels
    );
    assert!(
        issue.labels.iter().any(|l| l == "debt:hot"),
        "{:?}",
        issue.labels
    );
    let body = issue.body.unwrap_or_default();
    assert!(
        body.contains("| Incidents | 3 in 90 days, 3 all time"),
        "{body}"
    );
    assert!(
        runner
            .read("summary.md")
            .contains("3 incident issues counted")
    );
    let hot = fake.take_comments(REPO, debt);
    assert_eq!(hot.len(), 1, "one comment per episode");
    assert!(
        hot[0]
            .body
            .contains("is **hot**: 3 incidents in the last 7 days")
    );
    let dashboard = repo
        .issues()
        .into_iter()
        .find(|i| {
            i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:dashboard")
        })
        .expect("a dashboard")
        .body
        .unwrap_or_default();
    assert!(dashboard.contains("## Top debt by impact"), "{dashboard}");
    assert!(
        dashboard.contains(&format!("## Hot\n\n- #{debt} FIXME")),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("| Sprint | Ops share | Incidents |"),
        "{dashboard}"
    );

    // an `issues` event on an issue that is no incident does nothing,
    let other = repo.add_issue(NewIssue::new("Question"));
    let writes = fake.count_writes();
    let plain = fake.issues_payload(REPO, other, "opened", "alice", None);
    let quiet = Runner::new();
    assert_success(&quiet.run(&fake, "issues", &plain, &sha, &[]).await);
    assert!(quiet.read("summary.md").contains("not an incident issue"));
    assert_eq!(fake.count_writes(), writes);

    // and the scheduled run counts them again, writing nothing new.
    let scheduled = Runner::new();
    assert_success(
        &scheduled
            .run(&fake, "schedule", &serde_json::json!({}), &sha, &[])
            .await,
    );
    assert!(
        scheduled
            .read("summary.md")
            .contains("3 incident issues counted")
    );
    assert_eq!(fake.count_writes(), writes);
}
