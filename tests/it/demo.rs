//! Tests: demo. The seeded data is plausible (histories that the lifecycle
//! rules allow, nothing in the future) and the same on every run; the host
//! platform simulator signs a demo user in through the real SSO flow.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use axum::http::StatusCode;
use chamado::{
    domain::{ActorKind, Role, TicketStatus, TicketType, check_transition},
    service,
    store::{self, Db, Ts},
    with_db,
};
use serde_json::{Value, json};
use sqlx::types::Json;

use crate::support::TestApp;

type EventRow = (i64, i64, Option<String>, String, Ts, String);
type TicketRow = (i64, String, String, String, Ts, Ts, Option<Ts>);

async fn tickets(db: &Db) -> Vec<TicketRow> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, TicketRow>(
            "select id, subject, status, ticket_type, created_at, updated_at, solved_at from tickets order by id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    })
}

/// Every status event, per ticket in insertion order.
async fn events(db: &Db) -> Vec<EventRow> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, EventRow>(
            "select ticket_id, id, from_status, to_status, at, actor_kind from status_events order by ticket_id, id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    })
}

/// (ticket, id, kind, actor kind, actor, at, data)
type AuditRow = (i64, i64, String, String, Option<i64>, Ts, Json<Value>);

/// Every ticket event, per ticket in id order.
async fn audit_trail(db: &Db) -> Vec<AuditRow> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, AuditRow>(
            "select ticket_id, id, kind, actor_kind, actor_id, at, data from ticket_events order by ticket_id, id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    })
}

/// (ticket, id, author, public, created at)
type CommentRow = (i64, i64, Option<i64>, bool, Ts);

async fn comments(db: &Db) -> Vec<CommentRow> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, CommentRow>(
            "select ticket_id, id, author_id, public, created_at from comments order by ticket_id, id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    })
}

/// (ticket, requester, created at)
async fn requesters(db: &Db) -> BTreeMap<i64, (i64, Ts)> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, (i64, i64, Ts)>("select id, requester_id, created_at from tickets")
            .fetch_all(pool)
            .await
            .unwrap()
    })
    .into_iter()
    .map(|(id, requester, created_at)| (id, (requester, created_at)))
    .collect()
}

/// The actor of every status event, per ticket in insertion order.
async fn status_actors(db: &Db) -> BTreeMap<i64, Vec<Option<i64>>> {
    let rows = with_db!(db, |pool| {
        sqlx::query_as::<_, (i64, Option<i64>)>(
            "select ticket_id, actor_id from status_events order by ticket_id, id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    let mut actors: BTreeMap<i64, Vec<Option<i64>>> = BTreeMap::new();
    for (ticket, actor) in rows {
        actors.entry(ticket).or_default().push(actor);
    }
    actors
}

async fn comment_counts(db: &Db) -> (i64, i64, Option<Ts>) {
    with_db!(db, |pool| {
        let public: i64 = sqlx::query_scalar("select count(*) from comments where public = $1")
            .bind(true)
            .fetch_one(pool)
            .await
            .unwrap();
        let internal: i64 = sqlx::query_scalar("select count(*) from comments where public = $1")
            .bind(false)
            .fetch_one(pool)
            .await
            .unwrap();
        let latest: Option<Ts> = sqlx::query_scalar("select max(created_at) from comments")
            .fetch_one(pool)
            .await
            .unwrap();
        (public, internal, latest)
    })
}

async fn attachment_rows(db: &Db) -> Vec<(String, i64)> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, (String, i64)>(
            "select storage_key, size_bytes from attachments order by id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    })
}

#[tokio::test]
async fn the_demo_seeds_organizations_people_and_two_hundred_tickets() {
    let tc = TestApp::new().await;
    let summary = service::demo::seed(&tc.state, 200).await.unwrap();
    let db = &tc.state.db;
    assert_eq!(summary.tickets, 200);
    assert_eq!(summary.attachments, 8);

    assert_eq!(store::orgs::list(db).await.unwrap().len(), 3);

    let users = store::users::list_active(db, 100).await.unwrap();
    let customers: Vec<_> = users
        .iter()
        .filter(|u| u.role() == Role::Customer)
        .collect();
    assert!(!customers.is_empty());
    let mut in_two = Vec::new();
    for customer in &customers {
        let memberships = store::users::memberships(db, customer.id).await.unwrap();
        assert!(
            !memberships.is_empty(),
            "{} belongs to no organization",
            customer.name
        );
        if memberships.len() == 2 {
            in_two.push(customer.name.clone());
        }
    }
    assert!(!in_two.is_empty(), "no customer is in two organizations");

    let mut agent_groups = BTreeSet::new();
    for agent in users.iter().filter(|u| u.role() == Role::Agent) {
        let groups = store::users::groups(db, agent.id).await.unwrap();
        assert!(!groups.is_empty(), "agent {} is in no group", agent.name);
        agent_groups.extend(groups);
    }
    assert_eq!(
        agent_groups,
        BTreeSet::from(["Suporte".to_owned(), "Tech".to_owned()])
    );
    assert!(users.iter().any(|u| u.role() == Role::Admin), "no admin");

    let tickets = tickets(db).await;
    assert_eq!(tickets.len(), 200);
    let statuses: BTreeSet<&str> = tickets.iter().map(|t| t.2.as_str()).collect();
    let all_statuses: BTreeSet<&str> = TicketStatus::ALL.iter().map(|s| s.key()).collect();
    assert_eq!(statuses, all_statuses);
    let types: BTreeSet<&str> = tickets.iter().map(|t| t.3.as_str()).collect();
    let all_types: BTreeSet<&str> = TicketType::ALL.iter().map(|t| t.key()).collect();
    assert_eq!(types, all_types);

    let (public, internal, latest_comment) = comment_counts(db).await;
    assert!(public > 0, "no public replies");
    assert!(internal > 0, "no internal notes");
    assert!(
        latest_comment.unwrap() <= Ts(tc.clock.now()),
        "a comment is dated in the future"
    );

    let attachments = attachment_rows(db).await;
    assert_eq!(attachments.len(), 8);
    for (key, size) in &attachments {
        let blob = tc.state.blobs.get(key).await.unwrap();
        assert_eq!(i64::try_from(blob.len()).unwrap(), *size, "blob {key}");
    }
    assert_eq!(tc.state.blobs.keys().await.unwrap().len(), 8);
}

#[tokio::test]
async fn every_demo_ticket_history_is_ordered_allowed_and_ends_in_its_status() {
    let tc = TestApp::new().await;
    service::demo::seed(&tc.state, 200).await.unwrap();
    let db = &tc.state.db;
    let now = Ts(tc.clock.now());

    let mut by_ticket: BTreeMap<i64, Vec<EventRow>> = BTreeMap::new();
    for event in events(db).await {
        by_ticket.entry(event.0).or_default().push(event);
    }
    let tickets = tickets(db).await;
    assert_eq!(
        by_ticket.len(),
        tickets.len(),
        "a ticket has no status events"
    );

    for (id, _, status, _, created_at, updated_at, solved_at) in &tickets {
        let history = &by_ticket[id];
        assert_eq!(
            history[0].2, None,
            "ticket {id}: first event has a from status"
        );
        assert!(
            history[0].4 >= *created_at,
            "ticket {id}: an event precedes the ticket"
        );
        for pair in history.windows(2) {
            assert!(
                pair[0].4 <= pair[1].4,
                "ticket {id}: event times go backwards: {history:?}"
            );
            assert_eq!(
                pair[1].2.as_deref(),
                Some(pair[0].3.as_str()),
                "ticket {id}: broken chain {history:?}"
            );
        }
        for (_, _, from, to, at, actor) in history {
            assert!(*at <= now, "ticket {id}: event in the future");
            let from = from.as_deref().map(|f| TicketStatus::from_key(f).unwrap());
            let to = TicketStatus::from_key(to).unwrap();
            let actor = ActorKind::from_key(actor).unwrap();
            assert!(
                check_transition(from, to, actor).is_ok(),
                "ticket {id}: {from:?} → {to:?} by {actor:?} is not allowed"
            );
        }
        let mut ordered = history.clone();
        ordered.sort_by_key(|e| (e.4, e.1));
        let last = ordered.last().unwrap();
        assert_eq!(
            &last.3, status,
            "ticket {id}: status is not the last event's"
        );
        assert!(
            *updated_at >= last.4,
            "ticket {id}: updated before its last change"
        );
        assert!(*updated_at <= now, "ticket {id}: updated in the future");
        if status == "solved" {
            assert_eq!(*solved_at, Some(last.4), "ticket {id}: solved_at");
        } else {
            assert_eq!(
                *solved_at, None,
                "ticket {id}: solved_at on a {status} ticket"
            );
        }
    }
}

#[tokio::test]
async fn every_demo_ticket_has_an_audit_trail_matching_its_history() {
    let tc = TestApp::new().await;
    service::demo::seed(&tc.state, 200).await.unwrap();
    let db = &tc.state.db;

    let tickets = requesters(db).await;
    let mut history: BTreeMap<i64, Vec<EventRow>> = BTreeMap::new();
    for event in events(db).await {
        history.entry(event.0).or_default().push(event);
    }
    let actors = status_actors(db).await;
    let mut conversation: BTreeMap<i64, Vec<CommentRow>> = BTreeMap::new();
    for comment in comments(db).await {
        conversation.entry(comment.0).or_default().push(comment);
    }
    let mut trails: BTreeMap<i64, Vec<AuditRow>> = BTreeMap::new();
    for event in audit_trail(db).await {
        trails.entry(event.0).or_default().push(event);
    }
    assert_eq!(
        trails.keys().collect::<Vec<_>>(),
        tickets.keys().collect::<Vec<_>>(),
        "ticket events for other tickets, or tickets without any"
    );

    let mut comment_events = 0;
    for (id, (requester, created_at)) in &tickets {
        let trail = &trails[id];
        let statuses = &history[id];
        let of_kind = |kind: &str| trail.iter().filter(|e| e.2 == kind).collect::<Vec<_>>();

        let created = of_kind("created");
        assert_eq!(created.len(), 1, "ticket {id}: {trail:?}");
        let created = created[0];
        assert_eq!(created.1, trail[0].1, "ticket {id}: created is not first");
        assert_eq!(created.5, *created_at, "ticket {id}: created at");
        assert_eq!(created.3, statuses[0].5, "ticket {id}: created by");
        assert_eq!(created.4, actors[id][0], "ticket {id}: created by");
        assert_eq!(
            created.6.0,
            json!({ "status": statuses[0].3 }),
            "ticket {id}"
        );
        if created.3 == "customer" {
            assert_eq!(created.4, Some(*requester), "ticket {id}: created by");
        }

        let changes = of_kind("status_changed");
        assert_eq!(changes.len(), statuses.len() - 1, "ticket {id}: {trail:?}");
        for ((change, status), actor) in changes.iter().zip(&statuses[1..]).zip(&actors[id][1..]) {
            assert_eq!(
                change.6.0,
                json!({ "from": status.2, "to": status.3 }),
                "ticket {id}"
            );
            assert_eq!(change.5, status.4, "ticket {id}: status change at");
            assert_eq!(change.3, status.5, "ticket {id}: status change by");
            assert_eq!(change.4, *actor, "ticket {id}: status change by");
        }

        let added = of_kind("comment_added");
        let written = conversation.get(id).map_or(&[][..], Vec::as_slice);
        assert_eq!(added.len(), written.len(), "ticket {id}: {trail:?}");
        comment_events += added.len();
        for comment in written {
            let (_, comment_id, author, public, at) = comment;
            let event = added
                .iter()
                .find(|e| e.6.0["comment_id"] == json!(comment_id))
                .unwrap_or_else(|| panic!("ticket {id}: no event for comment {comment_id}"));
            assert_eq!(
                event.6.0,
                json!({ "comment_id": comment_id, "public": public }),
                "ticket {id}"
            );
            assert_eq!(event.5, *at, "ticket {id}: comment {comment_id} at");
            assert_eq!(event.4, *author, "ticket {id}: comment {comment_id} by");
            let kind = match author {
                Some(author) if author == requester => "customer",
                Some(_) => "agent",
                None => "system",
            };
            assert_eq!(event.3, kind, "ticket {id}: comment {comment_id} by");
        }

        assert_eq!(
            trail.len(),
            1 + changes.len() + added.len(),
            "ticket {id}: unexpected events {trail:?}"
        );
        for pair in trail.windows(2) {
            assert!(
                pair[0].5 <= pair[1].5,
                "ticket {id}: ticket event times go backwards: {trail:?}"
            );
        }
    }
    assert!(comment_events > 0, "no comment events");
}

/// The e-mail composer starts after the demo's history, so none of it is
/// mailed; events appended later take the next ids.
#[tokio::test]
async fn the_demo_history_is_not_mailed_and_later_events_follow_it() {
    let tc = TestApp::new().await;
    service::demo::seed(&tc.state, 20).await.unwrap();
    let db = &tc.state.db;
    let newest = store::events::last_id(db).await.unwrap();
    assert!(newest > 0);
    let cursor = store::mail::start_cursor(db, tc.clock.now()).await.unwrap();
    assert_eq!(cursor, newest);

    // Events appended later take the next ids (PostgreSQL's sequence moved
    // past the generated ones).
    let ticket = tickets(db).await[0].0;
    let next: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into ticket_events (ticket_id, kind, actor_kind, at, data) \
             values ($1, 'reminder_sent', 'system', $2, $3) returning id",
        )
        .bind(ticket)
        .bind(Ts(tc.clock.now()))
        .bind(Json(json!({})))
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(next, newest + 1);
}

#[tokio::test]
async fn the_demo_generates_the_same_tickets_on_every_run() {
    let first = TestApp::new().await;
    let second = TestApp::new().await;
    assert_eq!(first.clock.now(), second.clock.now());
    service::demo::seed(&first.state, 200).await.unwrap();
    service::demo::seed(&second.state, 200).await.unwrap();

    let first_tickets = tickets(&first.state.db).await;
    let second_tickets = tickets(&second.state.db).await;
    assert_eq!(first_tickets.len(), 200);
    assert_eq!(first_tickets, second_tickets);
    let subjects: BTreeSet<&str> = first_tickets.iter().map(|t| t.1.as_str()).collect();
    assert!(subjects.len() > 5, "the subjects barely vary: {subjects:?}");

    let strip_ids = |rows: Vec<EventRow>| {
        rows.into_iter()
            .map(|(t, _, f, to, at, a)| (t, f, to, at, a))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip_ids(events(&first.state.db).await),
        strip_ids(events(&second.state.db).await)
    );
    let first_trail = audit_trail(&first.state.db).await;
    assert!(!first_trail.is_empty());
    assert_eq!(first_trail, audit_trail(&second.state.db).await);
}

#[tokio::test]
async fn the_host_page_does_not_exist_outside_demo_mode() {
    let tc = TestApp::new().await;
    service::demo::seed(&tc.state, 10).await.unwrap();
    let mut browser = tc.browser();
    assert_eq!(
        browser.get("/demo/host").await.status,
        StatusCode::NOT_FOUND
    );
    // With a valid CSRF token, so only the missing route can refuse it.
    let response = browser
        .submit(
            "/login",
            "/demo/host/login",
            &[("user_id", "1"), ("return_to", "/portal")],
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.body);
    assert!(response.location().is_none(), "{:?}", response.location());
}

#[tokio::test]
async fn the_host_page_signs_a_demo_customer_into_the_portal() {
    let tc = TestApp::new().await;
    service::demo::seed(&tc.state, 20).await.unwrap();
    let state = tc.state.in_demo_mode();
    let demo = TestApp::from_state(state, tc.clock.clone(), Arc::clone(&tc.dir));
    let ana = store::users::find_by_email(&demo.state.db, "ana@padaria.example")
        .await
        .unwrap()
        .unwrap();
    let ana_id = ana.id.to_string();
    let mut browser = demo.browser();

    let page = browser.get("/demo/host").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Entrar como Ana Souza"), "{}", page.body);

    let response = browser
        .submit(
            "/demo/host",
            "/demo/host/login",
            &[("user_id", ana_id.as_str()), ("return_to", "/portal")],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let location = response.location().unwrap().to_owned();
    assert!(location.starts_with("/access/jwt?jwt="), "{location}");

    let signed_in = browser.get(&location).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location(), Some("/portal"));

    let portal = browser.get("/portal/account").await;
    assert_eq!(portal.status, StatusCode::OK, "{}", portal.body);
    for text in ["Ana Souza", "Padaria Pão Dourado", "Transportes Rio Claro"] {
        assert!(
            portal.body.contains(text),
            "/portal does not show {text}: {}",
            portal.body
        );
    }
    assert!(
        !portal.body.contains("Clínica Bem Viver"),
        "Ana is not in Clínica Bem Viver"
    );
}

#[tokio::test]
async fn demo_tickets_awaiting_a_reply_survive_the_automations_at_start() {
    let tc = crate::support::TestApp::new().await;
    chamado::service::demo::seed(&tc.state, 200).await.unwrap();
    let waiting = |db: chamado::store::Db| async move {
        chamado::with_db!(&db, |pool| {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from tickets where status = 'awaiting_reply'",
            )
            .fetch_one(pool)
            .await
            .unwrap()
        })
    };
    let before = waiting(tc.state.db.clone()).await;
    assert!(before > 0);
    let report = chamado::jobs::run_once(&tc.state, "test").await.unwrap();
    assert_eq!(waiting(tc.state.db.clone()).await, before, "{report:?}");
}
