//! `GET /agent`: the queues with their counts, the filters, free text over
//! every comment (internal notes too), sort and keyset pages. The whole
//! state lives in the URL, so a queue view can be bookmarked and shared.

use std::fmt::Write as _;

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    response::Response,
};

use super::{PAGE_SIZE, user_tz};
use crate::{
    AppState,
    domain::{TicketStatus, TicketType},
    error::AppError,
    service,
    store::{
        agent::{AgentQuery, Pick, Queue, QueueRow},
        portal::{Cursor, SortKey},
    },
    web::{Layout, Staff, encode_query_value, render, timeline},
};

/// The queues in the order the sidebar lists them.
const QUEUES: [Queue; 9] = [
    Queue::Status(TicketStatus::Sent),
    Queue::Status(TicketStatus::InProgress),
    Queue::Status(TicketStatus::WithTech),
    Queue::Status(TicketStatus::AwaitingReply),
    Queue::Status(TicketStatus::Solved),
    Queue::Status(TicketStatus::AbandonedTriage),
    Queue::Mine,
    Queue::Unassigned,
    Queue::All,
];

/// The key of a queue in URLs and locale files.
pub fn queue_key(queue: Queue) -> &'static str {
    match queue {
        Queue::All => "all",
        Queue::Mine => "mine",
        Queue::Unassigned => "unassigned",
        Queue::Status(status) => status.key(),
    }
}

fn queue_from_key(key: &str) -> Option<Queue> {
    QUEUES.into_iter().find(|q| queue_key(*q) == key)
}

fn pick_key(pick: Pick) -> String {
    match pick {
        Pick::Nobody => "none".to_owned(),
        Pick::Id(id) => id.to_string(),
    }
}

fn parse_pick(value: &str) -> Option<Pick> {
    if value == "none" {
        Some(Pick::Nobody)
    } else {
        value.parse().ok().map(Pick::Id)
    }
}

/// Typed text as it can be searched: no control characters (PostgreSQL
/// refuses NUL), at most 200 characters.
fn search_text(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// The queue's state as it appears in the URL.
#[derive(Clone, Debug, Default)]
pub struct QueueParams {
    pub queue: Queue,
    pub org: Option<i64>,
    pub ticket_type: Option<TicketType>,
    pub group: Option<Pick>,
    pub assignee: Option<Pick>,
    pub requester: Option<i64>,
    /// Part of a requester's name or e-mail.
    pub who: String,
    pub text: String,
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
}

impl QueueParams {
    /// Reads the query string; unknown values are ignored.
    pub fn parse(query: Option<&str>) -> Self {
        let pairs: Vec<(String, String)> = query
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        let mut params = QueueParams {
            descending: true,
            ..QueueParams::default()
        };
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_str() {
                "queue" => params.queue = queue_from_key(value).unwrap_or_default(),
                "org" => params.org = value.parse().ok(),
                "type" => params.ticket_type = TicketType::from_key(value),
                "group" => params.group = parse_pick(value),
                "assignee" => params.assignee = parse_pick(value),
                "requester" => params.requester = value.parse().ok(),
                "who" => params.who = search_text(value),
                "q" => params.text = search_text(value),
                "sort" => {
                    params.sort = if value == "updated" {
                        SortKey::Updated
                    } else {
                        SortKey::Created
                    }
                }
                "dir" => params.descending = value != "asc",
                "after" => params.after = Cursor::decode(value),
                "before" => params.before = Cursor::decode(value),
                _ => {}
            }
        }
        if params.after.is_some() {
            params.before = None;
        }
        params
    }

    /// The query string for these parameters, without the page cursor.
    pub fn query_string(&self) -> String {
        let mut out = String::new();
        let mut add = |key: &str, value: &str| {
            if !out.is_empty() {
                out.push('&');
            }
            let _ = write!(out, "{key}={}", encode_query_value(value));
        };
        if self.queue != Queue::All {
            add("queue", queue_key(self.queue));
        }
        if let Some(org) = self.org {
            add("org", &org.to_string());
        }
        if let Some(kind) = self.ticket_type {
            add("type", kind.key());
        }
        if let Some(group) = self.group {
            add("group", &pick_key(group));
        }
        if let Some(assignee) = self.assignee {
            add("assignee", &pick_key(assignee));
        }
        if let Some(requester) = self.requester {
            add("requester", &requester.to_string());
        }
        if !self.who.is_empty() {
            add("who", &self.who);
        }
        if !self.text.is_empty() {
            add("q", &self.text);
        }
        if self.sort == SortKey::Updated {
            add("sort", "updated");
        }
        if !self.descending {
            add("dir", "asc");
        }
        out
    }

    pub fn url(&self) -> String {
        let query = self.query_string();
        if query.is_empty() {
            "/agent".to_owned()
        } else {
            format!("/agent?{query}")
        }
    }

    fn with_cursor(&self, key: &str, cursor: Cursor) -> String {
        let query = self.query_string();
        let separator = if query.is_empty() { "" } else { "&" };
        format!("/agent?{query}{separator}{key}={}", cursor.encode())
    }

    /// Sorting by `sort`, flipping the direction when it is the current sort.
    fn sort_url(&self, sort: SortKey) -> String {
        let next = QueueParams {
            descending: self.sort != sort || !self.descending,
            sort,
            after: None,
            before: None,
            ..self.clone()
        };
        next.url()
    }

    fn queue_url(&self, queue: Queue) -> String {
        let next = QueueParams {
            queue,
            after: None,
            before: None,
            ..self.clone()
        };
        next.url()
    }

    fn without_requester(&self) -> String {
        let next = QueueParams {
            requester: None,
            after: None,
            before: None,
            ..self.clone()
        };
        next.url()
    }

    fn filtered(&self) -> bool {
        self.org.is_some()
            || self.ticket_type.is_some()
            || self.group.is_some()
            || self.assignee.is_some()
            || self.requester.is_some()
            || !self.who.is_empty()
            || !self.text.is_empty()
    }
}

/// A queue in the sidebar.
pub struct QueueLink {
    pub key: &'static str,
    pub label: String,
    pub hint: Option<String>,
    pub count: i64,
    pub url: String,
    pub current: bool,
}

/// A choice of a filter's menu: value, label, selected.
pub type Choice = (String, String, bool);

/// A row as displayed.
pub struct Row {
    pub id: i64,
    pub subject: String,
    pub type_label: &'static str,
    pub status_key: &'static str,
    pub status_label: &'static str,
    pub organization: String,
    pub requester: String,
    pub assignee: Option<String>,
    pub group: Option<String>,
    pub created: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "agent/ticket_list.html")]
pub struct TicketListPage {
    layout: Layout,
    queues: Vec<QueueLink>,
    queue_key: &'static str,
    queue_label: String,
    orgs: Vec<Choice>,
    types: Vec<Choice>,
    groups: Vec<Choice>,
    assignees: Vec<Choice>,
    /// The requester chosen by id (from a ticket's links), with the URL
    /// that removes that filter.
    requester: Option<(String, String)>,
    requester_id: Option<i64>,
    who: String,
    text: String,
    sort_updated: bool,
    descending: bool,
    sort_created_url: String,
    sort_updated_url: String,
    rows: Vec<Row>,
    total: i64,
    filtered: bool,
    next_url: Option<String>,
    prev_url: Option<String>,
    open_contact_requests: i64,
}

fn choices(
    named: &[crate::store::agent::Named],
    selected: Option<Pick>,
    nobody: Option<String>,
) -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::with_capacity(named.len() + 1);
    if let Some(label) = nobody {
        out.push(("none".to_owned(), label, selected == Some(Pick::Nobody)));
    }
    out.extend(named.iter().map(|n| {
        (
            n.id.to_string(),
            n.name.clone(),
            selected == Some(Pick::Id(n.id)),
        )
    }));
    out
}

fn row(row: &QueueRow, tz: &jiff::tz::TimeZone, lang: crate::domain::Lang) -> Row {
    let status = TicketStatus::from_key(&row.status).unwrap_or(TicketStatus::Sent);
    Row {
        id: row.id,
        subject: row.subject.clone(),
        type_label: TicketType::from_key(&row.ticket_type)
            .unwrap_or(TicketType::Support)
            .label(lang),
        status_key: status.key(),
        status_label: status.label(lang),
        organization: row.organization_name.clone().unwrap_or_default(),
        requester: row.requester_name.clone(),
        assignee: row.assignee_name.clone(),
        group: row.group_name.clone(),
        created: timeline::format_datetime(row.created_at.0, tz, lang),
        updated: timeline::format_datetime(row.updated_at.0, tz, lang),
    }
}

/// `GET /agent`: a queue.
#[expect(
    clippy::too_many_lines,
    reason = "assembles one page from one query; splitting scatters it"
)]
pub async fn list_tickets(
    State(state): State<AppState>,
    Staff(ctx, session): Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let params = QueueParams::parse(raw.as_deref());
    let tz = user_tz(&state, &session);
    let lang = ctx.lang;
    let query = AgentQuery {
        viewer: session.user.id.0,
        queue: params.queue,
        org: params.org,
        ticket_type: params.ticket_type.map(|t| t.key().to_owned()),
        group: params.group,
        assignee: params.assignee,
        requester: params.requester,
        requester_text: Some(params.who.clone()).filter(|w| !w.is_empty()),
        text: Some(params.text.clone()).filter(|t| !t.is_empty()),
        sort: params.sort,
        descending: params.descending,
        after: params.after,
        before: params.before,
        limit: PAGE_SIZE,
    };
    let (page, counts) = service::agent::queue(&state, &query).await?;
    let options = service::agent::filter_choices(&state).await?;
    let layout = Layout::new(&state, &ctx);
    let t = &layout.t;
    let queues = QUEUES
        .into_iter()
        .map(|queue| {
            let key = queue_key(queue);
            QueueLink {
                key,
                label: t.t(&format!("agent.queue.{key}")).to_owned(),
                hint: matches!(queue, Queue::Mine | Queue::Unassigned)
                    .then(|| t.t(&format!("agent.queue.{key}_hint")).to_owned()),
                count: counts.of(queue),
                url: params.queue_url(queue),
                current: queue == params.queue,
            }
        })
        .collect();
    let cursor_of = |row: &QueueRow| Cursor {
        at: match params.sort {
            SortKey::Created => row.created_at,
            SortKey::Updated => row.updated_at,
        },
        id: row.id,
    };
    let next_url = page
        .has_next
        .then(|| {
            page.rows
                .last()
                .map(|r| params.with_cursor("after", cursor_of(r)))
        })
        .flatten();
    let prev_url = page
        .has_previous
        .then(|| {
            page.rows
                .first()
                .map(|r| params.with_cursor("before", cursor_of(r)))
        })
        .flatten();
    let requester = match params.requester {
        Some(id) => {
            let names = crate::store::agent::user_names(&state.db, &[id]).await?;
            let name = names
                .first()
                .map_or_else(|| format!("#{id}"), |n| n.name.clone());
            Some((name, params.without_requester()))
        }
        None => None,
    };
    let page_view = TicketListPage {
        queues,
        queue_key: queue_key(params.queue),
        queue_label: t
            .t(&format!("agent.queue.{}", queue_key(params.queue)))
            .to_owned(),
        orgs: choices(&options.organizations, params.org.map(Pick::Id), None),
        types: TicketType::ALL
            .into_iter()
            .map(|k| {
                (
                    k.key().to_owned(),
                    k.label(lang).to_owned(),
                    params.ticket_type == Some(k),
                )
            })
            .collect(),
        groups: choices(
            &options.groups,
            params.group,
            Some(t.t("agent.list.no_group").to_owned()),
        ),
        assignees: choices(
            &options.agents,
            params.assignee,
            Some(t.t("agent.list.nobody").to_owned()),
        ),
        requester,
        requester_id: params.requester,
        who: params.who.clone(),
        text: params.text.clone(),
        sort_updated: params.sort == SortKey::Updated,
        descending: params.descending,
        sort_created_url: params.sort_url(SortKey::Created),
        sort_updated_url: params.sort_url(SortKey::Updated),
        rows: page.rows.iter().map(|r| row(r, &tz, lang)).collect(),
        total: counts.of(params.queue),
        filtered: params.filtered(),
        next_url,
        prev_url,
        open_contact_requests: options.open_contact_requests,
        layout,
    };
    render(&page_view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_params_round_trip_through_the_url() {
        let params = QueueParams::parse(Some(
            "queue=mine&org=3&type=incident&group=none&assignee=7&requester=9&who=ana&q=nota%20fiscal&sort=updated&dir=asc",
        ));
        assert_eq!(params.queue, Queue::Mine);
        assert_eq!(params.org, Some(3));
        assert_eq!(params.group, Some(Pick::Nobody));
        assert_eq!(params.assignee, Some(Pick::Id(7)));
        assert_eq!(params.requester, Some(9));
        assert_eq!(params.text, "nota fiscal");
        assert!(!params.descending);
        let again = QueueParams::parse(Some(&params.query_string()));
        assert_eq!(again.query_string(), params.query_string());
    }

    #[test]
    fn every_queue_has_a_distinct_key() {
        for queue in QUEUES {
            assert_eq!(queue_from_key(queue_key(queue)), Some(queue));
        }
        assert_eq!(QueueParams::parse(Some("queue=bogus")).queue, Queue::All);
    }

    #[test]
    fn switching_queue_keeps_the_filters_but_not_the_page() {
        let params = QueueParams::parse(Some("org=3&q=x&after=1700000000000000.5"));
        assert_eq!(
            params.queue_url(Queue::Status(TicketStatus::Sent)),
            "/agent?queue=sent&org=3&q=x"
        );
    }
}
