//! Scheduling a show: what it takes from its venue (its time zone, its seating, its plan copied
//! into the show's own seats, with the show's prices for each section), or from the place named
//! for it alone, and the prices of a seated show's sections as they change.

use bookings_api::{
    BookingsError, Capacity, ScheduleShow, Seating, SeatingKind, SectionPricing, Show, ShowPlace,
    ShowStatus, Venue,
};
use kernel::{FieldErrors, Timestamp, new_id};
use sqlx::SqliteConnection;

use crate::store::{self, SectionRow};

fn field(name: &str, message: impl Into<String>) -> BookingsError {
    BookingsError::Validation(FieldErrors::single(name, message))
}

/// A show ready to be stored: the show, its sections and the plan whose seats it gets.
pub(crate) struct Staged {
    pub(crate) show: Show,
    pub(crate) sections: Vec<SectionRow>,
    pub(crate) seating: Option<Seating>,
}

/// The prices of a plan's sections for one show: the venue's, every section at `price` when
/// given, then each section priced by name.
fn section_rows(
    venue: &Venue,
    price: Option<i64>,
    pricing: &[SectionPricing],
    base: Option<&[SectionRow]>,
) -> Result<Vec<SectionRow>, BookingsError> {
    let mut rows: Vec<SectionRow> = match base {
        Some(base) => base.to_vec(),
        None => venue
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| SectionRow {
                position: i as i64,
                name: s.name.clone(),
                price_cents: s.price_cents,
            })
            .collect(),
    };
    if let Some(p) = price {
        rows.iter_mut().for_each(|r| r.price_cents = p);
    }
    let mut e = FieldErrors::new();
    for (i, p) in pricing.iter().enumerate() {
        match rows
            .iter_mut()
            .find(|r| r.name.to_lowercase() == p.name.as_str().to_lowercase())
        {
            Some(r) => r.price_cents = p.price.cents(),
            None => e.add(
                format!("sections[{i}].name"),
                format!("is not a section of {}", venue.name),
            ),
        }
    }
    e.into_result().map_err(BookingsError::Validation)?;
    Ok(rows)
}

/// The show `input` asks for at `now`, with what it takes from its venue, ready to be stored.
pub(crate) async fn stage_show(
    conn: &mut SqliteConnection,
    input: ScheduleShow,
    now: Timestamp,
) -> Result<Staged, BookingsError> {
    let mut show = Show {
        id: new_id(),
        title: input.title.into_string(),
        venue: String::new(),
        venue_id: None,
        time_zone: String::new(),
        starts_at: input.starts_at,
        starts_at_local: String::new(),
        seating: SeatingKind::GeneralAdmission,
        capacity: 0,
        seats_taken: 0,
        seats_available: 0,
        price_cents: input.price.map_or(0, |p| p.cents()),
        currency: input.currency.as_str().to_owned(),
        status: ShowStatus::Scheduled,
        created_at: now,
        updated_at: now,
    };
    let (zone, sections, seating) = match input.place {
        ShowPlace::Named { venue, zone } => {
            show.venue = venue.into_string();
            show.capacity = input.capacity.map_or(0, Capacity::get);
            (zone, Vec::new(), None)
        }
        ShowPlace::Venue { venue_id } => {
            let (venue, seating) = store::venue(&mut *conn, venue_id)
                .await?
                .ok_or_else(|| field("venue_id", "no venue has this id"))?;
            show.venue = venue.name.clone();
            show.venue_id = Some(venue.id);
            let zone = store::zone_of(&venue.time_zone);
            match &seating {
                Seating::GeneralAdmission { capacity } => {
                    if !input.sections.is_empty() {
                        return Err(field("sections", "need a venue with numbered seats"));
                    }
                    let Some(price) = input.price else {
                        return Err(field("price_cents", "is required for general admission"));
                    };
                    show.price_cents = price.cents();
                    show.capacity = match input.capacity {
                        Some(c) if c.get() > capacity.get() => {
                            return Err(field(
                                "capacity",
                                format!("must be at most the venue's {}", capacity.get()),
                            ));
                        }
                        Some(c) => c.get(),
                        None => capacity.get(),
                    };
                    (zone, Vec::new(), None)
                }
                Seating::Reserved { plan } => {
                    if input.capacity.is_some() {
                        return Err(field(
                            "capacity",
                            "comes from the venue's seating plan: leave it out",
                        ));
                    }
                    let sections = section_rows(
                        &venue,
                        input.price.map(|p| p.cents()),
                        &input.sections,
                        None,
                    )?;
                    show.seating = SeatingKind::Reserved;
                    show.capacity = plan.capacity();
                    show.price_cents = cheapest(&sections);
                    (zone, sections, Some(seating.clone()))
                }
            }
        }
    };
    show.time_zone = zone.name().to_owned();
    show.starts_at_local = zone.rfc3339(show.starts_at);
    show.seats_available = show.capacity;
    Ok(Staged {
        show,
        sections,
        seating,
    })
}

/// A seated show's price from: its cheapest section's.
pub(crate) fn cheapest(sections: &[SectionRow]) -> i64 {
    sections.iter().map(|s| s.price_cents).min().unwrap_or(0)
}

/// Section prices changed on a scheduled seated show: the rows to store, from the show's own.
pub(crate) fn repriced(
    show: &Show,
    current: &[SectionRow],
    price: Option<i64>,
    pricing: &[SectionPricing],
) -> Result<Vec<SectionRow>, BookingsError> {
    let venue = Venue {
        id: show.venue_id.unwrap_or_default(),
        name: show.venue.clone(),
        time_zone: show.time_zone.clone(),
        seating: show.seating,
        capacity: show.capacity,
        sections: Vec::new(),
        created_at: show.created_at,
        updated_at: show.updated_at,
    };
    section_rows(&venue, price, pricing, Some(current))
}
