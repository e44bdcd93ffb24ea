//! The customer portal through HTTP: the ticket list (views, filters, counts,
//! sorting, cursor pages), the ticket detail, replies and their status rules,
//! uploads, contact requests and new tickets.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use bytes::Bytes;
use chamado::{
    domain::{ActorKind, CommentId, OrgId, Role, TicketId, TicketStatus, TicketType, UserId},
    service::{
        self,
        accounts::UserInput,
        attachments::{self, Upload},
    },
    store::{
        self, Db, Ts,
        tickets::{Actor, NewTicket},
    },
};
use jiff::{SignedDuration, Timestamp};

use crate::support::{Browser, PASSWORD, TestApp, TestResponse};

// ---------------------------------------------------------------------------
// Helpers shared with the authorization matrix

/// A user with the test password, a name of their own and memberships (with
/// each organization's default for the organization view).
pub async fn user(tc: &TestApp, email: &str, name: &str, role: Role, orgs: &[&str]) -> UserId {
    let organizations: Vec<String> = orgs.iter().map(|s| (*s).to_owned()).collect();
    service::accounts::create_user(
        &tc.state,
        &UserInput {
            email,
            name,
            role,
            password: Some(PASSWORD),
            external_id: None,
            organizations: &organizations,
            groups: &[],
        },
    )
    .await
    .unwrap()
}

/// A customer's ticket, opened now as *Enviado*, the way the portal would.
pub async fn ticket(
    tc: &TestApp,
    requester: UserId,
    org: Option<OrgId>,
    subject: &str,
    description: &str,
) -> TicketId {
    typed_ticket(
        tc,
        requester,
        org,
        subject,
        description,
        TicketType::Support,
    )
    .await
}

pub async fn typed_ticket(
    tc: &TestApp,
    requester: UserId,
    org: Option<OrgId>,
    subject: &str,
    description: &str,
    ticket_type: TicketType,
) -> TicketId {
    store::tickets::create(
        &tc.state.db,
        &NewTicket {
            subject,
            description,
            ticket_type,
            organization: org,
            requester,
            channel: "portal",
        },
        Actor {
            kind: ActorKind::Customer,
            user: Some(requester),
        },
        tc.clock.now(),
    )
    .await
    .unwrap()
}

/// The ticket's current status.
pub async fn status_of(tc: &TestApp, id: TicketId) -> TicketStatus {
    store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap()
        .status()
}

/// Moves the ticket to `to` as the support team would (no-op when it is
/// there already).
pub async fn move_to(tc: &TestApp, id: TicketId, to: TicketStatus) {
    let from = status_of(tc, id).await;
    if from == to {
        return;
    }
    let kind = if to == TicketStatus::AbandonedTriage {
        ActorKind::System
    } else {
        ActorKind::Agent
    };
    store::tickets::change_status(
        &tc.state.db,
        id,
        from,
        to,
        Actor { kind, user: None },
        tc.clock.now(),
    )
    .await
    .unwrap();
}

/// Stores a file on the ticket (on the description, or on a comment).
pub async fn attach(
    tc: &TestApp,
    id: TicketId,
    comment: Option<CommentId>,
    name: &str,
    content_type: &str,
    data: &'static [u8],
) -> i64 {
    attachments::store(
        &tc.state,
        id,
        comment,
        None,
        Upload {
            file_name: name.to_owned(),
            content_type: content_type.to_owned(),
            data: Bytes::from_static(data),
        },
    )
    .await
    .unwrap()
    .0
}

/// An internal note by the support team.
pub async fn internal_note(tc: &TestApp, id: TicketId, body: &str) -> CommentId {
    store::tickets::add_comment(&tc.state.db, id, None, body, false, tc.clock.now())
        .await
        .unwrap()
}

/// How many rows `table` holds.
pub async fn count_rows(db: &Db, table: &str) -> i64 {
    let sql = format!("select count(*) from {table}");
    chamado::with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// A browser signed in as `email`.
pub async fn signed_in<'a>(tc: &'a TestApp, email: &str) -> Browser<'a> {
    let mut browser = tc.browser();
    browser.login(email).await;
    browser
}

/// The signed-in browser's CSRF token.
pub async fn csrf(browser: &mut Browser<'_>) -> String {
    browser.get("/portal/account").await.csrf_token().unwrap()
}

/// A file part of a multipart form.
pub struct FilePart<'a> {
    pub field: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

impl<'a> FilePart<'a> {
    pub fn new(file_name: &'a str, content_type: &'a str, data: &'a [u8]) -> Self {
        Self {
            field: "attachments",
            file_name,
            content_type,
            data,
        }
    }
}

const BOUNDARY: &str = "----chamado-test-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body, built by hand like a browser sends it.
pub fn multipart_body(fields: &[(&str, &str)], files: &[FilePart<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for file in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                file.field, file.file_name, file.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts a multipart form to `path`, with `csrf_token` as its first field
/// when given (as the portal's forms do).
pub async fn post_multipart(
    browser: &mut Browser<'_>,
    path: &str,
    csrf: Option<&str>,
    fields: &[(&str, &str)],
    files: &[FilePart<'_>],
) -> TestResponse {
    let mut all: Vec<(&str, &str)> = csrf
        .map(|token| ("csrf_token", token))
        .into_iter()
        .collect();
    all.extend_from_slice(fields);
    post_multipart_body(browser, path, multipart_body(&all, files)).await
}

/// Posts `body` (built with [`multipart_body`]) to `path` as a multipart form.
pub async fn post_multipart_body(
    browser: &mut Browser<'_>,
    path: &str,
    body: Vec<u8>,
) -> TestResponse {
    browser
        .request(
            Request::post(path).header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
            Body::from(body),
        )
        .await
}

/// Posts a public reply to the ticket.
pub async fn reply(
    browser: &mut Browser<'_>,
    id: TicketId,
    body: &str,
    files: &[FilePart<'_>],
) -> TestResponse {
    let token = csrf(browser).await;
    post_multipart(
        browser,
        &format!("/portal/tickets/{}/replies", id.0),
        Some(&token),
        &[("body", body)],
        files,
    )
    .await
}

/// Posts a contact request form.
pub async fn request_contact(
    browser: &mut Browser<'_>,
    id: TicketId,
    fields: &[(&str, &str)],
) -> TestResponse {
    let token = csrf(browser).await;
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    browser
        .post_form(&format!("/portal/tickets/{}/contact-requests", id.0), &all)
        .await
}

/// A valid contact request.
pub const CONTACT: [(&str, &str); 4] = [
    ("channel", "phone"),
    ("phone", "(11) 98765-4321"),
    ("preferred_window", "dias úteis, das 14h às 17h"),
    ("message", "Prefiro falar com a Joana"),
];

/// Confirms the solution.
pub async fn confirm(browser: &mut Browser<'_>, id: TicketId) -> TestResponse {
    let token = csrf(browser).await;
    browser
        .post_form(
            &format!("/portal/tickets/{}/confirm", id.0),
            &[("csrf_token", &token)],
        )
        .await
}

/// Undoes the HTML escaping of text and attribute values.
pub fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The ids of the list's rows, in display order.
pub fn listed(body: &str) -> Vec<i64> {
    body.split("<tr data-ticket=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// The count shown next to a status choice of the list's filter.
pub fn status_count(body: &str, status: &str) -> i64 {
    count_after(body, &format!("data-status=\"{status}\">"))
}

/// The number written right after `marker` (thousands grouped with a dot,
/// as pt-BR writes them).
pub fn count_after(body: &str, marker: &str) -> i64 {
    let start = body.find(marker).unwrap() + marker.len();
    let end = body[start..].find('<').unwrap() + start;
    body[start..end].trim().replace('.', "").parse().unwrap()
}

/// The target of the pager link with this `rel`, if any.
pub fn pager_link(body: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\" href=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(unescape(&body[start..end]))
}

/// An error page without what differs between any two requests for it:
/// the request id, and the address the language switch returns to (the
/// requested path itself).
pub fn without_request_id(body: &str) -> String {
    let mut body = match (body.find("<code>"), body.find("</code>")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &body[..start], &body[end..])
        }
        _ => body.to_owned(),
    };
    let marker = "name=\"return_to\" value=\"";
    if let Some(start) = body.find(marker).map(|i| i + marker.len())
        && let Some(len) = body[start..].find('"')
    {
        body.replace_range(start..start + len, "");
    }
    body
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A value between `marker` and the next `"`.
fn attribute_after(body: &str, marker: &str) -> String {
    let start = body.find(marker).unwrap() + marker.len();
    let end = body[start..].find('"').unwrap() + start;
    body[start..end].to_owned()
}

/// A customer of one organization, with that organization's id.
async fn padaria(tc: &TestApp) -> (OrgId, UserId) {
    let org = tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let ana = user(
        tc,
        "ana@padaria.example",
        "Ana Souza",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    (org, ana)
}

// ---------------------------------------------------------------------------
// The list: views

#[tokio::test]
async fn my_tickets_show_only_the_tickets_i_requested() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let bruno = user(
        &tc,
        "bruno@padaria.example",
        "Bruno Lima",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let mine = ticket(&tc, ana, Some(org), "Nota fiscal rejeitada", "Erro 539").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let theirs = ticket(&tc, bruno, Some(org), "Impressora parada", "Não imprime").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get("/portal/tickets").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Meus tickets"));
    assert_eq!(listed(&page.body), [mine.0]);
    assert!(page.body.contains("Nota fiscal rejeitada"));
    assert!(!page.body.contains("Impressora parada"));
    assert!(page.body.contains(&format!("#{}", mine.0)));
    let company = browser.get("/portal/tickets?view=org").await;
    assert_eq!(listed(&company.body), [theirs.0, mine.0]);
}

#[tokio::test]
async fn company_view_shows_only_organizations_whose_membership_allows_it() {
    let tc = TestApp::new().await;
    let (padaria_org, ana) = padaria(&tc).await;
    let mercado = tc.create_org("Mercado Bom Preço", "org-mercado").await;
    store::users::add_membership(&tc.state.db, ana, mercado, Some(false), tc.clock.now())
        .await
        .unwrap();
    let bruno = user(
        &tc,
        "bruno@padaria.example",
        "Bruno Lima",
        Role::Customer,
        &["org-padaria", "org-mercado"],
    )
    .await;
    let in_padaria = ticket(&tc, bruno, Some(padaria_org), "Forno sem sinal", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let in_mercado = ticket(&tc, bruno, Some(mercado), "Caixa travado", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get("/portal/tickets?view=org").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Tickets da empresa"));
    assert_eq!(listed(&page.body), [in_padaria.0]);
    assert!(!page.body.contains("Caixa travado"));
    // The company view names the requester.
    assert!(page.body.contains("<th scope=\"col\">Solicitante</th>"));
    assert!(page.body.contains("Bruno Lima"));
    // Asking for the other organization by id does not widen the view.
    let asked = browser
        .get(&format!("/portal/tickets?view=org&org={}", mercado.0))
        .await;
    assert!(listed(&asked.body).is_empty());
    assert!(!asked.body.contains("Caixa travado"));
    // Bruno sees both.
    let mut bruno_browser = signed_in(&tc, "bruno@padaria.example").await;
    let page = bruno_browser.get("/portal/tickets?view=org").await;
    assert_eq!(listed(&page.body), [in_mercado.0, in_padaria.0]);
}

#[tokio::test]
async fn the_company_tab_is_offered_only_to_members_who_may_see_it() {
    let tc = TestApp::new().await;
    let org = tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let ana = user(&tc, "ana@padaria.example", "Ana", Role::Customer, &[]).await;
    store::users::add_membership(&tc.state.db, ana, org, Some(false), tc.clock.now())
        .await
        .unwrap();
    user(
        &tc,
        "bruno@padaria.example",
        "Bruno",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let mut restricted = signed_in(&tc, "ana@padaria.example").await;
    assert!(
        !restricted
            .get("/portal/tickets")
            .await
            .body
            .contains("Tickets da empresa")
    );
    let mut allowed = signed_in(&tc, "bruno@padaria.example").await;
    assert!(
        allowed
            .get("/portal/tickets")
            .await
            .body
            .contains("Tickets da empresa")
    );
}

// ---------------------------------------------------------------------------
// The list: filters

#[tokio::test]
async fn organization_filter_takes_several_organizations_at_once() {
    let tc = TestApp::new().await;
    let a = tc.create_org("Alfa", "org-a").await;
    let b = tc.create_org("Beta", "org-b").await;
    let c = tc.create_org("Gama", "org-c").await;
    let ana = user(
        &tc,
        "ana@padaria.example",
        "Ana",
        Role::Customer,
        &["org-a", "org-b", "org-c"],
    )
    .await;
    let in_a = ticket(&tc, ana, Some(a), "Em Alfa", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let in_b = ticket(&tc, ana, Some(b), "Em Beta", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let in_c = ticket(&tc, ana, Some(c), "Em Gama", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let all = browser.get("/portal/tickets?view=org").await;
    assert_eq!(listed(&all.body), [in_c.0, in_b.0, in_a.0]);
    let two = browser
        .get(&format!("/portal/tickets?view=org&org={}&org={}", a.0, c.0))
        .await;
    assert_eq!(listed(&two.body), [in_c.0, in_a.0]);
    // Both boxes stay ticked, the third does not.
    assert!(two.body.contains(&format!("value=\"{}\" checked", a.0)));
    assert!(two.body.contains(&format!("value=\"{}\" checked", c.0)));
    assert!(!two.body.contains(&format!("value=\"{}\" checked", b.0)));
    let one = browser.get(&format!("/portal/tickets?org={}", b.0)).await;
    assert_eq!(listed(&one.body), [in_b.0]);
}

#[tokio::test]
async fn status_filter_takes_several_statuses_at_once() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let sent = ticket(&tc, ana, Some(org), "Enviado", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let working = ticket(&tc, ana, Some(org), "Trabalhando", "x").await;
    move_to(&tc, working, TicketStatus::InProgress).await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let waiting = ticket(&tc, ana, Some(org), "Esperando", "x").await;
    move_to(&tc, waiting, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser
        .get("/portal/tickets?status=sent&status=awaiting_reply")
        .await;
    assert_eq!(listed(&page.body), [waiting.0, sent.0]);
    let one = browser.get("/portal/tickets?status=in_progress").await;
    assert_eq!(listed(&one.body), [working.0]);
    assert!(
        one.body
            .contains("name=\"status\" value=\"in_progress\" checked")
    );
}

#[tokio::test]
async fn type_filter_shows_only_that_type() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let incident = typed_ticket(
        &tc,
        ana,
        Some(org),
        "Sistema fora do ar",
        "x",
        TicketType::Incident,
    )
    .await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let question = typed_ticket(
        &tc,
        ana,
        Some(org),
        "Como emitir boleto",
        "x",
        TicketType::Support,
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let incidents = browser.get("/portal/tickets?type=incident").await;
    assert_eq!(listed(&incidents.body), [incident.0]);
    assert!(incidents.body.contains("<td>Incidente</td>"));
    assert!(incidents.body.contains("result-count\">1 ticket<"));
    let support = browser.get("/portal/tickets?type=support").await;
    assert_eq!(listed(&support.body), [question.0]);
}

#[tokio::test]
async fn created_date_range_uses_the_local_calendar_day() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    // 23:00 on 10/03 in São Paulo.
    tc.clock.set(at("2026-03-11T02:00:00Z"));
    let late_evening = ticket(&tc, ana, Some(org), "Tarde da noite", "x").await;
    // Midnight on 11/03 in São Paulo.
    tc.clock.set(at("2026-03-11T03:00:00Z"));
    let midnight = ticket(&tc, ana, Some(org), "Meia-noite", "x").await;
    // 09/03, 21:00 local.
    tc.clock.set(at("2026-03-10T00:00:00Z"));
    let day_before = ticket(&tc, ana, Some(org), "Dia anterior", "x").await;
    tc.clock.set(at("2026-03-11T12:00:00Z"));
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let tenth = browser
        .get("/portal/tickets?from=2026-03-10&to=2026-03-10")
        .await;
    assert_eq!(tenth.status, StatusCode::OK);
    assert_eq!(listed(&tenth.body), [late_evening.0]);
    assert!(!tenth.body.contains("11/03/2026 00:00"));
    assert!(tenth.body.contains("10/03/2026 23:00"));
    let eleventh = browser.get("/portal/tickets?from=2026-03-11").await;
    assert_eq!(listed(&eleventh.body), [midnight.0]);
    let until_ninth = browser.get("/portal/tickets?to=2026-03-09").await;
    assert_eq!(listed(&until_ninth.body), [day_before.0]);
    let range = browser
        .get("/portal/tickets?from=2026-03-09&to=2026-03-11")
        .await;
    assert_eq!(
        listed(&range.body),
        [midnight.0, late_evening.0, day_before.0]
    );
    // The chosen dates stay in the form.
    assert!(range.body.contains("name=\"from\" value=\"2026-03-09\""));
    assert!(range.body.contains("name=\"to\" value=\"2026-03-11\""));
}

#[tokio::test]
async fn search_covers_subject_description_and_public_comments_but_not_internal_notes() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let by_subject = ticket(&tc, ana, Some(org), "Boleto Vencido", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let by_description = ticket(&tc, ana, Some(org), "Outro", "O boleto não abre").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let by_comment = ticket(&tc, ana, Some(org), "Terceiro", "x").await;
    store::tickets::add_comment(
        &tc.state.db,
        by_comment,
        Some(ana),
        "Segue o BOLETO em anexo",
        true,
        tc.clock.now(),
    )
    .await
    .unwrap();
    tc.clock.advance(SignedDuration::from_mins(1));
    let noted = ticket(&tc, ana, Some(org), "Quarto", "x").await;
    internal_note(&tc, noted, "cliente inadimplente, boleto em atraso").await;
    internal_note(&tc, noted, "palavrasecreta").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let found = browser.get("/portal/tickets?q=boleto").await;
    assert_eq!(
        listed(&found.body),
        [by_comment.0, by_description.0, by_subject.0]
    );
    let secret = browser.get("/portal/tickets?q=palavrasecreta").await;
    assert!(listed(&secret.body).is_empty());
    assert!(
        secret
            .body
            .contains("Nenhum ticket encontrado com esses filtros")
    );
    // The words stay in the search box.
    assert!(found.body.contains("name=\"q\" value=\"boleto\""));
}

#[tokio::test]
async fn search_reads_percent_and_underscore_as_text_not_wildcards() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    ticket(&tc, ana, Some(org), "Desconto de 100% aplicado", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let thousand = ticket(&tc, ana, Some(org), "Desconto de 1000 reais", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let underscore = ticket(&tc, ana, Some(org), "Campo nota_fiscal vazio", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    ticket(&tc, ana, Some(org), "Campo notaXfiscal vazio", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get("/portal/tickets?q=1000%25").await;
    assert_eq!(listed(&page.body), [thousand.0]);
    // Words are searched, and `_` separates them like a space.
    let page = browser.get("/portal/tickets?q=nota_fiscal").await;
    assert_eq!(listed(&page.body), [underscore.0]);
    // A wildcard alone matches nothing rather than everything.
    for wildcard in ["%25", "_", "%25_%25"] {
        let page = browser.get(&format!("/portal/tickets?q={wildcard}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(listed(&page.body).is_empty(), "{wildcard}");
    }
}

#[tokio::test]
async fn status_counts_ignore_the_status_filter_but_respect_the_others() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    for (n, status) in [
        TicketStatus::Sent,
        TicketStatus::Sent,
        TicketStatus::InProgress,
        TicketStatus::AwaitingReply,
        TicketStatus::AwaitingReply,
        TicketStatus::AwaitingReply,
        TicketStatus::Solved,
    ]
    .into_iter()
    .enumerate()
    {
        let kind = if n % 2 == 0 {
            TicketType::Incident
        } else {
            TicketType::Support
        };
        let id = typed_ticket(&tc, ana, Some(org), &format!("Ticket {n}"), "x", kind).await;
        move_to(&tc, id, status).await;
        tc.clock.advance(SignedDuration::from_mins(1));
    }
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let expect = |body: &str, counts: [i64; 6]| {
        for (status, count) in TicketStatus::ALL.into_iter().zip(counts) {
            assert_eq!(status_count(body, status.key()), count, "{status}");
        }
    };
    let all = browser.get("/portal/tickets").await;
    expect(&all.body, [2, 1, 0, 3, 1, 0]);
    assert!(all.body.contains("result-count\">7 tickets<"));
    // Filtering by status changes the rows, not the counts.
    let waiting = browser.get("/portal/tickets?status=awaiting_reply").await;
    expect(&waiting.body, [2, 1, 0, 3, 1, 0]);
    assert_eq!(listed(&waiting.body).len(), 3);
    assert!(waiting.body.contains("result-count\">3 tickets<"));
    // Other filters change the counts: incidents are tickets 0, 2, 4 and 6.
    let incidents = browser
        .get("/portal/tickets?type=incident&status=sent")
        .await;
    expect(&incidents.body, [1, 1, 0, 1, 1, 0]);
    assert_eq!(listed(&incidents.body).len(), 1);
    let searched = browser.get("/portal/tickets?q=Ticket%203").await;
    expect(&searched.body, [0, 0, 0, 1, 0, 0]);
}

// ---------------------------------------------------------------------------
// The list: sorting and pages

#[tokio::test]
async fn list_sorts_by_creation_and_by_last_update_in_both_directions() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let first = ticket(&tc, ana, Some(org), "Primeiro", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let second = ticket(&tc, ana, Some(org), "Segundo", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    let third = ticket(&tc, ana, Some(org), "Terceiro", "x").await;
    tc.clock.advance(SignedDuration::from_mins(1));
    // The oldest ticket is the most recently updated, the newest next.
    move_to(&tc, third, TicketStatus::InProgress).await;
    tc.clock.advance(SignedDuration::from_mins(1));
    move_to(&tc, first, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let default = browser.get("/portal/tickets").await;
    assert_eq!(listed(&default.body), [third.0, second.0, first.0]);
    let created_asc = browser.get("/portal/tickets?dir=asc").await;
    assert_eq!(listed(&created_asc.body), [first.0, second.0, third.0]);
    let updated_desc = browser.get("/portal/tickets?sort=updated").await;
    assert_eq!(listed(&updated_desc.body), [first.0, third.0, second.0]);
    let updated_asc = browser.get("/portal/tickets?sort=updated&dir=asc").await;
    assert_eq!(listed(&updated_asc.body), [second.0, third.0, first.0]);
    // The column header flips the direction of the current sort.
    assert!(default.body.contains("href=\"/portal/tickets?dir=asc\""));
    assert!(
        updated_desc
            .body
            .contains("href=\"/portal/tickets?sort=updated&#38;dir=asc\"")
    );
}

/// Opens `n` tickets for `requester`, a minute apart, oldest first.
async fn many_tickets(tc: &TestApp, requester: UserId, org: OrgId, n: usize) -> Vec<TicketId> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(ticket(tc, requester, Some(org), &format!("Ticket número {i}"), "x").await);
        tc.clock.advance(SignedDuration::from_mins(1));
    }
    ids
}

/// Follows the "next" links from `first`, returning every page's ids.
async fn walk_pages(browser: &mut Browser<'_>, first: &str) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut url = Some(first.to_owned());
    while let Some(current) = url {
        let page = browser.get(&current).await;
        assert_eq!(page.status, StatusCode::OK);
        pages.push(listed(&page.body));
        url = pager_link(&page.body, "next");
        assert!(pages.len() < 10, "the pages never end");
    }
    pages
}

#[tokio::test]
async fn pages_hold_25_tickets_with_next_on_the_first_and_previous_on_the_last() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let ids = many_tickets(&tc, ana, org, 30).await;
    let newest_first: Vec<i64> = ids.iter().rev().map(|t| t.0).collect();
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let first = browser.get("/portal/tickets").await;
    assert_eq!(listed(&first.body), newest_first[..25]);
    assert!(pager_link(&first.body, "prev").is_none());
    let next = pager_link(&first.body, "next").expect("a next link");
    let last = browser.get(&next).await;
    assert_eq!(listed(&last.body), newest_first[25..]);
    assert!(pager_link(&last.body, "next").is_none());
    let previous = pager_link(&last.body, "prev").expect("a previous link");
    let back = browser.get(&previous).await;
    assert_eq!(listed(&back.body), newest_first[..25]);
    assert!(pager_link(&back.body, "prev").is_none());
    assert!(pager_link(&back.body, "next").is_some());
    // The count is of the whole list, not of the page.
    assert!(last.body.contains("result-count\">30 tickets<"));
}

#[tokio::test]
async fn pages_keep_the_filters_and_the_sort() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let ids = many_tickets(&tc, ana, org, 28).await;
    // A different ticket that the filter leaves out.
    move_to(&tc, ids[0], TicketStatus::Solved).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let pages = walk_pages(&mut browser, "/portal/tickets?status=sent&dir=asc").await;
    let expected: Vec<i64> = ids[1..].iter().map(|t| t.0).collect();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages.concat(), expected);
}

#[tokio::test]
async fn an_exact_multiple_of_25_has_no_empty_last_page() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    many_tickets(&tc, ana, org, 25).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let only = browser.get("/portal/tickets").await;
    assert_eq!(listed(&only.body).len(), 25);
    assert!(pager_link(&only.body, "next").is_none());
    assert!(pager_link(&only.body, "prev").is_none());
    many_tickets(&tc, ana, org, 25).await;
    let pages = walk_pages(&mut browser, "/portal/tickets").await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [25, 25],
        "two full pages and no third"
    );
}

#[tokio::test]
async fn an_empty_list_says_what_to_do_next() {
    let tc = TestApp::new().await;
    padaria(&tc).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let mine = browser.get("/portal/tickets").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("Você ainda não abriu nenhum ticket"));
    assert!(mine.body.contains("href=\"/portal/tickets/new\""));
    assert!(listed(&mine.body).is_empty());
    assert!(pager_link(&mine.body, "next").is_none());
    let filtered = browser.get("/portal/tickets?status=solved").await;
    assert!(
        filtered
            .body
            .contains("Nenhum ticket encontrado com esses filtros")
    );
    assert!(!filtered.body.contains("Você ainda não abriu nenhum ticket"));
    let company = browser.get("/portal/tickets?view=org").await;
    assert!(
        company
            .body
            .contains("Nenhum ticket da sua empresa por aqui")
    );
}

#[tokio::test]
async fn a_ticket_opened_between_two_pages_neither_repeats_nor_skips_rows() {
    for query in ["", "?dir=asc", "?sort=updated"] {
        let tc = TestApp::new().await;
        let (org, ana) = padaria(&tc).await;
        let original = many_tickets(&tc, ana, org, 40).await;
        let mut browser = signed_in(&tc, "ana@padaria.example").await;
        let first = browser.get(&format!("/portal/tickets{query}")).await;
        let mut seen = listed(&first.body);
        assert_eq!(seen.len(), 25);
        // Someone opens a ticket now, and another lands amid the second page.
        let newest = ticket(&tc, ana, Some(org), "Novo no topo", "x").await;
        tc.clock.set(at("2026-03-10T17:05:30Z"));
        let amid = ticket(&tc, ana, Some(org), "Novo no meio", "x").await;
        let next = pager_link(&first.body, "next").unwrap();
        for page in walk_pages(&mut browser, &next).await {
            seen.extend(page);
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{query}: a row repeated: {seen:?}"
        );
        for id in &original {
            assert!(seen.contains(&id.0), "{query}: #{} was skipped", id.0);
        }
        // The newest ticket is above the first page; the other one may show.
        assert!(!seen.contains(&newest.0) || query == "?dir=asc", "{query}");
        assert!(
            seen.iter()
                .all(|id| original.iter().any(|t| t.0 == *id) || *id == newest.0 || *id == amid.0)
        );
    }
}

#[tokio::test]
async fn tickets_created_in_the_same_instant_are_paged_by_id() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            ticket(&tc, ana, Some(org), &format!("Mesmo instante {i}"), "x")
                .await
                .0,
        );
    }
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let pages = walk_pages(&mut browser, "/portal/tickets").await;
    assert_eq!(pages.len(), 2);
    let mut descending = ids.clone();
    descending.reverse();
    assert_eq!(pages.concat(), descending);
    let pages = walk_pages(&mut browser, "/portal/tickets?dir=asc").await;
    assert_eq!(pages.concat(), ids);
}

#[tokio::test]
async fn malformed_cursors_and_dates_do_not_break_the_list() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Único", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    for query in [
        "after=garbage",
        "before=1.2.3",
        "after=99999999999999999999.1",
        "after=-1.-1&before=x",
        "status=bogus&type=nada&org=abc&sort=sideways&dir=up&view=everyone",
        "q=%00%27%22%3Cscript%3E",
    ] {
        let page = browser.get(&format!("/portal/tickets?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        assert!(!page.body.contains("<script>"), "{query}");
    }
    let page = browser.get("/portal/tickets?after=garbage").await;
    assert_eq!(listed(&page.body), [id.0]);
    for query in ["from=31/12/2026", "to=2026-13-45"] {
        let page = browser.get(&format!("/portal/tickets?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        assert!(page.body.contains("Data inválida"), "{query}");
        assert!(page.body.contains("aria-invalid=\"true\""), "{query}");
        assert_eq!(listed(&page.body), [id.0], "{query}");
    }
}

#[tokio::test]
async fn dates_read_as_pt_br_in_the_users_time_zone() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    ticket(&tc, ana, Some(org), "Fuso", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get("/portal/tickets").await;
    // 17:00 UTC is 14:00 in São Paulo.
    assert!(page.body.contains("10/03/2026 14:00"), "{}", page.body);
    assert!(!page.body.contains("17:00"));
    store::users::set_locale(&tc.state.db, ana, "pt-BR", "America/Manaus", tc.clock.now())
        .await
        .unwrap();
    // (The account page saves it with a request, which tells the node.)
    tc.state.hub.cached_rows_changed();
    let page = browser.get("/portal/tickets").await;
    assert!(page.body.contains("10/03/2026 13:00"), "{}", page.body);
}

#[tokio::test]
async fn labels_turn_english_with_the_language_switched() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Idioma", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let before = browser.get("/portal/tickets").await;
    assert!(before.body.contains("Meus tickets"));
    assert!(before.body.contains("<html lang=\"pt-BR\">"));
    let token = before.csrf_token().unwrap();
    let switched = browser
        .post_form(
            "/language",
            &[
                ("csrf_token", &token),
                ("lang", "en"),
                ("return_to", "/portal/tickets"),
            ],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let page = browser.get("/portal/tickets").await;
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page.body.contains("My tickets"));
    assert!(page.body.contains("Company tickets"));
    assert!(page.body.contains("Ticket Center"));
    assert!(page.body.contains(">Sent</span>"));
    assert!(page.body.contains("Mar 10, 2026 2:00 PM"));
    assert!(!page.body.contains("Meus tickets"));
    let detail = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(detail.body.contains("Time in each status"));
    assert!(detail.body.contains("(ongoing)"));
    let empty = browser.get("/portal/tickets?status=solved").await;
    assert!(empty.body.contains("No tickets match these filters"));
    let footer = &page.body[page.body.find("<footer").unwrap()..];
    assert!(footer.contains("Support line:"));
}

// ---------------------------------------------------------------------------
// The detail page

#[tokio::test]
async fn detail_shows_the_ticket_header() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = typed_ticket(
        &tc,
        ana,
        Some(org),
        "Nota fiscal rejeitada",
        "Erro 539 na emissão",
        TicketType::Incident,
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(body.contains(&format!("<dt>ID do Ticket</dt><dd>#{}</dd>", id.0)));
    assert!(body.contains("Nota fiscal rejeitada"));
    assert!(body.contains("<dt>Tipo</dt><dd>Incidente</dd>"));
    assert!(body.contains("<dt>Data de Criação</dt><dd>10/03/2026 14:00</dd>"));
    assert!(body.contains("id=\"ticket-status\">Enviado</span>"));
    assert!(body.contains("<dt>Organização</dt><dd>Padaria Pão Dourado</dd>"));
    assert!(body.contains("<dt>Solicitante</dt><dd>Ana Souza</dd>"));
    assert!(body.contains("Erro 539 na emissão"));
    // A ticket id typed with its hash sign works too; anything else is missing.
    let hashed = browser.get(&format!("/portal/tickets/%23{}", id.0)).await;
    assert_eq!(hashed.status, StatusCode::OK);
    let bogus = browser.get("/portal/tickets/abc").await;
    assert_eq!(bogus.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn time_in_each_status_lists_every_status_and_the_current_one_still_counting() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    // Tuesday 14:00 in São Paulo; business hours end at 18:00.
    let id = ticket(&tc, ana, Some(org), "Tempo", "x").await;
    tc.clock.advance(SignedDuration::from_hours(2));
    move_to(&tc, id, TicketStatus::InProgress).await;
    tc.clock.advance(SignedDuration::from_hours(1));
    move_to(&tc, id, TicketStatus::AwaitingReply).await;
    tc.clock.advance(SignedDuration::from_mins(30));
    move_to(&tc, id, TicketStatus::InProgress).await;
    tc.clock.advance(SignedDuration::from_mins(45));
    // Now 18:15 local.
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(page.body.contains("Tempo em cada status"));
    let table_start = page.body.find("<table class=\"times\">").unwrap();
    let table_end = page.body[table_start..].find("</table>").unwrap() + table_start;
    let table = &page.body[table_start..table_end];
    let rows: Vec<&str> = table.split("<tr").skip(2).collect();
    assert_eq!(rows.len(), 3, "{table}");
    let row = |label: &str| -> Vec<String> {
        let row = rows
            .iter()
            .find(|r| r.contains(&format!(">{label}</span>")))
            .unwrap_or_else(|| panic!("no row for {label}: {table}"));
        row.split("<td>")
            .skip(2)
            .map(|cell| cell[..cell.find("</td>").unwrap()].to_owned())
            .collect()
    };
    assert_eq!(row("Enviado"), ["2 h", "2 h", "1"]);
    assert_eq!(row("Aguardando Sua Resposta"), ["30 min", "30 min", "1"]);
    // Calendar time counts past 18:00; business time stops there.
    assert_eq!(row("Em Tratativa"), ["1 h 45 min", "1 h 30 min", "2"]);
    assert_eq!(table.matches("(em andamento)").count(), 1);
    let current = rows.iter().find(|r| r.contains("(em andamento)")).unwrap();
    assert!(current.contains(">Em Tratativa</span>"));
    assert!(current.starts_with(" class=\"current\""));
}

#[tokio::test]
async fn business_time_leaves_out_national_holidays() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    // Sexta-feira Santa 2026 (3 April), 10:00 in São Paulo, then the next
    // Monday 10:00: only Monday 9:00-10:00 is business time (without the
    // holiday it would be 9 h).
    tc.clock.set(at("2026-04-03T13:00:00Z"));
    let id = ticket(&tc, ana, Some(org), "Feriado", "x").await;
    tc.clock.set(at("2026-04-06T13:00:00Z"));
    move_to(&tc, id, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    let table_start = page.body.find("<table class=\"times\">").unwrap();
    let table = &page.body[table_start..];
    let sent = &table[table.find(">Enviado</span>").unwrap()..];
    let cells: Vec<&str> = sent
        .split("<td>")
        .skip(1)
        .take(2)
        .map(|c| &c[..c.find("</td>").unwrap()])
        .collect();
    assert_eq!(cells, ["3 d", "1 h"]);
}

#[tokio::test]
async fn the_timeline_chart_is_inline_svg_with_a_text_alternative() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Gráfico", "x").await;
    tc.clock.advance(SignedDuration::from_hours(2));
    move_to(&tc, id, TicketStatus::InProgress).await;
    tc.clock.advance(SignedDuration::from_mins(30));
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    let start = page.body.find("<svg").expect("an inline SVG");
    let end = page.body[start..].find("</svg>").unwrap() + start;
    let svg = &page.body[start..end];
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains("<title>Linha do tempo do ticket</title>"));
    let desc_start = svg.find("<desc>").unwrap() + "<desc>".len();
    let desc = &svg[desc_start..svg.find("</desc>").unwrap()];
    assert!(
        desc.contains("Enviado: 10/03/2026 14:00 – 10/03/2026 16:00 (2 h)"),
        "{desc}"
    );
    assert!(
        desc.contains("Em Tratativa: 10/03/2026 16:00 – agora (30 min)"),
        "{desc}"
    );
}

#[tokio::test]
async fn the_description_is_rendered_markdown_without_anything_that_runs() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(
        &tc,
        ana,
        Some(org),
        "<b>Assunto</b> com HTML",
        "Texto **importante**\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(2)>\n\n[site](https://example.com)",
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    let body = page.body.to_lowercase();
    assert!(body.contains("<strong>importante</strong>"));
    assert!(!body.contains("<script"), "{}", page.body);
    assert!(!body.contains("href=\"javascript:"), "{}", page.body);
    assert!(!body.contains("<img"), "{}", page.body);
    // What looked like HTML shows as text.
    assert!(body.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!body.contains("<b>assunto</b>"));
    assert!(body.contains("href=\"https://example.com\""));
    // The subject is text.
    assert!(
        page.body
            .contains("&#60;b&#62;Assunto&#60;/b&#62; com HTML")
    );
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[tokio::test]
async fn internal_notes_never_appear_on_the_detail_page() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let agent = user(
        &tc,
        "joana@suporte.example",
        "Joana Suporte",
        Role::Agent,
        &[],
    )
    .await;
    let id = ticket(&tc, ana, Some(org), "Conversa", "x").await;
    tc.clock.advance(SignedDuration::from_mins(5));
    store::tickets::add_comment(
        &tc.state.db,
        id,
        Some(agent),
        "Olá Ana, pode enviar o XML?",
        true,
        tc.clock.now(),
    )
    .await
    .unwrap();
    tc.clock.advance(SignedDuration::from_mins(5));
    store::tickets::add_comment(
        &tc.state.db,
        id,
        Some(agent),
        "Nota interna: cliente difícil",
        false,
        tc.clock.now(),
    )
    .await
    .unwrap();
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(page.body.contains("Olá Ana, pode enviar o XML?"));
    assert!(page.body.contains("Joana Suporte"));
    assert!(page.body.contains("Equipe de suporte"));
    assert!(page.body.contains("10/03/2026 14:05"));
    assert!(!page.body.contains("cliente difícil"));
    assert!(!page.body.contains("Nota interna"));
}

#[tokio::test]
async fn attachments_are_listed_and_download_as_attachments() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Com anexo", "x").await;
    let pdf = attach(
        &tc,
        id,
        None,
        "relatório.pdf",
        "application/pdf",
        b"%PDF-1.4 fake",
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    let url = format!("/portal/tickets/{}/attachments/{pdf}", id.0);
    assert!(
        page.body
            .contains(&format!("<a href=\"{url}\" download>relatório.pdf</a>"))
    );
    assert!(page.body.contains("13 B · application/pdf"));
    assert!(
        !page
            .body
            .contains("Nenhum arquivo foi enviado com este ticket.")
    );
    let download = browser.get(&url).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body, "%PDF-1.4 fake");
    assert_eq!(download.headers[header::CONTENT_TYPE], "application/pdf");
    let disposition = download.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''relat%C3%B3rio.pdf"));
    assert_eq!(download.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn html_and_svg_uploads_download_as_plain_bytes() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Arquivos perigosos", "x").await;
    let html = attach(
        &tc,
        id,
        None,
        "pagina.html",
        "text/html",
        b"<script>alert(1)</script>",
    )
    .await;
    let svg = attach(
        &tc,
        id,
        None,
        "imagem.svg",
        "image/svg+xml",
        b"<svg onload=alert(1)></svg>",
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    for attachment in [html, svg] {
        let download = browser
            .get(&format!(
                "/portal/tickets/{}/attachments/{attachment}",
                id.0
            ))
            .await;
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(
            download.headers[header::CONTENT_TYPE],
            "application/octet-stream"
        );
        assert!(
            download.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(download.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}

#[tokio::test]
async fn an_attachment_of_an_internal_note_answers_404() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Nota com anexo", "x").await;
    let note = internal_note(&tc, id, "log do servidor").await;
    let hidden = attach(
        &tc,
        id,
        Some(note),
        "servidor.log",
        "text/plain",
        b"segredo",
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(!page.body.contains("servidor.log"));
    assert!(
        page.body
            .contains("Nenhum arquivo foi enviado com este ticket.")
    );
    let download = browser
        .get(&format!("/portal/tickets/{}/attachments/{hidden}", id.0))
        .await;
    assert_eq!(download.status, StatusCode::NOT_FOUND);
    assert!(!download.body.contains("segredo"));
}

#[tokio::test]
async fn an_attachment_of_another_ticket_answers_404() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let first = ticket(&tc, ana, Some(org), "Primeiro", "x").await;
    let second = ticket(&tc, ana, Some(org), "Segundo", "x").await;
    let file = attach(&tc, second, None, "nota.txt", "text/plain", b"conteudo").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let right = browser
        .get(&format!("/portal/tickets/{}/attachments/{file}", second.0))
        .await;
    assert_eq!(right.status, StatusCode::OK);
    let wrong = browser
        .get(&format!("/portal/tickets/{}/attachments/{file}", first.0))
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    let missing = browser
        .get(&format!("/portal/tickets/{}/attachments/999999", second.0))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn portal_pages_send_the_security_headers() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Cabeçalhos", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    for path in [
        "/portal/tickets".to_owned(),
        "/portal/tickets/new".to_owned(),
        format!("/portal/tickets/{}", id.0),
        "/portal/tickets/999999".to_owned(),
    ] {
        let page = browser.get(&path).await;
        let csp = page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(page.headers[header::REFERRER_POLICY], "same-origin");
    }
}

// ---------------------------------------------------------------------------
// Replies and status rules

/// Ana, a ticket of hers in `status`, and her signed-in browser.
async fn ticket_in(tc: &TestApp, status: TicketStatus) -> (UserId, TicketId) {
    let (org, ana) = padaria(tc).await;
    let id = ticket(tc, ana, Some(org), "Sistema lento", "Desde ontem").await;
    tc.clock.advance(SignedDuration::from_mins(10));
    move_to(tc, id, status).await;
    tc.clock.advance(SignedDuration::from_mins(10));
    (ana, id)
}

async fn comment_count(tc: &TestApp, id: TicketId) -> usize {
    store::tickets::comments(&tc.state.db, id, true)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_reply_needs_the_token_as_the_first_field_of_the_multipart_form() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    let token = page.csrf_token().unwrap();
    // The form carries the token as its first field, never in its URL.
    let path = format!("/portal/tickets/{}/replies", id.0);
    let form = &page.body[page.body.find(&format!("action=\"{path}\"")).unwrap()..];
    let first_input = &form[form.find("<input").unwrap()..];
    assert!(
        first_input.starts_with(&format!(
            "<input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">"
        )),
        "{}",
        &form[..300]
    );
    assert!(!page.body.contains("csrf_token="));
    let without_token = post_multipart(&mut browser, &path, None, &[("body", "Olá")], &[]).await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);
    let wrong_token = post_multipart(
        &mut browser,
        &path,
        Some(&"0".repeat(64)),
        &[("body", "Olá")],
        &[],
    )
    .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    // Only the first part counts: a token after the message is not read.
    let late_token = post_multipart_body(
        &mut browser,
        &path,
        multipart_body(&[("body", "Olá"), ("csrf_token", &token)], &[]),
    )
    .await;
    assert_eq!(late_token.status, StatusCode::FORBIDDEN);
    let url_encoded = browser
        .post_form(&path, &[("csrf_token", &token), ("body", "Olá")])
        .await;
    assert!(
        url_encoded.status.is_client_error(),
        "{}",
        url_encoded.status
    );
    assert_eq!(comment_count(&tc, id).await, 0);
    let good = post_multipart(&mut browser, &path, Some(&token), &[("body", "Olá")], &[]).await;
    assert_eq!(good.status, StatusCode::SEE_OTHER);
    assert_eq!(comment_count(&tc, id).await, 1);
}

#[tokio::test]
async fn a_multipart_form_with_the_token_only_in_its_url_is_refused_and_creates_nothing() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let key = submission_key(&mut browser).await;
    let token = csrf(&mut browser).await;
    let mut fields = vec![("submission_key", key.as_str())];
    fields.extend_from_slice(&NEW_TICKET);
    let body = multipart_body(
        &fields,
        &[FilePart::new("log.txt", "text/plain", b"linha 1")],
    );
    let response = post_multipart_body(
        &mut browser,
        &format!("/portal/tickets?csrf_token={token}"),
        body,
    )
    .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 1);
    assert_eq!(count_rows(&tc.state.db, "attachments").await, 0);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
    // A multipart body reaches no other form without its token either.
    let confirm = post_multipart_body(
        &mut browser,
        &format!("/portal/tickets/{}/confirm?csrf_token={token}", id.0),
        multipart_body(&[("confirm", "1")], &[]),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);
}

#[tokio::test]
async fn an_empty_reply_is_refused_and_nothing_is_stored() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = reply(&mut browser, id, "   \r\n ", &[]).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Preencha este campo."));
    assert!(
        response
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"body-error\"")
    );
    assert_eq!(comment_count(&tc, id).await, 0);
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);
}

#[tokio::test]
async fn a_reply_while_awaiting_the_customer_moves_the_ticket_to_in_progress() {
    let tc = TestApp::new().await;
    let (ana, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = reply(&mut browser, id, "Segue o **XML** pedido.", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some(format!("/portal/tickets/{}?done=reply#conversation", id.0).as_str())
    );
    assert_eq!(status_of(&tc, id).await, TicketStatus::InProgress);
    let events = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.from_status.as_deref(), Some("awaiting_reply"));
    assert_eq!(last.to_status, "in_progress");
    assert_eq!(last.actor_kind, "customer");
    assert_eq!(last.actor_id, Some(ana.0));
    assert_eq!(last.at.0, tc.clock.now());
    let page = browser
        .get(&format!("/portal/tickets/{}?done=reply", id.0))
        .await;
    assert!(page.body.contains("Resposta enviada."));
    assert!(page.body.contains("Segue o <strong>XML</strong> pedido."));
    assert!(
        page.body
            .contains("id=\"ticket-status\">Em Tratativa</span>")
    );
}

#[tokio::test]
async fn a_reply_on_a_sent_ticket_keeps_its_status() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Enviado", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = reply(&mut browser, id, "Mais um detalhe.", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&tc, id).await, TicketStatus::Sent);
    assert_eq!(
        store::tickets::status_events(&tc.state.db, id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(comment_count(&tc, id).await, 1);
}

#[tokio::test]
async fn confirming_the_solution_while_awaiting_the_customer_solves_the_ticket() {
    let tc = TestApp::new().await;
    let (ana, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(page.body.contains("Confirmar solução"));
    let response = confirm(&mut browser, id).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some(format!("/portal/tickets/{}?done=confirmed", id.0).as_str())
    );
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status(), TicketStatus::Solved);
    assert_eq!(ticket.solved_at.unwrap().0, tc.clock.now());
    let events = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.from_status.as_deref(), Some("awaiting_reply"));
    assert_eq!(last.to_status, "solved");
    assert_eq!(last.actor_kind, "customer");
    assert_eq!(last.actor_id, Some(ana.0));
    let page = browser
        .get(&format!("/portal/tickets/{}?done=confirmed", id.0))
        .await;
    assert!(
        page.body
            .contains("Obrigado! O ticket foi marcado como solucionado.")
    );
    assert!(
        page.body
            .contains("id=\"ticket-status\">Solucionado</span>")
    );
    assert!(!page.body.contains("Confirmar solução"));
}

#[tokio::test]
async fn confirming_the_solution_in_any_other_status_is_refused_with_the_reason() {
    for status in [
        TicketStatus::Sent,
        TicketStatus::InProgress,
        TicketStatus::WithTech,
        TicketStatus::Solved,
    ] {
        let tc = TestApp::new().await;
        let (_, id) = ticket_in(&tc, status).await;
        let events = store::tickets::status_events(&tc.state.db, id)
            .await
            .unwrap()
            .len();
        let mut browser = signed_in(&tc, "ana@padaria.example").await;
        let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
        assert!(!page.body.contains("Confirmar solução"), "{status}");
        let response = confirm(&mut browser, id).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{status}"
        );
        assert!(
            response.body.contains(
                "A solução só pode ser confirmada enquanto o ticket aguarda sua resposta."
            ),
            "{status}: {}",
            response.body
        );
        assert_eq!(status_of(&tc, id).await, status);
        assert_eq!(
            store::tickets::status_events(&tc.state.db, id)
                .await
                .unwrap()
                .len(),
            events
        );
    }
}

#[tokio::test]
async fn a_reply_to_a_ticket_solved_3_days_ago_reopens_it() {
    let tc = TestApp::new().await;
    let (ana, id) = ticket_in(&tc, TicketStatus::Solved).await;
    tc.clock.advance(SignedDuration::from_hours(24 * 3));
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(
        page.body
            .contains("Este ticket foi solucionado recentemente: sua resposta vai reabri-lo.")
    );
    let response = reply(&mut browser, id, "Voltou a acontecer.", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some(format!("/portal/tickets/{}?done=reopened#conversation", id.0).as_str())
    );
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status(), TicketStatus::InProgress);
    assert!(ticket.solved_at.is_none());
    let events = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.from_status.as_deref(), Some("solved"));
    assert_eq!(last.to_status, "in_progress");
    assert_eq!(last.actor_kind, "customer");
    assert_eq!(last.actor_id, Some(ana.0));
    let page = browser
        .get(&format!("/portal/tickets/{}?done=reopened", id.0))
        .await;
    assert!(page.body.contains("Resposta enviada e ticket reaberto."));
}

#[tokio::test]
async fn a_reply_to_a_ticket_solved_8_days_ago_is_refused() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::Solved).await;
    tc.clock.advance(SignedDuration::from_hours(24 * 8));
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(page.body.contains("não pode mais ser reaberto"));
    assert!(!page.body.contains("name=\"body\""), "no reply form");
    assert!(
        page.body
            .contains("href=\"/portal/tickets/new\">Abrir novo ticket</a>")
    );
    let response = reply(
        &mut browser,
        id,
        "Voltou a acontecer.",
        &[FilePart::new("log.txt", "text/plain", b"linha")],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("não pode mais ser reaberto"));
    assert_eq!(comment_count(&tc, id).await, 0);
    assert_eq!(status_of(&tc, id).await, TicketStatus::Solved);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
    assert_eq!(count_rows(&tc.state.db, "attachments").await, 0);
}

#[tokio::test]
async fn the_reopen_window_is_configurable() {
    let tc = TestApp::with_config(|c| c.reopen_window_days = 2).await;
    let (_, id) = ticket_in(&tc, TicketStatus::Solved).await;
    tc.clock.advance(SignedDuration::from_hours(24 * 3));
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = reply(&mut browser, id, "Voltou.", &[]).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("não pode mais ser reaberto"));
    assert_eq!(status_of(&tc, id).await, TicketStatus::Solved);
}

#[tokio::test]
async fn a_reply_to_a_ticket_abandoned_in_triage_is_refused() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::AbandonedTriage).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(page.body.contains("Este ticket foi encerrado"));
    assert!(!page.body.contains("name=\"body\""));
    let response = reply(&mut browser, id, "Ainda preciso de ajuda.", &[]).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Este ticket foi encerrado"));
    assert_eq!(comment_count(&tc, id).await, 0);
    assert_eq!(status_of(&tc, id).await, TicketStatus::AbandonedTriage);
}

async fn small_limits() -> TestApp {
    TestApp::with_config(|c| {
        c.upload_max_file_bytes = 1024;
        c.upload_max_files = 2;
    })
    .await
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_and_nothing_is_stored() {
    let tc = small_limits().await;
    let (_, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let big = vec![b'x'; 1025];
    let response = reply(
        &mut browser,
        id,
        "Segue o log.",
        &[
            FilePart::new("pequeno.txt", "text/plain", b"ok"),
            FilePart::new("grande.log", "text/plain", &big),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .body
            .contains("Um dos arquivos é maior que o limite permitido. Nada foi enviado.")
    );
    // The typed reply is not lost.
    assert!(response.body.contains(">Segue o log.</textarea>"));
    assert_eq!(comment_count(&tc, id).await, 0);
    assert_eq!(count_rows(&tc.state.db, "attachments").await, 0);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);
    // A file exactly at the limit is fine.
    let exact = vec![b'y'; 1024];
    let response = reply(
        &mut browser,
        id,
        "Segue o log.",
        &[FilePart::new("exato.log", "text/plain", &exact)],
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(tc.state.blobs.keys().await.unwrap().len(), 1);
}

#[tokio::test]
async fn too_many_files_are_refused_and_nothing_is_stored() {
    let tc = small_limits().await;
    let (_, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(page.body.contains("Até 2 arquivos"));
    let response = reply(
        &mut browser,
        id,
        "Três arquivos.",
        &[
            FilePart::new("um.txt", "text/plain", b"1"),
            FilePart::new("dois.txt", "text/plain", b"2"),
            FilePart::new("tres.txt", "text/plain", b"3"),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .body
            .contains("Arquivos demais de uma vez. Nada foi enviado.")
    );
    assert!(response.body.contains(">Três arquivos.</textarea>"));
    assert_eq!(comment_count(&tc, id).await, 0);
    assert_eq!(count_rows(&tc.state.db, "attachments").await, 0);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);
}

#[tokio::test]
async fn a_form_with_more_parts_than_allowed_is_refused_and_nothing_is_stored() {
    let tc = small_limits().await;
    let (_, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let token = csrf(&mut browser).await;
    let names: Vec<String> = (0..60).map(|n| format!("extra-{n}")).collect();
    let mut fields = vec![("csrf_token", token.as_str()), ("body", "Muitos campos.")];
    fields.extend(names.iter().map(|name| (name.as_str(), "x")));
    let path = format!("/portal/tickets/{}/replies", id.0);
    let response = post_multipart_body(
        &mut browser,
        &path,
        multipart_body(&fields, &[FilePart::new("um.txt", "text/plain", b"1")]),
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .body
            .contains("O formulário tem campos demais. Nada foi enviado."),
        "{}",
        response.body
    );
    // Empty file inputs are parts too: a flood of them stops at the cap.
    let empty: Vec<FilePart<'_>> = (0..100)
        .map(|_| FilePart::new("", "application/octet-stream", b""))
        .collect();
    let response = post_multipart(
        &mut browser,
        &path,
        Some(&token),
        &[("body", "Vazios.")],
        &empty,
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("O formulário tem campos demais."));
    // A text field over its own limit is refused as well.
    let long = "a".repeat(200 * 1024);
    let response = post_multipart(
        &mut browser,
        &path,
        Some(&token),
        &[("body", "Texto."), ("outro", &long)],
        &[FilePart::new("um.txt", "text/plain", b"1")],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .body
            .contains("Um dos textos do formulário é longo demais. Nada foi enviado.")
    );
    assert_eq!(comment_count(&tc, id).await, 0);
    assert_eq!(count_rows(&tc.state.db, "attachments").await, 0);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
    // Within the limits the same form goes through.
    let response = post_multipart(
        &mut browser,
        &path,
        Some(&token),
        &[("body", "Poucos campos."), ("outro", "a")],
        &[FilePart::new("um.txt", "text/plain", b"1")],
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn files_reach_the_store_as_they_arrive_and_a_broken_upload_leaves_nothing() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let token = csrf(&mut browser).await;
    // The first file whole, then the start of a second one; the rest of
    // the body comes only when the test says so, or never.
    let first = FilePart::new("um.txt", "text/plain", b"primeiro arquivo");
    let whole = multipart_body(
        &[("csrf_token", &token), ("body", "Dois arquivos.")],
        &[first, FilePart::new("dois.txt", "text/plain", b"segundo")],
    );
    let second_starts = whole.windows(8).position(|w| w == b"dois.txt").unwrap();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    sender
        .send(Ok(Bytes::copy_from_slice(&whole[..second_starts])))
        .await
        .unwrap();
    let path = format!("/portal/tickets/{}/replies", id.0);
    let request = browser.request(
        Request::post(&path).header(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=----chamado-test-7MA4YWxkTrZu0gW",
        ),
        Body::from_stream(stream),
    );
    let blobs = tc.state.blobs.clone();
    let client = async move {
        // The first file is in the store while the body is still coming.
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while blobs.keys().await.unwrap().is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the first file was not stored before the body ended");
        // The client goes away.
        sender
            .send(Err(std::io::Error::other("connection reset")))
            .await
            .unwrap();
    };
    let (response, ()) = tokio::join!(request, client);
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(comment_count(&tc, id).await, 0);
    assert_eq!(count_rows(&tc.state.db, "attachments").await, 0);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
    assert_eq!(status_of(&tc, id).await, TicketStatus::AwaitingReply);
}

#[tokio::test]
async fn a_file_sent_in_many_pieces_is_stored_whole_with_its_size_and_sha256() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::AwaitingReply).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let token = csrf(&mut browser).await;
    // Larger than a few of the store's parts, and not a multiple of them.
    let data: Vec<u8> = (0..700_001u32).map(|n| (n % 251) as u8).collect();
    let body = multipart_body(
        &[("csrf_token", &token), ("body", "Log completo.")],
        &[FilePart::new("completo.log", "text/plain", &data)],
    );
    let pieces: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(7_919)
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    let response = browser
        .request(
            Request::post(format!("/portal/tickets/{}/replies", id.0)).header(
                header::CONTENT_TYPE,
                "multipart/form-data; boundary=----chamado-test-7MA4YWxkTrZu0gW",
            ),
            Body::from_stream(futures_util::stream::iter(pieces)),
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let rows = store::attachments::for_ticket(&tc.state.db, id)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].size_bytes, 700_001);
    assert_eq!(rows[0].sha256, service::sha256_hex(&data));
    assert_eq!(
        tc.state.blobs.get(&rows[0].storage_key).await.unwrap(),
        Bytes::from(data)
    );
}

#[tokio::test]
async fn a_reply_with_a_file_stores_both_and_the_file_downloads() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = reply(
        &mut browser,
        id,
        "Print da tela em anexo.",
        &[
            FilePart::new("tela.png", "image/png", b"\x89PNG fake"),
            // An empty file input, as browsers send it.
            FilePart::new("", "application/octet-stream", b""),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let comments = store::tickets::comments(&tc.state.db, id, true)
        .await
        .unwrap();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].public);
    let files = store::attachments::for_ticket(&tc.state.db, id)
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].comment_id, Some(comments[0].id.0));
    assert_eq!(files[0].file_name, "tela.png");
    assert_eq!(files[0].content_type, "image/png");
    assert_eq!(tc.state.blobs.keys().await.unwrap().len(), 1);
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    let url = format!("/portal/tickets/{}/attachments/{}", id.0, files[0].id.0);
    let conversation = &page.body[page.body.find("id=\"conversation\"").unwrap()..];
    assert!(conversation.contains(&format!("<a href=\"{url}\" download>tela.png</a>")));
    let download = browser.get(&url).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.headers[header::CONTENT_TYPE], "image/png");
    assert!(
        download.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
}

// ---------------------------------------------------------------------------
// Contact requests

#[tokio::test]
async fn a_contact_request_is_recorded_and_shown_as_open() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = request_contact(&mut browser, id, &CONTACT).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some(format!("/portal/tickets/{}?done=contact#contact", id.0).as_str())
    );
    let requests = store::contacts::for_ticket(&tc.state.db, id).await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].channel, "phone");
    assert_eq!(requests[0].phone, "(11) 98765-4321");
    assert_eq!(requests[0].state, "open");
    let page = browser
        .get(&format!("/portal/tickets/{}?done=contact", id.0))
        .await;
    assert!(page.body.contains("Solicitação de contato registrada."));
    assert!(page.body.contains(">Aberta</span>"));
    assert!(
        page.body
            .contains("Telefone · (11) 98765-4321 · dias úteis, das 14h às 17h")
    );
    assert!(page.body.contains("Prefiro falar com a Joana"));
    assert!(!page.body.contains(">Atendida</span>"));
    // It counts as activity on the ticket.
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.updated_at.0, tc.clock.now());
}

#[tokio::test]
async fn an_invalid_contact_request_is_refused_with_messages_and_nothing_is_stored() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = request_contact(
        &mut browser,
        id,
        &[
            ("phone", "123"),
            ("preferred_window", ""),
            ("message", "oi"),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Escolha uma das opções."));
    assert!(response.body.contains("Informe um telefone com DDD"));
    assert!(response.body.contains("Preencha este campo."));
    // What was typed stays.
    assert!(response.body.contains("value=\"123\""));
    assert_eq!(count_rows(&tc.state.db, "contact_requests").await, 0);
    for (channel, phone) in [("fax", "(11) 98765-4321"), ("phone", "abc 98765-4321")] {
        let response = request_contact(
            &mut browser,
            id,
            &[
                ("channel", channel),
                ("phone", phone),
                ("preferred_window", "manhã"),
            ],
        )
        .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{channel} {phone}"
        );
    }
    assert_eq!(count_rows(&tc.state.db, "contact_requests").await, 0);
}

#[tokio::test]
async fn a_handled_contact_request_shows_as_handled() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let agent = user(&tc, "joana@suporte.example", "Joana", Role::Agent, &[]).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    request_contact(&mut browser, id, &CONTACT).await;
    let request = store::contacts::for_ticket(&tc.state.db, id).await.unwrap()[0].id;
    store::contacts::mark_handled(&tc.state.db, request, agent, "Liguei", tc.clock.now())
        .await
        .unwrap();
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(page.body.contains(">Atendida</span>"));
    assert!(!page.body.contains(">Aberta</span>"));
    assert!(
        !page.body.contains("Liguei"),
        "the agent's note is internal"
    );
}

#[tokio::test]
async fn the_support_phone_is_on_the_detail_page_and_in_every_portal_footer() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let detail = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    let contact = &detail.body[detail.body.find("id=\"contact\"").unwrap()..];
    assert!(contact.contains("<a href=\"tel:08003690000\" class=\"phone\">0800 369 0000</a>"));
    for path in [
        "/portal/tickets".to_owned(),
        "/portal/tickets?view=org".to_owned(),
        "/portal/tickets/new".to_owned(),
        "/portal/account".to_owned(),
        format!("/portal/tickets/{}", id.0),
        "/portal/tickets/999999".to_owned(),
    ] {
        let page = browser.get(&path).await;
        let footer = &page.body[page.body.find("<footer").expect("a footer")..];
        assert!(
            footer.contains("Central de atendimento:") && footer.contains("0800 369 0000"),
            "{path}"
        );
    }
    let other = TestApp::with_config(|c| c.support_phone = "0800 123 4567".into()).await;
    padaria(&other).await;
    let mut browser = signed_in(&other, "ana@padaria.example").await;
    let page = browser.get("/portal/tickets").await;
    assert!(page.body.contains("0800 123 4567"));
    assert!(!page.body.contains("0800 369 0000"));
}

// ---------------------------------------------------------------------------
// New tickets

/// The new-ticket form's one-time submission key.
async fn submission_key(browser: &mut Browser<'_>) -> String {
    let page = browser.get("/portal/tickets/new").await;
    assert_eq!(page.status, StatusCode::OK);
    attribute_after(&page.body, "name=\"submission_key\" value=\"")
}

/// Submits the new-ticket form with a fresh submission key.
pub async fn open_via_portal(
    browser: &mut Browser<'_>,
    fields: &[(&str, &str)],
    files: &[FilePart<'_>],
) -> TestResponse {
    let key = submission_key(browser).await;
    let token = csrf(browser).await;
    let mut all = vec![("submission_key", key.as_str())];
    all.extend_from_slice(fields);
    post_multipart(browser, "/portal/tickets", Some(&token), &all, files).await
}

pub const NEW_TICKET: [(&str, &str); 3] = [
    ("ticket_type", "incident"),
    ("subject", "Nota fiscal não sai"),
    ("description", "Erro 539 ao emitir."),
];

pub fn created_id(response: &TestResponse) -> TicketId {
    let location = response.location().expect("a redirect");
    let id = location
        .strip_prefix("/portal/tickets/")
        .and_then(|rest| rest.strip_suffix("?done=created"))
        .unwrap_or_else(|| panic!("unexpected location {location}"));
    TicketId(id.parse().unwrap())
}

#[tokio::test]
async fn a_user_in_two_organizations_must_choose_one() {
    let tc = TestApp::new().await;
    let a = tc.create_org("Alfa", "org-a").await;
    tc.create_org("Beta", "org-b").await;
    user(
        &tc,
        "ana@padaria.example",
        "Ana",
        Role::Customer,
        &["org-a", "org-b"],
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let form = browser.get("/portal/tickets/new").await;
    assert!(
        form.body
            .contains("<select id=\"organization\" name=\"organization\"")
    );
    let response = open_via_portal(&mut browser, &NEW_TICKET, &[]).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Confira os campos destacados."));
    let after_select = &response.body[response.body.find("<select id=\"organization\"").unwrap()..];
    let after_select = &after_select[after_select.find("</select>").unwrap()..];
    assert!(
        after_select["</select>".len()..].trim_start().starts_with(
            "<span class=\"field-error\" id=\"organization-error\">Escolha uma das opções.</span>"
        ),
        "{after_select}"
    );
    // What was typed stays.
    assert!(response.body.contains("value=\"Nota fiscal não sai\""));
    assert!(response.body.contains(">Erro 539 ao emitir.</textarea>"));
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
    let org = a.0.to_string();
    let mut fields = NEW_TICKET.to_vec();
    fields.push(("organization", &org));
    let response = open_via_portal(&mut browser, &fields, &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let ticket = store::tickets::find(&tc.state.db, created_id(&response))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.organization_id, Some(a.0));
}

#[tokio::test]
async fn a_user_in_one_organization_gets_it_automatically() {
    let tc = TestApp::new().await;
    let (org, _) = padaria(&tc).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let form = browser.get("/portal/tickets/new").await;
    assert!(!form.body.contains("name=\"organization\""));
    let response = open_via_portal(&mut browser, &NEW_TICKET, &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let id = created_id(&response);
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.organization_id, Some(org.0));
    assert_eq!(ticket.subject, "Nota fiscal não sai");
    assert_eq!(ticket.ticket_type(), TicketType::Incident);
    assert_eq!(ticket.channel, "portal");
    // Its history starts with one status event and one "created" event, and
    // it is in its first status since it was opened.
    let events = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    let steps: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.from_status.as_deref(),
                e.to_status.as_str(),
                e.at,
                e.actor_kind.as_str(),
            )
        })
        .collect();
    assert_eq!(steps, [(None, "sent", ticket.created_at, "customer")]);
    let (kinds, since): (Vec<String>, Option<Ts>) = chamado::with_db!(&tc.state.db, |pool| {
        (
            sqlx::query_scalar("select kind from ticket_events where ticket_id = $1 order by id")
                .bind(id.0)
                .fetch_all(pool)
                .await
                .unwrap(),
            sqlx::query_scalar("select status_since from tickets where id = $1")
                .bind(id.0)
                .fetch_one(pool)
                .await
                .unwrap(),
        )
    });
    assert_eq!(kinds, ["created"]);
    assert_eq!(since, Some(ticket.created_at));
    let page = browser
        .get(&format!("/portal/tickets/{}?done=created", id.0))
        .await;
    assert!(page.body.contains("Ticket aberto com sucesso."));
    assert!(
        page.body
            .contains("<dt>Organização</dt><dd>Padaria Pão Dourado</dd>")
    );
}

#[tokio::test]
async fn missing_type_subject_and_description_are_reported_and_nothing_is_created() {
    let tc = TestApp::new().await;
    padaria(&tc).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = open_via_portal(
        &mut browser,
        &[("subject", "  "), ("description", "")],
        &[FilePart::new("log.txt", "text/plain", b"linha")],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = &response.body;
    assert!(body.contains("Confira os campos destacados."));
    let types = &body[body.find("<fieldset class=\"types\">").unwrap()..];
    let types = &types[..types.find("</fieldset>").unwrap()];
    assert!(types.contains("<span class=\"field-error\" id=\"ticket_type-error\" role=\"alert\">Escolha uma das opções.</span>"));
    assert_eq!(body.matches("Preencha este campo.").count(), 2);
    assert!(body.contains("id=\"subject\" name=\"subject\" type=\"text\" maxlength=\"200\" required value=\"  \" aria-invalid=\"true\" aria-describedby=\"subject-error\""));
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
    assert_eq!(count_rows(&tc.state.db, "status_events").await, 0);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
    // An unknown type is no better than none.
    let response = open_via_portal(
        &mut browser,
        &[
            ("ticket_type", "urgent"),
            ("subject", "Assunto"),
            ("description", "Descrição"),
        ],
        &[],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
}

#[tokio::test]
async fn an_organization_that_is_not_the_users_is_refused() {
    let tc = TestApp::new().await;
    tc.create_org("Alfa", "org-a").await;
    tc.create_org("Beta", "org-b").await;
    let other = tc.create_org("Concorrente", "org-x").await;
    user(
        &tc,
        "ana@padaria.example",
        "Ana",
        Role::Customer,
        &["org-a", "org-b"],
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let org = other.0.to_string();
    let mut fields = NEW_TICKET.to_vec();
    fields.push(("organization", &org));
    let response = open_via_portal(&mut browser, &fields, &[]).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Escolha uma das opções."));
    assert!(!response.body.contains("Concorrente"));
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
}

#[tokio::test]
async fn a_double_submit_without_files_creates_one_ticket_and_a_taken_key_is_refused() {
    let tc = TestApp::new().await;
    padaria(&tc).await;
    user(
        &tc,
        "bruno@padaria.example",
        "Bruno",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let key = submission_key(&mut browser).await;
    let token = csrf(&mut browser).await;
    let mut fields = vec![("submission_key", key.as_str())];
    fields.extend_from_slice(&NEW_TICKET);
    let first = post_multipart(&mut browser, "/portal/tickets", Some(&token), &fields, &[]).await;
    let second = post_multipart(&mut browser, "/portal/tickets", Some(&token), &fields, &[]).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location(), second.location());
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 1);
    assert_eq!(count_rows(&tc.state.db, "status_events").await, 1);
    assert_eq!(count_rows(&tc.state.db, "ticket_events").await, 1);
    // Another customer sending the same key opens nothing and learns nothing
    // of Ana's ticket.
    let mut bruno = signed_in(&tc, "bruno@padaria.example").await;
    let token = csrf(&mut bruno).await;
    let third = post_multipart(&mut bruno, "/portal/tickets", Some(&token), &fields, &[]).await;
    assert_ne!(third.status, StatusCode::SEE_OTHER, "{}", third.body);
    assert!(third.location().is_none());
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 1);
    assert_eq!(count_rows(&tc.state.db, "status_events").await, 1);
}

#[tokio::test]
async fn a_double_submit_creates_one_ticket() {
    let tc = TestApp::new().await;
    padaria(&tc).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let key = submission_key(&mut browser).await;
    let token = csrf(&mut browser).await;
    let mut fields = vec![("submission_key", key.as_str())];
    fields.extend_from_slice(&NEW_TICKET);
    let file = [FilePart::new("log.txt", "text/plain", b"linha")];
    let first = post_multipart(
        &mut browser,
        "/portal/tickets",
        Some(&token),
        &fields,
        &file,
    )
    .await;
    let second = post_multipart(
        &mut browser,
        "/portal/tickets",
        Some(&token),
        &fields,
        &file,
    )
    .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location(), second.location());
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 1);
    assert_eq!(count_rows(&tc.state.db, "attachments").await, 1);
    assert_eq!(tc.state.blobs.keys().await.unwrap().len(), 1);
    // The first ticket's file is still there.
    let id = created_id(&first);
    let files = store::attachments::for_ticket(&tc.state.db, id)
        .await
        .unwrap();
    let download = browser
        .get(&format!(
            "/portal/tickets/{}/attachments/{}",
            id.0, files[0].id.0
        ))
        .await;
    assert_eq!(download.body, "linha");
    // A fresh form opens another ticket.
    let third = open_via_portal(&mut browser, &NEW_TICKET, &[]).await;
    assert_eq!(third.status, StatusCode::SEE_OTHER);
    assert_ne!(third.location(), first.location());
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 2);
}

#[tokio::test]
async fn a_new_ticket_starts_as_sent_with_exactly_one_status_event() {
    let tc = TestApp::new().await;
    let (_, ana) = padaria(&tc).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = open_via_portal(&mut browser, &NEW_TICKET, &[]).await;
    let id = created_id(&response);
    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status(), TicketStatus::Sent);
    assert_eq!(ticket.requester_id, ana);
    assert_eq!(ticket.created_at.0, tc.clock.now());
    let events = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].from_status, None);
    assert_eq!(events[0].to_status, "sent");
    assert_eq!(events[0].actor_kind, "customer");
    assert_eq!(events[0].actor_id, Some(ana.0));
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(page.body.contains("id=\"ticket-status\">Enviado</span>"));
    let list = browser.get("/portal/tickets").await;
    assert_eq!(listed(&list.body), [id.0]);
}

#[tokio::test]
async fn attachments_sent_with_a_new_ticket_are_stored_and_listed() {
    let tc = TestApp::new().await;
    padaria(&tc).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = open_via_portal(
        &mut browser,
        &NEW_TICKET,
        &[
            FilePart::new("erro.png", "image/png", b"\x89PNG"),
            FilePart::new("C:\\Users\\ana\\nota.xml", "application/xml", b"<nfe/>"),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let id = created_id(&response);
    let files = store::attachments::for_ticket(&tc.state.db, id)
        .await
        .unwrap();
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f.comment_id.is_none()));
    assert_eq!(files[1].file_name, "nota.xml");
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    let section = &page.body[page.body.find("id=\"attachments\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains(">erro.png</a>"));
    assert!(section.contains(">nota.xml</a>"));
    let xml = browser
        .get(&format!(
            "/portal/tickets/{}/attachments/{}",
            id.0, files[1].id.0
        ))
        .await;
    assert_eq!(xml.body, "<nfe/>");
    assert_eq!(
        xml.headers[header::CONTENT_TYPE],
        "application/octet-stream"
    );
}

#[tokio::test]
async fn a_new_ticket_over_the_upload_limits_is_not_created() {
    let tc = small_limits().await;
    padaria(&tc).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let big = vec![b'x'; 2048];
    let response = open_via_portal(
        &mut browser,
        &NEW_TICKET,
        &[FilePart::new(
            "grande.bin",
            "application/octet-stream",
            &big,
        )],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .body
            .contains("Um dos arquivos é maior que o limite permitido.")
    );
    // What was typed stays in the form.
    assert!(response.body.contains("value=\"Nota fiscal não sai\""));
    assert!(response.body.contains(">Erro 539 ao emitir.</textarea>"));
    assert!(response.body.contains("value=\"incident\" checked"));
    let response = open_via_portal(
        &mut browser,
        &NEW_TICKET,
        &[
            FilePart::new("1.txt", "text/plain", b"1"),
            FilePart::new("2.txt", "text/plain", b"2"),
            FilePart::new("3.txt", "text/plain", b"3"),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Arquivos demais de uma vez."));
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
    assert!(tc.state.blobs.keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn portal_pages_ask_anonymous_visitors_to_sign_in() {
    let tc = TestApp::new().await;
    let (org, ana) = padaria(&tc).await;
    let id = ticket(&tc, ana, Some(org), "Privado", "x").await;
    let mut browser = tc.browser();
    for path in [
        "/portal/tickets".to_owned(),
        "/portal/tickets/new".to_owned(),
        format!("/portal/tickets/{}", id.0),
    ] {
        let response = browser.get(&path).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            response
                .location()
                .unwrap()
                .starts_with("/login?return_to=")
        );
        assert!(!response.body.contains("Privado"));
    }
}

#[tokio::test]
async fn nul_characters_in_customer_text_are_dropped_instead_of_failing() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let response = reply(&mut browser, id, "Segue\0 o log", &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let comments = store::tickets::comments(&tc.state.db, id, true)
        .await
        .unwrap();
    assert_eq!(comments[0].body, "Segue o log");
    let response = request_contact(
        &mut browser,
        id,
        &[
            ("channel", "chat"),
            ("phone", "(11) 98765-4321"),
            ("preferred_window", "manhã\0"),
            ("message", "\0"),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let requests = store::contacts::for_ticket(&tc.state.db, id).await.unwrap();
    assert_eq!(requests[0].preferred_window, "manhã");
    assert_eq!(requests[0].message, "");
    let response = open_via_portal(
        &mut browser,
        &[
            ("ticket_type", "support"),
            ("subject", "Nota\0 fiscal"),
            ("description", "Não\0 sai"),
        ],
        &[],
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let ticket = store::tickets::find(&tc.state.db, created_id(&response))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.subject, "Nota fiscal");
    assert_eq!(ticket.description, "Não sai");
    let search = browser.get("/portal/tickets?q=%00nota").await;
    assert_eq!(search.status, StatusCode::OK);
    assert_eq!(listed(&search.body), [ticket.id.0]);
}

#[tokio::test]
async fn questions_added_by_an_admin_are_asked_and_their_answers_reach_the_ticket() {
    let tc = TestApp::new().await;
    let (_org, _ana) = padaria(&tc).await;
    let question = |kind: &str, text: &str, options: &str| chamado::service::admin::QuestionInput {
        kind: kind.to_owned(),
        text_pt: text.to_owned(),
        text_en: text.to_owned(),
        options: options.to_owned(),
        mandatory: true,
        active: true,
    };
    chamado::service::admin::create_triage_question(
        &tc.state,
        &question("text", "Qual o número do pedido?", ""),
    )
    .await
    .unwrap();
    chamado::service::admin::create_triage_question(
        &tc.state,
        &question("choice", "Qual módulo?", "Financeiro\nFiscal"),
    )
    .await
    .unwrap();
    let questions = chamado::service::admin::triage_questions(&tc.state)
        .await
        .unwrap();
    let text_key = questions
        .iter()
        .find(|q| q.text_pt == "Qual o número do pedido?")
        .unwrap()
        .key
        .clone();
    let choice = questions
        .iter()
        .find(|q| q.text_pt == "Qual módulo?")
        .unwrap();
    let (choice_key, fiscal) = (choice.key.clone(), choice.options[1].value.clone());
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    let form = browser.get("/portal/tickets/new").await;
    assert!(form.body.contains("Qual o número do pedido?"));
    assert!(form.body.contains(&format!("name=\"{choice_key}\"")));
    // Unanswered mandatory questions are refused next to their fields.
    let refused = open_via_portal(&mut browser, &NEW_TICKET, &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains(&format!("id=\"{text_key}-error\">Preencha este campo."))
    );
    assert!(refused.body.contains(&format!(
        "id=\"{choice_key}-error\" role=\"alert\">Escolha uma das opções."
    )));
    assert_eq!(count_rows(&tc.state.db, "tickets").await, 0);
    let mut fields = NEW_TICKET.to_vec();
    fields.push((text_key.as_str(), "Pedido 4521"));
    fields.push((choice_key.as_str(), fiscal.as_str()));
    let created = open_via_portal(&mut browser, &fields, &[]).await;
    let id = created_id(&created);
    let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
    assert!(
        page.body
            .contains("Qual o número do pedido?</strong> Pedido 4521"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Qual módulo?</strong> Fiscal"));
}

// ---------------------------------------------------------------------------
// Per-user limits

/// The `Retry-After` of a response, in seconds.
fn retry_after(response: &TestResponse) -> i64 {
    response
        .headers
        .get(header::RETRY_AFTER)
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_burst_of_contact_requests_is_stopped_until_the_hour_has_passed() {
    let tc = TestApp::new().await;
    let (ana, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let other = ticket(&tc, ana, None, "Outro", "x").await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    // The first run only places the mail cursor.
    chamado::mail::compose_once(&tc.state).await.unwrap();
    for n in 0..5 {
        let response = request_contact(&mut browser, id, &CONTACT).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "request {n}");
        tc.clock.advance(SignedDuration::from_mins(1));
    }
    assert!(chamado::mail::compose_once(&tc.state).await.unwrap() > 0);
    let events = count_rows(&tc.state.db, "ticket_events").await;

    // The sixth within the hour, on any ticket: 429, nothing written.
    for ticket in [id, other] {
        let refused = request_contact(&mut browser, ticket, &CONTACT).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry_after(&refused), 55 * 60);
        assert!(
            refused.body.contains("Muitas tentativas"),
            "{}",
            refused.body
        );
    }
    assert_eq!(count_rows(&tc.state.db, "contact_requests").await, 5);
    assert_eq!(count_rows(&tc.state.db, "ticket_events").await, events);
    assert_eq!(chamado::mail::compose_once(&tc.state).await.unwrap(), 0);
    // The error page speaks the user's language.
    browser
        .submit("/portal/account", "/language", &[("lang", "en")])
        .await;
    let refused = request_contact(&mut browser, id, &CONTACT).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.body.contains("Too many attempts"),
        "{}",
        refused.body
    );

    // An hour after the first, the window has passed.
    tc.clock.advance(SignedDuration::from_mins(54));
    assert_eq!(
        retry_after(&request_contact(&mut browser, id, &CONTACT).await),
        60
    );
    tc.clock.advance(SignedDuration::from_mins(1));
    let response = request_contact(&mut browser, id, &CONTACT).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(count_rows(&tc.state.db, "contact_requests").await, 6);
}

#[tokio::test]
async fn a_burst_of_replies_is_stopped_per_user() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_in(&tc, TicketStatus::InProgress).await;
    let mut browser = signed_in(&tc, "ana@padaria.example").await;
    for n in 0..20 {
        let response = reply(&mut browser, id, &format!("Mensagem {n}"), &[]).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "reply {n}");
    }
    let refused = reply(&mut browser, id, "Mais uma", &[]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&refused), 60);
    assert_eq!(comment_count(&tc, id).await, 20);
    // Another customer is not held back.
    user(
        &tc,
        "bia@padaria.example",
        "Bia",
        Role::Customer,
        &["org-padaria"],
    )
    .await;
    let mut bia = signed_in(&tc, "bia@padaria.example").await;
    assert_eq!(
        reply(&mut bia, id, "Eu também", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    tc.clock.advance(SignedDuration::from_mins(1));
    assert_eq!(
        reply(&mut browser, id, "Agora sim", &[]).await.status,
        StatusCode::SEE_OTHER
    );
}
