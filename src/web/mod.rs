//! HTTP: routes, the per-request context (session, CSRF token, language),
//! security headers and error pages. Handlers stay thin: parse, call one
//! `service` function, render.

pub mod admin;
pub mod agent;
pub mod auth;
pub mod demo;
pub mod hc;
pub mod health;
pub mod limits;
pub mod markdown;
pub mod portal;
pub mod sso;
pub mod timeline;
pub mod uploads;
pub mod widget;
pub mod widget_frame;

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header, request::Parts},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{
    AppState,
    domain::Lang,
    error::{AppError, ErrorKind},
    i18n::Tr,
    service::{random_hex, sessions::AuthSession},
};

/// On a response: the request wrote only tickets and what hangs from them
/// (comments, files, events), so the node's cached sign-ins and settings
/// (`service::node_cache`) stay valid. Without it, every write request has
/// them read again.
#[derive(Clone, Copy, Debug)]
pub struct CachedRowsKept;

/// `response` marked with [`CachedRowsKept`].
pub fn keeping_cached_rows(mut response: Response) -> Response {
    response.extensions_mut().insert(CachedRowsKept);
    response
}

/// After a write request: live views and counts learn of it at once, and
/// cached rows are read again unless the handler said they were untouched.
fn wake_after(state: &AppState, response: &Response) {
    if response.extensions().get::<CachedRowsKept>().is_some() {
        state.hub.wake_keeping_cached_rows();
    } else {
        state.hub.wake();
    }
}

pub const SESSION_COOKIE: &str = "chamado_session";
pub const CSRF_COOKIE: &str = "chamado_csrf";
pub const LANG_COOKIE: &str = "chamado_lang";
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Scripts only from our own origin, no inline code, no framing: user text
/// that slipped through escaping still could not run.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The application's router with every layer.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/", get(|| async { Redirect::to("/portal") }))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/login", get(auth::show_login).post(auth::create_session))
        .route("/logout", post(auth::delete_session))
        .route("/language", post(auth::update_language))
        .route(
            "/access/jwt",
            get(sso::sso_login).post(sso::confirm_sso_login),
        )
        .route("/portal", get(|| async { Redirect::to("/portal/tickets") }))
        .route("/portal/account", get(portal::show_profile))
        .route(
            "/portal/tickets",
            get(portal::list_tickets).post(portal::create_ticket),
        )
        .route("/portal/tickets/new", get(portal::new_ticket))
        .route("/portal/tickets/{id}", get(portal::show_ticket))
        .route("/portal/tickets/{id}/replies", post(portal::create_reply))
        .route(
            "/portal/tickets/{id}/confirm",
            post(portal::confirm_solution),
        )
        .route(
            "/portal/tickets/{id}/contact-requests",
            post(portal::create_contact_request),
        )
        .route(
            "/portal/tickets/{id}/attachments/{attachment}",
            get(portal::download_attachment),
        )
        .route("/static/app.css", get(stylesheet));
    router = router
        .merge(agent::routes())
        .merge(admin::routes())
        .merge(hc::routes());
    router = router.merge(widget_frame::routes());
    router = router.merge(widget::routes());
    if state.demo_mode {
        router = router
            .route("/demo/host", get(demo::show_host))
            .route("/demo/host/login", post(demo::host_login))
            .route(
                "/demo/host/logout",
                get(demo::host_logout).post(demo::host_logout),
            )
            .route("/demo/host/token", get(demo::host_token))
            .route("/demo/host/host.css", get(demo::host_stylesheet));
    }
    // Each route's own limit is enforced by `limits` as its body is read;
    // the extractors' limit only needs to let the largest through.
    let upload_limit =
        usize::try_from(limits::upload_max_bytes(&state.config)).unwrap_or(usize::MAX);
    if state.config.https() {
        // Browsers that once reached Chamado over https never try plain
        // http again for a year.
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    router
        .fallback(|| async { AppError::NotFound })
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(middleware::from_fn_with_state(state.clone(), context))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // `X-Frame-Options: DENY`, except on the widget's frame.
        .layer(middleware::map_response(widget_frame::deny_framing))
        .layer(
            // Only method and path are logged: query strings carry SSO tokens.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

/// What every handler knows about the visitor.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub session: Option<AuthSession>,
    /// The token forms must send back: the session's, or for visitors
    /// without a session the one in the CSRF cookie.
    pub csrf: String,
    pub lang: Lang,
    /// The client address, for rate limits.
    pub client: String,
    /// Path and query of this request, to come back to after a language switch.
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<Ctx>>()
            .map(|ctx| Ctx::clone(ctx))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("request context missing")))
    }
}

/// A signed-in visitor; handlers that take it answer anonymous visitors with
/// a redirect to the login.
#[derive(Clone, Debug)]
pub struct SignedIn(pub Ctx, pub AuthSession);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let session = ctx.session.clone().ok_or(AppError::Unauthenticated)?;
        Ok(SignedIn(ctx, session))
    }
}

/// An agent or admin. Anyone else (anonymous visitors included, once signed
/// in) gets 404: the workspace does not exist for customers.
#[derive(Clone, Debug)]
pub struct Staff(pub Ctx, pub AuthSession);

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let SignedIn(ctx, session) = SignedIn::from_request_parts(parts, state).await?;
        if session.user.role().is_staff() {
            Ok(Staff(ctx, session))
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// An admin; agents and customers get 404.
#[derive(Clone, Debug)]
pub struct Admin(pub Ctx, pub AuthSession);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let SignedIn(ctx, session) = SignedIn::from_request_parts(parts, state).await?;
        if session.user.role() == crate::domain::Role::Admin {
            Ok(Admin(ctx, session))
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// What the page layout needs, built per request.
#[derive(Clone, Debug)]
pub struct Layout {
    pub t: Tr,
    pub product_name: String,
    pub support_phone: String,
    /// The phone as a `tel:` URI wants it: digits and a leading plus only.
    pub support_phone_tel: String,
    pub platform: String,
    /// The stylesheet with the brand colour (admin branding); its URL
    /// names the colour, so a change is never hidden by a cache.
    pub brand_css: String,
    pub user_name: Option<String>,
    /// Agents and admins get a link to the workspace; admins to the admin area.
    pub is_staff: bool,
    pub is_admin: bool,
    pub csrf: String,
    pub demo: bool,
    /// The viewer's organizations, for the header's switcher (only when
    /// there are several).
    pub orgs: Vec<(i64, String, bool)>,
    /// Where the language switch returns to: this page, when it is a page
    /// one can come back to with GET.
    pub return_to: String,
}

impl Layout {
    pub fn new(state: &AppState, ctx: &Ctx) -> Self {
        let brand = crate::service::admin::current_branding(state);
        Self {
            t: Tr::new(Arc::clone(&state.catalog), ctx.lang),
            brand_css: format!("/static/brand.css?c={}", brand.color_hex()),
            support_phone_tel: brand
                .support_phone
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect(),
            product_name: brand.product_name,
            support_phone: brand.support_phone,
            platform: brand.host_platform_name,
            user_name: ctx.session.as_ref().map(|s| s.user.name.clone()),
            is_staff: ctx
                .session
                .as_ref()
                .is_some_and(|s| s.user.role().is_staff()),
            is_admin: ctx
                .session
                .as_ref()
                .is_some_and(|s| s.user.role() == crate::domain::Role::Admin),
            csrf: ctx.csrf.clone(),
            demo: state.demo_mode,
            orgs: Vec::new(),
            return_to: safe_return_to(&ctx.path)
                .filter(|p| !p.starts_with("/access/") && !p.starts_with("/logout"))
                .unwrap_or("/portal")
                .to_owned(),
        }
    }

    /// Adds the organization switcher when the viewer belongs to several;
    /// `shown` are the organizations the page is filtered to, preselected.
    #[must_use]
    pub fn with_orgs(
        mut self,
        memberships: &[crate::store::users::Membership],
        shown: &[i64],
    ) -> Self {
        if memberships.len() > 1 {
            self.orgs = memberships
                .iter()
                .filter(|m| m.can_see_org_tickets)
                .map(|m| {
                    let id = m.organization_id.0;
                    (id, m.organization_name.clone(), shown.first() == Some(&id))
                })
                .collect();
        }
        self
    }

    /// The label of a role key (`customer`, `agent`, `admin`).
    pub fn role(&self, key: &str) -> String {
        self.t.t(&format!("role.{key}")).to_owned()
    }

    /// The other language, offered in the header.
    pub fn other_lang(&self) -> Lang {
        match self.t.lang {
            Lang::PtBr => Lang::En,
            Lang::En => Lang::PtBr,
        }
    }
}

/// Renders a template into an HTML response.
pub fn render(template: &impl Template) -> Result<Response, AppError> {
    let html = template
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

fn is_token(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Builds the request context, enforces CSRF on state-changing requests,
/// and draws error pages in the visitor's language.
async fn context(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let uri = req.uri().clone();
    let jar = CookieJar::from_headers(req.headers());
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    // A body the route cannot take is refused before any session is read.
    let (req, body_watch) = match limits::limit_body(&state.config, req) {
        Ok(limited) => limited,
        Err(error) => return refused_body(&state, &jar, &error, &uri, &request_id),
    };
    let session_cookie = jar
        .get(cookie_name(&state, SESSION_COOKIE))
        .map(|c| c.value().to_owned());
    let session = match &session_cookie {
        Some(value) => match crate::service::sessions::resolve(&state, value).await {
            Ok(session) => session,
            Err(error) => return AppError::from(error).into_response(),
        },
        None => None,
    };
    let (csrf, new_csrf_cookie) = match (&session, jar.get(cookie_name(&state, CSRF_COOKIE))) {
        (Some(session), _) => (session.csrf_token.clone(), false),
        (None, Some(cookie)) if is_token(cookie.value()) => (cookie.value().to_owned(), false),
        (None, _) => (random_hex(32), true),
    };
    let lang = visitor_lang(&state, &jar, session.as_ref(), req.headers());
    let client = client_address(&state, &req);
    // Only a GET page can be returned to.
    let path = if req.method() == Method::GET {
        uri.path_and_query()
            .map_or("/portal", |p| p.as_str())
            .to_owned()
    } else {
        "/portal".to_owned()
    };
    let ctx = Arc::new(Ctx {
        session,
        csrf,
        lang,
        client,
        path,
    });

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The widget's API reads no cookie: it carries its own credentials.
    let csrf_exempt = widget::reads_no_cookie(req.method(), uri.path());
    let mut response = if unsafe_method && !csrf_exempt {
        let (token, mut req) = submitted_csrf_token(req).await;
        if token
            .as_deref()
            .is_some_and(|t| constant_time_eq(t.as_bytes(), ctx.csrf.as_bytes()))
        {
            req.extensions_mut().insert(Arc::clone(&ctx));
            let response = next.run(req).await;
            // What this request committed reaches live views at once.
            wake_after(&state, &response);
            response
        } else {
            tracing::info!("request refused: missing or wrong CSRF token");
            AppError::Csrf.into_response()
        }
    } else {
        let mut req = req;
        req.extensions_mut().insert(Arc::clone(&ctx));
        let response = next.run(req).await;
        if unsafe_method {
            wake_after(&state, &response);
        }
        response
    };

    // A body over its limit or past its deadline answers as such, whatever
    // the handler made of the failed read.
    if let Some(error) = body_watch.error() {
        response = error.into_response();
    }
    if let Some(kind) = response
        .extensions()
        .get::<ErrorKind>()
        .copied()
        .or_else(|| framework_rejection(&response))
    {
        let retry_after = response.headers_mut().remove(header::RETRY_AFTER);
        response = error_response(&state, &ctx, kind, &uri, &request_id);
        if let Some(retry_after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after);
        }
    }
    if new_csrf_cookie {
        append_cookie(&mut response, &csrf_cookie(&state, ctx.csrf.clone()));
    }
    if session_cookie.is_some()
        && ctx.session.is_none()
        && !response.headers().contains_key(header::SET_COOKIE)
    {
        append_cookie(&mut response, &removal_cookie(&state, SESSION_COOKIE));
    }
    response
}

/// The token a form or script sent: `X-CSRF-Token` header, the first part
/// of a multipart form (read before any file, see
/// [`uploads::multipart_csrf_token`]), or the `csrf_token` field of an
/// url-encoded body, which is read and put back. Never the query string:
/// proxies and servers log URLs.
async fn submitted_csrf_token(req: Request) -> (Option<String>, Request) {
    if let Some(token) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        let token = token.to_owned();
        return (Some(token), req);
    }
    let (token, req) = uploads::multipart_csrf_token(req).await;
    if token.is_some() {
        return (token, req);
    }
    if !has_content_type(req.headers(), "application/x-www-form-urlencoded") {
        return (None, req);
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, 1024 * 1024).await {
        Ok(bytes) => {
            let token = form_field(&bytes, "csrf_token");
            (token, Request::from_parts(parts, Body::from(bytes)))
        }
        Err(_) => (None, Request::from_parts(parts, Body::empty())),
    }
}

fn form_field(data: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(data)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A body refused before the request is read any further: answered to an
/// anonymous visitor, since no session has been looked up.
fn refused_body(
    state: &AppState,
    jar: &CookieJar,
    error: &AppError,
    uri: &Uri,
    request_id: &str,
) -> Response {
    let ctx = Ctx {
        session: None,
        csrf: String::new(),
        lang: visitor_lang(state, jar, None, &HeaderMap::new()),
        client: String::new(),
        path: "/portal".to_owned(),
    };
    error_response(state, &ctx, error.kind(), uri, request_id)
}

/// Whether a request's or response's `Content-Type` is of this type.
pub(crate) fn has_content_type(headers: &HeaderMap, prefix: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(prefix))
}

/// The visitor's language: their account's, their cookie's, their
/// browser's, or the default.
fn visitor_lang(
    state: &AppState,
    jar: &CookieJar,
    session: Option<&AuthSession>,
    headers: &HeaderMap,
) -> Lang {
    session
        .and_then(|s| Lang::parse(&s.user.locale))
        .or_else(|| {
            jar.get(cookie_name(state, LANG_COOKIE))
                .and_then(|c| Lang::parse(c.value()))
        })
        .or_else(|| accept_language(headers))
        .unwrap_or_else(|| state.config.lang())
}

/// A refusal written by the framework rather than by Chamado (a query,
/// path or form that does not parse, a body that cannot be read): its
/// plain-text reason is parser text, never shown; the visitor gets
/// Chamado's own error instead.
fn framework_rejection(response: &Response) -> Option<ErrorKind> {
    let status = response.status();
    if !has_content_type(response.headers(), "text/plain") {
        return None;
    }
    // The statuses of the extractors' rejections; a handler's own plain
    // text (the demo host's token answer) keeps its status.
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Some(ErrorKind::PayloadTooLarge),
        StatusCode::BAD_REQUEST
        | StatusCode::UNSUPPORTED_MEDIA_TYPE
        | StatusCode::UNPROCESSABLE_ENTITY => Some(ErrorKind::BadRequest),
        _ => None,
    }
}

/// Routes whose callers read JSON: their errors are `{"errors": […]}`.
pub fn speaks_json(path: &str) -> bool {
    path == "/widget/session" || path.starts_with("/widget/api/") || path.starts_with("/api/")
}

/// An error as the route's callers read it: JSON for the JSON routes, the
/// error page (or the login redirect) for everything else.
fn error_response(
    state: &AppState,
    ctx: &Ctx,
    kind: ErrorKind,
    uri: &Uri,
    request_id: &str,
) -> Response {
    if speaks_json(uri.path()) {
        let t = Tr::new(Arc::clone(&state.catalog), ctx.lang);
        let code = kind.key();
        let body = serde_json::json!({
            "error": code,
            "errors": [{
                "code": code,
                "message": t.t(&format!("error.{code}.title")),
            }],
        });
        return (
            kind.status(),
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(body),
        )
            .into_response();
    }
    error_page(state, ctx, kind, uri, request_id)
}

fn accept_language(headers: &axum::http::HeaderMap) -> Option<Lang> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    value
        .split(',')
        .map(|part| part.split(';').next().unwrap_or("").trim())
        .find_map(Lang::parse)
}

fn client_address(state: &AppState, req: &Request) -> String {
    if state.config.trust_forwarded_for
        && let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(first) = forwarded.split(',').next()
    {
        return first.trim().to_owned();
    }
    req.extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string())
}

fn append_cookie(response: &mut Response, cookie: &Cookie<'static>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.encoded().to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A cookie's name on this site: on https, with the `__Host-` prefix, so
/// browsers accept it only from this host, over TLS, for every path, and
/// never from a sibling domain or a plain-http page.
pub fn cookie_name(state: &AppState, name: &'static str) -> &'static str {
    if !state.config.https() {
        return name;
    }
    match name {
        SESSION_COOKIE => "__Host-chamado_session",
        CSRF_COOKIE => "__Host-chamado_csrf",
        LANG_COOKIE => "__Host-chamado_lang",
        other => other,
    }
}

fn base_cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((cookie_name(state, name), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.https())
        .build()
}

/// The session cookie: `HttpOnly`, `SameSite=Lax`, `Secure` on https.
pub fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    base_cookie(state, SESSION_COOKIE, value)
}

fn csrf_cookie(state: &AppState, value: String) -> Cookie<'static> {
    base_cookie(state, CSRF_COOKIE, value)
}

/// A cookie that deletes `name`.
pub fn removal_cookie(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut cookie = base_cookie(state, name, String::new());
    cookie.make_removal();
    cookie
}

/// A relative path on this site, or `None`. Refuses absolute URLs,
/// protocol-relative `//host`, backslashes (which browsers read as slashes)
/// and control characters, so `return_to` cannot send anyone elsewhere.
pub fn safe_return_to(candidate: &str) -> Option<&str> {
    let ok = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.contains('\\')
        && !candidate.chars().any(char::is_control)
        && candidate.len() <= 2000;
    ok.then_some(candidate)
}

/// Percent-encodes a query-string value.
pub fn encode_query_value(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out
}

/// Where an anonymous visitor is sent to sign in: the host platform's login
/// page when configured (the portal's login *is* the platform's), else ours.
pub fn login_redirect(state: &AppState, return_to: &str) -> Response {
    let encoded = encode_query_value(return_to);
    let target = match &state.config.sso_login_url {
        Some(url) => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}return_to={encoded}")
        }
        None => format!("/login?return_to={encoded}"),
    };
    Redirect::to(&target).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    kind_key: &'static str,
    request_id: String,
}

impl ErrorPage {
    fn title(&self) -> String {
        self.layout
            .t
            .t(&format!("error.{}.title", self.kind_key))
            .to_owned()
    }
    fn body(&self) -> String {
        self.layout
            .t
            .t(&format!("error.{}.body", self.kind_key))
            .to_owned()
    }
}

fn error_page(
    state: &AppState,
    ctx: &Ctx,
    kind: ErrorKind,
    uri: &Uri,
    request_id: &str,
) -> Response {
    if kind == ErrorKind::Unauthenticated {
        let path = uri.path_and_query().map_or("/portal", |p| p.as_str());
        return login_redirect(state, safe_return_to(path).unwrap_or("/portal"));
    }
    let page = ErrorPage {
        layout: Layout::new(state, ctx),
        kind_key: kind.key(),
        request_id: request_id.to_owned(),
    };
    match page.render() {
        Ok(html) => (
            kind.status(),
            [(header::CACHE_CONTROL, "no-store")],
            Html(html),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering the error page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
