//! The HTTP listener. `axum::serve` has no header-read timer and no
//! connection cap, so a stranger could hold sockets open for ever (header
//! trickles, idle keep-alives) until the process runs out of file
//! descriptors. This loop serves the same router with hyper's HTTP/1 server
//! directly: a header-read timer (which also closes idle keep-alive
//! connections, since those wait for the next request's headers), a cap on
//! open connections below the file-descriptor limit, and graceful shutdown.
//! The body-read timer and the memory budget for bodies live in the webhook
//! handler (see [`crate::router`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

/// Default seconds a client has to send a request's headers, and the most
/// a keep-alive connection may sit idle between requests. GitHub sends its
/// headers at once.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default seconds a client has to send a webhook body. GitHub gives up on
/// a delivery after 10 s, so a body still arriving after that is not
/// GitHub's.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on open connections (lowered further to fit the
/// file-descriptor limit, see [`connection_cap`]).
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default bytes of webhook bodies held in memory at once, across all
/// connections, before they are authenticated.
pub const DEFAULT_MAX_INFLIGHT_BODY_BYTES: usize = 64 * 1024 * 1024;
/// File descriptors kept free of HTTP connections: the database pool, the
/// GitHub client's connections, log files, the metrics listener.
const FD_RESERVE: u64 = 256;

/// Limits on what a client can make the server hold.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Open connections accepted at once (`PAYDOWN_MAX_CONNECTIONS`); beyond it new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long a client may take to send its request headers (`PAYDOWN_HEADER_TIMEOUT_SECONDS`).
    pub header_timeout: Duration,
    /// How long a client may take to send its body (`PAYDOWN_BODY_TIMEOUT_SECONDS`): a slow sender cannot hold a connection.
    pub body_timeout: Duration,
    /// Bytes of request bodies held in memory at once across all connections (`PAYDOWN_MAX_INFLIGHT_BODY_BYTES`); a body over the budget waits or gets 503.
    pub max_inflight_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_inflight_body_bytes: DEFAULT_MAX_INFLIGHT_BODY_BYTES,
        }
    }
}

/// Raises the soft file-descriptor limit to the hard one where the system
/// allows it, and returns the soft limit in force afterwards (`None` where
/// it cannot be read).
// The workspace denies unsafe code; this is its one audited use (see the
// SAFETY note below).
#[allow(unsafe_code)]
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read/write the struct passed by
        // pointer, which lives on this stack frame for the whole call.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim.rlim_cur = lim.rlim_max;
                }
            }
        }
        // `rlim_t` is not `u64` on every Unix.
        #[allow(clippy::unnecessary_cast)]
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection cap actually used: the configured one, lowered to leave
/// [`FD_RESERVE`] descriptors free under the soft limit `fd_limit`.
pub fn connection_cap(configured: usize, fd_limit: Option<u64>) -> usize {
    match fd_limit {
        Some(limit) => {
            let room = usize::try_from(limit.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
            configured.min(room.max(16))
        }
        None => configured,
    }
}

/// Serves `app` on `listener` until `stop` fires, then lets open requests
/// finish (idle connections close at once).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let http = Arc::new(http);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut stop = stop;
    loop {
        // At the cap, stop accepting: new connections wait in the kernel's
        // backlog until a slot frees, which the timers guarantee.
        let slot = tokio::select! {
            _ = &mut stop => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let conn =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are the client's (reset, timeout, bad request).
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A failed accept: per-connection errors are ignored; running out of
/// descriptors or memory is logged and paced so the loop does not spin.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "cannot accept a connection; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_descriptors_for_the_rest_of_the_process() {
        assert_eq!(connection_cap(4096, Some(1_048_576)), 4096);
        assert_eq!(connection_cap(4096, Some(1024)), 768);
        assert_eq!(connection_cap(4096, Some(100)), 16);
        assert_eq!(connection_cap(4096, None), 4096);
    }
}
