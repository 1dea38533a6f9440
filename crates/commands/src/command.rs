//! What a parsed command line means: [`Command`] and its arguments, and the
//! [`CommandError`] a user gets back when a line names no valid command.

use std::fmt;

use crate::spec::{Verb, join_or};

/// Highest value `points N` accepts; larger numbers are almost surely typos
/// and would swamp a sprint's budget.
pub const MAX_POINTS: u32 = 1000;

/// How a pull request's work counts toward the sprint budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Pays down debt.
    Debt,
    /// Feature work.
    Feature,
    /// Operations work.
    Ops,
    /// Counts toward no class (written `none`).
    Unclassified,
}

impl Class {
    /// Names accepted by `classify`, in the order messages list them.
    pub const NAMES: &'static [&'static str] = &["debt", "feature", "ops", "none"];

    /// Reads a class name case-insensitively.
    pub fn from_name(name: &str) -> Option<Class> {
        match name.to_ascii_lowercase().as_str() {
            "debt" => Some(Class::Debt),
            "feature" => Some(Class::Feature),
            "ops" => Some(Class::Ops),
            "none" => Some(Class::Unclassified),
            _ => None,
        }
    }

    /// The name as `classify` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Class::Debt => "debt",
            Class::Feature => "feature",
            Class::Ops => "ops",
            Class::Unclassified => "none",
        }
    }
}

/// The issue named by `link`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IssueRef {
    /// `owner/repo` when the user named a repository (`owner/repo#12` or a URL);
    /// `None` means the repository the comment is in. The caller refuses
    /// references to other repositories.
    pub repo: Option<String>,
    /// The issue number (at least 1).
    pub number: u64,
}

impl fmt::Display for IssueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repo {
            Some(repo) => write!(f, "{repo}#{}", self.number),
            None => write!(f, "#{}", self.number),
        }
    }
}

/// A valid command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Command {
    /// List the commands.
    Help,
    /// Show the sprint budget and the PR's class and points.
    Status,
    /// Override the PR's class.
    Classify(Class),
    /// Override the PR's points.
    Points(u32),
    /// Accept drift, with the reason given.
    AcceptDrift {
        /// Why the trade-off is acceptable (never empty).
        reason: String,
    },
    /// Link this incident or PR to a debt issue.
    Link(IssueRef),
    /// Rescan the PR now.
    Scan,
    /// Stop tracking the debt item.
    Ignore,
    /// Resume tracking the debt item.
    Unignore,
}

impl Command {
    /// The command's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Command::Help => Verb::Help,
            Command::Status => Verb::Status,
            Command::Classify(_) => Verb::Classify,
            Command::Points(_) => Verb::Points,
            Command::AcceptDrift { .. } => Verb::AcceptDrift,
            Command::Link(_) => Verb::Link,
            Command::Scan => Verb::Scan,
            Command::Ignore => Verb::Ignore,
            Command::Unignore => Verb::Unignore,
        }
    }
}

/// The canonical form without the prefix, e.g. `classify debt` or
/// `accept-drift "launch week"`; parsing it again gives the same command.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = self.verb();
        match self {
            Command::Classify(class) => write!(f, "{verb} {}", class.name()),
            Command::Points(points) => write!(f, "{verb} {points}"),
            Command::AcceptDrift { reason } => write!(f, "{verb} \"{reason}\""),
            Command::Link(issue) => write!(f, "{verb} {issue}"),
            _ => write!(f, "{verb}"),
        }
    }
}

/// Why a command line was not understood. Each message is one or two plain
/// sentences ending with a pointer to help under the configured prefix, ready
/// to post as a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The word after the prefix is not a command.
    #[error("`{}` is not a paydown command{} See `{prefix} help` for the list of commands.", echo(.verb), did_you_mean(*.suggestion))]
    UnknownVerb {
        /// The word as written.
        verb: String,
        /// The closest command, when one is close enough.
        suggestion: Option<Verb>,
        /// The configured prefix, for the pointer to help.
        prefix: String,
    },
    /// A command that needs an argument got none.
    #[error("`{verb}` needs {}, like `{prefix} {}`. See `{prefix} help` for the list of commands.", expected(*.verb), .verb.spec().example)]
    MissingArgument {
        /// The command.
        verb: Verb,
        /// The configured prefix.
        prefix: String,
    },
    /// The argument is not one the command accepts.
    #[error("`{}` is not {}, like `{prefix} {}`. See `{prefix} help` for the list of commands.", echo(.argument), expected(*.verb), .verb.spec().example)]
    BadArgument {
        /// The command.
        verb: Verb,
        /// The argument as written.
        argument: String,
        /// The configured prefix.
        prefix: String,
    },
    /// Words after a command that takes none, or after its single argument.
    #[error("`{verb}` {}; remove `{}`. See `{prefix} help` for the list of commands.", takes(*.verb), echo(.extra))]
    UnexpectedArguments {
        /// The command.
        verb: Verb,
        /// The words that were not expected.
        extra: String,
        /// The configured prefix.
        prefix: String,
    },
    /// An `accept-drift` reason longer than the bot will echo.
    #[error(
        "The reason is {length} characters long; `accept-drift` takes at most {limit}. Link to a longer write-up instead. See `{prefix} help` for the list of commands."
    )]
    ReasonTooLong {
        /// The reason's length, in characters.
        length: usize,
        /// The limit.
        limit: usize,
        /// The configured prefix.
        prefix: String,
    },
    /// The comment holds more commands than one comment may run.
    #[error(
        "A comment may hold at most {limit} commands; paydown ran the first {limit} and skipped the rest. See `{prefix} help` for the list of commands."
    )]
    TooManyCommands {
        /// The limit.
        limit: usize,
        /// The configured prefix.
        prefix: String,
    },
}

/// Text as written, for inside the backticks of a message: a backtick in
/// it cannot close the code span (letting a mention or link out), and no
/// bidi control or comment delimiter survives.
fn echo(text: &str) -> String {
    paydown_markdown::code_span(text)
}

fn did_you_mean(suggestion: Option<Verb>) -> String {
    suggestion.map_or_else(
        || ".".to_string(),
        |verb| format!("; did you mean `{verb}`?"),
    )
}

/// What a command's argument must be, as a noun phrase.
fn expected(verb: Verb) -> String {
    match verb {
        Verb::Classify => format!(
            "a class: {}",
            join_or(
                &Class::NAMES
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
            )
        ),
        Verb::Points => format!("a whole number of points from 0 to {MAX_POINTS}"),
        Verb::AcceptDrift => "a reason".to_string(),
        Verb::Link => "a debt issue (`#123`, `123`, `owner/repo#123` or its URL)".to_string(),
        _ => "no arguments".to_string(),
    }
}

fn takes(verb: Verb) -> &'static str {
    match verb {
        Verb::Classify | Verb::Points | Verb::Link => "takes a single argument",
        _ => "takes no arguments",
    }
}
