//! The incident a GitHub incident issue is, the same from a webhook, the
//! App's backfill listing, the Action and `paydown report --incidents`.

use chrono::{DateTime, Utc};

use crate::links::extract_references;
use crate::model::{Incident, Status, parse_severity};

/// What an incident issue says.
#[derive(Debug, Clone, Copy)]
pub struct IssueFacts<'a> {
    /// `owner/name` of the repository the issue lives in.
    pub repository: &'a str,
    /// The issue number.
    pub number: u64,
    /// The issue title.
    pub title: &'a str,
    /// The issue body, searched for references to debt items.
    pub body: &'a str,
    /// The issue's `html_url`.
    pub url: Option<&'a str>,
    /// Whether the issue is closed (the incident is then resolved).
    pub closed: bool,
    /// When the issue was opened.
    pub created_at: Option<DateTime<Utc>>,
    /// When the issue was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Label names; `severity:high`, `sev:1`, `SEV2` or `critical` set the severity.
    pub labels: &'a [String],
}

/// The id of an incident issue: `owner/name#number`, lower case.
pub fn issue_id(repository: &str, number: u64) -> String {
    format!("{}#{number}", repository.to_ascii_lowercase())
}

/// The incident `issue` is. An issue without a creation time (never from
/// GitHub itself) starts `now`.
pub fn from_issue(issue: &IssueFacts<'_>, now: DateTime<Utc>) -> Incident {
    let severity = issue.labels.iter().find_map(|l| {
        let name = l.to_lowercase();
        parse_severity(
            name.strip_prefix("severity:")
                .or(name.strip_prefix("sev:"))
                .unwrap_or(&name),
        )
    });
    Incident {
        source: "github".into(),
        id: issue_id(issue.repository, issue.number),
        number: Some(issue.number),
        title: issue.title.to_string(),
        url: issue.url.map(str::to_string),
        repository: Some(issue.repository.to_ascii_lowercase()),
        status: if issue.closed {
            Status::Resolved
        } else {
            Status::Triggered
        },
        severity,
        started_at: issue.created_at.unwrap_or(now),
        resolved_at: if issue.closed { issue.closed_at } else { None },
        references: extract_references(&format!("{}\n{}", issue.title, issue.body)),
    }
}
