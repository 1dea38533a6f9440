//! Hidden markers the bot reads back from bodies anyone can edit: every
//! parser of `paydown_markers` (item/meta, PR report counts, replies, the
//! flag markers) and the budget records read through it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paydown_markers::{closed_by_bot, dashboard, drift, item, pr_debt, reply};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = paydown_budgets::parse_records(&text);
    let _ = item::parse(&text);
    let _ = item::item_line_offset(&text);
    let _ = pr_debt::parse(&text);
    let _ = pr_debt::is_report_comment(&text);
    let _ = reply::answers(&text, &reply::reply_marker(1, "r"));
    let _ = drift::is_drift_comment(&text);
    let _ = dashboard::is_dashboard(&text);
    let _ = closed_by_bot::unmark(&closed_by_bot::mark(&text));
});
