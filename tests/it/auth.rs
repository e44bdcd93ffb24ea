//! Local login, logout, sessions, CSRF and login rate limits, through HTTP.

use axum::http::StatusCode;
use chamado::domain::Role;
use jiff::SignedDuration;

use crate::support::{Browser, PASSWORD, TestApp, TestResponse};

#[tokio::test]
async fn login_with_the_right_password_opens_the_portal() {
    let tc = TestApp::new().await;
    tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    tc.create_user("ana@padaria.example", Role::Customer, &["org-padaria"])
        .await;
    let mut browser = tc.browser();
    let response = browser
        .submit(
            "/login",
            "/login",
            &[
                ("email", "Ana@Padaria.example"),
                ("password", PASSWORD),
                ("return_to", "/portal"),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some("/portal"));
    let cookie = response.cookie("chamado_session").expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http base URL: {cookie}");
    let portal = browser.get("/portal/account").await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(portal.body.contains("Maria Teste"));
    assert!(portal.body.contains("Padaria Pão Dourado"));
}

#[tokio::test]
async fn session_cookie_is_secure_when_the_base_url_is_https() {
    let tc = TestApp::with_config(|c| c.base_url = "https://suporte.example.com".into()).await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    let response = browser
        .submit(
            "/login",
            "/login",
            &[("email", "ana@padaria.example"), ("password", PASSWORD)],
        )
        .await;
    // Host-only on https (`__Host-` needs `Secure`, `Path=/`, no `Domain`).
    let cookie = response
        .cookie("__Host-chamado_session")
        .expect("session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    let wrong = browser
        .submit(
            "/login",
            "/login",
            &[
                ("email", "ana@padaria.example"),
                ("password", "not the password"),
            ],
        )
        .await;
    let unknown = browser
        .submit(
            "/login",
            "/login",
            &[
                ("email", "nobody@padaria.example"),
                ("password", "not the password"),
            ],
        )
        .await;
    for response in [&wrong, &unknown] {
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert!(response.body.contains("E-mail ou senha incorretos."));
        assert!(response.cookie("chamado_session").is_none());
    }
    assert!(
        wrong.body.contains("value=\"ana@padaria.example\""),
        "the e-mail is kept in the form"
    );
    assert_eq!(
        browser.get("/portal/account").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn empty_login_form_asks_for_both_fields() {
    let tc = TestApp::new().await;
    let mut browser = tc.browser();
    let response = browser
        .submit("/login", "/login", &[("email", ""), ("password", "")])
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Informe e-mail e senha."));
}

/// A browser whose requests come from `address`.
fn browser_at<'a>(tc: &'a TestApp, address: &str) -> Browser<'a> {
    let mut browser = tc.browser();
    browser.address = format!("{address}:40000").parse().unwrap();
    browser
}

/// Submits the login form with this e-mail and password.
async fn try_login(browser: &mut Browser<'_>, email: &str, password: &str) -> TestResponse {
    browser
        .submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
}

/// The `Retry-After` of a response, in seconds.
fn retry_after(response: &TestResponse) -> i64 {
    response
        .headers
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn successful_logins_from_one_address_are_never_limited() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    tc.create_user("bruno@padaria.example", Role::Customer, &[])
        .await;
    // One office address: far more logins than the per-address limit of
    // failures, with a typo now and then.
    for n in 0..30 {
        let mut browser = browser_at(&tc, "198.51.100.20");
        let email = if n % 2 == 0 {
            "ana@padaria.example"
        } else {
            "bruno@padaria.example"
        };
        if n % 10 == 0 {
            let typo = try_login(&mut browser, email, "typo").await;
            assert_eq!(typo.status, StatusCode::UNAUTHORIZED, "typo at login {n}");
        }
        let response = try_login(&mut browser, email, PASSWORD).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "login {n}");
    }
}

#[tokio::test]
async fn an_attacker_cannot_lock_the_owner_out() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut attacker = browser_at(&tc, "192.0.2.66");
    for n in 0..12 {
        let response = try_login(&mut attacker, "ana@padaria.example", "guess").await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            tc.clock
                .advance(SignedDuration::from_secs(retry_after(&response)));
            let response = try_login(&mut attacker, "ana@padaria.example", "guess").await;
            assert_eq!(response.status, StatusCode::UNAUTHORIZED, "guess {n}");
        } else {
            assert_eq!(response.status, StatusCode::UNAUTHORIZED, "guess {n}");
        }
    }
    assert_eq!(
        try_login(&mut attacker, "ana@padaria.example", PASSWORD)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker's pair waits, even with the right password"
    );
    // The owner, at the same moment, from her own address.
    let mut owner = browser_at(&tc, "198.51.100.9");
    let response = try_login(&mut owner, "ana@padaria.example", PASSWORD).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(response.cookie("chamado_session").is_some());
}

#[tokio::test]
async fn wrong_passwords_from_one_address_make_that_pair_wait_longer_and_longer() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut attacker = browser_at(&tc, "192.0.2.66");
    for n in 0..5 {
        let response = try_login(&mut attacker, "ana@padaria.example", "guess").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let mut waits = Vec::new();
    for _ in 0..6 {
        let refused = try_login(&mut attacker, "ana@padaria.example", "guess").await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.body.contains("Muitas tentativas"));
        assert!(refused.cookie("chamado_session").is_none());
        let wait = retry_after(&refused);
        waits.push(wait);
        // Not a moment before the wait ends.
        tc.clock.advance(SignedDuration::from_secs(wait - 1));
        assert_eq!(
            try_login(&mut attacker, "ana@padaria.example", "guess")
                .await
                .status,
            StatusCode::TOO_MANY_REQUESTS
        );
        tc.clock.advance(SignedDuration::from_secs(1));
        assert_eq!(
            try_login(&mut attacker, "ana@padaria.example", "guess")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32]);
    // Another account from the same address is not held back.
    tc.create_user("bruno@padaria.example", Role::Customer, &[])
        .await;
    let other = try_login(&mut attacker, "bruno@padaria.example", PASSWORD).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_wait_stops_growing_at_its_maximum_and_a_success_clears_it() {
    let tc = TestApp::with_config(|c| {
        c.login_failures_before_wait = 2;
        c.login_max_wait_secs = 10;
    })
    .await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = browser_at(&tc, "198.51.100.9");
    let mut waits = Vec::new();
    for _ in 0..10 {
        let response = try_login(&mut browser, "ana@padaria.example", "typo").await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            let wait = retry_after(&response);
            waits.push(wait);
            tc.clock.advance(SignedDuration::from_secs(wait));
        } else {
            assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        }
    }
    assert_eq!(waits, [1, 2, 4, 8]);
    let response = try_login(&mut browser, "ana@padaria.example", "typo").await;
    assert_eq!(retry_after(&response), 10, "capped");
    tc.clock.advance(SignedDuration::from_secs(10));
    assert_eq!(
        try_login(&mut browser, "ana@padaria.example", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The success cleared the pair: the free failures are back.
    let mut browser = browser_at(&tc, "198.51.100.9");
    for _ in 0..2 {
        assert_eq!(
            try_login(&mut browser, "ana@padaria.example", "typo")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        retry_after(&try_login(&mut browser, "ana@padaria.example", "typo").await),
        1
    );
}

#[tokio::test]
async fn an_address_spraying_passwords_over_many_accounts_is_stopped() {
    let tc = TestApp::with_config(|c| {
        c.login_max_failures_per_address = 20;
        c.trust_forwarded_for = true;
    })
    .await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    // Behind a trusted proxy the address is the first in X-Forwarded-For.
    let spray = |email: String| {
        let tc = &tc;
        async move {
            let mut browser = tc.browser();
            let token = browser.get("/login").await.csrf_token().unwrap();
            let body = serde_urlencoded::to_string([
                ("csrf_token", token.as_str()),
                ("email", email.as_str()),
                ("password", "Senha123!"),
            ])
            .unwrap();
            browser
                .request(
                    axum::http::Request::post("/login")
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("x-forwarded-for", "192.0.2.66, 10.0.0.1"),
                    axum::body::Body::from(body),
                )
                .await
        }
    };
    for n in 0..20 {
        let response = spray(format!("user{n}@padaria.example")).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "account {n}");
    }
    let refused = spray("ana@padaria.example".to_owned()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&refused), 15 * 60);
    // Other addresses are not held back.
    let mut elsewhere = browser_at(&tc, "198.51.100.9");
    elsewhere.login("ana@padaria.example").await;
    // The window ends.
    tc.clock.advance(SignedDuration::from_mins(16));
    assert_eq!(
        spray("user21@padaria.example".to_owned()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn parallel_guesses_on_two_nodes_cannot_exceed_the_free_failures() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let node_b = tc.second_node();
    let token_page = tc.browser().get("/login").await;
    let cookie = token_page.cookie("chamado_csrf").unwrap();
    let csrf = token_page.csrf_token().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let mut handles = Vec::new();
    for n in 0..12 {
        let router = if n % 2 == 0 {
            tc.router.clone()
        } else {
            node_b.router.clone()
        };
        let body = serde_urlencoded::to_string([
            ("csrf_token", csrf.as_str()),
            ("email", "ana@padaria.example"),
            ("password", "guess"),
        ])
        .unwrap();
        let cookie = cookie.clone();
        handles.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let mut request = axum::http::Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", cookie)
                .body(axum::body::Body::from(body))
                .unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from(([192, 0, 2, 66], 1000 + n)),
            ));
            router.oneshot(request).await.unwrap().status()
        }));
    }
    let mut unauthorized = 0;
    let mut limited = 0;
    for handle in handles {
        match handle.await.unwrap() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        unauthorized, 5,
        "exactly the free number of attempts were checked"
    );
    assert_eq!(limited, 7);
}

#[tokio::test]
async fn logout_ends_the_session_for_good() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    let stolen = browser.cookies.get("chamado_session").cloned().unwrap();
    let portal = browser.get("/portal/account").await;
    let token = portal.csrf_token().unwrap();
    let response = browser
        .post_form("/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some("/login"));
    assert!(
        response
            .cookie("chamado_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    // Replaying the old cookie does not bring the session back.
    let mut replay = tc.browser();
    replay.cookies.insert("chamado_session".into(), stolen);
    let portal = replay.get("/portal/account").await;
    assert_eq!(portal.status, StatusCode::SEE_OTHER);
    assert_eq!(
        portal.location(),
        Some("/login?return_to=%2Fportal%2Faccount")
    );
}

#[tokio::test]
async fn logout_goes_to_the_host_platform_when_configured() {
    let tc = TestApp::with_config(|c| {
        c.sso_logout_url = Some("https://app.kamino.example/logout".into());
    })
    .await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    let response = browser.submit("/portal/account", "/logout", &[]).await;
    assert_eq!(
        response.location(),
        Some("https://app.kamino.example/logout")
    );
}

#[tokio::test]
async fn login_issues_a_new_session_id_and_drops_the_old_one() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    let first = browser.cookies.get("chamado_session").cloned().unwrap();
    // A signed-in browser posts the login form again (e.g. from another tab).
    let response = browser
        .submit(
            "/portal/account",
            "/login",
            &[("email", "ana@padaria.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let second = browser.cookies.get("chamado_session").cloned().unwrap();
    assert_ne!(first, second);
    let mut old = tc.browser();
    old.cookies.insert("chamado_session".into(), first);
    assert_eq!(
        old.get("/portal/account").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn session_expires_after_the_idle_limit() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    tc.clock.advance(SignedDuration::from_mins(119));
    assert_eq!(browser.get("/portal/account").await.status, StatusCode::OK);
    tc.clock.advance(SignedDuration::from_mins(119));
    assert_eq!(
        browser.get("/portal/account").await.status,
        StatusCode::OK,
        "activity keeps the session alive"
    );
    tc.clock.advance(SignedDuration::from_mins(121));
    let response = browser.get("/portal/account").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some("/login?return_to=%2Fportal%2Faccount")
    );
}

#[tokio::test]
async fn session_expires_at_the_absolute_limit_despite_activity() {
    let tc = TestApp::with_config(|c| c.session_absolute_hours = 8).await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    for _ in 0..7 {
        tc.clock.advance(SignedDuration::from_hours(1));
        assert_eq!(browser.get("/portal/account").await.status, StatusCode::OK);
    }
    tc.clock.advance(SignedDuration::from_hours(1));
    assert_eq!(
        browser.get("/portal/account").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_session_is_valid_on_every_node() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let node_b = tc.second_node();
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    let mut on_b = node_b.browser();
    on_b.cookies = browser.cookies.clone();
    assert_eq!(on_b.get("/portal/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn state_changing_requests_without_a_csrf_token_are_refused() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    // Login form without token.
    let response = browser
        .post_form(
            "/login",
            &[("email", "ana@padaria.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.body.contains("O formulário expirou"));
    assert!(response.cookie("chamado_session").is_none());

    browser.login("ana@padaria.example").await;
    // Logout without token, and with a wrong one: the session survives.
    assert_eq!(
        browser.post_form("/logout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let wrong = "0".repeat(64);
    assert_eq!(
        browser
            .post_form("/logout", &[("csrf_token", &wrong)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(browser.get("/portal/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_csrf_token_from_another_session_is_refused() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    tc.create_user("bruno@rioclaro.example", Role::Customer, &[])
        .await;
    let mut attacker = tc.browser();
    attacker.login("bruno@rioclaro.example").await;
    let attacker_token = attacker.get("/portal/account").await.csrf_token().unwrap();
    let mut victim = tc.browser();
    victim.login("ana@padaria.example").await;
    let response = victim
        .post_form(
            "/language",
            &[("csrf_token", &attacker_token), ("lang", "en")],
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(
        victim
            .get("/portal/account")
            .await
            .body
            .contains("Minha conta"),
        "language unchanged"
    );
}

#[tokio::test]
async fn the_csrf_token_may_come_in_a_header() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    let token = browser.get("/portal/account").await.csrf_token().unwrap();
    let response = browser
        .request(
            axum::http::Request::post("/language")
                .header("x-csrf-token", token)
                .header("content-type", "application/x-www-form-urlencoded"),
            axum::body::Body::from("lang=en"),
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(
        browser
            .get("/portal/account")
            .await
            .body
            .contains("My account")
    );
}

#[tokio::test]
async fn language_choice_is_kept_on_the_account() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    let response = browser
        .submit(
            "/portal/account",
            "/language",
            &[("lang", "en"), ("return_to", "/portal")],
        )
        .await;
    assert_eq!(response.location(), Some("/portal"));
    // A new browser logging in sees English too: the choice is on the account.
    let mut other = tc.browser();
    other.login("ana@padaria.example").await;
    let page = other.get("/portal/account").await;
    assert!(page.body.contains("My account"));
    assert!(page.body.contains("lang=\"en\""));
    let bad = browser
        .submit("/portal/account", "/language", &[("lang", "klingon")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_host_platform_login_when_configured() {
    let tc = TestApp::with_config(|c| {
        c.sso_login_url = Some("https://app.kamino.example/login?next=help".into());
    })
    .await;
    let response = tc.browser().get("/portal/tickets?view=org").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some(
            "https://app.kamino.example/login?next=help&return_to=%2Fportal%2Ftickets%3Fview%3Dorg"
        )
    );
}

#[tokio::test]
async fn login_return_to_never_leaves_the_site() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "/\n//evil.example",
    ] {
        let mut browser = tc.browser();
        let response = browser
            .submit(
                "/login",
                "/login",
                &[
                    ("email", "ana@padaria.example"),
                    ("password", PASSWORD),
                    ("return_to", evil),
                ],
            )
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{evil}");
        let location = response.location().unwrap();
        assert!(
            location == "/portal" || location == "/%0d%0aSet-Cookie:x=1",
            "{evil} → {location}"
        );
    }
    let page = tc.browser().get("/login?return_to=//evil.example").await;
    assert!(page.body.contains("name=\"return_to\" value=\"/portal\""));
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let tc = TestApp::new().await;
    let response = tc.browser().get("/login").await;
    let csp = response
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(
        response.headers.get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert_eq!(response.headers.get("x-frame-options").unwrap(), "DENY");
    assert!(response.headers.get("x-request-id").is_some());
}

#[tokio::test]
async fn unknown_pages_answer_404_in_the_visitors_language() {
    let tc = TestApp::new().await;
    let response = tc.browser().get("/nada-aqui").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(response.body.contains("Página não encontrada"));
    let mut english = tc.browser();
    let response = english
        .request(
            axum::http::Request::get("/nothing-here").header("accept-language", "en-US,en;q=0.8"),
            axum::body::Body::empty(),
        )
        .await;
    assert!(response.body.contains("Page not found"));
}

#[tokio::test]
async fn housekeeping_deletes_expired_sessions_and_keeps_live_ones() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    tc.create_user("bruno@rioclaro.example", Role::Customer, &[])
        .await;
    let mut idle = tc.browser();
    idle.login("ana@padaria.example").await;
    tc.clock.advance(SignedDuration::from_mins(100));
    let mut active = tc.browser();
    active.login("bruno@rioclaro.example").await;
    tc.clock.advance(SignedDuration::from_mins(30));
    chamado::service::sessions::prune(&tc.state).await.unwrap();
    let remaining: i64 = chamado::with_db!(&tc.state.db, |pool| {
        sqlx::query_scalar("select count(*) from sessions")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(remaining, 1);
    assert_eq!(active.get("/portal/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_language_switch_returns_to_the_page_it_was_used_on() {
    let tc = TestApp::new().await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser.login("ana@padaria.example").await;
    let page = browser.get("/portal/tickets?view=org&status=sent").await;
    assert!(
        page.body
            .contains("name=\"return_to\" value=\"/portal/tickets?view=org&#38;status=sent\""),
        "the switch carries the current page: {}",
        page.body
            .lines()
            .find(|l| l.contains("return_to"))
            .unwrap_or_default()
    );
    let token = page.csrf_token().unwrap();
    let response = browser
        .post_form(
            "/language",
            &[
                ("csrf_token", &token),
                ("lang", "en"),
                ("return_to", "/portal/tickets?view=org&status=sent"),
            ],
        )
        .await;
    assert_eq!(
        response.location(),
        Some("/portal/tickets?view=org&status=sent")
    );
    assert!(
        browser
            .get("/portal/tickets")
            .await
            .body
            .contains("Ticket Center")
    );
}

#[tokio::test]
async fn agents_start_in_their_workspace_and_only_staff_see_its_link() {
    let tc = TestApp::new().await;
    tc.create_user("fernanda@suporte.example", Role::Agent, &[])
        .await;
    tc.create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut agent = tc.browser();
    let response = agent
        .submit(
            "/login",
            "/login",
            &[
                ("email", "fernanda@suporte.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.location(), Some("/agent"));
    let page = agent.get("/portal/account").await;
    assert!(page.body.contains("href=\"/agent\""));
    assert!(!page.body.contains("href=\"/admin\""));
    let mut customer = tc.browser();
    customer.login("ana@padaria.example").await;
    let page = customer.get("/portal/account").await;
    assert!(!page.body.contains("href=\"/agent\""));
}
