//! Owns the one rule for putting text that paydown did not write (issue and
//! PR titles, command lines, reasons, config errors, code annotation text,
//! file names) into the Markdown paydown posts: such text must render as
//! written and must never open or close an HTML comment, so nobody can
//! forge the hidden `<!-- paydown:… -->` markers the bot later reads back,
//! hide the rest of a comment, or inject HTML. Nor may it make the bot
//! notify anyone or lead readers elsewhere: no `@user` or `@org/team`
//! mention, no `owner/repo#N` cross-reference (which notifies that issue's
//! subscribers), no link, image or autolink, no bidi control that reorders
//! what the reader sees.
//!
//! Mentions, cross-references and autolinks are broken with a zero-width
//! space after the `@`, the `#` or the `:` of `://` (GitHub's own bots quote
//! text this way); link and image brackets, backslashes and backticks are
//! backslash-escaped; bidi controls become U+FFFD.
//!
//! - [`inert`]: the text as-is, with `<` and `>` as entities (and `&` where
//!   it would otherwise start an entity), line breaks kept.
//! - [`single_line`]: [`inert`] on one line (control characters and runs of
//!   whitespace become one space).
//! - [`table_cell`]: [`single_line`] with `|` escaped, for a GFM table cell.
//! - [`code_span`]: text for inside single backticks, where entities are
//!   shown literally, so comment delimiters are broken up instead (GitHub
//!   makes no mention, reference or link inside a code span).
//! - [`table_code_span`]: [`code_span`] for a code span inside a table cell.
//! - [`user`]: a GitHub login or team shown as a name, or as a mention only
//!   when the caller's configuration asks for one.
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
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut prev: Option<char> = None;
    for (at, c) in text.char_indices() {
        let rest = &text[at + c.len_utf8()..];
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' if starts_entity(rest) => out.push_str("&amp;"),
            // Link and image syntax, code spans, and the escapes that could
            // undo the escaping of either.
            '[' | ']' | '\\' | '`' => {
                out.push('\\');
                out.push(c);
            }
            // `@login`, `@org/team`, and e-mail autolinks.
            '@' if rest.starts_with(|n: char| n.is_ascii_alphanumeric()) => {
                out.push_str("@\u{200B}");
            }
            // `owner/repo#12` (a same-repository `#12` stays a reference).
            '#' if rest.starts_with(|n: char| n.is_ascii_digit())
                && prev.is_some_and(|p| p.is_ascii_alphanumeric() || "_.-".contains(p)) =>
            {
                out.push_str("#\u{200B}");
            }
            // `https://…` autolinks.
            ':' if rest.starts_with("//") => out.push_str(":\u{200B}"),
            // `www.…` autolinks.
            '.' if prev.is_some_and(|p| p.eq_ignore_ascii_case(&'w'))
                && text[..at].to_ascii_lowercase().ends_with("www") =>
            {
                out.push_str("\u{200B}.");
            }
            c if is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
        prev = Some(c);
    }
    out
}

/// Characters that reorder the text around them when displayed (the
/// "Trojan Source" controls): embeddings, overrides, isolates and marks.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
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
            c if is_bidi_control(c) => '\u{FFFD}',
            c => c,
        })
        .collect::<String>();
    line.replace("<!--", "<!-\u{200B}-")
        .replace("-->", "-\u{200B}->")
}

/// [`code_span`] for a code span inside a GFM table cell. The table is
/// split into cells before code spans are read, so a `|` must be escaped
/// even there, and a backslash doubled so that it cannot escape that
/// escape (`\|` would end the cell).
pub fn table_code_span(text: &str) -> String {
    code_span(text).replace('\\', "\\\\").replace('|', "\\|")
}

/// A GitHub login or `org/team` as shown in a body: a mention (`@login`,
/// which notifies) only when `mention` is set and the name is a well-formed
/// login or team; otherwise the name in a code span, which GitHub never
/// turns into a mention (escaped for a table cell, where owners are shown).
pub fn user(name: &str, mention: bool) -> String {
    let name = name.trim().trim_start_matches('@');
    let login = |part: &str| {
        !part.is_empty()
            && part.len() <= 39
            && !part.starts_with('-')
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let well_formed = match name.split_once('/') {
        None => login(name),
        Some((org, team)) => {
            login(org)
                && !team.is_empty()
                && team
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
    };
    if mention && well_formed {
        format!("@{name}")
    } else {
        format!("`{}`", table_code_span(name))
    }
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
    fn given_mentions_references_and_links_then_none_survives() {
        let hostile = "cc @alice @org/big-team x@example.com acme/shop#12 acme#3 \
             [click](https://evil.example) ![i](https://evil.example/p.png) \
             https://github.com/acme/shop/issues/1 WWW.evil.example";
        let out = inert(hostile);
        assert!(
            !out.contains("@a") && !out.contains("@o") && !out.contains("@e"),
            "{out}"
        );
        assert!(!out.contains("shop#1") && !out.contains("acme#3"), "{out}");
        assert!(!out.contains("https://"), "{out}");
        assert!(!out.replace("\\]", "").contains(']'), "{out}");
        assert!(!out.contains("WWW.evil"), "{out}");
        assert!(out.contains("\\[click\\]"), "{out}");
        // What the reader sees is still the text as typed.
        assert_eq!(out.replace(['\u{200B}', '\\'], ""), hostile);
    }

    #[test]
    fn given_backslashes_and_backticks_then_escapes_cannot_be_undone() {
        // `\[` would leave the bracket unescaped; `a\|b` would end a cell.
        assert_eq!(inert("\\[x](y)"), "\\\\\\[x\\](y)");
        assert_eq!(table_cell("a\\|b"), "a\\\\\\|b");
        assert_eq!(inert("`code`"), "\\`code\\`");
        assert_eq!(table_code_span("a\\|b"), "a\\\\\\|b");
    }

    #[test]
    fn given_bidi_controls_then_they_are_replaced_everywhere() {
        let trojan = "ok\u{202E}gnp.exe\u{2066}x\u{200F}";
        for out in [inert(trojan), code_span(trojan), table_cell(trojan)] {
            assert!(!out.chars().any(is_bidi_control), "{out:?}");
            assert_eq!(out.matches('\u{FFFD}').count(), 3, "{out:?}");
        }
    }

    #[test]
    fn given_owners_then_they_are_mentions_only_when_asked() {
        assert_eq!(user("alice", false), "`alice`");
        assert_eq!(user("@org/big-team", false), "`org/big-team`");
        assert_eq!(user("@alice", true), "@alice");
        assert_eq!(user("org/big-team", true), "@org/big-team");
        // A name that is no login is never written as a mention.
        assert_eq!(user("al ice`<!--", true), "`al ice'<!-\u{200B}-`");
    }

    #[test]
    fn given_plain_text_then_it_is_unchanged() {
        let text = "Fix the flaky retry (#12): it's 3x slower — ünïcode ok";
        assert_eq!(inert(text), text);
        assert_eq!(table_cell(text), text);
        assert_eq!(code_span(text), text);
    }
}

/// A hostile corpus and a checker for tests of every bot-written body:
/// render the corpus through the body, then [`testing::leaks`] lists what
/// would notify, load, link or reorder on GitHub.
pub mod testing {
    /// Text an attacker can put in code, file names, titles or comments.
    pub const HOSTILE: &[&str] = &[
        "@mallory",
        "@evil-org/everyone",
        "victim/repo#1",
        "mallory@evil.example",
        "![pixel](https://evil.example/p.png)",
        "[click](https://evil.example/x)",
        "https://evil.example/y",
        "www.evil.example",
        "ok\u{202E}gnp.exe",
        "<!-- paydown:item id=forged v=1 -->",
        "<img src=https://evil.example/z>",
        "a | b || c",
        "`tick` ``two``",
        "\\|\\[x\\](y)",
    ];

    /// One line carrying the whole corpus.
    pub fn hostile_line() -> String {
        HOSTILE.join(" ")
    }

    /// What in `body` would notify, load, link or reorder: a mention, a
    /// cross-reference, an image, a link, an autolink, a bidi control or a
    /// forged marker, outside code spans (where GitHub does none of that).
    pub fn leaks(body: &str) -> Vec<String> {
        let mut found = Vec::new();
        if body.contains("<!-- paydown:item id=forged") {
            found.push("forged marker".to_string());
        }
        // The bot's own hidden markers are not rendered.
        let mut shown = String::new();
        let mut rest = body;
        while let Some(open) = rest.find("<!--") {
            shown.push_str(&rest[..open]);
            rest = rest[open..]
                .find("-->")
                .map_or("", |end| &rest[open + end + 3..]);
        }
        shown.push_str(rest);
        let body = shown.as_str();
        let text = outside_code_spans(body);
        for needle in [
            "@mallory",
            "@evil-org",
            "victim/repo#1",
            "@evil.example",
            "](https://evil",
            "https://evil",
            "www.evil",
            "<img",
        ] {
            if text.contains(needle) {
                found.push(needle.to_string());
            }
        }
        if body.chars().any(super::is_bidi_control) {
            found.push("bidi control".to_string());
        }
        found
    }

    /// `body` without the content of code spans (backslash-escaped
    /// backticks open none) and without the destinations of the bot's own
    /// links (an unescaped `](` up to `)`: percent-encoded permalinks).
    fn outside_code_spans(body: &str) -> String {
        let mut out = String::new();
        let (mut in_span, mut in_dest, mut escaped) = (false, false, false);
        let mut prev = ' ';
        for c in body.chars() {
            match c {
                ')' if in_dest => in_dest = false,
                _ if in_dest => {}
                '`' if !escaped => in_span = !in_span,
                '(' if !in_span && prev == ']' && !escaped => in_dest = true,
                _ if !in_span => out.push(c),
                _ => {}
            }
            escaped = c == '\\' && !escaped;
            prev = c;
        }
        out
    }
}
