//! `GET /agent/live`: the workspace's live updates as server-sent events.
//!
//! Agents and admins only (everyone else gets the workspace's answer: 404
//! for customers, the login for anonymous visitors). Every committed ticket
//! event reaches the stream as
//!
//! ```text
//! event: ticket
//! id: 123
//! data: {"ticket": 7, "event_id": 123, "kind": "comment_added", "mine": false}
//! ```
//!
//! (`mine`: the viewer made the change; internal notes are included, as
//! agents see them anyway). `?ticket=7` narrows the stream to one ticket.
//! A reconnecting browser sends `Last-Event-ID` (or a page may pass
//! `?after=`): the events after it are replayed from the database first, at
//! most [`REPLAY_LIMIT`], so a reconnect loses nothing; when more were
//! missed, or the node may have missed notices, `event: resync` tells the
//! page to re-read what it shows. A comment line keeps the connection open
//! every 15 seconds, and the stream ends when the viewer's session does.

use std::{collections::HashSet, convert::Infallible, sync::Arc, time::Duration};

use axum::{
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};

use super::path_id;
use crate::{
    AppState,
    domain::TicketId,
    error::AppError,
    realtime::Notice,
    store::{self, events::TicketEvent},
    web::Staff,
};

/// Most events replayed on a reconnect; beyond it the page re-reads.
pub const REPLAY_LIMIT: i64 = 500;
/// How often a comment line keeps the connection open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long a browser waits before reconnecting.
pub const RETRY: Duration = Duration::from_secs(3);
/// How often the viewer's session is checked while the stream is open.
const SESSION_CHECK: Duration = Duration::from_mins(1);

#[derive(Debug, Default, Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// The stream's state between two events.
struct Live {
    state: AppState,
    receiver: broadcast::Receiver<Arc<Notice>>,
    /// Events to send before any live one (the retry hint, the replay).
    pending: std::collections::VecDeque<Event>,
    /// Replayed ids, not to send again when they also arrive live.
    replayed: HashSet<i64>,
    ticket: Option<i64>,
    viewer: i64,
    session_hash: String,
    next_check: tokio::time::Instant,
}

/// The id a reconnecting browser sends, else `?after=`.
fn last_event_id(headers: &HeaderMap, query: &LiveQuery) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or_else(|| query.after.as_deref()?.trim().parse().ok())
        .filter(|id| *id >= 0)
}

fn ticket_event(event: &TicketEvent, viewer: i64) -> Event {
    let data = serde_json::json!({
        "ticket": event.ticket_id,
        "event_id": event.id,
        "kind": event.kind,
        "mine": event.actor_id == Some(viewer),
    });
    Event::default()
        .event("ticket")
        .id(event.id.to_string())
        .data(data.to_string())
}

fn resync_event() -> Event {
    Event::default().event("resync").data("{}")
}

/// `GET /agent/live`.
pub async fn stream_events(
    Staff(_, session): Staff,
    State(state): State<AppState>,
    Query(query): Query<LiveQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let ticket = query.ticket.as_deref().map(path_id).transpose()?;
    // Subscribed before the replay is read: nothing falls between the two.
    let receiver = state.hub.subscribe();
    let mut pending = std::collections::VecDeque::new();
    pending.push_back(Event::default().retry(RETRY));
    let mut replayed = HashSet::new();
    if let Some(after) = last_event_id(&headers, &query) {
        let mut events = match ticket {
            Some(ticket) => {
                store::events::for_ticket_after(
                    &state.db,
                    TicketId(ticket),
                    after,
                    REPLAY_LIMIT + 1,
                )
                .await?
            }
            None => store::events::after(&state.db, after, REPLAY_LIMIT + 1).await?,
        };
        let overflow = events.len() > usize::try_from(REPLAY_LIMIT).unwrap_or(usize::MAX);
        events.truncate(usize::try_from(REPLAY_LIMIT).unwrap_or(usize::MAX));
        for event in &events {
            replayed.insert(event.id);
            pending.push_back(ticket_event(event, session.user.id.0));
        }
        if overflow {
            pending.push_back(resync_event());
        }
    }
    let live = Live {
        state,
        receiver,
        pending,
        replayed,
        ticket,
        viewer: session.user.id.0,
        session_hash: session.id_hash,
        next_check: tokio::time::Instant::now() + SESSION_CHECK,
    };
    let stream = futures_util::stream::unfold(live, next_event);
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies such as nginx must not hold the stream back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The next event to send, or the end of the stream.
async fn next_event(mut live: Live) -> Option<(Result<Event, Infallible>, Live)> {
    loop {
        if let Some(event) = live.pending.pop_front() {
            return Some((Ok(event), live));
        }
        tokio::select! {
            received = live.receiver.recv() => match received {
                Ok(notice) => match &*notice {
                    Notice::Event(event) => {
                        if live.ticket.is_some_and(|t| t != event.ticket_id)
                            || live.replayed.remove(&event.id)
                        {
                            continue;
                        }
                        let sent = ticket_event(event, live.viewer);
                        return Some((Ok(sent), live));
                    }
                    Notice::Triage { .. } => {}
                    Notice::Resync => return Some((Ok(resync_event()), live)),
                },
                Err(RecvError::Lagged(_)) => return Some((Ok(resync_event()), live)),
                Err(RecvError::Closed) => return None,
            },
            () = live.state.hub.closed() => return None,
            () = tokio::time::sleep_until(live.next_check) => {
                if !still_staff(&live).await {
                    return None;
                }
                live.next_check = tokio::time::Instant::now() + SESSION_CHECK;
            }
        }
    }
}

/// Whether the viewer's session still stands and is still an agent's or an
/// admin's (read without counting as activity: an open page is not use).
async fn still_staff(live: &Live) -> bool {
    let now = live.state.clock.now();
    let idle = jiff::SignedDuration::from_mins(i64::from(live.state.config.session_idle_minutes));
    match store::sessions::find_with_user(&live.state.db, &live.session_hash).await {
        Ok(Some(row)) => {
            row.expires_at.0 > now
                && row.last_seen_at.0 + idle > now
                && row.user.active
                && row.user.role().is_staff()
        }
        Ok(None) => false,
        // A failed read does not end the stream; the next check decides.
        Err(error) => {
            tracing::warn!(%error, "live updates: cannot check a session");
            true
        }
    }
}

/// `GET /static/live.js`: the workspace's live-update script.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../static/live.js"),
    )
        .into_response()
}
