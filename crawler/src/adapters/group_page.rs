//! Owns the group/forum page adapter: a list-of-posts page (a forum thread, a saved
//! Facebook-group-like feed) read with the source's configured CSS selectors
//! ([`crate::extract::GroupSelectors`]). Each `item` element is one `group_post`; the
//! `follow` selector names the links worth following (pagination, threads; the page itself
//! is left out).

use std::collections::HashSet;

use scraper::{ElementRef, Html};
use serde_json::json;
use url::Url;

use super::{attr, parse_time, parse_unix_seconds, sel, short_text, visible_text};
use crate::canon::canonicalize;
use crate::extract::{CompiledGroup, Extracted, ItemDraft, ItemSink, LinkSet, abs_http_url};

/// Most `item` matches looked at on one page (posts without text included).
const MAX_ITEM_MATCHES: usize = 5_000;

/// When a post was made, from its time element: `datetime`, `data-utime`/`data-time`/
/// `data-timestamp` (Unix seconds), `title`, else its text.
fn post_time(el: ElementRef<'_>) -> Option<i64> {
    if let Some(t) = attr(el, "datetime").and_then(parse_time) {
        return Some(t);
    }
    for a in ["data-utime", "data-time", "data-timestamp"] {
        if let Some(t) = attr(el, a).and_then(parse_unix_seconds) {
            return Some(t);
        }
    }
    attr(el, "title")
        .and_then(parse_time)
        .or_else(|| short_text(el).and_then(|t| parse_time(&t)))
}

/// The `href` of an element, or of the first link inside it.
fn href_of(el: ElementRef<'_>) -> Option<&str> {
    attr(el, "href").or_else(|| {
        el.select(&sel("a[href]"))
            .next()
            .and_then(|a| attr(a, "href"))
    })
}

pub(crate) fn extract(final_url: &Url, doc: &Html, g: &CompiledGroup) -> Extracted {
    let page = canonicalize(final_url);
    let mut sink = ItemSink::default();
    let mut seen = HashSet::new();
    for (index, item) in doc.select(&g.item).take(MAX_ITEM_MATCHES).enumerate() {
        if !sink.has_room() {
            break;
        }
        let permalink = g
            .permalink
            .as_ref()
            .and_then(|s| item.select(s).find_map(href_of))
            .and_then(|h| abs_http_url(final_url, h));
        let doc_key = match &permalink {
            Some(p) => format!("post:{p}"),
            None => format!("post:{page}#{index}"),
        };
        if seen.contains(&doc_key) {
            continue;
        }
        let Some(text) = item
            .select(&g.text)
            .map(visible_text)
            .find(|t| !t.is_empty())
        else {
            continue;
        };
        seen.insert(doc_key.clone());
        let author = g
            .author
            .as_ref()
            .and_then(|s| item.select(s).find_map(short_text));
        let posted_at = g
            .time
            .as_ref()
            .and_then(|s| item.select(s).find_map(post_time));
        let url = permalink
            .as_ref()
            .map_or_else(|| final_url.to_string(), Url::to_string);
        let item = ItemDraft {
            author: author.clone(),
            posted_at,
            meta: json!({
                "permalink": permalink.as_ref().map(Url::as_str),
                "author": author,
            }),
            ..ItemDraft::new(doc_key, "group_post", &url, text)
        }
        .finish();
        sink.push(item);
    }
    let mut links = LinkSet::default();
    if let Some(follow) = &g.follow {
        for el in doc.select(follow) {
            if links.is_full() {
                break;
            }
            if let Some(u) = href_of(el).and_then(|h| abs_http_url(final_url, h))
                && u != page
            {
                links.add(u);
            }
        }
    }
    Extracted {
        items: sink.items,
        links: links.into_vec(),
        telegram_max_id: None,
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::{ExtractContext, GroupSelectors, MAX_ITEMS, MAX_LINKS, extract_with};
    use serde_json::Value;
    use url::Url;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const XF: &str = include_str!("../../tests/fixtures/forum_xf_thread.html");
    const FB: &str = include_str!("../../tests/fixtures/fbgroup_page.html");

    fn xf_selectors() -> GroupSelectors {
        GroupSelectors {
            item: "article.message".into(),
            text: ".message-body .bbWrapper".into(),
            author: Some(".message-name".into()),
            time: Some("time.u-dt".into()),
            permalink: Some("a.message-permalink".into()),
            follow: Some(".pageNav a[href], a.thread-link".into()),
        }
    }

    fn run(page: &str, body: &str, g: &GroupSelectors) -> crate::extract::Extracted {
        extract_with(
            &url(page),
            Some("text/html; charset=utf-8"),
            body.as_bytes(),
            &ExtractContext {
                source_kind: "group_page",
                group: Some(g),
                telegram_floor: None,
            },
        )
    }

    #[test]
    fn forum_thread_posts() {
        let e = run(
            "http://127.0.0.1:4/threads/tuyen-ctv-online/",
            XF,
            &xf_selectors(),
        );
        assert_eq!(e.items.len(), 3, "{:#?}", e.items);
        let p = &e.items[0];
        assert_eq!(p.kind, "group_post");
        assert_eq!(
            p.doc_key,
            "post:http://127.0.0.1:4/threads/tuyen-ctv-online/post-101"
        );
        assert_eq!(p.author.as_deref(), Some("hoa.nguyen88"));
        assert_eq!(p.posted_at, Some(1_793_715_240_000));
        assert!(
            p.text.starts_with("Tuyển CTV online làm tại nhà"),
            "{}",
            p.text
        );
        assert!(!p.text.contains("Chữ ký"), "signature kept: {}", p.text);
        assert_eq!(
            p.meta["permalink"],
            "http://127.0.0.1:4/threads/tuyen-ctv-online/post-101"
        );
        assert_eq!(p.meta["author"], "hoa.nguyen88");
        // data-time (Unix seconds) when there is no datetime.
        assert_eq!(e.items[1].posted_at, Some(1_793_718_000_000));
        // No permalink: keyed by page and index.
        assert_eq!(
            e.items[2].doc_key,
            "post:http://127.0.0.1:4/threads/tuyen-ctv-online/#3"
        );
        assert_eq!(e.items[2].meta["permalink"], Value::Null);
        assert_eq!(
            e.links,
            vec![
                url("http://127.0.0.1:4/threads/tuyen-ctv-online/page-2"),
                url("http://127.0.0.1:4/threads/viec-lam-them-cuoi-tuan/"),
            ]
        );
    }

    #[test]
    fn facebook_like_group_page() {
        let g = GroupSelectors {
            item: "div[role=article].post".into(),
            text: "[data-ad-preview=message]".into(),
            author: Some("h3.author a".into()),
            time: Some("abbr[data-utime]".into()),
            permalink: Some("a.timestamp-link".into()),
            follow: Some("a.see-more-posts".into()),
        };
        let e = run("http://127.0.0.1:3/groups/vieclamtainha", FB, &g);
        assert_eq!(e.items.len(), 2);
        assert_eq!(
            e.items[0].doc_key,
            "post:http://127.0.0.1:3/groups/vieclamtainha/posts/7001"
        );
        assert_eq!(e.items[0].author.as_deref(), Some("Lan Phạm"));
        assert_eq!(e.items[0].posted_at, Some(1_793_700_000_000));
        // Comments are not the post's text.
        assert!(!e.items[0].text.contains("ib em"), "{}", e.items[0].text);
        assert_eq!(
            e.links,
            vec![url("http://127.0.0.1:3/groups/vieclamtainha?cursor=abc")]
        );
    }

    #[test]
    fn selectors_are_validated() {
        assert!(xf_selectors().validate().is_ok());
        let mut bad = xf_selectors();
        bad.time = Some("time[".into());
        let err = bad.validate().unwrap_err();
        assert!(err.contains("`time`") && err.contains("time["), "{err}");
        let mut empty = xf_selectors();
        empty.item = "  ".into();
        assert!(empty.validate().unwrap_err().contains("`item`"));
        // Bad selectors at extraction time: nothing, no panic.
        let e = run("http://h/t", XF, &bad);
        assert!(e.items.is_empty() && e.links.is_empty());
        // Selectors deserialize with the optional ones left out.
        let g: GroupSelectors =
            serde_json::from_str(r#"{"item": "article", "text": "p"}"#).unwrap();
        assert_eq!(g.follow, None);
    }

    #[test]
    fn hostile_group_pages() {
        // A selector matching nothing.
        let g = GroupSelectors {
            item: ".khong-co".into(),
            text: "p".into(),
            author: None,
            time: None,
            permalink: None,
            follow: Some(".cung-khong-co".into()),
        };
        let e = run("http://h/t", XF, &g);
        assert!(e.items.is_empty() && e.links.is_empty());

        // A generic selector over deeply nested divs: bounded items and text.
        let mut html = String::from("<html><body>");
        for _ in 0..400 {
            html.push_str("<div><a href=\"/x\">");
        }
        html.push_str(&"chữ ".repeat(200_000));
        let g = GroupSelectors {
            item: "div".into(),
            text: "a".into(),
            author: Some("b".into()),
            time: Some("time".into()),
            permalink: Some("a".into()),
            follow: Some("a".into()),
        };
        let e = run("http://h/t", &html, &g);
        assert!(e.items.len() <= MAX_ITEMS);
        let total: usize = e.items.iter().map(|i| i.text.len()).sum();
        assert!(total <= crate::extract::MAX_TOTAL_TEXT_BYTES);
        // Every item has the same permalink: one post.
        assert_eq!(e.items.len(), 1);
        assert_eq!(e.links, vec![url("http://h/x")]);

        // 100k follow links.
        let mut html = String::from("<html><body>");
        for i in 0..100_000 {
            html.push_str(&format!(
                "<article><p>bài {i}</p><a class=n href=\"/p/{i}\">n</a></article>"
            ));
        }
        let g = GroupSelectors {
            item: "article".into(),
            text: "p".into(),
            author: None,
            time: None,
            permalink: None,
            follow: Some("a.n".into()),
        };
        let e = run("http://h/t", &html, &g);
        assert_eq!(e.links.len(), MAX_LINKS);
        assert_eq!(e.items.len(), MAX_ITEMS);
    }
}
