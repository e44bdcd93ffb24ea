//! Bulk writes for generated data (demo, and later benchmark data sets):
//! multi-row inserts in batches, each batch one transaction, ids chosen by
//! the generator so events and comments need no round trip per ticket.

use serde::Serialize;
use sha2::Digest;
use sqlx::{QueryBuilder, types::Json};

use super::{Db, StoreError, Ts, WritePool, events::EventKind};
use crate::{domain::ActorKind, with_db};

/// A generated ticket with its history and conversation.
#[derive(Clone, Debug)]
pub struct GenTicket {
    pub id: i64,
    pub subject: String,
    pub description: String,
    pub ticket_type: &'static str,
    pub status: &'static str,
    pub organization_id: Option<i64>,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub channel: &'static str,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub solved_at: Option<Ts>,
    pub events: Vec<GenEvent>,
    pub comments: Vec<GenComment>,
    /// The audit trail of the history above, oldest first.
    pub ticket_events: Vec<GenTicketEvent>,
    /// Files attached at creation; their `storage_key`s must be set (the
    /// contents stored) before the batch is written.
    pub attachments: Vec<GenAttachment>,
}

#[derive(Clone, Debug)]
pub struct GenAttachment {
    pub file_name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
    pub uploaded_by: i64,
    pub created_at: Ts,
    pub storage_key: String,
}

#[derive(Clone, Debug)]
pub struct GenEvent {
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub at: Ts,
    pub actor_kind: &'static str,
    pub actor_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct GenComment {
    pub id: i64,
    pub author_id: Option<i64>,
    pub body: String,
    pub public: bool,
    pub created_at: Ts,
}

/// A generated ticket event (see `store::events`); ids increase with `at`
/// within a ticket.
#[derive(Clone, Debug)]
pub struct GenTicketEvent {
    pub id: i64,
    pub actor_kind: ActorKind,
    pub actor_id: Option<i64>,
    pub at: Ts,
    pub data: GenEventData,
}

/// A generated event's kind with its details, serialized as the kind's
/// `data` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum GenEventData {
    Created {
        status: &'static str,
    },
    StatusChanged {
        from: &'static str,
        to: &'static str,
    },
    CommentAdded {
        comment_id: i64,
        public: bool,
    },
}

impl GenEventData {
    pub fn kind(&self) -> EventKind {
        match self {
            GenEventData::Created { .. } => EventKind::Created,
            GenEventData::StatusChanged { .. } => EventKind::StatusChanged,
            GenEventData::CommentAdded { .. } => EventKind::CommentAdded,
        }
    }
}

/// The highest ids in use, so generated ids follow them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaxIds {
    pub ticket: i64,
    pub comment: i64,
    pub ticket_event: i64,
}

/// The highest ticket, comment and ticket event ids in use.
pub async fn max_ids(db: &Db) -> Result<MaxIds, StoreError> {
    Ok(with_db!(db, |pool| {
        let ticket: Option<i64> = sqlx::query_scalar("select max(id) from tickets")
            .fetch_one(pool)
            .await?;
        let comment: Option<i64> = sqlx::query_scalar("select max(id) from comments")
            .fetch_one(pool)
            .await?;
        let ticket_event: Option<i64> = sqlx::query_scalar("select max(id) from ticket_events")
            .fetch_one(pool)
            .await?;
        MaxIds {
            ticket: ticket.unwrap_or(0),
            comment: comment.unwrap_or(0),
            ticket_event: ticket_event.unwrap_or(0),
        }
    }))
}

/// Rows per multi-row insert: well under SQLite's limit of bound parameters.
const ROWS_PER_STATEMENT: usize = 400;

/// Writes a batch of tickets, their status events, comments, ticket
/// events and attachments in one transaction.
#[expect(
    clippy::too_many_lines,
    reason = "one multi-row insert per table, in one transaction"
)]
pub async fn insert_tickets(db: &Db, batch: &[GenTicket]) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for chunk in batch.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "insert into tickets (id, subject, description, ticket_type, status, organization_id, requester_id, \
                 assignee_id, group_id, channel, created_at, updated_at, solved_at) ",
            );
            q.push_values(chunk, |mut row, t| {
                row.push_bind(t.id)
                    .push_bind(&t.subject)
                    .push_bind(&t.description)
                    .push_bind(t.ticket_type)
                    .push_bind(t.status)
                    .push_bind(t.organization_id)
                    .push_bind(t.requester_id)
                    .push_bind(t.assignee_id)
                    .push_bind(t.group_id)
                    .push_bind(t.channel)
                    .push_bind(t.created_at)
                    .push_bind(t.updated_at)
                    .push_bind(t.solved_at);
            });
            q.build().execute(&mut *tx).await?;
        }
        let events: Vec<(i64, &GenEvent)> = batch
            .iter()
            .flat_map(|t| t.events.iter().map(move |e| (t.id, e)))
            .collect();
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "insert into status_events (ticket_id, from_status, to_status, at, actor_kind, actor_id) ",
            );
            q.push_values(chunk, |mut row, (ticket, e)| {
                row.push_bind(*ticket)
                    .push_bind(e.from)
                    .push_bind(e.to)
                    .push_bind(e.at)
                    .push_bind(e.actor_kind)
                    .push_bind(e.actor_id);
            });
            q.build().execute(&mut *tx).await?;
        }
        let comments: Vec<(i64, &GenComment)> = batch
            .iter()
            .flat_map(|t| t.comments.iter().map(move |c| (t.id, c)))
            .collect();
        for chunk in comments.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "insert into comments (id, ticket_id, author_id, body, public, created_at) ",
            );
            q.push_values(chunk, |mut row, (ticket, c)| {
                row.push_bind(c.id)
                    .push_bind(*ticket)
                    .push_bind(c.author_id)
                    .push_bind(&c.body)
                    .push_bind(c.public)
                    .push_bind(c.created_at);
            });
            q.build().execute(&mut *tx).await?;
        }
        let ticket_events: Vec<(i64, &GenTicketEvent)> = batch
            .iter()
            .flat_map(|t| t.ticket_events.iter().map(move |e| (t.id, e)))
            .collect();
        for chunk in ticket_events.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "insert into ticket_events (id, ticket_id, kind, actor_kind, actor_id, at, data) ",
            );
            q.push_values(chunk, |mut row, (ticket, e)| {
                row.push_bind(e.id)
                    .push_bind(*ticket)
                    .push_bind(e.data.kind().key())
                    .push_bind(e.actor_kind.key())
                    .push_bind(e.actor_id)
                    .push_bind(e.at)
                    .push_bind(Json(&e.data));
            });
            q.build().execute(&mut *tx).await?;
        }
        let attachments: Vec<(i64, &GenAttachment)> = batch
            .iter()
            .flat_map(|t| t.attachments.iter().map(move |a| (t.id, a)))
            .collect();
        for chunk in attachments.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "insert into attachments (ticket_id, comment_id, file_name, content_type, size_bytes, sha256, \
                 storage_key, uploaded_by, created_at) ",
            );
            q.push_values(chunk, |mut row, (ticket, a)| {
                row.push_bind(*ticket)
                    .push_bind(None::<i64>)
                    .push_bind(a.file_name)
                    .push_bind(a.content_type)
                    .push_bind(i64::try_from(a.body.len()).unwrap_or(i64::MAX))
                    .push_bind(hex::encode(sha2::Sha256::digest(a.body.as_bytes())))
                    .push_bind(&a.storage_key)
                    .push_bind(a.uploaded_by)
                    .push_bind(a.created_at);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// After explicit ids were inserted, PostgreSQL's identity sequences must be
/// moved past them; SQLite needs nothing.
pub async fn sync_sequences(db: &Db) -> Result<(), StoreError> {
    if let Db::Postgres(pool, _) = db {
        for table in [
            "organizations",
            "users",
            "tickets",
            "comments",
            "status_events",
            "ticket_events",
            "attachments",
        ] {
            let sql = format!(
                "select setval(pg_get_serial_sequence('{table}', 'id'), coalesce((select max(id) from {table}), 0) + 1, false)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
        }
    }
    Ok(())
}
