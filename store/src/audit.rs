//! The append-only audit log: every row carries the hash of the row before it, so an edit
//! or a deletion anywhere but the tail breaks the chain, and [`verify`] finds it. The head
//! (last seq and hash) is returned by [`verify`] so it can be published elsewhere, which is
//! what makes truncating the tail detectable too.

use sha2::{Digest, Sha256};

use crate::{Db, StoreError, is_unique_violation, now_ms, with_pool};

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit row.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a row's content chained to `prev_hash`. Fields are length-prefixed so no
/// choice of field contents can make two different rows hash alike.
pub fn row_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    let seq_s = seq.to_string();
    let at_s = at.to_string();
    for field in [prev_hash, &seq_s, &at_s, actor, action, subject, detail] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends one event and returns its sequence number. Concurrent appenders race for the
/// next `seq`; the loser re-reads the head and tries again.
pub async fn append(
    db: &Db,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<i64, StoreError> {
    let detail = detail.to_string();
    const ATTEMPTS: u32 = 50;
    for attempt in 0..ATTEMPTS {
        let head: Option<(i64, String)> = with_pool!(db, |p| {
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(p)
                .await?
        });
        let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_string()));
        let seq = prev_seq + 1;
        let at = now_ms();
        let hash = row_hash(&prev_hash, seq, at, actor, action, subject, &detail);
        let res = with_pool!(db, |p| {
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(seq)
            .bind(at)
            .bind(actor)
            .bind(action)
            .bind(subject)
            .bind(&detail)
            .bind(&prev_hash)
            .bind(&hash)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        });
        match res {
            Ok(_) => return Ok(seq),
            Err(e) if is_unique_violation(&e) => {
                tokio::time::sleep(std::time::Duration::from_millis(1 + u64::from(attempt % 7)))
                    .await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Contended(ATTEMPTS))
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Result of checking the whole chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub rows: u64,
    pub head_seq: i64,
    pub head_hash: String,
    pub first_break: Option<ChainBreak>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Walks the log in order, recomputing every hash, checking every link and that no
/// sequence number is missing. Reads in pages so a long log needs little memory.
pub async fn verify(db: &Db) -> Result<Verification, StoreError> {
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_string();
    let mut rows = 0u64;
    const PAGE: i64 = 1000;
    loop {
        let page: Vec<AuditRow> = with_pool!(db, |p| {
            sqlx::query_as(
                "SELECT seq, at, actor, action, subject, detail, prev_hash, hash \
                 FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
            )
            .bind(expected_seq)
            .bind(PAGE)
            .fetch_all(p)
            .await?
        });
        if page.is_empty() {
            break;
        }
        for row in &page {
            let broken = |reason: String| {
                Ok(Verification {
                    rows,
                    head_seq: expected_seq - 1,
                    head_hash: prev_hash.clone(),
                    first_break: Some(ChainBreak {
                        seq: row.seq,
                        reason,
                    }),
                })
            };
            if row.seq != expected_seq {
                return broken(format!(
                    "row {} is missing (next row present is {})",
                    expected_seq, row.seq
                ));
            }
            if row.prev_hash != prev_hash {
                return broken("prev_hash does not match the hash of the row before".into());
            }
            let recomputed = row_hash(
                &row.prev_hash,
                row.seq,
                row.at,
                &row.actor,
                &row.action,
                &row.subject,
                &row.detail,
            );
            if recomputed != row.hash {
                return broken("row content does not match its hash (edited)".into());
            }
            prev_hash = row.hash.clone();
            expected_seq += 1;
            rows += 1;
        }
    }
    Ok(Verification {
        rows,
        head_seq: expected_seq - 1,
        head_hash: prev_hash,
        first_break: None,
    })
}

/// The most recent rows, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT seq, at, actor, action, subject, detail, prev_hash, hash \
             FROM audit_log ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(p)
        .await?
    }))
}
