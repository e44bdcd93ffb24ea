//! The test harness: a real `AppState` and router per test, on a SQLite file
//! in a temporary folder, or — when `CHAMADO_TEST_DATABASE_URL` names a
//! PostgreSQL server — on a fresh database cloned from a migrated template.
//! Requests go through `Router::oneshot`; no socket is opened.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderMap, Request, StatusCode, header},
};
use chamado::{
    AppState,
    blob::BlobStore,
    clock::Clock,
    config::{Config, DatabaseUrl},
    domain::{OrgId, Role, UserId},
    service::{
        self,
        accounts::UserInput,
        sso::{OrgClaim, SsoClaims},
    },
    store::Db,
};
use http_body_util::BodyExt;
use jiff::Timestamp;
use secrecy::SecretString;
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;
use tokio::sync::OnceCell;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";
pub const SSO_SECRET: &str = "test-sso-secret-that-is-long-enough-1234";

/// The moment every test starts at: a Tuesday afternoon in São Paulo.
pub fn start_time() -> Timestamp {
    "2026-03-10T17:00:00Z".parse().expect("valid timestamp")
}

/// The PostgreSQL server to test against, when asked for.
pub fn postgres_url() -> Option<String> {
    std::env::var("CHAMADO_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

static PG_TEMPLATE: OnceCell<String> = OnceCell::const_new();

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// Whether the test process that named a database (`…_<pid>_…`) is gone.
fn owner_is_gone(name: &str) -> bool {
    let pid = name
        .trim_start_matches("chamado_tpl_")
        .trim_start_matches("chamado_t_")
        .split('_')
        .next()
        .unwrap_or_default();
    pid.parse::<u32>().map_or(true, |pid| {
        pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
    })
}

/// Creates (once per test process) a migrated template database, dropping
/// the databases that earlier, finished test runs left behind. Databases of
/// test processes still running (another `cargo test` on the same server)
/// are left alone: their names carry their process id.
async fn pg_template(admin_url: &str) -> String {
    PG_TEMPLATE
        .get_or_init(|| async {
            let mut admin = PgConnection::connect(admin_url).await.expect("connect to PostgreSQL");
            let stale: Vec<String> = sqlx::query_scalar(
                "select datname::text from pg_database where datname like 'chamado\\_t\\_%' or datname like 'chamado\\_tpl\\_%'",
            )
            .fetch_all(&mut admin)
            .await
            .expect("list databases");
            for name in stale.into_iter().filter(|name| owner_is_gone(name)) {
                let _ = admin
                    .execute(sqlx::AssertSqlSafe(format!("drop database if exists \"{name}\" with (force)")))
                    .await;
            }
            let name = format!("chamado_tpl_{}", std::process::id());
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!("drop database if exists \"{name}\" with (force)")))
                .await;
            admin
                .execute(sqlx::AssertSqlSafe(format!("create database \"{name}\"")))
                .await
                .expect("create template database");
            let db = Db::connect_postgres(&replace_database(admin_url, &name), 2).await.expect("connect to template");
            db.migrate().await.expect("migrate template");
            db.close().await;
            name
        })
        .await
        .clone()
}

/// A fresh, migrated database for one test.
pub async fn test_database(dir: &TempDir) -> (Db, String) {
    if let Some(admin_url) = postgres_url() {
        {
            let template = pg_template(&admin_url).await;
            let name = format!(
                "chamado_t_{}_{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            );
            let mut admin = PgConnection::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "create database \"{name}\" template \"{template}\""
                )))
                .await
                .expect("clone template");
            let url = replace_database(&admin_url, &name);
            let db = Db::connect_postgres(&url, 8)
                .await
                .expect("connect to test database");
            (db, url)
        }
    } else {
        {
            let path = dir.path().join("chamado.db");
            let url = format!("sqlite://{}", path.display());
            let db = Db::connect_sqlite(
                &path.to_string_lossy(),
                true,
                sqlx::sqlite::SqliteSynchronous::Full,
                8,
            )
            .await
            .expect("open SQLite");
            db.migrate().await.expect("migrate");
            (db, url)
        }
    }
}

/// The configuration tests start from: cheap password hashing, SSO on.
pub fn test_config(dir: &TempDir, database_url: &str) -> Config {
    Config {
        database_url: DatabaseUrl(database_url.to_owned()),
        data_dir: dir.path().to_path_buf(),
        sso_secret: Some(SecretString::from(SSO_SECRET)),
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        ..Config::default()
    }
}

/// One Chamado, its database and a clock the test controls.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub clock: Clock,
    pub dir: Arc<TempDir>,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    /// A test app whose configuration `change` adjusts first.
    pub async fn with_config(change: impl FnOnce(&mut Config)) -> Self {
        let dir = TempDir::new().expect("temp dir");
        let (db, url) = test_database(&dir).await;
        let mut config = test_config(&dir, &url);
        change(&mut config);
        let clock = Clock::fixed(start_time());
        let state = AppState::new(config, db, BlobStore::memory(), clock.clone()).expect("state");
        Self::from_state(state, clock, Arc::new(dir))
    }

    pub fn from_state(state: AppState, clock: Clock, dir: Arc<TempDir>) -> Self {
        let router = chamado::app(state.clone());
        Self {
            state,
            router,
            clock,
            dir,
        }
    }

    /// A second node on the same database and clock (another process in
    /// production): shares nothing in memory with the first.
    pub fn second_node(&self) -> Self {
        let config = (*self.state.config).clone();
        let state = AppState::new(
            config,
            self.state.db.clone(),
            self.state.blobs.clone(),
            self.clock.clone(),
        )
        .expect("state");
        Self::from_state(state, self.clock.clone(), Arc::clone(&self.dir))
    }

    /// Sends a request as if from 203.0.113.7 (or the given address).
    pub async fn send(&self, mut request: Request<Body>) -> TestResponse {
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 7], 40000))));
        }
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// A browser with its own cookie jar.
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            cookies: BTreeMap::new(),
            address: SocketAddr::from(([203, 0, 113, 7], 40000)),
        }
    }

    pub async fn create_org(&self, name: &str, external_id: &str) -> OrgId {
        service::accounts::create_org(&self.state, name, Some(external_id), true)
            .await
            .expect("create org")
    }

    /// A user with the test password.
    pub async fn create_user(&self, email: &str, role: Role, orgs: &[&str]) -> UserId {
        let organizations: Vec<String> = orgs.iter().map(|s| (*s).to_owned()).collect();
        service::accounts::create_user(
            &self.state,
            &UserInput {
                email,
                name: "Maria Teste",
                role,
                password: Some(PASSWORD),
                external_id: None,
                organizations: &organizations,
                groups: &[],
            },
        )
        .await
        .expect("create user")
    }

    /// A valid SSO token for the given identity, issued now.
    pub fn sso_claims(&self, external_id: &str, email: &str, orgs: &[(&str, &str)]) -> SsoClaims {
        let now = self.clock.now().as_second();
        SsoClaims {
            exp: Some(now + 300),
            iat: Some(now),
            jti: Some(uuid::Uuid::new_v4().to_string()),
            email: Some(email.to_owned()),
            external_id: Some(external_id.to_owned()),
            name: Some("Joana Cliente".to_owned()),
            locale: None,
            organizations: Some(
                orgs.iter()
                    .map(|(id, name)| OrgClaim {
                        external_id: (*id).to_owned(),
                        name: (*name).to_owned(),
                    })
                    .collect(),
            ),
            nbf: None,
            aud: None,
            iss: None,
        }
    }

    pub fn sign(claims: &SsoClaims) -> String {
        service::sso::sign(SSO_SECRET, claims).expect("sign")
    }

    /// Signs `claims` with `extra` merged into their JSON, as a platform
    /// would send claims such as `nbf` or an `aud` array.
    pub fn sign_with(claims: &SsoClaims, extra: serde_json::Value) -> String {
        let mut value = serde_json::to_value(claims).expect("claims as JSON");
        if let (Some(map), serde_json::Value::Object(extra)) = (value.as_object_mut(), extra) {
            map.extend(extra);
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &value,
            &jsonwebtoken::EncodingKey::from_secret(SSO_SECRET.as_bytes()),
        )
        .expect("sign")
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The `Set-Cookie` header that sets `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value of the first hidden `csrf_token` field on the page.
    pub fn csrf_token(&self) -> Option<String> {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// Follows cookies like a browser (no redirects are followed automatically).
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
    pub address: SocketAddr,
}

impl Browser<'_> {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, response: &TestResponse) {
        for cookie in response.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let removed = cookie.contains("Max-Age=0") || value.is_empty();
                if removed {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
    }

    pub async fn request(
        &mut self,
        builder: axum::http::request::Builder,
        body: Body,
    ) -> TestResponse {
        let mut request = builder
            .header(header::COOKIE, self.cookie_header())
            .body(body)
            .expect("request");
        request.extensions_mut().insert(ConnectInfo(self.address));
        let response = self.app.send(request).await;
        self.remember(&response);
        response
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request(Request::get(path), Body::empty()).await
    }

    /// Posts an url-encoded form as given (add `csrf_token` yourself).
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).expect("encode form");
        self.request(
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    /// Fetches `page`, takes its CSRF token, and posts the form with it.
    pub async fn submit(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let token = self
            .get(page)
            .await
            .csrf_token()
            .expect("page has a CSRF token");
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form(action, &all).await
    }

    /// Logs in with e-mail and the test password; panics unless it worked.
    pub async fn login(&mut self, email: &str) {
        let response = self
            .submit(
                "/login",
                "/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "login failed: {}",
            response.body
        );
    }

    /// Signs in through `/access/jwt` with the given claims.
    pub async fn sso(&mut self, claims: &SsoClaims, return_to: Option<&str>) -> TestResponse {
        let token = TestApp::sign(claims);
        let mut path = format!("/access/jwt?jwt={token}");
        if let Some(return_to) = return_to {
            path.push_str("&return_to=");
            path.push_str(&chamado::web::encode_query_value(return_to));
        }
        self.get(&path).await
    }
}

impl TestApp {
    /// Serves this app's router on a free 127.0.0.1 port, as `chamado serve`
    /// would (for WebSocket tests); the server lives as long as the test's
    /// runtime.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let address = listener.local_addr().expect("local address");
        let router = self.router.clone();
        let limits = chamado::server::ServerLimits::from_config(&self.state.config);
        tokio::spawn(chamado::server::serve(
            listener,
            router,
            limits,
            std::future::pending(),
        ));
        address
    }

    /// A fresh SSO token for an existing user, signed as the host platform
    /// would sign it (their current organizations, five minutes of validity).
    pub async fn sso_token_for(&self, user: UserId) -> String {
        let claims = service::sso::claims_for_user(&self.state, user)
            .await
            .expect("read the user")
            .expect("the user exists");
        Self::sign(&claims)
    }
}
