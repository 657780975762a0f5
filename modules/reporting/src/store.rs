//! The reporting module's SQL besides the feed projection: show and customer details, the read
//! queries behind the dashboard, the feed and search, and clearing everything for a rebuild.

use kernel::{Cursor, Order, Timestamp};
use reporting_api::{
    BookingCounts, CurrencyTotals, CustomerSummary, FeedFilter, FeedItem, ReportingError, ShowHit,
    ShowSales, TimeBucket,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqliteExecutor, sqlite::SqliteRow};
use uuid::Uuid;

use crate::projection::{FeedRow, feed_from_row, storage};

type Result<T> = std::result::Result<T, ReportingError>;

/// A customer's copied name and email.
pub(crate) async fn customer_details(
    exec: impl SqliteExecutor<'_>,
    user_id: Uuid,
) -> Result<(Option<String>, Option<String>)> {
    let row: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT name, email FROM customers WHERE user_id = ?")
            .bind(user_id)
            .fetch_optional(exec)
            .await
            .map_err(storage)?;
    Ok(row.unwrap_or((None, None)))
}

/// Records a customer's name and/or email.
pub(crate) async fn set_customer(
    exec: impl SqliteExecutor<'_>,
    user_id: Uuid,
    name: Option<&str>,
    email: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO customers (user_id, name, email) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET \
         name = COALESCE(excluded.name, name), email = COALESCE(excluded.email, email)",
    )
    .bind(user_id)
    .bind(name)
    .bind(email)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

/// A show's details as its events give them.
pub(crate) struct ShowDetails<'a> {
    pub(crate) show_id: Uuid,
    pub(crate) title: &'a str,
    pub(crate) venue: &'a str,
    pub(crate) time_zone: &'a str,
    pub(crate) starts_at: Timestamp,
    pub(crate) capacity: i64,
    /// Absent from updates: a show keeps its currency.
    pub(crate) currency: Option<&'a str>,
}

/// Records a show's details (and its search entry).
pub(crate) async fn upsert_show(conn: &mut SqliteConnection, show: ShowDetails<'_>) -> Result<()> {
    let ShowDetails {
        show_id,
        title,
        venue,
        time_zone,
        starts_at,
        capacity,
        currency,
    } = show;
    let rowid: i64 = sqlx::query_scalar(
        "INSERT INTO show_sales (show_id, title, venue, time_zone, starts_at, status, capacity, currency) \
         VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?) \
         ON CONFLICT (show_id) DO UPDATE SET title = excluded.title, venue = excluded.venue, time_zone = excluded.time_zone, \
         starts_at = excluded.starts_at, capacity = excluded.capacity RETURNING rowid",
    )
    .bind(show_id)
    .bind(title)
    .bind(venue)
    .bind(time_zone)
    .bind(starts_at)
    .bind(capacity)
    .bind(currency.unwrap_or("EUR"))
    .fetch_one(&mut *conn)
    .await
    .map_err(storage)?;
    sqlx::query("DELETE FROM show_search WHERE rowid = ?")
        .bind(rowid)
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    sqlx::query("INSERT INTO show_search (rowid, title, venue) VALUES (?, ?, ?)")
        .bind(rowid)
        .bind(title)
        .bind(venue)
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    Ok(())
}

/// One more ticket of the show admitted at the door.
pub(crate) async fn count_admission(exec: impl SqliteExecutor<'_>, show_id: Uuid) -> Result<()> {
    sqlx::query("UPDATE show_sales SET admitted = admitted + 1 WHERE show_id = ?")
        .bind(show_id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

pub(crate) async fn cancel_show(exec: impl SqliteExecutor<'_>, show_id: Uuid) -> Result<()> {
    sqlx::query("UPDATE show_sales SET status = 'cancelled' WHERE show_id = ?")
        .bind(show_id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

/// A show's title, start and time zone, as copied.
pub(crate) async fn show_details(
    exec: impl SqliteExecutor<'_>,
    show_id: Uuid,
) -> Result<Option<(String, Timestamp, String)>> {
    sqlx::query_as("SELECT title, starts_at, time_zone FROM show_sales WHERE show_id = ?")
        .bind(show_id)
        .fetch_optional(exec)
        .await
        .map_err(storage)
}

/// Empties every view (inside a rebuild's transaction).
pub(crate) async fn clear(conn: &mut SqliteConnection) -> Result<()> {
    sqlx::query(
        "DELETE FROM feed; DELETE FROM feed_search; DELETE FROM show_sales; DELETE FROM show_search; \
         DELETE FROM customers; DELETE FROM totals; DELETE FROM timeline",
    )
    .execute(conn)
    .await
    .map_err(storage)?;
    Ok(())
}

/// Booking counts, seats sold, money and confirmation time.
pub(crate) async fn totals(
    exec: impl SqliteExecutor<'_>,
) -> Result<(BookingCounts, i64, Vec<CurrencyTotals>, Option<f64>)> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT name, currency, value FROM totals")
            .fetch_all(exec)
            .await
            .map_err(storage)?;
    let get = |name: &str| {
        rows.iter()
            .find(|(n, c, _)| n == name && c.is_empty())
            .map_or(0, |r| r.2)
    };
    let counts = BookingCounts {
        pending: get("bookings_pending"),
        confirmed: get("bookings_confirmed"),
        cancelled: get("bookings_cancelled"),
        total: get("bookings_pending") + get("bookings_confirmed") + get("bookings_cancelled"),
    };
    let mut money: Vec<CurrencyTotals> = Vec::new();
    for (name, currency, value) in rows.iter().filter(|(_, c, _)| !c.is_empty()) {
        let entry = match money.iter_mut().position(|m| &m.currency == currency) {
            Some(i) => &mut money[i],
            None => {
                money.push(CurrencyTotals {
                    currency: currency.clone(),
                    ..CurrencyTotals::default()
                });
                money.last_mut().expect("just pushed")
            }
        };
        match name.as_str() {
            "revenue" => entry.revenue_cents += value,
            "refunds" => entry.refunds_cents += value,
            _ => {}
        }
    }
    money.sort_by(|a, b| a.currency.cmp(&b.currency));
    let count = get("confirm_count");
    let avg = (count > 0).then(|| get("confirm_ms_sum") as f64 / count as f64);
    Ok((counts, get("seats_sold"), money, avg))
}

fn sales_from_row(r: &SqliteRow) -> Result<ShowSales> {
    let read = || -> std::result::Result<ShowSales, sqlx::Error> {
        let capacity: i64 = r.try_get("capacity")?;
        let sold: i64 = r.try_get("seats_sold")?;
        let held: i64 = r.try_get("seats_held")?;
        Ok(ShowSales {
            show_id: r.try_get("show_id")?,
            title: r.try_get("title")?,
            venue: r.try_get("venue")?,
            time_zone: r.try_get("time_zone")?,
            starts_at: r.try_get("starts_at")?,
            status: r.try_get("status")?,
            capacity,
            seats_sold: sold,
            seats_held: held,
            seats_left: (capacity - sold - held).max(0),
            admitted: r.try_get("admitted")?,
            bookings: r.try_get("bookings")?,
            revenue_cents: r.try_get("revenue_cents")?,
            refunds_cents: r.try_get("refunds_cents")?,
            currency: r.try_get("currency")?,
        })
    };
    read().map_err(storage)
}

const SALES_COLUMNS: &str = "SELECT show_id, title, venue, time_zone, starts_at, status, capacity, seats_sold, seats_held, admitted, \
     bookings, revenue_cents, refunds_cents, currency FROM show_sales";

/// Shows with the most seats sold.
pub(crate) async fn top_shows(exec: impl SqliteExecutor<'_>, limit: i64) -> Result<Vec<ShowSales>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SALES_COLUMNS} ORDER BY seats_sold DESC, starts_at LIMIT ?"
    )))
    .bind(limit)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter().map(sales_from_row).collect()
}

/// Every show's sales, soonest first.
pub(crate) async fn all_sales(exec: impl SqliteExecutor<'_>) -> Result<Vec<ShowSales>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SALES_COLUMNS} ORDER BY starts_at, show_id LIMIT 1000"
    )))
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter().map(sales_from_row).collect()
}

/// The latest hours with bookings, oldest first.
pub(crate) async fn timeline(exec: impl SqliteExecutor<'_>, hours: i64) -> Result<Vec<TimeBucket>> {
    let mut rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT bucket, placed, confirmed, cancelled FROM timeline ORDER BY bucket DESC LIMIT ?",
    )
    .bind(hours)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.reverse();
    Ok(rows
        .into_iter()
        .map(|(b, placed, confirmed, cancelled)| TimeBucket {
            start: Timestamp::from_micros(b),
            placed,
            confirmed,
            cancelled,
        })
        .collect())
}

/// A customer's totals.
pub(crate) async fn customer(
    exec: impl SqliteExecutor<'_>,
    user_id: Uuid,
) -> Result<CustomerSummary> {
    let row = sqlx::query(
        "SELECT user_id, name, email, bookings, confirmed, cancelled, spent_cents, refunds_cents FROM customers WHERE user_id = ?",
    )
    .bind(user_id)
    .fetch_optional(exec)
    .await
    .map_err(storage)?;
    let Some(r) = row else {
        return Ok(CustomerSummary {
            user_id,
            ..CustomerSummary::default()
        });
    };
    let read = || -> std::result::Result<CustomerSummary, sqlx::Error> {
        Ok(CustomerSummary {
            user_id,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            bookings: r.try_get("bookings")?,
            confirmed: r.try_get("confirmed")?,
            cancelled: r.try_get("cancelled")?,
            spent_cents: r.try_get("spent_cents")?,
            refunds_cents: r.try_get("refunds_cents")?,
        })
    };
    read().map_err(storage)
}

pub(crate) fn feed_item(r: FeedRow) -> FeedItem {
    FeedItem {
        booking_id: r.booking_id,
        show_id: r.show_id,
        show_title: r.show_title,
        show_starts_at: r.show_starts_at,
        user_id: r.user_id,
        user_name: r.user_name,
        user_email: r.user_email,
        seats: r.seats,
        seat_labels: r.seat_labels,
        show_time_zone: r.show_time_zone,
        amount_cents: r.amount_cents,
        currency: r.currency,
        status: r.status,
        cancel_reason: r.cancel_reason,
        payment_status: r.payment_status,
        payment_method: r.payment_method,
        card_brand: r.card_brand,
        card_last4: r.card_last4,
        placed_at: r.placed_at,
        confirmed_at: r.confirmed_at,
    }
}

/// The typed words of a search as an FTS5 query that cannot be a syntax error: each word becomes a
/// quoted prefix term, all of them required.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Filters of a feed page, already validated.
/// A page of the feed, newest first; `search` is an FTS5 query built by [`fts_query`].
pub(crate) async fn feed(
    exec: impl SqliteExecutor<'_>,
    f: &FeedFilter,
    search: Option<String>,
) -> Result<Vec<FeedRow>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT f.rowid, f.booking_id, f.show_id, f.show_title, f.show_starts_at, f.user_id, f.user_name, f.user_email, f.seats, f.seat_labels, f.show_time_zone, \
         f.amount_cents, f.currency, f.status, f.cancel_reason, f.payment_status, f.payment_method, f.card_brand, f.card_last4, \
         f.payment_amount_cents, f.payment_currency, f.placed_at, f.confirmed_at FROM feed f",
    );
    if search.is_some() {
        sql.push(" JOIN feed_search s ON s.rowid = f.rowid");
    }
    sql.push(" WHERE f.placed_at IS NOT NULL");
    if let Some(q) = search {
        sql.push(" AND feed_search MATCH ").push_bind(q);
    }
    if let Some(s) = &f.status {
        sql.push(" AND f.status = ").push_bind(s.clone());
    }
    if let Some(p) = &f.payment_status {
        sql.push(" AND f.payment_status = ").push_bind(p.clone());
    }
    if let Some(s) = f.show_id {
        sql.push(" AND f.show_id = ").push_bind(s);
    }
    if let Some(u) = f.user_id {
        sql.push(" AND f.user_id = ").push_bind(u);
    }
    Cursor::push_page(
        &mut sql,
        ("f.placed_at", "f.booking_id"),
        Order::Descending,
        f.cursor,
        f.limit,
    );
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    rows.iter().map(feed_from_row).collect()
}

/// Shows matching a search.
pub(crate) async fn search_shows(
    exec: impl SqliteExecutor<'_>,
    q: &str,
    limit: i64,
) -> Result<Vec<ShowHit>> {
    let rows = sqlx::query(
        "SELECT s.show_id, s.title, s.venue, s.starts_at FROM show_sales s JOIN show_search x ON x.rowid = s.rowid \
         WHERE show_search MATCH ? ORDER BY s.starts_at LIMIT ?",
    )
    .bind(q)
    .bind(limit)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter()
        .map(|r| {
            Ok(ShowHit {
                show_id: r.try_get("show_id").map_err(storage)?,
                title: r.try_get("title").map_err(storage)?,
                venue: r.try_get("venue").map_err(storage)?,
                starts_at: r.try_get("starts_at").map_err(storage)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_searches_become_safe_prefix_queries() {
        assert_eq!(
            fts_query("Ada  hamlet"),
            Some("\"ada\"* \"hamlet\"*".into())
        );
        assert_eq!(
            fts_query("\" OR NEAR( *"),
            Some("\"or\"* \"near\"*".into()),
            "operators become plain words"
        );
        assert_eq!(fts_query("\" ( * -"), None);
        assert_eq!(
            fts_query("ada@example.com"),
            Some("\"ada\"* \"example\"* \"com\"*".into())
        );
    }
}
