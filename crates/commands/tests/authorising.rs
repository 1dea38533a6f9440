//! Scenarios for the permission decision and the generated help text.

use paydown_commands::{
    COMMANDS, Class, Command, IssueRef, Place, Refusal, Verb, authorise, help_text,
};
use paydown_config::{Config, Permission};

fn classify() -> Command {
    Command::Classify(Class::Debt)
}

fn accept() -> Command {
    Command::AcceptDrift {
        reason: "launch week".to_string(),
    }
}

fn link() -> Command {
    Command::Link(IssueRef {
        repo: None,
        number: 3,
    })
}

#[test]
fn given_a_maintainer_classifying_a_pull_request_then_it_is_allowed() {
    let config = Config::default();
    for permission in [Permission::Write, Permission::Maintain, Permission::Admin] {
        assert_eq!(
            authorise(&classify(), Place::PullRequest, Some(permission), &config),
            Ok(())
        );
    }
}

#[test]
fn given_classify_on_an_issue_then_it_is_refused_for_the_place() {
    let refusal = authorise(
        &classify(),
        Place::Issue,
        Some(Permission::Admin),
        &Config::default(),
    )
    .expect_err("wrong place");
    assert_eq!(
        refusal,
        Refusal::WrongPlace {
            verb: Verb::Classify,
            place: Place::Issue,
            prefix: "/debt".to_string()
        }
    );
    assert_eq!(
        refusal.to_string(),
        "`classify` works on pull requests, not on an ordinary issue. \
         See `/debt help` for the list of commands."
    );
}

#[test]
fn given_a_read_only_user_then_state_changing_commands_are_refused() {
    let config = Config::default();
    let refusal = authorise(
        &classify(),
        Place::PullRequest,
        Some(Permission::Read),
        &config,
    )
    .expect_err("too little permission");
    assert_eq!(
        refusal,
        Refusal::TooLittlePermission {
            verb: Verb::Classify,
            needed: Permission::Write,
            have: Some(Permission::Read),
            prefix: "/debt".to_string()
        }
    );
    assert_eq!(
        refusal.to_string(),
        "`classify` needs write permission on this repository; you have read. \
         See `/debt help` for who may run what."
    );
    for command in [Command::Points(2), Command::Scan, link()] {
        assert!(
            authorise(
                &command,
                Place::PullRequest,
                Some(Permission::Triage),
                &config
            )
            .is_err(),
            "{command}"
        );
    }
}

#[test]
fn given_a_user_without_access_then_the_message_says_they_have_none() {
    let refusal = authorise(&Command::Ignore, Place::DebtIssue, None, &Config::default())
        .expect_err("no access");
    assert!(
        refusal
            .to_string()
            .starts_with("`ignore` needs write permission on this repository; you have none."),
        "{refusal}"
    );
}

#[test]
fn given_read_only_commands_then_anyone_may_run_them() {
    let config = Config::default();
    for place in Place::ALL {
        assert_eq!(authorise(&Command::Help, *place, None, &config), Ok(()));
    }
    assert_eq!(
        authorise(&Command::Status, Place::PullRequest, None, &config),
        Ok(())
    );
}

#[test]
fn given_status_on_a_debt_issue_then_the_place_is_refused_even_for_anyone() {
    assert!(matches!(
        authorise(&Command::Status, Place::DebtIssue, None, &Config::default()),
        Err(Refusal::WrongPlace { .. })
    ));
}

#[test]
fn given_the_wrong_place_and_too_little_permission_then_the_place_is_explained() {
    assert!(matches!(
        authorise(
            &Command::Ignore,
            Place::PullRequest,
            None,
            &Config::default()
        ),
        Err(Refusal::WrongPlace { .. })
    ));
}

#[test]
fn given_link_then_it_runs_on_incidents_and_pull_requests_only() {
    let config = Config::default();
    let write = Some(Permission::Write);
    assert_eq!(
        authorise(&link(), Place::IncidentIssue, write, &config),
        Ok(())
    );
    assert_eq!(
        authorise(&link(), Place::PullRequest, write, &config),
        Ok(())
    );
    let refusal = authorise(&link(), Place::DebtIssue, write, &config).expect_err("wrong place");
    assert!(
        refusal
            .to_string()
            .starts_with("`link` works on incident issues or pull requests, not on a debt issue."),
        "{refusal}"
    );
}

#[test]
fn given_ignore_and_unignore_then_they_run_on_debt_issues_only() {
    let config = Config::default();
    let write = Some(Permission::Write);
    for command in [Command::Ignore, Command::Unignore] {
        assert_eq!(
            authorise(&command, Place::DebtIssue, write, &config),
            Ok(())
        );
        for place in [Place::PullRequest, Place::Issue, Place::IncidentIssue] {
            assert!(
                authorise(&command, place, write, &config).is_err(),
                "{command} on {place}"
            );
        }
    }
}

#[test]
fn given_default_config_then_accept_drift_needs_maintain() {
    let config = Config::default();
    assert_eq!(
        authorise(
            &accept(),
            Place::PullRequest,
            Some(Permission::Write),
            &config
        ),
        Err(Refusal::TooLittlePermission {
            verb: Verb::AcceptDrift,
            needed: Permission::Maintain,
            have: Some(Permission::Write),
            prefix: "/debt".to_string()
        })
    );
    assert_eq!(
        authorise(
            &accept(),
            Place::PullRequest,
            Some(Permission::Maintain),
            &config
        ),
        Ok(())
    );
}

#[test]
fn given_configured_permissions_then_authorise_follows_them() {
    let mut config = Config::default();
    config.commands.permission = Permission::Triage;
    config.drift.accept_permission = Permission::Admin;
    config.commands.prefix = "/paydown".to_string();
    let triage = Some(Permission::Triage);
    assert_eq!(
        authorise(&classify(), Place::PullRequest, triage, &config),
        Ok(())
    );
    let refusal = authorise(
        &accept(),
        Place::PullRequest,
        Some(Permission::Maintain),
        &config,
    )
    .expect_err("needs admin");
    assert_eq!(
        refusal.to_string(),
        "`accept-drift` needs admin permission on this repository; you have maintain. \
         See `/paydown help` for who may run what."
    );
}

#[test]
fn given_the_help_text_then_it_lists_every_command_with_the_prefix() {
    let mut config = Config::default();
    config.commands.prefix = "/paydown".to_string();
    let help = help_text(&config);
    for spec in COMMANDS {
        assert!(
            help.contains(&format!("`/paydown {}", spec.name)),
            "{} missing from:\n{help}",
            spec.name
        );
        assert!(help.contains(spec.summary), "{}", spec.name);
    }
    assert!(!help.contains("/debt"), "{help}");
    // One table row per command, plus the header and separator.
    assert_eq!(
        help.lines().filter(|line| line.starts_with('|')).count(),
        COMMANDS.len() + 2
    );
}

#[test]
fn given_the_help_text_then_it_shows_where_and_who_from_the_config() {
    let help = help_text(&Config::default());
    let row = |name: &str| {
        help.lines()
            .find(|line| line.starts_with(&format!("| `/debt {name}")))
            .unwrap_or_else(|| panic!("no row for {name} in:\n{help}"))
            .to_string()
    };
    assert_eq!(
        row("classify"),
        "| `/debt classify debt\\|feature\\|ops\\|none` | pull requests | write or higher | \
         Override this pull request's class (`none`: count it as unclassified). |"
    );
    assert!(row("help").contains("| anywhere | anyone |"));
    assert!(row("accept-drift").contains("| maintain or higher |"));
    assert!(row("link").contains("| incident issues or pull requests |"));
    assert!(row("ignore").contains("| debt issues |"));
}

#[test]
fn given_the_help_text_then_its_commands_parse_when_the_argument_is_filled_in() {
    // Every usage shown starts with a verb the parser knows.
    let config = Config::default();
    let help = help_text(&config);
    for line in help.lines().filter(|line| line.starts_with("| `/debt ")) {
        let usage = &line["| `/debt ".len()..];
        let verb = usage.split([' ', '`']).next().unwrap_or_default();
        assert!(Verb::from_name(verb).is_some(), "{line}");
    }
}
