//! Which URLs and addresses may be fetched (the SSRF guard). The crawler follows links
//! written by scammers and URLs sent in by citizens, so every URL and every redirect hop is
//! checked, and so is every address a name resolves to: the resolver hands reqwest only the
//! addresses it checked, so the connection goes to a checked address (no DNS rebinding
//! between check and connect), and the peer address is checked once more after connecting.
//!
//! Refused unless an allow-list entry covers them: loopback, private (RFC 1918), link-local
//! (incl. 169.254.169.254 metadata), CGNAT 100.64/10, multicast, broadcast, documentation,
//! benchmarking and reserved IPv4 ranges; IPv6 loopback, unspecified, unique-local fc00::/7,
//! link-local, site-local, multicast, documentation, discard, and the IPv4-embedding forms
//! (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) whose
//! embedded IPv4 address is judged instead. Numeric host forms (decimal `2130706433`, octal
//! `0177.0.0.1`, hex) are normalised by the URL parser before the check.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use ipnet::IpNet;
use url::{Host, Url};

/// Longest URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 4096;

/// Fetch policy: the allow-list of otherwise refused networks and static name overrides.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    /// Networks admitted although not public (e.g. `127.0.0.1/32` for the sandbox).
    pub allow_networks: Arc<Vec<IpNet>>,
    /// Static name → address answers used instead of DNS (like /etc/hosts); the answers
    /// are checked like any other.
    pub hosts: Arc<BTreeMap<String, Vec<IpAddr>>>,
}

/// Why a URL or address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

impl UrlPolicy {
    /// A policy that admits the given networks.
    pub fn allowing(nets: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            allow_networks: Arc::new(nets.into_iter().collect()),
            hosts: Arc::default(),
        }
    }

    /// Adds static name answers.
    pub fn with_hosts(mut self, hosts: BTreeMap<String, Vec<IpAddr>>) -> Self {
        self.hosts = Arc::new(
            hosts
                .into_iter()
                .map(|(k, v)| (k.trim_end_matches('.').to_ascii_lowercase(), v))
                .collect(),
        );
        self
    }

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
                if let Some(addrs) = self.hosts.get(d) {
                    for ip in addrs {
                        self.check_ip(*ip)
                            .map_err(|why| format!("{d} resolves to {ip}: {why}"))?;
                    }
                    return Ok(());
                }
                let local = d == "localhost" || d.ends_with(".localhost");
                if local && self.check_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)).is_err() {
                    Err(format!("host `{d}` is local"))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks an address a host resolved to (or the peer of a connection).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        if let Some(why) = non_public_reason(ip)
            && !self.allow_networks.iter().any(|n| n.contains(&ip))
        {
            return Err(format!("address {ip} is {why}"));
        }
        Ok(())
    }
}

/// True for globally routable unicast addresses.
pub fn is_public(ip: IpAddr) -> bool {
    non_public_reason(ip).is_none()
}

/// Why an address is not globally routable unicast, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(match o {
                [0, ..] => "in 0.0.0.0/8 (this network)",
                [10, ..] => "private (10.0.0.0/8)",
                [127, ..] => "loopback (127.0.0.0/8)",
                [169, 254, ..] => "link-local (169.254.0.0/16, cloud metadata)",
                [172, b, ..] if (16..32).contains(&b) => "private (172.16.0.0/12)",
                [192, 168, ..] => "private (192.168.0.0/16)",
                [100, b, ..] if (64..128).contains(&b) => "carrier-grade NAT (100.64.0.0/10)",
                [192, 0, 0, _] => "IETF protocol assignments (192.0.0.0/24)",
                [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
                [192, 88, 99, _] => "6to4 relay anycast (192.88.99.0/24)",
                [198, 18 | 19, ..] => "benchmarking (198.18.0.0/15)",
                [224..=239, ..] => "multicast",
                [255, 255, 255, 255] => "broadcast",
                [240..=255, ..] => "reserved (240.0.0.0/4)",
                _ => return None,
            })
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return non_public_reason(IpAddr::V4(v4))
                    .map(|_| "an IPv6 form of a non-public IPv4 address");
            }
            let s = v6.segments();
            Some(if v6.is_loopback() {
                "loopback (::1)"
            } else if v6.is_unspecified() {
                "unspecified (::)"
            } else if v6.is_multicast() {
                "multicast (ff00::/8)"
            } else if (s[0] & 0xfe00) == 0xfc00 {
                "unique-local (fc00::/7)"
            } else if (s[0] & 0xffc0) == 0xfe80 {
                "link-local (fe80::/10)"
            } else if (s[0] & 0xffc0) == 0xfec0 {
                "site-local (fec0::/10)"
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                "documentation (2001:db8::/32)"
            } else if s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0 {
                "discard-only (100::/64)"
            } else if s[0] & 0xe000 != 0x2000 {
                "outside global unicast (2000::/3)"
            } else {
                return None;
            })
        }
    }
}

/// The IPv4 address an IPv6 address carries, for the forms that route to it.
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    let v4 = |a: usize| Ipv4Addr::new(o[a], o[a + 1], o[a + 2], o[a + 3]);
    if let Some(m) = v6.to_ipv4_mapped() {
        return Some(m); // ::ffff:a.b.c.d
    }
    if s[..6] == [0; 6] && !(v6.is_loopback() || v6.is_unspecified()) {
        return Some(v4(12)); // ::a.b.c.d (IPv4-compatible, deprecated)
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return Some(v4(12)); // NAT64 well-known prefix
    }
    if s[0] == 0x2002 {
        return Some(v4(2)); // 6to4
    }
    if s[0] == 0x2001 && s[1] == 0 {
        // Teredo: the client address is the last 32 bits, inverted.
        let c = v4(12).octets();
        return Some(Ipv4Addr::new(!c[0], !c[1], !c[2], !c[3]));
    }
    None
}

/// A DNS resolver for reqwest that drops addresses the policy refuses, so the check holds
/// for the address actually connected to, not just the name.
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    pub policy: UrlPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let fut: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(async move {
            let addrs: Vec<SocketAddr> = match policy.hosts.get(&host) {
                Some(fixed) => fixed.iter().map(|ip| SocketAddr::new(*ip, 0)).collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let mut allowed = Vec::new();
            let mut first_refusal = None;
            for a in &addrs {
                match policy.check_ip(a.ip()) {
                    Ok(()) => allowed.push(*a),
                    Err(why) => {
                        first_refusal.get_or_insert(why);
                    }
                }
            }
            if allowed.is_empty() {
                let reason = match first_refusal {
                    Some(why) => format!("{host} resolves to a refused address: {why}"),
                    None => format!("{host} has no addresses"),
                };
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

    fn refused(p: &UrlPolicy, u: &str) -> bool {
        p.check(&Url::parse(u).unwrap()).is_err()
    }

    #[test]
    fn production_policy_refuses_private_reserved_and_odd_urls() {
        let p = UrlPolicy::default();
        for u in [
            "http://127.0.0.1/",
            "http://10.1.2.3/x",
            "http://172.16.0.1/",
            "http://172.31.255.254/",
            "http://192.168.0.1/",
            "http://100.64.0.1/",
            "http://100.127.255.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://240.0.0.1/",
            "http://198.18.0.1/",
            "http://[::1]/",
            "http://[::]/",
            "http://[fd00::1]/",
            "http://[fc00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::10.0.0.1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[2002:a00:1::]/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://167772161/",
            "http://0xa9fea9fe/",
            "http://localhost:8080/",
            "http://localhost.:8080/",
            "http://a.localhost/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://user:pw@example.com/",
        ] {
            assert!(refused(&p, u), "{u} should be refused");
        }
        for u in [
            "https://example.com/a?b=c",
            "http://8.8.8.8/",
            "http://100.128.0.1/",
            "http://172.32.0.1/",
            "http://[2606:4700::1111]/",
            "http://[::ffff:8.8.8.8]/",
        ] {
            assert!(!refused(&p, u), "{u} should be admitted");
        }
    }

    #[test]
    fn refusal_names_the_range() {
        let p = UrlPolicy::default();
        let why = p
            .check(&Url::parse("http://169.254.169.254/").unwrap())
            .unwrap_err();
        assert!(why.contains("link-local"), "{why}");
        let why = p
            .check(&Url::parse("http://[fd12::1]/").unwrap())
            .unwrap_err();
        assert!(why.contains("unique-local"), "{why}");
    }

    #[test]
    fn allow_list_admits_only_what_it_names() {
        let p = UrlPolicy::allowing(["127.0.0.1/32".parse().unwrap()]);
        assert!(!refused(&p, "http://127.0.0.1:3000/"));
        assert!(refused(&p, "http://127.0.0.2:3000/"));
        assert!(refused(&p, "http://10.0.0.1/"));
        assert!(refused(&p, "http://[::1]/"));
        assert!(refused(&p, "http://a:b@127.0.0.1:3000/"));
        let long = format!("http://127.0.0.1/{}", "a".repeat(MAX_URL_LEN));
        assert!(refused(&p, &long));
    }

    #[test]
    fn static_hosts_are_checked_like_dns_answers() {
        let hosts = BTreeMap::from([
            (
                "evil.example".to_string(),
                vec!["10.9.8.7".parse().unwrap()],
            ),
            ("ok.example".to_string(), vec!["8.8.4.4".parse().unwrap()]),
        ]);
        let p = UrlPolicy::default().with_hosts(hosts);
        let why = p
            .check(&Url::parse("http://evil.example/x").unwrap())
            .unwrap_err();
        assert!(why.contains("10.9.8.7"), "{why}");
        assert!(!refused(&p, "http://ok.example/"));
    }

    #[tokio::test]
    async fn resolver_drops_refused_answers() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let strict = PolicyResolver {
            policy: UrlPolicy::default(),
        };
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        assert!(strict.resolve(name).await.is_err());
        let open = PolicyResolver {
            policy: UrlPolicy::allowing([
                "127.0.0.0/8".parse().unwrap(),
                "::1/128".parse().unwrap(),
            ]),
        };
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        assert!(open.resolve(name).await.is_ok());
        let pinned = PolicyResolver {
            policy: UrlPolicy::allowing(["127.0.0.1/32".parse().unwrap()]).with_hosts(
                BTreeMap::from([(
                    "rebind.example".to_string(),
                    vec!["127.0.0.2".parse().unwrap()],
                )]),
            ),
        };
        let name = reqwest::dns::Name::from_str("rebind.example").unwrap();
        let err = pinned.resolve(name).await.err().unwrap().to_string();
        assert!(err.contains("127.0.0.2"), "{err}");
    }
}
