//! The agent workspace's storage: queues over every ticket, the whole ticket
//! with its internal notes, and the changes agents make.
//!
//! Nothing here is scoped to a viewer: only staff reach these functions
//! (`web::Staff` in front, `service::agent` in between), and a customer's
//! view of tickets lives in `store::portal`, never here.
//!
//! Every change an agent makes is conditional on the ticket's `version` as
//! the agent saw it: the first statement of each transaction bumps the
//! version only where it is still that number, and a stale one fails with
//! `Conflict` before anything is written. Events are appended in the same
//! transaction (`store::events`), so the audit trail holds exactly what
//! was committed.

use jiff::Timestamp;
use serde_json::{Value, json};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type, types::Json};

use super::{
    Db, StoreError, Ts, WritePool,
    events::{self, EventKind},
    lane::SqlBuilder,
    portal::{Cursor, SortKey, page_of, push_keyset},
    ticket_search::{self, Comments, Scope, TextSearch},
    tickets::StoredFile,
};
use crate::{
    domain::{ActorKind, CommentId, GroupId, TicketId, TicketStatus, UserId},
    with_db,
};

/// The statuses a ticket is still being worked in: "Meus tickets" and "Sem
/// responsável" show only these, as a help desk's personal and unassigned
/// views do (a solved ticket needs no one).
pub const UNSOLVED: [TicketStatus; 4] = [
    TicketStatus::Sent,
    TicketStatus::InProgress,
    TicketStatus::WithTech,
    TicketStatus::AwaitingReply,
];

/// A queue of the workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Queue {
    /// Every ticket.
    #[default]
    All,
    /// Tickets in one status.
    Status(TicketStatus),
    /// Unsolved tickets assigned to the viewer.
    Mine,
    /// Unsolved tickets assigned to no one.
    Unassigned,
}

/// A filter on an optional reference (assignee, group): no one, or this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Nobody,
    Id(i64),
}

/// Everything that selects and orders a queue.
#[derive(Clone, Debug, Default)]
pub struct AgentQuery {
    /// The agent looking, for "Meus tickets".
    pub viewer: i64,
    pub queue: Queue,
    pub org: Option<i64>,
    pub ticket_type: Option<String>,
    pub group: Option<Pick>,
    pub assignee: Option<Pick>,
    pub requester: Option<i64>,
    /// Part of the requester's name or e-mail.
    pub requester_text: Option<String>,
    /// Free text over subject, description and every comment, internal
    /// notes included (`store::ticket_search`).
    pub text: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
    pub limit: i64,
}

/// A row of a queue.
#[derive(Clone, Debug, FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub subject: String,
    pub ticket_type: String,
    pub status: String,
    pub organization_name: Option<String>,
    pub requester_name: String,
    pub assignee_name: Option<String>,
    pub group_name: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// One page of a queue, in display order.
#[derive(Clone, Debug)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    pub has_next: bool,
    pub has_previous: bool,
}

/// How many tickets each queue holds under the current filters.
#[derive(Clone, Copy, Debug, Default, FromRow, PartialEq, Eq)]
pub struct QueueCounts {
    pub sent: i64,
    pub in_progress: i64,
    pub with_tech: i64,
    pub awaiting_reply: i64,
    pub solved: i64,
    pub abandoned_triage: i64,
    pub mine: i64,
    pub unassigned: i64,
    pub total: i64,
}

impl QueueCounts {
    pub fn of(&self, queue: Queue) -> i64 {
        match queue {
            Queue::All => self.total,
            Queue::Mine => self.mine,
            Queue::Unassigned => self.unassigned,
            Queue::Status(status) => match status {
                TicketStatus::Sent => self.sent,
                TicketStatus::InProgress => self.in_progress,
                TicketStatus::WithTech => self.with_tech,
                TicketStatus::AwaitingReply => self.awaiting_reply,
                TicketStatus::Solved => self.solved,
                TicketStatus::AbandonedTriage => self.abandoned_triage,
            },
        }
    }
}

/// Escapes `%`, `_` and `\` so typed text matches literally in LIKE (for
/// the requester's name or e-mail).
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `t.status in ('sent', …)` for the unsolved statuses. The keys are our
/// own constants, never input.
fn unsolved_list() -> String {
    let keys: Vec<String> = UNSOLVED.iter().map(|s| format!("'{}'", s.key())).collect();
    format!("({})", keys.join(", "))
}

fn push_queue(q: &mut impl SqlBuilder, queue: Queue, viewer: i64) {
    match queue {
        Queue::All => {}
        Queue::Status(status) => {
            q.push(" and t.status = ");
            q.push_bind(status.key().to_owned());
        }
        Queue::Mine => {
            q.push(" and t.assignee_id = ");
            q.push_bind(viewer);
            q.push(format!(" and t.status in {}", unsolved_list()));
        }
        Queue::Unassigned => {
            q.push(format!(
                " and t.assignee_id is null and t.status in {}",
                unsolved_list()
            ));
        }
    }
}

fn push_pick(q: &mut impl SqlBuilder, column: &str, pick: Option<Pick>) {
    match pick {
        None => {}
        Some(Pick::Nobody) => {
            q.push(format!(" and {column} is null"));
        }
        Some(Pick::Id(id)) => {
            q.push(format!(" and {column} = "));
            q.push_bind(id);
        }
    }
}

/// The filters shared by a queue and the queue counts (everything but the
/// queue itself).
fn push_filters(q: &mut impl SqlBuilder, query: &AgentQuery, search: Option<&TextSearch>) {
    q.push(" where 1 = 1");
    if let Some(org) = query.org {
        q.push(" and t.organization_id = ");
        q.push_bind(org);
    }
    if let Some(kind) = &query.ticket_type {
        q.push(" and t.ticket_type = ");
        q.push_bind(kind.clone());
    }
    push_pick(q, "t.group_id", query.group);
    push_pick(q, "t.assignee_id", query.assignee);
    if let Some(requester) = query.requester {
        q.push(" and t.requester_id = ");
        q.push_bind(requester);
    }
    if let Some(text) = query
        .requester_text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let pattern = like_pattern(text);
        q.push(" and t.requester_id in (select r.id from users r where lower(r.name) like ");
        q.push_bind(pattern.clone());
        q.push(" escape '\\' or r.email_lower like ");
        q.push_bind(pattern);
        q.push(" escape '\\')");
    }
    if let Some(search) = search {
        // Every comment: agents search their internal notes too.
        ticket_search::push_text_condition(q, search, Comments::All, search_scope(query));
    }
}

/// The organization or requester filtered on, for the search index to
/// narrow its matches to (`ticket_search::Scope`).
fn search_scope(query: &AgentQuery) -> Scope<'_> {
    match (&query.org, query.requester) {
        (Some(org), _) => Scope::Orgs(std::slice::from_ref(org)),
        (None, Some(requester)) => Scope::Requester(requester),
        (None, None) => Scope::Any,
    }
}

fn push_list(q: &mut impl SqlBuilder, query: &AgentQuery, search: Option<&TextSearch>) {
    let column = match query.sort {
        SortKey::Created => "t.created_at",
        SortKey::Updated => "t.updated_at",
    };
    q.push(
        "select t.id, t.subject, t.ticket_type, t.status, o.name as organization_name, \
         u.name as requester_name, a.name as assignee_name, g.name as group_name, t.created_at, t.updated_at \
         from tickets t left join organizations o on o.id = t.organization_id \
         join users u on u.id = t.requester_id left join users a on a.id = t.assignee_id \
         left join groups g on g.id = t.group_id",
    );
    push_filters(q, query, search);
    push_queue(q, query.queue, query.viewer);
    push_keyset(
        q,
        column,
        query.descending,
        query.after,
        query.before,
        query.limit,
    );
}

/// One page of a queue.
pub async fn list(db: &Db, query: &AgentQuery) -> Result<QueuePage, StoreError> {
    let search = TextSearch::prepare(db, query.text.as_deref()).await?;
    let rows: Vec<QueueRow> = with_db!(db, |pool| {
        let mut q = QueryBuilder::new("");
        push_list(&mut q, query, search.as_ref());
        q.build_query_as::<QueueRow>()
            .persistent(!TextSearch::plans_per_value(search.as_ref()))
            .fetch_all(pool)
            .await?
    });
    let (rows, has_next, has_previous) = page_of(rows, query.limit, query.after, query.before);
    Ok(QueuePage {
        rows,
        has_next,
        has_previous,
    })
}

/// Every queue's count under the query's filters, in one pass.
pub async fn queue_counts(db: &Db, query: &AgentQuery) -> Result<QueueCounts, StoreError> {
    fn push_counts(q: &mut impl SqlBuilder, query: &AgentQuery, search: Option<&TextSearch>) {
        q.push("select ");
        for status in TicketStatus::ALL {
            let key = status.key();
            q.push(format!(
                "count(*) filter (where t.status = '{key}') as {key}, "
            ));
        }
        let unsolved = unsolved_list();
        q.push("count(*) filter (where t.assignee_id = ");
        q.push_bind(query.viewer);
        q.push(format!(
            " and t.status in {unsolved}) as mine, \
             count(*) filter (where t.assignee_id is null and t.status in {unsolved}) as unassigned, \
             count(*) as total from "
        ));
        ticket_search::push_counted_tickets(
            q,
            "t.id, t.status, t.assignee_id",
            search,
            Comments::All,
            search_scope(query),
            |q| push_filters(q, query, None),
        );
    }
    let search = TextSearch::prepare(db, query.text.as_deref()).await?;
    Ok(with_db!(db, |pool| {
        let mut q = QueryBuilder::new("");
        push_counts(&mut q, query, search.as_ref());
        q.build_query_as::<QueueCounts>()
            .persistent(!TextSearch::plans_per_value(search.as_ref()))
            .fetch_one(pool)
            .await?
    }))
}

/// A ticket with everything the agent's page names.
#[derive(Clone, Debug, FromRow)]
pub struct AgentTicket {
    pub id: i64,
    pub subject: String,
    pub description: String,
    pub ticket_type: String,
    pub status: String,
    pub organization_id: Option<i64>,
    pub organization_name: Option<String>,
    pub requester_id: i64,
    pub requester_name: String,
    pub requester_email: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub group_id: Option<i64>,
    pub group_name: Option<String>,
    pub channel: String,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub solved_at: Option<Ts>,
    pub version: i64,
}

impl AgentTicket {
    pub fn status(&self) -> TicketStatus {
        TicketStatus::from_key(&self.status).unwrap_or(TicketStatus::Sent)
    }
}

/// Any ticket, or `None`.
pub async fn find(db: &Db, id: i64) -> Result<Option<AgentTicket>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, AgentTicket>(
            "select t.id, t.subject, t.description, t.ticket_type, t.status, t.organization_id, \
             o.name as organization_name, t.requester_id, u.name as requester_name, u.email as requester_email, \
             t.assignee_id, a.name as assignee_name, t.group_id, g.name as group_name, t.channel, \
             t.created_at, t.updated_at, t.solved_at, t.version \
             from tickets t left join organizations o on o.id = t.organization_id \
             join users u on u.id = t.requester_id left join users a on a.id = t.assignee_id \
             left join groups g on g.id = t.group_id where t.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// A public reply or an internal note, with its author.
#[derive(Clone, Debug, FromRow)]
pub struct AgentComment {
    pub id: i64,
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    pub author_role: Option<String>,
    pub body: String,
    pub public: bool,
    pub created_at: Ts,
}

/// The whole conversation, internal notes included, oldest first.
pub async fn comments(db: &Db, ticket: i64) -> Result<Vec<AgentComment>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, AgentComment>(
            "select c.id, c.author_id, u.name as author_name, u.role as author_role, c.body, c.public, c.created_at \
             from comments c left join users u on u.id = c.author_id \
             where c.ticket_id = $1 order by c.created_at, c.id",
        )
        .bind(ticket)
        .fetch_all(pool)
        .await?
    }))
}

/// A file of the ticket: of the description or of any comment.
#[derive(Clone, Debug, FromRow)]
pub struct AgentAttachment {
    pub id: i64,
    pub comment_id: Option<i64>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: String,
    pub created_at: Ts,
}

const ATTACHMENTS: &str = "select id, comment_id, file_name, content_type, size_bytes, storage_key, created_at \
     from attachments where ticket_id = $1";

/// Every file of the ticket, internal notes' included.
pub async fn attachments(db: &Db, ticket: i64) -> Result<Vec<AgentAttachment>, StoreError> {
    let sql = format!("{ATTACHMENTS} order by id");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, AgentAttachment>(sqlx::AssertSqlSafe(sql))
            .bind(ticket)
            .fetch_all(pool)
            .await?
    }))
}

/// One file of the ticket.
pub async fn attachment(
    db: &Db,
    ticket: i64,
    id: i64,
) -> Result<Option<AgentAttachment>, StoreError> {
    let sql = format!("{ATTACHMENTS} and id = $2");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, AgentAttachment>(sqlx::AssertSqlSafe(sql))
            .bind(ticket)
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// A ticket named in a list of links.
#[derive(Clone, Debug, FromRow)]
pub struct TicketLink {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub created_at: Ts,
}

/// The newest tickets of a requester (`column` = `requester_id`) or an
/// organization (`organization_id`), without `except`.
async fn related(
    db: &Db,
    column: &'static str,
    value: i64,
    except: i64,
    limit: i64,
) -> Result<Vec<TicketLink>, StoreError> {
    let sql = format!(
        "select id, subject, status, created_at from tickets where {column} = $1 and id <> $2 \
         order by created_at desc, id desc limit $3"
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, TicketLink>(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .bind(except)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}

/// The requester's other tickets, newest first.
pub async fn requester_tickets(
    db: &Db,
    requester: i64,
    except: i64,
    limit: i64,
) -> Result<Vec<TicketLink>, StoreError> {
    related(db, "requester_id", requester, except, limit).await
}

/// The organization's other tickets, newest first.
pub async fn organization_tickets(
    db: &Db,
    organization: i64,
    except: i64,
    limit: i64,
) -> Result<Vec<TicketLink>, StoreError> {
    related(db, "organization_id", organization, except, limit).await
}

/// An id with its name: a group, an agent, an organization.
#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

/// Every group, by name.
pub async fn groups(db: &Db) -> Result<Vec<Named>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Named>("select id, name from groups order by name, id")
            .fetch_all(pool)
            .await?
    }))
}

/// Every active agent and admin: who a ticket can be assigned to.
pub async fn agents(db: &Db) -> Result<Vec<Named>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Named>(
            "select id, name from users where role in ('agent', 'admin') and active = $1 order by name, id",
        )
        .bind(true)
        .fetch_all(pool)
        .await?
    }))
}

/// Organizations for the queue filter, by name.
pub async fn organizations(db: &Db, limit: i64) -> Result<Vec<Named>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Named>("select id, name from organizations order by name, id limit $1")
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}

/// The names of these users (for the audit trail and filter labels).
pub async fn user_names(db: &Db, ids: &[i64]) -> Result<Vec<Named>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(with_db!(db, |pool| {
        let mut q = QueryBuilder::new("select id, name from users where id in (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        q.push(")");
        q.build_query_as::<Named>().fetch_all(pool).await?
    }))
}

/// A contact request waiting for the team.
#[derive(Clone, Debug, FromRow)]
pub struct OpenContactRequest {
    pub id: i64,
    pub ticket_id: i64,
    pub subject: String,
    pub requester_name: String,
    pub organization_name: Option<String>,
    pub channel: String,
    pub phone: String,
    pub preferred_window: String,
    pub message: String,
    pub created_at: Ts,
}

/// Open contact requests, the longest-waiting first.
pub async fn open_contact_requests(
    db: &Db,
    limit: i64,
) -> Result<Vec<OpenContactRequest>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, OpenContactRequest>(
            "select cr.id, cr.ticket_id, t.subject, u.name as requester_name, o.name as organization_name, \
             cr.channel, cr.phone, cr.preferred_window, cr.message, cr.created_at \
             from contact_requests cr join tickets t on t.id = cr.ticket_id \
             join users u on u.id = cr.requester_id left join organizations o on o.id = t.organization_id \
             where cr.state = 'open' order by cr.created_at, cr.id limit $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// How many contact requests are open.
pub async fn open_contact_request_count(db: &Db) -> Result<i64, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>("select count(*) from contact_requests where state = 'open'")
            .fetch_one(pool)
            .await?
    }))
}

/// A contact request as the team sees it: with the note and who handled it.
#[derive(Clone, Debug, FromRow)]
pub struct TicketContactRequest {
    pub id: i64,
    pub channel: String,
    pub phone: String,
    pub preferred_window: String,
    pub message: String,
    pub state: String,
    pub created_at: Ts,
    pub handled_at: Option<Ts>,
    pub handled_by_name: Option<String>,
    pub handled_note: Option<String>,
}

/// The ticket's contact requests, oldest first.
pub async fn ticket_contact_requests(
    db: &Db,
    ticket: i64,
) -> Result<Vec<TicketContactRequest>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, TicketContactRequest>(
            "select cr.id, cr.channel, cr.phone, cr.preferred_window, cr.message, cr.state, cr.created_at, \
             cr.handled_at, u.name as handled_by_name, cr.handled_note \
             from contact_requests cr left join users u on u.id = cr.handled_by \
             where cr.ticket_id = $1 order by cr.created_at, cr.id",
        )
        .bind(ticket)
        .fetch_all(pool)
        .await?
    }))
}

/// The ticket a contact request belongs to.
pub async fn contact_request_ticket(db: &Db, id: i64) -> Result<Option<i64>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>("select ticket_id from contact_requests where id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

// ---------------------------------------------------------------------------
// Changes. Each runs in one transaction that starts with `claim`.

/// Bumps the ticket's `version` (and update time) if it is still the one
/// the agent saw; otherwise `Conflict` and nothing is written. Within the
/// transaction the row then stays locked (PostgreSQL) or the database
/// stays reserved for this writer (SQLite's `begin immediate`), so what
/// follows is applied to exactly that version.
async fn claim<DB>(
    tx: &mut crate::store::WriteTx<DB>,
    ticket: i64,
    version: i64,
    now: Timestamp,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + sqlx::Decode<'q, DB>,
    for<'q> Ts: Encode<'q, DB> + Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
{
    let claimed: Option<i64> = sqlx::query_scalar(
        "update tickets set version = version + 1, updated_at = $1 where id = $2 and version = $3 returning id",
    )
    .bind(Ts(now))
    .bind(ticket)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?;
    if claimed.is_some() {
        Ok(())
    } else {
        Err(StoreError::Conflict("tickets.version".into()))
    }
}

/// Sets the status, records the status event (time in each status is
/// derived from those) and appends `StatusChanged`.
async fn set_status<DB>(
    tx: &mut crate::store::WriteTx<DB>,
    ticket: i64,
    from: TicketStatus,
    to: TicketStatus,
    actor: UserId,
    now: Timestamp,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Ts: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Ts>: Encode<'q, DB> + Type<DB>,
    for<'q> Json<Value>: Encode<'q, DB> + Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
{
    let solved_at = (to == TicketStatus::Solved).then_some(Ts(now));
    sqlx::query("update tickets set status = $1, solved_at = $2 where id = $3")
        .bind(to.key())
        .bind(solved_at)
        .bind(ticket)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "insert into status_events (ticket_id, from_status, to_status, at, actor_kind, actor_id) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ticket)
    .bind(from.key())
    .bind(to.key())
    .bind(Ts(now))
    .bind(ActorKind::Agent.key())
    .bind(Some(actor.0))
    .execute(&mut **tx)
    .await?;
    events::append(
        tx,
        ticket,
        EventKind::StatusChanged,
        events::actor(ActorKind::Agent, Some(actor)),
        now,
        json!({ "from": from.key(), "to": to.key() }),
    )
    .await?;
    Ok(())
}

/// Which of a ticket's references to a person or group an agent changes.
#[derive(Clone, Copy, Debug)]
enum Reference {
    Group,
    Assignee,
}

/// Sets the ticket's group or assignee and appends the matching event
/// (`GroupChanged` / `AssigneeChanged`).
async fn set_reference<DB>(
    tx: &mut crate::store::WriteTx<DB>,
    reference: Reference,
    ticket: i64,
    from: Option<i64>,
    to: Option<i64>,
    actor: UserId,
    now: Timestamp,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Ts: Encode<'q, DB> + Type<DB>,
    for<'q> Json<Value>: Encode<'q, DB> + Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
{
    let (sql, kind) = match reference {
        Reference::Group => (
            "update tickets set group_id = $1 where id = $2",
            EventKind::GroupChanged,
        ),
        Reference::Assignee => (
            "update tickets set assignee_id = $1 where id = $2",
            EventKind::AssigneeChanged,
        ),
    };
    sqlx::query(sql)
        .bind(to)
        .bind(ticket)
        .execute(&mut **tx)
        .await?;
    events::append(
        tx,
        ticket,
        kind,
        events::actor(ActorKind::Agent, Some(actor)),
        now,
        json!({ "from": from, "to": to }),
    )
    .await?;
    Ok(())
}

/// Inserts an agent's comment with its files and appends `CommentAdded`.
async fn insert_comment<DB>(
    tx: &mut crate::store::WriteTx<DB>,
    ticket: i64,
    author: UserId,
    body: &str,
    public: bool,
    files: &[StoredFile],
    now: Timestamp,
) -> Result<i64, StoreError>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + sqlx::Decode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Ts: Encode<'q, DB> + Type<DB>,
    for<'q> Json<Value>: Encode<'q, DB> + Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
{
    let id: i64 = sqlx::query_scalar(
        "insert into comments (ticket_id, author_id, body, public, created_at) values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(ticket)
    .bind(author.0)
    .bind(body.to_owned())
    .bind(public)
    .bind(Ts(now))
    .fetch_one(&mut **tx)
    .await?;
    for file in files {
        sqlx::query(
            "insert into attachments (ticket_id, comment_id, file_name, content_type, size_bytes, sha256, storage_key, uploaded_by, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(ticket)
        .bind(Some(id))
        .bind(file.file_name.clone())
        .bind(file.content_type.clone())
        .bind(file.size_bytes)
        .bind(file.sha256.clone())
        .bind(file.storage_key.clone())
        .bind(author.0)
        .bind(Ts(now))
        .execute(&mut **tx)
        .await?;
    }
    events::append(
        tx,
        ticket,
        EventKind::CommentAdded,
        events::actor(ActorKind::Agent, Some(author)),
        now,
        json!({ "comment_id": id, "public": public }),
    )
    .await?;
    Ok(id)
}

/// Moves the ticket from `from` to `to` (rules already checked), if it is
/// still at `version`.
pub async fn change_status(
    db: &Db,
    ticket: TicketId,
    version: i64,
    from: TicketStatus,
    to: TicketStatus,
    actor: UserId,
    now: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        claim(&mut tx, ticket.0, version, now).await?;
        set_status(&mut tx, ticket.0, from, to, actor, now).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// A change of assignee and group: `(from, to)` of each that changes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Assignment {
    pub assignee: Option<(Option<i64>, Option<i64>)>,
    pub group: Option<(Option<i64>, Option<i64>)>,
}

/// Sets the assignee and/or the group, if the ticket is still at `version`.
pub async fn assign(
    db: &Db,
    ticket: TicketId,
    version: i64,
    change: Assignment,
    actor: UserId,
    now: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        claim(&mut tx, ticket.0, version, now).await?;
        if let Some((from, to)) = change.assignee {
            set_reference(&mut tx, Reference::Assignee, ticket.0, from, to, actor, now).await?;
        }
        if let Some((from, to)) = change.group {
            set_reference(&mut tx, Reference::Group, ticket.0, from, to, actor, now).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// An agent's public reply or internal note.
#[derive(Clone, Debug)]
pub struct NewAgentComment<'a> {
    pub ticket: TicketId,
    pub version: i64,
    pub author: UserId,
    pub body: &'a str,
    pub public: bool,
    /// The status change chosen in the same form, rules already checked.
    pub status: Option<(TicketStatus, TicketStatus)>,
    /// Files already in the blob store.
    pub files: &'a [StoredFile],
}

/// Adds the comment, its files and the chosen status change, if the ticket
/// is still at `version`.
pub async fn add_comment(
    db: &Db,
    new: &NewAgentComment<'_>,
    now: Timestamp,
) -> Result<CommentId, StoreError> {
    let id = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        claim(&mut tx, new.ticket.0, new.version, now).await?;
        let id = insert_comment(
            &mut tx,
            new.ticket.0,
            new.author,
            new.body,
            new.public,
            new.files,
            now,
        )
        .await?;
        if let Some((from, to)) = new.status {
            set_status(&mut tx, new.ticket.0, from, to, new.author, now).await?;
        }
        tx.commit().await?;
        id
    });
    Ok(CommentId(id))
}

/// Escalation to the tech team, as one change.
#[derive(Clone, Debug)]
pub struct Escalation<'a> {
    pub ticket: TicketId,
    pub version: i64,
    pub author: UserId,
    /// The status the agent saw; the move to `with_tech` is already checked.
    pub from_status: TicketStatus,
    pub from_group: Option<i64>,
    /// The group tickets go to; created when missing.
    pub group_name: &'a str,
    /// The required internal note: what the tech team needs to know.
    pub note: &'a str,
}

/// Escalates in one transaction: the status becomes *Em Tratativa com o
/// Time de Tech*, the group becomes `group_name` (created if missing) and
/// the internal note is added, or nothing happens. Returns the group.
pub async fn escalate(
    db: &Db,
    escalation: &Escalation<'_>,
    now: Timestamp,
) -> Result<GroupId, StoreError> {
    let e = escalation;
    let group = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        claim(&mut tx, e.ticket.0, e.version, now).await?;
        sqlx::query(
            "insert into groups (name, created_at) values ($1, $2) on conflict (name) do nothing",
        )
        .bind(e.group_name)
        .bind(Ts(now))
        .execute(&mut *tx)
        .await?;
        let group: i64 = sqlx::query_scalar("select id from groups where name = $1")
            .bind(e.group_name)
            .fetch_one(&mut *tx)
            .await?;
        set_status(
            &mut tx,
            e.ticket.0,
            e.from_status,
            TicketStatus::WithTech,
            e.author,
            now,
        )
        .await?;
        if e.from_group != Some(group) {
            set_reference(
                &mut tx,
                Reference::Group,
                e.ticket.0,
                e.from_group,
                Some(group),
                e.author,
                now,
            )
            .await?;
        }
        insert_comment(&mut tx, e.ticket.0, e.author, e.note, false, &[], now).await?;
        tx.commit().await?;
        group
    });
    Ok(GroupId(group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_typed_text_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn counts_answer_for_every_queue() {
        let counts = QueueCounts {
            sent: 1,
            in_progress: 2,
            with_tech: 3,
            awaiting_reply: 4,
            solved: 5,
            abandoned_triage: 6,
            mine: 7,
            unassigned: 8,
            total: 21,
        };
        let by_status: Vec<i64> = TicketStatus::ALL
            .into_iter()
            .map(|s| counts.of(Queue::Status(s)))
            .collect();
        assert_eq!(by_status, [1, 2, 3, 4, 5, 6]);
        assert_eq!(counts.of(Queue::Mine), 7);
        assert_eq!(counts.of(Queue::Unassigned), 8);
        assert_eq!(counts.of(Queue::All), 21);
    }
}
