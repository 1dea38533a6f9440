//! `.gitattributes` on the App's incremental push path: a push reads only
//! the files it changed (compare + one GraphQL batch), yet the commit's
//! linguist marks must apply to them exactly as in the full sync's
//! tarball. Signed `push` webhooks through the real router, workers and
//! SQLite store, checked against the fake GitHub's issues and request log.

mod support;

use std::time::Duration;

use fake_github::FakeGitHub;
use support::{REPO, TestApp, ZEROS, db_url, debt_issues};

fn set_tree(fake: &FakeGitHub, files: &[(&str, &str)]) -> String {
    fake.repo(REPO).set_files("main", files)
}

fn request_log(fake: &FakeGitHub) -> String {
    fake.requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect::<Vec<_>>()
        .join("\n")
}

fn open_titles(fake: &FakeGitHub) -> Vec<String> {
    let mut titles: Vec<String> = debt_issues(fake)
        .into_iter()
        .filter(|i| i.state == "open")
        .map(|i| i.title)
        .collect();
    titles.sort();
    titles
}

const ROOT_ATTRIBUTES: &str = "\
deps/** linguist-vendored
tools/helper linguist-language=Lua
";
const NESTED_ATTRIBUTES: &str = "\
gen/** linguist-generated
notes/** linguist-documentation
";

#[tokio::test]
async fn a_push_applies_the_commits_root_and_nested_gitattributes_to_the_files_it_changed() {
    // Given a repository with a root and a nested .gitattributes, synced
    // once by a full sync,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_at(&fake, &db_url(&dir), Duration::from_secs(30)).await;
    let base = [
        (".gitattributes", ROOT_ATTRIBUTES),
        ("src/.gitattributes", NESTED_ATTRIBUTES),
        ("src/main.rs", "// TODO: the first item\n"),
    ];
    let before = set_tree(&fake, &base);
    app.post(
        "push",
        "push-first",
        &fake.push_payload(REPO, "main", ZEROS, "alice"),
    )
    .await;
    app.settle().await;
    assert_eq!(open_titles(&fake), ["TODO: the first item"]);

    // when a push adds a vendored file, a generated one and a
    // documentation one (by the nested file's marks), an extensionless
    // file marked Lua, and an ordinary file,
    let mut files = base.to_vec();
    files.extend([
        ("deps/lib/x.rs", "// TODO: vendored, not ours\n"),
        ("src/gen/api.rs", "// TODO: generated, not ours\n"),
        ("src/notes/plan.rs", "// TODO: documentation, not ours\n"),
        ("tools/helper", "local x = 1 -- FIXME: marked Lua\n"),
        ("src/lib.rs", "// HACK: an ordinary item\n"),
    ]);
    set_tree(&fake, &files);
    fake.clear_requests();
    let push = fake.push_payload(REPO, "main", &before, "alice");
    app.post("push", "push-marked", &push).await;
    app.settle().await;

    // then only the ordinary file and the Lua one have new issues,
    assert_eq!(
        open_titles(&fake),
        [
            "FIXME: marked Lua",
            "HACK: an ordinary item",
            "TODO: the first item"
        ]
    );
    // and the push was incremental: no tarball, and the absent
    // `.gitattributes` of the other directories cost no contents reads
    // (they rode in the GraphQL batch).
    let log = request_log(&fake);
    assert!(log.contains("/compare/"), "{log}");
    assert!(log.contains("POST /graphql"), "{log}");
    assert!(!log.contains("/tarball/"), "{log}");
    assert!(!log.contains("/contents/"), "{log}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_push_changing_a_gitattributes_rescans_the_whole_tree() {
    // Given a synced repository whose vendored directory holds an item,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_at(&fake, &db_url(&dir), Duration::from_secs(30)).await;
    let base = [
        (".gitattributes", ROOT_ATTRIBUTES),
        ("deps/lib/x.rs", "// TODO: vendored until unmarked\n"),
        ("src/main.rs", "// TODO: the first item\n"),
    ];
    let before = set_tree(&fake, &base);
    app.post(
        "push",
        "push-first",
        &fake.push_payload(REPO, "main", ZEROS, "alice"),
    )
    .await;
    app.settle().await;
    assert_eq!(open_titles(&fake), ["TODO: the first item"]);

    // when a push only drops the vendored mark,
    let mut files = base.to_vec();
    files[0] = (".gitattributes", "tools/helper linguist-language=Lua\n");
    set_tree(&fake, &files);
    fake.clear_requests();
    let push = fake.push_payload(REPO, "main", &before, "alice");
    app.post("push", "push-unmark", &push).await;
    app.settle().await;

    // then the file the push did not touch is read again (a full sync
    // from the tarball) and its item has an issue now.
    let log = request_log(&fake);
    assert!(log.contains("/tarball/"), "{log}");
    assert_eq!(
        open_titles(&fake),
        ["TODO: the first item", "TODO: vendored until unmarked"]
    );
    app.server.shutdown().await.unwrap();
}
