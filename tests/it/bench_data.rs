//! Tests: `chamado bench-data`. The generated data set is consistent (counts,
//! every ticket's status is its last status event's, requesters belong to
//! their ticket's organization, files exist), skewed, deterministic, and the
//! benchmark accounts can sign in and see the largest organization.

use axum::http::StatusCode;
use chamado::{
    service::bench_data::{self, BENCH_CUSTOMER, BENCH_PASSWORD, BenchError, BenchSpec},
    store::Db,
    with_db,
};

use crate::support::TestApp;

const SPEC: BenchSpec = BenchSpec {
    tickets: 1_500,
    orgs: 40,
    users: 120,
    comments_per_ticket: 5,
    seed: 7,
};

async fn scalar(db: &Db, sql: &'static str) -> i64 {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .expect(sql)
    })
}

async fn generated() -> (TestApp, bench_data::BenchSummary) {
    let app = TestApp::new().await;
    let summary = bench_data::generate(&app.state, SPEC, |_, _| {})
        .await
        .expect("bench data");
    (app, summary)
}

#[tokio::test]
async fn the_data_set_has_the_requested_size_and_holds_together() {
    let (app, summary) = generated().await;
    let db = &app.state.db;
    assert_eq!(summary.tickets, SPEC.tickets);
    assert_eq!(scalar(db, "select count(*) from tickets").await, 1_500);
    assert_eq!(scalar(db, "select count(*) from organizations").await, 40);
    assert_eq!(
        scalar(db, "select count(*) from users where role = 'customer'").await,
        120
    );
    assert!(scalar(db, "select count(*) from users where role <> 'customer'").await > 0);
    // Every customer is in one to three organizations.
    assert_eq!(
        scalar(
            db,
            "select count(*) from users u where u.role = 'customer' and \
             (select count(*) from memberships m where m.user_id = u.id) not between 1 and 3"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(db, "select count(*) from memberships").await,
        i64::try_from(summary.memberships).unwrap()
    );
    // A ticket's requester belongs to its organization.
    assert_eq!(
        scalar(
            db,
            "select count(*) from tickets t where not exists (select 1 from memberships m \
             where m.user_id = t.requester_id and m.organization_id = t.organization_id)"
        )
        .await,
        0
    );
    // Every ticket has status events; its status is the one the last one
    // moved it to, and `status_since` (filled after the load, kept by a
    // trigger since) is that event's time.
    assert_eq!(
        scalar(
            db,
            "select count(*) from tickets t where not exists (select 1 from status_events e where e.ticket_id = t.id) \
             or t.status <> (select e.to_status from status_events e \
                             where e.ticket_id = t.id order by e.at desc, e.id desc limit 1) \
             or t.status_since is null \
             or t.status_since <> (select max(e.at) from status_events e where e.ticket_id = t.id)"
        )
        .await,
        0
    );
    // Every status appears, and both types.
    assert_eq!(
        scalar(db, "select count(distinct status) from tickets").await,
        6
    );
    assert_eq!(
        scalar(db, "select count(distinct ticket_type) from tickets").await,
        2
    );
    // At least the requested comments, except on tickets abandoned in triage.
    assert_eq!(
        scalar(
            db,
            "select count(*) from tickets t where t.status <> 'abandoned_triage' and \
             (select count(*) from comments c where c.ticket_id = t.id) < 5"
        )
        .await,
        0
    );
    // The audit trail has one comment event per comment.
    assert_eq!(
        scalar(db, "select count(*) from comments").await,
        scalar(
            db,
            "select count(*) from ticket_events where kind = 'comment_added'"
        )
        .await
    );
    // Files: rows exist and their contents are stored.
    assert!(summary.attachments > 0);
    let keys: Vec<String> = with_db!(db, |pool| {
        sqlx::query_scalar("select storage_key from attachments order by id limit 5")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert!(!keys.is_empty());
    for key in keys {
        app.state.blobs.get(&key).await.expect("the file is stored");
    }
    // Skewed: the largest organization holds far more than an even share.
    let largest = scalar(db, "select count(*) from tickets where organization_id = 1").await;
    assert!(
        largest > 1_500 / 40 * 5,
        "largest organization holds {largest}"
    );
    // New rows after the data set get fresh ids (sequences moved on PostgreSQL).
    let org = app.create_org("Depois do bench", "after-bench").await;
    assert!(org.0 > 40);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_set() {
    let (first, _) = generated().await;
    let (second, _) = generated().await;
    let digest = async |db: &Db| -> Vec<(i64, String, String, Option<i64>, i64)> {
        with_db!(db, |pool| {
            sqlx::query_as(
                "select id, subject, status, organization_id, requester_id from tickets order by id",
            )
            .fetch_all(pool)
            .await
            .unwrap()
        })
    };
    assert_eq!(
        digest(&first.state.db).await,
        digest(&second.state.db).await
    );
}

#[tokio::test]
async fn a_database_with_data_is_refused_and_left_alone() {
    let (app, _) = generated().await;
    let before = scalar(&app.state.db, "select count(*) from tickets").await;
    let again = bench_data::generate(&app.state, SPEC, |_, _| {}).await;
    assert!(matches!(again, Err(BenchError::NotEmpty)), "{again:?}");
    assert_eq!(
        scalar(&app.state.db, "select count(*) from tickets").await,
        before
    );
}

#[tokio::test]
async fn the_benchmark_customer_signs_in_and_sees_the_largest_organization() {
    let (app, summary) = generated().await;
    let mut browser = app.browser();
    let response = browser
        .submit(
            "/login",
            "/login",
            &[("email", BENCH_CUSTOMER), ("password", BENCH_PASSWORD)],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let page = browser.get("/portal/tickets?view=org&org=1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&summary.largest_org.1), "{}", page.body);
    // The Help Center holds the demo's articles, and its search (scenario
    // 7) finds and marks them.
    assert_eq!(summary.articles, 21);
    let page = browser.get("/hc/search?q=senha").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<mark>"), "{}", page.body);
}
