//! A tiny HTTP/1.1 GET client over `tokio::net::TcpStream` for the sandbox tests: no
//! redirects followed, no decompression, bounded in size and time (so hostile endpoints
//! can be probed too).

#![allow(dead_code)]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One response (or as much of it as arrived within the limits).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// De-chunked body when the response was complete and chunked; raw bytes otherwise.
    pub body: Vec<u8>,
    /// True when the server closed the connection (the whole response arrived).
    pub complete: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// GET with generous limits (64 MiB, 20 s); panics if the response does not complete.
pub async fn get(url: &str) -> Resp {
    let r = get_limited(url, 64 << 20, Duration::from_secs(20)).await;
    assert!(r.complete, "incomplete response from {url}");
    r
}

/// GET that stops after `limit` body bytes or `wait`, whichever comes first.
pub async fn get_limited(url: &str, limit: usize, wait: Duration) -> Resp {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut sock = TcpStream::connect(host).await.expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: sandbox-test\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(req.as_bytes()).await.expect("send request");
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + wait;
    let mut complete = false;
    loop {
        let head_end = find(&buf, b"\r\n\r\n");
        if head_end.is_some_and(|h| buf.len() - h - 4 >= limit) {
            break;
        }
        match tokio::time::timeout_at(deadline, sock.read(&mut chunk)).await {
            Ok(Ok(0)) => {
                complete = true;
                break;
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) | Err(_) => break,
        }
    }
    let head_end = find(&buf, b"\r\n\r\n").unwrap_or_else(|| panic!("no headers from {url}"));
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let raw = buf[head_end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked && complete {
        dechunk(&raw)
    } else {
        raw
    };
    Resp {
        status,
        headers,
        body,
        complete,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(raw, b"\r\n") {
        let size_line = String::from_utf8_lossy(&raw[..eol]);
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .expect("chunk size");
        raw = &raw[eol + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
    out
}
