//! The headline run: set up, drive bookings (and optional reads), let the saga drain, then read
//! back what the server did.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use futures_util::future::try_join_all;
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use kernel::{Synchronous, Timestamp};

use crate::ProcessStats;

use crate::{
    BenchArgs, HISTORY_PASSWORD, Preloaded, VETERAN_EMAIL,
    client::{self, BookingPage, Health, IdOnly, Session, SubscriptionStatus},
    load::{self, Latency, Live, Outcome, Plan},
    server::{ChildServer, run_command},
};

/// Everything measured against Boxoffice.
#[derive(Debug, Serialize)]
pub(crate) struct BoxofficeFigures {
    /// The server measured.
    pub(crate) target: String,
    /// Bookings in the history before the run (`--preload`).
    pub(crate) preloaded: Option<Preloaded>,
    /// Seconds the load ran.
    pub(crate) seconds: f64,
    /// Bookings accepted (202) per second.
    pub(crate) intake_per_sec: f64,
    pub(crate) accepted: u64,
    /// Refused as expected (sold out, show started).
    pub(crate) refused: u64,
    /// Unexpected statuses and transport errors.
    pub(crate) errors: u64,
    /// `POST /api/bookings` latency.
    pub(crate) booking_http: Latency,
    /// Reads mixed into the load (`--read-rate`).
    pub(crate) reads: u64,
    pub(crate) reads_http: Latency,
    /// Placed → confirmed, from the bookings' own timestamps.
    pub(crate) saga: Latency,
    pub(crate) confirmed: u64,
    pub(crate) cancelled: u64,
    pub(crate) still_pending: u64,
    /// Bookings confirmed while the load ran, per second of load.
    pub(crate) confirmed_per_sec: f64,
    /// Bookings settled (confirmed or cancelled) while the load ran, per second of load: equal to
    /// the intake when the saga keeps pace.
    pub(crate) settled_per_sec: f64,
    /// Least-squares slope of the backlog samples, in events per second: about zero when every
    /// consumer keeps pace, positive when a backlog builds.
    pub(crate) backlog_trend_per_sec: f64,
    /// Events committed but not yet handled, summed over subscriptions, sampled each second.
    pub(crate) backlog_samples: Vec<i64>,
    /// The server's resident memory in MB, sampled each second while the load ran (the first
    /// process's, in a split run), and its least-squares trend in MB per minute.
    pub(crate) rss_samples_mb: Vec<f64>,
    pub(crate) rss_trend_mb_per_min: f64,
    /// The reporting subscriptions' lag the moment the load stopped.
    pub(crate) read_model_lag_events: i64,
    pub(crate) read_model_lag_ms: i64,
    /// How long after the load stopped every subscription had caught up.
    pub(crate) drain_ms: u64,
    /// Per subscription: append → handled latency.
    pub(crate) propagation: Vec<PropagationFigures>,
    /// Sequential reads after the load, per page or endpoint.
    pub(crate) read_probe: Vec<ProbeFigures>,
    /// Logins beside the load (`--login-flood`).
    pub(crate) login_flood: Option<LoginFloodFigures>,
    /// Everything the server did over the load and its drain (so the saga's and the read
    /// model's work is in), divided by the bookings accepted: SQLite queries (with
    /// `--count-queries`), and context switches of its live threads (the monolith only; a
    /// thread that exited takes its count with it). Reads, logins and the bench's own polls
    /// count too: without `--read-rate` and `--login-flood` it is the cost of a booking.
    pub(crate) queries_per_booking: Option<f64>,
    pub(crate) context_switches_per_booking: Option<f64>,
    /// The server process at the end (peak RSS, CPU time).
    pub(crate) server: Option<ProcessStats>,
    /// Each module's process at the end, in a split run.
    pub(crate) processes: Vec<ProcessFigures>,
}

/// A flood of logins driven beside the load, for as long as it ran.
#[derive(Debug, Serialize)]
pub(crate) struct LoginFloodFigures {
    /// Clients logging in without pause.
    pub(crate) clients: usize,
    pub(crate) attempts: u64,
    pub(crate) attempts_per_sec: f64,
    /// Answered 204: each one a full password check.
    pub(crate) logged_in: u64,
    /// Answered 503 (every password check taken) or 429 (throttled): refused before hashing.
    pub(crate) refused: u64,
    /// Any other answer, or a transport error.
    pub(crate) errors: u64,
    /// `POST /api/session` latency.
    pub(crate) http: Latency,
}

/// One process of a split run.
#[derive(Debug, Serialize)]
pub(crate) struct ProcessFigures {
    pub(crate) module: &'static str,
    pub(crate) stats: ProcessStats,
}

/// One subscription's propagation latency.
#[derive(Debug, Serialize)]
pub(crate) struct PropagationFigures {
    pub(crate) subscription: String,
    pub(crate) consumer: String,
    pub(crate) handled: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

/// Latency of one read.
#[derive(Debug, Serialize)]
pub(crate) struct ProbeFigures {
    pub(crate) name: &'static str,
    pub(crate) path: String,
    pub(crate) latency: Latency,
}

/// The server under test: a child this run started, one process per module of a split run, or
/// one given with `--url`.
pub(super) struct Target {
    /// Every process's URL; customers are spread over them.
    pub(super) urls: Vec<String>,
    pub(super) admin: Session,
    /// The processes this run started, by the module they host (`boxoffice` for the monolith).
    pub(super) children: Vec<(&'static str, ChildServer)>,
    preloaded: Option<Preloaded>,
    /// The split run's NATS prefix, whose streams go when the run ends.
    nats_prefix: Option<String>,
    _scratch: Option<tempfile::TempDir>,
}

/// Seats of each seated show of a run (eight shows).
const SHOW_SEATS: usize = 10_000;

/// The modules of a split run, each in its own process.
const MODULES: [&str; 4] = ["users", "bookings", "payments", "reporting"];

fn random_password() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// Starts (or, with `--url`, reaches) the server of a monolith run; `serve` adds flags to the
/// embedded server's `serve` command.
pub(super) async fn start_target(
    args: &BenchArgs,
    synchronous: Synchronous,
    serve: &[&str],
) -> anyhow::Result<Target> {
    if let Some(url) = &args.url {
        let url = url.trim_end_matches('/').to_owned();
        let admin = Session::log_in(
            &url,
            args.admin_email.as_deref().unwrap_or_default(),
            args.admin_password.as_deref().unwrap_or_default(),
        )
        .await?;
        return Ok(Target {
            urls: vec![url],
            admin,
            children: Vec::new(),
            preloaded: None,
            nats_prefix: None,
            _scratch: None,
        });
    }
    let (scratch, dir) = match &args.keep_data {
        Some(dir) => {
            if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
                bail!(
                    "--keep-data {} must be a new or empty folder",
                    dir.display()
                );
            }
            std::fs::create_dir_all(dir)?;
            (None, dir.clone())
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("boxoffice-bench-")
                .tempdir()?;
            let dir = t.path().to_path_buf();
            (Some(t), dir)
        }
    };
    // The admin, and any preloaded history, go in before the server starts: the binary's own
    // commands, on the folder the server will use.
    let (email, password) = create_admin(&dir, synchronous).await?;
    let email = email.as_str();
    let preloaded = if args.preload > 0 {
        let n = args.preload.to_string();
        let mut command = vec!["preload", "--bookings", &n, "--admin-email", email];
        if args.json {
            command.push("--quiet");
        }
        let out = run_command(&dir, synchronous, &command, "")
            .await
            .context("preloading the history")?;
        let report = out.lines().last().unwrap_or_default();
        Some(serde_json::from_str::<Preloaded>(report).context("reading the preload's report")?)
    } else {
        None
    };
    if args.keep_data.is_some() {
        // The folder outlives the run; so must a way into it (e.g. `bench --url` against it).
        eprintln!("bench admin of {}: {email} / {password}", dir.display());
    }

    let placing = args.placing_options();
    let mut command = vec!["serve", "--bind", "127.0.0.1:0", "--no-demo"];
    command.extend_from_slice(serve);
    command.extend(placing.iter().map(String::as_str));
    let child = ChildServer::boxoffice(&dir, synchronous, &command, args.workers).await?;
    let admin = Session::log_in(&child.url, email, &password).await?;
    Ok(Target {
        urls: vec![child.url.clone()],
        admin,
        children: vec![("boxoffice", child)],
        preloaded,
        nats_prefix: None,
        _scratch: scratch,
    })
}

/// Makes the bench's admin on the users database in `dir` with the binary's own command, before
/// any server opens the folder; answers its login.
async fn create_admin(
    dir: &std::path::Path,
    synchronous: Synchronous,
) -> anyhow::Result<(String, String)> {
    let email = "bench-admin@boxoffice.local";
    let password = random_password();
    run_command(
        dir,
        synchronous,
        &[
            "users",
            "create-admin",
            "--email",
            email,
            "--name",
            "Bench Admin",
            "--password",
            "-",
        ],
        &format!("{password}\n"),
    )
    .await
    .context("creating the bench admin")?;
    Ok((email.to_owned(), password))
}

/// Starts one process per module on a temporary folder each, carrying events over `--nats`
/// under a prefix of this run's own.
async fn start_split(args: &BenchArgs, synchronous: Synchronous) -> anyhow::Result<Target> {
    let scratch = tempfile::Builder::new()
        .prefix("boxoffice-bench-split-")
        .tempdir()?;
    let dir = scratch.path().to_path_buf();
    let prefix = format!("bench{:08x}", rand::random::<u32>());
    let token = random_password();
    let ports: Vec<u16> = {
        let listeners = (0..MODULES.len())
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<Vec<_>, _>>()?;
        listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<Result<_, _>>()?
    };
    let urls: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let (email, password) = create_admin(&dir.join("users"), synchronous).await?;
    let placing = args.placing_options();
    let mut children = Vec::new();
    for (i, module) in MODULES.iter().enumerate() {
        let remotes: Vec<String> = MODULES
            .iter()
            .zip(&urls)
            .filter(|(m, _)| *m != module)
            .map(|(m, u)| format!("{m}={u}"))
            .collect();
        let remotes = remotes.join(",");
        let bind = format!("127.0.0.1:{}", ports[i]);
        let mut serve = vec!["--bind", &bind, "--no-demo"];
        serve.extend(placing.iter().map(String::as_str));
        let child = ChildServer::module_process(
            &dir.join(module),
            synchronous,
            &[
                "--modules",
                module,
                "--remote",
                &remotes,
                "--nats",
                &args.nats,
                "--nats-prefix",
                &prefix,
            ],
            &serve,
            args.workers,
            &token,
        )
        .await
        .with_context(|| format!("starting the {module} process"))?;
        children.push((*module, child));
    }
    let admin = Session::log_in(&urls[0], &email, &password).await?;
    Ok(Target {
        urls,
        admin,
        children,
        preloaded: None,
        nats_prefix: Some(prefix),
        _scratch: Some(scratch),
    })
}

/// Every bench customer's password.
pub(super) const CUSTOMER_PASSWORD: &str = "bench-password-1";

/// Test card numbers the simulated gateway approves or declines.
pub(super) const CARD_OK: &str = "4242424242424242";
pub(super) const CARD_DECLINED: &str = "4000000000000002";

pub(super) fn card(number: &str) -> serde_json::Value {
    json!({ "type": "card", "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123" })
}

/// Runs the whole Boxoffice measurement.
pub(super) async fn run(
    args: &BenchArgs,
    synchronous: Synchronous,
    split: bool,
) -> anyhow::Result<BoxofficeFigures> {
    let target = if split {
        start_split(args, synchronous).await?
    } else {
        let count: &[&str] = if args.count_queries {
            &["--count-queries"]
        } else {
            &[]
        };
        start_target(args, synchronous, count).await?
    };
    let result = measure(args, &target).await;
    for (_, child) in target.children {
        child.stop().await;
    }
    if let Some(prefix) = target.nats_prefix {
        delete_streams(&args.nats, prefix).await;
    }
    if let Some(dir) = &args.keep_data {
        eprintln!("data kept in {}", dir.display());
    }
    result
}

async fn measure(args: &BenchArgs, target: &Target) -> anyhow::Result<BoxofficeFigures> {
    let base = target.urls[0].as_str();
    say(
        args,
        &format!(
            "setting up {} customers on {}",
            args.users,
            target.urls.join(", ")
        ),
    );
    let run_id = &format!("{:08x}", rand::random::<u32>());
    // Each customer talks to one process, the customers to all of them.
    let emails: Vec<String> = (0..args.users)
        .map(|i| format!("bench-{run_id}-{i}@boxoffice.local"))
        .collect();
    let customers: Vec<Session> = try_join_all(emails.iter().enumerate().map(|(i, email)| {
        let at = &target.urls[i % target.urls.len()];
        Session::customer(at, email, CUSTOMER_PASSWORD)
    }))
    .await?;
    let customer_ids: std::collections::HashSet<Uuid> =
        customers.iter().filter_map(|c| c.user_id).collect();
    let wallet: serde_json::Value = customers[0].get_json("/api/wallet").await?;
    let currency = wallet["currency"].as_str().unwrap_or("EUR").to_owned();
    // Seated shows, booked by best available (the choice and the hold of each seat on the
    // booking's path), unless `--general-admission` asks for the count-only path.
    let venue = if args.general_admission {
        None
    } else {
        let name = format!("Bench Hall {run_id}");
        Some(target.admin.open_venue(&name, SHOW_SEATS).await?)
    };
    let shows: Vec<Uuid> = try_join_all((0..8).map(|i| {
        let title = format!("Bench {run_id} #{i}");
        let currency = &currency;
        let admin = &target.admin;
        async move {
            match venue {
                Some(venue) => admin.seated_show(&title, venue, currency).await,
                None => admin.create_show(&title, 100_000, currency).await,
            }
        }
    }))
    .await?;

    let plan = Plan {
        concurrency: args.concurrency,
        duration: args.duration(),
        max_accepted: args.bookings,
        rate: args.rate,
    };
    let live = Arc::new(Live::default());
    let last_booking: Arc<Vec<Mutex<Option<Uuid>>>> =
        Arc::new((0..customers.len()).map(|_| Mutex::new(None)).collect());
    let customers = Arc::new(customers);
    let shows = Arc::new(shows);
    let request = {
        let customers = customers.clone();
        let shows = shows.clone();
        let last_booking = last_booking.clone();
        let decline_rate = args.decline_rate;
        let card_rate = args.card_rate;
        let read_rate = args.read_rate;
        let admin = target.admin.clone();
        move |worker: usize, i: u64| {
            let admin = admin.clone();
            let customers = customers.clone();
            let shows = shows.clone();
            let last_booking = last_booking.clone();
            async move {
                let who = worker % customers.len();
                let s = &customers[who];
                if read_rate > 0.0 && rand::random::<f64>() < read_rate {
                    let last = *last_booking[who].lock().unwrap_or_else(|e| e.into_inner());
                    // Customers' pages and, one read in five, the admin dashboard.
                    let (who, path) = match (i % 5, last) {
                        (1, Some(id)) => (s, format!("/api/bookings/{id}")),
                        (2, Some(id)) => (s, format!("/bookings/{id}")),
                        (3, _) => (s, "/api/me/summary".to_owned()),
                        (4, _) => (&admin, "/api/dashboard".to_owned()),
                        _ => (s, "/api/shows".to_owned()),
                    };
                    return match who.http.get(format!("{}{path}", who.base)).send().await {
                        Ok(r) if r.status() == StatusCode::OK => {
                            let _ = r.bytes().await;
                            Outcome::Read
                        }
                        _ => Outcome::Error,
                    };
                }
                let show = shows[(worker + i as usize) % shows.len()];
                let body = booking_body(show, decline_rate, card_rate);
                match s
                    .http
                    .post(format!("{}/api/bookings", s.base))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == StatusCode::ACCEPTED => {
                        if let Ok(b) = r.json::<IdOnly>().await {
                            *last_booking[who].lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(b.id);
                        }
                        Outcome::Accepted
                    }
                    Ok(r) if r.status() == StatusCode::CONFLICT => Outcome::Refused,
                    _ => Outcome::Error,
                }
            }
        }
    };

    // Sample the backlog and the server's memory once a second while the load runs.
    let sampling = Arc::new(Mutex::new(Vec::new()));
    let rss_sampling = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let admin = target.admin.clone();
        let samples = sampling.clone();
        let rss = rss_sampling.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(s) = admin
                    .get_json::<Vec<SubscriptionStatus>>("/api/admin/subscriptions")
                    .await
                {
                    samples
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(client::backlog(&s));
                }
                if let Ok(Health {
                    process: Some(p), ..
                }) = admin.get_json::<Health>("/health").await
                {
                    let mb = (p.rss_bytes as f64 / 1e5).round() / 10.0;
                    rss.lock().unwrap_or_else(|e| e.into_inner()).push(mb);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };

    let switches = || match target.children.as_slice() {
        [(_, only)] => only.context_switches(),
        _ => None,
    };
    let queries_before = target.admin.queries_counted().await.ok().flatten();
    let switches_before = switches();
    let started_at = Timestamp::now();
    let bar = (!args.json).then(|| load::progress("boxoffice", plan, live.clone()));
    let flood_live = Arc::new(Live::default());
    let flood = (args.login_flood > 0).then(|| {
        let plan = Plan {
            concurrency: args.login_flood,
            max_accepted: None,
            rate: None,
            ..plan
        };
        tokio::spawn(load::drive(
            plan,
            flood_live.clone(),
            login_flood(&target.urls, emails),
        ))
    });
    let run = load::drive(plan, live, request).await;
    // The flood lasts as long as the load (which `--bookings` may end early).
    flood_live.stop();
    let login_flood = match flood {
        Some(task) => {
            let r = task.await.context("the login flood")?;
            Some(LoginFloodFigures {
                clients: args.login_flood,
                attempts: r.accepted + r.refused + r.errors,
                attempts_per_sec: r.per_sec(r.accepted + r.refused + r.errors),
                logged_in: r.accepted,
                refused: r.refused,
                errors: r.errors,
                http: Latency::of(&r.writes),
            })
        }
        None => None,
    };
    let ended_at = Timestamp::now();
    sampler.abort();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    // The read model's lag the moment intake stops, then how long the backlog takes to drain.
    let at_stop: Vec<SubscriptionStatus> =
        target.admin.get_json("/api/admin/subscriptions").await?;
    let reporting: Vec<&SubscriptionStatus> = at_stop
        .iter()
        .filter(|s| s.consumer == reporting_api::STREAM)
        .collect();
    let read_model_lag_events = reporting.iter().map(|s| s.lag.max(0)).sum();
    let read_model_lag_ms = reporting.iter().map(|s| s.lag_ms).max().unwrap_or(0);
    let drain_started = Instant::now();
    let final_statuses = drain(&target.admin).await?;
    let drain_ms = drain_started.elapsed().as_millis() as u64;
    let per_booking = |before: Option<u64>, after: Option<u64>| match (before, after) {
        (Some(b), Some(a)) if run.accepted > 0 => {
            Some(a.saturating_sub(b) as f64 / run.accepted as f64)
        }
        _ => None,
    };
    let queries_per_booking = per_booking(
        queries_before,
        target.admin.queries_counted().await.ok().flatten(),
    );
    let context_switches_per_booking = per_booking(switches_before, switches());

    say(args, "reading back the bookings");
    let mut saga = load::histogram();
    let (mut confirmed, mut cancelled, mut pending) = (0u64, 0u64, 0u64);
    // Settled while the load ran, for a pace measured over the same window as the intake.
    let (mut confirmed_in_window, mut settled_in_window) = (0u64, 0u64);
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!(
            "/api/bookings?limit=200&from={}",
            form_urlencoded::byte_serialize(started_at.to_string().as_bytes()).collect::<String>()
        );
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: BookingPage = target.admin.get_json(&path).await?;
        // Only this run's customers: on a shared `--url` server others book too.
        for b in page
            .items
            .iter()
            .filter(|b| customer_ids.contains(&b.user_id))
        {
            let in_window = b.updated_at <= ended_at;
            match b.status.as_str() {
                "confirmed" => {
                    confirmed += 1;
                    confirmed_in_window += u64::from(in_window);
                    settled_in_window += u64::from(in_window);
                    let us = b.updated_at.duration_since(b.created_at).as_micros();
                    let _ = saga.record(u64::try_from(us).unwrap_or(u64::MAX).max(1));
                }
                "cancelled" => {
                    cancelled += 1;
                    settled_in_window += u64::from(in_window);
                }
                _ => pending += 1,
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let confirmed_per_sec = run.per_sec(confirmed_in_window);
    let settled_per_sec = run.per_sec(settled_in_window);

    let read_probe = if args.probe > 0 {
        say(args, "probing read latency");
        let booking = last_booking
            .iter()
            .find_map(|b| *b.lock().unwrap_or_else(|e| e.into_inner()));
        probe(&target.admin, &customers[0], booking, shows[0], args.probe).await?
    } else {
        Vec::new()
    };

    let health: Health = target.admin.get_json("/health").await?;
    let (server, processes) = match target.children.as_slice() {
        [(_, only)] => (only.stats().or(health.process), Vec::new()),
        [] => (health.process, Vec::new()),
        many => (
            None,
            many.iter()
                .filter_map(|(module, child)| {
                    child.stats().map(|stats| ProcessFigures { module, stats })
                })
                .collect(),
        ),
    };

    let propagation = final_statuses
        .iter()
        .filter(|s| s.propagation.count > 0)
        .map(|s| PropagationFigures {
            subscription: s.name.clone(),
            consumer: s.consumer.clone(),
            handled: s.handled,
            p50_ms: s.propagation.p50_us as f64 / 1_000.0,
            p99_ms: s.propagation.p99_us as f64 / 1_000.0,
            max_ms: s.propagation.max_us as f64 / 1_000.0,
        })
        .collect();
    let backlog_samples: Vec<i64> = sampling.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let rss_samples_mb: Vec<f64> = rss_sampling
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Ok(BoxofficeFigures {
        target: match target.children.len() {
            0 => base.to_owned(),
            1 => format!("embedded server ({base})"),
            n => format!("{n} processes, one per module ({})", target.urls.join(", ")),
        },
        preloaded: target.preloaded.clone(),
        seconds: run.elapsed.as_secs_f64(),
        intake_per_sec: run.per_sec(run.accepted),
        accepted: run.accepted,
        refused: run.refused,
        errors: run.errors,
        booking_http: Latency::of(&run.writes),
        reads: run.read_count,
        reads_http: Latency::of(&run.reads),
        saga: Latency::of(&saga),
        confirmed,
        cancelled,
        still_pending: pending,
        confirmed_per_sec,
        settled_per_sec,
        backlog_trend_per_sec: slope(&backlog_samples),
        backlog_samples,
        rss_trend_mb_per_min: slope_f(&rss_samples_mb) * 60.0,
        rss_samples_mb,
        read_model_lag_events,
        read_model_lag_ms,
        drain_ms,
        propagation,
        read_probe,
        login_flood,
        queries_per_booking,
        context_switches_per_booking,
        server,
        processes,
    })
}

/// Logins with the right password of the customers' accounts in turn, each from a client of
/// its own that keeps no cookie (so no session a login ends is one the load uses).
fn login_flood(
    urls: &[String],
    emails: Vec<String>,
) -> impl Fn(usize, u64) -> futures_util::future::BoxFuture<'static, Outcome> + Clone + Send + 'static
{
    let urls = Arc::new(urls.to_vec());
    let emails = Arc::new(emails);
    let http = reqwest::Client::new();
    move |worker: usize, i: u64| {
        let (urls, emails, http) = (urls.clone(), emails.clone(), http.clone());
        Box::pin(async move {
            let n = worker.wrapping_add(i as usize);
            let email = &emails[n % emails.len()];
            let url = &urls[(n / emails.len()) % urls.len()];
            let body = json!({ "email": email, "password": CUSTOMER_PASSWORD });
            match http
                .post(format!("{url}/api/session"))
                .json(&body)
                .send()
                .await
            {
                Ok(r) if r.status() == StatusCode::NO_CONTENT => Outcome::Accepted,
                Ok(r)
                    if r.status() == StatusCode::SERVICE_UNAVAILABLE
                        || r.status() == StatusCode::TOO_MANY_REQUESTS =>
                {
                    Outcome::Refused
                }
                _ => Outcome::Error,
            }
        })
    }
}

/// Deletes a split run's streams from the NATS server (the run's data is scratch).
async fn delete_streams(url: &str, prefix: String) {
    let connected = kernel_nats::Nats::connect(
        kernel_nats::NatsConfig {
            url: url.to_owned(),
            prefix,
            client_name: "boxoffice bench cleanup".into(),
        },
        kernel::Clock::system(),
    )
    .await;
    if let Ok(nats) = connected {
        let streams = ["users", "bookings", "payments"];
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while !nats.is_connected() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            nats.delete_streams(&streams).await;
        })
        .await;
    }
}

fn booking_body(show: Uuid, decline_rate: f64, card_rate: f64) -> serde_json::Value {
    let seats = 1 + (rand::random::<u8>() % 2);
    let payment = if rand::random::<f64>() < decline_rate {
        card(CARD_DECLINED)
    } else if rand::random::<f64>() < card_rate {
        card(CARD_OK)
    } else {
        json!({ "type": "wallet" })
    };
    json!({ "show_id": show, "seats": seats, "payment": payment })
}

/// The least-squares slope of samples taken once a second.
fn slope(samples: &[i64]) -> f64 {
    slope_f(&samples.iter().map(|&v| v as f64).collect::<Vec<_>>())
}

/// The least-squares slope of samples taken once a second, per second.
fn slope_f(samples: &[f64]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = samples.iter().sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in samples.iter().enumerate() {
        let dx = x as f64 - mean_x;
        num += dx * (y - mean_y);
        den += dx * dx;
    }
    num / den
}

/// Waits until every subscription has handled everything (twice in a row, 100 ms apart); at
/// most two minutes.
pub(super) async fn drain(admin: &Session) -> anyhow::Result<Vec<SubscriptionStatus>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut clean = 0;
    loop {
        let s: Vec<SubscriptionStatus> = admin.get_json("/api/admin/subscriptions").await?;
        if client::backlog(&s) == 0 {
            clean += 1;
            if clean == 2 {
                return Ok(s);
            }
        } else {
            clean = 0;
        }
        if Instant::now() > deadline {
            bail!(
                "the subscriptions did not catch up within two minutes (backlog {})",
                client::backlog(&s)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sequential GETs of the pages and endpoints whose latency must hold at scale.
async fn probe(
    admin: &Session,
    customer: &Session,
    booking: Option<Uuid>,
    show: Uuid,
    n: usize,
) -> anyhow::Result<Vec<ProbeFigures>> {
    // With a preloaded history, also a customer who has thousands of bookings.
    let veteran = Session::log_in(&admin.base, VETERAN_EMAIL, HISTORY_PASSWORD)
        .await
        .ok();
    let mut targets: Vec<(&'static str, &Session, String)> = vec![
        ("shows list (API)", customer, "/api/shows".into()),
        ("shows page", customer, "/".into()),
        ("show page", customer, format!("/shows/{show}")),
        ("my bookings (API)", customer, "/api/bookings".into()),
        ("all bookings (API)", admin, "/api/bookings".into()),
        ("all bookings page", admin, "/admin/bookings".into()),
        ("feed (API)", admin, "/api/feed".into()),
        ("feed page", admin, "/admin/feed".into()),
        ("dashboard (API)", admin, "/api/dashboard".into()),
        ("dashboard page", admin, "/admin".into()),
    ];
    if let Some(id) = booking {
        targets.insert(4, ("booking page", customer, format!("/bookings/{id}")));
    }
    if let Some(v) = &veteran {
        targets.push(("veteran's bookings (API)", v, "/api/bookings".into()));
        targets.push(("veteran's bookings page", v, "/bookings".into()));
    }
    let mut out = Vec::new();
    for (name, session, path) in targets {
        let mut h = load::histogram();
        for _ in 0..n {
            let t = Instant::now();
            let r = session
                .http
                .get(format!("{}{path}", session.base))
                .send()
                .await
                .with_context(|| format!("GET {path}"))?;
            let status = r.status();
            let _ = r.bytes().await;
            if status != StatusCode::OK {
                bail!("GET {path}: {status}");
            }
            let _ = h.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
        }
        out.push(ProbeFigures {
            name,
            path,
            latency: Latency::of(&h),
        });
    }
    Ok(out)
}

pub(super) fn say(args: &BenchArgs, what: &str) {
    if !args.json {
        eprintln!("… {what}");
    }
}
