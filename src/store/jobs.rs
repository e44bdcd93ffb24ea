//! Storage of the lifecycle automations: triage sessions, the candidates and
//! conditional writes of the auto-solve and reminder jobs, and job leases.
//!
//! Every write a job makes is conditional on the state it read (a session
//! still open, a ticket still in the same stay in *Aguardando Sua Resposta*)
//! and checked inside its own write transaction, so two nodes running the
//! same sweep at once still change each thing exactly once. On PostgreSQL the
//! row is locked first (`for update`, or the `update` itself), so the second
//! runner waits and then sees the first one's commit; on SQLite
//! `begin immediate` serializes writers. The leases only save duplicate work.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};
use sqlx::{FromRow, types::Json};

use super::{
    Backend, Db, StoreError, Ts, WritePool,
    events::{self, EventKind},
};
use crate::{
    domain::{ActorKind, OrgId, TicketId, TicketStatus, TicketType, UserId},
    with_db,
};

/// A triage session's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TriageSessionId(pub i64);

impl std::fmt::Display for TriageSessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a triage session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriageState {
    Open,
    Completed,
    Abandoned,
}

impl TriageState {
    pub fn key(self) -> &'static str {
        match self {
            TriageState::Open => "open",
            TriageState::Completed => "completed",
            TriageState::Abandoned => "abandoned",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [Self::Open, Self::Completed, Self::Abandoned]
            .into_iter()
            .find(|s| s.key() == key)
    }
}

/// A triage session as stored.
#[derive(Clone, Debug, FromRow)]
pub struct TriageSession {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub organization_id: Option<i64>,
    pub channel: String,
    pub answers: Json<BTreeMap<String, String>>,
    pub state: String,
    pub started_at: Ts,
    pub last_activity_at: Ts,
    pub reminded_at: Option<Ts>,
    pub ticket_id: Option<i64>,
}

impl TriageSession {
    /// The parsed state; the column's check constraint admits no other value.
    pub fn state(&self) -> TriageState {
        TriageState::from_key(&self.state).unwrap_or(TriageState::Open)
    }
}

const TRIAGE_COLUMNS: &str = "id, user_id, organization_id, channel, answers, state, started_at, \
     last_activity_at, reminded_at, ticket_id";

/// What a write on an open triage session found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriageWrite<T> {
    Done(T),
    /// The session was completed, abandoned or timed out meanwhile: nothing
    /// was written.
    Closed,
}

/// Opens a triage session with no answers yet.
pub async fn create_triage(
    db: &Db,
    user: UserId,
    organization: Option<OrgId>,
    channel: &str,
    now: Timestamp,
) -> Result<TriageSessionId, StoreError> {
    let id: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into triage_sessions (user_id, organization_id, channel, answers, state, started_at, last_activity_at) \
             values ($1, $2, $3, $4, 'open', $5, $5) returning id",
        )
        .bind(user.0)
        .bind(organization.map(|o| o.0))
        .bind(channel)
        .bind(Json(BTreeMap::<String, String>::new()))
        .bind(Ts(now))
        .fetch_one(pool)
        .await?
    });
    Ok(TriageSessionId(id))
}

pub async fn find_triage(
    db: &Db,
    id: TriageSessionId,
) -> Result<Option<TriageSession>, StoreError> {
    let sql = format!("select {TRIAGE_COLUMNS} from triage_sessions where id = $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, TriageSession>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(pool)
            .await?
    }))
}

/// The statement that reads a session's answers inside a write transaction;
/// on PostgreSQL it locks the row so a concurrent answer or the timeout job
/// waits instead of overwriting.
fn lock_answers_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "select answers from triage_sessions where id = $1 and state = 'open' and last_activity_at > $2"
        }
        Backend::Postgres => {
            "select answers from triage_sessions where id = $1 and state = 'open' and last_activity_at > $2 for update"
        }
    }
}

/// Records one answer (replacing an earlier answer to the same question) and
/// moves the session's last activity to `now`. Only an open session whose
/// last activity is after `expired_at` (now minus the triage timeout) takes
/// answers: a timed-out one is the timeout job's, even before it runs.
pub async fn answer_triage(
    db: &Db,
    id: TriageSessionId,
    key: &str,
    value: &str,
    expired_at: Timestamp,
    now: Timestamp,
) -> Result<TriageWrite<()>, StoreError> {
    let lock = lock_answers_sql(db.backend());
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let answers: Option<Json<BTreeMap<String, String>>> = sqlx::query_scalar(lock)
            .bind(id.0)
            .bind(Ts(expired_at))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(Json(mut answers)) = answers else {
            tx.rollback().await?;
            return Ok(TriageWrite::Closed);
        };
        answers.insert(key.to_owned(), value.to_owned());
        sqlx::query("update triage_sessions set answers = $1, last_activity_at = $2 where id = $3")
            .bind(Json(answers))
            .bind(Ts(now))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(TriageWrite::Done(()))
}

/// A ticket to insert with its first status event and its `Created` event.
struct FirstRow<'a> {
    subject: &'a str,
    description: &'a str,
    ticket_type: TicketType,
    status: TicketStatus,
    organization: Option<i64>,
    requester: i64,
    channel: &'a str,
    created_at: Timestamp,
    actor: (ActorKind, Option<i64>),
}

/// Inserts a ticket, its first status event (from nothing) and its `Created`
/// event inside an open transaction, as `store::tickets::create` does, but
/// for any first status and inside the caller's transaction (a triage
/// session must change in the same one).
async fn insert_ticket<'c, DB>(
    tx: &mut crate::store::WriteTx<DB>,
    row: &FirstRow<'_>,
    now: Timestamp,
) -> Result<i64, sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB> + sqlx::Decode<'q, DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Ts: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Json<Value>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let id: i64 = sqlx::query_scalar(
        "insert into tickets (subject, description, ticket_type, status, organization_id, requester_id, channel, created_at, updated_at, status_since) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning id",
    )
    .bind(row.subject)
    .bind(row.description)
    .bind(row.ticket_type.key())
    .bind(row.status.key())
    .bind(row.organization)
    .bind(row.requester)
    .bind(row.channel)
    .bind(Ts(row.created_at))
    .bind(Ts(now))
    .fetch_one(&mut **tx)
    .await?;
    super::tickets::record_creation(tx, id, row.status, row.actor, now).await?;
    Ok(id)
}

/// What completing a triage opens.
#[derive(Clone, Debug)]
pub struct TriageTicket<'a> {
    pub subject: &'a str,
    pub description: &'a str,
    pub ticket_type: TicketType,
    pub organization: Option<OrgId>,
    /// Files already in the blob store, attached to the ticket's description.
    pub files: &'a [super::tickets::StoredFile],
}

/// Completes an open, not timed-out session: opens its ticket as *Enviado*
/// (first status event by the customer) with its files and links it, in one
/// transaction, so the timeout job and a second submit cannot also turn it
/// into a ticket.
pub async fn complete_triage(
    db: &Db,
    id: TriageSessionId,
    ticket: &TriageTicket<'_>,
    expired_at: Timestamp,
    now: Timestamp,
) -> Result<TriageWrite<TicketId>, StoreError> {
    let ticket_id: Option<i64> = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let claimed: Option<(i64, String)> = sqlx::query_as(
            "update triage_sessions set state = 'completed', last_activity_at = $1 \
             where id = $2 and state = 'open' and last_activity_at > $3 returning user_id, channel",
        )
        .bind(Ts(now))
        .bind(id.0)
        .bind(Ts(expired_at))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((user, channel)) = claimed {
            let ticket_id = insert_ticket(
                &mut tx,
                &FirstRow {
                    subject: ticket.subject,
                    description: ticket.description,
                    ticket_type: ticket.ticket_type,
                    status: TicketStatus::Sent,
                    organization: ticket.organization.map(|o| o.0),
                    requester: user,
                    channel: &channel,
                    created_at: now,
                    actor: (ActorKind::Customer, Some(user)),
                },
                now,
            )
            .await?;
            super::tickets::insert_files(&mut tx, ticket_id, None, user, ticket.files, now).await?;
            sqlx::query("update triage_sessions set ticket_id = $1 where id = $2")
                .bind(ticket_id)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Some(ticket_id)
        } else {
            tx.rollback().await?;
            None
        }
    });
    Ok(ticket_id.map_or(TriageWrite::Closed, |t| TriageWrite::Done(TicketId(t))))
}

/// Open sessions whose last activity is at or before `expired_at`, oldest
/// first, at most `limit`.
pub async fn stale_triages(
    db: &Db,
    expired_at: Timestamp,
    limit: i64,
) -> Result<Vec<TriageSessionId>, StoreError> {
    let ids: Vec<i64> = with_db!(db, |pool| {
        sqlx::query_scalar(
            "select id from triage_sessions where state = 'open' and last_activity_at <= $1 \
             order by last_activity_at, id limit $2",
        )
        .bind(Ts(expired_at))
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(ids.into_iter().map(TriageSessionId).collect())
}

/// The subject of a ticket left in triage: the customer's own, when they
/// gave one.
pub const ABANDONED_SUBJECT: &str = "Triagem não concluída";
const MAX_SUBJECT_CHARS: usize = 200;

/// What the timeout job takes from the session it abandons.
#[derive(FromRow)]
struct Abandoned {
    user_id: i64,
    organization_id: Option<i64>,
    channel: String,
    answers: Json<BTreeMap<String, String>>,
    started_at: Ts,
}

/// Turns a timed-out session into a ticket in *Abandono na Triagem* (first
/// status event from nothing, actor `system`; `Created` event by the system)
/// and marks the session abandoned with that ticket, in one transaction.
/// Nothing happens when the session is no longer open or had activity after
/// `expired_at` (another node, a late answer or the customer completing it
/// got there first). The ticket keeps the session's start as its creation
/// time, so the customer's history shows when they began.
pub async fn abandon_triage(
    db: &Db,
    id: TriageSessionId,
    expired_at: Timestamp,
    now: Timestamp,
) -> Result<Option<TicketId>, StoreError> {
    let ticket_id: Option<i64> = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let claimed: Option<Abandoned> = sqlx::query_as(
            "update triage_sessions set state = 'abandoned' \
             where id = $1 and state = 'open' and last_activity_at <= $2 \
             returning user_id, organization_id, channel, answers, started_at",
        )
        .bind(id.0)
        .bind(Ts(expired_at))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(Abandoned {
            user_id,
            organization_id,
            channel,
            answers: Json(answers),
            started_at,
        }) = claimed
        {
            let subject = answers
                .get("subject")
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map_or_else(
                    || ABANDONED_SUBJECT.to_owned(),
                    |s| s.chars().take(MAX_SUBJECT_CHARS).collect(),
                );
            let description = answers
                .get("description")
                .map_or("", |s| s.trim())
                .to_owned();
            let ticket_type = answers
                .get("ticket_type")
                .and_then(|t| TicketType::from_key(t))
                .unwrap_or(TicketType::Support);
            let ticket_id = insert_ticket(
                &mut tx,
                &FirstRow {
                    subject: &subject,
                    description: &description,
                    ticket_type,
                    status: TicketStatus::AbandonedTriage,
                    organization: organization_id,
                    requester: user_id,
                    channel: &channel,
                    created_at: started_at.0,
                    actor: (ActorKind::System, None),
                },
                now,
            )
            .await?;
            sqlx::query("update triage_sessions set ticket_id = $1 where id = $2")
                .bind(ticket_id)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Some(ticket_id)
        } else {
            tx.rollback().await?;
            None
        }
    });
    Ok(ticket_id.map(TicketId))
}

/// One stay of a ticket in *Aguardando Sua Resposta*.
#[derive(Clone, Debug, FromRow)]
pub struct AwaitingStay {
    #[sqlx(try_from = "i64")]
    pub ticket_id: TicketId,
    /// When the ticket entered the status (its latest status event).
    pub entered_at: Ts,
    /// The id of the `StatusChanged` ticket event that began the stay (0 if
    /// the ticket has none): reminders after it belong to this stay.
    pub stay_event_id: i64,
    /// Whether this stay's reminder was sent already.
    pub reminded: bool,
}

/// Tickets in *Aguardando Sua Resposta* that entered it at or before
/// `entered_by`, by id after `after`, at most `limit`.
///
/// `tickets_by_status_since` gives the waiting tickets that entered the
/// status early enough (`status_since`, the latest status event's time,
/// kept by a trigger: migration 0015); the stay's ticket events come from
/// `ticket_events_by_ticket`, a few rows for each ticket returned.
pub async fn awaiting_reply(
    db: &Db,
    entered_by: Timestamp,
    after: TicketId,
    limit: i64,
) -> Result<Vec<AwaitingStay>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, AwaitingStay>(
            "select c.ticket_id, c.entered_at, c.stay_event_id, \
                 exists (select 1 from ticket_events r where r.ticket_id = c.ticket_id \
                         and r.kind = 'reminder_sent' and r.id > c.stay_event_id) as reminded \
             from (select w.ticket_id, w.entered_at, \
                     (select coalesce(max(e.id), 0) from ticket_events e where e.ticket_id = w.ticket_id \
                      and e.kind = 'status_changed') as stay_event_id \
                   from (select t.id as ticket_id, t.status_since as entered_at from tickets t \
                         where t.status = 'awaiting_reply' and t.status_since <= $2 and t.id > $1 \
                         order by t.id limit $3) w) c \
             order by c.ticket_id",
        )
        .bind(after.0)
        .bind(Ts(entered_by))
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Locks the ticket's row (PostgreSQL) and reads its status.
fn lock_ticket_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "select status from tickets where id = $1",
        Backend::Postgres => "select status from tickets where id = $1 for update",
    }
}

/// Appends the stay's one `ReminderSent` event (`{"deadline": rfc3339}`), by
/// the system, unless the ticket left that stay or was reminded in it
/// already. Returns whether it appended. The ticket's row is locked first,
/// so of two runners the second sees the first one's reminder.
pub async fn remind(
    db: &Db,
    stay: &AwaitingStay,
    deadline: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let lock = lock_ticket_sql(db.backend());
    let ticket = stay.ticket_id.0;
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let status: Option<String> = sqlx::query_scalar(lock)
            .bind(ticket)
            .fetch_optional(&mut *tx)
            .await?;
        let same_stay: bool = if status.as_deref() == Some(TicketStatus::AwaitingReply.key()) {
            sqlx::query_scalar(
                "select (select coalesce(max(id), 0) from ticket_events \
                         where ticket_id = $1 and kind = 'status_changed') = $2 \
                    and not exists (select 1 from ticket_events where ticket_id = $1 \
                         and kind = 'reminder_sent' and id > $2)",
            )
            .bind(ticket)
            .bind(stay.stay_event_id)
            .fetch_one(&mut *tx)
            .await?
        } else {
            false
        };
        if same_stay {
            events::append(
                &mut tx,
                ticket,
                EventKind::ReminderSent,
                (ActorKind::System, None),
                now,
                json!({ "deadline": deadline.to_string() }),
            )
            .await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        same_stay
    }))
}

/// Takes the named lease until `until` when it is free (expired at `now`)
/// or already `holder`'s, in one atomic upsert. Returns whether `holder` now
/// holds it.
pub async fn claim_lease(
    db: &Db,
    name: &str,
    holder: &str,
    until: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let won: Option<String> = with_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into job_leases (name, holder, locked_until) values ($1, $2, $3) \
             on conflict (name) do update set holder = excluded.holder, locked_until = excluded.locked_until \
             where job_leases.locked_until <= $4 or job_leases.holder = excluded.holder \
             returning holder",
        )
        .bind(name)
        .bind(holder)
        .bind(Ts(until))
        .bind(Ts(now))
        .fetch_optional(pool)
        .await?
    });
    Ok(won.is_some())
}

/// Gives the lease back at `now`, if `holder` still has it, so the next tick
/// of any node may run the job.
pub async fn release_lease(
    db: &Db,
    name: &str,
    holder: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query("update job_leases set locked_until = $1 where name = $2 and holder = $3")
            .bind(Ts(now))
            .bind(name)
            .bind(holder)
            .execute(pool)
            .await?;
    });
    Ok(())
}
