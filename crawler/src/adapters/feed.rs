//! Owns the feed adapter: RSS, Atom and JSON Feed bodies (parsed with feed-rs) become one
//! `feed_item` per entry, its text the entry's content or summary with markup stripped.
//! Feed items carry their text in the feed itself, so no links are followed.

use scraper::Html;
use serde_json::json;
use url::Url;

use crate::canon::canonicalize;
use crate::extract::{
    Extracted, ItemDraft, ItemSink, abs_http_url, approx_depth_exceeds, decode_entities,
    normalize_ws, strip_tags, strip_xml_declaration,
};

/// Text of an HTML fragment (or of plain text), markup and entities resolved.
pub(crate) fn html_to_text(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return normalize_ws(s);
    }
    if approx_depth_exceeds(s) {
        return normalize_ws(&decode_entities(&strip_tags(s)));
    }
    let frag = Html::parse_fragment(s);
    super::visible_text(frag.root_element())
}

fn one_line(s: &str) -> Option<String> {
    let t = html_to_text(s).replace('\n', " ");
    let t = super::clip(t.trim(), 2048);
    (!t.is_empty()).then_some(t)
}

/// `text` is the decoded feed (UTF-8).
pub(crate) fn extract(final_url: &Url, text: &str) -> Extracted {
    let body = strip_xml_declaration(text);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(final_url.as_str()))
        .build();
    let feed = match parser.parse(body.as_bytes()) {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!(url = %final_url, error = %e, "not a parseable feed");
            return Extracted::default();
        }
    };
    let feed_title = feed.title.as_ref().and_then(|t| one_line(&t.content));
    let feed_key = canonicalize(final_url);
    let mut sink = ItemSink::default();
    for entry in &feed.entries {
        if !sink.has_room() {
            break;
        }
        let link = entry
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or_else(|| entry.links.first())
            .and_then(|l| abs_http_url(final_url, &l.href));
        let guid = super::clip(entry.id.trim(), 1024);
        let doc_key = match &link {
            Some(l) => format!("feed:{l}"),
            None if !guid.is_empty() => format!("feed:{feed_key}#{guid}"),
            None => continue,
        };
        let title = entry.title.as_ref().and_then(|t| one_line(&t.content));
        let text = entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .map(html_to_text)
            .filter(|t| !t.is_empty())
            .or_else(|| entry.summary.as_ref().map(|s| html_to_text(&s.content)))
            .unwrap_or_default();
        if text.is_empty() && title.is_none() {
            continue;
        }
        let author = entry
            .authors
            .iter()
            .find_map(|p| one_line(&p.name))
            .or_else(|| feed.authors.iter().find_map(|p| one_line(&p.name)));
        let posted_at = entry
            .published
            .or(entry.updated)
            .map(|d| d.timestamp_millis());
        let url = link
            .as_ref()
            .map_or_else(|| final_url.to_string(), Url::to_string);
        let item = ItemDraft {
            title,
            author,
            posted_at,
            meta: json!({
                "feed_title": feed_title,
                "guid": guid,
                "link": link.as_ref().map(Url::as_str),
            }),
            ..ItemDraft::new(doc_key, "feed_item", &url, text)
        }
        .finish();
        sink.push(item);
    }
    Extracted {
        items: sink.items,
        links: Vec::new(),
        telegram_max_id: None,
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::{MAX_ITEMS, extract};
    use url::Url;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const RSS: &str = include_str!("../../tests/fixtures/feed_rss.xml");
    const ATOM: &str = include_str!("../../tests/fixtures/feed_atom.xml");
    const JSON_FEED: &str = include_str!("../../tests/fixtures/feed_json.json");

    #[test]
    fn rss_items() {
        let e = extract(
            &url("http://127.0.0.1:6/canh-giac.rss"),
            Some("application/rss+xml; charset=utf-8"),
            RSS.as_bytes(),
        );
        assert!(e.links.is_empty());
        assert_eq!(e.items.len(), 3);
        let a = &e.items[0];
        assert_eq!(a.kind, "feed_item");
        assert_eq!(a.doc_key, "feed:http://127.0.0.1:6/bai/kts-2026-1102.html");
        assert_eq!(a.url, "http://127.0.0.1:6/bai/kts-2026-1102.html");
        assert_eq!(
            a.title.as_deref(),
            Some("Cảnh giác cuộc gọi mạo danh công an yêu cầu cài ứng dụng")
        );
        assert_eq!(
            a.text,
            "Nhiều người nhận cuộc gọi tự xưng là công an phường.\nĐối tượng yêu cầu cài ứng dụng & cung cấp mã OTP."
        );
        assert_eq!(a.author.as_deref(), Some("Minh Anh"));
        assert_eq!(a.posted_at, Some(1_793_586_600_000));
        assert_eq!(a.meta["feed_title"], "Báo Kinh tế Số - Cảnh giác lừa đảo");
        assert_eq!(a.meta["guid"], "kts-2026-1102");
        assert_eq!(a.meta["link"], "http://127.0.0.1:6/bai/kts-2026-1102.html");
        // No link: keyed by the feed URL and the guid.
        assert_eq!(
            e.items[1].doc_key,
            "feed:http://127.0.0.1:6/canh-giac.rss#kts-2026-1101"
        );
        assert_eq!(
            e.items[1].text,
            "Tuyển CTV đánh giá sản phẩm, hoa hồng 30%."
        );
        // Description only, no content:encoded.
        assert_eq!(e.items[2].text, "Tin ngắn.");
        // Two entries with one link: one document.
        let dup = RSS.replace(
            "/bai/kts-2026-1102.html?utm_source=rss",
            "/bai/kts-2026-1031.html",
        );
        let e = extract(
            &url("http://127.0.0.1:6/canh-giac.rss"),
            Some("application/rss+xml"),
            dup.as_bytes(),
        );
        assert_eq!(e.items.len(), 2);
    }

    #[test]
    fn atom_and_json_feed_items() {
        let e = extract(
            &url("http://127.0.0.1:6/dau-tu.atom"),
            Some("application/atom+xml"),
            ATOM.as_bytes(),
        );
        assert_eq!(e.items.len(), 2);
        assert_eq!(
            e.items[0].doc_key,
            "feed:http://127.0.0.1:6/bai/san-usdt.html"
        );
        assert_eq!(e.items[0].author.as_deref(), Some("Ban biên tập"));
        assert!(e.items[0].text.contains("lãi 3%/ngày"));
        assert_eq!(e.items[0].meta["feed_title"], "Đầu tư thông minh");

        let e = extract(
            &url("http://127.0.0.1:6/viec-lam.json"),
            Some("application/feed+json"),
            JSON_FEED.as_bytes(),
        );
        assert_eq!(e.items.len(), 2);
        assert_eq!(e.items[0].doc_key, "feed:http://127.0.0.1:6/bai/ctv-1.html");
        assert_eq!(
            e.items[0].text,
            "Việc nhẹ lương cao, 500k/ngày, không cần kinh nghiệm."
        );
        assert_eq!(e.items[1].text, "Nạp trước 300k để nhận nhiệm vụ.");
        assert_eq!(e.items[1].author.as_deref(), Some("Tuyển dụng 24h"));
        // A JSON Feed sent as application/json is still a feed.
        let e2 = extract(
            &url("http://127.0.0.1:6/viec-lam.json"),
            Some("application/json"),
            JSON_FEED.as_bytes(),
        );
        assert_eq!(e2.items, e.items);
    }

    #[test]
    fn feeds_are_sniffed_and_legacy_encodings_decoded() {
        // No content type, windows-1258 declared only in the XML declaration.
        let xml = "<?xml version=\"1.0\" encoding=\"windows-1258\"?>\n<rss version=\"2.0\"><channel><title>Tin</title>\
            <item><title>Lừa đảo</title><link>/a</link><description>Cảnh báo người dân</description></item></channel></rss>";
        // "Lừa đảo", "Cảnh báo người dân" with combining tone marks, as windows-1258 has them.
        let xml = xml
            .replace("Lừa đảo", "L\u{1b0}\u{300}a \u{111}a\u{309}o")
            .replace(
                "Cảnh báo người dân",
                "Ca\u{309}nh ba\u{301}o ng\u{1b0}\u{1a1}\u{300}i d\u{e2}n",
            );
        let (bytes, _, bad) = encoding_rs::WINDOWS_1258.encode(&xml);
        assert!(!bad);
        let e = extract(&url("http://h/f"), None, &bytes);
        assert_eq!(e.items.len(), 1);
        assert_eq!(e.items[0].title.as_deref(), Some("Lừa đảo"));
        assert_eq!(e.items[0].text, "Cảnh báo người dân");
        // Served as text/xml.
        let e = extract(&url("http://h/f"), Some("text/xml"), RSS.as_bytes());
        assert_eq!(e.items.len(), 3);
    }

    #[test]
    fn hostile_feeds() {
        // Malformed XML.
        for bad in [
            "<rss version=\"2.0\"><channel><item><title>a</title>",
            "<rss version=\"2.0\"><channel><item><title>a</b></item></channel></rss>",
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>&bogus;</title></entry>",
            "<rss",
            "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [",
        ] {
            let e = extract(
                &url("http://h/f"),
                Some("application/rss+xml"),
                bad.as_bytes(),
            );
            assert!(e.items.len() <= 1, "{bad}");
        }
        // Deeply nested XML never reaches the parser.
        let mut deep =
            String::from("<rss version=\"2.0\"><channel><item><title>x</title><description>");
        deep.push_str(&"<x>".repeat(100_000));
        let e = extract(
            &url("http://h/f"),
            Some("application/rss+xml"),
            deep.as_bytes(),
        );
        assert!(e.items.is_empty());
        // Deep HTML inside an entry's content is stripped, not parsed.
        let mut nested = String::from(
            "<rss version=\"2.0\"><channel><item><link>/a</link><description><![CDATA[",
        );
        nested.push_str(&"<div>".repeat(50_000));
        nested.push_str("sâu]]></description></item></channel></rss>");
        let e = extract(
            &url("http://h/f"),
            Some("application/rss+xml"),
            nested.as_bytes(),
        );
        assert_eq!(e.items[0].text, "sâu");
        // Many entries: bounded.
        let mut many = String::from("<rss version=\"2.0\"><channel><title>t</title>");
        for i in 0..2000 {
            many.push_str(&format!(
                "<item><link>/a/{i}</link><title>tin {i}</title></item>"
            ));
        }
        many.push_str("</channel></rss>");
        let e = extract(
            &url("http://h/f"),
            Some("application/rss+xml"),
            many.as_bytes(),
        );
        assert_eq!(e.items.len(), MAX_ITEMS);
    }
}
