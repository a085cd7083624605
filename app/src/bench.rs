//! Benchmarks. `bench queue`: jobs per second through the shared queue, for a no-op job
//! and for a real fetch (plus its extract job) of a loopback page, with 1 or more workers
//! per job kind. `bench crawl`: a whole crawl of the sandbox's generated site by worker
//! OS processes, with pages per second, CPU time per page and peak RSS per worker (read
//! from /proc). Each run uses a fresh database: a temporary SQLite file, or a temporary
//! database created on the PostgreSQL server `--database` points at.

use std::time::{Duration, Instant};

use anyhow::Context;
use scamsweep_crawler::scope::ScopeConfig;
use scamsweep_crawler::source::{SourceKind, SourceSpec};
use scamsweep_queue::jobs::{ExtractJob, FetchJob, Job, NoopJob};
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

/// The only network benchmarks and the demo may reach.
pub const LOOPBACK: &str = "127.0.0.1/32";

#[derive(Debug, clap::Args)]
pub struct CrawlBench {
    /// Pages in the generated site (all reachable from its first page).
    #[arg(long, default_value_t = 10_000)]
    pub pages: usize,
    /// Worker processes (`scamsweep worker --roles crawl`).
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// Concurrent fetches allowed on the one sandbox host (politeness is what a real
    /// crawl spends its time on; the benchmark measures the crawler itself).
    #[arg(long, default_value_t = 16)]
    pub host_concurrency: i64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout_secs: u64,
    #[arg(long)]
    pub json: bool,
}

/// Kills a child process when dropped (benchmarks must not leave workers behind).
struct Reaper(Vec<std::process::Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Crawls the generated sandbox site with worker processes and reports throughput, CPU
/// time per page and peak memory.
pub async fn run_crawl(base_cfg: &Config, args: &CrawlBench) -> anyhow::Result<()> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    anyhow::ensure!(args.pages > 0, "--pages must be at least 1");
    anyhow::ensure!(
        (1..=32).contains(&args.processes),
        "--processes must be between 1 and 32"
    );
    let exe = std::env::current_exe().context("cannot find the scamsweep executable")?;
    // The sandbox runs in its own process so its CPU time is not counted as the crawler's.
    let mut sandbox = Command::new(&exe)
        .args(["sandbox", "--pages", &args.pages.to_string(), "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start the sandbox process")?;
    let mut line = String::new();
    std::io::BufReader::new(sandbox.stdout.take().context("sandbox stdout")?)
        .read_line(&mut line)
        .context("reading the sandbox's addresses")?;
    let mut reaper = Reaper(vec![sandbox]);
    let sites: serde_json::Value =
        serde_json::from_str(&line).context("the sandbox printed no address list")?;
    let bulk = sites["sites"]["bulk"]
        .as_str()
        .context("the sandbox has no bulk site")?
        .to_string();

    let temp = TempDb::create(&base_cfg.database).await?;
    let result = async {
        let mut cfg = base_cfg.clone();
        cfg.database = temp.url.clone();
        cfg.crawler.allow_networks = vec![LOOPBACK.parse()?];
        cfg.crawler.default_crawl_delay_ms = 0;
        cfg.crawler.host_concurrency = args.host_concurrency;
        let db = app::open_db(&cfg).await?;
        let p = app::pipeline(&cfg, &db)?;
        let spec = SourceSpec {
            name: "bench/generated".into(),
            kind: SourceKind::Web,
            seeds: vec![Url::parse(&format!("{bulk}/p/0"))?],
            scope: Some(ScopeConfig {
                max_depth: 100_000,
                max_pages: args.pages as i64,
                max_urls_per_host: args.pages as i64,
                ..ScopeConfig::default()
            }),
            recrawl_minutes: None,
            selectors: None,
            ignore_robots: false,
            robots_override_reason: None,
        };
        let conf = std::env::temp_dir().join(format!(
            "scamsweep-bench-{}-{}.toml",
            std::process::id(),
            scamsweep_store::now_ms()
        ));
        std::fs::write(
            &conf,
            format!(
                "[crawler]\nallow_networks = [\"{LOOPBACK}\"]\ndefault_crawl_delay_ms = 0\nhost_concurrency = {}\n\
                 [queue]\npoll_interval_ms = {}\n[workers]\nconcurrency = {}\n",
                args.host_concurrency,
                cfg.queue.poll_interval_ms.min(100),
                cfg.workers.concurrency
            ),
        )?;
        let t0 = Instant::now();
        p.start_crawl(&spec, None, Some("bench")).await?;
        let mut pids = Vec::new();
        for _ in 0..args.processes {
            let child = Command::new(&exe)
                .arg("--config")
                .arg(&conf)
                .args(["--database", &temp.url, "worker", "--roles", "crawl"])
                .env("SCAMSWEEP_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .context("cannot start a worker process")?;
            pids.push(child.id().to_string());
            reaper.0.push(child);
        }
        let idle = workers::wait_until_idle(
            &p.queue,
            &[FetchJob::QUEUE, ExtractJob::QUEUE],
            Duration::from_millis(100),
        );
        tokio::time::timeout(Duration::from_secs(args.timeout_secs), idle)
            .await
            .context("the crawl did not finish within --timeout-secs")??;
        let wall = t0.elapsed();
        let usages: Vec<crate::procstat::Usage> = pids
            .iter()
            .filter_map(|pid| crate::procstat::usage(pid))
            .collect();
        let _ = std::fs::remove_file(&conf);
        let stats = scamsweep_store::stats::pipeline_counts(&db).await?;
        db.close().await;
        anyhow::Ok((wall, usages, stats))
    }
    .await;
    drop(reaper);
    temp.drop_it().await;
    let (wall, usages, stats) = result?;
    let ok = stats.fetches_by_outcome.get("ok").copied().unwrap_or(0);
    let cpu_ms: u64 = usages.iter().map(|u| u.cpu_ms).sum();
    let peak = usages.iter().map(|u| u.peak_rss_kib).max().unwrap_or(0);
    let backend = if base_cfg.database.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let report = serde_json::json!({
        "backend": backend,
        "processes": args.processes,
        "concurrency_per_process": base_cfg.workers.concurrency,
        "host_concurrency": args.host_concurrency,
        "pages": args.pages,
        "fetches": stats.fetches,
        "fetches_ok": ok,
        "documents": stats.documents,
        "seconds": wall.as_secs_f64(),
        "pages_per_sec": ok as f64 / wall.as_secs_f64().max(1e-9),
        "cpu_ms_total": cpu_ms,
        "cpu_ms_per_page": cpu_ms as f64 / (ok.max(1) as f64),
        "peak_rss_mib_max_worker": peak as f64 / 1024.0,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{backend:<8} processes={} pages={} fetched={} docs={} in {:.1} s: {:.1} pages/s, {:.2} ms CPU/page, peak RSS {:.1} MiB (largest worker)",
            args.processes,
            args.pages,
            ok,
            stats.documents,
            wall.as_secs_f64(),
            report["pages_per_sec"].as_f64().unwrap_or(0.0),
            report["cpu_ms_per_page"].as_f64().unwrap_or(0.0),
            report["peak_rss_mib_max_worker"].as_f64().unwrap_or(0.0),
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
    cfg.crawler.allow_networks = vec![LOOPBACK.parse()?];
    cfg.crawler.default_crawl_delay_ms = 0;
    cfg.crawler.host_concurrency = 64;
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
            let sandbox = Sandbox::start_with(scamsweep_sandbox::SandboxOptions {
                generated_pages: args.jobs as usize,
            })
            .await?;
            let base = sandbox.base("bulk");
            let seeds = (0..args.jobs)
                .map(|n| Url::parse(&format!("{base}/p/{n}")))
                .collect::<Result<Vec<_>, _>>()?;
            let spec = SourceSpec {
                name: "bench/queue".into(),
                kind: SourceKind::Web,
                seeds,
                scope: Some(ScopeConfig {
                    max_depth: 0,
                    max_pages: i64::MAX,
                    ..ScopeConfig::default()
                }),
                recrawl_minutes: None,
                selectors: None,
                ignore_robots: false,
                robots_override_reason: None,
            };
            p.start_crawl(&spec, None, Some("bench")).await?;
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
