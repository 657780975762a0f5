//! Wallets, payments and ledgers as other modules and the application see them.

use std::fmt;

use kernel::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Card details as typed by a customer. Turned into a [`CardToken`] immediately; never stored.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CardDetails {
    /// The card number (spaces and dashes allowed).
    pub number: String,
    /// Expiry month, 1 to 12.
    pub exp_month: Option<i64>,
    /// Expiry year, four digits (or two).
    pub exp_year: Option<i64>,
    /// The 3- or 4-digit security code.
    pub cvc: String,
}

impl fmt::Debug for CardDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardDetails(<redacted>)")
    }
}

/// A card as the box office may keep it: an opaque gateway token, the brand and the last four
/// digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardToken {
    /// The gateway's token for this card.
    pub token: String,
    /// `visa`, `mastercard`, `amex`, `discover` or `card`.
    pub brand: String,
    /// The last four digits.
    pub last4: String,
}

/// A customer's wallet: its balance is the fold of its event stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Wallet {
    /// The owner (one wallet per user).
    pub user_id: Uuid,
    /// Balance in cents.
    pub balance_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Number of events in the wallet's stream.
    pub version: i64,
}

/// What moved money in a wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LedgerEntryKind {
    /// Money put in.
    Deposit,
    /// A booking paid from the wallet.
    Charge,
    /// A charge given back.
    Refund,
}

/// One event of a wallet's stream, with the balance after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    /// Position in the wallet's stream (1 is the first event).
    pub version: i64,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// What happened.
    pub kind: LedgerEntryKind,
    /// Signed amount in cents (charges are negative).
    pub amount_cents: i64,
    /// The running balance after this entry.
    pub balance_after_cents: i64,
    /// The booking paid or refunded.
    pub booking_id: Option<Uuid>,
    /// The payment charged or refunded.
    pub payment_id: Option<Uuid>,
}

/// A wallet's history up to a point in time or a version ("time travel").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ledger {
    /// The owner.
    pub user_id: Uuid,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The instant asked for, if any.
    pub as_of: Option<Timestamp>,
    /// The version the ledger stops at.
    pub version: i64,
    /// The newest version of the wallet (to show how far back this is).
    pub latest_version: i64,
    /// Balance at that point.
    pub balance_cents: i64,
    /// Entries up to that point, oldest first.
    pub entries: Vec<LedgerEntry>,
}

/// How a payment is made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentMethod {
    /// `wallet` or `card`.
    pub kind: String,
    /// The card's brand.
    pub brand: Option<String>,
    /// The card's last four digits.
    pub last4: Option<String>,
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Requested; the gateway has not answered.
    Pending,
    /// Money taken.
    Captured,
    /// Refused (see `decline_reason`).
    Declined,
    /// Taken, then given back.
    Refunded,
    /// Abandoned before any money moved.
    Voided,
}

impl PaymentStatus {
    /// The status as stored and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Voided => "voided",
        }
    }

    /// Parses [`PaymentStatus::as_str`]'s output.
    pub fn parse(text: &str) -> Option<PaymentStatus> {
        [
            Self::Pending,
            Self::Captured,
            Self::Declined,
            Self::Refunded,
            Self::Voided,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One step of a payment's own event stream: its audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentHistoryEntry {
    /// Position in the payment's stream.
    pub version: i64,
    /// When.
    pub occurred_at: Timestamp,
    /// `requested`, `captured`, `declined`, `cancel_requested`, `refunded`, `voided`.
    pub event: String,
    /// Details (decline reason, gateway reference).
    pub detail: Option<String>,
}

/// A payment for one booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// Its id.
    pub id: Uuid,
    /// The booking paid for.
    pub booking_id: Uuid,
    /// The payer.
    pub user_id: Uuid,
    /// Amount in cents.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// How it is paid.
    pub method: PaymentMethod,
    /// Where it stands.
    pub status: PaymentStatus,
    /// Why it was declined (`card_declined`, `insufficient_funds`, `expired`, `currency_mismatch`).
    pub decline_reason: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Its audit trail, oldest first (on single-payment views; empty in lists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<PaymentHistoryEntry>,
}
