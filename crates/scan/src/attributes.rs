//! GitHub Linguist's `.gitattributes` marks, read the same way for a work
//! tree and for a tarball: `linguist-vendored`, `linguist-generated`,
//! `linguist-documentation` (each set, unset with `-`, `=true`/`=false`, or
//! reset with `!`) and `linguist-language=NAME`.
//!
//! As in git, a pattern without a `/` matches a file name at any depth
//! below its `.gitattributes`, one with a `/` is relative to that
//! directory, `*` does not cross `/`, later lines win over earlier ones and
//! deeper files over shallower ones. Macros (`[attr]`) and negative
//! patterns, which git forbids here, are ignored.

use globset::{Candidate, Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use paydown_annotations::Language;

/// What `.gitattributes` says about one path; `None`: nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// `linguist-vendored` set (`Some(true)`) or unset (`Some(false)`).
    pub vendored: Option<bool>,
    /// `linguist-generated` set or unset.
    pub generated: Option<bool>,
    /// `linguist-documentation` set or unset.
    pub documentation: Option<bool>,
    /// `linguist-language`, when it names a language paydown can read.
    pub language: Option<Language>,
}

#[derive(Debug, Clone, Copy)]
enum Value {
    Flag(Option<bool>),
    Language(Option<Language>),
}

/// One line's attributes: (attribute index, value): 0 vendored,
/// 1 generated, 2 documentation, 3 language.
type Sets = Vec<(usize, Value)>;

/// One `.gitattributes`.
struct File {
    /// Its directory with a trailing `/`, or empty for the root.
    dir: String,
    /// Its lines' patterns, matched together: a set sorts patterns by kind
    /// (extension, name, literal) so a path is not run through each.
    patterns: Patterns,
    sets: Vec<Sets>,
}

enum Patterns {
    Set(GlobSet),
    /// Should a set fail to build (too large a program), each line alone.
    Lines(Vec<GlobMatcher>),
}

/// Every `.gitattributes` of a tree, shallowest first.
#[derive(Default)]
pub struct Attributes {
    files: Vec<File>,
}

impl Attributes {
    /// Adds the `.gitattributes` found at `path` (repository-relative).
    /// Bad lines are skipped: one typo must not stop a scan.
    pub fn add(&mut self, path: &str, text: &str) {
        let dir = path.strip_suffix(".gitattributes").unwrap_or("");
        let (globs, sets): (Vec<Glob>, Vec<Sets>) =
            text.lines().filter_map(|l| parse_line(dir, l)).unzip();
        let mut builder = GlobSetBuilder::new();
        for glob in &globs {
            builder.add(glob.clone());
        }
        let patterns = match builder.build() {
            Ok(set) => Patterns::Set(set),
            Err(_) => Patterns::Lines(globs.iter().map(Glob::compile_matcher).collect()),
        };
        self.files.push(File {
            dir: dir.to_string(),
            patterns,
            sets,
        });
        self.files.sort_by_key(|f| f.dir.matches('/').count());
    }

    /// The `.gitattributes` files that can mark `paths`: the root's and
    /// the one in every directory above each path, sorted, once each. A
    /// caller holding only some files of a commit reads these.
    pub fn files_above<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut files = std::collections::BTreeSet::new();
        for path in paths {
            files.insert(".gitattributes".to_string());
            for (i, _) in path.match_indices('/') {
                files.insert(format!("{}/.gitattributes", &path[..i]));
            }
        }
        files.into_iter().collect()
    }

    /// What the `.gitattributes` files added so far say about `rel`.
    pub fn marks(&self, rel: &str) -> Marks {
        let mut marks = Marks::default();
        let path = Candidate::new(rel);
        let mut matching = Vec::new();
        for file in &self.files {
            if !rel.starts_with(file.dir.as_str()) {
                continue;
            }
            match &file.patterns {
                // (Line numbers, ascending: later lines win.)
                Patterns::Set(set) => set.matches_candidate_into(&path, &mut matching),
                Patterns::Lines(lines) => {
                    matching.clear();
                    matching
                        .extend((0..lines.len()).filter(|&i| lines[i].is_match_candidate(&path)));
                }
            }
            for &i in &matching {
                for &(attr, value) in &file.sets[i] {
                    match (attr, value) {
                        (0, Value::Flag(v)) => marks.vendored = v,
                        (1, Value::Flag(v)) => marks.generated = v,
                        (2, Value::Flag(v)) => marks.documentation = v,
                        (3, Value::Language(v)) => marks.language = v,
                        _ => {}
                    }
                }
            }
        }
        marks
    }
}

const NAMES: [&str; 4] = [
    "linguist-vendored",
    "linguist-generated",
    "linguist-documentation",
    "linguist-language",
];

fn parse_line(dir: &str, line: &str) -> Option<(Glob, Sets)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with("[attr]") {
        return None;
    }
    let mut words = line.split_whitespace();
    let pattern = words.next()?;
    if pattern.starts_with('!') || pattern.ends_with('/') {
        // Negative patterns are an error in git; a directory pattern
        // matches no file.
        return None;
    }
    let sets: Sets = words.filter_map(parse_attribute).collect();
    if sets.is_empty() {
        return None;
    }
    let anchored = pattern.trim_start_matches('/');
    let glob = if pattern.contains('/') {
        format!("{dir}{anchored}")
    } else {
        format!("{dir}**/{pattern}")
    };
    let glob = GlobBuilder::new(&glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()?;
    Some((glob, sets))
}

fn parse_attribute(word: &str) -> Option<(usize, Value)> {
    let (name, state) = if let Some(n) = word.strip_prefix('-') {
        (n, Some(Some(false)))
    } else if let Some(n) = word.strip_prefix('!') {
        (n, Some(None))
    } else {
        (word, None)
    };
    let (name, value) = match name.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (name, None),
    };
    let index = NAMES.iter().position(|n| *n == name)?;
    if index == 3 {
        let lang = match (state, value) {
            (None, Some(v)) => paydown_annotations::language_by_alias(v),
            _ => None,
        };
        return Some((3, Value::Language(lang)));
    }
    let flag = match (state, value) {
        (Some(s), _) => s,
        (None, None) => Some(true),
        (None, Some(v)) => Some(!matches!(v, "false" | "0" | "no" | "off")),
    };
    Some((index, Value::Flag(flag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(files: &[(&str, &str)]) -> Attributes {
        let mut a = Attributes::default();
        for (path, text) in files {
            a.add(path, text);
        }
        a
    }

    #[test]
    fn given_linguist_marks_then_set_unset_and_values_are_read() {
        let a = attrs(&[(
            ".gitattributes",
            "# comment\n\
             third_party/** linguist-vendored\n\
             third_party/ours/** -linguist-vendored\n\
             *.gen.go linguist-generated=true\n\
             docs/*.md linguist-documentation\n\
             *.inc linguist-language=PHP\n\
             [attr]binary -diff\n\
             !neg linguist-vendored\n",
        )]);
        assert_eq!(a.marks("third_party/x/a.c").vendored, Some(true));
        assert_eq!(a.marks("third_party/ours/a.c").vendored, Some(false));
        assert_eq!(a.marks("src/a.c").vendored, None);
        assert_eq!(a.marks("deep/er/x.gen.go").generated, Some(true));
        assert_eq!(a.marks("docs/a.md").documentation, Some(true));
        // `*` does not cross `/` in a pattern with a slash.
        assert_eq!(a.marks("docs/sub/a.md").documentation, None);
        assert_eq!(a.marks("lib/a.inc").language.map(|l| l.name), Some("PHP"));
    }

    #[test]
    fn given_nested_files_then_the_deeper_one_wins_and_applies_only_below_it() {
        let a = attrs(&[
            ("sub/.gitattributes", "*.js -linguist-generated\n"),
            (".gitattributes", "*.js linguist-generated\n"),
        ]);
        assert_eq!(a.marks("a.js").generated, Some(true));
        assert_eq!(a.marks("sub/a.js").generated, Some(false));
        assert_eq!(a.marks("sub/x/a.js").generated, Some(false));
        assert_eq!(a.marks("other/sub/a.js").generated, Some(true));
    }

    #[test]
    fn the_files_above_paths_are_the_root_and_each_ancestor_directory() {
        assert_eq!(
            Attributes::files_above(["a/b/c.rs", "a/d.rs", "e.rs"]),
            [".gitattributes", "a/.gitattributes", "a/b/.gitattributes"]
        );
        assert!(Attributes::files_above([]).is_empty());
    }

    #[test]
    fn given_a_reset_or_an_unknown_language_then_nothing_is_claimed() {
        let a = attrs(&[(
            ".gitattributes",
            "*.x linguist-vendored\n*.x !linguist-vendored\n*.y linguist-language=Klingon\n",
        )]);
        assert_eq!(a.marks("a.x").vendored, None);
        assert_eq!(a.marks("a.y").language, None);
    }
}
