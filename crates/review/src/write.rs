//! The two things a review writes on GitHub, each idempotent:
//!
//! - the **sticky comment**: the bot's own comment on the PR, found by the
//!   `<!-- paydown:pr-debt … -->` marker *and* an author of type `Bot`,
//!   edited in place only when its body changes; extra copies (two
//!   deliveries racing) are deleted so one remains; a 403 on these writes
//!   (a fork PR's read-only `GITHUB_TOKEN`) is a warning, not a failure;
//! - the **check run** `paydown / debt` on the head commit. GitHub appends
//!   annotations on every update, so an existing run is updated only while
//!   it has none; a run already showing this exact result is left alone,
//!   and a run showing another result with annotations is superseded by a
//!   new run of the same name (GitHub shows the newest). Annotations go 50
//!   per request, the API's limit.

use paydown_github::{CheckRunSpec, Client, Repo, Upsert, upsert_check_run, upsert_sticky_comment};
use serde_json::{Value, json};

use crate::render::{self, CHECK_NAME};
use crate::{PullContext, ReviewError, ReviewOutcome};

/// What the sticky comment should say, or `None` for "post nothing new".
/// Unreadable files keep the full report, so a partial read never claims
/// the PR's debt is resolved.
fn desired_body(outcome: &ReviewOutcome) -> Option<String> {
    if outcome.delta.is_empty()
        && outcome.coverage.unreadable.is_empty()
        && outcome.config_errors.is_empty()
    {
        None
    } else {
        Some(render::comment_body(&outcome.report()))
    }
}

/// The sticky comment through [`upsert_sticky_comment`] (its race and 403
/// policies are paydown-github's): with nothing left to say, an existing
/// comment says "Resolved" rather than disappearing.
pub(crate) async fn sticky_comment(
    client: &Client,
    repo: &Repo,
    pr: &PullContext,
    outcome: &mut ReviewOutcome,
) -> Result<(), ReviewError> {
    let desired = desired_body(outcome);
    let written = upsert_sticky_comment(
        client,
        repo,
        pr.number,
        &render::is_report_comment,
        |existing| match existing {
            None => desired,
            Some(_) => Some(desired.unwrap_or_else(render::resolved_body)),
        },
        "sticky comment",
        outcome.dry_run,
    )
    .await?;
    outcome.warnings.extend(written.warnings);
    outcome.duplicate_comments_deleted += written.duplicates_deleted;
    outcome
        .warnings
        .extend(written.write.refusal("sticky comment"));
    if !matches!(written.write, Upsert::Refused { .. }) {
        outcome.comment_body = written.body;
    }
    outcome.comment = written.write;
    Ok(())
}

/// The `paydown / debt` check run through [`upsert_check_run`]. A token
/// that may not write check runs (a personal token) is a warning: the
/// comment still stands.
pub(crate) async fn check_run(
    client: &Client,
    repo: &Repo,
    pr: &PullContext,
    outcome: &mut ReviewOutcome,
) -> Result<(), ReviewError> {
    let title = render::check_title(&outcome.report());
    let summary = render::summary(&outcome.report(), render::MAX_BODY_CHARS);
    let annotations: Vec<Value> = outcome
        .check_annotations
        .iter()
        .map(|a| {
            json!({
                "path": a.path,
                "start_line": a.start_line,
                "end_line": a.end_line,
                "annotation_level": a.annotation_level,
                "title": a.title,
                "message": a.message,
            })
        })
        .collect();
    let spec = CheckRunSpec {
        name: CHECK_NAME,
        head_sha: &pr.head_sha,
        conclusion: outcome.conclusion,
        title: &title,
        summary: &summary,
        annotations: &annotations,
        completed_at: None,
    };
    let written = upsert_check_run(client, repo, &spec, outcome.dry_run).await?;
    outcome.warnings.extend(written.refusal("check run"));
    outcome.check_run = written;
    Ok(())
}
