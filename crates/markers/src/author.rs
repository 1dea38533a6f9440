//! Who "the bot" is: the one account whose hidden markers paydown trusts.
//!
//! Any App, Dependabot or a workflow posting as `github-actions[bot]` has
//! `type: "Bot"`, and some echo user text; trusting markers from every bot
//! would let them plant records or take over paydown's sticky comments. So
//! every lookup of "the bot's own comment / check run" asks [`BotIdentity`].

/// The login paydown posts as, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotIdentity {
    login: Option<String>,
}

impl BotIdentity {
    /// The bot posts as `login` (e.g. `paydown[bot]`, `github-actions[bot]`).
    pub fn login(login: impl Into<String>) -> Self {
        let login = login.into();
        Self {
            login: (!login.trim().is_empty()).then(|| login.trim().to_string()),
        }
    }

    /// The author is unknown: any account of type `Bot` counts (for callers
    /// that cannot know, e.g. a report run with a personal token).
    pub fn any_bot() -> Self {
        Self { login: None }
    }

    /// The known login, if any.
    pub fn known_login(&self) -> Option<&str> {
        self.login.as_deref()
    }

    /// The App slug behind the login (`paydown[bot]` → `paydown`), which
    /// check runs carry as `app.slug`.
    pub fn app_slug(&self) -> Option<&str> {
        let login = self.login.as_deref()?;
        Some(login.strip_suffix("[bot]").unwrap_or(login))
    }

    /// Whether a comment by `login` (of GitHub user `type` `user_type`) is
    /// the bot's own: the exact login (case-insensitive) when known, else
    /// any account of type `Bot`.
    pub fn owns(&self, login: &str, user_type: Option<&str>) -> bool {
        match &self.login {
            Some(mine) => mine.eq_ignore_ascii_case(login),
            None => user_type == Some("Bot"),
        }
    }

    /// Whether the bot may have written something by `login`, when looking
    /// for a write of its own that it just sent (an exact body or marker):
    /// [`Self::owns`], or anyone when the login is unknown (a personal
    /// token), since what is looked for is exactly what was sent.
    pub fn may_have_written(&self, login: &str, user_type: Option<&str>) -> bool {
        self.known_login().is_none() || self.owns(login, user_type)
    }

    /// Whether a check run made by the App `slug` is the bot's own; a run
    /// without app information, or any run when the identity is unknown,
    /// counts.
    pub fn owns_app(&self, slug: Option<&str>) -> bool {
        match (self.app_slug(), slug) {
            (Some(mine), Some(theirs)) => mine.eq_ignore_ascii_case(theirs),
            _ => true,
        }
    }
}

/// Whether an account is a bot: `type: Bot`, or a `…[bot]` login when the
/// type is missing (older payloads). Bots never run slash commands; this is
/// not whether the account is paydown (see [`BotIdentity::owns`]).
pub fn is_bot_account(login: &str, user_type: Option<&str>) -> bool {
    user_type.is_some_and(|t| t.eq_ignore_ascii_case("bot"))
        || login.to_ascii_lowercase().ends_with("[bot]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_known_login_then_only_that_account_is_the_bot() {
        let me = BotIdentity::login("paydown[bot]");
        assert!(me.owns("paydown[bot]", Some("Bot")));
        assert!(me.owns("Paydown[Bot]", Some("Bot")));
        assert!(!me.owns("other-app[bot]", Some("Bot")));
        assert!(!me.owns("github-actions[bot]", Some("Bot")));
        assert!(!me.owns("paydown", Some("User")));
        assert_eq!(me.app_slug(), Some("paydown"));
        assert!(me.owns_app(Some("paydown")));
        assert!(!me.owns_app(Some("other-app")));
        assert!(me.owns_app(None));
    }

    #[test]
    fn given_no_login_then_any_bot_counts_as_before() {
        let any = BotIdentity::any_bot();
        assert!(any.owns("other-app[bot]", Some("Bot")));
        assert!(!any.owns("alice", Some("User")));
        assert!(!any.owns("alice", None));
        assert!(any.owns_app(Some("other-app")));
        assert_eq!(BotIdentity::login("  "), any);
    }
}
