//! The simulated card gateway: answers from the token's test behaviour, with no network.

use crate::card::Behaviour;

/// What the gateway said to a charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Authorization {
    /// Money taken.
    Approved,
    /// Refused, with the gateway's reason code.
    Declined(&'static str),
    /// No answer within the request: the gateway may settle later (a callback).
    NoAnswer,
}

/// Charges the card behind `token`.
pub(crate) fn authorize(token: &str) -> Authorization {
    match Behaviour::of_token(token) {
        Some(Behaviour::Approve) => Authorization::Approved,
        Some(Behaviour::DeclineCard) => Authorization::Declined("card_declined"),
        Some(Behaviour::DeclineFunds) => Authorization::Declined("insufficient_funds"),
        Some(Behaviour::NoAnswer) => Authorization::NoAnswer,
        None => Authorization::Declined("invalid_token"),
    }
}
