//! The help widget's server side (docs/widget.md): the session exchange,
//! the JSON API the frame calls with a bearer token, the handoff to a portal
//! tab and the live protocol (`ws`).
//!
//! The frame cannot use cookies, so nothing here reads one (the CSRF check
//! of the `context` middleware does not apply): `/widget/session` is
//! authenticated by the host platform's signed token and its `Origin`, every
//! `/widget/api/` call by its bearer token. Errors are JSON; a ticket the
//! user may not see answers 404 exactly like a missing one.

pub mod ws;

use std::{collections::BTreeMap, sync::Arc};

use askama::Template;
use axum::{
    Form, Json, Router,
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::{any, get, post},
};
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Ctx, Layout,
    auth::set_cookie,
    markdown, render, safe_return_to, session_cookie,
    sso::{SwitchTarget, switch_account_page},
    timeline,
    uploads::{MultipartForm, read_multipart},
};
use crate::{
    AppState,
    config::parse_origin,
    domain::{Lang, ReplyEffect, TicketStatus, TicketType},
    error::AppError,
    i18n::Tr,
    service::{
        self,
        admin::QuestionKind,
        attachments::StagedFiles,
        sso::SsoError,
        widget::{Question, TriageScreen, WidgetError},
    },
    store::{StoreError, portal::PublicComment, users::User},
};

/// The widget's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/widget/session", post(create_session))
        .route("/widget/handoff", get(open_handoff).post(confirm_handoff))
        .route("/widget/ws", get(ws::upgrade))
        .route("/widget/api/me", get(show_me))
        .route("/widget/api/tickets", get(list_tickets))
        .route("/widget/api/tickets/{id}", get(show_ticket))
        .route("/widget/api/tickets/{id}/messages", post(create_message))
        .route("/widget/api/handoff", post(create_handoff))
        .route("/widget/api/triage", get(show_triage).post(create_triage))
        .route("/widget/api/triage/{id}/answers", post(create_answer))
        .route("/widget/api/triage/{id}/complete", post(complete_triage))
        .route("/widget/api/{*rest}", any(api_not_found))
}

/// Requests the `context` middleware must not hold to the cookie CSRF
/// check: they read no cookie and carry their own credentials.
pub fn reads_no_cookie(method: &Method, path: &str) -> bool {
    (method == Method::POST && path == "/widget/session") || path.starts_with("/widget/api/")
}

// ---------------------------------------------------------------------------
// Responses

/// A JSON response that is never cached.
fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response()
}

/// An API failure, already as its JSON response.
#[derive(Debug)]
pub struct ApiError(Box<Response>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl ApiError {
    fn new(status: StatusCode, body: &Value) -> Self {
        Self(Box::new(json_response(status, body)))
    }

    fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": "unauthenticated" }),
        )
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, &json!({ "error": "not_found" }))
    }

    fn bad_request() -> Self {
        Self::new(StatusCode::BAD_REQUEST, &json!({ "error": "bad_request" }))
    }

    fn invalid(t: &Tr, fields: &[(String, &'static str)]) -> Self {
        let fields: BTreeMap<&str, &str> = fields
            .iter()
            .map(|(field, key)| (field.as_str(), t.t(key)))
            .collect();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({ "error": "invalid", "fields": fields }),
        )
    }

    /// Maps a use case's failure, with messages in the user's language.
    fn widget(t: &Tr, error: WidgetError) -> Self {
        match error {
            WidgetError::NotFound => Self::not_found(),
            WidgetError::Invalid(fields) => Self::invalid(t, &fields),
            WidgetError::Closed(key) => Self::new(
                StatusCode::CONFLICT,
                &json!({ "error": "closed", "message": t.t(key) }),
            ),
            WidgetError::Conflict => Self::new(
                StatusCode::CONFLICT,
                &json!({ "error": "conflict", "message": t.t("widget_api.conflict") }),
            ),
            WidgetError::TooMany { retry_after } => {
                let mut error = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    &json!({ "error": "too_many_requests", "message": t.t("widget_api.too_many_requests") }),
                );
                error.0.headers_mut().insert(
                    header::RETRY_AFTER,
                    service::limits::retry_after_secs(retry_after).into(),
                );
                error
            }
            WidgetError::Store(e) => e.into(),
            WidgetError::Blob(e) => Self::internal(&e),
        }
    }

    fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "widget request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({ "error": "internal" }),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(&error)
    }
}

type ApiResult = Result<Response, ApiError>;

// ---------------------------------------------------------------------------
// The bearer

/// The user of a valid bearer token. Anything else answers 401
/// `{"error": "unauthenticated"}`: the frame then asks for a new token.
#[derive(Clone, Debug)]
pub struct Bearer(pub User);

impl Bearer {
    fn lang(&self, state: &AppState) -> Lang {
        user_lang(state, &self.0)
    }

    fn tr(&self, state: &AppState) -> Tr {
        Tr::new(Arc::clone(&state.catalog), self.lang(state))
    }

    fn tz(&self, state: &AppState) -> TimeZone {
        user_tz(state, &self.0)
    }
}

/// The user's language.
pub fn user_lang(state: &AppState, user: &User) -> Lang {
    Lang::parse(&user.locale).unwrap_or_else(|| state.config.lang())
}

/// The user's time zone.
pub fn user_tz(state: &AppState, user: &User) -> TimeZone {
    TimeZone::get(&user.time_zone).unwrap_or_else(|_| state.config.time_zone())
}

/// The token of an `Authorization: Bearer …` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        match service::widget::resolve_access(state, token).await? {
            Some(user) => Ok(Bearer(user)),
            None => Err(ApiError::unauthenticated()),
        }
    }
}

/// A JSON body; anything unreadable answers 400 `{"error": "bad_request"}`.
fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|_| ApiError::bad_request())
}

/// A numeric path id; anything else is a ticket that does not exist.
fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.trim_start_matches('#')
        .parse()
        .map_err(|_| ApiError::not_found())
}

async fn api_not_found() -> ApiError {
    ApiError::not_found()
}

// ---------------------------------------------------------------------------
// Session exchange

#[derive(Debug, Deserialize)]
struct SessionRequest {
    token: String,
    origin: String,
}

/// The seed's advice for a refused sign-in, and the support phone.
fn sign_in_advice(state: &AppState, t: &Tr) -> (String, String) {
    let brand = service::admin::current_branding(state);
    let message = format!(
        "{} {}",
        t.fmt(
            "sso.advice_logout",
            &[("platform", brand.host_platform_name.as_str())]
        ),
        t.t("sso.advice_login")
    );
    (message, brand.support_phone)
}

/// The language of a visitor not yet identified.
fn visitor_lang(state: &AppState, headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|value| {
            value
                .split(',')
                .map(|part| part.split(';').next().unwrap_or("").trim())
                .find_map(Lang::parse)
        })
        .unwrap_or_else(|| state.config.lang())
}

/// Whether the request comes from a page of Chamado's own origin (the
/// frame), by its `Origin` header.
pub fn from_own_origin(state: &AppState, headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_origin)
        .is_some_and(|origin| origin == state.config.origin())
}

/// `POST /widget/session`: the host platform's JWT for a bearer token.
async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let t = Tr::new(Arc::clone(&state.catalog), visitor_lang(&state, &headers));
    let (advice, phone) = sign_in_advice(&state, &t);
    let request: SessionRequest = parse_body(&body)?;
    if !from_own_origin(&state, &headers) || !state.config.is_allowed_widget_origin(&request.origin)
    {
        tracing::info!("widget session refused: origin not allowed");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            &json!({
                "error": "origin_not_allowed",
                "message": t.t("widget_api.origin_not_allowed"),
                "phone": phone,
            }),
        ));
    }
    match service::widget::exchange(&state, request.token.trim()).await {
        Ok((user, token)) => {
            tracing::info!(user = %user.id, "widget signed in through SSO");
            Ok(json_response(
                StatusCode::OK,
                &json!({
                    "access_token": token.token,
                    "expires_in": token.expires_in,
                    "user": { "name": user.name, "locale": user_lang(&state, &user).code() },
                }),
            ))
        }
        Err(SsoError::Store(error)) => Err(error.into()),
        Err(SsoError::EmailTaken) => {
            // Logging in again would not help: support must link the account.
            tracing::info!(reason = %SsoError::EmailTaken, "widget SSO token refused");
            let message = format!(
                "{} {}",
                t.fmt(
                    "sso.conflict_body",
                    &[(
                        "platform",
                        service::admin::current_branding(&state)
                            .host_platform_name
                            .as_str()
                    )]
                ),
                t.t("sso.conflict_contact")
            );
            Err(ApiError::new(
                StatusCode::CONFLICT,
                &json!({ "error": "account_conflict", "message": message, "phone": phone }),
            ))
        }
        Err(error) => {
            tracing::info!(reason = %error, "widget SSO token refused");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                &json!({ "error": "invalid_token", "message": advice, "phone": phone }),
            ))
        }
    }
}

/// `GET /widget/api/me`.
async fn show_me(State(state): State<AppState>, bearer: Bearer) -> ApiResult {
    let memberships = crate::service::node_cache::memberships(&state, bearer.0.id).await?;
    let brand = service::admin::current_branding(&state);
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "name": bearer.0.name,
            "locale": bearer.lang(&state).code(),
            "organizations": memberships
                .iter()
                .map(|m| json!({ "id": m.organization_id.0, "name": m.organization_name }))
                .collect::<Vec<_>>(),
            "support_phone": brand.support_phone,
        }),
    ))
}

// ---------------------------------------------------------------------------
// Tickets

/// What a ticket summary shows, from a list row or a visible ticket.
struct SummaryFields<'a> {
    id: i64,
    subject: &'a str,
    ticket_type: &'a str,
    status: &'a str,
    organization: Option<&'a str>,
    created_at: jiff::Timestamp,
    updated_at: jiff::Timestamp,
}

fn summary(
    fields: &SummaryFields<'_>,
    lang: Lang,
    tz: &TimeZone,
) -> serde_json::Map<String, Value> {
    let ticket_type = TicketType::from_key(fields.ticket_type).unwrap_or(TicketType::Support);
    let status = TicketStatus::from_key(fields.status).unwrap_or(TicketStatus::Sent);
    let value = json!({
        "id": fields.id,
        "number": format!("#{}", fields.id),
        "subject": fields.subject,
        "type": ticket_type.key(),
        "type_label": ticket_type.label(lang),
        "status": status.key(),
        "status_label": status.label(lang),
        "organization": fields.organization,
        "created_at": timeline::format_datetime(fields.created_at, tz, lang),
        "updated_at": timeline::format_datetime(fields.updated_at, tz, lang),
    });
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// A public comment as the widget shows it.
pub fn message_json(comment: &PublicComment, event_id: i64, t: &Tr, tz: &TimeZone) -> Value {
    let from_support = !matches!(comment.author_role.as_deref(), Some("customer"));
    let author = match &comment.author_name {
        Some(name) => name.clone(),
        None => t.t("detail.support_team").to_owned(),
    };
    json!({
        "id": comment.id,
        "event_id": event_id,
        "author": author,
        "from_support": from_support,
        "html": markdown::render_message(&comment.body),
        "at": timeline::format_datetime(comment.created_at.0, tz, t.lang),
    })
}

#[derive(Debug, Deserialize)]
struct ListParams {
    before: Option<String>,
}

/// `GET /widget/api/tickets[?before=<id>]`: the tickets I requested.
async fn list_tickets(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(params): Query<ListParams>,
) -> ApiResult {
    let before = match params.before.as_deref().filter(|b| !b.is_empty()) {
        Some(id) => Some(parse_id(id)?),
        None => None,
    };
    let (rows, next) = service::widget::my_tickets(&state, bearer.0.id, before)
        .await
        .map_err(|e| ApiError::widget(&bearer.tr(&state), e))?;
    let (lang, tz) = (bearer.lang(&state), bearer.tz(&state));
    let tickets: Vec<_> = rows
        .iter()
        .map(|r| {
            summary(
                &SummaryFields {
                    id: r.id,
                    subject: &r.subject,
                    ticket_type: &r.ticket_type,
                    status: &r.status,
                    organization: r.organization_name.as_deref(),
                    created_at: r.created_at.0,
                    updated_at: r.updated_at.0,
                },
                lang,
                &tz,
            )
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "tickets": tickets, "next_before": next }),
    ))
}

/// `GET /widget/api/tickets/{id}`.
async fn show_ticket(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id)?;
    let t = bearer.tr(&state);
    let tz = bearer.tz(&state);
    let view = service::widget::ticket(&state, bearer.0.id, id)
        .await
        .map_err(|e| ApiError::widget(&t, e))?;
    let ticket = &view.detail.ticket;
    let mut object = summary(
        &SummaryFields {
            id: ticket.id,
            subject: &ticket.subject,
            ticket_type: &ticket.ticket_type,
            status: &ticket.status,
            organization: ticket.organization_name.as_deref(),
            created_at: ticket.created_at.0,
            updated_at: ticket.updated_at.0,
        },
        t.lang,
        &tz,
    );
    let effect = view.detail.reply_effect;
    let note = match effect {
        ReplyEffect::Reopen => Some("detail.reply_reopens"),
        ReplyEffect::TooOldToReopen => Some("detail.too_old_to_reopen"),
        ReplyEffect::Closed => Some("detail.closed"),
        ReplyEffect::Stay | ReplyEffect::MoveTo(_) => None,
    };
    object.insert("can_reply".into(), json!(!effect.is_refused()));
    object.insert("reply_note".into(), json!(note.map(|k| t.t(k))));
    object.insert(
        "portal_url".into(),
        json!(format!("/portal/tickets/{}", ticket.id)),
    );
    object.insert(
        "description_html".into(),
        json!(markdown::render_message(&ticket.description)),
    );
    let messages: Vec<Value> = view
        .detail
        .comments
        .iter()
        .map(|c| {
            let event_id = view.comment_events.get(&c.id).copied().unwrap_or(0);
            message_json(c, event_id, &t, &tz)
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "ticket": object,
            "messages": messages,
            "last_event_id": view.last_event_id,
        }),
    ))
}

#[derive(Debug, Deserialize)]
struct MessageRequest {
    body: String,
}

/// `POST /widget/api/tickets/{id}/messages`: a public reply.
async fn create_message(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let id = parse_id(&id)?;
    let t = bearer.tr(&state);
    // The ticket must be visible before anything about the request is said.
    crate::store::portal::find_visible(&state.db, bearer.0.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let request: MessageRequest = parse_body(&body)?;
    let (comment, event_id) = service::widget::reply(&state, bearer.0.id, id, &request.body)
        .await
        .map_err(|e| ApiError::widget(&t, e))?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "message": message_json(&comment, event_id, &t, &bearer.tz(&state)) }),
    ))
}

// ---------------------------------------------------------------------------
// Handoff

#[derive(Debug, Deserialize)]
struct HandoffRequest {
    return_to: Option<String>,
}

/// `POST /widget/api/handoff`: a single-use link that opens the portal
/// signed in.
async fn create_handoff(State(state): State<AppState>, bearer: Bearer, body: Bytes) -> ApiResult {
    let request: HandoffRequest = if body.is_empty() {
        HandoffRequest { return_to: None }
    } else {
        parse_body(&body)?
    };
    let return_to = request.return_to.as_deref().unwrap_or("/portal");
    let Some(return_to) = safe_return_to(return_to) else {
        return Err(ApiError::invalid(
            &bearer.tr(&state),
            &[("return_to".to_owned(), "widget_api.bad_return_to")],
        ));
    };
    let code = service::widget::issue_handoff(&state, bearer.0.id, return_to).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "url": format!("/widget/handoff?code={code}") }),
    ))
}

#[derive(Template)]
#[template(path = "sso_error.html")]
struct HandoffErrorPage {
    layout: Layout,
}

#[derive(Debug, Deserialize)]
struct HandoffParams {
    code: Option<String>,
}

/// `GET /widget/handoff?code=…`: spends the code, signs its user into the
/// portal with a new cookie session and sends them to where the widget
/// asked. An unknown, used or expired code gets the single sign-on error
/// page. A browser signed in as someone else is asked first
/// ([`SwitchAccountPage`](super::sso::SwitchAccountPage)) and the code is
/// not spent: a planted link cannot silently swap the victim's account.
async fn open_handoff(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<HandoffParams>,
) -> Result<Response, AppError> {
    let code = params.code.unwrap_or_default();
    let code = code.trim();
    if let Some(current) = &ctx.session {
        match service::widget::peek_handoff(&state, code).await? {
            Some(user) if user.id != current.user.id => {
                let target = SwitchTarget {
                    name: user.name,
                    email: user.email,
                };
                return switch_account_page(
                    &state,
                    &ctx,
                    current,
                    target,
                    "/widget/handoff",
                    vec![("code", code.to_owned())],
                    "/portal",
                );
            }
            Some(_) => {}
            None => return handoff_refused(&state, ctx),
        }
    }
    redeem_handoff(&state, ctx, code).await
}

#[derive(Debug, Deserialize)]
struct HandoffForm {
    #[serde(default)]
    code: String,
}

/// `POST /widget/handoff`: the confirmation of the page above (the
/// `context` middleware has checked its CSRF token): spends the code.
async fn confirm_handoff(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<HandoffForm>,
) -> Result<Response, AppError> {
    redeem_handoff(&state, ctx, form.code.trim()).await
}

async fn redeem_handoff(state: &AppState, ctx: Ctx, code: &str) -> Result<Response, AppError> {
    let Some((user, return_to)) = service::widget::redeem_handoff(state, code).await? else {
        return handoff_refused(state, ctx);
    };
    if let Some(old) = &ctx.session {
        service::sessions::end(state, old).await?;
    }
    let session = service::sessions::start(state, user).await?;
    tracing::info!(user = %user, "signed in from the widget");
    let target = safe_return_to(&return_to).unwrap_or("/portal");
    let mut response = Redirect::to(target).into_response();
    set_cookie(&mut response, &session_cookie(state, session.cookie_value));
    Ok(response)
}

fn handoff_refused(state: &AppState, mut ctx: Ctx) -> Result<Response, AppError> {
    tracing::info!("widget handoff code refused");
    ctx.session = None;
    let mut response = render(&HandoffErrorPage {
        layout: Layout::new(state, &ctx),
    })?;
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    Ok(response)
}

// ---------------------------------------------------------------------------
// Triage

fn question_json(question: &Question) -> Value {
    json!({
        "key": question.key,
        "kind": match question.kind {
            QuestionKind::Choice => "choice",
            QuestionKind::Text => "text",
            QuestionKind::Organization => "organization",
            QuestionKind::Attachment => "attachment",
        },
        "mandatory": question.mandatory,
        "text": question.text,
        "options": question
            .options
            .iter()
            .map(|(value, text)| json!({ "value": value, "text": text }))
            .collect::<Vec<_>>(),
    })
}

fn triage_response(status: StatusCode, screen: &TriageScreen) -> Response {
    let triage = screen.triage.as_ref().map(|t| {
        json!({
            "id": t.id,
            "answers": t.answers,
            "reminded": t.reminded,
            "next": t.next,
        })
    });
    json_response(
        status,
        &json!({
            "triage": triage,
            "questions": screen.questions.iter().map(question_json).collect::<Vec<_>>(),
        }),
    )
}

/// `GET /widget/api/triage`: my unfinished triage, to resume.
async fn show_triage(State(state): State<AppState>, bearer: Bearer) -> ApiResult {
    let screen = service::widget::current_triage(&state, &bearer.0)
        .await
        .map_err(|e| ApiError::widget(&bearer.tr(&state), e))?;
    Ok(triage_response(StatusCode::OK, &screen))
}

/// `POST /widget/api/triage`: starts one (or returns the unfinished one).
async fn create_triage(State(state): State<AppState>, bearer: Bearer) -> ApiResult {
    let screen = service::widget::start_triage(&state, &bearer.0)
        .await
        .map_err(|e| ApiError::widget(&bearer.tr(&state), e))?;
    Ok(triage_response(StatusCode::CREATED, &screen))
}

#[derive(Debug, Deserialize)]
struct AnswerRequest {
    key: String,
    value: String,
}

/// `POST /widget/api/triage/{id}/answers`.
async fn create_answer(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let id = parse_id(&id)?;
    let request: AnswerRequest = parse_body(&body)?;
    let screen =
        service::widget::answer_triage(&state, &bearer.0, id, request.key.trim(), &request.value)
            .await
            .map_err(|e| ApiError::widget(&bearer.tr(&state), e))?;
    Ok(triage_response(StatusCode::OK, &screen))
}

/// `POST /widget/api/triage/{id}/complete` (multipart with optional `files`
/// parts, or no body).
async fn complete_triage(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult {
    let id = parse_id(&id)?;
    let t = bearer.tr(&state);
    let uploads = if super::has_content_type(request.headers(), "multipart/form-data") {
        let multipart = MultipartForm::from_request(request, &state)
            .await
            .map_err(|_| ApiError::bad_request())?;
        match read_multipart(&state, multipart).await {
            (_, Ok(uploads)) => uploads,
            (_, Err(key)) => {
                return Err(ApiError::invalid(&t, &[("attachments".to_owned(), key)]));
            }
        }
    } else {
        StagedFiles::new(state.blobs.clone())
    };
    let ticket = service::widget::complete_triage(&state, &bearer.0, id, uploads)
        .await
        .map_err(|e| ApiError::widget(&t, e))?;
    let status = TicketStatus::Sent;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "ticket": {
                "id": ticket.0,
                "number": format!("#{}", ticket.0),
                "status_label": status.label(t.lang),
                "url": format!("/portal/tickets/{}", ticket.0),
            }
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_widget_api_skips_the_cookie_csrf_check() {
        assert!(reads_no_cookie(&Method::POST, "/widget/session"));
        assert!(reads_no_cookie(
            &Method::POST,
            "/widget/api/tickets/1/messages"
        ));
        assert!(reads_no_cookie(&Method::GET, "/widget/api/me"));
        assert!(!reads_no_cookie(&Method::POST, "/widget/handoff"));
        assert!(!reads_no_cookie(&Method::POST, "/portal/tickets"));
        assert!(!reads_no_cookie(&Method::POST, "/widget/apix"));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
    }
}
