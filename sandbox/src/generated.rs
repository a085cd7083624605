//! The `bulk` site: a deterministic generated site of N pages `/p/<n>` (benign pseudo-text
//! seeded by `n`, each page linking to `2n+1`, `2n+2` and a few others, so every page is
//! reachable from `/p/0`) for load tests and benchmarks, plus the crawler-test endpoints
//! that predate the `hostile` site (`/slow`, `/huge`, `/loop`, `/redirect/{n}`, `/flaky`,
//! `/gone`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::util::{self, Rng, esc};

/// Words the pages are made of: everyday Vietnamese and some English, no scam cues.
const WORDS: &[&str] = &[
    "nhà",
    "phố",
    "chợ",
    "xe",
    "máy",
    "đạp",
    "phòng",
    "trọ",
    "bếp",
    "cửa",
    "sổ",
    "vườn",
    "cây",
    "hoa",
    "lúa",
    "sông",
    "biển",
    "núi",
    "trường",
    "lớp",
    "học",
    "sinh",
    "viên",
    "thầy",
    "cô",
    "bạn",
    "gia",
    "đình",
    "con",
    "mẹ",
    "bố",
    "ông",
    "bà",
    "anh",
    "chị",
    "em",
    "hàng",
    "xóm",
    "sáng",
    "trưa",
    "chiều",
    "tối",
    "mưa",
    "nắng",
    "gió",
    "mát",
    "lạnh",
    "nóng",
    "ngon",
    "đẹp",
    "mới",
    "cũ",
    "rộng",
    "hẹp",
    "gần",
    "xa",
    "nhanh",
    "chậm",
    "sạch",
    "yên",
    "tĩnh",
    "vui",
    "buồn",
    "đi",
    "về",
    "ăn",
    "uống",
    "ngủ",
    "đọc",
    "viết",
    "nấu",
    "giặt",
    "sửa",
    "bán",
    "mua",
    "thuê",
    "cho",
    "tặng",
    "gửi",
    "nhận",
    "hỏi",
    "đáp",
    "xem",
    "nghe",
    "chạy",
    "bộ",
    "bơi",
    "cà",
    "phê",
    "trà",
    "sữa",
    "bánh",
    "mì",
    "phở",
    "bún",
    "cơm",
    "rau",
    "cá",
    "thịt",
    "gà",
    "trứng",
    "quả",
    "cam",
    "chuối",
    "xoài",
    "sách",
    "báo",
    "vở",
    "bút",
    "bàn",
    "ghế",
    "tủ",
    "giường",
    "đèn",
    "quạt",
    "tivi",
    "điện",
    "thoại",
    "máy",
    "tính",
    "mạng",
    "wifi",
    "giờ",
    "ngày",
    "tuần",
    "tháng",
    "năm",
    "lễ",
    "tết",
    "du",
    "lịch",
    "công",
    "viên",
    "thư",
    "viện",
    "bệnh",
    "siêu",
    "thị",
    "bến",
    "ga",
    "sân",
    "bay",
    "đường",
    "ngõ",
    "hẻm",
    "quận",
    "phường",
    "thôn",
    "xã",
    "tỉnh",
    "thành",
    "và",
    "với",
    "của",
    "là",
    "có",
    "không",
    "rất",
    "hơi",
    "khá",
    "cũng",
    "đã",
    "đang",
    "sẽ",
    "vẫn",
    "còn",
    "nữa",
    "nhé",
    "nha",
    "ạ",
    "the",
    "city",
    "park",
    "school",
    "market",
    "weekend",
    "coffee",
    "garden",
    "river",
    "bike",
    "street",
    "family",
    "friends",
    "morning",
    "evening",
    "music",
    "book",
    "class",
    "photo",
    "walk",
];

/// Title of page `n`.
pub fn title(n: u64) -> String {
    let mut rng = Rng::new(n ^ 0x7469_746c_6500_0000);
    let len = rng.range(4, 8);
    let words: Vec<&str> = (0..len)
        .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
        .collect();
    format!("{} – tin số {n}", capitalize(&words.join(" ")))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Paragraphs of page `n` (150–400 words in all).
pub fn paragraphs(n: u64) -> Vec<String> {
    let mut rng = Rng::new(n);
    let total = rng.range(150, 400);
    let mut paras = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let mut written = 0;
    while written < total {
        let len = rng.range(8, 20).min(total - written);
        let words: Vec<&str> = (0..len)
            .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
            .collect();
        written += len;
        para.push(format!("{}.", capitalize(&words.join(" "))));
        if para.len() as u64 >= rng.range(3, 6) || written >= total {
            paras.push(para.join(" "));
            para.clear();
        }
    }
    paras
}

/// Pages `n` links to (all below `pages`): `2n+1`, `2n+2`, then three more.
pub fn links(n: u64, pages: u64) -> Vec<u64> {
    let mut out: Vec<u64> = [2 * n + 1, 2 * n + 2]
        .into_iter()
        .filter(|k| *k < pages)
        .collect();
    let mut rng = Rng::new(n.wrapping_mul(31).wrapping_add(17));
    for _ in 0..3 {
        let k = rng.below(pages.max(1));
        if k != n && !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// The full HTML of page `n`.
pub fn page_html(n: u64, pages: u64) -> String {
    let t = title(n);
    let mut s = format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n</head>\n\
         <body>\n<header><a href=\"/p/0\">Rao vặt cộng đồng</a></header>\n<article>\n<h1>{t}</h1>\n",
        t = esc(&t)
    );
    for p in paragraphs(n) {
        s.push_str(&format!("<p>{}</p>\n", esc(&p)));
    }
    s.push_str(&format!(
        "<p class=\"meta\">Mã tin: {n}</p>\n</article>\n<ul class=\"related\">\n"
    ));
    for k in links(n, pages) {
        s.push_str(&format!(
            "<li><a href=\"/p/{k}\">{}</a></li>\n",
            esc(&title(k))
        ));
    }
    s.push_str("</ul>\n</body>\n</html>\n");
    s
}

#[derive(Debug)]
struct Bulk {
    pages: u64,
    flaky_hits: AtomicUsize,
}

/// The `bulk` site with `pages` generated pages.
pub fn router(pages: usize) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { util::html("<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Rao vặt cộng đồng</title></head><body><a href=\"/p/0\">Tin mới nhất</a></body></html>") }),
        )
        .route("/p/{n}", get(page))
        .route("/slow", get(slow))
        .route("/huge", get(huge))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/redirect/{n}", get(chain))
        .route("/flaky", get(flaky))
        .route("/gone", get(|| async { StatusCode::GONE }))
        .with_state(Arc::new(Bulk {
            pages: pages as u64,
            flaky_hits: AtomicUsize::new(0),
        }))
}

async fn page(State(b): State<Arc<Bulk>>, Path(n): Path<String>) -> Response {
    match n.parse::<u64>() {
        Ok(n) if n < b.pages => util::html(page_html(n, b.pages)),
        _ => util::not_found(),
    }
}

async fn slow() -> Response {
    let stream = futures::stream::unfold(0u32, |i| async move {
        if i >= 600 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        Some((Ok::<_, std::io::Error>(Bytes::from_static(b"x")), i + 1))
    });
    (
        [(header::CONTENT_TYPE, "text/html")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn huge() -> Response {
    let chunk = Bytes::from("<p>lặp lại</p>".repeat(4096));
    let stream =
        futures::stream::iter((0..2000).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    (
        [(header::CONTENT_TYPE, "text/html")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn chain(Path(n): Path<u32>) -> Response {
    if n == 0 {
        return util::html("<html><body><p>Trang đích sau chuỗi chuyển hướng.</p></body></html>");
    }
    Redirect::temporary(&format!("/redirect/{}", n - 1)).into_response()
}

async fn flaky(State(b): State<Arc<Bulk>>) -> Response {
    if b.flaky_hits.fetch_add(1, Ordering::SeqCst) == 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "thử lại sau").into_response();
    }
    util::html("<html><body><p>Lần thứ hai thì được.</p></body></html>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn pages_are_deterministic_and_sized() {
        for n in [0, 1, 7, 499, 99_999] {
            assert_eq!(page_html(n, 100_000), page_html(n, 100_000));
            let words: usize = paragraphs(n)
                .iter()
                .map(|p| p.split_whitespace().count())
                .sum();
            assert!((150..=400).contains(&words), "page {n}: {words} words");
        }
        assert_ne!(page_html(1, 500), page_html(2, 500));
    }

    #[test]
    fn every_page_is_reachable_from_zero() {
        let pages = 500;
        let mut seen = BTreeSet::from([0u64]);
        let mut todo = vec![0u64];
        while let Some(n) = todo.pop() {
            for k in links(n, pages) {
                assert!(k < pages);
                if seen.insert(k) {
                    todo.push(k);
                }
            }
        }
        assert_eq!(seen.len(), pages as usize);
        assert!(links(3, pages).len() >= 4);
    }
}
