//! `scamsweep demo`: the whole pipeline against the sandbox web, on a fresh SQLite file.
//! Every sandbox site becomes a declared source (as an operator would declare it), each
//! is crawled once, and the result is checked against the sandbox's ground truth: which
//! pages, messages, listings, feed items and posts became documents, and how each
//! hostile endpoint ended. Also `scamsweep sandbox`, which only serves the sandbox.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context;
use scamsweep_crawler::extract::GroupSelectors;
use scamsweep_crawler::source::{SourceKind, SourceSpec};
use scamsweep_queue::workers::Role;
use scamsweep_sandbox::{DemoSource, GroundTruth, Sandbox, SandboxOptions};
use scamsweep_store::Db;
use serde::Serialize;
use url::Url;

use crate::app::{self, Shutdown};
use crate::config::Config;

/// The demo's database file, recreated on every run unless `--database` names another.
pub const DEMO_DB: &str = "scamsweep-demo.db";

/// The sandbox's sources as source specs.
pub fn source_specs(sandbox: &Sandbox) -> anyhow::Result<Vec<SourceSpec>> {
    sandbox.demo_sources().iter().map(to_spec).collect()
}

fn to_spec(d: &DemoSource) -> anyhow::Result<SourceSpec> {
    let kind: SourceKind = d.kind.parse().map_err(anyhow::Error::msg)?;
    let mut scope = kind.default_scope();
    scope.max_depth = i64::from(d.max_depth);
    let selectors = match &d.selectors {
        Some(m) => Some(GroupSelectors {
            item: m.get("item").cloned().context("selectors without `item`")?,
            text: m.get("text").cloned().context("selectors without `text`")?,
            author: m.get("author").cloned(),
            time: m.get("time").cloned(),
            permalink: m.get("permalink").cloned(),
            follow: m.get("follow").cloned(),
        }),
        None => None,
    };
    Ok(SourceSpec {
        name: d.name.to_string(),
        kind,
        seeds: d
            .seeds
            .iter()
            .map(|s| Url::parse(s))
            .collect::<Result<_, _>>()?,
        scope: Some(scope),
        recrawl_minutes: None,
        selectors,
        ignore_robots: false,
        robots_override_reason: None,
    })
}

/// How the crawl's documents and fetches compare with the sandbox's ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub expected_documents: usize,
    pub found_documents: usize,
    /// kind → (expected, found)
    pub by_kind: BTreeMap<String, (usize, usize)>,
    /// Ground-truth documents with no document (first 50).
    pub missing: Vec<String>,
    pub hostile: Vec<HostileOutcome>,
    /// How the classifier's verdicts compare with the sandbox's labels.
    pub classifier: Agreement,
    /// True when every ground-truth document was found and every hostile endpoint ended
    /// in one of its acceptable outcomes.
    pub complete: bool,
}

/// The classifier against the sandbox's labelled items (text the model never saw in
/// training: the sandbox sites were written separately from the corpus).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Agreement {
    /// Labelled items that were classified.
    pub classified: usize,
    /// Of those, how many got the sandbox's label.
    pub same_label: usize,
    pub scams: usize,
    pub scams_flagged: usize,
    pub benign: usize,
    pub benign_flagged: usize,
}

/// How one hostile endpoint ended.
#[derive(Debug, Clone, Serialize)]
pub struct HostileOutcome {
    pub what: String,
    pub url: String,
    pub outcome: Option<String>,
    pub contained: bool,
}

pub async fn coverage(db: &Db, truth: &GroundTruth) -> anyhow::Result<Coverage> {
    let have: HashSet<String> = scamsweep_store::documents::doc_keys(db)
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut found = 0;
    for d in &truth.docs {
        let e = by_kind.entry(d.kind.to_string()).or_default();
        e.0 += 1;
        if have.contains(&d.doc_key) {
            e.1 += 1;
            found += 1;
        } else if missing.len() < 50 {
            missing.push(d.doc_key.clone());
        }
    }
    let outcomes: HashMap<String, String> = scamsweep_store::fetches::outcomes_by_url(db)
        .await?
        .into_iter()
        .collect();
    let hostile: Vec<HostileOutcome> = truth
        .hostile
        .iter()
        .map(|h| {
            let outcome = outcomes.get(&h.url).cloned();
            let contained = outcome.as_deref().is_some_and(|o| h.outcomes.contains(&o));
            HostileOutcome {
                what: h.what.to_string(),
                url: h.url.clone(),
                outcome,
                contained,
            }
        })
        .collect();
    let verdicts: HashMap<String, (String, Option<String>)> =
        scamsweep_store::documents::verdicts(db)
            .await?
            .into_iter()
            .map(|(k, status, label)| (k, (status, label)))
            .collect();
    let mut classifier = Agreement::default();
    for d in &truth.docs {
        let Some((status, Some(label))) = verdicts.get(&d.doc_key) else {
            continue;
        };
        classifier.classified += 1;
        classifier.same_label += usize::from(label == d.label);
        let flagged = status == "flagged";
        if d.label == "benign" {
            classifier.benign += 1;
            classifier.benign_flagged += usize::from(flagged);
        } else {
            classifier.scams += 1;
            classifier.scams_flagged += usize::from(flagged);
        }
    }
    let complete = found == truth.docs.len() && hostile.iter().all(|h| h.contained);
    Ok(Coverage {
        expected_documents: truth.docs.len(),
        found_documents: found,
        by_kind,
        missing,
        hostile,
        classifier,
        complete,
    })
}

/// Settings the demo overrides: loopback allowed, short delays and timeouts.
pub fn demo_config(mut cfg: Config) -> anyhow::Result<Config> {
    cfg.crawler.allow_networks = vec![crate::bench::LOOPBACK.parse()?];
    cfg.crawler.default_crawl_delay_ms = cfg.crawler.default_crawl_delay_ms.min(50);
    cfg.crawler.max_crawl_delay_ms = cfg.crawler.max_crawl_delay_ms.min(1000);
    cfg.crawler.total_timeout_secs = cfg.crawler.total_timeout_secs.min(5);
    cfg.crawler.connect_timeout_secs = cfg.crawler.connect_timeout_secs.min(3);
    // Hostile endpoints that time out are retried once, not four times.
    cfg.crawler.fetch_attempts = cfg.crawler.fetch_attempts.min(2);
    Ok(cfg)
}

/// Declares the sandbox's sources and starts one crawl of each.
pub async fn seed_sandbox(
    p: &scamsweep_queue::pipeline::Pipeline,
    sandbox: &Sandbox,
) -> anyhow::Result<usize> {
    let mut n = 0;
    for spec in source_specs(sandbox)? {
        crate::sources::add(&p.db, &spec, "demo").await?;
        let row = scamsweep_store::sources::by_name(&p.db, &spec.name)
            .await?
            .context("source vanished")?;
        n += p.crawl_source(&row).await?.queued;
    }
    Ok(n)
}

/// The demo's JSON summary.
#[derive(Debug, Serialize)]
struct DemoReport {
    stats: app::Stats,
    coverage: Coverage,
    sources: Vec<crate::sources::SourceStatus>,
    peak_rss_mib: Option<f64>,
    cpu_seconds: Option<f64>,
}

pub async fn run(cfg: Config, database_given: bool, once: bool, json: bool) -> anyhow::Result<()> {
    let sandbox = Sandbox::start()
        .await
        .context("cannot start the sandbox sites on 127.0.0.1")?;
    let mut cfg = demo_config(cfg)?;
    if !database_given {
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{DEMO_DB}{suffix}");
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot remove old {path}")),
            }
        }
        cfg.database = format!("sqlite://{DEMO_DB}");
    }
    let db = app::open_db(&cfg).await?;
    let p = app::pipeline(&cfg, &db)?;
    seed_sandbox(&p, &sandbox).await?;
    if !json {
        eprintln!("sandbox sites:");
        for (name, addr) in &sandbox.sites {
            eprintln!("  {name:<14} http://{addr}/");
        }
        eprintln!("database: {}", scamsweep_store::redact_url(&cfg.database));
    }
    let shutdown = Shutdown::new();
    shutdown.on_signals();
    if once {
        app::run_until_idle(&cfg, p.clone(), &shutdown).await?;
        let stats = app::collect_stats(&db, &p.queue).await?;
        let coverage = coverage(&db, &sandbox.ground_truth()).await?;
        let usage = crate::procstat::usage("self");
        if json {
            let report = DemoReport {
                stats,
                coverage,
                sources: crate::sources::list(&db).await?,
                peak_rss_mib: usage.map(|u| u.peak_rss_kib as f64 / 1024.0),
                cpu_seconds: usage.map(|u| u.cpu_ms as f64 / 1000.0),
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            crate::cli::print_stats(&stats, false)?;
            println!(
                "ground truth: {}/{} documents found, {}/{} hostile endpoints contained",
                coverage.found_documents,
                coverage.expected_documents,
                coverage.hostile.iter().filter(|h| h.contained).count(),
                coverage.hostile.len()
            );
            for m in &coverage.missing {
                println!("  missing {m}");
            }
            let a = &coverage.classifier;
            println!(
                "classifier ({}): {}/{} sandbox labels matched; {}/{} scams flagged, {}/{} benign items flagged",
                p.classifier.id(),
                a.same_label,
                a.classified,
                a.scams_flagged,
                a.scams,
                a.benign_flagged,
                a.benign
            );
            eprintln!(
                "\nflagged documents: scamsweep --database sqlite://{DEMO_DB} run, then open \
                 http://{}/api/v1/documents?status=flagged",
                cfg.http.listen
            );
        }
        return Ok(());
    }
    let http = app::serve_http(&cfg, &p, &shutdown).await?;
    eprintln!(
        "\ncrawling the sandbox; look at:\n  http://{0}/api/v1/documents?status=flagged\n  http://{0}/api/v1/sources\n  http://{0}/metrics\n\
         `scamsweep --database sqlite://{DEMO_DB} stats` in another terminal; Ctrl-C to stop.",
        cfg.http.listen
    );
    let scheduler = app::spawn_scheduler(&cfg, p.clone(), &shutdown);
    app::run_workers(&cfg, p, Role::PIPELINE, &shutdown).await?;
    shutdown.trigger();
    let _ = scheduler.await;
    http.await??;
    Ok(())
}

/// `scamsweep sandbox`: serve until stdin closes (a parent process went away) or Ctrl-C.
pub async fn serve_sandbox(pages: usize, json: bool) -> anyhow::Result<()> {
    let sandbox = Sandbox::start_with(SandboxOptions {
        generated_pages: pages,
    })
    .await
    .context("cannot start the sandbox sites on 127.0.0.1")?;
    let sites: BTreeMap<&str, String> = sandbox
        .sites
        .keys()
        .map(|k| (*k, sandbox.base(k)))
        .collect();
    if json {
        println!("{}", serde_json::json!({ "sites": sites }));
    } else {
        for (k, v) in &sites {
            println!("{k:<14} {v}/");
        }
    }
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    });
    tokio::select! {
        _ = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
