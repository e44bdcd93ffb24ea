//! The help widget's server side (docs/widget.md), through HTTP and real
//! sockets (`/widget/ws`): the session exchange, the bearer, the ticket API, the chat
//! triage, the handoff to the portal and the live protocol. Runs on SQLite,
//! and on PostgreSQL when `CHAMADO_TEST_DATABASE_URL` is set (the two-node
//! test only there).

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use chamado::{
    domain::{OrgId, Role, TicketId, TicketStatus, UserId},
    service::{self, admin::QuestionInput},
    store,
};
use futures_util::{SinkExt, StreamExt};
use jiff::SignedDuration;
use serde_json::{Value, json};
use tokio::{net::TcpStream, time::Instant};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Message, client::IntoClientRequest},
};

use crate::{
    portal::{self, count_rows, internal_note, move_to, status_of, ticket},
    support::{Browser, TestApp, TestResponse},
};

/// Chamado's own origin in the tests' configuration (`base_url`).
const OWN_ORIGIN: &str = "http://127.0.0.1:8080";
const ORGS: &[(&str, &str)] = &[
    ("org-padaria", "Padaria Pão Dourado"),
    ("org-rioclaro", "Transportes Rio Claro"),
];
const AGENT: &str = "fernanda@suporte.example";

fn parse(response: &TestResponse) -> Value {
    serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", response.body))
}

/// `POST /widget/session` with the given JWT and origins.
async fn exchange(
    tc: &TestApp,
    jwt: &str,
    header_origin: Option<&str>,
    body_origin: &str,
) -> TestResponse {
    let mut builder =
        Request::post("/widget/session").header(header::CONTENT_TYPE, "application/json");
    if let Some(origin) = header_origin {
        builder = builder.header(header::ORIGIN, origin);
    }
    let body = json!({ "token": jwt, "origin": body_origin }).to_string();
    tc.send(builder.body(Body::from(body)).unwrap()).await
}

/// A customer signed in through the widget: their bearer and id.
async fn widget_user(
    tc: &TestApp,
    external_id: &str,
    email: &str,
    orgs: &[(&str, &str)],
) -> (String, UserId) {
    let jwt = TestApp::sign(&tc.sso_claims(external_id, email, orgs));
    let response = exchange(tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let token = parse(&response)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = store::users::find_by_email(&tc.state.db, email)
        .await
        .unwrap()
        .unwrap();
    (token, user.id)
}

/// A JSON API call with an optional bearer.
async fn api(
    tc: &TestApp,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> TestResponse {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(value) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(value.to_string())
        }
        None => Body::empty(),
    };
    tc.send(builder.body(body).unwrap()).await
}

async fn get_json(tc: &TestApp, path: &str, bearer: &str) -> (StatusCode, Value) {
    let response = api(tc, "GET", path, Some(bearer), None).await;
    (response.status, parse(&response))
}

async fn post_json(tc: &TestApp, path: &str, bearer: &str, body: &Value) -> (StatusCode, Value) {
    let response = api(tc, "POST", path, Some(bearer), Some(body)).await;
    (response.status, parse(&response))
}

const BOUNDARY: &str = "----chamado-widget-test-boundary";

/// `POST /widget/api/triage/{id}/complete` with files.
async fn complete(
    tc: &TestApp,
    bearer: &str,
    triage: i64,
    files: &[(&str, &str, &[u8])],
) -> (StatusCode, Value) {
    let mut body = Vec::new();
    for (name, content_type, data) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let request = Request::post(format!("/widget/api/triage/{triage}/complete"))
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    let response = tc.send(request).await;
    (response.status, parse(&response))
}

/// An agent signed into the workspace of `tc`.
async fn agent_browser(tc: &TestApp) -> Browser<'_> {
    let mut browser = tc.browser();
    browser.login(AGENT).await;
    browser
}

/// The agent's reply or internal note, through the workspace's HTTP route.
async fn agent_comment(
    browser: &mut Browser<'_>,
    tc: &TestApp,
    id: TicketId,
    body: &str,
    visibility: &str,
) {
    let token = portal::csrf(browser).await;
    let version = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap()
        .version
        .to_string();
    let response = portal::post_multipart(
        browser,
        &format!("/agent/tickets/{}/comments", id.0),
        Some(&token),
        &[
            ("version", &version),
            ("body", body),
            ("visibility", visibility),
        ],
        &[],
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
}

// ---------------------------------------------------------------------------
// WebSocket client

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(
    address: SocketAddr,
    origin: &str,
    query: &str,
) -> Result<Socket, tungstenite::Error> {
    let mut request = format!("ws://{address}/widget/ws{query}")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert(header::ORIGIN, origin.parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn send(socket: &mut Socket, value: &Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

/// What the server sent next, within `wait`.
#[derive(Debug)]
enum Frame {
    Json(Value),
    Closed(Option<u16>),
    Nothing,
}

async fn next_frame(socket: &mut Socket, wait: Duration) -> Frame {
    let deadline = Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return Frame::Nothing,
            Ok(Some(Ok(Message::Text(text)))) => {
                return Frame::Json(serde_json::from_str(text.as_str()).unwrap());
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Frame::Closed(frame.map(|f| u16::from(f.code)));
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => return Frame::Closed(None),
        }
    }
}

async fn next_json(socket: &mut Socket, wait: Duration) -> Value {
    match next_frame(socket, wait).await {
        Frame::Json(value) => value,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// A socket authenticated with `bearer`.
async fn live(address: SocketAddr, bearer: &str) -> Socket {
    let mut socket = connect(address, OWN_ORIGIN, "").await.unwrap();
    send(&mut socket, &json!({ "type": "auth", "token": bearer })).await;
    assert_eq!(
        next_json(&mut socket, Duration::from_secs(5)).await,
        json!({ "type": "ready" })
    );
    socket
}

/// Subscribes to a ticket and waits until the server confirms; returns the
/// frames replayed before that.
async fn subscribe(socket: &mut Socket, ticket: i64, after: i64) -> Vec<Value> {
    send(
        socket,
        &json!({ "type": "subscribe", "ticket": ticket, "after": after }),
    )
    .await;
    let mut replayed = Vec::new();
    loop {
        let frame = next_json(socket, Duration::from_secs(5)).await;
        if frame["type"] == "subscribed" {
            assert_eq!(frame["ticket"], ticket);
            if after > 0 {
                assert_eq!(frame["after"], after);
            }
            return replayed;
        }
        replayed.push(frame);
    }
}

/// Frames until none arrives for `quiet`.
async fn drain(socket: &mut Socket, quiet: Duration) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Frame::Json(value) = next_frame(socket, quiet).await {
        frames.push(value);
    }
    frames
}

/// A served app whose pump runs.
async fn served(tc: &TestApp) -> SocketAddr {
    chamado::realtime::spawn(&tc.state);
    tc.state.hub.started().await;
    tc.serve().await
}

// ---------------------------------------------------------------------------
// Session exchange and the bearer

#[tokio::test]
async fn a_valid_jwt_becomes_a_bearer_that_opens_the_api() {
    let tc = TestApp::new().await;
    let jwt = TestApp::sign(&tc.sso_claims("kamino-7", "joana@padaria.example", ORGS));
    let response = exchange(&tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let body = parse(&response);
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(
        body["user"],
        json!({ "name": "Joana Cliente", "locale": "pt-BR" })
    );
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    // Only the token's hash is stored.
    let stored: Vec<String> = chamado::with_db!(&tc.state.db, |pool| {
        sqlx::query_scalar("select token_hash from widget_tokens")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert_eq!(stored, [service::sha256_hex(token.as_bytes())]);

    let (status, me) = get_json(&tc, "/widget/api/me", token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "Joana Cliente");
    assert_eq!(me["support_phone"], "0800 369 0000");
    let orgs: Vec<&str> = me["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(orgs.len(), 2);
    assert!(orgs.contains(&"Padaria Pão Dourado") && orgs.contains(&"Transportes Rio Claro"));
}

fn assert_invalid_token(response: &TestResponse, why: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{why}: {}",
        response.body
    );
    let body = parse(response);
    assert_eq!(body["error"], "invalid_token", "{why}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("Saia da plataforma Kamino."),
        "{why}: {message}"
    );
    assert!(
        message.contains("Faça o login novamente"),
        "{why}: {message}"
    );
    assert_eq!(body["phone"], "0800 369 0000", "{why}");
}

#[tokio::test]
async fn expired_replayed_forged_and_garbage_tokens_are_refused() {
    let tc = TestApp::new().await;
    let mut expired = tc.sso_claims("kamino-7", "joana@padaria.example", ORGS);
    let now = tc.clock.now().as_second();
    expired.iat = Some(now - 400);
    expired.exp = Some(now - 100);
    assert_invalid_token(
        &exchange(&tc, &TestApp::sign(&expired), Some(OWN_ORIGIN), OWN_ORIGIN).await,
        "expired",
    );

    let jwt = TestApp::sign(&tc.sso_claims("kamino-7", "joana@padaria.example", ORGS));
    let first = exchange(&tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_invalid_token(
        &exchange(&tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await,
        "replayed",
    );

    let claims = tc.sso_claims("kamino-7", "joana@padaria.example", ORGS);
    let forged = service::sso::sign("another-secret-that-is-long-enough-12345", &claims).unwrap();
    assert_invalid_token(
        &exchange(&tc, &forged, Some(OWN_ORIGIN), OWN_ORIGIN).await,
        "forged",
    );
    assert_invalid_token(
        &exchange(&tc, "not.a.jwt", Some(OWN_ORIGIN), OWN_ORIGIN).await,
        "garbage token",
    );

    // A body that is not the JSON described is a bad request.
    for body in ["", "{", "{\"token\": 1}", "[]"] {
        let request = Request::post("/widget/session")
            .header(header::ORIGIN, OWN_ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let response = tc.send(request).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(parse(&response)["error"], "bad_request");
    }
    // Exactly one bearer was issued.
    assert_eq!(count_rows(&tc.state.db, "widget_tokens").await, 1);
}

#[tokio::test]
async fn wrong_origins_are_refused_without_spending_the_token() {
    let tc = TestApp::with_config(|c| {
        c.widget_origins = "https://app.example.com".into();
    })
    .await;
    let jwt = TestApp::sign(&tc.sso_claims("kamino-7", "joana@padaria.example", ORGS));
    for (header_origin, body_origin, why) in [
        (None, "https://app.example.com", "no Origin header"),
        (
            Some("https://app.example.com"),
            "https://app.example.com",
            "called from the host page, not the frame",
        ),
        (Some(OWN_ORIGIN), "https://evil.example", "host not allowed"),
        (Some(OWN_ORIGIN), OWN_ORIGIN, "own origin not listed"),
    ] {
        let response = exchange(&tc, &jwt, header_origin, body_origin).await;
        assert_eq!(
            response.status,
            StatusCode::FORBIDDEN,
            "{why}: {}",
            response.body
        );
        let body = parse(&response);
        assert_eq!(body["error"], "origin_not_allowed", "{why}");
        assert_eq!(body["phone"], "0800 369 0000", "{why}");
        assert!(!body["message"].as_str().unwrap().is_empty(), "{why}");
    }
    assert_eq!(count_rows(&tc.state.db, "widget_tokens").await, 0);
    let response = exchange(&tc, &jwt, Some(OWN_ORIGIN), "https://app.example.com").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[tokio::test]
async fn a_bearer_expires_after_an_hour_and_garbage_is_unauthenticated() {
    let tc = TestApp::new().await;
    let (bearer, _) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    tc.clock.advance(SignedDuration::from_mins(59));
    assert_eq!(
        get_json(&tc, "/widget/api/me", &bearer).await.0,
        StatusCode::OK
    );
    tc.clock.advance(SignedDuration::from_mins(1));
    for (token, why) in [
        (Some(bearer.as_str()), "expired"),
        (None, "missing"),
        (Some("0".repeat(64).as_str()), "unknown"),
        (Some("garbage"), "garbage"),
    ] {
        let response = api(&tc, "GET", "/widget/api/tickets", token, None).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{why}");
        assert_eq!(
            parse(&response),
            json!({ "error": "unauthenticated" }),
            "{why}"
        );
    }
}

#[tokio::test]
async fn a_deactivated_users_bearer_stops_working_at_once() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    assert_eq!(
        get_json(&tc, "/widget/api/me", &bearer).await.0,
        StatusCode::OK
    );
    let admin = tc
        .create_user("admin@suporte.example", Role::Admin, &[])
        .await;
    service::admin::set_user_active(&tc.state, admin, joana, false)
        .await
        .unwrap();
    let response = api(&tc, "GET", "/widget/api/me", Some(&bearer), None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(parse(&response), json!({ "error": "unauthenticated" })); // Nor can they get a new one.
    let jwt = tc.sso_token_for(joana).await;
    assert_invalid_token(
        &exchange(&tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await,
        "deactivated",
    );
}

#[tokio::test]
async fn api_posts_need_no_csrf_token_but_a_bearer() {
    let tc = TestApp::new().await;
    let (bearer, _) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    // No cookie, no CSRF token: the bearer is the credential.
    let (status, _) = post_json(&tc, "/widget/api/triage", &bearer, &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let response = api(&tc, "POST", "/widget/api/triage", None, Some(&json!({}))).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    // The portal's forms still need one.
    let response = tc
        .send(
            Request::post("/language")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("lang=en"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    let response = api(&tc, "GET", "/widget/api/nothing-here", Some(&bearer), None).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(parse(&response), json!({ "error": "not_found" }));
}

#[tokio::test]
async fn logging_out_ends_the_users_widget_bearers() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    let (other, _) = widget_user(&tc, "kamino-8", "diego@padaria.example", ORGS).await;
    let mut browser = tc.browser();
    let response = browser
        .get(&format!(
            "/access/jwt?jwt={}",
            tc.sso_token_for(joana).await
        ))
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(
        get_json(&tc, "/widget/api/me", &bearer).await.0,
        StatusCode::OK
    );
    let response = browser.submit("/portal/account", "/logout", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let response = api(&tc, "GET", "/widget/api/me", Some(&bearer), None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(parse(&response), json!({ "error": "unauthenticated" }));
    // Someone else's widget goes on.
    assert_eq!(
        get_json(&tc, "/widget/api/me", &other).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_deactivated_users_bearer_stays_refused_after_reactivation() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    let (_, handoff) = post_json(&tc, "/widget/api/handoff", &bearer, &json!({})).await;
    let handoff = handoff["url"].as_str().unwrap().to_owned();
    tc.create_user("admin@suporte.example", Role::Admin, &[])
        .await;
    let mut admin = tc.browser();
    admin.login("admin@suporte.example").await;
    for action in ["deactivate", "reactivate"] {
        let path = format!("/admin/users/{joana}/{action}");
        let response = admin
            .submit(&format!("/admin/users/{joana}"), &path, &[])
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{action}");
    }
    assert!(
        store::users::find(&tc.state.db, joana)
            .await
            .unwrap()
            .unwrap()
            .active
    );
    let response = api(&tc, "GET", "/widget/api/me", Some(&bearer), None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        tc.browser().get(&handoff).await.status,
        StatusCode::UNAUTHORIZED,
        "nor the handoff code issued before"
    );
    // A new token from the platform works again.
    let jwt = tc.sso_token_for(joana).await;
    let response = exchange(&tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[tokio::test]
async fn the_widget_session_checks_nbf_lifetime_and_audience_arrays() {
    let tc = TestApp::with_config(|c| c.sso_audience = Some("chamado".into())).await;
    let now = tc.clock.now().as_second();
    let claims = tc.sso_claims("kamino-7", "joana@padaria.example", ORGS);
    let mut long = claims.clone();
    long.exp = Some(now + 3600);
    for (claims, extra, why) in [
        (
            &claims,
            json!({ "aud": "chamado", "nbf": now + 120 }),
            "nbf in the future",
        ),
        (&long, json!({ "aud": "chamado" }), "lives an hour"),
        (
            &claims,
            json!({ "aud": ["kamino-api"] }),
            "not our audience",
        ),
    ] {
        let jwt = TestApp::sign_with(claims, extra);
        assert_invalid_token(
            &exchange(&tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await,
            why,
        );
    }
    let jwt = TestApp::sign_with(&claims, json!({ "aud": ["kamino-api", "chamado"] }));
    let response = exchange(&tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[tokio::test]
async fn the_widget_session_refuses_an_agents_email_without_touching_the_agent() {
    let tc = TestApp::new().await;
    let agent = tc.create_user(AGENT, Role::Agent, &[]).await;
    let jwt = TestApp::sign(&tc.sso_claims("kamino-attacker", AGENT, ORGS));
    let response = exchange(&tc, &jwt, Some(OWN_ORIGIN), OWN_ORIGIN).await;
    assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.body);
    let body = parse(&response);
    assert_eq!(body["error"], "account_conflict");
    assert_eq!(body["phone"], "0800 369 0000");
    let stored = store::users::find(&tc.state.db, agent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.external_id, None);
    assert_eq!(stored.name, "Maria Teste");
    assert_eq!(count_rows(&tc.state.db, "widget_tokens").await, 0);
}

// ---------------------------------------------------------------------------
// Tickets

async fn org_id(tc: &TestApp, external_id: &str) -> OrgId {
    let id: i64 = chamado::with_db!(&tc.state.db, |pool| {
        sqlx::query_scalar("select id from organizations where external_id = $1")
            .bind(external_id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    OrgId(id)
}

#[tokio::test]
async fn the_history_lists_only_my_tickets_newest_first_in_pages() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    let (_, diego) = widget_user(&tc, "kamino-8", "diego@padaria.example", &ORGS[..1]).await;
    let padaria = org_id(&tc, "org-padaria").await;
    let first = ticket(&tc, joana, Some(padaria), "Primeiro", "a").await;
    tc.clock.advance(SignedDuration::from_mins(5));
    // A colleague's ticket of the same organization is not in my history.
    ticket(&tc, diego, Some(padaria), "Do Diego", "b").await;
    tc.clock.advance(SignedDuration::from_mins(5));
    let second = ticket(&tc, joana, None, "Segundo", "c").await;

    let (status, body) = get_json(&tc, "/widget/api/tickets", &bearer).await;
    assert_eq!(status, StatusCode::OK);
    let tickets = body["tickets"].as_array().unwrap();
    let ids: Vec<i64> = tickets.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [second.0, first.0]);
    assert_eq!(body["next_before"], Value::Null);
    let oldest = &tickets[1];
    assert_eq!(oldest["number"], format!("#{}", first.0));
    assert_eq!(oldest["subject"], "Primeiro");
    assert_eq!(oldest["status"], "sent");
    assert_eq!(oldest["status_label"], "Enviado");
    assert_eq!(oldest["type"], "support");
    assert_eq!(oldest["type_label"], "Suporte");
    assert_eq!(oldest["organization"], "Padaria Pão Dourado");
    // 17:00 UTC is 14:00 in São Paulo.
    assert_eq!(oldest["created_at"], "10/03/2026 14:00");

    // 30 a page: 32 tickets make two pages.
    for n in 0..30 {
        tc.clock.advance(SignedDuration::from_secs(1));
        ticket(&tc, joana, None, &format!("Lote {n}"), "d").await;
    }
    let (_, page) = get_json(&tc, "/widget/api/tickets", &bearer).await;
    assert_eq!(page["tickets"].as_array().unwrap().len(), 30);
    assert_eq!(page["tickets"][0]["subject"], "Lote 29");
    let next = page["next_before"].as_i64().unwrap();
    let (_, rest) = get_json(&tc, &format!("/widget/api/tickets?before={next}"), &bearer).await;
    let ids: Vec<i64> = rest["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [second.0, first.0]);
    assert_eq!(rest["next_before"], Value::Null);
}

#[tokio::test]
async fn someone_elses_ticket_is_404_like_a_missing_one() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let (_, bruno) = widget_user(&tc, "kamino-9", "bruno@rioclaro.example", &ORGS[1..]).await;
    let (_, diego) = widget_user(&tc, "kamino-8", "diego@padaria.example", &ORGS[..1]).await;
    let rioclaro = org_id(&tc, "org-rioclaro").await;
    let padaria = org_id(&tc, "org-padaria").await;
    let other = ticket(&tc, bruno, Some(rioclaro), "Do Bruno", "x").await;
    let colleague = ticket(&tc, diego, Some(padaria), "Do Diego", "y").await;
    let mine = ticket(&tc, joana, Some(padaria), "Meu", "z").await;

    let hidden = api(
        &tc,
        "GET",
        &format!("/widget/api/tickets/{}", other.0),
        Some(&bearer),
        None,
    )
    .await;
    let missing = api(
        &tc,
        "GET",
        "/widget/api/tickets/999999",
        Some(&bearer),
        None,
    )
    .await;
    let garbage = api(&tc, "GET", "/widget/api/tickets/abc", Some(&bearer), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.body, missing.body);
    assert_eq!(hidden.body, garbage.body);
    assert_eq!(parse(&hidden), json!({ "error": "not_found" }));
    // Replying to it is refused the same way, before the body is read.
    let reply = api(
        &tc,
        "POST",
        &format!("/widget/api/tickets/{}/messages", other.0),
        Some(&bearer),
        Some(&json!({ "body": "oi" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, missing.body);
    // Paging from someone else's ticket too.
    let page = api(
        &tc,
        "GET",
        &format!("/widget/api/tickets?before={}", other.0),
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // The portal's rule: my organization's tickets are visible in detail.
    let (status, body) = get_json(
        &tc,
        &format!("/widget/api/tickets/{}", colleague.0),
        &bearer,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ticket"]["subject"], "Do Diego");
    let (status, body) = get_json(&tc, &format!("/widget/api/tickets/{}", mine.0), &bearer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["ticket"]["portal_url"],
        format!("/portal/tickets/{}", mine.0)
    );
    assert_eq!(body["ticket"]["can_reply"], true);
    assert_eq!(body["ticket"]["reply_note"], Value::Null);
}

#[tokio::test]
async fn the_detail_shows_public_sanitized_messages_and_never_internal_notes() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let id = ticket(&tc, joana, None, "Erro", "Descrição com **negrito**").await;
    tc.create_user(AGENT, Role::Agent, &[]).await;
    let mut agent = agent_browser(&tc).await;
    agent_comment(&mut agent, &tc, id, "Nota **interna** secreta", "internal").await;
    internal_note(&tc, id, "Outra nota secreta").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    agent_comment(
        &mut agent,
        &tc,
        id,
        "Olá <script>alert(1)</script> **Joana**",
        "public",
    )
    .await;

    let (status, body) = get_json(&tc, &format!("/widget/api/tickets/{}", id.0), &bearer).await;
    assert_eq!(status, StatusCode::OK);
    let text = body.to_string();
    assert!(!text.contains("secreta"), "{text}");
    assert!(!text.contains("<script"), "{text}");
    assert_eq!(
        body["ticket"]["description_html"],
        "<p>Descrição com <strong>negrito</strong></p>\n"
    );
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message["author"], "Maria Teste");
    assert_eq!(message["from_support"], true);
    assert!(
        message["html"]
            .as_str()
            .unwrap()
            .contains("<strong>Joana</strong>")
    );
    assert_eq!(message["at"], "10/03/2026 14:01");
    let last = body["last_event_id"].as_i64().unwrap();
    assert_eq!(message["event_id"].as_i64().unwrap(), last);
}

#[tokio::test]
async fn a_reply_follows_the_portals_rules() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let id = ticket(&tc, joana, None, "Erro", "x").await;
    move_to(&tc, id, TicketStatus::InProgress).await;
    move_to(&tc, id, TicketStatus::AwaitingReply).await;
    let path = format!("/widget/api/tickets/{}/messages", id.0);

    let (status, body) = post_json(&tc, &path, &bearer, &json!({ "body": "   " })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "error": "invalid", "fields": { "body": "Preencha este campo." } })
    );
    let (status, body) =
        post_json(&tc, &path, &bearer, &json!({ "body": "x".repeat(20_001) })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"]["body"], "Texto longo demais.");
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);

    let (status, body) = post_json(
        &tc,
        &path,
        &bearer,
        &json!({ "body": "Ainda não funciona" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"]["from_support"], false);
    assert_eq!(body["message"]["author"], "Joana Cliente");
    assert_eq!(body["message"]["html"], "<p>Ainda não funciona</p>\n");
    assert!(body["message"]["event_id"].as_i64().unwrap() > 0);
    assert_eq!(status_of(&tc, id).await, TicketStatus::InProgress);
    let (_, detail) = get_json(&tc, &format!("/widget/api/tickets/{}", id.0), &bearer).await;
    assert_eq!(detail["messages"][0]["id"], body["message"]["id"]);
    assert_eq!(
        detail["messages"][0]["event_id"],
        body["message"]["event_id"]
    );

    // A ticket abandoned in triage takes no reply.
    let abandoned = ticket(&tc, joana, None, "Triagem", "y").await;
    move_to(&tc, abandoned, TicketStatus::AbandonedTriage).await;
    let (status, body) = post_json(
        &tc,
        &format!("/widget/api/tickets/{}/messages", abandoned.0),
        &bearer,
        &json!({ "body": "Oi" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"], "closed");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Abra um novo ticket")
    );
    let (_, detail) = get_json(
        &tc,
        &format!("/widget/api/tickets/{}", abandoned.0),
        &bearer,
    )
    .await;
    assert_eq!(detail["ticket"]["can_reply"], false);
}

// ---------------------------------------------------------------------------
// Triage

fn keys(body: &Value) -> Vec<String> {
    body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn answer(
    tc: &TestApp,
    bearer: &str,
    triage: i64,
    key: &str,
    value: &str,
) -> (StatusCode, Value) {
    post_json(
        tc,
        &format!("/widget/api/triage/{triage}/answers"),
        bearer,
        &json!({ "key": key, "value": value }),
    )
    .await
}

/// The ticket the triage of `a_completed_triage_…` opened, as stored.
async fn assert_opened(tc: &TestApp, id: TicketId, joana: UserId, padaria: OrgId) {
    let stored = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status(), TicketStatus::Sent);
    assert_eq!(stored.subject, "Nota fiscal não emite");
    assert_eq!(stored.ticket_type, "incident");
    assert_eq!(stored.channel, "widget");
    assert_eq!(stored.organization_id, Some(padaria.0));
    assert_eq!(stored.requester_id, joana);
    assert!(
        stored
            .description
            .starts_with("Erro 500 ao emitir\n\n**Qual sistema?** Estoque"),
        "{}",
        stored.description
    );
    let files = store::attachments::for_ticket(&tc.state.db, id)
        .await
        .unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
    assert_eq!(names, ["print.png", "nota.pdf"]);
    assert!(files.iter().all(|f| f.comment_id.is_none()));
    assert_eq!(tc.state.blobs.keys().await.unwrap().len(), 2);
    let bytes = tc.state.blobs.get(&files[1].storage_key).await.unwrap();
    assert_eq!(&bytes[..], b"%PDF-1.4");
}

/// A mandatory choice question, as an admin adds it.
async fn add_system_question(tc: &TestApp) {
    service::admin::create_triage_question(
        &tc.state,
        &QuestionInput {
            kind: "choice".into(),
            text_pt: "Qual sistema?".into(),
            text_en: "Which system?".into(),
            options: "Caixa | Cashier\nEstoque | Stock".into(),
            mandatory: true,
            active: true,
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_completed_triage_opens_a_sent_ticket_with_its_answers_and_files() {
    let tc = TestApp::new().await;
    add_system_question(&tc).await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let padaria = org_id(&tc, "org-padaria").await;

    let (status, body) = get_json(&tc, "/widget/api/triage", &bearer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["triage"], Value::Null);
    let (status, body) = post_json(&tc, "/widget/api/triage", &bearer, &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let all = keys(&body);
    assert_eq!(
        all[..5],
        [
            "organization",
            "type",
            "subject",
            "description",
            "attachments"
        ]
    );
    let added = all[5].clone();
    let type_question = &body["questions"][1];
    assert_eq!(type_question["kind"], "choice");
    assert_eq!(type_question["mandatory"], true);
    assert_eq!(type_question["text"], "Qual é o tipo do ticket?");
    assert_eq!(
        type_question["options"],
        json!([{ "value": "incident", "text": "Incidente" }, { "value": "support", "text": "Suporte" }])
    );
    assert_eq!(
        body["questions"][0]["options"],
        json!([{ "value": padaria.0.to_string(), "text": "Padaria Pão Dourado" }])
    );
    let triage = &body["triage"];
    let id = triage["id"].as_i64().unwrap();
    // One organization: answered for the customer.
    assert_eq!(
        triage["answers"],
        json!({ "organization": padaria.0.to_string() })
    );
    assert_eq!(triage["next"], "type");
    assert_eq!(triage["reminded"], false);

    let (_, body) = answer(&tc, &bearer, id, "type", "incident").await;
    assert_eq!(body["triage"]["next"], "subject");
    let (_, body) = answer(&tc, &bearer, id, "subject", "Nota fiscal não emite").await;
    assert_eq!(body["triage"]["next"], "description");
    let (_, body) = answer(&tc, &bearer, id, "description", "Erro 500 ao emitir").await;
    // Mandatory questions first, whatever their position.
    assert_eq!(body["triage"]["next"], added.as_str());
    let option = body["questions"][5]["options"][1]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = answer(&tc, &bearer, id, &added, &option).await;
    assert_eq!(body["triage"]["next"], "attachments");
    let (status, body) = answer(&tc, &bearer, id, "attachments", "print.png, nota.pdf").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["triage"]["next"], Value::Null);
    assert_eq!(body["triage"]["answers"]["type"], "incident");

    let (status, body) = complete(
        &tc,
        &bearer,
        id,
        &[
            ("print.png", "image/png", b"\x89PNG fake"),
            ("nota.pdf", "application/pdf", b"%PDF-1.4"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ticket_id = body["ticket"]["id"].as_i64().unwrap();
    assert_eq!(
        body["ticket"],
        json!({
            "id": ticket_id,
            "number": format!("#{ticket_id}"),
            "status_label": "Enviado",
            "url": format!("/portal/tickets/{ticket_id}"),
        })
    );
    assert_opened(&tc, TicketId(ticket_id), joana, padaria).await;

    // It is done: no more answers, no second ticket, nothing to resume.
    let (status, body) = answer(&tc, &bearer, id, "subject", "Outro").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"], "closed");
    let (status, _) = complete(&tc, &bearer, id, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        get_json(&tc, "/widget/api/triage", &bearer).await.1["triage"],
        Value::Null
    );
    let (_, history) = get_json(&tc, "/widget/api/tickets", &bearer).await;
    assert_eq!(history["tickets"][0]["id"], ticket_id);
}

#[tokio::test]
async fn invalid_answers_are_refused_and_change_nothing() {
    let tc = TestApp::with_config(|c| c.upload_max_file_bytes = 10).await;
    let (bearer, _) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    let (_, body) = post_json(&tc, "/widget/api/triage", &bearer, &json!({})).await;
    let id = body["triage"]["id"].as_i64().unwrap();
    // Two organizations: the customer must choose.
    assert_eq!(body["triage"]["answers"], json!({}));
    assert_eq!(body["triage"]["next"], "organization");
    assert_eq!(body["questions"][0]["options"].as_array().unwrap().len(), 2);
    let (_, body) = answer(&tc, &bearer, id, "subject", "Assunto certo").await;
    let before = body["triage"].clone();

    let foreign = tc
        .create_org("Outra Empresa", "org-outra")
        .await
        .0
        .to_string();
    let long = "x".repeat(201);
    let cases = [
        ("type", "bogus", "Escolha uma das opções."),
        ("type", "", "Escolha uma das opções."),
        ("organization", foreign.as_str(), "Escolha uma das opções."),
        ("organization", "abc", "Escolha uma das opções."),
        ("subject", long.as_str(), "Texto longo demais."),
        ("subject", "  ", "Preencha este campo."),
        ("no_such_question", "x", "Escolha uma das opções."),
    ];
    for (key, value, message) in cases {
        let (status, body) = answer(&tc, &bearer, id, key, value).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key}={value}");
        assert_eq!(
            body,
            json!({ "error": "invalid", "fields": { key: message } }),
            "{key}={value}"
        );
    }
    let (_, body) = get_json(&tc, "/widget/api/triage", &bearer).await;
    assert_eq!(body["triage"], before);

    // Completing without the mandatory answers names the questions.
    let (status, body) = complete(&tc, &bearer, id, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["fields"],
        json!({
            "organization": "Escolha uma das opções.",
            "type": "Escolha uma das opções.",
            "description": "Preencha este campo.",
        })
    );
    // A file over the limit: nothing stored, the triage still open.
    let padaria = org_id(&tc, "org-padaria").await;
    answer(&tc, &bearer, id, "organization", &padaria.0.to_string()).await;
    answer(&tc, &bearer, id, "type", "support").await;
    answer(&tc, &bearer, id, "description", "Descrição").await;
    let (status, body) = complete(
        &tc,
        &bearer,
        id,
        &[("big.bin", "application/octet-stream", &[7u8; 11])],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["fields"]["attachments"]
            .as_str()
            .unwrap()
            .contains("limite")
    );
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
    let (status, _) = complete(&tc, &bearer, id, &[]).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_unfinished_triage_is_resumed_and_a_timed_out_one_is_closed() {
    let tc = TestApp::new().await;
    let (bearer, _) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let (_, body) = post_json(&tc, "/widget/api/triage", &bearer, &json!({})).await;
    let id = body["triage"]["id"].as_i64().unwrap();
    answer(&tc, &bearer, id, "type", "support").await;
    answer(&tc, &bearer, id, "subject", "Volto já").await;

    // Closing and reopening the widget: the same triage comes back.
    let (status, body) = get_json(&tc, "/widget/api/triage", &bearer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["triage"]["id"], id);
    assert_eq!(body["triage"]["answers"]["subject"], "Volto já");
    assert_eq!(body["triage"]["next"], "description");
    let (status, body) = post_json(&tc, "/widget/api/triage", &bearer, &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["triage"]["id"], id);
    // Another customer cannot touch it.
    let (other, _) = widget_user(&tc, "kamino-8", "diego@padaria.example", &ORGS[..1]).await;
    let (status, _) = answer(&tc, &other, id, "description", "Intruso").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Past the triage timeout (30 minutes) it takes nothing more.
    answer(&tc, &bearer, id, "description", "Quase").await;
    tc.clock.advance(SignedDuration::from_mins(30));
    let (status, body) = complete(&tc, &bearer, id, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"], "closed");
    assert!(body["message"].as_str().unwrap().contains("encerrada"));
    let (status, _) = answer(&tc, &bearer, id, "description", "Tarde").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
    assert_eq!(
        get_json(&tc, "/widget/api/triage", &bearer).await.1["triage"],
        Value::Null
    );
}

// ---------------------------------------------------------------------------
// Handoff

#[tokio::test]
async fn a_handoff_code_signs_in_once_and_expires() {
    let tc = TestApp::new().await;
    let (bearer, _) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    let (status, body) = post_json(
        &tc,
        "/widget/api/handoff",
        &bearer,
        &json!({ "return_to": "/portal/tickets?view=org" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let url = body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/widget/handoff?code="), "{url}");

    let mut browser = tc.browser();
    let response = browser.get(&url).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.location(), Some("/portal/tickets?view=org"));
    assert!(response.cookie("chamado_session").is_some());
    let account = browser.get("/portal/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("Joana Cliente"));

    // Used: refused with the single sign-on page, in another tab or this one.
    let mut other = tc.browser();
    let again = other.get(&url).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.body.contains("Saia da plataforma Kamino."));
    assert!(again.cookie("chamado_session").is_none());

    // Expired after 60 seconds.
    let (_, body) = post_json(&tc, "/widget/api/handoff", &bearer, &json!({})).await;
    let late = body["url"].as_str().unwrap().to_owned();
    tc.clock.advance(SignedDuration::from_secs(61));
    assert_eq!(
        tc.browser().get(&late).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        tc.browser()
            .get("/widget/handoff?code=nonsense")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Only local paths.
    let (status, body) = post_json(
        &tc,
        "/widget/api/handoff",
        &bearer,
        &json!({ "return_to": "//evil.example/x" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["fields"]["return_to"].is_string());
}

#[tokio::test]
async fn a_handoff_for_another_account_asks_before_replacing_the_session() {
    let tc = TestApp::new().await;
    let (bruno_bearer, _) = widget_user(&tc, "kamino-8", "bruno@rioclaro.example", ORGS).await;
    let (_, body) = post_json(
        &tc,
        "/widget/api/handoff",
        &bruno_bearer,
        &json!({ "return_to": "/portal/tickets?view=org" }),
    )
    .await;
    let url = body["url"].as_str().unwrap().to_owned();
    let code = url.trim_start_matches("/widget/handoff?code=").to_owned();

    // Ana is signed in on this browser.
    let mut claims = tc.sso_claims("kamino-7", "ana@padaria.example", ORGS);
    claims.name = Some("Ana Vítima".into());
    let mut browser = tc.browser();
    assert_eq!(
        browser.sso(&claims, None).await.status,
        StatusCode::SEE_OTHER
    );

    let page = browser.get(&url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.cookie("chamado_session").is_none());
    assert!(page.body.contains("Você está conectado como Ana Vítima."));
    assert!(page.body.contains("bruno@rioclaro.example"));
    assert!(
        page.body
            .contains("<form method=\"post\" action=\"/widget/handoff\"")
    );
    assert!(
        browser
            .get("/portal/account")
            .await
            .body
            .contains("Ana Vítima")
    );
    let unspent: i64 = chamado::with_db!(&tc.state.db, |pool| {
        sqlx::query_scalar(
            "select count(*) from widget_tokens where kind = 'handoff' and used_at is null",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(unspent, 1, "showing the page does not spend the code");

    // A cross-site form without the CSRF token is refused.
    let forged = browser
        .post_form("/widget/handoff", &[("code", &code)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        browser
            .get("/portal/account")
            .await
            .body
            .contains("Ana Vítima")
    );

    let token = page.csrf_token().unwrap();
    let done = browser
        .post_form(
            "/widget/handoff",
            &[("csrf_token", &token), ("code", &code)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some("/portal/tickets?view=org"));
    let account = browser.get("/portal/account").await;
    assert!(account.body.contains("Joana Cliente"), "now Bruno");
    assert!(!account.body.contains("Ana Vítima"));

    // Spent: a second confirmation is refused.
    let token = browser.get("/portal/account").await.csrf_token().unwrap();
    let again = browser
        .post_form(
            "/widget/handoff",
            &[("csrf_token", &token), ("code", &code)],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);

    // Bruno's own next handoff, on his own session now, just goes on.
    let (_, body) = post_json(&tc, "/widget/api/handoff", &bruno_bearer, &json!({})).await;
    let response = browser.get(body["url"].as_str().unwrap()).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.location(), Some("/portal"));
}

// ---------------------------------------------------------------------------
// Live protocol

#[tokio::test]
async fn the_socket_authenticates_with_its_first_frame_only() {
    let tc = TestApp::new().await;
    let (bearer, _) = widget_user(&tc, "kamino-7", "joana@padaria.example", ORGS).await;
    let address = served(&tc).await;

    // A token in the URL counts for nothing.
    let mut socket = connect(address, OWN_ORIGIN, &format!("?token={bearer}"))
        .await
        .unwrap();
    send(&mut socket, &json!({ "type": "ping" })).await;
    assert!(matches!(
        next_frame(&mut socket, Duration::from_secs(5)).await,
        Frame::Closed(Some(4401))
    ));
    let mut socket = connect(address, OWN_ORIGIN, "").await.unwrap();
    send(
        &mut socket,
        &json!({ "type": "auth", "token": "0".repeat(64) }),
    )
    .await;
    assert!(matches!(
        next_frame(&mut socket, Duration::from_secs(5)).await,
        Frame::Closed(Some(4401))
    ));

    let mut socket = live(address, &bearer).await;
    send(&mut socket, &json!({ "type": "ping" })).await;
    assert_eq!(
        next_json(&mut socket, Duration::from_secs(5)).await,
        json!({ "type": "pong" })
    );
    send(&mut socket, &json!({ "type": "dance" })).await;
    assert_eq!(
        next_json(&mut socket, Duration::from_secs(5)).await,
        json!({ "type": "error", "error": "bad_request" })
    );

    // Only the frame's own origin may open a socket.
    match connect(address, "https://evil.example", "").await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_forbidden_ticket_is_not_found_on_the_socket() {
    let tc = TestApp::new().await;
    let (bearer, _) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let (_, bruno) = widget_user(&tc, "kamino-9", "bruno@rioclaro.example", &ORGS[1..]).await;
    let other = ticket(&tc, bruno, None, "Do Bruno", "x").await;
    let address = served(&tc).await;
    let mut socket = live(address, &bearer).await;
    for id in [other.0, 999_999] {
        send(
            &mut socket,
            &json!({ "type": "subscribe", "ticket": id, "after": 0 }),
        )
        .await;
        assert_eq!(
            next_json(&mut socket, Duration::from_secs(5)).await,
            json!({ "type": "error", "ticket": id, "error": "not_found" })
        );
    }
    // Nothing of that ticket arrives afterwards.
    tc.create_user(AGENT, Role::Agent, &[]).await;
    let mut agent = agent_browser(&tc).await;
    agent_comment(&mut agent, &tc, other, "Para o Bruno", "public").await;
    assert!(
        drain(&mut socket, Duration::from_millis(1200))
            .await
            .is_empty()
    );
}

fn messages(frames: &[Value]) -> Vec<(i64, String)> {
    frames
        .iter()
        .filter(|f| f["type"] == "message")
        .map(|f| {
            (
                f["event_id"].as_i64().unwrap(),
                f["message"]["html"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits for the next `message` frame, skipping others; panics after `wait`.
async fn next_message(socket: &mut Socket, wait: Duration) -> Value {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = next_json(socket, left).await;
        if frame["type"] == "message" {
            return frame;
        }
    }
}

#[tokio::test]
async fn an_agents_reply_arrives_live_once_and_internal_notes_never() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let id = ticket(&tc, joana, None, "Erro", "x").await;
    tc.create_user(AGENT, Role::Agent, &[]).await;
    let mut agent = agent_browser(&tc).await;
    let address = served(&tc).await;
    let (_, detail) = get_json(&tc, &format!("/widget/api/tickets/{}", id.0), &bearer).await;
    let after = detail["last_event_id"].as_i64().unwrap();
    let mut socket = live(address, &bearer).await;
    assert!(subscribe(&mut socket, id.0, after).await.is_empty());

    agent_comment(&mut agent, &tc, id, "Nota interna secreta", "internal").await;
    let started = Instant::now();
    agent_comment(&mut agent, &tc, id, "Já estamos vendo", "public").await;
    let frame = next_message(&mut socket, Duration::from_secs(1)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(frame["ticket"], id.0);
    assert_eq!(frame["message"]["html"], "<p>Já estamos vendo</p>\n");
    assert_eq!(frame["message"]["from_support"], true);
    assert_eq!(frame["message"]["event_id"], frame["event_id"]);
    let rest = drain(&mut socket, Duration::from_millis(1200)).await;
    assert!(messages(&rest).is_empty(), "{rest:?}");
    assert!(!format!("{rest:?}").contains("secreta"));

    // A status change reaches the ticket and the history.
    move_to(&tc, id, TicketStatus::InProgress).await;
    tc.state.hub.wake();
    let frames = drain(&mut socket, Duration::from_millis(1200)).await;
    let status = frames.iter().find(|f| f["type"] == "status").unwrap();
    assert_eq!(status["status"], "in_progress");
    assert_eq!(status["status_label"], "Em Tratativa");
    assert!(frames.iter().any(|f| f["type"] == "tickets_changed"));
}

#[tokio::test]
async fn a_reconnect_with_after_replays_exactly_the_missed_messages() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let id = ticket(&tc, joana, None, "Erro", "x").await;
    tc.create_user(AGENT, Role::Agent, &[]).await;
    let mut agent = agent_browser(&tc).await;
    let address = served(&tc).await;

    let mut socket = live(address, &bearer).await;
    assert!(subscribe(&mut socket, id.0, 0).await.is_empty());
    agent_comment(&mut agent, &tc, id, "Primeira", "public").await;
    let first = next_message(&mut socket, Duration::from_secs(2)).await;
    let last_seen = first["event_id"].as_i64().unwrap();
    socket.close(None).await.unwrap();
    drop(socket);

    // While the widget is away.
    agent_comment(&mut agent, &tc, id, "Segunda", "public").await;
    agent_comment(&mut agent, &tc, id, "Nota", "internal").await;
    agent_comment(&mut agent, &tc, id, "Terceira", "public").await;

    let mut socket = live(address, &bearer).await;
    let frames = subscribe(&mut socket, id.0, last_seen).await;
    let replayed = messages(&frames);
    assert_eq!(
        replayed
            .iter()
            .map(|(_, html)| html.as_str())
            .collect::<Vec<_>>(),
        ["<p>Segunda</p>\n", "<p>Terceira</p>\n"]
    );
    assert!(replayed.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(replayed.iter().all(|(event, _)| *event > last_seen));

    // Subscribing again does not send anything twice; new ones still come.
    assert!(subscribe(&mut socket, id.0, last_seen).await.is_empty());
    agent_comment(&mut agent, &tc, id, "Quarta", "public").await;
    let frames = drain(&mut socket, Duration::from_millis(1200)).await;
    assert_eq!(
        messages(&frames)
            .iter()
            .map(|(_, html)| html.as_str())
            .collect::<Vec<_>>(),
        ["<p>Quarta</p>\n"]
    );
}

#[tokio::test]
async fn a_reply_through_another_node_arrives_once() {
    // Two nodes share one database only on PostgreSQL.
    if crate::support::postgres_url().is_none() {
        return;
    }
    let node_a = TestApp::new().await;
    let node_b = node_a.second_node();
    let (bearer, joana) =
        widget_user(&node_a, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let id = ticket(&node_a, joana, None, "Erro", "x").await;
    node_a.create_user(AGENT, Role::Agent, &[]).await;
    let address_a = served(&node_a).await;
    served(&node_b).await;
    let mut agent = agent_browser(&node_b).await;

    let mut socket = live(address_a, &bearer).await;
    assert!(subscribe(&mut socket, id.0, 0).await.is_empty());
    let started = Instant::now();
    agent_comment(&mut agent, &node_b, id, "Resposta pelo nó B", "public").await;
    let frame = next_message(&mut socket, Duration::from_secs(1)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(frame["message"]["html"], "<p>Resposta pelo nó B</p>\n");
    let rest = drain(&mut socket, Duration::from_millis(1500)).await;
    assert!(messages(&rest).is_empty(), "{rest:?}");
}

#[tokio::test]
async fn a_socket_that_never_authenticates_is_closed_after_ten_seconds() {
    let tc = TestApp::new().await;
    let address = served(&tc).await;
    let mut socket = connect(address, OWN_ORIGIN, "").await.unwrap();
    let started = Instant::now();
    assert!(matches!(
        next_frame(&mut socket, Duration::from_secs(15)).await,
        Frame::Closed(Some(4401))
    ));
    assert!(started.elapsed() >= Duration::from_secs(9));
}

#[tokio::test]
async fn completing_a_triage_is_told_on_the_socket() {
    let tc = TestApp::new().await;
    let (bearer, _) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let (other, _) = widget_user(&tc, "kamino-8", "diego@padaria.example", &ORGS[..1]).await;
    let address = served(&tc).await;
    let mut socket = live(address, &bearer).await;
    let mut stranger = live(address, &other).await;

    let (_, body) = post_json(&tc, "/widget/api/triage", &bearer, &json!({})).await;
    let id = body["triage"]["id"].as_i64().unwrap();
    for (key, value) in [
        ("type", "support"),
        ("subject", "Pelo chat"),
        ("description", "Abrindo pelo widget"),
    ] {
        assert_eq!(answer(&tc, &bearer, id, key, value).await.0, StatusCode::OK);
    }
    let (status, _) = complete(&tc, &bearer, id, &[]).await;
    assert_eq!(status, StatusCode::CREATED);
    tc.state.hub.wake();
    let frames = drain(&mut socket, Duration::from_millis(1500)).await;
    assert!(
        frames.contains(&json!({ "type": "triage", "id": id, "state": "completed" })),
        "{frames:?}"
    );
    assert!(
        frames.contains(&json!({ "type": "tickets_changed" })),
        "{frames:?}"
    );
    // Someone else's triage and ticket are not theirs to hear about.
    assert!(
        drain(&mut stranger, Duration::from_millis(300))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_socket_stops_as_soon_as_its_user_is_deactivated() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let id = ticket(&tc, joana, None, "Erro", "x").await;
    tc.create_user(AGENT, Role::Agent, &[]).await;
    let admin = tc
        .create_user("admin@suporte.example", Role::Admin, &[])
        .await;
    let mut agent = agent_browser(&tc).await;
    let address = served(&tc).await;
    let mut socket = live(address, &bearer).await;
    assert!(subscribe(&mut socket, id.0, 0).await.is_empty());
    agent_comment(&mut agent, &tc, id, "Antes", "public").await;
    next_message(&mut socket, Duration::from_secs(2)).await;

    service::admin::set_user_active(&tc.state, admin, joana, false)
        .await
        .unwrap();
    agent_comment(&mut agent, &tc, id, "Depois", "public").await;
    assert!(matches!(
        next_frame(&mut socket, Duration::from_secs(2)).await,
        Frame::Closed(Some(4401))
    ));
}

// ---------------------------------------------------------------------------
// Per-user limits

#[tokio::test]
async fn a_burst_of_widget_messages_is_refused_until_the_minute_has_passed() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let id = ticket(&tc, joana, None, "Erro", "x").await;
    move_to(&tc, id, TicketStatus::InProgress).await;
    let path = format!("/widget/api/tickets/{}/messages", id.0);
    chamado::mail::compose_once(&tc.state).await.unwrap();
    for n in 0..20 {
        let (status, body) =
            post_json(&tc, &path, &bearer, &json!({ "body": format!("Oi {n}") })).await;
        assert_eq!(status, StatusCode::CREATED, "message {n}: {body}");
    }
    chamado::mail::compose_once(&tc.state).await.unwrap();
    let comments = count_rows(&tc.state.db, "comments").await;
    let events = count_rows(&tc.state.db, "ticket_events").await;

    let refused = api(
        &tc,
        "POST",
        &path,
        Some(&bearer),
        Some(&json!({ "body": "Mais uma" })),
    )
    .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers[header::RETRY_AFTER], "60");
    assert_eq!(
        parse(&refused),
        json!({
            "error": "too_many_requests",
            "message": "Muitos envios em pouco tempo. Aguarde um pouco e tente de novo.",
        })
    );
    assert_eq!(count_rows(&tc.state.db, "comments").await, comments);
    assert_eq!(count_rows(&tc.state.db, "ticket_events").await, events);
    assert_eq!(chamado::mail::compose_once(&tc.state).await.unwrap(), 0);

    tc.clock.advance(SignedDuration::from_secs(59));
    let (status, _) = post_json(&tc, &path, &bearer, &json!({ "body": "Ainda não" })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    tc.clock.advance(SignedDuration::from_secs(1));
    let (status, body) = post_json(&tc, &path, &bearer, &json!({ "body": "Agora" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(count_rows(&tc.state.db, "comments").await, comments + 1);
}

/// `frame` padded with a `pad` field to about `size` bytes (unknown fields
/// are ignored by the protocol).
fn padded(mut frame: Value, size: usize) -> Message {
    frame["pad"] = Value::String("x".repeat(size));
    Message::Text(frame.to_string().into())
}

#[tokio::test]
async fn a_frame_over_the_size_limit_closes_the_socket() {
    let tc = TestApp::new().await;
    let (bearer, joana) = widget_user(&tc, "kamino-7", "joana@padaria.example", &ORGS[..1]).await;
    let id = ticket(&tc, joana, None, "Erro", "x").await;
    let address = served(&tc).await;

    // Before `auth`: a valid bearer in a 1 MB frame is not read.
    let mut socket = connect(address, OWN_ORIGIN, "").await.unwrap();
    let _ = socket
        .send(padded(json!({ "type": "auth", "token": bearer }), 1 << 20))
        .await;
    let frame = next_frame(&mut socket, Duration::from_secs(5)).await;
    assert!(
        matches!(frame, Frame::Closed(Some(1009) | None)),
        "{frame:?}"
    );

    // After `auth`: a frame just under the limit is served, a 1 MB one closes.
    let mut socket = live(address, &bearer).await;
    socket
        .send(padded(
            json!({ "type": "subscribe", "ticket": id.0, "after": 0 }),
            3000,
        ))
        .await
        .unwrap();
    let frame = next_json(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(frame["type"], "subscribed", "{frame}");
    let _ = socket
        .send(padded(
            json!({ "type": "subscribe", "ticket": id.0, "after": 0 }),
            1 << 20,
        ))
        .await;
    let frame = next_frame(&mut socket, Duration::from_secs(5)).await;
    assert!(
        matches!(frame, Frame::Closed(Some(1009) | None)),
        "{frame:?}"
    );
}
