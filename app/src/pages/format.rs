//! How values read on a page: times, durations, JSON.

use kernel::Timestamp;

/// `2026-11-21 19:41:39.496` (UTC).
pub(crate) fn time(t: Timestamp) -> String {
    let d = t.to_offset_date_time();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.millisecond()
    )
}

/// The time of day, for a moment within the hour: `19:58:48 UTC`.
pub(crate) fn time_of_day(t: Timestamp) -> String {
    let d = t.to_offset_date_time();
    format!("{:02}:{:02}:{:02} UTC", d.hour(), d.minute(), d.second())
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

/// When a show starts: `Sat 1 Jun 2099 · 19:30 UTC`.
pub(crate) fn show_time(t: Timestamp) -> String {
    let d = t.to_offset_date_time();
    let weekday = &d.weekday().to_string()[..3];
    let month = &d.month().to_string()[..3];
    format!(
        "{weekday} {} {month} {} · {:02}:{:02} UTC",
        d.day(),
        d.year(),
        d.hour(),
        d.minute()
    )
}

/// A date: `1 Jun 2099`.
pub(crate) fn date(t: Timestamp) -> String {
    let d = t.to_offset_date_time();
    format!("{} {} {}", d.day(), &d.month().to_string()[..3], d.year())
}

/// The value of an `<input type="datetime-local">` for `t` (UTC, minutes).
pub(crate) fn datetime_local(t: Timestamp) -> String {
    let d = t.to_offset_date_time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute()
    )
}

/// An `<input type="datetime-local">` value (taken as UTC) as RFC 3339; other text is passed on
/// for the module to judge.
pub(crate) fn from_datetime_local(text: &str) -> String {
    let t = text.trim();
    // `YYYY-MM-DDTHH:MM`, or with `:SS` when the field has a step under a minute.
    let local = |len: usize| t.len() == len && t.as_bytes()[10] == b'T' && !t.contains(['Z', '+']);
    if local(16) {
        format!("{t}:00Z")
    } else if local(19) {
        format!("{t}Z")
    } else {
        t.to_owned()
    }
}

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
    fn a_datetime_local_value_is_taken_as_utc() {
        assert_eq!(
            from_datetime_local("2027-05-01T20:00"),
            "2027-05-01T20:00:00Z"
        );
        assert_eq!(
            from_datetime_local("2027-05-01T20:00:30"),
            "2027-05-01T20:00:30Z"
        );
        assert_eq!(
            from_datetime_local("2027-05-01T20:00:00+02:00"),
            "2027-05-01T20:00:00+02:00"
        );
        assert_eq!(
            show_time(Timestamp::parse_rfc3339("2099-06-01T19:30:00Z").unwrap()),
            "Mon 1 Jun 2099 · 19:30 UTC"
        );
    }

    #[test]
    fn latencies_pick_a_readable_unit() {
        assert_eq!(micros(850), "850 µs");
        assert_eq!(micros(1_500), "1.5 ms");
        assert_eq!(micros(2_340_000), "2.34 s");
    }

    #[test]
    fn times_show_milliseconds_in_utc() {
        assert_eq!(
            time(Timestamp::from_micros(1_767_225_600_123_456)),
            "2026-01-01 00:00:00.123"
        );
    }
}
