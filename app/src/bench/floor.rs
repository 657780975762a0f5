//! The floor: what this machine allows before any of Boxoffice's work. Raw one-row SQLite
//! commits with the module pragmas, and a minimal actix-web handler that does one such insert per
//! request, served by a child process and driven by the same load generator as the bookings.

use std::{sync::Arc, time::Duration};

use actix_web::{App, HttpResponse, HttpServer, web};
use kernel::{DbSettings, Floor};
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::json;

use super::{
    BenchArgs,
    load::{self, Latency, Live, Outcome, Plan},
    server::ChildServer,
};
use crate::{process::ProcessStats, settings::Settings};

/// The floor's figures.
#[derive(Debug, Serialize)]
pub(crate) struct FloorFigures {
    /// Back-to-back one-row transactions on one connection, per second.
    pub(crate) sqlite_commits_per_sec: f64,
    /// Requests per second the minimal handler accepted.
    pub(crate) actix_insert_per_sec: f64,
    pub(crate) actix_insert_http: Latency,
    pub(crate) actix_errors: u64,
    /// The floor server process at the end.
    pub(crate) server: Option<ProcessStats>,
}

/// Measures both floors on a scratch folder.
pub(super) async fn measure(args: &BenchArgs, settings: &Settings) -> anyhow::Result<FloorFigures> {
    let scratch = tempfile::Builder::new()
        .prefix("boxoffice-floor-")
        .tempdir()?;
    let mut db = DbSettings::new(scratch.path().join("sqlite"));
    db.synchronous = settings.database.synchronous;
    let floor = Floor::open(&db).await?;
    let window = args.duration().min(Duration::from_secs(5));
    if !args.json {
        eprintln!("… floor: one-row SQLite commits for {window:.0?}");
    }
    let commits = floor.commit_loop(window).await?;
    floor.close().await;
    let sqlite_commits_per_sec = commits as f64 / window.as_secs_f64();

    let dir = scratch.path().join("actix");
    std::fs::create_dir_all(&dir)?;
    let child = ChildServer::boxoffice(
        &dir,
        settings.database.synchronous,
        &["floor-server"],
        args.workers,
    )
    .await?;
    let plan = Plan {
        concurrency: args.concurrency,
        duration: args.duration(),
        max_accepted: args.bookings,
        rate: args.rate,
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let url: Arc<str> = format!("{}/floor", child.url).into();
    let live = Arc::new(Live::default());
    let bar = (!args.json).then(|| load::progress("floor", plan, live.clone()));
    let run = load::drive(plan, live, move |_, i| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let body = json!({
                "show_id": "0191b5a4-7a3e-7000-8000-000000000000",
                "seats": 1 + i % 2,
                "payment": { "type": "wallet" },
            });
            match http.post(&*url).json(&body).send().await {
                Ok(r) if r.status() == StatusCode::ACCEPTED => {
                    let _ = r.bytes().await;
                    Outcome::Accepted
                }
                _ => Outcome::Error,
            }
        }
    })
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let server = child.stats();
    child.stop().await;
    Ok(FloorFigures {
        sqlite_commits_per_sec,
        actix_insert_per_sec: run.per_sec(run.accepted),
        actix_insert_http: Latency::of(&run.writes),
        actix_errors: run.errors,
        server,
    })
}

async fn insert(floor: web::Data<Floor>, body: web::Bytes) -> HttpResponse {
    let Ok(text) = std::str::from_utf8(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    match floor.insert(text).await {
        Ok(id) => HttpResponse::Accepted().json(json!({ "id": id })),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

/// `boxoffice floor-server`: the minimal handler, on `<data-dir>/floor.db`, until killed.
pub(crate) async fn serve_floor(settings: Settings, workers: usize) -> anyhow::Result<()> {
    let floor = Floor::open(&settings.database.db_settings()).await?;
    let data = web::Data::new(floor);
    let workers = match workers {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/floor", web::post().to(insert))
    })
    .workers(workers)
    .bind("127.0.0.1:0")?;
    let address = server.addrs()[0];
    println!("floor serving http://{address}");
    server.run().await?;
    Ok(())
}
