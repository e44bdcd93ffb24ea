//! Login sessions: start, resolve on each request, end.
//!
//! The cookie holds 256 random bits; the database holds their SHA-256. A
//! session ends after `session_idle_minutes` without a request or
//! `session_absolute_hours` after login, whichever comes first.

use jiff::SignedDuration;

use crate::{
    AppState,
    domain::UserId,
    service::{node_cache, random_hex, sha256_hex},
    store::{self, StoreError, Ts, sessions::SessionWithUser, users::User},
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
    let now = state.clock.now();
    let idle_limit = SignedDuration::from_mins(i64::from(state.config.session_idle_minutes));
    let live = |row: &SessionWithUser| {
        row.expires_at.0 > now && row.last_seen_at.0 + idle_limit > now && row.user.active
    };
    let mut row = node_cache::session(state, &id_hash, false).await?;
    // What this node cached may be older than activity another node saw:
    // read again before ending anything.
    if row.as_deref().is_some_and(|row| !live(row)) {
        row = node_cache::session(state, &id_hash, true).await?;
    }
    let Some(row) = row else {
        return Ok(None);
    };
    if !live(&row) {
        store::sessions::delete(&state.db, &row.id_hash).await?;
        node_cache::forget_session(state, &row.id_hash);
        return Ok(None);
    }
    // Activity is recorded at most once a minute: most requests need no write.
    if now.duration_since(row.last_seen_at.0) >= SignedDuration::from_secs(60) {
        store::sessions::touch(&state.db, &row.id_hash, now).await?;
        node_cache::touched(state, &row.id_hash, Ts(now));
    }
    Ok(Some(AuthSession {
        id_hash: row.id_hash.clone(),
        csrf_token: row.csrf_token.clone(),
        user: row.user.clone(),
    }))
}

/// Ends a session.
pub async fn end(state: &AppState, session: &AuthSession) -> Result<(), StoreError> {
    store::sessions::delete(&state.db, &session.id_hash).await?;
    node_cache::forget_session(state, &session.id_hash);
    Ok(())
}

/// Logs out: ends the session and every widget bearer token and handoff
/// code of its user. The widget signs in with the host platform's token,
/// not with this browser's session, so its tokens cannot be told apart by
/// browser; a logout is the person saying they are done with Chamado, and
/// a widget still in use simply asks the platform for a new token.
pub async fn log_out(state: &AppState, session: &AuthSession) -> Result<(), StoreError> {
    end(state, session).await?;
    let ended = store::widget::delete_for_user(&state.db, session.user.id).await?;
    tracing::debug!(user = %session.user.id, widget_tokens = ended, "logged out");
    Ok(())
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
