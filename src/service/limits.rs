//! Per-user limits on the actions that write rows and queue e-mail for
//! someone else to read: contact requests and replies. The
//! counters live in the database (`store::security::count_hit`), so every
//! node and every parallel request shares them.

use jiff::SignedDuration;

use crate::{
    AppState,
    config::Config,
    domain::UserId,
    store::{self, StoreError},
};

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A contact request on any ticket.
    ContactRequest,
    /// A public reply from the portal or the widget.
    Message,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::ContactRequest => "contact_request",
            Action::Message => "message",
        }
    }

    /// How many are allowed, and within how long.
    fn limit(self, config: &Config) -> (u32, SignedDuration) {
        match self {
            Action::ContactRequest => (
                config.contact_request_max_per_hour,
                SignedDuration::from_hours(1),
            ),
            Action::Message => (config.message_max_per_minute, SignedDuration::from_mins(1)),
        }
    }
}

/// Refused by a limit, or the counter could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// Over the limit: try again after this long.
    #[error("too many requests")]
    Exceeded { retry_after: SignedDuration },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts one `action` of `user`, refusing it when the user already used up
/// the limit of the current window. Call it after the input was checked and
/// before anything is written: a refused action writes nothing.
pub async fn take(state: &AppState, user: UserId, action: Action) -> Result<(), LimitError> {
    let (max, window) = action.limit(&state.config);
    let now = state.clock.now();
    let key = format!("{}:{}", action.name(), user.0);
    let (hits, window_end) = store::security::count_hit(&state.db, &key, now, now + window).await?;
    if hits > i64::from(max) {
        tracing::info!(user = %user, action = action.name(), "rate limit reached");
        return Err(LimitError::Exceeded {
            retry_after: window_end.duration_since(now),
        });
    }
    Ok(())
}

/// Whole seconds to send in `Retry-After`: rounded up, at least one.
pub fn retry_after_secs(wait: SignedDuration) -> i64 {
    let secs = wait.as_secs() + i64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(SignedDuration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(SignedDuration::ZERO), 1);
        assert_eq!(retry_after_secs(SignedDuration::from_secs(60)), 60);
        assert_eq!(retry_after_secs(SignedDuration::from_millis(59_001)), 60);
    }
}
