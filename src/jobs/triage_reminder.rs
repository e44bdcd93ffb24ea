//! The triage reminder: an open triage left without an answer for half the
//! triage timeout gets one reminder (the chat asks whether the customer is
//! still there), before the timeout turns it into *Abandono na Triagem*.
//!
//! The reminder is `reminded_at`, set by one conditional update (still open,
//! never reminded, idle for half the timeout but not for the whole of it),
//! so of two nodes sweeping at once exactly one reminds each session. On
//! PostgreSQL the live notice (`Notice::Triage`, state `reminded`) is sent
//! with `pg_notify` in the same transaction, so every node hears it at
//! commit; on SQLite it is published after the commit.

use jiff::Timestamp;

use crate::{
    AppState,
    realtime::{self, TriageNotice},
    service::automations,
    store::{StoreError, Ts, WritePool},
    with_db,
};

/// The state a reminded session's notice carries.
pub const REMINDED: &str = "reminded";

/// Sessions read per query.
const BATCH: i64 = 200;

/// One sweep; returns how many sessions this call reminded (another node
/// may have reminded some).
pub async fn run(state: &AppState) -> Result<usize, StoreError> {
    let timeout = automations::load(state).await?.triage_timeout();
    let now = state.clock.now();
    let idle_since = now.saturating_sub(timeout / 2).unwrap_or(Timestamp::MIN);
    let expired_at = now.saturating_sub(timeout).unwrap_or(Timestamp::MIN);
    let mut reminded = 0;
    loop {
        let batch = due(state, idle_since, expired_at).await?;
        for &id in &batch {
            if let Some(notice) = remind(state, id, idle_since, expired_at, now).await? {
                realtime::publish_triage(state, &notice);
                reminded += 1;
            }
        }
        // Every candidate leaves the set (reminded here or elsewhere, or
        // changed meanwhile), so a short batch is the last.
        if batch.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(reminded);
        }
    }
}

/// Open, never reminded sessions idle since `idle_since` but not timed out.
async fn due(
    state: &AppState,
    idle_since: Timestamp,
    expired_at: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    Ok(with_db!(&state.db, |pool| {
        sqlx::query_scalar(
            "select id from triage_sessions where state = 'open' and reminded_at is null \
             and last_activity_at <= $1 and last_activity_at > $2 \
             order by last_activity_at, id limit $3",
        )
        .bind(Ts(idle_since))
        .bind(Ts(expired_at))
        .bind(BATCH)
        .fetch_all(pool)
        .await?
    }))
}

/// Sets `reminded_at` when the session still qualifies, with its notice in
/// the same transaction on PostgreSQL. Returns the notice when this call
/// reminded it.
async fn remind(
    state: &AppState,
    id: i64,
    idle_since: Timestamp,
    expired_at: Timestamp,
    now: Timestamp,
) -> Result<Option<TriageNotice>, StoreError> {
    Ok(with_db!(&state.db, |pool| {
        let mut tx = pool.begin_write().await?;
        let user: Option<i64> = sqlx::query_scalar(
            "update triage_sessions set reminded_at = $1 \
             where id = $2 and state = 'open' and reminded_at is null \
             and last_activity_at <= $3 and last_activity_at > $4 returning user_id",
        )
        .bind(Ts(now))
        .bind(id)
        .bind(Ts(idle_since))
        .bind(Ts(expired_at))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(user_id) = user {
            let notice = TriageNotice {
                user_id,
                session_id: id,
                state: REMINDED.to_owned(),
            };
            realtime::notify_triage_in(&mut tx, &notice).await?;
            tx.commit().await?;
            Some(notice)
        } else {
            tx.rollback().await?;
            None
        }
    }))
}
