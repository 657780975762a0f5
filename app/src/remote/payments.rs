//! The payments module's wire: [`RemotePayments`] calls it in another process; [`serve`] answers
//! for the module hosted here. Card numbers cross it once, to be tokenized by payments.

use std::sync::OnceLock;

use async_trait::async_trait;
use kernel::Trace;
use payments_api::{
    CardDetails, CardToken, Deposit, Ledger, LedgerPoint, MakeDeposit, Payment, PaymentFilter,
    PaymentPage, PaymentsApi, PaymentsError, Wallet, Wallets,
};
use users_api::Actor;
use uuid::Uuid;

use super::{Fault, Remote, answer};

/// The payments module of another process.
pub(crate) struct RemotePayments {
    remote: Remote,
    /// The wallets' currency, asked once (it is configuration, not data).
    currency: OnceLock<String>,
}

impl RemotePayments {
    pub(crate) fn new(remote: Remote) -> RemotePayments {
        RemotePayments {
            remote,
            currency: OnceLock::new(),
        }
    }
}

#[async_trait]
impl Wallets for RemotePayments {
    async fn wallet(&self, user_id: Uuid) -> Result<Wallet, PaymentsError> {
        self.remote.call("wallet", &(user_id,)).await
    }
}

#[async_trait]
impl PaymentsApi for RemotePayments {
    async fn currency(&self) -> Result<String, PaymentsError> {
        if let Some(c) = self.currency.get() {
            return Ok(c.clone());
        }
        let currency: String = self
            .remote
            .call::<_, _, PaymentsError>("currency", &())
            .await?;
        Ok(self.currency.get_or_init(|| currency).clone())
    }

    async fn tokenize_card(&self, card: &CardDetails) -> Result<CardToken, PaymentsError> {
        self.remote.call("tokenize_card", &(card,)).await
    }

    async fn deposit(
        &self,
        trace: Trace,
        user_id: Uuid,
        deposit: MakeDeposit,
    ) -> Result<Deposit, PaymentsError> {
        self.remote
            .call("deposit", &(trace, user_id, deposit))
            .await
    }

    async fn ledger(&self, user_id: Uuid, point: LedgerPoint) -> Result<Ledger, PaymentsError> {
        self.remote.call("ledger", &(user_id, point)).await
    }

    async fn payments(
        &self,
        actor: &Actor,
        filter: PaymentFilter,
    ) -> Result<PaymentPage, PaymentsError> {
        self.remote.call("payments", &(actor, filter)).await
    }

    async fn payment(&self, actor: &Actor, id: Uuid) -> Result<Payment, PaymentsError> {
        self.remote.call("payment", &(actor, id)).await
    }

    async fn payment_for_reference(
        &self,
        reference: Uuid,
    ) -> Result<Option<Payment>, PaymentsError> {
        self.remote
            .call("payment_for_reference", &(reference,))
            .await
    }
}

/// Answers one call to the payments module hosted here.
pub(crate) async fn serve(
    api: &dyn PaymentsApi,
    operation: &str,
    body: &[u8],
) -> Result<Vec<u8>, Fault> {
    match operation {
        "currency" => answer(body, |(): ()| api.currency()).await,
        "tokenize_card" => {
            answer(body, |(card,): (CardDetails,)| async move {
                api.tokenize_card(&card).await
            })
            .await
        }
        "deposit" => {
            answer(
                body,
                |(trace, user_id, deposit): (Trace, Uuid, MakeDeposit)| {
                    api.deposit(trace, user_id, deposit)
                },
            )
            .await
        }
        "wallet" => answer(body, |(user_id,): (Uuid,)| api.wallet(user_id)).await,
        "ledger" => {
            answer(body, |(user_id, point): (Uuid, LedgerPoint)| {
                api.ledger(user_id, point)
            })
            .await
        }
        "payments" => {
            answer(body, |(actor, filter): (Actor, PaymentFilter)| async move {
                api.payments(&actor, filter).await
            })
            .await
        }
        "payment" => {
            answer(body, |(actor, id): (Actor, Uuid)| async move {
                api.payment(&actor, id).await
            })
            .await
        }
        "payment_for_reference" => {
            answer(body, |(reference,): (Uuid,)| {
                api.payment_for_reference(reference)
            })
            .await
        }
        other => Err(Fault::Unknown(other.to_owned())),
    }
}
