//! App listings from `sites/apps/*.toml`, served by three sites: `playstore` (Google
//! Play-style listing pages), `appstore` (App Store-style) and `apkdl` (APK download pages
//! and the pseudo-APK files themselves). Listings carry schema.org `SoftwareApplication`
//! JSON-LD plus visible microdata.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::files;
use crate::util::{self, esc, label, paragraphs, slugify, vi_thousands};

/// Which store renders a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Store {
    Play,
    AppStore,
    Apk,
}

impl Store {
    /// The sandbox site that serves this store.
    pub fn site(self) -> &'static str {
        match self {
            Store::Play => "playstore",
            Store::AppStore => "appstore",
            Store::Apk => "apkdl",
        }
    }
}

/// One listing.
#[derive(Debug, Clone)]
pub struct App {
    /// File stem.
    pub slug: String,
    pub store: Store,
    pub label: &'static str,
    pub name: String,
    pub developer: String,
    pub package_id: String,
    pub category: String,
    pub description: String,
    pub installs: String,
    pub rating: f64,
    pub rating_count: u64,
    pub updated: NaiveDate,
    pub version: String,
    pub size: String,
    pub permissions: Vec<String>,
    pub apk_file: Option<String>,
}

impl App {
    /// The listing's path on its site, in canonical form.
    pub fn path(&self) -> String {
        match self.store {
            Store::Play => format!("/store/apps/details?id={}", self.package_id),
            Store::AppStore => format!("/vn/app/{}/{}", slugify(&self.name), self.package_id),
            Store::Apk => format!("/apk/{}.html", self.slug),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    store: String,
    label: String,
    name: String,
    developer: String,
    package_id: String,
    #[serde(default)]
    category: String,
    description: String,
    #[serde(default)]
    installs: String,
    #[serde(default)]
    rating: f64,
    #[serde(default)]
    rating_count: u64,
    updated: String,
    version: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    apk_file: Option<String>,
}

/// Reads `sites/apps/*.toml`; a file with any problem is left out and reported.
pub fn load(errors: &mut Vec<String>) -> Vec<App> {
    let mut out: Vec<App> = Vec::new();
    let mut seen = BTreeSet::new();
    for (stem, path, bytes) in files::in_folder("apps", ".toml") {
        match parse(stem, bytes) {
            Ok(a) => {
                if !seen.insert((a.store, a.package_id.clone())) {
                    errors.push(format!(
                        "sites/{path}: package_id `{}` already used by another {} listing",
                        a.package_id,
                        a.store.site()
                    ));
                    continue;
                }
                if let Some(f) = &a.apk_file
                    && out.iter().any(|o| o.apk_file.as_ref() == Some(f))
                {
                    errors.push(format!("sites/{path}: apk_file `{f}` used twice"));
                    continue;
                }
                out.push(a);
            }
            Err(e) => errors.push(format!("sites/{path}: {e}")),
        }
    }
    out
}

fn parse(stem: &str, bytes: &[u8]) -> Result<App, String> {
    if stem.is_empty()
        || !stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("app file names may use only a-z, 0-9 and `-`".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let f: AppFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let store = match f.store.as_str() {
        "play" => Store::Play,
        "appstore" => Store::AppStore,
        "apk" => Store::Apk,
        other => return Err(format!("store `{other}` is not play, appstore or apk")),
    };
    let pkg = f.package_id.trim().to_string();
    match store {
        Store::AppStore => {
            let digits = pkg.strip_prefix("id").unwrap_or("");
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "appstore package_id `{pkg}` must be `id` followed by digits"
                ));
            }
        }
        Store::Play | Store::Apk => {
            let ok = pkg.split('.').count() >= 2
                && pkg.split('.').all(|seg| {
                    seg.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                });
            if !ok {
                return Err(format!("package_id `{pkg}` is not a Java package name"));
            }
        }
    }
    let apk_file = match (store, f.apk_file) {
        (Store::Apk, None) => return Err("apk listings need `apk_file`".into()),
        (Store::Apk, Some(file)) => {
            let ok = file.ends_with(".apk")
                && file
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if !ok {
                return Err(format!(
                    "apk_file `{file}` must end in .apk and use only letters, digits, `.`, `-`, `_`"
                ));
            }
            Some(file)
        }
        (_, other) => other,
    };
    if !(0.0..=5.0).contains(&f.rating) {
        return Err(format!("rating {} is not within 0..=5", f.rating));
    }
    let updated = NaiveDate::parse_from_str(f.updated.trim(), "%Y-%m-%d")
        .map_err(|e| format!("updated `{}` is not YYYY-MM-DD: {e}", f.updated))?;
    Ok(App {
        slug: stem.to_string(),
        store,
        label: label(&f.label)?,
        name: f.name.trim().to_string(),
        developer: f.developer.trim().to_string(),
        package_id: pkg,
        category: f.category.trim().to_string(),
        description: f.description.trim().to_string(),
        installs: f.installs.trim().to_string(),
        rating: f.rating,
        rating_count: f.rating_count,
        updated,
        version: f.version.trim().to_string(),
        size: f.size.trim().to_string(),
        permissions: f.permissions,
        apk_file,
    })
}

/// The schema.org `SoftwareApplication` JSON-LD of a listing, safe inside `<script>`.
pub fn json_ld(app: &App, abs_url: &str) -> String {
    let os = match app.store {
        Store::AppStore => "iOS",
        Store::Play | Store::Apk => "ANDROID",
    };
    let mut v = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "SoftwareApplication",
        "name": app.name,
        "url": abs_url,
        "description": app.description,
        "operatingSystem": os,
        "applicationCategory": app.category,
        "author": {"@type": "Organization", "name": app.developer},
        "softwareVersion": app.version,
        "datePublished": app.updated.format("%Y-%m-%d").to_string(),
        "offers": {"@type": "Offer", "price": "0", "priceCurrency": "VND"},
    });
    if !app.size.is_empty() {
        v["fileSize"] = app.size.clone().into();
    }
    if app.rating > 0.0 {
        v["aggregateRating"] = serde_json::json!({
            "@type": "AggregateRating",
            "ratingValue": app.rating,
            "ratingCount": app.rating_count,
        });
    }
    serde_json::to_string_pretty(&v)
        .unwrap_or_default()
        .replace("</", "<\\/")
}

/// `2026-10-30` → `30 thg 10, 2026` (Vietnamese short date).
fn vi_date(d: NaiveDate) -> String {
    d.format("%-d thg %-m, %Y").to_string()
}

fn rating_vi(r: f64) -> String {
    format!("{r:.1}").replace('.', ",")
}

/// Routers of the three store sites. `addrs` gives each site's address for absolute URLs.
pub fn routers(
    apps: &'static [App],
    addrs: &BTreeMap<&'static str, SocketAddr>,
) -> Vec<(&'static str, Router)> {
    let base = |s: &str| format!("http://{}", addrs[s]);
    let play_base = base("playstore");
    let ios_base = base("appstore");
    let apk_base = base("apkdl");
    let play = Router::new()
        .route(
            "/",
            get(move || async move { store_index(apps, Store::Play) }),
        )
        .route(
            "/store/apps/details",
            get(
                move |Query(q): Query<BTreeMap<String, String>>| async move {
                    let found = q
                        .get("id")
                        .and_then(|id| find(apps, Store::Play, |a| &a.package_id == id));
                    match found {
                        Some(a) => util::html(play_page(a, &play_base)),
                        None => util::not_found(),
                    }
                },
            ),
        );
    let appstore = Router::new()
        .route(
            "/",
            get(move || async move { store_index(apps, Store::AppStore) }),
        )
        .route(
            "/vn/app/{slug}/{id}",
            get(move |Path((slug, id)): Path<(String, String)>| async move {
                match find(apps, Store::AppStore, |a| a.package_id == id) {
                    Some(a) if slugify(&a.name) == slug => util::html(appstore_page(a, &ios_base)),
                    // The store answers any slug and sends it to the canonical one.
                    Some(a) => util::moved(&a.path()),
                    None => util::not_found(),
                }
            }),
        );
    let apk = Router::new()
        .route(
            "/",
            get(move || async move { store_index(apps, Store::Apk) }),
        )
        .route(
            "/apk/{file}",
            get(move |Path(file): Path<String>| async move {
                let found = file
                    .strip_suffix(".html")
                    .and_then(|slug| find(apps, Store::Apk, |a| a.slug == slug));
                match found {
                    Some(a) => util::html(apk_page(a, &apk_base)),
                    None => util::not_found(),
                }
            }),
        )
        .route(
            "/dl/{file}",
            get(move |Path(file): Path<String>| async move {
                if apps
                    .iter()
                    .any(|a| a.apk_file.as_deref() == Some(file.as_str()))
                {
                    apk_download(&file)
                } else {
                    util::not_found()
                }
            }),
        );
    vec![("playstore", play), ("appstore", appstore), ("apkdl", apk)]
}

fn find(apps: &[App], store: Store, pred: impl Fn(&App) -> bool) -> Option<&App> {
    apps.iter().find(|a| a.store == store && pred(a))
}

/// Deterministic pseudo-APK bytes: a zip signature, then a few hundred KB of noise.
pub fn apk_bytes(file: &str) -> Vec<u8> {
    let mut rng = util::Rng::new(util::fnv(file));
    let len = 200 * 1024 + rng.below(400 * 1024) as usize;
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(b"PK\x03\x04");
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

fn apk_download(file: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.android.package-archive".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        apk_bytes(file),
    )
        .into_response()
}

fn store_index(apps: &[App], store: Store) -> Response {
    let (title, brand) = match store {
        Store::Play => ("Ứng dụng Android trên Google Play", "▶ Google Play"),
        Store::AppStore => ("App Store", " App Store"),
        Store::Apk => ("Tải APK miễn phí – APK mới nhất", "APKTải"),
    };
    let mut body = format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>{STORE_STYLE}</style>\n</head>\n<body>\n<header class=\"top\"><a class=\"brand\" href=\"/\">{brand}</a></header>\n\
         <main>\n<h1>{title}</h1>\n<ul class=\"app-list\">\n"
    );
    for a in apps.iter().filter(|a| a.store == store) {
        body.push_str(&format!(
            "<li class=\"app-card\"><a href=\"{href}\"><span class=\"app-name\">{name}</span></a> \
             <span class=\"app-dev\">{dev}</span> <span class=\"app-cat\">{cat}</span></li>\n",
            href = esc(&a.path()),
            name = esc(&a.name),
            dev = esc(&a.developer),
            cat = esc(&a.category),
        ));
    }
    body.push_str("</ul>\n</main>\n</body>\n</html>\n");
    util::html(body)
}

const STORE_STYLE: &str = "body{margin:0;font-family:Roboto,Arial,sans-serif;color:#202124;background:#fff}\
.top{padding:12px 24px;border-bottom:1px solid #e0e0e0}.brand{font-size:20px;color:#5f6368;text-decoration:none}\
main{max-width:960px;margin:0 auto;padding:16px 24px}h1{font-size:32px;font-weight:500;margin:8px 0}\
.developer a,.developer span{color:#01875f;font-weight:500}.stats{display:flex;gap:32px;margin:16px 0}\
.stat{text-align:center}.install{background:#01875f;color:#fff;border:0;border-radius:8px;padding:10px 40px;font-weight:500}\
section{margin:24px 0}h2{font-size:20px;font-weight:500}.description p{line-height:1.6}\
dl{display:grid;grid-template-columns:200px 1fr;gap:8px}dt{color:#5f6368}\
ul.permissions li{margin:4px 0}.app-card{margin:8px 0}.app-dev,.app-cat{color:#5f6368;font-size:13px}\
.download{display:inline-block;background:#24cd77;color:#fff;padding:12px 32px;border-radius:24px;text-decoration:none;font-weight:bold}";

fn page_head(title: &str, desc: &str, abs: &str, json: Option<&str>) -> String {
    let short: String = desc
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(160)
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n\
         <meta name=\"description\" content=\"{d}\">\n<meta property=\"og:title\" content=\"{t}\">\n\
         <link rel=\"canonical\" href=\"{u}\">\n{ld}<style>{STORE_STYLE}</style>\n</head>\n",
        t = esc(title),
        d = esc(&short),
        u = esc(abs),
        ld = json.map_or_else(String::new, |j| format!(
            "<script type=\"application/ld+json\">\n{j}\n</script>\n"
        )),
    )
}

fn permissions_html(perms: &[String]) -> String {
    if perms.is_empty() {
        return String::new();
    }
    let items: String = perms
        .iter()
        .map(|p| format!("<li>{}</li>", esc(p)))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "<section class=\"perms\"><h2>Quyền của ứng dụng</h2>\n<ul class=\"permissions\">\n{items}\n</ul></section>\n"
    )
}

fn rating_html(a: &App, label: &str) -> String {
    if a.rating <= 0.0 {
        return "<div class=\"stat\"><div>Chưa có đủ đánh giá</div></div>".into();
    }
    format!(
        "<div class=\"stat\" itemprop=\"aggregateRating\" itemscope itemtype=\"https://schema.org/AggregateRating\">\
         <div><span itemprop=\"ratingValue\" content=\"{v}\">{vv}</span>★</div>\
         <div><span itemprop=\"ratingCount\" content=\"{c}\">{cc}</span> {label}</div></div>",
        v = a.rating,
        vv = rating_vi(a.rating),
        c = a.rating_count,
        cc = vi_thousands(a.rating_count),
    )
}

fn play_page(a: &App, base: &str) -> String {
    let abs = format!("{base}{}", a.path());
    let mut s = page_head(
        &format!("{} – Ứng dụng trên Google Play", a.name),
        &a.description,
        &abs,
        Some(&json_ld(a, &abs)),
    );
    s.push_str(&format!(
        "<body>\n<header class=\"top\"><a class=\"brand\" href=\"/\">▶ Google Play</a> \
         <nav><a href=\"/\">Trò chơi</a> <a href=\"/\">Ứng dụng</a> <a href=\"/\">Sách</a></nav></header>\n\
         <main itemscope itemtype=\"https://schema.org/SoftwareApplication\">\n\
         <div class=\"app-header\">\n<h1 itemprop=\"name\">{name}</h1>\n\
         <div class=\"developer\" itemprop=\"author\" itemscope itemtype=\"https://schema.org/Organization\"><span itemprop=\"name\">{dev}</span></div>\n\
         <div class=\"stats\">{rating}\
         <div class=\"stat\"><div itemprop=\"numDownloads\">{installs}</div><div>Lượt tải xuống</div></div>\
         <div class=\"stat\"><div>Mọi người</div><div>Cấu hình</div></div></div>\n\
         <button class=\"install\" type=\"button\">Cài đặt</button>\n</div>\n\
         <section class=\"about\"><h2>Thông tin về ứng dụng này</h2>\n\
         <div class=\"description\" itemprop=\"description\" data-g-id=\"description\">\n{desc}</div></section>\n\
         <section class=\"meta\"><h2>Thông tin bổ sung</h2>\n<dl>\n\
         <dt>Đã cập nhật</dt><dd><span itemprop=\"datePublished\" content=\"{date_iso}\">{date}</span></dd>\n\
         <dt>Phiên bản</dt><dd itemprop=\"softwareVersion\">{version}</dd>\n\
         <dt>Kích thước</dt><dd itemprop=\"fileSize\">{size}</dd>\n\
         <dt>Lượt tải xuống</dt><dd>{installs}</dd>\n\
         <dt>Danh mục</dt><dd itemprop=\"applicationCategory\">{cat}</dd>\n\
         <dt>Hệ điều hành</dt><dd itemprop=\"operatingSystem\" content=\"ANDROID\">Android 8.0 trở lên</dd>\n\
         <dt>Mã gói</dt><dd class=\"package-name\">{pkg}</dd>\n\
         </dl></section>\n{perms}</main>\n\
         <footer class=\"top\"><a href=\"/\">Tất cả ứng dụng</a></footer>\n</body>\n</html>\n",
        name = esc(&a.name),
        dev = esc(&a.developer),
        rating = rating_html(a, "bài đánh giá"),
        installs = esc(&a.installs),
        desc = paragraphs(&a.description),
        date_iso = a.updated.format("%Y-%m-%d"),
        date = vi_date(a.updated),
        version = esc(&a.version),
        size = esc(&a.size),
        cat = esc(&a.category),
        pkg = esc(&a.package_id),
        perms = permissions_html(&a.permissions),
    ));
    s
}

fn appstore_page(a: &App, base: &str) -> String {
    let abs = format!("{base}{}", a.path());
    let mut s = page_head(
        &format!("{} trên App Store", a.name),
        &a.description,
        &abs,
        Some(&json_ld(a, &abs)),
    );
    s.push_str(&format!(
        "<body>\n<header class=\"top\"><a class=\"brand\" href=\"/\"> App Store</a> <span>Xem trước App Store</span></header>\n\
         <main class=\"product\" itemscope itemtype=\"https://schema.org/SoftwareApplication\">\n\
         <header class=\"product-header\">\n<h1 class=\"product-header__title app-header__title\" itemprop=\"name\">{name}</h1>\n\
         <h2 class=\"product-header__identity app-header__identity\" itemprop=\"author\" itemscope itemtype=\"https://schema.org/Organization\">\
         <span itemprop=\"name\">{dev}</span></h2>\n\
         <ul class=\"product-header__list\"><li>{rating}</li><li class=\"inline-list__item\">Miễn phí</li></ul>\n</header>\n\
         <section class=\"section--description\"><h2>Mô tả</h2>\n\
         <div class=\"description\" itemprop=\"description\">\n{desc}</div></section>\n\
         <section class=\"section--whats-new\"><h2>Có gì mới</h2><p>Phiên bản <span itemprop=\"softwareVersion\">{version}</span>, \
         <time itemprop=\"datePublished\" datetime=\"{date_iso}\">{date}</time></p></section>\n\
         <section class=\"section--information\"><h2>Thông tin</h2>\n<dl class=\"information-list\">\n\
         <dt>Nhà cung cấp</dt><dd>{dev}</dd>\n\
         <dt>Kích cỡ</dt><dd itemprop=\"fileSize\">{size}</dd>\n\
         <dt>Danh mục</dt><dd itemprop=\"applicationCategory\">{cat}</dd>\n\
         <dt>Tương thích</dt><dd itemprop=\"operatingSystem\" content=\"iOS\">iPhone: Yêu cầu iOS 15.0 trở lên.</dd>\n\
         <dt>Xếp hạng tuổi</dt><dd>4+</dd>\n<dt>Giá</dt><dd>Miễn phí</dd>\n\
         </dl></section>\n{perms}</main>\n\
         <footer class=\"top\"><a href=\"/\">Tất cả ứng dụng</a></footer>\n</body>\n</html>\n",
        name = esc(&a.name),
        dev = esc(&a.developer),
        rating = rating_html(a, "xếp hạng"),
        desc = paragraphs(&a.description),
        version = esc(&a.version),
        date_iso = a.updated.format("%Y-%m-%d"),
        date = vi_date(a.updated),
        size = esc(&a.size),
        cat = esc(&a.category),
        perms = permissions_html(&a.permissions),
    ));
    s
}

fn apk_page(a: &App, base: &str) -> String {
    let abs = format!("{base}{}", a.path());
    let file = a.apk_file.as_deref().unwrap_or("app.apk");
    // APK mirrors carry no SoftwareApplication markup: the page is about the file.
    let mut s = page_head(
        &format!("Tải {} APK {} cho Android", a.name, a.version),
        &a.description,
        &abs,
        None,
    );
    s.push_str(&format!(
        "<body>\n<header class=\"top\"><a class=\"brand\" href=\"/\">APKTải</a> <form class=\"search\"><input name=\"q\" placeholder=\"Tìm ứng dụng\"></form></header>\n\
         <main class=\"apk-detail\">\n<div class=\"apk-info\">\n\
         <h1 class=\"apk-title\">{name} <span class=\"version\">{version}</span> APK</h1>\n\
         <p class=\"details-author\">Nhà phát triển: <span class=\"author\">{dev}</span></p>\n\
         <p class=\"details-package\">Mã gói: <span class=\"package-name\">{pkg}</span></p>\n\
         <p class=\"details-update\">Cập nhật: <span class=\"date\">{date}</span> · Kích thước: <span class=\"size\">{size}</span>\
         {installs}</p>\n\
         <a class=\"download\" href=\"/dl/{file}\" data-size=\"{size}\" rel=\"nofollow\">Tải APK</a>\n\
         <p class=\"note\">Tệp {file} ({size}). Bật \"Cho phép cài đặt từ nguồn không xác định\" để cài đặt.</p>\n\
         </div>\n<section class=\"description\"><h2>Giới thiệu {name}</h2>\n<div class=\"content\">\n{desc}</div></section>\n\
         {perms}</main>\n<footer class=\"top\"><a href=\"/\">Ứng dụng khác</a></footer>\n</body>\n</html>\n",
        name = esc(&a.name),
        version = esc(&a.version),
        dev = esc(&a.developer),
        pkg = esc(&a.package_id),
        date = vi_date(a.updated),
        size = esc(&a.size),
        installs = if a.installs.is_empty() {
            String::new()
        } else {
            format!(" · Lượt tải: {}", esc(&a.installs))
        },
        file = esc(file),
        desc = paragraphs(&a.description),
        perms = apk_permissions_html(&a.permissions),
    ));
    s
}

/// Permissions as APK mirrors show them (not the store's `ul.permissions` block).
fn apk_permissions_html(perms: &[String]) -> String {
    if perms.is_empty() {
        return String::new();
    }
    let items: String = perms
        .iter()
        .map(|p| format!("<li class=\"perm\">{}</li>", esc(p)))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "<section class=\"apk-permissions\"><h2>Quyền yêu cầu</h2>\n<ul class=\"perm-list\">\n{items}\n</ul></section>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apk_bytes_are_deterministic_zip_like() {
        let a = apk_bytes("x-1.0.apk");
        assert_eq!(&a[..4], b"PK\x03\x04");
        assert!((200 * 1024..600 * 1024).contains(&a.len()));
        assert_eq!(a, apk_bytes("x-1.0.apk"));
        assert_ne!(a, apk_bytes("y-1.0.apk"));
    }

    #[test]
    fn json_ld_is_script_safe() {
        let app = App {
            slug: "x".into(),
            store: Store::Play,
            label: "benign",
            name: "A </script> B".into(),
            developer: "D".into(),
            package_id: "vn.x.y".into(),
            category: "C".into(),
            description: "text".into(),
            installs: "1+".into(),
            rating: 0.0,
            rating_count: 0,
            updated: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            version: "1".into(),
            size: "1 MB".into(),
            permissions: vec![],
            apk_file: None,
        };
        let j = json_ld(&app, "http://h/x");
        assert!(!j.contains("</script"));
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["name"], "A </script> B");
        assert!(v.get("aggregateRating").is_none());
        assert_eq!(v["operatingSystem"], "ANDROID");
    }
}
