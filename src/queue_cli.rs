//! `paydown queue list|retry|drop`: the operator's view of the server's
//! delivery queue, straight from the store (`--database-url`, else
//! `PAYDOWN_DATABASE_URL`, else the default `paydown.sqlite` when it
//! exists). Exit codes: 0 done, 1 no such delivery, 2 bad input (a bad
//! URL, an unknown status, a delivery in a state the command refuses).

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use paydown_server::store::{DeliveryRecord, DeliveryStatus, OperatorOutcome, Store};

const EXIT_NOT_FOUND: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

/// `paydown queue`: inspect, retry and drop stored deliveries (docs/operations.md).
#[derive(Debug, clap::Args)]
pub struct QueueArgs {
    /// The server's database URL (sqlite://… or postgres://…).
    #[arg(
        long,
        env = "PAYDOWN_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL",
        global = true
    )]
    database_url: Option<String>,
    #[command(subcommand)]
    command: QueueCommand,
}

#[derive(Debug, Subcommand)]
enum QueueCommand {
    /// List dead and waiting deliveries, oldest first.
    List {
        /// Which deliveries: dead, pending (waiting, retries included),
        /// or both.
        #[arg(long, value_enum, default_value_t = Which::All)]
        status: Which,
        /// At most this many rows.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Put a dead (or retry-waiting) delivery back in the queue, due now,
    /// with its attempts reset.
    Retry {
        /// The delivery id (`X-GitHub-Delivery`, the DELIVERY column).
        id: String,
    },
    /// Delete a dead or waiting delivery (never a running or done one).
    Drop {
        /// The delivery id (`X-GitHub-Delivery`, the DELIVERY column).
        id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Dead,
    Pending,
    All,
}

impl Which {
    fn statuses(self) -> &'static [DeliveryStatus] {
        match self {
            Which::Dead => &[DeliveryStatus::Dead],
            Which::Pending => &[DeliveryStatus::Pending, DeliveryStatus::Retry],
            Which::All => &[
                DeliveryStatus::Dead,
                DeliveryStatus::Pending,
                DeliveryStatus::Retry,
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

fn database_url(explicit: Option<String>) -> anyhow::Result<String> {
    if let Some(url) = explicit.filter(|u| !u.trim().is_empty()) {
        return Ok(url);
    }
    // `paydown serve`'s default, but only when it exists: creating an
    // empty database here would list nothing and mislead.
    if std::path::Path::new("paydown.sqlite").exists() {
        return Ok(paydown_server::settings::DEFAULT_DATABASE_URL.to_string());
    }
    Err(anyhow::anyhow!(
        "no database: pass --database-url or set PAYDOWN_DATABASE_URL (as for paydown serve)"
    ))
}

/// Runs `paydown queue …`.
pub fn run(args: QueueArgs) -> anyhow::Result<ExitCode> {
    let url = database_url(args.database_url)?;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start tokio: {e}"))?;
    runtime.block_on(async {
        let store = Store::connect(&url).await?;
        let code = match args.command {
            QueueCommand::List {
                status,
                limit,
                format,
            } => {
                let records = store.deliveries_in(status.statuses(), limit).await?;
                let text = match format {
                    ListFormat::Text => table(&records, Utc::now()),
                    ListFormat::Json => json(&records),
                };
                print!("{text}");
                ExitCode::SUCCESS
            }
            QueueCommand::Retry { id } => {
                let outcome = store.requeue(&id).await?;
                report(
                    &id,
                    outcome,
                    "queued again",
                    "only dead or retry-waiting deliveries can be retried",
                )
            }
            QueueCommand::Drop { id } => {
                let outcome = store.drop_delivery(&id).await?;
                report(
                    &id,
                    outcome,
                    "dropped",
                    "running and done deliveries are kept",
                )
            }
        };
        store.close().await;
        Ok(code)
    })
}

fn report(id: &str, outcome: OperatorOutcome, done: &str, refused: &str) -> ExitCode {
    let id = printable(id, 80);
    match outcome {
        OperatorOutcome::Done => {
            println!("{id}: {done}");
            ExitCode::SUCCESS
        }
        OperatorOutcome::NotFound => {
            eprintln!("paydown: no delivery {id}");
            ExitCode::from(EXIT_NOT_FOUND)
        }
        OperatorOutcome::WrongStatus(status) => {
            eprintln!("paydown: delivery {id} is {}: {refused}", status.as_str());
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Text stored from the network, made safe for a terminal: control
/// characters (escape sequences, newlines) become spaces, and long text
/// is cut with an ellipsis.
fn printable(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > max {
        let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        clean
    }
}

fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - since).num_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// An aligned table, one delivery a row; `no deliveries` when empty.
fn table(records: &[DeliveryRecord], now: DateTime<Utc>) -> String {
    if records.is_empty() {
        return "no dead or waiting deliveries\n".to_string();
    }
    let header = [
        "STATUS",
        "ATTEMPTS",
        "AGE",
        "EVENT",
        "REPOSITORY",
        "DELIVERY",
        "LAST ERROR",
    ];
    let rows: Vec<[String; 7]> = records
        .iter()
        .map(|r| {
            let event = match &r.action {
                Some(action) => format!("{}.{}", r.event, action),
                None => r.event.clone(),
            };
            [
                r.status.as_str().to_string(),
                r.attempts.to_string(),
                age(r.created_at, now),
                printable(&event, 40),
                printable(r.repo_key.as_deref().unwrap_or("-"), 50),
                printable(&r.delivery_id, 80),
                printable(r.last_error.as_deref().unwrap_or("-"), 100),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut out = String::new();
        for (n, cell) in cells.iter().enumerate() {
            if n + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                let pad = widths[n] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn json(records: &[DeliveryRecord]) -> String {
    let rows: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "delivery_id": r.delivery_id,
                "status": r.status.as_str(),
                "event": r.event,
                "action": r.action,
                "repository": r.repo_key,
                "installation_id": r.installation_id,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "created_at": r.created_at.to_rfc3339(),
                "run_at": r.run_at.to_rfc3339(),
                "finished_at": r.finished_at.map(|t| t.to_rfc3339()),
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_cannot_drive_the_terminal() {
        assert_eq!(printable("a\u{1b}[2Jb\nc", 80), "a [2Jb c");
        assert_eq!(printable("abcdef", 4), "abc…");
    }
}
