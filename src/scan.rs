//! Walking a directory tree and scanning every file in it for annotations.
//!
//! This module owns the I/O half of a scan: which files are looked at (the
//! `ignore` crate's parallel walker, so `.gitignore`/`.ignore` behave as in
//! ripgrep), the limits and skip rules (size, binary, generated, vendored,
//! include/exclude globs), and decoding bytes to text. The parsing itself is
//! the pure `paydown_annotations::scan_text`. One odd file never fails a
//! scan: it is counted as skipped, with its reason.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};
use paydown_annotations::{Annotation, ScanOptions, scan_text};
use serde::Serialize;

/// Why a file was not scanned. Reported as counts, so users see what a scan
/// left out instead of wondering why an annotation is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No comment syntax known for the file's name, extension or shebang.
    UnknownType,
    /// Looks like binary data (a NUL byte near the start).
    Binary,
    /// Larger than `paths.max_file_bytes`.
    TooLarge,
    /// Marked as generated (`@generated`, `DO NOT EDIT`) or a known
    /// generated file name (minified JS, lock files, protobuf output).
    Generated,
    /// Under a vendored directory (`vendor/`, `node_modules/`, …).
    Vendored,
    /// Excluded by `paths.include` / `paths.exclude`.
    Excluded,
    /// Could not be read (permissions, vanished during the scan, …).
    Unreadable,
}

/// What to scan and which rules to apply; built from the config's `paths`
/// and `annotations` sections.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub annotations: ScanOptions,
    /// When non-empty, only files matching one of these globs are scanned.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Globs for vendored paths, skipped when `skip_vendored` is on.
    pub vendored: Vec<String>,
    pub skip_vendored: bool,
    pub skip_generated: bool,
    pub max_file_bytes: u64,
    /// Lines longer than this are blanked before parsing (minified code,
    /// embedded data); line numbers stay right.
    pub max_line_length: usize,
    /// Worker threads; 0 lets the walker choose.
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        Self {
            annotations: ScanOptions::default(),
            include: Vec::new(),
            exclude: Vec::new(),
            vendored: DEFAULT_VENDORED.iter().map(|s| s.to_string()).collect(),
            skip_vendored: true,
            skip_generated: true,
            max_file_bytes: 1024 * 1024,
            max_line_length: 2000,
            threads: 0,
        }
    }
}

/// Directories that hold other people's code.
pub const DEFAULT_VENDORED: [&str; 6] = [
    "**/vendor/**",
    "**/node_modules/**",
    "**/third_party/**",
    "**/bower_components/**",
    "**/.yarn/**",
    "**/Pods/**",
];

/// File names that are generated even without a marker inside.
const GENERATED_NAMES: [&str; 12] = [
    "**/*.min.js",
    "**/*.min.css",
    "**/*.map",
    "**/*.pb.go",
    "**/*_pb2.py",
    "**/*_pb2_grpc.py",
    "**/*.g.dart",
    "**/package-lock.json",
    "**/yarn.lock",
    "**/Cargo.lock",
    "**/pnpm-lock.yaml",
    "**/poetry.lock",
];

/// The outcome of a scan: the annotations, sorted by path and line, and
/// what was left out.
#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    pub annotations: Vec<Annotation>,
    pub files_scanned: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Files that could not be read, with the reason, for `--verbose`-style
    /// reporting; the scan itself carried on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<(String, String)>,
}

/// Invalid include/exclude/vendored globs in the options.
#[derive(Debug, thiserror::Error)]
#[error("invalid glob `{glob}`: {reason}")]
pub struct GlobError {
    pub glob: String,
    pub reason: String,
}

/// Called after each file, so a terminal can show progress.
pub trait Progress: Sync {
    fn file_done(&self);
}

impl Progress for () {
    fn file_done(&self) {}
}

struct Rules {
    include: Option<GlobSet>,
    exclude: GlobSet,
    vendored: Option<GlobSet>,
    generated: Option<GlobSet>,
}

fn glob_set(globs: &[String]) -> Result<GlobSet, GlobError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        // A bare directory name such as `vendor` or `docs/` means everything
        // under it, as in .gitignore.
        let pattern = glob.trim_end_matches('/');
        let expanded = if pattern.contains('*') || pattern.contains('?') || pattern.contains('[') {
            vec![pattern.to_string()]
        } else {
            vec![pattern.to_string(), format!("{pattern}/**")]
        };
        for p in expanded {
            let parsed = Glob::new(&p).map_err(|e| GlobError {
                glob: glob.clone(),
                reason: e.kind().to_string(),
            })?;
            builder.add(parsed);
        }
    }
    builder.build().map_err(|e| GlobError {
        glob: globs.join(", "),
        reason: e.to_string(),
    })
}

impl Rules {
    fn new(options: &WalkOptions) -> Result<Self, GlobError> {
        let generated: Vec<String> = GENERATED_NAMES.iter().map(|s| s.to_string()).collect();
        Ok(Self {
            include: if options.include.is_empty() {
                None
            } else {
                Some(glob_set(&options.include)?)
            },
            exclude: glob_set(&options.exclude)?,
            vendored: if options.skip_vendored {
                Some(glob_set(&options.vendored)?)
            } else {
                None
            },
            generated: if options.skip_generated {
                Some(glob_set(&generated)?)
            } else {
                None
            },
        })
    }

    /// Path-based decision, before the file is opened.
    fn skip_by_path(&self, rel: &str) -> Option<SkipReason> {
        if self.include.as_ref().is_some_and(|inc| !inc.is_match(rel)) || self.exclude.is_match(rel)
        {
            return Some(SkipReason::Excluded);
        }
        if self.vendored.as_ref().is_some_and(|v| v.is_match(rel)) {
            return Some(SkipReason::Vendored);
        }
        if self.generated.as_ref().is_some_and(|g| g.is_match(rel)) {
            return Some(SkipReason::Generated);
        }
        None
    }
}

/// Per-thread results, merged once at the end so threads never contend on
/// a lock per file.
#[derive(Default)]
struct Partial {
    annotations: Vec<Annotation>,
    files_scanned: u64,
    skipped: BTreeMap<SkipReason, u64>,
    unreadable: Vec<(String, String)>,
}

impl Partial {
    fn skip(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    fn merge_into(self, report: &mut ScanReport) {
        report.annotations.extend(self.annotations);
        report.files_scanned += self.files_scanned;
        for (reason, n) in self.skipped {
            *report.skipped.entry(reason).or_default() += n;
        }
        report.unreadable.extend(self.unreadable);
    }
}

/// Scans `roots` (files or directories). Reported paths are relative to
/// `base` when under it, `/`-separated.
pub fn scan_paths(
    roots: &[PathBuf],
    base: &Path,
    options: &WalkOptions,
    progress: &dyn Progress,
) -> Result<ScanReport, GlobError> {
    let rules = Rules::new(options)?;
    let Some((first, rest)) = roots.split_first() else {
        return Ok(ScanReport::default());
    };
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    builder
        .hidden(false)
        .git_global(false)
        // .gitignore applies even outside a git checkout (a tarball, a
        // fresh export), as users expect from ripgrep-like tools.
        .require_git(false)
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git");

    let report = Mutex::new(ScanReport::default());
    let walked = AtomicU64::new(0);
    builder.build_parallel().run(|| {
        let rules = &rules;
        let report = &report;
        let walked = &walked;
        let mut guard = FlushOnDrop {
            partial: Partial::default(),
            report,
        };
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                guard.partial.skip(SkipReason::Unreadable);
                return WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let rel = relative_path(entry.path(), base);
            scan_one(entry.path(), &rel, options, rules, &mut guard.partial);
            walked.fetch_add(1, Ordering::Relaxed);
            progress.file_done();
            WalkState::Continue
        })
    });
    let mut report = report.into_inner().unwrap_or_else(|p| p.into_inner());
    report.annotations.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(a.line.cmp(&b.line))
            .then(a.column.cmp(&b.column))
    });
    report.unreadable.sort();
    Ok(report)
}

struct FlushOnDrop<'a> {
    partial: Partial,
    report: &'a Mutex<ScanReport>,
}

impl Drop for FlushOnDrop<'_> {
    fn drop(&mut self) {
        let partial = std::mem::take(&mut self.partial);
        let mut report = self.report.lock().unwrap_or_else(|p| p.into_inner());
        partial.merge_into(&mut report);
    }
}

fn relative_path(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let rel = rel.strip_prefix(".").unwrap_or(rel);
    let s = rel.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn scan_one(path: &Path, rel: &str, options: &WalkOptions, rules: &Rules, out: &mut Partial) {
    if let Some(reason) = rules.skip_by_path(rel) {
        out.skip(reason);
        return;
    }
    let bytes = match read_limited(path, options.max_file_bytes) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            out.skip(SkipReason::TooLarge);
            return;
        }
        Err(e) => {
            out.skip(SkipReason::Unreadable);
            out.unreadable.push((rel.to_string(), e.to_string()));
            return;
        }
    };
    match scan_bytes(rel, &bytes, options) {
        Ok(found) => {
            out.files_scanned += 1;
            out.annotations.extend(found);
        }
        Err(reason) => out.skip(reason),
    }
}

/// Reads at most `limit` bytes; `None` when the file is larger.
fn read_limited(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > limit {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(len as usize + 1);
    // `take` guards against a file that grew after its size was read.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// Scans one file's bytes: decoding, binary and generated detection, the
/// line-length limit, then the pure parser. Shared by the tree walker and
/// by callers that hold file contents in memory (tarballs, PR files).
pub fn scan_bytes(
    rel: &str,
    bytes: &[u8],
    options: &WalkOptions,
) -> Result<Vec<Annotation>, SkipReason> {
    let text = decode(bytes).ok_or(SkipReason::Binary)?;
    if options.skip_generated && looks_generated(&text) {
        return Err(SkipReason::Generated);
    }
    // The prefilter runs before any copy: most files end here.
    if !options.annotations.may_contain_keyword(&text) {
        return match paydown_annotations::language_for_path(rel, &text) {
            Some(_) => Ok(Vec::new()),
            None => Err(SkipReason::UnknownType),
        };
    }
    let text = blank_long_lines(&text, options.max_line_length);
    scan_text(rel, &text, &options.annotations).ok_or(SkipReason::UnknownType)
}

/// Bytes to text: UTF-8 (BOM stripped), UTF-16 with a BOM, anything else
/// decoded lossily so one stray byte doesn't hide a file's annotations.
/// `None` for binary data.
fn decode(bytes: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Some(String::from_utf8_lossy(rest));
    }
    let utf16 = |rest: &[u8], le: bool| {
        let units = rest.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        Cow::Owned(
            char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect(),
        )
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Some(utf16(rest, true));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Some(utf16(rest, false));
    }
    let head = &bytes[..bytes.len().min(8192)];
    if memchr::memchr(0, head).is_some() {
        return None;
    }
    Some(String::from_utf8_lossy(bytes))
}

/// The markers code generators put near the top of their output.
fn looks_generated(text: &str) -> bool {
    let head_end = text
        .char_indices()
        .filter(|&(_, c)| c == '\n')
        .nth(4)
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..head_end];
    head.contains("@generated")
        || head.contains("DO NOT EDIT")
        || head.contains("do not edit")
        || head.contains("Code generated by")
}

fn blank_long_lines(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.lines().all(|l| l.len() <= max) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.len() > max {
            out.push_str(&line[content.len()..]);
        } else {
            out.push_str(line);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_and_utf16_files_are_decoded() {
        assert_eq!(decode(b"\xEF\xBB\xBF// x").as_deref(), Some("// x"));
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("# TODO: a".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&le).as_deref(), Some("# TODO: a"));
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("# TODO: a".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode(&be).as_deref(), Some("# TODO: a"));
    }

    #[test]
    fn a_nul_byte_near_the_start_means_binary() {
        assert!(decode(b"\x7fELF\x00\x01TODO").is_none());
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily_not_skipped() {
        assert_eq!(decode(b"# caf\xE9").as_deref(), Some("# caf\u{FFFD}"));
    }

    #[test]
    fn generated_markers_in_the_head_are_recognised() {
        assert!(looks_generated(
            "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n"
        ));
        assert!(looks_generated("# @generated by tool\n"));
        assert!(!looks_generated(
            "a\nb\nc\nd\ne\nf\n// DO NOT EDIT far below\n"
        ));
    }

    #[test]
    fn long_lines_are_blanked_keeping_line_numbers() {
        let text = format!("a\n{}\r\nb\n", "x".repeat(50));
        assert_eq!(blank_long_lines(&text, 10), "a\n\r\nb\n");
        assert!(matches!(
            blank_long_lines("short\n", 10),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn bare_directory_globs_cover_everything_under_them() {
        let set = glob_set(&["docs".to_string(), "gen/".to_string()]).unwrap();
        assert!(set.is_match("docs/a/b.md"));
        assert!(set.is_match("gen/x.rs"));
        assert!(!set.is_match("src/docs.rs"));
    }

    #[test]
    fn include_exclude_vendored_and_generated_paths_are_told_apart() {
        let options = WalkOptions {
            include: vec!["src/**".into()],
            exclude: vec!["src/skip/**".into()],
            ..WalkOptions::default()
        };
        let rules = Rules::new(&options).unwrap();
        assert_eq!(rules.skip_by_path("docs/a.md"), Some(SkipReason::Excluded));
        assert_eq!(
            rules.skip_by_path("src/skip/a.rs"),
            Some(SkipReason::Excluded)
        );
        assert_eq!(
            rules.skip_by_path("src/vendor/x/a.go"),
            Some(SkipReason::Vendored)
        );
        assert_eq!(
            rules.skip_by_path("src/app.min.js"),
            Some(SkipReason::Generated)
        );
        assert_eq!(rules.skip_by_path("src/main.rs"), None);
    }
}
