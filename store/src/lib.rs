//! Storage for scamsweep: one schema, two backends (an SQLite file for the embedded default,
//! PostgreSQL for scale-out).
//!
//! Every query is written once in the SQL subset both engines accept (`$n` placeholders,
//! `RETURNING`, `ON CONFLICT`) and run through [`with_pool!`] on whichever pool the [`Db`]
//! holds; the schemas in `migrations/sqlite` and `migrations/postgres` are kept column for
//! column identical. Times are unix milliseconds, JSON lives in `TEXT` columns.
//!
//! Each pipeline stage owns its module and its tables: [`crawl`] (crawls, frontier, hosts),
//! [`fetches`] (fetch evidence and content-addressed bodies), [`documents`] (documents,
//! versions, classifications), [`audit`] (the hash-chained audit log) and [`stats`].
//! Writers are idempotent: the queue delivers jobs at least once, so every insert is keyed
//! by a natural key and a second delivery finds the row it wrote the first time.

pub mod audit;
pub mod crawl;
pub mod documents;
pub mod evidence;
pub mod fetches;
pub mod sources;
pub mod stats;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// Runs `$body` with `$pool` bound to the concrete pool of a [`Db`]; the body is compiled
/// once per backend, so the same query text serves both.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH (e.g. sqlite://scamsweep.db) or postgres://USER@HOST:PORT/DB"
    )]
    UnsupportedUrl(String),
    #[error("invalid database URL `{url}`: {source}")]
    InvalidUrl { url: String, source: sqlx::Error },
    #[error("cannot open database {url}: {source}{hint}")]
    Connect {
        url: String,
        source: sqlx::Error,
        hint: &'static str,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("gave up after {0} attempts on a contended write")]
    Contended(u32),
}

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool on one of the two supported engines.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Pool settings shared by both backends.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => raw.to_string(),
        // Unparseable: blank out whatever sits between `user:` and `@`.
        Err(_) => {
            let Some(scheme_end) = raw.find("://").map(|i| i + 3) else {
                return raw.to_string();
            };
            let rest = &raw[scheme_end..];
            match (rest.find(':'), rest.rfind('@')) {
                (Some(colon), Some(at)) if colon < at => {
                    format!(
                        "{}{}:***{}",
                        &raw[..scheme_end],
                        &rest[..colon],
                        &rest[at..]
                    )
                }
                _ => raw.to_string(),
            }
        }
    }
}

impl Db {
    /// Opens a pool for `url` (`sqlite://PATH` or `postgres://…`) and checks it answers.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, StoreError> {
        let shown = redact_url(url);
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|source| StoreError::InvalidUrl {
                    url: shown.clone(),
                    source,
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(opts)
                .await
                .map_err(|source| StoreError::Connect {
                    url: shown,
                    source,
                    hint: " (check that the directory exists and is writable)",
                })?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts =
                PgConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl {
                    url: shown.clone(),
                    source,
                })?;
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(opts)
                .await
                .map_err(|source| StoreError::Connect {
                    url: shown,
                    source,
                    hint: " (is PostgreSQL running and reachable, and does the database exist?)",
                })?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(shown))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies scamsweep's own migrations. They are tracked in `_scamsweep_migrations` so
    /// they never collide with the queue's bookkeeping table (apalis-sqlite uses the
    /// default `_sqlx_migrations`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => {
                let mut m = sqlx::migrate!("../migrations/sqlite");
                m.dangerous_set_table_name("_scamsweep_migrations");
                m.run(pool).await?;
            }
            Db::Postgres(pool) => {
                let mut m = sqlx::migrate!("../migrations/postgres");
                m.dangerous_set_table_name("_scamsweep_migrations");
                m.run(pool).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        with_pool!(self, |p| p.close().await)
    }
}

/// Current wall-clock time in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// True when `err` is a unique-constraint violation on either backend.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
