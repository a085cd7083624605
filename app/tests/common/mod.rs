//! Test support: a fresh database per test on either backend, and a test configuration.
//!
//! PostgreSQL tests use `SCAMSWEEP_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`)
//! to create a database of their own. Under `CI=true` an unreachable server fails the test;
//! elsewhere the test is skipped with a loud message.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use scamsweep::config::Config;
use scamsweep_store::{Db, PoolSettings, with_pool};

pub fn pg_admin_url() -> String {
    std::env::var("SCAMSWEEP_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(tag: &str) -> String {
    format!(
        "{tag}_{}_{}_{}",
        std::process::id(),
        scamsweep_store::now_ms(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A fresh SQLite file URL in a temp dir.
pub fn sqlite_url(tag: &str) -> String {
    let dir = std::env::temp_dir().join("scamsweep-tests");
    std::fs::create_dir_all(&dir).unwrap();
    format!(
        "sqlite://{}",
        dir.join(format!("{}.db", unique(tag))).display()
    )
}

/// A fresh PostgreSQL database URL, or None (skip) when no server is reachable outside CI.
pub async fn pg_url(tag: &str) -> Option<String> {
    let admin_url = pg_admin_url();
    let admin = match Db::connect(
        &admin_url,
        &PoolSettings {
            max_connections: 2,
            acquire_timeout: std::time::Duration::from_secs(5),
        },
    )
    .await
    {
        Ok(db) => db,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required in CI but unreachable at {admin_url}: {e}");
            }
            eprintln!("\n!!! SKIPPING PostgreSQL test `{tag}`: {admin_url} unreachable: {e}\n");
            return None;
        }
    };
    let name = unique(&format!("scamsweep_t_{tag}")).to_lowercase();
    with_pool!(&admin, |p| sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name}"
    )))
    .execute(p)
    .await
    .map(|_| ()))
    .expect("create test database");
    admin.close().await;
    let mut u = url::Url::parse(&admin_url).unwrap();
    u.set_path(&format!("/{name}"));
    Some(u.to_string())
}

/// A configuration for tests: the sandbox is on loopback, politeness delays are short.
pub fn test_config(database: &str) -> Config {
    let mut cfg = Config {
        database: database.to_string(),
        ..Config::default()
    };
    cfg.crawler.allow_networks = vec!["127.0.0.1/32".parse().unwrap()];
    cfg.crawler.default_crawl_delay_ms = 0;
    cfg.crawler.host_concurrency = 8;
    cfg.crawler.max_crawl_delay_ms = 200;
    cfg.crawler.total_timeout_secs = 5;
    cfg.queue.poll_interval_ms = 50;
    cfg.workers.backoff_min_ms = 50;
    cfg.workers.backoff_max_ms = 200;
    cfg
}

/// Runs an async test body against SQLite and against PostgreSQL, as two tests.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let url = $crate::common::sqlite_url(stringify!($name));
                super::$body(url).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(url) = $crate::common::pg_url(stringify!($name)).await {
                    super::$body(url).await;
                }
            }
        }
    };
}

/// An ad-hoc source spec of `kind` for `seeds`, following links `depth` deep on the
/// seed's host.
#[allow(dead_code)]
pub fn spec(kind: &str, seeds: &[&str], depth: i64) -> scamsweep_crawler::source::SourceSpec {
    let kind: scamsweep_crawler::source::SourceKind = kind.parse().unwrap();
    let mut scope = kind.default_scope();
    scope.max_depth = depth;
    scamsweep_crawler::source::SourceSpec {
        name: format!("test/{}", seeds[0]),
        kind,
        seeds: seeds.iter().map(|s| url::Url::parse(s).unwrap()).collect(),
        scope: Some(scope),
        recrawl_minutes: None,
        selectors: None,
        ignore_robots: false,
        robots_override_reason: None,
    }
}
