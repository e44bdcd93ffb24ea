//! Contact requests: a customer asks the support team to get back to them.

use jiff::Timestamp;
use sqlx::FromRow;

use serde_json::json;

use super::{
    Db, StoreError, Ts, WritePool,
    events::{self, EventKind},
};
use crate::{
    domain::{ActorKind, TicketId, UserId},
    with_db,
};

/// A contact request as the customer sees it.
#[derive(Clone, Debug, FromRow, serde::Deserialize)]
pub struct ContactRequest {
    pub id: i64,
    pub channel: String,
    pub phone: String,
    pub preferred_window: String,
    pub message: String,
    pub state: String,
    pub created_at: Ts,
    pub handled_at: Option<Ts>,
}

crate::lane_row!(ContactRequest {
    id,
    channel,
    phone,
    preferred_window,
    message,
    state,
    created_at,
    handled_at
});

/// What the form collects.
#[derive(Clone, Debug)]
pub struct NewContactRequest<'a> {
    pub ticket: TicketId,
    pub requester: UserId,
    pub channel: &'a str,
    pub phone: &'a str,
    pub preferred_window: &'a str,
    pub message: &'a str,
}

/// Records a request and bumps the ticket's update time.
pub async fn create(
    db: &Db,
    request: &NewContactRequest<'_>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "insert into contact_requests (ticket_id, requester_id, channel, phone, preferred_window, message, state, created_at) \
             values ($1, $2, $3, $4, $5, $6, 'open', $7) returning id",
        )
        .bind(request.ticket.0)
        .bind(request.requester.0)
        .bind(request.channel)
        .bind(request.phone)
        .bind(request.preferred_window)
        .bind(request.message)
        .bind(Ts(now))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("update tickets set updated_at = $1 where id = $2")
            .bind(Ts(now))
            .bind(request.ticket.0)
            .execute(&mut *tx)
            .await?;
        events::append(
            &mut tx,
            request.ticket.0,
            EventKind::ContactRequested,
            events::actor(ActorKind::Customer, Some(request.requester)),
            now,
            json!({ "contact_request_id": id }),
        )
        .await?;
        tx.commit().await?;
        id
    }))
}

/// The ticket's contact requests, oldest first.
pub(crate) const FOR_TICKET: &str = "select id, channel, phone, preferred_window, message, state, created_at, handled_at \
     from contact_requests where ticket_id = $1 order by created_at, id";

pub async fn for_ticket(db: &Db, ticket: TicketId) -> Result<Vec<ContactRequest>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, ContactRequest>(FOR_TICKET)
            .bind(ticket.0)
            .fetch_all(pool)
            .await?
    }))
}

/// Marks an open request handled by an agent, with a note. `NotFound` when
/// there is no such open request.
pub async fn mark_handled(
    db: &Db,
    id: i64,
    by: UserId,
    note: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let ticket: Option<i64> = sqlx::query_scalar(
            "update contact_requests set state = 'handled', handled_at = $1, handled_by = $2, handled_note = $3 \
             where id = $4 and state = 'open' returning ticket_id",
        )
        .bind(Ts(now))
        .bind(by.0)
        .bind(note)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(ticket) = ticket else {
            return Err(StoreError::NotFound);
        };
        events::append(
            &mut tx,
            ticket,
            EventKind::ContactHandled,
            events::actor(ActorKind::Agent, Some(by)),
            now,
            json!({ "contact_request_id": id }),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}
