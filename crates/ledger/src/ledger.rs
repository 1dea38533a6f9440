//! The sprint ledger: merged pull requests assigned to the sprint their merge
//! time falls in, summed per class, against the sprint's budget (capacity,
//! reserved debt points, feature allowance), with the drifts people accepted.
//!
//! Budget arithmetic is exact: shares are held in basis points (1/10,000, the
//! config's `debt_share` and `tolerance` are rounded to that) and budget
//! amounts in ten-thousandths of a point ([`Amount`]), so boundary cases such
//! as "debt exactly at the reservation minus the tolerance" never flip on a
//! float rounding error.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use paydown_config::{Config, Sprints, Work};
use serde::{Deserialize, Serialize, Serializer};

use crate::LedgerError;
use crate::classify::{Classification, Overrides, Split, classify};
use crate::sprints::{Calendar, Sprint, SprintId};

/// Budget amounts in ten-thousandths of a point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(u64);

impl Amount {
    /// Ten-thousandths per point.
    pub const SCALE: u64 = 10_000;

    /// Whole points.
    pub fn points(points: u64) -> Self {
        Amount(points.saturating_mul(Self::SCALE))
    }

    /// Raw ten-thousandths.
    pub fn from_raw(raw: u64) -> Self {
        Amount(raw)
    }

    /// Raw ten-thousandths.
    pub fn raw(self) -> u64 {
        self.0
    }

    /// As a float (for JSON and charts).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }

    /// `self - other`, or zero.
    pub fn saturating_sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }
}

/// At most two decimals, trailing zeros dropped: `6`, `3.4`, `1.05`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hundredths = self.0.saturating_add(50) / 100;
        let (whole, frac) = (hundredths / 100, hundredths % 100);
        match frac {
            0 => write!(f, "{whole}"),
            f2 if f2 % 10 == 0 => write!(f, "{whole}.{}", f2 / 10),
            f2 => write!(f, "{whole}.{f2:02}"),
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// The budget rules of `sprints:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// `capacity_points`; `None` means "the sprint's merged points".
    pub capacity: Option<u32>,
    /// `debt_share` in basis points.
    pub share_bp: u32,
    /// `tolerance` in basis points.
    pub tolerance_bp: u32,
    /// `hot_share_boost` in basis points: added to the share while any
    /// debt item is hot ([`Ledger::set_hot`]).
    pub boost_bp: u32,
}

impl Budget {
    /// Reads and checks `sprints:`.
    pub fn from_config(sprints: &Sprints) -> Result<Self, LedgerError> {
        Ok(Self {
            capacity: sprints.capacity_points,
            share_bp: basis_points("debt_share", sprints.debt_share)?,
            tolerance_bp: basis_points("tolerance", sprints.tolerance)?,
            boost_bp: basis_points("hot_share_boost", sprints.hot_share_boost)?,
        })
    }

    /// The budget while debt items are hot: the share raised by the boost
    /// (at most the whole base).
    pub fn boosted(&self) -> Budget {
        Budget {
            share_bp: self.share_bp.saturating_add(self.boost_bp).min(10_000),
            ..*self
        }
    }

    /// Points the shares apply to: the capacity, or `merged_points` without one.
    pub fn base(&self, merged_points: u64) -> u64 {
        self.capacity.map_or(merged_points, u64::from)
    }

    /// Reserved debt points: `debt_share × base`.
    pub fn reserved(&self, merged_points: u64) -> Amount {
        Amount(u64::from(self.share_bp).saturating_mul(self.base(merged_points)))
    }

    /// Feature allowance: `base − reserved`.
    pub fn allowance(&self, merged_points: u64) -> Amount {
        Amount((10_000 - u64::from(self.share_bp)).saturating_mul(self.base(merged_points)))
    }

    /// Slack before drift: `tolerance × base`.
    pub fn tolerance(&self, merged_points: u64) -> Amount {
        Amount(u64::from(self.tolerance_bp).saturating_mul(self.base(merged_points)))
    }

    /// The drift condition of docs/budgets.md on sprint totals: feature points exceed
    /// the allowance while debt points are below `reserved − tolerance`
    /// (equal to either bound is not drifting).
    pub fn over(&self, totals: Split) -> bool {
        self.over_with(totals.feature, totals.debt, totals.total())
    }

    /// [`Budget::over`] with the base's merged points given separately (a
    /// merged PR is judged on the feature work up to it, but the base is the
    /// whole sprint).
    pub fn over_with(&self, feature: u64, debt: u64, merged_points: u64) -> bool {
        Amount::points(feature) > self.allowance(merged_points)
            && Amount::points(debt)
                .0
                .saturating_add(self.tolerance(merged_points).0)
                < self.reserved(merged_points).0
    }
}

fn basis_points(key: &'static str, value: f64) -> Result<u32, LedgerError> {
    if !(0.0..=1.0).contains(&value) {
        return Err(LedgerError::ShareOutOfRange { key, value });
    }
    // In 0..=10_000 after the check above, so the cast cannot truncate.
    Ok((value * 10_000.0).round() as u32)
}

/// Who accepted a drift, why, and when (`/debt accept-drift <reason>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// GitHub login.
    pub by: String,
    /// Why the drift is acceptable, as written in the command.
    pub reason: String,
    /// When the command was read.
    pub at: DateTime<Utc>,
}

/// A pull request as the ledger needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrRecord {
    /// The PR's number.
    pub number: u64,
    /// The PR's title as GitHub has it.
    pub title: String,
    /// `None` while open (or closed without merging).
    pub merged_at: Option<DateTime<Utc>>,
    /// Label names, as the PR spells them.
    pub labels: Vec<String>,
    /// Lines added.
    pub additions: u64,
    /// Lines deleted.
    pub deletions: u64,
    /// Debt annotations this PR removed or edited.
    pub debt_items_paid: u32,
    /// Class and points set by `/debt classify` and `/debt points`.
    pub overrides: Overrides,
    /// The recorded `/debt accept-drift`, if any.
    pub accepted_drift: Option<Acceptance>,
}

/// One merged pull request in a sprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerPr {
    /// The PR's number.
    pub number: u64,
    /// The PR's title.
    pub title: String,
    /// When it was merged: this decides its sprint.
    pub merged_at: DateTime<Utc>,
    /// How its class and points were decided.
    pub classification: Classification,
    /// Its points spread over the budget columns.
    pub split: Split,
}

/// A drift someone accepted, listed on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedDrift {
    /// The PR's number.
    pub number: u64,
    /// The PR's title.
    pub title: String,
    /// Who accepted it, why and when.
    pub acceptance: Acceptance,
}

/// One sprint's budget and merged work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SprintLedger {
    /// The sprint this ledger covers.
    pub sprint: Sprint,
    /// `capacity_points`, or `None` when the merged points are the base.
    pub capacity: Option<u32>,
    /// Debt points the sprint should have: `share × base`.
    pub reserved: Amount,
    /// Feature points the sprint may have: `base − reserved`.
    pub allowance: Amount,
    /// Slack allowed before either side counts as drift: `tolerance × base`.
    pub tolerance: Amount,
    /// Points per class, summed over merged PRs.
    pub totals: Split,
    /// Share of counted points that were debt work (0..=1), `None` when nothing was merged.
    pub debt_share: Option<f64>,
    /// Share of counted points that were ops work (unplanned,
    /// firefighting): the interest the debt costs. `None` when nothing was merged.
    pub ops_share: Option<f64>,
    /// Incidents that started in the sprint, when the caller reads
    /// incidents ([`Ledger::set_incidents`]).
    pub incidents: Option<u32>,
    /// Whether the merged totals meet the drift condition.
    pub drifting: bool,
    /// Merged PRs by merge time (then number), ignored ones included with zero split.
    pub prs: Vec<LedgerPr>,
    /// Accepted drifts: merged PRs of this sprint, and open PRs accepted during it.
    pub accepted: Vec<AcceptedDrift>,
}

impl SprintLedger {
    fn new(sprint: Sprint, budget: &Budget) -> Self {
        let mut out = Self {
            sprint,
            capacity: budget.capacity,
            reserved: Amount::default(),
            allowance: Amount::default(),
            tolerance: Amount::default(),
            totals: Split::default(),
            debt_share: None,
            ops_share: None,
            incidents: None,
            drifting: false,
            prs: Vec::new(),
            accepted: Vec::new(),
        };
        out.refresh(budget);
        out
    }

    fn refresh(&mut self, budget: &Budget) {
        self.prs.sort_by_key(|pr| (pr.merged_at, pr.number));
        self.accepted.sort_by_key(|a| (a.acceptance.at, a.number));
        let mut totals = Split::default();
        for pr in &self.prs {
            totals.add(pr.split);
        }
        let merged = totals.total();
        self.totals = totals;
        self.reserved = budget.reserved(merged);
        self.allowance = budget.allowance(merged);
        self.tolerance = budget.tolerance(merged);
        self.debt_share = (merged > 0).then(|| totals.debt as f64 / merged as f64);
        self.ops_share = (merged > 0).then(|| totals.ops as f64 / merged as f64);
        self.drifting = budget.over(totals);
    }
}

/// A debt item with an incident spike (its issue carries `debt:hot`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HotItem {
    /// The debt issue.
    pub number: u64,
    /// The debt issue's title.
    pub title: String,
}

/// Every sprint's ledger, built from pull requests.
#[derive(Debug, Clone)]
pub struct Ledger {
    budget: Budget,
    /// Items hot now; with a `hot_share_boost`, they raise the reservation.
    hot: Vec<HotItem>,
    /// Start times of the incidents the repository reads, when known.
    incident_starts: Option<Vec<DateTime<Utc>>>,
    work: Work,
    calendar: Calendar,
    sprints: BTreeMap<SprintId, SprintLedger>,
    outside: Vec<u64>,
}

impl Ledger {
    /// Assigns each merged PR to its sprint and sums the work. Open PRs count
    /// only for their accepted drift (listed in the sprint the acceptance
    /// happened in). When a number appears twice, the later record wins.
    pub fn build(
        config: &Config,
        calendar: Calendar,
        prs: &[PrRecord],
    ) -> Result<Self, LedgerError> {
        let budget = Budget::from_config(&config.sprints)?;
        let mut ledger = Self {
            budget,
            hot: Vec::new(),
            incident_starts: None,
            work: config.work.clone(),
            calendar,
            sprints: BTreeMap::new(),
            outside: Vec::new(),
        };
        let mut latest: BTreeMap<u64, &PrRecord> = BTreeMap::new();
        for pr in prs {
            latest.insert(pr.number, pr);
        }
        for pr in latest.into_values() {
            ledger.add(pr);
        }
        for entry in ledger.sprints.values_mut() {
            entry.refresh(&budget);
        }
        ledger.outside.sort_unstable();
        Ok(ledger)
    }

    fn add(&mut self, pr: &PrRecord) {
        let when = pr
            .merged_at
            .or_else(|| pr.accepted_drift.as_ref().map(|a| a.at));
        let Some(sprint) = when.and_then(|at| self.calendar.sprint_for(at)) else {
            if pr.merged_at.is_some() {
                self.outside.push(pr.number);
            }
            return;
        };
        let budget = self.budget;
        let entry = self
            .sprints
            .entry(sprint.id)
            .or_insert_with(|| SprintLedger::new(sprint, &budget));
        if let Some(acceptance) = &pr.accepted_drift {
            entry.accepted.push(AcceptedDrift {
                number: pr.number,
                title: pr.title.clone(),
                acceptance: acceptance.clone(),
            });
        }
        if let Some(merged_at) = pr.merged_at {
            let classification = classify_pr(&self.work, pr);
            entry.prs.push(LedgerPr {
                number: pr.number,
                title: pr.title.clone(),
                merged_at,
                split: classification.split(),
                classification,
            });
        }
    }

    /// The budget rules as written in the config.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The budget drift is judged by now: [`Budget::boosted`] while any
    /// item is hot and `hot_share_boost` is set, else the config's.
    pub fn effective_budget(&self) -> Budget {
        if self.boost_applies() {
            self.budget.boosted()
        } else {
            self.budget
        }
    }

    /// Whether the reservation is raised now.
    pub fn boost_applies(&self) -> bool {
        !self.hot.is_empty() && self.budget.boost_bp > 0
    }

    /// The items hot now (by issue number).
    pub fn hot(&self) -> &[HotItem] {
        &self.hot
    }

    /// Records the items hot now. The boost is a response to live pain, so
    /// it applies to the sprint `now` falls in (its reservation shown on the
    /// dashboard and every drift judged from now on); past sprints keep the
    /// reservation they had.
    pub fn set_hot(&mut self, mut items: Vec<HotItem>, now: DateTime<Utc>) {
        items.sort_by_key(|i| i.number);
        items.dedup_by_key(|i| i.number);
        self.hot = items;
        let budget = self.effective_budget();
        if let Some(sprint) = self.calendar.sprint_for(now) {
            let entry = self
                .sprints
                .entry(sprint.id)
                .or_insert_with(|| SprintLedger::new(sprint, &budget));
            entry.refresh(&budget);
        }
    }

    /// The sprints.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Classifies a PR with this ledger's `work:` rules.
    pub fn classify(&self, pr: &PrRecord) -> Classification {
        classify_pr(&self.work, pr)
    }

    /// The sprint a PR counts in: its merge time's, or `now`'s while open.
    pub fn sprint_for_pr(&self, pr: &PrRecord, now: DateTime<Utc>) -> Option<Sprint> {
        self.calendar.sprint_for(pr.merged_at.unwrap_or(now))
    }

    /// A sprint's ledger, empty when nothing was merged in it.
    pub fn sprint(&self, sprint: &Sprint) -> SprintLedger {
        let mut out = self
            .sprints
            .get(&sprint.id)
            .cloned()
            .unwrap_or_else(|| SprintLedger::new(sprint.clone(), &self.budget));
        if let Some(starts) = &self.incident_starts {
            let n = starts.iter().filter(|at| sprint.contains(**at)).count();
            out.incidents = Some(u32::try_from(n).unwrap_or(u32::MAX));
        }
        out
    }

    /// Records when the repository's incidents started, so each sprint
    /// shows how many it had (the interest paid, next to the ops share).
    pub fn set_incidents(&mut self, starts: impl IntoIterator<Item = DateTime<Utc>>) {
        self.incident_starts = Some(starts.into_iter().collect());
    }

    /// The ledgers of the sprint `now` falls in and up to `count − 1` before it, oldest first.
    pub fn recent(&self, now: DateTime<Utc>, count: usize) -> Vec<SprintLedger> {
        self.calendar
            .recent(now, count)
            .iter()
            .map(|s| self.sprint(s))
            .collect()
    }

    /// Merged PRs that fall in no sprint (before the first, or after the last milestone).
    pub fn outside_sprints(&self) -> &[u64] {
        &self.outside
    }
}

fn classify_pr(work: &Work, pr: &PrRecord) -> Classification {
    classify(
        work,
        &pr.labels,
        pr.additions,
        pr.deletions,
        pr.debt_items_paid,
        &pr.overrides,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::classify::WorkClass;
    use chrono::{NaiveDate, TimeZone};

    pub(crate) fn day(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, h, 0, 0).unwrap()
    }

    /// Two-week sprints from 2026-01-05 (UTC): Sprint 1 is Jan 5..18, Sprint 2 Jan 19..Feb 1.
    pub(crate) fn config(capacity: Option<u32>, share: f64, tolerance: f64) -> Config {
        let mut config = Config::default();
        config.sprints.cadence.start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        config.sprints.cadence.length_days = 14;
        config.sprints.capacity_points = capacity;
        config.sprints.debt_share = share;
        config.sprints.tolerance = tolerance;
        config
    }

    pub(crate) fn pr(
        number: u64,
        class: &str,
        points: u32,
        merged: Option<DateTime<Utc>>,
    ) -> PrRecord {
        PrRecord {
            number,
            title: format!("PR {number}"),
            merged_at: merged,
            labels: vec![class.to_string(), format!("points: {points}")],
            ..PrRecord::default()
        }
    }

    pub(crate) fn build(config: &Config, prs: &[PrRecord]) -> Ledger {
        let calendar = Calendar::from_config(&config.sprints, &[]).unwrap();
        Ledger::build(config, calendar, prs).unwrap()
    }

    fn first_sprint(ledger: &Ledger) -> SprintLedger {
        let s = ledger.calendar().sprint_for(day(5, 0)).unwrap();
        ledger.sprint(&s)
    }

    #[test]
    fn amount_display() {
        let cases = [
            (Amount::points(6), "6"),
            (Amount::from_raw(34_000), "3.4"),
            (Amount::from_raw(10_500), "1.05"),
            (Amount::from_raw(33_333), "3.33"),
            (Amount::from_raw(9_999), "1"),
            (Amount::default(), "0"),
        ];
        for (amount, want) in cases {
            assert_eq!(amount.to_string(), want);
        }
    }

    #[test]
    fn budget_with_and_without_capacity() {
        // Given capacity 20 and a 0.3 share, the reservation is 6 whatever was merged
        let cfg = config(Some(20), 0.3, 0.05);
        let ledger = build(&cfg, &[pr(1, "feature", 5, Some(day(6, 9)))]);
        let s = first_sprint(&ledger);
        assert_eq!(
            (s.capacity, s.reserved.to_string(), s.allowance.to_string()),
            (Some(20), "6".into(), "14".into())
        );
        assert_eq!(s.tolerance.to_string(), "1");
        // Given no capacity, the base is the sprint's merged points (5 + 12 = 17)
        let cfg = config(None, 0.2, 0.05);
        let ledger = build(
            &cfg,
            &[
                pr(1, "feature", 5, Some(day(6, 9))),
                pr(2, "debt", 12, Some(day(7, 9))),
            ],
        );
        let s = first_sprint(&ledger);
        assert_eq!(s.capacity, None);
        assert_eq!(s.reserved.to_string(), "3.4");
        assert_eq!(s.allowance.to_string(), "13.6");
        assert_eq!(
            s.totals,
            Split {
                debt: 12,
                feature: 5,
                ..Split::default()
            }
        );
        assert!(!s.drifting);
        // An empty sprint without capacity reserves nothing
        let s = build(&cfg, &[]).sprint(&ledger.calendar().sprint_for(day(6, 0)).unwrap());
        assert_eq!((s.reserved, s.debt_share), (Amount::default(), None));
    }

    #[test]
    fn merged_prs_land_in_their_sprint_and_open_ones_do_not_count() {
        let cfg = config(Some(20), 0.3, 0.0);
        let prs = [
            pr(1, "feature", 5, Some(day(18, 23))),
            pr(2, "feature", 3, Some(day(19, 0))), // exactly at the boundary: sprint 2
            pr(3, "debt", 2, None),
            pr(4, "ops", 1, Some(day(1, 0))), // before the first sprint
            pr(5, "bug", 2, Some(day(20, 0))),
        ];
        let ledger = build(&cfg, &prs);
        let s1 = first_sprint(&ledger);
        assert_eq!(s1.prs.iter().map(|p| p.number).collect::<Vec<_>>(), [1]);
        let s2 = ledger.sprint(&ledger.calendar().sprint_for(day(19, 0)).unwrap());
        assert_eq!(s2.prs.iter().map(|p| p.number).collect::<Vec<_>>(), [2, 5]);
        assert_eq!(
            s2.totals,
            Split {
                feature: 3,
                unclassified: 2,
                ..Split::default()
            }
        );
        assert_eq!(ledger.outside_sprints(), [4]);
    }

    #[test]
    fn merge_times_are_assigned_in_the_configured_time_zone() {
        // Given sprints starting 2026-01-05 at midnight +02:00 (= Jan 4, 22:00 UTC)
        let mut cfg = config(Some(20), 0.3, 0.0);
        cfg.sprints.timezone = paydown_config::TimeZone::parse("+02:00").unwrap();
        let prs = [
            pr(1, "feature", 5, Some(day(4, 21))), // Jan 4, 23:00 local: before sprint 1
            pr(2, "feature", 3, Some(day(4, 22))), // Jan 5, 00:00 local: sprint 1
            pr(3, "debt", 2, Some(day(18, 21))),   // Jan 18, 23:00 local: sprint 1
            pr(4, "debt", 1, Some(day(18, 22))),   // Jan 19, 00:00 local: sprint 2
        ];
        let ledger = build(&cfg, &prs);
        let s1 = first_sprint(&ledger);
        assert_eq!(s1.prs.iter().map(|p| p.number).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(ledger.outside_sprints(), [1]);
        let s2 = ledger.sprint(&ledger.calendar().sprint_for(day(18, 22)).unwrap());
        assert_eq!(s2.totals.debt, 1);
    }

    #[test]
    fn milestone_sprints_collect_prs_merged_in_gaps() {
        use crate::sprints::{Milestone, MilestoneState};
        let mut cfg = config(None, 0.3, 0.0);
        cfg.sprints.source = paydown_config::SprintSource::Milestones;
        let milestone = |number, due: DateTime<Utc>| Milestone {
            number,
            title: format!("M{number}"),
            due_on: Some(due),
            state: MilestoneState::Closed,
        };
        // M1 due Jan 9, M2 due Jan 23: a PR merged Jan 12 falls in M2's sprint
        let calendar = Calendar::from_config(
            &cfg.sprints,
            &[milestone(2, day(23, 8)), milestone(1, day(9, 8))],
        )
        .unwrap();
        let prs = [
            pr(1, "feature", 5, Some(day(9, 23))),
            pr(2, "debt", 3, Some(day(12, 0))),
            pr(3, "debt", 3, Some(day(24, 0))),
        ];
        let ledger = Ledger::build(&cfg, calendar, &prs).unwrap();
        let m1 = ledger.sprint(&ledger.calendar().get(SprintId::Milestone(1)).unwrap());
        let m2 = ledger.sprint(&ledger.calendar().get(SprintId::Milestone(2)).unwrap());
        assert_eq!(
            m1.totals,
            Split {
                feature: 5,
                ..Split::default()
            }
        );
        assert_eq!(
            m2.totals,
            Split {
                debt: 3,
                ..Split::default()
            }
        );
        assert_eq!(ledger.outside_sprints(), [3], "after the last milestone");
    }

    #[test]
    fn all_debt_sprint_has_full_share_and_no_drift() {
        let cfg = config(Some(20), 0.3, 0.05);
        let ledger = build(
            &cfg,
            &[
                pr(1, "debt", 8, Some(day(6, 0))),
                pr(2, "refactor", 13, Some(day(7, 0))),
            ],
        );
        let s = first_sprint(&ledger);
        assert_eq!(s.totals.debt, 21);
        assert_eq!(s.debt_share, Some(1.0));
        assert!(!s.drifting);
    }

    #[test]
    fn ignored_prs_are_listed_but_not_counted() {
        let cfg = config(None, 0.3, 0.0);
        let ledger = build(&cfg, &[pr(1, "paydown:ignore", 8, Some(day(6, 0)))]);
        let s = first_sprint(&ledger);
        assert_eq!(s.prs.len(), 1);
        assert_eq!(s.prs[0].classification.class, WorkClass::Ignored);
        assert_eq!(s.totals.total(), 0);
    }

    #[test]
    fn accepted_drifts_are_listed_in_their_sprint() {
        let cfg = config(Some(20), 0.3, 0.0);
        let accept = |at| {
            Some(Acceptance {
                by: "lead".into(),
                reason: "launch week".into(),
                at,
            })
        };
        let mut merged = pr(1, "feature", 5, Some(day(6, 0)));
        merged.accepted_drift = accept(day(5, 12));
        let mut open = pr(2, "feature", 5, None);
        open.accepted_drift = accept(day(7, 0));
        let ledger = build(&cfg, &[open, merged]);
        let s = first_sprint(&ledger);
        let numbers: Vec<_> = s.accepted.iter().map(|a| a.number).collect();
        assert_eq!(numbers, [1, 2], "by acceptance time");
        assert_eq!(s.prs.len(), 1, "the open PR is not merged work");
    }

    #[test]
    fn duplicate_records_keep_the_later_one() {
        let cfg = config(Some(20), 0.3, 0.0);
        let ledger = build(
            &cfg,
            &[
                pr(1, "feature", 5, Some(day(6, 0))),
                pr(1, "debt", 5, Some(day(6, 0))),
            ],
        );
        assert_eq!(
            first_sprint(&ledger).totals,
            Split {
                debt: 5,
                ..Split::default()
            }
        );
    }

    #[test]
    fn bad_shares_are_errors() {
        for (share, tolerance) in [(1.5, 0.0), (-0.1, 0.0), (0.3, f64::NAN)] {
            let cfg = config(Some(20), share, tolerance);
            let calendar = Calendar::from_config(&cfg.sprints, &[]).unwrap();
            assert!(matches!(
                Ledger::build(&cfg, calendar, &[]),
                Err(LedgerError::ShareOutOfRange { .. })
            ));
        }
    }
}
