//! A module's private SQLite database: one writer connection, a read pool, its own migrations,
//! and the write transaction through which every state change and every event goes.

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sqlx::{
    Sqlite, SqliteConnection, Transaction,
    migrate::Migrator,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{
    bus::Bus,
    error::Error,
    events::{Envelope, EventRef, IntegrationEvent, Trace},
    ids::new_id,
    metrics::Metrics,
    time::Timestamp,
};

/// SQLite's `synchronous` setting for module databases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// No fsync: fastest, may lose recent commits on power loss (never corrupts).
    Off,
    /// fsync at checkpoints only (WAL): durable across process crashes, not always power loss.
    #[default]
    Normal,
    /// fsync on every commit: durable across power loss.
    Full,
}

impl FromStr for Synchronous {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "normal" => Ok(Self::Normal),
            "full" => Ok(Self::Full),
            other => Err(format!(
                "unknown synchronous mode {other:?} (expected off, normal or full)"
            )),
        }
    }
}

impl fmt::Display for Synchronous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Off => "off",
            Self::Normal => "normal",
            Self::Full => "full",
        })
    }
}

impl From<Synchronous> for SqliteSynchronous {
    fn from(s: Synchronous) -> Self {
        match s {
            Synchronous::Off => SqliteSynchronous::Off,
            Synchronous::Normal => SqliteSynchronous::Normal,
            Synchronous::Full => SqliteSynchronous::Full,
        }
    }
}

/// How module databases are opened.
#[derive(Clone, Debug)]
pub struct DbSettings {
    /// The folder holding one `<module>.db` file per module.
    pub data_dir: PathBuf,
    /// SQLite `synchronous`.
    pub synchronous: Synchronous,
    /// How long a connection waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    /// How long a write waits for the module's single writer before failing.
    pub write_timeout: Duration,
    /// Size of each module's read pool.
    pub read_connections: u32,
}

impl DbSettings {
    /// Defaults for a data folder: `synchronous=NORMAL`, 5 s busy timeout, 4 readers.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            synchronous: Synchronous::Normal,
            busy_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(30),
            read_connections: 4,
        }
    }
}

/// The kernel's migrations, applied to every module database and tracked in their own table so
/// they never collide with the module's `_sqlx_migrations`.
fn kernel_migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("../../schemas/kernel");
    migrator.dangerous_set_table_name("_kernel_migrations");
    migrator
}

/// The options every connection to a database file is opened with (a 4 MB page cache for the
/// writer; readers override it). Pages missing from it come from the OS page cache, which all
/// connections share; the private caches are what counts against the process's memory.
pub(crate) fn connect_options(path: &Path, settings: &DbSettings) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(settings.busy_timeout)
        .foreign_keys(true)
        .pragma("temp_store", "memory")
        .pragma("cache_size", "-4000")
}

/// The single writer connection of a database file: WAL, the configured `synchronous`.
pub(crate) async fn open_writer(
    base: &SqliteConnectOptions,
    settings: &DbSettings,
) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(settings.write_timeout)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(
            base.clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(settings.synchronous.into()),
        )
        .await
}

/// A module's own database. Cheap to clone; private to the module that opened it.
#[derive(Clone)]
pub struct ModuleDb {
    inner: Arc<Inner>,
}

struct Inner {
    module: &'static str,
    path: PathBuf,
    writer: SqlitePool,
    reader: SqlitePool,
    /// Held from `BEGIN IMMEDIATE` until the committed events are on the bus, so the bus sees
    /// every stream in sequence order.
    order: Arc<Mutex<()>>,
    write_timeout: Duration,
    /// Unix milliseconds until which the module is offline; 0 when online.
    offline_until: AtomicI64,
    bus: Bus,
    metrics: Metrics,
}

impl fmt::Debug for ModuleDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModuleDb")
            .field("module", &self.inner.module)
            .field("path", &self.inner.path)
            .finish()
    }
}

/// What `/health` says about one module database.
#[derive(Clone, Debug, Serialize)]
pub struct DbHealth {
    /// `up`, `down` or `offline` (taken offline by an operator).
    pub status: &'static str,
    /// The newest applied migration of the module's own schema.
    pub schema_version: Option<i64>,
    /// The newest applied kernel migration (outbox, inbox, checkpoints).
    pub kernel_schema_version: Option<i64>,
    /// Why it is not up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ModuleDb {
    /// Opens (creating if needed) `<data_dir>/<module>.db`, applies the kernel's and the module's
    /// migrations, and returns the handle.
    pub async fn open(
        module: &'static str,
        migrator: &Migrator,
        settings: &DbSettings,
        bus: &Bus,
        metrics: &Metrics,
    ) -> Result<Self, Error> {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| Error::DataDir {
            path: settings.data_dir.clone(),
            source,
        })?;
        let path = settings.data_dir.join(format!("{module}.db"));
        let base = connect_options(&path, settings);
        let writer = open_writer(&base, settings)
            .await
            .map_err(Error::db(module))?;

        kernel_migrator()
            .run(&writer)
            .await
            .map_err(|source| Error::Migration {
                module,
                source: source.into(),
            })?;
        migrator
            .run(&writer)
            .await
            .map_err(|source| Error::Migration {
                module,
                source: source.into(),
            })?;

        let reader = SqlitePoolOptions::new()
            .max_connections(settings.read_connections.max(1))
            .min_connections(1)
            .acquire_timeout(settings.write_timeout)
            // Readers keep a smaller page cache: every write elsewhere invalidates it anyway, and
            // with four modules × (one writer + four readers) the caches bound the process's RSS.
            .connect_with(base.read_only(true).pragma("cache_size", "-1000"))
            .await
            .map_err(Error::db(module))?;

        Ok(Self {
            inner: Arc::new(Inner {
                module,
                path,
                writer,
                reader,
                order: Arc::new(Mutex::new(())),
                write_timeout: settings.write_timeout,
                offline_until: AtomicI64::new(0),
                bus: bus.clone(),
                metrics: metrics.clone(),
            }),
        })
    }

    /// The module's name, which is also the name of its event stream.
    pub fn module(&self) -> &'static str {
        self.inner.module
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The kernel metrics this database reports to.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The bus this database publishes to.
    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    /// The read pool, for queries. Fails while the module is offline.
    pub fn reader(&self) -> Result<&SqlitePool, Error> {
        self.ensure_online()?;
        Ok(&self.inner.reader)
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on the single writer) on behalf of `trace`.
    pub async fn write(&self, trace: Trace) -> Result<WriteTx, Error> {
        self.ensure_online()?;
        let module = self.inner.module;
        let order = tokio::time::timeout(
            self.inner.write_timeout,
            self.inner.order.clone().lock_owned(),
        )
        .await
        .map_err(|_| Error::WriterTimeout(module))?;
        let tx = self
            .inner
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Error::db(module))?;
        Ok(WriteTx {
            tx,
            _order: order,
            db: self.clone(),
            trace,
            pending: Vec::new(),
        })
    }

    /// Takes the module offline for `duration` (every read and write fails with
    /// [`Error::Unavailable`] while the rest of the application keeps serving), or back online
    /// with `None`. Always timed, so an operator cannot lock themselves out for good.
    pub fn set_offline_for(&self, duration: Option<Duration>) {
        let until = match duration {
            Some(d) => Timestamp::now().plus(d).as_micros() / 1_000,
            None => 0,
        };
        self.inner.offline_until.store(until, Ordering::SeqCst);
        tracing::warn!(module = self.inner.module, offline_for = ?duration, "module availability changed by operator");
    }

    /// False while taken offline with [`ModuleDb::set_offline_for`].
    pub fn is_online(&self) -> bool {
        let until = self.inner.offline_until.load(Ordering::Relaxed);
        until == 0 || Timestamp::now().as_micros() / 1_000 >= until
    }

    fn ensure_online(&self) -> Result<(), Error> {
        if self.is_online() {
            Ok(())
        } else {
            Err(Error::Unavailable(self.inner.module))
        }
    }

    /// Checks the database answers and reports schema versions.
    pub async fn health(&self) -> DbHealth {
        if !self.is_online() {
            return DbHealth {
                status: "offline",
                schema_version: None,
                kernel_schema_version: None,
                error: Some("taken offline by an operator".into()),
            };
        }
        let versions = async {
            let module: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                    .fetch_one(&self.inner.reader)
                    .await?;
            let kernel: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM _kernel_migrations WHERE success = 1")
                    .fetch_one(&self.inner.reader)
                    .await?;
            Ok::<_, sqlx::Error>((module, kernel))
        };
        match tokio::time::timeout(Duration::from_secs(2), versions).await {
            Ok(Ok((module, kernel))) => DbHealth {
                status: "up",
                schema_version: module,
                kernel_schema_version: kernel,
                error: None,
            },
            Ok(Err(e)) => DbHealth {
                status: "down",
                schema_version: None,
                kernel_schema_version: None,
                error: Some(e.to_string()),
            },
            Err(_) => DbHealth {
                status: "down",
                schema_version: None,
                kernel_schema_version: None,
                error: Some("no answer within 2 s".into()),
            },
        }
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.inner.writer.close().await;
        self.inner.reader.close().await;
    }

    fn publish(&self, events: Vec<Envelope>) {
        if events.is_empty() {
            return;
        }
        let stream = self.inner.module;
        let count = events.len() as u64;
        self.inner.metrics.events_appended(stream, count);
        for event in events {
            self.inner.bus.publish(Arc::new(event));
        }
        self.inner.metrics.events_published(stream, count);
    }
}

/// A write transaction on a module's database.
///
/// Events are appended to the module's outbox with [`WriteTx::emit`], inside the transaction
/// that changes the state they describe; they reach the bus only after [`WriteTx::commit`]. Dropping
/// the transaction without committing rolls back the state and the events together.
pub struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _order: OwnedMutexGuard<()>,
    db: ModuleDb,
    trace: Trace,
    pending: Vec<Envelope>,
}

/// What a commit published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The last event appended by the transaction, if any.
    pub last_event: Option<EventRef>,
}

impl WriteTx {
    /// The connection, for the module's own statements.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    /// The trace events emitted now will carry.
    pub fn trace(&self) -> Trace {
        self.trace
    }

    /// Changes the trace for events emitted from now on (a consumer handling a batch).
    pub fn set_trace(&mut self, trace: Trace) {
        self.trace = trace;
    }

    /// Appends `event` to this module's outbox, in this transaction.
    pub async fn emit<E: IntegrationEvent>(&mut self, event: &E) -> Result<EventRef, Error> {
        let module = self.db.inner.module;
        let payload = RawValue::from_string(serde_json::to_string(event)?)?;
        let event_id = new_id();
        let occurred_at = Timestamp::now();
        let aggregate_id = event.aggregate_id();
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (event_id, event_type, event_version, aggregate_id, payload, \
             correlation_id, causation_id, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(event_id)
        .bind(E::TYPE)
        .bind(i64::from(E::VERSION))
        .bind(&aggregate_id)
        .bind(payload.get())
        .bind(self.trace.correlation_id)
        .bind(self.trace.causation_id)
        .bind(occurred_at)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(Error::db(module))?;
        self.pending.push(Envelope {
            stream: module.to_owned(),
            seq,
            event_id,
            event_type: E::TYPE.to_owned(),
            event_version: E::VERSION,
            aggregate_id,
            payload,
            correlation_id: self.trace.correlation_id,
            causation_id: self.trace.causation_id,
            occurred_at,
        });
        Ok(EventRef { seq, event_id })
    }

    /// Commits, then publishes the appended events on the bus in sequence order.
    pub async fn commit(self) -> Result<Committed, Error> {
        let WriteTx {
            tx,
            _order,
            db,
            pending,
            ..
        } = self;
        tx.commit().await.map_err(Error::db(db.inner.module))?;
        let last_event = pending.last().map(|e| EventRef {
            seq: e.seq,
            event_id: e.event_id,
        });
        db.publish(pending);
        Ok(Committed { last_event })
    }

    /// Marks a point to roll back to and, in the same round trip, runs `sql` (an `INSERT … RETURNING`
    /// with four parameters); returns whether it returned a row. (Not the change count: SQLite's
    /// `changes()` is stale after a `SAVEPOINT` when the insert did nothing.)
    pub(crate) async fn savepoint_with(
        &mut self,
        sql: &str,
        (a, b, c, d): (&str, uuid::Uuid, i64, Timestamp),
    ) -> Result<(Savepoint, bool), Error> {
        let pending = self.pending.len();
        let done = sqlx::query(sqlx::AssertSqlSafe(format!("SAVEPOINT kernel_step; {sql}")))
            .bind(a)
            .bind(b)
            .bind(c)
            .bind(d)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(Error::db(self.db.inner.module))?;
        Ok((Savepoint { pending }, done.is_some()))
    }

    /// Undoes everything done since the savepoint, events included.
    pub(crate) async fn rollback_to(&mut self, sp: Savepoint) -> Result<(), Error> {
        sqlx::query("ROLLBACK TO kernel_step; RELEASE kernel_step")
            .execute(&mut *self.tx)
            .await
            .map_err(Error::db(self.db.inner.module))?;
        self.pending.truncate(sp.pending);
        Ok(())
    }
}

/// A position inside a [`WriteTx`] (see [`WriteTx::savepoint`]).
pub(crate) struct Savepoint {
    pending: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synchronous_parses_case_insensitively_and_rejects_nonsense() {
        assert_eq!("FULL".parse::<Synchronous>().unwrap(), Synchronous::Full);
        assert_eq!(
            "normal".parse::<Synchronous>().unwrap(),
            Synchronous::Normal
        );
        assert!(
            "sometimes"
                .parse::<Synchronous>()
                .unwrap_err()
                .contains("off, normal or full")
        );
    }
}
