//! Hidden markers the bot reads back from bodies anyone can edit: budget
//! records, the reconcile item/meta marker, and the PR review's
//! `<!-- paydown:pr-debt ... -->` counts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = paydown_budgets::parse_records(&text);
    let _ = paydown_reconcile::marker::parse(&text);
    let _ = paydown_review::parse_report_marker(&text);
    let _ = paydown_review::render::is_report_comment(&text);
});
