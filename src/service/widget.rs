//! The help widget's use cases: its bearer tokens and handoff codes, the
//! customer's tickets (through the portal's services, so what the widget
//! shows is exactly what the portal would), and the chat triage that opens
//! a ticket by asking the admin's initial questions one at a time.
//!
//! The widget lives in a frame where third-party cookies are blocked, so it
//! signs in by exchanging the host platform's single sign-on token for a
//! short-lived bearer token. A token is only as good as its user: one that
//! is deactivated is refused on the next request.

use std::collections::{BTreeMap, HashMap};

use jiff::SignedDuration;

use crate::{
    AppState,
    domain::{Lang, OrgId, TicketId, TicketType, UserId},
    service::{
        admin::{self, QuestionKind, TriageQuestion},
        attachments::StagedFiles,
        automations,
        portal::{self, PortalError, TicketDetail},
        random_hex, sha256_hex,
        sso::{self, SsoError},
        triage::{self, Completion, TriageError, TriageSessionId, TriageState},
    },
    store::{
        self, StoreError,
        events::EventKind,
        portal::{Cursor, ListQuery, ListRow, PublicComment, SortKey, View},
        tickets::StoredFile,
        users::{Membership, User},
        widget::TokenKind,
    },
};

/// How long a bearer token is accepted.
pub const ACCESS_TTL: SignedDuration = SignedDuration::from_hours(1);
/// How long a handoff code may wait to be opened.
pub const HANDOFF_TTL: SignedDuration = SignedDuration::from_secs(60);
/// The tickets' channel for what the widget opens.
pub const CHANNEL: &str = "widget";
/// Tickets per page of the history.
pub const PAGE: i64 = 30;

/// Longest answer to an added text question (as on the portal's form).
const MAX_ADDED_ANSWER: usize = 2000;
const MAX_SUBJECT: usize = 200;
const MAX_TEXT: usize = 20_000;

/// A failure of a widget use case.
#[derive(Debug, thiserror::Error)]
pub enum WidgetError {
    /// Missing, or not the viewer's to see.
    #[error("not found")]
    NotFound,
    /// (field, message key) pairs; fields are question keys for the triage.
    #[error("invalid input")]
    Invalid(Vec<(String, &'static str)>),
    /// The ticket or triage takes no more input (message key).
    #[error("closed: {0}")]
    Closed(&'static str),
    /// The ticket changed meanwhile.
    #[error("the ticket changed meanwhile")]
    Conflict,
    /// Over a per-user limit: try again after this long.
    #[error("too many requests")]
    TooMany { retry_after: jiff::SignedDuration },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] crate::blob::BlobError),
}

fn invalid(field: &str, key: &'static str) -> WidgetError {
    WidgetError::Invalid(vec![(field.to_owned(), key)])
}

impl From<PortalError> for WidgetError {
    fn from(error: PortalError) -> Self {
        match error {
            PortalError::NotFound => WidgetError::NotFound,
            PortalError::Invalid(fields) => WidgetError::Invalid(
                fields
                    .into_iter()
                    .map(|(field, key)| (field.to_owned(), key))
                    .collect(),
            ),
            PortalError::InvalidAnswers { fields, questions } => WidgetError::Invalid(
                fields
                    .into_iter()
                    .map(|(field, key)| (field.to_owned(), key))
                    .chain(questions)
                    .collect(),
            ),
            PortalError::Conflict => WidgetError::Conflict,
            PortalError::NotNow(key) => WidgetError::Closed(key),
            PortalError::Store(e) => e.into(),
            PortalError::TooMany { retry_after } => WidgetError::TooMany { retry_after },
            PortalError::Blob(e) => e.into(),
        }
    }
}

/// The message of a triage that takes no more answers.
pub const TRIAGE_CLOSED: &str = "widget_api.triage_closed";

impl From<TriageError> for WidgetError {
    fn from(error: TriageError) -> Self {
        match error {
            TriageError::NotFound => WidgetError::NotFound,
            TriageError::Closed => WidgetError::Closed(TRIAGE_CLOSED),
            TriageError::Invalid(fields) => WidgetError::Invalid(
                fields
                    .into_iter()
                    .map(|(field, key)| (question_key(field).to_owned(), key))
                    .collect(),
            ),
            TriageError::Store(e) => e.into(),
            TriageError::Blob(e) => e.into(),
        }
    }
}

// ---------------------------------------------------------------------------
// Tokens

/// A new bearer token, shown once.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

fn looks_like_secret(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Issues a bearer token for `user`, valid [`ACCESS_TTL`].
pub async fn issue_access(state: &AppState, user: UserId) -> Result<AccessToken, StoreError> {
    let token = random_hex(32);
    let now = state.clock.now();
    store::widget::create(
        &state.db,
        &sha256_hex(token.as_bytes()),
        user,
        TokenKind::Access,
        None,
        now,
        now + ACCESS_TTL,
    )
    .await?;
    Ok(AccessToken {
        token,
        expires_in: ACCESS_TTL.as_secs(),
    })
}

/// Verifies the host platform's token exactly as `/access/jwt` does
/// (signature, expiry, freshness, single use, audience and issuer; the user
/// and memberships are upserted) and issues a bearer token for its user.
pub async fn exchange(state: &AppState, jwt: &str) -> Result<(User, AccessToken), SsoError> {
    let (user_id, _) = sso::accept(state, jwt).await?;
    let user = store::users::find(&state.db, user_id)
        .await?
        .ok_or(SsoError::Store(StoreError::NotFound))?;
    let token = issue_access(state, user_id).await?;
    Ok((user, token))
}

/// The active user of an unexpired bearer token.
pub async fn resolve_access(state: &AppState, token: &str) -> Result<Option<User>, StoreError> {
    if !looks_like_secret(token) {
        return Ok(None);
    }
    store::widget::find_access(&state.db, &sha256_hex(token.as_bytes()), state.clock.now()).await
}

/// Issues a single-use code, valid [`HANDOFF_TTL`], that signs `user` into
/// the portal and sends them to `return_to` (already checked to be a local
/// path).
pub async fn issue_handoff(
    state: &AppState,
    user: UserId,
    return_to: &str,
) -> Result<String, StoreError> {
    let code = random_hex(32);
    let now = state.clock.now();
    store::widget::create(
        &state.db,
        &sha256_hex(code.as_bytes()),
        user,
        TokenKind::Handoff,
        Some(return_to),
        now,
        now + HANDOFF_TTL,
    )
    .await?;
    Ok(code)
}

/// The active user a handoff code would sign in, without spending it (the
/// confirmation before replacing another user's session); `None` for an
/// unknown, used or expired code.
pub async fn peek_handoff(state: &AppState, code: &str) -> Result<Option<User>, StoreError> {
    if !looks_like_secret(code) {
        return Ok(None);
    }
    let Some(handoff) =
        store::widget::find_handoff(&state.db, &sha256_hex(code.as_bytes()), state.clock.now())
            .await?
    else {
        return Ok(None);
    };
    Ok(store::users::find(&state.db, handoff.user_id)
        .await?
        .filter(|u| u.active))
}

/// Spends a handoff code: its user (still active) and where to send them,
/// or `None` for an unknown, used or expired code.
pub async fn redeem_handoff(
    state: &AppState,
    code: &str,
) -> Result<Option<(UserId, String)>, StoreError> {
    if !looks_like_secret(code) {
        return Ok(None);
    }
    let Some(handoff) =
        store::widget::use_handoff(&state.db, &sha256_hex(code.as_bytes()), state.clock.now())
            .await?
    else {
        return Ok(None);
    };
    let active = store::users::find(&state.db, handoff.user_id)
        .await?
        .is_some_and(|u| u.active);
    Ok(active.then(|| {
        (
            handoff.user_id,
            handoff.return_to.unwrap_or_else(|| "/portal".to_owned()),
        )
    }))
}

// ---------------------------------------------------------------------------
// Tickets

/// One page of the tickets `viewer` requested, newest first, and the id to
/// ask for the next page with.
pub async fn my_tickets(
    state: &AppState,
    viewer: UserId,
    before: Option<i64>,
) -> Result<(Vec<ListRow>, Option<i64>), WidgetError> {
    let after = match before {
        Some(id) => {
            let ticket = store::portal::find_visible(&state.db, viewer, id)
                .await?
                .filter(|t| t.requester_id == viewer.0)
                .ok_or(WidgetError::NotFound)?;
            Some(Cursor {
                at: ticket.created_at,
                id,
            })
        }
        None => None,
    };
    let page = store::portal::list(
        &state.db,
        &ListQuery {
            viewer: viewer.0,
            view: View::Mine,
            sort: SortKey::Created,
            descending: true,
            after,
            limit: PAGE,
            ..ListQuery::default()
        },
    )
    .await?;
    let next = if page.has_next {
        page.rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok((page.rows, next))
}

/// A ticket as the widget shows it: the portal's detail and the event id of
/// each public comment.
#[derive(Clone, Debug)]
pub struct WidgetTicket {
    pub detail: TicketDetail,
    /// Comment id → the id of the event that added it.
    pub comment_events: HashMap<i64, i64>,
    /// The ticket's newest event id: subscribe after it.
    pub last_event_id: i64,
}

/// The comment id an event added, when it is a comment event.
pub fn comment_of(event: &store::events::TicketEvent) -> Option<(i64, bool)> {
    if event.kind() != Some(EventKind::CommentAdded) {
        return None;
    }
    let data = &event.data.0;
    Some((
        data.get("comment_id")?.as_i64()?,
        data.get("public").and_then(serde_json::Value::as_bool) == Some(true),
    ))
}

/// The ticket if `viewer` may see it (the portal's rule), else `NotFound`.
pub async fn ticket(
    state: &AppState,
    viewer: UserId,
    id: i64,
) -> Result<WidgetTicket, WidgetError> {
    let detail = portal::ticket_detail(state, viewer, id).await?;
    let events = store::events::for_ticket(&state.db, TicketId(id)).await?;
    let comment_events = events
        .iter()
        .filter_map(|e| comment_of(e).map(|(comment, _)| (comment, e.id)))
        .collect();
    let last_event_id = events.last().map_or(0, |e| e.id);
    Ok(WidgetTicket {
        detail,
        comment_events,
        last_event_id,
    })
}

/// Posts the customer's public reply with the portal's rules and returns
/// the comment and the id of its event.
pub async fn reply(
    state: &AppState,
    viewer: UserId,
    id: i64,
    body: &str,
) -> Result<(PublicComment, i64), WidgetError> {
    let (_, comment) = portal::reply(
        state,
        viewer,
        id,
        body,
        StagedFiles::new(state.blobs.clone()),
    )
    .await?;
    let comment = store::widget::public_comment(&state.db, id, comment.0)
        .await?
        .ok_or(StoreError::NotFound)?;
    let event_id = store::widget::ticket_events_after(&state.db, id, 0)
        .await?
        .iter()
        .rev()
        .find(|e| comment_of(e).is_some_and(|(c, _)| c == comment.id))
        .map_or(0, |e| e.id);
    Ok((comment, event_id))
}

// ---------------------------------------------------------------------------
// Triage

/// A question as the chat asks it, in the user's language.
#[derive(Clone, Debug)]
pub struct Question {
    pub key: String,
    pub kind: QuestionKind,
    pub mandatory: bool,
    pub text: String,
    /// (value, label)
    pub options: Vec<(String, String)>,
}

/// A triage as the chat sees it.
#[derive(Clone, Debug)]
pub struct TriageView {
    pub id: i64,
    /// By question key; `""` is a skipped optional question.
    pub answers: BTreeMap<String, String>,
    pub reminded: bool,
    /// The next question to ask; `None` when it can be completed.
    pub next: Option<String>,
}

/// The questions with the user's organizations and the triage, if any.
#[derive(Clone, Debug)]
pub struct TriageScreen {
    pub triage: Option<TriageView>,
    pub questions: Vec<Question>,
}

/// The answer key a question's answer is stored under: the ticket type is
/// `ticket_type` in a session's answers (what the timeout job reads).
fn answer_key(question: &str) -> &str {
    if question == "type" {
        "ticket_type"
    } else {
        question
    }
}

/// The question an answer key belongs to.
fn question_key(answer: &str) -> &str {
    if answer == "ticket_type" {
        "type"
    } else {
        answer
    }
}

/// Everything the triage logic needs about the viewer.
struct Context {
    questions: Vec<TriageQuestion>,
    memberships: Vec<Membership>,
    lang: Lang,
}

impl Context {
    async fn load(state: &AppState, viewer: &User) -> Result<Self, StoreError> {
        Ok(Self {
            questions: admin::triage_questions(state).await?,
            memberships: super::node_cache::memberships(state, viewer.id).await?,
            lang: Lang::parse(&viewer.locale).unwrap_or_else(|| state.config.lang()),
        })
    }

    /// The questions this viewer is asked: the organization question only
    /// when they have an organization.
    fn asked(&self) -> impl Iterator<Item = &TriageQuestion> {
        self.questions
            .iter()
            .filter(|q| q.kind != QuestionKind::Organization || !self.memberships.is_empty())
    }

    fn question(&self, key: &str) -> Option<&TriageQuestion> {
        self.asked().find(|q| q.key == key)
    }

    fn only_org(&self) -> Option<OrgId> {
        match &self.memberships[..] {
            [only] => Some(only.organization_id),
            _ => None,
        }
    }

    fn questions_view(&self) -> Vec<Question> {
        self.asked()
            .map(|q| Question {
                key: q.key.clone(),
                kind: q.kind,
                mandatory: q.mandatory,
                text: q.text(self.lang).to_owned(),
                options: match q.kind {
                    QuestionKind::Organization => self
                        .memberships
                        .iter()
                        .map(|m| (m.organization_id.0.to_string(), m.organization_name.clone()))
                        .collect(),
                    QuestionKind::Choice => q
                        .options
                        .iter()
                        .map(|o| {
                            (
                                o.value.clone(),
                                TriageQuestion::option_text(o, self.lang).to_owned(),
                            )
                        })
                        .collect(),
                    QuestionKind::Text | QuestionKind::Attachment => Vec::new(),
                },
            })
            .collect()
    }

    /// The answers by question key; the only organization counts as chosen.
    fn answers(&self, stored: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut answers: BTreeMap<String, String> = stored
            .iter()
            .map(|(k, v)| (question_key(k).to_owned(), v.clone()))
            .collect();
        if let Some(org) = self.only_org()
            && self.question("organization").is_some()
        {
            answers
                .entry("organization".to_owned())
                .or_insert_with(|| org.0.to_string());
        }
        answers
    }

    /// The first mandatory question without an answer, then the first
    /// optional one neither answered nor skipped.
    fn next(&self, answers: &BTreeMap<String, String>) -> Option<String> {
        let unanswered = |q: &&TriageQuestion| {
            answers
                .get(&q.key)
                .is_none_or(|a| q.mandatory && a.trim().is_empty())
        };
        self.asked()
            .filter(|q| q.mandatory)
            .find(unanswered)
            .or_else(|| self.asked().filter(|q| !q.mandatory).find(unanswered))
            .map(|q| q.key.clone())
    }

    /// Checks an answer against its question; returns the value to store.
    fn check(&self, question: &TriageQuestion, value: &str) -> Result<String, &'static str> {
        let value = value.replace('\0', "");
        let value = value.trim();
        if value.is_empty() {
            return match (question.mandatory, question.kind) {
                (false, _) => Ok(String::new()),
                (true, QuestionKind::Choice | QuestionKind::Organization) => Err("form.choose_one"),
                (true, _) => Err("form.required"),
            };
        }
        match question.kind {
            QuestionKind::Choice => {
                if question.options.iter().any(|o| o.value == value) {
                    Ok(value.to_owned())
                } else {
                    Err("form.choose_one")
                }
            }
            QuestionKind::Organization => {
                let chosen = value.parse::<i64>().ok();
                if self
                    .memberships
                    .iter()
                    .any(|m| Some(m.organization_id.0) == chosen)
                {
                    Ok(value.to_owned())
                } else {
                    Err("form.choose_one")
                }
            }
            QuestionKind::Text | QuestionKind::Attachment => {
                let limit = match question.key.as_str() {
                    "subject" => MAX_SUBJECT,
                    "description" => MAX_TEXT,
                    _ => MAX_ADDED_ANSWER,
                };
                if value.chars().count() > limit {
                    Err("form.too_long")
                } else {
                    Ok(value.to_owned())
                }
            }
        }
    }
}

/// The instant at or before which a session's last activity means it timed
/// out.
async fn expired_at(state: &AppState) -> Result<jiff::Timestamp, StoreError> {
    let timeout = automations::load(state).await?.triage_timeout();
    Ok(state
        .clock
        .now()
        .saturating_sub(timeout)
        .unwrap_or(jiff::Timestamp::MIN))
}

/// The viewer's session, refusing one that takes no more answers.
async fn open_session(
    state: &AppState,
    viewer: UserId,
    id: i64,
) -> Result<store::jobs::TriageSession, WidgetError> {
    let session = store::jobs::find_triage(&state.db, TriageSessionId(id))
        .await?
        .filter(|s| s.user_id == viewer)
        .ok_or(WidgetError::NotFound)?;
    if session.state() != TriageState::Open
        || session.last_activity_at.0 <= expired_at(state).await?
    {
        return Err(WidgetError::Closed(TRIAGE_CLOSED));
    }
    Ok(session)
}

async fn view(
    state: &AppState,
    ctx: &Context,
    viewer: UserId,
    id: i64,
) -> Result<TriageView, WidgetError> {
    let session = store::jobs::find_triage(&state.db, TriageSessionId(id))
        .await?
        .filter(|s| s.user_id == viewer)
        .ok_or(WidgetError::NotFound)?;
    let answers = ctx.answers(&session.answers.0);
    Ok(TriageView {
        id,
        next: ctx.next(&answers),
        answers,
        reminded: session.reminded_at.is_some(),
    })
}

/// The viewer's unfinished widget triage, if any, and the questions.
pub async fn current_triage(state: &AppState, viewer: &User) -> Result<TriageScreen, WidgetError> {
    let ctx = Context::load(state, viewer).await?;
    let open =
        store::widget::open_triage(&state.db, viewer.id, CHANNEL, expired_at(state).await?).await?;
    let triage = match open {
        Some(id) => Some(view(state, &ctx, viewer.id, id).await?),
        None => None,
    };
    Ok(TriageScreen {
        triage,
        questions: ctx.questions_view(),
    })
}

/// Starts a widget triage, or returns the unfinished one. With a single
/// organization, the organization question is answered at once.
pub async fn start_triage(state: &AppState, viewer: &User) -> Result<TriageScreen, WidgetError> {
    let ctx = Context::load(state, viewer).await?;
    let open =
        store::widget::open_triage(&state.db, viewer.id, CHANNEL, expired_at(state).await?).await?;
    let id = if let Some(id) = open {
        id
    } else {
        let org = ctx.only_org();
        let id = triage::start(state, viewer.id, org, CHANNEL).await?;
        if let Some(org) = org
            && ctx.question("organization").is_some()
        {
            triage::answer(state, viewer.id, id, "organization", &org.0.to_string()).await?;
        }
        id.0
    };
    Ok(TriageScreen {
        triage: Some(view(state, &ctx, viewer.id, id).await?),
        questions: ctx.questions_view(),
    })
}

/// Records the answer to one of the questions after checking it against
/// the question; nothing is stored when it is invalid.
pub async fn answer_triage(
    state: &AppState,
    viewer: &User,
    id: i64,
    key: &str,
    value: &str,
) -> Result<TriageScreen, WidgetError> {
    open_session(state, viewer.id, id).await?;
    let ctx = Context::load(state, viewer).await?;
    let question = ctx
        .question(key)
        .ok_or_else(|| invalid(key, "form.choose_one"))?;
    let value = ctx.check(question, value).map_err(|e| invalid(key, e))?;
    triage::answer(
        state,
        viewer.id,
        TriageSessionId(id),
        answer_key(key),
        &value,
    )
    .await?;
    Ok(TriageScreen {
        triage: Some(view(state, &ctx, viewer.id, id).await?),
        questions: ctx.questions_view(),
    })
}

/// Opens the ticket from the answers, with the files: every mandatory
/// question must be answered (the failing ones are named), the files must
/// fit the portal's limits. The ticket starts as *Enviado*.
pub async fn complete_triage(
    state: &AppState,
    viewer: &User,
    id: i64,
    mut uploads: StagedFiles,
) -> Result<TicketId, WidgetError> {
    let result = complete_triage_with_files(state, viewer, id, uploads.for_write()).await;
    uploads.settle(result.is_ok()).await;
    result
}

async fn complete_triage_with_files(
    state: &AppState,
    viewer: &User,
    id: i64,
    uploads: &[StoredFile],
) -> Result<TicketId, WidgetError> {
    let session = open_session(state, viewer.id, id).await?;
    let ctx = Context::load(state, viewer).await?;
    let answers = ctx.answers(&session.answers.0);
    let mut errors: Vec<(String, &'static str)> = Vec::new();
    let mut lines = Vec::new();
    for question in ctx.asked() {
        let answer = answers.get(&question.key).map_or("", |a| a.trim());
        if question.kind == QuestionKind::Attachment {
            if question.mandatory && uploads.is_empty() {
                errors.push((question.key.clone(), "form.required"));
            }
            continue;
        }
        if answer.is_empty() {
            if question.mandatory {
                let key = match question.kind {
                    QuestionKind::Choice | QuestionKind::Organization => "form.choose_one",
                    QuestionKind::Text | QuestionKind::Attachment => "form.required",
                };
                errors.push((question.key.clone(), key));
            }
            continue;
        }
        if let Err(key) = ctx.check(question, answer) {
            errors.push((question.key.clone(), key));
            continue;
        }
        if !question.is_required() {
            let shown = match question.kind {
                QuestionKind::Choice => question
                    .options
                    .iter()
                    .find(|o| o.value == answer)
                    .map_or(answer, |o| TriageQuestion::option_text(o, ctx.lang)),
                _ => answer,
            };
            lines.push(format!("**{}** {shown}", question.text(ctx.lang).trim()));
        }
    }
    if let Err(PortalError::Invalid(upload_errors)) = portal::check_uploads(state, uploads) {
        let field = ctx
            .asked()
            .find(|q| q.kind == QuestionKind::Attachment)
            .map_or("attachments", |q| q.key.as_str());
        errors.extend(
            upload_errors
                .into_iter()
                .map(|(_, key)| (field.to_owned(), key)),
        );
    }
    if !errors.is_empty() {
        return Err(WidgetError::Invalid(errors));
    }
    let description = answers.get("description").map_or("", String::as_str);
    let description = if lines.is_empty() {
        description.to_owned()
    } else {
        format!("{description}\n\n{}", lines.join("\n\n"))
    };
    let completion = Completion {
        subject: answers.get("subject").map_or("", String::as_str),
        description: &description,
        ticket_type: answers.get("type").and_then(|t| TicketType::from_key(t)),
        organization: answers
            .get("organization")
            .and_then(|o| o.parse::<i64>().ok())
            .map(OrgId),
    };
    Ok(
        triage::complete_with_files(state, viewer.id, TriageSessionId(id), &completion, uploads)
            .await?,
    )
}
