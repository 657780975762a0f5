//! Venues: their names, time zones and seating plans (a plan is stored whole, as JSON: it is
//! read and replaced whole, and shows copy it into their own seats when they are scheduled).

use bookings_api::{
    BookingsError, Seating, SeatingKind, SeatingPlan, Venue, VenueRow, VenueSection,
};
use kernel::{Cursor, Order, PageRequest, Timestamp};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteExecutor, sqlite::SqliteRow};
use uuid::Uuid;

use super::storage;

type Result<T> = std::result::Result<T, BookingsError>;

const VENUE_COLUMNS: &str =
    "SELECT id, name, time_zone, capacity, plan, created_at, updated_at FROM venues";

/// The public face of a seating.
fn sections_of(seating: &Seating) -> Vec<VenueSection> {
    let Seating::Reserved { plan } = seating else {
        return Vec::new();
    };
    plan.sections()
        .iter()
        .map(|s| VenueSection {
            name: s.name.as_str().to_owned(),
            price_cents: s.price.cents(),
            rows: s
                .rows
                .iter()
                .map(|r| VenueRow {
                    label: r.label.as_str().to_owned(),
                    seats: r
                        .seats
                        .iter()
                        .map(|s| s.label.as_str().to_owned())
                        .collect(),
                    unavailable: r
                        .seats
                        .iter()
                        .filter(|s| !s.available)
                        .map(|s| s.label.as_str().to_owned())
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// A venue as the module keeps it: its public face and its seating.
pub(crate) fn venue_view(
    id: Uuid,
    name: String,
    time_zone: String,
    seating: &Seating,
    created_at: Timestamp,
    updated_at: Timestamp,
) -> Venue {
    Venue {
        id,
        name,
        time_zone,
        seating: match seating {
            Seating::GeneralAdmission { .. } => SeatingKind::GeneralAdmission,
            Seating::Reserved { .. } => SeatingKind::Reserved,
        },
        capacity: seating.capacity(),
        sections: sections_of(seating),
        created_at,
        updated_at,
    }
}

fn venue_from_row(row: &SqliteRow) -> Result<(Venue, Seating)> {
    let read = || -> std::result::Result<(Venue, Seating), sqlx::Error> {
        let plan: Option<String> = row.try_get("plan")?;
        let capacity: i64 = row.try_get("capacity")?;
        let seating = match plan {
            None => Seating::GeneralAdmission {
                capacity: bookings_api::Capacity::new(capacity)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?,
            },
            Some(json) => Seating::Reserved {
                plan: serde_json::from_str::<SeatingPlan>(&json)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?,
            },
        };
        let venue = venue_view(
            row.try_get("id")?,
            row.try_get("name")?,
            row.try_get("time_zone")?,
            &seating,
            row.try_get("created_at")?,
            row.try_get("updated_at")?,
        );
        Ok((venue, seating))
    };
    read().map_err(storage)
}

fn plan_json(seating: &Seating) -> Result<Option<String>> {
    match seating {
        Seating::GeneralAdmission { .. } => Ok(None),
        Seating::Reserved { plan } => serde_json::to_string(plan)
            .map(Some)
            .map_err(|e| BookingsError::Storage(kernel::Error::Serialization(e))),
    }
}

pub(crate) async fn insert_venue(
    exec: impl SqliteExecutor<'_>,
    v: &Venue,
    seating: &Seating,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO venues (id, name, name_key, time_zone, capacity, plan, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(v.id)
    .bind(&v.name)
    .bind(name_key(&v.name))
    .bind(&v.time_zone)
    .bind(v.capacity)
    .bind(plan_json(seating)?)
    .bind(v.created_at)
    .bind(v.updated_at)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

pub(crate) async fn update_venue(
    exec: impl SqliteExecutor<'_>,
    v: &Venue,
    seating: &Seating,
) -> Result<()> {
    sqlx::query(
        "UPDATE venues SET name = ?, name_key = ?, time_zone = ?, capacity = ?, plan = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&v.name)
    .bind(name_key(&v.name))
    .bind(&v.time_zone)
    .bind(v.capacity)
    .bind(plan_json(seating)?)
    .bind(v.updated_at)
    .bind(v.id)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

/// One venue and its seating.
pub(crate) async fn venue(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<(Venue, Seating)>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{VENUE_COLUMNS} WHERE id = ?")))
        .bind(id)
        .fetch_optional(exec)
        .await
        .map_err(storage)?;
    row.as_ref().map(venue_from_row).transpose()
}

/// A venue's name as venue names are told apart: in lower case, whatever the alphabet.
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// The id of the venue called `name` (in any letter case), if any.
pub(crate) async fn venue_named(exec: impl SqliteExecutor<'_>, name: &str) -> Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT id FROM venues WHERE name_key = ?")
        .bind(name_key(name))
        .fetch_optional(exec)
        .await
        .map_err(storage)
}

/// A page of venues, oldest first.
pub(crate) async fn list_venues(
    exec: impl SqliteExecutor<'_>,
    page: PageRequest,
) -> Result<Vec<Venue>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(VENUE_COLUMNS);
    sql.push(" WHERE 1 = 1");
    Cursor::push_page(
        &mut sql,
        ("created_at", "id"),
        Order::Ascending,
        page.cursor,
        page.limit,
    );
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    rows.iter()
        .map(|r| venue_from_row(r).map(|(v, _)| v))
        .collect()
}
