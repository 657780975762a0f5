//! Upgrading a data folder written by an earlier release, once per folder, each step recorded in
//! `upgrades` in the transaction that finishes it.
//!
//! **Before seat plans** ([`give_bookings_their_seats`]): a booking held a count of seats. Each
//! is given its booked seats, one admission per seat sharing the amount, so that its tickets
//! exist once it is paid (and none when it was cancelled).
//!
//! **Before payment commands** ([`send_payment_commands`]): bookings then asked for a
//! payment with `BookingPlaced` and for a refund or a void with `BookingCancelled`, which payments
//! no longer reads: an event of that kind still waiting for payments at the moment of the upgrade
//! would never be acted on. So, once per data folder, every saga that may still need payments is
//! given the command it would be sent today. Payments carries out a request at most once per
//! reference and refunds or voids at most once, so a command it did not need changes nothing.

use bookings_api::{BookedSeat, BookingPlaced, BookingsError, SagaState};
use kernel::{Message, ModuleDb, Trace};
use payments_api::{CancelPayment, RequestPayment};
use uuid::Uuid;

use crate::store::{self, NewStep};

/// The name this step is recorded under in `upgrades`.
const STEP: &str = "payment-commands";
/// The name of the step that gives old bookings their seats.
const SEATS_STEP: &str = "booked-seats";
/// Bookings upgraded per transaction, so that the writer is never held long.
const SLICE: i64 = 1_000;

/// Gives every booking from before seat plans its booked seats, once; returns how many.
pub(crate) async fn give_bookings_their_seats(db: &ModuleDb) -> Result<usize, BookingsError> {
    let mut upgraded = 0;
    let mut after = Uuid::nil();
    loop {
        let mut tx = db.write(Trace::new_root()).await?;
        if store::upgrade_done(tx.conn(), SEATS_STEP).await? {
            return Ok(upgraded);
        }
        let slice = store::bookings_without_seats(tx.conn(), after, SLICE).await?;
        for (booking_id, show_id, seats, amount_cents, status) in &slice {
            let admissions = BookedSeat::admissions(*seats, *amount_cents);
            let released = status == "cancelled";
            store::insert_booked(tx.conn(), *booking_id, *show_id, &admissions, released).await?;
        }
        upgraded += slice.len();
        let last = slice.last().map(|b| b.0);
        if last.is_none() {
            let now = tx.now();
            store::mark_upgrade_done(tx.conn(), SEATS_STEP, now).await?;
        }
        tx.commit().await?;
        match last {
            Some(id) => after = id,
            None => break,
        }
    }
    if upgraded > 0 {
        tracing::info!(
            upgraded,
            "bookings from before seat plans given their seats"
        );
    }
    Ok(upgraded)
}

/// Sends the payment commands of sagas from before commands, once; returns how many it sent.
pub(crate) async fn send_payment_commands(db: &ModuleDb) -> Result<usize, BookingsError> {
    let mut tx = db.write(Trace::new_root()).await?;
    if store::upgrade_done(tx.conn(), STEP).await? {
        return Ok(0);
    }
    let now = tx.now();
    let sagas = store::sagas_awaiting_payments(tx.conn()).await?;
    let mut sent = 0;
    for (booking_id, state) in sagas {
        let Some(row) = store::booking(tx.conn(), booking_id).await? else {
            continue;
        };
        tx.set_trace(Trace {
            correlation_id: row.correlation_id,
            causation_id: row.placed_event_id,
        });
        let event = if state == SagaState::AwaitingPayment {
            let Some((payload, version)) =
                store::own_event_payload(tx.conn(), row.placed_event_id).await?
            else {
                continue;
            };
            // Written by whichever release placed the booking: read through its upcaster.
            let placed = if version == i64::from(BookingPlaced::VERSION) {
                serde_json::from_str(&payload)
            } else {
                BookingPlaced::from_older(u16::try_from(version).unwrap_or(1), &payload)
            }
            .map_err(|e| BookingsError::Storage(kernel::Error::Serialization(e)))?;
            tx.send(&RequestPayment {
                reference: booking_id,
                user_id: placed.user_id,
                amount_cents: placed.amount_cents,
                currency: placed.currency,
                source: placed.payment,
                deadline_at: placed.deadline_at,
            })
            .await?
        } else {
            tx.send(&CancelPayment {
                reference: booking_id,
                cancelled_at: now,
            })
            .await?
        };
        let step = NewStep {
            action: "payments asked again after the upgrade to payment commands",
            event_type: Some(if state == SagaState::AwaitingPayment {
                RequestPayment::TYPE
            } else {
                CancelPayment::TYPE
            }),
            event_id: Some(event.event_id),
            outcome: "ok",
            detail: None,
        };
        store::add_step(tx.conn(), booking_id, step, now).await?;
        sent += 1;
    }
    store::mark_upgrade_done(tx.conn(), STEP, now).await?;
    tx.commit().await?;
    if sent > 0 {
        tracing::info!(
            sent,
            "payment commands sent for sagas from before the upgrade"
        );
    }
    Ok(sent)
}
