//! The typed configuration: one struct per section of `.github/paydown.yml`,
//! with the defaults `paydown init` writes. Values reach these structs only
//! after [`crate::schema`] validation, so deserialization here is plain serde.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{FixedOffset, NaiveDate, Offset, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The whole configuration. Every section and key is optional in the file;
/// `Config::default()` is what an empty file means.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Debt annotations in code comments.
    pub annotations: Annotations,
    /// Which files are scanned.
    pub paths: Paths,
    /// The GitHub issue kept for each debt item.
    pub issues: Issues,
    /// The dashboard issue (`dashboard: false` turns it off).
    pub dashboard: Dashboard,
    /// How pull requests are classified and sized.
    pub work: Work,
    /// Sprint boundaries and the capacity reserved for debt.
    pub sprints: Sprints,
    /// What happens when reserved debt capacity drifts to feature work.
    pub drift: Drift,
    /// Which issues count as incidents, and spike detection.
    pub incidents: Incidents,
    /// Weights of the priority score.
    pub priority: Priority,
    /// Names of the customer segments behind `tier=1..N`, e.g.
    /// `{1: enterprise, 2: team, 3: free}`. Default: `{}` (shown as `tier N`).
    pub tiers: BTreeMap<u32, String>,
    /// Slash commands in comments.
    pub commands: Commands,
}

/// `annotations:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Annotations {
    /// Words that start an annotation, matched case-sensitively as whole
    /// words. Default: `[TODO, FIXME, HACK, XXX, DEBT]`.
    pub keywords: Vec<String>,
    /// Only `KEYWORD:` (with a colon) counts as an annotation. Default: `false`.
    pub require_colon: bool,
    /// Severity per keyword, used by the priority score. Entries in the file
    /// override these defaults one by one; keywords listed nowhere are `medium`.
    /// Default: `{TODO: low, FIXME: high, HACK: medium, XXX: high, DEBT: medium}`.
    pub severity: BTreeMap<String, Severity>,
    /// Metadata each keyword must carry, e.g. `{DEBT: [owner, cost]}`;
    /// reported on lines a PR adds. Default: `{}` (nothing required).
    pub require: BTreeMap<String, Vec<MetadataField>>,
}

impl Default for Annotations {
    fn default() -> Self {
        Self {
            keywords: ["TODO", "FIXME", "HACK", "XXX", "DEBT"]
                .map(String::from)
                .to_vec(),
            require_colon: false,
            severity: [
                ("TODO", Severity::Low),
                ("FIXME", Severity::High),
                ("HACK", Severity::Medium),
                ("XXX", Severity::High),
                ("DEBT", Severity::Medium),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            require: BTreeMap::new(),
        }
    }
}

impl Annotations {
    /// The severity of `keyword`: the configured one, else `medium`.
    pub fn severity_of(&self, keyword: &str) -> Severity {
        self.severity
            .get(keyword)
            .copied()
            .unwrap_or(Severity::Medium)
    }

    /// Metadata fields `keyword` must carry (empty when none are required).
    pub fn required_for(&self, keyword: &str) -> &[MetadataField] {
        self.require.get(keyword).map_or(&[], Vec::as_slice)
    }
}

/// Keyword severity, from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Score 1.
    Low,
    /// Score 2.
    Medium,
    /// Score 3.
    High,
    /// Score 4.
    Critical,
}

impl Severity {
    /// Names accepted in the file, in order.
    pub const NAMES: &'static [&'static str] = &["low", "medium", "high", "critical"];

    /// The name used in the file.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Numeric value used by the priority score: low 1, medium 2, high 3, critical 4.
    pub fn score(self) -> u8 {
        match self {
            Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        }
    }
}

/// A metadata field an annotation can be required to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetadataField {
    /// `@user` or `TODO(name)`.
    Owner,
    /// `cost=3d`.
    Cost,
    /// `area=billing`.
    Area,
    /// `tier=1`.
    Tier,
    /// `incident=#412`.
    Incident,
    /// `due=2027-03-31`.
    Due,
    /// `id=orders-n-plus-one`.
    Id,
    /// `#123`, the debt issue.
    Issue,
}

impl MetadataField {
    /// Names accepted in the file.
    pub const NAMES: &'static [&'static str] = &[
        "owner", "cost", "area", "tier", "incident", "due", "id", "issue",
    ];

    /// The name used in the file (`owner`, `cost`, …), e.g. for "missing owner".
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// `paths:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Paths {
    /// Globs of files to scan, relative to the repository root. Default: `["**"]`.
    pub include: Vec<String>,
    /// Globs of files never scanned (on top of `.gitignore` and `.ignore`). Default: `[]`.
    pub exclude: Vec<String>,
    /// Files larger than this many bytes are skipped. Default: `1048576` (1 MiB).
    pub max_file_bytes: u64,
    /// Lines longer than this many bytes are skipped (minified code). Default: `2000`.
    pub max_line_length: u32,
    /// Skip files that declare themselves generated (`@generated`,
    /// `Code generated ... DO NOT EDIT`). Default: `true`.
    pub skip_generated: bool,
    /// Skip files matching `vendored`. Default: `true`.
    pub skip_vendored: bool,
    /// Globs of vendored (third-party) code, skipped when `skip_vendored` is on.
    /// Default: see [`DEFAULT_VENDORED`].
    pub vendored: Vec<String>,
}

/// Default `paths.vendored` globs.
pub const DEFAULT_VENDORED: &[&str] = &[
    "**/vendor/**",
    "**/third_party/**",
    "**/third-party/**",
    "**/node_modules/**",
    "**/bower_components/**",
    "**/Pods/**",
    "**/Carthage/**",
    "**/*.min.js",
    "**/*.min.css",
];

impl Default for Paths {
    fn default() -> Self {
        Self {
            include: vec!["**".to_string()],
            exclude: Vec::new(),
            max_file_bytes: 1024 * 1024,
            max_line_length: 2000,
            skip_generated: true,
            skip_vendored: true,
            vendored: DEFAULT_VENDORED.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// `issues:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issues {
    /// Labels added to every debt issue. Default: `[tech-debt]`.
    pub labels: Vec<String>,
    /// Text put before `KEYWORD: text` in issue titles. Default: `""`.
    pub title_prefix: String,
    /// Assign the annotation's owner to the issue when possible. Default: `true`.
    pub assign_owner: bool,
    /// Write owners as `@login` mentions in what the bot posts (issues, the
    /// PR report), which notifies them. Default: `false`: owners are shown
    /// without a ping and assignment is the notification.
    pub mention_owners: bool,
    /// Close the issue when its annotation leaves the default branch. Default: `true`.
    pub close_when_removed: bool,
    /// At most this many new issues per run; the rest follow in later runs. Default: `50`.
    pub max_new_per_run: u32,
}

impl Default for Issues {
    fn default() -> Self {
        Self {
            labels: vec!["tech-debt".to_string()],
            title_prefix: String::new(),
            assign_owner: true,
            mention_owners: false,
            close_when_removed: true,
            max_new_per_run: 50,
        }
    }
}

/// `dashboard:` section; the file may also say `dashboard: false` / `true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dashboard {
    /// Keep a dashboard issue. Default: `true`.
    pub enabled: bool,
    /// Title of the dashboard issue. Default: `"Technical debt dashboard"`.
    pub title: String,
}

impl Default for Dashboard {
    fn default() -> Self {
        Self {
            enabled: true,
            title: "Technical debt dashboard".to_string(),
        }
    }
}

/// `work:` section: pull request classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Work {
    /// PR labels that make a PR debt work. Default: `[tech-debt, debt, refactor]`.
    pub debt_labels: Vec<String>,
    /// PR labels that make a PR feature work. Default: `[feature, enhancement]`.
    pub feature_labels: Vec<String>,
    /// PR labels that make a PR ops work. Default: `[ops, infrastructure, chore]`.
    pub ops_labels: Vec<String>,
    /// PRs with any of these labels are not counted at all. Default: `[paydown:ignore]`.
    pub ignore_labels: Vec<String>,
    /// Points for a PR carrying a label. Default: `{size/XS: 1, size/S: 2, size/M: 5, size/L: 8, size/XL: 13}`.
    pub points: BTreeMap<String, u32>,
}

impl Default for Work {
    fn default() -> Self {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Self {
            debt_labels: list(&["tech-debt", "debt", "refactor"]),
            feature_labels: list(&["feature", "enhancement"]),
            ops_labels: list(&["ops", "infrastructure", "chore"]),
            ignore_labels: list(&["paydown:ignore"]),
            points: [
                ("size/XS", 1),
                ("size/S", 2),
                ("size/M", 5),
                ("size/L", 8),
                ("size/XL", 13),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        }
    }
}

/// `sprints:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sprints {
    /// Where sprints come from: `cadence` (fixed-length sprints from `cadence`)
    /// or `milestones` (each open milestone with a due date). Default: `cadence`.
    pub source: SprintSource,
    /// Fixed-length sprints; ignored (and an error to set) with `source: milestones`.
    /// Default: `{start: 2026-01-05, length_days: 14}`.
    pub cadence: Cadence,
    /// Points a sprint can take; when unset the sprint's merged points are used. Default: unset.
    pub capacity_points: Option<u32>,
    /// Share of capacity reserved for debt, 0 to 1. Default: `0.2`.
    pub debt_share: f64,
    /// Slack (a share of capacity, 0 to 1) before drift is reported. Default: `0.05`.
    pub tolerance: f64,
    /// Time zone of sprint boundaries: `UTC` or a fixed offset like `+02:00`. Default: `UTC`.
    pub timezone: TimeZone,
    /// Added to `debt_share` while any debt item is hot (`debt:hot`), 0 to 1.
    /// Default: `0` (off).
    pub hot_share_boost: f64,
}

impl Default for Sprints {
    fn default() -> Self {
        Self {
            source: SprintSource::Cadence,
            cadence: Cadence::default(),
            capacity_points: None,
            debt_share: 0.2,
            tolerance: 0.05,
            timezone: TimeZone::default(),
            hot_share_boost: 0.0,
        }
    }
}

/// Where sprint boundaries come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SprintSource {
    /// Fixed-length sprints from `sprints.cadence`.
    Cadence,
    /// Each open milestone with a due date is a sprint.
    Milestones,
}

impl SprintSource {
    /// Names accepted in the file.
    pub const NAMES: &'static [&'static str] = &["cadence", "milestones"];
}

/// `sprints.cadence`: sprints of `length_days` days, the first starting on `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cadence {
    /// First day of the first sprint (YYYY-MM-DD). Default: `2026-01-05` (a Monday).
    pub start: NaiveDate,
    /// Length of every sprint in days. Default: `14`.
    pub length_days: u32,
}

impl Default for Cadence {
    fn default() -> Self {
        Self {
            // 2026-01-05 is a valid date, so this never falls back.
            start: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
            length_days: 14,
        }
    }
}

/// A time zone given as `UTC` or a fixed offset (`+02:00`, `-05:30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(FixedOffset);

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone(Utc.fix())
    }
}

impl TimeZone {
    /// The offset from UTC.
    pub fn offset(self) -> FixedOffset {
        self.0
    }

    /// Parses `UTC`, `Z` or `±HH:MM` (hours up to 23). Returns `None` otherwise.
    pub fn parse(text: &str) -> Option<TimeZone> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Some(TimeZone::default());
        }
        let (sign, rest) = match t.as_bytes().first()? {
            b'+' => (1, &t[1..]),
            b'-' => (-1, &t[1..]),
            _ => return None,
        };
        let (h, m) = rest.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let h: i32 = h.parse().ok()?;
        let m: i32 = m.parse().ok()?;
        if h > 23 || m > 59 {
            return None;
        }
        FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(TimeZone)
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.local_minus_utc();
        if secs == 0 {
            return f.write_str("UTC");
        }
        let sign = if secs < 0 { '-' } else { '+' };
        let abs = secs.abs();
        write!(f, "{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeZone::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid time zone `{text}`: use UTC or an offset like +02:00"
            ))
        })
    }
}

/// `drift:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Drift {
    /// Post one sticky comment on the PR that causes drift. Default: `true`.
    pub comment: bool,
    /// Conclusion of the drift check run: `off`, `neutral` or `failure`. Default: `neutral`.
    pub check: CheckMode,
    /// Minimum permission to `/debt accept-drift`: `write`, `maintain` or `admin`. Default: `maintain`.
    pub accept_permission: Permission,
}

impl Default for Drift {
    fn default() -> Self {
        Self {
            comment: true,
            check: CheckMode::Neutral,
            accept_permission: Permission::Maintain,
        }
    }
}

/// What the drift check run concludes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckMode {
    /// No check run.
    Off,
    /// A neutral check run (informational).
    Neutral,
    /// A failing check run (can block merging via branch protection).
    Failure,
}

impl CheckMode {
    /// Names accepted in the file.
    pub const NAMES: &'static [&'static str] = &["off", "neutral", "failure"];
}

/// A GitHub repository permission level, ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Read.
    Read,
    /// Triage.
    Triage,
    /// Write.
    Write,
    /// Maintain.
    Maintain,
    /// Admin.
    Admin,
}

impl Permission {
    /// Every permission name, least to most.
    pub const NAMES: &'static [&'static str] = &["read", "triage", "write", "maintain", "admin"];
    /// Names allowed for `drift.accept_permission`.
    pub const ACCEPT_NAMES: &'static [&'static str] = &["write", "maintain", "admin"];

    /// Reads a permission or role name as GitHub writes it (`role_name` of the
    /// collaborator permission endpoint); `None` for anything else (e.g. `none`).
    pub fn parse(name: &str) -> Option<Permission> {
        match name.to_ascii_lowercase().as_str() {
            "read" | "pull" => Some(Permission::Read),
            "triage" => Some(Permission::Triage),
            "write" | "push" => Some(Permission::Write),
            "maintain" => Some(Permission::Maintain),
            "admin" => Some(Permission::Admin),
            _ => None,
        }
    }

    /// The name used in the file and by GitHub.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// `incidents:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Incidents {
    /// Issues with any of these labels are incidents. Default: `[incident]`.
    pub labels: Vec<String>,
    /// Other repositories (`owner/name`) of the same installation whose
    /// incident issues count here. Default: `[]`.
    pub repositories: Vec<String>,
    /// PagerDuty service ids whose incidents are routed to this repository. Default: `[]`.
    pub pagerduty_services: Vec<String>,
    /// Incidents older than this many days no longer count. Default: `90`.
    pub window_days: u32,
    /// Spike detection (the `debt:hot` label).
    pub spike: Spike,
}

impl Default for Incidents {
    fn default() -> Self {
        Self {
            labels: vec!["incident".to_string()],
            repositories: Vec::new(),
            pagerduty_services: Vec::new(),
            window_days: 90,
            spike: Spike::default(),
        }
    }
}

/// `incidents.spike`: an item is hot when its incidents in the last
/// `window_days` exceed `factor` × its baseline rate and number at least `min`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Spike {
    /// Short window in days, shorter than `incidents.window_days`. Default: `7`.
    pub window_days: u32,
    /// How many times the baseline rate makes a spike. Default: `3.0`.
    pub factor: f64,
    /// Fewest incidents in the short window for a spike. Default: `3`.
    pub min: u32,
}

impl Default for Spike {
    fn default() -> Self {
        Self {
            window_days: 7,
            factor: 3.0,
            min: 3,
        }
    }
}

/// `priority:` section: weights (0 to 100) of the priority score's terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Priority {
    /// Weight of incident counts in the window. Default: `3.0`.
    pub incidents: f64,
    /// Weight of the item's age. Default: `1.0`.
    pub age: f64,
    /// Weight of the tier (tier 1 highest). Default: `2.0`.
    pub tier: f64,
    /// Weight of the cost (cheap items rise). Default: `1.0`.
    pub cost: f64,
    /// Weight of the keyword severity. Default: `1.0`.
    pub severity: f64,
    /// Weight of an overdue `due` date (per week overdue, capped). Default: `1.0`.
    pub due: f64,
    /// Lowest scores of the bands `debt:P1`..`debt:P3`; lower is `debt:P4`.
    /// Default: `{p1: 15, p2: 8, p3: 4}`.
    pub thresholds: Thresholds,
}

/// `priority.thresholds`: the lowest score of each band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Default: `15`.
    pub p1: f64,
    /// Default: `8`.
    pub p2: f64,
    /// Default: `4`.
    pub p3: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            p1: 15.0,
            p2: 8.0,
            p3: 4.0,
        }
    }
}

impl Default for Priority {
    fn default() -> Self {
        Self {
            incidents: 3.0,
            age: 1.0,
            tier: 2.0,
            cost: 1.0,
            severity: 1.0,
            due: 1.0,
            thresholds: Thresholds::default(),
        }
    }
}

/// `commands:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Commands {
    /// Word that starts a command line. Default: `/debt`.
    pub prefix: String,
    /// Minimum repository permission for commands that change state. Default: `write`.
    pub permission: Permission,
}

impl Default for Commands {
    fn default() -> Self {
        Self {
            prefix: "/debt".to_string(),
            permission: Permission::Write,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    /// The names the schema accepts and the variants serde knows must match exactly.
    fn assert_names<T: Serialize + DeserializeOwned + PartialEq + fmt::Debug>(
        names: &[&str],
        variants: &[T],
    ) {
        assert_eq!(names.len(), variants.len());
        for (name, variant) in names.iter().zip(variants) {
            let parsed: T = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(&parsed, variant, "{name}");
        }
    }

    #[test]
    fn every_enum_name_in_the_schema_is_a_variant() {
        use Severity as S;
        assert_names(S::NAMES, &[S::Low, S::Medium, S::High, S::Critical]);
        use MetadataField as M;
        assert_names(
            M::NAMES,
            &[
                M::Owner,
                M::Cost,
                M::Area,
                M::Tier,
                M::Incident,
                M::Due,
                M::Id,
                M::Issue,
            ],
        );
        use Permission as P;
        assert_names(
            P::NAMES,
            &[P::Read, P::Triage, P::Write, P::Maintain, P::Admin],
        );
        assert_names(P::ACCEPT_NAMES, &[P::Write, P::Maintain, P::Admin]);
        assert_names(
            CheckMode::NAMES,
            &[CheckMode::Off, CheckMode::Neutral, CheckMode::Failure],
        );
        assert_names(
            SprintSource::NAMES,
            &[SprintSource::Cadence, SprintSource::Milestones],
        );
    }

    #[test]
    fn names_print_back_and_github_permission_names_parse() {
        assert_eq!(Permission::Maintain.as_str(), "maintain");
        assert_eq!(MetadataField::Issue.as_str(), "issue");
        assert_eq!(Severity::Critical.as_str(), "critical");
        assert_eq!(Permission::parse("push"), Some(Permission::Write));
        assert_eq!(Permission::parse("Admin"), Some(Permission::Admin));
        assert_eq!(Permission::parse("none"), None);
        for name in Permission::NAMES {
            assert_eq!(Permission::parse(name).map(Permission::as_str), Some(*name));
        }
    }

    #[test]
    fn permissions_order_from_read_to_admin() {
        assert!(Permission::Read < Permission::Triage);
        assert!(Permission::Write < Permission::Maintain);
        assert!(Permission::Maintain < Permission::Admin);
    }

    #[test]
    fn time_zones_parse_and_print_back() {
        for text in ["UTC", "+02:00", "-05:30", "+14:00"] {
            assert_eq!(TimeZone::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(TimeZone::parse("Z").unwrap(), TimeZone::default());
        for bad in ["", "+2", "+02", "+0200", "+24:00", "02:00", "Europe/Paris"] {
            assert!(TimeZone::parse(bad).is_none(), "{bad}");
        }
    }
}
