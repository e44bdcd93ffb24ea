//! The Help Center in a browser: its home with the Portal de Tickets entry,
//! an article, a search with highlighted matches, and the way from the
//! Help Center into the portal. axe-core checks each Help Center page.

use crate::{
    flows::{self, ANA},
    support::run,
};

const FIRST_ARTICLE: &str =
    "/hc/articles/1-portal-de-tickets-como-acessar-e-acompanhar-seus-tickets";

#[tokio::test]
async fn help_center_articles_search_and_the_way_to_the_portal() {
    run("help_center", |b| async move {
        // Anyone may read the Help Center.
        b.goto("/hc").await;
        assert_eq!(b.text("main h1").await, "Central de Ajuda");
        assert!(
            b.text("a.hc-portal").await.contains("Portal de Tickets"),
            "the Portal de Tickets entry"
        );
        assert_eq!(b.count(".hc-category").await, 4, "the demo's categories");
        b.axe_check().await;
        b.screenshot("home").await;

        // The first article, from the home.
        b.click_and_wait(&format!(r#".hc-category a[href="{FIRST_ARTICLE}"]"#))
            .await;
        b.wait_for_path(FIRST_ARTICLE).await;
        assert_eq!(
            b.text("article h1").await,
            "Portal de Tickets: como acessar e acompanhar seus tickets"
        );
        // The separators are drawn by the stylesheet.
        let crumbs: Vec<String> = b
            .texts(".hc-crumbs li")
            .await
            .into_iter()
            .map(|crumb| crumb.trim_start_matches('›').trim().to_owned())
            .collect();
        assert_eq!(
            crumbs,
            ["Central de Ajuda", "Primeiros passos", "Portal de Tickets"],
            "breadcrumbs"
        );
        assert!(b.text(".hc-body").await.contains("Abandono na Triagem"));
        assert_eq!(b.text(".hc-help h2").await, "Ainda precisa de ajuda?");
        assert_eq!(
            b.attr(".hc-help a.button", "href").await.as_deref(),
            Some("/portal/tickets/new")
        );
        b.axe_check().await;
        b.screenshot("article").await;

        // Search without accents; the match comes back highlighted.
        b.fill("#hc-q", "solicitacao de contato").await;
        b.click_and_wait(".hc-search button[type=submit]").await;
        b.wait_for_path("/hc/search").await;
        let first = b.text(".hc-result h2").await;
        assert!(
            first.contains("Solicitação de Contato"),
            "first result: {first}"
        );
        assert!(b.count(".hc-result mark").await > 0, "highlighted matches");
        b.axe_check().await;
        b.screenshot("search").await;

        // Signed in, the header leads to the Help Center and its entry to
        // the portal.
        flows::sign_in_via_demo_host(&b, ANA).await;
        flows::assert_ana_on_portal(&b).await;
        b.click_and_wait(r#"nav.mainnav a[href="/hc"]"#).await;
        b.wait_for_path("/hc").await;
        b.click_and_wait("a.hc-portal").await;
        flows::assert_ana_on_portal(&b).await;
    })
    .await;
}

#[tokio::test]
async fn admin_previews_an_article_without_javascript_and_saves_it() {
    run("help_center_admin", |b| async move {
        flows::sign_in_locally(&b, "admin@suporte.example").await;
        b.goto("/admin/hc").await;
        assert!(b.count("table.admin-table tbody tr").await >= 21);
        b.axe_check().await;

        b.goto("/admin/hc/articles/2").await;
        b.fill(
            "#body_pt",
            "## Antes de começar\n\nClique em **Abrir novo ticket**.",
        )
        .await;
        b.click_and_wait(r#"button[name="action"][value="preview"]"#)
            .await;
        assert_eq!(
            b.text(".hc-preview[lang=\"pt-BR\"] h2").await,
            "Antes de começar"
        );
        assert_eq!(
            b.text(".hc-preview[lang=\"pt-BR\"] strong").await,
            "Abrir novo ticket"
        );
        b.axe_check().await;
        b.screenshot("preview").await;
        // Only the preview so far: the public article is unchanged.
        b.goto("/hc/articles/2-como-abrir-um-ticket").await;
        assert!(!b.text(".hc-body").await.contains("Antes de começar"));

        b.goto("/admin/hc/articles/2").await;
        b.fill(
            "#body_pt",
            "## Antes de começar\n\nClique em **Abrir novo ticket**.",
        )
        .await;
        b.click_and_wait(r#"button[name="action"][value="save"]"#)
            .await;
        assert_eq!(b.text("p.notice").await, "Alterações salvas.");
        b.goto("/hc/articles/2-como-abrir-um-ticket").await;
        assert_eq!(b.text(".hc-body h2").await, "Antes de começar");
    })
    .await;
}
