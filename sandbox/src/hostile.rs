//! The `hostile` site: endpoints that try to hurt or fool a crawler (redirect loops and
//! redirects to private addresses, slowloris, a gzip bomb, an endless stream, wrong and
//! missing charsets, malformed and absurdly deep HTML, a calendar trap, robots.txt, 429 and
//! flapping 5xx), and the trap listener on 127.0.0.2 that counts connections a crawler
//! should never have made. Each endpoint's acceptable fetch outcomes are in [`ENDPOINTS`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::util::{self, to_windows_1258};

/// One hostile endpoint: path, what it does, acceptable recorded fetch outcomes.
pub struct Endpoint {
    pub path: &'static str,
    pub what: &'static str,
    pub outcomes: &'static [&'static str],
}

/// Every hostile endpoint the site's `/` links to.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "/",
        what: "index linking every hostile endpoint",
        outcomes: &["ok"],
    },
    Endpoint {
        path: "/loop/a",
        what: "redirect loop /loop/a → /loop/b → /loop/a",
        outcomes: &["failed"],
    },
    Endpoint {
        path: "/to-private",
        what: "redirect to a private address (http://10.0.0.1/)",
        outcomes: &["refused"],
    },
    Endpoint {
        path: "/to-trap",
        what: "redirect to the trap listener on 127.0.0.2 (must never be connected to)",
        outcomes: &["refused"],
    },
    Endpoint {
        path: "/slowloris",
        what: "headers, then one body byte per second forever",
        outcomes: &["failed"],
    },
    Endpoint {
        path: "/gzip-bomb",
        what: "Content-Encoding: gzip, ~1 MB of compressed zeros inflating to 1 GiB",
        outcomes: &["too_large", "failed"],
    },
    Endpoint {
        path: "/endless",
        what: "chunked HTML stream that never ends",
        outcomes: &["too_large", "failed"],
    },
    Endpoint {
        path: "/wrong-charset",
        what: "header says charset=utf-8, body is Vietnamese in windows-1258",
        outcomes: &["ok"],
    },
    Endpoint {
        path: "/missing-charset",
        what: "Vietnamese in windows-1258 with no charset in header or markup",
        outcomes: &["ok"],
    },
    Endpoint {
        path: "/malformed",
        what: "unclosed tags, bad nesting, stray </div>, NUL bytes",
        outcomes: &["ok"],
    },
    Endpoint {
        path: "/deep",
        what: "5,000 nested <div>s",
        outcomes: &["ok"],
    },
    Endpoint {
        path: "/calendar/2026/11",
        what: "calendar trap: every month links to the previous and next month, forever",
        outcomes: &["ok"],
    },
    Endpoint {
        path: "/private/",
        what: "a page robots.txt disallows",
        outcomes: &["robots_disallowed"],
    },
    Endpoint {
        path: "/busy",
        what: "429 with Retry-After: 2 on the first request, then 200",
        outcomes: &["ok"],
    },
    Endpoint {
        path: "/flap",
        what: "alternates 503 and 200",
        outcomes: &["ok", "http_error"],
    },
    Endpoint {
        path: "/gone",
        what: "410 Gone",
        outcomes: &["not_found"],
    },
];

#[derive(Debug)]
struct Hostile {
    trap: SocketAddr,
    busy_seen: AtomicBool,
    flaps: AtomicUsize,
}

/// The site's router. `trap` is the trap listener's address (`/to-trap` points there).
pub fn router(trap: SocketAddr) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/robots.txt", get(robots))
        .route("/loop/a", get(|| async { Redirect::temporary("/loop/b") }))
        .route("/loop/b", get(|| async { Redirect::temporary("/loop/a") }))
        .route(
            "/to-private",
            get(|| async { Redirect::temporary("http://10.0.0.1/") }),
        )
        .route("/to-trap", get(to_trap))
        .route("/slowloris", get(slowloris))
        .route("/gzip-bomb", get(gzip_bomb))
        .route("/endless", get(endless))
        .route("/wrong-charset", get(wrong_charset))
        .route("/missing-charset", get(missing_charset))
        .route("/malformed", get(malformed))
        .route("/deep", get(deep))
        .route("/calendar/{y}/{m}", get(calendar))
        .route("/private/", get(private))
        .route("/busy", get(busy))
        .route("/flap", get(flap))
        .route("/gone", get(|| async { StatusCode::GONE }))
        .with_state(Arc::new(Hostile {
            trap,
            busy_seen: AtomicBool::new(false),
            flaps: AtomicUsize::new(0),
        }))
}

async fn index() -> Response {
    let mut s = String::from(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>Phòng thử nghiệm crawler</title>\n</head>\n<body>\n\
         <h1>Những trang khó chịu</h1>\n<ul>\n",
    );
    for e in &ENDPOINTS[1..] {
        s.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>\n",
            e.path,
            util::esc(e.what)
        ));
    }
    s.push_str("</ul>\n</body>\n</html>\n");
    util::html(s)
}

async fn robots() -> Response {
    util::typed(
        "text/plain; charset=utf-8",
        "User-agent: *\nDisallow: /private/\n",
    )
}

async fn private() -> Response {
    util::html(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Khu vực riêng</title></head>\
         <body><p>ROBOTS-PRIVATE-MARKER: nếu crawler đọc được dòng này thì robots.txt đã bị bỏ qua.</p></body></html>",
    )
}

async fn to_trap(State(h): State<Arc<Hostile>>) -> Response {
    Redirect::temporary(&format!("http://{}/", h.trap)).into_response()
}

async fn slowloris() -> Response {
    let stream = futures::stream::unfold(0u64, |i| async move {
        if i > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Some((Ok::<_, std::io::Error>(Bytes::from_static(b"<")), i + 1))
    });
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn endless() -> Response {
    let chunk = Bytes::from(
        "<p>Dòng chảy không bao giờ kết thúc – the stream that never ends.</p>\n".repeat(512),
    );
    let stream = futures::stream::unfold(chunk, |chunk| async move {
        tokio::time::sleep(Duration::from_millis(2)).await;
        Some((Ok::<_, std::io::Error>(chunk.clone()), chunk))
    });
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// One MiB: the unit the bomb is built from.
const MIB: usize = 1 << 20;

/// A gzip member whose body inflates to `mib` MiB of zeros, built without compressing them
/// all: after a full flush the deflate state is reset, so each further MiB of zeros
/// compresses to the same bytes, which are repeated.
pub fn build_bomb(mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let zeros = vec![0u8; MIB];
    let mut c = Compress::new(Compression::best(), false);
    let mut body = Vec::new();
    let mut prev: Option<Vec<u8>> = None;
    let mut done = 0;
    // Compress for real until two consecutive blocks agree, then repeat that block.
    while done < mib {
        let b = deflate(&mut c, &zeros, FlushCompress::Full);
        done += 1;
        body.extend_from_slice(&b);
        if prev.as_ref() == Some(&b) {
            for _ in done..mib {
                body.extend_from_slice(&b);
            }
            done = mib;
            break;
        }
        prev = Some(b);
    }
    debug_assert_eq!(done, mib);
    let tail = deflate(
        &mut Compress::new(Compression::best(), false),
        &[],
        FlushCompress::Finish,
    );
    let mut one = Crc::new();
    one.update(&zeros);
    let mut crc = Crc::new();
    for _ in 0..mib {
        crc.combine(&one);
    }
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
    out.extend_from_slice(&body);
    out.extend_from_slice(&tail);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&((mib * MIB) as u32).to_le_bytes());
    out
}

/// Raw deflate of `input` with the given flush, all output collected.
fn deflate(c: &mut flate2::Compress, input: &[u8], flush: flate2::FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut consumed = 0;
    loop {
        if out.len() == out.capacity() {
            out.reserve(64 * 1024);
        }
        let before = c.total_in();
        let status = c
            .compress_vec(&input[consumed..], &mut out, flush)
            .expect("deflate of zeros");
        consumed += (c.total_in() - before) as usize;
        let drained = consumed == input.len() && out.len() < out.capacity();
        if drained || status == flate2::Status::StreamEnd {
            return out;
        }
    }
}

/// Size of the served bomb once inflated.
pub const BOMB_MIB: usize = 1024;

fn bomb() -> Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| Bytes::from(build_bomb(BOMB_MIB)))
        .clone()
}

async fn gzip_bomb() -> Response {
    let body = tokio::task::spawn_blocking(bomb)
        .await
        .unwrap_or_else(|_| Bytes::new());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        body,
    )
        .into_response()
}

/// The Vietnamese page served in windows-1258 by the charset endpoints.
pub const CP1258_TEXT: &str = "Thông báo: Quý khách vui lòng cập nhật thông tin tài khoản \
trước ngày 30 tháng 11. Đây là trang thử nghiệm mã hóa ký tự – nội dung bình thường, \
không phải lừa đảo.";

fn cp1258_page(meta: bool) -> Vec<u8> {
    let head = if meta {
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
    } else {
        "<!doctype html><html lang=\"vi\"><head>"
    };
    let mut s = Vec::new();
    s.extend_from_slice(head.as_bytes());
    s.extend_from_slice(b"<title>");
    s.extend_from_slice(&to_windows_1258("Thông báo mã hóa"));
    s.extend_from_slice(b"</title></head><body><h1>");
    s.extend_from_slice(&to_windows_1258("Thông báo"));
    s.extend_from_slice(b"</h1><p>");
    s.extend_from_slice(&to_windows_1258(CP1258_TEXT));
    s.extend_from_slice(b"</p></body></html>\n");
    s
}

async fn wrong_charset() -> Response {
    // Both the header and a meta tag claim UTF-8; the bytes are windows-1258.
    util::typed("text/html; charset=utf-8", cp1258_page(true))
}

async fn missing_charset() -> Response {
    util::typed("text/html", cp1258_page(false))
}

async fn malformed() -> Response {
    let mut s = Vec::new();
    s.extend_from_slice(
        "<html><head><title>Trang lỗi cú pháp<body><div><p>Đoạn một <b>đậm <i>nghiêng</b> sai lồng</i>\n\
         </div></div></div><table><tr><td>ô một<td>ô hai</table></span>\n<p>Có byte NUL: "
            .as_bytes(),
    );
    s.extend_from_slice(b"A\0B\0\0C");
    s.extend_from_slice(
        " hết.<ul><li>mục một<li>mục hai</ul></ul>\n<a href=\"/\">về trang chính<div><form><form><p>\
         <script>var x = \"</div>\";</script><!-- bình luận không đóng <p>cuối cùng"
            .as_bytes(),
    );
    util::typed("text/html; charset=utf-8", s)
}

/// Nesting depth of `/deep`.
pub const DEEP: usize = 5000;

async fn deep() -> Response {
    let mut s = String::with_capacity(DEEP * 12 + 200);
    s.push_str("<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Lồng sâu</title></head><body>");
    for _ in 0..DEEP {
        s.push_str("<div>");
    }
    s.push_str("Đáy của cái giếng rất sâu.");
    for _ in 0..DEEP {
        s.push_str("</div>");
    }
    s.push_str("</body></html>");
    util::html(s)
}

async fn calendar(Path((y, m)): Path<(String, String)>) -> Response {
    let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<u32>()) else {
        return util::not_found();
    };
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) {
        return util::not_found();
    }
    let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let mut s = format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Lịch sự kiện tháng {m}/{y}</title></head><body>\
         <h1>Lịch sự kiện tháng {m}/{y}</h1><nav><a rel=\"prev\" href=\"/calendar/{py}/{pm}\">« Tháng trước</a> \
         <a rel=\"next\" href=\"/calendar/{ny}/{nm}\">Tháng sau »</a></nav><table class=\"calendar\"><tr>"
    );
    for d in 1..=28 {
        s.push_str(&format!("<td>{d}</td>"));
        if d % 7 == 0 {
            s.push_str("</tr><tr>");
        }
    }
    s.push_str("</tr></table><p>Không có sự kiện nào trong tháng này.</p></body></html>");
    util::html(s)
}

async fn busy(State(h): State<Arc<Hostile>>) -> Response {
    if !h.busy_seen.swap(true, Ordering::SeqCst) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "2")],
            "Quá nhiều yêu cầu, thử lại sau 2 giây.",
        )
            .into_response();
    }
    util::html(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Hết bận</title></head>\
         <body><p>Máy chủ đã rảnh, cảm ơn bạn đã chờ.</p></body></html>",
    )
}

async fn flap(State(h): State<Arc<Hostile>>) -> Response {
    if h.flaps.fetch_add(1, Ordering::SeqCst) % 2 == 0 {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Dịch vụ tạm thời gián đoạn",
        )
            .into_response();
    }
    util::html(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Lúc được lúc không</title></head>\
         <body><p>Lần này thì trang trả lời bình thường.</p></body></html>",
    )
}

/// Accepts connections on the trap listener forever, counting them; each gets a short
/// answer and is closed.
pub async fn run_trap(listener: tokio::net::TcpListener, count: Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            continue;
        };
        count.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            // Read the request first: closing with unread data would reset the connection.
            let mut buf = [0u8; 4096];
            let _ = tokio::time::timeout(Duration::from_secs(1), sock.read(&mut buf)).await;
            let _ = sock
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nconnection: close\r\n\r\nTRAP!",
                )
                .await;
            let _ = sock.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn small_bomb_is_a_valid_gzip_of_zeros() {
        let b = build_bomb(5);
        let mut d = flate2::read::GzDecoder::new(&b[..]);
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 5 * MIB);
        assert!(out.iter().all(|&x| x == 0));
    }

    #[test]
    fn served_bomb_is_small_and_huge() {
        let b = bomb();
        assert!(b.len() < 4 * MIB, "{} bytes compressed", b.len());
        let isize = u32::from_le_bytes(b[b.len() - 4..].try_into().unwrap());
        assert_eq!(isize as usize, BOMB_MIB * MIB);
        // Inflate the first 16 MiB: still zeros, still going.
        let mut d = flate2::read::GzDecoder::new(&b[..]).take(16 * MIB as u64);
        let mut n = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let k = d.read(&mut buf).unwrap();
            if k == 0 {
                break;
            }
            assert!(buf[..k].iter().all(|&x| x == 0));
            n += k;
        }
        assert_eq!(n, 16 * MIB);
    }
}
