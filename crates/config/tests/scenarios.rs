//! Scenarios for loading `.github/paydown.yml`: defaults, the documented example,
//! and every kind of error reported together with its position.

use chrono::NaiveDate;
use paydown_config::{
    CheckMode, Config, ConfigError, ConfigErrors, MetadataField, Permission, Severity,
    SprintSource, find_config, init_template, load_file, parse,
};

fn errors(text: &str) -> Vec<ConfigError> {
    match parse(text, "paydown.yml") {
        Ok(config) => panic!("expected errors, got {config:#?}"),
        Err(e) => e.errors,
    }
}

/// `(line, column, message)` triples, for compact assertions.
fn positioned(text: &str) -> Vec<(usize, usize, String)> {
    errors(text)
        .into_iter()
        .map(|e| (e.line, e.column, e.message))
        .collect()
}

fn ok(text: &str) -> Config {
    match parse(text, "paydown.yml") {
        Ok(config) => config,
        Err(e) => panic!("unexpected errors:\n{e}"),
    }
}

#[test]
fn given_an_empty_or_comment_only_file_when_parsed_then_every_default_applies() {
    for text in [
        "",
        "\n\n",
        "# nothing configured yet\n# issues:\n#   labels: [x]\n",
        "---\n",
        "~\n",
    ] {
        assert_eq!(ok(text), Config::default(), "for {text:?}");
    }
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = Config::default();
    assert_eq!(
        c.annotations.keywords,
        ["TODO", "FIXME", "HACK", "XXX", "DEBT"]
    );
    assert!(!c.annotations.require_colon);
    assert_eq!(c.annotations.severity_of("FIXME"), Severity::High);
    assert_eq!(c.annotations.severity_of("UNLISTED"), Severity::Medium);
    assert!(c.annotations.required_for("DEBT").is_empty());
    assert_eq!(c.paths.include, ["**"]);
    assert!(c.paths.exclude.is_empty());
    assert_eq!(c.paths.max_file_bytes, 1024 * 1024);
    assert_eq!(c.paths.max_line_length, 2000);
    assert!(c.paths.skip_generated && c.paths.skip_vendored);
    assert!(c.paths.vendored.iter().any(|g| g == "**/node_modules/**"));
    assert_eq!(c.issues.labels, ["tech-debt"]);
    assert_eq!(c.issues.title_prefix, "");
    assert!(c.issues.assign_owner && c.issues.close_when_removed);
    assert_eq!(c.issues.max_new_per_run, 50);
    assert!(c.dashboard.enabled);
    assert_eq!(c.work.points.get("size/M"), Some(&5));
    assert_eq!(c.sprints.source, SprintSource::Cadence);
    assert_eq!(
        c.sprints.cadence.start,
        NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
    );
    assert_eq!(c.sprints.cadence.length_days, 14);
    assert_eq!(c.sprints.capacity_points, None);
    assert_eq!(c.sprints.debt_share, 0.2);
    assert_eq!(c.sprints.tolerance, 0.05);
    assert_eq!(c.sprints.timezone.offset().local_minus_utc(), 0);
    assert!(c.drift.comment);
    assert_eq!(c.drift.check, CheckMode::Neutral);
    assert_eq!(c.drift.accept_permission, Permission::Maintain);
    assert_eq!(c.incidents.labels, ["incident"]);
    assert_eq!(c.incidents.window_days, 90);
    assert_eq!(
        (
            c.incidents.spike.window_days,
            c.incidents.spike.factor,
            c.incidents.spike.min
        ),
        (7, 3.0, 3)
    );
    assert_eq!(c.priority.incidents, 3.0);
    assert_eq!(c.commands.prefix, "/debt");
    assert_eq!(c.commands.permission, Permission::Write);
}

const SPEC_EXAMPLE: &str = r#"annotations:
  keywords: [TODO, FIXME, HACK, XXX, DEBT]
  require: {DEBT: [owner, cost]}
paths:
  exclude: ["vendor/**", "**/*.min.js"]
issues:
  labels: [tech-debt]
  title_prefix: "[debt] "
  max_new_per_run: 50
work:
  debt_labels: [tech-debt, refactor]
  feature_labels: [feature, enhancement]
  points: {size/S: 2, size/M: 5, size/L: 8}
sprints:
  cadence: {start: 2026-01-05, length_days: 14}
  capacity_points: 40
  debt_share: 0.3
  tolerance: 0.05
drift:
  comment: true
  check: neutral
  accept_permission: maintain
incidents:
  labels: [incident]
  window_days: 90
  spike: {window_days: 7, factor: 3, min: 3}
commands:
  prefix: /debt
  permission: write
"#;

#[test]
fn given_the_spec_example_when_parsed_then_every_value_is_read() {
    let c = ok(SPEC_EXAMPLE);
    assert_eq!(
        c.annotations.required_for("DEBT"),
        [MetadataField::Owner, MetadataField::Cost]
    );
    assert!(c.annotations.required_for("TODO").is_empty());
    assert_eq!(c.paths.exclude, ["vendor/**", "**/*.min.js"]);
    assert_eq!(c.issues.title_prefix, "[debt] ");
    assert_eq!(c.work.debt_labels, ["tech-debt", "refactor"]);
    assert_eq!(c.work.points.len(), 3);
    assert_eq!(c.work.points["size/L"], 8);
    assert_eq!(c.sprints.capacity_points, Some(40));
    assert_eq!(c.sprints.debt_share, 0.3);
    assert_eq!(c.incidents.spike.factor, 3.0);
    // Keys the example leaves out keep their defaults.
    assert_eq!(c.work.ops_labels, Config::default().work.ops_labels);
    assert_eq!(c.priority, Config::default().priority);
}

#[test]
fn given_typos_and_a_wrong_type_when_parsed_then_all_are_reported_with_positions() {
    let text = "\
issuse:
  labels: [tech-debt]
sprints:
  debt_shar: 0.3
  capacity_points: forty
";
    let errs = positioned(text);
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (1, 1));
    assert!(errs[0].2.contains("unknown key `issuse`"), "{}", errs[0].2);
    assert!(
        errs[0].2.contains("did you mean `issues`?"),
        "{}",
        errs[0].2
    );
    assert_eq!((errs[1].0, errs[1].1), (4, 3));
    assert!(
        errs[1].2.contains("did you mean `debt_share`?"),
        "{}",
        errs[1].2
    );
    assert_eq!((errs[2].0, errs[2].1), (5, 20));
    assert!(
        errs[2].2.contains("expected a whole number") && errs[2].2.contains("found a string"),
        "{}",
        errs[2].2
    );
}

#[test]
fn errors_display_as_file_line_column_one_per_line() {
    let err = parse(
        "issuse: {}\ndrift:\n  check: maybe\n",
        ".github/paydown.yml",
    )
    .unwrap_err();
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with(".github/paydown.yml:1:1: unknown key `issuse`"));
    assert!(lines[1].starts_with(".github/paydown.yml:3:10: `drift.check`: \"maybe\""));
}

#[test]
fn given_an_unknown_nested_key_then_the_sibling_is_suggested() {
    let errs = positioned("incidents:\n  spike:\n    windows_days: 3\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (3, 5));
    assert!(errs[0].2.contains("in `incidents.spike`"));
    assert!(errs[0].2.contains("did you mean `window_days`?"));
}

#[test]
fn given_a_key_in_the_wrong_section_then_its_home_is_suggested() {
    let errs = positioned("keywords: [TODO]\nlabels: [x]\n");
    assert!(
        errs[0].2.contains("did you mean `annotations.keywords`?"),
        "{}",
        errs[0].2
    );
    assert!(
        errs[1].2.contains("`issues.labels` or `incidents.labels`"),
        "{}",
        errs[1].2
    );
}

#[test]
fn given_a_key_nothing_like_any_other_then_valid_keys_are_listed() {
    let errs = positioned("drift:\n  banana: 1\n");
    assert!(
        errs[0]
            .2
            .contains("valid keys: comment, check, accept_permission"),
        "{}",
        errs[0].2
    );
}

#[test]
fn given_invalid_enum_values_then_each_lists_the_valid_ones() {
    let text = "\
annotations:
  severity: {TODO: urgent}
  require: {DEBT: [owner, costt]}
drift:
  check: nuetral
  accept_permission: read
commands:
  permission: superuser
";
    let errs = positioned(text);
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (2, 20));
    assert!(
        errs[0]
            .2
            .contains("expected one of low, medium, high, critical")
    );
    assert_eq!((errs[1].0, errs[1].1), (3, 27));
    assert!(errs[1].2.contains("did you mean `cost`?"));
    assert_eq!((errs[2].0, errs[2].1), (5, 10));
    assert!(
        errs[2]
            .2
            .contains("expected one of off, neutral, failure (did you mean `neutral`?)")
    );
    assert!(errs[3].2.contains("expected one of write, maintain, admin"));
    assert!(
        errs[4]
            .2
            .contains("expected one of read, triage, write, maintain, admin")
    );
}

#[test]
fn given_out_of_range_values_then_each_is_reported() {
    let text = "\
sprints:
  debt_share: 1.5
  tolerance: -0.1
  cadence: {start: 2026-01-05, length_days: 0}
issues:
  max_new_per_run: 2.5
incidents:
  spike: {factor: 0.5}
";
    let errs = positioned(text);
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (2, 15));
    assert!(
        errs[0]
            .2
            .contains("1.5 is out of range; expected a number from 0 to 1")
    );
    assert!(errs[1].2.contains("-0.1 is out of range"));
    assert!(
        errs[2]
            .2
            .contains("`sprints.cadence.length_days`: 0 is out of range")
    );
    assert!(
        errs[3]
            .2
            .contains("expected a whole number from 1 to 1000, found 2.5")
    );
    assert!(errs[4].2.contains("`incidents.spike.factor`"));
}

#[test]
fn given_both_cadence_and_milestones_then_one_error_at_cadence() {
    let text = "sprints:\n  source: milestones\n  cadence: {start: 2026-01-05, length_days: 14}\n";
    let errs = positioned(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (3, 3));
    assert!(
        errs[0]
            .2
            .contains("`cadence` and `source: milestones` are both set")
    );

    let c = ok("sprints:\n  source: milestones\n");
    assert_eq!(c.sprints.source, SprintSource::Milestones);
    let c = ok("sprints:\n  cadence: {start: 2026-03-02, length_days: 7}\n");
    assert_eq!(c.sprints.source, SprintSource::Cadence);
    assert_eq!(c.sprints.cadence.length_days, 7);
}

#[test]
fn given_invalid_dates_then_they_are_rejected_with_the_format() {
    for bad in ["2026-02-30", "2026-13-01", "2026-1-5", "next monday"] {
        let errs = positioned(&format!("sprints:\n  cadence:\n    start: {bad}\n"));
        assert_eq!(errs.len(), 1, "{bad}: {errs:#?}");
        assert_eq!((errs[0].0, errs[0].1), (3, 12));
        assert!(errs[0].2.contains("YYYY-MM-DD"), "{}", errs[0].2);
    }
    let c = ok("sprints:\n  cadence:\n    start: \"2024-02-29\"\n");
    assert_eq!(
        c.sprints.cadence.start,
        NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
    );
}

#[test]
fn given_time_zones_then_utc_and_fixed_offsets_are_accepted() {
    assert_eq!(
        ok("sprints: {timezone: +02:00}\n")
            .sprints
            .timezone
            .offset()
            .local_minus_utc(),
        7200
    );
    let tz = ok("sprints: {timezone: \"-05:30\"}\n").sprints.timezone;
    assert_eq!(tz.offset().local_minus_utc(), -(5 * 3600 + 30 * 60));
    assert_eq!(tz.to_string(), "-05:30");
    assert_eq!(
        ok("sprints: {timezone: UTC}\n")
            .sprints
            .timezone
            .to_string(),
        "UTC"
    );
    let errs = positioned("sprints:\n  timezone: Europe/Berlin\n");
    assert!(errs[0].2.contains("UTC or a fixed offset"), "{}", errs[0].2);
}

#[test]
fn given_a_yaml_syntax_error_then_it_is_positioned() {
    let errs = positioned("issues:\n  labels: [a, b\n  title_prefix: x\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].2.starts_with("YAML syntax error:"), "{}", errs[0].2);
    assert!(errs[0].0 >= 2, "{errs:#?}");

    let errs = positioned("issues:\n  labels: [a]\n bad indentation: here\n");
    assert_eq!(errs[0].0, 3, "{errs:#?}");
}

#[test]
fn given_duplicate_keys_then_the_second_is_an_error() {
    let errs = positioned("issues:\n  labels: [a]\n  labels: [b]\n");
    assert_eq!(errs[0].0, 3, "{errs:#?}");
    assert!(errs[0].2.contains("duplicated key"));
}

#[test]
fn given_crlf_line_endings_a_bom_and_tab_separators_then_the_file_is_read() {
    let text =
        "\u{feff}issues:\r\n  labels:\t[a, b]\t# trailing tab comment\r\n  max_new_per_run: 7\r\n";
    let c = ok(text);
    assert_eq!(c.issues.labels, ["a", "b"]);
    assert_eq!(c.issues.max_new_per_run, 7);

    // Positions stay right after a BOM and CRLF.
    let errs = positioned("\u{feff}drift:\r\n  check: nope\r\n");
    assert_eq!((errs[0].0, errs[0].1), (2, 10));
}

#[test]
fn given_indentation_with_tabs_only_then_the_file_is_read_and_columns_are_original() {
    let c = ok("issues:\n\tlabels: [a]\nincidents:\n\tspike:\n\t\tmin: 5\n");
    assert_eq!(c.issues.labels, ["a"]);
    assert_eq!(c.incidents.spike.min, 5);

    let errs = positioned("issues:\n\tmax_new_per_run: x\nincidents:\n\tspike:\n\t\tmni: 5\n");
    assert_eq!((errs[0].0, errs[0].1), (2, 19), "{errs:#?}");
    assert_eq!((errs[1].0, errs[1].1), (5, 3), "{errs:#?}");

    // A real syntax error in a tab-indented file is reported as itself.
    let errs = positioned("issues:\n\tlabels: [a\n\ttitle_prefix: x\n");
    assert!(!errs[0].2.contains("tab"), "{errs:#?}");
}

#[test]
fn given_indentation_mixing_tabs_and_spaces_then_a_clear_positioned_error() {
    let errs = positioned("issues:\n\t  labels: [a]\n");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].0, 2);
    assert!(errs[0].2.contains("mixes tabs and spaces"), "{}", errs[0].2);
}

#[test]
fn given_a_list_at_the_top_level_then_a_clear_error() {
    let errs = positioned("- issues\n- sprints\n");
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].0, errs[0].1), (1, 1));
    assert!(
        errs[0].2.contains("the top level must be a mapping"),
        "{}",
        errs[0].2
    );
    assert!(errs[0].2.contains("found a list"));

    let errs = positioned("just some text\n");
    assert!(errs[0].2.contains("found a string"));
}

#[test]
fn given_two_documents_then_the_second_is_an_error() {
    let errs = positioned("issues: {}\n---\ndrift: {}\n");
    assert_eq!(errs[0].0, 3, "{errs:#?}");
    assert!(errs[0].2.contains("only one YAML document"));
}

#[test]
fn given_dashboard_as_a_boolean_or_mapping_then_both_work() {
    assert!(!ok("dashboard: false\n").dashboard.enabled);
    assert!(ok("dashboard: true\n").dashboard.enabled);
    let d = ok("dashboard:\n  title: Debt board\n").dashboard;
    assert!(d.enabled);
    assert_eq!(d.title, "Debt board");
    assert!(!ok("dashboard: {enabled: false}\n").dashboard.enabled);
    let errs = positioned("dashboard: nope\n");
    assert!(
        errs[0].2.contains("expected true, false or a mapping"),
        "{}",
        errs[0].2
    );
}

#[test]
fn given_wrong_types_then_messages_say_expected_and_found_with_hints() {
    let text = "\
issues:
  labels: tech-debt
  title_prefix: 42
annotations:
  require_colon: yes
sprints:
  debt_share: lots
  capacity_points:
";
    let errs = positioned(text);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    assert!(
        errs[0].2.contains(
            "expected a list of labels, found a string (\"tech-debt\"); write [tech-debt]"
        ),
        "{}",
        errs[0].2
    );
    assert!(
        errs[1].2.contains("found a number (42); put it in quotes"),
        "{}",
        errs[1].2
    );
    assert!(
        errs[2]
            .2
            .contains("expected true or false, found a string (\"yes\"); write true or false"),
        "{}",
        errs[2].2
    );
    assert!(
        errs[3]
            .2
            .contains("expected a number from 0 to 1, found a string"),
        "{}",
        errs[3].2
    );
    // An empty optional key means unset, not an error.
    assert_eq!(
        ok("sprints:\n  capacity_points:\n").sprints.capacity_points,
        None
    );
    // An empty section means all defaults.
    assert_eq!(ok("issues:\nsprints:\n").issues, Config::default().issues);
    // An empty required value is an error naming it.
    let errs = positioned("sprints:\n  debt_share:\n");
    assert!(
        errs[0]
            .2
            .contains("`sprints.debt_share`: expected a number from 0 to 1, found nothing"),
        "{}",
        errs[0].2
    );
}

#[test]
fn given_bad_keywords_globs_and_duplicates_then_each_is_reported() {
    let text = "\
annotations:
  keywords: [TODO, TO DO, TODO]
paths:
  exclude: [\"src/[a\", \"\"]
";
    let errs = positioned(text);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    assert!(errs[0].2.contains("\"TO DO\" is not a valid keyword"));
    assert_eq!((errs[1].0, errs[1].1), (2, 27));
    assert!(errs[1].2.contains("\"TODO\" is listed twice"));
    assert!(
        errs[2].2.contains("invalid glob \"src/[a\""),
        "{}",
        errs[2].2
    );
    assert!(errs[3].2.contains("empty glob"));
    let errs = positioned("annotations:\n  keywords: []\n");
    assert!(errs[0].2.contains("at least 1 item"));
}

#[test]
fn given_require_for_an_unknown_keyword_then_the_keyword_is_suggested() {
    let errs = positioned("annotations:\n  require: {DEBTS: [owner]}\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (2, 13));
    assert!(errs[0].2.contains("`DEBTS` is not one of the keywords"));
    assert!(errs[0].2.contains("did you mean `DEBT`?"));

    // A custom keyword can be required and given a severity once it is listed.
    let c = ok(
        "annotations:\n  keywords: [TODO, PERF]\n  require: {PERF: [owner, due]}\n  severity: {PERF: critical}\n",
    );
    assert_eq!(
        c.annotations.required_for("PERF"),
        [MetadataField::Owner, MetadataField::Due]
    );
    assert_eq!(c.annotations.severity_of("PERF"), Severity::Critical);
    // Built-in severities not mentioned in the file are kept.
    assert_eq!(c.annotations.severity_of("FIXME"), Severity::High);
}

#[test]
fn given_labels_with_spaces_then_they_are_accepted_but_overlong_ones_are_not() {
    let c =
        ok("issues:\n  labels: [tech debt, \"good first issue\"]\nwork:\n  points: {size M: 5}\n");
    assert_eq!(c.issues.labels, ["tech debt", "good first issue"]);
    assert_eq!(c.work.points["size M"], 5);
    let long = "x".repeat(51);
    let errs = positioned(&format!("incidents:\n  labels: [\"{long}\", \" \"]\n"));
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(errs[0].2.contains("50-character label limit"));
    assert!(errs[1].2.contains("must not be empty"));
}

#[test]
fn given_a_command_prefix_without_leading_punctuation_then_a_positioned_error() {
    // Given prefixes the App can see: it skips every comment with no line
    // starting with punctuation before it reads the config.
    for prefix in ["\"!debt\"", "/td", ".debt", "\"#debt\""] {
        let c = ok(&format!("commands:\n  prefix: {prefix}\n"));
        assert_eq!(c.commands.prefix, prefix.trim_matches('"'));
    }

    // When the prefix starts with a letter, digit, non-ASCII character or
    // `@` (which starts the mention form), then `config check` rejects it
    // where it is written, saying why.
    for prefix in ["debt", "9debt", "\u{ff01}debt", "\"@debt\""] {
        let errs = positioned(&format!(
            "commands:\n  permission: write\n  prefix: {prefix}\n"
        ));
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert_eq!((errs[0].0, errs[0].1), (3, 11), "{errs:#?}");
        assert!(
            errs[0].2.starts_with("`commands.prefix`: \""),
            "{}",
            errs[0].2
        );
        assert!(
            errs[0]
                .2
                .contains("must start with punctuation other than `@`, such as `/` or `!`"),
            "{}",
            errs[0].2
        );
    }

    // A prefix with spaces is still reported as such, once.
    let errs = positioned("commands:\n  prefix: \"/ debt\"\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].2.contains("must not contain spaces"),
        "{}",
        errs[0].2
    );
}

#[test]
fn given_a_spike_window_not_shorter_than_the_window_then_an_error() {
    let errs = positioned("incidents:\n  window_days: 7\n  spike: {window_days: 7}\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (3, 24));
    assert!(errs[0].2.contains("must be shorter than"));
    // A window that is itself invalid is reported once, not compared.
    let errs = positioned("incidents:\n  window_days: many\n  spike: {window_days: 100}\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
}

#[test]
fn given_a_label_in_two_work_classes_then_an_error_at_the_second() {
    let errs =
        positioned("work:\n  debt_labels: [refactor]\n  feature_labels: [feature, Refactor]\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!((errs[0].0, errs[0].1), (3, 29));
    assert!(errs[0].2.contains("also in `work.debt_labels`"));
}

#[test]
fn given_the_init_template_when_parsed_then_it_equals_the_defaults() {
    let template = init_template();
    assert_eq!(ok(&template), Config::default());
    // Every line is a comment, blank, or a key, and every section is there.
    for section in [
        "annotations:",
        "paths:",
        "issues:",
        "dashboard:",
        "work:",
        "sprints:",
        "drift:",
        "incidents:",
        "priority:",
        "commands:",
    ] {
        assert!(template.lines().any(|l| l == section), "{section} missing");
    }
    assert!(template.contains("# capacity_points: 40"));
    // Uncommenting the optional example still parses.
    let edited = template.replace(
        "# capacity_points: 40    (unset by default)",
        "capacity_points: 40",
    );
    assert_eq!(ok(&edited).sprints.capacity_points, Some(40));
}

#[test]
fn given_a_missing_file_when_loaded_then_one_error_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".github/paydown.yml");
    let ConfigErrors { errors } = load_file(&path).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 0);
    let shown = errors[0].to_string();
    assert!(
        shown.starts_with(&format!("{}: cannot read the file", path.display())),
        "{shown}"
    );
}

#[test]
fn given_a_repository_when_finding_the_config_then_yml_wins_over_yaml() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(find_config(dir.path()), None);
    std::fs::create_dir(dir.path().join(".github")).unwrap();
    let yaml = dir.path().join(".github/paydown.yaml");
    std::fs::write(&yaml, "drift: {check: failure}\n").unwrap();
    assert_eq!(find_config(dir.path()), Some(yaml.clone()));
    let c = load_file(&yaml).unwrap();
    assert_eq!(c.drift.check, CheckMode::Failure);

    let yml = dir.path().join(paydown_config::DEFAULT_PATH);
    std::fs::write(&yml, "drift: {chek: failure}\n").unwrap();
    assert_eq!(find_config(dir.path()), Some(yml.clone()));
    let err = load_file(&yml).unwrap_err();
    assert_eq!(err.errors[0].origin, yml.display().to_string());
    assert_eq!((err.errors[0].line, err.errors[0].column), (1, 9));
}

#[test]
fn given_any_truncation_or_line_removal_of_the_template_then_no_panic_and_plain_errors() {
    let template = init_template();
    let check = |text: &str| {
        if let Err(e) = parse(text, "t.yml") {
            for err in &e.errors {
                assert!(err.line >= 1 && err.column >= 1, "{err}");
                assert!(!err.message.contains("internal error"), "{err}\n--\n{text}");
            }
        }
    };
    let boundaries: Vec<usize> = template.char_indices().map(|(i, _)| i).collect();
    for &i in boundaries.iter().step_by(7) {
        check(&template[..i]);
    }
    let lines: Vec<&str> = template.lines().collect();
    for skip in 0..lines.len() {
        let text: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        check(&text.join("\n"));
    }
}

#[test]
fn given_absurdly_deep_nesting_then_one_syntax_error_not_a_crash() {
    let text = format!("issues: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let errs = positioned(&text);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].2.starts_with("YAML syntax error"), "{}", errs[0].2);
}

#[test]
fn given_a_sequence_nested_fifty_thousand_deep_when_parsed_then_a_clear_error_and_no_stack_overflow()
 {
    // Found by a hand-made deep input run through the `config` fuzz target
    // (libFuzzer's own inputs stayed too short): saphyr builds its tree
    // recursively, and this overflowed the stack (a crash, not an error).
    let text = format!("{}x\n", "- ".repeat(50_000));

    let found = positioned(&text);

    assert_eq!(
        found,
        vec![(
            1,
            129,
            "YAML nests deeper than 64 levels; a paydown config needs far fewer".to_string()
        )]
    );
}

#[test]
fn given_flow_collections_nested_past_the_limit_when_parsed_then_the_depth_error_names_where() {
    let text = format!("annotations:\n  keywords: {}\n", "[".repeat(100));

    let found = positioned(&text);

    assert_eq!(found.len(), 1, "{found:?}");
    // The top-level mapping and `annotations:` are two levels, so the 63rd
    // bracket (column 13 + 62) is the 65th.
    assert_eq!((found[0].0, found[0].1), (2, 13 + 62));
    assert!(found[0].2.contains("deeper than 64 levels"), "{found:?}");
}

#[test]
fn given_the_incident_keys_of_the_spec_when_parsed_then_routing_tiers_and_bands_are_read() {
    let c = ok("\
incidents:
  labels: [incident, sev1]
  repositories: [acme/ops]
  pagerduty_services: [PABC123]
  spike: {window_days: 7, factor: 3, min: 3}
tiers: {1: enterprise, 2: team, 3: free}
priority:
  due: 2
  thresholds: {p1: 20, p2: 10, p3: 5}
sprints:
  hot_share_boost: 0.1
");
    assert_eq!(c.incidents.repositories, ["acme/ops"]);
    assert_eq!(c.incidents.pagerduty_services, ["PABC123"]);
    assert_eq!(c.tiers.get(&1).map(String::as_str), Some("enterprise"));
    assert_eq!(c.tiers.len(), 3);
    assert_eq!(c.priority.due, 2.0);
    assert_eq!(c.priority.thresholds.p1, 20.0);
    assert_eq!(c.sprints.hot_share_boost, 0.1);
    // Off unless asked for.
    assert_eq!(Config::default().sprints.hot_share_boost, 0.0);
}

#[test]
fn given_a_bad_repository_or_tier_when_parsed_then_each_is_reported_where_it_is() {
    let errs = positioned(
        "\
incidents:
  repositories: [ops]
tiers: {0: nobody, x: who}
",
    );
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(errs[0].2.contains("write owner/name"), "{}", errs[0].2);
    assert_eq!(errs[0].0, 2);
    assert!(errs[1].2.contains("numbered from 1"), "{}", errs[1].2);
    assert!(
        errs[2].2.contains("`x`") || errs[2].2.contains("x"),
        "{}",
        errs[2].2
    );
}
