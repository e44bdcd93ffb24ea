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

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use tokio::sync::{Notify, broadcast};

use crate::{AppState, store::events::TicketEvent};

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
            }),
        }
    }

    /// A receiver of every notice from now on. On
    /// `RecvError::Lagged`, treat it as `Notice::Resync`.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Notice>> {
        self.inner.sender.subscribe()
    }

    /// Asks the pump to look for new events now (after this node wrote).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// The last event id broadcast on this node: a view that loads its
    /// state, then subscribes, reads the events after the id it loaded.
    pub fn last_id(&self) -> i64 {
        self.inner.last_id.load(Ordering::Acquire)
    }

    /// Broadcasts a notice to this node's subscribers (none listening is
    /// fine).
    pub fn publish(&self, notice: Notice) {
        let _ = self.inner.sender.send(Arc::new(notice));
    }

    async fn woken_or_tick(&self) {
        let _ = tokio::time::timeout(TICK, self.inner.wake.notified()).await;
    }
}

/// Starts the node's pump: it broadcasts every event committed after the
/// newest one at start.
pub fn spawn(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let hub = state.hub.clone();
        let start = loop {
            match crate::store::events::last_id(&state.db).await {
                Ok(id) => break id,
                Err(error) => {
                    tracing::warn!(%error, "live updates: cannot read the last event id; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        hub.inner.last_id.store(start, Ordering::Release);
        loop {
            hub.woken_or_tick().await;
            if let Err(error) = pump_once(&state).await {
                tracing::warn!(%error, "live updates: reading new events failed");
            }
        }
    });
}

/// Broadcasts the events committed after the last one broadcast; returns
/// how many.
pub async fn pump_once(state: &AppState) -> Result<usize, crate::store::StoreError> {
    let hub = &state.hub;
    let mut sent = 0;
    loop {
        let from = hub.last_id();
        let events = crate::store::events::after(&state.db, from, BATCH).await?;
        let count = events.len();
        for event in events {
            hub.inner.last_id.fetch_max(event.id, Ordering::AcqRel);
            hub.publish(Notice::Event(Arc::new(event)));
        }
        sent += count;
        if count < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(sent);
        }
    }
}
