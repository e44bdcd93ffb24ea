//! The integration test binary: one module per area, sharing `support`.
#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "tests fail loudly by design"
)]

mod admin;
mod agent;
mod auth;
mod authz;
mod bench_data;
mod cli;
mod counts;
mod crash;
mod demo;
mod events;
mod group_commit;
mod hc;
mod health;
mod jobs;
mod limits;
mod mail;
mod node_cache;
mod portal;
mod portal_pages;
mod realtime;
mod smtp_sink;
mod sso;
mod storage;
mod support;
mod ticket_search;
mod widget;
mod widget_frame;
