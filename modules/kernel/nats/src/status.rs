//! What `/health` says about the transport: the connection, each relay and each follower.

use std::sync::{
    Mutex,
    atomic::{AtomicI64, AtomicU64, Ordering},
};

use kernel::{Clock, Timestamp};
use serde::{Deserialize, Serialize};

/// The transport as `/health` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NatsHealth {
    /// `connected`, `connecting` or `disconnected`.
    pub status: String,
    /// The server this process talks to.
    pub url: String,
    /// The deployment's prefix of stream and subject names.
    pub prefix: String,
    /// One line per outbox relayed from this process.
    pub relays: Vec<RelayLine>,
    /// One line per stream of another process followed here.
    pub followers: Vec<FollowerLine>,
}

/// A relay of this process's module outbox to JetStream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RelayLine {
    /// The module's stream.
    pub stream: String,
    /// The last outbox position JetStream acknowledged.
    pub relayed_seq: i64,
    /// The outbox's newest position, as last read.
    pub outbox_seq: i64,
    /// Events waiting to be relayed.
    pub pending: i64,
    /// When the last event was acknowledged.
    pub last_relayed_at: Option<Timestamp>,
    /// The last failure, while it lasts.
    pub error: Option<String>,
}

/// A stream of another process, followed into this process's bus.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FollowerLine {
    /// The stream.
    pub stream: String,
    /// The last event received live.
    pub last_seq: i64,
    /// Messages on the stream's subjects that were not events (parked by the subscriptions).
    pub foreign_messages: u64,
    /// The last of them: its subject and why it is not an event.
    pub last_foreign: Option<String>,
    /// The last failure, while it lasts.
    pub error: Option<String>,
}

/// A relay's progress, shared with `/health`.
pub(crate) struct RelayStatus {
    pub(crate) stream: &'static str,
    relayed: AtomicI64,
    outbox: AtomicI64,
    last_relayed_at: Mutex<Option<Timestamp>>,
    error: Mutex<Option<String>>,
    clock: Clock,
}

impl RelayStatus {
    pub(crate) fn new(stream: &'static str, clock: Clock) -> RelayStatus {
        RelayStatus {
            stream,
            relayed: AtomicI64::new(0),
            outbox: AtomicI64::new(0),
            last_relayed_at: Mutex::new(None),
            error: Mutex::new(None),
            clock,
        }
    }

    pub(crate) fn relayed(&self, seq: i64) {
        self.relayed.store(seq, Ordering::Relaxed);
        *self
            .last_relayed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(self.clock.now());
    }

    pub(crate) fn resumed_at(&self, seq: i64) {
        self.relayed.store(seq, Ordering::Relaxed);
    }

    pub(crate) fn outbox_at(&self, seq: i64) {
        self.outbox.fetch_max(seq, Ordering::Relaxed);
    }

    pub(crate) fn ok(&self) {
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub(crate) fn failed(&self, error: &str) {
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_owned());
    }

    pub(crate) fn line(&self) -> RelayLine {
        let relayed = self.relayed.load(Ordering::Relaxed);
        let outbox = self.outbox.load(Ordering::Relaxed).max(relayed);
        RelayLine {
            stream: self.stream.to_owned(),
            relayed_seq: relayed,
            outbox_seq: outbox,
            pending: outbox - relayed,
            last_relayed_at: *self
                .last_relayed_at
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
            error: self.error.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

/// A follower's progress, shared with `/health`.
pub(crate) struct FollowerStatus {
    pub(crate) stream: &'static str,
    last_seq: AtomicI64,
    foreign: AtomicU64,
    last_foreign: Mutex<Option<String>>,
    error: Mutex<Option<String>>,
}

impl FollowerStatus {
    pub(crate) fn new(stream: &'static str) -> FollowerStatus {
        FollowerStatus {
            stream,
            last_seq: AtomicI64::new(0),
            foreign: AtomicU64::new(0),
            last_foreign: Mutex::new(None),
            error: Mutex::new(None),
        }
    }

    pub(crate) fn following(&self) {
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub(crate) fn received(&self, seq: i64) {
        self.last_seq.fetch_max(seq, Ordering::Relaxed);
    }

    pub(crate) fn foreign(&self, subject: &str, reason: &str) {
        self.foreign.fetch_add(1, Ordering::Relaxed);
        *self.last_foreign.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(format!("{subject}: {reason}"));
    }

    pub(crate) fn failed(&self, error: &str) {
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_owned());
    }

    pub(crate) fn line(&self) -> FollowerLine {
        FollowerLine {
            stream: self.stream.to_owned(),
            last_seq: self.last_seq.load(Ordering::Relaxed),
            foreign_messages: self.foreign.load(Ordering::Relaxed),
            last_foreign: self
                .last_foreign
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            error: self.error.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}
