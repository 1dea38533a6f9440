//! Incidents in the App: GitHub issues carrying `incidents.labels` (`issues`
//! events), and the deliveries of the incident endpoints. Each change is
//! stored (keyed by the source's own id) and then every repository that
//! reads the incident gets a full sync, whose planner renders the counts,
//! priority and `debt:hot` like everything else (so an unchanged count
//! writes nothing).

use std::collections::{BTreeMap, BTreeSet};

use paydown_app::IncidentIssue;
use paydown_config::Config;
use paydown_github::{Client, Repo, encode_segment};
use paydown_incidents::{Incident, IssueFacts, Reference, from_issue};

use super::{GitHubHandler, HandlerError};
use crate::events::Issue;
use crate::events::IssuesEvent;
use crate::incident_endpoints::{IncidentChange, parse_delivery};
use crate::store::{Claimed, RepoStateKey};

/// A repository of an installation and the config it goes by.
struct Reader {
    full_name: String,
    installation: u64,
    config: Config,
}

impl GitHubHandler {
    /// The config a repository goes by: its last valid one, else the defaults.
    async fn kept_config(&self, full_name: &str) -> Result<Config, HandlerError> {
        let text = self.last_valid_config(full_name).await?;
        Ok(paydown_sync::resolve_config(text.as_deref(), None).config)
    }

    /// Every installed repository with its config (for routing).
    async fn readers(&self) -> Result<Vec<Reader>, HandlerError> {
        let mut out = Vec::new();
        for installation in self.store.installations().await? {
            let Ok(id) = u64::try_from(installation.id) else {
                continue;
            };
            for repo in self.store.installation_repos(installation.id).await? {
                let config = self.kept_config(&repo.full_name).await?;
                out.push(Reader {
                    full_name: repo.full_name,
                    installation: id,
                    config,
                });
            }
        }
        Ok(out)
    }

    /// The incidents `full_name` reads under `config`: its own incident
    /// issues, those of `incidents.repositories`, external incidents routed
    /// to it by name, and PagerDuty incidents of its services. `None` while
    /// there are none, so repositories without incidents keep their labels
    /// exactly as before this feature.
    pub(super) async fn incidents_for_sync(
        &self,
        full_name: &str,
        config: &Config,
    ) -> Result<Option<Vec<Incident>>, HandlerError> {
        let mut repositories = vec![full_name.to_string()];
        repositories.extend(config.incidents.repositories.iter().cloned());
        let incidents = self
            .store
            .incidents_for(&repositories, &config.incidents.pagerduty_services)
            .await?;
        Ok((!incidents.is_empty()).then_some(incidents))
    }

    /// The config in force for a sync of `full_name` when the caller has
    /// only the kept text. The first sync after install (and the first
    /// after `incidents.labels` or `incidents.repositories` gain an entry)
    /// backfills the incident issues that already exist.
    pub(super) async fn incidents_for_kept(
        &self,
        client: &Client,
        full_name: &str,
        kept: Option<&str>,
    ) -> Result<Option<Vec<Incident>>, HandlerError> {
        let config = paydown_sync::resolve_config(kept, None).config;
        self.backfill_incidents(client, full_name, &config).await?;
        self.incidents_for_sync(full_name, &config).await
    }

    /// Lists, by label, the incident issues of `full_name` and of its
    /// `incidents.repositories` (same installation, so the same token) and
    /// stores them, once per (repository, label): which pairs are done is
    /// kept per repository, so later syncs ask GitHub nothing. The listing
    /// goes through the installation's client, paced like every request. A
    /// repository the token cannot read is logged and tried again next sync.
    async fn backfill_incidents(
        &self,
        client: &Client,
        full_name: &str,
        config: &Config,
    ) -> Result<(), HandlerError> {
        let mut done: BTreeSet<String> = self
            .store
            .repo_state_get(full_name, &RepoStateKey::IncidentBackfill)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
        let mut repositories = vec![full_name.to_string()];
        repositories.extend(config.incidents.repositories.iter().cloned());
        let mut listed = false;
        for name in &repositories {
            let Ok(repo) = Repo::parse(name) else {
                continue;
            };
            for label in &config.incidents.labels {
                let pair = format!("{}\t{}", name.to_ascii_lowercase(), label.to_lowercase());
                if done.contains(&pair) {
                    continue;
                }
                let route = repo.route(&format!(
                    "/issues?state=all&labels={}",
                    encode_segment(label)
                ));
                let issues: Vec<Issue> = match client.get_all(&route).await {
                    Ok(issues) => issues,
                    Err(error) => {
                        tracing::warn!(repo = %full_name, source = %name, %label, %error,
                            "cannot list incident issues; retried on the next sync");
                        continue;
                    }
                };
                for issue in issues.iter().filter(|i| i.pull_request.is_none()) {
                    let home = name.to_ascii_lowercase();
                    let id = format!("{home}#{}", issue.number);
                    let mut incident = incident_of(issue, &home, &id);
                    self.add_links(&home, issue.number, &mut incident).await?;
                    let before = self.store.incident("github", &id).await?;
                    if !before.is_some_and(|(b, _)| b == incident) {
                        self.store.upsert_incident(&incident, None).await?;
                    }
                }
                done.insert(pair);
                listed = true;
            }
        }
        if listed {
            let json = serde_json::to_string(&done)
                .map_err(|e| HandlerError::Other(format!("backfill state: {e}")))?;
            self.store
                .repo_state_put(full_name, &RepoStateKey::IncidentBackfill, &json)
                .await?;
        }
        Ok(())
    }

    /// An `issues` event: the issue is an incident while it carries one of
    /// the `incidents.labels` of a repository that reads it.
    pub(super) async fn issues(
        &self,
        ev: &IssuesEvent,
        delivery_id: &str,
    ) -> Result<(), HandlerError> {
        let home = ev.repository.full_name.clone();
        let readers: Vec<Reader> = self
            .readers()
            .await?
            .into_iter()
            .filter(|r| {
                r.full_name.eq_ignore_ascii_case(&home)
                    || r.config
                        .incidents
                        .repositories
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(&home))
            })
            .collect();
        let labels = readers.iter().flat_map(|r| &r.config.incidents.labels);
        let is_incident = match paydown_app::incident_issue(ev, labels) {
            IncidentIssue::PullRequest => return Ok(()),
            IncidentIssue::Incident => true,
            // The store knows whether it was one.
            IncidentIssue::NotIncident { .. } => false,
        };
        let id = format!("{}#{}", home.to_ascii_lowercase(), ev.issue.number);
        let changed = if is_incident {
            let mut incident = issue_incident(ev, &id);
            self.add_links(&home, ev.issue.number, &mut incident)
                .await?;
            let before = self.store.incident("github", &id).await?;
            if before.is_some_and(|(b, _)| b == incident) {
                false
            } else {
                self.store.upsert_incident(&incident, None).await?;
                true
            }
        } else {
            self.store.delete_incident("github", &id).await?
        };
        if changed {
            for r in &readers {
                self.queue_sync(&r.full_name, r.installation, delivery_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// The `/debt link` links of issue `number` of `home`, kept per
    /// repository (the issue's body does not hold them).
    async fn links(&self, home: &str) -> Result<BTreeMap<u64, BTreeSet<u64>>, HandlerError> {
        Ok(self
            .store
            .repo_state_get(&home.to_ascii_lowercase(), &RepoStateKey::IncidentLinks)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default())
    }

    /// Adds the `/debt link` links of the issue to `incident`'s references.
    async fn add_links(
        &self,
        home: &str,
        number: u64,
        incident: &mut Incident,
    ) -> Result<(), HandlerError> {
        if let Some(debt) = self.links(home).await?.get(&number) {
            for &n in debt {
                let link = Reference::Issue {
                    repository: None,
                    number: n,
                };
                if !incident.references.contains(&link) {
                    incident.references.push(link);
                }
            }
        }
        Ok(())
    }

    /// `/debt link #N` on issue `number` of `home`: kept (a later edit of
    /// the issue keeps it), and when the issue is a stored incident, it
    /// links now and its readers are synced. A link made before the issue
    /// is labelled an incident counts once it is.
    pub(super) async fn record_incident_links(
        &self,
        home: &str,
        number: u64,
        debt: &[u64],
        delivery_id: &str,
    ) -> Result<(), HandlerError> {
        let mut links = self.links(home).await?;
        let entry = links.entry(number).or_default();
        let before = entry.len();
        entry.extend(debt.iter().copied());
        if entry.len() == before {
            return Ok(());
        }
        let json = serde_json::to_string(&links)
            .map_err(|e| HandlerError::Other(format!("incident links: {e}")))?;
        self.store
            .repo_state_put(
                &home.to_ascii_lowercase(),
                &RepoStateKey::IncidentLinks,
                &json,
            )
            .await?;
        let id = paydown_incidents::issue_id(home, number);
        let Some((mut incident, service)) = self.store.incident("github", &id).await? else {
            return Ok(());
        };
        self.add_links(home, number, &mut incident).await?;
        self.store
            .upsert_incident(&incident, service.as_deref())
            .await?;
        for r in self.readers().await? {
            let reads = r.full_name.eq_ignore_ascii_case(home)
                || r.config
                    .incidents
                    .repositories
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(home));
            if reads {
                self.queue_sync(&r.full_name, r.installation, &format!("link:{delivery_id}"))
                    .await?;
            }
        }
        Ok(())
    }

    /// A delivery of `POST /incidents/pagerduty` or `POST /incidents`.
    pub(super) async fn incident_delivery(&self, delivery: &Claimed) -> Result<(), HandlerError> {
        let change = parse_delivery(&delivery.event, &delivery.payload).map_err(|e| {
            HandlerError::Other(format!("incident delivery {}: {e}", delivery.delivery_id))
        })?;
        let (affected, service) = match &change {
            IncidentChange::Ignore => return Ok(()),
            IncidentChange::Upsert { incident, service } => {
                let before = self.store.incident(&incident.source, &incident.id).await?;
                // A PagerDuty event about a known incident may carry only a
                // reference (`data.incident`): keep what the first told us.
                let mut incident = (**incident).clone();
                if let Some((old, _)) = &before
                    && incident.source == "pagerduty"
                {
                    incident.number = incident.number.or(old.number);
                    if incident.title == incident.id {
                        incident.title = old.title.clone();
                        incident.references = old.references.clone();
                    }
                    incident.url = incident.url.or(old.url.clone());
                    incident.severity = incident.severity.or(old.severity);
                    incident.started_at = incident.started_at.min(old.started_at);
                }
                // Events that name only the incident keep its routing.
                let service = service.clone().or(before.and_then(|(_, s)| s));
                self.store
                    .upsert_incident(&incident, service.as_deref())
                    .await?;
                (Some(incident), service)
            }
            IncidentChange::Delete { source, id } => {
                let before = self.store.incident(source, id).await?;
                self.store.delete_incident(source, id).await?;
                match before {
                    Some((incident, service)) => (Some(incident), service),
                    None => (None, None),
                }
            }
        };
        let Some(incident) = affected else {
            return Ok(());
        };
        for r in self.readers().await? {
            let by_name = incident
                .repository
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&r.full_name));
            let by_service = incident.source == "pagerduty"
                && service
                    .as_deref()
                    .is_some_and(|s| r.config.incidents.pagerduty_services.iter().any(|x| x == s));
            if by_name || by_service {
                self.queue_sync(&r.full_name, r.installation, &delivery.delivery_id)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The incident an incident issue of an event is.
fn issue_incident(ev: &IssuesEvent, id: &str) -> Incident {
    incident_of(&ev.issue, &ev.repository.full_name.to_ascii_lowercase(), id)
}

/// The incident an incident issue of `home` (`owner/name`, lower case) is:
/// the shared reading of `paydown_incidents`, so the Action and `paydown
/// report --incidents` see the same incident.
fn incident_of(issue: &Issue, home: &str, id: &str) -> Incident {
    let labels: Vec<String> = issue.labels.iter().map(|l| l.name.clone()).collect();
    let mut incident = from_issue(
        &IssueFacts {
            repository: home,
            number: issue.number,
            title: &issue.title,
            body: issue.body.as_deref().unwrap_or(""),
            url: issue.html_url.as_deref(),
            closed: issue.state.as_deref() == Some("closed"),
            created_at: issue.created_at,
            closed_at: issue.closed_at,
            labels: &labels,
        },
        chrono::Utc::now(),
    );
    incident.id = id.to_string();
    incident
}
