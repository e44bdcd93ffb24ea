//! Counters that must hold across nodes and parallel requests: login attempts
//! and used single sign-on token ids. Each is one atomic statement, so two
//! nodes cannot both read "4 attempts" and both allow a fifth.

use jiff::Timestamp;

use super::{Db, StoreError, Ts};
use crate::with_db;

/// Counts one attempt for `key` and returns the attempts within the current
/// window, this one included. A window older than `window_start_after` starts
/// again at 1.
pub async fn count_login_attempt(
    db: &Db,
    key: &str,
    now: Timestamp,
    window_start_after: Timestamp,
) -> Result<i64, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into login_attempts (key, window_start, attempts) values ($1, $2, 1) \
             on conflict (key) do update set \
               attempts = case when login_attempts.window_start <= $3 then 1 else login_attempts.attempts + 1 end, \
               window_start = case when login_attempts.window_start <= $3 then $2 else login_attempts.window_start end \
             returning attempts",
        )
        .bind(key)
        .bind(Ts(now))
        .bind(Ts(window_start_after))
        .fetch_one(pool)
        .await?
    }))
}

/// Forgets the attempts of a key (after a successful login).
pub async fn clear_login_attempts(db: &Db, key: &str) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query("delete from login_attempts where key = $1")
            .bind(key)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Records an SSO token id; `false` when it was already used (a replay).
pub async fn use_sso_token(
    db: &Db,
    jti: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<bool, StoreError> {
    let inserted = with_db!(db, |pool| {
        sqlx::query("insert into sso_used_tokens (jti, used_at, expires_at) values ($1, $2, $3) on conflict (jti) do nothing")
            .bind(jti)
            .bind(Ts(now))
            .bind(Ts(expires_at))
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(inserted == 1)
}

/// Whether an SSO token id was already used (read only: the confirmation
/// page shown before a sign-in must not spend the token).
pub async fn sso_token_used(db: &Db, jti: &str) -> Result<bool, StoreError> {
    let used: Option<String> = with_db!(db, |pool| {
        sqlx::query_scalar("select jti from sso_used_tokens where jti = $1")
            .bind(jti)
            .fetch_optional(pool)
            .await?
    });
    Ok(used.is_some())
}

/// Drops token ids whose tokens have expired: they can no longer be replayed.
pub async fn prune(
    db: &Db,
    now: Timestamp,
    login_window_start: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query("delete from sso_used_tokens where expires_at < $1")
            .bind(Ts(now))
            .execute(pool)
            .await?;
        sqlx::query("delete from login_attempts where window_start <= $1")
            .bind(Ts(login_window_start))
            .execute(pool)
            .await?;
    });
    Ok(())
}
