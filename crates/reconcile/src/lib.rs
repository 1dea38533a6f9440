//! Debt-issue reconciliation as pure functions: what each debt issue should
//! look like ([`render`]), how the bot recognises its own issues
//! ([`marker`], the item markers of `paydown_markers`), which GitHub writes
//! bring the repository's issues in line with a scan of the default branch
//! ([`mod@plan`]), and the dashboard body ([`dashboard`]).
//!
//! Nothing here does I/O: callers (the App, the Action, `paydown sync`)
//! fetch the scan and the issues, call [`plan::plan`], and apply or print the
//! resulting [`plan::Plan`].

pub mod dashboard;
pub mod impact;
pub mod plan;
pub mod render;

/// The item markers, re-exported under the name the planner's callers and
/// tests have always used.
pub use paydown_markers::item as marker;

pub use dashboard::{DashboardInput, DashboardItem, PaidDownItem, render_dashboard};
pub use impact::{HOT_LABEL, Impact, IncidentLink};
pub use marker::{ItemMarker, ItemMeta};
pub use plan::{Coverage, Effect, ExistingIssue, IssueState, Plan, PlanInput, PlanSummary, plan};
pub use render::{RenderedIssue, RepoRef, TRACKING_LABEL};
