//! `GET /access/jwt`: single sign-on from the host platform.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Ctx, Layout, auth::set_cookie, render, safe_return_to, session_cookie};
use crate::{AppState, error::AppError, service};

#[derive(Debug, Deserialize)]
pub struct SsoQuery {
    jwt: Option<String>,
    return_to: Option<String>,
}

#[derive(Template)]
#[template(path = "sso_error.html")]
pub struct SsoErrorPage {
    layout: Layout,
}

/// Verifies the host platform's token, signs the user in with a new session
/// and sends them to `return_to` (a path on this site) or the portal. Any
/// invalid token gets the same 401 page with the seed's advice.
pub async fn sso_login(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Query(query): Query<SsoQuery>,
) -> Result<Response, AppError> {
    let return_to = query
        .return_to
        .as_deref()
        .and_then(safe_return_to)
        .unwrap_or("/portal")
        .to_owned();
    let token = query.jwt.unwrap_or_default();
    match service::sso::accept(&state, &token).await {
        Ok((user, lang)) => {
            if let Some(old) = &ctx.session {
                service::sessions::end(&state, old).await?;
            }
            let session = service::sessions::start(&state, user).await?;
            tracing::info!(user = %user, lang = lang.code(), "signed in through SSO");
            let mut response = Redirect::to(&return_to).into_response();
            set_cookie(&mut response, &session_cookie(&state, session.cookie_value));
            Ok(response)
        }
        Err(service::sso::SsoError::Store(error)) => Err(error.into()),
        Err(error) => {
            tracing::info!(reason = %error, "SSO token refused");
            ctx.session = None;
            let mut response = render(&SsoErrorPage {
                layout: Layout::new(&state, &ctx),
            })?;
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(response)
        }
    }
}
