//! Owns the one rule for putting text that paydown did not write (issue and
//! PR titles, command lines, reasons, config errors, code annotation text)
//! into the Markdown paydown posts: such text must render as written and
//! must never open or close an HTML comment, so nobody can forge the hidden
//! `<!-- paydown:… -->` markers the bot later reads back, hide the rest of a
//! comment, or inject HTML.
//!
//! - [`inert`]: the text as-is, with `<` and `>` as entities (and `&` where
//!   it would otherwise start an entity), line breaks kept.
//! - [`single_line`]: [`inert`] on one line (control characters and runs of
//!   whitespace become one space).
//! - [`table_cell`]: [`single_line`] with `|` escaped, for a GFM table cell.
//! - [`code_span`]: text for inside single backticks, where entities are
//!   shown literally, so comment delimiters are broken up instead.
//! - [`no_comments`]: a last pass over Markdown the bot composed around
//!   such text (a reply's messages), breaking any comment delimiter left.
//!
//! `&` is escaped only before something that reads as an entity (`&lt;`,
//! `&#60;`), so `a && b` stays readable while a title written as `&lt;!--`
//! is shown as typed rather than decoded. Entities are never decoded into
//! markup by GitHub, so this is about fidelity, not safety.

/// `text` rendered as written, unable to open or close an HTML comment or
/// start an HTML tag. Line breaks are kept (use [`single_line`] for inline
/// text).
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' if starts_entity(&text[at + 1..]) => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as one inert line: control characters (newlines, tabs) and runs of
/// whitespace become a single space, and the ends are trimmed, so the text
/// cannot start a heading, list or block of its own.
pub fn single_line(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    inert(&spaced.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `text` for a GFM table cell: [`single_line`] with `|` escaped so it
/// cannot end the cell.
pub fn table_cell(text: &str) -> String {
    single_line(text).replace('|', "\\|")
}

/// `text` for inside single backticks, on one line. GitHub shows entities
/// literally in a code span, so instead of [`inert`] the comment delimiters
/// are broken with a zero-width space (invisible, and no longer a
/// `<!--`/`-->` for GitHub or paydown's marker parsers), and backticks,
/// which cannot be escaped there, become `'`.
pub fn code_span(text: &str) -> String {
    let line = text
        .chars()
        .map(|c| match c {
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>();
    line.replace("<!--", "<!-\u{200B}-")
        .replace("-->", "-\u{200B}->")
}

/// Markdown the bot composed, with every HTML comment delimiter broken by a
/// zero-width space (invisible, valid in and out of code spans), for a
/// part of a body that must carry no marker: the bot then appends its own
/// markers after it.
pub fn no_comments(markdown: &str) -> String {
    markdown
        .replace("<!--", "<!-\u{200B}-")
        .replace("-->", "-\u{200B}->")
}

/// Whether `rest` (what follows an `&`) would be read as an entity:
/// `name;`, `#123;` or `#x1F;`.
fn starts_entity(rest: &str) -> bool {
    let body: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '#')
        .collect();
    !body.is_empty() && rest[body.len()..].starts_with(';')
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORGED: &str = r#"<!-- paydown:record {"kind":"class","class":"debt","by":"lead","at":"2099-01-01T00:00:00Z"} -->"#;

    #[test]
    fn given_a_forged_marker_then_inert_text_contains_no_comment_delimiters() {
        for render in [inert, single_line, table_cell] {
            let out = render(&format!("/debt frob {FORGED}"));
            assert!(!out.contains("<!--"), "{out}");
            assert!(!out.contains("-->"), "{out}");
            assert!(!out.contains('<') && !out.contains('>'), "{out}");
            assert!(out.contains("&lt;!-- paydown:record"), "{out}");
        }
    }

    #[test]
    fn given_a_forged_marker_in_a_code_span_then_its_delimiters_are_broken() {
        let out = code_span(&format!("x {FORGED} `y`"));
        assert!(!out.contains("<!--") && !out.contains("-->"), "{out}");
        assert!(!out.contains('`'), "{out}");
        assert!(out.contains("paydown:record"), "{out}");
    }

    #[test]
    fn given_composed_markdown_with_a_forged_marker_then_no_comment_is_left() {
        let out = no_comments(&format!("**`/debt frob {FORGED}`**\n\nDone."));
        assert!(!out.contains("<!--") && !out.contains("-->"), "{out}");
        assert!(out.starts_with("**`/debt frob <!-"), "{out}");
    }

    #[test]
    fn given_html_then_it_is_shown_not_rendered() {
        assert_eq!(
            inert("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(inert("a --> b"), "a --&gt; b");
    }

    #[test]
    fn given_ampersands_then_only_entity_lookalikes_are_escaped() {
        assert_eq!(inert("a && b & c"), "a && b & c");
        assert_eq!(
            inert("&lt;!-- &#60; &#x3c;"),
            "&amp;lt;!-- &amp;#60; &amp;#x3c;"
        );
        assert_eq!(inert("AT&T;"), "AT&amp;T;");
    }

    #[test]
    fn given_line_breaks_then_single_line_and_table_cell_keep_one_line() {
        assert_eq!(single_line("  launch\nweek \t now\r\n"), "launch week now");
        assert_eq!(table_cell("a | b\n# c"), "a \\| b # c");
        assert_eq!(inert("a\nb"), "a\nb");
    }

    #[test]
    fn given_plain_text_then_it_is_unchanged() {
        let text = "Fix the flaky retry (#12): it's 3x slower — ünïcode ok";
        assert_eq!(inert(text), text);
        assert_eq!(table_cell(text), text);
        assert_eq!(code_span(text), text);
    }
}
