//! GitHub response models shared by every paydown crate: only the fields
//! paydown reads, all defaulted where GitHub may omit them, so a crate
//! never keeps a private copy of the same JSON shape.

use serde::Deserialize;

use crate::BotIdentity;

/// A GitHub account as it appears on comments, issues and pull requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct User {
    #[serde(default)]
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// An issue or pull request comment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
}

impl Comment {
    /// Written by the bot itself (not merely by some bot).
    pub fn by(&self, identity: &BotIdentity) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| identity.owns(&u.login, u.kind.as_deref()))
    }

    /// Possibly the bot's own write of exactly what it sent
    /// ([`BotIdentity::may_have_written`]).
    pub fn may_be_by(&self, identity: &BotIdentity) -> bool {
        let user = self.user.clone().unwrap_or_default();
        identity.may_have_written(&user.login, user.kind.as_deref())
    }
}

/// The `id` GitHub answers a create with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Created {
    pub id: u64,
}

/// A label as it appears on issues and pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Label {
    pub name: String,
}
