//! The payments module through its public face, on a fresh data folder per test. The bookings
//! module is played by a stand-in: a real kernel outbox publishing its events.

use std::{sync::Arc, time::Duration};

use bookings_api::{BookingCancelled, BookingPlaced, CancelReason, PaymentInstruction};
use kernel::{
    Bus, DbSettings, Envelope, IntegrationEvent, Metrics, ModuleDb, OutboxLog, Subscription,
    SubscriptionConfig, Timestamp, Trace,
};
use payments::{Payments, PaymentsConfig, PaymentsError};
use payments_api::{CardDetails, LedgerEntryKind, PaymentStatus, WalletDeposited};
use sqlx::migrate::Migrator;
use users_api::{Actor, Role};
use uuid::Uuid;

static STAND_IN: Migrator = sqlx::migrate!("tests/schemas/stand_in");

struct World {
    _dir: tempfile::TempDir,
    payments: Payments,
    bookings: ModuleDb,
    subscription: Subscription,
}

impl World {
    async fn new(late_answer: Option<Duration>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let settings = DbSettings::new(dir.path());
        let (bus, metrics) = (Bus::new(1024), Metrics::new());
        let payments = Payments::open(
            &settings,
            &bus,
            &metrics,
            PaymentsConfig {
                currency: "EUR".into(),
                late_answer,
            },
        )
        .await
        .unwrap();
        let bookings = ModuleDb::open("bookings", &STAND_IN, &settings, &bus, &metrics)
            .await
            .unwrap();
        let subscription = payments
            .subscriptions(
                Arc::new(OutboxLog::new(bookings.clone())),
                SubscriptionConfig::default(),
            )
            .remove(0);
        World {
            _dir: dir,
            payments,
            bookings,
            subscription,
        }
    }

    async fn publish<E: IntegrationEvent>(&self, event: &E) {
        let mut tx = self.bookings.write(Trace::new_root()).await.unwrap();
        tx.emit(event).await.unwrap();
        tx.commit().await.unwrap();
        self.subscription.drain().await.unwrap();
    }

    async fn place(&self, user: Uuid, amount_cents: i64, payment: PaymentInstruction) -> Uuid {
        let booking_id = kernel::new_id();
        let now = Timestamp::now();
        self.publish(&BookingPlaced {
            booking_id,
            user_id: user,
            user_email: "c@example.com".into(),
            show_id: Uuid::nil(),
            seats: 1,
            amount_cents,
            currency: "EUR".into(),
            payment,
            deadline_at: now.plus(Duration::from_secs(30)),
            placed_at: now,
        })
        .await;
        booking_id
    }

    async fn cancel(&self, user: Uuid, booking_id: Uuid) {
        self.publish(&BookingCancelled {
            booking_id,
            user_id: user,
            show_id: Uuid::nil(),
            seats: 1,
            reason: CancelReason::CustomerCancelled,
            cancelled_at: Timestamp::now(),
        })
        .await;
    }

    async fn status(&self, booking_id: Uuid) -> PaymentStatus {
        self.payments
            .payment_for_booking(booking_id)
            .await
            .unwrap()
            .expect("a payment")
            .status
    }

    async fn emitted(&self) -> Vec<String> {
        self.payments
            .event_log()
            .read(0, 1000)
            .await
            .unwrap()
            .iter()
            .map(|e: &Arc<Envelope>| e.event_type.clone())
            .collect()
    }

    fn card(&self, number: &str) -> PaymentInstruction {
        let t = self
            .payments
            .tokenize_card(&CardDetails {
                number: number.into(),
                exp_month: Some(12),
                exp_year: Some(2031),
                cvc: "123".into(),
            })
            .unwrap();
        PaymentInstruction::Card {
            token: t.token,
            brand: t.brand,
            last4: t.last4,
        }
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
    let d1 = w
        .payments
        .deposit(Trace::new_root(), c.user_id, Some(5_000))
        .await
        .unwrap();
    assert_eq!((d1.wallet.balance_cents, d1.wallet.version), (5_000, 1));
    let between = Timestamp::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    w.payments
        .deposit(Trace::new_root(), c.user_id, Some(2_500))
        .await
        .unwrap();
    let booking = w.place(c.user_id, 3_000, PaymentInstruction::Wallet).await;
    assert_eq!(w.status(booking).await, PaymentStatus::Captured);

    let wallet = w.payments.wallet(c.user_id).await.unwrap();
    assert_eq!((wallet.balance_cents, wallet.version), (4_500, 3));
    let ledger = w.payments.ledger(c.user_id, None, None).await.unwrap();
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
    assert_eq!(ledger.entries[2].booking_id, Some(booking));

    let at_v2 = w.payments.ledger(c.user_id, None, Some(2)).await.unwrap();
    assert_eq!(
        (at_v2.balance_cents, at_v2.version, at_v2.latest_version),
        (7_500, 2, 3)
    );
    let back_then = w
        .payments
        .ledger(c.user_id, Some(between), None)
        .await
        .unwrap();
    assert_eq!(
        (back_then.balance_cents, back_then.entries.len()),
        (5_000, 1)
    );
    assert!(matches!(
        w.payments.ledger(c.user_id, Some(between), Some(1)).await,
        Err(PaymentsError::Validation(_))
    ));
}

#[tokio::test]
async fn concurrent_deposits_to_one_wallet_all_land_once_with_contiguous_versions() {
    let w = Arc::new(World::new(None).await);
    let c = customer();
    let mut tasks = Vec::new();
    for i in 1..=20 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            w.payments
                .deposit(Trace::new_root(), c.user_id, Some(i * 100))
                .await
        }));
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
        .ledger(c.user_id, None, None)
        .await
        .unwrap()
        .entries
        .iter()
        .map(|e| e.version)
        .collect();
    assert_eq!(versions, (1..=20).collect::<Vec<_>>());
    let deposits = w.payments.event_log().read(0, 100).await.unwrap();
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
            matches!(
                w.payments.deposit(Trace::new_root(), c.user_id, bad).await,
                Err(PaymentsError::Validation(_))
            ),
            "{bad:?}"
        );
    }
    for _ in 0..100 {
        w.payments
            .deposit(Trace::new_root(), c.user_id, Some(100_000_000))
            .await
            .unwrap();
    }
    assert!(matches!(
        w.payments
            .deposit(Trace::new_root(), c.user_id, Some(1))
            .await,
        Err(PaymentsError::BalanceLimit)
    ));
    assert_eq!(w.payments.wallet(c.user_id).await.unwrap().version, 100);
}

#[tokio::test]
async fn too_little_money_declines_and_takes_nothing() {
    let w = World::new(None).await;
    let c = customer();
    w.payments
        .deposit(Trace::new_root(), c.user_id, Some(1_000))
        .await
        .unwrap();
    let booking = w.place(c.user_id, 1_001, PaymentInstruction::Wallet).await;
    let p = w
        .payments
        .payment_for_booking(booking)
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
    let ok = w.place(c.user_id, 500, w.card("4242424242424242")).await;
    let declined = w.place(c.user_id, 500, w.card("4000000000000002")).await;
    let broke = w.place(c.user_id, 500, w.card("4000000000009995")).await;
    let silent = w.place(c.user_id, 500, w.card("4000000000003220")).await;
    assert_eq!(w.status(ok).await, PaymentStatus::Captured);
    let d = w
        .payments
        .payment_for_booking(declined)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.decline_reason.as_deref(), Some("card_declined"));
    let b = w
        .payments
        .payment_for_booking(broke)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.decline_reason.as_deref(), Some("insufficient_funds"));
    assert_eq!(w.status(silent).await, PaymentStatus::Pending);
    let captured = w.payments.payment_for_booking(ok).await.unwrap().unwrap();
    assert_eq!(
        (
            captured.method.brand.as_deref(),
            captured.method.last4.as_deref()
        ),
        (Some("visa"), Some("4242"))
    );
    // A pending payment whose booking is cancelled, with no late answer coming, is voided.
    w.cancel(c.user_id, silent).await;
    assert_eq!(w.status(silent).await, PaymentStatus::Voided);
}

#[tokio::test]
async fn a_cancelled_booking_gets_its_wallet_money_back_exactly_once() {
    let w = World::new(None).await;
    let c = customer();
    w.payments
        .deposit(Trace::new_root(), c.user_id, Some(10_000))
        .await
        .unwrap();
    let booking = w.place(c.user_id, 4_000, PaymentInstruction::Wallet).await;
    w.cancel(c.user_id, booking).await;
    w.cancel(c.user_id, booking).await;
    assert_eq!(w.status(booking).await, PaymentStatus::Refunded);
    let wallet = w.payments.wallet(c.user_id).await.unwrap();
    assert_eq!((wallet.balance_cents, wallet.version), (10_000, 3));
    let history: Vec<String> = w
        .payments
        .payment(
            &c,
            w.payments
                .payment_for_booking(booking)
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
    let w = World::new(Some(Duration::from_millis(50))).await;
    let c = customer();
    let booking = w.place(c.user_id, 700, w.card("4000000000003220")).await;
    w.cancel(c.user_id, booking).await;
    assert_eq!(
        w.status(booking).await,
        PaymentStatus::Pending,
        "the gateway may still answer"
    );
    tokio::time::sleep(Duration::from_millis(80)).await;
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
async fn a_booking_whose_deadline_passed_before_payment_is_declined_as_expired() {
    let w = World::new(None).await;
    let c = customer();
    w.payments
        .deposit(Trace::new_root(), c.user_id, Some(10_000))
        .await
        .unwrap();
    let booking_id = kernel::new_id();
    let long_ago = Timestamp::from_micros(1_000);
    w.publish(&BookingPlaced {
        booking_id,
        user_id: c.user_id,
        user_email: "c@example.com".into(),
        show_id: Uuid::nil(),
        seats: 1,
        amount_cents: 100,
        currency: "EUR".into(),
        payment: PaymentInstruction::Wallet,
        deadline_at: long_ago,
        placed_at: long_ago,
    })
    .await;
    let p = w
        .payments
        .payment_for_booking(booking_id)
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
    w.place(a.user_id, 100, w.card("4242424242424242")).await;
    w.place(b.user_id, 100, w.card("4242424242424242")).await;
    let mine = w.payments.payments(&a, None, 50, None).await.unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].user_id, a.user_id);
    let admin = Actor {
        user_id: kernel::new_id(),
        role: Role::Admin,
    };
    assert_eq!(
        w.payments
            .payments(&admin, None, 50, None)
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
