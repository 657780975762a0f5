//! `boxoffice bench`: the built-in load generator, a crate of its own that the `boxoffice`
//! binary runs as its `bench` command.
//!
//! It starts a server of its own (the binary that runs it, `serve`, on a temporary data folder)
//! or targets one with `--url`, sets up customers with funded wallets and shows, drives the
//! booking workflow over HTTP, and reports intake, HTTP latency, the saga's placed→confirmed
//! latency, event propagation per consumer, the read model's lag, read latencies and the server's
//! footprint. Beside it, the floor: one-row SQLite commits opened like a module database, and a
//! minimal actix-web handler doing one insert per request, driven by the same generator.
//!
//! It deliberately knows no module: it speaks HTTP to the servers and runs the binary's own
//! commands (`users create-admin`, `preload`, `floor-server`) as child processes, so every figure
//! is a real process's.

mod client;
mod floor;
mod load;
mod onsale;
mod process;
mod report;
mod server;
mod workload;

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::Args;
use kernel::Synchronous;
use serde::{Deserialize, Serialize};

pub use floor::{FLOOR_FILE, Floor};
pub use process::ProcessStats;

/// The first history customer of a `--preload`: with `--preload N`, about N / 500 bookings of
/// their own (the bench reads their list to see that a long history stays fast).
pub const VETERAN_EMAIL: &str = "history-0@boxoffice.local";
/// Every history customer's password.
pub const HISTORY_PASSWORD: &str = "history-password-1";

/// What `boxoffice preload` put into a data folder, as it prints it (JSON) for the bench.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Preloaded {
    /// Bookings placed, each through the whole saga.
    pub bookings: u64,
    /// History customers.
    pub customers: usize,
    /// Shows they booked.
    pub shows: usize,
    /// Placing them and letting every subscription catch up.
    pub seconds: f64,
}

/// `boxoffice bench` options.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Target a running server instead of starting one (needs --admin-email and --admin-password)
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// An administrator of the --url server
    #[arg(long, env = "BOXOFFICE_BENCH_ADMIN_EMAIL", requires = "url")]
    admin_email: Option<String>,
    /// That administrator's password
    #[arg(long, env = "BOXOFFICE_BENCH_ADMIN_PASSWORD", requires = "url")]
    admin_password: Option<String>,
    /// Concurrent clients (closed loop: each sends its next request when the last one answered)
    #[arg(long, short = 'c', default_value_t = 32)]
    concurrency: usize,
    /// How long to drive load, in seconds
    #[arg(long, short = 'd', default_value_t = 10.0, value_name = "SECS")]
    duration: f64,
    /// Stop after this many accepted bookings (whichever of this and --duration comes first)
    #[arg(long, short = 'n')]
    bookings: Option<u64>,
    /// Pace bookings at this many per second instead of as fast as the server answers
    #[arg(long, value_name = "PER_SEC")]
    rate: Option<f64>,
    /// Share of bookings paid with a card the gateway declines (0 to 1)
    #[arg(long, default_value_t = 0.1)]
    decline_rate: f64,
    /// Share of bookings paid by card rather than from the wallet (0 to 1)
    #[arg(long, default_value_t = 0.5)]
    card_rate: f64,
    /// Share of requests that are reads (shows, booking pages, own totals) rather than bookings
    #[arg(long, default_value_t = 0.0)]
    read_rate: f64,
    /// Clients logging in without pause beside the load, each login a full password check (the
    /// right password of one of the bench's customers, so that no throttle spares the work): how
    /// much a flood of logins slows everyone else
    #[arg(long, default_value_t = 0, value_name = "CLIENTS")]
    login_flood: usize,
    /// Customer accounts to spread the load over
    #[arg(long, default_value_t = 32)]
    users: usize,
    /// Requests per endpoint when measuring read latency after the load (0 skips it)
    #[arg(long, default_value_t = 200)]
    probe: usize,
    /// Fill the embedded server's history with this many bookings first (through the modules,
    /// saga included), to measure at scale
    #[arg(long, default_value_t = 0, conflicts_with = "url")]
    preload: u64,
    /// Measure only the floor (raw SQLite commits and the minimal actix handler)
    #[arg(long)]
    baseline: bool,
    /// Skip the floor measurements
    #[arg(long, conflicts_with = "baseline")]
    no_floor: bool,
    /// HTTP worker threads of the embedded server (0 = one per core)
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Keep the embedded server's data folder, under this path, instead of a deleted temporary one
    #[arg(long, value_name = "DIR", conflicts_with = "url")]
    keep_data: Option<PathBuf>,
    /// Print the report as JSON on standard output (progress still goes to standard error)
    #[arg(long)]
    json: bool,
    /// The embedded server's shape: `monolith` (one process), `split` (one process per module,
    /// events over NATS), or `both`, one after the other in one run
    #[arg(long, value_enum, default_value_t = Topology::Monolith, conflicts_with = "url")]
    topology: Topology,
    /// Book general-admission shows by count instead of seated shows by best available
    #[arg(long)]
    general_admission: bool,
    /// Count the server's SQLite queries and report them per booking (costs the server a
    /// little per query, so intake figures are taken without it)
    #[arg(long)]
    count_queries: bool,
    /// What to run: `bookings` (the closed or paced booking load, beside the floor) or `onsale`
    /// (a hot show opening: a crowd asks for the seats of one plan at once)
    #[arg(long, value_enum, default_value_t = Scenario::Bookings)]
    scenario: Scenario,
    /// On sale: the seats of the show's plan
    #[arg(long, default_value_t = 5_000)]
    seats: usize,
    /// On sale: people in line, each asking for 1 to 6 seats
    #[arg(long, default_value_t = 50_000)]
    customers: u64,
    /// On sale: share of people picking their seats on the map (the rest ask for the best
    /// available)
    #[arg(long, default_value_t = 0.5)]
    map_share: f64,
    /// On sale: share of people paying with a card the gateway never answers (their holds
    /// expire and the seats go back on sale)
    #[arg(long, default_value_t = 0.02)]
    silent_rate: f64,
    /// On sale: seconds a booking waits for its payment before its seats return to sale
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    hold_secs: f64,
    /// The embedded server's line in front of placing bookings: bookings placed at once (0: no
    /// line) [default: the server's, 16]
    #[arg(long, value_name = "N", conflicts_with = "url")]
    placing_width: Option<usize>,
    /// Milliseconds a booking waits in that line before it is answered 503 `busy` [default:
    /// the server's, 1000]
    #[arg(long, value_name = "MS", conflicts_with = "url")]
    placing_wait_ms: Option<u64>,
    /// The NATS server (with JetStream) of a split run
    #[arg(
        long,
        env = "BOXOFFICE_BENCH_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats: String,
}

/// What a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Bookings from a closed loop of clients (or at a paced rate), then the floor.
    Bookings,
    /// One show's seats go on sale at once to a crowd.
    Onsale,
}

/// The shape of the server a run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Topology {
    /// One process hosting every module.
    Monolith,
    /// One process per module, events over NATS JetStream, module calls over HTTP.
    Split,
    /// The monolith, then the split, in one run.
    Both,
}

impl BenchArgs {
    fn validate(&self) -> anyhow::Result<()> {
        for (name, v) in [
            ("--decline-rate", self.decline_rate),
            ("--card-rate", self.card_rate),
            ("--read-rate", self.read_rate),
            ("--map-share", self.map_share),
            ("--silent-rate", self.silent_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                bail!("{name} must be between 0 and 1");
            }
        }
        if self.concurrency == 0 || self.concurrency > 4096 {
            bail!("--concurrency must be between 1 and 4096");
        }
        if self.login_flood > 4096 {
            bail!("--login-flood must be at most 4096");
        }
        if self.users == 0 || self.users > 10_000 {
            bail!("--users must be between 1 and 10000");
        }
        if self.duration.is_nan() || self.duration <= 0.0 || self.duration > 86_400.0 {
            bail!("--duration must be between 0 and 86400 seconds");
        }
        if self.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
            bail!("--rate must be positive");
        }
        if self.topology != Topology::Monolith && self.preload > 0 {
            bail!("--preload fills the monolith's data folder: not with --topology split or both");
        }
        if self.scenario == Scenario::Onsale {
            if self.silent_rate + self.decline_rate > 1.0 {
                bail!("--silent-rate and --decline-rate add up to more than 1");
            }
            if self.url.is_some() || self.topology != Topology::Monolith || self.preload > 0 {
                bail!(
                    "--scenario onsale starts its own monolith: not with --url, --topology or --preload"
                );
            }
            if !(1..=40_000).contains(&self.seats) {
                bail!("--seats must be between 1 and 40000");
            }
            if self.customers == 0 || self.customers > 10_000_000 {
                bail!("--customers must be between 1 and 10000000");
            }
            if self.hold_secs.is_nan() || !(0.5..=3_600.0).contains(&self.hold_secs) {
                bail!("--hold-secs must be between 0.5 and 3600");
            }
        }
        if self.url.is_some() && (self.admin_email.is_none() || self.admin_password.is_none()) {
            bail!("--url needs --admin-email and --admin-password (or BOXOFFICE_BENCH_ADMIN_*)");
        }
        Ok(())
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration)
    }

    /// The `serve` options that shape the embedded server's line in front of placing bookings.
    fn placing_options(&self) -> Vec<String> {
        let mut options = Vec::new();
        if let Some(w) = self.placing_width {
            options.extend(["--placing-width".to_owned(), w.to_string()]);
        }
        if let Some(w) = self.placing_wait_ms {
            options.extend(["--placing-wait-ms".to_owned(), w.to_string()]);
        }
        options
    }

    /// The line as the report names it.
    fn placing(&self) -> String {
        let width = self
            .placing_width
            .map_or("the server's default (16)".to_owned(), |w| w.to_string());
        let wait = self
            .placing_wait_ms
            .map_or("the server's default (1000)".to_owned(), |w| w.to_string());
        match self.placing_width {
            Some(0) => "none: every booking placed at once".to_owned(),
            _ => format!("{width} placed at once, the rest wait in line up to {wait} ms"),
        }
    }
}

/// Runs the benchmark and prints its report; child servers use `synchronous`.
pub async fn run(args: BenchArgs, synchronous: Synchronous) -> anyhow::Result<()> {
    args.validate()?;
    server::remember_executable()?;
    let mut report = report::Report::new(&args, synchronous);
    if args.scenario == Scenario::Onsale {
        report.onsale = Some(onsale::run(&args, synchronous).await?);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.table());
        }
        return Ok(());
    }
    if !args.baseline {
        if args.topology != Topology::Split {
            report.boxoffice = Some(workload::run(&args, synchronous, false).await?);
        }
        if args.topology != Topology::Monolith {
            report.split = Some(workload::run(&args, synchronous, true).await?);
        }
    }
    if !args.no_floor {
        report.floor = Some(
            floor::measure(&args, synchronous)
                .await
                .context("measuring the floor")?,
        );
    }
    report.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
