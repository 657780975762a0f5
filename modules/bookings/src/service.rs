//! The bookings module's facade: shows, bookings, sagas, the subscriptions to the users and
//! payments streams, and the timekeeper that cancels unpaid bookings at their deadline.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;

use bookings_api::{
    Booking, BookingFilter, BookingPage, BookingPlaced, BookingStatus, BookingsApi, BookingsError,
    CancelReason, ChangeShow, PlaceBooking, Placed, Saga, ScheduleShow, Show, ShowCancelled,
    ShowFilter, ShowPage, ShowScheduled, ShowStatus, ShowUpdated, WalletShortfall,
};
use kernel::{
    Cursor, EventSource, Message, ModuleDb, ModuleHandle, Platform, Subscription,
    SubscriptionConfig, Timestamp, Trace, new_id, spawn_periodic,
};
use payments_api::{PaymentSource, RequestPayment, Wallets};
use sha2::{Digest, Sha256};
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use users_api::{Actor, UserDirectory};
use uuid::Uuid;

use crate::{
    handlers::{PaymentsHandler, UsersHandler},
    saga,
    store::{self, BookingRow, NewStep},
    upgrade,
};

static MIGRATOR: Migrator = sqlx::migrate!("../../schemas/bookings");

/// How often the timekeeper looks for unpaid bookings past their deadline.
const TIMEKEEPER_TICK: Duration = Duration::from_millis(200);

/// How the bookings module behaves.
#[derive(Clone, Debug)]
pub struct BookingsConfig {
    /// How long a booking waits for its payment before it is cancelled.
    pub payment_timeout: Duration,
}

impl Default for BookingsConfig {
    fn default() -> Self {
        Self {
            payment_timeout: Duration::from_secs(30),
        }
    }
}

/// The bookings module.
#[derive(Clone)]
pub struct Bookings {
    db: ModuleDb,
    users: Arc<dyn UserDirectory>,
    wallets: Arc<dyn Wallets>,
    config: BookingsConfig,
}

/// Why `seats` seats of `show` cannot be booked at `now`, if they cannot.
fn refusal(show: &Show, seats: i64, now: Timestamp) -> Option<BookingsError> {
    if show.status == ShowStatus::Cancelled {
        Some(BookingsError::ShowCancelled)
    } else if show.starts_at <= now {
        Some(BookingsError::ShowStarted)
    } else if show.capacity - show.seats_taken < seats {
        Some(BookingsError::NotEnoughSeats {
            available: show.capacity - show.seats_taken,
        })
    } else {
        None
    }
}

fn fingerprint(show_id: Uuid, seats: i64, payment: &PaymentSource) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(show_id.as_bytes());
    h.update(seats.to_le_bytes());
    match payment {
        PaymentSource::Wallet => h.update(b"wallet"),
        // Brand and last four only: a hash of a whole card number could be brute-forced.
        PaymentSource::Card(card) => {
            h.update(format!("card:{}:{}", card.brand, card.last4).as_bytes())
        }
    }
    h.finalize().to_vec()
}

impl Bookings {
    /// Opens (and migrates) `bookings.db`; `users` is the user directory it checks customers
    /// with, `wallets` what it asks whether a wallet can pay before it holds seats for it.
    pub async fn open(
        platform: &Platform,
        users: Arc<dyn UserDirectory>,
        wallets: Arc<dyn Wallets>,
        config: BookingsConfig,
    ) -> Result<Bookings, BookingsError> {
        let db = ModuleDb::open(bookings_api::STREAM, &MIGRATOR, platform).await?;
        upgrade::send_payment_commands(&db).await?;
        Ok(Bookings {
            db,
            users,
            wallets,
            config,
        })
    }

    /// Refuses a wallet booking its wallet cannot pay, before any seat is held: a wallet in
    /// another currency than the show's price, or holding less than the seats cost. The saga
    /// stays the authority (a wallet spent between this look and the charge is declined there,
    /// and the booking compensated); this spares the customer a booking bound to fail. When
    /// payments cannot answer, the booking is taken as before the check existed: its payment
    /// request waits in the outbox and settles when payments is back, or the deadline
    /// compensates it.
    async fn check_wallet(
        &self,
        user_id: Uuid,
        show_id: Uuid,
        seats: i64,
    ) -> Result<(), BookingsError> {
        let show = store::show(self.db.reader()?, show_id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        // A show that cannot be booked at all says so first, from the seats' own transaction.
        if refusal(&show, seats, self.db.clock().now()).is_some() {
            return Ok(());
        }
        let wallet = match self.wallets.wallet(user_id).await {
            Ok(wallet) => wallet,
            Err(e) => {
                tracing::warn!(error = %e, "the wallet could not be checked; booking anyway");
                return Ok(());
            }
        };
        match WalletShortfall::of(
            wallet.balance_cents,
            &wallet.currency,
            seats,
            show.price_cents,
            &show.currency,
        ) {
            Some(why) => Err(BookingsError::WalletCannotPay(why)),
            None => Ok(()),
        }
    }

    /// The module as a whole: its event log, health, availability, close.
    pub fn handle(&self) -> ModuleHandle {
        self.db.handle()
    }

    /// The subscriptions: email copies from `users`, the saga from `payments`.
    pub fn subscriptions(
        &self,
        users: Arc<dyn EventSource>,
        payments: Arc<dyn EventSource>,
        config: SubscriptionConfig,
    ) -> Vec<Subscription> {
        vec![
            Subscription::new(&self.db, users, UsersHandler, config),
            Subscription::new(&self.db, payments, PaymentsHandler, config),
        ]
    }

    /// Cancels unpaid bookings as their deadlines pass (on the module's clock), until `shutdown`.
    pub fn spawn_timekeeper(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let this = self.clone();
        spawn_periodic(
            "cancel unpaid bookings at their deadline",
            TIMEKEEPER_TICK,
            self.db.clock().clone(),
            shutdown,
            move || {
                let this = this.clone();
                async move { this.expire_due().await }
            },
        )
    }

    /// Cancels every booking whose payment deadline has passed; returns how many.
    pub async fn expire_due(&self) -> Result<usize, BookingsError> {
        let now = self.db.clock().now();
        let due = store::due_sagas(self.db.reader()?, now, 200).await?;
        let mut cancelled = 0;
        for booking_id in due {
            let Some(row) = store::booking(self.db.reader()?, booking_id).await? else {
                continue;
            };
            // The timeout belongs to the booking's own causation chain.
            let trace = Trace {
                correlation_id: row.correlation_id,
                causation_id: row.placed_event_id,
            };
            let mut tx = self.db.write(trace).await?;
            if saga::expire(&mut tx, booking_id).await? {
                cancelled += 1;
            }
            tx.commit().await?;
        }
        Ok(cancelled)
    }

    fn replay(existing: BookingRow, fingerprint: &[u8]) -> Result<Placed, BookingsError> {
        if existing.request_fingerprint.as_deref() == Some(fingerprint) {
            Ok(Placed {
                booking: existing.booking,
                created: false,
                token: None,
            })
        } else {
            Err(BookingsError::IdempotencyMismatch)
        }
    }
}

#[async_trait]
impl BookingsApi for Bookings {
    /// Schedules a show (admins).
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id))]
    async fn create_show(
        &self,
        trace: Trace,
        actor: &Actor,
        input: ScheduleShow,
    ) -> Result<Show, BookingsError> {
        if !actor.is_admin() {
            return Err(BookingsError::Forbidden);
        }
        let now = self.db.clock().now();
        let capacity = input.capacity.get();
        let show = Show {
            id: new_id(),
            title: input.title.into_string(),
            venue: input.venue.into_string(),
            starts_at: input.starts_at,
            capacity,
            seats_taken: 0,
            seats_available: capacity,
            price_cents: input.price.cents(),
            currency: input.currency.as_str().to_owned(),
            status: ShowStatus::Scheduled,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.write(trace).await?;
        store::insert_show(tx.conn(), &show).await?;
        tx.emit(&ShowScheduled {
            show_id: show.id,
            title: show.title.clone(),
            venue: show.venue.clone(),
            starts_at: show.starts_at,
            capacity,
            price_cents: show.price_cents,
            currency: show.currency.clone(),
        })
        .await?;
        tx.commit().await?;
        Ok(show)
    }

    /// Changes a show (admins). The capacity cannot drop below the seats taken; a new price
    /// applies to new bookings.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, show_id = %id))]
    async fn update_show(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ChangeShow,
    ) -> Result<Show, BookingsError> {
        if !actor.is_admin() {
            return Err(BookingsError::Forbidden);
        }
        let now = self.db.clock().now();

        let mut tx = self.db.write(trace).await?;
        let mut show = store::show(tx.conn(), id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        if show.status == ShowStatus::Cancelled {
            return Err(BookingsError::ShowCancelled);
        }
        if let Some(t) = change.title {
            show.title = t.into_string();
        }
        if let Some(v) = change.venue {
            show.venue = v.into_string();
        }
        if let Some(s) = change.starts_at {
            show.starts_at = s;
        }
        if let Some(c) = change.capacity {
            if c.get() < show.seats_taken {
                return Err(BookingsError::CapacityBelowTaken {
                    taken: show.seats_taken,
                });
            }
            show.capacity = c.get();
        }
        if let Some(p) = change.price {
            show.price_cents = p.cents();
        }
        show.updated_at = now;
        show.seats_available = show.capacity - show.seats_taken;
        store::update_show(tx.conn(), &show).await?;
        tx.emit(&ShowUpdated {
            show_id: id,
            title: show.title.clone(),
            venue: show.venue.clone(),
            starts_at: show.starts_at,
            capacity: show.capacity,
            price_cents: show.price_cents,
        })
        .await?;
        tx.commit().await?;
        Ok(show)
    }

    /// Calls a show off (admins): every pending or confirmed booking is cancelled, its seats
    /// released, and paid ones refunded by payments.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, show_id = %id))]
    async fn cancel_show(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
    ) -> Result<Show, BookingsError> {
        if !actor.is_admin() {
            return Err(BookingsError::Forbidden);
        }
        let mut tx = self.db.write(trace).await?;
        let mut show = store::show(tx.conn(), id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        if show.status == ShowStatus::Cancelled {
            return Err(BookingsError::ShowCancelled);
        }
        let bookings = store::active_bookings_of_show(tx.conn(), id).await?;
        for row in &bookings {
            saga::cancel(&mut tx, row, CancelReason::ShowCancelled).await?;
        }
        let now = tx.now();
        show = store::show(tx.conn(), id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        show.status = ShowStatus::Cancelled;
        show.seats_available = 0;
        show.updated_at = now;
        store::update_show(tx.conn(), &show).await?;
        tx.emit(&ShowCancelled {
            show_id: id,
            bookings_cancelled: bookings.len() as i64,
            cancelled_at: now,
        })
        .await?;
        tx.commit().await?;
        Ok(show)
    }

    /// One show.
    async fn show(&self, id: Uuid) -> Result<Show, BookingsError> {
        store::show(self.db.reader()?, id)
            .await?
            .ok_or(BookingsError::ShowNotFound)
    }

    /// The shows with these ids (at most 500), in one query.
    async fn shows_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Show>, BookingsError> {
        let mut unique: Vec<Uuid> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        unique.truncate(500);
        store::shows_by_ids(self.db.reader()?, &unique).await
    }

    /// Shows soonest first: upcoming ones on sale, or all of them (past, cancelled) with `all`.
    async fn shows(&self, filter: ShowFilter) -> Result<ShowPage, BookingsError> {
        let now = self.db.clock().now();
        let items = store::list_shows(self.db.reader()?, &filter, now).await?;
        let next_cursor = Cursor::after_page(&items, filter.limit, |s| (s.starts_at, s.id));
        Ok(ShowPage { items, next_cursor })
    }

    /// Places a booking: checks the customer through the user directory, holds the seats, stores
    /// the booking and its saga, emits `BookingPlaced` and sends payments `RequestPayment`, in one
    /// transaction. With an `Idempotency-Key`, the same request returns the same booking.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, user_id = %actor.user_id))]
    async fn place(
        &self,
        trace: Trace,
        actor: &Actor,
        request: PlaceBooking,
    ) -> Result<Placed, BookingsError> {
        let PlaceBooking {
            show_id,
            seats,
            payment,
            idempotency_key,
        } = request;
        let seats = seats.get();
        let key = idempotency_key.map(|k| k.as_str().to_owned());
        let fingerprint = fingerprint(show_id, seats, &payment);

        // A retried request is answered before anything else is asked of anyone.
        if let Some(k) = &key
            && let Some(existing) =
                store::booking_by_key(self.db.reader()?, actor.user_id, k).await?
        {
            return Self::replay(existing, &fingerprint);
        }

        // The customer, through the users module's published API.
        let user = self
            .users
            .find_user(actor.user_id)
            .await
            .map_err(|err| BookingsError::DependencyUnavailable(err.to_string()))?
            .filter(|u| u.active)
            .ok_or(BookingsError::AccountInactive)?;
        if matches!(payment, PaymentSource::Wallet) {
            self.check_wallet(user.id, show_id, seats).await?;
        }

        let mut tx = self.db.write(trace).await?;
        let now = tx.now();
        if let Some(k) = &key
            && let Some(existing) = store::booking_by_key(tx.conn(), actor.user_id, k).await?
        {
            return Self::replay(existing, &fingerprint);
        }
        // The common case in one statement; only a refusal reads the show to say why.
        let Some(show) = store::reserve_seats(tx.conn(), show_id, seats, now).await? else {
            let show = store::show(tx.conn(), show_id)
                .await?
                .ok_or(BookingsError::ShowNotFound)?;
            return Err(
                refusal(&show, seats, now).unwrap_or(BookingsError::NotEnoughSeats {
                    available: show.capacity - show.seats_taken,
                }),
            );
        };
        // The directory's answer may be older than an email change this module already applied.
        let (email, email_version) = match store::email_copy(tx.conn(), user.id).await? {
            Some((email, version)) if version > user.email_version => (email, version),
            _ => (user.email.clone(), user.email_version),
        };
        let deadline_at = now.plus(self.config.payment_timeout);
        let (card_brand, card_last4) = match &payment {
            PaymentSource::Wallet => (None, None),
            PaymentSource::Card(card) => (Some(card.brand.clone()), Some(card.last4.clone())),
        };
        let booking = Booking {
            id: new_id(),
            user_id: user.id,
            user_email: email.clone(),
            show_id,
            seats,
            amount_cents: show.price_cents * seats,
            currency: show.currency.clone(),
            status: BookingStatus::Pending,
            cancel_reason: None,
            payment_method: payment.kind().into(),
            card_brand,
            card_last4,
            created_at: now,
            updated_at: now,
        };
        let placed = tx
            .emit(&BookingPlaced {
                booking_id: booking.id,
                user_id: user.id,
                user_email: email,
                show_id,
                seats,
                amount_cents: booking.amount_cents,
                currency: booking.currency.clone(),
                payment: payment.clone(),
                deadline_at,
                placed_at: now,
            })
            .await?;
        // The saga's first command, in payments' own vocabulary; the booking is its reference.
        tx.send(&RequestPayment {
            reference: booking.id,
            user_id: user.id,
            amount_cents: booking.amount_cents,
            currency: booking.currency.clone(),
            source: payment,
            deadline_at,
        })
        .await?;
        let row = BookingRow {
            booking: booking.clone(),
            user_email_version: email_version,
            payment_id: None,
            idempotency_key: key,
            request_fingerprint: Some(fingerprint),
            correlation_id: trace.correlation_id,
            placed_event_id: placed.event_id,
        };
        store::insert_booking(tx.conn(), &row).await?;
        store::insert_saga(tx.conn(), booking.id, deadline_at, now).await?;
        let step = NewStep {
            action: "seats held; payment requested",
            event_type: Some(BookingPlaced::TYPE),
            event_id: Some(placed.event_id),
            outcome: "ok",
            detail: Some(format!(
                "{seats} seat(s), {}.{:02} {}",
                booking.amount_cents / 100,
                booking.amount_cents % 100,
                booking.currency
            )),
        };
        store::add_step(tx.conn(), booking.id, step, now).await?;
        let committed = tx.commit().await?;
        Ok(Placed {
            booking,
            created: true,
            token: committed.token(),
        })
    }

    /// One booking: the customer's own, or any for an admin.
    async fn booking(&self, actor: &Actor, id: Uuid) -> Result<Booking, BookingsError> {
        match store::booking(self.db.reader()?, id).await? {
            Some(row) if actor.may_access(row.booking.user_id) => Ok(row.booking),
            _ => Err(BookingsError::BookingNotFound),
        }
    }

    /// Bookings, newest first: a customer's own (whatever `user_id` says), or anyone's for admins.
    async fn bookings(
        &self,
        actor: &Actor,
        mut filter: BookingFilter,
    ) -> Result<BookingPage, BookingsError> {
        if !actor.is_admin() {
            filter.user_id = Some(actor.user_id);
        }
        let rows = store::list_bookings(self.db.reader()?, &filter).await?;
        let items: Vec<Booking> = rows.into_iter().map(|r| r.booking).collect();
        let next_cursor = Cursor::after_page(&items, filter.limit, |b| (b.created_at, b.id));
        Ok(BookingPage { items, next_cursor })
    }

    /// Cancels a booking (its customer before the show starts, or an admin). Seats are released
    /// at once; a paid booking is refunded by payments.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, booking_id = %id))]
    async fn cancel(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
    ) -> Result<Booking, BookingsError> {
        let mut tx = self.db.write(trace).await?;
        let row = match store::booking(tx.conn(), id).await? {
            Some(row) if actor.may_access(row.booking.user_id) => row,
            _ => return Err(BookingsError::BookingNotFound),
        };
        if !actor.is_admin() {
            let show = store::show(tx.conn(), row.booking.show_id)
                .await?
                .ok_or(BookingsError::ShowNotFound)?;
            if show.starts_at <= tx.now() {
                return Err(BookingsError::ShowStarted);
            }
        }
        let reason = if actor.user_id == row.booking.user_id {
            CancelReason::CustomerCancelled
        } else {
            CancelReason::AdminCancelled
        };
        saga::cancel(&mut tx, &row, reason).await?;
        let updated = store::booking(tx.conn(), id)
            .await?
            .ok_or(BookingsError::BookingNotFound)?;
        tx.commit().await?;
        Ok(updated.booking)
    }

    /// A booking's saga: state, deadline and timeline.
    async fn saga(&self, actor: &Actor, id: Uuid) -> Result<Saga, BookingsError> {
        // One read transaction: the booking, its saga and its steps from the same snapshot, so
        // that no reader sees a confirmed booking beside a saga still awaiting payment.
        let mut snapshot = self.db.reader()?.begin().await.map_err(store::storage)?;
        let booking = match store::booking(&mut *snapshot, id).await? {
            Some(row) if actor.may_access(row.booking.user_id) => row.booking,
            _ => return Err(BookingsError::BookingNotFound),
        };
        let saga = store::saga(&mut *snapshot, id)
            .await?
            .ok_or(BookingsError::BookingNotFound)?;
        let steps = store::steps(&mut *snapshot, id).await?;
        snapshot.rollback().await.map_err(store::storage)?;
        Ok(Saga {
            booking_id: id,
            state: saga.state,
            deadline_at: saga.deadline_at,
            payment_id: saga.payment_id,
            steps,
            booking,
        })
    }
}
