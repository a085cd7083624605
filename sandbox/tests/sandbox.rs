//! The sandbox over real HTTP on loopback: content parses, every ground-truth URL answers,
//! Telegram paging, run-time posts, feeds, app listings, forum and group selectors,
//! the generated site and the hostile endpoints.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{get, get_limited};
use scamsweep_sandbox::{Sandbox, SandboxOptions, content_errors, selectors};
use scraper::{ElementRef, Html, Selector};
use url::Url;

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("selector `{s}`: {e:?}"))
}

fn join(base: &str, href: &str) -> String {
    let mut u = Url::parse(base).unwrap().join(href).unwrap();
    u.set_fragment(None);
    u.to_string()
}

fn text_of(e: ElementRef<'_>) -> String {
    e.text()
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_content_file_parses() {
    let errors = content_errors();
    assert!(
        errors.is_empty(),
        "{} problem(s) in sandbox/sites:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[tokio::test]
async fn every_truth_url_answers_200() {
    let sb = Sandbox::start().await.unwrap();
    let truth = sb.ground_truth();
    let mut keys = BTreeSet::new();
    for d in &truth.docs {
        assert!(
            keys.insert(d.doc_key.clone()),
            "duplicate doc_key {}",
            d.doc_key
        );
        let port = sb.sites[d.site].port();
        assert!(
            d.url.starts_with(&format!("http://127.0.0.1:{port}/")),
            "{} not on site {}",
            d.url,
            d.site
        );
        let r = get(&d.url).await;
        assert_eq!(r.status, 200, "{} ({})", d.url, d.doc_key);
        assert_eq!(
            r.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{}",
            d.url
        );
        // The URL is already in the crawler's canonical form.
        let parsed = Url::parse(&d.url).unwrap();
        assert_eq!(parsed.as_str(), d.url);
        assert!(parsed.fragment().is_none());
        let expected_key = match d.kind {
            "web" | "app_listing" | "apk_page" => format!("web:{}", d.url),
            "feed_item" => format!("feed:{}", d.url),
            "group_post" => format!("post:{}", d.url),
            "telegram_message" => {
                let (ch, id) = d.url.rsplit_once('/').unwrap();
                let ch = ch.rsplit('/').next().unwrap().to_ascii_lowercase();
                assert!(r.text().contains("data-post=\""), "{}", d.url);
                format!("telegram:{ch}/{id}")
            }
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(d.doc_key, expected_key);
    }
    for h in &truth.hostile {
        assert!(!h.outcomes.is_empty(), "{}", h.url);
    }
}

#[tokio::test]
async fn truth_covers_every_kind_and_label_is_valid() {
    let sb = Sandbox::start().await.unwrap();
    let truth = sb.ground_truth();
    let kinds: BTreeSet<&str> = truth.docs.iter().map(|d| d.kind).collect();
    let missing: Vec<&str> = [
        "web",
        "app_listing",
        "apk_page",
        "telegram_message",
        "feed_item",
        "group_post",
    ]
    .into_iter()
    .filter(|k| !kinds.contains(k))
    .collect();
    assert!(missing.is_empty(), "no ground truth of kind {missing:?}");
    for d in &truth.docs {
        assert!(scamsweep_sandbox::util::LABELS.contains(&d.label));
        assert!(!d.site.is_empty() && d.site != "bulk");
    }
    let outcomes = [
        "ok",
        "refused",
        "too_large",
        "failed",
        "not_found",
        "http_error",
        "robots_disallowed",
    ];
    for h in &truth.hostile {
        for o in h.outcomes {
            assert!(outcomes.contains(o), "{}: {o}", h.url);
        }
    }
    // The investment site's admin page is disallowed: judged by outcome, not a document.
    let admin = format!("{}/admin/", sb.base("invest"));
    assert!(truth.docs.iter().all(|d| d.url != admin));
    assert!(
        truth
            .hostile
            .iter()
            .any(|h| h.url == admin && h.outcomes == ["robots_disallowed"])
    );
    assert!(
        truth
            .doc("telegram:kenhdautu/120")
            .is_some_and(|d| d.label == "investment_fraud")
    );
}

#[tokio::test]
async fn static_sites_serve_files_and_are_linked_within_three_clicks() {
    let sb = Sandbox::start().await.unwrap();
    let base = sb.base("invest");
    let robots = get(&format!("{base}/robots.txt")).await;
    assert_eq!(robots.status, 200);
    assert_eq!(
        robots.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(robots.text().contains("Disallow: /admin/"));
    let dir = get_limited(&format!("{base}/admin"), 1 << 20, Duration::from_secs(5)).await;
    assert_eq!(dir.status, 301);
    assert_eq!(dir.header("location"), Some("/admin/"));
    assert_eq!(get(&format!("{base}/_truth.toml")).await.status, 404);
    assert_eq!(get(&format!("{base}/nope.html")).await.status, 404);
    // Scam pages offering an app: the page is an APK page, and the link gives an APK.
    let imp = sb.base("impersonation");
    let page = format!("{imp}/tai-app.html");
    let truth0 = sb.ground_truth();
    assert_eq!(truth0.doc(&format!("web:{page}")).unwrap().kind, "apk_page");
    let apk = get(&format!("{imp}/files/vneid-capnhat.apk")).await;
    assert_eq!(apk.status, 200);
    assert_eq!(&apk.body[..4], b"PK\x03\x04");

    let truth = sb.ground_truth();
    let statics: BTreeSet<&str> = sb
        .demo_sources()
        .iter()
        .filter(|s| s.kind == "web" && s.name != "hostile")
        .map(|s| sb.sites.keys().find(|k| **k == s.name).copied().unwrap())
        .collect();
    let a = sel("a[href]");
    for site in statics {
        let base = sb.base(site);
        let mut seen = BTreeSet::from([format!("{base}/")]);
        let mut frontier = vec![format!("{base}/")];
        for _ in 0..3 {
            let mut next = Vec::new();
            for u in &frontier {
                let r = get(u).await;
                if r.status != 200 {
                    continue;
                }
                let doc = Html::parse_document(&r.text());
                for l in doc.select(&a) {
                    let href = join(u, l.value().attr("href").unwrap());
                    if href.starts_with(&format!("{base}/")) && seen.insert(href.clone()) {
                        next.push(href);
                    }
                }
            }
            frontier = next;
        }
        for d in truth.docs.iter().filter(|d| d.site == site) {
            assert!(
                seen.contains(&d.url),
                "{} not linked within 3 clicks of /",
                d.url
            );
        }
    }
}

#[tokio::test]
async fn telegram_paging_covers_every_message_once() {
    let sb = Sandbox::start().await.unwrap();
    let truth = sb.ground_truth();
    let base = sb.base("telegram");
    let msg = sel("div.tgme_widget_message[data-post]");
    let more = sel("a.tme_messages_more[href]");
    let text = sel(".tgme_widget_message_text");
    let time = sel(".tgme_widget_message_date time[datetime]");
    let views = sel("span.tgme_widget_message_views");
    let mut channels = 0;
    for src in sb.demo_sources().iter().filter(|s| s.kind == "telegram") {
        channels += 1;
        let mut url = src.seeds[0].clone();
        let channel = url.rsplit('/').next().unwrap().to_string();
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            pages += 1;
            let r = get(&url).await;
            assert_eq!(r.status, 200, "{url}");
            let doc = Html::parse_document(&r.text());
            let mut on_page = 0;
            for m in doc.select(&msg) {
                on_page += 1;
                let post = m.value().attr("data-post").unwrap();
                let (ch, id) = post.split_once('/').unwrap();
                assert_eq!(ch, channel);
                assert!(
                    m.select(&text)
                        .next()
                        .is_some_and(|t| !text_of(t).is_empty())
                );
                let dt = m
                    .select(&time)
                    .next()
                    .unwrap()
                    .value()
                    .attr("datetime")
                    .unwrap();
                chrono::DateTime::parse_from_rfc3339(dt).unwrap();
                assert!(m.select(&views).next().is_some());
                seen.push(format!("telegram:{}/{id}", ch.to_ascii_lowercase()));
            }
            assert!(on_page <= 20, "{url}: {on_page} messages");
            let links: Vec<_> = doc.select(&more).collect();
            match links.first() {
                Some(a) => {
                    let before = a.value().attr("data-before").unwrap();
                    assert_eq!(
                        a.value().attr("href").unwrap(),
                        format!("/s/{channel}?before={before}")
                    );
                    assert_eq!(on_page, 20, "only full pages have older ones");
                    url = join(&url, a.value().attr("href").unwrap());
                }
                None => break,
            }
            assert!(pages < 1000);
        }
        assert!(
            pages <= src.max_depth as usize + 1,
            "{channel}: {pages} pages"
        );
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{channel}: a message shown twice");
        let expected: BTreeSet<String> = truth
            .docs
            .iter()
            .filter(|d| d.url.starts_with(&format!("{base}/{channel}/")))
            .map(|d| d.doc_key.clone())
            .collect();
        assert_eq!(
            unique.into_iter().cloned().collect::<BTreeSet<_>>(),
            expected
        );
    }
    assert!(channels >= 3);
    assert_eq!(get(&format!("{base}/")).await.status, 200);
    let unknown = get(&format!("{base}/s/khong-co-kenh-nay")).await;
    assert_eq!(unknown.status, 307);
}

#[tokio::test]
async fn posted_telegram_message_is_newest_on_first_page() {
    let sb = Sandbox::start().await.unwrap();
    let before = sb.ground_truth().docs.len();
    let id = sb.post_telegram(
        "kenhdautu",
        "Kèo mới: nạp 5 triệu nhận 7 triệu sau 1 giờ",
        "investment_fraud",
    );
    let r = get(&format!("{}/s/kenhdautu", sb.base("telegram"))).await;
    let doc = Html::parse_document(&r.text());
    let last = doc
        .select(&sel("div.tgme_widget_message[data-post]"))
        .next_back()
        .unwrap();
    assert_eq!(
        last.value().attr("data-post"),
        Some(format!("kenhdautu/{id}").as_str())
    );
    assert!(text_of(last).contains("nạp 5 triệu nhận 7 triệu"));
    let truth = sb.ground_truth();
    assert_eq!(truth.docs.len(), before + 1);
    let d = truth.doc(&format!("telegram:kenhdautu/{id}")).unwrap();
    assert_eq!(d.label, "investment_fraud");
    assert_eq!(get(&d.url).await.status, 200);
    let id2 = sb.post_telegram("kenhdautu", "Thêm một tin", "benign");
    assert_eq!(id2, id + 1);
    // Another sandbox starts from the files again.
    let other = Sandbox::start().await.unwrap();
    assert!(
        other
            .ground_truth()
            .doc(&format!("telegram:kenhdautu/{id}"))
            .is_none()
    );
}

#[tokio::test]
async fn feeds_are_well_formed_in_every_format() {
    let sb = Sandbox::start().await.unwrap();
    let base = sb.base("feeds");
    let truth = sb.ground_truth();
    let items: BTreeSet<String> = truth
        .docs
        .iter()
        .filter(|d| d.kind == "feed_item")
        .map(|d| d.url.clone())
        .collect();
    let home = get(&format!("{base}/")).await;
    let home_doc = Html::parse_document(&home.text());
    let alternates: Vec<String> = home_doc
        .select(&sel("link[rel=alternate][href]"))
        .map(|l| join(&base, l.value().attr("href").unwrap()))
        .collect();
    let src = sb
        .demo_sources()
        .into_iter()
        .find(|s| s.kind == "feed")
        .unwrap();
    let mut found = BTreeSet::new();
    for seed in &src.seeds {
        assert!(alternates.contains(seed), "{seed} not advertised on /");
        let stem = seed.rsplit_once('.').unwrap().0;
        for (ext, ct) in [
            ("rss", "application/rss+xml; charset=utf-8"),
            ("atom", "application/atom+xml; charset=utf-8"),
            ("json", "application/feed+json; charset=utf-8"),
        ] {
            let url = format!("{stem}.{ext}");
            let r = get(&url).await;
            assert_eq!(r.status, 200, "{url}");
            assert_eq!(r.header("content-type"), Some(ct), "{url}");
            if ext == "json" {
                let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
            } else {
                assert!(xml_is_balanced(&r.text()), "{url}: unbalanced XML");
            }
            let feed = feed_rs::parser::parse(&r.body[..]).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(!feed.entries.is_empty(), "{url}: no entries");
            for e in &feed.entries {
                let link = &e
                    .links
                    .first()
                    .unwrap_or_else(|| panic!("{url}: entry without link"))
                    .href;
                assert!(link.starts_with(&format!("{base}/")), "{link}");
                assert!(items.contains(link), "{url}: {link} not in ground truth");
                assert!(e.title.as_ref().is_some_and(|t| !t.content.is_empty()));
                assert!(e.published.is_some(), "{url}: {link} without date");
                let body = e
                    .content
                    .as_ref()
                    .and_then(|c| c.body.clone())
                    .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
                    .unwrap_or_default();
                assert!(body.contains("<p>"), "{url}: {link} without content");
                found.insert(link.clone());
            }
        }
    }
    assert_eq!(
        found, items,
        "every feed item is in some feed and nothing else"
    );
}

/// A small XML well-formedness check: tags balance, no stray `<` or `&` in text.
fn xml_is_balanced(xml: &str) -> bool {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if text.contains('>') || !entities_ok(text) {
            return false;
        }
        let Some(gt) = rest[lt..].find('>') else {
            return false;
        };
        let tag = &rest[lt + 1..lt + gt];
        rest = &rest[lt + gt + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        if tag.starts_with('/') {
            if stack.pop().as_deref() != Some(name.as_str()) {
                return false;
            }
        } else if !tag.ends_with('/') {
            if !entities_ok(tag) {
                return false;
            }
            stack.push(name);
        }
    }
    stack.is_empty() && !rest.contains('>')
}

fn entities_ok(s: &str) -> bool {
    s.match_indices('&').all(|(i, _)| {
        let t = &s[i..];
        ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&apos;"]
            .iter()
            .any(|e| t.starts_with(e))
    })
}

#[tokio::test]
async fn app_listings_carry_json_ld_microdata_and_apks() {
    let sb = Sandbox::start().await.unwrap();
    let truth = sb.ground_truth();
    let ld = sel("script[type=\"application/ld+json\"]");
    for d in truth
        .docs
        .iter()
        .filter(|d| matches!(d.site, "playstore" | "appstore" | "apkdl"))
    {
        let r = get(&d.url).await;
        let doc = Html::parse_document(&r.text());
        if d.site == "apkdl" {
            assert_eq!(d.kind, "apk_page");
            // APK mirror pages are about the file: no listing markup, or crawlers would
            // take them for store listings.
            assert!(doc.select(&ld).next().is_none(), "{}", d.url);
            assert!(
                doc.select(&sel("ul.permissions, [itemscope], [itemprop]"))
                    .next()
                    .is_none()
            );
            let pkg = doc.select(&sel("span.package-name")).next().unwrap();
            assert!(!text_of(pkg).is_empty());
            let a = doc
                .select(&sel("a.download[href][data-size]"))
                .next()
                .unwrap();
            let href = a.value().attr("href").unwrap();
            assert!(href.starts_with("/dl/") && href.ends_with(".apk"));
            let apk = get(&join(&d.url, href)).await;
            assert_eq!(apk.status, 200);
            assert_eq!(
                apk.header("content-type"),
                Some("application/vnd.android.package-archive")
            );
            assert_eq!(&apk.body[..4], b"PK\x03\x04");
            assert!((100 << 10..1 << 20).contains(&apk.body.len()));
            continue;
        }
        let json: String = doc.select(&ld).next().unwrap().text().collect();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["@type"], "SoftwareApplication", "{}", d.url);
        assert_eq!(v["url"], d.url.as_str());
        assert_eq!(v["author"]["@type"], "Organization");
        for k in [
            "name",
            "description",
            "applicationCategory",
            "softwareVersion",
            "datePublished",
        ] {
            assert!(v[k].is_string(), "{}: {k}", d.url);
        }
        if let Some(r) = v.get("aggregateRating") {
            assert!(r["ratingValue"].as_f64().unwrap() > 0.0);
            assert!(r["ratingCount"].is_u64());
        }
        let os = if d.site == "appstore" {
            "iOS"
        } else {
            "ANDROID"
        };
        assert_eq!(v["operatingSystem"], os, "{}", d.url);
        match d.site {
            "playstore" => {
                for p in [
                    "numDownloads",
                    "datePublished",
                    "softwareVersion",
                    "fileSize",
                ] {
                    assert!(
                        doc.select(&sel(&format!("[itemprop={p}]")))
                            .next()
                            .is_some(),
                        "{}: no itemprop={p}",
                        d.url
                    );
                }
                assert!(
                    doc.select(&sel("ul.permissions li")).next().is_some(),
                    "{}",
                    d.url
                );
            }
            "appstore" => assert!(
                d.url.contains("/vn/app/") && d.url.rsplit('/').next().unwrap().starts_with("id")
            ),
            other => panic!("listing on {other}"),
        }
    }
    for site in ["playstore", "appstore", "apkdl"] {
        assert_eq!(get(&format!("{}/", sb.base(site))).await.status, 200);
    }
    let missing = get(&format!(
        "{}/store/apps/details?id=vn.khong.co",
        sb.base("playstore")
    ))
    .await;
    assert_eq!(missing.status, 404);
}

/// Crawls a group_page source with its selectors, as a crawler configured from
/// `demo_sources` would, and returns (doc_key → (author, text, time attribute)).
async fn crawl_with_selectors(
    seeds: &[String],
    depth: u32,
    sels: &BTreeMap<String, String>,
) -> BTreeMap<String, (String, String, String)> {
    let s = |k: &str| sel(&sels[k]);
    let (item, text, author, time, permalink, follow) = (
        s("item"),
        s("text"),
        s("author"),
        s("time"),
        s("permalink"),
        s("follow"),
    );
    let mut posts = BTreeMap::new();
    let mut seen: BTreeSet<String> = seeds.iter().cloned().collect();
    let mut frontier = seeds.to_vec();
    for _ in 0..=depth {
        let mut next = Vec::new();
        for u in &frontier {
            let r = get(u).await;
            assert_eq!(r.status, 200, "{u}");
            let doc = Html::parse_document(&r.text());
            for it in doc.select(&item) {
                let link = it.select(&permalink).next().expect("permalink");
                let key = format!("post:{}", join(u, link.value().attr("href").unwrap()));
                let a = text_of(it.select(&author).next().expect("author"));
                let t = text_of(it.select(&text).next().expect("text"));
                let tm = it.select(&time).next().expect("time");
                let when = tm
                    .value()
                    .attr("datetime")
                    .or_else(|| tm.value().attr("data-utime"))
                    .expect("time attribute")
                    .to_string();
                let old = posts.insert(key.clone(), (a, t, when));
                assert!(old.is_none() || old == posts.get(&key).cloned(), "{key}");
            }
            for l in doc.select(&follow) {
                let href = join(u, l.value().attr("href").unwrap());
                if seen.insert(href.clone()) {
                    next.push(href);
                }
            }
        }
        frontier = next;
    }
    assert!(
        frontier.is_empty(),
        "links left beyond max_depth: {frontier:?}"
    );
    posts
}

#[tokio::test]
async fn forum_and_group_selectors_find_exactly_the_truth() {
    let sb = Sandbox::start().await.unwrap();
    let truth = sb.ground_truth();
    let mut checked = 0;
    for src in sb.demo_sources().iter().filter(|s| s.kind == "group_page") {
        let sels = src.selectors.as_ref().expect("group_page selectors");
        let style = if src.name == "forum" { "xf" } else { "fbgroup" };
        assert_eq!(Some(sels.clone()), selectors(style));
        let posts = crawl_with_selectors(&src.seeds, src.max_depth, sels).await;
        let expected: BTreeSet<String> = truth
            .docs
            .iter()
            .filter(|d| d.site == src.name)
            .map(|d| d.doc_key.clone())
            .collect();
        let got: BTreeSet<String> = posts.keys().cloned().collect();
        assert_eq!(got, expected, "{}", src.name);
        for (key, (author, text, when)) in &posts {
            assert!(!author.is_empty() && !text.is_empty(), "{key}");
            assert!(
                !text.contains("Sống chậm lại"),
                "{key}: signature leaked into the text"
            );
            if style == "xf" {
                chrono::DateTime::parse_from_rfc3339(when).unwrap();
            } else {
                assert!(when.parse::<i64>().unwrap() > 1_600_000_000);
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 2, "forum and group sources");
}

#[tokio::test]
async fn generated_site_is_deterministic_and_sized() {
    let a = Sandbox::start().await.unwrap();
    let b = Sandbox::start_with(SandboxOptions {
        generated_pages: 100_000,
    })
    .await
    .unwrap();
    for n in [0, 1, 2, 250, 499] {
        let x = get(&format!("{}/p/{n}", a.base("bulk"))).await;
        let y = get(&format!("{}/p/{n}", a.base("bulk"))).await;
        assert_eq!(x.status, 200);
        assert_eq!(x.body, y.body);
        assert_eq!(x.header("content-type"), Some("text/html; charset=utf-8"));
        let words = Html::parse_document(&x.text())
            .select(&sel("article p"))
            .map(|p| text_of(p).split_whitespace().count())
            .sum::<usize>();
        assert!((150..=410).contains(&words), "/p/{n}: {words} words");
    }
    assert_eq!(get(&format!("{}/p/500", a.base("bulk"))).await.status, 404);
    assert_eq!(
        get(&format!("{}/p/99999", b.base("bulk"))).await.status,
        200
    );
    assert_eq!(
        get(&format!("{}/p/100000", b.base("bulk"))).await.status,
        404
    );
    assert_eq!(a.options().generated_pages, 500);
    assert!(a.demo_sources().iter().all(|s| s.name != "bulk"));
    assert!(a.ground_truth().docs.iter().all(|d| d.site != "bulk"));
}

#[tokio::test]
async fn demo_sources_cover_every_site_but_bulk() {
    let sb = Sandbox::start().await.unwrap();
    let sources = sb.demo_sources();
    let mut covered = BTreeSet::new();
    for s in &sources {
        assert!(!s.seeds.is_empty(), "{}", s.name);
        assert!(
            ["web", "telegram", "app_listing", "feed", "group_page"].contains(&s.kind),
            "{}",
            s.kind
        );
        assert_eq!(s.selectors.is_some(), s.kind == "group_page", "{}", s.name);
        for seed in &s.seeds {
            let port = Url::parse(seed).unwrap().port().unwrap();
            let site = sb.sites.iter().find(|(_, a)| a.port() == port).unwrap().0;
            covered.insert(*site);
            assert_eq!(get(seed).await.status, 200, "{seed}");
        }
    }
    let all: BTreeSet<&str> = sb.sites.keys().copied().filter(|s| *s != "bulk").collect();
    assert_eq!(covered, all);
    // The old seed list still works for callers that use it.
    assert!(sb.demo_seeds().iter().any(|(k, _)| *k == "telegram"));
}

#[tokio::test]
async fn request_counts_per_site() {
    let sb = Sandbox::start().await.unwrap();
    assert_eq!(sb.request_count("news"), 0);
    get(&format!("{}/", sb.base("news"))).await;
    get(&format!("{}/khong-co.html", sb.base("news"))).await;
    assert_eq!(sb.request_count("news"), 2);
    assert_eq!(sb.request_count("invest"), 0);
    assert_eq!(sb.request_count("no-such-site"), 0);
}

#[tokio::test]
async fn hostile_endpoints_misbehave_as_documented() {
    let sb = Sandbox::start().await.unwrap();
    let base = sb.base("hostile");
    let quick = |p: &str| {
        let url = format!("{base}{p}");
        async move { get_limited(&url, 1 << 20, Duration::from_secs(5)).await }
    };
    let index = get(&format!("{base}/")).await.text();
    for h in sb
        .ground_truth()
        .hostile
        .iter()
        .filter(|h| h.url.starts_with(&base))
    {
        let path = &h.url[base.len()..];
        assert!(
            path == "/" || index.contains(&format!("href=\"{path}\"")),
            "{path} not linked"
        );
    }

    let a = quick("/loop/a").await;
    let b = quick("/loop/b").await;
    assert_eq!(
        (a.header("location"), b.header("location")),
        (Some("/loop/b"), Some("/loop/a"))
    );
    assert_eq!(
        quick("/to-private").await.header("location"),
        Some("http://10.0.0.1/")
    );
    let trap = quick("/to-trap").await;
    let target = format!("http://{}/", sb.trap_addr());
    assert_eq!(trap.header("location"), Some(target.as_str()));
    assert_eq!(sb.trap_connections(), 0);
    if sb.trap_addr().port() != 9 {
        let t = get(&target).await;
        assert_eq!(t.text(), "TRAP!");
        assert_eq!(sb.trap_connections(), 1);
    }

    let slow = get_limited(
        &format!("{base}/slowloris"),
        1 << 20,
        Duration::from_millis(2500),
    )
    .await;
    assert_eq!(slow.status, 200);
    assert!(!slow.complete);
    // Raw chunked framing: one `<` per chunk, one chunk per second.
    let bytes = slow.body.iter().filter(|&&b| b == b'<').count();
    assert!((1..=4).contains(&bytes), "{bytes} bytes in 2.5 s");

    let bomb = get_limited(
        &format!("{base}/gzip-bomb"),
        8 << 20,
        Duration::from_secs(30),
    )
    .await;
    assert!(bomb.complete);
    assert_eq!(bomb.header("content-encoding"), Some("gzip"));
    assert!(bomb.body.len() < 4 << 20 && bomb.body.len() > 100 << 10);
    let inflated = u32::from_le_bytes(bomb.body[bomb.body.len() - 4..].try_into().unwrap());
    assert!(inflated as u64 >= 1_000_000_000);

    let endless = get_limited(&format!("{base}/endless"), 4 << 20, Duration::from_secs(10)).await;
    assert!(!endless.complete);
    assert!(endless.body.len() >= 4 << 20);
    assert_eq!(endless.header("transfer-encoding"), Some("chunked"));

    let wrong = quick("/wrong-charset").await;
    assert_eq!(
        wrong.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(std::str::from_utf8(&wrong.body).is_err());
    let (decoded, _, bad) = encoding_rs::WINDOWS_1258.decode(&wrong.body);
    assert!(
        !bad && decoded.contains("Th\u{f4}ng ba\u{301}o"),
        "{decoded}"
    );
    let missing = quick("/missing-charset").await;
    assert_eq!(missing.header("content-type"), Some("text/html"));
    assert!(!missing.text().to_ascii_lowercase().contains("charset"));
    assert!(std::str::from_utf8(&missing.body).is_err());

    let bad = quick("/malformed").await;
    assert!(bad.body.contains(&0));
    assert!(bad.text().contains("</div></div></div>"));
    let deep = quick("/deep").await;
    assert_eq!(deep.text().matches("<div>").count(), 5000);

    let cal = quick("/calendar/2026/11").await.text();
    assert!(
        cal.contains("href=\"/calendar/2026/10\"") && cal.contains("href=\"/calendar/2026/12\"")
    );
    let cal = quick("/calendar/2026/12").await.text();
    assert!(cal.contains("href=\"/calendar/2027/1\""));
    assert_eq!(quick("/calendar/2026/13").await.status, 404);

    assert!(
        quick("/robots.txt")
            .await
            .text()
            .contains("Disallow: /private/")
    );
    assert_eq!(quick("/private/").await.status, 200);

    let busy = quick("/busy").await;
    assert_eq!((busy.status, busy.header("retry-after")), (429, Some("2")));
    assert_eq!(quick("/busy").await.status, 200);
    let flaps: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(quick("/flap").await.status);
        }
        v
    };
    assert_eq!(flaps, [503, 200, 503, 200]);
    assert_eq!(quick("/gone").await.status, 410);
    assert!(sb.request_count("hostile") >= 20);
}
