//! Shared by the suites that run the real `paydown serve` process.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;

/// A loopback port nothing listens on yet.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `paydown serve` as the App against `fake` (its test key), with
/// webhook `secret`, the database at `db_url` and 127.0.0.1:`port`; `env`
/// adds or overrides settings. Output goes to `log`.
pub fn spawn_serve(
    fake: &FakeGitHub,
    secret: &str,
    db_url: &str,
    port: u16,
    log: &Path,
    env: &[(&str, &str)],
) -> Child {
    let out = std::fs::File::create(log).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paydown"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PAYDOWN_APP_ID", fake_github::APP_ID.to_string())
        .env("PAYDOWN_PRIVATE_KEY", fake_github::app_private_key_pem())
        .env("PAYDOWN_WEBHOOK_SECRET", secret)
        .env("PAYDOWN_DATABASE_URL", db_url)
        .env("PAYDOWN_GITHUB_API_URL", fake.url())
        .env("PAYDOWN_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        // These suites drive hundreds of writes in seconds to test the
        // queue and replicas; write pacing (a second a write, 80 creates a
        // minute) is tested in-process on a simulated clock
        // (crates/server/tests/paced_import.rs). A caller may turn it on.
        .env("PAYDOWN_WRITE_PACING", "off");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("cannot start paydown serve")
}

/// Waits until the `paydown serve` at `port` answers `/healthz`; panics
/// with its log if it exits first or is not healthy within 30 seconds.
pub async fn wait_healthy(port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(resp) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await
            && resp.status().is_success()
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "paydown serve exited with {status}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "paydown serve never became healthy"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
