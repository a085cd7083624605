//! Owns the source adapters, one module per kind of source, each turning a decoded body into
//! items and links (dispatch lives in [`crate::extract`]), and the helpers they share:
//! bounded, iterative text collection, time parsing and Vietnamese accent folding.
//!
//! | adapter | `Item::kind` | `Item::doc_key` |
//! | --- | --- | --- |
//! | [`web`] | `web` | `web:<canonical url>` |
//! | [`telegram`] | `telegram_message` | `telegram:<channel>/<id>` |
//! | [`app_listing`] | `app_listing` | `web:<canonical url>` |
//! | [`apk_page`] | `apk_page` | `web:<canonical url>` |
//! | [`feed`] | `feed_item` | `feed:<canonical item link>` or `feed:<feed url>#<guid>` |
//! | [`group_page`] | `group_post` | `post:<canonical permalink>` or `post:<page url>#<index>` |
//! | [`json`] | `web` | `web:<canonical url>` |

pub mod apk_page;
pub mod app_listing;
pub mod feed;
pub mod group_page;
pub mod json;
pub mod telegram;
pub mod web;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use ego_tree::iter::Edge;
use scraper::{ElementRef, Node, Selector};

use crate::extract::{MAX_TEXT_BYTES, floor_boundary, normalize_ws};

/// A selector written in this crate's source; every one is exercised by the tests.
pub(crate) fn sel(css: &str) -> Selector {
    Selector::parse(css).expect("static selector")
}

/// Subtrees whose text is never shown.
pub(crate) const SKIPPED: &[&str] = &["script", "style", "noscript", "template", "svg", "head"];

pub(crate) const BLOCKS: &[&str] = &[
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
    "label",
    "option",
    "button",
    "figcaption",
];

/// Visible text under `root` with line breaks at block boundaries and `<br>`, skipping
/// [`SKIPPED`] subtrees and those `skip` says to; normalised and capped.
pub(crate) fn visible_text_where(
    root: ElementRef<'_>,
    skip: impl Fn(&scraper::node::Element) -> bool,
) -> String {
    let cap = 2 * MAX_TEXT_BYTES;
    let mut out = String::new();
    let mut skip_depth = 0usize;
    for edge in root.traverse() {
        if out.len() >= cap {
            break;
        }
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) => {
                    let name = e.name();
                    if skip_depth > 0 || SKIPPED.contains(&name) || skip(e) {
                        skip_depth += 1;
                    } else if BLOCKS.contains(&name) {
                        out.push('\n');
                    }
                }
                Node::Text(t) if skip_depth == 0 => {
                    let room = cap - out.len();
                    out.push_str(&t[..floor_boundary(t, room)]);
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

/// Visible text under `root` (see [`visible_text_where`]).
pub(crate) fn visible_text(root: ElementRef<'_>) -> String {
    visible_text_where(root, |_| false)
}

/// Visible text of a short field (a name, an author), on one line, at most 1 KiB.
pub(crate) fn short_text(el: ElementRef<'_>) -> Option<String> {
    let t = visible_text(el).replace('\n', " ");
    let t = t[..floor_boundary(&t, 1024)].trim().to_string();
    (!t.is_empty()).then_some(t)
}

/// Vietnam's offset, assumed for times written without one.
fn vn_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// Milliseconds since the epoch from RFC 3339, RFC 2822, or common date(-time) forms;
/// times without an offset are taken as Vietnam time (UTC+7).
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp_millis());
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.timestamp_millis());
        }
    }
    let local = |n: NaiveDateTime| {
        vn_offset()
            .from_local_datetime(&n)
            .single()
            .map(|d| d.timestamp_millis())
    };
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%H:%M %d/%m/%Y",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return local(n);
        }
    }
    for f in ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0).and_then(local);
        }
    }
    None
}

/// Milliseconds from Unix seconds written as text, within years 1970..2100.
pub(crate) fn parse_unix_seconds(s: &str) -> Option<i64> {
    let v: i64 = s.trim().parse().ok()?;
    (0..=4_102_444_800).contains(&v).then(|| v * 1000)
}

const VI_FOLD: &[(&str, char)] = &[
    ("àáãảạăằắẵẳặâầấẫẩậ", 'a'),
    ("èéẽẻẹêềếễểệ", 'e'),
    ("ìíĩỉị", 'i'),
    ("òóõỏọôồốỗổộơờớỡởợ", 'o'),
    ("ùúũủụưừứữửự", 'u'),
    ("ỳýỹỷỵ", 'y'),
    ("đ", 'd'),
];

/// Lower-case text with Vietnamese accents removed (`Mật khẩu` → `mat khau`).
pub fn fold_vi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        let folded = if c.is_ascii() {
            c
        } else {
            VI_FOLD
                .iter()
                .find(|(set, _)| set.contains(c))
                .map_or(c, |(_, base)| *base)
        };
        out.push(folded);
    }
    out
}

/// The value of an attribute, trimmed, when not empty.
pub(crate) fn attr<'a>(el: ElementRef<'a>, name: &str) -> Option<&'a str> {
    el.value()
        .attr(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `s` cut to at most `max` bytes at a char boundary.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s[..floor_boundary(s, max)].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_common_forms() {
        assert_eq!(
            parse_time("2026-11-03T21:14:00+07:00"),
            Some(1_793_715_240_000)
        );
        assert_eq!(parse_time("2026-11-03 21:14"), Some(1_793_715_240_000));
        assert_eq!(parse_time("03/11/2026 21:14"), Some(1_793_715_240_000));
        assert_eq!(
            parse_time("Tue, 03 Nov 2026 14:14:00 +0000"),
            Some(1_793_715_240_000)
        );
        assert!(parse_time("2026-10-02").is_some());
        assert_eq!(parse_time("hôm qua"), None);
        assert_eq!(parse_time(&"9".repeat(100)), None);
        assert_eq!(parse_unix_seconds("1793715240"), Some(1_793_715_240_000));
        assert_eq!(parse_unix_seconds("-5"), None);
        assert_eq!(parse_unix_seconds("99999999999999999999"), None);
    }

    #[test]
    fn folding_removes_vietnamese_accents() {
        assert_eq!(fold_vi("Mật Khẩu"), "mat khau");
        assert_eq!(
            fold_vi("Số thẻ / CCCD / Đăng nhập"),
            "so the / cccd / dang nhap"
        );
        // Decomposed input folds the same.
        assert_eq!(fold_vi("Me\u{302}\u{323}t"), "met");
    }
}
