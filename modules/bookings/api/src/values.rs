//! The booking domain's values, each valid by construction: a seat count, a show's title and
//! venue, its capacity and seat price, a currency, an idempotency key. The typed commands are made
//! of them, so nothing past the edge checks them again.

use std::fmt;

use uuid::Uuid;

/// The most seats one booking may hold.
pub const MAX_SEATS: i64 = 20;
/// The largest show.
pub const MAX_CAPACITY: i64 = 100_000;
/// The highest seat price, in cents.
pub const MAX_PRICE_CENTS: i64 = 1_000_000;
/// The longest title or venue name.
pub const MAX_LABEL_CHARS: usize = 120;

/// Seats asked for in one booking: 1 to [`MAX_SEATS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seats(i64);
kernel::plain_value!(Seats, i64, parse: Seats::new, plain: |s: &Seats| s.0);

impl Seats {
    /// The count, or why `n` is not one.
    pub fn new(n: i64) -> Result<Seats, String> {
        if (1..=MAX_SEATS).contains(&n) {
            Ok(Seats(n))
        } else {
            Err(format!("must be between 1 and {MAX_SEATS}"))
        }
    }

    /// How many.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// A show's title or its venue's name: 1 to [`MAX_LABEL_CHARS`] characters, no control
/// characters, runs of spaces folded into one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label(String);
kernel::plain_value!(Label, String, parse: |s: String| Label::parse(&s), plain: |l: &Label| l.0.clone());

impl Label {
    /// The label, or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<Label, String> {
        let s = raw.trim();
        if s.is_empty() {
            Err("is required".into())
        } else if raw.chars().count() > MAX_LABEL_CHARS {
            Err(format!("must be at most {MAX_LABEL_CHARS} characters"))
        } else if s.chars().any(char::is_control) {
            Err("must not contain control characters".into())
        } else {
            Ok(Label(s.split_whitespace().collect::<Vec<_>>().join(" ")))
        }
    }

    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Seats in a show: 1 to [`MAX_CAPACITY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity(i64);
kernel::plain_value!(Capacity, i64, parse: Capacity::new, plain: |c: &Capacity| c.0);

impl Capacity {
    /// The capacity, or why `n` is not one.
    pub fn new(n: i64) -> Result<Capacity, String> {
        if (1..=MAX_CAPACITY).contains(&n) {
            Ok(Capacity(n))
        } else {
            Err(format!("must be between 1 and {MAX_CAPACITY}"))
        }
    }

    /// How many seats.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// The price of one seat in cents: 0 to [`MAX_PRICE_CENTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeatPrice(i64);
kernel::plain_value!(SeatPrice, i64, parse: SeatPrice::new, plain: |p: &SeatPrice| p.0);

impl SeatPrice {
    /// The price, or why `cents` is not one.
    pub fn new(cents: i64) -> Result<SeatPrice, String> {
        if (0..=MAX_PRICE_CENTS).contains(&cents) {
            Ok(SeatPrice(cents))
        } else {
            Err(format!("must be between 0 and {MAX_PRICE_CENTS}"))
        }
    }

    /// In cents.
    pub fn cents(self) -> i64 {
        self.0
    }
}

/// An ISO 4217 currency code: three letters, upper-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currency(String);
kernel::plain_value!(Currency, String, parse: |s: String| Currency::parse(&s), plain: |c: &Currency| c.0.clone());

impl Currency {
    /// The code, or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<Currency, String> {
        let c = raw.trim().to_ascii_uppercase();
        if c.is_empty() {
            Err("is required".into())
        } else if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            Err("must be a three-letter ISO 4217 code such as EUR".into())
        } else {
            Ok(Currency(c))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);
kernel::plain_value!(IdempotencyKey, String, parse: |s: String| IdempotencyKey::parse(&s), plain: |k: &IdempotencyKey| k.0.clone());

impl IdempotencyKey {
    /// The key, or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<IdempotencyKey, String> {
        if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            Err("must be 1 to 255 visible ASCII characters".into())
        } else {
            Ok(IdempotencyKey(raw.to_owned()))
        }
    }

    /// As sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Seats chosen by id for one booking: 1 to [`MAX_SEATS`] seat ids, none twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatIds(Vec<Uuid>);
kernel::plain_value!(SeatIds, Vec<Uuid>, parse: SeatIds::new, plain: |s: &SeatIds| s.0.clone());

impl SeatIds {
    /// The seats, or why `ids` are not a choice of seats.
    pub fn new(ids: Vec<Uuid>) -> Result<SeatIds, String> {
        if ids.is_empty() {
            return Err("must name at least one seat".into());
        }
        if ids.len() > MAX_SEATS as usize {
            return Err(format!("must name at most {MAX_SEATS} seats"));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
            return Err(format!("names seat {twice} twice"));
        }
        Ok(SeatIds(ids))
    }

    /// The seat ids as sent (UUIDs), or why they are not a choice of seats.
    pub fn parse(raw: &[String]) -> Result<SeatIds, String> {
        let ids = raw
            .iter()
            .map(|r| {
                Uuid::parse_str(r.trim())
                    .map_err(|_| format!("must be seat ids (UUIDs): {r:?} is not one"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        SeatIds::new(ids)
    }

    /// The ids, in the order asked.
    pub fn ids(&self) -> &[Uuid] {
        &self.0
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a choice names one seat at least.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A venue id as sent (a UUID), or why it is not one.
pub fn venue_id(raw: &str) -> Result<Uuid, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is required".into());
    }
    Uuid::parse_str(raw).map_err(|_| "must be a venue id (a UUID)".into())
}

/// A show id as sent (a UUID), or why it is not one.
pub fn show_id(raw: &str) -> Result<Uuid, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is required".into());
    }
    Uuid::parse_str(raw).map_err(|_| "must be a show id (a UUID)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_negative_and_too_many_seats_are_refused() {
        for bad in [0, -1, 21, i64::MAX] {
            assert_eq!(
                Seats::new(bad),
                Err("must be between 1 and 20".into()),
                "{bad}"
            );
        }
        assert_eq!(Seats::new(20).map(Seats::get), Ok(20));
    }

    #[test]
    fn currencies_are_three_letters_upper_cased() {
        assert_eq!(Currency::parse(" eur ").unwrap().as_str(), "EUR");
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("E1R").is_err());
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_of_sane_length() {
        assert!(IdempotencyKey::parse("order-42").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn labels_are_trimmed_folded_and_bounded() {
        assert_eq!(
            Label::parse("  The   Tempest ").unwrap().as_str(),
            "The Tempest"
        );
        assert!(Label::parse("   ").is_err());
        assert!(Label::parse(&"x".repeat(121)).is_err());
        assert!(Label::parse("tab\there").is_err());
    }
}
