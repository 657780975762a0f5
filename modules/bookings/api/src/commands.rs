//! The module's commands and queries as typed inputs, each built once at the edge from what a
//! client sent (`TryFrom`), with every bad field reported at once. Past the edge nothing is
//! parsed again.

use kernel::{Cursor, FieldErrors, PageSize, Timestamp};
use payments_api::PaymentSource;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    BookingStatus, Capacity, Currency, IdempotencyKey, Label, NewShow, SeatPrice, Seats, ShowPatch,
    values::show_id,
};

/// A start time as sent: RFC 3339 and after `now`.
fn start(raw: &str, now: Timestamp) -> Result<Timestamp, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is required".into());
    }
    match Timestamp::parse_rfc3339(raw) {
        Err(_) => Err("must be an RFC 3339 date-time like 2027-05-01T20:00:00Z".into()),
        Ok(t) if t <= now => Err("must be in the future".into()),
        Ok(t) => Ok(t),
    }
}

fn required<T>(value: Option<T>) -> Result<T, String> {
    value.ok_or_else(|| "is required".to_owned())
}

/// A show to put on sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleShow {
    /// Its title.
    pub title: Label,
    /// Where.
    pub venue: Label,
    /// When it starts (in the future when it was received).
    pub starts_at: Timestamp,
    /// Seats in all.
    pub capacity: Capacity,
    /// Price of one seat.
    pub price: SeatPrice,
    /// The price's currency.
    pub currency: Currency,
}

/// A show as received, at the time it was received (the start must be after it).
impl TryFrom<(NewShow, Timestamp)> for ScheduleShow {
    type Error = FieldErrors;

    fn try_from((input, now): (NewShow, Timestamp)) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = e.check("title", Label::parse(&input.title));
        let venue = e.check("venue", Label::parse(&input.venue));
        let starts_at = e.check("starts_at", start(&input.starts_at, now));
        let capacity = e.check("capacity", required(input.capacity).and_then(Capacity::new));
        let price = e.check(
            "price_cents",
            required(input.price_cents).and_then(SeatPrice::new),
        );
        let currency = e.check("currency", Currency::parse(&input.currency));
        match (title, venue, starts_at, capacity, price, currency) {
            (
                Some(title),
                Some(venue),
                Some(starts_at),
                Some(capacity),
                Some(price),
                Some(currency),
            ) => Ok(ScheduleShow {
                title,
                venue,
                starts_at,
                capacity,
                price,
                currency,
            }),
            _ => Err(e),
        }
    }
}

/// Changes to a show; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeShow {
    /// A new title.
    pub title: Option<Label>,
    /// A new venue.
    pub venue: Option<Label>,
    /// A new start (in the future when it was received).
    pub starts_at: Option<Timestamp>,
    /// A new capacity (the module refuses one below the seats taken).
    pub capacity: Option<Capacity>,
    /// A new price, for bookings made from now on.
    pub price: Option<SeatPrice>,
}

/// A show change as received, at the time it was received.
impl TryFrom<(ShowPatch, Timestamp)> for ChangeShow {
    type Error = FieldErrors;

    fn try_from((patch, now): (ShowPatch, Timestamp)) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let change = ChangeShow {
            title: patch
                .title
                .as_deref()
                .and_then(|t| e.check("title", Label::parse(t))),
            venue: patch
                .venue
                .as_deref()
                .and_then(|v| e.check("venue", Label::parse(v))),
            starts_at: patch
                .starts_at
                .as_deref()
                .and_then(|s| e.check("starts_at", start(s, now))),
            capacity: patch
                .capacity
                .and_then(|c| e.check("capacity", Capacity::new(c))),
            price: patch
                .price_cents
                .and_then(|p| e.check("price_cents", SeatPrice::new(p))),
        };
        e.into_result()?;
        Ok(change)
    }
}

/// A booking as received, once a card (if any) has become a gateway token: cards are tokenized
/// by the payments module before anything reaches bookings.
#[derive(Debug, Default)]
pub struct BookingDraft {
    /// The show, as sent.
    pub show_id: String,
    /// Seats wanted, as sent.
    pub seats: Option<i64>,
    /// How it is to be paid: `None` when the client said nothing, the card's field errors when
    /// the payments module refused to tokenize it.
    pub payment: Option<Result<PaymentSource, FieldErrors>>,
    /// The client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<String>,
}

/// A booking to place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceBooking {
    /// The show.
    pub show_id: Uuid,
    /// How many seats.
    pub seats: Seats,
    /// How it is paid.
    pub payment: PaymentSource,
    /// With a key, the same request places the booking once.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl TryFrom<BookingDraft> for PlaceBooking {
    type Error = FieldErrors;

    fn try_from(draft: BookingDraft) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let show = e.check("show_id", show_id(&draft.show_id));
        let seats = e.check("seats", required(draft.seats).and_then(Seats::new));
        let payment = match draft.payment {
            None => e.check("payment", Err("is required".into())),
            Some(Ok(source)) => Some(source),
            Some(Err(card)) => {
                e.nest("payment", card);
                None
            }
        };
        let key = draft
            .idempotency_key
            .as_deref()
            .and_then(|k| e.check("Idempotency-Key", IdempotencyKey::parse(k)));
        match (show, seats, payment) {
            (Some(show_id), Some(seats), Some(payment)) if e.is_empty() => Ok(PlaceBooking {
                show_id,
                seats,
                payment,
                idempotency_key: key,
            }),
            _ => Err(e),
        }
    }
}

/// Which shows to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShowFilter {
    /// Past and cancelled shows too, not only upcoming ones on sale.
    pub all: bool,
    /// How many.
    pub limit: PageSize,
    /// After the previous page.
    pub cursor: Option<Cursor>,
    /// Starting at or after this instant.
    pub from: Option<Timestamp>,
    /// Starting before this instant.
    pub until: Option<Timestamp>,
    /// Whose venue contains these words, in any letter case.
    pub venue: Option<String>,
    /// Only these shows (a search's matches); an empty list matches nothing.
    pub only: Option<Vec<Uuid>>,
}

impl ShowFilter {
    /// The first page of every show, past and cancelled ones too, as large as a page gets.
    pub fn every_show() -> ShowFilter {
        ShowFilter {
            all: true,
            limit: PageSize::clamped(PageSize::MAX),
            ..ShowFilter::default()
        }
    }
}

/// Which bookings to list, newest first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingFilter {
    /// Only this status.
    pub status: Option<BookingStatus>,
    /// Only this customer's (customers always see only their own).
    pub user_id: Option<Uuid>,
    /// Only this show's.
    pub show_id: Option<Uuid>,
    /// Created at or after.
    pub from: Option<Timestamp>,
    /// Created before.
    pub to: Option<Timestamp>,
    /// How many.
    pub limit: PageSize,
    /// After the previous page.
    pub cursor: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn a_show_reports_every_bad_field_at_once_including_a_start_in_the_past() {
        let bad = NewShow {
            title: String::new(),
            venue: "Hall".into(),
            starts_at: "2001-01-01T00:00:00Z".into(),
            capacity: Some(-1),
            price_cents: Some(100),
            currency: "EURO".into(),
        };
        let errors = ScheduleShow::try_from((bad, at("2026-11-21T12:00:00Z"))).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "starts_at", "capacity", "currency"]);
    }

    #[test]
    fn a_start_must_be_rfc3339_and_after_the_time_it_was_received() {
        let now = at("2026-11-21T12:00:00Z");
        assert_eq!(
            start("2026-11-21T11:59:59Z", now),
            Err("must be in the future".into())
        );
        assert!(start("next friday", now).unwrap_err().contains("RFC 3339"));
        assert!(start("2027-01-01T20:00:00+01:00", now).is_ok());
    }

    #[test]
    fn a_booking_needs_a_show_a_seat_count_and_a_payment() {
        let errors = PlaceBooking::try_from(BookingDraft {
            show_id: "nope".into(),
            seats: Some(0),
            payment: None,
            idempotency_key: Some("has space".into()),
        })
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["show_id", "seats", "payment", "Idempotency-Key"]);
        let ok = PlaceBooking::try_from(BookingDraft {
            show_id: "01900000-0000-7000-8000-000000000000".into(),
            seats: Some(2),
            payment: Some(Ok(PaymentSource::Wallet)),
            idempotency_key: None,
        })
        .unwrap();
        assert_eq!(ok.seats.get(), 2);
    }
}
