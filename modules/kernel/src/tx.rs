//! The write transaction: the only way a module changes its database, and the only way its events
//! and commands enter its outbox, together or not at all.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use serde_json::value::RawValue;
use sqlx::{Sqlite, SqliteConnection, Transaction, query::Query, sqlite::SqliteArguments};
use tokio::sync::OwnedMutexGuard;

use crate::{
    bus::Bus,
    clock::Clock,
    error::Error,
    events::{Command, ConsistencyToken, Envelope, EventRef, IntegrationEvent, Message, Trace},
    ids::new_id,
    metrics::Metrics,
    platform::Platform,
    time::Timestamp,
};

/// Where a module's committed messages go, and the time they are stamped with: shared by the
/// module's database handle and each of its transactions.
pub(crate) struct Outlet {
    pub(crate) module: &'static str,
    pub(crate) bus: Bus,
    pub(crate) metrics: Metrics,
    pub(crate) clock: Clock,
    /// Write transactions committed since the database was opened (the checkpointer skips a
    /// tick when it has not moved).
    commits: AtomicU64,
}

impl Outlet {
    pub(crate) fn new(module: &'static str, platform: &Platform) -> Outlet {
        Outlet {
            module,
            bus: platform.bus.clone(),
            metrics: platform.metrics.clone(),
            clock: platform.clock.clone(),
            commits: AtomicU64::new(0),
        }
    }

    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Offers committed messages to the bus, in sequence order.
    fn publish(&self, events: Vec<Envelope>) {
        if events.is_empty() {
            return;
        }
        let count = events.len() as u64;
        self.metrics.events_appended(self.module, count);
        for event in events {
            self.bus.publish(Arc::new(event));
        }
        self.metrics.events_published(self.module, count);
    }
}

/// A write transaction on a module's database.
///
/// Events are appended to the module's outbox with [`WriteTx::emit`] (and commands for another
/// module with [`WriteTx::send`]), inside the transaction that changes the state they describe;
/// they reach the bus only after [`WriteTx::commit`]. Dropping the transaction without committing
/// rolls back the state and the messages together.
pub struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    /// The module's write order, held until the commit's messages are on the bus.
    _order: OwnedMutexGuard<()>,
    outlet: Arc<Outlet>,
    trace: Trace,
    pending: Vec<Envelope>,
}

/// What a commit published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The stream the transaction appended to (its module's).
    pub stream: &'static str,
    /// The last message appended by the transaction, if any.
    pub last_event: Option<EventRef>,
}

impl Committed {
    /// The read-your-writes token of this commit, when it appended anything.
    pub fn token(&self) -> Option<ConsistencyToken> {
        self.last_event
            .map(|e| ConsistencyToken::new(self.stream, e.seq))
    }
}

impl WriteTx {
    /// A transaction just begun (`BEGIN IMMEDIATE`) while holding the module's write order.
    pub(crate) fn begun(
        tx: Transaction<'static, Sqlite>,
        order: OwnedMutexGuard<()>,
        outlet: Arc<Outlet>,
        trace: Trace,
    ) -> WriteTx {
        WriteTx {
            tx,
            _order: order,
            outlet,
            trace,
            pending: Vec::new(),
        }
    }

    /// The connection, for the module's own statements.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    /// The time on the module's clock (every timestamp a transaction writes reads it).
    pub fn now(&self) -> Timestamp {
        self.outlet.clock.now()
    }

    /// The trace messages appended now will carry.
    pub fn trace(&self) -> Trace {
        self.trace
    }

    /// Changes the trace for messages appended from now on (a consumer handling a batch).
    pub fn set_trace(&mut self, trace: Trace) {
        self.trace = trace;
    }

    /// Appends `event` to this module's outbox, in this transaction.
    pub async fn emit<E: IntegrationEvent>(&mut self, event: &E) -> Result<EventRef, Error> {
        self.append(event).await
    }

    /// Appends `command` (defined by the module that carries it out) to this module's outbox, in
    /// this transaction. The receiver subscribes to this module's stream for the commands it
    /// knows, with the same exactly-once guarantees as for events.
    pub async fn send<C: Command>(&mut self, command: &C) -> Result<EventRef, Error> {
        self.append(command).await
    }

    async fn append<M: Message>(&mut self, message: &M) -> Result<EventRef, Error> {
        let module = self.outlet.module;
        let payload = RawValue::from_string(serde_json::to_string(message)?)?;
        let event_id = new_id();
        let occurred_at = self.now();
        let aggregate_id = message.aggregate_id();
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (event_id, event_type, event_version, aggregate_id, payload, \
             correlation_id, causation_id, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(event_id)
        .bind(M::TYPE)
        .bind(i64::from(M::VERSION))
        .bind(&aggregate_id)
        .bind(payload.get())
        .bind(self.trace.correlation_id)
        .bind(self.trace.causation_id)
        .bind(occurred_at)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(Error::db(module))?;
        self.pending.push(Envelope {
            stream: module.to_owned(),
            seq,
            event_id,
            event_type: M::TYPE.to_owned(),
            event_version: M::VERSION,
            aggregate_id,
            payload,
            correlation_id: self.trace.correlation_id,
            causation_id: self.trace.causation_id,
            occurred_at,
        });
        Ok(EventRef { seq, event_id })
    }

    /// Commits, then publishes the appended messages on the bus in sequence order.
    pub async fn commit(self) -> Result<Committed, Error> {
        let WriteTx {
            tx,
            _order,
            outlet,
            pending,
            ..
        } = self;
        tx.commit().await.map_err(Error::db(outlet.module))?;
        outlet.commits.fetch_add(1, Ordering::Release);
        let last_event = pending.last().map(|e| EventRef {
            seq: e.seq,
            event_id: e.event_id,
        });
        outlet.publish(pending);
        Ok(Committed {
            stream: outlet.module,
            last_event,
        })
    }

    /// Opens the step savepoint and runs `statement` (an `INSERT … RETURNING`, its parameters
    /// bound by `bind`) in the same round trip; true when it returned a row. (Not the change
    /// count: SQLite's `changes()` is stale after a `SAVEPOINT` when the insert did nothing.)
    pub(crate) async fn savepoint_with<'q>(
        &mut self,
        statement: &str,
        bind: impl FnOnce(Query<'q, Sqlite, SqliteArguments>) -> Query<'q, Sqlite, SqliteArguments>,
    ) -> Result<(Savepoint, bool), Error> {
        let pending = self.pending.len();
        // The savepoint a consumer opens around each event it applies, so one failing handler
        // rolls back only its own effects.
        let sql = format!("SAVEPOINT kernel_step; {statement}");
        let returned = bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(Error::db(self.outlet.module))?;
        Ok((Savepoint { pending }, returned.is_some()))
    }

    /// Undoes everything done since the savepoint, appended messages included.
    pub(crate) async fn rollback_to(&mut self, savepoint: Savepoint) -> Result<(), Error> {
        sqlx::query("ROLLBACK TO kernel_step; RELEASE kernel_step")
            .execute(&mut *self.tx)
            .await
            .map_err(Error::db(self.outlet.module))?;
        self.pending.truncate(savepoint.pending);
        Ok(())
    }
}

/// A position inside a [`WriteTx`] (see [`WriteTx::savepoint_with`]).
pub(crate) struct Savepoint {
    pending: usize,
}
