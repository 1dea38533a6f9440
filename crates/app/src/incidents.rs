//! The incident-issue decision every surface makes on an `issues` event.

use paydown_events::IssuesEvent;

/// What an `issues` event means for the incidents a sync counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentIssue {
    /// The issue is an incident now (it carries one of the labels and still
    /// exists here): its count, priority and `debt:hot` may change.
    Incident,
    /// The issue is not an incident. `may_have_been`: the event can have
    /// ended one (a label removed, the issue deleted or transferred away),
    /// so a surface that keeps no record of incidents re-counts.
    NotIncident {
        /// The event can have ended an incident.
        may_have_been: bool,
    },
    /// A pull request's `issues` event: never an incident.
    PullRequest,
}

/// Whether the issue of `ev` is an incident under `labels` (compared
/// without case, as GitHub compares label names).
pub fn incident_issue<'a>(
    ev: &IssuesEvent,
    labels: impl IntoIterator<Item = &'a String>,
) -> IncidentIssue {
    if ev.issue.pull_request.is_some() {
        return IncidentIssue::PullRequest;
    }
    let gone = matches!(ev.action.as_str(), "deleted" | "transferred");
    let labels: Vec<String> = labels.into_iter().map(|l| l.to_lowercase()).collect();
    let labelled = ev
        .issue
        .labels
        .iter()
        .any(|l| labels.contains(&l.name.to_lowercase()));
    if labelled && !gone {
        IncidentIssue::Incident
    } else {
        IncidentIssue::NotIncident {
            may_have_been: gone || ev.action == "unlabeled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, labels: &[&str], pull_request: bool) -> IssuesEvent {
        let labels: Vec<serde_json::Value> = labels
            .iter()
            .map(|name| serde_json::json!({ "name": name }))
            .collect();
        let mut issue = serde_json::json!({ "number": 7, "title": "db down", "labels": labels });
        if pull_request {
            issue["pull_request"] = serde_json::json!({ "url": "https://api.github.com/x" });
        }
        let body = serde_json::json!({
            "action": action,
            "issue": issue,
            "repository": { "id": 1, "name": "r", "full_name": "o/r", "owner": { "login": "o" } },
        });
        match paydown_events::parse_event("issues", body.to_string().as_bytes()) {
            Ok(paydown_events::Event::Issues(ev)) => *ev,
            other => panic!("not an issues event: {other:?}"),
        }
    }

    #[test]
    fn a_labelled_issue_is_an_incident_until_it_is_gone() {
        let labels = ["Incident".to_string()];
        // Given an issue labelled `incident` (any case), when opened or
        // edited, then it is an incident;
        assert_eq!(
            incident_issue(&event("opened", &["incident"], false), &labels),
            IncidentIssue::Incident
        );
        // when deleted or transferred, it is not, and may have been one.
        for action in ["deleted", "transferred"] {
            assert_eq!(
                incident_issue(&event(action, &["incident"], false), &labels),
                IncidentIssue::NotIncident {
                    may_have_been: true
                }
            );
        }
    }

    #[test]
    fn an_unlabelled_issue_may_have_stopped_being_one_and_others_never_were() {
        let labels = ["incident".to_string()];
        assert_eq!(
            incident_issue(&event("unlabeled", &["bug"], false), &labels),
            IncidentIssue::NotIncident {
                may_have_been: true
            }
        );
        assert_eq!(
            incident_issue(&event("edited", &["bug"], false), &labels),
            IncidentIssue::NotIncident {
                may_have_been: false
            }
        );
        assert_eq!(
            incident_issue(&event("labeled", &["incident"], true), &labels),
            IncidentIssue::PullRequest
        );
    }
}
