//! The authorization matrix of the customer portal: four customers across
//! two organizations against every ticket, every portal route and every
//! attachment. What a customer may not see does not exist for them: the
//! same 404 as a missing ticket, and nothing written.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use chamado::{
    domain::{OrgId, Role, TicketId, TicketStatus, UserId},
    store,
};
use jiff::SignedDuration;

use crate::{
    portal::{
        CONTACT, FilePart, attach, confirm, count_rows, internal_note, listed, move_to, reply,
        request_contact, signed_in, status_count, status_of, ticket, user, without_request_id,
    },
    support::{Browser, TestApp, TestResponse},
};

/// The customers, by short name.
const CUSTOMERS: [&str; 4] = ["both", "a_only", "a_restricted", "b_only"];

/// The tickets, by short name: who asked, in which organization, and the
/// status it is in while the lists are checked.
const TICKETS: [(&str, &str, Option<char>, TicketStatus); 6] = [
    ("both_in_a", "both", Some('A'), TicketStatus::Sent),
    ("both_in_b", "both", Some('B'), TicketStatus::InProgress),
    ("a_only_in_a", "a_only", Some('A'), TicketStatus::WithTech),
    (
        "restricted_in_a",
        "a_restricted",
        Some('A'),
        TicketStatus::AwaitingReply,
    ),
    ("b_only_in_b", "b_only", Some('B'), TicketStatus::Solved),
    ("a_only_without_org", "a_only", None, TicketStatus::Sent),
];

/// Exactly the tickets each customer may reach.
fn may_see(customer: &str) -> BTreeSet<&'static str> {
    let names: &[&'static str] = match customer {
        "both" => &[
            "both_in_a",
            "both_in_b",
            "a_only_in_a",
            "restricted_in_a",
            "b_only_in_b",
        ],
        "a_only" => &[
            "both_in_a",
            "a_only_in_a",
            "restricted_in_a",
            "a_only_without_org",
        ],
        "a_restricted" => &["restricted_in_a"],
        "b_only" => &["both_in_b", "b_only_in_b"],
        other => panic!("unknown customer {other}"),
    };
    names.iter().copied().collect()
}

/// What "Meus tickets" lists for each customer.
fn mine(customer: &str) -> BTreeSet<&'static str> {
    TICKETS
        .iter()
        .filter(|(_, requester, _, _)| *requester == customer)
        .map(|(name, ..)| *name)
        .collect()
}

/// What "Tickets da empresa" lists for each customer. The restricted member
/// is not offered that view; asking for it by URL shows nothing.
fn company(customer: &str) -> BTreeSet<&'static str> {
    let names: &[&'static str] = match customer {
        "both" => &[
            "both_in_a",
            "both_in_b",
            "a_only_in_a",
            "restricted_in_a",
            "b_only_in_b",
        ],
        "a_only" => &["both_in_a", "a_only_in_a", "restricted_in_a"],
        "a_restricted" => &[],
        "b_only" => &["both_in_b", "b_only_in_b"],
        other => panic!("unknown customer {other}"),
    };
    names.iter().copied().collect()
}

struct World {
    tc: TestApp,
    org_a: OrgId,
    org_b: OrgId,
    tickets: Vec<(&'static str, TicketId)>,
    /// A file on the description of `a_only_in_a`.
    public_file: i64,
    /// A file on an internal note of `a_only_in_a`.
    note_file: i64,
}

impl World {
    async fn new() -> Self {
        let tc = TestApp::new().await;
        let org_a = tc.create_org("Alfa Comércio", "org-a").await;
        let org_b = tc.create_org("Beta Serviços", "org-b").await;
        let mut users: Vec<(&str, UserId)> = Vec::new();
        users.push((
            "both",
            user(
                &tc,
                "both@example.com",
                "Cliente Ambas",
                Role::Customer,
                &["org-a", "org-b"],
            )
            .await,
        ));
        users.push((
            "a_only",
            user(
                &tc,
                "a_only@example.com",
                "Cliente Alfa",
                Role::Customer,
                &["org-a"],
            )
            .await,
        ));
        let restricted = user(
            &tc,
            "a_restricted@example.com",
            "Cliente Restrito",
            Role::Customer,
            &[],
        )
        .await;
        store::users::add_membership(&tc.state.db, restricted, org_a, Some(false), tc.clock.now())
            .await
            .unwrap();
        users.push(("a_restricted", restricted));
        users.push((
            "b_only",
            user(
                &tc,
                "b_only@example.com",
                "Cliente Beta",
                Role::Customer,
                &["org-b"],
            )
            .await,
        ));
        let mut tickets = Vec::new();
        for (name, requester, org, status) in TICKETS {
            let requester = users.iter().find(|(n, _)| *n == requester).unwrap().1;
            let org = org.map(|o| if o == 'A' { org_a } else { org_b });
            let id = ticket(
                &tc,
                requester,
                org,
                &format!("Assunto {name}"),
                "Descrição com a palavra marmelada",
            )
            .await;
            move_to(&tc, id, status).await;
            tickets.push((name, id));
            tc.clock.advance(SignedDuration::from_mins(1));
        }
        let with_files = tickets[2].1;
        let public_file = attach(
            &tc,
            with_files,
            None,
            "contrato-publico.pdf",
            "application/pdf",
            b"publico",
        )
        .await;
        let note = internal_note(&tc, with_files, "Nota interna com goiabada").await;
        let note_file = attach(
            &tc,
            with_files,
            Some(note),
            "auditoria-interna.txt",
            "text/plain",
            b"interno",
        )
        .await;
        Self {
            tc,
            org_a,
            org_b,
            tickets,
            public_file,
            note_file,
        }
    }

    fn id(&self, name: &str) -> TicketId {
        self.tickets.iter().find(|(n, _)| *n == name).unwrap().1
    }

    fn name_of(&self, id: i64) -> &'static str {
        self.tickets
            .iter()
            .find(|(_, t)| t.0 == id)
            .unwrap_or_else(|| panic!("an unknown ticket #{id} is listed"))
            .0
    }

    async fn browser(&self, customer: &str) -> Browser<'_> {
        signed_in(&self.tc, &format!("{customer}@example.com")).await
    }

    /// The names of the tickets a list page shows.
    fn listed_names(&self, page: &TestResponse) -> BTreeSet<&'static str> {
        let ids = listed(&page.body);
        let names: BTreeSet<&'static str> = ids.iter().map(|id| self.name_of(*id)).collect();
        assert_eq!(names.len(), ids.len(), "a ticket is listed twice");
        names
    }
}

/// The page of a truly missing ticket, as this customer gets it.
async fn missing_page(browser: &mut Browser<'_>) -> TestResponse {
    let page = browser.get("/portal/tickets/999999").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    page
}

/// Asserts the response is the missing-ticket page, byte for byte but for
/// the request id.
fn assert_missing(response: &TestResponse, missing: &TestResponse, what: &str) {
    assert_eq!(response.status, StatusCode::NOT_FOUND, "{what}");
    let (got, want) = (
        without_request_id(&response.body),
        without_request_id(&missing.body),
    );
    if got != want {
        let at = got
            .char_indices()
            .zip(want.chars())
            .find(|((_, a), b)| a != b)
            .map_or(got.len().min(want.len()), |((i, _), _)| i);
        let from = got.floor_char_boundary(at.saturating_sub(80));
        panic!(
            "{what}: the page differs from a missing ticket's at byte {at}:\n{}\n---\n{}",
            &got[from..got.ceil_char_boundary((at + 80).min(got.len()))],
            &want[want.floor_char_boundary(from)
                ..want.ceil_char_boundary((at + 80).min(want.len()))]
        );
    }
    assert_eq!(
        response.headers.get("content-type"),
        missing.headers.get("content-type"),
        "{what}"
    );
}

#[tokio::test]
async fn the_lists_show_each_customer_exactly_the_tickets_they_may_see() {
    let w = World::new().await;
    for customer in CUSTOMERS {
        let mut browser = w.browser(customer).await;
        for (view, query, expected) in [
            ("mine", "", mine(customer)),
            ("company", "view=org", company(customer)),
        ] {
            let page = browser.get(&format!("/portal/tickets?{query}")).await;
            assert_eq!(page.status, StatusCode::OK);
            assert_eq!(
                w.listed_names(&page),
                expected,
                "{customer} in the {view} view"
            );
            for status in TicketStatus::ALL {
                let count = TICKETS
                    .iter()
                    .filter(|(name, _, _, s)| *s == status && expected.contains(name))
                    .count();
                assert_eq!(
                    status_count(&page.body, status.key()),
                    i64::try_from(count).unwrap(),
                    "{customer} in the {view} view, count of {status}"
                );
            }
            // Search hits are scoped the same way; internal notes never match.
            let found = browser
                .get(&format!("/portal/tickets?{query}&q=marmelada"))
                .await;
            assert_eq!(
                w.listed_names(&found),
                expected,
                "{customer} searching the {view} view"
            );
            let hidden = browser
                .get(&format!("/portal/tickets?{query}&q=goiabada"))
                .await;
            assert!(listed(&hidden.body).is_empty(), "{customer}: {view}");
            // Asking for an organization by id never widens the view.
            for org in [w.org_a, w.org_b] {
                let filtered = browser
                    .get(&format!("/portal/tickets?{query}&org={}", org.0))
                    .await;
                assert!(
                    w.listed_names(&filtered).is_subset(&expected),
                    "{customer} filtering the {view} view by organization {}",
                    org.0
                );
            }
        }
        // No page ever names a ticket that is not theirs to see.
        for view in ["", "?view=org"] {
            let page = browser.get(&format!("/portal/tickets{view}")).await;
            for (name, _) in &w.tickets {
                if !may_see(customer).contains(name) {
                    assert!(
                        !page.body.contains(&format!("Assunto {name}<")),
                        "{customer} sees the subject of {name}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_restricted_member_and_the_single_org_members_get_only_their_organizations() {
    let w = World::new().await;
    // a_only asking for B's tickets, a_restricted asking for A's.
    let mut a_only = w.browser("a_only").await;
    let page = a_only
        .get(&format!("/portal/tickets?view=org&org={}", w.org_b.0))
        .await;
    assert!(listed(&page.body).is_empty());
    let mut restricted = w.browser("a_restricted").await;
    let page = restricted
        .get(&format!("/portal/tickets?view=org&org={}", w.org_a.0))
        .await;
    assert!(listed(&page.body).is_empty());
    assert!(!page.body.contains("Tickets da empresa</a>"));
    let page = restricted.get("/portal/tickets").await;
    assert_eq!(w.listed_names(&page), mine("a_restricted"));
}

#[tokio::test]
async fn ticket_pages_open_only_for_those_who_may_see_them() {
    let w = World::new().await;
    for customer in CUSTOMERS {
        let mut browser = w.browser(customer).await;
        let missing = missing_page(&mut browser).await;
        for (name, id) in &w.tickets {
            let page = browser.get(&format!("/portal/tickets/{}", id.0)).await;
            let what = format!("{customer} opening {name}");
            if may_see(customer).contains(name) {
                assert_eq!(page.status, StatusCode::OK, "{what}");
                assert!(page.body.contains(&format!("Assunto {name}")), "{what}");
                assert!(!page.body.contains("goiabada"), "{what}");
            } else {
                assert_missing(&page, &missing, &what);
                assert!(!page.body.contains(&format!("Assunto {name}")), "{what}");
            }
        }
    }
}

#[tokio::test]
async fn attachments_download_only_for_those_who_may_see_the_ticket_and_never_from_notes() {
    let w = World::new().await;
    let owner = w.id("a_only_in_a");
    for customer in CUSTOMERS {
        let mut browser = w.browser(customer).await;
        let missing = missing_page(&mut browser).await;
        let public = browser
            .get(&format!(
                "/portal/tickets/{}/attachments/{}",
                owner.0, w.public_file
            ))
            .await;
        let what = format!("{customer} downloading the public file");
        if may_see(customer).contains("a_only_in_a") {
            assert_eq!(public.status, StatusCode::OK, "{what}");
            assert_eq!(public.body, "publico");
        } else {
            assert_missing(&public, &missing, &what);
        }
        let note = browser
            .get(&format!(
                "/portal/tickets/{}/attachments/{}",
                owner.0, w.note_file
            ))
            .await;
        assert_missing(
            &note,
            &missing,
            &format!("{customer} downloading the note's file"),
        );
        // Through any other ticket's address neither file exists.
        for (name, id) in &w.tickets {
            if *id == owner {
                continue;
            }
            for file in [w.public_file, w.note_file] {
                let response = browser
                    .get(&format!("/portal/tickets/{}/attachments/{file}", id.0))
                    .await;
                assert_missing(
                    &response,
                    &missing,
                    &format!("{customer} downloading file {file} through {name}"),
                );
            }
        }
    }
}

#[tokio::test]
async fn replies_are_accepted_only_on_tickets_the_customer_may_see() {
    let w = World::new().await;
    let tc = &w.tc;
    for customer in CUSTOMERS {
        let mut browser = w.browser(customer).await;
        let missing = missing_page(&mut browser).await;
        for (name, id) in &w.tickets {
            let comments = count_rows(&tc.state.db, "comments").await;
            let files = tc.state.blobs.keys().await.unwrap().len();
            let status = status_of(tc, *id).await;
            let response = reply(
                &mut browser,
                *id,
                &format!("Resposta de {customer}"),
                &[FilePart::new("anexo.txt", "text/plain", b"dados")],
            )
            .await;
            let what = format!("{customer} replying to {name}");
            if may_see(customer).contains(name) {
                assert_eq!(response.status, StatusCode::SEE_OTHER, "{what}");
                assert_eq!(count_rows(&tc.state.db, "comments").await, comments + 1);
                assert_eq!(tc.state.blobs.keys().await.unwrap().len(), files + 1);
            } else {
                assert_missing(&response, &missing, &what);
                assert_eq!(
                    count_rows(&tc.state.db, "comments").await,
                    comments,
                    "{what}"
                );
                assert_eq!(tc.state.blobs.keys().await.unwrap().len(), files, "{what}");
                assert_eq!(status_of(tc, *id).await, status, "{what}");
            }
        }
    }
}

#[tokio::test]
async fn the_solution_can_be_confirmed_only_on_tickets_the_customer_may_see() {
    let w = World::new().await;
    let tc = &w.tc;
    for customer in CUSTOMERS {
        let mut browser = w.browser(customer).await;
        let missing = missing_page(&mut browser).await;
        for (name, id) in &w.tickets {
            move_to(tc, *id, TicketStatus::AwaitingReply).await;
            let events = count_rows(&tc.state.db, "status_events").await;
            let response = confirm(&mut browser, *id).await;
            let what = format!("{customer} confirming {name}");
            if may_see(customer).contains(name) {
                assert_eq!(response.status, StatusCode::SEE_OTHER, "{what}");
                assert_eq!(status_of(tc, *id).await, TicketStatus::Solved, "{what}");
            } else {
                assert_missing(&response, &missing, &what);
                assert_eq!(
                    status_of(tc, *id).await,
                    TicketStatus::AwaitingReply,
                    "{what}"
                );
                assert_eq!(
                    count_rows(&tc.state.db, "status_events").await,
                    events,
                    "{what}"
                );
            }
        }
    }
}

#[tokio::test]
async fn contact_requests_are_accepted_only_on_tickets_the_customer_may_see() {
    let w = World::new().await;
    let tc = &w.tc;
    for customer in CUSTOMERS {
        let mut browser = w.browser(customer).await;
        let missing = missing_page(&mut browser).await;
        for (name, id) in &w.tickets {
            let before = count_rows(&tc.state.db, "contact_requests").await;
            let response = request_contact(&mut browser, *id, &CONTACT).await;
            let what = format!("{customer} asking for contact on {name}");
            if may_see(customer).contains(name) {
                assert_eq!(response.status, StatusCode::SEE_OTHER, "{what}");
                assert_eq!(
                    count_rows(&tc.state.db, "contact_requests").await,
                    before + 1
                );
            } else {
                assert_missing(&response, &missing, &what);
                assert_eq!(
                    count_rows(&tc.state.db, "contact_requests").await,
                    before,
                    "{what}"
                );
            }
            // An invalid form says nothing about a ticket one may not see.
            let invalid = request_contact(&mut browser, *id, &[("phone", "1")]).await;
            if may_see(customer).contains(name) {
                assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
            } else {
                assert_missing(&invalid, &missing, &format!("{what}, invalid form"));
            }
        }
    }
}
