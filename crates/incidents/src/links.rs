//! Links between incidents and debt items, both ways: references an
//! incident's text makes to debt issues and item ids, and the incidents an
//! annotation names with `incident=`.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use regex::Regex;

use crate::model::{Incident, Reference};

/// At most this many item-id candidates are kept per incident: an incident
/// body is stranger-sized text, and ids are a few words of it at most.
pub const MAX_ITEM_CANDIDATES: usize = 256;

/// Longest item id (the annotations crate caps explicit ids at 100).
const MAX_ID_LEN: usize = 100;

static ISSUE_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"https?://[^/\s]+/([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9_.-]+)/issues/([0-9]{1,10})\b",
    )
    .expect("static regex")
});
static REPO_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^A-Za-z0-9_./-])([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9_.-]+)#([0-9]{1,10})\b",
    )
    .expect("static regex")
});
static SHORT_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Za-z0-9_&/#.-])#([0-9]{1,10})\b").expect("static regex")
});
static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]").expect("static regex"));

/// The references in an incident's text (title and body): debt issues as
/// `#N`, `owner/name#N` or an issue URL (any host, so GitHub Enterprise
/// works), and words that could be item ids.
///
/// An item-id candidate must contain a digit, `-` or `_`: derived ids
/// (`FIXME-3fa2c1d09e7b`) and ids like `orders-n-plus-one` qualify, while a
/// plain word such as `cache` is never read as an id (it would link every
/// incident that mentions caching). Such ids link through `/debt link`,
/// the generic body's `debt` list or the annotation's `incident=` instead.
pub fn extract_references(text: &str) -> Vec<Reference> {
    let mut out: BTreeSet<Reference> = BTreeSet::new();
    for c in ISSUE_URL.captures_iter(text) {
        if let Ok(number) = c[3].parse() {
            out.insert(Reference::Issue {
                repository: Some(format!("{}/{}", &c[1], &c[2]).to_ascii_lowercase()),
                number,
            });
        }
    }
    for c in REPO_REF.captures_iter(text) {
        if let Ok(number) = c[3].parse() {
            out.insert(Reference::Issue {
                repository: Some(format!("{}/{}", &c[1], &c[2]).to_ascii_lowercase()),
                number,
            });
        }
    }
    for c in SHORT_REF.captures_iter(text) {
        if let Ok(number) = c[1].parse() {
            out.insert(Reference::Issue {
                repository: None,
                number,
            });
        }
    }
    let mut candidates = 0;
    for m in TOKEN.find_iter(text) {
        if candidates >= MAX_ITEM_CANDIDATES {
            break;
        }
        let word = m.as_str();
        if could_be_item_id(word)
            && out.insert(Reference::Item {
                id: word.to_string(),
            })
        {
            candidates += 1;
        }
    }
    out.into_iter().collect()
}

fn could_be_item_id(word: &str) -> bool {
    word.len() <= MAX_ID_LEN
        && word.len() >= 3
        && word
            .bytes()
            .any(|b| b.is_ascii_digit() || b == b'-' || b == b'_')
        && !word.bytes().all(|b| b.is_ascii_digit())
}

/// An incident as an annotation's `incident=` names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IncidentKey {
    /// A GitHub issue, repository lowercased.
    GitHub {
        /// `owner/name`, lowercased.
        repository: String,
        /// The issue number.
        number: u64,
    },
    /// A PagerDuty incident by its number (`PD-1234`).
    PagerDuty {
        /// The number after `PD-`.
        number: u64,
    },
}

/// Reads one `incident=` value: `#412` or `412` (an issue of `own_repo`),
/// `owner/name#412`, an issue URL, or `PD-1234`.
pub fn parse_incident_key(value: &str, own_repo: &str) -> Option<IncidentKey> {
    let value = value.trim();
    if let Some(n) = value
        .get(..3)
        .filter(|p| p.eq_ignore_ascii_case("pd-"))
        .and_then(|_| value[3..].parse().ok())
    {
        return Some(IncidentKey::PagerDuty { number: n });
    }
    let github = |repository: &str, number: &str| {
        Some(IncidentKey::GitHub {
            repository: repository.to_ascii_lowercase(),
            number: number.parse().ok()?,
        })
    };
    if let Some(c) = ISSUE_URL.captures(value) {
        return github(&format!("{}/{}", &c[1], &c[2]), &c[3]);
    }
    match value.split_once('#') {
        Some(("", n)) => github(own_repo, n),
        Some((repo, n)) if repo.contains('/') => github(repo, n),
        Some(_) => None,
        None => github(own_repo, value),
    }
}

/// What the linker needs to know about one debt item.
#[derive(Debug, Clone, Copy)]
pub struct ItemLinks<'a> {
    /// The item's stable id.
    pub id: &'a str,
    /// The item's debt issue, once it has one.
    pub issue: Option<u64>,
    /// The annotation's `incident=` values, as written.
    pub incidents: &'a [String],
}

/// Resolves incidents to the items of one repository. Built once per
/// ranking; each lookup is a few hash probes per reference.
#[derive(Debug, Default)]
pub struct Linker {
    repo: String,
    by_issue: HashMap<u64, Vec<u32>>,
    by_id: HashMap<String, u32>,
    by_key: HashMap<IncidentKey, Vec<u32>>,
}

impl Linker {
    /// `repo` is `owner/name` of the debt items; item indexes in the
    /// answers are positions in `items`.
    pub fn new(repo: &str, items: &[ItemLinks<'_>]) -> Self {
        let repo = repo.to_ascii_lowercase();
        let mut linker = Linker {
            repo,
            ..Linker::default()
        };
        for (index, item) in items.iter().enumerate() {
            let index = index as u32;
            if let Some(n) = item.issue {
                linker.by_issue.entry(n).or_default().push(index);
            }
            linker.by_id.insert(item.id.to_string(), index);
            for value in item.incidents {
                if let Some(key) = parse_incident_key(value, &linker.repo) {
                    linker.by_key.entry(key).or_default().push(index);
                }
            }
        }
        linker
    }

    /// Indexes of the items `incident` links to, sorted and unique, appended
    /// to `out` after clearing it.
    pub fn items_for(&self, incident: &Incident, out: &mut Vec<u32>) {
        out.clear();
        let home = incident
            .repository
            .as_deref()
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| self.repo.clone());
        for reference in &incident.references {
            match reference {
                Reference::Issue { repository, number } => {
                    let repo = repository.as_deref().unwrap_or(&home);
                    if repo.eq_ignore_ascii_case(&self.repo)
                        && let Some(items) = self.by_issue.get(number)
                    {
                        out.extend(items);
                    }
                }
                Reference::Item { id } => out.extend(self.by_id.get(id)),
            }
        }
        let key = match (incident.source.as_str(), incident.number) {
            ("github", Some(number)) => Some(IncidentKey::GitHub {
                repository: home,
                number,
            }),
            ("pagerduty", Some(number)) => Some(IncidentKey::PagerDuty { number }),
            _ => None,
        };
        if let Some(items) = key.and_then(|k| self.by_key.get(&k)) {
            out.extend(items);
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use chrono::{TimeZone, Utc};

    fn issue(repo: Option<&str>, number: u64) -> Reference {
        Reference::Issue {
            repository: repo.map(String::from),
            number,
        }
    }

    fn item(id: &str) -> Reference {
        Reference::Item { id: id.into() }
    }

    #[test]
    fn given_incident_text_then_issue_references_and_id_candidates_are_found() {
        let text = "Checkout down again, see #12 and acme/widgets#34.\n\
                    Root cause: https://github.example.com/Acme/Widgets/issues/56 \
                    (FIXME-3fa2c1d09e7b, orders-n-plus-one). Not a ref: a&#39;b, x#7, 100%";
        let refs = extract_references(text);
        assert!(refs.contains(&issue(None, 12)), "{refs:?}");
        assert!(refs.contains(&issue(Some("acme/widgets"), 34)));
        assert!(refs.contains(&issue(Some("acme/widgets"), 56)));
        assert!(refs.contains(&item("FIXME-3fa2c1d09e7b")));
        assert!(refs.contains(&item("orders-n-plus-one")));
        assert!(
            !refs.contains(&issue(None, 34)),
            "the repo ref is not also #34"
        );
        assert!(!refs.contains(&issue(None, 39)), "an HTML entity is no ref");
        assert!(!refs.contains(&issue(None, 7)), "x#7 is no ref");
        assert!(!refs.contains(&item("Checkout")), "plain words are not ids");
    }

    #[test]
    fn given_a_paydown_link_marker_then_it_is_a_reference() {
        let refs = extract_references("<!-- paydown:link debt=#9 -->");
        assert_eq!(refs, [issue(None, 9)]);
    }

    #[test]
    fn given_a_huge_body_then_candidates_are_capped() {
        let text: String = (0..10_000).map(|i| format!("id-{i} ")).collect();
        let refs = extract_references(&text);
        assert_eq!(refs.len(), MAX_ITEM_CANDIDATES);
    }

    #[test]
    fn annotation_incident_values_are_read() {
        let own = "acme/widgets";
        let gh = |r: &str, n| IncidentKey::GitHub {
            repository: r.into(),
            number: n,
        };
        assert_eq!(parse_incident_key("#412", own), Some(gh(own, 412)));
        assert_eq!(parse_incident_key("412", own), Some(gh(own, 412)));
        assert_eq!(
            parse_incident_key("Acme/Ops#3", own),
            Some(gh("acme/ops", 3))
        );
        assert_eq!(
            parse_incident_key("https://github.com/acme/ops/issues/8", own),
            Some(gh("acme/ops", 8))
        );
        assert_eq!(
            parse_incident_key("PD-1234", own),
            Some(IncidentKey::PagerDuty { number: 1234 })
        );
        assert_eq!(parse_incident_key("pd-x", own), None);
        assert_eq!(parse_incident_key("JIRA-1", own), None);
    }

    fn incident(source: &str, repo: Option<&str>, number: u64, refs: Vec<Reference>) -> Incident {
        Incident {
            source: source.into(),
            id: format!("{source}-{number}"),
            number: Some(number),
            title: String::new(),
            url: None,
            repository: repo.map(String::from),
            status: Status::Triggered,
            severity: None,
            started_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            resolved_at: None,
            references: refs,
        }
    }

    #[test]
    fn given_items_when_incidents_reference_them_then_each_resolves_to_its_items() {
        let pd = ["PD-77".to_string()];
        let ops = ["acme/ops#5".to_string()];
        let items = [
            ItemLinks {
                id: "cache-1",
                issue: Some(10),
                incidents: &[],
            },
            ItemLinks {
                id: "FIXME-aaaaaaaaaaaa",
                issue: Some(11),
                incidents: &pd,
            },
            ItemLinks {
                id: "orders",
                issue: None,
                incidents: &ops,
            },
        ];
        let linker = Linker::new("Acme/Widgets", &items);
        let mut out = Vec::new();
        let cases: Vec<(Incident, Vec<u32>)> = vec![
            // `#10` in the repository itself.
            (
                incident("github", Some("acme/widgets"), 1, vec![issue(None, 10)]),
                vec![0],
            ),
            // `#10` written in acme/ops means acme/ops#10: no link.
            (
                incident("github", Some("acme/ops"), 2, vec![issue(None, 10)]),
                vec![],
            ),
            // A full reference from acme/ops, plus the annotation's back-link.
            (
                incident(
                    "github",
                    Some("acme/ops"),
                    5,
                    vec![issue(Some("acme/widgets"), 11)],
                ),
                vec![1, 2],
            ),
            // PagerDuty by number, through `incident=PD-77`.
            (incident("pagerduty", None, 77, vec![]), vec![1]),
            // A generic incident listing an item id and an unknown id.
            (
                incident(
                    "acme-status",
                    Some("acme/widgets"),
                    9,
                    vec![item("cache-1"), item("nope-1")],
                ),
                vec![0],
            ),
        ];
        for (inc, want) in cases {
            linker.items_for(&inc, &mut out);
            assert_eq!(out, want, "{}", inc.id);
        }
    }
}
