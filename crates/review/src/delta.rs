//! The debt a pull request adds, removes and edits, as a pure function of
//! the base and head versions of its changed files.
//!
//! Matching, most certain first, one-to-one:
//! 1. **same line**: a head annotation whose keyword line the diff keeps
//!    unchanged is the base annotation on that line (whatever the ids say,
//!    so a copy pasted above an existing item does not "move" its `-2` id);
//! 2. **same id**: explicit `id=`, or the derived id (for a renamed file,
//!    the head annotations' ids as they would read under the old path);
//! 3. **the reconcile cascade** (`paydown_reconcile::plan`): same file and
//!    keyword with the same normalised text, then with similar text
//!    (`paydown_annotations::id::similarity` ≥
//!    [`paydown_reconcile::plan::EDIT_SIMILARITY`]), then the same text in
//!    another file (moved).
//!
//! A matched pair whose keyword, text, body or metadata differ is **edited**;
//! an identical pair (moved or untouched) is not reported. An unmatched head
//! annotation is **added** only when the PR added its keyword line; an
//! unmatched base annotation is **removed**.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use paydown_annotations::Annotation;
use paydown_annotations::id::{assign_ids, normalise_text, similarity};
use paydown_reconcile::plan::EDIT_SIMILARITY;
use serde::Serialize;

/// A changed file's annotations on both sides, and for each head
/// annotation where its keyword line came from. Built by
/// [`FileVersions::new`], which diffs the two texts once so they need not
/// be kept (a review may hold hundreds of files).
#[derive(Debug, Clone, Default)]
pub struct FileVersions {
    /// The path at head (at base for a deleted file).
    pub path: String,
    /// The path at base when the PR renames the file.
    pub previous_path: Option<String>,
    /// Base annotations in file order; `None` for a file the PR adds.
    pub base: Option<Vec<Annotation>>,
    /// Head annotations in file order; `None` for a file the PR deletes.
    pub head: Option<Vec<Annotation>>,
    /// Per head annotation: the base line its keyword line is an unchanged
    /// copy of, or `None` when the PR added that line.
    head_unchanged_from: Vec<Option<u32>>,
}

impl FileVersions {
    /// `base` / `head`: each side's text and annotations (ids assigned for
    /// that side's path), `None` when the file does not exist on that side.
    pub fn new(
        path: impl Into<String>,
        previous_path: Option<String>,
        base: Option<(&str, Vec<Annotation>)>,
        head: Option<(&str, Vec<Annotation>)>,
    ) -> Self {
        let base_text = base.as_ref().map_or("", |(text, _)| *text);
        let head_unchanged_from = match &head {
            Some((head_text, annotations)) if !annotations.is_empty() => {
                let map = line_map(base_text, head_text);
                annotations
                    .iter()
                    .map(|a| map.new_to_old.get(&a.line).copied())
                    .collect()
            }
            _ => Vec::new(),
        };
        Self {
            path: path.into(),
            previous_path,
            base: base.map(|(_, a)| a),
            head: head.map(|(_, a)| a),
            head_unchanged_from,
        }
    }

    fn base_path(&self) -> &str {
        self.previous_path.as_deref().unwrap_or(&self.path)
    }
}

/// What a pull request does to the debt.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DebtDelta {
    /// Annotations on lines the PR adds, with no counterpart at base.
    pub added: Vec<Annotation>,
    /// Annotations at base that are gone at head (closed when merged).
    pub removed: Vec<Annotation>,
    /// (base, head) versions of one item whose text or metadata changed.
    pub edited: Vec<(Annotation, Annotation)>,
    /// Where (path, line, column) the edited items whose keyword line the
    /// PR wrote sit at head; the others are old code with a new body.
    #[serde(skip)]
    pub(crate) keyword_written: BTreeSet<(String, u32, u32)>,
}

impl DebtDelta {
    /// Items the PR works on: removed plus edited (what a sprint ledger
    /// counts as debt paid down).
    pub fn paid(&self) -> u32 {
        u32::try_from(self.removed.len() + self.edited.len()).unwrap_or(u32::MAX)
    }

    /// Whether the PR wrote the keyword line of `head`, an edited item's
    /// head version.
    pub fn wrote_keyword_line(&self, head: &Annotation) -> bool {
        self.keyword_written
            .contains(&(head.path.clone(), head.line, head.column))
    }

    /// True when the PR neither adds, removes nor edits debt.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.edited.is_empty()
    }

    /// How many items were added, removed and edited (the marker's numbers).
    pub fn counts(&self) -> DeltaCounts {
        let n = |len: usize| u32::try_from(len).unwrap_or(u32::MAX);
        DeltaCounts {
            added: n(self.added.len()),
            removed: n(self.removed.len()),
            edited: n(self.edited.len()),
        }
    }
}

/// The numbers carried by the sticky comment's hidden marker; its
/// `paid()` is [`DebtDelta::paid`] of the counted delta.
pub use paydown_markers::DeltaCounts;

/// Line diffs of files larger than this give up on a minimal diff after
/// this long (the result stays correct, only less tight).
const DIFF_TIMEOUT: Duration = Duration::from_millis(500);

/// Which head lines the PR added, and where unchanged base lines went.
#[derive(Debug, Default)]
pub(crate) struct LineMap {
    /// 1-based head lines inserted or replaced by the PR.
    pub added: BTreeSet<u32>,
    /// 1-based head line → the base line it is an unchanged copy of.
    pub new_to_old: HashMap<u32, u32>,
}

/// Lines the PR adds (`head` vs `base`) and the unchanged line mapping.
pub(crate) fn line_map(base: &str, head: &str) -> LineMap {
    let diff = similar::TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(base, head);
    let mut map = LineMap::default();
    let line = |index: usize| u32::try_from(index + 1).unwrap_or(u32::MAX);
    for op in diff.ops() {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => {
                for (o, n) in old.zip(new) {
                    map.new_to_old.insert(line(n), line(o));
                }
            }
            similar::DiffTag::Insert | similar::DiffTag::Replace => {
                map.added.extend(new.map(line));
            }
            similar::DiffTag::Delete => {}
        }
    }
    map
}

/// Above this many unpaired base items in one file, only exact texts are
/// paired there (a rewrite of a file with thousands of items would
/// otherwise compare every removed text with every added one).
const MAX_SIMILARITY_CANDIDATES: usize = 500;

/// An annotation still waiting for a partner, with what matching needs.
struct Pending<'a> {
    annotation: &'a Annotation,
    /// The file's base path (for head items: where it was before a rename).
    file_key: &'a str,
    /// The id to compare with base ids.
    match_id: String,
    /// Head items: whether the PR added the keyword line.
    on_added_line: bool,
}

/// The delta over all readable changed files of a PR.
pub fn compute_delta(files: &[FileVersions]) -> DebtDelta {
    let mut delta = DebtDelta::default();
    let mut bases: Vec<Pending<'_>> = Vec::new();
    let mut heads: Vec<Pending<'_>> = Vec::new();
    let empty: Vec<Annotation> = Vec::new();
    for file in files {
        let base = file.base.as_ref().unwrap_or(&empty);
        let base_at_line: HashMap<u32, usize> =
            base.iter().enumerate().map(|(i, a)| (a.line, i)).collect();
        let mut base_taken = vec![false; base.len()];
        if let Some(head) = &file.head {
            // Ids the head items would have under the old path, so a rename
            // alone keeps derived ids comparable.
            let renamed_ids: Option<Vec<String>> = file.previous_path.as_ref().map(|old| {
                let mut copy = head.clone();
                assign_ids(old, &mut copy);
                copy.into_iter().map(|a| a.id).collect()
            });
            for (i, h) in head.iter().enumerate() {
                let unchanged_from = file.head_unchanged_from.get(i).copied().flatten();
                let same_line = unchanged_from
                    .and_then(|old| base_at_line.get(&old))
                    .filter(|&&b| !base_taken[b]);
                if let Some(&b) = same_line {
                    base_taken[b] = true;
                    classify_pair(&mut delta, &base[b], h, false);
                    continue;
                }
                let match_id = renamed_ids
                    .as_ref()
                    .and_then(|ids| ids.get(i).cloned())
                    .unwrap_or_else(|| h.id.clone());
                heads.push(Pending {
                    annotation: h,
                    file_key: file.base_path(),
                    match_id,
                    on_added_line: unchanged_from.is_none(),
                });
            }
        }
        for (b, annotation) in base.iter().enumerate() {
            if !base_taken[b] {
                bases.push(Pending {
                    annotation,
                    file_key: file.base_path(),
                    match_id: annotation.id.clone(),
                    on_added_line: false,
                });
            }
        }
    }
    let (pairs, base_left, head_left) = match_pending(&bases, &heads);
    for (b, h) in pairs {
        let head = &heads[h];
        classify_pair(
            &mut delta,
            bases[b].annotation,
            head.annotation,
            head.on_added_line,
        );
    }
    delta.removed = base_left
        .into_iter()
        .map(|b| bases[b].annotation.clone())
        .collect();
    // A head item on an unchanged line with no base partner (e.g. a comment
    // that became one because an earlier line changed) was not written by
    // this PR: it is not reported as added.
    delta.added = head_left
        .into_iter()
        .filter(|&h| heads[h].on_added_line)
        .map(|h| heads[h].annotation.clone())
        .collect();
    let by_place = |a: &Annotation, b: &Annotation| {
        a.path
            .cmp(&b.path)
            .then(a.line.cmp(&b.line))
            .then(a.column.cmp(&b.column))
    };
    delta.added.sort_by(by_place);
    delta.removed.sort_by(by_place);
    delta.edited.sort_by(|x, y| by_place(&x.1, &y.1));
    delta
}

/// Records `(base, head)` as edited unless the item is unchanged;
/// `written`: the PR wrote the head's keyword line.
fn classify_pair(delta: &mut DebtDelta, base: &Annotation, head: &Annotation, written: bool) {
    let same = base.keyword == head.keyword
        && base.text == head.text
        && base.body == head.body
        && base.metadata == head.metadata;
    if !same {
        if written {
            delta
                .keyword_written
                .insert((head.path.clone(), head.line, head.column));
        }
        delta.edited.push((base.clone(), head.clone()));
    }
}

/// Pairs leftover base and head items: ids first, then the reconcile
/// cascade. Returns the pairs and the unmatched indexes of each side.
fn match_pending(
    bases: &[Pending<'_>],
    heads: &[Pending<'_>],
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let mut base_pair: Vec<Option<usize>> = vec![None; bases.len()];
    let mut head_pair: Vec<Option<usize>> = vec![None; heads.len()];
    let mut pairs = Vec::new();
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (b, base) in bases.iter().enumerate() {
        by_id.entry(base.match_id.as_str()).or_default().push(b);
    }
    for (h, head) in heads.iter().enumerate() {
        let candidate = by_id
            .get(head.match_id.as_str())
            .and_then(|list| list.iter().copied().find(|&b| base_pair[b].is_none()));
        if let Some(b) = candidate {
            base_pair[b] = Some(h);
            head_pair[h] = Some(b);
            pairs.push((b, h));
        }
    }
    // Unpaired base items indexed by file (edits in place) and by exact
    // text (moves between files), so the work grows with the items of one
    // file, not with the whole PR squared.
    let base_texts: Vec<String> = bases
        .iter()
        .map(|b| normalise_text(&b.annotation.text))
        .collect();
    let mut by_file: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_text: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (b, base) in bases.iter().enumerate() {
        if base_pair[b].is_none() {
            by_file.entry(base.file_key).or_default().push(b);
            by_text
                .entry((base.annotation.keyword.as_str(), base_texts[b].as_str()))
                .or_default()
                .push(b);
        }
    }
    // (tier, similarity, base, head): lower tier first, then more similar.
    let mut candidates: Vec<(u8, f64, usize, usize)> = Vec::new();
    for (h, head) in heads.iter().enumerate() {
        if head_pair[h].is_some() {
            continue;
        }
        let keyword = head.annotation.keyword.as_str();
        let new_text = normalise_text(&head.annotation.text);
        let same_file = by_file.get(head.file_key).map_or(&[][..], Vec::as_slice);
        let compare_similar = same_file.len() <= MAX_SIMILARITY_CANDIDATES;
        for &b in same_file {
            if bases[b].annotation.keyword != keyword {
                continue;
            }
            if base_texts[b] == new_text {
                candidates.push((0, 1.0, b, h));
            } else if compare_similar {
                let score = similarity(&base_texts[b], &new_text);
                if score >= EDIT_SIMILARITY {
                    candidates.push((1, score, b, h));
                }
            }
        }
        for &b in by_text
            .get(&(keyword, new_text.as_str()))
            .into_iter()
            .flatten()
        {
            if bases[b].file_key != head.file_key {
                candidates.push((2, 1.0, b, h));
            }
        }
    }
    candidates.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then_with(|| y.1.partial_cmp(&x.1).unwrap_or(Ordering::Equal))
            .then_with(|| x.2.cmp(&y.2))
            .then_with(|| x.3.cmp(&y.3))
    });
    for (_, _, b, h) in candidates {
        if base_pair[b].is_none() && head_pair[h].is_none() {
            base_pair[b] = Some(h);
            head_pair[h] = Some(b);
            pairs.push((b, h));
        }
    }
    let base_left = (0..bases.len())
        .filter(|&b| base_pair[b].is_none())
        .collect();
    let head_left = (0..heads.len())
        .filter(|&h| head_pair[h].is_none())
        .collect();
    (pairs, base_left, head_left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydown_annotations::{ScanOptions, scan_text};

    fn side<'a>(path: &str, text: &'a str) -> (&'a str, Vec<Annotation>) {
        (
            text,
            scan_text(path, text, &ScanOptions::default()).unwrap(),
        )
    }

    fn modified(path: &str, base: &str, head: &str) -> FileVersions {
        FileVersions::new(path, None, Some(side(path, base)), Some(side(path, head)))
    }

    fn texts(list: &[Annotation]) -> Vec<(&str, u32)> {
        list.iter().map(|a| (a.text.as_str(), a.line)).collect()
    }

    #[test]
    fn given_two_new_and_one_deleted_annotation_then_two_added_one_removed() {
        let base = "fn a() {}\n// TODO: old item\nfn b() {}\n";
        let head = "// FIXME: first new\nfn a() {}\nfn b() {}\n// TODO: second new\n";
        let delta = compute_delta(&[modified("src/lib.rs", base, head)]);
        assert_eq!(
            texts(&delta.added),
            vec![("first new", 1), ("second new", 4)]
        );
        assert_eq!(texts(&delta.removed), vec![("old item", 2)]);
        assert!(delta.edited.is_empty());
        assert_eq!(delta.paid(), 1);
    }

    #[test]
    fn given_an_annotation_pushed_down_by_new_code_then_nothing_is_reported() {
        let base = "// TODO: keep me\nfn a() {}\n";
        let head = "fn new() {}\nfn other() {}\n// TODO: keep me\nfn a() {}\n";
        let delta = compute_delta(&[modified("a.rs", base, head)]);
        assert!(delta.is_empty(), "{delta:?}");
    }

    #[test]
    fn given_an_annotation_moved_within_the_file_then_it_is_not_added() {
        let base = "// TODO: move me\nfn a() {}\nfn b() {}\n";
        let head = "fn a() {}\nfn b() {}\n// TODO: move me\n";
        let delta = compute_delta(&[modified("a.rs", base, head)]);
        assert!(delta.is_empty(), "{delta:?}");
    }

    #[test]
    fn given_text_edited_in_place_then_it_is_edited_not_added_and_removed() {
        let base = "// TODO: flush the cache before retrying\n";
        let head = "// TODO: flush the caches before retrying twice\n";
        let delta = compute_delta(&[modified("a.rs", base, head)]);
        assert!(delta.added.is_empty() && delta.removed.is_empty());
        assert_eq!(delta.edited.len(), 1);
        assert_eq!(
            delta.edited[0].1.text,
            "flush the caches before retrying twice"
        );
    }

    #[test]
    fn given_metadata_added_to_an_existing_item_then_it_is_edited() {
        let delta = compute_delta(&[modified(
            "a.py",
            "# DEBT: one query per line\n",
            "# DEBT(@alice, cost=3d): one query per line\n",
        )]);
        assert_eq!(delta.edited.len(), 1);
        assert_eq!(delta.edited[0].1.metadata.owners, vec!["alice"]);
    }

    #[test]
    fn given_unrelated_text_replacing_an_item_then_one_removed_one_added() {
        let delta = compute_delta(&[modified(
            "a.rs",
            "// TODO: flush the cache\n",
            "// TODO: rewrite the parser in nom\n",
        )]);
        assert_eq!(texts(&delta.added), vec![("rewrite the parser in nom", 1)]);
        assert_eq!(texts(&delta.removed), vec![("flush the cache", 1)]);
    }

    #[test]
    fn given_a_copy_pasted_above_an_identical_item_then_only_the_copy_is_added() {
        let base = "fn a() {}\n// TODO: same\n";
        let head = "// TODO: same\nfn a() {}\n// TODO: same\n";
        let delta = compute_delta(&[modified("a.rs", base, head)]);
        assert_eq!(texts(&delta.added), vec![("same", 1)]);
        assert!(delta.removed.is_empty() && delta.edited.is_empty());
    }

    #[test]
    fn given_a_renamed_file_then_its_items_are_neither_added_nor_removed() {
        let text = "// TODO: survives the rename\nfn a() {}\n";
        let moved_down = format!("fn z() {{}}\n{text}");
        let file = FileVersions::new(
            "src/new.rs",
            Some("src/old.rs".into()),
            Some(side("src/old.rs", text)),
            Some(side("src/new.rs", &moved_down)),
        );
        assert!(compute_delta(&[file]).is_empty());
    }

    #[test]
    fn given_an_item_cut_from_one_file_and_pasted_into_another_then_it_is_moved() {
        let delta = compute_delta(&[
            modified("a.rs", "// TODO: travelling item\n", "fn a() {}\n"),
            modified(
                "b.rs",
                "fn b() {}\n",
                "fn b() {}\n// TODO: travelling item\n",
            ),
        ]);
        assert!(delta.is_empty(), "{delta:?}");
    }

    #[test]
    fn given_added_and_deleted_files_then_their_items_are_added_and_removed() {
        let added = FileVersions::new(
            "new.rs",
            None,
            None,
            Some(side("new.rs", "// HACK: brand new\n")),
        );
        let deleted = FileVersions::new(
            "gone.rs",
            None,
            Some(side("gone.rs", "// XXX: going away\n")),
            None,
        );
        let delta = compute_delta(&[added, deleted]);
        assert_eq!(texts(&delta.added), vec![("brand new", 1)]);
        assert_eq!(texts(&delta.removed), vec![("going away", 1)]);
    }

    #[test]
    fn given_an_explicit_id_kept_while_text_and_file_change_then_it_is_edited() {
        let delta = compute_delta(&[
            modified(
                "a.rs",
                "// DEBT(id=orders-n1): one query per line
",
                "fn a() {}
",
            ),
            modified(
                "b.rs",
                "fn b() {}
",
                "fn b() {}
// DEBT(id=orders-n1): batch the order queries
",
            ),
        ]);
        assert!(
            delta.added.is_empty() && delta.removed.is_empty(),
            "{delta:?}"
        );
        assert_eq!(delta.edited.len(), 1);
        assert_eq!(delta.edited[0].1.path, "b.rs");
    }

    #[test]
    fn given_thousands_of_unrelated_items_across_files_then_matching_stays_fast() {
        let old: String = (0..3000)
            .map(|i| format!("// TODO: retire legacy path {i}\n"))
            .collect();
        let new: String = (0..3000)
            .map(|i| format!("// TODO: add feature flag {i}\n"))
            .collect();
        let started = std::time::Instant::now();
        let delta = compute_delta(&[modified("old.rs", &old, ""), modified("new.rs", "", &new)]);
        assert_eq!((delta.added.len(), delta.removed.len()), (3000, 3000));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn line_map_marks_inserted_lines_and_maps_unchanged_ones() {
        let map = line_map("a\nb\nc\n", "a\nx\nb\nc\n");
        assert_eq!(map.added.iter().copied().collect::<Vec<_>>(), vec![2]);
        assert_eq!(map.new_to_old.get(&3), Some(&2));
        assert_eq!(map.new_to_old.get(&4), Some(&3));
    }
}
