//! Webhook events paydown understands: `parse_event` turns an
//! (`X-GitHub-Event`, body) pair into a typed [`Event`], and [`RoutingFields`]
//! pulls out just what the webhook endpoint needs to queue a delivery.
//! Parse errors name the failing JSON path so a surprising payload shape is
//! quick to diagnose.

mod payloads;

pub use payloads::*;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A parsed webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `ping`
    Ping(PingEvent),
    /// `installation`
    Installation(InstallationEvent),
    /// `installation_repositories`
    InstallationRepositories(InstallationRepositoriesEvent),
    /// `push`
    Push(Box<PushEvent>),
    /// `pull_request`
    PullRequest(Box<PullRequestEvent>),
    /// `issue_comment`
    IssueComment(Box<IssueCommentEvent>),
    /// `issues`
    Issues(Box<IssuesEvent>),
    /// `milestone`
    Milestone(Box<MilestoneEvent>),
    /// `check_run`
    CheckRun(Box<CheckRunEvent>),
    /// An event paydown does not handle; recorded and ignored.
    Unknown {
        /// The `X-GitHub-Event` name.
        name: String,
    },
}

impl Event {
    /// The `X-GitHub-Event` name this event arrived as.
    pub fn name(&self) -> &str {
        match self {
            Event::Ping(_) => "ping",
            Event::Installation(_) => "installation",
            Event::InstallationRepositories(_) => "installation_repositories",
            Event::Push(_) => "push",
            Event::PullRequest(_) => "pull_request",
            Event::IssueComment(_) => "issue_comment",
            Event::Issues(_) => "issues",
            Event::Milestone(_) => "milestone",
            Event::CheckRun(_) => "check_run",
            Event::Unknown { name } => name,
        }
    }
}

/// A payload that does not have the shape paydown expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event} payload: at `{path}`: {message}")]
pub struct EventError {
    /// The `X-GitHub-Event` name the body was parsed as.
    pub event: String,
    /// JSON path of the failing value (`.` when the document itself is bad).
    pub path: String,
    /// What serde found wrong there.
    pub message: String,
}

/// Parses one event's payload type directly (when the event name is known,
/// as in the Action's `GITHUB_EVENT_PATH`), with the same path-naming error.
pub fn parse_payload<T: DeserializeOwned>(event: &str, body: &[u8]) -> Result<T, EventError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| EventError {
        event: event.to_owned(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Parses a delivery body according to its `X-GitHub-Event` name.
pub fn parse_event(event_name: &str, body: &[u8]) -> Result<Event, EventError> {
    Ok(match event_name {
        "ping" => Event::Ping(parse_payload(event_name, body)?),
        "installation" => Event::Installation(parse_payload(event_name, body)?),
        "installation_repositories" => {
            Event::InstallationRepositories(parse_payload(event_name, body)?)
        }
        "push" => Event::Push(Box::new(parse_payload(event_name, body)?)),
        "pull_request" => Event::PullRequest(Box::new(parse_payload(event_name, body)?)),
        "issue_comment" => Event::IssueComment(Box::new(parse_payload(event_name, body)?)),
        "issues" => Event::Issues(Box::new(parse_payload(event_name, body)?)),
        "milestone" => Event::Milestone(Box::new(parse_payload(event_name, body)?)),
        "check_run" => Event::CheckRun(Box::new(parse_payload(event_name, body)?)),
        other => Event::Unknown {
            name: other.to_owned(),
        },
    })
}

/// The few fields the webhook endpoint reads before queueing: enough to
/// route and serialise the work, nothing that could fail on a new shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RoutingFields {
    /// The event's `action`, when it has one.
    #[serde(default)]
    pub action: Option<String>,
    /// The repository, which serialises work per repository.
    #[serde(default)]
    pub repository: Option<RoutingRepo>,
    /// The installation whose token the work will use.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// A push's ref (`refs/heads/…`).
    #[serde(default, rename = "ref", deserialize_with = "lenient")]
    pub git_ref: Option<String>,
    /// Whether a push deleted its ref.
    #[serde(default, deserialize_with = "lenient")]
    pub deleted: Option<bool>,
}

/// A routing hint of an unexpected type reads as absent (the delivery then
/// needs work, and its handler reports the payload), so the hints never
/// turn a delivery away at the door.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Hint<T> {
        Expected(T),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Hint::<T>::deserialize(deserializer)? {
        Hint::Expected(value) => Some(value),
        Hint::Other(_) => None,
    })
}

/// The repository fields routing reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoutingRepo {
    /// `owner/name`.
    pub full_name: String,
    /// The default branch, where pushes change debt issues.
    #[serde(default, deserialize_with = "lenient")]
    pub default_branch: Option<String>,
}

impl RoutingFields {
    /// Parses the routing fields of any event body; the body must be a JSON object.
    pub fn parse(event: &str, body: &[u8]) -> Result<Self, EventError> {
        parse_payload(event, body)
    }

    /// The key work is serialised on: the repository when the event has
    /// one, else the installation, else the App itself.
    pub fn repo_key(&self) -> String {
        match (&self.repository, &self.installation) {
            (Some(repo), _) => repo.full_name.clone(),
            (None, Some(inst)) => format!("installation:{}", inst.id),
            (None, None) => "app".to_owned(),
        }
    }

    /// Whether the delivery can need any work: `false` only for what the
    /// App's handlers are known to ignore from these fields alone — a push
    /// that does not change the default branch, a `pull_request` action
    /// that changes nothing paydown tracks. Such a delivery is stored as
    /// done at intake (durable and deduplicated like any other), so it
    /// costs the queue no claim. Anything unsure needs work.
    pub fn needs_work(&self, event: &str) -> bool {
        if self.installation.is_none() {
            // Handlers log deliveries without an installation; keep them.
            return true;
        }
        match event {
            "push" => {
                let default = self
                    .repository
                    .as_ref()
                    .and_then(|r| r.default_branch.as_deref());
                match (default, self.git_ref.as_deref()) {
                    (Some(default), Some(git_ref)) => {
                        push_changes_default_branch(git_ref, self.deleted, default)
                    }
                    // Old payload shapes lack the default branch: a full
                    // sync asks GitHub.
                    _ => true,
                }
            }
            "pull_request" => match &self.action {
                Some(action) => PullRequestAction::from(action.clone()).updates_ledger(),
                None => true,
            },
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing(event: &str, json: serde_json::Value) -> RoutingFields {
        RoutingFields::parse(event, json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn only_deliveries_the_handlers_ignore_are_settled_at_intake() {
        let repo = serde_json::json!({ "full_name": "o/r", "default_branch": "main" });
        let inst = serde_json::json!({ "id": 1 });
        let push = |git_ref: &str, deleted: bool| {
            routing(
                "push",
                serde_json::json!({ "ref": git_ref, "deleted": deleted,
                    "repository": repo, "installation": inst }),
            )
        };
        // Given pushes, when routed, then only the default branch needs work,
        assert!(push("refs/heads/main", false).needs_work("push"));
        assert!(!push("refs/heads/topic", false).needs_work("push"));
        assert!(!push("refs/heads/main", true).needs_work("push"));
        assert!(!push("refs/tags/main", false).needs_work("push"));
        // a payload without the default branch (old shapes) needs a sync,
        let old = routing(
            "push",
            serde_json::json!({ "ref": "refs/heads/x", "repository": { "full_name": "o/r" },
                "installation": inst }),
        );
        assert!(old.needs_work("push"));
        // pull_request actions that change nothing tracked need none,
        let pr = |action: &str| {
            routing(
                "pull_request",
                serde_json::json!({ "action": action, "repository": repo, "installation": inst }),
            )
        };
        assert!(!pr("assigned").needs_work("pull_request"));
        assert!(pr("synchronize").needs_work("pull_request"));
        assert!(pr("closed").needs_work("pull_request"));
        // and deliveries without an installation, or of other events, are kept.
        let bare = routing(
            "push",
            serde_json::json!({ "ref": "refs/heads/topic", "repository": repo }),
        );
        assert!(bare.needs_work("push"));
        assert!(
            routing(
                "issues",
                serde_json::json!({ "action": "opened", "installation": inst })
            )
            .needs_work("issues")
        );
        // Hints of an unexpected type read as absent: the delivery is kept
        // for its handler to report.
        let odd = routing(
            "push",
            serde_json::json!({ "ref": 42, "deleted": "yes",
                "repository": { "full_name": "o/r", "default_branch": ["main"] },
                "installation": inst }),
        );
        assert_eq!((odd.git_ref.as_deref(), odd.deleted), (None, None));
        assert!(odd.needs_work("push"));
    }

    #[test]
    fn unknown_events_are_not_errors() {
        let ev = parse_event("star", b"{\"action\":\"created\"}").unwrap();
        assert_eq!(
            ev,
            Event::Unknown {
                name: "star".into()
            }
        );
    }

    #[test]
    fn errors_name_the_json_path() {
        let body = br#"{"action":"created","installation":{"id":"seven","account":{"login":"o"}}}"#;
        let err = parse_event("installation", body).unwrap_err();
        assert_eq!(err.path, "installation.id");
        assert!(err.to_string().contains("installation.id"), "{err}");
    }

    #[test]
    fn new_actions_are_kept_verbatim() {
        let body = br#"{"action":"teleported","installation":{"id":7,"account":{"login":"o"}}}"#;
        let Event::Installation(ev) = parse_event("installation", body).unwrap() else {
            panic!("not an installation event");
        };
        assert_eq!(ev.action, InstallationAction::Other("teleported".into()));
        assert_eq!(ev.action.as_str(), "teleported");
    }

    #[test]
    fn pull_request_actions_that_review_and_that_update_the_ledger() {
        // Given every action GitHub sends for a pull request that paydown names,
        // plus ones it does not act on,
        let cases = [
            ("opened", true, true),
            ("reopened", true, true),
            ("synchronize", true, true),
            ("edited", false, true),
            ("labeled", false, true),
            ("unlabeled", false, true),
            ("closed", false, true),
            ("assigned", false, false),
            ("ready_for_review", false, false),
            ("review_requested", false, false),
        ];
        for (text, reviewed, ledger) in cases {
            // when GitHub spells it in a payload,
            let action = PullRequestAction::from(text.to_string());
            // then the text survives and the two decisions are as listed.
            assert_eq!(action.as_str(), text);
            assert_eq!(action.is_reviewed(), reviewed, "{text} reviewed");
            assert_eq!(action.updates_ledger(), ledger, "{text} updates the ledger");
        }
    }

    #[test]
    fn routing_key_prefers_repository_then_installation() {
        let r = RoutingFields::parse(
            "push",
            br#"{"repository":{"full_name":"o/r"},"installation":{"id":3}}"#,
        )
        .unwrap();
        assert_eq!(r.repo_key(), "o/r");
        let r = RoutingFields::parse(
            "installation",
            br#"{"action":"created","installation":{"id":3}}"#,
        )
        .unwrap();
        assert_eq!(r.repo_key(), "installation:3");
        assert_eq!(r.action.as_deref(), Some("created"));
        assert_eq!(
            RoutingFields::parse("ping", b"{}").unwrap().repo_key(),
            "app"
        );
        assert!(RoutingFields::parse("ping", b"[1,").is_err());
    }
}
