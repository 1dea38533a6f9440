//! `Client::files_at` against the fake GitHub: many files at one commit
//! through GraphQL, with the per-file contents reads it falls back to.

use fake_github::{FakeGitHub, Tree};
use paydown_github::{Client, ClientOptions, FILES_PER_QUERY, FileAt, GitHubError, Repo};

const REPO: &str = "octo-org/octo-repo";
const CONTENTS: &str = "/repos/octo-org/octo-repo/contents/";

async fn world() -> (FakeGitHub, Client, Repo) {
    let fake = FakeGitHub::start().await.with_user_token("t0k3n");
    let client =
        Client::from_token_with_options(&fake.url(), "t0k3n", ClientOptions::for_tests()).unwrap();
    (fake, client, Repo::parse(REPO).unwrap())
}

/// Commits `files` (path, bytes) on `main` and returns the commit.
fn commit(fake: &FakeGitHub, files: &[(String, Vec<u8>)]) -> String {
    let tree: Tree = files.iter().cloned().collect();
    fake.repo(REPO).commit("main", tree, "files")
}

fn paths(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn text(found: &Result<FileAt, GitHubError>) -> String {
    match found {
        Ok(FileAt::Text(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn text_binary_over_size_and_missing_files_come_from_one_graphql_query() {
    // Given a commit with a text file, a binary one and a large one,
    let (fake, client, repo) = world().await;
    let sha = commit(
        &fake,
        &[
            ("src/a.rs".into(), b"// TODO: a\n".to_vec()),
            ("logo.png".into(), vec![0x89, b'P', 0, 0, 1]),
            ("big.rs".into(), vec![b'x'; 200]),
        ],
    );

    // when the three and a path the commit lacks are read with a 100-byte limit,
    let found = client
        .files_at(
            &repo,
            &sha,
            &paths(&["src/a.rs", "logo.png", "big.rs", "gone.rs"]),
            100,
        )
        .await
        .unwrap();

    // then each is answered in the order asked,
    let names: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["src/a.rs", "logo.png", "big.rs", "gone.rs"]);
    assert_eq!(text(&found[0].1), "// TODO: a\n");
    assert_eq!(found[1].1.as_ref().ok(), Some(&FileAt::Binary));
    assert_eq!(found[2].1.as_ref().ok(), Some(&FileAt::TooLarge));
    assert_eq!(found[3].1.as_ref().ok(), Some(&FileAt::Missing));
    // from one GraphQL query, and one contents read for the null object only.
    assert_eq!(fake.requests_matching("POST", "/graphql").len(), 1);
    let reads: Vec<String> = fake
        .requests_matching("GET", CONTENTS)
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(reads, [format!("{CONTENTS}gone.rs")]);
}

#[tokio::test]
async fn files_are_asked_for_in_batches_of_a_hundred() {
    // Given a commit of 250 files,
    let (fake, client, repo) = world().await;
    let files: Vec<(String, Vec<u8>)> = (0..250)
        .map(|i| (format!("src/m{i:03}.rs"), format!("// {i}\n").into_bytes()))
        .collect();
    let sha = commit(&fake, &files);
    let wanted: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();

    // when all of them are read,
    let found = client.files_at(&repo, &sha, &wanted, 1_000).await.unwrap();

    // then three queries of at most 100 files answer every one, in order,
    assert_eq!(FILES_PER_QUERY, 100);
    let queries = fake.requests_matching("POST", "/graphql");
    assert_eq!(queries.len(), 3);
    let sizes: Vec<usize> = queries
        .iter()
        .map(|q| q.json()["variables"].as_object().unwrap().len() - 2)
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(found.len(), 250);
    for (i, (path, read)) in found.iter().enumerate() {
        assert_eq!(path, &format!("src/m{i:03}.rs"));
        assert_eq!(text(read), format!("// {i}\n"));
    }
    // with no contents read.
    assert!(fake.requests_matching("GET", CONTENTS).is_empty());
}

#[tokio::test]
async fn a_refused_graphql_query_reads_every_file_alone() {
    // Given GraphQL answering 404 (as an older GitHub Enterprise does),
    let (fake, client, repo) = world().await;
    let sha = commit(
        &fake,
        &[
            ("a.rs".into(), b"fn a() {}\n".to_vec()),
            ("b.rs".into(), b"fn b() {}\n".to_vec()),
        ],
    );
    fake.fail_next_on("POST", "/graphql", 1, 404);

    // when two files and a missing one are read,
    let found = client
        .files_at(&repo, &sha, &paths(&["a.rs", "b.rs", "c.rs"]), 1_000)
        .await
        .unwrap();

    // then each came from its own contents read.
    assert_eq!(text(&found[0].1), "fn a() {}\n");
    assert_eq!(text(&found[1].1), "fn b() {}\n");
    assert_eq!(found[2].1.as_ref().ok(), Some(&FileAt::Missing));
    assert_eq!(fake.requests_matching("POST", "/graphql").len(), 1);
    assert_eq!(fake.requests_matching("GET", CONTENTS).len(), 3);
}

#[tokio::test]
async fn a_file_read_alone_over_the_limit_is_too_large() {
    // Given GraphQL refusing the query, and a file over the limit,
    let (fake, client, repo) = world().await;
    let sha = commit(&fake, &[("big.rs".into(), vec![b'x'; 200])]);
    fake.fail_next_on("POST", "/graphql", 1, 422);

    // when it is read,
    let found = client
        .files_at(&repo, &sha, &paths(&["big.rs"]), 100)
        .await
        .unwrap();

    // then its content is not returned.
    assert_eq!(found[0].1.as_ref().ok(), Some(&FileAt::TooLarge));
}

#[tokio::test]
async fn a_file_whose_read_keeps_failing_carries_its_error_and_the_rest_is_read() {
    // Given GraphQL refusing the query, and one file GitHub cannot serve,
    let (fake, client, repo) = world().await;
    let sha = commit(
        &fake,
        &[
            ("a.rs".into(), b"fn a() {}\n".to_vec()),
            ("b.rs".into(), b"fn b() {}\n".to_vec()),
        ],
    );
    fake.fail_next_on("POST", "/graphql", 1, 400);
    fake.fail_next_on("GET", &format!("{CONTENTS}b.rs"), 50, 502);

    // when both are read,
    let found = client
        .files_at(&repo, &sha, &paths(&["a.rs", "b.rs"]), 1_000)
        .await
        .unwrap();
    fake.clear_faults();

    // then the readable one has its text and the other its error.
    assert_eq!(text(&found[0].1), "fn a() {}\n");
    let err = found[1].1.as_ref().unwrap_err();
    assert_eq!(err.status(), Some(502), "{err}");
}

#[tokio::test]
async fn lost_access_on_a_read_alone_stops_the_reads() {
    // Given GraphQL refusing the query and every contents read answering 401,
    let (fake, client, repo) = world().await;
    let sha = commit(&fake, &[("a.rs".into(), b"fn a() {}\n".to_vec())]);
    fake.fail_next_on("POST", "/graphql", 1, 404);
    fake.fail_next_on("GET", CONTENTS, 50, 401);

    // when files are read,
    let err = client
        .files_at(&repo, &sha, &paths(&["a.rs"]), 1_000)
        .await
        .unwrap_err();
    fake.clear_faults();

    // then the error is the whole read's.
    assert_eq!(err.status(), Some(401), "{err}");
}

#[tokio::test]
async fn a_graphql_query_failing_past_the_retries_reads_every_file_alone() {
    // Given GraphQL failing with 502 past the client's retries,
    let (fake, client, repo) = world().await;
    let sha = commit(&fake, &[("a.rs".into(), b"fn a() {}\n".to_vec())]);
    fake.fail_next_on("POST", "/graphql", 50, 502);

    // when a file is read,
    let found = client
        .files_at(&repo, &sha, &paths(&["a.rs"]), 1_000)
        .await
        .unwrap();
    fake.clear_faults();

    // then it came through the contents API, which still answers.
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].1.as_ref().unwrap(),
        &FileAt::Text(bytes::Bytes::from_static(b"fn a() {}\n"))
    );
    assert_eq!(fake.requests_matching("GET", CONTENTS).len(), 1);
}

#[tokio::test]
async fn no_paths_cost_no_request() {
    let (fake, client, repo) = world().await;
    let found = client.files_at(&repo, "abc", &[], 1_000).await.unwrap();
    assert!(found.is_empty());
    assert!(fake.requests().is_empty());
}
