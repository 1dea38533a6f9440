//! `paydown scan`, `paydown config check` and `paydown init` as a user runs
//! them: the real binary on real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn paydown(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paydown"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run paydown")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn scan_json(dir: &Path) -> Value {
    let out = paydown(&["scan", "--format", "json", "--quiet", "."], dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("scan --format json prints JSON")
}

/// One line per annotation: where, what, and the metadata that matters.
fn summarise(report: &Value) -> Vec<String> {
    report["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut line = format!(
                "{}:{} {} {}",
                a["path"].as_str().unwrap(),
                a["line"],
                a["keyword"].as_str().unwrap(),
                a["text"].as_str().unwrap()
            );
            if let Some(body) = a["body"].as_str().filter(|b| !b.is_empty()) {
                line.push_str(&format!(" | body: {body}"));
            }
            let meta = &a["metadata"];
            if !meta.as_object().unwrap().is_empty() {
                line.push_str(&format!(" | {meta}"));
            }
            line
        })
        .collect()
}

#[test]
fn scanning_a_polyglot_tree_reports_exactly_the_real_annotations() {
    // Given a tree with files in 15 languages, whose decoys are keywords in
    // strings, docstrings, identifiers, mid-comment, prose and nested
    // comments, plus a binary and an unknown file type,
    let dir = fixture("polyglot");

    // when it is scanned,
    let report = scan_json(&dir);

    // then exactly the real annotations come back, with their metadata
    // (serde_json prints object keys sorted).
    let expected = [
        "Dockerfile:2 TODO pin the base image digest",
        "Makefile:2 XXX the build ignores warnings",
        "README.md:5 FIXME update the install section",
        "config/app.yml:1 HACK the staging host is hard-coded",
        r#"db/schema.sql:1 DEBT one query per order line | {"cost":{"amount":5,"unit":"points"},"id":"orders-n-plus-one"}"#,
        "scripts/build:2 HACK work around the v1 API's pagination bug",
        r#"scripts/deploy.py:4 FIXME retries double-charge | body: when the gateway times out | {"owners":["bob"]}"#,
        "scripts/deploy.py:8 XXX trailing comment after code",
        "src/Lib.hs:1 TODO nested {- inner -} comment body",
        "src/Main.java:2 TODO extract an interface",
        r##"src/lib.go:3 FIXME timeouts are hard-coded | {"incidents":["#412","PD-1234"],"owners":["dave"]}"##,
        r#"src/main.rs:1 TODO flush the cache before retrying | {"area":"billing","cost":{"amount":3,"unit":"days"},"owners":["alice"]}"#,
        r#"src/main.rs:9 DEBT the main loop does too much | body: and it blocks on I/O | {"cost":{"amount":5,"unit":"points"},"id":"main-loop"}"#,
        r#"src/util.rb:1 TODO drop the legacy adapter | {"due":"2027-03-31","tier":1}"#,
        r##"web/app.ts:1 TODO template literal above is not a comment | {"issue":87}"##,
        "web/app.ts:3 FIXME the retry budget is shared | body: across all tenants",
        r#"web/index.html:3 TODO add a skip link | {"owners":["carol"]}"#,
        "web/style.css:1 XXX magic number from the old design",
    ];
    assert_eq!(summarise(&report), expected);
    assert_eq!(report["skipped"]["binary"], 1);
    assert_eq!(report["skipped"]["unknown_type"], 1);
}

#[test]
fn moving_an_annotation_down_ten_lines_keeps_its_id() {
    // Given a copy of the tree and the ids of its annotations,
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&fixture("polyglot"), tmp.path());
    let ids = |report: &Value| -> Vec<String> {
        report["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                format!(
                    "{} {}",
                    a["path"].as_str().unwrap(),
                    a["id"].as_str().unwrap()
                )
            })
            .collect()
    };
    let before = scan_json(tmp.path());

    // when ten lines of code are inserted above every annotation of a file,
    let path = tmp.path().join("src/main.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{}{text}", "// filler\n".repeat(10))).unwrap();
    let after = scan_json(tmp.path());

    // then the annotations moved but their ids did not.
    assert_eq!(ids(&before), ids(&after));
    let line_of = |report: &Value, id: &str| {
        report["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["line"].as_u64().unwrap())
    };
    assert_eq!(line_of(&before, "main-loop"), Some(9));
    assert_eq!(line_of(&after, "main-loop"), Some(19));
}

#[test]
fn fail_on_exits_one_only_when_a_listed_keyword_is_present() {
    let dir = fixture("polyglot");
    let hit = paydown(&["scan", "--quiet", "--fail-on", "DEBT,HACK", "."], &dir);
    assert_eq!(hit.status.code(), Some(1));
    let miss = paydown(&["scan", "--quiet", "--fail-on", "NOPE", "."], &dir);
    assert_eq!(miss.status.code(), Some(0));
    let any = paydown(
        &["scan", "--quiet", "--fail-on", "any", "src/Main.java"],
        &dir,
    );
    assert_eq!(any.status.code(), Some(1));
}

#[test]
fn every_format_renders_the_same_annotations() {
    let dir = fixture("polyglot");
    for format in ["text", "markdown", "csv", "sarif"] {
        let out = paydown(
            &["scan", "--quiet", "--format", format, "src/main.rs"],
            &dir,
        );
        assert!(out.status.success(), "{format}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains("main-loop"), "{format}: {stdout}");
        assert!(
            stdout.contains("flush the cache before retrying"),
            "{format}: {stdout}"
        );
    }
    let sarif = paydown(&["scan", "--quiet", "--format", "sarif", "."], &dir);
    let doc: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 18);
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let out = paydown(&["scan", "does-not-exist"], &fixture("polyglot"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist"));
}

#[test]
fn gitignored_and_excluded_files_are_not_scanned() {
    // Given a tree with an ignored file, an excluded directory and a config,
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join(".github")).unwrap();
    std::fs::create_dir_all(root.join("gen")).unwrap();
    std::fs::write(root.join(".gitignore"), "ignored.rs\n").unwrap();
    std::fs::write(root.join("ignored.rs"), "// TODO: ignored by git\n").unwrap();
    std::fs::write(root.join("gen/x.rs"), "// TODO: excluded by config\n").unwrap();
    std::fs::write(root.join("kept.rs"), "// TODO: kept\n").unwrap();
    std::fs::write(
        root.join(".github/paydown.yml"),
        "paths:\n  exclude: [\"gen/**\"]\n",
    )
    .unwrap();

    // when it is scanned, then only the kept file reports.
    let report = scan_json(root);
    assert_eq!(summarise(&report), ["kept.rs:1 TODO kept"]);
    assert_eq!(report["skipped"]["excluded"], 1);
}

#[test]
fn config_check_reports_every_error_with_its_position_and_exits_two() {
    // Given a config with a typo'd key and a value of the wrong type,
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("paydown.yml");
    std::fs::write(
        &path,
        "issues:\n  labels: [tech-debt]\nsprints:\n  debt_shar: 0.3\n  capacity_points: lots\n",
    )
    .unwrap();

    // when it is checked,
    let out = paydown(&["config", "check", path.to_str().unwrap()], tmp.path());

    // then both errors are printed with line:column, and the exit code is 2.
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("paydown.yml:4:3"), "{stderr}");
    assert!(stderr.contains("debt_share"), "did you mean: {stderr}");
    assert!(stderr.contains("paydown.yml:5:20"), "{stderr}");
}

#[test]
fn init_writes_a_config_that_checks_clean_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let first = paydown(&["init"], tmp.path());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let check = paydown(&["config", "check"], tmp.path());
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let again = paydown(&["init"], tmp.path());
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn a_broken_config_stops_a_scan_with_exit_two() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join(".github")).unwrap();
    std::fs::write(
        tmp.path().join(".github/paydown.yml"),
        "annotations:\n  keywords: 3\n",
    )
    .unwrap();
    let out = paydown(&["scan", "."], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("paydown.yml:2:"));
}

#[test]
fn the_configuration_reference_shows_the_init_template_verbatim() {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md");
    let reference = std::fs::read_to_string(reference).expect("docs/configuration.md");
    let template = paydown_config::init_template();
    assert!(
        reference.contains(&format!("```yaml\n{template}```")),
        "docs/configuration.md's block differs from `paydown init --stdout`; paste the new template"
    );
}

#[test]
fn in_a_git_work_tree_tracked_files_are_scanned_even_when_gitignore_matches_them() {
    // Given a repository with a committed file that .gitignore matches, an
    // ignored untracked file and a new untracked file,
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(root)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(root.join(".gitignore"), "*.gen.sh\n").unwrap();
    std::fs::write(root.join("tracked.gen.sh"), "# TODO: tracked\n").unwrap();
    git(&["add", "-f", ".gitignore", "tracked.gen.sh"]);
    git(&["commit", "-qm", "init"]);
    std::fs::write(root.join("junk.gen.sh"), "# TODO: ignored\n").unwrap();
    std::fs::write(root.join("new.sh"), "# TODO: untracked\n").unwrap();
    // and a .gitattributes mark, honoured before any commit of it.
    std::fs::write(
        root.join(".gitattributes"),
        "new.sh linguist-language=Python\n",
    )
    .unwrap();

    // When the work tree is scanned, then git's view decides.
    let report = scan_json(root);
    assert_eq!(
        summarise(&report),
        ["new.sh:1 TODO untracked", "tracked.gen.sh:1 TODO tracked"]
    );
}

#[test]
fn scanning_a_subdirectory_of_a_work_tree_reads_the_roots_gitattributes_and_ignore() {
    // Given a repository whose root .gitattributes marks sub/dir/gen/ as
    // generated and whose root .ignore leaves out sub/dir/skip/,
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(root)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q"]);
    std::fs::create_dir_all(root.join("sub/dir/gen")).unwrap();
    std::fs::create_dir_all(root.join("sub/dir/skip")).unwrap();
    std::fs::write(
        root.join(".gitattributes"),
        "sub/dir/gen/** linguist-generated\n",
    )
    .unwrap();
    std::fs::write(root.join(".ignore"), "/sub/dir/skip/\n").unwrap();
    std::fs::write(root.join("sub/dir/gen/a.rs"), "// TODO: generated\n").unwrap();
    std::fs::write(root.join("sub/dir/skip/b.rs"), "// TODO: ignored\n").unwrap();
    std::fs::write(root.join("sub/dir/c.rs"), "// TODO: scanned\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-qm", "init"]);

    // When `paydown scan sub/dir` runs at the root,
    let out = paydown(&["scan", "--format", "json", "--quiet", "sub/dir"], root);
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();

    // then only the unmarked file is reported (relative to sub/dir).
    assert_eq!(summarise(&report), ["c.rs:1 TODO scanned"]);
    assert_eq!(report["skipped"]["generated"], 1);
}
