//! Finding commands in a comment body: which lines are commands (prefix or
//! `@app` mention at the start of a line of plain Markdown text, not inside
//! code, quotes, links or HTML), what they mean, and which ones an edit added.

use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::command::{Class, Command, CommandError, IssueRef, MAX_POINTS};
use crate::spec::{COMMANDS, Verb};

/// Most commands one comment (or one edit) runs; more would let a single
/// comment trigger an unbounded amount of API work.
pub const MAX_COMMANDS_PER_COMMENT: usize = 10;

/// Longest `accept-drift` reason, in characters: it is echoed in the reply,
/// the drift comment and the dashboard, all under GitHub's 65,536-character
/// body limit.
pub const MAX_REASON_CHARS: usize = 500;

/// Longest command line, or word from one, echoed back in a reply (in
/// characters); longer ones are cut with `…`, so ten command lines cannot
/// push a reply past GitHub's body limit.
pub const MAX_ECHO_CHARS: usize = 200;

/// Fewest Jaro-Winkler similarity for a "did you mean"; it favours shared
/// beginnings, so `accept` still finds `accept-drift`.
const SUGGESTION_THRESHOLD: f64 = 0.8;

/// One command line found in a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// 1-based line in the comment.
    pub line: usize,
    /// 1-based column (in characters) where the prefix or mention starts.
    pub column: usize,
    /// The command line as written, without surrounding white space.
    pub text: String,
    /// The command, or why the line is not a valid one.
    pub result: Result<Command, CommandError>,
    /// What diffing compares: the same command in prefix or mention form,
    /// with any spacing or verb case, gives the same key.
    key: String,
}

/// Finds every command in `body`, in order.
///
/// A command is a line whose first non-blank text is `prefix` (matched
/// ASCII-case-insensitively) or `@app_slug` (also `@app_slug[bot]`,
/// case-insensitive like GitHub logins), followed by white space or the end
/// of the line, in plain text: lines in fenced or indented code, inline
/// code, block quotes, links and HTML (comments included) are skipped, as
/// GitHub renders them. The prefix alone means `help`. Verbs are
/// case-insensitive. An empty `prefix` or `app_slug` turns that form off.
/// At most [`MAX_COMMANDS_PER_COMMENT`] commands are returned, followed by a
/// [`CommandError::TooManyCommands`] when there were more.
pub fn parse_comment(body: &str, prefix: &str, app_slug: &str) -> Vec<Parsed> {
    cap(parse_all(body, prefix, app_slug), prefix)
}

/// Whether `body` could hold a command under *any* prefix: some line of
/// plain Markdown text (as [`parse_comment`] reads it) starts with ASCII
/// punctuation (`/debt`, `!debt`), or mentions `@app_slug`. Lets a caller
/// skip reading the config (and so learning the prefix) for the comments
/// that plainly hold none; a prefix starting with a letter or digit is
/// therefore not supported by such callers.
pub fn could_hold_command(body: &str, app_slug: &str) -> bool {
    let app_slug = app_slug.trim().trim_start_matches('@');
    let app_slug = app_slug.strip_suffix("[bot]").unwrap_or(app_slug);
    let mut plain = None;
    let mut offset = 0;
    for raw_line in body.split('\n') {
        let line_start = offset;
        offset += raw_line.len() + 1;
        let content = raw_line.trim_start_matches([' ', '\t']);
        let candidate = match content.chars().next() {
            Some('@') => strip_mention(content, app_slug).is_some(),
            Some(c) => paydown_config::starts_command(c),
            None => false,
        };
        if !candidate {
            continue;
        }
        // Markdown is parsed only once a line looks like a command.
        let ranges = plain.get_or_insert_with(|| plain_text_ranges(body));
        if in_ranges(ranges, line_start + (raw_line.len() - content.len())) {
            return true;
        }
    }
    false
}

/// The commands an edit from `old_body` to `new_body` added, so that an
/// edited comment runs only those. A command already in the old body (at any
/// position, in either form) is not added; a command written twice more than
/// before counts once per extra occurrence. Bad command lines are compared
/// the same way, so an untouched error is not reported again.
pub fn added_commands(old_body: &str, new_body: &str, prefix: &str, app_slug: &str) -> Vec<Parsed> {
    let mut before: HashMap<String, usize> = HashMap::new();
    for parsed in parse_all(old_body, prefix, app_slug) {
        *before.entry(parsed.key).or_default() += 1;
    }
    let added = parse_all(new_body, prefix, app_slug)
        .into_iter()
        .filter(|parsed| match before.get_mut(&parsed.key) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        })
        .collect();
    cap(added, prefix)
}

fn cap(mut parsed: Vec<Parsed>, prefix: &str) -> Vec<Parsed> {
    if parsed.len() > MAX_COMMANDS_PER_COMMENT {
        parsed.truncate(MAX_COMMANDS_PER_COMMENT + 1);
        if let Some(last) = parsed.last_mut() {
            last.result = Err(CommandError::TooManyCommands {
                limit: MAX_COMMANDS_PER_COMMENT,
                prefix: prefix.to_string(),
            });
        }
    }
    parsed
}

fn parse_all(body: &str, prefix: &str, app_slug: &str) -> Vec<Parsed> {
    let prefix = prefix.trim();
    let app_slug = app_slug.trim().trim_start_matches('@');
    // Callers may hold the bot's login rather than the App's slug.
    let app_slug = app_slug.strip_suffix("[bot]").unwrap_or(app_slug);
    let plain = plain_text_ranges(body);
    let mut found = Vec::new();
    let mut offset = 0;
    for (index, raw_line) in body.split('\n').enumerate() {
        let line_start = offset;
        offset += raw_line.len() + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let content = line.trim_start_matches([' ', '\t']);
        let start = line_start + (line.len() - content.len());
        let Some(rest) =
            strip_prefix_ci(content, prefix).or_else(|| strip_mention(content, app_slug))
        else {
            continue;
        };
        if !in_ranges(&plain, start) {
            continue;
        }
        let invocation = rest.trim();
        let column = line[..line.len() - content.len()].chars().count() + 1;
        found.push(Parsed {
            line: index + 1,
            column,
            text: clip(content.trim_end()),
            result: parse_invocation(invocation, prefix),
            key: key(invocation),
        });
    }
    found
}

/// Byte ranges of `body` that GitHub shows as plain text: text events
/// outside code blocks, block quotes, HTML blocks, links, images and tables. Inline
/// code and inline HTML are separate events, so they never appear here.
fn plain_text_ranges(body: &str) -> Vec<Range<usize>> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut hidden = 0usize;
    let mut ranges = Vec::new();
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        match event {
            Event::Start(
                Tag::CodeBlock(_)
                | Tag::BlockQuote(_)
                | Tag::HtmlBlock
                | Tag::Link { .. }
                | Tag::Image { .. }
                | Tag::Table(_),
            ) => hidden += 1,
            Event::End(
                TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::HtmlBlock
                | TagEnd::Link
                | TagEnd::Image
                | TagEnd::Table,
            ) => hidden = hidden.saturating_sub(1),
            Event::Text(_) if hidden == 0 => ranges.push(range),
            _ => {}
        }
    }
    ranges.sort_by_key(|range| range.start);
    ranges
}

fn in_ranges(ranges: &[Range<usize>], offset: usize) -> bool {
    let after = ranges.partition_point(|range| range.start <= offset);
    after > 0 && ranges[after - 1].contains(&offset)
}

/// `text` after `prefix` (ASCII case ignored) when white space or the end follows.
fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return None;
    }
    let head = text.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = &text[prefix.len()..];
    match rest.chars().next() {
        None => Some(rest),
        Some(next) if next.is_whitespace() => Some(rest),
        Some(_) => None,
    }
}

fn strip_mention<'a>(text: &'a str, app_slug: &str) -> Option<&'a str> {
    if app_slug.is_empty() {
        return None;
    }
    let rest = text.strip_prefix('@')?;
    let head = rest.get(..app_slug.len())?;
    if !head.eq_ignore_ascii_case(app_slug) {
        return None;
    }
    let rest = &rest[app_slug.len()..];
    let rest = rest.strip_prefix("[bot]").unwrap_or(rest);
    match rest.chars().next() {
        None => Some(rest),
        Some(next) if next.is_whitespace() => Some(rest),
        Some(_) => None,
    }
}

/// The diff key: verb lower-cased, white space collapsed; a valid command
/// uses its canonical form so equivalent spellings compare equal.
fn key(invocation: &str) -> String {
    match parse_invocation(invocation, "") {
        Ok(command) => command.to_string(),
        Err(_) => {
            let words: Vec<&str> = invocation.split_whitespace().collect();
            format!("?{}", words.join(" ").to_lowercase())
        }
    }
}

/// Parses what follows the prefix on a command line (already trimmed).
fn parse_invocation(invocation: &str, prefix: &str) -> Result<Command, CommandError> {
    let (word, args) = match invocation.split_once(char::is_whitespace) {
        Some((word, args)) => (word, args.trim()),
        None => (invocation, ""),
    };
    if word.is_empty() {
        return Ok(Command::Help);
    }
    let Some(verb) = Verb::from_name(word) else {
        return Err(CommandError::UnknownVerb {
            verb: clip(word),
            suggestion: suggest(word),
            prefix: prefix.to_string(),
        });
    };
    let prefix = prefix.to_string();
    let no_args = |command: Command| {
        if args.is_empty() {
            Ok(command)
        } else {
            Err(CommandError::UnexpectedArguments {
                verb,
                extra: clip(args),
                prefix: prefix.clone(),
            })
        }
    };
    match verb {
        Verb::Help => no_args(Command::Help),
        Verb::Status => no_args(Command::Status),
        Verb::Scan => no_args(Command::Scan),
        Verb::Ignore => no_args(Command::Ignore),
        Verb::Unignore => no_args(Command::Unignore),
        Verb::AcceptDrift => {
            let reason = unquote(args).trim();
            let length = reason.chars().count();
            if reason.is_empty() {
                Err(CommandError::MissingArgument { verb, prefix })
            } else if length > MAX_REASON_CHARS {
                Err(CommandError::ReasonTooLong {
                    length,
                    limit: MAX_REASON_CHARS,
                    prefix,
                })
            } else {
                Ok(Command::AcceptDrift {
                    reason: reason.to_string(),
                })
            }
        }
        Verb::Classify | Verb::Points | Verb::Link => {
            let args = unquote(args).trim();
            let (argument, extra) = match args.split_once(char::is_whitespace) {
                Some((argument, extra)) => (argument, extra.trim()),
                None => (args, ""),
            };
            if argument.is_empty() {
                return Err(CommandError::MissingArgument { verb, prefix });
            }
            if !extra.is_empty() {
                return Err(CommandError::UnexpectedArguments {
                    verb,
                    extra: clip(extra),
                    prefix,
                });
            }
            let command = match verb {
                Verb::Classify => Class::from_name(argument).map(Command::Classify),
                Verb::Points => parse_points(argument).map(Command::Points),
                _ => parse_issue_ref(argument).map(Command::Link),
            };
            command.ok_or_else(|| CommandError::BadArgument {
                verb,
                argument: clip(argument),
                prefix,
            })
        }
    }
}

fn suggest(word: &str) -> Option<Verb> {
    let word = word.to_lowercase();
    COMMANDS
        .iter()
        .map(|spec| (strsim::jaro_winkler(&word, spec.name), spec.verb))
        .filter(|(score, _)| *score >= SUGGESTION_THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, verb)| verb)
}

/// Quote pairs users type, straight and typographic (English and German style).
const QUOTES: &[(char, char)] = &[
    ('"', '"'),
    ('\'', '\''),
    ('“', '”'),
    ('‘', '’'),
    ('„', '“'),
    ('«', '»'),
];

/// `text` without one pair of enclosing quotes, when the whole of it is quoted.
/// `text`, cut to [`MAX_ECHO_CHARS`] characters (with `…`) for echoing.
fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn unquote(text: &str) -> &str {
    for &(open, close) in QUOTES {
        let inner = text
            .strip_prefix(open)
            .and_then(|rest| rest.strip_suffix(close));
        if let Some(inner) = inner.filter(|inner| !inner.contains(close)) {
            return inner;
        }
    }
    text
}

fn parse_points(text: &str) -> Option<u32> {
    if !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|points| *points <= MAX_POINTS)
}

/// `#12`, `12`, `owner/repo#12` or `https://host/owner/repo/issues/12`.
fn parse_issue_ref(text: &str) -> Option<IssueRef> {
    if let Some(url) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    {
        let url = url.split(['#', '?']).next().unwrap_or(url);
        let parts: Vec<&str> = url.trim_end_matches('/').split('/').collect();
        return match parts.as_slice() {
            [_host, owner, repo, "issues", number] => Some(IssueRef {
                repo: Some(repo_name(owner, repo)?),
                number: parse_number(number)?,
            }),
            _ => None,
        };
    }
    if let Some((repo, number)) = text.split_once('#') {
        let repo = if repo.is_empty() {
            None
        } else {
            let (owner, name) = repo.split_once('/')?;
            Some(repo_name(owner, name)?)
        };
        return Some(IssueRef {
            repo,
            number: parse_number(number)?,
        });
    }
    Some(IssueRef {
        repo: None,
        number: parse_number(text)?,
    })
}

fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|number| *number > 0)
}

/// `owner/repo` when both parts look like GitHub names.
fn repo_name(owner: &str, repo: &str) -> Option<String> {
    let owner_ok = !owner.is_empty()
        && owner
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    let repo_ok = !repo.is_empty()
        && repo
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    (owner_ok && repo_ok).then(|| format!("{owner}/{repo}"))
}
