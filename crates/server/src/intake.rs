//! Group-commit writer for the webhook endpoint: concurrent requests hand
//! their delivery to one task, which stores everything waiting in a single
//! transaction. Under load this turns N commits (N fsyncs, N contenders for
//! SQLite's single write lock) into one, while an idle server still commits
//! each delivery immediately. A request is acknowledged only after the
//! commit that holds it.

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard, mpsc, oneshot};

use crate::store::{Enqueued, NewDelivery, Store, StoreError};

/// Upper bound of one transaction, to bound its latency and memory.
const MAX_BATCH: usize = 256;
/// Requests waiting for the writer; beyond this, senders wait (backpressure).
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Enqueued, String>>;

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

/// Handle to the writer task; cheap to clone.
#[derive(Clone, Debug)]
pub struct Intake {
    tx: mpsc::Sender<(NewDelivery, Reply)>,
}

/// Why a delivery could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("cannot store the delivery: {0}")]
    Store(String),
    #[error("the intake writer has stopped")]
    Stopped,
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        IntakeError::Store(e.to_string())
    }
}

impl Intake {
    /// Spawns the writer; it stops when every `Intake` handle is dropped.
    pub fn spawn(store: Store, gate: WriteGate) -> Intake {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(writer(store, gate, rx));
        Intake { tx }
    }

    /// Stores `delivery` durably (deduplicated by delivery id).
    pub async fn enqueue(&self, delivery: NewDelivery) -> Result<Enqueued, IntakeError> {
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

async fn writer(store: Store, gate: WriteGate, mut rx: mpsc::Receiver<(NewDelivery, Reply)>) {
    let mut deliveries = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    loop {
        // Everything that arrived while the previous commit ran forms the
        // next batch: no timer, so a lone request is never delayed.
        let mut batch = Vec::with_capacity(MAX_BATCH);
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        for (d, r) in batch {
            deliveries.push(d);
            replies.push(r);
        }
        let stored = {
            let _gate = gate.enter().await;
            store.enqueue_batch(&deliveries).await
        };
        match stored {
            Ok(results) => {
                for (reply, result) in replies.drain(..).zip(results) {
                    let _ = reply.send(Ok(result));
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
        replies.clear();
    }
}
