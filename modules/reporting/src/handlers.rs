//! The read model's subscriptions: one handler per source stream, each merging its events into the
//! feed rows and the show and customer details they copy.

use bookings_api::{
    BookedSeat, BookingCancelled, BookingConfirmed, BookingPlaced, ShowCancelled, ShowScheduled,
    ShowUpdated, TicketAdmitted,
};
use kernel::{Envelope, Handler, HandlerError, Message, Timestamp, WriteTx};
use payments_api::{
    PaymentCaptured, PaymentDeclined, PaymentMethod, PaymentRefunded, PaymentSource, PaymentVoided,
};
use sqlx::SqliteConnection;
use users_api::{UserEmailChanged, UserRegistered, UserRenamed};
use uuid::Uuid;

use reporting_api::ReportingError;

use crate::{
    projection::{self, FeedRow},
    store,
};

/// Rewrites the copied customer details of every feed row of `user_id`.
async fn refresh_customer(
    conn: &mut SqliteConnection,
    now: Timestamp,
    user_id: Uuid,
) -> Result<(), ReportingError> {
    let (name, email) = store::customer_details(&mut *conn, user_id).await?;
    for old in projection::rows_where(conn, "user_id", user_id).await? {
        let mut new = old.clone();
        new.user_name = name.clone().or(new.user_name);
        new.user_email = email.clone().or(new.user_email);
        projection::save(conn, now, Some(&old), &new).await?;
    }
    Ok(())
}

/// Customers' names and emails.
pub(crate) struct UsersHandler;

impl Handler for UsersHandler {
    fn event_types(&self) -> &'static [&'static str] {
        &[
            UserRegistered::TYPE,
            UserEmailChanged::TYPE,
            UserRenamed::TYPE,
        ]
    }

    async fn handle(&self, tx: &mut WriteTx, event: &Envelope) -> Result<(), HandlerError> {
        let now = tx.now();
        let conn = tx.conn();
        let user_id = match event.event_type.as_str() {
            UserRegistered::TYPE => {
                let e: UserRegistered = event.decode()?;
                store::set_customer(&mut *conn, e.user_id, Some(&e.full_name), Some(&e.email))
                    .await?;
                e.user_id
            }
            UserEmailChanged::TYPE => {
                let e: UserEmailChanged = event.decode()?;
                store::set_customer(&mut *conn, e.user_id, None, Some(&e.new_email)).await?;
                e.user_id
            }
            UserRenamed::TYPE => {
                let e: UserRenamed = event.decode()?;
                store::set_customer(&mut *conn, e.user_id, Some(&e.full_name), None).await?;
                e.user_id
            }
            _ => return Ok(()),
        };
        refresh_customer(conn, now, user_id).await?;
        Ok(())
    }
}

/// Shows and the bookings' own lifecycle.
pub(crate) struct BookingsHandler;

impl Handler for BookingsHandler {
    fn event_types(&self) -> &'static [&'static str] {
        &[
            ShowScheduled::TYPE,
            ShowUpdated::TYPE,
            ShowCancelled::TYPE,
            BookingPlaced::TYPE,
            BookingConfirmed::TYPE,
            BookingCancelled::TYPE,
            TicketAdmitted::TYPE,
        ]
    }

    async fn handle(&self, tx: &mut WriteTx, event: &Envelope) -> Result<(), HandlerError> {
        let now = tx.now();
        let conn = tx.conn();
        match event.event_type.as_str() {
            ShowScheduled::TYPE => {
                let e: ShowScheduled = event.decode()?;
                store::upsert_show(
                    &mut *conn,
                    store::ShowDetails {
                        show_id: e.show_id,
                        title: &e.title,
                        venue: &e.venue,
                        time_zone: &e.time_zone,
                        starts_at: e.starts_at,
                        capacity: e.capacity,
                        currency: Some(&e.currency),
                    },
                )
                .await?;
            }
            ShowUpdated::TYPE => {
                let e: ShowUpdated = event.decode()?;
                store::upsert_show(
                    &mut *conn,
                    store::ShowDetails {
                        show_id: e.show_id,
                        title: &e.title,
                        venue: &e.venue,
                        time_zone: &e.time_zone,
                        starts_at: e.starts_at,
                        capacity: e.capacity,
                        currency: None,
                    },
                )
                .await?;
                for old in projection::rows_where(conn, "show_id", e.show_id).await? {
                    let new = FeedRow {
                        show_title: Some(e.title.clone()),
                        show_starts_at: Some(e.starts_at),
                        show_time_zone: Some(e.time_zone.clone()),
                        ..old.clone()
                    };
                    projection::save(conn, now, Some(&old), &new).await?;
                }
            }
            ShowCancelled::TYPE => {
                let e: ShowCancelled = event.decode()?;
                store::cancel_show(&mut *conn, e.show_id).await?;
            }
            BookingPlaced::TYPE => {
                let e: BookingPlaced = event.decode()?;
                let (old, mut new) = projection::load(conn, e.booking_id).await?;
                let show = store::show_details(&mut *conn, e.show_id).await?;
                let (name, email) = store::customer_details(&mut *conn, e.user_id).await?;
                new.show_id = Some(e.show_id);
                new.show_title = show.as_ref().map(|s| s.0.clone());
                new.show_starts_at = show.as_ref().map(|s| s.1);
                new.show_time_zone = show.map(|s| s.2);
                new.user_id = Some(e.user_id);
                new.user_name = name;
                new.user_email = email.or(Some(e.user_email));
                // Every version reads as a list: the count-only first one as admissions.
                new.seats = e.seats.len() as i64;
                new.seat_labels = e.seats.iter().any(|s| s.seat_id.is_some()).then(|| {
                    e.seats
                        .iter()
                        .map(BookedSeat::label)
                        .collect::<Vec<_>>()
                        .join("; ")
                });
                new.amount_cents = e.amount_cents;
                new.currency = Some(e.currency);
                // A later status from an earlier-arriving event is kept.
                new.status = new.status.or(Some("pending".into()));
                new.placed_at = Some(e.placed_at);
                if new.payment_method.is_none() {
                    match e.payment {
                        PaymentSource::Wallet => new.payment_method = Some("wallet".into()),
                        PaymentSource::Card(card) => {
                            new.payment_method = Some("card".into());
                            new.card_brand = Some(card.brand);
                            new.card_last4 = Some(card.last4);
                        }
                    }
                }
                projection::save(conn, now, old.as_ref(), &new).await?;
            }
            BookingConfirmed::TYPE => {
                let e: BookingConfirmed = event.decode()?;
                let (old, mut new) = projection::load(conn, e.booking_id).await?;
                new.status = Some("confirmed".into());
                new.confirmed_at = Some(e.confirmed_at);
                projection::save(conn, now, old.as_ref(), &new).await?;
            }
            BookingCancelled::TYPE => {
                let e: BookingCancelled = event.decode()?;
                let (old, mut new) = projection::load(conn, e.booking_id).await?;
                new.status = Some("cancelled".into());
                new.cancel_reason = Some(e.reason.as_str().into());
                projection::save(conn, now, old.as_ref(), &new).await?;
            }
            TicketAdmitted::TYPE => {
                let e: TicketAdmitted = event.decode()?;
                store::count_admission(&mut *conn, e.show_id).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Payments' outcomes. Payments answers every requester on one stream; the read model knows that
/// the bookings module pays with its booking ids as references. (A reference that is no booking
/// would leave a row that no `BookingPlaced` completes, and the feed lists placed bookings only.)
pub(crate) struct PaymentsHandler;

fn set_method(row: &mut FeedRow, m: &PaymentMethod) {
    row.payment_method = Some(m.kind.clone());
    if m.brand.is_some() {
        row.card_brand = m.brand.clone();
        row.card_last4 = m.last4.clone();
    }
}

impl Handler for PaymentsHandler {
    fn event_types(&self) -> &'static [&'static str] {
        &[
            PaymentCaptured::TYPE,
            PaymentDeclined::TYPE,
            PaymentRefunded::TYPE,
            PaymentVoided::TYPE,
        ]
    }

    async fn handle(&self, tx: &mut WriteTx, event: &Envelope) -> Result<(), HandlerError> {
        let now = tx.now();
        let conn = tx.conn();
        match event.event_type.as_str() {
            PaymentCaptured::TYPE => {
                let e: PaymentCaptured = event.decode()?;
                let (old, mut new) = projection::load(conn, e.reference).await?;
                new.payment_status = Some("captured".into());
                new.payment_amount_cents = e.amount_cents;
                new.payment_currency = Some(e.currency);
                set_method(&mut new, &e.method);
                projection::save(conn, now, old.as_ref(), &new).await?;
            }
            PaymentDeclined::TYPE => {
                let e: PaymentDeclined = event.decode()?;
                let (old, mut new) = projection::load(conn, e.reference).await?;
                new.payment_status = Some("declined".into());
                set_method(&mut new, &e.method);
                projection::save(conn, now, old.as_ref(), &new).await?;
            }
            PaymentRefunded::TYPE => {
                let e: PaymentRefunded = event.decode()?;
                let (old, mut new) = projection::load(conn, e.reference).await?;
                new.payment_status = Some("refunded".into());
                new.payment_amount_cents = e.amount_cents;
                new.payment_currency = Some(e.currency);
                projection::save(conn, now, old.as_ref(), &new).await?;
            }
            PaymentVoided::TYPE => {
                let e: PaymentVoided = event.decode()?;
                let (old, mut new) = projection::load(conn, e.reference).await?;
                new.payment_status = Some("voided".into());
                projection::save(conn, now, old.as_ref(), &new).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
