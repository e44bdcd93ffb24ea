//! How much a request may send, and for how long: every route has a body
//! limit that fits it, enforced while the body is read (never buffered
//! first), and a deadline for the whole body, so a client sending a byte a
//! second lets go of its connection.
//!
//! | requests | body limit | whole body within |
//! |---|---|---|
//! | `GET`, `HEAD`, `OPTIONS` | none allowed | — |
//! | messages with files (portal, agent, widget triage) | files × file size + 1 MiB | `upload_read_timeout_secs` |
//! | administration forms (`/admin/…`: articles, texts) | 2 MiB | `body_read_timeout_secs` |
//! | every other form or JSON request | 128 KiB | `body_read_timeout_secs` |
//!
//! A declared `Content-Length` over the limit is refused before the
//! session is looked up; a body that grows past it while being read fails
//! the reading, and the request answers 413.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    time::Duration,
};

use axum::{
    body::{Body, Bytes, HttpBody as _},
    extract::{MatchedPath, Request},
    http::{Method, header},
};
use futures_util::StreamExt as _;

use crate::{config::Config, error::AppError};

/// A form's or a JSON request's largest body: a message of 20,000
/// characters fits even when every one takes four bytes.
pub const FORM_MAX_BYTES: u64 = 128 * 1024;
/// The largest body of an administration form: a Help Center article of
/// 100,000 characters fits even when percent-encoding makes each six bytes.
pub const ADMIN_FORM_MAX_BYTES: u64 = 2 * 1024 * 1024;
/// What a message with files may carry besides the files: its text fields
/// and the multipart framing.
const UPLOAD_TEXT_BYTES: u64 = 1024 * 1024;

/// The routes that take files (matched paths, `POST`).
const UPLOAD_ROUTES: &[&str] = &[
    "/portal/tickets",
    "/portal/tickets/{id}/replies",
    "/agent/tickets/{id}/comments",
    "/widget/api/triage/{id}/complete",
];

/// What a request may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyRule {
    /// No body at all (reading methods).
    Empty,
    /// Up to this many bytes, within this time.
    Limited { max_bytes: u64, within: Duration },
}

/// The rule for a request to `matched_path` (the route's pattern; the raw
/// path when no route matched).
pub fn body_rule(config: &Config, method: &Method, matched_path: &str) -> BodyRule {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return BodyRule::Empty;
    }
    let form_time = Duration::from_secs(u64::from(config.body_read_timeout_secs));
    if *method == Method::POST && UPLOAD_ROUTES.contains(&matched_path) {
        return BodyRule::Limited {
            max_bytes: upload_max_bytes(config),
            within: Duration::from_secs(u64::from(config.upload_read_timeout_secs)),
        };
    }
    let max_bytes = if matched_path.starts_with("/admin/") {
        ADMIN_FORM_MAX_BYTES
    } else {
        FORM_MAX_BYTES
    };
    BodyRule::Limited {
        max_bytes,
        within: form_time,
    }
}

/// Every allowed file at its largest, plus the text.
pub fn upload_max_bytes(config: &Config) -> u64 {
    config
        .upload_max_file_bytes
        .saturating_mul(u64::from(config.upload_max_files))
        .saturating_add(UPLOAD_TEXT_BYTES)
}

/// What became of a request's body while the handler read it.
#[derive(Debug, Default)]
pub struct BodyWatch(AtomicU8);

const BODY_TOO_LARGE: u8 = 1;
const BODY_TIMED_OUT: u8 = 2;

impl BodyWatch {
    /// The error to answer with when the body broke a rule, whatever the
    /// handler made of its failed read.
    pub fn error(&self) -> Option<AppError> {
        match self.0.load(Ordering::Acquire) {
            BODY_TOO_LARGE => Some(AppError::PayloadTooLarge),
            BODY_TIMED_OUT => Some(AppError::BadRequest(
                "the request body was not sent in time".to_owned(),
            )),
            _ => None,
        }
    }
}

/// Applies the route's rule to `request`: refuses a declared length over the
/// limit at once, and wraps the body so that reading past the limit or past
/// the deadline fails (and is recorded in the returned watch).
pub fn limit_body(
    config: &Config,
    request: Request,
) -> Result<(Request, Arc<BodyWatch>), AppError> {
    let matched = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |m| m.as_str().to_owned(),
    );
    let rule = body_rule(config, request.method(), &matched);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (max_bytes, within) = match rule {
        BodyRule::Empty => (
            0,
            Duration::from_secs(u64::from(config.body_read_timeout_secs)),
        ),
        BodyRule::Limited { max_bytes, within } => (max_bytes, within),
    };
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(AppError::PayloadTooLarge);
    }
    let watch = Arc::new(BodyWatch::default());
    if request.body().size_hint().exact() == Some(0) {
        return Ok((request, watch));
    }
    let (parts, body) = request.into_parts();
    let body = guarded(body, max_bytes, within, Arc::clone(&watch));
    Ok((Request::from_parts(parts, body), watch))
}

/// `body`, failing (and saying why in `watch`) once it passes `max_bytes`
/// or has not ended `within` from now.
fn guarded(body: Body, max_bytes: u64, within: Duration, watch: Arc<BodyWatch>) -> Body {
    struct Reading {
        stream: axum::body::BodyDataStream,
        read: u64,
    }
    let deadline = tokio::time::Instant::now() + within;
    let start = Reading {
        stream: body.into_data_stream(),
        read: 0,
    };
    let stream = futures_util::stream::unfold(Some(start), move |reading| {
        let watch = Arc::clone(&watch);
        async move {
            let mut reading = reading?;
            let fail = |outcome: u8, message: &'static str| {
                watch.0.store(outcome, Ordering::Release);
                Some((Err(std::io::Error::other(message)), None::<Reading>))
            };
            match tokio::time::timeout_at(deadline, reading.stream.next()).await {
                Ok(Some(Ok(chunk))) => {
                    reading.read += chunk.len() as u64;
                    if reading.read > max_bytes {
                        return fail(BODY_TOO_LARGE, "the request body is too large");
                    }
                    Some((Ok::<Bytes, std::io::Error>(chunk), Some(reading)))
                }
                Ok(Some(Err(error))) => Some((Err(std::io::Error::other(error)), None)),
                Ok(None) => None,
                Err(_) => fail(BODY_TIMED_OUT, "the request body was not sent in time"),
            }
        }
    });
    // Fused: a reader may poll again after the end (the CSRF check puts
    // the start of a multipart body back in front of the rest).
    Body::from_stream(stream.fuse())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_route_has_its_limit() {
        let config = Config::default();
        assert_eq!(
            body_rule(&config, &Method::GET, "/portal/tickets"),
            BodyRule::Empty
        );
        let BodyRule::Limited { max_bytes, .. } =
            body_rule(&config, &Method::POST, "/portal/tickets")
        else {
            panic!("an upload route takes a body");
        };
        assert_eq!(max_bytes, 10 * 20 * 1024 * 1024 + 1024 * 1024);
        for path in ["/login", "/widget/session", "/portal/tickets/{id}/confirm"] {
            assert_eq!(
                body_rule(&config, &Method::POST, path),
                BodyRule::Limited {
                    max_bytes: FORM_MAX_BYTES,
                    within: Duration::from_secs(30)
                },
                "{path}"
            );
        }
        assert!(matches!(
            body_rule(&config, &Method::POST, "/admin/hc/articles"),
            BodyRule::Limited {
                max_bytes: ADMIN_FORM_MAX_BYTES,
                ..
            }
        ));
    }
}
