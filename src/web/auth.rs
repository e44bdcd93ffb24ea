//! Local login and logout, and the language choice.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Ctx, LANG_COOKIE, Layout, SESSION_COOKIE, removal_cookie, render, safe_return_to,
    session_cookie,
};
use crate::{
    AppState,
    domain::Lang,
    error::AppError,
    service::{self, accounts::LoginError},
    store,
};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    layout: Layout,
    email: String,
    return_to: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// `GET /login`: the local login form.
pub async fn show_login(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let return_to = query
        .return_to
        .as_deref()
        .and_then(safe_return_to)
        .unwrap_or("/portal");
    if ctx.session.is_some() {
        return Ok(Redirect::to(return_to).into_response());
    }
    render(&LoginPage {
        layout: Layout::new(&state, &ctx),
        email: String::new(),
        return_to: return_to.to_owned(),
        error: None,
    })
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /login`: checks the password and starts a new session.
pub async fn create_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let return_to = safe_return_to(&form.return_to)
        .unwrap_or("/portal")
        .to_owned();
    let layout = Layout::new(&state, &ctx);
    let failure = |status: StatusCode, key: &str| -> Result<Response, AppError> {
        let page = LoginPage {
            error: Some(layout.t.t(key).to_owned()),
            layout: layout.clone(),
            email: form.email.clone(),
            return_to: return_to.clone(),
        };
        let mut response = render(&page)?;
        *response.status_mut() = status;
        Ok(response)
    };
    if form.email.trim().is_empty() || form.password.is_empty() {
        return failure(StatusCode::UNPROCESSABLE_ENTITY, "login.missing_fields");
    }
    match service::accounts::login(&state, &form.email, &form.password, &ctx.client).await {
        Ok(user) => {
            if let Some(old) = &ctx.session {
                service::sessions::end(&state, old).await?;
            }
            let session = service::sessions::start(&state, user).await?;
            tracing::info!(user = %user, "signed in with a password");
            // Without a page to return to, agents start in their workspace.
            let staff = form.return_to.is_empty()
                && store::users::find(&state.db, user)
                    .await?
                    .is_some_and(|u| u.role().is_staff());
            let target = if staff { "/agent" } else { return_to.as_str() };
            let mut response = Redirect::to(target).into_response();
            set_cookie(&mut response, &session_cookie(&state, session.cookie_value));
            Ok(response)
        }
        Err(LoginError::InvalidCredentials) => failure(StatusCode::UNAUTHORIZED, "login.invalid"),
        Err(LoginError::RateLimited { retry_after }) => {
            tracing::warn!(client = %ctx.client, "login rate limit reached");
            let mut response = failure(StatusCode::TOO_MANY_REQUESTS, "login.rate_limited")?;
            response.headers_mut().insert(
                header::RETRY_AFTER,
                service::limits::retry_after_secs(retry_after).into(),
            );
            Ok(response)
        }
        Err(LoginError::Store(e)) => Err(e.into()),
        Err(LoginError::Internal(e)) => Err(AppError::Internal(e)),
    }
}

/// `POST /logout`: ends the session and the user's widget tokens, then goes
/// to the host platform's logout page when one is configured.
pub async fn delete_session(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if let Some(session) = &ctx.session {
        service::sessions::log_out(&state, session).await?;
    }
    let target = state
        .config
        .sso_logout_url
        .clone()
        .unwrap_or_else(|| "/login".to_owned());
    let mut response = Redirect::to(&target).into_response();
    set_cookie(&mut response, &removal_cookie(&state, SESSION_COOKIE));
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /language`: remembers the language (on the account when signed in).
pub async fn update_language(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LanguageForm>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&form.lang)
        .ok_or_else(|| AppError::BadRequest(format!("unknown language {:?}", form.lang)))?;
    if let Some(session) = &ctx.session {
        store::users::set_locale(
            &state.db,
            session.user.id,
            lang.code(),
            &session.user.time_zone,
            state.clock.now(),
        )
        .await?;
    }
    let mut response =
        Redirect::to(safe_return_to(&form.return_to).unwrap_or("/portal")).into_response();
    let mut cookie = removal_cookie(&state, LANG_COOKIE);
    cookie.set_value(lang.code());
    cookie.make_permanent();
    set_cookie(&mut response, &cookie);
    Ok(response)
}

pub(super) fn set_cookie(
    response: &mut Response,
    cookie: &axum_extra::extract::cookie::Cookie<'static>,
) {
    if let Ok(value) = HeaderValue::from_str(&cookie.encoded().to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
