//! The one error type of the HTTP layer, and the policy behind it.
//!
//! - Something a person may not see is `NotFound`: 404, exactly like a
//!   missing thing, never 403, so ids cannot be probed.
//! - `Invalid` carries per-field messages; forms re-render with them.
//! - `Unauthenticated` becomes a redirect to the host platform's login (or
//!   the local one) with `return_to`.
//! - `TooManyRequests` answers 429 with `Retry-After` (whole seconds).
//! - `Internal` is logged once with its cause chain; the client sees a
//!   generic text and the request id, never the cause.
//!
//! Handlers return `AppError`; its `IntoResponse` only tags the response, and
//! `web::render_errors`, which knows the visitor's language, draws the page.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use jiff::SignedDuration;

use crate::{service::limits::retry_after_secs, store::StoreError};

/// What went wrong, as the visitor should learn it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    Unauthenticated,
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("the form expired")]
    Csrf,
    #[error("conflict")]
    Conflict,
    #[error("too many requests")]
    TooManyRequests { retry_after: SignedDuration },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Which error page to draw; set on the response by `AppError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Unauthenticated,
    BadRequest,
    Csrf,
    Conflict,
    TooManyRequests,
    PayloadTooLarge,
    Internal,
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(_) => AppError::Conflict,
            StoreError::Other(e) => AppError::Internal(e),
        }
    }
}

impl AppError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::NotFound => ErrorKind::NotFound,
            AppError::Unauthenticated => ErrorKind::Unauthenticated,
            AppError::BadRequest(_) => ErrorKind::BadRequest,
            AppError::Csrf => ErrorKind::Csrf,
            AppError::Conflict => ErrorKind::Conflict,
            AppError::TooManyRequests { .. } => ErrorKind::TooManyRequests,
            AppError::PayloadTooLarge => ErrorKind::PayloadTooLarge,
            AppError::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Csrf => StatusCode::FORBIDDEN,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The locale key prefix of this page's texts.
    pub fn key(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Csrf => "csrf",
            ErrorKind::Conflict => "conflict",
            ErrorKind::TooManyRequests => "too_many_requests",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::Internal => "internal",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
            }
            AppError::BadRequest(reason) => tracing::info!(reason, "bad request"),
            _ => {}
        }
        let kind = self.kind();
        let mut response = kind.status().into_response();
        if let AppError::TooManyRequests { retry_after } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs(retry_after).into());
        }
        response.extensions_mut().insert(kind);
        response
    }
}
