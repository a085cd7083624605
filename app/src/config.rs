//! Typed configuration: built-in defaults, then a TOML file (`--config`), then
//! `SCAMSWEEP_*` environment variables (nested keys joined by `__`, e.g.
//! `SCAMSWEEP_CRAWLER__DEFAULT_CRAWL_DELAY_MS=500`), then `--database`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use scamsweep_crawler::source::SourceSpec;
use scamsweep_crawler::{FetchConfig, UrlPolicy};
use scamsweep_queue::QueueSettings;
use scamsweep_queue::pipeline::PipelineSettings;
use scamsweep_queue::workers::WorkerSettings;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://PATH` (embedded default) or `postgres://USER@HOST:PORT/DB` (scale-out).
    pub database: String,
    pub http: HttpConfig,
    pub crawler: CrawlerConfig,
    pub queue: QueueConfig,
    pub workers: WorkersConfig,
    pub triage: TriageConfig,
    pub classifier: ClassifierConfig,
    /// Declared sources (`[[sources]]`), synchronised into the database at start.
    pub sources: Vec<SourceSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database: "sqlite://scamsweep.db".into(),
            http: HttpConfig::default(),
            crawler: CrawlerConfig::default(),
            queue: QueueConfig::default(),
            workers: WorkersConfig::default(),
            triage: TriageConfig::default(),
            classifier: ClassifierConfig::default(),
            sources: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address the HTTP API listens on.
    pub listen: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrawlerConfig {
    pub user_agent: String,
    /// Non-public networks the crawler may nevertheless reach, as CIDR
    /// (`["127.0.0.1/32"]` for the sandbox; empty in production).
    pub allow_networks: Vec<IpNet>,
    /// Static name → addresses answers used instead of DNS (checked like DNS answers).
    pub hosts: BTreeMap<String, Vec<IpAddr>>,
    /// Concurrent fetches per host, shared by all processes.
    pub host_concurrency: i64,
    /// Seconds between two looks for sources due for a recrawl.
    pub schedule_interval_secs: u64,
    pub connect_timeout_secs: u64,
    pub total_timeout_secs: u64,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub default_crawl_delay_ms: u64,
    pub max_crawl_delay_ms: u64,
    pub robots_ttl_secs: u64,
    pub fetch_attempts: usize,
}

impl Default for CrawlerConfig {
    fn default() -> Self {
        let f = FetchConfig::default();
        let p = PipelineSettings::default();
        Self {
            user_agent: f.user_agent,
            allow_networks: Vec::new(),
            hosts: BTreeMap::new(),
            host_concurrency: p.host_concurrency,
            schedule_interval_secs: 30,
            connect_timeout_secs: f.connect_timeout.as_secs(),
            total_timeout_secs: f.total_timeout.as_secs(),
            max_body_bytes: f.max_body_bytes,
            max_redirects: f.max_redirects,
            default_crawl_delay_ms: p.default_crawl_delay.as_millis() as u64,
            max_crawl_delay_ms: p.max_crawl_delay.as_millis() as u64,
            robots_ttl_secs: p.robots_ttl.as_secs(),
            fetch_attempts: p.fetch_attempts,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    pub poll_interval_ms: u64,
    pub heartbeat_secs: u64,
    pub missed_heartbeats: usize,
    pub batch_size: usize,
    pub max_attempts: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        let q = QueueSettings::default();
        Self {
            poll_interval_ms: q.poll_interval.as_millis() as u64,
            heartbeat_secs: q.heartbeat.as_secs(),
            missed_heartbeats: q.missed_heartbeats,
            batch_size: q.batch_size,
            max_attempts: q.max_attempts,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkersConfig {
    pub concurrency: usize,
    pub retries: usize,
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    pub job_timeout_secs: u64,
    pub shutdown_timeout_secs: u64,
}

impl Default for WorkersConfig {
    fn default() -> Self {
        let w = WorkerSettings::default();
        Self {
            concurrency: w.concurrency,
            retries: w.retries,
            backoff_min_ms: w.backoff_min.as_millis() as u64,
            backoff_max_ms: w.backoff_max.as_millis() as u64,
            job_timeout_secs: w.job_timeout.as_secs(),
            shutdown_timeout_secs: w.shutdown_timeout.as_secs(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriageConfig {
    /// Extra floor on the probability of a fraud label before a document goes to review.
    /// The model's own per-class thresholds decide the label; 0 (the default) trusts them.
    pub flag_threshold: f32,
}

impl Default for TriageConfig {
    fn default() -> Self {
        Self {
            flag_threshold: PipelineSettings::default().flag_threshold,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// Model directory (`model.safetensors` + `config.json`), or `keyword-rules` for the
    /// baseline. Unset: the shipped `models/ngram-vi`.
    pub model: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults ← file ← environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Missing(path.display().to_string()));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        fig = fig.merge(
            Env::prefixed("SCAMSWEEP_")
                .split("__")
                .ignore(&["test_pg", "log"]),
        );
        let cfg: Config = fig.extract().map_err(|e| {
            // figment's message already names the key and the source (file or env var).
            ConfigError::Invalid(e.to_string().replace('\n', "; "))
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        if !(0.0..=1.0).contains(&self.triage.flag_threshold) {
            return bad("triage.flag_threshold must be between 0 and 1");
        }
        if self.workers.concurrency == 0 || self.queue.batch_size == 0 {
            return bad("workers.concurrency and queue.batch_size must be at least 1");
        }
        if self.workers.backoff_min_ms > self.workers.backoff_max_ms
            || self.workers.backoff_max_ms == 0
        {
            return bad(
                "workers.backoff_min_ms must not exceed workers.backoff_max_ms, which must be above 0",
            );
        }
        if self.queue.heartbeat_secs == 0 || self.queue.missed_heartbeats == 0 {
            return bad("queue.heartbeat_secs and queue.missed_heartbeats must be at least 1");
        }
        if self.crawler.fetch_attempts == 0 {
            return bad("crawler.fetch_attempts must be at least 1");
        }
        if !(1..=64).contains(&self.crawler.host_concurrency) {
            return bad("crawler.host_concurrency must be between 1 and 64");
        }
        if self.crawler.max_body_bytes < 1024 {
            return bad("crawler.max_body_bytes must be at least 1024");
        }
        let mut names = std::collections::BTreeSet::new();
        for s in &self.sources {
            s.validate()
                .map_err(|e| ConfigError::Invalid(format!("sources: {e}")))?;
            if !names.insert(s.name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "sources: the name `{}` is used twice",
                    s.name
                )));
            }
        }
        Ok(())
    }

    pub fn fetch_config(&self) -> FetchConfig {
        FetchConfig {
            user_agent: self.crawler.user_agent.clone(),
            connect_timeout: Duration::from_secs(self.crawler.connect_timeout_secs),
            total_timeout: Duration::from_secs(self.crawler.total_timeout_secs),
            max_body_bytes: self.crawler.max_body_bytes,
            max_redirects: self.crawler.max_redirects,
            policy: UrlPolicy {
                allow_networks: Arc::new(self.crawler.allow_networks.clone()),
                hosts: Arc::default(),
            }
            .with_hosts(self.crawler.hosts.clone()),
        }
    }

    pub fn pipeline_settings(&self) -> PipelineSettings {
        PipelineSettings {
            default_crawl_delay: Duration::from_millis(self.crawler.default_crawl_delay_ms),
            max_crawl_delay: Duration::from_millis(self.crawler.max_crawl_delay_ms),
            robots_ttl: Duration::from_secs(self.crawler.robots_ttl_secs),
            fetch_attempts: self.crawler.fetch_attempts,
            flag_threshold: self.triage.flag_threshold,
            host_concurrency: self.crawler.host_concurrency,
            ..PipelineSettings::default()
        }
    }

    pub fn queue_settings(&self) -> QueueSettings {
        QueueSettings {
            poll_interval: Duration::from_millis(self.queue.poll_interval_ms.max(10)),
            heartbeat: Duration::from_secs(self.queue.heartbeat_secs),
            missed_heartbeats: self.queue.missed_heartbeats,
            batch_size: self.queue.batch_size,
            max_attempts: self.queue.max_attempts,
        }
    }

    pub fn worker_settings(&self) -> WorkerSettings {
        WorkerSettings {
            concurrency: self.workers.concurrency,
            retries: self.workers.retries,
            backoff_min: Duration::from_millis(self.workers.backoff_min_ms),
            backoff_max: Duration::from_millis(self.workers.backoff_max_ms),
            job_timeout: Duration::from_secs(self.workers.job_timeout_secs),
            instances: 1,
            shutdown_timeout: Duration::from_secs(self.workers.shutdown_timeout_secs),
        }
    }
}
