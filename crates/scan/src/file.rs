//! One file's bytes to annotations: decoding, binary and generated
//! detection, the line-length limit, then the pure parser. Shared by tree
//! walks, tarballs and callers holding contents in memory (PR files).

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use paydown_annotations::{
    Annotation, PathClass, classify_path, is_known_type, language_for_path, scan_text_as,
};

use crate::attributes::Marks;
use crate::{ScanSettings, SkipReason};

/// Scans one file's bytes: decoding, binary and generated detection, the
/// line-length limit, then the pure parser. Shared by the tree walker and
/// by callers that hold file contents in memory (tarballs, PR files).
pub fn scan_bytes(
    rel: &str,
    bytes: &[u8],
    options: &ScanSettings,
) -> Result<Vec<Annotation>, SkipReason> {
    scan_marked(rel, bytes, options, &Marks::default())
}

/// [`scan_bytes`] for a file `.gitattributes` may have marked: an explicit
/// `linguist-generated` (set or unset) replaces the content check, and
/// `linguist-language` the detection by name.
pub fn scan_marked(
    rel: &str,
    bytes: &[u8],
    options: &ScanSettings,
    marks: &Marks,
) -> Result<Vec<Annotation>, SkipReason> {
    // Most files hold no keyword: for those (in an ASCII-compatible
    // encoding) the keyword search runs on the raw bytes, and only the
    // ends a shebang or modeline can be in are decoded.
    if !has_utf16_bom(bytes) && !options.annotations.may_contain_keyword_bytes(bytes) {
        let head = &bytes[..bytes.len().min(BINARY_SNIFF)];
        if memchr::memchr(0, head).is_some() {
            return Err(SkipReason::Binary);
        }
        if options.skip_generated && marks.generated.is_none() && looks_generated(bytes) {
            return Err(SkipReason::Generated);
        }
        let ends = ends_text(bytes);
        return if marks.language.is_some() || is_known_type(rel, &ends) {
            Ok(Vec::new())
        } else {
            Err(SkipReason::UnknownType)
        };
    }
    let text = decode(bytes).ok_or(SkipReason::Binary)?;
    if options.skip_generated && marks.generated.is_none() && looks_generated(text.as_bytes()) {
        return Err(SkipReason::Generated);
    }
    // The prefilter runs before any copy or content heuristic: most files
    // end here.
    if !options.annotations.may_contain_keyword(&text) {
        return if marks.language.is_some() || is_known_type(rel, &text) {
            Ok(Vec::new())
        } else {
            Err(SkipReason::UnknownType)
        };
    }
    let language = marks
        .language
        .or_else(|| language_for_path(rel, &text))
        .ok_or(SkipReason::UnknownType)?;
    let text = blank_long_lines(&text, options.max_line_length);
    Ok(scan_text_as(language, rel, &text, &options.annotations))
}

/// Whether a file can be skipped without reading it: its name or
/// extension says binary, or a type without comments, and no
/// `linguist-language` says otherwise.
pub(crate) fn skip_unread(rel: &str, marks: &Marks) -> Option<SkipReason> {
    if marks.language.is_some() {
        return None;
    }
    match classify_path(rel) {
        PathClass::Binary => Some(SkipReason::Binary),
        PathClass::NoComments => Some(SkipReason::UnknownType),
        PathClass::ReadIt => None,
    }
}

/// How much of a file's start is searched for a NUL byte (binary data).
const BINARY_SNIFF: usize = 8192;

/// Of a file without keywords, only its first and last lines are read as
/// text: the shebang, modelines and generated markers are there.
const ENDS: usize = 4096;

/// The first five lines, where [`looks_generated`] looks.
fn head_lines(bytes: &[u8]) -> &[u8] {
    memchr::memchr_iter(b'\n', bytes)
        .nth(4)
        .map_or(bytes, |i| &bytes[..i])
}

fn has_utf16_bom(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF")
}

/// The first and last [`ENDS`] bytes of a file as text (the whole file
/// when it is short), cut at line ends so no line is half there.
fn ends_text(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.len() <= 2 * ENDS {
        return lossy(bytes);
    }
    let head = &bytes[..ENDS];
    let head = &head[..memchr::memrchr(b'\n', head).map_or(head.len(), |i| i + 1)];
    let tail = &bytes[bytes.len() - ENDS..];
    let tail = &tail[memchr::memchr(b'\n', tail).map_or(0, |i| i + 1)..];
    let mut text = lossy(head).into_owned();
    text.push_str(&lossy(tail));
    Cow::Owned(text)
}

/// `String::from_utf8_lossy`, with valid UTF-8 (nearly every file) checked
/// by the strict validator, several times faster on ASCII.
fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Bytes to text: UTF-8 (BOM stripped), UTF-16 with a BOM, anything else
/// decoded lossily so one stray byte doesn't hide a file's annotations.
/// `None` for binary data.
fn decode(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Some(String::from_utf8_lossy(rest));
    }
    let utf16 = |rest: &[u8], le: bool| {
        let units = rest.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        Cow::Owned(
            char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect(),
        )
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Some(utf16(rest, true));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Some(utf16(rest, false));
    }
    let head = &bytes[..bytes.len().min(BINARY_SNIFF)];
    if memchr::memchr(0, head).is_some() {
        return None;
    }
    Some(lossy(bytes))
}

/// The markers code generators put near the top of their output (in its
/// first five lines, searched as bytes: the markers are ASCII).
fn looks_generated(bytes: &[u8]) -> bool {
    // Searchers built once: building one per file cost more than the
    // search in a file's first lines.
    static MARKERS: LazyLock<[Finder<'static>; 4]> = LazyLock::new(|| {
        [
            "@generated",
            "DO NOT EDIT",
            "do not edit",
            "Code generated by",
        ]
        .map(Finder::new)
    });
    let head = head_lines(bytes);
    MARKERS.iter().any(|marker| marker.find(head).is_some())
}

/// Whether a line of `bytes` is longer than `max` bytes (its newline not
/// counted). Each step looks for the last newline within `max + 1` bytes
/// of a line's start, so the search runs at memchr's speed over the file
/// rather than stopping at every line end.
fn has_long_line(bytes: &[u8], max: usize) -> bool {
    let mut start = 0;
    while bytes.len() - start > max {
        match memchr::memrchr(b'\n', &bytes[start..=start + max]) {
            Some(i) => start += i + 1,
            None => return true,
        }
    }
    false
}

fn blank_long_lines(text: &str, max: usize) -> Cow<'_, str> {
    if !has_long_line(text.as_bytes(), max) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.len() > max {
            out.push_str(&line[content.len()..]);
        } else {
            out.push_str(line);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn utf8_bom_and_utf16_files_are_decoded() {
        assert_eq!(decode(b"\xEF\xBB\xBF// x").as_deref(), Some("// x"));
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("# TODO: a".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&le).as_deref(), Some("# TODO: a"));
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("# TODO: a".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode(&be).as_deref(), Some("# TODO: a"));
    }
    #[test]
    fn a_nul_byte_near_the_start_means_binary() {
        assert!(decode(b"\x7fELF\x00\x01TODO").is_none());
    }
    #[test]
    fn invalid_utf8_is_decoded_lossily_not_skipped() {
        assert_eq!(decode(b"# caf\xE9").as_deref(), Some("# caf\u{FFFD}"));
    }
    #[test]
    fn generated_markers_in_the_head_are_recognised() {
        assert!(looks_generated(
            b"// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n"
        ));
        assert!(looks_generated(b"# @generated by tool\n"));
        assert!(looks_generated(b"a\nb\nc\nd\n// do not edit\nf\n"));
        assert!(!looks_generated(
            b"a\nb\nc\nd\ne\nf\n// DO NOT EDIT far below\n"
        ));
    }
    #[test]
    fn a_long_file_without_keywords_is_typed_by_its_first_and_last_lines_unread_between() {
        // Given extensionless files of 100 KiB without any keyword, one
        // with a shebang, one with a Vim modeline at the end, one with
        // neither,
        let middle = "x = 1\n".repeat(20_000);
        let settings = ScanSettings::default();
        let shebang = format!("#!/bin/sh\n{middle}");
        let modeline = format!("{middle}# vim: set ft=ruby:\n");
        let neither = middle.clone();
        // then the first two are scanned (no items), the third is unknown,
        assert_eq!(scan_bytes("run", shebang.as_bytes(), &settings), Ok(vec![]));
        assert_eq!(
            scan_bytes("mode", modeline.as_bytes(), &settings),
            Ok(vec![])
        );
        assert_eq!(
            scan_bytes("data", neither.as_bytes(), &settings),
            Err(SkipReason::UnknownType)
        );
        // and a generated marker in the head still counts.
        let generated = format!("// Code generated by x. DO NOT EDIT.\n{middle}");
        assert_eq!(
            scan_bytes("a.go", generated.as_bytes(), &settings),
            Err(SkipReason::Generated)
        );
    }

    #[test]
    fn a_long_line_is_found_wherever_it_is_and_a_line_of_exactly_the_limit_is_not() {
        // Given texts whose lines are as long as the limit or one longer,
        // at the start, in the middle, at the end without a newline, with
        // CRLF endings and with empty lines around,
        let max = 8;
        let line = |n: usize| "x".repeat(n);
        let cases = [
            (String::new(), false),
            (line(8), false),
            (line(9), true),
            (format!("{}\n", line(8)), false),
            (format!("{}\n", line(9)), true),
            (format!("a\n\n{}\nb\n", line(8)), false),
            (format!("a\n\n{}\nb\n", line(9)), true),
            (format!("{}\n{}", line(3), line(9)), true),
            (format!("{}\r\n{}\r\n", line(7), line(7)), false),
            (format!("{}\r\n", line(8)), true),
            ("\n".repeat(40), false),
            (format!("{}{}", "ab\n".repeat(10), line(9)), true),
            (format!("{}\n{}", line(8), "a\n".repeat(9)), false),
        ];
        for (text, long) in cases {
            // then the fast search agrees with measuring every line.
            let naive = text.split('\n').any(|l| l.len() > max);
            assert_eq!(naive, long, "{text:?}");
            assert_eq!(has_long_line(text.as_bytes(), max), long, "{text:?}");
        }
    }

    #[test]
    fn long_lines_are_blanked_keeping_line_numbers() {
        let text = format!("a\n{}\r\nb\n", "x".repeat(50));
        assert_eq!(blank_long_lines(&text, 10), "a\n\r\nb\n");
        assert!(matches!(blank_long_lines("short\n", 10), Cow::Borrowed(_)));
    }
}
