//! The seeded chaos soak (issue 10 item 7): a scripted workload (an
//! install, pushes adding, removing and renaming annotations, a pull
//! request opened with debt, slash commands, a person closing a debt
//! issue, an incident issue referencing a debt issue) runs through the real router, workers, SQLite store and App
//! client against the fake GitHub, twice per seed: once under a seeded
//! schedule of faults (5xx, applied-then-502 creates, connection resets
//! before any byte of the answer, applied-then-reset creates, answers
//! breaking off mid-body, answers past the client's timeout, slow
//! answers, secondary limits with `Retry-After`,
//! server stops and restarts on the same store between and during
//! phases), once without. Then:
//!
//! - no issue, comment or check run is there twice;
//! - the final GitHub state equals the fault-free run's;
//! - no request was sent inside a `Retry-After` window;
//! - every delivery is done, or dead with a reason.
//!
//! `cargo test` runs 3 seeds (the two-repository variant is ignored: it
//! finds a known bug, see its doc); `PAYDOWN_SOAK_SEEDS=N` runs seeds 1..=N
//! (`scripts/chaos-soak.sh`), `PAYDOWN_SOAK_FIRST_SEED` moves the start,
//! `PAYDOWN_SOAK_VERBOSE=1` prints each seed's faults and final state.

mod soak;
mod support;

use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_server::store::{DeliveryStatus, Store};
use soak::{Observed, Rng, apply, inject_fault, workload};
use support::{TestApp, db_url};

/// Waits until the queue is drained; returns the dead deliveries.
async fn drain(store: &Store) -> Vec<paydown_server::store::DeliveryRecord> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if store.queue_depth().await.unwrap() == 0 {
            return store.dead_letters(1000).await.unwrap();
        }
        let counts = store.counts_by_status().await.unwrap();
        assert!(Instant::now() < deadline, "queue never drained: {counts:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

struct RunReport {
    observed: Observed,
    events: usize,
    /// Answers that were a fault: 5xx, 403/429, cut connections (delays
    /// not counted).
    fired: usize,
}

/// Runs `seed`'s workload, with its faults and restarts when `chaos`.
async fn run(seed: u64, chaos: bool, side: bool) -> RunReport {
    let fake = FakeGitHub::start().await;
    fake.allow_unasserted_comments();
    // GitHub's content limits, never refilled but by time.
    fake.limit_content_creation_like_github();
    let dir = tempfile::tempdir().unwrap();
    let url = db_url(&dir);
    let lease = Duration::from_secs(5);
    let mut app = TestApp::start_at(&fake, &url, lease).await;
    let mut rng = Rng(seed ^ 0xC4A0_5EED);
    let mut pr = None;
    let mut main = Vec::new();
    let mut side_items = side.then_some(1);
    let mut events = 0;
    let mut faults = Vec::new();
    let mut dead = Vec::new();
    for (phase, step) in workload(seed).iter().enumerate() {
        let deliveries = apply(&fake, step, &mut pr, &mut main, &mut side_items);
        let mut kill_mid_phase = false;
        if chaos {
            for _ in 0..rng.below(4) {
                faults.push(inject_fault(&fake, &mut rng));
            }
            kill_mid_phase = rng.chance(25);
        }
        for (i, (event, body)) in deliveries.iter().enumerate() {
            app.post(event, &format!("seed{seed}-phase{phase}-{i}"), body)
                .await;
            events += 1;
        }
        if kill_mid_phase {
            // A worker stop while the phase's work may be in flight: the
            // server shuts down (its grace ends running jobs) and a new
            // one takes the queue from the same store file.
            tokio::time::sleep(Duration::from_millis(rng.below(40))).await;
            app.server.shutdown().await.unwrap();
            app = TestApp::start_at(&fake, &url, lease).await;
            faults.push(format!("restart during phase {phase}"));
        }
        for d in drain(&app.store).await {
            dead.push(format!(
                "{} ({}): {:?}",
                d.delivery_id, d.event, d.last_error
            ));
        }
        fake.clear_faults();
        if chaos && rng.chance(20) {
            app.server.shutdown().await.unwrap();
            app = TestApp::start_at(&fake, &url, lease).await;
            faults.push(format!("restart after phase {phase}"));
        }
    }
    let counts = app.store.counts_by_status().await.unwrap();
    assert_eq!(counts.get(DeliveryStatus::Pending), 0);
    app.server.shutdown().await.unwrap();
    let fired = fake
        .requests()
        .iter()
        .filter(|r| matches!(r.status, Some(s) if s >= 500 || s == 403 || s == 429))
        .count()
        + usize::try_from(fake.connections_cut()).unwrap_or(usize::MAX);
    let events = events + faults.len();
    RunReport {
        observed: soak::observe(&fake, side, dead, faults),
        events,
        fired,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_chaos_leaves_the_state_of_a_fault_free_run() {
    soak(false).await;
}

/// The same soak with a second repository of the installation pushed to
/// alongside the first, so two jobs of one installation run at once.
/// It found that `Retry-After` was honoured only by the request told it,
/// while the installation's other jobs kept sending inside the window
/// (GitHub limits per installation); the client now keeps the whole
/// installation quiet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_chaos_over_two_repositories_of_one_installation() {
    soak(true).await;
}

async fn soak(side: bool) {
    let started = Instant::now();
    let mut events = 0;
    let mut fired = 0;
    let mut failures = Vec::new();
    let seeds = soak::seeds(3);
    for &seed in &seeds {
        // Given the seed's workload run once without faults,
        let calm = run(seed, false, side).await;
        soak::assert_calm(seed, &calm.observed);
        // when it runs again under the seed's faults and restarts,
        let chaos = run(seed, true, side).await;
        events += chaos.events;
        fired += chaos.fired;
        // then the soak's invariants hold.
        failures.extend(soak::broken_invariants(
            seed,
            &calm.observed,
            &chaos.observed,
        ));
    }
    eprintln!(
        "chaos soak: {} seeds x {events} events ({:.1} a seed: deliveries, faults \
         injected, restarts; {fired} faulted answers), {} failed, {:?}",
        seeds.len(),
        events as f64 / seeds.len() as f64,
        failures.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
