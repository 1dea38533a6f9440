//! Reading what is: the default branch's head, the config at that commit,
//! the tree as one tarball scanned in a stream, and the tracked issues.

use chrono::{DateTime, NaiveDate, Utc};
use paydown_config::Config;
use paydown_github::{Client, GitHubError, Repo, encode_path};
use paydown_reconcile::dashboard::DASHBOARD_MARKER;
use paydown_reconcile::{ExistingIssue, IssueState};
use paydown_scan::{ScanReport, ScanSettings, TarballLimits, scan_tarball};
use serde::Deserialize;

use crate::{CLOSED_BY_BOT_MARKER, SyncError, TRACKING_LABEL};

/// The default branch and the commit it points at.
#[derive(Debug, Clone)]
pub struct Head {
    pub branch: String,
    pub sha: String,
}

#[derive(Deserialize)]
struct RepoJson {
    default_branch: String,
}

#[derive(Deserialize)]
struct CommitJson {
    sha: String,
}

pub async fn default_branch_head(client: &Client, repo: &Repo) -> Result<Head, GitHubError> {
    let info: RepoJson = client.get_json(&repo.route("")).await?;
    let commit: CommitJson = client
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
    let route = repo.route(&format!(
        "/contents/{}?ref={}",
        encode_path(paydown_config::DEFAULT_PATH),
        encode_path(sha)
    ));
    match client.get_bytes(&route, "application/vnd.github.raw").await {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            match paydown_config::parse(&text, paydown_config::DEFAULT_PATH) {
                Ok(config) => Ok((config, Vec::new())),
                Err(errors) => Ok((
                    Config::default(),
                    errors.to_string().lines().map(str::to_string).collect(),
                )),
            }
        }
        Err(e) if e.status() == Some(404) => Ok((Config::default(), Vec::new())),
        Err(e) => Err(e),
    }
}

/// Scans the whole tree at `sha` from one tarball download.
pub async fn scan_commit(
    client: &Client,
    repo: &Repo,
    sha: &str,
    config: &Config,
    limits: TarballLimits,
) -> Result<ScanReport, SyncError> {
    let bytes = client
        .get_bytes(
            &repo.route(&format!("/tarball/{}", encode_path(sha))),
            "application/vnd.github+json",
        )
        .await?;
    let settings = ScanSettings::from_config(config);
    // Decompressing and lexing a large tree is CPU work: keep it off the
    // async workers.
    tokio::task::spawn_blocking(move || scan_tarball(&bytes[..], &settings, limits))
        .await
        .map_err(|e| SyncError::Join(e.to_string()))?
        .map_err(|source| SyncError::Tarball {
            repo: repo.to_string(),
            sha: sha.to_string(),
            source,
        })
}

#[derive(Deserialize)]
struct IssueJson {
    number: u64,
    state: String,
    #[serde(default)]
    state_reason: Option<String>,
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    labels: Vec<LabelJson>,
    #[serde(default)]
    assignees: Vec<UserJson>,
    #[serde(default)]
    milestone: Option<serde_json::Value>,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    closed_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct LabelJson {
    name: String,
}

#[derive(Deserialize)]
struct UserJson {
    login: String,
}

/// What the bot's label finds on GitHub.
#[derive(Debug, Clone, Default)]
pub struct Tracked {
    /// Debt issues (with an item marker), open and closed.
    pub issues: Vec<ExistingIssue>,
    /// When each debt issue was opened and closed, by number, for the
    /// dashboard's history and "recently paid down".
    pub dates: Vec<IssueDates>,
    /// The dashboard issue, when there is one.
    pub dashboard: Option<DashboardIssue>,
}

#[derive(Debug, Clone)]
pub struct IssueDates {
    pub number: u64,
    pub title: String,
    pub created: NaiveDate,
    pub closed: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct DashboardIssue {
    pub number: u64,
    pub open: bool,
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
    let listed: Vec<IssueJson> = client.get_all(&route).await?;
    let mut tracked = Tracked::default();
    for json in listed.into_iter().filter(|i| i.pull_request.is_none()) {
        let body = json.body.as_deref().unwrap_or_default();
        if body.contains(DASHBOARD_MARKER) {
            // The lowest-numbered dashboard wins, as for debt items.
            if tracked
                .dashboard
                .as_ref()
                .is_none_or(|d| d.number > json.number)
            {
                tracked.dashboard = Some(DashboardIssue {
                    number: json.number,
                    open: json.state != "closed",
                    body: body.to_string(),
                });
            }
            continue;
        }
        if let Some(created) = json.created_at {
            tracked.dates.push(IssueDates {
                number: json.number,
                title: json.title.clone(),
                created: created.date_naive(),
                closed: json.closed_at.map(|c| c.date_naive()),
            });
        }
        let issue = existing_issue(json);
        if issue.marker.is_some() {
            tracked.issues.push(issue);
        }
    }
    for &number in named {
        if tracked.issues.iter().any(|i| i.number == number) {
            continue;
        }
        match client.get_json::<IssueJson>(&repo.issue(number)).await {
            Ok(json) if json.pull_request.is_none() => tracked.issues.push(existing_issue(json)),
            Ok(_) => {}
            // An annotation naming an issue that doesn't exist gets a new
            // issue of its own; the planner decides that.
            Err(e) if matches!(e.status(), Some(404 | 410)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(tracked)
}

fn existing_issue(json: IssueJson) -> ExistingIssue {
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
        IssueState::Closed => Some(body.contains(CLOSED_BY_BOT_MARKER)),
    };
    issue
}

#[derive(Deserialize)]
struct PullJson {
    number: u64,
    #[serde(default)]
    merged_at: Option<String>,
    #[serde(default)]
    merge_commit_sha: Option<String>,
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
    let pulls: Vec<PullJson> = client.get_json(&route).await?;
    let merged = |p: &&PullJson| p.merged_at.is_some();
    Ok(pulls
        .iter()
        .filter(merged)
        .find(|p| p.merge_commit_sha.as_deref() == Some(sha))
        .or_else(|| pulls.iter().find(merged))
        .map(|p| p.number))
}
