//! The triage timeout: an unfinished triage left without an answer for the
//! configured time becomes a ticket in *Abandono na Triagem* (see
//! `service::triage::abandon_stale`, which owns the rule). At half the
//! timeout it gets its one reminder first (`triage_reminder`).

use crate::{AppState, jobs::triage_reminder, service, store::StoreError};

/// The lease name of this job.
pub const NAME: &str = "triage_timeout";

/// One sweep: reminds the sessions idle for half the timeout, then abandons
/// the timed-out ones; returns how many sessions this call abandoned.
pub async fn run(state: &AppState) -> Result<usize, StoreError> {
    let reminded = triage_reminder::run(state).await;
    let abandoned = service::triage::abandon_stale(state).await;
    let reminded = reminded?;
    if reminded > 0 {
        tracing::info!(reminded, "triage reminders sent");
    }
    abandoned
}
