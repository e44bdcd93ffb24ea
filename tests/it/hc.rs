//! Tests: the Help Center (`/hc`). Public reading of published articles,
//! drafts that exist only for staff, the admin editor over HTTP forms
//! (preview, refused input that writes nothing), sanitized Markdown, and
//! search: accent-insensitive on both engines, stemming on PostgreSQL,
//! escaped highlights, hostile queries.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use chamado::{
    domain::Role,
    service::{
        hc::{self, ArticleInput, GroupInput},
        hc_demo,
    },
};

use crate::{
    portal::{count_rows, csrf, signed_in, user},
    support::{Browser, TestApp, TestResponse, postgres_url},
};

const ADMIN: &str = "admin@chamado.test";

/// Form fields, and what the refused page must show.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

/// A category with one section; returns the section's id.
async fn section(tc: &TestApp) -> i64 {
    let category = hc::save_category(
        &tc.state,
        None,
        &GroupInput {
            name_pt: "Primeiros passos".to_owned(),
            name_en: "Getting started".to_owned(),
            position: "1".to_owned(),
            ..GroupInput::default()
        },
    )
    .await
    .unwrap();
    hc::save_section(
        &tc.state,
        None,
        &GroupInput {
            category_id: category.to_string(),
            name_pt: "Portal de Tickets".to_owned(),
            name_en: "Ticket Portal".to_owned(),
            position: "1".to_owned(),
            ..GroupInput::default()
        },
    )
    .await
    .unwrap()
}

/// An article in `section`; `en` is the English (title, body), if any.
async fn article(
    tc: &TestApp,
    section: i64,
    status: &str,
    title: &str,
    body: &str,
    en: Option<(&str, &str)>,
) -> i64 {
    let (title_en, body_en) = en.unwrap_or(("", ""));
    hc::save_article(
        &tc.state,
        None,
        None,
        &ArticleInput {
            section_id: section.to_string(),
            position: "1".to_owned(),
            status: status.to_owned(),
            title_pt: title.to_owned(),
            body_pt: body.to_owned(),
            title_en: title_en.to_owned(),
            body_en: body_en.to_owned(),
        },
    )
    .await
    .unwrap()
}

async fn get_in(browser: &mut Browser<'_>, path: &str, lang: &str) -> TestResponse {
    browser
        .request(
            Request::get(path).header(header::ACCEPT_LANGUAGE, lang),
            Body::empty(),
        )
        .await
}

fn search_path(query: &str) -> String {
    format!("/hc/search?q={}", chamado::web::encode_query_value(query))
}

/// The part of a search page that lists results.
fn results(page: &TestResponse) -> &str {
    let start = page
        .body
        .find("class=\"hc-results\"")
        .unwrap_or(page.body.len());
    let end = page.body[start..]
        .find("</ol>")
        .map_or(page.body.len(), |e| start + e);
    &page.body[start..end]
}

#[tokio::test]
async fn anonymous_visitor_reads_a_published_article_with_breadcrumbs_and_help() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    let id = article(
        &tc,
        section,
        "published",
        "Como acessar o Portal de Tickets",
        "Entre pela **Central de Ajuda**.",
        None,
    )
    .await;
    let mut anonymous = tc.browser();

    let home = anonymous.get("/hc").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(
        home.body.contains("href=\"/portal/tickets\""),
        "portal entry"
    );
    assert!(home.body.contains("Portal de Tickets"));
    assert!(home.body.contains("Como acessar o Portal de Tickets"));
    assert!(home.body.contains("name=\"q\""), "search box");

    let path = format!("/hc/articles/{id}-como-acessar-o-portal-de-tickets");
    let page = anonymous.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<strong>Central de Ajuda</strong>"));
    assert!(page.body.contains("<a href=\"/hc\">Central de Ajuda</a>"));
    assert!(page.body.contains(">Primeiros passos</a>"));
    assert!(page.body.contains(">Portal de Tickets</a>"));
    assert!(page.body.contains("Ainda precisa de ajuda?"));
    assert!(
        page.body
            .contains("href=\"/portal/tickets/new\">Abrir ticket</a>")
    );
    // Updated on the test clock's day, in pt-BR format and São Paulo time.
    assert!(
        page.body.contains("Atualizado em 10/03/2026 14:00"),
        "{}",
        page.body
    );

    let wrong = anonymous.get(&format!("/hc/articles/{id}-antigo")).await;
    assert_eq!(wrong.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(wrong.location(), Some(path.as_str()));
    assert_eq!(
        anonymous.get("/hc/articles/999999-nada").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        anonymous.get("/hc/articles/abc").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn drafts_are_missing_for_customers_and_visitors_but_shown_to_admins() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    let draft = article(
        &tc,
        section,
        "draft",
        "Novidade secreta",
        "Texto do rascunho.",
        None,
    )
    .await;
    let path = format!("/hc/articles/{draft}-novidade-secreta");
    tc.create_org("Padaria", "org-padaria").await;
    user(
        &tc,
        "cliente@chamado.test",
        "Cliente",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    user(&tc, ADMIN, "Admin", Role::Admin, &[]).await;

    let mut anonymous = tc.browser();
    let missing = anonymous.get(&path).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let never_existed = anonymous.get("/hc/articles/987654-novidade-secreta").await;
    assert_eq!(never_existed.status, missing.status);
    assert!(!anonymous.get("/hc").await.body.contains("Novidade secreta"));
    let sections = anonymous.get(&format!("/hc/sections/{section}")).await;
    assert_eq!(sections.status, StatusCode::PERMANENT_REDIRECT);
    let section_page = anonymous.get(sections.location().unwrap()).await;
    assert!(!section_page.body.contains("Novidade secreta"));
    assert!(!results(&anonymous.get(&search_path("secreta")).await).contains("Novidade"));

    let mut customer = signed_in(&tc, "cliente@chamado.test").await;
    assert_eq!(customer.get(&path).await.status, StatusCode::NOT_FOUND);
    assert!(!customer.get("/hc").await.body.contains("Novidade secreta"));

    let mut admin = signed_in(&tc, ADMIN).await;
    let page = admin.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Rascunho"));
    assert!(admin.get("/hc").await.body.contains("Novidade secreta"));
}

#[tokio::test]
async fn admin_creates_and_edits_categories_and_sections_through_forms() {
    let tc = TestApp::new().await;
    user(&tc, ADMIN, "Admin", Role::Admin, &[]).await;
    let mut admin = signed_in(&tc, ADMIN).await;
    let token = csrf(&mut admin).await;

    // Category and section through their forms.
    let created = admin
        .post_form(
            "/admin/hc/categories",
            &[
                ("csrf_token", &token),
                ("name_pt", "Cobrança"),
                ("name_en", "Billing"),
                ("description_pt", "Faturas e pagamentos."),
                ("position", "2"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let category = hc::categories(&tc.state).await.unwrap()[0].id;
    let created = admin
        .post_form(
            "/admin/hc/sections",
            &[
                ("csrf_token", &token),
                ("category_id", &category.to_string()),
                ("name_pt", "Faturas"),
                ("position", "1"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let section = hc::sections(&tc.state).await.unwrap()[0].id;
    let structure = admin.get("/admin/hc/categories").await;
    assert!(structure.body.contains("Cobrança") && structure.body.contains("Faturas"));

    let renamed = admin
        .post_form(
            &format!("/admin/hc/sections/{section}"),
            &[
                ("csrf_token", &token),
                ("category_id", &category.to_string()),
                ("name_pt", "Notas e faturas"),
                ("name_en", "Receipts and invoices"),
                ("position", "1"),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    let english = get_in(&mut tc.browser(), &format!("/hc/sections/{section}"), "en").await;
    assert_eq!(
        english.location(),
        Some(format!("/hc/sections/{section}-notas-e-faturas").as_str())
    );

    let refused = admin
        .post_form(
            "/admin/hc/sections",
            &[
                ("csrf_token", token.as_str()),
                ("category_id", "999"),
                ("name_pt", "Órfã"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Escolha uma categoria existente."));
    let refused = admin
        .post_form(
            &format!("/admin/hc/categories/{category}"),
            &[
                ("csrf_token", token.as_str()),
                ("name_pt", " "),
                ("position", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("name_pt-error") && refused.body.contains("position-error"));
    assert_eq!(count_rows(&tc.state.db, "hc_sections").await, 1);
    assert_eq!(
        hc::category_row(&tc.state, category).await.unwrap().name_pt,
        "Cobrança"
    );
}

#[tokio::test]
async fn admin_creates_previews_edits_and_publishes_articles_through_forms() {
    let tc = TestApp::new().await;
    user(&tc, ADMIN, "Admin", Role::Admin, &[]).await;
    let mut admin = signed_in(&tc, ADMIN).await;
    let token = csrf(&mut admin).await;

    let section = section(&tc).await.to_string();

    let form = admin.get("/admin/hc/articles/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let fields = |action: &'static str, status: &'static str, title: &'static str| {
        vec![
            ("action", action),
            ("section_id", section.as_str()),
            ("position", "1"),
            ("status", status),
            ("title_pt", title),
            (
                "body_pt",
                "## Onde ficam\n\nEm **Configurações › Faturas**.",
            ),
            ("title_en", ""),
            ("body_en", ""),
        ]
    };

    // Preview: drawn on the server, nothing written.
    let mut preview = vec![("csrf_token", token.as_str())];
    preview.extend(fields("preview", "draft", "Onde ficam as faturas"));
    let shown = admin.post_form("/admin/hc/articles", &preview).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains("<h2>Onde ficam</h2>"), "{}", shown.body);
    assert!(
        shown
            .body
            .contains("<strong>Configurações › Faturas</strong>")
    );
    assert!(shown.body.contains("Nada foi salvo ainda."));
    assert_eq!(count_rows(&tc.state.db, "hc_articles").await, 0);

    // Save as a draft: visitors do not see it.
    let mut save = vec![("csrf_token", token.as_str())];
    save.extend(fields("save", "draft", "Onde ficam as faturas"));
    let saved = admin.post_form("/admin/hc/articles", &save).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let location = saved.location().unwrap().to_owned();
    assert!(location.starts_with("/admin/hc/articles/"), "{location}");
    let id = location
        .trim_start_matches("/admin/hc/articles/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let editor = admin.get(&location).await;
    assert!(editor.body.contains("Criado."), "{}", editor.body);
    let public = format!("/hc/articles/{id}-onde-ficam-as-faturas");
    let mut anonymous = tc.browser();
    assert_eq!(anonymous.get(&public).await.status, StatusCode::NOT_FOUND);
    let list = admin.get("/admin/hc").await;
    assert!(list.body.contains("Onde ficam as faturas") && list.body.contains("Rascunho"));

    // Edit and publish: the title (and so the address) changes.
    let mut publish = vec![("csrf_token", token.as_str())];
    publish.extend(fields("save", "published", "Onde encontrar as faturas"));
    let published = admin
        .post_form(&format!("/admin/hc/articles/{id}"), &publish)
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    let page = anonymous
        .get(&format!("/hc/articles/{id}-onde-encontrar-as-faturas"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Onde encontrar as faturas"));
    let old = anonymous.get(&public).await;
    assert_eq!(old.status, StatusCode::PERMANENT_REDIRECT);
    assert!(
        results(&anonymous.get(&search_path("faturas")).await).contains("Onde encontrar"),
        "the edited text is searchable"
    );

    // Without the CSRF token nothing happens.
    let forged = admin
        .post_form(
            &format!("/admin/hc/articles/{id}"),
            &fields("save", "draft", "Forjado"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        hc::article_row(&tc.state, id.parse().unwrap())
            .await
            .unwrap()
            .title_pt,
        "Onde encontrar as faturas"
    );
}

#[tokio::test]
async fn help_center_admin_is_missing_for_agents_and_customers() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    let id = article(
        &tc,
        section,
        "published",
        "Artigo",
        "Texto do artigo.",
        None,
    )
    .await;
    tc.create_org("Padaria", "org-padaria").await;
    user(&tc, "agente@chamado.test", "Agente", Role::Agent, &[]).await;
    user(
        &tc,
        "cliente@chamado.test",
        "Cliente",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    for email in ["agente@chamado.test", "cliente@chamado.test"] {
        let mut browser = signed_in(&tc, email).await;
        for path in [
            "/admin/hc".to_owned(),
            "/admin/hc/articles/new".to_owned(),
            format!("/admin/hc/articles/{id}"),
            "/admin/hc/categories".to_owned(),
        ] {
            assert_eq!(
                browser.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{email} {path}"
            );
        }
        let token = csrf(&mut browser).await;
        let refused = browser
            .post_form(
                &format!("/admin/hc/articles/{id}"),
                &[
                    ("csrf_token", token.as_str()),
                    ("action", "save"),
                    ("section_id", &section.to_string()),
                    ("status", "draft"),
                    ("title_pt", "Tomado"),
                    ("body_pt", "x"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        hc::article_row(&tc.state, id).await.unwrap().status,
        "published"
    );
}

#[tokio::test]
async fn refused_article_forms_show_errors_next_to_fields_and_write_nothing() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    let id = article(
        &tc,
        section,
        "published",
        "Original",
        "Texto original.",
        None,
    )
    .await;
    user(&tc, ADMIN, "Admin", Role::Admin, &[]).await;
    let mut admin = signed_in(&tc, ADMIN).await;
    let token = csrf(&mut admin).await;
    let section = section.to_string();

    let cases: [Case<'_>; 4] = [
        (
            &[
                ("title_pt", ""),
                ("body_pt", "Corpo"),
                ("section_id", &section),
                ("status", "published"),
            ],
            &["title_pt-error"],
        ),
        (
            &[
                ("title_pt", "Título"),
                ("body_pt", "Corpo"),
                ("title_en", "Only a title"),
                ("section_id", &section),
                ("status", "published"),
            ],
            &["body_en-error"],
        ),
        (
            &[
                ("title_pt", "Título"),
                ("body_pt", "Corpo"),
                ("section_id", "424242"),
                ("status", "published"),
            ],
            &["section_id-error"],
        ),
        (
            &[
                ("title_pt", "Título"),
                ("body_pt", " "),
                ("section_id", &section),
                ("status", "archived"),
                ("position", "-3"),
            ],
            &[
                "body_pt-error",
                "position-error",
                "Escolha rascunho ou publicado.",
            ],
        ),
    ];
    for (fields, markers) in cases {
        for path in [
            "/admin/hc/articles".to_owned(),
            format!("/admin/hc/articles/{id}"),
        ] {
            let mut all = vec![("csrf_token", token.as_str()), ("action", "save")];
            all.extend_from_slice(fields);
            let refused = admin.post_form(&path, &all).await;
            assert_eq!(
                refused.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {fields:?}"
            );
            assert!(refused.body.contains("Nada foi salvo."));
            for marker in markers {
                assert!(
                    refused.body.contains(marker),
                    "{marker} missing for {fields:?}"
                );
            }
        }
    }
    assert_eq!(count_rows(&tc.state.db, "hc_articles").await, 1);
    assert_eq!(count_rows(&tc.state.db, "hc_article_translations").await, 1);
    let row = hc::article_row(&tc.state, id).await.unwrap();
    assert_eq!(
        (
            row.title_pt.as_str(),
            row.body_pt.as_str(),
            row.status.as_str()
        ),
        ("Original", "Texto original.", "published")
    );
}

#[tokio::test]
async fn markdown_in_articles_is_sanitized() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    let id = article(
        &tc,
        section,
        "published",
        "Artigo <b>perigoso</b>",
        "<script>alert('x')</script>\n\n[clique](javascript:alert(1))\n\n<img src=x onerror=alert(1)>",
        None,
    )
    .await;
    let page = tc.browser().get(&format!("/hc/articles/{id}")).await;
    let page = tc.browser().get(page.location().unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;"));
    assert!(!page.body.contains("javascript:"));
    assert!(!page.body.contains("<img"));
    assert!(!page.body.contains("<b>perigoso"));
    assert!(
        page.body.contains("Artigo &#60;b&#62;perigoso&#60;/b&#62;"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn search_ignores_accents_and_case_on_every_engine() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    article(
        &tc,
        section,
        "published",
        "Atualização do cadastro",
        "Como fazer a atualização do endereço de cobrança.",
        None,
    )
    .await;
    article(
        &tc,
        section,
        "published",
        "Outro assunto",
        "Nada a ver.",
        None,
    )
    .await;
    let mut anonymous = tc.browser();
    for query in [
        "atualizacao",
        "ATUALIZAÇÃO",
        "Atualização cadastro",
        "endereco cobranca",
    ] {
        let page = anonymous.get(&search_path(query)).await;
        assert_eq!(page.status, StatusCode::OK);
        let found = results(&page);
        assert_eq!(
            found.matches("class=\"card hc-result\"").count(),
            1,
            "{query}: {found}"
        );
        assert!(found.contains("cadastro</"), "{query}: {found}");
    }
    let none = anonymous.get(&search_path("inexistentezzz")).await;
    assert!(none.body.contains("Nenhum artigo encontrado."));
    assert!(
        none.body.contains("href=\"/portal/tickets/new\""),
        "suggests a ticket"
    );
}

#[tokio::test]
async fn search_highlights_matches_and_escapes_everything_else() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    article(
        &tc,
        section,
        "published",
        "Relatório <script>alert(1)</script> mensal",
        "Use `<script>alert(2)</script>` com cuidado: o relatório mensal & outros.",
        None,
    )
    .await;
    let page = tc.browser().get(&search_path("relatorio")).await;
    assert_eq!(page.status, StatusCode::OK);
    let found = results(&page);
    assert!(found.contains("<mark>Relatório</mark>"), "{found}");
    assert!(found.contains("<mark>relatório</mark>"), "{found}");
    assert!(
        found.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{found}"
    );
    assert!(
        found.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
        "{found}"
    );
    assert!(found.contains("&amp; outros"), "{found}");
    assert!(!page.body.contains("<script>"), "{}", page.body);
    // Breadcrumb of the result.
    assert!(
        found.contains("Primeiros passos › Portal de Tickets"),
        "{found}"
    );
}

/// The article "Trocar a senha" in `section`; returns its id.
async fn password_article(tc: &TestApp, section: i64) -> i64 {
    article(
        tc,
        section,
        "published",
        "Trocar a senha",
        "Abra o perfil e escolha uma nova senha.",
        None,
    )
    .await
}

/// The article "Senha bloqueada", written through `tc`'s node.
async fn blocked_password_article(tc: &TestApp, section: i64) {
    article(
        tc,
        section,
        "published",
        "Senha bloqueada",
        "Depois de cinco tentativas a senha é bloqueada.",
        None,
    )
    .await;
}

#[tokio::test]
async fn search_results_follow_every_change_to_the_articles() {
    let tc = TestApp::new().await;
    user(&tc, ADMIN, "Admin", Role::Admin, &[]).await;
    let section = section(&tc).await;
    let id = password_article(&tc, section).await;
    let mut anonymous = tc.browser();
    let first = anonymous.get(&search_path("senha")).await;
    assert!(results(&first).contains("Trocar a "), "{}", first.body);
    // The same search again is answered from the node's cache, as before.
    let again = anonymous.get(&search_path("senha")).await;
    assert_eq!(results(&again), results(&first));

    // Edited through the admin's form: the next search shows the new title.
    let mut admin = signed_in(&tc, ADMIN).await;
    let token = csrf(&mut admin).await;
    let section = section.to_string();
    let edit = |title: &'static str, status: &'static str| {
        vec![
            ("csrf_token", token.as_str()),
            ("action", "save"),
            ("section_id", section.as_str()),
            ("position", "1"),
            ("status", status),
            ("title_pt", title),
            ("body_pt", "Abra o perfil e escolha uma nova senha."),
            ("title_en", ""),
            ("body_en", ""),
        ]
    };
    let saved = admin
        .post_form(
            &format!("/admin/hc/articles/{id}"),
            &edit("Redefinir a senha", "published"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let edited = anonymous.get(&search_path("senha")).await;
    assert!(results(&edited).contains("Redefinir a "), "{}", edited.body);
    assert!(!results(&edited).contains("Trocar"));

    // Back to a draft: it leaves the results at once.
    let saved = admin
        .post_form(
            &format!("/admin/hc/articles/{id}"),
            &edit("Redefinir a senha", "draft"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let hidden = anonymous.get(&search_path("senha")).await;
    assert!(
        hidden.body.contains("Nenhum artigo encontrado."),
        "{}",
        hidden.body
    );

    // Written by another part of the program (not a request): the same.
    blocked_password_article(&tc, section.parse().unwrap()).await;
    let added = anonymous.get(&search_path("senha")).await;
    assert!(results(&added).contains("bloqueada"), "{}", added.body);
}

#[tokio::test]
async fn on_postgres_an_article_changed_on_another_node_leaves_the_cached_results() {
    if postgres_url().is_none() {
        return;
    }
    let a = TestApp::new().await;
    let section = section(&a).await;
    password_article(&a, section).await;
    chamado::realtime::spawn(&a.state);
    a.state.hub.started().await;
    let mut anonymous = a.browser();
    let first = anonymous.get(&search_path("senha")).await;
    assert!(results(&first).contains("Trocar a "), "{}", first.body);
    // Node B adds an article; node A hears of it through PostgreSQL.
    let b = a.second_node();
    blocked_password_article(&b, section).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let page = anonymous.get(&search_path("senha")).await;
        if results(&page).contains("bloqueada") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node A still shows its cached results: {}",
            page.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn hostile_search_queries_answer_normally() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    article(
        &tc,
        section,
        "published",
        "Senha",
        "Troque a senha da conta.",
        None,
    )
    .await;
    let long = "senha ".repeat(2000);
    let mut anonymous = tc.browser();
    for query in [
        "\"",
        "*",
        "AND (",
        "-",
        "senha\" OR \"",
        "NEAR(",
        "title:senha",
        "'; drop table hc_articles; --",
        "^",
        "\\",
        ":",
        "((((",
        "a & | ! b",
        "\u{0}",
        long.as_str(),
    ] {
        let page = anonymous.get(&search_path(query)).await;
        assert_eq!(page.status, StatusCode::OK, "{query:?}: {}", page.body);
    }
    let raw = anonymous.get("/hc/search?q=%FF%FE&page=abc&page=-4").await;
    assert_eq!(raw.status, StatusCode::OK);
    let paged = anonymous.get("/hc/search?q=senha&page=999999999999").await;
    assert_eq!(paged.status, StatusCode::OK);
    assert!(results(&anonymous.get(&search_path(&long)).await).contains("<mark>"));
    assert_eq!(count_rows(&tc.state.db, "hc_articles").await, 1);
}

#[tokio::test]
async fn search_pages_are_bounded_and_continue() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    for n in 0..13 {
        article(
            &tc,
            section,
            "published",
            &format!("Integração número {n}"),
            "Configure a integração.",
            None,
        )
        .await;
    }
    let mut anonymous = tc.browser();
    let first = anonymous.get(&search_path("integracao")).await;
    assert_eq!(
        results(&first).matches("class=\"card hc-result\"").count(),
        10
    );
    assert!(first.body.contains("rel=\"next\""));
    let second = anonymous
        .get(&format!("{}&page=2", search_path("integracao")))
        .await;
    assert_eq!(
        results(&second).matches("class=\"card hc-result\"").count(),
        3
    );
    assert!(!second.body.contains("rel=\"next\""));
    assert!(second.body.contains("rel=\"prev\""));
}

#[tokio::test]
async fn postgres_search_understands_portuguese_word_forms() {
    if postgres_url().is_none() {
        return;
    }
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    article(
        &tc,
        section,
        "published",
        "Integração com o ERP",
        "A configuração da integração leva poucos minutos.",
        None,
    )
    .await;
    let mut anonymous = tc.browser();
    // "integrações" and "configurações" share their stems with the singular
    // forms in the text; SQLite's prefix matching cannot see that.
    for query in [
        "integrações",
        "Integrações e configuração",
        "configurações",
        "integracao",
    ] {
        let found = anonymous.get(&search_path(query)).await;
        assert!(
            results(&found).contains("com o ERP"),
            "{query}: {}",
            found.body
        );
    }
}

#[tokio::test]
async fn english_pages_fall_back_to_portuguese_with_a_note() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    let only_pt = article(
        &tc,
        section,
        "published",
        "Só em português",
        "Texto em português.",
        None,
    )
    .await;
    let both = article(
        &tc,
        section,
        "published",
        "Como trocar a senha",
        "Abra **Minha conta**.",
        Some(("How to change the password", "Open **My account**.")),
    )
    .await;
    let mut visitor = tc.browser();

    let page = get_in(
        &mut visitor,
        &format!("/hc/articles/{only_pt}-so-em-portugues"),
        "en",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("This article has no English version yet")
    );
    assert!(page.body.contains("Só em português"));
    assert!(page.body.contains("<div lang=\"pt-BR\">"));
    assert!(page.body.contains("Still need help?"));
    assert!(
        page.body.contains(">Getting started</a>"),
        "English category name"
    );

    let page = get_in(
        &mut visitor,
        &format!("/hc/articles/{both}-como-trocar-a-senha"),
        "en",
    )
    .await;
    assert!(page.body.contains("How to change the password"));
    assert!(
        !page
            .body
            .contains("This article has no English version yet")
    );

    let page = get_in(
        &mut visitor,
        &format!("/hc/articles/{both}-como-trocar-a-senha"),
        "pt-BR",
    )
    .await;
    assert!(page.body.contains("Como trocar a senha"));

    let found = get_in(&mut visitor, &search_path("portugues"), "en").await;
    assert!(
        results(&found).contains("Só em <mark>português</mark>"),
        "{}",
        found.body
    );
    assert!(results(&found).contains("in Portuguese"));
    let found = get_in(&mut visitor, &search_path("password"), "en").await;
    assert!(
        results(&found).contains("How to change the <mark>password</mark>"),
        "{}",
        found.body
    );
}

#[tokio::test]
async fn demo_help_center_opens_with_the_portal_de_tickets_article() {
    let tc = TestApp::new().await;
    let count = hc_demo::seed(&tc.state, None).await.unwrap();
    assert_eq!(count, 21);
    let mut anonymous = tc.browser();
    let home = anonymous.get("/hc").await;
    assert_eq!(home.status, StatusCode::OK);
    let first = home.body.find("/hc/articles/").unwrap();
    assert!(
        home.body[first..].starts_with("/hc/articles/1-portal-de-tickets"),
        "{}",
        &home.body[first..first + 80]
    );
    let article = anonymous
        .get("/hc/articles/1-portal-de-tickets-como-acessar-e-acompanhar-seus-tickets")
        .await;
    assert_eq!(article.status, StatusCode::OK, "{}", article.body);
    for label in [
        "Em Tratativa com o Time de Tech",
        "Abandono na Triagem",
        "Tickets da empresa",
    ] {
        assert!(article.body.contains(label), "{label}");
    }
    assert!(
        article
            .body
            .contains("href=\"http://127.0.0.1:8080/portal/tickets\"")
    );
    let found = anonymous.get(&search_path("solicitacao de contato")).await;
    assert!(results(&found).contains("<mark>"), "{}", found.body);
    let english = get_in(&mut anonymous, "/hc", "en").await;
    assert!(english.body.contains("Billing and plans"));
}

#[tokio::test]
async fn sections_list_their_articles_thirty_a_page_and_the_home_the_first_six() {
    let tc = TestApp::new().await;
    let section = section(&tc).await;
    for n in 1..=31 {
        article(
            &tc,
            section,
            "published",
            &format!("Artigo {n:02}"),
            "Texto.",
            None,
        )
        .await;
    }
    let mut anonymous = tc.browser();
    let first = anonymous
        .get(&format!("/hc/sections/{section}-portal-de-tickets"))
        .await;
    assert_eq!(first.body.matches(">Artigo ").count(), 30);
    assert!(first.body.contains("rel=\"next\""));
    let second = anonymous
        .get(&format!("/hc/sections/{section}-portal-de-tickets?page=2"))
        .await;
    assert_eq!(second.body.matches(">Artigo ").count(), 1);
    assert!(second.body.contains(">Artigo 31<"));
    let home = anonymous.get("/hc").await;
    assert_eq!(home.body.matches(">Artigo ").count(), 6);
    assert!(home.body.contains(">Artigo 06<") && !home.body.contains(">Artigo 07<"));
}
