//! Pure content operations on the in-memory trees: file-level diffs with
//! unified-diff patches (as compare and PR files report them), and gzip
//! tarballs laid out like GitHub's (`owner-repo-shortsha/…`).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use similar::{ChangeTag, TextDiff};

use crate::model::{FileChange, PullData, Repo, Tree};

fn line_diff(old: &[u8], new: &[u8]) -> (u64, u64, Option<String>) {
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return (0, 0, None);
    };
    let diff = TextDiff::from_lines(old, new);
    let (mut adds, mut dels) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => adds += 1,
            ChangeTag::Delete => dels += 1,
            ChangeTag::Equal => {}
        }
    }
    let mut patch = String::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let _ = write!(patch, "{hunk}");
    }
    // GitHub's `patch` is the hunks alone, without a trailing newline.
    if patch.ends_with('\n') {
        patch.pop();
    }
    (adds, dels, Some(patch))
}

/// Changed files from `old` to `new`, sorted by name. A removed and an added
/// file with identical content are reported as one rename.
pub fn diff_trees(old: &Tree, new: &Tree) -> Vec<FileChange> {
    let mut out = Vec::new();
    let removed: Vec<&String> = old.keys().filter(|p| !new.contains_key(*p)).collect();
    let mut renamed_from: BTreeSet<&String> = BTreeSet::new();
    for (path, content) in new {
        match old.get(path) {
            Some(before) if before == content => {}
            Some(before) => {
                let (additions, deletions, patch) = line_diff(before, content);
                out.push(FileChange {
                    filename: path.clone(),
                    status: "modified".into(),
                    previous_filename: None,
                    additions,
                    deletions,
                    patch,
                });
            }
            None => {
                let source = removed
                    .iter()
                    .find(|p| !renamed_from.contains(**p) && old.get(**p) == Some(content));
                if let Some(src) = source {
                    renamed_from.insert(src);
                    out.push(FileChange {
                        filename: path.clone(),
                        status: "renamed".into(),
                        previous_filename: Some((*src).clone()),
                        additions: 0,
                        deletions: 0,
                        patch: None,
                    });
                } else {
                    let (additions, deletions, patch) = line_diff(b"", content);
                    out.push(FileChange {
                        filename: path.clone(),
                        status: "added".into(),
                        previous_filename: None,
                        additions,
                        deletions,
                        patch,
                    });
                }
            }
        }
    }
    for path in removed {
        if renamed_from.contains(path) {
            continue;
        }
        let (additions, deletions, patch) = line_diff(&old[path], b"");
        out.push(FileChange {
            filename: path.clone(),
            status: "removed".into(),
            previous_filename: None,
            additions,
            deletions,
            patch,
        });
    }
    out.sort_by(|a, b| a.filename.cmp(&b.filename));
    out
}

/// Files of a pull request: the explicit list when seeded, else the diff from
/// the merge base of base and head to head (GitHub's three-dot diff).
pub fn pull_files(r: &Repo, p: &PullData) -> Option<Vec<FileChange>> {
    if let Some(files) = &p.files {
        return Some(files.clone());
    }
    let head = r.commits.get(&p.head_sha)?;
    let base = merge_base(r, &p.base_sha, &p.head_sha)
        .and_then(|s| r.commits.get(&s))
        .or_else(|| r.commits.get(&p.base_sha))?;
    Some(diff_trees(&base.tree, &head.tree))
}

/// The newest commit that is an ancestor of both (each commit is its own ancestor).
pub fn merge_base(r: &Repo, a: &str, b: &str) -> Option<String> {
    let of_a: BTreeSet<&str> = r.ancestry(a).iter().map(|c| c.sha.as_str()).collect();
    r.ancestry(b)
        .into_iter()
        .find(|c| of_a.contains(c.sha.as_str()))
        .map(|c| c.sha.clone())
}

/// The top directory GitHub uses inside repository tarballs.
pub fn tarball_prefix(owner: &str, name: &str, sha: &str) -> String {
    format!("{owner}-{name}-{}", &sha[..sha.len().min(7)])
}

/// A gzip tarball of `tree` with every entry under `prefix/`.
pub fn tarball(prefix: &str, tree: &Tree, mtime: u64) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    dirs.insert(String::new());
    for path in tree.keys() {
        let mut acc = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(part);
            dirs.insert(acc.clone());
        }
    }
    for dir in &dirs {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        header.set_mtime(mtime);
        let name = if dir.is_empty() {
            format!("{prefix}/")
        } else {
            format!("{prefix}/{dir}/")
        };
        tar.append_data(&mut header, name, std::io::empty())?;
    }
    for (path, content) in tree {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(content.len() as u64);
        header.set_mtime(mtime);
        tar.append_data(&mut header, format!("{prefix}/{path}"), content.as_slice())?;
    }
    tar.into_inner()?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn given_two_trees_then_diff_reports_each_kind_of_change() {
        let old = tree(&[
            ("a.rs", "one\ntwo\n"),
            ("gone.rs", "x\n"),
            ("old.rs", "same\n"),
        ]);
        let new = tree(&[
            ("a.rs", "one\n2\n"),
            ("new.rs", "y\n"),
            ("moved.rs", "same\n"),
        ]);
        let d = diff_trees(&old, &new);
        let summary: Vec<(&str, &str, Option<&str>)> = d
            .iter()
            .map(|f| {
                (
                    f.filename.as_str(),
                    f.status.as_str(),
                    f.previous_filename.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("a.rs", "modified", None),
                ("gone.rs", "removed", None),
                ("moved.rs", "renamed", Some("old.rs")),
                ("new.rs", "added", None),
            ]
        );
        assert_eq!(
            d[0].patch.as_deref(),
            Some("@@ -1,2 +1,2 @@\n one\n-two\n+2")
        );
        assert_eq!((d[0].additions, d[0].deletions), (1, 1));
    }
}
