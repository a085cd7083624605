//! Documents (the items fetches yield: a web page, a Telegram message, an app listing),
//! their versions (one per distinct content hash) and the classifications of each version.
//!
//! Document status moves `new` → `scored` | `flagged` → `confirmed` | `rejected`; the
//! pipeline only ever moves it forward, so re-delivered jobs cannot undo a review.

use crate::{Db, StoreError, is_unique_violation, now_ms, with_pool};

pub mod status {
    pub const NEW: &str = "new";
    pub const SCORED: &str = "scored";
    pub const FLAGGED: &str = "flagged";
    pub const CONFIRMED: &str = "confirmed";
    pub const REJECTED: &str = "rejected";
    pub const ALL: &[&str] = &[NEW, SCORED, FLAGGED, CONFIRMED, REJECTED];
}

/// Finds or creates the document with this identity and returns its id.
pub async fn upsert_document(
    db: &Db,
    doc_key: &str,
    kind: &str,
    url: &str,
) -> Result<i64, StoreError> {
    let now = now_ms();
    let (id,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as(
            "INSERT INTO documents (doc_key, kind, url, status, first_seen_at, last_seen_at) \
             VALUES ($1, $2, $3, 'new', $4, $5) \
             ON CONFLICT (doc_key) DO UPDATE SET last_seen_at = excluded.last_seen_at RETURNING id",
        )
        .bind(doc_key)
        .bind(kind)
        .bind(url)
        .bind(now)
        .bind(now)
        .fetch_one(p)
        .await?
    });
    Ok(id)
}

/// Content of one version of a document.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    pub fetch_id: i64,
    pub title: Option<&'a str>,
    pub body_text: &'a str,
    pub language: Option<&'a str>,
    pub author: Option<&'a str>,
    pub posted_at: Option<i64>,
    pub content_hash: &'a str,
    /// JSON object of source-specific fields (forms, views, app permissions...).
    pub meta: &'a str,
}

/// What [`add_version`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionOutcome {
    pub version_id: i64,
    pub version: i64,
    /// False when a version with this content hash already existed.
    pub is_new: bool,
}

/// Records `v` as the next version of `document_id` unless the same content is already
/// recorded. Safe under concurrent writers: the unique keys on (document, version) and
/// (document, content hash) decide, and the loser re-reads.
pub async fn add_version(
    db: &Db,
    document_id: i64,
    v: &NewVersion<'_>,
) -> Result<VersionOutcome, StoreError> {
    const ATTEMPTS: u32 = 20;
    for _ in 0..ATTEMPTS {
        let existing: Option<(i64, i64)> = with_pool!(db, |p| {
            sqlx::query_as(
                "SELECT id, version FROM document_versions WHERE document_id = $1 AND content_hash = $2",
            )
            .bind(document_id)
            .bind(v.content_hash)
            .fetch_optional(p)
            .await?
        });
        if let Some((version_id, version)) = existing {
            return Ok(VersionOutcome {
                version_id,
                version,
                is_new: false,
            });
        }
        let (next,): (i64,) = with_pool!(db, |p| {
            sqlx::query_as(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM document_versions WHERE document_id = $1",
            )
            .bind(document_id)
            .fetch_one(p)
            .await?
        });
        let res: Result<(i64,), sqlx::Error> = with_pool!(db, |p| {
            sqlx::query_as(
                "INSERT INTO document_versions (document_id, version, fetch_id, title, body_text, language, \
                 author, posted_at, content_hash, created_at, meta) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(document_id)
            .bind(next)
            .bind(v.fetch_id)
            .bind(v.title)
            .bind(v.body_text)
            .bind(v.language)
            .bind(v.author)
            .bind(v.posted_at)
            .bind(v.content_hash)
            .bind(now_ms())
            .bind(v.meta)
            .fetch_one(p)
            .await
        });
        match res {
            Ok((version_id,)) => {
                with_pool!(db, |p| {
                    sqlx::query(
                        "UPDATE documents SET latest_version_id = $1 WHERE id = $2 \
                         AND (latest_version_id IS NULL OR latest_version_id < $3)",
                    )
                    .bind(version_id)
                    .bind(document_id)
                    .bind(version_id)
                    .execute(p)
                    .await?
                    .rows_affected()
                });
                return Ok(VersionOutcome {
                    version_id,
                    version: next,
                    is_new: true,
                });
            }
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Contended(ATTEMPTS))
}

/// A stored version.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct VersionRow {
    pub id: i64,
    pub document_id: i64,
    pub version: i64,
    pub fetch_id: i64,
    pub title: Option<String>,
    pub body_text: String,
    pub language: Option<String>,
    pub author: Option<String>,
    pub posted_at: Option<i64>,
    pub content_hash: String,
    pub created_at: i64,
    pub meta: String,
}

pub async fn version(db: &Db, id: i64) -> Result<Option<VersionRow>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, document_id, version, fetch_id, title, body_text, language, author, posted_at, \
             content_hash, created_at, meta FROM document_versions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await?
    }))
}

/// A classifier's verdict on one version, as handed to [`record_classification`].
#[derive(Debug, Clone)]
pub struct NewClassification<'a> {
    pub version_id: i64,
    pub model_name: &'a str,
    pub model_version: &'a str,
    pub label: &'a str,
    pub score: f64,
    /// JSON object label → probability.
    pub probabilities: &'a str,
    /// JSON array of the phrases that drove the score.
    pub explanation: &'a str,
}

/// A stored classification.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ClassificationRow {
    pub id: i64,
    pub version_id: i64,
    pub model_name: String,
    pub model_version: String,
    pub label: String,
    pub score: f64,
    pub probabilities: String,
    pub explanation: String,
    pub created_at: i64,
}

/// Records a classification once per (version, model name, model version); a repeat
/// returns the first one's id.
pub async fn record_classification(db: &Db, c: &NewClassification<'_>) -> Result<i64, StoreError> {
    let inserted: Option<(i64,)> = with_pool!(db, |p| {
        sqlx::query_as(
            "INSERT INTO classifications (version_id, model_name, model_version, label, score, probabilities, \
             explanation, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (version_id, model_name, model_version) DO NOTHING RETURNING id",
        )
        .bind(c.version_id)
        .bind(c.model_name)
        .bind(c.model_version)
        .bind(c.label)
        .bind(c.score)
        .bind(c.probabilities)
        .bind(c.explanation)
        .bind(now_ms())
        .fetch_optional(p)
        .await?
    });
    if let Some((id,)) = inserted {
        return Ok(id);
    }
    let (id,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id FROM classifications WHERE version_id = $1 AND model_name = $2 AND model_version = $3",
        )
        .bind(c.version_id)
        .bind(c.model_name)
        .bind(c.model_version)
        .fetch_one(p)
        .await?
    });
    Ok(id)
}

pub async fn classification(db: &Db, id: i64) -> Result<Option<ClassificationRow>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, version_id, model_name, model_version, label, score, probabilities, explanation, \
             created_at FROM classifications WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await?
    }))
}

/// Applies a triage verdict to a document. Returns true when the status changed. Status
/// only moves forward: `new` → `scored`/`flagged`, `scored` → `flagged`; reviewed documents
/// (`confirmed`, `rejected`) and already-flagged ones are left alone.
pub async fn apply_verdict(
    db: &Db,
    document_id: i64,
    flagged: bool,
    label: &str,
    score: f64,
) -> Result<bool, StoreError> {
    let (to, from_a, from_b) = if flagged {
        (status::FLAGGED, status::NEW, status::SCORED)
    } else {
        (status::SCORED, status::NEW, status::NEW)
    };
    let changed = with_pool!(db, |p| {
        sqlx::query(
            "UPDATE documents SET status = $1, label = $2, score = $3 \
             WHERE id = $4 AND (status = $5 OR status = $6)",
        )
        .bind(to)
        .bind(label)
        .bind(score)
        .bind(document_id)
        .bind(from_a)
        .bind(from_b)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(changed == 1)
}

/// A document as listed by the API.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct DocumentSummary {
    pub id: i64,
    pub kind: String,
    pub url: String,
    pub status: String,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub title: Option<String>,
    pub version: Option<i64>,
    pub author: Option<String>,
    pub excerpt: Option<String>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

/// One page of documents, optionally of one status, in id order after `after_id`.
pub async fn list_documents(
    db: &Db,
    status: Option<&str>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<DocumentSummary>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT d.id, d.kind, d.url, d.status, d.label, d.score, v.title, v.version, v.author, \
             SUBSTR(v.body_text, 1, 280) AS excerpt, d.first_seen_at, d.last_seen_at \
             FROM documents d LEFT JOIN document_versions v ON v.id = d.latest_version_id \
             WHERE d.id > $1 AND ($2 = '' OR d.status = $3) ORDER BY d.id LIMIT $4",
        )
        .bind(after_id)
        .bind(status.unwrap_or(""))
        .bind(status.unwrap_or(""))
        .bind(limit)
        .fetch_all(p)
        .await?
    }))
}

/// Number of versions recorded for the document with this key (0 when unknown).
pub async fn version_count(db: &Db, doc_key: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT COUNT(v.id) FROM documents d JOIN document_versions v ON v.document_id = d.id \
             WHERE d.doc_key = $1",
        )
        .bind(doc_key)
        .fetch_one(p)
        .await?
    });
    Ok(n)
}

/// Every document's key and kind (for coverage checks against a ground truth).
/// Every document's key, status and label (the latest verdict), for checks against a
/// labelled ground truth.
pub async fn verdicts(db: &Db) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as("SELECT doc_key, status, label FROM documents ORDER BY id")
            .fetch_all(p)
            .await?
    }))
}

pub async fn doc_keys(db: &Db) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as("SELECT doc_key, kind FROM documents ORDER BY id")
            .fetch_all(p)
            .await?
    }))
}
