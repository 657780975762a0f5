//! The payments module's public face: the [`PaymentsApi`] the application calls, wallets,
//! payments and their ledger as plain data, the typed inputs of its commands, the commands other modules send it ([`RequestPayment`],
//! [`CancelPayment`]), the events it publishes on the `payments` stream, and its error.
//!
//! It knows no customer of its own: a requester names what is paid for with an opaque
//! `reference`, and every answer carries it back. Nothing here stores or logs a card number: only
//! the token, the brand and the last four digits ever leave the payments module.

mod api;
mod commands;
mod error;
mod events;
mod model;

pub use api::{PaymentsApi, Wallets};
pub use commands::{CancelPayment, RequestPayment};
pub use error::PaymentsError;
pub use events::{
    PaymentCaptured, PaymentDeclined, PaymentRefunded, PaymentVoided, WalletDeposited,
};
pub use model::{
    CardDetails, CardToken, Deposit, DepositAmount, DepositRequest, Ledger, LedgerEntry,
    LedgerEntryKind, LedgerPoint, MAX_BALANCE_CENTS, MAX_DEPOSIT_CENTS, MakeDeposit, Payment,
    PaymentFilter, PaymentHistoryEntry, PaymentMethod, PaymentPage, PaymentSource, PaymentStatus,
    Wallet,
};

/// The name of the module's event stream and database.
pub const STREAM: &str = "payments";
