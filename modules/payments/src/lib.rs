//! The payments module: wallets and payments as event-sourced aggregates in its own
//! `payments.db`, a simulated card gateway, and refunds.
//!
//! A wallet's balance is the fold of its events; every change appends to the wallet's stream with
//! optimistic concurrency on its version, so its ledger can be shown as of any time or version.
//! The module carries out the commands of `payments-api` (`RequestPayment`, `CancelPayment`)
//! from whichever streams the application subscribes it to, and publishes `PaymentCaptured`,
//! `PaymentDeclined`, `PaymentRefunded`, `PaymentVoided` and `WalletDeposited`.
//!
//! It deliberately knows nothing of what is paid for: a requester's `reference` is opaque here.
//! It never stores a card number: cards become gateway tokens on arrival, and only the token,
//! the brand and the last four digits are kept.

mod card;
mod gateway;
mod handler;
mod payment;
mod service;
mod store;
mod wallet;

pub use service::{Payments, PaymentsConfig};
