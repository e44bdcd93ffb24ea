//! Auto-solve and its reminder. A ticket in *Aguardando Sua Resposta* is due
//! `auto_solve_business_days` business days after it entered that status
//! (the same wall-clock time, under the business calendar in force) and then
//! becomes *Solucionado* by the system; `reminder_business_days_before`
//! business days before that, the customer is reminded once per stay (a
//! `ReminderSent` ticket event, from which the mailer sends the e-mail).
//!
//! Each entry into the status starts a new stay, so a customer's reply
//! (which moves the ticket to *Em Tratativa*) and a later return to
//! *Aguardando Sua Resposta* restart the deadline and allow a new reminder.

use jiff::{SignedDuration, Timestamp};

use crate::{
    AppState,
    domain::{ActorKind, BusinessCalendar, TicketId, TicketStatus},
    service::{automations, calendar},
    store::{self, StoreError, jobs::AwaitingStay, tickets::Actor},
};

/// The lease name of this job.
pub const NAME: &str = "auto_solve";

const BATCH: i64 = 500;

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub reminded: usize,
    pub solved: usize,
}

/// When a stay is due for its reminder and for auto-solve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    pub remind_at: Timestamp,
    pub solve_at: Timestamp,
}

/// The deadlines of a stay that began at `entered_at`; `None` when the
/// calendar has no working hours (nothing is ever due then).
pub fn deadlines(
    calendar: &BusinessCalendar,
    settings: &automations::AutomationSettings,
    entered_at: Timestamp,
) -> Option<Deadlines> {
    Some(Deadlines {
        remind_at: calendar
            .add_business_days(entered_at, settings.reminder_after_business_days())?,
        solve_at: calendar.add_business_days(entered_at, settings.auto_solve_business_days)?,
    })
}

/// One sweep over the tickets awaiting the customer's reply.
pub async fn run(state: &AppState) -> Result<Outcome, StoreError> {
    let settings = automations::load(state).await?;
    let calendar = calendar::business_calendar(state).await?;
    // One "now" per sweep: a long sweep only acts a little late, never early.
    let now = state.clock.now();
    // No stay can be due for anything before this many calendar days have
    // passed (a business day is a later date at the same wall-clock time;
    // two hours spare a DST change), so younger stays are not even read.
    let days = i64::from(settings.reminder_after_business_days());
    let entered_by = now
        .checked_sub(SignedDuration::from_hours(24 * days - 2))
        .unwrap_or(Timestamp::MIN);
    let mut outcome = Outcome::default();
    let mut after = TicketId(0);
    loop {
        let stays = store::jobs::awaiting_reply(&state.db, entered_by, after, BATCH).await?;
        for stay in &stays {
            after = stay.ticket_id;
            let Some(due) = deadlines(&calendar, &settings, stay.entered_at.0) else {
                continue;
            };
            if now >= due.solve_at {
                if solve(state, stay, now).await? {
                    outcome.solved += 1;
                }
            } else if now >= due.remind_at
                && !stay.reminded
                && store::jobs::remind(&state.db, stay, due.solve_at, now).await?
            {
                outcome.reminded += 1;
            }
        }
        if stays.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(outcome);
        }
    }
}

/// Moves the ticket to *Solucionado* as the system. A conflict means another
/// node or a person changed it first: nothing to do.
async fn solve(state: &AppState, stay: &AwaitingStay, now: Timestamp) -> Result<bool, StoreError> {
    let result = store::tickets::change_status(
        &state.db,
        stay.ticket_id,
        TicketStatus::AwaitingReply,
        TicketStatus::Solved,
        Actor {
            kind: ActorKind::System,
            user: None,
        },
        now,
    )
    .await;
    match result {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(error) => Err(error),
    }
}
