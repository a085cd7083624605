//! Small shared helpers: escaping, text-to-HTML rendering, responses, labels, slugs,
//! URL paths, dates and the deterministic pseudo-random generator the sites are built from.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};

/// The classifier's five labels; every served item carries one.
pub use scamsweep_classifier::LABELS;

/// The label as a `'static` string, or an error naming the bad value.
pub fn label(s: &str) -> Result<&'static str, String> {
    LABELS.iter().find(|l| **l == s).copied().ok_or_else(|| {
        format!(
            "unknown label `{s}` (expected one of {})",
            LABELS.join(", ")
        )
    })
}

/// Escapes text for HTML and XML (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Not allowed in XML 1.0 at all; never present in our content, but be safe.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes one line of plain text and turns `http(s)://` URLs into links (and, when
/// `mentions` is set, Telegram-style `@name` into links to `https://t.me/name`).
pub fn linkify(line: &str, mentions: bool) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let mut rest = line;
    while !rest.is_empty() {
        let url_at = ["http://", "https://"]
            .iter()
            .filter_map(|p| rest.find(p))
            .min();
        let mention_at = if mentions { mention_start(rest) } else { None };
        let at = match (url_at, mention_at) {
            (Some(u), Some(m)) => u.min(m),
            (Some(u), None) => u,
            (None, Some(m)) => m,
            (None, None) => {
                out.push_str(&esc(rest));
                break;
            }
        };
        out.push_str(&esc(&rest[..at]));
        let tail = &rest[at..];
        if url_at == Some(at) {
            let mut end = tail
                .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
                .unwrap_or(tail.len());
            while end > 0 && tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')']) {
                end -= 1;
            }
            let url = &tail[..end];
            out.push_str(&format!(
                "<a href=\"{0}\" target=\"_blank\" rel=\"noopener\">{0}</a>",
                esc(url)
            ));
            rest = &tail[end..];
        } else {
            let name_len = tail[1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len() - 1);
            let name = &tail[1..1 + name_len];
            out.push_str(&format!("<a href=\"https://t.me/{name}\">@{name}</a>"));
            rest = &tail[1 + name_len..];
        }
    }
    out
}

/// Where the first `@name` mention (5+ word characters, not inside an e-mail address) starts.
fn mention_start(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(off) = s[from..].find('@') {
        let at = from + off;
        let before_ok = at == 0 || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'.');
        let len = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if before_ok && len >= 5 {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Plain text as HTML paragraphs: blank lines separate `<p>`s, single newlines become
/// `<br>`, URLs become links.
pub fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    for para in split_paragraphs(text) {
        out.push_str("<p>");
        let lines: Vec<String> = para.lines().map(|l| linkify(l.trim(), false)).collect();
        out.push_str(&lines.join("<br>\n"));
        out.push_str("</p>\n");
    }
    out
}

/// Paragraphs of plain text (separated by blank lines), trimmed, empty ones dropped.
pub fn split_paragraphs(text: &str) -> Vec<String> {
    let mut paras = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                paras.push(cur.join("\n"));
                cur.clear();
            }
        } else {
            cur.push(line.trim_end());
        }
    }
    if !cur.is_empty() {
        paras.push(cur.join("\n"));
    }
    paras
}

/// A response with the given content type.
pub fn typed(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// An HTML page (`text/html; charset=utf-8`).
pub fn html(body: impl Into<axum::body::Body>) -> Response {
    typed("text/html; charset=utf-8", body)
}

/// A small HTML 404 page.
pub fn not_found() -> Response {
    let body = "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
                <title>404 – Không tìm thấy trang</title></head><body><h1>404</h1>\
                <p>Không tìm thấy trang bạn yêu cầu.</p><p><a href=\"/\">Về trang chủ</a></p>\
                </body></html>";
    (StatusCode::NOT_FOUND, html(body)).into_response()
}

/// A permanent redirect to a site-relative location.
pub fn moved(location: &str) -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// Content type for a file name, by extension (text types carry `charset=utf-8`).
pub fn content_type_for(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "apk" => "application/vnd.android.package-archive",
        _ => "application/octet-stream",
    }
}

/// ASCII slug of a (Vietnamese) title: diacritics folded, `đ` → `d`, runs of anything else
/// → `-`, lower case.
pub fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = fold_vi(c);
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("app");
    }
    out
}

/// Vietnamese vowels: the base letter followed by its five tones (grave, acute, hook above,
/// tilde, dot below).
pub const VI_TONES: &[&str] = &[
    "aàáảãạ",
    "ăằắẳẵặ",
    "âầấẩẫậ",
    "eèéẻẽẹ",
    "êềếểễệ",
    "iìíỉĩị",
    "oòóỏõọ",
    "ôồốổỗộ",
    "ơờớởỡợ",
    "uùúủũụ",
    "ưừứửữự",
    "yỳýỷỹỵ",
];

/// A lower-case Vietnamese letter as (base letter, tone index 1..=5 or 0 for none).
pub fn decompose_vi(c: char) -> (char, usize) {
    for row in VI_TONES {
        if let Some(pos) = row.chars().position(|x| x == c) {
            return (row.chars().next().unwrap_or(c), pos);
        }
    }
    (c, 0)
}

/// The ASCII letter a lower-case Vietnamese letter is written with, without marks.
fn fold_vi(c: char) -> char {
    let (base, _) = decompose_vi(c);
    match base {
        'ă' | 'â' => 'a',
        'ê' => 'e',
        'ô' | 'ơ' => 'o',
        'ư' => 'u',
        'đ' => 'd',
        b => b,
    }
}

/// Percent-encodes a URL path the way the `url` crate serialises it (non-ASCII, spaces,
/// quotes, `<>`, backtick and braces), leaving `/` and existing escapes alone.
pub fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes in a request path (invalid escapes are kept as they are).
pub fn decode_path(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
            && let Ok(v) = u8::from_str_radix(&p[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A site-relative link in canonical form: fragment dropped, query pairs sorted by key
/// (stable), an empty query removed. `/a?b=2&a=1#x` → `/a?a=1&b=2`.
pub fn canonical_rel(link: &str) -> String {
    let link = link.split('#').next().unwrap_or("");
    let (path, query) = match link.split_once('?') {
        Some((p, q)) => (p, q),
        None => (link, ""),
    };
    let path = if path.is_empty() { "/" } else { path };
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort_by_key(|p| p.split('=').next().unwrap_or(""));
    let path = encode_path(path);
    if pairs.is_empty() {
        path
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

/// Parses an RFC 3339 timestamp, naming the field in the error.
pub fn rfc3339(s: &str, what: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map_err(|e| format!("{what}: bad RFC 3339 date `{s}`: {e}"))
}

/// `1234` → `1.2K`, `48200` → `48.2K`, `1500000` → `1.5M` (Telegram's counters).
pub fn short_count(n: u64) -> String {
    let scaled = |v: u64, unit: u64, suffix: &str| {
        let tenths = (v * 10 + unit / 2) / unit;
        if tenths.is_multiple_of(10) {
            format!("{}{suffix}", tenths / 10)
        } else {
            format!("{}.{}{suffix}", tenths / 10, tenths % 10)
        }
    };
    match n {
        0..1000 => n.to_string(),
        1000..999_950 => scaled(n, 1000, "K"),
        _ => scaled(n, 1_000_000, "M"),
    }
}

/// `1184` → `1.184` (Vietnamese thousands separator).
pub fn vi_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A tiny deterministic generator (splitmix64-seeded xorshift64*): same seed, same stream.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-enough in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// In `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

/// A stable 64-bit hash of a string (FNV-1a), for seeds and made-up ids.
pub fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Encodes Vietnamese text as windows-1258: tone marks as combining bytes after the base
/// letter (the way Vietnamese Windows keyboards write it). Characters with no 1258 form
/// become `?`.
pub fn to_windows_1258(s: &str) -> Vec<u8> {
    const TONE: [u8; 6] = [0, 0xCC, 0xEC, 0xD2, 0xDE, 0xF2];
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c as u8);
            continue;
        }
        let upper = c.is_uppercase();
        let lower = c.to_lowercase().next().unwrap_or(c);
        let (base, tone) = decompose_vi(lower);
        let base_byte = match (base, upper) {
            (b, false) if b.is_ascii() => b as u8,
            (b, true) if b.is_ascii() => b.to_ascii_uppercase() as u8,
            ('â', false) => 0xE2,
            ('â', true) => 0xC2,
            ('ă', false) => 0xE3,
            ('ă', true) => 0xC3,
            ('ê', false) => 0xEA,
            ('ê', true) => 0xCA,
            ('ô', false) => 0xF4,
            ('ô', true) => 0xD4,
            ('ơ', false) => 0xF5,
            ('ơ', true) => 0xD5,
            ('ư', false) => 0xFD,
            ('ư', true) => 0xDD,
            ('đ', false) => 0xF0,
            ('đ', true) => 0xD0,
            ('–', _) => 0x96,
            ('“', _) => 0x93,
            ('”', _) => 0x94,
            _ => b'?',
        };
        out.push(base_byte);
        if tone > 0 {
            out.push(TONE[tone]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_links() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let l = linkify("Vào https://x.top/a?b=1&c=2. Hỏi @HoangKim_Admin nhé", true);
        assert_eq!(
            l,
            "Vào <a href=\"https://x.top/a?b=1&amp;c=2\" target=\"_blank\" rel=\"noopener\">\
             https://x.top/a?b=1&amp;c=2</a>. Hỏi <a href=\"https://t.me/HoangKim_Admin\">\
             @HoangKim_Admin</a> nhé"
        );
        assert_eq!(linkify("mail a@b.vn", true), "mail a@b.vn");
    }

    #[test]
    fn slugs_and_paths() {
        assert_eq!(
            slugify("VNeID - Định danh điện tử"),
            "vneid-dinh-danh-dien-tu"
        );
        assert_eq!(
            slugify("Thuế điện tử – hoàn thuế TNCN"),
            "thue-dien-tu-hoan-thue-tncn"
        );
        assert_eq!(
            encode_path("/bài viết.html"),
            "/b%C3%A0i%20vi%E1%BA%BFt.html"
        );
        assert_eq!(decode_path("/b%C3%A0i%20x"), "/bài x");
        assert_eq!(decode_path("/a%2"), "/a%2");
        assert_eq!(canonical_rel("/a?z=1&b=2#top"), "/a?b=2&z=1");
        assert_eq!(canonical_rel("/a?#x"), "/a");
    }

    #[test]
    fn counters() {
        assert_eq!(short_count(999), "999");
        assert_eq!(short_count(3100), "3.1K");
        assert_eq!(short_count(12_000), "12K");
        assert_eq!(short_count(48_200), "48.2K");
        assert_eq!(short_count(1_520_000), "1.5M");
        assert_eq!(vi_thousands(1_184), "1.184");
        assert_eq!(vi_thousands(12), "12");
    }

    #[test]
    fn rng_is_deterministic() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = Rng::new(7);
        assert_eq!(a, (0..5).map(|_| r.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn windows_1258_round_trip() {
        let s = "Thông báo: Tài khoản bị khóa – Đăng nhập ngay";
        let bytes = to_windows_1258(s);
        assert!(!bytes.contains(&b'?'));
        assert!(std::str::from_utf8(&bytes).is_err());
        let (decoded, _, bad) = encoding_rs::WINDOWS_1258.decode(&bytes);
        assert!(!bad);
        // 1258 writes tones as combining marks: compare letter by letter, marks removed.
        let strip = |t: &str| -> String {
            t.chars()
                .filter(|c| !('\u{300}'..='\u{323}').contains(c))
                .flat_map(char::to_lowercase)
                .map(|c| decompose_vi(c).0)
                .collect()
        };
        assert_eq!(strip(&decoded), strip(s));
        assert_eq!(
            decoded
                .chars()
                .filter(|c| ('\u{300}'..='\u{323}').contains(c))
                .count(),
            6
        );
    }
}
