//! The names of the labels paydown manages. Labels are part of the protocol:
//! the bot lists its issues by [`TRACKING`] and reads state (won't fix,
//! ignored, hot) back from the others, so a rename strands old issues.

/// Every debt issue carries it, so the bot can list its issues without
/// searching (search is eventually consistent; listing by label is not).
pub const TRACKING: &str = "paydown";
/// Prefix of every label paydown manages on debt issues (`debt:todo`).
pub const PREFIX: &str = "debt:";
/// A person closed the issue while its annotation remains; never reopened.
pub const WONTFIX: &str = "debt:wontfix";
/// Set by `/debt ignore`: the issue is left alone entirely.
pub const IGNORED: &str = "debt:ignored";
/// Prefix of area labels (`debt:area/billing`).
pub const AREA_PREFIX: &str = "debt:area/";
/// Present while an incident spike lasts.
pub const HOT: &str = "debt:hot";
/// The priority bands, most urgent first.
pub const PRIORITY: [&str; 4] = ["debt:P1", "debt:P2", "debt:P3", "debt:P4"];
/// A pull request carrying it is not counted in the sprint budget (the
/// default of `work.ignore_labels`).
pub const IGNORE_PR: &str = "paydown:ignore";
