//! The drift comment and check run on one pull request: evaluate the PR
//! against the ledger (`paydown_ledger::evaluate_pr`), then write only what
//! changed — one sticky comment found by [`DRIFT_MARKER`] and a Bot author,
//! and the `paydown / budget` check run on the head commit. GitHub's 403
//! on either write (a fork PR's read-only `GITHUB_TOKEN` in a workflow) is
//! a warning in the outcome, as it is for the review.

use chrono::{DateTime, Utc};
use paydown_config::Config;
use paydown_github::{BotIdentity, Client, Repo, latest_check_run};
use paydown_ledger::{
    CheckConclusion, Classification, CommentAction, DRIFT_MARKER, DriftVerdict, Ledger, PrRecord,
    check_conclusion, check_output, comment_action, evaluate_pr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::BudgetError;
use crate::fetch::{
    CommentFacts, CommentJson, fetch_calendar, fetch_ledger, fetch_pull_request, pr_comments,
};
use crate::records::Record;

/// Name of the budget check run.
pub const CHECK_NAME: &str = "paydown / budget";

/// Sprints read from the API when a caller has no cached records: the
/// current one holds the PR; the one before covers a PR merged just after
/// a sprint boundary being re-checked.
const SPRINTS_FOR_ONE_PR: u32 = 2;

/// What happened to the sticky drift comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum CommentWrite {
    /// No comment: the PR never drifted, or comments are off.
    None,
    /// The existing comment already says this.
    Unchanged(u64),
    Created(u64),
    Edited(u64),
    /// A dry run would have posted or edited.
    WouldWrite,
    /// GitHub refused the write (403: a fork PR's read-only
    /// `GITHUB_TOKEN`); see [`DriftOutcome::warnings`].
    Refused,
}

/// What happened to the check run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum CheckWrite {
    /// `drift.check: off`.
    Off,
    Unchanged(u64),
    Created(u64),
    Updated(u64),
    WouldWrite,
    /// GitHub refused the write (403: a fork PR's read-only
    /// `GITHUB_TOKEN`); see [`DriftOutcome::warnings`].
    Refused,
}

/// The result of [`check_drift`].
#[derive(Debug, Clone, Serialize)]
pub struct DriftOutcome {
    /// The PR as evaluated (with any record just applied): callers caching
    /// records store this.
    pub pr: PrRecord,
    pub classification: Classification,
    /// `None` when the PR falls in no sprint (nothing is written then).
    pub verdict: Option<DriftVerdict>,
    pub conclusion: Option<CheckConclusion>,
    pub comment: CommentWrite,
    pub check: CheckWrite,
    /// Writes GitHub refused with 403 (a read-only token): the verdict
    /// stands, the caller shows these instead of failing.
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: u64,
}

/// Evaluates `pr` against the ledger built from `records` (other PRs; a
/// stale copy of `pr` among them is replaced by `pr`), then writes the
/// sticky comment and the check run on `head_sha` unless `dry_run`. The
/// PR's overrides, accepted drift and debt paid are refreshed from its
/// comments first (the records there are the source of truth), so the
/// returned [`DriftOutcome::pr`] is what a cache should keep.
///
/// Requests: the milestone listing (only with `source: milestones`), the
/// PR's comments, the check runs of `head_sha` named [`CHECK_NAME`], and at
/// most one write each for the comment and the check run — none when they
/// already say the same.
pub async fn check_drift(
    client: &Client,
    repo: &Repo,
    config: &Config,
    records: &[PrRecord],
    pr: &PrRecord,
    head_sha: &str,
    dry_run: bool,
) -> Result<DriftOutcome, BudgetError> {
    let calendar = fetch_calendar(client, repo, config).await?;
    let ledger = Ledger::build(config, calendar, records)?;
    write_drift(
        client,
        repo,
        config,
        &ledger,
        pr,
        None,
        head_sha,
        dry_run,
        Utc::now(),
    )
    .await
}

/// [`check_drift`] with a ledger already built; `extra` is a record just
/// made that wins over those in the PR's comments.
#[allow(clippy::too_many_arguments)]
pub async fn write_drift(
    client: &Client,
    repo: &Repo,
    config: &Config,
    ledger: &Ledger,
    pr: &PrRecord,
    extra: Option<&Record>,
    head_sha: &str,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<DriftOutcome, BudgetError> {
    let comments = pr_comments(client, repo, pr.number).await?;
    let identity = client.identity().await?;
    let mut pr = pr.clone();
    CommentFacts::for_pr(pr.number, &comments, &identity, extra).apply(&mut pr);
    let pr = &pr;
    // While debt items are hot, `sprints.hot_share_boost` raises the
    // reservation (one listing of `debt:hot` issues, only with a boost).
    let boosted;
    let ledger = if config.sprints.hot_share_boost > 0.0 {
        let mut with_hot = ledger.clone();
        crate::fetch::apply_hot_boost(client, repo, config, &mut with_hot, now).await?;
        boosted = with_hot;
        &boosted
    } else {
        ledger
    };
    let classification = ledger.classify(pr);
    let Some(sprint) = ledger.sprint_for_pr(pr, now) else {
        return Ok(DriftOutcome {
            pr: pr.clone(),
            classification,
            verdict: None,
            conclusion: None,
            comment: CommentWrite::None,
            check: CheckWrite::Off,
            warnings: Vec::new(),
        });
    };
    let verdict = evaluate_pr(ledger, &sprint, pr);
    let conclusion = check_conclusion(&verdict, config.drift.check);
    let mut warnings = Vec::new();
    let comment = match write_comment(
        client,
        repo,
        config,
        &verdict,
        &comments,
        &identity,
        pr.number,
        dry_run,
        &mut warnings,
    )
    .await
    {
        Err(BudgetError::GitHub(e)) if e.status() == Some(403) => {
            warnings.push(format!("could not write the drift comment: {e}"));
            CommentWrite::Refused
        }
        written => written?,
    };
    let check = match conclusion {
        None => CheckWrite::Off,
        Some(conclusion) => {
            match write_check(client, repo, &verdict, conclusion, head_sha, dry_run).await {
                Err(BudgetError::GitHub(e)) if e.status() == Some(403) => {
                    warnings.push(format!("could not write the budget check run: {e}"));
                    CheckWrite::Refused
                }
                written => written?,
            }
        }
    };
    Ok(DriftOutcome {
        pr: pr.clone(),
        classification,
        verdict: Some(verdict),
        conclusion,
        comment,
        check,
        warnings,
    })
}

/// The bot's own drift comments among `comments`, oldest (lowest id) first;
/// another bot's comment carrying the marker is not adopted.
fn drift_comments<'a>(comments: &'a [CommentJson], identity: &BotIdentity) -> Vec<&'a CommentJson> {
    let mut mine: Vec<&CommentJson> = comments
        .iter()
        .filter(|c| {
            c.by(identity)
                && c.body
                    .as_deref()
                    .is_some_and(|b| b.lines().any(|l| l.trim() == DRIFT_MARKER))
        })
        .collect();
    mine.sort_by_key(|c| c.id);
    mine
}

/// Deletes the drift comments `ids` (extra copies two racing runs left, as
/// the review does for its sticky comment). Gone already (the other racer
/// cleaned up) is fine; a read-only token leaves them, with a warning.
async fn delete_copies(
    client: &Client,
    repo: &Repo,
    ids: &[u64],
    warnings: &mut Vec<String>,
) -> Result<(), BudgetError> {
    for &id in ids {
        match client
            .delete(&repo.route(&format!("/issues/comments/{id}")))
            .await
        {
            Ok(()) => {}
            Err(e) if e.status() == Some(404) => {}
            Err(e) if e.status() == Some(403) => {
                warnings.push(format!("could not delete a duplicate drift comment: {e}"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn write_comment(
    client: &Client,
    repo: &Repo,
    config: &Config,
    verdict: &DriftVerdict,
    comments: &[CommentJson],
    identity: &BotIdentity,
    number: u64,
    dry_run: bool,
    warnings: &mut Vec<String>,
) -> Result<CommentWrite, BudgetError> {
    if !config.drift.comment {
        return Ok(CommentWrite::None);
    }
    // Two runs at once (the Action's `opened` and `labeled` workflows) can
    // both post: the oldest copy is the sticky one, the others go.
    let mine = drift_comments(comments, identity);
    let existing = mine.first().copied();
    if !dry_run {
        let extra: Vec<u64> = mine.iter().skip(1).map(|c| c.id).collect();
        delete_copies(client, repo, &extra, warnings).await?;
    }
    let action = comment_action(
        verdict,
        existing.and_then(|c| c.body.as_deref()),
        &config.drift,
        &config.commands.prefix,
    );
    Ok(match (action, existing) {
        (CommentAction::Nothing, Some(c)) => CommentWrite::Unchanged(c.id),
        (CommentAction::Nothing, None) => CommentWrite::None,
        (_, _) if dry_run => CommentWrite::WouldWrite,
        (CommentAction::Create(body), _) => {
            let created: Created = client.create_comment(repo, number, &body).await?;
            // A run racing this one may have posted too: look again, keep
            // the oldest copy and delete the rest (ours included when it is
            // not the oldest). The later of two racers always sees both.
            let now = pr_comments(client, repo, number).await?;
            let copies: Vec<u64> = drift_comments(&now, identity)
                .iter()
                .map(|c| c.id)
                .collect();
            if let Some((&oldest, extra)) = copies.split_first() {
                delete_copies(client, repo, extra, warnings).await?;
                if oldest < created.id {
                    return Ok(CommentWrite::Unchanged(oldest));
                }
            }
            CommentWrite::Created(created.id)
        }
        (CommentAction::Update(body), Some(c)) => {
            let _: serde_json::Value = client
                .patch_json(
                    &repo.route(&format!("/issues/comments/{}", c.id)),
                    &json!({ "body": body }),
                )
                .await?;
            CommentWrite::Edited(c.id)
        }
        // comment_action only updates an existing comment.
        (CommentAction::Update(_), None) => CommentWrite::None,
    })
}

async fn write_check(
    client: &Client,
    repo: &Repo,
    verdict: &DriftVerdict,
    conclusion: CheckConclusion,
    head_sha: &str,
    dry_run: bool,
) -> Result<CheckWrite, BudgetError> {
    let (title, summary) = check_output(verdict);
    let existing = latest_check_run(client, repo, head_sha, CHECK_NAME).await?;
    let same = existing.as_ref().is_some_and(|c| {
        c.status.as_deref() == Some("completed")
            && c.conclusion.as_deref() == Some(conclusion.as_str())
            && c.output.title.as_deref() == Some(title.as_str())
            && c.output.summary.as_deref() == Some(summary.as_str())
    });
    let body = json!({
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": conclusion.as_str(),
        "completed_at": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "output": { "title": title, "summary": summary },
    });
    Ok(match existing {
        Some(c) if same => CheckWrite::Unchanged(c.id),
        _ if dry_run => CheckWrite::WouldWrite,
        Some(c) => {
            let _: serde_json::Value = client
                .patch_json(&repo.route(&format!("/check-runs/{}", c.id)), &body)
                .await?;
            CheckWrite::Updated(c.id)
        }
        None => {
            let created: Created = client.create_check_run(repo, &body).await?;
            CheckWrite::Created(created.id)
        }
    })
}

/// Re-runs the drift check on PR `pr_number` after a slash command recorded
/// `record` (the reply carrying its marker may or may not be posted yet:
/// the record is applied either way). Everything is read from the API:
/// the PR and its comments, and the ledger of the last two sprints.
/// `head_sha` defaults to the PR's head. Callers caching records store
/// [`DriftOutcome::pr`]; the dashboard lists an accepted drift on the next
/// sync.
pub async fn apply_record(
    client: &Client,
    repo: &Repo,
    config: &Config,
    pr_number: u64,
    record: &Record,
    head_sha: Option<&str>,
) -> Result<DriftOutcome, BudgetError> {
    let now = Utc::now();
    let info = fetch_pull_request(client, repo, pr_number).await?;
    let (ledger, _) = fetch_ledger(client, repo, config, SPRINTS_FOR_ONE_PR, now).await?;
    let sha = head_sha.unwrap_or(&info.head_sha);
    write_drift(
        client,
        repo,
        config,
        &ledger,
        &info.record,
        Some(record),
        sha,
        false,
        now,
    )
    .await
}

/// The `/debt status` reply for PR `pr_number`, from the API alone.
pub async fn status_reply(
    client: &Client,
    repo: &Repo,
    config: &Config,
    pr_number: u64,
) -> Result<String, BudgetError> {
    let now = Utc::now();
    let pr = fetch_pull_request(client, repo, pr_number).await?.record;
    let (mut ledger, _) = fetch_ledger(client, repo, config, SPRINTS_FOR_ONE_PR, now).await?;
    crate::fetch::apply_hot_boost(client, repo, config, &mut ledger, now).await?;
    Ok(status_text(&ledger, &pr, now))
}

/// The `/debt status` reply for `pr` against `ledger` (pure).
pub fn status_text(ledger: &Ledger, pr: &PrRecord, now: DateTime<Utc>) -> String {
    let classification = ledger.classify(pr);
    match ledger.sprint_for_pr(pr, now) {
        Some(sprint) => {
            paydown_ledger::status_reply(&evaluate_pr(ledger, &sprint, pr), &classification)
        }
        None => format!(
            "This PR is **{}** work worth {} point(s), but it falls in no sprint, so no budget applies.\n",
            classification.class.as_str(),
            classification.points
        ),
    }
}
