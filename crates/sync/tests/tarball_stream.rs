//! The full scan's tarball is streamed through the scanner under its
//! limits: a download over `max_download_bytes` or an entry-count bomb
//! stops the sync before it plans anything, and the cap cuts a download
//! off while it is still arriving (the body is never buffered whole).

mod support;

use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_github::{Client, ClientOptions, Repo};
use paydown_scan::{TarballError, TarballLimits};
use paydown_sync::{SyncError, SyncOptions, TRACKING_LABEL, sync_repository};
use support::{REPO, TOKEN, base_options, world};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn options(limits: TarballLimits) -> SyncOptions {
    SyncOptions {
        tarball_limits: limits,
        ..base_options()
    }
}

/// Text that gzip cannot shrink much: `len` pseudo-random letters.
fn noise(len: usize, mut seed: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..len)
        .map(|i| {
            if i % 80 == 79 {
                return '\n';
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ALPHABET[(seed % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

fn open_debt_issues(fake: &FakeGitHub) -> Vec<fake_github::Issue> {
    fake.repo(REPO)
        .issues()
        .into_iter()
        .filter(|i| i.state == "open" && i.labels.iter().any(|l| l == TRACKING_LABEL))
        .filter(|i| {
            !i.body
                .as_deref()
                .unwrap_or_default()
                .contains("paydown:dashboard")
        })
        .collect()
}

const CAP: u64 = 64 * 1024;

fn capped() -> TarballLimits {
    TarballLimits {
        max_download_bytes: CAP,
        ..TarballLimits::default()
    }
}

#[tokio::test]
async fn a_tarball_over_the_download_cap_closes_and_creates_nothing() {
    // Given a synced repository with two items, small enough to scan under
    // a 64 KiB download cap,
    let (fake, client, repo) = world().await;
    fake.repo(REPO).set_files(
        "main",
        &[
            ("src/a.rs", "// TODO: flush the cache\n"),
            ("src/b.rs", "// FIXME: retries double-charge\n"),
        ],
    );
    let first = sync_repository(&client, &repo, &options(capped()))
        .await
        .expect("a normal tarball scans");
    assert_eq!(first.annotations, 2);
    assert_eq!(open_debt_issues(&fake).len(), 2);

    // when a push removes one item (its issue would close) and adds a file
    // that takes the compressed tarball past the cap,
    let noise = noise(256 * 1024, 7);
    fake.repo(REPO).set_files(
        "main",
        &[
            ("src/a.rs", "// TODO: flush the cache\n"),
            ("src/b.rs", "fn fixed() {}\n"),
            ("assets/noise.txt", &noise),
        ],
    );
    let writes = fake.count_writes();
    let err = sync_repository(&client, &repo, &options(capped()))
        .await
        .unwrap_err();

    // then the sync fails with the typed error naming the limit,
    assert!(
        matches!(
            &err,
            SyncError::Tarball {
                source: TarballError::DownloadTooLarge { limit: CAP },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("65536"), "{err}");
    // and nothing was written: no issue closed, none created.
    assert_eq!(fake.count_writes(), writes);
    assert_eq!(open_debt_issues(&fake).len(), 2);
}

#[tokio::test]
async fn an_entry_count_bomb_stops_the_sync_before_it_writes() {
    // Given a repository of 50 annotated files,
    let (fake, client, repo) = world().await;
    let files: Vec<(String, String)> = (0..50)
        .map(|i| (format!("src/f{i}.rs"), format!("// TODO: item {i}\n")))
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    fake.repo(REPO).set_files("main", &files);

    // when it is synced with room for 10 entries,
    let limits = TarballLimits {
        max_entries: 10,
        ..TarballLimits::default()
    };
    let err = sync_repository(&client, &repo, &options(limits))
        .await
        .unwrap_err();

    // then the scan stops at the limit and nothing is created.
    assert!(
        matches!(
            &err,
            SyncError::Tarball {
                source: TarballError::TooManyEntries { limit: 10 },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.count_writes(), 0);
}

/// A gzip tarball in GitHub's layout holding `files`.
fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, format!("o-r-abc/{path}"), *data)
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[tokio::test]
async fn the_cap_cuts_off_a_download_that_is_still_arriving() {
    // Given a server that sends a 300 KiB tarball as a chunked body and
    // then never ends it (the fake sends whole answers, so this is raw
    // HTTP on loopback),
    let gz = tarball(&[("noise.txt", noise(300 * 1024, 11).as_bytes())]);
    assert!(gz.len() as u64 > 2 * CAP);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            head.extend_from_slice(&buf[..n]);
        }
        let mut out =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-gzip\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec();
        for chunk in gz.chunks(8 * 1024) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        // The closing zero-length chunk is never sent.
        let _ = socket.write_all(&out).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let client = Client::from_token_with_options(&base, TOKEN, ClientOptions::for_tests()).unwrap();
    let repo = Repo::parse("o/r").unwrap();

    // when the commit is scanned under a 64 KiB cap,
    let started = Instant::now();
    let err = paydown_sync::fetch::scan_commit(
        &client,
        &repo,
        "abc",
        &paydown_config::Config::default(),
        capped(),
    )
    .await
    .unwrap_err();

    // then the scanner, reading as bytes arrive, hits the cap at once: a
    // client that waited for the whole body would still be waiting (and
    // would end in a timeout, not this error).
    assert!(
        matches!(
            &err,
            SyncError::Tarball {
                source: TarballError::DownloadTooLarge { limit: CAP },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    server.abort();
}
