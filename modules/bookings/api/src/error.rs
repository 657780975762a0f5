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
    /// No such venue.
    #[error("venue not found")]
    VenueNotFound,
    /// Another venue has this name.
    #[error("another venue is called {0}")]
    VenueNameTaken(String),
    /// Some of the seats asked for were taken first (or are not sold); nothing was held.
    #[error("{}", seats_taken(seats))]
    SeatsTaken {
        /// Each seat taken, as a person reads it (`Stalls, row C, seat 12`).
        seats: Vec<String>,
        /// Their ids.
        seat_ids: Vec<uuid::Uuid>,
    },
    /// The booking's tickets are not issued yet: it waits for its payment.
    #[error("the tickets are issued once the booking is paid")]
    TicketsNotIssued,
    /// The code is not a ticket this box office signed (forged, altered or unknown).
    #[error("this code is not a valid ticket")]
    TicketInvalid,
    /// The ticket was admitted already.
    #[error("already admitted at {at} ({seat})")]
    TicketAlreadyAdmitted {
        /// When it was admitted.
        at: kernel::Timestamp,
        /// Its seat, as a person reads it.
        seat: String,
    },
    /// The ticket's booking was cancelled: it admits no one.
    #[error("this ticket's booking was cancelled")]
    TicketCancelled,
    /// The ticket's booking is not paid yet.
    #[error("this ticket's booking is not paid yet")]
    TicketNotPaid,
    /// The ticket is for another show than this door's.
    #[error("this ticket is for another show: {0}")]
    TicketWrongShow(String),
    /// The actor may not do this.
    #[error("not allowed")]
    Forbidden,
    /// The customer's account is deactivated or unknown to the user directory.
    #[error("this account cannot book")]
    AccountInactive,
    /// Fewer seats are left than asked for.
    #[error("only {} left", seats(*.available))]
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
    /// Some of the booking's tickets were admitted at the door: it can no longer be cancelled.
    #[error("tickets of this booking were admitted at the door: it can no longer be cancelled")]
    BookingAdmitted,
    /// The capacity cannot go below the seats already taken.
    #[error("{taken} seats are already taken")]
    CapacityBelowTaken {
        /// Seats held by bookings.
        taken: i64,
    },
    /// A wallet payment the customer's wallet cannot make; nothing was held.
    #[error("{0}")]
    WalletCannotPay(WalletShortfall),
    /// The same `Idempotency-Key` came with a different request.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyMismatch,
    /// Too many bookings are being placed at this moment (a hot show's on-sale): the caller
    /// waited its turn in line and none came; nothing was held. Ask again in a second.
    #[error("the box office is busy placing other bookings; ask again in a second")]
    Busy,
    /// Another module this call needs (the user directory) is down.
    #[error("{0}")]
    DependencyUnavailable(String),
    /// Storage failed or the module is offline.
    #[error(transparent)]
    Storage(#[from] kernel::Error),
}

fn seats_taken(seats: &[String]) -> String {
    match seats {
        [one] => format!("{one} is taken"),
        many => format!("these seats are taken: {}", many.join("; ")),
    }
}

impl From<BookingsError> for kernel::HandlerError {
    fn from(e: BookingsError) -> Self {
        kernel::HandlerError::Retryable(e.to_string())
    }
}

/// Why a customer's wallet cannot pay for a booking.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WalletShortfall {
    /// The wallet holds another currency than the show's price.
    #[error("the wallet holds {wallet}; the show is priced in {show}")]
    Currency {
        /// The wallet's currency.
        wallet: String,
        /// The show's.
        show: String,
    },
    /// The wallet holds less than the seats cost.
    #[error(
        "the wallet holds {balance_cents} and the {seats} seat(s) cost {total_cents} (cents of {currency})"
    )]
    Funds {
        /// What the wallet holds, in cents.
        balance_cents: i64,
        /// How many seats.
        seats: i64,
        /// What they cost, in cents.
        total_cents: i64,
        /// The currency of both.
        currency: String,
    },
}

impl WalletShortfall {
    /// Why a wallet holding `balance_cents` in `wallet_currency` cannot pay `total_cents` in
    /// `price_currency` for `seats` seats, if it cannot: the one rule the bookings module
    /// refuses a wallet booking by, and the show page offers the wallet by.
    pub fn of(
        balance_cents: i64,
        wallet_currency: &str,
        seats: i64,
        total_cents: i64,
        price_currency: &str,
    ) -> Option<WalletShortfall> {
        if wallet_currency != price_currency {
            Some(WalletShortfall::Currency {
                wallet: wallet_currency.to_owned(),
                show: price_currency.to_owned(),
            })
        } else if balance_cents < total_cents {
            Some(WalletShortfall::Funds {
                balance_cents,
                seats,
                total_cents,
                currency: price_currency.to_owned(),
            })
        } else {
            None
        }
    }
}

/// `1 seat`, `3 seats`.
fn seats(n: i64) -> String {
    if n == 1 {
        "1 seat".to_owned()
    } else {
        format!("{n} seats")
    }
}
