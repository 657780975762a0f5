//! Seat maps as pages draw them: sections, rows and seats from a show's seats (to choose from, or
//! to watch as an admin) or from a venue's plan (its preview). One template, `_seatmap.html`,
//! draws each as native checkboxes in labelled groups, so that a keyboard and a screen reader
//! use it as they use any form; the script adds arrow keys and live updates.

use bookings_api::{SeatMap, SeatStatus, Venue};
use uuid::Uuid;

use super::format;

/// One seat on a map. What a screen reader says of it (`Stalls, row A, seat 3, €45.00, sold`)
/// is put together by the template from its section, row and number: a map of 10,000 seats
/// allocates no label of its own per seat.
pub(crate) struct MapSeat {
    pub(crate) id: Uuid,
    pub(crate) number: String,
    pub(crate) status: &'static str,
    pub(crate) chosen: bool,
    pub(crate) free: bool,
}

/// One row of a map.
pub(crate) struct MapRow {
    pub(crate) label: String,
    pub(crate) seats: Vec<MapSeat>,
}

/// One section of a map, with its price and seats left.
pub(crate) struct MapSection {
    pub(crate) name: String,
    pub(crate) price: String,
    pub(crate) price_cents: i64,
    pub(crate) left: i64,
    pub(crate) rows: Vec<MapRow>,
}

fn words(status: SeatStatus) -> &'static str {
    match status {
        SeatStatus::Free => "free",
        SeatStatus::Held => "held",
        SeatStatus::Sold => "sold",
        SeatStatus::Unavailable => "unavailable",
    }
}

/// A show's seats, `chosen` ticked (those still free). Takes the map to move its strings.
pub(crate) fn of_show(map: SeatMap, chosen: &[Uuid]) -> Vec<MapSection> {
    let mut sections: Vec<MapSection> = map
        .sections
        .iter()
        .map(|s| MapSection {
            name: s.name.clone(),
            price: format::money(s.price_cents, &map.currency),
            price_cents: s.price_cents,
            left: s.seats_available,
            rows: Vec::new(),
        })
        .collect();
    for seat in map.seats {
        let Some(section) = sections.iter_mut().find(|s| s.name == seat.section) else {
            continue;
        };
        if section.rows.last().is_none_or(|r| r.label != seat.row) {
            section.rows.push(MapRow {
                label: seat.row,
                seats: Vec::new(),
            });
        }
        let free = seat.status == SeatStatus::Free;
        let row = section.rows.last_mut().expect("a row was just pushed");
        row.seats.push(MapSeat {
            id: seat.seat_id,
            number: seat.number,
            status: words(seat.status),
            chosen: free && chosen.contains(&seat.seat_id),
            free,
        });
    }
    sections
}

/// A venue's plan, every seat for sale drawn free: what its shows will offer.
pub(crate) fn of_venue(venue: &Venue) -> Vec<MapSection> {
    venue
        .sections
        .iter()
        .map(|s| MapSection {
            name: s.name.clone(),
            // A venue's prices are in the currency of each show scheduled there.
            price: format!("{}.{:02}", s.price_cents / 100, s.price_cents % 100),
            price_cents: s.price_cents,
            left: s
                .rows
                .iter()
                .map(|r| (r.seats.len() - r.unavailable.len()) as i64)
                .sum(),
            rows: s
                .rows
                .iter()
                .map(|r| MapRow {
                    label: r.label.clone(),
                    seats: r
                        .seats
                        .iter()
                        .map(|n| {
                            let free = !r.unavailable.contains(n);
                            MapSeat {
                                // A plan's seats have no ids: only a show's do.
                                id: Uuid::nil(),
                                number: n.clone(),
                                status: if free { "free" } else { "unavailable" },
                                chosen: false,
                                free,
                            }
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}
