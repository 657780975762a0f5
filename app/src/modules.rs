//! Wiring: every module opened on its own database, and their subscriptions to each other's
//! streams. The only place that knows all modules at once.

use std::{path::Path, sync::Arc};

use anyhow::Context;
use kernel::{Bus, DbHealth, EventSource, Metrics, Subscription};
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use users::Users;

use crate::settings::Settings;

/// All modules of one running application.
#[derive(Clone)]
pub struct Modules {
    inner: Arc<Inner>,
}

struct Inner {
    users: Users,
    bus: Bus,
    metrics: Metrics,
    subscriptions: Vec<Subscription>,
}

/// One module's line in `/health`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ModuleHealth {
    /// The module.
    pub module: &'static str,
    /// `up`, `down`, or `offline` (taken offline by an operator).
    pub status: &'static str,
    /// Newest applied migration of the module's own schema.
    pub schema_version: Option<i64>,
    /// Newest applied migration of the kernel's tables in the module's database.
    pub kernel_schema_version: Option<i64>,
    /// Why it is not up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ModuleHealth {
    fn new(module: &'static str, db: DbHealth) -> ModuleHealth {
        ModuleHealth {
            module,
            status: db.status,
            schema_version: db.schema_version,
            kernel_schema_version: db.kernel_schema_version,
            error: db.error,
        }
    }
}

impl Modules {
    /// True when `data_dir` holds no module database yet (a first start).
    pub fn is_fresh(data_dir: &Path) -> bool {
        !data_dir.join(format!("{}.db", users_api::STREAM)).exists()
    }

    /// Opens (and migrates) every module's database and wires their subscriptions.
    pub async fn open(settings: &Settings) -> anyhow::Result<Modules> {
        let db = settings.database.db_settings();
        let bus = Bus::new(settings.events.bus_capacity);
        let metrics = Metrics::new();
        let users = Users::open(&db, &bus, &metrics)
            .await
            .context("opening the users module")?;
        let subscriptions = Vec::new();
        Ok(Modules {
            inner: Arc::new(Inner {
                users,
                bus,
                metrics,
                subscriptions,
            }),
        })
    }

    /// The users module.
    pub fn users(&self) -> &Users {
        &self.inner.users
    }

    /// The shared metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The in-process bus.
    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    /// Every module's event stream, for the event log.
    pub fn event_logs(&self) -> Vec<Arc<dyn EventSource>> {
        vec![self.inner.users.event_log()]
    }

    /// Every subscription of one module to another's stream.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.inner.subscriptions
    }

    /// Starts every subscription; they stop when `shutdown` is cancelled.
    pub fn start(&self, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
        self.inner
            .subscriptions
            .iter()
            .map(|s| s.spawn(shutdown.clone()))
            .collect()
    }

    /// Each module's status.
    pub async fn health(&self) -> Vec<ModuleHealth> {
        vec![ModuleHealth::new(
            users_api::STREAM,
            self.inner.users.health().await,
        )]
    }

    /// Takes a module offline for a while, or back online (`None`); false for an unknown module.
    pub fn set_offline_for(&self, module: &str, duration: Option<std::time::Duration>) -> bool {
        match module {
            users_api::STREAM => self.inner.users.set_offline_for(duration),
            _ => return false,
        }
        true
    }

    /// Closes every database (after the subscriptions stopped).
    pub async fn close(&self) {
        self.inner.users.close().await;
    }
}
