//! What the application may do with a module as a whole ([`ModuleHandle`]): the lifecycle that
//! each facade would otherwise write again.

use std::{sync::Arc, time::Duration};

use crate::{
    db::{DbHealth, ModuleDb},
    outbox::{EventSource, OutboxLog},
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
}
