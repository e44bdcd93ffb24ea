//! New portal tickets arriving together are written together on SQLite
//! (`store::group_commit`); every request still gets its own answer.

use chamado::{
    domain::{Role, TicketType},
    store::{
        self, StoreError,
        tickets::{NewPortalTicket, NewTicket},
    },
    with_db,
};

use crate::{portal::user, support::TestApp};

fn new_ticket<'a>(
    requester: chamado::domain::UserId,
    subject: &'a str,
    key: &'a str,
) -> NewPortalTicket<'a> {
    NewPortalTicket {
        ticket: NewTicket {
            subject,
            description: "Descrição",
            ticket_type: TicketType::Support,
            organization: None,
            requester,
            channel: "portal",
        },
        submission_key: key,
        files: &[],
    }
}

async fn count(tc: &TestApp, sql: &'static str) -> i64 {
    with_db!(&tc.state.db, |pool| {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .expect("count")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_sent_together_each_get_their_own_answer() {
    let tc = TestApp::new().await;
    let ana = user(&tc, "ana@padaria.example", "Ana", Role::Customer, &[]).await;
    let bruno = user(&tc, "bruno@padaria.example", "Bruno", Role::Customer, &[]).await;
    let now = tc.clock.now();
    let keys: Vec<String> = (0..40).map(|i| format!("{i:032x}")).collect();
    let subjects: Vec<String> = (0..40).map(|i| format!("Pedido {i}")).collect();
    let writer = &tc.state.ticket_writer;
    let db = &tc.state.db;

    // Forty different tickets, the same key twice by Ana (a double submit)
    // and Ana's first key once more by Bruno, all at once.
    let forms: Vec<NewPortalTicket<'_>> = keys
        .iter()
        .zip(&subjects)
        .map(|(key, subject)| new_ticket(ana, subject, key))
        .collect();
    let double = new_ticket(ana, "De novo", &keys[7]);
    let foreign = new_ticket(bruno, "Alheio", &keys[0]);
    let sends = forms.iter().map(|f| writer.create_from_form(db, f, now));
    let repeated = writer.create_from_form(db, &double, now);
    let stolen = writer.create_from_form(db, &foreign, now);
    let (answers, repeated, stolen) =
        tokio::join!(futures_util::future::join_all(sends), repeated, stolen);

    let ids: Vec<i64> = answers
        .into_iter()
        .map(|a| {
            let (id, created) = a.expect("created");
            assert!(created);
            id.0
        })
        .collect();
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 40, "one ticket per request");
    let (again, created) = repeated.expect("the double submit finds the first ticket");
    assert!(!created);
    assert_eq!(again.0, ids[7]);
    assert!(
        matches!(stolen, Err(StoreError::Conflict(_))),
        "someone else's key: {stolen:?}"
    );

    // Each answer names the ticket with its own subject, and every ticket
    // has its first status event and creation event.
    for (id, subject) in ids.iter().zip(&subjects) {
        let ticket = store::tickets::find(db, chamado::domain::TicketId(*id))
            .await
            .expect("read")
            .expect("the acknowledged ticket exists");
        assert_eq!(&ticket.subject, subject);
        assert_eq!(ticket.requester_id, ana);
    }
    assert_eq!(count(&tc, "select count(*) from tickets").await, 40);
    assert_eq!(count(&tc, "select count(*) from status_events").await, 40);
    assert_eq!(
        count(
            &tc,
            "select count(*) from ticket_events where kind = 'created'"
        )
        .await,
        40
    );

    // A second wave with nothing wrong in it.
    let keys: Vec<String> = (100..130).map(|i| format!("{i:032x}")).collect();
    let forms: Vec<NewPortalTicket<'_>> = keys
        .iter()
        .map(|key| new_ticket(bruno, "Segunda leva", key))
        .collect();
    let answers =
        futures_util::future::join_all(forms.iter().map(|f| writer.create_from_form(db, f, now)))
            .await;
    assert!(answers.iter().all(|a| matches!(a, Ok((_, true)))));
    assert_eq!(count(&tc, "select count(*) from tickets").await, 70);
}
