//! Integration events published by the bookings module on the `bookings` stream.

use kernel::Timestamp;
use payments_api::PaymentSource;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::CancelReason;

/// A show went on sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowScheduled {
    /// The show.
    pub show_id: Uuid,
    /// Title.
    pub title: String,
    /// Venue.
    pub venue: String,
    /// Start.
    pub starts_at: Timestamp,
    /// Seats in all.
    pub capacity: i64,
    /// Price per seat, in cents.
    pub price_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
}
kernel::integration_event!(ShowScheduled, show_id);

/// A show's details changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowUpdated {
    /// The show.
    pub show_id: Uuid,
    /// Title.
    pub title: String,
    /// Venue.
    pub venue: String,
    /// Start.
    pub starts_at: Timestamp,
    /// Seats in all.
    pub capacity: i64,
    /// Price per seat for new bookings, in cents.
    pub price_cents: i64,
}
kernel::integration_event!(ShowUpdated, show_id);

/// A show was called off; its bookings are cancelled (each with its own `BookingCancelled`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowCancelled {
    /// The show.
    pub show_id: Uuid,
    /// Bookings cancelled with it.
    pub bookings_cancelled: i64,
    /// When.
    pub cancelled_at: Timestamp,
}
kernel::integration_event!(ShowCancelled, show_id);

/// Seats were held for a customer, and their payment requested (the saga's first step).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingPlaced {
    /// The booking.
    pub booking_id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// The customer's email at the time.
    pub user_email: String,
    /// The show.
    pub show_id: Uuid,
    /// Seats held.
    pub seats: i64,
    /// Amount to pay, in cents.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// How it is paid (a card only as the gateway's token, brand and last four digits).
    pub payment: PaymentSource,
    /// After this, an unpaid booking is cancelled and a late payment refunded.
    pub deadline_at: Timestamp,
    /// When.
    pub placed_at: Timestamp,
}
kernel::integration_event!(BookingPlaced, booking_id);

/// A booking was paid and is confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingConfirmed {
    /// The booking.
    pub booking_id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// The show.
    pub show_id: Uuid,
    /// The payment that settled it.
    pub payment_id: Uuid,
    /// When.
    pub confirmed_at: Timestamp,
}
kernel::integration_event!(BookingConfirmed, booking_id);

/// A booking was cancelled and its seats released (any money taken for it is given back: the
/// saga sends payments a `CancelPayment` in the same transaction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingCancelled {
    /// The booking.
    pub booking_id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// The show.
    pub show_id: Uuid,
    /// Seats released.
    pub seats: i64,
    /// Why.
    pub reason: CancelReason,
    /// When.
    pub cancelled_at: Timestamp,
}
kernel::integration_event!(BookingCancelled, booking_id);
