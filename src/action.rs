//! `paydown action`: the GitHub Action surface (docs/action.md).
//!
//! A workflow step gives paydown its event through the environment
//! (`GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`, …) and its inputs as
//! `INPUT_*` variables. This module turns that into the same calls the App
//! makes — sync on the default branch, the pull request report and drift
//! check, slash commands — and writes what a workflow reads back: outputs
//! (`GITHUB_OUTPUT`), the job summary (`GITHUB_STEP_SUMMARY`) and workflow
//! annotations on stdout.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use paydown_app::{
    ApiRecords, DashboardInput, Freshness, IncidentIssue, PullRequestInput, PullRequestOutcome,
};
use paydown_config::Config;
use paydown_events::{Event, PullRequestEvent, parse_event};
use paydown_github::{Client, GitHubError, Repo};
use paydown_review::Reviewed;
use paydown_sync::{SyncOptions, fetch::Head};

/// A cause kept whole (an I/O, YAML, scan or payload error) under an
/// error that names the file it concerns.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why the Action could not run. Each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// A workflow variable is missing: not run by GitHub Actions.
    #[error("{0} is not set; `paydown action` runs inside a GitHub Actions workflow")]
    MissingEnv(&'static str),
    /// An input of `action.yml` has a value it cannot take.
    #[error("input `{input}`: {message}")]
    Input {
        /// The input's name (`fail-on`, …).
        input: String,
        /// What is wrong with it.
        message: String,
    },
    /// The config file cannot be read or is invalid.
    #[error("{path}: {source}")]
    Config {
        /// The file, relative to the workspace.
        path: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The event payload cannot be read or parsed.
    #[error("cannot read the event payload {path}: {source}")]
    Event {
        /// `GITHUB_EVENT_PATH`.
        path: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// An output, the job summary or a file could not be written.
    #[error("cannot write {what} to {path}: {source}")]
    Write {
        /// What was being written (`outputs`, `the job summary`).
        what: &'static str,
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A GitHub request failed outside a flow (reading the base's config).
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// A flow failed (`paydown_app`), with its cause.
    #[error(transparent)]
    App(#[from] paydown_app::AppError),
}

/// When the step fails (besides errors): the `fail-on` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// The step passes whatever paydown finds.
    Never,
    /// A pull request adds debt annotations (or a push to the default
    /// branch opens debt issues).
    NewDebt,
    /// The pull request makes reserved debt capacity drift.
    Drift,
}

/// The inputs of `action.yml`, read from `INPUT_*`.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// `config-path`: the config file in the workspace.
    pub config_path: String,
    /// `fail-on`: what fails the step.
    pub fail_on: FailOn,
    /// `dry-run`: report, write nothing to GitHub.
    pub dry_run: bool,
    /// The account the token posts as (`bot-login`): its comments and
    /// check runs are the Action's own. Default `github-actions[bot]`.
    pub bot_login: String,
    /// Inputs that mirror config keys, as (input name, value), set ones only.
    pub overrides: Vec<(&'static str, String)>,
}

/// Inputs that mirror a config key: input name, YAML section, key, and
/// whether the value is a comma-separated list.
const CONFIG_INPUTS: &[(&str, &str, &str, bool)] = &[
    ("keywords", "annotations", "keywords", true),
    ("labels", "issues", "labels", true),
    ("max-new-per-run", "issues", "max_new_per_run", false),
    ("assign-owner", "issues", "assign_owner", false),
    ("dashboard", "dashboard", "enabled", false),
    ("debt-share", "sprints", "debt_share", false),
    ("capacity-points", "sprints", "capacity_points", false),
    ("drift-check", "drift", "check", false),
];

/// Who `GITHUB_TOKEN` posts as.
const ACTIONS_BOT_LOGIN: &str = "github-actions[bot]";

/// Everything the Action reads from its environment.
#[derive(Debug, Clone)]
pub struct ActionEnv {
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
    /// `GITHUB_EVENT_PATH`: the event payload.
    pub event_path: PathBuf,
    /// `GITHUB_REPOSITORY` (`owner/name`).
    pub repository: String,
    /// The API base (`GITHUB_API_URL`, GitHub Enterprise Server's included).
    pub api_url: String,
    /// `GITHUB_SHA`: the commit the workflow runs on.
    pub sha: String,
    /// `GITHUB_WORKSPACE`: the checked-out tree (may be empty).
    pub workspace: PathBuf,
    /// `GITHUB_TOKEN` (action.yml passes its `github-token` input): who paydown writes as.
    pub token: String,
    /// `GITHUB_OUTPUT`: where step outputs go.
    pub output_path: Option<PathBuf>,
    /// `GITHUB_STEP_SUMMARY`: where the job summary goes.
    pub summary_path: Option<PathBuf>,
    /// The inputs of `action.yml`.
    pub inputs: Inputs,
}

impl ActionEnv {
    /// Reads the workflow environment through `var` (the process
    /// environment in production, a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ActionError> {
        let need = |name: &'static str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ActionError::MissingEnv(name))
        };
        let input = |name: &str| {
            var(&format!("INPUT_{}", name.to_ascii_uppercase()))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let fail_on = match input("fail-on").as_deref() {
            None | Some("never") => FailOn::Never,
            Some("new-debt") => FailOn::NewDebt,
            Some("drift") => FailOn::Drift,
            Some(other) => {
                return Err(ActionError::Input {
                    input: "fail-on".into(),
                    message: format!("`{other}` is not one of never, new-debt, drift"),
                });
            }
        };
        let dry_run = match input("dry-run").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ActionError::Input {
                    input: "dry-run".into(),
                    message: format!("`{other}` is not true or false"),
                });
            }
        };
        let overrides = CONFIG_INPUTS
            .iter()
            .filter_map(|(name, ..)| input(name).map(|v| (*name, v)))
            .collect();
        Ok(Self {
            event_name: need("GITHUB_EVENT_NAME")?,
            event_path: need("GITHUB_EVENT_PATH")?.into(),
            repository: need("GITHUB_REPOSITORY")?,
            api_url: paydown_github::api_base_from(&var),
            sha: need("GITHUB_SHA")?,
            workspace: var("GITHUB_WORKSPACE").unwrap_or_else(|| ".".into()).into(),
            token: need("GITHUB_TOKEN")?,
            output_path: var("GITHUB_OUTPUT")
                .filter(|v| !v.is_empty())
                .map(Into::into),
            summary_path: var("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(Into::into),
            inputs: Inputs {
                config_path: input("config-path")
                    .unwrap_or_else(|| paydown_config::DEFAULT_PATH.to_string()),
                fail_on,
                dry_run,
                bot_login: input("bot-login").unwrap_or_else(|| ACTIONS_BOT_LOGIN.to_string()),
                overrides,
            },
        })
    }
}

/// The configuration for this run: the file at `config-path` in the
/// workspace (defaults when absent), with the config-mirroring inputs on
/// top. The inputs are validated by the config crate itself, so they obey
/// exactly the file's rules.
pub fn load_config(workspace: &Path, inputs: &Inputs) -> Result<Config, ActionError> {
    let path = workspace.join(&inputs.config_path);
    let text = if path.is_file() {
        Some(
            std::fs::read_to_string(&path).map_err(|e| ActionError::Config {
                path: inputs.config_path.clone(),
                source: e.into(),
            })?,
        )
    } else {
        None
    };
    config_with_inputs(text.as_deref(), inputs)
}

/// The config file's text (`None`: absent, the defaults) with the
/// config-mirroring inputs on top.
pub fn config_with_inputs(text: Option<&str>, inputs: &Inputs) -> Result<Config, ActionError> {
    let mut config = match text {
        Some(text) => {
            paydown_config::parse(text, &inputs.config_path).map_err(|e| ActionError::Config {
                path: inputs.config_path.clone(),
                source: e.into(),
            })?
        }
        None => Config::default(),
    };
    if inputs.overrides.is_empty() {
        return Ok(config);
    }
    let overlay = overlay_yaml(&inputs.overrides);
    let from_inputs =
        paydown_config::parse(&overlay, "action inputs").map_err(|e| ActionError::Input {
            input: inputs
                .overrides
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
            message: e.to_string(),
        })?;
    for (name, _) in &inputs.overrides {
        match *name {
            "keywords" => config.annotations.keywords = from_inputs.annotations.keywords.clone(),
            "labels" => config.issues.labels = from_inputs.issues.labels.clone(),
            "max-new-per-run" => config.issues.max_new_per_run = from_inputs.issues.max_new_per_run,
            "assign-owner" => config.issues.assign_owner = from_inputs.issues.assign_owner,
            "dashboard" => config.dashboard.enabled = from_inputs.dashboard.enabled,
            "debt-share" => config.sprints.debt_share = from_inputs.sprints.debt_share,
            "capacity-points" => {
                config.sprints.capacity_points = from_inputs.sprints.capacity_points;
            }
            "drift-check" => config.drift.check = from_inputs.drift.check,
            _ => {}
        }
    }
    Ok(config)
}

/// The inputs as a config document. Lists and anything that is not a plain
/// word are written as JSON strings (valid YAML), so an input can never
/// inject structure; the config crate then checks types and ranges.
fn overlay_yaml(overrides: &[(&'static str, String)]) -> String {
    let mut sections: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, value) in overrides {
        let Some((_, section, key, list)) = CONFIG_INPUTS.iter().find(|(n, ..)| n == name) else {
            continue;
        };
        let rendered = if *list {
            let items: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| serde_json::Value::String(s.to_string()).to_string())
                .collect();
            format!("[{}]", items.join(", "))
        } else if value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
        {
            value.clone()
        } else {
            serde_json::Value::String(value.clone()).to_string()
        };
        sections
            .entry(section)
            .or_default()
            .push(format!("  {key}: {rendered}"));
    }
    let mut out = String::new();
    for (section, lines) in sections {
        let _ = writeln!(out, "{section}:");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// What one Action run found and did, for outputs, summary and exit code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionReport {
    /// Debt annotations in the scanned tree.
    pub total: usize,
    /// Annotations added (pull request) or debt issues opened (push).
    pub added: usize,
    /// Annotations removed (pull request) or debt issues closed (push).
    pub removed: usize,
    /// The pull request makes reserved debt capacity drift.
    pub drift: bool,
    /// Markdown for the job summary.
    pub summary: String,
    /// Workflow commands (`::notice file=…::…`) for stdout.
    pub annotations: Vec<String>,
    /// Some effects failed (each is in the summary).
    pub failed: bool,
}

impl ActionReport {
    /// A warning for the job summary and the step's annotations.
    fn warn(&mut self, warning: &str) {
        let _ = writeln!(
            self.summary,
            "\n> **Warning:** {}",
            warning.replace('\n', " ")
        );
        self.annotations
            .push(format!("::warning::{}", command_data(warning)));
    }

    /// GitHub refused writes because the token lacks a permission
    /// (`(message, X-Accepted-GitHub-Permissions)` pairs): the step fails
    /// with exit 1, names the permissions and prints the `permissions:`
    /// block that grants them, in the log and in the job summary.
    fn refused_for_permissions(&mut self, refusals: &[(String, String)]) {
        let mut needed: BTreeMap<String, String> = BTreeMap::new();
        for (_, accepted) in refusals {
            for (name, level) in paydown_github::workflow_permissions(accepted) {
                needed.insert(name, level);
            }
        }
        let named: Vec<String> = needed.iter().map(|(n, l)| format!("{n}: {l}")).collect();
        let block = permissions_block(&needed);
        let _ = write!(
            self.summary,
            "\n> **Error:** GitHub refused {} write(s): the workflow token lacks `{}` ({}).\n> Add this to the workflow (or the job):\n\n```yaml\n{block}```\n",
            refusals.len(),
            named.join("`, `"),
            refusals[0].0.replace('\n', " "),
        );
        self.annotations.push(format!(
            "::error::{}",
            command_data(&format!(
                "GitHub refused {} write(s): the workflow token lacks {}. Add to the workflow:\n{block}",
                refusals.len(),
                named.join(", ")
            ))
        ));
        self.failed = true;
    }

    /// Whether `fail-on` fails the step.
    pub fn fails(&self, fail_on: FailOn) -> bool {
        match fail_on {
            FailOn::Never => false,
            FailOn::NewDebt => self.added > 0,
            FailOn::Drift => self.drift,
        }
    }

    /// `GITHUB_OUTPUT` lines.
    pub fn outputs(&self) -> String {
        format!(
            "total={}\nadded={}\nremoved={}\ndrift={}\n",
            self.total, self.added, self.removed, self.drift
        )
    }
}

/// Runs the Action for the event in `env`.
pub async fn run(env: &ActionEnv) -> Result<ActionReport, ActionError> {
    // The checked-out config (the default branch's, except on pull
    // requests, which read their base's instead).
    let workspace_config = || load_config(&env.workspace, &env.inputs);
    let repo = Repo::parse(&env.repository)?;
    let payload = std::fs::read(&env.event_path).map_err(|e| ActionError::Event {
        path: env.event_path.display().to_string(),
        source: e.into(),
    })?;
    // `GITHUB_TOKEN` posts as `github-actions[bot]` (another token: the
    // `bot-login` input): only that account's markers and check runs are
    // the Action's own, not other bots'.
    let client = Client::from_token(&env.api_url, env.token.clone())?
        // Paced like the App's writes (docs/reliability.md).
        .with_pacer(paydown_github::pacing::LocalPacer::from_env()?)
        .with_identity(paydown_github::BotIdentity::login(
            env.inputs.bot_login.clone(),
        ));
    match env.event_name.as_str() {
        "schedule" | "workflow_dispatch" => {
            sync(&client, &repo, env, workspace_config()?, None).await
        }
        name => {
            let event = parse_event(name, &payload).map_err(|e| ActionError::Event {
                path: env.event_path.display().to_string(),
                source: e.into(),
            })?;
            match event {
                Event::Push(push) => {
                    let branch = push.repository.default_branch.clone();
                    match branch {
                        Some(branch)
                            if paydown_events::push_changes_default_branch(
                                &push.git_ref,
                                push.deleted,
                                &branch,
                            ) =>
                        {
                            let head = Head {
                                branch,
                                sha: push.after.clone(),
                            };
                            sync(&client, &repo, env, workspace_config()?, Some(head)).await
                        }
                        _ => Ok(not_acted_on(&format!(
                            "`push` to `{}`: only the default branch changes debt issues.",
                            push.git_ref
                        ))),
                    }
                }
                Event::PullRequest(pr) => {
                    // The rules of the branch the PR merges into: the
                    // workspace holds the PR's own version, which its
                    // author controls (`drift.check: off`, …).
                    let text = paydown_sync::fetch::file_text_at(
                        &client,
                        &repo,
                        &env.inputs.config_path,
                        &pr.pull_request.base.sha,
                    )
                    .await?;
                    let config = config_with_inputs(text.as_deref(), &env.inputs)?;
                    let from_fork = head_is_fork(&payload);
                    pull_request(&client, &repo, env, &config, &pr, from_fork).await
                }
                Event::IssueComment(_) => {
                    comment(&client, env, &workspace_config()?, &payload).await
                }
                Event::Issues(ev) => {
                    // An incident issue changed: re-count by syncing (the
                    // planner writes only what differs). An issue that may
                    // have stopped being one counts too: a workflow keeps no
                    // record of which were.
                    let config = workspace_config()?;
                    match paydown_app::incident_issue(&ev, &config.incidents.labels) {
                        IncidentIssue::Incident
                        | IncidentIssue::NotIncident {
                            may_have_been: true,
                        } => sync(&client, &repo, env, config, None).await,
                        _ => Ok(not_acted_on(&format!(
                            "`issues` event on #{}: not an incident issue (`incidents.labels`).",
                            ev.issue.number
                        ))),
                    }
                }
                other => Ok(not_acted_on(&format!(
                    "paydown does nothing on `{}` events.",
                    other.name()
                ))),
            }
        }
    }
}

/// The `permissions:` block paydown needs, with `needed` raised where a
/// refusal asked for more: setting `permissions:` drops every permission
/// not listed, so the block lists all of paydown's.
fn permissions_block(needed: &BTreeMap<String, String>) -> String {
    let mut block: BTreeMap<String, String> = [
        ("checks", "write"),
        ("contents", "read"),
        ("issues", "write"),
        ("pull-requests", "write"),
    ]
    .into_iter()
    .map(|(n, l)| (n.to_string(), l.to_string()))
    .collect();
    for (name, level) in needed {
        let keep_write = block.get(name).is_some_and(|l| l == "write");
        if !keep_write {
            block.insert(name.clone(), level.clone());
        }
    }
    let mut out = String::from("permissions:\n");
    for (name, level) in &block {
        let _ = writeln!(out, "  {name}: {level}");
    }
    out
}

fn not_acted_on(why: &str) -> ActionReport {
    ActionReport {
        summary: format!("### paydown\n\n{why}\n"),
        ..ActionReport::default()
    }
}

/// Push to the default branch, schedule, workflow_dispatch: the same
/// reconcile as the App and `paydown sync`.
async fn sync(
    client: &Client,
    repo: &Repo,
    env: &ActionEnv,
    config: Config,
    head: Option<Head>,
) -> Result<ActionReport, ActionError> {
    // The incident issues of the repository and of `incidents.repositories`
    // (the Action cannot receive PagerDuty or generic incident webhooks).
    // Reading them is best effort: without them the sync leaves the
    // priority and hot labels alone.
    let mut warnings = Vec::new();
    let incidents = match paydown_sync::fetch::incident_issues(client, repo, &config).await {
        Ok((incidents, skipped)) => {
            warnings.extend(skipped);
            (!incidents.is_empty()).then_some(incidents)
        }
        Err(e) => {
            warnings.push(format!("cannot list incident issues: {e}"));
            None
        }
    };
    let incident_count = incidents.as_ref().map_or(0, Vec::len);
    let dashboard = DashboardInput {
        config: &config,
        freshness: Freshness::Current,
    };
    let options = SyncOptions {
        dry_run: env.inputs.dry_run,
        head,
        config: Some(config.clone()),
        incidents,
        ..SyncOptions::for_api(&env.api_url)
    };
    // The dashboard's sprint budget comes from the API: a workflow keeps no
    // cache.
    let synced =
        paydown_app::sync_with_dashboard(client, repo, dashboard, &ApiRecords, options, None, None)
            .await;
    let outcome = match synced {
        Ok(synced) => synced.outcome,
        // A token without a permission the sync needs is the workflow's
        // `permissions:` block, not a wrong environment: say which one.
        Err(e) => match e.github() {
            Some(GitHubError::MissingPermission {
                message, accepted, ..
            }) => {
                let mut report = not_acted_on("GitHub refused the sync.");
                report.refused_for_permissions(&[(message.clone(), accepted.clone())]);
                return Ok(report);
            }
            _ => return Err(e.into()),
        },
    };
    let s = &outcome.plan.summary;
    let mut summary = String::from("### paydown: debt issues\n\n");
    let _ = writeln!(
        summary,
        "{} debt annotations on `{}` at `{}`.\n",
        outcome.annotations,
        outcome.branch,
        &outcome.sha[..outcome.sha.len().min(12)]
    );
    if incident_count > 0 {
        let _ = writeln!(
            summary,
            "{incident_count} incident issues counted for priority and `debt:hot`.\n"
        );
    }
    summary.push_str("```\n");
    summary.push_str(&crate::output::sync_text(&outcome));
    summary.push_str("```\n");
    // Outputs count what GitHub accepted, not what was planned (a dry run
    // reports its plan).
    let (added, removed) = match &outcome.applied {
        Some(applied) => (applied.created.len() + applied.reopened, applied.closed),
        None => (s.create + s.reopen, s.close),
    };
    let mut report = ActionReport {
        total: outcome.annotations,
        added,
        removed,
        drift: false,
        summary,
        annotations: Vec::new(),
        failed: outcome
            .applied
            .as_ref()
            .is_some_and(|a| !a.failures.is_empty()),
    };
    let mut refusals: Vec<(String, String)> = outcome
        .applied
        .iter()
        .flat_map(|a| &a.failures)
        .filter_map(|f| Some((f.error.clone(), f.missing_permission.clone()?)))
        .collect();
    if let paydown_sync::DashboardWrite::Refused { message, accepted } = &outcome.dashboard {
        refusals.push((message.clone(), accepted.clone()));
    }
    if !refusals.is_empty() {
        report.refused_for_permissions(&refusals);
    }
    for warning in &warnings {
        report.warn(warning);
    }
    Ok(report)
}

/// A pull request: the debt it adds and removes (sticky comment, check
/// run, workflow annotations) and, when it draws on the sprint budget, the
/// drift check — the App's `pull_request` handling, with the ledger read
/// from the API instead of the App's cache.
async fn pull_request(
    client: &Client,
    repo: &Repo,
    env: &ActionEnv,
    config: &Config,
    ev: &PullRequestEvent,
    from_fork: bool,
) -> Result<ActionReport, ActionError> {
    let pr = &ev.pull_request;
    // A fork's pull_request runs with a read-only token: report through the
    // job summary and annotations, write nothing (docs/action.md).
    let dry_run = env.inputs.dry_run || from_fork;
    let html_base = paydown_sync::html_base_for(&env.api_url);
    let input = PullRequestInput {
        action: ev.action.clone(),
        pr,
        dry_run,
        html_base: &html_base,
    };
    // A merge is checked against the budget once more (the sprint it lands
    // in decides); its debt issues are synced by the push it makes.
    let outcome = paydown_app::on_pull_request(client, repo, config, input, &ApiRecords).await?;
    let PullRequestOutcome::Checked { review, drift, .. } = outcome else {
        return Ok(not_acted_on(&format!(
            "`pull_request` `{}`: nothing to report.",
            ev.action.as_str()
        )));
    };
    let mut report = ActionReport {
        total: workspace_total(env, config)?,
        ..ActionReport::default()
    };
    if from_fork {
        let why = "this pull request comes from a fork, so the workflow token is read-only: \
                   the sticky comment and the check runs are skipped; the report is in this \
                   job summary and the annotations.";
        let _ = writeln!(report.summary, "> **Note:** {why}\n");
        report
            .annotations
            .push(format!("::notice title=paydown::{}", command_data(why)));
    }
    match &review {
        Some(Reviewed::Done(outcome)) => review_into(&mut report, outcome),
        // A review GitHub refuses does not cost the PR its budget check.
        Some(Reviewed::Refused(e)) => report.warn(&format!("the debt review failed: {e}")),
        None => {}
    }
    if let Some(verdict) = &drift.verdict {
        report.drift = verdict.drifting && verdict.accepted.is_none();
        let _ = writeln!(
            report.summary,
            "\n### paydown: sprint budget\n\nThis PR is {} work worth {} points; {}.",
            drift.classification.class.as_str(),
            drift.classification.points,
            if report.drift {
                "it makes reserved debt capacity drift to feature work"
            } else if verdict.drifting {
                "the drift it causes was accepted"
            } else {
                "the sprint's debt reservation holds"
            }
        );
    }
    for warning in &drift.warnings {
        report.warn(warning);
    }
    Ok(report)
}

/// Whether the pull request's head lives in another repository (a fork,
/// or a deleted one): GitHub then gives the workflow a read-only token.
fn head_is_fork(payload: &[u8]) -> bool {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return false;
    };
    let base = event
        .pointer("/repository/full_name")
        .and_then(|v| v.as_str());
    match event.pointer("/pull_request/head/repo") {
        Some(serde_json::Value::Null) => true,
        Some(head) => match (head.get("full_name").and_then(|v| v.as_str()), base) {
            (Some(head), Some(base)) => !head.eq_ignore_ascii_case(base),
            _ => false,
        },
        None => false,
    }
}

/// The PR review's counts, line annotations, summary and warnings.
fn review_into(report: &mut ActionReport, outcome: &paydown_review::ReviewOutcome) {
    let counts = outcome.counts();
    report.added = counts.added as usize;
    report.removed = counts.removed as usize;
    report
        .annotations
        .extend(outcome.check_annotations.iter().map(|a| {
            workflow_annotation(
                a.annotation_level,
                &a.path,
                a.start_line as usize,
                &a.title,
                &a.message,
            )
        }));
    report
        .summary
        .push_str(&paydown_review::markdown_summary(outcome));
    for warning in &outcome.warnings {
        report.warn(warning);
    }
}

/// Annotations in the checked-out workspace (the PR's head), for the
/// `total` output; 0 when the workflow did not check the code out.
fn workspace_total(env: &ActionEnv, config: &Config) -> Result<usize, ActionError> {
    if !env.workspace.is_dir() {
        return Ok(0);
    }
    let settings = paydown_scan::ScanSettings::from_config(config);
    let scan = paydown_scan::scan_paths(
        std::slice::from_ref(&env.workspace),
        &env.workspace,
        &settings,
        &(),
    )
    .map_err(|e| ActionError::Config {
        path: env.inputs.config_path.clone(),
        source: e.into(),
    })?;
    Ok(scan.annotations.len())
}

/// `issue_comment`: slash commands, through the same entry point as the App.
async fn comment(
    client: &Client,
    env: &ActionEnv,
    config: &Config,
    payload: &[u8],
) -> Result<ActionReport, ActionError> {
    let event =
        paydown_commands::CommentEvent::from_payload(payload).map_err(|e| ActionError::Event {
            path: env.event_path.display().to_string(),
            source: e.into(),
        })?;
    let options = paydown_commands::RunOptions {
        // A workflow has no App slug: only the `/debt` prefix form works.
        app_slug: String::new(),
        html_base: paydown_sync::html_base_for(&env.api_url),
    };
    let outcome = paydown_app::on_comment(client, config, &event, &options, None).await?;
    let refresh_dashboard = outcome.refresh_dashboard;
    let outcome = outcome.run;
    let mut summary = match &outcome.skipped {
        Some(why) => format!("### paydown\n\nNo commands run: {why:?}.\n"),
        None => format!(
            "### paydown\n\nRan {} command{} from comment {}.\n",
            outcome.results.len(),
            if outcome.results.len() == 1 { "" } else { "s" },
            event.comment_id
        ),
    };
    if refresh_dashboard {
        // The dashboard lists overrides and accepted drifts: rewrite it now,
        // as the App does.
        let synced = sync(client, &event.repo, env, config.clone(), None).await?;
        summary.push_str(&synced.summary);
    }
    Ok(ActionReport {
        summary,
        ..ActionReport::default()
    })
}

/// Appends `text` to the file a workflow variable names.
pub fn append(path: &Path, what: &'static str, text: &str) -> Result<(), ActionError> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| ActionError::Write {
            what,
            path: path.display().to_string(),
            source,
        })
}

/// Text escaped as a workflow command's message, so it cannot end the
/// command or start another.
fn command_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command annotating a line (`::notice file=…,line=…::…`),
/// escaped as the runner expects so a message cannot end the command early.
pub fn workflow_annotation(
    level: &str,
    path: &str,
    line: usize,
    title: &str,
    message: &str,
) -> String {
    fn property(s: &str) -> String {
        command_data(s).replace(':', "%3A").replace(',', "%2C")
    }
    format!(
        "::{level} file={},line={line},title={}::{}",
        property(path),
        property(title),
        command_data(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_EVENT_PATH", "/tmp/event.json"),
        ("GITHUB_REPOSITORY", "octo-org/octo-repo"),
        ("GITHUB_SHA", "abc"),
        ("GITHUB_TOKEN", "t"),
    ];

    #[test]
    fn missing_workflow_variables_are_named() {
        let err = ActionEnv::from_vars(vars(&BASE[1..])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "GITHUB_EVENT_NAME is not set; `paydown action` runs inside a GitHub Actions workflow"
        );
    }

    #[test]
    fn inputs_are_read_and_checked() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("INPUT_FAIL-ON", "new-debt"),
            ("INPUT_DEBT-SHARE", "0.3"),
            ("INPUT_KEYWORDS", "TODO, FIXME"),
            ("INPUT_LABELS", ""),
        ]);
        let env = ActionEnv::from_vars(vars(&pairs)).unwrap();
        assert_eq!(env.inputs.fail_on, FailOn::NewDebt);
        assert_eq!(env.inputs.config_path, ".github/paydown.yml");
        assert_eq!(
            env.inputs.overrides,
            vec![
                ("keywords", "TODO, FIXME".to_string()),
                ("debt-share", "0.3".to_string())
            ],
            "empty inputs are unset"
        );
        assert_eq!(env.api_url, "https://api.github.com");
        assert_eq!(env.inputs.bot_login, "github-actions[bot]");
        let mut with_login = pairs.clone();
        with_login.push(("INPUT_BOT-LOGIN", "paydown[bot]"));
        let env = ActionEnv::from_vars(vars(&with_login)).unwrap();
        assert_eq!(env.inputs.bot_login, "paydown[bot]");

        pairs.push(("INPUT_FAIL-ON", "sometimes"));
        let err = ActionEnv::from_vars(vars(&pairs)).unwrap_err();
        assert!(
            err.to_string()
                .contains("`sometimes` is not one of never, new-debt, drift")
        );
    }

    #[test]
    fn config_inputs_override_the_file_and_obey_its_rules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".github")).unwrap();
        std::fs::write(
            dir.path().join(".github/paydown.yml"),
            "sprints:\n  debt_share: 0.5\n  capacity_points: 30\n",
        )
        .unwrap();
        let inputs = |overrides: Vec<(&'static str, String)>| Inputs {
            config_path: ".github/paydown.yml".into(),
            fail_on: FailOn::Never,
            dry_run: false,
            bot_login: ACTIONS_BOT_LOGIN.into(),
            overrides,
        };

        let config = load_config(
            dir.path(),
            &inputs(vec![
                ("debt-share", "0.3".into()),
                ("keywords", "TODO,DEBT".into()),
                ("drift-check", "failure".into()),
            ]),
        )
        .unwrap();
        assert_eq!(config.sprints.debt_share, 0.3);
        assert_eq!(
            config.sprints.capacity_points,
            Some(30),
            "the file's other keys stay"
        );
        assert_eq!(config.annotations.keywords, vec!["TODO", "DEBT"]);
        assert_eq!(config.drift.check, paydown_config::CheckMode::Failure);

        let err = load_config(dir.path(), &inputs(vec![("debt-share", "1.5".into())]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("input `debt-share`:"), "{err}");
        assert!(err.contains("debt_share"), "{err}");

        let err = load_config(
            dir.path(),
            &inputs(vec![("max-new-per-run", "5\nissues: {}".into())]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("max_new_per_run"),
            "no structure injected: {err}"
        );
    }

    #[test]
    fn a_broken_config_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("paydown.yml"), "sprints: [").unwrap();
        let err = load_config(
            dir.path(),
            &Inputs {
                config_path: "paydown.yml".into(),
                fail_on: FailOn::Never,
                dry_run: false,
                bot_login: ACTIONS_BOT_LOGIN.into(),
                overrides: vec![],
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("paydown.yml:"), "{err}");
    }

    #[test]
    fn workflow_annotations_cannot_be_broken_out_of() {
        assert_eq!(
            workflow_annotation("notice", "src/a,b.rs", 3, "TODO: x", "100%\nnext"),
            "::notice file=src/a%2Cb.rs,line=3,title=TODO%3A x::100%25%0Anext"
        );
    }

    #[test]
    fn fail_on_decides_the_exit() {
        let report = ActionReport {
            added: 1,
            ..ActionReport::default()
        };
        assert!(report.fails(FailOn::NewDebt));
        assert!(!report.fails(FailOn::Drift));
        assert!(!report.fails(FailOn::Never));
        assert_eq!(
            report.outputs(),
            "total=0\nadded=1\nremoved=0\ndrift=false\n"
        );
    }
}
