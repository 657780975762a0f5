//! The bookings module's public face: venues and their seating plans, shows and their seats,
//! bookings, tickets and the booking saga as plain data, the domain's values ([`Seats`],
//! [`SeatIds`], [`Label`], [`SeatingPlan`], [`TicketCode`], …) and the typed commands made of them
//! ([`OpenVenue`], [`ScheduleShow`], [`PlaceBooking`], [`CheckIn`], built with `TryFrom` from
//! what a client sent), the outputs ([`Placed`], [`SeatMap`], [`Quote`], [`Ticket`],
//! [`Admission`]), the error, and the versioned integration events published on the `bookings`
//! stream.
//!
//! Bookings is a customer of payments: its bookings are paid with a `payments_api::PaymentSource`,
//! and its saga sends payments' own commands. Payments knows nothing of bookings.

mod api;
mod commands;
mod error;
mod events;
mod model;
mod plan;
mod tickets;
mod values;

pub use api::BookingsApi;
pub use commands::{
    BookingDraft, BookingFilter, ChangeShow, PlaceBooking, ScheduleShow, SeatRequest,
    SectionPricing, ShowFilter, ShowPlace,
};
pub use error::{BookingsError, WalletShortfall};
pub use events::{
    BookingCancelled, BookingCancelledV1, BookingConfirmed, BookingPlaced, BookingPlacedV1,
    ShowCancelled, ShowScheduled, ShowUpdated, TicketAdmitted, VenueChanged, VenueOpened,
};
pub use model::{
    BookedSeat, Booking, BookingPage, BookingStatus, CancelReason, NewShow, Placed, Quote, Saga,
    SagaState, SagaStep, Seat, SeatMap, SeatStatus, SeatingKind, SectionPrice, Show, ShowPage,
    ShowPatch, ShowSection, ShowStatus, Venue, VenuePage, VenueRow, VenueSection,
};
pub use plan::{
    ChangeVenue, MAX_ROW_SEATS, MAX_ROWS, MAX_SEAT_LABEL_CHARS, MAX_SECTIONS, NewRow, NewSection,
    NewVenue, OpenVenue, PlanRow, PlanSeat, PlanSection, RowSeats, SeatLabel, Seating, SeatingPlan,
    VenuePatch, seating_plan,
};
pub use tickets::{Admission, CheckIn, CheckInRequest, SIGNATURE_BYTES, Ticket, TicketCode};
pub use values::{
    Capacity, Currency, IdempotencyKey, Label, MAX_CAPACITY, MAX_LABEL_CHARS, MAX_PRICE_CENTS,
    MAX_SEATS, SeatIds, SeatPrice, Seats, show_id, venue_id,
};

/// The name of the module's event stream and database.
pub const STREAM: &str = "bookings";
