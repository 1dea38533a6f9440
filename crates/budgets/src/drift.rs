//! The drift comment and check run on one pull request: evaluate the PR
//! against the ledger (`paydown_ledger::evaluate_pr`), then write only what
//! changed — one sticky comment found by [`paydown_markers::drift::MARKER`] and a Bot author,
//! and the `paydown / budget` check run on the head commit. GitHub's 403
//! on either write (a fork PR's read-only `GITHUB_TOKEN` in a workflow) is
//! a warning in the outcome, as it is for the review.

use chrono::{DateTime, Utc};
use paydown_config::Config;
use paydown_github::{CheckRunSpec, Client, Repo, Upsert, upsert_check_run, upsert_sticky_comment};
use paydown_ledger::{
    CheckConclusion, Classification, CommentAction, DriftVerdict, Ledger, PrRecord,
    check_conclusion, check_output, comment_action, evaluate_pr,
};
use serde::Serialize;

use crate::BudgetError;
use crate::fetch::{CommentFacts, fetch_calendar, fetch_ledger, fetch_pull_request, pr_comments};
use crate::records::Record;

/// Name of the budget check run.
pub const CHECK_NAME: &str = "paydown / budget";

/// Sprints read from the API when a caller has no cached records: the
/// current one holds the PR; the one before covers a PR merged just after
/// a sprint boundary being re-checked.
const SPRINTS_FOR_ONE_PR: u32 = 2;

/// The result of [`check_drift`].
#[derive(Debug, Clone, Serialize)]
pub struct DriftOutcome {
    /// The PR as evaluated (with any record just applied): callers caching
    /// records store this.
    pub pr: PrRecord,
    /// The class of work the PR was counted as, and why.
    pub classification: Classification,
    /// `None` when the PR falls in no sprint (nothing is written then).
    pub verdict: Option<DriftVerdict>,
    /// The check run's conclusion, when a verdict was reached.
    pub conclusion: Option<CheckConclusion>,
    /// What happened to the drift comment (`None`: the PR never drifted,
    /// or comments are off; in a dry run, what would happen).
    pub comment: Upsert,
    /// What happened to the drift check run (`None`: `drift.check: off`;
    /// in a dry run, what would happen).
    pub check: Upsert,
    /// Writes GitHub refused with 403 (a read-only token): the verdict
    /// stands, the caller shows these instead of failing.
    pub warnings: Vec<String>,
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
            comment: Upsert::None,
            check: Upsert::None,
            warnings: Vec::new(),
        });
    };
    let verdict = evaluate_pr(ledger, &sprint, pr);
    let conclusion = check_conclusion(&verdict, config.drift.check);
    let mut warnings = Vec::new();
    let comment = write_comment(
        client,
        repo,
        config,
        &verdict,
        pr.number,
        dry_run,
        &mut warnings,
    )
    .await?;
    let check = match conclusion {
        None => Upsert::None,
        Some(conclusion) => {
            write_check(
                client,
                repo,
                &verdict,
                conclusion,
                head_sha,
                dry_run,
                &mut warnings,
            )
            .await?
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

/// The drift comment through [`upsert_sticky_comment`] (the race and 403
/// policies are paydown-github's, shared with the review).
async fn write_comment(
    client: &Client,
    repo: &Repo,
    config: &Config,
    verdict: &DriftVerdict,
    number: u64,
    dry_run: bool,
    warnings: &mut Vec<String>,
) -> Result<Upsert, BudgetError> {
    if !config.drift.comment {
        return Ok(Upsert::None);
    }
    let is_marked = paydown_markers::drift::is_drift_comment;
    let written = upsert_sticky_comment(
        client,
        repo,
        number,
        &is_marked,
        |existing| {
            match comment_action(verdict, existing, &config.drift, &config.commands.prefix) {
                CommentAction::Nothing => None,
                CommentAction::Create(body) => Some(body),
                // comment_action only updates an existing comment.
                CommentAction::Update(body) => existing.map(|_| body),
            }
        },
        "drift comment",
        dry_run,
    )
    .await?;
    warnings.extend(written.warnings);
    warnings.extend(written.write.refusal("drift comment"));
    Ok(written.write)
}

/// The budget check run through [`upsert_check_run`].
async fn write_check(
    client: &Client,
    repo: &Repo,
    verdict: &DriftVerdict,
    conclusion: CheckConclusion,
    head_sha: &str,
    dry_run: bool,
    warnings: &mut Vec<String>,
) -> Result<Upsert, BudgetError> {
    let (title, summary) = check_output(verdict);
    let spec = CheckRunSpec {
        name: CHECK_NAME,
        head_sha,
        conclusion: conclusion.as_str(),
        title: &title,
        summary: &summary,
        annotations: &[],
        completed_at: Some(Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    };
    let written = upsert_check_run(client, repo, &spec, dry_run).await?;
    warnings.extend(written.refusal("budget check run"));
    Ok(written)
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
