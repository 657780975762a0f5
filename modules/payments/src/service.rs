//! The payments module's facade: every command and query the application may call, the
//! subscriptions to the streams that carry payment commands, and the loop that applies the
//! gateway's late answers.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use kernel::{
    Cursor, EventSource, ModuleDb, ModuleHandle, Platform, Subscription, SubscriptionConfig,
    Timestamp, Trace, new_id, spawn_periodic,
};
use payments_api::{
    CardDetails, CardToken, Deposit, Ledger, LedgerEntry, LedgerEntryKind, LedgerPoint,
    MAX_BALANCE_CENTS, MakeDeposit, Payment, PaymentFilter, PaymentPage, PaymentsApi,
    PaymentsError, Wallet, WalletDeposited, Wallets,
};
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use users_api::Actor;
use uuid::Uuid;

use crate::{
    card,
    handler::{self, CommandsHandler},
    store::{self, AppendError, StreamKind, Upto},
    wallet::{WalletEvent, WalletState},
};

static MIGRATOR: Migrator = sqlx::migrate!("../../schemas/payments");

/// How often the gateway's due late answers are looked for.
const GATEWAY_TICK: Duration = Duration::from_millis(200);

/// How the payments module behaves.
#[derive(Clone, Debug)]
pub struct PaymentsConfig {
    /// The wallets' currency; a wallet payment in another currency is declined.
    pub currency: String,
    /// When the simulated gateway settles a charge it did not answer (test card
    /// `4000000000003220`); `None` means never.
    pub late_answer: Option<Duration>,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            currency: "EUR".into(),
            late_answer: Some(Duration::from_secs(120)),
        }
    }
}

/// The payments module.
#[derive(Clone)]
pub struct Payments {
    db: ModuleDb,
    config: Arc<PaymentsConfig>,
}

impl Payments {
    /// Opens (and migrates) `payments.db` in the data folder.
    pub async fn open(
        platform: &Platform,
        config: PaymentsConfig,
    ) -> Result<Payments, PaymentsError> {
        let db = ModuleDb::open(payments_api::STREAM, &MIGRATOR, platform).await?;
        Ok(Payments {
            db,
            config: Arc::new(config),
        })
    }

    /// The module as a whole: its event log, health, availability, close.
    pub fn handle(&self) -> ModuleHandle {
        self.db.handle()
    }

    /// One subscription per stream that carries payment commands (`RequestPayment`,
    /// `CancelPayment`): the requesters. Payments does not know who they are.
    pub fn subscriptions(
        &self,
        requesters: Vec<Arc<dyn EventSource>>,
        config: SubscriptionConfig,
    ) -> Vec<Subscription> {
        requesters
            .into_iter()
            .map(|requester| {
                let handler = CommandsHandler {
                    config: self.config.clone(),
                };
                Subscription::new(&self.db, requester, handler, config)
            })
            .collect()
    }

    /// Applies the gateway's late answers as they fall due, until `shutdown`.
    pub fn spawn_gateway(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let this = self.clone();
        spawn_periodic(
            "apply the gateway's late answers",
            GATEWAY_TICK,
            self.db.clock().clone(),
            shutdown,
            move || {
                let this = this.clone();
                async move { this.settle_due().await }
            },
        )
    }

    /// Applies every gateway answer that is due; returns how many.
    pub async fn settle_due(&self) -> Result<usize, PaymentsError> {
        let clock = self.db.clock();
        let due = store::due_callbacks(self.db.reader()?, clock.now(), 100).await?;
        for callback in &due {
            let mut tx = self.db.write(callback.trace).await?;
            handler::settle_late(&mut tx, callback.payment_id, &callback.outcome).await?;
            tx.commit().await?;
        }
        Ok(due.len())
    }

    async fn wallet_state(&self, user_id: Uuid) -> Result<WalletState, PaymentsError> {
        let mut conn = self.db.reader()?.acquire().await.map_err(store::storage)?;
        store::wallet_state(&mut conn, user_id).await
    }

    fn wallet_view(&self, user_id: Uuid, state: WalletState) -> Wallet {
        Wallet {
            user_id,
            balance_cents: state.balance,
            currency: self.config.currency.clone(),
            version: state.version,
        }
    }

    async fn load_full(&self, id: Uuid) -> Result<Option<Payment>, PaymentsError> {
        let reader = self.db.reader()?;
        let Some(mut payment) = store::payment_row(reader, id).await? else {
            return Ok(None);
        };
        let events: Vec<(i64, crate::payment::PaymentEvent, Timestamp)> =
            store::load(reader, StreamKind::Payment, id, Upto::End).await?;
        let folded: Vec<_> = events.into_iter().map(|(_, e, t)| (e, t)).collect();
        if let Some(state) = crate::payment::PaymentState::fold(id, &folded) {
            payment.history = state.history;
        }
        Ok(Some(payment))
    }
}

#[async_trait]
impl Wallets for Payments {
    /// The caller's wallet: its balance is the fold of its events.
    async fn wallet(&self, user_id: Uuid) -> Result<Wallet, PaymentsError> {
        let state = self.wallet_state(user_id).await?;
        Ok(self.wallet_view(user_id, state))
    }
}

#[async_trait]
impl PaymentsApi for Payments {
    /// The wallets' currency.
    async fn currency(&self) -> Result<String, PaymentsError> {
        Ok(self.config.currency.clone())
    }

    /// Validates card details and turns them into a gateway token; the number goes no further.
    /// Field errors name `number`, `exp_month`, `exp_year` and `cvc`.
    async fn tokenize_card(&self, card: &CardDetails) -> Result<CardToken, PaymentsError> {
        card::tokenize(card, self.db.clock().now().to_offset_date_time())
            .map_err(PaymentsError::Validation)
    }

    /// Puts money into the caller's wallet. Optimistic concurrency: the wallet is read without a
    /// lock and the deposit appended only if no other event got there first (else it retries).
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, user_id = %user_id))]
    async fn deposit(
        &self,
        trace: Trace,
        user_id: Uuid,
        deposit: MakeDeposit,
    ) -> Result<Deposit, PaymentsError> {
        let amount = deposit.amount.cents();
        // Optimistic: decide on the wallet as read without a lock, append only if no other event
        // got there first. On a conflict, the transaction already holds the module's writer, so
        // the decision is made once more on the fresh state and cannot conflict again.
        let read = self.wallet_state(user_id).await?;
        let deposit_id = new_id();
        let event = WalletEvent::Deposited {
            amount_cents: amount,
            deposit_id,
        };
        let now = self.db.clock().now();
        let mut tx = self.db.write(trace).await?;
        let mut state = read;
        let version = loop {
            if state.balance + amount > MAX_BALANCE_CENTS {
                return Err(PaymentsError::BalanceLimit);
            }
            match store::append(
                tx.conn(),
                StreamKind::Wallet,
                user_id,
                state.version,
                &[(event.name(), &event)],
                now,
            )
            .await
            {
                Ok(version) => break version,
                Err(AppendError::Conflict) if state == read => {
                    tracing::debug!(
                        expected = state.version,
                        "wallet changed since it was read; deciding again"
                    );
                    state = store::wallet_state(tx.conn(), user_id).await?;
                }
                Err(AppendError::Conflict) => return Err(PaymentsError::Contention),
                Err(AppendError::Other(e)) => return Err(e),
            }
        };
        let after = state.apply(&event);
        store::save_wallet_snapshot(tx.conn(), user_id, after).await?;
        tx.emit(&WalletDeposited {
            user_id,
            amount_cents: amount,
            currency: self.config.currency.clone(),
            balance_cents: after.balance,
            version,
            deposited_at: now,
        })
        .await?;
        tx.commit().await?;
        Ok(Deposit {
            deposit_id,
            wallet: self.wallet_view(user_id, after),
        })
    }

    /// The wallet's ledger with running balances, up to now, to an instant, or to a version.
    async fn ledger(&self, user_id: Uuid, point: LedgerPoint) -> Result<Ledger, PaymentsError> {
        let (upto, as_of) = match point {
            LedgerPoint::Latest => (Upto::End, None),
            LedgerPoint::AsOf(t) => (Upto::Time(t), Some(t)),
            LedgerPoint::Version(v) => (Upto::Version(v), None),
        };
        let reader = self.db.reader()?;
        let latest_version = store::head(reader, StreamKind::Wallet, user_id).await?;
        let events: Vec<(i64, WalletEvent, Timestamp)> =
            store::load(reader, StreamKind::Wallet, user_id, upto).await?;
        let mut state = WalletState::default();
        let mut entries = Vec::with_capacity(events.len());
        for (version, event, at) in &events {
            state = state.apply(event);
            let (kind, reference, payment_id) = match event {
                WalletEvent::Deposited { .. } => (LedgerEntryKind::Deposit, None, None),
                WalletEvent::Charged {
                    reference,
                    payment_id,
                    ..
                } => (LedgerEntryKind::Charge, Some(*reference), Some(*payment_id)),
                WalletEvent::Refunded {
                    reference,
                    payment_id,
                    ..
                } => (LedgerEntryKind::Refund, Some(*reference), Some(*payment_id)),
            };
            entries.push(LedgerEntry {
                version: *version,
                occurred_at: *at,
                kind,
                amount_cents: event.delta(),
                balance_after_cents: state.balance,
                reference,
                payment_id,
            });
        }
        Ok(Ledger {
            user_id,
            currency: self.config.currency.clone(),
            as_of,
            version: state.version,
            latest_version,
            balance_cents: state.balance,
            entries,
        })
    }

    /// Payments, newest first: a customer's own, or everyone's for an admin.
    async fn payments(
        &self,
        actor: &Actor,
        filter: PaymentFilter,
    ) -> Result<PaymentPage, PaymentsError> {
        let owner = (!actor.is_admin()).then_some(actor.user_id);
        let items = store::list_payments(self.db.reader()?, owner, &filter).await?;
        let next_cursor = Cursor::after_page(&items, filter.limit, |p| (p.created_at, p.id));
        Ok(PaymentPage { items, next_cursor })
    }

    /// One payment with its audit trail (its own event stream); the payer's or, for an admin,
    /// anyone's.
    async fn payment(&self, actor: &Actor, id: Uuid) -> Result<Payment, PaymentsError> {
        match self.load_full(id).await? {
            Some(p) if actor.may_access(p.user_id) => Ok(p),
            _ => Err(PaymentsError::NotFound),
        }
    }

    /// The payment of a reference, with its audit trail (API composition: the caller has already
    /// checked that what the reference names is visible to whoever asks).
    async fn payment_for_reference(
        &self,
        reference: Uuid,
    ) -> Result<Option<Payment>, PaymentsError> {
        match store::payment_id_for_reference(self.db.reader()?, reference).await? {
            Some(id) => self.load_full(id).await,
            None => Ok(None),
        }
    }
}
