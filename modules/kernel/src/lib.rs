//! The kernel: the building blocks every module stands on, and no domain at all.
//!
//! It gives each module its own SQLite database ([`ModuleDb`]: one writer, a read pool, the
//! module's migrations plus the kernel's outbox, inbox, checkpoint and dead-letter tables), the
//! write transaction through which state changes and their events commit together
//! ([`WriteTx`]), the in-process [`Bus`], the transport-agnostic [`EventSource`] a producer's log
//! is read through, and [`Subscription`]s that apply another module's events exactly once.
//!
//! It deliberately knows nothing of users, shows, bookings or payments, nothing of HTTP, and
//! never opens a database on a module's behalf without being told which module it is.

mod bus;
mod consumer;
mod db;
mod error;
mod events;
mod floor;

mod ids;
mod metrics;
mod outbox;
mod time;
mod validation;

pub use bus::Bus;
pub use consumer::{
    DeadLetter, DeadLetterOutcome, Handler, HandlerError, LatencySummary, RetryPolicy,
    Subscription, SubscriptionConfig, SubscriptionStatus,
};
pub use db::{Committed, DbHealth, DbSettings, ModuleDb, Synchronous, WriteTx};
pub use error::{Error, StorageError};
pub use events::{DecodeError, Envelope, EventRef, IntegrationEvent, Trace};
pub use floor::{FLOOR_FILE, Floor};
pub use ids::new_id;
pub use metrics::Metrics;
pub use outbox::{EventCursor, EventQuery, EventSource, OutboxLog, StreamHead};
pub use time::Timestamp;
pub use validation::{FieldError, FieldErrors};
