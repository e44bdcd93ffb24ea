//! Tests: portal pages across organizations. A company list of a customer
//! in several organizations is read one index range per organization (and
//! status) and merged; walking it forwards and backwards gives exactly the
//! order of one sorted list, with nothing lost or repeated.

use chamado::{
    domain::{Role, TicketStatus},
    store::Db,
    with_db,
};
use jiff::SignedDuration;

use crate::{
    portal::{listed, move_to, pager_link as pager, signed_in, ticket, user},
    support::TestApp,
};

/// Every id of the list, following "next" from `start`, then back with
/// "previous" from the last page.
async fn walk(browser: &mut crate::support::Browser<'_>, start: &str) -> (Vec<i64>, Vec<i64>) {
    let mut forward = Vec::new();
    let mut pages = Vec::new();
    let mut url = start.to_owned();
    loop {
        let page = browser.get(&url).await;
        assert_eq!(page.status, 200, "{url}");
        let ids = listed(&page.body);
        assert!(ids.len() <= 25);
        forward.extend(&ids);
        pages.push(ids);
        match pager(&page.body, "next") {
            Some(next) => url = next,
            None => break,
        }
    }
    let mut backward: Vec<i64> = pages.pop().unwrap_or_default();
    let mut page_url = url;
    loop {
        let page = browser.get(&page_url).await;
        match pager(&page.body, "prev") {
            Some(prev) => {
                let earlier = browser.get(&prev).await;
                let mut ids = listed(&earlier.body);
                ids.extend(backward);
                backward = ids;
                page_url = prev;
            }
            None => break,
        }
    }
    (forward, backward)
}

async fn expected(db: &Db, sql: &'static str) -> Vec<i64> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_all(pool)
            .await
            .unwrap()
    })
}

#[tokio::test]
async fn a_company_list_over_several_organizations_pages_in_one_order() {
    let app = TestApp::new().await;
    let orgs = [
        app.create_org("Padaria", "org-a").await,
        app.create_org("Transportes", "org-b").await,
        app.create_org("Clínica", "org-c").await,
    ];
    let ana = user(
        &app,
        "ana@example.com",
        "Ana",
        Role::Customer,
        &["org-a", "org-b", "org-c"],
    )
    .await;
    let statuses = [
        TicketStatus::Sent,
        TicketStatus::InProgress,
        TicketStatus::AwaitingReply,
    ];
    // 80 tickets over three organizations, interleaved in time, some
    // created in the same instant (the id breaks the tie).
    for n in 0..80usize {
        if n % 3 != 0 {
            app.clock.advance(SignedDuration::from_secs(7));
        }
        let id = ticket(&app, ana, Some(orgs[n % 3]), &format!("Pedido {n}"), "…").await;
        move_to(&app, id, statuses[n % 4 % 3]).await;
    }
    let mut browser = signed_in(&app, "ana@example.com").await;

    let all = expected(
        &app.state.db,
        "select id from tickets order by created_at desc, id desc",
    )
    .await;
    let (forward, backward) = walk(&mut browser, "/portal/tickets?view=org").await;
    assert_eq!(forward, all);
    assert_eq!(backward, all);

    let two = expected(
        &app.state.db,
        "select id from tickets where status in ('sent', 'awaiting_reply') order by created_at desc, id desc",
    )
    .await;
    let (forward, backward) = walk(
        &mut browser,
        "/portal/tickets?view=org&status=sent&status=awaiting_reply",
    )
    .await;
    assert_eq!(forward, two);
    assert_eq!(backward, two);

    let oldest_first = expected(
        &app.state.db,
        "select id from tickets order by updated_at asc, id asc",
    )
    .await;
    let (forward, backward) = walk(
        &mut browser,
        "/portal/tickets?view=org&sort=updated&dir=asc",
    )
    .await;
    assert_eq!(forward, oldest_first);
    assert_eq!(backward, oldest_first);
}
