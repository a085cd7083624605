//! robots.txt interpretation (RFC 9309): a 2xx answer is parsed; 4xx means no rules (allow
//! all); 5xx or no answer means the site is unavailable, so everything is disallowed until
//! the next refresh.

use texting_robots::Robot;

/// The crawler's product token, matched against `User-agent` lines.
pub const AGENT: &str = "scamsweep";

/// Largest robots.txt parsed (RFC 9309 asks for at least 500 KiB).
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// Rules for one host.
pub enum Rules {
    AllowAll,
    DisallowAll,
    Parsed(Box<Robot>),
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rules::AllowAll => f.write_str("AllowAll"),
            Rules::DisallowAll => f.write_str("DisallowAll"),
            Rules::Parsed(_) => f.write_str("Parsed"),
        }
    }
}

impl Rules {
    /// Rules from a robots.txt answer (`status` 0 = no answer at all).
    pub fn from_response(status: u16, body: &[u8]) -> Rules {
        match status {
            200..=299 => {
                let body = &body[..body.len().min(MAX_ROBOTS_BYTES)];
                match Robot::new(AGENT, body) {
                    Ok(r) => Rules::Parsed(Box::new(r)),
                    // Unparseable rules are treated as none, like an empty file.
                    Err(_) => Rules::AllowAll,
                }
            }
            400..=499 => Rules::AllowAll,
            _ => Rules::DisallowAll,
        }
    }

    pub fn allowed(&self, url: &str) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::DisallowAll => false,
            Rules::Parsed(r) => r.allowed(url),
        }
    }

    /// Crawl-delay asked for, in milliseconds.
    pub fn crawl_delay_ms(&self) -> Option<i64> {
        match self {
            Rules::Parsed(r) => r.delay.map(|d| (f64::from(d) * 1000.0) as i64),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_rules_follow_rfc_9309() {
        let body = b"User-agent: *\nDisallow: /admin/\nCrawl-delay: 2\n";
        let r = Rules::from_response(200, body);
        assert!(r.allowed("http://h/index.html"));
        assert!(!r.allowed("http://h/admin/x"));
        assert_eq!(r.crawl_delay_ms(), Some(2000));
        assert!(Rules::from_response(404, b"").allowed("http://h/admin/"));
        assert!(!Rules::from_response(503, b"").allowed("http://h/"));
        assert!(!Rules::from_response(0, b"").allowed("http://h/"));
    }

    #[test]
    fn garbage_robots_is_survivable() {
        let junk: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 256) as u8).collect();
        let r = Rules::from_response(200, &junk);
        let _ = r.allowed("http://h/x");
    }
}
