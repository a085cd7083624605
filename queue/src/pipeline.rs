//! The stage handlers. Each is idempotent: it first looks for the row its earlier delivery
//! would have written and, finding it, only re-pushes the next stage's job (whose handler
//! is idempotent too). Transient failures return an error (retried with backoff by the
//! worker); permanent ones are recorded as outcomes and the job completes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use scamsweep_classifier::{Classifier, Input};
use scamsweep_crawler::robots::Rules;
use scamsweep_crawler::{FetchError, Fetched, Fetcher, canon, extract};
use scamsweep_store::crawl::{self, NewFrontierEntry, state};
use scamsweep_store::documents::{self, NewClassification, NewVersion};
use scamsweep_store::fetches::{self, NewFetch, outcome};
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
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            default_crawl_delay: Duration::from_millis(1000),
            max_crawl_delay: Duration::from_secs(30),
            robots_ttl: Duration::from_secs(24 * 3600),
            fetch_attempts: 4,
            flag_threshold: 0.5,
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
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("classifier", &self.classifier.name())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How a crawl treats the URLs it discovers.
#[derive(Debug, Clone)]
pub struct CrawlSpec {
    pub source_kind: String,
    pub max_depth: i64,
    pub same_host: bool,
    pub note: Option<String>,
}

impl Pipeline {
    /// Creates a crawl and queues its seeds. Returns the crawl id and the number of seeds
    /// queued (refused seeds are reported in the error list).
    pub async fn seed(
        &self,
        spec: &CrawlSpec,
        seeds: &[Url],
    ) -> Result<(i64, usize, Vec<String>), StageError> {
        let crawl_id = crawl::create_crawl(
            &self.db,
            &spec.source_kind,
            spec.max_depth,
            spec.same_host,
            spec.note.as_deref(),
        )
        .await?;
        let mut queued = 0;
        let mut refused = Vec::new();
        for seed in seeds {
            let url = canon::canonicalize(seed);
            if let Err(why) = self.fetcher.config().policy.check(&url) {
                refused.push(format!("{url}: {why}"));
                continue;
            }
            if self
                .enqueue_url(crawl_id, &url, 0, &spec.source_kind, None)
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
                "seeds": seeds.iter().map(Url::as_str).collect::<Vec<_>>(),
                "source_kind": spec.source_kind,
                "max_depth": spec.max_depth,
                "queued": queued,
            }),
        )
        .await?;
        Ok((crawl_id, queued, refused))
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
        let entry = crawl::add_to_frontier(
            &self.db,
            &NewFrontierEntry {
                crawl_id,
                url: url.as_str(),
                host: &host,
                depth,
                source_kind,
                parent_fetch_id,
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
                return self.record(entry.id, f).await;
            }
        };
        if let Err(why) = self.fetcher.config().policy.check(&url) {
            return self
                .record(entry.id, refusal(entry.id, &entry.url, started_at, why))
                .await;
        }
        let delay = self.settings.default_crawl_delay.as_millis() as i64;
        crawl::ensure_host(&self.db, &entry.host, delay).await?;
        let rules = self.robots_rules(&url, &entry.host).await?;
        if !rules.allowed(url.as_str()) {
            let mut f = refusal(
                entry.id,
                &entry.url,
                started_at,
                "disallowed by robots.txt".into(),
            );
            f.outcome = outcome::ROBOTS_DISALLOWED.into();
            return self.record(entry.id, f).await;
        }
        if !self.take_host_slot(&entry.host, job).await? {
            return Ok(()); // re-queued for later
        }
        let t0 = Instant::now();
        let result = self.fetcher.fetch(&url).await;
        self.metrics
            .fetch_latency
            .observe(t0.elapsed().as_secs_f64());
        let last_attempt = attempt >= self.settings.fetch_attempts;
        let record = match result {
            Ok(fetched) => {
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
        self.record(entry.id, record).await
    }

    /// Takes the host's politeness slot, waiting in-process for short gaps and re-queuing
    /// the job for long ones. Returns false when the job was re-queued.
    async fn take_host_slot(&self, host: &str, job: &FetchJob) -> Result<bool, StageError> {
        for _ in 0..20 {
            match crawl::try_acquire_host(&self.db, host).await? {
                Ok(()) => return Ok(true),
                Err(wait_ms) if wait_ms <= 1000 => {
                    tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
                }
                Err(wait_ms) => {
                    let secs = (wait_ms as u64).div_ceil(1000);
                    self.queue
                        .push(job.clone(), Some(Duration::from_secs(secs)))
                        .await?;
                    return Ok(false);
                }
            }
        }
        self.queue
            .push(job.clone(), Some(Duration::from_secs(1)))
            .await?;
        Ok(false)
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
        let sha = fetches::put_blob(&self.db, &f.body).await?;
        let outcome = match f.status {
            200..=299 => outcome::OK,
            404 | 410 => outcome::NOT_FOUND,
            _ => outcome::HTTP_ERROR,
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
            body_sha256: Some(sha),
            body_size: Some(f.body.len() as i64),
            content_type: f.content_type.clone(),
        })
    }

    async fn record(&self, frontier_id: i64, f: NewFetch) -> Result<(), StageError> {
        let (fetch_id, inserted) = fetches::record_fetch(&self.db, &f).await?;
        if inserted {
            self.metrics
                .fetches
                .get_or_create(&OutcomeLabel {
                    outcome: f.outcome.clone(),
                })
                .inc();
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

    /// Stage 2: documents and links from one fetched body.
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
        let found = extract::extract(&final_url, f.content_type.as_deref(), &body);
        for item in &found.items {
            let doc_id =
                documents::upsert_document(&self.db, &item.doc_key, item.kind, &item.url).await?;
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
        let Some(frontier_id) = f.frontier_id else {
            return Ok(());
        };
        let Some(entry) = crawl::frontier_entry(&self.db, frontier_id).await? else {
            return Ok(());
        };
        let c = crawl::crawl(&self.db, entry.crawl_id).await?;
        if entry.depth >= c.max_depth {
            return Ok(());
        }
        let origin_host = canon::host_key(&final_url);
        for link in &found.links {
            if c.same_host != 0 && canon::host_key(link) != origin_host {
                continue;
            }
            if self.fetcher.config().policy.check(link).is_err() {
                continue;
            }
            self.enqueue_url(
                entry.crawl_id,
                link,
                entry.depth + 1,
                &entry.source_kind,
                Some(f.id),
            )
            .await?;
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
            .classify_batch(std::slice::from_ref(&input))?
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
