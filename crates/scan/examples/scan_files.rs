//! `cargo run -p paydown-scan --example scan_files -- FILE…`: the library
//! path of `paydown scan --format json` with vendored and generated
//! skipping off, printing `{"annotations": [{"path", "line"}]}`, for
//! scripts/scan_sample/evaluate.py when no release binary is at hand.
//! Options before the files (`scan --quiet --format json --config X`) are
//! accepted and ignored, so the script can call either.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "scan" | "--quiet" => {}
            "--format" | "--config" => {
                args.next();
            }
            _ => files.push(PathBuf::from(arg)),
        }
    }
    let settings = paydown_scan::ScanSettings {
        skip_vendored: false,
        skip_generated: false,
        max_file_bytes: 20_000_000,
        ..paydown_scan::ScanSettings::default()
    };
    let base = std::env::current_dir().unwrap_or_default();
    let report = match paydown_scan::scan_paths(&files, &base, &settings, &()) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let annotations: Vec<String> = report
        .annotations
        .iter()
        .map(|a| format!("{{\"path\": {:?}, \"line\": {}}}", a.path, a.line))
        .collect();
    println!("{{\"annotations\": [{}]}}", annotations.join(", "));
}
