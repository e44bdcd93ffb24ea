//! What a node caches of sessions, memberships and settings
//! (`service::node_cache`) is dropped when any node changes them: on the
//! same node at once, on other PostgreSQL nodes through `chamado_cache`.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chamado::{
    AppState,
    domain::Role,
    realtime::{self, Hub},
    service, with_db,
};

use crate::{
    portal::{signed_in, user},
    support::{Browser, TestApp, postgres_url},
};

const ANA: &str = "ana@padaria.example";
const ADMIN: &str = "admin@suporte.example";

async fn live(state: &AppState) {
    realtime::spawn(state);
    tokio::time::timeout(Duration::from_secs(10), state.hub.started())
        .await
        .expect("the pump starts");
}

/// Polls `check` for up to two seconds.
async fn within_two_seconds(mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The same browser (cookies, address) on another node.
fn on<'a>(node: &'a TestApp, browser: &Browser<'_>) -> Browser<'a> {
    Browser {
        app: node,
        cookies: browser.cookies.clone(),
        address: browser.address,
    }
}

#[test]
fn a_node_that_may_miss_other_nodes_changes_reuses_nothing() {
    let hub = Hub::new();
    // PostgreSQL before its listener listens: nothing cached is reused.
    assert_eq!(hub.cache_generation(true), None);
    // One SQLite node hears every change it makes itself.
    let before = hub.cache_generation(false).expect("a generation");
    hub.wake();
    assert_ne!(hub.cache_generation(false), Some(before));
    let before = hub.cache_generation(false);
    hub.cached_rows_changed();
    assert_ne!(hub.cache_generation(false), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_removed_on_this_node_hides_its_organization_at_once() {
    let tc = TestApp::new().await;
    tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    tc.create_org("Mercado Bom Preço", "org-mercado").await;
    let ana = user(
        &tc,
        ANA,
        "Ana Souza",
        Role::Customer,
        &["org-padaria", "org-mercado"],
    )
    .await;
    user(&tc, ADMIN, "Admin", Role::Admin, &[]).await;
    let mut customer = signed_in(&tc, ANA).await;
    let page = customer.get("/portal/tickets?view=org").await;
    assert!(page.body.contains("Mercado Bom Preço"), "{}", page.body);

    let mercado = with_db!(&tc.state.db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "select id from organizations where external_id = 'org-mercado'",
        )
        .fetch_one(pool)
        .await
        .expect("org")
    });
    let mut admin = signed_in(&tc, ADMIN).await;
    let done = admin
        .submit(
            &format!("/admin/users/{}", ana.0),
            &format!("/admin/users/{}/memberships/{mercado}/delete", ana.0),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = customer.get("/portal/tickets?view=org").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Mercado Bom Preço"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_user_deactivated_on_one_node_is_refused_on_another() {
    if postgres_url().is_none() {
        return;
    }
    let a = TestApp::new().await;
    a.create_org("Padaria Pão Dourado", "org-padaria").await;
    let ana = user(&a, ANA, "Ana Souza", Role::Customer, &["org-padaria"]).await;
    user(&a, ADMIN, "Admin", Role::Admin, &[]).await;
    let b = a.second_node();
    live(&a.state).await;
    live(&b.state).await;

    let on_a = signed_in(&a, ANA).await;
    let mut on_b = on(&b, &on_a);
    // Node B has read (and cached) Ana's session.
    assert_eq!(on_b.get("/portal/tickets").await.status, StatusCode::OK);
    assert_eq!(on_b.get("/portal/tickets").await.status, StatusCode::OK);

    let mut admin = signed_in(&a, ADMIN).await;
    let page = format!("/admin/users/{}", ana.0);
    let done = admin
        .submit(&page, &format!("/admin/users/{}/deactivate", ana.0), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(
        within_two_seconds(async || on_b.get("/portal/tickets").await.status != StatusCode::OK)
            .await,
        "node B still serves a deactivated user's session"
    );
    let refused = on_b.get("/portal/tickets").await;
    assert!(refused.location().unwrap_or_default().starts_with("/login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_logout_and_a_membership_change_reach_every_node() {
    if postgres_url().is_none() {
        return;
    }
    let a = TestApp::new().await;
    a.create_org("Padaria Pão Dourado", "org-padaria").await;
    a.create_org("Mercado Bom Preço", "org-mercado").await;
    user(
        &a,
        ANA,
        "Ana Souza",
        Role::Customer,
        &["org-padaria", "org-mercado"],
    )
    .await;
    let b = a.second_node();
    live(&a.state).await;
    live(&b.state).await;

    let mut on_a = signed_in(&a, ANA).await;
    let mut on_b = on(&b, &on_a);
    let page = on_b.get("/portal/tickets?view=org").await;
    assert!(page.body.contains("Mercado Bom Preço"));

    // A change written by no node's request (another tool on the
    // database) still reaches node B through the triggers.
    with_db!(&a.state.db, |pool| {
        sqlx::query(
            "delete from memberships where organization_id = \
             (select id from organizations where external_id = 'org-mercado')",
        )
        .execute(pool)
        .await
        .expect("delete");
    });
    assert!(
        within_two_seconds(async || !on_b
            .get("/portal/tickets?view=org")
            .await
            .body
            .contains("Mercado Bom Preço"))
        .await,
        "node B still lists an organization Ana left"
    );

    // Logging out on node A ends the session on node B.
    let token = on_a
        .get("/portal/tickets")
        .await
        .csrf_token()
        .expect("token");
    let out = on_a
        .post_form("/logout", &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        within_two_seconds(async || on_b.get("/portal/tickets").await.status != StatusCode::OK)
            .await,
        "node B still serves a session ended on node A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_saved_automation_settings_reach_every_node() {
    if postgres_url().is_none() {
        return;
    }
    let a = TestApp::new().await;
    let b = a.second_node();
    live(&a.state).await;
    live(&b.state).await;
    let mut settings = service::automations::load(&b.state).await.expect("load");
    let before = settings.reopen_window_days;
    settings.reopen_window_days = before + 3;
    service::automations::save(&a.state, &settings)
        .await
        .expect("save");
    assert!(
        within_two_seconds(async || service::automations::load(&b.state)
            .await
            .expect("load")
            .reopen_window_days
            == before + 3)
        .await,
        "node B still uses the old reopen window"
    );
}
