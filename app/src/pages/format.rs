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

#[cfg(test)]
mod tests {
    use super::*;

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
