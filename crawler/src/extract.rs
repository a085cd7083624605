//! Turns a fetched body into documents and links. A generic web page becomes one item; a
//! Telegram channel preview (`t.me/s/<channel>` markup) becomes one item per message, and
//! its "older messages" link is the only link followed. Parsing is iterative (no recursion
//! over the tree), so hostile nesting cannot exhaust the stack.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::canon::canonicalize;

/// Most links taken from one page.
pub const MAX_LINKS: usize = 500;
/// Longest text kept for one item, in bytes.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// One document found in a body.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable identity across fetches: `web:<canonical url>` or `telegram:<channel>/<id>`.
    pub doc_key: String,
    pub kind: &'static str,
    pub url: String,
    pub title: Option<String>,
    pub text: String,
    pub language: Option<&'static str>,
    pub author: Option<String>,
    pub posted_at: Option<i64>,
    /// SHA-256 of title and text: a new hash for the same `doc_key` is a new version.
    pub content_hash: String,
}

/// Items and onward links from one body.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    pub items: Vec<Item>,
    pub links: Vec<Url>,
}

/// Extracts from a response body. Bodies that are not HTML or plain text yield nothing.
pub fn extract(final_url: &Url, content_type: Option<&str>, body: &[u8]) -> Extracted {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let looks_html = ct.contains("html") || (ct.is_empty() && sniff_html(body));
    if looks_html {
        let text = decode(body, &ct);
        if approx_max_depth(&text) > MAX_DEPTH {
            // html5ever's tree building is quadratic in nesting depth; a page nested this
            // deep is hostile, so its text is taken by stripping tags instead.
            let text = normalize_ws(&strip_tags(&text));
            return plain_text_page(final_url, text);
        }
        let doc = Html::parse_document(&text);
        if is_telegram_preview(&doc) {
            return extract_telegram(final_url, &doc);
        }
        return extract_page(final_url, &doc);
    }
    if ct.starts_with("text/plain") {
        let text = normalize_ws(&decode(body, &ct));
        return plain_text_page(final_url, text);
    }
    Extracted::default()
}

/// Nesting depth above which a page is not handed to the HTML parser.
pub const MAX_DEPTH: usize = 1024;

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "!doctype",
];

/// Upper estimate of element nesting, from a linear scan of tags.
fn approx_max_depth(html: &str) -> usize {
    let b = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off + 1;
        if i >= b.len() {
            break;
        }
        if b[i] == b'/' {
            depth = depth.saturating_sub(1);
            continue;
        }
        if !b[i].is_ascii_alphabetic() {
            continue;
        }
        let end = b[i..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-'))
            .map_or(b.len(), |p| i + p);
        let name = html[i..end].to_ascii_lowercase();
        let close = b[end..].iter().position(|&c| c == b'>').map(|p| end + p);
        let self_closing = close.is_some_and(|c| c > 0 && b[c - 1] == b'/');
        if !VOID.contains(&name.as_str()) && !self_closing {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

/// Text of an HTML string with tags (and script/style contents) removed.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    while i < html.len() {
        let Some(off) = html[i..].find('<') else {
            out.push_str(&html[i..]);
            break;
        };
        out.push_str(&html[i..i + off]);
        i += off;
        let skip_to = ["script", "style"].iter().find_map(|t| {
            lower[i + 1..]
                .starts_with(t)
                .then(|| lower[i..].find(&format!("</{t}")).map(|p| i + p + 2))
                .flatten()
        });
        let from = skip_to.unwrap_or(i);
        match html[from..].find('>') {
            Some(p) => {
                i = from + p + 1;
                out.push('\n');
            }
            None => break,
        }
    }
    out
}

/// One untitled page item from already-normalised text, or nothing for empty text.
fn plain_text_page(final_url: &Url, text: String) -> Extracted {
    if text.is_empty() {
        return Extracted::default();
    }
    Extracted {
        items: vec![make_item(
            web_key(final_url),
            "web_page",
            final_url.as_str(),
            None,
            text,
            None,
            None,
        )],
        links: Vec::new(),
    }
}

fn sniff_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}

/// Decodes with the charset from the header, else from a `<meta charset>` near the top,
/// else UTF-8 (invalid bytes replaced).
fn decode(body: &[u8], content_type: &str) -> String {
    let label = charset_param(content_type).or_else(|| meta_charset(body));
    let enc = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = enc.decode(body);
    text.into_owned()
}

fn charset_param(ct: &str) -> Option<String> {
    ct.split(';')
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .map(|v| v.trim_matches('"').to_string())
        .next()
}

fn meta_charset(body: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let rest = head[at..].trim_start_matches(['"', '\'']);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
    (end > 0).then(|| rest[..end].to_string())
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("static selector")
}

fn is_telegram_preview(doc: &Html) -> bool {
    doc.select(&sel("div.tgme_widget_message[data-post]"))
        .next()
        .is_some()
}

const SKIPPED: &[&str] = &["script", "style", "noscript", "template", "svg", "head"];
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "td",
    "th",
    "form",
    "nav",
    "main",
    "aside",
    "dd",
    "dt",
    "hr",
];

/// Visible text under `root`, with line breaks at block boundaries and `<br>`.
fn visible_text(root: ElementRef<'_>) -> String {
    let mut out = String::new();
    let mut skip_depth = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) => {
                    let name = e.name();
                    if skip_depth > 0 || SKIPPED.contains(&name) {
                        skip_depth += 1;
                    } else if BLOCKS.contains(&name) {
                        out.push('\n');
                    }
                }
                Node::Text(t) if skip_depth == 0 && out.len() < MAX_TEXT_BYTES => {
                    out.push_str(t);
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    if skip_depth > 0 {
                        skip_depth -= 1;
                    } else if BLOCKS.contains(&e.name()) {
                        out.push('\n');
                    }
                }
            }
        }
    }
    normalize_ws(&out)
}

/// Collapses runs of spaces, trims lines, drops empty lines, caps the size.
pub fn normalize_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_TEXT_BYTES));
    for line in s.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            continue;
        }
        if out.len() + line.len() + 1 > MAX_TEXT_BYTES {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line);
    }
    out
}

fn web_key(url: &Url) -> String {
    format!("web:{}", canonicalize(url))
}

fn make_item(
    doc_key: String,
    kind: &'static str,
    url: &str,
    title: Option<String>,
    text: String,
    author: Option<String>,
    posted_at: Option<i64>,
) -> Item {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(title.as_deref().unwrap_or("").as_bytes());
    h.update([0u8]);
    h.update(text.as_bytes());
    let language = detect_language(&text);
    Item {
        doc_key,
        kind,
        url: url.to_string(),
        title,
        content_hash: hex::encode(h.finalize()),
        text,
        language,
        author,
        posted_at,
    }
}

fn extract_page(final_url: &Url, doc: &Html) -> Extracted {
    let title = doc
        .select(&sel("title"))
        .next()
        .map(|t| normalize_ws(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    let text = doc
        .select(&sel("body"))
        .next()
        .map(visible_text)
        .unwrap_or_default();
    let mut links = Vec::new();
    for a in doc.select(&sel("a[href]")) {
        if links.len() >= MAX_LINKS {
            break;
        }
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        if let Ok(u) = final_url.join(href.trim())
            && matches!(u.scheme(), "http" | "https")
        {
            let u = canonicalize(&u);
            if !links.contains(&u) {
                links.push(u);
            }
        }
    }
    let items = if text.is_empty() && title.is_none() {
        Vec::new()
    } else {
        vec![make_item(
            web_key(final_url),
            "web_page",
            final_url.as_str(),
            title,
            text,
            None,
            None,
        )]
    };
    Extracted { items, links }
}

fn extract_telegram(final_url: &Url, doc: &Html) -> Extracted {
    let channel_title = doc
        .select(&sel(".tgme_channel_info_header_title"))
        .next()
        .map(|e| normalize_ws(&e.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    let mut items = Vec::new();
    for msg in doc.select(&sel("div.tgme_widget_message[data-post]")) {
        let Some(post) = msg.value().attr("data-post") else {
            continue;
        };
        let Some((channel, id)) = post.split_once('/') else {
            continue;
        };
        let channel = channel.trim().to_ascii_lowercase();
        let id = id.trim();
        if channel.is_empty() || id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let text = msg
            .select(&sel(".tgme_widget_message_text"))
            .next()
            .map(visible_text)
            .unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        let author = msg
            .select(&sel(".tgme_widget_message_author"))
            .next()
            .map(|e| normalize_ws(&e.text().collect::<String>()))
            .filter(|t| !t.is_empty())
            .or_else(|| channel_title.clone());
        let posted_at = msg
            .select(&sel(".tgme_widget_message_date time[datetime]"))
            .next()
            .and_then(|t| t.value().attr("datetime"))
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.timestamp_millis());
        let url = msg
            .select(&sel("a.tgme_widget_message_date[href]"))
            .next()
            .and_then(|a| a.value().attr("href"))
            .and_then(|h| final_url.join(h).ok())
            .map(|u| u.to_string())
            .unwrap_or_else(|| format!("https://t.me/{channel}/{id}"));
        items.push(make_item(
            format!("telegram:{channel}/{id}"),
            "telegram_message",
            &url,
            channel_title.clone(),
            text,
            author,
            posted_at,
        ));
    }
    let links = doc
        .select(&sel("a.tme_messages_more[href]"))
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|h| final_url.join(h).ok())
        .map(|u| canonicalize(&u))
        .take(1)
        .collect();
    Extracted { items, links }
}

/// A cheap language guess: Vietnamese letters, or common Vietnamese words written without
/// diacritics, mean `vi`; other Latin text means `en`.
pub fn detect_language(text: &str) -> Option<&'static str> {
    let mut letters = 0usize;
    let mut vi_marked = 0usize;
    for c in text.chars().take(20_000) {
        if c.is_alphabetic() {
            letters += 1;
            if "ăâđêôơưàáạảãằắặẳẵầấậẩẫèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ"
                .contains(c.to_lowercase().next().unwrap_or(c))
            {
                vi_marked += 1;
            }
        }
    }
    if letters < 3 {
        return None;
    }
    if vi_marked * 20 >= letters {
        return Some("vi");
    }
    const VI_PLAIN: &[&str] = &[
        "khong", "duoc", "cua", "nhung", "tien", "lam", "cho", "nguoi", "viec", "nhan", "ngay",
        "chuyen", "khoan", "hang", "minh", "ban", "anh", "chi", "em", "roi", "nay", "voi",
    ];
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(5000)
        .map(str::to_lowercase)
        .collect();
    let vi_words = words
        .iter()
        .filter(|w| VI_PLAIN.contains(&w.as_str()))
        .count();
    if !words.is_empty() && vi_words * 10 >= words.len() {
        return Some("vi");
    }
    Some("en")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn page_text_skips_scripts_and_keeps_links() {
        let html = r#"<!doctype html><html><head><title> Lãi 3%/ngày </title><style>p{}</style></head>
        <body><script>var x = "hidden";</script><p>Cam kết   lợi nhuận</p><p>Liên hệ <a href="/lien-he.html#x">đây</a></p>
        <a href="mailto:a@b.c">m</a><a href="javascript:alert(1)">j</a></body></html>"#;
        let e = extract(
            &url("http://127.0.0.1:9/"),
            Some("text/html; charset=utf-8"),
            html.as_bytes(),
        );
        assert_eq!(e.items.len(), 1);
        let it = &e.items[0];
        assert_eq!(it.title.as_deref(), Some("Lãi 3%/ngày"));
        assert_eq!(it.text, "Cam kết lợi nhuận\nLiên hệ đây\nmj");
        assert!(!it.text.contains("hidden"));
        assert_eq!(it.language, Some("vi"));
        assert_eq!(e.links, vec![url("http://127.0.0.1:9/lien-he.html")]);
    }

    #[test]
    fn windows_1258_body_is_decoded_from_header() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1258.encode("<html><body><p>Vi\u{1EC7}t Nam</p></body></html>");
        let e = extract(
            &url("http://h/"),
            Some("text/html; charset=windows-1258"),
            &bytes,
        );
        assert!(e.items[0].text.starts_with("Vi"), "{}", e.items[0].text);
        assert!(!e.items[0].text.contains('\u{FFFD}'));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let mut html = String::from("<html><body>");
        for _ in 0..200_000 {
            html.push_str("<div>");
        }
        html.push_str("sâu<script>bỏ</script>");
        let e = extract(&url("http://h/"), Some("text/html"), html.as_bytes());
        assert!(e.items[0].text.contains("sâu"));
        assert!(!e.items[0].text.contains("bỏ"));
        // An ordinary page stays on the real parser.
        assert!(approx_max_depth("<html><body><p>a<br>b<img src=x /></p></body></html>") <= 3);
    }

    #[test]
    fn binary_and_empty_bodies_yield_nothing() {
        assert!(
            extract(
                &url("http://h/a.apk"),
                Some("application/vnd.android.package-archive"),
                b"PK\x03\x04"
            )
            .items
            .is_empty()
        );
        assert!(
            extract(&url("http://h/"), Some("text/html"), b"")
                .items
                .is_empty()
        );
    }

    #[test]
    fn telegram_preview_yields_one_item_per_message() {
        let html = r#"<html><body><div class="tgme_channel_info"><div class="tgme_channel_info_header_title"><span>Kênh A</span></div></div>
        <a class="tme_messages_more" data-before="10" href="/s/kenh?before=10"></a>
        <div class="tgme_widget_message" data-post="Kenh/10"><div class="tgme_widget_message_text">Nạp USDT<br>lãi 5%</div>
        <div class="tgme_widget_message_footer"><a class="tgme_widget_message_date" href="https://t.me/kenh/10"><time datetime="2026-10-05T08:12:00+00:00">08:12</time></a></div></div>
        <div class="tgme_widget_message" data-post="kenh/11"><div class="tgme_widget_message_text">tin 2</div></div>
        <div class="tgme_widget_message" data-post="kenh/abc"><div class="tgme_widget_message_text">bad id</div></div>
        </body></html>"#;
        let e = extract(
            &url("http://127.0.0.1:5/s/kenh"),
            Some("text/html"),
            html.as_bytes(),
        );
        assert_eq!(e.items.len(), 2);
        assert_eq!(e.items[0].doc_key, "telegram:kenh/10");
        assert_eq!(e.items[0].text, "Nạp USDT\nlãi 5%");
        assert_eq!(e.items[0].posted_at, Some(1_791_187_920_000));
        assert_eq!(e.items[0].author.as_deref(), Some("Kênh A"));
        assert_eq!(e.links, vec![url("http://127.0.0.1:5/s/kenh?before=10")]);
    }

    #[test]
    fn language_guess_handles_missing_diacritics() {
        assert_eq!(
            detect_language("chuyen khoan truoc roi moi nhan viec nha ban"),
            Some("vi")
        );
        assert_eq!(
            detect_language("Police warn about fake investment apps"),
            Some("en")
        );
    }
}
