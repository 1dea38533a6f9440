//! Listing a tree's files (git's list in a work tree, else a walk with the
//! `ignore` crate so `.gitignore` and `.ignore` behave as in ripgrep) and
//! scanning them in parallel.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use ignore::{WalkBuilder, WalkState};

use crate::attributes::{Attributes, Marks};
use crate::file::{scan_marked, skip_unread};
use crate::ignores::IgnoreFiles;
use crate::rules::PathRules;
use crate::{GlobError, ScanReport, ScanSettings, SkipReason};

/// Called after each file, so a terminal can show progress.
pub trait Progress: Sync {
    /// One more file was scanned or skipped.
    fn file_done(&self);
}

impl Progress for () {
    fn file_done(&self) {}
}

/// Scans `roots` (files or directories). Reported paths are relative to
/// `base` when under it, `/`-separated.
///
/// A directory inside a git work tree is scanned as git sees it: the files
/// it tracks (even those a `.gitignore` pattern matches, as in the App's
/// tarball) and the untracked files that are not ignored, listed by `git
/// ls-files`. Elsewhere, without git, or when git lists nothing there (a
/// directory the repository ignores, named explicitly), the tree is walked
/// with `.gitignore` and `.ignore` applied. Either way `.gitattributes` files
/// among the scanned files mark files vendored, generated, documentation
/// or of a given language.
pub fn scan_paths(
    roots: &[PathBuf],
    base: &Path,
    options: &ScanSettings,
    progress: &dyn Progress,
) -> Result<ScanReport, GlobError> {
    let rules = PathRules::new(options)?;
    match scan_listing(roots, base, options, &rules, progress, true) {
        Some(report) => Ok(report),
        // An untracked `.gitattributes` or `.ignore` came to light while
        // tracked files were being scanned with the marks known before it:
        // scan again, with git's whole list read first.
        None => Ok(scan_listing(roots, base, options, &rules, progress, false).unwrap_or_default()),
    }
}

/// [`scan_paths`] once. With `overlap`, the tracked files of a work tree
/// are scanned while git still looks for untracked ones (it walks the
/// whole tree for them, which costs as much as a tenth of the scan); `None`
/// when that list brings a `.gitattributes` or `.ignore`, whose marks the
/// files already scanned did not see.
fn scan_listing(
    roots: &[PathBuf],
    base: &Path,
    options: &ScanSettings,
    rules: &PathRules,
    progress: &dyn Progress,
    overlap: bool,
) -> Option<ScanReport> {
    let mut report = ScanReport::default();
    let mut files: Vec<Listed> = Vec::new();
    let mut from_git = false;
    let mut attributes = Attributes::default();
    let mut ignores = IgnoreFiles::default();
    // Untracked files still being listed, per work tree: (root, prefix, git).
    let mut pending = Vec::new();
    for root in roots {
        if !root.is_dir() {
            files.push(Listed::new(root.clone(), relative_path(root, base)));
            continue;
        }
        let Some((tracked, untracked)) = git_files(root) else {
            walk(root, base, options, &mut files, &mut report);
            continue;
        };
        // Nothing tracked (a new repository, an untracked directory): the
        // untracked files are the whole list.
        let (tracked, untracked) = if tracked.is_empty() || !overlap {
            let mut all = tracked;
            all.extend(untracked.finish());
            (all, None)
        } else {
            (tracked, Some(untracked))
        };
        if tracked.is_empty() {
            walk(root, base, options, &mut files, &mut report);
            continue;
        }
        from_git = true;
        // A subdirectory of a work tree is matched as the repository
        // sees it: `.gitattributes` and `.ignore` patterns are relative
        // to the repository root, and those of the directories above
        // it apply too.
        let prefix = git_prefix(root);
        read_marks_above(root, &prefix, &mut attributes, &mut ignores);
        listed_in_git(root, base, &prefix, tracked, &mut files);
        if let Some(untracked) = untracked {
            pending.push((root, prefix, untracked));
        }
    }
    for listed in &files {
        let key = listed.key();
        let name = key.rsplit('/').next();
        if name == Some(".gitattributes")
            && let Ok(Some(bytes)) = read_limited(&listed.path(), 1024 * 1024)
        {
            attributes.add(key, &String::from_utf8_lossy(&bytes));
        } else if from_git
            && name == Some(".ignore")
            && let Ok(Some(bytes)) = read_limited(&listed.path(), 1024 * 1024)
        {
            ignores.add(key, &String::from_utf8_lossy(&bytes));
        }
    }
    // Outside git the walker applied `.ignore` already; in git's list it
    // is applied here, as ripgrep applies it to tracked files.
    if !ignores.is_empty() {
        files.retain(|listed| !ignores.ignores(listed.key()));
    }
    // The untracked files, once git has listed them, are scanned after
    // the tracked ones: index `files.len() + k` is the k-th of them.
    let later: OnceLock<Vec<Listed>> = OnceLock::new();
    if pending.is_empty() {
        let _ = later.set(Vec::new());
    }
    let abandoned = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    // (How many untracked files there are is not known yet.)
    .min(if pending.is_empty() {
        files.len().max(1)
    } else {
        usize::MAX
    });
    let partials: Vec<ScanReport> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut partial = ScanReport::default();
                    let mut buffer = Vec::new();
                    while !abandoned.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let listed = match files.get(i) {
                            Some(listed) => listed,
                            None => match later.wait().get(i - files.len()) {
                                Some(listed) => listed,
                                None => break,
                            },
                        };
                        let marks = attributes.marks(listed.key());
                        let context = FileContext {
                            options,
                            rules,
                            marks: &marks,
                            from_git,
                        };
                        scan_one(listed, &context, &mut buffer, &mut partial);
                        progress.file_done();
                    }
                    partial
                })
            })
            .collect();
        if !pending.is_empty() {
            let mut untracked = Vec::new();
            for (root, prefix, git) in pending.drain(..) {
                listed_in_git(root, base, &prefix, git.finish(), &mut untracked);
            }
            if untracked.iter().any(|listed| {
                matches!(
                    listed.key().rsplit('/').next(),
                    Some(".gitattributes" | ".ignore")
                )
            }) {
                abandoned.store(true, Ordering::Relaxed);
                untracked.clear();
            } else if !ignores.is_empty() {
                untracked.retain(|listed| !ignores.ignores(listed.key()));
            }
            let _ = later.set(untracked);
        }
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    if abandoned.into_inner() {
        return None;
    }
    for partial in partials {
        report.merge(partial);
    }
    report.sort();
    Some(report)
}

/// Git's list for a work tree (paths relative to `root`) as files to scan.
/// This runs before any file is scanned, so it does no more than it must:
/// when `root` is `base` (the usual `paydown scan DIR`), git's path is the
/// reported one as it is, and the full path is joined by the worker that
/// opens the file.
fn listed_in_git<'r>(
    root: &'r Path,
    base: &Path,
    prefix: &str,
    paths: Vec<String>,
    files: &mut Vec<Listed<'r>>,
) {
    let same = root == base;
    files.extend(paths.into_iter().map(|p| {
        let key = (!prefix.is_empty()).then(|| format!("{prefix}{p}"));
        if same {
            Listed {
                place: Place::InRoot(root, None),
                rel: p,
                key,
            }
        } else {
            Listed {
                rel: relative_path(&root.join(&p), base),
                place: Place::InRoot(root, Some(p)),
                key,
            }
        }
    }));
}

/// One file to scan.
struct Listed<'r> {
    place: Place<'r>,
    /// The reported path: relative to `base`, `/`-separated.
    rel: String,
    /// The repository-relative path, when it differs from `rel` (a
    /// subdirectory of a work tree): what path rules and marks match.
    key: Option<String>,
}

/// Where a listed file is.
enum Place<'r> {
    /// At this path (walked, or named on the command line).
    Path(PathBuf),
    /// Under a work tree's root, at git's path (`None`: the same as the
    /// reported one).
    InRoot(&'r Path, Option<String>),
}

impl<'r> Listed<'r> {
    fn new(path: PathBuf, rel: String) -> Self {
        Self {
            place: Place::Path(path),
            rel,
            key: None,
        }
    }

    fn key(&self) -> &str {
        self.key.as_deref().unwrap_or(&self.rel)
    }

    fn path(&self) -> Cow<'_, Path> {
        match &self.place {
            Place::Path(path) => Cow::Borrowed(path),
            Place::InRoot(root, name) => {
                Cow::Owned(root.join(name.as_deref().unwrap_or(&self.rel)))
            }
        }
    }
}

/// Where `dir` is in its work tree: `""` at the top, else `sub/dir/`.
/// Asked of git only when `dir` has no `.git` of its own.
fn git_prefix(dir: &Path) -> String {
    if dir.join(".git").exists() {
        return String::new();
    }
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.quotePath=false", "rev-parse", "--show-prefix"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim_end_matches('\n')
                .to_string()
        })
        .unwrap_or_default()
}

/// The `.gitattributes` and `.ignore` of the directories above `dir` in
/// its work tree (`prefix` is `dir` relative to the top), read from disk.
fn read_marks_above(
    dir: &Path,
    prefix: &str,
    attributes: &mut Attributes,
    ignores: &mut IgnoreFiles,
) {
    let mut upper = dir.to_path_buf();
    let mut rel_dir = prefix;
    while !rel_dir.is_empty() {
        upper.push("..");
        rel_dir = rel_dir
            .trim_end_matches('/')
            .rfind('/')
            .map_or("", |i| &rel_dir[..=i]);
        if let Ok(Some(bytes)) = read_limited(&upper.join(".gitattributes"), 1024 * 1024) {
            attributes.add(
                &format!("{rel_dir}.gitattributes"),
                &String::from_utf8_lossy(&bytes),
            );
        }
        if let Ok(Some(bytes)) = read_limited(&upper.join(".ignore"), 1024 * 1024) {
            ignores.add(
                &format!("{rel_dir}.ignore"),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
}

/// The files git lists under `dir` (relative to it): those it tracks, and
/// the untracked ones that are not ignored, still being listed by a second
/// `git ls-files` (finding them walks the whole tree, several times slower
/// than reading the index), so they can be collected while tracked files
/// are scanned. `None` when `dir` is not in a work tree or git cannot be
/// run, so the caller walks the tree instead.
fn git_files(dir: &Path) -> Option<(Vec<String>, Untracked)> {
    // The tracked list is waited for, so it is asked first.
    let tracked = ls_files(dir, &["--cached"]).stdout(Stdio::piped()).spawn();
    let untracked = Untracked(
        ls_files(dir, &["--others", "--exclude-standard"])
            .stdout(Stdio::piped())
            .spawn()
            .ok(),
    );
    let tracked = tracked
        .and_then(|git| git.wait_with_output())
        .ok()
        .filter(|output| output.status.success());
    match tracked {
        Some(output) => Some((git_paths(&output.stdout), untracked)),
        None => {
            drop(untracked.finish());
            None
        }
    }
}

fn ls_files(dir: &Path, which: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.quotePath=false", "ls-files", "-z"])
        .args(which)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// `git ls-files -z` output as paths.
fn git_paths(output: &[u8]) -> Vec<String> {
    let mut paths: Vec<String> = output
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    // A file with conflicts is listed once per stage, one after another
    // (the index is sorted by path, then stage).
    paths.dedup();
    paths
}

/// The `git ls-files --others` under way.
struct Untracked(Option<Child>);

impl Untracked {
    /// Its list; empty if git failed.
    fn finish(self) -> Vec<String> {
        self.0
            .and_then(|child| child.wait_with_output().ok())
            .filter(|output| output.status.success())
            .map_or_else(Vec::new, |output| git_paths(&output.stdout))
    }
}

/// Lists the files of a tree outside git, with `.gitignore` and `.ignore`
/// applied as in ripgrep.
fn walk(
    root: &Path,
    base: &Path,
    options: &ScanSettings,
    files: &mut Vec<Listed>,
    report: &mut ScanReport,
) {
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .git_global(false)
        // .gitignore applies even outside a git checkout (a tarball, a
        // fresh export), as users expect from ripgrep-like tools.
        .require_git(false)
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git");
    let found = Mutex::new((Vec::new(), 0u64));
    builder.build_parallel().run(|| {
        let found = &found;
        Box::new(move |entry| {
            let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
            match entry {
                Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                    let rel = relative_path(entry.path(), base);
                    found.0.push(Listed::new(entry.into_path(), rel));
                }
                Ok(_) => {}
                Err(_) => found.1 += 1,
            }
            WalkState::Continue
        })
    });
    let (listed, unreadable) = found.into_inner().unwrap_or_else(|p| p.into_inner());
    files.extend(listed);
    for _ in 0..unreadable {
        report.skip(SkipReason::Unreadable);
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

/// What decides how one file is scanned, besides the file itself.
struct FileContext<'a> {
    options: &'a ScanSettings,
    rules: &'a PathRules,
    marks: &'a Marks,
    /// Listed by git: a symlink is then a tracked link, which the tarball
    /// holds as a link too and does not scan.
    from_git: bool,
}

fn scan_one(listed: &Listed, cx: &FileContext<'_>, buffer: &mut Vec<u8>, out: &mut ScanReport) {
    let (path, rel) = (&*listed.path(), listed.rel.as_str());
    let skip = cx
        .rules
        .skip_marked(listed.key(), cx.marks)
        .or_else(|| skip_unread(rel, cx.marks));
    if let Some(reason) = skip {
        // A tracked symlink counts as one whatever its name, as in the
        // tarball; only files skipped unread pay for the `lstat`.
        out.skip(if cx.from_git && path.is_symlink() {
            SkipReason::UnsafeEntry
        } else {
            reason
        });
        return;
    }
    let read = open_listed(path, cx.from_git)
        .and_then(|mut file| read_whole(&mut file, cx.options.max_file_bytes, buffer));
    let len = match read {
        Ok(Some(len)) => len,
        Ok(None) => {
            out.skip(SkipReason::TooLarge);
            return;
        }
        // The open refused to follow a tracked symlink.
        Err(_) if cx.from_git && path.is_symlink() => {
            out.skip(SkipReason::UnsafeEntry);
            return;
        }
        // Deleted from the work tree but still in git's index, or a
        // submodule's directory: not a file to scan.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || path.is_dir() => return,
        Err(e) => {
            out.skip(SkipReason::Unreadable);
            out.unreadable.push((rel.to_string(), e.to_string()));
            return;
        }
    };
    out.record(scan_marked(rel, &buffer[..len], cx.options, cx.marks));
}

/// Opens a listed file. A file git listed is opened without following a
/// final symlink (the open fails on one), which spares an `lstat` per file.
fn open_listed(path: &Path, from_git: bool) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    if from_git {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    if from_git && path.is_symlink() {
        return Err(std::io::Error::other("symlink"));
    }
    options.open(path)
}

/// A file's first read asks for this much; files that fill it are sized
/// with `fstat` before reading on.
const FIRST_READ: usize = 64 * 1024;

/// Reads all of `file` into `buffer`, which is reused from file to file
/// (grown, never shrunk, its bytes past the returned length are stale), so
/// that reading most files allocates nothing and costs no `fstat`. `None`
/// when the file holds more than `limit` bytes.
fn read_whole(file: &mut File, limit: u64, buffer: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    // One byte past the limit tells a file over it (also one that grew
    // after it was sized).
    let cap = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    if buffer.len() < FIRST_READ.min(cap) {
        buffer.resize(FIRST_READ.min(cap), 0);
    }
    let mut filled = 0;
    let mut sized = false;
    loop {
        if filled == buffer.len() && !sized {
            sized = true;
            let len = file.metadata()?.len();
            if len > limit {
                return Ok(None);
            }
            // Room for the whole file and for the read that sees its end.
            let whole = usize::try_from(len).unwrap_or(usize::MAX).saturating_add(1);
            if whole > buffer.len() {
                buffer.resize(whole.min(cap), 0);
            }
        }
        if filled == buffer.len() {
            // Grown since it was sized.
            if filled >= cap {
                return Ok(None);
            }
            buffer.resize(buffer.len().saturating_mul(2).min(cap), 0);
        }
        match file.read(&mut buffer[filled..]) {
            Ok(0) => return Ok(Some(filled)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        if filled >= cap {
            return Ok(None);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reused_buffer_reads_small_and_large_files_whole_and_refuses_those_over_the_limit() {
        // Given files of sizes around the first read's size and the limit,
        let dir = tempfile::tempdir().unwrap();
        let limit = 3 * FIRST_READ as u64 + 10;
        let sizes = [
            0,
            5,
            FIRST_READ - 1,
            FIRST_READ,
            FIRST_READ + 1,
            3 * FIRST_READ,
            limit as usize,
            limit as usize + 1,
            17,
        ];
        let mut buffer = Vec::new();
        for (n, size) in sizes.into_iter().enumerate() {
            let path = dir.path().join(format!("f{n}"));
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            // when each is read into the same buffer in turn,
            let mut file = File::open(&path).unwrap();
            let read = read_whole(&mut file, limit, &mut buffer).unwrap();
            // then each is read whole, whatever was read before it, or
            // refused when over the limit.
            if size as u64 > limit {
                assert_eq!(read, None, "size {size}");
            } else {
                assert_eq!(read, Some(size), "size {size}");
                assert!(buffer[..size] == bytes[..], "size {size}");
            }
        }
        // And the buffer never grows past one byte over the limit.
        assert!(buffer.len() as u64 <= limit + 1);
    }
}
