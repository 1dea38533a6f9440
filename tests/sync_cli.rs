//! `paydown sync OWNER/REPO` as a user runs it, against the fake GitHub.

use fake_github::FakeGitHub;

const TOKEN: &str = "ghp_cli_token";
const REPO: &str = "octo-org/octo-repo";

async fn paydown_sync(fake: &FakeGitHub, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_paydown"))
        .arg("sync")
        .args(args)
        .env("PAYDOWN_GITHUB_API_URL", fake.url())
        .env("GITHUB_TOKEN", TOKEN)
        .output()
        .await
        .expect("run paydown sync")
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_a_real_run_applies_it() {
    // Given a repository with two annotations and no debt issues yet,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    fake.repo(REPO).set_files(
        "main",
        &[(
            "src/a.rs",
            "// TODO: flush the cache\n// FIXME(@bob): retries\n",
        )],
    );

    // when a dry run is asked for as JSON,
    let dry = paydown_sync(&fake, &[REPO, "--dry-run", "--format", "json"]).await;

    // then it prints two creates and writes nothing,
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&dry.stdout).expect("json");
    assert_eq!(
        outcome["plan"]["effects"].as_array().unwrap().len(),
        2,
        "{outcome:#}"
    );
    assert!(outcome["applied"].is_null());
    assert_eq!(fake.count_writes(), 0);

    // and a real run creates both issues and says so.
    let real = paydown_sync(&fake, &[REPO]).await;
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    let text = String::from_utf8_lossy(&real.stdout);
    assert!(text.contains("applied 2 effects, 0 failed"), "{text}");
    assert!(String::from_utf8_lossy(&real.stderr).contains("GitHub API requests:"));
    assert!(text.contains("dashboard: created #3"), "{text}");
    assert_eq!(
        fake.repo(REPO).issues().len(),
        3,
        "two debt issues and the dashboard"
    );
}

#[tokio::test]
async fn sync_without_a_token_is_a_usage_error() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_paydown"))
        .args(["sync", REPO])
        .env_remove("GITHUB_TOKEN")
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GITHUB_TOKEN"));
}
