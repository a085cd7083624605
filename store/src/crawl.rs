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
    /// The source this crawl serves, when it was started for one.
    pub source_id: Option<i64>,
    /// The source's cursor when the crawl started (Telegram: newest id already seen).
    pub cursor_floor: Option<i64>,
    /// The source spec (JSON) the crawl runs under.
    pub spec: Option<String>,
}

/// A crawl to create.
#[derive(Debug, Clone, Default)]
pub struct NewCrawl<'a> {
    pub source_kind: &'a str,
    pub max_depth: i64,
    pub same_host: bool,
    pub note: Option<&'a str>,
    pub source_id: Option<i64>,
    pub cursor_floor: Option<i64>,
    pub spec: Option<&'a str>,
}

pub async fn create_crawl(db: &Db, c: &NewCrawl<'_>) -> Result<i64, StoreError> {
    let (id,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as(
            "INSERT INTO crawls (source_kind, max_depth, same_host, note, created_at, source_id, cursor_floor, spec) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(c.source_kind)
        .bind(c.max_depth)
        .bind(i64::from(c.same_host))
        .bind(c.note)
        .bind(now_ms())
        .bind(c.source_id)
        .bind(c.cursor_floor)
        .bind(c.spec)
        .fetch_one(p)
        .await?
    });
    Ok(id)
}

pub async fn crawl(db: &Db, id: i64) -> Result<Crawl, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT id, source_kind, max_depth, same_host, note, created_at, source_id, cursor_floor, spec \
             FROM crawls WHERE id = $1",
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
    /// The URL without its query (see `canon::path_key`), for the query-variant budget.
    pub path_key: &'a str,
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
            "INSERT INTO frontier (crawl_id, url, host, depth, source_kind, parent_fetch_id, state, created_at, path_key) \
             VALUES ($1, $2, $3, $4, $5, $6, 'new', $7, $8) ON CONFLICT (crawl_id, url) DO NOTHING \
             RETURNING id, crawl_id, url, host, depth, source_kind, parent_fetch_id, state",
        )
        .bind(entry.crawl_id)
        .bind(entry.url)
        .bind(entry.host)
        .bind(entry.depth)
        .bind(entry.source_kind)
        .bind(entry.parent_fetch_id)
        .bind(now_ms())
        .bind(entry.path_key)
        .fetch_optional(p)
        .await?
    });
    if let Some(row) = inserted {
        count_frontier_row(db, entry.crawl_id, entry.host).await?;
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

/// Makes sure `host` has a politeness row and `concurrency` fetch slots.
pub async fn ensure_host(
    db: &Db,
    host: &str,
    crawl_delay_ms: i64,
    concurrency: i64,
) -> Result<(), StoreError> {
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
    let (have,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as("SELECT COUNT(*) FROM host_slots WHERE host = $1")
            .bind(host)
            .fetch_one(p)
            .await?
    });
    for slot in have..concurrency.max(1) {
        with_pool!(db, |p| {
            sqlx::query(
                "INSERT INTO host_slots (host, slot, busy_until) VALUES ($1, $2, 0) \
                 ON CONFLICT (host, slot) DO NOTHING",
            )
            .bind(host)
            .bind(slot)
            .execute(p)
            .await?
            .rows_affected()
        });
    }
    Ok(())
}

/// A fetch slot held on a host; give it back with [`release_host`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSlot {
    pub host: String,
    pub slot: i64,
}

/// Tries to start a fetch on `host`, for every process sharing the database: the host's
/// delay since its last fetch must have passed and one of its concurrency slots must be
/// free. The slot is leased for `lease_ms` (a crashed worker's slot frees itself). On
/// failure returns how many milliseconds to wait before trying again.
pub async fn try_acquire_host(
    db: &Db,
    host: &str,
    lease_ms: i64,
) -> Result<Result<HostSlot, i64>, StoreError> {
    let now = now_ms();
    let free: Option<(i64,)> = with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT slot FROM host_slots WHERE host = $1 AND busy_until <= $2 ORDER BY slot LIMIT 1",
        )
        .bind(host)
        .bind(now)
        .fetch_optional(p)
        .await?
    });
    let Some((slot,)) = free else {
        let (soonest,): (Option<i64>,) = with_pool!(db, |p| {
            sqlx::query_as("SELECT MIN(busy_until) FROM host_slots WHERE host = $1")
                .bind(host)
                .fetch_one(p)
                .await?
        });
        let Some(soonest) = soonest else {
            return Err(StoreError::Corrupt(format!(
                "no fetch slots for host {host}"
            )));
        };
        // Slots are normally released well before their lease ends; poll, don't sleep it out.
        return Ok(Err((soonest - now).clamp(1, 250)));
    };
    let gate = with_pool!(db, |p| {
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
    if gate != 1 {
        let next: Option<(i64,)> = with_pool!(db, |p| {
            sqlx::query_as("SELECT next_fetch_at FROM hosts WHERE host = $1")
                .bind(host)
                .fetch_optional(p)
                .await?
        });
        return match next {
            Some((next,)) => Ok(Err((next - now).max(1))),
            None => Err(StoreError::Corrupt(format!(
                "no politeness row for host {host}"
            ))),
        };
    }
    let took = with_pool!(db, |p| {
        sqlx::query(
            "UPDATE host_slots SET busy_until = $1 WHERE host = $2 AND slot = $3 AND busy_until <= $4",
        )
        .bind(now + lease_ms)
        .bind(host)
        .bind(slot)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected()
    });
    if took != 1 {
        return Ok(Err(1)); // another process took that slot in between
    }
    Ok(Ok(HostSlot {
        host: host.to_string(),
        slot,
    }))
}

/// Ends a fetch: frees the slot and starts the host's delay from now.
pub async fn release_host(db: &Db, slot: &HostSlot) -> Result<(), StoreError> {
    let now = now_ms();
    with_pool!(db, |p| {
        sqlx::query("UPDATE host_slots SET busy_until = 0 WHERE host = $1 AND slot = $2")
            .bind(&slot.host)
            .bind(slot.slot)
            .execute(p)
            .await?
            .rows_affected()
    });
    with_pool!(db, |p| {
        sqlx::query(
            "UPDATE hosts SET next_fetch_at = CASE WHEN next_fetch_at < $1 + crawl_delay_ms \
             THEN $2 + crawl_delay_ms ELSE next_fetch_at END WHERE host = $3",
        )
        .bind(now)
        .bind(now)
        .bind(&slot.host)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The host asked us to wait (`429`/`503` with `Retry-After`): no fetch before `until`.
pub async fn hold_host(db: &Db, host: &str, until: i64) -> Result<(), StoreError> {
    with_pool!(db, |p| {
        sqlx::query(
            "UPDATE hosts SET next_fetch_at = CASE WHEN next_fetch_at < $1 THEN $2 ELSE next_fetch_at END \
             WHERE host = $3",
        )
        .bind(until)
        .bind(until)
        .bind(host)
        .execute(p)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Frontier rows of a crawl, in all and on one host (the page and host budgets).
pub async fn frontier_size(db: &Db, crawl_id: i64, host: &str) -> Result<(i64, i64), StoreError> {
    let rows: Vec<(String, i64)> = with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT scope, n FROM crawl_counts WHERE crawl_id = $1 AND (scope = '' OR scope = $2)",
        )
        .bind(crawl_id)
        .bind(host)
        .fetch_all(p)
        .await?
    });
    let get = |k: &str| rows.iter().find(|(s, _)| s == k).map_or(0, |(_, n)| *n);
    Ok((get(""), get(host)))
}

/// Counts one new frontier row of `crawl_id` on `host`.
async fn count_frontier_row(db: &Db, crawl_id: i64, host: &str) -> Result<(), StoreError> {
    for scope in ["", host] {
        with_pool!(db, |p| {
            sqlx::query(
                "INSERT INTO crawl_counts (crawl_id, scope, n) VALUES ($1, $2, 1) \
                 ON CONFLICT (crawl_id, scope) DO UPDATE SET n = crawl_counts.n + 1",
            )
            .bind(crawl_id)
            .bind(scope)
            .execute(p)
            .await?
            .rows_affected()
        });
    }
    Ok(())
}

/// Frontier rows of a crawl under one path, differing only in their query.
pub async fn query_variants(db: &Db, crawl_id: i64, path_key: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = with_pool!(db, |p| {
        sqlx::query_as("SELECT COUNT(*) FROM frontier WHERE crawl_id = $1 AND path_key = $2")
            .bind(crawl_id)
            .bind(path_key)
            .fetch_one(p)
            .await?
    });
    Ok(n)
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

/// One fetch of a crawl, as reported after `crawl --once`.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CrawlFetch {
    pub fetch_id: i64,
    pub url: String,
    pub final_url: Option<String>,
    pub status: Option<i64>,
    pub outcome: String,
    pub error: Option<String>,
    pub resolved_ip: Option<String>,
}

/// The fetches of a crawl in frontier order (at most `limit`).
pub async fn crawl_fetches(
    db: &Db,
    crawl_id: i64,
    limit: i64,
) -> Result<Vec<CrawlFetch>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT f.id AS fetch_id, fr.url, f.final_url, f.status, f.outcome, f.error, f.resolved_ip \
             FROM frontier fr JOIN fetches f ON f.frontier_id = fr.id \
             WHERE fr.crawl_id = $1 ORDER BY fr.id LIMIT $2",
        )
        .bind(crawl_id)
        .bind(limit)
        .fetch_all(p)
        .await?
    }))
}

/// Fetch outcomes of a crawl with their counts.
pub async fn crawl_outcomes(db: &Db, crawl_id: i64) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
            "SELECT f.outcome, COUNT(*) FROM frontier fr JOIN fetches f ON f.frontier_id = fr.id \
             WHERE fr.crawl_id = $1 GROUP BY f.outcome ORDER BY f.outcome",
        )
        .bind(crawl_id)
        .fetch_all(p)
        .await?
    }))
}
