//! `paydown report`: a repository's sprint ledger from the API alone,
//! rendered as text, Markdown or JSON by `paydown_ledger`.

use chrono::{DateTime, Utc};
use paydown_config::Config;
use paydown_github::{Client, Repo};
use paydown_ledger::{report_json, report_markdown, report_text};

use crate::BudgetError;
use crate::fetch::fetch_ledger;

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// For a terminal.
    Text,
    /// One JSON document, for scripts.
    Json,
    /// For an issue or a job summary.
    Markdown,
}

/// The ledger of the last `sprints` sprints (the current one included) up
/// to `now`, fetched with [`fetch_ledger`] and rendered in `format`.
pub async fn report(
    client: &Client,
    repo: &Repo,
    config: &Config,
    sprints: u32,
    format: ReportFormat,
    now: DateTime<Utc>,
) -> Result<String, BudgetError> {
    let (ledger, _) = fetch_ledger(client, repo, config, sprints, now).await?;
    let count = usize::try_from(sprints).unwrap_or(usize::MAX);
    Ok(match format {
        ReportFormat::Text => report_text(&ledger, now, count),
        ReportFormat::Markdown => report_markdown(&ledger, now, count),
        ReportFormat::Json => {
            let mut json = report_json(&ledger, now, count);
            json.push('\n');
            json
        }
    })
}

/// [`report`] as of the current time.
pub async fn report_now(
    client: &Client,
    repo: &Repo,
    config: &Config,
    sprints: u32,
    format: ReportFormat,
) -> Result<String, BudgetError> {
    report(client, repo, config, sprints, format, Utc::now()).await
}
