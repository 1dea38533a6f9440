//! Sprint budgets as pure functions (docs/budgets.md): which sprint an instant falls
//! in ([`sprints`]), what a pull request's work is and how many points it is
//! worth ([`mod@classify`]), the per-sprint ledger of merged work ([`ledger`]),
//! whether a pull request makes reserved debt capacity drift to feature work
//! ([`drift`]), and the Markdown/JSON/text the bot and `paydown report` show
//! ([`render`]).
//!
//! Nothing here does I/O: callers fetch pull requests and milestones, build a
//! [`Ledger`], evaluate a PR with [`evaluate_pr`], and write what the
//! renderers return.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use paydown_ledger::{Calendar, Ledger, PrRecord, evaluate_pr};
//!
//! let mut config = paydown_config::Config::default();
//! config.sprints.capacity_points = Some(20);
//! config.sprints.debt_share = 0.3;
//! let calendar = Calendar::from_config(&config.sprints, &[]).unwrap();
//! let merged = |number, day| PrRecord {
//!     number,
//!     merged_at: Some(Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap()),
//!     labels: vec!["feature".into(), "points: 5".into()],
//!     ..PrRecord::default()
//! };
//! let prs = [merged(1, 6), merged(2, 7), merged(3, 8)];
//! let ledger = Ledger::build(&config, calendar, &prs).unwrap();
//! let sprint = ledger.sprint_for_pr(&prs[2], Utc::now()).unwrap();
//! let verdict = evaluate_pr(&ledger, &sprint, &prs[2]);
//! assert!(verdict.drifting);
//! assert_eq!(verdict.feature_so_far, 15);
//! assert_eq!(verdict.allowance.to_string(), "14");
//! ```

pub mod classify;
pub mod drift;
pub mod ledger;
pub mod render;
pub mod sprints;

pub use classify::{
    ClassSource, Classification, Overrides, PointsSource, Split, WorkClass, classify,
    points_for_diff, points_label,
};
pub use drift::{CheckConclusion, DriftVerdict, check_conclusion, evaluate_pr};
pub use ledger::{
    Acceptance, AcceptedDrift, Amount, Budget, HotItem, Ledger, LedgerPr, PrRecord, SprintLedger,
};
pub use render::{
    CommentAction, DASHBOARD_SPRINTS, DRIFT_MARKER, accepted_drifts_section, check_output,
    comment_action, dashboard_section, report_json, report_markdown, report_text, status_reply,
    sticky_comment,
};
pub use sprints::{Calendar, Milestone, MilestoneState, Sprint, SprintId};

/// Configuration the ledger cannot work with. Config validation normally
/// rejects these first; they are checked again because a [`paydown_config::Config`]
/// can be built in code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LedgerError {
    /// `sprints.cadence.length_days` is 0.
    #[error("sprints.cadence.length_days must be at least 1 (got 0)")]
    ZeroSprintLength,
    /// `sprints.cadence.length_days` so large the first sprint ends beyond representable time.
    #[error("sprints.cadence.length_days {0} is too large")]
    LengthOutOfRange(u32),
    /// A share (`debt_share` or `tolerance`) outside 0..=1 or not a number.
    #[error("sprints.{key} must be a number from 0 to 1 (got {value})")]
    ShareOutOfRange {
        /// The config key.
        key: &'static str,
        /// The offending value.
        value: f64,
    },
    /// The cadence start is so far from 1970 that its instant cannot be represented.
    #[error("sprints.cadence.start {0} is out of range")]
    StartOutOfRange(chrono::NaiveDate),
}
