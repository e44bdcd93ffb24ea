//! Background jobs: the ticket lifecycle's automations, safe on many nodes.
//!
//! Every node runs one loop ([`spawn`]) that, every `jobs_interval_secs`,
//! runs each job's sweep ([`run_once`]): the triage timeout, then the
//! auto-solve reminders and auto-solve. A `job_leases` row per job lets one
//! node sweep at a time, which only saves duplicate work: each change a sweep
//! makes is conditional on what it read (see `store::jobs`), so two sweeps
//! racing still change every ticket exactly once. A failed sweep is logged
//! and retried at the next tick. Time comes from the state's clock.

pub mod auto_solve;
pub mod triage_reminder;
pub mod triage_timeout;

use std::time::Duration;

use anyhow::Context;
use jiff::SignedDuration;

use crate::{AppState, store};

/// How long a sweep may hold its lease before another node may take over (a
/// node that dies mid-sweep blocks the job no longer than this). A sweep
/// gives the lease back as soon as it ends.
const LEASE: SignedDuration = SignedDuration::from_mins(5);

/// What one round of sweeps did on this node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobReport {
    /// Triages turned into tickets in *Abandono na Triagem*.
    pub abandoned: usize,
    /// Reminders appended (`ReminderSent` events).
    pub reminded: usize,
    /// Tickets auto-solved.
    pub solved: usize,
}

impl JobReport {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Runs `job` under the lease `name` when this holder can take it; `None`
/// when another holder has it.
async fn leased<T, F>(
    state: &AppState,
    name: &str,
    holder: &str,
    job: F,
) -> anyhow::Result<Option<T>>
where
    F: Future<Output = Result<T, store::StoreError>>,
{
    let now = state.clock.now();
    let until = now.checked_add(LEASE).unwrap_or(now);
    if !store::jobs::claim_lease(&state.db, name, holder, until, now)
        .await
        .with_context(|| format!("claiming the lease of job {name}"))?
    {
        return Ok(None);
    }
    let result = job.await;
    // Given back even when the sweep failed, so the next tick of any node
    // retries at once.
    let released = store::jobs::release_lease(&state.db, name, holder, state.clock.now()).await;
    let value = result.with_context(|| format!("job {name}"))?;
    released.with_context(|| format!("releasing the lease of job {name}"))?;
    Ok(Some(value))
}

/// Runs every job once, each under its lease taken as `holder` (a name
/// unique to the node). Jobs whose lease another holder has are skipped.
/// Every job is attempted even when an earlier one fails; the first failure
/// is returned after all ran.
pub async fn run_once(state: &AppState, holder: &str) -> anyhow::Result<JobReport> {
    let mut report = JobReport::default();
    let abandoned = leased(
        state,
        triage_timeout::NAME,
        holder,
        triage_timeout::run(state),
    )
    .await;
    let awaiting = leased(state, auto_solve::NAME, holder, auto_solve::run(state)).await;
    report.abandoned = abandoned?.unwrap_or_default();
    if let Some(outcome) = awaiting? {
        report.reminded = outcome.reminded;
        report.solved = outcome.solved;
    }
    // What the jobs changed reaches live views and counts at once (a round
    // that changed nothing leaves cached counts alone).
    if !report.is_empty() {
        state.hub.wake();
    }
    Ok(report)
}

/// Starts this node's job loop. Each round runs in its own task, so a panic
/// in a job is logged like an error and the loop goes on.
pub fn spawn(state: &AppState) {
    let state = state.clone();
    let holder = format!("node-{}", uuid::Uuid::new_v4().simple());
    let every = Duration::from_secs(u64::from(state.config.jobs_interval_secs));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let round = tokio::spawn({
                let state = state.clone();
                let holder = holder.clone();
                async move { run_once(&state, &holder).await }
            });
            let outcome = round.await;
            match outcome {
                Ok(Ok(report)) if !report.is_empty() => tracing::info!(
                    abandoned = report.abandoned,
                    reminded = report.reminded,
                    solved = report.solved,
                    "jobs ran"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(error = format!("{error:#}"), "jobs failed; will retry");
                }
                Err(error) => tracing::error!(%error, "a job panicked; will retry"),
            }
        }
    });
}
