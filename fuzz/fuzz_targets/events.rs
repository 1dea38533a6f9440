//! Webhook payloads: `(X-GitHub-Event, body)` to a typed event, and the
//! routing fields read before queueing (and whether a delivery needs work). The first byte picks the event name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paydown_events::{RoutingFields, parse_event};

const NAMES: [&str; 10] = [
    "ping",
    "installation",
    "installation_repositories",
    "push",
    "pull_request",
    "issue_comment",
    "issues",
    "milestone",
    "check_run",
    "unknown",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(selector) % NAMES.len()];
    let _ = parse_event(name, body);
    if let Ok(routing) = RoutingFields::parse(name, body) {
        let _ = routing.repo_key();
        let _ = routing.needs_work(name);
    }
});
