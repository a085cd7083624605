//! Worker processes: which job kinds a role runs, how workers are named, retried and shut
//! down, and how `--once` runs know the queue has drained.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use scamsweep_store::Db;
use tower::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;

use crate::jobs::{ClassifyJob, ExtractJob, FetchJob, Job, NoopJob, PIPELINE_QUEUES, TriageJob};
use crate::pipeline::{Pipeline, StageError};
use crate::{Queue, QueueError};

/// A set of job kinds one process can be told to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// fetch + extract
    Crawl,
    /// classify + triage
    Classify,
    /// the no-op job of the queue benchmark
    Noop,
}

impl Role {
    pub const PIPELINE: &'static [Role] = &[Role::Crawl, Role::Classify];

    pub fn name(self) -> &'static str {
        match self {
            Role::Crawl => "crawl",
            Role::Classify => "classify",
            Role::Noop => "noop",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "crawl" => Ok(Role::Crawl),
            "classify" => Ok(Role::Classify),
            "noop" => Ok(Role::Noop),
            other => Err(format!(
                "unknown role `{other}`: expected crawl, classify (or noop, for benchmarks)"
            )),
        }
    }
}

/// Worker tuning.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs of one kind run at once by one worker.
    pub concurrency: usize,
    /// In-process retries of a failed handler, with exponential backoff and jitter.
    pub retries: usize,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// A handler running longer than this is failed (and retried).
    pub job_timeout: Duration,
    /// Workers per job kind in this process (names get an index suffix when above 1).
    pub instances: usize,
    /// How long shutdown waits for running jobs.
    pub shutdown_timeout: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            retries: 3,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            job_timeout: Duration::from_secs(120),
            instances: 1,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("invalid retry backoff: {0}")]
    Backoff(String),
    #[error("worker monitor failed: {0}")]
    Monitor(String),
}

/// Worker runs started by this process so far.
static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `kind-host-pid`, unique per process, which apalis needs: a second worker under a name
/// already registered silently processes nothing (stack-notes G4). A process that starts
/// workers more than once (tests, benchmarks) or several per kind gets a `-run.instance`
/// suffix.
pub fn worker_name(kind: &str, run: usize, instance: usize, instances: usize) -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let pid = std::process::id();
    if run == 0 && instances == 1 {
        format!("{kind}-{host}-{pid}")
    } else {
        format!("{kind}-{host}-{pid}-{run}.{instance}")
    }
}

fn finish(p: &Pipeline, kind: &'static str, r: Result<(), StageError>) -> Result<(), BoxDynError> {
    match r {
        Ok(()) => {
            p.metrics.processed(kind);
            Ok(())
        }
        Err(e) => {
            p.metrics.failed(kind);
            tracing::warn!(kind, error = %e, "job failed; it will be retried");
            Err(Box::new(e))
        }
    }
}

async fn fetch_handler(
    job: FetchJob,
    p: Data<Arc<Pipeline>>,
    attempt: Attempt,
) -> Result<(), BoxDynError> {
    finish(&p, FetchJob::KIND, p.fetch(&job, attempt.current()).await)
}

async fn extract_handler(job: ExtractJob, p: Data<Arc<Pipeline>>) -> Result<(), BoxDynError> {
    finish(&p, ExtractJob::KIND, p.extract(&job).await)
}

async fn classify_handler(job: ClassifyJob, p: Data<Arc<Pipeline>>) -> Result<(), BoxDynError> {
    finish(&p, ClassifyJob::KIND, p.classify(&job).await)
}

async fn triage_handler(job: TriageJob, p: Data<Arc<Pipeline>>) -> Result<(), BoxDynError> {
    finish(&p, TriageJob::KIND, p.triage(&job).await)
}

async fn noop_handler(_job: NoopJob, p: Data<Arc<Pipeline>>) -> Result<(), BoxDynError> {
    p.metrics.processed(NoopJob::KIND);
    Ok(())
}

/// Registers `instances` workers for one job kind on whichever backend the queue uses.
/// Written once as a macro because the concrete worker types of the two backends differ.
macro_rules! register {
    ($monitor:ident, $run:expr, $queue:expr, $pipeline:expr, $ws:expr, $job:ty, $handler:expr) => {{
        for instance in 0..$ws.instances {
            let name = worker_name(<$job as Job>::KIND, $run, instance, $ws.instances);
            let queue = $queue.clone();
            let pipeline = $pipeline.clone();
            let ws = $ws.clone();
            $monitor = match queue.db().clone() {
                Db::Sqlite(pool) => $monitor.register(move |_restarts| {
                    let backend = SqliteStorage::<$job>::new(&pool)
                        .with_config(queue.sqlite_config(<$job as Job>::QUEUE))
                        .poll_with_interval(queue.settings().poll_interval);
                    WorkerBuilder::new(name.clone())
                        .backend(backend)
                        .concurrency(ws.concurrency)
                        .retry(retry_policy(&ws))
                        .timeout(ws.job_timeout)
                        .catch_panic()
                        .enable_tracing()
                        .data(pipeline.clone())
                        .build($handler)
                }),
                Db::Postgres(pool) => $monitor.register(move |_restarts| {
                    let backend = PostgresStorage::<$job>::new(&pool)
                        .with_config(queue.postgres_config(<$job as Job>::QUEUE))
                        .poll_with_interval(queue.settings().poll_interval);
                    WorkerBuilder::new(name.clone())
                        .backend(backend)
                        .concurrency(ws.concurrency)
                        .retry(retry_policy(&ws))
                        .timeout(ws.job_timeout)
                        .catch_panic()
                        .enable_tracing()
                        .data(pipeline.clone())
                        .build($handler)
                }),
            };
        }
    }};
}

fn retry_policy(
    ws: &WorkerSettings,
) -> BackoffRetryPolicy<tower::retry::backoff::ExponentialBackoff<HasherRng>> {
    // Validated in `run`, so this cannot fail here.
    let mut maker =
        ExponentialBackoffMaker::new(ws.backoff_min, ws.backoff_max, 0.5, HasherRng::default())
            .unwrap_or_else(|_| {
                ExponentialBackoffMaker::new(
                    Duration::from_millis(500),
                    Duration::from_secs(60),
                    0.5,
                    HasherRng::default(),
                )
                .expect("static backoff is valid")
            });
    RetryPolicy::retries(ws.retries).with_backoff(maker.make_backoff())
}

/// Runs workers for `roles` until `shutdown` resolves, then lets running jobs finish (up
/// to the shutdown timeout); claimed-but-unstarted jobs go back to the queue.
pub async fn run(
    pipeline: Arc<Pipeline>,
    roles: &[Role],
    ws: &WorkerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    ExponentialBackoffMaker::new(ws.backoff_min, ws.backoff_max, 0.5, HasherRng::default())
        .map_err(|e| WorkerError::Backoff(e.to_string()))?;
    let queue = pipeline.queue.clone();
    let run_no = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let mut monitor = Monitor::new()
        .shutdown_timeout(ws.shutdown_timeout)
        .should_restart(|ctx, err| {
            tracing::warn!(worker = ctx.name(), error = %err, "worker stopped; restarting");
            true
        });
    for role in roles {
        match role {
            Role::Crawl => {
                register!(
                    monitor,
                    run_no,
                    queue,
                    pipeline,
                    ws,
                    FetchJob,
                    fetch_handler
                );
                register!(
                    monitor,
                    run_no,
                    queue,
                    pipeline,
                    ws,
                    ExtractJob,
                    extract_handler
                );
            }
            Role::Classify => {
                register!(
                    monitor,
                    run_no,
                    queue,
                    pipeline,
                    ws,
                    ClassifyJob,
                    classify_handler
                );
                register!(
                    monitor,
                    run_no,
                    queue,
                    pipeline,
                    ws,
                    TriageJob,
                    triage_handler
                );
            }
            Role::Noop => {
                register!(monitor, run_no, queue, pipeline, ws, NoopJob, noop_handler);
            }
        }
    }
    tracing::info!(roles = ?roles, "workers starting");
    monitor
        .run_with_signal(async move {
            shutdown.await;
            Ok(())
        })
        .await
        .map_err(|e| WorkerError::Monitor(e.to_string()))
}

/// Resolves once no pipeline job is pending, claimed or running, seen on two checks in a
/// row `poll` apart (a job finishing pushes its successor before it is marked done).
pub async fn wait_until_idle(
    queue: &Queue,
    queues: &[&str],
    poll: Duration,
) -> Result<(), QueueError> {
    let mut quiet = 0;
    loop {
        if queue.outstanding(queues).await? == 0 {
            quiet += 1;
            if quiet >= 2 {
                return Ok(());
            }
        } else {
            quiet = 0;
        }
        tokio::time::sleep(poll).await;
    }
}

/// The pipeline's queues, for [`wait_until_idle`].
pub fn pipeline_queues() -> &'static [&'static str] {
    PIPELINE_QUEUES
}
