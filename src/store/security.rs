//! Counters that must hold across nodes and parallel requests: login attempts,
//! the login back-off of each account and address pair, per-user rate limits
//! and used single sign-on token ids. Each change is one atomic statement, so
//! two nodes cannot both read "4 attempts" and both allow a fifth.

use jiff::{SignedDuration, Timestamp};

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

/// Takes back one attempt counted for `key` (it turned out not to be a
/// failure).
pub async fn refund_login_attempt(db: &Db, key: &str) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query(
            "update login_attempts set attempts = attempts - 1 where key = $1 and attempts > 0",
        )
        .bind(key)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Admits one login attempt of an account and address pair, or returns the
/// moment the pair may try again. An admitted attempt is counted as a
/// failure at once, and the wait that failure earns (`wait_after(failures)`)
/// is set before the password is checked, so parallel guesses cannot slip
/// past it; a success then clears the pair. Failures of a pair whose last
/// wait ended before `forget_before` are forgotten.
///
/// Each change is a compare-and-set on the pair's row: when another request
/// changed the row meanwhile, it reads the row again.
pub async fn admit_login_attempt(
    db: &Db,
    key: &str,
    now: Timestamp,
    forget_before: Timestamp,
    wait_after: impl Fn(i64) -> SignedDuration,
) -> Result<Result<(), Timestamp>, StoreError> {
    loop {
        let row: Option<(i64, Ts)> = with_db!(db, |pool| {
            sqlx::query_as("select failures, wait_until from login_backoff where key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        let changed = if let Some((failures, Ts(wait_until))) = row {
            if wait_until > now {
                return Ok(Err(wait_until));
            }
            let previous = if wait_until <= forget_before {
                0
            } else {
                failures
            };
            let next = previous + 1;
            with_db!(db, |pool| {
                sqlx::query(
                    "update login_backoff set failures = $2, wait_until = $3 \
                     where key = $1 and failures = $4 and wait_until = $5",
                )
                .bind(key)
                .bind(next)
                .bind(Ts(now + wait_after(next)))
                .bind(failures)
                .bind(Ts(wait_until))
                .execute(pool)
                .await?
                .rows_affected()
            })
        } else {
            with_db!(db, |pool| {
                sqlx::query(
                    "insert into login_backoff (key, failures, wait_until) values ($1, 1, $2) \
                     on conflict (key) do nothing",
                )
                .bind(key)
                .bind(Ts(now + wait_after(1)))
                .execute(pool)
                .await?
                .rows_affected()
            })
        };
        if changed == 1 {
            return Ok(Ok(()));
        }
    }
}

/// Forgets the failures of an account and address pair (after a successful
/// login).
pub async fn clear_login_backoff(db: &Db, key: &str) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query("delete from login_backoff where key = $1")
            .bind(key)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Counts one hit for `key` and returns the hits within its window, this one
/// included, and the window's end. A window that ended by `now` starts again
/// at 1 and ends at `window_end`.
pub async fn count_hit(
    db: &Db,
    key: &str,
    now: Timestamp,
    window_end: Timestamp,
) -> Result<(i64, Timestamp), StoreError> {
    let (hits, Ts(end)): (i64, Ts) = with_db!(db, |pool| {
        sqlx::query_as(
            "insert into rate_limits (key, window_end, hits) values ($1, $3, 1) \
             on conflict (key) do update set \
               hits = case when rate_limits.window_end <= $2 then 1 else rate_limits.hits + 1 end, \
               window_end = case when rate_limits.window_end <= $2 then $3 else rate_limits.window_end end \
             returning hits, window_end",
        )
        .bind(key)
        .bind(Ts(now))
        .bind(Ts(window_end))
        .fetch_one(pool)
        .await?
    });
    Ok((hits, end))
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

/// Drops token ids whose tokens have expired (they can no longer be
/// replayed), finished login windows and rate-limit windows, and login
/// back-offs that would be forgotten anyway.
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
        sqlx::query("delete from login_backoff where wait_until <= $1")
            .bind(Ts(login_window_start))
            .execute(pool)
            .await?;
        sqlx::query("delete from rate_limits where window_end <= $1")
            .bind(Ts(now))
            .execute(pool)
            .await?;
    });
    Ok(())
}
