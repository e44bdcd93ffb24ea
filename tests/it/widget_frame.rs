//! The help widget's browser side over HTTP: the loader, the chat window's
//! frame and who may frame it, and the demo platform that hosts the widget
//! (its own login, token endpoint and forwarding through `/access/jwt`).

use std::sync::Arc;

use axum::http::{StatusCode, header};

use crate::support::{TestApp, TestResponse};
use chamado::{service, store};

const HOST: &str = "https://app.example.com";

fn header_of<'a>(response: &'a TestResponse, name: &str) -> Option<&'a str> {
    response.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn the_loader_is_served_for_other_origins_with_a_short_cache() {
    let tc = TestApp::new().await;
    let response = tc.browser().get("/widget.js").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        header_of(&response, "content-type"),
        Some("application/javascript; charset=utf-8")
    );
    assert_eq!(
        header_of(&response, "cross-origin-resource-policy"),
        Some("cross-origin")
    );
    assert_eq!(
        header_of(&response, "cache-control"),
        Some("public, max-age=300")
    );
    assert!(response.body.contains("chamado:need-token"));
    assert!(
        response.body.len() < 15 * 1024,
        "the loader stays small: {} bytes",
        response.body.len()
    );
    for path in ["/static/widget-frame.js", "/static/widget.css"] {
        let asset = tc.browser().get(path).await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn only_an_allowed_origin_may_frame_the_chat_window() {
    let tc = TestApp::with_config(|c| {
        c.widget_origins = format!("{HOST}, https://admin.example.com");
    })
    .await;
    let mut browser = tc.browser();

    let frame = browser
        .get("/widget/frame?origin=https%3A%2F%2Fapp.example.com&lang=pt-BR")
        .await;
    assert_eq!(frame.status, StatusCode::OK, "{}", frame.body);
    let csp = header_of(&frame, "content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors https://app.example.com")
            && !csp.contains("admin.example.com")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        frame.headers.get(header::X_FRAME_OPTIONS).is_none(),
        "the frame must not send X-Frame-Options"
    );
    assert!(frame.body.contains(r#"<html lang="pt-BR">"#));
    assert!(frame.body.contains("procurando os tickets da sua empresa?"));
    assert!(frame.body.contains(r#""origin":"https://app.example.com""#));
    // Scripts only from files; the texts travel as inert JSON.
    assert_eq!(frame.body.matches("<script").count(), 2, "{}", frame.body);
    assert!(
        frame
            .body
            .contains(r#"<script type="application/json" id="chamado-strings">"#)
    );
    assert!(
        frame
            .body
            .contains(r#"<script src="/static/widget-frame.js" defer></script>"#)
    );

    let english = browser
        .get("/widget/frame?origin=https%3A%2F%2Fadmin.example.com&lang=en")
        .await;
    assert_eq!(english.status, StatusCode::OK);
    assert!(english.body.contains(r#"<html lang="en">"#));
    assert!(english.body.contains("looking for your company's tickets?"));
    assert!(
        header_of(&english, "content-security-policy")
            .unwrap()
            .contains("frame-ancestors https://admin.example.com")
    );

    for refused in [
        "/widget/frame?origin=https%3A%2F%2Fevil.example",
        "/widget/frame?origin=https%3A%2F%2Fapp.example.com.evil.example",
        "/widget/frame?origin=http%3A%2F%2Fapp.example.com",
        "/widget/frame?origin=https%3A%2F%2Fapp.example.com%2Fpath",
        "/widget/frame?origin=https%3A%2F%2Fapp.example.com%3B%20script-src%20*",
        "/widget/frame?origin=",
        "/widget/frame",
    ] {
        let page = browser.get(refused).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{refused}");
        assert_eq!(
            header_of(&page, "x-frame-options"),
            Some("DENY"),
            "{refused}"
        );
        assert!(
            header_of(&page, "content-security-policy")
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{refused}"
        );
        assert!(
            page.body
                .contains("Este site não está autorizado a exibir o widget de ajuda."),
            "{refused}: {}",
            page.body
        );
        assert!(page.body.contains("0800 369 0000"), "{refused}");
    }

    // Every other page still refuses to be framed.
    let login = browser.get("/login").await;
    assert_eq!(header_of(&login, "x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn without_configured_origins_only_chamados_own_origin_may_frame_it() {
    let tc = TestApp::new().await;
    let own = tc.state.config.origin();
    let mut browser = tc.browser();
    let frame = browser
        .get(&format!(
            "/widget/frame?origin={}",
            chamado::web::encode_query_value(&own)
        ))
        .await;
    assert_eq!(frame.status, StatusCode::OK);
    assert!(
        header_of(&frame, "content-security-policy")
            .unwrap()
            .contains(&format!("frame-ancestors {own}"))
    );
    let other = browser
        .get("/widget/frame?origin=https%3A%2F%2Fapp.example.com")
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn texts_in_the_frame_cannot_break_out_of_their_json_block() {
    let tc = TestApp::with_config(|c| {
        c.widget_origins = HOST.to_owned();
        c.product_name = "Ajuda </script><script>alert(1)</script> & <!--".to_owned();
    })
    .await;
    let frame = tc
        .browser()
        .get("/widget/frame?origin=https%3A%2F%2Fapp.example.com")
        .await;
    assert_eq!(frame.status, StatusCode::OK);
    assert!(!frame.body.contains("<script>alert"), "{}", frame.body);
    assert!(!frame.body.contains("<!--"), "{}", frame.body);
    let start = frame.body.find(r#"id="chamado-strings">"#).unwrap() + 21;
    let end = start + frame.body[start..].find("</script>").unwrap();
    let config: serde_json::Value = serde_json::from_str(&frame.body[start..end]).unwrap();
    assert_eq!(
        config["product"],
        "Ajuda </script><script>alert(1)</script> & <!--"
    );
    assert_eq!(config["texts"]["new_ticket"], "Abrir novo ticket");
    assert_eq!(config["texts"]["auth_logout"], "Saia da plataforma Kamino.");
}

/// A demo-mode app with the demo data.
async fn demo_app() -> TestApp {
    let tc = TestApp::new().await;
    service::demo::seed(&tc.state, 20).await.unwrap();
    let state = tc.state.in_demo_mode();
    TestApp::from_state(state, tc.clock.clone(), Arc::clone(&tc.dir))
}

#[tokio::test]
async fn the_demo_platform_logs_in_serves_tokens_and_forwards_to_the_portal() {
    let demo = demo_app().await;
    let ana = store::users::find_by_email(&demo.state.db, "ana@padaria.example")
        .await
        .unwrap()
        .unwrap();
    let ana_id = ana.id.to_string();
    let mut browser = demo.browser();

    // Nobody is logged into the platform: no token, and the login page.
    let token = browser.get("/demo/host/token").await;
    assert_eq!(token.status, StatusCode::UNAUTHORIZED);
    let login = browser.get("/demo/host").await;
    assert!(login.body.contains("Entrar como Ana Souza"));
    assert!(!login.body.contains("widget.js"), "no widget before login");

    // Logging in without `return_to` shows the platform's dashboard.
    let logged_in = browser
        .submit(
            "/demo/host",
            "/demo/host/login",
            &[("user_id", ana_id.as_str()), ("return_to", "")],
        )
        .await;
    assert_eq!(logged_in.status, StatusCode::SEE_OTHER);
    assert_eq!(logged_in.location(), Some("/demo/host"));
    assert!(logged_in.cookie("demo_host_user").is_some());
    let dashboard = browser.get("/demo/host").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let snippet = format!(
        r#"<script src="{}/widget.js" data-token-url="/demo/host/token" async></script>"#,
        demo.state.config.origin()
    );
    assert!(dashboard.body.contains(&snippet), "{}", dashboard.body);
    for link in [r#"href="/hc""#, r#"href="/portal/tickets""#] {
        assert!(dashboard.body.contains(link), "{link}");
    }
    assert!(dashboard.body.contains("Olá, Ana Souza!"));

    // The token endpoint gives a fresh single sign-on token each time,
    // which `/access/jwt` accepts.
    let first = browser.get("/demo/host/token").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(header_of(&first, "cache-control"), Some("no-store"));
    let second = browser.get("/demo/host/token").await;
    assert_ne!(first.body, second.body, "a new token every time");
    let mut portal = demo.browser();
    let signed_in = portal
        .get(&format!("/access/jwt?jwt={}&return_to=/portal", first.body))
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert!(signed_in.cookie("chamado_session").is_some());

    // Sent by Chamado to log in, a logged-in visitor goes straight back.
    let forwarded = browser
        .get("/demo/host?return_to=%2Fportal%2Ftickets%3Fview%3Dorg")
        .await;
    assert_eq!(forwarded.status, StatusCode::SEE_OTHER);
    let location = forwarded.location().unwrap().to_owned();
    assert!(location.starts_with("/access/jwt?jwt="), "{location}");
    assert!(
        location.ends_with("&return_to=%2Fportal%2Ftickets%3Fview%3Dorg"),
        "{location}"
    );
    let back = browser.get(&location).await;
    assert_eq!(back.location(), Some("/portal/tickets?view=org"));
    // A way back off the site is not followed.
    let elsewhere = browser
        .get("/demo/host?return_to=https%3A%2F%2Fevil.example")
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK);

    // Logging out of the platform (Chamado's logout ends there too).
    let out = browser.get("/demo/host/logout").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), Some("/demo/host"));
    assert_eq!(
        browser.get("/demo/host/token").await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = browser.get("/demo/host?return_to=%2Fportal").await;
    assert_eq!(again.status, StatusCode::OK, "the login page again");
    assert!(again.body.contains("Entrar como Ana Souza"));
}

#[tokio::test]
async fn the_demo_platform_login_needs_a_real_user_and_the_csrf_token() {
    let demo = demo_app().await;
    let mut browser = demo.browser();
    let unknown = browser
        .submit(
            "/demo/host",
            "/demo/host/login",
            &[("user_id", "999999"), ("return_to", "")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.cookie("demo_host_user").is_none());
    let forged = browser
        .post_form("/demo/host/login", &[("user_id", "1"), ("return_to", "")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.cookie("demo_host_user").is_none());
}

#[tokio::test]
async fn the_demo_platform_does_not_exist_outside_demo_mode() {
    let tc = TestApp::new().await;
    let mut browser = tc.browser();
    for path in [
        "/demo/host/token",
        "/demo/host/logout",
        "/demo/host/host.css",
    ] {
        assert_eq!(
            browser.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
