//! The demo's Help Center: four categories, eight sections and 21 articles
//! in pt-BR and English about Kamino, the invented product the demo plays.
//! The first article explains the Portal de Tickets. The texts are Markdown
//! files under `demo/help-center/`, each starting with `# Title`.

use crate::{
    AppState,
    domain::UserId,
    service::hc::{self, ArticleInput, GroupInput, HcError},
    store::StoreError,
};

/// (pt-BR name, English name, pt-BR description, English description).
type Names = (&'static str, &'static str, &'static str, &'static str);

const CATEGORIES: [Names; 4] = [
    (
        "Primeiros passos",
        "Getting started",
        "Portal de Tickets, abertura e acompanhamento de tickets e a sua conta.",
        "The Ticket Portal, opening and following tickets, and your account.",
    ),
    (
        "Cobrança e planos",
        "Billing and plans",
        "Faturas, formas de pagamento, planos e assinatura.",
        "Invoices, payment methods, plans and subscription.",
    ),
    (
        "Integrações e relatórios",
        "Integrations and reports",
        "API, webhooks, importação de dados e relatórios.",
        "API, webhooks, data import and reports.",
    ),
    (
        "Segurança e privacidade",
        "Security and privacy",
        "Proteja o acesso da sua equipe e os dados dos seus clientes.",
        "Protect your team's access and your customers' data.",
    ),
];

/// Each section's category (index into [`CATEGORIES`]) and names.
const SECTIONS: [(usize, Names); 8] = [
    (
        0,
        (
            "Portal de Tickets",
            "Ticket Portal",
            "Como abrir, acompanhar e responder tickets de suporte.",
            "How to open, follow and answer support tickets.",
        ),
    ),
    (
        0,
        (
            "Sua conta",
            "Your account",
            "Senha, usuários e perfis de acesso.",
            "Password, users and access roles.",
        ),
    ),
    (
        1,
        (
            "Faturas e pagamentos",
            "Invoices and payments",
            "Onde encontrar faturas, como pagar e o que fazer em caso de atraso.",
            "Where to find invoices, how to pay and what to do when late.",
        ),
    ),
    (
        1,
        (
            "Planos e assinatura",
            "Plans and subscription",
            "Mudança de plano e cancelamento.",
            "Changing plans and cancelling.",
        ),
    ),
    (
        2,
        (
            "Integrações",
            "Integrations",
            "Conecte a Kamino ao seu ERP, loja virtual e outros sistemas.",
            "Connect Kamino to your ERP, online shop and other systems.",
        ),
    ),
    (
        2,
        (
            "Relatórios",
            "Reports",
            "Relatórios de vendas, exportação e envios agendados.",
            "Sales reports, exports and scheduled deliveries.",
        ),
    ),
    (
        3,
        (
            "Segurança da conta",
            "Account security",
            "Verificação em duas etapas e sessões ativas.",
            "Two-step verification and active sessions.",
        ),
    ),
    (
        3,
        (
            "Privacidade e LGPD",
            "Privacy and LGPD",
            "Pedidos de titulares e dados da sua empresa.",
            "Data subject requests and your company's data.",
        ),
    ),
];

/// Each article's section (index into [`SECTIONS`]), pt-BR and English
/// Markdown, in the order they appear.
const ARTICLES: [(usize, &str, &str); 21] = [
    (
        0,
        include_str!("../../demo/help-center/01-portal-de-tickets.pt-BR.md"),
        include_str!("../../demo/help-center/01-portal-de-tickets.en.md"),
    ),
    (
        0,
        include_str!("../../demo/help-center/02-abrir-ticket.pt-BR.md"),
        include_str!("../../demo/help-center/02-abrir-ticket.en.md"),
    ),
    (
        0,
        include_str!("../../demo/help-center/03-responder-ticket.pt-BR.md"),
        include_str!("../../demo/help-center/03-responder-ticket.en.md"),
    ),
    (
        0,
        include_str!("../../demo/help-center/04-solicitacao-contato.pt-BR.md"),
        include_str!("../../demo/help-center/04-solicitacao-contato.en.md"),
    ),
    (
        1,
        include_str!("../../demo/help-center/05-alterar-senha.pt-BR.md"),
        include_str!("../../demo/help-center/05-alterar-senha.en.md"),
    ),
    (
        1,
        include_str!("../../demo/help-center/06-convidar-usuarios.pt-BR.md"),
        include_str!("../../demo/help-center/06-convidar-usuarios.en.md"),
    ),
    (
        1,
        include_str!("../../demo/help-center/07-perfis-permissoes.pt-BR.md"),
        include_str!("../../demo/help-center/07-perfis-permissoes.en.md"),
    ),
    (
        2,
        include_str!("../../demo/help-center/08-faturas.pt-BR.md"),
        include_str!("../../demo/help-center/08-faturas.en.md"),
    ),
    (
        2,
        include_str!("../../demo/help-center/09-formas-pagamento.pt-BR.md"),
        include_str!("../../demo/help-center/09-formas-pagamento.en.md"),
    ),
    (
        2,
        include_str!("../../demo/help-center/10-fatura-vencida.pt-BR.md"),
        include_str!("../../demo/help-center/10-fatura-vencida.en.md"),
    ),
    (
        3,
        include_str!("../../demo/help-center/11-mudar-plano.pt-BR.md"),
        include_str!("../../demo/help-center/11-mudar-plano.en.md"),
    ),
    (
        3,
        include_str!("../../demo/help-center/12-cancelamento.pt-BR.md"),
        include_str!("../../demo/help-center/12-cancelamento.en.md"),
    ),
    (
        4,
        include_str!("../../demo/help-center/13-token-api.pt-BR.md"),
        include_str!("../../demo/help-center/13-token-api.en.md"),
    ),
    (
        4,
        include_str!("../../demo/help-center/14-webhooks.pt-BR.md"),
        include_str!("../../demo/help-center/14-webhooks.en.md"),
    ),
    (
        4,
        include_str!("../../demo/help-center/15-importar-csv.pt-BR.md"),
        include_str!("../../demo/help-center/15-importar-csv.en.md"),
    ),
    (
        4,
        include_str!("../../demo/help-center/16-tempo-resposta-excedido.pt-BR.md"),
        include_str!("../../demo/help-center/16-tempo-resposta-excedido.en.md"),
    ),
    (
        5,
        include_str!("../../demo/help-center/17-relatorio-vendas.pt-BR.md"),
        include_str!("../../demo/help-center/17-relatorio-vendas.en.md"),
    ),
    (
        5,
        include_str!("../../demo/help-center/18-relatorios-agendados.pt-BR.md"),
        include_str!("../../demo/help-center/18-relatorios-agendados.en.md"),
    ),
    (
        6,
        include_str!("../../demo/help-center/19-verificacao-duas-etapas.pt-BR.md"),
        include_str!("../../demo/help-center/19-verificacao-duas-etapas.en.md"),
    ),
    (
        6,
        include_str!("../../demo/help-center/20-sessoes-ativas.pt-BR.md"),
        include_str!("../../demo/help-center/20-sessoes-ativas.en.md"),
    ),
    (
        7,
        include_str!("../../demo/help-center/21-lgpd-dados.pt-BR.md"),
        include_str!("../../demo/help-center/21-lgpd-dados.en.md"),
    ),
];

/// Splits a demo file into its `# Title` line and the Markdown after it,
/// with the portal's address filled in.
fn title_and_body(source: &str, portal_url: &str) -> (String, String) {
    let (first, rest) = source.split_once('\n').unwrap_or((source, ""));
    (
        first.trim_start_matches('#').trim().to_owned(),
        rest.trim().replace("{portal_url}", portal_url),
    )
}

fn group(names: Names, position: usize, category_id: Option<i64>) -> GroupInput {
    GroupInput {
        category_id: category_id.map(|id| id.to_string()).unwrap_or_default(),
        name_pt: names.0.to_owned(),
        name_en: names.1.to_owned(),
        description_pt: names.2.to_owned(),
        description_en: names.3.to_owned(),
        position: position.to_string(),
    }
}

fn store_error(error: HcError) -> StoreError {
    match error {
        HcError::Store(e) => e,
        other => StoreError::Other(anyhow::anyhow!(
            "demo Help Center content refused: {other:?}"
        )),
    }
}

/// Writes the demo Help Center, published, by `author`. Returns the number
/// of articles.
pub async fn seed(state: &AppState, author: Option<UserId>) -> Result<usize, StoreError> {
    let portal_url = format!(
        "{}/portal/tickets",
        state.config.base_url.trim_end_matches('/')
    );
    let mut categories = Vec::new();
    for (position, names) in CATEGORIES.into_iter().enumerate() {
        let id = hc::save_category(state, None, &group(names, position + 1, None))
            .await
            .map_err(store_error)?;
        categories.push(id);
    }
    let mut sections = Vec::new();
    for (position, (category, names)) in SECTIONS.into_iter().enumerate() {
        let id = hc::save_section(
            state,
            None,
            &group(names, position + 1, Some(categories[category])),
        )
        .await
        .map_err(store_error)?;
        sections.push(id);
    }
    for (position, (section, pt, en)) in ARTICLES.into_iter().enumerate() {
        let (title_pt, body_pt) = title_and_body(pt, &portal_url);
        let (title_en, body_en) = title_and_body(en, &portal_url);
        hc::save_article(
            state,
            None,
            author,
            &ArticleInput {
                section_id: sections[section].to_string(),
                position: (position + 1).to_string(),
                status: "published".to_owned(),
                title_pt,
                body_pt,
                title_en,
                body_en,
            },
        )
        .await
        .map_err(store_error)?;
    }
    Ok(ARTICLES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_article_has_a_title_and_a_real_body_in_both_languages() {
        for (_, pt, en) in ARTICLES {
            for source in [pt, en] {
                let (title, body) = title_and_body(source, "https://example.com/portal/tickets");
                assert!(!title.is_empty() && title.len() < 200, "{source}");
                let words = body.split_whitespace().count();
                assert!((100..=420).contains(&words), "{title}: {words} words");
                assert!(!body.contains("{portal_url}"), "{title}");
            }
        }
    }

    #[test]
    fn the_first_article_is_the_portal_de_tickets_guide() {
        let (title, body) = title_and_body(ARTICLES[0].1, "https://example.com/portal/tickets");
        assert!(title.contains("Portal de Tickets"), "{title}");
        for label in [
            "Enviado",
            "Em Tratativa",
            "Em Tratativa com o Time de Tech",
            "Aguardando Sua Resposta",
            "Solucionado",
            "Abandono na Triagem",
            "Meus tickets",
            "Tickets da empresa",
            "Solicitação de Contato",
            "procurando os tickets da sua empresa?",
            "https://example.com/portal/tickets",
        ] {
            assert!(body.contains(label), "{label} missing");
        }
    }
}
