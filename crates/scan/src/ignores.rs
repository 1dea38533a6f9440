//! `.ignore` files (ripgrep's and the `ignore` crate's: gitignore syntax,
//! meant for search tools rather than git) where no walker applies them:
//! git's file list in a work tree, and a tarball. A tracked file a `.ignore`
//! matches is left out everywhere, as `rg` leaves it out; `.gitignore`
//! does not apply to tracked files, which git and the tarball settle.
//!
//! As in ripgrep, a pattern is relative to the directory of its `.ignore`,
//! a deeper file wins over a shallower one, `!pattern` re-includes, and a
//! directory pattern (`build/`) leaves out everything below it.

use std::path::Path;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Every `.ignore` of a tree, deepest first.
#[derive(Default)]
pub(crate) struct IgnoreFiles {
    /// (directory with a trailing `/`, or empty for the root; its rules).
    files: Vec<(String, Gitignore)>,
}

/// Whether `rel` (`/`-separated, relative to the repository) names a
/// `.ignore` file.
pub(crate) fn is_ignore_file(rel: &str) -> bool {
    rel.rsplit('/').next() == Some(".ignore")
}

impl IgnoreFiles {
    /// Adds the `.ignore` at `path` (repository-relative). Bad lines are
    /// skipped: one typo must not stop a scan.
    pub(crate) fn add(&mut self, path: &str, text: &str) {
        let dir = path.strip_suffix(".ignore").unwrap_or("");
        let mut builder = GitignoreBuilder::new(dir);
        for line in text.lines() {
            let _ = builder.add_line(None, line);
        }
        let Ok(rules) = builder.build() else {
            return;
        };
        if rules.is_empty() {
            return;
        }
        self.files.push((dir.to_string(), rules));
        self.files
            .sort_by_key(|(d, _)| std::cmp::Reverse(d.matches('/').count()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Whether a `.ignore` leaves the file at `rel` out.
    pub(crate) fn ignores(&self, rel: &str) -> bool {
        for (dir, rules) in &self.files {
            if !rel.starts_with(dir.as_str()) {
                continue;
            }
            match rules.matched_path_or_any_parents(Path::new(rel), false) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_apply_below_their_file_and_the_deeper_file_wins() {
        let mut ignores = IgnoreFiles::default();
        ignores.add(".ignore", "*.snap\nfixtures/\n");
        ignores.add("keep/.ignore", "!*.snap\n");
        assert!(ignores.ignores("a.snap"));
        assert!(ignores.ignores("deep/er/b.snap"));
        assert!(ignores.ignores("tests/fixtures/x/c.rs"));
        assert!(!ignores.ignores("keep/d.snap"));
        assert!(!ignores.ignores("src/e.rs"));
    }

    #[test]
    fn an_anchored_pattern_in_a_nested_file_is_relative_to_its_directory() {
        let mut ignores = IgnoreFiles::default();
        ignores.add("sub/.ignore", "/gen.rs\n");
        assert!(ignores.ignores("sub/gen.rs"));
        assert!(!ignores.ignores("gen.rs"));
        assert!(!ignores.ignores("sub/x/gen.rs"));
    }
}
