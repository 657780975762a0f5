//! The bookings module's one error type: what a caller of the module may have to match on.

use kernel::FieldErrors;
use serde::{Deserialize, Serialize};

/// Why a bookings command or query failed. It crosses a process boundary as itself (storage
/// failures as [`kernel::Error::Remote`]).
#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BookingsError {
    /// Some input fields are invalid; nothing changed.
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    /// No such show.
    #[error("show not found")]
    ShowNotFound,
    /// No such booking (or not visible to the caller).
    #[error("booking not found")]
    BookingNotFound,
    /// The actor may not do this.
    #[error("not allowed")]
    Forbidden,
    /// The customer's account is deactivated or unknown to the user directory.
    #[error("this account cannot book")]
    AccountInactive,
    /// Fewer seats are left than asked for.
    #[error("only {available} seat(s) left")]
    NotEnoughSeats {
        /// Seats that can still be booked.
        available: i64,
    },
    /// The show was cancelled.
    #[error("the show is cancelled")]
    ShowCancelled,
    /// The show has started: no more bookings, no customer cancellations.
    #[error("the show has already started")]
    ShowStarted,
    /// The booking was already cancelled.
    #[error("the booking is already cancelled")]
    AlreadyCancelled,
    /// The capacity cannot go below the seats already taken.
    #[error("{taken} seats are already taken")]
    CapacityBelowTaken {
        /// Seats held by bookings.
        taken: i64,
    },
    /// The same `Idempotency-Key` came with a different request.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyMismatch,
    /// Another module this call needs (the user directory) is down.
    #[error("{0}")]
    DependencyUnavailable(String),
    /// Storage failed or the module is offline.
    #[error(transparent)]
    Storage(#[from] kernel::Error),
}

impl From<BookingsError> for kernel::HandlerError {
    fn from(e: BookingsError) -> Self {
        kernel::HandlerError::Retryable(e.to_string())
    }
}
