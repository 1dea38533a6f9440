//! Scenarios for finding commands in comment bodies: what counts as a
//! command line, what Markdown hides, arguments, errors and edits.

use paydown_commands::{
    COMMANDS, Class, Command, CommandError, IssueRef, MAX_COMMANDS_PER_COMMENT, MAX_ECHO_CHARS,
    MAX_REASON_CHARS, Parsed, Verb, added_commands, could_hold_command, parse_comment,
};

const PREFIX: &str = "/debt";
const SLUG: &str = "paydown";

fn parse(body: &str) -> Vec<Parsed> {
    parse_comment(body, PREFIX, SLUG)
}

/// Only the results, for scenarios where positions don't matter.
fn results(body: &str) -> Vec<Result<Command, CommandError>> {
    parse(body)
        .into_iter()
        .map(|parsed| parsed.result)
        .collect()
}

fn commands(body: &str) -> Vec<Command> {
    results(body)
        .into_iter()
        .map(|result| result.expect("a valid command"))
        .collect()
}

fn error(body: &str) -> CommandError {
    let mut results = results(body);
    assert_eq!(results.len(), 1, "{body:?}");
    results.remove(0).expect_err("an error")
}

fn reason(text: &str) -> Command {
    Command::AcceptDrift {
        reason: text.to_string(),
    }
}

fn issue(number: u64) -> Command {
    Command::Link(IssueRef { repo: None, number })
}

// --- what counts as a command line ---

#[test]
fn given_a_command_after_some_text_then_it_is_found_with_its_position() {
    let parsed = parse("Looks good to me.\n\n  /debt classify debt\n");
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].line, 3);
    assert_eq!(parsed[0].column, 3);
    assert_eq!(parsed[0].text, "/debt classify debt");
    assert_eq!(parsed[0].result, Ok(Command::Classify(Class::Debt)));
}

#[test]
fn given_several_commands_then_each_line_is_one_command_in_order() {
    let body = "/debt classify feature\nsome words in between\n/debt points 5\n\n/debt status";
    assert_eq!(
        commands(body),
        vec![
            Command::Classify(Class::Feature),
            Command::Points(5),
            Command::Status
        ]
    );
    let lines: Vec<usize> = parse(body).iter().map(|parsed| parsed.line).collect();
    assert_eq!(lines, vec![1, 3, 5]);
}

#[test]
fn given_the_prefix_alone_then_it_means_help() {
    assert_eq!(commands("/debt"), vec![Command::Help]);
    assert_eq!(commands("/debt   \n"), vec![Command::Help]);
    assert_eq!(commands("/debt help"), vec![Command::Help]);
}

#[test]
fn given_the_prefix_glued_to_more_letters_then_it_is_not_a_command() {
    assert!(parse("/debtx scan").is_empty());
    assert!(parse("/debt-scan").is_empty());
    assert!(parse("/debts").is_empty());
}

#[test]
fn given_the_prefix_in_the_middle_of_a_line_then_it_is_not_a_command() {
    assert!(parse("please run /debt scan").is_empty());
    assert!(parse("- /debt scan").is_empty());
}

#[test]
fn given_verbs_and_prefix_in_any_case_then_they_are_recognised() {
    assert_eq!(
        commands("/debt CLASSIFY Debt\n/DEBT Scan\n/Debt Accept-Drift ok"),
        vec![Command::Classify(Class::Debt), Command::Scan, reason("ok")]
    );
}

#[test]
fn given_windows_line_endings_then_commands_and_arguments_carry_no_carriage_return() {
    let body = "Thanks!\r\n/debt accept-drift ship it\r\n/debt points 8\r\n";
    let parsed = parse(body);
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].result, Ok(reason("ship it")));
    assert_eq!(parsed[0].line, 2);
    assert_eq!(parsed[0].text, "/debt accept-drift ship it");
    assert_eq!(parsed[1].result, Ok(Command::Points(8)));
    assert_eq!(parsed[1].line, 3);
    // Windows line endings around a fence still hide the code.
    assert!(parse("```\r\n/debt scan\r\n```\r\n").is_empty());
}

#[test]
fn given_a_tab_indent_then_the_line_is_code_as_github_renders_it() {
    assert!(parse("\t/debt scan").is_empty());
    assert_eq!(
        parse(" \u{a0}/debt scan").len(),
        0,
        "no-break space is not indentation"
    );
}

// --- the mention form ---

#[test]
fn given_a_mention_of_the_app_then_it_works_like_the_prefix() {
    assert_eq!(
        commands("@paydown classify debt\n@PayDown scan\n@paydown[bot] status\n@paydown"),
        vec![
            Command::Classify(Class::Debt),
            Command::Scan,
            Command::Status,
            Command::Help
        ]
    );
}

#[test]
fn given_a_mention_of_another_login_then_it_is_not_a_command() {
    assert!(parse("@paydownx scan\n@other scan\n@ paydown scan").is_empty());
}

#[test]
fn given_the_bot_login_instead_of_the_slug_then_mentions_still_match() {
    assert_eq!(
        parse_comment("@paydown scan", PREFIX, "paydown[bot]").len(),
        1
    );
    assert_eq!(parse_comment("@paydown scan", PREFIX, "@paydown").len(), 1);
}

#[test]
fn given_an_empty_slug_then_only_the_prefix_form_works() {
    assert!(parse_comment("@ scan\n@paydown scan", PREFIX, "").is_empty());
    assert_eq!(parse_comment("/debt scan", PREFIX, "").len(), 1);
}

// --- Markdown that hides commands ---

#[test]
fn given_a_backtick_fence_then_commands_inside_are_ignored() {
    let body = "Try this:\n\n```\n/debt scan\n```\n/debt status\n";
    let parsed = parse(body);
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].result, Ok(Command::Status));
    assert_eq!(parsed[0].line, 6);
}

#[test]
fn given_a_tilde_fence_with_a_language_then_commands_inside_are_ignored() {
    assert!(parse("~~~text\n/debt scan\n@paydown ignore\n~~~").is_empty());
}

#[test]
fn given_an_unclosed_fence_then_everything_after_it_is_code() {
    assert!(parse("```\n/debt scan\n\n/debt status").is_empty());
}

#[test]
fn given_an_indented_code_block_then_commands_inside_are_ignored() {
    assert!(parse("Example:\n\n    /debt scan\n").is_empty());
}

#[test]
fn given_three_spaces_of_indent_then_the_line_is_still_text() {
    assert_eq!(commands("   /debt scan"), vec![Command::Scan]);
}

#[test]
fn given_inline_code_spanning_a_line_break_then_the_command_inside_is_ignored() {
    assert!(parse("Write `the command\n/debt scan` on its own line.").is_empty());
}

#[test]
fn given_a_block_quote_then_commands_inside_are_ignored() {
    assert!(parse("> /debt scan").is_empty());
    assert!(parse("> > /debt scan\n>\n> @paydown status").is_empty());
    // A line right after a quote continues it (lazily), as GitHub renders it.
    assert!(parse("> someone said\n/debt scan").is_empty());
    // After a blank line the quote has ended.
    assert_eq!(
        commands("> someone said\n\n/debt scan"),
        vec![Command::Scan]
    );
}

#[test]
fn given_html_comments_then_commands_inside_are_ignored() {
    assert!(parse("<!-- /debt scan -->").is_empty());
    assert!(parse("<!--\n/debt scan\n-->").is_empty());
    assert!(parse("Some text <!--\n/debt scan\n--> and more").is_empty());
}

#[test]
fn given_a_link_text_then_commands_inside_are_ignored() {
    assert!(parse("[see\n/debt scan](https://example.com)").is_empty());
}

#[test]
fn given_a_command_after_a_closed_code_block_and_quote_then_it_is_found() {
    let body = "```\n/debt ignore\n```\n\n> /debt unignore\n\n<!-- /debt status -->\n/debt scan";
    let parsed = parse(body);
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].result, Ok(Command::Scan));
    assert_eq!(parsed[0].line, 8);
}

#[test]
fn given_a_table_then_commands_in_its_cells_are_ignored() {
    assert!(parse("/debt scan | column\n---|---\n/debt status | x").is_empty());
}

#[test]
fn given_a_lazy_paragraph_line_in_a_list_item_then_it_is_text() {
    assert_eq!(commands("- first point\n  /debt scan"), vec![Command::Scan]);
}

// --- arguments ---

#[test]
fn given_a_quoted_reason_then_the_quotes_are_removed() {
    assert_eq!(
        commands("/debt accept-drift \"launch week\""),
        vec![reason("launch week")]
    );
    assert_eq!(
        commands("/debt accept-drift 'launch week'"),
        vec![reason("launch week")]
    );
    assert_eq!(
        commands("/debt accept-drift “launch week”"),
        vec![reason("launch week")]
    );
    assert_eq!(
        commands("/debt accept-drift „launch week“"),
        vec![reason("launch week")]
    );
}

#[test]
fn given_an_unquoted_reason_then_the_rest_of_the_line_is_the_reason() {
    assert_eq!(
        commands("/debt accept-drift   launch week, see #12  "),
        vec![reason("launch week, see #12")]
    );
}

#[test]
fn given_a_reason_with_quotes_inside_then_it_is_kept_as_written() {
    assert_eq!(
        commands("/debt accept-drift \"a\" and \"b\""),
        vec![reason("\"a\" and \"b\"")]
    );
    assert_eq!(
        commands("/debt accept-drift the team’s call"),
        vec![reason("the team’s call")]
    );
}

#[test]
fn given_accept_drift_without_a_reason_then_it_asks_for_one() {
    for body in [
        "/debt accept-drift",
        "/debt accept-drift \"\"",
        "/debt accept-drift “ ”",
    ] {
        assert_eq!(
            error(body),
            CommandError::MissingArgument {
                verb: Verb::AcceptDrift,
                prefix: PREFIX.to_string()
            },
            "{body}"
        );
    }
}

#[test]
fn given_each_class_then_classify_accepts_it() {
    assert_eq!(
        commands(
            "/debt classify debt\n/debt classify feature\n/debt classify ops\n/debt classify none\n/debt classify \"ops\""
        ),
        vec![
            Command::Classify(Class::Debt),
            Command::Classify(Class::Feature),
            Command::Classify(Class::Ops),
            Command::Classify(Class::Unclassified),
            Command::Classify(Class::Ops),
        ]
    );
}

#[test]
fn given_an_unknown_class_then_the_error_lists_the_valid_ones() {
    let error = error("/debt classify bug");
    assert_eq!(
        error,
        CommandError::BadArgument {
            verb: Verb::Classify,
            argument: "bug".to_string(),
            prefix: PREFIX.to_string()
        }
    );
    assert_eq!(
        error.to_string(),
        "`bug` is not a class: `debt`, `feature`, `ops` or `none`, like `/debt classify debt`. \
         See `/debt help` for the list of commands."
    );
}

#[test]
fn given_classify_without_a_class_then_it_asks_for_one() {
    assert_eq!(
        error("/debt classify").to_string(),
        "`classify` needs a class: `debt`, `feature`, `ops` or `none`, like `/debt classify debt`. \
         See `/debt help` for the list of commands."
    );
}

#[test]
fn given_points_then_whole_numbers_from_zero_to_the_maximum_are_accepted() {
    assert_eq!(
        commands("/debt points 0\n/debt points 13\n/debt points 1000"),
        vec![
            Command::Points(0),
            Command::Points(13),
            Command::Points(1000)
        ]
    );
}

#[test]
fn given_bad_points_then_each_is_refused_with_the_accepted_range() {
    for argument in ["abc", "-3", "3.5", "+3", "1001", "99999999999999999999"] {
        let error = error(&format!("/debt points {argument}"));
        assert_eq!(
            error,
            CommandError::BadArgument {
                verb: Verb::Points,
                argument: argument.to_string(),
                prefix: PREFIX.to_string()
            }
        );
        assert!(
            error
                .to_string()
                .contains("is not a whole number of points from 0 to 1000"),
            "{error}"
        );
    }
}

#[test]
fn given_link_then_hash_bare_number_repo_and_url_forms_are_accepted() {
    assert_eq!(
        commands(
            "/debt link #12\n/debt link 12\n/debt link acme/shop#7\n\
             /debt link https://github.com/acme/shop/issues/7\n\
             /debt link https://github.example.com/acme/shop.rs/issues/7/#issuecomment-1"
        ),
        vec![
            issue(12),
            issue(12),
            Command::Link(IssueRef {
                repo: Some("acme/shop".to_string()),
                number: 7
            }),
            Command::Link(IssueRef {
                repo: Some("acme/shop".to_string()),
                number: 7
            }),
            Command::Link(IssueRef {
                repo: Some("acme/shop.rs".to_string()),
                number: 7
            }),
        ]
    );
}

#[test]
fn given_a_bad_issue_reference_then_link_is_refused() {
    for argument in [
        "#0",
        "#",
        "12x",
        "#-4",
        "acme#3",
        "https://github.com/acme/shop/pull/7",
        "https://github.com/acme",
        "a b/c#1",
    ] {
        let result = results(&format!("/debt link {argument}"));
        assert!(
            matches!(
                result.as_slice(),
                [Err(CommandError::BadArgument {
                    verb: Verb::Link,
                    ..
                }) | Err(CommandError::UnexpectedArguments { .. })]
            ),
            "{argument}: {result:?}"
        );
    }
}

#[test]
fn given_extra_words_then_the_command_says_what_it_takes() {
    assert_eq!(
        error("/debt scan now please").to_string(),
        "`scan` takes no arguments; remove `now please`. See `/debt help` for the list of commands."
    );
    assert_eq!(
        error("/debt link #1 #2"),
        CommandError::UnexpectedArguments {
            verb: Verb::Link,
            extra: "#2".to_string(),
            prefix: PREFIX.to_string()
        }
    );
}

// --- unknown verbs ---

#[test]
fn given_a_near_miss_verb_then_the_error_suggests_the_command() {
    for (typo, meant) in [
        ("clasify", Verb::Classify),
        ("CLASIFY", Verb::Classify),
        ("accept", Verb::AcceptDrift),
        ("accept_drift", Verb::AcceptDrift),
        ("stauts", Verb::Status),
        ("unignroe", Verb::Unignore),
        ("hlep", Verb::Help),
    ] {
        assert_eq!(
            error(&format!("/debt {typo}")),
            CommandError::UnknownVerb {
                verb: typo.to_string(),
                suggestion: Some(meant),
                prefix: PREFIX.to_string()
            },
            "{typo}"
        );
    }
    assert_eq!(
        error("/debt clasify debt").to_string(),
        "`clasify` is not a paydown command; did you mean `classify`? \
         See `/debt help` for the list of commands."
    );
}

#[test]
fn given_a_verb_unlike_any_command_then_no_suggestion_is_made() {
    let error = error("/debt frobnicate");
    assert!(matches!(
        error,
        CommandError::UnknownVerb {
            suggestion: None,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "`frobnicate` is not a paydown command. See `/debt help` for the list of commands."
    );
}

#[test]
fn given_errors_and_commands_mixed_then_one_bad_line_never_stops_the_rest() {
    let results = results("/debt clasify debt\n/debt scan\n/debt points abc\n/debt status");
    assert!(results[0].is_err());
    assert_eq!(results[1], Ok(Command::Scan));
    assert!(results[2].is_err());
    assert_eq!(results[3], Ok(Command::Status));
}

// --- another prefix ---

#[test]
fn given_a_configured_prefix_then_only_it_starts_commands_and_errors_point_to_it() {
    let body = "/debt scan\n/paydown classify ops\n/PAYDOWN stat";
    let parsed = parse_comment(body, "/paydown", SLUG);
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].result, Ok(Command::Classify(Class::Ops)));
    let error = parsed[1].result.clone().expect_err("unknown verb");
    assert_eq!(
        error.to_string(),
        "`stat` is not a paydown command; did you mean `status`? \
         See `/paydown help` for the list of commands."
    );
    // The mention form keeps working and errors still point to the prefix.
    let parsed = parse_comment("@paydown points x", "/paydown", SLUG);
    assert!(
        parsed[0]
            .result
            .clone()
            .expect_err("bad points")
            .to_string()
            .contains("like `/paydown points 3`. See `/paydown help`")
    );
}

// --- limits ---

#[test]
fn given_more_commands_than_the_limit_then_the_rest_is_reported_once() {
    let body = "/debt scan\n".repeat(MAX_COMMANDS_PER_COMMENT + 5);
    let parsed = parse(&body);
    assert_eq!(parsed.len(), MAX_COMMANDS_PER_COMMENT + 1);
    assert!(
        parsed[..MAX_COMMANDS_PER_COMMENT]
            .iter()
            .all(|parsed| parsed.result == Ok(Command::Scan))
    );
    let last = &parsed[MAX_COMMANDS_PER_COMMENT];
    assert_eq!(last.line, MAX_COMMANDS_PER_COMMENT + 1);
    assert_eq!(
        last.result,
        Err(CommandError::TooManyCommands {
            limit: MAX_COMMANDS_PER_COMMENT,
            prefix: PREFIX.to_string()
        })
    );
}

#[test]
fn given_an_empty_or_command_free_body_then_nothing_is_found() {
    assert!(parse("").is_empty());
    assert!(parse("\n\r\n  \n").is_empty());
    assert!(parse("Just a normal review comment.\n\nWith two paragraphs.").is_empty());
}

// --- the table and the parser agree ---

#[test]
fn given_each_commands_example_then_it_parses_to_that_verb() {
    for spec in COMMANDS {
        let body = format!("/debt {}", spec.example);
        let results = results(&body);
        assert_eq!(results.len(), 1, "{body}");
        let command = results[0].clone().expect("examples are valid");
        assert_eq!(command.verb(), spec.verb, "{body}");
        assert_eq!(spec.verb.spec(), spec, "table is in Verb order");
        assert_eq!(Verb::from_name(spec.name), Some(spec.verb));
    }
}

#[test]
fn given_any_command_then_its_canonical_form_parses_back_to_it() {
    let all = [
        Command::Help,
        Command::Status,
        Command::Classify(Class::Unclassified),
        Command::Points(7),
        reason("launch week"),
        Command::Link(IssueRef {
            repo: Some("acme/shop".to_string()),
            number: 4,
        }),
        issue(9),
        Command::Scan,
        Command::Ignore,
        Command::Unignore,
    ];
    for command in all {
        assert_eq!(
            commands(&format!("/debt {command}")),
            vec![command.clone()],
            "{command}"
        );
    }
}

// --- edited comments ---

#[test]
fn given_an_edit_that_adds_a_command_then_only_that_one_runs() {
    let added = added_commands(
        "/debt classify debt",
        "/debt classify debt\n/debt points 3",
        PREFIX,
        SLUG,
    );
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].result, Ok(Command::Points(3)));
    assert_eq!(added[0].line, 2);
}

#[test]
fn given_an_edit_that_moves_or_respells_a_command_then_nothing_runs() {
    let old = "/debt scan\nThanks!";
    assert!(added_commands(old, "Thanks!\n\n/debt scan", PREFIX, SLUG).is_empty());
    assert!(added_commands(old, "Thanks!\n/DEBT   SCAN", PREFIX, SLUG).is_empty());
    assert!(added_commands(old, "@paydown scan", PREFIX, SLUG).is_empty());
    assert!(added_commands("/debt", "/debt help", PREFIX, SLUG).is_empty());
}

#[test]
fn given_an_edit_that_repeats_a_command_then_each_extra_occurrence_runs() {
    let added = added_commands(
        "/debt scan",
        "/debt scan\n/debt scan\n/debt scan",
        PREFIX,
        SLUG,
    );
    assert_eq!(added.len(), 2);
    assert_eq!(
        added.iter().map(|parsed| parsed.line).collect::<Vec<_>>(),
        vec![2, 3]
    );
}

#[test]
fn given_an_edit_that_changes_an_argument_then_the_changed_command_runs() {
    let added = added_commands(
        "/debt accept-drift launch week",
        "/debt accept-drift \"launch week, approved by PM\"",
        PREFIX,
        SLUG,
    );
    assert_eq!(
        added
            .into_iter()
            .map(|parsed| parsed.result)
            .collect::<Vec<_>>(),
        vec![Ok(reason("launch week, approved by PM"))]
    );
    // Quoting the same reason is the same command.
    assert!(
        added_commands(
            "/debt accept-drift launch week",
            "/debt accept-drift “launch week”",
            PREFIX,
            SLUG
        )
        .is_empty()
    );
}

#[test]
fn given_an_edit_that_leaves_a_bad_command_then_its_error_is_not_repeated() {
    let added = added_commands(
        "/debt clasify debt",
        "/debt clasify debt\nfixed typo below\n/debt classify debt",
        PREFIX,
        SLUG,
    );
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].result, Ok(Command::Classify(Class::Debt)));
}

#[test]
fn given_an_edit_that_quotes_or_fences_a_command_then_nothing_runs() {
    let old = "Hello";
    assert!(added_commands(old, "Hello\n\n> /debt scan", PREFIX, SLUG).is_empty());
    assert!(added_commands(old, "Hello\n```\n/debt scan\n```", PREFIX, SLUG).is_empty());
}

#[test]
fn given_an_edit_that_unfences_a_command_then_it_runs() {
    let added = added_commands("```\n/debt scan\n```", "/debt scan", PREFIX, SLUG);
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].result, Ok(Command::Scan));
}

#[test]
fn given_an_edit_on_a_first_comment_body_then_every_command_is_added() {
    let added = added_commands("", "/debt scan\n/debt status", PREFIX, SLUG);
    assert_eq!(added.len(), 2);
}

// --- robustness ---

const TRICKY: &str = "Héllo “wörld” 👋\r\n> /debt scan\n```\n/debt ignore\n```\n\
    /debt accept-drift „Grüße“\n  @paydown link https://github.com/a/b/issues/4\n\
    <!-- /debt x -->\n/debt clasify\n`a\n/debt scan`\n\t/debt status\n/debt";

#[test]
fn given_any_truncation_of_a_tricky_comment_then_parsing_never_panics_and_positions_point_at_the_command()
 {
    for (end, _) in TRICKY.char_indices().chain([(TRICKY.len(), ' ')]) {
        let body = &TRICKY[..end];
        for parsed in parse(body) {
            let line = body.split('\n').nth(parsed.line - 1).expect("line exists");
            let from_column: String = line.chars().skip(parsed.column - 1).collect();
            assert!(
                from_column.trim_end().starts_with(&parsed.text),
                "{body:?}: {parsed:?}"
            );
        }
        let _ = added_commands(body, TRICKY, PREFIX, SLUG);
    }
}

#[test]
fn given_the_tricky_comment_then_exactly_the_plain_text_commands_are_found() {
    let found: Vec<(usize, Result<Command, CommandError>)> = parse(TRICKY)
        .into_iter()
        .map(|parsed| (parsed.line, parsed.result))
        .collect();
    // The tab-indented line continues the paragraph above it (an indented
    // code block can't interrupt a paragraph), so GitHub shows it as text.
    assert_eq!(found.len(), 5, "{found:?}");
    assert_eq!(found[0], (6, Ok(reason("Grüße"))));
    assert_eq!(
        found[1],
        (
            7,
            Ok(Command::Link(IssueRef {
                repo: Some("a/b".to_string()),
                number: 4
            }))
        )
    );
    assert!(matches!(
        found[2],
        (
            9,
            Err(CommandError::MissingArgument { .. } | CommandError::UnknownVerb { .. })
        )
    ));
    assert_eq!(found[3], (12, Ok(Command::Status)));
    assert_eq!(found[4], (13, Ok(Command::Help)));
}

#[test]
fn given_a_comment_at_githubs_size_limit_then_it_parses() {
    // 65,536 characters of alternating commands, code and quotes.
    let chunk = "/debt scan\n```\n/debt ignore\n```\n> /debt status\n\n";
    let body = chunk.repeat(65_536 / chunk.len());
    let parsed = parse(&body);
    assert_eq!(parsed.len(), MAX_COMMANDS_PER_COMMENT + 1);
    assert!(
        parsed[..MAX_COMMANDS_PER_COMMENT]
            .iter()
            .all(|parsed| parsed.result == Ok(Command::Scan))
    );
}

// --- the cheap pre-check before the config (and its prefix) is known ---

#[test]
fn given_a_plain_comment_or_commands_hidden_in_markdown_then_no_command_could_be_there() {
    for body in [
        "LGTM, thanks!",
        "- a list item\n- another",
        "```\n/debt classify debt\n```",
        "> /debt classify debt",
        "<!-- /debt help -->",
        "@alice please have a look",
        "",
    ] {
        assert!(!could_hold_command(body, SLUG), "{body:?}");
        assert!(parse(body).is_empty(), "{body:?}");
    }
}

#[test]
fn given_a_line_that_starts_like_any_prefix_or_the_mention_then_a_command_could_be_there() {
    for body in [
        "/debt help",
        "thanks\r\n  /debt classify debt\r\n",
        "!debt help",
        "@paydown help",
        "@PayDown[bot] status",
    ] {
        assert!(could_hold_command(body, SLUG), "{body:?}");
    }
    assert!(!could_hold_command("@paydown help", ""));
}

#[test]
fn given_a_reason_at_the_limit_then_it_is_accepted_and_one_longer_is_refused() {
    let at_limit = "x".repeat(MAX_REASON_CHARS);
    assert_eq!(
        commands(&format!("/debt accept-drift {at_limit}")),
        [reason(&at_limit)]
    );
    let too_long = "é".repeat(22_000);
    let refused = error(&format!("/debt accept-drift {too_long}"));
    assert!(
        matches!(refused, CommandError::ReasonTooLong { length: 22_000, limit, .. } if limit == MAX_REASON_CHARS),
        "{refused:?}"
    );
    assert!(
        refused
            .to_string()
            .starts_with("The reason is 22000 characters long; `accept-drift` takes at most 500."),
        "{refused}"
    );
}

#[test]
fn given_a_huge_command_line_then_what_is_echoed_back_is_cut_short() {
    let junk = "y".repeat(30_000);
    let parsed = parse(&format!("/debt points 3 {junk}\n/debt {junk}"));
    assert_eq!(parsed.len(), 2);
    for p in &parsed {
        assert!(
            p.text.chars().count() <= MAX_ECHO_CHARS + 1,
            "{}",
            p.text.len()
        );
        assert!(p.text.ends_with('…'));
        let message = p.result.as_ref().expect_err("an error").to_string();
        assert!(
            message.chars().count() < 2 * MAX_ECHO_CHARS + 200,
            "{message}"
        );
    }
}
