//! `/demo/host`: in demo mode only, a small invented product that plays the
//! host platform. It has its own login (a cookie of the platform, not
//! Chamado's session), a dashboard with the real help widget snippet, and
//! the token endpoint the widget asks for a single sign-on token. When
//! Chamado sends a signed-out visitor here with `return_to`, a visitor who
//! is already logged into the platform is forwarded at once through
//! `/access/jwt`, exactly as a real platform integration would.
//!
//! The platform's "session" is the demo user's id in a cookie: anyone may
//! log in as anyone here, which is the point of the demo.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Ctx, Layout, encode_query_value, render, safe_return_to};
use crate::{AppState, domain::UserId, error::AppError, service, store};

/// The platform's own login cookie.
pub const HOST_COOKIE: &str = "demo_host_user";

#[derive(Template)]
#[template(path = "demo_host.html")]
pub struct HostPage {
    layout: Layout,
    /// The person logged into the platform; `None` shows the login.
    user: Option<store::users::User>,
    users: Vec<store::users::User>,
    return_to: String,
    /// The `src` of the widget loader, on Chamado's public URL.
    widget_src: String,
    /// Invented orders for the dashboard: number, customer, total, state key.
    orders: Vec<(&'static str, &'static str, &'static str, &'static str)>,
}

impl HostPage {
    fn t(&self, key: &str) -> String {
        self.layout.t.t(&format!("demo_host.{key}")).to_owned()
    }
}

const ORDERS: [(&str, &str, &str, &str); 5] = [
    ("#48213", "Mercadinho Boa Vista", "R$ 1.284,90", "paid"),
    ("#48212", "Café Aroma Serrano", "R$ 362,00", "shipping"),
    ("#48209", "Empório Rio Claro", "R$ 2.905,45", "waiting"),
    ("#48205", "Quitanda Sol Nascente", "R$ 148,70", "paid"),
    ("#48198", "Doceria Bem Viver", "R$ 731,20", "shipping"),
];

#[derive(Debug, Deserialize)]
pub struct HostQuery {
    return_to: Option<String>,
}

/// The active user the platform's cookie names, if any.
async fn host_user(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<store::users::User>, AppError> {
    let Some(id) = jar
        .get(HOST_COOKIE)
        .and_then(|c| c.value().parse::<i64>().ok())
    else {
        return Ok(None);
    };
    let user = store::users::find(&state.db, UserId(id)).await?;
    Ok(user.filter(|u| u.active))
}

/// A fresh signed token for `user`, as the platform's back end signs it.
async fn sign_for(state: &AppState, user: UserId) -> Result<String, AppError> {
    let secret =
        state.config.sso_secret.as_ref().ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("demo mode without an SSO secret"))
        })?;
    let claims = service::sso::claims_for_user(state, user)
        .await?
        .ok_or(AppError::NotFound)?;
    service::sso::sign(secret.expose_secret(), &claims).map_err(|e| AppError::Internal(e.into()))
}

/// The way into Chamado with a fresh token: `/access/jwt`.
async fn forward(state: &AppState, user: UserId, return_to: &str) -> Result<Response, AppError> {
    let token = sign_for(state, user).await?;
    Ok(Redirect::to(&format!(
        "/access/jwt?jwt={}&return_to={}",
        encode_query_value(&token),
        encode_query_value(return_to)
    ))
    .into_response())
}

fn host_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((HOST_COOKIE, value))
        .path("/demo/host")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.https())
        .build()
}

/// `GET /demo/host`: the platform's login (one button per demo user) or,
/// once logged in, its dashboard with the help widget. With `return_to`
/// (Chamado sent a signed-out visitor to log in) a logged-in visitor goes
/// straight back through `/access/jwt`.
pub async fn show_host(
    State(state): State<AppState>,
    ctx: Ctx,
    jar: CookieJar,
    Query(query): Query<HostQuery>,
) -> Result<Response, AppError> {
    let return_to = query
        .return_to
        .as_deref()
        .and_then(safe_return_to)
        .map(str::to_owned);
    let user = host_user(&state, &jar).await?;
    if let (Some(user), Some(return_to)) = (&user, &return_to) {
        return forward(&state, user.id, return_to).await;
    }
    let users = if user.is_none() {
        store::users::list_active(&state.db, 50).await?
    } else {
        Vec::new()
    };
    render(&HostPage {
        layout: Layout::new(&state, &ctx),
        user,
        users,
        return_to: return_to.unwrap_or_default(),
        widget_src: format!("{}/widget.js", state.config.origin()),
        orders: ORDERS.to_vec(),
    })
}

#[derive(Debug, Deserialize)]
pub struct HostLoginForm {
    user_id: i64,
    #[serde(default)]
    return_to: String,
}

/// `POST /demo/host/login`: logs into the platform; then, when Chamado sent
/// the visitor here (`return_to`), signs a token for them, as the platform's
/// back end would, and sends the browser to `/access/jwt`; otherwise shows
/// the dashboard.
pub async fn host_login(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<HostLoginForm>,
) -> Result<Response, AppError> {
    let user = store::users::find(&state.db, UserId(form.user_id))
        .await?
        .filter(|u| u.active)
        .ok_or(AppError::NotFound)?;
    let next = match safe_return_to(&form.return_to) {
        Some(return_to) => forward(&state, user.id, return_to).await?,
        None => Redirect::to("/demo/host").into_response(),
    };
    let jar = jar.add(host_cookie(&state, user.id.0.to_string()));
    Ok((jar, next).into_response())
}

/// `GET` or `POST /demo/host/logout`: logs out of the platform (Chamado's
/// logout ends here too, as it would on the platform's logout page).
pub async fn host_logout(State(state): State<AppState>, jar: CookieJar) -> Response {
    let jar = jar.remove(host_cookie(&state, String::new()));
    (jar, Redirect::to("/demo/host")).into_response()
}

/// `GET /demo/host/token`: what the widget's `data-token-url` points at: a
/// fresh single sign-on token for the person logged into the platform, as
/// text; 401 when nobody is.
pub async fn host_token(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let Some(user) = host_user(&state, &jar).await? else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, "no-store")],
            "not logged into the platform",
        )
            .into_response());
    };
    let token = sign_for(&state, user.id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        token,
    )
        .into_response())
}

/// `GET /demo/host/host.css`: the invented platform's own look.
pub async fn host_stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../static/demo-host.css"),
    )
        .into_response()
}
