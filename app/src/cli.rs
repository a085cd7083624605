//! The command line. Every failure ends in one line on stderr saying what to fix, and a
//! non-zero exit status; never a panic or a backtrace.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use scamsweep_crawler::scope::Boundary;
use scamsweep_crawler::source::{SourceKind, SourceSpec};
use scamsweep_queue::workers::Role;
use url::Url;

use crate::app::{self, Shutdown};
use crate::config::Config;

/// scamsweep: finds scam content aimed at people in Vietnam and gets it taken down.
#[derive(Debug, Parser)]
#[command(name = "scamsweep", version, about, long_about = None)]
pub struct Cli {
    /// TOML configuration file (see README, "Configuration").
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://PATH (embedded default: sqlite://scamsweep.db) or postgres://USER@HOST:PORT/DB.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Classifier model directory, or `keyword-rules` for the baseline (default: the shipped
    /// models/ngram-vi).
    #[arg(long, global = true, value_name = "DIR")]
    pub model: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every role in one process: HTTP API and all workers.
    Run,
    /// Workers only, for scale-out: run as many of these as you like against one PostgreSQL.
    Worker {
        /// Roles to run: crawl (fetch, extract), classify (classify, triage).
        #[arg(long, value_delimiter = ',', default_value = "crawl,classify")]
        roles: Vec<Role>,
    },
    /// HTTP API only.
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Queue seed URLs for crawling.
    Crawl {
        /// Seed URLs.
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
        /// What the seeds are: web, telegram, app_listing, feed (group_page needs selectors:
        /// declare it with `sources add`).
        #[arg(long, default_value = "web")]
        source: SourceKind,
        /// How many links deep to follow from the seeds.
        #[arg(long, default_value_t = 2)]
        depth: i64,
        /// Also follow links to other hosts.
        #[arg(long)]
        any_host: bool,
        /// Run the workers here until the queue is drained, print a summary, exit.
        #[arg(long)]
        once: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Declared sources: list them with their health, add one, crawl one now.
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Counts of fetches, documents, flagged, confirmed, tickets and jobs by state.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Start the sandbox sites on loopback, crawl them into a fresh SQLite file and show the results.
    Demo {
        /// Exit when the queue is drained and print the stats summary.
        #[arg(long)]
        once: bool,
        /// Print the summary as JSON (with --once).
        #[arg(long)]
        json: bool,
    },
    /// Evidence bundles for procuracy and platforms.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Serve the sandbox sites on 127.0.0.1 until stdin closes or Ctrl-C (for exploring,
    /// and as the benchmark's separate server process).
    Sandbox {
        /// Pages in the generated `bulk` site.
        #[arg(long, default_value_t = 500)]
        pages: usize,
        /// Print the site addresses as one JSON line.
        #[arg(long)]
        json: bool,
    },
    /// Train the n-gram classifier on a labelled corpus and write a model directory.
    Train(crate::classify::TrainArgs),
    /// Classify JSONL (`--input`) or one text (`--text`).
    Classify(crate::classify::ClassifyArgs),
    /// Evaluate the model on labelled JSONL, beside the rules baseline.
    Eval(crate::classify::EvalArgs),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero if any row was edited or deleted.
    Verify {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Every source with its schedule and health.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Adds a source (or replaces the spec of the one with that name).
    Add {
        /// A TOML or JSON file holding one source spec (same keys as `[[sources]]`).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "kind", "seeds"])]
        file: Option<PathBuf>,
        #[arg(long, required_unless_present = "file")]
        name: Option<String>,
        #[arg(long, required_unless_present = "file")]
        kind: Option<SourceKind>,
        /// Seed URL (repeat for more).
        #[arg(long = "seed", value_name = "URL", required_unless_present = "file")]
        seeds: Vec<String>,
        /// Crawl again every N minutes.
        #[arg(long, value_name = "N")]
        recrawl_minutes: Option<u64>,
    },
    /// Crawls a source now (queues its seeds; with --once also runs the workers to idle).
    Crawl {
        name: String,
        #[arg(long)]
        once: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Jobs per second through the queue: a no-op job or a real fetch of a loopback page.
    Queue(crate::bench::QueueBench),
    /// A whole crawl of the generated sandbox site by worker processes.
    Crawl(crate::bench::CrawlBench),
    /// Documents per second through `classify` on one core, model against rules baseline.
    Classify(crate::bench_classify::ClassifyBench),
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Writes DIR/manifest.json and DIR/evidence.warc for one document.
    Export {
        /// Document id (see /api/v1/documents).
        doc_id: i64,
        /// Output directory (created; must not hold files already).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// Entry point: parse, run, report.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            let first = e.to_string();
            let first = first.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("error: {first} (run `scamsweep --help` for usage)");
            return ExitCode::from(2);
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SCAMSWEEP_LOG").unwrap_or_else(|_| {
        EnvFilter::new("warn,scamsweep=info,scamsweep_queue=info,scamsweep_web=info")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Loads the configuration, applying `--database`.
pub fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut cfg = Config::load(cli.config.as_deref())?;
    if let Some(db) = &cli.database {
        cfg.database = db.clone();
    }
    if let Some(m) = &cli.model {
        cfg.classifier.model = Some(m.clone());
    }
    Ok(cfg)
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let cfg = load_config(&cli)?;
    match cli.command {
        Command::Run => {
            let db = app::open_db(&cfg).await?;
            app::sync_sources(&cfg, &db).await?;
            let p = app::pipeline(&cfg, &db)?;
            let shutdown = Shutdown::new();
            shutdown.on_signals();
            let http = app::serve_http(&cfg, &p, &shutdown).await?;
            let scheduler = app::spawn_scheduler(&cfg, p.clone(), &shutdown);
            app::run_workers(&cfg, p, Role::PIPELINE, &shutdown).await?;
            shutdown.trigger();
            let _ = scheduler.await;
            http.await??;
        }
        Command::Worker { roles } => {
            let db = app::open_db(&cfg).await?;
            app::sync_sources(&cfg, &db).await?;
            let p = app::pipeline(&cfg, &db)?;
            let shutdown = Shutdown::new();
            shutdown.on_signals();
            // Crawl workers also start due recrawls; the claim makes each start happen once.
            let scheduler = roles
                .contains(&Role::Crawl)
                .then(|| app::spawn_scheduler(&cfg, p.clone(), &shutdown));
            app::run_workers(&cfg, p, &roles, &shutdown).await?;
            shutdown.trigger();
            if let Some(s) = scheduler {
                let _ = s.await;
            }
        }
        Command::Serve => {
            let db = app::open_db(&cfg).await?;
            let p = app::pipeline(&cfg, &db)?;
            let shutdown = Shutdown::new();
            shutdown.on_signals();
            app::serve_http(&cfg, &p, &shutdown).await?.await??;
        }
        Command::Migrate => {
            app::open_db(&cfg).await?;
            println!(
                "database {} is up to date",
                scamsweep_store::redact_url(&cfg.database)
            );
        }
        Command::Crawl {
            urls,
            source,
            depth,
            any_host,
            once,
            json,
        } => {
            let seeds = urls
                .iter()
                .map(|u| Url::parse(u).with_context(|| format!("`{u}` is not a valid URL")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut scope = source.default_scope();
            scope.max_depth = depth;
            if any_host {
                scope.boundary = Boundary::Any;
            }
            let spec = SourceSpec {
                name: format!("adhoc/{}", seeds[0].host_str().unwrap_or("-")),
                kind: source,
                seeds,
                scope: Some(scope),
                recrawl_minutes: None,
                selectors: None,
                ignore_robots: false,
                robots_override_reason: None,
            };
            let db = app::open_db(&cfg).await?;
            let p = app::pipeline(&cfg, &db)?;
            let start = p.start_crawl(&spec, None, Some("cli")).await?;
            return finish_crawl(&cfg, &db, &p, &start, once, json).await;
        }
        Command::Sources { command } => {
            let db = app::open_db(&cfg).await?;
            app::sync_sources(&cfg, &db).await?;
            match command {
                SourcesCommand::List { json } => {
                    let list = crate::sources::list(&db).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&list)?);
                    } else {
                        print!("{}", crate::sources::table(&list));
                    }
                }
                SourcesCommand::Add {
                    file,
                    name,
                    kind,
                    seeds,
                    recrawl_minutes,
                } => {
                    let spec = match file {
                        Some(path) => crate::sources::read_spec_file(&path)?,
                        None => SourceSpec {
                            name: name.unwrap_or_default(),
                            kind: kind.unwrap_or(SourceKind::Web),
                            seeds: seeds
                                .iter()
                                .map(|u| {
                                    Url::parse(u)
                                        .with_context(|| format!("`{u}` is not a valid URL"))
                                })
                                .collect::<anyhow::Result<Vec<_>>>()?,
                            scope: None,
                            recrawl_minutes,
                            selectors: None,
                            ignore_robots: false,
                            robots_override_reason: None,
                        },
                    };
                    let (id, created) = crate::sources::add(&db, &spec, "cli").await?;
                    println!(
                        "source {} `{}` {}",
                        id,
                        spec.name,
                        if created { "added" } else { "updated" }
                    );
                }
                SourcesCommand::Crawl { name, once, json } => {
                    let Some(row) = scamsweep_store::sources::by_name(&db, &name).await? else {
                        anyhow::bail!("no source named `{name}` (see `scamsweep sources list`)");
                    };
                    let p = app::pipeline(&cfg, &db)?;
                    let start = p.crawl_source(&row).await?;
                    return finish_crawl(&cfg, &db, &p, &start, once, json).await;
                }
            }
        }
        Command::Stats { json } => {
            let db = app::open_db(&cfg).await?;
            let p = app::pipeline(&cfg, &db)?;
            print_stats(&app::collect_stats(&db, &p.queue).await?, json)?;
        }
        Command::Audit {
            command: AuditCommand::Verify { json },
        } => {
            let db = app::open_db(&cfg).await?;
            let v = scamsweep_store::audit::verify(&db).await?;
            if json {
                println!("{}", serde_json::to_string(&v)?);
            }
            match &v.first_break {
                None => {
                    if !json {
                        println!(
                            "audit chain intact: {} rows, head #{} {}",
                            v.rows, v.head_seq, v.head_hash
                        );
                    }
                }
                Some(b) => {
                    anyhow::bail!(
                        "audit chain broken at row {}: {} ({} rows verified before it)",
                        b.seq,
                        b.reason,
                        v.rows
                    );
                }
            }
        }
        Command::Demo { once, json } => {
            crate::demo::run(cfg, cli.database.is_some(), once, json).await?;
        }
        Command::Bench { command } => match command {
            BenchCommand::Queue(args) => crate::bench::run_queue(&cfg, &args).await?,
            BenchCommand::Crawl(args) => crate::bench::run_crawl(&cfg, &args).await?,
            BenchCommand::Classify(args) => {
                let model = cfg.classifier.model.clone();
                tokio::task::block_in_place(|| crate::bench_classify::run(model.as_deref(), &args))?
            }
        },
        Command::Evidence {
            command: EvidenceCommand::Export { doc_id, out, json },
        } => {
            crate::evidence::run_cli(&cfg, doc_id, &out, json).await?;
        }
        Command::Train(args) => {
            tokio::task::block_in_place(|| crate::classify::run_train(&args))?;
        }
        Command::Classify(args) => {
            let model = cfg.classifier.model.clone();
            tokio::task::block_in_place(|| crate::classify::run_classify(&args, model.as_deref()))?;
        }
        Command::Eval(args) => {
            let model = cfg.classifier.model.clone();
            tokio::task::block_in_place(|| crate::classify::run_eval(&args, model.as_deref()))?;
        }
        Command::Sandbox { pages, json } => {
            crate::demo::serve_sandbox(pages, json).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// After seeding: report refusals, then either run to idle and summarise or say what
/// was queued. Exits non-zero when nothing could be queued.
async fn finish_crawl(
    cfg: &Config,
    db: &scamsweep_store::Db,
    p: &std::sync::Arc<scamsweep_queue::pipeline::Pipeline>,
    start: &scamsweep_queue::pipeline::CrawlStart,
    once: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !json && start.queued > 0 {
        for r in &start.refused {
            eprintln!("refused: {r}");
        }
    }
    if start.queued == 0 {
        if json {
            println!(
                "{}",
                serde_json::json!({"crawl_id": start.crawl_id, "queued": 0, "refused": start.refused})
            );
            return Ok(ExitCode::FAILURE);
        }
        anyhow::bail!("no seed was queued: {}", start.refused.join("; "));
    }
    if !once {
        if json {
            println!("{}", serde_json::to_string(start)?);
        } else {
            println!("crawl {}: {} seed(s) queued", start.crawl_id, start.queued);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let shutdown = Shutdown::new();
    shutdown.on_signals();
    app::run_until_idle(cfg, p.clone(), &shutdown).await?;
    let report = crate::sources::crawl_report(db, start).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn print_stats(stats: &app::Stats, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(stats)?);
    } else {
        print!("{stats}");
    }
    Ok(())
}
