//! Tickets and the door: a confirmed booking's tickets (one per seat, or per admission), each
//! with a code the server signed, and the check-in that admits a ticket once.
//!
//! A code reads `BO1-` and 39 characters of Crockford base32 (grouped by dashes when printed):
//! the ticket's id and a 64-bit signature of it, made with a key only the bookings module holds.
//! Its shape is checked here, at the edge ([`TicketCode::parse`]); its signature by the module.

use kernel::{FieldErrors, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{BookedSeat, values::show_id};

/// The prefix of every code: a ticket of this box office, first format.
const PREFIX: &str = "BO1";
/// Crockford's base32 alphabet: no I, L, O or U, so that a code read aloud or typed survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// The signature's length in bytes.
pub const SIGNATURE_BYTES: usize = 8;
const PAYLOAD_BYTES: usize = 16 + SIGNATURE_BYTES;
const DIGITS: usize = (PAYLOAD_BYTES * 8).div_ceil(5);

/// A ticket code as typed or scanned: the ticket it names and the signature it carries (not yet
/// checked: only the module that signed it can).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketCode {
    ticket_id: Uuid,
    signature: [u8; SIGNATURE_BYTES],
}
kernel::plain_value!(TicketCode, String, parse: |s: String| TicketCode::parse(&s), plain: |c: &TicketCode| c.to_string());

impl TicketCode {
    /// The code for `ticket_id` with its `signature`.
    pub fn new(ticket_id: Uuid, signature: [u8; SIGNATURE_BYTES]) -> TicketCode {
        TicketCode {
            ticket_id,
            signature,
        }
    }

    /// The code in `raw` (any letter case; spaces and dashes ignored; `I`, `L` read as `1` and
    /// `O` as `0`), or why it is not one. A truncated or mistyped code is refused here.
    pub fn parse(raw: &str) -> Result<TicketCode, String> {
        let refused = || "is not a ticket code (BO1- and 39 letters and digits)".to_owned();
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        let digits = compact.strip_prefix(PREFIX).ok_or_else(refused)?;
        if digits.len() != DIGITS {
            return Err(refused());
        }
        let mut bits: u64 = 0;
        let mut held = 0;
        let mut bytes = Vec::with_capacity(PAYLOAD_BYTES);
        for c in digits.bytes() {
            let c = match c {
                b'I' | b'L' => b'1',
                b'O' => b'0',
                other => other,
            };
            let value = ALPHABET.iter().position(|a| *a == c).ok_or_else(refused)?;
            bits = (bits << 5) | value as u64;
            held += 5;
            if held >= 8 {
                held -= 8;
                bytes.push((bits >> held) as u8);
                bits &= (1 << held) - 1;
            }
        }
        // The bits past the last byte are padding, always zero in a code this server printed.
        if bits != 0 || bytes.len() != PAYLOAD_BYTES {
            return Err(refused());
        }
        let ticket_id = Uuid::from_slice(&bytes[..16]).map_err(|_| refused())?;
        let mut signature = [0; SIGNATURE_BYTES];
        signature.copy_from_slice(&bytes[16..]);
        Ok(TicketCode {
            ticket_id,
            signature,
        })
    }

    /// The ticket it names.
    pub fn ticket_id(&self) -> Uuid {
        self.ticket_id
    }

    /// The signature it carries.
    pub fn signature(&self) -> &[u8; SIGNATURE_BYTES] {
        &self.signature
    }

    /// The code grouped for print: `BO1-XXXXX-XXXXX-…`.
    pub fn grouped(&self) -> String {
        let text = self.to_string();
        let digits = &text[PREFIX.len()..];
        let groups: Vec<&str> = digits
            .as_bytes()
            .chunks(5)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!("{PREFIX}-{}", groups.join("-"))
    }
}

impl std::fmt::Display for TicketCode {
    /// The code as one word: `BO1` and 39 digits (what a QR code carries).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut payload = [0u8; PAYLOAD_BYTES];
        payload[..16].copy_from_slice(self.ticket_id.as_bytes());
        payload[16..].copy_from_slice(&self.signature);
        let mut out = String::with_capacity(PREFIX.len() + DIGITS);
        out.push_str(PREFIX);
        let mut bits: u64 = 0;
        let mut held = 0;
        for byte in payload {
            bits = (bits << 8) | u64::from(byte);
            held += 8;
            while held >= 5 {
                held -= 5;
                out.push(char::from(ALPHABET[((bits >> held) & 31) as usize]));
            }
            bits &= (1 << held) - 1;
        }
        if held > 0 {
            out.push(char::from(ALPHABET[((bits << (5 - held)) & 31) as usize]));
        }
        f.write_str(&out)
    }
}

/// A ticket: one seat (or admission) of a confirmed booking, and the code that opens the door.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    /// Its id.
    pub ticket_id: Uuid,
    /// The booking.
    pub booking_id: Uuid,
    /// The show.
    pub show_id: Uuid,
    /// The seat it admits to.
    pub seat: BookedSeat,
    /// The signed code, as one word (what its QR code carries).
    pub code: String,
    /// The code grouped for reading and typing: `BO1-XXXXX-XXXXX-…`.
    pub code_grouped: String,
    /// When it was admitted at the door, if it was.
    pub admitted_at: Option<Timestamp>,
}

/// A check-in at the door, as received.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CheckInRequest {
    /// The ticket's code, scanned or typed (letter case, spaces and dashes do not matter).
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 200)
    )]
    pub code: String,
    /// The show this door admits to: a ticket of another show is refused.
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = String, format = Uuid))]
    pub show_id: Option<String>,
}

/// A check-in at the door.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    /// The code presented.
    pub code: TicketCode,
    /// The show this door admits to.
    pub show_id: Uuid,
}

impl TryFrom<CheckInRequest> for CheckIn {
    type Error = FieldErrors;

    fn try_from(input: CheckInRequest) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::new();
        let code = if input.code.chars().count() > 200 {
            e.add("code", "must be at most 200 characters");
            None
        } else {
            e.check("code", TicketCode::parse(&input.code))
        };
        let show = e.check(
            "show_id",
            show_id(input.show_id.as_deref().unwrap_or_default()),
        );
        match (code, show) {
            (Some(code), Some(show_id)) if e.is_empty() => Ok(CheckIn { code, show_id }),
            _ => Err(e),
        }
    }
}

/// A ticket admitted at the door.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Admission {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its booking.
    pub booking_id: Uuid,
    /// The show.
    pub show_id: Uuid,
    /// The show's title.
    pub show_title: String,
    /// The seat to show the way to.
    pub seat: BookedSeat,
    /// When it was admitted.
    pub admitted_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> TicketCode {
        TicketCode::new(
            Uuid::parse_str("01900000-0000-7000-8000-0000000000ff").unwrap(),
            [1, 2, 3, 4, 5, 6, 7, 8],
        )
    }

    #[test]
    fn a_code_survives_its_printed_forms_and_careless_typing() {
        let c = code();
        let text = c.to_string();
        assert!(text.starts_with("BO1") && text.len() == 42, "{text}");
        assert_eq!(TicketCode::parse(&text), Ok(c));
        assert_eq!(TicketCode::parse(&c.grouped()), Ok(c));
        let grouped = c.grouped();
        let digits = grouped[4..]
            .to_lowercase()
            .replace('0', "o")
            .replace('1', "l");
        assert_eq!(TicketCode::parse(&format!("  bo1 {digits} ")), Ok(c));
    }

    #[test]
    fn a_truncated_altered_or_foreign_code_is_not_a_code() {
        let text = code().to_string();
        for bad in [
            "",
            "BO1",
            &text[..41],
            &format!("{text}0"),
            &text.replacen("BO1", "BO2", 1),
            &format!("{}U", &text[..41]),
        ] {
            assert!(TicketCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_check_in_needs_a_code_and_the_show_of_the_door() {
        let e = CheckIn::try_from(CheckInRequest {
            code: code().to_string(),
            show_id: None,
        })
        .unwrap_err();
        assert_eq!(e.message_for("show_id"), Some("is required"));
    }

    #[test]
    fn a_check_in_needs_a_code_and_a_show_that_is_an_id() {
        let e = CheckIn::try_from(CheckInRequest {
            code: "nonsense".into(),
            show_id: Some("nope".into()),
        })
        .unwrap_err();
        let fields: Vec<_> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["code", "show_id"]);
    }
}
