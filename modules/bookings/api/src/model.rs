//! Shows, bookings and sagas as the application sees them.

use kernel::{ConsistencyToken, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Whether a show still takes bookings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShowStatus {
    /// On sale until it starts.
    Scheduled,
    /// Called off: its bookings were cancelled and refunded.
    Cancelled,
}

/// A show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Show {
    /// Its id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Where.
    pub venue: String,
    /// When it starts.
    pub starts_at: Timestamp,
    /// Seats in all.
    pub capacity: i64,
    /// Seats held by pending and confirmed bookings.
    pub seats_taken: i64,
    /// Seats that can still be booked.
    pub seats_available: i64,
    /// Price of one seat, in cents.
    pub price_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// On sale or cancelled.
    pub status: ShowStatus,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A new show, as received; validated by the bookings module.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NewShow {
    /// 1 to 120 characters, not only spaces, no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            required = true,
            min_length = 1,
            max_length = 120,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub title: String,
    /// 1 to 120 characters, not only spaces, no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            required = true,
            min_length = 1,
            max_length = 120,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub venue: String,
    /// RFC 3339, in the future.
    #[cfg_attr(feature = "openapi", schema(required = true, format = DateTime))]
    pub starts_at: String,
    /// 1 to 100 000 seats.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, value_type = i64, minimum = 1, maximum = 100_000)
    )]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub capacity: Option<i64>,
    /// 0 to 1 000 000 cents per seat.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, value_type = i64, minimum = 0, maximum = 1_000_000)
    )]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub price_cents: Option<i64>,
    /// ISO 4217 code, three letters (either case).
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, pattern = "^\\s*[A-Za-z]{3}\\s*$")
    )]
    pub currency: String,
}

/// Changes to a show; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ShowPatch {
    /// New title.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 120,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub title: Option<String>,
    /// New venue.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 120,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub venue: Option<String>,
    /// New start (RFC 3339, in the future).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub starts_at: Option<String>,
    /// New capacity (not below the seats already taken).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100_000))]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub capacity: Option<i64>,
    /// New price, for bookings made from now on.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000))]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub price_cents: Option<i64>,
}

/// Where a booking stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Seats held, payment not settled yet.
    Pending,
    /// Paid.
    Confirmed,
    /// Off: seats released (and money refunded if any was taken).
    Cancelled,
}

impl BookingStatus {
    /// As stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
        }
    }

    /// Parses [`BookingStatus::as_str`]'s output.
    pub fn parse(text: &str) -> Option<BookingStatus> {
        [Self::Pending, Self::Confirmed, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Why a booking was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The payment was declined.
    PaymentDeclined,
    /// The payment did not settle before the deadline.
    PaymentTimeout,
    /// The customer cancelled.
    CustomerCancelled,
    /// An admin cancelled.
    AdminCancelled,
    /// The show was cancelled.
    ShowCancelled,
}

impl CancelReason {
    /// As stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::PaymentDeclined => "payment_declined",
            CancelReason::PaymentTimeout => "payment_timeout",
            CancelReason::CustomerCancelled => "customer_cancelled",
            CancelReason::AdminCancelled => "admin_cancelled",
            CancelReason::ShowCancelled => "show_cancelled",
        }
    }

    /// Parses [`CancelReason::as_str`]'s output.
    pub fn parse(text: &str) -> Option<CancelReason> {
        [
            Self::PaymentDeclined,
            Self::PaymentTimeout,
            Self::CustomerCancelled,
            Self::AdminCancelled,
            Self::ShowCancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Booking {
    /// Its id.
    pub id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// The customer's email, copied from the users module and kept fresh by its events.
    pub user_email: String,
    /// The show.
    pub show_id: Uuid,
    /// Seats held.
    pub seats: i64,
    /// Price of all seats, in cents.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Where it stands.
    pub status: BookingStatus,
    /// Why it was cancelled.
    pub cancel_reason: Option<CancelReason>,
    /// `wallet` or `card`.
    pub payment_method: String,
    /// The card's brand, when paid by card.
    pub card_brand: Option<String>,
    /// The card's last four digits, when paid by card.
    pub card_last4: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// One page of bookings, newest first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingPage {
    /// The bookings.
    pub items: Vec<Booking>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Where a booking's saga stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SagaState {
    /// Payment requested; waiting for it, or for the deadline.
    AwaitingPayment,
    /// Paid and confirmed.
    Confirmed,
    /// Cancelled with no money taken.
    Cancelled,
    /// Cancelled after money was taken: waiting for the refund.
    RefundPending,
    /// Cancelled and refunded.
    Refunded,
}

impl SagaState {
    /// As stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            SagaState::AwaitingPayment => "awaiting_payment",
            SagaState::Confirmed => "confirmed",
            SagaState::Cancelled => "cancelled",
            SagaState::RefundPending => "refund_pending",
            SagaState::Refunded => "refunded",
        }
    }

    /// Parses [`SagaState::as_str`]'s output.
    pub fn parse(text: &str) -> Option<SagaState> {
        [
            Self::AwaitingPayment,
            Self::Confirmed,
            Self::Cancelled,
            Self::RefundPending,
            Self::Refunded,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// True when nothing more will happen unless someone acts.
    pub fn is_settled(self) -> bool {
        !matches!(self, SagaState::AwaitingPayment | SagaState::RefundPending)
    }
}

/// One step of a saga's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SagaStep {
    /// 1, 2, 3…
    pub step: i64,
    /// When.
    pub at: Timestamp,
    /// What happened, e.g. `payment requested`, `payment captured`, `booking confirmed`.
    pub action: String,
    /// The event received or emitted, if any.
    pub event_type: Option<String>,
    /// That event's id.
    pub event_id: Option<Uuid>,
    /// `ok`, `compensating` or `failed`.
    pub outcome: String,
    /// Details (decline reason, amounts).
    pub detail: Option<String>,
}

/// A booking's saga: its state, deadline and timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Saga {
    /// The booking.
    pub booking_id: Uuid,
    /// Where it stands.
    pub state: SagaState,
    /// When an unpaid booking is cancelled.
    pub deadline_at: Timestamp,
    /// The payment, once known.
    pub payment_id: Option<Uuid>,
    /// Steps, oldest first.
    pub steps: Vec<SagaStep>,
    /// The booking as it stood when the saga was read (one snapshot: its status always agrees
    /// with `state`).
    pub booking: Booking,
}

/// One page of shows, soonest first.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShowPage {
    /// The shows.
    pub items: Vec<Show>,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The result of placing a booking.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Placed {
    /// The booking.
    pub booking: Booking,
    /// False when an earlier request with the same `Idempotency-Key` created it.
    pub created: bool,
    /// Where its `BookingPlaced` landed in the bookings stream, for read-your-writes (none for a
    /// replayed request).
    pub token: Option<ConsistencyToken>,
}
