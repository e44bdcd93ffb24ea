//! The lifecycle automations with the controlled clock: the triage timeout,
//! auto-solve after business days with its reminder, their settings, and
//! exactly-once changes when several runners (nodes) sweep at the same time.

use std::sync::Arc;

use axum::http::StatusCode;
use chamado::{
    AppState,
    domain::{ActorKind, OrgId, Role, TicketId, TicketStatus, TicketType, UserId},
    jobs::{self, JobReport},
    service::{
        automations::{self, AutomationSettings, AutomationsError},
        triage::{self, Completion, TriageError, TriageSessionId, TriageState},
    },
    store::{self, Db, events::EventKind, jobs::ABANDONED_SUBJECT},
};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::Barrier;

use crate::{
    portal::{count_rows, listed, move_to, reply, signed_in, status_of, ticket, user},
    support::TestApp,
};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Ana, a customer of the bakery, with the organization's id.
async fn ana(tc: &TestApp) -> (OrgId, UserId) {
    let org = tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let ana = user(
        tc,
        "ana@padaria.example",
        "Ana Souza",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    (org, ana)
}

async fn run(tc: &TestApp) -> JobReport {
    jobs::run_once(&tc.state, "node-a").await.unwrap()
}

fn report(abandoned: usize, reminded: usize, solved: usize) -> JobReport {
    JobReport {
        abandoned,
        reminded,
        solved,
    }
}

/// A ticket of Ana's that entered *Aguardando Sua Resposta* at `entered`.
async fn awaiting_since(tc: &TestApp, requester: UserId, org: OrgId, entered: &str) -> TicketId {
    tc.clock.set(at(entered) - SignedDuration::from_hours(1));
    let id = ticket(
        tc,
        requester,
        Some(org),
        "Nota fiscal rejeitada",
        "Erro 539",
    )
    .await;
    tc.clock.set(at(entered));
    move_to(tc, id, TicketStatus::AwaitingReply).await;
    id
}

async fn events_of(tc: &TestApp, id: TicketId, kind: EventKind) -> Vec<store::events::TicketEvent> {
    store::events::for_ticket(&tc.state.db, id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind() == Some(kind))
        .collect()
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    chamado::with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

// ---------------------------------------------------------------------------
// Triage

#[tokio::test]
async fn a_triage_stays_open_at_29_59_and_is_abandoned_at_30_00() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    let started = tc.clock.now();
    let session = triage::start(&tc.state, ana, Some(org), "widget")
        .await
        .unwrap();
    tc.clock.advance(SignedDuration::from_mins(3));
    triage::answer(&tc.state, ana, session, "ticket_type", "incident")
        .await
        .unwrap();
    triage::answer(
        &tc.state,
        ana,
        session,
        "subject",
        "Impressora fiscal parada",
    )
    .await
    .unwrap();
    let last_answer = tc.clock.now();

    tc.clock
        .set(last_answer + SignedDuration::from_mins(30) - SignedDuration::from_secs(1));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    let open = triage::find(&tc.state, ana, session).await.unwrap();
    assert_eq!(open.state, TriageState::Open);
    assert_eq!(open.ticket, None);

    tc.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(run(&tc).await, report(1, 0, 0));
    let closed = triage::find(&tc.state, ana, session).await.unwrap();
    assert_eq!(closed.state, TriageState::Abandoned);
    let id = closed.ticket.unwrap();
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status(), TicketStatus::AbandonedTriage);
    assert_eq!(ticket.subject, "Impressora fiscal parada");
    assert_eq!(ticket.ticket_type(), TicketType::Incident);
    assert_eq!(ticket.organization_id, Some(org.0));
    assert_eq!(ticket.requester_id, ana);
    assert_eq!(ticket.channel, "widget");
    assert_eq!(ticket.created_at.0, started);

    let history = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].from_status, None);
    assert_eq!(history[0].to_status, "abandoned_triage");
    assert_eq!(history[0].actor_kind, "system");
    assert_eq!(history[0].actor_id, None);
    assert_eq!(history[0].at.0, tc.clock.now());
    let created = events_of(&tc, id, EventKind::Created).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].actor_kind, "system");
    assert_eq!(created[0].data.0["status"], "abandoned_triage");

    // Done once: a second sweep finds nothing.
    assert_eq!(run(&tc).await, report(0, 0, 0));
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 1);

    // It stays in the customer's history with its label.
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get("/portal/tickets").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(listed(&page.body), [id.0]);
    assert!(
        page.body
            .contains("<span class=\"badge status-abandoned_triage\">Abandono na Triagem</span>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Impressora fiscal parada"));
}

#[tokio::test]
async fn a_triage_without_a_subject_is_abandoned_as_not_completed() {
    let tc = TestApp::new().await;
    let (_, ana) = ana(&tc).await;
    let session = triage::start(&tc.state, ana, None, "portal").await.unwrap();
    tc.clock.advance(SignedDuration::from_mins(30));
    assert_eq!(run(&tc).await, report(1, 0, 0));
    let id = triage::find(&tc.state, ana, session)
        .await
        .unwrap()
        .ticket
        .unwrap();
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.subject, ABANDONED_SUBJECT);
    assert_eq!(ticket.subject, "Triagem não concluída");
    assert_eq!(ticket.ticket_type(), TicketType::Support);
    assert_eq!(ticket.organization_id, None);
}

#[tokio::test]
async fn every_answer_restarts_the_timeout_and_a_timed_out_triage_takes_none() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    let session = triage::start(&tc.state, ana, Some(org), "widget")
        .await
        .unwrap();
    tc.clock.advance(SignedDuration::from_mins(20));
    triage::answer(&tc.state, ana, session, "subject", "Primeira")
        .await
        .unwrap();
    tc.clock.advance(SignedDuration::from_mins(20));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    triage::answer(&tc.state, ana, session, "subject", "Segunda")
        .await
        .unwrap();
    let found = triage::find(&tc.state, ana, session).await.unwrap();
    assert_eq!(found.answers["subject"], "Segunda");
    assert_eq!(found.answers.len(), 1);

    // Past the timeout, before any job ran: the edge is already exact.
    tc.clock.advance(SignedDuration::from_mins(30));
    assert!(matches!(
        triage::answer(&tc.state, ana, session, "description", "Tarde demais").await,
        Err(TriageError::Closed)
    ));
    let completion = Completion {
        subject: "Segunda",
        description: "Tarde demais",
        ticket_type: Some(TicketType::Support),
        organization: None,
    };
    assert!(matches!(
        triage::complete(&tc.state, ana, session, &completion).await,
        Err(TriageError::Closed)
    ));
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
    assert_eq!(run(&tc).await, report(1, 0, 0));
    let ticket = triage::find(&tc.state, ana, session)
        .await
        .unwrap()
        .ticket
        .unwrap();
    assert_eq!(status_of(&tc, ticket).await, TicketStatus::AbandonedTriage);
}

#[tokio::test]
async fn completing_a_triage_opens_a_sent_ticket_linked_to_it() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    let session = triage::start(&tc.state, ana, None, "widget").await.unwrap();
    triage::answer(&tc.state, ana, session, "organization", &org.0.to_string())
        .await
        .unwrap();
    tc.clock.advance(SignedDuration::from_mins(29));
    let incomplete = Completion {
        subject: "  ",
        description: "",
        ticket_type: None,
        organization: None,
    };
    let Err(TriageError::Invalid(errors)) =
        triage::complete(&tc.state, ana, session, &incomplete).await
    else {
        panic!("an incomplete triage must be refused");
    };
    let fields: Vec<&str> = errors.iter().map(|(field, _)| *field).collect();
    assert_eq!(fields, ["ticket_type", "subject", "description"]);

    let completion = Completion {
        subject: "Sistema lento",
        description: "Desde ontem à tarde",
        ticket_type: Some(TicketType::Support),
        organization: None,
    };
    let id = triage::complete(&tc.state, ana, session, &completion)
        .await
        .unwrap();
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status(), TicketStatus::Sent);
    assert_eq!(ticket.subject, "Sistema lento");
    assert_eq!(ticket.description, "Desde ontem à tarde");
    assert_eq!(ticket.organization_id, Some(org.0));
    assert_eq!(ticket.channel, "widget");
    let history = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (
            history[0].from_status.as_deref(),
            history[0].to_status.as_str()
        ),
        (None, "sent")
    );
    assert_eq!(history[0].actor_kind, "customer");
    assert_eq!(history[0].actor_id, Some(ana.0));
    assert_eq!(events_of(&tc, id, EventKind::Created).await.len(), 1);
    let done = triage::find(&tc.state, ana, session).await.unwrap();
    assert_eq!(done.state, TriageState::Completed);
    assert_eq!(done.ticket, Some(id));

    // A second submit and the timeout leave it alone.
    assert!(matches!(
        triage::complete(&tc.state, ana, session, &completion).await,
        Err(TriageError::Closed)
    ));
    tc.clock.advance(SignedDuration::from_hours(2));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 1);
    assert_eq!(status_of(&tc, id).await, TicketStatus::Sent);
}

#[tokio::test]
async fn a_triage_exists_only_for_its_customer() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    let bruno = user(
        &tc,
        "bruno@padaria.example",
        "Bruno Lima",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let session = triage::start(&tc.state, ana, Some(org), "widget")
        .await
        .unwrap();
    assert!(matches!(
        triage::find(&tc.state, bruno, session).await,
        Err(TriageError::NotFound)
    ));
    assert!(matches!(
        triage::answer(&tc.state, bruno, session, "subject", "Meu").await,
        Err(TriageError::NotFound)
    ));
    assert!(matches!(
        triage::find(&tc.state, ana, TriageSessionId(session.0 + 1000)).await,
        Err(TriageError::NotFound)
    ));
    // Someone else's organization and unknown channels are refused.
    let other = tc.create_org("Oficina", "org-oficina").await;
    assert!(matches!(
        triage::start(&tc.state, ana, Some(other), "widget").await,
        Err(TriageError::Invalid(_))
    ));
    assert!(matches!(
        triage::start(&tc.state, ana, None, "telepathy").await,
        Err(TriageError::Invalid(_))
    ));
    assert!(matches!(
        triage::answer(&tc.state, ana, session, "Not A Key", "x").await,
        Err(TriageError::Invalid(_))
    ));
}

// ---------------------------------------------------------------------------
// Auto-solve and its reminder

/// Thursday 2 April 2026, 10:00 in São Paulo. Friday 3 April is Sexta-feira
/// Santa, then a weekend: five business days end on Friday 10 April at
/// 10:00, and the reminder is due on Thursday 9 April at 10:00.
const HOLY_THURSDAY: &str = "2026-04-02T13:00:00Z";

#[tokio::test]
async fn auto_solve_counts_business_days_across_a_holiday_and_a_weekend() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    let id = awaiting_since(&tc, ana, org, HOLY_THURSDAY).await;

    tc.clock
        .set(at("2026-04-09T13:00:00Z") - SignedDuration::from_secs(1));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    assert!(events_of(&tc, id, EventKind::ReminderSent).await.is_empty());

    tc.clock.set(at("2026-04-09T13:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 1, 0));
    let reminders = events_of(&tc, id, EventKind::ReminderSent).await;
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].actor_kind, "system");
    assert_eq!(reminders[0].at.0, tc.clock.now());
    let deadline: Timestamp = reminders[0].data.0["deadline"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(deadline, at("2026-04-10T13:00:00Z"));
    tc.clock.advance(SignedDuration::from_hours(3));
    assert_eq!(run(&tc).await, report(0, 0, 0), "one reminder per stay");

    tc.clock
        .set(at("2026-04-10T13:00:00Z") - SignedDuration::from_secs(1));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);

    tc.clock.set(at("2026-04-10T13:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 0, 1));
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status(), TicketStatus::Solved);
    assert_eq!(ticket.solved_at.map(|t| t.0), Some(tc.clock.now()));
    let history = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    let last = history.last().unwrap();
    assert_eq!(last.from_status.as_deref(), Some("awaiting_reply"));
    assert_eq!(last.to_status, "solved");
    assert_eq!(last.actor_kind, "system");
    assert_eq!(last.actor_id, None);
    assert_eq!(last.at.0, tc.clock.now());
    let changed = events_of(&tc, id, EventKind::StatusChanged).await;
    assert_eq!(changed.last().unwrap().actor_kind, ActorKind::System.key());

    tc.clock.advance(SignedDuration::from_hours(24 * 10));
    assert_eq!(run(&tc).await, report(0, 0, 0));
}

#[tokio::test]
async fn a_job_that_was_down_past_the_deadline_solves_without_a_late_reminder() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    let id = awaiting_since(&tc, ana, org, HOLY_THURSDAY).await;
    tc.clock.set(at("2026-04-13T09:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 0, 1));
    assert!(events_of(&tc, id, EventKind::ReminderSent).await.is_empty());
}

#[tokio::test]
async fn a_customer_reply_before_the_deadline_prevents_auto_solve() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    let id = awaiting_since(&tc, ana, org, HOLY_THURSDAY).await;
    tc.clock.set(at("2026-04-08T18:00:00Z"));
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = reply(&mut browser, id, "Segue o XML pedido.", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&tc, id).await, TicketStatus::InProgress);

    for moment in [
        "2026-04-09T13:00:00Z",
        "2026-04-10T13:00:00Z",
        "2026-05-10T13:00:00Z",
    ] {
        tc.clock.set(at(moment));
        assert_eq!(run(&tc).await, report(0, 0, 0), "{moment}");
    }
    assert_eq!(status_of(&tc, id).await, TicketStatus::InProgress);
    assert!(events_of(&tc, id, EventKind::ReminderSent).await.is_empty());
}

#[tokio::test]
async fn a_ticket_solved_or_moved_by_a_person_first_is_left_alone() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    let confirmed = awaiting_since(&tc, ana, org, HOLY_THURSDAY).await;
    let moved = awaiting_since(&tc, ana, org, HOLY_THURSDAY).await;
    tc.clock.set(at("2026-04-10T12:00:00Z"));
    move_to(&tc, confirmed, TicketStatus::Solved).await;
    move_to(&tc, moved, TicketStatus::WithTech).await;
    tc.clock.set(at("2026-04-20T12:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    let solved_by_system = count(
        &tc.state.db,
        "select count(*) from status_events where actor_kind = 'system'",
    )
    .await;
    assert_eq!(solved_by_system, 0);
}

#[tokio::test]
async fn re_entering_awaiting_reply_restarts_the_deadline_and_allows_a_new_reminder() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    // Monday 16 March, 10:00 local: reminder Friday 20, deadline Monday 23.
    let id = awaiting_since(&tc, ana, org, "2026-03-16T13:00:00Z").await;
    tc.clock.set(at("2026-03-20T13:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 1, 0));

    // The customer answers; the agent asks again that afternoon (Friday
    // 20, 12:00 local): a new stay, due Friday 27 at 12:00.
    tc.clock.set(at("2026-03-20T14:00:00Z"));
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    reply(&mut browser, id, "Ainda não funcionou.", &[]).await;
    assert_eq!(status_of(&tc, id).await, TicketStatus::InProgress);
    tc.clock.set(at("2026-03-20T15:00:00Z"));
    move_to(&tc, id, TicketStatus::AwaitingReply).await;

    tc.clock.set(at("2026-03-23T13:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 0, 0), "the old deadline is gone");
    tc.clock
        .set(at("2026-03-26T15:00:00Z") - SignedDuration::from_micros(1));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    tc.clock.set(at("2026-03-26T15:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 1, 0), "a new reminder");
    let reminders = events_of(&tc, id, EventKind::ReminderSent).await;
    assert_eq!(reminders.len(), 2);
    assert_eq!(reminders[1].data.0["deadline"], "2026-03-27T15:00:00Z");
    tc.clock
        .set(at("2026-03-27T15:00:00Z") - SignedDuration::from_micros(1));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    tc.clock.set(at("2026-03-27T15:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 0, 1));
    assert_eq!(status_of(&tc, id).await, TicketStatus::Solved);
}

// ---------------------------------------------------------------------------
// Settings

#[tokio::test]
async fn settings_default_until_saved_and_the_reopen_window_follows_the_configuration() {
    let tc = TestApp::with_config(|c| c.reopen_window_days = 2).await;
    let settings = automations::load(&tc.state).await.unwrap();
    assert_eq!(
        settings,
        AutomationSettings {
            triage_timeout_minutes: 30,
            auto_solve_business_days: 5,
            reminder_business_days_before: 1,
            reopen_window_days: 2,
        }
    );
    assert_eq!(
        automations::reopen_window(&tc.state).await.unwrap(),
        SignedDuration::from_hours(48)
    );
    let changed = AutomationSettings {
        reopen_window_days: 10,
        ..settings
    };
    automations::save(&tc.state, &changed).await.unwrap();
    assert_eq!(automations::load(&tc.state).await.unwrap(), changed);
    assert_eq!(
        automations::reopen_window(&tc.state).await.unwrap(),
        SignedDuration::from_hours(240)
    );
}

#[tokio::test]
async fn invalid_settings_are_refused_field_by_field_and_nothing_is_stored() {
    let tc = TestApp::new().await;
    let cases = [
        (
            AutomationSettings {
                triage_timeout_minutes: 0,
                auto_solve_business_days: 61,
                reminder_business_days_before: 1,
                reopen_window_days: 366,
            },
            vec![
                ("triage_timeout_minutes", "automations.triage_timeout_range"),
                (
                    "auto_solve_business_days",
                    "automations.business_days_range",
                ),
                ("reopen_window_days", "automations.reopen_window_range"),
            ],
        ),
        (
            AutomationSettings {
                triage_timeout_minutes: 1441,
                auto_solve_business_days: 3,
                reminder_business_days_before: 3,
                reopen_window_days: 0,
            },
            vec![
                ("triage_timeout_minutes", "automations.triage_timeout_range"),
                (
                    "reminder_business_days_before",
                    "automations.reminder_before_auto_solve",
                ),
            ],
        ),
        (
            AutomationSettings {
                triage_timeout_minutes: 1440,
                auto_solve_business_days: 60,
                reminder_business_days_before: 0,
                reopen_window_days: 365,
            },
            vec![(
                "reminder_business_days_before",
                "automations.business_days_range",
            )],
        ),
    ];
    for (settings, expected) in cases {
        match automations::save(&tc.state, &settings).await {
            Err(AutomationsError::Invalid(errors)) => assert_eq!(errors, expected),
            other => panic!("{settings:?} must be refused, got {other:?}"),
        }
    }
    assert_eq!(count_rows(&tc.state.db, "settings").await, 0);
    let edges = AutomationSettings {
        triage_timeout_minutes: 1,
        auto_solve_business_days: 2,
        reminder_business_days_before: 1,
        reopen_window_days: 0,
    };
    automations::save(&tc.state, &edges).await.unwrap();
    assert_eq!(automations::load(&tc.state).await.unwrap(), edges);
}

#[tokio::test]
async fn changed_settings_take_effect_at_the_next_sweep() {
    let tc = TestApp::new().await;
    let (org, ana) = ana(&tc).await;
    automations::save(
        &tc.state,
        &AutomationSettings {
            triage_timeout_minutes: 10,
            auto_solve_business_days: 2,
            reminder_business_days_before: 1,
            reopen_window_days: 7,
        },
    )
    .await
    .unwrap();
    // Monday 16 March, 10:00 local: reminder Tuesday, solved Wednesday.
    let id = awaiting_since(&tc, ana, org, "2026-03-16T13:00:00Z").await;
    let session = triage::start(&tc.state, ana, Some(org), "widget")
        .await
        .unwrap();
    tc.clock
        .advance(SignedDuration::from_mins(10) - SignedDuration::from_micros(1));
    assert_eq!(run(&tc).await, report(0, 0, 0));
    tc.clock.advance(SignedDuration::from_micros(1));
    assert_eq!(run(&tc).await, report(1, 0, 0));
    assert_eq!(
        triage::find(&tc.state, ana, session).await.unwrap().state,
        TriageState::Abandoned
    );
    tc.clock.set(at("2026-03-17T13:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 1, 0));
    tc.clock.set(at("2026-03-18T13:00:00Z"));
    assert_eq!(run(&tc).await, report(0, 0, 1));
    assert_eq!(status_of(&tc, id).await, TicketStatus::Solved);
}

// ---------------------------------------------------------------------------
// Several runners

#[tokio::test]
async fn a_lease_lets_one_holder_sweep_at_a_time_until_released_or_expired() {
    let tc = TestApp::new().await;
    let db = &tc.state.db;
    let now = tc.clock.now();
    let until = now + SignedDuration::from_mins(5);
    assert!(
        store::jobs::claim_lease(db, "x", "a", until, now)
            .await
            .unwrap()
    );
    assert!(
        !store::jobs::claim_lease(db, "x", "b", until, now)
            .await
            .unwrap()
    );
    assert!(
        store::jobs::claim_lease(db, "x", "a", until, now)
            .await
            .unwrap()
    );
    assert!(
        store::jobs::claim_lease(db, "y", "b", until, now)
            .await
            .unwrap()
    );
    // Expired: anyone may take it.
    let later = until;
    assert!(
        store::jobs::claim_lease(db, "x", "b", later + SignedDuration::from_mins(5), later)
            .await
            .unwrap()
    );
    // Released: the next claim wins at once.
    store::jobs::release_lease(db, "x", "b", later)
        .await
        .unwrap();
    assert!(
        store::jobs::claim_lease(db, "x", "a", later + SignedDuration::from_mins(5), later)
            .await
            .unwrap()
    );
    // A holder that lost the lease cannot release it.
    store::jobs::release_lease(db, "x", "b", later)
        .await
        .unwrap();
    assert!(
        !store::jobs::claim_lease(db, "x", "b", later, later)
            .await
            .unwrap()
    );
}

/// A node of its own: its own connection pool on the same database.
async fn separate_node(tc: &TestApp) -> AppState {
    let db = Db::connect(&tc.state.config).await.unwrap();
    AppState::new(
        (*tc.state.config).clone(),
        db,
        tc.state.blobs.clone(),
        tc.clock.clone(),
    )
    .unwrap()
}

/// Fifty of Ana's tickets awaiting her reply since Holy Thursday, and fifty
/// of her triages left unanswered then.
async fn fifty_due(tc: &TestApp) -> Vec<TicketId> {
    let (org, ana) = ana(tc).await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(awaiting_since(tc, ana, org, HOLY_THURSDAY).await);
        triage::start(&tc.state, ana, Some(org), "widget")
            .await
            .unwrap();
    }
    ids
}

/// Checks that every change happened exactly once.
async fn assert_exactly_once(tc: &TestApp, ids: &[TicketId]) {
    let db = &tc.state.db;
    for &id in ids {
        assert_eq!(status_of(tc, id).await, TicketStatus::Solved);
        assert_eq!(events_of(tc, id, EventKind::ReminderSent).await.len(), 1);
    }
    assert_eq!(
        count(
            db,
            "select count(*) from status_events where to_status = 'solved'"
        )
        .await,
        50
    );
    assert_eq!(
        count(
            db,
            "select count(*) from ticket_events where kind = 'reminder_sent'"
        )
        .await,
        50
    );
    assert_eq!(
        count(
            db,
            "select count(*) from status_events where to_status = 'abandoned_triage'"
        )
        .await,
        50
    );
    assert_eq!(
        count(
            db,
            "select count(*) from tickets where status = 'abandoned_triage'"
        )
        .await,
        50
    );
    assert_eq!(
        count(
            db,
            "select count(*) from triage_sessions where state = 'abandoned' and ticket_id is not null"
        )
        .await,
        50
    );
}

/// Runs `sweep` on every state at once, twice: at the reminders' time and at
/// the deadline; returns the reports' totals.
async fn race<F, Fut>(states: Vec<AppState>, tc: &TestApp, sweep: F) -> JobReport
where
    F: Fn(AppState, String) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = JobReport> + Send + 'static,
{
    let mut total = JobReport::default();
    for moment in ["2026-04-09T13:00:00Z", "2026-04-10T13:00:00Z"] {
        tc.clock.set(at(moment));
        let barrier = Arc::new(Barrier::new(states.len()));
        let runners: Vec<_> = states
            .iter()
            .enumerate()
            .map(|(n, state)| {
                let state = state.clone();
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    sweep(state, format!("node-{n}")).await
                })
            })
            .collect();
        for runner in runners {
            let report = runner.await.unwrap();
            total.abandoned += report.abandoned;
            total.reminded += report.reminded;
            total.solved += report.solved;
        }
    }
    total
}

async fn leased_round(state: AppState, holder: String) -> JobReport {
    jobs::run_once(&state, &holder).await.unwrap()
}

/// Both sweeps without any lease: only the conditional writes keep each
/// change single.
async fn unleased_round(state: AppState, _holder: String) -> JobReport {
    let abandoned = triage::abandon_stale(&state).await.unwrap();
    let outcome = jobs::auto_solve::run(&state).await.unwrap();
    JobReport {
        abandoned,
        reminded: outcome.reminded,
        solved: outcome.solved,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_one_node_change_each_ticket_exactly_once() {
    let tc = TestApp::new().await;
    let ids = fifty_due(&tc).await;
    let states = vec![tc.state.clone(), tc.state.clone()];
    assert_eq!(race(states, &tc, leased_round).await, report(50, 50, 50));
    assert_exactly_once(&tc, &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_change_each_ticket_exactly_once() {
    let tc = TestApp::new().await;
    let ids = fifty_due(&tc).await;
    let states = vec![tc.second_node().state, tc.second_node().state];
    assert_eq!(race(states, &tc, leased_round).await, report(50, 50, 50));
    assert_exactly_once(&tc, &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_leases_three_nodes_still_change_each_ticket_exactly_once() {
    let tc = TestApp::new().await;
    let ids = fifty_due(&tc).await;
    let states = vec![
        separate_node(&tc).await,
        separate_node(&tc).await,
        separate_node(&tc).await,
    ];
    assert_eq!(race(states, &tc, unleased_round).await, report(50, 50, 50));
    assert_exactly_once(&tc, &ids).await;
}
