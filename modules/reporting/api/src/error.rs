//! The reporting module's one error type: what a caller of the module may have to match on.

use kernel::FieldErrors;
use serde::{Deserialize, Serialize};

/// Why a reporting query or command failed. It crosses a process boundary as itself (storage
/// failures as [`kernel::Error::Remote`]).
#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
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

impl From<ReportingError> for kernel::HandlerError {
    fn from(e: ReportingError) -> Self {
        kernel::HandlerError::Retryable(e.to_string())
    }
}
