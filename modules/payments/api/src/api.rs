//! The payments module's API as a trait: what the application may ask of it, answered by the
//! module in this process or by a client of the process that hosts it. Money is requested and
//! given back by commands on the requester's own stream (`RequestPayment`, `CancelPayment`), not
//! by calls.

use async_trait::async_trait;
use kernel::Trace;
use users_api::Actor;
use uuid::Uuid;

use crate::{
    CardDetails, CardToken, Deposit, Ledger, LedgerPoint, MakeDeposit, Payment, PaymentFilter,
    PaymentPage, PaymentsError, Wallet,
};

/// What another module may ask of wallets: a customer's balance and currency (bookings asks,
/// before it holds seats for a wallet payment, whether the wallet can pay).
#[async_trait]
pub trait Wallets: Send + Sync {
    /// A wallet: its balance is the fold of its events.
    async fn wallet(&self, user_id: Uuid) -> Result<Wallet, PaymentsError>;
}

/// Wallets, card tokens and payments with their audit trails.
#[async_trait]
pub trait PaymentsApi: Wallets {
    /// The wallets' currency (ISO 4217).
    async fn currency(&self) -> Result<String, PaymentsError>;

    /// Validates card details and turns them into a gateway token; the number goes no further.
    /// Field errors name `number`, `exp_month`, `exp_year` and `cvc`.
    async fn tokenize_card(&self, card: &CardDetails) -> Result<CardToken, PaymentsError>;

    /// Puts money into `user_id`'s wallet.
    async fn deposit(
        &self,
        trace: Trace,
        user_id: Uuid,
        deposit: MakeDeposit,
    ) -> Result<Deposit, PaymentsError>;

    /// A wallet's ledger with running balances, up to now, to an instant, or to a version.
    async fn ledger(&self, user_id: Uuid, point: LedgerPoint) -> Result<Ledger, PaymentsError>;

    /// Payments, newest first: a customer's own, or everyone's for an admin.
    async fn payments(
        &self,
        actor: &Actor,
        filter: PaymentFilter,
    ) -> Result<PaymentPage, PaymentsError>;

    /// One payment with its audit trail; the payer's or, for an admin, anyone's.
    async fn payment(&self, actor: &Actor, id: Uuid) -> Result<Payment, PaymentsError>;

    /// The payment of a reference, with its audit trail (API composition: the caller has already
    /// checked that what the reference names is visible to whoever asks).
    async fn payment_for_reference(
        &self,
        reference: Uuid,
    ) -> Result<Option<Payment>, PaymentsError>;
}
