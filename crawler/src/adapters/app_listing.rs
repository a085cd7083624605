//! Owns the app-store listing adapter (Google Play-like and App Store-like pages): reads an
//! app's name, developer, package id, description, installs, rating, update date, version,
//! size and permissions from JSON-LD (`SoftwareApplication`/`MobileApplication`), microdata
//! and listing markup, and follows the store's other listings linked from the page.

use scraper::{ElementRef, Html};
use serde_json::{Map, Value, json};
use url::Url;

use super::{attr, clip, sel, short_text, visible_text};
use crate::extract::{Extracted, ItemDraft, normalize_ws, web_key};

/// Most permissions kept for one listing.
pub const MAX_PERMISSIONS: usize = 100;
/// Most JSON-LD blocks read from one page.
const MAX_JSONLD_BLOCKS: usize = 16;
/// Most JSON values visited while looking for the app in one JSON-LD block.
const MAX_JSONLD_NODES: usize = 10_000;

const APP_TYPES: &[&str] = &[
    "softwareapplication",
    "mobileapplication",
    "webapplication",
    "videogame",
];

fn is_app_type(v: &Value) -> bool {
    let one = |s: &str| {
        let s = s.rsplit(['/', ':']).next().unwrap_or(s);
        APP_TYPES.iter().any(|t| t.eq_ignore_ascii_case(s))
    };
    match v {
        Value::String(s) => one(s),
        Value::Array(a) => a.iter().filter_map(Value::as_str).any(one),
        _ => false,
    }
}

/// The first JSON-LD object on the page typed as an application, if any. Unparseable
/// blocks are skipped.
pub(crate) fn jsonld_app(doc: &Html) -> Option<Map<String, Value>> {
    for script in doc
        .select(&sel("script[type]"))
        .filter(|s| {
            s.value()
                .attr("type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
        })
        .take(MAX_JSONLD_BLOCKS)
    {
        let raw: String = script.text().take(64).collect::<Vec<_>>().concat();
        if raw.len() > 1024 * 1024 {
            continue;
        }
        let raw = raw
            .trim()
            .trim_start_matches("<!--")
            .trim_end_matches("-->")
            .trim();
        let Ok(value) = serde_json::from_str::<Value>(raw) else {
            continue;
        };
        let mut stack = vec![&value];
        let mut visited = 0;
        while let Some(v) = stack.pop() {
            visited += 1;
            if visited > MAX_JSONLD_NODES {
                break;
            }
            match v {
                Value::Object(o) => {
                    if o.get("@type").is_some_and(is_app_type) {
                        return Some(o.clone());
                    }
                    stack.extend(o.values().rev());
                }
                Value::Array(a) => stack.extend(a.iter().rev()),
                _ => {}
            }
        }
    }
    None
}

fn has_listing_markup(doc: &Html) -> bool {
    doc.select(&sel(
        "[itemprop=\"numDownloads\"], ul.permissions, [itemprop=\"softwareVersion\"], [itemprop=\"operatingSystem\"], [itemprop=\"applicationCategory\"]",
    ))
    .next()
    .is_some()
}

fn has_app_microdata(doc: &Html) -> bool {
    doc.select(&sel("[itemscope][itemtype]"))
        .take(100)
        .any(|e| {
            e.value()
                .attr("itemtype")
                .is_some_and(|t| is_app_type(&Value::String(t.trim().to_string())))
        })
}

/// Whether a page is an app listing: JSON-LD or microdata typed as an application, or
/// listing markup on an `app_listing` source.
pub(crate) fn detect(doc: &Html, source_kind: &str) -> bool {
    jsonld_app(doc).is_some()
        || has_app_microdata(doc)
        || (source_kind == "app_listing" && has_listing_markup(doc))
}

/// A JSON-LD value as one line of text: a string, a number, or an object's `name`.
fn ld_text(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => return ld_text(o.get("name")),
        Value::Array(a) => return a.iter().find_map(|x| ld_text(Some(x))),
        _ => return None,
    };
    let s = normalize_ws(&s).replace('\n', " ");
    (!s.is_empty()).then(|| clip(&s, 4096))
}

fn ld_number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

/// Text of an itemprop: its `content`, `datetime` or `value` attribute, else its text.
fn itemprop(doc: &Html, name: &str) -> Option<String> {
    let el = doc.select(&sel(&format!("[itemprop=\"{name}\"]"))).next()?;
    prop_value(el)
}

fn prop_value(el: ElementRef<'_>) -> Option<String> {
    attr(el, "content")
        .or_else(|| attr(el, "datetime"))
        .or_else(|| attr(el, "value"))
        .map(|v| clip(&normalize_ws(v).replace('\n', " "), 4096))
        .or_else(|| short_text(el))
}

fn first_of(doc: &Html, css: &str) -> Option<String> {
    doc.select(&sel(css)).find_map(short_text)
}

/// A package id from a store URL: `?id=com.example.app` or `/id123456789`.
pub(crate) fn package_from_url(u: &Url) -> Option<String> {
    if let Some((_, v)) = u.query_pairs().find(|(k, _)| k == "id") {
        let v = v.trim();
        if !v.is_empty()
            && v.len() <= 256
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        {
            return Some(v.to_string());
        }
    }
    u.path_segments()?
        .rev()
        .find(|s| {
            s.len() > 2
                && s.len() <= 20
                && s.starts_with("id")
                && s[2..].bytes().all(|b| b.is_ascii_digit())
        })
        .map(str::to_string)
}

pub(crate) fn extract(final_url: &Url, doc: &Html) -> Extracted {
    let ld = jsonld_app(doc).unwrap_or_default();
    let get = |k: &str| ld.get(k);
    let rating = ld.get("aggregateRating").and_then(Value::as_object);

    let name = ld_text(get("name"))
        .or_else(|| itemprop(doc, "name"))
        .or_else(|| first_of(doc, "h1"))
        .or_else(|| super::web::page_title(doc));
    let developer = ld_text(get("author"))
        .or_else(|| ld_text(get("publisher")))
        .or_else(|| ld_text(get("creator")))
        .or_else(|| {
            let name = sel("[itemprop=\"name\"]");
            doc.select(&sel("[itemprop=\"author\"]")).find_map(|a| {
                a.select(&name)
                    .find_map(prop_value)
                    .or_else(|| prop_value(a))
            })
        })
        .or_else(|| {
            first_of(
                doc,
                ".developer, .dev-name, .app-developer, [data-developer]",
            )
        });
    let ld_url = ld_text(get("url")).and_then(|u| final_url.join(&u).ok());
    let package_id = package_from_url(final_url)
        .or_else(|| ld_url.as_ref().and_then(package_from_url))
        .or_else(|| first_of(doc, ".package-name, [itemprop=\"identifier\"]"));
    let description = ld_text(get("description"))
        .or_else(|| {
            doc.select(&sel("[itemprop=\"description\"]"))
                .next()
                .map(visible_text)
                .filter(|t| !t.is_empty())
        })
        .or_else(|| super::web::meta_description(doc));
    let installs = itemprop(doc, "numDownloads").or_else(|| first_of(doc, ".installs"));
    let rating_value = rating
        .and_then(|r| ld_number(r.get("ratingValue")))
        .or_else(|| ld_number(itemprop(doc, "ratingValue").map(Value::String).as_ref()));
    let rating_count = rating
        .and_then(|r| ld_number(r.get("ratingCount")).or_else(|| ld_number(r.get("reviewCount"))))
        .or_else(|| {
            let raw = itemprop(doc, "ratingCount").or_else(|| itemprop(doc, "reviewCount"))?;
            raw.replace(['.', ',', ' '], "").parse::<f64>().ok()
        })
        .filter(|c| *c >= 0.0 && *c < 1e15)
        .map(|c| c.round() as i64);
    let updated = itemprop(doc, "datePublished")
        .or_else(|| ld_text(get("datePublished")))
        .or_else(|| ld_text(get("dateModified")));
    let version = ld_text(get("softwareVersion")).or_else(|| itemprop(doc, "softwareVersion"));
    let size = ld_text(get("fileSize")).or_else(|| itemprop(doc, "fileSize"));
    let category =
        ld_text(get("applicationCategory")).or_else(|| itemprop(doc, "applicationCategory"));
    let os = ld_text(get("operatingSystem")).or_else(|| itemprop(doc, "operatingSystem"));
    let li = sel("li");
    let permissions: Vec<String> = doc
        .select(&sel("ul.permissions"))
        .flat_map(|ul| ul.select(&li))
        .filter_map(short_text)
        .map(|p| clip(&p, 512))
        .take(MAX_PERMISSIONS)
        .collect();
    let appstore = package_id
        .as_deref()
        .is_some_and(|p| p.starts_with("id") && p[2..].bytes().all(|b| b.is_ascii_digit()))
        || os
            .as_deref()
            .is_some_and(|o| o.to_ascii_lowercase().contains("ios"))
        || final_url
            .host_str()
            .is_some_and(|h| h.ends_with("apps.apple.com"));
    let store = if appstore { "appstore" } else { "play" };
    let apk = super::apk_page::find_apk_link(final_url, doc);

    let mut text_parts: Vec<&str> = Vec::new();
    text_parts.extend(name.as_deref());
    text_parts.extend(developer.as_deref());
    text_parts.extend(description.as_deref());
    text_parts.extend(permissions.iter().map(String::as_str));
    let text = normalize_ws(&text_parts.join("\n"));

    let meta = json!({
        "name": name,
        "developer": developer,
        "package_id": package_id,
        "description": description,
        "installs": installs,
        "rating": rating_value,
        "rating_count": rating_count,
        "updated": updated,
        "version": version,
        "size": size,
        "category": category,
        "permissions": permissions,
        "store": store,
        "apk_url": apk.as_ref().map(|a| a.url.to_string()),
    });
    let own = crate::canon::canonicalize(final_url);
    let apk_url = apk.as_ref().map(|a| a.url.clone());
    let mut out_links: Vec<Url> = apk_url.iter().cloned().collect();
    out_links.extend(
        super::web::outlinks(final_url, doc)
            .into_vec()
            .into_iter()
            .filter(|u| *u != own && Some(u) != apk_url.as_ref()),
    );
    out_links.truncate(crate::extract::MAX_LINKS);
    let items = if text.is_empty() {
        Vec::new()
    } else {
        vec![
            ItemDraft {
                title: name,
                author: developer,
                posted_at: updated.as_deref().and_then(super::parse_time),
                meta,
                ..ItemDraft::new(web_key(final_url), "app_listing", final_url.as_str(), text)
            }
            .finish(),
        ]
    };
    Extracted {
        items,
        links: out_links,
        telegram_max_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ExtractContext, extract, extract_with};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const PLAY: &str = include_str!("../../tests/fixtures/app_play_listing.html");
    const APPSTORE: &str = include_str!("../../tests/fixtures/app_appstore_listing.html");

    #[test]
    fn play_listing_from_jsonld_and_markup() {
        let e = extract(
            &url("http://127.0.0.1:7/store/apps/details?id=vn.gov.vneid.app.update&hl=vi"),
            Some("text/html; charset=utf-8"),
            PLAY.as_bytes(),
        );
        assert_eq!(e.items.len(), 1);
        let it = &e.items[0];
        assert_eq!(it.kind, "app_listing");
        assert_eq!(
            it.doc_key,
            format!(
                "web:{}",
                crate::canon::canonicalize(&url(
                    "http://127.0.0.1:7/store/apps/details?id=vn.gov.vneid.app.update&hl=vi"
                ))
            )
        );
        let m = &it.meta;
        assert_eq!(m["name"], "VNeID - Định danh điện tử");
        assert_eq!(m["developer"], "Trung tâm Dữ liệu Dân cư");
        assert_eq!(m["package_id"], "vn.gov.vneid.app.update");
        assert_eq!(m["installs"], "10.000+");
        assert_eq!(m["rating"], 4.1);
        assert_eq!(m["rating_count"], 312);
        assert_eq!(m["updated"], "2026-10-02");
        assert_eq!(m["version"], "2.1.4");
        assert_eq!(m["size"], "38 MB");
        assert_eq!(m["store"], "play");
        assert_eq!(m["apk_url"], Value::Null);
        assert_eq!(
            m["permissions"],
            json!([
                "Đọc tin nhắn SMS",
                "Nhận tin nhắn SMS",
                "Đọc danh bạ",
                "Hiển thị trên ứng dụng khác"
            ])
        );
        assert!(
            it.text
                .starts_with("VNeID - Định danh điện tử\nTrung tâm Dữ liệu Dân cư\n")
        );
        assert!(it.text.ends_with("Hiển thị trên ứng dụng khác"));
        assert_eq!(it.title.as_deref(), Some("VNeID - Định danh điện tử"));
        assert!(it.posted_at.is_some());
        assert!(e.links.contains(&url(
            "http://127.0.0.1:7/store/apps/details?id=vn.evn.hoantien"
        )));
        assert!(
            !e.links
                .iter()
                .any(|l| l.as_str().contains("vneid.app.update"))
        );
    }

    #[test]
    fn appstore_listing_from_markup_on_app_source() {
        let ctx = ExtractContext {
            source_kind: "app_listing",
            ..ExtractContext::default()
        };
        let page_url = url("http://127.0.0.1:8/vn/app/dau-tu-vang/id6449912345");
        let e = extract_with(&page_url, Some("text/html"), APPSTORE.as_bytes(), &ctx);
        let it = &e.items[0];
        assert_eq!(it.kind, "app_listing");
        let m = &it.meta;
        assert_eq!(m["package_id"], "id6449912345");
        assert_eq!(m["store"], "appstore");
        assert_eq!(m["name"], "Đầu Tư Vàng 4.0");
        assert_eq!(m["developer"], "Gold Invest Global Ltd");
        assert_eq!(m["rating"], 4.8);
        assert_eq!(m["rating_count"], 1520);
        assert_eq!(m["permissions"], json!([]));
        assert_eq!(m["installs"], Value::Null);
        // Without the app_listing source kind, the same markup is an ordinary page.
        let e = extract(&page_url, Some("text/html"), APPSTORE.as_bytes());
        assert_eq!(e.items[0].kind, "web");
    }

    #[test]
    fn garbage_jsonld_and_missing_fields() {
        let html = r#"<html><head>
        <script type="application/ld+json">{"@type": "SoftwareApplication", "name": </script>
        <script type="application/ld+json">[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[</script>
        <script type="application/ld+json">{"@graph": [{"@type": "WebPage"}, {"@type": ["Thing", "MobileApplication"], "name": 42, "author": [{"name": null}], "aggregateRating": {"ratingValue": "NaN", "ratingCount": "nhiều"}, "url": 7}]}</script>
        </head><body><p>Ứng dụng</p></body></html>"#;
        let e = extract(&url("http://h/app"), Some("text/html"), html.as_bytes());
        let it = &e.items[0];
        assert_eq!(it.kind, "app_listing");
        assert_eq!(it.meta["name"], "42");
        assert_eq!(it.meta["developer"], Value::Null);
        assert_eq!(it.meta["rating"], Value::Null);
        assert_eq!(it.meta["rating_count"], Value::Null);
        assert_eq!(it.meta["package_id"], Value::Null);

        // Only garbage: not a listing at all.
        let html = r#"<html><head><script type="application/ld+json">{"@type": "SoftwareApplication",,}</script></head><body><p>trang thường</p></body></html>"#;
        let e = extract(&url("http://h/x"), Some("text/html"), html.as_bytes());
        assert_eq!(e.items[0].kind, "web");

        // 100k permissions.
        let mut html = String::from(
            r#"<html><head><script type="application/ld+json">{"@type":"SoftwareApplication","name":"X"}</script></head><body><ul class="permissions">"#,
        );
        for i in 0..100_000 {
            html.push_str(&format!("<li>quyền {i}</li>"));
        }
        let e = extract(&url("http://h/x"), Some("text/html"), html.as_bytes());
        assert_eq!(
            e.items[0].meta["permissions"].as_array().unwrap().len(),
            MAX_PERMISSIONS
        );
    }

    #[test]
    fn package_ids_from_urls() {
        assert_eq!(
            package_from_url(&url("https://play.example/details?id=com.a.b")).as_deref(),
            Some("com.a.b")
        );
        assert_eq!(
            package_from_url(&url("https://apps.example/vn/app/x/id123456")).as_deref(),
            Some("id123456")
        );
        assert_eq!(
            package_from_url(&url("https://x/details?id=<script>")),
            None
        );
        assert_eq!(package_from_url(&url("https://x/idea")), None);
    }
}
