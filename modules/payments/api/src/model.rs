//! Wallets, payments and ledgers as other modules and the application see them, and the typed
//! inputs of the module's commands and queries.

use std::fmt;

use kernel::{Cursor, FieldErrors, PageSize, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most one wallet may hold, in cents (100 million).
pub const MAX_BALANCE_CENTS: i64 = 10_000_000_000;
/// The largest single deposit, in cents (one million).
pub const MAX_DEPOSIT_CENTS: i64 = 100_000_000;

/// Card details as typed by a customer. Turned into a [`CardToken`] immediately (by the process
/// that hosts payments); never stored.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CardDetails {
    /// The card number (spaces and dashes allowed); it must pass the Luhn check.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, pattern = "^[0-9 -]{12,30}$")
    )]
    pub number: String,
    /// Expiry month, 1 to 12.
    #[serde(default, deserialize_with = "kernel::whole_number")]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, value_type = i64, minimum = 1, maximum = 12)
    )]
    pub exp_month: Option<i64>,
    /// Expiry year, four digits (or two); with the month, not in the past.
    #[serde(default, deserialize_with = "kernel::whole_number")]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = i64))]
    pub exp_year: Option<i64>,
    /// The 3- or 4-digit security code.
    #[cfg_attr(feature = "openapi", schema(required = true, pattern = "^[0-9]{3,4}$"))]
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

/// How a payment is to be made: from the payer's wallet, or by a card the gateway tokenized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PaymentSource {
    /// From the payer's wallet.
    Wallet,
    /// By card, through the payment gateway.
    Card(CardToken),
}

impl PaymentSource {
    /// `wallet` or `card`.
    pub fn kind(&self) -> &'static str {
        match self {
            PaymentSource::Wallet => "wallet",
            PaymentSource::Card(_) => "card",
        }
    }
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
    /// A payment taken from the wallet.
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
    /// The requester's reference of what was paid or refunded.
    pub reference: Option<Uuid>,
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
    /// The amount this step moved, in cents, in the payment's currency (`requested`,
    /// `refunded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<i64>,
}

/// A payment of one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// Its id.
    pub id: Uuid,
    /// The requester's reference of what is paid for.
    pub reference: Uuid,
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

/// One page of payments, newest first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentPage {
    /// The payments.
    pub items: Vec<Payment>,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Which payments to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFilter {
    /// Only the payment of this reference.
    pub reference: Option<Uuid>,
    /// How many.
    pub limit: PageSize,
    /// After the previous page.
    pub cursor: Option<Cursor>,
}

/// A deposit as received.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DepositRequest {
    /// Positive, at most 100 000 000 cents.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, value_type = i64, minimum = 1, maximum = 100_000_000)
    )]
    #[serde(default, deserialize_with = "kernel::whole_number")]
    pub amount_cents: Option<i64>,
}

/// A deposit's amount: positive and at most [`MAX_DEPOSIT_CENTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepositAmount(i64);
kernel::plain_value!(DepositAmount, i64, parse: DepositAmount::new, plain: |a: &DepositAmount| a.0);

impl DepositAmount {
    /// The amount, or why `cents` is not one.
    pub fn new(cents: i64) -> Result<DepositAmount, String> {
        if cents <= 0 {
            Err("must be positive".into())
        } else if cents > MAX_DEPOSIT_CENTS {
            Err(format!(
                "must be at most {MAX_DEPOSIT_CENTS} cents per deposit"
            ))
        } else {
            Ok(DepositAmount(cents))
        }
    }

    /// In cents.
    pub fn cents(self) -> i64 {
        self.0
    }
}

/// A validated deposit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MakeDeposit {
    /// How much.
    pub amount: DepositAmount,
}

impl TryFrom<DepositRequest> for MakeDeposit {
    type Error = FieldErrors;

    fn try_from(request: DepositRequest) -> Result<Self, FieldErrors> {
        let amount = request
            .amount_cents
            .ok_or_else(|| "is required".to_owned())
            .and_then(DepositAmount::new)
            .map_err(|m| FieldErrors::single("amount_cents", m))?;
        Ok(MakeDeposit { amount })
    }
}

/// A deposit's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deposit {
    /// Its id.
    pub deposit_id: Uuid,
    /// The wallet after it.
    pub wallet: Wallet,
}

/// Up to where a wallet's ledger is read ("time travel").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerPoint {
    /// Up to now.
    #[default]
    Latest,
    /// As it was at an instant.
    AsOf(Timestamp),
    /// As it was after this many events.
    Version(i64),
}

impl LedgerPoint {
    /// The point named by an instant or a version (not both), or the field errors.
    pub fn parse(as_of: Option<&str>, version: Option<i64>) -> Result<LedgerPoint, FieldErrors> {
        let mut errors = FieldErrors::new();
        let as_of = as_of.and_then(|t| {
            errors.check(
                "as_of",
                Timestamp::parse_rfc3339(t).map_err(|_| "must be an RFC 3339 date-time".into()),
            )
        });
        if version.is_some_and(|v| v < 0) {
            errors.add("version", "must not be negative");
        }
        if as_of.is_some() && version.is_some() {
            errors.add("version", "give as_of or version, not both");
        }
        errors.into_result()?;
        Ok(match (as_of, version) {
            (Some(t), _) => LedgerPoint::AsOf(t),
            (_, Some(v)) => LedgerPoint::Version(v),
            _ => LedgerPoint::Latest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deposit_must_be_positive_and_within_the_limit() {
        let deposit = |cents| {
            MakeDeposit::try_from(DepositRequest {
                amount_cents: cents,
            })
        };
        assert!(deposit(None).is_err());
        assert!(deposit(Some(0)).is_err());
        assert!(deposit(Some(MAX_DEPOSIT_CENTS + 1)).is_err());
        assert_eq!(deposit(Some(250)).unwrap().amount.cents(), 250);
    }

    #[test]
    fn a_ledger_is_read_up_to_an_instant_or_a_version_but_not_both() {
        assert_eq!(LedgerPoint::parse(None, None), Ok(LedgerPoint::Latest));
        assert_eq!(
            LedgerPoint::parse(None, Some(3)),
            Ok(LedgerPoint::Version(3))
        );
        assert!(LedgerPoint::parse(Some("someday"), None).is_err());
        assert!(LedgerPoint::parse(None, Some(-1)).is_err());
        assert!(LedgerPoint::parse(Some("2026-01-01T00:00:00Z"), Some(1)).is_err());
    }
}
