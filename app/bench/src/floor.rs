//! The floor: what this machine allows before any of Boxoffice's work. One-row commits through a
//! module's own write path (a `kernel::ModuleDb`: the same file settings, the single writer,
//! `BEGIN IMMEDIATE`, no outbox row, no subscription), and a minimal actix-web handler that does
//! one such insert per request (`boxoffice floor-server`, which the app serves with this crate's
//! [`Floor`]), in a child process driven by the same load generator as the bookings.
//!
//! The floor lives in its own `floor.db`, which no module owns and nothing but the bench opens.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use kernel::{DbSettings, ModuleDb, Platform, Synchronous, Trace};
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::json;
use sqlx::migrate::Migrator;

use crate::{
    BenchArgs, ProcessStats,
    load::{self, Latency, Live, Outcome, Plan},
    server::ChildServer,
};

/// The floor's file name inside the folder it is given.
pub const FLOOR_FILE: &str = "floor.db";

static SCHEMA: Migrator = sqlx::migrate!("./schema");

/// What each row of the commit loops holds: about a booking request's size.
const ROW_BODY: &str = r#"{"show_id":"00000000-0000-0000-0000-000000000000","seats":2}"#;

/// A scratch database for measuring raw commit throughput.
#[derive(Clone, Debug)]
pub struct Floor {
    db: ModuleDb,
}

impl Floor {
    /// Creates `<settings.data_dir>/floor.db` with one table, opened as a module's database is.
    pub async fn open(settings: &DbSettings) -> Result<Floor, kernel::Error> {
        let platform = Platform::new(settings.clone(), 16);
        let db = ModuleDb::open("floor", &SCHEMA, &platform).await?;
        Ok(Floor { db })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// One transaction (`BEGIN IMMEDIATE`, one `INSERT`, `COMMIT`); returns the row id.
    pub async fn insert(&self, body: &str) -> Result<i64, kernel::Error> {
        let mut tx = self.db.write(Trace::new_root()).await?;
        let now = tx.now();
        let id = sqlx::query_scalar(
            "INSERT INTO floor_rows (created_at, body) VALUES (?, ?) RETURNING id",
        )
        .bind(now)
        .bind(body)
        .fetch_one(tx.conn())
        .await
        .map_err(kernel::Error::db("floor"))?;
        tx.commit().await?;
        Ok(id)
    }

    /// Commits one-row transactions back to back for `duration`; returns how many.
    pub async fn commit_loop(&self, duration: Duration) -> Result<u64, kernel::Error> {
        let started = Instant::now();
        let mut commits = 0;
        while started.elapsed() < duration {
            self.insert(ROW_BODY).await?;
            commits += 1;
        }
        Ok(commits)
    }

    /// Group commit, as a shared transaction would do it: `group` callers' rows in one
    /// transaction, each inside a savepoint of its own (so that one caller's failure could be
    /// rolled back without the others'), back to back for `duration`; returns how many rows.
    pub async fn group_commit_loop(
        &self,
        duration: Duration,
        group: usize,
    ) -> Result<u64, kernel::Error> {
        let started = Instant::now();
        let mut rows = 0;
        while started.elapsed() < duration {
            let mut tx = self.db.write(Trace::new_root()).await?;
            let now = tx.now();
            for _ in 0..group {
                sqlx::query("SAVEPOINT caller")
                    .execute(tx.conn())
                    .await
                    .map_err(kernel::Error::db("floor"))?;
                sqlx::query("INSERT INTO floor_rows (created_at, body) VALUES (?, ?)")
                    .bind(now)
                    .bind(ROW_BODY)
                    .execute(tx.conn())
                    .await
                    .map_err(kernel::Error::db("floor"))?;
                sqlx::query("RELEASE caller")
                    .execute(tx.conn())
                    .await
                    .map_err(kernel::Error::db("floor"))?;
            }
            tx.commit().await?;
            rows += group as u64;
        }
        Ok(rows)
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// Callers sharing one transaction in the group-commit floor.
pub(crate) const GROUP: usize = 16;

/// The floor's figures.
#[derive(Debug, Serialize)]
pub(crate) struct FloorFigures {
    /// Back-to-back one-row transactions on one connection, per second.
    pub(crate) sqlite_commits_per_sec: f64,
    /// Rows per second when [`GROUP`] callers share each transaction, a savepoint each (what
    /// group commit would give the same rows).
    pub(crate) group_commit_rows_per_sec: f64,
    /// Requests per second the minimal handler accepted.
    pub(crate) actix_insert_per_sec: f64,
    pub(crate) actix_insert_http: Latency,
    pub(crate) actix_errors: u64,
    /// The floor server process at the end.
    pub(crate) server: Option<ProcessStats>,
}

/// Measures both floors on a scratch folder.
pub(super) async fn measure(
    args: &BenchArgs,
    synchronous: Synchronous,
) -> anyhow::Result<FloorFigures> {
    let scratch = tempfile::Builder::new()
        .prefix("boxoffice-floor-")
        .tempdir()?;
    let mut db = DbSettings::new(scratch.path().join("sqlite"));
    db.synchronous = synchronous;
    let floor = Floor::open(&db).await?;
    let window = args.duration().min(Duration::from_secs(5));
    if !args.json {
        eprintln!("… floor: one-row SQLite commits for {window:.0?}");
    }
    let commits = floor.commit_loop(window).await?;
    if !args.json {
        eprintln!("… floor: {GROUP} rows per commit, a savepoint each, for {window:.0?}");
    }
    let grouped = floor.group_commit_loop(window, GROUP).await?;
    floor.close().await;
    let sqlite_commits_per_sec = commits as f64 / window.as_secs_f64();
    let group_commit_rows_per_sec = grouped as f64 / window.as_secs_f64();

    let dir = scratch.path().join("actix");
    std::fs::create_dir_all(&dir)?;
    let child = ChildServer::boxoffice(&dir, synchronous, &["floor-server"], args.workers).await?;
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
        group_commit_rows_per_sec,
        actix_insert_per_sec: run.per_sec(run.accepted),
        actix_insert_http: Latency::of(&run.writes),
        actix_errors: run.errors,
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rows_are_committed_to_the_floor_file() {
        let dir = tempfile::tempdir().unwrap();
        let floor = Floor::open(&DbSettings::new(dir.path())).await.unwrap();
        let first = floor.insert("a").await.unwrap();
        let second = floor.insert("b").await.unwrap();
        assert_eq!(second, first + 1);
        assert!(floor.commit_loop(Duration::from_millis(20)).await.unwrap() > 0);
        let grouped = floor
            .group_commit_loop(Duration::from_millis(20), 4)
            .await
            .unwrap();
        assert!(grouped > 0 && grouped % 4 == 0, "{grouped}");
        let third = floor.insert("c").await.unwrap();
        assert!(
            third > second + i64::try_from(grouped).unwrap(),
            "every grouped row committed"
        );
        floor.close().await;
        assert!(dir.path().join(FLOOR_FILE).is_file());
    }
}
