//! Builds a running scamsweep from a [`Config`]: database, migrations, pipeline state,
//! workers, HTTP server, and the shutdown signal they share.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use scamsweep_crawler::Fetcher;
use scamsweep_queue::metrics::Metrics;
use scamsweep_queue::pipeline::Pipeline;
use scamsweep_queue::workers::{self, Role};
use scamsweep_queue::{Queue, backend};
use scamsweep_store::{Db, PoolSettings, stats};
use tokio::sync::watch;

use crate::config::Config;

/// A shutdown switch: tripped by Ctrl-C, SIGTERM or the program itself.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Sender<bool>);

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Shutdown(watch::channel(false).0)
    }

    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }

    /// Resolves once triggered.
    pub fn wait(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.0.subscribe();
        async move {
            let _ = rx.wait_for(|v| *v).await;
        }
    }

    /// Trips this switch on Ctrl-C or SIGTERM.
    pub fn on_signals(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
            tracing::info!("shutdown requested; finishing running jobs");
            me.trigger();
        });
    }
}

/// Opens the database named by the config and applies all migrations.
pub async fn open_db(cfg: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&cfg.database, &PoolSettings::default()).await?;
    backend::migrate(&db)
        .await
        .with_context(|| format!("migrating {}", scamsweep_store::redact_url(&cfg.database)))?;
    Ok(db)
}

/// The pipeline state for `db` as the config describes it.
pub fn pipeline(cfg: &Config, db: &Db) -> anyhow::Result<Arc<Pipeline>> {
    let classifier = classifier(cfg)?;
    Ok(Arc::new(Pipeline {
        db: db.clone(),
        queue: Queue::new(db.clone(), cfg.queue_settings()),
        fetcher: Fetcher::new(cfg.fetch_config())?,
        classifier,
        settings: cfg.pipeline_settings(),
        metrics: Arc::new(Metrics::new()),
        crawls: Default::default(),
        hosts: Default::default(),
    }))
}

/// Loads the configured classifier (the shipped model unless `classifier.model` says
/// otherwise), once per process.
pub fn classifier(cfg: &Config) -> anyhow::Result<Arc<dyn scamsweep_classifier::Classifier>> {
    type Loaded = Vec<(
        Option<std::path::PathBuf>,
        Arc<dyn scamsweep_classifier::Classifier>,
    )>;
    static LOADED: std::sync::Mutex<Loaded> = std::sync::Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, c)) = loaded.iter().find(|(m, _)| *m == cfg.classifier.model) {
        return Ok(c.clone());
    }
    let started = std::time::Instant::now();
    let c = scamsweep_classifier::load_classifier(cfg.classifier.model.as_deref())
        .context("loading the classifier (set classifier.model or --model)")?;
    tracing::debug!(
        model = %c.id(),
        load_ms = started.elapsed().as_millis() as u64,
        "classifier loaded"
    );
    loaded.push((cfg.classifier.model.clone(), c.clone()));
    Ok(c)
}

/// Writes the config file's `[[sources]]` into the database (created, or updated in
/// place keeping their health and cursor). Returns how many were new.
pub async fn sync_sources(cfg: &Config, db: &Db) -> anyhow::Result<usize> {
    let mut created = 0;
    for spec in &cfg.sources {
        let (_, new) = scamsweep_store::sources::upsert(
            db,
            &spec.name,
            spec.kind.as_str(),
            &serde_json::to_string(spec)?,
            "config",
            spec.recrawl_minutes.map(|m| m as i64 * 60),
        )
        .await?;
        created += usize::from(new);
    }
    Ok(created)
}

/// Starts crawls of due sources every `crawler.schedule_interval_secs` until shutdown.
/// Any number of processes may run this: each due source is claimed once.
pub fn spawn_scheduler(
    cfg: &Config,
    p: Arc<Pipeline>,
    shutdown: &Shutdown,
) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(cfg.crawler.schedule_interval_secs.max(1));
    let stop = shutdown.wait();
    tokio::spawn(async move {
        let tick = async {
            loop {
                match p.schedule_due().await {
                    Ok(started) => {
                        for (name, c) in started {
                            tracing::info!(source = %name, crawl_id = c.crawl_id, queued = c.queued, "recrawl started");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "scheduler pass failed"),
                }
                tokio::time::sleep(every).await;
            }
        };
        tokio::select! {
            _ = tick => {}
            _ = stop => {}
        }
    })
}

/// Serves the HTTP API on the configured address until shutdown.
pub async fn serve_http(
    cfg: &Config,
    p: &Pipeline,
    shutdown: &Shutdown,
) -> anyhow::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let listener = tokio::net::TcpListener::bind(&cfg.http.listen)
        .await
        .with_context(|| format!("cannot listen on {} (http.listen)", cfg.http.listen))?;
    tracing::info!(addr = %listener.local_addr()?, "HTTP API listening");
    let state = scamsweep_web::AppState {
        db: p.db.clone(),
        queue: p.queue.clone(),
        metrics: p.metrics.clone(),
    };
    Ok(tokio::spawn(scamsweep_web::serve(
        listener,
        state,
        shutdown.wait(),
    )))
}

/// Runs workers for `roles` until shutdown.
pub async fn run_workers(
    cfg: &Config,
    p: Arc<Pipeline>,
    roles: &[Role],
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    workers::run(p, roles, &cfg.worker_settings(), shutdown.wait()).await?;
    Ok(())
}

/// Runs the pipeline workers until the queue has drained, then stops them.
pub async fn run_until_idle(
    cfg: &Config,
    p: Arc<Pipeline>,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let queue = p.queue.clone();
    let workers = tokio::spawn({
        let cfg = cfg.clone();
        let p = p.clone();
        let shutdown = shutdown.clone();
        async move { run_workers(&cfg, p, Role::PIPELINE, &shutdown).await }
    });
    let idle = workers::wait_until_idle(
        &queue,
        workers::pipeline_queues(),
        Duration::from_millis(cfg.queue.poll_interval_ms.max(50) * 2),
    );
    tokio::select! {
        r = idle => { r?; }
        _ = shutdown.wait() => {}
    }
    shutdown.trigger();
    workers.await??;
    Ok(())
}

/// Everything `stats` reports.
#[derive(Debug, serde::Serialize)]
pub struct Stats {
    #[serde(flatten)]
    pub pipeline: stats::PipelineCounts,
    /// queue → state → count
    pub jobs: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>>,
}

pub async fn collect_stats(db: &Db, queue: &Queue) -> anyhow::Result<Stats> {
    let pipeline = stats::pipeline_counts(db).await?;
    let mut jobs: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> =
        Default::default();
    for (q, s, n) in queue.depth().await? {
        jobs.entry(q.trim_start_matches("scamsweep.").to_string())
            .or_default()
            .insert(s, n);
    }
    Ok(Stats { pipeline, jobs })
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.pipeline;
        writeln!(f, "fetches      {}", p.fetches)?;
        for (k, v) in &p.fetches_by_outcome {
            writeln!(f, "  {k:<18} {v}")?;
        }
        writeln!(
            f,
            "documents    {} ({} versions)",
            p.documents, p.document_versions
        )?;
        writeln!(f, "classified   {}", p.classified)?;
        writeln!(f, "flagged      {}", p.flagged)?;
        writeln!(f, "confirmed    {}", p.confirmed)?;
        write!(f, "tickets     ")?;
        if p.tickets_by_state.is_empty() {
            write!(f, " none")?;
        }
        for (k, v) in &p.tickets_by_state {
            write!(f, " {k}={v}")?;
        }
        writeln!(f)?;
        writeln!(f, "audit rows   {}", p.audit_rows)?;
        writeln!(f, "jobs")?;
        for (q, states) in &self.jobs {
            write!(f, "  {q:<10}")?;
            for (s, n) in states {
                write!(f, " {s}={n}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
