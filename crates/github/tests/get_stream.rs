//! `Client::get_stream`: a body read as it arrives. Retries up to the
//! headers run against the fake GitHub; what happens mid-body (a body that
//! is still arriving, one that breaks off) needs a server that can pause
//! or cut a response halfway, which the fake (whole answers only) cannot,
//! so those scenarios use a few lines of raw HTTP on loopback.

use std::io::Read;
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_github::{Client, ClientOptions, GitHubError, Repo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "ghp_stream_token";

fn client_for(base: &str) -> Client {
    Client::from_token_with_options(base, TOKEN, ClientOptions::for_tests()).unwrap()
}

/// Reads `reader` to its end on a blocking thread, as a scanner would.
async fn read_all(mut reader: paydown_github::BodyReader) -> std::io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map(|_| out)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_streamed_tarball_is_the_same_bytes_and_its_request_is_retried_until_github_answers() {
    // Given a repository whose tarball route fails twice with a 502,
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    fake.default_repo()
        .set_files("main", &[("src/lib.rs", "// TODO: split this\n")]);
    let client = client_for(&fake.url());
    let repo = Repo::parse("octo-org/octo-repo").unwrap();
    let whole = client
        .get_bytes(&repo.tarball("main"), "application/vnd.github+json")
        .await
        .unwrap();
    fake.fail_next_on("GET", "/repos/octo-org/octo-repo/tarball", 2, 502);

    // when it is streamed,
    let reader = client
        .get_stream(&repo.tarball("main"), "application/vnd.github+json")
        .await
        .unwrap();
    let streamed = read_all(reader).await.unwrap();

    // then the request was retried past the failures, the redirect followed,
    // and the reader yields exactly the bytes a whole download does.
    assert_eq!(
        fake.requests_matching("GET", "/repos/octo-org/octo-repo/tarball")
            .len(),
        4,
        "one get_bytes, then two failures and a success"
    );
    assert_eq!(fake.requests_matching("GET", "/_codeload/").len(), 2);
    assert_eq!(streamed, whole.to_vec());
    assert_eq!(client.stats().snapshot().retried, 2);
}

#[tokio::test]
async fn a_streamed_request_github_refuses_is_the_usual_typed_error() {
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let client = client_for(&fake.url());
    let err = client
        .get_stream(
            "/repos/octo-org/no-such-repo/tarball/main",
            "application/vnd.github+json",
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
}

/// Accepts one connection on `listener`, reads the request head, and
/// answers `head` followed by `body` (raw bytes, framing included); then
/// keeps the connection open until `hold` has passed.
async fn answer_once(listener: TcpListener, head: String, body: Vec<u8>, hold: Duration) {
    let (mut socket, _) = listener.accept().await.unwrap();
    read_request_head(&mut socket).await;
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body).await.unwrap();
    socket.flush().await.unwrap();
    tokio::time::sleep(hold).await;
}

async fn read_request_head(socket: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client closed before sending a request");
        seen.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn the_reader_gets_the_first_bytes_while_the_rest_has_not_been_sent() {
    // Given a server that sends one chunk of a chunked body and then
    // stalls, never finishing the body,
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(answer_once(
        listener,
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-gzip\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_string(),
        b"5\r\nfirst\r\n".to_vec(),
        Duration::from_secs(30),
    ));
    let client = client_for(&base);

    // when the body is streamed,
    let started = Instant::now();
    let mut reader = client
        .get_stream("/repos/o/r/tarball/main", "application/vnd.github+json")
        .await
        .unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut buf = [0u8; 5];
        reader.read_exact(&mut buf).map(|_| buf)
    })
    .await
    .unwrap()
    .unwrap();

    // then the reader has the first chunk long before any timeout: nothing
    // waited for the body to end.
    assert_eq!(&first, b"first");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    server.abort();
}

#[tokio::test]
async fn a_body_that_breaks_off_is_an_io_error_naming_the_route() {
    // Given a server that announces 1000 bytes, sends 10 and hangs up,
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(answer_once(
        listener,
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-gzip\r\ncontent-length: 1000\r\n\r\n"
            .to_string(),
        b"0123456789".to_vec(),
        Duration::ZERO,
    ));
    let client = client_for(&base);

    // when the body is streamed to its end,
    let reader = client
        .get_stream("/repos/o/r/tarball/main", "application/vnd.github+json")
        .await
        .unwrap();
    assert_eq!(reader.content_length(), Some(1000));
    let err = read_all(reader).await.unwrap_err();

    // then the read fails (a short body is never taken for a whole one),
    // with GitHub's typed error inside, naming the route.
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<GitHubError>())
        .unwrap_or_else(|| panic!("no GitHubError inside: {err}"));
    assert!(
        matches!(inner, GitHubError::Transport { route, .. } if route == "/repos/o/r/tarball/main"),
        "{inner}"
    );
    assert!(err.to_string().contains("broke off"), "{err}");
    server.await.unwrap();
}

#[tokio::test]
async fn a_body_that_stalls_times_out_as_an_io_error() {
    // Given a server that sends part of a chunked body and goes silent for
    // longer than the client's idle timeout (2 s in tests),
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(answer_once(
        listener,
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_string(),
        b"3\r\nabc\r\n".to_vec(),
        Duration::from_secs(30),
    ));
    let client = client_for(&base);
    let reader = client
        .get_stream("/repos/o/r/tarball/main", "application/vnd.github+json")
        .await
        .unwrap();

    // when it is read to the end,
    let started = Instant::now();
    let err = read_all(reader).await.unwrap_err();

    // then the read fails as a timeout rather than hanging.
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    server.abort();
}
