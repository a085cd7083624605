//! Fetch evidence: one row per fetch attempt that reached an outcome (requested and final
//! URL, redirect chain, status, selected headers, resolved IP, timing, SHA-256 of the raw
//! body) and the raw bodies themselves, deflate-compressed and stored once per SHA-256.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use crate::{Db, StoreError, now_ms, sha256_hex, with_pool};

/// Outcomes recorded for a fetch. Only `ok` yields documents.
pub mod outcome {
    pub const OK: &str = "ok";
    pub const NOT_FOUND: &str = "not_found";
    pub const HTTP_ERROR: &str = "http_error";
    pub const ROBOTS_DISALLOWED: &str = "robots_disallowed";
    pub const REFUSED: &str = "refused";
    pub const TOO_LARGE: &str = "too_large";
    pub const FAILED: &str = "failed";
    /// A body that is not text: hashed, measured, not stored.
    pub const BINARY: &str = "binary";
}

/// Stores `body` (if not already stored) and returns its SHA-256 in hex.
pub async fn put_blob(db: &Db, body: &[u8]) -> Result<String, StoreError> {
    let sha = sha256_hex(body);
    let mut enc = DeflateEncoder::new(Vec::with_capacity(body.len() / 3), Compression::default());
    enc.write_all(body)
        .and_then(|_| enc.try_finish())
        .map_err(|e| StoreError::Corrupt(format!("compressing body: {e}")))?;
    let data = enc
        .finish()
        .map_err(|e| StoreError::Corrupt(format!("compressing body: {e}")))?;
    with_pool!(db, |p| {
        sqlx::query(
            "INSERT INTO blobs (sha256, size, encoding, data, created_at) VALUES ($1, $2, 'deflate', $3, $4) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha)
        .bind(body.len() as i64)
        .bind(&data)
        .bind(now_ms())
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(sha)
}

/// The raw bytes stored under `sha256`, checked against their hash.
pub async fn get_blob(db: &Db, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let row: Option<(String, Vec<u8>, i64)> = with_pool!(db, |p| {
        sqlx::query_as("SELECT encoding, data, size FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(p)
            .await?
    });
    let Some((encoding, data, size)) = row else {
        return Ok(None);
    };
    if encoding != "deflate" {
        return Err(StoreError::Corrupt(format!(
            "blob {sha256} has unknown encoding {encoding}"
        )));
    }
    let mut out = Vec::with_capacity(size.max(0) as usize);
    DeflateDecoder::new(&data[..])
        .read_to_end(&mut out)
        .map_err(|e| StoreError::Corrupt(format!("blob {sha256}: {e}")))?;
    if sha256_hex(&out) != sha256 {
        return Err(StoreError::Corrupt(format!("blob {sha256} fails its hash")));
    }
    Ok(Some(out))
}

/// Evidence of one fetch, as handed to [`record_fetch`].
#[derive(Debug, Clone, Default)]
pub struct NewFetch {
    pub frontier_id: Option<i64>,
    pub requested_url: String,
    pub final_url: Option<String>,
    /// JSON array of `{url, status}` hops.
    pub redirect_chain: String,
    pub status: Option<i64>,
    pub outcome: String,
    pub error: Option<String>,
    /// JSON object of selected response headers.
    pub headers: String,
    pub resolved_ip: Option<String>,
    pub started_at: i64,
    pub elapsed_ms: i64,
    pub body_sha256: Option<String>,
    pub body_size: Option<i64>,
    pub content_type: Option<String>,
    /// SHA-256 of a binary body's received bytes (the body itself is not stored).
    pub binary_sha256: Option<String>,
    /// 1 when a binary body was cut off at the size cap.
    pub binary_truncated: Option<i64>,
}

/// A stored fetch.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct FetchRow {
    pub id: i64,
    pub frontier_id: Option<i64>,
    pub requested_url: String,
    pub final_url: Option<String>,
    pub redirect_chain: String,
    pub status: Option<i64>,
    pub outcome: String,
    pub error: Option<String>,
    pub headers: String,
    pub resolved_ip: Option<String>,
    pub started_at: i64,
    pub elapsed_ms: i64,
    pub body_sha256: Option<String>,
    pub body_size: Option<i64>,
    pub content_type: Option<String>,
    /// SHA-256 of a binary body's received bytes (the body itself is not stored).
    pub binary_sha256: Option<String>,
    /// 1 when a binary body was cut off at the size cap.
    pub binary_truncated: Option<i64>,
}

const FETCH_COLUMNS: &str = "id, frontier_id, requested_url, final_url, redirect_chain, status, outcome, error, \
     headers, resolved_ip, started_at, elapsed_ms, body_sha256, body_size, content_type, binary_sha256, binary_truncated";

/// Records a fetch; a second record for the same frontier row is ignored and the first
/// one's id returned, with `false` for "not newly inserted".
pub async fn record_fetch(db: &Db, f: &NewFetch) -> Result<(i64, bool), StoreError> {
    let inserted: Option<(i64,)> = with_pool!(db, |p| {
        sqlx::query_as(
            "INSERT INTO fetches (frontier_id, requested_url, final_url, redirect_chain, status, outcome, error, \
             headers, resolved_ip, started_at, elapsed_ms, body_sha256, body_size, content_type, \
             binary_sha256, binary_truncated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (frontier_id) DO NOTHING RETURNING id",
        )
        .bind(f.frontier_id)
        .bind(&f.requested_url)
        .bind(&f.final_url)
        .bind(&f.redirect_chain)
        .bind(f.status)
        .bind(&f.outcome)
        .bind(&f.error)
        .bind(&f.headers)
        .bind(&f.resolved_ip)
        .bind(f.started_at)
        .bind(f.elapsed_ms)
        .bind(&f.body_sha256)
        .bind(f.body_size)
        .bind(&f.content_type)
        .bind(&f.binary_sha256)
        .bind(f.binary_truncated)
        .fetch_optional(p)
        .await?
    });
    if let Some((id,)) = inserted {
        return Ok((id, true));
    }
    let frontier_id = f.frontier_id.ok_or_else(|| {
        StoreError::Corrupt("fetch insert without frontier id returned no row".into())
    })?;
    let existing = fetch_for_frontier(db, frontier_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("fetch for frontier {frontier_id} vanished")))?;
    Ok((existing.id, false))
}

pub async fn fetch_for_frontier(db: &Db, frontier_id: i64) -> Result<Option<FetchRow>, StoreError> {
    let sql = format!("SELECT {FETCH_COLUMNS} FROM fetches WHERE frontier_id = $1");
    Ok(with_pool!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(frontier_id)
            .fetch_optional(p)
            .await?
    }))
}

pub async fn fetch(db: &Db, id: i64) -> Result<Option<FetchRow>, StoreError> {
    let sql = format!("SELECT {FETCH_COLUMNS} FROM fetches WHERE id = $1");
    Ok(with_pool!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(p)
            .await?
    }))
}

/// Requested URL and outcome of every fetch, oldest first.
pub async fn outcomes_by_url(db: &Db) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as("SELECT requested_url, outcome FROM fetches ORDER BY id")
            .fetch_all(p)
            .await?
    }))
}
