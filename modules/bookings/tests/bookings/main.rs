//! The bookings module through its public face, on a fresh data folder per test. The users and
//! payments modules are played by stand-ins: a `UserDirectory` and `Wallets` in memory, and a
//! real kernel outbox publishing the payments module's events. The module's clock is an adjustable one, so a
//! deadline passes when a test says so.

use bookings_api::BookingsApi;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use bookings::{Bookings, BookingsConfig};
use bookings_api::{
    BookingCancelled, BookingDraft, BookingPlaced, BookingStatus, BookingsError, CancelReason,
    NewShow, PlaceBooking, Placed, SagaState, ScheduleShow,
};
use kernel::{
    Clock, ClockControl, DbSettings, Envelope, GateShape, IntegrationEvent, Message, ModuleDb,
    OutboxLog, Platform, Subscription, SubscriptionConfig, Timestamp, Trace,
};
use payments_api::{
    CancelPayment, PaymentCaptured, PaymentDeclined, PaymentMethod, PaymentRefunded, PaymentSource,
    PaymentsError, RequestPayment, Wallet, Wallets,
};
use sqlx::{Connection, migrate::Migrator};
use users_api::{Actor, DirectoryError, Role, User, UserDirectory, UserEmailChanged};
use uuid::Uuid;

mod seats;

static STAND_IN: Migrator = sqlx::migrate!("tests/schemas/stand_in");

#[derive(Default)]
struct Directory {
    users: Mutex<HashMap<Uuid, User>>,
    down: Mutex<bool>,
    /// Held by a test to keep every lookup waiting (a directory slow to answer).
    slow: tokio::sync::Mutex<()>,
}

#[async_trait]
impl UserDirectory for Directory {
    async fn find_user(&self, id: Uuid) -> Result<Option<User>, DirectoryError> {
        drop(self.slow.lock().await);
        if *self.down.lock().unwrap() {
            return Err(DirectoryError::Unavailable("users is down".into()));
        }
        Ok(self.users.lock().unwrap().get(&id).cloned())
    }
}

/// Wallets in memory: a customer not set here holds plenty of euros.
#[derive(Default)]
struct Purses {
    held: Mutex<HashMap<Uuid, (i64, &'static str)>>,
    down: Mutex<bool>,
}

#[async_trait]
impl Wallets for Purses {
    async fn wallet(&self, user_id: Uuid) -> Result<Wallet, PaymentsError> {
        if *self.down.lock().unwrap() {
            return Err(PaymentsError::Storage(kernel::Error::Unavailable(
                "payments",
            )));
        }
        let (balance_cents, currency) = self
            .held
            .lock()
            .unwrap()
            .get(&user_id)
            .copied()
            .unwrap_or((1_000_000_000, "EUR"));
        Ok(Wallet {
            user_id,
            balance_cents,
            currency: currency.into(),
            version: 1,
        })
    }
}

struct World {
    dir: tempfile::TempDir,
    platform: Platform,
    clock: ClockControl,
    now: Clock,
    bookings: Bookings,
    directory: Arc<Directory>,
    purses: Arc<Purses>,
    payments: ModuleDb,
    users: ModuleDb,
    subscriptions: Vec<Subscription>,
}

fn user(email: &str, role: Role) -> User {
    let now = Timestamp::now();
    User {
        id: kernel::new_id(),
        email: email.into(),
        full_name: "Test".into(),
        role,
        active: true,
        email_version: 1,
        time_zone: "UTC".into(),
        created_at: now,
        updated_at: now,
    }
}

impl World {
    async fn new(timeout: Duration) -> World {
        World::with(BookingsConfig {
            payment_timeout: timeout,
            ..BookingsConfig::default()
        })
        .await
    }

    async fn with(config: BookingsConfig) -> World {
        let dir = tempfile::tempdir().unwrap();
        let (clock, control) = Clock::adjustable();
        let platform = Platform::new(DbSettings::new(dir.path()), 1024).with_clock(clock.clone());
        let directory = Arc::new(Directory::default());
        let purses = Arc::new(Purses::default());
        let bookings = Bookings::open(&platform, directory.clone(), purses.clone(), config)
            .await
            .unwrap();
        let payments = ModuleDb::open("payments", &STAND_IN, &platform)
            .await
            .unwrap();
        let users = ModuleDb::open("users", &STAND_IN, &platform).await.unwrap();
        let subscriptions = bookings.subscriptions(
            Arc::new(OutboxLog::new(users.clone())),
            Arc::new(OutboxLog::new(payments.clone())),
            SubscriptionConfig::default(),
        );
        World {
            dir,
            platform,
            clock: control,
            now: clock,
            bookings,
            directory,
            purses,
            payments,
            users,
            subscriptions,
        }
    }

    fn add_user(&self, u: &User) -> Actor {
        self.directory.users.lock().unwrap().insert(u.id, u.clone());
        Actor::of(u)
    }

    fn schedule(&self, input: NewShow) -> Result<ScheduleShow, kernel::FieldErrors> {
        ScheduleShow::try_from((input, self.now.now()))
    }

    async fn show(&self, admin: &Actor, capacity: i64) -> bookings_api::Show {
        let input = NewShow {
            title: "Hamlet".into(),
            venue: Some("Globe".into()),
            starts_at: "2099-01-01T20:00:00Z".into(),
            capacity: Some(capacity),
            price_cents: Some(2_500),
            currency: "EUR".into(),
            ..NewShow::default()
        };
        self.bookings
            .create_show(Trace::new_root(), admin, self.schedule(input).unwrap())
            .await
            .unwrap()
    }

    async fn place(
        &self,
        actor: &Actor,
        show_id: Uuid,
        seats: i64,
    ) -> Result<Placed, BookingsError> {
        self.bookings
            .place(Trace::new_root(), actor, booking(show_id, seats, None))
            .await
    }

    async fn publish<E: IntegrationEvent>(db: &ModuleDb, event: &E) {
        let mut tx = db.write(Trace::new_root()).await.unwrap();
        tx.emit(event).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Applies everything the stand-in streams published.
    async fn settle(&self) {
        for s in &self.subscriptions {
            s.drain().await.unwrap();
        }
    }

    /// Runs `statements` on the module's file directly, as an earlier release would have left
    /// it (a test making an old data folder).
    async fn rewrite(&self, statements: &[&str]) {
        let mut raw = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            self.dir.path().join("bookings.db").display()
        ))
        .await
        .unwrap();
        for sql in statements {
            sqlx::query(sqlx::AssertSqlSafe(*sql))
                .execute(&mut raw)
                .await
                .unwrap();
        }
        raw.close().await.unwrap();
    }

    async fn bookings_events(&self) -> Vec<Arc<Envelope>> {
        self.bookings
            .handle()
            .event_log()
            .read(0, 1000)
            .await
            .unwrap()
    }
}

/// A valid wallet booking of `seats` seats.
fn booking(show_id: Uuid, seats: i64, key: Option<&str>) -> PlaceBooking {
    PlaceBooking::try_from(BookingDraft {
        show_id: show_id.to_string(),
        seats: Some(seats),
        payment: Some(Ok(PaymentSource::Wallet)),
        idempotency_key: key.map(str::to_owned),
        ..BookingDraft::default()
    })
    .unwrap()
}

fn captured(b: &bookings_api::Booking) -> PaymentCaptured {
    PaymentCaptured {
        payment_id: kernel::new_id(),
        reference: b.id,
        user_id: b.user_id,
        amount_cents: b.amount_cents,
        currency: b.currency.clone(),
        method: PaymentMethod {
            kind: "wallet".into(),
            brand: None,
            last4: None,
        },
        captured_at: Timestamp::from_micros(1),
    }
}

/// The payments module's word that `b`'s payment by `kind` was declined for `reason`.
fn declined(b: &bookings_api::Booking, kind: &str, reason: &str) -> PaymentDeclined {
    PaymentDeclined {
        payment_id: kernel::new_id(),
        reference: b.id,
        user_id: b.user_id,
        reason: reason.into(),
        method: PaymentMethod {
            kind: kind.into(),
            brand: None,
            last4: None,
        },
        declined_at: Timestamp::from_micros(1),
    }
}

#[tokio::test]
async fn only_admins_schedule_shows_and_bad_show_input_names_every_field() {
    let w = World::new(Duration::from_secs(30)).await;
    let customer = w.add_user(&user("c@example.com", Role::Customer));
    let valid = NewShow {
        title: "Hamlet".into(),
        venue: Some("Globe".into()),
        starts_at: "2099-01-01T20:00:00Z".into(),
        capacity: Some(10),
        price_cents: Some(100),
        currency: "EUR".into(),
        ..NewShow::default()
    };
    let err = w
        .bookings
        .create_show(Trace::new_root(), &customer, w.schedule(valid).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, BookingsError::Forbidden), "{err:?}");
    let bad = NewShow {
        title: "".into(),
        venue: Some("x".repeat(200)),
        starts_at: "2001-01-01T00:00:00Z".into(),
        capacity: Some(0),
        price_cents: Some(-5),
        currency: "euro".into(),
        ..NewShow::default()
    };
    let fields = w.schedule(bad).unwrap_err();
    let named: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        named,
        [
            "title",
            "venue",
            "starts_at",
            "capacity",
            "price_cents",
            "currency"
        ]
    );
}

#[tokio::test]
async fn placing_past_the_line_s_width_waits_its_turn_and_is_told_busy_when_none_comes() {
    let w = World::with(BookingsConfig {
        placing: Some(GateShape {
            width: 1,
            wait: Duration::from_millis(500),
        }),
        ..BookingsConfig::default()
    })
    .await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = w.add_user(&user("ada@example.com", Role::Customer));
    let bob = w.add_user(&user("bob@example.com", Role::Customer));
    let show = w.show(&admin, 10).await.id;
    let place = |actor: Actor, seats: i64| {
        let bookings = w.bookings.clone();
        tokio::spawn(async move {
            bookings
                .place(Trace::new_root(), &actor, booking(show, seats, None))
                .await
        })
    };
    let bookings = &w.bookings;
    let until = |what: fn(kernel::GateCounts) -> bool| async move {
        while !what(bookings.placing_counts()) {
            tokio::task::yield_now().await;
        }
    };

    // Ada's booking is inside, waiting on a slow directory; Bob's waits in line behind it.
    let slow = w.directory.slow.lock().await;
    let first = place(ada, 2);
    until(|c| c.admitted == 1).await;
    let second = place(bob, 3);
    until(|c| c.waiting == 1).await;
    // Half a second on the module's clock and no place freed: Bob is told the box office is busy.
    w.clock.advance(Duration::from_millis(501));
    let refused = second.await.unwrap().unwrap_err();
    assert!(matches!(refused, BookingsError::Busy), "{refused:?}");
    drop(slow);
    assert_eq!(first.await.unwrap().unwrap().booking.seats, 2);
    // Nothing was held for him; asked again, he gets his seats.
    assert_eq!(w.bookings.show(show).await.unwrap().seats_available, 8);
    assert_eq!(w.place(&bob, show, 3).await.unwrap().booking.seats, 3);
    let counts = w.bookings.placing_counts();
    assert_eq!(
        (counts.admitted, counts.turned_away, counts.waiting),
        (2, 1, 0)
    );
}

#[tokio::test]
async fn placing_a_booking_holds_seats_copies_the_email_and_requests_payment_in_one_transaction() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = user("ada@example.com", Role::Customer);
    let actor = w.add_user(&ada);
    let show = w.show(&admin, 10).await;

    let placed = w.place(&actor, show.id, 3).await.unwrap();
    assert!(placed.created);
    let b = &placed.booking;
    assert_eq!(
        (b.status, b.seats, b.amount_cents, b.user_email.as_str()),
        (BookingStatus::Pending, 3, 7_500, "ada@example.com")
    );
    assert_eq!(w.bookings.show(show.id).await.unwrap().seats_available, 7);

    let events = w.bookings_events().await;
    let [.., placed_event, request_event] = events.as_slice() else {
        panic!("too few events: {events:?}");
    };
    let placed_event: BookingPlaced = placed_event.decode().unwrap();
    assert_eq!(
        (placed_event.booking_id, placed_event.amount_cents),
        (b.id, 7_500)
    );
    // The payment is asked for in payments' own words, in the same transaction (the next
    // sequence number, the same cause).
    assert_eq!(request_event.event_type, RequestPayment::TYPE);
    assert_eq!(request_event.seq, events[events.len() - 2].seq + 1);
    assert_eq!(
        request_event.causation_id,
        events[events.len() - 2].causation_id
    );
    let request: RequestPayment = request_event.decode().unwrap();
    assert_eq!(
        (request.reference, request.amount_cents, request.source),
        (b.id, 7_500, PaymentSource::Wallet)
    );
    let saga = w.bookings.saga(&actor, b.id).await.unwrap();
    assert_eq!(saga.state, SagaState::AwaitingPayment);
    assert_eq!(saga.steps[0].event_type.as_deref(), Some("BookingPlaced"));
}

#[tokio::test]
async fn many_customers_racing_for_the_last_seats_never_oversell() {
    let w = Arc::new(World::new(Duration::from_secs(30)).await);
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let show = w.show(&admin, 10).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let w = w.clone();
        let actor = w.add_user(&user(&format!("c{i}@example.com"), Role::Customer));
        tasks.push(tokio::spawn(async move {
            w.place(&actor, show.id, 1 + i % 2).await
        }));
    }
    let mut held = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(p) => held += p.booking.seats,
            Err(BookingsError::NotEnoughSeats { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let show = w.bookings.show(show.id).await.unwrap();
    assert_eq!(show.seats_taken, held);
    assert!((9..=10).contains(&held), "seats held: {held}");
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_booking_and_refuses_a_different_request() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let actor = w.add_user(&user("c@example.com", Role::Customer));
    let show = w.show(&admin, 10).await;
    let request = |seats| booking(show.id, seats, Some("order-1"));
    let first = w
        .bookings
        .place(Trace::new_root(), &actor, request(2))
        .await
        .unwrap();
    let again = w
        .bookings
        .place(Trace::new_root(), &actor, request(2))
        .await
        .unwrap();
    assert_eq!(first.booking.id, again.booking.id);
    assert!(!again.created);
    assert_eq!(w.bookings.show(show.id).await.unwrap().seats_taken, 2);
    let other = w
        .bookings
        .place(Trace::new_root(), &actor, request(3))
        .await
        .unwrap_err();
    assert!(
        matches!(other, BookingsError::IdempotencyMismatch),
        "{other:?}"
    );
}

#[tokio::test]
async fn a_wallet_that_cannot_pay_is_refused_before_any_seat_is_held_and_a_retry_is_still_answered()
{
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let show = w.show(&admin, 10).await; // 25.00 EUR a seat
    let poor = w.add_user(&user("poor@example.com", Role::Customer));
    let dollars = w.add_user(&user("usd@example.com", Role::Customer));
    let exact = w.add_user(&user("exact@example.com", Role::Customer));
    {
        let mut held = w.purses.held.lock().unwrap();
        held.insert(poor.user_id, (4_999, "EUR"));
        held.insert(dollars.user_id, (1_000_000, "USD"));
        held.insert(exact.user_id, (5_000, "EUR"));
    }
    assert_eq!(
        w.place(&poor, show.id, 2).await.unwrap_err().to_string(),
        "the wallet holds 4999 and the 2 seat(s) cost 5000 (cents of EUR)"
    );
    let Err(BookingsError::WalletCannotPay(why)) = w.place(&dollars, show.id, 1).await else {
        panic!("a wallet in dollars paid for euros");
    };
    assert_eq!(
        why,
        bookings_api::WalletShortfall::Currency {
            wallet: "USD".into(),
            show: "EUR".into()
        }
    );
    assert_eq!(w.bookings.show(show.id).await.unwrap().seats_taken, 0);
    assert!(
        !w.bookings_events()
            .await
            .iter()
            .any(|e| e.event_type == BookingPlaced::TYPE),
        "a refusal placed a booking"
    );
    // A card pays whatever the wallet holds.
    let card = PlaceBooking::try_from(BookingDraft {
        show_id: show.id.to_string(),
        seats: Some(2),
        payment: Some(Ok(PaymentSource::Card(payments_api::CardToken {
            token: "tok_test".into(),
            brand: "visa".into(),
            last4: "4242".into(),
        }))),
        ..BookingDraft::default()
    })
    .unwrap();
    w.bookings
        .place(Trace::new_root(), &poor, card)
        .await
        .unwrap();
    // Exactly enough pays; once the wallet is spent, the same request (same key) is still
    // answered with the same booking, not refused.
    let first = w
        .bookings
        .place(Trace::new_root(), &exact, booking(show.id, 2, Some("k")))
        .await
        .unwrap();
    w.purses
        .held
        .lock()
        .unwrap()
        .insert(exact.user_id, (0, "EUR"));
    let again = w
        .bookings
        .place(Trace::new_root(), &exact, booking(show.id, 2, Some("k")))
        .await
        .unwrap();
    assert_eq!(again.booking.id, first.booking.id);
    // Payments down: the wallet cannot be checked, and the booking is taken as it always was
    // (its payment request waits for payments; the saga settles or compensates it).
    *w.purses.down.lock().unwrap() = true;
    w.place(&poor, show.id, 1).await.unwrap();
    assert_eq!(w.bookings.show(show.id).await.unwrap().seats_taken, 5);
}

#[tokio::test]
async fn an_inactive_or_unknown_customer_cannot_book_and_a_down_directory_is_reported() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let show = w.show(&admin, 10).await;
    let mut gone = user("gone@example.com", Role::Customer);
    gone.active = false;
    let actor = w.add_user(&gone);
    assert!(matches!(
        w.place(&actor, show.id, 1).await,
        Err(BookingsError::AccountInactive)
    ));
    let stranger = Actor {
        user_id: Uuid::nil(),
        role: Role::Customer,
    };
    assert!(matches!(
        w.place(&stranger, show.id, 1).await,
        Err(BookingsError::AccountInactive)
    ));
    *w.directory.down.lock().unwrap() = true;
    let ok = w.add_user(&user("ok@example.com", Role::Customer));
    assert!(matches!(
        w.place(&ok, show.id, 1).await,
        Err(BookingsError::DependencyUnavailable(_))
    ));
    assert_eq!(
        w.bookings.show(show.id).await.unwrap().seats_taken,
        0,
        "a refused booking held seats"
    );
}

#[tokio::test]
async fn a_captured_payment_confirms_and_a_declined_one_cancels_and_releases_the_seats() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let actor = w.add_user(&user("c@example.com", Role::Customer));
    let show = w.show(&admin, 10).await;
    let paid = w.place(&actor, show.id, 2).await.unwrap().booking;
    let refused = w.place(&actor, show.id, 3).await.unwrap().booking;

    World::publish(&w.payments, &captured(&paid)).await;
    World::publish(
        &w.payments,
        &declined(&refused, "wallet", "insufficient_funds"),
    )
    .await;
    w.settle().await;

    assert_eq!(
        w.bookings.booking(&actor, paid.id).await.unwrap().status,
        BookingStatus::Confirmed
    );
    let cancelled = w.bookings.booking(&actor, refused.id).await.unwrap();
    assert_eq!(
        (cancelled.status, cancelled.cancel_reason),
        (
            BookingStatus::Cancelled,
            Some(CancelReason::PaymentDeclined)
        )
    );
    assert_eq!(w.bookings.show(show.id).await.unwrap().seats_taken, 2);
    let types: Vec<String> = w
        .bookings_events()
        .await
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert!(
        types.ends_with(&[
            "BookingConfirmed".into(),
            "BookingCancelled".into(),
            CancelPayment::TYPE.into()
        ]),
        "{types:?}"
    );

    // The same payment event delivered again changes nothing.
    World::publish(&w.payments, &captured(&paid)).await;
    w.settle().await;
    assert_eq!(
        w.bookings.saga(&actor, paid.id).await.unwrap().steps.len(),
        3
    );
}

#[tokio::test]
async fn an_unpaid_booking_is_cancelled_at_its_deadline_and_a_late_capture_waits_for_its_refund() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let actor = w.add_user(&user("c@example.com", Role::Customer));
    let show = w.show(&admin, 10).await;
    let b = w.place(&actor, show.id, 4).await.unwrap().booking;
    assert_eq!(w.bookings.expire_due().await.unwrap(), 0, "not due yet");
    w.clock.advance(Duration::from_secs(31));
    assert_eq!(w.bookings.expire_due().await.unwrap(), 1);
    assert_eq!(
        w.bookings.expire_due().await.unwrap(),
        0,
        "expiring is idempotent"
    );
    let cancelled = w.bookings.booking(&actor, b.id).await.unwrap();
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::PaymentTimeout));
    assert_eq!(w.bookings.show(show.id).await.unwrap().seats_taken, 0);
    let events = w.bookings_events().await;
    let cancel: BookingCancelled = events
        .iter()
        .rev()
        .find(|e| e.is::<BookingCancelled>())
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(cancel.reason, CancelReason::PaymentTimeout);
    let compensation: CancelPayment = events.last().unwrap().decode().unwrap();
    assert_eq!(compensation.reference, b.id);

    let late = captured(&b);
    World::publish(&w.payments, &late).await;
    w.settle().await;
    assert_eq!(
        w.bookings.saga(&actor, b.id).await.unwrap().state,
        SagaState::RefundPending
    );
    World::publish(
        &w.payments,
        &PaymentRefunded {
            payment_id: late.payment_id,
            reference: b.id,
            user_id: b.user_id,
            amount_cents: b.amount_cents,
            currency: b.currency.clone(),
            refunded_at: w.now.now(),
        },
    )
    .await;
    w.settle().await;
    let saga = w.bookings.saga(&actor, b.id).await.unwrap();
    assert_eq!(saga.state, SagaState::Refunded);
    assert_eq!(
        w.bookings.booking(&actor, b.id).await.unwrap().status,
        BookingStatus::Cancelled,
        "a late payment never revives"
    );
}

#[tokio::test]
async fn cancelling_a_confirmed_booking_asks_for_a_refund_and_a_show_cancellation_cancels_its_bookings()
 {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let actor = w.add_user(&user("c@example.com", Role::Customer));
    let show = w.show(&admin, 10).await;
    let b = w.place(&actor, show.id, 2).await.unwrap().booking;
    World::publish(&w.payments, &captured(&b)).await;
    w.settle().await;
    let cancelled = w
        .bookings
        .cancel(Trace::new_root(), &actor, b.id)
        .await
        .unwrap();
    assert_eq!(
        cancelled.cancel_reason,
        Some(CancelReason::CustomerCancelled)
    );
    assert_eq!(
        w.bookings.saga(&actor, b.id).await.unwrap().state,
        SagaState::RefundPending
    );
    assert!(matches!(
        w.bookings.cancel(Trace::new_root(), &actor, b.id).await,
        Err(BookingsError::AlreadyCancelled)
    ));

    let other = w.place(&actor, show.id, 1).await.unwrap().booking;
    let stranger = w.add_user(&user("s@example.com", Role::Customer));
    assert!(matches!(
        w.bookings
            .cancel(Trace::new_root(), &stranger, other.id)
            .await,
        Err(BookingsError::BookingNotFound)
    ));
    let show = w
        .bookings
        .cancel_show(Trace::new_root(), &admin, show.id)
        .await
        .unwrap();
    assert_eq!((show.seats_taken, show.seats_available), (0, 0));
    let other = w.bookings.booking(&actor, other.id).await.unwrap();
    assert_eq!(other.cancel_reason, Some(CancelReason::ShowCancelled));
    assert!(matches!(
        w.place(&actor, show.id, 1).await,
        Err(BookingsError::ShowCancelled)
    ));
}

#[tokio::test]
async fn an_email_change_reaches_every_booking_of_the_user_and_an_older_one_does_not_overwrite_it()
{
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let ada = user("ada@example.com", Role::Customer);
    let actor = w.add_user(&ada);
    let show = w.show(&admin, 10).await;
    let b1 = w.place(&actor, show.id, 1).await.unwrap().booking;
    let b2 = w.place(&actor, show.id, 1).await.unwrap().booking;
    let change = |email: &str, version| UserEmailChanged {
        user_id: ada.id,
        old_email: "x".into(),
        new_email: email.into(),
        email_version: version,
    };
    World::publish(&w.users, &change("ada@new.example", 3)).await;
    World::publish(&w.users, &change("ada@older.example", 2)).await;
    w.settle().await;
    for b in [b1.id, b2.id] {
        assert_eq!(
            w.bookings.booking(&actor, b).await.unwrap().user_email,
            "ada@new.example"
        );
    }
    // The directory still answers with the old address, but the copy it already knows is newer.
    let b3 = w.place(&actor, show.id, 1).await.unwrap().booking;
    assert_eq!(b3.user_email, "ada@new.example");
}

#[tokio::test]
async fn a_folder_from_before_payment_commands_gets_the_commands_its_sagas_still_need_once() {
    let w = World::new(Duration::from_secs(30)).await;
    let admin = w.add_user(&user("a@example.com", Role::Admin));
    let actor = w.add_user(&user("c@example.com", Role::Customer));
    let show = w.show(&admin, 10).await;
    let waiting = w.place(&actor, show.id, 1).await.unwrap().booking;
    let refunding = w.place(&actor, show.id, 2).await.unwrap().booking;
    let paid = w.place(&actor, show.id, 3).await.unwrap().booking;
    World::publish(&w.payments, &captured(&refunding)).await;
    World::publish(&w.payments, &captured(&paid)).await;
    w.settle().await;
    w.bookings
        .cancel(Trace::new_root(), &actor, refunding.id)
        .await
        .unwrap();

    // Make the folder what the release before commands left: no commands in the outbox (it
    // asked with `BookingPlaced` and `BookingCancelled`) and no record of the upgrade.
    let before = w.bookings_events().await.last().unwrap().seq;
    w.rewrite(&[
        "DELETE FROM outbox WHERE event_type IN ('RequestPayment', 'CancelPayment')",
        "DELETE FROM upgrades",
    ])
    .await;

    let reopen = || {
        Bookings::open(
            &w.platform,
            w.directory.clone(),
            w.purses.clone(),
            BookingsConfig::default(),
        )
    };
    let upgraded = reopen().await.unwrap();
    let sent: Vec<_> = upgraded
        .handle()
        .event_log()
        .read(before, 100)
        .await
        .unwrap();
    let mut commands: Vec<(&str, Uuid)> = sent
        .iter()
        .map(|e| (e.event_type.as_str(), e.aggregate_id.parse().unwrap()))
        .collect();
    commands.sort();
    let mut expected = vec![
        (RequestPayment::TYPE, waiting.id),
        (CancelPayment::TYPE, refunding.id),
    ];
    expected.sort();
    assert_eq!(commands, expected, "{sent:?}");
    let request: RequestPayment = sent
        .iter()
        .find(|e| e.event_type == RequestPayment::TYPE)
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(
        (request.user_id, request.amount_cents, request.source),
        (actor.user_id, waiting.amount_cents, PaymentSource::Wallet)
    );
    let saga = upgraded.saga(&actor, waiting.id).await.unwrap();
    assert_eq!(saga.state, SagaState::AwaitingPayment);

    // Once per folder: opening it again sends nothing more.
    let last = sent.last().unwrap().seq;
    let again = reopen().await.unwrap();
    assert!(
        again
            .handle()
            .event_log()
            .read(last, 100)
            .await
            .unwrap()
            .is_empty()
    );
}
