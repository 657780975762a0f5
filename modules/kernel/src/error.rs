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
    /// A module served by another process failed or could not be reached. `unavailable` says
    /// whether it is down (unreachable, timed out, offline, overloaded: retry later) rather than
    /// broken; `message` is its own words.
    #[error("module {module}: {message}")]
    Remote {
        /// The module that was called.
        module: String,
        /// True when it could not answer now (a 503), false when it failed (a 500).
        unavailable: bool,
        /// What went wrong.
        message: String,
    },
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
    /// True when the module could not answer now (down, offline, overloaded, unreachable), as
    /// opposed to having failed: a caller may retry later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Unavailable(_) | Error::WriterTimeout(_) => true,
            Error::Remote { unavailable, .. } => *unavailable,
            _ => false,
        }
    }

    /// The module the error came from, when known.
    pub fn module(&self) -> Option<&str> {
        match self {
            Error::Database { module, .. }
            | Error::Migration { module, .. }
            | Error::Unavailable(module)
            | Error::WriterTimeout(module) => Some(module),
            Error::Remote { module, .. } => Some(module),
            Error::Serialization(_) | Error::DataDir { .. } => None,
        }
    }

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

/// On the wire between processes an error is what the caller needs: which module, whether to
/// retry, and the message. It is read back as [`Error::Remote`]; the driver's error types stay
/// in the process that had them.
#[derive(serde::Serialize, serde::Deserialize)]
struct WireError {
    module: String,
    unavailable: bool,
    message: String,
}

impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = match self {
            Error::Remote { message, .. } => message.clone(),
            other => other.to_string(),
        };
        WireError {
            module: self.module().unwrap_or("unknown").to_owned(),
            unavailable: self.is_unavailable(),
            message,
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Error {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireError::deserialize(deserializer)?;
        Ok(Error::Remote {
            module: wire.module,
            unavailable: wire.unavailable,
            message: wire.message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_crosses_processes_as_a_remote_error_that_keeps_whether_to_retry() {
        let down: Error =
            serde_json::from_str(&serde_json::to_string(&Error::Unavailable("payments")).unwrap())
                .unwrap();
        assert!(down.is_unavailable());
        assert_eq!(down.module(), Some("payments"));
        assert_eq!(
            down.to_string(),
            "module payments: module payments is unavailable"
        );
        let broken = Error::Serialization(serde_json::from_str::<u8>("x").unwrap_err());
        let read: Error = serde_json::from_value(serde_json::to_value(&broken).unwrap()).unwrap();
        assert!(!read.is_unavailable());
    }
}
