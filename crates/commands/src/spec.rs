//! The command table: every slash command of docs/commands.md as data (verb, argument
//! grammar, where it runs, which permission gates it, one-line help), and the
//! help text generated from it so the two can't drift apart.

use std::fmt;

use paydown_config::{Config, Permission};

/// Where a comment was written. The caller works it out from the event: a
/// pull request, or an issue that paydown tracks as a debt item, or an issue
/// carrying an incident label, or any other issue. An issue that is both a
/// debt issue and an incident should be reported as the debt issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// A pull request (comments on its conversation tab).
    PullRequest,
    /// An ordinary issue, neither a debt issue nor an incident.
    Issue,
    /// An issue paydown keeps for a debt item.
    DebtIssue,
    /// An issue carrying one of `incidents.labels`.
    IncidentIssue,
}

impl Place {
    /// Every place, in the order help text lists them.
    pub const ALL: &'static [Place] = &[
        Place::PullRequest,
        Place::Issue,
        Place::DebtIssue,
        Place::IncidentIssue,
    ];

    /// Plural noun used in messages ("works on pull requests").
    pub fn plural(self) -> &'static str {
        match self {
            Place::PullRequest => "pull requests",
            Place::Issue => "issues",
            Place::DebtIssue => "debt issues",
            Place::IncidentIssue => "incident issues",
        }
    }

    /// Singular noun with an article ("not on an issue").
    pub fn with_article(self) -> &'static str {
        match self {
            Place::PullRequest => "a pull request",
            Place::Issue => "an ordinary issue",
            Place::DebtIssue => "a debt issue",
            Place::IncidentIssue => "an incident issue",
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plural())
    }
}

/// The verbs paydown understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `help`
    Help,
    /// `status`
    Status,
    /// `classify debt|feature|ops|none`
    Classify,
    /// `points N`
    Points,
    /// `accept-drift <reason>`
    AcceptDrift,
    /// `link #N`
    Link,
    /// `scan`
    Scan,
    /// `ignore`
    Ignore,
    /// `unignore`
    Unignore,
}

impl Verb {
    /// The verb as users write it (lower case).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// This verb's row of [`COMMANDS`].
    pub fn spec(self) -> &'static CommandSpec {
        // The table holds every verb exactly once (a unit test checks it);
        // indexing by discriminant keeps this lookup total without a panic path.
        &COMMANDS[self as usize]
    }

    /// Looks a verb up case-insensitively.
    pub fn from_name(name: &str) -> Option<Verb> {
        COMMANDS
            .iter()
            .find(|spec| spec.name.eq_ignore_ascii_case(name))
            .map(|spec| spec.verb)
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who may run a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Anyone who can comment (the command changes nothing).
    Anyone,
    /// At least `commands.permission` (default `write`): the command changes state.
    CommandsPermission,
    /// At least `drift.accept_permission` (default `maintain`).
    AcceptDriftPermission,
}

impl Gate {
    /// The permission this gate requires under `config`; `None` when anyone may run it.
    pub fn required(self, config: &Config) -> Option<Permission> {
        match self {
            Gate::Anyone => None,
            Gate::CommandsPermission => Some(config.commands.permission),
            Gate::AcceptDriftPermission => Some(config.drift.accept_permission),
        }
    }
}

/// One row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// The verb.
    pub verb: Verb,
    /// How the verb is written.
    pub name: &'static str,
    /// Argument grammar as shown in help (empty when the command takes none).
    pub args: &'static str,
    /// Where the command may run.
    pub places: &'static [Place],
    /// Who may run it.
    pub gate: Gate,
    /// One-line description for help.
    pub summary: &'static str,
    /// A valid invocation without the prefix, used in help and error messages.
    pub example: &'static str,
}

/// Every command, in [`Verb`] order (the order help lists them).
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        verb: Verb::Help,
        name: "help",
        args: "",
        places: Place::ALL,
        gate: Gate::Anyone,
        summary: "List the commands (the prefix alone does the same).",
        example: "help",
    },
    CommandSpec {
        verb: Verb::Status,
        name: "status",
        args: "",
        places: &[Place::PullRequest],
        gate: Gate::Anyone,
        summary: "Show the sprint budget and this pull request's class and points.",
        example: "status",
    },
    CommandSpec {
        verb: Verb::Classify,
        name: "classify",
        args: "debt|feature|ops|none",
        places: &[Place::PullRequest],
        gate: Gate::CommandsPermission,
        summary: "Override this pull request's class (`none`: count it as unclassified).",
        example: "classify debt",
    },
    CommandSpec {
        verb: Verb::Points,
        name: "points",
        args: "N",
        places: &[Place::PullRequest],
        gate: Gate::CommandsPermission,
        summary: "Override this pull request's points (a whole number from 0 to 1000).",
        example: "points 3",
    },
    CommandSpec {
        verb: Verb::AcceptDrift,
        name: "accept-drift",
        args: "<reason>",
        places: &[Place::PullRequest],
        gate: Gate::AcceptDriftPermission,
        summary: "Accept that this pull request eats reserved debt capacity, and record why.",
        example: "accept-drift \"launch week\"",
    },
    CommandSpec {
        verb: Verb::Link,
        name: "link",
        args: "#N",
        places: &[Place::IncidentIssue, Place::PullRequest],
        gate: Gate::CommandsPermission,
        summary: "Link this incident or pull request to debt issue N.",
        example: "link #123",
    },
    CommandSpec {
        verb: Verb::Scan,
        name: "scan",
        args: "",
        places: &[Place::PullRequest],
        // Gated although it changes no data: it rewrites the check run and
        // spends API quota, which commenters without write access shouldn't control.
        gate: Gate::CommandsPermission,
        summary: "Rescan this pull request now.",
        example: "scan",
    },
    CommandSpec {
        verb: Verb::Ignore,
        name: "ignore",
        args: "",
        places: &[Place::DebtIssue],
        gate: Gate::CommandsPermission,
        summary: "Stop tracking this debt item.",
        example: "ignore",
    },
    CommandSpec {
        verb: Verb::Unignore,
        name: "unignore",
        args: "",
        places: &[Place::DebtIssue],
        gate: Gate::CommandsPermission,
        summary: "Resume tracking this debt item.",
        example: "unignore",
    },
];

/// Joins words as "a", "a or b", "a, b or c".
pub(crate) fn join_or(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Where a command runs, as help shows it.
fn places_text(places: &[Place]) -> String {
    if Place::ALL.iter().all(|place| places.contains(place)) {
        return "anywhere".to_string();
    }
    join_or(
        &places
            .iter()
            .map(|place| place.plural().to_string())
            .collect::<Vec<_>>(),
    )
}

/// The reply to `help`: a Markdown table of every command with the configured
/// prefix, where it runs and who may run it under `config`.
pub fn help_text(config: &Config) -> String {
    let prefix = config.commands.prefix.as_str();
    let mut out = String::from(
        "**paydown commands**: one per line at the start of a line, in a pull request or issue comment.\n\n\
         | command | where | who | what it does |\n|---|---|---|---|\n",
    );
    for spec in COMMANDS {
        let usage = if spec.args.is_empty() {
            format!("{prefix} {}", spec.name)
        } else {
            format!("{prefix} {} {}", spec.name, spec.args)
        };
        let who = match spec.gate.required(config) {
            None => "anyone".to_string(),
            Some(permission) => format!("{} or higher", permission.as_str()),
        };
        // A `|` inside a code span would still end the table cell.
        let usage = usage.replace('|', "\\|");
        out.push_str(&format!(
            "| `{usage}` | {} | {who} | {} |\n",
            places_text(spec.places),
            spec.summary
        ));
    }
    out.push_str(&format!(
        "\nArguments with spaces may be quoted: `{prefix} accept-drift \"launch week\"`. \
         `link` accepts `#123`, `123`, `owner/repo#123` or the issue's URL. \
         Commands inside code, quotes and HTML comments are ignored.\n"
    ));
    out
}
