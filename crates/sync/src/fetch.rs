//! Reading what is: the default branch's head, the config at that commit,
//! the tree as one tarball scanned in a stream, and the tracked issues.

use paydown_config::Config;
use paydown_github::{Client, GitHubError, Repo, encode_path};
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
}

#[derive(Deserialize)]
struct LabelJson {
    name: String,
}

#[derive(Deserialize)]
struct UserJson {
    login: String,
}

/// Every issue (open or closed) carrying [`TRACKING_LABEL`] and an item
/// marker, plus the issues annotations name by `#N` (`named`) that aren't
/// among them: those are adopted by the annotation even without a marker.
pub async fn tracked_issues(
    client: &Client,
    repo: &Repo,
    named: &[u64],
) -> Result<Vec<ExistingIssue>, GitHubError> {
    let route = repo.route(&format!(
        "/issues?state=all&labels={}&per_page=100",
        encode_path(TRACKING_LABEL)
    ));
    let listed: Vec<IssueJson> = client.get_all(&route).await?;
    let mut issues: Vec<ExistingIssue> = listed
        .into_iter()
        .filter(|i| i.pull_request.is_none())
        .map(existing_issue)
        .filter(|i| i.marker.is_some())
        .collect();
    for &number in named {
        if issues.iter().any(|i| i.number == number) {
            continue;
        }
        match client.get_json::<IssueJson>(&repo.issue(number)).await {
            Ok(json) if json.pull_request.is_none() => issues.push(existing_issue(json)),
            Ok(_) => {}
            // An annotation naming an issue that doesn't exist gets a new
            // issue of its own; the planner decides that.
            Err(e) if matches!(e.status(), Some(404 | 410)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(issues)
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
