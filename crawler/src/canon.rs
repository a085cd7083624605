//! URL canonicalisation: the form under which a URL is queued and deduplicated.

use url::Url;

/// Query parameters that only track the visitor and never change the content.
const TRACKING_PARAMS: &[&str] = &["fbclid", "gclid", "zarsrc", "igshid", "mc_cid", "mc_eid"];

/// Drops the fragment and tracking parameters. The `url` crate already lower-cases the
/// scheme and host, removes default ports and resolves dot segments.
pub fn canonicalize(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_fragment_and_trackers_keeps_real_params() {
        let u = Url::parse("HTTP://Example.COM:80/a/../b?id=3&utm_source=fb&fbclid=x#top").unwrap();
        assert_eq!(canonicalize(&u).as_str(), "http://example.com/b?id=3");
    }

    #[test]
    fn host_key_keeps_explicit_port() {
        let u = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!(host_key(&u).unwrap(), "127.0.0.1:8080");
    }
}
