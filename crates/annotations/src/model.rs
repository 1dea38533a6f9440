//! The data paydown reports for each debt item.

use std::collections::BTreeMap;

use serde::Serialize;

/// One debt annotation found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// Repository-relative path, `/`-separated.
    pub path: String,
    /// 1-based line of the keyword.
    pub line: u32,
    /// 1-based column (in characters) of the keyword.
    pub column: u32,
    /// Last line of the body (equal to `line` for a one-line annotation).
    pub end_line: u32,
    /// The keyword as written (one of the configured keywords).
    pub keyword: String,
    /// The first line of text after the keyword, metadata and colon.
    pub text: String,
    /// Continuation lines, joined with `\n`; empty when there are none.
    pub body: String,
    /// What the parentheses after the keyword said.
    pub metadata: Metadata,
    /// Stable id: the `id=` metadata when given, otherwise derived from
    /// keyword + normalised text + path (+ order among identical ones).
    pub id: String,
}

/// Metadata from the parentheses after the keyword.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// `@user` or bare `name` entries, in order, without the `@`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// `#123`: the debt issue this annotation belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<u64>,
    /// `id=...`: a stable id chosen by the author, which survives edits
    /// to the text and moves between files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `cost=3d`: the estimated effort to pay the debt down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// `area=...`: a free-form grouping (component, team) for reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// 1 is the highest tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    /// `incident=#412`, `incident=PD-1234`; several allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<String>,
    /// `due=YYYY-MM-DD`, kept as written once validated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// Unknown `key=value` pairs (keys lowercased), kept and shown. Bare
    /// references such as Google's `b/123`, a URL or `JIRA-42` are kept
    /// under `ref`, several joined with `, `.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
    /// Metadata that could not be read (`cost=lots`, `tier=x`), as plain
    /// messages; the annotation itself is still reported.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// An effort estimate such as `3d`, `4h` or `5pt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cost {
    /// How many `unit`s.
    pub amount: u32,
    /// What `amount` counts.
    pub unit: CostUnit,
}

/// The unit of a [`Cost`], from its suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CostUnit {
    /// `h`
    Hours,
    /// `d`
    Days,
    /// `w`
    Weeks,
    /// `pt`: story points, not time.
    Points,
}

/// What the grammar looks for; built from the `annotations` config section.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Keywords, matched case-sensitively as whole words.
    pub keywords: Vec<String>,
    /// When true, `TODO fix` (no colon) is not an annotation.
    pub require_colon: bool,
    finder: Option<aho_corasick::AhoCorasick>,
}

/// The keywords paydown looks for when the config names none.
pub const DEFAULT_KEYWORDS: [&str; 5] = ["TODO", "FIXME", "HACK", "XXX", "DEBT"];

impl ScanOptions {
    /// Options for `keywords`; builds the literal prefilter once so every
    /// file scanned with these options shares it.
    pub fn new(keywords: Vec<String>, require_colon: bool) -> Self {
        // A build failure (only for absurd keyword sets) disables the
        // prefilter rather than the scan: every file is then lexed.
        // Leftmost-first lets the searcher use its SIMD literal prefilter
        // (Teddy), as `rg -F` does; the standard match kind walks the
        // automaton byte by byte. Only whether a keyword occurs matters.
        let finder = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(&keywords)
            .ok();
        Self {
            keywords,
            require_colon,
            finder,
        }
    }

    /// Cheap prefilter: false when no keyword occurs anywhere in `text`.
    pub fn may_contain_keyword(&self, text: &str) -> bool {
        self.may_contain_keyword_bytes(text.as_bytes())
    }

    /// Where keywords occur in `text`: the non-overlapping matches, in
    /// order (an occurrence overlapping a match, as in `XXXX`, starts
    /// inside it). `None` when the prefilter could not be built, so nothing
    /// is known.
    pub(crate) fn keyword_matches(&self, text: &str) -> Option<Vec<std::ops::Range<usize>>> {
        let finder = self.finder.as_ref()?;
        Some(finder.find_iter(text).map(|m| m.range()).collect())
    }

    /// [`ScanOptions::may_contain_keyword`] on bytes not yet decoded
    /// (UTF-8 or any ASCII-compatible encoding).
    pub fn may_contain_keyword_bytes(&self, bytes: &[u8]) -> bool {
        self.finder.as_ref().is_none_or(|f| f.is_match(bytes))
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self::new(
            DEFAULT_KEYWORDS.iter().map(|k| k.to_string()).collect(),
            false,
        )
    }
}
