//! Counts shown next to filters and queues (tickets per status, per queue)
//! are the most expensive part of a list page on a large help desk: one
//! count walks every matching ticket, a hundred thousand for a large
//! organization. They are kept here per query, and stay valid while the
//! node's data generation (`realtime::Hub::generation`) is the one they
//! were computed at: any write on this node, and any event from another
//! node, makes every count be computed again on its next use. A time limit
//! covers writes that bypass both (a command-line tool on the database).
//!
//! The key is the whole query (viewer included), so a count is only ever
//! served to the query it was computed for.

use std::{
    collections::HashMap,
    fmt::Debug,
    hash::Hash,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// Beyond this a count is computed again even with no write seen.
const MAX_AGE: Duration = Duration::from_mins(1);
/// Entries kept at most; when full, the cache starts over.
const MAX_ENTRIES: usize = 20_000;

#[derive(Debug)]
struct Entry<V> {
    generation: u64,
    at: Instant,
    value: V,
}

/// Values by key, each valid while the generation it was read at is
/// current and for at most `max_age`; when `max_entries` are kept, the map
/// starts over. Read the generation before reading the value: a write that
/// lands meanwhile moves it on, so the value is not reused.
#[derive(Debug)]
pub(crate) struct GenerationMap<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    max_age: Duration,
    max_entries: usize,
}

impl<K, V> GenerationMap<K, V> {
    pub(crate) fn new(max_age: Duration, max_entries: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_age,
            max_entries,
        }
    }
}

impl<K: Eq + Hash, V: Clone> GenerationMap<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Entry<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value read at `generation`, unless too old.
    pub(crate) fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock()
            .get(key)
            .filter(|e| e.generation == generation && e.at.elapsed() < self.max_age)
            .map(|e| e.value.clone())
    }

    pub(crate) fn put(&self, key: K, value: V, generation: u64) {
        let mut entries = self.lock();
        if entries.len() >= self.max_entries {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                generation,
                at: Instant::now(),
                value,
            },
        );
    }

    /// Changes a kept value in place (keeping its generation and age).
    pub(crate) fn update<Q>(&self, key: &Q, change: impl FnOnce(&mut V))
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Some(entry) = self.lock().get_mut(key) {
            change(&mut entry.value);
        }
    }

    pub(crate) fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().remove(key);
    }
}

/// Counts by query.
#[derive(Debug)]
pub struct CountCache<V> {
    entries: GenerationMap<String, V>,
    /// One computation per key at a time: requests that miss together wait
    /// for the first one's result instead of all counting the same tickets.
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl<V> Default for CountCache<V> {
    fn default() -> Self {
        Self {
            entries: GenerationMap::new(MAX_AGE, MAX_ENTRIES),
            computing: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> CountCache<V> {
    /// The value for `key` computed at `generation`, or computes it. Read
    /// the generation before computing: a write that lands meanwhile moves
    /// it on, so the value is not reused.
    pub async fn get_or_compute<E, F>(
        &self,
        key: String,
        generation: u64,
        compute: F,
    ) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        if let Some(value) = self.get(&key, generation) {
            return Ok(value);
        }
        let turn = {
            let mut computing = self
                .computing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if computing.len() >= MAX_ENTRIES {
                computing.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            Arc::clone(computing.entry(key.clone()).or_default())
        };
        let _turn = turn.lock().await;
        // Whoever held the turn may have just computed it.
        if let Some(value) = self.get(&key, generation) {
            return Ok(value);
        }
        let value = compute.await?;
        self.entries.put(key, value.clone(), generation);
        Ok(value)
    }

    fn get(&self, key: &str, generation: u64) -> Option<V> {
        self.entries.get(key, generation)
    }
}

/// The cache key of a query: its `Debug` form, which names every field.
pub fn key_of(query: &impl Debug) -> String {
    format!("{query:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_reused_only_at_its_generation() {
        let map: GenerationMap<i64, i64> = GenerationMap::new(MAX_AGE, 10);
        map.put(1, 10, 5);
        assert_eq!(map.get(&1, 5), Some(10));
        assert_eq!(map.get(&1, 6), None);
        map.update(&1, |v| *v = 11);
        assert_eq!(map.get(&1, 5), Some(11));
        map.remove(&1);
        assert_eq!(map.get(&1, 5), None);
    }

    #[test]
    fn a_full_map_starts_over() {
        let map: GenerationMap<usize, usize> = GenerationMap::new(MAX_AGE, 10);
        for i in 0..10 {
            map.put(i, i, 0);
        }
        map.put(10, 0, 0);
        assert_eq!(map.get(&0, 0), None);
        assert_eq!(map.get(&10, 0), Some(0));
    }

    #[tokio::test]
    async fn a_count_is_reused_only_at_the_same_generation() {
        let cache = CountCache::<i64>::default();
        let computed = |n: i64| async move { Ok::<_, ()>(n) };
        assert_eq!(
            cache.get_or_compute("q".into(), 1, computed(10)).await,
            Ok(10)
        );
        assert_eq!(
            cache.get_or_compute("q".into(), 1, computed(11)).await,
            Ok(10)
        );
        assert_eq!(
            cache.get_or_compute("q".into(), 2, computed(12)).await,
            Ok(12)
        );
        assert_eq!(
            cache.get_or_compute("other".into(), 2, computed(13)).await,
            Ok(13)
        );
        assert_eq!(
            cache.get_or_compute("q".into(), 2, computed(14)).await,
            Ok(12)
        );
    }

    #[tokio::test]
    async fn requests_that_miss_together_count_once() {
        let cache = Arc::new(CountCache::<i64>::default());
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut waiting = Vec::new();
        for _ in 0..8 {
            let (cache, runs) = (Arc::clone(&cache), Arc::clone(&runs));
            waiting.push(tokio::spawn(async move {
                cache
                    .get_or_compute("q".into(), 1, async {
                        runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(42)
                    })
                    .await
            }));
        }
        for task in waiting {
            assert_eq!(task.await.expect("the request finished"), Ok(42));
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_count_is_not_kept() {
        let cache = CountCache::<i64>::default();
        assert_eq!(
            cache
                .get_or_compute("q".into(), 1, async { Err::<i64, _>("down") })
                .await,
            Err("down")
        );
        assert_eq!(
            cache
                .get_or_compute("q".into(), 1, async { Ok::<_, &str>(3) })
                .await,
            Ok(3)
        );
    }
}
