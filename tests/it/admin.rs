//! Tests: the administration. Every admin action over HTTP, refused input
//! that re-renders with field errors and writes nothing, and the 404 matrix
//! that hides `/admin` from customers and agents.

use axum::http::StatusCode;
use chamado::{
    domain::{OrgId, Role, UserId},
    service::{
        self,
        admin::{QuestionKind, TriageQuestion},
    },
    store,
};
use jiff::civil::date;

use crate::{
    portal::{count_rows, csrf, signed_in, user},
    support::{Browser, PASSWORD, TestApp, TestResponse},
};

const ADMIN: &str = "admin@chamado.test";

/// An app with an admin and a browser signed in as them, plus the admin's
/// CSRF token.
async fn with_admin(tc: &TestApp) -> (Browser<'_>, String, UserId) {
    let id = user(tc, ADMIN, "Ana Admin", Role::Admin, &[]).await;
    let mut browser = signed_in(tc, ADMIN).await;
    let token = csrf(&mut browser).await;
    (browser, token, id)
}

/// Posts `fields` with the CSRF token.
async fn post(
    browser: &mut Browser<'_>,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> TestResponse {
    let mut all = vec![("csrf_token", token)];
    all.extend_from_slice(fields);
    browser.post_form(path, &all).await
}

fn assert_redirect(response: &TestResponse, to: &str) {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let location = response.location().unwrap();
    assert!(location.starts_with(to), "went to {location}, not {to}");
}

fn assert_refused(response: &TestResponse, messages: &[&str]) {
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.body
    );
    assert!(
        response
            .body
            .contains("Confira os campos destacados. Nada foi salvo."),
        "{}",
        response.body
    );
    for message in messages {
        assert!(response.body.contains(message), "missing {message:?}");
    }
    assert!(response.body.contains("class=\"field-error\""));
}

/// The id at the end of a `Location` such as `/admin/organizations/7?done=…`.
fn id_in_location(response: &TestResponse) -> i64 {
    let location = response.location().unwrap();
    let path = location.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().parse().unwrap()
}

async fn membership(tc: &TestApp, user: UserId, org: OrgId) -> Option<bool> {
    store::users::memberships(&tc.state.db, user)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.organization_id == org)
        .map(|m| m.can_see_org_tickets)
}

// ---------------------------------------------------------------------------
// Overview

#[tokio::test]
async fn the_overview_links_every_section_and_says_mail_is_waiting() {
    let tc = TestApp::new().await;
    let (mut admin, _, _) = with_admin(&tc).await;
    let page = admin.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    for path in [
        "/admin/organizations",
        "/admin/users",
        "/admin/triage-questions",
        "/admin/business-hours",
        "/admin/automations",
        "/admin/branding",
    ] {
        assert!(page.body.contains(&format!("href=\"{path}\"")), "{path}");
    }
    assert!(
        page.body
            .contains("E-mail não configurado: as notificações aguardam na fila (0)."),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_overview_is_silent_about_mail_when_smtp_is_configured() {
    let tc = TestApp::with_config(|c| {
        c.smtp_url = Some("smtp://127.0.0.1:2525".to_owned().into());
    })
    .await;
    let (mut admin, _, _) = with_admin(&tc).await;
    let page = admin.get("/admin").await;
    assert!(!page.body.contains("E-mail não configurado"));
}

// ---------------------------------------------------------------------------
// Organizations

#[tokio::test]
async fn admin_creates_and_edits_an_organization() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let created = post(
        &mut admin,
        &token,
        "/admin/organizations",
        &[
            ("name", " Padaria Pão Quente "),
            ("external_id", "org-padaria"),
            ("members_see_org_tickets", "on"),
        ],
    )
    .await;
    assert_redirect(&created, "/admin/organizations/");
    let id = OrgId(id_in_location(&created));
    let org = store::orgs::find_by_external_id(&tc.state.db, "org-padaria")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((org.id, org.name.as_str()), (id, "Padaria Pão Quente"));
    assert!(org.members_see_org_tickets);

    let page = admin.get(created.location().unwrap()).await;
    assert!(page.body.contains("Organização criada."));
    let list = admin.get("/admin/organizations").await;
    assert!(list.body.contains("Padaria Pão Quente"));

    // Members see only their own tickets from now on, current ones too.
    let member = user(
        &tc,
        "joana@padaria.test",
        "Joana",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    assert_eq!(membership(&tc, member, id).await, Some(true));
    let saved = post(
        &mut admin,
        &token,
        &format!("/admin/organizations/{id}"),
        &[
            ("name", "Padaria Pão Quente Ltda."),
            ("external_id", "org-padaria-2"),
            ("apply_to_members", "on"),
        ],
    )
    .await;
    assert_redirect(&saved, &format!("/admin/organizations/{id}?done=org_saved"));
    let org = store::admin::find_org(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org.name, "Padaria Pão Quente Ltda.");
    assert_eq!(org.external_id.as_deref(), Some("org-padaria-2"));
    assert!(!org.members_see_org_tickets);
    assert_eq!(membership(&tc, member, id).await, Some(false));
    let page = admin.get(&format!("/admin/organizations/{id}")).await;
    assert!(page.body.contains("Joana"));
    assert!(page.body.contains("Vê só os próprios tickets"));
}

#[tokio::test]
async fn a_refused_organization_shows_the_errors_and_writes_nothing() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let mercado = tc.create_org("Mercado", "org-mercado").await;
    let before = count_rows(&tc.state.db, "organizations").await;

    let refused = post(
        &mut admin,
        &token,
        "/admin/organizations",
        &[("name", "  "), ("external_id", "org-mercado")],
    )
    .await;
    assert_refused(&refused, &["Preencha este campo."]);
    let refused = post(
        &mut admin,
        &token,
        "/admin/organizations",
        &[("name", "Outra"), ("external_id", "org-mercado")],
    )
    .await;
    assert_refused(&refused, &["Outra organização já usa este ID externo."]);
    assert!(refused.body.contains("value=\"Outra\""), "keeps the input");
    assert_eq!(count_rows(&tc.state.db, "organizations").await, before);

    let other = tc.create_org("Feira", "org-feira").await;
    let refused = post(
        &mut admin,
        &token,
        &format!("/admin/organizations/{other}"),
        &[("name", "Feira"), ("external_id", "org-mercado")],
    )
    .await;
    assert_refused(&refused, &["Outra organização já usa este ID externo."]);
    let unchanged = store::admin::find_org(&tc.state.db, other)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.external_id.as_deref(), Some("org-feira"));
    assert_ne!(mercado, other);

    let missing = post(
        &mut admin,
        &token,
        "/admin/organizations/999999",
        &[("name", "Nada")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        admin.get("/admin/organizations/abc").await.status,
        StatusCode::NOT_FOUND
    );
}

// ---------------------------------------------------------------------------
// Users

#[tokio::test]
async fn admin_creates_a_customer_with_a_membership_and_its_view_permission() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let org = tc.create_org("Padaria", "org-padaria").await;
    let org_id = org.to_string();
    let page = admin.get("/admin/users/new").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Padaria"));

    let created = post(
        &mut admin,
        &token,
        "/admin/users",
        &[
            ("email", "Bia@Padaria.test"),
            ("name", "Bia Souza"),
            ("role", "customer"),
            ("organization", org_id.as_str()),
            ("org_view", "no"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("Usuário criado"));
    assert!(
        created
            .body
            .contains("O cliente entra pela plataforma Kamino.")
    );
    assert!(!created.body.contains("class=\"password\""));
    let bia = store::users::find_by_email(&tc.state.db, "bia@padaria.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bia.role(), Role::Customer);
    assert!(bia.password_hash.is_none(), "customers sign in by SSO");
    assert_eq!(membership(&tc, bia.id, org).await, Some(false));

    // The organization's default applies when asked for.
    post(
        &mut admin,
        &token,
        "/admin/users",
        &[
            ("email", "caio@padaria.test"),
            ("name", "Caio"),
            ("role", "customer"),
            ("organization", org_id.as_str()),
            ("org_view", "default"),
        ],
    )
    .await;
    let caio = store::users::find_by_email(&tc.state.db, "caio@padaria.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(membership(&tc, caio.id, org).await, Some(true));
}

#[tokio::test]
async fn a_new_agent_gets_a_password_shown_once_or_an_invitation() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let created = post(
        &mut admin,
        &token,
        "/admin/users",
        &[
            ("email", "rui@suporte.test"),
            ("name", "Rui Agente"),
            ("role", "agent"),
            ("password", "generate"),
            ("groups", "Suporte"),
            ("groups", "Tech"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let marker = "id=\"new-password\">";
    let start = created.body.find(marker).unwrap() + marker.len();
    let end = created.body[start..].find('<').unwrap() + start;
    let password = created.body[start..end].to_owned();
    assert_eq!(password.len(), 20);
    let rui = store::users::find_by_email(&tc.state.db, "rui@suporte.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store::users::groups(&tc.state.db, rui.id).await.unwrap(),
        ["Suporte", "Tech"]
    );
    // The password works, and is never shown again.
    let mut agent = tc.browser();
    let login = agent
        .submit(
            "/login",
            "/login",
            &[("email", "rui@suporte.test"), ("password", &password)],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let page = admin.get(&format!("/admin/users/{}", rui.id)).await;
    assert!(!page.body.contains(&password));
    assert!(page.body.contains("Senha local"));

    let invited = post(
        &mut admin,
        &token,
        "/admin/users",
        &[
            ("email", "lia@suporte.test"),
            ("name", "Lia Admin"),
            ("role", "admin"),
            ("password", "invite"),
        ],
    )
    .await;
    assert_eq!(invited.status, StatusCode::OK);
    assert!(
        invited
            .body
            .contains("Sem senha: a pessoa entra pela plataforma Kamino.")
    );
    let lia = store::users::find_by_email(&tc.state.db, "lia@suporte.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lia.role(), Role::Admin);
    assert!(lia.password_hash.is_none());
}

#[tokio::test]
async fn a_refused_new_user_shows_the_errors_and_writes_nothing() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let users = count_rows(&tc.state.db, "users").await;
    let memberships = count_rows(&tc.state.db, "memberships").await;
    let groups = count_rows(&tc.state.db, "groups").await;

    let refused = post(
        &mut admin,
        &token,
        "/admin/users",
        &[
            ("email", "not-an-email"),
            ("name", ""),
            ("role", "customer"),
            ("organization", "424242"),
            ("groups", "Suporte"),
        ],
    )
    .await;
    assert_refused(
        &refused,
        &[
            "Informe um e-mail válido",
            "Preencha este campo.",
            "Escolha uma das opções.",
            "Só agentes e administradores participam de grupos.",
        ],
    );
    assert!(refused.body.contains("value=\"not-an-email\""));
    let duplicate = post(
        &mut admin,
        &token,
        "/admin/users",
        &[
            ("email", ADMIN),
            ("name", "Outra Ana"),
            ("role", "agent"),
            ("password", "generate"),
        ],
    )
    .await;
    assert_refused(&duplicate, &["Já existe um usuário com este e-mail."]);
    let bad_role = post(
        &mut admin,
        &token,
        "/admin/users",
        &[("email", "x@y.test"), ("name", "X"), ("role", "root")],
    )
    .await;
    assert_refused(&bad_role, &["Escolha uma das opções."]);

    assert_eq!(count_rows(&tc.state.db, "users").await, users);
    assert_eq!(count_rows(&tc.state.db, "memberships").await, memberships);
    assert_eq!(count_rows(&tc.state.db, "groups").await, groups);
}

#[tokio::test]
async fn admin_toggles_the_organization_view_of_a_membership() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let org = tc.create_org("Padaria", "org-padaria").await;
    let joana = user(
        &tc,
        "joana@padaria.test",
        "Joana",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let mut customer = signed_in(&tc, "joana@padaria.test").await;
    assert!(
        customer
            .get("/portal/tickets")
            .await
            .body
            .contains("Tickets da empresa")
    );

    let path = format!("/admin/users/{joana}/memberships/{org}");
    let revoked = post(&mut admin, &token, &path, &[("can_see_org_tickets", "no")]).await;
    assert_redirect(
        &revoked,
        &format!("/admin/users/{joana}?done=membership_saved"),
    );
    assert_eq!(membership(&tc, joana, org).await, Some(false));
    // The customer's very next page no longer offers the company's tickets.
    assert!(
        !customer
            .get("/portal/tickets")
            .await
            .body
            .contains("Tickets da empresa")
    );
    let page = admin.get(&format!("/admin/users/{joana}")).await;
    assert!(page.body.contains("Permitir ver os tickets da empresa"));

    post(&mut admin, &token, &path, &[("can_see_org_tickets", "yes")]).await;
    assert_eq!(membership(&tc, joana, org).await, Some(true));
    let bogus = post(
        &mut admin,
        &token,
        &path,
        &[("can_see_org_tickets", "maybe")],
    )
    .await;
    assert_eq!(bogus.status, StatusCode::BAD_REQUEST);
    assert_eq!(membership(&tc, joana, org).await, Some(true));
    let other = tc.create_org("Feira", "org-feira").await;
    let not_member = post(
        &mut admin,
        &token,
        &format!("/admin/users/{joana}/memberships/{other}"),
        &[("can_see_org_tickets", "no")],
    )
    .await;
    assert_eq!(not_member.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_adds_and_removes_memberships_and_groups() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let org = tc.create_org("Padaria", "org-padaria").await;
    let org_id = org.to_string();
    let rui = user(&tc, "rui@suporte.test", "Rui", Role::Agent, &[]).await;
    let base = format!("/admin/users/{rui}");

    let added = post(
        &mut admin,
        &token,
        &format!("{base}/memberships"),
        &[("organization", org_id.as_str()), ("org_view", "no")],
    )
    .await;
    assert_redirect(&added, &format!("{base}?done=membership_added"));
    assert_eq!(membership(&tc, rui, org).await, Some(false));
    let again = post(
        &mut admin,
        &token,
        &format!("{base}/memberships"),
        &[("organization", org_id.as_str()), ("org_view", "yes")],
    )
    .await;
    assert_refused(&again, &["O usuário já faz parte desta organização."]);
    assert_eq!(membership(&tc, rui, org).await, Some(false));

    let grouped = post(
        &mut admin,
        &token,
        &format!("{base}/groups"),
        &[("group", "Tech")],
    )
    .await;
    assert_redirect(&grouped, &format!("{base}?done=group_added"));
    post(
        &mut admin,
        &token,
        &format!("{base}/groups"),
        &[("group", "Tech"), ("new_group", "Financeiro")],
    )
    .await;
    assert_eq!(
        store::users::groups(&tc.state.db, rui).await.unwrap(),
        ["Financeiro", "Tech"]
    );
    let tech = store::admin::user_groups(&tc.state.db, rui)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.name == "Tech")
        .unwrap();
    let removed = post(
        &mut admin,
        &token,
        &format!("{base}/groups/{}/delete", tech.id),
        &[],
    )
    .await;
    assert_redirect(&removed, &format!("{base}?done=group_removed"));
    assert_eq!(
        store::users::groups(&tc.state.db, rui).await.unwrap(),
        ["Financeiro"]
    );

    let left = post(
        &mut admin,
        &token,
        &format!("{base}/memberships/{org}/delete"),
        &[],
    )
    .await;
    assert_redirect(&left, &format!("{base}?done=membership_removed"));
    assert_eq!(membership(&tc, rui, org).await, None);

    // Customers do not join groups.
    let customer = user(&tc, "bia@padaria.test", "Bia", Role::Customer, &[]).await;
    let refused = post(
        &mut admin,
        &token,
        &format!("/admin/users/{customer}/groups"),
        &[("group", "Tech")],
    )
    .await;
    assert_refused(
        &refused,
        &["Só agentes e administradores participam de grupos."],
    );
    assert!(
        store::users::groups(&tc.state.db, customer)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn admin_changes_a_name_and_a_role() {
    let tc = TestApp::new().await;
    let (mut admin, token, admin_id) = with_admin(&tc).await;
    let rui = user(&tc, "rui@suporte.test", "Rui", Role::Customer, &[]).await;
    let saved = post(
        &mut admin,
        &token,
        &format!("/admin/users/{rui}"),
        &[("name", "Rui Barbosa"), ("role", "agent")],
    )
    .await;
    assert_redirect(&saved, &format!("/admin/users/{rui}?done=saved"));
    let stored = store::users::find(&tc.state.db, rui)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.role()),
        ("Rui Barbosa", Role::Agent)
    );

    let refused = post(
        &mut admin,
        &token,
        &format!("/admin/users/{rui}"),
        &[("name", ""), ("role", "agent")],
    )
    .await;
    assert_refused(&refused, &["Preencha este campo."]);
    // An admin keeps their own admin role.
    let own = post(
        &mut admin,
        &token,
        &format!("/admin/users/{admin_id}"),
        &[("name", "Ana"), ("role", "agent")],
    )
    .await;
    assert_refused(
        &own,
        &["Você não pode tirar o seu próprio perfil de administrador."],
    );
    let me = store::users::find(&tc.state.db, admin_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((me.name.as_str(), me.role()), ("Ana Admin", Role::Admin));
}

#[tokio::test]
async fn deactivating_a_user_ends_their_session_at_once() {
    let tc = TestApp::new().await;
    let (mut admin, token, admin_id) = with_admin(&tc).await;
    tc.create_org("Padaria", "org-padaria").await;
    let joana = user(
        &tc,
        "joana@padaria.test",
        "Joana",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let mut customer = signed_in(&tc, "joana@padaria.test").await;
    let mut other_device = signed_in(&tc, "joana@padaria.test").await;
    assert_eq!(customer.get("/portal/tickets").await.status, StatusCode::OK);
    assert_eq!(count_rows(&tc.state.db, "sessions").await, 3);

    let done = post(
        &mut admin,
        &token,
        &format!("/admin/users/{joana}/deactivate"),
        &[],
    )
    .await;
    assert_redirect(&done, &format!("/admin/users/{joana}?done=deactivated"));
    // Only the admin's own session is left.
    assert_eq!(count_rows(&tc.state.db, "sessions").await, 1);
    for browser in [&mut customer, &mut other_device] {
        let page = browser.get("/portal/tickets").await;
        assert_ne!(page.status, StatusCode::OK);
        assert!(page.location().unwrap().starts_with("/login"));
    }
    let login = customer
        .submit(
            "/login",
            "/login",
            &[("email", "joana@padaria.test"), ("password", PASSWORD)],
        )
        .await;
    assert_ne!(
        login.status,
        StatusCode::SEE_OTHER,
        "a deactivated user cannot log in"
    );
    let list = admin.get("/admin/users?status=inactive").await;
    assert!(list.body.contains("Joana"));

    let back = post(
        &mut admin,
        &token,
        &format!("/admin/users/{joana}/reactivate"),
        &[],
    )
    .await;
    assert_redirect(&back, &format!("/admin/users/{joana}?done=reactivated"));
    customer.login("joana@padaria.test").await;
    assert_eq!(customer.get("/portal/tickets").await.status, StatusCode::OK);

    // Nobody locks themselves out.
    let own = post(
        &mut admin,
        &token,
        &format!("/admin/users/{admin_id}/deactivate"),
        &[],
    )
    .await;
    assert_refused(&own, &["Você não pode desativar a sua própria conta."]);
    assert_eq!(admin.get("/admin").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_user_directory_searches_by_name_and_email_and_pages() {
    let tc = TestApp::new().await;
    let (mut admin, _, _) = with_admin(&tc).await;
    user(&tc, "joana@padaria.test", "Joana Lima", Role::Customer, &[]).await;
    user(&tc, "rui@suporte.test", "Rui Prado", Role::Agent, &[]).await;
    for i in 0..55 {
        user(
            &tc,
            &format!("c{i:02}@massa.test"),
            &format!("Cliente {i:02}"),
            Role::Customer,
            &[],
        )
        .await;
    }
    let found = admin.get("/admin/users?q=PADARIA").await;
    assert!(found.body.contains("Joana Lima"));
    assert!(!found.body.contains("Rui Prado"));
    let found = admin.get("/admin/users?q=prado").await;
    assert!(found.body.contains("Rui Prado"));
    let agents = admin.get("/admin/users?role=agent").await;
    assert!(agents.body.contains("Rui Prado"));
    assert!(!agents.body.contains("Joana Lima"));
    let wildcard = admin.get("/admin/users?q=%25").await;
    assert!(wildcard.body.contains("Nenhum usuário encontrado."));

    let first = admin.get("/admin/users?q=massa").await;
    assert!(first.body.contains("Cliente 00"));
    assert!(!first.body.contains("Cliente 50"));
    let marker = "href=\"/admin/users?q=massa";
    let start = first.body.find(marker).unwrap() + "href=\"".len();
    let end = first.body[start..].find('"').unwrap() + start;
    let next = first.body[start..end].replace("&#38;", "&");
    let second = admin.get(&next).await;
    assert!(
        second.body.contains("Cliente 50"),
        "{next}: {}",
        second.body
    );
    assert!(second.body.contains("Cliente 54"));
    assert!(!second.body.contains("Cliente 49"));
}

// ---------------------------------------------------------------------------
// Triage questions

fn keys(questions: &[TriageQuestion]) -> Vec<&str> {
    questions.iter().map(|q| q.key.as_str()).collect()
}

#[tokio::test]
async fn the_default_triage_questions_are_in_place() {
    let tc = TestApp::new().await;
    let questions = service::admin::triage_questions(&tc.state).await.unwrap();
    assert_eq!(
        keys(&questions),
        [
            "organization",
            "type",
            "subject",
            "description",
            "attachments"
        ]
    );
    let kinds: Vec<QuestionKind> = questions.iter().map(|q| q.kind).collect();
    assert_eq!(
        kinds,
        [
            QuestionKind::Organization,
            QuestionKind::Choice,
            QuestionKind::Text,
            QuestionKind::Text,
            QuestionKind::Attachment
        ]
    );
    let mandatory: Vec<bool> = questions.iter().map(|q| q.mandatory).collect();
    assert_eq!(mandatory, [true, true, true, true, false]);
    let values: Vec<&str> = questions[1]
        .options
        .iter()
        .map(|o| o.value.as_str())
        .collect();
    assert_eq!(values, ["incident", "support"]);
    assert_eq!(questions[1].options[0].text_pt, "Incidente");
}

#[tokio::test]
async fn admin_reorders_the_triage_questions() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let questions = service::admin::triage_questions(&tc.state).await.unwrap();
    let description = questions[3].id;
    let first = questions[0].id;
    let last = questions[4].id;

    let moved = post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{description}/move"),
        &[("direction", "up")],
    )
    .await;
    assert_redirect(&moved, "/admin/triage-questions?done=moved");
    let order = service::admin::triage_questions(&tc.state).await.unwrap();
    assert_eq!(
        keys(&order),
        [
            "organization",
            "type",
            "description",
            "subject",
            "attachments"
        ]
    );
    // The ends stay put.
    post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{first}/move"),
        &[("direction", "up")],
    )
    .await;
    post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{last}/move"),
        &[("direction", "down")],
    )
    .await;
    post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{first}/move"),
        &[("direction", "down")],
    )
    .await;
    let order = service::admin::triage_questions(&tc.state).await.unwrap();
    assert_eq!(
        keys(&order),
        [
            "type",
            "organization",
            "description",
            "subject",
            "attachments"
        ]
    );
    let page = admin.get("/admin/triage-questions").await;
    let type_at = page.body.find("data-key=\"type\"").unwrap();
    let org_at = page.body.find("data-key=\"organization\"").unwrap();
    assert!(type_at < org_at, "the page shows the new order");
    let bad = post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{first}/move"),
        &[("direction", "sideways")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let missing = post(
        &mut admin,
        &token,
        "/admin/triage-questions/999999/move",
        &[("direction", "up")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_adds_and_edits_a_choice_question_in_both_languages() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let created = post(
        &mut admin,
        &token,
        "/admin/triage-questions",
        &[
            ("kind", "choice"),
            ("text_pt", "Qual módulo?"),
            ("text_en", "Which module?"),
            ("options", "Nota Fiscal | Invoices\r\nEstoque | Stock\r\n"),
            ("mandatory", "on"),
            ("active", "on"),
        ],
    )
    .await;
    assert_redirect(&created, "/admin/triage-questions?done=created");
    let questions = service::admin::triage_questions(&tc.state).await.unwrap();
    let added = questions.last().unwrap();
    assert!(added.key.starts_with("q-"));
    assert_eq!(added.kind, QuestionKind::Choice);
    assert!(added.mandatory);
    assert_eq!(added.text(chamado::domain::Lang::En), "Which module?");
    let values: Vec<&str> = added.options.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(values, ["nota-fiscal", "estoque"]);
    assert_eq!(added.options[1].text_en, "Stock");

    let id = added.id;
    let saved = post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{id}"),
        &[
            ("text_pt", "Qual módulo do sistema?"),
            ("text_en", "Which module of the system?"),
            (
                "options",
                "Nota Fiscal | Invoices\nEstoque | Stock\nFinanceiro | Finance",
            ),
        ],
    )
    .await;
    assert_redirect(&saved, "/admin/triage-questions?done=saved");
    // Unticked "active": no longer asked, still listed for admins.
    let active = service::admin::triage_questions(&tc.state).await.unwrap();
    assert!(!active.iter().any(|q| q.id == id));
    let all = service::admin::all_triage_questions(&tc.state)
        .await
        .unwrap();
    let edited = all.iter().find(|q| q.id == id).unwrap();
    assert_eq!(edited.text_pt, "Qual módulo do sistema?");
    assert_eq!(edited.options.len(), 3);
    assert!(!edited.mandatory && !edited.active);
    let page = admin.get("/admin/triage-questions").await;
    assert!(page.body.contains("Qual módulo do sistema?"));
    assert!(page.body.contains("Desativada"));

    // A text question, in English on the page for an English-speaking admin.
    post(
        &mut admin,
        &token,
        "/admin/triage-questions",
        &[
            ("kind", "text"),
            ("text_pt", "Qual o número do pedido?"),
            ("text_en", "What is the order number?"),
            ("active", "on"),
        ],
    )
    .await;
    let mut english = admin_in_english(&tc).await;
    let page = english.get("/admin/triage-questions").await;
    assert!(page.body.contains("What is the order number?"));
    assert!(page.body.contains("Triage questions"));
}

async fn admin_in_english(tc: &TestApp) -> Browser<'_> {
    user(tc, "en@chamado.test", "Eve Admin", Role::Admin, &[]).await;
    let mut browser = signed_in(tc, "en@chamado.test").await;
    let token = csrf(&mut browser).await;
    let switched = post(
        &mut browser,
        &token,
        "/language",
        &[("lang", "en"), ("return_to", "/admin")],
    )
    .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    browser
}

#[tokio::test]
async fn refused_triage_questions_show_the_errors_and_change_nothing() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let before = service::admin::all_triage_questions(&tc.state)
        .await
        .unwrap();

    let one_option = post(
        &mut admin,
        &token,
        "/admin/triage-questions",
        &[
            ("kind", "choice"),
            ("text_pt", "Qual?"),
            ("text_en", ""),
            ("options", "Só uma"),
        ],
    )
    .await;
    assert_refused(
        &one_option,
        &["Informe pelo menos duas opções", "Preencha este campo."],
    );
    let second_org = post(
        &mut admin,
        &token,
        "/admin/triage-questions",
        &[
            ("kind", "organization"),
            ("text_pt", "Empresa?"),
            ("text_en", "Company?"),
        ],
    )
    .await;
    assert_refused(&second_org, &["Já existe uma pergunta deste tipo"]);
    let bad_kind = post(
        &mut admin,
        &token,
        "/admin/triage-questions",
        &[("kind", "video"), ("text_pt", "?"), ("text_en", "?")],
    )
    .await;
    assert_refused(&bad_kind, &["Escolha uma das opções."]);

    // The subject fills the ticket: it stays mandatory and active.
    let subject = before.iter().find(|q| q.key == "subject").unwrap();
    let optional = post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{}", subject.id),
        &[("text_pt", "Assunto?"), ("text_en", "Subject?")],
    )
    .await;
    assert_refused(&optional, &["sempre obrigatória e ativa"]);
    let too_long = "x".repeat(301);
    let long = post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{}", subject.id),
        &[
            ("text_pt", too_long.as_str()),
            ("text_en", "Subject?"),
            ("mandatory", "on"),
            ("active", "on"),
        ],
    )
    .await;
    assert_refused(&long, &["Texto longo demais."]);

    let after = service::admin::all_triage_questions(&tc.state)
        .await
        .unwrap();
    assert_eq!(after, before);

    // Its wording may change, though.
    let reworded = post(
        &mut admin,
        &token,
        &format!("/admin/triage-questions/{}", subject.id),
        &[
            ("text_pt", "Em poucas palavras, do que se trata?"),
            ("text_en", "In a few words, what is it about?"),
            ("mandatory", "on"),
            ("active", "on"),
        ],
    )
    .await;
    assert_redirect(&reworded, "/admin/triage-questions?done=saved");
    let subject = service::admin::triage_question(&tc.state, subject.id)
        .await
        .unwrap();
    assert_eq!(subject.text_pt, "Em poucas palavras, do que se trata?");
    assert_eq!(
        admin.get("/admin/triage-questions/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

// ---------------------------------------------------------------------------
// Business hours

#[tokio::test]
async fn admin_saves_the_weekly_hours_and_time_zone() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let page = admin.get("/admin/business-hours").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("America/Sao_Paulo"));
    assert!(page.body.contains("value=\"09:00\""));

    let saved = post(
        &mut admin,
        &token,
        "/admin/business-hours",
        &[
            ("time_zone", "America/Manaus"),
            ("open_1", "on"),
            ("start_1", "08:00"),
            ("end_1", "17:30"),
            ("open_2", "on"),
            ("start_2", "08:00"),
            ("end_2", "17:30"),
            ("open_5", "on"),
            ("start_5", "09:00"),
            ("end_5", "13:00"),
            // Closed days may carry times; they are ignored.
            ("start_0", "09:00"),
            ("end_0", "18:00"),
        ],
    )
    .await;
    assert_redirect(&saved, "/admin/business-hours?done=saved");
    let hours = service::calendar::business_hours(&tc.state).await.unwrap();
    assert_eq!(hours.time_zone, "America/Manaus");
    let eight = jiff::civil::time(8, 0, 0, 0);
    assert!(hours.weekly[0].is_empty());
    assert_eq!(hours.weekly[1], [(eight, jiff::civil::time(17, 30, 0, 0))]);
    assert_eq!(
        hours.weekly[5],
        [(
            jiff::civil::time(9, 0, 0, 0),
            jiff::civil::time(13, 0, 0, 0)
        )]
    );
    assert!(hours.weekly[6].is_empty());
    let calendar = service::calendar::business_calendar(&tc.state)
        .await
        .unwrap();
    assert_eq!(calendar.tz.iana_name(), Some("America/Manaus"));
    assert!(calendar.is_business_day(date(2026, 3, 14)), "a Saturday");
    assert!(!calendar.is_business_day(date(2026, 3, 9)), "a Monday");
    // The holidays were kept.
    assert!(hours.holidays.contains(&date(2026, 4, 21)));
    let page = admin.get(saved.location().unwrap()).await;
    assert!(page.body.contains("Horário de atendimento salvo."));
    assert!(page.body.contains("value=\"17:30\""));
}

#[tokio::test]
async fn refused_business_hours_show_the_errors_and_change_nothing() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let before = service::calendar::business_hours(&tc.state).await.unwrap();
    let settings = count_rows(&tc.state.db, "settings").await;

    let refused = post(
        &mut admin,
        &token,
        "/admin/business-hours",
        &[
            ("time_zone", "America/Atlantis"),
            ("open_0", "on"),
            ("start_0", "18:00"),
            ("end_0", "09:00"),
            ("open_1", "on"),
            ("start_1", "nine"),
            ("end_1", "18:00"),
        ],
    )
    .await;
    assert_refused(
        &refused,
        &[
            "Fuso horário desconhecido",
            "O fechamento deve ser depois da abertura.",
            "Horário inválido; use HH:MM.",
        ],
    );
    assert!(refused.body.contains("value=\"America/Atlantis\""));
    let closed = post(
        &mut admin,
        &token,
        "/admin/business-hours",
        &[("time_zone", "America/Sao_Paulo")],
    )
    .await;
    assert_refused(&closed, &["Abra pelo menos um dia da semana."]);
    let bad_holiday = post(
        &mut admin,
        &token,
        "/admin/business-hours/holidays",
        &[("date", "31/02/2026"), ("name", "")],
    )
    .await;
    assert_refused(&bad_holiday, &["Data inválida", "Preencha este campo."]);
    let bad_year = post(
        &mut admin,
        &token,
        "/admin/business-hours/national-holidays",
        &[("year", "1500")],
    )
    .await;
    assert_refused(&bad_year, &["Informe um ano entre 2000 e 2100."]);

    assert_eq!(count_rows(&tc.state.db, "settings").await, settings);
    assert_eq!(
        service::calendar::business_hours(&tc.state).await.unwrap(),
        before
    );
}

#[tokio::test]
async fn national_holidays_of_2026_include_carnaval_good_friday_and_corpus_christi() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    // Start from a calendar without holidays.
    for day in service::calendar::business_hours(&tc.state)
        .await
        .unwrap()
        .holidays
    {
        let removed = post(
            &mut admin,
            &token,
            "/admin/business-hours/holidays/delete",
            &[("date", &day.to_string())],
        )
        .await;
        assert_redirect(&removed, "/admin/business-hours?done=holiday_removed");
    }
    assert!(
        service::calendar::business_hours(&tc.state)
            .await
            .unwrap()
            .holidays
            .is_empty()
    );

    let added = post(
        &mut admin,
        &token,
        "/admin/business-hours/national-holidays",
        &[("year", "2026")],
    )
    .await;
    assert_redirect(&added, "/admin/business-hours?");
    let hours = service::calendar::business_hours(&tc.state).await.unwrap();
    for (month, day) in [(2, 16), (2, 17), (4, 3), (6, 4), (1, 1), (11, 20), (12, 25)] {
        assert!(
            hours.holidays.contains(&date(2026, month, day)),
            "{month}-{day}"
        );
    }
    assert_eq!(hours.holidays.len(), 13);
    let calendar = service::calendar::business_calendar(&tc.state)
        .await
        .unwrap();
    assert!(!calendar.is_business_day(date(2026, 6, 4)));
    assert!(calendar.is_business_day(date(2026, 6, 5)));

    let page = admin.get(added.location().unwrap()).await;
    assert!(
        page.body
            .contains("Feriados nacionais de 2026 adicionados: 13 datas novas."),
        "{}",
        page.body
    );
    for (day, name) in [
        ("2026-02-16", "Carnaval (segunda-feira)"),
        ("2026-02-17", "Carnaval (terça-feira)"),
        ("2026-04-03", "Sexta-feira Santa"),
        ("2026-06-04", "Corpus Christi"),
    ] {
        let row = page.body.find(&format!("data-date=\"{day}\"")).unwrap();
        let rest = &page.body[row..];
        let end = rest.find("</tr>").unwrap();
        assert!(rest[..end].contains(name), "{day}: {}", &rest[..end]);
    }
    assert!(page.body.contains("16/02/2026"));

    // A second click adds nothing new.
    let again = post(
        &mut admin,
        &token,
        "/admin/business-hours/national-holidays",
        &[("year", "2026")],
    )
    .await;
    let page = admin.get(again.location().unwrap()).await;
    assert!(page.body.contains("adicionados: 0 datas novas."));
}

#[tokio::test]
async fn admin_adds_renames_and_removes_a_holiday() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let added = post(
        &mut admin,
        &token,
        "/admin/business-hours/holidays",
        &[("date", "2026-01-25"), ("name", "Aniversário de São Paulo")],
    )
    .await;
    assert_redirect(&added, "/admin/business-hours?done=holiday_added");
    let calendar = service::calendar::business_calendar(&tc.state)
        .await
        .unwrap();
    assert!(calendar.holidays.contains(&date(2026, 1, 25)));
    let page = admin.get("/admin/business-hours").await;
    assert!(page.body.contains("Aniversário de São Paulo"));

    post(
        &mut admin,
        &token,
        "/admin/business-hours/holidays",
        &[("date", "2026-01-25"), ("name", "Aniversário da cidade")],
    )
    .await;
    let page = admin.get("/admin/business-hours").await;
    assert!(page.body.contains("Aniversário da cidade"));
    assert!(!page.body.contains("Aniversário de São Paulo"));

    let removed = post(
        &mut admin,
        &token,
        "/admin/business-hours/holidays/delete",
        &[("date", "2026-01-25")],
    )
    .await;
    assert_redirect(&removed, "/admin/business-hours?done=holiday_removed");
    let calendar = service::calendar::business_calendar(&tc.state)
        .await
        .unwrap();
    assert!(!calendar.holidays.contains(&date(2026, 1, 25)));
    let missing = post(
        &mut admin,
        &token,
        "/admin/business-hours/holidays/delete",
        &[("date", "2026-01-25")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------
// Automations

#[tokio::test]
async fn admin_saves_the_automations_and_refused_values_change_nothing() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let page = admin.get("/admin/automations").await;
    assert!(page.body.contains("value=\"30\""));
    assert!(page.body.contains("value=\"5\""));

    let saved = post(
        &mut admin,
        &token,
        "/admin/automations",
        &[
            ("triage_timeout_minutes", "45"),
            ("auto_solve_business_days", "7"),
            ("reminder_business_days_before", "2"),
            ("reopen_window_days", "10"),
        ],
    )
    .await;
    assert_redirect(&saved, "/admin/automations?done=saved");
    let settings = service::automations::load(&tc.state).await.unwrap();
    assert_eq!(
        (
            settings.triage_timeout_minutes,
            settings.auto_solve_business_days,
            settings.reminder_business_days_before,
            settings.reopen_window_days
        ),
        (45, 7, 2, 10)
    );

    let refused = post(
        &mut admin,
        &token,
        "/admin/automations",
        &[
            ("triage_timeout_minutes", "soon"),
            ("auto_solve_business_days", "3"),
            ("reminder_business_days_before", "3"),
            ("reopen_window_days", "10"),
        ],
    )
    .await;
    assert_refused(&refused, &["Informe um número inteiro."]);
    let refused = post(
        &mut admin,
        &token,
        "/admin/automations",
        &[
            ("triage_timeout_minutes", "0"),
            ("auto_solve_business_days", "3"),
            ("reminder_business_days_before", "3"),
            ("reopen_window_days", "10"),
        ],
    )
    .await;
    assert_refused(
        &refused,
        &[
            "Informe de 1 a 1440 minutos.",
            "O lembrete deve vir antes da solução automática",
        ],
    );
    assert!(refused.body.contains("value=\"0\""));
    assert_eq!(
        service::automations::load(&tc.state).await.unwrap(),
        settings
    );
}

// ---------------------------------------------------------------------------
// Branding

#[tokio::test]
async fn branding_changes_what_the_header_shows() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    tc.create_org("Padaria", "org-padaria").await;
    user(
        &tc,
        "joana@padaria.test",
        "Joana",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let mut customer = signed_in(&tc, "joana@padaria.test").await;
    let before = customer.get("/portal/tickets").await;
    assert!(
        before
            .body
            .contains("class=\"brand\" href=\"/portal/tickets\">Chamado</a>")
    );
    assert!(before.body.contains("href=\"/static/brand.css?c=1f5fbf\""));
    assert!(before.body.contains("0800 369 0000"));

    let saved = post(
        &mut admin,
        &token,
        "/admin/branding",
        &[
            ("product_name", "Suporte Kamino"),
            ("support_phone", "0800 123 4567"),
            ("primary_color", "#0B6E4F"),
            ("host_platform_name", "Kamino ERP"),
        ],
    )
    .await;
    assert_redirect(&saved, "/admin/branding?done=saved");
    let after = customer.get("/portal/tickets").await;
    assert!(
        after
            .body
            .contains("class=\"brand\" href=\"/portal/tickets\">Suporte Kamino</a>"),
        "{}",
        after.body
    );
    assert!(after.body.contains("· Suporte Kamino</title>"));
    assert!(after.body.contains("href=\"/static/brand.css?c=0b6e4f\""));
    assert!(after.body.contains("href=\"tel:08001234567\""));
    assert!(after.body.contains("0800 123 4567"));
    let css = customer.get("/static/brand.css?c=0b6e4f").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.body.contains("--brand: #0b6e4f;"), "{}", css.body);
    assert!(
        css.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );

    // Another node shows it after its next refresh.
    let node = tc.second_node();
    let mut elsewhere = node.browser();
    elsewhere.login("joana@padaria.test").await;
    assert!(
        elsewhere
            .get("/portal/tickets")
            .await
            .body
            .contains(">Chamado</a>")
    );
    service::admin::refresh_branding(&node.state).await.unwrap();
    let page = elsewhere.get("/portal/tickets").await;
    assert!(page.body.contains(">Suporte Kamino</a>"));
    assert!(page.body.contains("href=\"/static/brand.css?c=0b6e4f\""));
}

#[tokio::test]
async fn refused_branding_shows_the_errors_and_changes_nothing() {
    let tc = TestApp::new().await;
    let (mut admin, token, _) = with_admin(&tc).await;
    let refused = post(
        &mut admin,
        &token,
        "/admin/branding",
        &[
            ("product_name", ""),
            ("support_phone", "ligue já"),
            ("primary_color", "#ffff00"),
            ("host_platform_name", "Kamino"),
        ],
    )
    .await;
    assert_refused(
        &refused,
        &[
            "Preencha este campo.",
            "Informe um telefone com 8 a 20 dígitos",
            "Cor clara demais",
        ],
    );
    let refused = post(
        &mut admin,
        &token,
        "/admin/branding",
        &[
            ("product_name", "Central"),
            ("support_phone", "0800 369 0000"),
            ("primary_color", "azul"),
            ("host_platform_name", "Kamino"),
        ],
    )
    .await;
    assert_refused(&refused, &["Informe uma cor hexadecimal"]);
    assert_eq!(
        service::admin::current_branding(&tc.state).product_name,
        "Chamado"
    );
    assert!(
        store::settings::get::<serde_json::Value>(&tc.state.db, "branding")
            .await
            .unwrap()
            .is_none()
    );
    let page = admin.get("/admin").await;
    assert!(page.body.contains(">Chamado</a>"));
}

#[tokio::test]
async fn the_brand_stylesheet_is_public_and_follows_its_url() {
    let tc = TestApp::new().await;
    let css = tc.browser().get("/static/brand.css?c=123456").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.body.contains("--brand: #123456;"));
    assert!(
        css.headers
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let fallback = tc.browser().get("/static/brand.css?c=url(evil)").await;
    assert!(fallback.body.contains("--brand: #1f5fbf;"));
}

// ---------------------------------------------------------------------------
// Who may see /admin

/// Every admin route, with real ids so that a 404 cannot come from a
/// missing row.
fn admin_routes(org: OrgId, user: UserId, question: i64) -> Vec<(&'static str, String)> {
    vec![
        ("GET", "/admin".to_owned()),
        ("GET", "/admin/organizations".to_owned()),
        ("POST", "/admin/organizations".to_owned()),
        ("GET", format!("/admin/organizations/{org}")),
        ("POST", format!("/admin/organizations/{org}")),
        ("GET", "/admin/users".to_owned()),
        ("POST", "/admin/users".to_owned()),
        ("GET", "/admin/users/new".to_owned()),
        ("GET", format!("/admin/users/{user}")),
        ("POST", format!("/admin/users/{user}")),
        ("POST", format!("/admin/users/{user}/memberships")),
        ("POST", format!("/admin/users/{user}/memberships/{org}")),
        (
            "POST",
            format!("/admin/users/{user}/memberships/{org}/delete"),
        ),
        ("POST", format!("/admin/users/{user}/groups")),
        ("POST", format!("/admin/users/{user}/groups/1/delete")),
        ("POST", format!("/admin/users/{user}/deactivate")),
        ("POST", format!("/admin/users/{user}/reactivate")),
        ("GET", "/admin/triage-questions".to_owned()),
        ("POST", "/admin/triage-questions".to_owned()),
        ("GET", format!("/admin/triage-questions/{question}")),
        ("POST", format!("/admin/triage-questions/{question}")),
        ("POST", format!("/admin/triage-questions/{question}/move")),
        ("GET", "/admin/business-hours".to_owned()),
        ("POST", "/admin/business-hours".to_owned()),
        ("POST", "/admin/business-hours/holidays".to_owned()),
        ("POST", "/admin/business-hours/holidays/delete".to_owned()),
        ("POST", "/admin/business-hours/national-holidays".to_owned()),
        ("GET", "/admin/automations".to_owned()),
        ("POST", "/admin/automations".to_owned()),
        ("GET", "/admin/branding".to_owned()),
        ("POST", "/admin/branding".to_owned()),
    ]
}

/// Every field any admin form reads, with values that would be accepted.
const EVERY_FIELD: [(&str, &str); 27] = [
    ("name", "Invasor"),
    ("external_id", "org-x"),
    ("email", "x@invasor.test"),
    ("role", "admin"),
    ("password", "generate"),
    ("organization", "1"),
    ("org_view", "yes"),
    ("can_see_org_tickets", "yes"),
    ("group", "Tech"),
    ("direction", "up"),
    ("kind", "text"),
    ("text_pt", "Pergunta"),
    ("text_en", "Question"),
    ("time_zone", "UTC"),
    ("open_0", "on"),
    ("start_0", "09:00"),
    ("end_0", "18:00"),
    ("date", "2026-04-21"),
    ("year", "2027"),
    ("triage_timeout_minutes", "1"),
    ("auto_solve_business_days", "2"),
    ("reminder_business_days_before", "1"),
    ("reopen_window_days", "1"),
    ("product_name", "Invadido"),
    ("support_phone", "0800 000 0000"),
    ("primary_color", "#000000"),
    ("host_platform_name", "X"),
];

#[tokio::test]
async fn customers_and_agents_get_404_on_every_admin_route() {
    let tc = TestApp::new().await;
    let org = tc.create_org("Padaria", "org-padaria").await;
    let customer = user(
        &tc,
        "joana@padaria.test",
        "Joana",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let agent = user(&tc, "rui@suporte.test", "Rui", Role::Agent, &[]).await;
    store::users::add_to_group(&tc.state.db, agent, "Suporte", tc.clock.now())
        .await
        .unwrap();
    let question = service::admin::triage_questions(&tc.state).await.unwrap()[2].id;
    let settings = count_rows(&tc.state.db, "settings").await;
    let users = count_rows(&tc.state.db, "users").await;
    let questions = service::admin::all_triage_questions(&tc.state)
        .await
        .unwrap();

    for (who, target) in [
        ("joana@padaria.test", customer),
        ("rui@suporte.test", agent),
    ] {
        let mut browser = signed_in(&tc, who).await;
        let token = csrf(&mut browser).await;
        for (method, path) in admin_routes(org, target, question) {
            let response = if method == "GET" {
                browser.get(&path).await
            } else {
                post(&mut browser, &token, &path, &EVERY_FIELD).await
            };
            assert_eq!(
                response.status,
                StatusCode::NOT_FOUND,
                "{who}: {method} {path}"
            );
            assert!(
                response.body.contains("Página não encontrada"),
                "{method} {path}"
            );
        }
    }
    // Nothing was written.
    assert_eq!(count_rows(&tc.state.db, "settings").await, settings);
    assert_eq!(
        service::admin::all_triage_questions(&tc.state)
            .await
            .unwrap(),
        questions
    );
    assert_eq!(count_rows(&tc.state.db, "organizations").await, 1);
    assert_eq!(count_rows(&tc.state.db, "users").await, users);
    let joana = store::users::find(&tc.state.db, customer)
        .await
        .unwrap()
        .unwrap();
    assert!(joana.active && joana.role() == Role::Customer && joana.name == "Joana");
    let rui = store::users::find(&tc.state.db, agent)
        .await
        .unwrap()
        .unwrap();
    assert!(rui.active && rui.role() == Role::Agent);
    assert_eq!(membership(&tc, customer, org).await, Some(true));
    assert_eq!(
        service::admin::current_branding(&tc.state).product_name,
        "Chamado"
    );
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_admins_get_every_page() {
    let tc = TestApp::new().await;
    let org = tc.create_org("Padaria", "org-padaria").await;
    let customer = user(
        &tc,
        "joana@padaria.test",
        "Joana",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let question = service::admin::triage_questions(&tc.state).await.unwrap()[2].id;
    let mut anonymous = tc.browser();
    for (method, path) in admin_routes(org, customer, question) {
        if method == "GET" {
            let page = anonymous.get(&path).await;
            assert!(page.location().unwrap().starts_with("/login"), "{path}");
        }
    }
    user(&tc, ADMIN, "Ana Admin", Role::Admin, &[]).await;
    let mut admin = signed_in(&tc, ADMIN).await;
    for (method, path) in admin_routes(org, customer, question) {
        if method == "GET" {
            assert_eq!(admin.get(&path).await.status, StatusCode::OK, "{path}");
        }
    }
}
