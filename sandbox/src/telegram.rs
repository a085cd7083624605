//! The `telegram` site: public channel previews in `t.me/s/<channel>` markup, built from
//! `sites/telegram/<channel>.toml`, 20 messages a page with real-style "older messages"
//! paging, plus messages posted at run time (`Sandbox::post_telegram`).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use crate::files;
use crate::util::{self, esc, label, linkify, rfc3339, short_count};

/// Messages on one preview page.
pub const PAGE_SIZE: usize = 20;

/// One channel.
#[derive(Debug, Clone)]
pub struct Channel {
    /// As in the file name and in `data-post` (documents use it lower-cased).
    pub name: String,
    pub title: String,
    pub description: String,
    pub subscribers: u64,
    /// Ascending by id.
    pub messages: Vec<Message>,
}

/// One channel message.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: i64,
    pub date: DateTime<FixedOffset>,
    pub views: u64,
    pub label: &'static str,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelFile {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    subscribers: u64,
    #[serde(default)]
    messages: Vec<MessageFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageFile {
    id: i64,
    date: String,
    #[serde(default)]
    views: u64,
    label: String,
    text: String,
}

/// Reads `sites/telegram/*.toml`; a file with any problem is left out and reported.
pub fn load(errors: &mut Vec<String>) -> Vec<Channel> {
    let mut out = Vec::new();
    for (stem, path, bytes) in files::in_folder("telegram", ".toml") {
        match parse(stem, bytes) {
            Ok(c) => out.push(c),
            Err(e) => errors.push(format!("sites/{path}: {e}")),
        }
    }
    out
}

fn parse(stem: &str, bytes: &[u8]) -> Result<Channel, String> {
    // A Telegram username: 5 to 32 of letters, digits and `_` (no `-`).
    if !(5..=32).contains(&stem.len())
        || !stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(
            "a channel file is named after a Telegram username: 5 to 32 letters, digits or `_`"
                .into(),
        );
    }
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let f: ChannelFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut messages = Vec::with_capacity(f.messages.len());
    for m in f.messages {
        let what = format!("message {}", m.id);
        if m.text.trim().is_empty() {
            return Err(format!("{what}: empty text"));
        }
        messages.push(Message {
            id: m.id,
            date: rfc3339(&m.date, &what)?,
            views: m.views,
            label: label(&m.label).map_err(|e| format!("{what}: {e}"))?,
            text: m.text.trim().to_string(),
        });
    }
    messages.sort_by_key(|m| m.id);
    if let Some(w) = messages.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(format!("message id {} used twice", w[0].id));
    }
    if let Some(m) = messages.iter().find(|m| m.id <= 0) {
        return Err(format!("message id {} must be positive", m.id));
    }
    Ok(Channel {
        name: stem.to_string(),
        title: f.title.trim().to_string(),
        description: f.description.trim().to_string(),
        subscribers: f.subscribers,
        messages,
    })
}

/// The channels as served: shared with the `Sandbox` so tests can post new messages.
pub type Live = Arc<RwLock<BTreeMap<String, Channel>>>;

/// A fresh live copy of the channels.
pub fn live(channels: &[Channel]) -> Live {
    Arc::new(RwLock::new(
        channels
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect(),
    ))
}

/// Appends a newest message to `channel` (created if missing); returns its id.
pub fn post(live: &Live, channel: &str, text: &str, label: &'static str) -> i64 {
    let mut map = live.write().unwrap_or_else(|e| e.into_inner());
    let c = map.entry(channel.to_string()).or_insert_with(|| Channel {
        name: channel.to_string(),
        title: channel.to_string(),
        description: String::new(),
        subscribers: 0,
        messages: Vec::new(),
    });
    let id = c.messages.last().map_or(1, |m| m.id + 1);
    let tz = FixedOffset::east_opt(7 * 3600).expect("valid offset");
    let now = chrono::Utc::now().with_timezone(&tz);
    // Never older than the newest message, so pages stay in date order.
    let date = c.messages.last().map_or(now, |m| m.date.max(now));
    c.messages.push(Message {
        id,
        date,
        views: 1,
        label,
        text: text.trim().to_string(),
    });
    id
}

/// The messages of one preview page: `before` = show only ids below it. Returns the page
/// (ascending) and the id to pass as `before` for the next older page, if any.
pub fn page(messages: &[Message], before: Option<i64>) -> (&[Message], Option<i64>) {
    let end = match before {
        Some(b) => messages.partition_point(|m| m.id < b),
        None => messages.len(),
    };
    let start = end.saturating_sub(PAGE_SIZE);
    let slice = &messages[start..end];
    let older = (start > 0).then(|| slice[0].id);
    (slice, older)
}

/// The site's router.
pub fn router(live: Live) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/s/{name}", get(preview))
        .route("/{name}", get(landing))
        .route("/{name}/{id}", get(single))
        .with_state(live)
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    before: Option<String>,
}

const STYLE: &str = "body{margin:0;background:#e7ebf0;font-family:-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,sans-serif;font-size:14px;color:#000}\
.tgme_header{background:#fff;border-bottom:1px solid #dadce0;padding:10px 16px;font-weight:600;color:#2481cc}\
.tgme_page{display:flex;max-width:1000px;margin:0 auto}\
.tgme_channel_info{width:300px;flex:none;background:#fff;margin:16px;padding:16px;border-radius:10px;align-self:flex-start}\
.tgme_channel_info_header_title{font-size:18px;font-weight:700;margin-bottom:4px}\
.tgme_channel_info_description{margin:12px 0;line-height:1.4}\
.tgme_channel_history{flex:1;padding:16px 16px 16px 0}\
.tme_messages_more{display:block;text-align:center;color:#2481cc;padding:10px;text-decoration:none}\
.tgme_widget_message_wrap{margin-bottom:12px}\
.tgme_widget_message{background:#fff;border-radius:10px;padding:10px 14px;box-shadow:0 1px 2px rgba(16,35,47,.15)}\
.tgme_widget_message_author{font-weight:700;color:#2481cc;margin-bottom:4px}\
.tgme_widget_message_text{line-height:1.45;word-wrap:break-word}\
.tgme_widget_message_footer{text-align:right;color:#8a9aa9;font-size:12px;margin-top:6px}\
.tgme_widget_message_views{margin-right:8px}\
.tgme_widget_message_date{color:#8a9aa9;text-decoration:none}";

fn head(title: &str, canonical: &str, description: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n\
         <title>{t} – Telegram</title>\n<meta property=\"og:title\" content=\"{t}\">\n\
         <meta property=\"og:description\" content=\"{d}\">\n\
         <link rel=\"canonical\" href=\"{canonical}\">\n<style>{STYLE}</style>\n</head>\n",
        t = esc(title),
        d = esc(description),
    )
}

/// Message text as Telegram renders it: `<br/>` per line break, links for URLs and
/// `@mentions`.
fn message_html(text: &str) -> String {
    text.lines()
        .map(|l| linkify(l.trim_end(), true))
        .collect::<Vec<_>>()
        .join("<br/>")
}

fn message_block(c: &Channel, m: &Message) -> String {
    format!(
        "<div class=\"tgme_widget_message_wrap js-widget_message_wrap\">\
         <div class=\"tgme_widget_message text_not_supported_wrap js-widget_message\" data-post=\"{ch}/{id}\" data-view=\"{view}\">\n\
         <div class=\"tgme_widget_message_bubble\">\n\
         <div class=\"tgme_widget_message_author accent_color\"><a class=\"tgme_widget_message_owner_name\" href=\"/{ch}\"><span dir=\"auto\">{title}</span></a></div>\n\
         <div class=\"tgme_widget_message_text js-message_text\" dir=\"auto\">{text}</div>\n\
         <div class=\"tgme_widget_message_footer compact js-message_footer\"><div class=\"tgme_widget_message_info short js-message_info\">\
         <span class=\"tgme_widget_message_views\">{views}</span><span class=\"copyonly\"> lượt xem</span> \
         <span class=\"tgme_widget_message_meta\"><a class=\"tgme_widget_message_date\" href=\"/{ch}/{id}\">\
         <time datetime=\"{dt}\" class=\"time\">{hm}</time></a></span></div></div>\n\
         </div>\n</div></div>\n",
        ch = esc(&c.name),
        id = m.id,
        view = util::fnv(&format!("{}/{}", c.name, m.id)) % 1_000_000_000,
        title = esc(&c.title),
        text = message_html(&m.text),
        views = short_count(m.views),
        dt = m.date.to_rfc3339(),
        hm = m.date.format("%H:%M"),
    )
}

fn channel_info(c: &Channel) -> String {
    let desc = c
        .description
        .lines()
        .map(|l| linkify(l.trim(), true))
        .collect::<Vec<_>>()
        .join("<br>");
    format!(
        "<div class=\"tgme_channel_info\">\n<div class=\"tgme_channel_info_header\">\n\
         <div class=\"tgme_channel_info_header_title\"><span dir=\"auto\">{title}</span></div>\n\
         <div class=\"tgme_channel_info_header_username\"><a href=\"/{ch}\">@{ch}</a></div>\n</div>\n\
         <div class=\"tgme_channel_info_description\">{desc}</div>\n\
         <div class=\"tgme_channel_info_counters\"><div class=\"tgme_channel_info_counter\">\
         <span class=\"counter_value\">{subs}</span> <span class=\"counter_type\">người theo dõi</span></div></div>\n</div>\n",
        title = esc(&c.title),
        ch = esc(&c.name),
        subs = short_count(c.subscribers),
    )
}

async fn index(State(live): State<Live>) -> Response {
    let map = live.read().unwrap_or_else(|e| e.into_inner());
    let mut body = head(
        "Kênh công khai",
        "/",
        "Xem trước các kênh Telegram công khai",
    );
    body.push_str("<body>\n<header class=\"tgme_header\">Telegram</header>\n<main class=\"tgme_page\">\n<section class=\"tgme_channel_history\">\n<h1>Kênh công khai</h1>\n<ul class=\"channels\">\n");
    for c in map.values() {
        body.push_str(&format!(
            "<li><a href=\"/s/{ch}\">{title}</a> <span class=\"counter_value\">{subs}</span> người theo dõi</li>\n",
            ch = esc(&c.name),
            title = esc(&c.title),
            subs = short_count(c.subscribers),
        ));
    }
    body.push_str("</ul>\n</section>\n</main>\n</body>\n</html>\n");
    util::html(body)
}

async fn preview(
    State(live): State<Live>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let map = live.read().unwrap_or_else(|e| e.into_inner());
    let Some(c) = map.get(&name) else {
        // Telegram sends channels without a public preview to their landing page.
        return Redirect::temporary(&format!("/{name}")).into_response();
    };
    let before = match q.before.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => return util::not_found(),
    };
    let (msgs, older) = page(&c.messages, before);
    let canonical = match before {
        Some(b) => format!("/s/{}?before={b}", c.name),
        None => format!("/s/{}", c.name),
    };
    let mut body = head(&c.title, &canonical, &c.description);
    body.push_str(
        "<body>\n<header class=\"tgme_header\">Telegram</header>\n<main class=\"tgme_page\">\n",
    );
    body.push_str(&channel_info(c));
    body.push_str("<section class=\"tgme_channel_history js-message_history\">\n");
    if let Some(o) = older {
        body.push_str(&format!(
            "<div class=\"tme_messages_more_wrap\"><a class=\"tme_messages_more js-messages_more\" data-before=\"{o}\" href=\"/s/{ch}?before={o}\">Tải tin nhắn cũ hơn</a></div>\n",
            ch = esc(&c.name),
        ));
    }
    for m in msgs {
        body.push_str(&message_block(c, m));
    }
    body.push_str("</section>\n</main>\n</body>\n</html>\n");
    util::html(body)
}

async fn landing(State(live): State<Live>, Path(name): Path<String>) -> Response {
    let map = live.read().unwrap_or_else(|e| e.into_inner());
    let (title, desc, preview) = match map.get(&name) {
        Some(c) => (c.title.clone(), c.description.clone(), true),
        None => (format!("@{name}"), String::new(), false),
    };
    let mut body = head(
        &format!("Telegram: Contact @{name}"),
        &format!("/{name}"),
        &desc,
    );
    body.push_str(&format!(
        "<body>\n<div class=\"tgme_page\"><div class=\"tgme_page_title\"><span dir=\"auto\">{t}</span></div>\n\
         <div class=\"tgme_page_extra\">@{n}</div>\n<div class=\"tgme_page_description\">{d}</div>\n",
        t = esc(&title),
        n = esc(&name),
        d = esc(&desc),
    ));
    if preview {
        body.push_str(&format!(
            "<div class=\"tgme_page_context_link_wrap\"><a class=\"tgme_page_context_link\" href=\"/s/{}\">Xem trước kênh</a></div>\n",
            esc(&name)
        ));
    }
    body.push_str("</div>\n</body>\n</html>\n");
    util::html(body)
}

async fn single(State(live): State<Live>, Path((name, id)): Path<(String, String)>) -> Response {
    let map = live.read().unwrap_or_else(|e| e.into_inner());
    let Some(c) = map.get(&name) else {
        return util::not_found();
    };
    let Some(m) = id
        .parse::<i64>()
        .ok()
        .and_then(|id| c.messages.iter().find(|m| m.id == id))
    else {
        return util::not_found();
    };
    let mut body = head(&c.title, &format!("/{}/{}", c.name, m.id), &m.text);
    body.push_str("<body class=\"widget_frame_base\">\n<section class=\"tgme_channel_history\">\n");
    body.push_str(&message_block(c, m));
    body.push_str(&format!(
        "<a class=\"tgme_widget_message_context\" href=\"/s/{ch}\">Xem trong kênh</a>\n</section>\n</body>\n</html>\n",
        ch = esc(&c.name)
    ));
    util::html(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(n: i64) -> Vec<Message> {
        let date = rfc3339("2026-10-01T08:00:00+07:00", "t").unwrap();
        (1..=n)
            .map(|id| Message {
                id,
                date,
                views: 1,
                label: "benign",
                text: format!("m{id}"),
            })
            .collect()
    }

    #[test]
    fn paging_walks_every_message_once() {
        let all = msgs(45);
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let (p, older) = page(&all, before);
            seen.extend(p.iter().map(|m| m.id));
            match older {
                Some(o) => before = Some(o),
                None => break,
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=45).collect::<Vec<_>>());
        let (first, older) = page(&all, None);
        assert_eq!((first.len(), first[0].id, older), (20, 26, Some(26)));
        let (p, older) = page(&all, Some(6));
        assert_eq!((p.len(), older), (5, None));
        assert!(page(&all, Some(1)).0.is_empty());
    }
}
