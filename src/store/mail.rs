//! The e-mail outbox: rows the composer writes from ticket events, and the
//! lease-based claims the delivery worker takes on them.
//!
//! The composer's cursor over `ticket_events` lives in `settings` under
//! [`CURSOR_KEY`]; it only moves by a conditional update from the value the
//! composer read, in the same transaction as the rows it wrote, so two nodes
//! never both advance it over the same events. Claims are the one place where
//! the two engines differ: PostgreSQL skips rows another transaction holds
//! (`for update skip locked`), SQLite relies on its single writer running the
//! whole `update … returning` at once.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Db, StoreError, Ts, WritePool};
use crate::{domain::UserId, with_db};

/// The `settings` key holding the id of the last ticket event composed.
pub const CURSOR_KEY: &str = "mail.cursor";

/// A message decided by the composer, not yet stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMail {
    pub event_id: i64,
    pub ticket_id: i64,
    pub recipient_id: UserId,
    pub recipient_email: String,
    pub lang: String,
    pub template: &'static str,
    pub subject: String,
    pub body_text: String,
}

/// An outbox row as stored.
#[derive(Clone, Debug, FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub event_id: i64,
    pub ticket_id: i64,
    pub recipient_id: i64,
    pub recipient_email: String,
    pub lang: String,
    pub template: String,
    pub subject: String,
    pub body_text: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Ts,
    pub locked_until: Option<Ts>,
    pub locked_by: Option<String>,
    pub sent_at: Option<Ts>,
    pub last_error: Option<String>,
    pub created_at: Ts,
}

const OUTBOX_COLUMNS: &str = "id, event_id, ticket_id, recipient_id, recipient_email, lang, template, \
     subject, body_text, state, attempts, next_attempt_at, locked_until, locked_by, sent_at, \
     last_error, created_at";

/// A row the worker now holds a lease on.
#[derive(Clone, Debug, FromRow)]
pub struct ClaimedMail {
    pub id: i64,
    pub ticket_id: i64,
    pub recipient_email: String,
    pub subject: String,
    pub body_text: String,
    /// Attempts before this one.
    pub attempts: i32,
}

/// How many rows are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

/// The composer's cursor, when one was ever set.
pub async fn cursor(db: &Db) -> Result<Option<i64>, StoreError> {
    super::settings::get::<i64>(db, CURSOR_KEY).await
}

/// Sets the cursor to the newest event id unless a cursor exists already
/// (another node may have set it first), and returns the cursor in force.
/// Starting at the newest event keeps history, such as demo data or events
/// from before notifications existed, from being mailed.
pub async fn start_cursor(db: &Db, now: Timestamp) -> Result<i64, StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let newest: Option<i64> = sqlx::query_scalar("select max(id) from ticket_events")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "insert into settings (key, value, updated_at) values ($1, $2, $3) \
             on conflict (key) do nothing",
        )
        .bind(CURSOR_KEY)
        .bind(newest.unwrap_or(0).to_string())
        .bind(Ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    cursor(db)
        .await?
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("{CURSOR_KEY} was not stored")))
}

/// Writes `mails` (each at most once: a message already composed is left
/// alone) and moves the cursor from `from` to `to`, in one transaction.
///
/// Returns `None`, writing nothing, when the cursor is no longer at `from`:
/// another node composed these events first. Returns the number of rows
/// actually inserted otherwise.
pub async fn store_composed(
    db: &Db,
    mails: &[NewMail],
    from: i64,
    to: i64,
    now: Timestamp,
) -> Result<Option<usize>, StoreError> {
    let inserted = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        // Move the cursor first: on PostgreSQL a second composer then waits
        // on this row and finds it moved, before writing anything.
        let moved = sqlx::query(
            "update settings set value = $1, updated_at = $2 where key = $3 and value = $4",
        )
        .bind(to.to_string())
        .bind(Ts(now))
        .bind(CURSOR_KEY)
        .bind(from.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let mut inserted = 0_usize;
        for mail in mails {
            let done = sqlx::query(
                "insert into mail_outbox (event_id, ticket_id, recipient_id, recipient_email, lang, template, \
                 subject, body_text, state, attempts, next_attempt_at, created_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9) \
                 on conflict (event_id, recipient_id, template) do nothing",
            )
            .bind(mail.event_id)
            .bind(mail.ticket_id)
            .bind(mail.recipient_id.0)
            .bind(&mail.recipient_email)
            .bind(&mail.lang)
            .bind(mail.template)
            .bind(&mail.subject)
            .bind(&mail.body_text)
            .bind(Ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            inserted += usize::try_from(done).unwrap_or(0);
        }
        tx.commit().await?;
        inserted
    });
    Ok(Some(inserted))
}

/// A comment as the composer needs it: `(ticket_id, body, public)`.
pub async fn comment(db: &Db, id: i64) -> Result<Option<(i64, String, bool)>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("select ticket_id, body, public from comments where id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// Who asked for a contact request: `(ticket_id, requester_id)`.
pub async fn contact_request(db: &Db, id: i64) -> Result<Option<(i64, i64)>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("select ticket_id, requester_id from contact_requests where id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// Leases up to `limit` due pending rows to `holder` until `lease_until`.
/// A row whose lease has run out (its holder died or stalled) is due again.
pub async fn claim(
    db: &Db,
    holder: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
) -> Result<Vec<ClaimedMail>, StoreError> {
    let mut rows: Vec<ClaimedMail> = match db {
        Db::Sqlite(pool, _) => {
            // One statement under SQLite's single writer: no other claim can
            // interleave between choosing the rows and leasing them.
            sqlx::query_as(
                "update mail_outbox set locked_until = $1, locked_by = $2 \
                 where id in (select id from mail_outbox \
                     where state = 'pending' and next_attempt_at <= $3 \
                     and (locked_until is null or locked_until < $3) \
                     order by next_attempt_at, id limit $4) \
                 and state = 'pending' and (locked_until is null or locked_until < $3) \
                 returning id, ticket_id, recipient_email, subject, body_text, attempts",
            )
            .bind(Ts(lease_until))
            .bind(holder)
            .bind(Ts(now))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool, _) => {
            // Rows another worker is claiming right now are skipped, not
            // waited for; the outer conditions are checked again after the
            // row lock, so a lease taken meanwhile is never overwritten.
            sqlx::query_as(
                "update mail_outbox set locked_until = $1, locked_by = $2 \
                 where id in (select id from mail_outbox \
                     where state = 'pending' and next_attempt_at <= $3 \
                     and (locked_until is null or locked_until < $3) \
                     order by next_attempt_at, id limit $4 for update skip locked) \
                 and state = 'pending' and (locked_until is null or locked_until < $3) \
                 returning id, ticket_id, recipient_email, subject, body_text, attempts",
            )
            .bind(Ts(lease_until))
            .bind(holder)
            .bind(Ts(now))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    };
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// Records a message the SMTP server accepted. Not tied to the lease: once
/// accepted, the message is out whoever holds the row now.
pub async fn mark_sent(db: &Db, id: i64, now: Timestamp) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query(
            "update mail_outbox set state = 'sent', sent_at = $1, attempts = attempts + 1, \
             locked_until = null, locked_by = null, last_error = null \
             where id = $2 and state = 'pending'",
        )
        .bind(Ts(now))
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Records a failed attempt: the row waits until `next_attempt_at`, or is
/// given up (`failed`) when `next_attempt_at` is `None`. Only the lease
/// holder may do this, so a slow node cannot undo another's success.
pub async fn mark_attempt_failed(
    db: &Db,
    id: i64,
    holder: &str,
    next_attempt_at: Option<Timestamp>,
    error: &str,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query(
            "update mail_outbox set attempts = attempts + 1, last_error = $1, \
             state = case when $2 then 'failed' else 'pending' end, \
             next_attempt_at = coalesce($3, next_attempt_at), \
             locked_until = null, locked_by = null \
             where id = $4 and locked_by = $5 and state = 'pending'",
        )
        .bind(error)
        .bind(next_attempt_at.is_none())
        .bind(next_attempt_at.map(Ts))
        .bind(id)
        .bind(holder)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Gives back a lease without an attempt (the worker stopped early).
pub async fn release(db: &Db, id: i64, holder: &str) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query(
            "update mail_outbox set locked_until = null, locked_by = null \
             where id = $1 and locked_by = $2 and state = 'pending'",
        )
        .bind(id)
        .bind(holder)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Rows by state, for the admin page.
pub async fn counts(db: &Db) -> Result<OutboxCounts, StoreError> {
    let rows: Vec<(String, i64)> = with_db!(db, |pool| {
        sqlx::query_as("select state, count(*) from mail_outbox group by state")
            .fetch_all(pool)
            .await?
    });
    let mut counts = OutboxCounts::default();
    for (state, n) in rows {
        match state.as_str() {
            "pending" => counts.pending = n,
            "sent" => counts.sent = n,
            "failed" => counts.failed = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// The newest rows first, at most `limit`.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
    let sql = format!("select {OUTBOX_COLUMNS} from mail_outbox order by id desc limit $1");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, OutboxRow>(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}
