//! Integration events published by the bookings module on the `bookings` stream.
//!
//! Their shapes are versioned: `BookingPlaced` and `BookingCancelled` carried a count of seats
//! in version 1 and carry the seats themselves since version 2. The first versions are kept
//! here as they were written ([`BookingPlacedV1`], [`BookingCancelledV1`]) and upcast on
//! reading, so that the logs of a data folder from before seat plans still replay and every
//! consumer sees one shape. A field added with a default (`BookingConfirmed::seats`,
//! `ShowScheduled::time_zone`) needs no new version: older payloads read with the default.

use kernel::Timestamp;
use payments_api::PaymentSource;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{BookedSeat, CancelReason, SeatingKind};

fn utc() -> String {
    "UTC".to_owned()
}

fn general_admission() -> SeatingKind {
    SeatingKind::GeneralAdmission
}

/// A venue opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueOpened {
    /// The venue.
    pub venue_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub time_zone: String,
    /// General admission or numbered seats.
    pub seating: SeatingKind,
    /// Seats (or places) for sale.
    pub capacity: i64,
}
kernel::integration_event!(VenueOpened, venue_id);

/// A venue's name, time zone or seating changed (shows already scheduled keep theirs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueChanged {
    /// The venue.
    pub venue_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub time_zone: String,
    /// General admission or numbered seats.
    pub seating: SeatingKind,
    /// Seats (or places) for sale.
    pub capacity: i64,
}
kernel::integration_event!(VenueChanged, venue_id);

/// A show went on sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowScheduled {
    /// The show.
    pub show_id: Uuid,
    /// Title.
    pub title: String,
    /// Venue.
    pub venue: String,
    /// The venue's id, when it was scheduled at one.
    #[serde(default)]
    pub venue_id: Option<Uuid>,
    /// The venue's IANA time zone (UTC in events from before venues).
    #[serde(default = "utc")]
    pub time_zone: String,
    /// General admission or numbered seats.
    #[serde(default = "general_admission")]
    pub seating: SeatingKind,
    /// Start.
    pub starts_at: Timestamp,
    /// Seats in all.
    pub capacity: i64,
    /// Price per seat, in cents (with numbered seats, the cheapest section's).
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
    /// The IANA time zone its times are read in (UTC in events from before venues).
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Start.
    pub starts_at: Timestamp,
    /// Seats in all.
    pub capacity: i64,
    /// Price per seat for new bookings, in cents (with numbered seats, the cheapest section's).
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
    /// The seats held, or one entry per admission to a general-admission show.
    pub seats: Vec<BookedSeat>,
    /// Amount to pay, in cents: the sum of the seats' prices.
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
kernel::integration_event!(
    BookingPlaced,
    booking_id,
    version = 2,
    older = BookingPlacedV1
);

/// `BookingPlaced` as version 1 wrote it, before seat plans: a count of admissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingPlacedV1 {
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
    /// How it is paid.
    pub payment: PaymentSource,
    /// The payment deadline.
    pub deadline_at: Timestamp,
    /// When.
    pub placed_at: Timestamp,
}

impl From<BookingPlacedV1> for BookingPlaced {
    /// Every show was general admission: the count becomes that many admissions sharing the
    /// amount.
    fn from(v1: BookingPlacedV1) -> Self {
        BookingPlaced {
            booking_id: v1.booking_id,
            user_id: v1.user_id,
            user_email: v1.user_email,
            show_id: v1.show_id,
            seats: BookedSeat::admissions(v1.seats, v1.amount_cents),
            amount_cents: v1.amount_cents,
            currency: v1.currency,
            payment: v1.payment,
            deadline_at: v1.deadline_at,
            placed_at: v1.placed_at,
        }
    }
}

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
    /// The seats now sold (empty in events from before seat plans: their `BookingPlaced` says).
    #[serde(default)]
    pub seats: Vec<BookedSeat>,
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
    /// The seats released (for sale again), or one entry per admission.
    pub seats: Vec<BookedSeat>,
    /// Why.
    pub reason: CancelReason,
    /// When.
    pub cancelled_at: Timestamp,
}
kernel::integration_event!(
    BookingCancelled,
    booking_id,
    version = 2,
    older = BookingCancelledV1
);

/// `BookingCancelled` as version 1 wrote it, before seat plans: a count of admissions (and no
/// amount: the admissions' prices are unknown, so they read as zero).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingCancelledV1 {
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

impl From<BookingCancelledV1> for BookingCancelled {
    fn from(v1: BookingCancelledV1) -> Self {
        BookingCancelled {
            booking_id: v1.booking_id,
            user_id: v1.user_id,
            show_id: v1.show_id,
            seats: BookedSeat::admissions(v1.seats, 0),
            reason: v1.reason,
            cancelled_at: v1.cancelled_at,
        }
    }
}

/// A ticket was admitted at the door.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketAdmitted {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its booking.
    pub booking_id: Uuid,
    /// The show.
    pub show_id: Uuid,
    /// The seat it admits to.
    pub seat: BookedSeat,
    /// Who checked it in.
    pub admitted_by: Uuid,
    /// When.
    pub admitted_at: Timestamp,
}
kernel::integration_event!(TicketAdmitted, ticket_id);

#[cfg(test)]
mod tests {
    use kernel::Envelope;

    use super::*;

    fn envelope(event_type: &str, version: u16, payload: serde_json::Value) -> Envelope {
        Envelope {
            stream: "bookings".into(),
            seq: 1,
            event_id: Uuid::nil(),
            event_type: event_type.into(),
            event_version: version,
            aggregate_id: String::new(),
            payload: serde_json::value::RawValue::from_string(payload.to_string()).unwrap(),
            correlation_id: Uuid::nil(),
            causation_id: Uuid::nil(),
            occurred_at: Timestamp::from_micros(0),
        }
    }

    #[test]
    fn a_count_only_booking_placed_reads_as_that_many_admissions_sharing_its_amount() {
        let v1 = serde_json::json!({
            "booking_id": Uuid::nil(), "user_id": Uuid::nil(), "user_email": "a@example.com",
            "show_id": Uuid::nil(), "seats": 3, "amount_cents": 1000, "currency": "EUR",
            "payment": {"type": "wallet"}, "deadline_at": "2026-01-01T00:00:00Z",
            "placed_at": "2026-01-01T00:00:00Z"
        });
        let placed: BookingPlaced = envelope("BookingPlaced", 1, v1).decode().unwrap();
        let prices: Vec<i64> = placed.seats.iter().map(|s| s.price_cents).collect();
        assert_eq!(prices, [334, 333, 333]);
        assert!(placed.seats.iter().all(|s| s.seat_id.is_none()));
    }

    #[test]
    fn a_count_only_booking_cancelled_reads_as_that_many_admissions() {
        let v1 = serde_json::json!({
            "booking_id": Uuid::nil(), "user_id": Uuid::nil(), "show_id": Uuid::nil(),
            "seats": 2, "reason": "payment_declined", "cancelled_at": "2026-01-01T00:00:00Z"
        });
        let cancelled: BookingCancelled = envelope("BookingCancelled", 1, v1).decode().unwrap();
        assert_eq!(cancelled.seats.len(), 2);
    }

    #[test]
    fn events_from_before_venues_read_in_utc_with_general_admission() {
        let v1 = serde_json::json!({
            "show_id": Uuid::nil(), "title": "T", "venue": "V", "starts_at": "2026-01-01T00:00:00Z",
            "capacity": 10, "price_cents": 100, "currency": "EUR"
        });
        let show: ShowScheduled = envelope("ShowScheduled", 1, v1).decode().unwrap();
        assert_eq!(
            (show.time_zone.as_str(), show.seating),
            ("UTC", SeatingKind::GeneralAdmission)
        );
    }
}
