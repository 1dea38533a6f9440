//! Benchmark: re-rank 10,000 debt items against 50,000 incidents.
//!
//! `cargo run --release -p paydown-incidents --example rerank_bench`
//!
//! Prints the time of one full re-ranking (link, count, score, spike, sort),
//! the best of 5 runs, and its ratio to a reference measured in the same run:
//! sorting the 50,000 incidents by start time, the least any ranking must do.
//! Target: ≤ 1 s on the project's CI machine.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use paydown_config::Config;
use paydown_incidents::{Incident, ItemLinks, ItemScoreInput, RankedItem, Reference, Status, rank};

const ITEMS: usize = 10_000;
const INCIDENTS: usize = 50_000;

fn main() {
    let config = Config::default();
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let ids: Vec<String> = (0..ITEMS).map(|i| format!("FIXME-{i:012x}")).collect();
    let annotation_incidents: Vec<Vec<String>> = (0..ITEMS)
        .map(|i| {
            if i % 10 == 0 {
                vec![format!("PD-{}", i * 3)]
            } else {
                vec![]
            }
        })
        .collect();
    let items: Vec<RankedItem<'_>> = (0..ITEMS)
        .map(|i| RankedItem {
            links: ItemLinks {
                id: &ids[i],
                issue: Some(i as u64 + 1),
                incidents: &annotation_incidents[i],
            },
            score: ItemScoreInput {
                keyword: ["TODO", "FIXME", "HACK"][i % 3],
                tier: Some((i % 4) as u8 + 1),
                cost_days: Some((i % 7) as f64),
                first_seen: Some(now.date_naive() - chrono::Duration::days((i % 700) as i64)),
                due: None,
            },
            was_hot: i % 50 == 0,
        })
        .collect();
    // A skewed load: a few items take most incidents, like real debt.
    let incidents: Vec<Incident> = (0..INCIDENTS)
        .map(|n| {
            let target = (n * n) % ITEMS;
            let references = match n % 3 {
                0 => vec![Reference::Issue {
                    repository: None,
                    number: target as u64 + 1,
                }],
                1 => vec![
                    Reference::Item {
                        id: ids[(target * 7) % ITEMS].clone(),
                    },
                    Reference::Item {
                        id: format!("noise-{n}"),
                    },
                ],
                _ => vec![Reference::Issue {
                    repository: Some("acme/widgets".into()),
                    number: (target % 100) as u64 + 1,
                }],
            };
            Incident {
                source: if n % 5 == 0 { "pagerduty" } else { "github" }.into(),
                id: n.to_string(),
                number: Some(n as u64),
                title: String::new(),
                url: None,
                repository: Some("acme/widgets".into()),
                status: if n % 9 == 0 {
                    Status::Triggered
                } else {
                    Status::Resolved
                },
                severity: None,
                started_at: now - chrono::Duration::minutes((n as i64 * 37) % (400 * 1440)),
                resolved_at: None,
                references,
            }
        })
        .collect();

    let reference = best_of(5, || {
        let mut starts: Vec<_> = incidents.iter().map(|i| i.started_at).collect();
        starts.sort_unstable();
        starts.len()
    });
    let mut top = String::new();
    let ranking = best_of(5, || {
        let ranked = rank("acme/widgets", &items, &incidents, &config, now);
        top = format!(
            "top: {} score {} ({}), {} hot",
            ids[ranked[0].index],
            ranked[0].score.value,
            ranked[0].score.why,
            ranked.iter().filter(|r| r.spike.hot).count()
        );
        ranked.len()
    });
    println!("{top}");
    println!(
        "re-rank {ITEMS} items x {INCIDENTS} incidents: {:.1} ms (reference: sort {INCIDENTS} start times, {:.2} ms; ratio {:.0}x); target <= 1000 ms",
        ms(ranking),
        ms(reference),
        ms(ranking) / ms(reference).max(1e-6)
    );
}

fn best_of(runs: u32, mut f: impl FnMut() -> usize) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
