//! E-mail notifications, end to end: ticket changes through the store and
//! the portal, the composer, the outbox, and delivery over SMTP to a real
//! server on loopback (`smtp_sink`). Runs on SQLite, and on PostgreSQL when
//! `CHAMADO_TEST_DATABASE_URL` is set.

use std::collections::HashSet;

use chamado::{
    AppState,
    domain::{ActorKind, Role, TicketId, TicketStatus, TicketType, UserId},
    mail::{self, DeliveryReport, OutboxStatus},
    service::portal::{self, ContactForm},
    store::{
        self, Db, WritePool,
        events::EventKind,
        mail::OutboxRow,
        tickets::{Actor, NewTicket},
    },
    with_db,
};
use jiff::SignedDuration;
use secrecy::SecretString;
use serde_json::json;

use crate::{
    smtp_sink::{Received, SmtpSink},
    support::TestApp,
};

/// The help desk of these tests: a Portuguese-speaking customer, an
/// English-speaking one, and an agent, with mail going to a sink.
struct Desk {
    app: TestApp,
    sink: SmtpSink,
    ana: UserId,
    john: UserId,
    agent: UserId,
}

impl Desk {
    async fn new() -> Self {
        let sink = SmtpSink::start().await;
        let url = sink.url();
        let app = TestApp::with_config(|c| c.smtp_url = Some(SecretString::from(url))).await;
        Self::with(app, sink).await
    }

    async fn with(app: TestApp, sink: SmtpSink) -> Self {
        app.create_org("Padaria Pão Dourado", "org-padaria").await;
        let ana = app
            .create_user("ana@padaria.example", Role::Customer, &["org-padaria"])
            .await;
        let john = app
            .create_user("john@padaria.example", Role::Customer, &["org-padaria"])
            .await;
        store::users::set_locale(
            &app.state.db,
            john,
            "en",
            "America/New_York",
            app.clock.now(),
        )
        .await
        .unwrap();
        let agent = app
            .create_user("fernanda@suporte.example", Role::Agent, &[])
            .await;
        // The first run only places the cursor.
        assert_eq!(mail::compose_once(&app.state).await.unwrap(), 0);
        Self {
            app,
            sink,
            ana,
            john,
            agent,
        }
    }

    fn state(&self) -> &AppState {
        &self.app.state
    }

    async fn open_ticket(&self, requester: UserId, subject: &str) -> TicketId {
        open(&self.app, requester, subject).await
    }

    async fn agent_sets(&self, ticket: TicketId, from: TicketStatus, to: TicketStatus) {
        store::tickets::change_status(
            &self.state().db,
            ticket,
            from,
            to,
            Actor {
                kind: ActorKind::Agent,
                user: Some(self.agent),
            },
            self.app.clock.now(),
        )
        .await
        .unwrap();
    }

    async fn comment(&self, ticket: TicketId, author: UserId, body: &str, public: bool) {
        store::tickets::add_comment(
            &self.state().db,
            ticket,
            Some(author),
            body,
            public,
            self.app.clock.now(),
        )
        .await
        .unwrap();
    }

    /// Composes, then delivers once; returns what the sink received.
    async fn run(&self) -> Vec<Received> {
        mail::compose_once(self.state()).await.unwrap();
        mail::deliver_once(self.state(), "test-node").await.unwrap();
        self.sink.take()
    }

    async fn outbox(&self) -> Vec<OutboxRow> {
        let mut rows = store::mail::recent(&self.state().db, 1000).await.unwrap();
        rows.reverse();
        rows
    }
}

async fn open(app: &TestApp, requester: UserId, subject: &str) -> TicketId {
    store::tickets::create(
        &app.state.db,
        &NewTicket {
            subject,
            description: "Detalhes",
            ticket_type: TicketType::Support,
            organization: None,
            requester,
            channel: "portal",
        },
        Actor {
            kind: ActorKind::Customer,
            user: Some(requester),
        },
        app.clock.now(),
    )
    .await
    .unwrap()
}

fn link(ticket: TicketId) -> String {
    format!("http://127.0.0.1:8080/portal/tickets/{ticket}")
}

#[tokio::test]
async fn customers_are_mailed_in_their_language_with_number_subject_and_link() {
    let desk = Desk::new().await;
    let pt = desk.open_ticket(desk.ana, "Erro na emissão de nota").await;
    let en = desk.open_ticket(desk.john, "Invoice error").await;
    let sent = desk.run().await;
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let rows = desk.outbox().await;

    let ana = &sent[0];
    assert_eq!(ana.rcpt_to, ["ana@padaria.example"]);
    assert_eq!(ana.mail_from, "suporte@chamado.invalid");
    assert_eq!(
        ana.subject(),
        format!("[#{pt}] Recebemos seu ticket: Erro na emissão de nota")
    );
    let body = ana.body();
    assert!(
        body.contains(&format!(
            "Recebemos seu ticket #{pt}: Erro na emissão de nota."
        )),
        "{body}"
    );
    assert!(body.contains("Status: Enviado."), "{body}");
    assert!(body.contains(&link(pt)), "{body}");
    assert!(body.starts_with("Olá, Maria Teste,"), "{body}");
    assert_eq!(
        ana.header("Message-ID").unwrap(),
        format!("<outbox-{}@127.0.0.1>", rows[0].id)
    );
    assert_eq!(
        ana.header("References").unwrap(),
        format!("<ticket-{pt}@127.0.0.1>")
    );
    assert_eq!(ana.header("Auto-Submitted").unwrap(), "auto-generated");

    let john = &sent[1];
    assert_eq!(john.rcpt_to, ["john@padaria.example"]);
    assert_eq!(
        john.subject(),
        format!("[#{en}] We received your ticket: Invoice error")
    );
    let body = john.body();
    assert!(body.contains("Status: Sent."), "{body}");
    assert!(body.contains(&link(en)), "{body}");
    assert_eq!(rows[1].lang, "en");

    assert_eq!(
        mail::outbox_status(desk.state()).await.unwrap(),
        OutboxStatus {
            pending: 0,
            failed: 0,
            sent: 2,
            smtp_configured: true,
        }
    );
}

#[tokio::test]
async fn agent_public_replies_are_mailed_and_internal_notes_never_are() {
    let desk = Desk::new().await;
    let ticket = desk.open_ticket(desk.ana, "Erro na nota").await;
    assert_eq!(desk.run().await.len(), 1);

    desk.comment(ticket, desk.agent, "Nota interna: cliente devedor", false)
        .await;
    desk.comment(
        ticket,
        desk.agent,
        "Corrigimos a emissão. Pode testar?",
        true,
    )
    .await;
    // The customer's own reply is not mailed back to them.
    desk.comment(ticket, desk.ana, "Vou testar", true).await;
    let sent = desk.run().await;

    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].rcpt_to, ["ana@padaria.example"]);
    assert_eq!(
        sent[0].subject(),
        format!("[#{ticket}] Nova resposta: Erro na nota")
    );
    let body = sent[0].body();
    assert!(
        body.contains("Corrigimos a emissão. Pode testar?"),
        "{body}"
    );
    assert!(
        body.contains(&format!("respondeu ao seu ticket #{ticket}")),
        "{body}"
    );
    assert!(body.contains(&link(ticket)), "{body}");
    assert!(!sent[0].data.contains("devedor"));
    let rows = desk.outbox().await;
    let templates: Vec<&str> = rows.iter().map(|r| r.template.as_str()).collect();
    assert_eq!(templates, ["ticket_received", "agent_reply"]);
    assert!(rows.iter().all(|r| !r.body_text.contains("devedor")));
}

#[tokio::test]
async fn awaiting_reply_and_solved_are_mailed_but_not_the_customers_own_confirmation() {
    let desk = Desk::new().await;
    let ana_ticket = desk.open_ticket(desk.ana, "Erro na nota").await;
    let john_ticket = desk.open_ticket(desk.john, "Invoice error").await;
    assert_eq!(desk.run().await.len(), 2);

    desk.agent_sets(ana_ticket, TicketStatus::Sent, TicketStatus::InProgress)
        .await;
    assert!(desk.run().await.is_empty(), "in progress is not mailed");
    desk.agent_sets(
        ana_ticket,
        TicketStatus::InProgress,
        TicketStatus::AwaitingReply,
    )
    .await;
    let sent = desk.run().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].subject(),
        format!("[#{ana_ticket}] Aguardando Sua Resposta: Erro na nota")
    );
    let body = sent[0].body();
    assert!(
        body.contains("agora está com o status Aguardando Sua Resposta."),
        "{body}"
    );
    assert!(body.contains(&link(ana_ticket)), "{body}");

    // Confirming the solution herself: nothing to tell her.
    portal::confirm_solution(desk.state(), desk.ana, ana_ticket.0)
        .await
        .unwrap();
    assert!(desk.run().await.is_empty());

    desk.agent_sets(john_ticket, TicketStatus::Sent, TicketStatus::Solved)
        .await;
    let sent = desk.run().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].rcpt_to, ["john@padaria.example"]);
    assert_eq!(
        sent[0].subject(),
        format!("[#{john_ticket}] Solved: Invoice error")
    );
    assert!(
        sent[0]
            .body()
            .contains("reply in the portal within 7 days to reopen"),
        "{}",
        sent[0].body()
    );
}

#[tokio::test]
async fn a_reply_that_also_asks_for_the_customers_answer_is_one_message() {
    let desk = Desk::new().await;
    let ticket = desk.open_ticket(desk.ana, "Erro na nota").await;
    desk.agent_sets(ticket, TicketStatus::Sent, TicketStatus::InProgress)
        .await;
    assert_eq!(desk.run().await.len(), 1);

    desk.comment(ticket, desk.agent, "Corrigido. Confirma?", true)
        .await;
    desk.agent_sets(
        ticket,
        TicketStatus::InProgress,
        TicketStatus::AwaitingReply,
    )
    .await;
    let sent = desk.run().await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = sent[0].body();
    assert!(body.contains("Corrigido. Confirma?"), "{body}");
    assert!(body.contains("Status: Aguardando Sua Resposta."), "{body}");
}

#[tokio::test]
async fn reminders_give_the_deadline_on_the_customers_clock() {
    let desk = Desk::new().await;
    let ana_ticket = desk.open_ticket(desk.ana, "Erro na nota").await;
    let john_ticket = desk.open_ticket(desk.john, "Invoice error").await;
    assert_eq!(desk.run().await.len(), 2);
    // What the auto-solve job records when it reminds a customer.
    for ticket in [ana_ticket, john_ticket] {
        with_db!(&desk.state().db, |pool| {
            let mut tx = pool.begin_write().await.unwrap();
            store::events::append(
                &mut tx,
                ticket.0,
                EventKind::ReminderSent,
                (ActorKind::System, None),
                desk.app.clock.now(),
                json!({ "deadline": "2026-03-17T20:00:00Z" }),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        });
    }
    let sent = desk.run().await;
    assert_eq!(sent.len(), 2);
    assert!(sent[0].subject().starts_with(&format!(
        "[#{ana_ticket}] Lembrete: aguardamos sua resposta"
    )));
    let body = sent[0].body();
    assert!(
        body.contains(
            "até 17/03/2026 às 17:00 (America/Sao_Paulo), ele será marcado como Solucionado."
        ),
        "{body}"
    );
    let body = sent[1].body();
    assert!(
        body.contains("by Mar 17, 2026 4:00 PM (America/New_York), it will be marked Solved."),
        "{body}"
    );
}

#[tokio::test]
async fn contact_requests_are_acknowledged_and_their_handling_announced() {
    let desk = Desk::new().await;
    let ticket = desk.open_ticket(desk.ana, "Erro na nota").await;
    assert_eq!(desk.run().await.len(), 1);
    let request = portal::request_contact(
        desk.state(),
        desk.ana,
        ticket.0,
        &ContactForm {
            channel: "phone".into(),
            phone: "(11) 98765-4321".into(),
            preferred_window: "Manhã".into(),
            message: String::new(),
        },
    )
    .await
    .unwrap();
    let sent = desk.run().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].subject(),
        format!("[#{ticket}] Recebemos seu pedido de contato")
    );
    assert!(sent[0].body().contains(&link(ticket)));

    store::contacts::mark_handled(
        &desk.state().db,
        request,
        desk.agent,
        "Liguei às 10h; cliente pediu desconto",
        desk.app.clock.now(),
    )
    .await
    .unwrap();
    let sent = desk.run().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].subject(),
        format!("[#{ticket}] Pedido de contato atendido")
    );
    assert!(
        !sent[0].data.contains("desconto"),
        "the agent's note stays inside"
    );
}

#[tokio::test]
async fn history_from_before_the_first_run_is_not_mailed() {
    let app = TestApp::new().await;
    app.create_org("Padaria Pão Dourado", "org-padaria").await;
    let ana = app
        .create_user("ana@padaria.example", Role::Customer, &["org-padaria"])
        .await;
    open(&app, ana, "Antigo").await;
    assert_eq!(mail::compose_once(&app.state).await.unwrap(), 0);
    assert!(
        store::mail::recent(&app.state.db, 10)
            .await
            .unwrap()
            .is_empty()
    );
    open(&app, ana, "Novo").await;
    assert_eq!(mail::compose_once(&app.state).await.unwrap(), 1);
    assert_eq!(mail::compose_once(&app.state).await.unwrap(), 0);
}

#[tokio::test]
async fn without_smtp_mail_waits_in_the_outbox_and_leaves_once_configured() {
    let sink = SmtpSink::start().await;
    let desk = Desk::with(TestApp::new().await, sink).await;
    desk.open_ticket(desk.ana, "Erro na nota").await;
    assert_eq!(mail::compose_once(desk.state()).await.unwrap(), 1);
    assert_eq!(
        mail::deliver_once(desk.state(), "test-node").await.unwrap(),
        DeliveryReport::default()
    );
    assert_eq!(
        mail::outbox_status(desk.state()).await.unwrap(),
        OutboxStatus {
            pending: 1,
            failed: 0,
            sent: 0,
            smtp_configured: false,
        }
    );

    // The same database after a restart with SMTP set.
    let mut config = (*desk.state().config).clone();
    config.smtp_url = Some(SecretString::from(desk.sink.url()));
    let configured = AppState::new(
        config,
        desk.state().db.clone(),
        desk.state().blobs.clone(),
        desk.app.clock.clone(),
    )
    .unwrap();
    let report = mail::deliver_once(&configured, "test-node").await.unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(desk.sink.messages().len(), 1);
    let status = mail::outbox_status(&configured).await.unwrap();
    assert_eq!((status.pending, status.sent), (0, 1));
    assert!(status.smtp_configured);
}

#[tokio::test]
async fn a_refused_message_is_retried_with_growing_waits_and_sent_once() {
    let desk = Desk::new().await;
    desk.sink.refuse_data(true);
    desk.open_ticket(desk.ana, "Erro na nota").await;
    mail::compose_once(desk.state()).await.unwrap();
    let deliver = || mail::deliver_once(desk.state(), "test-node");

    assert_eq!(deliver().await.unwrap().retrying, 1);
    let row = desk.outbox().await.remove(0);
    assert_eq!((row.state.as_str(), row.attempts), ("pending", 1));
    assert_eq!(
        row.next_attempt_at.0,
        desk.app.clock.now() + SignedDuration::from_mins(1)
    );
    assert!(
        row.last_error.as_deref().unwrap().contains("451"),
        "{row:?}"
    );
    assert_eq!(deliver().await.unwrap().claimed, 0, "not due yet");
    desk.app.clock.advance(SignedDuration::from_secs(59));
    assert_eq!(deliver().await.unwrap().claimed, 0, "not due yet");
    desk.app.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(deliver().await.unwrap().retrying, 1);
    let row = desk.outbox().await.remove(0);
    assert_eq!(row.attempts, 2);
    assert_eq!(
        row.next_attempt_at.0,
        desk.app.clock.now() + SignedDuration::from_mins(2)
    );

    desk.sink.refuse_data(false);
    desk.app.clock.advance(SignedDuration::from_mins(2));
    assert_eq!(deliver().await.unwrap().sent, 1);
    assert_eq!(desk.sink.refused(), 2);
    assert_eq!(desk.sink.messages().len(), 1);
    let row = desk.outbox().await.remove(0);
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 3));
    assert_eq!(row.sent_at.map(|t| t.0), Some(desk.app.clock.now()));
    assert_eq!(deliver().await.unwrap().claimed, 0);
}

#[tokio::test]
async fn after_ten_failures_a_message_is_given_up_without_the_password_in_the_error() {
    let sink = SmtpSink::start().await;
    // The sink offers no login, so every attempt fails.
    let url = sink.url_with_login("chamado", "s3cret-pass");
    let app = TestApp::with_config(|c| c.smtp_url = Some(SecretString::from(url))).await;
    let desk = Desk::with(app, sink).await;
    desk.open_ticket(desk.ana, "Erro na nota").await;
    mail::compose_once(desk.state()).await.unwrap();
    for attempt in 1..=10 {
        let report = mail::deliver_once(desk.state(), "test-node").await.unwrap();
        assert_eq!(report.claimed, 1, "attempt {attempt}");
        desk.app.clock.advance(SignedDuration::from_hours(1));
    }
    let row = desk.outbox().await.remove(0);
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 10));
    let error = row.last_error.unwrap();
    assert!(!error.is_empty());
    assert!(!error.contains("s3cret"), "{error}");
    assert_eq!(
        mail::deliver_once(desk.state(), "test-node")
            .await
            .unwrap()
            .claimed,
        0
    );
    let status = mail::outbox_status(desk.state()).await.unwrap();
    assert_eq!((status.pending, status.failed, status.sent), (0, 1, 0));
    assert!(desk.sink.messages().is_empty());
}

#[tokio::test]
async fn two_workers_delivering_at_once_send_each_message_once() {
    let desk = Desk::new().await;
    for n in 0..25 {
        desk.open_ticket(desk.ana, &format!("Ticket {n}")).await;
    }
    assert_eq!(mail::compose_once(desk.state()).await.unwrap(), 25);
    let other = desk.app.second_node();
    let (a, b) = tokio::join!(
        mail::deliver_once(desk.state(), "node-a"),
        mail::deliver_once(&other.state, "node-b"),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    // Whatever is left (a worker leases at most 20) goes out in a second round.
    let (c, d) = tokio::join!(
        mail::deliver_once(desk.state(), "node-a"),
        mail::deliver_once(&other.state, "node-b"),
    );
    let (c, d) = (c.unwrap(), d.unwrap());
    assert_eq!(
        a.sent + b.sent + c.sent + d.sent,
        25,
        "{a:?} {b:?} {c:?} {d:?}"
    );
    let sent = desk.sink.messages();
    assert_eq!(sent.len(), 25);
    let ids: HashSet<String> = sent
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), 25, "every message once");
    let status = mail::outbox_status(desk.state()).await.unwrap();
    assert_eq!((status.pending, status.sent), (0, 25));
}

#[tokio::test]
async fn two_composers_at_once_write_each_message_once() {
    let desk = Desk::new().await;
    for n in 0..5 {
        desk.open_ticket(desk.ana, &format!("Ticket {n}")).await;
    }
    let other = desk.app.second_node();
    let (a, b) = tokio::join!(
        mail::compose_once(desk.state()),
        mail::compose_once(&other.state)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 5);
    assert_eq!(desk.outbox().await.len(), 5);
    assert_eq!(mail::compose_once(desk.state()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_message_leased_by_a_dead_node_goes_out_when_the_lease_runs_out() {
    let desk = Desk::new().await;
    desk.open_ticket(desk.ana, "Erro na nota").await;
    mail::compose_once(desk.state()).await.unwrap();
    let now = desk.app.clock.now();
    // A node leases the row and dies before sending or marking it.
    let leased = store::mail::claim(&desk.state().db, "dead-node", now, now + mail::LEASE, 20)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(
        mail::deliver_once(desk.state(), "test-node")
            .await
            .unwrap()
            .claimed,
        0
    );
    desk.app.clock.advance(mail::LEASE);
    desk.app.clock.advance(SignedDuration::from_secs(1));
    let report = mail::deliver_once(desk.state(), "test-node").await.unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(desk.sink.messages().len(), 1);
}

#[tokio::test]
async fn an_event_committed_after_a_newer_one_is_still_mailed() {
    // Only PostgreSQL can commit event ids out of order; SQLite has one
    // writer at a time.
    if crate::support::postgres_url().is_none() {
        return;
    }
    let desk = Desk::new().await;
    let ana_ticket = desk.open_ticket(desk.ana, "Erro na nota").await;
    assert_eq!(desk.run().await.len(), 1);
    let Db::Postgres(pool, _) = &desk.state().db else {
        unreachable!("checked above");
    };
    // A slow transaction takes an event id, then a newer event commits.
    let now = desk.app.clock.now();
    let mut slow = pool.begin_write().await.unwrap();
    append_reminder(&mut slow, ana_ticket, now).await;
    desk.open_ticket(desk.john, "Invoice error").await;
    assert!(desk.run().await.is_empty(), "waits for the older event");
    slow.commit().await.unwrap();
    let sent = desk.run().await;
    let mut to: Vec<&str> = sent.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["ana@padaria.example", "john@padaria.example"]);

    // A rolled-back transaction leaves a hole for good: passed after a minute.
    let mut aborted = pool.begin_write().await.unwrap();
    append_reminder(&mut aborted, ana_ticket, now).await;
    aborted.rollback().await.unwrap();
    desk.open_ticket(desk.john, "Another error").await;
    assert!(desk.run().await.is_empty());
    desk.app.clock.advance(SignedDuration::from_mins(1));
    assert_eq!(desk.run().await.len(), 1);
}

/// What the auto-solve job records when it reminds a customer.
async fn append_reminder(
    tx: &mut store::WriteTx<sqlx::Postgres>,
    ticket: TicketId,
    now: jiff::Timestamp,
) {
    store::events::append(
        tx,
        ticket.0,
        EventKind::ReminderSent,
        (ActorKind::System, None),
        now,
        json!({ "deadline": "2026-03-17T20:00:00Z" }),
    )
    .await
    .unwrap();
}
