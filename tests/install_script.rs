//! The action's installer (scripts/install/install.sh) as a runner runs it:
//! real bash, curl, tar and sha256sum, against a loopback HTTP server that
//! serves a fake release.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

const VERSION: &str = "9.9.9";
const LINUX_ASSET: &str = "paydown-v9.9.9-x86_64-unknown-linux-musl.tar.gz";
const WINDOWS_ASSET: &str = "paydown-v9.9.9-x86_64-pc-windows-msvc.zip";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install/install.sh")
}

/// A release download server on 127.0.0.1: GET /<asset> answers the file
/// or 404; every request path is recorded.
struct ReleaseServer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ReleaseServer {
    fn start(assets: BTreeMap<String, Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/download/v{VERSION}",
            listener.local_addr().unwrap()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // Headers up to the blank line; a GET has no body.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_string();
                seen.lock().unwrap().push(path.clone());
                let name = path.rsplit('/').next().unwrap_or("");
                let (status, body) = match assets.get(name) {
                    Some(body) => ("200 OK", body.clone()),
                    None => ("404 Not Found", b"Not Found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
                let _ = reader.read_to_end(&mut Vec::new());
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A runner: temp and tool-cache directories and the files the runner reads back.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["temp", "toolcache", "bin"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("dirs");
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    fn write_table(&self, text: &str) -> PathBuf {
        let table = self.path("release-checksums.txt");
        std::fs::write(&table, text).expect("table");
        table
    }

    /// A stand-in for a tool on PATH (cargo, gh) that logs its arguments.
    fn fake_tool(&self, name: &str, body: &str) {
        let path = self.path("bin").join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"$0 $*\" >> \"{}\"\n{body}\n",
                self.path("tools.log").display()
            ),
        )
        .expect("tool");
        make_executable(&path);
    }

    fn install(
        &self,
        server: &ReleaseServer,
        os: &str,
        arch: &str,
        extra: &[(&str, &str)],
    ) -> Output {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new("bash");
        command
            .arg(script())
            .env_clear()
            .env("PATH", path)
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TEMP", self.path("temp"))
            .env("RUNNER_TOOL_CACHE", self.path("toolcache"))
            .env("GITHUB_PATH", self.path("github_path"))
            .env("GITHUB_OUTPUT", self.path("github_output"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary.md"))
            .env("PAYDOWN_CHECKSUMS", self.path("release-checksums.txt"))
            .env("PAYDOWN_DOWNLOAD_URL", &server.url);
        for (k, v) in extra {
            command.env(k, v);
        }
        command.output().expect("run install.sh")
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A release archive holding a `paydown` that prints its version.
fn archive(kind: &str, exe: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join(exe);
    std::fs::write(&bin, format!("#!/bin/sh\necho \"paydown {VERSION}\"\n")).expect("bin");
    make_executable(&bin);
    // zip appends .zip to a name without it.
    let out = dir.path().join(format!("archive.{kind}"));
    let status = match kind {
        "tar.gz" => Command::new("tar")
            .arg("-czf")
            .arg(&out)
            .arg("-C")
            .arg(dir.path())
            .arg(exe)
            .status(),
        _ => Command::new("zip")
            .arg("-q")
            .arg("-j")
            .arg(&out)
            .arg(&bin)
            .status(),
    }
    .expect("archiver");
    assert!(status.success());
    std::fs::read(out).expect("archive bytes")
}

fn table(entries: &[(&str, &[u8])]) -> String {
    let mut text = format!("# test release\nversion={VERSION}\nrepository=octo-org/paydown\n");
    for (name, bytes) in entries {
        text.push_str(&format!("{}  {name}\n", sha256(bytes)));
    }
    text
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn assert_refused(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(output);
    let error = text
        .lines()
        .find(|l| l.starts_with("::error title=paydown install::"))
        .unwrap_or_else(|| panic!("no ::error line in {text}"));
    error.to_string()
}

fn output_value(runner: &Runner, key: &str) -> Option<String> {
    runner
        .read("github_output")
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

#[test]
fn a_verified_archive_is_installed_cached_and_the_second_run_downloads_nothing() {
    // Given a release whose Linux archive matches the committed table,
    let linux = archive("tar.gz", "paydown");
    let server = ReleaseServer::start(BTreeMap::from([(LINUX_ASSET.to_string(), linux.clone())]));
    let runner = Runner::new();
    runner.write_table(&table(&[(LINUX_ASSET, &linux)]));

    // when the action installs paydown on a Linux x64 runner,
    let first = runner.install(&server, "Linux", "X64", &[]);

    // then the archive is downloaded once, verified and unpacked into the
    // tool cache, which the next steps find on PATH,
    assert_ok(&first);
    assert_eq!(
        server.requests(),
        [format!("/download/v{VERSION}/{LINUX_ASSET}")]
    );
    let bin_dir = runner.path("toolcache/paydown/9.9.9/x64");
    assert_eq!(
        output_value(&runner, "bin-dir").as_deref(),
        Some(bin_dir.to_str().unwrap())
    );
    assert_eq!(output_value(&runner, "source").as_deref(), Some("release"));
    assert_eq!(runner.read("github_path").trim(), bin_dir.to_str().unwrap());
    let version = Command::new(bin_dir.join("paydown"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(stdout(&version).trim(), "paydown 9.9.9");
    assert!(stdout(&first).contains("verified"), "{}", stdout(&first));
    assert!(
        std::fs::read_dir(runner.path("temp"))
            .unwrap()
            .next()
            .is_none(),
        "the download is cleaned up"
    );

    // and a second run on the same runner is a cache hit with no download.
    let second = runner.install(&server, "Linux", "X64", &[]);
    assert_ok(&second);
    assert_eq!(server.requests().len(), 1, "no second download");
    assert_eq!(output_value(&runner, "source").as_deref(), Some("cache"));
    assert!(stdout(&second).contains("found in the tool cache"));
}

#[test]
fn a_tampered_archive_is_refused_and_nothing_is_installed() {
    // Given a server whose archive is not the one the table vouches for,
    let genuine = archive("tar.gz", "paydown");
    let mut tampered = genuine.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    let server = ReleaseServer::start(BTreeMap::from([(
        LINUX_ASSET.to_string(),
        tampered.clone(),
    )]));
    let runner = Runner::new();
    runner.write_table(&table(&[(LINUX_ASSET, &genuine)]));

    // when the action installs,
    let output = runner.install(&server, "Linux", "X64", &[]);

    // then the step fails naming the file and both sums, and the tool cache
    // holds nothing a later run could pick up.
    let error = assert_refused(&output);
    assert!(
        error.contains(&format!("checksum mismatch for {LINUX_ASSET}")),
        "{error}"
    );
    assert!(
        error.contains(&format!("expected SHA-256 {}", sha256(&genuine))),
        "{error}"
    );
    assert!(
        error.contains(&format!("actual {}", sha256(&tampered))),
        "{error}"
    );
    assert!(!runner.path("toolcache/paydown").exists());
    assert!(output_value(&runner, "bin-dir").is_none());
    assert_eq!(runner.read("github_path"), "");
}

#[test]
fn a_missing_asset_names_the_file_and_the_expected_sum() {
    let linux = archive("tar.gz", "paydown");
    let server = ReleaseServer::start(BTreeMap::new());
    let runner = Runner::new();
    runner.write_table(&table(&[(LINUX_ASSET, &linux)]));

    let output = runner.install(&server, "Linux", "X64", &[]);

    let error = assert_refused(&output);
    assert!(
        error.contains(&format!("cannot download {LINUX_ASSET}")),
        "{error}"
    );
    assert!(error.contains("HTTP 404"), "{error}");
    assert!(
        error.contains(&format!("expected SHA-256 {}", sha256(&linux))),
        "{error}"
    );
    assert!(error.contains("actual: nothing downloaded"), "{error}");
}

#[test]
fn an_unknown_platform_is_a_clear_error_before_any_download() {
    let linux = archive("tar.gz", "paydown");
    let server = ReleaseServer::start(BTreeMap::from([(LINUX_ASSET.to_string(), linux.clone())]));
    let runner = Runner::new();
    runner.write_table(&table(&[(LINUX_ASSET, &linux)]));

    let output = runner.install(&server, "Windows", "ARM64", &[]);

    let error = assert_refused(&output);
    assert!(
        error.contains("no binary for RUNNER_OS=Windows RUNNER_ARCH=ARM64"),
        "{error}"
    );
    assert!(
        error.contains("Linux X64/ARM64, macOS X64/ARM64 and Windows X64"),
        "{error}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn a_platform_missing_from_the_table_is_refused() {
    let linux = archive("tar.gz", "paydown");
    let server = ReleaseServer::start(BTreeMap::new());
    let runner = Runner::new();
    runner.write_table(&table(&[(LINUX_ASSET, &linux)]));

    let output = runner.install(&server, "macOS", "ARM64", &[]);

    let error = assert_refused(&output);
    assert!(
        error.contains("has no entry for paydown-v9.9.9-aarch64-apple-darwin.tar.gz"),
        "{error}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn the_windows_zip_is_verified_and_unpacked() {
    let zip = archive("zip", "paydown.exe");
    let server = ReleaseServer::start(BTreeMap::from([(WINDOWS_ASSET.to_string(), zip.clone())]));
    let runner = Runner::new();
    runner.write_table(&table(&[(WINDOWS_ASSET, &zip)]));

    let output = runner.install(&server, "Windows", "X64", &[]);

    assert_ok(&output);
    assert!(
        runner
            .path("toolcache/paydown/9.9.9/x64/paydown.exe")
            .is_file()
    );
    assert!(
        runner
            .path("toolcache/paydown/9.9.9/x64.complete")
            .is_file()
    );
}

#[test]
fn attestation_verification_refuses_an_archive_gh_rejects() {
    // Given a matching archive but a provenance check that fails,
    let linux = archive("tar.gz", "paydown");
    let server = ReleaseServer::start(BTreeMap::from([(LINUX_ASSET.to_string(), linux.clone())]));
    let runner = Runner::new();
    runner.write_table(&table(&[(LINUX_ASSET, &linux)]));
    runner.fake_tool("gh", "exit 1");

    // when the action installs with verify-attestation on,
    let output = runner.install(
        &server,
        "Linux",
        "X64",
        &[("PAYDOWN_VERIFY_ATTESTATION", "true")],
    );

    // then gh was asked about this archive and this repository, and the
    // refusal fails the step.
    let error = assert_refused(&output);
    assert!(error.contains("gh attestation verify refused"), "{error}");
    let log = runner.read("tools.log");
    assert!(log.contains("attestation verify"), "{log}");
    assert!(
        log.contains(LINUX_ASSET) && log.contains("--repo octo-org/paydown"),
        "{log}"
    );
    assert!(!runner.path("toolcache/paydown").exists());
}

#[test]
fn an_unreleased_ref_builds_from_source_and_says_so() {
    // Given an action checkout whose table names no release (a branch),
    let server = ReleaseServer::start(BTreeMap::new());
    let runner = Runner::new();
    runner.write_table("# no release on branches\n");
    runner.fake_tool("cargo", "mkdir -p \"$6/bin\"");

    // when the action installs,
    let output = runner.install(
        &server,
        "Linux",
        "X64",
        &[("PAYDOWN_SOURCE_DIR", "/src/paydown")],
    );

    // then it builds the checkout with cargo install --locked, says so in
    // the log and the job summary, and downloads nothing.
    assert_ok(&output);
    let root = runner.path("temp/paydown-from-source");
    assert_eq!(
        runner.read("tools.log").trim(),
        format!(
            "{} install --locked --path /src/paydown --root {} --bin paydown",
            runner.path("bin/cargo").display(),
            root.display()
        )
    );
    assert!(stdout(&output).contains("::notice title=paydown built from source::"));
    assert!(
        runner
            .read("summary.md")
            .contains("built from source with cargo install --locked --path")
    );
    assert_eq!(output_value(&runner, "source").as_deref(), Some("source"));
    assert_eq!(
        output_value(&runner, "bin-dir"),
        Some(format!("{}/bin", root.display()))
    );
    assert!(server.requests().is_empty());
}
