//! Which files of a work tree are scanned when git lists them: tracked
//! files are scanned while git is still looking for untracked ones, and
//! what the untracked list brings (files, marks) is honoured as if the
//! whole list had been read first.

use std::path::Path;
use std::process::Command;

use paydown_scan::{ScanSettings, SkipReason, scan_paths};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn paths(report: &paydown_scan::ScanReport) -> Vec<&str> {
    report.annotations.iter().map(|a| a.path.as_str()).collect()
}

/// A repository with committed sources and a `.gitignore`.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    write(repo, ".gitignore", "*.log\n");
    write(repo, "lib/a.c", "// TODO: tracked C\n");
    write(repo, "src/main.rs", "// TODO: tracked Rust\n");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "init"]);
    dir
}

#[test]
fn given_untracked_files_then_those_not_ignored_are_scanned_with_the_tracked_ones() {
    // Given a repository with an untracked source and an ignored file,
    let dir = repository();
    let repo = dir.path();
    write(repo, "src/new.rs", "// TODO: untracked, not ignored\n");
    write(repo, "debug.log", "TODO: ignored\n");

    // when it is scanned,
    let report = scan_paths(&[repo.to_path_buf()], repo, &ScanSettings::default(), &()).unwrap();

    // then the tracked and the untracked source are, the ignored file not.
    assert_eq!(paths(&report), ["lib/a.c", "src/main.rs", "src/new.rs"]);
}

#[test]
fn given_an_untracked_gitattributes_and_ignore_then_their_marks_apply_to_tracked_files() {
    // Given a repository where an uncommitted `.gitattributes` marks the
    // tracked `lib/` vendored and an uncommitted `.ignore` leaves out the
    // tracked `src/main.rs`, next to an untracked source,
    let dir = repository();
    let repo = dir.path();
    write(repo, ".gitattributes", "lib/** linguist-vendored\n");
    write(repo, ".ignore", "main.rs\n");
    write(repo, "src/new.rs", "// TODO: untracked, not ignored\n");

    // when it is scanned (tracked files first, while git lists the rest),
    let report = scan_paths(&[repo.to_path_buf()], repo, &ScanSettings::default(), &()).unwrap();

    // then the marks found among the untracked files apply to the tracked
    // ones as if git's whole list had been read first.
    assert_eq!(paths(&report), ["src/new.rs"]);
    assert_eq!(report.skipped.get(&SkipReason::Vendored), Some(&1));
}
