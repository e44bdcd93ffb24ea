//! Ticket events: appended with every change, in the same transaction.

use chamado::{
    domain::{ActorKind, Role, TicketStatus, TicketType},
    store::{
        self, StoreError,
        events::EventKind,
        tickets::{Actor, NewTicket},
    },
};
use jiff::SignedDuration;

use crate::support::TestApp;

#[tokio::test]
async fn every_change_appends_its_event_and_a_refused_change_appends_none() {
    let tc = TestApp::new().await;
    let org = tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let ana = tc
        .create_user("ana@padaria.example", Role::Customer, &["org-padaria"])
        .await;
    let agent = tc
        .create_user("fernanda@suporte.example", Role::Agent, &[])
        .await;
    let db = &tc.state.db;
    let id = store::tickets::create(
        db,
        &NewTicket {
            subject: "Erro na nota",
            description: "Falha ao emitir",
            ticket_type: TicketType::Incident,
            organization: Some(org),
            requester: ana,
            channel: "portal",
        },
        Actor {
            kind: ActorKind::Customer,
            user: Some(ana),
        },
        tc.clock.now(),
    )
    .await
    .unwrap();
    tc.clock.advance(SignedDuration::from_mins(5));
    let agent_actor = Actor {
        kind: ActorKind::Agent,
        user: Some(agent),
    };
    store::tickets::change_status(
        db,
        id,
        TicketStatus::Sent,
        TicketStatus::InProgress,
        agent_actor,
        tc.clock.now(),
    )
    .await
    .unwrap();
    store::tickets::add_comment(db, id, Some(agent), "Verificando", false, tc.clock.now())
        .await
        .unwrap();
    store::tickets::add_comment(db, id, Some(ana), "Obrigada", true, tc.clock.now())
        .await
        .unwrap();
    // A stale change is refused and leaves no event behind.
    let stale = store::tickets::change_status(
        db,
        id,
        TicketStatus::Sent,
        TicketStatus::Solved,
        agent_actor,
        tc.clock.now(),
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))));

    let events = store::events::for_ticket(db, id).await.unwrap();
    let summary: Vec<(Option<EventKind>, &str)> = events
        .iter()
        .map(|e| (e.kind(), e.actor_kind.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Some(EventKind::Created), "customer"),
            (Some(EventKind::StatusChanged), "agent"),
            (Some(EventKind::CommentAdded), "agent"),
            (Some(EventKind::CommentAdded), "customer"),
        ]
    );
    assert_eq!(events[1].data.0["from"], "sent");
    assert_eq!(events[1].data.0["to"], "in_progress");
    assert_eq!(events[2].data.0["public"], false);
    assert_eq!(events[3].data.0["public"], true);
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
    let after_first = store::events::after(db, events[0].id, 10).await.unwrap();
    assert_eq!(after_first.len(), 3);
    assert_eq!(store::events::last_id(db).await.unwrap(), events[3].id);
}
