//! Reading what is: the default branch's head, the config at that commit,
//! the tree as one tarball scanned in a stream, and the tracked issues.

use chrono::{DateTime, NaiveDate, Utc};
use paydown_config::Config;
use paydown_github::models::{Commit, Issue, PullRequest};
use paydown_github::{Client, GitHubError, Repo, encode_path};
use paydown_markers::{closed_by_bot, dashboard};
use paydown_reconcile::{ExistingIssue, IssueState};
use paydown_scan::{ScanReport, ScanSettings, TarballLimits, scan_tarball};
use serde::{Deserialize, Serialize};

use crate::{SyncError, TRACKING_LABEL};

/// The default branch and the commit it points at.
#[derive(Debug, Clone)]
pub struct Head {
    /// The branch name.
    pub branch: String,
    /// The commit SHA it points at.
    pub sha: String,
}

/// Only the default branch is read of the repository.
#[derive(Deserialize)]
struct RepoJson {
    default_branch: String,
}

/// Asks GitHub for the repository's default branch and the commit it points at.
pub async fn default_branch_head(client: &Client, repo: &Repo) -> Result<Head, GitHubError> {
    let info: RepoJson = client.get_json(&repo.route("")).await?;
    let commit: Commit = client
        .get_json(&repo.route(&format!("/commits/{}", encode_path(&info.default_branch))))
        .await?;
    Ok(Head {
        branch: info.default_branch,
        sha: commit.sha,
    })
}

/// The config at `sha`: the file's settings, or the defaults when there is
/// no file. A broken file also yields the defaults, with its errors
/// returned so they can be shown (on the dashboard, in the CLI) rather
/// than silently ignored.
pub async fn config_at(
    client: &Client,
    repo: &Repo,
    sha: &str,
) -> Result<(Config, Vec<String>), GitHubError> {
    let text = config_text_at(client, repo, sha).await?;
    let in_force = crate::resolve_config(text.as_deref(), None);
    Ok((in_force.config, in_force.errors))
}

/// The text of `.github/paydown.yml` at `sha`; `None` when there is no
/// such file. Kept by callers that remember the config between runs.
pub async fn config_text_at(
    client: &Client,
    repo: &Repo,
    sha: &str,
) -> Result<Option<String>, GitHubError> {
    file_text_at(client, repo, paydown_config::DEFAULT_PATH, sha).await
}

/// The text of `path` at `sha` (invalid UTF-8 replaced), `None` when the
/// commit has no such file.
pub async fn file_text_at(
    client: &Client,
    repo: &Repo,
    path: &str,
    sha: &str,
) -> Result<Option<String>, GitHubError> {
    Ok(client
        .file_at(repo, path, sha)
        .await?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Scans the whole tree at `sha` from one tarball download, streamed: the
/// scanner reads the body on a blocking thread as it arrives, so the
/// tarball is never held whole in memory, and reading stops at
/// [`TarballLimits::max_download_bytes`] compressed bytes (sooner when the
/// server announces a larger `Content-Length`).
pub async fn scan_commit(
    client: &Client,
    repo: &Repo,
    sha: &str,
    config: &Config,
    limits: TarballLimits,
) -> Result<ScanReport, SyncError> {
    let tarball_error = |source| SyncError::Tarball {
        repo: repo.to_string(),
        sha: sha.to_string(),
        source,
    };
    let body = client
        .get_stream(
            &repo.route(&format!("/tarball/{}", encode_path(sha))),
            "application/vnd.github+json",
        )
        .await?;
    if body
        .content_length()
        .is_some_and(|announced| announced > limits.max_download_bytes)
    {
        return Err(tarball_error(
            paydown_scan::TarballError::DownloadTooLarge {
                limit: limits.max_download_bytes,
            },
        ));
    }
    let settings = ScanSettings::from_config(config);
    // Reading the body blocks, and decompressing and lexing a large tree
    // is CPU work: both stay off the async workers.
    tokio::task::spawn_blocking(move || scan_tarball(body, &settings, limits))
        .await
        .map_err(|e| SyncError::Join(e.to_string()))?
        .map_err(tarball_error)
}

/// What the bot's label finds on GitHub.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tracked {
    /// Debt issues (with an item marker), open and closed.
    pub issues: Vec<ExistingIssue>,
    /// When each debt issue was opened and closed, by number, for the
    /// dashboard's history and "recently paid down".
    pub dates: Vec<IssueDates>,
    /// The dashboard issue, when there is one.
    pub dashboard: Option<DashboardIssue>,
}

/// When a debt issue was opened and closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueDates {
    /// The issue number.
    pub number: u64,
    /// The issue title.
    pub title: String,
    /// The day it was opened.
    pub created: NaiveDate,
    /// The day it was closed, if it is closed.
    pub closed: Option<NaiveDate>,
}

/// The dashboard issue as last fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardIssue {
    /// The issue number.
    pub number: u64,
    /// Whether it is open (a closed dashboard is left closed).
    pub open: bool,
    /// Its body, compared before rewriting.
    pub body: String,
}

/// Every issue (open or closed) carrying [`TRACKING_LABEL`]: debt issues
/// by their item marker, the dashboard by its marker; plus the issues
/// annotations name by `#N` (`named`) that aren't among them, which the
/// annotation adopts even without a marker.
pub async fn tracked_issues(
    client: &Client,
    repo: &Repo,
    named: &[u64],
) -> Result<Tracked, GitHubError> {
    let route = repo.route(&format!(
        "/issues?state=all&labels={}&per_page=100",
        encode_path(TRACKING_LABEL)
    ));
    let listed: Vec<Issue> = client.get_all(&route).await?;
    let mut tracked = Tracked::default();
    for json in listed {
        tracked.merge_listed(json);
    }
    add_named(client, repo, &mut tracked, named).await?;
    Ok(tracked)
}

/// The issues carrying [`TRACKING_LABEL`] updated at or after `since`
/// (people closing, editing or relabelling them, and the bot's own
/// writes), as one listing.
pub(crate) async fn tracked_since(
    client: &Client,
    repo: &Repo,
    since: DateTime<Utc>,
) -> Result<Vec<Issue>, GitHubError> {
    let route = repo.route(&format!(
        "/issues?state=all&labels={}&since={}&per_page=100",
        encode_path(TRACKING_LABEL),
        encode_path(&since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    ));
    client.get_all(&route).await
}

/// Fetches the issues annotations name (`#N`) that are not tracked yet;
/// the annotation adopts them even without a marker.
pub(crate) async fn add_named(
    client: &Client,
    repo: &Repo,
    tracked: &mut Tracked,
    named: &[u64],
) -> Result<(), GitHubError> {
    for &number in named {
        if tracked.issues.iter().any(|i| i.number == number) {
            continue;
        }
        match client.get_json::<Issue>(&repo.issue(number)).await {
            Ok(json) if !json.is_pull_request() => tracked.issues.push(existing_issue(json)),
            Ok(_) => {}
            // An annotation naming an issue that doesn't exist gets a new
            // issue of its own; the planner decides that.
            Err(e) if matches!(e.status(), Some(404 | 410)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Tracked {
    /// Takes in one issue as the label listing returned it, replacing what
    /// was known of it: the dashboard by its marker, debt issues by their
    /// item marker. An issue that lost its marker leaves the debt issues.
    /// Returns the debt issue when it differs from what was known (a
    /// person closed, relabelled or edited it).
    pub(crate) fn merge_listed(&mut self, json: Issue) -> Option<ExistingIssue> {
        if json.is_pull_request() {
            return None;
        }
        let body = json.body.as_deref().unwrap_or_default();
        if dashboard::is_dashboard(body) {
            // The lowest-numbered dashboard wins, as for debt items.
            if self
                .dashboard
                .as_ref()
                .is_none_or(|d| d.number >= json.number)
            {
                self.dashboard = Some(DashboardIssue {
                    number: json.number,
                    open: json.state != "closed",
                    body: body.to_string(),
                });
            }
            return None;
        }
        self.dates.retain(|d| d.number != json.number);
        if let Some(created) = json.created_at {
            self.dates.push(IssueDates {
                number: json.number,
                title: json.title.clone(),
                created: created.date_naive(),
                closed: json.closed_at.map(|c| c.date_naive()),
            });
        }
        let issue = existing_issue(json);
        let known = self
            .issues
            .iter()
            .position(|i| i.number == issue.number)
            .map(|at| self.issues.remove(at));
        let changed = known.as_ref() != Some(&issue);
        if issue.marker.is_some() {
            self.issues.push(issue.clone());
        }
        changed.then_some(issue)
    }
}

fn existing_issue(json: Issue) -> ExistingIssue {
    let body = json.body.unwrap_or_default();
    let state = if json.state == "closed" {
        IssueState::Closed
    } else {
        IssueState::Open
    };
    let mut issue = ExistingIssue::new(json.number, state, &json.title, &body);
    issue.state_reason = json.state_reason;
    issue.labels = json.labels.into_iter().map(|l| l.name).collect();
    issue.assignees = json.assignees.into_iter().map(|u| u.login).collect();
    issue.has_milestone = json.milestone.is_some_and(|m| !m.is_null());
    issue.closed_by_bot = match state {
        IssueState::Open => None,
        // The bot marks the body when it closes an issue; a closed issue
        // without the mark was closed by a person.
        IssueState::Closed => Some(closed_by_bot::is_marked(&body)),
    };
    issue
}

/// The merged pull request that produced commit `sha`, when there is one
/// (`GET /repos/{o}/{r}/commits/{sha}/pulls`), for naming it in close
/// comments.
pub async fn merged_pull_request(
    client: &Client,
    repo: &Repo,
    sha: &str,
) -> Result<Option<u64>, GitHubError> {
    let route = repo.route(&format!("/commits/{}/pulls", encode_path(sha)));
    let pulls: Vec<PullRequest> = client.get_json(&route).await?;
    let merged = |p: &&PullRequest| p.merged_at.is_some();
    Ok(pulls
        .iter()
        .filter(merged)
        .find(|p| p.merge_commit_sha.as_deref() == Some(sha))
        .or_else(|| pulls.iter().find(merged))
        .map(|p| p.number))
}

/// The issue numbers annotations name (`#123`), sorted, once each: those
/// issues are the items' issues even without paydown's label.
pub fn named_issues(annotations: &[paydown_annotations::Annotation]) -> Vec<u64> {
    let mut named: Vec<u64> = annotations
        .iter()
        .filter_map(|a| a.metadata.issue)
        .collect();
    named.sort_unstable();
    named.dedup();
    named
}

/// The incident issues `repo` reads under `config`, from the API alone
/// (the Action and `paydown report --incidents`): issues, open or closed,
/// carrying one of `incidents.labels` in `repo` and in
/// `incidents.repositories`, one listing per repository and label. A
/// listed repository the token cannot read is skipped with a warning (the
/// second element); `repo`'s own listing failing is an error.
pub async fn incident_issues(
    client: &Client,
    repo: &Repo,
    config: &paydown_config::Config,
) -> Result<(Vec<paydown_incidents::Incident>, Vec<String>), GitHubError> {
    let now = chrono::Utc::now();
    let mut by_id: std::collections::BTreeMap<String, paydown_incidents::Incident> =
        std::collections::BTreeMap::new();
    let mut warnings = Vec::new();
    let mut sources = vec![repo.clone()];
    for name in &config.incidents.repositories {
        match Repo::parse(name) {
            Ok(other) if other.to_string() != repo.to_string() => sources.push(other),
            Ok(_) => {}
            Err(e) => warnings.push(format!("incidents.repositories: {e}")),
        }
    }
    for (n, source) in sources.iter().enumerate() {
        for label in &config.incidents.labels {
            let route = source.route(&format!(
                "/issues?state=all&labels={}&per_page=100",
                paydown_github::encode_segment(label)
            ));
            let listed: Vec<Issue> = match client.get_all(&route).await {
                Ok(listed) => listed,
                Err(e) if n > 0 => {
                    warnings.push(format!("cannot list incident issues of {source}: {e}"));
                    break;
                }
                Err(e) => return Err(e),
            };
            let home = source.to_string();
            for issue in listed.iter().filter(|i| !i.is_pull_request()) {
                let labels: Vec<String> = issue.labels.iter().map(|l| l.name.clone()).collect();
                let incident = paydown_incidents::from_issue(
                    &paydown_incidents::IssueFacts {
                        repository: &home,
                        number: issue.number,
                        title: &issue.title,
                        body: issue.body.as_deref().unwrap_or(""),
                        url: issue.html_url.as_deref(),
                        closed: issue.state == "closed",
                        created_at: issue.created_at,
                        closed_at: issue.closed_at,
                        labels: &labels,
                    },
                    now,
                );
                by_id.insert(incident.id.clone(), incident);
            }
        }
    }
    let mut incidents: Vec<_> = by_id.into_values().collect();
    incidents.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    Ok((incidents, warnings))
}
