//! A module's private SQLite database: one writer connection, a read pool, its own migrations,
//! and the handle through which every write transaction ([`WriteTx`]) starts.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use sqlx::{Connection, sqlite::SqliteConnection};
use sqlx::{
    migrate::Migrator,
    sqlite::{SqlitePool, SqlitePoolOptions},
};
use tokio::sync::Mutex;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::{
    bus::Bus,
    clock::Clock,
    error::Error,
    events::Trace,
    metrics::Metrics,
    platform::Platform,
    storage::connect_options,
    tx::{Outlet, WriteTx},
};

/// The kernel's migrations, applied to every module database and tracked in their own table so
/// they never collide with the module's `_sqlx_migrations`.
fn kernel_migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("../../schemas/kernel");
    migrator.dangerous_set_table_name("_kernel_migrations");
    migrator
}

/// Waits for, then holds, the exclusive lock on `<data_dir>/<module>.db.lock` (released when
/// the file is dropped, or when the process dies).
async fn migration_lock(
    data_dir: &std::path::Path,
    module: &'static str,
) -> Result<std::fs::File, Error> {
    let path = data_dir.join(format!("{module}.db.lock"));
    let failed = |e: std::io::Error| Error::DataDir {
        path: path.clone(),
        source: e,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(failed)?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| failed(std::io::Error::other(e)))?
        .map_err(failed)
}

/// Frames in the write-ahead log (about 40 MB of 4 KB pages) past which the checkpointer makes
/// sure the log starts again from its beginning. Each time, writes wait for a short copy and its
/// fsyncs, so the log is let grow well past SQLite's 1,000 pages to make that rare; the file
/// stays under `journal_size_limit` (64 MB).
const RESTART_FRAMES: i64 = 10_000;

/// Frames the passive pass may leave uncopied for the pass under the write order to be worth
/// it: more means a reader still needs them, and waiting writes for a copy that cannot finish
/// would stall them for nothing (the log restarts on a later tick, once the reader is done).
const RESTART_BACKLOG: i64 = 1_000;

/// The checkpointer's task, stopped and awaited by [`ModuleDb::close`] (so that the writer is
/// the last connection and folds the log into the file), or stopped when the database is
/// dropped.
struct Checkpointer {
    _stop_on_drop: DropGuard,
    stop: CancellationToken,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Checkpointer {
    async fn stop(&self) {
        self.stop.cancel();
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Copies the write-ahead log back into the database file every `every`, on a connection of its
/// own, so that no commit waits for a checkpoint's copying and fsyncs (the writer runs with
/// `wal_autocheckpoint=0`). A passive checkpoint copies what no reader still needs and never
/// blocks the writer, but under steady writes it never catches the last frames, and the log
/// starts again from its beginning only when a write begins with every frame copied: so once
/// the log holds [`RESTART_FRAMES`], the checkpointer copies the few frames written meanwhile
/// while holding the module's write order (no write transaction open, none beginning), and the
/// next write restarts the log. It does so only when the passive pass left few frames: a reader
/// holding an old snapshot keeps the log from restarting anyway. A tick with no commit since
/// the log was last copied whole asks nothing of SQLite. Runs until stopped.
fn spawn_checkpointer(
    outlet: Arc<Outlet>,
    mut conn: SqliteConnection,
    every: Duration,
    order: Arc<Mutex<()>>,
) -> Checkpointer {
    let stop = CancellationToken::new();
    let cancelled = stop.clone();
    let task = tokio::spawn(async move {
        // The commit count when the log was last found copied whole.
        let mut copied_whole_at = None;
        loop {
            tokio::select! {
                () = cancelled.cancelled() => break,
                () = tokio::time::sleep(every) => {}
            }
            let commits = outlet.commits();
            if copied_whole_at == Some(commits) {
                continue;
            }
            let caught_up = match checkpoint(&mut conn).await {
                Ok((log, copied)) if log >= RESTART_FRAMES && log - copied <= RESTART_BACKLOG => {
                    let _writes_wait = order.lock().await;
                    checkpoint(&mut conn).await
                }
                other => other,
            };
            copied_whole_at = match &caught_up {
                Ok((log, copied)) if log == copied => Some(commits),
                _ => None,
            };
            if let Err(e) = caught_up {
                tracing::warn!(module = outlet.module, error = %e, "a WAL checkpoint failed; the next tick tries again");
            }
        }
        let _ = conn.close().await;
    });
    Checkpointer {
        _stop_on_drop: stop.clone().drop_guard(),
        stop,
        task: std::sync::Mutex::new(Some(task)),
    }
}

/// One passive checkpoint; answers the frames the log holds and how many of them are copied.
async fn checkpoint(conn: &mut SqliteConnection) -> Result<(i64, i64), sqlx::Error> {
    let (_busy, log, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(conn)
        .await?;
    Ok((log, copied))
}

/// A module's own database. Cheap to clone; private to the module that opened it.
#[derive(Clone)]
pub struct ModuleDb {
    inner: Arc<Inner>,
}

struct Inner {
    /// The module's name, bus, metrics and clock: all a transaction needs besides its connection.
    outlet: Arc<Outlet>,
    path: PathBuf,
    writer: SqlitePool,
    reader: SqlitePool,
    /// Held from `BEGIN IMMEDIATE` until the committed events are on the bus, so the bus sees
    /// every stream in sequence order.
    order: Arc<Mutex<()>>,
    write_timeout: Duration,
    /// Microseconds (on the module's clock) until which the module is offline; 0 when online.
    offline_until: AtomicI64,
    /// Copies the log into the file; stopped by `close`, or when the last handle is dropped.
    checkpointer: Option<Checkpointer>,
}

impl fmt::Debug for ModuleDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModuleDb")
            .field("module", &self.inner.outlet.module)
            .field("path", &self.inner.path)
            .finish()
    }
}

/// What `/health` says about one module database.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DbHealth {
    /// `up`, `down` or `offline` (taken offline by an operator).
    pub status: String,
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
        platform: &Platform,
    ) -> Result<Self, Error> {
        let settings = &platform.db;
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| Error::DataDir {
            path: settings.data_dir.clone(),
            source,
        })?;
        let path = settings.data_dir.join(format!("{module}.db"));
        // Two processes opening a new folder at once (a server and `users create-admin`) must not
        // race to switch it to WAL or both apply a migration: an exclusive lock on a file beside
        // the database orders them, and the second finds it set up.
        let migrating = migration_lock(&settings.data_dir, module).await?;
        let writer = settings.open_writer(module, &path).await?;
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
        drop(migrating);

        let reader = SqlitePoolOptions::new()
            .max_connections(settings.read_connections.max(1))
            .min_connections(1)
            .acquire_timeout(settings.write_timeout)
            // Readers keep a smaller page cache: every write elsewhere invalidates it anyway, and
            // with four modules × (one writer + four readers) the caches bound the process's RSS.
            .connect_with(
                connect_options(&path, settings)
                    .read_only(true)
                    .pragma("cache_size", "-1000"),
            )
            .await
            .map_err(Error::db(module))?;
        let outlet = Arc::new(Outlet::new(module, platform));
        let order = Arc::new(Mutex::new(()));
        let checkpointer = match settings.checkpoint_every {
            Some(every) => {
                // It reads the log and writes the file directly: no page cache to speak of.
                let options = connect_options(&path, settings).pragma("cache_size", "-64");
                let conn = SqliteConnection::connect_with(&options)
                    .await
                    .map_err(Error::db(module))?;
                Some(spawn_checkpointer(
                    outlet.clone(),
                    conn,
                    every,
                    order.clone(),
                ))
            }
            None => None,
        };

        Ok(Self {
            inner: Arc::new(Inner {
                outlet,
                path,
                writer,
                reader,
                order,
                write_timeout: settings.write_timeout,
                offline_until: AtomicI64::new(0),
                checkpointer,
            }),
        })
    }

    /// The module's name, which is also the name of its event stream.
    pub fn module(&self) -> &'static str {
        self.inner.outlet.module
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The kernel metrics this database reports to.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.outlet.metrics
    }

    /// The bus this database publishes to.
    pub fn bus(&self) -> &Bus {
        &self.inner.outlet.bus
    }

    /// The clock every timestamp, deadline and timer of the module reads.
    pub fn clock(&self) -> &Clock {
        &self.inner.outlet.clock
    }

    /// The read pool, for queries. Fails while the module is offline.
    pub fn reader(&self) -> Result<&SqlitePool, Error> {
        self.ensure_online()?;
        Ok(&self.inner.reader)
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on the single writer) on behalf of `trace`.
    pub async fn write(&self, trace: Trace) -> Result<WriteTx, Error> {
        self.ensure_online()?;
        let module = self.module();
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
        Ok(WriteTx::begun(tx, order, self.inner.outlet.clone(), trace))
    }

    /// Takes the module offline for `duration` (every read and write fails with
    /// [`Error::Unavailable`] while the rest of the application keeps serving), or back online
    /// with `None`. Always timed, so an operator cannot lock themselves out for good.
    pub fn set_offline_for(&self, duration: Option<Duration>) {
        let until = match duration {
            Some(d) => self.clock().now().plus(d).as_micros(),
            None => 0,
        };
        self.inner.offline_until.store(until, Ordering::SeqCst);
        tracing::warn!(module = self.module(), offline_for = ?duration, "module availability changed by operator");
    }

    /// False while taken offline with [`ModuleDb::set_offline_for`].
    pub fn is_online(&self) -> bool {
        let until = self.inner.offline_until.load(Ordering::Relaxed);
        until == 0 || self.clock().now().as_micros() >= until
    }

    fn ensure_online(&self) -> Result<(), Error> {
        if self.is_online() {
            Ok(())
        } else {
            Err(Error::Unavailable(self.module()))
        }
    }

    /// Checks the database answers and reports schema versions.
    pub async fn health(&self) -> DbHealth {
        if !self.is_online() {
            return DbHealth {
                status: "offline".into(),
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
                status: "up".into(),
                schema_version: module,
                kernel_schema_version: kernel,
                error: None,
            },
            Ok(Err(e)) => DbHealth {
                status: "down".into(),
                schema_version: None,
                kernel_schema_version: None,
                error: Some(e.to_string()),
            },
            Err(_) => DbHealth {
                status: "down".into(),
                schema_version: None,
                kernel_schema_version: None,
                error: Some("no answer within 2 s".into()),
            },
        }
    }

    /// Closes the checkpointer and both pools, waiting for connections in use to be returned;
    /// the writer last, so that closing it folds the write-ahead log into the file.
    pub async fn close(&self) {
        if let Some(c) = &self.inner.checkpointer {
            c.stop().await;
        }
        self.inner.reader.close().await;
        self.inner.writer.close().await;
    }
}
