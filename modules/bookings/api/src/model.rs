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
    /// Where: the venue's name.
    pub venue: String,
    /// The venue, when the show was scheduled at one (shows scheduled with only a venue's name
    /// have none).
    pub venue_id: Option<Uuid>,
    /// The venue's IANA time zone: the show's times are read in it.
    pub time_zone: String,
    /// When it starts.
    pub starts_at: Timestamp,
    /// When it starts, in the venue's time zone: RFC 3339 with the offset
    /// (`2027-05-01T20:00:00+02:00`).
    pub starts_at_local: String,
    /// General admission or numbered seats.
    pub seating: SeatingKind,
    /// Seats in all.
    pub capacity: i64,
    /// Seats held by pending and confirmed bookings.
    pub seats_taken: i64,
    /// Seats that can still be booked.
    pub seats_available: i64,
    /// Price of one seat, in cents (with numbered seats, the cheapest section's).
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

/// A section's price for one show, as received.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SectionPrice {
    /// The venue's section.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 120)
    )]
    pub name: String,
    /// Its seats' price for this show, in cents: 0 to 1 000 000.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, value_type = i64, minimum = 0, maximum = 1_000_000)
    )]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub price_cents: Option<i64>,
}

/// A new show, as received; validated by the bookings module. It is scheduled at a venue
/// (`venue_id`: its seating and time zone apply) or, for general admission, at a place named
/// here (`venue`, `capacity`, and a `time_zone`, UTC unless given).
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
    /// The venue (from `GET /api/venues`): its plan, prices and time zone apply. Without it,
    /// `venue` and `capacity` are required.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub venue_id: Option<String>,
    /// Without `venue_id`: where, 1 to 120 characters (general admission).
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = Option<String>,
            min_length = 1,
            max_length = 120,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub venue: Option<String>,
    /// Without `venue_id`: the place's IANA time zone (UTC unless given).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub time_zone: Option<String>,
    /// RFC 3339, in the future.
    #[cfg_attr(feature = "openapi", schema(required = true, format = DateTime))]
    pub starts_at: String,
    /// 1 to 100 000 seats: required without `venue_id`; at a general-admission venue, at most
    /// its capacity (the venue's unless given); not at a venue with numbered seats.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<i64>, minimum = 1, maximum = 100_000)
    )]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub capacity: Option<i64>,
    /// 0 to 1 000 000 cents per seat: required for general admission; with numbered seats,
    /// every section's price for this show (unless `sections` prices it).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000)
    )]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub price_cents: Option<i64>,
    /// With numbered seats: sections priced for this show (the others keep the venue's price).
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub sections: Option<Vec<SectionPrice>>,
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
    /// New price, for bookings made from now on (with numbered seats: every section's).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000))]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub price_cents: Option<i64>,
    /// With numbered seats: new prices of these sections, for bookings made from now on.
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub sections: Option<Vec<SectionPrice>>,
    /// For a show scheduled without a venue: its place's new IANA time zone.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub time_zone: Option<String>,
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
    /// Which seats (or one entry per admission), in plan order.
    pub booked_seats: Vec<BookedSeat>,
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

/// Whether a venue's seats are numbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeatingKind {
    /// No seat numbers: a number of people.
    GeneralAdmission,
    /// Numbered seats in sections and rows.
    Reserved,
}

/// A row of a venue's plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueRow {
    /// Its label.
    pub label: String,
    /// Its seats' labels, left to right.
    pub seats: Vec<String>,
    /// The labels of its seats that are not sold.
    pub unavailable: Vec<String>,
}

/// A section of a venue's plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueSection {
    /// Its name.
    pub name: String,
    /// The price of each seat, in cents, unless a show prices it again.
    pub price_cents: i64,
    /// Its rows, front first.
    pub rows: Vec<VenueRow>,
}

/// A venue: where shows happen, in which time zone, and how it is seated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Venue {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub time_zone: String,
    /// General admission or numbered seats.
    pub seating: SeatingKind,
    /// The seats (or places) for sale.
    pub capacity: i64,
    /// The plan, best sections first (empty for general admission).
    pub sections: Vec<VenueSection>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// One page of venues, by name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenuePage {
    /// The venues.
    pub items: Vec<Venue>,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Where a seat of a show stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeatStatus {
    /// For sale.
    Free,
    /// Held by a booking waiting for its payment.
    Held,
    /// Paid for.
    Sold,
    /// In the plan but not sold (a broken seat, a camera position).
    Unavailable,
}

impl SeatStatus {
    /// As stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            SeatStatus::Free => "free",
            SeatStatus::Held => "held",
            SeatStatus::Sold => "sold",
            SeatStatus::Unavailable => "unavailable",
        }
    }

    /// Parses [`SeatStatus::as_str`]'s output.
    pub fn parse(text: &str) -> Option<SeatStatus> {
        [Self::Free, Self::Held, Self::Sold, Self::Unavailable]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One seat of a show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Seat {
    /// Its id (this show's seat: another show's seats have other ids).
    pub seat_id: Uuid,
    /// Its section.
    pub section: String,
    /// Its row.
    pub row: String,
    /// Its number in the row, as printed.
    pub number: String,
    /// Its price for this show, in cents.
    pub price_cents: i64,
    /// Free, held, sold or unavailable.
    pub status: SeatStatus,
}

/// A section of a show's plan, with its price for the show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShowSection {
    /// Its name.
    pub name: String,
    /// The price of each of its seats, in cents.
    pub price_cents: i64,
    /// Its seats still for sale.
    pub seats_available: i64,
}

/// Every seat of a show, in plan order (sections best first, rows front first, seats left to
/// right); empty for general admission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatMap {
    /// The show.
    pub show_id: Uuid,
    /// General admission or numbered seats.
    pub seating: SeatingKind,
    /// ISO 4217 code of every price.
    pub currency: String,
    /// Seats (or places) still for sale.
    pub seats_available: i64,
    /// The sections with their prices for this show.
    pub sections: Vec<ShowSection>,
    /// Every seat.
    pub seats: Vec<Seat>,
}

/// One seat (or one admission to a general-admission show) of a booking, as it was booked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookedSeat {
    /// The show's seat, or none for general admission.
    pub seat_id: Option<Uuid>,
    /// Its section.
    pub section: Option<String>,
    /// Its row.
    pub row: Option<String>,
    /// Its number in the row.
    pub number: Option<String>,
    /// What it cost, in cents.
    pub price_cents: i64,
}

impl BookedSeat {
    /// One admission to a general-admission show.
    pub fn admission(price_cents: i64) -> BookedSeat {
        BookedSeat {
            seat_id: None,
            section: None,
            row: None,
            number: None,
            price_cents,
        }
    }

    /// How a person reads it: `Stalls, row C, seat 12`, or `General admission`.
    pub fn label(&self) -> String {
        match (&self.section, &self.row, &self.number) {
            (Some(s), Some(r), Some(n)) => format!("{s}, row {r}, seat {n}"),
            _ => "General admission".to_owned(),
        }
    }

    /// `n` admissions sharing `amount_cents` (the first takes what does not divide evenly):
    /// how a booking from before seat plans reads.
    pub fn admissions(n: i64, amount_cents: i64) -> Vec<BookedSeat> {
        let n = n.max(1);
        let each = amount_cents / n;
        (0..n)
            .map(|i| {
                BookedSeat::admission(if i == 0 {
                    amount_cents - each * (n - 1)
                } else {
                    each
                })
            })
            .collect()
    }
}

/// What a choice of seats would cost now: the seats it names (best available resolved to the
/// seats it would take at this moment) and their total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    /// The show.
    pub show_id: Uuid,
    /// The seats, in plan order.
    pub seats: Vec<BookedSeat>,
    /// Their total, in cents.
    pub total_cents: i64,
    /// ISO 4217 code.
    pub currency: String,
}
