//! Wiring: every module opened on its own database, and their subscriptions to each other's
//! streams. The only place that knows all modules at once.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use bookings::{Bookings, BookingsConfig};
use kernel::{
    Clock, DbHealth, EventSource, Metrics, ModuleHandle, Platform, Subscription, Timestamp,
};
use payments::{Payments, PaymentsConfig};
use reporting::{Reporting, Sources};
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use users::Users;

use crate::settings::{Settings, seconds};

/// All modules of one running application.
#[derive(Clone)]
pub struct Modules {
    inner: Arc<Inner>,
}

struct Inner {
    users: Users,
    bookings: Bookings,
    payments: Payments,
    reporting: Reporting,
    platform: Platform,
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

    /// Opens (and migrates) every module's database and wires their subscriptions, reading time
    /// from `clock`.
    pub async fn open(settings: &Settings, clock: Clock) -> anyhow::Result<Modules> {
        let platform = Platform::new(
            settings.database.db_settings(),
            settings.events.bus_capacity,
        )
        .with_clock(clock);
        let users = Users::open(&platform)
            .await
            .context("opening the users module")?;
        let payments = Payments::open(
            &platform,
            PaymentsConfig {
                currency: settings.payments.currency.clone(),
                late_answer: seconds(settings.payments.gateway_late_answer_secs),
            },
        )
        .await
        .context("opening the payments module")?;
        let bookings = Bookings::open(
            &platform,
            // Bookings checks customers through the users module's published API.
            Arc::new(users.clone()),
            BookingsConfig {
                payment_timeout: seconds(settings.bookings.payment_timeout_secs)
                    .unwrap_or(Duration::from_secs(30)),
            },
        )
        .await
        .context("opening the bookings module")?;

        let config = settings.events.subscription_config();
        let (users_log, bookings_log, payments_log) = (
            users.handle().event_log(),
            bookings.handle().event_log(),
            payments.handle().event_log(),
        );
        // The read model is fed by events only: it is given the three streams, nothing else.
        let reporting = Reporting::open(
            &platform,
            Sources {
                users: users_log.clone(),
                bookings: bookings_log.clone(),
                payments: payments_log.clone(),
            },
            config,
        )
        .await
        .context("opening the reporting module")?;
        let mut subscriptions = bookings.subscriptions(users_log, payments_log, config);
        // Bookings is the one module that asks payments to take money: its stream carries the
        // payment commands.
        subscriptions.extend(payments.subscriptions(vec![bookings_log], config));
        subscriptions.extend(reporting.subscriptions());
        Ok(Modules {
            inner: Arc::new(Inner {
                users,
                bookings,
                payments,
                reporting,
                platform,
                subscriptions,
            }),
        })
    }

    /// The users module.
    pub fn users(&self) -> &Users {
        &self.inner.users
    }

    /// The bookings module.
    pub fn bookings(&self) -> &Bookings {
        &self.inner.bookings
    }

    /// The payments module.
    pub fn payments(&self) -> &Payments {
        &self.inner.payments
    }

    /// The reporting module.
    pub fn reporting(&self) -> &Reporting {
        &self.inner.reporting
    }

    /// The shared metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.platform.metrics
    }

    /// The in-process bus.
    pub fn bus(&self) -> &kernel::Bus {
        &self.inner.platform.bus
    }

    /// The application's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.platform.clock
    }

    /// The time on the application's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.platform.clock.now()
    }

    fn handles(&self) -> [ModuleHandle; 4] {
        [
            self.inner.users.handle(),
            self.inner.bookings.handle(),
            self.inner.payments.handle(),
            self.inner.reporting.handle(),
        ]
    }

    /// Every module's event stream, for the event log (reporting publishes none).
    pub fn event_logs(&self) -> Vec<Arc<dyn EventSource>> {
        vec![
            self.inner.users.handle().event_log(),
            self.inner.bookings.handle().event_log(),
            self.inner.payments.handle().event_log(),
        ]
    }

    /// Every subscription of one module to another's stream.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.inner.subscriptions
    }

    /// Starts every subscription and background task; they stop when `shutdown` is cancelled.
    pub fn start(&self, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
        let mut tasks: Vec<JoinHandle<()>> = self
            .inner
            .subscriptions
            .iter()
            .map(|s| s.spawn(shutdown.clone()))
            .collect();
        tasks.push(self.inner.bookings.spawn_timekeeper(shutdown.clone()));
        tasks.push(self.inner.payments.spawn_gateway(shutdown.clone()));
        tasks
    }

    /// Each module's status.
    pub async fn health(&self) -> Vec<ModuleHealth> {
        let handles = self.handles();
        let checks = handles
            .iter()
            .map(|h| async move { ModuleHealth::new(h.name(), h.health().await) });
        futures_util::future::join_all(checks).await
    }

    /// Takes a module offline for a while, or back online (`None`); false for an unknown module.
    pub fn set_offline_for(&self, module: &str, duration: Option<Duration>) -> bool {
        match self.handles().into_iter().find(|h| h.name() == module) {
            Some(h) => {
                h.set_offline_for(duration);
                true
            }
            None => false,
        }
    }

    /// Closes every database (after the subscriptions stopped).
    pub async fn close(&self) {
        let handles = self.handles();
        futures_util::future::join_all(handles.iter().map(ModuleHandle::close)).await;
    }
}
