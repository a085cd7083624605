//! `scamsweep bench queue`: jobs per second through the shared queue, for a no-op job and
//! for a real fetch (plus its extract job) of a loopback page, with 1 or more workers per
//! job kind. Each run uses a fresh database: a temporary SQLite file, or a temporary
//! database created on the PostgreSQL server `--database` points at.

use std::time::{Duration, Instant};

use anyhow::Context;
use scamsweep_queue::jobs::{ExtractJob, FetchJob, Job, NoopJob};
use scamsweep_queue::pipeline::CrawlSpec;
use scamsweep_queue::workers::{self, Role};
use scamsweep_sandbox::Sandbox;
use scamsweep_store::{Db, PoolSettings, with_pool};
use url::Url;

use crate::app::{self, Shutdown};
use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchKind {
    Noop,
    Fetch,
}

#[derive(Debug, clap::Args)]
pub struct QueueBench {
    /// Job to run.
    #[arg(long, value_enum, default_value = "noop")]
    pub kind: BenchKind,
    /// Number of jobs (fetch: pages).
    #[arg(long, default_value_t = 1000)]
    pub jobs: u64,
    /// Workers per job kind (each with the configured concurrency).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A temporary database for one run; dropped (PostgreSQL) or deleted (SQLite) at the end.
struct TempDb {
    url: String,
    admin: Option<(Db, String)>,
    file: Option<std::path::PathBuf>,
}

impl TempDb {
    async fn create(base: &str) -> anyhow::Result<TempDb> {
        let tag = format!("{}_{}", std::process::id(), scamsweep_store::now_ms());
        if base.starts_with("postgres") {
            let admin = Db::connect(base, &PoolSettings::default()).await?;
            let name = format!("scamsweep_bench_{tag}");
            with_pool!(&admin, |p| sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {name}"
            )))
            .execute(p)
            .await
            .map(|_| ()))
            .context("creating the benchmark database")?;
            let mut u = Url::parse(base)?;
            u.set_path(&format!("/{name}"));
            Ok(TempDb {
                url: u.to_string(),
                admin: Some((admin, name)),
                file: None,
            })
        } else {
            let path = std::env::temp_dir().join(format!("scamsweep-bench-{tag}.db"));
            Ok(TempDb {
                url: format!("sqlite://{}", path.display()),
                admin: None,
                file: Some(path),
            })
        }
    }

    async fn drop_it(self) {
        if let Some((admin, name)) = self.admin {
            let _ = with_pool!(&admin, |p| sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(p)
            .await
            .map(|_| ()));
        }
        if let Some(f) = self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
            }
        }
    }
}

pub async fn run_queue(base_cfg: &Config, args: &QueueBench) -> anyhow::Result<()> {
    let temp = TempDb::create(&base_cfg.database).await?;
    let result = run_on(base_cfg, args, &temp.url).await;
    temp.drop_it().await;
    let r = result?;
    let backend = if base_cfg.database.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let per_sec = |n: u64, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    let line = serde_json::json!({
        "backend": backend,
        "kind": format!("{:?}", args.kind).to_lowercase(),
        "workers": args.workers,
        "concurrency": base_cfg.workers.concurrency,
        "jobs": r.jobs,
        "enqueue_seconds": r.enqueue.as_secs_f64(),
        "enqueue_jobs_per_sec": per_sec(r.jobs, r.enqueue),
        "process_seconds": r.process.as_secs_f64(),
        "jobs_per_sec": per_sec(r.jobs, r.process),
    });
    if args.json {
        println!("{line}");
    } else {
        println!(
            "{backend:<8} {:<5} workers={} jobs={:<6} enqueue {:>8.1} jobs/s   process {:>8.1} jobs/s ({:.2} s)",
            line["kind"].as_str().unwrap_or(""),
            args.workers,
            r.jobs,
            per_sec(r.jobs, r.enqueue),
            per_sec(r.jobs, r.process),
            r.process.as_secs_f64()
        );
    }
    Ok(())
}

struct Timings {
    jobs: u64,
    enqueue: Duration,
    process: Duration,
}

async fn run_on(base_cfg: &Config, args: &QueueBench, url: &str) -> anyhow::Result<Timings> {
    let mut cfg = base_cfg.clone();
    cfg.database = url.to_string();
    cfg.crawler.allow_private_networks = true;
    cfg.crawler.default_crawl_delay_ms = 0;
    cfg.queue.poll_interval_ms = cfg.queue.poll_interval_ms.min(50);
    let db = app::open_db(&cfg).await?;
    let p = app::pipeline(&cfg, &db)?;
    let _sandbox;
    let t0 = Instant::now();
    let (roles, queues, jobs): (&[Role], &[&str], u64) = match args.kind {
        BenchKind::Noop => {
            for n in 0..args.jobs {
                p.queue.push(NoopJob { n }, None).await?;
            }
            (&[Role::Noop], &[NoopJob::QUEUE], args.jobs)
        }
        BenchKind::Fetch => {
            let sandbox = Sandbox::start().await?;
            let base = sandbox.base("bulk");
            let seeds = (0..args.jobs)
                .map(|n| Url::parse(&format!("{base}/p/{n}")))
                .collect::<Result<Vec<_>, _>>()?;
            let spec = CrawlSpec {
                source_kind: "web".into(),
                max_depth: 0,
                same_host: true,
                note: Some("bench".into()),
            };
            p.seed(&spec, &seeds).await?;
            _sandbox = sandbox;
            // Each page is a fetch job and an extract job.
            (
                &[Role::Crawl],
                &[FetchJob::QUEUE, ExtractJob::QUEUE],
                args.jobs * 2,
            )
        }
    };
    let enqueue = t0.elapsed();
    let mut ws = cfg.worker_settings();
    ws.instances = args.workers.max(1);
    ws.shutdown_timeout = Duration::from_secs(5);
    let shutdown = Shutdown::new();
    let t1 = Instant::now();
    let handle = tokio::spawn({
        let shutdown = shutdown.clone();
        let roles = roles.to_vec();
        async move { workers::run(p, &roles, &ws, shutdown.wait()).await }
    });
    let queue = scamsweep_queue::Queue::new(db.clone(), cfg.queue_settings());
    workers::wait_until_idle(&queue, queues, Duration::from_millis(20)).await?;
    let process = t1.elapsed();
    shutdown.trigger();
    handle.await??;
    db.close().await;
    Ok(Timings {
        jobs,
        enqueue,
        process,
    })
}
