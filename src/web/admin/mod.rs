//! Administration (`/admin`): organizations, users and memberships, triage
//! questions, business hours, automations, branding. Admins only; everyone
//! else gets 404.
//!
//! Every handler takes the [`Admin`](super::Admin) extractor first, so that
//! customers and agents are refused before any path or form is read. Forms
//! post back and redirect with a `done` notice (post/redirect/get); a
//! refused form is drawn again with its values and the messages next to the
//! fields, with status 422, and nothing is written.
//!
//! One route here is public: `/static/brand.css`, the stylesheet that
//! paints the brand colour on every page.

mod automations;
mod branding;
mod hc;
mod hours;
mod orgs;
mod overview;
mod triage;
mod users;

use axum::{
    Router,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::{AppState, error::AppError, service::admin::AdminError};

/// The admin routes, merged into the application router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview::show_overview))
        .route(
            "/admin/organizations",
            get(orgs::list_organizations).post(orgs::create_organization),
        )
        .route(
            "/admin/organizations/{id}",
            get(orgs::show_organization).post(orgs::update_organization),
        )
        .route(
            "/admin/users",
            get(users::list_users).post(users::create_user),
        )
        .route("/admin/users/new", get(users::new_user))
        .route(
            "/admin/users/{id}",
            get(users::show_user).post(users::update_user),
        )
        .route(
            "/admin/users/{id}/memberships",
            post(users::create_membership),
        )
        .route(
            "/admin/users/{id}/memberships/{org}",
            post(users::update_membership),
        )
        .route(
            "/admin/users/{id}/memberships/{org}/delete",
            post(users::delete_membership),
        )
        .route(
            "/admin/users/{id}/groups",
            post(users::create_group_membership),
        )
        .route(
            "/admin/users/{id}/groups/{group}/delete",
            post(users::delete_group_membership),
        )
        .route("/admin/users/{id}/deactivate", post(users::deactivate_user))
        .route("/admin/users/{id}/reactivate", post(users::reactivate_user))
        .route(
            "/admin/triage-questions",
            get(triage::list_triage_questions).post(triage::create_triage_question),
        )
        .route(
            "/admin/triage-questions/{id}",
            get(triage::show_triage_question).post(triage::update_triage_question),
        )
        .route(
            "/admin/triage-questions/{id}/move",
            post(triage::move_triage_question),
        )
        .route(
            "/admin/business-hours",
            get(hours::show_business_hours).post(hours::update_business_hours),
        )
        .route(
            "/admin/business-hours/holidays",
            post(hours::create_holiday),
        )
        .route(
            "/admin/business-hours/holidays/delete",
            post(hours::delete_holiday),
        )
        .route(
            "/admin/business-hours/national-holidays",
            post(hours::create_national_holidays),
        )
        .route(
            "/admin/automations",
            get(automations::show_automations).post(automations::update_automations),
        )
        .route(
            "/admin/branding",
            get(branding::show_branding).post(branding::update_branding),
        )
        .route("/static/brand.css", get(branding::brand_stylesheet))
        .route("/admin/hc", get(hc::list_articles))
        .route("/admin/hc/articles", post(hc::create_article))
        .route("/admin/hc/articles/new", get(hc::new_article))
        .route(
            "/admin/hc/articles/{id}",
            get(hc::show_article).post(hc::update_article),
        )
        .route(
            "/admin/hc/categories",
            get(hc::list_structure).post(hc::create_category),
        )
        .route("/admin/hc/categories/new", get(hc::new_category))
        .route(
            "/admin/hc/categories/{id}",
            get(hc::show_category).post(hc::update_category),
        )
        .route("/admin/hc/sections", post(hc::create_section))
        .route("/admin/hc/sections/new", get(hc::new_section))
        .route(
            "/admin/hc/sections/{id}",
            get(hc::show_section).post(hc::update_section),
        )
}

impl From<AdminError> for AppError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::NotFound => AppError::NotFound,
            AdminError::Invalid(errors) => AppError::BadRequest(format!("{errors:?}")),
            AdminError::Store(e) => e.into(),
            AdminError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// Reads an id from the path; anything else is a page that does not exist.
fn path_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

/// The message key of a `done` notice, when it is one of `known`
/// (pairs of the query value and its message key).
fn notice(done: Option<&str>, known: &[(&str, &'static str)]) -> Option<&'static str> {
    let done = done?;
    known.iter().find(|(k, _)| *k == done).map(|(_, key)| *key)
}

/// Where a successful form goes: back to `path`, with a notice.
fn see_other(path: &str, done: &str) -> Response {
    let separator = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{separator}done={done}")).into_response()
}

/// A page drawn again because of refused input.
fn unprocessable(response: Result<Response, AppError>) -> Result<Response, AppError> {
    let mut response = response?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// The message for `field` among `errors`, in the page's language.
macro_rules! field_errors {
    ($page:ty) => {
        impl $page {
            fn error_for(&self, field: &str) -> Option<&str> {
                self.errors
                    .iter()
                    .find(|(f, _)| *f == field)
                    .map(|(_, key)| self.layout.t.t(key))
            }
        }
    };
}
use field_errors;
