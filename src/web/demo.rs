//! `/demo/host`: in demo mode only, a small page that plays the host
//! platform. Pick a demo user, "log in", and be signed into Chamado through
//! the real `/access/jwt` flow, exactly as a platform integration would.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Ctx, Layout, encode_query_value, render, safe_return_to};
use crate::{AppState, domain::UserId, error::AppError, service, store};

#[derive(Template)]
#[template(path = "demo_host.html")]
pub struct HostPage {
    layout: Layout,
    users: Vec<store::users::User>,
    return_to: String,
}

#[derive(Debug, Deserialize)]
pub struct HostQuery {
    return_to: Option<String>,
}

/// `GET /demo/host`: the demo users, each with a "log in" button.
pub async fn show_host(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<HostQuery>,
) -> Result<Response, AppError> {
    let users = store::users::list_active(&state.db, 50).await?;
    render(&HostPage {
        layout: Layout::new(&state, &ctx),
        users,
        return_to: query
            .return_to
            .as_deref()
            .and_then(safe_return_to)
            .unwrap_or("/portal")
            .to_owned(),
    })
}

#[derive(Debug, Deserialize)]
pub struct HostLoginForm {
    user_id: i64,
    #[serde(default)]
    return_to: String,
}

/// `POST /demo/host/login`: signs a token for the chosen user with the SSO
/// secret, as the platform's back end would, and sends the browser to
/// `/access/jwt`.
pub async fn host_login(
    State(state): State<AppState>,
    Form(form): Form<HostLoginForm>,
) -> Result<Response, AppError> {
    let secret =
        state.config.sso_secret.as_ref().ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("demo mode without an SSO secret"))
        })?;
    let claims = service::sso::claims_for_user(&state, UserId(form.user_id))
        .await?
        .ok_or(AppError::NotFound)?;
    let token = service::sso::sign(secret.expose_secret(), &claims)
        .map_err(|e| AppError::Internal(e.into()))?;
    let return_to = safe_return_to(&form.return_to).unwrap_or("/portal");
    Ok(Redirect::to(&format!(
        "/access/jwt?jwt={}&return_to={}",
        encode_query_value(&token),
        encode_query_value(return_to)
    ))
    .into_response())
}
