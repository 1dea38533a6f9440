//! What a pull request's work is (debt, feature, ops, unclassified or not
//! counted) and how many points it is worth, from its labels, its diff size,
//! the debt annotations it paid down, and slash-command overrides.
//!
//! Rules, in order (labels match case-insensitively, as GitHub treats them):
//!
//! **Class.** An override (`/debt classify …`) wins. Otherwise a label in
//! `work.ignore_labels` takes the PR out of the budget; otherwise the first of
//! debt, feature, ops whose labels the PR carries (debt first: someone marked
//! the work as paying debt on purpose). A PR with none of these is
//! unclassified; it is shown as such, never guessed.
//!
//! **Points.** An override (`/debt points N`) wins; then the largest
//! `points: N` label (spaces optional, `points:5`); then the largest value of
//! `work.points` among the PR's labels; then the diff size
//! (additions + deletions), a Fibonacci-like scale: ≤10 lines → 1, ≤50 → 2,
//! ≤200 → 3, ≤500 → 5, ≤1000 → 8, more → 13.
//!
//! **Debt annotations paid.** A PR that removes or edits debt annotations
//! pays debt even without a label: an unclassified PR (by labels) becomes
//! debt work; a feature or ops PR keeps its class but one point per item paid,
//! at most all its points, counts as debt instead (its [`Split`]). A class set
//! by override is taken as given, except that feature/ops overrides still get
//! the debt credit, since the removed annotations are a fact of the diff.

use paydown_config::Work;
use serde::{Deserialize, Serialize};

/// The kind of work a pull request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkClass {
    /// Paying down debt: counts towards the reservation.
    Debt,
    /// New behaviour: counts against the feature allowance.
    Feature,
    /// Operations and maintenance: counted, but neither reserved nor capped.
    Ops,
    /// Counted, shown, but not any of the above.
    Unclassified,
    /// Not counted at all (an ignore label, or an override).
    Ignored,
}

impl WorkClass {
    /// Lowercase name as shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkClass::Debt => "debt",
            WorkClass::Feature => "feature",
            WorkClass::Ops => "ops",
            WorkClass::Unclassified => "unclassified",
            WorkClass::Ignored => "ignored",
        }
    }
}

/// What slash commands stored for a pull request; each set field wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    /// From `/debt classify debt|feature|ops|none` (`none` is `Unclassified`).
    pub class: Option<WorkClass>,
    /// From `/debt points N`.
    pub points: Option<u32>,
}

/// Why a PR has its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "label")]
pub enum ClassSource {
    /// Set with `/debt classify`, which wins over labels.
    Override,
    /// This label (as the PR spells it).
    Label(String),
    /// No class label, but it removed or edited debt annotations.
    DebtAnnotations,
    /// No class label.
    None,
}

/// Why a PR has its points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum PointsSource {
    /// Set with `/debt classify`, which wins over labels.
    Override,
    /// A `points: N` label.
    PointsLabel(String),
    /// A label from `work.points`.
    SizeLabel(String),
    /// The diff-size formula on this many changed lines.
    DiffSize(u64),
}

/// A pull request's class and points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// The class the PR's points count towards.
    pub class: WorkClass,
    /// Where [`Classification::class`] came from.
    pub class_source: ClassSource,
    /// The PR's size in points.
    pub points: u32,
    /// Where [`Classification::points`] came from.
    pub points_source: PointsSource,
    /// Points counted as debt because of annotations paid (only for feature
    /// and ops PRs; a debt PR's points are all debt anyway).
    pub debt_credit: u32,
}

/// How a PR's points spread over the budget's columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Points counted as debt, including any debt credit.
    pub debt: u64,
    /// Points counted against the feature allowance.
    pub feature: u64,
    /// Points of operations work.
    pub ops: u64,
    /// Points of unclassified work.
    pub unclassified: u64,
}

impl Split {
    /// All counted points.
    pub fn total(&self) -> u64 {
        self.debt
            .saturating_add(self.feature)
            .saturating_add(self.ops)
            .saturating_add(self.unclassified)
    }

    /// Column-wise sum.
    pub fn add(&mut self, other: Split) {
        self.debt = self.debt.saturating_add(other.debt);
        self.feature = self.feature.saturating_add(other.feature);
        self.ops = self.ops.saturating_add(other.ops);
        self.unclassified = self.unclassified.saturating_add(other.unclassified);
    }
}

impl Classification {
    /// The points per column.
    pub fn split(&self) -> Split {
        let points = u64::from(self.points);
        let credit = u64::from(self.debt_credit.min(self.points));
        let mut split = Split::default();
        match self.class {
            WorkClass::Debt => split.debt = points,
            WorkClass::Feature => {
                split.debt = credit;
                split.feature = points - credit;
            }
            WorkClass::Ops => {
                split.debt = credit;
                split.ops = points - credit;
            }
            WorkClass::Unclassified => split.unclassified = points,
            WorkClass::Ignored => {}
        }
        split
    }
}

/// Classifies a pull request (see the module docs for the rules).
pub fn classify(
    work: &Work,
    labels: &[String],
    additions: u64,
    deletions: u64,
    debt_items_paid: u32,
    overrides: &Overrides,
) -> Classification {
    let (points, points_source) = points(work, labels, additions, deletions, overrides);
    let (class, class_source) = match overrides.class {
        Some(class) => (class, ClassSource::Override),
        None => class_from_labels(work, labels, debt_items_paid),
    };
    let debt_credit = match class {
        WorkClass::Feature | WorkClass::Ops => debt_items_paid.min(points),
        _ => 0,
    };
    Classification {
        class,
        class_source,
        points,
        points_source,
        debt_credit,
    }
}

fn class_from_labels(work: &Work, labels: &[String], items_paid: u32) -> (WorkClass, ClassSource) {
    let find = |names: &[String]| {
        labels
            .iter()
            .find(|label| names.iter().any(|name| same_label(label, name)))
    };
    let ordered = [
        (&work.ignore_labels, WorkClass::Ignored),
        (&work.debt_labels, WorkClass::Debt),
        (&work.feature_labels, WorkClass::Feature),
        (&work.ops_labels, WorkClass::Ops),
    ];
    for (names, class) in ordered {
        if let Some(label) = find(names) {
            return (class, ClassSource::Label(label.clone()));
        }
    }
    if items_paid > 0 {
        (WorkClass::Debt, ClassSource::DebtAnnotations)
    } else {
        (WorkClass::Unclassified, ClassSource::None)
    }
}

fn points(
    work: &Work,
    labels: &[String],
    additions: u64,
    deletions: u64,
    overrides: &Overrides,
) -> (u32, PointsSource) {
    if let Some(points) = overrides.points {
        return (points, PointsSource::Override);
    }
    let direct = labels
        .iter()
        .filter_map(|label| Some((points_label(label)?, label)))
        .max_by_key(|(points, _)| *points);
    if let Some((points, label)) = direct {
        return (points, PointsSource::PointsLabel(label.clone()));
    }
    let sized = labels
        .iter()
        .filter_map(|label| {
            let (_, points) = work
                .points
                .iter()
                .find(|(name, _)| same_label(label, name))?;
            Some((*points, label))
        })
        .max_by_key(|(points, _)| *points);
    if let Some((points, label)) = sized {
        return (points, PointsSource::SizeLabel(label.clone()));
    }
    let changed = additions.saturating_add(deletions);
    (points_for_diff(changed), PointsSource::DiffSize(changed))
}

/// Points for a diff of `changed` lines (additions + deletions).
pub fn points_for_diff(changed: u64) -> u32 {
    match changed {
        0..=10 => 1,
        11..=50 => 2,
        51..=200 => 3,
        201..=500 => 5,
        501..=1000 => 8,
        _ => 13,
    }
}

/// `N` from a `points: N` label (case-insensitive, spaces optional around the colon).
pub fn points_label(label: &str) -> Option<u32> {
    let trimmed = label.trim();
    let head = trimmed.get(..6)?;
    if !head.eq_ignore_ascii_case("points") {
        return None;
    }
    let rest = trimmed[6..].trim_start().strip_prefix(':')?.trim();
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// GitHub label names are unique case-insensitively.
fn same_label(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn run(names: &[&str], changed: u64, paid: u32, overrides: Overrides) -> Classification {
        classify(
            &Work::default(),
            &labels(names),
            changed,
            0,
            paid,
            &overrides,
        )
    }

    #[test]
    fn class_from_labels_table() {
        let cases: &[(&str, &[&str], u32, WorkClass)] = &[
            ("debt label", &["tech-debt"], 0, WorkClass::Debt),
            ("case-insensitive", &["Tech-Debt"], 0, WorkClass::Debt),
            ("feature label", &["enhancement"], 0, WorkClass::Feature),
            ("ops label", &["CHORE"], 0, WorkClass::Ops),
            (
                "debt beats feature",
                &["feature", "refactor"],
                0,
                WorkClass::Debt,
            ),
            (
                "feature beats ops",
                &["ops", "feature"],
                0,
                WorkClass::Feature,
            ),
            (
                "ignore beats all",
                &["debt", "paydown:ignore"],
                0,
                WorkClass::Ignored,
            ),
            (
                "no class label",
                &["bug", "size/M"],
                0,
                WorkClass::Unclassified,
            ),
            ("unlabelled, annotations paid", &[], 2, WorkClass::Debt),
            (
                "feature keeps class when paying",
                &["feature"],
                2,
                WorkClass::Feature,
            ),
        ];
        for (what, names, paid, want) in cases {
            assert_eq!(
                run(names, 1, *paid, Overrides::default()).class,
                *want,
                "{what}"
            );
        }
    }

    #[test]
    fn points_table() {
        let cases: &[(&str, &[&str], u64, u32)] = &[
            ("size label", &["size/M"], 999, 5),
            ("size label any case", &["SIZE/l"], 1, 8),
            ("largest size label", &["size/S", "size/XL"], 1, 13),
            ("points label", &["points: 7"], 999, 7),
            ("points label no space", &["points:5"], 1, 5),
            ("points label spaces", &["Points : 3"], 1, 3),
            (
                "points label beats size label",
                &["size/XL", "points: 2"],
                1,
                2,
            ),
            ("largest points label", &["points: 2", "points: 4"], 1, 4),
            ("malformed points label ignored", &["points: five"], 10, 1),
            ("points label zero", &["points: 0"], 10, 0),
            ("diff 0", &[], 0, 1),
            ("diff 10", &[], 10, 1),
            ("diff 11", &[], 11, 2),
            ("diff 50", &[], 50, 2),
            ("diff 51", &[], 51, 3),
            ("diff 200", &[], 200, 3),
            ("diff 201", &[], 201, 5),
            ("diff 500", &[], 500, 5),
            ("diff 501", &[], 501, 8),
            ("diff 1000", &[], 1000, 8),
            ("diff 1001", &[], 1001, 13),
            ("diff huge", &[], u64::MAX, 13),
        ];
        for (what, names, changed, want) in cases {
            assert_eq!(
                run(names, *changed, 0, Overrides::default()).points,
                *want,
                "{what}"
            );
        }
    }

    #[test]
    fn additions_and_deletions_both_count() {
        let c = classify(&Work::default(), &[], 30, 30, 0, &Overrides::default());
        assert_eq!(c.points, 3);
        assert_eq!(c.points_source, PointsSource::DiffSize(60));
    }

    #[test]
    fn overrides_win_over_labels() {
        // Given a feature PR labelled points: 8 and a human override to debt, 3 points
        let overrides = Overrides {
            class: Some(WorkClass::Debt),
            points: Some(3),
        };
        let c = run(&["feature", "points: 8"], 1, 0, overrides);
        assert_eq!((c.class, c.points), (WorkClass::Debt, 3));
        assert_eq!(c.class_source, ClassSource::Override);
        assert_eq!(c.points_source, PointsSource::Override);
        // An override to unclassified ("none") beats annotation promotion
        let c = run(
            &[],
            1,
            3,
            Overrides {
                class: Some(WorkClass::Unclassified),
                points: None,
            },
        );
        assert_eq!(c.class, WorkClass::Unclassified);
        // An override counts a PR that carries an ignore label
        let c = run(
            &["paydown:ignore"],
            1,
            0,
            Overrides {
                class: Some(WorkClass::Feature),
                points: None,
            },
        );
        assert_eq!(c.class, WorkClass::Feature);
    }

    #[test]
    fn paid_annotations_split_feature_points() {
        let cases: &[(&str, &[&str], u32, Split)] = &[
            (
                "unlabelled PR paying 2 items is all debt",
                &["points: 5"],
                2,
                Split {
                    debt: 5,
                    ..Split::default()
                },
            ),
            (
                "feature PR paying 2 items: 2 debt, 3 feature",
                &["feature", "points: 5"],
                2,
                Split {
                    debt: 2,
                    feature: 3,
                    ..Split::default()
                },
            ),
            (
                "feature PR paying more items than points: all debt",
                &["feature", "points: 3"],
                9,
                Split {
                    debt: 3,
                    ..Split::default()
                },
            ),
            (
                "ops PR paying 1 item",
                &["ops", "points: 2"],
                1,
                Split {
                    debt: 1,
                    ops: 1,
                    ..Split::default()
                },
            ),
            (
                "unclassified",
                &["points: 2"],
                0,
                Split {
                    unclassified: 2,
                    ..Split::default()
                },
            ),
            (
                "ignored counts nothing",
                &["paydown:ignore", "points: 2"],
                4,
                Split::default(),
            ),
        ];
        for (what, names, paid, want) in cases {
            let c = run(names, 1, *paid, Overrides::default());
            assert_eq!(c.split(), *want, "{what}");
            assert_eq!(
                c.split().total(),
                if c.class == WorkClass::Ignored {
                    0
                } else {
                    u64::from(c.points)
                },
                "{what}"
            );
        }
    }

    #[test]
    fn points_label_parsing() {
        assert_eq!(points_label("points: 13"), Some(13));
        assert_eq!(points_label("POINTS:1"), Some(1));
        assert_eq!(points_label("points"), None);
        assert_eq!(points_label("points: -1"), None);
        assert_eq!(points_label("points: 99999999999"), None);
        assert_eq!(points_label("pointsy: 3"), None);
        assert_eq!(points_label("pöints: 3"), None);
        assert_eq!(points_label("story points: 3"), None);
    }
}
