//! The read lanes: the busiest pages' reads, beside the connection pool.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement
//! is sent there and every row sent back, and every connection is pinged on
//! that thread when it goes back to the pool. For a list page that is most
//! of the server's work (BENCHMARKS.md: 192 µs of CPU and four thread
//! switches per page, of which the query itself is 45 µs). SQLite's lane
//! ([`ReadLane`]) holds plain connections to the same file and runs a read
//! where it is asked for, without leaving the thread: a few dozen
//! microseconds of blocking, which is what the query costs anyway. Only
//! reads bounded by a page come here (lists without a search, the ticket
//! page): counts and searches, which may read a whole organization, stay on
//! the pool's threads so that they never hold up the runtime's workers.
//! Writes never come here either: they stay on the pool, its transactions
//! and its queue of writers. PostgreSQL's lane ([`PgReaders`]) only skips
//! the pool's ping.
//!
//! The SQL is the same text the pool runs on both engines: static queries
//! with `$N` placeholders (bound by name here), and lists built through
//! [`SqlBuilder`], which writes either a `QueryBuilder` or a [`LaneSql`].
//! Nothing awaits while a lane connection is out, so a read cannot be
//! cancelled half-way and no connection needs testing on its way back.

use std::{
    fmt::{self, Display, Write as _},
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use rusqlite::{
    Connection, OpenFlags, Row, Statement,
    types::{FromSql, FromSqlError, FromSqlResult, Value, ValueRef},
};
use sqlx::{Connection as _, Database, Encode, PgConnection, PgPool, QueryBuilder, Type};

use super::{StoreError, Ts};

/// At most this many idle connections are kept. A read holds one only
/// while it runs on a thread, so the lane never has more out than the
/// threads that read at once (the runtime's workers).
const MAX_IDLE: usize = 8;

/// Each connection's prepared statements, reused across reads.
const STATEMENT_CACHE: usize = 64;

/// The read lane of one SQLite file; clones share it.
#[derive(Clone)]
pub struct ReadLane(Arc<Lane>);

struct Lane {
    path: PathBuf,
    idle: Idle<Connection>,
}

/// A lane's idle connections.
struct Idle<C>(Mutex<Vec<C>>);

impl<C> Idle<C> {
    fn new() -> Self {
        Idle(Mutex::new(Vec::new()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<C>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self) -> Option<C> {
        self.lock().pop()
    }

    /// Keeps `conn` unless `max` are already kept.
    fn put(&self, conn: C, max: usize) {
        let mut idle = self.lock();
        if idle.len() < max {
            idle.push(conn);
        }
    }
}

impl fmt::Debug for ReadLane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadLane")
            .field("path", &self.0.path)
            .finish_non_exhaustive()
    }
}

impl ReadLane {
    /// A lane over the file at `path`, which must exist (the pool created
    /// it). Connections are opened on first use.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ReadLane(Arc::new(Lane {
            path: path.into(),
            idle: Idle::new(),
        }))
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.0.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // Reads only: a statement that would write fails instead.
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "temp_store", "memory")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Runs `read` on one of the lane's connections, on this thread. A read
    /// of several statements that must see the same moment opens its own
    /// transaction (`unchecked_transaction`); one statement needs none.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let conn = match self.0.idle.take() {
            Some(conn) => conn,
            None => self.open().map_err(lane_error)?,
        };
        let result = read(&conn);
        // A failed read leaves nothing open (a transaction's drop rolls it
        // back), so the connection is kept either way.
        if conn.is_autocommit() {
            self.0.idle.put(conn, MAX_IDLE);
        }
        result.map_err(lane_error)
    }
}

/// PostgreSQL's read lane: connections kept outside sqlx's pool for the same
/// reads, because the pool pings every connection it takes back (one more
/// round trip to the server per page, from a task of its own). A reader goes
/// back to the lane only after its reads completed: one dropped half-way (an
/// error, a cancelled request) is closed instead, so no connection is ever
/// reused in an unknown state and none needs testing.
#[derive(Clone)]
pub struct PgReaders(Arc<Readers>);

struct Readers {
    /// Where new connections come from: the pool's own settings.
    pool: PgPool,
    idle: Idle<PgConnection>,
    /// At most this many readers exist at once.
    permits: Arc<tokio::sync::Semaphore>,
}

impl fmt::Debug for PgReaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgReaders")
            .field("max", &self.0.permits.available_permits())
            .finish_non_exhaustive()
    }
}

/// One reader, out of the lane until [`PgReader::done`]; dropped without it,
/// its connection is closed.
pub struct PgReader {
    pub conn: PgConnection,
    readers: Arc<Readers>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl PgReaders {
    /// A lane of at most `max` connections made with `pool`'s settings.
    pub fn new(pool: PgPool, max: usize) -> Self {
        PgReaders(Arc::new(Readers {
            pool,
            idle: Idle::new(),
            permits: Arc::new(tokio::sync::Semaphore::new(max.max(1))),
        }))
    }

    /// An idle reader, or a new connection when none is idle.
    pub async fn reader(&self) -> Result<PgReader, StoreError> {
        let permit = Arc::clone(&self.0.permits)
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Other(anyhow::anyhow!("read lane closed: {e}")))?;
        let conn = match self.0.idle.take() {
            Some(conn) => conn,
            None => PgConnection::connect_with(&self.0.pool.connect_options()).await?,
        };
        Ok(PgReader {
            conn,
            readers: Arc::clone(&self.0),
            _permit: permit,
        })
    }
}

impl PgReaders {
    /// Closes the idle readers (the pool's `close` does not know them).
    pub async fn close(&self) {
        let idle = std::mem::take(&mut *self.0.idle.lock());
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

impl PgReader {
    /// Every read completed: the connection goes back to the lane.
    pub fn done(self) {
        // The semaphore bounds the readers, so every one that comes back
        // has room.
        self.readers.idle.put(self.conn, usize::MAX);
    }
}

fn lane_error(error: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::from(error).context("SQLite read"))
}

/// A value bound into a query built by [`SqlBuilder`].
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Int(i64),
    Bool(bool),
    Text(String),
    Time(Ts),
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Arg::Bool(value)
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}

impl From<Ts> for Arg {
    fn from(value: Ts) -> Self {
        Arg::Time(value)
    }
}

impl From<Arg> for Value {
    fn from(arg: Arg) -> Self {
        match arg {
            Arg::Int(n) => Value::Integer(n),
            Arg::Bool(b) => Value::Integer(i64::from(b)),
            Arg::Text(s) => Value::Text(s),
            Arg::Time(ts) => Value::Integer(ts.0.as_microsecond()),
        }
    }
}

/// Where a query is written: a sqlx `QueryBuilder` for the pool of either
/// engine, or a [`LaneSql`] for SQLite's read lane. The functions that
/// build lists take any of them, so each list is written once.
pub trait SqlBuilder {
    fn push(&mut self, sql: impl Display);
    fn push_arg(&mut self, arg: Arg);
    fn push_bind(&mut self, value: impl Into<Arg>) {
        self.push_arg(value.into());
    }
    /// The values, separated by commas (for `in (…)`).
    fn push_binds<T: Into<Arg>>(&mut self, values: impl IntoIterator<Item = T>) {
        for (n, value) in values.into_iter().enumerate() {
            if n > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
    }
}

impl<DB> SqlBuilder for QueryBuilder<DB>
where
    DB: Database,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Ts: Encode<'a, DB> + Type<DB>,
{
    fn push(&mut self, sql: impl Display) {
        QueryBuilder::push(self, sql);
    }

    fn push_arg(&mut self, arg: Arg) {
        match arg {
            Arg::Int(n) => QueryBuilder::push_bind(self, n),
            Arg::Bool(b) => QueryBuilder::push_bind(self, b),
            Arg::Text(s) => QueryBuilder::push_bind(self, s),
            Arg::Time(ts) => QueryBuilder::push_bind(self, ts),
        };
    }
}

/// A query for the read lane: its text with numbered `?N` placeholders and
/// its values in order.
#[derive(Clone, Debug, Default)]
pub struct LaneSql {
    pub sql: String,
    pub args: Vec<Value>,
}

impl SqlBuilder for LaneSql {
    fn push(&mut self, sql: impl Display) {
        let _ = write!(self.sql, "{sql}");
    }

    fn push_arg(&mut self, arg: Arg) {
        self.args.push(arg.into());
        let _ = write!(self.sql, "?{}", self.args.len());
    }
}

impl LaneSql {
    /// Every row of the query, decoded.
    pub fn fetch_all<T: FromLaneRow>(&self, conn: &Connection) -> rusqlite::Result<Vec<T>> {
        let mut statement = conn.prepare_cached(&self.sql)?;
        for (i, value) in self.args.iter().enumerate() {
            statement.raw_bind_parameter(i + 1, value)?;
        }
        collect(&mut statement)
    }
}

/// Every row of a static query written with `$1`, `$2`… (as the pool runs
/// it), with `args` bound to `$1` onwards by name: the same text may use a
/// placeholder twice or out of order.
pub fn fetch_all<T: FromLaneRow>(
    conn: &Connection,
    sql: &str,
    args: &[Arg],
) -> rusqlite::Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    for (i, arg) in args.iter().enumerate() {
        let name = format!("${}", i + 1);
        let index = statement
            .parameter_index(&name)?
            .ok_or_else(|| rusqlite::Error::InvalidParameterName(name))?;
        statement.raw_bind_parameter(index, Value::from(arg.clone()))?;
    }
    collect(&mut statement)
}

/// The first row of a static query (see [`fetch_all`]), if any.
pub fn fetch_optional<T: FromLaneRow>(
    conn: &Connection,
    sql: &str,
    args: &[Arg],
) -> rusqlite::Result<Option<T>> {
    Ok(fetch_all(conn, sql, args)?.into_iter().next())
}

fn collect<T: FromLaneRow>(statement: &mut Statement<'_>) -> rusqlite::Result<Vec<T>> {
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(T::from_lane_row(row)?);
    }
    Ok(out)
}

/// A row type the lane can decode: its fields in the order of the query's
/// columns (see [`lane_row!`](crate::lane_row)).
pub trait FromLaneRow: Sized {
    fn from_lane_row(row: &Row<'_>) -> rusqlite::Result<Self>;
}

/// Implements [`FromLaneRow`] for a struct whose fields are listed in the
/// order of the query's columns. Columns are read by position (a lookup by
/// name costs a scan of the column names per field and row); debug builds
/// check each column's name against its field's.
#[macro_export]
macro_rules! lane_row {
    ($ty:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::store::lane::FromLaneRow for $ty {
            fn from_lane_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                let mut column = 0usize;
                Ok(Self {
                    $($field: {
                        debug_assert_eq!(
                            row.as_ref().column_name(column).ok(),
                            Some(stringify!($field)),
                            "column {column} of the query is not the field {}",
                            stringify!($field)
                        );
                        column += 1;
                        row.get(column - 1)?
                    },)+
                })
            }
        }
    };
}

impl FromSql for Ts {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let micros = value.as_i64()?;
        jiff::Timestamp::from_microsecond(micros)
            .map(Ts)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_queries_number_their_placeholders_in_order() {
        let mut q = LaneSql::default();
        q.push("select 1 where a = ");
        q.push_bind(7_i64);
        q.push(" and b = ");
        q.push_bind("x".to_owned());
        q.push(" and c = ");
        q.push_bind(true);
        assert_eq!(q.sql, "select 1 where a = ?1 and b = ?2 and c = ?3");
        assert_eq!(
            q.args,
            vec![
                Value::Integer(7),
                Value::Text("x".into()),
                Value::Integer(1)
            ]
        );
    }
}
