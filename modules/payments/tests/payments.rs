//! The payments module through its public face, on a fresh data folder per test. Whoever asks
//! for payments is played by a stand-in requester, a "shop" that is not the bookings module: a
//! real kernel outbox carrying payments' own commands, so these tests also prove that payments
//! serves any requester without knowing it.

use payments_api::{PaymentsApi, Wallets};
use std::{sync::Arc, time::Duration};

use kernel::{
    Clock, ClockControl, Command, DbSettings, Envelope, ModuleDb, OutboxLog, Platform,
    Subscription, SubscriptionConfig, Timestamp, Trace,
};
use payments::{Payments, PaymentsConfig};
use payments_api::{
    CancelPayment, CardDetails, Deposit, DepositRequest, LedgerEntryKind, LedgerPoint, MakeDeposit,
    PaymentFilter, PaymentSource, PaymentStatus, PaymentsError, RequestPayment, WalletDeposited,
};
use sqlx::migrate::Migrator;
use users_api::{Actor, Role};
use uuid::Uuid;

static STAND_IN: Migrator = sqlx::migrate!("tests/schemas/stand_in");

struct World {
    _dir: tempfile::TempDir,
    payments: Payments,
    shop: ModuleDb,
    clock: ClockControl,
    subscription: Subscription,
}

impl World {
    async fn new(late_answer: Option<Duration>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let (clock, control) = Clock::adjustable();
        let platform = Platform::new(DbSettings::new(dir.path()), 1024).with_clock(clock);
        let payments = Payments::open(
            &platform,
            PaymentsConfig {
                currency: "EUR".into(),
                late_answer,
            },
        )
        .await
        .unwrap();
        let shop = ModuleDb::open("shop", &STAND_IN, &platform).await.unwrap();
        let subscription = payments
            .subscriptions(
                vec![Arc::new(OutboxLog::new(shop.clone()))],
                SubscriptionConfig::default(),
            )
            .remove(0);
        World {
            _dir: dir,
            payments,
            shop,
            clock: control,
            subscription,
        }
    }

    /// The shop sends a command through its outbox; payments applies it.
    async fn send<C: Command>(&self, command: &C) {
        let mut tx = self.shop.write(Trace::new_root()).await.unwrap();
        tx.send(command).await.unwrap();
        tx.commit().await.unwrap();
        self.subscription.drain().await.unwrap();
    }

    async fn place(&self, user: Uuid, amount_cents: i64, source: PaymentSource) -> Uuid {
        let reference = kernel::new_id();
        let now = self.shop.clock().now();
        self.send(&RequestPayment {
            reference,
            user_id: user,
            amount_cents,
            currency: "EUR".into(),
            source,
            deadline_at: now.plus(Duration::from_secs(30)),
        })
        .await;
        reference
    }

    async fn cancel(&self, reference: Uuid) {
        self.send(&CancelPayment {
            reference,
            cancelled_at: self.shop.clock().now(),
        })
        .await;
    }

    async fn deposit(&self, user: Uuid, cents: i64) -> Result<Deposit, PaymentsError> {
        let deposit = MakeDeposit::try_from(DepositRequest {
            amount_cents: Some(cents),
        })
        .map_err(PaymentsError::Validation)?;
        self.payments
            .deposit(Trace::new_root(), user, deposit)
            .await
    }

    async fn status(&self, reference: Uuid) -> PaymentStatus {
        self.payments
            .payment_for_reference(reference)
            .await
            .unwrap()
            .expect("a payment")
            .status
    }

    async fn emitted(&self) -> Vec<String> {
        self.payments
            .handle()
            .event_log()
            .read(0, 1000)
            .await
            .unwrap()
            .iter()
            .map(|e: &Arc<Envelope>| e.event_type.clone())
            .collect()
    }

    async fn card(&self, number: &str) -> PaymentSource {
        let token = self
            .payments
            .tokenize_card(&CardDetails {
                number: number.into(),
                exp_month: Some(12),
                exp_year: Some(2031),
                cvc: "123".into(),
            })
            .await
            .unwrap();
        PaymentSource::Card(token)
    }
}

fn customer() -> Actor {
    Actor {
        user_id: kernel::new_id(),
        role: Role::Customer,
    }
}

#[tokio::test]
async fn a_wallet_balance_is_the_fold_of_its_events_and_its_ledger_travels_in_time() {
    let w = World::new(None).await;
    let c = customer();
    let d1 = w.deposit(c.user_id, 5_000).await.unwrap();
    assert_eq!((d1.wallet.balance_cents, d1.wallet.version), (5_000, 1));
    let between = w.shop.clock().now();
    w.clock.advance(Duration::from_secs(1));
    w.deposit(c.user_id, 2_500).await.unwrap();
    let booking = w.place(c.user_id, 3_000, PaymentSource::Wallet).await;
    assert_eq!(w.status(booking).await, PaymentStatus::Captured);

    let wallet = w.payments.wallet(c.user_id).await.unwrap();
    assert_eq!((wallet.balance_cents, wallet.version), (4_500, 3));
    let ledger = w
        .payments
        .ledger(c.user_id, LedgerPoint::Latest)
        .await
        .unwrap();
    let kinds: Vec<_> = ledger
        .entries
        .iter()
        .map(|e| (e.kind, e.amount_cents, e.balance_after_cents))
        .collect();
    assert_eq!(
        kinds,
        [
            (LedgerEntryKind::Deposit, 5_000, 5_000),
            (LedgerEntryKind::Deposit, 2_500, 7_500),
            (LedgerEntryKind::Charge, -3_000, 4_500)
        ]
    );
    assert_eq!(ledger.entries[2].reference, Some(booking));

    let at_v2 = w
        .payments
        .ledger(c.user_id, LedgerPoint::Version(2))
        .await
        .unwrap();
    assert_eq!(
        (at_v2.balance_cents, at_v2.version, at_v2.latest_version),
        (7_500, 2, 3)
    );
    let back_then = w
        .payments
        .ledger(c.user_id, LedgerPoint::AsOf(between))
        .await
        .unwrap();
    assert_eq!(
        (back_then.balance_cents, back_then.entries.len()),
        (5_000, 1)
    );
    assert!(LedgerPoint::parse(Some(&between.to_string()), Some(1)).is_err());
}

#[tokio::test]
async fn concurrent_deposits_to_one_wallet_all_land_once_with_contiguous_versions() {
    let w = Arc::new(World::new(None).await);
    let c = customer();
    let mut tasks = Vec::new();
    for i in 1..=20 {
        let w = w.clone();
        tasks.push(tokio::spawn(
            async move { w.deposit(c.user_id, i * 100).await },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let wallet = w.payments.wallet(c.user_id).await.unwrap();
    assert_eq!(
        (wallet.balance_cents, wallet.version),
        ((1..=20).sum::<i64>() * 100, 20)
    );
    let versions: Vec<i64> = w
        .payments
        .ledger(c.user_id, LedgerPoint::Latest)
        .await
        .unwrap()
        .entries
        .iter()
        .map(|e| e.version)
        .collect();
    assert_eq!(versions, (1..=20).collect::<Vec<_>>());
    let deposits = w.payments.handle().event_log().read(0, 100).await.unwrap();
    assert_eq!(
        deposits
            .iter()
            .filter(|e| e.is::<WalletDeposited>())
            .count(),
        20
    );
}

#[tokio::test]
async fn bad_deposits_are_refused_and_change_nothing() {
    let w = World::new(None).await;
    let c = customer();
    for bad in [None, Some(0), Some(-100), Some(100_000_001)] {
        assert!(
            MakeDeposit::try_from(DepositRequest { amount_cents: bad }).is_err(),
            "{bad:?}"
        );
    }
    for _ in 0..100 {
        w.deposit(c.user_id, 100_000_000).await.unwrap();
    }
    assert!(matches!(
        w.deposit(c.user_id, 1).await,
        Err(PaymentsError::BalanceLimit)
    ));
    assert_eq!(w.payments.wallet(c.user_id).await.unwrap().version, 100);
}

#[tokio::test]
async fn too_little_money_declines_and_takes_nothing() {
    let w = World::new(None).await;
    let c = customer();
    w.deposit(c.user_id, 1_000).await.unwrap();
    let booking = w.place(c.user_id, 1_001, PaymentSource::Wallet).await;
    let p = w
        .payments
        .payment_for_reference(booking)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.status, p.decline_reason.as_deref()),
        (PaymentStatus::Declined, Some("insufficient_funds"))
    );
    assert_eq!(
        w.payments.wallet(c.user_id).await.unwrap().balance_cents,
        1_000
    );
    assert_eq!(
        w.emitted().await.last().map(String::as_str),
        Some("PaymentDeclined")
    );
}

#[tokio::test]
async fn the_test_cards_approve_decline_and_stay_silent_as_documented() {
    let w = World::new(None).await;
    let c = customer();
    let ok = w
        .place(c.user_id, 500, w.card("4242424242424242").await)
        .await;
    let declined = w
        .place(c.user_id, 500, w.card("4000000000000002").await)
        .await;
    let broke = w
        .place(c.user_id, 500, w.card("4000000000009995").await)
        .await;
    let silent = w
        .place(c.user_id, 500, w.card("4000000000003220").await)
        .await;
    assert_eq!(w.status(ok).await, PaymentStatus::Captured);
    let d = w
        .payments
        .payment_for_reference(declined)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.decline_reason.as_deref(), Some("card_declined"));
    let b = w
        .payments
        .payment_for_reference(broke)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.decline_reason.as_deref(), Some("insufficient_funds"));
    assert_eq!(w.status(silent).await, PaymentStatus::Pending);
    let captured = w.payments.payment_for_reference(ok).await.unwrap().unwrap();
    assert_eq!(
        (
            captured.method.brand.as_deref(),
            captured.method.last4.as_deref()
        ),
        (Some("visa"), Some("4242"))
    );
    // A pending payment whose booking is cancelled, with no late answer coming, is voided.
    w.cancel(silent).await;
    assert_eq!(w.status(silent).await, PaymentStatus::Voided);
}

#[tokio::test]
async fn a_cancelled_request_gets_its_wallet_money_back_exactly_once() {
    let w = World::new(None).await;
    let c = customer();
    w.deposit(c.user_id, 10_000).await.unwrap();
    let booking = w.place(c.user_id, 4_000, PaymentSource::Wallet).await;
    w.cancel(booking).await;
    w.cancel(booking).await;
    assert_eq!(w.status(booking).await, PaymentStatus::Refunded);
    let wallet = w.payments.wallet(c.user_id).await.unwrap();
    assert_eq!((wallet.balance_cents, wallet.version), (10_000, 3));
    let history: Vec<String> = w
        .payments
        .payment(
            &c,
            w.payments
                .payment_for_reference(booking)
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap()
        .history
        .into_iter()
        .map(|h| h.event)
        .collect();
    assert_eq!(history, ["requested", "captured", "refunded"]);
}

#[tokio::test]
async fn a_late_capture_after_a_cancellation_is_refunded_at_once() {
    let w = World::new(Some(Duration::from_secs(120))).await;
    let c = customer();
    let booking = w
        .place(c.user_id, 700, w.card("4000000000003220").await)
        .await;
    w.cancel(booking).await;
    assert_eq!(
        w.status(booking).await,
        PaymentStatus::Pending,
        "the gateway may still answer"
    );
    assert_eq!(w.payments.settle_due().await.unwrap(), 0, "not due yet");
    w.clock.advance(Duration::from_secs(121));
    assert_eq!(w.payments.settle_due().await.unwrap(), 1);
    assert_eq!(w.status(booking).await, PaymentStatus::Refunded);
    let emitted = w.emitted().await;
    assert!(
        emitted.ends_with(&["PaymentCaptured".into(), "PaymentRefunded".into()]),
        "{emitted:?}"
    );
    assert_eq!(w.payments.settle_due().await.unwrap(), 0);
}

#[tokio::test]
async fn a_request_whose_deadline_passed_before_payment_is_declined_as_expired() {
    let w = World::new(None).await;
    let c = customer();
    w.deposit(c.user_id, 10_000).await.unwrap();
    let booking_id = kernel::new_id();
    w.send(&RequestPayment {
        reference: booking_id,
        user_id: c.user_id,
        amount_cents: 100,
        currency: "EUR".into(),
        source: PaymentSource::Wallet,
        deadline_at: Timestamp::from_micros(1_000),
    })
    .await;
    let p = w
        .payments
        .payment_for_reference(booking_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.decline_reason.as_deref(), Some("expired"));
    assert_eq!(
        w.payments.wallet(c.user_id).await.unwrap().balance_cents,
        10_000
    );
}

#[tokio::test]
async fn customers_see_only_their_own_payments() {
    let w = World::new(None).await;
    let (a, b) = (customer(), customer());
    w.place(a.user_id, 100, w.card("4242424242424242").await)
        .await;
    w.place(b.user_id, 100, w.card("4242424242424242").await)
        .await;
    let mine = w
        .payments
        .payments(&a, PaymentFilter::default())
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].user_id, a.user_id);
    let admin = Actor {
        user_id: kernel::new_id(),
        role: Role::Admin,
    };
    assert_eq!(
        w.payments
            .payments(&admin, PaymentFilter::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert!(matches!(
        w.payments.payment(&b, mine.items[0].id).await,
        Err(PaymentsError::NotFound)
    ));
}
