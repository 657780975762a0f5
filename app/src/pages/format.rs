//! How values read on a page: moments in a person's own time zone (or a show's in its venue's),
//! durations, JSON, amounts. One date style everywhere: `Sat 1 May 2027 · 20:00 CEST`, with
//! seconds where a timeline needs them.

use bookings_api::Show;
use kernel::{Timestamp, Zone};
use users_api::User;

/// The zone a person reads their own times in: theirs, or UTC for a visitor.
pub(crate) fn zone_of(user: Option<&User>) -> Zone {
    user.and_then(|u| Zone::parse(&u.time_zone).ok())
        .unwrap_or_else(Zone::utc)
}

/// A show's venue's zone.
pub(crate) fn show_zone(show: &Show) -> Zone {
    Zone::parse(&show.time_zone).unwrap_or_else(|_| Zone::utc())
}

/// `Sat 1 May 2027 · 20:00 CEST`: the one way a page shows a moment.
pub(crate) fn moment(t: Timestamp, zone: &Zone) -> String {
    zone.format(t, "%a %-d %b %Y · %H:%M %Z")
}

/// A moment of a timeline, to the millisecond: `Sat 1 May 2027 · 20:00:07.496 CEST`.
pub(crate) fn instant(t: Timestamp, zone: &Zone) -> String {
    zone.format(t, "%a %-d %b %Y · %H:%M:%S%.3f %Z")
}

/// When a show starts, in its venue's time zone, the zone named:
/// `Sat 1 May 2027 · 20:00 CEST (Europe/Paris)`.
pub(crate) fn show_time(show: &Show) -> String {
    show_time_at(show.starts_at, &show.time_zone)
}

/// A show's start read in the zone named `zone` (its venue's), the zone named.
pub(crate) fn show_time_at(t: Timestamp, zone: &str) -> String {
    let zone = Zone::parse(zone).unwrap_or_else(|_| Zone::utc());
    format!("{} ({})", moment(t, &zone), zone.name())
}

/// The time of day, for a moment within the hour: `19:58:48 GMT`.
pub(crate) fn time_of_day(t: Timestamp, zone: &Zone) -> String {
    zone.format(t, "%H:%M:%S %Z")
}

/// A date: `1 May 2027`.
pub(crate) fn date(t: Timestamp, zone: &Zone) -> String {
    zone.format(t, "%-d %b %Y")
}

/// The value of an `<input type="datetime-local">` for `t` in `zone` (minutes).
pub(crate) fn datetime_local(t: Timestamp, zone: &Zone) -> String {
    zone.format(t, "%Y-%m-%dT%H:%M")
}

/// An `<input type="datetime-local">` value (a wall-clock time in `zone`) as RFC 3339 with its
/// offset; other text is passed on for the module to judge, and a time the clocks skip is said.
pub(crate) fn from_datetime_local(text: &str, zone: &Zone) -> Result<String, String> {
    let t = text.trim();
    // `YYYY-MM-DDTHH:MM`, or with `:SS` when the field has a step under a minute.
    let local = (t.len() == 16 || t.len() == 19)
        && t.as_bytes().get(10) == Some(&b'T')
        && !t.contains(['Z', '+']);
    if !local {
        return Ok(t.to_owned());
    }
    zone.from_local(t).map(|instant| zone.rfc3339(instant))
}

/// A latency in microseconds, in the unit that reads best.
pub(crate) fn micros(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    }
}

/// JSON text, indented.
pub(crate) fn pretty_json(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| raw.to_owned())
}

pub(crate) use crate::money::money;

/// An amount typed in a form, as cents: the way people write money, with either mark as the
/// decimal separator (`20,50` and `20.50` are both 20.50) and the other, or a space, grouping
/// thousands (`1.000,50`, `1,000.50`, `1 000,50`). What could be read two ways is refused, never
/// guessed: `1,000` or `1.000` alone (a thousand, or one with three decimals?), a group that is
/// not three digits (`20,5,0`), a sign, an exponent, more than two decimals.
pub(crate) fn parse_amount(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let t = t
        .strip_prefix(['€', '$', '£'])
        .or_else(|| t.strip_suffix(['€', '$', '£']))
        .unwrap_or(t)
        .trim();
    if t.is_empty() {
        return Err("is required".into());
    }
    let example = || "must be an amount like 20.50 or 20,50".to_owned();
    if t.starts_with(['-', '−']) {
        return Err("must be more than zero".into());
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '\u{a0}' | '\u{202f}'))
    {
        return Err(example());
    }
    // The decimal separator is the last mark when only two digits or fewer follow it, or when
    // both marks are used; any other mark groups thousands.
    let last_mark = t.rfind(['.', ',']);
    let both = t.contains('.') && t.contains(',');
    let (whole, fraction) = match last_mark {
        // A mark used more than once groups thousands, its last use too.
        Some(i) if t[..i].contains(char::from(t.as_bytes()[i])) => (t, ""),
        Some(i) => {
            let (whole, rest) = (&t[..i], &t[i + 1..]);
            if !rest.bytes().all(|b| b.is_ascii_digit()) {
                return Err(example());
            }
            match rest.len() {
                1 | 2 => (whole, rest),
                0 => return Err(example()),
                3 if !both => {
                    return Err(format!(
                        "could be read two ways: write {whole}{rest} (no mark) for that many, or use two decimals, like {whole}.00."
                    ));
                }
                _ if both => return Err(example()),
                _ => return Err("has more than two decimals".into()),
            }
        }
        None => (t, ""),
    };
    let digits = grouped_digits(whole).ok_or_else(example)?;
    let whole: i64 = digits.parse().map_err(|_| "is too large".to_owned())?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| example())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(|| "is too large".to_owned())
}

/// The digits of a whole number written plain (`1000`) or grouped by threes with one kind of
/// mark (`1,000`, `1.000`, `1 000`); `None` for anything else.
fn grouped_digits(whole: &str) -> Option<String> {
    let marks: Vec<char> = whole.chars().filter(|c| !c.is_ascii_digit()).collect();
    if whole.is_empty() || marks.iter().any(|m| *m != marks[0]) {
        return None;
    }
    let groups: Vec<&str> = match marks.first() {
        Some(&m) => whole.split(m).collect(),
        None => return Some(whole.to_owned()),
    };
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    (first_ok && rest_ok).then(|| groups.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_reads_in_its_zone_with_the_zone_named() {
        let t = Timestamp::parse_rfc3339("2027-05-01T18:00:00.25Z").unwrap();
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(moment(t, &paris), "Sat 1 May 2027 · 20:00 CEST");
        assert_eq!(instant(t, &paris), "Sat 1 May 2027 · 20:00:00.250 CEST");
        assert_eq!(
            show_time_at(t, "Europe/Paris"),
            "Sat 1 May 2027 · 20:00 CEST (Europe/Paris)"
        );
        assert_eq!(moment(t, &Zone::utc()), "Sat 1 May 2027 · 18:00 UTC");
        assert_eq!(datetime_local(t, &paris), "2027-05-01T20:00");
        assert_eq!(
            from_datetime_local("2027-05-01T20:00", &paris).unwrap(),
            "2027-05-01T20:00:00+02:00"
        );
        assert!(from_datetime_local("2027-03-28T02:30", &paris).is_err());
        assert_eq!(from_datetime_local("soon", &paris).unwrap(), "soon");
    }

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(250_000, "EUR"), "€2,500.00");
        assert_eq!(money(-350, "EUR"), "-€3.50");
        assert_eq!(money(5, "CHF"), "0.05 CHF");
    }

    #[test]
    fn typed_amounts_mean_what_a_person_meant() {
        for (typed, cents) in [
            ("12", 1_200),
            ("12.5", 1_250),
            ("20,50", 2_050),
            ("20.50", 2_050),
            ("20,5", 2_050),
            (" 20 ", 2_000),
            ("1.000,50", 100_050),
            ("1,000.50", 100_050),
            ("1 000,50", 100_050),
            ("1\u{a0}000", 100_000),
            ("1,000,000", 100_000_000),
            ("1.000.000,00", 100_000_000),
            ("€1,000.05", 100_005),
            ("25 €", 2_500),
            ("0,99", 99),
        ] {
            assert_eq!(parse_amount(typed), Ok(cents), "{typed:?}");
        }
    }

    #[test]
    fn amounts_that_could_be_read_two_ways_or_not_at_all_are_refused() {
        assert_eq!(parse_amount(""), Err("is required".into()));
        assert_eq!(parse_amount("  "), Err("is required".into()));
        assert_eq!(parse_amount("-5"), Err("must be more than zero".into()));
        assert_eq!(
            parse_amount("1,000"),
            Err(
                "could be read two ways: write 1000 (no mark) for that many, or use two decimals, like 1.00."
                    .into()
            )
        );
        assert!(
            parse_amount("10.000")
                .unwrap_err()
                .starts_with("could be read")
        );
        for bad in [
            "20,5,0",
            "1e3",
            "abc",
            ".5",
            ",50",
            "1.234,5.6",
            "1,00,000",
            "12.345.6",
            "1.2,50",
            "20.505",
            "+5",
            "5-",
            "1..5",
            "1,,5",
            "12 34",
            "1,5 0",
            "1 ,50",
            "5.",
            "5,",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?} was taken");
        }
        assert_eq!(
            parse_amount("99999999999999999999"),
            Err("is too large".into())
        );
    }

    #[test]
    fn a_datetime_local_value_is_read_in_the_zone_given() {
        let utc = Zone::utc();
        assert_eq!(
            from_datetime_local("2027-05-01T20:00", &utc).unwrap(),
            "2027-05-01T20:00:00+00:00"
        );
        assert_eq!(
            from_datetime_local("2027-05-01T20:00:30", &utc).unwrap(),
            "2027-05-01T20:00:30+00:00"
        );
        assert_eq!(
            from_datetime_local("2027-05-01T20:00:00+02:00", &utc).unwrap(),
            "2027-05-01T20:00:00+02:00"
        );
    }

    #[test]
    fn latencies_pick_a_readable_unit() {
        assert_eq!(micros(850), "850 µs");
        assert_eq!(micros(1_500), "1.5 ms");
        assert_eq!(micros(2_340_000), "2.34 s");
    }

    #[test]
    fn timelines_show_milliseconds_in_the_readers_zone() {
        assert_eq!(
            instant(Timestamp::from_micros(1_767_225_600_123_456), &Zone::utc()),
            "Thu 1 Jan 2026 · 00:00:00.123 UTC"
        );
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        assert_eq!(
            instant(Timestamp::from_micros(1_767_225_600_123_456), &tokyo),
            "Thu 1 Jan 2026 · 09:00:00.123 JST"
        );
    }
}
