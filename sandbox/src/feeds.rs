//! The `feeds` site: news feeds from `sites/feeds/*.toml`, each served as RSS 2.0
//! (`/<slug>.rss`), Atom (`/<slug>.atom`) and JSON Feed 1.1 (`/<slug>.json`), an HTML home
//! page that advertises them, and one HTML article page per item link.

use axum::Router;
use axum::http::Uri;
use axum::response::Response;
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use crate::files;
use crate::util::{self, canonical_rel, esc, label, paragraphs, rfc3339};

/// A feed's primary format (`format` in the file): the one linked first and used as seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    pub fn ext(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    fn mime(self) -> &'static str {
        self.content_type().split(';').next().unwrap_or("")
    }
}

/// One feed.
#[derive(Debug, Clone)]
pub struct Feed {
    pub slug: String,
    pub format: Format,
    pub title: String,
    /// Site-relative home link, canonical.
    pub link: String,
    pub description: String,
    /// Newest first.
    pub items: Vec<Item>,
}

impl Feed {
    /// Path of the feed in one format.
    pub fn path(&self, f: Format) -> String {
        format!("/{}.{}", self.slug, f.ext())
    }
}

/// One feed item.
#[derive(Debug, Clone)]
pub struct Item {
    pub guid: String,
    pub title: String,
    /// Site-relative link in canonical form (`/bai/x.html`).
    pub link: String,
    pub published: DateTime<FixedOffset>,
    pub author: String,
    pub label: &'static str,
    pub content: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedFile {
    format: String,
    title: String,
    #[serde(default = "root")]
    link: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    items: Vec<ItemFile>,
}

fn root() -> String {
    "/".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemFile {
    guid: String,
    title: String,
    link: String,
    published: String,
    #[serde(default)]
    author: String,
    label: String,
    content: String,
}

/// Reads `sites/feeds/*.toml`; a file with any problem is left out and reported. Item
/// links must be unique across all feeds (each is one article page).
pub fn load(errors: &mut Vec<String>) -> Vec<Feed> {
    let mut out: Vec<Feed> = Vec::new();
    for (stem, path, bytes) in files::in_folder("feeds", ".toml") {
        match parse(stem, bytes) {
            Ok(f) => {
                let clash = f.items.iter().find(|i| {
                    i.link == "/"
                        || Format::ALL
                            .iter()
                            .any(|fmt| out.iter().chain([&f]).any(|o| o.path(*fmt) == i.link))
                        || out.iter().flat_map(|o| &o.items).any(|o| o.link == i.link)
                });
                if let Some(i) = clash {
                    errors.push(format!(
                        "sites/{path}: item link `{}` clashes with another feed or item",
                        i.link
                    ));
                    continue;
                }
                out.push(f);
            }
            Err(e) => errors.push(format!("sites/{path}: {e}")),
        }
    }
    out
}

fn parse(stem: &str, bytes: &[u8]) -> Result<Feed, String> {
    if stem.is_empty()
        || !stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("feed file names may use only a-z, 0-9 and `-`".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let f: FeedFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let format = match f.format.as_str() {
        "rss" => Format::Rss,
        "atom" => Format::Atom,
        "json" => Format::Json,
        other => return Err(format!("format `{other}` is not rss, atom or json")),
    };
    let mut items = Vec::with_capacity(f.items.len());
    for i in f.items {
        let what = format!("item `{}`", i.guid);
        if !i.link.starts_with('/') || i.link.starts_with("//") {
            return Err(format!(
                "{what}: link `{}` must be site-relative (`/...`)",
                i.link
            ));
        }
        if items.iter().any(|o: &Item| o.guid == i.guid) {
            return Err(format!("{what}: guid used twice"));
        }
        let link = canonical_rel(&i.link);
        if items.iter().any(|o: &Item| o.link == link) {
            return Err(format!("{what}: link `{link}` used twice"));
        }
        items.push(Item {
            published: rfc3339(&i.published, &what)?,
            label: label(&i.label).map_err(|e| format!("{what}: {e}"))?,
            guid: i.guid,
            title: i.title.trim().to_string(),
            link,
            author: i.author.trim().to_string(),
            content: i.content.trim().to_string(),
        });
    }
    items.sort_by(|a, b| b.published.cmp(&a.published).then(a.guid.cmp(&b.guid)));
    Ok(Feed {
        slug: stem.to_string(),
        format,
        title: f.title.trim().to_string(),
        link: canonical_rel(&f.link),
        description: f.description.trim().to_string(),
        items,
    })
}

/// Item content as HTML (paragraphs).
fn content_html(i: &Item) -> String {
    paragraphs(&i.content)
}

/// Item content as plain text (paragraphs separated by a blank line).
fn content_text(i: &Item) -> String {
    util::split_paragraphs(&i.content).join("\n\n")
}

fn newest(feed: &Feed) -> Option<DateTime<FixedOffset>> {
    feed.items.iter().map(|i| i.published).max()
}

/// RSS 2.0.
pub fn rss(feed: &Feed, base: &str) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n",
    );
    s.push_str(&format!(
        "<title>{t}</title>\n<link>{base}{l}</link>\n<description>{d}</description>\n<language>vi</language>\n\
         <atom:link href=\"{base}{p}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        t = esc(&feed.title),
        l = esc(&feed.link),
        d = esc(&feed.description),
        p = feed.path(Format::Rss),
    ));
    if let Some(n) = newest(feed) {
        s.push_str(&format!(
            "<lastBuildDate>{}</lastBuildDate>\n",
            n.to_rfc2822()
        ));
    }
    for i in &feed.items {
        s.push_str(&format!(
            "<item>\n<title>{t}</title>\n<link>{base}{l}</link>\n<guid isPermaLink=\"false\">{g}</guid>\n\
             <pubDate>{p}</pubDate>\n{a}<description>{c}</description>\n</item>\n",
            t = esc(&i.title),
            l = esc(&i.link),
            g = esc(&i.guid),
            p = i.published.to_rfc2822(),
            a = if i.author.is_empty() {
                String::new()
            } else {
                format!("<dc:creator>{}</dc:creator>\n", esc(&i.author))
            },
            c = esc(&content_html(i)),
        ));
    }
    s.push_str("</channel>\n</rss>\n");
    s
}

/// Atom 1.0.
pub fn atom(feed: &Feed, base: &str) -> String {
    let updated = newest(feed).map_or_else(
        || "2026-01-01T00:00:00+07:00".to_string(),
        |d| d.to_rfc3339(),
    );
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"vi\">\n\
         <title>{t}</title>\n<subtitle>{d}</subtitle>\n<id>tag:sandbox.scamsweep,2026:{slug}</id>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{base}{l}\"/>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{base}{p}\"/>\n<updated>{updated}</updated>\n",
        t = esc(&feed.title),
        d = esc(&feed.description),
        slug = esc(&feed.slug),
        l = esc(&feed.link),
        p = feed.path(Format::Atom),
    );
    for i in &feed.items {
        s.push_str(&format!(
            "<entry>\n<title>{t}</title>\n<id>tag:sandbox.scamsweep,2026:{slug}/{g}</id>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{base}{l}\"/>\n\
             <published>{p}</published>\n<updated>{p}</updated>\n{a}<content type=\"html\">{c}</content>\n</entry>\n",
            t = esc(&i.title),
            slug = esc(&feed.slug),
            g = esc(&i.guid),
            l = esc(&i.link),
            p = i.published.to_rfc3339(),
            a = if i.author.is_empty() {
                String::new()
            } else {
                format!("<author><name>{}</name></author>\n", esc(&i.author))
            },
            c = esc(&content_html(i)),
        ));
    }
    s.push_str("</feed>\n");
    s
}

/// JSON Feed 1.1.
pub fn json(feed: &Feed, base: &str) -> String {
    let items: Vec<serde_json::Value> = feed
        .items
        .iter()
        .map(|i| {
            let mut v = serde_json::json!({
                "id": i.guid,
                "url": format!("{base}{}", i.link),
                "title": i.title,
                "content_html": content_html(i),
                "content_text": content_text(i),
                "date_published": i.published.to_rfc3339(),
                "language": "vi",
            });
            if !i.author.is_empty() {
                v["authors"] = serde_json::json!([{ "name": i.author }]);
            }
            v
        })
        .collect();
    let v = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": format!("{base}{}", feed.link),
        "feed_url": format!("{base}{}", feed.path(Format::Json)),
        "description": feed.description,
        "language": "vi",
        "items": items,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// The site's router; `base` is `http://127.0.0.1:PORT`.
pub fn router(feeds: &'static [Feed], base: String) -> Router {
    Router::new().fallback(move |uri: Uri| {
        let base = base.clone();
        async move { serve(feeds, &base, &uri) }
    })
}

fn serve(feeds: &[Feed], base: &str, uri: &Uri) -> Response {
    let path = uri.path();
    if path == "/" {
        return util::html(home(feeds));
    }
    for f in feeds {
        for fmt in Format::ALL {
            if path == f.path(fmt) {
                let body = match fmt {
                    Format::Rss => rss(f, base),
                    Format::Atom => atom(f, base),
                    Format::Json => json(f, base),
                };
                return util::typed(fmt.content_type(), body);
            }
        }
    }
    let wanted = canonical_rel(&match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    });
    for f in feeds {
        if let Some(i) = f.items.iter().find(|i| i.link == wanted) {
            return util::html(article(f, i));
        }
    }
    util::not_found()
}

const STYLE: &str = "body{margin:0;font-family:Georgia,serif;color:#222}header{border-bottom:3px solid #0a5c8a;padding:12px 24px}\
header a{font-size:26px;font-weight:700;color:#0a5c8a;text-decoration:none}main{max-width:760px;margin:0 auto;padding:16px 24px}\
.meta{font-family:Arial,sans-serif;font-size:13px;color:#777}article p{line-height:1.65;font-size:17px}\
.feeds a{margin-right:12px}";

fn home(feeds: &[Feed]) -> String {
    let mut alternates = String::new();
    for f in feeds {
        let mut fmts = vec![f.format];
        fmts.extend(Format::ALL.into_iter().filter(|x| *x != f.format));
        for fmt in fmts {
            alternates.push_str(&format!(
                "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\">\n",
                fmt.mime(),
                esc(&f.title),
                fmt.ext().to_uppercase(),
                f.path(fmt),
            ));
        }
    }
    let title = feeds.first().map_or("Tin tức", |f| f.title.as_str());
    let mut s = format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n{alternates}<style>{STYLE}</style>\n</head>\n\
         <body>\n<header><a href=\"/\">{t}</a></header>\n<main>\n<h1>Nguồn tin (RSS, Atom, JSON Feed)</h1>\n<ul class=\"feeds\">\n",
        t = esc(title),
    );
    for f in feeds {
        s.push_str(&format!(
            "<li><b>{t}</b>: <a href=\"{rss}\">RSS</a> <a href=\"{atom}\">Atom</a> <a href=\"{json}\">JSON Feed</a><br><small>{d}</small></li>\n",
            t = esc(&f.title),
            rss = f.path(Format::Rss),
            atom = f.path(Format::Atom),
            json = f.path(Format::Json),
            d = esc(&f.description),
        ));
    }
    s.push_str("</ul>\n<h2>Bài mới</h2>\n<ul class=\"latest\">\n");
    let mut all: Vec<&Item> = feeds.iter().flat_map(|f| &f.items).collect();
    all.sort_by_key(|i| std::cmp::Reverse(i.published));
    for i in all {
        s.push_str(&format!(
            "<li><a href=\"{l}\">{t}</a> <span class=\"meta\">{d}</span></li>\n",
            l = esc(&i.link),
            t = esc(&i.title),
            d = i.published.format("%d/%m/%Y %H:%M"),
        ));
    }
    s.push_str("</ul>\n</main>\n</body>\n</html>\n");
    s
}

fn article(f: &Feed, i: &Item) -> String {
    format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t} – {ft}</title>\n\
         <link rel=\"alternate\" type=\"{mime}\" href=\"{feed}\">\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<header><a href=\"/\">{ft}</a></header>\n<main>\n<article>\n<h1>{t}</h1>\n\
         <p class=\"meta\"><span class=\"author\">{a}</span> · <time datetime=\"{iso}\">{d}</time></p>\n{c}</article>\n\
         </main>\n</body>\n</html>\n",
        t = esc(&i.title),
        ft = esc(&f.title),
        mime = f.format.mime(),
        feed = f.path(f.format),
        a = esc(&i.author),
        iso = i.published.to_rfc3339(),
        d = i.published.format("%d/%m/%Y %H:%M"),
        c = content_html(i),
    )
}
