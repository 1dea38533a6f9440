//! Scanning code for debt annotations: which files, within which limits,
//! decoded how. The parsing itself is the pure `paydown_annotations`; this
//! crate feeds it from a directory tree ([`scan_paths`]) or a tarball
//! ([`scan_tarball`]), applying the same rules either way, and counts every
//! file it leaves out by reason. One odd file never fails a scan.

mod attributes;
mod file;
mod ignores;
mod rules;
mod tarball;
mod walk;

pub use attributes::{Attributes, Marks};
pub use file::{scan_bytes, scan_marked};
pub use rules::{GlobError, PathRules, ScanSettings, SkipReason};
pub use tarball::{TarballError, TarballLimits, scan_tarball, scan_tarball_with_attributes};
pub use walk::{Progress, scan_paths};

use std::collections::BTreeMap;

use paydown_annotations::Annotation;
use serde::Serialize;

/// The outcome of a scan: the annotations, sorted by path and line, and
/// what was left out.
#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    /// Every annotation found, sorted by path and line.
    pub annotations: Vec<Annotation>,
    /// Files scanned rather than skipped.
    pub files_scanned: u64,
    /// How many files were left out, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Files that could not be read, with the reason, for `--verbose`-style
    /// reporting; the scan itself carried on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<(String, String)>,
}

impl ScanReport {
    fn skip(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    fn merge(&mut self, other: ScanReport) {
        self.annotations.extend(other.annotations);
        self.files_scanned += other.files_scanned;
        for (reason, n) in other.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
        self.unreadable.extend(other.unreadable);
    }

    /// Sorts annotations by path, line and column, so output is stable
    /// whatever order threads finished in.
    fn sort(&mut self) {
        self.annotations.sort_by(|a, b| {
            a.path
                .cmp(&b.path)
                .then(a.line.cmp(&b.line))
                .then(a.column.cmp(&b.column))
        });
        self.unreadable.sort();
    }

    /// Records one file's outcome.
    fn record(&mut self, outcome: Result<Vec<Annotation>, SkipReason>) {
        match outcome {
            Ok(found) => {
                self.files_scanned += 1;
                self.annotations.extend(found);
            }
            Err(reason) => self.skip(reason),
        }
    }
}
