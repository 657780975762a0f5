//! Time zones as plain values: an IANA name checked against the time zone database bundled into
//! the binary (so every machine answers alike, with or without a system zoneinfo), and instants
//! read in that zone. A show happens at its venue's local time; a customer reads their own times
//! in theirs.

use std::fmt;

use jiff::tz::TimeZone;

use crate::time::Timestamp;

/// The longest zone name accepted (the longest IANA name is 32 characters).
const MAX_NAME: usize = 64;

/// An IANA time zone: `Europe/Paris`, `America/New_York`, `UTC`.
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}
crate::plain_value!(Zone, String, parse: |s: String| Zone::parse(&s), plain: |z: &Zone| z.name.clone());

impl Zone {
    /// The zone named `raw` (in any letter case, kept in its canonical spelling; no spaces
    /// around it), or why it is not one.
    pub fn parse(raw: &str) -> Result<Zone, String> {
        let name = raw;
        if name.is_empty() {
            return Err("is required".into());
        }
        let refused =
            || "must be an IANA time zone such as Europe/Paris or America/New_York".to_owned();
        // Offsets and POSIX rules are not zones: a venue keeps its daylight saving rules.
        if name.len() > MAX_NAME || !name.bytes().any(|b| b.is_ascii_alphabetic()) {
            return Err(refused());
        }
        let tz = jiff::tz::db().get(name).map_err(|_| refused())?;
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Zone { name, tz })
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn zoned(&self, t: Timestamp) -> jiff::ZonedDateTime {
        let instant =
            jiff::Timestamp::from_microsecond(t.as_micros()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        instant.to_zoned_datetime(self.tz.clone())
    }

    /// `t` in this zone as RFC 3339 with its offset: `2027-05-01T20:00:00+02:00`.
    pub fn rfc3339(&self, t: Timestamp) -> String {
        self.format(t, "%Y-%m-%dT%H:%M:%S%:z")
    }

    /// The zone's abbreviation at `t` (`CEST`, `EST`; an offset like `+03` where the database
    /// has no letters).
    pub fn abbreviation(&self, t: Timestamp) -> String {
        self.format(t, "%Z")
    }

    /// `t` in this zone with a strftime `pattern` (`%a %-d %b %Y %H:%M`).
    pub fn format(&self, t: Timestamp, pattern: &str) -> String {
        self.zoned(t).strftime(pattern).to_string()
    }

    /// The wall-clock time `text` (`2027-05-01T20:00`, or with seconds, as an
    /// `<input type="datetime-local">` sends it) in this zone as an instant, or why it is not
    /// one. A time the clocks skip (the hour lost in spring) is refused; a time they show twice
    /// (the hour repeated in autumn) is its first occurrence.
    pub fn from_local(&self, text: &str) -> Result<Timestamp, String> {
        let civil: jiff::civil::DateTime = text
            .trim()
            .parse()
            .map_err(|_| "must be a date and time like 2027-05-01T20:00".to_owned())?;
        let ambiguous = self.tz.to_ambiguous_timestamp(civil);
        if matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
            return Err(format!(
                "does not exist in {}: the clocks skip that hour",
                self.name
            ));
        }
        let instant = ambiguous
            .earlier()
            .map_err(|_| "is out of range".to_owned())?;
        Ok(Timestamp::from_micros(instant.as_microsecond()))
    }

    /// The first instant of the day `date` (`2027-05-01`) in this zone, or `None` when it is
    /// not a date.
    pub fn day_start(&self, date: &str) -> Option<Timestamp> {
        let date: jiff::civil::Date = date.trim().parse().ok()?;
        let start = date
            .to_zoned_datetime(self.tz.clone())
            .ok()?
            .start_of_day()
            .ok()?;
        Some(Timestamp::from_micros(start.timestamp().as_microsecond()))
    }

    /// Every zone name of the bundled database, sorted.
    pub fn names() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_owned())
            .collect();
        names.sort();
        names
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn a_zone_is_an_iana_name_in_its_canonical_spelling() {
        assert_eq!(Zone::parse("europe/paris").unwrap().name(), "Europe/Paris");
        assert_eq!(Zone::parse("UTC").unwrap(), Zone::utc());
        for bad in [
            "",
            "Mars/Olympus",
            "+02:00",
            "CET-1CEST",
            "Europe/Paris\n",
            " UTC",
            "12",
        ] {
            assert!(Zone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_instant_reads_in_the_zone_with_its_offset_and_abbreviation() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        let summer = at("2027-05-01T18:00:00Z");
        assert_eq!(paris.rfc3339(summer), "2027-05-01T20:00:00+02:00");
        assert_eq!(paris.abbreviation(summer), "CEST");
        assert_eq!(paris.abbreviation(at("2027-01-01T18:00:00Z")), "CET");
        assert_eq!(
            paris.format(summer, "%a %-d %b %Y %H:%M"),
            "Sat 1 May 2027 20:00"
        );
    }

    #[test]
    fn a_wall_clock_time_becomes_an_instant_and_the_skipped_hour_is_refused() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(
            paris.from_local("2027-05-01T20:00").unwrap(),
            at("2027-05-01T18:00:00Z")
        );
        // 28 March 2027: the clocks go from 02:00 to 03:00.
        assert!(
            paris
                .from_local("2027-03-28T02:30")
                .unwrap_err()
                .contains("skip")
        );
        // 31 October 2027: 02:30 happens twice; the first one counts.
        assert_eq!(
            paris.from_local("2027-10-31T02:30").unwrap(),
            at("2027-10-31T00:30:00Z")
        );
        assert!(paris.from_local("tomorrow").is_err());
        assert_eq!(
            paris.day_start("2027-05-01"),
            Some(at("2027-04-30T22:00:00Z"))
        );
    }

    #[test]
    fn the_bundled_database_lists_the_zones() {
        let names = Zone::names();
        assert!(names.len() > 300, "{}", names.len());
        assert!(names.iter().any(|n| n == "America/New_York"));
    }
}
