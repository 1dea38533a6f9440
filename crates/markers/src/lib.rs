//! The marker and label protocol: how paydown keeps its database on GitHub.
//!
//! Everything paydown must remember without its server's store (which item
//! an issue tracks, what a slash command decided, what a PR paid down, which
//! comment is the bot's sticky one) is written into the bodies it posts as
//! hidden HTML comments, `<!-- paydown:<kind> … -->`, and read back from
//! there. This crate owns every such format, the parser of each, the rule
//! that only the bot's own comments count ([`author`]), and the names of the
//! labels paydown manages ([`labels`]). It does no I/O.
//!
//! | kind | written in | module |
//! |---|---|---|
//! | `item id=<id> v=1` | debt issue body | [`item`] |
//! | `meta {json}` | debt issue body | [`item`] |
//! | `closed-by-bot` | debt issue body, while the bot keeps it closed | [`closed_by_bot`] |
//! | `dashboard` | the dashboard issue body | [`dashboard`] |
//! | `pr-debt {json}` | the PR's sticky debt report comment | [`pr_debt`] |
//! | `record {json}` | a slash command's reply, one per decision | [`record`] |
//! | `drift` | the PR's sprint drift comment | [`drift`] |
//! | `reply comment=<id> rev=<rev>` | a slash command's reply | [`reply`] |
//! | `link debt=#<n>` | the reply to `/debt link` on an incident | [`reply`] |
//!
//! Two rules keep markers trustworthy. Text paydown did not write is made
//! inert before it is posted (`paydown_markdown`: no `<!--` or `-->`
//! survives), so a marker can only come from the bot; and a marker is read
//! only from a comment the bot itself wrote ([`author::BotIdentity`]),
//! since other bots echo user text. Most parsers also read a marker only at
//! the start of a line, where the bot writes it.
//!
//! Versioning (see `docs/design.md`): the item marker carries `v=`; the
//! bot writes [`VERSION`] and reads every version in [`READ_VERSIONS`]. JSON
//! payloads change only additively (new fields have defaults, unknown
//! record kinds are skipped), so they need no number. A change that an
//! older parser could misread bumps [`VERSION`] and keeps the old versions
//! in [`READ_VERSIONS`]: issues written years ago must still be found.

pub mod author;
pub mod item;
pub mod labels;
pub mod pr_debt;
pub mod record;
pub mod reply;

pub use author::{BotIdentity, is_bot_account};
pub use item::{ItemMarker, ItemMeta};
pub use pr_debt::DeltaCounts;

/// The protocol version written in versioned markers (the item marker).
pub const VERSION: u32 = 1;

/// Every version this build reads; a version the bot once wrote is never
/// dropped from it.
pub const READ_VERSIONS: &[u32] = &[1];

/// The end of every marker.
pub const CLOSE: &str = " -->";

/// JSON as written inside a marker: `<` and `>` become `\u` escapes, which
/// JSON reads back unchanged, so no string in it can open or close the HTML
/// comment early (`serde_json` escapes neither).
pub(crate) fn json_without_markup(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e")
}

/// The dashboard issue, found among the bot's issues by this marker.
pub mod dashboard {
    /// Written as the first line of the dashboard issue's body.
    pub const MARKER: &str = "<!-- paydown:dashboard -->";

    /// Whether `body` is the dashboard's: the marker anywhere in it (the
    /// caller lists only issues with paydown's label).
    pub fn is_dashboard(body: &str) -> bool {
        body.contains(MARKER)
    }
}

/// A debt issue the bot closed because its annotation left the code: only
/// such an issue is reopened when the annotation returns (one a person
/// closed stays closed).
pub mod closed_by_bot {
    /// Appended on its own line to the body when the bot closes the issue.
    pub const MARKER: &str = "<!-- paydown:closed-by-bot -->";

    /// Whether the bot closed the issue `body` belongs to.
    pub fn is_marked(body: &str) -> bool {
        body.contains(MARKER)
    }

    /// `body` with the marker appended on a line of its own, unless it
    /// already carries one.
    pub fn mark(body: &str) -> String {
        if is_marked(body) {
            body.to_string()
        } else {
            format!("{}\n{MARKER}", body.trim_end())
        }
    }

    /// `body` without the marker (on reopening), wherever it stands.
    pub fn unmark(body: &str) -> String {
        body.replace(&format!("\n{MARKER}"), "").replace(MARKER, "")
    }
}

/// The sprint drift comment on a pull request, which the bot edits in place.
pub mod drift {
    /// Written as the first line of the drift comment.
    pub const MARKER: &str = "<!-- paydown:drift -->";

    /// Whether `body` is a drift comment: the marker on a line of its own.
    pub fn is_drift_comment(body: &str) -> bool {
        body.lines().any(|l| l.trim() == MARKER)
    }
}

#[cfg(test)]
mod tests;
