//! The bookings module's public face: shows, bookings and the booking saga as plain data, the
//! commands the application sends, and the integration events published on the `bookings`
//! stream (`BookingPlaced` is the saga's payment request; `BookingCancelled` asks for the
//! compensation).

mod events;
mod model;

pub use events::{
    BookingCancelled, BookingConfirmed, BookingPlaced, ShowCancelled, ShowScheduled, ShowUpdated,
};
pub use model::{
    Booking, BookingFilter, BookingPage, BookingStatus, CancelReason, NewShow, PaymentInstruction,
    PlaceBooking, Saga, SagaState, SagaStep, Show, ShowPatch, ShowStatus,
};

/// The name of the module's event stream and database.
pub const STREAM: &str = "bookings";
