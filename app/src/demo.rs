//! `scamsweep demo`: the whole pipeline against the sandbox sites, on a fresh SQLite file.

use std::collections::BTreeMap;

use anyhow::Context;
use scamsweep_queue::pipeline::CrawlSpec;
use scamsweep_queue::workers::Role;
use scamsweep_sandbox::Sandbox;
use url::Url;

use crate::app::{self, Shutdown};
use crate::config::Config;

/// The demo's database file, recreated on every run unless `--database` names another.
pub const DEMO_DB: &str = "scamsweep-demo.db";

pub async fn run(
    mut cfg: Config,
    database_given: bool,
    once: bool,
    json: bool,
) -> anyhow::Result<()> {
    let sandbox = Sandbox::start()
        .await
        .context("cannot start the sandbox sites on 127.0.0.1")?;
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
    // The sandbox lives on loopback, which production crawlers refuse.
    cfg.crawler.allow_private_networks = true;
    cfg.crawler.default_crawl_delay_ms = cfg.crawler.default_crawl_delay_ms.min(100);
    cfg.crawler.max_crawl_delay_ms = cfg.crawler.max_crawl_delay_ms.min(1000);

    let db = app::open_db(&cfg).await?;
    let p = app::pipeline(&cfg, &db)?;
    let mut by_kind: BTreeMap<&str, Vec<Url>> = BTreeMap::new();
    for (kind, url) in sandbox.demo_seeds() {
        by_kind.entry(kind).or_default().push(Url::parse(&url)?);
    }
    for (kind, seeds) in &by_kind {
        let spec = CrawlSpec {
            source_kind: (*kind).to_string(),
            max_depth: 2,
            same_host: true,
            note: Some("demo".into()),
        };
        p.seed(&spec, seeds).await?;
    }
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
        crate::cli::print_stats(&stats, json)?;
        if !json {
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
        "\ncrawling the sandbox; look at:\n  http://{0}/api/v1/documents?status=flagged\n  http://{0}/metrics\n\
         `scamsweep --database sqlite://{DEMO_DB} stats` in another terminal; Ctrl-C to stop.",
        cfg.http.listen
    );
    app::run_workers(&cfg, p, Role::PIPELINE, &shutdown).await?;
    shutdown.trigger();
    http.await??;
    Ok(())
}
