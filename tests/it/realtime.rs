//! Real time: the node's hub and its pump, PostgreSQL LISTEN/NOTIFY across
//! nodes (out-of-order commits, rollbacks, a lost listener), triage notices,
//! and the agent workspace's server-sent events.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use chamado::{
    AppState,
    domain::{ActorKind, OrgId, Role, TicketId, UserId},
    jobs,
    realtime::{self, Notice},
    service::{self, triage::Completion},
    store::{self, Db, WritePool, events::EventKind},
    with_db,
};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use serde_json::json;
use tokio::sync::broadcast::Receiver;
use tower::ServiceExt;

use crate::{
    portal::{NEW_TICKET, created_id, open_via_portal, reply, signed_in, ticket, user},
    support::{Browser, TestApp, postgres_url},
};

const ANA: &str = "ana@padaria.example";
const FERNANDA: &str = "fernanda@suporte.example";
const GUSTAVO: &str = "gustavo@suporte.example";

struct Desk {
    org: OrgId,
    ana: UserId,
    fernanda: UserId,
}

async fn desk(tc: &TestApp) -> Desk {
    let org = tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let ana = user(tc, ANA, "Ana Souza", Role::Customer, &["org-padaria"]).await;
    let fernanda = user(tc, FERNANDA, "Fernanda Agente", Role::Agent, &[]).await;
    user(tc, GUSTAVO, "Gustavo Agente", Role::Agent, &[]).await;
    Desk { org, ana, fernanda }
}

/// Starts the node's pump and waits until it runs.
async fn live(state: &AppState) {
    realtime::spawn(state);
    tokio::time::timeout(Duration::from_secs(10), state.hub.started())
        .await
        .expect("the pump starts");
}

/// Every notice received within `window`.
async fn notices_within(receiver: &mut Receiver<Arc<Notice>>, window: Duration) -> Vec<Notice> {
    let deadline = tokio::time::Instant::now() + window;
    let mut out = Vec::new();
    while let Ok(received) = tokio::time::timeout_at(deadline, receiver.recv()).await {
        match received {
            Ok(notice) => out.push(Notice::clone(&notice)),
            Err(error) => panic!("receiver failed: {error}"),
        }
    }
    out
}

/// Waits (up to `limit`) for the event of `kind` on `ticket`; returns its id.
async fn wait_for_event(
    receiver: &mut Receiver<Arc<Notice>>,
    ticket: TicketId,
    kind: EventKind,
    limit: Duration,
) -> Option<i64> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let notice = tokio::time::timeout_at(deadline, receiver.recv())
            .await
            .ok()?
            .ok()?;
        if let Notice::Event(event) = &*notice
            && event.ticket_id == ticket.0
            && event.kind() == Some(kind)
        {
            return Some(event.id);
        }
    }
}

fn event_ids(notices: &[Notice]) -> Vec<i64> {
    notices
        .iter()
        .filter_map(|n| match n {
            Notice::Event(event) => Some(event.id),
            _ => None,
        })
        .collect()
}

fn triage_states(notices: &[Notice], session: i64) -> Vec<(i64, String)> {
    notices
        .iter()
        .filter_map(|n| match n {
            Notice::Triage {
                user_id,
                session_id,
                state,
            } if *session_id == session => Some((*user_id, state.clone())),
            _ => None,
        })
        .collect()
}

/// Appends an event in a transaction the test commits or rolls back.
async fn append_in_tx(db: &Db, ticket: TicketId, commit: bool) {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await.unwrap();
        store::events::append(
            &mut tx,
            ticket.0,
            EventKind::CommentAdded,
            (ActorKind::System, None),
            jiff::Timestamp::now(),
            json!({ "comment_id": 0, "public": false }),
        )
        .await
        .unwrap();
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_reply_through_http_reaches_the_hub_once() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = ticket(&tc, d.ana, Some(d.org), "Erro na nota", "Falha ao emitir").await;
    live(&tc.state).await;
    let mut receiver = tc.state.hub.subscribe();
    let mut ana = signed_in(&tc, ANA).await;
    let response = reply(&mut ana, id, "Ainda não funciona", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let notices = notices_within(&mut receiver, Duration::from_millis(1500)).await;
    let replies: Vec<_> = notices
        .iter()
        .filter_map(|n| match n {
            Notice::Event(e)
                if e.ticket_id == id.0 && e.kind() == Some(EventKind::CommentAdded) =>
            {
                Some(Arc::clone(e))
            }
            _ => None,
        })
        .collect();
    assert_eq!(replies.len(), 1, "exactly one notice: {notices:?}");
    assert_eq!(replies[0].data.0["public"], true);
    assert_eq!(replies[0].actor_id, Some(d.ana.0));
    let ids = event_ids(&notices);
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "no event twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_write_never_produces_a_notice() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = ticket(&tc, d.ana, Some(d.org), "Erro na nota", "Falha ao emitir").await;
    live(&tc.state).await;
    let mut receiver = tc.state.hub.subscribe();
    let before = store::events::last_id(&tc.state.db).await.unwrap();
    append_in_tx(&tc.state.db, id, false).await;
    append_in_tx(&tc.state.db, id, true).await;
    tc.state.hub.wake();
    let notices = notices_within(&mut receiver, Duration::from_millis(1500)).await;
    let committed = store::events::after(&tc.state.db, before, 10)
        .await
        .unwrap();
    assert_eq!(committed.len(), 1);
    assert_eq!(
        event_ids(&notices),
        [committed[0].id],
        "only the committed event: {notices:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_reply_on_node_b_reaches_node_a_within_a_second_once() {
    if postgres_url().is_none() {
        return;
    }
    let a = TestApp::new().await;
    let d = desk(&a).await;
    let id = ticket(&a, d.ana, Some(d.org), "Erro na nota", "Falha ao emitir").await;
    let b = a.second_node();
    live(&a.state).await;
    live(&b.state).await;
    let mut on_a = a.state.hub.subscribe();
    let mut on_b = b.state.hub.subscribe();
    let mut ana = signed_in(&b, ANA).await;
    let sent = std::time::Instant::now();
    let response = reply(&mut ana, id, "Ainda não funciona", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let arrived = wait_for_event(
        &mut on_a,
        id,
        EventKind::CommentAdded,
        Duration::from_secs(1),
    )
    .await
    .expect("node A hears node B's reply");
    assert!(sent.elapsed() < Duration::from_secs(1));
    let rest = notices_within(&mut on_a, Duration::from_millis(1200)).await;
    assert!(!event_ids(&rest).contains(&arrived), "once: {rest:?}");
    // Node B tells its own views too, once.
    let on_b = notices_within(&mut on_b, Duration::from_millis(200)).await;
    assert_eq!(
        event_ids(&on_b).iter().filter(|e| **e == arrived).count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opened_through_the_portal_reaches_every_node_once() {
    let a = TestApp::new().await;
    let d = desk(&a).await;
    // On PostgreSQL the ticket is opened on another node, whose notice
    // node A must hear; on SQLite there is one node.
    let b = if postgres_url().is_some() {
        Some(a.second_node())
    } else {
        None
    };
    let opener = b.as_ref().unwrap_or(&a);
    live(&a.state).await;
    if let Some(b) = &b {
        live(&b.state).await;
    }
    let mut on_a = a.state.hub.subscribe();
    let mut ana = signed_in(opener, ANA).await;
    let response = open_via_portal(&mut ana, &NEW_TICKET, &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let id = created_id(&response);
    let notices = notices_within(&mut on_a, Duration::from_millis(1500)).await;
    let created: Vec<_> = notices
        .iter()
        .filter_map(|n| match n {
            Notice::Event(e) if e.ticket_id == id.0 => Some(Arc::clone(e)),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 1, "exactly one notice: {notices:?}");
    assert_eq!(created[0].kind(), Some(EventKind::Created));
    assert_eq!(created[0].actor_id, Some(d.ana.0));
    assert_eq!(created[0].data.0["status"], "sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_an_earlier_id_committing_later_is_not_lost() {
    let Some(_) = postgres_url() else {
        return;
    };
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = ticket(&tc, d.ana, Some(d.org), "Erro na nota", "Falha ao emitir").await;
    live(&tc.state).await;
    let mut receiver = tc.state.hub.subscribe();
    let Db::Postgres(pool, _) = &tc.state.db else {
        unreachable!()
    };
    let mut first = pool.begin_write().await.unwrap();
    store::events::append(
        &mut first,
        id.0,
        EventKind::CommentAdded,
        (ActorKind::System, None),
        tc.clock.now(),
        json!({ "comment_id": 0, "public": false }),
    )
    .await
    .unwrap();
    let first_id: i64 = sqlx::query_scalar("select max(id) from ticket_events")
        .fetch_one(&mut *first)
        .await
        .unwrap();
    // A later id commits first.
    store::tickets::add_comment(
        &tc.state.db,
        id,
        Some(d.fernanda),
        "Verificando",
        true,
        tc.clock.now(),
    )
    .await
    .unwrap();
    let later = wait_for_event(
        &mut receiver,
        id,
        EventKind::CommentAdded,
        Duration::from_secs(2),
    )
    .await
    .expect("the later id arrives");
    assert!(later > first_id);
    first.commit().await.unwrap();
    let notices = notices_within(&mut receiver, Duration::from_millis(1500)).await;
    assert_eq!(event_ids(&notices), [first_id], "the earlier id, once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_lost_listener_resyncs_and_loses_nothing() {
    let Some(_) = postgres_url() else {
        return;
    };
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = ticket(&tc, d.ana, Some(d.org), "Erro na nota", "Falha ao emitir").await;
    live(&tc.state).await;
    let mut receiver = tc.state.hub.subscribe();
    let Db::Postgres(pool, _) = &tc.state.db else {
        unreachable!()
    };
    let terminated: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(pid) from pg_stat_activity \
         where datname = current_database() and application_name = $1",
    )
    .bind("chamado-listener")
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(terminated, [true], "one listener on this node");
    // Written while the listener is down or coming back.
    let comment = store::tickets::add_comment(
        &tc.state.db,
        id,
        Some(d.fernanda),
        "Enquanto caía",
        true,
        tc.clock.now(),
    )
    .await
    .unwrap();
    let notices = notices_within(&mut receiver, Duration::from_secs(4)).await;
    assert!(
        notices.iter().any(|n| matches!(n, Notice::Resync)),
        "views are told to resync: {notices:?}"
    );
    let events: Vec<_> = notices
        .iter()
        .filter_map(|n| match n {
            Notice::Event(e) => Some(e.data.0["comment_id"].clone()),
            _ => None,
        })
        .collect();
    assert_eq!(events, [json!(comment.0)], "the reply, exactly once");
    // And the node listens again.
    store::tickets::add_comment(
        &tc.state.db,
        id,
        Some(d.fernanda),
        "Depois",
        true,
        tc.clock.now(),
    )
    .await
    .unwrap();
    assert!(
        wait_for_event(
            &mut receiver,
            id,
            EventKind::CommentAdded,
            Duration::from_secs(2)
        )
        .await
        .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_triage_is_reminded_once_then_abandoned_with_notices() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let node_b = tc.second_node();
    live(&tc.state).await;
    live(&node_b.state).await;
    let mut on_a = tc.state.hub.subscribe();
    let mut on_b = node_b.state.hub.subscribe();
    let session = service::triage::start(&tc.state, d.ana, Some(d.org), "widget")
        .await
        .unwrap();
    service::triage::answer(&tc.state, d.ana, session, "subject", "Nota fiscal")
        .await
        .unwrap();

    // Before half the timeout (30 minutes): nothing.
    tc.clock.advance(SignedDuration::from_mins(14));
    assert_eq!(jobs::triage_reminder::run(&tc.state).await.unwrap(), 0);

    // At half the timeout, two nodes sweeping at once remind it once.
    tc.clock.advance(SignedDuration::from_mins(1));
    let (first, second) = tokio::join!(
        jobs::triage_reminder::run(&tc.state),
        jobs::triage_reminder::run(&node_b.state)
    );
    assert_eq!(first.unwrap() + second.unwrap(), 1);
    let stored = store::jobs::find_triage(&tc.state.db, session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.reminded_at.map(|t| t.0), Some(tc.clock.now()));
    tc.clock.advance(SignedDuration::from_mins(5));
    assert_eq!(
        jobs::triage_reminder::run(&tc.state).await.unwrap(),
        0,
        "never twice"
    );

    // At the timeout the job abandons it.
    tc.clock.advance(SignedDuration::from_mins(10));
    assert_eq!(jobs::triage_timeout::run(&node_b.state).await.unwrap(), 1);

    let on_a = notices_within(&mut on_a, Duration::from_millis(1200)).await;
    let on_b = notices_within(&mut on_b, Duration::from_millis(200)).await;
    let expected = vec![
        (d.ana.0, "reminded".to_owned()),
        (d.ana.0, "abandoned".to_owned()),
    ];
    if matches!(tc.state.db, Db::Postgres(..)) {
        // Every node hears each notice once.
        assert_eq!(triage_states(&on_a, session.0), expected, "{on_a:?}");
        assert_eq!(triage_states(&on_b, session.0), expected, "{on_b:?}");
    } else {
        // One SQLite node: each notice once, on the node that wrote it.
        let mut all = triage_states(&on_a, session.0);
        all.extend(triage_states(&on_b, session.0));
        assert_eq!(all.len(), 2, "{all:?}");
        assert!(all.contains(&expected[0]) && all.contains(&expected[1]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_after_the_reminder_does_not_remind_again_and_completing_notifies() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    live(&tc.state).await;
    let mut receiver = tc.state.hub.subscribe();
    let session = service::triage::start(&tc.state, d.ana, Some(d.org), "widget")
        .await
        .unwrap();
    tc.clock.advance(SignedDuration::from_mins(16));
    assert_eq!(jobs::triage_reminder::run(&tc.state).await.unwrap(), 1);
    service::triage::answer(&tc.state, d.ana, session, "subject", "Nota fiscal")
        .await
        .unwrap();
    tc.clock.advance(SignedDuration::from_mins(16));
    assert_eq!(jobs::triage_reminder::run(&tc.state).await.unwrap(), 0);
    service::triage::complete(
        &tc.state,
        d.ana,
        session,
        &Completion {
            subject: "Nota fiscal",
            description: "Não consigo emitir",
            ticket_type: Some(chamado::domain::TicketType::Incident),
            organization: Some(d.org),
        },
    )
    .await
    .unwrap();
    let notices = notices_within(&mut receiver, Duration::from_millis(1200)).await;
    assert_eq!(
        triage_states(&notices, session.0),
        [
            (d.ana.0, "reminded".to_owned()),
            (d.ana.0, "completed".to_owned())
        ]
    );
}

/// The cookie header of a signed-in browser.
fn cookies(browser: &Browser<'_>) -> String {
    browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Opens `/agent/live…` as the browser would, returning the status and the
/// streaming body.
async fn open_stream(
    tc: &TestApp,
    browser: &Browser<'_>,
    path: &str,
    last_event_id: Option<i64>,
) -> (StatusCode, axum::http::HeaderMap, Body) {
    let mut request = Request::get(path)
        .header(header::COOKIE, cookies(browser))
        .header(header::ACCEPT, "text/event-stream");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let mut request = request.body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((
            [203, 0, 113, 7],
            40000,
        ))));
    let response = tc.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.into_body())
}

/// Reads the stream until `done` holds for the text so far, or `limit`.
async fn read_until(body: &mut Body, limit: Duration, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + limit;
    let mut text = String::new();
    while !done(&text) {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            _ => break,
        }
    }
    text
}

/// The `data:` JSON of every `event: ticket` in the text.
fn ticket_events(text: &str) -> Vec<serde_json::Value> {
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| l == "event: ticket"))
        .filter_map(|block| {
            block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .and_then(|d| serde_json::from_str(d).ok())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_get_live_ticket_events_over_server_sent_events() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = ticket(&tc, d.ana, Some(d.org), "Erro na nota", "Falha ao emitir").await;
    live(&tc.state).await;
    let agent = signed_in(&tc, FERNANDA).await;
    let (status, headers, mut body) = open_stream(&tc, &agent, "/agent/live", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let start = read_until(&mut body, Duration::from_secs(2), |t| t.contains("retry:")).await;
    assert!(start.contains("retry: 3000"), "{start}");

    let mut ana = signed_in(&tc, ANA).await;
    reply(&mut ana, id, "Ainda não funciona", &[]).await;
    // An internal note by the agent herself: agents see notes, marked mine.
    store::tickets::add_comment(
        &tc.state.db,
        id,
        Some(d.fernanda),
        "Nota",
        false,
        tc.clock.now(),
    )
    .await
    .unwrap();
    tc.state.hub.wake();
    let text = read_until(&mut body, Duration::from_secs(3), |t| {
        ticket_events(t).len() >= 2
    })
    .await;
    let events = ticket_events(&text);
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0]["ticket"], id.0);
    assert_eq!(events[0]["kind"], "comment_added");
    assert_eq!(events[0]["mine"], false);
    assert_eq!(events[1]["mine"], true);
    let event_id = events[0]["event_id"].as_i64().unwrap();
    assert!(text.contains(&format!("id: {event_id}\n")), "{text}");

    // A node that stops ends its streams, so shutdown does not wait.
    tc.state.hub.close();
    let end = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = body.frame().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ended");
}

#[tokio::test]
async fn customers_get_the_workspace_404_and_visitors_its_login() {
    let tc = TestApp::new().await;
    desk(&tc).await;
    let mut ana = signed_in(&tc, ANA).await;
    let workspace = ana.get("/agent").await;
    assert_eq!(workspace.status, StatusCode::NOT_FOUND);
    let garbled = signed_in(&tc, FERNANDA)
        .await
        .get("/agent/live?ticket=abc")
        .await;
    assert_eq!(garbled.status, StatusCode::NOT_FOUND);
    let stream = ana.get("/agent/live").await;
    assert_eq!(stream.status, StatusCode::NOT_FOUND);
    assert_eq!(
        stream.headers[header::CONTENT_TYPE],
        workspace.headers[header::CONTENT_TYPE]
    );
    let mut visitor = tc.browser();
    let response = visitor.get("/agent/live").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(
        response
            .location()
            .unwrap_or_default()
            .starts_with("/login?return_to=")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_with_last_event_id_replays_what_was_missed() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = ticket(&tc, d.ana, Some(d.org), "Erro na nota", "Falha ao emitir").await;
    let other = ticket(&tc, d.ana, Some(d.org), "Outro", "Outro problema").await;
    let last_seen = store::events::last_id(&tc.state.db).await.unwrap();
    // Missed while disconnected.
    store::tickets::add_comment(&tc.state.db, id, Some(d.ana), "Um", true, tc.clock.now())
        .await
        .unwrap();
    store::tickets::add_comment(
        &tc.state.db,
        other,
        Some(d.ana),
        "Dois",
        true,
        tc.clock.now(),
    )
    .await
    .unwrap();
    store::tickets::add_comment(
        &tc.state.db,
        id,
        Some(d.fernanda),
        "Três",
        false,
        tc.clock.now(),
    )
    .await
    .unwrap();
    let agent = signed_in(&tc, FERNANDA).await;

    let (status, _, mut body) = open_stream(&tc, &agent, "/agent/live", Some(last_seen)).await;
    assert_eq!(status, StatusCode::OK);
    let text = read_until(&mut body, Duration::from_secs(2), |t| {
        ticket_events(t).len() >= 3
    })
    .await;
    let replayed: Vec<i64> = ticket_events(&text)
        .iter()
        .map(|e| e["event_id"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = store::events::after(&tc.state.db, last_seen, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(replayed, expected);

    // One ticket only: the page of ticket `id`.
    let (_, _, mut body) = open_stream(
        &tc,
        &agent,
        &format!("/agent/live?ticket={}", id.0),
        Some(last_seen),
    )
    .await;
    let text = read_until(&mut body, Duration::from_secs(2), |t| {
        ticket_events(t).len() >= 2
    })
    .await;
    let tickets: Vec<i64> = ticket_events(&text)
        .iter()
        .map(|e| e["ticket"].as_i64().unwrap())
        .collect();
    assert_eq!(tickets, [id.0, id.0], "{text}");
    let more = read_until(&mut body, Duration::from_millis(300), |t| !t.is_empty()).await;
    assert!(ticket_events(&more).is_empty(), "{more}");
}

#[tokio::test]
async fn agent_pages_load_the_live_script_and_mark_their_regions() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = ticket(&tc, d.ana, Some(d.org), "Erro na nota", "Falha ao emitir").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"<script src="/static/live.js" defer></script>"#)
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    for region in ["head", "time", "conversation", "audit"] {
        assert!(
            page.body.contains(&format!(r#"data-live="{region}""#)),
            "{region}"
        );
    }
    assert!(
        page.body
            .contains("Este ticket foi atualizado por outra pessoa")
    );
    assert!(page.body.contains(r#"aria-live="polite""#));
    let queue = agent.get("/agent").await;
    assert!(queue.body.contains(r#"data-live-page="queue""#));
    assert!(queue.body.contains(r#"data-live="list""#));
    let script = agent.get("/static/live.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(
        script.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.body.contains("/agent/live"));
}
