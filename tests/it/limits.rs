//! What a client may send and for how long: body limits per route, the
//! header, body and idle timeouts, the connection cap, and errors that are
//! Chamado's own pages (or JSON) rather than the framework's parser text.

use std::time::{Duration, Instant};

use axum::{
    body::{Body, Bytes},
    http::{Request, StatusCode, header},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::support::TestApp;

/// Reads from `stream` until it closes or `within` passes; what was read,
/// and whether the server closed the connection.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&seen).into_owned(), true),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&seen).into_owned(), false),
        }
    }
}

#[tokio::test]
async fn a_declared_body_over_the_route_limit_is_refused_before_it_is_sent() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    // 200 MB announced to a form route, nothing sent: the answer must not
    // wait for the body (the old limit was the uploads' 200 MB).
    stream
        .write_all(
            b"POST /widget/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 209715200\r\n\r\n",
        )
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"errors\""),
        "JSON route answers JSON: {answer}"
    );

    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            b"POST /login?jwt=x HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 209715200\r\n\r\n",
        )
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("text/html"),
        "a page route answers a page: {answer}"
    );
    // The page names the request for support, as every error page does.
    let id = answer
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .expect("a request id");
    assert!(answer.contains(&format!("{}</", id.trim())), "{answer}");
}

#[tokio::test]
async fn a_body_growing_past_the_limit_stops_being_read() {
    let app = TestApp::new().await;
    // No length announced: 1 MB of chunks to a JSON route that takes 128 KiB.
    let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 16 * 1024])));
    let request = Request::post("/widget/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, app.state.config.origin())
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["errors"][0]["code"], "payload_too_large");

    // The same on a form: a page in the visitor's language, nothing else.
    let mut browser = app.browser();
    let token = browser.get("/login").await.csrf_token().unwrap();
    let mut form = format!("csrf_token={token}&email=a%40b.c&password=");
    form.push_str(&"x".repeat(200 * 1024));
    let response = browser
        .request(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT_LANGUAGE, "pt-BR"),
            Body::from(form),
        )
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        response.body.contains("Envio grande demais"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn a_reading_route_takes_no_body() {
    let app = TestApp::new().await;
    let request = Request::get("/access/jwt?jwt=x")
        .header(header::CONTENT_LENGTH, "10")
        .body(Body::from("0123456789"))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unfinished_headers_are_dropped_after_the_header_timeout() {
    let app = TestApp::with_config(|c| c.header_read_timeout_secs = 1).await;
    let address = app.serve().await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed, "the connection is still open after 5 s");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_cut_at_the_body_deadline() {
    let app = TestApp::with_config(|c| c.body_read_timeout_secs = 1).await;
    let address = app.serve().await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
        )
        .await
        .unwrap();
    let started = Instant::now();
    // One byte every 200 ms: never idle, never finished.
    let (answer, closed) = loop {
        if stream.write_all(b"x").await.is_err() {
            break read_until_closed(&mut stream, Duration::from_secs(1)).await;
        }
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_millis(200)).await;
        if closed || !answer.is_empty() || started.elapsed() > Duration::from_secs(6) {
            break (answer, closed);
        }
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the slow body was still being read after {:?}",
        started.elapsed()
    );
    assert!(closed || answer.starts_with("HTTP/1.1 4"), "{answer}");
}

#[tokio::test]
async fn a_quiet_connection_is_closed_after_the_idle_timeout() {
    let app = TestApp::with_config(|c| {
        c.idle_timeout_secs = 1;
        c.header_read_timeout_secs = 30;
    })
    .await;
    let address = app.serve().await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(4)).await;
    assert!(closed, "an idle connection stays open");
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let app = TestApp::with_config(|c| c.max_connections = 2).await;
    let address = app.serve().await;
    let first = TcpStream::connect(address).await.unwrap();
    let _second = TcpStream::connect(address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(address).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut third, Duration::from_millis(500)).await;
    assert!(answer.is_empty(), "served over the cap: {answer}");
    drop(first);
    let (answer, _) = read_until_closed(&mut third, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn framework_rejections_answer_as_chamado_does() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    // A form without its fields: the error page, not the parser's text.
    let token = browser.get("/login").await.csrf_token().unwrap();
    let response = browser
        .request(
            Request::post("/language")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT_LANGUAGE, "en"),
            Body::from(format!("csrf_token={token}")),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.body
    );
    assert!(
        response.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        response
            .body
            .contains("We could not understand the request")
    );
    assert!(
        !response.body.contains("missing field"),
        "{}",
        response.body
    );

    // A query that does not parse (a field given twice).
    let response = browser.get("/login?return_to=/a&return_to=/b").await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("<html"), "{}", response.body);
    assert!(
        !response.body.contains("Failed to deserialize"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn over_https_cookies_are_host_only_and_transport_security_is_strict() {
    let app = TestApp::with_config(|c| c.base_url = "https://suporte.example.com".into()).await;
    app.create_user("ana@example.com", chamado::domain::Role::Customer, &[])
        .await;
    let mut browser = app.browser();
    let page = browser.get("/login").await;
    assert_eq!(
        page.headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
    let csrf = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-chamado_csrf="))
        .expect("a host-only CSRF cookie");
    assert!(csrf.contains("Secure") && csrf.contains("Path=/") && !csrf.contains("Domain"));
    browser.login("ana@example.com").await;
    let account = browser.get("/portal/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(browser.cookies.contains_key("__Host-chamado_session"));
    assert!(!browser.cookies.contains_key("chamado_session"));

    // Plain http (a development setup) sends neither.
    let app = TestApp::new().await;
    let page = app.browser().get("/login").await;
    assert!(!page.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    assert!(page.cookie("chamado_csrf").is_some());
}
