//! The payments module's one error type: what a caller of the module may have to match on.

use kernel::FieldErrors;
use serde::{Deserialize, Serialize};

/// Why a payments command or query failed. It crosses a process boundary as itself (storage
/// failures as [`kernel::Error::Remote`]).
#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentsError {
    /// Some input fields are invalid; nothing changed.
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    /// No such payment (or not visible to the caller).
    #[error("payment not found")]
    NotFound,
    /// The actor may not do this.
    #[error("not allowed")]
    Forbidden,
    /// The wallet's balance would exceed what the box office holds for one customer.
    #[error("the wallet would hold more than the maximum balance")]
    BalanceLimit,
    /// Another change to the same stream won; the command gave up after its retries.
    #[error("concurrent changes to the same wallet; try again")]
    Contention,
    /// Storage failed or the module is offline.
    #[error(transparent)]
    Storage(#[from] kernel::Error),
    /// A stored event could not be read back (a bug, not bad input).
    #[error("corrupt event stream: {0}")]
    Corrupt(String),
}

impl From<PaymentsError> for kernel::HandlerError {
    fn from(e: PaymentsError) -> Self {
        match e {
            PaymentsError::Corrupt(m) => kernel::HandlerError::Permanent(m),
            other => kernel::HandlerError::Retryable(other.to_string()),
        }
    }
}
