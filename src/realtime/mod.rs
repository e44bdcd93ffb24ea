//! Real time: every node keeps one `Hub`, a broadcast of what changed, that
//! live views (the widget's WebSocket, the agent's pages) subscribe to.
//!
//! The source of truth is the `ticket_events` table, written inside the
//! transaction of every change. One pump task per node reads the events
//! committed since the last one it saw and broadcasts them, so a view never
//! sees a change that was rolled back. The pump wakes when this node has
//! written (`Hub::wake`, called after every state-changing request and job
//! round), on a short tick as a safety net, and on PostgreSQL when another
//! node's transaction commits (see `pg`).
//!
//! A consumer that falls behind (a lagged receiver) or a pump that may have
//! missed notices gets `Notice::Resync`: it re-reads from its own last id.
//!
//! On SQLite (one writer at a time, `BEGIN IMMEDIATE`) ids commit in order,
//! so the pump reads `id > last_id`. On PostgreSQL an identity id is taken
//! before its transaction commits, so a later id may commit first and
//! `id > last_id` could skip the earlier one forever; there every event's
//! insert also sends `pg_notify('chamado_events', id)`, delivered at commit,
//! and one listener per node publishes exactly the notified events (see
//! `pg`). Triage notices travel on `chamado_triage` the same way.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast, watch};

use crate::{
    AppState,
    store::{
        Db,
        events::{TRIAGE_CHANNEL, TicketEvent},
    },
};

mod pg;

/// How many notices a slow subscriber may fall behind before it is told to
/// resync.
const CAPACITY: usize = 4096;
/// The pump's safety-net tick (writes by this node wake it at once).
const TICK: Duration = Duration::from_millis(500);
/// Events read per query.
const BATCH: i64 = 500;

/// What live views are told.
#[derive(Clone, Debug)]
pub enum Notice {
    /// A committed ticket event. Consumers decide who may see it.
    Event(Arc<TicketEvent>),
    /// A triage session of `user_id` changed (`state`: `reminded`,
    /// `abandoned`, `completed`); only that user is told.
    Triage {
        user_id: i64,
        session_id: i64,
        state: String,
    },
    /// Notices may have been missed: re-read from your own last event id.
    Resync,
}

/// The node's broadcast of notices; cheap to clone.
#[derive(Clone, Debug)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: broadcast::Sender<Arc<Notice>>,
    wake: Notify,
    /// The last event id the pump broadcast.
    last_id: AtomicI64,
    /// Whether the pump has started (on PostgreSQL: listens).
    started: watch::Sender<bool>,
    /// Set when the node stops: long-lived streams end.
    closing: watch::Sender<bool>,
    /// Changes whenever data may have changed (a write on this node, an
    /// event from any node): caches of derived values (counts) compare it.
    generation: AtomicU64,
    /// Changes whenever rows this node caches (sessions, users,
    /// memberships, organizations, some settings) may have changed: a write
    /// request on this node, or on PostgreSQL a `chamado_cache` notice from
    /// any node (`service::node_cache`).
    cache_generation: AtomicU64,
    /// On PostgreSQL: whether this node is listening for `chamado_cache`
    /// (while it is not, another node's change could go unnoticed).
    cache_heard: AtomicBool,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            inner: Arc::new(Inner {
                sender,
                wake: Notify::new(),
                last_id: AtomicI64::new(0),
                started: watch::Sender::new(false),
                closing: watch::Sender::new(false),
                generation: AtomicU64::new(0),
                cache_generation: AtomicU64::new(0),
                cache_heard: AtomicBool::new(false),
            }),
        }
    }

    /// A receiver of every notice from now on. On
    /// `RecvError::Lagged`, treat it as `Notice::Resync`.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Notice>> {
        self.inner.sender.subscribe()
    }

    /// Asks the pump to look for new events now (after this node wrote),
    /// and has the rows this node caches read again.
    pub fn wake(&self) {
        self.cached_rows_changed();
        self.wake_keeping_cached_rows();
    }

    /// [`Hub::wake`] after a write known to leave every cached row (sessions,
    /// users, memberships, organizations, settings) as it was: a new ticket
    /// or a reply.
    pub fn wake_keeping_cached_rows(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        self.inner.wake.notify_one();
    }

    /// The data generation: it moves on after every write on this node
    /// (`wake`) and every event from another node (`publish`), so a value
    /// computed at one generation is current while the generation is the
    /// same.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// Rows this node caches may have changed: they are read again.
    pub fn cached_rows_changed(&self) {
        self.inner.cache_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The generation of cached rows (see [`Hub::cached_rows_changed`]). `None` when
    /// changes made by other nodes could go unheard (`cross_node`: on
    /// PostgreSQL, while this node is not listening), so nothing may be
    /// reused.
    pub fn cache_generation(&self, cross_node: bool) -> Option<u64> {
        if cross_node && !self.inner.cache_heard.load(Ordering::Acquire) {
            return None;
        }
        Some(self.inner.cache_generation.load(Ordering::Acquire))
    }

    /// Whether other nodes' changes to cached rows are heard from now on (the
    /// listener is listening) or may be missed (it was lost).
    fn set_cache_heard(&self, heard: bool) {
        self.inner.cache_heard.store(heard, Ordering::Release);
        self.cached_rows_changed();
    }

    /// The last event id broadcast on this node: a view that loads its
    /// state, then subscribes, reads the events after the id it loaded.
    pub fn last_id(&self) -> i64 {
        self.inner.last_id.load(Ordering::Acquire)
    }

    /// Broadcasts a notice to this node's subscribers (none listening is
    /// fine).
    pub fn publish(&self, notice: Notice) {
        if matches!(notice, Notice::Event(_) | Notice::Resync) {
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
        }
        let _ = self.inner.sender.send(Arc::new(notice));
    }

    /// Waits until this node's pump runs: every event committed from then
    /// on reaches the subscribers.
    pub async fn started(&self) {
        let mut started = self.inner.started.subscribe();
        let _ = started.wait_for(|s| *s).await;
    }

    /// Tells long-lived streams (server-sent events, web sockets) that the
    /// node is stopping, so a graceful shutdown does not wait for them.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Resolves once [`Hub::close`] was called.
    pub async fn closed(&self) {
        let mut closing = self.inner.closing.subscribe();
        let _ = closing.wait_for(|c| *c).await;
    }

    fn mark_started(&self, last_id: i64) {
        self.inner.last_id.fetch_max(last_id, Ordering::AcqRel);
        self.inner.started.send_replace(true);
    }

    fn broadcast_event(&self, event: TicketEvent) {
        self.inner.last_id.fetch_max(event.id, Ordering::AcqRel);
        self.publish(Notice::Event(Arc::new(event)));
    }

    async fn woken_or_tick(&self) {
        let _ = tokio::time::timeout(TICK, self.inner.wake.notified()).await;
    }
}

/// Starts the node's pump: it broadcasts every event committed after the
/// newest one at start. On PostgreSQL it also listens for other nodes'
/// commits and triage notices.
pub fn spawn(state: &AppState) {
    let state = state.clone();
    if let Db::Postgres(pool, _) = &state.db {
        let pool = pool.clone();
        tokio::spawn(pg::run(state, pool));
        return;
    }
    tokio::spawn(async move {
        let hub = state.hub.clone();
        let start = newest_id(&state).await;
        hub.mark_started(start);
        loop {
            hub.woken_or_tick().await;
            if let Err(error) = pump_once(&state).await {
                tracing::warn!(%error, "live updates: reading new events failed");
            }
        }
    });
}

/// The newest event id, retrying until the database answers.
async fn newest_id(state: &AppState) -> i64 {
    loop {
        match crate::store::events::last_id(&state.db).await {
            Ok(id) => return id,
            Err(error) => {
                tracing::warn!(%error, "live updates: cannot read the last event id; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Broadcasts the events committed after the last one broadcast; returns
/// how many. This is the SQLite pump (ids commit in order there).
pub async fn pump_once(state: &AppState) -> Result<usize, crate::store::StoreError> {
    let hub = &state.hub;
    let mut sent = 0;
    loop {
        let from = hub.last_id();
        let events = crate::store::events::after(&state.db, from, BATCH).await?;
        let count = events.len();
        for event in events {
            hub.broadcast_event(event);
        }
        sent += count;
        if count < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(sent);
        }
    }
}

/// What a triage notice carries between nodes (`chamado_triage`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageNotice {
    pub user_id: i64,
    pub session_id: i64,
    pub state: String,
}

impl TriageNotice {
    /// The JSON sent with `pg_notify`.
    pub fn payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn into_notice(self) -> Notice {
        Notice::Triage {
            user_id: self.user_id,
            session_id: self.session_id,
            state: self.state,
        }
    }
}

/// Announces, inside the transaction that changed the session, that a
/// triage changed. On PostgreSQL this sends `pg_notify` in that
/// transaction, so every node hears it at commit and never for a rollback;
/// on SQLite it does nothing: call [`publish_triage`] after the commit.
pub async fn notify_triage_in<'c, DB>(
    tx: &mut crate::store::WriteTx<DB>,
    notice: &TriageNotice,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    if DB::NAME == "PostgreSQL" {
        sqlx::query("select pg_notify($1, $2)")
            .bind(TRIAGE_CHANNEL)
            .bind(notice.payload())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// After a commit on SQLite: tells this node's views (the only node). On
/// PostgreSQL the notice went with the transaction (`notify_triage_in`).
pub fn publish_triage(state: &AppState, notice: &TriageNotice) {
    if matches!(state.db, Db::Sqlite(..)) {
        state.hub.publish(notice.clone().into_notice());
    }
}

/// Tells every node's views that the triage sessions `sessions` reached
/// `new_state` (`completed`, `abandoned`), after the transactions that
/// changed them committed: on PostgreSQL through `chamado_triage` (each
/// node, this one included, hears it once from its listener), on SQLite on
/// this node's hub. A failure is logged: the sessions changed anyway, and a
/// view re-reads them when it reconnects.
pub async fn triage_changed(state: &AppState, sessions: &[i64], new_state: &str) {
    for &session_id in sessions {
        let session = crate::store::jobs::find_triage(
            &state.db,
            crate::store::jobs::TriageSessionId(session_id),
        )
        .await;
        let user_id = match session {
            Ok(Some(session)) => session.user_id.0,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, session_id, "live updates: cannot read a triage session");
                continue;
            }
        };
        let notice = TriageNotice {
            user_id,
            session_id,
            state: new_state.to_owned(),
        };
        match &state.db {
            Db::Sqlite(..) => state.hub.publish(notice.into_notice()),
            Db::Postgres(pool, _) => {
                let sent = sqlx::query("select pg_notify($1, $2)")
                    .bind(TRIAGE_CHANNEL)
                    .bind(notice.payload())
                    .execute(pool)
                    .await;
                if let Err(error) = sent {
                    tracing::warn!(%error, session_id, "live updates: cannot announce a triage change");
                }
            }
        }
    }
}
