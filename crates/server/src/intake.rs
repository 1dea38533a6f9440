//! Group-commit writers for the webhook endpoint: concurrent requests hand
//! their delivery to a writer task, which stores everything waiting in a
//! single statement. Under load this turns N commits (N fsyncs, N
//! contenders for SQLite's single write lock) into one, while an idle
//! server still commits each delivery immediately. A request is
//! acknowledged only after the commit that holds it. SQLite gets one
//! writer; PostgreSQL several, each with its own connection, so one
//! inserts while another waits for its commit's WAL flush.

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard, mpsc, oneshot};

use crate::store::{BatchWriter, Enqueued, NewDelivery, Store, StoreError};

/// Upper bound of one transaction, to bound its latency and memory.
const MAX_BATCH: usize = 256;
/// Requests waiting for the writer; beyond this, senders wait (backpressure).
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Stored, String>>;
type Queue = Arc<Mutex<mpsc::Receiver<(NewDelivery, Reply)>>>;

/// Serialises this process's writes to an SQLite database. SQLite admits
/// one writer at a time and makes the others poll with sleeps of up to
/// 100 ms, which ruins webhook latency when workers and intake collide; a
/// fair async mutex queues them instead. Workers also queue among
/// themselves first, so the intake writer waits for at most one worker
/// write, never for all of them. PostgreSQL needs no gate.
#[derive(Clone, Debug, Default)]
pub struct WriteGate(Option<Arc<Gates>>);

#[derive(Debug, Default)]
struct Gates {
    database: Mutex<()>,
    workers: Mutex<()>,
}

/// Held while writing; the gate reopens when it is dropped.
pub struct GateGuard<'a> {
    _database: MutexGuard<'a, ()>,
    _workers: Option<MutexGuard<'a, ()>>,
}

impl WriteGate {
    /// The gate for `store`: a real one on SQLite, none on PostgreSQL.
    pub fn for_store(store: &Store) -> WriteGate {
        WriteGate((store.backend_name() == "sqlite").then(|| Arc::new(Gates::default())))
    }

    /// Entry for the intake writer.
    pub async fn enter(&self) -> Option<GateGuard<'_>> {
        let gates = self.0.as_ref()?;
        Some(GateGuard {
            _database: gates.database.lock().await,
            _workers: None,
        })
    }

    /// Entry for workers: one worker at a time competes with intake.
    pub async fn enter_worker(&self) -> Option<GateGuard<'_>> {
        let gates = self.0.as_ref()?;
        let workers = gates.workers.lock().await;
        Some(GateGuard {
            _database: gates.database.lock().await,
            _workers: Some(workers),
        })
    }
}

/// Handle to the writer tasks; cheap to clone.
#[derive(Clone, Debug)]
pub struct Intake {
    tx: mpsc::Sender<(NewDelivery, Reply)>,
}

/// What became of one delivery handed to [`Intake::enqueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Whether it was new or a redelivery.
    pub enqueued: Enqueued,
    /// The first new delivery of its commit. Waking one idle worker per
    /// commit is enough: a worker that claims after a wake-up wakes the
    /// next (see `worker.rs`), while a wake-up per delivery sends every
    /// idle worker to claim after each commit, mostly finding nothing
    /// (the repository is busy), each miss a write that competes with
    /// intake.
    pub wake_worker: bool,
}

/// Why a delivery could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("cannot store the delivery: {0}")]
    /// The database refused the batch (the message names why).
    Store(String),
    #[error("the intake writer has stopped")]
    /// The writer tasks are gone (the server is shutting down).
    Stopped,
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        IntakeError::Store(e.to_string())
    }
}

impl Intake {
    /// Spawns the writers; they stop when every `Intake` handle is dropped.
    pub fn spawn(store: Store, gate: WriteGate) -> Intake {
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx: Queue = Arc::new(Mutex::new(rx));
        for _ in 0..store.intake_writers().max(1) {
            tokio::spawn(writer(store.batch_writer(), gate.clone(), rx.clone()));
        }
        Intake { tx }
    }

    /// Stores `delivery` durably (deduplicated by delivery id).
    pub async fn enqueue(&self, delivery: NewDelivery) -> Result<Enqueued, IntakeError> {
        self.store(delivery).await.map(|stored| stored.enqueued)
    }

    /// [`Intake::enqueue`], also telling whether to wake a worker.
    pub async fn store(&self, delivery: NewDelivery) -> Result<Stored, IntakeError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((delivery, reply))
            .await
            .map_err(|_| IntakeError::Stopped)?;
        answer
            .await
            .map_err(|_| IntakeError::Stopped)?
            .map_err(IntakeError::Store)
    }
}

async fn writer(mut store: BatchWriter, gate: WriteGate, rx: Queue) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut deliveries = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    loop {
        // Everything that arrived while the writers were busy forms the
        // next batch: no timer, so a lone request is never delayed. The
        // queue is held only while taking the batch, so another writer
        // takes the next one during this one's commit.
        let received = {
            let mut queue = rx.lock().await;
            queue.recv_many(&mut batch, MAX_BATCH).await
        };
        if received == 0 {
            return;
        }
        for (d, r) in batch.drain(..) {
            deliveries.push(d);
            replies.push(r);
        }
        let stored = {
            let _gate = gate.enter().await;
            store.enqueue_batch(&deliveries).await
        };
        match stored {
            Ok(results) => {
                let mut wake = true;
                for ((reply, enqueued), d) in replies.drain(..).zip(results).zip(&deliveries) {
                    // A delivery stored as done has nothing to claim.
                    let wake_worker = wake && enqueued == Enqueued::New && !d.settled;
                    wake &= !wake_worker;
                    let _ = reply.send(Ok(Stored {
                        enqueued,
                        wake_worker,
                    }));
                }
            }
            Err(e) => {
                let message = e.to_string();
                tracing::error!(error = %message, batch = deliveries.len(), "cannot store webhook deliveries");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(message.clone()));
                }
            }
        }
        deliveries.clear();
    }
}
