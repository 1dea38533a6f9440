//! Debt issues in sync with the code of one repository.
//!
//! This crate is the I/O around the pure planner in `paydown_reconcile`:
//! [`fetch`] reads what is (the default branch's head, its config, its
//! tree as one tarball, the issues carrying paydown's label), the planner
//! decides what should change, and [`apply`] carries the plan out through
//! the GitHub client, one effect at a time, carrying on past a failed one.
//! The CLI (`paydown sync`), the App and the Action all call
//! [`sync_repository`]; the App, which keeps a [`state::SyncState`] per
//! repository, calls [`sync_push`] so that a push is reconciled from its
//! changed files alone ([`incremental`]).

pub mod apply;
pub mod dashboard;
pub mod fetch;
pub mod incremental;
pub mod state;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use paydown_github::{Client, GitHubError, Repo};
use paydown_reconcile::{Coverage, Effect, Plan, PlanInput, RepoRef};
use paydown_scan::{SkipReason, TarballError, TarballLimits};

pub use apply::{ApplyReport, CreatedIssue, EffectFailure};
pub use dashboard::{DashboardSections, DashboardWrite};
pub use incremental::{PushSync, SyncMode, sync_push};
pub use state::SyncState;

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
    /// The configuration to use instead of `.github/paydown.yml` at the
    /// scanned commit (the Action's `config-path` and inputs).
    pub config: Option<paydown_config::Config>,
    /// With `config`: the problems found reading it (the dashboard lists them).
    pub config_errors: Vec<String>,
    /// Sections of the dashboard that other features render.
    pub dashboard_sections: DashboardSections,
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
            config: None,
            config_errors: Vec::new(),
            dashboard_sections: DashboardSections::default(),
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
    full_sync(client, repo, options)
        .await
        .map(|(outcome, _)| outcome)
}

/// How far back from our clock the next `since` listing starts: GitHub's
/// clock may be behind ours (NTP keeps both within well under a second),
/// and an issue edited during the listing must show up again next time.
/// Issues written in the margin are listed again by the next push, so a
/// push right after a large import pages through its issues once.
pub const LISTING_MARGIN: chrono::Duration = chrono::Duration::seconds(5);

/// [`sync_repository`], also returning the state an incremental push can
/// start from.
pub(crate) async fn full_sync(
    client: &Client,
    repo: &Repo,
    options: &SyncOptions,
) -> Result<(SyncOutcome, SyncState), SyncError> {
    let head = match &options.head {
        Some(head) => head.clone(),
        None => fetch::default_branch_head(client, repo).await?,
    };
    let (config, config_errors, config_text) = match &options.config {
        Some(config) => (config.clone(), options.config_errors.clone(), None),
        None => {
            let text = fetch::config_text_at(client, repo, &head.sha).await?;
            let (config, errors) = fetch::parse_config(text.as_deref());
            (config, errors, text)
        }
    };
    let scan = fetch::scan_commit(client, repo, &head.sha, &config, options.tarball_limits).await?;
    let named = fetch::named_issues(&scan.annotations);
    let listed_since = chrono::Utc::now() - LISTING_MARGIN;
    let tracked = fetch::tracked_issues(client, repo, &named).await?;
    let files = state::group_by_path(&scan.annotations);
    let input = PlanInput {
        repo: RepoRef::new(repo.owner.clone(), repo.name.clone()),
        sha: head.sha.clone(),
        html_base: options.html_base.clone(),
        config,
        annotations: scan.annotations,
        coverage: Coverage::Full,
        renames: BTreeMap::new(),
        issues: tracked.issues.clone(),
        pull_request: options.pull_request,
        first_seen: BTreeMap::new(),
        incident_counts: BTreeMap::new(),
        priorities: BTreeMap::new(),
        today: options.today,
    };
    let annotations = input.annotations.len();
    let mut state = SyncState {
        version: state::STATE_VERSION,
        sha: head.sha.clone(),
        config_text,
        listed_since,
        complete: false,
        tracked,
        files,
    };
    let finished = plan_apply_and_show(
        client,
        repo,
        options,
        input,
        &config_errors,
        &mut state,
        None,
    )
    .await?;
    Ok((
        SyncOutcome {
            repo: repo.to_string(),
            branch: head.branch,
            sha: head.sha,
            annotations,
            files_scanned: scan.files_scanned,
            skipped: scan.skipped,
            config_errors,
            plan: finished.plan,
            applied: finished.applied,
            dashboard: finished.dashboard,
        },
        state,
    ))
}

/// What planning, applying and writing the dashboard produced.
pub(crate) struct Finished {
    pub plan: Plan,
    pub applied: Option<ApplyReport>,
    pub dashboard: DashboardWrite,
}

/// The part of a sync shared by full and incremental runs: plan (naming
/// the merged PR when something closes), apply unless a dry run, write the
/// dashboard when its body changed, and bring `state` up to date.
/// `dashboard_annotations` are every annotation of the tree when the plan
/// saw only some (an incremental run); `None` when the plan saw them all.
pub(crate) async fn plan_apply_and_show(
    client: &Client,
    repo: &Repo,
    options: &SyncOptions,
    mut input: PlanInput,
    config_errors: &[String],
    state: &mut SyncState,
    dashboard_annotations: Option<&[paydown_annotations::Annotation]>,
) -> Result<Finished, SyncError> {
    let mut plan = paydown_reconcile::plan(&input);
    // Close comments name the merged PR that paid the debt down. Asking
    // GitHub costs a request, so only when something is being closed.
    let closes = plan
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Close { .. }));
    if closes
        && input.pull_request.is_none()
        && let Some(number) = fetch::merged_pull_request(client, repo, &input.sha).await?
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
        config_errors,
        annotations: dashboard_annotations.unwrap_or(&input.annotations),
        issues: &input.issues,
        dates: &state.tracked.dates,
        plan: &plan,
        applied: applied.as_ref(),
        today: options.today,
        sections: &options.dashboard_sections,
    });
    let dashboard = dashboard::write_dashboard(
        client,
        repo,
        &input.config,
        state.tracked.dashboard.as_ref(),
        &body,
        options.dry_run,
    )
    .await?;
    if let Some(applied) = &applied {
        state::after_apply(
            &mut state.tracked,
            &plan,
            applied,
            &dashboard,
            &body,
            options.today,
        );
        state.complete = plan.deferred_creates == 0 && applied.failures.is_empty();
    }
    Ok(Finished {
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
