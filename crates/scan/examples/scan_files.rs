//! `cargo run -p paydown-scan --example scan_files -- [--config FILE] PATH…`:
//! the library path of `paydown scan --format json` (the same settings from
//! the same config), printing `{"annotations": [{"path", "line"}]}`, for
//! scripts/scan_sample/evaluate.py and scripts/bench_scan.py when no
//! release build of the whole binary is at hand. `scan`, `--quiet` and
//! `--format X` are accepted and ignored, so the scripts can call either.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mut files = Vec::new();
    let mut settings = paydown_scan::ScanSettings::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "scan" | "--quiet" => {}
            "--format" => {
                args.next();
            }
            "--config" => {
                let path = PathBuf::from(args.next().unwrap_or_default());
                match paydown_config::load_file(&path) {
                    Ok(config) => settings = paydown_scan::ScanSettings::from_config(&config),
                    Err(e) => {
                        eprintln!("{e}");
                        std::process::exit(2);
                    }
                }
            }
            _ => files.push(PathBuf::from(arg)),
        }
    }
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
