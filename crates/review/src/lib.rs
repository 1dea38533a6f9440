//! What paydown says about a pull request's debt (docs/pull-requests.md, "PRs and other
//! branches only report"): the annotations the PR adds, removes and edits,
//! computed from its changed files, shown as one sticky comment and a check
//! run with annotations on the added lines. A PR that changes
//! `.github/paydown.yml` also gets that file validated (docs/configuration.md: the error
//! is reported on the PR that changed it). Nothing here opens or closes
//! debt issues.
//!
//! Layout: [`delta`] (pure matching of base and head annotations),
//! [`lint`] (required metadata), [`render`] (comment, marker, check-run
//! text), `fetch` (the PR's files and their two versions) and `write` (the
//! sticky comment and the check run). [`review_pull_request`] ties them.

pub mod delta;
mod fetch;
pub mod lint;
pub mod render;
mod tolerant;
mod write;

use paydown_config::Config;
use paydown_github::{Client, GitHubError, Repo, Upsert};
use serde::Serialize;

pub use delta::{DebtDelta, DeltaCounts, FileVersions, compute_delta};
pub use lint::{ConfigFinding, LintFinding, lint};
pub use render::{
    CHECK_NAME, CheckAnnotation, Coverage, Links, MARKER_PREFIX, parse_report_marker,
};
pub use tolerant::{Reviewed, review};

/// The pull request under review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullContext {
    /// The pull request number.
    pub number: u64,
    /// The commit under review (the PR's head).
    pub head_sha: String,
    /// The base branch's commit; the merge base with the head is read from it.
    pub base_sha: String,
}

/// How a review runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewOptions {
    /// Compute everything, write nothing; the outcome says what would be written.
    pub dry_run: bool,
    /// Web root for links, `https://github.com` or a GHES host.
    pub html_base: String,
}

/// Everything a review computed and wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewOutcome {
    /// The debt items the PR adds, removes and edits.
    pub delta: DebtDelta,
    /// Missing required metadata and unreadable metadata on added/edited items.
    pub lint: Vec<LintFinding>,
    /// Errors in `.github/paydown.yml` when the PR changes it.
    pub config_errors: Vec<ConfigFinding>,
    /// What the review read and what it had to skip.
    pub coverage: Coverage,
    /// Where the report's links point.
    pub links: Links,
    /// What happened to the sticky comment (or would, in a dry run).
    pub comment: Upsert,
    /// The sticky comment's body as written (or as it would be); `None`
    /// when no comment is posted.
    pub comment_body: Option<String>,
    /// Extra sticky comments (from a race) deleted so exactly one remains.
    pub duplicate_comments_deleted: usize,
    /// What happened to the `paydown / debt` check run (or would, in a dry
    /// run); its id, when one exists, is [`Upsert::id`].
    pub check_run: Upsert,
    /// `success` (no debt added, no findings), `neutral` (debt added or
    /// metadata findings) or `failure` (the PR breaks the config file).
    pub conclusion: &'static str,
    /// The annotations sent with the check run.
    pub check_annotations: Vec<CheckAnnotation>,
    /// Problems that did not stop the review (unreadable files, a token
    /// that may not write check runs).
    pub warnings: Vec<String>,
    /// Nothing was written: the writes above say what would have been.
    pub dry_run: bool,
}

impl ReviewOutcome {
    /// The added/removed/edited counts of [`ReviewOutcome::delta`].
    pub fn counts(&self) -> DeltaCounts {
        self.delta.counts()
    }

    /// The parts the rendered report shows.
    pub fn report(&self) -> render::Report<'_> {
        render::Report {
            delta: &self.delta,
            lint: &self.lint,
            config_errors: &self.config_errors,
            coverage: &self.coverage,
            links: &self.links,
        }
    }
}

/// What can stop a review as a whole (one unreadable file does not).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// GitHub failed or refused a request the review cannot do without.
    #[error("GitHub: {0}")]
    GitHub(#[from] GitHubError),
    /// `paths`/`exclude` globs in the config do not compile.
    #[error("config paths: {0}")]
    Paths(#[from] paydown_scan::GlobError),
    /// Reading the pull request broke off (a file scanner task failed).
    #[error("pull request #{number}: {reason}")]
    Pull {
        /// The pull request number.
        number: u64,
        /// What was wrong with it.
        reason: String,
    },
}

impl ReviewError {
    /// True when retrying later may succeed (rate limits, 5xx, timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(self, ReviewError::GitHub(e) if e.is_transient())
    }
}

/// The report as Markdown, without the hidden marker: the sticky comment's
/// visible part, reused as the Action's job summary.
pub fn markdown_summary(outcome: &ReviewOutcome) -> String {
    render::summary(&outcome.report(), render::MAX_BODY_CHARS)
}

/// Fetches the PR's files, scans base and head versions of the changed
/// files, computes the delta, writes/edits the sticky comment and the
/// `paydown / debt` check run (unless dry_run). Never touches issues.
pub async fn review_pull_request(
    client: &Client,
    repo: &Repo,
    pr: &PullContext,
    config: &Config,
    options: &ReviewOptions,
) -> Result<ReviewOutcome, ReviewError> {
    let read = fetch::read_pull_files(client, repo, pr, config).await?;
    let delta = compute_delta(&read.files);
    let findings = lint(&delta, config);
    let links = Links {
        html_base: options.html_base.clone(),
        owner: repo.owner.clone(),
        name: repo.name.clone(),
        head_sha: pr.head_sha.clone(),
        base_sha: read.base_sha.clone(),
        mention_owners: config.issues.mention_owners,
    };
    let mut outcome = ReviewOutcome {
        warnings: read
            .coverage
            .unreadable
            .iter()
            .map(|(path, error)| format!("could not read {path}: {error}"))
            .collect(),
        delta,
        lint: findings,
        config_errors: read.config_errors,
        coverage: read.coverage,
        links,
        comment: Upsert::None,
        comment_body: None,
        duplicate_comments_deleted: 0,
        check_run: Upsert::None,
        conclusion: "success",
        check_annotations: Vec::new(),
        dry_run: options.dry_run,
    };
    outcome.conclusion = render::conclusion(&outcome.report());
    outcome.check_annotations = render::check_annotations(&outcome.report());
    write::sticky_comment(client, repo, pr, &mut outcome).await?;
    write::check_run(client, repo, pr, &mut outcome).await?;
    tracing::info!(
        repo = %repo,
        pr = pr.number,
        added = outcome.delta.added.len(),
        removed = outcome.delta.removed.len(),
        edited = outcome.delta.edited.len(),
        lint = outcome.lint.len(),
        dry_run = options.dry_run,
        "reviewed pull request debt"
    );
    Ok(outcome)
}
