//! Browser end-to-end tests: headless Chromium, driven over `WebDriver` by
//! chromedriver, against a real `chamado demo` server. Built only with the
//! `e2e` feature; see "Tests and CI" in the README.

// The harness offers steps (upload, raw WebDriver calls, …) for the tests to
// come, not only for the ones here.
#[allow(dead_code, reason = "helpers for upcoming tests")]
mod flows;
#[allow(dead_code, reason = "helpers for upcoming tests")]
mod support;
#[allow(dead_code, reason = "helpers for upcoming tests")]
mod webdriver;

mod accessibility;
mod agent_flow;
mod help_center;
mod local_login;
mod portal_walk;
mod security_headers;
mod sso;
mod widget;
