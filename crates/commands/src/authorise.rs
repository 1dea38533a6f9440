//! The pure permission decision for a parsed command: may it run here, and
//! does the commenter's repository permission suffice? The caller supplies
//! the permission from GitHub's collaborator-permission API, never from a
//! payload's `author_association` (it reports private org members as
//! contributors).

use paydown_config::{Config, Permission};

use crate::command::Command;
use crate::spec::{Place, Verb, join_or};

/// Why a valid command is not run; the message is ready to post.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The command does not apply where it was written.
    #[error("`{verb}` works on {}, not on {}. See `{prefix} help` for the list of commands.", allowed(*.verb), .place.with_article())]
    WrongPlace {
        /// The command.
        verb: Verb,
        /// Where it was written.
        place: Place,
        /// The configured prefix.
        prefix: String,
    },
    /// The commenter's permission is below what the command needs.
    #[error("`{verb}` needs {} permission on this repository; you have {}. See `{prefix} help` for who may run what.", .needed.as_str(), .have.map_or("none", Permission::as_str))]
    TooLittlePermission {
        /// The command.
        verb: Verb,
        /// The permission it needs (or any higher one).
        needed: Permission,
        /// The commenter's permission; `None` when they have none.
        have: Option<Permission>,
        /// The configured prefix.
        prefix: String,
    },
}

fn allowed(verb: Verb) -> String {
    join_or(
        &verb
            .spec()
            .places
            .iter()
            .map(|place| place.plural().to_string())
            .collect::<Vec<_>>(),
    )
}

/// Decides whether `command`, written at `place` by someone with repository
/// `permission` (`None`: no access), may run under `config`. The place is
/// checked first, so a misplaced command gets the more useful answer.
pub fn authorise(
    command: &Command,
    place: Place,
    permission: Option<Permission>,
    config: &Config,
) -> Result<(), Refusal> {
    let verb = command.verb();
    let spec = verb.spec();
    let prefix = config.commands.prefix.clone();
    if !spec.places.contains(&place) {
        return Err(Refusal::WrongPlace {
            verb,
            place,
            prefix,
        });
    }
    match spec.gate.required(config) {
        Some(needed) if permission.is_none_or(|have| have < needed) => {
            Err(Refusal::TooLittlePermission {
                verb,
                needed,
                have: permission,
                prefix,
            })
        }
        _ => Ok(()),
    }
}
