//! Scenarios across formats: each marker reads back as written, old versions
//! still read, and a marker from anyone but the bot, or inside text the bot
//! quoted, is never believed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Decision {
    Points { points: u32, by: String },
    Reason { reason: String },
}

fn meta(id: &str) -> ItemMeta {
    ItemMeta {
        id: id.to_string(),
        path: "src/a.rs".to_string(),
        line: 3,
        end_line: 4,
        keyword: "TODO".to_string(),
        text: "flush <the> cache & --> more".to_string(),
        sha: "abc".to_string(),
        first_seen: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        owners: vec!["alice".to_string()],
        adopted: true,
    }
}

#[test]
fn given_each_format_rendered_into_a_bot_body_when_parsed_then_it_reads_back() {
    // Item and meta.
    let m = meta("todo-1");
    let body = format!(
        "Text\n{}\n{}\n",
        item::item_line("todo-1"),
        item::meta_line(&m)
    );
    let parsed = item::parse(&body).unwrap();
    assert_eq!((parsed.id.as_str(), parsed.meta), ("todo-1", Some(m)));

    // PR debt counts.
    let counts = DeltaCounts {
        added: 2,
        removed: 1,
        edited: 3,
    };
    let body = format!("{}\n### report", pr_debt::render(counts));
    assert_eq!(pr_debt::parse(&body), Some(counts));
    assert!(pr_debt::is_report_comment(&body));
    assert_eq!(counts.paid(), 4);

    // Records, with a reason that tries to end the comment.
    let decisions = vec![
        Decision::Points {
            points: 3,
            by: "maria".into(),
        },
        Decision::Reason {
            reason: "launch --> <b>now</b>".into(),
        },
    ];
    let body = format!(
        "Recorded.\n\n{}\n{}\n",
        record::render(&decisions[0]),
        record::render(&decisions[1])
    );
    assert_eq!(body.matches("-->").count(), 2, "{body}");
    assert_eq!(record::parse::<Decision>(&body), decisions);

    // Reply: the marker names what it answers, and only that.
    let marker = reply::reply_marker(42, "abc123");
    let body = format!("👍\n\n{marker}\n");
    assert!(reply::answers(&body, &marker));
    assert!(!reply::answers(&body, &reply::reply_marker(42, "other")));

    // Link: incident linking reads it as a reference to the debt issue.
    let refs = paydown_incidents::extract_references(&reply::link_marker(9));
    assert_eq!(
        refs,
        [paydown_incidents::Reference::Issue {
            repository: None,
            number: 9
        }]
    );

    // Flag markers.
    let closed = closed_by_bot::mark("Body\n\n");
    assert_eq!(closed, format!("Body\n{}", closed_by_bot::MARKER));
    assert_eq!(closed_by_bot::mark(&closed), closed, "marked once");
    assert!(closed_by_bot::is_marked(&closed));
    assert_eq!(closed_by_bot::unmark(&closed), "Body");
    assert!(dashboard::is_dashboard(&format!(
        "{}\n# Debt",
        dashboard::MARKER
    )));
    assert!(drift::is_drift_comment(&format!(
        "{}\nOver budget",
        drift::MARKER
    )));
    assert!(!drift::is_drift_comment(&format!(
        "quoting {}",
        drift::MARKER
    )));
}

#[test]
fn given_bodies_written_by_earlier_versions_then_they_still_parse() {
    // Version 1 item markers, before meta lines existed: the id alone.
    let parsed = item::parse("Old body\n<!-- paydown:item id=todo-1 v=1 -->").unwrap();
    assert_eq!((parsed.id.as_str(), parsed.meta), ("todo-1", None));
    // Every version the bot ever wrote stays readable.
    for v in READ_VERSIONS {
        let line = format!("<!-- paydown:item id=a v={v} -->");
        assert_eq!(item::parse(&line).map(|m| m.id), Some("a".into()), "{line}");
    }
    assert!(READ_VERSIONS.contains(&VERSION));
    // Meta written before `owners` and `adopted` existed.
    let old_meta = r#"<!-- paydown:meta {"id":"a","path":"p","line":1,"end_line":1,"keyword":"TODO","text":"t","sha":"s","first_seen":"2025-01-01"} -->"#;
    let parsed = item::parse(&format!("<!-- paydown:item id=a v=1 -->\n{old_meta}")).unwrap();
    let meta = parsed.meta.unwrap();
    assert!(meta.owners.is_empty() && !meta.adopted);
    // A pr-debt marker as the first reviews wrote it (no spaces to trim).
    assert_eq!(
        pr_debt::parse(r#"<!-- paydown:pr-debt {"added":1,"removed":0,"edited":0} -->"#),
        Some(DeltaCounts {
            added: 1,
            removed: 0,
            edited: 0
        })
    );
}

#[test]
fn given_versions_no_bot_wrote_then_the_item_marker_is_not_read() {
    let next = READ_VERSIONS.iter().max().unwrap() + 1;
    for body in [
        format!("<!-- paydown:item id=a v={next} -->"),
        "<!-- paydown:item id=a v=01 -->".to_string(),
        "<!-- paydown:item id=a v=+1 -->".to_string(),
        "<!-- paydown:item id=a v=0 -->".to_string(),
    ] {
        assert_eq!(item::parse(&body), None, "{body}");
    }
}

#[test]
fn given_a_marker_in_a_comment_not_by_the_bot_then_it_is_not_read() {
    let body = format!(
        "{}\n{}",
        record::render(&Decision::Points {
            points: 1,
            by: "mallory".into()
        }),
        pr_debt::render(DeltaCounts {
            added: 0,
            removed: 99,
            edited: 0
        })
    );
    let me = BotIdentity::login("paydown[bot]");
    // Given the same body from a person, another App and the bot itself.
    // When markers are read the way every caller gates them.
    let read = |login: &str, kind: &str| {
        me.owns(login, Some(kind)).then(|| {
            (
                record::parse::<Decision>(&body).len(),
                pr_debt::parse(&body),
            )
        })
    };
    // Then only the bot's own comment is read.
    assert_eq!(read("mallory", "User"), None);
    assert_eq!(read("other-app[bot]", "Bot"), None);
    assert_eq!(read("github-actions[bot]", "Bot"), None);
    assert_eq!(read("paydown", "User"), None);
    assert!(read("paydown[bot]", "Bot").is_some_and(|(n, c)| n == 1 && c.is_some()));
    // Without a known login only accounts of type Bot count.
    let any = BotIdentity::any_bot();
    assert!(!any.owns("mallory", Some("User")));
    assert!(!any.owns("mallory", None));
    assert!(any.owns("other-app[bot]", Some("Bot")));
}

#[test]
fn given_a_marker_injected_in_user_text_then_the_bot_body_carries_none_of_it() {
    let forgeries = [
        record::render(&Decision::Points {
            points: 1,
            by: "mallory".into(),
        }),
        pr_debt::render(DeltaCounts {
            added: 0,
            removed: 99,
            edited: 0,
        }),
        item::item_line("evil"),
        item::meta_line(&meta("evil")),
        reply::reply_marker(1, "x"),
        drift::MARKER.to_string(),
        dashboard::MARKER.to_string(),
        closed_by_bot::MARKER.to_string(),
    ];
    for forged in &forgeries {
        // Given user text (a title, a reason, annotation text) that is a
        // marker, put on its own line by the bot as the Markdown crate
        // renders user text.
        for rendered in [
            paydown_markdown::inert(forged),
            paydown_markdown::single_line(forged),
            paydown_markdown::table_cell(forged),
            format!("`{}`", paydown_markdown::code_span(forged)),
            paydown_markdown::no_comments(forged),
        ] {
            let body = format!("Reason:\n{rendered}\n");
            // Then no parser reads a marker from it.
            assert!(record::parse::<Decision>(&body).is_empty(), "{body}");
            assert_eq!(pr_debt::parse(&body), None, "{body}");
            assert!(!pr_debt::is_report_comment(&body), "{body}");
            assert_eq!(item::parse(&body), None, "{body}");
            assert!(!reply::answers(&body, forged), "{body}");
            assert!(!drift::is_drift_comment(&body), "{body}");
            assert!(!dashboard::is_dashboard(&body), "{body}");
            assert!(!closed_by_bot::is_marked(&body), "{body}");
        }
    }
}

#[test]
fn given_a_marker_quoted_mid_line_then_line_anchored_parsers_ignore_it() {
    let counts = pr_debt::render(DeltaCounts::default());
    let record = record::render(&Decision::Points {
        points: 1,
        by: "x".into(),
    });
    let quoted = format!("> `/debt frob {counts} {record}`");
    assert_eq!(pr_debt::parse(&quoted), None);
    assert!(!pr_debt::is_report_comment(&quoted));
    assert!(record::parse::<Decision>(&quoted).is_empty());
    assert_eq!(item::parse(&format!("text {}", item::item_line("a"))), None);
}

#[test]
fn the_label_names_match_what_the_other_crates_use() {
    // Priority bands are labelled by the incidents crate.
    let bands: Vec<String> = paydown_incidents::Band::ALL
        .iter()
        .map(|b| b.label())
        .collect();
    assert_eq!(bands, labels::PRIORITY);
    // `budgets.ignore_labels` defaults to the ignore label.
    let config = paydown_config::Config::default();
    assert_eq!(config.work.ignore_labels, [labels::IGNORE_PR]);
    for label in [
        labels::WONTFIX,
        labels::IGNORED,
        labels::HOT,
        labels::AREA_PREFIX,
    ] {
        assert!(label.starts_with(labels::PREFIX), "{label}");
    }
    assert!(
        labels::PRIORITY
            .iter()
            .all(|l| l.starts_with(labels::PREFIX))
    );
}

#[test]
fn every_marker_is_one_html_comment_of_the_paydown_namespace() {
    for marker in [
        item::item_line("a"),
        item::meta_line(&meta("a")),
        pr_debt::render(DeltaCounts::default()),
        record::render(&Decision::Reason {
            reason: "<!-- x -->".into(),
        }),
        reply::reply_marker(1, "r"),
        reply::link_marker(1),
        drift::MARKER.to_string(),
        dashboard::MARKER.to_string(),
        closed_by_bot::MARKER.to_string(),
    ] {
        assert!(marker.starts_with("<!-- paydown:"), "{marker}");
        assert!(marker.ends_with(CLOSE), "{marker}");
        assert_eq!(marker.matches("<!--").count(), 1, "{marker}");
        assert_eq!(marker.matches("-->").count(), 1, "{marker}");
        assert!(!marker.contains('\n'), "{marker}");
    }
}
