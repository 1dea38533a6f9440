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
    if !options.may_contain_keyword(text) {
        return Vec::new();
    }
    let comments = lexer::comments(text, language);
    let mut found = grammar::annotations(path, &comments, options);
    id::assign_ids(path, &mut found);
    found
}
