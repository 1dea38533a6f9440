//! Sprint boundaries: fixed-length sprints from `sprints.cadence` or one
//! sprint per milestone with a due date, as half-open UTC intervals
//! `[start, end)` drawn in the configured time zone.
//!
//! Decisions (documented in the config reference too):
//!
//! - **Half-open intervals.** A PR merged exactly at a boundary belongs to the
//!   sprint that starts then.
//! - **Cadence.** Sprint `k` (0-based, shown as "Sprint k+1") covers
//!   `[start + k·len, start + (k+1)·len)`, where `start` is midnight of
//!   `cadence.start` in `sprints.timezone`. Instants before the first sprint
//!   belong to no sprint ("before the first sprint"): negative sprints would
//!   invent history the team never planned.
//! - **Milestones.** Every milestone with a due date is a sprint, open or
//!   closed (closed milestones are the past sprints a report needs).
//!   GitHub keeps a due *date* but returns it as a timestamp whose time of day
//!   is an artefact (often 07:00 or 08:00 UTC), so the due date is the UTC
//!   calendar date of `due_on`, and the sprint ends at the following midnight
//!   in `sprints.timezone`. Milestones are sorted by (end, number); each sprint
//!   starts where the previous one ends, so a gap between milestones belongs
//!   to the later sprint and overlaps are cut off. Of milestones ending the
//!   same day, the lowest number is the sprint and the others are ignored. The
//!   first sprint starts `cadence.length_days` days before its end.
//!   Milestones without a due date are ignored; instants after the last end
//!   belong to no sprint.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone as _, Utc};
use paydown_config::{Cadence, SprintSource, Sprints, TimeZone};
use serde::{Deserialize, Serialize};

use crate::LedgerError;

/// Identifies a sprint: the 0-based cadence index, or the milestone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SprintId {
    /// Sprint `k` of the cadence, 0-based.
    Cadence(u32),
    /// The milestone with this number.
    Milestone(u64),
}

/// One sprint: `[start, end)` in UTC, with its first and last day in the
/// configured time zone for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sprint {
    /// Identifies the sprint across runs.
    pub id: SprintId,
    /// "Sprint 3" or the milestone title.
    pub name: String,
    /// Start, inclusive.
    pub start: DateTime<Utc>,
    /// End, exclusive.
    pub end: DateTime<Utc>,
    /// First day in the configured time zone.
    pub first_day: NaiveDate,
    /// Last day (inclusive) in the configured time zone.
    pub last_day: NaiveDate,
}

impl Sprint {
    /// Whether `at` falls in `[start, end)`.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }

    /// "Sprint 3 (2026-02-02 – 2026-02-15)".
    pub fn label(&self) -> String {
        format!("{} ({} – {})", self.name, self.first_day, self.last_day)
    }
}

/// A GitHub milestone, as much of it as sprints need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    /// The milestone's number in its repository.
    pub number: u64,
    /// The milestone's title.
    pub title: String,
    /// GitHub's `due_on`; only its UTC date counts (see the module docs).
    pub due_on: Option<DateTime<Utc>>,
    /// Open or closed on GitHub.
    pub state: MilestoneState,
}

/// Whether a milestone is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MilestoneState {
    /// Open on GitHub.
    Open,
    /// Closed on GitHub.
    Closed,
}

/// All sprints of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    offset: FixedOffset,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Cadence {
        start: DateTime<Utc>,
        length_days: u32,
    },
    /// Sorted by start; contiguous.
    Milestones(Vec<Sprint>),
}

impl Calendar {
    /// The calendar `sprints` describes; `milestones` are used only with
    /// `source: milestones`.
    pub fn from_config(sprints: &Sprints, milestones: &[Milestone]) -> Result<Self, LedgerError> {
        match sprints.source {
            SprintSource::Cadence => Self::cadence(&sprints.cadence, sprints.timezone),
            SprintSource::Milestones => {
                Self::milestones(milestones, sprints.timezone, sprints.cadence.length_days)
            }
        }
    }

    /// Fixed-length sprints starting at midnight of `cadence.start` in `tz`.
    pub fn cadence(cadence: &Cadence, tz: TimeZone) -> Result<Self, LedgerError> {
        if cadence.length_days == 0 {
            return Err(LedgerError::ZeroSprintLength);
        }
        let offset = tz.offset();
        let start = local_midnight(offset, cadence.start)
            .ok_or(LedgerError::StartOutOfRange(cadence.start))?;
        if start
            .checked_add_signed(Duration::days(i64::from(cadence.length_days)))
            .is_none()
        {
            return Err(LedgerError::LengthOutOfRange(cadence.length_days));
        }
        Ok(Self {
            offset,
            kind: Kind::Cadence {
                start,
                length_days: cadence.length_days,
            },
        })
    }

    /// One sprint per milestone with a due date (see the module docs for
    /// gaps, overlaps and the first sprint's start).
    pub fn milestones(
        milestones: &[Milestone],
        tz: TimeZone,
        first_length_days: u32,
    ) -> Result<Self, LedgerError> {
        if first_length_days == 0 {
            return Err(LedgerError::ZeroSprintLength);
        }
        let offset = tz.offset();
        let mut dated: Vec<(DateTime<Utc>, &Milestone)> = milestones
            .iter()
            .filter_map(|m| {
                let due = m.due_on?.date_naive();
                let end = local_midnight(offset, due.succ_opt()?)?;
                Some((end, m))
            })
            .collect();
        dated.sort_by_key(|(end, m)| (*end, m.number));
        let mut sprints: Vec<Sprint> = Vec::with_capacity(dated.len());
        for (end, milestone) in dated {
            let start = match sprints.last() {
                Some(previous) if previous.end >= end => continue,
                Some(previous) => previous.end,
                None => end
                    .checked_sub_signed(Duration::days(i64::from(first_length_days)))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC),
            };
            sprints.push(make_sprint(
                offset,
                SprintId::Milestone(milestone.number),
                milestone.title.clone(),
                start,
                end,
            ));
        }
        Ok(Self {
            offset,
            kind: Kind::Milestones(sprints),
        })
    }

    /// The configured offset from UTC.
    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// The sprint `at` falls in, if any.
    pub fn sprint_for(&self, at: DateTime<Utc>) -> Option<Sprint> {
        match &self.kind {
            Kind::Cadence { start, length_days } => {
                if at < *start {
                    return None;
                }
                let length = Duration::days(i64::from(*length_days));
                let k = (at - *start).num_seconds() / length.num_seconds();
                self.cadence_sprint(u32::try_from(k).ok()?)
            }
            Kind::Milestones(sprints) => {
                // Sprints are contiguous and sorted: the last one starting at or
                // before `at` is the only candidate.
                let index = sprints.partition_point(|s| s.start <= at).checked_sub(1)?;
                sprints.get(index).filter(|s| s.contains(at)).cloned()
            }
        }
    }

    /// The sprint with this id, if the calendar has it.
    pub fn get(&self, id: SprintId) -> Option<Sprint> {
        match (&self.kind, id) {
            (Kind::Cadence { .. }, SprintId::Cadence(k)) => self.cadence_sprint(k),
            (Kind::Milestones(sprints), SprintId::Milestone(_)) => {
                sprints.iter().find(|s| s.id == id).cloned()
            }
            _ => None,
        }
    }

    /// Up to `count` sprints, oldest first, ending with the one `now` falls
    /// in; when `now` is in none, ending with the last one that started
    /// before `now`.
    pub fn recent(&self, now: DateTime<Utc>, count: usize) -> Vec<Sprint> {
        if count == 0 {
            return Vec::new();
        }
        match &self.kind {
            Kind::Cadence { .. } => {
                let Some(current) = self.sprint_for(now) else {
                    return Vec::new();
                };
                let SprintId::Cadence(k) = current.id else {
                    return Vec::new();
                };
                let first = k.saturating_sub(u32::try_from(count - 1).unwrap_or(u32::MAX));
                (first..=k).filter_map(|i| self.cadence_sprint(i)).collect()
            }
            Kind::Milestones(sprints) => {
                let started = sprints.partition_point(|s| s.start <= now);
                sprints[started.saturating_sub(count)..started].to_vec()
            }
        }
    }

    /// Every sprint whose interval overlaps `[from, to)`, oldest first
    /// (cadence sprints are generated, so a range is needed).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Sprint> {
        match &self.kind {
            Kind::Cadence { start, .. } => {
                let first = if from < *start {
                    self.cadence_sprint(0)
                } else {
                    self.sprint_for(from)
                };
                let mut out = Vec::new();
                let mut next = first;
                while let Some(sprint) = next {
                    if sprint.start >= to {
                        break;
                    }
                    let SprintId::Cadence(k) = sprint.id else {
                        break;
                    };
                    next = k.checked_add(1).and_then(|k| self.cadence_sprint(k));
                    out.push(sprint);
                }
                out
            }
            Kind::Milestones(sprints) => sprints
                .iter()
                .filter(|s| s.end > from && s.start < to)
                .cloned()
                .collect(),
        }
    }

    fn cadence_sprint(&self, k: u32) -> Option<Sprint> {
        let Kind::Cadence { start, length_days } = &self.kind else {
            return None;
        };
        let length = Duration::days(i64::from(*length_days));
        let begin = start.checked_add_signed(length.checked_mul(i32::try_from(k).ok()?)?)?;
        let end = begin.checked_add_signed(length)?;
        Some(make_sprint(
            self.offset,
            SprintId::Cadence(k),
            format!("Sprint {}", u64::from(k) + 1),
            begin,
            end,
        ))
    }
}

fn make_sprint(
    offset: FixedOffset,
    id: SprintId,
    name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Sprint {
    let first_day = start.with_timezone(&offset).date_naive();
    let last_day = (end - Duration::seconds(1))
        .with_timezone(&offset)
        .date_naive();
    Sprint {
        id,
        name,
        start,
        end,
        first_day,
        last_day,
    }
}

/// Midnight at the start of `date` in `offset`, as a UTC instant.
fn local_midnight(offset: FixedOffset, date: NaiveDate) -> Option<DateTime<Utc>> {
    offset
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn cadence(start: NaiveDate, length_days: u32, tz: &str) -> Calendar {
        Calendar::cadence(
            &Cadence { start, length_days },
            TimeZone::parse(tz).unwrap(),
        )
        .unwrap()
    }

    fn milestone(number: u64, title: &str, due: Option<DateTime<Utc>>) -> Milestone {
        Milestone {
            number,
            title: title.to_string(),
            due_on: due,
            state: MilestoneState::Open,
        }
    }

    #[test]
    fn cadence_sprints_are_half_open_and_before_start_is_no_sprint() {
        // Given two-week sprints from Monday 2026-01-05 in UTC
        let cal = cadence(date(2026, 1, 5), 14, "UTC");
        let id = |at| cal.sprint_for(at).map(|s| s.id);
        let cases = [
            (
                "one second before the first sprint",
                utc(2026, 1, 4, 23, 59),
                None,
            ),
            (
                "the first instant",
                utc(2026, 1, 5, 0, 0),
                Some(SprintId::Cadence(0)),
            ),
            (
                "last minute of sprint 1",
                utc(2026, 1, 18, 23, 59),
                Some(SprintId::Cadence(0)),
            ),
            (
                "exactly at the boundary",
                utc(2026, 1, 19, 0, 0),
                Some(SprintId::Cadence(1)),
            ),
            (
                "a year later",
                utc(2027, 1, 4, 12, 0),
                Some(SprintId::Cadence(26)),
            ),
        ];
        for (what, at, want) in cases {
            assert_eq!(id(at), want, "{what}");
        }
        let second = cal.sprint_for(utc(2026, 1, 19, 0, 0)).unwrap();
        assert_eq!(second.name, "Sprint 2");
        assert_eq!(
            (second.first_day, second.last_day),
            (date(2026, 1, 19), date(2026, 2, 1))
        );
        assert_eq!(second.label(), "Sprint 2 (2026-01-19 – 2026-02-01)");
    }

    #[test]
    fn cadence_in_plus_two_starts_at_local_midnight() {
        // Given sprints starting 2026-01-05 in +02:00, the boundary is 22:00 UTC the day before
        let cal = cadence(date(2026, 1, 5), 7, "+02:00");
        assert_eq!(cal.sprint_for(utc(2026, 1, 4, 21, 59)), None);
        let first = cal.sprint_for(utc(2026, 1, 4, 22, 0)).unwrap();
        assert_eq!(first.id, SprintId::Cadence(0));
        assert_eq!(first.start, utc(2026, 1, 4, 22, 0));
        assert_eq!(first.end, utc(2026, 1, 11, 22, 0));
        assert_eq!(
            (first.first_day, first.last_day),
            (date(2026, 1, 5), date(2026, 1, 11))
        );
        // 23:30 UTC on the 11th is already Monday 01:30 local: sprint 2
        assert_eq!(
            cal.sprint_for(utc(2026, 1, 11, 23, 30)).unwrap().id,
            SprintId::Cadence(1)
        );
    }

    #[test]
    fn cadence_in_minus_five_thirty() {
        let cal = cadence(date(2026, 1, 5), 14, "-05:30");
        let first = cal.sprint_for(utc(2026, 1, 5, 5, 30)).unwrap();
        assert_eq!(first.start, utc(2026, 1, 5, 5, 30));
        assert_eq!(cal.sprint_for(utc(2026, 1, 5, 5, 29)), None);
    }

    #[test]
    fn extreme_lengths_and_indices_do_not_panic() {
        let absurd = Cadence {
            start: date(2026, 1, 5),
            length_days: u32::MAX,
        };
        assert_eq!(
            Calendar::cadence(&absurd, TimeZone::default()).unwrap_err(),
            LedgerError::LengthOutOfRange(u32::MAX)
        );
        let cal = cadence(date(2026, 1, 5), 36_500, "UTC");
        assert_eq!(cal.get(SprintId::Cadence(u32::MAX)), None);
        assert_eq!(
            cal.sprint_for(utc(2030, 1, 1, 0, 0)).unwrap().id,
            SprintId::Cadence(0)
        );
        let list = [milestone(1, "M", Some(utc(2026, 1, 16, 8, 0)))];
        let cal = Calendar::milestones(&list, TimeZone::default(), u32::MAX).unwrap();
        assert!(cal.sprint_for(utc(1990, 1, 1, 0, 0)).is_some());
    }

    #[test]
    fn zero_length_cadence_is_an_error() {
        let err = Calendar::cadence(
            &Cadence {
                start: date(2026, 1, 5),
                length_days: 0,
            },
            TimeZone::default(),
        )
        .unwrap_err();
        assert_eq!(err, LedgerError::ZeroSprintLength);
    }

    #[test]
    fn recent_lists_current_and_previous_sprints_oldest_first() {
        let cal = cadence(date(2026, 1, 5), 14, "UTC");
        let ids: Vec<_> = cal
            .recent(utc(2026, 3, 1, 0, 0), 7)
            .into_iter()
            .map(|s| s.id)
            .collect();
        // 2026-03-01 is the last day of sprint index 3 (2026-02-16 .. 2026-03-01)
        assert_eq!(
            ids,
            (0..=3).map(SprintId::Cadence).collect::<Vec<_>>(),
            "clipped at the first sprint"
        );
        assert!(cal.recent(utc(2025, 1, 1, 0, 0), 7).is_empty());
        let ids: Vec<_> = cal
            .recent(utc(2026, 12, 1, 0, 0), 3)
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[2], cal.sprint_for(utc(2026, 12, 1, 0, 0)).unwrap().id);
    }

    #[test]
    fn between_covers_every_overlapping_cadence_sprint() {
        let cal = cadence(date(2026, 1, 5), 14, "UTC");
        let names: Vec<_> = cal
            .between(utc(2025, 12, 1, 0, 0), utc(2026, 2, 2, 0, 0))
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["Sprint 1", "Sprint 2"]);
    }

    #[test]
    fn milestones_sort_by_due_date_and_fill_gaps() {
        // Given milestones out of order, one without a due date, and a gap
        // (2026-01-16 .. 2026-01-31) before "Sprint C"
        let list = [
            milestone(3, "Sprint C", Some(utc(2026, 2, 13, 8, 0))),
            milestone(1, "Sprint A", Some(utc(2026, 1, 2, 8, 0))),
            milestone(9, "Backlog", None),
            milestone(2, "Sprint B", Some(utc(2026, 1, 16, 7, 0))),
        ];
        let cal = Calendar::milestones(&list, TimeZone::default(), 14).unwrap();
        let all = cal.between(utc(2000, 1, 1, 0, 0), utc(2100, 1, 1, 0, 0));
        let names: Vec<_> = all.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Sprint A", "Sprint B", "Sprint C"]);
        // The first starts 14 days before the end of its due date
        assert_eq!(all[0].start, utc(2025, 12, 20, 0, 0));
        assert_eq!(all[0].end, utc(2026, 1, 3, 0, 0));
        // Each later one starts where the previous ended
        assert_eq!(all[1].start, all[0].end);
        assert_eq!(all[2].start, utc(2026, 1, 17, 0, 0));
        // The gap belongs to the later sprint
        assert_eq!(
            cal.sprint_for(utc(2026, 1, 25, 12, 0)).unwrap().id,
            SprintId::Milestone(3)
        );
        // Due date is inclusive: the whole due day belongs to the milestone
        assert_eq!(
            cal.sprint_for(utc(2026, 1, 16, 23, 59)).unwrap().id,
            SprintId::Milestone(2)
        );
        // Merged exactly at the end of B belongs to C
        assert_eq!(
            cal.sprint_for(utc(2026, 1, 17, 0, 0)).unwrap().id,
            SprintId::Milestone(3)
        );
        // After the last milestone: no sprint
        assert_eq!(cal.sprint_for(utc(2026, 2, 14, 0, 0)), None);
        assert_eq!(
            cal.get(SprintId::Milestone(9)),
            None,
            "no due date, no sprint"
        );
    }

    #[test]
    fn milestones_due_the_same_day_keep_the_lowest_number() {
        // Given two milestones due the same day (an overlap) in a different order
        let list = [
            milestone(8, "Later duplicate", Some(utc(2026, 1, 16, 7, 0))),
            milestone(5, "Sprint 5", Some(utc(2026, 1, 16, 8, 0))),
            milestone(4, "Sprint 4", Some(utc(2026, 1, 2, 8, 0))),
        ];
        let cal = Calendar::milestones(&list, TimeZone::default(), 14).unwrap();
        let ids: Vec<_> = cal
            .between(utc(2000, 1, 1, 0, 0), utc(2100, 1, 1, 0, 0))
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, [SprintId::Milestone(4), SprintId::Milestone(5)]);
    }

    #[test]
    fn milestone_due_dates_end_at_local_midnight() {
        // Given +02:00, a milestone due 2026-01-16 ends at 2026-01-17 00:00 local = 16th 22:00 UTC
        let list = [milestone(1, "M", Some(utc(2026, 1, 16, 8, 0)))];
        let cal = Calendar::milestones(&list, TimeZone::parse("+02:00").unwrap(), 7).unwrap();
        let s = cal.get(SprintId::Milestone(1)).unwrap();
        assert_eq!(s.end, utc(2026, 1, 16, 22, 0));
        assert_eq!(s.last_day, date(2026, 1, 16));
        assert_eq!(s.first_day, date(2026, 1, 10));
        assert!(cal.sprint_for(utc(2026, 1, 16, 22, 0)).is_none());
        assert_eq!(cal.recent(utc(2026, 3, 1, 0, 0), 6).len(), 1);
        assert!(cal.recent(utc(2026, 1, 1, 0, 0), 6).is_empty());
    }

    #[test]
    fn config_picks_the_source() {
        let mut sprints = Sprints::default();
        let list = [milestone(1, "M", Some(utc(2026, 1, 16, 8, 0)))];
        let cal = Calendar::from_config(&sprints, &list).unwrap();
        assert_eq!(
            cal.sprint_for(utc(2026, 1, 5, 0, 0)).unwrap().id,
            SprintId::Cadence(0)
        );
        sprints.source = SprintSource::Milestones;
        let cal = Calendar::from_config(&sprints, &list).unwrap();
        assert_eq!(
            cal.sprint_for(utc(2026, 1, 5, 0, 0)).unwrap().id,
            SprintId::Milestone(1)
        );
    }
}
