//! Metadata linting of the debt a pull request writes (docs/annotations.md "Linting"):
//! fields the config's `annotations.require` demands per keyword, and
//! metadata the grammar could not read. Only added items and edited items
//! whose keyword line the PR wrote are linted (a finding sits on the keyword
//! line), so old code never gets findings.

use paydown_annotations::Annotation;
use paydown_config::{Config, MetadataField};
use serde::Serialize;

use crate::delta::DebtDelta;

/// One problem with an annotation the PR adds or edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    /// The file, relative to the repository root.
    pub path: String,
    /// The annotation's first line (1-based).
    pub line: u32,
    /// Its last line.
    pub end_line: u32,
    /// The keyword that opened it (`DEBT`, `TODO`…).
    pub keyword: String,
    /// The item's id, so callers can group findings per item.
    pub id: String,
    /// Plain-language message, e.g. "DEBT needs an owner (`@user` or `DEBT(name)`)".
    pub message: String,
}

/// Findings for every added annotation and every edited one (head version)
/// whose keyword line the PR wrote, in delta order: missing required fields
/// first, then unreadable metadata. An old item whose body alone the PR
/// edits is not linted: its finding would land on an unchanged line.
pub fn lint(delta: &DebtDelta, config: &Config) -> Vec<LintFinding> {
    let written = delta.added.iter().chain(
        delta
            .edited
            .iter()
            .map(|(_, new)| new)
            .filter(|new| delta.wrote_keyword_line(new)),
    );
    let mut findings = Vec::new();
    for annotation in written {
        for &field in config.annotations.required_for(&annotation.keyword) {
            if !carries(annotation, field) {
                findings.push(finding(
                    annotation,
                    missing_message(&annotation.keyword, field),
                ));
            }
        }
        for problem in &annotation.metadata.problems {
            findings.push(finding(
                annotation,
                format!("{}: {problem}", annotation.keyword),
            ));
        }
    }
    findings
}

/// One error in `.github/paydown.yml` as the PR changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigFinding {
    /// The config file's path.
    pub path: String,
    /// 1-based; 0 when the error concerns the whole file.
    pub line: usize,
    /// 1-based; 0 when the error concerns a whole line or the file.
    pub column: usize,
    /// What is wrong, in plain language.
    pub message: String,
}

fn finding(annotation: &Annotation, message: String) -> LintFinding {
    LintFinding {
        path: annotation.path.clone(),
        line: annotation.line,
        end_line: annotation.end_line.max(annotation.line),
        keyword: annotation.keyword.clone(),
        id: annotation.id.clone(),
        message,
    }
}

/// Whether the annotation has `field` in its metadata.
fn carries(annotation: &Annotation, field: MetadataField) -> bool {
    let m = &annotation.metadata;
    match field {
        MetadataField::Owner => !m.owners.is_empty(),
        MetadataField::Cost => m.cost.is_some(),
        MetadataField::Area => m.area.is_some(),
        MetadataField::Tier => m.tier.is_some(),
        MetadataField::Incident => !m.incidents.is_empty(),
        MetadataField::Due => m.due.is_some(),
        MetadataField::Id => m.id.is_some(),
        MetadataField::Issue => m.issue.is_some(),
    }
}

/// "DEBT needs an owner (`@user` or `DEBT(name)`)": names the field and
/// shows how to write it.
fn missing_message(keyword: &str, field: MetadataField) -> String {
    let how = match field {
        MetadataField::Owner => format!("an owner (`{keyword}(@user)` or `{keyword}(name)`)"),
        MetadataField::Cost => format!("a cost (`{keyword}(cost=3d)`; h, d, w or pt)"),
        MetadataField::Area => format!("an area (`{keyword}(area=billing)`)"),
        MetadataField::Tier => format!("a tier (`{keyword}(tier=1)`, 1 is highest)"),
        MetadataField::Incident => format!("a linked incident (`{keyword}(incident=#412)`)"),
        MetadataField::Due => format!("a due date (`{keyword}(due=2027-03-31)`)"),
        MetadataField::Id => format!("an explicit id (`{keyword}(id=orders-n-plus-one)`)"),
        MetadataField::Issue => format!("its debt issue (`{keyword}(#123)`)"),
    };
    format!(
        "{keyword} needs {how}: `annotations.require` in .github/paydown.yml asks every {keyword} for `{}`",
        field.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydown_annotations::{ScanOptions, scan_text};

    fn annotations(text: &str) -> Vec<Annotation> {
        scan_text("a.py", text, &ScanOptions::default()).unwrap()
    }

    fn config(yaml: &str) -> Config {
        paydown_config::parse(yaml, ".github/paydown.yml").unwrap()
    }

    #[test]
    fn given_debt_requires_owner_and_cost_when_one_is_missing_then_one_finding() {
        let delta = DebtDelta {
            added: annotations("# DEBT(cost=3d): one query per line\n# TODO: fine\n"),
            ..DebtDelta::default()
        };
        let findings = lint(
            &delta,
            &config("annotations:\n  require: {DEBT: [owner, cost]}\n"),
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].line, 1);
        assert!(
            findings[0].message.starts_with("DEBT needs an owner"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn given_unreadable_metadata_then_it_is_a_finding() {
        let delta = DebtDelta {
            added: annotations("# TODO(cost=lots): x\n"),
            ..DebtDelta::default()
        };
        let findings = lint(&delta, &Config::default());
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains("cost"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn given_an_edited_item_then_it_is_linted_only_when_its_keyword_line_is_new() {
        let config = config("annotations:\n  require: {DEBT: [owner]}\n");
        let base = "# DEBT: one query per order line\n#   old body\n";
        let delta_of = |head: &str| {
            let files = [crate::delta::FileVersions::new(
                "a.py",
                None,
                Some((base, annotations(base))),
                Some((head, annotations(head))),
            )];
            let delta = crate::delta::compute_delta(&files);
            assert_eq!(delta.edited.len(), 1, "{delta:?}");
            lint(&delta, &config)
        };
        // Only the body changed: the keyword line is old code.
        assert!(delta_of("# DEBT: one query per order line\n#   new body\n").is_empty());
        // The keyword line itself was rewritten by the PR.
        let findings = delta_of("# DEBT: one query per order line, slow\n#   old body\n");
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].line, 1);
    }

    #[test]
    fn given_removed_items_missing_fields_then_nothing_is_reported() {
        let delta = DebtDelta {
            removed: annotations("# DEBT: old\n"),
            ..DebtDelta::default()
        };
        let findings = lint(
            &delta,
            &config("annotations:\n  require: {DEBT: [owner]}\n"),
        );
        assert!(findings.is_empty());
    }
}
