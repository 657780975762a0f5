//! The projection: one feed row per booking, merged from the users, bookings and payments streams
//! in whatever order their events arrive, and every aggregate (per show, per customer, per hour,
//! box-office totals) kept as the sum of the feed rows' contributions. A change to a row applies
//! `contribution(new) - contribution(old)`, so late, early or repeated events keep the sums exact,
//! and a rebuild goes through the very same code.

use kernel::Timestamp;
use sqlx::{Row, SqliteConnection, sqlite::SqliteRow};
use uuid::Uuid;

use reporting_api::ReportingError;

type Result<T> = std::result::Result<T, ReportingError>;

/// A driver error as the module's error (for every SQL file of the module).
pub(crate) fn storage(e: sqlx::Error) -> ReportingError {
    ReportingError::Storage(kernel::Error::db(reporting_api::STREAM)(e))
}

const HOUR_MICROS: i64 = 3_600_000_000;

/// A feed row as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FeedRow {
    pub(crate) rowid: Option<i64>,
    pub(crate) booking_id: Uuid,
    pub(crate) show_id: Option<Uuid>,
    pub(crate) show_title: Option<String>,
    pub(crate) show_starts_at: Option<Timestamp>,
    pub(crate) show_time_zone: Option<String>,
    pub(crate) user_id: Option<Uuid>,
    pub(crate) user_name: Option<String>,
    pub(crate) user_email: Option<String>,
    pub(crate) seats: i64,
    pub(crate) seat_labels: Option<String>,
    pub(crate) amount_cents: i64,
    pub(crate) currency: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) cancel_reason: Option<String>,
    pub(crate) payment_status: Option<String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) card_brand: Option<String>,
    pub(crate) card_last4: Option<String>,
    pub(crate) payment_amount_cents: i64,
    pub(crate) payment_currency: Option<String>,
    pub(crate) placed_at: Option<Timestamp>,
    pub(crate) confirmed_at: Option<Timestamp>,
}

pub(crate) const FEED_COLUMNS: &str = "SELECT rowid, booking_id, show_id, show_title, show_starts_at, show_time_zone, user_id, user_name, \
     user_email, seats, seat_labels, amount_cents, currency, status, cancel_reason, payment_status, payment_method, card_brand, card_last4, \
     payment_amount_cents, payment_currency, placed_at, confirmed_at FROM feed";

pub(crate) fn feed_from_row(row: &SqliteRow) -> Result<FeedRow> {
    let read = || -> std::result::Result<FeedRow, sqlx::Error> {
        Ok(FeedRow {
            rowid: row.try_get("rowid")?,
            booking_id: row.try_get("booking_id")?,
            show_id: row.try_get("show_id")?,
            show_title: row.try_get("show_title")?,
            show_starts_at: row.try_get("show_starts_at")?,
            show_time_zone: row.try_get("show_time_zone")?,
            user_id: row.try_get("user_id")?,
            user_name: row.try_get("user_name")?,
            user_email: row.try_get("user_email")?,
            seats: row.try_get("seats")?,
            seat_labels: row.try_get("seat_labels")?,
            amount_cents: row.try_get("amount_cents")?,
            currency: row.try_get("currency")?,
            status: row.try_get("status")?,
            cancel_reason: row.try_get("cancel_reason")?,
            payment_status: row.try_get("payment_status")?,
            payment_method: row.try_get("payment_method")?,
            card_brand: row.try_get("card_brand")?,
            card_last4: row.try_get("card_last4")?,
            payment_amount_cents: row.try_get("payment_amount_cents")?,
            payment_currency: row.try_get("payment_currency")?,
            placed_at: row.try_get("placed_at")?,
            confirmed_at: row.try_get("confirmed_at")?,
        })
    };
    read().map_err(storage)
}

/// The booking's row, or a fresh one.
pub(crate) async fn load(
    conn: &mut SqliteConnection,
    booking_id: Uuid,
) -> Result<(Option<FeedRow>, FeedRow)> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{FEED_COLUMNS} WHERE booking_id = ?"
    )))
    .bind(booking_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?;
    match row {
        Some(r) => {
            let old = feed_from_row(&r)?;
            Ok((Some(old.clone()), old))
        }
        None => Ok((
            None,
            FeedRow {
                booking_id,
                ..FeedRow::default()
            },
        )),
    }
}

/// What one feed row adds to the sums it belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Figures {
    bookings: i64,
    pending: i64,
    confirmed: i64,
    cancelled: i64,
    seats_sold: i64,
    seats_held: i64,
    revenue: i64,
    refunds: i64,
    confirm_ms: i64,
    confirm_count: i64,
}

impl Figures {
    fn of(r: &FeedRow) -> Figures {
        let status = r.status.as_deref();
        let is = |s: &str| i64::from(status == Some(s));
        let paid = |s: &str| {
            if r.payment_status.as_deref() == Some(s) {
                r.payment_amount_cents
            } else {
                0
            }
        };
        let confirm_ms = match (status, r.placed_at, r.confirmed_at) {
            (Some("confirmed"), Some(p), Some(c)) => {
                Some((c.as_micros() - p.as_micros()).max(0) / 1_000)
            }
            _ => None,
        };
        Figures {
            bookings: i64::from(status.is_some()),
            pending: is("pending"),
            confirmed: is("confirmed"),
            cancelled: is("cancelled"),
            seats_sold: is("confirmed") * r.seats,
            seats_held: is("pending") * r.seats,
            revenue: paid("captured"),
            refunds: paid("refunded"),
            confirm_ms: confirm_ms.unwrap_or(0),
            confirm_count: i64::from(confirm_ms.is_some()),
        }
    }

    fn minus(self, o: Figures) -> Figures {
        Figures {
            bookings: self.bookings - o.bookings,
            pending: self.pending - o.pending,
            confirmed: self.confirmed - o.confirmed,
            cancelled: self.cancelled - o.cancelled,
            seats_sold: self.seats_sold - o.seats_sold,
            seats_held: self.seats_held - o.seats_held,
            revenue: self.revenue - o.revenue,
            refunds: self.refunds - o.refunds,
            confirm_ms: self.confirm_ms - o.confirm_ms,
            confirm_count: self.confirm_count - o.confirm_count,
        }
    }

    fn negated(self) -> Figures {
        Figures::default().minus(self)
    }

    fn is_zero(&self) -> bool {
        *self == Figures::default()
    }
}

fn money_currency(r: &FeedRow) -> Option<String> {
    r.payment_currency.clone().or_else(|| r.currency.clone())
}

fn bucket(r: &FeedRow) -> Option<i64> {
    r.status
        .as_ref()
        .and(r.placed_at)
        .map(|t| t.as_micros().div_euclid(HOUR_MICROS) * HOUR_MICROS)
}

/// A value bound to a statement of [`Writes`].
enum Value {
    Int(i64),
    Id(Uuid),
    Text(String),
}

/// The aggregate writes one event causes, sent to SQLite as one multi-statement query: one round
/// trip for all of them instead of one per aggregate row.
#[derive(Default)]
struct Writes {
    sql: String,
    values: Vec<Value>,
}

impl Writes {
    fn push(&mut self, sql: &str, values: impl IntoIterator<Item = Value>) {
        if !self.sql.is_empty() {
            self.sql.push_str(";\n");
        }
        self.sql.push_str(sql);
        self.values.extend(values);
    }

    async fn run(self, conn: &mut SqliteConnection) -> Result<()> {
        if self.sql.is_empty() {
            return Ok(());
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql));
        for v in self.values {
            query = match v {
                Value::Int(i) => query.bind(i),
                Value::Id(id) => query.bind(id),
                Value::Text(t) => query.bind(t),
            };
        }
        query.execute(conn).await.map_err(storage)?;
        Ok(())
    }
}

/// Applies `delta` to one aggregate row.
fn add_show(w: &mut Writes, show_id: Uuid, d: Figures) {
    if d.is_zero() {
        return;
    }
    w.push(
        "UPDATE show_sales SET bookings = bookings + ?, seats_sold = seats_sold + ?, seats_held = seats_held + ?, \
         revenue_cents = revenue_cents + ?, refunds_cents = refunds_cents + ? WHERE show_id = ?",
        [
            Value::Int(d.bookings),
            Value::Int(d.seats_sold),
            Value::Int(d.seats_held),
            Value::Int(d.revenue),
            Value::Int(d.refunds),
            Value::Id(show_id),
        ],
    );
}

fn add_customer(w: &mut Writes, user_id: Uuid, d: Figures) {
    if d.is_zero() {
        return;
    }
    w.push(
        "INSERT INTO customers (user_id, bookings, confirmed, cancelled, spent_cents, refunds_cents) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (user_id) DO UPDATE SET bookings = bookings + excluded.bookings, confirmed = confirmed + excluded.confirmed, \
         cancelled = cancelled + excluded.cancelled, spent_cents = spent_cents + excluded.spent_cents, \
         refunds_cents = refunds_cents + excluded.refunds_cents",
        [
            Value::Id(user_id),
            Value::Int(d.bookings),
            Value::Int(d.confirmed),
            Value::Int(d.cancelled),
            Value::Int(d.revenue),
            Value::Int(d.refunds),
        ],
    );
}

fn add_bucket(w: &mut Writes, bucket: i64, d: Figures) {
    if d.bookings == 0 && d.confirmed == 0 && d.cancelled == 0 {
        return;
    }
    w.push(
        "INSERT INTO timeline (bucket, placed, confirmed, cancelled) VALUES (?, ?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET \
         placed = placed + excluded.placed, confirmed = confirmed + excluded.confirmed, cancelled = cancelled + excluded.cancelled",
        [
            Value::Int(bucket),
            Value::Int(d.bookings),
            Value::Int(d.confirmed),
            Value::Int(d.cancelled),
        ],
    );
}

/// The counters of the `totals` table one change moves.
#[derive(Default)]
struct TotalsChange(Vec<(&'static str, String, i64)>);

impl TotalsChange {
    fn counts(&mut self, d: Figures) {
        for (name, value) in [
            ("bookings_pending", d.pending),
            ("bookings_confirmed", d.confirmed),
            ("bookings_cancelled", d.cancelled),
            ("seats_sold", d.seats_sold),
            ("confirm_ms_sum", d.confirm_ms),
            ("confirm_count", d.confirm_count),
        ] {
            self.add(name, "", value);
        }
    }

    fn money(&mut self, currency: &str, d: Figures) {
        self.add("revenue", currency, d.revenue);
        self.add("refunds", currency, d.refunds);
    }

    fn add(&mut self, name: &'static str, currency: &str, value: i64) {
        if value != 0 {
            self.0.push((name, currency.to_owned(), value));
        }
    }

    /// Every counter's change, as one statement.
    fn write(self, w: &mut Writes) {
        if self.0.is_empty() {
            return;
        }
        let rows = vec!["(?, ?, ?)"; self.0.len()].join(", ");
        let values = self.0.into_iter().flat_map(|(name, currency, value)| {
            [
                Value::Text(name.to_owned()),
                Value::Text(currency),
                Value::Int(value),
            ]
        });
        w.push(
            &format!(
                "INSERT INTO totals (name, currency, value) VALUES {rows} \
                 ON CONFLICT (name, currency) DO UPDATE SET value = value + excluded.value"
            ),
            values,
        );
    }
}

/// Moves every aggregate from `old`'s contribution to `new`'s.
async fn apply_delta(
    conn: &mut SqliteConnection,
    old: Option<&FeedRow>,
    new: &FeedRow,
) -> Result<()> {
    let of = old.map(Figures::of).unwrap_or_default();
    let nf = Figures::of(new);
    let diff = nf.minus(of);
    let mut totals = TotalsChange::default();
    totals.counts(diff);
    let mut w = Writes::default();

    macro_rules! moved {
        ($key:expr, $add:ident) => {{
            let (ok, nk) = (old.and_then($key), $key(new));
            if ok == nk {
                if let Some(k) = nk {
                    $add(&mut w, k, diff);
                }
            } else {
                if let Some(k) = ok {
                    $add(&mut w, k, of.negated());
                }
                if let Some(k) = nk {
                    $add(&mut w, k, nf);
                }
            }
        }};
    }
    moved!(|r: &FeedRow| r.show_id, add_show);
    moved!(|r: &FeedRow| r.user_id, add_customer);
    moved!(bucket, add_bucket);
    let (oc, nc) = (old.and_then(money_currency), money_currency(new));
    if oc == nc {
        if let Some(c) = nc {
            totals.money(&c, diff);
        }
    } else {
        if let Some(c) = oc {
            totals.money(&c, of.negated());
        }
        if let Some(c) = nc {
            totals.money(&c, nf);
        }
    }
    totals.write(&mut w);
    w.run(conn).await
}

fn search_body(r: &FeedRow) -> String {
    [
        r.show_title.as_deref(),
        r.user_name.as_deref(),
        r.user_email.as_deref(),
        r.seat_labels.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// Writes the row, its search entry and the aggregates' change.
pub(crate) async fn save(
    conn: &mut SqliteConnection,
    now: Timestamp,
    old: Option<&FeedRow>,
    new: &FeedRow,
) -> Result<()> {
    if old == Some(new) {
        return Ok(());
    }
    let rowid: i64 = sqlx::query_scalar(
        "INSERT INTO feed (booking_id, show_id, show_title, show_starts_at, show_time_zone, user_id, user_name, user_email, seats, seat_labels, \
         amount_cents, currency, status, cancel_reason, payment_status, payment_method, card_brand, card_last4, \
         payment_amount_cents, payment_currency, placed_at, confirmed_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (booking_id) DO UPDATE SET show_id = excluded.show_id, show_title = excluded.show_title, \
         show_starts_at = excluded.show_starts_at, show_time_zone = excluded.show_time_zone, user_id = excluded.user_id, user_name = excluded.user_name, \
         user_email = excluded.user_email, seats = excluded.seats, seat_labels = excluded.seat_labels, amount_cents = excluded.amount_cents, currency = excluded.currency, \
         status = excluded.status, cancel_reason = excluded.cancel_reason, payment_status = excluded.payment_status, \
         payment_method = excluded.payment_method, card_brand = excluded.card_brand, card_last4 = excluded.card_last4, \
         payment_amount_cents = excluded.payment_amount_cents, payment_currency = excluded.payment_currency, \
         placed_at = excluded.placed_at, confirmed_at = excluded.confirmed_at, updated_at = excluded.updated_at RETURNING rowid",
    )
    .bind(new.booking_id)
    .bind(new.show_id)
    .bind(&new.show_title)
    .bind(new.show_starts_at)
    .bind(&new.show_time_zone)
    .bind(new.user_id)
    .bind(&new.user_name)
    .bind(&new.user_email)
    .bind(new.seats)
    .bind(&new.seat_labels)
    .bind(new.amount_cents)
    .bind(&new.currency)
    .bind(&new.status)
    .bind(&new.cancel_reason)
    .bind(&new.payment_status)
    .bind(&new.payment_method)
    .bind(&new.card_brand)
    .bind(&new.card_last4)
    .bind(new.payment_amount_cents)
    .bind(&new.payment_currency)
    .bind(new.placed_at)
    .bind(new.confirmed_at)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(storage)?;
    if old.map(search_body) != Some(search_body(new)) {
        // The search entry shares the feed row's rowid, so it is replaced without a scan (both
        // statements in one round trip).
        sqlx::query(
            "DELETE FROM feed_search WHERE rowid = ?; INSERT INTO feed_search (rowid, body) VALUES (?, ?)",
        )
        .bind(rowid)
        .bind(rowid)
        .bind(search_body(new))
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    }
    apply_delta(conn, old, new).await
}

/// Every feed row of a customer or a show, for refreshing copied names.
pub(crate) async fn rows_where(
    conn: &mut SqliteConnection,
    column: &str,
    id: Uuid,
) -> Result<Vec<FeedRow>> {
    let sql = match column {
        "user_id" => format!("{FEED_COLUMNS} WHERE user_id = ?"),
        _ => format!("{FEED_COLUMNS} WHERE show_id = ?"),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
    rows.iter().map(feed_from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: Option<&str>, payment: Option<&str>) -> FeedRow {
        FeedRow {
            seats: 2,
            amount_cents: 500,
            payment_amount_cents: 500,
            status: status.map(str::to_owned),
            payment_status: payment.map(str::to_owned),
            placed_at: Some(Timestamp::from_micros(1_000_000)),
            confirmed_at: Some(Timestamp::from_micros(1_250_000)),
            ..FeedRow::default()
        }
    }

    #[test]
    fn a_confirmed_paid_row_contributes_its_seats_revenue_and_confirmation_time() {
        let f = Figures::of(&row(Some("confirmed"), Some("captured")));
        assert_eq!(
            (
                f.bookings,
                f.confirmed,
                f.seats_sold,
                f.revenue,
                f.confirm_ms,
                f.confirm_count
            ),
            (1, 1, 2, 500, 250, 1)
        );
    }

    #[test]
    fn the_change_between_two_states_cancels_what_the_old_one_added() {
        let old = Figures::of(&row(Some("confirmed"), Some("captured")));
        let new = Figures::of(&row(Some("cancelled"), Some("refunded")));
        let d = new.minus(old);
        assert_eq!(
            (
                d.bookings,
                d.confirmed,
                d.cancelled,
                d.seats_sold,
                d.revenue,
                d.refunds
            ),
            (0, -1, 1, -2, -500, 500)
        );
        assert!(new.minus(new).is_zero());
    }

    #[test]
    fn a_payment_seen_before_its_booking_counts_money_but_no_booking() {
        let f = Figures::of(&row(None, Some("captured")));
        assert_eq!((f.bookings, f.revenue), (0, 500));
        assert_eq!(bucket(&row(None, Some("captured"))), None);
    }
}
