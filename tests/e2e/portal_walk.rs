//! The customer's walk through the portal, as the issue describes it: log in
//! → company view → filter by organization, then by status → open a ticket
//! → read the time in each status → download an attachment → reply with a
//! file → request contact → log out; axe-core on the list and the detail.
//! And a new ticket through the form, mandatory questions first.

use std::{fs, path::Path};

use serde_json::{Value, json};

use crate::{
    flows::{self, ANA, ANA_NAME, ANA_ORGS},
    support::{Browser, run},
};

const RIO_CLARO: &str = "Transportes Rio Claro";
/// Rows per page of the ticket list.
const PAGE_SIZE: usize = 25;

const TICKET_ROWS: &str = "table.tickets tbody tr";
const APPLY_FILTERS: &str = r#"form.filters button[type="submit"]"#;

/// What the demo attaches to its first incidents: a log excerpt (two lines,
/// dated) or this CSV.
const DEMO_LOG: &str = "erro-emissao.log";
const DEMO_CSV: &str = "pedidos.csv";
const DEMO_CSV_TEXT: &str = "pedido;valor;status\n4521;1520,00;aberto\n4522;980,50;pago\n";

#[tokio::test]
async fn customer_walks_from_login_to_logout() {
    run("portal-walk", |b| async move {
        let files = tempfile::tempdir().expect("a temporary folder");
        let downloads = files.path().join("downloads");
        fs::create_dir(&downloads).expect("create the download folder");

        sign_in_to_her_tickets(&b).await;
        open_the_company_view(&b).await;
        let rio_claro = filter_by_organization(&b).await;
        filter_by_status(&b, &rio_claro).await;
        b.axe_check().await;
        let row = open_an_incident_awaiting_her_with_a_file(&b).await;
        read_the_time_in_each_status(&b).await;
        download_the_attachment(&b, &downloads).await;
        reply_with_a_file(&b, &row.id, files.path(), &downloads).await;
        request_a_phone_call(&b, &row.id).await;
        b.axe_check().await;
        log_out(&b).await;
    })
    .await;
}

/// The time-in-status table's rows.
const TIME_ROWS: &str = "#time-in-status table.times tbody tr";
const NOTICE: &str = r#"p.notice[role="status"]"#;
const ACTIVE_TAB: &str = r#"nav.tabs a[aria-current="page"]"#;

/// Step 1: Ana signs in on her platform and lands on her own tickets.
async fn sign_in_to_her_tickets(b: &Browser) {
    flows::sign_in_via_demo_host(b, ANA).await;
    flows::assert_ana_on_portal(b).await;
    assert_eq!(b.text("main h1").await, "Central de Tickets");
    assert_eq!(b.text(ACTIVE_TAB).await, "Meus tickets", "the active tab");
    assert_eq!(b.count(ACTIVE_TAB).await, 1, "one active tab");
    assert!(
        !column_headers(b).await.iter().any(|h| h == "Solicitante"),
        "her own tickets need no Solicitante column"
    );
    b.screenshot("01-my-tickets").await;
}

/// Step 2: The company's tickets: everyone's, with who asked.
async fn open_the_company_view(b: &Browser) {
    let org_tab = r#"nav.tabs a[href*="view=org"]"#;
    assert_eq!(b.text(org_tab).await, "Tickets da empresa");
    b.click_and_wait(org_tab).await;
    assert_has_param(&b.wait_for_path(flows::PORTAL_HOME).await, "view", "org");
    assert_eq!(
        b.text(ACTIVE_TAB).await,
        "Tickets da empresa",
        "the active tab"
    );
    let headers = column_headers(b).await;
    assert!(
        headers.iter().any(|h| h == "Solicitante"),
        "the company view shows who asked: {headers:?}"
    );
    let everyone = column(b, "Solicitante").await;
    assert!(
        everyone.iter().any(|name| name != ANA_NAME),
        "the company view shows colleagues' tickets too: {everyone:?}"
    );
    b.screenshot("02-company-view").await;
}

/// Step 3: Only Transportes Rio Claro; returns its chip's value.
async fn filter_by_organization(b: &Browser) -> String {
    let orgs = chip_labels(b, "org").await;
    let names: Vec<&str> = orgs.iter().map(|(_, name)| name.as_str()).collect();
    for org in ANA_ORGS {
        assert!(
            names.contains(&org),
            "{org} among the organization chips {names:?}"
        );
    }
    let rio_claro = chip_value(&orgs, RIO_CLARO);
    set_chips(b, "org", &[&rio_claro]).await;
    b.click_and_wait(APPLY_FILTERS).await;
    let url = b.wait_for_path(flows::PORTAL_HOME).await;
    assert_has_param(&url, "view", "org");
    assert_eq!(query_values(&url, "org"), [rio_claro.as_str()], "in {url}");
    assert!(
        b.is_checked(&chip("org", &rio_claro)).await,
        "the chip stays ticked"
    );
    let rows = column(b, "Organização").await;
    assert!(!rows.is_empty(), "Rio Claro has tickets");
    assert!(
        rows.iter().all(|org| org == RIO_CLARO),
        "only Rio Claro's tickets: {rows:?}"
    );
    b.screenshot("03-filter-rio-claro").await;
    rio_claro
}

/// Step 4: Also only those in progress. The chip's count, the rows and the
/// count line agree.
async fn filter_by_status(b: &Browser, rio_claro: &str) {
    let in_progress = chip_value(&chip_labels(b, "status").await, "Em Tratativa");
    set_chips(b, "status", &[&in_progress]).await;
    b.click_and_wait(APPLY_FILTERS).await;
    let url = b.wait_for_path(flows::PORTAL_HOME).await;
    assert_eq!(query_values(&url, "org"), [rio_claro], "in {url}");
    assert_eq!(
        query_values(&url, "status"),
        [in_progress.as_str()],
        "in {url}"
    );
    let badges = column(b, "Status").await;
    assert!(
        !badges.is_empty(),
        "Rio Claro has tickets in progress ({url})"
    );
    assert!(
        badges.iter().all(|badge| badge == "Em Tratativa"),
        "only tickets in progress: {badges:?}"
    );
    let orgs = column(b, "Organização").await;
    assert!(
        orgs.iter().all(|org| org == RIO_CLARO),
        "still only Rio Claro: {orgs:?}"
    );
    let chip_count: usize = b
        .text(&format!(r#"span.count[data-status="{in_progress}"]"#))
        .await
        .parse()
        .expect("the chip's count is a number");
    let rows = b.count(TICKET_ROWS).await;
    if chip_count <= PAGE_SIZE {
        assert_eq!(rows, chip_count, "rows against the chip's count");
        assert_eq!(b.count(r#"a[rel="next"]"#).await, 0, "no next page");
    } else {
        assert_eq!(rows, PAGE_SIZE, "a full first page");
    }
    assert_result_count(b, chip_count).await;
    b.screenshot("04-filter-in-progress").await;
}

/// Step 5: A ticket that waits for her and carries a file: the company's
/// incidents awaiting a reply, opened from the list one by one. Checks the
/// header against the list's row.
async fn open_an_incident_awaiting_her_with_a_file(b: &Browser) -> Row {
    b.click_and_wait("form.filters .filter-actions a").await;
    let url = b.wait_for_path(flows::PORTAL_HOME).await;
    assert_eq!(url, "/portal/tickets?view=org", "clearing keeps the view");
    choose_option(b, r#"form.filters select[name="type"]"#, "Incidente").await;
    let awaiting = chip_value(&chip_labels(b, "status").await, "Aguardando Sua Resposta");
    set_chips(b, "status", &[&awaiting]).await;
    b.click_and_wait(APPLY_FILTERS).await;
    let list_url = b.wait_for_path(flows::PORTAL_HOME).await;
    assert_has_param(&list_url, "type", "incident");
    let types = column(b, "Tipo").await;
    assert!(
        types.iter().all(|t| t == "Incidente"),
        "only incidents: {types:?}"
    );
    b.screenshot("05-incidents-awaiting-reply").await;

    let row = find_ticket_with_attachment(b, &list_url).await;
    let facts = facts(b).await;
    let fact = |name: &str| {
        facts.iter().find(|(dt, _)| dt == name).map_or_else(
            || panic!("no {name:?} in the ticket's header: {facts:?}"),
            |(_, dd)| dd.clone(),
        )
    };
    assert_eq!(fact("ID do Ticket"), format!("#{}", row.id));
    assert_eq!(fact("Tipo"), "Incidente");
    assert_eq!(fact("Data de Criação"), row.created, "as in the list");
    assert_eq!(b.text("#ticket-status").await, "Aguardando Sua Resposta");
    assert!(fact("Status").starts_with("Aguardando Sua Resposta"));
    assert_eq!(fact("Organização"), row.organization, "as in the list");
    assert_eq!(fact("Solicitante"), row.requester, "as in the list");
    assert!(
        b.text("main h1").await.contains(&row.subject),
        "the heading names the subject {:?}",
        row.subject
    );
    b.screenshot("06-ticket").await;
    row
}

/// Step 6: Time in each status: a table, a chart, the current status
/// counting.
async fn read_the_time_in_each_status(b: &Browser) {
    assert_eq!(b.text("#time-in-status h2").await, "Tempo em cada status");
    assert!(b.count(TIME_ROWS).await >= 1, "a row per status");
    let chart = r#"#time-in-status svg[role="img"]"#;
    b.wait_for(chart).await;
    let title = b
        .execute(
            "const t = document.querySelector(arguments[0]); \
             return t ? t.textContent.trim() : '';",
            vec![json!(format!("{chart} > title"))],
        )
        .await;
    assert!(
        title.as_str().is_some_and(|t| !t.is_empty()),
        "the chart has a title for screen readers: {title}"
    );
    assert_counting(b, "Aguardando Sua Resposta").await;
    b.screenshot("07-time-in-status").await;
}

/// Step 7: The attachment downloads as attached, and the page stays.
async fn download_the_attachment(b: &Browser, downloads: &Path) {
    b.save_downloads_in(downloads).await;
    let link = "#attachments ul.files a";
    let name = b.text(link).await;
    let shown = b.text("#attachments ul.files li").await;
    let page = b.path().await;
    b.execute("window.__walkStillHere = true;", vec![]).await;
    b.click(link).await;
    let bytes = b.downloaded(downloads, &name).await;
    let text = String::from_utf8(bytes.clone()).expect("the attachment is UTF-8 text");
    match name.as_str() {
        DEMO_CSV => assert_eq!(text, DEMO_CSV_TEXT, "the CSV as attached"),
        DEMO_LOG => {
            let lines: Vec<&str> = text.lines().collect();
            assert!(
                lines.len() == 2
                    && lines[0].ends_with("ERRO integração: tempo de resposta excedido (30 s)")
                    && lines[1].ends_with("ERRO nova tentativa falhou"),
                "the log as attached: {text:?}"
            );
        }
        other => panic!("an attachment the demo does not make: {other}"),
    }
    assert!(
        shown.contains(&format!("{} B", bytes.len())),
        "the size shown, {shown:?}, against {} bytes",
        bytes.len()
    );
    assert_eq!(b.path().await, page, "the download left the page");
    assert_eq!(
        b.execute("return window.__walkStillHere === true;", vec![])
            .await,
        Value::Bool(true),
        "the download reloaded the page"
    );
    // What makes it a download: the server's Content-Disposition.
    let href = b.attr(link, "href").await.expect("the link's href");
    let disposition = b
        .session()
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0]).then((r) => done(r.headers.get('content-disposition')), \
               (e) => done('fetch failed: ' + e));",
            vec![json!(href)],
        )
        .await
        .expect("fetch the attachment's headers");
    assert!(
        disposition
            .as_str()
            .is_some_and(|d| d.starts_with("attachment;") && d.contains(&name)),
        "the attachment's Content-Disposition: {disposition}"
    );
    b.screenshot("08-downloaded").await;
}

/// Step 8: A reply with a file: the ticket goes back to the team, the message
/// and the file show in the conversation, and the file comes back as sent.
async fn reply_with_a_file(b: &Browser, id: &str, folder: &Path, downloads: &Path) {
    let upload_name = "relatório-ana.txt";
    let upload_text = "Segue o relatório pedido: o erro voltou às 10h.\n";
    let upload = folder.join(upload_name);
    fs::write(&upload, upload_text).expect("write the file to upload");
    let message = "Segue em anexo o relatório. O erro continua desde ontem.";
    b.fill("#reply-body", message).await;
    b.upload("#reply-files", &upload).await;
    let chosen = b
        .execute(
            "return Array.from(document.querySelector('#reply-files').files, (f) => f.name);",
            vec![],
        )
        .await;
    assert_eq!(chosen, json!([upload_name]), "the file chosen to send");
    b.screenshot("09-reply-typed").await;
    b.click_and_wait(r#"form.reply button[type="submit"]"#)
        .await;
    let url = b.wait_for_path(&format!("/portal/tickets/{id}")).await;
    assert!(url.contains("done=reply"), "after the reply: {url}");
    assert_eq!(b.text(NOTICE).await, "Resposta enviada.");
    assert_eq!(
        b.text("#ticket-status").await,
        "Em Tratativa",
        "a reply to a ticket awaiting the customer goes back to the team"
    );
    let last = "#conversation ol.comments li.comment:last-child";
    let said = b.text(last).await;
    assert!(said.contains(ANA_NAME), "the reply is signed: {said:?}");
    assert!(said.contains(message), "the reply: {said:?}");
    assert!(said.contains(upload_name), "the reply's file: {said:?}");
    assert_counting(b, "Em Tratativa").await;
    b.screenshot("10-replied").await;

    b.click(&format!("{last} ul.files a")).await;
    let back = b.downloaded(downloads, upload_name).await;
    assert_eq!(
        String::from_utf8_lossy(&back),
        upload_text,
        "the file sent with the reply"
    );
}

/// Step 9: A call back, by phone, in the afternoon.
async fn request_a_phone_call(b: &Browser, id: &str) {
    b.click(r#"#contact input[name="channel"][value="phone"]"#)
        .await;
    b.fill("#contact-phone", "(11) 98765-4321").await;
    b.fill("#contact-window", "dias úteis, das 14h às 17h")
        .await;
    b.screenshot("11-contact-typed").await;
    b.click_and_wait(r#"form.contact-form button[type="submit"]"#)
        .await;
    let url = b.wait_for_path(&format!("/portal/tickets/{id}")).await;
    assert!(url.contains("done=contact"), "after the request: {url}");
    let notice = b.text(NOTICE).await;
    assert!(
        notice.starts_with("Solicitação de contato registrada"),
        "the notice: {notice:?}"
    );
    let requests = b.texts("#contact ul.contacts li.contact-request").await;
    assert_eq!(requests.len(), 1, "one contact request: {requests:?}");
    for expected in [
        "Aberta",
        "Telefone",
        "(11) 98765-4321",
        "dias úteis, das 14h às 17h",
    ] {
        assert!(
            requests[0].contains(expected),
            "{expected:?} in the request {requests:?}"
        );
    }
    b.screenshot("12-contact-requested").await;
}

/// Step 10: Log out from the header: back to the platform, and the portal asks
/// to sign in again.
async fn log_out(b: &Browser) {
    let logout = r#"header form[action="/logout"] button[type="submit"]"#;
    assert_eq!(b.text(logout).await, "Sair");
    b.click_and_wait(logout).await;
    assert_eq!(b.wait_for_path("/demo/host").await, "/demo/host");
    b.screenshot("13-logged-out").await;
    b.goto(flows::PORTAL_HOME).await;
    assert_eq!(
        b.path().await,
        "/demo/host?return_to=%2Fportal%2Ftickets",
        "the portal sends a signed-out visitor to the platform's login"
    );
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

#[tokio::test]
async fn customer_opens_a_ticket_answering_the_mandatory_questions() {
    run("portal-new-ticket", |b| async move {
        flows::sign_in_via_demo_host(&b, ANA).await;
        flows::assert_ana_on_portal(&b).await;
        b.click_and_wait(r#"main .page-head a[href="/portal/tickets/new"]"#)
            .await;
        b.wait_for_path("/portal/tickets/new").await;
        assert_eq!(b.text("main h1").await, "Abrir novo ticket");

        // Two organizations: she must say for which one.
        let choices = b.texts("select#organization option").await;
        assert_eq!(
            choices,
            ["Selecione…", ANA_ORGS[0], ANA_ORGS[1]],
            "the organization choices"
        );
        let subject = "Etiquetas de frete saem cortadas";
        let description = "Desde hoje cedo as etiquetas de frete saem **cortadas** na impressora.";
        choose_option(&b, "select#organization", RIO_CLARO).await;
        b.click(r#"input[name="ticket_type"][value="incident"]"#)
            .await;
        b.fill("#description", description).await;
        submit_without_a_subject(&b, description).await;

        b.fill("#subject", subject).await;
        b.click_and_wait(SUBMIT_TICKET).await;
        let url = b.path().await;
        let id = url
            .strip_prefix("/portal/tickets/")
            .and_then(|rest| rest.split(['?', '#']).next())
            .filter(|id| id.parse::<u64>().is_ok())
            .unwrap_or_else(|| panic!("not on a ticket after sending: {url}"))
            .to_owned();
        let notice = b.text(NOTICE).await;
        assert!(
            notice.starts_with("Ticket aberto com sucesso"),
            "the notice: {notice:?}"
        );
        assert_eq!(b.text("#ticket-status").await, "Enviado");
        assert!(b.text("main h1").await.contains(subject));
        let facts = facts(&b).await;
        for (name, value) in [
            ("ID do Ticket", format!("#{id}")),
            ("Tipo", "Incidente".to_owned()),
            ("Organização", RIO_CLARO.to_owned()),
            ("Solicitante", ANA_NAME.to_owned()),
        ] {
            assert!(
                facts.iter().any(|(dt, dd)| *dt == name && *dd == value),
                "{name}: {value} in {facts:?}"
            );
        }
        let shown = b.text("main .prose").await;
        assert!(
            shown.contains("cortadas") && !shown.contains("**"),
            "the description, formatted: {shown:?}"
        );
        b.screenshot("2-created").await;

        // The new ticket heads her list.
        b.goto(flows::PORTAL_HOME).await;
        let first = b.attr(TICKET_ROWS, "data-ticket").await;
        assert_eq!(first.as_deref(), Some(id.as_str()), "the newest first");
        assert_eq!(column(&b, "Status").await[0], "Enviado");
    })
    .await;
}

const SUBMIT_TICKET: &str = r#"main form button[type="submit"].primary"#;

/// Sends the new-ticket form without a subject: the browser stops it (its
/// hint is in the browser's own language, which depends on the installed
/// locales), and so does the server, next to the field, keeping the answers.
async fn submit_without_a_subject(b: &Browser, description: &str) {
    let path = b.path().await;
    b.click(SUBMIT_TICKET).await;
    let missing = b
        .execute(
            "const s = document.querySelector('#subject'); \
             return s.validity.valueMissing && s.validationMessage.length > 0 \
             && document.activeElement === s;",
            vec![],
        )
        .await;
    assert_eq!(
        missing,
        Value::Bool(true),
        "the browser points at the empty subject"
    );
    assert_eq!(b.path().await, path, "the form was not sent");

    b.execute(
        "document.querySelector('#subject').closest('form').noValidate = true;",
        vec![],
    )
    .await;
    b.click_and_wait(SUBMIT_TICKET).await;
    b.wait_for_path("/portal/tickets").await;
    let next_to_subject = b
        .execute(
            "const e = document.querySelector('#subject').nextElementSibling; \
             return e && e.classList.contains('field-error') ? e.textContent.trim() : null;",
            vec![],
        )
        .await;
    assert_eq!(
        next_to_subject,
        json!("Preencha este campo."),
        "the error next to the subject"
    );
    assert_eq!(
        b.attr("#subject", "aria-invalid").await.as_deref(),
        Some("true")
    );
    assert_eq!(b.text(".form-error").await, "Confira os campos destacados.");
    let chosen = b
        .execute(
            "const s = document.querySelector('#organization'); \
             return s.options[s.selectedIndex].text;",
            vec![],
        )
        .await;
    assert_eq!(chosen, json!(RIO_CLARO), "the organization stays chosen");
    assert!(
        b.is_checked(r#"input[name="ticket_type"][value="incident"]"#)
            .await,
        "the type stays chosen"
    );
    let kept = b
        .execute(
            "return document.querySelector('#description').value;",
            vec![],
        )
        .await;
    assert_eq!(kept, json!(description), "the description stays");
    b.screenshot("1-missing-subject").await;
}

/// A row of the ticket list, as read there.
#[derive(Debug)]
struct Row {
    id: String,
    subject: String,
    created: String,
    organization: String,
    requester: String,
}

/// Opens the tickets of the list at `list_url` (all its pages), lowest
/// number first, until one has a file under "Anexos"; stays on that one.
/// The demo attaches files to its first incidents.
async fn find_ticket_with_attachment(b: &Browser, list_url: &str) -> Row {
    let mut rows = Vec::new();
    let mut page = list_url.to_owned();
    loop {
        b.goto(&page).await;
        let ids = b.find_all(TICKET_ROWS).await;
        let mut page_ids = Vec::new();
        for row in ids {
            page_ids.push(
                row.attribute("data-ticket")
                    .await
                    .expect("data-ticket")
                    .unwrap_or_default(),
            );
        }
        let subjects = column(b, "Assunto").await;
        let created = column(b, "Data de Criação").await;
        let orgs = column(b, "Organização").await;
        let requesters = column(b, "Solicitante").await;
        for (i, id) in page_ids.into_iter().enumerate() {
            rows.push((
                Row {
                    id,
                    subject: subjects[i].clone(),
                    created: created[i].clone(),
                    organization: orgs[i].clone(),
                    requester: requesters[i].clone(),
                },
                page.clone(),
            ));
        }
        match b.try_find(r#"a[rel="next"]"#).await {
            Some(next) => {
                page = next
                    .attribute("href")
                    .await
                    .expect("href")
                    .expect("the next page's address");
            }
            None => break,
        }
    }
    rows.sort_by_key(|(row, _)| row.id.parse::<u64>().unwrap_or(u64::MAX));
    let tried: Vec<String> = rows.iter().map(|(row, _)| row.id.clone()).collect();
    for (row, page) in rows {
        // Open it as a customer does: from its row in the list.
        b.goto(&page).await;
        b.click_and_wait(&format!(
            r#"{TICKET_ROWS}[data-ticket="{}"] td.subject a"#,
            row.id
        ))
        .await;
        b.wait_for_path(&format!("/portal/tickets/{}", row.id))
            .await;
        if b.count("#attachments ul.files a").await > 0 {
            return row;
        }
    }
    panic!("none of the tickets {tried:?} of {list_url} has an attachment");
}

/// The headers of the ticket table, without the sort arrows.
async fn column_headers(b: &Browser) -> Vec<String> {
    b.texts("table.tickets thead th")
        .await
        .into_iter()
        .map(|h| h.trim_end_matches(['↓', '↑']).trim().to_owned())
        .collect()
}

/// The cells of the ticket table's column headed `header`, top to bottom.
async fn column(b: &Browser, header: &str) -> Vec<String> {
    let headers = column_headers(b).await;
    let index = headers
        .iter()
        .position(|h| h == header)
        .unwrap_or_else(|| panic!("no {header:?} column among {headers:?}"));
    b.texts(&format!("{TICKET_ROWS} > td:nth-child({})", index + 1))
        .await
}

/// The ticket header's facts, as (term, value).
async fn facts(b: &Browser) -> Vec<(String, String)> {
    let terms = b.texts("dl.facts dt").await;
    let values = b.texts("dl.facts dd").await;
    assert_eq!(terms.len(), values.len(), "{terms:?} against {values:?}");
    terms.into_iter().zip(values).collect()
}

/// The checkbox of the filter `name` with this value.
fn chip(name: &str, value: &str) -> String {
    format!(r#"form.filters input[type="checkbox"][name="{name}"][value="{value}"]"#)
}

/// The filter's chips as (value, label): the organization's name, or the
/// status badge's text without the count.
async fn chip_labels(b: &Browser, name: &str) -> Vec<(String, String)> {
    let mut chips = Vec::new();
    let labels = b
        .find_all(&format!(
            r#"form.filters label.chip:has(input[name="{name}"])"#
        ))
        .await;
    for label in labels {
        let input = label.find("input").await.expect("the chip's checkbox");
        let value = input
            .attribute("value")
            .await
            .expect("value")
            .unwrap_or_default();
        let text = match label.find(".badge").await {
            Ok(badge) => badge.text().await.expect("the badge's text"),
            Err(_) => label.text().await.expect("the chip's text"),
        };
        chips.push((value, text.trim().to_owned()));
    }
    assert!(!chips.is_empty(), "no {name} chips on the list");
    chips
}

fn chip_value(chips: &[(String, String)], label: &str) -> String {
    chips.iter().find(|(_, text)| text == label).map_or_else(
        || panic!("no chip {label:?} among {chips:?}"),
        |(value, _)| value.clone(),
    )
}

/// Ticks exactly the chips of filter `name` with these values.
async fn set_chips(b: &Browser, name: &str, values: &[&str]) {
    for (value, _) in chip_labels(b, name).await {
        let css = chip(name, &value);
        if b.is_checked(&css).await != values.contains(&value.as_str()) {
            b.click(&css).await;
        }
    }
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

/// The values of `key` in the query of `url`, decoded.
fn query_values(url: &str, key: &str) -> Vec<String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
        .collect()
}

fn assert_has_param(url: &str, key: &str, value: &str) {
    assert!(
        query_values(url, key).iter().any(|v| v == value),
        "{key}={value} in {url}"
    );
}

/// The "N tickets" line above the table.
async fn assert_result_count(b: &Browser, expected: usize) {
    let line = b.text(".result-count").await;
    let number = line
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<usize>().ok());
    assert!(
        number == Some(expected) && line.contains("ticket"),
        "the count line {line:?} against {expected}"
    );
}
