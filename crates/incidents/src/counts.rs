//! Incident counts per item, with alert storms folded into one incident.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::model::Incident;

/// Incidents of one item that start within this many minutes of the first
/// of a group count once: an alert storm is one incident. The group is
/// anchored at its first start, so a storm that keeps paging for hours still
/// counts once per half hour rather than once in total.
pub const STORM_MINUTES: i64 = 30;

/// What an item's incidents amount to at one instant. Every count is of
/// groups (see [`STORM_MINUTES`]), by start time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Started within `incidents.window_days`.
    pub in_window: u32,
    /// Ever.
    pub all_time: u32,
    /// Groups with an incident not yet resolved.
    pub open: u32,
    /// Start of the latest group.
    pub last: Option<DateTime<Utc>>,
    /// Started within `incidents.spike.window_days`.
    pub in_spike_window: u32,
    /// Started within the window but before the spike window: the baseline.
    pub before_spike_window: u32,
    /// Sum of the severity scores (low 1 … critical 4, unknown 2) of the
    /// groups in the window; a group takes its worst member's severity.
    pub weighted_in_window: u32,
}

/// Counts `incidents` (one item's, any order) at `now`. Incidents starting
/// after `now` (clock skew between sources) count as starting now.
pub fn count<'a>(
    incidents: impl IntoIterator<Item = &'a Incident>,
    now: DateTime<Utc>,
    window_days: u32,
    spike_window_days: u32,
) -> Counts {
    let mut starts: Vec<(DateTime<Utc>, u8, bool)> = incidents
        .into_iter()
        .map(|i| {
            (
                i.started_at.min(now),
                i.severity_score(),
                i.status.is_open(),
            )
        })
        .collect();
    starts.sort_unstable_by_key(|s| s.0);
    let window_start = now - Duration::days(i64::from(window_days));
    let spike_start = now - Duration::days(i64::from(spike_window_days));
    let storm = Duration::minutes(STORM_MINUTES);
    let mut counts = Counts::default();
    let mut i = 0;
    while i < starts.len() {
        let (anchor, mut severity, mut open) = starts[i];
        let mut j = i + 1;
        while j < starts.len() && starts[j].0 - anchor <= storm {
            severity = severity.max(starts[j].1);
            open |= starts[j].2;
            j += 1;
        }
        counts.all_time += 1;
        counts.open += u32::from(open);
        counts.last = Some(anchor);
        if anchor > window_start {
            counts.in_window += 1;
            counts.weighted_in_window += u32::from(severity);
            if anchor > spike_start {
                counts.in_spike_window += 1;
            } else {
                counts.before_spike_window += 1;
            }
        }
        i = j;
    }
    counts
}

/// Groups per week for the `weeks` weeks ending at `now`, oldest first (the
/// dashboard's chart).
pub fn per_week<'a>(
    incidents: impl IntoIterator<Item = &'a Incident>,
    now: DateTime<Utc>,
    weeks: u32,
) -> Vec<u32> {
    let mut starts: Vec<DateTime<Utc>> = incidents
        .into_iter()
        .map(|i| i.started_at.min(now))
        .collect();
    starts.sort_unstable();
    let mut out = vec![0; weeks as usize];
    let storm = Duration::minutes(STORM_MINUTES);
    let mut anchor: Option<DateTime<Utc>> = None;
    for start in starts {
        if anchor.is_some_and(|a| start - a <= storm) {
            continue;
        }
        anchor = Some(start);
        let age_weeks = (now - start).num_days() / 7;
        if let Ok(age) = usize::try_from(age_weeks)
            && age < out.len()
        {
            let last = out.len() - 1;
            out[last - age] += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use chrono::TimeZone;
    use paydown_config::Severity;

    fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0).unwrap()
    }

    fn inc(start: DateTime<Utc>, severity: Option<Severity>, status: Status) -> Incident {
        Incident {
            source: "github".into(),
            id: start.to_rfc3339(),
            number: None,
            title: String::new(),
            url: None,
            repository: None,
            status,
            severity,
            started_at: start,
            resolved_at: None,
            references: vec![],
        }
    }

    #[test]
    fn given_an_alert_storm_then_it_counts_once_by_start_time() {
        // Given three incidents within 30 minutes of the first, and one 31
        // minutes after the first, heard of in reverse order.
        let incidents = [
            inc(at(2, 10, 31), None, Status::Resolved),
            inc(at(2, 10, 30), Some(Severity::Critical), Status::Resolved),
            inc(at(2, 10, 10), None, Status::Triggered),
            inc(at(2, 10, 0), Some(Severity::Low), Status::Resolved),
        ];
        // When counted a day later.
        let c = count(&incidents, at(3, 0, 0), 90, 7);
        // Then the storm is one (worst severity, open) and the straggler another.
        assert_eq!(c.all_time, 2);
        assert_eq!(c.in_window, 2);
        assert_eq!(c.open, 1);
        assert_eq!(c.weighted_in_window, 4 + 2);
        assert_eq!(c.last, Some(at(2, 10, 31)));
        assert_eq!(c.in_spike_window, 2);
    }

    #[test]
    fn given_old_and_recent_incidents_then_windows_split_them() {
        let now = at(31, 0, 0);
        let incidents = [
            inc(now - Duration::days(200), None, Status::Resolved),
            inc(now - Duration::days(60), None, Status::Resolved),
            inc(now - Duration::days(3), None, Status::Resolved),
            // A start in the future (skew) counts as now.
            inc(now + Duration::days(1), None, Status::Acknowledged),
        ];
        let c = count(&incidents, now, 90, 7);
        assert_eq!((c.all_time, c.in_window), (4, 3));
        assert_eq!((c.in_spike_window, c.before_spike_window), (2, 1));
        assert_eq!(c.open, 1);
        assert_eq!(c.last, Some(now));
    }

    #[test]
    fn weeks_are_counted_oldest_first() {
        let now = at(29, 0, 0);
        let incidents = [
            inc(now - Duration::days(1), None, Status::Resolved),
            inc(
                now - Duration::days(1) + Duration::minutes(5),
                None,
                Status::Resolved,
            ),
            inc(now - Duration::days(8), None, Status::Resolved),
            inc(now - Duration::days(100), None, Status::Resolved),
        ];
        assert_eq!(per_week(&incidents, now, 4), [0, 0, 1, 1]);
    }
}
