//! How a SQLite file is opened for a module: the `synchronous` mode, timeouts, the page caches,
//! one writer connection (WAL) and a read pool.

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::Error;

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

/// The default of [`DbSettings::checkpoint_every`].
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

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
    /// How often a connection of its own copies each database's write-ahead log back into the
    /// file (a passive checkpoint, which never blocks the writer); `None` leaves it to SQLite,
    /// which checkpoints inside the commit that fills 1,000 pages, fsyncs and all.
    pub checkpoint_every: Option<Duration>,
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
            checkpoint_every: Some(CHECKPOINT_EVERY),
        }
    }
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

impl DbSettings {
    /// Opens (creating if needed) the SQLite file at `path` the way every module database's
    /// single writer is opened: WAL, the configured `synchronous`, the busy timeout, one
    /// connection, and no checkpoints of its own when a checkpointer does them. `owner` names
    /// the file in errors.
    pub(crate) async fn open_writer(
        &self,
        owner: &'static str,
        path: &Path,
    ) -> Result<SqlitePool, Error> {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(self.write_timeout)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(
                connect_options(path, self)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(self.synchronous.into())
                    // A log that once grew (a long read held it) shrinks back when it restarts.
                    .pragma("journal_size_limit", "67108864")
                    .pragma(
                        "wal_autocheckpoint",
                        if self.checkpoint_every.is_some() {
                            "0"
                        } else {
                            "1000"
                        },
                    ),
            )
            .await
            .map_err(Error::db(owner))
    }
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
