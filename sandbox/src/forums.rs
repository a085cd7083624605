//! Forums and group pages from `sites/forums/*.toml`: style `xf` files are served together
//! by the `forum` site (XenForo-like thread list and paged threads), style `fbgroup` files
//! by the `group` site (saved Facebook-group-like feeds). Also the CSS selectors a crawler
//! configures to read each markup ([`selectors`]).

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use serde::Deserialize;

use crate::files;
use crate::util::{self, esc, fnv, label, linkify, rfc3339, split_paragraphs};

/// Posts per xf thread page.
pub const XF_POSTS_PER_PAGE: usize = 5;
/// Threads per page of the xf thread list.
pub const XF_THREADS_PER_PAGE: usize = 20;

/// The markup a forum file is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Xf,
    FbGroup,
}

/// One forum or group (one file).
#[derive(Debug, Clone)]
pub struct Forum {
    /// File stem; the group's id in `/groups/<name>/`.
    pub name: String,
    pub style: Style,
    pub title: String,
    pub description: String,
    pub threads: Vec<Thread>,
}

/// One thread (xf) or one page of the group feed (fbgroup: each post is a feed post).
#[derive(Debug, Clone)]
pub struct Thread {
    pub slug: String,
    pub title: String,
    /// xf: the thread number in `/threads/<slug>.<number>/`, unique across xf files.
    pub number: usize,
    pub posts: Vec<Post>,
}

/// One post or comment.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: i64,
    pub author: String,
    pub time: DateTime<FixedOffset>,
    pub label: &'static str,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForumFile {
    style: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    threads: Vec<ThreadFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadFile {
    slug: String,
    title: String,
    posts: Vec<PostFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostFile {
    id: i64,
    author: String,
    time: String,
    label: String,
    text: String,
}

/// Reads `sites/forums/*.toml`; a file with any problem is left out and reported. xf
/// threads are numbered 1, 2, … across all xf files in file-name order.
pub fn load(errors: &mut Vec<String>) -> Vec<Forum> {
    let mut out = Vec::new();
    let mut next_number = 1;
    for (stem, path, bytes) in files::in_folder("forums", ".toml") {
        match parse(stem, bytes) {
            Ok(mut f) => {
                if f.style == Style::Xf {
                    for t in &mut f.threads {
                        t.number = next_number;
                        next_number += 1;
                    }
                }
                out.push(f);
            }
            Err(e) => errors.push(format!("sites/{path}: {e}")),
        }
    }
    out
}

fn parse(stem: &str, bytes: &[u8]) -> Result<Forum, String> {
    let slug_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !slug_ok(stem) {
        return Err("forum file names may use only a-z, 0-9 and `-`".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let f: ForumFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let style = match f.style.as_str() {
        "xf" => Style::Xf,
        "fbgroup" => Style::FbGroup,
        other => return Err(format!("style `{other}` is not xf or fbgroup")),
    };
    let mut ids = BTreeSet::new();
    let mut slugs = BTreeSet::new();
    let mut threads = Vec::with_capacity(f.threads.len());
    for t in f.threads {
        if !slug_ok(&t.slug) {
            return Err(format!(
                "thread slug `{}` may use only a-z, 0-9 and `-`",
                t.slug
            ));
        }
        if !slugs.insert(t.slug.clone()) {
            return Err(format!("thread slug `{}` used twice", t.slug));
        }
        if t.posts.is_empty() {
            return Err(format!("thread `{}` has no posts", t.slug));
        }
        let mut posts = Vec::with_capacity(t.posts.len());
        for p in t.posts {
            let what = format!("thread `{}` post {}", t.slug, p.id);
            if p.id <= 0 {
                return Err(format!("{what}: ids must be positive"));
            }
            if !ids.insert(p.id) {
                return Err(format!("{what}: id used twice in this file"));
            }
            if p.text.trim().is_empty() {
                return Err(format!("{what}: empty text"));
            }
            posts.push(Post {
                id: p.id,
                author: p.author.trim().to_string(),
                time: rfc3339(&p.time, &what)?,
                label: label(&p.label).map_err(|e| format!("{what}: {e}"))?,
                text: p.text.trim().to_string(),
            });
        }
        threads.push(Thread {
            slug: t.slug,
            title: t.title.trim().to_string(),
            number: 0,
            posts,
        });
    }
    Ok(Forum {
        name: stem.to_string(),
        style,
        title: f.title.trim().to_string(),
        description: f.description.trim().to_string(),
        threads,
    })
}

/// The CSS selectors a crawler configures for a style (`"xf"` or `"fbgroup"`; `None` for
/// any other). Keys: `item` selects each post; `text`, `author`, `time` and `permalink`
/// are evaluated inside an item (text and author: the element's text; time: the
/// element's `datetime` attribute, RFC 3339, for xf and its `data-utime` attribute, Unix
/// seconds, for fbgroup; permalink: the element's `href`, relative); `follow` selects the
/// links to follow from any page of the source (thread links and pagination).
pub fn selectors(style: &str) -> Option<BTreeMap<String, String>> {
    let pairs: &[(&str, &str)] = match style {
        "xf" => &[
            ("item", "article.message[data-post-id]"),
            ("text", ".message-body .bbWrapper"),
            ("author", "h4.message-name .username"),
            ("time", "header.message-attribution time.u-dt"),
            ("permalink", "a.message-attribution-gadget"),
            (
                "follow",
                "div.structItem-title a[data-tp-primary], a.pageNav-jump--next",
            ),
        ],
        "fbgroup" => &[
            ("item", "div[role=article]"),
            (
                "text",
                "div[data-ad-preview=message], div[data-comment-body]",
            ),
            ("author", "a[data-hovercard][role=link]"),
            ("time", "abbr[data-utime]"),
            ("permalink", "a[data-permalink]"),
            ("follow", "a.groupsFeedMore[rel=next]"),
        ],
        _ => return None,
    };
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    )
}

/// Path of an xf thread page (`page` from 1).
pub fn xf_thread_path(t: &Thread, page: usize) -> String {
    if page <= 1 {
        format!("/threads/{}.{}/", t.slug, t.number)
    } else {
        format!("/threads/{}.{}/?page={page}", t.slug, t.number)
    }
}

/// Permalink of an xf post.
pub fn xf_post_path(t: &Thread, p: &Post) -> String {
    format!("/threads/{}.{}/post-{}", t.slug, t.number, p.id)
}

/// Page `page` (from 0) of a group's feed: page `k` shows the file's `k`-th thread.
pub fn group_path(f: &Forum, page: usize) -> String {
    if page == 0 {
        format!("/groups/{}/", f.name)
    } else {
        format!("/groups/{}/?cursor={page}", f.name)
    }
}

/// Permalink of a group post.
pub fn group_post_path(f: &Forum, p: &Post) -> String {
    format!("/groups/{}/posts/{}/", f.name, p.id)
}

fn pages(n: usize, per: usize) -> usize {
    n.div_ceil(per).max(1)
}

/// Link-depth a crawler needs from the xf thread list `/` to reach every post.
pub fn xf_depth(forums: &[Forum]) -> u32 {
    let threads: Vec<&Thread> = forums
        .iter()
        .filter(|f| f.style == Style::Xf)
        .flat_map(|f| &f.threads)
        .collect();
    let list = pages(threads.len(), XF_THREADS_PER_PAGE);
    let longest = threads
        .iter()
        .map(|t| pages(t.posts.len(), XF_POSTS_PER_PAGE))
        .max()
        .unwrap_or(1);
    (list + longest) as u32
}

/// Link-depth a crawler needs from a group's first page to reach every post (one spare).
pub fn group_depth(f: &Forum) -> u32 {
    f.threads.len().max(1) as u32
}

#[derive(Debug, Deserialize)]
struct PageQ {
    page: Option<String>,
    cursor: Option<String>,
}

fn parse_num(v: Option<&str>, default: usize) -> Option<usize> {
    match v {
        None => Some(default),
        Some(s) => s.parse().ok(),
    }
}

/// The `forum` site (all xf files).
pub fn xf_router(forums: &'static [Forum]) -> Router {
    Router::new()
        .route(
            "/",
            get(move |Query(q): Query<PageQ>| async move {
                match parse_num(q.page.as_deref(), 1) {
                    Some(p) => xf_list(forums, p),
                    None => util::not_found(),
                }
            }),
        )
        .route(
            "/threads/{key}",
            get(|Path(key): Path<String>| async move { util::moved(&format!("/threads/{key}/")) }),
        )
        .route(
            "/threads/{key}/",
            get(
                move |Path(key): Path<String>, Query(q): Query<PageQ>| async move {
                    let Some((f, t)) = xf_find(forums, &key) else {
                        return util::not_found();
                    };
                    match parse_num(q.page.as_deref(), 1) {
                        Some(p) => xf_thread(f, t, p),
                        None => util::not_found(),
                    }
                },
            ),
        )
        .route(
            "/threads/{key}/{post}",
            get(
                move |Path((key, post)): Path<(String, String)>| async move {
                    let Some((f, t)) = xf_find(forums, &key) else {
                        return util::not_found();
                    };
                    let idx = post
                        .strip_prefix("post-")
                        .and_then(|id| id.parse::<i64>().ok())
                        .and_then(|id| t.posts.iter().position(|p| p.id == id));
                    match idx {
                        Some(i) => xf_thread(f, t, i / XF_POSTS_PER_PAGE + 1),
                        None => util::not_found(),
                    }
                },
            ),
        )
}

fn xf_find<'a>(forums: &'a [Forum], key: &str) -> Option<(&'a Forum, &'a Thread)> {
    let (slug, n) = key.rsplit_once('.')?;
    let n: usize = n.parse().ok()?;
    forums
        .iter()
        .filter(|f| f.style == Style::Xf)
        .flat_map(|f| f.threads.iter().map(move |t| (f, t)))
        .find(|(_, t)| t.number == n && t.slug == slug)
}

const XF_STYLE: &str = "body{margin:0;font:15px/1.5 -apple-system,\"Segoe UI\",Roboto,Arial,sans-serif;background:#fefefe;color:#141414}\
.p-header{background:#185886;color:#fff;padding:10px 20px}.p-header a{color:#fff;text-decoration:none;font-size:20px;font-weight:600}\
.p-body{max-width:1100px;margin:0 auto;padding:10px 20px}.block-container{border:1px solid #d8d8d8;border-radius:3px;margin-bottom:16px}\
.block-header{background:#f5f5f5;padding:6px 10px;font-weight:600;margin:0;font-size:17px;color:#185886}\
.structItem{display:flex;border-top:1px solid #e7e7e7;padding:8px 10px}.structItem-main{flex:1}.structItem-minor{font-size:13px;color:#8c8c8c}\
.structItem-meta{width:160px;font-size:13px;color:#8c8c8c}.message{display:block;border:1px solid #d8d8d8;margin:10px 0;border-radius:3px}\
.message-inner{display:flex}.message-cell--user{width:150px;background:#f5f5f5;padding:10px;border-right:1px solid #e7e7e7;text-align:center}\
.message-cell--main{flex:1;padding:10px}.message-attribution{display:flex;justify-content:space-between;font-size:12px;color:#8c8c8c;border-bottom:1px solid #eee;margin-bottom:8px}\
.message-attribution a{color:#8c8c8c;text-decoration:none}.message-signature{border-top:1px solid #eee;font-size:12px;color:#8c8c8c;margin-top:10px;padding-top:6px}\
.pageNav{margin:10px 0}.pageNav a{border:1px solid #d8d8d8;padding:2px 8px;margin-right:4px;text-decoration:none}.pageNav-page--current a{background:#185886;color:#fff}\
.listInline{list-style:none;margin:0;padding:0;display:inline}";

fn xf_shell(title: &str, canonical: &str, crumbs: &str, body: &str) -> Response {
    util::html(format!(
        "<!DOCTYPE html>\n<html id=\"XF\" lang=\"vi-VN\" dir=\"LTR\" data-app=\"public\" data-template=\"forum_view\">\n<head>\n\
         <meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n\
         <link rel=\"canonical\" href=\"{c}\">\n<style>{XF_STYLE}</style>\n</head>\n<body data-template=\"thread_view\">\n\
         <div class=\"p-pageWrapper\" id=\"top\">\n<header class=\"p-header\" id=\"header\"><a href=\"/\">Diễn đàn</a></header>\n\
         <div class=\"p-body\">\n<ul class=\"p-breadcrumbs\" itemscope itemtype=\"https://schema.org/BreadcrumbList\">{crumbs}</ul>\n\
         {body}</div>\n<footer class=\"p-footer\"><div class=\"p-footer-copyright\">Phần mềm diễn đàn © XenForo-style sandbox</div></footer>\n\
         </div>\n</body>\n</html>\n",
        t = esc(title),
        c = esc(canonical),
    ))
}

/// XenForo-style page navigation; `href(p)` gives page `p`'s link.
fn xf_page_nav(current: usize, total: usize, href: impl Fn(usize) -> String) -> String {
    if total <= 1 {
        return String::new();
    }
    let mut s =
        String::from("<nav class=\"pageNavWrapper pageNavWrapper--mixed\"><div class=\"pageNav\">");
    if current > 1 {
        s.push_str(&format!(
            "<a href=\"{}\" class=\"pageNav-jump pageNav-jump--prev\">Trước</a>",
            href(current - 1)
        ));
    }
    s.push_str("<ul class=\"pageNav-main\">");
    for p in 1..=total {
        let cur = if p == current {
            " pageNav-page--current"
        } else {
            ""
        };
        s.push_str(&format!(
            "<li class=\"pageNav-page{cur}\"><a href=\"{}\">{p}</a></li>",
            href(p)
        ));
    }
    s.push_str("</ul>");
    if current < total {
        s.push_str(&format!(
            "<a href=\"{}\" class=\"pageNav-jump pageNav-jump--next\">Tiếp</a>",
            href(current + 1)
        ));
    }
    s.push_str("</div></nav>\n");
    s
}

fn member_path(author: &str) -> String {
    format!(
        "/members/{}.{}/",
        util::slugify(author),
        fnv(author) % 90_000 + 1_000
    )
}

/// `3 Th11 2026` (XenForo's Vietnamese short date).
fn xf_date(t: &DateTime<FixedOffset>) -> String {
    format!("{} Th{} {}", t.day(), t.month(), t.year())
}

fn xf_list(forums: &[Forum], page: usize) -> Response {
    let all: Vec<(&Forum, &Thread)> = forums
        .iter()
        .filter(|f| f.style == Style::Xf)
        .flat_map(|f| f.threads.iter().map(move |t| (f, t)))
        .collect();
    let total = pages(all.len(), XF_THREADS_PER_PAGE);
    if page == 0 || page > total {
        return util::not_found();
    }
    let href = |p: usize| {
        if p == 1 {
            "/".to_string()
        } else {
            format!("/?page={p}")
        }
    };
    let shown = &all[(page - 1) * XF_THREADS_PER_PAGE..all.len().min(page * XF_THREADS_PER_PAGE)];
    let mut body =
        String::from("<div class=\"p-title\"><h1 class=\"p-title-value\">Chủ đề mới</h1></div>\n");
    body.push_str(&xf_page_nav(page, total, href));
    let mut current: Option<&str> = None;
    for (f, t) in shown {
        if current != Some(f.name.as_str()) {
            if current.is_some() {
                body.push_str("</div></div>\n");
            }
            current = Some(&f.name);
            body.push_str(&format!(
                "<div class=\"block-container\" data-node=\"{n}\"><h2 class=\"block-header\">{title}</h2>\
                 <div class=\"block-desc\">{d}</div>\n<div class=\"structItemContainer\">\n",
                n = esc(&f.name),
                title = esc(&f.title),
                d = esc(&f.description),
            ));
        }
        let first = &t.posts[0];
        let last = t.posts.last().unwrap_or(first);
        body.push_str(&format!(
            "<div class=\"structItem structItem--thread js-inlineModContainer\" data-author=\"{a}\">\n\
             <div class=\"structItem-cell structItem-cell--main\"><div class=\"structItem-title\">\
             <a href=\"{href}\" data-tp-primary=\"on\">{title}</a></div>\n\
             <div class=\"structItem-minor\"><ul class=\"structItem-parts\"><li><a href=\"{m}\" class=\"username\" dir=\"auto\">{a}</a></li>\
             <li class=\"structItem-startDate\"><a href=\"{href}\" rel=\"nofollow\"><time class=\"u-dt\" dir=\"auto\" datetime=\"{iso}\">{d}</time></a></li></ul></div></div>\n\
             <div class=\"structItem-cell structItem-cell--meta\"><dl class=\"pairs pairs--justified\"><dt>Trả lời</dt><dd>{replies}</dd></dl></div>\n\
             <div class=\"structItem-cell structItem-cell--latest\"><time class=\"structItem-latestDate u-dt\" datetime=\"{liso}\">{ld}</time>\
             <div class=\"structItem-minor\"><a href=\"{lm}\" class=\"username\">{la}</a></div></div>\n</div>\n",
            a = esc(&first.author),
            href = xf_thread_path(t, 1),
            title = esc(&t.title),
            m = member_path(&first.author),
            iso = first.time.to_rfc3339(),
            d = xf_date(&first.time),
            replies = t.posts.len() - 1,
            liso = last.time.to_rfc3339(),
            ld = xf_date(&last.time),
            lm = member_path(&last.author),
            la = esc(&last.author),
        ));
    }
    if current.is_some() {
        body.push_str("</div></div>\n");
    }
    body.push_str(&xf_page_nav(page, total, href));
    xf_shell(
        "Chủ đề mới | Diễn đàn",
        &href(page),
        "<li><a href=\"/\" itemprop=\"item\"><span itemprop=\"name\">Diễn đàn</span></a></li>",
        &body,
    )
}

fn xf_thread(f: &Forum, t: &Thread, page: usize) -> Response {
    let total = pages(t.posts.len(), XF_POSTS_PER_PAGE);
    if page == 0 || page > total {
        return util::not_found();
    }
    let href = |p: usize| xf_thread_path(t, p);
    let mut body = format!(
        "<div class=\"p-title\"><h1 class=\"p-title-value\">{}</h1></div>\n\
         <div class=\"p-description\"><ul class=\"listInline listInline--bullet\"><li>Người tạo chủ đề \
         <a href=\"{}\" class=\"username u-concealed\">{}</a></li></ul></div>\n",
        esc(&t.title),
        member_path(&t.posts[0].author),
        esc(&t.posts[0].author),
    );
    body.push_str(&xf_page_nav(page, total, href));
    body.push_str("<div class=\"block block--messages\" data-type=\"post\"><div class=\"block-container lbContainer\">\n<div class=\"block-body js-replyNewMessageContainer\">\n");
    let start = (page - 1) * XF_POSTS_PER_PAGE;
    for (i, p) in t
        .posts
        .iter()
        .enumerate()
        .skip(start)
        .take(XF_POSTS_PER_PAGE)
    {
        let link = xf_post_path(t, p);
        let text: String = split_paragraphs(&p.text)
            .iter()
            .map(|para| {
                para.lines()
                    .map(|l| linkify(l, false))
                    .collect::<Vec<_>>()
                    .join("<br>\n")
            })
            .collect::<Vec<_>>()
            .join("<br>\n<br>\n");
        let posts_count = fnv(&p.author) % 900 + 3;
        let signature = if fnv(&p.author).is_multiple_of(3) {
            "<aside class=\"message-signature\"><div class=\"bbWrapper\">Sống chậm lại, nghĩ kỹ trước khi chuyển khoản.</div></aside>\n"
        } else {
            ""
        };
        body.push_str(&format!(
            "<article class=\"message message--post js-post js-inlineModContainer\" data-author=\"{a}\" data-content=\"post-{id}\" data-post-id=\"{id}\" id=\"js-post-{id}\">\n\
             <span class=\"u-anchorTarget\" id=\"post-{id}\"></span>\n<div class=\"message-inner\">\n\
             <div class=\"message-cell message-cell--user\"><section class=\"message-user\" itemscope itemtype=\"https://schema.org/Person\">\n\
             <div class=\"message-userDetails\"><h4 class=\"message-name\"><a href=\"{m}\" class=\"username\" dir=\"auto\" itemprop=\"name\">{a}</a></h4>\n\
             <h5 class=\"userTitle message-userTitle\" dir=\"auto\">Thành viên</h5></div>\n\
             <div class=\"message-userExtras\"><dl class=\"pairs pairs--justified\"><dt>Bài viết</dt><dd>{pc}</dd></dl></div>\n\
             </section></div>\n<div class=\"message-cell message-cell--main\"><div class=\"message-main js-quickEditTarget\">\n\
             <header class=\"message-attribution message-attribution--split\">\n\
             <ul class=\"message-attribution-main listInline\"><li class=\"u-concealed\"><a href=\"{link}\" rel=\"nofollow\">\
             <time class=\"u-dt\" dir=\"auto\" datetime=\"{iso}\" data-timestamp=\"{ts}\">{d}</time></a></li></ul>\n\
             <ul class=\"message-attribution-opposite message-attribution-opposite--list\"><li><a href=\"{link}\" class=\"message-attribution-gadget\" rel=\"nofollow\">#{n}</a></li></ul>\n\
             </header>\n<div class=\"message-content js-messageContent\"><div class=\"message-userContent lbContainer js-lbContainer\">\n\
             <article class=\"message-body js-selectToQuote\"><div class=\"bbWrapper\">{text}</div></article>\n\
             </div>\n{signature}</div>\n\
             <footer class=\"message-footer\"><div class=\"message-actionBar actionBar\"><a href=\"/threads/{slug}.{tn}/reply?quote={id}\" class=\"actionBar-action\" rel=\"nofollow\">Trả lời</a></div></footer>\n\
             </div></div>\n</div>\n</article>\n",
            a = esc(&p.author),
            id = p.id,
            m = member_path(&p.author),
            pc = posts_count,
            link = link,
            iso = p.time.to_rfc3339(),
            ts = p.time.timestamp(),
            d = xf_date(&p.time),
            n = i + 1,
            text = text,
            signature = signature,
            slug = t.slug,
            tn = t.number,
        ));
    }
    body.push_str("</div></div></div>\n");
    body.push_str(&xf_page_nav(page, total, href));
    let crumbs = format!(
        "<li><a href=\"/\" itemprop=\"item\"><span itemprop=\"name\">Diễn đàn</span></a></li>\
         <li><a href=\"/\" itemprop=\"item\"><span itemprop=\"name\">{}</span></a></li>",
        esc(&f.title)
    );
    let title = if page > 1 {
        format!("{} | Trang {page} | {}", t.title, f.title)
    } else {
        format!("{} | {}", t.title, f.title)
    };
    xf_shell(&title, &href(page), &crumbs, &body)
}

/// The `group` site (all fbgroup files).
pub fn group_router(forums: &'static [Forum]) -> Router {
    Router::new()
        .route("/", get(move || async move { group_index(forums) }))
        .route(
            "/groups/{g}",
            get(|Path(g): Path<String>| async move { util::moved(&format!("/groups/{g}/")) }),
        )
        .route(
            "/groups/{g}/",
            get(
                move |Path(g): Path<String>, Query(q): Query<PageQ>| async move {
                    let Some(f) = group_find(forums, &g) else {
                        return util::not_found();
                    };
                    match parse_num(q.cursor.as_deref(), 0) {
                        Some(c) => group_feed(f, c),
                        None => util::not_found(),
                    }
                },
            ),
        )
        .route(
            "/groups/{g}/posts/{id}/",
            get(move |Path((g, id)): Path<(String, String)>| async move {
                let Some(f) = group_find(forums, &g) else {
                    return util::not_found();
                };
                let post = id
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| f.threads.iter().flat_map(|t| &t.posts).find(|p| p.id == id));
                match post {
                    Some(p) => group_permalink(f, p),
                    None => util::not_found(),
                }
            }),
        )
}

fn group_find<'a>(forums: &'a [Forum], g: &str) -> Option<&'a Forum> {
    forums
        .iter()
        .find(|f| f.style == Style::FbGroup && f.name == g)
}

const FB_STYLE: &str = "body{margin:0;background:#f0f2f5;font:15px/1.34 \"Segoe UI Historic\",\"Segoe UI\",Helvetica,Arial,sans-serif;color:#050505}\
.x9f619{max-width:680px;margin:0 auto;padding:16px}.x1yztbdb{background:#fff;border-radius:8px;box-shadow:0 1px 2px rgba(0,0,0,.2);margin-bottom:16px;padding:12px 16px}\
.x1heor9g{font-size:15px;font-weight:600;margin:0}.x1heor9g a{color:#050505;text-decoration:none}.x4k7w5x a{color:#65676b;font-size:13px;text-decoration:none}\
.xdj266r{margin:8px 0}.x1lliihq{color:#65676b;font-size:13px;border-top:1px solid #ced0d4;padding-top:6px}\
.x1n2onr6{list-style:none;margin:8px 0 0;padding:0}.x1n2onr6 li{margin:6px 0}.xmjcpbm{background:#f0f2f5;border-radius:18px;padding:8px 12px;display:inline-block}\
.xmjcpbm a{font-weight:600;font-size:13px;color:#050505;text-decoration:none}.x1rg5ohu{font-size:12px;color:#65676b;margin-left:12px}\
.xkhd6sd{background:#fff;border-radius:8px;padding:16px;margin-bottom:16px}.groupsFeedMore{display:block;text-align:center;color:#1877f2;font-weight:600}";

fn user_path(f: &Forum, author: &str) -> String {
    format!(
        "/groups/{}/user/{}/",
        f.name,
        100_000_000_000_000 + fnv(author) % 900_000_000_000_000
    )
}

/// `3 tháng 11 lúc 21:14` and the long form for the tooltip.
fn fb_dates(t: &DateTime<FixedOffset>) -> (String, String) {
    const DAYS: [&str; 7] = [
        "Thứ Hai",
        "Thứ Ba",
        "Thứ Tư",
        "Thứ Năm",
        "Thứ Sáu",
        "Thứ Bảy",
        "Chủ Nhật",
    ];
    let short = format!(
        "{} tháng {} lúc {:02}:{:02}",
        t.day(),
        t.month(),
        t.hour(),
        t.minute()
    );
    let long = format!(
        "{}, {} tháng {}, {} lúc {:02}:{:02}",
        DAYS[t.weekday().num_days_from_monday() as usize],
        t.day(),
        t.month(),
        t.year(),
        t.hour(),
        t.minute()
    );
    (short, long)
}

fn fb_text(text: &str) -> String {
    split_paragraphs(text)
        .iter()
        .map(|para| {
            format!(
                "<div dir=\"auto\" style=\"text-align:start\">{}</div>",
                para.lines()
                    .map(|l| linkify(l, false))
                    .collect::<Vec<_>>()
                    .join("<br>")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn group_unit(f: &Forum, p: &Post, pos: usize) -> String {
    let (short, long) = fb_dates(&p.time);
    let link = group_post_path(f, p);
    let comments = fnv(&format!("{}/{}", f.name, p.id)) % 30;
    let more = if comments > 0 {
        format!(
            "<a href=\"{link}\" role=\"button\" class=\"x1i10hfl x1qjc9v5\">Xem {comments} bình luận</a>"
        )
    } else {
        String::from("<span>Chưa có bình luận</span>")
    };
    format!(
        "<div class=\"x1yztbdb x1n2onr6 xh8yej3 x1ja2u2z\" data-pagelet=\"FeedUnit_{pos}\">\n\
         <div role=\"article\" aria-posinset=\"{pos1}\" aria-labelledby=\"post-h-{id}\" class=\"x1a2a7pz\" data-ft='{{\"top_level_post_id\":\"{id}\"}}'>\n\
         <h3 id=\"post-h-{id}\" class=\"x1heor9g x1qlqyl8 x1pd3egz x1a2a7pz\"><span><a href=\"{u}\" role=\"link\" data-hovercard=\"{u}\" class=\"x1i10hfl xjbqb8w\"><strong><span>{a}</span></strong></a></span></h3>\n\
         <span class=\"x4k7w5x x1h91t0o\"><a href=\"{link}\" role=\"link\" data-permalink=\"1\" aria-label=\"{long}\" class=\"x1i10hfl\">\
         <abbr data-utime=\"{ts}\" title=\"{long}\" class=\"timestamp\">{short}</abbr></a> · <span aria-label=\"Đã chia sẻ với Thành viên của nhóm\">👥</span></span>\n\
         <div data-ad-preview=\"message\" data-ad-comet-preview=\"message\" class=\"xdj266r x11i5rnm xat24cr x1mh8g0r x1vvkbs\">\n{text}\n</div>\n\
         <div class=\"x1lliihq\"><span>{likes} lượt thích</span> · {more}</div>\n</div>\n</div>\n",
        pos1 = pos + 1,
        id = p.id,
        u = user_path(f, &p.author),
        a = esc(&p.author),
        ts = p.time.timestamp(),
        long = esc(&long),
        short = esc(&short),
        text = fb_text(&p.text),
        likes = fnv(&p.author) % 200,
    )
}

fn group_shell(f: &Forum, title: &str, canonical: &str, body: &str) -> Response {
    let members = fnv(&f.name) % 180_000 + 2_000;
    util::html(format!(
        "<!DOCTYPE html>\n<html id=\"facebook\" lang=\"vi\" dir=\"ltr\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n\
         <meta property=\"og:title\" content=\"{ft}\">\n<link rel=\"canonical\" href=\"{c}\">\n<style>{FB_STYLE}</style>\n</head>\n\
         <body class=\"_6s5d _71pn system-fonts--body\">\n<div id=\"mount_0_0\" class=\"x9f619\">\n\
         <div class=\"xkhd6sd\" role=\"banner\"><h1 class=\"x1heor9g\"><a href=\"/groups/{g}/\" role=\"link\">{ft}</a></h1>\n\
         <div class=\"x1lliihq\">🌐 Nhóm Công khai · {m} thành viên</div>\n<div class=\"x1lliihq\">{d}</div></div>\n\
         {body}</div>\n</body>\n</html>\n",
        t = esc(title),
        ft = esc(&f.title),
        c = esc(canonical),
        g = esc(&f.name),
        m = util::vi_thousands(members),
        d = esc(&f.description),
    ))
}

fn group_feed(f: &Forum, page: usize) -> Response {
    let Some(t) = f.threads.get(page) else {
        return util::not_found();
    };
    let mut body = format!("<div role=\"feed\" aria-label=\"{}\">\n", esc(&t.title));
    let first = f.threads[..page]
        .iter()
        .map(|t| t.posts.len())
        .sum::<usize>();
    for (i, p) in t.posts.iter().enumerate() {
        body.push_str(&group_unit(f, p, first + i));
    }
    body.push_str("</div>\n");
    if page + 1 < f.threads.len() {
        body.push_str(&format!(
            "<div class=\"xkhd6sd\"><a class=\"groupsFeedMore\" rel=\"next\" role=\"button\" href=\"{}\">Xem thêm bài viết</a></div>\n",
            group_path(f, page + 1)
        ));
    }
    group_shell(f, &f.title, &group_path(f, page), &body)
}

fn group_permalink(f: &Forum, p: &Post) -> Response {
    let body = format!(
        "<div role=\"main\">\n{}</div>\n<div class=\"xkhd6sd\"><a class=\"groupLink\" href=\"/groups/{}/\">Xem tất cả bài viết trong nhóm</a></div>\n",
        group_unit(f, p, 0),
        esc(&f.name)
    );
    let first_line: String = p
        .text
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(80)
        .collect();
    group_shell(
        f,
        &format!("{} | {}", first_line, f.title),
        &group_post_path(f, p),
        &body,
    )
}

fn group_index(forums: &[Forum]) -> Response {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>Nhóm | Facebook</title>\n</head>\n\
         <body>\n<h1>Nhóm đã lưu</h1>\n<ul>\n",
    );
    for f in forums.iter().filter(|f| f.style == Style::FbGroup) {
        s.push_str(&format!(
            "<li><a class=\"groupLink\" href=\"/groups/{}/\">{}</a></li>\n",
            esc(&f.name),
            esc(&f.title)
        ));
    }
    s.push_str("</ul>\n</body>\n</html>\n");
    util::html(s)
}
