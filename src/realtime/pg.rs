//! The PostgreSQL side of the pump: one `LISTEN` connection per node.
//!
//! Every event insert sends `pg_notify('chamado_events', id)` in its own
//! transaction, so the notification arrives at commit, in commit order, and
//! never for a rollback. The pump fetches exactly the notified events and
//! publishes each once (a bounded set of recently published ids guards
//! against twice). It never reads `id > last_id` while connected: an
//! identity id is taken before its transaction commits, so a smaller id
//! may commit after a larger one.
//!
//! When the listening connection is lost, notifications sent meanwhile are
//! gone: the pump publishes `Notice::Resync`, listens again, and then
//! re-reads every event above its *floor* — the highest id below which
//! every id was published, or was missing for longer than [`GRACE`] (a
//! rolled-back transaction's id never appears) — skipping those already
//! published. Triage notices (`chamado_triage`, JSON) are published as they
//! come; after a loss, `Resync` tells views to re-read their sessions.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use sqlx::{
    PgPool,
    postgres::{PgListener, PgPoolOptions},
};
use tokio::sync::mpsc;

use super::{BATCH, Hub, Notice, TriageNotice, newest_id};
use crate::{
    AppState,
    store::{
        events::{self, EVENTS_CHANNEL, TRIAGE_CHANNEL},
        sessions::CACHE_CHANNEL,
    },
};

/// The `application_name` of the listening connection (visible in
/// `pg_stat_activity`).
pub const LISTENER_NAME: &str = "chamado-listener";
/// How long an id below a published one may stay missing before the floor
/// moves past it (its transaction rolled back, or is very long).
const GRACE: Duration = Duration::from_mins(1);
/// How many published ids are remembered, to never publish one twice.
const RECENT: usize = 100_000;
/// Wait before listening again after a failure.
const RETRY: Duration = Duration::from_secs(1);
/// How often the floor moves and a failed read is retried.
const TICK: Duration = Duration::from_secs(1);

/// What the listening task tells the pump.
enum Heard {
    /// Listening (again): everything committed from now on is notified.
    Listening,
    /// The connection was lost; notifications may have been missed.
    Lost,
    Event(i64),
    Triage(TriageNotice),
}

/// The ids published so far and the floor below which nothing is missing.
struct Seen {
    recent: BTreeSet<i64>,
    floor: i64,
    /// Since when the id right above the floor has been missing.
    gap: Option<(i64, Instant)>,
}

impl Seen {
    fn new(floor: i64) -> Self {
        Self {
            recent: BTreeSet::new(),
            floor,
            gap: None,
        }
    }

    fn contains(&self, id: i64) -> bool {
        self.recent.contains(&id)
    }

    fn insert(&mut self, id: i64) {
        self.recent.insert(id);
        while self.recent.len() > RECENT {
            self.recent.pop_first();
        }
    }

    /// Moves the floor over published ids, and over a gap older than
    /// [`GRACE`].
    fn advance(&mut self, now: Instant) {
        loop {
            while self.recent.contains(&(self.floor + 1)) {
                self.floor += 1;
            }
            let Some(&above) = self.recent.range(self.floor + 1..).next() else {
                self.gap = None;
                return;
            };
            match self.gap {
                Some((floor, since)) if floor == self.floor => {
                    if now.duration_since(since) < GRACE {
                        return;
                    }
                    self.floor = above - 1;
                    self.gap = None;
                }
                _ => {
                    self.gap = Some((self.floor, now));
                    return;
                }
            }
        }
    }
}

/// Runs the node's listener and pump forever.
pub(super) async fn run(state: AppState, pool: PgPool) {
    let (sender, mut heard) = mpsc::channel(4096);
    tokio::spawn(listen(listener_pool(&pool), sender, state.hub.clone()));
    let hub = state.hub.clone();
    // Listening first, then the newest id: an event committed after that
    // read is notified.
    let mut seen: Option<Seen> = None;
    let mut retry: Vec<i64> = Vec::new();
    let mut catch_up_due = false;
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let message = tokio::select! {
            message = heard.recv() => message,
            _ = ticks.tick() => {
                if let Some(seen) = seen.as_mut() {
                    seen.advance(Instant::now());
                    if !retry.is_empty() {
                        let ids = std::mem::take(&mut retry);
                        retry = publish_ids(&state, seen, ids).await;
                    }
                    if catch_up_due {
                        catch_up_due = !catch_up(&state, seen).await;
                    }
                }
                continue;
            }
        };
        let Some(message) = message else {
            return;
        };
        match message {
            Heard::Listening => match seen.as_mut() {
                None => {
                    let floor = newest_id(&state).await;
                    seen = Some(Seen::new(floor));
                    hub.mark_started(floor);
                }
                Some(seen) => catch_up_due = !catch_up(&state, seen).await,
            },
            Heard::Lost => hub.publish(Notice::Resync),
            Heard::Triage(notice) => hub.publish(notice.into_notice()),
            Heard::Event(first) => {
                let mut ids = vec![first];
                // Whatever else already arrived goes in the same read.
                while ids.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                    match heard.try_recv() {
                        Ok(Heard::Event(id)) => ids.push(id),
                        Ok(Heard::Triage(notice)) => hub.publish(notice.into_notice()),
                        Ok(Heard::Lost) => hub.publish(Notice::Resync),
                        Ok(Heard::Listening) => catch_up_due = true,
                        Err(_) => break,
                    }
                }
                if let Some(seen) = seen.as_mut() {
                    let mut failed = publish_ids(&state, seen, ids).await;
                    retry.append(&mut failed);
                }
            }
        }
    }
}

/// Publishes the events `ids` not published yet, in id order; returns the
/// ids to retry when the read failed.
async fn publish_ids(state: &AppState, seen: &mut Seen, mut ids: Vec<i64>) -> Vec<i64> {
    ids.retain(|id| !seen.contains(*id));
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return ids;
    }
    let crate::store::Db::Postgres(pool, _) = &state.db else {
        return Vec::new();
    };
    match events::by_ids(pool, &ids).await {
        Ok(found) => {
            for event in found {
                seen.insert(event.id);
                state.hub.broadcast_event(event);
            }
            Vec::new()
        }
        Err(error) => {
            tracing::warn!(%error, "live updates: reading notified events failed; retrying");
            ids
        }
    }
}

/// Publishes every event above the floor not published yet; returns
/// whether the read succeeded.
async fn catch_up(state: &AppState, seen: &mut Seen) -> bool {
    seen.advance(Instant::now());
    let mut after = seen.floor;
    loop {
        let events = match events::after(&state.db, after, BATCH).await {
            Ok(events) => events,
            Err(error) => {
                tracing::warn!(%error, "live updates: re-reading events failed; retrying");
                return false;
            }
        };
        let count = events.len();
        for event in events {
            after = event.id;
            if !seen.contains(event.id) {
                seen.insert(event.id);
                state.hub.broadcast_event(event);
            }
        }
        if count < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            seen.advance(Instant::now());
            return true;
        }
    }
}

/// A pool of one connection for listening, named so operators (and tests)
/// can tell it apart; it does not take a connection from the main pool.
fn listener_pool(pool: &PgPool) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .application_name(LISTENER_NAME);
    PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options)
}

/// Listens on both channels, forwarding what it hears; after any loss it
/// says so and listens again.
async fn listen(pool: PgPool, heard: mpsc::Sender<Heard>, hub: Hub) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "live updates: cannot connect the listener; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        listener.ignore_pool_close_event(true);
        if let Err(error) = listener
            .listen_all([EVENTS_CHANNEL, TRIAGE_CHANNEL, CACHE_CHANNEL])
            .await
        {
            tracing::warn!(%error, "live updates: LISTEN failed; retrying");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        if heard.send(Heard::Listening).await.is_err() {
            return;
        }
        hub.set_cache_heard(true);
        loop {
            let message = match listener.try_recv().await {
                Ok(Some(notification)) => match notification.channel() {
                    EVENTS_CHANNEL => match notification.payload().parse::<i64>() {
                        Ok(id) => Heard::Event(id),
                        Err(_) => continue,
                    },
                    TRIAGE_CHANNEL => match serde_json::from_str(notification.payload()) {
                        Ok(notice) => Heard::Triage(notice),
                        Err(_) => continue,
                    },
                    CACHE_CHANNEL => {
                        hub.cached_rows_changed();
                        continue;
                    }
                    _ => continue,
                },
                // The connection was lost and is listening again.
                Ok(None) => {
                    // Listening again, but what was sent meanwhile is gone.
                    hub.set_cache_heard(true);
                    if heard.send(Heard::Lost).await.is_err()
                        || heard.send(Heard::Listening).await.is_err()
                    {
                        return;
                    }
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%error, "live updates: the listener failed; listening again");
                    hub.set_cache_heard(false);
                    if heard.send(Heard::Lost).await.is_err() {
                        return;
                    }
                    break;
                }
            };
            if heard.send(message).await.is_err() {
                return;
            }
        }
        drop(listener);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_waits_for_a_missing_id_then_moves_past_it() {
        let start = Instant::now();
        let mut seen = Seen::new(10);
        seen.insert(11);
        seen.insert(13);
        seen.advance(start);
        assert_eq!(seen.floor, 11, "12 is missing: the floor stays below it");
        seen.advance(start + GRACE / 2);
        assert_eq!(seen.floor, 11);
        seen.insert(12);
        seen.advance(start + GRACE / 2);
        assert_eq!(seen.floor, 13, "12 arrived late: the floor moves over it");
        seen.insert(15);
        seen.advance(start + GRACE);
        assert_eq!(seen.floor, 13);
        seen.advance(start + GRACE * 2 + Duration::from_secs(1));
        assert_eq!(seen.floor, 15, "14 never came: skipped after the grace");
    }

    #[test]
    fn the_remembered_ids_are_bounded() {
        let mut seen = Seen::new(0);
        for id in 1..=i64::try_from(RECENT).unwrap_or(i64::MAX) + 10 {
            seen.insert(id);
        }
        assert_eq!(seen.recent.len(), RECENT);
        assert!(!seen.contains(1));
        assert!(seen.contains(11));
    }
}
