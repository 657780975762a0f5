//! Instants as plain values: stored as integer microseconds, shown as RFC 3339 UTC.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// A UTC instant with microsecond precision.
///
/// Stored in SQLite as an `INTEGER` of microseconds since the Unix epoch (compact, indexable,
/// ordered), serialized as an RFC 3339 string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current time, read from the system clock.
    pub fn now() -> Self {
        Self::from_offset_date_time(OffsetDateTime::now_utc())
    }

    /// The instant `micros` microseconds after the Unix epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Converts from a `time` value, truncating to microseconds.
    pub fn from_offset_date_time(t: OffsetDateTime) -> Self {
        let nanos = t.unix_timestamp_nanos();
        Self(i64::try_from(nanos / 1_000).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX }))
    }

    /// Converts to a `time` value in UTC.
    pub fn to_offset_date_time(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Parses an RFC 3339 date-time with any offset.
    pub fn parse_rfc3339(text: &str) -> Result<Self, time::error::Parse> {
        OffsetDateTime::parse(text, &Rfc3339).map(Self::from_offset_date_time)
    }

    /// This instant moved by `d` (saturating).
    pub fn plus(self, d: std::time::Duration) -> Self {
        let micros = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(micros))
    }

    /// How long after `earlier` this instant is; zero when it is not after it.
    pub fn duration_since(self, earlier: Timestamp) -> std::time::Duration {
        std::time::Duration::from_micros(
            u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0),
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_offset_date_time();
        match t.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "@{}us", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 date-time in UTC"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_round_trips_through_rfc3339_with_microseconds() {
        let t = Timestamp::from_micros(1_767_225_600_123_456);
        let text = t.to_string();
        assert_eq!(text, "2026-01-01T00:00:00.123456Z");
        assert_eq!(Timestamp::parse_rfc3339(&text).unwrap(), t);
    }

    #[test]
    fn an_offset_is_normalized_to_utc() {
        let t = Timestamp::parse_rfc3339("2026-01-01T02:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn duration_since_a_later_instant_is_zero() {
        let a = Timestamp::from_micros(10);
        let b = Timestamp::from_micros(5);
        assert_eq!(b.duration_since(a), std::time::Duration::ZERO);
        assert_eq!(a.duration_since(b), std::time::Duration::from_micros(5));
    }
}
