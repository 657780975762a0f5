//! The reporting module's one error type.

use kernel::FieldErrors;

/// Why a reporting query or command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportingError {
    /// Some filter is invalid.
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    /// The actor may not see this.
    #[error("not allowed")]
    Forbidden,
    /// A rebuild is already running.
    #[error("a rebuild is already running")]
    AlreadyRunning,
    /// Storage failed or the module is offline.
    #[error(transparent)]
    Storage(#[from] kernel::Error),
}

impl ReportingError {
    pub(crate) fn storage(e: sqlx::Error) -> ReportingError {
        ReportingError::Storage(kernel::Error::db(reporting_api::STREAM)(e))
    }
}
