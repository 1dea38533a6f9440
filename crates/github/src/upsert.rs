//! The two idempotent writes every paydown feature shares: one sticky
//! comment per marker and one check run per name. Both follow the same
//! rules, so the review and the budgets cannot drift apart:
//!
//! - **Race policy** (two writers at once, e.g. two deliveries or two
//!   workflows). Sticky comment: the *oldest* copy (lowest id) is the
//!   sticky one; after a create the comments are listed again and every
//!   other copy (ours included, when an older one appeared) is deleted, so
//!   the later of two racers always leaves exactly one. A copy already
//!   gone (404) is fine. Check run: runs cannot be deleted; the *newest*
//!   run of the name by the bot's App is the one GitHub shows and the one
//!   adopted ([`latest_check_run`]). A create whose answer was lost (5xx,
//!   timeout) is looked for before it is sent again, by the client.
//! - **403 policy**: GitHub refusing a write (a fork PR's read-only
//!   `GITHUB_TOKEN`, a personal token that may not write check runs) is
//!   not an error: the upsert returns [`Upsert::Refused`] with GitHub's
//!   message and the caller shows it as a warning. A refused delete of a
//!   duplicate leaves the copy and adds a warning. Every other error is
//!   returned (the client has already retried what can be retried).

use serde::Serialize;
use serde_json::{Value, json};

use crate::models::{Comment, Created};
use crate::{Client, Repo, Result, latest_check_run};

/// Annotations per check-run request (GitHub's limit).
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// What an upsert did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Upsert {
    /// Nothing exists and there is nothing to say.
    None,
    /// The existing object already says this.
    Unchanged {
        /// The object's id.
        id: u64,
    },
    /// Created; `id` is `None` in a dry run.
    Created {
        /// The new object's id.
        id: Option<u64>,
    },
    /// Edited in place; not written in a dry run.
    Updated {
        /// The object's id.
        id: u64,
    },
    /// GitHub refused the write with 403; `reason` is its message.
    Refused {
        /// GitHub's message.
        reason: String,
    },
}

impl Upsert {
    /// The object's id when there is one: written, adopted or left as it
    /// was (`None` when nothing exists, a dry run would create it, or the
    /// write was refused).
    pub fn id(&self) -> Option<u64> {
        match self {
            Upsert::Unchanged { id } | Upsert::Updated { id } => Some(*id),
            Upsert::Created { id } => *id,
            Upsert::None | Upsert::Refused { .. } => None,
        }
    }

    /// The warning a refused write of `what` becomes: every caller shows a
    /// 403 instead of failing (see the module docs).
    pub fn refusal(&self, what: &str) -> Option<String> {
        match self {
            Upsert::Refused { reason } => Some(format!("could not write the {what}: {reason}")),
            _ => None,
        }
    }
}

/// The result of [`upsert_sticky_comment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickyComment {
    /// What was (or would be) written.
    pub write: Upsert,
    /// The body the comment has (or would have) after the upsert; `None`
    /// when no comment is posted.
    pub body: Option<String>,
    /// Extra copies (from a race) deleted, or that would be in a dry run.
    pub duplicates_deleted: usize,
    /// Refused deletes of duplicates (the copies stay).
    pub warnings: Vec<String>,
}

/// A body as compared: GitHub may hand back CRLF and drop trailing space.
pub fn comparable(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end().to_string()
}

fn refused<T>(written: Result<T>) -> Result<std::result::Result<T, String>> {
    match written {
        Ok(v) => Ok(Ok(v)),
        Err(e) if e.status() == Some(403) => Ok(Err(e.to_string())),
        Err(e) => Err(e),
    }
}

/// The bot's own comments on issue/PR `number` that `is_marked` accepts,
/// oldest first. Another App echoing the marker is never adopted.
async fn marked(
    client: &Client,
    repo: &Repo,
    number: u64,
    is_marked: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Vec<Comment>> {
    let comments: Vec<Comment> = client.get_all(&repo.issue_comments(number)).await?;
    let identity = client.identity().await?;
    let mut mine: Vec<Comment> = comments
        .into_iter()
        .filter(|c| c.by(&identity) && c.body.as_deref().is_some_and(is_marked))
        .collect();
    mine.sort_by_key(|c| c.id);
    Ok(mine)
}

async fn delete_copies(
    client: &Client,
    repo: &Repo,
    ids: &[u64],
    what: &str,
    dry_run: bool,
    out: &mut StickyComment,
) -> Result<()> {
    for &id in ids {
        if !dry_run {
            match client.delete(&repo.comment(id)).await {
                Ok(()) => {}
                Err(e) if e.status() == Some(404) => {}
                Err(e) if e.status() == Some(403) => {
                    out.warnings
                        .push(format!("could not delete a duplicate {what}: {e}"));
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        out.duplicates_deleted += 1;
    }
    Ok(())
}

/// The one sticky comment on issue/PR `number`: the bot's own comment whose
/// body `is_marked` accepts. `desired` gets the current body (`None` when
/// there is no comment) and answers what the comment should say (`None`:
/// leave it as it is, or post nothing). The comment is edited only when
/// its text changes; see the module docs for the race and 403 policies.
/// `what` names the comment in warnings ("sticky comment").
pub async fn upsert_sticky_comment(
    client: &Client,
    repo: &Repo,
    number: u64,
    is_marked: &(dyn Fn(&str) -> bool + Sync),
    desired: impl FnOnce(Option<&str>) -> Option<String>,
    what: &str,
    dry_run: bool,
) -> Result<StickyComment> {
    let mine = marked(client, repo, number, is_marked).await?;
    let mut out = StickyComment {
        write: Upsert::None,
        body: None,
        duplicates_deleted: 0,
        warnings: Vec::new(),
    };
    let existing = mine.first();
    let wanted = desired(existing.and_then(|c| c.body.as_deref()));
    match (existing, wanted) {
        (None, None) => return Ok(out),
        (Some(first), None) => {
            out.write = Upsert::Unchanged { id: first.id };
            out.body = first.body.clone();
        }
        (Some(first), Some(body)) => {
            let current = first.body.as_deref().unwrap_or_default();
            if comparable(current) == comparable(&body) {
                out.write = Upsert::Unchanged { id: first.id };
            } else {
                if !dry_run {
                    let edited: Result<Value> = client
                        .patch_json(&repo.comment(first.id), &json!({ "body": body }))
                        .await;
                    if let Err(reason) = refused(edited)? {
                        out.write = Upsert::Refused { reason };
                        return Ok(out);
                    }
                }
                out.write = Upsert::Updated { id: first.id };
            }
            out.body = Some(body);
        }
        (None, Some(body)) => {
            if dry_run {
                out.write = Upsert::Created { id: None };
                out.body = Some(body);
                return Ok(out);
            }
            let created: Result<Created> = client.create_comment(repo, number, &body).await;
            let created = match refused(created)? {
                Ok(c) => c,
                Err(reason) => {
                    out.write = Upsert::Refused { reason };
                    return Ok(out);
                }
            };
            out.body = Some(body);
            // A writer racing this one may have posted too: the later of
            // the two sees both and keeps the oldest.
            let now = marked(client, repo, number, is_marked).await?;
            let oldest = now.first().map_or(created.id, |c| c.id.min(created.id));
            let extra: Vec<u64> = now
                .iter()
                .map(|c| c.id)
                .filter(|&id| id != oldest)
                .collect();
            delete_copies(client, repo, &extra, what, dry_run, &mut out).await?;
            out.write = if oldest < created.id {
                Upsert::Unchanged { id: oldest }
            } else {
                Upsert::Created {
                    id: Some(created.id),
                }
            };
            return Ok(out);
        }
    }
    let extra: Vec<u64> = mine.iter().skip(1).map(|c| c.id).collect();
    delete_copies(client, repo, &extra, what, dry_run, &mut out).await?;
    Ok(out)
}

/// A completed check run as a writer wants it to read.
#[derive(Debug, Clone)]
pub struct CheckRunSpec<'a> {
    /// The check's name; the run with this name on `head_sha` is edited.
    pub name: &'a str,
    /// The commit the run is on.
    pub head_sha: &'a str,
    /// `success`, `neutral`, `failure`…
    pub conclusion: &'a str,
    /// The headline shown next to the check.
    pub title: &'a str,
    /// The Markdown summary.
    pub summary: &'a str,
    /// Check-run annotation objects, sent [`ANNOTATIONS_PER_REQUEST`] at a time.
    pub annotations: &'a [Value],
    /// `completed_at` to send, if any (RFC 3339).
    pub completed_at: Option<String>,
}

/// The one check run `spec.name` on `spec.head_sha`. The newest run of
/// that name by the bot's App is left alone when it already shows this
/// result; it is updated while it has no annotations (GitHub appends
/// annotations on every update), else superseded by a new run of the same
/// name (GitHub shows the newest). See the module docs for the race and
/// 403 policies.
pub async fn upsert_check_run(
    client: &Client,
    repo: &Repo,
    spec: &CheckRunSpec<'_>,
    dry_run: bool,
) -> Result<Upsert> {
    let existing = match refused(latest_check_run(client, repo, spec.head_sha, spec.name).await)? {
        Ok(existing) => existing,
        Err(reason) => return Ok(Upsert::Refused { reason }),
    };
    if let Some(run) = &existing {
        let output = &run.output;
        let same = run.conclusion.as_deref() == Some(spec.conclusion)
            && output.title.as_deref() == Some(spec.title)
            && output.summary.as_deref().map(comparable) == Some(comparable(spec.summary))
            && output.annotations_count == spec.annotations.len();
        if same {
            return Ok(Upsert::Unchanged { id: run.id });
        }
    }
    let reusable = existing.filter(|r| r.output.annotations_count == 0);
    if dry_run {
        return Ok(match reusable {
            Some(run) => Upsert::Updated { id: run.id },
            None => Upsert::Created { id: None },
        });
    }
    let mut batches = spec.annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let first = batches.next().unwrap_or(&[]);
    let output = |batch: &[Value]| json!({ "title": spec.title, "summary": spec.summary, "annotations": batch });
    let mut body = json!({
        "status": "completed",
        "conclusion": spec.conclusion,
        "output": output(first),
    });
    if let Some(at) = &spec.completed_at {
        body["completed_at"] = json!(at);
    }
    let written: Result<u64> = match &reusable {
        Some(run) => client
            .patch_json::<_, Value>(&repo.route(&format!("/check-runs/{}", run.id)), &body)
            .await
            .map(|_| run.id),
        None => {
            body["name"] = json!(spec.name);
            body["head_sha"] = json!(spec.head_sha);
            client
                .create_check_run::<Created>(repo, &body)
                .await
                .map(|c| c.id)
        }
    };
    let id = match refused(written)? {
        Ok(id) => id,
        Err(reason) => return Ok(Upsert::Refused { reason }),
    };
    for batch in batches {
        let more: Result<Value> = client
            .patch_json(
                &repo.route(&format!("/check-runs/{id}")),
                &json!({ "output": output(batch) }),
            )
            .await;
        if let Err(reason) = refused(more)? {
            return Ok(Upsert::Refused { reason });
        }
    }
    Ok(match reusable {
        Some(_) => Upsert::Updated { id },
        None => Upsert::Created { id: Some(id) },
    })
}
