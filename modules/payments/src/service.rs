//! The payments module's facade: every command and query the application may call, the
//! subscription to the bookings stream, and the loop that applies the gateway's late answers.

use std::{sync::Arc, time::Duration};

use kernel::{
    Bus, DbHealth, DbSettings, EventSource, FieldErrors, Metrics, ModuleDb, OutboxLog,
    Subscription, SubscriptionConfig, Timestamp, Trace, new_id,
};
use payments_api::{
    CardDetails, CardToken, Ledger, LedgerEntry, LedgerEntryKind, Payment, Wallet, WalletDeposited,
};
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use users_api::Actor;
use uuid::Uuid;

use crate::{
    PaymentsError, card,
    handler::{self, BookingsHandler},
    store::{self, AppendError, StreamKind, Upto},
    wallet::{MAX_BALANCE, MAX_DEPOSIT, WalletEvent, WalletState},
};

static MIGRATOR: Migrator = sqlx::migrate!("../../schemas/payments");

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

/// A page of payments, newest first.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PaymentPage {
    /// The payments.
    pub items: Vec<Payment>,
    /// Pass back as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// A deposit's result.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Deposit {
    /// Its id.
    pub deposit_id: Uuid,
    /// The wallet after it.
    pub wallet: Wallet,
}

fn cursor_encode(t: Timestamp, id: Uuid) -> String {
    format!("{}_{}", t.as_micros(), id.simple())
}

fn cursor_decode(text: &str) -> Option<(Timestamp, Uuid)> {
    let (t, id) = text.split_once('_')?;
    Some((
        Timestamp::from_micros(t.parse().ok()?),
        Uuid::parse_str(id).ok()?,
    ))
}

impl Payments {
    /// Opens (and migrates) `payments.db` in the data folder.
    pub async fn open(
        settings: &DbSettings,
        bus: &Bus,
        metrics: &Metrics,
        config: PaymentsConfig,
    ) -> Result<Payments, PaymentsError> {
        let db = ModuleDb::open(payments_api::STREAM, &MIGRATOR, settings, bus, metrics).await?;
        Ok(Payments {
            db,
            config: Arc::new(config),
        })
    }

    /// The module's event stream.
    pub fn event_log(&self) -> Arc<dyn EventSource> {
        Arc::new(OutboxLog::new(self.db.clone()))
    }

    /// Database status and schema version.
    pub async fn health(&self) -> DbHealth {
        self.db.health().await
    }

    /// Takes the module offline for a while, or back online (`None`).
    pub fn set_offline_for(&self, duration: Option<Duration>) {
        self.db.set_offline_for(duration);
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// The wallets' currency.
    pub fn currency(&self) -> &str {
        &self.config.currency
    }

    /// The subscription that charges, refunds and voids as the bookings module asks.
    pub fn subscriptions(
        &self,
        bookings: Arc<dyn EventSource>,
        config: SubscriptionConfig,
    ) -> Vec<Subscription> {
        vec![Subscription::new(
            &self.db,
            bookings,
            BookingsHandler {
                config: self.config.clone(),
            },
            config,
        )]
    }

    /// Applies the gateway's late answers as they fall due, until `shutdown`.
    pub fn spawn_gateway(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = this.settle_due().await {
                    tracing::warn!(error = %e, "applying late gateway answers failed; will retry");
                }
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        })
    }

    /// Applies every gateway answer that is due; returns how many.
    pub async fn settle_due(&self) -> Result<usize, PaymentsError> {
        let due = store::due_callbacks(self.db.reader()?, Timestamp::now(), 100).await?;
        for callback in &due {
            let mut tx = self.db.write(callback.trace).await?;
            handler::settle_late(&mut tx, callback.payment_id, &callback.outcome).await?;
            tx.commit().await?;
        }
        Ok(due.len())
    }

    /// Validates card details and turns them into a gateway token; the number goes no further.
    /// Field errors name `number`, `exp_month`, `exp_year` and `cvc`.
    pub fn tokenize_card(&self, card: &CardDetails) -> Result<CardToken, PaymentsError> {
        card::tokenize(card, time::OffsetDateTime::now_utc()).map_err(PaymentsError::Validation)
    }

    async fn wallet_state(&self, user_id: Uuid) -> Result<WalletState, PaymentsError> {
        let mut conn = self
            .db
            .reader()?
            .acquire()
            .await
            .map_err(PaymentsError::storage)?;
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

    /// Puts money into the caller's wallet. Optimistic concurrency: the wallet is read without a
    /// lock and the deposit appended only if no other event got there first (else it retries).
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, user_id = %user_id))]
    pub async fn deposit(
        &self,
        trace: Trace,
        user_id: Uuid,
        amount_cents: Option<i64>,
    ) -> Result<Deposit, PaymentsError> {
        let amount = match amount_cents {
            None => Err("is required".to_owned()),
            Some(a) if a <= 0 => Err("must be positive".to_owned()),
            Some(a) if a > MAX_DEPOSIT => {
                Err(format!("must be at most {MAX_DEPOSIT} cents per deposit"))
            }
            Some(a) => Ok(a),
        }
        .map_err(|m| PaymentsError::Validation(FieldErrors::single("amount_cents", m)))?;
        // Optimistic: decide on the wallet as read without a lock, append only if no other event
        // got there first. On a conflict, the transaction already holds the module's writer, so
        // the decision is made once more on the fresh state and cannot conflict again.
        let read = self.wallet_state(user_id).await?;
        let deposit_id = new_id();
        let event = WalletEvent::Deposited {
            amount_cents: amount,
            deposit_id,
        };
        let now = Timestamp::now();
        let mut tx = self.db.write(trace).await?;
        let mut state = read;
        let version = loop {
            if state.balance + amount > MAX_BALANCE {
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

    /// The caller's wallet: its balance is the fold of its events.
    pub async fn wallet(&self, user_id: Uuid) -> Result<Wallet, PaymentsError> {
        let state = self.wallet_state(user_id).await?;
        Ok(self.wallet_view(user_id, state))
    }

    /// The wallet's ledger with running balances, up to now, to an instant, or to a version.
    pub async fn ledger(
        &self,
        user_id: Uuid,
        as_of: Option<Timestamp>,
        version: Option<i64>,
    ) -> Result<Ledger, PaymentsError> {
        if as_of.is_some() && version.is_some() {
            return Err(PaymentsError::Validation(FieldErrors::single(
                "version",
                "give as_of or version, not both",
            )));
        }
        if version.is_some_and(|v| v < 0) {
            return Err(PaymentsError::Validation(FieldErrors::single(
                "version",
                "must not be negative",
            )));
        }
        let upto = match (as_of, version) {
            (Some(t), _) => Upto::Time(t),
            (_, Some(v)) => Upto::Version(v),
            _ => Upto::End,
        };
        let reader = self.db.reader()?;
        let latest_version = store::head(reader, StreamKind::Wallet, user_id).await?;
        let events: Vec<(i64, WalletEvent, Timestamp)> =
            store::load(reader, StreamKind::Wallet, user_id, upto).await?;
        let mut state = WalletState::default();
        let mut entries = Vec::with_capacity(events.len());
        for (version, event, at) in &events {
            state = state.apply(event);
            let (kind, booking_id, payment_id) = match event {
                WalletEvent::Deposited { .. } => (LedgerEntryKind::Deposit, None, None),
                WalletEvent::Charged {
                    booking_id,
                    payment_id,
                    ..
                } => (
                    LedgerEntryKind::Charge,
                    Some(*booking_id),
                    Some(*payment_id),
                ),
                WalletEvent::Refunded {
                    booking_id,
                    payment_id,
                    ..
                } => (
                    LedgerEntryKind::Refund,
                    Some(*booking_id),
                    Some(*payment_id),
                ),
            };
            entries.push(LedgerEntry {
                version: *version,
                occurred_at: *at,
                kind,
                amount_cents: event.delta(),
                balance_after_cents: state.balance,
                booking_id,
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
    pub async fn payments(
        &self,
        actor: &Actor,
        booking_id: Option<Uuid>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<PaymentPage, PaymentsError> {
        let mut errors = FieldErrors::new();
        if !(1..=200).contains(&limit) {
            errors.add("limit", "must be between 1 and 200");
        }
        let before = match cursor {
            None => None,
            Some(c) => {
                let parsed = cursor_decode(c);
                if parsed.is_none() {
                    errors.add("cursor", "is not a cursor returned by this list");
                }
                parsed
            }
        };
        errors.into_result().map_err(PaymentsError::Validation)?;
        let owner = (!actor.is_admin()).then_some(actor.user_id);
        let items =
            store::list_payments(self.db.reader()?, owner, booking_id, before, limit).await?;
        let next_cursor = (items.len() == limit as usize)
            .then(|| items.last().map(|p| cursor_encode(p.created_at, p.id)))
            .flatten();
        Ok(PaymentPage { items, next_cursor })
    }

    /// One payment with its audit trail (its own event stream); the payer's or, for an admin,
    /// anyone's.
    pub async fn payment(&self, actor: &Actor, id: Uuid) -> Result<Payment, PaymentsError> {
        match self.load_full(id).await? {
            Some(p) if actor.may_access(p.user_id) => Ok(p),
            _ => Err(PaymentsError::NotFound),
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

    /// The payment of a booking, with its audit trail (API composition: the caller has already
    /// checked that the booking is visible to whoever asks).
    pub async fn payment_for_booking(
        &self,
        booking_id: Uuid,
    ) -> Result<Option<Payment>, PaymentsError> {
        match store::payment_id_for_booking(self.db.reader()?, booking_id).await? {
            Some(id) => self.load_full(id).await,
            None => Ok(None),
        }
    }

    /// Counts and sums of payments by status (admins; for reconciliation).
    pub async fn totals(
        &self,
    ) -> Result<Vec<(payments_api::PaymentStatus, i64, i64)>, PaymentsError> {
        store::status_counts(self.db.reader()?).await
    }
}
