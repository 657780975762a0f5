//! What the application may do with a module as a whole ([`ModuleHandle`]): the lifecycle that
//! each facade would otherwise write again; and what an operator may do with it wherever it runs
//! ([`ModuleOps`], served in this process by [`LocalModule`]).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    bus::Bus,
    clock::Clock,
    consumer::{DeadLetter, DeadLetterOutcome, Subscription, SubscriptionStatus},
    db::{DbHealth, ModuleDb},
    error::Error,
    events::{Envelope, Trace},
    outbox::{EventQuery, EventSource, OutboxLog},
};

/// A module as the application runs it: its event log, its health, its availability, its
/// shutdown. It wraps the module's database but gives no access to it: no pool, no transaction.
#[derive(Clone, Debug)]
pub struct ModuleHandle {
    db: ModuleDb,
}

impl ModuleDb {
    /// The module as a whole, for the application: event log, health, availability, close.
    pub fn handle(&self) -> ModuleHandle {
        ModuleHandle { db: self.clone() }
    }
}

impl ModuleHandle {
    /// The module's name, which is also its stream's and its database file's.
    pub fn name(&self) -> &'static str {
        self.db.module()
    }

    /// The module's event stream, read through the kernel (never through its tables).
    pub fn event_log(&self) -> Arc<dyn EventSource> {
        Arc::new(OutboxLog::new(self.db.clone()))
    }

    /// Database status and schema versions.
    pub async fn health(&self) -> DbHealth {
        self.db.health().await
    }

    /// Takes the module offline for a while (every call fails with `Unavailable`), or back
    /// online with `None`, to show that failures stay isolated.
    pub fn set_offline_for(&self, duration: Option<Duration>) {
        self.db.set_offline_for(duration);
    }

    /// False while taken offline.
    pub fn is_online(&self) -> bool {
        self.db.is_online()
    }

    /// Closes the database, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// The bus its commits are announced on (a relay wakes on them).
    pub fn bus(&self) -> &Bus {
        self.db.bus()
    }

    /// The clock the module reads.
    pub fn clock(&self) -> &Clock {
        self.db.clock()
    }

    /// How far `transport` has relayed the module's outbox (0 before it ever did).
    pub async fn relay_mark(&self, transport: &str) -> Result<i64, Error> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM relay_marks WHERE transport = ?")
                .bind(transport)
                .fetch_optional(self.db.reader()?)
                .await
                .map_err(Error::db(self.name()))?;
        Ok(seq.unwrap_or(0))
    }

    /// Records that `transport` has relayed everything up to `seq` (acknowledged by it).
    pub async fn set_relay_mark(&self, transport: &str, seq: i64) -> Result<(), Error> {
        let mut tx = self.db.write(Trace::new_root()).await?;
        sqlx::query(
            "INSERT INTO relay_marks (transport, seq, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (transport) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
        )
        .bind(transport)
        .bind(seq)
        .bind(self.db.clock().now())
        .execute(tx.conn())
        .await
        .map_err(Error::db(self.name()))?;
        tx.commit().await?;
        Ok(())
    }
}

/// What an operator does with a parked dead letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    /// Run the handler again.
    Retry,
    /// Give up on it (recorded, never deleted).
    Discard,
}

/// A module as an operator sees it, in this process or another: its health, its subscriptions
/// and their dead letters, its availability, its event log browsed by people.
#[async_trait]
pub trait ModuleOps: Send + Sync {
    /// The module's name.
    fn name(&self) -> &'static str;

    /// Database status and schema versions (or why the module cannot be asked).
    async fn health(&self) -> DbHealth;

    /// Every subscription of this module to another's stream.
    async fn subscriptions(&self) -> Result<Vec<SubscriptionStatus>, Error>;

    /// Its subscriptions' dead letters (`all`: resolved ones too).
    async fn dead_letters(&self, all: bool) -> Result<Vec<DeadLetter>, Error>;

    /// Retries or discards dead letter `id`, on behalf of `actor`.
    async fn resolve_dead_letter(
        &self,
        id: i64,
        resolution: Resolution,
        actor: &str,
    ) -> Result<DeadLetterOutcome, Error>;

    /// Takes the module offline for a while, or back online with `None`.
    async fn set_offline_for(&self, duration: Option<Duration>) -> Result<(), Error>;

    /// Events of its stream matching `query`, newest first (none for a module without one).
    async fn browse(&self, query: &EventQuery) -> Result<Vec<Arc<Envelope>>, Error>;
}

/// A module hosted by this process: its handle and its own subscriptions.
pub struct LocalModule {
    handle: ModuleHandle,
    subscriptions: Vec<Subscription>,
    publishes: bool,
}

impl LocalModule {
    /// The module behind `handle`, consuming with `subscriptions`; `publishes` when it has an
    /// event stream of its own.
    pub fn new(handle: ModuleHandle, subscriptions: Vec<Subscription>, publishes: bool) -> Self {
        Self {
            handle,
            subscriptions,
            publishes,
        }
    }

    /// Its handle.
    pub fn handle(&self) -> &ModuleHandle {
        &self.handle
    }

    /// Its subscriptions.
    pub fn subscription_list(&self) -> &[Subscription] {
        &self.subscriptions
    }
}

#[async_trait]
impl ModuleOps for LocalModule {
    fn name(&self) -> &'static str {
        self.handle.name()
    }

    async fn health(&self) -> DbHealth {
        self.handle.health().await
    }

    async fn subscriptions(&self) -> Result<Vec<SubscriptionStatus>, Error> {
        let mut out = Vec::with_capacity(self.subscriptions.len());
        for s in &self.subscriptions {
            out.push(s.status().await);
        }
        Ok(out)
    }

    async fn dead_letters(&self, all: bool) -> Result<Vec<DeadLetter>, Error> {
        let mut out = Vec::new();
        for s in &self.subscriptions {
            out.extend(s.dead_letters(all).await?);
        }
        Ok(out)
    }

    async fn resolve_dead_letter(
        &self,
        id: i64,
        resolution: Resolution,
        actor: &str,
    ) -> Result<DeadLetterOutcome, Error> {
        for s in &self.subscriptions {
            let outcome = match resolution {
                Resolution::Retry => s.retry_dead_letter(id, actor).await?,
                Resolution::Discard => s.discard_dead_letter(id, actor).await?,
            };
            if outcome != DeadLetterOutcome::NotFound {
                return Ok(outcome);
            }
        }
        Ok(DeadLetterOutcome::NotFound)
    }

    async fn set_offline_for(&self, duration: Option<Duration>) -> Result<(), Error> {
        self.handle.set_offline_for(duration);
        Ok(())
    }

    async fn browse(&self, query: &EventQuery) -> Result<Vec<Arc<Envelope>>, Error> {
        if self.publishes {
            self.handle.event_log().browse(query).await
        } else {
            Ok(Vec::new())
        }
    }
}
