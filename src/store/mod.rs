//! Storage: one code base for SQLite and PostgreSQL.
//!
//! Queries are written once, lower-case, with `$N` placeholders that both
//! engines accept, and [`with_db!`] expands one body per backend so each arm
//! has concrete types. Only search, job claims and LISTEN/NOTIFY may differ by
//! backend in their SQL. The busiest pages' reads run that same SQL through
//! each backend's read lane ([`lane`]) instead of the pool; PostgreSQL's
//! ticket page wraps the same five queries into one statement. Times are
//! [`Ts`]: integer microseconds on SQLite (sortable, exact), `timestamptz` on
//! PostgreSQL. This module knows nothing of HTTP.

pub mod admin;
pub mod agent;
pub mod attachments;
pub mod bench;
pub mod contacts;
pub mod demo;
pub mod events;
pub mod group_commit;
pub mod hc;
pub mod jobs;
pub mod lane;
pub mod mail;
pub mod orgs;
pub mod portal;
pub mod security;
pub mod sessions;
pub mod settings;
pub mod ticket_search;
pub mod tickets;
pub mod users;
pub mod widget;

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    ConnectOptions, Database, Decode, Encode, PgPool, Postgres, Sqlite, SqlitePool, Transaction,
    Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::config::Config;

/// A pool on either backend.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: the pool, and the read lane over the same file for the
    /// busiest pages' reads (`store::lane`).
    Sqlite(SqlitePool, lane::ReadLane),
    /// PostgreSQL: the pool, and the readers of the busiest pages' reads,
    /// outside it (`store::lane`).
    Postgres(PgPool, lane::PgReaders),
}

/// Which engine a URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one body per backend with `$pool` bound to the concrete pool.
#[macro_export]
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool, _) => $body,
            $crate::store::Db::Postgres($pool, _) => $body,
        }
    };
}

/// SQLite's pool size when none is configured: three connections per core,
/// from 4 to 16. sqlx runs each SQLite connection on its own thread; on the
/// 2-core benchmark machine 16 connections served fewer requests than 4–6
/// (thread switching) and held 40 MB more after searches (a page cache and
/// a malloc arena per thread): BENCHMARKS.md.
fn sqlite_default_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores.saturating_mul(3))
        .unwrap_or(16)
        .clamp(4, 16)
}

/// How many connections PostgreSQL's read lane may open beside a pool of
/// `pool_size`: half as many, from 1 to 8.
fn pg_readers(pool_size: u32) -> usize {
    usize::try_from(pool_size / 2).unwrap_or(8).clamp(1, 8)
}

/// Storage failures, mapped from `sqlx::Error` at this edge.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write; carries its name
    /// when the engine reports one.
    #[error("conflict on {0}")]
    Conflict(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                StoreError::Conflict(db.constraint().unwrap_or(db.message()).to_owned())
            }
            _ => StoreError::Other(error.into()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Other(error.into())
    }
}

/// Opening a write transaction.
///
/// SQLite needs `BEGIN IMMEDIATE`: a deferred transaction that reads and
/// then writes after another connection committed fails at once with
/// SQLITE_BUSY_SNAPSHOT, whatever the busy timeout; an immediate one waits
/// for the write lock instead.
pub trait WritePool {
    type Db: Database;
    fn begin_write(&self) -> impl Future<Output = Result<WriteTx<Self::Db>, sqlx::Error>> + Send;
}

/// A write transaction: the connection (`&mut *tx`) and, on SQLite, this
/// process's turn to write, held until commit or rollback. Writers of one
/// SQLite file queue for their turn in order instead of waiting inside
/// SQLite, whose busy handler sleeps in growing steps (up to 100 ms): with
/// many writers at once that made the slowest writes take most of a second.
#[derive(Debug)]
pub struct WriteTx<DB: Database> {
    tx: Transaction<'static, DB>,
    _turn: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl<DB: Database> WriteTx<DB> {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl<DB: Database> std::ops::Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> std::ops::DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

impl WritePool for SqlitePool {
    type Db = Sqlite;
    async fn begin_write(&self) -> Result<WriteTx<Sqlite>, sqlx::Error> {
        let turn = write_gate(self)
            .acquire_owned()
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("write queue closed: {e}")))?;
        Ok(WriteTx {
            tx: self.begin_with("begin immediate").await?,
            _turn: Some(turn),
        })
    }
}

impl WritePool for PgPool {
    type Db = Postgres;
    async fn begin_write(&self) -> Result<WriteTx<Postgres>, sqlx::Error> {
        Ok(WriteTx {
            tx: self.begin().await?,
            _turn: None,
        })
    }
}

impl Backend {
    /// The backend a URL selects, or `None` for an unknown scheme.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// One queue of writers per SQLite database file in this process.
fn write_gate(pool: &SqlitePool) -> Arc<tokio::sync::Semaphore> {
    static GATES: std::sync::LazyLock<
        std::sync::Mutex<
            std::collections::HashMap<std::path::PathBuf, Arc<tokio::sync::Semaphore>>,
        >,
    > = std::sync::LazyLock::new(Default::default);
    let path = pool.connect_options().get_filename().to_path_buf();
    let mut gates = GATES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(
        gates
            .entry(path)
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(1))),
    )
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Connects according to the configuration. The SQLite file is created
    /// only for the default path (with a log line); another missing path is
    /// refused, as a typo would otherwise start an empty help desk.
    pub async fn connect(config: &Config) -> Result<Self, StoreError> {
        let url = &config.database_url.0;
        match Backend::from_url(url) {
            Some(Backend::Sqlite) => {
                let path = sqlite_path(url);
                let default_url = Config::default().database_url.0;
                let default_path = sqlite_path(&default_url);
                let create =
                    path == default_path || config.data_dir.join("chamado.db") == Path::new(path);
                if !Path::new(path).exists() {
                    if !create {
                        return Err(StoreError::Other(anyhow::anyhow!(
                            "SQLite database {path} does not exist (only the default path is created automatically)"
                        )));
                    }
                    if let Some(parent) = Path::new(path).parent()
                        && !parent.as_os_str().is_empty()
                    {
                        std::fs::create_dir_all(parent).map_err(anyhow::Error::from)?;
                    }
                    tracing::info!(path, "creating a new SQLite database");
                }
                let synchronous = if config.sqlite_synchronous == "normal" {
                    SqliteSynchronous::Normal
                } else {
                    SqliteSynchronous::Full
                };
                let connections = config
                    .database_max_connections
                    .unwrap_or_else(sqlite_default_connections);
                Self::connect_sqlite(path, create, synchronous, connections).await
            }
            Some(Backend::Postgres) => {
                let connections = config.database_max_connections.unwrap_or(16);
                Self::connect_postgres(url, connections).await
            }
            None => Err(StoreError::Other(anyhow::anyhow!(
                "unsupported database URL {}",
                config.database_url.redacted()
            ))),
        }
    }

    /// Opens a SQLite file with the settings DESIGN requires: WAL, foreign
    /// keys, a busy timeout and (by default) `synchronous=FULL`, because NORMAL
    /// under WAL may lose the last commits on power loss.
    pub async fn connect_sqlite(
        path: &str,
        create: bool,
        synchronous: SqliteSynchronous,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("temp_store", "memory")
            .log_statements(tracing::log::LevelFilter::Trace);
        // A local file does not hang up: testing each connection before
        // use would cost one more round trip to its thread per query.
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool, lane::ReadLane::new(path)))
    }

    /// Opens (creating) a SQLite file for a bulk load (`chamado bench-data`):
    /// the settings of `connect_sqlite` with `synchronous=FULL`, one
    /// connection, and a page cache of `cache_mib` so that a large
    /// transaction does not spill the same index pages again and again.
    pub async fn connect_sqlite_bulk(path: &str, cache_mib: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Index builds sort through temporary files: memory stays bounded.
            .pragma("temp_store", "file")
            .pragma("cache_size", format!("-{}", u64::from(cache_mib) * 1024))
            .log_statements(tracing::log::LevelFilter::Trace)
            // Building an index over millions of rows is slow on purpose.
            .log_slow_statements(tracing::log::LevelFilter::Off, Duration::from_mins(1));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool, lane::ReadLane::new(path)))
    }

    /// Connects to PostgreSQL.
    pub async fn connect_postgres(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options =
            PgConnectOptions::from_str(url)?.log_statements(tracing::log::LevelFilter::Trace);
        // Connections are tested when they go back to the pool (sqlx pings
        // each one there); testing them again before each use would cost a
        // second round trip to the server per query. A connection the server
        // closed while idle (a restart) fails one query and is dropped.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let readers = lane::PgReaders::new(pool.clone(), pg_readers(max_connections));
        Ok(Db::Postgres(pool, readers))
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(..) => Backend::Postgres,
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool, _) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool, _) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// A trivial query, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_db!(self, |pool| {
            sqlx::query("select 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        if let Db::Postgres(_, readers) = self {
            readers.close().await;
        }
        with_db!(self, |pool| pool.close().await);
    }

    /// Tables, their columns and their indexes as the engine reports them,
    /// sorted, without the migration bookkeeping table. Used to prove both
    /// migration folders build the same schema.
    pub async fn schema_outline(&self) -> Result<Vec<String>, StoreError> {
        let mut lines: Vec<String> = match self {
            Db::Sqlite(pool, _) => {
                let columns: Vec<(String, String)> = sqlx::query_as(
                    "select m.name, p.name from sqlite_master m join pragma_table_info(m.name) p \
                     where m.type = 'table' and m.name not like 'sqlite_%' and m.name not like '_sqlx%'",
                )
                .fetch_all(pool)
                .await?;
                let indexes: Vec<(String, String)> = sqlx::query_as(
                    "select tbl_name, name from sqlite_master where type = 'index' \
                     and name not like 'sqlite_%' and tbl_name not like '_sqlx%'",
                )
                .fetch_all(pool)
                .await?;
                columns
                    .into_iter()
                    .map(|(t, c)| format!("column {t}.{c}"))
                    .chain(indexes.into_iter().map(|(t, i)| format!("index {t}.{i}")))
                    .collect()
            }
            Db::Postgres(pool, _) => {
                let columns: Vec<(String, String)> = sqlx::query_as(
                    "select table_name::text, column_name::text from information_schema.columns \
                     where table_schema = current_schema() and table_name not like '_sqlx%'",
                )
                .fetch_all(pool)
                .await?;
                let indexes: Vec<(String, String)> = sqlx::query_as(
                    "select tablename::text, indexname::text from pg_indexes \
                     where schemaname = current_schema() and tablename not like '_sqlx%' \
                     and indexname not in (select conname from pg_constraint)",
                )
                .fetch_all(pool)
                .await?;
                columns
                    .into_iter()
                    .map(|(t, c)| format!("column {t}.{c}"))
                    .chain(indexes.into_iter().map(|(t, i)| format!("index {t}.{i}")))
                    .collect()
            }
        };
        lines.sort();
        Ok(lines)
    }
}

pub fn sqlite_path(url: &str) -> &str {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.split('?').next().unwrap_or(rest)
}

/// A point in time as stored: UTC microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(transparent)]
pub struct Ts(pub jiff::Timestamp);

impl From<jiff::Timestamp> for Ts {
    fn from(at: jiff::Timestamp) -> Self {
        Ts(at)
    }
}

impl From<Ts> for jiff::Timestamp {
    fn from(ts: Ts) -> Self {
        ts.0
    }
}

impl Type<Sqlite> for Ts {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &<Sqlite as Database>::TypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Ts {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Sqlite>>::encode(self.0.as_microsecond(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Ts {
    fn decode(value: <Sqlite as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let micros = <i64 as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Ts(jiff::Timestamp::from_microsecond(micros)?))
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <jiff_sqlx::Timestamp as Type<Postgres>>::type_info()
    }
}

impl<'q> Encode<'q, Postgres> for Ts {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <jiff_sqlx::Timestamp as Encode<'q, Postgres>>::encode(
            jiff_sqlx::Timestamp::from(self.0),
            buf,
        )
    }
}

impl<'r> Decode<'r, Postgres> for Ts {
    fn decode(value: <Postgres as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let at = <jiff_sqlx::Timestamp as Decode<'r, Postgres>>::decode(value)?;
        Ok(Ts(at.to_jiff()))
    }
}

impl sqlx::postgres::PgHasArrayType for Ts {
    fn array_type_info() -> sqlx::postgres::PgTypeInfo {
        <jiff_sqlx::Timestamp as sqlx::postgres::PgHasArrayType>::array_type_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(sqlite_path("sqlite://data/chamado.db"), "data/chamado.db");
        assert_eq!(
            sqlite_path("sqlite:///var/lib/c.db?mode=rwc"),
            "/var/lib/c.db"
        );
        assert_eq!(sqlite_path("sqlite:c.db"), "c.db");
    }
}
