//! End to end: file text in, annotations with ids out, through the lexer,
//! the grammar and the id rules together.

use paydown_annotations::{Annotation, Cost, CostUnit, ScanOptions, scan_text};

fn scan(path: &str, text: &str) -> Vec<Annotation> {
    scan_text(path, text, &ScanOptions::default()).expect("a known file type")
}

/// (line, keyword, text, body) of each annotation, for compact asserts.
fn summary(found: &[Annotation]) -> Vec<(u32, &str, &str, &str)> {
    found
        .iter()
        .map(|a| (a.line, a.keyword.as_str(), a.text.as_str(), a.body.as_str()))
        .collect()
}

#[test]
fn given_rust_file_then_comments_are_annotations_and_strings_are_not() {
    let text = r#"
fn main() {
    let s = "TODO: not a comment";
    // TODO(@alice, cost=3d): flush the cache
    //   before retrying
    let url = "http://x"; // FIXME: trailing comment
    /* HACK(#87) work around the v1 API's pagination bug */
    /// TODO: doc comment
}
"#;
    let found = scan("src/main.rs", text);
    assert_eq!(
        summary(&found),
        [
            (4, "TODO", "flush the cache", "before retrying"),
            (6, "FIXME", "trailing comment", ""),
            (7, "HACK", "work around the v1 API's pagination bug", ""),
            (8, "TODO", "doc comment", ""),
        ]
    );
    let todo = &found[0];
    assert_eq!((todo.column, todo.end_line), (8, 5));
    assert_eq!(todo.metadata.owners, ["alice"]);
    assert_eq!(
        todo.metadata.cost,
        Some(Cost {
            amount: 3,
            unit: CostUnit::Days
        })
    );
    assert_eq!(found[2].metadata.issue, Some(87));
    assert!(found.iter().all(|a| !a.id.is_empty()));
}

#[test]
fn given_python_file_then_ruff_style_annotations_are_read_and_docstrings_skipped() {
    let text = r##"def f():
    """TODO: inside a docstring"""
    # TODO(charlie): this is a todo
    # TODO @dana: another one
    x = "# TODO: in a string"
    # TODOS are not annotations
    return x
"##;
    let found = scan("app/f.py", text);
    let owners: Vec<_> = found.iter().map(|a| a.metadata.owners.clone()).collect();
    assert_eq!(
        summary(&found),
        [
            (3, "TODO", "this is a todo", ""),
            (4, "TODO", "another one", "")
        ]
    );
    assert_eq!(
        owners,
        [vec!["charlie".to_string()], vec!["dana".to_string()]]
    );
}

#[test]
fn given_sql_and_block_comments_then_spec_examples_are_read() {
    let sql = "-- DEBT(id=orders-n-plus-one, cost=5pt): one query per order line\nSELECT 1;\n";
    let found = scan("db/orders.sql", sql);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "orders-n-plus-one");

    let c = "/*\n * TODO: refactor\n * the whole parser\n *\n * unrelated\n */\nint x;\n";
    let found = scan("src/parse.c", c);
    assert_eq!(
        summary(&found),
        [(2, "TODO", "refactor", "the whole parser")]
    );
    assert_eq!(found[0].end_line, 3);
}

#[test]
fn given_lines_inserted_above_then_ids_are_unchanged() {
    let before = scan(
        "src/lib.rs",
        "// TODO: flush the cache\nfn a() {}\n// TODO: flush the cache\n",
    );
    let after = scan(
        "src/lib.rs",
        "use std::io;\n\nfn b() {}\n// TODO: flush the cache\nfn a() {}\n// TODO: flush the cache\n",
    );
    let ids = |found: &[Annotation]| found.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&before), ids(&after));
    assert_eq!(before[1].id, format!("{}-2", before[0].id));
    assert_ne!(
        ids(&before),
        ids(&scan("src/other.rs", "// TODO: flush the cache\n"))
    );
}

#[test]
fn given_keyword_free_or_unknown_files_then_nothing_or_none() {
    assert_eq!(scan("src/lib.rs", "fn main() {}\n"), []);
    assert_eq!(
        scan_text("data.unknownext", "TODO: x", &ScanOptions::default()),
        None
    );
}

#[test]
fn given_require_colon_then_only_colon_annotations_are_found_end_to_end() {
    let options = ScanOptions::new(vec!["TODO".to_string()], true);
    let found =
        scan_text("a.sh", "# TODO fix later\n# TODO: really\n", &options).expect("shell is known");
    assert_eq!(summary(&found), [(2, "TODO", "really", "")]);
}

#[test]
fn given_one_annotation_in_each_comment_syntax_then_each_is_found_with_its_text() {
    let cases = [
        ("index.html", "<p>x</p>\n<!-- TODO: alt text -->\n"),
        (
            "ci.yml",
            "on: push # not a TODO: here\n# TODO: pin the action\n",
        ),
        (
            "lib.hs",
            "{- outer {- nested -} TODO: not at line start -}\n-- TODO: alt text\n",
        ),
        ("A.java", "/**\n * TODO: pin the action\n */\nclass A {}\n"),
        ("lib.rs", "//! TODO: crate docs\n"),
        ("Dockerfile", "FROM x\n# FIXME: pin the action\n"),
    ];
    for (path, text) in cases {
        let found = scan(path, text);
        let texts: Vec<_> = found.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts.len(), 1, "{path}: {found:?}");
        assert!(
            ["alt text", "pin the action", "crate docs"].contains(&texts[0]),
            "{path}: {texts:?}"
        );
    }
}
