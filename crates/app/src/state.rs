//! The per-repository key-value state (`repo_state` in the App's store):
//! its typed keys and the [`RepoStateStore`] seam the use cases keep their
//! caches through.
//!
//! Every key the App reads or writes is a [`RepoStateKey`] variant, so a
//! key cannot be misspelled at a call site and two features cannot collide
//! on one string by accident. The rendered strings are what databases
//! already hold: changing one orphans existing state, which the tests below
//! pin.

use std::future::Future;

/// Why the state store failed (the store's own error, boxed: the use cases
/// only pass it on).
pub type StateError = Box<dyn std::error::Error + Send + Sync>;

/// A repository's key-value state, as the App's store keeps it (SQLite or
/// PostgreSQL). `repo` is the repository's `owner/name`.
pub trait RepoStateStore: Send + Sync {
    /// The value under `key`, if any.
    fn get(
        &self,
        repo: &str,
        key: &RepoStateKey,
    ) -> impl Future<Output = Result<Option<String>, StateError>> + Send;
    /// Sets (replaces) the value under `key`.
    fn put(
        &self,
        repo: &str,
        key: &RepoStateKey,
        value: &str,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
    /// Removes `key`; whether it was there.
    fn delete(
        &self,
        repo: &str,
        key: &RepoStateKey,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;
    /// Every key of a numbered family with its value, by number.
    fn list(
        &self,
        repo: &str,
        prefix: RepoStatePrefix,
    ) -> impl Future<Output = Result<Vec<(u64, String)>, StateError>> + Send;
}

/// One entry of a repository's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoStateKey {
    /// The sprint ledger's cached record of one pull request (JSON
    /// `PrRecord`): `pr:<number>`.
    PrRecord(u64),
    /// An open pull request whose drift check is not green, holding its
    /// head sha: `budgets:drifting:<number>`.
    Drifting(u64),
    /// Set once the ledger cache was seeded; holds the `since` of the next
    /// comment read.
    BudgetsSeeded,
    /// When the ledger cache was last seeded from the API.
    BudgetsReseeded,
    /// The text of the last valid `.github/paydown.yml` a sync saw on the
    /// default branch (empty: no file, the defaults). Absent until a sync
    /// saw a valid one.
    LastValidConfig,
    /// The (repository, label) pairs whose incident issues were
    /// backfilled (JSON).
    IncidentBackfill,
    /// Issue number → debt issues `/debt link` linked it to, kept on the
    /// home repository (JSON).
    IncidentLinks,
    /// The sync state as one JSON blob, as versions before migration 0007
    /// kept it; only read to move it into rows.
    LegacySyncState,
}

impl RepoStateKey {
    /// The key as stored.
    pub fn as_key(&self) -> String {
        match self {
            RepoStateKey::PrRecord(n) => format!("{}{n}", RepoStatePrefix::PrRecords.as_prefix()),
            RepoStateKey::Drifting(n) => format!("{}{n}", RepoStatePrefix::Drifting.as_prefix()),
            RepoStateKey::BudgetsSeeded => "budgets:seeded".into(),
            RepoStateKey::BudgetsReseeded => "budgets:reseeded".into(),
            RepoStateKey::LastValidConfig => "paydown.last-valid-config".into(),
            RepoStateKey::IncidentBackfill => "incidents.backfill".into(),
            RepoStateKey::IncidentLinks => "incidents.links".into(),
            RepoStateKey::LegacySyncState => "paydown.sync-state".into(),
        }
    }
}

/// A family of numbered keys, listed together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoStatePrefix {
    /// Every [`RepoStateKey::PrRecord`].
    PrRecords,
    /// Every [`RepoStateKey::Drifting`].
    Drifting,
}

impl RepoStatePrefix {
    /// The stored prefix shared by the family's keys.
    pub fn as_prefix(&self) -> &'static str {
        match self {
            RepoStatePrefix::PrRecords => "pr:",
            RepoStatePrefix::Drifting => "budgets:drifting:",
        }
    }

    /// The number of a stored key of this family; `None` for a key of
    /// another family or with a suffix that is not a number (left by hand
    /// or by a future version), which listing skips.
    pub fn parse(&self, key: &str) -> Option<u64> {
        let digits = key.strip_prefix(self.as_prefix())?;
        // `u64::from_str` accepts a leading `+`, which `as_key` never writes.
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// The key of this family with `number`.
    pub fn key(&self, number: u64) -> RepoStateKey {
        match self {
            RepoStatePrefix::PrRecords => RepoStateKey::PrRecord(number),
            RepoStatePrefix::Drifting => RepoStateKey::Drifting(number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_renders_the_string_existing_databases_hold() {
        // Given each key, when rendered, then it is exactly today's string:
        // a rename here would orphan every repository's stored state.
        let pinned = [
            (RepoStateKey::PrRecord(42), "pr:42"),
            (RepoStateKey::Drifting(7), "budgets:drifting:7"),
            (RepoStateKey::BudgetsSeeded, "budgets:seeded"),
            (RepoStateKey::BudgetsReseeded, "budgets:reseeded"),
            (RepoStateKey::LastValidConfig, "paydown.last-valid-config"),
            (RepoStateKey::IncidentBackfill, "incidents.backfill"),
            (RepoStateKey::IncidentLinks, "incidents.links"),
            (RepoStateKey::LegacySyncState, "paydown.sync-state"),
        ];
        for (key, text) in pinned {
            assert_eq!(key.as_key(), text, "{key:?}");
        }
        assert_eq!(RepoStatePrefix::PrRecords.as_prefix(), "pr:");
        assert_eq!(RepoStatePrefix::Drifting.as_prefix(), "budgets:drifting:");
    }

    #[test]
    fn numbered_keys_parse_back_to_their_number() {
        for prefix in [RepoStatePrefix::PrRecords, RepoStatePrefix::Drifting] {
            for n in [0, 1, 999, u64::MAX] {
                // Given a numbered key, when rendered and parsed by its family,
                let key = prefix.key(n);
                // then the number comes back, and it is the key's own family.
                assert_eq!(prefix.parse(&key.as_key()), Some(n), "{key:?}");
                assert!(key.as_key().starts_with(prefix.as_prefix()));
            }
        }
    }

    #[test]
    fn keys_of_other_families_or_with_odd_suffixes_do_not_parse() {
        let prs = RepoStatePrefix::PrRecords;
        assert_eq!(prs.parse("budgets:drifting:3"), None);
        assert_eq!(prs.parse("pr_3"), None);
        assert_eq!(prs.parse("pr:"), None);
        assert_eq!(prs.parse("pr:+3"), None);
        assert_eq!(prs.parse("pr:3x"), None);
        assert_eq!(prs.parse("pr:99999999999999999999"), None);
        // `budgets:seeded` shares the `budgets:` start but not the family.
        assert_eq!(RepoStatePrefix::Drifting.parse("budgets:seeded"), None);
    }
}
