//! Single sign-on from the host platform: `GET /access/jwt`.

use axum::http::StatusCode;
use chamado::{
    domain::{Role, UserId},
    service::{self, sso::SsoClaims},
    store,
};
use jiff::SignedDuration;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{SSO_SECRET, TestApp, TestResponse};

/// A claim's name and how to remove it from a token.
type Removal = (&'static str, fn(&mut SsoClaims));

const ORGS: &[(&str, &str)] = &[
    ("org-padaria", "Padaria Pão Dourado"),
    ("org-rioclaro", "Transportes Rio Claro"),
];

/// Asserts the friendly 401 page with the seed's advice.
fn assert_refused(response: &crate::support::TestResponse, why: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{why}: {}",
        response.body
    );
    assert!(
        response.body.contains("Saia da plataforma Kamino."),
        "{why}"
    );
    assert!(response.body.contains("Faça o login novamente"), "{why}");
    assert!(response.body.contains("0800 369 0000"), "{why}");
    assert!(response.cookie("chamado_session").is_none(), "{why}");
}

#[tokio::test]
async fn a_valid_token_signs_the_user_in_with_their_organizations() {
    let tc = TestApp::new().await;
    let mut browser = tc.browser();
    let claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    let response = browser.sso(&claims, Some("/portal?view=org")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.location(), Some("/portal?view=org"));
    let portal = browser.get("/portal/account").await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(portal.body.contains("Joana Cliente"));
    assert!(portal.body.contains("Padaria Pão Dourado"));
    assert!(portal.body.contains("Transportes Rio Claro"));
    let user = store::users::find_by_email(&tc.state.db, "joana@padaria.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.external_id.as_deref(), Some("kamino-42"));
    assert_eq!(user.role(), Role::Customer);
    assert!(user.password_hash.is_none());
}

#[tokio::test]
async fn a_later_token_updates_the_user_and_removes_memberships_it_does_not_list() {
    let tc = TestApp::new().await;
    let mut browser = tc.browser();
    browser
        .sso(
            &tc.sso_claims("kamino-42", "joana@padaria.example", ORGS),
            None,
        )
        .await;
    let mut claims = tc.sso_claims(
        "kamino-42",
        "joana.silva@padaria.example",
        &[("org-padaria", "Padaria Pão Dourado Ltda")],
    );
    claims.name = Some("Joana Silva".into());
    claims.locale = Some("en".into());
    let response = browser.sso(&claims, None).await;
    assert_eq!(response.location(), Some("/portal"));
    let user = store::users::find_by_email(&tc.state.db, "joana.silva@padaria.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.name, "Joana Silva");
    assert_eq!(user.locale, "en");
    let memberships = store::users::memberships(&tc.state.db, user.id)
        .await
        .unwrap();
    let names: Vec<&str> = memberships
        .iter()
        .map(|m| m.organization_name.as_str())
        .collect();
    assert_eq!(names, ["Padaria Pão Dourado Ltda"]);
    let page = browser.get("/portal/account").await;
    assert!(
        page.body.contains("My organizations"),
        "the token's locale is used"
    );
    assert!(!page.body.contains("Transportes Rio Claro"));
}

#[tokio::test]
async fn a_token_links_a_customer_account_created_before_sso_by_email() {
    let tc = TestApp::new().await;
    let existing = tc
        .create_user("ana@padaria.example", Role::Customer, &[])
        .await;
    let mut browser = tc.browser();
    browser
        .sso(
            &tc.sso_claims("kamino-ana", "ANA@padaria.example", &[]),
            None,
        )
        .await;
    let user = store::users::find(&tc.state.db, existing)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.external_id.as_deref(), Some("kamino-ana"));
    assert_eq!(user.role(), Role::Customer, "SSO never changes a role");
    assert_eq!(browser.get("/portal/account").await.status, StatusCode::OK);
}

/// Asserts the 409 page that asks the person to have support link the
/// account, with no session started.
fn assert_conflict(response: &crate::support::TestResponse, why: &str) {
    assert_eq!(
        response.status,
        StatusCode::CONFLICT,
        "{why}: {}",
        response.body
    );
    assert!(
        response
            .body
            .contains("já pertence a outra conta no Portal de Tickets"),
        "{why}: {}",
        response.body
    );
    assert!(response.body.contains("Nada foi alterado."), "{why}");
    assert!(response.body.contains("0800 369 0000"), "{why}");
    assert!(response.cookie("chamado_session").is_none(), "{why}");
}

/// A user's external id, name and organizations as stored.
async fn stored(tc: &TestApp, user: UserId) -> (Option<String>, String, Vec<String>) {
    let row = store::users::find(&tc.state.db, user)
        .await
        .unwrap()
        .unwrap();
    let orgs = store::users::memberships(&tc.state.db, user)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.organization_name)
        .collect();
    (row.external_id, row.name, orgs)
}

#[tokio::test]
async fn a_token_never_reaches_an_agent_or_admin_by_email() {
    let tc = TestApp::new().await;
    for (email, role) in [
        ("fernanda@suporte.example", Role::Agent),
        ("helena@suporte.example", Role::Admin),
    ] {
        let staff = tc.create_user(email, role, &[]).await;
        let mut browser = tc.browser();
        let mut claims = tc.sso_claims("kamino-attacker", &email.to_uppercase(), ORGS);
        claims.name = Some("Invasor".into());
        assert_conflict(&browser.sso(&claims, Some("/agent")).await, email);
        assert_eq!(
            stored(&tc, staff).await,
            (None, "Maria Teste".to_owned(), Vec::new()),
            "{email}: nothing written"
        );
        assert_eq!(
            browser.get("/agent").await.status,
            StatusCode::SEE_OTHER,
            "{email}: not signed in"
        );
        // Their own login still works.
        browser.login(email).await;
        assert_eq!(browser.get("/agent").await.status, StatusCode::OK);
    }
    assert_eq!(
        count(&tc, "select count(*) from organizations").await,
        0,
        "no organization written"
    );
    assert_eq!(count(&tc, "select count(*) from sso_used_tokens").await, 0);
}

#[tokio::test]
async fn an_admin_linked_staff_account_signs_in_by_its_external_id() {
    let tc = TestApp::new().await;
    let agent = tc
        .create_user("fernanda@suporte.example", Role::Agent, &[])
        .await;
    chamado::with_db!(&tc.state.db, |pool| {
        sqlx::query("update users set external_id = $1 where id = $2")
            .bind("kamino-fernanda")
            .bind(agent.0)
            .execute(pool)
            .await
            .unwrap();
    });
    let mut browser = tc.browser();
    let claims = tc.sso_claims("kamino-fernanda", "fernanda@suporte.example", &[]);
    assert_eq!(
        browser.sso(&claims, Some("/agent")).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(browser.get("/agent").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_never_takes_over_an_account_with_another_external_id() {
    let tc = TestApp::new().await;
    let mut owner = tc.browser();
    owner
        .sso(
            &tc.sso_claims("kamino-42", "joana@padaria.example", ORGS),
            None,
        )
        .await;
    let joana = store::users::find_by_email(&tc.state.db, "joana@padaria.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    let before = stored(&tc, joana).await;

    let mut browser = tc.browser();
    let mut claims = tc.sso_claims(
        "kamino-99",
        "Joana@Padaria.example",
        &[("org-other", "Outra")],
    );
    claims.name = Some("Invasor".into());
    assert_conflict(&browser.sso(&claims, None).await, "another external id");
    assert_eq!(stored(&tc, joana).await, before, "nothing written");
    assert_eq!(
        browser.get("/portal/account").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count(&tc, "select count(*) from users").await, 1);
    assert_eq!(count(&tc, "select count(*) from organizations").await, 2);

    // Nor may the owner's token move their account onto someone else's e-mail.
    tc.create_user("diego@padaria.example", Role::Customer, &[])
        .await;
    let claims = tc.sso_claims("kamino-42", "diego@padaria.example", ORGS);
    assert_conflict(&owner.sso(&claims, None).await, "e-mail of another account");
    assert_eq!(stored(&tc, joana).await, before);
}

#[tokio::test]
async fn a_token_for_a_deactivated_user_changes_nothing() {
    let tc = TestApp::new().await;
    tc.browser()
        .sso(
            &tc.sso_claims("kamino-42", "joana@padaria.example", ORGS),
            None,
        )
        .await;
    let joana = store::users::find_by_email(&tc.state.db, "joana@padaria.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    // A customer created before SSO, deactivated before ever using it.
    let diego = tc
        .create_user("diego@padaria.example", Role::Customer, &[])
        .await;
    let admin = tc
        .create_user("admin@suporte.example", Role::Admin, &[])
        .await;
    for user in [joana, diego] {
        service::admin::set_user_active(&tc.state, admin, user, false)
            .await
            .unwrap();
    }
    let before = (stored(&tc, joana).await, stored(&tc, diego).await);
    let used_before = count(&tc, "select count(*) from sso_used_tokens").await;

    let mut claims = tc.sso_claims(
        "kamino-42",
        "joana@padaria.example",
        &[("org-new", "Nova Empresa")],
    );
    claims.name = Some("Joana Renomeada".into());
    assert_refused(&tc.browser().sso(&claims, None).await, "deactivated");
    let mut claims = tc.sso_claims("kamino-diego", "diego@padaria.example", ORGS);
    claims.name = Some("Diego Renomeado".into());
    assert_refused(
        &tc.browser().sso(&claims, None).await,
        "deactivated, by e-mail",
    );
    assert_eq!(
        (stored(&tc, joana).await, stored(&tc, diego).await),
        before,
        "nothing written"
    );
    assert_eq!(count(&tc, "select count(*) from organizations").await, 2);
    assert_eq!(
        count(&tc, "select count(*) from sso_used_tokens").await,
        used_before
    );
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let tc = TestApp::new().await;
    let claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"another-secret-of-the-right-length-xx"),
    )
    .unwrap();
    let response = tc.browser().get(&format!("/access/jwt?jwt={token}")).await;
    assert_refused(&response, "bad signature");
    assert!(
        store::users::find_by_email(&tc.state.db, "joana@padaria.example")
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
}

#[tokio::test]
async fn an_unsigned_token_with_alg_none_is_refused() {
    use base64_free::encode;
    let tc = TestApp::new().await;
    let claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    let header = encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = encode(serde_json::to_string(&claims).unwrap().as_bytes());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        let response = tc.browser().get(&format!("/access/jwt?jwt={token}")).await;
        assert_refused(&response, "alg none");
    }
    // Another algorithm with the same secret is refused as well.
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(SSO_SECRET.as_bytes()),
    )
    .unwrap();
    assert_refused(
        &tc.browser().get(&format!("/access/jwt?jwt={hs512}")).await,
        "HS512",
    );
}

#[tokio::test]
async fn garbage_and_missing_tokens_are_refused() {
    let tc = TestApp::new().await;
    assert_refused(
        &tc.browser().get("/access/jwt?jwt=garbage").await,
        "garbage",
    );
    assert_refused(&tc.browser().get("/access/jwt").await, "missing");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let tc = TestApp::new().await;
    let mut claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    let now = tc.clock.now().as_second();
    claims.iat = Some(now - 120);
    claims.exp = Some(now - 60);
    assert_refused(&tc.browser().sso(&claims, None).await, "expired");
}

#[tokio::test]
async fn a_token_issued_more_than_five_minutes_ago_is_refused() {
    let tc = TestApp::new().await;
    let mut claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    let now = tc.clock.now().as_second();
    claims.iat = Some(now - 6 * 60);
    claims.exp = Some(now + 3600);
    assert_refused(&tc.browser().sso(&claims, None).await, "old iat");
    claims.iat = Some(now + 10 * 60);
    claims.jti = Some("another".into());
    assert_refused(&tc.browser().sso(&claims, None).await, "iat in the future");
}

#[tokio::test]
async fn a_token_cannot_be_used_twice() {
    let tc = TestApp::new().await;
    let claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    assert_eq!(
        tc.browser().sso(&claims, None).await.status,
        StatusCode::SEE_OTHER
    );
    tc.clock.advance(SignedDuration::from_secs(30));
    assert_refused(&tc.browser().sso(&claims, None).await, "replay");
    // Not on another node either.
    let node_b = tc.second_node();
    assert_refused(
        &node_b.browser().sso(&claims, None).await,
        "replay on node B",
    );
}

#[tokio::test]
async fn a_token_missing_any_required_claim_is_refused() {
    let tc = TestApp::new().await;
    let removals: [Removal; 6] = [
        ("exp", |c| c.exp = None),
        ("iat", |c| c.iat = None),
        ("jti", |c| c.jti = None),
        ("email", |c| c.email = None),
        ("external_id", |c| c.external_id = None),
        ("name", |c| c.name = Some("  ".into())),
    ];
    for (claim, remove) in removals {
        let mut claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
        remove(&mut claims);
        assert_refused(&tc.browser().sso(&claims, None).await, claim);
    }
    let mut claims = tc.sso_claims("kamino-42", "not-an-email", ORGS);
    claims.jti = Some("bad-email".into());
    assert_refused(&tc.browser().sso(&claims, None).await, "invalid email");
    assert!(
        store::users::find_by_email(&tc.state.db, "joana@padaria.example")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn audience_and_issuer_are_checked_when_configured() {
    let tc = TestApp::with_config(|c| {
        c.sso_audience = Some("chamado".into());
        c.sso_issuer = Some("https://app.kamino.example".into());
    })
    .await;
    let mut claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    assert_refused(&tc.browser().sso(&claims, None).await, "no aud/iss");
    claims.jti = Some("2".into());
    claims.aud = Some("someone-else".into());
    claims.iss = Some("https://app.kamino.example".into());
    assert_refused(&tc.browser().sso(&claims, None).await, "wrong aud");
    claims.jti = Some("3".into());
    claims.aud = Some("chamado".into());
    claims.iss = Some("https://evil.example".into());
    assert_refused(&tc.browser().sso(&claims, None).await, "wrong iss");
    claims.jti = Some("4".into());
    claims.iss = Some("https://app.kamino.example".into());
    assert_eq!(
        tc.browser().sso(&claims, None).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sso_return_to_never_leaves_the_site() {
    let tc = TestApp::new().await;
    for evil in [
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example/portal",
    ] {
        let claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
        let response = tc.browser().sso(&claims, Some(evil)).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{evil}");
        assert_eq!(response.location(), Some("/portal"), "{evil}");
    }
}

#[tokio::test]
async fn the_refusal_page_speaks_the_visitors_language() {
    let tc = TestApp::new().await;
    let mut browser = tc.browser();
    let response = browser
        .request(
            axum::http::Request::get("/access/jwt?jwt=garbage").header("accept-language", "en"),
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert!(response.body.contains("Log out of the Kamino platform."));
    assert!(response.body.contains("0800 369 0000"));
}

#[tokio::test]
async fn sso_is_refused_when_no_secret_is_configured() {
    let tc = TestApp::with_config(|c| c.sso_secret = None).await;
    let claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    assert_refused(&tc.browser().sso(&claims, None).await, "not configured");
}

#[tokio::test]
async fn a_fresh_host_login_repairs_a_broken_portal_session() {
    // The seed's advice must always work: whatever state the browser is in
    // (expired session, garbage cookie), a new token signs the user in.
    let tc = TestApp::new().await;
    let mut browser = tc.browser();
    browser
        .cookies
        .insert("chamado_session".into(), "f".repeat(64));
    browser
        .cookies
        .insert("chamado_csrf".into(), "garbage".into());
    assert_eq!(
        browser.get("/portal/account").await.status,
        StatusCode::SEE_OTHER
    );
    let response = browser
        .sso(
            &tc.sso_claims("kamino-42", "joana@padaria.example", ORGS),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/portal/account").await.status, StatusCode::OK);
}

/// Signs in through `/access/jwt` with `extra` claims merged into `claims`.
async fn sso_with(tc: &TestApp, claims: &SsoClaims, extra: Value) -> TestResponse {
    let token = TestApp::sign_with(claims, extra);
    tc.browser().get(&format!("/access/jwt?jwt={token}")).await
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let tc = TestApp::new().await;
    let now = tc.clock.now().as_second();
    let mut claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    assert_refused(
        &sso_with(&tc, &claims, json!({ "nbf": now + 120 })).await,
        "nbf in the future",
    );
    // Within the tolerated clock skew, or in the past: accepted.
    for (jti, nbf) in [("skew", now + 20), ("past", now - 60)] {
        claims.jti = Some(jti.into());
        assert_eq!(
            sso_with(&tc, &claims, json!({ "nbf": nbf })).await.status,
            StatusCode::SEE_OTHER,
            "{jti}"
        );
    }
}

#[tokio::test]
async fn a_token_living_longer_than_ten_minutes_is_refused() {
    let tc = TestApp::new().await;
    let now = tc.clock.now().as_second();
    let mut claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    claims.exp = Some(now + 601);
    assert_refused(&tc.browser().sso(&claims, None).await, "exp - iat = 601 s");
    claims.jti = Some("day".into());
    claims.exp = Some(now + 86_400);
    assert_refused(&tc.browser().sso(&claims, None).await, "a day");
    claims.jti = Some("expires-before-issued".into());
    claims.exp = Some(now - 1);
    assert_refused(&tc.browser().sso(&claims, None).await, "exp before iat");
    claims.jti = Some("ten-minutes".into());
    claims.exp = Some(now + 600);
    assert_eq!(
        tc.browser().sso(&claims, None).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_audience_array_is_accepted_when_it_holds_ours() {
    let tc = TestApp::with_config(|c| c.sso_audience = Some("chamado".into())).await;
    let mut claims = tc.sso_claims("kamino-42", "joana@padaria.example", ORGS);
    for (jti, aud) in [
        ("others", json!(["kamino-api", "billing"])),
        ("empty", json!([])),
    ] {
        claims.jti = Some(jti.into());
        assert_refused(&sso_with(&tc, &claims, json!({ "aud": aud })).await, jti);
    }
    claims.jti = Some("ours".into());
    let response = sso_with(&tc, &claims, json!({ "aud": ["kamino-api", "chamado"] })).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
}

// ---------------------------------------------------------------------------
// Another account's link on a signed-in browser (login CSRF)

/// A customer's claims with their own name.
fn person(tc: &TestApp, external_id: &str, email: &str, name: &str) -> SsoClaims {
    let mut claims = tc.sso_claims(external_id, email, &ORGS[..1]);
    claims.name = Some(name.into());
    claims
}

#[tokio::test]
async fn a_link_for_another_account_asks_before_replacing_the_session() {
    let tc = TestApp::new().await;
    let mut browser = tc.browser();
    let ana = person(&tc, "kamino-ana", "ana@padaria.example", "Ana Vítima");
    assert_eq!(browser.sso(&ana, None).await.status, StatusCode::SEE_OTHER);
    let bruno = person(
        &tc,
        "kamino-bruno",
        "bruno@rioclaro.example",
        "Bruno Atacante",
    );

    // Ana's browser opens Bruno's link: she stays Ana, and is asked.
    let page = browser.sso(&bruno, Some("/portal/tickets")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.cookie("chamado_session").is_none());
    assert!(page.body.contains("Entrar com outra conta?"));
    assert!(page.body.contains("Você está conectado como Ana Vítima."));
    assert!(page.body.contains("bruno@rioclaro.example"));
    assert!(page.body.contains("Entrar como Bruno Atacante"));
    assert!(
        page.body
            .contains("href=\"/portal/tickets\">Continuar como Ana Vítima")
    );
    assert!(
        page.body
            .contains("<form method=\"post\" action=\"/access/jwt\"")
    );
    let account = browser.get("/portal/account").await;
    assert!(account.body.contains("Ana Vítima"), "still Ana");
    // Showing the page neither spends the token nor writes Bruno.
    assert_eq!(count(&tc, "select count(*) from sso_used_tokens").await, 1);
    assert!(
        store::users::find_by_email(&tc.state.db, "bruno@rioclaro.example")
            .await
            .unwrap()
            .is_none()
    );

    // A cross-site form (no CSRF token) is refused.
    let jwt = TestApp::sign(&bruno);
    let forged = browser
        .post_form("/access/jwt", &[("jwt", &jwt), ("return_to", "/portal")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        browser
            .get("/portal/account")
            .await
            .body
            .contains("Ana Vítima")
    );

    // Confirming with this browser's token signs Bruno in.
    let token = page.csrf_token().unwrap();
    let done = browser
        .post_form(
            "/access/jwt",
            &[
                ("csrf_token", &token),
                ("jwt", &jwt),
                ("return_to", "/portal/tickets"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some("/portal/tickets"));
    assert!(done.cookie("chamado_session").is_some());
    let account = browser.get("/portal/account").await;
    assert!(account.body.contains("Bruno Atacante"));
    assert!(!account.body.contains("Ana Vítima"));
}

#[tokio::test]
async fn a_link_for_the_signed_in_account_just_goes_on() {
    let tc = TestApp::new().await;
    let mut browser = tc.browser();
    let ana = person(&tc, "kamino-ana", "ana@padaria.example", "Ana Souza");
    browser.sso(&ana, None).await;
    let again = person(&tc, "kamino-ana", "ana@padaria.example", "Ana Souza");
    let response = browser.sso(&again, Some("/portal/tickets")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.location(), Some("/portal/tickets"));
    // An invalid link on a signed-in browser is refused as before, and the
    // session stays.
    let response = browser.get("/access/jwt?jwt=garbage").await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get("/portal/account").await.status, StatusCode::OK);
}

/// A count from the test's database.
async fn count(tc: &TestApp, sql: &'static str) -> i64 {
    chamado::with_db!(&tc.state.db, |pool| {
        sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
    })
}

/// Minimal base64url without padding, so the test can forge an unsigned
/// token without another dependency.
mod base64_free {
    pub fn encode(data: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }
}
