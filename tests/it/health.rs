//! Tests: health. Liveness answers while the process runs; readiness
//! follows the database.

use axum::{body::Body, http::Request, http::StatusCode};

use crate::support::TestApp;

async fn get(tc: &TestApp, path: &str) -> crate::support::TestResponse {
    tc.send(Request::get(path).body(Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn healthz_answers_ok() {
    let tc = TestApp::new().await;
    let response = get(&tc, "/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "ok");
}

#[tokio::test]
async fn readyz_answers_while_the_database_does() {
    let tc = TestApp::new().await;
    let response = get(&tc, "/readyz").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[tokio::test]
async fn readyz_answers_503_once_the_database_is_gone() {
    let tc = TestApp::new().await;
    assert_eq!(get(&tc, "/readyz").await.status, StatusCode::OK);

    tc.state.db.close().await;
    let response = get(&tc, "/readyz").await;
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        response.body
    );
    let healthz = get(&tc, "/healthz").await;
    assert_eq!(
        healthz.status,
        StatusCode::OK,
        "liveness must not depend on the database"
    );
}
