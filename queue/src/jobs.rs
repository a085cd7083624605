//! Job payloads, one queue each. They hold row ids only: the row is the truth, the job a
//! pointer to it.

use serde::{Deserialize, Serialize};

/// Fetch the URL of one frontier row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchJob {
    pub frontier_id: i64,
    /// Times the host answered 429/503 with `Retry-After` and the job was put back.
    #[serde(default)]
    pub throttled: u32,
}

/// Turn one fetch's body into document versions and onward links.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtractJob {
    pub fetch_id: i64,
}

/// Score one document version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassifyJob {
    pub version_id: i64,
}

/// Decide from one classification whether its document goes to review.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TriageJob {
    pub classification_id: i64,
}

/// Does nothing; measures the queue itself (`scamsweep bench queue`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoopJob {
    pub n: u64,
}

/// A job type and the queue it lives on.
pub trait Job: Serialize + for<'de> Deserialize<'de> + Send + Sync + Unpin + 'static {
    const QUEUE: &'static str;
    /// Short name used in metrics and logs.
    const KIND: &'static str;
}

impl Job for FetchJob {
    const QUEUE: &'static str = "scamsweep.fetch";
    const KIND: &'static str = "fetch";
}
impl Job for ExtractJob {
    const QUEUE: &'static str = "scamsweep.extract";
    const KIND: &'static str = "extract";
}
impl Job for ClassifyJob {
    const QUEUE: &'static str = "scamsweep.classify";
    const KIND: &'static str = "classify";
}
impl Job for TriageJob {
    const QUEUE: &'static str = "scamsweep.triage";
    const KIND: &'static str = "triage";
}
impl Job for NoopJob {
    const QUEUE: &'static str = "scamsweep.noop";
    const KIND: &'static str = "noop";
}

/// Every pipeline queue, for inspection.
pub const PIPELINE_QUEUES: &[&str] = &[
    FetchJob::QUEUE,
    ExtractJob::QUEUE,
    ClassifyJob::QUEUE,
    TriageJob::QUEUE,
];
