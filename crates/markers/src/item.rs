//! The hidden markers in a debt issue's body that let paydown rebuild its
//! index from GitHub alone: `<!-- paydown:item id=<id> v=1 -->` names the
//! item, and `<!-- paydown:meta {json} -->` keeps what identity matching and
//! re-rendering need (path, lines, keyword, text, pinned commit, first-seen
//! date, owners).
//!
//! The id is versioned (`v=`): [`parse`] reads every version in
//! [`READ_VERSIONS`], and a marker of a newer version is not ours to read.
//!
//! Parsing trusts only lines that are exactly the bot's format: a human can
//! edit everything around them, GitHub can turn line ends into CRLF, and a
//! marker quoted, wrapped in other text, of another version, or contradicted
//! by a second marker is not believed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{CLOSE, READ_VERSIONS, VERSION};

/// Opening of the item marker line; `id=<id> v=<version> -->` follows.
pub const ITEM_OPEN: &str = "<!-- paydown:item ";
/// Opening of the meta line; the JSON of [`ItemMeta`] and ` -->` follow.
pub const META_OPEN: &str = "<!-- paydown:meta ";

/// Longest id accepted in a marker (the annotations crate caps explicit ids at 100).
const MAX_ID_CHARS: usize = 120;

/// What the bot recorded about an item when it last wrote the issue body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMeta {
    /// Same as the item marker's id; a mismatch means the meta is not trusted.
    pub id: String,
    /// Repository-relative path of the file holding the annotation.
    pub path: String,
    /// 1-based line of the keyword.
    pub line: u32,
    /// Last line of the annotation body (equal to `line` for one line); with
    /// `line` it gives the permalink's range.
    pub end_line: u32,
    /// The keyword as written (`TODO`, `FIXME`, …).
    pub keyword: String,
    /// First line of the annotation text, as written.
    pub text: String,
    /// Commit the body's permalink points at. Kept while nothing else in the
    /// body changes, so an unrelated push does not rewrite every issue.
    pub sha: String,
    /// Date paydown first recorded the item; kept across re-renders, so the
    /// item's age counts from here.
    pub first_seen: NaiveDate,
    /// Owners named by the annotation when the body was written; assignees
    /// are added only for owners new since then, so a person's unassignment
    /// sticks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// The issue existed before paydown (an annotation named `#123`): its
    /// title and the text above the marker belong to people.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopted: bool,
}

/// An item marker read back from an issue body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMarker {
    /// The debt item's id, as the marker line names it.
    pub id: String,
    /// `None` for bodies written before meta existed, or whose meta line is
    /// missing, malformed, duplicated inconsistently or names another id.
    pub meta: Option<ItemMeta>,
}

/// The item marker line for `id`.
pub fn item_line(id: &str) -> String {
    format!("{ITEM_OPEN}id={id} v={VERSION}{CLOSE}")
}

/// The meta line for `meta`. `<`, `>` and `&` are written as JSON `\u`
/// escapes, so annotation text can never end the HTML comment early.
pub fn meta_line(meta: &ItemMeta) -> String {
    let json = serde_json::to_string(meta).unwrap_or_else(|_| "{}".to_string());
    let safe = crate::json_without_markup(&json).replace('&', "\\u0026");
    format!("{META_OPEN}{safe}{CLOSE}")
}

/// Reads the item marker (and meta, when present and consistent) from an
/// issue body. `None` when there is no trustworthy marker.
pub fn parse(body: &str) -> Option<ItemMarker> {
    let mut id: Option<&str> = None;
    let mut metas: Vec<&str> = Vec::new();
    for line in lines(body) {
        if let Some(found) = item_id(line) {
            match id {
                Some(previous) if previous != found => return None,
                _ => id = Some(found),
            }
        } else if let Some(json) = strip(line, META_OPEN) {
            metas.push(json);
        }
    }
    let id = id?.to_string();
    let meta = single_meta(&metas).filter(|m| m.id == id);
    Some(ItemMarker { id, meta })
}

/// Byte offset in `body` where the item marker line starts: text before it
/// is not the bot's (an adopted issue's original description).
pub fn item_line_offset(body: &str) -> Option<usize> {
    let mut offset = 0;
    for raw in body.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']).trim();
        if item_id(line).is_some() {
            return Some(offset);
        }
        offset += raw.len();
    }
    None
}

fn lines(body: &str) -> impl Iterator<Item = &str> {
    body.split('\n').map(|l| l.trim_end_matches('\r').trim())
}

fn strip<'a>(line: &'a str, open: &str) -> Option<&'a str> {
    line.strip_prefix(open)?.strip_suffix(CLOSE)
}

fn item_id(line: &str) -> Option<&str> {
    let inner = strip(line, ITEM_OPEN)?;
    let (id_part, version_part) = inner.split_once(' ')?;
    let id = id_part.strip_prefix("id=")?;
    let version: u32 = version_part.strip_prefix("v=")?.parse().ok()?;
    // `v=01` or `v=+1` would parse as 1 yet is not what any bot wrote.
    if version_part != format!("v={version}")
        || !READ_VERSIONS.contains(&version)
        || !is_marker_id(id)
    {
        return None;
    }
    Some(id)
}

/// Ids the bot writes: letters, digits and `-_./:#+@`, never white space
/// or anything that could end a comment.
pub fn is_marker_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && id.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '#' | '+' | '@')
        })
}

fn single_meta(lines: &[&str]) -> Option<ItemMeta> {
    let mut parsed: Option<ItemMeta> = None;
    for json in lines {
        let meta: ItemMeta = serde_json::from_str(json).ok()?;
        match &parsed {
            Some(previous) if *previous != meta => return None,
            _ => parsed = Some(meta),
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, text: &str) -> ItemMeta {
        ItemMeta {
            id: id.to_string(),
            path: "src/a.rs".to_string(),
            line: 3,
            end_line: 4,
            keyword: "TODO".to_string(),
            text: text.to_string(),
            sha: "abc".to_string(),
            first_seen: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            owners: vec!["alice".to_string()],
            adopted: false,
        }
    }

    fn body_with(meta: &ItemMeta) -> String {
        format!(
            "{}\nsome text\n\n{}\n",
            item_line(&meta.id),
            meta_line(meta)
        )
    }

    #[test]
    fn given_rendered_markers_when_parsed_then_round_trip() {
        let m = meta("todo-0123456789ab", "flush the cache");
        let parsed = parse(&body_with(&m)).unwrap();
        assert_eq!(parsed.id, m.id);
        assert_eq!(parsed.meta, Some(m));
    }

    #[test]
    fn given_text_that_would_end_a_comment_then_meta_stays_one_comment() {
        let m = meta("x", "evil --> <!-- paydown:item id=other v=1 --> & more");
        let line = meta_line(&m);
        assert_eq!(line.matches("-->").count(), 1, "{line}");
        assert!(!line[4..].contains("<!--"));
        assert_eq!(parse(&body_with(&m)).unwrap().meta, Some(m));
    }

    #[test]
    fn given_crlf_and_human_edits_around_then_marker_still_parses() {
        let m = meta("todo-1", "x");
        let body = format!(
            "Notes a human added\r\n\r\n{}\r\nmore\r\n  {}  \r\n> quoted\r\n",
            item_line("todo-1"),
            meta_line(&m)
        );
        let parsed = parse(&body).unwrap();
        assert_eq!(parsed.id, "todo-1");
        assert_eq!(parsed.meta, Some(m));
    }

    #[test]
    fn given_old_format_without_meta_then_id_only() {
        let parsed = parse("hello\n<!-- paydown:item id=todo-1 v=1 -->").unwrap();
        assert_eq!(parsed.id, "todo-1");
        assert_eq!(parsed.meta, None);
    }

    #[test]
    fn given_lookalike_markers_then_none_is_trusted() {
        for body in [
            "",
            "no marker",
            "> <!-- paydown:item id=todo-1 v=1 -->",
            "text <!-- paydown:item id=todo-1 v=1 -->",
            "<!-- paydown:item id=todo-1 v=2 -->",
            "<!-- paydown:item id=todo-1 -->",
            "<!-- paydown:item id= v=1 -->",
            "<!-- paydown:item id=a b v=1 -->",
            "<!-- paydown:item  id=todo-1 v=1 -->",
            "<!--paydown:item id=todo-1 v=1-->",
            "<!-- paydown:item id=todo-1 v=1 --> trailing",
        ] {
            assert_eq!(parse(body), None, "{body:?}");
        }
    }

    #[test]
    fn given_two_markers_with_different_ids_then_untrusted() {
        let body = format!("{}\n{}", item_line("a"), item_line("b"));
        assert_eq!(parse(&body), None);
        let same = format!("{}\n{}", item_line("a"), item_line("a"));
        assert_eq!(parse(&same).unwrap().id, "a");
    }

    #[test]
    fn given_meta_for_another_id_or_broken_json_then_meta_is_dropped() {
        let other = meta("other", "x");
        let body = format!("{}\n{}", item_line("mine"), meta_line(&other));
        assert_eq!(parse(&body).unwrap().meta, None);
        let broken = format!(
            "{}\n<!-- paydown:meta {{\"id\":\"mine\" -->",
            item_line("mine")
        );
        assert_eq!(parse(&broken).unwrap().meta, None);
        let a = meta("mine", "a");
        let b = meta("mine", "b");
        let two = format!(
            "{}\n{}\n{}",
            item_line("mine"),
            meta_line(&a),
            meta_line(&b)
        );
        assert_eq!(parse(&two).unwrap().meta, None);
    }

    #[test]
    fn given_prefix_text_then_offset_points_at_marker_line() {
        let body = "human text\r\n\r\n<!-- paydown:item id=a v=1 -->\nrest";
        let at = item_line_offset(body).unwrap();
        assert!(body[at..].starts_with("<!-- paydown:item"));
        assert_eq!(item_line_offset("nothing"), None);
    }
}
