//! The reporting module through its public face. The users, bookings and payments modules are
//! played by stand-ins: real kernel outboxes publishing their published events, in whatever order
//! a test wants them to arrive.

use reporting_api::ReportingApi;
use std::{sync::Arc, time::Duration};

use bookings_api::{
    BookedSeat, BookingCancelled, BookingConfirmed, BookingPlaced, CancelReason, SeatingKind,
    ShowScheduled, TicketAdmitted,
};
use kernel::{
    ConsistencyToken, DbSettings, IntegrationEvent, ModuleDb, OutboxLog, Platform,
    SubscriptionConfig, Timestamp, Trace,
};
use payments_api::{PaymentCaptured, PaymentMethod, PaymentRefunded, PaymentSource};
use reporting::{Reporting, Sources};
use reporting_api::{FeedFilter, FeedQuery, ReportingError};
use sqlx::migrate::Migrator;
use users_api::{Actor, Role, UserEmailChanged, UserRegistered};
use uuid::Uuid;

static STAND_IN: Migrator = sqlx::migrate!("tests/schemas/stand_in");

struct World {
    _dir: tempfile::TempDir,
    reporting: Reporting,
    users: ModuleDb,
    bookings: ModuleDb,
    payments: ModuleDb,
}

const ADMIN: Actor = Actor {
    user_id: Uuid::nil(),
    role: Role::Admin,
};

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let platform = Platform::new(DbSettings::new(dir.path()), 1024);
        let open = |name| ModuleDb::open(name, &STAND_IN, &platform);
        let (users, bookings, payments) = (
            open("users").await.unwrap(),
            open("bookings").await.unwrap(),
            open("payments").await.unwrap(),
        );
        let sources = Sources {
            users: Arc::new(OutboxLog::new(users.clone())),
            bookings: Arc::new(OutboxLog::new(bookings.clone())),
            payments: Arc::new(OutboxLog::new(payments.clone())),
        };
        let reporting = Reporting::open(&platform, sources, SubscriptionConfig::default())
            .await
            .unwrap();
        World {
            _dir: dir,
            reporting,
            users,
            bookings,
            payments,
        }
    }

    async fn emit<E: IntegrationEvent>(db: &ModuleDb, event: &E) -> i64 {
        let mut tx = db.write(Trace::new_root()).await.unwrap();
        let r = tx.emit(event).await.unwrap();
        tx.commit().await.unwrap();
        r.seq
    }

    /// Applies everything published so far, stream by stream in the given order.
    async fn drain(&self, order: &[&str]) {
        let subs = self.reporting.subscriptions();
        for name in order {
            subs.iter()
                .find(|s| s.stream() == *name)
                .unwrap()
                .drain()
                .await
                .unwrap();
        }
    }

    async fn feed(&self) -> Vec<reporting_api::FeedItem> {
        self.reporting
            .feed(
                &ADMIN,
                filter(FeedQuery {
                    limit: Some(200),
                    ..FeedQuery::default()
                }),
            )
            .await
            .unwrap()
            .items
    }
}

/// The validated filter of a feed query a test knows to be valid.
fn filter(query: FeedQuery) -> FeedFilter {
    FeedFilter::try_from(query).unwrap()
}

/// A consistency token a test knows to be well formed.
fn token(text: &str) -> ConsistencyToken {
    ConsistencyToken::parse(text).unwrap()
}

/// `n` seats of the stalls' row C, at 10.00 each.
fn stalls(n: i64) -> Vec<BookedSeat> {
    (1..=n)
        .map(|i| BookedSeat {
            seat_id: Some(kernel::new_id()),
            section: Some("Stalls".into()),
            row: Some("C".into()),
            number: Some(i.to_string()),
            price_cents: 1_000,
        })
        .collect()
}

struct Story {
    user: Uuid,
    show: Uuid,
    paid: Uuid,
    refunded: Uuid,
}

/// A customer, a show, one booking paid and confirmed, one paid then cancelled and refunded.
async fn publish_story(w: &World) -> Story {
    let (user, show, paid, refunded) = (
        kernel::new_id(),
        kernel::new_id(),
        kernel::new_id(),
        kernel::new_id(),
    );
    let now = Timestamp::now();
    World::emit(
        &w.users,
        &UserRegistered {
            user_id: user,
            email: "ada@example.com".into(),
            full_name: "Ada Lovelace".into(),
            role: Role::Customer,
            registered_at: now,
        },
    )
    .await;
    World::emit(
        &w.bookings,
        &ShowScheduled {
            show_id: show,
            title: "Hamlet".into(),
            venue: "The Globe".into(),
            venue_id: None,
            time_zone: "Europe/London".into(),
            seating: SeatingKind::Reserved,
            starts_at: now,
            capacity: 10,
            price_cents: 1_000,
            currency: "EUR".into(),
        },
    )
    .await;
    for (booking, seats) in [(paid, 2), (refunded, 3)] {
        World::emit(
            &w.bookings,
            &BookingPlaced {
                booking_id: booking,
                user_id: user,
                user_email: "ada@example.com".into(),
                show_id: show,
                seats: stalls(seats),
                amount_cents: seats * 1_000,
                currency: "EUR".into(),
                payment: PaymentSource::Wallet,
                deadline_at: now,
                placed_at: now,
            },
        )
        .await;
        World::emit(
            &w.payments,
            &PaymentCaptured {
                payment_id: kernel::new_id(),
                reference: booking,
                user_id: user,
                amount_cents: seats * 1_000,
                currency: "EUR".into(),
                method: PaymentMethod {
                    kind: "wallet".into(),
                    brand: None,
                    last4: None,
                },
                captured_at: now,
            },
        )
        .await;
        World::emit(
            &w.bookings,
            &BookingConfirmed {
                booking_id: booking,
                user_id: user,
                show_id: show,
                payment_id: Uuid::nil(),
                seats: stalls(seats),
                confirmed_at: now,
            },
        )
        .await;
    }
    World::emit(
        &w.bookings,
        &BookingCancelled {
            booking_id: refunded,
            user_id: user,
            show_id: show,
            seats: stalls(3),
            reason: CancelReason::CustomerCancelled,
            cancelled_at: now,
        },
    )
    .await;
    World::emit(
        &w.payments,
        &PaymentRefunded {
            payment_id: Uuid::nil(),
            reference: refunded,
            user_id: user,
            amount_cents: 3_000,
            currency: "EUR".into(),
            refunded_at: now,
        },
    )
    .await;
    World::emit(
        &w.users,
        &UserEmailChanged {
            user_id: user,
            old_email: "ada@example.com".into(),
            new_email: "ada@lovelace.org".into(),
            email_version: 2,
        },
    )
    .await;
    Story {
        user,
        show,
        paid,
        refunded,
    }
}

async fn assert_story_view(w: &World, s: &Story) {
    let d = w.reporting.dashboard(&ADMIN).await.unwrap();
    assert_eq!(
        (
            d.bookings.total,
            d.bookings.confirmed,
            d.bookings.cancelled,
            d.bookings.pending
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(d.seats_sold, 2);
    assert_eq!(
        (
            d.money[0].currency.as_str(),
            d.money[0].revenue_cents,
            d.money[0].refunds_cents
        ),
        ("EUR", 2_000, 3_000)
    );
    let show = &d.top_shows[0];
    assert_eq!(
        (
            show.show_id,
            show.seats_sold,
            show.seats_held,
            show.seats_left,
            show.revenue_cents
        ),
        (s.show, 2, 0, 8, 2_000)
    );
    let feed = w.feed().await;
    assert_eq!(feed.len(), 2);
    for item in &feed {
        assert_eq!(
            item.user_email.as_deref(),
            Some("ada@lovelace.org"),
            "the email change reached every row"
        );
        assert_eq!(item.user_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(item.show_title.as_deref(), Some("Hamlet"));
    }
    let paid = feed.iter().find(|f| f.booking_id == s.paid).unwrap();
    assert_eq!(
        (paid.status.as_deref(), paid.payment_status.as_deref()),
        (Some("confirmed"), Some("captured"))
    );
    let refunded = feed.iter().find(|f| f.booking_id == s.refunded).unwrap();
    assert_eq!(
        (
            refunded.status.as_deref(),
            refunded.payment_status.as_deref()
        ),
        (Some("cancelled"), Some("refunded"))
    );
    let c = w.reporting.customer(&ADMIN, s.user).await.unwrap();
    assert_eq!(
        (
            c.bookings,
            c.confirmed,
            c.cancelled,
            c.spent_cents,
            c.refunds_cents
        ),
        (2, 1, 1, 2_000, 3_000)
    );
}

#[tokio::test]
async fn the_view_is_the_same_whatever_order_the_streams_arrive_in() {
    for order in [
        ["users", "bookings", "payments"],
        ["payments", "bookings", "users"],
        ["bookings", "payments", "users"],
    ] {
        let w = World::new().await;
        let s = publish_story(&w).await;
        w.drain(&order).await;
        assert_story_view(&w, &s).await;
    }
}

#[tokio::test]
async fn replayed_and_duplicated_events_change_nothing_and_a_rebuild_equals_the_live_view() {
    let w = World::new().await;
    let s = publish_story(&w).await;
    w.drain(&["bookings", "users", "payments"]).await;
    let live = (w.feed().await, w.reporting.dashboard(&ADMIN).await.unwrap());

    // Draining again re-reads nothing new; a rebuild replays everything from the first event.
    w.drain(&["users", "bookings", "payments"]).await;
    let status = w.reporting.rebuild_now(|_| {}).await.unwrap();
    assert_eq!(
        (status.processed, status.total, status.running),
        (11, 11, false)
    );
    let rebuilt = (w.feed().await, w.reporting.dashboard(&ADMIN).await.unwrap());
    assert_eq!(live.0, rebuilt.0);
    assert_eq!(live.1.bookings, rebuilt.1.bookings);
    assert_eq!(live.1.money, rebuilt.1.money);
    assert_eq!(live.1.top_shows, rebuilt.1.top_shows);
    assert_eq!(live.1.timeline, rebuilt.1.timeline);

    // A second rebuild, and live subscriptions re-reading after it, still change nothing.
    w.reporting.rebuild_now(|_| {}).await.unwrap();
    w.drain(&["payments", "users", "bookings"]).await;
    assert_story_view(&w, &s).await;
}

#[tokio::test]
async fn the_feed_filters_searches_and_pages() {
    let w = World::new().await;
    let s = publish_story(&w).await;
    w.drain(&["users", "bookings", "payments"]).await;
    let reporting = &w.reporting;
    let q = |f: FeedQuery| async move {
        reporting
            .feed(
                &ADMIN,
                filter(FeedQuery {
                    limit: Some(50),
                    ..f
                }),
            )
            .await
            .unwrap()
            .items
    };
    assert_eq!(
        q(FeedQuery {
            status: Some("confirmed".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        q(FeedQuery {
            payment_status: Some("refunded".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        q(FeedQuery {
            show_id: Some(s.show),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        q(FeedQuery {
            q: Some("lovelace hamlet".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        q(FeedQuery {
            q: Some("ham".into()),
            ..Default::default()
        })
        .await
        .len(),
        2,
        "prefix search"
    );
    assert!(
        q(FeedQuery {
            q: Some("macbeth".into()),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    assert!(
        q(FeedQuery {
            q: Some("\" OR * NEAR(".into()),
            ..Default::default()
        })
        .await
        .is_empty(),
        "FTS syntax is not passed through"
    );

    let first = w
        .reporting
        .feed(
            &ADMIN,
            filter(FeedQuery {
                limit: Some(1),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    let rest = w
        .reporting
        .feed(
            &ADMIN,
            filter(FeedQuery {
                limit: Some(1),
                cursor: first.next_cursor.clone(),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    assert_ne!(first.items[0].booking_id, rest.items[0].booking_id);
    for bad in [
        FeedQuery {
            limit: Some(0),
            ..Default::default()
        },
        FeedQuery {
            limit: Some(5),
            status: Some("lost".into()),
            ..Default::default()
        },
        FeedQuery {
            limit: Some(5),
            cursor: Some("x".into()),
            ..Default::default()
        },
    ] {
        assert!(FeedFilter::try_from(bad).is_err());
    }
    let hits = w.reporting.search_shows("globe").await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].title, "Hamlet");
}

#[tokio::test]
async fn customers_see_only_their_own_rows_and_totals() {
    let w = World::new().await;
    let s = publish_story(&w).await;
    w.drain(&["users", "bookings", "payments"]).await;
    let stranger = Actor {
        user_id: kernel::new_id(),
        role: Role::Customer,
    };
    assert!(
        w.reporting
            .feed(
                &stranger,
                filter(FeedQuery {
                    limit: Some(10),
                    ..Default::default()
                })
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        w.reporting.customer(&stranger, s.user).await,
        Err(ReportingError::Forbidden)
    ));
    assert!(matches!(
        w.reporting.dashboard(&stranger).await,
        Err(ReportingError::Forbidden)
    ));
    let owner = Actor {
        user_id: s.user,
        role: Role::Customer,
    };
    assert_eq!(
        w.reporting
            .feed(
                &owner,
                filter(FeedQuery {
                    limit: Some(10),
                    ..Default::default()
                })
            )
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

#[tokio::test]
async fn the_lag_is_reported_and_a_consistency_token_is_waited_for() {
    let w = World::new().await;
    let s = publish_story(&w).await;
    let lag = w.reporting.lag().await;
    let bookings = lag.iter().find(|l| l.stream == "bookings").unwrap();
    assert_eq!(
        (bookings.checkpoint, bookings.head, bookings.behind_events),
        (0, 6, 6)
    );
    assert!(bookings.behind_ms >= 0);
    assert!(
        !w.reporting
            .wait_for(&token("bookings:6"), Duration::from_millis(50))
            .await
            .unwrap(),
        "nothing drained yet"
    );

    let shutdown = tokio_util::sync::CancellationToken::new();
    let tasks: Vec<_> = w
        .reporting
        .subscriptions()
        .iter()
        .map(|sub| sub.spawn(shutdown.clone()))
        .collect();
    assert!(
        w.reporting
            .wait_for(&token("bookings:6"), Duration::from_secs(10))
            .await
            .unwrap()
    );
    assert!(
        w.reporting
            .wait_for(&token("payments:3"), Duration::from_secs(10))
            .await
            .unwrap()
    );
    assert!(
        w.reporting
            .wait_for(&token("users:2"), Duration::from_secs(10))
            .await
            .unwrap()
    );
    assert_story_view(&w, &s).await;
    assert!(w.reporting.lag().await.iter().all(|l| l.behind_events == 0));
    assert_eq!(ConsistencyToken::parse("nonsense"), None);
    assert!(matches!(
        w.reporting
            .wait_for(&token("nowhere:1"), Duration::from_millis(1))
            .await,
        Err(ReportingError::Validation(_))
    ));
    shutdown.cancel();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn tickets_admitted_count_as_attendance_and_seats_are_named_in_the_feed_and_its_search() {
    let w = World::new().await;
    let s = publish_story(&w).await;
    let admitted = |ticket| TicketAdmitted {
        ticket_id: ticket,
        booking_id: s.paid,
        show_id: s.show,
        seat: stalls(1).remove(0),
        admitted_by: Uuid::nil(),
        admitted_at: Timestamp::now(),
    };
    World::emit(&w.bookings, &admitted(kernel::new_id())).await;
    World::emit(&w.bookings, &admitted(kernel::new_id())).await;
    w.drain(&["users", "bookings", "payments"]).await;
    let sales = w.reporting.show_sales(&ADMIN).await.unwrap();
    assert_eq!(sales[0].admitted, 2);
    let paid = w
        .feed()
        .await
        .into_iter()
        .find(|f| f.booking_id == s.paid)
        .unwrap();
    assert_eq!(
        paid.seat_labels.as_deref(),
        Some("Stalls, row C, seat 1; Stalls, row C, seat 2")
    );
    let found = w
        .reporting
        .feed(
            &ADMIN,
            filter(FeedQuery {
                q: Some("row C".into()),
                ..FeedQuery::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(found.items.len(), 2);
    // A rebuild counts the same attendance from the log.
    w.reporting.rebuild_now(|_| {}).await.unwrap();
    assert_eq!(w.reporting.show_sales(&ADMIN).await.unwrap()[0].admitted, 2);
}

/// Writes an event into a stand-in's outbox exactly as an earlier release did: its payload and
/// version as given.
async fn emit_as_written(
    db: &ModuleDb,
    event_type: &str,
    version: i64,
    payload: serde_json::Value,
) {
    let mut tx = db.write(Trace::new_root()).await.unwrap();
    sqlx::query(
        "INSERT INTO outbox (event_id, event_type, event_version, aggregate_id, payload, correlation_id, causation_id, occurred_at) \
         VALUES (?, ?, ?, '', ?, ?, ?, ?)",
    )
    .bind(kernel::new_id())
    .bind(event_type)
    .bind(version)
    .bind(payload.to_string())
    .bind(kernel::new_id())
    .bind(kernel::new_id())
    .bind(Timestamp::now())
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn count_only_events_of_the_first_version_replay_into_the_same_figures() {
    let w = World::new().await;
    let (user, show, booking) = (kernel::new_id(), kernel::new_id(), kernel::new_id());
    let at = "2026-11-01T20:00:00Z";
    emit_as_written(
        &w.bookings,
        "ShowScheduled",
        1,
        serde_json::json!({"show_id": show, "title": "Old Night", "venue": "Hall", "starts_at": at,
                           "capacity": 10, "price_cents": 1000, "currency": "EUR"}),
    )
    .await;
    emit_as_written(
        &w.bookings,
        "BookingPlaced",
        1,
        serde_json::json!({"booking_id": booking, "user_id": user, "user_email": "old@example.com",
                           "show_id": show, "seats": 3, "amount_cents": 3000, "currency": "EUR",
                           "payment": {"type": "wallet"}, "deadline_at": at, "placed_at": at}),
    )
    .await;
    emit_as_written(
        &w.bookings,
        "BookingCancelled",
        1,
        serde_json::json!({"booking_id": booking, "user_id": user, "show_id": show, "seats": 3,
                           "reason": "payment_declined", "cancelled_at": at}),
    )
    .await;
    w.drain(&["users", "bookings", "payments"]).await;
    let before = w.reporting.show_sales(&ADMIN).await.unwrap();
    assert_eq!(
        (
            before[0].bookings,
            before[0].seats_held,
            before[0].seats_left
        ),
        (1, 0, 10)
    );
    let row = w.feed().await.remove(0);
    assert_eq!(
        (row.seats, row.status.as_deref(), row.seat_labels),
        (3, Some("cancelled"), None)
    );
    w.reporting.rebuild_now(|_| {}).await.unwrap();
    assert_eq!(w.reporting.show_sales(&ADMIN).await.unwrap(), before);
    for s in w.reporting.subscriptions() {
        assert_eq!(
            s.status().await.parked,
            0,
            "an old version was parked instead of read"
        );
    }
}
