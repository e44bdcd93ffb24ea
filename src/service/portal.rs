//! The customer portal's use cases: list, read, reply, confirm, ask for
//! contact, open a ticket. Every one starts from what the viewer may see
//! (`store::portal`), so a ticket outside their scope answers `NotFound`
//! exactly like a missing one.

use jiff::Timestamp;

use crate::{
    AppState,
    domain::{
        self, ActorKind, OrgId, ReplyEffect, TicketId, TicketStatus, TicketType, TimeInStatus,
        UserId,
    },
    service::{
        attachments::StagedFiles,
        limits::{self, Action, LimitError},
    },
    store::{
        self, StoreError, Ts,
        contacts::{ContactRequest, NewContactRequest},
        portal::{PublicComment, VisibleAttachment, VisibleTicket},
        tickets::{Actor, NewPortalTicket, NewTicket, StoredFile},
        users::Membership,
    },
};

/// A failure of a portal use case.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// Missing, or not the viewer's to see.
    #[error("not found")]
    NotFound,
    /// Input to show next to the form's fields: (field, message key).
    #[error("invalid input")]
    Invalid(Vec<(&'static str, &'static str)>),
    /// A new ticket's answers: built-in fields and questions admins added.
    #[error("invalid answers")]
    InvalidAnswers {
        fields: Vec<(&'static str, &'static str)>,
        questions: Vec<(String, &'static str)>,
    },
    /// The ticket changed meanwhile (e.g. an agent moved it).
    #[error("the ticket changed meanwhile")]
    Conflict,
    /// The action does not fit the ticket's status (message key).
    #[error("not allowed in this status: {0}")]
    NotNow(&'static str),
    /// Over a per-user limit: try again after this long.
    #[error("too many requests")]
    TooMany { retry_after: jiff::SignedDuration },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] crate::blob::BlobError),
}

impl From<LimitError> for PortalError {
    fn from(error: LimitError) -> Self {
        match error {
            LimitError::Exceeded { retry_after } => PortalError::TooMany { retry_after },
            LimitError::Store(e) => e.into(),
        }
    }
}

/// Everything the detail page shows.
#[derive(Clone, Debug)]
pub struct TicketDetail {
    pub ticket: VisibleTicket,
    pub time_in_status: TimeInStatus,
    pub comments: Vec<PublicComment>,
    pub attachments: Vec<VisibleAttachment>,
    pub contact_requests: Vec<ContactRequest>,
    /// What a customer reply would do now.
    pub reply_effect: ReplyEffect,
}

impl TicketDetail {
    pub fn status(&self) -> TicketStatus {
        TicketStatus::from_key(&self.ticket.status).unwrap_or(TicketStatus::Sent)
    }
}

/// The ticket with its history, public conversation, files and contact
/// requests, or `NotFound`.
pub async fn ticket_detail(
    state: &AppState,
    viewer: UserId,
    id: i64,
) -> Result<TicketDetail, PortalError> {
    let store::portal::TicketPageRows {
        ticket,
        status_events,
        comments,
        attachments,
        contact_requests,
    } = store::portal::ticket_page(&state.db, viewer, id)
        .await?
        .ok_or(PortalError::NotFound)?;
    let events: Vec<domain::StatusEvent> = status_events
        .iter()
        .filter_map(|e| {
            Some(domain::StatusEvent {
                from: e.from_status.as_deref().and_then(TicketStatus::from_key),
                to: TicketStatus::from_key(&e.to_status)?,
                at: e.at.0,
            })
        })
        .collect();
    let time_in_status = domain::time_in_status(
        &events,
        state.clock.now(),
        &super::calendar::business_calendar(state).await?,
    );
    let reply_effect = reply_effect(state, &ticket).await?;
    Ok(TicketDetail {
        ticket,
        time_in_status,
        comments,
        attachments,
        contact_requests,
        reply_effect,
    })
}

/// What a reply would do to the ticket right now (the reopen window is an
/// admin setting).
pub async fn reply_effect(
    state: &AppState,
    ticket: &VisibleTicket,
) -> Result<ReplyEffect, StoreError> {
    let status = TicketStatus::from_key(&ticket.status).unwrap_or(TicketStatus::Sent);
    Ok(domain::customer_reply_effect(
        status,
        ticket.solved_at.map(|t| t.0),
        state.clock.now(),
        super::automations::reopen_window(state).await?,
    ))
}

/// Each status's count of tickets matching `query`'s filters (pages and
/// sort aside), reused while no data changed (`service::counts`).
///
/// `memberships` are the viewer's as just read: they are part of the key,
/// so a membership that changed without a write on this node (a sign-in
/// through another surface) never lets an old count show.
pub async fn status_counts(
    state: &AppState,
    query: &store::portal::ListQuery,
    memberships: &[store::users::Membership],
) -> Result<Vec<(String, i64)>, StoreError> {
    let scope = store::portal::ListQuery {
        after: None,
        before: None,
        sort: store::portal::SortKey::Created,
        descending: true,
        limit: 0,
        ..query.clone()
    };
    let generation = state.hub.generation();
    state
        .portal_counts
        .get_or_compute(
            super::counts::key_of(&(
                &scope,
                memberships
                    .iter()
                    .map(|m| (m.organization_id.0, m.can_see_org_tickets))
                    .collect::<Vec<_>>(),
            )),
            generation,
            store::portal::status_counts(&state.db, &scope),
        )
        .await
}

/// Checks uploads against the limits; returns message keys for the form.
pub fn check_uploads(state: &AppState, uploads: &[StoredFile]) -> Result<(), PortalError> {
    let max_files = usize::try_from(state.config.upload_max_files).unwrap_or(usize::MAX);
    if uploads.len() > max_files {
        return Err(PortalError::Invalid(vec![(
            "attachments",
            "form.too_many_files",
        )]));
    }
    if uploads.iter().any(|u| {
        u64::try_from(u.size_bytes).unwrap_or(u64::MAX) > state.config.upload_max_file_bytes
    }) {
        return Err(PortalError::Invalid(vec![(
            "attachments",
            "form.file_too_large",
        )]));
    }
    if uploads
        .iter()
        .any(|u| u.file_name.trim().is_empty() || u.file_name.len() > 255)
    {
        return Err(PortalError::Invalid(vec![(
            "attachments",
            "form.bad_file_name",
        )]));
    }
    Ok(())
}

/// Customer text as it can be stored: PostgreSQL refuses NUL in text (the
/// write would fail), and no one means to type one.
fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}

/// Message length limits.
const MAX_BODY: usize = 20_000;
const MAX_SUBJECT: usize = 200;

/// Posts the customer's public reply, with files, applying the status rules:
/// *Aguardando Sua Resposta* → *Em Tratativa*; a recently solved ticket
/// reopens; an older solved ticket refuses (the page offers a new ticket).
pub async fn reply(
    state: &AppState,
    viewer: UserId,
    id: i64,
    body: &str,
    mut uploads: StagedFiles,
) -> Result<(ReplyEffect, crate::domain::CommentId), PortalError> {
    let result = reply_with_files(state, viewer, id, body, uploads.for_write()).await;
    uploads.settle(result.is_ok()).await;
    result
}

async fn reply_with_files(
    state: &AppState,
    viewer: UserId,
    id: i64,
    body: &str,
    files: &[StoredFile],
) -> Result<(ReplyEffect, crate::domain::CommentId), PortalError> {
    let ticket = store::portal::find_visible(&state.db, viewer, id)
        .await?
        .ok_or(PortalError::NotFound)?;
    let body = without_nul(body);
    let body = body.trim();
    if body.is_empty() {
        return Err(PortalError::Invalid(vec![("body", "form.required")]));
    }
    if body.chars().count() > MAX_BODY {
        return Err(PortalError::Invalid(vec![("body", "form.too_long")]));
    }
    check_uploads(state, files)?;
    let effect = reply_effect(state, &ticket).await?;
    let status = TicketStatus::from_key(&ticket.status).unwrap_or(TicketStatus::Sent);
    let change = match effect {
        ReplyEffect::TooOldToReopen => return Err(PortalError::NotNow("detail.too_old_to_reopen")),
        ReplyEffect::Closed => return Err(PortalError::NotNow("detail.closed")),
        ReplyEffect::Stay => None,
        ReplyEffect::MoveTo(to) => Some((status, to)),
        ReplyEffect::Reopen => Some((status, TicketStatus::InProgress)),
    };
    limits::take(state, viewer, Action::Message).await?;
    let comment = store::tickets::add_customer_reply(
        &state.db,
        TicketId(id),
        viewer,
        body,
        change,
        files,
        state.clock.now(),
    )
    .await
    .map_err(|error| match error {
        StoreError::Conflict(_) => PortalError::Conflict,
        other => other.into(),
    })?;
    Ok((effect, comment))
}

/// The customer confirms the solution of a ticket awaiting their reply.
pub async fn confirm_solution(
    state: &AppState,
    viewer: UserId,
    id: i64,
) -> Result<(), PortalError> {
    let ticket = store::portal::find_visible(&state.db, viewer, id)
        .await?
        .ok_or(PortalError::NotFound)?;
    let status = TicketStatus::from_key(&ticket.status).unwrap_or(TicketStatus::Sent);
    if !domain::customer_can_confirm_solution(status) {
        return Err(PortalError::NotNow("detail.cannot_confirm"));
    }
    domain::check_transition(Some(status), TicketStatus::Solved, ActorKind::Customer)
        .map_err(|_| PortalError::NotNow("detail.cannot_confirm"))?;
    store::tickets::change_status(
        &state.db,
        TicketId(id),
        status,
        TicketStatus::Solved,
        Actor {
            kind: ActorKind::Customer,
            user: Some(viewer),
        },
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => PortalError::Conflict,
        other => other.into(),
    })
}

/// The contact request form.
#[derive(Clone, Debug, Default)]
pub struct ContactForm {
    pub channel: String,
    pub phone: String,
    pub preferred_window: String,
    pub message: String,
}

pub const CONTACT_CHANNELS: [&str; 3] = ["phone", "video", "chat"];

/// Records a contact request on a ticket the viewer may see.
pub async fn request_contact(
    state: &AppState,
    viewer: UserId,
    id: i64,
    form: &ContactForm,
) -> Result<i64, PortalError> {
    store::portal::find_visible(&state.db, viewer, id)
        .await?
        .ok_or(PortalError::NotFound)?;
    let form = &ContactForm {
        preferred_window: without_nul(&form.preferred_window),
        message: without_nul(&form.message),
        ..form.clone()
    };
    let mut errors = Vec::new();
    if !CONTACT_CHANNELS.contains(&form.channel.as_str()) {
        errors.push(("channel", "form.choose_one"));
    }
    let phone = form.phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let phone_ok = (8..=15).contains(&digits)
        && phone.len() <= 30
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-.".contains(c));
    if !phone_ok {
        errors.push(("phone", "form.bad_phone"));
    }
    if form.preferred_window.trim().is_empty() {
        errors.push(("preferred_window", "form.required"));
    } else if form.preferred_window.chars().count() > 200 {
        errors.push(("preferred_window", "form.too_long"));
    }
    if form.message.chars().count() > 2000 {
        errors.push(("message", "form.too_long"));
    }
    if !errors.is_empty() {
        return Err(PortalError::Invalid(errors));
    }
    limits::take(state, viewer, Action::ContactRequest).await?;
    Ok(store::contacts::create(
        &state.db,
        &NewContactRequest {
            ticket: TicketId(id),
            requester: viewer,
            channel: &form.channel,
            phone,
            preferred_window: form.preferred_window.trim(),
            message: form.message.trim(),
        },
        state.clock.now(),
    )
    .await?)
}

/// The new-ticket form.
#[derive(Clone, Debug, Default)]
pub struct NewTicketForm {
    pub organization: Option<String>,
    pub ticket_type: String,
    pub subject: String,
    pub description: String,
    pub submission_key: String,
    /// Answers to the questions admins added, by question key.
    pub answers: Vec<(String, String)>,
}

impl NewTicketForm {
    /// The answer given to an added question.
    pub fn answer(&self, key: &str) -> &str {
        self.answers
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Checks the answers to the questions admins added (the built-in ones fill
/// the ticket's own fields) and returns them as lines for the description,
/// or the failing questions with message keys.
fn added_answers(
    questions: &[crate::service::admin::TriageQuestion],
    form: &NewTicketForm,
    lang: domain::Lang,
) -> Result<Vec<String>, Vec<(String, &'static str)>> {
    use crate::service::admin::{QuestionKind, TriageQuestion};
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for question in questions
        .iter()
        .filter(|q| q.active && !q.is_required() && q.key != "attachments")
    {
        let answer = without_nul(form.answer(&question.key));
        let answer = answer.trim();
        let shown = match question.kind {
            QuestionKind::Choice if answer.is_empty() => None,
            QuestionKind::Choice => {
                let Some(option) = question.options.iter().find(|o| o.value == answer) else {
                    errors.push((question.key.clone(), "form.choose_one"));
                    continue;
                };
                Some(TriageQuestion::option_text(option, lang).to_owned())
            }
            _ if answer.is_empty() => None,
            _ if answer.chars().count() > 2000 => {
                errors.push((question.key.clone(), "form.too_long"));
                continue;
            }
            _ => Some(answer.to_owned()),
        };
        match shown {
            Some(text) => lines.push(format!("**{}** {text}", question.text(lang).trim())),
            None if question.mandatory => errors.push((
                question.key.clone(),
                if question.kind == QuestionKind::Choice {
                    "form.choose_one"
                } else {
                    "form.required"
                },
            )),
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// Opens a ticket after checking the mandatory initial questions. Returns
/// the ticket and whether this submit created it (a repeated submit of the
/// same form returns the first ticket).
pub async fn open_ticket(
    state: &AppState,
    viewer: UserId,
    memberships: &[Membership],
    form: &NewTicketForm,
    mut uploads: StagedFiles,
    questions: &[crate::service::admin::TriageQuestion],
    lang: domain::Lang,
) -> Result<(TicketId, bool), PortalError> {
    let result = open_ticket_with_files(
        state,
        viewer,
        memberships,
        form,
        uploads.for_write(),
        questions,
        lang,
    )
    .await;
    // A repeated submit returns the first ticket: its files are not needed.
    uploads.settle(matches!(result, Ok((_, true)))).await;
    result
}

async fn open_ticket_with_files(
    state: &AppState,
    viewer: UserId,
    memberships: &[Membership],
    form: &NewTicketForm,
    uploads: &[StoredFile],
    questions: &[crate::service::admin::TriageQuestion],
    lang: domain::Lang,
) -> Result<(TicketId, bool), PortalError> {
    let mut errors = Vec::new();
    let attachments_required = questions
        .iter()
        .any(|q| q.active && q.key == "attachments" && q.mandatory);
    let organization: Option<OrgId> = match memberships {
        [] => None,
        [only] => Some(only.organization_id),
        several => {
            let chosen = form
                .organization
                .as_deref()
                .and_then(|o| o.parse::<i64>().ok());
            if let Some(m) =
                chosen.and_then(|id| several.iter().find(|m| m.organization_id.0 == id))
            {
                Some(m.organization_id)
            } else {
                errors.push(("organization", "form.choose_one"));
                None
            }
        }
    };
    let ticket_type = TicketType::from_key(&form.ticket_type);
    if ticket_type.is_none() {
        errors.push(("ticket_type", "form.choose_one"));
    }
    let subject = without_nul(&form.subject);
    let subject = subject.trim();
    if subject.is_empty() {
        errors.push(("subject", "form.required"));
    } else if subject.chars().count() > MAX_SUBJECT {
        errors.push(("subject", "form.too_long"));
    }
    let description = without_nul(&form.description);
    let description = description.trim();
    if description.is_empty() {
        errors.push(("description", "form.required"));
    } else if description.chars().count() > MAX_BODY {
        errors.push(("description", "form.too_long"));
    }
    let key = form.submission_key.trim();
    if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(("form", "form.expired"));
    }
    if let Err(PortalError::Invalid(mut upload_errors)) = check_uploads(state, uploads) {
        errors.append(&mut upload_errors);
    } else if attachments_required && uploads.is_empty() {
        errors.push(("attachments", "form.required"));
    }
    let (extra_lines, question_errors) = match added_answers(questions, form, lang) {
        Ok(lines) => (lines, Vec::new()),
        Err(failing) => (Vec::new(), failing),
    };
    if !errors.is_empty() || !question_errors.is_empty() {
        return Err(PortalError::InvalidAnswers {
            fields: errors,
            questions: question_errors,
        });
    }
    // Answers to added questions travel with the description, where agents
    // read them.
    let description_with_answers;
    let description = if extra_lines.is_empty() {
        description
    } else {
        description_with_answers = format!("{description}\n\n{}", extra_lines.join("\n\n"));
        description_with_answers.as_str()
    };
    let new = NewPortalTicket {
        ticket: NewTicket {
            subject,
            description,
            ticket_type: ticket_type.unwrap_or(TicketType::Support),
            organization,
            requester: viewer,
            channel: "portal",
        },
        submission_key: key,
        files: uploads,
    };
    let writer = &state.ticket_writer;
    let result = writer
        .create_from_form(&state.db, &new, state.clock.now())
        .await;
    result.map_err(|error| match error {
        // The key belongs to someone else's ticket (the store finds a
        // repeated submit of this viewer's own key itself).
        StoreError::Conflict(_) => PortalError::Conflict,
        other => other.into(),
    })
}

/// Start of the given local date in `tz`, as stored.
pub fn local_day_start(date: jiff::civil::Date, tz: &jiff::tz::TimeZone) -> Option<Ts> {
    date.to_zoned(tz.clone()).ok().map(|z| Ts(z.timestamp()))
}

/// `now`, for templates that compare.
pub fn now(state: &AppState) -> Timestamp {
    state.clock.now()
}
