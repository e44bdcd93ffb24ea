//! Every page starts by reading who is asking: the session with its user,
//! for customers their memberships, and for ticket pages the business hours
//! and automation settings. These rows change rarely, so each node keeps
//! what it read and serves it again while nothing may have changed, sparing
//! several database round trips per request.
//!
//! "Nothing may have changed" is the hub's cache generation
//! (`realtime::Hub::cache_generation`): every write request on this node
//! moves it on, and on PostgreSQL so does every `chamado_cache` notice, sent
//! by triggers (migration 0013) when any node deletes a session or changes
//! a user, membership, organization or one of these settings. While a
//! PostgreSQL node is not listening, nothing is reused. A time limit bounds
//! what a write outside every node (a command-line tool on a SQLite file)
//! could leave stale.
//!
//! Expiry is still checked on every request; a cached row that looks
//! expired or idle is read again before the session is ended, since
//! another node may have recorded activity meanwhile. Authorization never
//! depends on a cached row alone: ticket queries check the memberships in
//! the database themselves.

use std::{sync::Arc, time::Duration};

use serde::de::DeserializeOwned;

use super::counts::GenerationMap;
use super::hc::SearchPage;
use crate::{
    AppState,
    domain::{Lang, UserId},
    store::{self, Db, StoreError, Ts, sessions::SessionWithUser, users::Membership},
};

/// Beyond this an entry is read again even when no change was heard.
const MAX_AGE: Duration = Duration::from_secs(30);
/// Entries kept at most per map; when full, the map starts over.
const MAX_ENTRIES: usize = 10_000;

/// This node's cached sessions (by the hash of their cookie), memberships
/// (by user) and settings (by key, as stored).
#[derive(Debug)]
pub struct NodeCache {
    sessions: GenerationMap<String, Arc<SessionWithUser>>,
    memberships: GenerationMap<i64, Arc<[Membership]>>,
    settings: GenerationMap<&'static str, Option<Arc<str>>>,
    help_center_searches: GenerationMap<(Lang, String, i64), Arc<SearchPage>>,
}

/// Help Center result pages kept at most: a page holds up to ten results
/// with their snippets, a few kilobytes.
const MAX_SEARCH_PAGES: usize = 500;

impl Default for NodeCache {
    fn default() -> Self {
        Self {
            sessions: GenerationMap::new(MAX_AGE, MAX_ENTRIES),
            memberships: GenerationMap::new(MAX_AGE, MAX_ENTRIES),
            settings: GenerationMap::new(MAX_AGE, MAX_ENTRIES),
            help_center_searches: GenerationMap::new(MAX_AGE, MAX_SEARCH_PAGES),
        }
    }
}

/// The generation to cache at, or `None` when nothing may be reused.
fn generation(state: &AppState) -> Option<u64> {
    state
        .hub
        .cache_generation(matches!(state.db, Db::Postgres(..)))
}

/// The session row for `id_hash` with its user: cached, or read (and
/// cached). `fresh` skips the cache.
pub(super) async fn session(
    state: &AppState,
    id_hash: &str,
    fresh: bool,
) -> Result<Option<Arc<SessionWithUser>>, StoreError> {
    let generation = generation(state);
    if !fresh
        && let Some(g) = generation
        && let Some(row) = state.node_cache.sessions.get(id_hash, g)
    {
        return Ok(Some(row));
    }
    let row = store::sessions::find_with_user(&state.db, id_hash)
        .await?
        .map(Arc::new);
    match (&row, generation) {
        (Some(row), Some(g)) => {
            state
                .node_cache
                .sessions
                .put(id_hash.to_owned(), Arc::clone(row), g);
        }
        _ => state.node_cache.sessions.remove(id_hash),
    }
    Ok(row)
}

/// Records that this node wrote the session's activity time.
pub(super) fn touched(state: &AppState, id_hash: &str, at: Ts) {
    state.node_cache.sessions.update(id_hash, |row| {
        Arc::make_mut(row).last_seen_at = at;
    });
}

/// Forgets a session this node ended.
pub(super) fn forget_session(state: &AppState, id_hash: &str) {
    state.node_cache.sessions.remove(id_hash);
}

/// The organizations `user` belongs to, by name (as
/// `store::users::memberships`), cached.
pub async fn memberships(state: &AppState, user: UserId) -> Result<Vec<Membership>, StoreError> {
    let generation = generation(state);
    if let Some(g) = generation
        && let Some(list) = state.node_cache.memberships.get(&user.0, g)
    {
        return Ok(list.to_vec());
    }
    let list = store::users::memberships(&state.db, user).await?;
    if let Some(g) = generation {
        state
            .node_cache
            .memberships
            .put(user.0, Arc::from(list.as_slice()), g);
    }
    Ok(list)
}

/// The setting `key` (one the PostgreSQL triggers of migration 0013 watch:
/// business hours, automations), cached.
pub async fn setting<T: DeserializeOwned>(
    state: &AppState,
    key: &'static str,
) -> Result<Option<T>, StoreError> {
    let generation = generation(state);
    let cached = generation.and_then(|g| state.node_cache.settings.get(&key, g));
    let raw = if let Some(raw) = cached {
        raw
    } else {
        let raw = store::settings::get_raw(&state.db, key)
            .await?
            .map(Arc::from);
        if let Some(g) = generation {
            state.node_cache.settings.put(key, raw.clone(), g);
        }
        raw
    };
    raw.map(|v| serde_json::from_str(&v).map_err(|e| StoreError::Other(e.into())))
        .transpose()
}

/// A page of Help Center search results for (language, cleaned query, page
/// number): cached, or computed by `search` (and cached). The results are
/// the same for every visitor: only published articles, chosen by
/// language. Any write request on this node and, on PostgreSQL, any change
/// to the Help Center's tables on any node (triggers of migration 0018)
/// drops them.
pub(super) async fn help_center_search<E>(
    state: &AppState,
    key: (Lang, String, i64),
    search: impl AsyncFnOnce() -> Result<SearchPage, E>,
) -> Result<Arc<SearchPage>, E> {
    let generation = generation(state);
    if let Some(g) = generation
        && let Some(page) = state.node_cache.help_center_searches.get(&key, g)
    {
        return Ok(page);
    }
    let page = Arc::new(search().await?);
    if let Some(g) = generation {
        state
            .node_cache
            .help_center_searches
            .put(key, Arc::clone(&page), g);
    }
    Ok(page)
}
