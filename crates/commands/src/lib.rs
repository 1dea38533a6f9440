//! Slash commands in pull request and issue comments (SPEC §6), as pure code:
//! the command table and generated help, the comment parser with positioned
//! errors, edited-comment diffing, and the permission decision. No I/O: the
//! caller fetches the comment, the place and the commenter's permission, and
//! posts the reactions and replies.
//!
//! Grammar choices, all visible in [`help_text`] or the error messages:
//! - a command is a line starting with the prefix (`/debt`, ASCII case
//!   ignored) or `@app-slug`, then white space or the end of the line; the
//!   prefix alone means `help`; verbs and classes ignore case;
//! - `accept-drift` takes the rest of the line as its reason, without one
//!   pair of enclosing quotes (`"…"`, `'…'`, `“…”`, `‘…’`, `„…“`, `«…»`);
//! - `link` takes `#12`, `12`, `owner/repo#12` or an issue URL; the caller
//!   refuses another repository's issue;
//! - `points` takes a whole number from 0 to [`MAX_POINTS`];
//! - a comment runs at most [`MAX_COMMANDS_PER_COMMENT`] commands.
//!
//! ```
//! use paydown_commands::{Command, Class, Place, authorise, parse_comment};
//! use paydown_config::{Config, Permission};
//!
//! let config = Config::default();
//! let parsed = parse_comment("Thanks!\n/debt classify debt\n", "/debt", "paydown");
//! assert_eq!(parsed[0].line, 2);
//! let command = parsed[0].result.clone().unwrap();
//! assert_eq!(command, Command::Classify(Class::Debt));
//! assert!(authorise(&command, Place::PullRequest, Some(Permission::Write), &config).is_ok());
//! assert!(authorise(&command, Place::PullRequest, Some(Permission::Read), &config).is_err());
//! ```

mod authorise;
mod command;
mod parse;
mod spec;

pub use authorise::{Refusal, authorise};
pub use command::{Class, Command, CommandError, IssueRef, MAX_POINTS};
pub use parse::{MAX_COMMANDS_PER_COMMENT, Parsed, added_commands, parse_comment};
pub use spec::{COMMANDS, CommandSpec, Gate, Place, Verb, help_text};
