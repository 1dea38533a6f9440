//! What slash commands record about a pull request, kept on GitHub itself:
//! the bot's reply comment carries a hidden `<!-- paydown:record {json} -->`
//! marker per record, so overrides and accepted drifts survive a lost
//! database and `paydown report` can read them from the API alone.

use chrono::{DateTime, Utc};
use paydown_ledger::{Acceptance, PrRecord, WorkClass};
use serde::{Deserialize, Serialize};

/// Opening of a record marker; the JSON follows, then ` -->`.
pub use paydown_markers::record::PREFIX as RECORD_MARKER_PREFIX;

/// One thing a slash command decided about a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// `/debt classify debt|feature|ops|none` (`none` is [`WorkClass::Unclassified`]).
    Class {
        /// The class decided.
        class: WorkClass,
        /// Who decided it (GitHub login).
        by: String,
        /// When the command was written.
        at: DateTime<Utc>,
    },
    /// `/debt points N`.
    Points {
        /// The PR's size in points.
        points: u32,
        /// Who set them (GitHub login).
        by: String,
        /// When the command was written.
        at: DateTime<Utc>,
    },
    /// `/debt accept-drift <reason>`.
    AcceptDrift {
        /// Who accepted it, when, and why.
        acceptance: Acceptance,
    },
}

/// Which of a PR's stored decisions a record sets; the latest of each kind wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    /// [`Record::Class`].
    Class,
    /// [`Record::Points`].
    Points,
    /// [`Record::AcceptDrift`].
    AcceptDrift,
}

impl Record {
    /// The decision this record sets.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Class { .. } => RecordKind::Class,
            Record::Points { .. } => RecordKind::Points,
            Record::AcceptDrift { .. } => RecordKind::AcceptDrift,
        }
    }

    /// When it was decided.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Record::Class { at, .. } | Record::Points { at, .. } => *at,
            Record::AcceptDrift { acceptance } => acceptance.at,
        }
    }

    /// Who decided it (GitHub login).
    pub fn by(&self) -> &str {
        match self {
            Record::Class { by, .. } | Record::Points { by, .. } => by,
            Record::AcceptDrift { acceptance } => &acceptance.by,
        }
    }

    /// Writes this decision into `pr` (overrides or acceptance).
    pub fn apply_to(&self, pr: &mut PrRecord) {
        match self {
            Record::Class { class, .. } => pr.overrides.class = Some(*class),
            Record::Points { points, .. } => pr.overrides.points = Some(*points),
            Record::AcceptDrift { acceptance } => pr.accepted_drift = Some(acceptance.clone()),
        }
    }
}

/// The hidden marker for `record`, one line, to append to the bot's reply
/// (a reason containing `-->` cannot end the HTML comment early).
pub fn record_marker(record: &Record) -> String {
    paydown_markers::record::render(record)
}

/// Every record marker in `body`, in order; markers that do not parse (a
/// person typing one by hand, a newer bot's kinds) are skipped, and only a
/// marker starting its line is read.
pub fn parse_records(body: &str) -> Vec<Record> {
    paydown_markers::record::parse(body)
}

/// Applies `records` to `pr`: for each kind the latest (by time, then by
/// order given) wins, so a later `/debt classify` replaces an earlier one.
pub fn apply_records<'a>(pr: &mut PrRecord, records: impl IntoIterator<Item = &'a Record>) {
    let mut latest: std::collections::BTreeMap<RecordKind, &Record> = Default::default();
    for record in records {
        let newer = latest
            .get(&record.kind())
            .is_none_or(|old| old.at() <= record.at());
        if newer {
            latest.insert(record.kind(), record);
        }
    }
    for record in latest.into_values() {
        record.apply_to(pr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 6, h, 0, 0).unwrap()
    }

    #[test]
    fn a_marker_reads_back_as_the_same_record_even_with_a_hostile_reason() {
        let record = Record::AcceptDrift {
            acceptance: Acceptance {
                by: "maria".into(),
                reason: "launch week --> <b>now</b> \"quoted\"".into(),
                at: at(9),
            },
        };
        let marker = record_marker(&record);
        assert!(marker.starts_with(RECORD_MARKER_PREFIX));
        assert_eq!(marker.matches("-->").count(), 1, "{marker}");
        let body = format!("Recorded.\n\n{marker}\n");
        assert_eq!(parse_records(&body), vec![record]);
    }

    #[test]
    fn several_markers_in_one_body_are_all_read_and_broken_ones_skipped() {
        let class = Record::Class {
            class: WorkClass::Debt,
            by: "a".into(),
            at: at(1),
        };
        let points = Record::Points {
            points: 8,
            by: "b".into(),
            at: at(2),
        };
        let body = format!(
            "{}\n<!-- paydown:record {{not json}} -->\n{}\n<!-- paydown:record {{\"kind\":\"future\"}} -->",
            record_marker(&class),
            record_marker(&points)
        );
        assert_eq!(parse_records(&body), vec![class, points]);
        assert!(parse_records("no markers here").is_empty());
        assert!(parse_records("<!-- paydown:record {\"kind\":\"points\"").is_empty());
    }

    #[test]
    fn given_a_marker_that_does_not_start_its_line_then_it_is_not_a_record() {
        let marker = record_marker(&Record::Points {
            points: 8,
            by: "lead".into(),
            at: at(1),
        });
        assert!(parse_records(&format!("> `/debt frob {marker}`")).is_empty());
        assert_eq!(parse_records(&format!("text\n  {marker}\n")).len(), 1);
    }

    #[test]
    fn the_latest_record_of_each_kind_wins_regardless_of_order() {
        let early = Record::Class {
            class: WorkClass::Feature,
            by: "a".into(),
            at: at(1),
        };
        let late = Record::Class {
            class: WorkClass::Debt,
            by: "b".into(),
            at: at(5),
        };
        let points = Record::Points {
            points: 3,
            by: "a".into(),
            at: at(2),
        };
        let mut pr = PrRecord::default();
        apply_records(&mut pr, [&late, &points, &early]);
        assert_eq!(pr.overrides.class, Some(WorkClass::Debt));
        assert_eq!(pr.overrides.points, Some(3));
        assert_eq!(pr.accepted_drift, None);
    }
}
