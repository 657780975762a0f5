//! The bookings module's facade: shows, bookings, sagas, the subscriptions to the users and
//! payments streams, and the timekeeper that cancels unpaid bookings at their deadline.

use std::{sync::Arc, time::Duration};

use bookings_api::{
    Booking, BookingFilter, BookingPage, BookingPlaced, BookingStatus, CancelReason, NewShow,
    PaymentInstruction, PlaceBooking, Saga, SagaState, Show, ShowCancelled, ShowPatch,
    ShowScheduled, ShowStatus, ShowUpdated,
};
use kernel::{
    Bus, DbHealth, DbSettings, EventSource, FieldErrors, IntegrationEvent, Metrics, ModuleDb,
    OutboxLog, Subscription, SubscriptionConfig, Timestamp, Trace, new_id,
};
use sha2::{Digest, Sha256};
use sqlx::migrate::Migrator;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use users_api::{Actor, UserDirectory};
use uuid::Uuid;

use crate::{
    BookingsError, domain,
    handlers::{PaymentsHandler, UsersHandler},
    saga,
    store::{self, BookingRow, NewStep},
};

static MIGRATOR: Migrator = sqlx::migrate!("../../schemas/bookings");

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
    config: BookingsConfig,
}

/// The result of placing a booking.
#[derive(Clone, Debug)]
pub struct Placed {
    /// The booking.
    pub booking: Booking,
    /// False when an earlier request with the same `Idempotency-Key` created it.
    pub created: bool,
    /// Position of its `BookingPlaced` in the bookings stream (read-your-writes token).
    pub seq: Option<i64>,
}

/// A page of shows, soonest first.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ShowPage {
    /// The shows.
    pub items: Vec<Show>,
    /// Pass back as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

fn cursor_encode(t: Timestamp, id: Uuid) -> String {
    format!("{}_{}", t.as_micros(), id.simple())
}

fn cursor_decode(text: &str, errors: &mut FieldErrors) -> Option<(Timestamp, Uuid)> {
    let parsed = text.split_once('_').and_then(|(t, id)| {
        Some((
            Timestamp::from_micros(t.parse().ok()?),
            Uuid::parse_str(id).ok()?,
        ))
    });
    if parsed.is_none() {
        errors.add("cursor", "is not a cursor returned by this list");
    }
    parsed
}

fn fingerprint(show_id: Uuid, seats: i64, payment: &PaymentInstruction) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(show_id.as_bytes());
    h.update(seats.to_le_bytes());
    match payment {
        PaymentInstruction::Wallet => h.update(b"wallet"),
        // Brand and last four only: a hash of a whole card number could be brute-forced.
        PaymentInstruction::Card { brand, last4, .. } => {
            h.update(format!("card:{brand}:{last4}").as_bytes())
        }
    }
    h.finalize().to_vec()
}

impl Bookings {
    /// Opens (and migrates) `bookings.db`; `users` is the user directory it checks customers with.
    pub async fn open(
        settings: &DbSettings,
        bus: &Bus,
        metrics: &Metrics,
        users: Arc<dyn UserDirectory>,
        config: BookingsConfig,
    ) -> Result<Bookings, BookingsError> {
        let db = ModuleDb::open(bookings_api::STREAM, &MIGRATOR, settings, bus, metrics).await?;
        Ok(Bookings { db, users, config })
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

    /// Cancels unpaid bookings as their deadlines pass, until `shutdown`.
    pub fn spawn_timekeeper(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match this.expire_due().await {
                    Ok(n) if n > 0 => {
                        tracing::info!(cancelled = n, "unpaid bookings cancelled at their deadline")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "expiring unpaid bookings failed; will retry")
                    }
                }
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        })
    }

    /// Cancels every booking whose payment deadline has passed; returns how many.
    pub async fn expire_due(&self) -> Result<usize, BookingsError> {
        let due = store::due_sagas(self.db.reader()?, Timestamp::now(), 200).await?;
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

    /// Schedules a show (admins).
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id))]
    pub async fn create_show(
        &self,
        trace: Trace,
        actor: &Actor,
        input: NewShow,
    ) -> Result<Show, BookingsError> {
        if !actor.is_admin() {
            return Err(BookingsError::Forbidden);
        }
        let now = Timestamp::now();
        let mut e = FieldErrors::new();
        let (title, venue) = (
            domain::title(&input.title, &mut e),
            domain::venue(&input.venue, &mut e),
        );
        let starts_at = domain::starts_at(&input.starts_at, now, &mut e);
        let (capacity, price) = (
            domain::capacity(input.capacity, &mut e),
            domain::price(input.price_cents, &mut e),
        );
        let currency = domain::currency(&input.currency, &mut e);
        let (
            Some(title),
            Some(venue),
            Some(starts_at),
            Some(capacity),
            Some(price_cents),
            Some(currency),
        ) = (title, venue, starts_at, capacity, price, currency)
        else {
            return Err(BookingsError::Validation(e));
        };
        let show = Show {
            id: new_id(),
            title,
            venue,
            starts_at,
            capacity,
            seats_taken: 0,
            seats_available: capacity,
            price_cents,
            currency,
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
            starts_at,
            capacity,
            price_cents,
            currency: show.currency.clone(),
        })
        .await?;
        tx.commit().await?;
        Ok(show)
    }

    /// Changes a show (admins). The capacity cannot drop below the seats taken; a new price
    /// applies to new bookings.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, show_id = %id))]
    pub async fn update_show(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        patch: ShowPatch,
    ) -> Result<Show, BookingsError> {
        if !actor.is_admin() {
            return Err(BookingsError::Forbidden);
        }
        let now = Timestamp::now();
        let mut e = FieldErrors::new();
        let title = patch.title.as_deref().map(|t| domain::title(t, &mut e));
        let venue = patch.venue.as_deref().map(|v| domain::venue(v, &mut e));
        let starts_at = patch
            .starts_at
            .as_deref()
            .map(|s| domain::starts_at(s, now, &mut e));
        let capacity = patch.capacity.map(|c| domain::capacity(Some(c), &mut e));
        let price = patch.price_cents.map(|p| domain::price(Some(p), &mut e));
        e.into_result().map_err(BookingsError::Validation)?;

        let mut tx = self.db.write(trace).await?;
        let mut show = store::show(tx.conn(), id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        if show.status == ShowStatus::Cancelled {
            return Err(BookingsError::ShowCancelled);
        }
        if let Some(Some(t)) = title {
            show.title = t;
        }
        if let Some(Some(v)) = venue {
            show.venue = v;
        }
        if let Some(Some(s)) = starts_at {
            show.starts_at = s;
        }
        if let Some(Some(c)) = capacity {
            if c < show.seats_taken {
                return Err(BookingsError::CapacityBelowTaken {
                    taken: show.seats_taken,
                });
            }
            show.capacity = c;
        }
        if let Some(Some(p)) = price {
            show.price_cents = p;
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
    pub async fn cancel_show(
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
        let now = Timestamp::now();
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
    pub async fn show(&self, id: Uuid) -> Result<Show, BookingsError> {
        store::show(self.db.reader()?, id)
            .await?
            .ok_or(BookingsError::ShowNotFound)
    }

    /// The shows with these ids (at most 500), in one query.
    pub async fn shows_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Show>, BookingsError> {
        let mut unique: Vec<Uuid> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        unique.truncate(500);
        store::shows_by_ids(self.db.reader()?, &unique).await
    }

    /// Shows soonest first: upcoming ones on sale, or all of them (past, cancelled) with `all`.
    pub async fn shows(
        &self,
        all: bool,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<ShowPage, BookingsError> {
        let mut e = FieldErrors::new();
        if !(1..=200).contains(&limit) {
            e.add("limit", "must be between 1 and 200");
        }
        let after = cursor.and_then(|c| cursor_decode(c, &mut e));
        e.into_result().map_err(BookingsError::Validation)?;
        let items =
            store::list_shows(self.db.reader()?, all, Timestamp::now(), after, limit).await?;
        let next_cursor = (items.len() == limit as usize)
            .then(|| items.last().map(|s| cursor_encode(s.starts_at, s.id)))
            .flatten();
        Ok(ShowPage { items, next_cursor })
    }

    /// Places a booking: checks the customer through the user directory, holds the seats, stores
    /// the booking and its saga, and emits `BookingPlaced` (the payment request), in one
    /// transaction. With an `Idempotency-Key`, the same request returns the same booking.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, user_id = %actor.user_id))]
    pub async fn place(
        &self,
        trace: Trace,
        actor: &Actor,
        request: PlaceBooking,
    ) -> Result<Placed, BookingsError> {
        let mut e = FieldErrors::new();
        let show_id = domain::show_id(&request.show_id, &mut e);
        let seats = domain::seats(request.seats, &mut e);
        let key = request
            .idempotency_key
            .as_deref()
            .map(|k| domain::idempotency_key(k, &mut e));
        let (Some(show_id), Some(seats)) = (show_id, seats) else {
            return Err(BookingsError::Validation(e));
        };
        e.into_result().map_err(BookingsError::Validation)?;
        let key = key.flatten();
        let fingerprint = fingerprint(show_id, seats, &request.payment);

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

        let now = Timestamp::now();
        let mut tx = self.db.write(trace).await?;
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
            return Err(if show.status == ShowStatus::Cancelled {
                BookingsError::ShowCancelled
            } else if show.starts_at <= now {
                BookingsError::ShowStarted
            } else {
                BookingsError::NotEnoughSeats {
                    available: show.capacity - show.seats_taken,
                }
            });
        };
        // The directory's answer may be older than an email change this module already applied.
        let (email, email_version) = match store::email_copy(tx.conn(), user.id).await? {
            Some((email, version)) if version > user.email_version => (email, version),
            _ => (user.email.clone(), user.email_version),
        };
        let deadline_at = now.plus(self.config.payment_timeout);
        let (card_brand, card_last4) = match &request.payment {
            PaymentInstruction::Wallet => (None, None),
            PaymentInstruction::Card { brand, last4, .. } => {
                (Some(brand.clone()), Some(last4.clone()))
            }
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
            payment_method: if card_brand.is_some() {
                "card".into()
            } else {
                "wallet".into()
            },
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
                payment: request.payment,
                deadline_at,
                placed_at: now,
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
        tx.commit().await?;
        Ok(Placed {
            booking,
            created: true,
            seq: Some(placed.seq),
        })
    }

    fn replay(existing: BookingRow, fingerprint: &[u8]) -> Result<Placed, BookingsError> {
        if existing.request_fingerprint.as_deref() == Some(fingerprint) {
            Ok(Placed {
                booking: existing.booking,
                created: false,
                seq: None,
            })
        } else {
            Err(BookingsError::IdempotencyMismatch)
        }
    }

    /// One booking: the customer's own, or any for an admin.
    pub async fn booking(&self, actor: &Actor, id: Uuid) -> Result<Booking, BookingsError> {
        match store::booking(self.db.reader()?, id).await? {
            Some(row) if actor.may_access(row.booking.user_id) => Ok(row.booking),
            _ => Err(BookingsError::BookingNotFound),
        }
    }

    /// Bookings, newest first: a customer's own (whatever `user_id` says), or anyone's for admins.
    pub async fn bookings(
        &self,
        actor: &Actor,
        mut filter: BookingFilter,
    ) -> Result<BookingPage, BookingsError> {
        let mut e = FieldErrors::new();
        if !(1..=200).contains(&filter.limit) {
            e.add("limit", "must be between 1 and 200");
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from >= to
        {
            e.add("to", "must be after from");
        }
        let before = filter
            .cursor
            .as_deref()
            .and_then(|c| cursor_decode(c, &mut e));
        e.into_result().map_err(BookingsError::Validation)?;
        if !actor.is_admin() {
            filter.user_id = Some(actor.user_id);
        }
        let rows = store::list_bookings(self.db.reader()?, &filter, before).await?;
        let items: Vec<Booking> = rows.into_iter().map(|r| r.booking).collect();
        let next_cursor = (items.len() == filter.limit as usize)
            .then(|| items.last().map(|b| cursor_encode(b.created_at, b.id)))
            .flatten();
        Ok(BookingPage { items, next_cursor })
    }

    /// Cancels a booking (its customer before the show starts, or an admin). Seats are released
    /// at once; a paid booking is refunded by payments.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, booking_id = %id))]
    pub async fn cancel(
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
            if show.starts_at <= Timestamp::now() {
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
    pub async fn saga(&self, actor: &Actor, id: Uuid) -> Result<Saga, BookingsError> {
        let reader = self.db.reader()?;
        match store::booking(reader, id).await? {
            Some(row) if actor.may_access(row.booking.user_id) => {}
            _ => return Err(BookingsError::BookingNotFound),
        }
        let saga = store::saga(reader, id)
            .await?
            .ok_or(BookingsError::BookingNotFound)?;
        Ok(Saga {
            booking_id: id,
            state: saga.state,
            deadline_at: saga.deadline_at,
            payment_id: saga.payment_id,
            steps: store::steps(reader, id).await?,
        })
    }

    /// Counts, seats and amounts of bookings by status, and sagas by state (for reconciliation).
    pub async fn totals(
        &self,
    ) -> Result<(Vec<(BookingStatus, i64, i64, i64)>, Vec<(SagaState, i64)>), BookingsError> {
        let reader = self.db.reader()?;
        Ok((
            store::status_counts(reader).await?,
            store::saga_counts(reader).await?,
        ))
    }
}
