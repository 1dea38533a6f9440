//! The priority score, its band and its one-line explanation.
//!
//! score = w.incidents × Σ severity(incident groups in the window)
//!       + w.age       × ln(1 + age_days / 30)
//!       + w.tier      × (4 − tier)            (tier 1: 3, tier 2: 2, tier 3: 1, else 0)
//!       + w.cost      × 2 / (1 + cost_days)   (cheap items rise; unknown cost: 0)
//!       + w.severity  × keyword severity      (low 1 … critical 4)
//!       + w.due       × (1 + min(weeks overdue, 12))   when the due date has passed
//!
//! Severity of an incident: low 1, medium 2 (also unknown), high 3,
//! critical 4, so with the default weights one medium incident adds 6 points
//! and three make any item P1 (default thresholds 15, 8, 4).

use chrono::NaiveDate;
use paydown_config::{Config, Severity};
use serde::Serialize;

use crate::counts::Counts;

/// `debt:P1` (most urgent) … `debt:P4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Band {
    /// Most urgent.
    P1,
    /// Urgent.
    P2,
    /// Routine.
    P3,
    /// Least urgent.
    P4,
}

impl Band {
    /// Every band, most urgent first.
    pub const ALL: [Band; 4] = [Band::P1, Band::P2, Band::P3, Band::P4];

    /// `P1`…`P4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::P1 => "P1",
            Band::P2 => "P2",
            Band::P3 => "P3",
            Band::P4 => "P4",
        }
    }

    /// The issue label, `debt:P1`…`debt:P4`.
    pub fn label(self) -> String {
        format!("debt:{}", self.as_str())
    }
}

/// What the score reads about one item besides its incident counts.
#[derive(Debug, Clone, Copy)]
pub struct ItemScoreInput<'a> {
    /// The annotation keyword (`TODO`, `FIXME`, …); its configured severity feeds the score.
    pub keyword: &'a str,
    /// The item's `tier=`; 1 is the highest.
    pub tier: Option<u8>,
    /// Estimated cost in working days (8 hours a day, 1 point a day, 5 days a week).
    pub cost_days: Option<f64>,
    /// When the item was first seen, for its age.
    pub first_seen: Option<NaiveDate>,
    /// The item's `due=` date.
    pub due: Option<NaiveDate>,
}

/// An item's score, band and explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// The score; higher is more urgent.
    pub value: f64,
    /// The band the score falls in.
    pub band: Band,
    /// "4 incidents in 90 days, tier 1 (enterprise), 3 weeks overdue".
    pub why: String,
}

/// Weeks of overdue time that still raise the score.
const MAX_OVERDUE_WEEKS: f64 = 12.0;

/// Scores one item on `today`.
pub fn score(
    item: &ItemScoreInput<'_>,
    counts: &Counts,
    config: &Config,
    today: NaiveDate,
) -> Score {
    let w = &config.priority;
    let severity = config.annotations.severity_of(item.keyword);
    let age_days = item.first_seen.map_or(0, |d| (today - d).num_days().max(0)) as f64;
    let overdue_days = item.due.map_or(0, |d| (today - d).num_days().max(0)) as f64;
    let tier_value = item
        .tier
        .map_or(0.0, |t| f64::from(4u8.saturating_sub(t.max(1))));
    let mut value = w.incidents * f64::from(counts.weighted_in_window)
        + w.age * (1.0 + age_days / 30.0).ln()
        + w.tier * tier_value
        + w.severity * f64::from(severity.score());
    if let Some(days) = item.cost_days.filter(|d| d.is_finite() && *d >= 0.0) {
        value += w.cost * 2.0 / (1.0 + days);
    }
    if overdue_days > 0.0 {
        value += w.due * (1.0 + (overdue_days / 7.0).floor().min(MAX_OVERDUE_WEEKS));
    }
    let t = &config.priority.thresholds;
    let band = if value >= t.p1 {
        Band::P1
    } else if value >= t.p2 {
        Band::P2
    } else if value >= t.p3 {
        Band::P3
    } else {
        Band::P4
    };
    Score {
        value: (value * 100.0).round() / 100.0,
        band,
        why: why(item, counts, config, severity, age_days, overdue_days),
    }
}

fn why(
    item: &ItemScoreInput<'_>,
    counts: &Counts,
    config: &Config,
    severity: Severity,
    age_days: f64,
    overdue_days: f64,
) -> String {
    let mut parts = Vec::new();
    if counts.in_window > 0 {
        parts.push(format!(
            "{} incident{} in {} days",
            counts.in_window,
            plural(counts.in_window.into()),
            config.incidents.window_days
        ));
    }
    if let Some(t) = item.tier {
        match config.tiers.get(&u32::from(t)) {
            Some(name) => parts.push(format!("tier {t} ({name})")),
            None => parts.push(format!("tier {t}")),
        }
    }
    if overdue_days > 0.0 {
        parts.push(format!("{} overdue", span(overdue_days as i64)));
    }
    if severity >= Severity::High {
        parts.push(format!("{} ({})", item.keyword, severity.as_str()));
    }
    if item.cost_days.is_some_and(|d| d <= 1.0) {
        parts.push("cheap to fix".to_string());
    }
    if age_days >= 180.0 {
        parts.push(format!("open {}", span(age_days as i64)));
    }
    if parts.is_empty() {
        parts.push(format!(
            "no incidents, {} ({})",
            item.keyword,
            severity.as_str()
        ));
    }
    parts.join(", ")
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "3 days", "3 weeks", "7 months", "2 years".
fn span(days: i64) -> String {
    let (n, unit) = if days < 14 {
        (days, "day")
    } else if days < 60 {
        (days / 7, "week")
    } else if days < 730 {
        (days / 30, "month")
    } else {
        (days / 365, "year")
    };
    format!("{n} {unit}{}", plural(n as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn counts(in_window: u32, weighted: u32) -> Counts {
        Counts {
            in_window,
            all_time: in_window,
            weighted_in_window: weighted,
            ..Counts::default()
        }
    }

    struct Case {
        name: &'static str,
        keyword: &'static str,
        tier: Option<u8>,
        cost_days: Option<f64>,
        first_seen: &'static str,
        due: Option<&'static str>,
        incidents: (u32, u32),
        band: Band,
        why: &'static str,
    }

    #[test]
    fn score_table() {
        let mut config = Config::default();
        config.tiers.insert(1, "enterprise".into());
        let today = d("2026-06-01");
        let cases = [
            Case {
                name: "a new TODO with nothing else is P4",
                keyword: "TODO",
                tier: None,
                cost_days: None,
                first_seen: "2026-06-01",
                due: None,
                incidents: (0, 0),
                band: Band::P4,
                why: "no incidents, TODO (low)",
            },
            Case {
                name: "an old FIXME rises to P3 on severity and age",
                keyword: "FIXME",
                tier: None,
                cost_days: None,
                first_seen: "2025-06-01",
                due: None,
                incidents: (0, 0),
                band: Band::P3,
                why: "FIXME (high), open 12 months",
            },
            Case {
                name: "three medium incidents make even a TODO P1",
                keyword: "TODO",
                tier: None,
                cost_days: None,
                first_seen: "2026-05-25",
                due: None,
                incidents: (3, 6),
                band: Band::P1,
                why: "3 incidents in 90 days",
            },
            Case {
                name: "two incidents are P2",
                keyword: "TODO",
                tier: None,
                cost_days: None,
                first_seen: "2026-05-25",
                due: None,
                incidents: (2, 4),
                band: Band::P2,
                why: "2 incidents in 90 days",
            },
            Case {
                name: "tier 1, overdue and cheap add up, named in the why",
                keyword: "HACK",
                tier: Some(1),
                cost_days: Some(0.5),
                first_seen: "2026-05-01",
                due: Some("2026-05-11"),
                incidents: (1, 2),
                band: Band::P1,
                why: "1 incident in 90 days, tier 1 (enterprise), 3 weeks overdue, cheap to fix",
            },
            Case {
                name: "tier 3 adds little; a due date in the future adds nothing",
                keyword: "TODO",
                tier: Some(3),
                cost_days: Some(20.0),
                first_seen: "2026-05-01",
                due: Some("2026-12-01"),
                incidents: (0, 0),
                band: Band::P4,
                why: "tier 3",
            },
        ];
        for c in cases {
            let item = ItemScoreInput {
                keyword: c.keyword,
                tier: c.tier,
                cost_days: c.cost_days,
                first_seen: Some(d(c.first_seen)),
                due: c.due.map(d),
            };
            let s = score(&item, &counts(c.incidents.0, c.incidents.1), &config, today);
            assert_eq!(s.band, c.band, "{}: score {}", c.name, s.value);
            assert_eq!(s.why, c.why, "{}", c.name);
        }
    }

    #[test]
    fn weights_and_thresholds_come_from_the_config() {
        let mut config = Config::default();
        let item = ItemScoreInput {
            keyword: "TODO",
            tier: None,
            cost_days: None,
            first_seen: None,
            due: None,
        };
        let today = d("2026-06-01");
        let base = score(&item, &counts(1, 2), &config, today);
        assert_eq!(base.value, 6.0 + 1.0);
        config.priority.incidents = 0.0;
        assert_eq!(score(&item, &counts(1, 2), &config, today).value, 1.0);
        config.priority.thresholds.p3 = 0.5;
        assert_eq!(score(&item, &counts(1, 2), &config, today).band, Band::P3);
        assert_eq!(Band::P2.label(), "debt:P2");
    }
}
