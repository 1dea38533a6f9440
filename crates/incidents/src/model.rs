//! The incident model shared by every source.

use chrono::{DateTime, Utc};
use paydown_config::Severity;
use serde::{Deserialize, Serialize};

/// Where an incident stands. `reopened` is read as `Triggered`: it is open again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Open and not yet acknowledged (also `reopened`).
    Triggered,
    /// Someone is on it; still open.
    Acknowledged,
    /// Over: it no longer counts as open.
    Resolved,
}

impl Status {
    /// Names of the generic body (`reopened` included).
    pub const NAMES: &'static [&'static str] =
        &["triggered", "acknowledged", "resolved", "reopened"];

    /// Reads a status name (case-insensitive); incident.io's `live`,
    /// `triage`, `closed` and `learning` are understood too.
    pub fn parse(name: &str) -> Option<Status> {
        match name.to_ascii_lowercase().as_str() {
            "triggered" | "reopened" | "open" | "live" | "triage" | "active" => {
                Some(Status::Triggered)
            }
            "acknowledged" => Some(Status::Acknowledged),
            "resolved" | "closed" | "learning" | "post-incident" | "post_incident" => {
                Some(Status::Resolved)
            }
            _ => None,
        }
    }

    /// Whether the incident still counts as open (anything but resolved).
    pub fn is_open(self) -> bool {
        self != Status::Resolved
    }

    /// The canonical lowercase name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Triggered => "triggered",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
        }
    }
}

/// A severity name from any source: paydown's own (`low`…`critical`),
/// PagerDuty urgencies and priorities (`high`, `P1`), incident.io's
/// (`Critical`, `Major`, `Minor`) and `SEV1`-style names. `None` when unknown
/// (the score then treats the incident as `medium`).
pub fn parse_severity(name: &str) -> Option<Severity> {
    let name = name.trim().to_ascii_lowercase();
    let name = name.replace([' ', '_'], "-");
    Some(match name.as_str() {
        "critical" | "sev0" | "sev1" | "sev-0" | "sev-1" | "p0" | "p1" | "emergency" => {
            Severity::Critical
        }
        "high" | "major" | "sev2" | "sev-2" | "p2" | "error" => Severity::High,
        "medium" | "moderate" | "sev3" | "sev-3" | "p3" | "warning" => Severity::Medium,
        "low" | "minor" | "sev4" | "sev-4" | "sev5" | "p4" | "p5" | "info" => Severity::Low,
        _ => return None,
    })
}

/// What an incident points at, before it is resolved against the known items.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Reference {
    /// A debt issue. `repository: None` is the incident's own repository
    /// (for external incidents, the repository they are routed to).
    Issue {
        /// `owner/name`, or `None` for the incident's own repository.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repository: Option<String>,
        /// The issue number.
        number: u64,
    },
    /// A word that may be a debt item id; it links only if an item has it.
    Item {
        /// The word as written.
        id: String,
    },
}

/// One incident, from any source, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `github`, `pagerduty`, `incident.io` or a generic body's `source`.
    pub source: String,
    /// The source's own id; with `source`, the upsert key. For GitHub,
    /// `owner/name#number`.
    pub id: String,
    /// The GitHub issue number or PagerDuty incident number, which
    /// annotations name (`incident=#412`, `incident=PD-1234`).
    #[serde(default)]
    pub number: Option<u64>,
    /// The incident's title, shown next to the debt items it links.
    pub title: String,
    /// A link to the incident in its source, when it has one.
    #[serde(default)]
    pub url: Option<String>,
    /// Where the incident lives (GitHub) or is routed to (external sources).
    #[serde(default)]
    pub repository: Option<String>,
    /// The incident's state as last reported.
    pub status: Status,
    /// How severe the source says it is; `None` weighs as medium.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// When it started; this decides which windows it counts in.
    pub started_at: DateTime<Utc>,
    /// When it was resolved, if it has been.
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// What the incident names: debt issues and item ids it links to.
    #[serde(default)]
    pub references: Vec<Reference>,
}

impl Incident {
    /// The severity the score uses: unknown is `medium`.
    pub fn severity_score(&self) -> u8 {
        self.severity.unwrap_or(Severity::Medium).score()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_severities_from_every_source_are_read() {
        for (name, want) in [
            ("triggered", Status::Triggered),
            ("Reopened", Status::Triggered),
            ("acknowledged", Status::Acknowledged),
            ("resolved", Status::Resolved),
            ("closed", Status::Resolved),
        ] {
            assert_eq!(Status::parse(name), Some(want), "{name}");
        }
        assert_eq!(Status::parse("merged"), None);
        for (name, want) in [
            ("critical", Severity::Critical),
            ("SEV1", Severity::Critical),
            ("P2", Severity::High),
            ("Major", Severity::High),
            ("high", Severity::High),
            ("Minor", Severity::Low),
            ("low", Severity::Low),
        ] {
            assert_eq!(parse_severity(name), Some(want), "{name}");
        }
        assert_eq!(parse_severity("spicy"), None);
    }
}
