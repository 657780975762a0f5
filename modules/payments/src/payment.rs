//! The payment aggregate: one payment per requested reference, its events and its state as their
//! fold.

use kernel::Timestamp;
use payments_api::{PaymentHistoryEntry, PaymentMethod, PaymentStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a payment is made, as a flexible document: a card adds its brand, last four and token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MethodDoc {
    pub(crate) kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
}

impl MethodDoc {
    /// What may be shown outside the module: no token.
    pub(crate) fn public(&self) -> PaymentMethod {
        PaymentMethod {
            kind: self.kind.clone(),
            brand: self.brand.clone(),
            last4: self.last4.clone(),
        }
    }
}

/// What can happen to a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub(crate) enum PaymentEvent {
    Requested {
        /// Named `booking_id` in events written before payments took requests by reference.
        #[serde(alias = "booking_id")]
        reference: Uuid,
        user_id: Uuid,
        amount_cents: i64,
        currency: String,
        method: MethodDoc,
    },
    Captured {
        reference: String,
    },
    Declined {
        reason: String,
    },
    CancelRequested,
    Refunded {
        amount_cents: i64,
    },
    Voided,
}

impl PaymentEvent {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            PaymentEvent::Requested { .. } => "Requested",
            PaymentEvent::Captured { .. } => "Captured",
            PaymentEvent::Declined { .. } => "Declined",
            PaymentEvent::CancelRequested => "CancelRequested",
            PaymentEvent::Refunded { .. } => "Refunded",
            PaymentEvent::Voided => "Voided",
        }
    }

    fn history(&self, version: i64, occurred_at: Timestamp) -> PaymentHistoryEntry {
        let (event, detail) = match self {
            PaymentEvent::Requested {
                amount_cents,
                currency,
                method,
                ..
            } => (
                "requested",
                Some(format!("{amount_cents} {currency} by {}", method.kind)),
            ),
            PaymentEvent::Captured { reference } => ("captured", Some(reference.clone())),
            PaymentEvent::Declined { reason } => ("declined", Some(reason.clone())),
            PaymentEvent::CancelRequested => ("cancel_requested", None),
            PaymentEvent::Refunded { amount_cents } => {
                ("refunded", Some(format!("{amount_cents}")))
            }
            PaymentEvent::Voided => ("voided", None),
        };
        let amount_cents = match self {
            PaymentEvent::Requested { amount_cents, .. }
            | PaymentEvent::Refunded { amount_cents } => Some(*amount_cents),
            _ => None,
        };
        PaymentHistoryEntry {
            version,
            occurred_at,
            event: event.to_owned(),
            detail,
            amount_cents,
        }
    }
}

/// A payment as its events say it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PaymentState {
    pub(crate) id: Uuid,
    pub(crate) version: i64,
    pub(crate) reference: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) amount_cents: i64,
    pub(crate) currency: String,
    pub(crate) method: MethodDoc,
    pub(crate) status: PaymentStatus,
    pub(crate) decline_reason: Option<String>,
    pub(crate) cancel_requested: bool,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) history: Vec<PaymentHistoryEntry>,
}

impl PaymentState {
    /// The state after `events` (oldest first, with their times); `None` for an empty stream.
    pub(crate) fn fold(id: Uuid, events: &[(PaymentEvent, Timestamp)]) -> Option<PaymentState> {
        let (first, created_at) = events.first()?;
        let PaymentEvent::Requested {
            reference,
            user_id,
            amount_cents,
            currency,
            method,
        } = first
        else {
            return None;
        };
        let mut state = PaymentState {
            id,
            version: 0,
            reference: *reference,
            user_id: *user_id,
            amount_cents: *amount_cents,
            currency: currency.clone(),
            method: method.clone(),
            status: PaymentStatus::Pending,
            decline_reason: None,
            cancel_requested: false,
            created_at: *created_at,
            updated_at: *created_at,
            history: Vec::new(),
        };
        for (event, at) in events {
            state.apply(event, *at);
        }
        Some(state)
    }

    /// Applies one more event.
    pub(crate) fn apply(&mut self, event: &PaymentEvent, at: Timestamp) {
        self.version += 1;
        self.updated_at = at;
        self.history.push(event.history(self.version, at));
        match event {
            PaymentEvent::Requested { .. } => {}
            PaymentEvent::Captured { .. } => self.status = PaymentStatus::Captured,
            PaymentEvent::Declined { reason } => {
                self.status = PaymentStatus::Declined;
                self.decline_reason = Some(reason.clone());
            }
            PaymentEvent::CancelRequested => self.cancel_requested = true,
            PaymentEvent::Refunded { .. } => self.status = PaymentStatus::Refunded,
            PaymentEvent::Voided => self.status = PaymentStatus::Voided,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_folds_from_request_to_refund() {
        let t = Timestamp::from_micros(1);
        let id = Uuid::nil();
        let events = vec![
            (
                PaymentEvent::Requested {
                    reference: id,
                    user_id: id,
                    amount_cents: 100,
                    currency: "EUR".into(),
                    method: MethodDoc {
                        kind: "wallet".into(),
                        brand: None,
                        last4: None,
                        token: None,
                    },
                },
                t,
            ),
            (
                PaymentEvent::Captured {
                    reference: "wallet".into(),
                },
                t,
            ),
            (PaymentEvent::Refunded { amount_cents: 100 }, t),
        ];
        let state = PaymentState::fold(id, &events).unwrap();
        assert_eq!(state.status, PaymentStatus::Refunded);
        assert_eq!(state.version, 3);
        assert_eq!(
            state
                .history
                .iter()
                .map(|h| h.event.as_str())
                .collect::<Vec<_>>(),
            ["requested", "captured", "refunded"]
        );
    }

    #[test]
    fn a_request_written_before_references_reads_its_booking_as_the_reference() {
        let old = r#"{"type":"Requested","booking_id":"00000000-0000-0000-0000-000000000007",
            "user_id":"00000000-0000-0000-0000-000000000001","amount_cents":100,"currency":"EUR",
            "method":{"kind":"wallet"}}"#;
        let PaymentEvent::Requested { reference, .. } = serde_json::from_str(old).unwrap() else {
            panic!("not a request");
        };
        assert_eq!(reference, Uuid::from_u128(7));
    }

    #[test]
    fn a_stream_not_starting_with_a_request_is_not_a_payment() {
        assert!(
            PaymentState::fold(
                Uuid::nil(),
                &[(PaymentEvent::Voided, Timestamp::from_micros(1))]
            )
            .is_none()
        );
    }
}
