//! Ledger inputs from the GitHub API alone, so the server's database is a
//! cache and `paydown report` can audit any repository.
//!
//! Requests for [`fetch_records`] over a window of `N` sprints:
//! - milestones: one listing (`state=all`), only with `sprints.source: milestones`;
//! - merged PRs: closed PRs by `updated_at` descending, 100 a page, paging
//!   stops at the first page whose oldest entry was updated before the
//!   window starts (a PR merged in the window was updated in it too);
//! - records and review markers: one repo-wide comment listing `since` the
//!   window start (paged), keeping Bot-authored comments with a marker;
//! - per merged PR, one `GET /pulls/{n}` only when its points come from the
//!   diff size and the listing lacked `additions`/`deletions` (GitHub's list
//!   endpoint omits them; the single-PR endpoint has them);
//! - per unmerged PR with an accepted drift in the window, one `GET /pulls/{n}`
//!   (while open it is listed on the dashboard in the sprint it was accepted
//!   in; closed unmerged, it is abandoned and not listed).
//!
//! Known limit: a record or review marker last updated before the window
//! start is not seen (the comment listing is bounded by `since`); the
//! server's cache keeps such records from the events it saw.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use paydown_config::{Config, SprintSource};
use paydown_github::models::{self, Comment, Issue, PullRequest};
use paydown_github::{BotIdentity, Client, Repo};
use paydown_ledger::{
    Calendar, Ledger, Milestone, MilestoneState, PointsSource, PrRecord, classify,
};
use serde::Deserialize;

use crate::BudgetError;
use crate::records::{Record, apply_records, parse_records};

/// Pages of closed PRs read at most (10,000 PRs) before giving up on the window.
const MAX_PULL_PAGES: u32 = 100;

/// A comment as the record and review-marker readers need it: the shared
/// model plus the issue it is on and when it last changed.
#[derive(Debug, Deserialize)]
pub(crate) struct CommentJson {
    #[serde(flatten)]
    comment: Comment,
    #[serde(default)]
    issue_url: Option<String>,
    updated_at: DateTime<Utc>,
}

impl CommentJson {
    fn issue_number(&self) -> Option<u64> {
        self.issue_url.as_deref()?.rsplit('/').next()?.parse().ok()
    }
}

/// A pull request's record plus what writing to it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestInfo {
    /// What the ledger needs: labels, size, merge time, stored decisions.
    pub record: PrRecord,
    /// The head commit, where the drift check run goes.
    pub head_sha: String,
    /// The base commit the PR is compared with.
    pub base_sha: String,
    /// `open` or `closed`.
    pub state: String,
}

/// What the bot's comments say about pull requests: records of slash
/// commands and the review's debt-paid counts.
#[derive(Debug, Default)]
pub struct CommentFacts {
    records: BTreeMap<u64, Vec<Record>>,
    /// Per PR: (comment updated_at, id, paid) of the latest review marker.
    paid: BTreeMap<u64, (DateTime<Utc>, u64, u32)>,
    /// The latest `updated_at` among the comments read (any author), to
    /// continue from next time.
    pub latest_update: Option<DateTime<Utc>>,
}

impl CommentFacts {
    /// Facts from one PR's comments written by `identity`, plus `extra` (a
    /// record just made, whose reply may not be posted yet).
    pub(crate) fn for_pr(
        number: u64,
        comments: &[CommentJson],
        identity: &BotIdentity,
        extra: Option<&Record>,
    ) -> Self {
        let mut facts = Self::default();
        for comment in comments {
            facts.add(number, comment, identity);
        }
        if let Some(record) = extra {
            facts
                .records
                .entry(number)
                .or_default()
                .push(record.clone());
        }
        facts
    }

    /// PRs these facts say something about.
    pub fn numbers(&self) -> std::collections::BTreeSet<u64> {
        self.records
            .keys()
            .chain(self.paid.keys())
            .copied()
            .collect()
    }

    /// The PRs with slash-command records among the comments read.
    pub fn record_numbers(&self) -> impl Iterator<Item = u64> + '_ {
        self.records.keys().copied()
    }

    /// Reads markers only from comments `identity` wrote: another bot (an
    /// App, Dependabot, `github-actions[bot]`) may echo user text, markers
    /// included.
    fn add(&mut self, number: u64, comment: &CommentJson, identity: &BotIdentity) {
        if self.latest_update.is_none_or(|t| t < comment.updated_at) {
            self.latest_update = Some(comment.updated_at);
        }
        if !comment.comment.by(identity) {
            return;
        }
        let body = comment.comment.body.as_deref().unwrap_or_default();
        let records = parse_records(body);
        if !records.is_empty() {
            self.records.entry(number).or_default().extend(records);
        }
        // The review's sticky comment: `<!-- paydown:pr-debt {…} -->`.
        if let Some(counts) = paydown_markers::pr_debt::parse(body) {
            let key = (comment.updated_at, comment.comment.id, counts.paid());
            let entry = self.paid.entry(number).or_insert(key);
            if (key.0, key.1) > (entry.0, entry.1) {
                *entry = key;
            }
        }
    }

    /// Overrides, acceptance and debt paid found on GitHub win over what
    /// `pr` carried (a cache may be stale); absent facts leave it as is.
    pub fn apply(&self, pr: &mut PrRecord) {
        if let Some(records) = self.records.get(&pr.number) {
            apply_records(pr, records);
        }
        if let Some((_, _, paid)) = self.paid.get(&pr.number) {
            pr.debt_items_paid = *paid;
        }
    }
}

/// The sprints of `repo`: the cadence from the config, or its milestones
/// (one request) with `sprints.source: milestones`.
pub async fn fetch_calendar(
    client: &Client,
    repo: &Repo,
    config: &Config,
) -> Result<Calendar, BudgetError> {
    let milestones = match config.sprints.source {
        SprintSource::Cadence => Vec::new(),
        SprintSource::Milestones => fetch_milestones(client, repo).await?,
    };
    Ok(Calendar::from_config(&config.sprints, &milestones)?)
}

async fn fetch_milestones(client: &Client, repo: &Repo) -> Result<Vec<Milestone>, BudgetError> {
    let list: Vec<models::Milestone> = client
        .get_all(&repo.route("/milestones?state=all&sort=due_on&direction=asc"))
        .await?;
    Ok(list
        .into_iter()
        .map(|m| Milestone {
            number: m.number,
            title: m.title,
            due_on: m.due_on,
            state: if m.state == "open" {
                MilestoneState::Open
            } else {
                MilestoneState::Closed
            },
        })
        .collect())
}

/// Start of the oldest of the `sprints_back` sprints up to `now` (at least
/// the current one); `None` when no sprint has started.
pub fn window_start(
    calendar: &Calendar,
    sprints_back: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let count = usize::try_from(sprints_back.max(1)).unwrap_or(usize::MAX);
    calendar.recent(now, count).first().map(|s| s.start)
}

/// The ledger of `repo` over the last `sprints_back` sprints, and the
/// records it was built from, from the API alone.
pub async fn fetch_ledger(
    client: &Client,
    repo: &Repo,
    config: &Config,
    sprints_back: u32,
    now: DateTime<Utc>,
) -> Result<(Ledger, Vec<PrRecord>), BudgetError> {
    let calendar = fetch_calendar(client, repo, config).await?;
    let records = match window_start(&calendar, sprints_back, now) {
        Some(start) => records_since(client, repo, config, start).await?,
        None => Vec::new(),
    };
    let ledger = Ledger::build(config, calendar, &records)?;
    Ok((ledger, records))
}

/// Ledger inputs for the last `sprints_back` sprints: merged PRs of the
/// window with overrides, accepted drifts and debt paid read from the bot's
/// comments, and open PRs whose drift was accepted in the window.
pub async fn fetch_records(
    client: &Client,
    repo: &Repo,
    config: &Config,
    sprints_back: u32,
    now: DateTime<Utc>,
) -> Result<Vec<PrRecord>, BudgetError> {
    let calendar = fetch_calendar(client, repo, config).await?;
    match window_start(&calendar, sprints_back, now) {
        Some(start) => records_since(client, repo, config, start).await,
        None => Ok(Vec::new()),
    }
}

async fn records_since(
    client: &Client,
    repo: &Repo,
    config: &Config,
    start: DateTime<Utc>,
) -> Result<Vec<PrRecord>, BudgetError> {
    let merged = merged_pulls_since(client, repo, start).await?;
    let facts = fetch_comment_facts(client, repo, start).await?;
    let identity = client.identity().await?;
    let mut out = Vec::with_capacity(merged.len());
    for pull in merged {
        let mut record = to_record(&pull);
        // The repo-wide listing starts at the window, but a PR opened
        // before it may carry records (a `classify`, `points`) made before
        // it too: its own comments are read whole.
        if pull.created_at.is_none_or(|at| at < start) {
            let comments = pr_comments(client, repo, pull.number).await?;
            CommentFacts::for_pr(pull.number, &comments, &identity, None).apply(&mut record);
        } else {
            facts.apply(&mut record);
        }
        if (pull.additions.is_none() || pull.deletions.is_none()) && sized_by_diff(config, &record)
        {
            let full: PullRequest = client
                .get_json(&repo.route(&format!("/pulls/{}", pull.number)))
                .await?;
            record.additions = full.additions.unwrap_or_default();
            record.deletions = full.deletions.unwrap_or_default();
        }
        out.push(record);
    }
    // Open PRs (or closed unmerged) whose drift was accepted in the window.
    let known: std::collections::BTreeSet<u64> = out.iter().map(|r| r.number).collect();
    let accepted_elsewhere: Vec<u64> = facts
        .records
        .iter()
        .filter(|(n, records)| {
            !known.contains(n)
                && records.iter().any(
                    |r| matches!(r, Record::AcceptDrift { acceptance } if acceptance.at >= start),
                )
        })
        .map(|(n, _)| *n)
        .collect();
    for number in accepted_elsewhere {
        let pull: PullRequest = client
            .get_json(&repo.route(&format!("/pulls/{number}")))
            .await?;
        if pull.merged_at.is_some() || pull.state != "open" {
            // Merged before the window (not part of it), or closed without
            // merging (abandoned work lists no accepted drift).
            continue;
        }
        let mut record = to_record(&pull);
        facts.apply(&mut record);
        out.push(record);
    }
    out.sort_by_key(|r| r.number);
    Ok(out)
}

/// Whether `pr`'s points come from the diff-size formula (so its additions
/// and deletions matter).
fn sized_by_diff(config: &Config, pr: &PrRecord) -> bool {
    let c = classify(
        &config.work,
        &pr.labels,
        0,
        0,
        pr.debt_items_paid,
        &pr.overrides,
    );
    matches!(c.points_source, PointsSource::DiffSize(_))
}

fn to_record(pull: &PullRequest) -> PrRecord {
    PrRecord {
        number: pull.number,
        title: pull.title.clone(),
        merged_at: pull.merged_at,
        labels: pull.labels.iter().map(|l| l.name.clone()).collect(),
        additions: pull.additions.unwrap_or_default(),
        deletions: pull.deletions.unwrap_or_default(),
        ..PrRecord::default()
    }
}

async fn merged_pulls_since(
    client: &Client,
    repo: &Repo,
    start: DateTime<Utc>,
) -> Result<Vec<PullRequest>, BudgetError> {
    let mut out = Vec::new();
    for page in 1..=MAX_PULL_PAGES {
        let list: Vec<PullRequest> = client
            .get_json(&repo.route(&format!(
                "/pulls?state=closed&sort=updated&direction=desc&per_page=100&page={page}"
            )))
            .await?;
        let full = list.len() == 100;
        // A PR without `updated_at` (GitHub always sends it) says nothing
        // about the window: keep paging.
        let older = list
            .last()
            .is_some_and(|p| p.updated_at.is_some_and(|at| at < start));
        out.extend(
            list.into_iter()
                .filter(|p| p.merged_at.is_some_and(|at| at >= start)),
        );
        if !full || older {
            return Ok(out);
        }
    }
    Err(BudgetError::TooManyPulls(MAX_PULL_PAGES))
}

/// What the bot's comments (see [`Client::identity`]) updated since `start`
/// say, from one repo-wide comment listing (paged).
pub async fn fetch_comment_facts(
    client: &Client,
    repo: &Repo,
    start: DateTime<Utc>,
) -> Result<CommentFacts, BudgetError> {
    let comments: Vec<CommentJson> = client
        .get_all(&repo.route(&format!(
            "/issues/comments?since={}",
            start.format("%Y-%m-%dT%H:%M:%SZ")
        )))
        .await?;
    let identity = client.identity().await?;
    let mut facts = CommentFacts::default();
    for comment in &comments {
        if let Some(number) = comment.issue_number() {
            facts.add(number, comment, &identity);
        }
    }
    Ok(facts)
}

/// The comments on issue/PR `number` (all of them, any author, paged).
pub(crate) async fn pr_comments(
    client: &Client,
    repo: &Repo,
    number: u64,
) -> Result<Vec<CommentJson>, BudgetError> {
    Ok(client
        .get_all(&repo.route(&format!("/issues/{number}/comments")))
        .await?)
}

/// One PR's record from the API: the PR itself (with its diff size) and its
/// comments (records, review marker). Two requests, more when the PR has
/// over 100 comments.
pub async fn fetch_pr_record(
    client: &Client,
    repo: &Repo,
    number: u64,
) -> Result<PrRecord, BudgetError> {
    Ok(fetch_pull_request(client, repo, number).await?.record)
}

/// [`fetch_pr_record`] plus the head and base commits and the state.
pub async fn fetch_pull_request(
    client: &Client,
    repo: &Repo,
    number: u64,
) -> Result<PullRequestInfo, BudgetError> {
    let pull: PullRequest = client
        .get_json(&repo.route(&format!("/pulls/{number}")))
        .await?;
    let comments = pr_comments(client, repo, number).await?;
    let facts = CommentFacts::for_pr(number, &comments, &client.identity().await?, None);
    let mut record = to_record(&pull);
    facts.apply(&mut record);
    Ok(PullRequestInfo {
        record,
        head_sha: pull.head.sha,
        base_sha: pull.base.sha,
        state: pull.state,
    })
}

/// The open debt issues carrying `debt:hot` now (GitHub is the truth: the
/// planner adds and removes the label). One listing, paged; pull requests
/// with the label are not debt items and are skipped.
pub async fn fetch_hot_items(
    client: &Client,
    repo: &Repo,
) -> Result<Vec<paydown_ledger::HotItem>, BudgetError> {
    let issues: Vec<Issue> = client
        .get_all(&repo.route(&format!(
            "/issues?state=open&labels={}",
            paydown_github::encode_segment(paydown_markers::labels::HOT)
        )))
        .await?;
    Ok(issues
        .into_iter()
        .filter(|i| !i.is_pull_request())
        .map(|i| paydown_ledger::HotItem {
            number: i.number,
            title: i.title,
        })
        .collect())
}

/// Marks the hot items on `ledger` when `sprints.hot_share_boost` is set
/// (without it, hot items change nothing, so nothing is asked of GitHub).
pub async fn apply_hot_boost(
    client: &Client,
    repo: &Repo,
    config: &paydown_config::Config,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
) -> Result<(), BudgetError> {
    if config.sprints.hot_share_boost > 0.0 {
        let hot = fetch_hot_items(client, repo).await?;
        ledger.set_hot(hot, now);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::record_marker;
    use chrono::TimeZone;
    use paydown_ledger::{Acceptance, WorkClass};

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap()
    }

    fn comment(id: u64, number: u64, login: &str, body: &str, h: u32) -> CommentJson {
        let kind = if login.ends_with("[bot]") {
            "Bot"
        } else {
            "User"
        };
        serde_json::from_value(serde_json::json!({
            "id": id,
            "body": body,
            "user": {"login": login, "type": kind},
            "issue_url": format!("https://api.github.com/repos/o/r/issues/{number}"),
            "updated_at": at(h),
        }))
        .unwrap()
    }

    #[test]
    fn only_the_bots_comments_count_and_the_newest_review_marker_wins() {
        let class = Record::Class {
            class: WorkClass::Debt,
            by: "alice".into(),
            at: at(1),
        };
        let forged = Record::AcceptDrift {
            acceptance: Acceptance {
                by: "mallory".into(),
                reason: "me".into(),
                at: at(2),
            },
        };
        let marker = |r, e| {
            format!("<!-- paydown:pr-debt {{\"added\":0,\"removed\":{r},\"edited\":{e}}} -->")
        };
        let comments = [
            comment(1, 7, "paydown[bot]", &record_marker(&class), 1),
            comment(2, 7, "mallory", &record_marker(&forged), 2),
            comment(4, 7, "paydown[bot]", &marker(2, 1), 4),
            comment(3, 7, "paydown[bot]", &marker(1, 0), 3),
            // Another App echoing user text: neither its record nor its
            // (newer) review marker counts.
            comment(5, 7, "other-app[bot]", &record_marker(&forged), 5),
            comment(6, 7, "other-app[bot]", &marker(9, 9), 6),
        ];
        let mut facts = CommentFacts::default();
        let me = BotIdentity::login("paydown[bot]");
        for c in &comments {
            facts.add(c.issue_number().unwrap(), c, &me);
        }
        assert_eq!(facts.numbers().into_iter().collect::<Vec<_>>(), [7]);
        assert_eq!(facts.latest_update, Some(at(6)));
        let mut pr = PrRecord {
            number: 7,
            ..PrRecord::default()
        };
        facts.apply(&mut pr);
        assert_eq!(pr.overrides.class, Some(WorkClass::Debt));
        assert_eq!(pr.accepted_drift, None, "a person's marker is not a record");
        assert_eq!(pr.debt_items_paid, 3);

        // Not knowing its login, any bot's markers count (the old behaviour).
        let mut any = CommentFacts::default();
        for c in &comments {
            any.add(c.issue_number().unwrap(), c, &BotIdentity::any_bot());
        }
        let mut pr = PrRecord {
            number: 7,
            ..PrRecord::default()
        };
        any.apply(&mut pr);
        assert!(pr.accepted_drift.is_some());
        assert_eq!(pr.debt_items_paid, 18);
    }

    #[test]
    fn the_diff_size_matters_only_without_a_points_label_or_override() {
        let config = Config::default();
        let mut pr = PrRecord {
            labels: vec!["feature".into()],
            ..PrRecord::default()
        };
        assert!(sized_by_diff(&config, &pr));
        pr.labels.push("size/M".into());
        assert!(!sized_by_diff(&config, &pr));
        pr.labels.pop();
        pr.overrides.points = Some(3);
        assert!(!sized_by_diff(&config, &pr));
    }

    #[test]
    fn the_window_starts_at_the_oldest_sprint_asked_for() {
        let config = Config::default();
        let calendar = Calendar::from_config(&config.sprints, &[]).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 20, 12, 0, 0).unwrap();
        // Default cadence: 14-day sprints from 2026-01-05.
        let one = window_start(&calendar, 1, now).unwrap();
        assert_eq!(one, Utc.with_ymd_and_hms(2026, 1, 19, 0, 0, 0).unwrap());
        let two = window_start(&calendar, 2, now).unwrap();
        assert_eq!(two, Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap());
        // Zero means the current sprint; before the first sprint there is none.
        assert_eq!(window_start(&calendar, 0, now), Some(one));
        let before = Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap();
        assert_eq!(window_start(&calendar, 3, before), None);
    }
}
