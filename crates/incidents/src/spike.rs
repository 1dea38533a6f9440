//! The spike rule behind `debt:hot`, with hysteresis.
//!
//! - **Enter** when the item's incident groups in the last
//!   `spike.window_days` number at least `spike.min` **and** exceed
//!   `spike.factor` × the baseline: the groups of the rest of
//!   `incidents.window_days`, scaled to the spike window's length.
//! - **Stay** hot while the spike window still holds at least
//!   ⌈`spike.min` / 2⌉ groups and more than the baseline itself (factor 1,
//!   not `spike.factor`): both exit thresholds sit below the entry ones.
//! - **Exit** when either fails: the burst has decayed, or the item's rate
//!   has become its normal rate (a new item paging daily is hot until its
//!   baseline catches up, about `incidents.window_days` later). One comment is posted on entry; none while it
//!   lasts, so an item hovering at the threshold (3, 2, 3, 2 with `min: 3`)
//!   stays hot and is commented on once.

use paydown_config::Incidents;
use serde::Serialize;

use crate::counts::Counts;

/// `incidents.spike` with the long window it is measured against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeRule {
    /// `incidents.window_days`: the long window the baseline comes from.
    pub window_days: u32,
    /// `incidents.spike.window_days`: the recent window checked for a burst.
    pub spike_days: u32,
    /// `incidents.spike.factor`: how far above the baseline a burst must be.
    pub factor: f64,
    /// `incidents.spike.min`: the fewest incident groups that can enter a spike.
    pub min: u32,
}

impl SpikeRule {
    /// Reads the rule from the `incidents` config section.
    pub fn from_config(incidents: &Incidents) -> Self {
        SpikeRule {
            window_days: incidents.window_days,
            spike_days: incidents.spike.window_days,
            factor: incidents.spike.factor,
            min: incidents.spike.min,
        }
    }

    /// A hot item stays hot while it has at least this many groups in the spike window.
    pub fn stay_at(&self) -> u32 {
        self.min.div_ceil(2).max(1)
    }

    /// The baseline, in groups per spike window.
    pub fn baseline(&self, counts: &Counts) -> f64 {
        let rest = self.window_days.saturating_sub(self.spike_days);
        if rest == 0 {
            return 0.0;
        }
        f64::from(counts.before_spike_window) * f64::from(self.spike_days) / f64::from(rest)
    }
}

/// The spike verdict for one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpikeDecision {
    /// Whether the item is hot after this evaluation (`debt:hot` on its issue).
    pub hot: bool,
    /// This evaluation starts an episode: add `debt:hot` and comment once.
    pub entered: bool,
    /// This evaluation ends an episode: remove `debt:hot`.
    pub left: bool,
    /// Why the item is hot, for the comment and the dashboard (empty when not hot).
    pub reason: String,
}

/// Decides `debt:hot` for an item that `was_hot` (its issue carries the label).
pub fn spike(counts: &Counts, was_hot: bool, rule: &SpikeRule) -> SpikeDecision {
    let recent = counts.in_spike_window;
    let baseline = rule.baseline(counts);
    let hot = if was_hot {
        recent >= rule.stay_at() && f64::from(recent) > baseline
    } else {
        recent >= rule.min && f64::from(recent) > rule.factor * baseline
    };
    let reason = if hot {
        format!(
            "{recent} incident{} in the last {} days, against a baseline of {:.1} per {} days \
             (a spike is at least {} and more than {}× the baseline; it ends below {} or at the baseline)",
            if recent == 1 { "" } else { "s" },
            rule.spike_days,
            baseline,
            rule.spike_days,
            rule.min,
            rule.factor,
            rule.stay_at(),
        )
    } else {
        String::new()
    };
    SpikeDecision {
        hot,
        entered: hot && !was_hot,
        left: was_hot && !hot,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counts::count;
    use crate::model::{Incident, Status};
    use chrono::{DateTime, Duration, TimeZone, Utc};

    const RULE: SpikeRule = SpikeRule {
        window_days: 90,
        spike_days: 7,
        factor: 3.0,
        min: 3,
    };

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn inc(day: f64) -> Incident {
        Incident {
            source: "github".into(),
            id: day.to_string(),
            number: None,
            title: String::new(),
            url: None,
            repository: None,
            status: Status::Resolved,
            severity: None,
            started_at: t0() + Duration::minutes((day * 1440.0) as i64),
            resolved_at: None,
            references: vec![],
        }
    }

    /// Evaluates the rule every `step` days from day 0 to `until`, carrying
    /// the hot state like the label does. Returns the hot state per step and
    /// how many comments (entries) were made.
    fn run(days: &[f64], until_tenths: u32) -> (Vec<(f64, bool)>, u32) {
        let incidents: Vec<Incident> = days.iter().map(|d| inc(*d)).collect();
        let mut hot = false;
        let mut comments = 0;
        let mut out = Vec::new();
        for tenth in 0..=until_tenths {
            let day = f64::from(tenth) / 10.0;
            let now = t0() + Duration::minutes((day * 1440.0) as i64);
            let seen: Vec<&Incident> = incidents.iter().filter(|i| i.started_at <= now).collect();
            let c = count(seen, now, RULE.window_days, RULE.spike_days);
            let d = spike(&c, hot, &RULE);
            comments += u32::from(d.entered);
            hot = d.hot;
            out.push((day, hot));
        }
        (out, comments)
    }

    fn hot_on(timeline: &[(f64, bool)], day: f64) -> bool {
        timeline
            .iter()
            .rev()
            .find(|(d, _)| *d <= day)
            .is_some_and(|(_, h)| *h)
    }

    fn changes(timeline: &[(f64, bool)]) -> usize {
        timeline.windows(2).filter(|w| w[0].1 != w[1].1).count()
    }

    #[test]
    fn table() {
        struct Case {
            name: &'static str,
            incidents: Vec<f64>,
            /// (day, hot) checks.
            expect: Vec<(f64, bool)>,
            comments: u32,
            changes: usize,
        }
        let cases = [
            Case {
                name: "a burst of three in a week enters on the third, a fourth adds no comment",
                incidents: vec![40.0, 41.0, 42.0, 43.0],
                expect: vec![(41.5, false), (42.0, true), (43.5, true)],
                comments: 1,
                // On, then off once it decays (next case).
                changes: 2,
            },
            Case {
                name: "the burst decays: hot while two remain in the week, off below",
                incidents: vec![40.0, 41.0, 42.0, 43.0],
                expect: vec![(48.5, true), (49.5, false), (80.0, false)],
                comments: 1,
                changes: 2,
            },
            Case {
                name: "a single event at the threshold enters once and does not flap as the count hovers 3-2-3-2",
                incidents: vec![40.0, 42.0, 44.0, 47.5, 49.5, 51.5, 53.5],
                expect: vec![
                    (43.9, false),
                    (44.0, true),
                    (47.2, true),
                    (49.2, true),
                    (51.2, true),
                    (53.5, true),
                ],
                comments: 1,
                // One episode: on at day 44, off once the hovering stops.
                changes: 2,
            },
            Case {
                name: "below the minimum nothing happens",
                incidents: vec![40.0, 41.0],
                expect: vec![(41.0, false), (45.0, false)],
                comments: 0,
                changes: 0,
            },
            Case {
                name: "a steady daily rate is the baseline, not a spike",
                incidents: (0..120).map(f64::from).collect(),
                // Before a baseline exists, daily pages are a spike; it ends
                // when the baseline has caught up with the rate.
                expect: vec![
                    (1.5, false),
                    (2.0, true),
                    (50.0, true),
                    (95.0, false),
                    (119.0, false),
                ],
                comments: 1,
                changes: 2,
            },
            Case {
                name: "an alert storm of ten pages in ten minutes is one incident",
                incidents: (0..10).map(|m| 40.0 + f64::from(m) / 1440.0).collect(),
                expect: vec![(40.1, false)],
                comments: 0,
                changes: 0,
            },
        ];
        for c in cases {
            let (timeline, comments) = run(&c.incidents, 1200);
            for (day, want) in &c.expect {
                assert_eq!(hot_on(&timeline, *day), *want, "{}: day {day}", c.name);
            }
            assert_eq!(comments, c.comments, "{}", c.name);
            assert_eq!(changes(&timeline), c.changes, "{}", c.name);
        }
    }

    #[test]
    fn the_reason_names_the_numbers() {
        let c = Counts {
            in_spike_window: 3,
            ..Counts::default()
        };
        let d = spike(&c, false, &RULE);
        assert!(d.entered);
        assert!(
            d.reason.starts_with("3 incidents in the last 7 days"),
            "{}",
            d.reason
        );
        let d = spike(&c, true, &RULE);
        assert!(d.hot && !d.entered && !d.left);
    }
}
