//! The agent workspace (`/agent`): queues, the ticket page with internal
//! notes, status changes, assignment, escalation to Tech, and the contact
//! request queue. Agents and admins only; everyone else gets 404.
//!
//! Every handler takes the `Staff` extractor first, so a customer gets the
//! same 404 page as for a missing address (and an anonymous visitor the
//! login redirect) before anything about the request is read. Handlers
//! parse, call one `service::agent` function and render.

mod contacts;
mod live;
mod queues;
mod ticket;

use axum::{
    Router,
    routing::{get, post},
};
use jiff::tz::TimeZone;

use crate::{
    AppState,
    error::AppError,
    service::{agent::AgentError, sessions::AuthSession},
};

/// The workspace's routes, merged into the application router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/agent", get(queues::list_tickets))
        .route("/agent/live", get(live::stream_events))
        .route("/static/live.js", get(live::script))
        .route("/agent/tickets/{id}", get(ticket::show_ticket))
        .route("/agent/tickets/{id}/comments", post(ticket::create_comment))
        .route(
            "/agent/tickets/{id}/status",
            post(ticket::update_ticket_status),
        )
        .route(
            "/agent/tickets/{id}/assignment",
            post(ticket::update_assignment),
        )
        .route(
            "/agent/tickets/{id}/escalation",
            post(ticket::create_escalation),
        )
        .route(
            "/agent/tickets/{id}/attachments/{attachment}",
            get(ticket::download_attachment),
        )
        .route(
            "/agent/contact-requests",
            get(contacts::list_contact_requests),
        )
        .route(
            "/agent/contact-requests/{id}/handled",
            post(contacts::handle_contact_request),
        )
}

/// Rows per page of a queue.
const PAGE_SIZE: i64 = 25;

impl From<AgentError> for AppError {
    fn from(error: AgentError) -> Self {
        match error {
            AgentError::NotFound => AppError::NotFound,
            AgentError::Conflict => AppError::Conflict,
            AgentError::Invalid(_) => AppError::BadRequest(error.to_string()),
            AgentError::Store(e) => e.into(),
            AgentError::Blob(e) => AppError::Internal(e.0),
        }
    }
}

fn user_tz(state: &AppState, session: &AuthSession) -> TimeZone {
    TimeZone::get(&session.user.time_zone).unwrap_or_else(|_| state.config.time_zone())
}

/// An id from the path; anything else is a missing page, not a 400.
fn path_id(raw: &str) -> Result<i64, AppError> {
    raw.trim_start_matches('#')
        .parse()
        .map_err(|_| AppError::NotFound)
}

/// A form's `version` field. A missing or garbled one cannot match any
/// ticket version (they start at 1), so it reads as a stale form.
fn form_version(value: &str) -> i64 {
    value.trim().parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbled_versions_never_match() {
        assert_eq!(form_version(" 3 "), 3);
        assert_eq!(form_version(""), 0);
        assert_eq!(form_version("x"), 0);
    }
}
