//! The commands payments carries out for whoever sends them: taking money (`RequestPayment`),
//! giving it back or abandoning a pending payment (`CancelPayment`), and settling the gateway's
//! late answers (a capture after a cancellation is refunded at once). Every change appends to the
//! payment's (and the wallet's) event stream and emits the integration event, naming the
//! requester's reference, in the same transaction.

use std::sync::Arc;

use kernel::{Envelope, Handler, HandlerError, Message, Timestamp, WriteTx, new_id};
use payments_api::{
    CancelPayment, PaymentCaptured, PaymentDeclined, PaymentRefunded, PaymentSource, PaymentStatus,
    PaymentVoided, PaymentsError, RequestPayment,
};
use uuid::Uuid;

use crate::{
    PaymentsConfig,
    gateway::{self, Authorization},
    payment::{MethodDoc, PaymentEvent, PaymentState},
    store::{self, AppendError, StreamKind, Upto},
    wallet::{WalletEvent, WalletState},
};

impl From<AppendError> for PaymentsError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Conflict => PaymentsError::Contention,
            AppendError::Other(e) => e,
        }
    }
}

/// Loads a payment's state from its stream.
pub(crate) async fn load_payment(
    tx: &mut WriteTx,
    id: Uuid,
) -> Result<Option<PaymentState>, PaymentsError> {
    let events: Vec<(i64, PaymentEvent, Timestamp)> =
        store::load(tx.conn(), StreamKind::Payment, id, Upto::End).await?;
    let events: Vec<(PaymentEvent, Timestamp)> =
        events.into_iter().map(|(_, e, t)| (e, t)).collect();
    Ok(PaymentState::fold(id, &events))
}

/// Appends payment events after the state's version and refreshes the projection.
async fn record(
    tx: &mut WriteTx,
    state: &mut PaymentState,
    events: Vec<PaymentEvent>,
) -> Result<(), PaymentsError> {
    let now = tx.now();
    let named: Vec<(&'static str, &PaymentEvent)> = events.iter().map(|e| (e.name(), e)).collect();
    store::append(
        tx.conn(),
        StreamKind::Payment,
        state.id,
        state.version,
        &named,
        now,
    )
    .await?;
    for e in &events {
        state.apply(e, now);
    }
    store::save_projection(tx.conn(), state).await
}

async fn wallet(tx: &mut WriteTx, user_id: Uuid) -> Result<WalletState, PaymentsError> {
    store::wallet_state(tx.conn(), user_id).await
}

async fn wallet_append(
    tx: &mut WriteTx,
    user_id: Uuid,
    state: WalletState,
    event: WalletEvent,
) -> Result<(), PaymentsError> {
    let now = tx.now();
    let after = state.apply(&event);
    store::append_to_wallet(tx.conn(), user_id, state.version, &event, after, now).await?;
    Ok(())
}

async fn capture(
    tx: &mut WriteTx,
    state: &mut PaymentState,
    gateway_reference: String,
) -> Result<(), PaymentsError> {
    let captured = PaymentEvent::Captured {
        reference: gateway_reference,
    };
    record(tx, state, vec![captured]).await?;
    emit_captured(tx, state).await
}

/// Announces a captured payment to its requester.
async fn emit_captured(tx: &mut WriteTx, state: &PaymentState) -> Result<(), PaymentsError> {
    tx.emit(&PaymentCaptured {
        payment_id: state.id,
        reference: state.reference,
        user_id: state.user_id,
        amount_cents: state.amount_cents,
        currency: state.currency.clone(),
        method: state.method.public(),
        captured_at: state.updated_at,
    })
    .await?;
    Ok(())
}

async fn decline(
    tx: &mut WriteTx,
    state: &mut PaymentState,
    reason: &str,
) -> Result<(), PaymentsError> {
    record(
        tx,
        state,
        vec![PaymentEvent::Declined {
            reason: reason.to_owned(),
        }],
    )
    .await?;
    emit_declined(tx, state).await
}

/// Announces a declined payment to its requester.
async fn emit_declined(tx: &mut WriteTx, state: &PaymentState) -> Result<(), PaymentsError> {
    tx.emit(&PaymentDeclined {
        payment_id: state.id,
        reference: state.reference,
        user_id: state.user_id,
        reason: state.decline_reason.clone().unwrap_or_default(),
        method: state.method.public(),
        declined_at: state.updated_at,
    })
    .await?;
    Ok(())
}

async fn refund(tx: &mut WriteTx, state: &mut PaymentState) -> Result<(), PaymentsError> {
    if state.method.kind == "wallet" {
        let w = wallet(tx, state.user_id).await?;
        let event = WalletEvent::Refunded {
            amount_cents: state.amount_cents,
            payment_id: state.id,
            reference: state.reference,
        };
        wallet_append(tx, state.user_id, w, event).await?;
    }
    record(
        tx,
        state,
        vec![PaymentEvent::Refunded {
            amount_cents: state.amount_cents,
        }],
    )
    .await?;
    tx.emit(&PaymentRefunded {
        payment_id: state.id,
        reference: state.reference,
        user_id: state.user_id,
        amount_cents: state.amount_cents,
        currency: state.currency.clone(),
        refunded_at: state.updated_at,
    })
    .await?;
    Ok(())
}

/// Requests and, when the answer is immediate, settles a payment.
async fn on_request(
    tx: &mut WriteTx,
    config: &PaymentsConfig,
    request: RequestPayment,
) -> Result<(), PaymentsError> {
    if store::payment_id_for_reference(tx.conn(), request.reference)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let method = match &request.source {
        PaymentSource::Wallet => MethodDoc {
            kind: "wallet".into(),
            brand: None,
            last4: None,
            token: None,
        },
        PaymentSource::Card(card) => MethodDoc {
            kind: "card".into(),
            brand: Some(card.brand.clone()),
            last4: Some(card.last4.clone()),
            token: Some(card.token.clone()),
        },
    };
    let id = new_id();
    let now = tx.now();
    let requested = PaymentEvent::Requested {
        reference: request.reference,
        user_id: request.user_id,
        amount_cents: request.amount_cents,
        currency: request.currency.clone(),
        method,
    };
    // What becomes of the request is decided before anything is written, so that the request
    // and its outcome are one append to the payment's stream and one projection write.
    let declined = |reason: &str| {
        Some(PaymentEvent::Declined {
            reason: reason.to_owned(),
        })
    };
    let mut charge = None;
    let mut unanswered = false;
    let outcome = if now > request.deadline_at {
        // The request's deadline passed while it waited: taking money now would only start a
        // refund.
        declined("expired")
    } else {
        match &request.source {
            PaymentSource::Wallet if request.currency != config.currency => {
                declined("currency_mismatch")
            }
            PaymentSource::Wallet => {
                let w = wallet(tx, request.user_id).await?;
                match w.charge(request.amount_cents, id, request.reference) {
                    Some(charged) => {
                        let reference = format!("wallet v{}", w.version + 1);
                        charge = Some((w, charged));
                        Some(PaymentEvent::Captured { reference })
                    }
                    None => declined("insufficient_funds"),
                }
            }
            PaymentSource::Card(card) => match gateway::authorize(&card.token) {
                Authorization::Approved => Some(PaymentEvent::Captured {
                    reference: format!("gateway auth {}", &id.simple().to_string()[..12]),
                }),
                Authorization::Declined(code) => declined(code),
                Authorization::NoAnswer => {
                    unanswered = true;
                    None
                }
            },
        }
    };
    if let Some((w, charged)) = charge {
        wallet_append(tx, request.user_id, w, charged).await?;
    }
    let events: Vec<PaymentEvent> = std::iter::once(requested).chain(outcome).collect();
    let named: Vec<(&'static str, &PaymentEvent)> = events.iter().map(|e| (e.name(), e)).collect();
    store::append(tx.conn(), StreamKind::Payment, id, 0, &named, now).await?;
    let folded: Vec<(PaymentEvent, Timestamp)> = events.into_iter().map(|e| (e, now)).collect();
    let state = PaymentState::fold(id, &folded)
        .ok_or_else(|| PaymentsError::Corrupt("empty payment".into()))?;
    store::save_projection(tx.conn(), &state).await?;
    match state.status {
        PaymentStatus::Captured => emit_captured(tx, &state).await,
        PaymentStatus::Declined => emit_declined(tx, &state).await,
        _ => {
            if unanswered && let Some(delay) = config.late_answer {
                let trace = tx.trace();
                store::schedule_callback(tx.conn(), id, now.plus(delay), "captured", trace).await?;
            }
            Ok(())
        }
    }
}

/// The compensation: give back what was taken for a cancelled request, or void what is pending.
async fn on_cancel(tx: &mut WriteTx, cancel: CancelPayment) -> Result<(), PaymentsError> {
    let Some(id) = store::payment_id_for_reference(tx.conn(), cancel.reference).await? else {
        return Ok(());
    };
    let Some(mut state) = load_payment(tx, id).await? else {
        return Ok(());
    };
    match state.status {
        PaymentStatus::Captured => refund(tx, &mut state).await,
        PaymentStatus::Pending if !state.cancel_requested => {
            if store::has_callback(tx.conn(), id).await? {
                // The gateway may still settle it: remember to refund the moment it does.
                record(tx, &mut state, vec![PaymentEvent::CancelRequested]).await
            } else {
                record(
                    tx,
                    &mut state,
                    vec![PaymentEvent::CancelRequested, PaymentEvent::Voided],
                )
                .await?;
                tx.emit(&PaymentVoided {
                    payment_id: state.id,
                    reference: state.reference,
                    user_id: state.user_id,
                    voided_at: state.updated_at,
                })
                .await?;
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Applies a late gateway answer: a capture for a request cancelled meanwhile is refunded at once
/// (the compensation of the compensation).
pub(crate) async fn settle_late(
    tx: &mut WriteTx,
    payment_id: Uuid,
    outcome: &str,
) -> Result<(), PaymentsError> {
    store::delete_callback(tx.conn(), payment_id).await?;
    let Some(mut state) = load_payment(tx, payment_id).await? else {
        return Ok(());
    };
    if state.status != PaymentStatus::Pending {
        return Ok(());
    }
    if outcome == "captured" {
        capture(tx, &mut state, "gateway late settlement".into()).await?;
        if state.cancel_requested {
            refund(tx, &mut state).await?;
        }
        Ok(())
    } else {
        decline(tx, &mut state, "card_declined").await
    }
}

/// Carries out the payment commands a requester's stream carries (the requester's other events
/// only move the checkpoint).
pub(crate) struct CommandsHandler {
    pub(crate) config: Arc<PaymentsConfig>,
}

impl Handler for CommandsHandler {
    fn event_types(&self) -> &'static [&'static str] {
        &[RequestPayment::TYPE, CancelPayment::TYPE]
    }

    async fn handle(&self, tx: &mut WriteTx, event: &Envelope) -> Result<(), HandlerError> {
        if event.is::<RequestPayment>() {
            on_request(tx, &self.config, event.decode()?).await?;
        } else if event.is::<CancelPayment>() {
            on_cancel(tx, event.decode()?).await?;
        }
        Ok(())
    }
}
