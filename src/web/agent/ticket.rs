//! The agent's ticket page (`/agent/tickets/{id}`) and its actions: public
//! reply or internal note with files, status change, assignment,
//! escalation to Tech, downloads.
//!
//! Every form carries the ticket's `version`. A stale one answers 409 with
//! the current ticket and the message that someone else changed it; what
//! the agent typed stays in the form, and nothing was written. A refused
//! input answers 422 with the message next to its field.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{form_version, path_id, user_tz};
use crate::web::uploads::{MultipartForm, download, field, read_multipart};
use crate::{
    AppState,
    domain::{Lang, TicketStatus, TicketType, format_duration},
    error::AppError,
    i18n::Tr,
    service::{
        self,
        agent::{AgentError, CommentForm, TicketWorkspace},
        sessions::AuthSession,
    },
    store::{
        agent::{Named, TicketLink},
        events::{EventKind, TicketEvent},
    },
    web::{
        Ctx, Layout, Staff, markdown,
        portal::{FileView, TimeRow, human_size},
        render, timeline,
    },
};

/// A comment as displayed.
pub struct CommentView {
    pub id: i64,
    pub author: String,
    pub from_team: bool,
    pub internal: bool,
    pub at: String,
    pub body_html: String,
    pub files: Vec<FileView>,
}

/// A file in the ticket's list of every attachment.
pub struct AttachmentView {
    pub file: FileView,
    /// Attached to an internal note: the customer never sees it.
    pub internal: bool,
    pub comment_id: Option<i64>,
}

/// Another ticket, linked.
pub struct LinkView {
    pub id: i64,
    pub subject: String,
    pub status_key: &'static str,
    pub status_label: &'static str,
    pub created: String,
}

/// A contact request as the team sees it.
pub struct ContactView {
    pub id: i64,
    pub channel_key: String,
    pub phone: String,
    pub preferred_window: String,
    pub message: String,
    pub handled: bool,
    pub created: String,
    pub handled_line: Option<String>,
    pub handled_note: Option<String>,
}

/// One line of the audit trail.
pub struct AuditRow {
    pub at: String,
    pub text: String,
    /// The comment it refers to, on this page.
    pub anchor: Option<String>,
}

/// What the forms hold when the page is drawn again, and the page's notice.
#[derive(Debug)]
pub struct Forms {
    pub body: String,
    pub public: bool,
    pub escalation_note: String,
    /// The note typed for one contact request, with the error it got.
    pub contact: Option<(i64, String, &'static str)>,
    pub errors: Vec<(&'static str, &'static str)>,
    pub notice: Option<&'static str>,
    pub conflict: bool,
}

impl Default for Forms {
    fn default() -> Self {
        Self {
            body: String::new(),
            public: true,
            escalation_note: String::new(),
            contact: None,
            errors: Vec::new(),
            notice: None,
            conflict: false,
        }
    }
}

#[derive(Template)]
#[template(path = "agent/ticket_detail.html")]
pub struct TicketDetailPage {
    layout: Layout,
    id: i64,
    version: i64,
    subject: String,
    type_label: &'static str,
    status_key: &'static str,
    status_label: &'static str,
    created: String,
    updated: String,
    organization: Option<(i64, String)>,
    requester: String,
    requester_email: String,
    assignee: Option<String>,
    group: Option<String>,
    channel: String,
    time_rows: Vec<TimeRow>,
    timeline_svg: String,
    description_html: String,
    description_files: Vec<FileView>,
    attachments: Vec<AttachmentView>,
    comments: Vec<CommentView>,
    status_targets: Vec<(&'static str, &'static str)>,
    can_set_awaiting: bool,
    can_set_solved: bool,
    can_escalate: bool,
    agents: Vec<(i64, String, bool)>,
    groups: Vec<(i64, String, bool)>,
    contacts: Vec<ContactView>,
    requester_tickets: Vec<LinkView>,
    organization_tickets: Vec<LinkView>,
    requester_queue_url: String,
    organization_queue_url: Option<String>,
    audit: Vec<AuditRow>,
    forms: Forms,
    notice_section: &'static str,
    max_files: u32,
    max_file_mb: u64,
}

impl TicketDetailPage {
    /// The channel's label; a channel without one shows its key.
    fn channel_label(&self) -> String {
        let key = format!("agent.channel.{}", self.channel);
        let label = self.layout.t.t(&key);
        if label == key {
            self.channel.clone()
        } else {
            label.to_owned()
        }
    }

    fn notice_key(&self) -> Option<&'static str> {
        self.forms.notice
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        self.forms
            .errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, key)| self.layout.t.t(key))
    }

    fn contact_note(&self, id: i64) -> &str {
        match &self.forms.contact {
            Some((cid, note, _)) if *cid == id => note,
            _ => "",
        }
    }

    fn contact_error(&self, id: i64) -> Option<&str> {
        match &self.forms.contact {
            Some((cid, _, key)) if *cid == id => Some(self.layout.t.t(key)),
            _ => None,
        }
    }
}

fn status_label(key: &str, lang: Lang) -> &'static str {
    TicketStatus::from_key(key)
        .unwrap_or(TicketStatus::Sent)
        .label(lang)
}

fn link_view(link: &TicketLink, tz: &jiff::tz::TimeZone, lang: Lang) -> LinkView {
    let status = TicketStatus::from_key(&link.status).unwrap_or(TicketStatus::Sent);
    LinkView {
        id: link.id,
        subject: link.subject.clone(),
        status_key: status.key(),
        status_label: status.label(lang),
        created: timeline::format_date(link.created_at.0, tz, lang),
    }
}

/// Who did it, as the audit trail names them.
fn actor_name(t: &Tr, event: &TicketEvent, people: &BTreeMap<i64, String>) -> String {
    if event.actor_kind == "system" {
        return t.t("agent.audit.system").to_owned();
    }
    match event.actor_id {
        Some(id) => people.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
        None if event.actor_kind == "customer" => t.t("agent.audit.customer").to_owned(),
        None => t.t("agent.audit.team").to_owned(),
    }
}

fn named(names: &[Named], id: i64) -> String {
    names
        .iter()
        .find(|n| n.id == id)
        .map_or_else(|| format!("#{id}"), |n| n.name.clone())
}

/// One audit-trail entry in the agent's language.
fn audit_text(t: &Tr, event: &TicketEvent, ws: &TicketWorkspace) -> (String, Option<String>) {
    let actor = actor_name(t, event, &ws.people);
    let data = &event.data.0;
    let text_of = |key: &str| data.get(key).and_then(serde_json::Value::as_str);
    let id_of = |key: &str| data.get(key).and_then(serde_json::Value::as_i64);
    let lang = t.lang;
    let person = |id: i64| {
        ws.people
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    };
    let only_actor = |key: &str| t.fmt(key, &[("actor", &actor)]);
    let from_to = |key: &str, from: &str, to: &str| {
        t.fmt(key, &[("actor", &actor), ("from", from), ("to", to)])
    };
    match event.kind() {
        Some(EventKind::Created) => (only_actor("agent.audit.created"), None),
        Some(EventKind::StatusChanged) => (
            from_to(
                "agent.audit.status_changed",
                text_of("from").map_or("", |k| status_label(k, lang)),
                text_of("to").map_or("", |k| status_label(k, lang)),
            ),
            None,
        ),
        Some(EventKind::CommentAdded) => {
            let public = data
                .get("public")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true);
            let key = if public {
                "agent.audit.comment_public"
            } else {
                "agent.audit.comment_internal"
            };
            (
                only_actor(key),
                id_of("comment_id").map(|id| format!("comment-{id}")),
            )
        }
        Some(EventKind::ContactRequested) => (only_actor("agent.audit.contact_requested"), None),
        Some(EventKind::ContactHandled) => (only_actor("agent.audit.contact_handled"), None),
        Some(EventKind::AssigneeChanged) => {
            let text = match (id_of("from"), id_of("to")) {
                (None, Some(to)) => from_to("agent.audit.assigned", "", &person(to)),
                (Some(from), None) => from_to("agent.audit.unassigned", &person(from), ""),
                (from, to) => from_to(
                    "agent.audit.assignee_changed",
                    &from.map(person).unwrap_or_default(),
                    &to.map(person).unwrap_or_default(),
                ),
            };
            (text, None)
        }
        Some(EventKind::GroupChanged) => {
            let group = |id: i64| named(&ws.groups, id);
            let text = match (id_of("from"), id_of("to")) {
                (None, Some(to)) => from_to("agent.audit.group_set", "", &group(to)),
                (Some(from), None) => from_to("agent.audit.group_removed", &group(from), ""),
                (from, to) => from_to(
                    "agent.audit.group_changed",
                    &from.map(group).unwrap_or_default(),
                    &to.map(group).unwrap_or_default(),
                ),
            };
            (text, None)
        }
        Some(EventKind::ReminderSent) => (only_actor("agent.audit.reminder_sent"), None),
        None => (
            t.fmt(
                "agent.audit.other",
                &[("actor", &actor), ("kind", &event.kind)],
            ),
            None,
        ),
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "assembles one page from one workspace; splitting scatters it"
)]
fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    session: &AuthSession,
    ws: &TicketWorkspace,
    forms: Forms,
) -> TicketDetailPage {
    let layout = Layout::new(state, ctx);
    let lang = ctx.lang;
    let tz = user_tz(state, session);
    let now = state.clock.now();
    let ticket = &ws.ticket;
    let id = ticket.id;
    let status = ws.status();
    let file_view = |a: &crate::store::agent::AgentAttachment| FileView {
        url: format!("/agent/tickets/{id}/attachments/{}", a.id),
        name: a.file_name.clone(),
        size: human_size(a.size_bytes, lang),
        content_type: a.content_type.clone(),
    };
    let internal_comment = |comment: Option<i64>| {
        comment.is_some_and(|c| ws.comments.iter().any(|x| x.id == c && !x.public))
    };
    let comments = ws
        .comments
        .iter()
        .map(|c| CommentView {
            id: c.id,
            author: c
                .author_name
                .clone()
                .unwrap_or_else(|| layout.t.t("agent.audit.team").to_owned()),
            from_team: c.author_role.as_deref() != Some("customer"),
            internal: !c.public,
            at: timeline::format_datetime(c.created_at.0, &tz, lang),
            body_html: markdown::render_message(&c.body),
            files: ws
                .attachments
                .iter()
                .filter(|a| a.comment_id == Some(c.id))
                .map(file_view)
                .collect(),
        })
        .collect();
    let targets = service::agent::allowed_targets(status);
    let audit = ws
        .events
        .iter()
        .map(|event| {
            let (text, anchor) = audit_text(&layout.t, event, ws);
            AuditRow {
                at: timeline::format_datetime(event.at.0, &tz, lang),
                text,
                anchor,
            }
        })
        .collect();
    let contacts = ws
        .contact_requests
        .iter()
        .map(|c| ContactView {
            id: c.id,
            channel_key: c.channel.clone(),
            phone: c.phone.clone(),
            preferred_window: c.preferred_window.clone(),
            message: c.message.clone(),
            handled: c.state == "handled",
            created: timeline::format_datetime(c.created_at.0, &tz, lang),
            handled_line: c.handled_at.map(|at| {
                layout.t.fmt(
                    "agent.contacts.handled_by",
                    &[
                        ("name", c.handled_by_name.as_deref().unwrap_or("")),
                        ("at", &timeline::format_datetime(at.0, &tz, lang)),
                    ],
                )
            }),
            handled_note: c.handled_note.clone(),
        })
        .collect();
    TicketDetailPage {
        id,
        version: ticket.version,
        subject: ticket.subject.clone(),
        type_label: TicketType::from_key(&ticket.ticket_type)
            .unwrap_or(TicketType::Support)
            .label(lang),
        status_key: status.key(),
        status_label: status.label(lang),
        created: timeline::format_datetime(ticket.created_at.0, &tz, lang),
        updated: timeline::format_datetime(ticket.updated_at.0, &tz, lang),
        organization: ticket.organization_id.zip(ticket.organization_name.clone()),
        requester: ticket.requester_name.clone(),
        requester_email: ticket.requester_email.clone(),
        assignee: ticket.assignee_name.clone(),
        group: ticket.group_name.clone(),
        channel: ticket.channel.clone(),
        time_rows: ws
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
        timeline_svg: timeline::timeline_svg(&ws.time_in_status.spans, now, lang, &tz),
        description_html: markdown::render_message(&ticket.description),
        description_files: ws
            .attachments
            .iter()
            .filter(|a| a.comment_id.is_none())
            .map(file_view)
            .collect(),
        attachments: ws
            .attachments
            .iter()
            .map(|a| AttachmentView {
                file: file_view(a),
                internal: internal_comment(a.comment_id),
                comment_id: a.comment_id,
            })
            .collect(),
        comments,
        can_set_awaiting: targets.contains(&TicketStatus::AwaitingReply),
        can_set_solved: targets.contains(&TicketStatus::Solved),
        can_escalate: targets.contains(&TicketStatus::WithTech),
        status_targets: targets.iter().map(|s| (s.key(), s.label(lang))).collect(),
        agents: ws
            .agents
            .iter()
            .map(|a| (a.id, a.name.clone(), ticket.assignee_id == Some(a.id)))
            .collect(),
        groups: ws
            .groups
            .iter()
            .map(|g| (g.id, g.name.clone(), ticket.group_id == Some(g.id)))
            .collect(),
        contacts,
        requester_tickets: ws
            .requester_tickets
            .iter()
            .map(|l| link_view(l, &tz, lang))
            .collect(),
        organization_tickets: ws
            .organization_tickets
            .iter()
            .map(|l| link_view(l, &tz, lang))
            .collect(),
        requester_queue_url: format!("/agent?requester={}", ticket.requester_id),
        organization_queue_url: ticket.organization_id.map(|o| format!("/agent?org={o}")),
        audit,
        notice_section: match forms.notice {
            Some("agent.notice.reply" | "agent.notice.note" | "agent.notice.reply_status") => {
                "conversation"
            }
            Some("agent.notice.contact_handled") => "contacts",
            _ => "top",
        },
        forms,
        max_files: state.config.upload_max_files,
        max_file_mb: state.config.upload_max_file_bytes / (1024 * 1024),
        layout,
    }
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    done: Option<String>,
}

/// `GET /agent/tickets/{id}`.
pub async fn show_ticket(
    State(state): State<AppState>,
    Staff(ctx, session): Staff,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let ws = service::agent::ticket(&state, id).await?;
    let notice = match query.done.as_deref() {
        Some("reply") => Some("agent.notice.reply"),
        Some("note") => Some("agent.notice.note"),
        Some("reply_status") => Some("agent.notice.reply_status"),
        Some("status") => Some("agent.notice.status"),
        Some("assigned") => Some("agent.notice.assigned"),
        Some("unchanged") => Some("agent.notice.unchanged"),
        Some("escalated") => Some("agent.notice.escalated"),
        Some("contact_handled") => Some("agent.notice.contact_handled"),
        _ => None,
    };
    render(&detail_page(
        &state,
        &ctx,
        &session,
        &ws,
        Forms {
            notice,
            ..Forms::default()
        },
    ))
}

/// Draws the page again after a refused or stale form: 422 with the
/// messages, or 409 when someone else changed the ticket first.
pub(super) async fn redraw(
    state: &AppState,
    ctx: &Ctx,
    session: &AuthSession,
    id: i64,
    forms: Forms,
) -> Result<Response, AppError> {
    let ws = service::agent::ticket(state, id).await?;
    let status = if forms.conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = render(&detail_page(state, ctx, session, &ws, forms))?;
    *response.status_mut() = status;
    Ok(response)
}

/// Turns a use case's outcome into a redirect or the page drawn again.
async fn settle(
    state: &AppState,
    ctx: &Ctx,
    session: &AuthSession,
    id: i64,
    outcome: Result<&str, AgentError>,
    forms: Forms,
) -> Result<Response, AppError> {
    match outcome {
        Ok(target) => Ok(Redirect::to(target).into_response()),
        Err(AgentError::Invalid(errors)) => {
            redraw(state, ctx, session, id, Forms { errors, ..forms }).await
        }
        Err(AgentError::Conflict) => {
            tracing::info!(ticket = id, "stale ticket form refused");
            redraw(
                state,
                ctx,
                session,
                id,
                Forms {
                    conflict: true,
                    ..forms
                },
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /agent/tickets/{id}/comments` (multipart): a public reply or an
/// internal note, with files, and optionally a status in the same change.
pub async fn create_comment(
    State(state): State<AppState>,
    Staff(ctx, session): Staff,
    Path(id): Path<String>,
    multipart: MultipartForm,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    crate::store::agent::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (fields, uploads) = read_multipart(&state, multipart).await;
    let visibility = field(&fields, "visibility");
    let forms = Forms {
        body: field(&fields, "body").to_owned(),
        public: visibility != "internal",
        ..Forms::default()
    };
    let uploads = match uploads {
        Ok(uploads) => uploads,
        Err(key) => {
            let forms = Forms {
                errors: vec![("attachments", key)],
                ..forms
            };
            return redraw(&state, &ctx, &session, id, forms).await;
        }
    };
    if !matches!(visibility, "public" | "internal") {
        uploads.discard().await;
        let forms = Forms {
            errors: vec![("visibility", "form.choose_one")],
            ..forms
        };
        return redraw(&state, &ctx, &session, id, forms).await;
    }
    let then = match field(&fields, "then").trim() {
        "" => None,
        key => {
            let Some(status) = TicketStatus::from_key(key) else {
                uploads.discard().await;
                let forms = Forms {
                    errors: vec![("then", "form.choose_one")],
                    ..forms
                };
                return redraw(&state, &ctx, &session, id, forms).await;
            };
            Some(status)
        }
    };
    let form = CommentForm {
        version: form_version(field(&fields, "version")),
        body: forms.body.clone(),
        public: forms.public,
        then,
    };
    let done = match (then.is_some(), form.public) {
        (true, _) => "reply_status",
        (false, true) => "reply",
        (false, false) => "note",
    };
    let target = format!("/agent/tickets/{id}?done={done}#conversation");
    let outcome = service::agent::comment(&state, session.user.id, id, &form, uploads)
        .await
        .map(|()| target.as_str());
    settle(&state, &ctx, &session, id, outcome, forms).await
}

#[derive(Debug, Deserialize)]
pub struct StatusInput {
    #[serde(default)]
    version: String,
    #[serde(default)]
    status: String,
}

/// `POST /agent/tickets/{id}/status`.
pub async fn update_ticket_status(
    State(state): State<AppState>,
    Staff(ctx, session): Staff,
    Path(id): Path<String>,
    Form(input): Form<StatusInput>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let target = format!("/agent/tickets/{id}?done=status");
    let outcome = service::agent::change_status(
        &state,
        session.user.id,
        id,
        form_version(&input.version),
        &input.status,
    )
    .await
    .map(|_| target.as_str());
    settle(&state, &ctx, &session, id, outcome, Forms::default()).await
}

#[derive(Debug, Deserialize)]
pub struct AssignmentInput {
    #[serde(default)]
    version: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    group: String,
}

/// `POST /agent/tickets/{id}/assignment`: an agent and a group.
pub async fn update_assignment(
    State(state): State<AppState>,
    Staff(ctx, session): Staff,
    Path(id): Path<String>,
    Form(input): Form<AssignmentInput>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let changed = format!("/agent/tickets/{id}?done=assigned");
    let unchanged = format!("/agent/tickets/{id}?done=unchanged");
    let outcome = service::agent::assign(
        &state,
        session.user.id,
        id,
        form_version(&input.version),
        &input.assignee,
        &input.group,
    )
    .await
    .map(|did| {
        if did {
            changed.as_str()
        } else {
            unchanged.as_str()
        }
    });
    settle(&state, &ctx, &session, id, outcome, Forms::default()).await
}

#[derive(Debug, Deserialize)]
pub struct EscalationInput {
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
}

/// `POST /agent/tickets/{id}/escalation`: to the tech team, with the
/// required internal note, as one change.
pub async fn create_escalation(
    State(state): State<AppState>,
    Staff(ctx, session): Staff,
    Path(id): Path<String>,
    Form(input): Form<EscalationInput>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let target = format!("/agent/tickets/{id}?done=escalated");
    let outcome = service::agent::escalate(
        &state,
        session.user.id,
        id,
        form_version(&input.version),
        &input.note,
    )
    .await
    .map(|()| target.as_str());
    let forms = Forms {
        escalation_note: input.note,
        ..Forms::default()
    };
    settle(&state, &ctx, &session, id, outcome, forms).await
}

/// `GET /agent/tickets/{id}/attachments/{attachment}`: any file of the
/// ticket, internal notes' included; always a download.
pub async fn download_attachment(
    State(state): State<AppState>,
    Staff(_ctx, _session): Staff,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let attachment = path_id(&attachment)?;
    let file = crate::store::agent::attachment(&state.db, id, attachment)
        .await?
        .ok_or(AppError::NotFound)?;
    let data = state
        .blobs
        .get(&file.storage_key)
        .await
        .map_err(|e| AppError::Internal(e.0))?;
    Ok(download(data, &file.file_name, &file.content_type))
}
