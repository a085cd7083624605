//! Owns the generic web page adapter: readability-style main text (block elements scored
//! by text length, commas and link density; navigation, footers and asides dropped; the
//! whole body when no block stands out), title, description, outlinks, and the phishing
//! evidence a page carries: its forms and what each field asks for (password, OTP, card
//! data, national ID, bank account — recognised in Vietnamese and English), the hosts its
//! external scripts come from, and its favicon.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use regex::Regex;
use scraper::{ElementRef, Html, Node};
use serde_json::{Value, json};
use url::Url;

use super::{BLOCKS, SKIPPED, attr, clip, fold_vi, sel, short_text, visible_text_where};
use crate::extract::{Extracted, ItemDraft, LinkSet, abs_http_url, normalize_ws, web_key};

/// Most forms described for one page.
pub const MAX_FORMS: usize = 20;
/// Most fields described over all forms of one page.
pub const MAX_FIELDS: usize = 200;
/// Most external script hosts listed for one page.
pub const MAX_SCRIPT_HOSTS: usize = 50;

/// What a form field asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    Password,
    Otp,
    CardNumber,
    CardExpiry,
    Cvv,
    NationalId,
    BankAccount,
    None,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Password => "password",
            Signal::Otp => "otp",
            Signal::CardNumber => "card_number",
            Signal::CardExpiry => "card_expiry",
            Signal::Cvv => "cvv",
            Signal::NationalId => "national_id",
            Signal::BankAccount => "bank_account",
            Signal::None => "none",
        }
    }
}

/// What a field asks for, from its input type and its hints (name, id, placeholder,
/// autocomplete, label text…), in Vietnamese with or without accents, or English.
pub fn field_signal(input_type: &str, hints: &str) -> Signal {
    let h = fold_vi(hints);
    let tokens: Vec<&str> = h
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let has = |p: &str| h.contains(p);
    let tok = |t: &str| tokens.contains(&t);
    let phrase = |p: &[&str]| tokens.windows(p.len()).any(|w| w == p);
    let tok_edge = |t: &str| tokens.iter().any(|w| w.starts_with(t) || w.ends_with(t));

    if tok_edge("cvv")
        || tok_edge("cvc")
        || tok("csc")
        || has("cc-csc")
        || has("security code")
        || has("card code")
        || phrase(&["ma", "bao", "mat", "the"])
        || phrase(&["ma", "cvv"])
    {
        return Signal::Cvv;
    }
    if has("cc-exp")
        || has("expir")
        || has("expdate")
        || has("exp_date")
        || has("exp-date")
        || tok("exp")
        || has("mm/yy")
        || has("mm / yy")
        || has("valid thru")
        || phrase(&["het", "han"])
        || phrase(&["hieu", "luc"])
    {
        return Signal::CardExpiry;
    }
    if has("cc-number")
        || has("ccnumber")
        || has("cc_number")
        || has("cardnumber")
        || has("card_number")
        || has("card-number")
        || has("card number")
        || has("credit card")
        || has("debit card")
        || tok("pan")
        || phrase(&["so", "the"])
        || phrase(&["the", "tin", "dung"])
        || phrase(&["the", "ghi", "no"])
        || phrase(&["the", "atm"])
    {
        return Signal::CardNumber;
    }
    if tok_edge("otp")
        || has("one-time")
        || has("one time")
        || has("verification code")
        || has("verify code")
        || has("sms code")
        || tok("2fa")
        || phrase(&["ma", "xac", "thuc"])
        || phrase(&["ma", "xac", "nhan"])
        || phrase(&["ma", "kich", "hoat"])
        || phrase(&["ma", "bao", "mat"])
        || phrase(&["ma", "sms"])
    {
        return Signal::Otp;
    }
    if tok("cccd")
        || tok("cmnd")
        || tok("cmt")
        || tok("passport")
        || has("national id")
        || has("national_id")
        || has("nationalid")
        || has("id number")
        || has("id card")
        || has("identity")
        || phrase(&["can", "cuoc"])
        || phrase(&["chung", "minh"])
        || phrase(&["dinh", "danh"])
        || phrase(&["ho", "chieu"])
    {
        return Signal::NationalId;
    }
    if tok("stk")
        || tok("iban")
        || has("account number")
        || has("account_number")
        || has("accountnumber")
        || has("account-number")
        || has("bank account")
        || has("acct")
        || phrase(&["so", "tai", "khoan"])
        || phrase(&["tai", "khoan", "ngan", "hang"])
    {
        return Signal::BankAccount;
    }
    if input_type.eq_ignore_ascii_case("password")
        || tok("password")
        || tok("passwd")
        || tok("pwd")
        || tok("pass")
        || tok("pin")
        || tok("matkhau")
        || has("current-password")
        || has("new-password")
        || phrase(&["mat", "khau"])
        || phrase(&["ma", "pin"])
    {
        return Signal::Password;
    }
    Signal::None
}

/// What every HTML adapter reads from a page.
#[derive(Debug)]
pub(crate) struct PageBasics {
    pub title: Option<String>,
    pub description: Option<String>,
    pub text: String,
    pub links: LinkSet,
}

pub(crate) fn page_basics(final_url: &Url, doc: &Html) -> PageBasics {
    PageBasics {
        title: page_title(doc),
        description: meta_description(doc),
        text: main_text(doc),
        links: outlinks(final_url, doc),
    }
}

/// The web adapter: one `web` item plus the page's outlinks.
pub(crate) fn extract(final_url: &Url, doc: &Html) -> Extracted {
    let PageBasics {
        title,
        description,
        text,
        links,
    } = page_basics(final_url, doc);
    let forms = forms(final_url, doc);
    let signals: BTreeSet<&str> = forms
        .iter()
        .flat_map(|f| f.fields.iter())
        .filter(|f| f.signal != Signal::None)
        .map(|f| f.signal.as_str())
        .collect();
    let meta = json!({
        "description": description,
        "forms": forms.iter().map(Form::to_json).collect::<Vec<_>>(),
        "phishing_signals": signals,
        "script_hosts": script_hosts(final_url, doc),
        "favicon_url": favicon_url(final_url, doc),
    });
    // A bare login form is evidence even without any text around it.
    let has_fields = forms.iter().any(|f| !f.fields.is_empty());
    let items = if text.is_empty() && title.is_none() && !has_fields {
        Vec::new()
    } else {
        vec![
            ItemDraft {
                title,
                meta,
                ..ItemDraft::new(web_key(final_url), "web", final_url.as_str(), text)
            }
            .finish(),
        ]
    };
    Extracted {
        items,
        links: links.into_vec(),
        telegram_max_id: None,
    }
}

pub(crate) fn page_title(doc: &Html) -> Option<String> {
    let from = |css: &str| doc.select(&sel(css)).find_map(short_text);
    from("head > title")
        .or_else(|| {
            doc.select(&sel("meta[property=\"og:title\"][content]"))
                .find_map(|m| attr(m, "content"))
                .map(|t| normalize_ws(t).replace('\n', " "))
                .filter(|t| !t.is_empty())
        })
        .or_else(|| from("title"))
        .or_else(|| from("h1"))
        .map(|t| clip(&t, 1024))
}

pub(crate) fn meta_description(doc: &Html) -> Option<String> {
    let mut og = None;
    for m in doc.select(&sel("meta[content]")).take(500) {
        let key = attr(m, "name")
            .or_else(|| attr(m, "property"))
            .unwrap_or("")
            .to_ascii_lowercase();
        let Some(content) = attr(m, "content") else {
            continue;
        };
        let content = clip(&normalize_ws(content).replace('\n', " "), 4096);
        if content.is_empty() {
            continue;
        }
        match key.as_str() {
            "description" => return Some(content),
            "og:description" | "twitter:description" if og.is_none() => og = Some(content),
            _ => {}
        }
    }
    og
}

pub(crate) fn outlinks(final_url: &Url, doc: &Html) -> LinkSet {
    let mut links = LinkSet::default();
    for a in doc.select(&sel("a[href], area[href]")) {
        if links.is_full() {
            break;
        }
        if let Some(href) = a.value().attr("href") {
            links.add_href(final_url, href);
        }
    }
    links
}

// ---------------------------------------------------------------------------------------
// Main text.

const BOILERPLATE: &[&str] = &["nav", "footer", "aside"];

/// Left out of the main text. Hidden elements are kept: scam pages hide their text from
/// crawlers and reveal it by script.
fn is_boilerplate(e: &scraper::node::Element) -> bool {
    BOILERPLATE.contains(&e.name())
        || e.attr("role").is_some_and(|r| {
            r.eq_ignore_ascii_case("navigation") || r.eq_ignore_ascii_case("contentinfo")
        })
}

static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)comment|footer|sidebar|menu|\bnav|banner|sponsor|share|social|related|popup|cookie|breadcrumb|widget|\bads?\b|advert|promo|pager|pagination|binh-luan|quang-cao",
    )
    .expect("static regex")
});
static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)article|\bbody\b|content|entry|\bmain\b|\bpost\b|\btext\b|story|blog|noi-dung|bai-viet|chi-tiet",
    )
    .expect("static regex")
});

fn class_weight(e: &scraper::node::Element) -> f64 {
    let mut w = 0.0;
    for v in [e.attr("class"), e.attr("id")].into_iter().flatten() {
        let v = &v[..crate::extract::floor_boundary(v, 256)];
        if NEGATIVE.is_match(v) {
            w -= 25.0;
        }
        if POSITIVE.is_match(v) {
            w += 25.0;
        }
    }
    w
}

fn tag_weight(name: &str) -> f64 {
    match name {
        "article" | "main" => 8.0,
        "div" => 5.0,
        "section" => 3.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

#[derive(Debug)]
struct Frame<'a> {
    id: NodeId,
    name: &'a str,
    el: &'a scraper::node::Element,
    text: usize,
    link: usize,
    commas: usize,
    content: f64,
    candidate: bool,
    has_block_child: bool,
    in_link: bool,
}

#[derive(Debug, Clone, Copy)]
struct Scored {
    score: Option<f64>,
    text: usize,
    link: usize,
}

/// Readability-style main text of a page, or its whole body text (boilerplate dropped)
/// when no block stands out.
pub(crate) fn main_text(doc: &Html) -> String {
    let Some(body) = doc.select(&sel("body")).next() else {
        return String::new();
    };
    let clean = |root: ElementRef<'_>| visible_text_where(root, is_boilerplate);
    let body_text = clean(body);
    let Some(top) = best_candidates(body) else {
        return body_text;
    };
    let body_chars = body_text.chars().count();
    let chars = top.iter().map(|(_, t)| t).sum::<usize>();
    if chars < 140 || chars * 5 < body_chars {
        return body_text;
    }
    let mut parts = Vec::new();
    let mut len = 0;
    for (id, _) in top {
        if let Some(el) = doc.tree.get(id).and_then(ElementRef::wrap) {
            let t = clean(el);
            len += t.len();
            parts.push(t);
            if len > crate::extract::MAX_TEXT_BYTES {
                break;
            }
        }
    }
    let text = normalize_ws(&parts.join("\n"));
    if text.chars().count() < 140 {
        body_text
    } else {
        text
    }
}

/// The best-scoring block and its siblings that look like content, with their text
/// lengths, in document order.
fn best_candidates(body: ElementRef<'_>) -> Option<Vec<(NodeId, usize)>> {
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut scored: HashMap<NodeId, Scored> = HashMap::new();
    let mut skip = 0usize;
    for edge in body.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) => {
                    if skip > 0 || SKIPPED.contains(&e.name()) || is_boilerplate(e) {
                        skip += 1;
                        continue;
                    }
                    let in_link = e.name() == "a" || stack.last().is_some_and(|f| f.in_link);
                    stack.push(Frame {
                        id: node.id(),
                        name: e.name(),
                        el: e,
                        text: 0,
                        link: 0,
                        commas: 0,
                        content: 0.0,
                        candidate: false,
                        has_block_child: false,
                        in_link,
                    });
                }
                Node::Text(t) if skip == 0 => {
                    if let Some(f) = stack.last_mut() {
                        let n = t.chars().filter(|c| !c.is_whitespace()).count();
                        f.text += n;
                        f.commas += t.chars().filter(|c| matches!(c, ',' | '，' | '、')).count();
                        if f.in_link {
                            f.link += n;
                        }
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if !matches!(node.value(), Node::Element(_)) {
                    continue;
                }
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let Some(f) = stack.pop() else { continue };
                let paragraph = matches!(f.name, "p" | "pre" | "td" | "blockquote" | "dd")
                    || (matches!(f.name, "div" | "section" | "article" | "li")
                        && !f.has_block_child);
                if paragraph && f.text >= 25 {
                    let s = 1.0 + f.commas.min(50) as f64 + (f.text as f64 / 100.0).min(3.0);
                    let n = stack.len();
                    for (level, share) in [(1usize, 1.0f64), (2, 0.5), (3, 1.0 / 6.0)] {
                        if n >= level {
                            let a = &mut stack[n - level];
                            a.content += s * share;
                            a.candidate = true;
                        }
                    }
                }
                let density = if f.text == 0 {
                    0.0
                } else {
                    f.link as f64 / f.text as f64
                };
                let score = f.candidate.then(|| {
                    (tag_weight(f.name) + class_weight(f.el) + f.content) * (1.0 - density)
                });
                if score.is_some() || f.name == "p" {
                    scored.insert(
                        f.id,
                        Scored {
                            score,
                            text: f.text,
                            link: f.link,
                        },
                    );
                }
                if let Some(parent) = stack.last_mut() {
                    parent.text += f.text;
                    parent.link += f.link;
                    parent.commas += f.commas;
                    if BLOCKS.contains(&f.name) {
                        parent.has_block_child = true;
                    }
                }
            }
        }
    }
    let (&top_id, top) = scored
        .iter()
        .filter_map(|(id, s)| s.score.map(|v| (id, v)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(a.0)))?;
    let threshold = (top * 0.2).max(10.0);
    let top_node = body.tree().get(top_id)?;
    let Some(parent) = top_node.parent() else {
        return Some(vec![(top_id, scored[&top_id].text)]);
    };
    let mut out = Vec::new();
    for sib in parent.children().take(10_000) {
        let id = sib.id();
        let Some(s) = scored.get(&id) else { continue };
        let density = if s.text == 0 {
            1.0
        } else {
            s.link as f64 / s.text as f64
        };
        let is_p = sib.value().as_element().is_some_and(|e| e.name() == "p");
        let keep = id == top_id
            || s.score.is_some_and(|v| v >= threshold)
            || (is_p && s.text > 80 && density < 0.25);
        if keep {
            out.push((id, s.text));
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// Forms.

#[derive(Debug)]
struct Field {
    name: String,
    kind: String,
    signal: Signal,
}

#[derive(Debug)]
struct Form {
    action: Option<String>,
    method: Option<String>,
    fields: Vec<Field>,
}

impl Form {
    fn to_json(&self) -> Value {
        json!({
            "action": self.action,
            "method": self.method,
            "fields": self.fields.iter().map(|f| json!({
                "name": f.name,
                "type": f.kind,
                "signal": f.signal.as_str(),
            })).collect::<Vec<_>>(),
        })
    }
}

const NOT_FIELDS: &[&str] = &["hidden", "submit", "button", "reset", "image"];

/// The page's forms with what each field asks for; inputs outside any form are gathered
/// in a last entry whose action and method are null.
fn forms(final_url: &Url, doc: &Html) -> Vec<Form> {
    let mut labels: HashMap<&str, String> = HashMap::new();
    for l in doc.select(&sel("label[for]")).take(500) {
        if let (Some(f), Some(t)) = (attr(l, "for"), short_text(l)) {
            labels.entry(f).or_insert(t);
        }
    }
    let mut forms: Vec<Form> = Vec::new();
    let mut form_index: HashMap<NodeId, usize> = HashMap::new();
    let mut total = 0usize;
    for f in doc.select(&sel("form")).take(MAX_FORMS) {
        form_index.insert(f.id(), forms.len());
        let action = attr(f, "action")
            .and_then(|a| final_url.join(a).ok())
            .map_or_else(|| final_url.to_string(), |u| u.to_string());
        let method = attr(f, "method").unwrap_or("get").to_ascii_lowercase();
        forms.push(Form {
            action: Some(clip(&action, 2048)),
            method: Some(clip(&method, 16)),
            fields: Vec::new(),
        });
    }
    let mut orphans = Vec::new();
    for input in doc.select(&sel("input, select, textarea")) {
        if total >= MAX_FIELDS {
            break;
        }
        let e = input.value();
        let kind = match e.name() {
            "input" => attr(input, "type").unwrap_or("text").to_ascii_lowercase(),
            other => other.to_string(),
        };
        if NOT_FIELDS.contains(&kind.as_str()) {
            continue;
        }
        let name = attr(input, "name")
            .or_else(|| attr(input, "id"))
            .unwrap_or("");
        let mut hints: Vec<String> = [
            "name",
            "id",
            "placeholder",
            "aria-label",
            "autocomplete",
            "title",
            "data-label",
        ]
        .iter()
        .filter_map(|a| attr(input, a))
        .map(|v| clip(v, 256))
        .collect();
        if let Some(l) = attr(input, "id").and_then(|id| labels.get(id)) {
            hints.push(l.clone());
        }
        // An enclosing label, or the short text just before the field.
        let mut owner = None;
        for (depth, anc) in input.ancestors().enumerate() {
            if let Some(el) = ElementRef::wrap(anc) {
                if depth < 4 && el.value().name() == "label" {
                    hints.extend(short_text(el));
                }
                if let Some(&k) = form_index.get(&anc.id())
                    && owner.is_none()
                {
                    owner = Some(k);
                }
            }
        }
        if let Some(prev) = input.prev_siblings().find_map(ElementRef::wrap)
            && let Some(t) = short_text(prev)
            && t.len() <= 120
        {
            hints.push(t);
        }
        let signal = field_signal(&kind, &hints.join(" | "));
        let field = Field {
            name: clip(name, 256),
            kind: clip(&kind, 32),
            signal,
        };
        total += 1;
        match owner {
            Some(k) => forms[k].fields.push(field),
            None => orphans.push(field),
        }
    }
    if !orphans.is_empty() {
        forms.push(Form {
            action: None,
            method: None,
            fields: orphans,
        });
    }
    forms
}

/// Sorted, unique hosts of external `<script src>` other than the page's own.
fn script_hosts(final_url: &Url, doc: &Html) -> Vec<String> {
    let own = final_url.host_str();
    let mut hosts = BTreeSet::new();
    for s in doc.select(&sel("script[src]")).take(1000) {
        if let Some(u) = s
            .value()
            .attr("src")
            .and_then(|h| abs_http_url(final_url, h))
            && let Some(h) = u.host_str()
            && Some(h) != own
        {
            hosts.insert(h.to_string());
            if hosts.len() >= MAX_SCRIPT_HOSTS {
                break;
            }
        }
    }
    hosts.into_iter().collect()
}

/// The page's icon: `<link rel~=icon>`, else `/favicon.ico`.
fn favicon_url(final_url: &Url, doc: &Html) -> Option<String> {
    doc.select(&sel("link[rel][href]"))
        .take(200)
        .find(|l| {
            l.value().attr("rel").is_some_and(|r| {
                r.split_ascii_whitespace()
                    .any(|t| t.eq_ignore_ascii_case("icon"))
            })
        })
        .and_then(|l| l.value().attr("href"))
        .and_then(|h| abs_http_url(final_url, h))
        .or_else(|| final_url.join("/favicon.ico").ok())
        .map(|u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{MAX_LINKS, extract};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const ARTICLE: &str = include_str!("../../tests/fixtures/web_article.html");
    const PHISHING: &str = include_str!("../../tests/fixtures/web_phishing_login.html");

    #[test]
    fn article_main_text_drops_navigation_and_footer() {
        let e = extract(
            &url("https://tintuc-canhbao.com.vn/bai/lua-dao-dau-tu.html?utm_source=zalo"),
            Some("text/html; charset=utf-8"),
            ARTICLE.as_bytes(),
        );
        assert_eq!(e.items.len(), 1);
        let it = &e.items[0];
        assert_eq!(it.kind, "web");
        assert_eq!(
            it.doc_key,
            "web:https://tintuc-canhbao.com.vn/bai/lua-dao-dau-tu.html"
        );
        assert_eq!(
            it.title.as_deref(),
            Some("Cảnh báo chiêu lừa đầu tư tiền ảo lãi 5%/ngày")
        );
        assert!(
            it.text.contains("lợi nhuận cố định 5% mỗi ngày"),
            "{}",
            it.text
        );
        assert!(it.text.contains("Công an TP.HCM khuyến cáo"));
        assert!(!it.text.contains("Trang chủ"), "nav kept: {}", it.text);
        assert!(!it.text.contains("Bản quyền"), "footer kept");
        assert!(!it.text.contains("Tin liên quan"), "aside kept");
        assert!(!it.text.contains("gtag"), "script kept");
        assert_eq!(it.language, Some("vi"));
        assert_eq!(
            it.meta["description"],
            "Nhiều người mất tiền vì tin lời mời đầu tư USDT."
        );
        assert_eq!(it.meta["phishing_signals"], json!([]));
        assert_eq!(it.meta["script_hosts"], json!(["cdn.analytics-vn.xyz"]));
        assert_eq!(
            it.meta["favicon_url"],
            "https://tintuc-canhbao.com.vn/static/icon.png"
        );
        assert!(e.links.contains(&url("https://tintuc-canhbao.com.vn/")));
        assert!(e.links.contains(&url(
            "https://tintuc-canhbao.com.vn/bai/mao-danh-cong-an.html"
        )));
    }

    #[test]
    fn phishing_form_fields_are_classified() {
        let e = extract(
            &url("http://vietcombank-xacminh.top/dang-nhap"),
            Some("text/html"),
            PHISHING.as_bytes(),
        );
        let it = &e.items[0];
        let forms = it.meta["forms"].as_array().unwrap();
        assert_eq!(forms.len(), 2, "{:#}", it.meta);
        assert_eq!(
            forms[0]["action"],
            "http://vietcombank-xacminh.top/xu-ly.php"
        );
        assert_eq!(forms[0]["method"], "post");
        let signals: Vec<(&str, &str)> = forms[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].as_str().unwrap(), f["signal"].as_str().unwrap()))
            .collect();
        assert_eq!(
            signals,
            vec![
                ("username", "none"),
                ("matkhau", "password"),
                ("so_cccd", "national_id"),
                ("f4", "card_number"),
                ("f5", "card_expiry"),
                ("f6", "cvv"),
                ("stk", "bank_account"),
                ("ma", "otp"),
            ]
        );
        // The lone OTP box outside the form.
        assert_eq!(forms[1]["action"], Value::Null);
        assert_eq!(forms[1]["fields"][0]["signal"], "otp");
        assert_eq!(
            it.meta["phishing_signals"],
            json!([
                "bank_account",
                "card_expiry",
                "card_number",
                "cvv",
                "national_id",
                "otp",
                "password"
            ])
        );
        assert_eq!(
            it.meta["script_hosts"],
            json!(["cdn.jsdelivr-vn.xyz", "collect.vcb-secure.vip"])
        );
        assert_eq!(
            it.meta["favicon_url"],
            "http://vietcombank-xacminh.top/favicon.ico"
        );
        // A short page keeps its whole text.
        assert!(it.text.contains("Xác minh tài khoản"), "{}", it.text);
        assert!(it.text.contains("Mật khẩu"));
    }

    #[test]
    fn signals_in_both_languages() {
        for (ty, hints, want) in [
            ("password", "pw", Signal::Password),
            ("text", "Nhap mat khau", Signal::Password),
            ("text", "Mã xác thực (OTP)", Signal::Otp),
            ("password", "otpCode", Signal::Otp),
            ("tel", "one-time-code", Signal::Otp),
            ("text", "Số thẻ ATM", Signal::CardNumber),
            ("text", "cc-number", Signal::CardNumber),
            ("text", "MM/YY", Signal::CardExpiry),
            ("text", "Ngày hết hạn", Signal::CardExpiry),
            ("text", "CVV2", Signal::Cvv),
            ("text", "Số CMND hoặc căn cước công dân", Signal::NationalId),
            ("text", "Số tài khoản nhận tiền", Signal::BankAccount),
            ("text", "Account number", Signal::BankAccount),
            ("text", "Họ và tên", Signal::None),
            ("email", "email", Signal::None),
            ("text", "also the best", Signal::None),
        ] {
            assert_eq!(field_signal(ty, hints), want, "{ty} {hints}");
        }
    }

    #[test]
    fn short_page_falls_back_to_body_text() {
        let html = "<html><body><header><h1>Nhận quà 2 triệu</h1></header>\
            <div><p>Chỉ cần đăng ký.</p></div><nav><a href=\"/a\">Menu</a></nav></body></html>";
        let e = extract(&url("http://h/"), Some("text/html"), html.as_bytes());
        assert_eq!(e.items[0].text, "Nhận quà 2 triệu\nChỉ cần đăng ký.");
        assert_eq!(e.items[0].title.as_deref(), Some("Nhận quà 2 triệu"));
    }

    #[test]
    fn hostile_pages_stay_bounded() {
        // 100k links: only MAX_LINKS come back.
        let mut html = String::from("<html><body>");
        for i in 0..100_000 {
            html.push_str(&format!("<a href=\"/p/{i}\">x</a>"));
        }
        let e = extract(&url("http://h/"), Some("text/html"), html.as_bytes());
        assert_eq!(e.links.len(), MAX_LINKS);

        // 10 MB of text in one paragraph.
        let big = format!(
            "<html><body><p>{}</p></body></html>",
            "lừa đảo ".repeat(1_000_000)
        );
        let e = extract(&url("http://h/"), Some("text/html"), big.as_bytes());
        assert!(e.items[0].text.len() <= crate::extract::MAX_TEXT_BYTES);
        assert!(e.items[0].text.starts_with("lừa đảo"));

        // Thousands of forms and fields.
        let mut html = String::from("<html><body>");
        for i in 0..5000 {
            html.push_str(&format!(
                "<form action=\"/f{i}\"><input type=password name=p{i}></form>"
            ));
        }
        let e = extract(&url("http://h/"), Some("text/html"), html.as_bytes());
        let forms = e.items[0].meta["forms"].as_array().unwrap();
        assert_eq!(forms.len(), MAX_FORMS + 1);
        let fields: usize = forms
            .iter()
            .map(|f| f["fields"].as_array().unwrap().len())
            .sum();
        assert_eq!(fields, MAX_FIELDS);

        // No body, no title: nothing.
        let e = extract(&url("http://h/"), Some("text/html"), b"<html></html>");
        assert!(e.items.is_empty());
    }
}
