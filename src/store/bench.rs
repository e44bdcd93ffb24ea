//! Bulk writes of generated organizations, people and memberships for
//! benchmark data sets (`chamado bench-data`); tickets go through
//! `store::demo::insert_tickets`. Ids are chosen by the generator; each call
//! is one transaction of multi-row inserts.

use sqlx::QueryBuilder;

use super::{Db, StoreError, Ts, WritePool};
use crate::with_db;

/// Rows per multi-row insert: under SQLite's limit of bound parameters.
const ROWS_PER_STATEMENT: usize = 2_000;

#[derive(Clone, Debug)]
pub struct GenOrg {
    pub id: i64,
    pub external_id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct GenUser {
    pub id: i64,
    pub external_id: String,
    /// Lower case already.
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub password_hash: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub struct GenMembership {
    pub user_id: i64,
    pub organization_id: i64,
    pub can_see_org_tickets: bool,
}

/// Counts of the rows a data set is about (at most one per table), to
/// refuse filling a database that already holds data: one statement.
pub async fn existing_rows(db: &Db) -> Result<i64, StoreError> {
    const SQL: &str = "select \
         (select count(*) from (select 1 from tickets limit 1) as t) \
         + (select count(*) from (select 1 from organizations limit 1) as o) \
         + (select count(*) from (select 1 from users limit 1) as u) \
         + (select count(*) from (select 1 from hc_categories limit 1) as c)";
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(SQL).fetch_one(pool).await?
    }))
}

pub async fn insert_orgs(db: &Db, orgs: &[GenOrg], at: Ts) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for chunk in orgs.chunks(ROWS_PER_STATEMENT / 2) {
            let mut q = QueryBuilder::new(
                "insert into organizations (id, external_id, name, members_see_org_tickets, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut row, o| {
                row.push_bind(o.id)
                    .push_bind(&o.external_id)
                    .push_bind(&o.name)
                    .push_bind(true)
                    .push_bind(at)
                    .push_bind(at);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn insert_users(db: &Db, users: &[GenUser], at: Ts) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for chunk in users.chunks(ROWS_PER_STATEMENT / 4) {
            let mut q = QueryBuilder::new(
                "insert into users (id, external_id, email, email_lower, name, role, locale, time_zone, \
                 password_hash, active, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut row, u| {
                row.push_bind(u.id)
                    .push_bind(&u.external_id)
                    .push_bind(&u.email)
                    .push_bind(&u.email)
                    .push_bind(&u.name)
                    .push_bind(u.role)
                    .push_bind("pt-BR")
                    .push_bind("America/Sao_Paulo")
                    .push_bind(u.password_hash.as_deref())
                    .push_bind(true)
                    .push_bind(at)
                    .push_bind(at);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn insert_memberships(
    db: &Db,
    memberships: &[GenMembership],
    at: Ts,
) -> Result<(), StoreError> {
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for chunk in memberships.chunks(ROWS_PER_STATEMENT / 2) {
            let mut q = QueryBuilder::new(
                "insert into memberships (user_id, organization_id, can_see_org_tickets, created_at) ",
            );
            q.push_values(chunk, |mut row, m| {
                row.push_bind(m.user_id)
                    .push_bind(m.organization_id)
                    .push_bind(m.can_see_org_tickets)
                    .push_bind(at);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The tables a data set fills.
const LOADED_TABLES: [&str; 8] = [
    "organizations",
    "users",
    "memberships",
    "tickets",
    "status_events",
    "comments",
    "ticket_events",
    "attachments",
];

/// Drops the secondary indexes of the tables a data set fills (not those
/// behind primary keys or unique constraints) and returns the statements
/// that create them again: a bulk load followed by one sorted build per
/// index is several times faster than updating a dozen indexes row by row.
pub async fn drop_secondary_indexes(db: &Db) -> Result<Vec<String>, StoreError> {
    let tables: Vec<String> = LOADED_TABLES.iter().map(|t| (*t).to_owned()).collect();
    let indexes: Vec<(String, String)> = match db {
        Db::Sqlite(pool, _) => {
            let mut found = Vec::new();
            for table in &tables {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "select name, sql from sqlite_master where type = 'index' and tbl_name = $1 and sql is not null",
                )
                .bind(table)
                .fetch_all(pool)
                .await?;
                found.extend(rows);
            }
            found
        }
        Db::Postgres(pool, _) => {
            sqlx::query_as(
                "select i.indexname::text, i.indexdef from pg_indexes i \
                 where i.schemaname = current_schema() and i.tablename = any($1) \
                 and not exists (select 1 from pg_constraint c where c.conindid = \
                 (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            )
            .bind(&tables)
            .fetch_all(pool)
            .await?
        }
    };
    for (name, _) in &indexes {
        // Names come from the catalogue, not from input.
        let sql = format!("drop index \"{}\"", name.replace('"', "\"\""));
        with_db!(db, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
        });
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// Runs the statements `drop_secondary_indexes` returned, then refreshes
/// the planner's statistics. On PostgreSQL a vacuum also sets every loaded
/// row's hint bits and the visibility map: otherwise the first reads of
/// each page write it again and autovacuum works through the whole load
/// while the benchmark runs (a search scenario measured 112 req/s right
/// after a load and 336 once that settled).
pub async fn create_indexes(db: &Db, statements: &[String]) -> Result<(), StoreError> {
    for sql in statements {
        with_db!(db, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(pool)
                .await?;
        });
    }
    if let Db::Postgres(pool, _) = db {
        sqlx::query("vacuum (freeze, analyze)")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// The statement of migration 0015 that sets every ticket's `status_since`
/// from its status history.
const FILL_STATUS_SINCE: &str = "update tickets set status_since = \
     (select max(se.at) from status_events se where se.ticket_id = tickets.id)";

/// The trigger keeping `tickets.status_since` (migration 0015), suspended
/// for a bulk load: updating a ticket per status event written would slow
/// the load down; [`restore_status_since`] fills the column in one pass.
#[derive(Clone, Debug, Default)]
pub struct SuspendedStatusSince {
    /// SQLite: the statement creating the trigger again.
    sqlite_trigger: Option<String>,
}

pub async fn suspend_status_since(db: &Db) -> Result<SuspendedStatusSince, StoreError> {
    match db {
        Db::Sqlite(pool, _) => {
            let sql: Option<String> = sqlx::query_scalar(
                "select sql from sqlite_master where type = 'trigger' and name = 'status_events_since'",
            )
            .fetch_optional(pool)
            .await?;
            if sql.is_some() {
                sqlx::query("drop trigger status_events_since")
                    .execute(pool)
                    .await?;
            }
            Ok(SuspendedStatusSince {
                sqlite_trigger: sql,
            })
        }
        Db::Postgres(pool, _) => {
            sqlx::query("alter table status_events disable trigger status_events_since")
                .execute(pool)
                .await?;
            Ok(SuspendedStatusSince::default())
        }
    }
}

/// Fills `tickets.status_since` from the status events loaded, then puts
/// the trigger back.
pub async fn restore_status_since(
    db: &Db,
    suspended: &SuspendedStatusSince,
) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(pool, _) => {
            sqlx::query(FILL_STATUS_SINCE).execute(pool).await?;
            if let Some(sql) = &suspended.sqlite_trigger {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(pool)
                    .await?;
            }
        }
        Db::Postgres(pool, _) => {
            sqlx::query(FILL_STATUS_SINCE).execute(pool).await?;
            sqlx::query("alter table status_events enable trigger status_events_since")
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// Full-text search triggers suspended for a bulk load: the statements that
/// create them again and the FTS5 tables they keep in step.
#[derive(Clone, Debug, Default)]
pub struct SuspendedSearch {
    triggers: Vec<String>,
    tables: Vec<String>,
}

/// Drops the SQLite triggers that copy the loaded tables' text into FTS5
/// indexes (`ticket_search`, `comment_search`): indexing row by row for
/// millions of rows would make the load several times slower than one
/// rebuild at the end ([`rebuild_search`]). PostgreSQL's search indexes are
/// GIN indexes, dropped and built again with the other secondary indexes.
pub async fn suspend_search_triggers(db: &Db) -> Result<SuspendedSearch, StoreError> {
    let Db::Sqlite(pool, _) = db else {
        return Ok(SuspendedSearch::default());
    };
    let fts_tables: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'table' and sql like 'create virtual table%using fts5%'",
    )
    .fetch_all(pool)
    .await?;
    let mut suspended = SuspendedSearch::default();
    for table in LOADED_TABLES {
        let triggers: Vec<(String, String)> = sqlx::query_as(
            "select name, sql from sqlite_master where type = 'trigger' and tbl_name = $1 and sql is not null",
        )
        .bind(table)
        .fetch_all(pool)
        .await?;
        for (name, sql) in triggers {
            let targets: Vec<&String> = fts_tables
                .iter()
                .filter(|fts| sql.contains(fts.as_str()))
                .collect();
            if targets.is_empty() {
                continue;
            }
            // Names come from the catalogue, not from input.
            let drop = format!("drop trigger \"{}\"", name.replace('"', "\"\""));
            sqlx::query(sqlx::AssertSqlSafe(drop)).execute(pool).await?;
            for fts in targets {
                if !suspended.tables.contains(fts) {
                    suspended.tables.push(fts.clone());
                }
            }
            suspended.triggers.push(sql);
        }
    }
    Ok(suspended)
}

/// Rebuilds the FTS5 indexes whose triggers [`suspend_search_triggers`]
/// dropped, each from its content table in one pass (the contentless
/// `ticket_search` from `tickets`) and merged into one segment, then
/// creates the triggers again.
pub async fn rebuild_search(db: &Db, suspended: &SuspendedSearch) -> Result<(), StoreError> {
    let Db::Sqlite(pool, _) = db else {
        return Ok(());
    };
    for table in &suspended.tables {
        // Names come from the catalogue, not from input.
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        if table == "ticket_search" {
            // Contentless (it carries scope tokens, see
            // `store::ticket_search`): emptied and filled by one statement.
            let sql = format!("insert into {quoted} ({quoted}) values ('delete-all')");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
            sqlx::query(super::ticket_search::SQLITE_FILL_TICKET_SEARCH)
                .execute(pool)
                .await?;
        } else {
            let sql = format!("insert into {quoted} ({quoted}) values ('rebuild')");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
        }
        // One segment, as migration 0016 leaves the indexes: every term is
        // then one seek.
        let sql = format!("insert into {quoted} ({quoted}) values ('optimize')");
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    }
    for sql in &suspended.triggers {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(pool)
            .await?;
    }
    Ok(())
}
