//! Which files a scan looks at and the limits it applies: the settings
//! from the config's `paths` and `annotations` sections, and path-based
//! skip decisions shared by tree walks and tarballs.

use globset::{Candidate, Glob, GlobSet, GlobSetBuilder};
use paydown_annotations::ScanOptions;
use paydown_config::Config;
use serde::Serialize;

use crate::attributes::Marks;

/// Why a file was not scanned. Reported as counts, so users see what a scan
/// left out instead of wondering why an annotation is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No comment syntax known for the file's name, extension, shebang or
    /// modeline, or a type without comments (JSON, CSV, images), which is
    /// skipped unread.
    UnknownType,
    /// Looks like binary data (a NUL byte near the start).
    Binary,
    /// Larger than `paths.max_file_bytes`.
    TooLarge,
    /// Marked as generated (`@generated`, `DO NOT EDIT`) or a known
    /// generated file name (minified JS, lock files, protobuf output).
    Generated,
    /// Under a vendored directory (`vendor/`, `node_modules/`, …), or
    /// marked `linguist-vendored` in `.gitattributes`.
    Vendored,
    /// Marked `linguist-documentation` in `.gitattributes`.
    Documentation,
    /// Excluded by `paths.include` / `paths.exclude`.
    Excluded,
    /// Could not be read (permissions, vanished during the scan, …).
    Unreadable,
    /// A tarball entry that is not a plain file under the archive's top
    /// directory (links, devices, `..`, absolute paths).
    UnsafeEntry,
}

/// What to scan and which rules to apply; built from the config's `paths`
/// and `annotations` sections.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Keywords and grammar options for the annotation parser.
    pub annotations: ScanOptions,
    /// When non-empty, only files matching one of these globs are scanned.
    pub include: Vec<String>,
    /// Files matching one of these globs are never scanned.
    pub exclude: Vec<String>,
    /// Globs for vendored paths, skipped when `skip_vendored` is on.
    pub vendored: Vec<String>,
    /// Skip vendored files (by the globs above or `linguist-vendored`).
    pub skip_vendored: bool,
    /// Skip generated files (well-known names such as lock files, and
    /// `linguist-generated`).
    pub skip_generated: bool,
    /// Larger files are skipped unread (`SkipReason::TooLarge`).
    pub max_file_bytes: u64,
    /// Lines longer than this are blanked before parsing (minified code,
    /// embedded data); line numbers stay right.
    pub max_line_length: usize,
    /// Worker threads; 0 lets the walker choose.
    pub threads: usize,
}

impl ScanSettings {
    /// Settings from the config file's `annotations` and `paths` sections.
    pub fn from_config(config: &Config) -> Self {
        let paths = &config.paths;
        Self {
            annotations: ScanOptions::new(
                config.annotations.keywords.clone(),
                config.annotations.require_colon,
            ),
            include: paths.include.clone(),
            exclude: paths.exclude.clone(),
            vendored: paths.vendored.clone(),
            skip_vendored: paths.skip_vendored,
            skip_generated: paths.skip_generated,
            max_file_bytes: paths.max_file_bytes,
            max_line_length: paths.max_line_length as usize,
            threads: 0,
        }
    }
}

impl Default for ScanSettings {
    fn default() -> Self {
        Self::from_config(&Config::default())
    }
}

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

/// Invalid include/exclude/vendored globs in the options.
#[derive(Debug, thiserror::Error)]
#[error("invalid glob `{glob}`: {reason}")]
pub struct GlobError {
    /// The glob as written in the config.
    pub glob: String,
    /// Why globset refused it.
    pub reason: String,
}

/// The path-based half of the scan rules (`paths.include`, `exclude`,
/// `vendored`, generated file names), decided before a file is read. The
/// PR review uses it too, so a file the scanner skips costs no request.
pub struct PathRules {
    /// `None` when every path is included (no globs, or `**`).
    include: Option<GlobSet>,
    /// The exclude globs, then the vendored ones (when skipped), then the
    /// generated names (when skipped), in one set: every path of a scan is
    /// matched against them, and one set runs each kind of matcher
    /// (extensions, names, regexes) once for all.
    others: GlobSet,
    /// Where the vendored globs start in `others`, and the generated ones.
    vendored_from: usize,
    generated_from: usize,
    skip_vendored: bool,
    skip_generated: bool,
}

/// Adds globs as the config means them: a bare directory name such as
/// `vendor` or `docs/` means everything under it, as in .gitignore.
/// Returns how many globs were added.
fn add_globs(builder: &mut GlobSetBuilder, globs: &[String]) -> Result<usize, GlobError> {
    let mut added = 0;
    for glob in globs {
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
            added += 1;
        }
    }
    Ok(added)
}

fn build(builder: GlobSetBuilder, globs: &[&[String]]) -> Result<GlobSet, GlobError> {
    builder.build().map_err(|e| GlobError {
        glob: globs.concat().join(", "),
        reason: e.to_string(),
    })
}

#[cfg(test)]
fn glob_set(globs: &[String]) -> Result<GlobSet, GlobError> {
    let mut builder = GlobSetBuilder::new();
    add_globs(&mut builder, globs)?;
    build(builder, &[globs])
}

impl PathRules {
    /// Compiles the settings' globs once, for every path of a scan.
    pub fn new(options: &ScanSettings) -> Result<Self, GlobError> {
        let generated: Vec<String> = GENERATED_NAMES.iter().map(|s| s.to_string()).collect();
        // `**` (the default) includes everything: no need to match it.
        let include = if options.include.is_empty() || options.include.iter().any(|g| g == "**") {
            None
        } else {
            let mut builder = GlobSetBuilder::new();
            add_globs(&mut builder, &options.include)?;
            Some(build(builder, &[&options.include])?)
        };
        let mut builder = GlobSetBuilder::new();
        let vendored_from = add_globs(&mut builder, &options.exclude)?;
        let mut generated_from = vendored_from;
        let mut all: Vec<&[String]> = vec![&options.exclude];
        if options.skip_vendored {
            generated_from += add_globs(&mut builder, &options.vendored)?;
            all.push(&options.vendored);
        }
        if options.skip_generated {
            add_globs(&mut builder, &generated)?;
            all.push(&generated);
        }
        Ok(Self {
            include,
            others: build(builder, &all)?,
            vendored_from,
            generated_from,
            skip_vendored: options.skip_vendored,
            skip_generated: options.skip_generated,
        })
    }

    /// Path-based decision, before the file is opened.
    pub fn skip_by_path(&self, rel: &str) -> Option<SkipReason> {
        self.skip_marked(rel, &Marks::default())
    }

    /// [`Self::skip_by_path`] where `.gitattributes` may have spoken: its
    /// `linguist-vendored` and `linguist-generated` (set or unset) replace
    /// the configured globs, as on GitHub; `linguist-documentation` files
    /// are skipped as documentation. The config's include/exclude and the
    /// `skip_*` switches still decide first.
    pub fn skip_marked(&self, rel: &str, marks: &Marks) -> Option<SkipReason> {
        // One candidate (the path split into name and extension) for both
        // sets.
        let path = Candidate::new(rel);
        if self
            .include
            .as_ref()
            .is_some_and(|inc| !inc.is_match_candidate(&path))
        {
            return Some(SkipReason::Excluded);
        }
        // (Most paths match nothing, and then nothing is allocated.)
        let mut matching = Vec::new();
        self.others.matches_candidate_into(&path, &mut matching);
        let any = |from: usize, to: usize| matching.iter().any(|&i| from <= i && i < to);
        if any(0, self.vendored_from) {
            return Some(SkipReason::Excluded);
        }
        if self.skip_vendored
            && marks
                .vendored
                .unwrap_or_else(|| any(self.vendored_from, self.generated_from))
        {
            return Some(SkipReason::Vendored);
        }
        if marks.documentation == Some(true) {
            return Some(SkipReason::Documentation);
        }
        if self.skip_generated
            && marks
                .generated
                .unwrap_or_else(|| any(self.generated_from, usize::MAX))
        {
            return Some(SkipReason::Generated);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bare_directory_globs_cover_everything_under_them() {
        let set = glob_set(&["docs".to_string(), "gen/".to_string()]).unwrap();
        assert!(set.is_match("docs/a/b.md"));
        assert!(set.is_match("gen/x.rs"));
        assert!(!set.is_match("src/docs.rs"));
    }
    #[test]
    fn include_exclude_vendored_and_generated_paths_are_told_apart() {
        let options = ScanSettings {
            include: vec!["src/**".into()],
            exclude: vec!["src/skip/**".into()],
            ..ScanSettings::default()
        };
        let rules = PathRules::new(&options).unwrap();
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
            rules.skip_by_path("src/api.pb.go"),
            Some(SkipReason::Generated)
        );
        assert_eq!(rules.skip_by_path("src/main.rs"), None);
    }

    #[test]
    fn each_kind_of_glob_keeps_its_reason_whichever_kinds_are_switched_off() {
        // Given the default include (`**`), an exclude glob, and vendored
        // skipping off while generated names are still skipped,
        let options = ScanSettings {
            exclude: vec!["gen/".into()],
            skip_vendored: false,
            ..ScanSettings::default()
        };
        let rules = PathRules::new(&options).unwrap();
        // then an excluded path is excluded even where a generated name
        // also matches, a vendored path is scanned, a generated name is
        // skipped as generated,
        assert_eq!(
            rules.skip_by_path("gen/a.pb.go"),
            Some(SkipReason::Excluded)
        );
        assert_eq!(rules.skip_by_path("vendor/x/a.go"), None);
        assert_eq!(
            rules.skip_by_path("vendor/x/a.pb.go"),
            Some(SkipReason::Generated)
        );
        // and `.gitattributes` marks still decide for generated files.
        let unmarked = Marks {
            generated: Some(false),
            ..Marks::default()
        };
        assert_eq!(rules.skip_marked("vendor/x/a.pb.go", &unmarked), None);
        assert_eq!(rules.skip_by_path("deep/any/path.rs"), None);
    }
}
