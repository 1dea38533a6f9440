//! Re-ranking every item of a repository against every incident.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use paydown_config::Config;
use serde::Serialize;

use crate::counts::{Counts, count};
use crate::links::{ItemLinks, Linker};
use crate::model::Incident;
use crate::priority::{ItemScoreInput, Score, score};
use crate::spike::{SpikeDecision, SpikeRule, spike};

/// One item to rank.
#[derive(Debug, Clone, Copy)]
pub struct RankedItem<'a> {
    /// The item's id and issue, which incidents link to.
    pub links: ItemLinks<'a>,
    /// What the score reads besides incident counts.
    pub score: ItemScoreInput<'a>,
    /// Its issue carries `debt:hot` now.
    pub was_hot: bool,
}

/// An item's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// Position of the item in the input.
    pub index: usize,
    /// Its linked incidents, counted per window.
    pub counts: Counts,
    /// Its priority score and band.
    pub score: Score,
    /// Whether it is (still) hot.
    pub spike: SpikeDecision,
    /// Positions in the incident input of the incidents linked to it, for links.
    pub incidents: Vec<usize>,
}

/// Links, counts, scores and spike-checks every item; highest score first,
/// ties by input order. Cost: one hash probe per incident reference, then
/// a sort of each item's incidents.
pub fn rank(
    repo: &str,
    items: &[RankedItem<'_>],
    incidents: &[Incident],
    config: &Config,
    now: DateTime<Utc>,
) -> Vec<Ranked> {
    let links: Vec<ItemLinks<'_>> = items.iter().map(|i| i.links).collect();
    let linker = Linker::new(repo, &links);
    let mut per_item: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut buf = Vec::new();
    for (n, incident) in incidents.iter().enumerate() {
        linker.items_for(incident, &mut buf);
        for &item in &buf {
            per_item.entry(item).or_default().push(n);
        }
    }
    let rule = SpikeRule::from_config(&config.incidents);
    let today = now.date_naive();
    let mut out: Vec<Ranked> = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let linked = per_item.remove(&(index as u32)).unwrap_or_default();
            let counts = count(
                linked.iter().map(|&n| &incidents[n]),
                now,
                rule.window_days,
                rule.spike_days,
            );
            Ranked {
                index,
                score: score(&item.score, &counts, config, today),
                spike: spike(&counts, item.was_hot, &rule),
                counts,
                incidents: linked,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .value
            .total_cmp(&a.score.value)
            .then(a.index.cmp(&b.index))
    });
    out
}
