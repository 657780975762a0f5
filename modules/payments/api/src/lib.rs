//! The payments module's public face: wallets, payments and their ledger as plain data, the card
//! details a customer types (turned into a token at once), and the integration events the module
//! publishes on the `payments` stream.
//!
//! Nothing here stores or logs a card number: only the token, the brand and the last four digits
//! ever leave the payments module.

mod events;
mod model;

pub use events::{
    PaymentCaptured, PaymentDeclined, PaymentRefunded, PaymentVoided, WalletDeposited,
};
pub use model::{
    CardDetails, CardToken, Ledger, LedgerEntry, LedgerEntryKind, Payment, PaymentHistoryEntry,
    PaymentMethod, PaymentStatus, Wallet,
};

/// The name of the module's event stream and database.
pub const STREAM: &str = "payments";
