//! Recovery of webhook deliveries missed while the server was down or
//! refusing. GitHub never retries a failed delivery on its own; it keeps a
//! log of every attempt for three days and redelivers one on request. So
//! the leader, at start and then periodically ([`job`]), reads the App's
//! log (`GET /app/hook/deliveries`, newest first, cursor pages) back to a
//! look-back window, and asks for a redelivery
//! (`POST /app/hook/deliveries/{id}/attempts`) of each delivery that no
//! attempt got through and whose GUID the store never accepted.
//!
//! Bounded and paced: at most `max_pages` pages are read, at most
//! `max_per_run` redeliveries requested per run (the oldest first, so
//! events come back in the order they happened), one every `pace`; the
//! rest waits for the next run. A delivery whose `max_attempts` attempts
//! all failed (one the server refuses for good) is given up on. A
//! redelivery that arrives twice (a request repeated after a lost answer,
//! or two leaders in a hand-over) is stopped by the store's dedupe on the
//! delivery GUID.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use paydown_github::{GitHubApp, GitHubError};
use serde::Deserialize;

use crate::periodic::Job;
use crate::store::{Store, StoreError};

/// How often the leader looks for missed deliveries (besides at start).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Bounds of one recovery run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryOptions {
    /// How far back the log is read. GitHub keeps deliveries three days
    /// and refuses to redeliver older ones.
    pub look_back: Duration,
    /// Most redeliveries requested per run; the rest wait for the next.
    pub max_per_run: usize,
    /// Pause between two redelivery requests (GitHub asks integrations to
    /// leave a second between writes).
    pub pace: Duration,
    /// Most pages of 100 read per run.
    pub max_pages: u32,
    /// A delivery with this many failed attempts in the log (its first
    /// included) is asked for no more: the server refuses it for good
    /// (a body over the size limit, a secret mismatch), and asking every
    /// run for three days would only repeat the refusal.
    pub max_attempts: usize,
}

impl Default for RecoveryOptions {
    fn default() -> Self {
        Self {
            look_back: Duration::from_secs(3 * 24 * 60 * 60),
            max_per_run: 100,
            pace: Duration::from_secs(1),
            max_pages: 20,
            max_attempts: 4,
        }
    }
}

/// What one run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Attempts read from the log within the window.
    pub listed: usize,
    /// GUIDs no attempt delivered and the store does not hold.
    pub missed: usize,
    /// GUIDs a redelivery was requested for, oldest first.
    pub redelivered: Vec<String>,
    /// Missed GUIDs left for the next run (over `max_per_run`).
    pub deferred: usize,
    /// Redelivery requests GitHub refused (logged; tried again next run).
    pub refused: usize,
    /// Missed GUIDs given up on: `max_attempts` attempts failed.
    pub given_up: usize,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// GitHub would not list the App's deliveries or redeliver one.
    #[error("cannot read the App's webhook deliveries: {0}")]
    GitHub(#[from] GitHubError),
    /// The store could not say which deliveries it holds.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One attempt in GitHub's delivery log (the fields used here).
#[derive(Debug, Deserialize)]
struct LoggedAttempt {
    id: u64,
    guid: String,
    delivered_at: DateTime<Utc>,
    status_code: u16,
    #[serde(default)]
    event: String,
}

/// Every attempt of one GUID seen in the window.
struct Attempts {
    delivered: bool,
    count: usize,
    /// The newest attempt's id: the one a redelivery is asked for.
    latest: u64,
    first_at: DateTime<Utc>,
    event: String,
}

/// One recovery pass at time `now`.
pub async fn recover_once(
    app: &GitHubApp,
    store: &Store,
    opts: &RecoveryOptions,
    now: DateTime<Utc>,
) -> Result<RecoveryReport, RecoveryError> {
    let client = app.app_client();
    let cutoff = now - chrono::Duration::from_std(opts.look_back).unwrap_or(chrono::Duration::MAX);
    let mut by_guid: HashMap<String, Attempts> = HashMap::new();
    let mut report = RecoveryReport::default();
    let mut route = Some("/app/hook/deliveries?per_page=100".to_string());
    let mut pages = 0;
    while let Some(current) = route.take() {
        pages += 1;
        let (page, next) = client.get_page::<LoggedAttempt>(&current).await?;
        let mut past_window = false;
        for attempt in page {
            if attempt.delivered_at < cutoff {
                // Newest first: everything after this is older still.
                past_window = true;
                continue;
            }
            report.listed += 1;
            let ok = (200..300).contains(&attempt.status_code);
            let entry = by_guid
                .entry(attempt.guid.clone())
                .or_insert_with(|| Attempts {
                    delivered: false,
                    count: 0,
                    latest: attempt.id,
                    first_at: attempt.delivered_at,
                    event: attempt.event.clone(),
                });
            entry.delivered |= ok;
            entry.count += 1;
            entry.latest = entry.latest.max(attempt.id);
            entry.first_at = entry.first_at.min(attempt.delivered_at);
        }
        if past_window {
            break;
        }
        if pages >= opts.max_pages {
            if next.is_some() {
                tracing::warn!(
                    pages,
                    "delivery recovery: the log holds more than the pages read per run; older deliveries are left"
                );
            }
            break;
        }
        route = next;
    }
    let mut failed: Vec<(String, Attempts)> =
        by_guid.into_iter().filter(|(_, a)| !a.delivered).collect();
    failed.sort_by(|a, b| {
        a.1.first_at
            .cmp(&b.1.first_at)
            .then(a.1.latest.cmp(&b.1.latest))
    });
    let mut missed = Vec::new();
    for (guid, attempts) in failed {
        // GitHub may log a failure (a timeout) for a delivery the server
        // did store: only GUIDs the store never accepted are missed.
        if store.delivery(&guid).await?.is_some() {
            continue;
        }
        if attempts.count >= opts.max_attempts {
            tracing::warn!(delivery = %guid, event = %attempts.event, attempts = attempts.count, "missed delivery: every redelivery failed too; given up (see the App's advanced settings)");
            report.given_up += 1;
            continue;
        }
        missed.push((guid, attempts));
    }
    report.missed = missed.len();
    report.deferred = missed.len().saturating_sub(opts.max_per_run);
    for (n, (guid, attempts)) in missed.into_iter().take(opts.max_per_run).enumerate() {
        if n > 0 {
            tokio::time::sleep(opts.pace).await;
        }
        let route = format!("/app/hook/deliveries/{}/attempts", attempts.latest);
        match client
            .post_json::<_, serde_json::Value>(&route, &serde_json::json!({}))
            .await
        {
            Ok(_) => {
                tracing::info!(delivery = %guid, event = %attempts.event, missed_at = %attempts.first_at, "missed delivery: redelivery requested");
                report.redelivered.push(guid);
            }
            Err(e) => {
                tracing::warn!(delivery = %guid, error = %e, "missed delivery: GitHub refused the redelivery; tried again next run");
                report.refused += 1;
            }
        }
    }
    if report.missed + report.given_up > 0 {
        tracing::info!(
            listed = report.listed,
            missed = report.missed,
            redelivered = report.redelivered.len(),
            deferred = report.deferred,
            refused = report.refused,
            given_up = report.given_up,
            "delivery recovery finished"
        );
    }
    Ok(report)
}

/// The leader job: runs when this replica becomes the leader (so at
/// start) and every `every`.
pub fn job(app: &GitHubApp, store: &Store, opts: RecoveryOptions, every: Duration) -> Job {
    let app = app.clone();
    let store = store.clone();
    Job::new("deliveries.recover", every, move || {
        let app = app.clone();
        let store = store.clone();
        async move {
            recover_once(&app, &store, &opts, Utc::now())
                .await
                .map(|_| ())
        }
    })
    .run_on_leadership()
}
