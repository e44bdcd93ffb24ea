//! Login sessions, kept in the database so that any node serves any request.
//! Only the SHA-256 of the cookie value is stored: a leaked table does not
//! let anyone log in.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Db, StoreError, Ts};
use crate::{domain::UserId, with_db};

/// On PostgreSQL, triggers (migration 0013) notify this channel whenever a
/// session is deleted or a user, membership, organization or cached setting
/// changes, so every node drops what it cached (`service::node_cache`).
pub const CACHE_CHANNEL: &str = "chamado_cache";

pub async fn create(
    db: &Db,
    id_hash: &str,
    user: UserId,
    csrf_token: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query(
            "insert into sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) \
             values ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id_hash)
        .bind(user.0)
        .bind(csrf_token)
        .bind(Ts(now))
        .bind(Ts(expires_at))
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Records activity; the `last_seen_at < $3` guard keeps two nodes from
/// writing the same minute twice.
pub async fn touch(db: &Db, id_hash: &str, now: Timestamp) -> Result<(), StoreError> {
    let stale_before = now - jiff::SignedDuration::from_secs(60);
    with_db!(db, |pool| {
        sqlx::query(
            "update sessions set last_seen_at = $1 where id_hash = $2 and last_seen_at < $3",
        )
        .bind(Ts(now))
        .bind(id_hash)
        .bind(Ts(stale_before))
        .execute(pool)
        .await?;
    });
    Ok(())
}

pub async fn delete(db: &Db, id_hash: &str) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        sqlx::query("delete from sessions where id_hash = $1")
            .bind(id_hash)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Ends every session of a user (deactivation, password change).
pub async fn delete_for_user(db: &Db, user: UserId) -> Result<u64, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query("delete from sessions where user_id = $1")
            .bind(user.0)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

/// Removes sessions past their absolute expiry or idle limit.
pub async fn delete_expired(
    db: &Db,
    now: Timestamp,
    idle_before: Timestamp,
) -> Result<u64, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query("delete from sessions where expires_at <= $1 or last_seen_at < $2")
            .bind(Ts(now))
            .bind(Ts(idle_before))
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

/// A session row with its user, read in one query on every request.
#[derive(Clone, Debug, FromRow)]
pub struct SessionWithUser {
    pub id_hash: String,
    pub csrf_token: String,
    pub session_created_at: Ts,
    pub last_seen_at: Ts,
    pub expires_at: Ts,
    #[sqlx(flatten)]
    pub user: super::users::User,
}

pub async fn find_with_user(db: &Db, id_hash: &str) -> Result<Option<SessionWithUser>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, SessionWithUser>(
            "select s.id_hash, s.csrf_token, s.created_at as session_created_at, s.last_seen_at, s.expires_at, \
             u.id, u.external_id, u.email, u.name, u.role, u.locale, u.time_zone, u.password_hash, u.active, u.created_at \
             from sessions s join users u on u.id = s.user_id where s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(pool)
        .await?
    }))
}
