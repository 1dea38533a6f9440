//! What slash commands decide about a pull request (its class, points, an
//! accepted drift), kept on GitHub: the bot's reply carries one
//! `<!-- paydown:record {json} -->` line per decision. The JSON is the
//! decision's own type (`paydown_budgets::Record`, tagged by `kind`), so
//! this module frames any serde type.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::CLOSE;

/// Opening of a record marker; the JSON follows, then ` -->`.
pub const PREFIX: &str = "<!-- paydown:record ";

/// The marker line for `record`, to append to the bot's reply on a line of
/// its own. A reason containing `-->` cannot end the comment early: `<` and
/// `>` are written as JSON escapes.
pub fn render<T: Serialize>(record: &T) -> String {
    // Records are plain enums of strings, numbers and timestamps: cannot fail.
    let json = serde_json::to_string(record).unwrap_or_default();
    format!("{PREFIX}{}{CLOSE}", crate::json_without_markup(&json))
}

/// Every record marker in `body`, in order; markers that do not parse as `T`
/// (a person typing one by hand, a newer bot's kinds) are skipped.
pub fn parse<T: DeserializeOwned>(body: &str) -> Vec<T> {
    // Only a marker that starts its line counts: the bot writes each on a
    // line of its own, while echoed user text (escaped anyway) never starts
    // a line of the reply, so a forgery quoted mid-line is not read.
    body.lines()
        .filter_map(|line| line.trim_start().strip_prefix(PREFIX))
        .filter_map(|after| after.find("-->").map(|end| &after[..end]))
        .filter_map(|json| serde_json::from_str::<T>(json.trim()).ok())
        .collect()
}
