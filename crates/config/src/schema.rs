//! The single description of the file's shape: every section and key, its
//! type, limits and one-line explanation. Validation, "did you mean" and the
//! `paydown init` template all read this table, so they cannot disagree.
//! Defaults live in [`crate::model`] (`Default` impls) and reach the template
//! by serializing `Config::default()`.

use crate::model::{CheckMode, MetadataField, Permission, Severity, SprintSource};

/// What a value must look like.
#[derive(Debug)]
pub(crate) enum Kind {
    /// `true` / `false`.
    Bool,
    /// A whole number in `min..=max`.
    Int { min: i64, max: i64 },
    /// A number (whole or not) in `min..=max`.
    Float { min: f64, max: f64 },
    /// Any string; `non_empty` forbids `""`.
    Str { non_empty: bool },
    /// A string without white space whose first character is ASCII
    /// punctuation (the command prefix): the App drops a comment with no line
    /// starting with punctuation before it reads the config, so a prefix
    /// like `debt` would be accepted here and never answered there.
    Token,
    /// A GitHub label name: 1 to 50 characters.
    Label,
    /// An annotation keyword: letters, digits and `_`.
    Keyword,
    /// A glob pattern (checked with globset).
    Glob,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// `UTC` or a fixed offset like `+02:00`.
    TimeZone,
    /// A repository `owner/name`.
    Repository,
    /// A tier number, 1 to 255 (a mapping key).
    TierNumber,
    /// One of the listed strings.
    Enum(&'static [&'static str]),
    /// A list of values; `min_len` items at least.
    List { item: &'static Kind, min_len: usize },
    /// A mapping from free-form keys of `key` kind to values of `value` kind.
    Map {
        key: &'static Kind,
        value: &'static Kind,
    },
    /// A value that may be left unset (`null` is accepted).
    Optional(&'static Kind),
    /// A mapping with fixed keys.
    Section(&'static [Field]),
    /// A section with an `enabled` key that may also be written as a bare boolean.
    Toggle(&'static [Field]),
}

/// One key of a section.
#[derive(Debug)]
pub(crate) struct Field {
    pub key: &'static str,
    pub kind: Kind,
    /// One line for the init template (the Rust doc comments say the same).
    pub doc: &'static str,
    /// Shown commented-out in the template when the default is unset.
    pub example: Option<&'static str>,
}

const fn field(key: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        key,
        kind,
        doc,
        example: None,
    }
}

const LABELS: Kind = Kind::List {
    item: &Kind::Label,
    min_len: 0,
};
const GLOBS: Kind = Kind::List {
    item: &Kind::Glob,
    min_len: 0,
};
const DAYS: Kind = Kind::Int { min: 1, max: 3650 };
const SHARE: Kind = Kind::Float { min: 0.0, max: 1.0 };
const WEIGHT: Kind = Kind::Float {
    min: 0.0,
    max: 100.0,
};

const ANNOTATIONS: &[Field] = &[
    field(
        "keywords",
        Kind::List {
            item: &Kind::Keyword,
            min_len: 1,
        },
        "Words that start an annotation, matched case-sensitively as whole words.",
    ),
    field(
        "require_colon",
        Kind::Bool,
        "Only count `KEYWORD:` (with a colon) as an annotation.",
    ),
    field(
        "severity",
        Kind::Map {
            key: &Kind::Keyword,
            value: &Kind::Enum(Severity::NAMES),
        },
        "Severity per keyword (low, medium, high, critical) for the priority score; entries override these, unlisted keywords are medium.",
    ),
    field(
        "require",
        Kind::Map {
            key: &Kind::Keyword,
            value: &Kind::List {
                item: &Kind::Enum(MetadataField::NAMES),
                min_len: 0,
            },
        },
        "Metadata each keyword must carry, e.g. {DEBT: [owner, cost]}; checked on lines a PR adds.",
    ),
];

const PATHS: &[Field] = &[
    field(
        "include",
        Kind::List {
            item: &Kind::Glob,
            min_len: 1,
        },
        "Globs of files to scan, relative to the repository root.",
    ),
    field(
        "exclude",
        GLOBS,
        "Globs of files never scanned (on top of .gitignore and .ignore).",
    ),
    field(
        "max_file_bytes",
        Kind::Int {
            min: 1,
            max: 1 << 40,
        },
        "Files larger than this many bytes are skipped (default 1 MiB).",
    ),
    field(
        "max_line_length",
        Kind::Int {
            min: 1,
            max: 1_000_000,
        },
        "Lines longer than this many bytes are skipped (minified code).",
    ),
    field(
        "skip_generated",
        Kind::Bool,
        "Skip files marked as generated (@generated, \"Code generated ... DO NOT EDIT\").",
    ),
    field(
        "skip_vendored",
        Kind::Bool,
        "Skip files matching `vendored`.",
    ),
    field(
        "vendored",
        GLOBS,
        "Globs of vendored third-party code, skipped when skip_vendored is on.",
    ),
];

const ISSUES: &[Field] = &[
    field("labels", LABELS, "Labels added to every debt issue."),
    field(
        "title_prefix",
        Kind::Str { non_empty: false },
        "Text put before `KEYWORD: text` in issue titles.",
    ),
    field(
        "assign_owner",
        Kind::Bool,
        "Assign the annotation's owner to its issue when they can be assigned.",
    ),
    field(
        "mention_owners",
        Kind::Bool,
        "Write owners as @mentions (which notify them) instead of plain names.",
    ),
    field(
        "close_when_removed",
        Kind::Bool,
        "Close the issue when its annotation leaves the default branch.",
    ),
    field(
        "max_new_per_run",
        Kind::Int { min: 1, max: 1000 },
        "At most this many new issues per run; the rest follow in later runs.",
    ),
];

const DASHBOARD: &[Field] = &[
    field(
        "enabled",
        Kind::Bool,
        "Keep one dashboard issue (`dashboard: false` also turns it off).",
    ),
    field(
        "title",
        Kind::Str { non_empty: true },
        "Title of the dashboard issue.",
    ),
];

const WORK: &[Field] = &[
    field(
        "debt_labels",
        LABELS,
        "PR labels that make a pull request debt work.",
    ),
    field(
        "feature_labels",
        LABELS,
        "PR labels that make a pull request feature work.",
    ),
    field(
        "ops_labels",
        LABELS,
        "PR labels that make a pull request ops work.",
    ),
    field(
        "ignore_labels",
        LABELS,
        "Pull requests with any of these labels are not counted.",
    ),
    field(
        "points",
        Kind::Map {
            key: &Kind::Label,
            value: &Kind::Int {
                min: 0,
                max: 10_000,
            },
        },
        "Points for a PR carrying a label; PRs without one are sized from their diff.",
    ),
];

const CADENCE: &[Field] = &[
    field(
        "start",
        Kind::Date,
        "First day of the first sprint (YYYY-MM-DD).",
    ),
    field(
        "length_days",
        Kind::Int { min: 1, max: 365 },
        "Length of every sprint in days.",
    ),
];

const SPRINTS: &[Field] = &[
    field(
        "source",
        Kind::Enum(SprintSource::NAMES),
        "Where sprints come from: cadence (fixed-length) or milestones (open milestones with a due date).",
    ),
    field(
        "cadence",
        Kind::Section(CADENCE),
        "Fixed-length sprints; remove this when source is milestones.",
    ),
    Field {
        key: "capacity_points",
        kind: Kind::Optional(&Kind::Int {
            min: 1,
            max: 1_000_000,
        }),
        doc: "Points a sprint can take; unset means the sprint's merged points.",
        example: Some("40"),
    },
    field(
        "debt_share",
        SHARE,
        "Share of capacity reserved for debt work, from 0 to 1.",
    ),
    field(
        "tolerance",
        SHARE,
        "Slack, as a share of capacity from 0 to 1, before drift is reported.",
    ),
    field(
        "timezone",
        Kind::TimeZone,
        "Time zone of sprint boundaries: UTC or a fixed offset like +02:00.",
    ),
    field(
        "hot_share_boost",
        SHARE,
        "Added to debt_share while any debt item is hot (debt:hot); the drift comment names the hot items (docs/incidents.md).",
    ),
];

const DRIFT: &[Field] = &[
    field(
        "comment",
        Kind::Bool,
        "Post one sticky comment on the pull request that causes drift.",
    ),
    field(
        "check",
        Kind::Enum(CheckMode::NAMES),
        "Drift check run conclusion: off, neutral or failure.",
    ),
    field(
        "accept_permission",
        Kind::Enum(Permission::ACCEPT_NAMES),
        "Minimum permission to run `accept-drift`: write, maintain or admin.",
    ),
];

const SPIKE: &[Field] = &[
    field(
        "window_days",
        DAYS,
        "Short window in days; must be shorter than incidents.window_days.",
    ),
    field(
        "factor",
        Kind::Float {
            min: 1.0,
            max: 1000.0,
        },
        "A spike is more than this many times the item's baseline incident rate.",
    ),
    field(
        "min",
        Kind::Int {
            min: 1,
            max: 10_000,
        },
        "Fewest incidents in the short window that make a spike.",
    ),
];

const INCIDENTS: &[Field] = &[
    field(
        "labels",
        LABELS,
        "Issues with any of these labels are incidents.",
    ),
    field(
        "repositories",
        Kind::List {
            item: &Kind::Repository,
            min_len: 0,
        },
        "Other repositories (owner/name) of the installation whose incident issues count here.",
    ),
    field(
        "pagerduty_services",
        Kind::List {
            item: &Kind::Str { non_empty: true },
            min_len: 0,
        },
        "PagerDuty service ids whose incidents are routed to this repository.",
    ),
    field(
        "window_days",
        DAYS,
        "Incidents older than this many days no longer count.",
    ),
    field(
        "spike",
        Kind::Section(SPIKE),
        "Spike detection: the item gets debt:hot while it lasts.",
    ),
];

const PRIORITY: &[Field] = &[
    field(
        "incidents",
        WEIGHT,
        "Weight of linked incidents in the window.",
    ),
    field("age", WEIGHT, "Weight of the item's age."),
    field("tier", WEIGHT, "Weight of the tier (tier 1 is highest)."),
    field("cost", WEIGHT, "Weight of the cost (cheaper items rise)."),
    field("severity", WEIGHT, "Weight of the keyword severity."),
    field(
        "due",
        WEIGHT,
        "Weight of an overdue due date (per week overdue, capped at 12).",
    ),
    field(
        "thresholds",
        Kind::Section(THRESHOLDS),
        "Lowest score of each band; below p3 is debt:P4.",
    ),
];

const SCORE: Kind = Kind::Float {
    min: 0.0,
    max: 100_000.0,
};
const THRESHOLDS: &[Field] = &[
    field("p1", SCORE, "Lowest score labelled debt:P1."),
    field("p2", SCORE, "Lowest score labelled debt:P2."),
    field("p3", SCORE, "Lowest score labelled debt:P3."),
];

const COMMANDS: &[Field] = &[
    field(
        "prefix",
        Kind::Token,
        "Word that starts a command line in a comment; must start with punctuation.",
    ),
    field(
        "permission",
        Kind::Enum(Permission::NAMES),
        "Minimum repository permission for commands that change state.",
    ),
];

/// The top level of the file.
pub(crate) const ROOT: &[Field] = &[
    field(
        "annotations",
        Kind::Section(ANNOTATIONS),
        "Debt annotations in code comments.",
    ),
    field("paths", Kind::Section(PATHS), "Which files are scanned."),
    field(
        "issues",
        Kind::Section(ISSUES),
        "The GitHub issue kept for each debt item.",
    ),
    field(
        "dashboard",
        Kind::Toggle(DASHBOARD),
        "The dashboard issue; `dashboard: false` turns it off.",
    ),
    field(
        "work",
        Kind::Section(WORK),
        "How pull requests are classified and sized.",
    ),
    field(
        "sprints",
        Kind::Section(SPRINTS),
        "Sprint boundaries and the capacity reserved for debt.",
    ),
    field(
        "drift",
        Kind::Section(DRIFT),
        "What happens when reserved debt capacity drifts to feature work.",
    ),
    field(
        "incidents",
        Kind::Section(INCIDENTS),
        "Which issues are incidents, and incident spikes.",
    ),
    field(
        "priority",
        Kind::Section(PRIORITY),
        "Weights (0 to 100) of the priority score's terms.",
    ),
    field(
        "tiers",
        Kind::Map {
            key: &Kind::TierNumber,
            value: &Kind::Str { non_empty: true },
        },
        "Names of the customer segments behind tier=1..N, e.g. {1: enterprise, 2: team}.",
    ),
    field(
        "commands",
        Kind::Section(COMMANDS),
        "Slash commands in comments.",
    ),
];

impl Kind {
    /// The fields of a section-like kind.
    pub(crate) fn fields(&self) -> Option<&'static [Field]> {
        match self {
            Kind::Section(f) | Kind::Toggle(f) => Some(f),
            _ => None,
        }
    }

    /// What the value must be, for "expected …" messages.
    pub(crate) fn expected(&self) -> String {
        match self {
            Kind::Bool => "true or false".into(),
            Kind::Int { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Float { min, max } => format!("a number from {min} to {max}"),
            Kind::Str { non_empty: false } => "a string".into(),
            Kind::Str { non_empty: true } => "a non-empty string".into(),
            Kind::Token => "a string without spaces that starts with punctuation".into(),
            Kind::Label => "a label name".into(),
            Kind::Keyword => "a keyword (letters, digits and _)".into(),
            Kind::Glob => "a glob pattern".into(),
            Kind::Date => "a date (YYYY-MM-DD)".into(),
            Kind::TimeZone => "a time zone (UTC or an offset like +02:00)".into(),
            Kind::Repository => "a repository (owner/name)".into(),
            Kind::TierNumber => "a tier number from 1 to 255".into(),
            Kind::Enum(names) => format!("one of {}", names.join(", ")),
            Kind::List { item, .. } => format!("a list of {}s", item.noun()),
            Kind::Map { .. } | Kind::Section(_) => "a mapping".into(),
            Kind::Optional(inner) => inner.expected(),
            Kind::Toggle(_) => "true, false or a mapping".into(),
        }
    }

    fn noun(&self) -> &'static str {
        match self {
            Kind::Keyword => "keyword",
            Kind::Glob => "glob",
            Kind::Label => "label",
            Kind::Enum(_) => "name",
            _ => "value",
        }
    }
}

/// Every dotted key path in the schema (for "did you mean" across sections).
pub(crate) fn all_paths() -> Vec<String> {
    fn walk(prefix: &str, fields: &[Field], out: &mut Vec<String>) {
        for f in fields {
            let path = if prefix.is_empty() {
                f.key.to_string()
            } else {
                format!("{prefix}.{}", f.key)
            };
            out.push(path.clone());
            if let Some(sub) = f.kind.fields() {
                walk(&path, sub, out);
            }
        }
    }
    let mut out = Vec::new();
    walk("", ROOT, &mut out);
    out
}
