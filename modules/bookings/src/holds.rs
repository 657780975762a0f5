//! Which seats a booking gets: the seats chosen (each checked: a seat of this show, for sale),
//! the best available (`seating.rs`), or admissions to a general-admission show. The same choice
//! quotes a price on a reader and holds the seats inside the booking's write transaction, where
//! the single writer makes choosing and holding one step.

use std::collections::BTreeSet;

use bookings_api::{BookedSeat, BookingsError, SeatRequest, SeatStatus, SeatingKind, Show};
use kernel::FieldErrors;
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::{
    seating::{self, FreeRow, Place},
    store::{self, SeatRow, SectionRow},
};

/// A seat of the plan as a booking carries it: its section's name and the show's price for it.
fn booked(seat: &SeatRow, sections: &[SectionRow]) -> BookedSeat {
    let section = sections.iter().find(|s| s.position == seat.section);
    BookedSeat {
        seat_id: Some(seat.seat_id),
        section: Some(section.map_or_else(String::new, |s| s.name.clone())),
        row: Some(seat.row_label.clone()),
        number: Some(seat.label.clone()),
        price_cents: section.map_or(0, |s| s.price_cents),
    }
}

/// The seats `request` names for `show` as they stand on `conn`, or why it cannot have them:
/// seats that are not the show's are a field error, seats that are not for sale a conflict
/// naming them, more seats than are left a conflict saying how many are.
pub(crate) async fn choose(
    conn: &mut SqliteConnection,
    show: &Show,
    request: &SeatRequest,
) -> Result<Vec<BookedSeat>, BookingsError> {
    match (show.seating, request) {
        (SeatingKind::GeneralAdmission, SeatRequest::Count { seats }) => Ok((0..seats.get())
            .map(|_| BookedSeat::admission(show.price_cents))
            .collect()),
        (SeatingKind::GeneralAdmission, SeatRequest::Chosen { .. }) => {
            Err(BookingsError::Validation(FieldErrors::single(
                "seat_ids",
                "this show has general admission, no numbered seats: ask for a number of seats",
            )))
        }
        (SeatingKind::Reserved, SeatRequest::Count { seats }) => {
            let n = seats.get() as usize;
            let places = best_available(&mut *conn, show.id, n).await?;
            let Some(places) = places else {
                let available = store::free_seat_count(&mut *conn, show.id).await?;
                return Err(BookingsError::NotEnoughSeats { available });
            };
            let sections = store::sections(&mut *conn, show.id).await?;
            // In the order the chooser gave (the run left to right, or best first).
            let rows = store::seat_rows_at(&mut *conn, show.id, &places).await?;
            Ok(rows.iter().map(|r| booked(r, &sections)).collect())
        }
        (SeatingKind::Reserved, SeatRequest::Chosen { seats }) => {
            let ids = seats.ids();
            let rows = store::seat_rows(&mut *conn, ids).await?;
            let mut e = FieldErrors::new();
            let known: BTreeSet<Uuid> = rows.iter().map(|r| r.seat_id).collect();
            for id in ids.iter().filter(|id| !known.contains(id)) {
                e.add("seat_ids", format!("no seat has the id {id}"));
            }
            for r in rows.iter().filter(|r| r.show_id != show.id) {
                e.add(
                    "seat_ids",
                    format!("{} is a seat of another show", r.seat_id),
                );
            }
            e.into_result().map_err(BookingsError::Validation)?;
            let sections = store::sections(&mut *conn, show.id).await?;
            let taken: Vec<&SeatRow> = rows
                .iter()
                .filter(|r| r.status != SeatStatus::Free)
                .collect();
            if !taken.is_empty() {
                return Err(BookingsError::SeatsTaken {
                    seats: taken.iter().map(|r| booked(r, &sections).label()).collect(),
                    seat_ids: taken.iter().map(|r| r.seat_id).collect(),
                });
            }
            Ok(rows.iter().map(|r| booked(r, &sections)).collect())
        }
    }
}

/// Free seats read at a time by [`best_available`].
const SLICE: usize = 512;

/// The best available `n` seats of a show as they stand on `conn` (`seating.rs` says which are
/// best). The free seats are read in plan order a slice at a time, and the search stops at the
/// first row wholly read that has `n` of them side by side: on a busy plan the full front rows
/// are skipped by the index and the answer is in the first slice. Only a plan with no such run
/// anywhere is read to its end, to split the seats.
async fn best_available(
    conn: &mut SqliteConnection,
    show_id: Uuid,
    n: usize,
) -> Result<Option<Vec<Place>>, BookingsError> {
    let mut rows: Vec<FreeRow> = Vec::new();
    let mut after = None;
    let mut searched = 0;
    loop {
        let places = store::free_places(&mut *conn, show_id, after, SLICE).await?;
        let more = places.len() == SLICE;
        after = places.last().copied();
        let first_new = rows.len();
        for (section, row, position) in places {
            match rows.last_mut() {
                Some(r) if (r.section, r.row) == (section, row) => r.free.push(position),
                _ => rows.push(FreeRow {
                    section,
                    row,
                    first: position,
                    last: position,
                    free: vec![position],
                }),
            }
        }
        let new: Vec<(i64, i64)> = rows[first_new..]
            .iter()
            .map(|r| (r.section, r.row))
            .collect();
        let bounds = store::row_bounds(&mut *conn, show_id, &new).await?;
        for r in &mut rows[first_new..] {
            if let Some(&(first, last)) = bounds.get(&(r.section, r.row)) {
                (r.first, r.last) = (first, last);
            }
        }
        if !more {
            return Ok(seating::best_available(&rows, n));
        }
        // Every row but the last is wholly read; the last may go on in the next slice.
        let whole = rows.len() - 1;
        if let Some(run) = seating::adjacent(&rows[searched..whole], n) {
            return Ok(Some(run));
        }
        searched = whole;
    }
}

/// Holds the seats `choose` gave for `booking_id` (nothing to hold for admissions). The write
/// transaction's single writer makes this follow `choose` with nothing in between; the guarded
/// update and the unique index on live seats are the last lines of defence.
pub(crate) async fn hold(
    conn: &mut SqliteConnection,
    show_id: Uuid,
    booking_id: Uuid,
    seats: &[BookedSeat],
) -> Result<(), BookingsError> {
    let ids: Vec<Uuid> = seats.iter().filter_map(|s| s.seat_id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let held = store::hold_seats(conn, show_id, booking_id, &ids).await?;
    if held.len() != ids.len() {
        let missing: Vec<&BookedSeat> = seats
            .iter()
            .filter(|s| !held.iter().any(|h| Some(h.seat_id) == s.seat_id))
            .collect();
        return Err(BookingsError::SeatsTaken {
            seats: missing.iter().map(|s| s.label()).collect(),
            seat_ids: missing.iter().filter_map(|s| s.seat_id).collect(),
        });
    }
    Ok(())
}
