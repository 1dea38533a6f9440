//! `review_pull_request` end to end through the fake GitHub, acting as the
//! App's installation (so the bot's comments are authored by a `Bot`):
//! real HTTP, real GraphQL and contents reads, real comment and check-run writes.

use fake_github::{APP_ID, FakeGitHub, NewIssue, app_private_key_pem};
use paydown_config::Config;
use paydown_github::{AppCredentials, Client, ClientOptions, GitHubApp, Repo, Upsert};
use paydown_review::{
    CHECK_NAME, DeltaCounts, PullContext, ReviewOptions, ReviewOutcome, markdown_summary,
    parse_report_marker, review_pull_request,
};

const REPO: &str = "octo-org/octo-repo";

async fn world() -> (FakeGitHub, Client, Repo) {
    let fake = FakeGitHub::start().await;
    let creds = AppCredentials::from_pem(APP_ID, app_private_key_pem()).expect("key");
    let app = GitHubApp::new(&fake.url(), creds, ClientOptions::for_tests()).expect("app");
    let client = app.installation_client(1).await.expect("installation");
    (fake, client, Repo::parse(REPO).unwrap())
}

fn options(dry_run: bool) -> ReviewOptions {
    ReviewOptions {
        dry_run,
        html_base: "https://github.com".into(),
    }
}

/// The PR's context as a webhook would carry it (head follows the branch).
fn context(fake: &FakeGitHub, number: u64) -> PullContext {
    let issue = fake.repo(REPO).issue(number).expect("pr");
    let pull = issue.pull.expect("pull data");
    PullContext {
        number,
        head_sha: pull.head_sha,
        base_sha: pull.base_sha,
    }
}

/// Pushes `files` as the new tree of the PR's branch and moves its head.
fn push(fake: &FakeGitHub, number: u64, branch: &str, files: &[(&str, &str)]) {
    let sha = fake.repo(REPO).set_files(branch, files);
    fake.repo(REPO).edit_issue(number, |i| {
        if let Some(p) = i.pull.as_mut() {
            p.head_sha = sha;
        }
    });
}

const BASE_LIB: &str = "fn a() {}\n// TODO: old cache hack\nfn b() {}\n";
const BASE_APP: &str = "def main():\n    pass\n";

/// A PR on `feature` whose head is `head_files`; base is `main`.
fn open_pr(fake: &FakeGitHub, head_files: &[(&str, &str)]) -> u64 {
    let repo = fake.repo(REPO);
    repo.set_files("main", &[("src/lib.rs", BASE_LIB), ("app.py", BASE_APP)]);
    let main = repo.head("main").unwrap();
    repo.set_branch("feature", &main);
    repo.set_files("feature", head_files);
    repo.add_pull_request(NewIssue::new("Add caching"), "feature")
}

/// Reviews PR `pr` with the default config, writing.
async fn review(fake: &FakeGitHub, client: &Client, repo: &Repo, pr: u64) -> ReviewOutcome {
    review_pull_request(
        client,
        repo,
        &context(fake, pr),
        &Config::default(),
        &options(false),
    )
    .await
    .expect("review")
}

fn debt_runs(fake: &FakeGitHub, sha: &str) -> Vec<fake_github::CheckRun> {
    fake.repo(REPO)
        .check_runs()
        .into_iter()
        .filter(|r| r.name == CHECK_NAME && r.head_sha == sha)
        .collect()
}

#[tokio::test]
async fn pr_adding_two_and_removing_one_gets_one_sticky_comment_kept_in_place_across_pushes() {
    // Given a PR that adds two annotations and removes one,
    let (fake, client, repo) = world().await;
    let head_lib = "// FIXME(@alice): first new item\nfn a() {}\nfn b() {}\n";
    let head_app = "def main():\n    # TODO: second new item\n    pass\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head_lib), ("app.py", head_app)]);
    let ctx = context(&fake, pr);

    // when it is reviewed,
    let first = review_pull_request(&client, &repo, &ctx, &Config::default(), &options(false))
        .await
        .expect("review");

    // then the delta is 2 added + 1 removed,
    assert_eq!(
        first.counts(),
        DeltaCounts {
            added: 2,
            removed: 1,
            edited: 0
        }
    );
    assert_eq!(first.delta.paid(), 1);
    // one sticky comment carries the counts and links the added lines,
    let comments = fake.take_comments(REPO, pr);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    let comment = &comments[0];
    assert_eq!(comment.user, fake_github::bot_login());
    assert_eq!(
        parse_report_marker(&comment.body),
        Some(DeltaCounts {
            added: 2,
            removed: 1,
            edited: 0
        })
    );
    assert!(
        comment.body.contains(&format!(
            "[src/lib.rs:1](https://github.com/{REPO}/blob/{}/src/lib.rs#L1)",
            ctx.head_sha
        )),
        "{}",
        comment.body
    );
    assert!(comment.body.contains("old cache hack"), "{}", comment.body);
    assert!(matches!(first.comment, Upsert::Created { id: Some(_) }));
    // and a completed check run carries a notice on each added line.
    let runs = debt_runs(&fake, &ctx.head_sha);
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(first.check_run.id(), Some(run.id));
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("neutral"));
    let mut notices: Vec<(String, u64, String)> = run
        .annotations
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["start_line"].as_u64().unwrap(),
                a["annotation_level"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    notices.sort();
    assert_eq!(
        notices,
        vec![
            ("app.py".to_string(), 2, "notice".to_string()),
            ("src/lib.rs".to_string(), 1, "notice".to_string()),
        ]
    );

    // When a second push edits one more item,
    let head_lib2 = "// FIXME(@alice): first new item\nfn a() {}\nfn b() {}\n";
    let head_app2 =
        "def main():\n    # TODO: second new item, with retries\n    pass\n    # HACK: third\n";
    push(
        &fake,
        pr,
        "feature",
        &[("src/lib.rs", head_lib2), ("app.py", head_app2)],
    );
    let ctx2 = context(&fake, pr);
    let second = review_pull_request(&client, &repo, &ctx2, &Config::default(), &options(false))
        .await
        .expect("second review");

    // then the same comment is edited, not duplicated,
    assert_eq!(second.counts().added, 3);
    let edited = fake.take_comments(REPO, pr);
    assert_eq!(edited.len(), 1, "{edited:#?}");
    assert_eq!(edited[0].id, comment.id);
    assert_eq!(fake.repo(REPO).comments(pr).len(), 1);
    assert_eq!(second.comment, Upsert::Updated { id: comment.id });
    assert!(edited[0].body.contains("third"), "{}", edited[0].body);
    assert_eq!(debt_runs(&fake, &ctx2.head_sha).len(), 1);

    // and a redelivery of the same push writes nothing.
    fake.clear_requests();
    let again = review_pull_request(&client, &repo, &ctx2, &Config::default(), &options(false))
        .await
        .expect("redelivery");
    assert_eq!(again.comment, Upsert::Unchanged { id: comment.id });
    assert!(matches!(again.check_run, Upsert::Unchanged { .. }));
    assert_eq!(fake.count_writes(), 0);

    // When a last push reverts all debt changes,
    push(
        &fake,
        pr,
        "feature",
        &[("src/lib.rs", BASE_LIB), ("app.py", BASE_APP)],
    );
    let ctx3 = context(&fake, pr);
    let last = review_pull_request(&client, &repo, &ctx3, &Config::default(), &options(false))
        .await
        .expect("last review");

    // then the one comment says the PR no longer changes debt, zero counts,
    assert!(last.delta.is_empty());
    let resolved = fake.take_comments(REPO, pr);
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].id, comment.id);
    assert!(
        resolved[0].body.contains("Resolved"),
        "{}",
        resolved[0].body
    );
    assert_eq!(
        parse_report_marker(&resolved[0].body),
        Some(DeltaCounts::default())
    );
    // and the check succeeds.
    let runs = debt_runs(&fake, &ctx3.head_sha);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn a_pr_without_debt_changes_posts_no_comment() {
    // Given a PR that only changes code,
    let (fake, client, repo) = world().await;
    let pr = open_pr(
        &fake,
        &[
            ("src/lib.rs", BASE_LIB),
            ("app.py", "def main():\n    return 1\n"),
        ],
    );

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then no comment is posted, and the check run succeeds.
    assert_eq!(outcome.comment, Upsert::None);
    assert!(fake.repo(REPO).comments(pr).is_empty());
    assert_eq!(outcome.conclusion, "success");
    assert!(matches!(outcome.check_run, Upsert::Created { id: Some(_) }));
}

#[tokio::test]
async fn an_annotation_that_only_moved_is_not_added() {
    // Given a PR that pushes an existing TODO down and moves another,
    let (fake, client, repo) = world().await;
    let moved = "fn b() {}\nfn new() {}\nfn a() {}\n// TODO: old cache hack\n";
    let pr = open_pr(&fake, &[("src/lib.rs", moved), ("app.py", BASE_APP)]);

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then nothing is added, removed or edited, and no comment is posted.
    assert!(outcome.delta.is_empty(), "{:?}", outcome.delta);
    assert!(fake.repo(REPO).comments(pr).is_empty());
}

#[tokio::test]
async fn text_edited_in_place_is_reported_as_edited() {
    // Given a PR that rewords an existing TODO,
    let (fake, client, repo) = world().await;
    let head = "fn a() {}\n// TODO: old cache hacks, remove\nfn b() {}\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head), ("app.py", BASE_APP)]);

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then it is one edited item, neither added nor removed,
    assert_eq!(
        outcome.counts(),
        DeltaCounts {
            added: 0,
            removed: 0,
            edited: 1
        }
    );
    let (old, new) = &outcome.delta.edited[0];
    assert_eq!(old.text, "old cache hack");
    assert_eq!(new.text, "old cache hacks, remove");
    // and the comment shows both versions.
    let comments = fake.take_comments(REPO, pr);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("#### Edited (1)"),
        "{}",
        comments[0].body
    );
    assert_eq!(outcome.conclusion, "success");
}

#[tokio::test]
async fn a_debt_missing_its_required_owner_gets_a_warning_on_its_line() {
    // Given a config requiring an owner on every DEBT, and a PR adding one without,
    let (fake, client, repo) = world().await;
    let config = paydown_config::parse(
        "annotations:\n  require: {DEBT: [owner]}\n",
        ".github/paydown.yml",
    )
    .unwrap();
    let head = "def main():\n    pass\n\n# DEBT(cost=3d): one query per order line\n";
    let pr = open_pr(&fake, &[("src/lib.rs", BASE_LIB), ("app.py", head)]);
    let ctx = context(&fake, pr);

    // when it is reviewed,
    let outcome = review_pull_request(&client, &repo, &ctx, &config, &options(false))
        .await
        .expect("review");

    // then one finding names the missing owner,
    assert_eq!(outcome.lint.len(), 1, "{:?}", outcome.lint);
    assert_eq!(
        (outcome.lint[0].path.as_str(), outcome.lint[0].line),
        ("app.py", 4)
    );
    assert!(outcome.lint[0].message.contains("owner"));
    // the check run carries it as a warning next to the notice,
    let runs = debt_runs(&fake, &ctx.head_sha);
    let levels: Vec<(&str, u64)> = runs[0]
        .annotations
        .iter()
        .map(|a| {
            (
                a["annotation_level"].as_str().unwrap(),
                a["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(levels, vec![("notice", 4), ("warning", 4)]);
    // and the comment lists it.
    let comments = fake.take_comments(REPO, pr);
    assert!(
        comments[0].body.contains("Metadata findings (1)"),
        "{}",
        comments[0].body
    );
}

const LEGACY: &str = "def f():\n    pass\n\n# DEBT: x\n#   nobody owns this yet\n";

/// Reviews a PR from `main` = [`LEGACY`] to `head` (as `legacy.py`, plus
/// `extra` files) under a config requiring an owner on every DEBT.
async fn review_legacy_edit(
    head: &str,
    extra: &[(&str, &str)],
) -> (FakeGitHub, u64, ReviewOutcome) {
    let (fake, client, repo) = world().await;
    let config = paydown_config::parse(
        "annotations:\n  require: {DEBT: [owner]}\n",
        ".github/paydown.yml",
    )
    .unwrap();
    let gh = fake.repo(REPO);
    gh.set_files("main", &[("legacy.py", LEGACY)]);
    let main = gh.head("main").unwrap();
    gh.set_branch("feature", &main);
    let mut files = vec![("legacy.py", head)];
    files.extend_from_slice(extra);
    gh.set_files("feature", &files);
    let pr = gh.add_pull_request(NewIssue::new("Touch legacy code"), "feature");
    let outcome = review_pull_request(
        &client,
        &repo,
        &context(&fake, pr),
        &config,
        &options(false),
    )
    .await
    .expect("review");
    (fake, pr, outcome)
}

/// Levels of the check run's annotations on the PR's head, in order.
fn annotation_levels(fake: &FakeGitHub, pr: u64) -> Vec<(String, String, u64)> {
    debt_runs(fake, &context(fake, pr).head_sha)
        .iter()
        .flat_map(|run| run.annotations.iter())
        .map(|a| {
            (
                a["path"].as_str().unwrap_or_default().to_string(),
                a["annotation_level"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                a["start_line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_old_debt_missing_its_owner_gets_no_warning_when_the_pr_edits_its_file_or_its_body() {
    // Given `main` holds an old DEBT without the owner the config requires,
    // when a PR edits another line of the same file,
    let other_line = LEGACY.replace("    pass", "    return 1");
    let (fake, _pr, outcome) = review_legacy_edit(&other_line, &[]).await;
    // then the item is untouched and nothing is linted.
    assert!(outcome.delta.is_empty(), "{:?}", outcome.delta);
    assert!(outcome.lint.is_empty(), "{:?}", outcome.lint);
    drop(fake);

    // When a PR edits the DEBT's continuation line only (its keyword line
    // stays old code),
    let body = LEGACY.replace("nobody owns this yet", "nobody owns this yet, still true");
    let (fake, pr, outcome) = review_legacy_edit(&body, &[]).await;
    // then it is an edited item, yet its unchanged keyword line gets no
    // warning: no lint finding and no warning in the check run.
    assert_eq!(outcome.counts().edited, 1, "{:?}", outcome.delta);
    assert!(outcome.lint.is_empty(), "{:?}", outcome.lint);
    assert!(
        annotation_levels(&fake, pr)
            .iter()
            .all(|(_, level, _)| level != "warning"),
        "{:?}",
        annotation_levels(&fake, pr)
    );
    assert_eq!(fake.take_comments(REPO, pr).len(), 1);
}

#[tokio::test]
async fn a_new_debt_missing_its_owner_is_linted_next_to_an_edited_old_one() {
    // Given the same old DEBT, when a PR edits its continuation line and
    // adds a new DEBT without an owner in another file,
    let body = LEGACY.replace("nobody owns this yet", "nobody owns this yet, still true");
    let (fake, pr, outcome) =
        review_legacy_edit(&body, &[("new.py", "x = 1\n# DEBT: new shortcut\n")]).await;

    // then only the new DEBT's line gets the finding, as a check warning.
    assert_eq!(outcome.counts().added, 1, "{:?}", outcome.delta);
    assert_eq!(outcome.counts().edited, 1, "{:?}", outcome.delta);
    let lint: Vec<(&str, u32)> = outcome
        .lint
        .iter()
        .map(|f| (f.path.as_str(), f.line))
        .collect();
    assert_eq!(lint, vec![("new.py", 2)]);
    assert!(
        outcome.lint[0].message.contains("owner"),
        "{:?}",
        outcome.lint
    );
    let warnings: Vec<(String, u64)> = annotation_levels(&fake, pr)
        .into_iter()
        .filter(|(_, level, _)| level == "warning")
        .map(|(path, _, line)| (path, line))
        .collect();
    assert_eq!(warnings, vec![("new.py".to_string(), 2)]);
    assert_eq!(fake.take_comments(REPO, pr).len(), 1);
}

#[tokio::test]
async fn a_dry_run_computes_the_report_and_writes_nothing() {
    // Given a PR adding debt,
    let (fake, client, repo) = world().await;
    let head = "// TODO: new item\nfn a() {}\nfn b() {}\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head), ("app.py", BASE_APP)]);
    fake.clear_requests();

    // when it is reviewed as a dry run,
    let outcome = review_pull_request(
        &client,
        &repo,
        &context(&fake, pr),
        &Config::default(),
        &options(true),
    )
    .await
    .expect("review");

    // then nothing is written, yet the outcome says what would be.
    assert_eq!(fake.count_writes(), 0);
    assert_eq!(outcome.comment, Upsert::Created { id: None });
    let body = outcome.comment_body.clone().expect("body");
    assert_eq!(parse_report_marker(&body).map(|c| c.added), Some(1));
    assert_eq!(outcome.check_run, Upsert::Created { id: None });
    assert_eq!(outcome.check_annotations.len(), 2 - 1);
    assert!(markdown_summary(&outcome).contains("new item"));
    assert!(fake.repo(REPO).check_runs().is_empty());
}

#[tokio::test]
async fn a_502_on_a_file_read_is_retried() {
    // Given a PR adding debt, and GitHub failing the next GraphQL read,
    let (fake, client, repo) = world().await;
    let head = "// TODO: new item\nfn a() {}\nfn b() {}\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head), ("app.py", BASE_APP)]);
    fake.fail_next_on("POST", "/graphql", 1, 502);

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then the client retried (one read of the `.gitattributes` above the
    // changed file, one per side of it, plus the retry), no file was read
    // alone, and the report is complete.
    assert_eq!(fake.requests_matching("POST", "/graphql").len(), 4);
    let contents = format!("/repos/{REPO}/contents/");
    assert!(fake.requests_matching("GET", &contents).is_empty());
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert_eq!(outcome.counts().added, 1);
    assert_eq!(fake.take_comments(REPO, pr).len(), 1);
}

#[tokio::test]
async fn a_file_that_keeps_failing_is_reported_and_the_rest_is_reviewed() {
    // Given a PR changing two files, on a GitHub without GraphQL (older
    // Enterprise: files are read one by one) that cannot serve one of them,
    let (fake, client, repo) = world().await;
    let head_lib = "// TODO: new item\nfn a() {}\nfn b() {}\n";
    let head_app = "def main():\n    # TODO: unreadable item\n    pass\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head_lib), ("app.py", head_app)]);
    fake.fail_next_on("POST", "/graphql", 2, 404);
    let path = format!("/repos/{REPO}/contents/app.py");
    fake.fail_next_on("GET", &path, 50, 502);

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then the readable file's debt is reported and the other is named.
    assert_eq!(outcome.counts().added, 1);
    assert_eq!(outcome.coverage.unreadable.len(), 1);
    assert_eq!(outcome.coverage.unreadable[0].0, "app.py");
    assert_eq!(outcome.warnings.len(), 1);
    let comments = fake.take_comments(REPO, pr);
    assert!(
        comments[0].body.contains("Could not read 1 file(s)"),
        "{}",
        comments[0].body
    );
    fake.clear_faults();
}

#[tokio::test]
async fn a_graphql_read_failing_past_retries_reads_the_files_through_the_contents_api() {
    // Given a PR changing two files, and GraphQL answering 502 to every read,
    let (fake, client, repo) = world().await;
    let head_lib = "// TODO: new item\nfn a() {}\nfn b() {}\n";
    let head_app = "def main():\n    # TODO: second\n    pass\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head_lib), ("app.py", head_app)]);
    fake.fail_next_on("POST", "/graphql", 50, 502);

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;
    fake.clear_faults();

    // then both files were read one by one and both items are reported.
    assert!(
        outcome.coverage.unreadable.is_empty(),
        "{:?}",
        outcome.coverage.unreadable
    );
    assert_eq!(outcome.counts().added, 2, "{:?}", outcome.delta);
    assert!(
        !fake
            .requests_matching("GET", "/repos/octo-org/octo-repo/contents/")
            .is_empty()
    );
    let comments = fake.take_comments(REPO, pr);
    assert!(
        !comments[0].body.contains("Could not read"),
        "{}",
        comments[0].body
    );
}

/// A PR modifying `n` files, each gaining one TODO.
fn pr_modifying(fake: &FakeGitHub, n: usize) -> u64 {
    let names: Vec<String> = (0..n).map(|i| format!("src/m{i:03}.rs")).collect();
    let base: Vec<(&str, &str)> = names.iter().map(|p| (p.as_str(), "fn a() {}\n")).collect();
    let head: Vec<(&str, &str)> = names
        .iter()
        .map(|p| (p.as_str(), "// TODO: one per file\nfn a() {}\n"))
        .collect();
    let repo = fake.repo(REPO);
    repo.set_files("main", &base);
    let main = repo.head("main").unwrap();
    repo.set_branch("feature", &main);
    repo.set_files("feature", &head);
    repo.add_pull_request(NewIssue::new("Touch many files"), "feature")
}

/// Requests sent while reviewing, as `METHOD /path` counts (file and
/// check-run paths folded into one key each).
fn request_counts(fake: &FakeGitHub) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for r in fake.requests() {
        let path = if let Some(i) = r.path.find("/contents/") {
            format!("{}/contents/*", &r.path[..i])
        } else {
            r.path.clone()
        };
        *counts.entry(format!("{} {path}", r.method)).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn a_pr_changing_150_files_is_read_in_five_graphql_queries() {
    // Given a PR modifying 150 files,
    let (fake, client, repo) = world().await;
    let pr = pr_modifying(&fake, 150);
    fake.clear_requests();

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then every file is reviewed,
    assert_eq!(outcome.coverage.files_reviewed, 150);
    assert_eq!(outcome.counts().added, 150);
    fake.take_comments(REPO, pr);
    // from two GraphQL queries per side (100 + 50 files) and one for the
    // `.gitattributes` that can mark them, no contents read,
    assert_eq!(fake.requests_matching("POST", "/graphql").len(), 5);
    let contents = format!("/repos/{REPO}/contents/");
    assert!(fake.requests_matching("GET", &contents).is_empty());
    // besides the listing (two pages) and the merge base.
    let files = format!("/repos/{REPO}/pulls/{pr}/files");
    assert_eq!(fake.requests_matching("GET", &files).len(), 2);
    let compare = format!("/repos/{REPO}/compare/");
    assert_eq!(fake.requests_matching("GET", &compare).len(), 1);
}

#[tokio::test]
async fn reviewing_300_changed_files_costs_seven_graphql_queries_instead_of_602_reads() {
    // Given a PR modifying 300 files, reviewed as dry runs (reads only),
    let (fake, client, repo) = world().await;
    let pr = pr_modifying(&fake, 300);
    let contents = format!("/repos/{REPO}/contents/");
    let ctx = context(&fake, pr);
    let dry_review = || async {
        review_pull_request(&client, &repo, &ctx, &Config::default(), &options(true))
            .await
            .expect("review")
    };
    client.identity().await.expect("identity");

    // when it is reviewed on a GitHub without GraphQL (files read one by
    // one, as every review read them before GraphQL),
    fake.clear_requests();
    fake.fail_next_on("POST", "/graphql", 7, 404);
    let alone = dry_review().await;
    fake.clear_faults();
    let alone_counts = request_counts(&fake);
    let alone_total = fake.requests().len();
    assert_eq!(alone.coverage.files_reviewed, 300);
    // (and the two `.gitattributes` that can mark them, absent: 404s),
    assert_eq!(fake.requests_matching("GET", &contents).len(), 602);

    // and again through GraphQL,
    fake.clear_requests();
    let batched = dry_review().await;
    let batched_counts = request_counts(&fake);
    let batched_total = fake.requests().len();
    eprintln!(
        "read one by one: {} requests without the 7 refused GraphQL queries {alone_counts:#?}",
        alone_total - 7
    );
    eprintln!("read through GraphQL: {batched_total} requests {batched_counts:#?}");

    // then the same report costs 7 GraphQL queries (one for the
    // `.gitattributes`) and no contents read: 602 requests fewer.
    assert_eq!(batched.coverage.files_reviewed, 300);
    assert_eq!(batched.counts(), alone.counts());
    assert_eq!(batched.counts().added, 300);
    assert_eq!(fake.requests_matching("POST", "/graphql").len(), 7);
    assert!(fake.requests_matching("GET", &contents).is_empty());
    assert_eq!(alone_total - batched_total, 602);
    assert_eq!(fake.count_writes(), 0);
}

#[tokio::test]
async fn debt_the_base_branch_gained_after_the_pr_branched_is_not_credited_to_the_pr() {
    // Given a PR branched from main, and main gaining a TODO in the same file since,
    let (fake, client, repo) = world().await;
    let head = "// TODO: new item\nfn a() {}\n// TODO: old cache hack\nfn b() {}\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head), ("app.py", BASE_APP)]);
    let main_tip = fake.repo(REPO).set_files(
        "main",
        &[
            (
                "src/lib.rs",
                &format!("{BASE_LIB}// FIXME: landed on main\n"),
            ),
            ("app.py", BASE_APP),
        ],
    );
    let ctx = PullContext {
        base_sha: main_tip,
        ..context(&fake, pr)
    };

    // when it is reviewed against the moved base,
    let outcome = review_pull_request(&client, &repo, &ctx, &Config::default(), &options(false))
        .await
        .expect("review");

    // then only the PR's own change counts: main's FIXME is not "removed".
    assert_eq!(
        outcome.counts(),
        DeltaCounts {
            added: 1,
            removed: 0,
            edited: 0
        },
        "{:?}",
        outcome.delta
    );
    assert_eq!(fake.take_comments(REPO, pr).len(), 1);
}

#[tokio::test]
async fn a_renamed_file_keeps_its_debt() {
    // Given a PR that only renames a file holding a TODO,
    let (fake, client, repo) = world().await;
    let pr = open_pr(&fake, &[("src/core.rs", BASE_LIB), ("app.py", BASE_APP)]);

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then GitHub's rename is followed: nothing added or removed.
    assert_eq!(outcome.coverage.files_reviewed, 1);
    assert!(outcome.delta.is_empty(), "{:?}", outcome.delta);
    assert!(fake.repo(REPO).comments(pr).is_empty());
}

#[tokio::test]
async fn more_than_fifty_annotations_are_sent_in_batches_of_fifty() {
    // Given a PR adding 120 TODOs,
    let (fake, client, repo) = world().await;
    let many: String = (0..120)
        .map(|i| format!("// TODO: item number {i}\n"))
        .collect();
    let head = format!("{BASE_LIB}{many}");
    let pr = open_pr(&fake, &[("src/lib.rs", &head), ("app.py", BASE_APP)]);
    let ctx = context(&fake, pr);

    // when it is reviewed,
    let outcome = review_pull_request(&client, &repo, &ctx, &Config::default(), &options(false))
        .await
        .expect("review");

    // then one check run holds all 120 notices, created with 50 and
    // completed by two updates.
    assert_eq!(outcome.counts().added, 120);
    let runs = debt_runs(&fake, &ctx.head_sha);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].annotations.len(), 120);
    let route = format!("/repos/{REPO}/check-runs");
    assert_eq!(fake.requests_matching("POST", &route).len(), 1);
    assert_eq!(fake.requests_matching("PATCH", &route).len(), 2);
    fake.take_comments(REPO, pr);
}

#[tokio::test]
async fn only_the_bots_own_marked_comment_is_sticky_and_duplicates_are_removed() {
    // Given a PR where a human quoted the marker, and two racing bot
    // comments already exist,
    let (fake, client, repo) = world().await;
    let head = "// TODO: new item\nfn a() {}\nfn b() {}\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head), ("app.py", BASE_APP)]);
    let ctx = context(&fake, pr);
    let marker = "<!-- paydown:pr-debt {\"added\":9,\"removed\":0,\"edited\":0} -->";
    let human = fake
        .repo(REPO)
        .add_comment(pr, "bob", &format!("quoting {marker}"));
    let bot = fake_github::bot_login();
    let first = fake
        .repo(REPO)
        .add_comment(pr, &bot, &format!("{marker}\nstale"));
    let second = fake
        .repo(REPO)
        .add_comment(pr, &bot, &format!("{marker}\nstale too"));

    // when it is reviewed,
    let outcome = review_pull_request(&client, &repo, &ctx, &Config::default(), &options(false))
        .await
        .expect("review");

    // then the oldest bot comment is edited, the other deleted, the human's kept.
    assert_eq!(outcome.comment, Upsert::Updated { id: first });
    assert_eq!(outcome.duplicate_comments_deleted, 1);
    let left: Vec<u64> = fake.repo(REPO).comments(pr).iter().map(|c| c.id).collect();
    assert_eq!(left, vec![human, first]);
    assert!(fake.repo(REPO).comment(second).is_none());
    let edited = fake.take_comments(REPO, pr);
    assert_eq!(edited.len(), 1);
    assert_eq!(
        parse_report_marker(&edited[0].body).map(|c| c.added),
        Some(1)
    );
}

#[tokio::test]
async fn a_pr_with_more_files_than_the_bound_reports_the_first_ones_and_says_so() {
    // Given a PR adding 305 files with one TODO each (the bound is 300),
    let (fake, client, repo) = world().await;
    let names: Vec<String> = (0..305).map(|i| format!("src/m{i:03}.rs")).collect();
    let mut head: Vec<(&str, &str)> = vec![("src/lib.rs", BASE_LIB), ("app.py", BASE_APP)];
    head.extend(
        names
            .iter()
            .map(|n| (n.as_str(), "// TODO: one per file\n")),
    );
    let pr = open_pr(&fake, &head);
    let started = std::time::Instant::now();

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;
    eprintln!("reviewed 300 of 305 files in {:?}", started.elapsed());

    // then 300 files are read, and the comment says the report stops there.
    assert_eq!(outcome.coverage.files_changed, 305);
    assert_eq!(outcome.coverage.stopped_after, Some(300));
    assert_eq!(outcome.counts().added, 300);
    let comments = fake.take_comments(REPO, pr);
    assert!(
        comments[0]
            .body
            .contains("This report covers the first 300 of the 305 changed files paydown reads."),
        "{}",
        comments[0].body
    );
    // read in three GraphQL queries of 100 head files (added files have no
    // base side) after one for the `.gitattributes` above them, no
    // contents read.
    assert_eq!(fake.requests_matching("POST", "/graphql").len(), 4);
    let contents = format!("/repos/{REPO}/contents/");
    assert!(fake.requests_matching("GET", &contents).is_empty());
}

#[tokio::test]
async fn a_pr_that_breaks_the_config_file_fails_its_check_on_the_bad_line() {
    // Given a PR that adds a config file with a misspelt key,
    let (fake, client, repo) = world().await;
    let config = "annotations:\n  keywords: [TODO]\nissuess:\n  labels: [debt]\n";
    let pr = open_pr(
        &fake,
        &[
            ("src/lib.rs", BASE_LIB),
            ("app.py", BASE_APP),
            (".github/paydown.yml", config),
        ],
    );
    let ctx = context(&fake, pr);

    // when it is reviewed,
    let outcome = review_pull_request(&client, &repo, &ctx, &Config::default(), &options(false))
        .await
        .expect("review");

    // then the check run fails with the error on line 3,
    assert_eq!(
        outcome.config_errors.len(),
        1,
        "{:?}",
        outcome.config_errors
    );
    assert_eq!(outcome.config_errors[0].line, 3);
    let runs = debt_runs(&fake, &ctx.head_sha);
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    let failures: Vec<u64> = runs[0]
        .annotations
        .iter()
        .filter(|a| a["annotation_level"] == "failure")
        .map(|a| a["start_line"].as_u64().unwrap())
        .collect();
    assert_eq!(failures, vec![3]);
    // and the comment explains it although no debt changed.
    let comments = fake.take_comments(REPO, pr);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]
            .body
            .contains("`.github/paydown.yml` is invalid"),
        "{}",
        comments[0].body
    );
}

#[tokio::test]
async fn a_re_review_of_the_same_commit_updates_the_run_or_supersedes_one_with_annotations() {
    // Given a PR removing debt, reviewed once (a run without annotations),
    let (fake, client, repo) = world().await;
    let head_lib = "fn a() {}\nfn b() {}\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head_lib), ("app.py", BASE_APP)]);
    let ctx = context(&fake, pr);
    let first = review_pull_request(&client, &repo, &ctx, &Config::default(), &options(false))
        .await
        .expect("review");
    assert!(matches!(first.check_run, Upsert::Created { id: Some(_) }));
    fake.take_comments(REPO, pr);

    // when the same commit is reviewed under a config that leaves src out,
    let narrow =
        paydown_config::parse("paths:\n  exclude: [src]\n", ".github/paydown.yml").unwrap();
    let second = review_pull_request(&client, &repo, &ctx, &narrow, &options(false))
        .await
        .expect("second review");

    // then the same run is updated in place,
    assert!(matches!(second.check_run, Upsert::Updated { .. }));
    assert_eq!(second.check_run.id(), first.check_run.id());
    assert_eq!(debt_runs(&fake, &ctx.head_sha).len(), 1);
    assert!(
        second
            .coverage
            .skipped
            .iter()
            .any(|(p, _)| p == "src/lib.rs")
    );
    let resolved = fake.take_comments(REPO, pr);
    assert!(
        resolved[0].body.contains("Resolved"),
        "{}",
        resolved[0].body
    );

    // and once a run carries annotations, a different result gets a fresh
    // run rather than piling annotations onto the old one.
    let adds = "fn a() {}\nfn b() {}\n// TODO: brand new\n";
    push(
        &fake,
        pr,
        "feature",
        &[("src/lib.rs", adds), ("app.py", BASE_APP)],
    );
    let ctx2 = context(&fake, pr);
    let with_notice =
        review_pull_request(&client, &repo, &ctx2, &Config::default(), &options(false))
            .await
            .expect("third review");
    let strict = paydown_config::parse(
        "annotations:\n  require: {TODO: [owner]}\n",
        ".github/paydown.yml",
    )
    .unwrap();
    let stricter = review_pull_request(&client, &repo, &ctx2, &strict, &options(false))
        .await
        .expect("fourth review");
    assert!(matches!(
        stricter.check_run,
        Upsert::Created { id: Some(_) }
    ));
    assert_ne!(stricter.check_run.id(), with_notice.check_run.id());
    let runs = debt_runs(&fake, &ctx2.head_sha);
    let newest = runs.iter().max_by_key(|r| r.id).unwrap();
    assert_eq!(newest.annotations.len(), 2);
    fake.take_comments(REPO, pr);
}

#[tokio::test]
async fn deleting_a_file_removes_its_debt_and_the_check_succeeds() {
    // Given a PR that deletes the file holding the only TODO,
    let (fake, client, repo) = world().await;
    let pr = open_pr(&fake, &[("app.py", BASE_APP)]);
    let ctx = context(&fake, pr);

    // when it is reviewed,
    let outcome = review_pull_request(&client, &repo, &ctx, &Config::default(), &options(false))
        .await
        .expect("review");

    // then the TODO is removed (paid down), linked at the merge base, and
    // removing debt alone keeps the check green.
    assert_eq!(
        outcome.counts(),
        DeltaCounts {
            added: 0,
            removed: 1,
            edited: 0
        }
    );
    assert_eq!(outcome.conclusion, "success");
    let comments = fake.take_comments(REPO, pr);
    assert!(
        comments[0].body.contains(&format!(
            "blob/{}/src/lib.rs#L2",
            fake.repo(REPO).head("main").unwrap()
        )),
        "{}",
        comments[0].body
    );
}

#[tokio::test]
async fn a_read_only_token_gets_the_review_as_warnings_not_a_failure() {
    // Given a PR adding a TODO, and GitHub refusing the bot's comment and
    // check-run writes (a fork PR's read-only GITHUB_TOKEN),
    let (fake, client, repo) = world().await;
    let head_lib = "// TODO: new item\nfn a() {}\nfn b() {}\n";
    let pr = open_pr(&fake, &[("src/lib.rs", head_lib), ("app.py", BASE_APP)]);
    fake.fail_next_on(
        "POST",
        &format!("/repos/{REPO}/issues/{pr}/comments"),
        1,
        403,
    );
    fake.fail_next_on("POST", &format!("/repos/{REPO}/check-runs"), 1, 403);

    // when it is reviewed,
    let outcome = review_pull_request(
        &client,
        &repo,
        &context(&fake, pr),
        &Config::default(),
        &options(false),
    )
    .await
    .expect("a refused write does not fail the review");

    // then the delta and summary are there, no comment was posted, and
    // both refusals are warnings.
    assert_eq!(outcome.counts().added, 1);
    assert!(matches!(outcome.comment, Upsert::Refused { .. }));
    assert!(markdown_summary(&outcome).contains("new item"));
    assert!(fake.take_comments(REPO, pr).is_empty());
    assert_eq!(outcome.warnings.len(), 2, "{:?}", outcome.warnings);
    assert!(
        outcome.warnings[0].contains("sticky comment"),
        "{:?}",
        outcome.warnings
    );
}

#[tokio::test]
async fn debt_in_a_file_the_heads_gitattributes_mark_vendored_is_not_counted() {
    // Given a PR adding a TODO in `assets/lib.js`, which its head's
    // `.gitattributes` marks `linguist-vendored` (no default glob does),
    // and one in `src/a.rs`,
    let (fake, client, repo) = world().await;
    let pr = open_pr(
        &fake,
        &[
            (
                ".gitattributes",
                "# third-party bundles\nassets/** linguist-vendored\n",
            ),
            (
                "assets/lib.js",
                "// TODO: their bundle's debt\nvar x = 1;\n",
            ),
            ("src/a.rs", "// TODO: our own debt\nfn a() {}\n"),
        ],
    );

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then only the src one is counted,
    let added: Vec<&str> = outcome
        .delta
        .added
        .iter()
        .map(|a| a.path.as_str())
        .collect();
    assert_eq!(added, ["src/a.rs"], "{:#?}", outcome.delta);
    // and the vendored file is reported as skipped for that reason.
    assert!(
        outcome
            .coverage
            .skipped
            .contains(&("assets/lib.js".to_string(), "vendored".to_string())),
        "{:?}",
        outcome.coverage.skipped
    );
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert_eq!(fake.take_comments(REPO, pr).len(), 1);
}

#[tokio::test]
async fn a_linguist_language_override_chooses_the_comment_syntax() {
    // Given a PR adding `tools/gen.js`, which a nested `.gitattributes`
    // says is Python, holding a `#` comment and a `//` line,
    let (fake, client, repo) = world().await;
    let pr = open_pr(
        &fake,
        &[
            ("tools/.gitattributes", "gen.js linguist-language=Python\n"),
            (
                "tools/gen.js",
                "# TODO: hash comment, Python's syntax\nx = 1 // 2  # integer division\n// TODO: not a comment in Python\n",
            ),
        ],
    );

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then the file is read with Python's comment syntax, not JavaScript's.
    let added: Vec<(&str, &str)> = outcome
        .delta
        .added
        .iter()
        .map(|a| (a.path.as_str(), a.text.as_str()))
        .collect();
    assert_eq!(
        added,
        [("tools/gen.js", "hash comment, Python's syntax")],
        "{:#?}",
        outcome.delta
    );
    assert_eq!(fake.take_comments(REPO, pr).len(), 1);
}

#[tokio::test]
async fn a_pr_without_gitattributes_is_reviewed_as_before_with_no_warning() {
    // Given a PR whose head has no `.gitattributes` anywhere (404s),
    let (fake, client, repo) = world().await;
    let pr = open_pr(&fake, &[("src/a.rs", "// TODO: plain\nfn a() {}\n")]);

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then its debt is counted and nothing is reported unreadable.
    assert_eq!(outcome.counts().added, 1);
    assert_eq!(fake.take_comments(REPO, pr).len(), 1);
    assert!(
        outcome.coverage.unreadable.is_empty(),
        "{:?}",
        outcome.coverage.unreadable
    );
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
}

#[tokio::test]
async fn a_file_deleted_by_a_pr_whose_head_marks_it_vendored_pays_no_debt() {
    // Given a base holding a TODO in `src/lib.rs` and one in
    // `vendor/old.js`, and a PR that removes the first, deletes the vendored
    // file and marks `vendor/**` as `linguist-vendored` at its head,
    let (fake, client, repo) = world().await;
    let handle = fake.repo(REPO);
    handle.set_files(
        "main",
        &[
            ("src/lib.rs", BASE_LIB),
            (
                "vendor/old.js",
                "// TODO: their bundle's hack\nvar x = 1;\n",
            ),
        ],
    );
    let main = handle.head("main").unwrap();
    handle.set_branch("feature", &main);
    handle.set_files(
        "feature",
        &[
            (".gitattributes", "vendor/** linguist-vendored\n"),
            ("src/lib.rs", "fn a() {}\nfn b() {}\n"),
        ],
    );
    let pr = handle.add_pull_request(NewIssue::new("Drop the old bundle"), "feature");

    // when it is reviewed,
    let outcome = review(&fake, &client, &repo, pr).await;

    // then only our own TODO counts as paid: the deleted file is third-party
    // code by the head's marks, reported as skipped for that reason.
    let removed: Vec<&str> = outcome
        .delta
        .removed
        .iter()
        .map(|a| a.path.as_str())
        .collect();
    assert_eq!(removed, ["src/lib.rs"], "{:#?}", outcome.delta);
    assert_eq!(outcome.delta.paid(), 1);
    assert!(
        outcome
            .coverage
            .skipped
            .contains(&("vendor/old.js".to_string(), "vendored".to_string())),
        "{:?}",
        outcome.coverage.skipped
    );
    assert_eq!(fake.take_comments(REPO, pr).len(), 1);
}
