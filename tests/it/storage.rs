//! Tests: storage. One schema on two engines, SQLite's durability settings,
//! the ticket history written with every ticket, concurrent writers, files
//! written before their rows, and the small atomic counters.

use std::{collections::BTreeSet, path::Path};

use bytes::Bytes;
use chamado::{
    config::{Config, DatabaseUrl},
    domain::{
        ActorKind, BusinessCalendar, Role, StatusEvent, TicketId, TicketStatus, TicketType, UserId,
        time_in_status,
    },
    service::attachments::{self, AttachmentError, Upload},
    store::{
        self, Db, StoreError, Ts, WritePool,
        tickets::{Actor, NewTicket},
    },
};
use jiff::{SignedDuration, Timestamp};
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;

use crate::support::{TestApp, postgres_url, test_database};

/// Every table the foundation issue names.
const TABLES: [&str; 14] = [
    "organizations",
    "users",
    "memberships",
    "tickets",
    "status_events",
    "comments",
    "attachments",
    "contact_requests",
    "sessions",
    "sso_used_tokens",
    "settings",
    "login_attempts",
    "groups",
    "group_members",
];

/// `url` with its database name replaced (the query string is kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// Creates an empty PostgreSQL database named `chamado_t_<pid>_<tag>_<uuid>` and
/// returns its name. The harness drops leftover `chamado_t_` databases once
/// per test process, so that sweep is made to happen first: it would
/// otherwise drop this database under a running test.
pub async fn create_empty_postgres_database(admin_url: &str, tag: &str) -> String {
    let dir = TempDir::new().unwrap();
    let (db, _) = test_database(&dir).await;
    db.close().await;
    let name = format!(
        "chamado_t_{}_{tag}_{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let mut admin = PgConnection::connect(admin_url).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!("create database \"{name}\"")))
        .await
        .unwrap();
    name
}

/// Drops a database made by [`create_empty_postgres_database`].
pub async fn drop_postgres_database(admin_url: &str, name: &str) {
    let mut admin = PgConnection::connect(admin_url).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "drop database if exists \"{name}\" with (force)"
        )))
        .await
        .unwrap();
}

fn migration_names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn actor(kind: ActorKind, user: Option<UserId>) -> Actor {
    Actor { kind, user }
}

/// A customer and one ticket they opened now.
async fn ticket_by_customer(tc: &TestApp) -> (UserId, TicketId) {
    tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let customer = tc
        .create_user("ana@padaria.example", Role::Customer, &["org-padaria"])
        .await;
    let id = store::tickets::create(
        &tc.state.db,
        &NewTicket {
            subject: "Erro ao emitir nota fiscal",
            description: "Aparece \"Falha na comunicação com a prefeitura\".",
            ticket_type: TicketType::Incident,
            organization: None,
            requester: customer,
            channel: "portal",
        },
        actor(ActorKind::Customer, Some(customer)),
        tc.clock.now(),
    )
    .await
    .unwrap();
    (customer, id)
}

async fn count(db: &Db, sql: &'static str, ticket: TicketId) -> i64 {
    chamado::with_db!(db, |pool| sqlx::query_scalar(sql)
        .bind(ticket.0)
        .fetch_one(pool)
        .await
        .unwrap())
}

#[tokio::test]
async fn both_migration_folders_list_the_same_files() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty(), "no SQLite migrations found");
    assert!(
        sqlite
            .iter()
            .all(|name| Path::new(name).extension().is_some_and(|e| e == "sql")),
        "{sqlite:?}"
    );
    assert_eq!(sqlite, postgres);
}

/// Full-text search is where the engines differ by design (one index per
/// engine's own mechanism), so the comparison leaves out exactly the search
/// indexes of the Help Center and of tickets: on SQLite the FTS5 virtual
/// tables `hc_search`, `ticket_search`, `comment_search` and the shadow
/// tables FTS5 creates for them (`…_data`, `_idx`, `_docsize`, `_config`);
/// on PostgreSQL the generated `tsvector` columns and their GIN indexes,
/// and the Help Center's folded title and text its highlights read
/// (migration 0019; FTS5 folds as it highlights), and the organization a
/// comment carries for PostgreSQL's index (migration 0020; SQLite's comment
/// index needs none).
fn engine_specific_search(line: &str) -> bool {
    ["hc_search", "ticket_search", "comment_search"]
        .iter()
        .any(|table| {
            line.starts_with(&format!("column {table}."))
                || line.starts_with(&format!("column {table}_"))
        })
        || line == "column hc_article_translations.search_vector"
        || line == "column hc_article_translations.title_folded"
        || line == "column hc_article_translations.body_folded"
        || line == "index hc_article_translations.hc_article_translations_search"
        || line == "column tickets.search_vector"
        || line == "index tickets.tickets_scoped_search"
        || line == "column comments.search_vector"
        || line == "column comments.organization_id"
        || line == "index comments.comments_search"
        || line == "index comments.comments_scoped_search"
}

#[tokio::test]
async fn sqlite_and_postgres_migrated_from_scratch_have_the_same_schema() {
    let dir = TempDir::new().unwrap();
    let sqlite = Db::connect_sqlite(
        &dir.path().join("scratch.db").to_string_lossy(),
        true,
        sqlx::sqlite::SqliteSynchronous::Full,
        2,
    )
    .await
    .unwrap();
    sqlite.migrate().await.unwrap();
    let mut sqlite_outline = sqlite.schema_outline().await.unwrap();
    sqlite_outline.retain(|line| !engine_specific_search(line));
    sqlite.close().await;

    let tables: BTreeSet<&str> = sqlite_outline
        .iter()
        .filter_map(|line| line.strip_prefix("column "))
        .filter_map(|column| column.split_once('.').map(|(table, _)| table))
        .collect();
    for table in TABLES {
        assert!(
            tables.contains(table),
            "table {table} missing from {tables:?}"
        );
    }

    if let Some(admin_url) = postgres_url() {
        let name = create_empty_postgres_database(&admin_url, "schema").await;
        let postgres = Db::connect_postgres(&with_database(&admin_url, &name), 2)
            .await
            .unwrap();
        postgres.migrate().await.unwrap();
        let mut postgres_outline = postgres.schema_outline().await.unwrap();
        postgres_outline.retain(|line| !engine_specific_search(line));
        postgres.close().await;
        drop_postgres_database(&admin_url, &name).await;

        let only_sqlite: Vec<&String> = sqlite_outline
            .iter()
            .filter(|l| !postgres_outline.contains(l))
            .collect();
        let only_postgres: Vec<&String> = postgres_outline
            .iter()
            .filter(|l| !sqlite_outline.contains(l))
            .collect();
        assert!(
            only_sqlite.is_empty() && only_postgres.is_empty(),
            "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
        );
        assert_eq!(sqlite_outline, postgres_outline);
    }
}

/// Opens SQLite the way `chamado` does, on the default file in `data_dir`.
async fn sqlite_from_config(dir: &TempDir, synchronous: &str) -> Db {
    let data_dir = dir.path().join("data");
    let config = Config {
        database_url: DatabaseUrl(format!(
            "sqlite://{}",
            data_dir.join("chamado.db").display()
        )),
        data_dir,
        sqlite_synchronous: synchronous.to_owned(),
        database_max_connections: Some(4),
        ..Config::default()
    };
    Db::connect(&config).await.unwrap()
}

#[tokio::test]
async fn sqlite_connections_run_with_wal_full_sync_foreign_keys_and_a_busy_timeout() {
    let dir = TempDir::new().unwrap();
    let db = sqlite_from_config(&dir, "full").await;
    let Db::Sqlite(pool, _) = &db else {
        panic!("a sqlite:// URL must open SQLite");
    };
    // Pragmas such as `synchronous` are per connection: check several at once.
    let mut connections = Vec::new();
    for _ in 0..3 {
        connections.push(pool.acquire().await.unwrap());
    }
    for connection in &mut connections {
        let journal_mode: String = sqlx::query_scalar("pragma journal_mode")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        let synchronous: i64 = sqlx::query_scalar("pragma synchronous")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        let foreign_keys: i64 = sqlx::query_scalar("pragma foreign_keys")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        let busy_timeout: i64 = sqlx::query_scalar("pragma busy_timeout")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        assert_eq!(journal_mode, "wal");
        assert_eq!(synchronous, 2, "synchronous must be FULL");
        assert_eq!(foreign_keys, 1);
        assert!(busy_timeout > 0, "busy_timeout is {busy_timeout}");
    }
    drop(connections);
    db.close().await;

    let other = TempDir::new().unwrap();
    let normal = sqlite_from_config(&other, "normal").await;
    let Db::Sqlite(pool, _) = &normal else {
        panic!("a sqlite:// URL must open SQLite");
    };
    let synchronous: i64 = sqlx::query_scalar("pragma synchronous")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        synchronous, 1,
        "sqlite_synchronous = \"normal\" must give NORMAL"
    );
    normal.close().await;
}

#[tokio::test]
async fn a_new_ticket_is_sent_with_exactly_one_status_event() {
    let tc = TestApp::new().await;
    let (customer, id) = ticket_by_customer(&tc).await;

    let ticket = store::tickets::find(&tc.state.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status(), TicketStatus::Sent);
    assert_eq!(ticket.requester_id, customer);
    assert_eq!(ticket.created_at, Ts(tc.clock.now()));
    assert_eq!(ticket.updated_at, Ts(tc.clock.now()));
    assert_eq!(ticket.solved_at, None);
    assert_eq!(ticket.version, 1);

    let events = store::tickets::status_events(&tc.state.db, id)
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].from_status, None);
    assert_eq!(events[0].to_status, "sent");
    assert_eq!(events[0].at, Ts(tc.clock.now()));
    assert_eq!(events[0].actor_kind, "customer");
    assert_eq!(events[0].actor_id, Some(customer.0));
}

#[tokio::test]
async fn status_changes_append_events_and_solving_sets_solved_at() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_by_customer(&tc).await;
    let agent = tc
        .create_user("fernanda@suporte.example", Role::Agent, &[])
        .await;
    let db = &tc.state.db;

    tc.clock.advance(SignedDuration::from_mins(20));
    store::tickets::change_status(
        db,
        id,
        TicketStatus::Sent,
        TicketStatus::InProgress,
        actor(ActorKind::Agent, Some(agent)),
        tc.clock.now(),
    )
    .await
    .unwrap();
    let ticket = store::tickets::find(db, id).await.unwrap().unwrap();
    assert_eq!(ticket.status(), TicketStatus::InProgress);
    assert_eq!(ticket.solved_at, None);
    assert_eq!(ticket.version, 2);

    tc.clock.advance(SignedDuration::from_hours(3));
    let solved_at = tc.clock.now();
    store::tickets::change_status(
        db,
        id,
        TicketStatus::InProgress,
        TicketStatus::Solved,
        actor(ActorKind::Agent, Some(agent)),
        solved_at,
    )
    .await
    .unwrap();
    let ticket = store::tickets::find(db, id).await.unwrap().unwrap();
    assert_eq!(ticket.status(), TicketStatus::Solved);
    assert_eq!(ticket.solved_at, Some(Ts(solved_at)));
    assert_eq!(ticket.updated_at, Ts(solved_at));
    // The time it entered its status follows every status event.
    let since: Option<Ts> = chamado::with_db!(db, |pool| {
        sqlx::query_scalar("select status_since from tickets where id = $1")
            .bind(id.0)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(since, Some(Ts(solved_at)));

    let events = store::tickets::status_events(db, id).await.unwrap();
    let steps: Vec<(Option<&str>, &str)> = events
        .iter()
        .map(|e| (e.from_status.as_deref(), e.to_status.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, "sent"),
            (Some("sent"), "in_progress"),
            (Some("in_progress"), "solved")
        ]
    );
    assert_eq!(events[2].at, Ts(solved_at));
    assert_eq!(events[2].actor_id, Some(agent.0));
}

#[tokio::test]
async fn ticket_status_change_refuses_a_stale_status() {
    let tc = TestApp::new().await;
    let (_, id) = ticket_by_customer(&tc).await;
    let db = &tc.state.db;
    let agent = actor(ActorKind::Agent, None);

    store::tickets::change_status(
        db,
        id,
        TicketStatus::Sent,
        TicketStatus::InProgress,
        agent,
        tc.clock.now(),
    )
    .await
    .unwrap();
    // A second agent still sees the ticket as sent and tries to escalate it.
    tc.clock.advance(SignedDuration::from_mins(1));
    let stale = store::tickets::change_status(
        db,
        id,
        TicketStatus::Sent,
        TicketStatus::WithTech,
        agent,
        tc.clock.now(),
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");

    let ticket = store::tickets::find(db, id).await.unwrap().unwrap();
    assert_eq!(ticket.status(), TicketStatus::InProgress);
    assert_eq!(ticket.version, 2);
    let events = store::tickets::status_events(db, id).await.unwrap();
    assert_eq!(
        events.len(),
        2,
        "the refused change wrote an event: {events:?}"
    );
    assert_eq!(
        count(
            db,
            "select count(*) from status_events where ticket_id = $1",
            id
        )
        .await,
        2
    );
}

#[tokio::test]
async fn time_in_each_status_comes_from_the_stored_events() {
    let tc = TestApp::new().await;
    // 14:00 in São Paulo on a Tuesday.
    let (_, id) = ticket_by_customer(&tc).await;
    let db = &tc.state.db;
    let agent = actor(ActorKind::Agent, None);
    let steps = [
        (
            SignedDuration::from_hours(2),
            TicketStatus::Sent,
            TicketStatus::InProgress,
        ),
        (
            SignedDuration::from_mins(30),
            TicketStatus::InProgress,
            TicketStatus::AwaitingReply,
        ),
        (
            SignedDuration::from_hours(1),
            TicketStatus::AwaitingReply,
            TicketStatus::InProgress,
        ),
        (
            SignedDuration::from_mins(45),
            TicketStatus::InProgress,
            TicketStatus::Solved,
        ),
    ];
    for (wait, from, to) in steps {
        tc.clock.advance(wait);
        store::tickets::change_status(db, id, from, to, agent, tc.clock.now())
            .await
            .unwrap();
    }
    tc.clock.advance(SignedDuration::from_mins(10));

    let events: Vec<StatusEvent> = store::tickets::status_events(db, id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| StatusEvent {
            from: e
                .from_status
                .as_deref()
                .map(|s| TicketStatus::from_key(s).unwrap()),
            to: TicketStatus::from_key(&e.to_status).unwrap(),
            at: e.at.0,
        })
        .collect();
    let result = time_in_status(&events, tc.clock.now(), &BusinessCalendar::default());
    let totals: Vec<(TicketStatus, SignedDuration, SignedDuration, u32, bool)> = result
        .totals
        .iter()
        .map(|t| (t.status, t.calendar, t.business, t.times_entered, t.current))
        .collect();
    assert_eq!(
        totals,
        [
            (
                TicketStatus::Sent,
                SignedDuration::from_hours(2),
                SignedDuration::from_hours(2),
                1,
                false
            ),
            // 16:00–16:30 and 17:30–18:15; the office closes at 18:00.
            (
                TicketStatus::InProgress,
                SignedDuration::from_mins(75),
                SignedDuration::from_mins(60),
                2,
                false
            ),
            (
                TicketStatus::AwaitingReply,
                SignedDuration::from_hours(1),
                SignedDuration::from_hours(1),
                1,
                false
            ),
            (
                TicketStatus::Solved,
                SignedDuration::from_mins(10),
                SignedDuration::ZERO,
                1,
                true
            ),
        ]
    );
    assert_eq!(result.spans.len(), 5);
    assert_eq!(result.ignored_future_events, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn write_transactions_that_read_first_wait_for_each_other_instead_of_failing() {
    // A deferred SQLite transaction that reads, then writes after another
    // connection committed, fails at once with SQLITE_BUSY_SNAPSHOT (517);
    // `begin_write` must take the write lock up front so each one waits.
    let tc = TestApp::new().await;
    let (customer, id) = ticket_by_customer(&tc).await;
    let now = Ts(tc.clock.now());

    let writers: Vec<_> = (0..20)
        .map(|n| {
            let db = tc.state.db.clone();
            tokio::spawn(async move {
                chamado::with_db!(&db, |pool| {
                    let mut tx = pool.begin_write().await?;
                    let seen: i64 =
                        sqlx::query_scalar("select count(*) from comments where ticket_id = $1")
                            .bind(id.0)
                            .fetch_one(&mut *tx)
                            .await?;
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    sqlx::query(
                        "insert into comments (ticket_id, author_id, body, public, created_at) \
                         values ($1, $2, $3, $4, $5)",
                    )
                    .bind(id.0)
                    .bind(customer.0)
                    .bind(format!("Escritor {n} viu {seen}"))
                    .bind(true)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await
                })
            })
        })
        .collect();
    for writer in writers {
        writer
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("a writer that read first failed: {e:?}"));
    }
    let comments = store::tickets::comments(&tc.state.db, id, true)
        .await
        .unwrap();
    assert_eq!(comments.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_writers_on_one_ticket_all_commit() {
    let tc = TestApp::new().await;
    let (customer, id) = ticket_by_customer(&tc).await;
    let now = tc.clock.now();

    let writers: Vec<_> = (0..20)
        .map(|n| {
            let db = tc.state.db.clone();
            tokio::spawn(async move {
                store::tickets::add_comment(
                    &db,
                    id,
                    Some(customer),
                    &format!("Mensagem {n}"),
                    n % 2 == 0,
                    now,
                )
                .await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for writer in writers {
        let comment = writer
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("a concurrent writer failed: {e:?}"));
        ids.insert(comment);
    }
    assert_eq!(ids.len(), 20);

    let comments = store::tickets::comments(&tc.state.db, id, true)
        .await
        .unwrap();
    assert_eq!(comments.len(), 20);
    let bodies: BTreeSet<String> = comments.into_iter().map(|c| c.body).collect();
    assert_eq!(
        bodies,
        (0..20)
            .map(|n| format!("Mensagem {n}"))
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(
        store::tickets::comments(&tc.state.db, id, false)
            .await
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn an_attachment_is_written_to_the_blob_store_then_recorded() {
    let tc = TestApp::new().await;
    let (customer, id) = ticket_by_customer(&tc).await;
    let data = "Olá, anexo de teste\n";

    let attachment = attachments::store(
        &tc.state,
        id,
        None,
        Some(customer),
        Upload {
            file_name: "erro.log".into(),
            content_type: "text/plain".into(),
            data: Bytes::from(data),
        },
    )
    .await
    .unwrap();

    let rows = store::attachments::for_ticket(&tc.state.db, id)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.id, attachment);
    assert_eq!(row.file_name, "erro.log");
    assert_eq!(row.content_type, "text/plain");
    assert_eq!(row.size_bytes, 21);
    assert_eq!(
        row.sha256,
        "ae759b540ae1c66e8acfad9eebe995149f81a9dbba38a68d183024f88c849031"
    );
    assert_eq!(row.created_at, Ts(tc.clock.now()));
    assert_eq!(
        tc.state.blobs.get(&row.storage_key).await.unwrap(),
        Bytes::from(data)
    );
    assert_eq!(
        tc.state.blobs.keys().await.unwrap(),
        std::slice::from_ref(&row.storage_key)
    );
}

#[tokio::test]
async fn an_attachment_whose_row_is_refused_leaves_no_file_behind() {
    let tc = TestApp::new().await;
    let (customer, _) = ticket_by_customer(&tc).await;

    let result = attachments::store(
        &tc.state,
        TicketId(987_654),
        None,
        Some(customer),
        Upload {
            file_name: "pedidos.csv".into(),
            content_type: "text/csv".into(),
            data: Bytes::from_static(b"pedido;valor\n4521;1520,00\n"),
        },
    )
    .await;
    assert!(
        matches!(result, Err(AttachmentError::Store(StoreError::Conflict(_)))),
        "{result:?}"
    );
    assert_eq!(tc.state.blobs.keys().await.unwrap(), Vec::<String>::new());
    assert_eq!(
        count(
            &tc.state.db,
            "select count(*) from attachments where ticket_id = $1",
            TicketId(987_654)
        )
        .await,
        0
    );
}

#[tokio::test]
async fn timestamps_with_microseconds_round_trip_exactly() {
    let tc = TestApp::new().await;
    tc.create_org("Padaria Pão Dourado", "org-padaria").await;
    let customer = tc
        .create_user("ana@padaria.example", Role::Customer, &["org-padaria"])
        .await;
    let moments: [Timestamp; 4] = [
        "2026-03-10T17:00:00.123456Z".parse().unwrap(),
        "2026-03-10T17:00:00.000001Z".parse().unwrap(),
        "1969-07-20T20:17:40.999999Z".parse().unwrap(),
        "2099-12-31T23:59:59.654321Z".parse().unwrap(),
    ];
    for at in moments {
        let id = store::tickets::create(
            &tc.state.db,
            &NewTicket {
                subject: "Relógio",
                description: "Ida e volta",
                ticket_type: TicketType::Support,
                organization: None,
                requester: customer,
                channel: "api",
            },
            actor(ActorKind::System, None),
            at,
        )
        .await
        .unwrap();
        let ticket = store::tickets::find(&tc.state.db, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ticket.created_at.0, at);
        assert_eq!(ticket.updated_at.0, at);
        let events = store::tickets::status_events(&tc.state.db, id)
            .await
            .unwrap();
        assert_eq!(events[0].at.0, at);
    }
}

#[tokio::test]
async fn settings_round_trip_json_and_a_second_put_replaces_the_first() {
    let tc = TestApp::new().await;
    let db = &tc.state.db;
    let value = serde_json::json!({
        "weekly": [["09:00", "18:00"], [], null],
        "time_zone": "America/Sao_Paulo",
        "holidays": ["2026-04-21"],
        "auto_solve_days": 7,
        "note": "Atendimento até às 18h — ação",
    });

    assert_eq!(
        store::settings::get::<serde_json::Value>(db, "business_hours")
            .await
            .unwrap(),
        None
    );
    store::settings::put(db, "business_hours", &value, tc.clock.now())
        .await
        .unwrap();
    assert_eq!(
        store::settings::get::<serde_json::Value>(db, "business_hours")
            .await
            .unwrap(),
        Some(value)
    );

    tc.clock.advance(SignedDuration::from_mins(5));
    store::settings::put(db, "business_hours", &vec![1, 2, 3], tc.clock.now())
        .await
        .unwrap();
    assert_eq!(
        store::settings::get::<Vec<i32>>(db, "business_hours")
            .await
            .unwrap(),
        Some(vec![1, 2, 3])
    );
    assert_eq!(
        store::settings::get::<serde_json::Value>(db, "other")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn login_attempts_are_counted_within_a_window_and_restart_after_it() {
    let tc = TestApp::new().await;
    let db = &tc.state.db;
    let window = SignedDuration::from_mins(15);
    let attempt = |key: &'static str| {
        let now = tc.clock.now();
        async move {
            store::security::count_login_attempt(db, key, now, now - window)
                .await
                .unwrap()
        }
    };

    assert_eq!(attempt("account:ana@padaria.example").await, 1);
    tc.clock.advance(SignedDuration::from_mins(5));
    assert_eq!(attempt("account:ana@padaria.example").await, 2);
    assert_eq!(
        attempt("address:203.0.113.7").await,
        1,
        "keys are counted apart"
    );
    tc.clock.advance(SignedDuration::from_mins(9));
    assert_eq!(attempt("account:ana@padaria.example").await, 3);
    // 16 minutes after the window opened: a new window.
    tc.clock.advance(SignedDuration::from_mins(2));
    assert_eq!(attempt("account:ana@padaria.example").await, 1);
    tc.clock.advance(SignedDuration::from_mins(1));
    assert_eq!(attempt("account:ana@padaria.example").await, 2);
    assert_eq!(
        attempt("address:203.0.113.7").await,
        2,
        "its window opened 12 minutes ago"
    );
}

#[tokio::test]
async fn an_sso_token_id_is_accepted_once() {
    let tc = TestApp::new().await;
    let db = &tc.state.db;
    let now = tc.clock.now();
    let expires = now + SignedDuration::from_mins(5);

    assert!(
        store::security::use_sso_token(db, "jti-1", now, expires)
            .await
            .unwrap()
    );
    assert!(
        !store::security::use_sso_token(db, "jti-1", now, expires)
            .await
            .unwrap()
    );
    tc.clock.advance(SignedDuration::from_secs(30));
    assert!(
        !store::security::use_sso_token(db, "jti-1", tc.clock.now(), expires)
            .await
            .unwrap()
    );
    assert!(
        store::security::use_sso_token(db, "jti-2", tc.clock.now(), expires)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_sqlite_read_lane_sees_every_commit_and_cannot_write() {
    let tc = TestApp::new().await;
    let Db::Sqlite(pool, lane) = &tc.state.db else {
        return;
    };
    let count = |lane: &chamado::store::lane::ReadLane| {
        lane.read(|conn| {
            conn.query_row("select count(*) from tickets", [], |row| {
                row.get::<_, i64>(0)
            })
        })
        .unwrap()
    };
    let before = count(lane);
    ticket_by_customer(&tc).await;
    assert_eq!(
        count(lane),
        before + 1,
        "a commit on the pool is seen at once"
    );
    let write = lane.read(|conn| conn.execute("delete from tickets", []));
    assert!(write.is_err(), "the lane is read-only");
    let left: i64 = sqlx::query_scalar("select count(*) from tickets")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(left, before + 1);
}

#[tokio::test]
async fn a_postgres_reader_is_reused_only_after_its_reads_completed() {
    let tc = TestApp::new().await;
    let Db::Postgres(_, readers) = &tc.state.db else {
        return;
    };
    let backend = |mut reader: chamado::store::lane::PgReader| async move {
        let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
            .fetch_one(&mut reader.conn)
            .await
            .unwrap();
        (pid, reader)
    };
    let (first, reader) = backend(readers.reader().await.unwrap()).await;
    reader.done();
    let (again, reader) = backend(readers.reader().await.unwrap()).await;
    assert_eq!(again, first, "a reader that finished goes back to the lane");
    // Dropped without `done` (an error or a cancelled request): closed, never reused.
    drop(reader);
    let (other, reader) = backend(readers.reader().await.unwrap()).await;
    assert_ne!(other, first);
    reader.done();
}

/// Every file under `dir`, staging files included.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn a_local_upload_is_written_as_it_arrives_and_an_abandoned_one_leaves_no_file() {
    let dir = TempDir::new().unwrap();
    let blobs = chamado::blob::BlobStore::local(dir.path()).unwrap();
    let piece = vec![7u8; 100_000];
    let mut writer = blobs.writer().await.unwrap();
    for _ in 0..10 {
        writer.write(&piece).await.unwrap();
    }
    assert_eq!(writer.size(), 1_000_000);
    let stored = writer.finish().await.unwrap();
    assert_eq!(stored.size, 1_000_000);
    assert_eq!(
        stored.sha256,
        chamado::service::sha256_hex(&vec![7u8; 1_000_000])
    );
    assert_eq!(blobs.get(&stored.key).await.unwrap().len(), 1_000_000);
    assert_eq!(files_under(dir.path()).len(), 1);
    // Aborted or dropped midway: neither the file nor its staging copy stays.
    let mut aborted = blobs.writer().await.unwrap();
    for _ in 0..6 {
        aborted.write(&piece).await.unwrap();
    }
    // Meanwhile it is written to a staging file beside the stored one.
    assert_eq!(files_under(dir.path()).len(), 2);
    aborted.abort().await;
    let mut dropped = blobs.writer().await.unwrap();
    for _ in 0..6 {
        dropped.write(&piece).await.unwrap();
    }
    assert_eq!(files_under(dir.path()).len(), 2);
    drop(dropped);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(files_under(dir.path()).len(), 1);
    assert_eq!(blobs.keys().await.unwrap(), [stored.key]);
}
