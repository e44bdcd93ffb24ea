//! `GET /access/jwt`: single sign-on from the host platform.
//!
//! A link that signs in must not silently replace the session of someone
//! else who is signed in on this browser (login CSRF: a planted link would
//! make the victim type into the attacker's account). Then the link only
//! shows [`SwitchAccountPage`], without spending the token; the sign-in
//! happens when the person confirms with a form that carries this
//! browser's CSRF token (`POST /access/jwt`).

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Ctx, Layout, auth::set_cookie, render, safe_return_to, session_cookie};
use crate::{
    AppState,
    error::AppError,
    service::{self, sessions::AuthSession, sso::SsoError},
};

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

/// The token's e-mail belongs to an account the token may not reach.
#[derive(Template)]
#[template(path = "sso_conflict.html")]
pub struct SsoConflictPage {
    layout: Layout,
}

/// Asks before a link signs this browser into another account than the
/// one signed in: names both, posts the link's credential back with the
/// CSRF token to continue, or links back to stay.
#[derive(Template)]
#[template(path = "switch_account.html")]
pub struct SwitchAccountPage {
    layout: Layout,
    current_name: String,
    target_name: String,
    target_email: String,
    /// Where the confirmation posts.
    action: &'static str,
    /// Hidden fields of the confirmation besides the CSRF token.
    fields: Vec<(&'static str, String)>,
    /// Where "stay" leads.
    stay_url: String,
}

/// The account a sign-in link is for, as the confirmation names it.
pub struct SwitchTarget {
    pub name: String,
    pub email: String,
}

/// The confirmation page (200) shown instead of replacing `current`'s
/// session.
pub fn switch_account_page(
    state: &AppState,
    ctx: &Ctx,
    current: &AuthSession,
    target: SwitchTarget,
    action: &'static str,
    fields: Vec<(&'static str, String)>,
    stay_url: &str,
) -> Result<Response, AppError> {
    tracing::info!(user = %current.user.id, "sign-in link for another account: asking first");
    render(&SwitchAccountPage {
        layout: Layout::new(state, ctx),
        current_name: current.user.name.clone(),
        target_name: target.name,
        target_email: target.email,
        action,
        fields,
        stay_url: stay_url.to_owned(),
    })
}

fn return_to(candidate: Option<&str>) -> String {
    candidate
        .and_then(safe_return_to)
        .unwrap_or("/portal")
        .to_owned()
}

/// Verifies the host platform's token, signs the user in with a new session
/// and sends them to `return_to` (a path on this site) or the portal. Any
/// invalid token gets the same 401 page with the seed's advice. A browser
/// signed in as someone else gets [`SwitchAccountPage`] first.
pub async fn sso_login(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<SsoQuery>,
) -> Result<Response, AppError> {
    let return_to = return_to(query.return_to.as_deref());
    let token = query.jwt.unwrap_or_default();
    if let Some(current) = &ctx.session {
        match service::sso::preview(&state, &token).await {
            Ok(target) if target.user != Some(current.user.id) => {
                let target = SwitchTarget {
                    name: target.name,
                    email: target.email,
                };
                let fields = vec![("jwt", token), ("return_to", return_to.clone())];
                return switch_account_page(
                    &state,
                    &ctx,
                    current,
                    target,
                    "/access/jwt",
                    fields,
                    &return_to,
                );
            }
            Ok(_) => {}
            Err(error) => return refused(&state, ctx, error),
        }
    }
    sign_in(&state, ctx, &token, &return_to).await
}

#[derive(Debug, Deserialize)]
pub struct SsoForm {
    #[serde(default)]
    jwt: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /access/jwt`: the confirmation of [`SwitchAccountPage`] (the
/// `context` middleware has checked its CSRF token): signs in as the token
/// says.
pub async fn confirm_sso_login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<SsoForm>,
) -> Result<Response, AppError> {
    let return_to = return_to(Some(&form.return_to));
    sign_in(&state, ctx, &form.jwt, &return_to).await
}

async fn sign_in(
    state: &AppState,
    ctx: Ctx,
    token: &str,
    return_to: &str,
) -> Result<Response, AppError> {
    match service::sso::accept(state, token).await {
        Ok((user, lang)) => {
            if let Some(old) = &ctx.session {
                service::sessions::end(state, old).await?;
            }
            let session = service::sessions::start(state, user).await?;
            tracing::info!(user = %user, lang = lang.code(), "signed in through SSO");
            let mut response = Redirect::to(return_to).into_response();
            set_cookie(&mut response, &session_cookie(state, session.cookie_value));
            Ok(response)
        }
        Err(error) => refused(state, ctx, error),
    }
}

/// The page for a refused token: 409 with a request to contact support when
/// the e-mail belongs to an account the token may not reach (logging in
/// again would not help), else 401 with the seed's advice.
fn refused(state: &AppState, mut ctx: Ctx, error: SsoError) -> Result<Response, AppError> {
    if let SsoError::Store(error) = error {
        return Err(error.into());
    }
    tracing::info!(reason = %error, "SSO token refused");
    ctx.session = None;
    let layout = Layout::new(state, &ctx);
    let (mut response, status) = if matches!(error, SsoError::EmailTaken) {
        (render(&SsoConflictPage { layout })?, StatusCode::CONFLICT)
    } else {
        (render(&SsoErrorPage { layout })?, StatusCode::UNAUTHORIZED)
    };
    *response.status_mut() = status;
    Ok(response)
}
