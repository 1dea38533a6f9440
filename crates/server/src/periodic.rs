//! Periodic jobs, run by one replica at a time: the leader. Replicas
//! sharing a database elect it through a lease row in the store
//! ([`Store::try_lead`]); the leader renews the lease every third of its
//! length, followers try to take it a few times per lease, so when the
//! leader dies another replica takes over within one lease plus one poll.
//!
//! A job is a name, an interval and a plain async function
//! ([`Job::new`]). When it last started is kept in the store, so a new
//! leader keeps the schedule instead of running everything at once. A
//! leader that cannot renew its lease stops its running jobs (another
//! replica may lead by now); jobs must therefore be idempotent and safe to
//! stop at any await, like delivery handlers.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

use crate::store::{Store, StoreError};

/// The lease row periodic jobs are led by.
pub const LEADER_LEASE: &str = "paydown.periodic";

type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A named job run every `every` on the leader.
#[derive(Clone)]
pub struct Job {
    name: String,
    every: Duration,
    /// Also run whenever this replica becomes the leader (at start, or
    /// after taking over), whatever the schedule says.
    on_leadership: bool,
    run: Arc<dyn Fn() -> JobFuture + Send + Sync>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl Job {
    /// `run` is called for each run; its error is logged and recorded, and
    /// the job runs again at its next due time.
    pub fn new<F, Fut, E>(name: impl Into<String>, every: Duration, run: F) -> Job
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        Job {
            name: name.into(),
            every,
            on_leadership: false,
            run: Arc::new(move || {
                let fut = run();
                Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
            }),
        }
    }

    /// The job's name, the key of its last run in the store.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How often the leader runs it.
    pub fn every(&self) -> Duration {
        self.every
    }

    /// The job also runs each time this replica becomes the leader (so at
    /// every start of a single replica), not only when due: for catch-up
    /// work such as recovering deliveries missed while nobody led.
    pub fn run_on_leadership(mut self) -> Job {
        self.on_leadership = true;
        self
    }

    /// Whether it also runs when this replica becomes the leader.
    pub fn runs_on_leadership(&self) -> bool {
        self.on_leadership
    }
}

/// How a replica takes part in the election.
#[derive(Debug, Clone)]
pub struct LeaderOptions {
    /// How long a lease lasts without renewal: the longest a dead leader
    /// holds periodic work up.
    pub lease: Duration,
    /// This replica's name in the lease row; unique per process.
    pub holder: String,
}

impl LeaderOptions {
    /// Options for this process, named after its pid and start time.
    pub fn for_this_process(lease: Duration) -> LeaderOptions {
        LeaderOptions {
            lease,
            holder: crate::worker::process_name(),
        }
    }

    fn renew_every(&self) -> Duration {
        (self.lease / 3).max(Duration::from_millis(10))
    }

    /// Followers poll faster than the leader renews, so a take-over comes
    /// soon after expiry.
    fn follow_every(&self) -> Duration {
        (self.lease / 10).max(Duration::from_millis(10))
    }
}

/// The election and job loop of one replica; stop it with
/// [`Periodic::shutdown`].
#[derive(Debug)]
pub struct Periodic {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Periodic {
    /// Starts the loop that campaigns for the leader lease in `store` and, while leading, runs `jobs` when due.
    pub fn spawn(store: Store, jobs: Vec<Job>, opts: LeaderOptions) -> Periodic {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(store, jobs, opts, stopped));
        Periodic { stop, task }
    }

    /// Stops running jobs and gives the lease up, so another replica leads
    /// at once instead of after expiry.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    store: Store,
    jobs: Vec<Job>,
    opts: LeaderOptions,
    mut stopped: watch::Receiver<bool>,
) {
    let mut running: JoinSet<()> = JoinSet::new();
    let mut by_name: HashMap<String, AbortHandle> = HashMap::new();
    let mut leading = false;
    loop {
        let now_leading = match store.try_lead(LEADER_LEASE, &opts.holder, opts.lease).await {
            Ok(leads) => leads,
            Err(e) => {
                // Unsure means not leading: another replica may have it by now.
                tracing::warn!(error = %e, "cannot renew the leader lease");
                false
            }
        };
        let gained = now_leading && !leading;
        if now_leading != leading {
            tracing::info!(holder = %opts.holder, leading = now_leading, "periodic jobs: leadership changed");
            leading = now_leading;
        }
        while running.try_join_next().is_some() {}
        by_name.retain(|_, handle| !handle.is_finished());
        if leading {
            for job in &jobs {
                if by_name.contains_key(&job.name) {
                    continue;
                }
                let due = if gained && job.on_leadership {
                    Ok(true)
                } else {
                    due(&store, job).await
                };
                match due {
                    Ok(true) => {
                        let handle =
                            running.spawn(run_job(store.clone(), job.clone(), opts.holder.clone()));
                        by_name.insert(job.name.clone(), handle);
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(job = %job.name, error = %e, "cannot read when the job last ran")
                    }
                }
            }
        } else if !running.is_empty() {
            tracing::warn!(holder = %opts.holder, "leadership lost; stopping running periodic jobs");
            running.abort_all();
            by_name.clear();
        }
        let pause = if leading {
            opts.renew_every()
        } else {
            opts.follow_every()
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => break,
        }
    }
    running.abort_all();
    while running.join_next().await.is_some() {}
    if leading && let Err(e) = store.resign(LEADER_LEASE, &opts.holder).await {
        tracing::warn!(error = %e, "cannot give up the leader lease; it will expire");
    }
}

async fn due(store: &Store, job: &Job) -> Result<bool, StoreError> {
    Ok(match store.periodic_run(&job.name).await? {
        None => true,
        Some(last) => {
            let next = last.started_at
                + chrono::Duration::from_std(job.every).unwrap_or(chrono::Duration::MAX);
            next <= chrono::Utc::now()
        }
    })
}

async fn run_job(store: Store, job: Job, holder: String) {
    if let Err(e) = store.periodic_started(&job.name, &holder).await {
        tracing::warn!(job = %job.name, error = %e, "cannot record the job's start; skipped");
        return;
    }
    tracing::info!(job = %job.name, "periodic job started");
    let result = (job.run)().await;
    if let Err(message) = &result {
        tracing::error!(job = %job.name, error = %message, "periodic job failed");
    } else {
        tracing::info!(job = %job.name, "periodic job finished");
    }
    if let Err(e) = store
        .periodic_finished(&job.name, &holder, result.err().as_deref())
        .await
    {
        tracing::warn!(job = %job.name, error = %e, "cannot record the job's end");
    }
}
