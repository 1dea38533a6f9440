//! Stable ids for debt items, and the text similarity used to follow an
//! annotation whose text was edited.
//!
//! An explicit `id=` wins. Otherwise the id is `<keyword>-<12 hex>`, the hex
//! being the start of SHA-256 over path, keyword and [`normalise_text`] of the
//! text. Line numbers are not hashed, so moving an annotation or editing code
//! around it keeps its id. Identical annotations in one file are told apart
//! by order: the first keeps the plain id, the n-th gets `-n`, so adding a
//! copy below an existing one leaves the existing id alone.
//!
//! To see which ids a file's annotations had under a previous path (a rename),
//! run [`assign_ids`] again with the old path.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::Annotation;

/// Hex characters of the hash kept in a derived id: 48 bits, ample for the
/// annotations of one repository.
const HASH_HEX_LEN: usize = 12;

/// Longest explicit id accepted; ids end up in issue markers and URLs.
const MAX_EXPLICIT_ID_LEN: usize = 100;

/// Fills `id` on every annotation of one file, in file order.
///
/// An explicit id that is unusable, or already used by an earlier annotation
/// of the file, gets a problem message and a derived id instead.
pub fn assign_ids(path: &str, found: &mut [Annotation]) {
    let mut used: HashSet<String> = HashSet::new();
    let mut derive: Vec<usize> = Vec::new();
    for (index, annotation) in found.iter_mut().enumerate() {
        match annotation.metadata.id.clone() {
            Some(id) if !is_valid_explicit_id(&id) => {
                annotation
                    .metadata
                    .problems
                    .push(format!("id `{id}` is not usable; using a derived id"));
                derive.push(index);
            }
            Some(id) if used.contains(&id) => {
                annotation.metadata.problems.push(format!(
                    "id `{id}` is already used by an earlier annotation in this file; using a derived id"
                ));
                derive.push(index);
            }
            Some(id) => {
                used.insert(id.clone());
                annotation.id = id;
            }
            None => derive.push(index),
        }
    }
    let mut seen: HashMap<String, u32> = HashMap::new();
    for index in derive {
        let annotation = &mut found[index];
        let base = derived_id(path, &annotation.keyword, &annotation.text);
        let count = seen.entry(base.clone()).or_insert(0);
        let id = loop {
            *count += 1;
            let candidate = if *count == 1 {
                base.clone()
            } else {
                format!("{base}-{count}")
            };
            // Only an explicit id spelled like a derived one can collide.
            if !used.contains(&candidate) {
                break candidate;
            }
        };
        used.insert(id.clone());
        annotation.id = id;
    }
}

/// Whether an `id=` value can be used verbatim: 1 to 100 characters, each a
/// letter, digit or one of `-_./:#+@` (no white space, nothing that would
/// break an HTML comment marker or a URL).
pub(crate) fn is_valid_explicit_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_EXPLICIT_ID_LEN
        && id.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '#' | '+' | '@')
        })
}

fn derived_id(path: &str, keyword: &str, text: &str) -> String {
    let mut hasher = Sha256::new();
    // Separators keep ("a", "bc") and ("ab", "c") apart.
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(keyword.as_bytes());
    hasher.update([0]);
    hasher.update(normalise_text(text).as_bytes());
    let digest = hex::encode(hasher.finalize());
    let short = digest.get(..HASH_HEX_LEN).unwrap_or(&digest);
    format!("{}-{short}", slug(keyword))
}

/// A readable id prefix from a keyword: `TODO` → `todo`, `TECH DEBT` → `tech-debt`.
fn slug(keyword: &str) -> String {
    let slug: String = keyword
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "debt".to_string()
    } else {
        slug.to_string()
    }
}

/// The text as compared for identity: lowercase, white space collapsed to
/// single spaces, trailing punctuation (`.,;:!?…-`) removed. Edits that only
/// touch case, wrapping or a final full stop keep the id.
pub fn normalise_text(text: &str) -> String {
    let lower = text.to_lowercase();
    let collapsed = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_end_matches(|c: char| c.is_whitespace() || ".,;:!?\u{2026}-".contains(c))
        .to_string()
}

/// How alike two annotation texts are, from 0 (nothing shared) to 1 (equal
/// once normalised): the Sørensen–Dice coefficient over character bigrams
/// of the normalised texts.
///
/// Bigrams tolerate typo fixes, reworded endings and reordered words, which
/// is what editing a TODO in place looks like. Counted over characters, not
/// bytes, so non-Latin texts score like Latin ones (`strsim::sorensen_dice`
/// divides by byte lengths).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalise_text(a), normalise_text(b));
    if a == b {
        return 1.0;
    }
    let a_bigrams = bigrams(&a);
    let b_bigrams = bigrams(&b);
    if a_bigrams.is_empty() || b_bigrams.is_empty() {
        return 0.0;
    }
    let mut counts: HashMap<(char, char), usize> = HashMap::new();
    for bigram in &a_bigrams {
        *counts.entry(*bigram).or_insert(0) += 1;
    }
    let mut shared = 0usize;
    for bigram in &b_bigrams {
        if let Some(count) = counts.get_mut(bigram).filter(|count| **count > 0) {
            *count -= 1;
            shared += 1;
        }
    }
    (2 * shared) as f64 / (a_bigrams.len() + b_bigrams.len()) as f64
}

/// Bigrams within words: pairs spanning a space mostly encode common short
/// words ("e t", "he") and make unrelated sentences look alike.
fn bigrams(text: &str) -> Vec<(char, char)> {
    text.split(' ')
        .flat_map(|word| {
            let chars: Vec<char> = word.chars().collect();
            chars
                .windows(2)
                .map(|pair| (pair[0], pair[1]))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;

    fn annotation(keyword: &str, text: &str, line: u32) -> Annotation {
        Annotation {
            path: "src/a.rs".to_string(),
            line,
            column: 4,
            end_line: line,
            keyword: keyword.to_string(),
            text: text.to_string(),
            body: String::new(),
            metadata: Metadata::default(),
            id: String::new(),
        }
    }

    fn with_id(mut a: Annotation, id: &str) -> Annotation {
        a.metadata.id = Some(id.to_string());
        a
    }

    fn ids(path: &str, mut found: Vec<Annotation>) -> Vec<String> {
        assign_ids(path, &mut found);
        found.into_iter().map(|a| a.id).collect()
    }

    #[test]
    fn given_annotation_then_derived_id_is_keyword_and_twelve_hex() {
        let id = &ids("src/a.rs", vec![annotation("TODO", "flush the cache", 3)])[0];
        let (prefix, hash) = id.split_once('-').unwrap();
        assert_eq!(prefix, "todo");
        assert_eq!(hash.len(), HASH_HEX_LEN);
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn given_annotation_moved_to_another_line_then_id_is_unchanged() {
        let before = ids("src/a.rs", vec![annotation("TODO", "flush the cache", 3)]);
        let after = ids("src/a.rs", vec![annotation("TODO", "flush the cache", 300)]);
        assert_eq!(before, after);
    }

    #[test]
    fn given_case_spacing_or_final_punctuation_edits_then_id_is_unchanged() {
        let before = ids("src/a.rs", vec![annotation("TODO", "Flush the  cache.", 3)]);
        let after = ids("src/a.rs", vec![annotation("TODO", "flush the cache", 3)]);
        assert_eq!(before, after);
    }

    #[test]
    fn given_different_path_keyword_or_text_then_id_differs() {
        let base = ids("src/a.rs", vec![annotation("TODO", "x", 1)]);
        assert_ne!(base, ids("src/b.rs", vec![annotation("TODO", "x", 1)]));
        assert_ne!(base, ids("src/a.rs", vec![annotation("FIXME", "x", 1)]));
        assert_ne!(base, ids("src/a.rs", vec![annotation("TODO", "y", 1)]));
    }

    #[test]
    fn given_identical_annotations_then_later_ones_get_order_suffixes() {
        let found = ids(
            "src/a.rs",
            vec![
                annotation("TODO", "same", 1),
                annotation("TODO", "other", 2),
                annotation("TODO", "same", 3),
                annotation("TODO", "Same.", 4),
            ],
        );
        assert_eq!(found[2], format!("{}-2", found[0]));
        assert_eq!(found[3], format!("{}-3", found[0]));
        assert_ne!(found[1], found[0]);
    }

    #[test]
    fn given_a_duplicate_added_below_then_the_first_keeps_its_id() {
        let alone = ids("src/a.rs", vec![annotation("TODO", "same", 1)]);
        let with_copy = ids(
            "src/a.rs",
            vec![annotation("TODO", "same", 1), annotation("TODO", "same", 9)],
        );
        assert_eq!(alone[0], with_copy[0]);
    }

    #[test]
    fn given_explicit_id_then_it_is_used_verbatim_and_not_counted_for_order() {
        let found = ids(
            "src/a.rs",
            vec![
                with_id(annotation("DEBT", "same", 1), "orders-n-plus-one"),
                annotation("DEBT", "same", 2),
            ],
        );
        assert_eq!(found[0], "orders-n-plus-one");
        assert_eq!(
            found[1],
            ids("src/a.rs", vec![annotation("DEBT", "same", 7)])[0]
        );
    }

    #[test]
    fn given_explicit_id_used_twice_then_the_second_gets_a_problem_and_derived_id() {
        let mut found = vec![
            with_id(annotation("DEBT", "a", 1), "dup"),
            with_id(annotation("DEBT", "b", 2), "dup"),
        ];
        assert_ids_unique_after_assign(&mut found);
        assert_eq!(found[0].id, "dup");
        assert!(found[1].id.starts_with("debt-"));
        assert_eq!(found[1].metadata.problems.len(), 1);
        assert!(found[0].metadata.problems.is_empty());
    }

    #[test]
    fn given_unusable_explicit_id_then_problem_and_derived_id() {
        let mut found = vec![with_id(annotation("DEBT", "a", 1), "has space")];
        assert_ids_unique_after_assign(&mut found);
        assert!(found[0].id.starts_with("debt-"));
        assert_eq!(found[0].metadata.problems.len(), 1);
    }

    #[test]
    fn given_explicit_id_spelled_like_a_derived_one_then_ids_stay_unique() {
        let derived = ids("src/a.rs", vec![annotation("TODO", "x", 1)])[0].clone();
        let mut found = vec![
            with_id(annotation("TODO", "y", 1), &derived),
            annotation("TODO", "x", 2),
        ];
        assert_ids_unique_after_assign(&mut found);
        assert_eq!(found[0].id, derived);
        assert_eq!(found[1].id, format!("{derived}-2"));
    }

    fn assert_ids_unique_after_assign(found: &mut [Annotation]) {
        assign_ids("src/a.rs", found);
        let unique: HashSet<_> = found.iter().map(|a| a.id.clone()).collect();
        assert_eq!(unique.len(), found.len(), "{found:?}");
    }

    #[test]
    fn given_odd_keywords_then_prefix_is_a_readable_slug() {
        assert_eq!(slug("TECH DEBT"), "tech-debt");
        assert_eq!(slug("???"), "debt");
        assert!(ids("p", vec![annotation("XXX", "", 1)])[0].starts_with("xxx-"));
    }

    #[test]
    fn given_explicit_id_rules_then_only_safe_ids_are_accepted() {
        for good in [
            "orders-n-plus-one",
            "PD_12",
            "billing/retries",
            "a.b:c#1+x@y",
            "café",
        ] {
            assert!(is_valid_explicit_id(good), "{good}");
        }
        let too_long = "x".repeat(MAX_EXPLICIT_ID_LEN + 1);
        for bad in [
            "",
            "a b",
            "a\tb",
            "a-->b",
            "<x>",
            "\"q\"",
            too_long.as_str(),
        ] {
            assert!(!is_valid_explicit_id(bad), "{bad}");
        }
    }

    #[test]
    fn given_texts_then_normalise_lowercases_collapses_and_strips_trailing_punctuation() {
        assert_eq!(normalise_text("  Fix   the\tCACHE!!. "), "fix the cache");
        assert_eq!(normalise_text("call f(x)."), "call f(x)");
        assert_eq!(normalise_text("why?..."), "why");
        assert_eq!(normalise_text(""), "");
    }

    #[test]
    fn given_similar_and_different_texts_then_similarity_orders_them() {
        assert_eq!(similarity("Fix the cache.", "fix the  cache"), 1.0);
        let edited = similarity(
            "retries double-charge",
            "retries double-charge customers on timeout",
        );
        let typo = similarity(
            "flush the cahce before retrying",
            "flush the cache before retrying",
        );
        let unrelated = similarity(
            "flush the cache before retrying",
            "rename the billing module",
        );
        assert!(typo > 0.8, "{typo}");
        assert!(edited > 0.6, "{edited}");
        assert!(unrelated < 0.3, "{unrelated}");
        assert_eq!(similarity("", "x"), 0.0);
        assert_eq!(similarity("ab", "cd"), 0.0);
    }

    #[test]
    fn given_non_latin_texts_then_similarity_counts_characters() {
        let same_but_one = similarity(
            "キャッシュを消す前に再試行",
            "キャッシュを消す前に再試行する",
        );
        assert!(same_but_one > 0.85, "{same_but_one}");
    }

    #[test]
    fn given_any_pair_then_similarity_is_symmetric_and_within_bounds() {
        let texts = [
            "",
            "a",
            "ab",
            "fix it",
            "fix it now",
            "aaaa",
            "aaab",
            "ünïcödé text",
        ];
        for a in texts {
            for b in texts {
                let s = similarity(a, b);
                assert!((0.0..=1.0).contains(&s), "{a:?} {b:?} {s}");
                assert_eq!(s, similarity(b, a));
            }
        }
    }
}
