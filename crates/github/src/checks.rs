//! Check runs as paydown reads them back: the newest run of one name on
//! one commit, so a writer can tell "already says this" from "needs a
//! write" without keeping its own record of what it posted.

use serde::Deserialize;

use crate::{Client, Repo, Result, encode_segment};

/// What GitHub shows of a check run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRunInfo {
    /// The run's id, for editing it.
    pub id: u64,
    /// The check's name (`paydown / debt`…).
    #[serde(default)]
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    #[serde(default)]
    pub status: Option<String>,
    /// `success`, `neutral`, `failure`… once completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Its title, summary and annotation count.
    #[serde(default)]
    pub output: CheckRunOutput,
    /// The App that made the run (GitHub lets only it edit the run).
    #[serde(default)]
    pub app: Option<CheckRunApp>,
}

/// A check run's `app`, as far as paydown needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CheckRunApp {
    /// The App's slug (`paydown` for `paydown[bot]`).
    #[serde(default)]
    pub slug: Option<String>,
}

/// A check run's `output`, without its annotations (only their count).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CheckRunOutput {
    /// The headline shown next to the check.
    #[serde(default)]
    pub title: Option<String>,
    /// The Markdown summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// How many annotations the run carries.
    #[serde(default)]
    pub annotations_count: usize,
}

#[derive(Deserialize)]
struct CheckRunList {
    #[serde(default)]
    check_runs: Vec<CheckRunInfo>,
}

/// The newest check run called `name` on commit `sha` made by this client's
/// own App (see [`Client::identity`]; one request, plus `GET /app` once per
/// App). Another App's run of the same name is never adopted: GitHub would
/// refuse to edit it, and its output is not paydown's.
pub async fn latest_check_run(
    client: &Client,
    repo: &Repo,
    sha: &str,
    name: &str,
) -> Result<Option<CheckRunInfo>> {
    // Who the bot is comes first: while GitHub cannot say, nothing is
    // adopted (and no listing is spent).
    let identity = client.identity().await?;
    let list: CheckRunList = client
        .get_json(&repo.route(&format!(
            "/commits/{}/check-runs?check_name={}&filter=latest",
            encode_segment(sha),
            encode_segment(name)
        )))
        .await?;
    Ok(list
        .check_runs
        .into_iter()
        .filter(|r| r.name == name)
        .filter(|r| identity.owns_app(r.app.as_ref().and_then(|a| a.slug.as_deref())))
        .max_by_key(|r| r.id))
}
