//! The bookings module's facade: shows, bookings, sagas, the subscriptions to the users and
//! payments streams, and the timekeeper that cancels unpaid bookings at their deadline.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;

use bookings_api::{
    Admission, BookedSeat, Booking, BookingFilter, BookingPage, BookingPlaced, BookingStatus,
    BookingsApi, BookingsError, CancelReason, ChangeShow, ChangeVenue, CheckIn, OpenVenue,
    PlaceBooking, Placed, Quote, Saga, ScheduleShow, Seat, SeatMap, SeatRequest, SeatStatus,
    SeatingKind, Show, ShowCancelled, ShowFilter, ShowPage, ShowScheduled, ShowSection, ShowStatus,
    ShowUpdated, Ticket, Venue, VenuePage, WalletShortfall,
};
use kernel::{
    Cursor, EventSource, FieldErrors, Gate, GateCounts, GateShape, Message, ModuleDb, ModuleHandle,
    PageRequest, Platform, Subscription, SubscriptionConfig, Timestamp, Trace, new_id,
    spawn_periodic,
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
    holds, saga, scheduling,
    store::{self, BookingRow, NewStep},
    tickets::Signer,
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
    /// The line placing a booking goes through: how many are placed at once and how long the
    /// others wait before they are told the box office is busy; `None` places all at once.
    pub placing: Option<GateShape>,
}

impl Default for BookingsConfig {
    fn default() -> Self {
        Self {
            payment_timeout: Duration::from_secs(30),
            placing: Some(Self::PLACING),
        }
    }
}

impl BookingsConfig {
    /// The default line of [`BookingsConfig::placing`]: wide enough to keep the writer busy,
    /// narrow enough that a crowd waits its turn in order instead of all at once on the writer,
    /// and a wait no ordinary day reaches (ADR 10).
    pub const PLACING: GateShape = GateShape {
        width: 16,
        wait: Duration::from_secs(1),
    };
}

/// The bookings module.
#[derive(Clone)]
pub struct Bookings {
    pub(crate) db: ModuleDb,
    users: Arc<dyn UserDirectory>,
    wallets: Arc<dyn Wallets>,
    pub(crate) signer: Signer,
    config: BookingsConfig,
    /// The line in front of placing a booking.
    placing: Gate,
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

fn fingerprint(show_id: Uuid, seats: &SeatRequest, payment: &PaymentSource) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(show_id.as_bytes());
    match seats {
        // A count hashes as it always did, so a key used before seat plans still replays.
        SeatRequest::Count { seats } => h.update(seats.get().to_le_bytes()),
        SeatRequest::Chosen { seats } => {
            let mut ids = seats.ids().to_vec();
            ids.sort_unstable();
            h.update(b"seats:");
            for id in ids {
                h.update(id.as_bytes());
            }
        }
    }
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
        upgrade::give_bookings_their_seats(&db).await?;
        upgrade::send_payment_commands(&db).await?;
        let signer = Signer::open(&db).await?;
        let placing = Gate::new(config.placing, platform.clock.clone());
        placing.register(
            &platform.metrics,
            "bookings_placing",
            "Bookings being placed",
        );
        Ok(Bookings {
            db,
            users,
            wallets,
            signer,
            config,
            placing,
        })
    }

    /// What the line in front of placing bookings has done so far.
    pub fn placing_counts(&self) -> GateCounts {
        self.placing.counts()
    }

    /// Refuses a wallet booking its wallet cannot pay, before any seat is held: a wallet in
    /// another currency than the show's price, or holding less than the seats cost (as quoted
    /// now). The saga stays the authority (a wallet spent between this look and the charge is
    /// declined there, and the booking compensated); this spares the customer a booking bound
    /// to fail. When payments cannot answer, the booking is taken as before the check existed:
    /// its payment request waits in the outbox and settles when payments is back, or the
    /// deadline compensates it.
    async fn check_wallet(
        &self,
        user_id: Uuid,
        show_id: Uuid,
        seats: &SeatRequest,
    ) -> Result<(), BookingsError> {
        let show = store::show(self.db.reader()?, show_id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        // A show that cannot be booked at all says so first, from the seats' own transaction.
        if refusal(&show, seats.count(), self.db.clock().now()).is_some() {
            return Ok(());
        }
        let wallet = match self.wallets.wallet(user_id).await {
            Ok(wallet) => wallet,
            Err(e) => {
                tracing::warn!(error = %e, "the wallet could not be checked; booking anyway");
                return Ok(());
            }
        };
        // A wallet that could pay for as many of the dearest seats needs no quote (choosing
        // seats on a big plan is the costly part); the seats' own refusals then come from the
        // booking's transaction, as they would from the quote.
        if wallet.currency == show.currency {
            let dearest = match show.seating {
                SeatingKind::GeneralAdmission => show.price_cents,
                SeatingKind::Reserved => store::sections(self.db.reader()?, show.id)
                    .await?
                    .iter()
                    .map(|s| s.price_cents)
                    .max()
                    .unwrap_or(0),
            };
            if wallet.balance_cents >= dearest.saturating_mul(seats.count()) {
                return Ok(());
            }
        }
        // Otherwise the quote says: seats that cannot be had are refused as the booking would
        // be, and the total is what the wallet must hold.
        let quote = self.quote_for(&show, seats).await?;
        match WalletShortfall::of(
            wallet.balance_cents,
            &wallet.currency,
            seats.count(),
            quote.total_cents,
            &show.currency,
        ) {
            Some(why) => Err(BookingsError::WalletCannotPay(why)),
            None => Ok(()),
        }
    }

    /// What `seats` of `show` would cost now, read on a reader.
    async fn quote_for(&self, show: &Show, seats: &SeatRequest) -> Result<Quote, BookingsError> {
        let mut conn = self.db.reader()?.acquire().await.map_err(store::storage)?;
        let chosen = holds::choose(&mut conn, show, seats).await?;
        Ok(Quote {
            show_id: show.id,
            total_cents: chosen.iter().map(|s| s.price_cents).sum(),
            seats: chosen,
            currency: show.currency.clone(),
        })
    }

    /// Fills each booking's seats, in one query for all of them.
    async fn with_seats(&self, mut bookings: Vec<Booking>) -> Result<Vec<Booking>, BookingsError> {
        let ids: Vec<Uuid> = bookings.iter().map(|b| b.id).collect();
        let mut seats = store::booked_of(self.db.reader()?, &ids).await?;
        for b in &mut bookings {
            b.booked_seats = seats.remove(&b.id).unwrap_or_default();
        }
        Ok(bookings)
    }

    async fn with_seats_one(&self, booking: Booking) -> Result<Booking, BookingsError> {
        self.with_seats(vec![booking])
            .await?
            .pop()
            .ok_or(BookingsError::BookingNotFound)
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

    async fn replay(
        &self,
        existing: BookingRow,
        fingerprint: &[u8],
    ) -> Result<Placed, BookingsError> {
        if existing.request_fingerprint.as_deref() == Some(fingerprint) {
            Ok(Placed {
                booking: self.with_seats_one(existing.booking).await?,
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
    async fn open_venue(
        &self,
        trace: Trace,
        actor: &Actor,
        input: OpenVenue,
    ) -> Result<Venue, BookingsError> {
        self.open_venue_as(trace, actor, input).await
    }

    async fn change_venue(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ChangeVenue,
    ) -> Result<Venue, BookingsError> {
        self.change_venue_as(trace, actor, id, change).await
    }

    async fn venue(&self, id: Uuid) -> Result<Venue, BookingsError> {
        self.venue_by_id(id).await
    }

    async fn venues(&self, page: PageRequest) -> Result<VenuePage, BookingsError> {
        self.venue_page(page).await
    }

    /// Schedules a show (admins): at a venue, with its time zone and a copy of its plan (each
    /// seat with an id of its own), or at a place named for it alone.
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
        let mut tx = self.db.write(trace).await?;
        let now = tx.now();
        let staged = scheduling::stage_show(tx.conn(), input, now).await?;
        let show = staged.show;
        store::insert_show(tx.conn(), &show).await?;
        if let Some(bookings_api::Seating::Reserved { plan }) = &staged.seating {
            store::insert_sections(tx.conn(), show.id, &staged.sections).await?;
            store::insert_show_seats(tx.conn(), show.id, plan).await?;
        }
        tx.emit(&ShowScheduled {
            show_id: show.id,
            title: show.title.clone(),
            venue: show.venue.clone(),
            venue_id: show.venue_id,
            time_zone: show.time_zone.clone(),
            seating: show.seating,
            starts_at: show.starts_at,
            capacity: show.capacity,
            price_cents: show.price_cents,
            currency: show.currency.clone(),
        })
        .await?;
        tx.commit().await?;
        Ok(show)
    }

    /// Changes a show (admins). The capacity cannot drop below the seats taken (and a seated
    /// show's comes from its plan); a new price applies to new bookings.
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
        let mut e = FieldErrors::new();
        let seated = show.seating == SeatingKind::Reserved;
        if show.venue_id.is_some() {
            if change.venue.is_some() {
                e.add("venue", "comes from the show's venue");
            }
            if change.zone.is_some() {
                e.add("time_zone", "comes from the show's venue");
            }
        }
        if seated && change.capacity.is_some() {
            e.add("capacity", "comes from the show's seating plan");
        }
        if !seated && !change.sections.is_empty() {
            e.add(
                "sections",
                "need numbered seats: this show has general admission",
            );
        }
        e.into_result().map_err(BookingsError::Validation)?;
        if let Some(t) = change.title {
            show.title = t.into_string();
        }
        if let Some(v) = change.venue {
            show.venue = v.into_string();
        }
        if let Some(z) = change.zone {
            show.time_zone = z.name().to_owned();
        }
        if let Some(s) = change.starts_at {
            show.starts_at = s;
        }
        if let Some(c) = change.capacity {
            // A general-admission venue holds no more than its own capacity.
            if let Some(venue_id) = show.venue_id
                && let Some((venue, _)) = store::venue(tx.conn(), venue_id).await?
                && c.get() > venue.capacity
            {
                return Err(BookingsError::Validation(FieldErrors::single(
                    "capacity",
                    format!("must be at most the venue's {}", venue.capacity),
                )));
            }
            if c.get() < show.seats_taken {
                return Err(BookingsError::CapacityBelowTaken {
                    taken: show.seats_taken,
                });
            }
            show.capacity = c.get();
        }
        if seated {
            if change.price.is_some() || !change.sections.is_empty() {
                let current = store::sections(tx.conn(), id).await?;
                let repriced = scheduling::repriced(
                    &show,
                    &current,
                    change.price.map(|p| p.cents()),
                    &change.sections,
                )?;
                for section in &repriced {
                    store::set_section_price(tx.conn(), id, section.position, section.price_cents)
                        .await?;
                }
                show.price_cents = scheduling::cheapest(&repriced);
            }
        } else if let Some(p) = change.price {
            show.price_cents = p.cents();
        }
        show.updated_at = now;
        show.seats_available = show.capacity - show.seats_taken;
        show.starts_at_local = store::zone_of(&show.time_zone).rfc3339(show.starts_at);
        store::update_show(tx.conn(), &show).await?;
        tx.emit(&ShowUpdated {
            show_id: id,
            title: show.title.clone(),
            venue: show.venue.clone(),
            time_zone: show.time_zone.clone(),
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

    /// Every seat of a show and where it stands, with the show's sections and prices.
    async fn seats(&self, show_id: Uuid) -> Result<SeatMap, BookingsError> {
        let mut snapshot = self.db.reader()?.begin().await.map_err(store::storage)?;
        let show = store::show(&mut *snapshot, show_id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        let sections = store::sections(&mut *snapshot, show_id).await?;
        let rows = store::seat_map(&mut *snapshot, show_id).await?;
        snapshot.rollback().await.map_err(store::storage)?;
        let on_sale = show.status == ShowStatus::Scheduled;
        let mut free: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
        for r in rows.iter().filter(|r| r.status == SeatStatus::Free) {
            *free.entry(r.section).or_default() += 1;
        }
        let seats: Vec<Seat> = rows
            .iter()
            .map(|r| {
                let section = sections.iter().find(|s| s.position == r.section);
                Seat {
                    seat_id: r.seat_id,
                    section: section.map_or_else(String::new, |s| s.name.clone()),
                    row: r.row_label.clone(),
                    number: r.label.clone(),
                    price_cents: section.map_or(0, |s| s.price_cents),
                    status: r.status,
                }
            })
            .collect();
        let sections = sections
            .iter()
            .map(|s| ShowSection {
                name: s.name.clone(),
                price_cents: s.price_cents,
                seats_available: if on_sale {
                    free.get(&s.position).copied().unwrap_or(0)
                } else {
                    0
                },
            })
            .collect();
        Ok(SeatMap {
            show_id,
            seating: show.seating,
            currency: show.currency.clone(),
            seats_available: show.seats_available,
            sections,
            seats,
        })
    }

    /// What these seats would cost now: chosen seats checked, best available resolved to the
    /// seats it would take at this moment.
    async fn quote(&self, show_id: Uuid, seats: SeatRequest) -> Result<Quote, BookingsError> {
        let show = store::show(self.db.reader()?, show_id)
            .await?
            .ok_or(BookingsError::ShowNotFound)?;
        if let Some(why) = refusal(&show, seats.count(), self.db.clock().now()) {
            return Err(why);
        }
        self.quote_for(&show, &seats).await
    }

    /// Places a booking: checks the customer through the user directory, holds the seats
    /// (chosen, best available, or admissions), stores the booking and its saga, emits
    /// `BookingPlaced` and sends payments `RequestPayment`, in one transaction. With an
    /// `Idempotency-Key`, the same request returns the same booking.
    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id, user_id = %actor.user_id))]
    async fn place(
        &self,
        trace: Trace,
        actor: &Actor,
        request: PlaceBooking,
    ) -> Result<Placed, BookingsError> {
        let PlaceBooking {
            show_id,
            seats: wanted,
            payment,
            idempotency_key,
        } = request;
        // In line first: nothing below is done for a caller the line turns away.
        let _inside = self
            .placing
            .enter()
            .await
            .map_err(|_| BookingsError::Busy)?;
        let count = wanted.count();
        let key = idempotency_key.map(|k| k.as_str().to_owned());
        let fingerprint = fingerprint(show_id, &wanted, &payment);

        // A retried request is answered before anything else is asked of anyone.
        if let Some(k) = &key
            && let Some(existing) =
                store::booking_by_key(self.db.reader()?, actor.user_id, k).await?
        {
            return self.replay(existing, &fingerprint).await;
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
            self.check_wallet(user.id, show_id, &wanted).await?;
        }

        let mut tx = self.db.write(trace).await?;
        let now = tx.now();
        if let Some(k) = &key
            && let Some(existing) = store::booking_by_key(tx.conn(), actor.user_id, k).await?
        {
            drop(tx);
            return self.replay(existing, &fingerprint).await;
        }
        // The common case in one statement; only a refusal reads the show to say why.
        let Some(show) = store::reserve_seats(tx.conn(), show_id, count, now).await? else {
            let show = store::show(tx.conn(), show_id)
                .await?
                .ok_or(BookingsError::ShowNotFound)?;
            return Err(
                refusal(&show, count, now).unwrap_or(BookingsError::NotEnoughSeats {
                    available: show.capacity - show.seats_taken,
                }),
            );
        };
        let booking_id = new_id();
        let seats: Vec<BookedSeat> = holds::choose(tx.conn(), &show, &wanted).await?;
        holds::hold(tx.conn(), show_id, booking_id, &seats).await?;
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
            id: booking_id,
            user_id: user.id,
            user_email: email.clone(),
            show_id,
            seats: count,
            booked_seats: seats.clone(),
            amount_cents: seats.iter().map(|s| s.price_cents).sum(),
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
                seats: seats.clone(),
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
        let what = if show.seating == SeatingKind::Reserved {
            seats
                .iter()
                .map(BookedSeat::label)
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            format!("{count} admission(s)")
        };
        let step = NewStep {
            action: "seats held; payment requested",
            event_type: Some(BookingPlaced::TYPE),
            event_id: Some(placed.event_id),
            outcome: "ok",
            detail: Some(format!(
                "{what}: {}.{:02} {}",
                booking.amount_cents / 100,
                booking.amount_cents % 100,
                booking.currency
            )),
        };
        store::record_placed(tx.conn(), &row, deadline_at, step).await?;
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
            Some(row) if actor.may_access(row.booking.user_id) => {
                self.with_seats_one(row.booking).await
            }
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
        let items = self
            .with_seats(rows.into_iter().map(|r| r.booking).collect())
            .await?;
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
        // A ticket already through the door cannot be refunded, nor its seat sold again.
        if store::admitted_count(tx.conn(), id).await? > 0 {
            return Err(BookingsError::BookingAdmitted);
        }
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
        self.with_seats_one(updated.booking).await
    }

    /// A booking's saga: state, deadline and timeline.
    async fn saga(&self, actor: &Actor, id: Uuid) -> Result<Saga, BookingsError> {
        // One read transaction: the booking, its saga and its steps from the same snapshot, so
        // that no reader sees a confirmed booking beside a saga still awaiting payment.
        let mut snapshot = self.db.reader()?.begin().await.map_err(store::storage)?;
        let mut booking = match store::booking(&mut *snapshot, id).await? {
            Some(row) if actor.may_access(row.booking.user_id) => row.booking,
            _ => return Err(BookingsError::BookingNotFound),
        };
        let saga = store::saga(&mut *snapshot, id)
            .await?
            .ok_or(BookingsError::BookingNotFound)?;
        let steps = store::steps(&mut *snapshot, id).await?;
        booking.booked_seats = store::booked_of(&mut *snapshot, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
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

    async fn tickets(&self, actor: &Actor, booking_id: Uuid) -> Result<Vec<Ticket>, BookingsError> {
        self.tickets_for(actor, booking_id).await
    }

    #[tracing::instrument(skip_all, fields(correlation_id = %trace.correlation_id))]
    async fn check_in(
        &self,
        trace: Trace,
        actor: &Actor,
        input: CheckIn,
    ) -> Result<Admission, BookingsError> {
        self.check_in_as(trace, actor, input).await
    }

    async fn admissions(
        &self,
        actor: &Actor,
        show_id: Uuid,
        limit: u32,
    ) -> Result<Vec<Admission>, BookingsError> {
        self.admissions_at(actor, show_id, limit).await
    }
}
