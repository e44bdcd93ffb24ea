//! Ticket events: appended inside the transaction of every change, so the
//! audit trail, e-mail notifications and live views never miss one nor see
//! one that was rolled back.

use jiff::Timestamp;
use serde_json::Value;
use sqlx::{FromRow, types::Json};

use super::{Db, StoreError, Ts};
use crate::{
    domain::{ActorKind, TicketId, UserId},
    with_db,
};

/// What happened. Keys are stored; add new kinds at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A ticket was opened (`data`: `{"status": "sent"}`).
    Created,
    /// `{"from": "...", "to": "..."}`.
    StatusChanged,
    /// `{"comment_id": n, "public": bool}`.
    CommentAdded,
    /// `{"contact_request_id": n}`.
    ContactRequested,
    /// `{"contact_request_id": n}`.
    ContactHandled,
    /// `{"from": id|null, "to": id|null}` (user ids).
    AssigneeChanged,
    /// `{"from": id|null, "to": id|null}` (group ids).
    GroupChanged,
    /// The customer was reminded that the ticket awaits their reply.
    ReminderSent,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::Created,
        EventKind::StatusChanged,
        EventKind::CommentAdded,
        EventKind::ContactRequested,
        EventKind::ContactHandled,
        EventKind::AssigneeChanged,
        EventKind::GroupChanged,
        EventKind::ReminderSent,
    ];

    pub fn key(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::StatusChanged => "status_changed",
            EventKind::CommentAdded => "comment_added",
            EventKind::ContactRequested => "contact_requested",
            EventKind::ContactHandled => "contact_handled",
            EventKind::AssigneeChanged => "assignee_changed",
            EventKind::GroupChanged => "group_changed",
            EventKind::ReminderSent => "reminder_sent",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// The channel on which PostgreSQL announces each new event's id.
pub const EVENTS_CHANNEL: &str = "chamado_events";
/// The channel on which PostgreSQL announces triage notices (JSON).
pub const TRIAGE_CHANNEL: &str = "chamado_triage";
/// `sqlx::Database::NAME` of PostgreSQL.
const POSTGRES: &str = "PostgreSQL";

/// Appends an event inside an open transaction.
pub async fn append<'c, DB>(
    tx: &mut crate::store::WriteTx<DB>,
    ticket: i64,
    kind: EventKind,
    actor: (ActorKind, Option<i64>),
    at: Timestamp,
    data: Value,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Ts: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Json<Value>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    // On PostgreSQL the same statement tells every node's listener (see
    // `realtime`) the new id; the notification is delivered at commit, and
    // never for a transaction that rolls back.
    let sql = if DB::NAME == POSTGRES {
        "with e as (insert into ticket_events (ticket_id, kind, actor_kind, actor_id, at, data) \
         values ($1, $2, $3, $4, $5, $6) returning id) \
         select pg_notify('chamado_events', e.id::text) from e"
    } else {
        "insert into ticket_events (ticket_id, kind, actor_kind, actor_id, at, data) values ($1, $2, $3, $4, $5, $6)"
    };
    sqlx::query(sql)
        .bind(ticket)
        .bind(kind.key())
        .bind(actor.0.key())
        .bind(actor.1)
        .bind(Ts(at))
        .bind(Json(data))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// An event as stored.
#[derive(Clone, Debug, FromRow)]
pub struct TicketEvent {
    pub id: i64,
    pub ticket_id: i64,
    pub kind: String,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub at: Ts,
    pub data: Json<Value>,
}

impl TicketEvent {
    pub fn kind(&self) -> Option<EventKind> {
        EventKind::from_key(&self.kind)
    }
}

const EVENT_COLUMNS: &str = "id, ticket_id, kind, actor_kind, actor_id, at, data";

/// A ticket's events, oldest first (the audit trail).
pub async fn for_ticket(db: &Db, ticket: TicketId) -> Result<Vec<TicketEvent>, StoreError> {
    let sql = format!("select {EVENT_COLUMNS} from ticket_events where ticket_id = $1 order by id");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, TicketEvent>(sqlx::AssertSqlSafe(sql))
            .bind(ticket.0)
            .fetch_all(pool)
            .await?
    }))
}

/// Events after `after_id`, oldest first, at most `limit` (consumers such as
/// the mailer and live views read forward from their last id).
pub async fn after(db: &Db, after_id: i64, limit: i64) -> Result<Vec<TicketEvent>, StoreError> {
    let sql =
        format!("select {EVENT_COLUMNS} from ticket_events where id > $1 order by id limit $2");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, TicketEvent>(sqlx::AssertSqlSafe(sql))
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}

/// The newest event id (0 when there is none).
pub async fn last_id(db: &Db) -> Result<i64, StoreError> {
    let id: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar("select max(id) from ticket_events")
            .fetch_one(pool)
            .await?
    });
    Ok(id.unwrap_or(0))
}

/// Shorthand for an actor tuple.
pub fn actor(kind: ActorKind, user: Option<UserId>) -> (ActorKind, Option<i64>) {
    (kind, user.map(|u| u.0))
}

/// The events with the given ids, oldest first (PostgreSQL: the ids its
/// notifications carried).
pub async fn by_ids(pool: &sqlx::PgPool, ids: &[i64]) -> Result<Vec<TicketEvent>, StoreError> {
    let sql = format!("select {EVENT_COLUMNS} from ticket_events where id = any($1) order by id");
    Ok(sqlx::query_as::<_, TicketEvent>(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .fetch_all(pool)
        .await?)
}

/// A ticket's events after `after_id`, oldest first, at most `limit`.
pub async fn for_ticket_after(
    db: &Db,
    ticket: TicketId,
    after_id: i64,
    limit: i64,
) -> Result<Vec<TicketEvent>, StoreError> {
    let sql = format!(
        "select {EVENT_COLUMNS} from ticket_events where ticket_id = $1 and id > $2 order by id limit $3"
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, TicketEvent>(sqlx::AssertSqlSafe(sql))
            .bind(ticket.0)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}
