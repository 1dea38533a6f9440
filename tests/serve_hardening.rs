//! `paydown serve` as a real process under hostile clients on loopback:
//! unsigned near-limit bodies held open, header and body trickles, idle
//! keep-alives and thousands of slow connections. Memory stays bounded,
//! every slow connection is closed within its timeout and `/healthz` keeps
//! answering. The figures are printed (`--nocapture`) for the security notes.
#![cfg(target_os = "linux")]

mod support;

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "hardening-webhook-secret";
const MIB: usize = 1024 * 1024;

struct Served {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Starts `paydown serve` with `env` on top of a minimal configuration
    /// and waits for its health check.
    async fn start(fake: &FakeGitHub, env: &[(&str, &str)]) -> Served {
        let port = support::free_port();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("serve.log");
        let db = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("paydown.sqlite").display()
        );
        let mut settings = vec![("PAYDOWN_WORKERS", "1")];
        settings.extend_from_slice(env);
        let child = support::spawn_serve(fake, SECRET, &db, port, &log, &settings);
        let mut served = Served {
            child,
            port,
            _dir: dir,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while healthz(port, Duration::from_secs(1)).await.is_none() {
            if let Ok(Some(status)) = served.child.try_wait() {
                panic!("paydown serve exited with {status}:\n{}", served.log());
            }
            assert!(
                Instant::now() < deadline,
                "never healthy:\n{}",
                served.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        served
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port)).await.unwrap()
    }

    /// Resident memory of the server process, in MiB.
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib / 1024.0
    }

    /// Open file descriptors of the server process.
    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }
}

/// How long a fresh connection took to get `200` from `/healthz`, or `None`
/// if it did not within `within`.
async fn healthz(port: u16, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let probe = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        buf.starts_with(b"HTTP/1.1 200").then_some(())
    };
    tokio::time::timeout(within, probe).await.ok()??;
    Some(started.elapsed())
}

/// Waits until the server closes `stream` (EOF or reset), reading and
/// discarding whatever it answers; returns how long that took, or `None`
/// if it stayed open for `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let wait = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, wait).await.ok()?;
    Some(started.elapsed())
}

fn webhook_head(content_length: usize) -> String {
    format!(
        "POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: push\r\nX-GitHub-Delivery: probe\r\n\
         X-Hub-Signature-256: sha256={}\r\nContent-Length: {content_length}\r\n\r\n",
        "0".repeat(64)
    )
}

#[tokio::test]
async fn unsigned_near_limit_bodies_held_open_keep_memory_bounded_and_healthz_answers() {
    let fake = FakeGitHub::start().await;
    // Given the default limits (4 MiB a body, 64 MiB in flight), with a
    // body timeout long enough to hold the bodies during the measurement,
    let served = Served::start(&fake, &[("PAYDOWN_BODY_TIMEOUT_SECONDS", "60")]).await;
    let idle = served.rss_mib();

    // when a body declared over the limit arrives, it is refused at once,
    // before any of it is sent,
    let mut over = served.connect().await;
    over.write_all(webhook_head(25 * MIB - 1).as_bytes())
        .await
        .unwrap();
    let mut answer = vec![0u8; 12];
    tokio::time::timeout(Duration::from_secs(2), over.read_exact(&mut answer))
        .await
        .expect("no answer to an oversized Content-Length")
        .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");

    // and 40 unsigned connections each send all but the last byte of a
    // near-limit body and hold it open (160 MiB offered),
    const HOLDERS: usize = 40;
    let near_limit = 4 * MIB - 1;
    let mut holders = Vec::new();
    for _ in 0..HOLDERS {
        let mut s = served.connect().await;
        holders.push(tokio::spawn(async move {
            s.write_all(webhook_head(near_limit).as_bytes()).await?;
            s.write_all(&vec![b' '; near_limit - 1]).await?;
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, std::io::Error>(s)
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    // then the server's memory stays within the documented bound (the
    // in-flight budget twice over, for the copy made when a body is
    // joined, plus its idle size and 32 MiB of slack),
    let held = served.rss_mib();
    let bound = idle + 2.0 * 64.0 + 32.0;
    eprintln!(
        "memory: idle {idle:.1} MiB; {HOLDERS} unsigned {near_limit}-byte bodies held open: {held:.1} MiB (bound {bound:.1} MiB)"
    );
    assert!(held < bound, "RSS {held:.1} MiB over {bound:.1} MiB");
    // and /healthz answers promptly.
    let took = healthz(served.port, Duration::from_secs(2))
        .await
        .expect("/healthz did not answer while bodies were held");
    eprintln!("memory: /healthz answered in {took:?} while the bodies were held");
    for h in holders {
        h.abort();
    }
}

#[tokio::test]
async fn slow_headers_slow_bodies_and_idle_keep_alives_are_closed_within_their_timeouts() {
    let fake = FakeGitHub::start().await;
    // Given header and body timeouts of 2 seconds,
    let served = Served::start(
        &fake,
        &[
            ("PAYDOWN_HEADER_TIMEOUT_SECONDS", "2"),
            ("PAYDOWN_BODY_TIMEOUT_SECONDS", "2"),
        ],
    )
    .await;
    let limit = Duration::from_secs(4);

    // when a client trickles its headers a byte every 300 ms,
    let mut trickle_head = served.connect().await;
    let trickler = tokio::spawn(async move {
        for b in b"POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if trickle_head.write_all(&[*b]).await.is_err() {
                return Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        unreachable!("the cycle never ends")
    });
    let started = Instant::now();
    let closed_at = tokio::time::timeout(Duration::from_secs(10), trickler)
        .await
        .expect("a header trickle stayed open for 10 s")
        .unwrap();
    let header_took = closed_at - started;
    eprintln!("timeouts: header trickle closed after {header_took:?}");
    // (a write can succeed once more after the close; one trickle step)
    assert!(header_took < limit + Duration::from_millis(600));

    // and a client sends complete headers then its body a byte every 300 ms,
    let mut body_trickle = served.connect().await;
    body_trickle
        .write_all(webhook_head(100).as_bytes())
        .await
        .unwrap();
    let (mut reader, mut writer) = body_trickle.into_split();
    let body_writer = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let started = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer))
        .await
        .expect("a body trickle stayed open for 10 s")
        .ok();
    let body_took = started.elapsed();
    body_writer.abort();
    eprintln!("timeouts: body trickle closed after {body_took:?}");
    assert!(body_took < limit, "{body_took:?}");
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // and a client announces a body it never sends,
    let mut silent = served.connect().await;
    silent
        .write_all(webhook_head(1000).as_bytes())
        .await
        .unwrap();
    let silent_took = closed_within(&mut silent, Duration::from_secs(10))
        .await
        .expect("an announced body never sent stayed open for 10 s");
    eprintln!("timeouts: announced-but-never-sent body closed after {silent_took:?}");
    assert!(silent_took < limit);

    // and a keep-alive client makes one request then goes quiet,
    let mut idle = served.connect().await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let idle_took = closed_within(&mut idle, Duration::from_secs(10))
        .await
        .expect("an idle keep-alive stayed open for 10 s");
    eprintln!("timeouts: idle keep-alive closed after {idle_took:?}");
    assert!(idle_took < limit);
    // then each was closed within its timeout (asserted after each step).
}

/// Opens `n` connections that each send the start of a request and stop.
async fn slow_connections(served: &Served, n: usize) -> Vec<TcpStream> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = served.connect().await;
        s.write_all(b"POST /webhook HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .unwrap();
        conns.push(s);
    }
    conns
}

#[tokio::test]
async fn healthz_answers_under_two_thousand_slow_connections() {
    let fake = FakeGitHub::start().await;
    // Given a server whose header timeout outlasts the test,
    let served = Served::start(&fake, &[("PAYDOWN_HEADER_TIMEOUT_SECONDS", "60")]).await;
    let idle = served.rss_mib();
    // when 2,000 connections each send half a request and stall,
    let conns = slow_connections(&served, 2000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // then /healthz still answers promptly, with bounded memory.
    let took = healthz(served.port, Duration::from_secs(2))
        .await
        .expect("/healthz did not answer under 2,000 slow connections");
    let fds = served.open_fds();
    let rss = served.rss_mib();
    eprintln!(
        "fds: 2,000 slow connections: /healthz in {took:?}, {fds} open fds, RSS {idle:.1} -> {rss:.1} MiB"
    );
    assert!(fds >= 2000, "the slow connections were not all accepted");
    drop(conns);
}

#[tokio::test]
async fn the_connection_cap_keeps_descriptors_bounded_and_timeouts_free_the_slots() {
    let fake = FakeGitHub::start().await;
    // Given a cap of 100 connections and a 2 s header timeout,
    let served = Served::start(
        &fake,
        &[
            ("PAYDOWN_MAX_CONNECTIONS", "100"),
            ("PAYDOWN_HEADER_TIMEOUT_SECONDS", "2"),
        ],
    )
    .await;
    let before = served.open_fds();
    // when 300 connections stall mid-headers (the kernel queues those
    // beyond the cap),
    let conns = slow_connections(&served, 300).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // then the server holds at most the cap of them (plus the few files the
    // store's pool and the periodic leader may open meanwhile: far fewer
    // than the 200 connections left waiting in the kernel),
    let during = served.open_fds();
    eprintln!("fds: cap 100, 300 stalled connections: {before} -> {during} open fds");
    assert!(during <= before + 100 + 10, "{before} -> {during}");
    // and /healthz gets through as the header timer frees slots (the
    // stalled ones are closed in waves of 100 every 2 s).
    let took = healthz(served.port, Duration::from_secs(10))
        .await
        .expect("/healthz never got a slot");
    eprintln!("fds: /healthz answered after {took:?} behind 300 stalled connections");
    drop(conns);
}

#[tokio::test]
async fn the_database_and_its_wal_and_shm_files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let fake = FakeGitHub::start().await;
    // Given a server that created its SQLite database on start,
    let served = Served::start(&fake, &[]).await;
    // then the database and its WAL and shared-memory files are 0600.
    for name in ["paydown.sqlite", "paydown.sqlite-wal", "paydown.sqlite-shm"] {
        let path = served._dir.path().join(name);
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} is {:o}", mode & 0o777);
    }
}

/// Sends one raw HTTP/1.1 request (bytes as given, so header values may be
/// anything) and returns the whole response as text.
async fn raw_request(port: u16, head: &[u8], body: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(head).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn a_non_ascii_delivery_id_gets_a_message_that_says_so() {
    let fake = FakeGitHub::start().await;
    let served = Served::start(&fake, &[]).await;
    // Given a correctly signed ping whose delivery id is not ASCII (raw
    // UTF-8 bytes in the header, as a hand-rolled client might send),
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let signature = fake_github::sign_webhook(SECRET, body);
    let mut head = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-GitHub-Event: ping\r\nX-Hub-Signature-256: {signature}\r\nContent-Length: {}\r\nConnection: close\r\nX-GitHub-Delivery: ",
        body.len()
    )
    .into_bytes();
    head.extend_from_slice("délivrance-№1".as_bytes());
    head.extend_from_slice(b"\r\n\r\n");

    // when it is posted,
    let response = raw_request(served.port, &head, body).await;

    // then it is refused with 400 and a message naming the header and
    // what it must be, not a generic "missing" or "malformed".
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response.contains("X-GitHub-Delivery must be printable ASCII"),
        "{response}"
    );
}

#[tokio::test]
async fn a_secret_passed_as_a_flag_logs_that_flags_are_visible_in_ps() {
    // Given paydown serve started with the webhook secret as a flag (and
    // the rest from the environment),
    let fake = FakeGitHub::start().await;
    let port = support::free_port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let out = std::fs::File::create(&log).unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("paydown.sqlite").display()
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_paydown"))
        .args(["serve", "--webhook-secret", SECRET])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PAYDOWN_APP_ID", fake_github::APP_ID.to_string())
        .env("PAYDOWN_PRIVATE_KEY", fake_github::app_private_key_pem())
        .env("PAYDOWN_DATABASE_URL", &db)
        .env("PAYDOWN_GITHUB_API_URL", fake.url())
        .env("PAYDOWN_LISTEN", format!("127.0.0.1:{port}"))
        .env("PAYDOWN_WORKERS", "1")
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();

    // when it has started,
    let deadline = Instant::now() + Duration::from_secs(30);
    while healthz(port, Duration::from_secs(1)).await.is_none() {
        assert!(Instant::now() < deadline, "never healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();

    // then its log warns that the flag is readable by every local user,
    // naming the flag, and never shows the secret itself.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("--webhook-secret was given on the command line")
            && text.contains("(ps, /proc)"),
        "{text}"
    );
    assert!(!text.contains(SECRET), "{text}");
}

#[tokio::test]
async fn paydown_metrics_listen_moves_metrics_off_the_main_listener() {
    // Given paydown serve with a separate metrics address,
    let fake = FakeGitHub::start().await;
    let metrics_port = support::free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let served = Served::start(&fake, &[("PAYDOWN_METRICS_LISTEN", &metrics_addr)]).await;
    let get = |port: u16, path: &str| {
        let head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        async move { raw_request(port, head.as_bytes(), b"").await }
    };

    // then /metrics answers there, unauthenticated, in Prometheus' format,
    let metrics = get(metrics_port, "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("# TYPE"), "{metrics}");
    // and not on the main listener, which keeps its probes.
    let main = get(served.port, "/metrics").await;
    assert!(main.starts_with("HTTP/1.1 404"), "{main}");
    assert!(
        get(served.port, "/healthz")
            .await
            .starts_with("HTTP/1.1 200")
    );
    assert!(served.log().contains(&metrics_addr), "{}", served.log());
}
