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

use paydown_github::{Client, GitHubError, Repo, latest_check_run};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::render::{self, CHECK_NAME};
use crate::{CheckRunWrite, CommentWrite, PullContext, ReviewError, ReviewOutcome};

/// Annotations per check-run request (GitHub's limit).
const ANNOTATIONS_PER_REQUEST: usize = 50;

#[derive(Debug, Deserialize)]
struct CommentJson {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    user: Option<UserJson>,
}

#[derive(Debug, Deserialize)]
struct UserJson {
    #[serde(default)]
    login: String,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: u64,
}

/// A body as compared: GitHub may hand back CRLF and drop trailing space.
fn comparable(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end().to_string()
}

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

pub(crate) async fn sticky_comment(
    client: &Client,
    repo: &Repo,
    pr: &PullContext,
    outcome: &mut ReviewOutcome,
) -> Result<(), ReviewError> {
    let comments: Vec<CommentJson> = client.get_all(&repo.issue_comments(pr.number)).await?;
    // Only the bot's own comment is adopted: another App echoing the
    // marker must not take the sticky comment over.
    let identity = client.identity().await?;
    let mut mine: Vec<CommentJson> = comments
        .into_iter()
        .filter(|c| {
            c.user
                .as_ref()
                .is_some_and(|u| identity.owns(&u.login, Some(u.kind.as_str())))
        })
        .filter(|c| c.body.as_deref().is_some_and(render::is_report_comment))
        .collect();
    mine.sort_by_key(|c| c.id);
    let desired = desired_body(outcome);
    let Some(first) = mine.first() else {
        // No comment yet: post one only when there is something to say.
        if let Some(body) = desired {
            let id = if outcome.dry_run {
                None
            } else {
                let created: Result<Created, _> =
                    client.create_comment(repo, pr.number, &body).await;
                match refused(created, outcome)? {
                    Some(created) => Some(created.id),
                    None => return Ok(()),
                }
            };
            outcome.comment = CommentWrite::Created { id };
            outcome.comment_body = Some(body);
        }
        return Ok(());
    };
    let body = desired.unwrap_or_else(render::resolved_body);
    let current = first.body.as_deref().unwrap_or_default();
    if comparable(current) == comparable(&body) {
        outcome.comment = CommentWrite::Unchanged { id: first.id };
    } else {
        if !outcome.dry_run {
            let edited: Result<Value, _> = client
                .patch_json(&repo.comment(first.id), &json!({ "body": body }))
                .await;
            if refused(edited, outcome)?.is_none() {
                return Ok(());
            }
        }
        outcome.comment = CommentWrite::Edited { id: first.id };
    }
    outcome.comment_body = Some(body);
    for extra in &mine[1..] {
        if !outcome.dry_run {
            match client.delete(&repo.comment(extra.id)).await {
                // Already gone (the other racer cleaned up): fine.
                Ok(()) => {}
                Err(e) if e.status() == Some(404) => {}
                // A read-only token: the copy stays, the review stands.
                Err(e) if e.status() == Some(403) => {
                    outcome
                        .warnings
                        .push(format!("could not delete a duplicate sticky comment: {e}"));
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        outcome.duplicate_comments_deleted += 1;
    }
    Ok(())
}

/// A comment write's result, with GitHub's 403 (a fork PR's read-only
/// `GITHUB_TOKEN` in a workflow) turned into a warning and
/// [`CommentWrite::Refused`] (`Ok(None)`), like the check run's: the
/// review's summary and annotations still reach the job.
fn refused<T>(
    written: Result<T, GitHubError>,
    outcome: &mut ReviewOutcome,
) -> Result<Option<T>, ReviewError> {
    match written {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.status() == Some(403) => {
            outcome
                .warnings
                .push(format!("could not write the sticky comment: {e}"));
            outcome.comment = CommentWrite::Refused;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn check_run(
    client: &Client,
    repo: &Repo,
    pr: &PullContext,
    outcome: &mut ReviewOutcome,
) -> Result<(), ReviewError> {
    let title = render::check_title(&outcome.report());
    let summary = render::summary(&outcome.report(), render::MAX_BODY_CHARS);
    let annotations = &outcome.check_annotations;
    // The newest run of this name decides what the PR shows.
    let existing = latest_check_run(client, repo, &pr.head_sha, CHECK_NAME).await?;
    if let Some(run) = &existing {
        let output = &run.output;
        let same = run.conclusion.as_deref() == Some(outcome.conclusion)
            && output.title.as_deref() == Some(title.as_str())
            && output.summary.as_deref().map(comparable) == Some(comparable(&summary))
            && output.annotations_count == annotations.len();
        if same {
            outcome.check_run = CheckRunWrite::Unchanged;
            outcome.check_run_id = Some(run.id);
            return Ok(());
        }
    }
    if outcome.dry_run {
        return Ok(());
    }
    let mut batches = annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let first = batches.next().unwrap_or(&[]);
    let output = |batch: &[render::CheckAnnotation]| json!({ "title": title, "summary": summary, "annotations": batch });
    let reusable = existing
        .as_ref()
        .filter(|r| r.output.annotations_count == 0);
    let written: Result<u64, GitHubError> = match reusable {
        Some(run) => {
            let body = json!({
                "status": "completed",
                "conclusion": outcome.conclusion,
                "output": output(first),
            });
            client
                .patch_json::<_, Value>(&repo.route(&format!("/check-runs/{}", run.id)), &body)
                .await
                .map(|_| run.id)
        }
        None => {
            let body = json!({
                "name": CHECK_NAME,
                "head_sha": pr.head_sha,
                "status": "completed",
                "conclusion": outcome.conclusion,
                "output": output(first),
            });
            client
                .create_check_run::<Created>(repo, &body)
                .await
                .map(|c| c.id)
        }
    };
    let id = match written {
        Ok(id) => id,
        // Personal tokens may not write check runs; the comment still stands.
        Err(e) if e.status() == Some(403) => {
            outcome
                .warnings
                .push(format!("could not write the check run: {e}"));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    for batch in batches {
        let _: Value = client
            .patch_json(
                &repo.route(&format!("/check-runs/{id}")),
                &json!({ "output": output(batch) }),
            )
            .await?;
    }
    outcome.check_run = if reusable.is_some() {
        CheckRunWrite::Updated
    } else {
        CheckRunWrite::Created
    };
    outcome.check_run_id = Some(id);
    Ok(())
}
