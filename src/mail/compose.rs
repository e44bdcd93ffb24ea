//! The composer: reads ticket events after its cursor, decides who is told
//! what, renders each message in the recipient's language, and stores the
//! messages together with the new cursor (see [`store::mail::store_composed`]).
//!
//! Deciding reads the current ticket, user and comment rows, never the
//! request that caused the event, so any node can compose any event, as
//! often as it likes: the outbox's unique key keeps one row per message.

use std::collections::{HashMap, hash_map::Entry};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

use super::MailError;
use crate::{
    AppState,
    config::Config,
    domain::{Lang, TicketId, TicketStatus, UserId},
    i18n::Tr,
    store::{
        self, Backend, StoreError,
        events::{EventKind, TicketEvent},
        mail::NewMail,
        tickets::Ticket,
        users::User,
    },
};

/// Events read per transaction.
const BATCH: i64 = 200;

/// How long a hole in the event ids may stay open before the cursor moves
/// past it. On PostgreSQL an identity value is taken when the row is
/// inserted, not when its transaction commits, so event 11 can be visible
/// while event 10 is still being committed; moving the cursor past 10 then
/// would lose it. A hole older than this belongs to a transaction that
/// rolled back. Events after a recent hole wait with the cursor (usually
/// for one round: the hole's transaction was committing), so each event is
/// decided once, with the events around it, and a message already stored
/// never misses what a late event would have added to it.
const HOLE_GRACE: SignedDuration = SignedDuration::from_secs(60);

/// A public reply and a status change by the same agent this close together
/// are one action (reply and set *Aguardando Sua Resposta*): one message.
const SAME_ACTION: SignedDuration = SignedDuration::from_secs(5);

/// Composes every event after the cursor; returns how many messages were
/// added to the outbox. The first run on a database only sets the cursor to
/// the newest event, so history is never mailed.
pub async fn compose_once(state: &AppState) -> Result<usize, MailError> {
    let db = &state.db;
    let mut total = 0;
    loop {
        let now = state.clock.now();
        let Some(cursor) = store::mail::cursor(db).await? else {
            let start = store::mail::start_cursor(db, now).await?;
            tracing::info!(
                cursor = start,
                "e-mail notifications start after this event"
            );
            return Ok(total);
        };
        let events = store::events::after(db, cursor, BATCH).await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(total);
        };
        let to = settled_cursor(cursor, &events, now, db.backend() == Backend::Postgres);
        if to == cursor {
            return Ok(total);
        }
        let settled: Vec<TicketEvent> = events.into_iter().filter(|e| e.id <= to).collect();
        let mails = decide(state, &settled).await?;
        match store::mail::store_composed(db, &mails, cursor, to, now).await? {
            // Another node composed these events first.
            None => return Ok(total),
            Some(inserted) => total += inserted,
        }
        let full = i64::try_from(settled.len()).unwrap_or(i64::MAX) >= BATCH;
        if !(full && to == last) {
            return Ok(total);
        }
    }
}

/// The furthest event id the cursor may move to: past every event, except
/// (where ids can commit out of order) not past a recent hole.
fn settled_cursor(cursor: i64, events: &[TicketEvent], now: Timestamp, holes_matter: bool) -> i64 {
    let mut to = cursor;
    for event in events {
        let hole = event.id != to + 1;
        let recent = event
            .at
            .0
            .checked_add(HOLE_GRACE)
            .map_or(true, |settled| settled > now);
        if hole && holes_matter && recent {
            break;
        }
        to = event.id;
    }
    to
}

/// What a recipient is told about one event.
#[derive(Clone, Debug, PartialEq)]
enum Notice {
    /// The ticket was opened (status *Enviado*).
    Received,
    /// An agent's public reply; `status` when the same action also moved the
    /// ticket to a status the customer is told about.
    AgentReply {
        author: String,
        body: String,
        status: Option<TicketStatus>,
    },
    /// The ticket now awaits the customer, or is solved.
    Status(TicketStatus),
    /// The ticket will be solved without a reply by `deadline`.
    Reminder {
        deadline: Option<Timestamp>,
    },
    ContactRequested,
    ContactHandled,
}

impl Notice {
    /// The outbox template key: one message per event, recipient and key.
    fn template(&self) -> &'static str {
        match self {
            Notice::Received => "ticket_received",
            Notice::AgentReply { .. } => "agent_reply",
            Notice::Status(TicketStatus::Solved) => "status_solved",
            Notice::Status(_) => "status_awaiting_reply",
            Notice::Reminder { .. } => "reminder",
            Notice::ContactRequested => "contact_requested",
            Notice::ContactHandled => "contact_handled",
        }
    }
}

/// One decided message, before rendering.
#[derive(Clone, Debug)]
struct Decided {
    event_id: i64,
    ticket_id: i64,
    actor_id: Option<i64>,
    at: Timestamp,
    recipient: i64,
    notice: Notice,
}

/// Rows read while deciding one batch, each read once.
#[derive(Default)]
struct Lookups {
    tickets: HashMap<i64, Option<Ticket>>,
    users: HashMap<i64, Option<User>>,
}

impl Lookups {
    async fn ticket(&mut self, db: &store::Db, id: i64) -> Result<Option<&Ticket>, StoreError> {
        if let Entry::Vacant(slot) = self.tickets.entry(id) {
            slot.insert(store::tickets::find(db, TicketId(id)).await?);
        }
        Ok(self.tickets.get(&id).and_then(Option::as_ref))
    }

    async fn user(&mut self, db: &store::Db, id: i64) -> Result<Option<&User>, StoreError> {
        if let Entry::Vacant(slot) = self.users.entry(id) {
            slot.insert(store::users::find(db, UserId(id)).await?);
        }
        Ok(self.users.get(&id).and_then(Option::as_ref))
    }
}

/// Decides and renders the messages for a batch of events.
async fn decide(state: &AppState, events: &[TicketEvent]) -> Result<Vec<NewMail>, StoreError> {
    let db = &state.db;
    let mut lookups = Lookups::default();
    let mut decided = Vec::new();
    for event in events {
        if let Some(one) = decide_one(db, &mut lookups, event).await? {
            decided.push(one);
        }
    }
    let decided = merge_reply_and_status(decided);
    // Messages are signed with the product name an admin chose.
    let mut config = (*state.config).clone();
    config.product_name = crate::service::admin::current_branding(state).product_name;
    let mut mails = Vec::with_capacity(decided.len());
    for one in decided {
        let Some(ticket) = lookups.ticket(db, one.ticket_id).await?.cloned() else {
            continue;
        };
        let Some(user) = lookups.user(db, one.recipient).await?.cloned() else {
            continue;
        };
        // A deactivated account gets no mail.
        if !user.active {
            continue;
        }
        let lang = Lang::parse(&user.locale).unwrap_or_else(|| state.config.lang());
        let tr = Tr::new(std::sync::Arc::clone(&state.catalog), lang);
        let time_zone = TimeZone::get(&user.time_zone).unwrap_or_else(|_| state.config.time_zone());
        let (subject, body_text) = render(&tr, &config, &ticket, &user, &time_zone, &one.notice);
        mails.push(NewMail {
            event_id: one.event_id,
            ticket_id: one.ticket_id,
            recipient_id: user.id,
            recipient_email: user.email.clone(),
            lang: lang.code().to_owned(),
            template: one.notice.template(),
            subject,
            body_text,
        });
    }
    Ok(mails)
}

/// Who is told what about one event, if anyone.
async fn decide_one(
    db: &store::Db,
    lookups: &mut Lookups,
    event: &TicketEvent,
) -> Result<Option<Decided>, StoreError> {
    let Some(kind) = event.kind() else {
        return Ok(None);
    };
    let Some(requester) = lookups
        .ticket(db, event.ticket_id)
        .await?
        .map(|t| t.requester_id.0)
    else {
        return Ok(None);
    };
    let data = &event.data.0;
    let by_agent = event.actor_kind == "agent";
    let decided = |recipient: i64, notice: Notice| {
        Some(Decided {
            event_id: event.id,
            ticket_id: event.ticket_id,
            actor_id: event.actor_id,
            at: event.at.0,
            recipient,
            notice,
        })
    };
    Ok(match kind {
        // A triage abandoned by the timeout also creates a ticket; there is
        // nothing "received" to announce then.
        EventKind::Created if data["status"].as_str() == Some("abandoned_triage") => None,
        EventKind::Created => decided(requester, Notice::Received),
        EventKind::CommentAdded => {
            // Internal notes are never mailed: the event must say public,
            // and so must the comment itself.
            let public_event = data["public"].as_bool() == Some(true);
            let Some(comment_id) = data["comment_id"].as_i64() else {
                return Ok(None);
            };
            if !(by_agent && public_event) || event.actor_id == Some(requester) {
                return Ok(None);
            }
            let Some((ticket_id, body, public)) = store::mail::comment(db, comment_id).await?
            else {
                return Ok(None);
            };
            if !public || ticket_id != event.ticket_id {
                return Ok(None);
            }
            let author = match event.actor_id {
                Some(id) => lookups
                    .user(db, id)
                    .await?
                    .map(|u| u.name.trim().to_owned())
                    .unwrap_or_default(),
                None => String::new(),
            };
            decided(
                requester,
                Notice::AgentReply {
                    author,
                    body,
                    status: None,
                },
            )
        }
        EventKind::StatusChanged => {
            let to = data["to"].as_str().and_then(TicketStatus::from_key);
            match to {
                // Not about a change the customer made themselves, such as
                // confirming the solution.
                Some(status @ (TicketStatus::AwaitingReply | TicketStatus::Solved))
                    if event.actor_id != Some(requester) =>
                {
                    decided(requester, Notice::Status(status))
                }
                _ => None,
            }
        }
        EventKind::ReminderSent => {
            let deadline = parse_deadline(&data["deadline"]);
            decided(requester, Notice::Reminder { deadline })
        }
        EventKind::ContactRequested | EventKind::ContactHandled => {
            let Some(id) = data["contact_request_id"].as_i64() else {
                return Ok(None);
            };
            let Some((_, asked_by)) = store::mail::contact_request(db, id).await? else {
                return Ok(None);
            };
            let notice = if kind == EventKind::ContactRequested {
                Notice::ContactRequested
            } else {
                Notice::ContactHandled
            };
            decided(asked_by, notice)
        }
        EventKind::AssigneeChanged | EventKind::GroupChanged => None,
    })
}

/// The deadline of a reminder: an RFC 3339 timestamp (how jiff serializes
/// one), or Unix seconds.
fn parse_deadline(value: &serde_json::Value) -> Option<Timestamp> {
    match value {
        serde_json::Value::String(text) => text.parse().ok(),
        serde_json::Value::Number(n) => n.as_i64().and_then(|s| Timestamp::from_second(s).ok()),
        _ => None,
    }
}

/// Folds a status message into the agent's reply of the same action, so the
/// customer gets one message saying both.
fn merge_reply_and_status(mut decided: Vec<Decided>) -> Vec<Decided> {
    let mut folded = Vec::new();
    for i in 0..decided.len() {
        let Notice::Status(status) = decided[i].notice else {
            continue;
        };
        let (ticket, actor, recipient, at) = (
            decided[i].ticket_id,
            decided[i].actor_id,
            decided[i].recipient,
            decided[i].at,
        );
        if actor.is_none() {
            continue;
        }
        let reply = decided.iter_mut().find(|d| {
            matches!(d.notice, Notice::AgentReply { status: None, .. })
                && d.ticket_id == ticket
                && d.actor_id == actor
                && d.recipient == recipient
                && d.at.duration_since(at).abs() <= SAME_ACTION
        });
        if let Some(Decided {
            notice: Notice::AgentReply { status: slot, .. },
            ..
        }) = reply
        {
            *slot = Some(status);
            folded.push(i);
        }
    }
    let mut index = 0;
    decided.retain(|_| {
        let keep = !folded.contains(&index);
        index += 1;
        keep
    });
    decided
}

/// Control characters (a line break above all) never reach a header.
fn one_line(text: &str) -> String {
    text.split(char::is_control)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The subject and plain-text body of a message: a greeting, what
/// happened, the link to the ticket and a signature.
fn render(
    tr: &Tr,
    config: &Config,
    ticket: &Ticket,
    user: &User,
    time_zone: &TimeZone,
    notice: &Notice,
) -> (String, String) {
    let (subject, paragraphs) = content(tr, config, ticket, time_zone, notice);
    let link = format!("{}/portal/tickets/{}", config.base(), ticket.id.0);
    let name = one_line(user.name.trim());
    let greeting = if name.is_empty() {
        tr.t("mail.greeting_anonymous").to_owned()
    } else {
        tr.fmt("mail.greeting", &[("name", &name)])
    };
    let mut body = String::new();
    body.push_str(&greeting);
    for paragraph in paragraphs {
        body.push_str("\n\n");
        body.push_str(&paragraph);
    }
    body.push_str("\n\n");
    body.push_str(&tr.fmt("mail.view_ticket", &[("link", &link)]));
    body.push_str("\n\n-- \n");
    body.push_str(&tr.fmt("mail.signature", &[("product", &config.product_name)]));
    body.push('\n');
    body.push_str(tr.t("mail.automatic"));
    body.push('\n');
    (subject, body)
}

/// The subject and the paragraphs saying what happened.
fn content(
    tr: &Tr,
    config: &Config,
    ticket: &Ticket,
    time_zone: &TimeZone,
    notice: &Notice,
) -> (String, Vec<String>) {
    let lang = tr.lang;
    let id = ticket.id.0.to_string();
    let title = one_line(&ticket.subject);
    // User text goes last in each list: a subject containing "{id}" must
    // stay as written.
    let with_ticket = |key: &str| tr.fmt(key, &[("id", &id), ("subject", &title)]);
    let status_label = |status: TicketStatus| status.label(lang).to_owned();

    let mut paragraphs: Vec<String> = Vec::new();
    let subject = match notice {
        Notice::Received => {
            paragraphs.push(with_ticket("mail.received.intro"));
            paragraphs.push(tr.fmt(
                "mail.status_line",
                &[
                    ("status", TicketStatus::Sent.label(lang)),
                    ("description", TicketStatus::Sent.description(lang)),
                ],
            ));
            paragraphs.push(tr.t("mail.received.next").to_owned());
            with_ticket("mail.received.subject")
        }
        Notice::AgentReply {
            author,
            body,
            status,
        } => {
            let author = if author.is_empty() {
                tr.t("mail.reply.team").to_owned()
            } else {
                one_line(author)
            };
            paragraphs.push(tr.fmt(
                "mail.reply.intro",
                &[("id", &id), ("agent", &author), ("subject", &title)],
            ));
            paragraphs.push(body.trim().to_owned());
            if let Some(status) = status {
                paragraphs.push(tr.fmt(
                    "mail.status_line",
                    &[
                        ("status", status.label(lang)),
                        ("description", status.description(lang)),
                    ],
                ));
            }
            with_ticket("mail.reply.subject")
        }
        Notice::Status(status) => {
            paragraphs.push(tr.fmt(
                "mail.status.intro",
                &[
                    ("id", &id),
                    ("status", &status_label(*status)),
                    ("subject", &title),
                ],
            ));
            paragraphs.push(status.description(lang).to_owned());
            if *status == TicketStatus::Solved {
                paragraphs.push(tr.fmt(
                    "mail.status.reopen",
                    &[("days", &config.reopen_window_days.to_string())],
                ));
            }
            tr.fmt(
                "mail.status.subject",
                &[
                    ("id", &id),
                    ("status", &status_label(*status)),
                    ("subject", &title),
                ],
            )
        }
        Notice::Reminder { deadline } => {
            paragraphs.push(with_ticket("mail.reminder.intro"));
            let solved = status_label(TicketStatus::Solved);
            paragraphs.push(match deadline {
                Some(deadline) => tr.fmt(
                    "mail.reminder.deadline",
                    &[
                        ("solved", &solved),
                        ("deadline", &format_deadline(tr, *deadline, time_zone)),
                    ],
                ),
                None => tr.fmt("mail.reminder.soon", &[("solved", &solved)]),
            });
            with_ticket("mail.reminder.subject")
        }
        Notice::ContactRequested => {
            paragraphs.push(with_ticket("mail.contact_requested.intro"));
            with_ticket("mail.contact_requested.subject")
        }
        Notice::ContactHandled => {
            paragraphs.push(with_ticket("mail.contact_handled.intro"));
            with_ticket("mail.contact_handled.subject")
        }
    };
    (subject, paragraphs)
}

/// A deadline on the recipient's wall clock, with the zone named.
fn format_deadline(tr: &Tr, deadline: Timestamp, time_zone: &TimeZone) -> String {
    let zoned = deadline.to_zoned(time_zone.clone());
    let local = jiff::fmt::strtime::format(tr.t("mail.datetime_format"), &zoned)
        .unwrap_or_else(|_| zoned.datetime().to_string());
    match time_zone.iana_name() {
        Some(name) => format!("{local} ({name})"),
        None => local,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use sqlx::types::Json;

    use super::*;
    use crate::{i18n::Catalog, store::Ts};

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn event(id: i64, at_text: &str) -> TicketEvent {
        TicketEvent {
            id,
            ticket_id: 1,
            kind: "created".into(),
            actor_kind: "customer".into(),
            actor_id: None,
            at: Ts(at(at_text)),
            data: Json(json!({})),
        }
    }

    #[test]
    fn the_cursor_moves_past_every_event_when_ids_commit_in_order() {
        let events = [
            event(11, "2026-03-10T17:00:00Z"),
            event(13, "2026-03-10T17:00:00Z"),
        ];
        assert_eq!(
            settled_cursor(10, &events, at("2026-03-10T17:00:00Z"), false),
            13
        );
    }

    #[test]
    fn the_cursor_waits_at_a_recent_hole_then_passes_it() {
        let events = [
            event(11, "2026-03-10T17:00:00Z"),
            event(13, "2026-03-10T17:00:00Z"),
        ];
        assert_eq!(
            settled_cursor(10, &events, at("2026-03-10T17:00:30Z"), true),
            11
        );
        assert_eq!(
            settled_cursor(10, &events, at("2026-03-10T17:01:00Z"), true),
            13
        );
    }

    fn decided(event_id: i64, actor: i64, at_text: &str, notice: Notice) -> Decided {
        Decided {
            event_id,
            ticket_id: 1,
            actor_id: Some(actor),
            at: at(at_text),
            recipient: 9,
            notice,
        }
    }

    #[test]
    fn a_reply_and_a_status_change_of_one_action_become_one_message() {
        let reply = Notice::AgentReply {
            author: "Fernanda".into(),
            body: "Pronto".into(),
            status: None,
        };
        let merged = merge_reply_and_status(vec![
            decided(1, 5, "2026-03-10T17:00:00Z", reply),
            decided(
                2,
                5,
                "2026-03-10T17:00:01Z",
                Notice::Status(TicketStatus::AwaitingReply),
            ),
            // Another agent, or much later: a message of its own.
            decided(
                3,
                6,
                "2026-03-10T17:00:01Z",
                Notice::Status(TicketStatus::Solved),
            ),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].notice,
            Notice::AgentReply {
                author: "Fernanda".into(),
                body: "Pronto".into(),
                status: Some(TicketStatus::AwaitingReply),
            }
        );
        assert_eq!(merged[1].event_id, 3);
    }

    #[test]
    fn reminder_deadlines_read_as_rfc3339_or_seconds() {
        assert_eq!(
            parse_deadline(&json!("2026-03-17T20:00:00Z")),
            Some(at("2026-03-17T20:00:00Z"))
        );
        assert_eq!(
            parse_deadline(&json!(1_773_777_600)),
            Some(at("2026-03-17T20:00:00Z"))
        );
        assert_eq!(parse_deadline(&json!(null)), None);
    }

    fn sample() -> (Ticket, User) {
        let now = Ts(at("2026-03-10T17:00:00Z"));
        let ticket = Ticket {
            id: TicketId(42),
            subject: "Nota {id}\r\nBcc: x@example.com".into(),
            description: String::new(),
            ticket_type: "support".into(),
            status: "sent".into(),
            organization_id: None,
            requester_id: UserId(9),
            assignee_id: None,
            group_id: None,
            channel: "portal".into(),
            created_at: now,
            updated_at: now,
            solved_at: None,
            version: 1,
        };
        let user = User {
            id: UserId(9),
            external_id: None,
            email: "ana@example.com".into(),
            name: "Ana".into(),
            role: "customer".into(),
            locale: "pt-BR".into(),
            time_zone: "America/Sao_Paulo".into(),
            password_hash: None,
            active: true,
            created_at: now,
        };
        (ticket, user)
    }

    #[test]
    fn subjects_are_one_line_and_keep_user_text_as_written() {
        let catalog = Arc::new(Catalog::load().expect("locales"));
        let (ticket, user) = sample();
        let tz = TimeZone::get("America/Sao_Paulo").expect("zone");
        let tr = Tr::new(catalog, Lang::PtBr);
        let (subject, body) = render(
            &tr,
            &Config::default(),
            &ticket,
            &user,
            &tz,
            &Notice::Received,
        );
        assert_eq!(
            subject,
            "[#42] Recebemos seu ticket: Nota {id} Bcc: x@example.com"
        );
        assert!(
            body.contains("Recebemos seu ticket #42: Nota {id} Bcc: x@example.com"),
            "{body}"
        );
        assert!(
            body.contains("http://127.0.0.1:8080/portal/tickets/42"),
            "{body}"
        );
        assert!(body.contains("Enviado"), "{body}");
    }

    #[test]
    fn reminder_deadline_is_on_the_recipients_wall_clock() {
        let catalog = Arc::new(Catalog::load().expect("locales"));
        let (ticket, user) = sample();
        let deadline = Some(at("2026-03-17T20:00:00Z"));
        let notice = Notice::Reminder { deadline };
        let tz = TimeZone::get("America/Sao_Paulo").expect("zone");
        let pt = Tr::new(Arc::clone(&catalog), Lang::PtBr);
        let (_, body) = render(&pt, &Config::default(), &ticket, &user, &tz, &notice);
        assert!(
            body.contains("17/03/2026 às 17:00 (America/Sao_Paulo)"),
            "{body}"
        );
        let en = Tr::new(catalog, Lang::En);
        let tz = TimeZone::get("America/New_York").expect("zone");
        let (_, body) = render(&en, &Config::default(), &ticket, &user, &tz, &notice);
        assert!(
            body.contains("Mar 17, 2026 4:00 PM (America/New_York)"),
            "{body}"
        );
    }
}
