//! Pure incident logic: what an incident is, which debt items it links to,
//! how many incidents an item had, the priority score with its `debt:P1`…`P4`
//! band and one-line "why", and the spike rule behind `debt:hot`.
//!
//! Nothing here does I/O: the App, the Action and the CLI feed incidents and
//! items in and render what comes out, so all three rank the same way.
//! The formula, defaults and hysteresis are documented in `docs/incidents.md`.

mod counts;
mod github;
mod links;
mod model;
mod priority;
mod rank;
mod spike;

pub use counts::{Counts, STORM_MINUTES, count, per_week};
pub use github::{IssueFacts, from_issue, issue_id};
pub use links::{
    IncidentKey, ItemLinks, Linker, MAX_ITEM_CANDIDATES, extract_references, parse_incident_key,
};
pub use model::{Incident, Reference, Status, parse_severity};
pub use priority::{Band, ItemScoreInput, Score, score};
pub use rank::{Ranked, RankedItem, rank};
pub use spike::{SpikeDecision, SpikeRule, spike};
