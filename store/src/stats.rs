//! Counts across the pipeline's own tables, for `scamsweep stats` and `/metrics`.

use std::collections::BTreeMap;

use crate::{Db, StoreError, with_pool};

/// What the pipeline has produced so far.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PipelineCounts {
    pub fetches: i64,
    pub fetches_by_outcome: BTreeMap<String, i64>,
    pub documents: i64,
    pub document_versions: i64,
    pub documents_by_status: BTreeMap<String, i64>,
    pub classified: i64,
    pub flagged: i64,
    pub confirmed: i64,
    pub tickets_by_state: BTreeMap<String, i64>,
    pub audit_rows: i64,
}

async fn grouped(db: &Db, sql: &'static str) -> Result<BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = with_pool!(db, |p| sqlx::query_as(sql).fetch_all(p).await?);
    Ok(rows.into_iter().collect())
}

async fn count(db: &Db, sql: &'static str) -> Result<i64, StoreError> {
    let (n,): (i64,) = with_pool!(db, |p| sqlx::query_as(sql).fetch_one(p).await?);
    Ok(n)
}

pub async fn pipeline_counts(db: &Db) -> Result<PipelineCounts, StoreError> {
    let fetches_by_outcome =
        grouped(db, "SELECT outcome, COUNT(*) FROM fetches GROUP BY outcome").await?;
    let documents_by_status =
        grouped(db, "SELECT status, COUNT(*) FROM documents GROUP BY status").await?;
    let get = |m: &BTreeMap<String, i64>, k: &str| m.get(k).copied().unwrap_or(0);
    // Documents that reached review count as flagged even after a decision.
    let flagged = get(&documents_by_status, "flagged")
        + get(&documents_by_status, "confirmed")
        + get(&documents_by_status, "rejected");
    Ok(PipelineCounts {
        fetches: fetches_by_outcome.values().sum(),
        documents: documents_by_status.values().sum(),
        document_versions: count(db, "SELECT COUNT(*) FROM document_versions").await?,
        classified: count(db, "SELECT COUNT(DISTINCT version_id) FROM classifications").await?,
        flagged,
        confirmed: get(&documents_by_status, "confirmed"),
        tickets_by_state: grouped(db, "SELECT state, COUNT(*) FROM tickets GROUP BY state").await?,
        audit_rows: count(db, "SELECT COUNT(*) FROM audit_log").await?,
        fetches_by_outcome,
        documents_by_status,
    })
}
