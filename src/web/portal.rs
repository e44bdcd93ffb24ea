//! The customer portal: account page, ticket list ("Central de Tickets"),
//! ticket detail, replies, contact requests, new tickets, downloads.
//!
//! Handlers parse, call one `service::portal` function and render. Every
//! page that names a ticket gets it through the viewer's scope, so a ticket
//! they may not see answers the same 404 as a missing one.

use std::fmt::Write as _;

use askama::Template;
use axum::{
    Form,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::{
    Ctx, Layout, SignedIn, encode_query_value, markdown, render, timeline,
    uploads::{self, MultipartForm, field, read_multipart},
};
use crate::{
    AppState,
    domain::{Lang, ReplyEffect, TicketStatus, TicketType, format_duration},
    error::AppError,
    service::{
        self,
        admin::{QuestionKind, TriageQuestion},
        portal::{ContactForm, NewTicketForm, PortalError, TicketDetail},
        sessions::AuthSession,
    },
    store::{
        self, Ts,
        portal::{Cursor, ListQuery, SortKey, View},
        users::Membership,
    },
};

/// Rows per page of the ticket list.
const PAGE_SIZE: i64 = 25;

fn user_tz(state: &AppState, session: &AuthSession) -> TimeZone {
    TimeZone::get(&session.user.time_zone).unwrap_or_else(|_| state.config.time_zone())
}

impl From<PortalError> for AppError {
    fn from(error: PortalError) -> Self {
        match error {
            PortalError::NotFound => AppError::NotFound,
            PortalError::Conflict => AppError::Conflict,
            PortalError::Invalid(_)
            | PortalError::InvalidAnswers { .. }
            | PortalError::NotNow(_) => AppError::BadRequest(error.to_string()),
            PortalError::TooMany { retry_after } => AppError::TooManyRequests { retry_after },
            PortalError::Store(e) => e.into(),
            PortalError::Blob(e) => AppError::Internal(e.0),
        }
    }
}

// ---------------------------------------------------------------------------
// Account page

#[derive(Template)]
#[template(path = "portal/profile.html")]
pub struct ProfilePage {
    layout: Layout,
    name: String,
    email: String,
    role_key: &'static str,
    organizations: Vec<Membership>,
    groups: Vec<String>,
}

/// `GET /portal/account`: who I am, my organizations and whether I see each
/// one's tickets.
pub async fn show_profile(
    State(state): State<AppState>,
    SignedIn(ctx, session): SignedIn,
) -> Result<Response, AppError> {
    let organizations = service::node_cache::memberships(&state, session.user.id).await?;
    let groups = store::users::groups(&state.db, session.user.id).await?;
    render(&ProfilePage {
        layout: Layout::new(&state, &ctx),
        name: session.user.name.clone(),
        email: session.user.email.clone(),
        role_key: session.user.role().key(),
        organizations,
        groups,
    })
}

// ---------------------------------------------------------------------------
// Ticket list

/// The list's state as it appears in the URL.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    pub view: View,
    pub orgs: Vec<i64>,
    pub statuses: Vec<TicketStatus>,
    pub ticket_type: Option<TicketType>,
    pub from: Option<jiff::civil::Date>,
    pub to: Option<jiff::civil::Date>,
    pub text: String,
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
    /// Values that could not be read, as (field, message key).
    pub errors: Vec<(&'static str, &'static str)>,
}

impl ListParams {
    /// Reads the query string; unknown or malformed values are reported, not fatal.
    pub fn parse(query: Option<&str>) -> Self {
        let pairs: Vec<(String, String)> = query
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        let mut params = ListParams {
            descending: true,
            ..ListParams::default()
        };
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_str() {
                "view" => {
                    params.view = if value == "org" {
                        View::Org
                    } else {
                        View::Mine
                    }
                }
                "org" => {
                    if let Ok(id) = value.parse()
                        && !params.orgs.contains(&id)
                    {
                        params.orgs.push(id);
                    }
                }
                "status" => {
                    if let Some(status) = TicketStatus::from_key(value)
                        && !params.statuses.contains(&status)
                    {
                        params.statuses.push(status);
                    }
                }
                "type" => params.ticket_type = TicketType::from_key(value),
                "from" if !value.is_empty() => match value.parse() {
                    Ok(date) => params.from = Some(date),
                    Err(_) => params.errors.push(("from", "form.bad_date")),
                },
                "to" if !value.is_empty() => match value.parse() {
                    Ok(date) => params.to = Some(date),
                    Err(_) => params.errors.push(("to", "form.bad_date")),
                },
                // Control characters (NUL above all, which PostgreSQL
                // refuses in text) cannot be meant as search words.
                "q" => {
                    params.text = value
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(200)
                        .collect();
                }
                "sort" => {
                    params.sort = if value == "updated" {
                        SortKey::Updated
                    } else {
                        SortKey::Created
                    }
                }
                "dir" => params.descending = value != "asc",
                "after" => params.after = Cursor::decode(value),
                "before" => params.before = Cursor::decode(value),
                _ => {}
            }
        }
        if params.after.is_some() {
            params.before = None;
        }
        params
    }

    /// The query string for these parameters, without the page cursor.
    pub fn query_string(&self) -> String {
        let mut out = String::new();
        let mut add = |key: &str, value: &str| {
            if !out.is_empty() {
                out.push('&');
            }
            let _ = write!(out, "{key}={}", encode_query_value(value));
        };
        if self.view == View::Org {
            add("view", "org");
        }
        for org in &self.orgs {
            add("org", &org.to_string());
        }
        for status in &self.statuses {
            add("status", status.key());
        }
        if let Some(kind) = self.ticket_type {
            add("type", kind.key());
        }
        if let Some(from) = self.from {
            add("from", &from.to_string());
        }
        if let Some(to) = self.to {
            add("to", &to.to_string());
        }
        if !self.text.is_empty() {
            add("q", &self.text);
        }
        if self.sort == SortKey::Updated {
            add("sort", "updated");
        }
        if !self.descending {
            add("dir", "asc");
        }
        out
    }

    fn url(&self) -> String {
        let query = self.query_string();
        if query.is_empty() {
            "/portal/tickets".to_owned()
        } else {
            format!("/portal/tickets?{query}")
        }
    }

    fn with_cursor(&self, key: &str, cursor: Cursor) -> String {
        let query = self.query_string();
        let separator = if query.is_empty() { "" } else { "&" };
        format!(
            "/portal/tickets?{query}{separator}{key}={}",
            cursor.encode()
        )
    }

    /// The URL that sorts by `sort`, flipping the direction when it is the current sort.
    fn sort_url(&self, sort: SortKey) -> String {
        let mut next = self.clone();
        next.descending = if self.sort == sort {
            !self.descending
        } else {
            true
        };
        next.sort = sort;
        next.url()
    }

    fn view_url(&self, view: View) -> String {
        let mut next = self.clone();
        next.view = view;
        next.url()
    }
}

/// A status choice of the filter, with its count.
pub struct StatusChoice {
    pub key: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub checked: bool,
}

/// An organization choice of the filter.
pub struct OrgChoice {
    pub id: i64,
    pub name: String,
    pub checked: bool,
    pub sees_org_tickets: bool,
}

/// A row as displayed.
pub struct TicketRow {
    pub id: i64,
    pub subject: String,
    pub type_label: &'static str,
    pub status_key: &'static str,
    pub status_label: &'static str,
    pub organization: String,
    pub requester: String,
    pub created: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "portal/ticket_list.html")]
#[expect(clippy::struct_excessive_bools, reason = "flags the template reads")]
pub struct TicketListPage {
    layout: Layout,
    org_view: bool,
    can_see_org: bool,
    mine_url: String,
    org_url: String,
    orgs: Vec<OrgChoice>,
    statuses: Vec<StatusChoice>,
    types: Vec<(&'static str, &'static str, bool)>,
    from: String,
    to: String,
    text: String,
    sort_updated: bool,
    descending: bool,
    sort_created_url: String,
    sort_updated_url: String,
    rows: Vec<TicketRow>,
    total: i64,
    filtered: bool,
    next_url: Option<String>,
    prev_url: Option<String>,
    errors: Vec<(&'static str, &'static str)>,
}

impl TicketListPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, key)| self.layout.t.t(key))
    }
}

/// `GET /portal/tickets`: "Central de Tickets".
#[expect(
    clippy::too_many_lines,
    reason = "assembles one page from one query; splitting scatters it"
)]
pub async fn list_tickets(
    State(state): State<AppState>,
    SignedIn(ctx, session): SignedIn,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = ListParams::parse(raw.as_deref());
    let tz = user_tz(&state, &session);
    let lang = ctx.lang;
    let memberships = service::node_cache::memberships(&state, session.user.id).await?;
    let query = ListQuery {
        viewer: session.user.id.0,
        view: params.view,
        orgs: params.orgs.clone(),
        statuses: params.statuses.iter().map(|s| s.key().to_owned()).collect(),
        ticket_type: params.ticket_type.map(|t| t.key().to_owned()),
        created_from: params
            .from
            .and_then(|d| service::portal::local_day_start(d, &tz)),
        created_before: params
            .to
            .and_then(|d| d.tomorrow().ok())
            .and_then(|d| service::portal::local_day_start(d, &tz)),
        text: Some(params.text.clone()).filter(|t| !t.is_empty()),
        sort: params.sort,
        descending: params.descending,
        after: params.after,
        before: params.before,
        limit: PAGE_SIZE,
        visible_orgs: Some(
            memberships
                .iter()
                .filter(|m| m.can_see_org_tickets)
                .map(|m| m.organization_id.0)
                .collect(),
        ),
    };
    let page = store::portal::list(&state.db, &query).await?;
    let counts = service::portal::status_counts(&state, &query, &memberships).await?;
    let count_of = |status: TicketStatus| {
        counts
            .iter()
            .find(|(key, _)| key == status.key())
            .map_or(0, |(_, n)| *n)
    };
    let statuses = TicketStatus::ALL
        .into_iter()
        .map(|status| StatusChoice {
            key: status.key(),
            label: status.label(lang),
            count: count_of(status),
            checked: params.statuses.contains(&status),
        })
        .collect();
    let total = if params.statuses.is_empty() {
        counts.iter().map(|(_, n)| n).sum()
    } else {
        params.statuses.iter().map(|s| count_of(*s)).sum()
    };
    let cursor_of = |row: &store::portal::ListRow| Cursor {
        at: match params.sort {
            SortKey::Created => row.created_at,
            SortKey::Updated => row.updated_at,
        },
        id: row.id,
    };
    let next_url = page
        .has_next
        .then(|| {
            page.rows
                .last()
                .map(|r| params.with_cursor("after", cursor_of(r)))
        })
        .flatten();
    let prev_url = page
        .has_previous
        .then(|| {
            page.rows
                .first()
                .map(|r| params.with_cursor("before", cursor_of(r)))
        })
        .flatten();
    let rows = page
        .rows
        .iter()
        .map(|row| {
            let status = TicketStatus::from_key(&row.status).unwrap_or(TicketStatus::Sent);
            TicketRow {
                id: row.id,
                subject: row.subject.clone(),
                type_label: TicketType::from_key(&row.ticket_type)
                    .unwrap_or(TicketType::Support)
                    .label(lang),
                status_key: status.key(),
                status_label: status.label(lang),
                organization: row.organization_name.clone().unwrap_or_default(),
                requester: row.requester_name.clone(),
                created: timeline::format_datetime(row.created_at.0, &tz, lang),
                updated: timeline::format_datetime(row.updated_at.0, &tz, lang),
            }
        })
        .collect();
    let filtered = !params.orgs.is_empty()
        || !params.statuses.is_empty()
        || params.ticket_type.is_some()
        || params.from.is_some()
        || params.to.is_some()
        || !params.text.is_empty();
    render(&TicketListPage {
        layout: Layout::new(&state, &ctx).with_orgs(&memberships, &params.orgs),
        org_view: params.view == View::Org,
        can_see_org: memberships.iter().any(|m| m.can_see_org_tickets),
        mine_url: params.view_url(View::Mine),
        org_url: params.view_url(View::Org),
        orgs: memberships
            .iter()
            .map(|m| OrgChoice {
                id: m.organization_id.0,
                name: m.organization_name.clone(),
                checked: params.orgs.contains(&m.organization_id.0),
                sees_org_tickets: m.can_see_org_tickets,
            })
            .collect(),
        statuses,
        types: TicketType::ALL
            .into_iter()
            .map(|t| (t.key(), t.label(lang), params.ticket_type == Some(t)))
            .collect(),
        from: params.from.map(|d| d.to_string()).unwrap_or_default(),
        to: params.to.map(|d| d.to_string()).unwrap_or_default(),
        text: params.text.clone(),
        sort_updated: params.sort == SortKey::Updated,
        descending: params.descending,
        sort_created_url: params.sort_url(SortKey::Created),
        sort_updated_url: params.sort_url(SortKey::Updated),
        rows,
        total,
        filtered,
        next_url,
        prev_url,
        errors: params.errors.clone(),
    })
}

// ---------------------------------------------------------------------------
// Ticket detail

/// A row of the time-in-status table.
pub struct TimeRow {
    pub status_key: &'static str,
    pub label: &'static str,
    pub calendar: String,
    pub business: String,
    pub times_entered: u32,
    pub current: bool,
}

/// A public comment as displayed.
pub struct CommentView {
    pub author: String,
    pub from_team: bool,
    pub at: String,
    pub body_html: String,
    pub files: Vec<FileView>,
}

/// An attachment as displayed.
pub struct FileView {
    pub url: String,
    pub name: String,
    pub size: String,
    pub content_type: String,
}

/// A contact request as displayed.
pub struct ContactView {
    pub channel_key: String,
    pub phone: String,
    pub preferred_window: String,
    pub message: String,
    pub handled: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "portal/ticket_detail.html")]
#[expect(clippy::struct_excessive_bools, reason = "flags the template reads")]
pub struct TicketDetailPage {
    layout: Layout,
    id: i64,
    subject: String,
    type_label: &'static str,
    status_key: &'static str,
    status_label: &'static str,
    status_description: &'static str,
    created: String,
    updated: String,
    organization: String,
    requester: String,
    time_rows: Vec<TimeRow>,
    timeline_svg: String,
    description_html: String,
    files: Vec<FileView>,
    comments: Vec<CommentView>,
    contacts: Vec<ContactView>,
    can_reply: bool,
    reply_reopens: bool,
    too_old_to_reopen: bool,
    closed: bool,
    can_confirm: bool,
    reply_body: String,
    contact: ContactForm,
    errors: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
    /// Where the notice goes: next to what the redirect scrolled to
    /// (`conversation`, `contact`) or at the `top`.
    notice_section: &'static str,
    max_files: u32,
    max_file_mb: u64,
}

impl TicketDetailPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, key)| self.layout.t.t(key))
    }
}

/// Human file size: "12 KB", "3,4 MB".
pub fn human_size(bytes: i64, lang: Lang) -> String {
    #[expect(clippy::cast_precision_loss, reason = "file sizes are far below 2^52")]
    let value = bytes as f64;
    let text = if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.0} KB", value / 1024.0)
    } else {
        format!("{:.1} MB", value / (1024.0 * 1024.0))
    };
    match lang {
        Lang::PtBr => text.replace('.', ","),
        Lang::En => text,
    }
}

/// What the detail page needs besides the ticket.
#[derive(Default)]
struct DetailForms {
    reply_body: String,
    contact: ContactForm,
    errors: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
}

fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    session: &AuthSession,
    detail: &TicketDetail,
    forms: DetailForms,
) -> TicketDetailPage {
    let lang = ctx.lang;
    let tz = user_tz(state, session);
    let now = state.clock.now();
    let status = detail.status();
    let effect = detail.reply_effect;
    let id = detail.ticket.id;
    let file_view = |a: &store::portal::VisibleAttachment| FileView {
        url: format!("/portal/tickets/{id}/attachments/{}", a.id),
        name: a.file_name.clone(),
        size: human_size(a.size_bytes, lang),
        content_type: a.content_type.clone(),
    };
    let comments = detail
        .comments
        .iter()
        .map(|c| CommentView {
            author: c.author_name.clone().unwrap_or_default(),
            from_team: matches!(c.author_role.as_deref(), Some("agent" | "admin")),
            at: timeline::format_datetime(c.created_at.0, &tz, lang),
            body_html: markdown::render_message(&c.body),
            files: detail
                .attachments
                .iter()
                .filter(|a| a.comment_id == Some(c.id))
                .map(file_view)
                .collect(),
        })
        .collect();
    TicketDetailPage {
        layout: Layout::new(state, ctx),
        id,
        subject: detail.ticket.subject.clone(),
        type_label: TicketType::from_key(&detail.ticket.ticket_type)
            .unwrap_or(TicketType::Support)
            .label(lang),
        status_key: status.key(),
        status_label: status.label(lang),
        status_description: status.description(lang),
        created: timeline::format_datetime(detail.ticket.created_at.0, &tz, lang),
        updated: timeline::format_datetime(detail.ticket.updated_at.0, &tz, lang),
        organization: detail.ticket.organization_name.clone().unwrap_or_default(),
        requester: detail.ticket.requester_name.clone(),
        time_rows: detail
            .time_in_status
            .totals
            .iter()
            .map(|t| TimeRow {
                status_key: t.status.key(),
                label: t.status.label(lang),
                calendar: format_duration(t.calendar, lang),
                business: format_duration(t.business, lang),
                times_entered: t.times_entered,
                current: t.current,
            })
            .collect(),
        timeline_svg: timeline::timeline_svg(&detail.time_in_status.spans, now, lang, &tz),
        description_html: markdown::render_message(&detail.ticket.description),
        files: detail
            .attachments
            .iter()
            .filter(|a| a.comment_id.is_none())
            .map(file_view)
            .collect(),
        comments,
        contacts: detail
            .contact_requests
            .iter()
            .map(|c| ContactView {
                channel_key: c.channel.clone(),
                phone: c.phone.clone(),
                preferred_window: c.preferred_window.clone(),
                message: c.message.clone(),
                handled: c.state == "handled",
                created: timeline::format_datetime(c.created_at.0, &tz, lang),
            })
            .collect(),
        can_reply: !matches!(effect, ReplyEffect::TooOldToReopen | ReplyEffect::Closed),
        reply_reopens: effect == ReplyEffect::Reopen,
        too_old_to_reopen: effect == ReplyEffect::TooOldToReopen,
        closed: effect == ReplyEffect::Closed,
        can_confirm: crate::domain::customer_can_confirm_solution(status),
        reply_body: forms.reply_body,
        contact: forms.contact,
        errors: forms.errors,
        notice_section: match forms.notice {
            Some("detail.notice_reply" | "detail.notice_reopened") => "conversation",
            Some("detail.notice_contact") => "contact",
            _ => "top",
        },
        notice: forms.notice,
        max_files: state.config.upload_max_files,
        max_file_mb: state.config.upload_max_file_bytes / (1024 * 1024),
    }
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    done: Option<String>,
}

/// `GET /portal/tickets/{id}`.
pub async fn show_ticket(
    State(state): State<AppState>,
    SignedIn(ctx, session): SignedIn,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<DetailQuery>,
) -> Result<Response, AppError> {
    let id: i64 = id
        .trim_start_matches('#')
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let detail = service::portal::ticket_detail(&state, session.user.id, id).await?;
    let notice = match query.done.as_deref() {
        Some("reply") => Some("detail.notice_reply"),
        Some("reopened") => Some("detail.notice_reopened"),
        Some("confirmed") => Some("detail.notice_confirmed"),
        Some("contact") => Some("detail.notice_contact"),
        Some("created") => Some("detail.notice_created"),
        _ => None,
    };
    render(&detail_page(
        &state,
        &ctx,
        &session,
        &detail,
        DetailForms {
            notice,
            ..DetailForms::default()
        },
    ))
}

async fn detail_with_errors(
    state: &AppState,
    ctx: &Ctx,
    session: &AuthSession,
    id: i64,
    forms: DetailForms,
) -> Result<Response, AppError> {
    let detail = service::portal::ticket_detail(state, session.user.id, id).await?;
    let mut response = render(&detail_page(state, ctx, session, &detail, forms))?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// `POST /portal/tickets/{id}/replies` (multipart): a public reply with files.
pub async fn create_reply(
    State(state): State<AppState>,
    SignedIn(ctx, session): SignedIn,
    Path(id): Path<i64>,
    multipart: MultipartForm,
) -> Result<Response, AppError> {
    // The ticket must be visible before anything about the upload is said.
    store::portal::find_visible(&state.db, session.user.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (fields, uploads) = read_multipart(&state, multipart).await;
    let uploads = match uploads {
        Ok(uploads) => uploads,
        Err(key) => {
            let forms = DetailForms {
                reply_body: field(&fields, "body").to_owned(),
                errors: vec![("attachments", key)],
                ..DetailForms::default()
            };
            return detail_with_errors(&state, &ctx, &session, id, forms).await;
        }
    };
    let body = field(&fields, "body").to_owned();
    match service::portal::reply(&state, session.user.id, id, &body, uploads).await {
        Ok((effect, _)) => {
            let done = if effect == ReplyEffect::Reopen {
                "reopened"
            } else {
                "reply"
            };
            Ok(super::keeping_cached_rows(
                Redirect::to(&format!("/portal/tickets/{id}?done={done}#conversation"))
                    .into_response(),
            ))
        }
        Err(PortalError::Invalid(errors)) => {
            let forms = DetailForms {
                reply_body: body,
                errors,
                ..DetailForms::default()
            };
            detail_with_errors(&state, &ctx, &session, id, forms).await
        }
        Err(PortalError::NotNow(key)) => {
            let forms = DetailForms {
                reply_body: body,
                errors: vec![("body", key)],
                ..DetailForms::default()
            };
            detail_with_errors(&state, &ctx, &session, id, forms).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /portal/tickets/{id}/confirm`: the customer confirms the solution.
pub async fn confirm_solution(
    State(state): State<AppState>,
    SignedIn(ctx, session): SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    match service::portal::confirm_solution(&state, session.user.id, id).await {
        Ok(()) => Ok(Redirect::to(&format!("/portal/tickets/{id}?done=confirmed")).into_response()),
        Err(PortalError::NotNow(key)) => {
            // The confirm form, and its error slot, show only while the
            // solution can be confirmed; the reason goes in the page notice.
            let forms = DetailForms {
                errors: vec![("confirm", key)],
                notice: Some(key),
                ..DetailForms::default()
            };
            detail_with_errors(&state, &ctx, &session, id, forms).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ContactFormInput {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    preferred_window: String,
    #[serde(default)]
    message: String,
}

/// `POST /portal/tickets/{id}/contact-requests`: "Solicitação de Contato".
pub async fn create_contact_request(
    State(state): State<AppState>,
    SignedIn(ctx, session): SignedIn,
    Path(id): Path<i64>,
    Form(input): Form<ContactFormInput>,
) -> Result<Response, AppError> {
    let form = ContactForm {
        channel: input.channel,
        phone: input.phone,
        preferred_window: input.preferred_window,
        message: input.message,
    };
    match service::portal::request_contact(&state, session.user.id, id, &form).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/portal/tickets/{id}?done=contact#contact")).into_response())
        }
        Err(PortalError::Invalid(errors)) => {
            let forms = DetailForms {
                contact: form,
                errors,
                ..DetailForms::default()
            };
            detail_with_errors(&state, &ctx, &session, id, forms).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /portal/tickets/{id}/attachments/{attachment}`: always a download.
pub async fn download_attachment(
    State(state): State<AppState>,
    SignedIn(_ctx, session): SignedIn,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    store::portal::find_visible(&state.db, session.user.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let file = store::portal::visible_attachment(&state.db, id, attachment)
        .await?
        .ok_or(AppError::NotFound)?;
    let data = state
        .blobs
        .get(&file.storage_key)
        .await
        .map_err(|e| AppError::Internal(e.0))?;
    Ok(uploads::download(data, &file.file_name, &file.content_type))
}

// ---------------------------------------------------------------------------
// New ticket

/// One initial question as the form shows it. Built-in questions keep their
/// fixed field names (`organization`, `ticket_type`, `subject`,
/// `description`, `attachments`); added ones are named by their key.
pub struct QuestionView {
    pub key: String,
    /// `organization`, `type`, `subject`, `description`, `attachments`,
    /// `choice` or `text`.
    pub kind: &'static str,
    pub label: String,
    pub mandatory: bool,
    /// (value, label) of a choice.
    pub options: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "portal/ticket_new.html")]
pub struct NewTicketPage {
    layout: Layout,
    orgs: Vec<(i64, String)>,
    types: Vec<(&'static str, &'static str, &'static str)>,
    questions: Vec<QuestionView>,
    form: NewTicketForm,
    errors: Vec<(&'static str, &'static str)>,
    question_errors: Vec<(String, &'static str)>,
    max_files: u32,
    max_file_mb: u64,
}

impl NewTicketPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, key)| self.layout.t.t(key))
    }

    fn question_error(&self, key: &str) -> Option<&str> {
        self.question_errors
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, message)| self.layout.t.t(message))
    }

    fn org_selected(&self, id: i64) -> bool {
        self.form.organization.as_deref() == Some(id.to_string().as_str())
    }

    fn answer(&self, key: &str) -> &str {
        self.form.answer(key)
    }
}

/// The active questions in order, as views.
fn question_views(questions: &[TriageQuestion], lang: Lang) -> Vec<QuestionView> {
    questions
        .iter()
        .filter(|q| q.active)
        .map(|q| QuestionView {
            key: q.key.clone(),
            kind: match (q.key.as_str(), q.kind) {
                ("organization", _) | (_, QuestionKind::Organization) => "organization",
                ("type", _) => "type",
                ("subject", _) => "subject",
                ("description", _) => "description",
                (_, QuestionKind::Attachment) => "attachments",
                (_, QuestionKind::Choice) => "choice",
                (_, QuestionKind::Text) => "text",
            },
            label: q.text(lang).to_owned(),
            mandatory: q.mandatory,
            options: q
                .options
                .iter()
                .map(|o| {
                    (
                        o.value.clone(),
                        TriageQuestion::option_text(o, lang).to_owned(),
                    )
                })
                .collect(),
        })
        .collect()
}

struct NewTicketInput<'a> {
    memberships: &'a [Membership],
    questions: &'a [TriageQuestion],
    form: NewTicketForm,
    errors: Vec<(&'static str, &'static str)>,
    question_errors: Vec<(String, &'static str)>,
}

fn new_ticket_page(state: &AppState, ctx: &Ctx, input: NewTicketInput<'_>) -> NewTicketPage {
    NewTicketPage {
        layout: Layout::new(state, ctx),
        orgs: if input.memberships.len() > 1 {
            input
                .memberships
                .iter()
                .map(|m| (m.organization_id.0, m.organization_name.clone()))
                .collect()
        } else {
            Vec::new()
        },
        types: TicketType::ALL
            .into_iter()
            .map(|t| (t.key(), t.label(ctx.lang), t.description(ctx.lang)))
            .collect(),
        questions: question_views(input.questions, ctx.lang),
        form: input.form,
        errors: input.errors,
        question_errors: input.question_errors,
        max_files: state.config.upload_max_files,
        max_file_mb: state.config.upload_max_file_bytes / (1024 * 1024),
    }
}

/// `GET /portal/tickets/new`: the mandatory initial questions (the admin's
/// triage questions, in their order).
pub async fn new_ticket(
    State(state): State<AppState>,
    SignedIn(ctx, session): SignedIn,
) -> Result<Response, AppError> {
    let memberships = service::node_cache::memberships(&state, session.user.id).await?;
    let questions = service::admin::triage_questions(&state).await?;
    let form = NewTicketForm {
        submission_key: service::random_hex(16),
        ..NewTicketForm::default()
    };
    render(&new_ticket_page(
        &state,
        &ctx,
        NewTicketInput {
            memberships: &memberships,
            questions: &questions,
            form,
            errors: Vec::new(),
            question_errors: Vec::new(),
        },
    ))
}

/// `POST /portal/tickets` (multipart): opens the ticket as *Enviado*.
pub async fn create_ticket(
    State(state): State<AppState>,
    SignedIn(ctx, session): SignedIn,
    multipart: MultipartForm,
) -> Result<Response, AppError> {
    let memberships = service::node_cache::memberships(&state, session.user.id).await?;
    let questions = service::admin::triage_questions(&state).await?;
    let (fields, uploads) = read_multipart(&state, multipart).await;
    let form = NewTicketForm {
        organization: Some(field(&fields, "organization").to_owned()).filter(|o| !o.is_empty()),
        ticket_type: field(&fields, "ticket_type").to_owned(),
        subject: field(&fields, "subject").to_owned(),
        description: field(&fields, "description").to_owned(),
        submission_key: field(&fields, "submission_key").to_owned(),
        answers: fields
            .iter()
            .filter(|(k, _)| k.starts_with("q-"))
            .cloned()
            .collect(),
    };
    let outcome = match uploads {
        Err(key) => Err(PortalError::Invalid(vec![("attachments", key)])),
        Ok(uploads) => {
            service::portal::open_ticket(
                &state,
                session.user.id,
                &memberships,
                &form,
                uploads,
                &questions,
                ctx.lang,
            )
            .await
        }
    };
    match outcome {
        Ok((id, created)) => {
            if created {
                tracing::info!(ticket = %id, "ticket opened in the portal");
            }
            Ok(super::keeping_cached_rows(
                Redirect::to(&format!("/portal/tickets/{id}?done=created")).into_response(),
            ))
        }
        Err(PortalError::Invalid(errors)) => invalid_new_ticket(
            &state,
            &ctx,
            &memberships,
            &questions,
            form,
            errors,
            Vec::new(),
        ),
        Err(PortalError::InvalidAnswers {
            fields,
            questions: failing,
        }) => invalid_new_ticket(
            &state,
            &ctx,
            &memberships,
            &questions,
            form,
            fields,
            failing,
        ),
        Err(other) => Err(other.into()),
    }
}

/// Shows the new-ticket form again with its messages (status 422).
fn invalid_new_ticket(
    state: &AppState,
    ctx: &Ctx,
    memberships: &[Membership],
    questions: &[TriageQuestion],
    mut form: NewTicketForm,
    errors: Vec<(&'static str, &'static str)>,
    question_errors: Vec<(String, &'static str)>,
) -> Result<Response, AppError> {
    if form.submission_key.len() != 32 {
        form.submission_key = service::random_hex(16);
    }
    let mut response = render(&new_ticket_page(
        state,
        ctx,
        NewTicketInput {
            memberships,
            questions,
            form,
            errors,
            question_errors,
        },
    ))?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// The timestamp of a `Ts`, for templates.
pub fn ts(value: Ts) -> jiff::Timestamp {
    value.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_params_round_trip_through_the_url() {
        let params = ListParams::parse(Some(
            "view=org&org=3&org=5&status=sent&status=solved&status=bogus&type=incident&from=2026-01-01&to=2026-02-01&q=nota%20fiscal&sort=updated&dir=asc",
        ));
        assert_eq!(params.view, View::Org);
        assert_eq!(params.orgs, [3, 5]);
        assert_eq!(params.statuses, [TicketStatus::Sent, TicketStatus::Solved]);
        assert_eq!(params.text, "nota fiscal");
        assert!(!params.descending);
        let again = ListParams::parse(Some(&params.query_string()));
        assert_eq!(again.query_string(), params.query_string());
    }

    #[test]
    fn malformed_dates_are_reported() {
        let params = ListParams::parse(Some("from=31/12/2026"));
        assert_eq!(params.errors, [("from", "form.bad_date")]);
        assert!(params.from.is_none());
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(512, Lang::PtBr), "512 B");
        assert_eq!(human_size(3 * 1024 * 1024 + 400_000, Lang::PtBr), "3,4 MB");
        assert_eq!(human_size(3 * 1024 * 1024 + 400_000, Lang::En), "3.4 MB");
    }
}
