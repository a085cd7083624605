//! Sources: what is crawled (a website, a Telegram channel, an app store, a feed, a group
//! page), its spec as JSON, its recrawl schedule, its health (last success, consecutive
//! failures, throttled-until) and, for channels, its cursor. Claiming a due source is a
//! compare-and-set on `next_crawl_at`, so any number of processes can run the scheduler.

use serde::Serialize;

use crate::{Db, StoreError, now_ms, with_pool};

/// One source with its health.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SourceRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub spec: String,
    pub origin: String,
    pub recrawl_secs: Option<i64>,
    pub enabled: i64,
    pub next_crawl_at: Option<i64>,
    pub last_crawl_id: Option<i64>,
    pub last_crawl_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_failure_at: Option<i64>,
    pub last_error: Option<String>,
    pub consecutive_failures: i64,
    pub throttled_until: Option<i64>,
    pub cursor: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, kind, spec, origin, recrawl_secs, enabled, next_crawl_at, last_crawl_id, \
     last_crawl_at, last_success_at, last_failure_at, last_error, consecutive_failures, throttled_until, \
     cursor, created_at, updated_at";

/// Creates a source or, when one of that name exists, replaces its kind, spec and
/// schedule (health and cursor are kept). A source with a recrawl interval is due at once
/// when new. Returns the id and whether it was created.
pub async fn upsert(
    db: &Db,
    name: &str,
    kind: &str,
    spec_json: &str,
    origin: &str,
    recrawl_secs: Option<i64>,
) -> Result<(i64, bool), StoreError> {
    let now = now_ms();
    let existing: Option<(i64,)> = with_pool!(db, |p| {
        sqlx::query_as("SELECT id FROM sources WHERE name = $1")
            .bind(name)
            .fetch_optional(p)
            .await?
    });
    if let Some((id,)) = existing {
        with_pool!(db, |p| {
            sqlx::query(
                "UPDATE sources SET kind = $1, spec = $2, recrawl_secs = $3, updated_at = $4, \
                 next_crawl_at = CASE WHEN $5 IS NULL THEN NULL ELSE COALESCE(next_crawl_at, $6) END \
                 WHERE id = $7",
            )
            .bind(kind)
            .bind(spec_json)
            .bind(recrawl_secs)
            .bind(now)
            .bind(recrawl_secs)
            .bind(now)
            .bind(id)
            .execute(p)
            .await?
            .rows_affected()
        });
        return Ok((id, false));
    }
    let res: Result<(i64,), sqlx::Error> = with_pool!(db, |p| {
        sqlx::query_as(
            "INSERT INTO sources (name, kind, spec, origin, recrawl_secs, next_crawl_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(name)
        .bind(kind)
        .bind(spec_json)
        .bind(origin)
        .bind(recrawl_secs)
        .bind(recrawl_secs.map(|_| now))
        .bind(now)
        .bind(now)
        .fetch_one(p)
        .await
    });
    match res {
        Ok((id,)) => Ok((id, true)),
        // Another process created it in between: update that one.
        Err(e) if crate::is_unique_violation(&e) => {
            Box::pin(upsert(db, name, kind, spec_json, origin, recrawl_secs)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn by_name(db: &Db, name: &str) -> Result<Option<SourceRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM sources WHERE name = $1");
    Ok(with_pool!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(name)
            .fetch_optional(p)
            .await?
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<Option<SourceRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM sources WHERE id = $1");
    Ok(with_pool!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(p)
            .await?
    }))
}

pub async fn list(db: &Db) -> Result<Vec<SourceRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM sources ORDER BY name");
    Ok(with_pool!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(p)
            .await?
    }))
}

/// Enabled sources whose recrawl time has come and that are not throttled.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<SourceRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sources WHERE enabled = 1 AND next_crawl_at IS NOT NULL \
         AND next_crawl_at <= $1 AND (throttled_until IS NULL OR throttled_until <= $2) \
         ORDER BY next_crawl_at LIMIT $3"
    );
    Ok(with_pool!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(now)
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await?
    }))
}

/// Claims a due source for one crawl: moves `next_crawl_at` from the value read to the
/// next slot. Returns false when another process claimed it first.
pub async fn claim(db: &Db, s: &SourceRow, now: i64) -> Result<bool, StoreError> {
    let next = s.recrawl_secs.map(|secs| now + secs * 1000);
    let n = with_pool!(db, |p| {
        sqlx::query("UPDATE sources SET next_crawl_at = $1 WHERE id = $2 AND next_crawl_at = $3")
            .bind(next)
            .bind(s.id)
            .bind(s.next_crawl_at)
            .execute(p)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Makes a source due now (a manual "crawl now").
pub async fn make_due(db: &Db, id: i64) -> Result<(), StoreError> {
    with_pool!(db, |p| {
        sqlx::query("UPDATE sources SET next_crawl_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(p)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Notes the crawl a source just started.
pub async fn started_crawl(db: &Db, id: i64, crawl_id: i64) -> Result<(), StoreError> {
    with_pool!(db, |p| {
        sqlx::query("UPDATE sources SET last_crawl_id = $1, last_crawl_at = $2 WHERE id = $3")
            .bind(crawl_id)
            .bind(now_ms())
            .bind(id)
            .execute(p)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// A fetch for the source succeeded.
pub async fn record_success(db: &Db, id: i64) -> Result<(), StoreError> {
    with_pool!(db, |p| {
        sqlx::query(
            "UPDATE sources SET last_success_at = $1, consecutive_failures = 0 WHERE id = $2",
        )
        .bind(now_ms())
        .bind(id)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// A fetch for the source failed for good.
pub async fn record_failure(db: &Db, id: i64, error: &str) -> Result<(), StoreError> {
    let error: String = error.chars().take(500).collect();
    with_pool!(db, |p| {
        sqlx::query(
            "UPDATE sources SET last_failure_at = $1, last_error = $2, \
             consecutive_failures = consecutive_failures + 1 WHERE id = $3",
        )
        .bind(now_ms())
        .bind(error)
        .bind(id)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The source's site asked us to slow down until `until` (unix ms).
pub async fn throttle(db: &Db, id: i64, until: i64) -> Result<(), StoreError> {
    with_pool!(db, |p| {
        sqlx::query(
            "UPDATE sources SET throttled_until = CASE WHEN throttled_until IS NULL OR throttled_until < $1 \
             THEN $2 ELSE throttled_until END WHERE id = $3",
        )
        .bind(until)
        .bind(until)
        .bind(id)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Raises a channel's cursor to `max_id` (never lowers it).
pub async fn advance_cursor(db: &Db, id: i64, max_id: i64) -> Result<(), StoreError> {
    with_pool!(db, |p| {
        sqlx::query(
            "UPDATE sources SET cursor = $1 WHERE id = $2 AND (cursor IS NULL OR cursor < $3)",
        )
        .bind(max_id)
        .bind(id)
        .bind(max_id)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Versions written by one crawl (items found), and its fetches.
pub async fn crawl_yield(db: &Db, crawl_id: i64) -> Result<(i64, i64), StoreError> {
    let (items,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT COUNT(*) FROM document_versions v JOIN fetches f ON f.id = v.fetch_id \
             JOIN frontier fr ON fr.id = f.frontier_id WHERE fr.crawl_id = $1",
        )
        .bind(crawl_id)
        .fetch_one(p)
        .await?
    });
    let (fetches,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT COUNT(*) FROM fetches f JOIN frontier fr ON fr.id = f.frontier_id WHERE fr.crawl_id = $1",
        )
        .bind(crawl_id)
        .fetch_one(p)
        .await?
    });
    Ok((items, fetches))
}
