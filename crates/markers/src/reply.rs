//! Markers in the bot's reply to a comment with slash commands.

use crate::CLOSE;

/// Opening of the marker that ties a reply to the comment (and the revision
/// of it) it answers, so a redelivered webhook is answered once.
pub const PREFIX: &str = "<!-- paydown:reply ";

/// Opening of the marker a `/debt link` reply leaves on an incident issue.
pub const LINK_PREFIX: &str = "<!-- paydown:link ";

/// The marker naming the comment and revision a reply answers.
pub fn reply_marker(comment_id: u64, revision: &str) -> String {
    format!("{PREFIX}comment={comment_id} rev={revision}{CLOSE}")
}

/// Whether `body` (a comment of the bot's own) answers what `marker`
/// ([`reply_marker`]) names: the marker on a line of its own.
pub fn answers(body: &str, marker: &str) -> bool {
    body.contains(PREFIX) && body.lines().any(|l| l.trim() == marker)
}

/// The marker a `/debt link` reply leaves. Incident linking reads it like
/// any `#N` reference in the incident's comments (`paydown_incidents`).
pub fn link_marker(debt_issue: u64) -> String {
    format!("{LINK_PREFIX}debt=#{debt_issue}{CLOSE}")
}
