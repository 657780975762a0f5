//! `boxoffice bench`: the built-in load generator.
//!
//! It starts a server of its own (this same binary, `serve`, on a temporary data folder) or
//! targets one with `--url`, sets up customers with funded wallets and shows, drives the booking
//! workflow over HTTP, and reports intake, HTTP latency, the saga's placed→confirmed latency,
//! event propagation per consumer, the read model's lag, read latencies and the server's
//! footprint. Beside it, the floor: one-row SQLite commits with the module pragmas, and a
//! minimal actix-web handler doing one insert per request, driven by the same generator.

mod client;
pub(crate) mod floor;
mod load;
mod preload;
mod report;
mod server;
mod workload;

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::Args;

use crate::settings::Settings;

pub(crate) use floor::serve_floor;

/// `boxoffice bench` options.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
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
}

impl BenchArgs {
    fn validate(&self) -> anyhow::Result<()> {
        for (name, v) in [
            ("--decline-rate", self.decline_rate),
            ("--card-rate", self.card_rate),
            ("--read-rate", self.read_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                bail!("{name} must be between 0 and 1");
            }
        }
        if self.concurrency == 0 || self.concurrency > 4096 {
            bail!("--concurrency must be between 1 and 4096");
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
        if self.url.is_some() && (self.admin_email.is_none() || self.admin_password.is_none()) {
            bail!("--url needs --admin-email and --admin-password (or BOXOFFICE_BENCH_ADMIN_*)");
        }
        Ok(())
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration)
    }
}

/// Runs the benchmark and prints its report.
pub(crate) async fn run(args: BenchArgs, settings: Settings) -> anyhow::Result<()> {
    args.validate()?;
    server::remember_executable()?;
    let mut report = report::Report::new(&args, &settings);
    if !args.baseline {
        report.boxoffice = Some(workload::run(&args, &settings).await?);
    }
    if !args.no_floor {
        report.floor = Some(
            floor::measure(&args, &settings)
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
