//! The `scamsweep` binary's library: command line ([`cli`]), configuration ([`config`]),
//! wiring of store, queue, workers and HTTP into processes ([`app`]), the demo on the
//! sandbox sites ([`demo`]) and the queue benchmark ([`bench`]).

pub mod app;
pub mod bench;
pub mod bench_classify;
pub mod classify;
pub mod cli;
pub mod config;
pub mod demo;
pub mod evidence;
pub mod procstat;
pub mod sources;
