//! Validated booking values: show details, seat counts, currencies, idempotency keys.

use kernel::{FieldErrors, Timestamp};
use uuid::Uuid;

/// The most seats one booking may hold.
pub(crate) const MAX_SEATS: i64 = 20;
/// The largest show.
pub(crate) const MAX_CAPACITY: i64 = 100_000;
/// The highest seat price, in cents.
pub(crate) const MAX_PRICE: i64 = 1_000_000;

fn text(field: &str, raw: &str, max: usize, errors: &mut FieldErrors) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() {
        errors.add(field, "is required");
        None
    } else if s.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
        None
    } else if s.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
        None
    } else {
        Some(s.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

pub(crate) fn title(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    text("title", raw, 120, errors)
}

pub(crate) fn venue(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    text("venue", raw, 120, errors)
}

/// A start time: RFC 3339 and in the future.
pub(crate) fn starts_at(raw: &str, now: Timestamp, errors: &mut FieldErrors) -> Option<Timestamp> {
    let raw = raw.trim();
    if raw.is_empty() {
        errors.add("starts_at", "is required");
        return None;
    }
    match Timestamp::parse_rfc3339(raw) {
        Err(_) => {
            errors.add(
                "starts_at",
                "must be an RFC 3339 date-time like 2027-05-01T20:00:00Z",
            );
            None
        }
        Ok(t) if t <= now => {
            errors.add("starts_at", "must be in the future");
            None
        }
        Ok(t) => Some(t),
    }
}

pub(crate) fn capacity(raw: Option<i64>, errors: &mut FieldErrors) -> Option<i64> {
    match raw {
        None => errors.add("capacity", "is required"),
        Some(c) if !(1..=MAX_CAPACITY).contains(&c) => {
            errors.add("capacity", format!("must be between 1 and {MAX_CAPACITY}"))
        }
        Some(c) => return Some(c),
    }
    None
}

pub(crate) fn price(raw: Option<i64>, errors: &mut FieldErrors) -> Option<i64> {
    match raw {
        None => errors.add("price_cents", "is required"),
        Some(p) if !(0..=MAX_PRICE).contains(&p) => {
            errors.add("price_cents", format!("must be between 0 and {MAX_PRICE}"))
        }
        Some(p) => return Some(p),
    }
    None
}

/// An ISO 4217 code: three letters, upper-cased.
pub(crate) fn currency(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    let c = raw.trim().to_ascii_uppercase();
    if c.is_empty() {
        errors.add("currency", "is required");
        None
    } else if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.add(
            "currency",
            "must be a three-letter ISO 4217 code such as EUR",
        );
        None
    } else {
        Some(c)
    }
}

pub(crate) fn seats(raw: i64, errors: &mut FieldErrors) -> Option<i64> {
    if (1..=MAX_SEATS).contains(&raw) {
        Some(raw)
    } else {
        errors.add("seats", format!("must be between 1 and {MAX_SEATS}"));
        None
    }
}

pub(crate) fn show_id(raw: &str, errors: &mut FieldErrors) -> Option<Uuid> {
    match Uuid::parse_str(raw.trim()) {
        Ok(id) => Some(id),
        Err(_) if raw.trim().is_empty() => {
            errors.add("show_id", "is required");
            None
        }
        Err(_) => {
            errors.add("show_id", "must be a show id (a UUID)");
            None
        }
    }
}

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub(crate) fn idempotency_key(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        errors.add(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        );
        None
    } else {
        Some(raw.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(f: impl FnOnce(&mut FieldErrors)) -> Vec<String> {
        let mut e = FieldErrors::new();
        f(&mut e);
        e.iter().map(|e| e.message.clone()).collect()
    }

    #[test]
    fn zero_negative_and_too_many_seats_are_refused() {
        for bad in [0, -1, 21, i64::MAX] {
            assert_eq!(
                errs(|e| assert!(seats(bad, e).is_none())),
                ["must be between 1 and 20"],
                "{bad}"
            );
        }
        assert!(seats(20, &mut FieldErrors::new()).is_some());
    }

    #[test]
    fn a_start_in_the_past_or_unparseable_is_refused() {
        let now = Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap();
        assert_eq!(
            errs(|e| assert!(starts_at("2026-11-21T11:59:59Z", now, e).is_none())),
            ["must be in the future"]
        );
        assert!(
            errs(|e| assert!(starts_at("next friday", now, e).is_none()))[0].contains("RFC 3339")
        );
        assert!(starts_at("2027-01-01T20:00:00+01:00", now, &mut FieldErrors::new()).is_some());
    }

    #[test]
    fn currencies_are_three_letters_upper_cased() {
        assert_eq!(
            currency(" eur ", &mut FieldErrors::new()).as_deref(),
            Some("EUR")
        );
        assert!(currency("EURO", &mut FieldErrors::new()).is_none());
        assert!(currency("E1R", &mut FieldErrors::new()).is_none());
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_of_sane_length() {
        assert!(idempotency_key("order-42", &mut FieldErrors::new()).is_some());
        assert!(idempotency_key("", &mut FieldErrors::new()).is_none());
        assert!(idempotency_key("has space", &mut FieldErrors::new()).is_none());
        assert!(idempotency_key(&"k".repeat(256), &mut FieldErrors::new()).is_none());
    }
}
