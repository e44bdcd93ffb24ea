//! An agent and a customer working one ticket, as the agent workspace's issue
//! describes it: the agent opens a ticket in *Enviado* from the "Enviados"
//! queue, escalates it to Tech with an internal note, then sets *Aguardando
//! Sua Resposta*; the customer sees the new status and the time in each
//! status, never the note, and replies, which puts the ticket back *Em
//! Tratativa*; the agent sees the reply. axe-core on the queue and on the
//! agent's ticket page.

use crate::{
    flows::{ANA, ANA_NAME},
    support::{Browser, run},
};

/// Fernanda Costa, an agent of the *Suporte* group.
const FERNANDA: &str = "fernanda@suporte.example";
const FERNANDA_NAME: &str = "Fernanda Costa";

const SENT: &str = "Enviado";
const IN_PROGRESS: &str = "Em Tratativa";
const WITH_TECH: &str = "Em Tratativa com o Time de Tech";
const AWAITING: &str = "Aguardando Sua Resposta";

/// What Fernanda writes for the tech team: only the team may ever read it.
const TECH_NOTE: &str = "Nota para Tech: erro reproduzido no ambiente de produção, \
                         ver log do serviço fiscal às 09h12. Código interno XQ-7731.";
/// A part of the note that appears nowhere else.
const TECH_NOTE_MARK: &str = "XQ-7731";
/// Ana's answer.
const ANA_REPLY: &str = "Conferi aqui: o problema continua acontecendo hoje pela manhã.";

const TICKET_ROWS: &str = "table.tickets tbody tr";
const NOTICE: &str = r#"p.notice[role="status"]"#;
const TIME_ROWS: &str = "#time-in-status table.times tbody tr";
const COMMENTS: &str = "#conversation ol.comments li.comment";
const LOGOUT: &str = r#"header form[action="/logout"] button[type="submit"]"#;

#[tokio::test]
async fn agent_escalates_and_asks_then_the_customer_replies() {
    run("agent-flow", |b| async move {
        sign_in_as(&b, FERNANDA, "/agent").await;
        assert_eq!(b.text(".user-name").await, FERNANDA_NAME);
        b.screenshot("01-agent-workspace").await;

        let sent_before = open_anas_sent_tickets(&b).await;
        b.axe_check().await;
        let id = open_a_sent_ticket(&b).await;
        b.axe_check().await;
        escalate_to_tech(&b, &id).await;
        ask_the_customer(&b, &id).await;
        b.axe_check().await;
        log_out(&b, "07-agent-logged-out").await;

        sign_in_as(&b, ANA, &format!("/portal/tickets/{id}")).await;
        customer_sees_the_new_status(&b, &id).await;
        customer_replies(&b, &id).await;
        log_out(&b, "10-customer-logged-out").await;

        sign_in_as(&b, FERNANDA, &format!("/agent/tickets/{id}")).await;
        agent_sees_the_reply(&b, &id, sent_before).await;
    })
    .await;
}

/// Signs in through the demo host platform as the person with this e-mail
/// and waits until the host sends the browser back to `return_to`.
async fn sign_in_as(b: &Browser, email: &str, return_to: &str) {
    b.goto(&format!(
        "/demo/host?return_to={}",
        return_to.replace('/', "%2F")
    ))
    .await;
    b.click_and_wait(&format!(
        r#"form[action="/demo/host/login"] button[data-email="{email}"]"#
    ))
    .await;
    b.wait_for_path(return_to).await;
}

/// The "Enviados" queue, then only Ana's tickets there. Returns the queue's
/// count before any of them is touched.
async fn open_anas_sent_tickets(b: &Browser) -> usize {
    let sent_queue = r#"nav.queues a[data-queue="sent"]"#;
    assert_eq!(
        b.text(&format!("{sent_queue} .queue-label")).await,
        "Enviados"
    );
    let sent_before = queue_count(b, "sent").await;
    assert!(sent_before > 0, "the demo has tickets in Enviado");
    b.click_and_wait(sent_queue).await;
    let url = b.wait_for_path("/agent").await;
    assert!(url.contains("queue=sent"), "on the Enviados queue: {url}");
    assert_eq!(b.text("main h1").await, "Enviados");
    assert_eq!(
        b.attr(sent_queue, "aria-current").await.as_deref(),
        Some("page"),
        "the sidebar marks the queue"
    );
    assert_eq!(
        statuses(b).await.iter().filter(|s| *s != SENT).count(),
        0,
        "only tickets in Enviado in the Enviados queue"
    );
    b.screenshot("02-sent-queue").await;

    b.fill(r#"form.filters input[name="who"]"#, ANA_NAME).await;
    b.click_and_wait(r#"form.filters button[type="submit"]"#)
        .await;
    let url = b.wait_for_path("/agent").await;
    assert!(
        url.contains("queue=sent") && url.contains("who=Ana"),
        "the queue and the requester filter: {url}"
    );
    let requesters = first_lines(b, 4).await;
    assert!(
        !requesters.is_empty(),
        "Ana has tickets in Enviado in the demo ({url})"
    );
    assert!(
        requesters.iter().all(|r| r == ANA_NAME),
        "only Ana's tickets: {requesters:?}"
    );
    let statuses = statuses(b).await;
    assert!(
        statuses.iter().all(|s| s == SENT),
        "still only Enviado: {statuses:?}"
    );
    b.screenshot("03-sent-queue-ana").await;
    sent_before
}

/// Opens the first of Ana's tickets from its row and returns its id.
async fn open_a_sent_ticket(b: &Browser) -> String {
    let id = b
        .attr(TICKET_ROWS, "data-ticket")
        .await
        .expect("the row's ticket id");
    let subject = b
        .text(&format!(
            r#"{TICKET_ROWS}[data-ticket="{id}"] td.subject a"#
        ))
        .await;
    b.click_and_wait(&format!(
        r#"{TICKET_ROWS}[data-ticket="{id}"] td.subject a"#
    ))
    .await;
    b.wait_for_path(&format!("/agent/tickets/{id}")).await;
    let heading = b.text("main h1").await;
    assert!(
        heading.starts_with(&format!("#{id}")) && heading.contains(&subject),
        "the heading names the ticket #{id} {subject:?}: {heading:?}"
    );
    assert_eq!(b.text("#ticket-status").await, SENT);
    let facts = facts(b).await;
    let requester = fact(&facts, "Solicitante");
    assert!(
        requester.starts_with(ANA_NAME) && requester.contains(ANA),
        "the requester, with her e-mail: {requester:?}"
    );
    assert_counting(b, SENT).await;
    assert_eq!(
        b.text("#escalate h2").await,
        "Escalar para Tech",
        "a ticket in Enviado can go to Tech"
    );
    b.screenshot("04-agent-ticket").await;
    id
}

/// Escalates with the internal note: one action, three changes.
async fn escalate_to_tech(b: &Browser, id: &str) {
    let comments_before = b.count(COMMENTS).await;
    b.fill("#escalation-note", TECH_NOTE).await;
    b.click_and_wait(r#"#escalate button[type="submit"]"#).await;
    let url = b.wait_for_path(&format!("/agent/tickets/{id}")).await;
    assert!(url.contains("done=escalated"), "after escalating: {url}");
    assert_eq!(b.text(NOTICE).await, "Ticket escalado para o time de Tech.");
    assert_eq!(b.text("#ticket-status").await, WITH_TECH);
    assert_eq!(b.text("#ticket-group").await, "Tech");
    assert_eq!(
        b.count(COMMENTS).await,
        comments_before + 1,
        "the note joins the conversation"
    );
    let last = format!("{COMMENTS}:last-child");
    let classes = b.attr(&last, "class").await.unwrap_or_default();
    assert!(
        classes.split_whitespace().any(|c| c == "internal"),
        "the note is drawn as internal: {classes:?}"
    );
    assert_eq!(
        b.text(&format!("{last} .badge.internal")).await,
        "Nota interna"
    );
    let note = b.text(&last).await;
    assert!(
        note.contains(FERNANDA_NAME) && note.contains(TECH_NOTE_MARK),
        "the note, signed: {note:?}"
    );
    assert_counting(b, WITH_TECH).await;
    assert!(
        b.text("#escalate")
            .await
            .contains("já está com o time de Tech"),
        "the escalation form is gone once the ticket is with Tech"
    );
    let audit = b.texts("#audit ol.audit li").await;
    for expected in [
        format!("{FERNANDA_NAME} mudou o status de {SENT} para {WITH_TECH}"),
        format!("{FERNANDA_NAME} colocou o ticket no grupo Tech"),
        format!("{FERNANDA_NAME} escreveu uma nota interna"),
    ] {
        assert!(
            audit.iter().any(|line| line.contains(&expected)),
            "{expected:?} in the audit trail {audit:?}"
        );
    }
    b.screenshot("05-escalated").await;
}

/// Sets *Aguardando Sua Resposta* through the status form.
async fn ask_the_customer(b: &Browser, id: &str) {
    choose_option(b, "#status-select", AWAITING).await;
    b.click_and_wait(r#"#status button[type="submit"]"#).await;
    let url = b.wait_for_path(&format!("/agent/tickets/{id}")).await;
    assert!(
        url.contains("done=status"),
        "after the status change: {url}"
    );
    assert_eq!(b.text(NOTICE).await, "Status alterado.");
    assert_eq!(b.text("#ticket-status").await, AWAITING);
    assert_eq!(b.text("#ticket-group").await, "Tech", "the group stays");
    assert_counting(b, AWAITING).await;
    b.screenshot("06-awaiting-reply").await;
}

/// Ana's view: the new status, the time in each status, and not a word of
/// the internal note.
async fn customer_sees_the_new_status(b: &Browser, id: &str) {
    assert_eq!(b.text(".user-name").await, ANA_NAME);
    let heading = b.text("main h1").await;
    assert!(heading.starts_with(&format!("#{id}")), "{heading:?}");
    assert_eq!(b.text("#ticket-status").await, AWAITING);
    assert_eq!(b.text("#time-in-status h2").await, "Tempo em cada status");
    let labels = b
        .texts(&format!("{TIME_ROWS} > td:first-child > .badge"))
        .await;
    assert_eq!(
        labels,
        [SENT, WITH_TECH, AWAITING],
        "a row for each status the ticket went through"
    );
    assert_counting(b, AWAITING).await;
    assert_eq!(
        b.count("form.reply textarea#reply-body").await,
        1,
        "she can answer"
    );
    let source = b.source().await;
    assert!(
        !source.contains(TECH_NOTE_MARK),
        "the internal note reached the customer's page"
    );
    assert!(
        !source.contains("Nota interna"),
        "the customer's page mentions an internal note"
    );
    b.screenshot("08-customer-awaiting").await;
}

/// Ana answers: the ticket goes back to the team.
async fn customer_replies(b: &Browser, id: &str) {
    b.fill("#reply-body", ANA_REPLY).await;
    b.click_and_wait(r#"form.reply button[type="submit"]"#)
        .await;
    let url = b.wait_for_path(&format!("/portal/tickets/{id}")).await;
    assert!(url.contains("done=reply"), "after the reply: {url}");
    assert_eq!(b.text(NOTICE).await, "Resposta enviada.");
    assert_eq!(b.text("#ticket-status").await, IN_PROGRESS);
    let said = b.text(&format!("{COMMENTS}:last-child")).await;
    assert!(
        said.contains(ANA_NAME) && said.contains(ANA_REPLY),
        "her reply in the conversation: {said:?}"
    );
    assert_counting(b, IN_PROGRESS).await;
    assert!(
        !b.source().await.contains(TECH_NOTE_MARK),
        "the internal note reached the customer's page"
    );
    b.screenshot("09-customer-replied").await;
}

/// The agent again: the reply, the status, and the ticket out of Enviados.
async fn agent_sees_the_reply(b: &Browser, id: &str, sent_before: usize) {
    assert_eq!(b.text("#ticket-status").await, IN_PROGRESS);
    let last = format!("{COMMENTS}:last-child");
    let said = b.text(&last).await;
    assert!(
        said.contains(ANA_NAME) && said.contains(ANA_REPLY),
        "the customer's reply: {said:?}"
    );
    assert_eq!(b.text(&format!("{last} .badge")).await, "Cliente");
    assert_counting(b, IN_PROGRESS).await;
    let audit = b.texts("#audit ol.audit li").await;
    let expected = format!("{ANA_NAME} mudou o status de {AWAITING} para {IN_PROGRESS}");
    assert!(
        audit.iter().any(|line| line.contains(&expected)),
        "{expected:?} in the audit trail {audit:?}"
    );
    b.screenshot("11-agent-sees-reply").await;

    b.click_and_wait(r#"p.crumbs a[href="/agent"]"#).await;
    b.wait_for_path("/agent").await;
    assert_eq!(
        queue_count(b, "sent").await,
        sent_before - 1,
        "the ticket left Enviados"
    );
    b.click_and_wait(r#"nav.queues a[data-queue="in_progress"]"#)
        .await;
    assert_eq!(b.text("main h1").await, IN_PROGRESS);
    // Latest change first: the ticket Ana just answered heads the queue.
    b.click_and_wait(r#"table.tickets thead a[href*="sort=updated"]"#)
        .await;
    let url = b.wait_for_path("/agent").await;
    assert!(url.contains("queue=in_progress"), "still the queue: {url}");
    assert_eq!(
        b.attr(TICKET_ROWS, "data-ticket").await.as_deref(),
        Some(id),
        "#{id} heads the Em Tratativa queue sorted by last update"
    );
    b.screenshot("12-in-progress-queue").await;
}

/// Logs out from the header; the platform's login page follows.
async fn log_out(b: &Browser, shot: &str) {
    assert_eq!(b.text(LOGOUT).await, "Sair");
    b.click_and_wait(LOGOUT).await;
    b.wait_for_path("/demo/host").await;
    b.screenshot(shot).await;
}

/// The count next to a queue in the sidebar.
async fn queue_count(b: &Browser, key: &str) -> usize {
    b.text(&format!(r#"nav.queues [data-count="{key}"]"#))
        .await
        .parse()
        .expect("a queue's count is a number")
}

/// The status badges of the queue's rows.
async fn statuses(b: &Browser) -> Vec<String> {
    b.texts(&format!("{TICKET_ROWS} > td:nth-child(3) .badge"))
        .await
}

/// The first line of each row's cell in column `n` (from 1): the requester
/// above the organization, the assignee above the group.
async fn first_lines(b: &Browser, n: usize) -> Vec<String> {
    b.texts(&format!("{TICKET_ROWS} > td:nth-child({n})"))
        .await
        .into_iter()
        .map(|cell| cell.lines().next().unwrap_or_default().trim().to_owned())
        .collect()
}

/// The ticket header's facts, as (term, value).
async fn facts(b: &Browser) -> Vec<(String, String)> {
    let terms = b.texts("dl.facts dt").await;
    let values = b.texts("dl.facts dd").await;
    assert_eq!(terms.len(), values.len(), "{terms:?} against {values:?}");
    terms.into_iter().zip(values).collect()
}

fn fact(facts: &[(String, String)], name: &str) -> String {
    facts.iter().find(|(dt, _)| dt == name).map_or_else(
        || panic!("no {name:?} in the ticket's header: {facts:?}"),
        |(_, dd)| dd.clone(),
    )
}

/// Exactly one row of the time-in-status table is still counting: `status`.
async fn assert_counting(b: &Browser, status: &str) {
    let running: Vec<String> = b
        .texts(TIME_ROWS)
        .await
        .into_iter()
        .filter(|text| text.contains("(em andamento)"))
        .collect();
    assert!(
        running.len() == 1 && running[0].starts_with(&format!("{status} (em andamento)")),
        "only {status} still counting: {running:?}"
    );
}

/// Chooses the option that reads `label` in the select matching `css`.
async fn choose_option(b: &Browser, css: &str, label: &str) {
    let options = b.find_all(&format!("{css} option")).await;
    let mut seen = Vec::new();
    for option in options {
        let text = option.text().await.expect("the option's text");
        if text.trim() == label {
            option
                .click()
                .await
                .unwrap_or_else(|e| panic!("choose {label:?} in {css:?}: {e}"));
            return;
        }
        seen.push(text);
    }
    panic!("no option {label:?} in {css:?}: {seen:?}");
}
