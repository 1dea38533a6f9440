//! Stable ids for debt items.

use crate::Annotation;

/// Fills `id` on every annotation of one file.
pub fn assign_ids(_path: &str, _found: &mut [Annotation]) {}
