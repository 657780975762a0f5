//! Wiring: every module this process hosts opened on its own database, every other one reached
//! in the process that hosts it, and the subscriptions between them. The only place that knows
//! all modules at once.
//!
//! With every module hosted (the default) this is the embedded monolith: module calls are
//! function calls, events travel by the in-process bus, and nothing else is needed. With some
//! hosted elsewhere, a module here calls them through their `-api` traits implemented by HTTP
//! clients ([`crate::remote`]), reads their streams from NATS JetStream, and relays its own
//! outbox there; the code of every module is the same in both shapes.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::{Context, anyhow};
use bookings::{Bookings, BookingsConfig};
use bookings_api::BookingsApi;
use kernel::{
    Clock, DbHealth, EventSource, LocalModule, Metrics, ModuleHandle, ModuleOps, Platform,
    Subscription, Timestamp,
};
use kernel_nats::{JetStreamLog, Nats, NatsConfig, NatsHealth};
use payments::{Payments, PaymentsConfig};
use payments_api::{PaymentsApi, Wallets};
use reporting::{Reporting, Sources};
use reporting_api::ReportingApi;
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use users::Users;
use users_api::{UserDirectory, UsersApi};

use crate::{
    remote::{
        Remote, bookings::RemoteBookings, payments::RemotePayments, reporting::RemoteReporting,
        users::RemoteUsers,
    },
    settings::{ModuleName, Settings, seconds},
};

/// The modules as `/health` lists them.
const DISPLAY_ORDER: [ModuleName; 4] = [
    ModuleName::Users,
    ModuleName::Bookings,
    ModuleName::Payments,
    ModuleName::Reporting,
];

/// All modules of one running application, hosted here or reached elsewhere.
#[derive(Clone)]
pub struct Modules {
    inner: Arc<Inner>,
}

struct Inner {
    users: Arc<dyn UsersApi>,
    bookings: Arc<dyn BookingsApi>,
    payments: Arc<dyn PaymentsApi>,
    reporting: Arc<dyn ReportingApi>,
    /// Every module's operations, in [`DISPLAY_ORDER`].
    ops: Vec<(ModuleName, Arc<dyn ModuleOps>)>,
    /// The modules hosted here.
    local: Vec<Arc<LocalModule>>,
    /// The reporting module, when hosted here (the CLI rebuilds it in the foreground).
    hosted_reporting: Option<Reporting>,
    hosted_bookings: Option<Bookings>,
    hosted_payments: Option<Payments>,
    /// The three event streams (users, bookings, payments), wherever they are.
    event_logs: Vec<Arc<dyn EventSource>>,
    /// Streams of other processes, followed into this process's bus.
    followed: Vec<Arc<JetStreamLog>>,
    /// The modules served elsewhere.
    remotes: Vec<Remote>,
    nats: Option<Nats>,
    platform: Platform,
}

/// One module's line in `/health`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ModuleHealth {
    /// The module.
    pub module: &'static str,
    /// `up`, `down`, `offline` (taken offline by an operator), or `unreachable` (served by
    /// another process that does not answer).
    pub status: String,
    /// `here`, or the URL of the process that serves it.
    pub served_by: String,
    /// Newest applied migration of the module's own schema.
    pub schema_version: Option<i64>,
    /// Newest applied migration of the kernel's tables in the module's database.
    pub kernel_schema_version: Option<i64>,
    /// Why it is not up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ModuleHealth {
    fn new(module: &'static str, served_by: String, db: DbHealth) -> ModuleHealth {
        ModuleHealth {
            module,
            status: db.status,
            served_by,
            schema_version: db.schema_version,
            kernel_schema_version: db.kernel_schema_version,
            error: db.error,
        }
    }
}

/// How this process is deployed, for `/health`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeploymentHealth {
    /// The modules this process hosts.
    pub hosted: Vec<&'static str>,
    /// The transport between processes (absent in the embedded monolith).
    #[schema(value_type = Option<Object>)]
    pub nats: Option<NatsHealth>,
}

impl DeploymentHealth {
    /// False while NATS is away or a relay or follower is failing (always true in the
    /// embedded monolith, which has no transport).
    pub fn transport_ok(&self) -> bool {
        self.nats.as_ref().is_none_or(|n| {
            n.status == "connected"
                && n.relays.iter().all(|r| r.error.is_none())
                && n.followers.iter().all(|f| f.error.is_none())
        })
    }
}

impl Modules {
    /// True when `data_dir` holds no module database yet (a first start).
    pub fn is_fresh(data_dir: &Path) -> bool {
        !data_dir.join(format!("{}.db", users_api::STREAM)).exists()
    }

    /// Opens (and migrates) the database of every module this process hosts, connects to the
    /// others, and wires the subscriptions, reading time from `clock`.
    pub async fn open(settings: &Settings, clock: Clock) -> anyhow::Result<Modules> {
        let deployment = &settings.deployment;
        deployment
            .check()
            .map_err(|problems| anyhow!("cannot start: {problems}"))?;
        let platform = Platform::new(
            settings.database.db_settings(),
            settings.events.bus_capacity,
        )
        .with_clock(clock.clone());
        let token = deployment.service_token.clone().unwrap_or_default();
        let timeout = Duration::from_millis(deployment.remote_timeout_ms.max(100));
        let remote = |module: ModuleName| -> anyhow::Result<Remote> {
            let url = deployment
                .remote
                .get(&module)
                .with_context(|| format!("no --remote for {module}"))?;
            Remote::new(module, url, &token, timeout)
        };
        let nats = match &deployment.nats_url {
            Some(url) if !url.is_empty() => Some(
                Nats::connect(
                    NatsConfig {
                        url: url.clone(),
                        prefix: deployment.nats_prefix.clone(),
                        client_name: format!(
                            "boxoffice ({})",
                            deployment
                                .modules
                                .iter()
                                .map(|m| m.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                    clock,
                )
                .await?,
            ),
            _ => None,
        };
        let hosts = |m| deployment.hosts(m);
        let mut remotes = Vec::new();

        let hosted_users = if hosts(ModuleName::Users) {
            Some(
                Users::open_with(&platform, settings.users.users_config())
                    .await
                    .context("opening the users module")?,
            )
        } else {
            None
        };
        let users: Arc<dyn UsersApi> = match &hosted_users {
            Some(u) => Arc::new(u.clone()),
            None => {
                let r = remote(ModuleName::Users)?;
                remotes.push(r.clone());
                Arc::new(RemoteUsers(r))
            }
        };
        let hosted_payments = if hosts(ModuleName::Payments) {
            Some(
                Payments::open(
                    &platform,
                    PaymentsConfig {
                        currency: settings.payments.currency.clone(),
                        late_answer: seconds(settings.payments.gateway_late_answer_secs),
                    },
                )
                .await
                .context("opening the payments module")?,
            )
        } else {
            None
        };
        let payments: Arc<dyn PaymentsApi> = match &hosted_payments {
            Some(p) => Arc::new(p.clone()),
            None => {
                let r = remote(ModuleName::Payments)?;
                remotes.push(r.clone());
                Arc::new(RemotePayments::new(r))
            }
        };
        let hosted_bookings = if hosts(ModuleName::Bookings) {
            // Bookings checks customers through the users module's published API.
            let directory: Arc<dyn UserDirectory> = users.clone();
            // And whether a wallet can pay through the payments module's.
            let wallets: Arc<dyn Wallets> = payments.clone();
            Some(
                Bookings::open(
                    &platform,
                    directory,
                    wallets,
                    BookingsConfig {
                        payment_timeout: seconds(settings.bookings.payment_timeout_secs)
                            .unwrap_or(Duration::from_secs(30)),
                        placing: settings.bookings.placing(),
                    },
                )
                .await
                .context("opening the bookings module")?,
            )
        } else {
            None
        };
        let bookings: Arc<dyn BookingsApi> = match &hosted_bookings {
            Some(b) => Arc::new(b.clone()),
            None => {
                let r = remote(ModuleName::Bookings)?;
                remotes.push(r.clone());
                Arc::new(RemoteBookings(r))
            }
        };

        // Each stream: its outbox when the module is here, its JetStream stream when it is not.
        let mut followed = Vec::new();
        let mut stream_of = |module: ModuleName,
                             handle: Option<ModuleHandle>|
         -> anyhow::Result<Arc<dyn EventSource>> {
            match handle {
                Some(h) => Ok(h.event_log()),
                None => {
                    let nats = nats.as_ref().context("no --nats to read streams from")?;
                    let owner: Arc<dyn ModuleOps> = Arc::new(remote(module)?);
                    let log = nats.source(module.as_str(), platform.bus.clone(), owner);
                    followed.push(log.clone());
                    Ok(log)
                }
            }
        };
        let users_log = stream_of(ModuleName::Users, hosted_users.as_ref().map(Users::handle))?;
        let bookings_log = stream_of(
            ModuleName::Bookings,
            hosted_bookings.as_ref().map(Bookings::handle),
        )?;
        let payments_log = stream_of(
            ModuleName::Payments,
            hosted_payments.as_ref().map(Payments::handle),
        )?;

        let config = settings.events.subscription_config();
        let hosted_reporting = if hosts(ModuleName::Reporting) {
            // The read model is fed by events only: it is given the three streams, nothing
            // else.
            Some(
                Reporting::open(
                    &platform,
                    Sources {
                        users: users_log.clone(),
                        bookings: bookings_log.clone(),
                        payments: payments_log.clone(),
                    },
                    config,
                )
                .await
                .context("opening the reporting module")?,
            )
        } else {
            None
        };
        let reporting: Arc<dyn ReportingApi> = match &hosted_reporting {
            Some(r) => Arc::new(r.clone()),
            None => {
                let r = remote(ModuleName::Reporting)?;
                remotes.push(r.clone());
                Arc::new(RemoteReporting(r))
            }
        };

        let mut local = Vec::new();
        if let Some(u) = &hosted_users {
            local.push(Arc::new(LocalModule::new(u.handle(), Vec::new(), true)));
        }
        if let Some(b) = &hosted_bookings {
            let subscriptions = b.subscriptions(users_log.clone(), payments_log.clone(), config);
            local.push(Arc::new(LocalModule::new(b.handle(), subscriptions, true)));
        }
        if let Some(p) = &hosted_payments {
            // Bookings is the one module that asks payments to take money: its stream carries
            // the payment commands.
            let subscriptions = p.subscriptions(vec![bookings_log.clone()], config);
            local.push(Arc::new(LocalModule::new(p.handle(), subscriptions, true)));
        }
        if let Some(r) = &hosted_reporting {
            local.push(Arc::new(LocalModule::new(
                r.handle(),
                r.subscriptions(),
                false,
            )));
        }
        let ops = DISPLAY_ORDER
            .into_iter()
            .map(|module| {
                let found: Option<Arc<dyn ModuleOps>> = local
                    .iter()
                    .find(|l| l.name() == module.as_str())
                    .map(|l| l.clone() as Arc<dyn ModuleOps>)
                    .or_else(|| {
                        remotes
                            .iter()
                            .find(|r| r.module() == module)
                            .map(|r| Arc::new(r.clone()) as Arc<dyn ModuleOps>)
                    });
                found
                    .map(|ops| (module, ops))
                    .with_context(|| format!("{module} is neither hosted nor remote"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Modules {
            inner: Arc::new(Inner {
                users,
                bookings,
                payments,
                reporting,
                ops,
                local,
                hosted_reporting,
                hosted_bookings,
                hosted_payments,
                event_logs: vec![users_log, bookings_log, payments_log],
                followed,
                remotes,
                nats,
                platform,
            }),
        })
    }

    /// The users module.
    pub fn users(&self) -> &dyn UsersApi {
        self.inner.users.as_ref()
    }

    /// The bookings module.
    pub fn bookings(&self) -> &dyn BookingsApi {
        self.inner.bookings.as_ref()
    }

    /// The payments module.
    pub fn payments(&self) -> &dyn PaymentsApi {
        self.inner.payments.as_ref()
    }

    /// The reporting module.
    pub fn reporting(&self) -> &dyn ReportingApi {
        self.inner.reporting.as_ref()
    }

    /// The reporting module when this process hosts it.
    pub fn hosted_reporting(&self) -> Option<&Reporting> {
        self.inner.hosted_reporting.as_ref()
    }

    /// True when this process hosts `module`.
    pub fn hosts(&self, module: ModuleName) -> bool {
        self.inner.local.iter().any(|l| l.name() == module.as_str())
    }

    /// The operations of `module`, wherever it runs.
    pub(crate) fn ops(&self, module: ModuleName) -> &dyn ModuleOps {
        self.inner
            .ops
            .iter()
            .find(|(m, _)| *m == module)
            .map(|(_, ops)| ops.as_ref())
            .expect("every module is hosted or remote")
    }

    /// Every module's operations, in the order `/health` lists them.
    pub(crate) fn all_ops(&self) -> impl Iterator<Item = &dyn ModuleOps> {
        self.inner.ops.iter().map(|(_, ops)| ops.as_ref())
    }

    /// The shared metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.platform.metrics
    }

    /// The in-process bus (carrying the events of other processes' streams too).
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

    /// Every module's event stream, for the event log (reporting publishes none).
    pub fn event_logs(&self) -> Vec<Arc<dyn EventSource>> {
        self.inner.event_logs.clone()
    }

    /// The subscriptions of the modules hosted here.
    pub fn subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.inner
            .local
            .iter()
            .flat_map(|l| l.subscription_list().iter())
    }

    /// Starts every subscription and background task of the modules hosted here, the relays of
    /// their outboxes and the followers of the other processes' streams; they stop when
    /// `shutdown` is cancelled.
    pub fn start(&self, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
        let inner = &self.inner;
        let mut tasks: Vec<JoinHandle<()>> = self
            .subscriptions()
            .map(|s| s.spawn(shutdown.clone()))
            .collect();
        if let Some(b) = &inner.hosted_bookings {
            tasks.push(b.spawn_timekeeper(shutdown.clone()));
        }
        if let Some(p) = &inner.hosted_payments {
            tasks.push(p.spawn_gateway(shutdown.clone()));
        }
        if let Some(nats) = &inner.nats {
            for module in inner
                .local
                .iter()
                .filter(|l| l.name() != reporting_api::STREAM)
            {
                tasks.push(nats.relay(module.handle().clone(), shutdown.clone()));
            }
            for log in &inner.followed {
                tasks.push(nats.follow(log.clone(), shutdown.clone()));
            }
        }
        tasks
    }

    /// Each module's status: its database when hosted here, its process's answer when not.
    pub async fn health(&self) -> Vec<ModuleHealth> {
        let checks = self.inner.ops.iter().map(|(module, ops)| async move {
            let served_by = self
                .inner
                .remotes
                .iter()
                .find(|r| r.module() == *module)
                .map_or_else(|| "here".to_owned(), |r| r.url().to_owned());
            ModuleHealth::new(module.as_str(), served_by, ops.health().await)
        });
        futures_util::future::join_all(checks).await
    }

    /// What this process hosts and how it reaches the rest.
    pub fn deployment(&self) -> DeploymentHealth {
        DeploymentHealth {
            hosted: self.inner.local.iter().map(|l| l.name()).collect(),
            nats: self.inner.nats.as_ref().map(Nats::health),
        }
    }

    /// The transport between processes, when there is one.
    pub fn nats(&self) -> Option<&Nats> {
        self.inner.nats.as_ref()
    }

    /// Takes a module offline for a while, or back online (`None`), wherever it runs; false
    /// for an unknown module.
    pub async fn set_offline_for(
        &self,
        module: &str,
        duration: Option<Duration>,
    ) -> Result<bool, kernel::Error> {
        let Some(module) = ModuleName::parse(module) else {
            return Ok(false);
        };
        self.ops(module).set_offline_for(duration).await?;
        Ok(true)
    }

    /// Closes every database of this process (after the subscriptions stopped).
    pub async fn close(&self) {
        let handles: Vec<_> = self
            .inner
            .local
            .iter()
            .map(|l| l.handle().clone())
            .collect();
        futures_util::future::join_all(handles.iter().map(ModuleHandle::close)).await;
    }
}
