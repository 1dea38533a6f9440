//! The slash-command parser: a comment body with the default prefix and a
//! mention form, an edit (old and new bodies split at the first NUL), and
//! the `issue_comment` payload reader the Action uses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paydown_commands::{CommentEvent, added_commands, could_hold_command, parse_comment};

fuzz_target!(|data: &[u8]| {
    let _ = CommentEvent::from_payload(data);
    let text = String::from_utf8_lossy(data);
    let _ = parse_comment(&text, "/debt", "paydown");
    let _ = could_hold_command(&text, "paydown");
    if let Some((old, new)) = text.split_once('\0') {
        let _ = added_commands(old, new, "/debt", "paydown");
        // A prefix that is itself fuzzed text: configs choose their own.
        let _ = parse_comment(new, old, old);
    }
});
