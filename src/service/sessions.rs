//! Login sessions: start, resolve on each request, end.
//!
//! The cookie holds 256 random bits; the database holds their SHA-256. A
//! session ends after `session_idle_minutes` without a request or
//! `session_absolute_hours` after login, whichever comes first.

use jiff::SignedDuration;

use crate::{
    AppState,
    domain::UserId,
    service::{random_hex, sha256_hex},
    store::{self, StoreError, sessions::SessionWithUser, users::User},
};

/// A signed-in person, as every handler sees them.
#[derive(Clone, Debug)]
pub struct AuthSession {
    pub id_hash: String,
    pub csrf_token: String,
    pub user: User,
}

/// What the browser must store after login.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub cookie_value: String,
    pub csrf_token: String,
}

/// Starts a session for `user` with a fresh id (never reusing one the
/// browser brought, which would allow session fixation).
pub async fn start(state: &AppState, user: UserId) -> Result<NewSession, StoreError> {
    let now = state.clock.now();
    let cookie_value = random_hex(32);
    let csrf_token = random_hex(32);
    let expires_at =
        now + SignedDuration::from_hours(i64::from(state.config.session_absolute_hours));
    store::sessions::create(
        &state.db,
        &sha256_hex(cookie_value.as_bytes()),
        user,
        &csrf_token,
        now,
        expires_at,
    )
    .await?;
    Ok(NewSession {
        cookie_value,
        csrf_token,
    })
}

/// The live session for a cookie value, or `None` when it is unknown,
/// expired, idle too long, or its user is deactivated. Expired rows are
/// deleted on sight.
pub async fn resolve(
    state: &AppState,
    cookie_value: &str,
) -> Result<Option<AuthSession>, StoreError> {
    if cookie_value.len() != 64 || !cookie_value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let id_hash = sha256_hex(cookie_value.as_bytes());
    let Some(row) = store::sessions::find_with_user(&state.db, &id_hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let idle_limit = SignedDuration::from_mins(i64::from(state.config.session_idle_minutes));
    let SessionWithUser {
        id_hash,
        csrf_token,
        last_seen_at,
        expires_at,
        user,
        ..
    } = row;
    if expires_at.0 <= now || last_seen_at.0 + idle_limit <= now || !user.active {
        store::sessions::delete(&state.db, &id_hash).await?;
        return Ok(None);
    }
    // Activity is recorded at most once a minute: most requests need no write.
    if now.duration_since(last_seen_at.0) >= SignedDuration::from_secs(60) {
        store::sessions::touch(&state.db, &id_hash, now).await?;
    }
    Ok(Some(AuthSession {
        id_hash,
        csrf_token,
        user,
    }))
}

/// Ends a session.
pub async fn end(state: &AppState, session: &AuthSession) -> Result<(), StoreError> {
    store::sessions::delete(&state.db, &session.id_hash).await
}

/// Deletes what can no longer be used: expired or idle sessions, SSO token
/// ids past their expiry, finished login-attempt windows. Safe to run on
/// every node at once (plain deletes).
pub async fn prune(state: &AppState) -> Result<(), StoreError> {
    let now = state.clock.now();
    let idle_before = now - SignedDuration::from_mins(i64::from(state.config.session_idle_minutes));
    let window_start =
        now - SignedDuration::from_mins(i64::from(state.config.login_window_minutes));
    let sessions = store::sessions::delete_expired(&state.db, now, idle_before).await?;
    store::security::prune(&state.db, now, window_start).await?;
    if sessions > 0 {
        tracing::debug!(sessions, "expired sessions deleted");
    }
    Ok(())
}
