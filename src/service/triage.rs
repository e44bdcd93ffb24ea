//! Triage: a customer's new ticket while the mandatory initial questions are
//! being answered, in the chat widget or on any other surface. Completing it
//! opens the ticket as *Enviado*; leaving it without an answer for the
//! triage timeout turns it into a ticket in *Abandono na Triagem*, which the
//! timeout job does (`abandon_stale`) so it stays in the customer's history.
//!
//! A session is its customer's only: for anyone else it does not exist.
//! Once the timeout has passed, a session takes no more answers even before
//! the job runs, so the edge is exact whatever the job's interval.

use std::collections::BTreeMap;

use crate::{
    AppState,
    domain::{OrgId, TicketId, TicketType, UserId},
    service::automations,
    store::{
        self, StoreError,
        jobs::{TriageTicket, TriageWrite},
        tickets::StoredFile,
    },
};

pub use crate::store::jobs::{TriageSessionId, TriageState};

/// Surfaces a triage may come from (the tickets' `channel` values that a
/// customer uses).
pub const CHANNELS: [&str; 5] = ["widget", "portal", "email", "api", "phone"];

const MAX_KEY: usize = 64;
const MAX_ANSWER: usize = 20_000;
const MAX_SUBJECT: usize = 200;
const MAX_ANSWERS: usize = 50;

/// A failure of a triage use case.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// Missing, or not the caller's.
    #[error("not found")]
    NotFound,
    /// Completed, abandoned or timed out: start a new one.
    #[error("the triage is closed")]
    Closed,
    /// (field, message key) pairs to show next to the questions.
    #[error("invalid input")]
    Invalid(Vec<(&'static str, &'static str)>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] crate::blob::BlobError),
}

/// A session as its customer sees it.
#[derive(Clone, Debug)]
pub struct Triage {
    pub id: TriageSessionId,
    pub organization: Option<OrgId>,
    pub channel: String,
    pub answers: BTreeMap<String, String>,
    pub state: TriageState,
    /// The ticket it became, once completed or abandoned.
    pub ticket: Option<TicketId>,
}

/// Checks that `organization` is one of the user's.
async fn check_organization(
    state: &AppState,
    user: UserId,
    organization: Option<OrgId>,
) -> Result<(), TriageError> {
    if let Some(org) = organization {
        let memberships = store::users::memberships(&state.db, user).await?;
        if !memberships.iter().any(|m| m.organization_id == org) {
            return Err(TriageError::Invalid(vec![(
                "organization",
                "form.choose_one",
            )]));
        }
    }
    Ok(())
}

/// Starts a triage for `user` on `channel`, optionally already in one of
/// their organizations.
pub async fn start(
    state: &AppState,
    user: UserId,
    organization: Option<OrgId>,
    channel: &str,
) -> Result<TriageSessionId, TriageError> {
    if !CHANNELS.contains(&channel) {
        return Err(TriageError::Invalid(vec![("channel", "form.choose_one")]));
    }
    check_organization(state, user, organization).await?;
    Ok(
        store::jobs::create_triage(&state.db, user, organization, channel, state.clock.now())
            .await?,
    )
}

/// The viewer's session, or `NotFound`.
pub async fn find(
    state: &AppState,
    viewer: UserId,
    id: TriageSessionId,
) -> Result<Triage, TriageError> {
    let session = store::jobs::find_triage(&state.db, id)
        .await?
        .filter(|s| s.user_id == viewer)
        .ok_or(TriageError::NotFound)?;
    Ok(Triage {
        id,
        organization: session.organization_id.map(OrgId),
        state: session.state(),
        ticket: session.ticket_id.map(TicketId),
        channel: session.channel,
        answers: session.answers.0,
    })
}

/// The instant before which (inclusive) a session's last activity means it
/// timed out.
async fn expired_at(state: &AppState) -> Result<jiff::Timestamp, StoreError> {
    let settings = automations::load(state).await?;
    Ok(state
        .clock
        .now()
        .saturating_sub(settings.triage_timeout())
        .unwrap_or(jiff::Timestamp::MIN))
}

fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}

/// Records the answer to one question (replacing an earlier one) and counts
/// as activity for the timeout.
pub async fn answer(
    state: &AppState,
    viewer: UserId,
    id: TriageSessionId,
    key: &str,
    value: &str,
) -> Result<(), TriageError> {
    let session = find(state, viewer, id).await?;
    if session.state != TriageState::Open {
        return Err(TriageError::Closed);
    }
    let key_ok = !key.is_empty()
        && key.len() <= MAX_KEY
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !key_ok {
        return Err(TriageError::Invalid(vec![("key", "form.choose_one")]));
    }
    if !session.answers.contains_key(key) && session.answers.len() >= MAX_ANSWERS {
        return Err(TriageError::Invalid(vec![("key", "form.too_long")]));
    }
    let value = without_nul(value);
    let value = value.trim();
    if value.chars().count() > MAX_ANSWER {
        return Err(TriageError::Invalid(vec![(
            if key == "subject" { "subject" } else { "value" },
            "form.too_long",
        )]));
    }
    if key == "organization" {
        let org = value
            .parse::<i64>()
            .map_err(|_| TriageError::Invalid(vec![("organization", "form.choose_one")]))?;
        check_organization(state, viewer, Some(OrgId(org))).await?;
    }
    let expired_at = expired_at(state).await?;
    match store::jobs::answer_triage(&state.db, id, key, value, expired_at, state.clock.now())
        .await?
    {
        TriageWrite::Done(()) => Ok(()),
        TriageWrite::Closed => Err(TriageError::Closed),
    }
}

/// The answers that open the ticket.
#[derive(Clone, Debug)]
pub struct Completion<'a> {
    pub subject: &'a str,
    pub description: &'a str,
    pub ticket_type: Option<TicketType>,
    /// Required when the customer belongs to several organizations; with
    /// one, that one; `None` falls back to the session's.
    pub organization: Option<OrgId>,
}

/// Opens the ticket as *Enviado* from the completed answers and links it to
/// the session, in one transaction. A session already completed, abandoned
/// or timed out answers `Closed`.
pub async fn complete(
    state: &AppState,
    viewer: UserId,
    id: TriageSessionId,
    completion: &Completion<'_>,
) -> Result<TicketId, TriageError> {
    complete_with_files(state, viewer, id, completion, &[]).await
}

/// [`complete`] with files attached to the ticket's description. The files
/// are already in the blob store; their rows go into the completing
/// transaction. The caller owns the files: it keeps them when this returns
/// `Ok` and deletes them otherwise, so nothing is left half-written. Callers
/// check the upload limits (`portal::check_uploads`).
pub async fn complete_with_files(
    state: &AppState,
    viewer: UserId,
    id: TriageSessionId,
    completion: &Completion<'_>,
    files: &[StoredFile],
) -> Result<TicketId, TriageError> {
    let session = find(state, viewer, id).await?;
    if session.state != TriageState::Open {
        return Err(TriageError::Closed);
    }
    let mut errors = Vec::new();
    let memberships = store::users::memberships(&state.db, viewer).await?;
    let organization = match (
        completion.organization.or(session.organization),
        &memberships[..],
    ) {
        (Some(org), several) if several.iter().any(|m| m.organization_id == org) => Some(org),
        (None, []) => None,
        (None, [only]) => Some(only.organization_id),
        _ => {
            errors.push(("organization", "form.choose_one"));
            None
        }
    };
    if completion.ticket_type.is_none() {
        errors.push(("ticket_type", "form.choose_one"));
    }
    let subject = without_nul(completion.subject);
    let subject = subject.trim();
    if subject.is_empty() {
        errors.push(("subject", "form.required"));
    } else if subject.chars().count() > MAX_SUBJECT {
        errors.push(("subject", "form.too_long"));
    }
    let description = without_nul(completion.description);
    let description = description.trim();
    if description.is_empty() {
        errors.push(("description", "form.required"));
    } else if description.chars().count() > MAX_ANSWER {
        errors.push(("description", "form.too_long"));
    }
    if !errors.is_empty() {
        return Err(TriageError::Invalid(errors));
    }
    let expired_at = expired_at(state).await?;
    let result = store::jobs::complete_triage(
        &state.db,
        id,
        &TriageTicket {
            subject,
            description,
            ticket_type: completion.ticket_type.unwrap_or(TicketType::Support),
            organization,
            files,
        },
        expired_at,
        state.clock.now(),
    )
    .await;
    match result {
        Ok(TriageWrite::Done(ticket)) => {
            crate::realtime::triage_changed(state, &[id.0], "completed").await;
            Ok(ticket)
        }
        Ok(TriageWrite::Closed) => Err(TriageError::Closed),
        Err(error) => Err(error.into()),
    }
}

/// The timeout job: every open session whose last activity is at least the
/// triage timeout ago becomes a ticket in *Abandono na Triagem*. Returns how
/// many this call turned (another node may have taken some).
pub async fn abandon_stale(state: &AppState) -> Result<usize, StoreError> {
    const BATCH: i64 = 200;
    let expired_at = expired_at(state).await?;
    let mut abandoned = 0;
    loop {
        let batch = store::jobs::stale_triages(&state.db, expired_at, BATCH).await?;
        let mut taken_here = 0;
        for id in &batch {
            let now = state.clock.now();
            if store::jobs::abandon_triage(&state.db, *id, expired_at, now)
                .await?
                .is_some()
            {
                taken_here += 1;
                crate::realtime::triage_changed(state, &[id.0], "abandoned").await;
            }
        }
        abandoned += taken_here;
        // Each batch leaves the candidates (abandoned here or elsewhere), so
        // a short batch is the last.
        if batch.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(abandoned);
        }
    }
}
