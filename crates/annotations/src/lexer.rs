//! Finds the comments in one file's text, skipping strings and docstrings.

use crate::{Comment, Language};

/// Every comment in `text`, in order.
pub fn comments<'a>(_text: &'a str, _language: Language) -> Vec<Comment<'a>> {
    Vec::new()
}
