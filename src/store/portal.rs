//! The customer's view of tickets. Every query here is scoped to what the
//! viewer may see: tickets they requested, or tickets of an organization
//! where their membership allows the organization view. A ticket outside
//! that scope is indistinguishable from a missing one.

use sqlx::{FromRow, QueryBuilder};

use super::{
    Db, StoreError, Ts,
    lane::{self, Arg, LaneSql, SqlBuilder},
    ticket_search::{self, Comments, Scope, TextSearch},
};
use crate::{domain::UserId, with_db};

/// Which tickets a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum View {
    /// Tickets I requested.
    #[default]
    Mine,
    /// Tickets of every organization whose tickets I may see.
    Org,
}

/// The column a list is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Created,
    Updated,
}

/// A position in a sorted list: the sort value and the id of the row it
/// follows (or precedes). Stable under concurrent inserts, unlike OFFSET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: Ts,
    pub id: i64,
}

impl Cursor {
    /// `micros.id`, as it appears in URLs.
    pub fn encode(self) -> String {
        format!("{}.{}", self.at.0.as_microsecond(), self.id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        Some(Self {
            at: Ts(jiff::Timestamp::from_microsecond(micros.parse().ok()?).ok()?),
            id: id.parse().ok()?,
        })
    }
}

/// Everything that selects and orders a ticket list.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub viewer: i64,
    pub view: View,
    /// Only these organizations (each must be one of the viewer's; others
    /// simply match nothing).
    pub orgs: Vec<i64>,
    pub statuses: Vec<String>,
    pub ticket_type: Option<String>,
    pub created_from: Option<Ts>,
    pub created_before: Option<Ts>,
    /// Free text over subject, description and public comments
    /// (`store::ticket_search`).
    pub text: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    /// Rows after this cursor (next page)…
    pub after: Option<Cursor>,
    /// …or rows before it (previous page).
    pub before: Option<Cursor>,
    pub limit: i64,
    /// The viewer's organizations whose tickets they may see, when the
    /// caller knows them (saves a query). Only used to choose index ranges
    /// (one per organization, or the organizations a company list names
    /// when no filter does): the authorization is always the query's own
    /// condition on the memberships.
    pub visible_orgs: Option<Vec<i64>>,
}

/// A row of the ticket list.
#[derive(Clone, Debug, FromRow)]
pub struct ListRow {
    pub id: i64,
    pub subject: String,
    pub ticket_type: String,
    pub status: String,
    pub organization_name: Option<String>,
    pub requester_name: String,
    pub created_at: Ts,
    pub updated_at: Ts,
}

crate::lane_row!(ListRow {
    id,
    subject,
    ticket_type,
    status,
    organization_name,
    requester_name,
    created_at,
    updated_at
});

/// One page of tickets, in display order.
#[derive(Clone, Debug)]
pub struct ListPage {
    pub rows: Vec<ListRow>,
    /// Whether rows exist beyond each end of this page.
    pub has_next: bool,
    pub has_previous: bool,
}

/// `where` conditions shared by the list (`for_list`) and its status
/// counts, which group by status instead of filtering on it. The scope
/// comes first and is never optional.
fn push_conditions(
    q: &mut impl SqlBuilder,
    query: &ListQuery,
    search: Option<&TextSearch>,
    for_list: bool,
) {
    match query.view {
        View::Mine => {
            q.push(" where t.requester_id = ");
            q.push_bind(query.viewer);
        }
        // A list page reads few rows in index order: the membership is
        // checked per row (`exists`), so that the organizations named below
        // choose the index and a cursor's range applies within it (with
        // `in (select …)` SQLite drives the scan by the memberships and
        // walks the status index instead: ten times slower 40 pages deep).
        // Counts read every matching row: the set of organizations is
        // built once.
        View::Org if for_list => {
            q.push(" where exists (select 1 from memberships m where m.user_id = ");
            q.push_bind(query.viewer);
            q.push(" and m.organization_id = t.organization_id and m.can_see_org_tickets = ");
            q.push_bind(true);
            q.push(")");
            if let (true, Some(visible)) = (query.orgs.is_empty(), &query.visible_orgs) {
                if visible.is_empty() {
                    q.push(" and 1 = 0");
                } else {
                    q.push(" and t.organization_id in (");
                    q.push_binds(visible.iter().copied());
                    q.push(")");
                }
            }
        }
        View::Org => {
            q.push(" where t.organization_id in (select m.organization_id from memberships m where m.user_id = ");
            q.push_bind(query.viewer);
            q.push(" and m.can_see_org_tickets = ");
            q.push_bind(true);
            q.push(")");
        }
    }
    if !query.orgs.is_empty() {
        q.push(" and t.organization_id in (");
        q.push_binds(query.orgs.iter().copied());
        q.push(")");
    }
    if for_list && !query.statuses.is_empty() {
        q.push(" and t.status in (");
        q.push_binds(query.statuses.iter().cloned());
        q.push(")");
    }
    if let Some(kind) = &query.ticket_type {
        q.push(" and t.ticket_type = ");
        q.push_bind(kind.clone());
    }
    if let Some(from) = query.created_from {
        q.push(" and t.created_at >= ");
        q.push_bind(from);
    }
    if let Some(before) = query.created_before {
        q.push(" and t.created_at < ");
        q.push_bind(before);
    }
    if let Some(search) = search {
        // Public comments only: internal notes are not the customer's.
        ticket_search::push_text_condition(q, search, Comments::Public, search_scope(query));
    }
}

/// What the query's conditions already restrict its tickets to, for the
/// search index to narrow its matches to (`ticket_search::Scope`).
fn search_scope(query: &ListQuery) -> Scope<'_> {
    match query.view {
        View::Mine => Scope::Requester(query.viewer),
        View::Org if !query.orgs.is_empty() => Scope::Orgs(&query.orgs),
        View::Org => query
            .visible_orgs
            .as_deref()
            .map_or(Scope::Any, Scope::Orgs),
    }
}

fn sort_column(sort: SortKey) -> &'static str {
    match sort {
        SortKey::Created => "t.created_at",
        SortKey::Updated => "t.updated_at",
    }
}

fn push_list(q: &mut impl SqlBuilder, query: &ListQuery, search: Option<&TextSearch>) {
    let column = sort_column(query.sort);
    q.push(
        "select t.id, t.subject, t.ticket_type, t.status, o.name as organization_name, u.name as requester_name, \
         t.created_at, t.updated_at from tickets t left join organizations o on o.id = t.organization_id \
         join users u on u.id = t.requester_id",
    );
    push_conditions(q, query, search, true);
    push_keyset(
        q,
        column,
        query.descending,
        query.after,
        query.before,
        query.limit,
    );
}

/// Keyset pagination, shared by every ticket list: the cursor condition,
/// the order and the limit (one row more than a page, to know whether
/// another page follows). Going backwards (`before`) reads the list in
/// reverse; [`page_of`] flips it back.
pub(crate) fn push_keyset(
    q: &mut impl SqlBuilder,
    column: &str,
    descending: bool,
    after: Option<Cursor>,
    before: Option<Cursor>,
    limit: i64,
) {
    let descending = descending != before.is_some();
    if let Some(cursor) = after.or(before) {
        let op = if descending { "<" } else { ">" };
        q.push(format!(" and ({column}, t.id) {op} ("));
        q.push_bind(cursor.at);
        q.push(", ");
        q.push_bind(cursor.id);
        q.push(")");
    }
    let direction = if descending { "desc" } else { "asc" };
    q.push(format!(
        " order by {column} {direction}, t.id {direction} limit "
    ));
    q.push_bind(limit + 1);
}

/// The rows of one page in display order, and whether pages follow and
/// precede it, from what [`push_keyset`] fetched.
pub(crate) fn page_of<T>(
    mut rows: Vec<T>,
    limit: i64,
    after: Option<Cursor>,
    before: Option<Cursor>,
) -> (Vec<T>, bool, bool) {
    let limit = usize::try_from(limit).unwrap_or(25);
    let more = rows.len() > limit;
    rows.truncate(limit);
    if before.is_some() {
        rows.reverse();
        (rows, true, more)
    } else {
        (rows, more, after.is_some())
    }
}

/// Above this many (organization, status) pairs a company list is read
/// with one query instead of one branch per pair.
const MAX_BRANCHES: usize = 48;

/// The (organization, status) pairs a company list is read by, one index
/// range each: `organization_id in (…) order by created_at` cannot walk one
/// index in order across several organizations, so it would sort every
/// ticket of them (a hundred thousand for a large one) to show 25. Each
/// branch reads one range in order and stops after a page; the pages are
/// merged. Empty when one query does as well (one range, or too many).
async fn branches(db: &Db, query: &ListQuery) -> Result<Vec<(i64, Option<String>)>, StoreError> {
    if query.view != View::Org {
        return Ok(Vec::new());
    }
    let visible: Vec<i64> = if let Some(orgs) = &query.visible_orgs {
        orgs.clone()
    } else {
        with_db!(db, |pool| {
            sqlx::query_scalar(
            "select organization_id from memberships where user_id = $1 and can_see_org_tickets = $2 order by organization_id",
        )
        .bind(query.viewer)
        .bind(true)
        .fetch_all(pool)
        .await?
        })
    };
    let orgs: Vec<i64> = visible
        .into_iter()
        .filter(|o| query.orgs.is_empty() || query.orgs.contains(o))
        .collect();
    let statuses: Vec<Option<String>> = if query.statuses.is_empty() {
        vec![None]
    } else {
        query.statuses.iter().cloned().map(Some).collect()
    };
    let pairs: Vec<(i64, Option<String>)> = orgs
        .iter()
        .flat_map(|org| statuses.iter().map(move |s| (*org, s.clone())))
        .collect();
    if pairs.len() <= 1 || pairs.len() > MAX_BRANCHES {
        return Ok(Vec::new());
    }
    Ok(pairs)
}

/// One branch per (organization, status) pair, each a page in list order,
/// merged into one page.
fn push_branched_list(
    q: &mut impl SqlBuilder,
    query: &ListQuery,
    branches: &[(i64, Option<String>)],
    search: Option<&TextSearch>,
) {
    for (n, (org, status)) in branches.iter().enumerate() {
        if n > 0 {
            q.push(" union all ");
        }
        q.push("select * from (");
        let branch = ListQuery {
            orgs: vec![*org],
            statuses: status.iter().cloned().collect(),
            ..query.clone()
        };
        push_list(q, &branch, search);
        q.push(format!(") as b{n}"));
    }
    let descending = query.descending != query.before.is_some();
    let direction = if descending { "desc" } else { "asc" };
    let column = match query.sort {
        SortKey::Created => "created_at",
        SortKey::Updated => "updated_at",
    };
    q.push(format!(
        " order by {column} {direction}, id {direction} limit "
    ));
    q.push_bind(query.limit + 1);
}

/// The list's query: one range, or one branch per (organization, status).
fn push_any_list(
    q: &mut impl SqlBuilder,
    query: &ListQuery,
    branches: &[(i64, Option<String>)],
    search: Option<&TextSearch>,
) {
    if branches.is_empty() {
        push_list(q, query, search);
    } else {
        push_branched_list(q, query, branches, search);
    }
}

/// One page of the viewer's tickets.
pub async fn list(db: &Db, query: &ListQuery) -> Result<ListPage, StoreError> {
    let branches = branches(db, query).await?;
    let search = TextSearch::prepare(db, query.text.as_deref()).await?;
    // A page without a search reads a few index ranges: SQLite's read lane
    // runs it on this thread. A search may read a whole organization's
    // matches, so on SQLite it runs on a pool connection's own thread and
    // never holds up the runtime's workers.
    let rows: Vec<ListRow> = match db {
        Db::Sqlite(_, lane) if search.is_none() => {
            let mut q = LaneSql::default();
            push_any_list(&mut q, query, &branches, None);
            lane.read(|conn| q.fetch_all(conn))?
        }
        Db::Sqlite(pool, _) => {
            let mut q = QueryBuilder::new("");
            push_any_list(&mut q, query, &branches, search.as_ref());
            q.build_query_as::<ListRow>().fetch_all(pool).await?
        }
        Db::Postgres(_, readers) => {
            let mut q = QueryBuilder::new("");
            push_any_list(&mut q, query, &branches, search.as_ref());
            let mut reader = readers.reader().await?;
            let rows = q
                .build_query_as::<ListRow>()
                .persistent(!TextSearch::plans_per_value(search.as_ref()))
                .fetch_all(&mut reader.conn)
                .await?;
            reader.done();
            rows
        }
    };
    let (rows, has_next, has_previous) = page_of(rows, query.limit, query.after, query.before);
    Ok(ListPage {
        rows,
        has_next,
        has_previous,
    })
}

/// How many of the viewer's tickets are in each status, with every filter
/// but the status filter applied (so each status choice shows its count).
pub async fn status_counts(db: &Db, query: &ListQuery) -> Result<Vec<(String, i64)>, StoreError> {
    // Counts read every matching ticket (tens of milliseconds for a large
    // organization): on the pool, never on the read lane. They are cached
    // per node (`service::counts`).
    let search = TextSearch::prepare(db, query.text.as_deref()).await?;
    Ok(with_db!(db, |pool| {
        let mut q = QueryBuilder::new("select t.status, count(*) from ");
        ticket_search::push_counted_tickets(
            &mut q,
            "t.id, t.status",
            search.as_ref(),
            Comments::Public,
            search_scope(query),
            |q| push_conditions(q, query, None, false),
        );
        q.push(" group by t.status");
        q.build_query_as::<(String, i64)>()
            .persistent(!TextSearch::plans_per_value(search.as_ref()))
            .fetch_all(pool)
            .await?
    }))
}

/// A ticket as the customer portal shows it.
#[derive(Clone, Debug, FromRow)]
pub struct VisibleTicket {
    pub id: i64,
    pub subject: String,
    pub description: String,
    pub ticket_type: String,
    pub status: String,
    pub organization_id: Option<i64>,
    pub organization_name: Option<String>,
    pub requester_id: i64,
    pub requester_name: String,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub solved_at: Option<Ts>,
}

crate::lane_row!(VisibleTicket {
    id,
    subject,
    description,
    ticket_type,
    status,
    organization_id,
    organization_name,
    requester_id,
    requester_name,
    created_at,
    updated_at,
    solved_at
});

/// The ticket if the viewer may see it; `None` both when it does not exist
/// and when it is not theirs to see.
const FIND_VISIBLE: &str = "select t.id, t.subject, t.description, t.ticket_type, t.status, t.organization_id, o.name as organization_name, \
     t.requester_id, u.name as requester_name, t.created_at, t.updated_at, t.solved_at \
     from tickets t left join organizations o on o.id = t.organization_id join users u on u.id = t.requester_id \
     where t.id = $1 and (t.requester_id = $3 or t.organization_id in \
       (select m.organization_id from memberships m where m.user_id = $3 and m.can_see_org_tickets = $2))";

pub async fn find_visible(
    db: &Db,
    viewer: UserId,
    id: i64,
) -> Result<Option<VisibleTicket>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, VisibleTicket>(FIND_VISIBLE)
            .bind(id)
            .bind(true)
            .bind(viewer.0)
            .fetch_optional(pool)
            .await?
    }))
}

/// A public comment with its author's name.
#[derive(Clone, Debug, FromRow, serde::Deserialize)]
pub struct PublicComment {
    pub id: i64,
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    pub author_role: Option<String>,
    pub body: String,
    pub created_at: Ts,
}

crate::lane_row!(PublicComment {
    id,
    author_id,
    author_name,
    author_role,
    body,
    created_at
});

/// The ticket's public conversation, oldest first. Internal notes never
/// leave this query.
const PUBLIC_COMMENTS: &str = "select c.id, c.author_id, u.name as author_name, u.role as author_role, c.body, c.created_at \
     from comments c left join users u on u.id = c.author_id \
     where c.ticket_id = $1 and c.public = $2 order by c.created_at, c.id";

/// An attachment the customer may download.
#[derive(Clone, Debug, FromRow, serde::Deserialize)]
pub struct VisibleAttachment {
    pub id: i64,
    pub comment_id: Option<i64>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: String,
    pub created_at: Ts,
}

crate::lane_row!(VisibleAttachment {
    id,
    comment_id,
    file_name,
    content_type,
    size_bytes,
    storage_key,
    created_at
});

/// Attachments of the description and of public comments: files attached
/// to internal notes are not the customer's. One text for both queries
/// below, so that the condition is written once.
macro_rules! visible_attachments {
    () => {
        "select a.id, a.comment_id, a.file_name, a.content_type, a.size_bytes, a.storage_key, a.created_at \
         from attachments a left join comments c on c.id = a.comment_id \
         where a.ticket_id = $1 and (a.comment_id is null or c.public = $2)"
    };
}
const VISIBLE_ATTACHMENTS: &str = visible_attachments!();
const VISIBLE_ATTACHMENTS_IN_ORDER: &str = concat!(visible_attachments!(), " order by a.id");

/// One visible attachment of a ticket.
pub async fn visible_attachment(
    db: &Db,
    ticket: i64,
    id: i64,
) -> Result<Option<VisibleAttachment>, StoreError> {
    let sql = format!("{VISIBLE_ATTACHMENTS} and a.id = $3");
    Ok(with_db!(db, |pool| {
        sqlx::query_as::<_, VisibleAttachment>(sqlx::AssertSqlSafe(sql))
            .bind(ticket)
            .bind(true)
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = Cursor {
            at: Ts(jiff::Timestamp::from_microsecond(1_700_000_000_123_456).unwrap_or_default()),
            id: 42,
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "x", "1.", ".2", "a.b", "1.2.3"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn postgresqls_ticket_page_binds_the_public_flag_where_the_viewer_is_not() {
        let sql = TICKET_PAGE_POSTGRES.as_str();
        // Comments and attachments: `public = $2` (true); `$3` is the viewer, used only by
        // the visibility query.
        assert_eq!(sql.matches("c.public = $2").count(), 2, "{sql}");
        assert_eq!(sql.matches("$3").count(), 2, "{sql}");
        assert_eq!(FIND_VISIBLE.matches("$3").count(), 2);
    }
}

/// Everything the customer's ticket page reads (see [`ticket_page`]).
#[derive(Clone, Debug)]
pub struct TicketPageRows {
    pub ticket: VisibleTicket,
    pub status_events: Vec<super::tickets::StatusEventRow>,
    pub comments: Vec<PublicComment>,
    pub attachments: Vec<VisibleAttachment>,
    pub contact_requests: Vec<super::contacts::ContactRequest>,
}

/// The ticket `id` as [`find_visible`] reads it (`None`: missing or not
/// the viewer's, alike) and its status history, public comments, visible
/// files and contact requests: the same queries as the functions of each,
/// on one connection taken once, instead of one from the pool each.
pub async fn ticket_page(
    db: &Db,
    viewer: UserId,
    id: i64,
) -> Result<Option<TicketPageRows>, StoreError> {
    let readers = match db {
        Db::Sqlite(_, lane) => return lane.read(|conn| ticket_page_on_lane(conn, viewer, id)),
        Db::Postgres(_, readers) => readers,
    };
    let mut reader = readers.reader().await?;
    let page =
        sqlx::query_as::<_, TicketPageJson>(sqlx::AssertSqlSafe(TICKET_PAGE_POSTGRES.as_str()))
            .bind(id)
            .bind(true)
            .bind(viewer.0)
            .fetch_optional(&mut reader.conn)
            .await?;
    reader.done();
    Ok(page.map(|page| {
        // Each query's own order, which PostgreSQL only usually keeps
        // through `json_agg` of a sorted subquery.
        let mut rows = TicketPageRows {
            ticket: page.ticket,
            status_events: page.status_events.0,
            comments: page.comments.0,
            attachments: page.attachments.0,
            contact_requests: page.contact_requests.0,
        };
        rows.status_events.sort_by_key(|e| (e.at, e.id));
        rows.comments.sort_by_key(|c| (c.created_at, c.id));
        rows.attachments.sort_by_key(|a| a.id);
        rows.contact_requests.sort_by_key(|r| (r.created_at, r.id));
        rows
    }))
}

/// [`ticket_page`] on PostgreSQL: the same five queries as one statement, one
/// round trip instead of five. The ticket's row as [`FIND_VISIBLE`] reads it
/// (none: missing or not the viewer's), and each list as a JSON array of the
/// rows of its own query. All of them read `$1` as the ticket and `$2` as
/// `true`; only the visibility query reads `$3`, the viewer.
static TICKET_PAGE_POSTGRES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let list = |sql: &str| format!("(select coalesce(json_agg(x), '[]') from ({sql}) x)");
    format!(
        "select t.*, {} as status_events, {} as comments, {} as attachments, {} as contact_requests \
         from ({FIND_VISIBLE}) t",
        list(super::tickets::STATUS_EVENTS),
        list(PUBLIC_COMMENTS),
        list(VISIBLE_ATTACHMENTS_IN_ORDER),
        list(super::contacts::FOR_TICKET),
    )
});

#[derive(FromRow)]
struct TicketPageJson {
    #[sqlx(flatten)]
    ticket: VisibleTicket,
    status_events: sqlx::types::Json<Vec<super::tickets::StatusEventRow>>,
    comments: sqlx::types::Json<Vec<PublicComment>>,
    attachments: sqlx::types::Json<Vec<VisibleAttachment>>,
    contact_requests: sqlx::types::Json<Vec<super::contacts::ContactRequest>>,
}

/// [`ticket_page`]'s queries on SQLite's read lane, in one read transaction.
fn ticket_page_on_lane(
    conn: &rusqlite::Connection,
    viewer: UserId,
    id: i64,
) -> rusqlite::Result<Option<TicketPageRows>> {
    // One read transaction: the five reads see the same moment.
    let snapshot = conn.unchecked_transaction()?;
    let args = [Arg::Int(id), Arg::Bool(true), Arg::Int(viewer.0)];
    let Some(ticket) = lane::fetch_optional::<VisibleTicket>(conn, FIND_VISIBLE, &args)? else {
        return Ok(None);
    };
    let page = TicketPageRows {
        ticket,
        status_events: lane::fetch_all(conn, super::tickets::STATUS_EVENTS, &args[..1])?,
        comments: lane::fetch_all(conn, PUBLIC_COMMENTS, &args[..2])?,
        attachments: lane::fetch_all(conn, VISIBLE_ATTACHMENTS_IN_ORDER, &args[..2])?,
        contact_requests: lane::fetch_all(conn, super::contacts::FOR_TICKET, &args[..1])?,
    };
    snapshot.finish()?;
    Ok(Some(page))
}
