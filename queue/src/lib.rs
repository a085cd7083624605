//! The durable pipeline on apalis: job types, the two queue backends behind one [`Queue`],
//! the stage handlers and the worker processes that run them.
//!
//! ```text
//! crawl seeds ─► fetch ─► extract ─► classify ─► triage ─► (flagged: review queue)
//!                  ▲          │
//!                  └──links───┘
//! ```
//!
//! - [`jobs`]: payloads. Each carries only an id of a row the previous stage wrote, so a
//!   job delivered twice (apalis is at-least-once) finds that work already recorded.
//! - [`backend`]: [`Queue`], pushing to and inspecting SQLite or PostgreSQL queues, and the
//!   migrations of both the queue and the pipeline's own schema.
//! - [`pipeline`]: the stage handlers and the shared [`pipeline::Pipeline`] state.
//! - [`workers`]: roles, worker names (`role-host-pid`), retry with exponential backoff and
//!   jitter, graceful shutdown, and the idle detector behind `--once`.
//! - [`metrics`]: Prometheus counters the handlers update.

pub mod backend;
pub mod jobs;
pub mod metrics;
pub mod pipeline;
pub mod sources;
pub mod workers;

pub use backend::{Queue, QueueError, QueueSettings};
