//! axe-core on the pages a customer sees: no serious or critical violation.

use crate::{
    flows::{self, ANA},
    support::run,
};

#[tokio::test]
async fn public_pages_and_the_portal_have_no_serious_accessibility_violations() {
    run("axe", |b| async move {
        for path in ["/login", "/demo/host"] {
            b.goto(path).await;
            b.axe_check().await;
        }
        flows::sign_in_via_demo_host(&b, ANA).await;
        flows::assert_ana_on_portal(&b).await;
        b.axe_check().await;
        b.goto("/portal/account").await;
        b.axe_check().await;
    })
    .await;
}
