//! Owns the Telegram channel preview adapter (`t.me/s/<channel>` markup): one item per
//! message with its channel, id, views, date and links, the page's highest message id, and
//! the "older messages" link, followed only while the page is newer than the channel's
//! cursor.

use std::collections::HashSet;

use scraper::{ElementRef, Html, Selector};
use serde_json::json;
use url::Url;

use super::{attr, clip, sel, short_text, visible_text};
use crate::canon::canonicalize;
use crate::extract::{Extracted, ItemDraft, ItemSink};

/// Most links kept in one message's `meta.links`.
pub const MAX_MESSAGE_LINKS: usize = 50;

pub(crate) fn is_preview(doc: &Html) -> bool {
    doc.select(&sel("div.tgme_widget_message[data-post]"))
        .next()
        .is_some()
}

/// A view count as Telegram writes it: `845`, `1.2K`, `3M`, `1,234`.
pub fn parse_views(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let (num, mult) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1_000.0),
        (i, 'm' | 'M') => (&s[..i], 1_000_000.0),
        (i, 'b' | 'B') => (&s[..i], 1_000_000_000.0),
        _ => (s, 1.0),
    };
    let num = num.trim();
    let num = if mult == 1.0 {
        // Without a suffix a separator followed by three digits groups thousands.
        let grouped = num
            .split([',', '.'])
            .skip(1)
            .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
        if grouped {
            num.replace([',', '.'], "")
        } else {
            num.replace(',', ".")
        }
    } else {
        num.replace(',', ".")
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let v = (v * mult).round();
    (v.is_finite() && (0.0..1e13).contains(&v)).then_some(v as i64)
}

fn message_id(msg: ElementRef<'_>) -> Option<(String, i64)> {
    let post = msg.value().attr("data-post")?;
    let (channel, id) = post.split_once('/')?;
    let channel = channel.trim().to_ascii_lowercase();
    let id = id.trim();
    if channel.is_empty()
        || channel.len() > 64
        || !channel
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || id.is_empty()
        || id.len() > 18
        || !id.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((channel, id.parse().ok()?))
}

/// The first element under `msg` matching `selector` that is the message's own, not part of
/// the quoted message it replies to.
fn own<'a>(msg: ElementRef<'a>, selector: &Selector) -> impl Iterator<Item = ElementRef<'a>> {
    let reply = sel(".tgme_widget_message_reply");
    msg.select(selector)
        .filter(move |t| {
            !t.ancestors()
                .take_while(|a| a.id() != msg.id())
                .filter_map(ElementRef::wrap)
                .any(|a| reply.matches(&a))
        })
        .collect::<Vec<_>>()
        .into_iter()
}

pub(crate) fn extract(final_url: &Url, doc: &Html, floor: Option<i64>) -> Extracted {
    let channel_title = doc
        .select(&sel(".tgme_channel_info_header_title"))
        .find_map(short_text);
    let date_sel = sel("time[datetime]");
    let date_link = sel("a.tgme_widget_message_date[href]");
    let views_sel = sel(".tgme_widget_message_views");
    let author_sel = sel(".tgme_widget_message_author");
    let link_sel = sel("a[href]");
    let text_sel = sel(".tgme_widget_message_text");
    let mut sink = ItemSink::default();
    let (mut min_id, mut max_id): (Option<i64>, Option<i64>) = (None, None);
    let mut page_channel: Option<String> = None;
    let mut seen = HashSet::new();
    for msg in doc.select(&sel("div.tgme_widget_message[data-post]")) {
        let Some((channel, id)) = message_id(msg) else {
            continue;
        };
        min_id = Some(min_id.map_or(id, |m| m.min(id)));
        max_id = Some(max_id.map_or(id, |m| m.max(id)));
        page_channel.get_or_insert_with(|| channel.clone());
        if !sink.has_room() || !seen.insert((channel.clone(), id)) {
            continue;
        }
        let text_el = own(msg, &text_sel).next();
        let text = text_el.map(visible_text).unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        let author = own(msg, &author_sel)
            .find_map(short_text)
            .or_else(|| channel_title.clone());
        let posted_at = msg
            .select(&date_sel)
            .find_map(|t| t.value().attr("datetime"))
            .and_then(super::parse_time);
        let url = msg
            .select(&date_link)
            .find_map(|a| a.value().attr("href"))
            .and_then(|h| final_url.join(h.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.to_string())
            .unwrap_or_else(|| format!("https://t.me/{channel}/{id}"));
        let views = msg
            .select(&views_sel)
            .find_map(short_text)
            .and_then(|v| parse_views(&v));
        let links: Vec<String> = text_el
            .into_iter()
            .flat_map(|t| t.select(&link_sel))
            .filter_map(|a| a.value().attr("href"))
            .filter_map(|h| final_url.join(h.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| clip(u.as_str(), 2048))
            .take(MAX_MESSAGE_LINKS)
            .collect();
        let item = ItemDraft {
            title: channel_title.clone(),
            author,
            posted_at,
            meta: json!({
                "channel": channel,
                "message_id": id,
                "views": views,
                "links": links,
            }),
            ..ItemDraft::new(
                format!("telegram:{channel}/{id}"),
                "telegram_message",
                &url,
                text,
            )
        }
        .finish();
        sink.push(item);
    }
    let follow = min_id.is_some_and(|m| floor.is_none_or(|f| m > f));
    let links = if follow {
        older_link(final_url, doc, page_channel.as_deref(), max_id)
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    Extracted {
        items: sink.items,
        links,
        telegram_max_id: max_id,
    }
}

/// The page's "older messages" link: `a.tme_messages_more[data-before]`, else any link to
/// this channel's preview with a numeric `?before=`.
fn older_link(
    final_url: &Url,
    doc: &Html,
    channel: Option<&str>,
    max_id: Option<i64>,
) -> Option<Url> {
    let same_feed = |u: &Url| {
        u.host_str() == final_url.host_str()
            && u.port_or_known_default() == final_url.port_or_known_default()
            && u.path().to_ascii_lowercase().starts_with("/s/")
            && channel.is_none_or(|c| {
                u.path()
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .is_some_and(|p| p.eq_ignore_ascii_case(c))
            })
    };
    let before_of = |u: &Url| {
        u.query_pairs()
            .find(|(k, _)| k == "before")
            .and_then(|(_, v)| v.parse::<i64>().ok())
    };
    let plausible = |n: i64| n > 0 && max_id.is_none_or(|m| n <= m);
    for a in doc.select(&sel("a.tme_messages_more[data-before]")) {
        let Some(n) = attr(a, "data-before").and_then(|b| b.parse::<i64>().ok()) else {
            continue;
        };
        if !plausible(n) {
            continue;
        }
        let u = match attr(a, "href").and_then(|h| final_url.join(h).ok()) {
            Some(u) => u,
            None => {
                let mut u = final_url.clone();
                u.set_query(Some(&format!("before={n}")));
                u
            }
        };
        if same_feed(&u) && before_of(&u) == Some(n) {
            return Some(canonicalize(&u));
        }
    }
    doc.select(&sel("a[href*=\"before=\"]"))
        .take(1000)
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|h| final_url.join(h.trim()).ok())
        .find(|u| same_feed(u) && before_of(u).is_some_and(plausible))
        .map(|u| canonicalize(&u))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ExtractContext, MAX_ITEMS, extract, extract_with};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const PAGE: &str = include_str!("../../tests/fixtures/telegram_channel.html");

    fn with_floor(floor: Option<i64>) -> Extracted {
        extract_with(
            &url("http://127.0.0.1:5/s/tinhieuvip"),
            Some("text/html; charset=utf-8"),
            PAGE.as_bytes(),
            &ExtractContext {
                source_kind: "telegram",
                group: None,
                telegram_floor: floor,
            },
        )
    }

    #[test]
    fn messages_become_items_with_meta() {
        let e = with_floor(None);
        let keys: Vec<&str> = e.items.iter().map(|i| i.doc_key.as_str()).collect();
        // 43 has no text (a photo); 44 is repeated; the reply quote is not the text of 45.
        assert_eq!(
            keys,
            vec![
                "telegram:tinhieuvip/41",
                "telegram:tinhieuvip/42",
                "telegram:tinhieuvip/45"
            ]
        );
        let m = &e.items[0];
        assert_eq!(m.kind, "telegram_message");
        assert_eq!(m.title.as_deref(), Some("Tín hiệu đầu tư VIP 💎"));
        assert_eq!(m.author.as_deref(), Some("Tín hiệu đầu tư VIP 💎"));
        assert!(
            m.text
                .starts_with("🔥 KÈO THƠM HÔM NAY 🔥\nNạp tối thiểu 500 USDT"),
            "{}",
            m.text
        );
        assert_eq!(m.posted_at, Some(1_789_347_900_000));
        assert_eq!(m.url, "https://t.me/tinhieuvip/41");
        assert_eq!(m.meta["channel"], "tinhieuvip");
        assert_eq!(m.meta["message_id"], 41);
        assert_eq!(m.meta["views"], 845);
        assert_eq!(
            m.meta["links"],
            json!([
                "https://sanvip-usdt.top/dang-ky?ref=vip88",
                "https://t.me/hotro_vip"
            ])
        );
        assert_eq!(e.items[1].meta["views"], 1200);
        assert_eq!(e.items[2].meta["views"], 3_000_000);
        assert_eq!(e.items[2].text, "Chúc mừng anh em chốt lãi x3!");
        assert_eq!(e.telegram_max_id, Some(45));
        assert_eq!(
            e.links,
            vec![url("http://127.0.0.1:5/s/tinhieuvip?before=41")]
        );
    }

    #[test]
    fn older_link_stops_at_the_floor() {
        assert_eq!(with_floor(Some(40)).links.len(), 1);
        assert!(with_floor(Some(41)).links.is_empty());
        assert!(with_floor(Some(100)).links.is_empty());
        assert_eq!(with_floor(Some(100)).telegram_max_id, Some(45));
    }

    #[test]
    fn views_parse() {
        assert_eq!(parse_views("845"), Some(845));
        assert_eq!(parse_views("1.2K"), Some(1200));
        assert_eq!(parse_views("1,2K"), Some(1200));
        assert_eq!(parse_views("3M"), Some(3_000_000));
        assert_eq!(parse_views("12.5k"), Some(12_500));
        assert_eq!(parse_views("1,234"), Some(1234));
        assert_eq!(parse_views(""), None);
        assert_eq!(parse_views("K"), None);
        assert_eq!(parse_views("-5"), None);
        assert_eq!(parse_views("1e300K"), None);
        assert_eq!(parse_views("nhiều"), None);
    }

    #[test]
    fn fallback_before_link_and_hostile_pages() {
        // No tme_messages_more: any ?before= link to the same channel; others ignored.
        let html = r#"<html><body>
        <a href="https://evil.top/s/kenh?before=5">x</a>
        <a href="/s/khac?before=5">other channel</a>
        <a href="/s/kenh?before=99999">newer than the page</a>
        <a href="/s/kenh?before=7">older</a>
        <div class="tgme_widget_message" data-post="kenh/7"><div class="tgme_widget_message_text">a</div></div>
        <div class="tgme_widget_message" data-post="kenh/9"><div class="tgme_widget_message_text">b</div></div>
        <div class="tgme_widget_message" data-post="../etc/9"><div class="tgme_widget_message_text">bad</div></div>
        <div class="tgme_widget_message" data-post="kenh/99999999999999999999"><div class="tgme_widget_message_text">huge</div></div>
        </body></html>"#;
        let e = extract(
            &url("http://127.0.0.1:5/s/kenh"),
            Some("text/html"),
            html.as_bytes(),
        );
        assert_eq!(e.items.len(), 2);
        assert_eq!(e.telegram_max_id, Some(9));
        assert_eq!(e.links, vec![url("http://127.0.0.1:5/s/kenh?before=7")]);

        // Thousands of messages: bounded items, max id still seen.
        let mut html = String::from("<html><body>");
        for i in 1..=3000 {
            html.push_str(&format!(
                "<div class=\"tgme_widget_message\" data-post=\"kenh/{i}\"><div class=\"tgme_widget_message_text\">tin {i}</div>\
                 <span class=\"tgme_widget_message_views\">{i}{i}{i}{i}K</span><time datetime=\"không phải ngày\"></time></div>"
            ));
        }
        let e = extract(&url("http://h/s/kenh"), Some("text/html"), html.as_bytes());
        assert_eq!(e.items.len(), MAX_ITEMS);
        assert_eq!(e.telegram_max_id, Some(3000));
        assert!(e.items.iter().all(|i| i.posted_at.is_none()));
        assert!(e.links.is_empty());
    }
}
