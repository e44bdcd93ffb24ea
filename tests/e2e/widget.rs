//! The help widget on the demo host platform, as the seed walks it: the
//! "Ajuda" (?) button opens the chat, "Tickets" shows my history, and
//! "procurando os tickets da sua empresa?" opens the company view of the
//! portal in a new tab, already signed in. Also: the direct portal link
//! through the platform's login, a triage in the chat that opens a ticket,
//! an agent's reply arriving live, a triage abandoned by the timeout, a
//! broken platform session, and axe-core inside the frame.

use std::time::Duration;

use crate::{
    flows::{ANA, ANA_NAME, PORTAL_HOME},
    support::{Browser, csrf_token_in, input_value_in, run, run_with_env},
};

const BUTTON: &str = "#chamado-widget-button";
const PANEL: &str = "#chamado-widget-panel";
const FRAME: &str = "#chamado-widget-panel iframe";
const FERNANDA: &str = "fernanda@suporte.example";
const ADMIN: &str = "admin@suporte.example";
/// How long a live change may take to reach the open chat.
const LIVE: Duration = Duration::from_secs(5);

/// Logs into the demo platform (its own login, not Chamado's) as `email`
/// and waits for its dashboard, where the widget is.
async fn log_into_platform(b: &Browser, email: &str) {
    b.goto("/demo/host").await;
    b.click_and_wait(&format!(
        r#"form[action="/demo/host/login"] button[data-email="{email}"]"#
    ))
    .await;
    assert_eq!(b.wait_for_path("/demo/host").await, "/demo/host");
    b.wait_for(BUTTON).await;
}

/// Clicks "Ajuda" (?) and waits, inside the frame, for the chat's home.
async fn open_chat(b: &Browser) {
    let label = b.text(BUTTON).await.replace('\n', " ");
    assert_eq!(label, "? Ajuda", "the button's text");
    assert_eq!(
        b.attr(&format!("{BUTTON} span"), "aria-hidden")
            .await
            .as_deref(),
        Some("true"),
        "the question mark is decoration; the name is \"Ajuda\""
    );
    assert_eq!(
        b.attr(BUTTON, "aria-expanded").await.as_deref(),
        Some("false")
    );
    b.click(BUTTON).await;
    assert_eq!(
        b.attr(BUTTON, "aria-expanded").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        b.attr(BUTTON, "aria-controls").await.as_deref(),
        Some("chamado-widget-panel")
    );
    b.enter_frame(FRAME).await;
    b.wait_for_text("#cw-new", "Abrir novo ticket", LIVE).await;
}

/// The panel's size and the window's, in CSS pixels.
async fn panel_and_window(b: &Browser) -> (f64, f64, f64, f64) {
    let value = b
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
             const d = document.documentElement; \
             return [r.width, r.height, d.clientWidth, d.clientHeight];",
            vec![serde_json::json!(PANEL)],
        )
        .await;
    let n = |i: usize| value[i].as_f64().unwrap_or_default();
    (n(0), n(1), n(2), n(3))
}

/// Parses `Aberto em 24/11/2026 09:12 · …` into a sortable number.
fn opened_at(meta: &str) -> u64 {
    let date = meta
        .split("Aberto em ")
        .nth(1)
        .and_then(|rest| rest.split(" · ").next())
        .unwrap_or_else(|| panic!("no date in {meta:?}"));
    let digits: Vec<u64> = date
        .split(['/', ' ', ':'])
        .map(|part| part.parse().unwrap_or_else(|_| panic!("bad date {date:?}")))
        .collect();
    let [day, month, year, hour, minute] = digits[..] else {
        panic!("bad date {date:?}");
    };
    (((year * 100 + month) * 100 + day) * 100 + hour) * 100 + minute
}

#[tokio::test]
async fn the_chat_shows_my_tickets_and_opens_the_company_view_signed_in() {
    run("widget-history", |b| async move {
        log_into_platform(&b, ANA).await;
        b.axe_check().await;
        b.screenshot("1-platform").await;

        open_chat(&b).await;
        assert_eq!(b.text("#cw-tickets").await, "Tickets");
        b.axe_check().await;
        b.leave_frame().await;
        b.screenshot("2-chat-open").await;
        b.enter_frame(FRAME).await;

        // "Tickets": the history of the tickets she opened, newest first.
        b.click("#cw-tickets").await;
        b.wait_for_text("#cw-title", "Meus tickets", LIVE).await;
        b.wait_for(".cw-ticket").await;
        let numbers = b.texts(".cw-ticket .cw-num").await;
        assert!(
            !numbers.is_empty() && numbers.iter().all(|n| n.starts_with('#')),
            "ticket numbers: {numbers:?}"
        );
        assert_eq!(
            b.count(".cw-ticket .cw-badge").await,
            numbers.len(),
            "a status badge on every ticket"
        );
        let dates: Vec<u64> = b
            .texts(".cw-ticket .cw-meta")
            .await
            .iter()
            .map(|m| opened_at(m))
            .collect();
        assert!(
            dates.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {dates:?}"
        );
        b.axe_check().await;
        b.leave_frame().await;
        b.screenshot("3-history").await;
        b.enter_frame(FRAME).await;

        // "procurando os tickets da sua empresa?": a new tab on the company
        // view of the portal, signed in, without a second login.
        let link = ".cw-org-link";
        assert_eq!(b.text(link).await, "procurando os tickets da sua empresa?");
        let platform_tab = b.window_handle().await;
        let known = b.window_handles().await;
        b.click(link).await;
        b.switch_to_new_window(&known).await;
        b.wait_for_path(PORTAL_HOME).await;
        assert_eq!(b.path().await, "/portal/tickets?view=org");
        assert_eq!(b.text(".user-name").await, ANA_NAME);
        assert_eq!(
            b.text(r#"a[aria-current="page"]"#).await,
            "Tickets da empresa"
        );
        b.screenshot("4-company-view").await;
        b.close_window_for(&platform_tab).await;

        // Esc closes the chat and gives the focus back to the button.
        b.enter_frame(FRAME).await;
        b.wait_for(".cw-org-link").await;
        b.session()
            .execute(
                "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));",
                vec![],
            )
            .await
            .expect("press Esc in the frame");
        b.leave_frame().await;
        let deadline = std::time::Instant::now() + LIVE;
        while b.attr(BUTTON, "aria-expanded").await.as_deref() != Some("false") {
            assert!(std::time::Instant::now() < deadline, "Esc did not close the chat");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            b.execute("return document.activeElement && document.activeElement.id;", vec![])
                .await,
            serde_json::json!("chamado-widget-button"),
            "the focus is back on the button"
        );
    })
    .await;
}

#[tokio::test]
async fn the_direct_portal_link_goes_through_the_platform_login() {
    run("widget-direct-link", |b| async move {
        // Logged out everywhere: the portal sends her to the platform's
        // login, which brings her back signed in.
        b.goto(PORTAL_HOME).await;
        assert_eq!(b.path().await, "/demo/host?return_to=%2Fportal%2Ftickets");
        b.click_and_wait(&format!(
            r#"form[action="/demo/host/login"] button[data-email="{ANA}"]"#
        ))
        .await;
        b.wait_for_path(PORTAL_HOME).await;
        assert_eq!(b.text(".user-name").await, ANA_NAME);

        // Logged into the platform but not into the portal (a new browser
        // session of Chamado's): the platform forwards her at once.
        b.session()
            .delete_cookie("chamado_session")
            .await
            .expect("drop Chamado's session cookie");
        b.goto("/portal/tickets?view=org").await;
        b.wait_for_path(PORTAL_HOME).await;
        assert_eq!(b.path().await, "/portal/tickets?view=org");
        assert_eq!(b.text(".user-name").await, ANA_NAME);
        b.screenshot("1-forwarded").await;

        // Without the platform's session the widget cannot get a token: the
        // chat gives the seed's advice and the support phone.
        b.goto("/demo/host").await;
        b.wait_for(BUTTON).await;
        b.session()
            .delete_cookie("demo_host_user")
            .await
            .expect("drop the platform's cookie");
        b.click(BUTTON).await;
        b.enter_frame(FRAME).await;
        let advice = b
            .wait_for_text(".cw-auth", "Saia da plataforma Kamino.", LIVE)
            .await;
        assert!(
            advice.contains("Faça o login novamente com suas credenciais.")
                && advice.contains("0800 369 0000"),
            "the advice and the phone: {advice}"
        );
        b.axe_check().await;
        b.leave_frame().await;
        b.screenshot("2-no-token").await;
    })
    .await;
}

/// Answers the chat's questions, with one refused answer and a file;
/// returns the new ticket's number (`#201`) and id.
async fn answer_the_triage(b: &Browser) -> (String, String) {
    // Ana belongs to two companies: the bot asks which one.
    b.wait_for_text(".from-bot", "Para qual organização", LIVE)
        .await;
    b.axe_check().await;
    b.wait_for_text(".cw-choice", "Padaria Pão Dourado", LIVE)
        .await;
    let padaria = b.find_all(".cw-choice").await;
    let mut clicked = false;
    for choice in padaria {
        if choice.text().await.unwrap_or_default() == "Padaria Pão Dourado" {
            choice.click().await.expect("choose Padaria");
            clicked = true;
            break;
        }
    }
    assert!(clicked, "the organization buttons");
    b.wait_for_text(".from-me", "Padaria Pão Dourado", LIVE)
        .await;

    b.wait_for_text(".from-bot", "Qual é o tipo do ticket?", LIVE)
        .await;
    b.wait_for_text(".cw-choice", "Suporte", LIVE).await;
    b.click(r#".cw-choice[data-value="support"]"#).await;

    // An empty subject is refused in the chat; then a real one, with Enter.
    b.wait_for_text(".from-bot", "Qual é o assunto?", LIVE)
        .await;
    b.click("#cw-triage-input button[type=submit]").await;
    b.wait_for(".cw-error-bubble").await;
    b.fill("#cw-answer", "Relatório de vendas não abre\u{E007}")
        .await;
    b.wait_for_text(".from-me", "Relatório de vendas não abre", LIVE)
        .await;

    b.wait_for_text(".from-bot", "Descreva o que aconteceu", LIVE)
        .await;
    b.fill(
        "#cw-answer",
        "Desde ontem o relatório fica carregando.\u{E008}\u{E007}\u{E008}Já tentei em outro navegador.",
    )
    .await;
    b.click("#cw-triage-input button[type=submit]").await;
    b.wait_for_text(".from-me", "outro navegador", LIVE).await;

    // The optional attachment: a file chosen in the chat goes with the ticket.
    b.wait_for_text(".from-bot", "Quer anexar arquivos", LIVE)
        .await;
    let dir = tempfile::tempdir().expect("a folder for the attachment");
    let file = dir.path().join("print-relatorio.txt");
    std::fs::write(&file, "tela do relatório").expect("write the attachment");
    b.upload("#cw-file-input", &file).await;
    b.wait_for_text(".cw-file-list", "print-relatorio.txt", LIVE)
        .await;
    b.click("#cw-send-files").await;
    let created = b.wait_for_text(".cw-created", "criado", LIVE).await;
    let number = created
        .split_whitespace()
        .find(|w| w.starts_with('#'))
        .unwrap_or_else(|| panic!("a ticket number in {created:?}"))
        .to_owned();
    assert_eq!(
        b.text(".cw-created p").await,
        format!("Ticket {number} criado.")
    );
    let id = number.trim_start_matches('#').to_owned();
    (number, id)
}

/// Fernanda replies from the agent workspace (over HTTP, with her session
/// and CSRF token) and asks for an answer; the open chat shows both at once.
async fn fernanda_replies(b: &Browser, id: &str) {
    // No waiting for the socket: the chat subscribes from the last event it
    // loaded, so a reply sent before the subscription is replayed.
    let mut agent = b.http_client();
    agent.sign_in(FERNANDA).await;
    let page = agent.get(&format!("/agent/tickets/{id}")).await;
    assert_eq!(page.status, 200, "the agent's ticket page");
    let csrf = csrf_token_in(&page.body);
    let version = input_value_in(&page.body, "version");
    let reply = agent
        .post_multipart(
            &format!("/agent/tickets/{id}/comments"),
            &csrf,
            &[
                ("body", "Olá, Ana! Já estamos verificando o relatório."),
                ("visibility", "public"),
                ("then", "awaiting_reply"),
                ("version", &version),
            ],
        )
        .await;
    assert!(
        (200..400).contains(&reply.status),
        "the agent's reply answered {}: {}",
        reply.status,
        reply.body
    );
    let live = b
        .wait_for_text(".cw-msg.from-support", "Já estamos verificando", LIVE)
        .await;
    assert!(live.contains("Fernanda"), "the author: {live}");
    b.wait_for_text(".cw-event", "Aguardando Sua Resposta", LIVE)
        .await;
    assert_eq!(
        b.text(".cw-ticket-head .cw-badge").await,
        "Aguardando Sua Resposta"
    );
    assert_eq!(
        b.count(".cw-msg.from-support").await,
        1,
        "the reply shown once"
    );
}

/// A narrow window: the panel fills it.
async fn full_screen_when_narrow(b: &Browser) {
    b.set_window_size(400, 800).await;
    let deadline = std::time::Instant::now() + LIVE;
    loop {
        let (w, h, ww, wh) = panel_and_window(b).await;
        if (w - ww).abs() < 1.0 && (h - wh).abs() < 1.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "full screen on a narrow window: panel {w}×{h}, window {ww}×{wh}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.screenshot_viewport("3-conversation-narrow").await;
    b.set_window_size(1280, 900).await;
}

#[tokio::test]
async fn a_triage_in_the_chat_opens_a_ticket_and_replies_arrive_live() {
    run("widget-triage", |b| async move {
        log_into_platform(&b, ANA).await;
        open_chat(&b).await;
        b.click("#cw-new").await;

        let (number, id) = answer_the_triage(&b).await;
        b.leave_frame().await;
        b.screenshot("1-ticket-created").await;
        b.enter_frame(FRAME).await;

        // It heads the history, "Enviado".
        b.click(".cw-input button").await;
        b.wait_for(".cw-ticket").await;
        assert_eq!(b.text(".cw-ticket .cw-num").await, number);
        assert_eq!(b.text(".cw-ticket .cw-badge").await, "Enviado");
        assert!(
            b.text(".cw-ticket .cw-subject")
                .await
                .contains("Relatório de vendas")
        );

        // Its conversation, live: Fernanda answers from the agent workspace.
        b.click(&format!(r#".cw-ticket[data-ticket="{id}"]"#)).await;
        b.wait_for("#cw-reply").await;
        b.wait_for_text("#cw-ticket-subject", "Relatório de vendas não abre", LIVE)
            .await;
        fernanda_replies(&b, &id).await;

        // She answers with Enter; Shift+Enter keeps a new line.
        b.fill(
            "#cw-reply",
            "Obrigada!\u{E008}\u{E007}\u{E008}Aguardo.\u{E007}",
        )
        .await;
        let sent = b.wait_for_text(".cw-msg.from-me", "Aguardo.", LIVE).await;
        assert!(
            sent.contains("Obrigada!"),
            "one message of two lines: {sent}"
        );
        assert_eq!(b.count(".cw-msg.from-me").await, 1, "sent once: {sent}");
        b.wait_for_text(".cw-event", "Em Tratativa", LIVE).await;
        b.axe_check().await;
        b.leave_frame().await;
        b.screenshot("2-conversation-wide").await;
        let (width, height, _, _) = panel_and_window(&b).await;
        assert!(
            (370.0..=390.0).contains(&width) && height > 400.0,
            "a panel of about 380 px on a wide window: {width}×{height}"
        );

        // On a narrow screen the chat takes the whole window.
        full_screen_when_narrow(&b).await;

        // The portal shows the same ticket.
        b.goto(&format!("/portal/tickets/{id}")).await;
        b.wait_for_path(&format!("/portal/tickets/{id}")).await;
        let page = b.body_text().await;
        assert!(
            page.contains("Relatório de vendas não abre") && page.contains("print-relatorio.txt"),
            "the ticket on the portal: {page}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_unanswered_triage_ends_as_abandoned_in_the_chat() {
    run_with_env(
        "widget-abandoned",
        &[("CHAMADO_JOBS_INTERVAL_SECS", "1")],
        |b| async move {
            // The admin sets the shortest triage timeout: one minute.
            let mut admin = b.http_client();
            admin.sign_in(ADMIN).await;
            let page = admin.get("/admin/automations").await;
            assert_eq!(page.status, 200, "the automations page");
            let csrf = csrf_token_in(&page.body);
            let field = |name: &str| input_value_in(&page.body, name);
            let (solve, remind, reopen) = (
                field("auto_solve_business_days"),
                field("reminder_business_days_before"),
                field("reopen_window_days"),
            );
            let saved = admin
                .post_form(
                    "/admin/automations",
                    &[
                        ("csrf_token", &csrf),
                        ("triage_timeout_minutes", "1"),
                        ("auto_solve_business_days", &solve),
                        ("reminder_business_days_before", &remind),
                        ("reopen_window_days", &reopen),
                    ],
                )
                .await;
            assert_eq!(saved.status, 303, "saving the automations: {}", saved.body);

            // Ana starts a ticket in the chat, answers one question, and leaves it.
            log_into_platform(&b, ANA).await;
            open_chat(&b).await;
            b.click("#cw-new").await;
            b.wait_for_text(".cw-choice", "Padaria Pão Dourado", LIVE)
                .await;
            b.click(".cw-choice").await;
            b.wait_for_text(".from-bot", "Qual é o tipo do ticket?", LIVE)
                .await;

            // Closing and reopening the chat resumes the same triage.
            b.leave_frame().await;
            b.click(BUTTON).await;
            b.goto("/demo/host").await;
            b.click(BUTTON).await;
            b.enter_frame(FRAME).await;
            b.click("#cw-new").await;
            b.wait_for_text(".from-bot", "Qual é o tipo do ticket?", LIVE)
                .await;
            assert_eq!(
                b.count(".cw-msg.from-me").await,
                1,
                "the answer given before"
            );

            // Before the timeout the chat asks whether she is still there;
            // a minute after her last answer the job closes it, and the chat
            // says so.
            b.wait_for_text(".cw-reminder", "Ainda está aí?", Duration::from_secs(100))
                .await;
            b.wait_for_text(
                ".from-bot",
                "foi encerrado como Abandono na Triagem",
                Duration::from_secs(100),
            )
            .await;
            assert_eq!(b.count(".cw-choice").await, 0, "no more questions");
            b.leave_frame().await;
            b.screenshot("1-abandoned").await;
            b.enter_frame(FRAME).await;

            // It stays in her history as *Abandono na Triagem*.
            b.click(".cw-input .cw-secondary").await;
            b.wait_for_text(".cw-ticket .cw-badge", "Abandono na Triagem", LIVE)
                .await;
        },
    )
    .await;
}

#[tokio::test]
async fn a_host_page_can_hand_over_tokens_with_identify() {
    run("widget-identify", |b| async move {
        log_into_platform(&b, ANA).await;
        // The page's own code gives the token: here it asks the same
        // endpoint, through `Chamado('identify', …)`.
        b.execute(
            "window.__tokens = 0; \
             Chamado('identify', () => { window.__tokens += 1; \
               return fetch('/demo/host/token', { credentials: 'include' }).then((r) => r.text()); });",
            vec![],
        )
        .await;
        open_chat(&b).await;
        b.wait_for_text(".cw-greeting", "Olá, Ana!", LIVE).await;
        b.leave_frame().await;
        assert_eq!(
            b.execute("return window.__tokens;", vec![]).await,
            serde_json::json!(1),
            "one token asked for"
        );

        // A token the host got wrong: the chat gives the seed's advice.
        b.goto("/demo/host").await;
        b.wait_for(BUTTON).await;
        b.execute(
            "Chamado('identify', () => Promise.resolve('not-a-token'));",
            vec![],
        )
        .await;
        b.click(BUTTON).await;
        b.enter_frame(FRAME).await;
        b.wait_for_text(".cw-auth", "Saia da plataforma Kamino.", LIVE)
            .await;
    })
    .await;
}
