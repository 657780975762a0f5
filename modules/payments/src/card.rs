//! Card details in, a gateway token out: validation (Luhn, expiry, security code), brand detection,
//! and the simulated gateway's test numbers. The number itself goes no further than this file.

use kernel::FieldErrors;
use payments_api::{CardDetails, CardToken};
use time::OffsetDateTime;

/// How the simulated gateway treats a card (encoded in its token, never the number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    Approve,
    DeclineCard,
    DeclineFunds,
    NoAnswer,
}

impl Behaviour {
    fn tag(self) -> &'static str {
        match self {
            Behaviour::Approve => "approve",
            Behaviour::DeclineCard => "decline_card",
            Behaviour::DeclineFunds => "decline_funds",
            Behaviour::NoAnswer => "no_answer",
        }
    }

    /// The behaviour a token was issued with.
    pub(crate) fn of_token(token: &str) -> Option<Behaviour> {
        let rest = token.strip_prefix("tok_")?;
        [
            Behaviour::DeclineCard,
            Behaviour::DeclineFunds,
            Behaviour::NoAnswer,
            Behaviour::Approve,
        ]
        .into_iter()
        .find(|b| rest.starts_with(b.tag()) && rest[b.tag().len()..].starts_with('_'))
    }
}

/// The documented test numbers; any other valid number is approved.
fn behaviour(number: &str) -> Behaviour {
    match number {
        "4000000000000002" => Behaviour::DeclineCard,
        "4000000000009995" => Behaviour::DeclineFunds,
        "4000000000003220" => Behaviour::NoAnswer,
        _ => Behaviour::Approve,
    }
}

fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn brand(digits: &str) -> &'static str {
    let prefix2: u32 = digits.get(..2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let prefix4: u32 = digits.get(..4).and_then(|p| p.parse().ok()).unwrap_or(0);
    match () {
        () if digits.starts_with('4') => "visa",
        () if (51..=55).contains(&prefix2) || (2221..=2720).contains(&prefix4) => "mastercard",
        () if prefix2 == 34 || prefix2 == 37 => "amex",
        () if prefix4 == 6011 || prefix2 == 65 => "discover",
        () => "card",
    }
}

/// Validates a card and issues a token for it. Field errors name `number`, `exp_month`,
/// `exp_year` and `cvc`.
pub(crate) fn tokenize(card: &CardDetails, now: OffsetDateTime) -> Result<CardToken, FieldErrors> {
    let mut errors = FieldErrors::new();
    let digits: String = card
        .number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if digits.is_empty() {
        errors.add("number", "is required");
    } else if !digits.bytes().all(|b| b.is_ascii_digit()) {
        errors.add("number", "must contain only digits");
    } else if !(12..=19).contains(&digits.len()) {
        errors.add("number", "must have 12 to 19 digits");
    } else if !luhn_valid(&digits) {
        errors.add("number", "is not a valid card number (check the digits)");
    }
    let month = match card.exp_month {
        None => {
            errors.add("exp_month", "is required");
            None
        }
        Some(m) if !(1..=12).contains(&m) => {
            errors.add("exp_month", "must be between 1 and 12");
            None
        }
        Some(m) => Some(m),
    };
    let year = match card.exp_year {
        None => {
            errors.add("exp_year", "is required");
            None
        }
        Some(y) => {
            let y = if (0..100).contains(&y) { 2000 + y } else { y };
            let this_year = i64::from(now.year());
            if y < 2000 || y > this_year + 25 {
                errors.add("exp_year", "is not a plausible expiry year");
                None
            } else {
                Some(y)
            }
        }
    };
    if let (Some(m), Some(y)) = (month, year)
        && (y, m) < (i64::from(now.year()), i64::from(u8::from(now.month())))
    {
        errors.add("exp_year", "is in the past: the card has expired");
    }
    let cvc = card.cvc.trim();
    let amex = brand(&digits) == "amex";
    if cvc.is_empty() {
        errors.add("cvc", "is required");
    } else if !cvc.bytes().all(|b| b.is_ascii_digit())
        || !(3..=4).contains(&cvc.len())
        || (amex && cvc.len() != 4)
    {
        errors.add(
            "cvc",
            if amex {
                "must be 4 digits"
            } else {
                "must be 3 or 4 digits"
            },
        );
    }
    errors.into_result()?;
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)
        .map_err(|_| FieldErrors::single("number", "could not be tokenized; try again"))?;
    let token = format!(
        "tok_{}_{}",
        behaviour(&digits).tag(),
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Ok(CardToken {
        token,
        brand: brand(&digits).to_owned(),
        last4: digits[digits.len() - 4..].to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn card(number: &str, month: i64, year: i64, cvc: &str) -> CardDetails {
        CardDetails {
            number: number.into(),
            exp_month: Some(month),
            exp_year: Some(year),
            cvc: cvc.into(),
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    fn fields(e: FieldErrors) -> Vec<String> {
        e.iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn the_test_numbers_tokenize_with_their_behaviour_and_only_brand_and_last_four() {
        for (number, expected) in [
            ("4242 4242 4242 4242", Behaviour::Approve),
            ("4000000000000002", Behaviour::DeclineCard),
            ("4000-0000-0000-9995", Behaviour::DeclineFunds),
            ("4000000000003220", Behaviour::NoAnswer),
        ] {
            let t = tokenize(&card(number, 12, 2030, "123"), NOW).unwrap();
            assert_eq!(Behaviour::of_token(&t.token), Some(expected), "{number}");
            assert_eq!(t.brand, "visa");
            assert!(!t.token.contains(&number.replace([' ', '-'], "")));
        }
        let t = tokenize(&card("4242424242424242", 1, 27, "123"), NOW).unwrap();
        assert_eq!(t.last4, "4242");
    }

    #[test]
    fn brands_are_recognized() {
        assert_eq!(brand("5555555555554444"), "mastercard");
        assert_eq!(brand("378282246310005"), "amex");
        assert_eq!(brand("6011111111111117"), "discover");
    }

    #[test]
    fn a_number_failing_the_luhn_check_is_refused() {
        let e = tokenize(&card("4242424242424241", 12, 2030, "123"), NOW).unwrap_err();
        assert_eq!(fields(e), ["number"]);
    }

    #[test]
    fn letters_short_numbers_and_missing_fields_are_each_named() {
        let e = tokenize(
            &CardDetails {
                number: "4242abcd".into(),
                exp_month: None,
                exp_year: None,
                cvc: "".into(),
            },
            NOW,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["number", "exp_month", "exp_year", "cvc"]);
        let e = tokenize(&card("42424242", 13, 2030, "12"), NOW).unwrap_err();
        assert_eq!(fields(e), ["number", "exp_month", "cvc"]);
    }

    #[test]
    fn an_expired_card_is_refused_and_this_month_is_still_valid() {
        let e = tokenize(&card("4242424242424242", 10, 2026, "123"), NOW).unwrap_err();
        assert!(e.message_for("exp_year").unwrap().contains("expired"));
        assert!(tokenize(&card("4242424242424242", 11, 2026, "123"), NOW).is_ok());
    }

    #[test]
    fn an_amex_needs_a_four_digit_code() {
        let e = tokenize(&card("378282246310005", 12, 2030, "123"), NOW).unwrap_err();
        assert_eq!(e.message_for("cvc"), Some("must be 4 digits"));
    }

    #[test]
    fn a_forged_token_has_no_behaviour() {
        assert_eq!(Behaviour::of_token("tok_approvex"), None);
        assert_eq!(Behaviour::of_token("4242424242424242"), None);
    }
}
