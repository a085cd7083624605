//! Source specs: what one source is (kind and seeds), how far its crawl may go (scope),
//! how often it is crawled again, how its pages are read (group-page selectors) and
//! whether robots.txt is overridden for it (only with a recorded reason). The same spec
//! comes from the config file, the CLI and the API, and is stored as JSON.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::extract::GroupSelectors;
use crate::scope::{Boundary, Scope, ScopeConfig};

/// The kinds of source, each read by its own adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Websites: main text, forms, scripts, outlinks.
    Web,
    /// Public Telegram channel previews (`t.me/s/<channel>`), one document per message.
    Telegram,
    /// App-store listings and APK download pages.
    AppListing,
    /// RSS, Atom and JSON Feed.
    Feed,
    /// List-of-posts pages read with configured CSS selectors.
    GroupPage,
}

impl SourceKind {
    pub const ALL: [SourceKind; 5] = [
        SourceKind::Web,
        SourceKind::Telegram,
        SourceKind::AppListing,
        SourceKind::Feed,
        SourceKind::GroupPage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Web => "web",
            SourceKind::Telegram => "telegram",
            SourceKind::AppListing => "app_listing",
            SourceKind::Feed => "feed",
            SourceKind::GroupPage => "group_page",
        }
    }

    /// The scope a source of this kind gets when its spec names none: channels page back
    /// through `?before=` links (one level per page), feeds are read alone.
    pub fn default_scope(self) -> ScopeConfig {
        let base = ScopeConfig::default();
        match self {
            SourceKind::Web => base,
            SourceKind::Telegram => ScopeConfig {
                max_depth: 500,
                max_query_variants: 1_000,
                ..base
            },
            SourceKind::AppListing => ScopeConfig {
                max_depth: 2,
                ..base
            },
            SourceKind::Feed => ScopeConfig {
                max_depth: 0,
                ..base
            },
            SourceKind::GroupPage => ScopeConfig {
                max_depth: 6,
                ..base
            },
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SourceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown source kind `{s}` (expected web, telegram, app_listing, feed or group_page)")
            })
    }
}

/// One source, as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Unique name, e.g. `telegram/tinhieuvip`.
    pub name: String,
    pub kind: SourceKind,
    pub seeds: Vec<Url>,
    /// Crawl scope; the kind's default when absent.
    #[serde(default)]
    pub scope: Option<ScopeConfig>,
    /// Crawl again this many minutes after the last crawl started; never when absent.
    #[serde(default)]
    pub recrawl_minutes: Option<u64>,
    /// CSS selectors for `group_page` sources.
    #[serde(default)]
    pub selectors: Option<GroupSelectors>,
    /// Fetch pages robots.txt disallows. Requires `robots_override_reason`; the override
    /// is written to the audit log with it on every crawl.
    #[serde(default)]
    pub ignore_robots: bool,
    #[serde(default)]
    pub robots_override_reason: Option<String>,
}

/// An invalid source spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("source `{name}`: {reason}")]
pub struct SpecError {
    pub name: String,
    pub reason: String,
}

impl SourceSpec {
    /// The effective scope.
    pub fn scope(&self) -> ScopeConfig {
        self.scope
            .clone()
            .unwrap_or_else(|| self.kind.default_scope())
    }

    /// Checks everything that can be checked without the network.
    pub fn validate(&self) -> Result<(), SpecError> {
        let err = |reason: String| SpecError {
            name: self.name.clone(),
            reason,
        };
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return Err(err("name must be 1 to 200 characters".into()));
        }
        if self.seeds.is_empty() {
            return Err(err("at least one seed URL is needed".into()));
        }
        for s in &self.seeds {
            if !matches!(s.scheme(), "http" | "https") {
                return Err(err(format!("seed {s} is not http or https")));
            }
        }
        Scope::new(self.scope()).map_err(|e| err(e.to_string()))?;
        match (&self.selectors, self.kind) {
            (None, SourceKind::GroupPage) => {
                return Err(err("a group_page source needs `selectors`".into()));
            }
            (Some(sel), SourceKind::GroupPage) => sel.validate().map_err(err)?,
            (Some(_), _) => {
                return Err(err("`selectors` only apply to group_page sources".into()));
            }
            (None, _) => {}
        }
        if self.ignore_robots
            && self
                .robots_override_reason
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
        {
            return Err(err(
                "ignore_robots needs robots_override_reason (the lawful basis, recorded in the audit log)"
                    .into(),
            ));
        }
        if let Some(m) = self.recrawl_minutes
            && m == 0
        {
            return Err(err("recrawl_minutes must be at least 1".into()));
        }
        Ok(())
    }

    /// Whether the crawl keeps to the seed's host (the old per-crawl flag).
    pub fn same_host(&self) -> bool {
        self.scope().boundary == Boundary::SameHost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_like: serde_json::Value) -> Result<SourceSpec, String> {
        let s: SourceSpec = serde_json::from_value(toml_like).map_err(|e| e.to_string())?;
        s.validate().map_err(|e| e.to_string())?;
        Ok(s)
    }

    #[test]
    fn valid_specs() {
        let s = spec(serde_json::json!({
            "name": "telegram/kenh", "kind": "telegram",
            "seeds": ["https://t.me/s/kenh"], "recrawl_minutes": 15
        }))
        .unwrap();
        assert_eq!(s.scope().max_depth, 500);
        let g = spec(serde_json::json!({
            "name": "forum", "kind": "group_page", "seeds": ["https://f.vn/"],
            "selectors": {"item": "article.message", "text": ".bbWrapper"}
        }))
        .unwrap();
        assert!(g.same_host());
    }

    #[test]
    fn invalid_specs_say_why() {
        let cases = [
            (
                serde_json::json!({"name": "x", "kind": "web", "seeds": []}),
                "seed",
            ),
            (
                serde_json::json!({"name": "x", "kind": "group_page", "seeds": ["https://a.vn/"]}),
                "selectors",
            ),
            (
                serde_json::json!({"name": "x", "kind": "web", "seeds": ["https://a.vn/"], "ignore_robots": true}),
                "robots_override_reason",
            ),
            (
                serde_json::json!({"name": "x", "kind": "web", "seeds": ["ftp://a.vn/"]}),
                "http",
            ),
            (
                serde_json::json!({"name": "x", "kind": "web", "seeds": ["https://a.vn/"], "scope": {"include": ["("]}}),
                "pattern",
            ),
            (
                serde_json::json!({"name": "x", "kind": "blog", "seeds": ["https://a.vn/"]}),
                "unknown variant",
            ),
            (
                serde_json::json!({"name": "x", "kind": "group_page", "seeds": ["https://a.vn/"], "selectors": {"item": "[[[", "text": "p"}}),
                "[[[",
            ),
        ];
        for (v, want) in cases {
            let e = spec(v.clone()).unwrap_err();
            assert!(e.contains(want), "{v}: {e}");
        }
    }
}
