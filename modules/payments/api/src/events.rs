//! Integration events published by the payments module on the `payments` stream. Each names the
//! requester's `reference` (the id the requester gave in [`RequestPayment`](crate::RequestPayment)),
//! so a requester recognises the answers to its own requests and ignores the rest.
//!
//! Version 2 renamed `booking_id` to `reference`: version 1 events, still in older logs, are read
//! through the alias.

use kernel::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PaymentMethod;

/// Money was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentCaptured {
    /// The payment.
    pub payment_id: Uuid,
    /// The requester's reference.
    #[serde(alias = "booking_id")]
    pub reference: Uuid,
    /// The payer.
    pub user_id: Uuid,
    /// Amount in cents.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// How it was paid.
    pub method: PaymentMethod,
    /// When.
    pub captured_at: Timestamp,
}
kernel::integration_event!(PaymentCaptured, payment_id, version = 2);

/// A payment was refused; no money moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDeclined {
    /// The payment.
    pub payment_id: Uuid,
    /// The requester's reference.
    #[serde(alias = "booking_id")]
    pub reference: Uuid,
    /// The payer.
    pub user_id: Uuid,
    /// `card_declined`, `insufficient_funds`, `expired` (the request's deadline had passed) or
    /// `currency_mismatch`.
    pub reason: String,
    /// How it was to be paid.
    pub method: PaymentMethod,
    /// When.
    pub declined_at: Timestamp,
}
kernel::integration_event!(PaymentDeclined, payment_id, version = 2);

/// Captured money was given back (the requester cancelled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    /// The payment.
    pub payment_id: Uuid,
    /// The requester's reference.
    #[serde(alias = "booking_id")]
    pub reference: Uuid,
    /// The payer.
    pub user_id: Uuid,
    /// Amount refunded, in cents.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// When.
    pub refunded_at: Timestamp,
}
kernel::integration_event!(PaymentRefunded, payment_id, version = 2);

/// A pending payment was abandoned before the gateway answered; no money moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentVoided {
    /// The payment.
    pub payment_id: Uuid,
    /// The requester's reference.
    #[serde(alias = "booking_id")]
    pub reference: Uuid,
    /// The payer.
    pub user_id: Uuid,
    /// When.
    pub voided_at: Timestamp,
}
kernel::integration_event!(PaymentVoided, payment_id, version = 2);

/// Money was put into a wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletDeposited {
    /// The wallet's owner.
    pub user_id: Uuid,
    /// Amount in cents.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The balance after the deposit.
    pub balance_cents: i64,
    /// The wallet's version after the deposit.
    pub version: i64,
    /// When.
    pub deposited_at: Timestamp,
}
kernel::integration_event!(WalletDeposited, user_id);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_one_event_naming_a_booking_reads_as_the_reference() {
        let v1 = r#"{"payment_id":"0190e0c0-0000-7000-8000-000000000001",
            "booking_id":"0190e0c0-0000-7000-8000-000000000002",
            "user_id":"0190e0c0-0000-7000-8000-000000000003",
            "amount_cents":500,"currency":"EUR",
            "method":{"kind":"wallet","brand":null,"last4":null},
            "captured_at":"2026-11-01T10:00:00Z"}"#;
        let e: PaymentCaptured = serde_json::from_str(v1).unwrap();
        assert_eq!(
            e.reference.to_string(),
            "0190e0c0-0000-7000-8000-000000000002"
        );
        let v2 = serde_json::to_value(&e).unwrap();
        assert!(v2.get("booking_id").is_none() && v2.get("reference").is_some());
    }
}
