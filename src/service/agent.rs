//! The agent workspace's use cases: queues, the ticket as the team sees it
//! (internal notes, every file, the audit trail), replies and notes, status
//! changes, assignment, escalation to Tech, and contact requests.
//!
//! Callers are staff (the web layer's `Staff` extractor guarantees it).
//! Every change carries the ticket `version` the agent looked at: a stale
//! one is `Conflict` and nothing is written, so two agents never silently
//! overwrite each other. Status changes follow `domain::check_transition`
//! for agents.

use std::collections::BTreeMap;

use crate::{
    AppState,
    domain::{self, ActorKind, TicketId, TicketStatus, TimeInStatus, UserId},
    service::{attachments::StagedFiles, portal::PortalError},
    store::{
        self, StoreError,
        agent::{
            AgentAttachment, AgentComment, AgentQuery, AgentTicket, Assignment, Escalation, Named,
            NewAgentComment, OpenContactRequest, Queue, QueueCounts, QueuePage,
            TicketContactRequest, TicketLink,
        },
        events::{EventKind, TicketEvent},
        portal::SortKey,
        tickets::StoredFile,
    },
};

/// The group escalated tickets go to (DESIGN §2: agents are in at least
/// *Suporte* and *Tech*); created on the first escalation if missing.
pub const TECH_GROUP: &str = "Tech";

/// Message length limits, as in the portal.
const MAX_BODY: usize = 20_000;
const MAX_NOTE: usize = 2_000;

/// How many of the requester's and the organization's other tickets the
/// ticket page lists (the rest are one link away, in a filtered queue).
const RELATED_LIMIT: i64 = 10;

/// A failure of a workspace use case.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("not found")]
    NotFound,
    /// Input to show next to the form's fields: (field, message key).
    #[error("invalid input")]
    Invalid(Vec<(&'static str, &'static str)>),
    /// Someone changed the ticket since the agent loaded it.
    #[error("the ticket changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] crate::blob::BlobError),
}

fn store_error(error: StoreError) -> AgentError {
    match error {
        StoreError::Conflict(_) => AgentError::Conflict,
        StoreError::NotFound => AgentError::NotFound,
        other @ StoreError::Other(_) => AgentError::Store(other),
    }
}

/// One page of a queue and every queue's count.
pub async fn queue(
    state: &AppState,
    query: &AgentQuery,
) -> Result<(QueuePage, QueueCounts), AgentError> {
    let page = store::agent::list(&state.db, query).await?;
    // Counts do not depend on the queue shown, its page or its sort.
    let scope = AgentQuery {
        queue: Queue::default(),
        after: None,
        before: None,
        sort: SortKey::default(),
        descending: true,
        limit: 0,
        ..query.clone()
    };
    let generation = state.hub.generation();
    let counts = state
        .queue_counts
        .get_or_compute(
            super::counts::key_of(&scope),
            generation,
            store::agent::queue_counts(&state.db, &scope),
        )
        .await?;
    Ok((page, counts))
}

/// What the queue filters offer.
#[derive(Clone, Debug)]
pub struct FilterChoices {
    pub organizations: Vec<Named>,
    pub groups: Vec<Named>,
    pub agents: Vec<Named>,
    pub open_contact_requests: i64,
}

/// The organizations listed in the filter; beyond this the list would be
/// too long to be a menu.
const ORG_CHOICES: i64 = 500;

pub async fn filter_choices(state: &AppState) -> Result<FilterChoices, AgentError> {
    Ok(FilterChoices {
        organizations: store::agent::organizations(&state.db, ORG_CHOICES).await?,
        groups: store::agent::groups(&state.db).await?,
        agents: store::agent::agents(&state.db).await?,
        open_contact_requests: store::agent::open_contact_request_count(&state.db).await?,
    })
}

/// Everything the agent's ticket page shows.
#[derive(Clone, Debug)]
pub struct TicketWorkspace {
    pub ticket: AgentTicket,
    pub time_in_status: TimeInStatus,
    pub comments: Vec<AgentComment>,
    pub attachments: Vec<AgentAttachment>,
    pub contact_requests: Vec<TicketContactRequest>,
    pub requester_tickets: Vec<TicketLink>,
    pub organization_tickets: Vec<TicketLink>,
    /// The audit trail, oldest first.
    pub events: Vec<TicketEvent>,
    /// Names of the people the audit trail mentions.
    pub people: BTreeMap<i64, String>,
    pub groups: Vec<Named>,
    pub agents: Vec<Named>,
}

impl TicketWorkspace {
    pub fn status(&self) -> TicketStatus {
        self.ticket.status()
    }
}

/// The statuses an agent may move a ticket in `status` to.
pub fn allowed_targets(status: TicketStatus) -> Vec<TicketStatus> {
    TicketStatus::ALL
        .into_iter()
        .filter(|to| domain::check_transition(Some(status), *to, ActorKind::Agent).is_ok())
        .collect()
}

/// The ticket with everything around it, or `NotFound`.
pub async fn ticket(state: &AppState, id: i64) -> Result<TicketWorkspace, AgentError> {
    let ticket = store::agent::find(&state.db, id)
        .await?
        .ok_or(AgentError::NotFound)?;
    let status_events = store::tickets::status_events(&state.db, TicketId(id)).await?;
    let status_events: Vec<domain::StatusEvent> = status_events
        .iter()
        .filter_map(|e| {
            Some(domain::StatusEvent {
                from: e.from_status.as_deref().and_then(TicketStatus::from_key),
                to: TicketStatus::from_key(&e.to_status)?,
                at: e.at.0,
            })
        })
        .collect();
    let time_in_status = domain::time_in_status(
        &status_events,
        state.clock.now(),
        &super::calendar::business_calendar(state).await?,
    );
    let requester_tickets =
        store::agent::requester_tickets(&state.db, ticket.requester_id, id, RELATED_LIMIT).await?;
    let organization_tickets = match ticket.organization_id {
        Some(org) => store::agent::organization_tickets(&state.db, org, id, RELATED_LIMIT).await?,
        None => Vec::new(),
    };
    let events = store::events::for_ticket(&state.db, TicketId(id)).await?;
    let mut mentioned: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    for event in &events {
        if event.kind() == Some(EventKind::AssigneeChanged) {
            for side in ["from", "to"] {
                if let Some(user) = event.data.0.get(side).and_then(serde_json::Value::as_i64) {
                    mentioned.push(user);
                }
            }
        }
    }
    mentioned.sort_unstable();
    mentioned.dedup();
    let people = store::agent::user_names(&state.db, &mentioned)
        .await?
        .into_iter()
        .map(|n| (n.id, n.name))
        .collect();
    Ok(TicketWorkspace {
        comments: store::agent::comments(&state.db, id).await?,
        attachments: store::agent::attachments(&state.db, id).await?,
        contact_requests: store::agent::ticket_contact_requests(&state.db, id).await?,
        requester_tickets,
        organization_tickets,
        events,
        people,
        groups: store::agent::groups(&state.db).await?,
        agents: store::agent::agents(&state.db).await?,
        time_in_status,
        ticket,
    })
}

/// The ticket at the version the agent saw, or why not.
async fn current(state: &AppState, id: i64, version: i64) -> Result<AgentTicket, AgentError> {
    let ticket = store::agent::find(&state.db, id)
        .await?
        .ok_or(AgentError::NotFound)?;
    if ticket.version == version {
        Ok(ticket)
    } else {
        Err(AgentError::Conflict)
    }
}

/// Text as it can be stored: PostgreSQL refuses NUL in text.
fn clean(text: &str) -> String {
    text.replace('\0', "").trim().to_owned()
}

fn check_transition(
    from: TicketStatus,
    to: TicketStatus,
    field: &'static str,
) -> Result<(), AgentError> {
    domain::check_transition(Some(from), to, ActorKind::Agent).map_err(|error| {
        let key = match error {
            domain::TransitionError::Same(_) => "agent.status.same",
            _ => "agent.status.refused",
        };
        AgentError::Invalid(vec![(field, key)])
    })
}

/// A public reply or internal note as the form sends it.
#[derive(Clone, Debug, Default)]
pub struct CommentForm {
    pub version: i64,
    pub body: String,
    pub public: bool,
    /// The status to set in the same change ("send and set …"), if any.
    pub then: Option<TicketStatus>,
}

/// Adds an agent's reply or note with files. The status changes only when
/// the form asks for it (`then`), following the agents' transition rules.
pub async fn comment(
    state: &AppState,
    agent: UserId,
    id: i64,
    form: &CommentForm,
    mut uploads: StagedFiles,
) -> Result<(), AgentError> {
    let result = comment_with_files(state, agent, id, form, uploads.for_write()).await;
    uploads.settle(result.is_ok()).await;
    result
}

async fn comment_with_files(
    state: &AppState,
    agent: UserId,
    id: i64,
    form: &CommentForm,
    files: &[StoredFile],
) -> Result<(), AgentError> {
    let ticket = current(state, id, form.version).await?;
    let body = clean(&form.body);
    let mut errors = Vec::new();
    if body.is_empty() {
        errors.push(("body", "form.required"));
    } else if body.chars().count() > MAX_BODY {
        errors.push(("body", "form.too_long"));
    }
    let from = ticket.status();
    let change = match form.then {
        Some(to) => match check_transition(from, to, "then") {
            Ok(()) => Some((from, to)),
            Err(AgentError::Invalid(mut refused)) => {
                errors.append(&mut refused);
                None
            }
            Err(other) => return Err(other),
        },
        None => None,
    };
    match super::portal::check_uploads(state, files) {
        Ok(()) => {}
        Err(PortalError::Invalid(mut upload_errors)) => errors.append(&mut upload_errors),
        Err(_) => errors.push(("attachments", "form.upload_failed")),
    }
    if !errors.is_empty() {
        return Err(AgentError::Invalid(errors));
    }
    store::agent::add_comment(
        &state.db,
        &NewAgentComment {
            ticket: TicketId(id),
            version: form.version,
            author: agent,
            body: &body,
            public: form.public,
            status: change,
            files,
        },
        state.clock.now(),
    )
    .await
    .map(|_| ())
    .map_err(store_error)
}

/// Moves the ticket to `to` (a status key), if agents may.
pub async fn change_status(
    state: &AppState,
    agent: UserId,
    id: i64,
    version: i64,
    to: &str,
) -> Result<TicketStatus, AgentError> {
    let ticket = current(state, id, version).await?;
    let to = TicketStatus::from_key(to.trim())
        .ok_or_else(|| AgentError::Invalid(vec![("status", "form.choose_one")]))?;
    let from = ticket.status();
    check_transition(from, to, "status")?;
    store::agent::change_status(
        &state.db,
        TicketId(id),
        version,
        from,
        to,
        agent,
        state.clock.now(),
    )
    .await
    .map_err(store_error)?;
    Ok(to)
}

/// Reads a select's value: empty = no one, else an id.
fn parse_choice(value: &str) -> Result<Option<i64>, ()> {
    let value = value.trim();
    if value.is_empty() {
        Ok(None)
    } else {
        value.parse().map(Some).map_err(|_| ())
    }
}

/// Assigns the ticket to an agent (or no one) and a group (or none). Only
/// what differs from the ticket is written; nothing differing writes
/// nothing. Returns whether anything changed.
pub async fn assign(
    state: &AppState,
    agent: UserId,
    id: i64,
    version: i64,
    assignee: &str,
    group: &str,
) -> Result<bool, AgentError> {
    let ticket = current(state, id, version).await?;
    let mut errors = Vec::new();
    let assignee = parse_choice(assignee).unwrap_or_else(|()| {
        errors.push(("assignee", "form.choose_one"));
        ticket.assignee_id
    });
    let group = parse_choice(group).unwrap_or_else(|()| {
        errors.push(("group", "form.choose_one"));
        ticket.group_id
    });
    let mut change = Assignment::default();
    if assignee != ticket.assignee_id {
        // Only staff who may work tickets; a customer's id is refused.
        let agents = store::agent::agents(&state.db).await?;
        if assignee.is_none_or(|a| agents.iter().any(|n| n.id == a)) {
            change.assignee = Some((ticket.assignee_id, assignee));
        } else {
            errors.push(("assignee", "form.choose_one"));
        }
    }
    if group != ticket.group_id {
        let groups = store::agent::groups(&state.db).await?;
        if group.is_none_or(|g| groups.iter().any(|n| n.id == g)) {
            change.group = Some((ticket.group_id, group));
        } else {
            errors.push(("group", "form.choose_one"));
        }
    }
    if !errors.is_empty() {
        return Err(AgentError::Invalid(errors));
    }
    if change.assignee.is_none() && change.group.is_none() {
        return Ok(false);
    }
    store::agent::assign(
        &state.db,
        TicketId(id),
        version,
        change,
        agent,
        state.clock.now(),
    )
    .await
    .map_err(store_error)?;
    Ok(true)
}

/// Escalates to the tech team: status *Em Tratativa com o Time de Tech*,
/// group *Tech* and the required internal note, as one change.
pub async fn escalate(
    state: &AppState,
    agent: UserId,
    id: i64,
    version: i64,
    note: &str,
) -> Result<(), AgentError> {
    let ticket = current(state, id, version).await?;
    let note = clean(note);
    let mut errors = Vec::new();
    if note.is_empty() {
        errors.push(("escalation_note", "agent.escalate.note_required"));
    } else if note.chars().count() > MAX_BODY {
        errors.push(("escalation_note", "form.too_long"));
    }
    let from = ticket.status();
    if let Err(AgentError::Invalid(mut refused)) =
        check_transition(from, TicketStatus::WithTech, "escalation_note")
    {
        errors.append(&mut refused);
    }
    if !errors.is_empty() {
        return Err(AgentError::Invalid(errors));
    }
    store::agent::escalate(
        &state.db,
        &Escalation {
            ticket: TicketId(id),
            version,
            author: agent,
            from_status: from,
            from_group: ticket.group_id,
            group_name: TECH_GROUP,
            note: &note,
        },
        state.clock.now(),
    )
    .await
    .map_err(store_error)?;
    Ok(())
}

/// The open contact requests, longest-waiting first.
pub async fn contact_requests(state: &AppState) -> Result<Vec<OpenContactRequest>, AgentError> {
    Ok(store::agent::open_contact_requests(&state.db, 500).await?)
}

/// Marks a contact request handled with the agent's note; the customer
/// then sees it as *Atendida*. Returns the request's ticket.
pub async fn handle_contact_request(
    state: &AppState,
    agent: UserId,
    id: i64,
    note: &str,
) -> Result<i64, AgentError> {
    let ticket = store::agent::contact_request_ticket(&state.db, id)
        .await?
        .ok_or(AgentError::NotFound)?;
    let note = clean(note);
    if note.is_empty() {
        return Err(AgentError::Invalid(vec![("note", "form.required")]));
    }
    if note.chars().count() > MAX_NOTE {
        return Err(AgentError::Invalid(vec![("note", "form.too_long")]));
    }
    match store::contacts::mark_handled(&state.db, id, agent, &note, state.clock.now()).await {
        Ok(()) => Ok(ticket),
        // It exists (found above), so it is no longer open: someone else
        // handled it first.
        Err(StoreError::NotFound) => Err(AgentError::Invalid(vec![(
            "note",
            "agent.contacts.already_handled",
        )])),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_may_move_working_tickets_anywhere_but_abandoned_triage() {
        assert_eq!(
            allowed_targets(TicketStatus::Sent),
            [
                TicketStatus::InProgress,
                TicketStatus::WithTech,
                TicketStatus::AwaitingReply,
                TicketStatus::Solved
            ]
        );
        assert!(allowed_targets(TicketStatus::AbandonedTriage).is_empty());
    }

    #[test]
    fn select_values_read_as_no_one_or_an_id() {
        assert_eq!(parse_choice(""), Ok(None));
        assert_eq!(parse_choice(" 7 "), Ok(Some(7)));
        assert_eq!(parse_choice("x"), Err(()));
    }
}
