//! The stage handlers. Each is idempotent: it first looks for the row its earlier delivery
//! would have written and, finding it, only re-pushes the next stage's job (whose handler
//! is idempotent too). Transient failures return an error (retried with backoff by the
//! worker); permanent ones are recorded as outcomes and the job completes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scamsweep_classifier::{Classifier, Input};
use scamsweep_crawler::extract::ExtractContext;
use scamsweep_crawler::robots::Rules;
use scamsweep_crawler::scope::Scope;
use scamsweep_crawler::source::SourceSpec;
use scamsweep_crawler::{FetchError, Fetched, Fetcher, canon, extract};
use scamsweep_store::crawl::{self, NewCrawl, NewFrontierEntry, state};
use scamsweep_store::documents::{self, NewClassification, NewVersion};
use scamsweep_store::fetches::{self, NewFetch, outcome};
use scamsweep_store::sources::{self, SourceRow};
use scamsweep_store::{Db, StoreError, audit, now_ms};
use url::Url;

use crate::jobs::{ClassifyJob, ExtractJob, FetchJob, TriageJob};
use crate::metrics::{Metrics, OutcomeLabel};
use crate::{Queue, QueueError};

/// Errors a handler returns to the worker (which retries them with backoff).
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("transient fetch failure: {0}")]
    Fetch(String),
    #[error(transparent)]
    Classifier(#[from] scamsweep_classifier::ClassifierError),
    #[error(transparent)]
    Spec(#[from] scamsweep_crawler::source::SpecError),
    #[error("extractor failed: {0}")]
    Extract(String),
    #[error("crawl {crawl_id} has an unreadable spec: {reason}")]
    BadCrawlSpec { crawl_id: i64, reason: String },
}

/// Pipeline tuning.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Delay between two fetches from one host when robots.txt asks for none.
    pub default_crawl_delay: Duration,
    /// Longest Crawl-delay honoured (longer requests are capped).
    pub max_crawl_delay: Duration,
    /// How long a cached robots.txt is trusted.
    pub robots_ttl: Duration,
    /// Handler attempts before a transient fetch failure is recorded as final.
    pub fetch_attempts: usize,
    /// A non-benign label at or above this probability sends the document to review.
    pub flag_threshold: f32,
    /// Concurrent fetches allowed per host, across all processes.
    pub host_concurrency: i64,
    /// Times a fetch is put back after `429`/`503` with `Retry-After` before it is
    /// recorded as an HTTP error.
    pub max_throttled: u32,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            default_crawl_delay: Duration::from_millis(1000),
            max_crawl_delay: Duration::from_secs(30),
            robots_ttl: Duration::from_secs(24 * 3600),
            fetch_attempts: 4,
            flag_threshold: 0.0,
            host_concurrency: 1,
            max_throttled: 5,
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

/// Everything a handler needs, shared by all workers of a process.
pub struct Pipeline {
    pub db: Db,
    pub queue: Queue,
    pub fetcher: Fetcher,
    pub classifier: Arc<dyn Classifier>,
    pub settings: PipelineSettings,
    pub metrics: Arc<Metrics>,
    /// Parsed crawl specs, by crawl id (specs are frozen at crawl start).
    pub crawls: CrawlCache,
    /// Hosts whose politeness rows this process has already made sure of.
    pub hosts: HostCache,
}

/// Hosts known to have their politeness row and slots (bounded).
#[derive(Debug, Default)]
pub struct HostCache(Mutex<std::collections::HashSet<String>>);

/// What a handler needs to know about a crawl, parsed once per process.
#[derive(Debug)]
pub struct CrawlCtx {
    pub crawl: crawl::Crawl,
    pub spec: SourceSpec,
    pub scope: Scope,
}

/// Bounded in-process cache of [`CrawlCtx`].
#[derive(Debug, Default)]
pub struct CrawlCache(Mutex<HashMap<i64, Arc<CrawlCtx>>>);

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("classifier", &self.classifier.name())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What starting a crawl did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CrawlStart {
    pub crawl_id: i64,
    pub queued: usize,
    /// Seeds refused by the URL policy, with the reason.
    pub refused: Vec<String>,
}

impl Pipeline {
    /// Starts one crawl of `spec` and queues its seeds. `source` ties the crawl to a stored
    /// source (health, cursor); ad-hoc crawls pass `None`.
    pub async fn start_crawl(
        &self,
        spec: &SourceSpec,
        source: Option<&SourceRow>,
        note: Option<&str>,
    ) -> Result<CrawlStart, StageError> {
        spec.validate()?;
        let scope = spec.scope();
        let spec_json = serde_json::to_string(spec).unwrap_or_default();
        let crawl_id = crawl::create_crawl(
            &self.db,
            &NewCrawl {
                source_kind: spec.kind.as_str(),
                max_depth: scope.max_depth,
                same_host: spec.same_host(),
                note,
                source_id: source.map(|s| s.id),
                cursor_floor: source.and_then(|s| s.cursor),
                spec: Some(&spec_json),
            },
        )
        .await?;
        if let Some(s) = source {
            sources::started_crawl(&self.db, s.id, crawl_id).await?;
        }
        if spec.ignore_robots {
            audit::append(
                &self.db,
                "pipeline",
                "robots.override",
                &format!("crawl:{crawl_id}"),
                &serde_json::json!({
                    "source": spec.name,
                    "reason": spec.robots_override_reason,
                    "seeds": spec.seeds.iter().map(Url::as_str).collect::<Vec<_>>(),
                }),
            )
            .await?;
        }
        let mut queued = 0;
        let mut refused = Vec::new();
        for seed in &spec.seeds {
            let url = canon::canonicalize(seed);
            if let Err(why) = self.fetcher.config().policy.check(&url) {
                refused.push(format!("{url}: {why}"));
                continue;
            }
            if self
                .enqueue_url(crawl_id, &url, 0, spec.kind.as_str(), None)
                .await?
            {
                queued += 1;
            }
        }
        audit::append(
            &self.db,
            "pipeline",
            "crawl.seeded",
            &format!("crawl:{crawl_id}"),
            &serde_json::json!({
                "source": spec.name,
                "source_kind": spec.kind.as_str(),
                "seeds": spec.seeds.iter().map(Url::as_str).collect::<Vec<_>>(),
                "max_depth": scope.max_depth,
                "queued": queued,
                "refused": refused,
            }),
        )
        .await?;
        Ok(CrawlStart {
            crawl_id,
            queued,
            refused,
        })
    }

    /// Starts a crawl of a stored source now.
    pub async fn crawl_source(&self, source: &SourceRow) -> Result<CrawlStart, StageError> {
        let spec: SourceSpec =
            serde_json::from_str(&source.spec).map_err(|e| StageError::BadCrawlSpec {
                crawl_id: 0,
                reason: format!("source {}: {e}", source.name),
            })?;
        self.start_crawl(&spec, Some(source), Some("scheduled"))
            .await
    }

    /// Starts a crawl of every source that is due; each is claimed first, so several
    /// processes running this at once start each crawl once. Returns the crawls started.
    pub async fn schedule_due(&self) -> Result<Vec<(String, CrawlStart)>, StageError> {
        let now = now_ms();
        let mut started = Vec::new();
        for s in sources::due(&self.db, now, 100).await? {
            if !sources::claim(&self.db, &s, now).await? {
                continue;
            }
            match self.crawl_source(&s).await {
                Ok(c) => started.push((s.name.clone(), c)),
                Err(e) => {
                    tracing::warn!(source = %s.name, error = %e, "cannot start crawl");
                    sources::record_failure(&self.db, s.id, &e.to_string()).await?;
                }
            }
        }
        Ok(started)
    }

    /// The parsed spec of a crawl (cached).
    pub async fn crawl_ctx(&self, crawl_id: i64) -> Result<Arc<CrawlCtx>, StageError> {
        if let Some(c) = self
            .crawls
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(&crawl_id).cloned())
        {
            return Ok(c);
        }
        let c = crawl::crawl(&self.db, crawl_id).await?;
        let bad = |reason: String| StageError::BadCrawlSpec { crawl_id, reason };
        let spec: SourceSpec = match &c.spec {
            Some(json) => serde_json::from_str(json).map_err(|e| bad(e.to_string()))?,
            None => return Err(bad("no spec recorded".into())),
        };
        let scope = Scope::new(spec.scope()).map_err(|e| bad(e.to_string()))?;
        let ctx = Arc::new(CrawlCtx {
            crawl: c,
            spec,
            scope,
        });
        if let Ok(mut m) = self.crawls.0.lock() {
            if m.len() > 1024 {
                m.clear();
            }
            m.insert(crawl_id, ctx.clone());
        }
        Ok(ctx)
    }

    /// Puts a URL on a crawl's frontier and pushes its fetch job unless an earlier call
    /// already did. Returns true when a job was pushed.
    async fn enqueue_url(
        &self,
        crawl_id: i64,
        url: &Url,
        depth: i64,
        source_kind: &str,
        parent_fetch_id: Option<i64>,
    ) -> Result<bool, StageError> {
        let Some(host) = canon::host_key(url) else {
            return Ok(false);
        };
        let path_key = canon::path_key(url);
        let entry = crawl::add_to_frontier(
            &self.db,
            &NewFrontierEntry {
                crawl_id,
                url: url.as_str(),
                host: &host,
                depth,
                source_kind,
                parent_fetch_id,
                path_key: &path_key,
            },
        )
        .await?;
        if entry.state != state::NEW {
            return Ok(false);
        }
        self.queue
            .push(
                FetchJob {
                    frontier_id: entry.id,
                    throttled: 0,
                },
                None,
            )
            .await?;
        crawl::advance_frontier(&self.db, entry.id, state::QUEUED).await?;
        Ok(true)
    }

    /// Stage 1: fetch one frontier URL politely and record the evidence.
    pub async fn fetch(&self, job: &FetchJob, attempt: usize) -> Result<(), StageError> {
        let Some(entry) = crawl::frontier_entry(&self.db, job.frontier_id).await? else {
            tracing::warn!(
                frontier_id = job.frontier_id,
                "fetch job for unknown frontier row"
            );
            return Ok(());
        };
        if let Some(done) = fetches::fetch_for_frontier(&self.db, entry.id).await? {
            // Delivered again: the fetch is recorded; make sure the next stage was queued.
            if entry.state != state::DONE {
                self.after_fetch(entry.id, done.id, &done.outcome).await?;
            }
            return Ok(());
        }
        let ctx = self.crawl_ctx(entry.crawl_id).await?;
        let source_id = ctx.crawl.source_id;
        let started_at = now_ms();
        let url = match Url::parse(&entry.url) {
            Ok(u) => u,
            Err(e) => {
                let f = refusal(
                    entry.id,
                    &entry.url,
                    started_at,
                    format!("unparseable URL: {e}"),
                );
                return self.record(entry.id, source_id, f).await;
            }
        };
        if let Err(why) = self.fetcher.config().policy.check(&url) {
            return self
                .record(
                    entry.id,
                    source_id,
                    refusal(entry.id, &entry.url, started_at, why),
                )
                .await;
        }
        let known = self
            .hosts
            .0
            .lock()
            .map(|h| h.contains(&entry.host))
            .unwrap_or(false);
        if !known {
            let delay = self.settings.default_crawl_delay.as_millis() as i64;
            crawl::ensure_host(&self.db, &entry.host, delay, self.settings.host_concurrency)
                .await?;
            if let Ok(mut h) = self.hosts.0.lock() {
                if h.len() > 100_000 {
                    h.clear();
                }
                h.insert(entry.host.clone());
            }
        }
        let rules = self.robots_rules(&url, &entry.host).await?;
        if !rules.allowed(url.as_str()) {
            if !ctx.spec.ignore_robots {
                let mut f = refusal(
                    entry.id,
                    &entry.url,
                    started_at,
                    "disallowed by robots.txt".into(),
                );
                f.outcome = outcome::ROBOTS_DISALLOWED.into();
                return self.record(entry.id, source_id, f).await;
            }
            audit::append(
                &self.db,
                "pipeline",
                "robots.overridden",
                &format!("frontier:{}", entry.id),
                &serde_json::json!({
                    "url": entry.url,
                    "source": ctx.spec.name,
                    "reason": ctx.spec.robots_override_reason,
                }),
            )
            .await?;
        }
        let Some(slot) = self.take_host_slot(&entry.host, job).await? else {
            return Ok(()); // re-queued for later
        };
        let t0 = Instant::now();
        let result = self.fetcher.fetch(&url).await;
        crawl::release_host(&self.db, &slot).await?;
        self.metrics
            .fetch_latency
            .observe(t0.elapsed().as_secs_f64());
        let last_attempt = attempt >= self.settings.fetch_attempts;
        let record = match result {
            Ok(fetched) => {
                if let Some(wait) = fetched.retry_after
                    && job.throttled < self.settings.max_throttled
                {
                    // The site asked us to come back later: hold the host for everyone,
                    // mark the source throttled and put the job back (not an attempt).
                    let wait = wait
                        .min(self.settings.max_retry_after)
                        .max(Duration::from_secs(1));
                    let until = now_ms() + wait.as_millis() as i64;
                    crawl::hold_host(&self.db, &entry.host, until).await?;
                    if let Some(id) = source_id {
                        sources::throttle(&self.db, id, until).await?;
                    }
                    tracing::info!(url = %entry.url, status = fetched.status, ?wait, "throttled by the site");
                    self.queue
                        .push(
                            FetchJob {
                                frontier_id: job.frontier_id,
                                throttled: job.throttled + 1,
                            },
                            Some(wait),
                        )
                        .await?;
                    return Ok(());
                }
                let transient = fetched.status >= 500 || fetched.status == 429;
                if transient && !last_attempt {
                    return Err(StageError::Fetch(format!(
                        "{} answered {}",
                        entry.url, fetched.status
                    )));
                }
                self.evidence(entry.id, &entry.url, started_at, &fetched)
                    .await?
            }
            Err(e) if e.is_transient() && !last_attempt => {
                return Err(StageError::Fetch(e.to_string()));
            }
            Err(e) => failure(entry.id, &entry.url, started_at, &e),
        };
        self.record(entry.id, source_id, record).await
    }

    /// Takes one of the host's fetch slots, waiting in-process for short gaps and
    /// re-queuing the job for long ones. Returns `None` when the job was re-queued.
    async fn take_host_slot(
        &self,
        host: &str,
        job: &FetchJob,
    ) -> Result<Option<crawl::HostSlot>, StageError> {
        let lease = (self.fetcher.config().total_timeout + Duration::from_secs(10)).as_millis();
        for _ in 0..40 {
            match crawl::try_acquire_host(&self.db, host, lease as i64).await? {
                Ok(slot) => return Ok(Some(slot)),
                Err(wait_ms) if wait_ms <= 1000 => {
                    tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
                }
                Err(wait_ms) => {
                    let secs = (wait_ms as u64).div_ceil(1000);
                    self.queue
                        .push(job.clone(), Some(Duration::from_secs(secs)))
                        .await?;
                    return Ok(None);
                }
            }
        }
        self.queue
            .push(job.clone(), Some(Duration::from_secs(1)))
            .await?;
        Ok(None)
    }

    async fn robots_rules(&self, url: &Url, host: &str) -> Result<Rules, StageError> {
        let cached = crawl::robots(&self.db, host).await?;
        let fresh_after = now_ms() - self.settings.robots_ttl.as_millis() as i64;
        if let Some(c) = cached
            && let (Some(status), Some(at)) = (c.robots_status, c.robots_fetched_at)
            && at >= fresh_after
        {
            return Ok(Rules::from_response(
                status as u16,
                c.robots_body.as_deref().unwrap_or_default(),
            ));
        }
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        let (status, body) = match self.fetcher.fetch(&robots_url).await {
            Ok(f) => (f.status, f.body),
            Err(FetchError::TooLarge { .. }) => (200, Vec::new()),
            Err(e) => {
                tracing::info!(%robots_url, error = %e, "robots.txt unreachable; host treated as unavailable");
                (0, Vec::new())
            }
        };
        let rules = Rules::from_response(status, &body);
        let delay = rules
            .crawl_delay_ms()
            .map(|d| d.min(self.settings.max_crawl_delay.as_millis() as i64));
        crawl::set_robots(&self.db, host, i64::from(status), &body, delay).await?;
        Ok(rules)
    }

    async fn evidence(
        &self,
        frontier_id: i64,
        requested: &str,
        started_at: i64,
        f: &Fetched,
    ) -> Result<NewFetch, StageError> {
        let outcome = match f.status {
            200..=299 if f.binary.is_some() => outcome::BINARY,
            200..=299 => outcome::OK,
            404 | 410 => outcome::NOT_FOUND,
            _ => outcome::HTTP_ERROR,
        };
        let sha = match &f.binary {
            None => Some(fetches::put_blob(&self.db, &f.body).await?),
            Some(_) => None,
        };
        let headers: serde_json::Map<String, serde_json::Value> = f
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        Ok(NewFetch {
            frontier_id: Some(frontier_id),
            requested_url: requested.to_string(),
            final_url: Some(f.final_url.to_string()),
            redirect_chain: serde_json::to_string(&f.redirect_chain).unwrap_or_default(),
            status: Some(i64::from(f.status)),
            outcome: outcome.into(),
            error: None,
            headers: serde_json::Value::Object(headers).to_string(),
            resolved_ip: f.remote_ip.map(|ip| ip.to_string()),
            started_at,
            elapsed_ms: f.elapsed.as_millis() as i64,
            body_sha256: sha,
            body_size: Some(
                f.binary
                    .as_ref()
                    .map_or(f.body.len() as i64, |b| b.bytes as i64),
            ),
            content_type: f.content_type.clone(),
            binary_sha256: f.binary.as_ref().map(|b| b.sha256.clone()),
            binary_truncated: f.binary.as_ref().map(|b| i64::from(b.truncated)),
        })
    }

    async fn record(
        &self,
        frontier_id: i64,
        source_id: Option<i64>,
        f: NewFetch,
    ) -> Result<(), StageError> {
        let (fetch_id, inserted) = fetches::record_fetch(&self.db, &f).await?;
        if inserted {
            self.metrics
                .fetches
                .get_or_create(&OutcomeLabel {
                    outcome: f.outcome.clone(),
                })
                .inc();
            if let Some(id) = source_id {
                match f.outcome.as_str() {
                    outcome::OK | outcome::BINARY | outcome::NOT_FOUND => {
                        sources::record_success(&self.db, id).await?;
                    }
                    outcome::ROBOTS_DISALLOWED => {}
                    _ => {
                        let why = f.error.clone().unwrap_or_else(|| {
                            format!("{} {}", f.outcome, f.status.unwrap_or_default())
                        });
                        sources::record_failure(
                            &self.db,
                            id,
                            &format!("{}: {why}", f.requested_url),
                        )
                        .await?;
                    }
                }
            }
        }
        self.after_fetch(frontier_id, fetch_id, &f.outcome).await
    }

    async fn after_fetch(
        &self,
        frontier_id: i64,
        fetch_id: i64,
        fetch_outcome: &str,
    ) -> Result<(), StageError> {
        if fetch_outcome == outcome::OK {
            self.queue.push(ExtractJob { fetch_id }, None).await?;
        }
        crawl::advance_frontier(&self.db, frontier_id, state::DONE).await?;
        Ok(())
    }

    /// Stage 2: documents and links from one fetched body, read by the adapter for the
    /// crawl's source kind; links are kept to the crawl's scope and budgets.
    pub async fn extract(&self, job: &ExtractJob) -> Result<(), StageError> {
        let Some(f) = fetches::fetch(&self.db, job.fetch_id).await? else {
            tracing::warn!(fetch_id = job.fetch_id, "extract job for unknown fetch");
            return Ok(());
        };
        let (Some(sha), Some(final_url)) = (f.body_sha256.as_deref(), f.final_url.as_deref())
        else {
            return Ok(());
        };
        let Some(body) = fetches::get_blob(&self.db, sha).await? else {
            return Err(StoreError::Corrupt(format!("fetch {} lost its body {sha}", f.id)).into());
        };
        let Ok(final_url) = Url::parse(final_url) else {
            return Ok(());
        };
        let entry = match f.frontier_id {
            Some(id) => crawl::frontier_entry(&self.db, id).await?,
            None => None,
        };
        let ctx = match &entry {
            Some(e) => Some(self.crawl_ctx(e.crawl_id).await?),
            None => None,
        };
        // Parsing is CPU work on hostile input: it runs on the blocking pool so it never
        // stalls the async workers (fetches, heartbeats) sharing this runtime.
        let found = {
            let kind = ctx.as_ref().map_or("web", |c| c.spec.kind.as_str());
            let group = ctx.as_ref().and_then(|c| c.spec.selectors.clone());
            let floor = ctx.as_ref().and_then(|c| c.crawl.cursor_floor);
            let content_type = f.content_type.clone();
            let url = final_url.clone();
            tokio::task::spawn_blocking(move || {
                let xctx = ExtractContext {
                    source_kind: kind,
                    group: group.as_ref(),
                    telegram_floor: floor,
                };
                extract::extract_with(&url, content_type.as_deref(), &body, &xctx)
            })
            .await
            .map_err(|e| StageError::Extract(e.to_string()))?
        };
        for item in &found.items {
            let doc_id =
                documents::upsert_document(&self.db, &item.doc_key, item.kind, &item.url).await?;
            let meta = if item.meta.is_null() {
                "{}".to_string()
            } else {
                item.meta.to_string()
            };
            let v = documents::add_version(
                &self.db,
                doc_id,
                &NewVersion {
                    fetch_id: f.id,
                    title: item.title.as_deref(),
                    body_text: &item.text,
                    language: item.language,
                    author: item.author.as_deref(),
                    posted_at: item.posted_at,
                    content_hash: &item.content_hash,
                    meta: &meta,
                },
            )
            .await?;
            // Push for new versions, and again on redelivery: classification is idempotent.
            self.queue
                .push(
                    ClassifyJob {
                        version_id: v.version_id,
                    },
                    None,
                )
                .await?;
        }
        let (Some(entry), Some(ctx)) = (entry, ctx) else {
            return Ok(());
        };
        if let (Some(max_id), Some(source_id)) = (found.telegram_max_id, ctx.crawl.source_id) {
            sources::advance_cursor(&self.db, source_id, max_id).await?;
        }
        let depth = entry.depth + 1;
        // A page's favicon is fetched (hashed, not stored) whatever the depth: phishing kits
        // reuse the icon of the brand they copy, so its hash links look-alike sites.
        let favicons = found
            .items
            .iter()
            .filter_map(|i| i.meta.get("favicon_url")?.as_str())
            .filter_map(|u| Url::parse(u).ok())
            .map(|u| canon::canonicalize(&u));
        for icon in favicons {
            if self.fetcher.config().policy.check(&icon).is_ok()
                && ctx.scope.admits(&final_url, &icon, 0).is_ok()
            {
                self.enqueue_url(entry.crawl_id, &icon, depth, &entry.source_kind, Some(f.id))
                    .await?;
            }
        }
        if found.links.is_empty() || depth > ctx.scope.config.max_depth {
            return Ok(());
        }
        let limits = &ctx.scope.config;
        let mut hosts: HashMap<String, i64> = HashMap::new();
        let (mut total, _) = crawl::frontier_size(&self.db, entry.crawl_id, &entry.host).await?;
        let mut dropped = 0usize;
        for link in &found.links {
            if self.fetcher.config().policy.check(link).is_err()
                || ctx.scope.admits(&final_url, link, depth).is_err()
            {
                dropped += 1;
                continue;
            }
            let Some(host) = canon::host_key(link) else {
                continue;
            };
            if total >= limits.max_pages {
                tracing::info!(crawl_id = entry.crawl_id, "page budget reached");
                break;
            }
            let on_host = match hosts.get(&host) {
                Some(n) => *n,
                None => {
                    crawl::frontier_size(&self.db, entry.crawl_id, &host)
                        .await?
                        .1
                }
            };
            if on_host >= limits.max_urls_per_host {
                dropped += 1;
                continue;
            }
            if link.query().is_some()
                && crawl::query_variants(&self.db, entry.crawl_id, &canon::path_key(link)).await?
                    >= limits.max_query_variants
            {
                dropped += 1;
                continue;
            }
            if self
                .enqueue_url(entry.crawl_id, link, depth, &entry.source_kind, Some(f.id))
                .await?
            {
                total += 1;
                hosts.insert(host, on_host + 1);
            } else {
                hosts.insert(host, on_host);
            }
        }
        if dropped > 0 {
            tracing::debug!(
                fetch_id = f.id,
                dropped,
                "links out of scope or over budget"
            );
        }
        Ok(())
    }

    /// Stage 3: score one version.
    pub async fn classify(&self, job: &ClassifyJob) -> Result<(), StageError> {
        let Some(v) = documents::version(&self.db, job.version_id).await? else {
            tracing::warn!(
                version_id = job.version_id,
                "classify job for unknown version"
            );
            return Ok(());
        };
        let input = Input {
            title: v.title.as_deref(),
            text: &v.body_text,
        };
        let prediction = self
            .classifier
            .classify_batch(std::slice::from_ref(&input), true)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                scamsweep_classifier::ClassifierError::Failed("empty batch result".into())
            })?;
        let id = documents::record_classification(
            &self.db,
            &NewClassification {
                version_id: v.id,
                model_name: self.classifier.name(),
                model_version: self.classifier.version(),
                label: prediction.label,
                score: f64::from(prediction.score()),
                probabilities: &prediction.probabilities_json().to_string(),
                explanation: &serde_json::to_string(&prediction.spans).unwrap_or_default(),
            },
        )
        .await?;
        self.queue
            .push(
                TriageJob {
                    classification_id: id,
                },
                None,
            )
            .await?;
        Ok(())
    }

    /// Stage 4: send a document to review, or keep it with its score.
    pub async fn triage(&self, job: &TriageJob) -> Result<(), StageError> {
        let Some(c) = documents::classification(&self.db, job.classification_id).await? else {
            return Ok(());
        };
        let Some(v) = documents::version(&self.db, c.version_id).await? else {
            return Ok(());
        };
        let flagged = c.label != "benign" && c.score >= f64::from(self.settings.flag_threshold);
        let changed =
            documents::apply_verdict(&self.db, v.document_id, flagged, &c.label, c.score).await?;
        if changed && flagged {
            audit::append(
                &self.db,
                "pipeline",
                "document.flagged",
                &format!("document:{}", v.document_id),
                &serde_json::json!({
                    "version_id": v.id,
                    "classification_id": c.id,
                    "model": format!("{}@{}", c.model_name, c.model_version),
                    "label": c.label,
                    "score": c.score,
                }),
            )
            .await?;
        }
        Ok(())
    }
}

fn refusal(frontier_id: i64, url: &str, started_at: i64, why: String) -> NewFetch {
    NewFetch {
        frontier_id: Some(frontier_id),
        requested_url: url.to_string(),
        redirect_chain: "[]".into(),
        outcome: outcome::REFUSED.into(),
        error: Some(why),
        headers: "{}".into(),
        started_at,
        elapsed_ms: now_ms() - started_at,
        ..NewFetch::default()
    }
}

fn failure(frontier_id: i64, url: &str, started_at: i64, e: &FetchError) -> NewFetch {
    let outcome = match e {
        FetchError::Refused { .. } => outcome::REFUSED,
        FetchError::TooLarge { .. } => outcome::TOO_LARGE,
        _ => outcome::FAILED,
    };
    NewFetch {
        outcome: outcome.into(),
        ..refusal(frontier_id, url, started_at, e.to_string())
    }
}
