//! Wiring of a running server: the HTTP listener, the worker pool and the
//! shutdown sequence, plus [`serve`], the `paydown serve` entry point.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use paydown_github::{ApiStats, AppCredentials, ClientOptions, GitHubApp, GitHubError};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use crate::handlers::{GitHubHandler, Handler};
use crate::http::HttpLimits;
use crate::intake::{Intake, WriteGate};
use crate::metrics::Metrics;
use crate::periodic::{Job, LeaderOptions, Periodic};
use crate::router::{AppState, BodyLimits, metrics_router, router_with};
use crate::settings::{ServeArgs, Settings, SettingsError};
use crate::signature::WebhookSecrets;
use crate::store::{Store, StoreError};
use crate::worker::{ShutdownReport, WorkerOptions, WorkerPool};

/// Runtime options of a [`Server`], usually derived from [`Settings`].
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The webhook secrets (any one verifies a body).
    pub webhook_secrets: WebhookSecrets,
    /// Worker tasks claiming deliveries.
    pub workers: usize,
    /// How long a claim holds a delivery; renewed while work runs.
    pub lease: Duration,
    /// The largest webhook body accepted.
    pub max_body_bytes: usize,
    /// How long in-flight work may finish on shutdown.
    pub shutdown_grace: Duration,
    /// How often an idle worker looks for due work without being woken (retries, paced jobs).
    pub idle_poll: Duration,
    /// Timeouts, connection cap and the memory budget for webhook bodies.
    pub http: HttpLimits,
    /// Secrets of the incident endpoints (unset: those endpoints answer 404).
    pub incident_secrets: crate::incident_endpoints::IncidentSecrets,
    /// When deliveries are due (the write pacer's clock; a simulated one in
    /// tests). Leases stay on the wall clock.
    pub clock: paydown_github::Clock,
}

impl ServerOptions {
    /// The options of a production server.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            webhook_secrets: settings.webhook_secrets.clone(),
            workers: settings.workers,
            lease: settings.lease,
            max_body_bytes: settings.max_body_bytes,
            shutdown_grace: settings.shutdown_grace,
            idle_poll: Duration::from_millis(250),
            http: settings.http.clone(),
            incident_secrets: settings.incident_secrets.clone(),
            clock: paydown_github::Clock::system(),
        }
    }
}

/// Why `paydown serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    /// The settings are missing or invalid.
    Settings(#[from] SettingsError),
    #[error("cannot open the database: {0}")]
    /// The database could not be opened or migrated.
    Store(#[from] StoreError),
    #[error("cannot set up the GitHub App client: {0}")]
    /// The GitHub App client could not be built (a bad key).
    GitHub(#[from] GitHubError),
    #[error("cannot listen on {addr}: {source}")]
    /// The listen address is taken or not allowed.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    #[error("HTTP server failed: {0}")]
    /// The HTTP server stopped with an I/O error.
    Http(std::io::Error),
}

/// A server accepting webhooks and processing them in the background.
pub struct Server {
    addr: SocketAddr,
    store: Store,
    metrics: Arc<Metrics>,
    stop_http: oneshot::Sender<()>,
    http: JoinHandle<std::io::Result<()>>,
    /// The separate metrics listener, when there is one.
    metrics_http: Option<(
        SocketAddr,
        oneshot::Sender<()>,
        JoinHandle<std::io::Result<()>>,
    )>,
    workers: WorkerPool,
    grace: Duration,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts serving on `listener` and spawns the workers.
    pub fn start(
        listener: TcpListener,
        store: Store,
        handler: Arc<dyn Handler>,
        github_stats: Option<Arc<ApiStats>>,
        opts: ServerOptions,
    ) -> std::io::Result<Server> {
        Self::start_with_metrics(listener, None, store, handler, github_stats, opts)
    }

    /// [`Server::start`]; with `metrics_listener`, `/metrics` is served
    /// there (with the probes) and not on `listener`.
    pub fn start_with_metrics(
        listener: TcpListener,
        metrics_listener: Option<TcpListener>,
        store: Store,
        handler: Arc<dyn Handler>,
        github_stats: Option<Arc<ApiStats>>,
        opts: ServerOptions,
    ) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let metrics_addr = metrics_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        let metrics = Arc::new(Metrics::new());
        let kick = Arc::new(Notify::new());
        let gate = WriteGate::for_store(&store);
        let state = AppState {
            store: store.clone(),
            intake: Intake::spawn(store.clone(), gate.clone()),
            secrets: opts.webhook_secrets.clone(),
            metrics: metrics.clone(),
            kick: kick.clone(),
            github_stats,
            body_limits: Arc::new(BodyLimits::new(opts.max_body_bytes, &opts.http)),
            incident_secrets: opts.incident_secrets.clone(),
        };
        let metrics_http = match (metrics_listener, metrics_addr) {
            (Some(listener), Some(addr)) => {
                let (stop, stopped) = oneshot::channel::<()>();
                let task = tokio::spawn(crate::http::serve(
                    listener,
                    metrics_router(state.clone()),
                    opts.http.clone(),
                    stopped,
                ));
                Some((addr, stop, task))
            }
            _ => None,
        };
        let app = router_with(state, metrics_http.is_none());
        let (stop_http, stopped) = oneshot::channel::<()>();
        let http = tokio::spawn(crate::http::serve(
            listener,
            app,
            opts.http.clone(),
            stopped,
        ));
        let workers = WorkerPool::spawn(
            store.clone(),
            handler,
            metrics.clone(),
            kick,
            gate,
            WorkerOptions {
                workers: opts.workers,
                lease: opts.lease,
                idle_poll: opts.idle_poll,
            },
            opts.clock.clone(),
        );
        Ok(Server {
            addr,
            store,
            metrics,
            stop_http,
            http,
            metrics_http,
            workers,
            grace: opts.shutdown_grace,
        })
    }

    /// Where the webhook listener is bound (the port chosen when asked for 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The separate metrics listener's address, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_http.as_ref().map(|(addr, _, _)| *addr)
    }

    /// The store deliveries go to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The Prometheus registry `/metrics` serves.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Stops accepting requests (in-flight requests complete), lets running
    /// handlers finish within the grace period, releases the rest.
    pub async fn shutdown(self) -> Result<ShutdownReport, ServeError> {
        let _ = self.stop_http.send(());
        if let Some((_, stop, task)) = self.metrics_http {
            let _ = stop.send(());
            match task.await {
                Ok(Err(e)) => tracing::warn!(error = %e, "metrics listener failed"),
                Err(e) => tracing::warn!(error = %e, "metrics listener task failed"),
                Ok(Ok(())) => {}
            }
        }
        let http = match self.http.await {
            Ok(result) => result.map_err(ServeError::Http),
            Err(join) => Err(ServeError::Http(std::io::Error::other(join.to_string()))),
        };
        let report = self.workers.shutdown(self.grace).await;
        if report.released > 0 {
            tracing::info!(
                released = report.released,
                "in-flight deliveries released for the next start"
            );
        }
        http.map(|()| report)
    }
}

/// `paydown serve`: validates settings, opens the database, starts the
/// server and runs until SIGTERM/SIGINT, then shuts down gracefully.
pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let mut settings = Settings::from_args(&args)?;
    let argv: Vec<String> = std::env::args().collect();
    for warning in crate::settings::warnings(&settings, &argv) {
        tracing::warn!("{warning}");
    }
    let fd_limit = crate::http::raise_fd_limit();
    settings.http.max_connections =
        crate::http::connection_cap(settings.http.max_connections, fd_limit);
    let store = Store::connect(settings.database_url.expose()).await?;
    let creds = AppCredentials::from_pem(settings.app_id, settings.private_key.expose())?;
    let app = GitHubApp::new(&settings.github_api_url, creds, ClientOptions::default())?;
    let stats = app.stats();
    let mut handler = GitHubHandler::new(app.clone(), store.clone());
    if let Some(limits) = settings.pacing {
        handler = handler.with_pacer(crate::pacing::Pacer::new(
            store.clone(),
            paydown_github::Clock::system(),
            limits,
        ));
    }
    let handler = Arc::new(handler);
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: settings.listen,
            source,
        })?;
    let metrics_listener = match settings.metrics_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })?,
        ),
        None => None,
    };
    let server = Server::start_with_metrics(
        listener,
        metrics_listener,
        store.clone(),
        handler,
        Some(stats),
        ServerOptions::from_settings(&settings),
    )
    .map_err(ServeError::Http)?;
    tracing::info!(
        addr = %server.local_addr(),
        metrics = %server
            .metrics_addr()
            .map_or_else(|| "on the main listener".to_string(), |a| a.to_string()),
        database = store.url(),
        github = %crate::settings::url_for_logs(&settings.github_api_url),
        workers = settings.workers,
        max_connections = settings.http.max_connections,
        fd_limit = fd_limit.map(|l| l.to_string()).unwrap_or_else(|| "unknown".into()),
        max_body_bytes = settings.max_body_bytes,
        "paydown serve listening"
    );
    // The worker lease doubles as the leader lease: both say how long a
    // dead replica may hold work up.
    let periodic = Periodic::spawn(
        store.clone(),
        periodic_jobs(&store, &app, settings.retention),
        LeaderOptions::for_this_process(settings.lease),
    );
    shutdown_signal().await;
    tracing::info!("shutdown requested; draining");
    periodic.shutdown().await;
    let result = server.shutdown().await;
    store.close().await;
    result.map(|_| ())
}

/// The jobs the elected replica runs periodically (see [`crate::periodic`]):
/// each is a name, an interval and an async function. Deliveries missed
/// while down are recovered at start and every ten minutes; every
/// repository is synced once a day at its own time.
pub fn periodic_jobs(store: &Store, app: &GitHubApp, retention: Duration) -> Vec<Job> {
    vec![
        crate::retention::job(store, retention, crate::retention::DEFAULT_INTERVAL),
        crate::recovery::job(
            app,
            store,
            crate::recovery::RecoveryOptions::default(),
            crate::recovery::DEFAULT_INTERVAL,
        ),
        crate::safety_sync::job(store, crate::safety_sync::SafetySyncOptions::default()),
    ]
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
