//! The module's commands and queries as typed inputs, each built once at the edge from what a
//! client sent (`TryFrom`), with every bad field reported at once. Past the edge nothing is
//! parsed again.

use kernel::{Cursor, FieldErrors, PageSize, Timestamp, Zone};
use payments_api::PaymentSource;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    BookingStatus, Capacity, Currency, IdempotencyKey, Label, MAX_SECTIONS, NewShow, SeatIds,
    SeatPrice, Seats, SectionPrice, ShowPatch,
    values::{show_id, venue_id},
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

/// Where a show is scheduled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum ShowPlace {
    /// At a venue: its seating and time zone apply.
    Venue {
        /// The venue.
        venue_id: Uuid,
    },
    /// At a place named for this show alone, general admission.
    Named {
        /// Its name.
        venue: Label,
        /// Its time zone.
        zone: Zone,
    },
}

/// A section priced for one show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionPricing {
    /// The venue's section, by name (in any letter case).
    pub name: Label,
    /// Its seats' price for the show.
    pub price: SeatPrice,
}

fn section_prices(raw: Option<&[SectionPrice]>, e: &mut FieldErrors) -> Vec<SectionPricing> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    if raw.len() > MAX_SECTIONS {
        e.add("sections", format!("must be at most {MAX_SECTIONS}"));
        return Vec::new();
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let name = e.check(&format!("sections[{i}].name"), Label::parse(&s.name));
            let price = e.check(
                &format!("sections[{i}].price_cents"),
                required(s.price_cents).and_then(SeatPrice::new),
            );
            Some(SectionPricing {
                name: name?,
                price: price?,
            })
        })
        .collect()
}

/// A show to put on sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleShow {
    /// Its title.
    pub title: Label,
    /// Where.
    pub place: ShowPlace,
    /// When it starts (in the future when it was received).
    pub starts_at: Timestamp,
    /// Seats in all (general admission; a venue's unless given).
    pub capacity: Option<Capacity>,
    /// Price of one seat (with numbered seats: every section's, unless priced below).
    pub price: Option<SeatPrice>,
    /// Sections priced for this show.
    pub sections: Vec<SectionPricing>,
    /// The price's currency.
    pub currency: Currency,
}

/// A show as received, at the time it was received (the start must be after it).
impl TryFrom<(NewShow, Timestamp)> for ScheduleShow {
    type Error = FieldErrors;

    fn try_from((input, now): (NewShow, Timestamp)) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = e.check("title", Label::parse(&input.title));
        let place = match input.venue_id.as_deref() {
            Some(id) => {
                if input.venue.is_some() {
                    e.add("venue", "give venue_id or venue, not both");
                }
                if input.time_zone.is_some() {
                    e.add(
                        "time_zone",
                        "comes from the venue: give it without venue_id",
                    );
                }
                e.check("venue_id", venue_id(id))
                    .map(|venue_id| ShowPlace::Venue { venue_id })
            }
            None => {
                let venue = e.check(
                    "venue",
                    Label::parse(input.venue.as_deref().unwrap_or_default()),
                );
                let zone = match input.time_zone.as_deref() {
                    None => Some(Zone::utc()),
                    Some(z) => e.check("time_zone", Zone::parse(z)),
                };
                if input.sections.is_some() {
                    e.add("sections", "need a venue with numbered seats (venue_id)");
                }
                match (venue, zone) {
                    (Some(venue), Some(zone)) => Some(ShowPlace::Named { venue, zone }),
                    _ => None,
                }
            }
        };
        let starts_at = e.check("starts_at", start(&input.starts_at, now));
        let named = input.venue_id.is_none();
        let capacity = match input.capacity {
            None if named => e.check("capacity", Err("is required".into())),
            None => None,
            Some(c) => e.check("capacity", Capacity::new(c)),
        };
        let price = match input.price_cents {
            None if named => e.check("price_cents", Err("is required".into())),
            None => None,
            Some(p) => e.check("price_cents", SeatPrice::new(p)),
        };
        let sections = section_prices(input.sections.as_deref(), &mut e);
        let currency = e.check("currency", Currency::parse(&input.currency));
        match (title, place, starts_at, currency) {
            (Some(title), Some(place), Some(starts_at), Some(currency)) if e.is_empty() => {
                Ok(ScheduleShow {
                    title,
                    place,
                    starts_at,
                    capacity,
                    price,
                    sections,
                    currency,
                })
            }
            _ => Err(e),
        }
    }
}

/// Changes to a show; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeShow {
    /// A new title.
    pub title: Option<Label>,
    /// A new venue name (a show scheduled without a venue).
    pub venue: Option<Label>,
    /// A new time zone (a show scheduled without a venue).
    pub zone: Option<Zone>,
    /// A new start (in the future when it was received).
    pub starts_at: Option<Timestamp>,
    /// A new capacity (general admission; the module refuses one below the seats taken).
    pub capacity: Option<Capacity>,
    /// A new price, for bookings made from now on (with numbered seats: every section's).
    pub price: Option<SeatPrice>,
    /// New section prices, for bookings made from now on.
    pub sections: Vec<SectionPricing>,
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
            zone: patch
                .time_zone
                .as_deref()
                .and_then(|z| e.check("time_zone", Zone::parse(z))),
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
            sections: section_prices(patch.sections.as_deref(), &mut e),
        };
        e.into_result()?;
        Ok(change)
    }
}

/// Which seats a booking asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SeatRequest {
    /// A number of seats: the best available (adjacent where possible, best section first),
    /// or admissions to a general-admission show.
    Count {
        /// How many.
        seats: Seats,
    },
    /// These seats of the show's plan.
    Chosen {
        /// Which.
        seats: SeatIds,
    },
}

impl SeatRequest {
    /// How many seats it asks for.
    pub fn count(&self) -> i64 {
        match self {
            SeatRequest::Count { seats } => seats.get(),
            SeatRequest::Chosen { seats } => seats.len() as i64,
        }
    }

    /// The request as received: a count, or seat ids (not both, not neither).
    pub fn of(
        count: Option<i64>,
        seat_ids: Option<&[String]>,
        e: &mut FieldErrors,
    ) -> Option<SeatRequest> {
        match (count, seat_ids) {
            (Some(_), Some(_)) => {
                e.add("seat_ids", "give seats (a number) or seat_ids, not both");
                None
            }
            (None, Some(ids)) => e
                .check("seat_ids", SeatIds::parse(ids))
                .map(|seats| SeatRequest::Chosen { seats }),
            (count, None) => e
                .check("seats", required(count).and_then(Seats::new))
                .map(|seats| SeatRequest::Count { seats }),
        }
    }
}

/// A booking as received, once a card (if any) has become a gateway token: cards are tokenized
/// by the payments module before anything reaches bookings.
#[derive(Debug, Default)]
pub struct BookingDraft {
    /// The show, as sent.
    pub show_id: String,
    /// Seats wanted, as sent: a number (best available, or admissions).
    pub seats: Option<i64>,
    /// Or the seats chosen, as sent.
    pub seat_ids: Option<Vec<String>>,
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
    /// Which seats.
    pub seats: SeatRequest,
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
        let seats = SeatRequest::of(draft.seats, draft.seat_ids.as_deref(), &mut e);
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
            venue: Some("Hall".into()),
            starts_at: "2001-01-01T00:00:00Z".into(),
            capacity: Some(-1),
            price_cents: Some(100),
            currency: "EURO".into(),
            ..NewShow::default()
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
            ..BookingDraft::default()
        })
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["show_id", "seats", "payment", "Idempotency-Key"]);
        let ok = PlaceBooking::try_from(BookingDraft {
            show_id: "01900000-0000-7000-8000-000000000000".into(),
            seats: Some(2),
            payment: Some(Ok(PaymentSource::Wallet)),
            ..BookingDraft::default()
        })
        .unwrap();
        assert_eq!(ok.seats.count(), 2);
    }

    #[test]
    fn a_booking_asks_for_a_number_of_seats_or_for_seats_by_id_never_both() {
        let seat = "01900000-0000-7000-8000-000000000001".to_owned();
        let draft = |seats: Option<i64>, ids: Option<Vec<String>>| BookingDraft {
            show_id: "01900000-0000-7000-8000-000000000000".into(),
            seats,
            seat_ids: ids,
            payment: Some(Ok(PaymentSource::Wallet)),
            ..BookingDraft::default()
        };
        let chosen = PlaceBooking::try_from(draft(None, Some(vec![seat.clone()]))).unwrap();
        assert!(matches!(chosen.seats, SeatRequest::Chosen { .. }));
        let both = PlaceBooking::try_from(draft(Some(1), Some(vec![seat.clone()]))).unwrap_err();
        assert_eq!(both.iter().next().unwrap().field, "seat_ids");
        let twice =
            PlaceBooking::try_from(draft(None, Some(vec![seat.clone(), seat]))).unwrap_err();
        assert!(
            twice.message_for("seat_ids").unwrap().contains("twice"),
            "{twice}"
        );
        let neither = PlaceBooking::try_from(draft(None, None)).unwrap_err();
        assert_eq!(neither.message_for("seats"), Some("is required"));
    }

    #[test]
    fn a_show_at_a_venue_takes_its_seating_and_zone_from_it() {
        let now = at("2026-11-21T12:00:00Z");
        let at_venue = |venue: Option<&str>, tz: Option<&str>| NewShow {
            title: "Night".into(),
            venue_id: Some("01900000-0000-7000-8000-000000000000".into()),
            venue: venue.map(str::to_owned),
            time_zone: tz.map(str::to_owned),
            starts_at: "2027-01-01T20:00:00Z".into(),
            currency: "EUR".into(),
            ..NewShow::default()
        };
        let ok = ScheduleShow::try_from((at_venue(None, None), now)).unwrap();
        assert!(matches!(ok.place, ShowPlace::Venue { .. }));
        assert_eq!((ok.capacity, ok.price), (None, None));
        let errors =
            ScheduleShow::try_from((at_venue(Some("Hall"), Some("UTC")), now)).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["venue", "time_zone"]);
        let named = NewShow {
            venue_id: None,
            venue: Some("Hall".into()),
            time_zone: Some("Asia/Tokyo".into()),
            capacity: Some(10),
            price_cents: Some(100),
            ..at_venue(None, None)
        };
        match ScheduleShow::try_from((named, now)).unwrap().place {
            ShowPlace::Named { zone, .. } => assert_eq!(zone.name(), "Asia/Tokyo"),
            other => panic!("{other:?}"),
        }
    }
}
