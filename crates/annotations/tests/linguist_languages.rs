//! Languages covered through GitHub Linguist's database (with tokei's
//! comment markers and the hand-checked overrides in
//! scripts/gen_languages.py), each with one real annotation and a decoy: a
//! keyword in a string, an identifier or code, which must not be reported.

use paydown_annotations::languages::{PathClass, classify_path, language_by_alias};
use paydown_annotations::{ScanOptions, language_for_path, scan_text};

/// (path, source, the line numbers of the real annotations).
const NEW_LANGUAGES: &[(&str, &str, &[u32])] = &[
    ("a.abap", "* TODO: real\nWRITE 'TODO: no'.\n", &[1]),
    ("a.as", "var s = \"TODO: no\";\n// TODO: real\n", &[2]),
    ("a.agda", "s = \"-- TODO: no\"\n-- TODO: real\n", &[2]),
    (
        "a.applescript",
        "set s to \"-- TODO: no\"\n-- TODO: real\n",
        &[2],
    ),
    ("a.bicep", "var s = 'TODO: no'\n// TODO: real\n", &[2]),
    ("a.bsl", "s = \"TODO: no\";\n// TODO: real\n", &[2]),
    ("a.cairo", "let s = 'TODO: no';\n// TODO: real\n", &[2]),
    (
        "a.cbl",
        "       DISPLAY \"TODO: no\".\n      * TODO: real\n",
        &[2],
    ),
    (
        "a.capnp",
        "const s :Text = \"# TODO: no\";\n# TODO: real\n",
        &[2],
    ),
    (
        "a.ceylon",
        "String s = \"// TODO: no\";\n// TODO: real\n",
        &[2],
    ),
    ("a.ecl", "TODO_no := 1;\n// TODO: real\n", &[2]),
    ("a.chpl", "var s = \"// TODO: no\";\n// TODO: real\n", &[2]),
    ("a.cr", "s = \"# TODO: no\"\n# TODO: real\n", &[2]),
    ("a.cue", "s: \"// TODO: no\"\n// TODO: real\n", &[2]),
    ("a.dfy", "var s := \"// TODO: no\";\n// TODO: real\n", &[2]),
    ("a.dhall", "let s = \"-- TODO: no\"\n-- TODO: real\n", &[2]),
    ("a.fnl", "(local s \"; TODO: no\")\n; TODO: real\n", &[2]),
    ("a.gleam", "let s = \"// TODO: no\"\n// TODO: real\n", &[2]),
    ("a.glsl", "float TODO_no = 1.0;\n// TODO: real\n", &[2]),
    ("a.hack", "$s = \"// TODO: no\";\n// TODO: real\n", &[2]),
    ("a.ha", "let s = \"// TODO: no\";\n// TODO: real\n", &[2]),
    ("a.idr", "s = \"-- TODO: no\"\n-- TODO: real\n", &[2]),
    ("a.janet", "(def s \"# TODO: no\")\n# TODO: real\n", &[2]),
    ("a.kojo", "val s = \"// TODO: no\"\n// TODO: real\n", &[2]),
    ("a.lean", "def s := \"-- TODO: no\"\n-- TODO: real\n", &[2]),
    ("a.ly", "s = \"% TODO: no\"\n% TODO: real\n", &[2]),
    ("a.mo", "let s = \"// TODO: no\";\n// TODO: real\n", &[2]),
    ("a.move", "let s = b\"// TODO: no\";\n// TODO: real\n", &[2]),
    ("a.mojo", "s = \"# TODO: no\"\n# TODO: real\n", &[2]),
    ("a.nu", "let s = \"# TODO: no\"\n# TODO: real\n", &[2]),
    ("a.odin", "s := \"// TODO: no\"\n// TODO: real\n", &[2]),
    ("a.p4", "const bit<8> TODO_no = 1;\n// TODO: real\n", &[2]),
    ("a.pony", "let s = \"// TODO: no\"\n// TODO: real\n", &[2]),
    (
        "a.pp",
        "$s = \"# TODO: no\"\n  ensure => present,\n# TODO: real\n",
        &[3],
    ),
    ("a.qs", "let s = \"// TODO: no\";\n// TODO: real\n", &[2]),
    ("a.raku", "my $s = \"# TODO: no\";\n# TODO: real\n", &[2]),
    ("a.re", "let s = \"// TODO: no\";\n// TODO: real\n", &[2]),
    ("a.rego", "s := \"# TODO: no\"\n# TODO: real\n", &[2]),
    ("a.sas", "data TODO_no; run;\n/* TODO: real */\n", &[2]),
    ("a.smithy", "string TODO_no\n// TODO: real\n", &[2]),
    ("a.st", "s := 'TODO: no'.\n\"TODO: real\"\n", &[2]),
    ("a.tla", "s == \"TODO: no\"\n\\* TODO: real\n", &[2]),
    ("a.v", "module TODO_no;\n// TODO: real\n", &[2]),
    ("a.vala", "var s = \"// TODO: no\";\n// TODO: real\n", &[2]),
    (
        "a.vy",
        "s: String[9] = \"# TODO: no\"\n# TODO: real\n",
        &[2],
    ),
    ("a.wgsl", "let TODO_no = 1;\n// TODO: real\n", &[2]),
    ("a.wl", "s = \"(* TODO: no *)\"\n(* TODO: real *)\n", &[2]),
    (
        "a.xq",
        "let $s := \"(: TODO: no :)\"\n(: TODO: real :)\n",
        &[2],
    ),
    ("a.zeek", "local s = \"# TODO: no\";\n# TODO: real\n", &[2]),
    ("a.bib", "@misc{TODO_no,\n% TODO: real\n}\n", &[2]),
    ("nginx.conf", "set $s \"TODO_no\";\n# TODO: real\n", &[2]),
    ("robots.txt", "Disallow: /TODO_no\n# TODO: real\n", &[2]),
    ("a.dot", "digraph { TODO_no }\n// TODO: real\n", &[2]),
    (
        "docs/a.rst",
        "A TODO: prose.\n\n.. TODO: real\n\n.. note:: TODO\n",
        &[3],
    ),
    ("a.Rmd", "TODO: prose\n<!-- TODO: real -->\n", &[2]),
];

#[test]
fn given_a_newly_covered_language_then_its_comment_is_found_and_its_decoy_is_not() {
    let mut failures = Vec::new();
    for (path, text, want) in NEW_LANGUAGES {
        let got: Option<Vec<u32>> = scan_text(path, text, &ScanOptions::default())
            .map(|found| found.iter().map(|a| a.line).collect());
        if got.as_deref() != Some(*want) {
            let lang = language_for_path(path, text).map(|l| l.name);
            failures.push(format!("{path} ({lang:?}): want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(NEW_LANGUAGES.len() >= 40);
}

fn name(path: &str, text: &str) -> Option<&'static str> {
    language_for_path(path, text).map(|l| l.name)
}

#[test]
fn given_an_extensionless_file_then_emacs_and_vim_modelines_name_its_language() {
    let cases = [
        ("# -*- mode: python -*-\nx = 1\n", Some("Python")),
        ("// -*- C++ -*-\nint x;\n", Some("C++")),
        ("/* -*- Mode: C; tab-width: 4 -*- */\n", Some("C")),
        ("x = 1\n\n# vim: set ft=ruby:\n", Some("Ruby")),
        ("x\n# vi: filetype=sh\n", Some("Shell")),
        ("-- vim: set ts=4 ft=lua :\n", Some("Lua")),
        ("no modeline here\n", None),
        ("-*- mode: no-such-language -*-\n", None),
    ];
    for (text, want) in cases {
        assert_eq!(name("tools/thing", text), want, "{text:?}");
    }
    // Only the first and last five lines are read, as Linguist does.
    let buried = format!("{}# vim: ft=ruby\n{}", "x\n".repeat(10), "y\n".repeat(10));
    assert_eq!(name("tools/thing", &buried), None);
}

#[test]
fn given_a_shebang_naming_a_linguist_interpreter_then_that_language_is_used() {
    assert_eq!(name("bin/x", "#!/usr/bin/env raku\n"), Some("Raku"));
    assert_eq!(name("bin/x", "#!/usr/bin/env nu\n"), Some("Nushell"));
    assert_eq!(name("bin/x", "#!/usr/bin/env python3\n"), Some("Python"));
}

#[test]
fn given_a_shared_extension_then_linguist_heuristics_pick_by_content() {
    // `.pp` is Puppet or Pascal.
    assert_eq!(
        name(
            "a.pp",
            "class nginx {\n  package { 'nginx':\n    ensure => present,\n  }\n}\n"
        ),
        Some("Puppet")
    );
    assert_eq!(
        name("a.pp", "unit Foo;\ninterface\nimplementation\nend.\n"),
        Some("Pascal")
    );
    // Linguist's rules also decide for extensions paydown's own table maps:
    // `.f` and `.for` are Forth or Fortran, `.r` R, Rebol or Rez.
    assert_eq!(
        name("core.for", ": sq dup * ;\n\\ TODO: x\n"),
        Some("Forth")
    );
    assert_eq!(
        name("a.f", "C     comment\n      X = 1\n"),
        Some("Fortran (fixed form)")
    );
    assert_eq!(
        name("a.r", "REBOL [Title: \"x\"]\n; TODO: y\n"),
        Some("Rebol")
    );
    assert_eq!(name("a.r", "x <- 1 # TODO: z\n"), Some("R"));
    // `.pro` is Prolog, IDL, QMake or INI by content.
    assert_eq!(
        name(
            "a.pro",
            "QT += core gui\nHEADERS += a.h\nSOURCES += a.cpp\n"
        ),
        Some("QMake")
    );
}

#[test]
fn given_data_and_binary_types_then_they_are_known_to_need_no_reading() {
    for path in ["a.json", "data/x.csv", "notes.txt"] {
        assert_eq!(classify_path(path), PathClass::NoComments, "{path}");
        assert_eq!(name(path, "# TODO: x\n"), None, "{path}");
    }
    for path in ["a.png", "lib/a.pyc", "fonts/a.woff2"] {
        assert_eq!(classify_path(path), PathClass::Binary, "{path}");
    }
    // A file without an extension may carry a shebang or a modeline, and a
    // known file name is read whatever its extension says.
    for path in [
        "bin/tool",
        "a.rs",
        "Dockerfile",
        "requirements.txt",
        "a.unknownext",
    ] {
        assert_eq!(classify_path(path), PathClass::ReadIt, "{path}");
    }
}

#[test]
fn given_a_linguist_language_name_or_alias_then_it_is_found() {
    let found = |alias: &str| language_by_alias(alias).map(|l| l.name);
    assert_eq!(found("Rust"), Some("Rust"));
    assert_eq!(found("python3"), Some("Python"));
    assert_eq!(found("c++"), Some("C++"));
    assert_eq!(found("Zeek"), Some("Zeek"));
    assert_eq!(found("bro"), Some("Zeek"));
    assert_eq!(found("no-such-language"), None);
}
