//! The read model's shapes, and the validated feed query.

use kernel::{Cursor, FieldErrors, PageRequest, PageSize, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Bookings by status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingCounts {
    /// Waiting for payment.
    pub pending: i64,
    /// Paid.
    pub confirmed: i64,
    /// Cancelled, for any reason.
    pub cancelled: i64,
    /// All of them.
    pub total: i64,
}

/// Money in one currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyTotals {
    /// ISO 4217 code.
    pub currency: String,
    /// Captured and not refunded, in cents.
    pub revenue_cents: i64,
    /// Refunded, in cents.
    pub refunds_cents: i64,
}

/// How far the read model is behind one source stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamLag {
    /// The producing module.
    pub stream: String,
    /// The last event applied to the view.
    pub checkpoint: i64,
    /// The producer's newest event.
    pub head: i64,
    /// Events not yet applied.
    pub behind_events: i64,
    /// How long the oldest of them has been waiting, in milliseconds.
    pub behind_ms: i64,
}

/// Sales of one show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShowSales {
    /// The show.
    pub show_id: Uuid,
    /// Title.
    pub title: String,
    /// Venue.
    pub venue: String,
    /// The venue's IANA time zone: the start is read in it.
    pub time_zone: String,
    /// Start.
    pub starts_at: Timestamp,
    /// `scheduled` or `cancelled`.
    pub status: String,
    /// Seats in all.
    pub capacity: i64,
    /// Seats of confirmed bookings.
    pub seats_sold: i64,
    /// Seats held by pending bookings.
    pub seats_held: i64,
    /// Seats neither sold nor held.
    pub seats_left: i64,
    /// Tickets admitted at the door.
    pub admitted: i64,
    /// Bookings of this show.
    pub bookings: i64,
    /// Captured and not refunded, in cents.
    pub revenue_cents: i64,
    /// Refunded, in cents.
    pub refunds_cents: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// Bookings placed in one hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeBucket {
    /// The hour's start.
    pub start: Timestamp,
    /// Bookings placed in it.
    pub placed: i64,
    /// Of which confirmed.
    pub confirmed: i64,
    /// Of which cancelled.
    pub cancelled: i64,
}

/// The dashboard: figures of the whole box office, from the read model only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// Bookings by status.
    pub bookings: BookingCounts,
    /// Seats of confirmed bookings.
    pub seats_sold: i64,
    /// Revenue and refunds per currency.
    pub money: Vec<CurrencyTotals>,
    /// Average time from placed to confirmed, in milliseconds.
    pub avg_confirm_ms: Option<f64>,
    /// Shows with the most seats sold.
    pub top_shows: Vec<ShowSales>,
    /// Bookings per hour, oldest first (the last 48 hours with bookings).
    pub timeline: Vec<TimeBucket>,
    /// How far behind each source stream the view is.
    pub lag: Vec<StreamLag>,
    /// When the figures were read.
    pub generated_at: Timestamp,
}

/// One booking, denormalized: show, customer and payment in one row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedItem {
    /// The booking.
    pub booking_id: Uuid,
    /// The show.
    pub show_id: Option<Uuid>,
    /// Its title.
    pub show_title: Option<String>,
    /// Its start.
    pub show_starts_at: Option<Timestamp>,
    /// Its venue's IANA time zone.
    pub show_time_zone: Option<String>,
    /// The customer.
    pub user_id: Option<Uuid>,
    /// Their name.
    pub user_name: Option<String>,
    /// Their email, as of the latest `UserEmailChanged`.
    pub user_email: Option<String>,
    /// Seats.
    pub seats: i64,
    /// Which seats (`Stalls, row C, seat 12; …`), for a show with numbered seats.
    pub seat_labels: Option<String>,
    /// Amount in cents.
    pub amount_cents: i64,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// `pending`, `confirmed` or `cancelled` (absent while only payment events have arrived).
    pub status: Option<String>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// `captured`, `declined`, `refunded`, `voided` (absent while none was reported).
    pub payment_status: Option<String>,
    /// `wallet` or `card`.
    pub payment_method: Option<String>,
    /// The card's brand.
    pub card_brand: Option<String>,
    /// Its last four digits.
    pub card_last4: Option<String>,
    /// When it was placed.
    pub placed_at: Option<Timestamp>,
    /// When it was confirmed.
    pub confirmed_at: Option<Timestamp>,
}

/// Filters of the feed, as sent.
#[derive(Clone, Debug, Default)]
pub struct FeedQuery {
    /// Only this booking status.
    pub status: Option<String>,
    /// Only this payment status.
    pub payment_status: Option<String>,
    /// Only this show's.
    pub show_id: Option<Uuid>,
    /// Only this customer's.
    pub user_id: Option<Uuid>,
    /// Full-text search over show, venue, customer name and email.
    pub q: Option<String>,
    /// 1 to 200; 50 when absent.
    pub limit: Option<u32>,
    /// From the previous page.
    pub cursor: Option<String>,
}

/// The booking statuses the feed knows.
const STATUSES: &[&str] = &["pending", "confirmed", "cancelled"];
/// The payment statuses the feed knows.
const PAYMENT_STATUSES: &[&str] = &["captured", "declined", "refunded", "voided"];

/// A validated feed query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedFilter {
    /// Only this booking status (one of pending, confirmed, cancelled).
    pub status: Option<String>,
    /// Only this payment status (one of captured, declined, refunded, voided).
    pub payment_status: Option<String>,
    /// Only this show's.
    pub show_id: Option<Uuid>,
    /// Only this customer's.
    pub user_id: Option<Uuid>,
    /// Words to search for (at most 200 characters).
    pub q: Option<String>,
    /// How many.
    pub limit: PageSize,
    /// After the previous page.
    pub cursor: Option<Cursor>,
}

impl TryFrom<FeedQuery> for FeedFilter {
    type Error = FieldErrors;

    fn try_from(query: FeedQuery) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let page = PageRequest::parse(query.limit, query.cursor.as_deref(), &mut e);
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let status = nonempty(query.status);
        if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
            e.add("status", "must be pending, confirmed or cancelled");
        }
        let payment_status = nonempty(query.payment_status);
        if payment_status
            .as_deref()
            .is_some_and(|s| !PAYMENT_STATUSES.contains(&s))
        {
            e.add(
                "payment_status",
                "must be captured, declined, refunded or voided",
            );
        }
        let q = nonempty(query.q);
        if q.as_deref().is_some_and(|q| q.chars().count() > 200) {
            e.add("q", "must be at most 200 characters");
        }
        e.into_result()?;
        Ok(FeedFilter {
            status,
            payment_status,
            show_id: query.show_id,
            user_id: query.user_id,
            q,
            limit: page.limit,
            cursor: page.cursor,
        })
    }
}

/// A page of the feed, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedPage {
    /// The rows.
    pub items: Vec<FeedItem>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// One customer's totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerSummary {
    /// The customer.
    pub user_id: Uuid,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Bookings placed.
    pub bookings: i64,
    /// Of which confirmed.
    pub confirmed: i64,
    /// Of which cancelled.
    pub cancelled: i64,
    /// Captured and not refunded, in cents.
    pub spent_cents: i64,
    /// Refunded, in cents.
    pub refunds_cents: i64,
}

/// A show found by search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShowHit {
    /// The show.
    pub show_id: Uuid,
    /// Title.
    pub title: String,
    /// Venue.
    pub venue: String,
    /// Start.
    pub starts_at: Timestamp,
}

/// Where a rebuild of the read model stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RebuildStatus {
    /// True while one runs.
    pub running: bool,
    /// When the last one started.
    pub started_at: Option<Timestamp>,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// Events replayed so far.
    pub processed: u64,
    /// Events to replay in all.
    pub total: u64,
    /// Why it failed, if it did.
    pub error: Option<String>,
}
