//! Read-only queries behind an evidence bundle: a document, its versions and the fetches
//! those versions were extracted from. Bodies are read with [`crate::fetches::get_blob`],
//! which checks them against their SHA-256.

use crate::{Db, StoreError, with_pool};

/// A document row, as the bundle describes it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DocumentRow {
    pub id: i64,
    pub doc_key: String,
    pub kind: String,
    pub url: String,
    pub status: String,
    pub latest_version_id: Option<i64>,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

/// A version's metadata (its extracted text is left out: the bundle carries the raw body).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct VersionMeta {
    pub id: i64,
    pub version: i64,
    pub fetch_id: i64,
    pub title: Option<String>,
    pub language: Option<String>,
    pub author: Option<String>,
    pub posted_at: Option<i64>,
    pub content_hash: String,
    pub created_at: i64,
}

/// The document with this id, if any.
pub async fn document(db: &Db, id: i64) -> Result<Option<DocumentRow>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, doc_key, kind, url, status, latest_version_id, label, score, first_seen_at, \
             last_seen_at FROM documents WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await?
    }))
}

/// Every version of a document, oldest first.
pub async fn versions(db: &Db, document_id: i64) -> Result<Vec<VersionMeta>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, version, fetch_id, title, language, author, posted_at, content_hash, created_at \
             FROM document_versions WHERE document_id = $1 ORDER BY version",
        )
        .bind(document_id)
        .fetch_all(p)
        .await?
    }))
}

/// What the bundle records of one fetch (its own column list, so columns other modules
/// add to `fetches` do not disturb it).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct EvidenceFetch {
    pub id: i64,
    pub requested_url: String,
    pub final_url: Option<String>,
    /// JSON array of `{url, status}` hops.
    pub redirect_chain: String,
    pub status: Option<i64>,
    pub outcome: String,
    /// JSON object of the response headers kept as evidence.
    pub headers: String,
    pub resolved_ip: Option<String>,
    pub started_at: i64,
    pub elapsed_ms: i64,
    pub body_sha256: Option<String>,
    pub body_size: Option<i64>,
    pub content_type: Option<String>,
}

/// The fetches a document's versions were extracted from, each once, in id order.
pub async fn fetches_for_document(
    db: &Db,
    document_id: i64,
) -> Result<Vec<EvidenceFetch>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, requested_url, final_url, redirect_chain, status, outcome, headers, resolved_ip, \
             started_at, elapsed_ms, body_sha256, body_size, content_type FROM fetches \
             WHERE id IN (SELECT fetch_id FROM document_versions WHERE document_id = $1) ORDER BY id",
        )
        .bind(document_id)
        .fetch_all(p)
        .await?
    }))
}

/// The stored size of the body with this SHA-256, or None when no such body is stored.
/// Cheap (no decompression): for checking a bundle is complete before writing it.
pub async fn blob_size(db: &Db, sha256: &str) -> Result<Option<i64>, StoreError> {
    let row: Option<(i64,)> = with_pool!(db, |p| {
        sqlx::query_as("SELECT size FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(p)
            .await?
    });
    Ok(row.map(|(n,)| n))
}
