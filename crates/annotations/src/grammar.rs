//! What counts as an annotation inside a comment, and its metadata.

use crate::{Annotation, Comment, ScanOptions};

/// The annotations in `comments` (ids not yet assigned).
pub fn annotations(_path: &str, _comments: &[Comment<'_>], _options: &ScanOptions) -> Vec<Annotation> {
    Vec::new()
}
