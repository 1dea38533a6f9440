//! Scanning a repository tarball (`GET /repos/{o}/{r}/tarball/{ref}`) as a
//! stream: entries are read one at a time through gzip and tar from any
//! [`Read`] (a download as it arrives), never written to disk, under limits
//! that bound what a hostile or broken archive can cost (compressed bytes
//! read, entry count, total bytes, path tricks).

use std::collections::HashSet;
use std::io::{self, Read};

use crate::attributes::Attributes;
use crate::file::{scan_marked, skip_unread};
use crate::ignores::{IgnoreFiles, is_ignore_file};
use crate::rules::PathRules;
use crate::{GlobError, ScanReport, ScanSettings, SkipReason};

/// Bounds on one tarball.
#[derive(Debug, Clone, Copy)]
pub struct TarballLimits {
    /// Entries of any kind (default 200,000).
    pub max_entries: u64,
    /// Total uncompressed bytes of file entries read (default 2 GiB).
    pub max_total_bytes: u64,
    /// Compressed bytes read from the source, i.e. the download (default
    /// 1 GiB): reading stops at the first byte past it.
    pub max_download_bytes: u64,
}

impl Default for TarballLimits {
    fn default() -> Self {
        Self {
            max_entries: 200_000,
            max_total_bytes: 2 * 1024 * 1024 * 1024,
            max_download_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// Why a tarball could not be scanned completely. A partial scan must not
/// be taken for the whole tree (items would look removed), so these are
/// errors, not skips.
#[derive(Debug, thiserror::Error)]
pub enum TarballError {
    /// The bytes are not a gzip-compressed tar archive.
    #[error("the tarball is not a readable gzip/tar archive: {0}")]
    Corrupt(#[from] std::io::Error),
    /// More entries than [`TarballLimits::max_entries`] (a tarball bomb).
    #[error("the tarball has more than {limit} entries")]
    TooManyEntries {
        /// The limit that was passed.
        limit: u64,
    },
    /// More uncompressed file bytes than the limit (a tarball bomb).
    #[error("the tarball holds more than {limit} bytes of files")]
    TooLarge {
        /// The limit that was passed.
        limit: u64,
    },
    /// More compressed bytes than [`TarballLimits::max_download_bytes`].
    #[error("the tarball download is larger than {limit} bytes (max_download_bytes)")]
    DownloadTooLarge {
        /// The limit that was passed.
        limit: u64,
    },
    /// The source itself failed (a download broke off or timed out), as
    /// opposed to its bytes not being an archive.
    #[error("reading the tarball failed: {0}")]
    Read(#[source] io::Error),
    /// The scan settings hold an invalid glob.
    #[error(transparent)]
    Glob(#[from] GlobError),
}

/// Scans a gzip-compressed tarball in GitHub's layout: every entry under
/// one top directory (`owner-repo-sha/`), which is stripped from paths.
///
/// `gzipped` is read as the scan goes, a few KiB at a time, and at most
/// [`TarballLimits::max_download_bytes`] of it; a blocking reader over a
/// download (run this on a blocking thread) scans the tree while it
/// arrives. An error of `gzipped` itself is [`TarballError::Read`].
pub fn scan_tarball(
    gzipped: impl Read,
    settings: &ScanSettings,
    limits: TarballLimits,
) -> Result<ScanReport, TarballError> {
    scan_tarball_with_attributes(gzipped, settings, limits, Attributes::default())
}

/// [`scan_tarball`] for an archive holding only some of a commit's files
/// (the App's incremental push packs the changed ones): `attributes` are
/// the commit's `.gitattributes` read beforehand, applied as if they were
/// in the archive. A `.gitattributes` in the archive adds to them.
pub fn scan_tarball_with_attributes(
    gzipped: impl Read,
    settings: &ScanSettings,
    limits: TarballLimits,
    attributes: Attributes,
) -> Result<ScanReport, TarballError> {
    let rules = PathRules::new(settings)?;
    let mut source = Capped {
        inner: gzipped,
        read: 0,
        limit: limits.max_download_bytes,
        outcome: SourceOutcome::Fine,
    };
    let scanned = scan_archive(&mut source, &rules, settings, limits, attributes);
    // gzip and tar may wrap or reword the source's error: what the source
    // recorded says what really happened.
    match source.outcome {
        SourceOutcome::Fine => scanned,
        SourceOutcome::OverLimit => Err(TarballError::DownloadTooLarge {
            limit: limits.max_download_bytes,
        }),
        SourceOutcome::Failed(error) => Err(TarballError::Read(error)),
    }
}

fn scan_archive(
    gzipped: impl Read,
    rules: &PathRules,
    settings: &ScanSettings,
    limits: TarballLimits,
    attributes: Attributes,
) -> Result<ScanReport, TarballError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gzipped));
    let mut report = ScanReport::default();
    let mut entries_seen = 0u64;
    let mut total_bytes = 0u64;
    let mut order = Ordering {
        attributes,
        ..Ordering::default()
    };
    for entry in archive.entries()? {
        let mut entry = entry?;
        entries_seen += 1;
        if entries_seen > limits.max_entries {
            return Err(TarballError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw_path = entry.path_bytes().into_owned();
        if kind.is_dir() {
            if let Some(rel) = repository_path(&raw_path) {
                order.seen(rel.trim_end_matches('/'));
            }
            continue;
        }
        let Some(rel) = repository_path(&raw_path).filter(|_| kind.is_file()) else {
            report.skip(SkipReason::UnsafeEntry);
            continue;
        };
        order.seen(&rel);
        let size = entry.header().size()?;
        let mut read = |entry: &mut tar::Entry<'_, _>| -> Result<Vec<u8>, TarballError> {
            total_bytes += size;
            if total_bytes > limits.max_total_bytes {
                return Err(TarballError::TooLarge {
                    limit: limits.max_total_bytes,
                });
            }
            let mut buf = Vec::new();
            // The header's size is checked by the caller; `take` keeps a
            // lying header from making us read more.
            entry.take(size).read_to_end(&mut buf)?;
            Ok(buf)
        };
        // `.gitattributes` and `.ignore` are read whatever else applies to
        // them: they decide for other files.
        let mut held = None;
        if is_marks_file(&rel) && size <= MAX_MARKS_BYTES {
            let buf = read(&mut entry)?;
            order.add_marks(&rel, &buf);
            held = Some(buf);
        }
        if order.ready(&rel) {
            if !order.ignores.ignores(&rel) {
                match order.skip(&rel, rules) {
                    Some(reason) => report.skip(reason),
                    None if size > settings.max_file_bytes => report.skip(SkipReason::TooLarge),
                    None => {
                        let buf = match held {
                            Some(buf) => buf,
                            None => read(&mut entry)?,
                        };
                        let marks = order.attributes.marks(&rel);
                        report.record(scan_marked(&rel, &buf, settings, &marks));
                    }
                }
            }
        } else {
            // Marks above it may still come: decided at a flush. Only
            // `.gitattributes` can widen what is scanned (by unmarking a
            // vendored or generated path), so those are read now; a file
            // the config excludes, or too large, is not.
            let unread = held.is_none()
                && (size > settings.max_file_bytes
                    || rules.skip_by_path(&rel).is_some_and(|r| {
                        !matches!(r, SkipReason::Vendored | SkipReason::Generated)
                    }));
            let bytes = match held {
                Some(buf) => Some(buf),
                None if unread => None,
                None => Some(read(&mut entry)?),
            };
            order.pending_bytes += bytes.as_ref().map_or(0, Vec::len);
            order.pending.push((rel, bytes));
        }
        order.flush(rules, settings, &mut report, false);
    }
    order.flush(rules, settings, &mut report, true);
    report.sort();
    Ok(report)
}

/// `.gitattributes` and `.ignore` must be known before the files they
/// mark are scanned, but an archive is read front to back. GitHub's
/// tarballs come from `git archive`, in tree order: a directory's entries
/// sorted by name. So once an entry of a directory sorts after `.ignore`
/// (and so after `.gitattributes`), that directory's files are known (or
/// known absent); files that come earlier (`.cargo/`,
/// `.circleci/`, `.editorconfig`) wait, in memory, until every directory
/// above them is settled, or the archive ends. An archive in another order
/// is still scanned completely, with the marks seen so far.
#[derive(Default)]
struct Ordering {
    attributes: Attributes,
    /// Directories (with a trailing `/`; the root is empty) settled so far.
    settled: HashSet<String>,
    ignores: IgnoreFiles,
    /// Files waiting for their directories to settle, with their bytes
    /// (`None`: left unread, excluded by the config or too large).
    pending: Vec<(String, Option<Vec<u8>>)>,
    pending_bytes: usize,
    /// A directory was settled since the last flush: only then can a
    /// waiting file have become ready, which keeps flushing linear.
    changed: bool,
}

/// A `.gitattributes` or `.ignore` larger than this is not read.
const MAX_MARKS_BYTES: u64 = 1024 * 1024;

fn is_marks_file(rel: &str) -> bool {
    rel.rsplit('/').next() == Some(".gitattributes") || is_ignore_file(rel)
}

/// Beyond this much waiting data, files are scanned with the marks known.
const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;
/// And beyond this many files, which bounds the work of each flush.
const MAX_PENDING_FILES: usize = 1000;

impl Ordering {
    fn add_marks(&mut self, rel: &str, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        if is_ignore_file(rel) {
            self.ignores.add(rel, &text);
        } else {
            self.attributes.add(rel, &text);
        }
    }

    /// Records an entry: every directory above it in which its component
    /// sorts after `.ignore` (which sorts after `.gitattributes`) is
    /// settled.
    fn seen(&mut self, rel: &str) {
        let mut dir_end = 0;
        for component in rel.split('/') {
            if component.as_bytes() > b".ignore".as_slice()
                && !self.settled.contains(&rel[..dir_end])
            {
                self.settled.insert(rel[..dir_end].to_string());
                self.changed = true;
            }
            dir_end += component.len() + 1;
            if dir_end > rel.len() {
                break;
            }
        }
    }

    /// The path-based decision, with the marks known now.
    fn skip(&self, rel: &str, rules: &PathRules) -> Option<SkipReason> {
        let marks = self.attributes.marks(rel);
        rules
            .skip_marked(rel, &marks)
            .or_else(|| skip_unread(rel, &marks))
    }

    fn ready(&self, rel: &str) -> bool {
        rel.match_indices('/')
            .map(|(i, _)| &rel[..=i])
            .chain(std::iter::once(""))
            .all(|dir| self.settled.contains(dir))
    }

    fn flush(
        &mut self,
        rules: &PathRules,
        settings: &ScanSettings,
        report: &mut ScanReport,
        all: bool,
    ) {
        let force =
            all || self.pending_bytes > MAX_PENDING_BYTES || self.pending.len() > MAX_PENDING_FILES;
        if !force && !self.changed {
            return;
        }
        self.changed = false;
        let mut waiting = Vec::new();
        for (rel, bytes) in std::mem::take(&mut self.pending) {
            if !force && !self.ready(&rel) {
                waiting.push((rel, bytes));
                continue;
            }
            if self.ignores.ignores(&rel) {
                continue;
            }
            match (self.skip(&rel, rules), bytes) {
                (Some(reason), _) => report.skip(reason),
                (None, Some(bytes)) => {
                    let marks = self.attributes.marks(&rel);
                    report.record(scan_marked(&rel, &bytes, settings, &marks));
                }
                // Left unread for its size (an excluded file is still
                // excluded).
                (None, None) => report.skip(SkipReason::TooLarge),
            }
        }
        self.pending_bytes = waiting
            .iter()
            .map(|(_, b)| b.as_ref().map_or(0, Vec::len))
            .sum();
        self.pending = waiting;
    }
}

/// What became of the compressed source.
enum SourceOutcome {
    Fine,
    OverLimit,
    Failed(io::Error),
}

/// The compressed source, cut off past `limit` bytes, with its own errors
/// kept apart from gzip's and tar's.
struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
    outcome: SourceOutcome,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.outcome {
            SourceOutcome::Fine => {}
            SourceOutcome::OverLimit => return Err(io::Error::other("download limit exceeded")),
            SourceOutcome::Failed(_) => return Err(io::Error::other("the source failed")),
        }
        // One byte past the limit is enough to know it is exceeded.
        let room = self.limit.saturating_sub(self.read).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        match self.inner.read(&mut buf[..want]) {
            Ok(n) => {
                self.read += n as u64;
                if self.read > self.limit {
                    self.outcome = SourceOutcome::OverLimit;
                    return Err(io::Error::other("download limit exceeded"));
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let surfaced = io::Error::new(e.kind(), e.to_string());
                self.outcome = SourceOutcome::Failed(e);
                Err(surfaced)
            }
        }
    }
}

/// The repository-relative path of an entry: the top directory stripped,
/// `None` for anything that could escape it or isn't valid UTF-8.
fn repository_path(raw: &[u8]) -> Option<String> {
    let path = std::str::from_utf8(raw).ok()?;
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return None;
    }
    let (_top, rest) = path.split_once('/')?;
    if rest.is_empty()
        || rest
            .split('/')
            .any(|c| c == ".." || c == "." || c.is_empty())
    {
        return None;
    }
    Some(rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            // set_path refuses `..`; write the raw name to model a hostile archive.
            let name = &mut header.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn files_under_the_top_directory_are_scanned_with_it_stripped() {
        let gz = tarball(&[
            ("octo-repo-abc123/src/a.rs", b"// TODO: one\n"),
            ("octo-repo-abc123/b.py", b"x = 1  # FIXME: two\n"),
        ]);
        let report =
            scan_tarball(&gz[..], &ScanSettings::default(), TarballLimits::default()).unwrap();
        let found: Vec<_> = report
            .annotations
            .iter()
            .map(|a| format!("{}:{} {}", a.path, a.line, a.keyword))
            .collect();
        assert_eq!(found, ["b.py:1 FIXME", "src/a.rs:1 TODO"]);
    }

    #[test]
    fn path_tricks_are_skipped_not_followed() {
        let gz = tarball(&[
            ("top/../../etc/x.rs", b"// TODO: escape\n"),
            ("/abs/x.rs", b"// TODO: absolute\n"),
            ("top/ok.rs", b"// TODO: fine\n"),
        ]);
        let report =
            scan_tarball(&gz[..], &ScanSettings::default(), TarballLimits::default()).unwrap();
        assert_eq!(report.annotations.len(), 1);
        assert_eq!(report.skipped.get(&SkipReason::UnsafeEntry), Some(&2));
    }

    #[test]
    fn too_many_entries_or_bytes_is_an_error_not_a_partial_scan() {
        let gz = tarball(&[
            ("t/a.rs", b"// a\n"),
            ("t/b.rs", b"// b\n"),
            ("t/c.rs", b"// c\n"),
        ]);
        let few = TarballLimits {
            max_entries: 2,
            ..TarballLimits::default()
        };
        assert!(matches!(
            scan_tarball(&gz[..], &ScanSettings::default(), few),
            Err(TarballError::TooManyEntries { limit: 2 })
        ));
        let small = TarballLimits {
            max_total_bytes: 8,
            ..TarballLimits::default()
        };
        assert!(matches!(
            scan_tarball(&gz[..], &ScanSettings::default(), small),
            Err(TarballError::TooLarge { limit: 8 })
        ));
    }

    #[test]
    fn more_compressed_bytes_than_the_download_limit_stop_the_scan() {
        // Given a tarball of a known compressed size,
        let gz = tarball(&[("t/a.rs", b"// TODO: a\n"), ("t/b.rs", b"// TODO: b\n")]);
        let size = gz.len() as u64;
        let capped = |max_download_bytes| TarballLimits {
            max_download_bytes,
            ..TarballLimits::default()
        };
        // when the limit is exactly its size, it scans,
        let report = scan_tarball(&gz[..], &ScanSettings::default(), capped(size)).unwrap();
        assert_eq!(report.annotations.len(), 2);
        // and one byte less is the typed error naming the limit.
        let err = scan_tarball(&gz[..], &ScanSettings::default(), capped(size - 1)).unwrap_err();
        assert!(
            matches!(err, TarballError::DownloadTooLarge { limit } if limit == size - 1),
            "{err}"
        );
        assert!(err.to_string().contains("max_download_bytes"), "{err}");
    }

    /// A source that yields `good` and then fails, like a download that
    /// broke off.
    struct BreaksOff<'a> {
        good: &'a [u8],
    }

    impl Read for BreaksOff<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.good.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "the body broke off",
                ));
            }
            let n = self.good.read(buf)?;
            Ok(n)
        }
    }

    #[test]
    fn a_failing_source_is_a_read_error_not_a_corrupt_archive() {
        let gz = tarball(&[("t/a.rs", &[b'x'; 100_000][..])]);
        let source = BreaksOff {
            good: &gz[..gz.len() / 2],
        };
        let err =
            scan_tarball(source, &ScanSettings::default(), TarballLimits::default()).unwrap_err();
        match err {
            TarballError::Read(e) => {
                assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
                assert_eq!(e.to_string(), "the body broke off");
            }
            other => panic!("expected a read error, got {other}"),
        }
    }

    #[test]
    fn a_corrupt_archive_is_a_clear_error() {
        let err = scan_tarball(
            &b"not gzip"[..],
            &ScanSettings::default(),
            TarballLimits::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("not a readable gzip/tar archive"),
            "{err}"
        );
    }
}
