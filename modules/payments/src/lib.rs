//! The payments module: wallets and payments as event-sourced aggregates in its own
//! `payments.db`, a simulated card gateway, and the compensation side of the booking saga.
//!
//! A wallet's balance is the fold of its events; every change appends to the wallet's stream with
//! optimistic concurrency on its version, so its ledger can be shown as of any time or version.
//! The module reacts to the bookings module's events (`BookingPlaced` asks for a payment,
//! `BookingCancelled` for a refund or a void) and publishes `PaymentCaptured`, `PaymentDeclined`,
//! `PaymentRefunded`, `PaymentVoided` and `WalletDeposited`.
//!
//! It deliberately never stores a card number: cards become gateway tokens on arrival, and only
//! the token, the brand and the last four digits are kept.

mod card;
mod error;
mod gateway;
mod handler;
mod payment;
mod service;
mod store;
mod wallet;

pub use error::PaymentsError;
pub use service::{Deposit, PaymentPage, Payments, PaymentsConfig};
