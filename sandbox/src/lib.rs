//! The sandbox sites: scam and ordinary sites written by this project, served on
//! 127.0.0.1 for the demo and the tests. Each site listens on its own port, so each is its
//! own host for politeness and robots.txt. Nothing here reaches beyond loopback.
//!
//! - `invest`: a fake investment platform (with a robots.txt that forbids `/admin/`).
//! - `impersonation`: a fake bank notice and a fake public-service app page.
//! - `jobs`: a job forum mixing task/job scams, ordinary ads and a warning post.
//! - `news`: a news site; police warnings and reports about scams are hard negatives.
//! - `telegram`: channel previews in `t.me/s/<channel>` markup (scam, police, mixed).
//! - `bulk`: `/p/<n>` pages for load tests, plus hostile endpoints (slow, huge,
//!   redirect loop, redirect chain, flaky, gone) for crawler tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

type Page = (&'static str, &'static str);

const INVEST: &[Page] = &[
    ("/", include_str!("../sites/invest/index.html")),
    (
        "/gioi-thieu.html",
        include_str!("../sites/invest/gioi-thieu.html"),
    ),
    (
        "/nap-tien.html",
        include_str!("../sites/invest/nap-tien.html"),
    ),
    (
        "/lien-he.html",
        include_str!("../sites/invest/lien-he.html"),
    ),
    ("/robots.txt", include_str!("../sites/invest/robots.txt")),
    ("/admin/", include_str!("../sites/invest/admin/index.html")),
];
const IMPERSONATION: &[Page] = &[
    ("/", include_str!("../sites/impersonation/index.html")),
    (
        "/xac-thuc.html",
        include_str!("../sites/impersonation/xac-thuc.html"),
    ),
    (
        "/tai-app.html",
        include_str!("../sites/impersonation/tai-app.html"),
    ),
];
const JOBS: &[Page] = &[
    ("/", include_str!("../sites/jobs/index.html")),
    (
        "/thread-1.html",
        include_str!("../sites/jobs/thread-1.html"),
    ),
    (
        "/thread-2.html",
        include_str!("../sites/jobs/thread-2.html"),
    ),
    (
        "/thread-3.html",
        include_str!("../sites/jobs/thread-3.html"),
    ),
    (
        "/thread-4.html",
        include_str!("../sites/jobs/thread-4.html"),
    ),
    (
        "/thread-5.html",
        include_str!("../sites/jobs/thread-5.html"),
    ),
    (
        "/thread-6.html",
        include_str!("../sites/jobs/thread-6.html"),
    ),
];
const NEWS: &[Page] = &[
    ("/", include_str!("../sites/news/index.html")),
    ("/bai/1.html", include_str!("../sites/news/bai/1.html")),
    ("/bai/2.html", include_str!("../sites/news/bai/2.html")),
    ("/bai/3.html", include_str!("../sites/news/bai/3.html")),
    ("/bai/4.html", include_str!("../sites/news/bai/4.html")),
    ("/bai/5.html", include_str!("../sites/news/bai/5.html")),
];
/// (channel, newest page, older page)
const TELEGRAM: &[(&str, &str, Option<&str>)] = &[
    (
        "kenhdautu",
        include_str!("../sites/telegram/kenhdautu/page1.html"),
        Some(include_str!("../sites/telegram/kenhdautu/page2.html")),
    ),
    (
        "canhbao",
        include_str!("../sites/telegram/canhbao/page1.html"),
        None,
    ),
    (
        "vieclam",
        include_str!("../sites/telegram/vieclam/page1.html"),
        None,
    ),
];

/// Running sandbox: site name → address.
#[derive(Debug)]
pub struct Sandbox {
    pub sites: BTreeMap<&'static str, SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Sandbox {
    /// Starts every site on its own loopback port.
    pub async fn start() -> std::io::Result<Sandbox> {
        let mut sites = BTreeMap::new();
        let mut tasks = Vec::new();
        let routers: Vec<(&'static str, Router)> = vec![
            ("invest", static_site(INVEST)),
            ("impersonation", static_site(IMPERSONATION)),
            ("jobs", static_site(JOBS)),
            ("news", static_site(NEWS)),
            ("telegram", telegram_site()),
            ("bulk", bulk_site()),
        ];
        for (name, router) in routers {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            sites.insert(name, listener.local_addr()?);
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            }));
        }
        Ok(Sandbox { sites, tasks })
    }

    /// Base URL of a site (`http://127.0.0.1:PORT`).
    pub fn base(&self, site: &str) -> String {
        format!("http://{}", self.sites[site])
    }

    /// The demo's seeds: (source kind, URL).
    pub fn demo_seeds(&self) -> Vec<(&'static str, String)> {
        let mut seeds = vec![
            ("web", format!("{}/", self.base("invest"))),
            ("web", format!("{}/", self.base("impersonation"))),
            ("forum", format!("{}/", self.base("jobs"))),
            ("web", format!("{}/", self.base("news"))),
        ];
        for (channel, _, _) in TELEGRAM {
            seeds.push(("telegram", format!("{}/s/{channel}", self.base("telegram"))));
        }
        seeds
    }
}

fn html(body: &'static str) -> Response {
    let ct = if body.starts_with("User-agent") {
        "text/plain; charset=utf-8"
    } else {
        "text/html; charset=utf-8"
    };
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

fn static_site(pages: &'static [Page]) -> Router {
    let mut r = Router::new();
    for (path, body) in pages {
        r = r.route(path, get(move || async move { html(body) }));
    }
    r
}

fn telegram_site() -> Router {
    async fn channel(
        Path(name): Path<String>,
        Query(q): Query<BTreeMap<String, String>>,
    ) -> Response {
        let Some((_, newest, older)) = TELEGRAM.iter().find(|(c, _, _)| *c == name) else {
            // Telegram sends channels without a public preview elsewhere.
            return Redirect::temporary(&format!("/{name}")).into_response();
        };
        match (q.contains_key("before"), older) {
            (false, _) => html(newest),
            (true, Some(page)) => html(page),
            (true, None) => StatusCode::NOT_FOUND.into_response(),
        }
    }
    Router::new().route("/s/{name}", get(channel))
}

/// Sentences the bulk pages are made of: varied, ordinary classified-ad and forum lines.
const BULK_LINES: &[&str] = &[
    "Cần bán xe máy Vision đời 2022, chính chủ, đi 12 nghìn km, giá thương lượng.",
    "Phòng trọ gần Đại học Bách khoa, có gác lửng, điện nước theo giá nhà nước.",
    "Nhóm chạy bộ cuối tuần ở công viên Thống Nhất, ai rảnh thì tham gia nhé.",
    "Shop mình nhận may đo áo dài, lấy trong ba ngày, có giao tận nhà.",
    "Tuyển nhân viên bán hàng ca chiều tại cửa hàng tiện lợi, lương theo giờ.",
    "Lớp tiếng Anh giao tiếp buổi tối cho người đi làm, học thử miễn phí một buổi.",
    "Nhờ mọi người tư vấn giúp mua máy lọc nước loại nào cho gia đình bốn người.",
    "Thanh lý bàn làm việc gỗ sồi, còn mới, khách tự vận chuyển.",
];

#[derive(Debug, Default)]
struct Lab {
    flaky_hits: AtomicUsize,
}

fn bulk_site() -> Router {
    async fn page(Path(n): Path<u64>) -> Response {
        let a = BULK_LINES[(n % BULK_LINES.len() as u64) as usize];
        let b = BULK_LINES[((n / 3 + 1) % BULK_LINES.len() as u64) as usize];
        let body = format!(
            "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Tin rao số {n}</title></head>\
             <body><article><h1>Tin rao số {n}</h1><p>{a}</p><p>{b}</p><p>Mã tin: {n}</p></article></body></html>"
        );
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    }
    async fn slow() -> Response {
        let stream = futures::stream::unfold(0u32, |i| async move {
            if i >= 600 {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            Some((Ok::<_, std::io::Error>(bytes_of("x")), i + 1))
        });
        (
            [(header::CONTENT_TYPE, "text/html")],
            Body::from_stream(stream),
        )
            .into_response()
    }
    async fn huge() -> Response {
        let chunk = "<p>lặp lại</p>".repeat(4096);
        let stream = futures::stream::iter(
            (0..2000).map(move |_| Ok::<_, std::io::Error>(bytes_of(&chunk))),
        );
        (
            [(header::CONTENT_TYPE, "text/html")],
            Body::from_stream(stream),
        )
            .into_response()
    }
    async fn chain(Path(n): Path<u32>) -> Response {
        if n == 0 {
            return html("<html><body><p>Trang đích sau chuỗi chuyển hướng.</p></body></html>");
        }
        Redirect::temporary(&format!("/redirect/{}", n - 1)).into_response()
    }
    async fn flaky(State(lab): State<Arc<Lab>>) -> Response {
        if lab.flaky_hits.fetch_add(1, Ordering::SeqCst) == 0 {
            return (StatusCode::SERVICE_UNAVAILABLE, "thử lại sau").into_response();
        }
        html("<html><body><p>Lần thứ hai thì được.</p></body></html>")
    }
    Router::new()
        .route("/p/{n}", get(page))
        .route("/slow", get(slow))
        .route("/huge", get(huge))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/redirect/{n}", get(chain))
        .route("/flaky", get(flaky))
        .route("/gone", get(|| async { StatusCode::GONE }))
        .with_state(Arc::new(Lab::default()))
}

fn bytes_of(s: &str) -> axum::body::Bytes {
    axum::body::Bytes::copy_from_slice(s.as_bytes())
}
