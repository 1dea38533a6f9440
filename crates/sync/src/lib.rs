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

use paydown_config::Config;

pub use paydown_reconcile::TRACKING_LABEL;

/// A hidden line the bot adds to the body when it closes an issue itself,
/// so a later run can tell its own close from a person's without asking
/// for each issue's timeline.
pub use paydown_markers::closed_by_bot::MARKER as CLOSED_BY_BOT_MARKER;

/// How to run one sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Plan only; write nothing.
    pub dry_run: bool,
    /// Web base for permalinks (`https://github.com`, or a GHES host).
    pub html_base: String,
    /// The day the run counts as "today" (ages, due dates, sprints).
    pub today: NaiveDate,
    /// Caps on the tarball the scan reads.
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
    /// The App's memory of the repository's config: the text of the last
    /// valid `.github/paydown.yml` seen on the default branch (empty when
    /// that was no file). When the file at the synced commit is invalid,
    /// this config stays in force and the file's errors are listed. `None`
    /// (`paydown sync`, an App that never saw a valid file): the defaults
    /// are used instead. Ignored with `config` (the Action's).
    pub last_valid_config: Option<String>,
    /// Sections of the dashboard that other features render.
    pub dashboard_sections: DashboardSections,
    /// The incidents this repository reads (its own incident issues, those
    /// of `incidents.repositories`, external ones routed here), for the
    /// counts, priority and `debt:hot`. `None` leaves those labels alone.
    pub incidents: Option<Vec<paydown_incidents::Incident>>,
}

/// What a sync saw, decided and did.
#[derive(Debug, serde::Serialize)]
pub struct SyncOutcome {
    /// `owner/name`.
    pub repo: String,
    /// The branch scanned.
    pub branch: String,
    /// The commit scanned.
    pub sha: String,
    /// Annotations found.
    pub annotations: usize,
    /// Files the scanner read.
    pub files_scanned: u64,
    /// Files skipped, counted per reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Problems in `.github/paydown.yml`; the last valid config
    /// ([`SyncOptions::last_valid_config`]) or else the defaults were used
    /// instead.
    pub config_errors: Vec<String>,
    /// The reconciliation plan.
    pub plan: Plan,
    /// `None` for a dry run.
    pub applied: Option<ApplyReport>,
    /// What happened to the dashboard issue.
    pub dashboard: DashboardWrite,
}

/// Why a sync could not even plan.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Talking to GitHub failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// The repository's tarball could not be read.
    #[error("cannot scan the tarball of {repo}@{sha}: {source}")]
    Tarball {
        /// `owner/name`.
        repo: String,
        /// The commit whose tarball it was.
        sha: String,
        /// What was wrong with it.
        source: TarballError,
    },
    /// The blocking scan task panicked or was cancelled.
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
            last_valid_config: None,
            dashboard_sections: DashboardSections::default(),
            incidents: None,
        }
    }
}

/// The configuration a run goes by, and what is wrong with the file it read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigInForce {
    /// The configuration to run with.
    pub config: Config,
    /// The text `config` comes from: the file's when it is valid, the last
    /// valid config's when it is not; `None` for the defaults.
    pub text: Option<String>,
    /// The problems of the file read (one line each); empty when it is valid.
    pub errors: Vec<String>,
}

impl ConfigInForce {
    /// The settings of an override (the Action's inputs), with the
    /// problems found reading it.
    pub(crate) fn given(config: &Config, errors: &[String]) -> Self {
        Self {
            config: config.clone(),
            text: None,
            errors: errors.to_vec(),
        }
    }
}

/// The configuration `file` (the text of `.github/paydown.yml`, `None`
/// without one) puts in force. A valid file is used as it is. An invalid
/// one never is: its errors are returned, and `last_valid` (the text of the
/// last valid config, which the App keeps per repository) is used in its
/// place — or the defaults, without one (`paydown sync`, or an App that
/// never saw a valid file).
pub fn resolve_config(file: Option<&str>, last_valid: Option<&str>) -> ConfigInForce {
    let Some(text) = file else {
        return ConfigInForce::default();
    };
    let errors = match paydown_config::parse(text, paydown_config::DEFAULT_PATH) {
        Ok(config) => {
            return ConfigInForce {
                config,
                text: Some(text.to_string()),
                errors: Vec::new(),
            };
        }
        Err(errors) => errors.to_string().lines().map(str::to_string).collect(),
    };
    // A kept text that no longer parses (a store edited by hand, a config
    // rule tightened since) is no better than none.
    let kept = last_valid.and_then(|text| {
        paydown_config::parse(text, paydown_config::DEFAULT_PATH)
            .ok()
            .map(|config| (config, text.to_string()))
    });
    match kept {
        Some((config, text)) => ConfigInForce {
            config,
            text: Some(text),
            errors,
        },
        None => ConfigInForce {
            config: Config::default(),
            text: None,
            errors,
        },
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
    full_sync(client, repo, options, &[])
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
/// start from. `known` are the debt issues a previous run tracked: one the
/// label listing no longer returns (a person removed the label) is read
/// alone, so its item is not given a second issue; the plan puts the label
/// back.
pub(crate) async fn full_sync(
    client: &Client,
    repo: &Repo,
    options: &SyncOptions,
    known: &[u64],
) -> Result<(SyncOutcome, SyncState), SyncError> {
    let head = match &options.head {
        Some(head) => head.clone(),
        None => fetch::default_branch_head(client, repo).await?,
    };
    let in_force = match &options.config {
        Some(config) => ConfigInForce::given(config, &options.config_errors),
        None => {
            let text = fetch::config_text_at(client, repo, &head.sha).await?;
            resolve_config(text.as_deref(), options.last_valid_config.as_deref())
        }
    };
    let ConfigInForce {
        config,
        text: config_text,
        errors: config_errors,
    } = in_force;
    let scan = fetch::scan_commit(client, repo, &head.sha, &config, options.tarball_limits).await?;
    let named = fetch::named_issues(&scan.annotations);
    let listed_since = chrono::Utc::now() - LISTING_MARGIN;
    let mut tracked = fetch::tracked_issues(client, repo, &named).await?;
    // Reads only the ones the listing missed.
    fetch::add_named(client, repo, &mut tracked, known).await?;
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
        impact: None,
        today: options.today,
    };
    let annotations = input.annotations.len();
    let mut state = SyncState {
        version: state::STATE_VERSION,
        sha: head.sha.clone(),
        config_text,
        config_errors: config_errors.clone(),
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
    let now = chrono::Utc::now();
    if let Some(incidents) = &options.incidents {
        input.impact = Some(paydown_reconcile::impact::compute(&input, incidents, now));
    }
    // An incremental plan sees only the changed files' items; the
    // dashboard ranks them all.
    let dashboard_impact = match (dashboard_annotations, &options.incidents) {
        (Some(all), Some(incidents)) => {
            let mut every = input.clone();
            every.annotations = all.to_vec();
            Some(paydown_reconcile::impact::compute(&every, incidents, now))
        }
        _ => input.impact.clone(),
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
        impact: dashboard_impact.as_ref(),
    });
    let dashboard = match dashboard::write_dashboard(
        client,
        repo,
        &input.config,
        state.tracked.dashboard.as_ref(),
        &body,
        options.dry_run,
    )
    .await
    {
        Ok(written) => written,
        Err(GitHubError::MissingPermission {
            message, accepted, ..
        }) => DashboardWrite::Refused { message, accepted },
        Err(e) => return Err(e.into()),
    };
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

    const VALID: &str = "annotations:\n  keywords: [TODO, NOTE]\n";
    const BROKEN: &str = "annotations:\n  kewords: [TODO, NOTE]\n";

    #[test]
    fn a_valid_file_is_in_force_and_no_file_means_the_defaults() {
        let valid = resolve_config(Some(VALID), None);
        assert_eq!(valid.config.annotations.keywords, ["TODO", "NOTE"]);
        assert_eq!(valid.text.as_deref(), Some(VALID));
        assert!(valid.errors.is_empty());
        assert_eq!(resolve_config(None, Some(VALID)), ConfigInForce::default());
    }

    #[test]
    fn an_invalid_file_keeps_the_last_valid_config_or_else_the_defaults() {
        // With a last valid config (the App), it stays in force;
        let kept = resolve_config(Some(BROKEN), Some(VALID));
        assert_eq!(kept.config.annotations.keywords, ["TODO", "NOTE"]);
        assert_eq!(kept.text.as_deref(), Some(VALID));
        assert_eq!(kept.errors.len(), 1, "{:?}", kept.errors);
        assert!(kept.errors[0].contains("kewords"), "{:?}", kept.errors);
        // without one (`paydown sync`), or with one that no longer
        // parses, the defaults are used; the errors are listed either way.
        for last_valid in [None, Some(BROKEN)] {
            let defaults = resolve_config(Some(BROKEN), last_valid);
            assert_eq!(defaults.config, Config::default());
            assert_eq!(defaults.text, None);
            assert_eq!(defaults.errors, kept.errors);
        }
    }

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
