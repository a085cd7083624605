//! Sources at the command line: reading a spec file, the `sources list` table, and the
//! per-crawl report printed after `crawl --once` / `sources crawl --once`.

use std::path::Path;

use anyhow::Context;
use scamsweep_crawler::source::SourceSpec;
use scamsweep_queue::pipeline::CrawlStart;
pub use scamsweep_queue::sources::{SourceStatus, add, list, utc};
use scamsweep_store::crawl::{self, CrawlFetch};
use scamsweep_store::{Db, sources};
use serde::Serialize;

/// A plain-text table of sources.
pub fn table(list: &[SourceStatus]) -> String {
    use std::fmt::Write;
    let mut s = format!(
        "{:<28} {:<11} {:>7} {:>7} {:>5} {:<20} {}\n",
        "name", "kind", "items", "fetches", "fails", "last success", "throttled until"
    );
    for r in list {
        let _ = writeln!(
            s,
            "{:<28} {:<11} {:>7} {:>7} {:>5} {:<20} {}",
            r.name,
            r.kind,
            r.items_last_run.map_or("-".into(), |n| n.to_string()),
            r.fetches_last_run.map_or("-".into(), |n| n.to_string()),
            r.consecutive_failures,
            r.last_success_at.as_deref().unwrap_or("-"),
            r.throttled_until.as_deref().unwrap_or("-"),
        );
    }
    if list.is_empty() {
        s.push_str("(no sources: declare [[sources]] in the config or use `sources add`)\n");
    }
    s
}

/// Reads one source spec from a TOML or JSON file.
pub fn read_spec_file(path: &Path) -> anyhow::Result<SourceSpec> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read source spec {}", path.display()))?;
    let spec: SourceSpec = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid source spec", path.display()))?
    } else {
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid source spec", path.display()))?
    };
    Ok(spec)
}

/// What one crawl did.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlReport {
    pub crawl_id: i64,
    pub queued: usize,
    pub refused_seeds: Vec<String>,
    pub outcomes: std::collections::BTreeMap<String, i64>,
    pub items: i64,
    /// Every fetch (first 1,000), with its outcome and, when refused or failed, why.
    pub fetches: Vec<CrawlFetch>,
}

pub async fn crawl_report(db: &Db, start: &CrawlStart) -> anyhow::Result<CrawlReport> {
    let (items, _) = sources::crawl_yield(db, start.crawl_id).await?;
    Ok(CrawlReport {
        crawl_id: start.crawl_id,
        queued: start.queued,
        refused_seeds: start.refused.clone(),
        outcomes: crawl::crawl_outcomes(db, start.crawl_id)
            .await?
            .into_iter()
            .collect(),
        items,
        fetches: crawl::crawl_fetches(db, start.crawl_id, 1000).await?,
    })
}

impl std::fmt::Display for CrawlReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "crawl {}: {} fetches, {} items",
            self.crawl_id,
            self.fetches.len(),
            self.items
        )?;
        for (k, v) in &self.outcomes {
            writeln!(f, "  {k:<18} {v}")?;
        }
        for x in self.fetches.iter().filter(|x| x.outcome != "ok") {
            writeln!(
                f,
                "  {} {}: {}",
                x.outcome,
                x.url,
                x.error.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    }
}
