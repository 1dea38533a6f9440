//! The pull-request flow: the debt a pull request adds and pays (sticky
//! comment and `paydown / debt` check run), then its ledger record and the
//! drift check against the sprint budget (drift comment and check run).

use paydown_budgets::DriftOutcome;
use paydown_config::Config;
use paydown_events::{PullRequest, PullRequestAction};
use paydown_github::{Client, Repo};
use paydown_ledger::{CheckConclusion, PrRecord};
use paydown_review::Reviewed;

use crate::{AppError, Freshness, LedgerRecords};

/// What a surface knows of a pull request event.
#[derive(Debug, Clone)]
pub struct PullRequestInput<'a> {
    /// What happened to it.
    pub action: PullRequestAction,
    /// The pull request as the payload describes it.
    pub pr: &'a PullRequest,
    /// Compute and report, write nothing (the Action's `dry-run`, or a
    /// fork's read-only token).
    pub dry_run: bool,
    /// The web address of the GitHub instance, for links in the comments.
    pub html_base: &'a str,
}

/// What the flow did.
#[derive(Debug)]
pub enum PullRequestOutcome {
    /// The action changes nothing paydown tracks (assigned, locked, …).
    NotActedOn,
    /// Closed without merging: abandoned work draws on no budget, and is
    /// forgotten.
    ClosedUnmerged,
    /// The budget was checked (after the review, when the action changed
    /// the diff).
    Checked {
        /// The review, when the action called for one.
        review: Option<Reviewed>,
        /// The drift check of the pull request.
        drift: Box<DriftOutcome>,
        /// The pull request was merged (the open ones left drifting were
        /// checked again).
        merged: bool,
    },
}

/// The pull-request flow, for the App (`records` its cache) and the Action
/// (`records` the API).
///
/// A review GitHub refuses for good does not cost the PR its budget check;
/// a transient failure is the error (the App retries the delivery, the
/// Action fails its step). What the review finds paid counts as debt work
/// in the budget; without a review the record's `debt_items_paid` stands.
pub async fn on_pull_request<R: LedgerRecords>(
    client: &Client,
    repo: &Repo,
    config: &Config,
    input: PullRequestInput<'_>,
    records: &R,
) -> Result<PullRequestOutcome, AppError> {
    let (action, pr) = (&input.action, input.pr);
    if !action.updates_ledger() {
        return Ok(PullRequestOutcome::NotActedOn);
    }
    let closed = *action == PullRequestAction::Closed;
    let merged = pr.merged == Some(true) || pr.merged_at.is_some();
    if closed && !merged {
        // Reopening brings it back from the payload and its comments.
        records.forget(pr.number).await?;
        return Ok(PullRequestOutcome::ClosedUnmerged);
    }
    let known = records
        .records(client, repo, config, Freshness::Current)
        .await?;
    let review = if action.is_reviewed() {
        let context = paydown_review::PullContext {
            number: pr.number,
            head_sha: pr.head.sha.clone(),
            base_sha: pr.base.sha.clone(),
        };
        let options = paydown_review::ReviewOptions {
            dry_run: input.dry_run,
            html_base: input.html_base.to_string(),
        };
        Some(paydown_review::review(client, repo, &context, config, &options).await?)
    } else {
        None
    };
    let mut record = records.record_of(client, repo, pr, &known).await?;
    if let Some(Reviewed::Done(outcome)) = &review {
        record.debt_items_paid = outcome.delta.paid();
    }
    let drift = check_and_keep(
        client,
        repo,
        config,
        records,
        &known,
        &record,
        &pr.head.sha,
        input.dry_run,
    )
    .await?;
    if closed {
        recheck_drifting(client, repo, config, records, input.dry_run).await?;
    }
    Ok(PullRequestOutcome::Checked {
        review,
        drift: Box::new(drift),
        merged: closed,
    })
}

/// Runs the drift check for `record` (the other records from `known`) and
/// keeps what it left: the record as refreshed from its comments, and
/// whether its check stays red.
#[allow(clippy::too_many_arguments)]
async fn check_and_keep<R: LedgerRecords>(
    client: &Client,
    repo: &Repo,
    config: &Config,
    records: &R,
    known: &[PrRecord],
    record: &PrRecord,
    head_sha: &str,
    dry_run: bool,
) -> Result<DriftOutcome, AppError> {
    let mut all: Vec<PrRecord> = known
        .iter()
        .filter(|r| r.number != record.number)
        .cloned()
        .collect();
    all.push(record.clone());
    let outcome =
        paydown_budgets::check_drift(client, repo, config, &all, record, head_sha, dry_run).await?;
    let open = outcome.pr.merged_at.is_none();
    let red = matches!(
        outcome.conclusion,
        Some(CheckConclusion::Neutral | CheckConclusion::Failure)
    ) || outcome
        .verdict
        .as_ref()
        .is_some_and(|v| v.drifting && v.accepted.is_none());
    let drifting_head = (open && red).then_some(head_sha);
    records.keep(&outcome.pr, drifting_head).await?;
    Ok(outcome)
}

/// After a merge, re-checks the open PRs left drifting: debt work merged
/// meanwhile may have cleared them.
async fn recheck_drifting<R: LedgerRecords>(
    client: &Client,
    repo: &Repo,
    config: &Config,
    records: &R,
    dry_run: bool,
) -> Result<(), AppError> {
    let drifting = records.drifting().await?;
    if drifting.is_empty() {
        return Ok(());
    }
    let known = records
        .records(client, repo, config, Freshness::Kept)
        .await?;
    for (number, head_sha) in drifting {
        let Some(record) = known.iter().find(|r| r.number == number) else {
            records.forget(number).await?;
            continue;
        };
        check_and_keep(
            client, repo, config, records, &known, record, &head_sha, dry_run,
        )
        .await?;
    }
    Ok(())
}
