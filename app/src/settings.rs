//! Typed settings, one struct per concern. Sources, later ones winning: built-in defaults, an
//! optional TOML file, `BOXOFFICE_*` environment variables, command-line flags.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use kernel::{DbSettings, Synchronous};
use serde::{Deserialize, Serialize};

/// Everything the application can be told.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The HTTP server.
    pub server: ServerSettings,
    /// Module databases.
    pub database: DatabaseSettings,
    /// The event backbone.
    pub events: EventSettings,
    /// Which modules this process hosts, where the others are, and the transport between them.
    pub deployment: DeploymentSettings,
    /// Accounts and logins.
    pub users: UserSettings,
    /// Shows and bookings.
    pub bookings: BookingSettings,
    /// Wallets, payments and the simulated card gateway.
    pub payments: PaymentSettings,
    /// Demo data on a new data folder.
    pub demo: DemoSettings,
    /// Log output.
    pub log: LogSettings,
}

/// The HTTP server.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: String,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// When session cookies carry `Secure`.
    pub secure_cookies: SecureCookies,
    /// Let admins take a module offline from the UI to see failures stay isolated.
    pub allow_fault_injection: bool,
    /// For tests of the real binary only: run on a clock an admin can move forward
    /// (`POST /api/admin/clock`), so deadlines come when a test says instead of in real time.
    pub adjustable_clock: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            workers: 0,
            secure_cookies: SecureCookies::Auto,
            allow_fault_injection: true,
            adjustable_clock: false,
        }
    }
}

/// When cookies are marked `Secure` (sent only over HTTPS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookies {
    /// When the request arrived over TLS (directly or per `X-Forwarded-Proto`/`Forwarded`).
    #[default]
    Auto,
    /// Always (behind a TLS-terminating proxy that does not say so).
    Always,
    /// Never.
    Never,
}

/// Module databases.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Folder with one SQLite file per module.
    pub data_dir: PathBuf,
    /// SQLite `synchronous`: `off`, `normal` or `full`.
    pub synchronous: Synchronous,
    /// How long to wait on a lock held by another process, in milliseconds.
    pub busy_timeout_ms: u64,
    /// Read connections per module.
    pub read_connections: u32,
    /// Milliseconds between the passive checkpoints a connection of its own runs on each
    /// database; 0 leaves checkpoints to SQLite, inside the commit that fills 1,000 pages.
    pub checkpoint_interval_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            data_dir: "./data".into(),
            synchronous: Synchronous::Normal,
            busy_timeout_ms: 5_000,
            read_connections: 4,
            checkpoint_interval_ms: u64::try_from(kernel::CHECKPOINT_EVERY.as_millis())
                .unwrap_or(200),
        }
    }
}

impl DatabaseSettings {
    /// The kernel's view of these settings.
    pub fn db_settings(&self) -> DbSettings {
        let mut s = DbSettings::new(&self.data_dir);
        s.synchronous = self.synchronous;
        s.busy_timeout = Duration::from_millis(self.busy_timeout_ms);
        s.read_connections = self.read_connections.max(1);
        s.checkpoint_every = (self.checkpoint_interval_ms > 0)
            .then(|| Duration::from_millis(self.checkpoint_interval_ms));
        s
    }
}

/// The event backbone.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventSettings {
    /// Events the in-process bus holds for its slowest receiver before it lags (and catches up
    /// from the log).
    pub bus_capacity: usize,
    /// Attempts before a failing event is parked as a dead letter.
    pub max_attempts: u32,
    /// Delay before the first retry, in milliseconds (doubling, with jitter).
    pub first_retry_ms: u64,
    /// How often every subscription reads its producer's log even when the bus is quiet, in ms.
    pub safety_net_ms: u64,
    /// Most events a subscription applies in one transaction.
    pub batch_size: usize,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            bus_capacity: 4096,
            max_attempts: 5,
            first_retry_ms: 50,
            safety_net_ms: 5_000,
            batch_size: 256,
        }
    }
}

impl EventSettings {
    /// The kernel's view of these settings.
    pub fn subscription_config(&self) -> kernel::SubscriptionConfig {
        kernel::SubscriptionConfig {
            batch_size: self.batch_size.max(1),
            safety_net: Duration::from_millis(self.safety_net_ms.max(10)),
            retry: kernel::RetryPolicy {
                max_attempts: self.max_attempts.max(1),
                first_delay: Duration::from_millis(self.first_retry_ms),
                max_delay: Duration::from_secs(5),
            },
            ..kernel::SubscriptionConfig::default()
        }
    }
}

/// One of the four modules, as the deployment settings name it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum ModuleName {
    /// Accounts and sessions.
    Users,
    /// Shows, seats, bookings and the saga.
    Bookings,
    /// Wallets and payments.
    Payments,
    /// The read model.
    Reporting,
}

impl ModuleName {
    /// Every module, in the order they are opened.
    pub const ALL: [ModuleName; 4] = [
        ModuleName::Users,
        ModuleName::Payments,
        ModuleName::Bookings,
        ModuleName::Reporting,
    ];

    /// Its name (its stream's and its database file's).
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleName::Users => users_api::STREAM,
            ModuleName::Bookings => bookings_api::STREAM,
            ModuleName::Payments => payments_api::STREAM,
            ModuleName::Reporting => reporting_api::STREAM,
        }
    }

    /// The module named `name`.
    pub fn parse(name: &str) -> Option<ModuleName> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

impl std::fmt::Display for ModuleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which modules this process hosts and how it reaches the others. With every module hosted
/// (the default) nothing else is needed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeploymentSettings {
    /// The modules this process hosts (it opens only their databases).
    pub modules: Vec<ModuleName>,
    /// Where each module not hosted here is served (`http://host:port`).
    pub remote: BTreeMap<ModuleName, String>,
    /// The NATS server carrying events between processes (`nats://host:port`).
    pub nats_url: Option<String>,
    /// Prefix of this deployment's JetStream streams and subjects: deployments (and test runs)
    /// sharing one NATS server never see each other's events.
    pub nats_prefix: String,
    /// The shared secret of module-to-module calls; without it the internal API refuses all.
    pub service_token: Option<String>,
    /// How long a call to another process's module may take, in milliseconds.
    pub remote_timeout_ms: u64,
}

impl Default for DeploymentSettings {
    fn default() -> Self {
        Self {
            modules: ModuleName::ALL.to_vec(),
            remote: BTreeMap::new(),
            nats_url: None,
            nats_prefix: "boxoffice".into(),
            service_token: None,
            remote_timeout_ms: 5_000,
        }
    }
}

impl DeploymentSettings {
    /// True when `module` is hosted by this process.
    pub fn hosts(&self, module: ModuleName) -> bool {
        self.modules.contains(&module)
    }

    /// True when every module is hosted here: the embedded monolith.
    pub fn is_monolith(&self) -> bool {
        ModuleName::ALL.iter().all(|m| self.hosts(*m))
    }

    /// Checks that the settings describe a process that can run: every module hosted here or
    /// reachable, a transport for events and a service token when some are elsewhere.
    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.modules.is_empty() {
            problems.push("--modules names no module".to_owned());
        }
        for (module, url) in &self.remote {
            if self.hosts(*module) {
                problems.push(format!(
                    "{module} is hosted here (--modules) and elsewhere (--remote {module}={url})"
                ));
            } else if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.len() <= "http://".len()
            {
                problems.push(format!(
                    "--remote {module}={url}: the URL must be http://host:port"
                ));
            }
        }
        if !self.is_monolith() {
            for module in ModuleName::ALL {
                if !self.hosts(module) && !self.remote.contains_key(&module) {
                    problems.push(format!(
                        "{module} is not hosted here: say where it is with --remote {module}=URL \
                         (BOXOFFICE_REMOTE)"
                    ));
                }
            }
            if self.nats_url.as_deref().is_none_or(str::is_empty) {
                problems.push(
                    "a process hosting only some modules needs --nats URL (BOXOFFICE_NATS_URL) \
                     to carry events between processes"
                        .to_owned(),
                );
            }
            if self.service_token.as_deref().is_none_or(|t| t.len() < 16) {
                problems.push(
                    "a process hosting only some modules needs BOXOFFICE_SERVICE_TOKEN, the \
                     shared secret of module-to-module calls (at least 16 characters)"
                        .to_owned(),
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Parses `MODULE=URL`.
    pub fn parse_remote(pair: &str) -> Result<(ModuleName, String), String> {
        let (module, url) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?}: expected MODULE=URL"))?;
        let module = ModuleName::parse(module.trim()).ok_or_else(|| {
            format!("{pair:?}: {module:?} is not a module (users, bookings, payments, reporting)")
        })?;
        Ok((module, url.trim().trim_end_matches('/').to_owned()))
    }
}

/// Accounts and logins: throttling of failed logins, and the password-hashing threads.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserSettings {
    /// Failed logins of one account (within the window) before it is locked; 0: never.
    pub login_account_failures: u32,
    /// Failed logins from one client address (within the window) before it is locked; 0: never.
    pub login_address_failures: u32,
    /// Seconds failed logins are remembered after the last one.
    pub login_window_secs: u64,
    /// Seconds of the first lock; each further failure doubles it.
    pub login_lockout_secs: u64,
    /// The longest lock, in seconds.
    pub login_max_lockout_secs: u64,
    /// Threads hashing passwords: at most this many cores go to logins and sign-ups.
    pub hashing_threads: usize,
    /// Password checks that may wait for a thread; past it a login is refused as busy (503).
    pub hashing_queue: usize,
    /// Milliseconds a login waits for a place in that queue before it is refused as busy.
    pub hashing_wait_ms: u64,
}

impl Default for UserSettings {
    /// The users module's own defaults, in seconds.
    fn default() -> Self {
        let users::UsersConfig {
            throttle,
            hashing_threads,
            hashing_queue,
            hashing_wait,
        } = users::UsersConfig::default();
        Self {
            login_account_failures: throttle.account_failures,
            login_address_failures: throttle.address_failures,
            login_window_secs: throttle.window.as_secs(),
            login_lockout_secs: throttle.lockout.as_secs(),
            login_max_lockout_secs: throttle.max_lockout.as_secs(),
            hashing_threads,
            hashing_queue,
            hashing_wait_ms: u64::try_from(hashing_wait.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

impl UserSettings {
    /// The users module's configuration.
    pub fn users_config(&self) -> users::UsersConfig {
        users::UsersConfig {
            throttle: users::LoginThrottle {
                account_failures: self.login_account_failures,
                address_failures: self.login_address_failures,
                window: Duration::from_secs(self.login_window_secs),
                lockout: Duration::from_secs(self.login_lockout_secs),
                max_lockout: Duration::from_secs(
                    self.login_max_lockout_secs.max(self.login_lockout_secs),
                ),
            },
            hashing_threads: self.hashing_threads,
            hashing_queue: self.hashing_queue,
            hashing_wait: Duration::from_millis(self.hashing_wait_ms),
        }
    }
}

/// Shows and bookings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookingSettings {
    /// Seconds a booking waits for its payment before it is cancelled (fractions allowed).
    pub payment_timeout_secs: f64,
    /// Bookings placed at once; the others wait in line, in the order they came. 0: no line.
    pub placing_width: usize,
    /// Milliseconds a booking waits in that line before it is answered 503 `busy`.
    pub placing_wait_ms: u64,
}

impl Default for BookingSettings {
    fn default() -> Self {
        Self {
            payment_timeout_secs: 30.0,
            placing_width: bookings::BookingsConfig::PLACING.width,
            placing_wait_ms: u64::try_from(bookings::BookingsConfig::PLACING.wait.as_millis())
                .unwrap_or(1000),
        }
    }
}

impl BookingSettings {
    /// The line in front of placing a booking; `None` when its width is 0.
    pub fn placing(&self) -> Option<kernel::GateShape> {
        (self.placing_width > 0).then(|| kernel::GateShape {
            width: self.placing_width,
            wait: Duration::from_millis(self.placing_wait_ms),
        })
    }
}

/// Wallets, payments and the simulated card gateway.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSettings {
    /// The wallets' currency (ISO 4217); wallet payments in another currency are declined.
    pub currency: String,
    /// Seconds after which the simulated gateway settles a charge it did not answer (the
    /// `4000000000003220` test card); 0 means it never does.
    pub gateway_late_answer_secs: f64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            currency: "EUR".into(),
            gateway_late_answer_secs: 120.0,
        }
    }
}

/// A non-negative number of seconds as a duration (`None` for zero, negative or not finite).
pub(crate) fn seconds(value: f64) -> Option<Duration> {
    (value.is_finite() && value > 0.0).then(|| Duration::from_secs_f64(value.min(1e9)))
}

/// Demo data.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoSettings {
    /// Create a demo admin (and demo shows) when the data folder is new.
    pub enabled: bool,
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// Log output.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
    /// Count the queries sent to SQLite (served in `/metrics`); off by default, as counting
    /// costs a little per query.
    pub count_queries: bool,
}

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl Settings {
    /// Reads a TOML settings file; unknown keys are errors, so typos do not pass silently.
    pub fn from_toml_file(path: &std::path::Path) -> anyhow::Result<Settings> {
        use anyhow::Context;
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Settings for tests: port 0, the given data folder, no demo data, quick retries, an
    /// adjustable clock.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Settings {
        let mut s = Settings::default();
        s.server.adjustable_clock = true;
        s.server.bind = "127.0.0.1:0".into();
        s.server.workers = 2;
        s.database.data_dir = data_dir.into();
        s.demo.enabled = false;
        s.events.first_retry_ms = 10;
        s.events.safety_net_ms = 500;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_file_overrides_only_what_it_names() {
        let s: Settings = toml::from_str(
            "[server]\nbind = \"0.0.0.0:9000\"\n[database]\nsynchronous = \"full\"\n",
        )
        .unwrap();
        assert_eq!(s.server.bind, "0.0.0.0:9000");
        assert_eq!(s.database.synchronous, Synchronous::Full);
        assert_eq!(s.database.data_dir, PathBuf::from("./data"));
        assert_eq!(s.events.bus_capacity, 4096);
    }

    #[test]
    fn a_misspelt_key_is_an_error_not_a_silent_default() {
        let err = toml::from_str::<Settings>("[server]\nbnid = \"0.0.0.0:9000\"\n").unwrap_err();
        assert!(err.to_string().contains("bnid"), "{err}");
    }
}
