//! Wiring: every module opened on its own database, and their subscriptions to each other's
//! streams. The only place that knows all modules at once.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use bookings::{Bookings, BookingsConfig};
use kernel::{Bus, DbHealth, EventSource, Metrics, Subscription};
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
        let payments = Payments::open(
            &db,
            &bus,
            &metrics,
            PaymentsConfig {
                currency: settings.payments.currency.clone(),
                late_answer: seconds(settings.payments.gateway_late_answer_secs),
            },
        )
        .await
        .context("opening the payments module")?;
        let bookings = Bookings::open(
            &db,
            &bus,
            &metrics,
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
        // The read model is fed by events only: it is given the three streams, nothing else.
        let reporting = Reporting::open(
            &db,
            &bus,
            &metrics,
            Sources {
                users: users.event_log(),
                bookings: bookings.event_log(),
                payments: payments.event_log(),
            },
            config,
        )
        .await
        .context("opening the reporting module")?;
        let mut subscriptions =
            bookings.subscriptions(users.event_log(), payments.event_log(), config);
        subscriptions.extend(payments.subscriptions(bookings.event_log(), config));
        subscriptions.extend(reporting.subscriptions());
        Ok(Modules {
            inner: Arc::new(Inner {
                users,
                bookings,
                payments,
                reporting,
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
        &self.inner.metrics
    }

    /// The in-process bus.
    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    /// Every module's event stream, for the event log.
    pub fn event_logs(&self) -> Vec<Arc<dyn EventSource>> {
        vec![
            self.inner.users.event_log(),
            self.inner.bookings.event_log(),
            self.inner.payments.event_log(),
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
        let (users, bookings, payments, reporting) = tokio::join!(
            self.inner.users.health(),
            self.inner.bookings.health(),
            self.inner.payments.health(),
            self.inner.reporting.health()
        );
        vec![
            ModuleHealth::new(users_api::STREAM, users),
            ModuleHealth::new(bookings_api::STREAM, bookings),
            ModuleHealth::new(payments_api::STREAM, payments),
            ModuleHealth::new(reporting_api::STREAM, reporting),
        ]
    }

    /// Takes a module offline for a while, or back online (`None`); false for an unknown module.
    pub fn set_offline_for(&self, module: &str, duration: Option<Duration>) -> bool {
        match module {
            users_api::STREAM => self.inner.users.set_offline_for(duration),
            bookings_api::STREAM => self.inner.bookings.set_offline_for(duration),
            payments_api::STREAM => self.inner.payments.set_offline_for(duration),
            reporting_api::STREAM => self.inner.reporting.set_offline_for(duration),
            _ => return false,
        }
        true
    }

    /// Closes every database (after the subscriptions stopped).
    pub async fn close(&self) {
        tokio::join!(
            self.inner.users.close(),
            self.inner.bookings.close(),
            self.inner.payments.close(),
            self.inner.reporting.close()
        );
    }
}
