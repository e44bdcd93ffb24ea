//! The contact-request queue (`/agent/contact-requests`): customers who
//! asked the team to get back to them, the longest-waiting first. Marking
//! one handled takes a note for the team; the customer sees *Atendida*.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{path_id, ticket, user_tz};
use crate::{
    AppState,
    domain::format_duration,
    error::AppError,
    service::{self, agent::AgentError, sessions::AuthSession},
    web::{Ctx, Layout, Staff, render, timeline},
};

/// An open request as displayed.
pub struct RequestView {
    pub id: i64,
    pub ticket_id: i64,
    pub subject: String,
    pub requester: String,
    pub organization: String,
    pub channel_key: String,
    pub phone: String,
    /// `tel:` wants digits and a leading plus only.
    pub phone_tel: String,
    pub preferred_window: String,
    pub message: String,
    pub age: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "agent/contact_requests.html")]
pub struct ContactRequestsPage {
    layout: Layout,
    requests: Vec<RequestView>,
    /// The note typed for one request, with the message it got.
    failed: Option<(i64, String, &'static str)>,
    notice: Option<&'static str>,
    /// A refusal that cannot go next to its request (it left the queue).
    alert: Option<&'static str>,
}

impl ContactRequestsPage {
    fn note_for(&self, id: i64) -> &str {
        match &self.failed {
            Some((fid, note, _)) if *fid == id => note,
            _ => "",
        }
    }

    fn error_for(&self, id: i64) -> Option<&str> {
        match &self.failed {
            Some((fid, _, key)) if *fid == id => Some(self.layout.t.t(key)),
            _ => None,
        }
    }
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    session: &AuthSession,
    failed: Option<(i64, String, &'static str)>,
    notice: Option<&'static str>,
) -> Result<ContactRequestsPage, AppError> {
    let alert = failed
        .as_ref()
        .map(|(_, _, key)| *key)
        .filter(|key| *key == "agent.contacts.already_handled");
    let lang = ctx.lang;
    let tz = user_tz(state, session);
    let now = state.clock.now();
    let requests = service::agent::contact_requests(state)
        .await?
        .into_iter()
        .map(|r| RequestView {
            id: r.id,
            ticket_id: r.ticket_id,
            subject: r.subject,
            requester: r.requester_name,
            organization: r.organization_name.unwrap_or_default(),
            phone_tel: r
                .phone
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect(),
            channel_key: r.channel,
            phone: r.phone,
            preferred_window: r.preferred_window,
            message: r.message,
            age: format_duration(now.duration_since(r.created_at.0), lang),
            created: timeline::format_datetime(r.created_at.0, &tz, lang),
        })
        .collect();
    Ok(ContactRequestsPage {
        layout: Layout::new(state, ctx),
        requests,
        failed,
        notice,
        alert,
    })
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    done: Option<String>,
}

/// `GET /agent/contact-requests`.
pub async fn list_contact_requests(
    State(state): State<AppState>,
    Staff(ctx, session): Staff,
    axum::extract::Query(query): axum::extract::Query<ListQuery>,
) -> Result<Response, AppError> {
    let notice =
        (query.done.as_deref() == Some("handled")).then_some("agent.notice.contact_handled");
    render(&page(&state, &ctx, &session, None, notice).await?)
}

#[derive(Debug, Deserialize)]
pub struct HandleInput {
    #[serde(default)]
    note: String,
    /// `ticket` when sent from the ticket page, which is where the agent
    /// goes back to.
    #[serde(default)]
    from: String,
}

/// `POST /agent/contact-requests/{id}/handled`: marks the request handled
/// with the agent's note.
pub async fn handle_contact_request(
    State(state): State<AppState>,
    Staff(ctx, session): Staff,
    Path(id): Path<String>,
    Form(input): Form<HandleInput>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let from_ticket = input.from == "ticket";
    match service::agent::handle_contact_request(&state, session.user.id, id, &input.note).await {
        Ok(ticket_id) => {
            let target = if from_ticket {
                format!("/agent/tickets/{ticket_id}?done=contact_handled#contacts")
            } else {
                "/agent/contact-requests?done=handled".to_owned()
            };
            Ok(Redirect::to(&target).into_response())
        }
        Err(AgentError::Invalid(errors)) => {
            let key = errors.first().map_or("form.required", |(_, key)| *key);
            let failed = Some((id, input.note, key));
            if from_ticket
                && let Some(ticket_id) =
                    crate::store::agent::contact_request_ticket(&state.db, id).await?
            {
                let forms = ticket::Forms {
                    contact: failed,
                    ..ticket::Forms::default()
                };
                return ticket::redraw(&state, &ctx, &session, ticket_id, forms).await;
            }
            let mut response = render(&page(&state, &ctx, &session, failed, None).await?)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}
