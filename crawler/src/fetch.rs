//! One fetch, with its evidence: redirects are followed by hand (each hop checked against
//! the [`UrlPolicy`] and recorded), the body is read in chunks up to a size cap under an
//! overall deadline, and the peer address and response headers are kept. Bodies that are
//! not text (APKs, images, archives) are hashed as they stream, up to the cap, and not kept:
//! their evidence is size, type and SHA-256. `429` and `503` answers carry their
//! `Retry-After` so the caller can back off the host.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::Digest;
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
    /// The body as received (after transfer decoding), empty for binaries.
    pub body: Vec<u8>,
    /// Set when the body was not text: hashed while streaming, not kept.
    pub binary: Option<BinaryInfo>,
    /// From `Retry-After` (seconds or HTTP date) on 429 and 503 answers.
    pub retry_after: Option<Duration>,
    pub elapsed: Duration,
}

/// Evidence of a binary body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BinaryInfo {
    /// Bytes received (at most the body cap).
    pub bytes: u64,
    /// `Content-Length` as declared by the server.
    pub declared_len: Option<u64>,
    /// SHA-256 of the bytes received.
    pub sha256: String,
    /// True when the body was longer than the cap and the download was cut off.
    pub truncated: bool,
}

/// True for content types whose bodies are kept and parsed.
pub fn is_textual(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true; // sniffed by the extractor
    };
    let ct = ct.to_ascii_lowercase();
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.is_empty()
        || mime.starts_with("text/")
        || mime.ends_with("+xml")
        || mime.ends_with("+json")
        || matches!(
            mime,
            "application/xml"
                | "application/json"
                | "application/xhtml+xml"
                | "application/javascript"
        )
}

/// Most response headers kept, and longest value kept, as evidence.
const MAX_HEADERS: usize = 100;
const MAX_HEADER_VALUE: usize = 8 * 1024;

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
                policy: config.policy.clone(),
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
                .take(MAX_HEADERS)
                .map(|(k, v)| {
                    let v = v.as_bytes();
                    let v = &v[..v.len().min(MAX_HEADER_VALUE)];
                    (k.to_string(), String::from_utf8_lossy(v).into_owned())
                })
                .collect();
            let retry_after = if status == 429 || status == 503 {
                resp.headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after)
            } else {
                None
            };
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let limit = self.config.max_body_bytes;
            let (body, binary) = if is_textual(content_type.as_deref()) {
                (read_capped(resp, &current, limit).await?, None)
            } else {
                (Vec::new(), Some(hash_capped(resp, &current, limit).await?))
            };
            return Ok(Fetched {
                requested_url: requested.clone(),
                final_url: current,
                redirect_chain: chain,
                status,
                headers,
                remote_ip,
                content_type,
                body,
                binary,
                retry_after,
                elapsed: start.elapsed(),
            });
        }
    }
}

/// Reads a text body, failing once it exceeds `limit` bytes (decoded: gzip bombs stop here).
async fn read_capped(
    mut resp: reqwest::Response,
    url: &Url,
    limit: usize,
) -> Result<Vec<u8>, FetchError> {
    let too_large = || FetchError::TooLarge {
        url: url.to_string(),
        limit,
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify(url, e))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Hashes a binary body as it streams, up to `limit` bytes, keeping none of it.
async fn hash_capped(
    mut resp: reqwest::Response,
    url: &Url,
    limit: usize,
) -> Result<BinaryInfo, FetchError> {
    let declared_len = resp.content_length();
    let mut hasher = sha2::Sha256::new();
    let mut bytes = 0u64;
    let mut truncated = false;
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify(url, e))? {
        let room = (limit as u64 - bytes) as usize;
        if chunk.len() > room {
            hasher.update(&chunk[..room]);
            bytes += room as u64;
            truncated = true;
            break;
        }
        hasher.update(&chunk);
        bytes += chunk.len() as u64;
    }
    Ok(BinaryInfo {
        bytes,
        declared_len,
        sha256: hex::encode(hasher.finalize()),
        truncated,
    })
}

/// `Retry-After`: delay-seconds or an HTTP date; capped at one day.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    let d = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO)
    };
    Some(d.min(Duration::from_secs(24 * 3600)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_dates_and_garbage() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("99999999999"),
            Some(Duration::from_secs(24 * 3600))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-5"), None);
    }

    #[test]
    fn textual_types() {
        for ct in [
            None,
            Some("text/html; charset=utf-8"),
            Some("application/rss+xml"),
            Some("application/feed+json"),
            Some("application/json"),
        ] {
            assert!(is_textual(ct), "{ct:?}");
        }
        for ct in [
            Some("application/vnd.android.package-archive"),
            Some("image/png"),
            Some("application/octet-stream"),
            Some("application/zip"),
        ] {
            assert!(!is_textual(ct), "{ct:?}");
        }
    }
}
