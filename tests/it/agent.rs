//! The agent workspace through HTTP: queues and their counts, filters,
//! search over internal notes, the ticket page, replies and notes, status
//! rules, assignment, escalation to Tech, the audit trail, contact
//! requests, concurrent edits, and who may reach any of it.

use axum::http::StatusCode;
use chamado::{
    domain::{OrgId, Role, TicketId, TicketStatus, TicketType, UserId},
    store::{self, events::EventKind},
};
use jiff::SignedDuration;

use crate::{
    portal::{
        CONTACT, FilePart, attach, count_rows, csrf, internal_note, listed, move_to, pager_link,
        post_multipart, request_contact, signed_in, status_of, ticket, typed_ticket, unescape,
        user, without_request_id,
    },
    support::{Browser, TestApp, TestResponse},
};

/// A help desk with two organizations, two customers, two agents and an
/// admin.
struct Desk {
    padaria: OrgId,
    mercado: OrgId,
    ana: UserId,
    bruno: UserId,
    fernanda: UserId,
    gustavo: UserId,
}

const ANA: &str = "ana@padaria.example";
const BRUNO: &str = "bruno@mercado.example";
const FERNANDA: &str = "fernanda@suporte.example";
const GUSTAVO: &str = "gustavo@suporte.example";
const HELENA: &str = "helena@suporte.example";

async fn desk(tc: &TestApp) -> Desk {
    let padaria = tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let mercado = tc.create_org("Mercado Bom Preço", "org-mercado").await;
    let ana = user(tc, ANA, "Ana Souza", Role::Customer, &["org-padaria"]).await;
    let bruno = user(tc, BRUNO, "Bruno Lima", Role::Customer, &["org-mercado"]).await;
    let fernanda = user(tc, FERNANDA, "Fernanda Agente", Role::Agent, &[]).await;
    let gustavo = user(tc, GUSTAVO, "Gustavo Agente", Role::Agent, &[]).await;
    user(tc, HELENA, "Helena Admin", Role::Admin, &[]).await;
    Desk {
        padaria,
        mercado,
        ana,
        bruno,
        fernanda,
        gustavo,
    }
}

/// A ticket opened a minute after the previous one, so orders are stable.
async fn opened(tc: &TestApp, requester: UserId, org: OrgId, subject: &str) -> TicketId {
    tc.clock.advance(SignedDuration::from_mins(1));
    ticket(tc, requester, Some(org), subject, "Descrição do problema").await
}

async fn version_of(tc: &TestApp, id: TicketId) -> i64 {
    store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap()
        .version
}

async fn event_kinds(tc: &TestApp, id: TicketId) -> Vec<EventKind> {
    store::events::for_ticket(&tc.state.db, id)
        .await
        .unwrap()
        .iter()
        .filter_map(store::events::TicketEvent::kind)
        .collect()
}

/// The count a queue shows in the sidebar.
pub fn queue_count(body: &str, queue: &str) -> i64 {
    crate::portal::count_after(body, &format!("data-count=\"{queue}\">"))
}

async fn group(tc: &TestApp, member: UserId, name: &str) -> i64 {
    store::users::add_to_group(&tc.state.db, member, name, tc.clock.now())
        .await
        .unwrap()
        .0
}

/// Posts a url-encoded form with the browser's CSRF token.
async fn post(browser: &mut Browser<'_>, path: &str, fields: &[(&str, &str)]) -> TestResponse {
    let token = csrf(browser).await;
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    browser.post_form(path, &all).await
}

/// Posts the ticket page's reply/note form.
async fn compose(
    browser: &mut Browser<'_>,
    id: TicketId,
    version: i64,
    fields: &[(&str, &str)],
    files: &[FilePart<'_>],
) -> TestResponse {
    let token = csrf(browser).await;
    let version = version.to_string();
    let mut all = vec![("version", version.as_str())];
    all.extend_from_slice(fields);
    post_multipart(
        browser,
        &format!("/agent/tickets/{}/comments", id.0),
        Some(&token),
        &all,
        files,
    )
    .await
}

async fn set_status(
    browser: &mut Browser<'_>,
    id: TicketId,
    version: i64,
    to: &str,
) -> TestResponse {
    post(
        browser,
        &format!("/agent/tickets/{}/status", id.0),
        &[("version", &version.to_string()), ("status", to)],
    )
    .await
}

async fn escalate(
    browser: &mut Browser<'_>,
    id: TicketId,
    version: i64,
    note: &str,
) -> TestResponse {
    post(
        browser,
        &format!("/agent/tickets/{}/escalation", id.0),
        &[("version", &version.to_string()), ("note", note)],
    )
    .await
}

fn assert_redirect(response: &TestResponse, to: &str) {
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "expected a redirect: {}",
        response.body
    );
    assert!(
        response.location().unwrap_or_default().starts_with(to),
        "{:?}",
        response.location()
    );
}

// ---------------------------------------------------------------------------
// Queues

#[tokio::test]
async fn queues_list_tickets_by_status_each_with_its_count() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let sent = opened(&tc, d.ana, d.padaria, "Nota fiscal rejeitada").await;
    let working = opened(&tc, d.ana, d.padaria, "Impressora parada").await;
    let tech = opened(&tc, d.bruno, d.mercado, "Erro 500 no caixa").await;
    let waiting = opened(&tc, d.bruno, d.mercado, "Dúvida sobre boletos").await;
    let solved = opened(&tc, d.ana, d.padaria, "Senha esquecida").await;
    let abandoned = opened(&tc, d.ana, d.padaria, "Sem resposta").await;
    move_to(&tc, working, TicketStatus::InProgress).await;
    move_to(&tc, tech, TicketStatus::WithTech).await;
    move_to(&tc, waiting, TicketStatus::AwaitingReply).await;
    move_to(&tc, solved, TicketStatus::Solved).await;
    move_to(&tc, abandoned, TicketStatus::AbandonedTriage).await;
    let mut agent = signed_in(&tc, FERNANDA).await;

    let all = agent.get("/agent").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body.contains("Todos os tickets"));
    assert_eq!(
        listed(&all.body),
        [abandoned.0, solved.0, waiting.0, tech.0, working.0, sent.0]
    );
    for (queue, label, id) in [
        ("sent", "Enviados", sent),
        ("in_progress", "Em Tratativa", working),
        ("with_tech", "Com o Time de Tech", tech),
        ("awaiting_reply", "Aguardando Resposta", waiting),
        ("solved", "Solucionados", solved),
        ("abandoned_triage", "Abandono na Triagem", abandoned),
    ] {
        assert_eq!(queue_count(&all.body, queue), 1, "{queue}");
        assert!(all.body.contains(label), "{label}");
        let page = agent.get(&format!("/agent?queue={queue}")).await;
        assert_eq!(listed(&page.body), [id.0], "{queue}");
        assert!(page.body.contains("aria-current=\"page\""));
    }
    assert_eq!(queue_count(&all.body, "all"), 6);
    // Unsolved and unassigned: sent, in progress, with tech, awaiting reply.
    assert_eq!(queue_count(&all.body, "unassigned"), 4);
    assert_eq!(queue_count(&all.body, "mine"), 0);
    assert!(all.body.contains("Meus tickets") && all.body.contains("Sem responsável"));
}

#[tokio::test]
async fn my_tickets_and_unassigned_hold_only_unsolved_tickets() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let mine_open = opened(&tc, d.ana, d.padaria, "Minha aberta").await;
    let mine_solved = opened(&tc, d.ana, d.padaria, "Minha solucionada").await;
    let theirs = opened(&tc, d.ana, d.padaria, "Do Gustavo").await;
    let nobody = opened(&tc, d.bruno, d.mercado, "De ninguém").await;
    let nobody_solved = opened(&tc, d.bruno, d.mercado, "De ninguém, solucionada").await;
    for (id, assignee) in [
        (mine_open, d.fernanda),
        (mine_solved, d.fernanda),
        (theirs, d.gustavo),
    ] {
        let change = store::agent::Assignment {
            assignee: Some((None, Some(assignee.0))),
            group: None,
        };
        store::agent::assign(&tc.state.db, id, 1, change, d.fernanda, tc.clock.now())
            .await
            .unwrap();
    }
    move_to(&tc, mine_solved, TicketStatus::Solved).await;
    move_to(&tc, nobody_solved, TicketStatus::Solved).await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let mine = agent.get("/agent?queue=mine").await;
    assert_eq!(listed(&mine.body), [mine_open.0]);
    assert_eq!(queue_count(&mine.body, "mine"), 1);
    assert!(
        mine.body
            .contains("Atribuídos a você e ainda não solucionados.")
    );
    let unassigned = agent.get("/agent?queue=unassigned").await;
    assert_eq!(listed(&unassigned.body), [nobody.0]);
    assert_eq!(queue_count(&unassigned.body, "unassigned"), 1);
    // Gustavo's queue is his own.
    let mut other = signed_in(&tc, GUSTAVO).await;
    assert_eq!(
        listed(&other.get("/agent?queue=mine").await.body),
        [theirs.0]
    );
}

#[tokio::test]
async fn queues_filter_by_organization_type_group_assignee_and_requester() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let tech = group(&tc, d.gustavo, "Tech").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let incident = typed_ticket(
        &tc,
        d.ana,
        Some(d.padaria),
        "Caiu tudo",
        "x",
        TicketType::Incident,
    )
    .await;
    let support = opened(&tc, d.ana, d.padaria, "Como emitir boleto").await;
    let other_org = opened(&tc, d.bruno, d.mercado, "Caixa travado").await;
    let change = store::agent::Assignment {
        assignee: Some((None, Some(d.gustavo.0))),
        group: Some((None, Some(tech))),
    };
    store::agent::assign(
        &tc.state.db,
        other_org,
        1,
        change,
        d.fernanda,
        tc.clock.now(),
    )
    .await
    .unwrap();
    let mut agent = signed_in(&tc, FERNANDA).await;

    let by_org = agent.get(&format!("/agent?org={}", d.padaria.0)).await;
    assert_eq!(listed(&by_org.body), [support.0, incident.0]);
    assert_eq!(queue_count(&by_org.body, "all"), 2);
    assert_eq!(queue_count(&by_org.body, "sent"), 2);
    let by_type = agent.get("/agent?type=incident").await;
    assert_eq!(listed(&by_type.body), [incident.0]);
    let by_group = agent.get(&format!("/agent?group={tech}")).await;
    assert_eq!(listed(&by_group.body), [other_org.0]);
    let no_group = agent.get("/agent?group=none").await;
    assert_eq!(listed(&no_group.body), [support.0, incident.0]);
    let by_assignee = agent.get(&format!("/agent?assignee={}", d.gustavo.0)).await;
    assert_eq!(listed(&by_assignee.body), [other_org.0]);
    let nobody = agent.get("/agent?assignee=none").await;
    assert_eq!(listed(&nobody.body), [support.0, incident.0]);
    let by_requester = agent.get(&format!("/agent?requester={}", d.bruno.0)).await;
    assert_eq!(listed(&by_requester.body), [other_org.0]);
    assert!(by_requester.body.contains("Solicitante: Bruno Lima"));
    let by_name = agent.get("/agent?who=ana%20souza").await;
    assert_eq!(listed(&by_name.body), [support.0, incident.0]);
    let by_email = agent.get("/agent?who=mercado.example").await;
    assert_eq!(listed(&by_email.body), [other_org.0]);
    // Filters combine, and the queue counts follow them.
    let combined = agent
        .get(&format!(
            "/agent?queue=sent&org={}&type=support",
            d.padaria.0
        ))
        .await;
    assert_eq!(listed(&combined.body), [support.0]);
    assert_eq!(queue_count(&combined.body, "sent"), 1);
    // The filters stay in the form.
    assert!(
        combined
            .body
            .contains(&format!("<option value=\"{}\" selected>", d.padaria.0))
    );
    assert!(
        combined
            .body
            .contains("<option value=\"support\" selected>")
    );
}

#[tokio::test]
async fn search_covers_subject_description_replies_and_internal_notes() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let by_subject = opened(&tc, d.ana, d.padaria, "Certificado vencido").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let by_description = ticket(
        &tc,
        d.ana,
        Some(d.padaria),
        "Outro assunto",
        "O certificado digital expirou",
    )
    .await;
    let by_note = opened(&tc, d.bruno, d.mercado, "Lentidão").await;
    internal_note(&tc, by_note, "Parece ser o CERTIFICADO do servidor").await;
    let unrelated = opened(&tc, d.bruno, d.mercado, "Impressora").await;
    internal_note(&tc, unrelated, "Nada a ver").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let found = agent.get("/agent?q=certificado").await;
    assert_eq!(
        listed(&found.body),
        [by_note.0, by_description.0, by_subject.0]
    );
    assert_eq!(queue_count(&found.body, "all"), 3);
    // Typed wildcards match literally.
    assert!(listed(&agent.get("/agent?q=%25").await.body).is_empty());
    // The customer's own search never looks into internal notes.
    let mut bruno = signed_in(&tc, BRUNO).await;
    let theirs = bruno.get("/portal/tickets?q=certificado").await;
    assert!(listed(&theirs.body).is_empty());
}

#[tokio::test]
async fn queues_sort_both_ways_and_page_by_25() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(opened(&tc, d.ana, d.padaria, &format!("Ticket {n}")).await);
    }
    // The oldest ticket is the most recently updated.
    tc.clock.advance(SignedDuration::from_mins(1));
    internal_note(&tc, ids[0], "mexido por último").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let first = agent.get("/agent").await;
    let newest: Vec<i64> = ids.iter().rev().take(25).map(|i| i.0).collect();
    assert_eq!(listed(&first.body), newest);
    assert!(pager_link(&first.body, "prev").is_none());
    let next = pager_link(&first.body, "next").unwrap();
    let second = agent.get(&next).await;
    let rest: Vec<i64> = ids.iter().rev().skip(25).map(|i| i.0).collect();
    assert_eq!(listed(&second.body), rest);
    assert!(pager_link(&second.body, "next").is_none());
    let back = agent.get(&pager_link(&second.body, "prev").unwrap()).await;
    assert_eq!(listed(&back.body), newest);

    let oldest_first = agent.get("/agent?dir=asc").await;
    assert_eq!(listed(&oldest_first.body)[..2], [ids[0].0, ids[1].0]);
    let updated = agent.get("/agent?sort=updated").await;
    assert_eq!(listed(&updated.body)[0], ids[0].0);
    let updated_asc = agent.get("/agent?sort=updated&dir=asc").await;
    assert_eq!(listed(&updated_asc.body)[0], ids[1].0);
    // Pages keep the sort.
    let next = pager_link(&updated_asc.body, "next").unwrap();
    assert!(next.contains("sort=updated") && next.contains("dir=asc"));
    assert_eq!(
        *listed(&agent.get(&next).await.body).last().unwrap(),
        ids[0].0
    );
}

// ---------------------------------------------------------------------------
// The ticket page

#[tokio::test]
async fn ticket_page_shows_what_the_customer_sees_plus_notes_files_and_history() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Nota fiscal rejeitada").await;
    attach(&tc, id, None, "erro.png", "image/png", b"png").await;
    let older = opened(&tc, d.ana, d.padaria, "Pedido antigo").await;
    let colleague = opened(&tc, d.bruno, d.mercado, "De outra empresa").await;
    tc.clock.advance(SignedDuration::from_hours(2));
    move_to(&tc, id, TicketStatus::InProgress).await;
    let note = internal_note(&tc, id, "Cliente usa certificado A1").await;
    attach(&tc, id, Some(note), "log-interno.txt", "text/plain", b"log").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    for expected in [
        "Nota fiscal rejeitada",
        "Em Tratativa",
        "Ana Souza",
        "ana@padaria.example",
        "Padaria Pão Dourado",
        "Tempo em cada status",
        "<svg",
        "Descrição do problema",
        "erro.png",
        "log-interno.txt",
        "Cliente usa certificado A1",
        "Nota interna",
        "class=\"comment internal\"",
        "Histórico",
        "Outros tickets do solicitante",
        "Outros tickets da organização",
    ] {
        assert!(body.contains(expected), "missing {expected}");
    }
    // The requester's and the organization's other tickets, as links.
    assert!(body.contains(&format!("href=\"/agent/tickets/{}\"", older.0)));
    assert!(!body.contains(&format!("href=\"/agent/tickets/{}\"", colleague.0)));
    assert!(body.contains(&format!("/agent?requester={}", d.ana.0)));
    assert!(body.contains(&format!("/agent?org={}", d.padaria.0)));
    // Every file downloads here, the internal note's too.
    let files = store::agent::attachments(&tc.state.db, id.0).await.unwrap();
    for file in &files {
        let download = agent
            .get(&format!("/agent/tickets/{}/attachments/{}", id.0, file.id))
            .await;
        assert_eq!(download.status, StatusCode::OK);
        let disposition = download.headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
    }
    // A file of another ticket is not found under this one.
    let elsewhere = attach(
        &tc,
        colleague,
        None,
        "outro.pdf",
        "application/pdf",
        b"%PDF",
    )
    .await;
    let wrong = agent
        .get(&format!("/agent/tickets/{}/attachments/{elsewhere}", id.0))
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(
        agent.get("/agent/tickets/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        agent.get("/agent/tickets/abc").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn internal_notes_and_their_files_never_reach_the_customer() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Erro na emissão").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let note = compose(
        &mut agent,
        id,
        1,
        &[
            ("visibility", "internal"),
            ("body", "Segredo: o banco do cliente está fora do ar"),
        ],
        &[FilePart::new(
            "diagnostico.txt",
            "text/plain",
            b"stack trace",
        )],
    )
    .await;
    assert_redirect(&note, &format!("/agent/tickets/{}?done=note", id.0));
    let reply = compose(
        &mut agent,
        id,
        2,
        &[
            ("visibility", "public"),
            ("body", "Estamos verificando, Ana."),
        ],
        &[FilePart::new(
            "passo-a-passo.pdf",
            "application/pdf",
            b"%PDF",
        )],
    )
    .await;
    assert_redirect(&reply, &format!("/agent/tickets/{}?done=reply", id.0));
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    assert!(page.body.contains("Segredo: o banco do cliente"));
    assert!(page.body.contains("diagnostico.txt"));

    let mut ana = signed_in(&tc, ANA).await;
    let seen = ana.get(&format!("/portal/tickets/{}", id.0)).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("Estamos verificando, Ana."));
    assert!(seen.body.contains("passo-a-passo.pdf"));
    assert!(!seen.body.contains("Segredo"));
    assert!(!seen.body.contains("diagnostico.txt"));
    assert!(!seen.body.contains("Nota interna"));
    // Nor by the file's address in the portal, nor in the agent workspace.
    let files = store::agent::attachments(&tc.state.db, id.0).await.unwrap();
    let internal = files
        .iter()
        .find(|f| f.file_name == "diagnostico.txt")
        .unwrap();
    for path in [
        format!("/portal/tickets/{}/attachments/{}", id.0, internal.id),
        format!("/agent/tickets/{}/attachments/{}", id.0, internal.id),
    ] {
        assert_eq!(ana.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    // The agent's public reply did not change the status.
    assert_eq!(status_of(&tc, id).await, TicketStatus::Sent);
}

#[tokio::test]
async fn a_reply_changes_the_status_only_when_chosen_in_the_same_form() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Dúvida sobre relatório").await;
    move_to(&tc, id, TicketStatus::InProgress).await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    assert!(
        page.body
            .contains("Enviar e marcar Aguardando Sua Resposta")
    );
    let version = version_of(&tc, id).await;
    let plain = compose(
        &mut agent,
        id,
        version,
        &[
            ("visibility", "public"),
            ("body", "Pode conferir?"),
            ("then", ""),
        ],
        &[],
    )
    .await;
    assert_redirect(&plain, &format!("/agent/tickets/{}?done=reply", id.0));
    assert_eq!(status_of(&tc, id).await, TicketStatus::InProgress);
    let version = version_of(&tc, id).await;
    let and_wait = compose(
        &mut agent,
        id,
        version,
        &[
            ("visibility", "public"),
            ("body", "Aguardamos seu retorno."),
            ("then", "awaiting_reply"),
        ],
        &[],
    )
    .await;
    assert_redirect(
        &and_wait,
        &format!("/agent/tickets/{}?done=reply_status", id.0),
    );
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);
    let events = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.actor_kind.as_str(), last.actor_id),
        ("agent", Some(d.fernanda.0))
    );
    // The customer sees the new status.
    let mut ana = signed_in(&tc, ANA).await;
    let seen = ana.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(seen.body.contains("Aguardando Sua Resposta"));
    assert!(seen.body.contains("Aguardamos seu retorno."));
}

#[tokio::test]
async fn a_message_without_text_is_refused_and_nothing_is_written() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Vazio").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let comments = count_rows(&tc.state.db, "comments").await;
    let files = count_rows(&tc.state.db, "attachments").await;
    let response = compose(
        &mut agent,
        id,
        1,
        &[("visibility", "internal"), ("body", "   ")],
        &[FilePart::new("x.txt", "text/plain", b"x")],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Preencha este campo."));
    assert_eq!(count_rows(&tc.state.db, "comments").await, comments);
    assert_eq!(count_rows(&tc.state.db, "attachments").await, files);
    assert_eq!(version_of(&tc, id).await, 1);
}

// ---------------------------------------------------------------------------
// Status, assignment, escalation

#[tokio::test]
async fn status_changes_follow_the_agent_rules() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Mudar status").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    // The select offers every status agents may move a sent ticket to.
    for allowed in ["in_progress", "with_tech", "awaiting_reply", "solved"] {
        assert!(page.body.contains(&format!("<option value=\"{allowed}\">")));
    }
    assert!(!page.body.contains("<option value=\"abandoned_triage\">"));
    let moved = set_status(&mut agent, id, 1, "in_progress").await;
    assert_redirect(&moved, &format!("/agent/tickets/{}?done=status", id.0));
    assert_eq!(status_of(&tc, id).await, TicketStatus::InProgress);
    assert_eq!(version_of(&tc, id).await, 2);
    assert!(
        agent
            .get(&format!("/agent/tickets/{}?done=status", id.0))
            .await
            .body
            .contains("Status alterado.")
    );

    // Refused: into abandoned triage, and to the same status.
    let status_rows = count_rows(&tc.state.db, "status_events").await;
    let events = count_rows(&tc.state.db, "ticket_events").await;
    for (to, message) in [
        ("abandoned_triage", "Essa mudança de status não é permitida"),
        ("in_progress", "O ticket já está nesse status."),
        ("closed", "Escolha uma das opções."),
    ] {
        let refused = set_status(&mut agent, id, 2, to).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{to}");
        assert!(refused.body.contains(message), "{to}");
        assert!(refused.body.contains("Nada foi salvo."));
    }
    assert_eq!(status_of(&tc, id).await, TicketStatus::InProgress);
    assert_eq!(version_of(&tc, id).await, 2);
    assert_eq!(count_rows(&tc.state.db, "status_events").await, status_rows);
    assert_eq!(count_rows(&tc.state.db, "ticket_events").await, events);
}

#[tokio::test]
async fn a_ticket_abandoned_in_triage_offers_no_status_change() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Abandonado").await;
    move_to(&tc, id, TicketStatus::AbandonedTriage).await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    assert!(page.body.contains("não muda mais de status"));
    assert!(!page.body.contains("name=\"status\""));
    assert!(!page.body.contains("/escalation\""));
    let version = version_of(&tc, id).await;
    let refused = set_status(&mut agent, id, version, "in_progress").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = escalate(&mut agent, id, version, "Tentativa").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(status_of(&tc, id).await, TicketStatus::AbandonedTriage);
}

#[tokio::test]
async fn assignment_sets_an_agent_and_a_group() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let suporte = group(&tc, d.fernanda, "Suporte").await;
    let id = opened(&tc, d.ana, d.padaria, "Atribuir").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    // Agents and admins are offered; customers are not.
    assert!(page.body.contains("Gustavo Agente") && page.body.contains("Helena Admin"));
    assert!(page.body.contains(">Gustavo Agente</option>"));
    assert!(!page.body.contains(">Ana Souza</option>"));
    let done = post(
        &mut agent,
        &format!("/agent/tickets/{}/assignment", id.0),
        &[
            ("version", "1"),
            ("assignee", &d.gustavo.0.to_string()),
            ("group", &suporte.to_string()),
        ],
    )
    .await;
    assert_redirect(&done, &format!("/agent/tickets/{}?done=assigned", id.0));
    let stored = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.assignee_id, Some(d.gustavo.0));
    assert_eq!(stored.group_id, Some(suporte));
    assert_eq!(stored.version, 2);
    assert_eq!(
        event_kinds(&tc, id).await,
        [
            EventKind::Created,
            EventKind::AssigneeChanged,
            EventKind::GroupChanged
        ]
    );
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    assert!(
        page.body
            .contains("Fernanda Agente atribuiu o ticket a Gustavo Agente")
    );
    assert!(
        page.body
            .contains("Fernanda Agente colocou o ticket no grupo Suporte")
    );
    // The same choice again writes nothing.
    let same = post(
        &mut agent,
        &format!("/agent/tickets/{}/assignment", id.0),
        &[
            ("version", "2"),
            ("assignee", &d.gustavo.0.to_string()),
            ("group", &suporte.to_string()),
        ],
    )
    .await;
    assert_redirect(&same, &format!("/agent/tickets/{}?done=unchanged", id.0));
    assert_eq!(version_of(&tc, id).await, 2);
    // A customer cannot be made the assignee; an unknown group is refused.
    for (assignee, group_id) in [
        (d.ana.0.to_string(), String::new()),
        (String::new(), "999".to_owned()),
    ] {
        let refused = post(
            &mut agent,
            &format!("/agent/tickets/{}/assignment", id.0),
            &[
                ("version", "2"),
                ("assignee", &assignee),
                ("group", &group_id),
            ],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(version_of(&tc, id).await, 2);
    // Unassigning goes back to no one and no group.
    let cleared = post(
        &mut agent,
        &format!("/agent/tickets/{}/assignment", id.0),
        &[("version", "2"), ("assignee", ""), ("group", "")],
    )
    .await;
    assert_redirect(&cleared, &format!("/agent/tickets/{}?done=assigned", id.0));
    let stored = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.assignee_id, stored.group_id), (None, None));
}

#[tokio::test]
async fn escalating_sets_status_group_and_note_in_one_change() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Erro 500 ao emitir").await;
    move_to(&tc, id, TicketStatus::InProgress).await;
    // No Tech group yet: the first escalation creates it.
    assert!(store::agent::groups(&tc.state.db).await.unwrap().is_empty());
    let mut agent = signed_in(&tc, FERNANDA).await;
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    assert!(page.body.contains("Escalar para Tech"));
    let version = version_of(&tc, id).await;
    let before = event_kinds(&tc, id).await.len();
    let done = escalate(
        &mut agent,
        id,
        version,
        "Reproduzido: erro no serviço fiscal.",
    )
    .await;
    assert_redirect(&done, &format!("/agent/tickets/{}?done=escalated", id.0));

    let stored = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status(), TicketStatus::WithTech);
    let groups = store::agent::groups(&tc.state.db).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, "Tech");
    assert_eq!(stored.group_id, Some(groups[0].id));
    assert_eq!(stored.version, version + 1);
    let comments = store::agent::comments(&tc.state.db, id.0).await.unwrap();
    let note = comments.last().unwrap();
    assert_eq!(note.body, "Reproduzido: erro no serviço fiscal.");
    assert!(!note.public);
    assert_eq!(note.author_id, Some(d.fernanda.0));
    assert_eq!(
        event_kinds(&tc, id).await[before..],
        [
            EventKind::StatusChanged,
            EventKind::GroupChanged,
            EventKind::CommentAdded
        ]
    );
    let last = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (last.from_status.as_deref(), last.to_status.as_str()),
        (Some("in_progress"), "with_tech")
    );
    let page = agent
        .get(&format!("/agent/tickets/{}?done=escalated", id.0))
        .await;
    assert!(page.body.contains("Ticket escalado para o time de Tech."));
    assert!(page.body.contains("O ticket já está com o time de Tech."));
    // A second escalation reuses the group.
    move_to(&tc, id, TicketStatus::InProgress).await;
    let again = escalate(&mut agent, id, version_of(&tc, id).await, "De novo").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(store::agent::groups(&tc.state.db).await.unwrap().len(), 1);
    // The customer sees the status, never the note.
    let mut ana = signed_in(&tc, ANA).await;
    let seen = ana.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(seen.body.contains("Em Tratativa com o Time de Tech"));
    assert!(!seen.body.contains("serviço fiscal"));
}

#[tokio::test]
async fn escalating_without_a_note_writes_nothing() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Sem nota").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let tables = ["comments", "status_events", "ticket_events", "groups"];
    let mut before = Vec::new();
    for table in tables {
        before.push(count_rows(&tc.state.db, table).await);
    }
    let refused = escalate(&mut agent, id, 1, "  \n ").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Escreva a nota interna para o time de Tech")
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    for (table, count) in tables.iter().zip(before) {
        assert_eq!(count_rows(&tc.state.db, table).await, count, "{table}");
    }
    let stored = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.status(), stored.group_id, stored.version),
        (TicketStatus::Sent, None, 1)
    );
}

// ---------------------------------------------------------------------------
// Audit trail

#[tokio::test]
async fn the_audit_trail_says_who_changed_what_and_when_in_the_agents_language() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Histórico").await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    tc.clock.advance(SignedDuration::from_mins(3));
    set_status(&mut agent, id, 1, "in_progress").await;
    compose(
        &mut agent,
        id,
        2,
        &[("visibility", "internal"), ("body", "Vendo os logs")],
        &[],
    )
    .await;
    escalate(&mut agent, id, 3, "Precisa do Tech").await;
    let mut ana = signed_in(&tc, ANA).await;
    request_contact(&mut ana, id, &CONTACT).await;
    let page = agent.get(&format!("/agent/tickets/{}", id.0)).await;
    let body = unescape(&page.body);
    let trail = &body[body.find("id=\"audit\"").unwrap()..];
    let lines = [
        "Ana Souza abriu o ticket",
        "Fernanda Agente mudou o status de Enviado para Em Tratativa",
        "Fernanda Agente escreveu uma nota interna",
        "Fernanda Agente mudou o status de Em Tratativa para Em Tratativa com o Time de Tech",
        "Fernanda Agente colocou o ticket no grupo Tech",
        "Ana Souza pediu contato da equipe",
    ];
    let mut from = 0;
    for line in lines {
        let at = trail[from..]
            .find(line)
            .unwrap_or_else(|| panic!("{line} missing or out of order"));
        from += at + line.len();
    }
    // When: in the agent's time zone (São Paulo, UTC-3), pt-BR format.
    assert!(trail.contains("10/03/2026 14:04"));

    // In English once the agent switches language.
    agent
        .submit("/portal/account", "/language", &[("lang", "en")])
        .await;
    let english = unescape(&agent.get(&format!("/agent/tickets/{}", id.0)).await.body);
    assert!(english.contains("History"));
    assert!(english.contains("Fernanda Agente changed the status from Sent to In progress"));
    assert!(english.contains("Internal note"));
    assert!(english.contains("Mar 10, 2026"));
}

// ---------------------------------------------------------------------------
// Contact requests

#[tokio::test]
async fn contact_requests_are_queued_and_handling_one_shows_it_as_atendida() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Quero falar com alguém").await;
    let mut ana = signed_in(&tc, ANA).await;
    request_contact(&mut ana, id, &CONTACT).await;
    tc.clock.advance(SignedDuration::from_mins(90));
    let mut agent = signed_in(&tc, FERNANDA).await;
    let queue = agent.get("/agent/contact-requests").await;
    assert_eq!(queue.status, StatusCode::OK);
    let body = unescape(&queue.body);
    for expected in [
        "Solicitações de contato",
        "1 h 30 min",
        "Telefone",
        "(11) 98765-4321",
        "dias úteis, das 14h às 17h",
        "Prefiro falar com a Joana",
        "Ana Souza",
        "Quero falar com alguém",
    ] {
        assert!(body.contains(expected), "missing {expected}");
    }
    assert!(body.contains(&format!("href=\"/agent/tickets/{}\"", id.0)));
    assert_eq!(
        queue_count(&agent.get("/agent").await.body, "contact_requests"),
        1
    );
    let request = store::agent::open_contact_requests(&tc.state.db, 10)
        .await
        .unwrap()
        .pop()
        .unwrap();

    // A note is required.
    let refused = post(
        &mut agent,
        &format!("/agent/contact-requests/{}/handled", request.id),
        &[("note", " ")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Preencha este campo."));
    let handled = post(
        &mut agent,
        &format!("/agent/contact-requests/{}/handled", request.id),
        &[("note", "Liguei às 15h e expliquei a emissão.")],
    )
    .await;
    assert_redirect(&handled, "/agent/contact-requests?done=handled");
    let queue = agent.get("/agent/contact-requests?done=handled").await;
    assert!(
        queue
            .body
            .contains("Nenhuma solicitação de contato aberta.")
    );
    assert!(queue.body.contains("marcada como atendida"));
    // The team sees who handled it and the note; the customer sees "Atendida".
    let page = unescape(&agent.get(&format!("/agent/tickets/{}", id.0)).await.body);
    assert!(page.contains("Atendida por Fernanda Agente"));
    assert!(page.contains("Liguei às 15h e expliquei a emissão."));
    let seen = ana.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(seen.body.contains("Atendida"));
    assert!(!seen.body.contains("Liguei às 15h"));
    // Handling it again says someone already did.
    let again = post(
        &mut agent,
        &format!("/agent/contact-requests/{}/handled", request.id),
        &[("note", "De novo")],
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("já foi atendida por outra pessoa"));
    assert_eq!(
        post(
            &mut agent,
            "/agent/contact-requests/999999/handled",
            &[("note", "x")]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_contact_request_can_be_handled_from_the_ticket_page() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Contato pelo ticket").await;
    let mut ana = signed_in(&tc, ANA).await;
    request_contact(&mut ana, id, &CONTACT).await;
    let mut agent = signed_in(&tc, FERNANDA).await;
    let request = store::agent::open_contact_requests(&tc.state.db, 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let refused = post(
        &mut agent,
        &format!("/agent/contact-requests/{}/handled", request.id),
        &[("note", ""), ("from", "ticket")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Contato pelo ticket"));
    let done = post(
        &mut agent,
        &format!("/agent/contact-requests/{}/handled", request.id),
        &[("note", "Resolvido por telefone"), ("from", "ticket")],
    )
    .await;
    assert_redirect(
        &done,
        &format!("/agent/tickets/{}?done=contact_handled", id.0),
    );
    assert!(
        ana.get(&format!("/portal/tickets/{}", id.0))
            .await
            .body
            .contains("Atendida")
    );
}

// ---------------------------------------------------------------------------
// Concurrent edits

#[tokio::test]
async fn when_two_agents_change_the_same_ticket_the_second_is_told_and_the_first_stands() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Disputado").await;
    let mut fernanda = signed_in(&tc, FERNANDA).await;
    let mut gustavo = signed_in(&tc, GUSTAVO).await;
    // Both open the page at version 1.
    for browser in [&mut fernanda, &mut gustavo] {
        let page = browser.get(&format!("/agent/tickets/{}", id.0)).await;
        assert!(page.body.contains("name=\"version\" value=\"1\""));
    }
    let first = set_status(&mut fernanda, id, 1, "awaiting_reply").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let events = count_rows(&tc.state.db, "ticket_events").await;

    let second = set_status(&mut gustavo, id, 1, "solved").await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(
        second
            .body
            .contains("Outra pessoa alterou este ticket enquanto você trabalhava nele.")
    );
    // The page shows the current ticket, ready for a new attempt.
    assert!(second.body.contains("Aguardando Sua Resposta"));
    assert!(second.body.contains("name=\"version\" value=\"2\""));
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);

    // Every other form is refused the same way, keeping what was typed.
    let reply = compose(
        &mut gustavo,
        id,
        1,
        &[("visibility", "public"), ("body", "Texto que não se perde")],
        &[FilePart::new("a.txt", "text/plain", b"a")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("Texto que não se perde</textarea>"));
    let assign = post(
        &mut gustavo,
        &format!("/agent/tickets/{}/assignment", id.0),
        &[
            ("version", "1"),
            ("assignee", &d.gustavo.0.to_string()),
            ("group", ""),
        ],
    )
    .await;
    assert_eq!(assign.status, StatusCode::CONFLICT);
    let escalation = escalate(&mut gustavo, id, 1, "Nota do Gustavo").await;
    assert_eq!(escalation.status, StatusCode::CONFLICT);
    assert!(escalation.body.contains("Nota do Gustavo</textarea>"));

    let stored = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            stored.status(),
            stored.assignee_id,
            stored.group_id,
            stored.version
        ),
        (TicketStatus::AwaitingReply, None, None, 2)
    );
    assert_eq!(count_rows(&tc.state.db, "ticket_events").await, events);
    assert_eq!(count_rows(&tc.state.db, "comments").await, 0);
    assert_eq!(count_rows(&tc.state.db, "attachments").await, 0);
}

#[tokio::test]
async fn racing_writes_on_two_nodes_let_exactly_one_through() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let id = opened(&tc, d.ana, d.padaria, "Corrida").await;
    let db = &tc.state.db;
    let now = tc.clock.now();
    let (a, b) = tokio::join!(
        store::agent::change_status(
            db,
            id,
            1,
            TicketStatus::Sent,
            TicketStatus::InProgress,
            d.fernanda,
            now
        ),
        store::agent::change_status(
            db,
            id,
            1,
            TicketStatus::Sent,
            TicketStatus::Solved,
            d.gustavo,
            now
        ),
    );
    assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    assert_eq!(version_of(&tc, id).await, 2);
    assert_eq!(
        store::tickets::status_events(db, id).await.unwrap().len(),
        2
    );
}

// ---------------------------------------------------------------------------
// Who may reach the workspace

/// Every workspace route, with a real ticket, attachment and contact
/// request in it.
async fn every_route(tc: &TestApp, d: &Desk) -> (Vec<String>, Vec<String>) {
    let id = opened(tc, d.ana, d.padaria, "Rota").await;
    let file = attach(tc, id, None, "a.txt", "text/plain", b"a").await;
    store::contacts::create(
        &tc.state.db,
        &store::contacts::NewContactRequest {
            ticket: id,
            requester: d.ana,
            channel: "phone",
            phone: "11987654321",
            preferred_window: "manhã",
            message: "",
        },
        tc.clock.now(),
    )
    .await
    .unwrap();
    let request = store::agent::open_contact_requests(&tc.state.db, 10)
        .await
        .unwrap()[0]
        .id;
    let gets = vec![
        "/agent".to_owned(),
        "/agent?queue=mine".to_owned(),
        format!("/agent/tickets/{}", id.0),
        format!("/agent/tickets/{}/attachments/{file}", id.0),
        "/agent/contact-requests".to_owned(),
    ];
    let posts = vec![
        format!("/agent/tickets/{}/comments", id.0),
        format!("/agent/tickets/{}/status", id.0),
        format!("/agent/tickets/{}/assignment", id.0),
        format!("/agent/tickets/{}/escalation", id.0),
        format!("/agent/contact-requests/{request}/handled"),
    ];
    (gets, posts)
}

#[tokio::test]
async fn every_agent_route_answers_customers_exactly_like_a_missing_page() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let (gets, posts) = every_route(&tc, &d).await;
    let mut ana = signed_in(&tc, ANA).await;
    let missing = ana.get("/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let missing = without_request_id(&missing.body);
    for path in &gets {
        let response = ana.get(path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(without_request_id(&response.body), missing, "{path}");
    }
    let token = csrf(&mut ana).await;
    let tables = ["comments", "status_events", "ticket_events", "groups"];
    let mut before = Vec::new();
    for table in tables {
        before.push(count_rows(&tc.state.db, table).await);
    }
    for path in &posts {
        let fields = [
            ("version", "1"),
            ("status", "solved"),
            ("note", "x"),
            ("body", "x"),
            ("visibility", "internal"),
            ("assignee", ""),
            ("group", ""),
        ];
        let form = post(&mut ana, path, &fields).await;
        assert_eq!(form.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(without_request_id(&form.body), missing, "{path}");
        let multipart = post_multipart(&mut ana, path, Some(&token), &fields, &[]).await;
        assert_eq!(multipart.status, StatusCode::NOT_FOUND, "{path}");
    }
    for (table, count) in tables.iter().zip(before) {
        assert_eq!(count_rows(&tc.state.db, table).await, count, "{table}");
    }
    assert_eq!(
        store::agent::open_contact_request_count(&tc.state.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_login() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let (gets, _) = every_route(&tc, &d).await;
    let mut visitor = tc.browser();
    for path in &gets {
        let response = visitor.get(path).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            response
                .location()
                .unwrap_or_default()
                .starts_with("/login?return_to="),
            "{path}"
        );
    }
}

#[tokio::test]
async fn admins_work_the_workspace_like_agents() {
    let tc = TestApp::new().await;
    let d = desk(&tc).await;
    let (gets, _) = every_route(&tc, &d).await;
    let mut admin = signed_in(&tc, HELENA).await;
    for path in &gets {
        assert_eq!(admin.get(path).await.status, StatusCode::OK, "{path}");
    }
    let id = TicketId(listed(&admin.get("/agent").await.body)[0]);
    let done = set_status(&mut admin, id, 1, "in_progress").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
}
