//! The bookings module's SQL: shows, bookings, saga state and steps, and the email copies here;
//! venues in `store/venues.rs`, seats and tickets in `store/seats.rs`. The only code that names
//! its tables.

mod seats;
mod venues;

pub(crate) use seats::{
    SeatRow, SectionRow, TicketRow, admissions, admit, admitted_count, booked_of,
    bookings_without_seats, free_places, free_seat_count, hold_seats, insert_booked,
    insert_sections, insert_show_seats, keep_ticket_key, release_booked, release_show_seats,
    row_bounds, seat_map, seat_rows, seat_rows_at, sections, set_section_price, ticket, ticket_key,
    tickets_of,
};
pub(crate) use venues::{insert_venue, list_venues, update_venue, venue, venue_named, venue_view};

use bookings_api::{
    Booking, BookingFilter, BookingStatus, BookingsError, CancelReason, SagaState, SagaStep,
    SeatingKind, Show, ShowFilter, ShowStatus,
};
use kernel::{Cursor, Order, Timestamp, Zone};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqliteExecutor, sqlite::SqliteRow};
use uuid::Uuid;

/// A driver error as the module's error.
pub(crate) fn storage(e: sqlx::Error) -> BookingsError {
    BookingsError::Storage(kernel::Error::db(bookings_api::STREAM)(e))
}

type Result<T> = std::result::Result<T, BookingsError>;

const SHOW_COLUMNS: &str = "SELECT id, title, venue, venue_id, time_zone, seated, starts_at, capacity, seats_taken, \
     price_cents, currency, status, created_at, updated_at FROM shows";

/// The zone a show's times are read in (UTC should a stored name ever not parse).
pub(crate) fn zone_of(name: &str) -> Zone {
    Zone::parse(name).unwrap_or_else(|_| Zone::utc())
}

fn show_from_row(row: &SqliteRow) -> Result<Show> {
    let read = || -> std::result::Result<Show, sqlx::Error> {
        let capacity: i64 = row.try_get("capacity")?;
        let seats_taken: i64 = row.try_get("seats_taken")?;
        let status: String = row.try_get("status")?;
        let time_zone: String = row.try_get("time_zone")?;
        let starts_at: Timestamp = row.try_get("starts_at")?;
        let seated: i64 = row.try_get("seated")?;
        Ok(Show {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            venue: row.try_get("venue")?,
            venue_id: row.try_get("venue_id")?,
            starts_at_local: zone_of(&time_zone).rfc3339(starts_at),
            time_zone,
            starts_at,
            seating: if seated == 1 {
                SeatingKind::Reserved
            } else {
                SeatingKind::GeneralAdmission
            },
            capacity,
            seats_taken,
            seats_available: if status == "scheduled" {
                capacity - seats_taken
            } else {
                0
            },
            price_cents: row.try_get("price_cents")?,
            currency: row.try_get("currency")?,
            status: if status == "cancelled" {
                ShowStatus::Cancelled
            } else {
                ShowStatus::Scheduled
            },
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    };
    read().map_err(storage)
}

pub(crate) async fn insert_show(exec: impl SqliteExecutor<'_>, s: &Show) -> Result<()> {
    sqlx::query(
        "INSERT INTO shows (id, title, venue, venue_id, time_zone, seated, starts_at, capacity, seats_taken, price_cents, \
         currency, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 'scheduled', ?, ?)",
    )
    .bind(s.id)
    .bind(&s.title)
    .bind(&s.venue)
    .bind(s.venue_id)
    .bind(&s.time_zone)
    .bind(i64::from(s.seating == SeatingKind::Reserved))
    .bind(s.starts_at)
    .bind(s.capacity)
    .bind(s.price_cents)
    .bind(&s.currency)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

pub(crate) async fn show(exec: impl SqliteExecutor<'_>, id: Uuid) -> Result<Option<Show>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SHOW_COLUMNS} WHERE id = ?")))
        .bind(id)
        .fetch_optional(exec)
        .await
        .map_err(storage)?;
    row.as_ref().map(show_from_row).transpose()
}

/// The shows with these ids (one query, whatever their number).
pub(crate) async fn shows_by_ids(exec: impl SqliteExecutor<'_>, ids: &[Uuid]) -> Result<Vec<Show>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(SHOW_COLUMNS);
    sql.push(" WHERE id IN (");
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    sql.push(")");
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    rows.iter().map(show_from_row).collect()
}

/// Shows by start time; only upcoming scheduled ones unless `all`, narrowed by the filter's
/// dates, venue and list of ids.
pub(crate) async fn list_shows(
    exec: impl SqliteExecutor<'_>,
    filter: &ShowFilter,
    now: Timestamp,
) -> Result<Vec<Show>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(SHOW_COLUMNS);
    sql.push(" WHERE 1 = 1");
    if !filter.all {
        sql.push(" AND status = 'scheduled' AND starts_at > ")
            .push_bind(now);
    }
    if let Some(from) = filter.from {
        sql.push(" AND starts_at >= ").push_bind(from);
    }
    if let Some(until) = filter.until {
        sql.push(" AND starts_at < ").push_bind(until);
    }
    if let Some(venue) = filter.venue.as_deref().filter(|v| !v.is_empty()) {
        // `instr` on text lower-cased as SQLite does it (ASCII letters): no pattern characters to escape, unlike LIKE.
        sql.push(" AND instr(lower(venue), ")
            .push_bind(venue.to_ascii_lowercase())
            .push(") > 0");
    }
    if let Some(only) = &filter.only {
        if only.is_empty() {
            return Ok(Vec::new());
        }
        sql.push(" AND id IN (");
        let mut list = sql.separated(", ");
        for id in only.iter().take(500) {
            list.push_bind(*id);
        }
        sql.push(")");
    }
    Cursor::push_page(
        &mut sql,
        ("starts_at", "id"),
        Order::Ascending,
        filter.cursor,
        filter.limit,
    );
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    rows.iter().map(show_from_row).collect()
}

/// The shows at a venue that are still scheduled.
pub(crate) async fn scheduled_shows_at(
    exec: impl SqliteExecutor<'_>,
    venue_id: Uuid,
) -> Result<Vec<Show>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SHOW_COLUMNS} WHERE venue_id = ? AND status = 'scheduled'"
    )))
    .bind(venue_id)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter().map(show_from_row).collect()
}

pub(crate) async fn update_show(exec: impl SqliteExecutor<'_>, s: &Show) -> Result<()> {
    sqlx::query(
        "UPDATE shows SET title = ?, venue = ?, time_zone = ?, starts_at = ?, capacity = ?, price_cents = ?, status = ?, \
         updated_at = ? WHERE id = ?",
    )
    .bind(&s.title)
    .bind(&s.venue)
    .bind(&s.time_zone)
    .bind(s.starts_at)
    .bind(s.capacity)
    .bind(s.price_cents)
    .bind(match s.status {
        ShowStatus::Scheduled => "scheduled",
        ShowStatus::Cancelled => "cancelled",
    })
    .bind(s.updated_at)
    .bind(s.id)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

/// Takes `seats` of a scheduled, future show if that many are left, and returns the show as it
/// now is; `None` when it could not (the caller reads the show to say why). One statement, so two
/// bookings can never both take the last seats.
pub(crate) async fn reserve_seats(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
    seats: i64,
    now: Timestamp,
) -> Result<Option<Show>> {
    let row = sqlx::query(
        "UPDATE shows SET seats_taken = seats_taken + ?, updated_at = ? \
         WHERE id = ? AND status = 'scheduled' AND starts_at > ? AND seats_taken + ? <= capacity \
         RETURNING id, title, venue, venue_id, time_zone, seated, starts_at, capacity, seats_taken, price_cents, currency, \
         status, created_at, updated_at",
    )
    .bind(seats)
    .bind(now)
    .bind(show_id)
    .bind(now)
    .bind(seats)
    .fetch_optional(exec)
    .await
    .map_err(storage)?;
    row.as_ref().map(show_from_row).transpose()
}

pub(crate) async fn release_seats(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
    seats: i64,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE shows SET seats_taken = seats_taken - ?, updated_at = ? WHERE id = ?")
        .bind(seats)
        .bind(now)
        .bind(show_id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

/// A booking with the columns only this module sees.
#[derive(Clone, Debug)]
pub(crate) struct BookingRow {
    pub(crate) booking: Booking,
    pub(crate) user_email_version: i64,
    pub(crate) payment_id: Option<Uuid>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) request_fingerprint: Option<Vec<u8>>,
    pub(crate) correlation_id: Uuid,
    pub(crate) placed_event_id: Uuid,
}

const BOOKING_COLUMNS: &str = "SELECT id, user_id, user_email, user_email_version, show_id, seats, amount_cents, currency, \
     status, cancel_reason, payment_method, card_brand, card_last4, payment_id, idempotency_key, request_fingerprint, \
     correlation_id, placed_event_id, created_at, updated_at FROM bookings";

fn booking_from_row(row: &SqliteRow) -> Result<BookingRow> {
    let read = || -> std::result::Result<BookingRow, sqlx::Error> {
        let status: String = row.try_get("status")?;
        let reason: Option<String> = row.try_get("cancel_reason")?;
        Ok(BookingRow {
            booking: Booking {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                user_email: row.try_get("user_email")?,
                show_id: row.try_get("show_id")?,
                seats: row.try_get("seats")?,
                // Filled by the facade from `booked_seats` (one query per page of bookings).
                booked_seats: Vec::new(),
                amount_cents: row.try_get("amount_cents")?,
                currency: row.try_get("currency")?,
                status: BookingStatus::parse(&status).unwrap_or(BookingStatus::Pending),
                cancel_reason: reason.as_deref().and_then(CancelReason::parse),
                payment_method: row.try_get("payment_method")?,
                card_brand: row.try_get("card_brand")?,
                card_last4: row.try_get("card_last4")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            },
            user_email_version: row.try_get("user_email_version")?,
            payment_id: row.try_get("payment_id")?,
            idempotency_key: row.try_get("idempotency_key")?,
            request_fingerprint: row.try_get("request_fingerprint")?,
            correlation_id: row.try_get("correlation_id")?,
            placed_event_id: row.try_get("placed_event_id")?,
        })
    };
    read().map_err(storage)
}

/// Records a booking just placed, in one round trip: the booking, its saga (awaiting payment
/// until `deadline_at`), the saga's first step and the booking's seats (or admissions), one
/// ticket each.
pub(crate) async fn record_placed(
    conn: &mut SqliteConnection,
    r: &BookingRow,
    deadline_at: Timestamp,
    step: NewStep<'_>,
) -> Result<()> {
    let b = &r.booking;
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO bookings (id, user_id, user_email, user_email_version, show_id, seats, amount_cents, currency, status, \
         cancel_reason, payment_method, card_brand, card_last4, payment_id, idempotency_key, request_fingerprint, \
         correlation_id, placed_event_id, created_at, updated_at) ",
    );
    sql.push_values([b], |mut v, b| {
        v.push_bind(b.id)
            .push_bind(b.user_id)
            .push_bind(b.user_email.clone())
            .push_bind(r.user_email_version)
            .push_bind(b.show_id)
            .push_bind(b.seats)
            .push_bind(b.amount_cents)
            .push_bind(b.currency.clone())
            .push_bind(b.status.as_str())
            .push_bind(b.cancel_reason.map(CancelReason::as_str))
            .push_bind(b.payment_method.clone())
            .push_bind(b.card_brand.clone())
            .push_bind(b.card_last4.clone())
            .push_bind(r.payment_id)
            .push_bind(r.idempotency_key.clone())
            .push_bind(r.request_fingerprint.clone())
            .push_bind(r.correlation_id)
            .push_bind(r.placed_event_id)
            .push_bind(b.created_at)
            .push_bind(b.updated_at);
    });
    sql.push("; INSERT INTO sagas (booking_id, state, deadline_at, updated_at) VALUES (")
        .push_bind(b.id)
        .push(", 'awaiting_payment', ")
        .push_bind(deadline_at)
        .push(", ")
        .push_bind(b.created_at)
        .push("); INSERT INTO saga_steps (booking_id, step, at, action, event_type, event_id, outcome, detail) ");
    sql.push_values([step], |mut v, step| {
        v.push_bind(b.id)
            .push("1")
            .push_bind(b.created_at)
            .push_bind(step.action)
            .push_bind(step.event_type)
            .push_bind(step.event_id)
            .push_bind(step.outcome)
            .push_bind(step.detail);
    });
    if !b.booked_seats.is_empty() {
        sql.push("; ");
        seats::push_booked(&mut sql, b.id, b.show_id, &b.booked_seats, 0, false);
    }
    sql.build().execute(&mut *conn).await.map_err(storage)?;
    Ok(())
}

pub(crate) async fn booking(exec: impl SqliteExecutor<'_>, id: Uuid) -> Result<Option<BookingRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{BOOKING_COLUMNS} WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(exec)
    .await
    .map_err(storage)?;
    row.as_ref().map(booking_from_row).transpose()
}

pub(crate) async fn booking_by_key(
    exec: impl SqliteExecutor<'_>,
    user_id: Uuid,
    key: &str,
) -> Result<Option<BookingRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{BOOKING_COLUMNS} WHERE user_id = ? AND idempotency_key = ?"
    )))
    .bind(user_id)
    .bind(key)
    .fetch_optional(exec)
    .await
    .map_err(storage)?;
    row.as_ref().map(booking_from_row).transpose()
}

/// A page of bookings, newest first. Each filter has an index that ends in (created_at, id).
pub(crate) async fn list_bookings(
    exec: impl SqliteExecutor<'_>,
    filter: &BookingFilter,
) -> Result<Vec<BookingRow>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(BOOKING_COLUMNS);
    sql.push(" WHERE 1 = 1");
    if let Some(u) = filter.user_id {
        sql.push(" AND user_id = ").push_bind(u);
    }
    if let Some(s) = filter.show_id {
        sql.push(" AND show_id = ").push_bind(s);
    }
    if let Some(st) = filter.status {
        sql.push(" AND status = ").push_bind(st.as_str());
    }
    if let Some(from) = filter.from {
        sql.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        sql.push(" AND created_at < ").push_bind(to);
    }
    Cursor::push_page(
        &mut sql,
        ("created_at", "id"),
        Order::Descending,
        filter.cursor,
        filter.limit,
    );
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    rows.iter().map(booking_from_row).collect()
}

/// Pending and confirmed bookings of a show.
pub(crate) async fn active_bookings_of_show(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
) -> Result<Vec<BookingRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{BOOKING_COLUMNS} WHERE show_id = ? AND status IN ('pending', 'confirmed')"
    )))
    .bind(show_id)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter().map(booking_from_row).collect()
}

pub(crate) async fn set_booking_status(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
    status: BookingStatus,
    reason: Option<CancelReason>,
    payment_id: Option<Uuid>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE bookings SET status = ?, cancel_reason = COALESCE(?, cancel_reason), payment_id = COALESCE(?, payment_id), \
         updated_at = ? WHERE id = ?",
    )
    .bind(status.as_str())
    .bind(reason.map(CancelReason::as_str))
    .bind(payment_id)
    .bind(now)
    .bind(id)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

/// The newest email the users module announced for a user, if any.
pub(crate) async fn email_copy(
    exec: impl SqliteExecutor<'_>,
    user_id: Uuid,
) -> Result<Option<(String, i64)>> {
    sqlx::query_as("SELECT email, email_version FROM user_email_copies WHERE user_id = ?")
        .bind(user_id)
        .fetch_optional(exec)
        .await
        .map_err(storage)
}

/// Records a user's new email and refreshes every booking holding an older copy.
pub(crate) async fn refresh_email(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    email: &str,
    version: i64,
) -> Result<u64> {
    sqlx::query(
        "INSERT INTO user_email_copies (user_id, email, email_version) VALUES (?, ?, ?) \
         ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, email_version = excluded.email_version \
         WHERE excluded.email_version > user_email_copies.email_version",
    )
    .bind(user_id)
    .bind(email)
    .bind(version)
    .execute(&mut *conn)
    .await
    .map_err(storage)?;
    let done = sqlx::query("UPDATE bookings SET user_email = ?, user_email_version = ? WHERE user_id = ? AND user_email_version < ?")
        .bind(email)
        .bind(version)
        .bind(user_id)
        .bind(version)
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    Ok(done.rows_affected())
}

/// A saga's row.
#[derive(Clone, Debug)]
pub(crate) struct SagaRow {
    pub(crate) state: SagaState,
    pub(crate) deadline_at: Timestamp,
    pub(crate) payment_id: Option<Uuid>,
}

pub(crate) async fn saga(
    exec: impl SqliteExecutor<'_>,
    booking_id: Uuid,
) -> Result<Option<SagaRow>> {
    let row: Option<(String, Timestamp, Option<Uuid>)> =
        sqlx::query_as("SELECT state, deadline_at, payment_id FROM sagas WHERE booking_id = ?")
            .bind(booking_id)
            .fetch_optional(exec)
            .await
            .map_err(storage)?;
    Ok(row.map(|(state, deadline_at, payment_id)| SagaRow {
        state: SagaState::parse(&state).unwrap_or(SagaState::AwaitingPayment),
        deadline_at,
        payment_id,
    }))
}

pub(crate) async fn set_saga(
    exec: impl SqliteExecutor<'_>,
    booking_id: Uuid,
    state: SagaState,
    payment_id: Option<Uuid>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE sagas SET state = ?, payment_id = COALESCE(?, payment_id), updated_at = ? WHERE booking_id = ?")
        .bind(state.as_str())
        .bind(payment_id)
        .bind(now)
        .bind(booking_id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

/// One line of a saga's timeline.
pub(crate) struct NewStep<'a> {
    pub(crate) action: &'a str,
    pub(crate) event_type: Option<&'a str>,
    pub(crate) event_id: Option<Uuid>,
    pub(crate) outcome: &'a str,
    pub(crate) detail: Option<String>,
}

/// The `INSERT` of `step` as the next line of a booking's timeline, added to `sql`.
fn push_step(sql: &mut QueryBuilder<Sqlite>, booking_id: Uuid, step: NewStep<'_>, now: Timestamp) {
    sql.push(
        "INSERT INTO saga_steps (booking_id, step, at, action, event_type, event_id, outcome, detail) VALUES (",
    )
    .push_bind(booking_id)
    .push(", (SELECT COALESCE(MAX(step), 0) + 1 FROM saga_steps WHERE booking_id = ")
    .push_bind(booking_id)
    .push("), ")
    .push_bind(now)
    .push(", ")
    .push_bind(step.action.to_owned())
    .push(", ")
    .push_bind(step.event_type.map(str::to_owned))
    .push(", ")
    .push_bind(step.event_id)
    .push(", ")
    .push_bind(step.outcome.to_owned())
    .push(", ")
    .push_bind(step.detail)
    .push(")");
}

/// Confirms a booking whose payment `payment_id` was captured, in one round trip: the capture
/// on the timeline, the booking and its saga confirmed, its seats sold, and the confirmation
/// (`confirmed`, naming the event emitted) on the timeline.
pub(crate) async fn record_confirmed(
    conn: &mut SqliteConnection,
    booking_id: Uuid,
    payment_id: Uuid,
    captured: NewStep<'_>,
    confirmed: NewStep<'_>,
    now: Timestamp,
) -> Result<()> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new("");
    push_step(&mut sql, booking_id, captured, now);
    sql.push("; UPDATE bookings SET status = 'confirmed', payment_id = ")
        .push_bind(payment_id)
        .push(", updated_at = ")
        .push_bind(now)
        .push(" WHERE id = ")
        .push_bind(booking_id)
        .push("; UPDATE sagas SET state = 'confirmed', payment_id = ")
        .push_bind(payment_id)
        .push(", updated_at = ")
        .push_bind(now)
        .push(" WHERE booking_id = ")
        .push_bind(booking_id)
        .push("; UPDATE show_seats SET status = 'sold' WHERE booking_id = ")
        .push_bind(booking_id)
        .push("; ");
    push_step(&mut sql, booking_id, confirmed, now);
    sql.build().execute(&mut *conn).await.map_err(storage)?;
    Ok(())
}

pub(crate) async fn add_step(
    conn: &mut SqliteConnection,
    booking_id: Uuid,
    step: NewStep<'_>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO saga_steps (booking_id, step, at, action, event_type, event_id, outcome, detail) \
         VALUES (?, (SELECT COALESCE(MAX(step), 0) + 1 FROM saga_steps WHERE booking_id = ?), ?, ?, ?, ?, ?, ?)",
    )
    .bind(booking_id)
    .bind(booking_id)
    .bind(now)
    .bind(step.action)
    .bind(step.event_type)
    .bind(step.event_id)
    .bind(step.outcome)
    .bind(step.detail)
    .execute(conn)
    .await
    .map_err(storage)?;
    Ok(())
}

pub(crate) async fn steps(
    exec: impl SqliteExecutor<'_>,
    booking_id: Uuid,
) -> Result<Vec<SagaStep>> {
    let rows = sqlx::query(
        "SELECT step, at, action, event_type, event_id, outcome, detail FROM saga_steps WHERE booking_id = ? ORDER BY step",
    )
    .bind(booking_id)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter()
        .map(|r| {
            let read = || -> std::result::Result<SagaStep, sqlx::Error> {
                Ok(SagaStep {
                    step: r.try_get("step")?,
                    at: r.try_get("at")?,
                    action: r.try_get("action")?,
                    event_type: r.try_get("event_type")?,
                    event_id: r.try_get("event_id")?,
                    outcome: r.try_get("outcome")?,
                    detail: r.try_get("detail")?,
                })
            };
            read().map_err(storage)
        })
        .collect()
}

/// Bookings still awaiting payment whose deadline has passed.
pub(crate) async fn due_sagas(
    exec: impl SqliteExecutor<'_>,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT booking_id FROM sagas WHERE state = 'awaiting_payment' AND deadline_at <= ? ORDER BY deadline_at LIMIT ?")
        .bind(now)
        .bind(limit)
        .fetch_all(exec)
        .await
        .map_err(storage)
}

/// True when the one-time upgrade step `name` has run on this data folder.
pub(crate) async fn upgrade_done(conn: &mut SqliteConnection, name: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM upgrades WHERE name = ?")
        .bind(name)
        .fetch_optional(conn)
        .await
        .map_err(storage)?;
    Ok(found.is_some())
}

/// Records that the upgrade step `name` ran (in the transaction that did its work).
pub(crate) async fn mark_upgrade_done(
    conn: &mut SqliteConnection,
    name: &str,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("INSERT INTO upgrades (name, done_at) VALUES (?, ?)")
        .bind(name)
        .bind(at)
        .execute(conn)
        .await
        .map_err(storage)?;
    Ok(())
}

/// Sagas that may still need something from payments: waiting for their payment, waiting for a
/// refund, or cancelled without payments ever answering (its charge may still be pending).
pub(crate) async fn sagas_awaiting_payments(
    conn: &mut SqliteConnection,
) -> Result<Vec<(Uuid, SagaState)>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT s.booking_id, s.state FROM sagas s \
         WHERE s.state IN ('awaiting_payment', 'refund_pending') \
            OR (s.state = 'cancelled' AND NOT EXISTS ( \
                SELECT 1 FROM saga_steps t WHERE t.booking_id = s.booking_id \
                AND t.event_type IN ('PaymentDeclined', 'PaymentVoided', 'PaymentRefunded'))) \
         ORDER BY s.booking_id",
    )
    .fetch_all(conn)
    .await
    .map_err(storage)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, state)| SagaState::parse(&state).map(|s| (id, s)))
        .collect())
}

/// The payload and version of this module's outbox event `event_id` (the `BookingPlaced` a
/// booking row names).
pub(crate) async fn own_event_payload(
    conn: &mut SqliteConnection,
    event_id: Uuid,
) -> Result<Option<(String, i64)>> {
    sqlx::query_as("SELECT payload, event_version FROM outbox WHERE event_id = ?")
        .bind(event_id)
        .fetch_optional(conn)
        .await
        .map_err(storage)
}
