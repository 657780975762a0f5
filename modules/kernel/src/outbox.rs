//! A producer's event log as consumers see it: read by position, followed live, browsed by people.
//!
//! [`EventSource`] is the transport-agnostic face of a stream. Today it is backed by the module's
//! own outbox table and the in-process bus ([`OutboxLog`]); a network transport can implement the
//! same trait when a module moves out of the process.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sqlx::{QueryBuilder, Row, Sqlite, sqlite::SqliteRow};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{db::ModuleDb, error::Error, events::Envelope, time::Timestamp};

/// The newest event of a stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamHead {
    /// Sequence number of the newest event; 0 for an empty stream.
    pub seq: i64,
    /// When it was appended.
    pub occurred_at: Option<Timestamp>,
}

/// A position in the merged, newest-first log of every stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCursor {
    /// Time of the last event already seen.
    pub occurred_at: Timestamp,
    /// Its stream.
    pub stream: String,
    /// Its sequence number.
    pub seq: i64,
}

impl EventCursor {
    /// The cursor just past `event`.
    pub fn after(event: &Envelope) -> Self {
        Self {
            occurred_at: event.occurred_at,
            stream: event.stream.clone(),
            seq: event.seq,
        }
    }

    /// An opaque text form for URLs.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}",
            self.occurred_at.as_micros(),
            self.stream,
            self.seq
        )
    }

    /// The shape of [`EventCursor::encode`]'s output, as the OpenAPI document states it: the
    /// event's microseconds, its stream, its sequence number, joined by dots.
    pub const PATTERN: &'static str = "^[0-9]{1,16}[.][a-z_]{1,32}[.][0-9]{1,18}$";

    /// Parses [`EventCursor::encode`]'s output: exactly [`EventCursor::PATTERN`].
    pub fn decode(text: &str) -> Option<Self> {
        let digits = |t: &str, most: usize| {
            (1..=most).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
        };
        let (micros, rest) = text.split_once('.')?;
        let (stream, seq) = rest.rsplit_once('.')?;
        let named = (1..=32).contains(&stream.len())
            && stream.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !digits(micros, 16) || !named || !digits(seq, 18) {
            return None;
        }
        Some(Self {
            occurred_at: Timestamp::from_micros(micros.parse().ok()?),
            stream: stream.to_owned(),
            seq: seq.parse().ok()?,
        })
    }

    /// Newest-first order over (time, stream, seq): true when `event` comes after this cursor.
    pub fn precedes(&self, event: &Envelope) -> bool {
        (event.occurred_at, event.stream.as_str(), event.seq)
            < (self.occurred_at, self.stream.as_str(), self.seq)
    }
}

/// A filter over one stream, newest first.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EventQuery {
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only events of this correlation.
    pub correlation_id: Option<Uuid>,
    /// Only events about this aggregate.
    pub aggregate_id: Option<String>,
    /// Only events after this cursor (in newest-first order).
    pub before: Option<EventCursor>,
    /// At most this many.
    pub limit: u32,
}

/// A producer's stream of events.
#[async_trait]
pub trait EventSource: Send + Sync {
    /// The stream's name (the producing module's name).
    fn stream(&self) -> &str;

    /// Up to `limit` events with a sequence number above `after_seq`, in order.
    async fn read(&self, after_seq: i64, limit: u32) -> Result<Vec<Arc<Envelope>>, Error>;

    /// The newest event's position.
    async fn head(&self) -> Result<StreamHead, Error>;

    /// Live events committed from now on. The receiver may also carry other streams' events
    /// and may lag; the log (`read`) is the source of truth.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>>;

    /// Events matching `query`, newest first, for people and the admin API.
    async fn browse(&self, query: &EventQuery) -> Result<Vec<Arc<Envelope>>, Error>;
}

/// The in-process [`EventSource`] of a module: its outbox plus the bus.
pub struct OutboxLog {
    db: ModuleDb,
}

impl OutboxLog {
    /// The event log of the module that owns `db`.
    pub fn new(db: ModuleDb) -> Self {
        Self { db }
    }
}

const ENVELOPE_COLUMNS: &str = "SELECT seq, event_id, event_type, event_version, aggregate_id, \
     payload, correlation_id, causation_id, occurred_at FROM outbox";

fn envelope_from_row(stream: &str, row: &SqliteRow) -> Result<Envelope, sqlx::Error> {
    let payload: String = row.try_get("payload")?;
    let version: i64 = row.try_get("event_version")?;
    Ok(Envelope {
        stream: stream.to_owned(),
        seq: row.try_get("seq")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        event_version: u16::try_from(version).unwrap_or(u16::MAX),
        aggregate_id: row.try_get("aggregate_id")?,
        payload: RawValue::from_string(payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        correlation_id: row.try_get("correlation_id")?,
        causation_id: row.try_get("causation_id")?,
        occurred_at: row.try_get("occurred_at")?,
    })
}

#[async_trait]
impl EventSource for OutboxLog {
    fn stream(&self) -> &str {
        self.db.module()
    }

    async fn read(&self, after_seq: i64, limit: u32) -> Result<Vec<Arc<Envelope>>, Error> {
        let module = self.db.module();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ENVELOPE_COLUMNS} WHERE seq > ? ORDER BY seq LIMIT ?"
        )))
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(self.db.reader()?)
        .await
        .map_err(Error::db(module))?;
        rows.iter()
            .map(|row| {
                envelope_from_row(module, row)
                    .map(Arc::new)
                    .map_err(Error::db(module))
            })
            .collect()
    }

    async fn head(&self) -> Result<StreamHead, Error> {
        let module = self.db.module();
        let row: Option<(i64, Timestamp)> =
            sqlx::query_as("SELECT seq, occurred_at FROM outbox ORDER BY seq DESC LIMIT 1")
                .fetch_optional(self.db.reader()?)
                .await
                .map_err(Error::db(module))?;
        Ok(row
            .map(|(seq, at)| StreamHead {
                seq,
                occurred_at: Some(at),
            })
            .unwrap_or_default())
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.db.bus().subscribe()
    }

    async fn browse(&self, query: &EventQuery) -> Result<Vec<Arc<Envelope>>, Error> {
        let module = self.db.module();
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(ENVELOPE_COLUMNS);
        sql.push(" WHERE 1 = 1");
        if let Some(t) = &query.event_type {
            sql.push(" AND event_type = ").push_bind(t.clone());
        }
        if let Some(c) = query.correlation_id {
            sql.push(" AND correlation_id = ").push_bind(c);
        }
        if let Some(a) = &query.aggregate_id {
            sql.push(" AND aggregate_id = ").push_bind(a.clone());
        }
        if let Some(cursor) = &query.before {
            let t = cursor.occurred_at;
            match module.cmp(cursor.stream.as_str()) {
                std::cmp::Ordering::Less => {
                    sql.push(" AND occurred_at <= ").push_bind(t);
                }
                std::cmp::Ordering::Greater => {
                    sql.push(" AND occurred_at < ").push_bind(t);
                }
                std::cmp::Ordering::Equal => {
                    sql.push(" AND (occurred_at < ")
                        .push_bind(t)
                        .push(" OR (occurred_at = ")
                        .push_bind(t)
                        .push(" AND seq < ")
                        .push_bind(cursor.seq)
                        .push("))");
                }
            }
        }
        sql.push(" ORDER BY occurred_at DESC, seq DESC LIMIT ")
            .push_bind(i64::from(query.limit.min(1000)));
        let rows = sql
            .build()
            .fetch_all(self.db.reader()?)
            .await
            .map_err(Error::db(module))?;
        rows.iter()
            .map(|row| {
                envelope_from_row(module, row)
                    .map(Arc::new)
                    .map_err(Error::db(module))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_text_form() {
        let c = EventCursor {
            occurred_at: Timestamp::from_micros(42),
            stream: "bookings".into(),
            seq: 7,
        };
        assert_eq!(EventCursor::decode(&c.encode()), Some(c));
    }

    #[test]
    fn a_malformed_cursor_is_rejected() {
        for bad in [
            "",
            "x.bookings.1",
            "1.bookings.x",
            "1..1",
            "1.Bookings.1",
            "1.book;ings.1",
            "+1.bookings.1",
            "1.bookings.-1",
            "1.bookings. 1",
        ] {
            assert_eq!(EventCursor::decode(bad), None, "{bad}");
        }
    }
}
