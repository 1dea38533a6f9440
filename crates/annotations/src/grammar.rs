//! What counts as an annotation inside a comment, and its metadata.
//!
//! The grammar of docs/annotations.md, with the choices the spec leaves open written down
//! here (the README repeats them for users):
//!
//! - A line of a comment starts an annotation when, after white space and an
//!   optional run of decoration left by the lexer (`/ ! * # ; % - <`, e.g. the
//!   third `/` of `///`, the `!` of `//!`, a `- ` bullet), it starts with a
//!   configured keyword, case-sensitively, followed by the end of the line,
//!   white space, `:` or `(`. So `TODOS`, `TODO_LIST`, `TODO.md`, `TODO=1`,
//!   `TODO/x`, `TODO-x`, `TODO!`, `TODO,` and lowercase `todo` are not
//!   annotations, nor is a keyword after other words (`see TODO below`).
//!   `TODO://host` and `TODO::new` (a colon followed by `/` or `:`) are
//!   read as a URL or a path, not as annotations.
//! - Metadata is a balanced `( … )` immediately after the keyword
//!   (`TODO (alice)` is plain text). After the `)` only white space, `:` or
//!   the end may follow, so commented-out code like `TODO(x).run()` is not an
//!   annotation. An unclosed `(` means no metadata: the text is kept as
//!   written and a problem is recorded.
//! - ruff/flake8-todos style `TODO @alice: text` (a `@handle` between the
//!   keyword and a colon) names an owner, and a line right after a
//!   body-less annotation holding only an issue link (a URL, `#123` or
//!   `PD-42`, flake8-todos TD003) belongs to it, read like a bare metadata
//!   item.
//! - Then an optional `:`, an optional dash separator (`-`, `--`, `–`, `—`
//!   followed by white space) and the text. With `require_colon`, lines
//!   without the colon are not annotations.
//! - Metadata items are separated by commas and/or white space: `@user` and
//!   bare `name` are owners; `#123` is the debt issue; a bare item containing
//!   `/` (Google's `b/123`, a URL) or shaped like a tracker key (`JIRA-123`)
//!   is a reference, kept in `extra["ref"]` (several joined with `, `);
//!   `key=value` pairs (`key = value` too) with keys matched
//!   case-insensitively. Values may be quoted with `"` or `'`. `incident` may
//!   be repeated, and one quoted value may list several incidents separated
//!   by commas or spaces (`incident="#1, PD-2"`). A single-valued key given
//!   twice keeps the first value. Bad values are recorded in
//!   [`Metadata::problems`] and the annotation is still reported.
//! - Body: in a run of line comments, the following lines indented further
//!   than the keyword; in a block comment, the following lines. A blank
//!   comment line, or a line that itself starts an annotation, ends the body.
//!   When the keyword line has no text (`TODO:` alone), the first body line
//!   becomes the text.

use std::collections::btree_map::Entry;

use crate::id::is_valid_explicit_id;
use crate::{Annotation, Comment, CommentKind, CommentLine, Cost, CostUnit, Metadata, ScanOptions};

/// Characters the lexer may leave in front of the keyword (doc-comment
/// markers, repeated markers, bullets), skipped before looking for it.
const DECORATION: &[char] = &['/', '!', '*', '#', ';', '%', '-', '<'];

/// Dash separators allowed between the keyword (or its colon) and the text;
/// longest first so `--` is not read as `-` followed by text `- …`.
const DASHES: [&str; 4] = ["--", "-", "\u{2013}", "\u{2014}"];

/// The annotations in `comments` (ids not yet assigned).
pub fn annotations(path: &str, comments: &[Comment<'_>], options: &ScanOptions) -> Vec<Annotation> {
    let mut found = Vec::new();
    for comment in comments {
        scan_comment(path, comment, options, &mut found);
    }
    found
}

/// The keyword line of an annotation, parsed.
struct Head<'a> {
    keyword: &'a str,
    /// Absolute 1-based column of the keyword.
    column: u32,
    /// Decoration skipped before the keyword, also skipped on body lines.
    decoration: &'a str,
    metadata: Metadata,
    text: String,
}

fn scan_comment(
    path: &str,
    comment: &Comment<'_>,
    options: &ScanOptions,
    found: &mut Vec<Annotation>,
) {
    let lines = &comment.lines;
    let mut i = 0;
    while i < lines.len() {
        let Some(head) = parse_head(&lines[i], comment.kind, options) else {
            i += 1;
            continue;
        };
        let line = lines[i].line;
        let mut end_line = line;
        let mut body: Vec<&str> = Vec::new();
        i += 1;
        while let Some(next) = lines.get(i) {
            let (column, content) = body_line(next, head.decoration);
            let ends_body = content.is_empty()
                || parse_head(next, comment.kind, options).is_some()
                || (comment.kind == CommentKind::Line && column <= head.column);
            if ends_body {
                break;
            }
            body.push(content);
            end_line = next.line;
            i += 1;
        }
        let mut metadata = head.metadata;
        // flake8-todos (TD003) wants the issue link alone on the next line.
        if body.is_empty()
            && let Some(next) = lines.get(i)
        {
            let (_, content) = body_line(next, head.decoration);
            if is_issue_link(content) {
                bare_item(content, &mut metadata);
                end_line = next.line;
                i += 1;
            }
        }
        let mut text = head.text;
        if text.is_empty() && !body.is_empty() {
            text = body.remove(0).to_string();
        }
        found.push(Annotation {
            path: path.to_string(),
            line,
            column: head.column,
            end_line,
            keyword: head.keyword.to_string(),
            text,
            body: body.join("\n"),
            metadata,
            id: String::new(),
        });
    }
}

/// A line holding only `#123`, a URL or a tracker key (`PD-42`).
fn is_issue_link(content: &str) -> bool {
    !content.is_empty()
        && !content.contains(char::is_whitespace)
        && (is_incident(content) || is_tracker_key(content))
}

/// Column and trimmed content of a possible body line, skipping the same
/// decoration as the keyword line (so `///   more` continues `/// TODO`).
fn body_line<'a>(line: &CommentLine<'a>, decoration: &str) -> (u32, &'a str) {
    let text = line.text.trim_end();
    let start = text.trim_start();
    let undecorated = start.strip_prefix(decoration).unwrap_or(start);
    let content = undecorated.trim_start();
    (column_of(line, text, content), content)
}

/// Absolute column of `rest`, a suffix of `text`, which is `line.text`
/// without trailing white space.
fn column_of(line: &CommentLine<'_>, text: &str, rest: &str) -> u32 {
    let before = text.len() - rest.len();
    let chars = text.get(..before).map_or(0, |s| s.chars().count());
    line.column
        .saturating_add(u32::try_from(chars).unwrap_or(u32::MAX))
}

/// The annotation starting `line`, or else, in a line comment, the one
/// starting a comment inside it: commented-out code keeps its own trailing
/// comment (`# x = f()  # TODO: y`, `// call();  // FIXME z`), whose
/// keyword is at the start of that inner comment. Inside a block comment a
/// `//` or `#` is only text (`/* a /* b */ // TODO: c */` is one comment).
fn parse_head<'o, 'a>(
    line: &CommentLine<'a>,
    kind: CommentKind,
    options: &'o ScanOptions,
) -> Option<Head<'o>>
where
    'a: 'o,
{
    parse_head_here(line, options).or_else(|| {
        if kind == CommentKind::Block {
            return None;
        }
        let text = line.text;
        let mut from = 0;
        while let Some(k) = text[from..].find(INNER_MARKERS).map(|k| from + k) {
            from = k + 1;
            let marker = match text.as_bytes()[k] {
                b'#' => 1,
                _ if text[k..].starts_with("//") => 2,
                _ => continue,
            };
            let before_blank = text[..k].ends_with(char::is_whitespace);
            let after_blank = text[k + marker..].starts_with(char::is_whitespace);
            if !before_blank || !after_blank || text[..k].trim().is_empty() {
                continue;
            }
            let chars = u32::try_from(text[..k].chars().count()).unwrap_or(u32::MAX);
            let inner = CommentLine {
                line: line.line,
                column: line.column.saturating_add(chars),
                text: &text[k..],
            };
            if let Some(head) = parse_head_here(&inner, options) {
                return Some(head);
            }
        }
        None
    })
}

/// Markers of a comment inside a comment's text (see [`parse_head`]).
const INNER_MARKERS: [char; 2] = ['#', '/'];

fn parse_head_here<'o, 'a>(line: &CommentLine<'a>, options: &'o ScanOptions) -> Option<Head<'o>>
where
    'a: 'o,
{
    let text = line.text.trim_end();
    let start = text.trim_start();
    let undecorated = start.trim_start_matches(DECORATION);
    let decoration = &start[..start.len() - undecorated.len()];
    let rest = undecorated.trim_start();
    let keyword = options
        .keywords
        .iter()
        .filter(|k| !k.is_empty() && rest.starts_with(k.as_str()))
        .filter(|k| ends_word(&rest[k.len()..]))
        .max_by_key(|k| k.len())?;
    let column = column_of(line, text, rest);
    let after = &rest[keyword.len()..];

    let mut metadata = Metadata::default();
    let mut rest = after;
    let mut had_parens = false;
    if let Some(inner) = after.strip_prefix('(') {
        match find_close(inner) {
            Some(close) => {
                had_parens = true;
                metadata = parse_metadata(&inner[..close]);
                rest = &inner[close + 1..];
                if !ends_metadata(rest) {
                    return None;
                }
            }
            None => metadata.problems.push(format!(
                "the `(` after {keyword} is never closed, so its metadata is ignored"
            )),
        }
    }
    let mut rest = rest.trim_start();
    if !had_parens && let Some((owner, after_owner)) = ruff_owner(rest) {
        metadata.owners.push(owner.to_string());
        rest = after_owner;
    }
    let has_colon = match rest.strip_prefix(':') {
        Some(after_colon) => {
            if after_colon.starts_with([':', '/']) {
                return None;
            }
            rest = after_colon.trim_start();
            true
        }
        None => false,
    };
    if options.require_colon && !has_colon {
        return None;
    }
    for dash in DASHES {
        if let Some(after_dash) = rest.strip_prefix(dash) {
            if after_dash.is_empty() || after_dash.starts_with(char::is_whitespace) {
                rest = after_dash.trim_start();
            }
            break;
        }
    }
    Some(Head {
        keyword,
        column,
        decoration,
        metadata,
        text: rest.to_string(),
    })
}

/// Whether the keyword ends a word here: `TODO`, `TODO:`, `TODO(`, `TODO x`.
fn ends_word(after: &str) -> bool {
    match after.chars().next() {
        None => true,
        Some(c) => c.is_whitespace() || c == ':' || c == '(',
    }
}

fn ends_metadata(after: &str) -> bool {
    match after.chars().next() {
        None => true,
        Some(c) => c.is_whitespace() || c == ':',
    }
}

/// `@alice: text` → (`alice`, `: text`). Only with the colon, so a mention
/// inside free text (`TODO @alice please look`) stays text.
fn ruff_owner(rest: &str) -> Option<(&str, &str)> {
    let handle = rest.strip_prefix('@')?;
    let end = handle.find(|c: char| c.is_whitespace() || c == ':')?;
    let (owner, after) = handle.split_at(end);
    let after_owner = after.trim_start();
    (!owner.is_empty() && after_owner.starts_with(':')).then_some((owner, after_owner))
}

fn starts_quote(prev: Option<char>) -> bool {
    match prev {
        None => true,
        Some(p) => p.is_whitespace() || matches!(p, ',' | '=' | '('),
    }
}

/// Byte index of the `)` closing the metadata, skipping nested parentheses
/// and quoted values. A quote only opens at the start of an item, so an
/// apostrophe inside a name (`o'brien`) is just a character.
fn find_close(inner: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut prev: Option<char> = None;
    for (i, c) in inner.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' if starts_quote(prev) => quote = Some(c),
                '(' => depth += 1,
                ')' if depth == 0 => return Some(i),
                ')' => depth -= 1,
                _ => {}
            },
        }
        prev = Some(c);
    }
    None
}

/// One metadata item before interpretation.
#[derive(Debug, PartialEq)]
enum Item {
    Bare(String),
    Pair(String, String),
}

fn is_separator(c: char) -> bool {
    c == ',' || c.is_whitespace()
}

/// Splits the text between the parentheses into items.
fn items(inner: &str, problems: &mut Vec<String>) -> Vec<Item> {
    let chars: Vec<char> = inner.chars().collect();
    let mut i = 0;
    let mut found = Vec::new();
    loop {
        while chars.get(i).is_some_and(|&c| is_separator(c)) {
            i += 1;
        }
        if i >= chars.len() {
            return found;
        }
        if chars[i] == '=' {
            i += 1;
            let value = read_token(&chars, &mut i, false, problems);
            problems.push(format!("`={value}` has no key"));
            continue;
        }
        let word = read_token(&chars, &mut i, true, problems);
        let mut j = i;
        while chars.get(j).is_some_and(|c| c.is_whitespace()) {
            j += 1;
        }
        if chars.get(j) == Some(&'=') {
            i = j + 1;
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            let mut value = match chars.get(i) {
                Some(&c) if c != ',' => read_token(&chars, &mut i, false, problems),
                _ => String::new(),
            };
            absorb_detached_unit(&chars, &mut i, &mut value);
            found.push(Item::Pair(word, value));
        } else {
            found.push(Item::Bare(word));
        }
    }
}

/// `cost=3 d`: keeps the unit with its number, so the value is reported as
/// one bad estimate instead of the `d` becoming an owner.
fn absorb_detached_unit(chars: &[char], i: &mut usize, value: &mut String) {
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) {
        return;
    }
    let mut j = *i;
    while chars.get(j).is_some_and(|c| *c == ' ') {
        j += 1;
    }
    let start = j;
    while chars.get(j).is_some_and(|c| c.is_ascii_alphabetic()) {
        j += 1;
    }
    let unit: String = chars[start..j].iter().collect();
    let unit_ends = chars.get(j).is_none_or(|&c| is_separator(c));
    if j > *i && start > *i && unit_ends && parse_cost(&format!("1{unit}")).is_some() {
        value.push(' ');
        value.push_str(&unit);
        *i = j;
    }
}

/// A quoted or bare token starting at `chars[*i]`. Keys stop at `=`; values
/// may contain it (`url=https://x?a=b`).
fn read_token(chars: &[char], i: &mut usize, is_key: bool, problems: &mut Vec<String>) -> String {
    let mut token = String::new();
    if let Some(&quote) = chars.get(*i).filter(|c| matches!(c, '"' | '\'')) {
        *i += 1;
        while let Some(&c) = chars.get(*i) {
            *i += 1;
            if c == quote {
                return token;
            }
            token.push(c);
        }
        problems.push(format!("the quote {quote}{token} is never closed"));
        return token;
    }
    while let Some(&c) = chars.get(*i) {
        if is_separator(c) || (is_key && c == '=') {
            break;
        }
        token.push(c);
        *i += 1;
    }
    token
}

fn parse_metadata(inner: &str) -> Metadata {
    let mut metadata = Metadata::default();
    for item in items(inner, &mut metadata.problems) {
        match item {
            Item::Bare(token) => bare_item(&token, &mut metadata),
            Item::Pair(key, value) => pair_item(&key, value.trim(), &mut metadata),
        }
    }
    metadata
}

fn bare_item(token: &str, metadata: &mut Metadata) {
    if let Some(login) = token.strip_prefix('@') {
        if login.is_empty() {
            metadata.problems.push("`@` without a name".to_string());
        } else {
            metadata.owners.push(login.to_string());
        }
    } else if let Some(number) = token.strip_prefix('#') {
        match number.parse::<u64>() {
            Ok(n) if n > 0 => match metadata.issue {
                None => metadata.issue = Some(n),
                Some(first) if first == n => {}
                Some(first) => metadata
                    .problems
                    .push(format!("several issues (#{first}, #{n}); using #{first}")),
            },
            _ => metadata
                .problems
                .push(format!("`{token}` is not an issue number like #123")),
        }
    } else if token.contains('/') || is_tracker_key(token) {
        add_ref(metadata, token);
    } else if token.chars().any(char::is_alphanumeric) {
        metadata.owners.push(token.to_string());
    } else {
        metadata
            .problems
            .push(format!("cannot read the metadata item `{token}`"));
    }
}

fn add_ref(metadata: &mut Metadata, reference: &str) {
    metadata
        .extra
        .entry("ref".to_string())
        .and_modify(|refs| {
            refs.push_str(", ");
            refs.push_str(reference);
        })
        .or_insert_with(|| reference.to_string());
}

/// `PD-1234`, `JIRA-12`: letters (then letters, digits or `_`), a dash, digits.
fn is_tracker_key(token: &str) -> bool {
    let Some((project, number)) = token.split_once('-') else {
        return false;
    };
    project.starts_with(|c: char| c.is_ascii_alphabetic())
        && project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

fn is_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Sets a single-valued field unless it is already set (first one wins).
fn set_once<T>(slot: &mut Option<T>, value: T, key: &str, problems: &mut Vec<String>) {
    if slot.is_some() {
        problems.push(format!("`{key}` is given more than once; using the first"));
    } else {
        *slot = Some(value);
    }
}

fn pair_item(key: &str, value: &str, metadata: &mut Metadata) {
    let problems = &mut metadata.problems;
    if !is_key(key) {
        problems.push(format!("`{key}` is not a metadata key"));
        return;
    }
    let key = key.to_ascii_lowercase();
    if value.is_empty() {
        problems.push(format!("`{key}=` has no value"));
        return;
    }
    match key.as_str() {
        "id" if is_valid_explicit_id(value) => {
            set_once(&mut metadata.id, value.to_string(), &key, problems)
        }
        "id" => problems.push(format!(
            "id `{value}` is not usable: an id is at most 100 letters, digits and `-_./:#+@`"
        )),
        "cost" => match parse_cost(value) {
            Some(cost) => set_once(&mut metadata.cost, cost, &key, problems),
            None => problems.push(format!(
                "cost `{value}` is not an estimate like 4h, 3d, 2w or 5pt"
            )),
        },
        "area" => set_once(&mut metadata.area, value.to_string(), &key, problems),
        "tier" => match value.parse::<u8>() {
            Ok(tier) if tier >= 1 => set_once(&mut metadata.tier, tier, &key, problems),
            _ => problems.push(format!(
                "tier `{value}` is not a whole number from 1 (highest) to 255"
            )),
        },
        "incident" => {
            for incident in value.split(is_separator).filter(|s| !s.is_empty()) {
                if !is_incident(incident) {
                    problems.push(format!(
                        "incident `{incident}` is not an issue (#12), a tracker key (PD-1234) or a URL"
                    ));
                } else if !metadata.incidents.iter().any(|known| known == incident) {
                    metadata.incidents.push(incident.to_string());
                }
            }
        }
        "due" if is_iso_date(value) => {
            set_once(&mut metadata.due, value.to_string(), &key, problems)
        }
        "due" => problems.push(format!("due `{value}` is not a date written YYYY-MM-DD")),
        "ref" => add_ref(metadata, value),
        _ => match metadata.extra.entry(key) {
            Entry::Occupied(taken) => problems.push(format!(
                "`{}` is given more than once; using the first",
                taken.key()
            )),
            Entry::Vacant(slot) => {
                slot.insert(value.to_string());
            }
        },
    }
}

/// `4h`, `3d`, `2w`, `5pt` (or `5pts`); the unit is case-insensitive.
fn parse_cost(value: &str) -> Option<Cost> {
    let digits = value.len() - value.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (amount, unit) = value.split_at(digits);
    let amount = amount.parse::<u32>().ok()?;
    let unit = match unit.to_ascii_lowercase().as_str() {
        "h" => CostUnit::Hours,
        "d" => CostUnit::Days,
        "w" => CostUnit::Weeks,
        "pt" | "pts" => CostUnit::Points,
        _ => return None,
    };
    Some(Cost { amount, unit })
}

fn is_incident(value: &str) -> bool {
    let is_issue = value
        .strip_prefix('#')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let is_url = ["https://", "http://"]
        .iter()
        .any(|scheme| value.len() > scheme.len() && value.starts_with(scheme));
    is_issue || is_url || is_tracker_key(value)
}

/// A real calendar date written `YYYY-MM-DD` (leap years included).
fn is_iso_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        value
            .get(range)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "src/billing.rs";

    /// A run of `//` comments starting at line 10, column 5: `texts` are the
    /// line texts after the marker, as the lexer gives them.
    fn line_run(texts: &[&'static str]) -> Comment<'static> {
        comment(CommentKind::Line, texts)
    }

    fn block(texts: &[&'static str]) -> Comment<'static> {
        comment(CommentKind::Block, texts)
    }

    fn comment(kind: CommentKind, texts: &[&'static str]) -> Comment<'static> {
        let lines = texts
            .iter()
            .zip(10..)
            .map(|(text, line)| CommentLine {
                line,
                column: 5,
                text,
            })
            .collect();
        Comment { kind, lines }
    }

    fn scan(comments: &[Comment<'_>]) -> Vec<Annotation> {
        annotations(PATH, comments, &ScanOptions::default())
    }

    /// The single annotation in a one-line `//` comment, if any.
    fn one(text: &'static str) -> Option<Annotation> {
        let mut found = scan(&[line_run(&[text])]);
        assert!(found.len() <= 1, "{found:?}");
        found.pop()
    }

    fn text_of(text: &'static str) -> Option<String> {
        one(text).map(|a| a.text)
    }

    fn meta(text: &'static str) -> Metadata {
        one(text).expect("an annotation").metadata
    }

    #[test]
    fn given_plain_todo_with_colon_then_keyword_text_and_position_are_read() {
        let a = one(" TODO: flush the cache before retrying").unwrap();
        assert_eq!(a.keyword, "TODO");
        assert_eq!(a.text, "flush the cache before retrying");
        assert_eq!((a.path.as_str(), a.line, a.end_line), (PATH, 10, 10));
        // Column 5 is the first character of the text (the space).
        assert_eq!(a.column, 6);
        assert_eq!(a.body, "");
        assert_eq!(a.metadata, Metadata::default());
        assert_eq!(a.id, "");
    }

    #[test]
    fn given_each_separator_form_then_the_text_is_the_same() {
        for form in [
            " TODO: fix it",
            " TODO fix it",
            " TODO - fix it",
            " TODO: - fix it",
            " TODO -- fix it",
            " TODO \u{2014} fix it",
            "TODO:fix it",
            "   TODO:   fix it   ",
        ] {
            assert_eq!(text_of(form).as_deref(), Some("fix it"), "{form:?}");
        }
    }

    #[test]
    fn given_every_default_keyword_then_each_is_an_annotation() {
        for keyword in DEFAULT_KEYWORDS_FOR_TEST {
            let text: &'static str = Box::leak(format!(" {keyword}: x").into_boxed_str());
            assert_eq!(one(text).map(|a| a.keyword), Some(keyword.to_string()));
        }
    }

    const DEFAULT_KEYWORDS_FOR_TEST: [&str; 5] = crate::DEFAULT_KEYWORDS;

    #[test]
    fn given_commented_out_code_with_its_own_trailing_comment_then_that_comment_is_read() {
        // Given commented-out code whose own comment starts with a keyword
        let a = one(" (pa.int8(), np.object_),  # TODO needs pandas conversion").unwrap();
        // Then the inner comment is the annotation, at the keyword's column
        assert_eq!(
            (a.keyword.as_str(), a.text.as_str()),
            ("TODO", "needs pandas conversion")
        );
        assert_eq!(a.column, 34);
        assert_eq!(text_of(" ignore[attr] # FIXME: x").as_deref(), Some("x"));
        assert_eq!(text_of(" call(); // HACK: y").as_deref(), Some("y"));
        // But a keyword after other words, a glued marker, a lone slash or a
        // marker with nothing before it is still not one
        for text in [
            " see the # sign, TODO later",
            " issue#TODO: x",
            " a / TODO: b",
            " x # TODOS",
            " url http://h/#TODO x",
        ] {
            assert!(one(text).is_none(), "{text:?}");
        }
        // And inside a block comment a `//` is only text (a nested comment's
        // decoy: `/* outer /* inner */ // TODO: … */`)
        assert!(scan(&[block(&[" outer /* inner */ // TODO: still inside "])]).is_empty());
    }

    #[test]
    fn given_keyword_alone_then_annotation_has_empty_text() {
        let a = one(" FIXME").unwrap();
        assert_eq!((a.keyword.as_str(), a.text.as_str()), ("FIXME", ""));
        assert_eq!(text_of(" XXX:").as_deref(), Some(""));
    }

    #[test]
    fn given_keyword_glued_to_other_characters_then_no_annotation() {
        for text in [
            " TODOS are tracked in Jira",
            " TODO_LIST is empty",
            " TODO.md lists them",
            " TODO=1",
            " TODO/x",
            " TODO-x",
            " TODO! now",
            " TODO, or not",
            " todo: lowercase",
            " Todo: mixed case",
            " OTODOKE",
            " TODO://example.com/x",
            " TODO::new()",
        ] {
            assert!(one(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn given_keyword_after_other_words_then_no_annotation() {
        assert_eq!(one(" see TODO below"), None);
        assert_eq!(one(" https://example.com/TODO: x"), None);
        assert_eq!(one(" 1. TODO: numbered"), None);
    }

    #[test]
    fn given_doc_comment_decoration_then_keyword_is_found_after_it() {
        // `/// TODO` and `//! TODO` lexed with `//` as the marker.
        assert_eq!(text_of("/ TODO: doc").as_deref(), Some("doc"));
        assert_eq!(text_of("! TODO: inner doc").as_deref(), Some("inner doc"));
        assert_eq!(
            text_of("# TODO: doubled hash").as_deref(),
            Some("doubled hash")
        );
        assert_eq!(text_of(" - TODO: bullet").as_deref(), Some("bullet"));
        // Column 5 is the `/`, 6 the space, 7 the keyword.
        assert_eq!(one("/ TODO: doc").unwrap().column, 7);
    }

    #[test]
    fn given_require_colon_then_only_annotations_with_colon_count() {
        let options = ScanOptions::new(vec!["TODO".into()], true);
        let run = line_run(&[
            " TODO fix later",
            " TODO: real one",
            " TODO(alice): owned",
            " TODO(alice) no colon",
        ]);
        let found = annotations(PATH, &[run], &options);
        let texts: Vec<_> = found.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["real one", "owned"]);
    }

    #[test]
    fn given_configured_keywords_then_only_those_match_and_longest_wins() {
        let options = ScanOptions::new(vec!["DEBT".into(), "DEBTOR".into(), "NOTE".into()], false);
        let run = line_run(&[" NOTE: a", " DEBTOR: b", " TODO: c"]);
        let found = annotations(PATH, &[run], &options);
        let keywords: Vec<_> = found.iter().map(|a| a.keyword.as_str()).collect();
        assert_eq!(keywords, ["NOTE", "DEBTOR"]);
    }

    #[test]
    fn given_spec_examples_then_metadata_is_read() {
        let m = meta(
            " FIXME(@alice, cost=3d, area=billing, tier=1, incident=#412): retries double-charge",
        );
        assert_eq!(m.owners, ["alice"]);
        assert_eq!(
            m.cost,
            Some(Cost {
                amount: 3,
                unit: CostUnit::Days
            })
        );
        assert_eq!(m.area.as_deref(), Some("billing"));
        assert_eq!(m.tier, Some(1));
        assert_eq!(m.incidents, ["#412"]);
        assert!(m.problems.is_empty());

        let hack = scan(&[block(&[
            " HACK(#87) work around the v1 API's pagination bug ",
        ])]);
        assert_eq!(hack[0].metadata.issue, Some(87));
        assert_eq!(hack[0].text, "work around the v1 API's pagination bug");

        let debt = one(" DEBT(id=orders-n-plus-one, cost=5pt): one query per order line").unwrap();
        assert_eq!(debt.metadata.id.as_deref(), Some("orders-n-plus-one"));
        assert_eq!(
            debt.metadata.cost,
            Some(Cost {
                amount: 5,
                unit: CostUnit::Points
            })
        );
        assert_eq!(debt.text, "one query per order line");
    }

    #[test]
    fn given_google_style_then_bare_name_is_owner_and_bug_link_is_a_ref() {
        assert_eq!(meta(" TODO(alice): x").owners, ["alice"]);
        assert_eq!(
            meta(" TODO(alice@example.com): x").owners,
            ["alice@example.com"]
        );
        assert_eq!(meta(" TODO(#123): x").issue, Some(123));
        let bug = meta(" TODO(b/123): x");
        assert!(bug.owners.is_empty());
        assert_eq!(bug.extra.get("ref").map(String::as_str), Some("b/123"));
        let refs = meta(" TODO(JIRA-42 https://tracker.example/T9, bob): x");
        assert_eq!(
            refs.extra.get("ref").map(String::as_str),
            Some("JIRA-42, https://tracker.example/T9")
        );
        assert_eq!(refs.owners, ["bob"]);
    }

    #[test]
    fn given_ruff_style_then_owner_is_read_from_parens_or_at_handle() {
        let a = one(" TODO(charlie): this is a todo").unwrap();
        assert_eq!(
            (a.metadata.owners.as_slice(), a.text.as_str()),
            (&["charlie".to_string()][..], "this is a todo")
        );
        let b = one(" TODO @charlie: this is a todo").unwrap();
        assert_eq!(b.metadata.owners, ["charlie"]);
        assert_eq!(b.text, "this is a todo");
        // Without the colon the mention is part of the text.
        let c = one(" TODO @charlie please look").unwrap();
        assert!(c.metadata.owners.is_empty());
        assert_eq!(c.text, "@charlie please look");
    }

    #[test]
    fn given_ruff_issue_link_on_the_next_line_then_it_belongs_to_the_annotation() {
        let found = scan(&[line_run(&[
            " TODO(charlie): fix the retries",
            " https://github.com/o/r/issues/7",
            " TODO: second",
            " #12",
            " TODO: third",
            " see https://example.com",
        ])]);
        let summary: Vec<_> = found
            .iter()
            .map(|a| {
                (
                    a.line,
                    a.end_line,
                    a.metadata.issue,
                    a.metadata.extra.get("ref").cloned(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    10,
                    11,
                    None,
                    Some("https://github.com/o/r/issues/7".to_string())
                ),
                (12, 13, Some(12), None),
                (14, 14, None, None),
            ]
        );
    }

    #[test]
    fn given_items_separated_by_spaces_commas_or_both_then_all_are_read() {
        for text in [
            " TODO(@a bob #7 cost=4h): x",
            " TODO(@a,bob,#7,cost=4h): x",
            " TODO( @a ,  bob,, #7 , cost = 4h ): x",
        ] {
            let m = meta(text);
            assert_eq!(m.owners, ["a", "bob"], "{text:?}");
            assert_eq!(m.issue, Some(7));
            assert_eq!(
                m.cost,
                Some(Cost {
                    amount: 4,
                    unit: CostUnit::Hours
                })
            );
            assert!(m.problems.is_empty(), "{text:?}: {:?}", m.problems);
        }
    }

    #[test]
    fn given_each_cost_unit_then_it_is_parsed() {
        let cost = |text: &'static str| meta(text).cost;
        assert_eq!(
            cost(" TODO(cost=4h)"),
            Some(Cost {
                amount: 4,
                unit: CostUnit::Hours
            })
        );
        assert_eq!(
            cost(" TODO(cost=2w)"),
            Some(Cost {
                amount: 2,
                unit: CostUnit::Weeks
            })
        );
        assert_eq!(
            cost(" TODO(cost=13pts)"),
            Some(Cost {
                amount: 13,
                unit: CostUnit::Points
            })
        );
        assert_eq!(
            cost(" TODO(Cost=1D)"),
            Some(Cost {
                amount: 1,
                unit: CostUnit::Days
            })
        );
    }

    #[test]
    fn given_bad_values_then_problems_are_recorded_and_annotation_is_kept() {
        let a = one(" DEBT(cost=lots, tier=x, due=tomorrow, incident=sev1, tier=0): still debt")
            .unwrap();
        assert_eq!(a.text, "still debt");
        let m = a.metadata;
        assert_eq!((m.cost, m.tier, m.due.as_deref()), (None, None, None));
        assert!(m.incidents.is_empty());
        assert_eq!(m.problems.len(), 5, "{:?}", m.problems);
        assert!(m.problems[0].contains("cost `lots`"), "{:?}", m.problems);
        assert!(m.problems[1].contains("tier `x`"));
        assert!(m.problems[2].contains("due `tomorrow`"));
        assert!(m.problems[3].contains("incident `sev1`"));
        for bad in [
            " TODO(cost=3)",
            " TODO(cost=d)",
            " TODO(cost=3 d)",
            " TODO(cost=99999999999d)",
            " TODO(#abc)",
            " TODO(tier=256)",
        ] {
            assert_eq!(meta(bad).problems.len(), 1, "{bad:?}: {:?}", meta(bad));
        }
    }

    #[test]
    fn given_due_dates_then_only_real_calendar_dates_are_kept() {
        assert_eq!(
            meta(" TODO(due=2027-03-31)").due.as_deref(),
            Some("2027-03-31")
        );
        assert_eq!(
            meta(" TODO(due=2028-02-29)").due.as_deref(),
            Some("2028-02-29")
        );
        for bad in [
            "2027-02-29",
            "2100-02-29",
            "2027-04-31",
            "2027-13-01",
            "2027-00-10",
            "27-03-31",
            "2027/03/31",
            "2027-3-31",
        ] {
            assert!(!is_iso_date(bad), "{bad}");
        }
        assert!(is_iso_date("2000-02-29"));
    }

    #[test]
    fn given_several_incidents_then_all_are_kept_in_order_without_duplicates() {
        let m = meta(
            " TODO(incident=#12, incident=PD-1234, incident=\"#13 https://pd.example/i/9\", incident=#12): x",
        );
        assert_eq!(
            m.incidents,
            ["#12", "PD-1234", "#13", "https://pd.example/i/9"]
        );
        assert!(m.problems.is_empty());
    }

    #[test]
    fn given_quoted_values_then_spaces_commas_and_parens_stay_in_the_value() {
        let m = meta(" TODO(area=\"data platform\", 'Jane Doe', note='a, b (c)'): x");
        assert_eq!(m.area.as_deref(), Some("data platform"));
        assert_eq!(m.owners, ["Jane Doe"]);
        assert_eq!(m.extra.get("note").map(String::as_str), Some("a, b (c)"));
    }

    #[test]
    fn given_apostrophe_inside_a_name_then_it_is_not_a_quote() {
        assert_eq!(meta(" TODO(o'brien): x").owners, ["o'brien"]);
    }

    #[test]
    fn given_unknown_keys_then_they_are_kept_lowercased_first_wins() {
        let m = meta(" TODO(Team=payments, url=https://x.example/?a=b, team=other): x");
        assert_eq!(m.extra.get("team").map(String::as_str), Some("payments"));
        assert_eq!(
            m.extra.get("url").map(String::as_str),
            Some("https://x.example/?a=b")
        );
        assert_eq!(
            m.problems,
            ["`team` is given more than once; using the first"]
        );
    }

    #[test]
    fn given_repeated_single_valued_key_then_first_wins_with_a_problem() {
        let m = meta(" TODO(cost=1d, cost=2d, #1, #2): x");
        assert_eq!(
            m.cost,
            Some(Cost {
                amount: 1,
                unit: CostUnit::Days
            })
        );
        assert_eq!(m.issue, Some(1));
        assert_eq!(m.problems.len(), 2, "{:?}", m.problems);
    }

    #[test]
    fn given_malformed_items_then_each_is_a_problem() {
        let m = meta(" TODO(=x, cost=, @, 9x=1, ???): x");
        assert_eq!(m.problems.len(), 5, "{:?}", m.problems);
        assert!(m.owners.is_empty() && m.extra.is_empty(), "{m:?}");
        let unclosed = meta(" TODO(area=\"data): x)");
        assert!(
            unclosed.problems.iter().any(|p| p.contains("never closed")),
            "{unclosed:?}"
        );
    }

    #[test]
    fn given_invalid_explicit_id_then_it_is_a_problem_not_an_id() {
        let m = meta(" TODO(id=\"has space\"): x");
        assert_eq!(m.id, None);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(meta(" TODO(id=a-->b): x").id, None);
    }

    #[test]
    fn given_unbalanced_parenthesis_then_no_metadata_and_text_kept() {
        let a = one(" TODO(alice fix the thing").unwrap();
        assert!(a.metadata.owners.is_empty());
        assert_eq!(a.text, "(alice fix the thing");
        assert_eq!(a.metadata.problems.len(), 1);
    }

    #[test]
    fn given_nested_parentheses_then_the_matching_one_closes_metadata() {
        let a = one(" TODO(note=f(x), @bob): call f(x) once").unwrap();
        assert_eq!(
            a.metadata.extra.get("note").map(String::as_str),
            Some("f(x)")
        );
        assert_eq!(a.metadata.owners, ["bob"]);
        assert_eq!(a.text, "call f(x) once");
    }

    #[test]
    fn given_code_after_closing_paren_then_no_annotation() {
        assert_eq!(one(" TODO(x).run()"), None);
        assert_eq!(one(" TODO(x)-y"), None);
        assert_eq!(text_of(" TODO()").as_deref(), Some(""));
        assert_eq!(
            text_of(" TODO (alice): spaced").as_deref(),
            Some("(alice): spaced")
        );
    }

    #[test]
    fn given_indented_continuation_lines_then_they_form_the_body() {
        let run = line_run(&[
            " TODO: first line",
            "   second line",
            "     third line",
            " not part of it",
        ]);
        let found = scan(&[run]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "first line");
        assert_eq!(found[0].body, "second line\nthird line");
        assert_eq!((found[0].line, found[0].end_line), (10, 12));
    }

    #[test]
    fn given_continuation_at_same_indent_then_it_is_not_body() {
        let found = scan(&[line_run(&[" TODO: first", " unrelated remark"])]);
        assert_eq!(found[0].body, "");
        assert_eq!(found[0].end_line, 10);
    }

    #[test]
    fn given_blank_comment_line_then_body_ends() {
        let found = scan(&[line_run(&[
            " TODO: first",
            "   more",
            "",
            "   after blank",
            "   ",
        ])]);
        assert_eq!(found[0].body, "more");
        assert_eq!(found[0].end_line, 11);
    }

    #[test]
    fn given_two_keywords_on_consecutive_lines_then_two_annotations() {
        let found = scan(&[line_run(&[
            " TODO: one",
            " FIXME: two",
            "   FIXME: indented three",
            "     body of three",
        ])]);
        let summary: Vec<_> = found
            .iter()
            .map(|a| {
                (
                    a.keyword.as_str(),
                    a.text.as_str(),
                    a.line,
                    a.end_line,
                    a.body.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("TODO", "one", 10, 10, ""),
                ("FIXME", "two", 11, 11, ""),
                ("FIXME", "indented three", 12, 13, "body of three"),
            ]
        );
    }

    #[test]
    fn given_keyword_later_in_a_comment_run_then_it_starts_an_annotation() {
        let found = scan(&[line_run(&[" Explains the function.", " TODO: later line"])]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 11);
    }

    #[test]
    fn given_empty_keyword_line_then_first_body_line_becomes_text() {
        let found = scan(&[line_run(&[
            " TODO:",
            "   make this faster",
            "   by caching",
        ])]);
        assert_eq!(found[0].text, "make this faster");
        assert_eq!(found[0].body, "by caching");
        assert_eq!(found[0].end_line, 12);
    }

    #[test]
    fn given_doc_comment_run_then_body_continues_after_the_same_decoration() {
        let found = scan(&[line_run(&[
            "/ TODO: doc todo",
            "/   continued",
            "/",
            "/   not body",
        ])]);
        assert_eq!(found[0].body, "continued");
        assert_eq!(found[0].end_line, 11);
    }

    #[test]
    fn given_block_comment_then_rest_of_block_is_body_until_blank_line() {
        let found = scan(&[block(&[
            "",
            " TODO: refactor",
            " the whole thing",
            "not indented either",
            "",
            " unrelated",
            "",
        ])]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 11);
        assert_eq!(found[0].body, "the whole thing\nnot indented either");
        assert_eq!(found[0].end_line, 13);
    }

    #[test]
    fn given_block_comment_with_two_keywords_then_second_ends_first_body() {
        let found = scan(&[block(&[" HACK: one", " body", " XXX: two", " its body"])]);
        let summary: Vec<_> = found
            .iter()
            .map(|a| (a.text.as_str(), a.body.as_str()))
            .collect();
        assert_eq!(summary, [("one", "body"), ("two", "its body")]);
    }

    #[test]
    fn given_several_comments_then_annotations_come_in_order() {
        let first = line_run(&[" TODO: a"]);
        let mut second = block(&[" TODO: b"]);
        second.lines[0].line = 40;
        let found = scan(&[first, second]);
        let lines: Vec<_> = found.iter().map(|a| a.line).collect();
        assert_eq!(lines, [10, 40]);
    }

    #[test]
    fn given_non_ascii_text_before_keyword_then_column_counts_characters() {
        let a = one("\u{a0}\u{a0}TODO: nbsp indent").unwrap();
        assert_eq!(a.column, 7);
        assert_eq!(a.text, "nbsp indent");
    }

    #[test]
    fn given_arbitrary_lines_then_grammar_never_panics_and_keeps_invariants() {
        // Deterministic pseudo-random lines over the characters the grammar
        // treats specially, including multi-byte ones.
        const ALPHABET: [&str; 22] = [
            "TODO", "FIXME", "(", ")", ":", "=", ",", " ", "\"", "'", "@", "#", "-", "/", "é",
            "\t", "cost", "3d", "id", "x", "—", "日",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap() % bound
        };
        let options = ScanOptions::default();
        for round in 0..2_000 {
            let texts: Vec<&'static str> = (0..1 + next(4))
                .map(|_| {
                    let line: String = (0..next(14))
                        .map(|_| ALPHABET[next(ALPHABET.len())])
                        .collect();
                    &*Box::leak(line.into_boxed_str())
                })
                .collect();
            let kind = if round % 2 == 0 {
                CommentKind::Line
            } else {
                CommentKind::Block
            };
            let comment = comment(kind, &texts);
            for a in annotations(PATH, std::slice::from_ref(&comment), &options) {
                assert!(a.line <= a.end_line && a.column >= 5, "{a:?}");
                assert_eq!(a.text, a.text.trim(), "{texts:?}");
                assert!(crate::DEFAULT_KEYWORDS.contains(&a.keyword.as_str()));
            }
        }
    }
}
