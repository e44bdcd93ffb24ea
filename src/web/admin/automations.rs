//! Automations: the triage timeout, auto-solve after N business days in
//! *Aguardando Sua Resposta* with a reminder before it, and the reopen
//! window. The settings and their rules belong to `service::automations`;
//! this page only reads and writes them.

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::{field_errors, notice, see_other, unprocessable};
use crate::{
    AppState,
    error::AppError,
    service::automations::{self, AutomationSettings, AutomationsError},
    web::{Admin, Ctx, Layout, render},
};

const NOTICES: [(&str, &str); 1] = [("saved", "admin.done.automations_saved")];

/// The service's message keys, as this page's texts.
fn message_key(key: &'static str) -> &'static str {
    match key {
        "automations.triage_timeout_range" => "admin.automations.triage_timeout_range",
        "automations.business_days_range" => "admin.automations.business_days_range",
        "automations.reminder_before_auto_solve" => "admin.automations.reminder_before_auto_solve",
        "automations.reopen_window_range" => "admin.automations.reopen_window_range",
        other if other.starts_with("admin.") || other.starts_with("form.") => other,
        _ => "admin.errors.bad_number",
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The form as posted: numbers as typed, so a refused value is shown back.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AutomationsForm {
    triage_timeout_minutes: String,
    auto_solve_business_days: String,
    reminder_business_days_before: String,
    reopen_window_days: String,
}

impl AutomationsForm {
    fn from_settings(settings: &AutomationSettings) -> Self {
        Self {
            triage_timeout_minutes: settings.triage_timeout_minutes.to_string(),
            auto_solve_business_days: settings.auto_solve_business_days.to_string(),
            reminder_business_days_before: settings.reminder_business_days_before.to_string(),
            reopen_window_days: settings.reopen_window_days.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/automations.html")]
pub struct AutomationsPage {
    layout: Layout,
    section: &'static str,
    form: AutomationsForm,
    errors: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
}
field_errors!(AutomationsPage);

fn automations_page(
    state: &AppState,
    ctx: &Ctx,
    form: AutomationsForm,
    errors: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    render(&AutomationsPage {
        layout: Layout::new(state, ctx),
        section: "automations",
        form,
        errors,
        notice,
    })
}

/// `GET /admin/automations`: the automations' settings.
pub async fn show_automations(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let settings = automations::load(&state).await?;
    let done = notice(query.done.as_deref(), &NOTICES);
    automations_page(
        &state,
        &ctx,
        AutomationsForm::from_settings(&settings),
        Vec::new(),
        done,
    )
}

/// `POST /admin/automations`: saves them; the jobs use the new values at
/// their next run on every node.
pub async fn update_automations(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<AutomationsForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let mut number = |field: &'static str, value: &str| {
        value.trim().parse::<u32>().unwrap_or_else(|_| {
            errors.push((field, "admin.errors.bad_number"));
            0
        })
    };
    let settings = AutomationSettings {
        triage_timeout_minutes: number("triage_timeout_minutes", &form.triage_timeout_minutes),
        auto_solve_business_days: number(
            "auto_solve_business_days",
            &form.auto_solve_business_days,
        ),
        reminder_business_days_before: number(
            "reminder_business_days_before",
            &form.reminder_business_days_before,
        ),
        reopen_window_days: number("reopen_window_days", &form.reopen_window_days),
    };
    if errors.is_empty() {
        match automations::save(&state, &settings).await {
            Ok(()) => return Ok(see_other("/admin/automations", "saved")),
            Err(AutomationsError::Invalid(refused)) => errors = refused,
            Err(AutomationsError::Store(error)) => return Err(error.into()),
        }
    }
    let errors = errors
        .into_iter()
        .map(|(field, key)| (field, message_key(key)))
        .collect();
    unprocessable(automations_page(&state, &ctx, form, errors, None))
}
