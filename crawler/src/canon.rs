//! URL hygiene: the canonical form under which a URL is queued and deduplicated, the
//! registrable domain (public suffix list, compiled in), and the shape tests that catch
//! crawler traps (repeating path segments, calendar-like endless paths).

use url::Url;

/// Query parameters that only track the visitor and never change the content.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "zarsrc",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "ttclid",
    "twclid",
    "li_fat_id",
    "si",
];

/// Canonical form: the `url` crate already lower-cases scheme and host, applies IDNA
/// (punycode), drops default ports and resolves dot segments; here the fragment and
/// tracking parameters are dropped and the remaining query pairs sorted (stable, so
/// repeated keys keep their order).
pub fn canonicalize(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    if u.query().is_some() {
        let mut kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    u
}

/// The politeness key of a URL: host plus explicit port.
pub fn host_key(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

/// The registrable domain (eTLD+1) of a URL's host by the public suffix list, e.g.
/// `shop.evn-hoantien.com.vn` → `evn-hoantien.com.vn`. IP hosts are their own site.
pub fn registrable_domain(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            psl::domain_str(d)
                .map(str::to_string)
                .or_else(|| Some(d.to_string()))
        }
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(format!("[{ip}]")),
    }
}

/// The URL without its query: the key under which query variants are counted.
pub fn path_key(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// How often the most repeated path segment occurs (`/a/b/a/b/a/b` → 3).
pub fn max_segment_repeats(url: &Url) -> usize {
    let Some(segs) = url.path_segments() else {
        return 0;
    };
    let segs: Vec<&str> = segs.filter(|s| !s.is_empty()).collect();
    segs.iter()
        .map(|s| segs.iter().filter(|t| *t == s).count())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(u: &str) -> String {
        canonicalize(&Url::parse(u).unwrap()).to_string()
    }

    #[test]
    fn strips_fragment_and_trackers_sorts_query() {
        assert_eq!(
            c("HTTP://Example.COM:80/a/../b?id=3&utm_source=fb&fbclid=x#top"),
            "http://example.com/b?id=3"
        );
        assert_eq!(
            c("https://x.vn/s?z=1&a=2&UTM_Medium=q&gclid=9"),
            "https://x.vn/s?a=2&z=1"
        );
        assert_eq!(c("https://x.vn:443/?utm_source=a"), "https://x.vn/");
    }

    #[test]
    fn idna_and_case() {
        assert_eq!(
            c("http://Điện-Lực.VN/Trang"),
            "http://xn--in-lc-4ya7534cyja.vn/Trang"
        );
    }

    #[test]
    fn host_key_keeps_explicit_port() {
        let u = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!(host_key(&u).unwrap(), "127.0.0.1:8080");
    }

    #[test]
    fn registrable_domains() {
        let r = |u: &str| registrable_domain(&Url::parse(u).unwrap()).unwrap();
        assert_eq!(
            r("https://shop.evn-hoantien.com.vn/x"),
            "evn-hoantien.com.vn"
        );
        assert_eq!(r("https://a.b.vinagold-invest.top/"), "vinagold-invest.top");
        assert_eq!(r("https://www.gov.vn/"), "www.gov.vn");
        assert_eq!(r("http://127.0.0.1:9/"), "127.0.0.1");
    }

    #[test]
    fn trap_shapes() {
        let u = Url::parse("http://x.vn/a/b/a/b/a/b/c").unwrap();
        assert_eq!(max_segment_repeats(&u), 3);
        assert_eq!(
            path_key(&Url::parse("http://x.vn/cal?m=1#f").unwrap()),
            "http://x.vn/cal"
        );
    }
}
