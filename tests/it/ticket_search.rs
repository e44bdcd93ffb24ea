//! Full-text search over tickets, through the customer's list
//! (`/portal/tickets?q=…`) and the agent's queues (`/agent?q=…`): accents and
//! case do not matter, every word must be found, customers search public
//! comments only and only tickets they may see, nothing typed breaks the
//! page, edits are searchable at once, the counts follow the search, and
//! `chamado bench-data` leaves a searchable database behind.

use axum::http::StatusCode;
use chamado::{
    domain::{OrgId, Role, TicketId, TicketStatus, UserId},
    service::bench_data::{self, BenchSpec},
    store::{self, Db},
    web::encode_query_value,
    with_db,
};
use jiff::SignedDuration;
use tempfile::TempDir;

use crate::{
    agent::queue_count,
    portal::{internal_note, listed, move_to, signed_in, status_count, ticket, user},
    support::{Browser, TestApp},
};

const ANA: &str = "ana@padaria.example";
const DIEGO: &str = "diego@padaria.example";
const BRUNO: &str = "bruno@mercado.example";
const FERNANDA: &str = "fernanda@suporte.example";

struct Desk {
    padaria: OrgId,
    mercado: OrgId,
    ana: UserId,
    diego: UserId,
    bruno: UserId,
}

async fn desk(tc: &TestApp) -> Desk {
    let padaria = tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let mercado = tc.create_org("Mercado Bom Preço", "org-mercado").await;
    let ana = user(tc, ANA, "Ana Souza", Role::Customer, &["org-padaria"]).await;
    let diego = user(tc, DIEGO, "Diego Alves", Role::Customer, &["org-padaria"]).await;
    let bruno = user(tc, BRUNO, "Bruno Lima", Role::Customer, &["org-mercado"]).await;
    user(tc, FERNANDA, "Fernanda Agente", Role::Agent, &[]).await;
    Desk {
        padaria,
        mercado,
        ana,
        diego,
        bruno,
    }
}

/// A ticket opened a minute after the previous one, so orders are stable.
async fn opened(
    tc: &TestApp,
    requester: UserId,
    org: OrgId,
    subject: &str,
    description: &str,
) -> TicketId {
    tc.clock.advance(SignedDuration::from_mins(1));
    ticket(tc, requester, Some(org), subject, description).await
}

async fn public_comment(tc: &TestApp, id: TicketId, author: UserId, body: &str) -> i64 {
    store::tickets::add_comment(&tc.state.db, id, Some(author), body, true, tc.clock.now())
        .await
        .unwrap()
        .0
}

/// The ids a search lists, newest first. `base` is the list's path with
/// its other parameters.
async fn found(browser: &mut Browser<'_>, base: &str, text: &str) -> Vec<i64> {
    let separator = if base.contains('?') { '&' } else { '?' };
    let page = browser
        .get(&format!("{base}{separator}q={}", encode_query_value(text)))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{base} q={text}");
    listed(&page.body)
}

fn is_sqlite(tc: &TestApp) -> bool {
    matches!(tc.state.db, Db::Sqlite(..))
}

#[tokio::test]
async fn accents_and_case_do_not_matter() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let accented = opened(
        &tc,
        d.ana,
        d.padaria,
        "Relatório não carrega",
        "A emissão do BOLETO falha",
    )
    .await;
    let plain = opened(
        &tc,
        d.ana,
        d.padaria,
        "Nao consigo emitir",
        "sem acentos aqui",
    )
    .await;
    opened(&tc, d.ana, d.padaria, "Impressora", "Outro assunto").await;
    let mut ana = signed_in(&tc, ANA).await;
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    for (text, expected) in [
        ("nao", vec![plain.0, accented.0]),
        ("NÃO", vec![plain.0, accented.0]),
        ("relatorio", vec![accented.0]),
        ("RELATÓRIO", vec![accented.0]),
        ("boleto", vec![accented.0]),
        ("Emissao", vec![accented.0]),
        ("acentos", vec![plain.0]),
        ("tomate", vec![]),
    ] {
        assert_eq!(
            found(&mut ana, "/portal/tickets", text).await,
            expected,
            "portal: {text}"
        );
        assert_eq!(
            found(&mut fernanda, "/agent", text).await,
            expected,
            "agent: {text}"
        );
    }
}

#[tokio::test]
async fn every_word_must_be_found() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let overdue = opened(
        &tc,
        d.ana,
        d.padaria,
        "Boleto vencido",
        "Preciso da segunda via",
    )
    .await;
    let paid = opened(&tc, d.ana, d.padaria, "Boleto pago duas vezes", "Estorno").await;
    let mut ana = signed_in(&tc, ANA).await;
    assert_eq!(
        found(&mut ana, "/portal/tickets", "boleto").await,
        [paid.0, overdue.0]
    );
    assert_eq!(
        found(&mut ana, "/portal/tickets", "boleto vencido").await,
        [overdue.0]
    );
    // Words from the subject and the description together.
    assert_eq!(
        found(&mut ana, "/portal/tickets", "vencido segunda via").await,
        [overdue.0]
    );
    assert_eq!(
        found(&mut ana, "/portal/tickets", "pago estorno").await,
        [paid.0]
    );
    assert!(
        found(&mut ana, "/portal/tickets", "vencido estorno")
            .await
            .is_empty()
    );
    assert!(
        found(&mut ana, "/portal/tickets", "boleto tomate")
            .await
            .is_empty()
    );
    if is_sqlite(&tc) {
        // On SQLite, as in the Help Center, a word matches as a prefix.
        assert_eq!(
            found(&mut ana, "/portal/tickets", "bolet venc").await,
            [overdue.0]
        );
    }
}

#[tokio::test]
async fn customers_search_public_comments_and_agents_internal_notes_too() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let replied = opened(&tc, d.ana, d.padaria, "Pedido atrasado", "Sem previsão").await;
    public_comment(&tc, replied, d.ana, "O pedido da marmelada não chegou").await;
    let noted = opened(&tc, d.ana, d.padaria, "Outro pedido", "Sem previsão").await;
    internal_note(&tc, noted, "Fornecedor da goiabada atrasou").await;
    let mut ana = signed_in(&tc, ANA).await;
    for base in ["/portal/tickets", "/portal/tickets?view=org"] {
        assert_eq!(found(&mut ana, base, "marmelada").await, [replied.0]);
        assert!(found(&mut ana, base, "goiabada").await.is_empty(), "{base}");
        assert!(
            found(&mut ana, base, "fornecedor").await.is_empty(),
            "{base}"
        );
        // The counts beside the statuses agree with the list.
        let sep = if base.contains('?') { '&' } else { '?' };
        let page = ana.get(&format!("{base}{sep}q=marmelada")).await;
        assert_eq!(status_count(&page.body, "sent"), 1, "{base}");
        let page = ana.get(&format!("{base}{sep}q=goiabada")).await;
        assert_eq!(status_count(&page.body, "sent"), 0, "{base}");
    }
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    assert_eq!(
        found(&mut fernanda, "/agent", "marmelada").await,
        [replied.0]
    );
    assert_eq!(found(&mut fernanda, "/agent", "goiabada").await, [noted.0]);
    assert_eq!(
        found(&mut fernanda, "/agent", "fornecedor atrasou").await,
        [noted.0]
    );
    assert_eq!(
        found(&mut fernanda, "/agent", "previsão").await,
        [noted.0, replied.0]
    );
    let queue = fernanda.get("/agent?q=goiabada").await;
    assert_eq!(queue_count(&queue.body, "all"), 1);
    let queue = fernanda
        .get(&format!("/agent?q=goiabada&org={}", d.padaria.0))
        .await;
    assert_eq!(queue_count(&queue.body, "all"), 1);
    let queue = fernanda
        .get(&format!("/agent?q=goiabada&org={}", d.mercado.0))
        .await;
    assert_eq!(queue_count(&queue.body, "all"), 0);
}

#[tokio::test]
async fn customers_never_find_tickets_they_may_not_see() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let own = opened(&tc, d.ana, d.padaria, "Boleto da Ana", "x").await;
    let colleague = opened(&tc, d.diego, d.padaria, "Boleto do Diego", "x").await;
    let other_org = opened(&tc, d.bruno, d.mercado, "Boleto do Bruno", "boleto").await;
    public_comment(&tc, other_org, d.bruno, "Mais um boleto").await;
    let mut ana = signed_in(&tc, ANA).await;
    assert_eq!(found(&mut ana, "/portal/tickets", "boleto").await, [own.0]);
    assert_eq!(
        found(&mut ana, "/portal/tickets?view=org", "boleto").await,
        [colleague.0, own.0]
    );
    // Asking for the other organization never widens the view.
    assert!(
        found(
            &mut ana,
            &format!("/portal/tickets?view=org&org={}", d.mercado.0),
            "boleto"
        )
        .await
        .is_empty()
    );
    assert!(
        found(&mut ana, "/portal/tickets?view=org", "bruno")
            .await
            .is_empty()
    );
    // Nor do the counts count what the list does not show.
    let page = ana.get("/portal/tickets?view=org&q=boleto").await;
    assert_eq!(status_count(&page.body, "sent"), 2);
    let page = ana
        .get(&format!(
            "/portal/tickets?view=org&org={}&q=boleto",
            d.mercado.0
        ))
        .await;
    assert_eq!(status_count(&page.body, "sent"), 0);
    let mut bruno = signed_in(&tc, BRUNO).await;
    assert_eq!(
        found(&mut bruno, "/portal/tickets?view=org", "boleto").await,
        [other_org.0]
    );
    // Staff see every ticket.
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    assert_eq!(
        found(&mut fernanda, "/agent", "boleto").await,
        [other_org.0, colleague.0, own.0]
    );
}

#[tokio::test]
async fn nothing_typed_breaks_the_search() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let boleto = opened(&tc, d.ana, d.padaria, "Boleto vencido", "x").await;
    let mut ana = signed_in(&tc, ANA).await;
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    // The list reads the first 200 characters, which end on a whole word.
    let long = format!("{}boleto", "vencido ".repeat(24));
    let longer = "boleto ".repeat(1_500);
    let very_long = "x".repeat(10_000);
    let hostile = [
        "\"",
        "*",
        "AND (",
        "-",
        "NEAR",
        "NEAR(boleto vencido, 2)",
        "boleto OR",
        "OR",
        "NOT boleto",
        "^boleto",
        "subject:boleto",
        "{subject description}: boleto",
        "'",
        "\\",
        "%",
        "_",
        "!!",
        "&|",
        ":*",
        "a\"b",
        "\"boleto",
        "boleto*",
        "(((",
        "<script>",
        very_long.as_str(),
        long.as_str(),
        longer.as_str(),
    ];
    for text in hostile {
        found(&mut ana, "/portal/tickets", text).await;
        found(&mut ana, "/portal/tickets?view=org", text).await;
        found(&mut fernanda, "/agent", text).await;
    }
    // Symbols are not syntax: quoted, starred or repeated, the word is found.
    for text in [
        "\"boleto\"",
        "boleto*",
        "\"boleto",
        "(boleto)",
        long.as_str(),
    ] {
        assert_eq!(
            found(&mut ana, "/portal/tickets", text).await,
            [boleto.0],
            "{text}"
        );
    }
    // Text without a letter or digit matches nothing rather than everything.
    for text in ["\"", "%", "-", "*()"] {
        assert!(
            found(&mut fernanda, "/agent", text).await.is_empty(),
            "{text}"
        );
    }
}

async fn execute(db: &Db, sql: &'static str, value: &str, id: i64) {
    with_db!(db, |pool| {
        sqlx::query(sql)
            .bind(value)
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
    });
}

#[tokio::test]
async fn edited_text_is_found_at_once() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Impressora parada", "Sem papel").await;
    let comment = public_comment(&tc, id, d.ana, "O toner acabou").await;
    let mut ana = signed_in(&tc, ANA).await;
    assert_eq!(found(&mut ana, "/portal/tickets", "toner").await, [id.0]);

    let db = &tc.state.db;
    execute(
        db,
        "update tickets set subject = $1 where id = $2",
        "Scanner travado",
        id.0,
    )
    .await;
    assert_eq!(found(&mut ana, "/portal/tickets", "scanner").await, [id.0]);
    assert!(
        found(&mut ana, "/portal/tickets", "impressora")
            .await
            .is_empty()
    );
    execute(
        db,
        "update tickets set description = $1 where id = $2",
        "Luz vermelha",
        id.0,
    )
    .await;
    assert_eq!(found(&mut ana, "/portal/tickets", "vermelha").await, [id.0]);
    assert!(found(&mut ana, "/portal/tickets", "papel").await.is_empty());
    execute(
        db,
        "update comments set body = $1 where id = $2",
        "O cartucho secou",
        comment,
    )
    .await;
    assert_eq!(found(&mut ana, "/portal/tickets", "cartucho").await, [id.0]);
    assert!(found(&mut ana, "/portal/tickets", "toner").await.is_empty());

    // Changes that leave the text alone keep the ticket findable.
    move_to(&tc, id, TicketStatus::InProgress).await;
    assert_eq!(found(&mut ana, "/portal/tickets", "scanner").await, [id.0]);
    assert_eq!(found(&mut ana, "/portal/tickets", "cartucho").await, [id.0]);

    with_db!(db, |pool| {
        sqlx::query("delete from comments where id = $1")
            .bind(comment)
            .execute(pool)
            .await
            .unwrap();
    });
    assert!(
        found(&mut ana, "/portal/tickets", "cartucho")
            .await
            .is_empty()
    );
    assert_eq!(found(&mut ana, "/portal/tickets", "scanner").await, [id.0]);
}

#[tokio::test]
async fn counts_next_to_the_filters_follow_the_search() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    for (n, status) in [
        TicketStatus::Sent,
        TicketStatus::Sent,
        TicketStatus::InProgress,
        TicketStatus::AwaitingReply,
        TicketStatus::Solved,
        TicketStatus::Solved,
    ]
    .into_iter()
    .enumerate()
    {
        let subject = if n % 2 == 0 {
            "Boleto vencido"
        } else {
            "Nota fiscal"
        };
        let id = opened(&tc, d.ana, d.padaria, subject, "x").await;
        move_to(&tc, id, status).await;
    }
    // Another organization's boleto counts for no customer of Padaria.
    opened(&tc, d.bruno, d.mercado, "Boleto vencido", "x").await;
    let mut ana = signed_in(&tc, ANA).await;
    let page = ana.get("/portal/tickets?view=org&q=boleto").await;
    assert_eq!(listed(&page.body).len(), 3);
    for (status, count) in TicketStatus::ALL.into_iter().zip([1, 1, 0, 0, 1, 0]) {
        assert_eq!(status_count(&page.body, status.key()), count, "{status}");
    }
    let solved = ana
        .get("/portal/tickets?view=org&q=boleto&status=solved")
        .await;
    assert_eq!(listed(&solved.body).len(), 1);
    assert_eq!(status_count(&solved.body, "sent"), 1);

    let mut fernanda = signed_in(&tc, FERNANDA).await;
    let queue = fernanda.get("/agent?q=boleto").await;
    assert_eq!(listed(&queue.body).len(), 4);
    assert_eq!(queue_count(&queue.body, "all"), 4);
    assert_eq!(queue_count(&queue.body, "solved"), 1);
    assert_eq!(queue_count(&queue.body, "sent"), 2);
    let notes = fernanda.get("/agent?q=nota%20fiscal").await;
    assert_eq!(queue_count(&notes.body, "all"), 3);
    assert_eq!(queue_count(&notes.body, "solved"), 1);
}

#[tokio::test]
async fn a_generated_data_set_is_searchable_and_stays_in_step() {
    let tc = TestApp::new().await;
    let spec = BenchSpec {
        tickets: 1200,
        orgs: 10,
        users: 40,
        comments_per_ticket: 5,
        seed: 11,
    };
    bench_data::generate(&tc.state, spec, |_, _| {})
        .await
        .unwrap();
    let db = &tc.state.db;
    let expected: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "select count(*) from tickets where lower(subject) like '%boleto%' \
             or lower(description) like '%boleto%'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert!(expected > 0);
    user(&tc, FERNANDA, "Fernanda Agente", Role::Agent, &[]).await;
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    let page = fernanda.get("/agent?q=boleto").await;
    assert_eq!(queue_count(&page.body, "all"), expected);
    // Counts are written as Portuguese writes numbers.
    let everything = fernanda.get("/agent?queue=all").await;
    assert!(
        everything.body.contains("data-count=\"all\">1.200</span>"),
        "{}",
        everything.body
    );
    // Comments were indexed too: the generator's agents ask for a print.
    let prints = fernanda.get("/agent?q=print").await;
    assert!(queue_count(&prints.body, "all") > 0);

    // Tickets written after the load are indexed as they are written.
    let org: i64 = with_db!(db, |pool| {
        sqlx::query_scalar("select id from organizations order by id limit 1")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    let requester: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "select user_id from memberships where organization_id = $1 order by user_id limit 1",
        )
        .bind(org)
        .fetch_one(pool)
        .await
        .unwrap()
    });
    let new = ticket(
        &tc,
        UserId(requester),
        Some(OrgId(org)),
        "Quindim estragado",
        "x",
    )
    .await;
    assert_eq!(found(&mut fernanda, "/agent", "quindim").await, [new.0]);
    internal_note(&tc, new, "Pastel de nata").await;
    assert_eq!(found(&mut fernanda, "/agent", "pastel nata").await, [new.0]);
}

/// Tickets and comments written before the search existed are found after
/// the upgrade: the SQLite migration builds its indexes from the rows
/// already there (PostgreSQL computes its generated columns for them).
#[tokio::test]
async fn tickets_written_before_the_upgrade_are_found() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("upgrade.db");
    let db = Db::connect_sqlite(
        &path.to_string_lossy(),
        true,
        sqlx::sqlite::SqliteSynchronous::Full,
        2,
    )
    .await
    .unwrap();
    let Db::Sqlite(pool, _) = &db else {
        unreachable!("a SQLite database");
    };
    // The migrations before this one, from their folder.
    let before = TempDir::new().unwrap();
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&folder).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.as_str() < "0010" {
            std::fs::copy(entry.path(), before.path().join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(before.path())
        .await
        .unwrap()
        .run(pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into users (id, email, email_lower, name, role, locale, time_zone, active, created_at, updated_at) \
         values (1, 'ana@padaria.example', 'ana@padaria.example', 'Ana', 'customer', 'pt-BR', 'America/Sao_Paulo', 1, 0, 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into tickets (id, subject, description, ticket_type, status, requester_id, channel, created_at, updated_at) \
         values (7, 'Relatório antigo', 'Escrito antes da busca', 'support', 'sent', 1, 'portal', 0, 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into comments (ticket_id, author_id, body, public, created_at) values (7, 1, 'Comentário anterior', 1, 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let query = store::portal::ListQuery {
        viewer: 1,
        limit: 25,
        ..store::portal::ListQuery::default()
    };
    for text in ["relatorio", "busca", "comentario"] {
        let page = store::portal::list(
            &db,
            &store::portal::ListQuery {
                text: Some(text.to_owned()),
                ..query.clone()
            },
        )
        .await
        .unwrap();
        let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
        assert_eq!(ids, [7], "{text}");
    }
    db.close().await;
}

/// Ana Duas, a customer who sees the tickets of both organizations.
async fn customer_of_both(tc: &TestApp) {
    user(
        tc,
        "ana2@padaria.example",
        "Ana Duas",
        Role::Customer,
        &["org-padaria", "org-mercado"],
    )
    .await;
}

/// Moves a ticket to another organization and requester behind the
/// application's back, as a command-line fix on the database would.
async fn move_ticket(tc: &TestApp, id: TicketId, org: OrgId, requester: UserId) {
    let db = &tc.state.db;
    with_db!(db, |pool| {
        sqlx::query("update tickets set organization_id = $1, requester_id = $2 where id = $3")
            .bind(org.0)
            .bind(requester.0)
            .bind(id.0)
            .execute(pool)
            .await
            .unwrap();
    });
}

/// The SQLite index narrows its matches to the organizations or the
/// requester a list reads (`store::ticket_search::Scope`): every view still
/// finds exactly its tickets, several organizations at once, and a ticket
/// moved to another organization or requester is found where it now is.
#[tokio::test]
async fn the_search_follows_each_list_and_a_moved_ticket() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    // Ana is a customer of both organizations; Diego only of Padaria.
    customer_of_both(&tc).await;
    let padaria = opened(&tc, d.ana, d.padaria, "Boleto da padaria", "x").await;
    let mercado = opened(&tc, d.bruno, d.mercado, "Boleto do mercado", "x").await;
    let diegos = opened(&tc, d.diego, d.padaria, "Boleto do Diego", "x").await;
    let mut both = signed_in(&tc, "ana2@padaria.example").await;
    assert_eq!(
        found(&mut both, "/portal/tickets?view=org", "boleto").await,
        [diegos.0, mercado.0, padaria.0]
    );
    assert_eq!(
        found(
            &mut both,
            &format!("/portal/tickets?view=org&org={}", d.mercado.0),
            "boleto"
        )
        .await,
        [mercado.0]
    );
    assert!(
        found(&mut both, "/portal/tickets", "boleto")
            .await
            .is_empty()
    );
    let mut diego = signed_in(&tc, DIEGO).await;
    assert_eq!(
        found(&mut diego, "/portal/tickets", "boleto").await,
        [diegos.0]
    );
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    assert_eq!(
        found(
            &mut fernanda,
            &format!("/agent?org={}", d.padaria.0),
            "boleto"
        )
        .await,
        [diegos.0, padaria.0]
    );
    assert_eq!(
        found(
            &mut fernanda,
            &format!("/agent?requester={}", d.diego.0),
            "boleto"
        )
        .await,
        [diegos.0]
    );

    // Diego's ticket moves to Mercado, and to Bruno as its requester.
    move_ticket(&tc, diegos, d.mercado, d.bruno).await;
    assert!(
        found(&mut diego, "/portal/tickets", "boleto")
            .await
            .is_empty()
    );
    assert_eq!(
        found(&mut diego, "/portal/tickets?view=org", "boleto").await,
        [padaria.0]
    );
    let mut bruno = signed_in(&tc, BRUNO).await;
    assert_eq!(
        found(&mut bruno, "/portal/tickets", "boleto").await,
        [diegos.0, mercado.0]
    );
    assert_eq!(
        found(
            &mut fernanda,
            &format!("/agent?org={}", d.mercado.0),
            "boleto"
        )
        .await,
        [diegos.0, mercado.0]
    );
    // A ticket no longer in a list is not counted in it either.
    let page = diego.get("/portal/tickets?view=org&q=boleto").await;
    assert_eq!(status_count(&page.body, "sent"), 1);
}

/// The counts beside a search count what the list shows, also for words an
/// engine ignores (PostgreSQL drops stop words such as "de": nothing is
/// listed and nothing counted) and for words only a comment holds.
#[tokio::test]
async fn counts_agree_with_the_list_for_every_kind_of_word() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let first = opened(
        &tc,
        d.ana,
        d.padaria,
        "Dúvida de cobrança",
        "Boleto de março",
    )
    .await;
    public_comment(&tc, first, d.ana, "Segue o comprovante de pagamento").await;
    opened(&tc, d.diego, d.padaria, "Nota fiscal", "Emitida com erro").await;
    opened(
        &tc,
        d.bruno,
        d.mercado,
        "Dúvida de acesso",
        "Senha de teste",
    )
    .await;
    let mut ana = signed_in(&tc, ANA).await;
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    for text in [
        "de",
        "o que",
        "comprovante",
        "de comprovante",
        "-boleto",
        "dúvida",
    ] {
        let encoded = text.replace(' ', "%20");
        for base in ["/portal/tickets", "/portal/tickets?view=org"] {
            let sep = if base.contains('?') { '&' } else { '?' };
            let page = ana.get(&format!("{base}{sep}q={encoded}")).await;
            let counted: i64 = TicketStatus::ALL
                .into_iter()
                .map(|s| status_count(&page.body, s.key()))
                .sum();
            assert_eq!(
                i64::try_from(listed(&page.body).len()).unwrap(),
                counted,
                "{base} q={text}"
            );
        }
        let queue = fernanda.get(&format!("/agent?queue=all&q={encoded}")).await;
        assert_eq!(
            i64::try_from(listed(&queue.body).len()).unwrap(),
            queue_count(&queue.body, "all"),
            "agent q={text}"
        );
    }
}

/// On PostgreSQL a comment carries its ticket's organization for the search
/// index (migration 0020): a ticket moved to another organization takes its
/// comments' matches with it, in the lists and in their counts.
#[tokio::test]
async fn comments_move_with_their_ticket() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    customer_of_both(&tc).await;
    let moved = opened(&tc, d.diego, d.padaria, "Pedido", "x").await;
    public_comment(&tc, moved, d.diego, "Segue o cupom").await;
    let mut diego = signed_in(&tc, DIEGO).await;
    let page = diego.get("/portal/tickets?view=org&q=cupom").await;
    assert_eq!(listed(&page.body), [moved.0]);
    assert_eq!(status_count(&page.body, "sent"), 1);

    move_ticket(&tc, moved, d.mercado, d.bruno).await;
    let mut both = signed_in(&tc, "ana2@padaria.example").await;
    for (org, expected, count) in [(d.padaria, vec![], 0), (d.mercado, vec![moved.0], 1)] {
        let page = both
            .get(&format!("/portal/tickets?view=org&org={}&q=cupom", org.0))
            .await;
        assert_eq!(listed(&page.body), expected, "{org:?}");
        assert_eq!(status_count(&page.body, "sent"), count, "{org:?}");
    }
    let mut bruno = signed_in(&tc, BRUNO).await;
    let page = bruno.get("/portal/tickets?q=cupom").await;
    assert_eq!(listed(&page.body), [moved.0]);
    assert_eq!(status_count(&page.body, "sent"), 1);
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    let queue = fernanda
        .get(&format!("/agent?q=cupom&org={}", d.mercado.0))
        .await;
    assert_eq!(queue_count(&queue.body, "all"), 1);
}

/// On SQLite a typed word finds every word that starts with it, in the
/// tickets' text and in comments, whatever the accents: those words are
/// looked up in the indexes' vocabularies and matched one by one, and a
/// beginning shared by more words than that lookup takes is matched as a
/// prefix. (PostgreSQL reads words by their stems instead: `accents_and_case_do_not_matter`
/// and `every_word_must_be_found` cover both engines.)
#[tokio::test]
async fn a_beginning_finds_every_word_that_starts_with_it() {
    let tc = TestApp::new().await;
    if !is_sqlite(&tc) {
        return;
    }
    let d = desk(&tc).await;
    let boleto = opened(&tc, d.ana, d.padaria, "Boleto vencido", "x").await;
    let boletos = opened(&tc, d.ana, d.padaria, "Dois boletos", "x").await;
    let augmentative = opened(&tc, d.ana, d.padaria, "Um BOLETÃO", "y").await;
    let in_comment = opened(&tc, d.ana, d.padaria, "Outro assunto", "z").await;
    public_comment(&tc, in_comment, d.ana, "Veja o boletim anexo").await;
    opened(&tc, d.ana, d.padaria, "Bola fora", "sem nada").await;
    let mercado = opened(&tc, d.bruno, d.mercado, "Boleto do mercado", "x").await;
    let mut ana = signed_in(&tc, ANA).await;
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    for (text, expected) in [
        (
            "bolet",
            vec![in_comment.0, augmentative.0, boletos.0, boleto.0],
        ),
        ("BOLETA", vec![augmentative.0]),
        ("boletos", vec![boletos.0, boleto.0]),
        ("bolet vencid", vec![boleto.0]),
        ("boletx", vec![]),
    ] {
        assert_eq!(
            found(&mut ana, "/portal/tickets?view=org", text).await,
            expected,
            "{text}"
        );
    }
    let mut agent_view = vec![mercado.0, in_comment.0, augmentative.0, boletos.0, boleto.0];
    assert_eq!(found(&mut fernanda, "/agent", "bolet").await, agent_view);

    // More words with one beginning than the lookup takes.
    let many = chamado::store::ticket_search::MAX_TERMS + 3;
    for n in 0..many {
        let subject = format!("Nota lote{n}x");
        agent_view.insert(0, opened(&tc, d.ana, d.padaria, &subject, "x").await.0);
    }
    let page = ana.get("/portal/tickets?view=org&q=lote").await;
    assert_eq!(
        status_count(&page.body, "sent"),
        i64::try_from(many).unwrap()
    );
    assert_eq!(listed(&page.body).len(), 25);
    let page = fernanda.get("/agent?q=lote").await;
    assert_eq!(listed(&page.body).len(), 25, "{}", page.body.len());
    assert_eq!(
        found(&mut ana, "/portal/tickets?view=org", "lote7x").await,
        [agent_view[many - 1 - 7]]
    );
}
