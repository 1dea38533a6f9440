//! The one failure policy every surface applies to a review.

use paydown_config::Config;
use paydown_github::{Client, GitHubError, Repo};

use crate::{PullContext, ReviewError, ReviewOptions, ReviewOutcome, review_pull_request};

/// A review that ran, or one GitHub refused for a reason a retry would not
/// cure (a 422 on annotations, a 403 on the comment, a bad glob): the
/// caller reports the refusal and goes on — a refused review must not cost
/// a pull request its budget check.
#[derive(Debug)]
pub enum Reviewed {
    /// The review ran (its writes, or what it would write on a dry run).
    Done(Box<ReviewOutcome>),
    /// The review could not run; why.
    Refused(ReviewError),
}

/// [`review_pull_request`] under the shared policy: a failure a retry may
/// cure (a rate limit, a 5xx, a timeout) is the error, so the App's queue
/// retries the delivery and the Action's step fails for a re-run; any other
/// is [`Reviewed::Refused`].
pub async fn review(
    client: &Client,
    repo: &Repo,
    pr: &PullContext,
    config: &Config,
    options: &ReviewOptions,
) -> Result<Reviewed, GitHubError> {
    match review_pull_request(client, repo, pr, config, options).await {
        Ok(outcome) => Ok(Reviewed::Done(Box::new(outcome))),
        Err(ReviewError::GitHub(e)) if e.is_transient() => Err(e),
        Err(e) => Ok(Reviewed::Refused(e)),
    }
}
