//! Single sign-on through the demo host platform, logout back to it, and a
//! broken token.

use crate::{
    flows::{self, ANA},
    support::run,
};

/// Everyone the demo host offers, in any order.
const DEMO_USERS: [&str; 7] = [
    "ana@padaria.example",
    "bruno@rioclaro.example",
    "carla@bemviver.example",
    "diego@padaria.example",
    "fernanda@suporte.example",
    "gustavo@suporte.example",
    "admin@suporte.example",
];

#[tokio::test]
async fn customer_signs_in_through_the_demo_host_and_logs_out_back_to_it() {
    run("sso", |b| async move {
        let host = b.goto_response("/demo/host").await;
        assert_eq!(host.status, 200, "GET /demo/host");

        // One POST form per demo user, each with a CSRF token.
        let buttons = r#"form[method="post"][action="/demo/host/login"] button[type="submit"][name="user_id"]"#;
        let mut emails = Vec::new();
        for button in b.find_all(buttons).await {
            let email = button.attribute("data-email").await.expect("data-email");
            emails.push(email.unwrap_or_default());
        }
        emails.sort();
        let mut expected = DEMO_USERS.map(str::to_owned).to_vec();
        expected.sort();
        assert_eq!(emails, expected, "the demo host's people");
        let ana_form = format!(r#"form[action="/demo/host/login"]:has(button[data-email="{ANA}"])"#);
        let csrf = b
            .attr(&format!(r#"{ana_form} input[type="hidden"][name="csrf_token"]"#), "value")
            .await;
        assert!(csrf.is_some_and(|t| !t.is_empty()), "Ana's form carries a csrf_token");
        b.screenshot("1-demo-host").await;

        // Logged into the platform: its dashboard, with the way to the portal.
        b.click_and_wait(&format!(r#"{ana_form} button[data-email="{ANA}"]"#))
            .await;
        assert_eq!(b.wait_for_path("/demo/host").await, "/demo/host");
        assert_eq!(b.text("main h1").await, "Olá, Ana Souza!");
        b.screenshot("1b-host-dashboard").await;

        // "Portal de Tickets": Chamado sends her to the platform's login,
        // which, already logged in, forwards her through the JWT endpoint.
        b.navigations().await;
        b.click_and_wait(r#"nav a[href="/portal/tickets"]"#).await;
        let chain: Vec<String> = b
            .navigations()
            .await
            .iter()
            .map(|n| format!("{} {}", n.status, n.path()))
            .collect();
        assert!(
            chain.iter().any(|step| step.ends_with(" /access/jwt")),
            "the sign-in went {chain:?}, not through /access/jwt"
        );
        flows::assert_ana_on_portal(&b).await;
        b.screenshot("2-portal").await;
        flows::assert_ana_account(&b).await;
        b.screenshot("3-account").await;

        // Logout ends on the configured SSO logout page: the demo host.
        assert_eq!(b.count(r#"form[method="post"][action="/logout"]"#).await, 1);
        b.click_and_wait(r#"form[method="post"][action="/logout"] button[type="submit"]"#)
            .await;
        assert_eq!(b.wait_for_path("/demo/host").await, "/demo/host");
        b.screenshot("4-after-logout").await;

        // The session is gone: the portal sends the visitor to the SSO login,
        // with the way back. `/portal` is the ticket list.
        b.navigations().await;
        b.goto("/portal").await;
        assert_eq!(b.path().await, "/demo/host?return_to=%2Fportal%2Ftickets");
        let chain = b.navigations().await;
        let first = chain.first().expect("a response to /portal");
        assert_eq!(first.path(), "/portal");
        assert!(
            chain[..chain.len() - 1].iter().all(|n| (300..400).contains(&n.status)),
            "/portal did not redirect to the host's login: {chain:?}"
        );
        b.goto("/portal/account").await;
        assert_eq!(b.path().await, "/demo/host?return_to=%2Fportal%2Faccount");
        b.screenshot("5-portal-after-logout").await;
    })
    .await;
}

#[tokio::test]
async fn a_garbage_sso_token_shows_the_way_back_and_the_support_phone() {
    run("broken-sso-token", |b| async move {
        let response = b.goto_response("/access/jwt?jwt=garbage").await;
        assert_eq!(response.status, 401, "GET /access/jwt?jwt=garbage");
        assert_eq!(
            b.path().await,
            "/access/jwt?jwt=garbage",
            "no redirect away from the error"
        );
        let text = b.body_text().await;
        assert!(
            text.contains("Saia da plataforma"),
            "the advice to log out: {text}"
        );
        assert!(text.contains("0800 369 0000"), "the support phone: {text}");
        b.screenshot("1-error").await;
    })
    .await;
}
