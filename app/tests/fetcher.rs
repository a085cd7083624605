//! The fetcher against hostile loopback endpoints: slow drip, oversized body, redirect
//! loop, long redirect chain, gone pages, and refused destinations.

use std::time::Duration;

use scamsweep_crawler::{FetchConfig, FetchError, Fetcher, UrlPolicy};
use scamsweep_sandbox::Sandbox;
use url::Url;

fn fetcher(timeout: Duration, max_body: usize) -> Fetcher {
    Fetcher::new(FetchConfig {
        total_timeout: timeout,
        max_body_bytes: max_body,
        max_redirects: 5,
        policy: UrlPolicy::allowing(["127.0.0.1/32".parse().unwrap()]),
        ..FetchConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn hostile_endpoints_end_in_clear_errors() {
    let sb = Sandbox::start().await.unwrap();
    let base = sb.base("bulk");
    let u = |p: &str| Url::parse(&format!("{base}{p}")).unwrap();
    let f = fetcher(Duration::from_secs(2), 1024 * 1024);

    let slow = f.fetch(&u("/slow")).await.unwrap_err();
    assert!(matches!(slow, FetchError::Timeout(_)), "{slow}");
    assert!(slow.is_transient());

    let huge = f.fetch(&u("/huge")).await.unwrap_err();
    assert!(matches!(huge, FetchError::TooLarge { .. }), "{huge}");
    assert!(!huge.is_transient());

    let looped = f.fetch(&u("/loop")).await.unwrap_err();
    assert!(
        matches!(looped, FetchError::RedirectLoop { .. }),
        "{looped}"
    );

    let too_many = f.fetch(&u("/redirect/9")).await.unwrap_err();
    assert!(
        matches!(too_many, FetchError::TooManyRedirects { .. }),
        "{too_many}"
    );

    let chain = f.fetch(&u("/redirect/3")).await.unwrap();
    assert_eq!(chain.status, 200);
    assert_eq!(chain.redirect_chain.len(), 3);
    assert_eq!(chain.redirect_chain[0].status, 307);
    assert!(chain.final_url.as_str().ends_with("/redirect/0"));
    assert_eq!(
        chain.remote_ip.map(|ip| ip.to_string()).as_deref(),
        Some("127.0.0.1")
    );

    let gone = f.fetch(&u("/gone")).await.unwrap();
    assert_eq!(gone.status, 410);
}

#[tokio::test]
async fn production_policy_refuses_loopback_even_through_dns() {
    let sb = Sandbox::start().await.unwrap();
    let f = Fetcher::new(FetchConfig::default()).unwrap();
    let direct = Url::parse(&format!("{}/p/1", sb.base("bulk"))).unwrap();
    assert!(matches!(
        f.fetch(&direct).await,
        Err(FetchError::Refused { .. })
    ));
    // A spelling of localhost is refused too (the resolver's own check is unit-tested).
    let port = sb.sites["bulk"].port();
    let by_name = Url::parse(&format!("http://localhost.:{port}/p/1")).unwrap();
    let err = f.fetch(&by_name).await.unwrap_err();
    assert!(matches!(err, FetchError::Refused { .. }), "{err}");
}
