//! The booking saga's transitions. Each runs inside the transaction that applies its trigger (an
//! event from payments, the deadline, a cancellation), moves the booking and the saga together,
//! writes a timeline step, and emits the next event or sends payments its next command. Each is
//! idempotent: a transition that does not fit the saga's current state records what arrived and
//! changes nothing else.

use bookings_api::{
    BookingCancelled, BookingConfirmed, BookingStatus, BookingsError, CancelReason, SagaState,
};
use kernel::{Envelope, Message, WriteTx};
use payments_api::{
    CancelPayment, PaymentCaptured, PaymentDeclined, PaymentRefunded, PaymentVoided,
};
use uuid::Uuid;

use crate::store::{self, BookingRow, NewStep};

fn cancel_action(reason: CancelReason) -> &'static str {
    match reason {
        CancelReason::PaymentDeclined => "booking cancelled, seats released",
        CancelReason::PaymentTimeout => "deadline passed: booking cancelled, seats released",
        CancelReason::CustomerCancelled => "cancelled by the customer, seats released",
        CancelReason::AdminCancelled => "cancelled by an admin, seats released",
        CancelReason::ShowCancelled => "show cancelled: booking cancelled, seats released",
    }
}

/// Cancels a pending or confirmed booking: releases its seats (for sale again at once, its
/// tickets void), moves the saga (to
/// `refund_pending` when money was taken), emits `BookingCancelled` and sends payments
/// `CancelPayment`, the compensation request (a refund, or a void of what is still pending).
pub(crate) async fn cancel(
    tx: &mut WriteTx,
    row: &BookingRow,
    reason: CancelReason,
) -> Result<SagaState, BookingsError> {
    let b = &row.booking;
    if b.status == BookingStatus::Cancelled {
        return Err(BookingsError::AlreadyCancelled);
    }
    let now = tx.now();
    store::set_booking_status(
        tx.conn(),
        b.id,
        BookingStatus::Cancelled,
        Some(reason),
        None,
        now,
    )
    .await?;
    store::release_seats(tx.conn(), b.show_id, b.seats, now).await?;
    store::release_show_seats(tx.conn(), b.id).await?;
    store::release_booked(tx.conn(), b.id).await?;
    let seats = booked_seats(tx, b.id).await?;
    let state = if b.status == BookingStatus::Confirmed {
        SagaState::RefundPending
    } else {
        SagaState::Cancelled
    };
    store::set_saga(tx.conn(), b.id, state, None, now).await?;
    let event = tx
        .emit(&BookingCancelled {
            booking_id: b.id,
            user_id: b.user_id,
            show_id: b.show_id,
            seats,
            reason,
            cancelled_at: now,
        })
        .await?;
    tx.send(&CancelPayment {
        reference: b.id,
        cancelled_at: now,
    })
    .await?;
    let detail =
        (state == SagaState::RefundPending).then(|| "money was taken: refund requested".to_owned());
    let step = NewStep {
        action: cancel_action(reason),
        event_type: Some(BookingCancelled::TYPE),
        event_id: Some(event.event_id),
        outcome: "compensating",
        detail,
    };
    store::add_step(tx.conn(), b.id, step, now).await?;
    Ok(state)
}

/// A booking's seats, as its events carry them.
async fn booked_seats(
    tx: &mut WriteTx,
    booking_id: Uuid,
) -> Result<Vec<bookings_api::BookedSeat>, BookingsError> {
    Ok(store::booked_of(tx.conn(), &[booking_id])
        .await?
        .remove(&booking_id)
        .unwrap_or_default())
}

async fn note(
    tx: &mut WriteTx,
    booking_id: Uuid,
    action: &str,
    event: &Envelope,
    outcome: &str,
    detail: Option<String>,
) -> Result<(), BookingsError> {
    let step = NewStep {
        action,
        event_type: Some(&event.event_type),
        event_id: Some(event.event_id),
        outcome,
        detail,
    };
    let now = tx.now();
    store::add_step(tx.conn(), booking_id, step, now).await
}

fn method_text(m: &payments_api::PaymentMethod) -> String {
    match (&m.brand, &m.last4) {
        (Some(b), Some(l)) => format!("{b} •••• {l}"),
        _ => m.kind.clone(),
    }
}

/// The payment was captured: confirm, or, when the booking was cancelled meanwhile, record the
/// late capture (payments refunds it).
pub(crate) async fn on_captured(
    tx: &mut WriteTx,
    p: PaymentCaptured,
    event: &Envelope,
) -> Result<(), BookingsError> {
    // Payments answers every requester on one stream: a reference that is no booking of ours
    // is someone else's purchase.
    let Some(saga) = store::saga(tx.conn(), p.reference).await? else {
        return Ok(());
    };
    let booking_id = p.reference;
    let now = tx.now();
    match saga.state {
        SagaState::AwaitingPayment => {
            let Some(row) = store::booking(tx.conn(), booking_id).await? else {
                return Ok(());
            };
            let seats = booked_seats(tx, booking_id).await?;
            let confirmed = tx
                .emit(&BookingConfirmed {
                    booking_id,
                    user_id: p.user_id,
                    show_id: row.booking.show_id,
                    payment_id: p.payment_id,
                    seats,
                    confirmed_at: now,
                })
                .await?;
            let captured = NewStep {
                action: "payment captured",
                event_type: Some(&event.event_type),
                event_id: Some(event.event_id),
                outcome: "ok",
                detail: Some(method_text(&p.method)),
            };
            let step = NewStep {
                action: "booking confirmed",
                event_type: Some(BookingConfirmed::TYPE),
                event_id: Some(confirmed.event_id),
                outcome: "ok",
                detail: None,
            };
            store::record_confirmed(tx.conn(), booking_id, p.payment_id, captured, step, now).await
        }
        SagaState::Cancelled => {
            store::set_saga(
                tx.conn(),
                booking_id,
                SagaState::RefundPending,
                Some(p.payment_id),
                now,
            )
            .await?;
            note(
                tx,
                booking_id,
                "payment captured after the booking was cancelled: refund follows",
                event,
                "compensating",
                Some(method_text(&p.method)),
            )
            .await
        }
        _ => Ok(()),
    }
}

/// The payment was declined: cancel the booking and release its seats.
pub(crate) async fn on_declined(
    tx: &mut WriteTx,
    p: PaymentDeclined,
    event: &Envelope,
) -> Result<(), BookingsError> {
    let Some(saga) = store::saga(tx.conn(), p.reference).await? else {
        return Ok(());
    };
    note(
        tx,
        p.reference,
        "payment declined",
        event,
        "failed",
        Some(p.reason.clone()),
    )
    .await?;
    if saga.state != SagaState::AwaitingPayment {
        return Ok(());
    }
    let Some(row) = store::booking(tx.conn(), p.reference).await? else {
        return Ok(());
    };
    cancel(tx, &row, CancelReason::PaymentDeclined)
        .await
        .map(|_| ())
}

/// The money taken was given back: the compensation is complete.
pub(crate) async fn on_refunded(
    tx: &mut WriteTx,
    p: PaymentRefunded,
    event: &Envelope,
) -> Result<(), BookingsError> {
    let Some(saga) = store::saga(tx.conn(), p.reference).await? else {
        return Ok(());
    };
    if saga.state == SagaState::Refunded {
        return Ok(());
    }
    let now = tx.now();
    store::set_saga(tx.conn(), p.reference, SagaState::Refunded, None, now).await?;
    note(
        tx,
        p.reference,
        "payment refunded",
        event,
        "ok",
        Some(format!(
            "{}.{:02} {}",
            p.amount_cents / 100,
            p.amount_cents % 100,
            p.currency
        )),
    )
    .await
}

/// A pending payment was abandoned: nothing was taken.
pub(crate) async fn on_voided(
    tx: &mut WriteTx,
    p: PaymentVoided,
    event: &Envelope,
) -> Result<(), BookingsError> {
    if store::saga(tx.conn(), p.reference).await?.is_none() {
        return Ok(());
    }
    note(
        tx,
        p.reference,
        "pending payment voided: nothing was taken",
        event,
        "ok",
        None,
    )
    .await
}

/// The deadline passed without payment: cancel. False when the saga had moved on meanwhile.
pub(crate) async fn expire(tx: &mut WriteTx, booking_id: Uuid) -> Result<bool, BookingsError> {
    let Some(saga) = store::saga(tx.conn(), booking_id).await? else {
        return Ok(false);
    };
    if saga.state != SagaState::AwaitingPayment || saga.deadline_at > tx.now() {
        return Ok(false);
    }
    let Some(row) = store::booking(tx.conn(), booking_id).await? else {
        return Ok(false);
    };
    let step = NewStep {
        action: "no payment before the deadline",
        event_type: None,
        event_id: None,
        outcome: "failed",
        detail: Some(format!("deadline {}", saga.deadline_at)),
    };
    let now = tx.now();
    store::add_step(tx.conn(), booking_id, step, now).await?;
    cancel(tx, &row, CancelReason::PaymentTimeout).await?;
    Ok(true)
}
