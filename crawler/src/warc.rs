//! A small WARC/1.1 writer (ISO 28500:2017) for evidence bundles: `warcinfo`, `request` and
//! `response` records with SHA-256 block and payload digests.
//!
//! Framing follows the spec exactly: `WARC/1.1` CRLF, named fields each ending in CRLF, an
//! empty line, the content block of `Content-Length` octets, then two CRLFs. Digests are
//! written as `sha256:` + RFC 4648 base32 *with* padding (56 characters), which is what
//! independent readers (warcio's `check_digests`, for one) recompute and compare.
//!
//! Record ids are `<urn:uuid:…>` values derived from SHA-256 of a caller-chosen seed, the
//! record type, target URI, date and content block, so the same evidence always yields the
//! same ids (version nibble 8, "custom", per RFC 9562) without a random source.
//!
//! Nothing here touches the network or the database; callers hand in what was recorded.

use std::io::{self, Write};

use sha2::{Digest, Sha256};
use url::Url;

/// The version line every record starts with.
pub const WARC_VERSION: &str = "WARC/1.1";

/// `Content-Type` of a `request` record holding an HTTP request.
pub const CT_HTTP_REQUEST: &str = "application/http;msgtype=request";
/// `Content-Type` of a `response` record holding an HTTP response.
pub const CT_HTTP_RESPONSE: &str = "application/http;msgtype=response";
/// `Content-Type` of a `warcinfo` record.
pub const CT_WARC_FIELDS: &str = "application/warc-fields";

const B32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 (upper case, `=` padding to a multiple of 8 characters).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        // Characters carrying data for 1..=5 input bytes: 2, 4, 5, 7, 8.
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                let idx = ((n >> (35 - 5 * i)) & 0x1f) as usize;
                out.push(char::from(B32_ALPHABET[idx]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `sha256:<base32>` digest of `bytes`, as written in `WARC-Block-Digest` and
/// `WARC-Payload-Digest`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", base32(&Sha256::digest(bytes)))
}

/// A deterministic `<urn:uuid:…>` id from SHA-256 of `parts` (each length-prefixed, so no
/// two different part lists collide by concatenation).
pub fn record_id(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8: custom (RFC 9562)
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10
    let x =
        |r: std::ops::Range<usize>| -> String { b[r].iter().map(|v| format!("{v:02x}")).collect() };
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        x(0..4),
        x(4..6),
        x(6..8),
        x(8..10),
        x(10..16)
    )
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn utc_parts(unix_ms: i64) -> (i64, u32, u32, i64, i64, i64, i64) {
    let secs = unix_ms.div_euclid(1000);
    let millis = unix_ms.rem_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    (y, mo, d, sod / 3600, (sod / 60) % 60, sod % 60, millis)
}

/// `WARC-Date` form: UTC, second precision, `YYYY-MM-DDThh:mm:ssZ`.
pub fn warc_date(unix_ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = utc_parts(unix_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// RFC 3339 UTC with millisecond precision: `YYYY-MM-DDThh:mm:ss.sssZ`.
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let (y, mo, d, h, mi, s, ms) = utc_parts(unix_ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// A header value safe to put on one line: CR and LF become spaces.
fn one_line(v: &str) -> String {
    v.replace(['\r', '\n'], " ")
}

/// The canonical reason phrase of an HTTP status (empty when unknown; the status line is
/// still well formed: `HTTP/1.1 299 `).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        410 => "Gone",
        429 => "Too Many Requests",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// The request target of `url` as sent on the request line: path plus `?query`.
pub fn request_target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The `Host` header value for `url` (port only when not the scheme's default).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// An HTTP/1.1 `GET` request block for `url` with `Host` and `User-Agent`.
pub fn http_get_block(url: &Url, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\n\r\n",
        one_line(&request_target(url)),
        one_line(&host_header(url)),
        one_line(user_agent)
    )
    .into_bytes()
}

/// An HTTP/1.1 response block: status line, `headers` in order, empty line, `body`.
/// Returns the block and the offset where the payload (the body) starts.
pub fn http_response_block(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> (Vec<u8>, usize) {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    for (k, v) in headers {
        head.push_str(&one_line(k));
        head.push_str(": ");
        head.push_str(&one_line(v));
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let offset = head.len();
    let mut block = head.into_bytes();
    block.extend_from_slice(body);
    (block, offset)
}

/// Headers for a response whose body is stored *decoded*: `Content-Encoding`,
/// `Transfer-Encoding` and `Content-Length` are dropped (they described the bytes on the
/// wire, not these) and `Content-Length` is set to `body_len`.
pub fn headers_for_decoded_body(
    stored: &[(String, String)],
    body_len: usize,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = stored
        .iter()
        .filter(|(k, _)| {
            !["content-encoding", "transfer-encoding", "content-length"]
                .iter()
                .any(|d| k.eq_ignore_ascii_case(d))
        })
        .cloned()
        .collect();
    out.push(("Content-Length".into(), body_len.to_string()));
    out
}

/// One WARC record, ready to serialize.
#[derive(Debug, Clone)]
pub struct Record {
    pub warc_type: String,
    /// `<urn:uuid:…>`.
    pub id: String,
    /// `WARC-Date` value.
    pub date: String,
    /// Further named fields, in order (target URI, IP address, concurrency, content type…).
    pub fields: Vec<(String, String)>,
    pub block: Vec<u8>,
    /// Where the payload starts inside `block`, for records that have one
    /// (`WARC-Payload-Digest` is written only then).
    pub payload_offset: Option<usize>,
}

impl Record {
    /// A record of `warc_type` whose id derives from `seed` (unique per record within the
    /// caller's evidence, e.g. `fetch:12:response`) and its content.
    pub fn new(
        seed: &str,
        warc_type: &str,
        date_ms: i64,
        target_uri: Option<&str>,
        content_type: &str,
        block: Vec<u8>,
        payload_offset: Option<usize>,
    ) -> Record {
        let date = warc_date(date_ms);
        let id = record_id(&[
            seed.as_bytes(),
            warc_type.as_bytes(),
            date.as_bytes(),
            target_uri.unwrap_or_default().as_bytes(),
            &block,
        ]);
        let mut fields = Vec::new();
        if let Some(t) = target_uri {
            fields.push(("WARC-Target-URI".to_string(), t.to_string()));
        }
        fields.push(("Content-Type".to_string(), content_type.to_string()));
        Record {
            warc_type: warc_type.to_string(),
            id,
            date,
            fields,
            block,
            payload_offset,
        }
    }

    /// A `warcinfo` record: `fields` as `application/warc-fields` (`name: value` lines).
    pub fn warcinfo(seed: &str, date_ms: i64, filename: &str, fields: &[(&str, &str)]) -> Record {
        let mut block = String::new();
        for (k, v) in fields {
            block.push_str(&one_line(k));
            block.push_str(": ");
            block.push_str(&one_line(v));
            block.push_str("\r\n");
        }
        Record::new(
            seed,
            "warcinfo",
            date_ms,
            None,
            CT_WARC_FIELDS,
            block.into_bytes(),
            None,
        )
        .with_field("WARC-Filename", filename)
    }

    /// A `request` record holding a reconstructed `GET` of `url`.
    pub fn request(seed: &str, date_ms: i64, url: &Url, user_agent: &str) -> Record {
        Record::new(
            seed,
            "request",
            date_ms,
            Some(url.as_str()),
            CT_HTTP_REQUEST,
            http_get_block(url, user_agent),
            None,
        )
    }

    /// A `response` record holding `HTTP/1.1 status`, `headers` and `body`.
    pub fn response(
        seed: &str,
        date_ms: i64,
        url: &str,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Record {
        let (block, offset) = http_response_block(status, headers, body);
        Record::new(
            seed,
            "response",
            date_ms,
            Some(url),
            CT_HTTP_RESPONSE,
            block,
            Some(offset),
        )
    }

    /// Adds a named field (written after the standard ones, before the digests).
    pub fn with_field(mut self, name: &str, value: &str) -> Record {
        self.fields.push((name.to_string(), value.to_string()));
        self
    }

    /// The payload (the HTTP entity body), when this record has one.
    pub fn payload(&self) -> Option<&[u8]> {
        self.payload_offset
            .map(|o| &self.block[o.min(self.block.len())..])
    }

    /// `WARC-Block-Digest` value.
    pub fn block_digest(&self) -> String {
        sha256_digest(&self.block)
    }

    /// `WARC-Payload-Digest` value, when the record has a payload.
    pub fn payload_digest(&self) -> Option<String> {
        self.payload().map(sha256_digest)
    }

    /// The header section: version line, fields, the blank line.
    pub fn header_bytes(&self) -> Vec<u8> {
        let mut h = String::new();
        h.push_str(WARC_VERSION);
        h.push_str("\r\n");
        let mut field = |k: &str, v: &str| {
            h.push_str(k);
            h.push_str(": ");
            h.push_str(&one_line(v));
            h.push_str("\r\n");
        };
        field("WARC-Type", &self.warc_type);
        field("WARC-Record-ID", &self.id);
        field("WARC-Date", &self.date);
        for (k, v) in &self.fields {
            field(k, v);
        }
        field("WARC-Block-Digest", &self.block_digest());
        if let Some(p) = self.payload_digest() {
            field("WARC-Payload-Digest", &p);
        }
        field("Content-Length", &self.block.len().to_string());
        h.push_str("\r\n");
        h.into_bytes()
    }

    /// The whole record: header section, block, and the two closing CRLFs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.header_bytes();
        out.extend_from_slice(&self.block);
        out.extend_from_slice(b"\r\n\r\n");
        out
    }
}

/// Writes records, one after another, to `W` (uncompressed), keeping the SHA-256 and size
/// of everything written so the file's own hash needs no second read.
#[derive(Debug)]
pub struct WarcWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
    records: usize,
}

/// What [`WarcWriter::finish`] hands back.
#[derive(Debug)]
pub struct Written<W> {
    pub inner: W,
    /// Hex SHA-256 of every byte written.
    pub sha256: String,
    pub bytes: u64,
    pub records: usize,
}

impl<W: Write> WarcWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            records: 0,
        }
    }

    fn put(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)?;
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        Ok(())
    }

    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        self.put(&record.header_bytes())?;
        self.put(&record.block)?;
        self.put(b"\r\n\r\n")?;
        self.records += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Flushes and hands back the writer with the hash and size of what it wrote.
    pub fn finish(mut self) -> io::Result<Written<W>> {
        self.inner.flush()?;
        Ok(Written {
            inner: self.inner,
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
            records: self.records,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warc_base32_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ] {
            assert_eq!(base32(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn warc_sha256_digest_is_padded_base32() {
        // sha256("") = e3b0c442…b855; base32 per Python's base64.b32encode.
        assert_eq!(
            sha256_digest(b""),
            "sha256:4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ===="
        );
        assert_eq!(sha256_digest(b"abc").len(), "sha256:".len() + 56);
    }

    #[test]
    fn warc_dates_are_utc() {
        assert_eq!(warc_date(0), "1970-01-01T00:00:00Z");
        // 2024-02-29T23:59:59.999Z: leap day, milliseconds truncated in WARC-Date.
        assert_eq!(warc_date(1_709_251_199_999), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339_ms(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn warc_record_ids_are_deterministic_uuids() {
        let a = record_id(&[b"fetch:1:request", b"x"]);
        assert_eq!(a, record_id(&[b"fetch:1:request", b"x"]));
        assert_ne!(a, record_id(&[b"fetch:2:request", b"x"]));
        // Length prefixes: ["ab","c"] and ["a","bc"] differ.
        assert_ne!(record_id(&[b"ab", b"c"]), record_id(&[b"a", b"bc"]));
        let inner = a
            .strip_prefix("<urn:uuid:")
            .unwrap()
            .strip_suffix('>')
            .unwrap();
        let groups: Vec<&str> = inner.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('8'), "{inner}");
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(inner.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn warc_request_block_has_path_query_host_and_agent() {
        let url = Url::parse("http://127.0.0.1:8080/a/b?x=1&y=2#frag").unwrap();
        let block = String::from_utf8(http_get_block(&url, "scamsweep/0.1.0")).unwrap();
        assert_eq!(
            block,
            "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: scamsweep/0.1.0\r\n\r\n"
        );
        let url = Url::parse("https://example.org/").unwrap();
        assert_eq!(host_header(&url), "example.org");
    }

    #[test]
    fn warc_decoded_body_headers_drop_wire_encodings() {
        let stored = vec![
            ("content-type".to_string(), "text/html".to_string()),
            ("Content-Encoding".to_string(), "gzip".to_string()),
            ("transfer-encoding".to_string(), "chunked".to_string()),
            ("content-length".to_string(), "12".to_string()),
            ("server".to_string(), "x".to_string()),
        ];
        assert_eq!(
            headers_for_decoded_body(&stored, 345),
            vec![
                ("content-type".to_string(), "text/html".to_string()),
                ("server".to_string(), "x".to_string()),
                ("Content-Length".to_string(), "345".to_string()),
            ]
        );
    }

    #[test]
    fn warc_response_record_layout_digests_and_crlf_framing() {
        let body = b"<p>xin chao</p>";
        let headers = headers_for_decoded_body(
            &[("content-type".into(), "text/html; charset=utf-8".into())],
            body.len(),
        );
        let rec = Record::response(
            "fetch:7:response",
            1_709_251_199_999,
            "http://127.0.0.1:8080/p",
            200,
            &headers,
            body,
        )
        .with_field("WARC-IP-Address", "127.0.0.1");
        let bytes = rec.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap();
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert_eq!(lines[0], "WARC/1.1");
        assert_eq!(lines[1], "WARC-Type: response");
        assert!(lines[2].starts_with("WARC-Record-ID: <urn:uuid:"));
        assert_eq!(lines[3], "WARC-Date: 2024-02-29T23:59:59Z");
        assert_eq!(lines[4], "WARC-Target-URI: http://127.0.0.1:8080/p");
        assert_eq!(lines[5], "Content-Type: application/http;msgtype=response");
        assert_eq!(lines[6], "WARC-IP-Address: 127.0.0.1");
        let http = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n<p>xin chao</p>",
            body.len()
        );
        assert_eq!(
            lines[7],
            format!("WARC-Block-Digest: {}", sha256_digest(http.as_bytes()))
        );
        assert_eq!(
            lines[8],
            format!("WARC-Payload-Digest: {}", sha256_digest(body))
        );
        assert_eq!(lines[9], format!("Content-Length: {}", http.len()));
        assert_eq!(lines.len(), 10);
        // No bare LF anywhere in the header section.
        assert!(!head.replace("\r\n", "").contains('\n'));
        // Block of exactly Content-Length octets, then CRLF CRLF, nothing more.
        assert_eq!(rest, format!("{http}\r\n\r\n"));
        assert_eq!(rec.payload(), Some(&body[..]));

        // Writing through the writer gives the same bytes.
        let mut w = WarcWriter::new(Vec::new());
        w.write(&rec).unwrap();
        assert_eq!(w.records(), 1);
        let done = w.finish().unwrap();
        assert_eq!(done.inner, bytes);
        assert_eq!(done.bytes, bytes.len() as u64);
        assert_eq!(done.records, 1);
        assert_eq!(done.sha256, hex::encode(Sha256::digest(&bytes)));
    }

    #[test]
    fn warc_request_and_warcinfo_have_block_digest_only() {
        let url = Url::parse("http://h.test/").unwrap();
        let req = Record::request("fetch:1:request", 0, &url, "ua");
        let head = String::from_utf8(req.header_bytes()).unwrap();
        assert!(head.contains("Content-Type: application/http;msgtype=request\r\n"));
        assert!(head.contains("WARC-Target-URI: http://h.test/\r\n"));
        assert!(head.contains(&format!(
            "WARC-Block-Digest: {}\r\n",
            sha256_digest(&req.block)
        )));
        assert!(!head.contains("WARC-Payload-Digest"));

        let info = Record::warcinfo(
            "info",
            0,
            "evidence.warc",
            &[
                ("software", "scamsweep/0.1.0"),
                ("format", "WARC File Format 1.1"),
            ],
        );
        let text = String::from_utf8(info.to_bytes()).unwrap();
        assert!(text.starts_with("WARC/1.1\r\nWARC-Type: warcinfo\r\n"));
        assert!(
            text.contains(
                "Content-Type: application/warc-fields\r\nWARC-Filename: evidence.warc\r\n"
            )
        );
        assert!(!text.contains("WARC-Target-URI"));
        assert!(text.ends_with(
            "\r\n\r\nsoftware: scamsweep/0.1.0\r\nformat: WARC File Format 1.1\r\n\r\n\r\n"
        ));
    }

    #[test]
    fn warc_redirect_hop_has_empty_payload_and_no_line_injection() {
        let rec = Record::response(
            "fetch:1:hop:0",
            0,
            "http://h.test/a",
            302,
            &[("Location".into(), "http://h.test/b\r\nX-Evil: 1".into())],
            b"",
        );
        let text = String::from_utf8(rec.block.clone()).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 302 Found\r\nLocation: http://h.test/b  X-Evil: 1\r\n\r\n"
        );
        assert_eq!(rec.payload_digest().unwrap(), sha256_digest(b""));
    }
}
