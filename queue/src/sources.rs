//! Sources as their users see them: adding one (validated, audited) and listing them with
//! schedule, health and the last crawl's yield, for the CLI and the HTTP API.

use scamsweep_crawler::source::{SourceSpec, SpecError};
use scamsweep_store::{Db, StoreError, sources};
use serde::Serialize;

/// Why a source could not be added.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A source as listed: identity, schedule, health and the last crawl's yield.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub origin: String,
    pub seeds: Vec<String>,
    pub enabled: bool,
    pub recrawl_minutes: Option<i64>,
    pub next_crawl_at: Option<String>,
    pub last_crawl_id: Option<i64>,
    pub last_crawl_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_failure_at: Option<String>,
    pub last_error: Option<String>,
    pub consecutive_failures: i64,
    pub throttled_until: Option<String>,
    pub cursor: Option<i64>,
    /// Document versions the last crawl wrote.
    pub items_last_run: Option<i64>,
    /// Fetches the last crawl made.
    pub fetches_last_run: Option<i64>,
}

/// UTC RFC 3339 of a unix-millisecond time.
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

pub async fn list(db: &Db) -> Result<Vec<SourceStatus>, StoreError> {
    let mut out = Vec::new();
    for r in sources::list(db).await? {
        let seeds = serde_json::from_str::<SourceSpec>(&r.spec)
            .map(|s| s.seeds.iter().map(|u| u.to_string()).collect())
            .unwrap_or_default();
        let (items, fetches) = match r.last_crawl_id {
            Some(c) => {
                let (i, f) = sources::crawl_yield(db, c).await?;
                (Some(i), Some(f))
            }
            None => (None, None),
        };
        out.push(SourceStatus {
            id: r.id,
            name: r.name,
            kind: r.kind,
            origin: r.origin,
            seeds,
            enabled: r.enabled != 0,
            recrawl_minutes: r.recrawl_secs.map(|s| s / 60),
            next_crawl_at: r.next_crawl_at.map(utc),
            last_crawl_id: r.last_crawl_id,
            last_crawl_at: r.last_crawl_at.map(utc),
            last_success_at: r.last_success_at.map(utc),
            last_failure_at: r.last_failure_at.map(utc),
            last_error: r.last_error,
            consecutive_failures: r.consecutive_failures,
            throttled_until: r.throttled_until.map(utc),
            cursor: r.cursor,
            items_last_run: items,
            fetches_last_run: fetches,
        });
    }
    Ok(out)
}

/// Validates and stores a source; returns its id and whether it is new.
pub async fn add(db: &Db, spec: &SourceSpec, origin: &str) -> Result<(i64, bool), SourceError> {
    spec.validate()?;
    let (id, created) = sources::upsert(
        db,
        &spec.name,
        spec.kind.as_str(),
        &serde_json::to_string(spec).unwrap_or_default(),
        origin,
        spec.recrawl_minutes.map(|m| m as i64 * 60),
    )
    .await?;
    scamsweep_store::audit::append(
        db,
        origin,
        if created {
            "source.added"
        } else {
            "source.updated"
        },
        &format!("source:{id}"),
        &serde_json::to_value(spec).unwrap_or_default(),
    )
    .await?;
    Ok((id, created))
}
