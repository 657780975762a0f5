//! The users module's one error type: what a caller of the module may have to match on.

use kernel::FieldErrors;
use serde::{Deserialize, Serialize};

/// Why a users command or query failed. It crosses a process boundary as itself (storage
/// failures as [`kernel::Error::Remote`]).
#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UsersError {
    /// Some input fields are invalid; nothing changed.
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    /// Another account already uses this email address (in any letter case).
    #[error("email address is already registered")]
    EmailTaken,
    /// Unknown email or wrong password (deliberately indistinguishable).
    #[error("email or password is wrong")]
    InvalidCredentials,
    /// The account was deactivated.
    #[error("account is deactivated")]
    Deactivated,
    /// No such user.
    #[error("user not found")]
    NotFound,
    /// The actor may not do this.
    #[error("not allowed")]
    Forbidden,
    /// Deactivating this admin would leave nobody able to administer the box office.
    #[error("the last active admin cannot be deactivated")]
    LastAdmin,
    /// Too many failed logins for this account or from this address: try again after
    /// `retry_after_seconds` (no password was checked).
    #[error("too many failed logins: try again in {retry_after_seconds} s")]
    Throttled {
        /// Seconds until a login may be tried again.
        retry_after_seconds: u64,
    },
    /// Every password-hashing slot is taken (a flood of logins or registrations): try again
    /// in a moment. Nothing was checked or changed.
    #[error("too many logins at once: try again in a moment")]
    Busy,
    /// Storage failed or the module is offline.
    #[error(transparent)]
    Storage(#[from] kernel::Error),
    /// Password hashing failed (a bug or resource exhaustion, not bad input).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}
