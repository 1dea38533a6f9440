//! Where the sprint ledger's pull-request records come from: one trait,
//! two sources.
//!
//! - [`ApiRecords`] reads them from GitHub every time (`paydown sync`,
//!   `paydown report`, the Action: nothing is kept between runs).
//! - [`CachedRecords`] is the App's cache in its store, one
//!   [`RepoStateKey::PrRecord`] entry (a JSON `PrRecord`) per pull request.
//!   It is seeded from the API the first time a repository is seen
//!   ([`RepoStateKey::BudgetsSeeded`]), seeded again once a day, updated from
//!   each event's payload, and brought up to date with the records the bot's
//!   comments hold (slash-command overrides, accepted drifts, debt paid). It
//!   only saves API reads: everything in it can be rebuilt from GitHub. It
//!   stays bounded: a PR closed without merging is dropped, and each sync
//!   drops PRs merged before the dashboard's sprints. Open PRs whose drift
//!   check is not green are remembered under [`RepoStateKey::Drifting`]
//!   (their head sha), so a later merge that clears their drift (debt work
//!   merged meanwhile) turns them green without an event on them.

use std::future::Future;

use chrono::{DateTime, TimeDelta, Utc};
use paydown_config::Config;
use paydown_events::PullRequest;
use paydown_github::{Client, Repo};
use paydown_ledger::{DASHBOARD_SPRINTS, PrRecord};

use crate::AppError;
use crate::state::{RepoStateKey, RepoStatePrefix, RepoStateStore};

/// How current the records must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// As events and commands left them: enough for a push's dashboard, as
    /// `pull_request` events keep a cache current. A cache never seeded is
    /// read as [`Freshness::Current`].
    Kept,
    /// Brought up to date with GitHub first (the bot's records in comments,
    /// the daily re-seed).
    Current,
}

/// A source of the ledger's pull-request records, and the memory the drift
/// check leaves behind. A source that keeps nothing ([`ApiRecords`]) makes
/// the writes no-ops.
pub trait LedgerRecords: Sync {
    /// The records of the dashboard's sprints and of open pull requests.
    fn records(
        &self,
        client: &Client,
        repo: &Repo,
        config: &Config,
        freshness: Freshness,
    ) -> impl Future<Output = Result<Vec<PrRecord>, AppError>> + Send;

    /// The record of the pull request an event describes, given the records
    /// already read.
    fn record_of(
        &self,
        client: &Client,
        repo: &Repo,
        pr: &PullRequest,
        known: &[PrRecord],
    ) -> impl Future<Output = Result<PrRecord, AppError>> + Send;

    /// Keeps `record` as the drift check left it, and whether its check is
    /// left red on `drifting_head`.
    fn keep(
        &self,
        record: &PrRecord,
        drifting_head: Option<&str>,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Forgets pull request `number` (closed without merging: abandoned
    /// work draws on no budget).
    fn forget(&self, number: u64) -> impl Future<Output = Result<(), AppError>> + Send;

    /// The open pull requests whose drift check was left red, with the head
    /// sha it is on.
    fn drifting(&self) -> impl Future<Output = Result<Vec<(u64, String)>, AppError>> + Send;

    /// Drops the `records` merged before `start` (out of every sprint the
    /// dashboard shows).
    fn prune_merged_before(
        &self,
        records: &[PrRecord],
        start: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// The dashboard's sprints, as the API listing's window.
fn dashboard_sprints() -> u32 {
    u32::try_from(DASHBOARD_SPRINTS).unwrap_or(u32::MAX)
}

/// Records read from GitHub on every call; nothing is kept.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiRecords;

impl LedgerRecords for ApiRecords {
    async fn records(
        &self,
        client: &Client,
        repo: &Repo,
        config: &Config,
        _freshness: Freshness,
    ) -> Result<Vec<PrRecord>, AppError> {
        Ok(
            paydown_budgets::fetch_records(client, repo, config, dashboard_sprints(), Utc::now())
                .await?,
        )
    }

    async fn record_of(
        &self,
        client: &Client,
        repo: &Repo,
        pr: &PullRequest,
        _known: &[PrRecord],
    ) -> Result<PrRecord, AppError> {
        Ok(paydown_budgets::fetch_pr_record(client, repo, pr.number).await?)
    }

    async fn keep(&self, _record: &PrRecord, _drifting_head: Option<&str>) -> Result<(), AppError> {
        Ok(())
    }

    async fn forget(&self, _number: u64) -> Result<(), AppError> {
        Ok(())
    }

    async fn drifting(&self) -> Result<Vec<(u64, String)>, AppError> {
        Ok(Vec::new())
    }

    async fn prune_merged_before(
        &self,
        _records: &[PrRecord],
        _start: DateTime<Utc>,
    ) -> Result<(), AppError> {
        Ok(())
    }
}

/// How often the cache is seeded again from the API, so a missed event
/// costs the ledger a day at most.
const RESEED_EVERY: TimeDelta = TimeDelta::hours(24);

/// The App's cache of one repository's records in its store.
#[derive(Debug)]
pub struct CachedRecords<'a, S> {
    store: &'a S,
    full_name: &'a str,
}

impl<'a, S: RepoStateStore> CachedRecords<'a, S> {
    /// The cache of `full_name` (`owner/name`) in `store`.
    pub fn new(store: &'a S, full_name: &'a str) -> Self {
        Self { store, full_name }
    }

    async fn get(&self, key: &RepoStateKey) -> Result<Option<String>, AppError> {
        self.store
            .get(self.full_name, key)
            .await
            .map_err(AppError::State)
    }

    async fn put(&self, key: &RepoStateKey, value: &str) -> Result<(), AppError> {
        self.store
            .put(self.full_name, key, value)
            .await
            .map_err(AppError::State)
    }

    async fn delete(&self, key: &RepoStateKey) -> Result<(), AppError> {
        self.store
            .delete(self.full_name, key)
            .await
            .map(drop)
            .map_err(AppError::State)
    }

    /// Stores (replaces) one PR's record.
    pub async fn cache(&self, record: &PrRecord) -> Result<(), AppError> {
        let value = serde_json::to_string(record)?;
        self.put(&RepoStateKey::PrRecord(record.number), &value)
            .await
    }

    /// Every cached record (without seeding).
    pub async fn cached(&self) -> Result<Vec<PrRecord>, AppError> {
        self.store
            .list(self.full_name, RepoStatePrefix::PrRecords)
            .await
            .map_err(AppError::State)?
            .into_iter()
            .map(|(_, value)| Ok(serde_json::from_str(&value)?))
            .collect()
    }

    /// When the cache was seeded (the `since` of the next comment read);
    /// `None` before the first seeding.
    async fn seeded_since(&self) -> Result<Option<DateTime<Utc>>, AppError> {
        Ok(self
            .get(&RepoStateKey::BudgetsSeeded)
            .await?
            .as_deref()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.with_timezone(&Utc)))
    }

    /// The cached records, seeded from the API the first time the
    /// repository is seen (and again once a day), then brought up to date
    /// with what the bot's comments recorded since the last look: one
    /// repo-wide comment listing, so whoever posts a record — the commands
    /// handler, the Action, a person re-running a command — the cache follows.
    async fn current(
        &self,
        client: &Client,
        repo: &Repo,
        config: &Config,
    ) -> Result<Vec<PrRecord>, AppError> {
        let since = match self.seeded_since().await? {
            Some(at) => {
                self.reseed_when_due(client, repo, config).await?;
                at
            }
            None => {
                let now = Utc::now();
                self.seed_from_api(client, repo, config, now).await?;
                self.put(&RepoStateKey::BudgetsSeeded, &now.to_rfc3339())
                    .await?;
                now
            }
        };
        let facts = paydown_budgets::fetch_comment_facts(client, repo, since).await?;
        let mut records = self.cached().await?;
        let touched = facts.numbers();
        for record in records.iter_mut().filter(|r| touched.contains(&r.number)) {
            let before = record.clone();
            facts.apply(record);
            if *record != before {
                self.cache(record).await?;
            }
        }
        // A PR the cache has not seen (no event since the seeding) that a
        // command recorded something for — typically an open PR whose drift
        // was accepted: the dashboard lists it, so it joins the cache.
        let unseen: Vec<u64> = facts
            .record_numbers()
            .filter(|n| !records.iter().any(|r| r.number == *n))
            .collect();
        for number in unseen {
            let mut record = paydown_budgets::fetch_pr_record(client, repo, number).await?;
            facts.apply(&mut record);
            self.cache(&record).await?;
            records.push(record);
        }
        if let Some(latest) = facts.latest_update.filter(|t| *t > since) {
            // `since` is inclusive, so the newest comment is read once more
            // next time; applying a record twice changes nothing.
            self.put(&RepoStateKey::BudgetsSeeded, &latest.to_rfc3339())
                .await?;
        }
        Ok(records)
    }

    /// Adds to the cache what the API knows and the cache does not: PRs it
    /// never saw, and merges whose `closed` event it missed (a delivery
    /// dead-lettered, the App uninstalled for a while). Events seen since
    /// are newer than the API's view of an open PR, so those are kept.
    async fn seed_from_api(
        &self,
        client: &Client,
        repo: &Repo,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let fetched =
            paydown_budgets::fetch_records(client, repo, config, dashboard_sprints(), now).await?;
        let existing = self.cached().await?;
        for record in fetched {
            let cached = existing.iter().find(|e| e.number == record.number);
            let missed_merge =
                cached.is_some_and(|c| c.merged_at.is_none()) && record.merged_at.is_some();
            if cached.is_none() || missed_merge {
                self.cache(&record).await?;
            }
        }
        self.put(&RepoStateKey::BudgetsReseeded, &now.to_rfc3339())
            .await
    }

    async fn reseed_when_due(
        &self,
        client: &Client,
        repo: &Repo,
        config: &Config,
    ) -> Result<(), AppError> {
        let now = Utc::now();
        let last = self.get(&RepoStateKey::BudgetsReseeded).await?;
        let due = match last.as_deref().map(DateTime::parse_from_rfc3339) {
            Some(Ok(at)) => now - at.with_timezone(&Utc) >= RESEED_EVERY,
            _ => true,
        };
        if due {
            self.seed_from_api(client, repo, config, now).await?;
        }
        Ok(())
    }
}

/// The ledger record an event's payload describes; what slash commands and
/// reviews decided (overrides, acceptance, debt paid) comes from `cached`
/// and is refreshed from the PR's comments by the drift check.
fn record_from_payload(pr: &PullRequest, cached: Option<&PrRecord>) -> PrRecord {
    let base = cached.cloned().unwrap_or_default();
    PrRecord {
        number: pr.number,
        title: pr.title.clone(),
        merged_at: pr.merged_at,
        labels: pr.labels.iter().map(|l| l.name.clone()).collect(),
        additions: pr.additions.unwrap_or(base.additions),
        deletions: pr.deletions.unwrap_or(base.deletions),
        ..base
    }
}

impl<S: RepoStateStore> LedgerRecords for CachedRecords<'_, S> {
    async fn records(
        &self,
        client: &Client,
        repo: &Repo,
        config: &Config,
        freshness: Freshness,
    ) -> Result<Vec<PrRecord>, AppError> {
        if freshness == Freshness::Kept && self.seeded_since().await?.is_some() {
            return self.cached().await;
        }
        self.current(client, repo, config).await
    }

    async fn record_of(
        &self,
        client: &Client,
        repo: &Repo,
        pr: &PullRequest,
        known: &[PrRecord],
    ) -> Result<PrRecord, AppError> {
        let cached = known.iter().find(|r| r.number == pr.number);
        let mut record = record_from_payload(pr, cached);
        if pr.merged == Some(true) && record.merged_at.is_none() {
            // Payloads from old GHES versions say `merged` without `merged_at`.
            let fetched = paydown_budgets::fetch_pr_record(client, repo, pr.number).await?;
            record.merged_at = fetched.merged_at;
        }
        Ok(record)
    }

    async fn keep(&self, record: &PrRecord, drifting_head: Option<&str>) -> Result<(), AppError> {
        self.cache(record).await?;
        let key = RepoStateKey::Drifting(record.number);
        match drifting_head {
            Some(head) => self.put(&key, head).await,
            None => self.delete(&key).await,
        }
    }

    async fn forget(&self, number: u64) -> Result<(), AppError> {
        self.delete(&RepoStateKey::PrRecord(number)).await?;
        self.delete(&RepoStateKey::Drifting(number)).await
    }

    async fn drifting(&self) -> Result<Vec<(u64, String)>, AppError> {
        self.store
            .list(self.full_name, RepoStatePrefix::Drifting)
            .await
            .map_err(AppError::State)
    }

    async fn prune_merged_before(
        &self,
        records: &[PrRecord],
        start: DateTime<Utc>,
    ) -> Result<(), AppError> {
        for old in records
            .iter()
            .filter(|r| r.merged_at.is_some_and(|at| at < start))
        {
            self.delete(&RepoStateKey::PrRecord(old.number)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydown_events::{Event, PullRequestEvent, parse_event};
    use paydown_ledger::{Acceptance, Overrides, WorkClass};

    fn fixture(name: &str) -> PullRequestEvent {
        let path = format!(
            "{}/../server/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let body = std::fs::read(path).unwrap();
        match parse_event("pull_request", &body).unwrap() {
            Event::PullRequest(ev) => *ev,
            other => panic!("not a pull_request: {other:?}"),
        }
    }

    #[test]
    fn a_real_labeled_payload_gives_labels_and_size_and_keeps_what_commands_decided() {
        // Given GitHub's own `labeled` payload and a cached record with an
        // override and an acceptance,
        let ev = fixture("api.pull_request.labeled.4.json");
        let cached = PrRecord {
            number: ev.pull_request.number,
            title: "old title".into(),
            labels: vec!["stale".into()],
            debt_items_paid: 2,
            overrides: Overrides {
                class: Some(WorkClass::Debt),
                points: Some(3),
            },
            accepted_drift: Some(Acceptance {
                by: "lead".into(),
                reason: "launch".into(),
                at: DateTime::UNIX_EPOCH,
            }),
            ..PrRecord::default()
        };

        // when the record is built from the payload,
        let record = record_from_payload(&ev.pull_request, Some(&cached));

        // then labels, title and size come from the payload,
        assert_eq!(record.labels, ["bug"]);
        assert_eq!(record.title, ev.pull_request.title);
        assert_eq!((record.additions, record.deletions), (1, 1));
        assert_eq!(record.merged_at, None);
        // and the decisions from the cache are kept.
        assert_eq!(record.overrides, cached.overrides);
        assert_eq!(record.accepted_drift, cached.accepted_drift);
        assert_eq!(record.debt_items_paid, 2);
    }

    #[test]
    fn a_closed_unmerged_payload_is_not_merged_work() {
        let ev = fixture("api.pull_request.closed.2.json");
        assert_eq!(ev.pull_request.merged, Some(false));
        let record = record_from_payload(&ev.pull_request, None);
        assert_eq!(record.merged_at, None);
        assert_eq!(record.overrides, Overrides::default());
    }
}
