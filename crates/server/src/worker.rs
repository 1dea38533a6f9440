//! Background workers: each claims a delivery from the store, runs the
//! handler while renewing its lease, and records the outcome. The store
//! decides retries and dead-lettering; workers only report. On shutdown,
//! workers stop claiming, give in-flight handlers a grace period, then
//! release what is still running so another process picks it up at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use paydown_github::Clock;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::handlers::Handler;
use crate::intake::WriteGate;
use crate::metrics::Metrics;
use crate::store::{Claimed, FailOutcome, Store, StoreError};

/// Worker pool settings.
#[derive(Debug, Clone, Copy)]
pub struct WorkerOptions {
    /// Worker tasks claiming deliveries.
    pub workers: usize,
    /// How long a claim holds a delivery; renewed while work runs.
    pub lease: Duration,
    /// Sleep between claim attempts when the queue is empty (a `Notify`
    /// kick from the webhook endpoint cuts it short).
    pub idle_poll: Duration,
}

/// How a worker pool stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Deliveries given back because their handler outlived the grace period.
    pub released: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Running,
    /// Claim nothing new; let in-flight work finish.
    Draining,
    /// Abandon in-flight work and release it.
    Abort,
}

/// Running workers; stop them with [`WorkerPool::shutdown`].
pub struct WorkerPool {
    phase: watch::Sender<Phase>,
    tasks: JoinSet<usize>,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.tasks.len())
            .finish()
    }
}

struct Ctx {
    store: Store,
    handler: Arc<dyn Handler>,
    metrics: Arc<Metrics>,
    kick: Arc<Notify>,
    gate: WriteGate,
    opts: WorkerOptions,
    /// When deliveries are due (`run_at`); leases stay on the wall clock.
    clock: Clock,
}

impl WorkerPool {
    /// Spawns `opts.workers` workers; deliveries are due by `clock` (a
    /// simulated one in tests: idle workers then move it to the next
    /// scheduled run).
    pub fn spawn(
        store: Store,
        handler: Arc<dyn Handler>,
        metrics: Arc<Metrics>,
        kick: Arc<Notify>,
        gate: WriteGate,
        opts: WorkerOptions,
        clock: Clock,
    ) -> Self {
        let (phase, _) = watch::channel(Phase::Running);
        let ctx = Arc::new(Ctx {
            store,
            handler,
            metrics,
            kick,
            gate,
            opts,
            clock,
        });
        let mut tasks = JoinSet::new();
        // A per-process prefix keeps worker ids unique across replicas and
        // restarts, which makes lease ownership in the database readable.
        let prefix = process_name();
        for n in 0..opts.workers.max(1) {
            let ctx = ctx.clone();
            let rx = phase.subscribe();
            let id = format!("{prefix}-w{n}");
            tasks.spawn(async move { worker_loop(ctx, id, rx).await });
        }
        Self { phase, tasks }
    }

    /// Stops claiming, waits up to `grace` for running handlers, then
    /// releases the deliveries still in progress.
    pub async fn shutdown(mut self, grace: Duration) -> ShutdownReport {
        let _ = self.phase.send(Phase::Draining);
        let mut released = 0;
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(Some(joined)) => released += joined.unwrap_or(0),
                Ok(None) => return ShutdownReport { released },
                Err(_) => break,
            }
        }
        let _ = self.phase.send(Phase::Abort);
        while let Some(joined) = self.tasks.join_next().await {
            released += joined.unwrap_or(0);
        }
        ShutdownReport { released }
    }
}

impl Ctx {
    /// Runs a store write behind the write gate.
    async fn gated<F: std::future::Future>(&self, write: F) -> F::Output {
        let _gate = self.gate.enter_worker().await;
        write.await
    }
}

/// Returns the number of deliveries this worker released on abort.
async fn worker_loop(ctx: Arc<Ctx>, id: String, mut phase: watch::Receiver<Phase>) -> usize {
    let mut released = 0;
    let mut woken = false;
    while *phase.borrow() == Phase::Running {
        let due = ctx.clock.now_ms();
        match ctx
            .gated(ctx.store.claim_due(&id, ctx.opts.lease, due))
            .await
        {
            Ok(Some(claim)) => {
                // Intake wakes one idle worker per commit; one that found
                // work passes the wake-up on, so a burst reaches them all.
                if std::mem::take(&mut woken) {
                    ctx.kick.notify_one();
                }
                if !process(&ctx, claim, &mut phase).await {
                    released += 1;
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = ctx.kick.notified() => {}
                    _ = tokio::time::sleep(ctx.opts.idle_poll) => {}
                    _ = phase.changed() => {}
                }
                woken = true;
                skip_to_next_run(&ctx).await;
            }
            Err(e) => {
                tracing::warn!(worker = %id, error = %e, "cannot claim a delivery; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(ctx.opts.idle_poll.max(Duration::from_millis(200))) => {}
                    _ = phase.changed() => {}
                }
            }
        }
    }
    released
}

/// On a simulated clock, an idle worker moves time on to the next
/// scheduled delivery (a paced import's next batch), as the hours between
/// batches would pass. The wall clock needs nothing: the idle poll finds
/// the delivery once it is due.
async fn skip_to_next_run(ctx: &Ctx) {
    if !ctx.clock.is_simulated() {
        return;
    }
    if let Ok(Some(next)) = ctx.store.next_run_at().await
        && next > ctx.clock.now_ms()
    {
        ctx.clock.sleep_until_ms(next).await;
    }
}

/// Runs one delivery to an outcome. Returns false when it was released
/// (abandoned on shutdown) instead of finished.
async fn process(ctx: &Ctx, claim: Claimed, phase: &mut watch::Receiver<Phase>) -> bool {
    let started = Instant::now();
    let mut work = ctx.handler.handle(&claim);
    // Renew well before expiry so one slow database round-trip does not
    // let another worker take the delivery over.
    let mut heartbeat = tokio::time::interval((ctx.opts.lease / 3).max(Duration::from_millis(10)));
    heartbeat.tick().await;
    let outcome = loop {
        tokio::select! {
            result = &mut work => break Some(result),
            _ = heartbeat.tick() => {
                match ctx.gated(ctx.store.extend_lease(&claim, ctx.opts.lease)).await {
                    Ok(()) => {}
                    Err(StoreError::LeaseLost { .. }) => {
                        tracing::warn!(delivery = %claim.delivery_id, "lease lost to another worker; abandoning this attempt");
                        return true;
                    }
                    Err(e) => tracing::warn!(delivery = %claim.delivery_id, error = %e, "cannot extend lease"),
                }
            }
            changed = phase.changed() => {
                if changed.is_err() || *phase.borrow() == Phase::Abort {
                    break None;
                }
            }
        }
    };
    drop(work);
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        None => {
            match ctx.gated(ctx.store.release(&claim)).await {
                Ok(()) => {
                    tracing::info!(delivery = %claim.delivery_id, "shutdown: in-flight delivery released")
                }
                Err(e) => {
                    tracing::warn!(delivery = %claim.delivery_id, error = %e, "shutdown: cannot release delivery; its lease will expire")
                }
            }
            false
        }
        Some(Ok(())) => {
            match ctx.gated(ctx.store.complete(&claim)).await {
                Ok(()) => {
                    ctx.metrics.processed(&claim.event, seconds);
                    tracing::debug!(delivery = %claim.delivery_id, event = %claim.event, seconds, "delivery processed");
                }
                Err(e) => {
                    tracing::warn!(delivery = %claim.delivery_id, error = %e, "handled, but cannot mark done; it will run again")
                }
            }
            true
        }
        Some(Err(err)) => {
            ctx.metrics.failed(&claim.event, seconds);
            let message = err.to_string();
            if let Some(until) = err.paced_until() {
                // Not a failure: the installation's write budget is spent.
                // The delivery runs again when it frees; no worker waits.
                match ctx.gated(ctx.store.defer(&claim, until, &message)).await {
                    Ok(()) => tracing::info!(
                        delivery = %claim.delivery_id, event = %claim.event,
                        run_at = %crate::pacing::to_datetime(until), "paced: delivery deferred"
                    ),
                    Err(e) => {
                        tracing::warn!(delivery = %claim.delivery_id, error = %e, "cannot defer a paced delivery; its lease will expire")
                    }
                }
                return true;
            }
            let record = async {
                if err.is_permanent() {
                    ctx.store.fail_permanently(&claim, &message).await
                } else {
                    ctx.store.fail(&claim, &message).await
                }
            };
            match ctx.gated(record).await {
                Ok(FailOutcome::Retry { attempts, delay }) => tracing::warn!(
                    delivery = %claim.delivery_id, event = %claim.event, attempts,
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    error = %message, "delivery failed; will retry"
                ),
                Ok(FailOutcome::Dead { attempts }) => {
                    ctx.metrics.dead(&claim.event);
                    tracing::error!(
                        delivery = %claim.delivery_id, event = %claim.event, attempts,
                        error = %message, "delivery dead after its last attempt"
                    );
                }
                Err(e) => {
                    tracing::warn!(delivery = %claim.delivery_id, error = %e, "cannot record failure; its lease will expire")
                }
            }
            true
        }
    }
}

/// This process's name in lease rows (workers' and the periodic leader's):
/// its pid and start time, unique across replicas and restarts.
pub(crate) fn process_name() -> String {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("pid{}-{started}", std::process::id())
}
