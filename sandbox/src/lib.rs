//! The sandbox: a realistic little internet on 127.0.0.1 for the demo, the tests and the
//! benchmarks, written by this project (no third-party content). Each site listens on its
//! own port, so each is its own host for politeness and robots.txt. Nothing here reaches
//! beyond loopback. Content lives under `sandbox/sites/` (formats in `DATA.md`) and is
//! compiled in, so adding a data file needs no code change.
//!
//! Sites (names are the keys of [`Sandbox::sites`]):
//!
//! - every folder `sites/<name>/` with a `_truth.toml`: a static site ([`static_sites`]),
//!   e.g. `invest`, `impersonation`, `jobs`, `news`, `phish-bank`;
//! - `telegram`: channel previews in `t.me/s/<channel>` markup ([`telegram`]);
//! - `playstore`, `appstore`, `apkdl`: app listings and APK downloads ([`apps`]);
//! - `feeds`: RSS 2.0, Atom and JSON Feed ([`feeds`]);
//! - `forum` (XenForo-like) and `group` (saved Facebook-group-like) ([`forums`]);
//! - `bulk`: N generated pages `/p/<n>` and the older crawler-test endpoints
//!   ([`generated`]);
//! - `hostile`: endpoints that attack or fool crawlers ([`hostile`]).
//!
//! [`Sandbox::ground_truth`] lists every labelled item with the document key the crawler
//! records for it; [`Sandbox::demo_sources`] says how to crawl each site.

pub mod apps;
pub mod content;
pub mod feeds;
mod files;
pub mod forums;
pub mod generated;
pub mod hostile;
pub mod static_sites;
pub mod telegram;
pub mod truth;
pub mod util;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub use forums::selectors;
pub use truth::{DemoSource, GroundTruth, TruthDoc, TruthHostile};

/// How to start the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxOptions {
    /// Pages of the generated `bulk` site (`/p/0` … `/p/<N-1>`).
    pub generated_pages: usize,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            generated_pages: 500,
        }
    }
}

/// Running sandbox: site name → address. Dropping it stops the sites.
#[derive(Debug)]
pub struct Sandbox {
    pub sites: BTreeMap<&'static str, SocketAddr>,
    options: SandboxOptions,
    channels: telegram::Live,
    hits: BTreeMap<&'static str, Arc<AtomicUsize>>,
    trap: SocketAddr,
    trap_hits: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Problems in the content files (see [`content::errors`]); empty when all is well.
pub fn content_errors() -> Vec<String> {
    content::errors()
}

impl Sandbox {
    /// Starts every site with the default options.
    pub async fn start() -> std::io::Result<Sandbox> {
        Self::start_with(SandboxOptions::default()).await
    }

    /// Starts every site on its own loopback port, and the trap listener on 127.0.0.2.
    /// Content files that fail to parse are left out and logged (see [`content_errors`]).
    pub async fn start_with(options: SandboxOptions) -> std::io::Result<Sandbox> {
        let content = content::get();
        for e in &content.errors {
            tracing::error!(target: "scamsweep_sandbox", "sandbox content: {e}");
        }
        let mut names: Vec<&'static str> = content.statics.iter().map(|s| s.name).collect();
        names.extend([
            "telegram",
            "playstore",
            "appstore",
            "apkdl",
            "feeds",
            "forum",
            "group",
            "bulk",
            "hostile",
        ]);
        let mut listeners = Vec::with_capacity(names.len());
        let mut sites = BTreeMap::new();
        for name in &names {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            sites.insert(*name, l.local_addr()?);
            listeners.push((*name, l));
        }
        let mut tasks = Vec::new();
        let trap_hits = Arc::new(AtomicUsize::new(0));
        let trap = match tokio::net::TcpListener::bind("127.0.0.2:0").await {
            Ok(l) => {
                let addr = l.local_addr()?;
                tasks.push(tokio::spawn(hostile::run_trap(l, trap_hits.clone())));
                addr
            }
            Err(e) => {
                // Some systems (macOS) only route 127.0.0.1; the redirect still points at
                // an address the crawler must refuse.
                tracing::warn!("sandbox: no trap listener on 127.0.0.2: {e}");
                SocketAddr::from(([127, 0, 0, 2], 9))
            }
        };
        let channels = telegram::live(&content.channels);
        let mut routers: BTreeMap<&'static str, Router> = BTreeMap::new();
        for s in &content.statics {
            routers.insert(s.name, static_sites::router(s));
        }
        routers.insert("telegram", telegram::router(channels.clone()));
        for (name, r) in apps::routers(&content.apps, &sites) {
            routers.insert(name, r);
        }
        routers.insert(
            "feeds",
            feeds::router(&content.feeds, format!("http://{}", sites["feeds"])),
        );
        routers.insert("forum", forums::xf_router(&content.forums));
        routers.insert("group", forums::group_router(&content.forums));
        routers.insert("bulk", generated::router(options.generated_pages));
        routers.insert("hostile", hostile::router(trap));
        let mut hits = BTreeMap::new();
        for (name, listener) in listeners {
            let counter = Arc::new(AtomicUsize::new(0));
            hits.insert(name, counter.clone());
            let router = routers
                .remove(name)
                .unwrap_or_default()
                .layer(axum::middleware::from_fn_with_state(counter, count));
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            }));
        }
        Ok(Sandbox {
            sites,
            options,
            channels,
            hits,
            trap,
            trap_hits,
            tasks,
        })
    }

    /// Base URL of a site (`http://127.0.0.1:PORT`). Panics on an unknown site name.
    pub fn base(&self, site: &str) -> String {
        format!("http://{}", self.sites[site])
    }

    /// The options the sandbox was started with.
    pub fn options(&self) -> &SandboxOptions {
        &self.options
    }

    /// The demo's seeds as (source kind, URL): every static site as `web` (the `jobs`
    /// forum as `forum`) and every Telegram channel. Superseded by [`Self::demo_sources`].
    pub fn demo_seeds(&self) -> Vec<(&'static str, String)> {
        let content = content::get();
        let mut seeds: Vec<(&'static str, String)> = content
            .statics
            .iter()
            .map(|s| {
                let kind = if s.name == "jobs" { "forum" } else { "web" };
                (kind, format!("{}/", self.base(s.name)))
            })
            .collect();
        let map = self.channels.read().unwrap_or_else(|e| e.into_inner());
        for c in map.values() {
            seeds.push((
                "telegram",
                format!("{}/s/{}", self.base("telegram"), c.name),
            ));
        }
        seeds
    }

    /// How to crawl every site (the generated `bulk` site excluded): one source per static
    /// site, per Telegram channel, per app store, one for the feeds, the forum, the groups
    /// and the hostile site.
    pub fn demo_sources(&self) -> Vec<DemoSource> {
        truth::demo_sources(content::get(), &self.sites, &self.channels)
    }

    /// Every labelled item served now (messages posted with [`Self::post_telegram`]
    /// included) and every hostile endpoint.
    pub fn ground_truth(&self) -> GroundTruth {
        truth::build(content::get(), &self.sites, &self.channels)
    }

    /// Appends a new newest message to a channel (created if it does not exist) and
    /// returns its id. Panics if `label` is not one of the five labels.
    pub fn post_telegram(&self, channel: &str, text: &str, label: &str) -> i64 {
        let label = util::label(label).unwrap_or_else(|e| panic!("post_telegram: {e}"));
        telegram::post(&self.channels, channel, text, label)
    }

    /// Requests a site has answered so far (0 for an unknown site).
    pub fn request_count(&self, site: &str) -> usize {
        self.hits.get(site).map_or(0, |c| c.load(Ordering::SeqCst))
    }

    /// Connections accepted by the trap listener on 127.0.0.2 (a crawler that refuses
    /// private addresses keeps this at 0).
    pub fn trap_connections(&self) -> usize {
        self.trap_hits.load(Ordering::SeqCst)
    }

    /// The trap listener's address (the target of the hostile site's `/to-trap`).
    pub fn trap_addr(&self) -> SocketAddr {
        self.trap
    }
}

async fn count(State(counter): State<Arc<AtomicUsize>>, req: Request, next: Next) -> Response {
    counter.fetch_add(1, Ordering::SeqCst);
    next.run(req).await
}
