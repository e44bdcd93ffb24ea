//! The help widget's credentials and the reads its API and live protocol
//! need. The widget cannot use cookies, so it carries a bearer token; a
//! handoff code moves its user to a portal tab. Only the SHA-256 of each
//! secret is stored, so a leaked table lets no one in.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Db, StoreError, Ts, WritePool, events::TicketEvent, portal::PublicComment};
use crate::{domain::UserId, store::users::User, with_db};

/// What a widget token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// The bearer of every `/widget/api` call and of the WebSocket.
    Access,
    /// A single-use code that signs the user into the portal.
    Handoff,
}

impl TokenKind {
    pub fn key(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Handoff => "handoff",
        }
    }
}

/// Stores a new token's hash. Expired tokens of every user are deleted in
/// the same transaction, so the table stays small without a job.
pub async fn create(
    db: &Db,
    token_hash: &str,
    user: UserId,
    kind: TokenKind,
    return_to: Option<&str>,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query("delete from widget_tokens where expires_at <= $1")
            .bind(Ts(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into widget_tokens (token_hash, user_id, kind, return_to, created_at, expires_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(kind.key())
        .bind(return_to)
        .bind(Ts(now))
        .bind(Ts(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Ends every bearer token and handoff code of a user (logout).
pub async fn delete_for_user(db: &Db, user: UserId) -> Result<u64, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query("delete from widget_tokens where user_id = $1")
            .bind(user.0)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

const USER_COLUMNS: &str = "u.id, u.external_id, u.email, u.name, u.role, u.locale, u.time_zone, \
     u.password_hash, u.active, u.created_at";

/// The active user of an unexpired access token; `None` for an unknown or
/// expired token or a deactivated user.
pub async fn find_access(
    db: &Db,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "select {USER_COLUMNS} from widget_tokens w join users u on u.id = w.user_id \
         where w.token_hash = $1 and w.kind = 'access' and w.expires_at > $2 and u.active = $3"
    );
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(Ts(now))
            .bind(true)
            .fetch_optional(pool)
            .await?
    }))
}

/// A spent handoff code: whose, and where it sends them.
#[derive(Clone, Debug, FromRow)]
pub struct Handoff {
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub return_to: Option<String>,
}

/// An unexpired, unused handoff code, without spending it.
pub async fn find_handoff(
    db: &Db,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<Handoff>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Handoff>(
            "select user_id, return_to from widget_tokens \
             where token_hash = $1 and kind = 'handoff' and used_at is null and expires_at > $2",
        )
        .bind(token_hash)
        .bind(Ts(now))
        .fetch_optional(pool)
        .await?
    }))
}

/// Spends an unexpired, unused handoff code in one conditional update, so
/// two requests racing with the same code (on any node) cannot both win.
pub async fn use_handoff(
    db: &Db,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<Handoff>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, Handoff>(
            "update widget_tokens set used_at = $1 \
             where token_hash = $2 and kind = 'handoff' and used_at is null and expires_at > $1 \
             returning user_id, return_to",
        )
        .bind(Ts(now))
        .bind(token_hash)
        .fetch_optional(pool)
        .await?
    }))
}

/// One public comment of a ticket with its author; `None` for an internal
/// note, whatever an event says about it.
pub async fn public_comment(
    db: &Db,
    ticket: i64,
    comment: i64,
) -> Result<Option<PublicComment>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, PublicComment>(
            "select c.id, c.author_id, u.name as author_name, u.role as author_role, c.body, c.created_at \
             from comments c left join users u on u.id = c.author_id \
             where c.ticket_id = $1 and c.id = $2 and c.public = $3",
        )
        .bind(ticket)
        .bind(comment)
        .bind(true)
        .fetch_optional(pool)
        .await?
    }))
}

/// A ticket's events after `after_id`, oldest first (a live view's replay).
pub async fn ticket_events_after(
    db: &Db,
    ticket: i64,
    after_id: i64,
) -> Result<Vec<TicketEvent>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, TicketEvent>(
            "select id, ticket_id, kind, actor_kind, actor_id, at, data from ticket_events \
             where ticket_id = $1 and id > $2 order by id",
        )
        .bind(ticket)
        .bind(after_id)
        .fetch_all(pool)
        .await?
    }))
}

/// The newest event id of a ticket (0 when it has none).
pub async fn ticket_last_event_id(db: &Db, ticket: i64) -> Result<i64, StoreError> {
    let id: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar("select max(id) from ticket_events where ticket_id = $1")
            .bind(ticket)
            .fetch_one(pool)
            .await?
    });
    Ok(id.unwrap_or(0))
}

/// Who requested a ticket (`None` when it does not exist).
pub async fn requester_of(db: &Db, ticket: i64) -> Result<Option<i64>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("select requester_id from tickets where id = $1")
            .bind(ticket)
            .fetch_optional(pool)
            .await?
    }))
}

/// The user's newest open triage session on `channel` whose last activity
/// is after `expired_at` (a timed-out one belongs to the timeout job).
pub async fn open_triage(
    db: &Db,
    user: UserId,
    channel: &str,
    expired_at: Timestamp,
) -> Result<Option<i64>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
            "select id from triage_sessions where user_id = $1 and channel = $2 and state = 'open' \
             and last_activity_at > $3 order by id desc limit 1",
        )
        .bind(user.0)
        .bind(channel)
        .bind(Ts(expired_at))
        .fetch_optional(pool)
        .await?
    }))
}
