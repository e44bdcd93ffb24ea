//! Tickets, their append-only status events and their comments.

use jiff::Timestamp;
use sqlx::FromRow;

use serde_json::json;

use super::{
    Db, StoreError, Ts, WritePool,
    events::{self, EventKind},
};
use crate::{
    domain::{ActorKind, CommentId, OrgId, TicketId, TicketStatus, TicketType, UserId},
    with_db,
};

/// A ticket as stored.
#[derive(Clone, Debug, FromRow)]
pub struct Ticket {
    #[sqlx(try_from = "i64")]
    pub id: TicketId,
    pub subject: String,
    pub description: String,
    pub ticket_type: String,
    pub status: String,
    pub organization_id: Option<i64>,
    #[sqlx(try_from = "i64")]
    pub requester_id: UserId,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub channel: String,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub solved_at: Option<Ts>,
    pub version: i64,
}

impl Ticket {
    /// The parsed status. The column has a check constraint, so an unknown
    /// value cannot be stored; `Sent` is only a safe fallback.
    pub fn status(&self) -> TicketStatus {
        TicketStatus::from_key(&self.status).unwrap_or(TicketStatus::Sent)
    }

    pub fn ticket_type(&self) -> TicketType {
        TicketType::from_key(&self.ticket_type).unwrap_or(TicketType::Support)
    }
}

/// One change of status.
#[derive(Clone, Debug, FromRow, serde::Deserialize)]
pub struct StatusEventRow {
    pub id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: Ts,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
}

crate::lane_row!(StatusEventRow {
    id,
    from_status,
    to_status,
    at,
    actor_kind,
    actor_id
});

/// What opening a ticket needs.
#[derive(Clone, Debug)]
pub struct NewTicket<'a> {
    pub subject: &'a str,
    pub description: &'a str,
    pub ticket_type: TicketType,
    pub organization: Option<OrgId>,
    pub requester: UserId,
    pub channel: &'a str,
}

/// Who did something.
#[derive(Clone, Copy, Debug)]
pub struct Actor {
    pub kind: ActorKind,
    pub user: Option<UserId>,
}

const TICKET_COLUMNS: &str = "id, subject, description, ticket_type, status, organization_id, requester_id, \
     assignee_id, group_id, channel, created_at, updated_at, solved_at, version";

/// Opens a ticket as *Enviado* together with its first status event, in one
/// transaction: a ticket never exists without its history.
pub async fn create(
    db: &Db,
    ticket: &NewTicket<'_>,
    actor: Actor,
    now: Timestamp,
) -> Result<TicketId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "insert into tickets (subject, description, ticket_type, status, organization_id, requester_id, channel, created_at, updated_at, status_since) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8) returning id",
        )
        .bind(ticket.subject)
        .bind(ticket.description)
        .bind(ticket.ticket_type.key())
        .bind(TicketStatus::Sent.key())
        .bind(ticket.organization.map(|o| o.0))
        .bind(ticket.requester.0)
        .bind(ticket.channel)
        .bind(Ts(now))
        .fetch_one(&mut *tx)
        .await?;
        let actor = events::actor(actor.kind, actor.user);
        record_creation(&mut tx, id, TicketStatus::Sent, actor, now).await?;
        tx.commit().await?;
        id
    });
    Ok(TicketId(id))
}

/// A new ticket's first status event (from nothing to `status`) and its
/// `Created` ticket event, inside the transaction that inserted it. The
/// insert sets the ticket's `status_since` to `now` itself, so the status
/// event's trigger leaves the row alone (migration 0017).
pub(crate) async fn record_creation<DB>(
    tx: &mut crate::store::WriteTx<DB>,
    id: i64,
    status: TicketStatus,
    actor: (ActorKind, Option<i64>),
    now: Timestamp,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Ts: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> sqlx::types::Json<serde_json::Value>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query(
        "insert into status_events (ticket_id, from_status, to_status, at, actor_kind, actor_id) values ($1, null, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(status.key())
    .bind(Ts(now))
    .bind(actor.0.key())
    .bind(actor.1)
    .execute(&mut **tx)
    .await?;
    events::append(
        tx,
        id,
        EventKind::Created,
        actor,
        now,
        json!({ "status": status.key() }),
    )
    .await
}

pub async fn find(db: &Db, id: TicketId) -> Result<Option<Ticket>, StoreError> {
    let sql = format!("select {TICKET_COLUMNS} from tickets where id = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(pool)
            .await?
    }))
}

pub(crate) const STATUS_EVENTS: &str = "select id, from_status, to_status, at, actor_kind, actor_id from status_events where ticket_id = $1 order by at, id";

/// The ticket's status history, oldest first.
pub async fn status_events(db: &Db, id: TicketId) -> Result<Vec<StatusEventRow>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, StatusEventRow>(STATUS_EVENTS)
            .bind(id.0)
            .fetch_all(pool)
            .await?
    }))
}

/// Moves a ticket from `from` to `to` and appends the status event, in one
/// transaction. Fails with `Conflict` when the ticket is no longer in `from`
/// (someone else changed it first), so no change is silently overwritten.
/// The caller has already checked the transition rules.
pub async fn change_status(
    db: &Db,
    id: TicketId,
    from: TicketStatus,
    to: TicketStatus,
    actor: Actor,
    now: Timestamp,
) -> Result<(), StoreError> {
    let solved_at = (to == TicketStatus::Solved).then_some(Ts(now));
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "update tickets set status = $1, updated_at = $2, solved_at = $3, version = version + 1 \
             where id = $4 and status = $5",
        )
        .bind(to.key())
        .bind(Ts(now))
        .bind(solved_at)
        .bind(id.0)
        .bind(from.key())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Err(StoreError::Conflict("tickets.status".into()));
        }
        sqlx::query(
            "insert into status_events (ticket_id, from_status, to_status, at, actor_kind, actor_id) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.0)
        .bind(from.key())
        .bind(to.key())
        .bind(Ts(now))
        .bind(actor.kind.key())
        .bind(actor.user.map(|u| u.0))
        .execute(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            id.0,
            EventKind::StatusChanged,
            events::actor(actor.kind, actor.user),
            now,
            json!({ "from": from.key(), "to": to.key() }),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// A comment as stored.
#[derive(Clone, Debug, FromRow)]
pub struct Comment {
    #[sqlx(try_from = "i64")]
    pub id: CommentId,
    pub author_id: Option<i64>,
    pub body: String,
    pub public: bool,
    pub created_at: Ts,
}

/// Adds a public reply or internal note and bumps the ticket's update time.
pub async fn add_comment(
    db: &Db,
    ticket: TicketId,
    author: Option<UserId>,
    body: &str,
    public: bool,
    now: Timestamp,
) -> Result<CommentId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "insert into comments (ticket_id, author_id, body, public, created_at) values ($1, $2, $3, $4, $5) returning id",
        )
        .bind(ticket.0)
        .bind(author.map(|a| a.0))
        .bind(body)
        .bind(public)
        .bind(Ts(now))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("update tickets set updated_at = $1 where id = $2")
            .bind(Ts(now))
            .bind(ticket.0)
            .execute(&mut *tx)
            .await?;
        // Who wrote it decides how the event reads (and who is notified).
        let role: Option<String> = match author {
            Some(author) => {
                sqlx::query_scalar("select role from users where id = $1")
                    .bind(author.0)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => None,
        };
        let kind = match role.as_deref() {
            Some("customer") => ActorKind::Customer,
            Some(_) => ActorKind::Agent,
            None => ActorKind::System,
        };
        events::append(
            &mut tx,
            ticket.0,
            EventKind::CommentAdded,
            events::actor(kind, author),
            now,
            json!({ "comment_id": id, "public": public }),
        )
        .await?;
        tx.commit().await?;
        id
    });
    Ok(CommentId(id))
}

/// The ticket's comments, oldest first; only public ones unless `internal`.
pub async fn comments(
    db: &Db,
    ticket: TicketId,
    internal: bool,
) -> Result<Vec<Comment>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Comment>(
            "select id, author_id, body, public, created_at from comments \
             where ticket_id = $1 and (public = $2 or $3) order by created_at, id",
        )
        .bind(ticket.0)
        .bind(true)
        .bind(internal)
        .fetch_all(pool)
        .await?
    }))
}

/// A file already in the blob store, waiting for its row.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
}

/// Inserts the rows of files already in the blob store, inside an open
/// transaction.
pub(crate) async fn insert_files<'c, DB>(
    tx: &mut crate::store::WriteTx<DB>,
    ticket: i64,
    comment: Option<i64>,
    uploaded_by: i64,
    files: &[StoredFile],
    now: Timestamp,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Ts: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    for file in files {
        sqlx::query(
            "insert into attachments (ticket_id, comment_id, file_name, content_type, size_bytes, sha256, storage_key, uploaded_by, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(ticket)
        .bind(comment)
        .bind(file.file_name.clone())
        .bind(file.content_type.clone())
        .bind(file.size_bytes)
        .bind(file.sha256.clone())
        .bind(file.storage_key.clone())
        .bind(uploaded_by)
        .bind(Ts(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// What opening a ticket from a form needs.
#[derive(Clone, Debug)]
pub struct NewPortalTicket<'a> {
    pub ticket: NewTicket<'a>,
    /// The form's one-time key: a second submit finds the first ticket.
    pub submission_key: &'a str,
    pub files: &'a [StoredFile],
}

/// Opens a ticket as *Enviado* with its first status event and its files,
/// in one transaction. When the submission key was used already, nothing is
/// written and the existing ticket is returned with `false`. (On SQLite the
/// portal goes through `store::group_commit`, which writes several such
/// tickets per transaction.)
pub async fn create_from_form(
    db: &Db,
    new: &NewPortalTicket<'_>,
    now: Timestamp,
) -> Result<(TicketId, bool), StoreError> {
    if let (Db::Postgres(pool, _), []) = (db, new.files)
        && let Some(id) = create_from_form_postgres(pool, new, now).await?
    {
        return Ok((id, true));
    }
    let (id, created) = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let written = insert_from_form(&mut tx, new, now).await?;
        if written.1 {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        written
    });
    Ok((TicketId(id), created))
}

/// The insert of a portal ticket (`$1`–`$9`, bound by [`bind_form_ticket!`]):
/// nothing when its submission key was used already.
macro_rules! insert_form_ticket {
    () => {
        "insert into tickets (subject, description, ticket_type, status, organization_id, requester_id, channel, \
         created_at, updated_at, status_since, submission_key) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8, $9) on conflict (submission_key) do nothing returning id"
    };
}

/// Binds `$1`–`$9` of [`insert_form_ticket!`] for `new`, opened at `now`.
macro_rules! bind_form_ticket {
    ($query:expr, $new:expr, $now:expr) => {
        $query
            .bind($new.ticket.subject)
            .bind($new.ticket.description)
            .bind($new.ticket.ticket_type.key())
            .bind(TicketStatus::Sent.key())
            .bind($new.ticket.organization.map(|o| o.0))
            .bind($new.ticket.requester.0)
            .bind($new.ticket.channel)
            .bind(Ts($now))
            .bind($new.submission_key)
    };
}

/// [`create_from_form`] without files on PostgreSQL: the ticket, its first
/// status event and its `Created` event (with the notice every node's
/// listener reads, as `events::append` sends it) in one statement, which
/// PostgreSQL runs as one transaction. One round trip instead of five
/// (begin, three inserts, commit). `None` when the submission key was used
/// already: the caller then takes the general path, which tells a repeated
/// submit from someone else's key.
async fn create_from_form_postgres(
    pool: &sqlx::PgPool,
    new: &NewPortalTicket<'_>,
    now: Timestamp,
) -> Result<Option<TicketId>, StoreError> {
    let customer = events::actor(ActorKind::Customer, Some(new.ticket.requester));
    let query = sqlx::query_scalar(concat!(
        "with t as (",
        insert_form_ticket!(),
        "), \
         s as (insert into status_events (ticket_id, from_status, to_status, at, actor_kind, actor_id) \
           select id, null, $4, $8, $10, $6 from t), \
         e as (insert into ticket_events (ticket_id, kind, actor_kind, actor_id, at, data) \
           select id, $11, $10, $6, $8, $12 from t returning id, ticket_id) \
         select e.ticket_id from e, pg_notify('chamado_events', e.id::text)"
    ));
    let inserted: Option<i64> = bind_form_ticket!(query, new, now)
        .bind(customer.0.key())
        .bind(EventKind::Created.key())
        .bind(sqlx::types::Json(
            json!({ "status": TicketStatus::Sent.key() }),
        ))
        .fetch_optional(pool)
        .await?;
    Ok(inserted.map(TicketId))
}

/// The writes of [`create_from_form`] inside an open transaction: the
/// ticket id and whether it was created (`false`: the submission key
/// belongs to a ticket of this requester already, nothing was written).
/// A key used by someone else is a `Conflict`.
pub(crate) async fn insert_from_form<DB>(
    tx: &mut crate::store::WriteTx<DB>,
    new: &NewPortalTicket<'_>,
    now: Timestamp,
) -> Result<(i64, bool), StoreError>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB> + sqlx::Decode<'q, DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Ts: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> sqlx::types::Json<serde_json::Value>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let t = &new.ticket;
    // One statement in the usual case; the key's owner is looked up only
    // when the key was taken.
    let inserted: Option<i64> =
        bind_form_ticket!(sqlx::query_scalar(insert_form_ticket!()), new, now)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(id) = inserted else {
        let existing: Option<i64> = sqlx::query_scalar(
            "select id from tickets where submission_key = $1 and requester_id = $2",
        )
        .bind(new.submission_key)
        .bind(t.requester.0)
        .fetch_optional(&mut **tx)
        .await?;
        return existing
            .map(|id| (id, false))
            .ok_or_else(|| StoreError::Conflict("tickets.submission_key".into()));
    };
    let customer = events::actor(ActorKind::Customer, Some(t.requester));
    insert_files(tx, id, None, t.requester.0, new.files, now).await?;
    record_creation(tx, id, TicketStatus::Sent, customer, now).await?;
    Ok((id, true))
}

/// A customer's public reply: the comment, its files and (when the rules
/// say so) a status change, in one transaction. The status change is
/// conditional on the ticket still being in `from`, so a concurrent change
/// by an agent is never overwritten: the caller gets `Conflict`.
pub async fn add_customer_reply(
    db: &Db,
    ticket: TicketId,
    author: UserId,
    body: &str,
    change: Option<(TicketStatus, TicketStatus)>,
    files: &[StoredFile],
    now: Timestamp,
) -> Result<CommentId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        if let Some((from, to)) = change {
            let updated = sqlx::query(
                "update tickets set status = $1, updated_at = $2, solved_at = $3, version = version + 1 where id = $4 and status = $5",
            )
            .bind(to.key())
            .bind(Ts(now))
            .bind((to == TicketStatus::Solved).then_some(Ts(now)))
            .bind(ticket.0)
            .bind(from.key())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Err(StoreError::Conflict("tickets.status".into()));
            }
            sqlx::query(
                "insert into status_events (ticket_id, from_status, to_status, at, actor_kind, actor_id) values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(ticket.0)
            .bind(from.key())
            .bind(to.key())
            .bind(Ts(now))
            .bind(ActorKind::Customer.key())
            .bind(author.0)
            .execute(&mut *tx)
            .await?;
            events::append(
                &mut tx,
                ticket.0,
                EventKind::StatusChanged,
                events::actor(ActorKind::Customer, Some(author)),
                now,
                json!({ "from": from.key(), "to": to.key() }),
            )
            .await?;
        } else {
            sqlx::query("update tickets set updated_at = $1 where id = $2")
                .bind(Ts(now))
                .bind(ticket.0)
                .execute(&mut *tx)
                .await?;
        }
        let id: i64 = sqlx::query_scalar(
            "insert into comments (ticket_id, author_id, body, public, created_at) values ($1, $2, $3, $4, $5) returning id",
        )
        .bind(ticket.0)
        .bind(author.0)
        .bind(body)
        .bind(true)
        .bind(Ts(now))
        .fetch_one(&mut *tx)
        .await?;
        insert_files(&mut tx, ticket.0, Some(id), author.0, files, now).await?;
        events::append(
            &mut tx,
            ticket.0,
            EventKind::CommentAdded,
            events::actor(ActorKind::Customer, Some(author)),
            now,
            json!({ "comment_id": id, "public": true }),
        )
        .await?;
        tx.commit().await?;
        id
    });
    Ok(CommentId(id))
}
