//! Which URLs may be fetched. The crawler follows links written by scammers, so every URL
//! and every redirect hop is checked, and DNS answers are filtered too: a public hostname
//! that resolves to a private address is refused (server-side request forgery).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;

use url::{Host, Url};

/// Longest URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 4096;

/// Fetch policy. `allow_private` admits loopback and private ranges: the sandbox sites and
/// tests listen on 127.0.0.1, production crawlers leave it off.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPolicy {
    pub allow_private: bool,
}

impl UrlPolicy {
    /// Checks a URL before any connection is made; `Err` says why it is refused.
    pub fn check(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme `{}` is not http or https", url.scheme()));
        }
        if url.as_str().len() > MAX_URL_LEN {
            return Err(format!("URL longer than {MAX_URL_LEN} bytes"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("URL carries credentials".into());
        }
        match url.host() {
            None => Err("URL has no host".into()),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(Host::Domain(d)) => {
                let d = d.trim_end_matches('.');
                if !self.allow_private && (d == "localhost" || d.ends_with(".localhost")) {
                    Err(format!("host `{d}` is local"))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks an address a host resolved to.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        if self.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(format!("address {ip} is not public"))
        }
    }
}

/// True for globally routable unicast addresses.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10 carrier-grade NAT
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15 benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

/// A DNS resolver for reqwest that drops addresses the policy refuses, so the check holds
/// for the address actually connected to, not just the name.
#[derive(Debug, Clone, Copy)]
pub struct PolicyResolver {
    pub policy: UrlPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        let fut: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| policy.check_ip(a.ip()).is_ok())
                .collect();
            if allowed.is_empty() {
                let reason = addrs
                    .first()
                    .map(|a| format!("{host} resolves to {} which is not public", a.ip()))
                    .unwrap_or_else(|| format!("{host} has no addresses"));
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    reason,
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        });
        fut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(p: UrlPolicy, u: &str) -> bool {
        p.check(&Url::parse(u).unwrap()).is_err()
    }

    #[test]
    fn production_policy_refuses_private_and_odd_urls() {
        let p = UrlPolicy::default();
        for u in [
            "http://127.0.0.1/",
            "http://10.1.2.3/x",
            "http://192.168.0.1/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost:8080/",
            "http://localhost.:8080/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://user:pw@example.com/",
            "http://[::ffff:10.0.0.1]/",
        ] {
            assert!(refused(p, u), "{u} should be refused");
        }
        assert!(!refused(p, "https://example.com/a?b=c"));
        assert!(!refused(p, "http://8.8.8.8/"));
    }

    #[tokio::test]
    async fn resolver_drops_private_answers() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let strict = PolicyResolver {
            policy: UrlPolicy::default(),
        };
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        assert!(strict.resolve(name).await.is_err());
        let open = PolicyResolver {
            policy: UrlPolicy {
                allow_private: true,
            },
        };
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        assert!(open.resolve(name).await.is_ok());
    }

    #[test]
    fn sandbox_policy_admits_loopback_but_not_credentials() {
        let p = UrlPolicy {
            allow_private: true,
        };
        assert!(!refused(p, "http://127.0.0.1:3000/"));
        assert!(refused(p, "http://a:b@127.0.0.1:3000/"));
        let long = format!("http://127.0.0.1/{}", "a".repeat(MAX_URL_LEN));
        assert!(refused(p, &long));
    }
}
