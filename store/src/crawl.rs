//! Crawl bookkeeping: crawls (one per `crawl`/`demo` invocation), the frontier (each URL a
//! crawl decided to fetch, at most once per crawl) and hosts (the cross-process politeness
//! lease and the robots.txt cache).

use crate::{Db, StoreError, now_ms, with_pool};

/// Frontier states: `new` (row written, job not yet pushed), `queued` (fetch job pushed),
/// `done` (fetch recorded, whatever its outcome).
pub mod state {
    pub const NEW: &str = "new";
    pub const QUEUED: &str = "queued";
    pub const DONE: &str = "done";
}

/// Settings a crawl applies to every URL it discovers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Crawl {
    pub id: i64,
    pub source_kind: String,
    pub max_depth: i64,
    pub same_host: i64,
    pub note: Option<String>,
    pub created_at: i64,
}

pub async fn create_crawl(
    db: &Db,
    source_kind: &str,
    max_depth: i64,
    same_host: bool,
    note: Option<&str>,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as(
            "INSERT INTO crawls (source_kind, max_depth, same_host, note, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(source_kind)
        .bind(max_depth)
        .bind(i64::from(same_host))
        .bind(note)
        .bind(now_ms())
        .fetch_one(p)
        .await?
    });
    Ok(id)
}

pub async fn crawl(db: &Db, id: i64) -> Result<Crawl, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, source_kind, max_depth, same_host, note, created_at FROM crawls WHERE id = $1",
        )
        .bind(id)
        .fetch_one(p)
        .await?
    }))
}

/// One frontier row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FrontierEntry {
    pub id: i64,
    pub crawl_id: i64,
    pub url: String,
    pub host: String,
    pub depth: i64,
    pub source_kind: String,
    pub parent_fetch_id: Option<i64>,
    pub state: String,
}

/// A URL to put on a crawl's frontier.
#[derive(Debug, Clone)]
pub struct NewFrontierEntry<'a> {
    pub crawl_id: i64,
    pub url: &'a str,
    pub host: &'a str,
    pub depth: i64,
    pub source_kind: &'a str,
    pub parent_fetch_id: Option<i64>,
}

/// Adds `entry` unless the crawl already has that URL; either way returns the row. A row
/// still in state `new` means its job may never have been pushed (a crash in between), so
/// callers push a job for it again: the fetch handler is idempotent per frontier id.
pub async fn add_to_frontier(
    db: &Db,
    entry: &NewFrontierEntry<'_>,
) -> Result<FrontierEntry, StoreError> {
    let inserted: Option<FrontierEntry> = with_pool!(db, |p| {
        sqlx::query_as(
            "INSERT INTO frontier (crawl_id, url, host, depth, source_kind, parent_fetch_id, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'new', $7) ON CONFLICT (crawl_id, url) DO NOTHING \
             RETURNING id, crawl_id, url, host, depth, source_kind, parent_fetch_id, state",
        )
        .bind(entry.crawl_id)
        .bind(entry.url)
        .bind(entry.host)
        .bind(entry.depth)
        .bind(entry.source_kind)
        .bind(entry.parent_fetch_id)
        .bind(now_ms())
        .fetch_optional(p)
        .await?
    });
    if let Some(row) = inserted {
        return Ok(row);
    }
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, crawl_id, url, host, depth, source_kind, parent_fetch_id, state \
             FROM frontier WHERE crawl_id = $1 AND url = $2",
        )
        .bind(entry.crawl_id)
        .bind(entry.url)
        .fetch_one(p)
        .await?
    }))
}

pub async fn frontier_entry(db: &Db, id: i64) -> Result<Option<FrontierEntry>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, crawl_id, url, host, depth, source_kind, parent_fetch_id, state \
             FROM frontier WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await?
    }))
}

/// Moves a frontier row forward (`new` → `queued` → `done`); never backwards.
pub async fn advance_frontier(db: &Db, id: i64, to: &str) -> Result<(), StoreError> {
    let from: &[&str] = match to {
        state::QUEUED => &[state::NEW],
        _ => &[state::NEW, state::QUEUED],
    };
    with_pool!(db, |p| {
        sqlx::query("UPDATE frontier SET state = $1 WHERE id = $2 AND (state = $3 OR state = $4)")
            .bind(to)
            .bind(id)
            .bind(from[0])
            .bind(from.get(1).copied().unwrap_or(from[0]))
            .execute(p)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Count of frontier rows per state.
pub async fn frontier_counts(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as("SELECT state, COUNT(*) FROM frontier GROUP BY state ORDER BY state")
            .fetch_all(p)
            .await?
    }))
}

/// Robots.txt as cached for a host.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RobotsCache {
    pub robots_status: Option<i64>,
    pub robots_body: Option<Vec<u8>>,
    pub robots_fetched_at: Option<i64>,
}

/// Makes sure `host` has a politeness row.
pub async fn ensure_host(db: &Db, host: &str, crawl_delay_ms: i64) -> Result<(), StoreError> {
    with_pool!(db, |p| {
        sqlx::query(
            "INSERT INTO hosts (host, next_fetch_at, crawl_delay_ms) VALUES ($1, 0, $2) \
             ON CONFLICT (host) DO NOTHING",
        )
        .bind(host)
        .bind(crawl_delay_ms)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Tries to take the host's fetch slot. On success the next slot opens `crawl_delay_ms`
/// from now, for every process sharing the database. On failure returns how many
/// milliseconds to wait before trying again.
pub async fn try_acquire_host(db: &Db, host: &str) -> Result<Result<(), i64>, StoreError> {
    let now = now_ms();
    let done = with_pool!(db, |p| {
        sqlx::query(
            "UPDATE hosts SET next_fetch_at = $1 + crawl_delay_ms \
             WHERE host = $2 AND next_fetch_at <= $3",
        )
        .bind(now)
        .bind(host)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected()
    });
    if done == 1 {
        return Ok(Ok(()));
    }
    let next: Option<(i64,)> = with_pool!(db, |p| {
        sqlx::query_as("SELECT next_fetch_at FROM hosts WHERE host = $1")
            .bind(host)
            .fetch_optional(p)
            .await?
    });
    match next {
        Some((next,)) => Ok(Err((next - now).max(1))),
        None => Err(StoreError::Corrupt(format!(
            "no politeness row for host {host}"
        ))),
    }
}

pub async fn robots(db: &Db, host: &str) -> Result<Option<RobotsCache>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT robots_status, robots_body, robots_fetched_at FROM hosts WHERE host = $1",
        )
        .bind(host)
        .fetch_optional(p)
        .await?
    }))
}

/// Stores a fresh robots.txt answer and, when it asks for one, a longer crawl delay.
pub async fn set_robots(
    db: &Db,
    host: &str,
    status: i64,
    body: &[u8],
    crawl_delay_ms: Option<i64>,
) -> Result<(), StoreError> {
    with_pool!(db, |p| {
        sqlx::query(
            "UPDATE hosts SET robots_status = $1, robots_body = $2, robots_fetched_at = $3, \
             crawl_delay_ms = CASE WHEN $4 > crawl_delay_ms THEN $5 ELSE crawl_delay_ms END \
             WHERE host = $6",
        )
        .bind(status)
        .bind(body)
        .bind(now_ms())
        .bind(crawl_delay_ms.unwrap_or(0))
        .bind(crawl_delay_ms.unwrap_or(0))
        .bind(host)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}
