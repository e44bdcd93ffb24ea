//! Steps several tests share: signing in, and what a signed-in customer sees.

use crate::support::{Browser, DEMO_PASSWORD};

/// Ana Souza, a customer of two organizations.
pub const ANA: &str = "ana@padaria.example";
pub const ANA_NAME: &str = "Ana Souza";
pub const ANA_ORGS: [&str; 2] = ["Padaria Pão Dourado", "Transportes Rio Claro"];

/// Signs in through the demo host platform, as Chamado sends a signed-out
/// visitor there: `/demo/host?return_to=/portal`, then the button of the
/// person with this e-mail; the token goes through `/access/jwt`. Ends on
/// the portal's home.
pub async fn sign_in_via_demo_host(b: &Browser, email: &str) {
    b.goto("/demo/host?return_to=%2Fportal").await;
    b.click_and_wait(&format!(
        r#"form[action="/demo/host/login"] button[data-email="{email}"]"#
    ))
    .await;
}

/// The local login form: fills e-mail and password and submits.
pub async fn submit_login(b: &Browser, email: &str, password: &str) {
    let form = r#"form[action="/login"]:has(input[name="password"])"#;
    b.fill(&format!(r#"{form} input[name="email"]"#), email)
        .await;
    b.fill(&format!(r#"{form} input[name="password"]"#), password)
        .await;
    b.click_and_wait(&format!(r#"{form} button[type="submit"]"#))
        .await;
}

/// Signs in with e-mail and the demo password at `/login`.
pub async fn sign_in_locally(b: &Browser, email: &str) {
    b.goto("/login").await;
    submit_login(b, email, DEMO_PASSWORD).await;
}

/// Where signing in lands: `/portal`, which is the customer's ticket list.
pub const PORTAL_HOME: &str = "/portal/tickets";

/// Waits until the browser is on the portal's home with Ana signed in: her
/// name in the header.
pub async fn assert_ana_on_portal(b: &Browser) {
    b.wait_for_path(PORTAL_HOME).await;
    assert_eq!(
        b.text(".user-name").await,
        ANA_NAME,
        "the header's user name"
    );
}

/// Opens the account page from the header's menu and checks Ana's two
/// organizations there.
pub async fn assert_ana_account(b: &Browser) {
    b.click_and_wait(r#"nav.mainnav a[href="/portal/account"]"#)
        .await;
    b.wait_for_path("/portal/account").await;
    assert_eq!(
        b.text(".user-name").await,
        ANA_NAME,
        "the header's user name"
    );
    let orgs = b.texts("main li.org").await;
    assert_eq!(orgs.len(), ANA_ORGS.len(), "Ana's organizations: {orgs:?}");
    for org in ANA_ORGS {
        assert!(
            orgs.iter().any(|text| text.contains(org)),
            "expected the organization {org:?} among {orgs:?}"
        );
    }
}
