//! Debt annotations in source code, as pure functions over text.
//!
//! This crate owns everything between "the bytes of one file" and "the debt
//! items in it": which comment syntax a file uses ([`languages`]), where its
//! comments are ([`lexer`]), what counts as an annotation and its metadata
//! ([`grammar`]), and the stable id of each item ([`id`]). It does no I/O, so
//! every rule is unit-tested on strings.

pub mod comment;
pub mod grammar;
pub mod id;
pub mod languages;
pub mod lexer;
mod model;

pub use comment::{Comment, CommentKind, CommentLine};
pub use languages::{
    Language, PathClass, classify_path, is_known_type, language_by_alias, language_for_path,
};
pub use model::{Annotation, Cost, CostUnit, DEFAULT_KEYWORDS, Metadata, ScanOptions};

/// Finds every annotation in one file's text.
///
/// `path` is the repository-relative path with `/` separators; it picks the
/// comment syntax (by name, extension, or the shebang of `text`) and is part
/// of each derived id. Returns `None` when the file type is unknown, so the
/// caller can count it as skipped.
pub fn scan_text(path: &str, text: &str, options: &ScanOptions) -> Option<Vec<Annotation>> {
    let language = language_for_path(path, text)?;
    Some(scan_text_as(language, path, text, options))
}

/// [`scan_text`] with the language given, as `.gitattributes`'
/// `linguist-language` does.
pub fn scan_text_as(
    language: Language,
    path: &str,
    text: &str,
    options: &ScanOptions,
) -> Vec<Annotation> {
    // Most files hold no keyword at all; a substring search is far cheaper
    // than lexing them, and it is what lets a full scan keep pace with grep.
    // Where one does, lexing stops after the comment holding the last
    // keyword, and only comments holding one go to the grammar: the others
    // cannot hold an annotation.
    let matches = options.keyword_matches(text);
    let stop = match matches.as_deref() {
        Some([]) => return Vec::new(),
        Some([.., last]) => last.end,
        None => text.len(),
    };
    let mut comments = lexer::comments_before(text, language, stop);
    if let Some(matches) = &matches {
        let reach = options.keywords.iter().map(String::len).max().unwrap_or(0);
        comments.retain(|c| holds_keyword(text, c, matches, reach));
    }
    let mut found = grammar::annotations(path, &comments, options);
    id::assign_ids(path, &mut found);
    found
}

/// Whether a keyword match of `text` may fall within `comment`'s text:
/// one starting in it, or (an occurrence the non-overlapping `matches`
/// skipped) up to `reach` bytes before it.
fn holds_keyword(
    text: &str,
    comment: &Comment<'_>,
    matches: &[std::ops::Range<usize>],
    reach: usize,
) -> bool {
    let offset = |s: &str| (s.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    let (Some(first), Some(last)) = (comment.lines.first(), comment.lines.last()) else {
        return false;
    };
    let start = offset(first.text);
    let end = offset(last.text).wrapping_add(last.text.len());
    if start > end || end > text.len() {
        // Not slices of `text` (never from the lexer): keep it.
        return true;
    }
    let from = start.saturating_sub(reach);
    let i = matches.partition_point(|m| m.start < from);
    matches.get(i).is_some_and(|m| m.start < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The annotations of `text` when every comment is lexed, as before
    /// lexing stopped at the last keyword.
    fn lexed_whole(language: Language, path: &str, text: &str) -> Vec<Annotation> {
        let options = ScanOptions::default();
        let comments = lexer::comments(text, language);
        let mut found = grammar::annotations(path, &comments, &options);
        id::assign_ids(path, &mut found);
        found
    }

    #[test]
    fn a_run_of_line_comments_is_read_whole_past_the_last_keyword() {
        // Given a keyword on the first of three comment lines, the last
        // two continuing it, then code and another comment,
        let text = "x = 1\n# TODO: first line\n#   carries on\n#   and on\ny = 2\n# later\n";
        let python = language_for_path("a.py", text).unwrap();
        // then the annotation's body holds both continuation lines.
        let found = scan_text_as(python, "a.py", text, &ScanOptions::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].end_line, 4);
        assert_eq!(found, lexed_whole(python, "a.py", text));
    }

    #[test]
    fn given_arbitrary_sources_then_stopping_after_the_last_keyword_changes_no_annotation() {
        // Deterministic pseudo-random sources over the constructs lexers
        // treat specially (comment markers, strings, heredocs, newlines and
        // indentation) and the keywords, in languages of every family.
        const ALPHABET: [&str; 40] = [
            "TODO: a",
            "FIXME b",
            "XXXX",
            "TODO",
            "\n",
            "\n",
            "\n",
            "  ",
            "x",
            "//",
            "/*",
            "*/",
            "#",
            "--",
            ";",
            "%",
            "\"",
            "'",
            "`",
            "${",
            "}",
            "\"\"\"",
            "<<EOF\n",
            "\nEOF\n",
            "=begin",
            "=end",
            "[[",
            "]]",
            "\\",
            ".. ",
            "<!--",
            "-->",
            "q{",
            "$$",
            "\n#   more",
            "\n//   more",
            "\n--   more",
            "\n%   more",
            "\n;   more",
            "\n    more",
        ];
        const PATHS: [&str; 14] = [
            "a.rs", "a.py", "a.c", "a.rb", "a.sh", "a.sql", "a.js", "a.md", "a.pl", "a.lua",
            "a.rst", "a.hs", "a.f", "a.php",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap() % bound
        };
        let options = ScanOptions::default();
        for round in 0..6_000 {
            let path = PATHS[round % PATHS.len()];
            let text: String = (0..next(60))
                .map(|_| ALPHABET[next(ALPHABET.len())])
                .collect();
            let language = language_for_path(path, &text).unwrap();
            // then reading up to the last keyword finds what reading
            // everything finds.
            assert_eq!(
                scan_text_as(language, path, &text, &options),
                lexed_whole(language, path, &text),
                "{path}: {text:?}"
            );
        }
    }
}
