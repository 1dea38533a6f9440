//! Debt issues in sync with the code of one repository.
//!
//! This crate is the I/O around the pure planner in `paydown_reconcile`:
//! [`fetch`] reads what is (the default branch's head, its config, its
//! tree as one tarball, the issues carrying paydown's label), the planner
//! decides what should change, and [`apply`] carries the plan out through
//! the GitHub client, one effect at a time, carrying on past a failed one.
//! The CLI (`paydown sync`), the App and the Action all call
//! [`sync_repository`].

pub mod apply;
pub mod dashboard;
pub mod fetch;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use paydown_github::{Client, GitHubError, Repo};
use paydown_reconcile::{Coverage, Effect, Plan, PlanInput, RepoRef};
use paydown_scan::{SkipReason, TarballError, TarballLimits};

pub use apply::{ApplyReport, CreatedIssue, EffectFailure};
pub use dashboard::DashboardWrite;

/// The label every debt issue carries, so the bot can list its issues
/// without searching (search is eventually consistent; listing by label
/// is not).
pub const TRACKING_LABEL: &str = "paydown";

/// A hidden line the bot adds to the body when it closes an issue itself,
/// so a later run can tell its own close from a person's without asking
/// for each issue's timeline.
pub const CLOSED_BY_BOT_MARKER: &str = "<!-- paydown:closed-by-bot -->";

/// How to run one sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Plan only; write nothing.
    pub dry_run: bool,
    /// Web base for permalinks (`https://github.com`, or a GHES host).
    pub html_base: String,
    pub today: NaiveDate,
    pub tarball_limits: TarballLimits,
    /// The merged PR that caused this sync, when known (named in close
    /// comments).
    pub pull_request: Option<u64>,
    /// The default branch and commit to scan, when the caller already knows
    /// them (a push event); otherwise they are asked of GitHub.
    pub head: Option<fetch::Head>,
}

/// What a sync saw, decided and did.
#[derive(Debug, serde::Serialize)]
pub struct SyncOutcome {
    pub repo: String,
    pub branch: String,
    pub sha: String,
    pub annotations: usize,
    pub files_scanned: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Problems in `.github/paydown.yml`; the defaults were used instead.
    pub config_errors: Vec<String>,
    pub plan: Plan,
    /// `None` for a dry run.
    pub applied: Option<ApplyReport>,
    pub dashboard: DashboardWrite,
}

/// Why a sync could not even plan.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("cannot scan the tarball of {repo}@{sha}: {source}")]
    Tarball {
        repo: String,
        sha: String,
        source: TarballError,
    },
    #[error("the scan task failed: {0}")]
    Join(String),
}

impl SyncOptions {
    /// A run against the GitHub at `api_base`, today, writing its plan,
    /// with default tarball limits: what the CLI and the App both start
    /// from.
    pub fn for_api(api_base: &str) -> Self {
        Self {
            dry_run: false,
            html_base: html_base_for(api_base),
            today: chrono::Utc::now().date_naive(),
            tarball_limits: TarballLimits::default(),
            pull_request: None,
            head: None,
        }
    }
}

/// The web base for permalinks, from the API base: `https://github.com`
/// for api.github.com, `https://HOST` for GitHub Enterprise Server's
/// `https://HOST/api/v3`, the API base itself otherwise.
pub fn html_base_for(api_base: &str) -> String {
    let api = api_base.trim_end_matches('/');
    if api == "https://api.github.com" {
        "https://github.com".to_string()
    } else if let Some(host) = api.strip_suffix("/api/v3") {
        host.to_string()
    } else {
        api.to_string()
    }
}

/// Reconciles the debt issues of `repo` with its default branch: a full
/// scan of the head commit, the issues carrying [`TRACKING_LABEL`], the
/// plan, and (unless a dry run) its application.
pub async fn sync_repository(
    client: &Client,
    repo: &Repo,
    options: &SyncOptions,
) -> Result<SyncOutcome, SyncError> {
    let head = match &options.head {
        Some(head) => head.clone(),
        None => fetch::default_branch_head(client, repo).await?,
    };
    let (config, config_errors) = fetch::config_at(client, repo, &head.sha).await?;
    let scan = fetch::scan_commit(client, repo, &head.sha, &config, options.tarball_limits).await?;
    let mut named: Vec<u64> = scan
        .annotations
        .iter()
        .filter_map(|a| a.metadata.issue)
        .collect();
    named.sort_unstable();
    named.dedup();
    let fetch::Tracked {
        issues,
        dates,
        dashboard: dashboard_issue,
    } = fetch::tracked_issues(client, repo, &named).await?;

    let mut input = PlanInput {
        repo: RepoRef::new(repo.owner.clone(), repo.name.clone()),
        sha: head.sha.clone(),
        html_base: options.html_base.clone(),
        config,
        annotations: scan.annotations,
        coverage: Coverage::Full,
        renames: BTreeMap::new(),
        issues,
        pull_request: options.pull_request,
        first_seen: BTreeMap::new(),
        incident_counts: BTreeMap::new(),
        priorities: BTreeMap::new(),
        today: options.today,
    };
    let mut plan = paydown_reconcile::plan(&input);
    // Close comments name the merged PR that paid the debt down. Asking
    // GitHub costs a request, so only when something is being closed.
    let closes = plan
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Close { .. }));
    if closes
        && input.pull_request.is_none()
        && let Some(number) = fetch::merged_pull_request(client, repo, &head.sha).await?
    {
        input.pull_request = Some(number);
        plan = paydown_reconcile::plan(&input);
    }
    let applied = if options.dry_run {
        None
    } else {
        Some(apply::apply(client, repo, &plan, &input.issues).await)
    };
    let body = dashboard::desired_body(&dashboard::DashboardContext {
        config: &input.config,
        config_errors: &config_errors,
        annotations: &input.annotations,
        issues: &input.issues,
        dates: &dates,
        plan: &plan,
        applied: applied.as_ref(),
        today: options.today,
    });
    let dashboard = dashboard::write_dashboard(
        client,
        repo,
        &input.config,
        dashboard_issue.as_ref(),
        &body,
        options.dry_run,
    )
    .await?;
    Ok(SyncOutcome {
        repo: repo.to_string(),
        branch: head.branch,
        sha: head.sha,
        annotations: input.annotations.len(),
        files_scanned: scan.files_scanned,
        skipped: scan.skipped,
        config_errors,
        plan,
        applied,
        dashboard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permalinks_point_at_the_web_host_of_the_api() {
        assert_eq!(
            html_base_for("https://api.github.com/"),
            "https://github.com"
        );
        assert_eq!(
            html_base_for("https://ghe.example.com/api/v3"),
            "https://ghe.example.com"
        );
        assert_eq!(html_base_for("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }
}
