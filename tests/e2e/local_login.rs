//! Local e-mail and password login.

use crate::{
    flows::{self, ANA},
    support::{DEMO_PASSWORD, run},
};

#[tokio::test]
async fn local_login_rejects_a_wrong_password_then_accepts_the_right_one() {
    run("local-login", |b| async move {
        let page = b.goto_response("/login").await;
        assert_eq!(page.status, 200, "GET /login");
        b.screenshot("1-login").await;

        flows::submit_login(&b, ANA, "not-the-password").await;
        assert_eq!(b.wait_for_path("/login").await, "/login");
        let error = b.text(".form-error").await;
        assert!(
            error.contains("E-mail ou senha incorretos"),
            "the wrong password's message: {error:?}"
        );
        b.screenshot("2-wrong-password").await;

        flows::submit_login(&b, ANA, DEMO_PASSWORD).await;
        flows::assert_ana_on_portal(&b).await;
        b.screenshot("3-portal").await;
        flows::assert_ana_account(&b).await;
    })
    .await;
}
