//! The annotation scanner: one file's bytes under a path, as the scan crate
//! reads it (`scan_bytes`), and every language's lexer and the grammar on
//! the raw text (`scan_text`, which skips scan_bytes' long-line blanking).
//!
//! Input: the first byte picks a language, the bytes up to the first NUL
//! are the path, the rest are the file's contents.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use paydown_annotations::{ScanOptions, grammar, id, languages::all_languages, lexer};
use paydown_scan::{ScanSettings, scan_bytes};

static SETTINGS: LazyLock<ScanSettings> = LazyLock::new(ScanSettings::default);
static OPTIONS: LazyLock<[ScanOptions; 2]> = LazyLock::new(|| {
    let keywords: Vec<String> = paydown_annotations::DEFAULT_KEYWORDS
        .iter()
        .map(|k| k.to_string())
        .collect();
    [
        ScanOptions::new(keywords.clone(), false),
        ScanOptions::new(keywords, true),
    ]
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (path, contents) = match rest.iter().position(|&b| b == 0) {
        Some(nul) => (&rest[..nul], &rest[nul + 1..]),
        None => (&b"src/lib.rs"[..], rest),
    };
    let path = String::from_utf8_lossy(path);
    let _ = scan_bytes(&path, contents, &SETTINGS);

    let text = String::from_utf8_lossy(contents);
    let options = &OPTIONS[usize::from(selector & 1)];
    let _ = paydown_annotations::scan_text(&path, &text, options);
    let languages = all_languages();
    let language = languages[usize::from(selector >> 1) % languages.len()];
    let comments = lexer::comments(&text, language);
    let mut found = grammar::annotations(&path, &comments, options);
    id::assign_ids(&path, &mut found);
});
