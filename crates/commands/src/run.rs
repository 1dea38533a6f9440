//! Running the slash commands of one comment against GitHub: the single
//! entry point [`run_comment`] that the App (`issue_comment` webhooks) and
//! the Action (`issue_comment` workflow events) both call with a neutral
//! [`CommentEvent`], and the [`PermissionCache`] for GitHub's
//! collaborator-permission API.
//!
//! The order of work, and why:
//! 1. comments by bots (paydown's own included) and anything but a created
//!    or edited comment are ignored; an edit runs only the commands it added;
//! 2. a comment without commands costs no API call at all;
//! 3. a reply already carrying this comment revision's marker means a
//!    redelivery: nothing runs twice;
//! 4. 👀 on the comment, then each command is placed, authorised (the
//!    commenter's permission comes from the API, never from the payload's
//!    `author_association`) and run;
//! 5. 😕 when anything was refused or failed (👍 alone for quiet
//!    successes), then one reply comment with every result and hidden
//!    records, written last because its marker is what makes a retry a no-op;
//! 6. after an override or accepted drift is on record, the PR's budget
//!    check is evaluated again so it reflects it.

use chrono::{DateTime, Utc};
use paydown_budgets::Record;
use paydown_config::{Config, Permission};
use paydown_github::models::{Comment, Created, Issue};
use paydown_github::{Client, GitHubError, Repo};
use paydown_ledger::{Acceptance, WorkClass};
use sha2::{Digest, Sha256};

use crate::command::{Class, Command, IssueRef};
use crate::event::{CommentAction, CommentEvent};
use crate::parse::{Parsed, added_commands, parse_comment};
use crate::permission::PermissionCache;
use crate::reply::{
    CommandResult, IGNORED_LABEL, Outcome, TRACKING_LABEL, link_marker, place_of, render_reply,
    reply_marker,
};
use crate::spec::{Place, help_text};
use crate::{Refusal, authorise};

/// What an accepted drift's reply says once the budget check was re-run
/// with it; replaced by [`CHECK_LATER`] when that re-check failed.
const CHECK_CLEARED: &str = "The budget check no longer fails on this pull request's drift";
const CHECK_LATER: &str = "The budget check could not be updated just now; it will reflect this on the pull request's next event";

/// Settings of the surface running the commands.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The App's slug for the `@slug verb` form; empty turns it off (Action).
    pub app_slug: String,
    /// Web base (`https://github.com`) for links the review writes.
    pub html_base: String,
}

/// Why a comment's commands could not be handled; the queue retries.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A GitHub call failed: looking for an earlier reply, reacting,
    /// posting the reply, or a command's own call when it failed
    /// transiently and nothing was written (so a retry loses nothing).
    #[error(transparent)]
    GitHub(#[from] GitHubError),
}

/// Why nothing ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// The author is a bot.
    Bot,
    /// Deleted, or another action that runs nothing.
    Action,
    /// No command lines (or none added by the edit).
    NoCommands,
    /// A reply for this comment revision exists: a redelivery.
    AlreadyAnswered,
}

/// What [`run_comment`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// Why nothing ran; `None` when the comment's commands were handled.
    pub skipped: Option<Skipped>,
    /// Each command line in order with its outcome; empty when skipped.
    pub results: Vec<CommandResult>,
    /// Id of the reply comment, when one was posted.
    pub reply_id: Option<u64>,
    /// Reactions added, 👀 first.
    pub reactions: Vec<&'static str>,
}

impl RunOutcome {
    /// Whether a command put a budget record on file (an override or an
    /// accepted drift): the dashboard's sprint table changed.
    pub fn recorded_budget(&self) -> bool {
        self.results.iter().any(|r| {
            matches!(&r.outcome, Outcome::Done { markers, .. }
                if markers.iter().any(|m| m.starts_with(paydown_budgets::RECORD_MARKER_PREFIX)))
        })
    }

    fn skipped(why: Skipped) -> RunOutcome {
        RunOutcome {
            skipped: Some(why),
            results: Vec::new(),
            reply_id: None,
            reactions: Vec::new(),
        }
    }
}

/// Runs the commands of one comment event. See the module docs for the order
/// of work. Errors are GitHub failures worth retrying (the queue does);
/// everything a user can fix is answered in the reply instead.
pub async fn run_comment(
    client: &Client,
    config: &Config,
    permissions: &PermissionCache,
    event: &CommentEvent,
    options: &RunOptions,
) -> Result<RunOutcome, RunError> {
    run_comment_with_note(client, config, permissions, event, options, None).await
}

/// [`run_comment`], with `note` put at the top of any reply: e.g. that the
/// config file is invalid and the commands ran with the defaults, so that
/// never happens silently.
pub async fn run_comment_with_note(
    client: &Client,
    config: &Config,
    permissions: &PermissionCache,
    event: &CommentEvent,
    options: &RunOptions,
    note: Option<&str>,
) -> Result<RunOutcome, RunError> {
    if event.by_bot() {
        return Ok(RunOutcome::skipped(Skipped::Bot));
    }
    let prefix = config.commands.prefix.as_str();
    let parsed = match (event.action, event.previous_body.as_deref()) {
        (CommentAction::Created, _) => parse_comment(&event.body, prefix, &options.app_slug),
        (CommentAction::Edited, Some(old)) => {
            added_commands(old, &event.body, prefix, &options.app_slug)
        }
        // An edit that left the body alone added nothing.
        (CommentAction::Edited, None) => Vec::new(),
        (CommentAction::Other, _) => return Ok(RunOutcome::skipped(Skipped::Action)),
    };
    if parsed.is_empty() {
        return Ok(RunOutcome::skipped(Skipped::NoCommands));
    }
    let repo = &event.repo;
    let marker = reply_marker(event.comment_id, &revision(event));
    if already_answered(client, repo, event.number, &marker).await? {
        tracing::info!(repo = %full_name(repo), comment = event.comment_id, "commands already answered; redelivery ignored");
        return Ok(RunOutcome::skipped(Skipped::AlreadyAnswered));
    }
    react(client, repo, event.comment_id, "eyes").await?;
    let mut reactions = vec!["eyes"];

    let place = place_of(
        event.is_pull_request,
        &event.issue_labels,
        &event.issue_body,
        config,
    );
    let mut runner = Runner {
        client,
        config,
        permissions,
        event,
        options,
        place,
        permission: None,
        now: Utc::now(),
        records: Vec::new(),
    };
    let mut results = Vec::with_capacity(parsed.len());
    // A GitHub failure fails its own line only: the records of the comment's
    // other lines live in the reply alone, so the reply is still posted.
    let mut transient: Option<GitHubError> = None;
    for line in &parsed {
        let outcome = match runner.run_line(line).await {
            Ok(outcome) => outcome,
            Err(RunError::GitHub(e)) => {
                tracing::warn!(repo = %full_name(repo), comment = event.comment_id, error = %e, "a command failed on a GitHub error");
                let text = failure_text(&e);
                if e.is_transient() && transient.is_none() {
                    transient = Some(e);
                }
                Outcome::Failed(text)
            }
        };
        results.push(CommandResult {
            line: line.text.clone(),
            outcome,
        });
    }
    // Nothing ran and nothing was written: a retry of the whole delivery
    // loses nothing and may well succeed.
    if let Some(e) = transient
        && should_retry(&results)
    {
        return Err(RunError::GitHub(e));
    }

    clip_messages(&mut results);
    let mut reply = render_reply(&results, &marker);
    if let (Some(body), Some(note)) = (reply.comment.as_mut(), note) {
        body.insert_str(
            0,
            &format!("{}\n\n", clip_text(note.trim(), MAX_NOTE_CHARS)),
        );
    }
    // Reactions first: the reply carries the marker that makes a retry a
    // no-op, so it is the last thing written.
    for content in &reply.reactions {
        react(client, repo, event.comment_id, content).await?;
        reactions.push(content);
    }
    let mut reply_id = None;
    if let Some(body) = &reply.comment {
        let posted: Created = client.create_comment(repo, event.number, body).await?;
        reply_id = Some(posted.id);
    }
    // The reply (with every record) is on GitHub now, so the check is
    // re-derived from there; the last record stands for the comment's.
    if let Some(record) = runner.records.last() {
        match crate::steps::recheck(client, repo, config, event.number, record).await {
            Ok(()) => {}
            // The records are safe in the reply; the next pull request event
            // re-checks. Failing the delivery would not run the commands again.
            Err(e) => {
                tracing::warn!(repo = %full_name(repo), pr = event.number, error = ?e, "budget re-check after a recorded command failed");
                // The reply must not claim a check state it did not reach.
                if let (Some(id), Some(body)) = (reply_id, reply.comment.as_deref())
                    && body.contains(CHECK_CLEARED)
                {
                    let body = body.replace(CHECK_CLEARED, CHECK_LATER);
                    let patched = client.edit_comment(repo, id, &body).await;
                    if let Err(e) = patched {
                        tracing::warn!(repo = %full_name(repo), pr = event.number, error = %e, "could not correct the reply after a failed re-check");
                    }
                }
            }
        }
    }
    Ok(RunOutcome {
        skipped: None,
        results,
        reply_id,
        reactions,
    })
}

/// Per-comment state while its commands run.
struct Runner<'a> {
    client: &'a Client,
    config: &'a Config,
    permissions: &'a PermissionCache,
    event: &'a CommentEvent,
    options: &'a RunOptions,
    place: Place,
    /// Looked up on the first command that needs it.
    permission: Option<Option<Permission>>,
    now: DateTime<Utc>,
    /// Budget records written: drift is re-checked after replying.
    records: Vec<Record>,
}

impl Runner<'_> {
    async fn run_line(&mut self, line: &Parsed) -> Result<Outcome, RunError> {
        let command = match &line.result {
            Ok(command) => command,
            Err(error) => return Ok(Outcome::Refused(error.to_string())),
        };
        let spec = command.verb().spec();
        // The place is checked before spending a permission lookup on it.
        let permission =
            if spec.places.contains(&self.place) && spec.gate.required(self.config).is_some() {
                self.permission().await?
            } else {
                None
            };
        if let Err(refusal) = authorise(command, self.place, permission, self.config) {
            if let Refusal::TooLittlePermission { .. } = refusal {
                tracing::info!(repo = %full_name(&self.event.repo), user = %self.event.author, verb = %command.verb(), "command refused: permission");
            }
            return Ok(Outcome::Refused(refusal.to_string()));
        }
        self.execute(command).await
    }

    async fn permission(&mut self) -> Result<Option<Permission>, RunError> {
        if let Some(permission) = self.permission {
            return Ok(permission);
        }
        let permission = self
            .permissions
            .permission(self.client, &self.event.repo, &self.event.author)
            .await?;
        self.permission = Some(permission);
        Ok(permission)
    }

    async fn execute(&mut self, command: &Command) -> Result<Outcome, RunError> {
        let author = self.event.author.clone();
        let client = self.client;
        let repo = &self.event.repo;
        let number = self.event.number;
        match command {
            Command::Help => Ok(done(help_text(self.config))),
            Command::Status => {
                user_facing(crate::steps::status(client, repo, self.config, number).await)
                    .map(|result| result.map_or_else(Outcome::Failed, done))
            }
            Command::Classify(class) => {
                let record = Record::Class {
                    class: work_class(*class),
                    by: author.clone(),
                    at: self.now,
                };
                Ok(self.record(
                    record,
                    match class {
                        Class::Unclassified => format!(
                            "This pull request now counts as **unclassified** work in the sprint budget (set by @{author})."
                        ),
                        _ => format!(
                            "This pull request now counts as **{}** work in the sprint budget (set by @{author}).",
                            class.name()
                        ),
                    },
                ))
            }
            Command::Points(points) => {
                let record = Record::Points {
                    points: *points,
                    by: author.clone(),
                    at: self.now,
                };
                Ok(self.record(
                    record,
                    format!(
                        "This pull request now counts as **{points}** point{} in the sprint budget (set by @{author}).",
                        if *points == 1 { "" } else { "s" }
                    ),
                ))
            }
            Command::AcceptDrift { reason } => {
                let record = Record::AcceptDrift {
                    acceptance: Acceptance {
                        by: author.clone(),
                        reason: reason.clone(),
                        at: self.now,
                    },
                };
                Ok(self.record(
                    record,
                    format!(
                        "Drift accepted by {}: {}. {CHECK_CLEARED}, and the dashboard lists the trade-off.",
                        // The commenter follows the thread already: named, not pinged.
                        paydown_markdown::user(&author, false),
                        one_line(reason)
                    ),
                ))
            }
            Command::Link(issue) => self.link(issue).await,
            Command::Scan => user_facing(
                crate::steps::scan(client, repo, self.config, number, self.options).await,
            )
            .map(|result| match result {
                Ok(()) => Outcome::Done {
                    message: None,
                    markers: Vec::new(),
                },
                Err(text) => Outcome::Failed(text),
            }),
            Command::Ignore => self.ignore().await,
            Command::Unignore => self.unignore().await,
        }
    }

    fn record(&mut self, record: Record, message: String) -> Outcome {
        let marker = paydown_budgets::record_marker(&record);
        self.records.push(record);
        Outcome::Done {
            message: Some(message),
            markers: vec![marker],
        }
    }

    async fn link(&self, target: &IssueRef) -> Result<Outcome, RunError> {
        let repo = &self.event.repo;
        let here = full_name(repo);
        if let Some(other) = &target.repo
            && !other.eq_ignore_ascii_case(&here)
        {
            return Ok(Outcome::Refused(format!(
                "`link` takes a debt issue of this repository ({here}), not `{target}`. See `{} help` for the list of commands.",
                self.config.commands.prefix
            )));
        }
        let number = target.number;
        if number == self.event.number {
            return Ok(Outcome::Refused(format!(
                "#{number} is this {}; `link` takes a debt issue. See `{} help` for the list of commands.",
                if self.event.is_pull_request {
                    "pull request"
                } else {
                    "issue"
                },
                self.config.commands.prefix
            )));
        }
        let issue = match self.client.get_json::<Issue>(&repo.issue(number)).await {
            Ok(issue) => issue,
            Err(e) if matches!(e.status(), Some(404 | 410)) => {
                return Ok(Outcome::Refused(format!(
                    "#{number} is not an issue of {here}. `link` takes a debt issue, like `{} link #123`.",
                    self.config.commands.prefix
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let tracked = issue
            .labels
            .iter()
            .any(|l| l.name.eq_ignore_ascii_case(TRACKING_LABEL));
        if issue.is_pull_request() || !tracked {
            return Ok(Outcome::Refused(format!(
                "#{number} is not a debt issue (paydown's debt issues carry the `{TRACKING_LABEL}` label). `link` takes a debt issue, like `{} link #123`.",
                self.config.commands.prefix
            )));
        }
        let what = if self.event.is_pull_request {
            "pull request"
        } else {
            "incident"
        };
        Ok(Outcome::Done {
            message: Some(format!(
                "Linked this {what} to debt issue #{number} ({}).",
                one_line(&issue.title)
            )),
            markers: vec![link_marker(number)],
        })
    }

    async fn ignore(&self) -> Result<Outcome, RunError> {
        if self.has_label(IGNORED_LABEL) {
            return Ok(done(format!(
                "This debt item is already ignored. `{} unignore` resumes tracking.",
                self.config.commands.prefix
            )));
        }
        self.client
            .add_labels(
                &self.event.repo,
                self.event.number,
                &[IGNORED_LABEL.to_string()],
            )
            .await?;
        Ok(Outcome::Done {
            message: None,
            markers: Vec::new(),
        })
    }

    async fn unignore(&self) -> Result<Outcome, RunError> {
        let prefix = &self.config.commands.prefix;
        if !self.has_label(IGNORED_LABEL) {
            return Ok(done(format!(
                "This debt item is not ignored; paydown already tracks it. (`{prefix} ignore` stops tracking.)"
            )));
        }
        // Someone may have removed it since the event was sent: a label
        // already gone is the goal met.
        self.client
            .remove_label(&self.event.repo, self.event.number, IGNORED_LABEL)
            .await?;
        Ok(done(format!(
            "paydown tracks this debt item again: the next sync of the default branch updates this issue from the code (and closes or reopens it if the annotation is gone or back). (`{prefix} ignore` stops tracking.)"
        )))
    }

    fn has_label(&self, name: &str) -> bool {
        self.event
            .issue_labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case(name))
    }
}

fn done(message: String) -> Outcome {
    Outcome::Done {
        message: Some(message),
        markers: Vec::new(),
    }
}

/// A failure of a budget or review step: a transient GitHub error is handed
/// to the queue for a retry; anything else becomes a user-facing text.
fn user_facing<T>(
    result: Result<T, crate::steps::StepError>,
) -> Result<Result<T, String>, RunError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(crate::steps::StepError::Transient(e)) => Err(RunError::GitHub(e)),
        Err(crate::steps::StepError::User(text)) => Ok(Err(text)),
    }
}

/// Longest message of one command in a reply, and longest note above it
/// (in characters): with at most `MAX_COMMANDS_PER_COMMENT` lines, each
/// echoed in at most `MAX_ECHO_CHARS`, a reply stays well under GitHub's
/// 65,536-character body limit, whose 422 would fail the delivery for good.
const MAX_MESSAGE_CHARS: usize = 5_000;
const MAX_NOTE_CHARS: usize = 2_000;

/// Cuts every message in `results` to [`MAX_MESSAGE_CHARS`].
fn clip_messages(results: &mut [CommandResult]) {
    for result in results {
        match &mut result.outcome {
            Outcome::Done {
                message: Some(text),
                ..
            }
            | Outcome::Refused(text)
            | Outcome::Failed(text) => *text = clip_text(text, MAX_MESSAGE_CHARS),
            Outcome::Done { message: None, .. } => {}
        }
    }
}

/// `text` cut to `max` characters, with `…` when cut.
fn clip_text(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Whether a comment whose lines came to `results` (some failing on a
/// transient error) is better retried whole: only when no line did anything.
fn should_retry(results: &[CommandResult]) -> bool {
    !results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Done { .. }))
}

/// The reply's short account of a GitHub failure of one command.
fn failure_text(error: &GitHubError) -> String {
    if error.is_transient() {
        return "GitHub did not answer in time (it may be busy or rate-limiting); run the command again in a few minutes.".to_string();
    }
    match error.status() {
        Some(status @ (401 | 403)) => format!(
            "GitHub refused paydown the access this command needs (HTTP {status}); check the App's permissions on this repository."
        ),
        Some(status) => format!("GitHub answered HTTP {status} while running this command."),
        None => "GitHub's answer could not be used while running this command.".to_string(),
    }
}

fn work_class(class: Class) -> WorkClass {
    match class {
        Class::Debt => WorkClass::Debt,
        Class::Feature => WorkClass::Feature,
        Class::Ops => WorkClass::Ops,
        Class::Unclassified => WorkClass::Unclassified,
    }
}

/// Text from users, shown inline: one line, no Markdown that could break
/// out of the sentence, and nothing that opens an HTML comment (a forged
/// marker) or HTML.
fn one_line(text: &str) -> String {
    format!("“{}”", paydown_markdown::single_line(text))
}

fn full_name(repo: &Repo) -> String {
    format!("{}/{}", repo.owner, repo.name)
}

/// Identifies what was run: the comment's body and `updated_at`, so a
/// redelivery matches and a later edit (even back to an older text) does not.
fn revision(event: &CommentEvent) -> String {
    let mut hash = Sha256::new();
    hash.update(event.updated_at.as_deref().unwrap_or_default().as_bytes());
    hash.update([0]);
    hash.update(event.body.as_bytes());
    hex::encode(&hash.finalize()[..6])
}

/// A comment of the bot's own (see [`Client::identity`]) on the issue
/// already carries `marker`; another bot echoing the marker does not count.
async fn already_answered(
    client: &Client,
    repo: &Repo,
    number: u64,
    marker: &str,
) -> Result<bool, GitHubError> {
    let comments: Vec<Comment> = client.get_all(&repo.issue_comments(number)).await?;
    let identity = client.identity().await?;
    Ok(comments.iter().any(|c| {
        let mine = c
            .user
            .as_ref()
            .is_some_and(|u| identity.owns(&u.login, u.kind.as_deref()));
        mine && c
            .body
            .as_deref()
            .is_some_and(|b| paydown_markers::reply::answers(b, marker))
    }))
}

async fn react(
    client: &Client,
    repo: &Repo,
    comment_id: u64,
    content: &str,
) -> Result<(), GitHubError> {
    let _: serde_json::Value = client
        .create_comment_reaction(repo, comment_id, content)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(author: &str, kind: Option<&str>) -> CommentEvent {
        CommentEvent {
            repo: Repo::parse("o/r").unwrap(),
            number: 1,
            is_pull_request: true,
            issue_labels: Vec::new(),
            issue_body: String::new(),
            action: CommentAction::Created,
            comment_id: 9,
            body: "/debt help".into(),
            previous_body: None,
            updated_at: Some("2026-01-01T00:00:00Z".into()),
            author: author.into(),
            author_type: kind.map(str::to_string),
            comment_by_bot: false,
        }
    }

    #[test]
    fn given_a_bot_type_or_bot_login_then_the_author_is_a_bot() {
        assert!(event("paydown[bot]", Some("Bot")).by_bot());
        assert!(event("renovate[bot]", None).by_bot());
        assert!(event("ci-bot", Some("Bot")).by_bot());
        assert!(!event("alice", Some("User")).by_bot());
        assert!(!event("botanist", None).by_bot());
        let edited_reply = CommentEvent {
            comment_by_bot: true,
            ..event("alice", Some("User"))
        };
        assert!(edited_reply.by_bot());
    }

    #[test]
    fn given_an_edit_then_the_revision_differs_and_a_redelivery_matches() {
        let a = event("alice", None);
        let mut b = a.clone();
        assert_eq!(revision(&a), revision(&b));
        b.updated_at = Some("2026-01-01T00:05:00Z".into());
        assert_ne!(revision(&a), revision(&b));
    }

    #[test]
    fn given_ten_huge_messages_and_a_huge_note_then_the_reply_fits_githubs_limit() {
        let huge = "x".repeat(40_000);
        let mut results: Vec<CommandResult> = (0..crate::MAX_COMMANDS_PER_COMMENT)
            .map(|i| CommandResult {
                line: format!("/debt help {i}"),
                outcome: if i % 2 == 0 {
                    done(huge.clone())
                } else {
                    Outcome::Failed(huge.clone())
                },
            })
            .collect();
        clip_messages(&mut results);
        let reply = render_reply(&results, "<!-- m -->").comment.unwrap();
        let note = clip_text(&huge, MAX_NOTE_CHARS);
        assert!(reply.chars().count() + note.chars().count() < 65_536);
        assert!(
            reply.ends_with("<!-- m -->\n"),
            "{}",
            &reply[reply.len() - 40..]
        );
        assert_eq!(clip_text("short", 10), "short");
        assert_eq!(clip_text("ééé", 2), "éé…");
    }

    #[test]
    fn given_a_reason_with_markdown_breaks_then_it_is_shown_on_one_line() {
        assert_eq!(one_line("launch\nweek  \t now"), "“launch week now”");
    }
}
