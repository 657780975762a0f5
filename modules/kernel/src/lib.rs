//! The kernel: the building blocks every module stands on, and no domain at all.
//!
//! It gives each module its own SQLite database ([`ModuleDb`]: one writer, a read pool, the
//! module's migrations plus the kernel's outbox, inbox, checkpoint and dead-letter tables), the
//! write transaction through which state changes and their messages commit together
//! ([`WriteTx`]), the in-process [`Bus`], the transport-agnostic [`EventSource`] a producer's log
//! is read through, [`Subscription`]s that apply another module's events and commands exactly
//! once, the [`Clock`] every deadline reads, and the small pieces every module would otherwise
//! write again: keyset [`Cursor`]s, [`ConsistencyToken`]s, [`spawn_periodic`] tasks, the
//! [`ModuleHandle`] lifecycle.
//!
//! It deliberately knows nothing of users, shows, bookings or payments, nothing of HTTP, and
//! never opens a database on a module's behalf without being told which module it is.

mod bus;
mod clock;
mod consumer;
mod db;
mod error;
mod events;
mod gate;
mod ids;
mod metrics;
mod module;
mod outbox;
mod page;
mod platform;
mod storage;
mod task;
mod time;
mod tx;
mod validation;
mod wire;
mod zone;
pub use wire::whole_number;

pub use bus::Bus;
pub use clock::{Clock, ClockControl};
pub use consumer::{
    DeadLetter, DeadLetterOutcome, Handler, HandlerError, LatencySummary, RetryPolicy,
    Subscription, SubscriptionConfig, SubscriptionStatus,
};
pub use db::{DbHealth, ModuleDb};
pub use error::{Error, StorageError};
pub use events::{
    Command, ConsistencyToken, DecodeError, Envelope, EventRef, IntegrationEvent, Message, Trace,
};
pub use gate::{Admitted, Gate, GateCounts, GateShape, TurnedAway};
pub use ids::new_id;
pub use metrics::Metrics;
pub use module::{LocalModule, ModuleHandle, ModuleOps, Resolution};
pub use outbox::{EventCursor, EventQuery, EventSource, OutboxLog, StreamHead};
pub use page::{Cursor, Order, PageRequest, PageSize};
pub use platform::Platform;
pub use storage::{CHECKPOINT_EVERY, DbSettings, Synchronous};
pub use task::spawn_periodic;
pub use time::Timestamp;
pub use tx::{Committed, WriteTx};
pub use validation::{FieldError, FieldErrors};
#[doc(hidden)]
pub use wire::{__serde, __serde_json};
pub use zone::Zone;
