//! The crawler: a safe, polite, evidence-keeping HTTP fetcher and the parsers that turn a
//! fetched body into documents.
//!
//! - [`policy`] decides which URLs and addresses may be fetched at all (no credentials, no
//!   private networks unless configured, http/https only) and enforces it at DNS time.
//! - [`fetch`] performs one fetch: redirects followed by hand so every hop is checked and
//!   recorded, bodies capped in size and time, the peer address kept.
//! - [`robots`] interprets robots.txt answers per RFC 9309.
//! - [`extract`] turns a body into items (a web page, or each message of a Telegram channel
//!   preview) plus the links worth following.
//! - [`adapters`] holds one adapter per kind of source (web, Telegram, app listing, APK page,
//!   feed, group page) that [`extract`] dispatches to.
//! - [`scope`] says which discovered links a source's crawl follows.
//! - [`source`] is a source's declared spec: kind, seeds, scope, schedule, selectors.
//! - [`canon`] gives URLs their canonical form and registrable domain.
//!
//! Nothing here touches the database; the queue's handlers store what these return.

pub mod adapters;
pub mod canon;
pub mod extract;
pub mod fetch;
pub mod policy;
pub mod robots;
pub mod scope;
pub mod source;
pub mod warc;

pub use fetch::{BinaryInfo, FetchConfig, FetchError, Fetched, Fetcher, Hop};
pub use policy::UrlPolicy;
