//! [`Queue`]: one handle over the apalis SQLite and PostgreSQL backends, for pushing jobs,
//! reading queue depth and running migrations. Jobs are pushed one at a time without
//! apalis idempotency keys (whose duplicate handling differs between the backends,
//! stack-notes G3): deduplication is done by the pipeline's own unique keys instead.

use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use scamsweep_store::{Db, StoreError, with_pool};

use crate::jobs::Job;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("cannot push {kind} job: {message}")]
    Push { kind: &'static str, message: String },
    #[error("queue migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("queue database error: {0}")]
    Sqlx(#[from] sqlx::Error),
}

/// Queue tuning shared by producers and workers.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// How often an idle worker looks for new jobs.
    pub poll_interval: Duration,
    /// How often a worker reports it is alive.
    pub heartbeat: Duration,
    /// Heartbeats a worker may miss before its claimed jobs are handed to others.
    pub missed_heartbeats: usize,
    /// Jobs a worker claims per poll.
    pub batch_size: usize,
    /// Outer bound on deliveries of a job that keeps failing.
    pub max_attempts: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(200),
            heartbeat: Duration::from_secs(10),
            missed_heartbeats: 3,
            batch_size: 4,
            max_attempts: 5,
        }
    }
}

/// Producer/inspector handle over the shared queue.
#[derive(Debug, Clone)]
pub struct Queue {
    db: Db,
    settings: QueueSettings,
}

impl Queue {
    pub fn new(db: Db, settings: QueueSettings) -> Self {
        Self { db, settings }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn settings(&self) -> &QueueSettings {
        &self.settings
    }

    pub fn sqlite_config(&self, queue: &str) -> apalis_sqlite::Config {
        apalis_sqlite::Config::default()
            .queue(queue)
            .batch_size(self.settings.batch_size)
            .heartbeat_interval(self.settings.heartbeat)
            .missed_heartbeats(self.settings.missed_heartbeats)
    }

    pub fn postgres_config(&self, queue: &str) -> apalis_postgres::Config {
        apalis_postgres::Config::default()
            .queue(queue)
            .batch_size(self.settings.batch_size)
            .heartbeat_interval(self.settings.heartbeat)
            .missed_heartbeats(self.settings.missed_heartbeats)
    }

    /// Pushes one job, to run now or after `delay` (the queue's clock has one-second
    /// resolution).
    pub async fn push<J: Job>(&self, job: J, delay: Option<Duration>) -> Result<(), QueueError> {
        let mut builder = TaskBuilder::new(job).max_attempts(self.settings.max_attempts);
        if let Some(d) = delay {
            builder = builder.run_after(d);
        }
        let task = builder.build();
        let err = |e: String| QueueError::Push {
            kind: J::KIND,
            message: e,
        };
        match &self.db {
            Db::Sqlite(pool) => {
                let mut s = SqliteStorage::<J>::new(pool).with_config(self.sqlite_config(J::QUEUE));
                s.push_task(task).await.map_err(|e| err(e.to_string()))
            }
            Db::Postgres(pool) => {
                let mut s =
                    PostgresStorage::<J>::new(pool).with_config(self.postgres_config(J::QUEUE));
                s.push_task(task).await.map_err(|e| err(e.to_string()))
            }
        }
    }

    /// Jobs per queue and state, for the pipeline's queues (and the benchmark's).
    pub async fn depth(&self) -> Result<Vec<(String, String, i64)>, QueueError> {
        let rows: Vec<(String, String, i64)> = match &self.db {
            Db::Sqlite(p) => {
                sqlx::query_as(
                    "SELECT job_type, status, COUNT(*) FROM Jobs \
                     WHERE job_type LIKE 'scamsweep.%' GROUP BY job_type, status ORDER BY 1, 2",
                )
                .fetch_all(p)
                .await?
            }
            Db::Postgres(p) => {
                sqlx::query_as(
                    "SELECT job_type, status, COUNT(*) FROM apalis.jobs \
                     WHERE job_type LIKE 'scamsweep.%' GROUP BY job_type, status ORDER BY 1, 2",
                )
                .fetch_all(p)
                .await?
            }
        };
        Ok(rows)
    }

    /// Jobs not yet finished (pending, claimed or running) on the given queues.
    pub async fn outstanding(&self, queues: &[&str]) -> Result<i64, QueueError> {
        let depth = self.depth().await?;
        Ok(depth
            .iter()
            .filter(|(q, s, _)| {
                queues.contains(&q.as_str())
                    && matches!(s.as_str(), "Pending" | "Queued" | "Running")
            })
            .map(|(_, _, n)| n)
            .sum())
    }
}

/// Applies every migration: the pipeline's schema and the queue backend's own tables.
pub async fn migrate(db: &Db) -> Result<(), QueueError> {
    db.migrate().await?;
    match db {
        Db::Sqlite(p) => SqliteStorage::<()>::migrations().run(p).await?,
        Db::Postgres(p) => PostgresStorage::<()>::migrations().run(p).await?,
    }
    // Keep the pool warm and prove the tables are there.
    let _: (i64,) = with_pool!(db, |p| sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(p)
        .await?);
    Ok(())
}
