//! The clock every use case reads "now" from.
//!
//! SQL never calls `now()`: times come from here so tests can move time
//! (session expiry, SSO token freshness, rate-limit windows) exactly.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// Wall clock, or a clock that tests set and advance.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<Timestamp>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that stays at `at` until moved with [`Clock::advance`] or [`Clock::set`].
    pub fn fixed(at: Timestamp) -> Self {
        Self {
            fixed: Some(Arc::new(Mutex::new(truncate_micros(at)))),
        }
    }

    /// Now, truncated to whole microseconds: PostgreSQL keeps microseconds,
    /// so a finer value would not compare equal after a round trip.
    pub fn now(&self) -> Timestamp {
        match &self.fixed {
            Some(at) => *at.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            None => truncate_micros(Timestamp::now()),
        }
    }

    /// Moves a fixed clock forward; the system clock cannot be moved.
    pub fn advance(&self, by: SignedDuration) {
        if let Some(at) = &self.fixed {
            let mut at = at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *at = truncate_micros(at.saturating_add(by).unwrap_or(*at));
        }
    }

    /// Sets a fixed clock; the system clock cannot be set.
    pub fn set(&self, to: Timestamp) {
        if let Some(at) = &self.fixed {
            *at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = truncate_micros(to);
        }
    }
}

/// Drops sub-microsecond precision.
pub fn truncate_micros(at: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
}
