//! The bookings module's public face: shows, bookings and the booking saga as plain data, the
//! domain's values ([`Seats`], [`Label`], [`Capacity`], …) and the typed commands made of them
//! ([`ScheduleShow`], [`ChangeShow`], [`PlaceBooking`], built with `TryFrom` from what a client
//! sent), the outputs ([`Placed`], [`ShowPage`], [`BookingPage`]), the error, and the integration
//! events published on the `bookings` stream.
//!
//! Bookings is a customer of payments: its bookings are paid with a `payments_api::PaymentSource`,
//! and its saga sends payments' own commands. Payments knows nothing of bookings.

mod api;
mod commands;
mod error;
mod events;
mod model;
mod values;

pub use api::BookingsApi;
pub use commands::{
    BookingDraft, BookingFilter, ChangeShow, PlaceBooking, ScheduleShow, ShowFilter,
};
pub use error::{BookingsError, WalletShortfall};
pub use events::{
    BookingCancelled, BookingConfirmed, BookingPlaced, ShowCancelled, ShowScheduled, ShowUpdated,
};
pub use model::{
    Booking, BookingPage, BookingStatus, CancelReason, NewShow, Placed, Saga, SagaState, SagaStep,
    Show, ShowPage, ShowPatch, ShowStatus,
};
pub use values::{
    Capacity, Currency, IdempotencyKey, Label, MAX_CAPACITY, MAX_LABEL_CHARS, MAX_PRICE_CENTS,
    MAX_SEATS, SeatPrice, Seats, show_id,
};

/// The name of the module's event stream and database.
pub const STREAM: &str = "bookings";
