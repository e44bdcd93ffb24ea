//! E-mail notifications: composed from ticket events, delivered over SMTP.
//!
//! Two steps, both safe to run on every node at once:
//!
//! 1. **Compose** ([`compose_once`]). Every change appends a ticket event in
//!    its own transaction (`store::events`), so the event log is the
//!    transactional outbox of the change itself. The composer reads the
//!    events after its cursor, decides who is told what, renders each
//!    message in the recipient's language, and stores the messages in
//!    `mail_outbox` together with the advanced cursor, in one transaction.
//!    The cursor only moves from the value the composer read, so two nodes
//!    cannot both compose the same events, and the outbox's unique key
//!    (event, recipient, template) keeps one row per message even if they
//!    did. Without a cursor (the first run) it starts at the newest event:
//!    history, such as demo data, is never mailed.
//! 2. **Deliver** ([`deliver_once`]). The worker leases due pending rows
//!    (PostgreSQL `for update skip locked`; SQLite one `update … returning`),
//!    sends each over SMTP, and marks it sent. A failure counts an attempt
//!    and waits 1, 2, 4 … minutes (at most an hour) before the next; after
//!    10 attempts the row is `failed` with its last error. Without
//!    `smtp_url` nothing is sent and rows stay pending, so nothing is lost
//!    while SMTP is unset or down.
//!
//! **Delivery guarantee: at least once.** A message is marked sent only
//! after the SMTP server accepted it. If a node dies (or loses the
//! database) after that acceptance and before the mark, the row's lease
//! runs out ([`LEASE`]) and another node sends it again. SMTP gives no way
//! to close that window: the server's acceptance and our write cannot be
//! one transaction. The duplicate carries the same Message-ID,
//! `<outbox-{id}@{host of base_url}>`, derived from the outbox row, so
//! receivers that de-duplicate by Message-ID show it once. Apart from that
//! window, no message is sent twice: a row is leased to one worker at a
//! time, and a worker gives back what it has not started when half its
//! lease has passed.
//!
//! This module reads the store and the catalog; it knows nothing of HTTP.

mod compose;
mod deliver;

use std::time::Duration;

pub use compose::compose_once;
pub use deliver::{LEASE, MAX_ATTEMPTS, Mailer, backoff};

use crate::{AppState, store::StoreError};

/// What can stop a composing or delivery run. A failed send is not one of
/// them: it is recorded on its row and retried.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The value is not repeated: it may hold a password.
    #[error("smtp_url is not a usable SMTP URL")]
    SmtpUrl,
    #[error("mail_from is not an e-mail address such as Suporte <suporte@example.com>")]
    MailFrom,
}

/// What one delivery run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Rows leased by this run.
    pub claimed: usize,
    /// Accepted by the SMTP server.
    pub sent: usize,
    /// Failed this time; another attempt is scheduled.
    pub retrying: usize,
    /// Given up: attempts exhausted, or the message cannot be built.
    pub failed: usize,
    /// Leased but not attempted (the run ran out of time); due again.
    pub released: usize,
}

/// The outbox at a glance, for the admin page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxStatus {
    pub pending: i64,
    pub failed: i64,
    pub sent: i64,
    /// Whether an SMTP server is configured; without one, pending messages
    /// wait until it is.
    pub smtp_configured: bool,
}

/// Sends the due messages once, leasing them to `holder` (a name unique to
/// this worker). Sends nothing when SMTP is not configured.
pub async fn deliver_once(state: &AppState, holder: &str) -> Result<DeliveryReport, MailError> {
    match Mailer::from_config(&state.config)? {
        Some(mailer) => mailer.deliver(state, holder).await,
        None => Ok(DeliveryReport::default()),
    }
}

/// Counts by state, and whether SMTP is configured.
pub async fn outbox_status(state: &AppState) -> Result<OutboxStatus, MailError> {
    let counts = crate::store::mail::counts(&state.db).await?;
    Ok(OutboxStatus {
        pending: counts.pending,
        failed: counts.failed,
        sent: counts.sent,
        smtp_configured: state.config.smtp_url.is_some(),
    })
}

/// Starts the mail loop of this node: compose, then deliver, every few
/// seconds (`jobs_interval_secs`, at most 5 s apart so a reply's mail
/// leaves promptly).
pub fn spawn(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move { run(state).await });
}

async fn run(state: AppState) {
    let holder = format!(
        "node-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let mailer = match Mailer::from_config(&state.config) {
        Ok(Some(mailer)) => Some(mailer),
        Ok(None) => {
            tracing::info!("smtp_url is not set: e-mail notifications wait in the outbox");
            None
        }
        Err(error) => {
            tracing::error!(%error, "e-mail notifications wait in the outbox");
            None
        }
    };
    let every = Duration::from_secs(u64::from(state.config.jobs_interval_secs.clamp(1, 5)));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = compose_once(&state).await {
            tracing::warn!(%error, "composing e-mail notifications failed; will retry");
        }
        if let Some(mailer) = &mailer
            && let Err(error) = mailer.deliver(&state, &holder).await
        {
            tracing::warn!(%error, "delivering e-mail notifications failed; will retry");
        }
    }
}
