//! The payments module's SQL: the event store (append with an expected version, load a stream up
//! to a version or a time), the `payments` projection and the gateway's pending callbacks. The
//! only code that names its tables. Wallets also keep a snapshot, so a charge does not replay
//! their whole history.

use kernel::{Cursor, Order, Timestamp, Trace};
use payments_api::{PaymentFilter, PaymentStatus};
use serde::{Serialize, de::DeserializeOwned};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqliteExecutor};
use uuid::Uuid;

use payments_api::PaymentsError;

use crate::{
    payment::PaymentState,
    wallet::{WalletEvent, WalletState},
};

/// A driver error as the module's error.
pub(crate) fn storage(e: sqlx::Error) -> PaymentsError {
    PaymentsError::Storage(kernel::Error::db(payments_api::STREAM)(e))
}

/// Which kind of aggregate a stream belongs to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StreamKind {
    Wallet,
    Payment,
}

impl StreamKind {
    fn as_str(self) -> &'static str {
        match self {
            StreamKind::Wallet => "wallet",
            StreamKind::Payment => "payment",
        }
    }
}

/// Up to where a stream is read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Upto {
    End,
    Version(i64),
    Time(Timestamp),
}

/// Why an append failed.
#[derive(Debug)]
pub(crate) enum AppendError {
    /// Someone appended first: the expected version is stale.
    Conflict,
    Other(PaymentsError),
}

impl From<PaymentsError> for AppendError {
    fn from(e: PaymentsError) -> Self {
        AppendError::Other(e)
    }
}

/// Loads a stream's events, oldest first, with their versions and times.
pub(crate) async fn load<E: DeserializeOwned>(
    exec: impl SqliteExecutor<'_>,
    kind: StreamKind,
    id: Uuid,
    upto: Upto,
) -> Result<Vec<(i64, E, Timestamp)>, PaymentsError> {
    let (clause, bound) = match upto {
        Upto::End => ("", i64::MAX),
        Upto::Version(v) => (" AND version <= ?", v),
        Upto::Time(t) => (" AND occurred_at <= ?", t.as_micros()),
    };
    let sql = format!(
        "SELECT version, data, occurred_at FROM event_store WHERE stream_kind = ? AND stream_id = ?{clause} ORDER BY version"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind.as_str())
        .bind(id);
    if !clause.is_empty() {
        query = query.bind(bound);
    }
    let rows = query.fetch_all(exec).await.map_err(storage)?;
    rows.iter()
        .map(|row| {
            let data: String = row.try_get("data").map_err(storage)?;
            let event: E =
                serde_json::from_str(&data).map_err(|e| PaymentsError::Corrupt(e.to_string()))?;
            Ok((
                row.try_get("version").map_err(storage)?,
                event,
                row.try_get("occurred_at").map_err(storage)?,
            ))
        })
        .collect()
}

/// A wallet's state: its snapshot, completed with any events appended after it (none, normally).
pub(crate) async fn wallet_state(
    conn: &mut SqliteConnection,
    user_id: Uuid,
) -> Result<WalletState, PaymentsError> {
    // The snapshot (if any) and the events after it, in one query: the snapshot's row first
    // (its version is below every later event's), then the events in order.
    let rows: Vec<(i64, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT version, balance_cents, NULL FROM wallet_snapshots WHERE user_id = ?1 \
         UNION ALL \
         SELECT version, NULL, data FROM event_store WHERE stream_kind = 'wallet' AND stream_id = ?1 \
         AND version > COALESCE((SELECT version FROM wallet_snapshots WHERE user_id = ?1), 0) \
         ORDER BY 1",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let mut state = WalletState::default();
    for (version, balance, data) in rows {
        match (balance, data) {
            (Some(balance), None) => state = WalletState { version, balance },
            (None, Some(data)) => {
                let event: WalletEvent = serde_json::from_str(&data)
                    .map_err(|e| PaymentsError::Corrupt(e.to_string()))?;
                state = state.apply(&event);
            }
            _ => return Err(PaymentsError::Corrupt(format!("wallet row {version}"))),
        }
    }
    Ok(state)
}

/// Records `state` as the wallet's snapshot (call in the transaction that appended its events).
pub(crate) async fn save_wallet_snapshot(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    state: WalletState,
) -> Result<(), PaymentsError> {
    sqlx::query(
        "INSERT INTO wallet_snapshots (user_id, version, balance_cents) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, balance_cents = excluded.balance_cents",
    )
    .bind(user_id)
    .bind(state.version)
    .bind(state.balance)
    .execute(conn)
    .await
    .map_err(storage)?;
    Ok(())
}

/// The newest version of a stream (0 when empty).
pub(crate) async fn head(
    exec: impl SqliteExecutor<'_>,
    kind: StreamKind,
    id: Uuid,
) -> Result<i64, PaymentsError> {
    let v: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(version) FROM event_store WHERE stream_kind = ? AND stream_id = ?",
    )
    .bind(kind.as_str())
    .bind(id)
    .fetch_one(exec)
    .await
    .map_err(storage)?;
    Ok(v.unwrap_or(0))
}

/// Appends `events` after `expected_version`; fails with `Conflict` when the stream moved on.
pub(crate) async fn append<E: Serialize>(
    conn: &mut SqliteConnection,
    kind: StreamKind,
    id: Uuid,
    expected_version: i64,
    events: &[(&'static str, E)],
    at: Timestamp,
) -> Result<i64, AppendError> {
    if events.is_empty() {
        return Ok(expected_version);
    }
    let mut rows = Vec::with_capacity(events.len());
    for (n, (name, event)) in events.iter().enumerate() {
        let data = serde_json::to_string(event)
            .map_err(|e| AppendError::Other(PaymentsError::Corrupt(e.to_string())))?;
        rows.push((expected_version + 1 + n as i64, *name, data));
    }
    // Every event in one statement: all appended, or none when another writer got there first.
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO event_store (stream_kind, stream_id, version, event_type, data, occurred_at) ",
    );
    sql.push_values(rows, |mut b, (version, name, data)| {
        b.push_bind(kind.as_str())
            .push_bind(id)
            .push_bind(version)
            .push_bind(name)
            .push_bind(data)
            .push_bind(at);
    });
    match sql.build().execute(&mut *conn).await {
        Ok(_) => Ok(expected_version + events.len() as i64),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppendError::Conflict),
        Err(e) => Err(AppendError::Other(storage(e))),
    }
}

/// Appends `event` to a wallet's stream after `expected_version` and writes the wallet's
/// snapshot as `after`, in one round trip; refused as a whole when another writer got there
/// first.
pub(crate) async fn append_to_wallet(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    expected_version: i64,
    event: &WalletEvent,
    after: WalletState,
    at: Timestamp,
) -> Result<(), AppendError> {
    let data = serde_json::to_string(event)
        .map_err(|e| AppendError::Other(PaymentsError::Corrupt(e.to_string())))?;
    let result = sqlx::query(
        "INSERT INTO event_store (stream_kind, stream_id, version, event_type, data, occurred_at) \
         VALUES ('wallet', ?, ?, ?, ?, ?); \
         INSERT INTO wallet_snapshots (user_id, version, balance_cents) VALUES (?, ?, ?) \
         ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, balance_cents = excluded.balance_cents",
    )
    .bind(user_id)
    .bind(expected_version + 1)
    .bind(event.name())
    .bind(data)
    .bind(at)
    .bind(user_id)
    .bind(after.version)
    .bind(after.balance)
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppendError::Conflict),
        Err(e) => Err(AppendError::Other(storage(e))),
    }
}

/// Writes a payment's projection row from its folded state.
pub(crate) async fn save_projection(
    exec: impl SqliteExecutor<'_>,
    p: &PaymentState,
) -> Result<(), PaymentsError> {
    let method =
        serde_json::to_string(&p.method).map_err(|e| PaymentsError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO payments (id, reference, user_id, amount_cents, currency, method, status, decline_reason, \
         cancel_requested, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, decline_reason = excluded.decline_reason, \
         cancel_requested = excluded.cancel_requested, version = excluded.version, updated_at = excluded.updated_at",
    )
    .bind(p.id)
    .bind(p.reference)
    .bind(p.user_id)
    .bind(p.amount_cents)
    .bind(&p.currency)
    .bind(method)
    .bind(p.status.as_str())
    .bind(&p.decline_reason)
    .bind(p.cancel_requested)
    .bind(p.version)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

/// The payment of a reference, if one was requested.
pub(crate) async fn payment_id_for_reference(
    exec: impl SqliteExecutor<'_>,
    reference: Uuid,
) -> Result<Option<Uuid>, PaymentsError> {
    sqlx::query_scalar("SELECT id FROM payments WHERE reference = ?")
        .bind(reference)
        .fetch_optional(exec)
        .await
        .map_err(storage)
}

/// A payment as its projection row holds it (everything but its history).
pub(crate) fn payment_from_row(
    row: &sqlx::sqlite::SqliteRow,
) -> Result<payments_api::Payment, PaymentsError> {
    let read = || -> Result<payments_api::Payment, sqlx::Error> {
        let method: String = row.try_get("method")?;
        let method: crate::payment::MethodDoc =
            serde_json::from_str(&method).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let status: String = row.try_get("status")?;
        Ok(payments_api::Payment {
            id: row.try_get("id")?,
            reference: row.try_get("reference")?,
            user_id: row.try_get("user_id")?,
            amount_cents: row.try_get("amount_cents")?,
            currency: row.try_get("currency")?,
            method: method.public(),
            status: PaymentStatus::parse(&status).unwrap_or(PaymentStatus::Pending),
            decline_reason: row.try_get("decline_reason")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            history: Vec::new(),
        })
    };
    read().map_err(storage)
}

const PAYMENT_COLUMNS: &str = "SELECT id, reference, user_id, amount_cents, currency, method, status, decline_reason, \
     created_at, updated_at FROM payments";

/// One payment's projection row.
pub(crate) async fn payment_row(
    exec: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<payments_api::Payment>, PaymentsError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{PAYMENT_COLUMNS} WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(exec)
    .await
    .map_err(storage)?;
    row.as_ref().map(payment_from_row).transpose()
}

/// A page of payments, newest first, optionally one user's or one reference's.
pub(crate) async fn list_payments(
    exec: impl SqliteExecutor<'_>,
    user_id: Option<Uuid>,
    filter: &PaymentFilter,
) -> Result<Vec<payments_api::Payment>, PaymentsError> {
    let mut sql: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(PAYMENT_COLUMNS);
    sql.push(" WHERE 1 = 1");
    if let Some(u) = user_id {
        sql.push(" AND user_id = ").push_bind(u);
    }
    if let Some(r) = filter.reference {
        sql.push(" AND reference = ").push_bind(r);
    }
    Cursor::push_page(
        &mut sql,
        ("created_at", "id"),
        Order::Descending,
        filter.cursor,
        filter.limit,
    );
    let rows = sql.build().fetch_all(exec).await.map_err(storage)?;
    rows.iter().map(payment_from_row).collect()
}

/// Records that the gateway will settle `payment_id` at `due_at`.
pub(crate) async fn schedule_callback(
    exec: impl SqliteExecutor<'_>,
    payment_id: Uuid,
    due_at: Timestamp,
    outcome: &str,
    trace: Trace,
) -> Result<(), PaymentsError> {
    sqlx::query(
        "INSERT OR IGNORE INTO gateway_callbacks (payment_id, due_at, outcome, correlation_id, causation_id) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(payment_id)
    .bind(due_at)
    .bind(outcome)
    .bind(trace.correlation_id)
    .bind(trace.causation_id)
    .execute(exec)
    .await
    .map_err(storage)?;
    Ok(())
}

/// A gateway answer that is due.
pub(crate) struct DueCallback {
    pub(crate) payment_id: Uuid,
    pub(crate) outcome: String,
    pub(crate) trace: Trace,
}

/// Callbacks due by `now`, oldest first.
pub(crate) async fn due_callbacks(
    exec: impl SqliteExecutor<'_>,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<DueCallback>, PaymentsError> {
    let rows = sqlx::query(
        "SELECT payment_id, outcome, correlation_id, causation_id FROM gateway_callbacks WHERE due_at <= ? ORDER BY due_at LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(exec)
    .await
    .map_err(storage)?;
    rows.iter()
        .map(|r| {
            Ok(DueCallback {
                payment_id: r.try_get("payment_id").map_err(storage)?,
                outcome: r.try_get("outcome").map_err(storage)?,
                trace: Trace {
                    correlation_id: r.try_get("correlation_id").map_err(storage)?,
                    causation_id: r.try_get("causation_id").map_err(storage)?,
                },
            })
        })
        .collect()
}

/// True when the gateway still owes an answer for `payment_id`.
pub(crate) async fn has_callback(
    exec: impl SqliteExecutor<'_>,
    payment_id: Uuid,
) -> Result<bool, PaymentsError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM gateway_callbacks WHERE payment_id = ?")
            .bind(payment_id)
            .fetch_optional(exec)
            .await
            .map_err(storage)?;
    Ok(found.is_some())
}

/// Forgets a callback once handled.
pub(crate) async fn delete_callback(
    exec: impl SqliteExecutor<'_>,
    payment_id: Uuid,
) -> Result<(), PaymentsError> {
    sqlx::query("DELETE FROM gateway_callbacks WHERE payment_id = ?")
        .bind(payment_id)
        .execute(exec)
        .await
        .map_err(storage)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;
    use crate::wallet::WalletEvent;

    /// An in-memory database with the payments schema.
    async fn migrated() -> SqliteConnection {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::migrate!("../../schemas/payments")
            .run(&mut conn)
            .await
            .unwrap();
        conn
    }

    #[tokio::test]
    async fn appending_after_a_stale_version_is_a_conflict_and_changes_nothing() {
        let mut conn = migrated().await;
        let wallet = Uuid::nil();
        let e = WalletEvent::Deposited {
            amount_cents: 100,
            deposit_id: Uuid::nil(),
        };
        let now = Timestamp::from_micros(1);
        assert_eq!(
            append(
                &mut conn,
                StreamKind::Wallet,
                wallet,
                0,
                &[("Deposited", &e)],
                now
            )
            .await
            .unwrap(),
            1
        );
        let stale = append(
            &mut conn,
            StreamKind::Wallet,
            wallet,
            0,
            &[("Deposited", &e)],
            now,
        )
        .await;
        assert!(matches!(stale, Err(AppendError::Conflict)));
        assert_eq!(
            head(&mut conn, StreamKind::Wallet, wallet).await.unwrap(),
            1
        );
        assert_eq!(
            append(
                &mut conn,
                StreamKind::Wallet,
                wallet,
                1,
                &[("Deposited", &e)],
                now
            )
            .await
            .unwrap(),
            2
        );
    }

    #[tokio::test]
    async fn a_wallet_state_is_its_snapshot_completed_by_later_events_and_equals_the_fold() {
        let mut conn = migrated().await;
        let wallet = Uuid::nil();
        let events = [
            WalletEvent::Deposited {
                amount_cents: 1_000,
                deposit_id: Uuid::nil(),
            },
            WalletEvent::Deposited {
                amount_cents: 250,
                deposit_id: Uuid::nil(),
            },
            WalletEvent::Deposited {
                amount_cents: 5,
                deposit_id: Uuid::nil(),
            },
        ];
        let now = Timestamp::from_micros(1);
        // No snapshot at all: everything comes from the events.
        let named: Vec<_> = events.iter().map(|e| (e.name(), e)).collect();
        append(&mut conn, StreamKind::Wallet, wallet, 0, &named[..2], now)
            .await
            .unwrap();
        let state = wallet_state(&mut conn, wallet).await.unwrap();
        assert_eq!(state, WalletState::fold(&events[..2]));
        // A snapshot at version 2, one event after it (as a crash between the two never leaves,
        // but an older snapshot might): the state still equals the fold of all three.
        save_wallet_snapshot(&mut conn, wallet, state)
            .await
            .unwrap();
        append(&mut conn, StreamKind::Wallet, wallet, 2, &named[2..], now)
            .await
            .unwrap();
        let state = wallet_state(&mut conn, wallet).await.unwrap();
        assert_eq!(state, WalletState::fold(&events));
        assert_eq!((state.version, state.balance), (3, 1_255));
    }
}
