//! `GET /admin`: the sections, a few counts, and what needs attention (mail
//! that cannot leave).

use askama::Template;
use axum::{extract::State, response::Response};

use crate::{
    AppState,
    error::AppError,
    service, store,
    web::{Admin, Layout, render},
};

#[derive(Template)]
#[template(path = "admin/overview.html")]
pub struct OverviewPage {
    layout: Layout,
    section: &'static str,
    organizations: usize,
    customers: i64,
    agents: i64,
    admins: i64,
    questions: usize,
    /// Notifications waiting because SMTP is not configured.
    mail_waiting: Option<i64>,
}

/// `GET /admin`: the administration's front page.
pub async fn show_overview(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
) -> Result<Response, AppError> {
    let organizations = store::admin::list_orgs(&state.db).await?.len();
    let counts = store::admin::user_counts(&state.db).await?;
    let count = |role: &str| {
        counts
            .iter()
            .find(|(r, _)| r == role)
            .map_or(0, |(_, n)| *n)
    };
    let questions = service::admin::triage_questions(&state).await?.len();
    let mail = crate::mail::outbox_status(&state)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mail_waiting = (!mail.smtp_configured).then_some(mail.pending);
    render(&OverviewPage {
        layout: Layout::new(&state, &ctx),
        section: "overview",
        organizations,
        customers: count("customer"),
        agents: count("agent"),
        admins: count("admin"),
        questions,
        mail_waiting,
    })
}
