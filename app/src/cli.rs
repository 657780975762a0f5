//! The command line: `serve` (the default), `migrate`, `users create-admin`, and the operator
//! commands. Every setting can also come from a TOML file (`--config`) or a `BOXOFFICE_*`
//! variable; flags win over variables, variables over the file, the file over defaults.

use std::{io::BufRead, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use bench::BenchArgs;
use clap::{Args, Parser, Subcommand};
use kernel::{Clock, Resolution, Synchronous, Trace};
use users::Users;
use users_api::{NewUser, Password, Registration, UsersApi};

use crate::{
    events, floor_server,
    modules::Modules,
    preload,
    settings::{DeploymentSettings, LogFormat, ModuleName, SecureCookies, Settings},
    startup::Application,
    telemetry,
};

/// Boxoffice: a ticket box office built as a modular monolith, one binary, one SQLite file per
/// module.
#[derive(Debug, Parser)]
#[command(name = "boxoffice", version, propagate_version = true, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

const AFTER_HELP: &str = "\
Settings come from, in increasing priority: built-in defaults, the TOML file given with --config
(or BOXOFFICE_CONFIG), BOXOFFICE_* environment variables, and flags. Every setting has all three;
the TOML file's sections are server, database, events, bookings, payments, demo and log, its keys
the settings' names (e.g. [events] batch_size = 256). Logs go to stderr; set RUST_LOG (e.g.
RUST_LOG=debug) to change what is logged.";

#[derive(Debug, Args)]
struct GlobalArgs {
    /// TOML settings file (sections: server, database, events, bookings, payments, demo, log)
    #[arg(long, global = true, env = "BOXOFFICE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder holding one SQLite database per module [default: ./data]
    #[arg(long, global = true, env = "BOXOFFICE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// SQLite synchronous mode: off, normal or full [default: normal]
    #[arg(
        long,
        global = true,
        env = "BOXOFFICE_SYNCHRONOUS",
        value_name = "MODE"
    )]
    synchronous: Option<Synchronous>,
    /// How long a database connection waits for a lock held by another process, in
    /// milliseconds [default: 5000]
    #[arg(
        long,
        global = true,
        env = "BOXOFFICE_BUSY_TIMEOUT_MS",
        value_name = "MS"
    )]
    busy_timeout_ms: Option<u64>,
    /// Read connections per module database [default: 4]
    #[arg(
        long,
        global = true,
        env = "BOXOFFICE_READ_CONNECTIONS",
        value_name = "N"
    )]
    read_connections: Option<u32>,
    /// Milliseconds between the passive WAL checkpoints a connection of their own runs on each
    /// module database; 0 leaves them to SQLite, inside a commit [default: 200]
    #[arg(
        long,
        global = true,
        env = "BOXOFFICE_CHECKPOINT_INTERVAL_MS",
        value_name = "MS"
    )]
    checkpoint_interval_ms: Option<u64>,
    /// Log format [default: text]
    #[arg(long, global = true, env = "BOXOFFICE_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Count the queries sent to SQLite and serve the count in /metrics
    /// (`boxoffice_sqlite_queries_total`); costs a little per query
    #[arg(long, global = true, env = "BOXOFFICE_COUNT_QUERIES")]
    count_queries: bool,
    /// The modules this process hosts, comma-separated [default: all four]
    #[arg(
        long,
        global = true,
        env = "BOXOFFICE_MODULES",
        value_enum,
        value_delimiter = ',',
        value_name = "LIST"
    )]
    modules: Option<Vec<ModuleName>>,
    /// Where a module not hosted here is served, as MODULE=URL (repeatable; the variable takes
    /// comma-separated pairs)
    #[arg(
        long,
        global = true,
        env = "BOXOFFICE_REMOTE",
        value_delimiter = ',',
        value_name = "MODULE=URL",
        value_parser = DeploymentSettings::parse_remote
    )]
    remote: Vec<(ModuleName, String)>,
    /// The NATS server carrying events between processes, e.g. nats://127.0.0.1:4222
    #[arg(long, global = true, env = "BOXOFFICE_NATS_URL", value_name = "URL")]
    nats: Option<String>,
    /// Prefix of this deployment's JetStream streams and subjects [default: boxoffice]
    #[arg(
        long,
        global = true,
        env = "BOXOFFICE_NATS_PREFIX",
        value_name = "PREFIX"
    )]
    nats_prefix: Option<String>,
    /// How long a call to a module in another process may take, in milliseconds
    /// [default: 5000]
    #[arg(
        long,
        global = true,
        env = "BOXOFFICE_REMOTE_TIMEOUT_MS",
        value_name = "MS"
    )]
    remote_timeout_ms: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web UI and the JSON API (the default command)
    Serve(Box<ServeArgs>),
    /// Apply every module's migrations to the data folder, then exit
    Migrate,
    /// Manage user accounts
    #[command(subcommand)]
    Users(UsersCommand),
    /// Inspect, retry or discard events parked as dead letters
    #[command(subcommand)]
    DeadLetters(DeadLettersCommand),
    /// Manage the reporting read model
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Print the module canvas (modules, tables, events, APIs, dependency graph), generated from
    /// the code
    Architecture {
        /// markdown (with a Mermaid graph), mermaid, or json
        #[arg(long, value_enum, default_value_t = CanvasFormat::Markdown)]
        format: CanvasFormat,
    },
    /// Load-test a server (an embedded one on a temporary data folder by default) and measure
    /// the floor beside it
    Bench(Box<BenchArgs>),
    /// The bench's floor: a minimal actix-web handler doing one SQLite insert per request
    #[command(hide = true)]
    FloorServer {
        /// HTTP worker threads; 0 = one per core
        #[arg(long, default_value_t = 0)]
        workers: usize,
    },
    /// The bench's history: place bookings through the modules (saga included) in the data
    /// folder, then print what was done as one JSON line
    #[command(hide = true)]
    Preload {
        /// How many bookings
        #[arg(long)]
        bookings: u64,
        /// The administrator who schedules the history's shows (must exist)
        #[arg(long)]
        admin_email: String,
        /// No progress bar
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum CanvasFormat {
    Markdown,
    Mermaid,
    Json,
}

#[derive(Debug, Subcommand)]
enum ProjectionsCommand {
    /// Drop the read model and rebuild it by replaying every module's event log, with a progress
    /// bar. Works on a stopped server's data folder, or beside a running one (which keeps serving
    /// the old view until the rebuilt one commits).
    Rebuild,
}

#[derive(Debug, Subcommand)]
enum DeadLettersCommand {
    /// List parked dead letters of every module (all of them with --all)
    List {
        /// Include retried and discarded ones
        #[arg(long)]
        all: bool,
    },
    /// Apply a parked event again with its subscription's handler (exactly once)
    Retry {
        /// The consumer module holding it (first column of `list`)
        module: String,
        /// Its id (second column of `list`)
        id: i64,
    },
    /// Resolve a parked event without applying it
    Discard {
        /// The consumer module holding it
        module: String,
        /// Its id
        id: i64,
    },
}

#[derive(Debug, Default, Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "BOXOFFICE_BIND", value_name = "ADDR")]
    bind: Option<String>,
    /// HTTP worker threads; 0 = one per core [default: 0]
    #[arg(long, env = "BOXOFFICE_WORKERS")]
    workers: Option<usize>,
    /// When to mark cookies Secure [default: auto]
    #[arg(long, env = "BOXOFFICE_SECURE_COOKIES", value_enum)]
    secure_cookies: Option<SecureCookies>,
    /// Do not create demo data in a new data folder
    #[arg(long, env = "BOXOFFICE_NO_DEMO")]
    no_demo: bool,
    /// Events the in-process bus buffers per receiver [default: 4096]
    #[arg(long, env = "BOXOFFICE_BUS_CAPACITY")]
    bus_capacity: Option<usize>,
    /// Attempts before a failing event handler parks the event as a dead letter [default: 5]
    #[arg(long, env = "BOXOFFICE_HANDLER_MAX_ATTEMPTS")]
    max_attempts: Option<u32>,
    /// Seconds a booking waits for its payment before it is cancelled [default: 30]
    #[arg(long, env = "BOXOFFICE_PAYMENT_TIMEOUT", value_name = "SECS")]
    payment_timeout: Option<f64>,
    /// Bookings placed at once; the others wait in line, first come first served, and are
    /// answered 503 `busy` after --placing-wait-ms. 0: no line [default: 16]
    #[arg(long, env = "BOXOFFICE_PLACING_WIDTH", value_name = "N")]
    placing_width: Option<usize>,
    /// Milliseconds a booking waits in the line of --placing-width [default: 1000]
    #[arg(long, env = "BOXOFFICE_PLACING_WAIT_MS", value_name = "MS")]
    placing_wait_ms: Option<u64>,
    /// Seconds after which the simulated gateway settles a charge it left unanswered; 0 = never
    /// [default: 120]
    #[arg(long, env = "BOXOFFICE_GATEWAY_LATE_ANSWER", value_name = "SECS")]
    gateway_late_answer: Option<f64>,
    /// Wallet currency, ISO 4217 [default: EUR]
    #[arg(long, env = "BOXOFFICE_CURRENCY")]
    currency: Option<String>,
    /// Let admins take a module offline from the Health page, to see failures stay isolated
    /// [default: true]
    #[arg(long, env = "BOXOFFICE_ALLOW_FAULT_INJECTION", value_name = "BOOL")]
    allow_fault_injection: Option<bool>,
    /// Milliseconds before a failed event is first retried (doubling, with jitter) [default: 50]
    #[arg(long, env = "BOXOFFICE_FIRST_RETRY_MS", value_name = "MS")]
    first_retry_ms: Option<u64>,
    /// How often each subscription reads its producer's log even when the bus is quiet, in
    /// milliseconds [default: 5000]
    #[arg(long, env = "BOXOFFICE_SAFETY_NET_MS", value_name = "MS")]
    safety_net_ms: Option<u64>,
    /// Most events a subscription applies in one transaction [default: 256]
    #[arg(long, env = "BOXOFFICE_BATCH_SIZE", value_name = "N")]
    batch_size: Option<usize>,
    /// Failed logins of one account before it is locked for a while; 0 = never [default: 5]
    #[arg(long, env = "BOXOFFICE_LOGIN_ACCOUNT_FAILURES", value_name = "N")]
    login_account_failures: Option<u32>,
    /// Failed logins from one client address before it is locked for a while; 0 = never
    /// [default: 20]
    #[arg(long, env = "BOXOFFICE_LOGIN_ADDRESS_FAILURES", value_name = "N")]
    login_address_failures: Option<u32>,
    /// Seconds failed logins are remembered after the last one [default: 900]
    #[arg(long, env = "BOXOFFICE_LOGIN_WINDOW", value_name = "SECS")]
    login_window: Option<u64>,
    /// Seconds of the first login lock, doubling with every further failure [default: 2]
    #[arg(long, env = "BOXOFFICE_LOGIN_LOCKOUT", value_name = "SECS")]
    login_lockout: Option<u64>,
    /// The longest login lock, in seconds [default: 900]
    #[arg(long, env = "BOXOFFICE_LOGIN_MAX_LOCKOUT", value_name = "SECS")]
    login_max_lockout: Option<u64>,
    /// Threads hashing passwords: at most this many cores go to logins and sign-ups [default: 1]
    #[arg(long, env = "BOXOFFICE_HASHING_THREADS", value_name = "N")]
    hashing_threads: Option<usize>,
    /// Password checks that may wait for a hashing thread; past it a login is refused as busy
    /// [default: 32]
    #[arg(long, env = "BOXOFFICE_HASHING_QUEUE", value_name = "N")]
    hashing_queue: Option<usize>,
    /// Milliseconds a login waits for a place in that queue before it is refused as busy
    /// [default: 1000]
    #[arg(long, env = "BOXOFFICE_HASHING_WAIT_MS", value_name = "MS")]
    hashing_wait_ms: Option<u64>,
    /// For tests of the real binary: run on a clock an admin moves forward with
    /// `POST /api/admin/clock`, so deadlines come when the test says. Never in production.
    #[arg(long, env = "BOXOFFICE_ADJUSTABLE_CLOCK")]
    adjustable_clock: bool,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create an administrator, or reset an existing administrator's password.
    /// Works on a stopped server's data folder.
    CreateAdmin {
        /// Login email
        #[arg(long)]
        email: String,
        /// Password; `-` reads it from the first line of standard input
        #[arg(long)]
        password: String,
        /// Full name
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
}

impl Cli {
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut s = match &self.global.config {
            Some(path) => Settings::from_toml_file(path)?,
            None => Settings::default(),
        };
        if let Some(d) = &self.global.data_dir {
            s.database.data_dir = d.clone();
        }
        if let Some(m) = self.global.synchronous {
            s.database.synchronous = m;
        }
        if let Some(t) = self.global.busy_timeout_ms {
            s.database.busy_timeout_ms = t;
        }
        if let Some(ms) = self.global.checkpoint_interval_ms {
            s.database.checkpoint_interval_ms = ms;
        }
        if let Some(n) = self.global.read_connections {
            s.database.read_connections = n;
        }
        if let Some(f) = self.global.log_format {
            s.log.format = f;
        }
        if self.global.count_queries {
            s.log.count_queries = true;
        }
        if let Some(m) = &self.global.modules {
            s.deployment.modules = m.clone();
        }
        if !self.global.remote.is_empty() {
            s.deployment.remote = self.global.remote.iter().cloned().collect();
        }
        if let Some(url) = &self.global.nats {
            s.deployment.nats_url = Some(url.clone());
        }
        if let Some(p) = &self.global.nats_prefix {
            s.deployment.nats_prefix = p.clone();
        }
        if let Some(ms) = self.global.remote_timeout_ms {
            s.deployment.remote_timeout_ms = ms;
        }
        // A secret is not a flag (it would show in `ps`): the variable or the TOML file.
        if let Ok(token) = std::env::var("BOXOFFICE_SERVICE_TOKEN")
            && !token.is_empty()
        {
            s.deployment.service_token = Some(token);
        }
        if let Some(Command::Serve(a)) = &self.command {
            a.apply(&mut s);
        }
        Ok(s)
    }
}

impl ServeArgs {
    fn apply(&self, s: &mut Settings) {
        if let Some(b) = &self.bind {
            s.server.bind = b.clone();
        }
        if let Some(w) = self.workers {
            s.server.workers = w;
        }
        if let Some(c) = self.secure_cookies {
            s.server.secure_cookies = c;
        }
        if self.no_demo {
            s.demo.enabled = false;
        }
        if let Some(c) = self.bus_capacity {
            s.events.bus_capacity = c;
        }
        if let Some(m) = self.max_attempts {
            s.events.max_attempts = m;
        }
        if let Some(t) = self.payment_timeout {
            s.bookings.payment_timeout_secs = t;
        }
        if let Some(w) = self.placing_width {
            s.bookings.placing_width = w;
        }
        if let Some(w) = self.placing_wait_ms {
            s.bookings.placing_wait_ms = w;
        }
        if let Some(t) = self.gateway_late_answer {
            s.payments.gateway_late_answer_secs = t;
        }
        if let Some(c) = &self.currency {
            s.payments.currency = c.to_ascii_uppercase();
        }
        if let Some(a) = self.allow_fault_injection {
            s.server.allow_fault_injection = a;
        }
        if let Some(ms) = self.first_retry_ms {
            s.events.first_retry_ms = ms;
        }
        if let Some(ms) = self.safety_net_ms {
            s.events.safety_net_ms = ms;
        }
        if let Some(n) = self.batch_size {
            s.events.batch_size = n;
        }
        if let Some(n) = self.login_account_failures {
            s.users.login_account_failures = n;
        }
        if let Some(n) = self.login_address_failures {
            s.users.login_address_failures = n;
        }
        if let Some(t) = self.login_window {
            s.users.login_window_secs = t;
        }
        if let Some(t) = self.login_lockout {
            s.users.login_lockout_secs = t;
        }
        if let Some(t) = self.login_max_lockout {
            s.users.login_max_lockout_secs = t;
        }
        if let Some(n) = self.hashing_threads {
            s.users.hashing_threads = n;
        }
        if let Some(n) = self.hashing_queue {
            s.users.hashing_queue = n;
        }
        if let Some(ms) = self.hashing_wait_ms {
            s.users.hashing_wait_ms = ms;
        }
        if self.adjustable_clock {
            s.server.adjustable_clock = true;
        }
    }
}

/// Parses the command line, runs the command and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match cli.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    // The bench's own output is its report; its in-process module work logs only warnings.
    let quiet = matches!(cli.command, Some(Command::Bench(_)));
    telemetry::init_tracing(settings.log.format, quiet, settings.log.count_queries);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(
        cli.command.unwrap_or(Command::Serve(Box::default())),
        settings,
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => serve(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::Users(UsersCommand::CreateAdmin {
            email,
            password,
            name,
        }) => create_admin(settings, email, password, name).await,
        Command::DeadLetters(command) => dead_letters(settings, command).await,
        Command::Projections(ProjectionsCommand::Rebuild) => rebuild_projections(settings).await,
        Command::Architecture { format } => {
            let canvas = crate::architecture::Canvas::current();
            match format {
                CanvasFormat::Markdown => print!("{}", canvas.markdown()),
                CanvasFormat::Mermaid => print!("{}", canvas.mermaid()),
                CanvasFormat::Json => println!("{}", serde_json::to_string_pretty(&canvas)?),
            }
            Ok(())
        }
        Command::Bench(args) => bench::run(*args, settings.database.synchronous).await,
        Command::FloorServer { workers } => floor_server::serve(settings, workers).await,
        Command::Preload {
            bookings,
            admin_email,
            quiet,
        } => preload_history(settings, bookings, &admin_email, !quiet).await,
    }
}

async fn preload_history(
    settings: Settings,
    bookings: u64,
    admin_email: &str,
    show_progress: bool,
) -> anyhow::Result<()> {
    if !settings.deployment.is_monolith() {
        bail!("preload fills a data folder of the embedded monolith (every module hosted)");
    }
    let modules = Modules::open(&settings, Clock::system()).await?;
    let result = async {
        let admin = modules
            .users()
            .find_by_email(admin_email)
            .await?
            .filter(|u| u.role == users_api::Role::Admin)
            .with_context(|| format!("no administrator {admin_email} in this data folder"))?;
        preload::run(&modules, &admin, bookings, show_progress).await
    }
    .await;
    modules.close().await;
    println!("{}", serde_json::to_string(&result?)?);
    Ok(())
}

async fn rebuild_projections(settings: Settings) -> anyhow::Result<()> {
    let modules = Modules::open(&settings, Clock::system()).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} replaying events [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let Some(reporting) = modules.hosted_reporting() else {
        modules.close().await;
        bail!("this process does not host the reporting module (--modules)");
    };
    let result = reporting
        .rebuild_now(|status| {
            bar.set_length(status.total);
            bar.set_position(status.processed);
        })
        .await;
    bar.finish_and_clear();
    modules.close().await;
    let status = result?;
    println!(
        "Rebuilt the read model from {} events in {:.1?}.",
        status.processed,
        started.elapsed()
    );
    Ok(())
}

async fn dead_letters(settings: Settings, command: DeadLettersCommand) -> anyhow::Result<()> {
    let modules = Modules::open(&settings, Clock::system()).await?;
    let actor = format!(
        "cli {}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    );
    let result = match command {
        DeadLettersCommand::List { all } => {
            events::dead_letters(&modules, all).await.map(|letters| {
                if letters.is_empty() {
                    println!("No dead letters.");
                }
                for d in letters {
                    let module = d
                        .subscription
                        .split('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    println!(
                        "{module:<10} {:>5}  {:<9} {:<22} {}#{:<6} attempts {:<3} {}  {}",
                        d.id,
                        d.status,
                        d.subscription,
                        d.envelope.event_type,
                        d.envelope.seq,
                        d.attempts,
                        d.parked_at,
                        d.error
                    );
                }
            })
        }
        DeadLettersCommand::Retry { module, id } => {
            events::resolve_dead_letter(&modules, &module, id, Resolution::Retry, &actor)
                .await
                .map(|o| println!("{o:?}"))
        }
        DeadLettersCommand::Discard { module, id } => {
            events::resolve_dead_letter(&modules, &module, id, Resolution::Discard, &actor)
                .await
                .map(|o| println!("{o:?}"))
        }
    };
    modules.close().await;
    result.map_err(Into::into)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let data_dir = settings.database.data_dir.clone();
    let app = Application::build(settings).await?;
    println!(
        "Boxoffice is serving http://{}  (data in {})",
        app.address(),
        data_dir.display()
    );
    app.run_until_stopped().await
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let modules = Modules::open(&settings, Clock::system()).await?;
    for m in modules.health().await {
        println!(
            "{:<10} schema version {}  (kernel {})",
            m.module,
            m.schema_version.map_or("-".into(), |v| v.to_string()),
            m.kernel_schema_version
                .map_or("-".into(), |v| v.to_string()),
        );
    }
    modules.close().await;
    Ok(())
}

async fn create_admin(
    settings: Settings,
    email: String,
    password: String,
    name: String,
) -> anyhow::Result<()> {
    let password = if password == "-" {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        password
    };
    // Only the users module's database is needed: this runs on the data folder of whichever
    // process hosts users.
    let platform = kernel::Platform::new(settings.database.db_settings(), 16);
    let users = Users::open_with(&platform, settings.users.users_config()).await?;
    let close = || async { users.handle().close().await };
    // Looked up in the spelling addresses are stored in.
    let email = users_api::Email::parse(&email).map_or(email, |e| e.as_str().to_owned());
    let result = match users.find_by_email(&email).await? {
        Some(existing) if existing.role == users_api::Role::Admin => {
            let password = Password::parse(&password)
                .map_err(|m| anyhow::anyhow!("invalid input: password: {m}"))?;
            users.reset_password(existing.id, password).await.map(|()| {
                println!(
                    "Reset the password of admin {} ({}); their sessions were ended.",
                    existing.email, existing.id
                );
            })
        }
        Some(existing) => {
            close().await;
            bail!(
                "{} is a customer account; choose another email for the admin",
                existing.email
            )
        }
        None => {
            let registration = Registration::try_from(NewUser {
                email,
                full_name: name,
                password,
                ..NewUser::default()
            });
            match registration {
                Err(errors) => {
                    close().await;
                    bail!("invalid input: {errors}")
                }
                Ok(r) => users
                    .create_admin(Trace::new_root(), r)
                    .await
                    .map(|u| println!("Created admin {} ({}).", u.email, u.id)),
            }
        }
    };
    close().await;
    result.map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_override_the_defaults_and_serve_is_the_default_command() {
        let cli = Cli::parse_from([
            "boxoffice",
            "--data-dir",
            "/tmp/x",
            "serve",
            "--bind",
            "0.0.0.0:1",
            "--no-demo",
        ]);
        let s = cli.settings().unwrap();
        assert_eq!(s.database.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.server.bind, "0.0.0.0:1");
        assert!(!s.demo.enabled);
        let bare = Cli::parse_from(["boxoffice"]);
        assert!(bare.command.is_none());
    }

    #[test]
    fn every_setting_can_be_given_as_a_flag() {
        let cli = Cli::parse_from([
            "boxoffice",
            "--busy-timeout-ms",
            "7",
            "--read-connections",
            "2",
            "serve",
            "--allow-fault-injection",
            "false",
            "--first-retry-ms",
            "11",
            "--safety-net-ms",
            "12",
            "--batch-size",
            "13",
            "--bus-capacity",
            "14",
            "--max-attempts",
            "3",
            "--payment-timeout",
            "9",
            "--gateway-late-answer",
            "8",
            "--currency",
            "usd",
            "--workers",
            "1",
            "--login-account-failures",
            "4",
            "--login-address-failures",
            "6",
            "--login-window",
            "60",
            "--login-lockout",
            "3",
            "--login-max-lockout",
            "30",
            "--hashing-threads",
            "2",
            "--hashing-queue",
            "5",
            "--hashing-wait-ms",
            "250",
        ]);
        let s = cli.settings().unwrap();
        assert_eq!(
            (s.database.busy_timeout_ms, s.database.read_connections),
            (7, 2)
        );
        assert!(!s.server.allow_fault_injection);
        assert_eq!(
            (
                s.events.first_retry_ms,
                s.events.safety_net_ms,
                s.events.batch_size,
                s.events.bus_capacity,
                s.events.max_attempts
            ),
            (11, 12, 13, 14, 3)
        );
        assert_eq!(s.bookings.payment_timeout_secs, 9.0);
        assert_eq!(s.payments.gateway_late_answer_secs, 8.0);
        assert_eq!(s.payments.currency, "USD");
        assert_eq!(s.server.workers, 1);
        let u = &s.users;
        assert_eq!(
            (
                u.login_account_failures,
                u.login_address_failures,
                u.login_window_secs,
                u.login_lockout_secs,
                u.login_max_lockout_secs,
                u.hashing_threads,
                u.hashing_queue,
                u.hashing_wait_ms
            ),
            (4, 6, 60, 3, 30, 2, 5, 250)
        );
    }
}
