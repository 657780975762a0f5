//! The kernel's one error type.

/// What can go wrong below a module: storage, availability, (de)serialization.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite reported an error.
    #[error("database error in module {module}: {source}")]
    Database {
        /// The module whose database failed.
        module: &'static str,
        /// The driver's error.
        #[source]
        source: StorageError,
    },
    /// Applying a module's migrations failed.
    #[error("migrating module {module}: {source}")]
    Migration {
        /// The module being migrated.
        module: &'static str,
        /// The migrator's error.
        #[source]
        source: StorageError,
    },
    /// The module's database was taken offline (by an operator, to exercise isolated failures).
    #[error("module {0} is unavailable")]
    Unavailable(&'static str),
    /// Waiting for the module's single writer took too long.
    #[error("module {0} is overloaded: timed out waiting for its writer")]
    WriterTimeout(&'static str),
    /// An event could not be encoded or decoded.
    #[error("event serialization: {0}")]
    Serialization(#[from] serde_json::Error),
    /// The data folder could not be prepared.
    #[error("data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A storage failure, opaque: it says what went wrong (`Display`, `source()`), but no sqlx type
/// crosses a module's public API through it.
#[derive(Debug)]
pub struct StorageError {
    cause: Box<dyn std::error::Error + Send + Sync>,
    unique_violation: bool,
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cause.fmt(f)
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.source()
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        StorageError {
            unique_violation: matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation()),
            cause: Box::new(e),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StorageError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StorageError {
            cause: Box::new(e),
            unique_violation: false,
        }
    }
}

impl Error {
    /// Wraps a driver error with the module it came from.
    pub fn db(module: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
        move |source| Error::Database {
            module,
            source: source.into(),
        }
    }

    /// True when a unique or primary key constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Database { source, .. } if source.unique_violation)
    }
}
