//! Ground truth: every labelled item the sandbox serves (pages, messages, listings, feed
//! items, forum and group posts) with the URL and document key the crawler will record
//! for it, and the hostile endpoints with the fetch outcomes that count as handling them
//! correctly. Also the demo's crawl sources, one per site (or channel).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;

use crate::apps::Store;
use crate::content::Content;
use crate::forums::{self, Style};
use crate::hostile;
use crate::telegram::{self, PAGE_SIZE};
use crate::util::encode_path;

/// One labelled item served by the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthDoc {
    /// The sandbox site serving it (a key of `Sandbox::sites`).
    pub site: &'static str,
    /// Absolute canonical URL (`http://127.0.0.1:PORT/path?sorted=query`); it answers 200.
    pub url: String,
    /// The crawler's document identity: `web:<url>`, `telegram:<channel>/<id>`,
    /// `feed:<item url>` or `post:<permalink>`.
    pub doc_key: String,
    /// `web`, `app_listing`, `apk_page`, `telegram_message`, `feed_item` or `group_post`.
    pub kind: &'static str,
    /// One of the classifier's five labels.
    pub label: &'static str,
}

/// One endpoint judged by its fetch outcome rather than by a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthHostile {
    pub url: String,
    pub what: &'static str,
    /// Acceptable recorded outcomes, among `ok`, `refused`, `too_large`, `failed`,
    /// `not_found`, `http_error`, `robots_disallowed`.
    pub outcomes: &'static [&'static str],
}

/// The sandbox's ground truth (the generated `bulk` site is not part of it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroundTruth {
    pub docs: Vec<TruthDoc>,
    pub hostile: Vec<TruthHostile>,
}

impl GroundTruth {
    /// Number of documents per (kind, label).
    pub fn counts(&self) -> BTreeMap<(&'static str, &'static str), usize> {
        let mut m = BTreeMap::new();
        for d in &self.docs {
            *m.entry((d.kind, d.label)).or_insert(0) += 1;
        }
        m
    }

    /// The document with this key, if any.
    pub fn doc(&self, doc_key: &str) -> Option<&TruthDoc> {
        self.docs.iter().find(|d| d.doc_key == doc_key)
    }
}

/// One crawl source of the demo: what to seed, how, and how deep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoSource {
    pub name: String,
    /// `web`, `telegram`, `app_listing`, `feed` or `group_page`.
    pub kind: &'static str,
    pub seeds: Vec<String>,
    /// Link depth from the seeds that reaches everything the source covers.
    pub max_depth: u32,
    /// CSS selectors for `group_page` sources (see [`crate::selectors`]).
    pub selectors: Option<BTreeMap<String, String>>,
}

/// Acceptable outcomes for a page robots.txt disallows.
const ROBOTS: &[&str] = &["robots_disallowed"];

pub(crate) fn build(
    content: &Content,
    sites: &BTreeMap<&'static str, SocketAddr>,
    channels: &telegram::Live,
) -> GroundTruth {
    let base = |s: &str| format!("http://{}", sites[s]);
    let mut t = GroundTruth::default();
    let mut doc = |site: &'static str, url: String, doc_key: String, kind, label| {
        t.docs.push(TruthDoc {
            site,
            url,
            doc_key,
            kind,
            label,
        });
    };
    let mut hostile = Vec::new();
    for s in &content.statics {
        for (path, label) in &s.pages {
            let url = format!("{}{}", base(s.name), encode_path(path));
            if s.is_disallowed(path) {
                hostile.push(TruthHostile {
                    url,
                    what: "page disallowed by robots.txt",
                    outcomes: ROBOTS,
                });
            } else {
                // A page offering an APK download is read as one (crawler's `apk_page`).
                let kind = if s.offers_apk.contains(path) {
                    "apk_page"
                } else {
                    "web"
                };
                doc(s.name, url.clone(), format!("web:{url}"), kind, label);
            }
        }
    }
    {
        let map = channels.read().unwrap_or_else(|e| e.into_inner());
        let b = base("telegram");
        for c in map.values() {
            for m in &c.messages {
                doc(
                    "telegram",
                    format!("{b}/{}/{}", c.name, m.id),
                    format!("telegram:{}/{}", c.name.to_ascii_lowercase(), m.id),
                    "telegram_message",
                    m.label,
                );
            }
        }
    }
    for a in &content.apps {
        let site = a.store.site();
        let url = format!("{}{}", base(site), a.path());
        let kind = if a.store == Store::Apk {
            "apk_page"
        } else {
            "app_listing"
        };
        doc(site, url.clone(), format!("web:{url}"), kind, a.label);
    }
    let b = base("feeds");
    for f in &content.feeds {
        for i in &f.items {
            let url = format!("{b}{}", i.link);
            doc(
                "feeds",
                url.clone(),
                format!("feed:{url}"),
                "feed_item",
                i.label,
            );
        }
    }
    for f in &content.forums {
        for th in &f.threads {
            for p in &th.posts {
                let (site, path) = match f.style {
                    Style::Xf => ("forum", forums::xf_post_path(th, p)),
                    Style::FbGroup => ("group", forums::group_post_path(f, p)),
                };
                let url = format!("{}{path}", base(site));
                doc(
                    site,
                    url.clone(),
                    format!("post:{url}"),
                    "group_post",
                    p.label,
                );
            }
        }
    }
    let b = base("hostile");
    for e in hostile::ENDPOINTS {
        hostile.push(TruthHostile {
            url: format!("{b}{}", e.path),
            what: e.what,
            outcomes: e.outcomes,
        });
    }
    t.hostile = hostile;
    t
}

pub(crate) fn demo_sources(
    content: &Content,
    sites: &BTreeMap<&'static str, SocketAddr>,
    channels: &telegram::Live,
) -> Vec<DemoSource> {
    let base = |s: &str| format!("http://{}", sites[s]);
    let mut out = Vec::new();
    let src = |name: &str, kind, seeds, max_depth, selectors| DemoSource {
        name: name.to_string(),
        kind,
        seeds,
        max_depth,
        selectors,
    };
    for s in &content.statics {
        out.push(src(
            s.name,
            "web",
            vec![format!("{}/", base(s.name))],
            3,
            None,
        ));
    }
    {
        let map = channels.read().unwrap_or_else(|e| e.into_inner());
        for c in map.values() {
            // One page per PAGE_SIZE messages; one more for messages posted meanwhile.
            let pages = c.messages.len().div_ceil(PAGE_SIZE).max(1) as u32;
            out.push(src(
                &format!("telegram-{}", c.name),
                "telegram",
                vec![format!("{}/s/{}", base("telegram"), c.name)],
                pages,
                None,
            ));
        }
    }
    // Stores are crawled from their front page, as an operator would declare them: the
    // listings are found by following links, and an APK page's download link is fetched
    // (hashed, not stored) one level further down.
    for store in [Store::Play, Store::AppStore, Store::Apk] {
        if content.apps.iter().any(|a| a.store == store) {
            out.push(src(
                store.site(),
                "app_listing",
                vec![format!("{}/", base(store.site()))],
                2,
                None,
            ));
        }
    }
    if !content.feeds.is_empty() {
        let seeds = content
            .feeds
            .iter()
            .map(|f| format!("{}{}", base("feeds"), f.path(f.format)))
            .collect();
        out.push(src("feeds", "feed", seeds, 0, None));
    }
    if content.forums.iter().any(|f| f.style == Style::Xf) {
        out.push(src(
            "forum",
            "group_page",
            vec![format!("{}/", base("forum"))],
            forums::xf_depth(&content.forums),
            forums::selectors("xf"),
        ));
    }
    let groups: Vec<&forums::Forum> = content
        .forums
        .iter()
        .filter(|f| f.style == Style::FbGroup)
        .collect();
    if !groups.is_empty() {
        out.push(src(
            "group",
            "group_page",
            groups
                .iter()
                .map(|f| format!("{}{}", base("group"), forums::group_path(f, 0)))
                .collect(),
            groups
                .iter()
                .map(|f| forums::group_depth(f))
                .max()
                .unwrap_or(1),
            forums::selectors("fbgroup"),
        ));
    }
    out.push(src(
        "hostile",
        "web",
        vec![format!("{}/", base("hostile"))],
        2,
        None,
    ));
    out
}
