//! One fetch, with its evidence: redirects are followed by hand (each hop checked against
//! the [`UrlPolicy`] and recorded), the body is read in chunks up to a size cap under an
//! overall deadline, and the peer address and selected headers are kept.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use url::Url;

use crate::policy::{PolicyResolver, UrlPolicy};

/// Fetcher settings.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Deadline for the whole fetch, redirects and body included.
    pub total_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub policy: UrlPolicy,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            user_agent: concat!(
                "scamsweep/",
                env!("CARGO_PKG_VERSION"),
                " (+scam-content takedown crawler)"
            )
            .to_string(),
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            max_body_bytes: 5 * 1024 * 1024,
            max_redirects: 10,
            policy: UrlPolicy::default(),
        }
    }
}

/// One step of a redirect chain.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Hop {
    pub url: String,
    pub status: u16,
}

/// A completed HTTP exchange (any status).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub requested_url: Url,
    pub final_url: Url,
    /// Every response before the final one, in order.
    pub redirect_chain: Vec<Hop>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub remote_ip: Option<IpAddr>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

/// Response headers worth keeping as evidence.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-language",
    "last-modified",
    "etag",
    "server",
    "date",
    "location",
    "x-robots-tag",
    "retry-after",
];

/// Why a fetch produced no response.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused {url}: {reason}")]
    Refused { url: String, reason: String },
    #[error("body of {url} exceeds {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("more than {limit} redirects from {url}")]
    TooManyRedirects { url: String, limit: usize },
    #[error("redirect loop at {url}")]
    RedirectLoop { url: String },
    #[error("bad redirect from {url}: {reason}")]
    BadRedirect { url: String, reason: String },
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("network error fetching {url}: {source}")]
    Network { url: String, source: reqwest::Error },
    #[error("cannot build HTTP client: {0}")]
    Client(reqwest::Error),
}

impl FetchError {
    /// Transient errors are worth retrying later; the others will fail the same way again.
    pub fn is_transient(&self) -> bool {
        matches!(self, FetchError::Timeout(_) | FetchError::Network { .. })
    }
}

/// A reusable fetcher (one connection pool, one policy).
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    config: Arc<FetchConfig>,
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .dns_resolver(PolicyResolver {
                policy: config.policy,
            })
            .no_proxy()
            .build()
            .map_err(FetchError::Client)?;
        Ok(Self {
            client,
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Fetches `url`, following redirects, within the configured deadline.
    pub async fn fetch(&self, url: &Url) -> Result<Fetched, FetchError> {
        let deadline = self.config.total_timeout;
        match tokio::time::timeout(deadline, self.fetch_inner(url)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(deadline)),
        }
    }

    async fn fetch_inner(&self, requested: &Url) -> Result<Fetched, FetchError> {
        let start = Instant::now();
        let mut chain: Vec<Hop> = Vec::new();
        let mut current = requested.clone();
        loop {
            self.config
                .policy
                .check(&current)
                .map_err(|reason| FetchError::Refused {
                    url: current.to_string(),
                    reason,
                })?;
            let resp = self
                .client
                .get(current.clone())
                .send()
                .await
                .map_err(|source| classify(&current, source))?;
            let status = resp.status().as_u16();
            if resp.status().is_redirection()
                && let Some(loc) = resp.headers().get(reqwest::header::LOCATION)
            {
                let loc = loc.to_str().map_err(|_| FetchError::BadRedirect {
                    url: current.to_string(),
                    reason: "Location header is not text".into(),
                })?;
                let next = current.join(loc).map_err(|e| FetchError::BadRedirect {
                    url: current.to_string(),
                    reason: format!("Location `{loc}`: {e}"),
                })?;
                chain.push(Hop {
                    url: current.to_string(),
                    status,
                });
                if chain.iter().any(|h| h.url == next.as_str()) {
                    return Err(FetchError::RedirectLoop {
                        url: next.to_string(),
                    });
                }
                if chain.len() > self.config.max_redirects {
                    return Err(FetchError::TooManyRedirects {
                        url: requested.to_string(),
                        limit: self.config.max_redirects,
                    });
                }
                current = next;
                continue;
            }
            let remote_ip = resp.remote_addr().map(|a| a.ip());
            if let Some(ip) = remote_ip {
                self.config
                    .policy
                    .check_ip(ip)
                    .map_err(|reason| FetchError::Refused {
                        url: current.to_string(),
                        reason,
                    })?;
            }
            let headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .filter(|(k, _)| KEPT_HEADERS.contains(&k.as_str()))
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let limit = self.config.max_body_bytes;
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Err(FetchError::TooLarge {
                    url: current.to_string(),
                    limit,
                });
            }
            let mut resp = resp;
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|source| classify(&current, source))?
            {
                if body.len() + chunk.len() > limit {
                    return Err(FetchError::TooLarge {
                        url: current.to_string(),
                        limit,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                requested_url: requested.clone(),
                final_url: current,
                redirect_chain: chain,
                status,
                headers,
                remote_ip,
                content_type,
                body,
                elapsed: start.elapsed(),
            });
        }
    }
}

/// A refusal by the resolver surfaces as a connect error; report it as a refusal so it is
/// not retried.
fn classify(url: &Url, source: reqwest::Error) -> FetchError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&source);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::PermissionDenied
        {
            return FetchError::Refused {
                url: url.to_string(),
                reason: io.to_string(),
            };
        }
        cur = e.source();
    }
    if source.is_timeout() {
        return FetchError::Timeout(Duration::ZERO);
    }
    FetchError::Network {
        url: url.to_string(),
        source,
    }
}
