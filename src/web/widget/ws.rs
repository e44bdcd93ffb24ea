//! `GET /widget/ws`: the widget's live protocol (docs/widget.md).
//!
//! The socket authenticates with its first frame (never the URL), then
//! subscribes to tickets the user may see. For each subscription it first
//! replays that ticket's events after the client's last one from the
//! database, then forwards what the node's `Hub` broadcasts, so a reconnect
//! loses and duplicates nothing. Internal notes never leave: a comment is
//! re-read from the database as a public comment before it is sent.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::{
    sync::broadcast::error::RecvError,
    time::{Instant, MissedTickBehavior},
};

use super::{ApiError, from_own_origin, message_json, user_lang, user_tz};
use crate::{
    AppState,
    domain::TicketStatus,
    i18n::Tr,
    realtime::Notice,
    service,
    store::{self, StoreError, events::EventKind, events::TicketEvent, users::User},
};

/// How long a new socket may take to authenticate.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings (and re-checks the bearer).
const PING_EVERY: Duration = Duration::from_secs(25);
/// A socket without a pong for this long is closed.
const PONG_TIMEOUT: Duration = Duration::from_mins(1);
/// The close code for a missing, invalid or expired bearer.
const UNAUTHENTICATED: u16 = 4401;
/// Tickets one socket may follow at once.
const MAX_SUBSCRIPTIONS: usize = 100;
/// Requesters remembered per socket (for `tickets_changed`).
const REQUESTER_CACHE: usize = 1000;
/// The largest frame, and message, a client may send, before and after
/// `auth`. The protocol's frames (`auth` with a 64-character token,
/// `subscribe`, `unsubscribe`, `ping`) take under 200 bytes; a bigger frame
/// is refused when its header is read, before its payload is buffered.
pub const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// The close code for a message over [`MAX_CLIENT_MESSAGE`] (RFC 6455).
const TOO_BIG: u16 = 1009;

/// Refuses any page but the frame (Chamado's own origin), then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !from_own_origin(&state, &headers) {
        tracing::info!("widget socket refused: wrong origin");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            &json!({ "error": "origin_not_allowed" }),
        )
        .into_response();
    }
    ws.max_frame_size(MAX_CLIENT_MESSAGE)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| run(state, socket))
}

/// Whether a read failed because the client sent more than
/// [`MAX_CLIENT_MESSAGE`].
fn too_big(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|e| e.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Auth {
        token: String,
    },
    Subscribe {
        ticket: i64,
        #[serde(default)]
        after: i64,
    },
    Unsubscribe {
        ticket: i64,
    },
    Ping,
}

/// The socket went away or failed: stop serving it.
struct Gone;

impl From<StoreError> for Gone {
    fn from(error: StoreError) -> Self {
        tracing::warn!(%error, "widget socket: reading the database failed");
        Gone
    }
}

async fn send(socket: &mut WebSocket, value: &Value) -> Result<(), Gone> {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .map_err(|_| Gone)
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// Why a socket is closed before `auth` succeeded: its close code and reason.
type Refusal = (u16, &'static str);

const REFUSED: Refusal = (UNAUTHENTICATED, "unauthenticated");

/// Waits for the `auth` frame; refused for anything else, no frame in time,
/// or a frame over the size limit.
async fn authenticate(state: &AppState, socket: &mut WebSocket) -> Result<(User, String), Refusal> {
    let first = tokio::time::timeout(AUTH_TIMEOUT, async {
        loop {
            match socket.recv().await {
                Some(Ok(Message::Text(text))) => return Ok(text),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(error)) if too_big(&error) => return Err((TOO_BIG, "message too big")),
                _ => return Err(REFUSED),
            }
        }
    })
    .await
    .map_err(|_| REFUSED)??;
    let Ok(ClientFrame::Auth { token }) = serde_json::from_str::<ClientFrame>(first.as_str())
    else {
        return Err(REFUSED);
    };
    match service::widget::resolve_access(state, token.trim()).await {
        Ok(Some(user)) => Ok((user, token.trim().to_owned())),
        Ok(None) => Err(REFUSED),
        Err(error) => {
            tracing::warn!(%error, "widget socket: checking the bearer failed");
            Err(REFUSED)
        }
    }
}

async fn run(state: AppState, mut socket: WebSocket) {
    let (user, token) = match authenticate(&state, &mut socket).await {
        Ok(signed_in) => signed_in,
        Err((code, reason)) => {
            close(&mut socket, code, reason).await;
            return;
        }
    };
    let mut live = Live {
        t: Tr::new(
            std::sync::Arc::clone(&state.catalog),
            user_lang(&state, &user),
        ),
        tz: user_tz(&state, &user),
        state,
        user,
        token,
        subscriptions: HashMap::new(),
        requesters: HashMap::new(),
    };
    if let Err(Gone) = live.serve(&mut socket).await {
        tracing::debug!("widget socket closed");
    }
}

/// One subscription: the client's starting point and what was sent since.
struct Subscription {
    /// Events at or before this id the client already has.
    floor: i64,
    /// Event ids sent on this socket; none is sent twice.
    sent: HashSet<i64>,
}

struct Live {
    state: AppState,
    user: User,
    token: String,
    t: Tr,
    tz: TimeZone,
    subscriptions: HashMap<i64, Subscription>,
    /// Ticket id → whether this user requested it.
    requesters: HashMap<i64, bool>,
}

impl Live {
    async fn serve(&mut self, socket: &mut WebSocket) -> Result<(), Gone> {
        // Listening starts before `ready`: whatever commits from now on is
        // either replayed from the database or received here.
        let mut notices = self.state.hub.subscribe();
        send(socket, &json!({ "type": "ready" })).await?;
        let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_pong = Instant::now();
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => self.client_frame(socket, text.as_str()).await?,
                    Some(Ok(Message::Pong(_))) => last_pong = Instant::now(),
                    Some(Ok(Message::Ping(_) | Message::Binary(_))) => {}
                    Some(Err(error)) if too_big(&error) => {
                        close(socket, TOO_BIG, "message too big").await;
                        return Ok(());
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return Ok(()),
                },
                notice = notices.recv() => match notice {
                    Ok(notice) => self.notice(socket, &notice).await?,
                    Err(RecvError::Lagged(_)) => self.resync(socket).await?,
                    Err(RecvError::Closed) => return Ok(()),
                },
                () = self.state.hub.closed() => {
                    // The node is stopping: the client reconnects elsewhere
                    // and resumes from its last event id.
                    close(socket, 1001, "going away").await;
                    return Ok(());
                }
                _ = ping.tick() => {
                    if last_pong.elapsed() > PONG_TIMEOUT {
                        close(socket, 1001, "no pong").await;
                        return Ok(());
                    }
                    // A deactivated user or an expired bearer ends the socket.
                    if service::widget::resolve_access(&self.state, &self.token).await?.is_none() {
                        close(socket, UNAUTHENTICATED, "unauthenticated").await;
                        return Ok(());
                    }
                    socket.send(Message::Ping(Vec::new().into())).await.map_err(|_| Gone)?;
                }
            }
        }
    }

    async fn client_frame(&mut self, socket: &mut WebSocket, text: &str) -> Result<(), Gone> {
        match serde_json::from_str::<ClientFrame>(text) {
            Ok(ClientFrame::Subscribe { ticket, after }) => {
                self.subscribe(socket, ticket, after).await
            }
            Ok(ClientFrame::Unsubscribe { ticket }) => {
                self.subscriptions.remove(&ticket);
                Ok(())
            }
            Ok(ClientFrame::Ping) => send(socket, &json!({ "type": "pong" })).await,
            Ok(ClientFrame::Auth { .. }) | Err(_) => {
                send(socket, &json!({ "type": "error", "error": "bad_request" })).await
            }
        }
    }

    async fn visible(&self, ticket: i64) -> Result<bool, Gone> {
        Ok(
            store::portal::find_visible(&self.state.db, self.user.id, ticket)
                .await?
                .is_some(),
        )
    }

    async fn subscribe(
        &mut self,
        socket: &mut WebSocket,
        ticket: i64,
        after: i64,
    ) -> Result<(), Gone> {
        if !self.visible(ticket).await? {
            return send(
                socket,
                &json!({ "type": "error", "ticket": ticket, "error": "not_found" }),
            )
            .await;
        }
        if !self.subscriptions.contains_key(&ticket)
            && self.subscriptions.len() >= MAX_SUBSCRIPTIONS
        {
            return send(
                socket,
                &json!({ "type": "error", "ticket": ticket, "error": "too_many_subscriptions" }),
            )
            .await;
        }
        let floor = if after > 0 {
            after
        } else {
            store::widget::ticket_last_event_id(&self.state.db, ticket).await?
        };
        let sent = self
            .subscriptions
            .remove(&ticket)
            .map(|s| s.sent)
            .unwrap_or_default();
        self.subscriptions
            .insert(ticket, Subscription { floor, sent });
        self.replay(socket, ticket).await?;
        // From here on every event after `floor` reaches the client.
        send(
            socket,
            &json!({ "type": "subscribed", "ticket": ticket, "after": floor }),
        )
        .await
    }

    /// Sends the ticket's events after the subscription's floor that were
    /// not sent yet, from the database.
    async fn replay(&mut self, socket: &mut WebSocket, ticket: i64) -> Result<(), Gone> {
        let Some(floor) = self.subscriptions.get(&ticket).map(|s| s.floor) else {
            return Ok(());
        };
        let events = store::widget::ticket_events_after(&self.state.db, ticket, floor).await?;
        for event in &events {
            self.deliver(socket, event).await?;
        }
        Ok(())
    }

    /// Notices missed: every subscription re-reads from the database, and
    /// the history may have changed.
    async fn resync(&mut self, socket: &mut WebSocket) -> Result<(), Gone> {
        let tickets: Vec<i64> = self.subscriptions.keys().copied().collect();
        for ticket in tickets {
            if self.visible(ticket).await? {
                self.replay(socket, ticket).await?;
            } else {
                self.subscriptions.remove(&ticket);
            }
        }
        send(socket, &json!({ "type": "tickets_changed" })).await
    }

    async fn notice(&mut self, socket: &mut WebSocket, notice: &Notice) -> Result<(), Gone> {
        match notice {
            Notice::Event(event) => {
                if matches!(
                    event.kind(),
                    Some(EventKind::Created | EventKind::StatusChanged)
                ) && self.requested(event.ticket_id).await?
                {
                    send(socket, &json!({ "type": "tickets_changed" })).await?;
                }
                if self.subscriptions.contains_key(&event.ticket_id) {
                    if self.visible(event.ticket_id).await? {
                        self.deliver(socket, event).await?;
                    } else {
                        self.subscriptions.remove(&event.ticket_id);
                    }
                }
                Ok(())
            }
            Notice::Triage {
                user_id,
                session_id,
                state,
            } if *user_id == self.user.id.0 => {
                send(
                    socket,
                    &json!({ "type": "triage", "id": session_id, "state": state }),
                )
                .await
            }
            Notice::Triage { .. } => Ok(()),
            Notice::Resync => self.resync(socket).await,
        }
    }

    /// Whether this user requested the ticket (remembered per socket).
    async fn requested(&mut self, ticket: i64) -> Result<bool, Gone> {
        if let Some(mine) = self.requesters.get(&ticket) {
            return Ok(*mine);
        }
        let mine =
            store::widget::requester_of(&self.state.db, ticket).await? == Some(self.user.id.0);
        if self.requesters.len() >= REQUESTER_CACHE {
            self.requesters.clear();
        }
        self.requesters.insert(ticket, mine);
        Ok(mine)
    }

    /// Sends one event of a subscribed ticket, at most once per socket.
    /// Content goes out only while the bearer is valid: a user deactivated
    /// meanwhile gets the socket closed instead.
    async fn deliver(&mut self, socket: &mut WebSocket, event: &TicketEvent) -> Result<(), Gone> {
        let Some(subscription) = self.subscriptions.get_mut(&event.ticket_id) else {
            return Ok(());
        };
        if event.id <= subscription.floor || !subscription.sent.insert(event.id) {
            return Ok(());
        }
        let Some(frame) = self.frame(event).await? else {
            return Ok(());
        };
        if service::widget::resolve_access(&self.state, &self.token)
            .await?
            .is_none()
        {
            close(socket, UNAUTHENTICATED, "unauthenticated").await;
            return Err(Gone);
        }
        send(socket, &frame).await
    }

    /// The frame an event becomes for a customer, if any.
    async fn frame(&self, event: &TicketEvent) -> Result<Option<Value>, Gone> {
        match event.kind() {
            Some(EventKind::CommentAdded) => {
                let Some((comment, true)) = service::widget::comment_of(event) else {
                    return Ok(None);
                };
                // The event says public; the comment itself must say so too.
                let Some(comment) =
                    store::widget::public_comment(&self.state.db, event.ticket_id, comment).await?
                else {
                    return Ok(None);
                };
                Ok(Some(json!({
                    "type": "message",
                    "event_id": event.id,
                    "ticket": event.ticket_id,
                    "message": message_json(&comment, event.id, &self.t, &self.tz),
                })))
            }
            Some(EventKind::StatusChanged) => {
                let Some(status) = event
                    .data
                    .0
                    .get("to")
                    .and_then(Value::as_str)
                    .and_then(TicketStatus::from_key)
                else {
                    return Ok(None);
                };
                Ok(Some(json!({
                    "type": "status",
                    "event_id": event.id,
                    "ticket": event.ticket_id,
                    "status": status.key(),
                    "status_label": status.label(self.t.lang),
                })))
            }
            _ => Ok(None),
        }
    }
}
