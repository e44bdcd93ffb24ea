//! Tests: crash. `chamado serve` is killed with SIGKILL while customers open
//! tickets as fast as they can; after a restart every ticket whose creation
//! was acknowledged (the 303 to the new ticket) is there. Acknowledged
//! means committed: SQLite runs with `synchronous=FULL`.

use std::{
    fmt::Write as _,
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use chamado::{domain::Role, store::Db, with_db};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::Mutex,
};

use crate::support::{PASSWORD, TestApp};

/// One HTTP/1.1 exchange on a fresh connection; `(status, head, body)`.
async fn exchange(addr: SocketAddr, request: Vec<u8>) -> std::io::Result<(u16, String, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&request).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {head:?}")))?;
    Ok((status, head.to_owned(), body.to_owned()))
}

fn header<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
        .collect()
}

fn get(path: &str, cookie: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

fn post(path: &str, cookie: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn csrf_in(body: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker).expect("a CSRF token in the page") + marker.len();
    body[start..start + 64].to_owned()
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

fn start_server(app: &TestApp, addr: SocketAddr) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chamado"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CHAMADO_") {
            command.env_remove(name);
        }
    }
    command
        .arg("serve")
        .current_dir(app.dir.path())
        .env("CHAMADO_DATABASE_URL", &app.state.config.database_url.0)
        .env("CHAMADO_DATA_DIR", app.dir.path())
        .env("CHAMADO_BIND", addr.to_string())
        .env("CHAMADO_BASE_URL", format!("http://{addr}"))
        .env("CHAMADO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chamado serve")
}

async fn wait_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _, _)) = exchange(addr, get("/readyz", "")).await {
            return;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Signs in; returns the cookie header value and the session's CSRF token.
async fn sign_in(addr: SocketAddr, email: &str) -> (String, String) {
    let (_, head, body) = exchange(addr, get("/login", "")).await.unwrap();
    let anonymous: Vec<String> = header(&head, "set-cookie")
        .iter()
        .filter_map(|c| c.split(';').next().map(str::to_owned))
        .collect();
    let cookie = anonymous.join("; ");
    let form = serde_urlencoded::to_string([
        ("email", email),
        ("password", PASSWORD),
        ("csrf_token", &csrf_in(&body)),
    ])
    .unwrap();
    let (status, head, _) = exchange(
        addr,
        post(
            "/login",
            &cookie,
            "application/x-www-form-urlencoded",
            &form,
        ),
    )
    .await
    .unwrap();
    assert_eq!(status, 303, "login");
    let session = header(&head, "set-cookie")
        .into_iter()
        .find(|c| c.starts_with("chamado_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let (_, _, page) = exchange(addr, get("/portal/tickets/new", &session))
        .await
        .unwrap();
    let csrf = csrf_in(&page);
    (session, csrf)
}

fn new_ticket_body(boundary: &str, csrf: &str, key: &str, subject: &str) -> String {
    let mut body = String::new();
    for (name, value) in [
        ("csrf_token", csrf),
        ("submission_key", key),
        ("ticket_type", "support"),
        ("subject", subject),
        (
            "description",
            "Aberto durante o teste de queda do servidor.",
        ),
    ] {
        let _ = write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    let _ = write!(body, "--{boundary}--\r\n");
    body
}

async fn ticket_ids(db: &Db) -> Vec<i64> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>("select id from tickets order by id")
            .fetch_all(pool)
            .await
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_ticket_survives_a_kill_under_load() {
    let app = TestApp::new().await;
    app.create_org("Padaria Queda", "org-queda").await;
    app.create_user("queda@example.com", Role::Customer, &["org-queda"])
        .await;
    let addr = free_addr();
    let mut server = start_server(&app, addr);
    wait_ready(addr).await;
    let (cookie, csrf) = sign_in(addr, "queda@example.com").await;

    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..8 {
        let (acknowledged, stop, cookie, csrf) = (
            Arc::clone(&acknowledged),
            Arc::clone(&stop),
            cookie.clone(),
            csrf.clone(),
        );
        clients.push(tokio::spawn(async move {
            let boundary = "queda-boundary";
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let key = format!("{client:08x}{n:024x}");
                let body = new_ticket_body(boundary, &csrf, &key, &format!("Queda {client}-{n}"));
                let request = post(
                    "/portal/tickets",
                    &cookie,
                    &format!("multipart/form-data; boundary={boundary}"),
                    &body,
                );
                match exchange(addr, request).await {
                    Ok((303, head, _)) => {
                        let location = header(&head, "location").join("");
                        let id: i64 = location
                            .trim_start_matches("/portal/tickets/")
                            .split('?')
                            .next()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or_else(|| panic!("not a new ticket: {location}"));
                        acknowledged.lock().await.push(id);
                    }
                    Ok((status, _, body)) => panic!("opening a ticket answered {status}: {body}"),
                    // The server is gone: nothing more can be acknowledged.
                    Err(_) => return,
                }
            }
        }));
    }
    // Let the load run until enough tickets were acknowledged, then kill.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged.lock().await.len() < 150 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().expect("SIGKILL the server");
    server.wait().expect("reap the server");
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("a client panicked");
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(
        acknowledged.len() >= 150,
        "only {} tickets were acknowledged before the deadline",
        acknowledged.len()
    );

    // Restart on the same database: it starts, and every acknowledged
    // ticket is there and shows.
    let mut server = start_server(&app, addr);
    wait_ready(addr).await;
    let stored = ticket_ids(&app.state.db).await;
    let missing: Vec<&i64> = acknowledged
        .iter()
        .filter(|id| stored.binary_search(id).is_err())
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let last = acknowledged.iter().max().unwrap();
    let (status, _, body) = exchange(addr, get(&format!("/portal/tickets/{last}"), &cookie))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Queda "), "{body}");
    server.kill().ok();
    server.wait().ok();
}
