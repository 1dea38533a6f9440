//! Every copied `@octokit/webhooks-examples` payload parses into paydown's
//! event structs (see tests/fixtures/README.md for their provenance).

use std::path::Path;

use paydown_server::events::{Event, RoutingFields, parse_event};

fn fixtures() -> Vec<(String, String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        // <source>.<event>.<action>.<n>.json
        let event = name.split('.').nth(1).unwrap().to_owned();
        out.push((name, event, std::fs::read(&path).unwrap()));
    }
    out.sort();
    out
}

#[test]
fn every_fixture_parses_into_its_typed_event() {
    let all = fixtures();
    assert!(all.len() >= 60, "fixtures missing: {}", all.len());
    let mut failures = Vec::new();
    for (name, event, body) in &all {
        match parse_event(event, body) {
            Ok(Event::Unknown { .. }) => failures.push(format!("{name}: parsed as unknown")),
            Ok(parsed) => assert_eq!(parsed.name(), event, "{name}"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        if let Err(e) = RoutingFields::parse(event, body) {
            failures.push(format!("{name}: routing: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_handled_event_has_old_and_new_shapes() {
    let all = fixtures();
    for event in [
        "ping",
        "installation",
        "installation_repositories",
        "push",
        "pull_request",
        "issue_comment",
        "issues",
        "milestone",
        "check_run",
    ] {
        let new = all
            .iter()
            .any(|(n, e, _)| e == event && n.starts_with("api."));
        let old = all
            .iter()
            .any(|(n, e, _)| e == event && n.starts_with("ghes-31."));
        assert!(new && old, "{event}: api={new} ghes-31={old}");
    }
}

#[test]
fn installation_fixture_fields_are_read() {
    // Given the api.github.com `installation created` example,
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/api.installation.created.1.json"),
    )
    .unwrap();
    // when parsed, then the id, account and action come through.
    let Event::Installation(ev) = parse_event("installation", &body).unwrap() else {
        panic!("not an installation event")
    };
    assert_eq!(ev.action.as_str(), "created");
    assert!(ev.installation.id > 0);
    assert!(!ev.installation.account.login.is_empty());
    let routing = RoutingFields::parse("installation", &body).unwrap();
    assert_eq!(
        routing.repo_key(),
        format!("installation:{}", ev.installation.id)
    );
}
