//! Static sites: every folder `sites/<site>/` that has a `_truth.toml` is served as it is
//! (any file at its path, `index.html` at its directory path), and `_truth.toml` labels
//! each HTML page.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use crate::files;
use crate::util::{self, content_type_for, decode_path, label};

/// Site names the sandbox uses for its generated sites; a content folder may not take one.
pub const RESERVED: &[&str] = &[
    "telegram",
    "apps",
    "feeds",
    "forums",
    "playstore",
    "appstore",
    "apkdl",
    "forum",
    "group",
    "bulk",
    "hostile",
];

/// One static site.
#[derive(Debug)]
pub struct StaticSite {
    pub name: &'static str,
    /// URL path (`/a/b.html`) → file bytes. `_`-prefixed files are not served.
    pub files: BTreeMap<String, &'static [u8]>,
    /// Labelled pages: URL path (`/`, `/dir/`, `/a.html`) → label.
    pub pages: BTreeMap<String, &'static str>,
    /// Pages that link to an `.apk` file (crawlers read them as APK download pages).
    pub offers_apk: BTreeSet<String>,
    /// `Disallow:` prefixes from the site's robots.txt.
    pub disallowed: Vec<String>,
}

impl StaticSite {
    /// True when robots.txt keeps crawlers away from this path.
    pub fn is_disallowed(&self, path: &str) -> bool {
        self.disallowed.iter().any(|p| path.starts_with(p.as_str()))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TruthFile {
    #[serde(default)]
    pages: BTreeMap<String, String>,
}

/// Reads every static site; problems are reported in `errors` (naming the file).
pub fn load(errors: &mut Vec<String>) -> Vec<StaticSite> {
    let mut sites = Vec::new();
    for &(path, bytes) in files::all() {
        let Some(name) = path.strip_suffix("/_truth.toml") else {
            continue;
        };
        if name.contains('/') {
            continue;
        }
        if RESERVED.contains(&name) {
            errors.push(format!(
                "sites/{path}: `{name}` is a reserved site name; rename the folder"
            ));
            continue;
        }
        sites.push(load_site(name, bytes, errors));
    }
    sites
}

fn load_site(name: &'static str, truth: &[u8], errors: &mut Vec<String>) -> StaticSite {
    let prefix = format!("{name}/");
    let mut files = BTreeMap::new();
    for &(path, bytes) in files::all() {
        let Some(rel) = path.strip_prefix(prefix.as_str()) else {
            continue;
        };
        if rel.split('/').any(|seg| seg.starts_with('_')) {
            continue;
        }
        files.insert(format!("/{rel}"), bytes);
    }
    let truth_name = format!("sites/{name}/_truth.toml");
    let parsed = std::str::from_utf8(truth)
        .map_err(|e| e.to_string())
        .and_then(|s| toml::from_str::<TruthFile>(s).map_err(|e| e.to_string()));
    let mut pages = BTreeMap::new();
    match parsed {
        Err(e) => errors.push(format!("{truth_name}: {e}")),
        Ok(t) => {
            for (page, l) in t.pages {
                let l = match label(&l) {
                    Ok(l) => l,
                    Err(e) => {
                        errors.push(format!("{truth_name}: page `{page}`: {e}"));
                        continue;
                    }
                };
                let Some(url_path) = page_path(&page) else {
                    errors.push(format!(
                        "{truth_name}: page `{page}` must start with `/` and name an .html file or a directory"
                    ));
                    continue;
                };
                if !files.contains_key(&file_of(&url_path)) {
                    errors.push(format!(
                        "{truth_name}: page `{page}` has no file sites/{name}{}",
                        file_of(&url_path)
                    ));
                    continue;
                }
                if pages.insert(url_path, l).is_some() {
                    errors.push(format!("{truth_name}: page `{page}` labelled twice"));
                }
            }
        }
    }
    for file in files.keys() {
        if file.ends_with(".html") && !pages.contains_key(&url_of(file)) {
            errors.push(format!(
                "sites/{name}{file}: HTML page without a label in {truth_name}"
            ));
        }
    }
    let disallowed = files
        .get("/robots.txt")
        .map(|b| robots_disallows(&String::from_utf8_lossy(b)))
        .unwrap_or_default();
    let offers_apk = pages
        .keys()
        .filter(|p| {
            files
                .get(&file_of(p))
                .is_some_and(|b| links_to_apk(&String::from_utf8_lossy(b)))
        })
        .cloned()
        .collect();
    StaticSite {
        name,
        files,
        pages,
        offers_apk,
        disallowed,
    }
}

/// The URL path a `_truth.toml` key stands for: `/x/index.html` → `/x/`.
fn page_path(key: &str) -> Option<String> {
    if !key.starts_with('/') || key.contains(['?', '#']) {
        return None;
    }
    if key.ends_with('/') {
        return Some(key.to_string());
    }
    if key.ends_with(".html") || key.ends_with(".htm") {
        return Some(url_of(key));
    }
    None
}

/// File path behind a URL path: `/x/` → `/x/index.html`.
fn file_of(url_path: &str) -> String {
    if url_path.ends_with('/') {
        format!("{url_path}index.html")
    } else {
        url_path.to_string()
    }
}

/// URL path of a file path: `/x/index.html` → `/x/`.
fn url_of(file: &str) -> String {
    match file.strip_suffix("index.html") {
        Some(dir) if dir.ends_with('/') => dir.to_string(),
        _ => file.to_string(),
    }
}

/// True when the HTML has a link (`href`) to an `.apk` or `.xapk` file.
pub fn links_to_apk(html: &str) -> bool {
    html.split("href=").skip(1).any(|rest| {
        let rest = rest.trim_start();
        let (quote, rest) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => (q, &rest[1..]),
            _ => (' ', rest),
        };
        let end = rest
            .find(|c: char| c == quote || c == '>' || c.is_whitespace())
            .unwrap_or(rest.len());
        let target = rest[..end].split(['?', '#']).next().unwrap_or("");
        let t = target.to_ascii_lowercase();
        t.ends_with(".apk") || t.ends_with(".xapk")
    })
}

/// `Disallow:` values of a robots.txt (every group; the sandbox writes only `*` groups).
pub fn robots_disallows(robots: &str) -> Vec<String> {
    robots
        .lines()
        .filter_map(|l| {
            let l = l.split('#').next().unwrap_or("").trim();
            let (k, v) = l.split_once(':')?;
            (k.trim().eq_ignore_ascii_case("disallow") && !v.trim().is_empty())
                .then(|| v.trim().to_string())
        })
        .collect()
}

/// The router serving one static site.
pub fn router(site: &'static StaticSite) -> Router {
    Router::new().fallback(move |uri: Uri| async move { serve(site, &uri) })
}

fn serve(site: &StaticSite, uri: &Uri) -> Response {
    let path = decode_path(uri.path());
    if path
        .split('/')
        .any(|seg| seg.starts_with('_') || seg == "..")
    {
        return util::not_found();
    }
    let file = file_of(&path);
    if let Some(bytes) = site.files.get(&file) {
        return util::typed(content_type_for(&file), *bytes);
    }
    if !path.ends_with('/') && site.files.contains_key(&format!("{path}/index.html")) {
        return util::moved(&format!("{}/", uri.path()));
    }
    if path.to_ascii_lowercase().ends_with(".apk") {
        // The scam sites' "download the app" links get a (fake) APK, as in the wild.
        let name = format!("{}{path}", site.name);
        return util::typed(content_type_for(&path), crate::apps::apk_bytes(&name));
    }
    util::not_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_paths() {
        assert_eq!(page_path("/").as_deref(), Some("/"));
        assert_eq!(page_path("/index.html").as_deref(), Some("/"));
        assert_eq!(page_path("/a/index.html").as_deref(), Some("/a/"));
        assert_eq!(page_path("/a.html").as_deref(), Some("/a.html"));
        assert_eq!(page_path("a.html"), None);
        assert_eq!(page_path("/robots.txt"), None);
        assert_eq!(file_of("/admin/"), "/admin/index.html");
        assert!(links_to_apk("<a class=x href=\"/files/a.apk\">"));
        assert!(links_to_apk("<a href='https://x.top/d/B.APK?v=2'>"));
        assert!(!links_to_apk("<a href=\"/apk.html\">apk</a>"));
        assert_eq!(
            robots_disallows("User-agent: *\nDisallow: /admin/\nDisallow:\nCrawl-delay: 1"),
            vec!["/admin/".to_string()]
        );
    }
}
