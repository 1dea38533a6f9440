//! Who a body written to GitHub would notify. GitHub turns `@login` and
//! `@org/team` in Markdown text into mentions that notify (not inside code
//! spans, code blocks or HTML comments); a bot that copies text from code
//! or users into its bodies can therefore ping anyone. The fake reads every
//! written body the way GitHub would, so a test can assert nobody was.

use std::sync::LazyLock;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use regex::Regex;

/// `@login` or `@org/team` starting a word, as GitHub links them.
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\w@`])@([A-Za-z0-9](?:-?[A-Za-z0-9])*(?:/[A-Za-z0-9][\w.-]*)?)")
        .expect("valid mention pattern")
});

/// The mentions in `markdown` that would notify someone.
pub fn mentions(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_code_block = false;
    // Text split by inline markup is joined, as GitHub scans the rendered
    // text run, not the source events one by one.
    let mut run = String::new();
    let flush = |run: &mut String, found: &mut Vec<String>| {
        found.extend(MENTION.captures_iter(run).map(|c| format!("@{}", &c[1])));
        run.clear();
    };
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            Event::Text(text) if !in_code_block => run.push_str(&text),
            // A code span, HTML or a break ends the run without notifying.
            _ => flush(&mut run, &mut found),
        }
    }
    flush(&mut run, &mut found);
    found
}

/// Every string a write request sets that GitHub renders as Markdown:
/// issue and comment bodies, check-run summaries and text (titles are plain
/// text and notify nobody).
pub(crate) fn rendered_fields(body: &serde_json::Value) -> Vec<&str> {
    let mut out = Vec::new();
    if let Some(s) = body.get("body").and_then(|v| v.as_str()) {
        out.push(s);
    }
    if let Some(output) = body.get("output") {
        for key in ["summary", "text"] {
            if let Some(s) = output.get(key).and_then(|v| v.as_str()) {
                out.push(s);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_are_found_in_text_but_not_in_code_or_broken_ones() {
        assert_eq!(
            mentions("owner @alice and @octo-org/big-team, mail a@b.c"),
            ["@alice", "@octo-org/big-team"]
        );
        assert!(mentions("`@alice` and\n\n```\n@bob\n```\n<!-- @carol -->").is_empty());
        assert!(mentions("@\u{200b}alice and @\u{2060}bob").is_empty());
    }
}
