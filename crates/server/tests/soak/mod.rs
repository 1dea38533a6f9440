//! The seeded chaos soak's workload, fault schedule and final-state
//! comparison, shared by the in-process soak
//! (`crates/server/tests/chaos_soak.rs`: graceful restarts, the router and
//! workers in the test) and the process soak (`tests/chaos_kill.rs`: the
//! real `paydown serve`, killed with SIGKILL and started again).
// Each soak uses its own part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use fake_github::{FakeGitHub, NewIssue, bot_login};

pub const REPO: &str = "octo-org/octo-repo";
const ZEROS: &str = "0000000000000000000000000000000000000000";

pub const ISSUES: &str = "/repos/octo-org/octo-repo/issues";
/// A second repository of the same installation, pushed to alongside the
/// first (in the two-repository soak): its jobs run beside the first
/// one's, on the same installation token, so a `Retry-After` told to one
/// must hold the other back.
pub const SIDE: &str = "octo-org/side";
/// Where the faults land: the repository's reads and writes, the App's
/// token exchange and GraphQL.
const PREFIXES: &[&str] = &[
    "/repos/octo-org/octo-repo/issues",
    "/repos/octo-org/octo-repo/check-runs",
    "/repos/octo-org/octo-repo/pulls",
    "/repos/octo-org/octo-repo/tarball",
    "/repos/octo-org/octo-repo/contents",
    "/repos/octo-org/octo-repo/compare",
    "/repos/octo-org/octo-repo/git",
    "/repos/octo-org/octo-repo/commits",
    "/repos/octo-org/octo-repo/collaborators",
    "/repos/octo-org/octo-repo",
    "/repos/octo-org/side/issues",
    "/repos/octo-org/side",
    "/app/installations",
    "/graphql",
];

/// splitmix64: a tiny seeded generator, so a failing seed replays exactly.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// One workload step: files to push, or an event on GitHub's side.
#[derive(Clone, Debug)]
pub enum Step {
    Install(Vec<(String, String)>),
    Push(Vec<(String, String)>),
    PullRequestWithDebt,
    /// `bob` comments `/debt ignore` on the item with this explicit id.
    IgnoreItem(&'static str),
    /// `bob` comments `/debt scan` on the pull request.
    ScanPullRequest,
    /// A person closes the item's issue as not planned.
    PersonClosesItem(&'static str),
    /// A person opens an `incident` issue that references the item's issue.
    IncidentOn(&'static str),
}

/// The seed's workload: the same for the faulty and the fault-free run.
pub fn workload(seed: u64) -> Vec<Step> {
    let mut rng = Rng(seed);
    let mut a: Vec<String> = (0..2 + rng.below(3))
        // Text from code that would ping people if the bot echoed it raw.
        .map(|i| {
            format!("fn a{i}() {{}}\n// TODO: item a{i} of seed {seed}, cc @alice @org/team octo-org/other#1\n")
        })
        .collect();
    a.push("// TODO(id=keep-me): a tracked one\n".into());
    a.push("// FIXME(id=human): one a person closes\n".into());
    a.push("// XXX(id=paged): one an incident links to\n".into());
    let b: Vec<String> = (0..1 + rng.below(3))
        .map(|i| format!("// HACK: item b{i}\n"))
        .collect();
    let files = |a: &[String], b: Option<(&str, &[String])>| {
        let mut f = vec![("src/a.rs".to_string(), a.concat())];
        if let Some((path, b)) = b {
            f.push((path.to_string(), b.concat()));
        }
        f
    };
    let mut steps = vec![Step::Install(files(&a, None))];
    steps.push(Step::Push(files(&a, Some(("src/b.rs", &b)))));
    // Remove one of the plain items (never the three with explicit ids).
    let removed = rng.below(a.len() as u64 - 3) as usize;
    a.remove(removed);
    steps.push(Step::Push(files(&a, Some(("src/b.rs", &b)))));
    // Rename b.rs: its items keep their issues and ids.
    steps.push(Step::Push(files(&a, Some(("src/c.rs", &b)))));
    let mut late = vec![
        Step::PullRequestWithDebt,
        Step::IgnoreItem("keep-me"),
        Step::PersonClosesItem("human"),
        Step::IncidentOn("paged"),
    ];
    // The order of the later events varies with the seed.
    for i in (1..late.len()).rev() {
        late.swap(i, rng.below(i as u64 + 1) as usize);
    }
    steps.extend(late);
    steps.push(Step::ScanPullRequest);
    // A last push touching the file: the closed issue gets its label, the
    // ignored one stays ignored, a new item is opened.
    a.push("// TODO: added at the end\n".into());
    steps.push(Step::Push(files(&a, Some(("src/c.rs", &b)))));
    steps
}

/// Injects one fault chosen by `rng`; returns its description.
pub fn inject_fault(fake: &FakeGitHub, rng: &mut Rng) -> String {
    let prefix = rng.pick(PREFIXES);
    match rng.below(11) {
        0 | 1 => {
            let status = [500, 502, 503][rng.below(3) as usize];
            let method = rng.pick(&["", "GET", "POST", "PATCH"]);
            let n = 1 + rng.below(2) as usize;
            fake.fail_next_on(method, prefix, n, status);
            format!("{method} {prefix} x{n} -> {status}")
        }
        2 => {
            let path = rng.pick(&[ISSUES, "/repos/octo-org/octo-repo/check-runs"]);
            fake.apply_then_fail_next_on("POST", path, 1, 502);
            format!("POST {path} applied then 502")
        }
        3 => {
            // Past the client's 2 s timeout: applied, but the client saw none.
            fake.apply_then_answer_late_on("POST", ISSUES, 1, Duration::from_millis(2300));
            format!("POST {ISSUES} applied, answered after the timeout")
        }
        4 => {
            let ms = 50 + rng.below(400);
            fake.delay_next_on("", prefix, 1, Duration::from_millis(ms));
            format!("{prefix} slow by {ms} ms")
        }
        7 => {
            // The connection reset before any byte of the answer: nothing
            // applied, the client cannot know that.
            let method = rng.pick(&["", "GET", "POST", "PATCH"]);
            fake.reset_next_on(method, prefix, 1);
            format!("{method} {prefix} connection reset")
        }
        8 => {
            // Applied, then the connection reset: a "maybe applied" write
            // the client must look for before writing again.
            let path = rng.pick(&[ISSUES, "/repos/octo-org/octo-repo/check-runs"]);
            fake.apply_then_reset_next_on("POST", path, 1);
            format!("POST {path} applied then connection reset")
        }
        9 => {
            let method = rng.pick(&["GET", "POST", "PATCH"]);
            fake.break_body_next_on(method, prefix, 1);
            format!("{method} {prefix} answer breaks off mid-body")
        }
        5 => {
            let method = rng.pick(&["", "GET", "POST", "PATCH"]);
            fake.secondary_rate_limit_next_on(method, prefix, 1, 1);
            format!("{method} {prefix} secondary limit, retry-after 1")
        }
        _ => {
            let method = rng.pick(&["", "GET", "POST", "PATCH"]);
            fake.too_many_requests_next_on(method, prefix, 1, 1);
            format!("{method} {prefix} 429, retry-after 1")
        }
    }
}

/// What the run leaves on GitHub, keyed so two runs compare: debt issues
/// by marker id, the dashboard, the pull request by title; bot comments,
/// reactions and check runs counted per object.
#[derive(Debug, Default, PartialEq)]
pub struct FinalState {
    pub issues: BTreeMap<String, String>,
    pub bot_comments: BTreeMap<String, usize>,
    pub bot_reactions: BTreeMap<String, Vec<String>>,
    pub check_runs: BTreeMap<String, usize>,
}

pub fn key_of(issue: &fake_github::Issue) -> Option<String> {
    let body = issue.body.as_deref().unwrap_or_default();
    if let Some(rest) = body.split("<!-- paydown:item id=").nth(1) {
        let id = rest.split_whitespace().next().unwrap_or_default();
        return Some(format!("item {id}"));
    }
    if body.contains("<!-- paydown:dashboard -->") {
        return Some("dashboard".into());
    }
    if issue.labels.iter().any(|l| l == "incident") {
        return Some(format!("incident {}", issue.title));
    }
    issue.pull.as_ref().map(|_| format!("pr {}", issue.title))
}

/// The final state, and every object found twice.
pub fn final_state(fake: &FakeGitHub, side: bool) -> (FinalState, Vec<String>) {
    let mut state = FinalState::default();
    let mut duplicates = Vec::new();
    let bot = bot_login();
    let names: &[&str] = if side { &[REPO, SIDE] } else { &[REPO] };
    for (name, repo) in names.iter().map(|n| (n, fake.repo(n))) {
        for issue in repo.issues() {
            let Some(key) = key_of(&issue).map(|k| format!("{name} {k}")) else {
                continue;
            };
            let mut labels = issue.labels.clone();
            labels.sort();
            let summary = format!(
                "{} | {} {:?} | {labels:?}",
                issue.title, issue.state, issue.state_reason
            );
            if state.issues.insert(key.clone(), summary).is_some() {
                duplicates.push(format!("two issues for {key}"));
            }
            let comments = repo.comments(issue.number);
            let mine: Vec<&fake_github::Comment> =
                comments.iter().filter(|c| c.user == bot).collect();
            let mut bodies: Vec<&str> = mine.iter().map(|c| c.body.as_str()).collect();
            bodies.sort_unstable();
            if bodies.windows(2).any(|w| w[0] == w[1]) {
                duplicates.push(format!("the same bot comment twice on {key}"));
            }
            state.bot_comments.insert(key.clone(), mine.len());
            for (i, c) in comments.iter().filter(|c| c.user != bot).enumerate() {
                let reactions: Vec<String> = c
                    .reactions
                    .iter()
                    .filter(|r| r.user == bot)
                    .map(|r| r.content.clone())
                    .collect();
                let mut sorted = reactions.clone();
                sorted.sort();
                if sorted.windows(2).any(|w| w[0] == w[1]) {
                    duplicates.push(format!("a reaction twice on comment {i} of {key}"));
                }
                state.bot_reactions.insert(format!("{key} #{i}"), reactions);
            }
        }
    }
    let repo = fake.repo(REPO);
    for run in repo.check_runs() {
        let branch = if Some(&run.head_sha) == repo.head("main").as_ref() {
            "main"
        } else {
            "feature"
        };
        *state
            .check_runs
            .entry(format!("{} on {branch}", run.name))
            .or_default() += 1;
    }
    (state, duplicates)
}

pub fn install_payload(side: bool) -> serde_json::Value {
    let mut repos = vec![serde_json::json!(
        {"id": 1, "name": "octo-repo", "full_name": REPO, "private": false}
    )];
    if side {
        repos.push(serde_json::json!(
            {"id": 2, "name": "side", "full_name": SIDE, "private": false}
        ));
    }
    serde_json::json!({
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo-org", "id": 1, "type": "Organization"}},
        "repositories": repos,
        "sender": {"login": "alice", "id": 2, "type": "User"},
    })
}

/// Sets the side repository to `n` items; returns its push payload.
pub fn push_side(fake: &FakeGitHub, n: usize) -> (String, serde_json::Value) {
    let side = fake.repo(SIDE);
    let before = side.head("main").unwrap_or_else(|| ZEROS.to_string());
    let code: String = (0..n)
        .map(|i| format!("// TODO: side item {i}\n"))
        .collect();
    side.set_files("main", &[("lib.rs", code.as_str())]);
    (
        "push".into(),
        fake.push_payload(SIDE, "main", &before, "alice"),
    )
}

pub fn set_main(fake: &FakeGitHub, files: &[(String, String)]) {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    fake.repo(REPO).set_files("main", &refs);
}

pub fn issue_with_id(fake: &FakeGitHub, id: &str) -> u64 {
    let marker = format!("<!-- paydown:item id={id} ");
    fake.repo(REPO)
        .issues()
        .into_iter()
        .find(|i| i.body.as_deref().unwrap_or_default().contains(&marker))
        .unwrap_or_else(|| panic!("no issue for {id}"))
        .number
}

/// Applies `step` to the fake; returns the deliveries GitHub would send.
pub fn apply(
    fake: &FakeGitHub,
    step: &Step,
    pr: &mut Option<u64>,
    main: &mut Vec<(String, String)>,
    side_items: &mut Option<usize>,
) -> Vec<(String, serde_json::Value)> {
    let repo = fake.repo(REPO);
    match step {
        Step::Install(files) => {
            set_main(fake, files);
            *main = files.clone();
            if side_items.is_some() {
                let side = fake.add_repo("octo-org", "side", 1);
                side.set_files("main", &[("lib.rs", "// TODO: side item 0\n")]);
            }
            vec![("installation".into(), install_payload(side_items.is_some()))]
        }
        Step::Push(files) => {
            let before = repo.head("main").unwrap_or_else(|| ZEROS.to_string());
            set_main(fake, files);
            *main = files.clone();
            let mut deliveries = vec![(
                "push".into(),
                fake.push_payload(REPO, "main", &before, "alice"),
            )];
            if let Some(n) = side_items.as_mut() {
                *n += 1;
                deliveries.push(push_side(fake, *n));
            }
            deliveries
        }
        Step::PullRequestWithDebt => {
            let mut files = main.clone();
            files.push((
                "src/shortcut.rs".into(),
                "// HACK(@bob): skip validation for the demo\n".into(),
            ));
            let refs: Vec<(&str, &str)> = files
                .iter()
                .map(|(p, c)| (p.as_str(), c.as_str()))
                .collect();
            repo.set_files("feature", &refs);
            let number = repo.add_pull_request(NewIssue::new("Demo shortcut"), "feature");
            *pr = Some(number);
            vec![(
                "pull_request".into(),
                fake.pull_request_payload(REPO, number, "opened", "alice", None),
            )]
        }
        Step::IgnoreItem(id) => {
            let number = issue_with_id(fake, id);
            let c = repo.add_comment(number, "bob", "/debt ignore");
            vec![(
                "issue_comment".into(),
                fake.issue_comment_payload(REPO, c, "created", None),
            )]
        }
        Step::ScanPullRequest => {
            let number = pr.expect("the pull request is opened before the scan");
            let c = repo.add_comment(number, "bob", "/debt scan");
            vec![(
                "issue_comment".into(),
                fake.issue_comment_payload(REPO, c, "created", None),
            )]
        }
        Step::PersonClosesItem(id) => {
            let number = issue_with_id(fake, id);
            repo.edit_issue(number, |i| {
                i.state = "closed".into();
                i.state_reason = Some("not_planned".into());
                i.updated_at = chrono::Utc::now();
                i.closed_at = Some(chrono::Utc::now());
            });
            vec![(
                "issues".into(),
                fake.issues_payload(REPO, number, "closed", "alice", None),
            )]
        }
        Step::IncidentOn(id) => {
            let debt = issue_with_id(fake, id);
            let number = repo.add_issue(NewIssue {
                body: Some(format!("Checkout was down; traced to #{debt}.")),
                labels: vec!["incident".into(), "sev2".into()],
                user: "carol".into(),
                ..NewIssue::new("Checkout outage")
            });
            vec![(
                "issues".into(),
                fake.issues_payload(REPO, number, "opened", "carol", None),
            )]
        }
    }
}

/// What a run leaves behind that the invariants look at: the same for the
/// in-process and the process soak.
#[derive(Debug)]
pub struct Observed {
    pub state: FinalState,
    pub duplicates: Vec<String>,
    pub violations: Vec<fake_github::RetryAfterViolation>,
    /// Whom the bot's writes would have notified (must be nobody).
    pub notified: Vec<(String, String)>,
    /// Answers of the content-creation limit (must be none).
    pub limit_hits: u64,
    pub dead: Vec<String>,
    pub faults: Vec<String>,
}

/// Reads what the fake holds at the end of a run.
pub fn observe(fake: &FakeGitHub, side: bool, dead: Vec<String>, faults: Vec<String>) -> Observed {
    let (state, duplicates) = final_state(fake, side);
    Observed {
        state,
        duplicates,
        violations: fake.retry_after_violations(),
        notified: fake.notifications(),
        limit_hits: fake.secondary_limit_hits(),
        dead,
        faults,
    }
}

/// The seeds to run: `PAYDOWN_SOAK_SEEDS` of them (else `default`) from
/// `PAYDOWN_SOAK_FIRST_SEED` (else 1).
pub fn seeds(default: u64) -> Vec<u64> {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let n: u64 = var("PAYDOWN_SOAK_SEEDS").unwrap_or(default);
    let first: u64 = var("PAYDOWN_SOAK_FIRST_SEED").unwrap_or(1);
    (first..first + n).collect()
}

/// A fault-free run must already be clean, or the comparison proves nothing.
pub fn assert_calm(seed: u64, calm: &Observed) {
    assert!(
        calm.dead.is_empty(),
        "seed {seed} fault-free: {:?}",
        calm.dead
    );
    assert!(calm.duplicates.is_empty(), "{:?}", calm.duplicates);
    assert!(calm.notified.is_empty(), "{:?}", calm.notified);
    assert_eq!(calm.limit_hits, 0, "content-limit answers");
}

/// The invariants a run under faults must keep against the fault-free
/// run of the same seed: nothing twice, the same final state, no request
/// inside a Retry-After window, nobody notified, no content-limit answer,
/// every delivery done. Returns the seed's failure report, if any.
pub fn broken_invariants(seed: u64, calm: &Observed, chaos: &Observed) -> Option<String> {
    if std::env::var_os("PAYDOWN_SOAK_VERBOSE").is_some() {
        eprintln!(
            "seed {seed}: faults {:#?}\nfault-free state {:#?}",
            chaos.faults, calm.state
        );
    }
    let mut problems = Vec::new();
    if !chaos.duplicates.is_empty() {
        problems.push(format!("duplicates: {:?}", chaos.duplicates));
    }
    if chaos.state != calm.state {
        problems.push(format!(
            "state differs:\n  fault-free: {:#?}\n  chaos:      {:#?}",
            calm.state, chaos.state
        ));
    }
    if !chaos.violations.is_empty() {
        problems.push(format!(
            "requests inside a Retry-After window: {:?}",
            chaos.violations
        ));
    }
    if !chaos.notified.is_empty() {
        problems.push(format!("notified: {:?}", chaos.notified));
    }
    if chaos.limit_hits > 0 {
        problems.push(format!("{} content-limit answers", chaos.limit_hits));
    }
    if !chaos.dead.is_empty() {
        problems.push(format!("dead deliveries: {:?}", chaos.dead));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "seed {seed} (faults: {:?}):\n{}",
            chaos.faults,
            problems.join("\n")
        )
    })
}
