//! `paydown serve` settings: the clap flags/environment variables
//! ([`ServeArgs`]) and their validation into [`Settings`]. Errors name the
//! variable at fault and never echo a secret's value.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::http::HttpLimits;
use crate::signature::WebhookSecrets;

/// Default database: an SQLite file `paydown.sqlite` in the working
/// directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://paydown.sqlite?mode=rwc";
/// Where the GitHub API is when `PAYDOWN_GITHUB_API_URL` is unset.
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
/// Where the server listens when `PAYDOWN_LISTEN` is unset (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
/// Largest accepted webhook body. GitHub caps payloads at 25 MB, but what
/// it sends is far smaller: the 69 payloads of `tests/fixtures` (GitHub's
/// published examples, pretty-printed) are 2.6 KB to 29 KB, median 11 KB.
/// The big ones are pushes, whose payload lists at most 2048 commits; at
/// about 2 KB a commit that stays under 4 MiB. Every byte allowed here is a
/// byte a stranger can make the server hold before the signature is
/// checked, so the default is 4 MiB, not 25.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Default days a processed delivery (payload included) is kept.
pub const DEFAULT_RETENTION_DAYS: u64 = 14;

/// Flags and environment variables of `paydown serve`. Every value is taken
/// as text and checked by [`Settings::from_args`] so errors can name the
/// environment variable, not only the flag.
#[derive(Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// GitHub App id.
    #[arg(long, env = "PAYDOWN_APP_ID", value_name = "ID")]
    pub app_id: Option<String>,
    /// GitHub App private key, inline PEM (or use --private-key-path).
    #[arg(
        long,
        env = "PAYDOWN_PRIVATE_KEY",
        hide_env_values = true,
        value_name = "PEM"
    )]
    pub private_key: Option<String>,
    /// Path of the GitHub App private key PEM file.
    #[arg(long, env = "PAYDOWN_PRIVATE_KEY_PATH", value_name = "PATH")]
    pub private_key_path: Option<PathBuf>,
    /// Webhook secret; several comma-separated while rotating.
    #[arg(
        long,
        env = "PAYDOWN_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub webhook_secret: Option<String>,
    /// Secret of `POST /incidents/pagerduty` (PagerDuty webhooks v3);
    /// several comma-separated while rotating. Unset: the endpoint is off.
    #[arg(
        long,
        env = "PAYDOWN_PAGERDUTY_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub pagerduty_secret: Option<String>,
    /// Secret of `POST /incidents` (Standard Webhooks, `whsec_…` accepted);
    /// several comma-separated while rotating. Unset: the endpoint is off.
    #[arg(
        long,
        env = "PAYDOWN_INCIDENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub incident_secret: Option<String>,
    /// Database URL: sqlite://… or postgres://… [default: sqlite://paydown.sqlite?mode=rwc,
    /// a file in the working directory]
    #[arg(
        long,
        env = "PAYDOWN_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,
    /// GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, env = "PAYDOWN_GITHUB_API_URL", value_name = "URL")]
    pub github_api_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long, env = "PAYDOWN_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Number of worker tasks processing deliveries [default: 4].
    #[arg(long, env = "PAYDOWN_WORKERS", value_name = "N")]
    pub workers: Option<String>,
    /// Seconds a worker holds a delivery before another may retake it [default: 60].
    #[arg(long, env = "PAYDOWN_LEASE_SECONDS", value_name = "SECONDS")]
    pub lease_seconds: Option<String>,
    /// Largest accepted webhook body in bytes [default: 4194304].
    #[arg(long, env = "PAYDOWN_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<String>,
    /// Seconds in-flight work may take to finish on shutdown [default: 10].
    #[arg(long, env = "PAYDOWN_SHUTDOWN_GRACE_SECONDS", value_name = "SECONDS")]
    pub shutdown_grace_seconds: Option<String>,
    /// Seconds a client has to send request headers; also the longest idle
    /// keep-alive [default: 10].
    #[arg(long, env = "PAYDOWN_HEADER_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub header_timeout_seconds: Option<String>,
    /// Seconds a client has to send a webhook body [default: 10].
    #[arg(long, env = "PAYDOWN_BODY_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub body_timeout_seconds: Option<String>,
    /// Most open HTTP connections, lowered to fit the fd limit [default: 4096].
    #[arg(long, env = "PAYDOWN_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<String>,
    /// Bytes of unauthenticated webhook bodies held at once [default: 67108864].
    #[arg(long, env = "PAYDOWN_MAX_INFLIGHT_BODY_BYTES", value_name = "BYTES")]
    pub max_inflight_body_bytes: Option<String>,
    /// Days processed deliveries are kept before pruning [default: 14].
    #[arg(long, env = "PAYDOWN_RETENTION_DAYS", value_name = "DAYS")]
    pub retention_days: Option<String>,
    /// Pace writes per installation (on|off) [default: on].
    #[arg(long, env = "PAYDOWN_WRITE_PACING", value_name = "on|off")]
    pub write_pacing: Option<String>,
    /// Least milliseconds between two writes of an installation [default: 1000].
    #[arg(long, env = "PAYDOWN_WRITE_INTERVAL_MS", value_name = "MS")]
    pub write_interval_ms: Option<String>,
    /// Content-creating writes per installation per minute, 0 for no limit [default: 80].
    #[arg(long, env = "PAYDOWN_CONTENT_WRITES_PER_MINUTE", value_name = "N")]
    pub content_writes_per_minute: Option<String>,
    /// Content-creating writes per installation per hour, 0 for no limit [default: 500].
    #[arg(long, env = "PAYDOWN_CONTENT_WRITES_PER_HOUR", value_name = "N")]
    pub content_writes_per_hour: Option<String>,
    /// Serve `/metrics` (and the probes) on this separate address, and not
    /// on the main listener [default: unset, `/metrics` on the main one].
    #[arg(long, env = "PAYDOWN_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("ServeArgs")
            .field("app_id", &self.app_id)
            .field("private_key", &redact(&self.private_key))
            .field("private_key_path", &self.private_key_path)
            .field("webhook_secret", &redact(&self.webhook_secret))
            .field("database_url", &redact(&self.database_url))
            .field("github_api_url", &self.github_api_url)
            .field("listen", &self.listen)
            .field("workers", &self.workers)
            .field("lease_seconds", &self.lease_seconds)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("header_timeout_seconds", &self.header_timeout_seconds)
            .field("body_timeout_seconds", &self.body_timeout_seconds)
            .field("max_connections", &self.max_connections)
            .field("max_inflight_body_bytes", &self.max_inflight_body_bytes)
            .field("retention_days", &self.retention_days)
            .field("metrics_listen", &self.metrics_listen)
            .finish()
    }
}

/// A setting that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{var} is required: {hint}")]
    /// A required setting is not set.
    Missing {
        /// The environment variable (or its flag).
        var: &'static str,
        /// How to set it.
        hint: &'static str,
    },
    #[error("{var} is invalid: {reason}")]
    /// A setting's value cannot be used: `var` names it, `reason` says why.
    Invalid {
        /// The environment variable (or its flag).
        var: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

/// A secret string whose `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps `s`.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The value itself, for the one place that needs it (never for logs).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Validated settings of a running server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The GitHub App's id (`PAYDOWN_APP_ID`).
    pub app_id: u64,
    /// The App's RSA private key (PEM).
    pub private_key: Secret,
    /// The webhook secrets; a body signed with any of them is accepted (rotation).
    pub webhook_secrets: WebhookSecrets,
    /// May hold a password, hence secret.
    pub database_url: Secret,
    /// The GitHub API base (`PAYDOWN_GITHUB_API_URL`; GitHub Enterprise Server and tests point it elsewhere).
    pub github_api_url: String,
    /// Where webhooks are received (`PAYDOWN_LISTEN`).
    pub listen: SocketAddr,
    /// Worker tasks claiming deliveries (`PAYDOWN_WORKERS`).
    pub workers: usize,
    /// How long a claim holds a delivery before another worker may take it (`PAYDOWN_LEASE_SECONDS`); renewed while work runs.
    pub lease: Duration,
    /// The largest webhook body accepted (`PAYDOWN_MAX_BODY_BYTES`); larger ones get 413.
    pub max_body_bytes: usize,
    /// How long in-flight work may finish after SIGTERM (`PAYDOWN_SHUTDOWN_GRACE_SECONDS`).
    pub shutdown_grace: Duration,
    /// Header and body timeouts, the connection cap and the in-flight body budget.
    pub http: HttpLimits,
    /// Processed deliveries older than this are pruned.
    pub retention: Duration,
    /// Secrets of `POST /incidents/pagerduty` and `POST /incidents`.
    pub incident_secrets: crate::incident_endpoints::IncidentSecrets,
    /// Write pacing per installation; `None` when turned off.
    pub pacing: Option<crate::pacing::PacingLimits>,
    /// Where `/metrics` is served instead of the main listener, if set.
    pub metrics_listen: Option<SocketAddr>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_num<T>(
    var: &'static str,
    v: &Option<String>,
    default: T,
    min: T,
) -> Result<T, SettingsError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match non_empty(v) {
        None => Ok(default),
        Some(s) => match s.parse::<T>() {
            Ok(n) if n >= min => Ok(n),
            Ok(_) => Err(SettingsError::Invalid {
                var,
                reason: format!("must be at least {min}, got {s:?}"),
            }),
            Err(_) => Err(SettingsError::Invalid {
                var,
                reason: format!("expected a whole number, got {s:?}"),
            }),
        },
    }
}

/// `url` for logs: any `user:password@` is dropped, since an Enterprise
/// proxy URL can carry credentials.
pub fn url_for_logs(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://<redacted>@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Warnings about settings that work but expose something: a plain-HTTP
/// API URL off loopback (tokens and webhooks' work in clear text), and
/// secrets given as flags (visible to every user in `ps`). `argv` is the
/// process's command line.
pub fn warnings(settings: &Settings, argv: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(rest) = settings.github_api_url.strip_prefix("http://") {
        let authority = rest.split('/').next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or(authority);
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        let loopback = name == "localhost"
            || name
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            out.push(format!(
                "PAYDOWN_GITHUB_API_URL uses plain http:// to {name}: installation tokens travel unencrypted"
            ));
        }
    }
    for flag in [
        "--private-key",
        "--webhook-secret",
        "--pagerduty-secret",
        "--incident-secret",
        "--database-url",
    ] {
        if argv
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
        {
            out.push(format!(
                "{flag} was given on the command line, where every local user can read it (ps, /proc); use its environment variable or a file instead"
            ));
        }
    }
    out
}

fn parse_addr(var: &'static str, text: &str) -> Result<SocketAddr, SettingsError> {
    text.parse::<SocketAddr>()
        .map_err(|_| SettingsError::Invalid {
            var,
            reason: format!("expected HOST:PORT with an IP host, got {text:?}"),
        })
}

impl Settings {
    /// Checks the flags/environment and reads the private key file if given.
    pub fn from_args(args: &ServeArgs) -> Result<Self, SettingsError> {
        let app_id =
            match non_empty(&args.app_id) {
                None => {
                    return Err(SettingsError::Missing {
                        var: "PAYDOWN_APP_ID",
                        hint: "the GitHub App's numeric id (--app-id)",
                    });
                }
                Some(s) => s.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(|| {
                    SettingsError::Invalid {
                        var: "PAYDOWN_APP_ID",
                        reason: format!("expected a positive number, got {s:?}"),
                    }
                })?,
            };

        let pem = match (non_empty(&args.private_key), &args.private_key_path) {
            (Some(pem), _) => {
                // Environments often flatten newlines to a literal `\n`.
                (pem.replace("\\n", "\n"), "PAYDOWN_PRIVATE_KEY")
            }
            (None, Some(path)) => {
                let pem = std::fs::read_to_string(path).map_err(|e| SettingsError::Invalid {
                    var: "PAYDOWN_PRIVATE_KEY_PATH",
                    reason: format!("cannot read {}: {e}", path.display()),
                })?;
                (pem, "PAYDOWN_PRIVATE_KEY_PATH")
            }
            (None, None) => {
                return Err(SettingsError::Missing {
                    var: "PAYDOWN_PRIVATE_KEY",
                    hint: "set PAYDOWN_PRIVATE_KEY (inline PEM) or PAYDOWN_PRIVATE_KEY_PATH",
                });
            }
        };
        let (pem, key_var) = pem;
        if !pem.contains("-----BEGIN") || !pem.contains("PRIVATE KEY-----") {
            return Err(SettingsError::Invalid {
                var: key_var,
                reason: "not a PEM private key (no -----BEGIN … PRIVATE KEY----- block)".into(),
            });
        }

        let webhook_secrets = match non_empty(&args.webhook_secret) {
            None => {
                return Err(SettingsError::Missing {
                    var: "PAYDOWN_WEBHOOK_SECRET",
                    hint: "the App's webhook secret (several comma-separated while rotating)",
                });
            }
            Some(s) => {
                WebhookSecrets::new(s.split(',').map(str::trim)).ok_or(SettingsError::Invalid {
                    var: "PAYDOWN_WEBHOOK_SECRET",
                    reason: "contains no non-empty secret".into(),
                })?
            }
        };

        let database_url = non_empty(&args.database_url)
            .unwrap_or(DEFAULT_DATABASE_URL)
            .to_owned();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(SettingsError::Invalid {
                var: "PAYDOWN_DATABASE_URL",
                reason: "expected a sqlite:… or postgres://… URL".into(),
            });
        }

        let github_api_url = non_empty(&args.github_api_url)
            .unwrap_or(DEFAULT_GITHUB_API_URL)
            .trim_end_matches('/')
            .to_owned();
        if !(github_api_url.starts_with("https://") || github_api_url.starts_with("http://")) {
            return Err(SettingsError::Invalid {
                var: "PAYDOWN_GITHUB_API_URL",
                reason: format!("expected an http(s):// URL, got {github_api_url:?}"),
            });
        }

        let listen = parse_addr(
            "PAYDOWN_LISTEN",
            non_empty(&args.listen).unwrap_or(DEFAULT_LISTEN),
        )?;

        let metrics_listen = non_empty(&args.metrics_listen)
            .map(|text| parse_addr("PAYDOWN_METRICS_LISTEN", text))
            .transpose()?;
        if metrics_listen == Some(listen) {
            return Err(SettingsError::Invalid {
                var: "PAYDOWN_METRICS_LISTEN",
                reason: format!("must differ from PAYDOWN_LISTEN ({listen})"),
            });
        }

        let workers = parse_num("PAYDOWN_WORKERS", &args.workers, 4usize, 1)?;
        let lease = parse_num("PAYDOWN_LEASE_SECONDS", &args.lease_seconds, 60u64, 1)?;
        let max_body_bytes = parse_num(
            "PAYDOWN_MAX_BODY_BYTES",
            &args.max_body_bytes,
            DEFAULT_MAX_BODY_BYTES,
            1,
        )?;
        let grace = parse_num(
            "PAYDOWN_SHUTDOWN_GRACE_SECONDS",
            &args.shutdown_grace_seconds,
            10u64,
            0,
        )?;

        let defaults = HttpLimits::default();
        let http = HttpLimits {
            header_timeout: Duration::from_secs(parse_num(
                "PAYDOWN_HEADER_TIMEOUT_SECONDS",
                &args.header_timeout_seconds,
                defaults.header_timeout.as_secs(),
                1,
            )?),
            body_timeout: Duration::from_secs(parse_num(
                "PAYDOWN_BODY_TIMEOUT_SECONDS",
                &args.body_timeout_seconds,
                defaults.body_timeout.as_secs(),
                1,
            )?),
            max_connections: parse_num(
                "PAYDOWN_MAX_CONNECTIONS",
                &args.max_connections,
                defaults.max_connections,
                1,
            )?,
            max_inflight_body_bytes: parse_num(
                "PAYDOWN_MAX_INFLIGHT_BODY_BYTES",
                &args.max_inflight_body_bytes,
                defaults.max_inflight_body_bytes,
                1,
            )?,
        };
        let retention_days = parse_num(
            "PAYDOWN_RETENTION_DAYS",
            &args.retention_days,
            DEFAULT_RETENTION_DAYS,
            1,
        )?;

        let pacing = match non_empty(&args.write_pacing).map(str::to_ascii_lowercase) {
            None => true,
            Some(v) if ["on", "true", "1", "yes"].contains(&v.as_str()) => true,
            Some(v) if ["off", "false", "0", "no"].contains(&v.as_str()) => false,
            Some(v) => {
                return Err(SettingsError::Invalid {
                    var: "PAYDOWN_WRITE_PACING",
                    reason: format!("expected on or off, got {v:?}"),
                });
            }
        };
        let pace = crate::pacing::PacingLimits::default();
        let pacing = if pacing {
            Some(crate::pacing::PacingLimits {
                min_interval: Duration::from_millis(parse_num(
                    "PAYDOWN_WRITE_INTERVAL_MS",
                    &args.write_interval_ms,
                    1000u64,
                    0,
                )?),
                content_per_minute: parse_num(
                    "PAYDOWN_CONTENT_WRITES_PER_MINUTE",
                    &args.content_writes_per_minute,
                    pace.content_per_minute,
                    0,
                )?,
                content_per_hour: parse_num(
                    "PAYDOWN_CONTENT_WRITES_PER_HOUR",
                    &args.content_writes_per_hour,
                    pace.content_per_hour,
                    0,
                )?,
                ..pace
            })
        } else {
            None
        };

        Ok(Settings {
            pacing,
            app_id,
            private_key: Secret::new(pem),
            webhook_secrets,
            database_url: Secret::new(database_url),
            github_api_url,
            listen,
            workers,
            lease: Duration::from_secs(lease),
            max_body_bytes,
            shutdown_grace: Duration::from_secs(grace),
            http,
            retention: Duration::from_secs(retention_days.saturating_mul(86_400)),
            incident_secrets: crate::incident_endpoints::IncidentSecrets::from_values(
                non_empty(&args.pagerduty_secret),
                non_empty(&args.incident_secret),
            ),
            metrics_listen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";

    fn minimal() -> ServeArgs {
        ServeArgs {
            app_id: Some("42".into()),
            private_key: Some(PEM.into()),
            webhook_secret: Some("s3cr3t-value".into()),
            ..ServeArgs::default()
        }
    }

    #[test]
    fn defaults_apply_when_only_required_values_are_set() {
        let s = Settings::from_args(&minimal()).unwrap();
        assert_eq!(s.app_id, 42);
        assert_eq!(s.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(s.github_api_url, "https://api.github.com");
        assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(s.workers, 4);
        assert_eq!(s.lease, Duration::from_secs(60));
        assert_eq!(s.max_body_bytes, 4 * 1024 * 1024);
        assert_eq!(s.retention, Duration::from_secs(14 * 86_400));
        assert_eq!(s.pacing, Some(crate::pacing::PacingLimits::default()));
        assert_eq!(s.metrics_listen, None);
        assert_eq!(s.http.header_timeout, Duration::from_secs(10));
    }

    #[test]
    fn missing_values_name_their_variable() {
        let mut a = minimal();
        a.app_id = None;
        assert!(
            Settings::from_args(&a)
                .unwrap_err()
                .to_string()
                .contains("PAYDOWN_APP_ID")
        );
        let mut a = minimal();
        a.private_key = None;
        assert!(
            Settings::from_args(&a)
                .unwrap_err()
                .to_string()
                .contains("PAYDOWN_PRIVATE_KEY")
        );
        let mut a = minimal();
        a.webhook_secret = Some(" , ".into());
        assert!(
            Settings::from_args(&a)
                .unwrap_err()
                .to_string()
                .contains("PAYDOWN_WEBHOOK_SECRET")
        );
        let mut a = minimal();
        a.workers = Some("many".into());
        assert!(
            Settings::from_args(&a)
                .unwrap_err()
                .to_string()
                .contains("PAYDOWN_WORKERS")
        );
        let mut a = minimal();
        a.listen = Some("localhost".into());
        assert!(
            Settings::from_args(&a)
                .unwrap_err()
                .to_string()
                .contains("PAYDOWN_LISTEN")
        );
    }

    #[test]
    fn secrets_never_appear_in_errors_or_debug() {
        let mut a = minimal();
        a.private_key = Some("not-a-pem-hunter2".into());
        let err = Settings::from_args(&a).unwrap_err().to_string();
        assert!(
            err.contains("PAYDOWN_PRIVATE_KEY") && !err.contains("hunter2"),
            "{err}"
        );
        let mut a = minimal();
        a.database_url = Some("postgres://u:pw-hunter2@db/x".into());
        let s = Settings::from_args(&a).unwrap();
        let dbg = format!("{s:?} {a:?}");
        assert!(
            !dbg.contains("hunter2") && !dbg.contains("s3cr3t") && !dbg.contains("MIIB"),
            "{dbg}"
        );
    }

    #[test]
    fn credentials_in_the_api_url_are_never_logged_and_plain_http_warns() {
        assert_eq!(
            url_for_logs("https://u:hunter2@ghe.example/api/v3"),
            "https://<redacted>@ghe.example/api/v3"
        );
        assert_eq!(
            url_for_logs("https://api.github.com"),
            "https://api.github.com"
        );
        let mut a = minimal();
        a.github_api_url = Some("http://ghe.example/api/v3".into());
        let s = Settings::from_args(&a).unwrap();
        assert_eq!(warnings(&s, &[]).len(), 1);
        a.github_api_url = Some("http://127.0.0.1:8080".into());
        let s = Settings::from_args(&a).unwrap();
        assert!(warnings(&s, &[]).is_empty());
        let argv = [
            "paydown".to_string(),
            "serve".into(),
            "--webhook-secret=x".into(),
        ];
        assert!(warnings(&s, &argv)[0].contains("--webhook-secret"));
    }

    #[test]
    fn rotation_secrets_are_comma_separated() {
        let mut a = minimal();
        a.webhook_secret = Some("old, new".into());
        let s = Settings::from_args(&a).unwrap();
        let sig = crate::signature::sign(b"new", b"{}");
        assert!(
            s.webhook_secrets
                .verify(Some(sig.as_bytes()), b"{}")
                .is_ok()
        );
    }

    #[test]
    fn a_metrics_address_is_parsed_and_must_differ_from_the_main_one() {
        let mut a = minimal();
        a.metrics_listen = Some("127.0.0.1:9100".into());
        let s = Settings::from_args(&a).unwrap();
        assert_eq!(
            s.metrics_listen.map(|m| m.to_string()).as_deref(),
            Some("127.0.0.1:9100")
        );
        a.metrics_listen = Some("127.0.0.1:3000".into());
        let err = Settings::from_args(&a).unwrap_err().to_string();
        assert!(err.contains("PAYDOWN_METRICS_LISTEN"), "{err}");
        a.metrics_listen = Some("metrics:9100".into());
        assert!(Settings::from_args(&a).is_err());
    }
}
