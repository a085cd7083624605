//! Crawl scope per source: which discovered links a crawl follows. The stateless rules live
//! here (site or host boundary, depth, include/exclude patterns, trap shapes); the counting
//! rules (pages per crawl, URLs per host, query variants per path) need the frontier and
//! are applied by the pipeline with the limits carried here.

use regex::Regex;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::canon;

/// How far a crawl may wander from its seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// Only the seed's host and port.
    SameHost,
    /// The seed's registrable domain (any subdomain).
    SameSite,
    /// Anywhere (still subject to the URL policy).
    Any,
}

/// Scope settings as written in configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScopeConfig {
    pub boundary: Boundary,
    pub max_depth: i64,
    /// Most frontier URLs in one crawl of the source.
    pub max_pages: i64,
    /// Most frontier URLs one crawl takes from one host.
    pub max_urls_per_host: i64,
    /// Most URLs differing only in their query, per path.
    pub max_query_variants: i64,
    /// Most times one path segment may repeat (`/a/b/a/b/…`).
    pub max_segment_repeats: usize,
    /// Longest path, in segments.
    pub max_path_segments: usize,
    /// Regexes a URL must match one of (empty: all).
    pub include: Vec<String>,
    /// Regexes that exclude a URL.
    pub exclude: Vec<String>,
}

impl Default for ScopeConfig {
    fn default() -> Self {
        Self {
            boundary: Boundary::SameHost,
            max_depth: 3,
            max_pages: 5_000,
            max_urls_per_host: 5_000,
            max_query_variants: 50,
            max_segment_repeats: 3,
            max_path_segments: 20,
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// Invalid scope configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid scope pattern `{pattern}`: {source}")]
pub struct ScopeError {
    pattern: String,
    source: regex::Error,
}

/// A compiled scope.
#[derive(Debug, Clone)]
pub struct Scope {
    pub config: ScopeConfig,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

/// Why a link is out of scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfScope {
    Depth,
    OtherHost,
    OtherSite,
    NotIncluded,
    Excluded,
    RepeatingSegments,
    TooDeepPath,
}

impl Scope {
    pub fn new(config: ScopeConfig) -> Result<Self, ScopeError> {
        let compile = |ps: &[String]| -> Result<Vec<Regex>, ScopeError> {
            ps.iter()
                .map(|p| {
                    regex::RegexBuilder::new(p)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|source| ScopeError {
                            pattern: p.clone(),
                            source,
                        })
                })
                .collect()
        };
        Ok(Self {
            include: compile(&config.include)?,
            exclude: compile(&config.exclude)?,
            config,
        })
    }

    /// Whether `link`, found at `depth` on a page of `origin`, stays in scope.
    pub fn admits(&self, origin: &Url, link: &Url, depth: i64) -> Result<(), OutOfScope> {
        if depth > self.config.max_depth {
            return Err(OutOfScope::Depth);
        }
        match self.config.boundary {
            Boundary::SameHost if canon::host_key(origin) != canon::host_key(link) => {
                return Err(OutOfScope::OtherHost);
            }
            Boundary::SameSite
                if canon::registrable_domain(origin) != canon::registrable_domain(link) =>
            {
                return Err(OutOfScope::OtherSite);
            }
            _ => {}
        }
        let s = link.as_str();
        if !self.include.is_empty() && !self.include.iter().any(|r| r.is_match(s)) {
            return Err(OutOfScope::NotIncluded);
        }
        if self.exclude.iter().any(|r| r.is_match(s)) {
            return Err(OutOfScope::Excluded);
        }
        if canon::max_segment_repeats(link) > self.config.max_segment_repeats {
            return Err(OutOfScope::RepeatingSegments);
        }
        if link.path_segments().map_or(0, Iterator::count) > self.config.max_path_segments {
            return Err(OutOfScope::TooDeepPath);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn boundaries() {
        let origin = u("https://www.vinagold.top/a");
        let host = Scope::new(ScopeConfig::default()).unwrap();
        assert_eq!(
            host.admits(&origin, &u("https://www.vinagold.top/b"), 1),
            Ok(())
        );
        assert_eq!(
            host.admits(&origin, &u("https://cdn.vinagold.top/b"), 1),
            Err(OutOfScope::OtherHost)
        );
        let site = Scope::new(ScopeConfig {
            boundary: Boundary::SameSite,
            ..ScopeConfig::default()
        })
        .unwrap();
        assert_eq!(
            site.admits(&origin, &u("https://cdn.vinagold.top/b"), 1),
            Ok(())
        );
        assert_eq!(
            site.admits(&origin, &u("https://other.top/b"), 1),
            Err(OutOfScope::OtherSite)
        );
        assert_eq!(host.admits(&origin, &origin, 4), Err(OutOfScope::Depth));
    }

    #[test]
    fn patterns_and_traps() {
        let s = Scope::new(ScopeConfig {
            include: vec!["/threads/".into()],
            exclude: vec![r"\?.*sort=".into()],
            ..ScopeConfig::default()
        })
        .unwrap();
        let o = u("http://f.vn/");
        assert_eq!(s.admits(&o, &u("http://f.vn/threads/x.1/"), 1), Ok(()));
        assert_eq!(
            s.admits(&o, &u("http://f.vn/members/"), 1),
            Err(OutOfScope::NotIncluded)
        );
        assert_eq!(
            s.admits(&o, &u("http://f.vn/threads/x.1/?sort=asc"), 1),
            Err(OutOfScope::Excluded)
        );
        assert_eq!(
            s.admits(
                &o,
                &u("http://f.vn/threads/a/threads/a/threads/a/threads/a"),
                1
            ),
            Err(OutOfScope::RepeatingSegments)
        );
        let deep: String = (0..25).map(|i| format!("/s{i}")).collect();
        let deep = format!("http://f.vn/threads{deep}");
        assert_eq!(s.admits(&o, &u(&deep), 1), Err(OutOfScope::TooDeepPath));
    }

    #[test]
    fn bad_pattern_is_a_clear_error() {
        let e = Scope::new(ScopeConfig {
            include: vec!["(unclosed".into()],
            ..ScopeConfig::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("(unclosed"), "{e}");
    }
}
