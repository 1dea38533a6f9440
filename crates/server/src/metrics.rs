//! Prometheus metrics of the server, exposed as text on `GET /metrics`.
//! Counters are updated by the webhook endpoint and the workers; gauges that
//! live elsewhere (queue depth, GitHub client stats) are sampled at scrape
//! time by the caller of [`Metrics::render`].

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: String,
}

/// Sampled values of state owned elsewhere, set just before rendering.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    /// Deliveries waiting or running.
    pub queue_depth: i64,
    /// GitHub API requests made so far.
    pub github_api_calls: u64,
    /// GitHub's `x-ratelimit-remaining` as last seen, if any.
    pub github_rate_limit_remaining: Option<i64>,
}

/// The server's Prometheus metrics (`paydown_*`), served on `/metrics`.
pub struct Metrics {
    registry: Registry,
    received: Family<EventLabel, Counter>,
    duplicates: Counter,
    rejected: Family<ReasonLabel, Counter>,
    processed: Family<EventLabel, Counter>,
    failed: Family<EventLabel, Counter>,
    dead: Family<EventLabel, Counter>,
    queue_depth: Gauge,
    github_api_calls: Gauge,
    github_rate_limit_remaining: Gauge,
    latency: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// The metrics, all at zero, registered under the `paydown` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("paydown");
        let received = Family::<EventLabel, Counter>::default();
        let duplicates = Counter::default();
        let rejected = Family::<ReasonLabel, Counter>::default();
        let processed = Family::<EventLabel, Counter>::default();
        let failed = Family::<EventLabel, Counter>::default();
        let dead = Family::<EventLabel, Counter>::default();
        let queue_depth = Gauge::default();
        let github_api_calls = Gauge::default();
        let github_rate_limit_remaining = Gauge::default();
        // 1 ms .. ~16 s: webhook handlers range from a ping to a tarball scan.
        let latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "deliveries_received",
            "Webhook deliveries accepted and queued, by event",
            received.clone(),
        );
        registry.register(
            "deliveries_duplicate",
            "Webhook deliveries acknowledged as redeliveries of a known delivery id",
            duplicates.clone(),
        );
        registry.register(
            "deliveries_rejected",
            "Webhook requests rejected, by reason",
            rejected.clone(),
        );
        registry.register(
            "deliveries_processed",
            "Deliveries whose handler succeeded, by event",
            processed.clone(),
        );
        registry.register(
            "deliveries_failed",
            "Handler attempts that failed (the delivery may be retried), by event",
            failed.clone(),
        );
        registry.register(
            "deliveries_dead",
            "Deliveries given up on after their last retry, by event",
            dead.clone(),
        );
        registry.register(
            "queue_depth",
            "Deliveries waiting or in progress",
            queue_depth.clone(),
        );
        registry.register(
            "github_api_calls",
            "GitHub API requests made by this process",
            github_api_calls.clone(),
        );
        registry.register(
            "github_rate_limit_remaining",
            "Last x-ratelimit-remaining seen from GitHub (-1 when unknown)",
            github_rate_limit_remaining.clone(),
        );
        registry.register(
            "processing_seconds",
            "Time from claiming a delivery to finishing its handler",
            latency.clone(),
        );
        Self {
            registry,
            received,
            duplicates,
            rejected,
            processed,
            failed,
            dead,
            queue_depth,
            github_api_calls,
            github_rate_limit_remaining,
            latency,
        }
    }

    fn event(event: &str) -> EventLabel {
        EventLabel {
            event: event.to_owned(),
        }
    }

    /// A delivery was accepted and stored (settled ones too).
    pub fn received(&self, event: &str) {
        self.received.get_or_create(&Self::event(event)).inc();
    }
    /// A redelivery of a known delivery id was acknowledged.
    pub fn duplicate(&self) {
        self.duplicates.inc();
    }
    /// A webhook request was refused, for `reason` (`bad_signature`, `too_large`, …).
    pub fn rejected(&self, reason: &str) {
        self.rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }
    /// A worker finished a delivery of `event` in `seconds`.
    pub fn processed(&self, event: &str, seconds: f64) {
        self.processed.get_or_create(&Self::event(event)).inc();
        self.latency.observe(seconds);
    }
    /// A worker's attempt at a delivery of `event` failed after `seconds` (it will be retried or is dead).
    pub fn failed(&self, event: &str, seconds: f64) {
        self.failed.get_or_create(&Self::event(event)).inc();
        self.latency.observe(seconds);
    }
    /// A delivery of `event` ran out of attempts.
    pub fn dead(&self, event: &str) {
        self.dead.get_or_create(&Self::event(event)).inc();
    }

    /// Prometheus text exposition of all metrics, with `snapshot` applied.
    pub fn render(&self, snapshot: Snapshot) -> String {
        self.queue_depth.set(snapshot.queue_depth);
        self.github_api_calls
            .set(i64::try_from(snapshot.github_api_calls).unwrap_or(i64::MAX));
        self.github_rate_limit_remaining
            .set(snapshot.github_rate_limit_remaining.unwrap_or(-1));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_snapshot_appear_in_text() {
        let m = Metrics::new();
        m.received("ping");
        m.rejected("signature_mismatch");
        m.processed("ping", 0.002);
        m.dead("installation");
        let text = m.render(Snapshot {
            queue_depth: 3,
            github_api_calls: 7,
            github_rate_limit_remaining: Some(4999),
        });
        assert!(
            text.contains("paydown_deliveries_received_total{event=\"ping\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("paydown_deliveries_rejected_total{reason=\"signature_mismatch\"} 1")
        );
        assert!(text.contains("paydown_deliveries_dead_total{event=\"installation\"} 1"));
        assert!(text.contains("paydown_queue_depth 3"));
        assert!(text.contains("paydown_github_rate_limit_remaining 4999"));
        assert!(text.contains("paydown_processing_seconds_count 1"));
        assert!(text.ends_with("# EOF\n"));
    }
}
