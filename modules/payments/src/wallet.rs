//! The wallet aggregate: its events, its state as their fold, and the decisions it makes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What can happen to a wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub(crate) enum WalletEvent {
    Deposited {
        amount_cents: i64,
        deposit_id: Uuid,
    },
    Charged {
        amount_cents: i64,
        payment_id: Uuid,
        /// Named `booking_id` in events written before payments took requests by reference.
        #[serde(alias = "booking_id")]
        reference: Uuid,
    },
    Refunded {
        amount_cents: i64,
        payment_id: Uuid,
        #[serde(alias = "booking_id")]
        reference: Uuid,
    },
}

impl WalletEvent {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            WalletEvent::Deposited { .. } => "Deposited",
            WalletEvent::Charged { .. } => "Charged",
            WalletEvent::Refunded { .. } => "Refunded",
        }
    }

    /// The signed change to the balance.
    pub(crate) fn delta(&self) -> i64 {
        match self {
            WalletEvent::Deposited { amount_cents, .. }
            | WalletEvent::Refunded { amount_cents, .. } => *amount_cents,
            WalletEvent::Charged { amount_cents, .. } => -amount_cents,
        }
    }
}

/// A wallet as its events say it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WalletState {
    /// Events folded so far.
    pub(crate) version: i64,
    pub(crate) balance: i64,
}

impl WalletState {
    /// Applies one more event.
    pub(crate) fn apply(mut self, event: &WalletEvent) -> WalletState {
        self.version += 1;
        self.balance += event.delta();
        self
    }

    /// The state after `events` (the definition snapshots must agree with).
    #[cfg(test)]
    pub(crate) fn fold<'a>(events: impl IntoIterator<Item = &'a WalletEvent>) -> WalletState {
        events
            .into_iter()
            .fold(WalletState::default(), WalletState::apply)
    }

    /// A charge, when the balance covers it.
    pub(crate) fn charge(
        &self,
        amount_cents: i64,
        payment_id: Uuid,
        reference: Uuid,
    ) -> Option<WalletEvent> {
        (self.balance >= amount_cents).then_some(WalletEvent::Charged {
            amount_cents,
            payment_id,
            reference,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balance_is_the_fold_of_the_events() {
        let p = Uuid::nil();
        let events = [
            WalletEvent::Deposited {
                amount_cents: 5_000,
                deposit_id: p,
            },
            WalletEvent::Charged {
                amount_cents: 3_000,
                payment_id: p,
                reference: p,
            },
            WalletEvent::Refunded {
                amount_cents: 3_000,
                payment_id: p,
                reference: p,
            },
            WalletEvent::Charged {
                amount_cents: 1_500,
                payment_id: p,
                reference: p,
            },
        ];
        assert_eq!(
            WalletState::fold(&events),
            WalletState {
                version: 4,
                balance: 3_500
            }
        );
    }

    #[test]
    fn a_charge_written_before_references_reads_its_booking_as_the_reference() {
        let old = r#"{"type":"Charged","amount_cents":5,"payment_id":"00000000-0000-0000-0000-000000000000","booking_id":"00000000-0000-0000-0000-000000000001"}"#;
        let WalletEvent::Charged { reference, .. } = serde_json::from_str(old).unwrap() else {
            panic!("not a charge");
        };
        assert_eq!(reference, Uuid::from_u128(1));
    }

    #[test]
    fn a_charge_larger_than_the_balance_is_refused() {
        let state = WalletState {
            version: 1,
            balance: 999,
        };
        assert!(state.charge(1_000, Uuid::nil(), Uuid::nil()).is_none());
        assert!(state.charge(999, Uuid::nil(), Uuid::nil()).is_some());
    }
}
