//! Owns the APK download page adapter: a page offering an `.apk` file becomes an
//! `apk_page` item whose meta records the file's absolute URL, the size the page declares
//! and the package name it claims; the APK link is returned first among the links so the
//! crawler fetches (and hashes) the file itself.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Html;
use serde_json::json;
use url::Url;

use super::{attr, clip, fold_vi, sel, short_text};
use crate::extract::{Extracted, ItemDraft, MAX_LINKS, web_key};

/// A download link to an APK found on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApkLink {
    pub url: Url,
    /// The link's `data-size`, when it has one.
    pub size_attr: Option<String>,
}

fn is_apk_path(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.ends_with(".apk") || s.ends_with(".xapk")
}

/// The first link on the page to an `.apk` (or `.xapk`) file.
pub(crate) fn find_apk_link(final_url: &Url, doc: &Html) -> Option<ApkLink> {
    doc.select(&sel("a[href]")).take(20_000).find_map(|a| {
        let href = a.value().attr("href")?;
        let u = crate::extract::abs_http_url(final_url, href)?;
        let named_apk = attr(a, "download").is_some_and(is_apk_path);
        (is_apk_path(u.path()) || named_apk).then(|| ApkLink {
            url: u,
            size_attr: attr(a, "data-size").map(|s| clip(s, 64)),
        })
    })
}

static SIZE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,6}(?:[.,]\d{1,3})?)\s?(kb|mb|gb|ko|mo|go)\b").expect("static regex")
});
static JAVA_PACKAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([a-zA-Z][a-zA-Z0-9_]{0,63}(?:\.[a-zA-Z][a-zA-Z0-9_]{0,63}){1,15})\b")
        .expect("static regex")
});

/// A size written as text (`38 MB`, `52,3 MB`, `900 KB`) in bytes, 1 MB = 1024 × 1024.
pub fn size_to_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let c = SIZE.captures(s)?;
    let n: f64 = c[1].replace(',', ".").parse().ok()?;
    let mult = match c[2].to_ascii_lowercase().as_str() {
        "kb" | "ko" => 1024.0,
        "mb" | "mo" => 1024.0 * 1024.0,
        _ => 1024.0 * 1024.0 * 1024.0,
    };
    let v = (n * mult).round();
    (v.is_finite() && (0.0..1e15).contains(&v)).then_some(v as u64)
}

/// The size the page declares: the link's `data-size`, any `[data-size]`, else the first
/// size written in the text, preferring one after "size"/"dung lượng"/"kích thước".
fn declared_size(doc: &Html, link: &ApkLink, text: &str) -> Option<String> {
    if let Some(s) = &link.size_attr {
        return Some(s.clone());
    }
    if let Some(s) = doc
        .select(&sel("[data-size]"))
        .find_map(|e| attr(e, "data-size"))
    {
        return Some(clip(s, 64));
    }
    let folded = fold_vi(text);
    // Folding keeps byte offsets only for ASCII, so search near keywords in the folded text.
    for key in ["dung luong", "kich thuoc", "size", "kich co"] {
        if let Some(p) = folded.find(key) {
            let window = &folded[p..crate::extract::floor_boundary(&folded, p + 80)];
            if let Some(m) = SIZE.find(window) {
                return Some(m.as_str().to_uppercase());
            }
        }
    }
    SIZE.find(text).map(|m| m.as_str().to_string())
}

/// The package the page claims: `.package-name`, else a Java-package-looking token shortly
/// after "package" or "gói".
fn package_name(doc: &Html, text: &str) -> Option<String> {
    let looks_like = |t: &str| {
        let lower = t.to_ascii_lowercase();
        t.contains('.')
            && ![
                "apk", "xapk", "html", "htm", "php", "com", "vn", "net", "jpg", "png",
            ]
            .iter()
            .any(|ext| lower.ends_with(&format!(".{ext}")))
    };
    if let Some(p) = doc
        .select(&sel(
            ".package-name, [itemprop=\"identifier\"], [data-package]",
        ))
        .find_map(|e| {
            attr(e, "data-package")
                .map(str::to_string)
                .or_else(|| short_text(e))
        })
    {
        let p = p.trim();
        if let Some(m) = JAVA_PACKAGE.find(p) {
            return Some(m.as_str().to_string());
        }
    }
    let folded = fold_vi(text);
    for key in ["package", "goi"] {
        let (mut from, mut tries) = (0, 0);
        while let Some(p) = folded[from..].find(key) {
            let start = from + p;
            let end = crate::extract::floor_boundary(&folded, start + 120);
            // Folding only shortens non-ASCII letters, and a package is ASCII: search the
            // folded window itself.
            if let Some(m) = JAVA_PACKAGE
                .find_iter(&folded[start + key.len()..end])
                .map(|m| m.as_str())
                .find(|t| looks_like(t))
            {
                // Folding lower-cased it: take the original spelling from the text.
                let original = JAVA_PACKAGE
                    .find_iter(text)
                    .map(|o| o.as_str())
                    .find(|o| o.eq_ignore_ascii_case(m));
                return Some(original.unwrap_or(m).to_string());
            }
            from = start + key.len();
            tries += 1;
            if from >= folded.len() || tries >= 50 {
                break;
            }
        }
    }
    None
}

pub(crate) fn extract(final_url: &Url, doc: &Html, apk: ApkLink) -> Extracted {
    let basics = super::web::page_basics(final_url, doc);
    // Sizes and package names often sit outside the main text (info boxes, sidebars).
    let full = doc
        .select(&sel("body"))
        .next()
        .map(super::visible_text)
        .unwrap_or_default();
    let declared = declared_size(doc, &apk, &full);
    let meta = json!({
        "apk_url": apk.url.as_str(),
        "declared_size": declared,
        "declared_size_bytes": declared.as_deref().and_then(size_to_bytes),
        "package_name": package_name(doc, &full),
        "description": basics.description,
    });
    let mut links = vec![apk.url.clone()];
    links.extend(
        basics
            .links
            .into_vec()
            .into_iter()
            .filter(|u| *u != apk.url),
    );
    links.truncate(MAX_LINKS);
    let items = if basics.text.is_empty() && basics.title.is_none() {
        Vec::new()
    } else {
        vec![
            ItemDraft {
                title: basics.title,
                meta,
                ..ItemDraft::new(
                    web_key(final_url),
                    "apk_page",
                    final_url.as_str(),
                    basics.text,
                )
            }
            .finish(),
        ]
    };
    Extracted {
        items,
        links,
        telegram_max_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;
    use serde_json::Value;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const PAGE: &str = include_str!("../../tests/fixtures/apk_download_page.html");

    #[test]
    fn apk_page_meta_and_links() {
        let e = extract(
            &url("http://127.0.0.1:9/app/vneid-cap-nhat.html"),
            Some("text/html; charset=utf-8"),
            PAGE.as_bytes(),
        );
        let it = &e.items[0];
        assert_eq!(it.kind, "apk_page");
        assert_eq!(it.doc_key, "web:http://127.0.0.1:9/app/vneid-cap-nhat.html");
        assert_eq!(
            it.meta["apk_url"],
            "http://127.0.0.1:9/files/vneid-2.1.4.apk"
        );
        assert_eq!(it.meta["declared_size"], "38 MB");
        assert_eq!(it.meta["declared_size_bytes"], 38 * 1024 * 1024);
        assert_eq!(it.meta["package_name"], "vn.gov.vneid.app.update");
        assert_eq!(e.links[0], url("http://127.0.0.1:9/files/vneid-2.1.4.apk"));
        assert!(e.links.contains(&url("http://127.0.0.1:9/")));
        assert_eq!(
            e.links
                .iter()
                .filter(|l| l.path().ends_with(".apk"))
                .count(),
            1
        );
        assert!(it.text.contains("Tải VNeID"), "{}", it.text);
    }

    #[test]
    fn size_from_attribute_and_package_from_class() {
        let html = r#"<html><body><h1>Tải app</h1>
        <span class="package-name">com.evn.HoanTien</span>
        <a class="btn" href="/d/evn.APK" data-size="41943040">Tải xuống</a></body></html>"#;
        let e = extract(&url("http://h/p"), Some("text/html"), html.as_bytes());
        let m = &e.items[0].meta;
        assert_eq!(e.items[0].kind, "apk_page");
        assert_eq!(m["declared_size"], "41943040");
        assert_eq!(m["declared_size_bytes"], 41_943_040);
        assert_eq!(m["package_name"], "com.evn.HoanTien");
        assert_eq!(m["apk_url"], "http://h/d/evn.APK");
    }

    #[test]
    fn missing_fields_and_hostile_pages() {
        let html = r#"<html><body><a href="/x.apk?v=1">tải</a></body></html>"#;
        let e = extract(&url("http://h/p"), Some("text/html"), html.as_bytes());
        let m = &e.items[0].meta;
        assert_eq!(m["declared_size"], Value::Null);
        assert_eq!(m["package_name"], Value::Null);
        assert_eq!(e.links, vec![url("http://h/x.apk?v=1")]);

        // Not an APK link: javascript:, a directory named .apk/, an .apk host.
        let html = r#"<html><body><a href="javascript:dl('a.apk')">x</a><a href="/apk/">y</a><a href="http://tai.apk/">z</a><p>nội dung</p></body></html>"#;
        let e = extract(&url("http://h/p"), Some("text/html"), html.as_bytes());
        assert_eq!(e.items[0].kind, "web");

        // 100k APK links: one page item, bounded links.
        let mut html = String::from("<html><body><p>Gói cài đặt: ");
        html.push_str(&"a.".repeat(50_000));
        html.push_str("</p>");
        for i in 0..100_000 {
            html.push_str(&format!("<a href=\"/f/{i}.apk\">{i} MB</a>"));
        }
        let e = extract(&url("http://h/p"), Some("text/html"), html.as_bytes());
        assert_eq!(e.items.len(), 1);
        assert_eq!(e.links.len(), MAX_LINKS);
        assert_eq!(e.links[0], url("http://h/f/0.apk"));
    }

    #[test]
    fn sizes() {
        assert_eq!(size_to_bytes("38 MB"), Some(38 * 1024 * 1024));
        assert_eq!(size_to_bytes("52,3 MB"), Some(54_840_525));
        assert_eq!(size_to_bytes("900KB"), Some(921_600));
        assert_eq!(size_to_bytes("123"), Some(123));
        assert_eq!(size_to_bytes("nhiều MB"), None);
        assert_eq!(size_to_bytes(""), None);
    }
}
