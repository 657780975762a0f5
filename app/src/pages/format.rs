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

/// An amount of money: `€25.00`, `-€3.50`, `25.00 CHF`.
pub(crate) fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let number = format!("{}.{:02}", group(abs / 100), abs % 100);
    match currency {
        "EUR" => format!("{sign}€{number}"),
        "USD" => format!("{sign}${number}"),
        "GBP" => format!("{sign}£{number}"),
        other => format!("{sign}{number} {other}"),
    }
}

fn group(mut n: u64) -> String {
    let mut parts = Vec::new();
    loop {
        if n < 1000 {
            parts.push(n.to_string());
            break;
        }
        parts.push(format!("{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join(",")
}

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

/// An amount typed in a form (`12`, `12.5`, `12.50`) as cents.
pub(crate) fn parse_amount(text: &str) -> Result<i64, String> {
    let t = text
        .trim()
        .trim_start_matches(['€', '$', '£'])
        .replace(',', "");
    let message = || "must be an amount like 12.50".to_owned();
    if t.is_empty() {
        return Err("is required".into());
    }
    let (whole, fraction) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
    {
        return Err(message());
    }
    let whole: i64 = whole.parse().map_err(|_| "is too large".to_owned())?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| message())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(|| "is too large".to_owned())
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
    fn typed_amounts_become_cents_and_nonsense_is_refused() {
        assert_eq!(parse_amount("12"), Ok(1_200));
        assert_eq!(parse_amount("12.5"), Ok(1_250));
        assert_eq!(parse_amount("€1,000.05"), Ok(100_005));
        for bad in ["", "-3", "1.234", "abc", "1e5", ".5"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        assert!(parse_amount("99999999999999999999").is_err());
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
