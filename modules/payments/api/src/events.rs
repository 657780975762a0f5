//! Integration events published by the payments module on the `payments` stream.

use kernel::{IntegrationEvent, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PaymentMethod;

macro_rules! integration_event {
    ($name:ident, $id:ident) => {
        impl IntegrationEvent for $name {
            const TYPE: &'static str = stringify!($name);
            const VERSION: u16 = 1;
            fn aggregate_id(&self) -> String {
                self.$id.to_string()
            }
        }
    };
}

/// Money was taken for a booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentCaptured {
    /// The payment.
    pub payment_id: Uuid,
    /// The booking paid for.
    pub booking_id: Uuid,
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
integration_event!(PaymentCaptured, payment_id);

/// A payment was refused; no money moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDeclined {
    /// The payment.
    pub payment_id: Uuid,
    /// The booking it was for.
    pub booking_id: Uuid,
    /// The payer.
    pub user_id: Uuid,
    /// `card_declined`, `insufficient_funds`, `expired` (the booking's deadline had passed) or
    /// `currency_mismatch`.
    pub reason: String,
    /// How it was to be paid.
    pub method: PaymentMethod,
    /// When.
    pub declined_at: Timestamp,
}
integration_event!(PaymentDeclined, payment_id);

/// Captured money was given back (the booking was cancelled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    /// The payment.
    pub payment_id: Uuid,
    /// The booking it was for.
    pub booking_id: Uuid,
    /// The payer.
    pub user_id: Uuid,
    /// Amount refunded, in cents.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// When.
    pub refunded_at: Timestamp,
}
integration_event!(PaymentRefunded, payment_id);

/// A pending payment was abandoned before the gateway answered; no money moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentVoided {
    /// The payment.
    pub payment_id: Uuid,
    /// The booking it was for.
    pub booking_id: Uuid,
    /// The payer.
    pub user_id: Uuid,
    /// When.
    pub voided_at: Timestamp,
}
integration_event!(PaymentVoided, payment_id);

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
integration_event!(WalletDeposited, user_id);
