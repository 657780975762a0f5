//! Seats and tickets: a seated show's sections and seats, the seats each booking holds (its
//! tickets once paid), admissions at the door, and the key ticket codes are signed with.

use std::collections::HashMap;

use bookings_api::{BookedSeat, BookingsError, SeatStatus, SeatingPlan};
use kernel::{Timestamp, new_id};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqliteExecutor, sqlite::SqliteRow};
use uuid::Uuid;

use super::storage;
use crate::seating::Place;

type Result<T> = std::result::Result<T, BookingsError>;

/// Rows per multi-row insert (each well under SQLite's bound-parameter limit).
const BATCH: usize = 1_000;

/// A section of a seated show, with the show's price for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SectionRow {
    pub(crate) position: i64,
    pub(crate) name: String,
    pub(crate) price_cents: i64,
}

pub(crate) async fn insert_sections(
    conn: &mut SqliteConnection,
    show_id: Uuid,
    sections: &[SectionRow],
) -> Result<()> {
    let mut sql: QueryBuilder<Sqlite> =
        QueryBuilder::new("INSERT INTO show_sections (show_id, position, name, price_cents) ");
    sql.push_values(sections, |mut b, s| {
        b.push_bind(show_id)
            .push_bind(s.position)
            .push_bind(&s.name)
            .push_bind(s.price_cents);
    });
    sql.build().execute(conn).await.map_err(storage)?;
    Ok(())
}

/// A show's sections, best first (none for general admission).
pub(crate) async fn sections(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
) -> Result<Vec<SectionRow>> {
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT position, name, price_cents FROM show_sections WHERE show_id = ? ORDER BY position",
    )
    .bind(show_id)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    Ok(rows
        .into_iter()
        .map(|(position, name, price_cents)| SectionRow {
            position,
            name,
            price_cents,
        })
        .collect())
}

pub(crate) async fn set_section_price(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
    position: i64,
    price_cents: i64,
) -> Result<()> {
    sqlx::query("UPDATE show_sections SET price_cents = ? WHERE show_id = ? AND position = ?")
        .bind(price_cents)
        .bind(show_id)
        .bind(position)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

/// Every seat of `plan` for the show, free or unavailable, each with an id of its own.
pub(crate) async fn insert_show_seats(
    conn: &mut SqliteConnection,
    show_id: Uuid,
    plan: &SeatingPlan,
) -> Result<()> {
    let seats: Vec<_> = plan
        .seats()
        .map(|(s, r, p, seat)| {
            let row = &plan.sections()[s].rows[r];
            (
                new_id(),
                s as i64,
                r as i64,
                row.label.as_str(),
                p as i64,
                seat,
            )
        })
        .collect();
    for chunk in seats.chunks(BATCH) {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO show_seats (seat_id, show_id, section, row_index, row_label, position, label, status) ",
        );
        sql.push_values(chunk, |mut b, (id, s, r, row_label, p, seat)| {
            b.push_bind(*id)
                .push_bind(show_id)
                .push_bind(*s)
                .push_bind(*r)
                .push_bind(*row_label)
                .push_bind(*p)
                .push_bind(seat.label.as_str())
                .push_bind(if seat.available {
                    "free"
                } else {
                    "unavailable"
                });
        });
        sql.build().execute(&mut *conn).await.map_err(storage)?;
    }
    Ok(())
}

/// Up to `limit` free seats of a show after `after` (from the start with `None`), in plan order.
///
/// They come packed in one text value (`section,row,position;…`), read from the index of free
/// seats: one row instead of one per seat, since each row is a message from the connection's
/// thread.
pub(crate) async fn free_places(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
    after: Option<Place>,
    limit: usize,
) -> Result<Vec<Place>> {
    let (section, row, position) = after.unwrap_or((-1, -1, -1));
    let packed: Option<String> = sqlx::query_scalar(
        "SELECT group_concat(section || ',' || row_index || ',' || position, ';' \
         ORDER BY section, row_index, position) FROM (\
         SELECT section, row_index, position FROM show_seats INDEXED BY show_seats_free \
         WHERE show_id = ? AND status = 'free' AND (section, row_index, position) > (?, ?, ?) \
         ORDER BY section, row_index, position LIMIT ?)",
    )
    .bind(show_id)
    .bind(section)
    .bind(row)
    .bind(position)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_one(exec)
    .await
    .map_err(storage)?;
    packed
        .as_deref()
        .unwrap_or_default()
        .split(';')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut f = s.split(',').map(|v| v.parse::<i64>().ok());
            let place = (|| Some((f.next()??, f.next()??, f.next()??)))();
            place.ok_or_else(|| {
                storage(sqlx::Error::Decode(
                    format!("a seat packed as {s:?}").into(),
                ))
            })
        })
        .collect()
}

/// How many seats of a show are free.
pub(crate) async fn free_seat_count(exec: impl SqliteExecutor<'_>, show_id: Uuid) -> Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM show_seats INDEXED BY show_seats_free WHERE show_id = ? AND status = 'free'",
    )
    .bind(show_id)
    .fetch_one(exec)
    .await
    .map_err(storage)
}

/// The positions of the first and last seats of each of these rows of a show.
pub(crate) async fn row_bounds(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
    rows: &[(i64, i64)],
) -> Result<HashMap<(i64, i64), (i64, i64)>> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT section, row_index, MIN(position), MAX(position) FROM show_seats WHERE show_id = ",
    );
    sql.push_bind(show_id)
        .push(" AND (section, row_index) IN (VALUES ");
    let mut list = sql.separated(", ");
    for (section, row) in rows {
        list.push("(")
            .push_bind_unseparated(*section)
            .push_unseparated(", ")
            .push_bind_unseparated(*row)
            .push_unseparated(")");
    }
    sql.push(") GROUP BY section, row_index");
    let found: Vec<(i64, i64, i64, i64)> = sql
        .build_query_as()
        .fetch_all(exec)
        .await
        .map_err(storage)?;
    Ok(found
        .into_iter()
        .map(|(section, row, first, last)| ((section, row), (first, last)))
        .collect())
}

/// The seats of a show at these places of its plan, in the order asked.
pub(crate) async fn seat_rows_at(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
    places: &[Place],
) -> Result<Vec<SeatRow>> {
    if places.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(SEAT_COLUMNS);
    sql.push(" WHERE show_id = ")
        .push_bind(show_id)
        .push(" AND (section, row_index, position) IN (VALUES ");
    let mut list = sql.separated(", ");
    for (section, row, position) in places {
        list.push("(")
            .push_bind_unseparated(*section)
            .push_unseparated(", ")
            .push_bind_unseparated(*row)
            .push_unseparated(", ")
            .push_bind_unseparated(*position)
            .push_unseparated(")");
    }
    sql.push(")");
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    let mut rows: Vec<SeatRow> = rows.iter().map(seat_from_row).collect::<Result<_>>()?;
    rows.sort_by_key(|r| places.iter().position(|p| *p == r.place()));
    Ok(rows)
}

/// A seat of some show, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SeatRow {
    pub(crate) seat_id: Uuid,
    pub(crate) show_id: Uuid,
    pub(crate) section: i64,
    pub(crate) row_index: i64,
    pub(crate) position: i64,
    pub(crate) row_label: String,
    pub(crate) label: String,
    pub(crate) status: SeatStatus,
}

const SEAT_COLUMNS: &str = "SELECT seat_id, show_id, section, row_index, position, row_label, label, status \
     FROM show_seats";

impl SeatRow {
    fn place(&self) -> Place {
        (self.section, self.row_index, self.position)
    }
}

fn seat_from_row(row: &SqliteRow) -> Result<SeatRow> {
    let read = || -> std::result::Result<SeatRow, sqlx::Error> {
        let status: String = row.try_get("status")?;
        Ok(SeatRow {
            seat_id: row.try_get("seat_id")?,
            show_id: row.try_get("show_id")?,
            section: row.try_get("section")?,
            row_index: row.try_get("row_index")?,
            position: row.try_get("position")?,
            row_label: row.try_get("row_label")?,
            label: row.try_get("label")?,
            status: SeatStatus::parse(&status).unwrap_or(SeatStatus::Unavailable),
        })
    };
    read().map_err(storage)
}

/// The seats with these ids, of whichever show.
pub(crate) async fn seat_rows(exec: impl SqliteExecutor<'_>, ids: &[Uuid]) -> Result<Vec<SeatRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(SEAT_COLUMNS);
    sql.push(" WHERE seat_id IN (");
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    sql.push(") ORDER BY section, row_index, position");
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    rows.iter().map(seat_from_row).collect()
}

/// Every seat of a show, in plan order. They come packed in one JSON value, one array per seat:
/// one row from the connection's thread instead of one per seat (10,000 messages, and as many
/// small allocations on that thread, for a big plan).
pub(crate) async fn seat_map(exec: impl SqliteExecutor<'_>, show_id: Uuid) -> Result<Vec<SeatRow>> {
    let packed: String = sqlx::query_scalar(
        "SELECT json_group_array(json_array(hex(seat_id), section, row_index, position, \
         row_label, label, status) ORDER BY section, row_index, position) \
         FROM show_seats WHERE show_id = ?",
    )
    .bind(show_id)
    .fetch_one(exec)
    .await
    .map_err(storage)?;
    type Packed = (String, i64, i64, i64, String, String, String);
    let undecodable = |what: String| storage(sqlx::Error::Decode(what.into()));
    let seats: Vec<Packed> = serde_json::from_str(&packed)
        .map_err(|e| undecodable(format!("a show's seats packed as JSON: {e}")))?;
    seats
        .into_iter()
        .map(
            |(id, section, row_index, position, row_label, label, status)| {
                Ok(SeatRow {
                    seat_id: Uuid::try_parse(&id)
                        .map_err(|e| undecodable(format!("a seat id packed as {id:?}: {e}")))?,
                    show_id,
                    section,
                    row_index,
                    position,
                    row_label,
                    label,
                    status: SeatStatus::parse(&status).unwrap_or(SeatStatus::Unavailable),
                })
            },
        )
        .collect()
}

/// Holds these free seats of the show for `booking_id`; returns the seats held. A seat that is
/// not free (or not the show's) is left alone, so fewer come back than were asked for.
pub(crate) async fn hold_seats(
    conn: &mut SqliteConnection,
    show_id: Uuid,
    booking_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<SeatRow>> {
    let mut sql: QueryBuilder<Sqlite> =
        QueryBuilder::new("UPDATE show_seats SET status = 'held', booking_id = ");
    sql.push_bind(booking_id)
        .push(" WHERE show_id = ")
        .push_bind(show_id)
        .push(" AND status = 'free' AND seat_id IN (");
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    sql.push(
        ") RETURNING seat_id, show_id, section, row_index, position, row_label, label, status",
    );
    let rows = sql.build().fetch_all(&mut *conn).await.map_err(storage)?;
    let mut held: Vec<SeatRow> = rows.iter().map(seat_from_row).collect::<Result<_>>()?;
    held.sort_by_key(SeatRow::place);
    Ok(held)
}

/// Frees the seats a booking held or bought.
pub(crate) async fn release_show_seats(
    exec: impl SqliteExecutor<'_>,
    booking_id: Uuid,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE show_seats SET status = 'free', booking_id = NULL WHERE booking_id = ?",
    )
    .bind(booking_id)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(done.rows_affected())
}

/// Records a booking's seats (or admissions), one ticket each.
pub(crate) async fn insert_booked(
    conn: &mut SqliteConnection,
    booking_id: Uuid,
    show_id: Uuid,
    seats: &[BookedSeat],
    released: bool,
) -> Result<()> {
    for (n, chunk) in seats.chunks(BATCH).enumerate() {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new("");
        push_booked(&mut sql, booking_id, show_id, chunk, n * BATCH, released);
        sql.build().execute(&mut *conn).await.map_err(storage)?;
    }
    Ok(())
}

/// The `INSERT` of `seats` into `booked_seats`, numbered from `first + 1`, added to `sql`.
pub(crate) fn push_booked(
    sql: &mut QueryBuilder<Sqlite>,
    booking_id: Uuid,
    show_id: Uuid,
    seats: &[BookedSeat],
    first: usize,
    released: bool,
) {
    sql.push(
        "INSERT INTO booked_seats (ticket_id, booking_id, item, show_id, seat_id, section, row_label, seat_label, \
         price_cents, released) ",
    );
    sql.push_values(seats.iter().enumerate(), |mut b, (i, s)| {
        b.push_bind(new_id())
            .push_bind(booking_id)
            .push_bind((first + i + 1) as i64)
            .push_bind(show_id)
            .push_bind(s.seat_id)
            .push_bind(s.section.clone())
            .push_bind(s.row.clone())
            .push_bind(s.number.clone())
            .push_bind(s.price_cents)
            .push_bind(i64::from(released));
    });
}

fn booked_from_row(row: &SqliteRow) -> std::result::Result<BookedSeat, sqlx::Error> {
    Ok(BookedSeat {
        seat_id: row.try_get("seat_id")?,
        section: row.try_get("section")?,
        row: row.try_get("row_label")?,
        number: row.try_get("seat_label")?,
        price_cents: row.try_get("price_cents")?,
    })
}

/// The seats of these bookings, each booking's in its own order (one query for a whole page).
pub(crate) async fn booked_of(
    exec: impl SqliteExecutor<'_>,
    booking_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<BookedSeat>>> {
    let mut out: HashMap<Uuid, Vec<BookedSeat>> = HashMap::new();
    if booking_ids.is_empty() {
        return Ok(out);
    }
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT booking_id, seat_id, section, row_label, seat_label, price_cents FROM booked_seats WHERE booking_id IN (",
    );
    let mut list = sql.separated(", ");
    for id in booking_ids {
        list.push_bind(*id);
    }
    sql.push(") ORDER BY booking_id, item");
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    for row in &rows {
        let booking: Uuid = row.try_get("booking_id").map_err(storage)?;
        out.entry(booking)
            .or_default()
            .push(booked_from_row(row).map_err(storage)?);
    }
    Ok(out)
}

/// Voids a cancelled booking's tickets (its seats are for sale again).
pub(crate) async fn release_booked(exec: impl SqliteExecutor<'_>, booking_id: Uuid) -> Result<()> {
    sqlx::query("UPDATE booked_seats SET released = 1 WHERE booking_id = ?")
        .bind(booking_id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

/// A booked seat with what a ticket needs: its booking's status, its show and its admission.
#[derive(Clone, Debug)]
pub(crate) struct TicketRow {
    pub(crate) ticket_id: Uuid,
    pub(crate) booking_id: Uuid,
    pub(crate) show_id: Uuid,
    pub(crate) show_title: String,
    pub(crate) seat: BookedSeat,
    pub(crate) released: bool,
    pub(crate) booking_status: String,
    pub(crate) admitted_at: Option<Timestamp>,
}

const TICKET_COLUMNS: &str = "SELECT t.ticket_id, t.booking_id, t.show_id, s.title, t.seat_id, t.section, t.row_label, \
     t.seat_label, t.price_cents, t.released, b.status, t.admitted_at \
     FROM booked_seats t JOIN bookings b ON b.id = t.booking_id JOIN shows s ON s.id = t.show_id";

fn ticket_from_row(row: &SqliteRow) -> Result<TicketRow> {
    let read = || -> std::result::Result<TicketRow, sqlx::Error> {
        let released: i64 = row.try_get("released")?;
        Ok(TicketRow {
            ticket_id: row.try_get("ticket_id")?,
            booking_id: row.try_get("booking_id")?,
            show_id: row.try_get("show_id")?,
            show_title: row.try_get("title")?,
            seat: booked_from_row(row)?,
            released: released == 1,
            booking_status: row.try_get("status")?,
            admitted_at: row.try_get("admitted_at")?,
        })
    };
    read().map_err(storage)
}

/// A booking's tickets, in order.
pub(crate) async fn tickets_of(
    exec: impl SqliteExecutor<'_>,
    booking_id: Uuid,
) -> Result<Vec<TicketRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{TICKET_COLUMNS} WHERE t.booking_id = ? ORDER BY t.item"
    )))
    .bind(booking_id)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter().map(ticket_from_row).collect()
}

/// One ticket.
pub(crate) async fn ticket(
    exec: impl SqliteExecutor<'_>,
    ticket_id: Uuid,
) -> Result<Option<TicketRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{TICKET_COLUMNS} WHERE t.ticket_id = ?"
    )))
    .bind(ticket_id)
    .fetch_optional(exec)
    .await
    .map_err(storage)?;
    row.as_ref().map(ticket_from_row).transpose()
}

/// Admits a ticket not admitted yet; false when it was (one statement: two doors scanning the
/// same ticket at once admit it once).
pub(crate) async fn admit(
    exec: impl SqliteExecutor<'_>,
    ticket_id: Uuid,
    by: Uuid,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE booked_seats SET admitted_at = ?, admitted_by = ? WHERE ticket_id = ? AND admitted_at IS NULL AND released = 0",
    )
    .bind(now)
    .bind(by)
    .bind(ticket_id)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(done.rows_affected() == 1)
}

/// How many of a booking's tickets were admitted at the door.
pub(crate) async fn admitted_count(exec: impl SqliteExecutor<'_>, booking_id: Uuid) -> Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM booked_seats WHERE booking_id = ? AND admitted_at IS NOT NULL",
    )
    .bind(booking_id)
    .fetch_one(exec)
    .await
    .map_err(storage)
}

/// The tickets admitted at a show's door, latest first.
pub(crate) async fn admissions(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
    limit: u32,
) -> Result<Vec<TicketRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{TICKET_COLUMNS} WHERE t.show_id = ? AND t.admitted_at IS NOT NULL ORDER BY t.admitted_at DESC LIMIT ?"
    )))
    .bind(show_id)
    .bind(i64::from(limit))
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter().map(ticket_from_row).collect()
}

/// The key ticket codes are signed with, once made.
pub(crate) async fn ticket_key(exec: impl SqliteExecutor<'_>) -> Result<Option<[u8; 32]>> {
    let key: Option<Vec<u8>> = sqlx::query_scalar("SELECT secret FROM ticket_keys WHERE id = 1")
        .fetch_optional(exec)
        .await
        .map_err(storage)?;
    Ok(key.and_then(|k| k.try_into().ok()))
}

/// Stores `fresh` as the key unless one is stored already; returns the key in force.
pub(crate) async fn keep_ticket_key(
    conn: &mut SqliteConnection,
    fresh: &[u8; 32],
    now: Timestamp,
) -> Result<[u8; 32]> {
    sqlx::query("INSERT INTO ticket_keys (id, secret, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING")
        .bind(&fresh[..])
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    ticket_key(&mut *conn)
        .await?
        .ok_or_else(|| storage(sqlx::Error::RowNotFound))
}

/// Bookings from before seat plans (they have no booked seats yet), by id after `after`:
/// (id, show, seats, amount, status), at most `limit`.
pub(crate) async fn bookings_without_seats(
    conn: &mut SqliteConnection,
    after: Uuid,
    limit: i64,
) -> Result<Vec<(Uuid, Uuid, i64, i64, String)>> {
    sqlx::query_as(
        "SELECT b.id, b.show_id, b.seats, b.amount_cents, b.status FROM bookings b WHERE b.id > ? \
         AND NOT EXISTS (SELECT 1 FROM booked_seats t WHERE t.booking_id = b.id) ORDER BY b.id LIMIT ?",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
    .map_err(storage)
}
