//! Slash commands in pull request and issue comments (docs/commands.md): the command
//! table and generated help, the comment parser with positioned errors,
//! edited-comment diffing, the permission decision and the reply, all as
//! pure code; and [`run_comment`] ([`run`]), the one I/O entry point the App
//! and the Action share, which fetches the commenter's permission, runs the
//! commands against GitHub and posts the reactions and reply.
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
mod event;
mod parse;
mod permission;
pub mod reply;
pub mod run;
mod spec;
mod steps;

pub use authorise::{Refusal, authorise};
pub use command::{Class, Command, CommandError, IssueRef, MAX_POINTS};
pub use event::{CommentAction, CommentEvent, PayloadError, is_bot};
pub use parse::{
    MAX_COMMANDS_PER_COMMENT, MAX_ECHO_CHARS, MAX_REASON_CHARS, Parsed, added_commands,
    could_hold_command, parse_comment,
};
pub use permission::{PERMISSION_TTL, PermissionCache};
pub use reply::{CommandResult, Outcome, Reply, place_of, render_reply};
pub use run::{RunError, RunOptions, RunOutcome, Skipped, run_comment, run_comment_with_note};
pub use spec::{COMMANDS, CommandSpec, Gate, Place, Verb, help_text};
