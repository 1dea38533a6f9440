//! Walking directory trees in parallel with the `ignore` crate, so
//! `.gitignore` and `.ignore` behave as in ripgrep.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use crate::rules::PathRules;
use crate::{GlobError, ScanReport, ScanSettings, SkipReason, scan_bytes};

/// Called after each file, so a terminal can show progress.
pub trait Progress: Sync {
    fn file_done(&self);
}

impl Progress for () {
    fn file_done(&self) {}
}

/// Scans `roots` (files or directories). Reported paths are relative to
/// `base` when under it, `/`-separated.
pub fn scan_paths(
    roots: &[PathBuf],
    base: &Path,
    options: &ScanSettings,
    progress: &dyn Progress,
) -> Result<ScanReport, GlobError> {
    let rules = PathRules::new(options)?;
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
    builder.build_parallel().run(|| {
        let rules = &rules;
        let mut guard = FlushOnDrop {
            partial: ScanReport::default(),
            report: &report,
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
            progress.file_done();
            WalkState::Continue
        })
    });
    let mut report = report.into_inner().unwrap_or_else(|p| p.into_inner());
    report.sort();
    Ok(report)
}

/// Each walker thread fills its own report and merges it once, when the
/// walk drops its closure, so threads never contend on a lock per file.
struct FlushOnDrop<'a> {
    partial: ScanReport,
    report: &'a Mutex<ScanReport>,
}

impl Drop for FlushOnDrop<'_> {
    fn drop(&mut self) {
        let partial = std::mem::take(&mut self.partial);
        let mut report = self.report.lock().unwrap_or_else(|p| p.into_inner());
        report.merge(partial);
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

fn scan_one(
    path: &Path,
    rel: &str,
    options: &ScanSettings,
    rules: &PathRules,
    out: &mut ScanReport,
) {
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
    out.record(scan_bytes(rel, &bytes, options));
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
