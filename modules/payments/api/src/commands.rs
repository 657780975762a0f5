//! The commands the payments module carries out, in its own vocabulary. A requester (the bookings
//! module today, any module that sells something tomorrow) writes them to *its own* outbox with
//! `WriteTx::send`; payments subscribes to the requester's stream for these types only, so the
//! request reaches it exactly once, and answers with the events of the `payments` stream, each
//! naming the request's `reference`.

use kernel::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PaymentSource;

/// Take money for something the requester sells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPayment {
    /// The requester's own id for what is paid for: unique across requesters (a UUID), named by
    /// every answer, and the key of at most one payment.
    pub reference: Uuid,
    /// Who pays.
    pub user_id: Uuid,
    /// Amount in cents.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// From the payer's wallet, or by card.
    pub source: PaymentSource,
    /// After this, no money is taken: the payment is declined as `expired`.
    pub deadline_at: Timestamp,
}
kernel::command!(RequestPayment, reference);

/// The requester no longer wants what it asked to be paid: money taken is refunded, a payment
/// still pending is voided (or refunded the moment a late gateway answer captures it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelPayment {
    /// The reference of the [`RequestPayment`].
    pub reference: Uuid,
    /// When the requester decided.
    pub cancelled_at: Timestamp,
}
kernel::command!(CancelPayment, reference);
