//! The commands that hand their work to other features: `status` and the
//! drift re-check after a recorded override (`paydown_budgets`), and `scan`
//! (`paydown_review`). Each failure is sorted into one the queue should
//! retry (GitHub down or rate-limited) and one to tell the commenter.

use paydown_budgets::{BudgetError, Record};
use paydown_config::Config;
use paydown_github::models::PullRequest;
use paydown_github::{Client, GitHubError, Repo};

use crate::run::RunOptions;

/// A failed step: worth a retry, or a message for the reply.
#[derive(Debug)]
pub(crate) enum StepError {
    Transient(GitHubError),
    User(String),
}

impl From<GitHubError> for StepError {
    fn from(e: GitHubError) -> Self {
        if e.is_transient() {
            StepError::Transient(e)
        } else {
            StepError::User(e.to_string())
        }
    }
}

impl From<BudgetError> for StepError {
    fn from(e: BudgetError) -> Self {
        match e {
            BudgetError::GitHub(e) => e.into(),
            other => StepError::User(other.to_string()),
        }
    }
}

/// `/debt status`: the sprint budget and this PR's class and points.
pub(crate) async fn status(
    client: &Client,
    repo: &Repo,
    config: &Config,
    number: u64,
) -> Result<String, StepError> {
    Ok(paydown_budgets::status_reply(client, repo, config, number).await?)
}

/// Re-evaluates the PR's drift comment and `paydown / budget` check with
/// `record` applied (the reply carrying it is already posted, so other
/// records of the same comment are read back from it too).
pub(crate) async fn recheck(
    client: &Client,
    repo: &Repo,
    config: &Config,
    number: u64,
    record: &Record,
) -> Result<(), StepError> {
    let outcome = paydown_budgets::apply_record(client, repo, config, number, record, None).await?;
    tracing::info!(
        repo = %format!("{}/{}", repo.owner, repo.name),
        pr = number,
        conclusion = ?outcome.conclusion,
        "budget re-checked after a slash command"
    );
    Ok(())
}

/// `/debt scan`: the review of the PR's current head against its base
/// (sticky comment and `paydown / debt` check run, edited in place).
pub(crate) async fn scan(
    client: &Client,
    repo: &Repo,
    config: &Config,
    number: u64,
    options: &RunOptions,
) -> Result<(), StepError> {
    let pull: PullRequest = client.get_json(&repo.pull(number)).await?;
    let context = paydown_review::PullContext {
        number,
        head_sha: pull.head.sha,
        base_sha: pull.base.sha,
    };
    let review_options = paydown_review::ReviewOptions {
        dry_run: false,
        html_base: options.html_base.clone(),
    };
    // A 502 or a rate limit passes: the queue retries the delivery.
    match paydown_review::review(client, repo, &context, config, &review_options).await {
        Ok(paydown_review::Reviewed::Done(_)) => Ok(()),
        Ok(paydown_review::Reviewed::Refused(e)) => Err(StepError::User(e.to_string())),
        Err(e) => Err(StepError::Transient(e)),
    }
}
