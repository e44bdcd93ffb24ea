//! The triage timeout: an unfinished triage left without an answer for the
//! configured time becomes a ticket in *Abandono na Triagem* (see
//! `service::triage::abandon_stale`, which owns the rule).

use crate::{AppState, service, store::StoreError};

/// The lease name of this job.
pub const NAME: &str = "triage_timeout";

/// One sweep; returns how many sessions this call abandoned.
pub async fn run(state: &AppState) -> Result<usize, StoreError> {
    service::triage::abandon_stale(state).await
}
