//! The in-process bus: the fast path from a committed outbox to the consumers.
//!
//! It is allowed to lose messages (a slow receiver lags and skips); consumers notice by sequence
//! number and read what they missed from the producer's log. Nothing relies on the bus for
//! durability.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::events::Envelope;

/// A broadcast channel of committed events from every module.
#[derive(Clone, Debug)]
pub struct Bus {
    sender: broadcast::Sender<Arc<Envelope>>,
}

impl Bus {
    /// A bus that holds up to `capacity` events for its slowest receiver.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// Offers a committed event to every current receiver; never waits.
    pub fn publish(&self, event: Arc<Envelope>) {
        // No receivers is fine: consumers catch up from the log when they start.
        let _ = self.sender.send(event);
    }

    /// A receiver of events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.sender.subscribe()
    }
}
