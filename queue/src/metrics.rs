//! Prometheus metrics of this process: jobs processed and failed per kind, fetch latency,
//! and (filled in at scrape time from the database) queue depth per queue and state.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DepthLabel {
    pub queue: String,
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

/// The metrics one process exports.
#[derive(Debug)]
pub struct Metrics {
    pub jobs_processed: Family<KindLabel, Counter>,
    pub jobs_failed: Family<KindLabel, Counter>,
    pub fetches: Family<OutcomeLabel, Counter>,
    pub fetch_latency: Histogram,
    pub queue_depth: Family<DepthLabel, Gauge>,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let jobs_processed = Family::<KindLabel, Counter>::default();
        let jobs_failed = Family::<KindLabel, Counter>::default();
        let fetches = Family::<OutcomeLabel, Counter>::default();
        let fetch_latency = Histogram::new([
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ]);
        let queue_depth = Family::<DepthLabel, Gauge>::default();
        let mut registry = Registry::with_prefix("scamsweep");
        registry.register(
            "jobs_processed",
            "Jobs whose handler finished, per kind",
            jobs_processed.clone(),
        );
        registry.register(
            "jobs_failed",
            "Handler runs that returned an error (each retry counts), per kind",
            jobs_failed.clone(),
        );
        registry.register("fetches", "Fetches recorded, per outcome", fetches.clone());
        registry.register(
            "fetch_latency_seconds",
            "Time from request to last body byte, redirects included",
            fetch_latency.clone(),
        );
        registry.register(
            "queue_depth",
            "Jobs in the shared queue per queue and state, read from the database at scrape time",
            queue_depth.clone(),
        );
        Self {
            jobs_processed,
            jobs_failed,
            fetches,
            fetch_latency,
            queue_depth,
            registry,
        }
    }

    pub fn processed(&self, kind: &str) {
        self.jobs_processed
            .get_or_create(&KindLabel { kind: kind.into() })
            .inc();
    }

    pub fn failed(&self, kind: &str) {
        self.jobs_failed
            .get_or_create(&KindLabel { kind: kind.into() })
            .inc();
    }

    /// The registry in Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
