//! Tests: counts. The status counts next to the portal's filters and the
//! agent's queues are reused between requests, and still never show a
//! number that a write has made wrong: not after a write on this node, not
//! after one on another node, not after the viewer's memberships changed.

use std::time::{Duration, Instant};

use chamado::domain::{Role, TicketStatus};

use crate::{
    portal::{post_multipart, signed_in, ticket, user},
    support::TestApp,
};

/// The count shown next to `status` in a page of the portal's list.
fn shown_count(body: &str, status: TicketStatus) -> i64 {
    let marker = format!("data-status=\"{}\">", status.key());
    let start = body.find(&marker).expect("the status count") + marker.len();
    body[start..]
        .split('<')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .expect("a number")
}

/// The count of a queue in the agent's workspace.
fn queue_count(body: &str, queue: &str) -> i64 {
    let marker = format!("data-count=\"{queue}\">");
    let start = body.find(&marker).expect("the queue count") + marker.len();
    body[start..]
        .split('<')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .expect("a number")
}

#[tokio::test]
async fn a_new_ticket_shows_in_the_counts_at_once() {
    let app = TestApp::new().await;
    app.create_org("Padaria", "org-p").await;
    let ana = user(&app, "ana@example.com", "Ana", Role::Customer, &["org-p"]).await;
    ticket(&app, ana, None, "Primeiro", "Um").await;
    user(&app, "fe@example.com", "Fernanda", Role::Agent, &[]).await;
    let mut browser = signed_in(&app, "ana@example.com").await;
    let mut agent = signed_in(&app, "fe@example.com").await;

    let page = browser.get("/portal/tickets").await;
    assert_eq!(shown_count(&page.body, TicketStatus::Sent), 1);
    // Read twice: the second answer comes from the cache, still right.
    let page = browser.get("/portal/tickets").await;
    assert_eq!(shown_count(&page.body, TicketStatus::Sent), 1);
    let queues = agent.get("/agent").await;
    assert_eq!(queue_count(&queues.body, "sent"), 1);

    let form = browser.get("/portal/tickets/new").await;
    let token = form.csrf_token().unwrap();
    let key = "0123456789abcdef0123456789abcdef";
    let created = post_multipart(
        &mut browser,
        "/portal/tickets",
        Some(&token),
        &[
            ("submission_key", key),
            ("ticket_type", "support"),
            ("subject", "Segundo"),
            ("description", "Dois"),
        ],
        &[],
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.body);

    let page = browser.get("/portal/tickets").await;
    assert_eq!(shown_count(&page.body, TicketStatus::Sent), 2);
    let queues = agent.get("/agent").await;
    assert_eq!(queue_count(&queues.body, "sent"), 2);
}

#[tokio::test]
async fn a_write_on_another_node_reaches_this_nodes_counts() {
    let app = TestApp::new().await;
    app.create_org("Padaria", "org-p").await;
    let ana = user(&app, "ana@example.com", "Ana", Role::Customer, &["org-p"]).await;
    ticket(&app, ana, None, "Primeiro", "Um").await;
    chamado::realtime::spawn(&app.state);
    app.state.hub.started().await;
    let other = app.second_node();
    let mut here = signed_in(&app, "ana@example.com").await;
    let page = here.get("/portal/tickets").await;
    assert_eq!(shown_count(&page.body, TicketStatus::Sent), 1);

    // The customer opens a ticket through the other node.
    let mut there = signed_in(&other, "ana@example.com").await;
    let form = there.get("/portal/tickets/new").await;
    let token = form.csrf_token().unwrap();
    let created = post_multipart(
        &mut there,
        "/portal/tickets",
        Some(&token),
        &[
            ("submission_key", "fedcba9876543210fedcba9876543210"),
            ("ticket_type", "incident"),
            ("subject", "Pelo outro nó"),
            ("description", "Dois"),
        ],
        &[],
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.body);

    // This node hears of it (LISTEN/NOTIFY on PostgreSQL, its event pump on
    // SQLite) and its next page counts it.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let page = here.get("/portal/tickets").await;
        if shown_count(&page.body, TicketStatus::Sent) == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the other node's ticket was never counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn counts_follow_the_viewers_memberships() {
    let app = TestApp::new().await;
    let padaria = app.create_org("Padaria", "org-p").await;
    let bruno = user(
        &app,
        "bruno@example.com",
        "Bruno",
        Role::Customer,
        &["org-p"],
    )
    .await;
    ticket(&app, bruno, Some(padaria), "Do Bruno", "Um").await;
    let ana = user(&app, "ana@example.com", "Ana", Role::Customer, &["org-p"]).await;
    let mut browser = signed_in(&app, "ana@example.com").await;
    let page = browser.get("/portal/tickets?view=org").await;
    assert_eq!(shown_count(&page.body, TicketStatus::Sent), 1);

    // Ana leaves the organization without any write request on this node
    // (as a sign-in through SSO does it): the writer tells the node, as SSO
    // sign-ins do here and PostgreSQL's triggers do for every node, and the
    // count goes with the membership.
    let db = &app.state.db;
    chamado::with_db!(db, |pool| {
        sqlx::query("delete from memberships where user_id = $1")
            .bind(ana.0)
            .execute(pool)
            .await
            .unwrap();
    });
    app.state.hub.cached_rows_changed();
    let page = browser.get("/portal/tickets?view=org").await;
    assert_eq!(shown_count(&page.body, TicketStatus::Sent), 0);
}
