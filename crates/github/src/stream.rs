//! Response bodies read as they arrive: [`BodyReader`], a blocking
//! [`std::io::Read`] over an HTTP body that a Tokio task keeps feeding.
//!
//! Large downloads (repository tarballs) go straight from the socket into a
//! consumer on a blocking thread (gzip, tar, the scanner) through a bounded
//! channel of chunks, so at most [`CHUNKS_IN_FLIGHT`] chunks are held in
//! memory whatever the size of the body. The retry policy covers the request
//! up to its headers ([`crate::Client::get_stream`]); a failure once the body
//! has started cannot be retried transparently (the consumer has already
//! seen bytes), so it surfaces as an [`std::io::Error`] carrying a
//! [`GitHubError`].

use std::io::{self, Read};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use tokio::sync::mpsc;

use crate::error::GitHubError;

/// Chunks buffered between the network task and the reader. The network
/// task waits when the reader falls behind, so this (times the size of a
/// chunk, tens of KiB) bounds the memory a download holds.
pub const CHUNKS_IN_FLIGHT: usize = 16;

/// What the network task hands the reader: data, the end of a complete
/// body, or why the body broke off. An explicit end keeps a vanished task
/// (runtime shut down, panic) from looking like a complete body.
#[derive(Debug)]
enum Piece {
    Data(Bytes),
    End,
    Failed(GitHubError),
}

/// A response body as a blocking [`Read`]: reads wait for the network.
///
/// Reading blocks the calling thread, so use it from
/// `tokio::task::spawn_blocking` or a plain thread, never on an async
/// worker (Tokio panics if a blocking receive is attempted there). Dropping
/// the reader stops the download.
#[derive(Debug)]
pub struct BodyReader {
    route: String,
    chunks: mpsc::Receiver<Piece>,
    current: Bytes,
    state: ReadState,
    content_length: Option<u64>,
    feeder: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
enum ReadState {
    Reading,
    Ended,
    /// The error, kept so that every later read fails the same way.
    Failed(io::ErrorKind, String),
}

/// How long the network task may wait for the body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeouts {
    /// Longest wait for any one chunk.
    pub(crate) idle: Duration,
    /// Total waiting for the network over the whole body (time spent
    /// waiting for the reader to catch up does not count).
    pub(crate) total: Duration,
}

impl BodyReader {
    /// Starts feeding `body` to a new reader on the current Tokio runtime.
    pub(crate) fn spawn(
        route: &str,
        body: BoxBody<Bytes, octocrab::Error>,
        content_length: Option<u64>,
        timeouts: BodyTimeouts,
    ) -> Self {
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let feeder = tokio::spawn(feed(route.to_string(), body, tx, timeouts));
        Self {
            route: route.to_string(),
            chunks: rx,
            current: Bytes::new(),
            state: ReadState::Reading,
            content_length,
            feeder,
        }
    }

    /// The size the server announced (`Content-Length`), if it did; GitHub's
    /// tarballs usually come chunked, without one.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    fn fail(&mut self, error: GitHubError) -> io::Error {
        let kind = match error {
            GitHubError::Timeout { .. } => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::Other,
        };
        self.state = ReadState::Failed(kind, error.to_string());
        io::Error::new(kind, error)
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.current.is_empty() {
            match &self.state {
                ReadState::Ended => return Ok(0),
                ReadState::Failed(kind, message) => {
                    return Err(io::Error::new(*kind, message.clone()));
                }
                ReadState::Reading => {}
            }
            match self.chunks.blocking_recv() {
                Some(Piece::Data(bytes)) => self.current = bytes,
                Some(Piece::End) => self.state = ReadState::Ended,
                Some(Piece::Failed(error)) => return Err(self.fail(error)),
                None => {
                    let error = GitHubError::Transport {
                        route: self.route.clone(),
                        reason: "the download stopped before the body was complete".into(),
                    };
                    return Err(self.fail(error));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

impl Drop for BodyReader {
    fn drop(&mut self) {
        // The task would also stop at its next send; aborting frees the
        // connection at once when the reader gave up early.
        self.feeder.abort();
    }
}

/// Moves `body` into `tx` chunk by chunk, stopping when the reader is gone.
async fn feed(
    route: String,
    mut body: BoxBody<Bytes, octocrab::Error>,
    tx: mpsc::Sender<Piece>,
    timeouts: BodyTimeouts,
) {
    let mut budget = timeouts.total;
    loop {
        let wait = timeouts.idle.min(budget);
        let started = tokio::time::Instant::now();
        let next = tokio::time::timeout(wait, body.frame()).await;
        budget = budget.saturating_sub(started.elapsed());
        let piece = match next {
            Err(_elapsed) => Piece::Failed(GitHubError::Timeout {
                route: route.clone(),
            }),
            Ok(None) => Piece::End,
            Ok(Some(Err(e))) => Piece::Failed(crate::client::body_error(&route, e)),
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) if data.is_empty() => continue,
                Ok(data) => Piece::Data(data),
                // Trailers carry nothing a reader of the body needs.
                Err(_trailers) => continue,
            },
        };
        let last = !matches!(piece, Piece::Data(_));
        if tx.send(piece).await.is_err() || last {
            return;
        }
    }
}
