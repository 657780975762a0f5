//! Crash safety of the whole binary: the real `boxoffice` process is killed with SIGKILL in the
//! middle of bursts of bookings, restarted, and checked through its API only. Whatever was in
//! flight, in the end every booking is confirmed or cancelled, no wallet is charged twice, no paid
//! booking is left unconfirmed, and no seat leaks.

#[path = "../support/faults.rs"]
mod faults;

use std::{
    collections::HashMap,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use faults::{Customer, all_pages, assert_invariants, burst, client, log_in, settled_bookings};
use kernel_testkit::eventually;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_boxoffice");
const ADMIN: (&str, &str) = ("admin@crash.test", "admin password");

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(dir: &Path) -> Server {
    let port = free_port();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let child = Command::new(BIN)
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--no-demo",
            // Deadlines and the gateway's late answers come when the test moves the clock.
            "--adjustable-clock",
        ])
        .args(["--payment-timeout", "2", "--gateway-late-answer", "3"])
        .env("RUST_LOG", "warn")
        .env("BOXOFFICE_HANDLER_MAX_ATTEMPTS", "20")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the boxoffice binary starts");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let what = format!(
        "the server to come up (see {})",
        dir.join("server.log").display()
    );
    eventually(&what, Duration::from_secs(30), || async {
        let r = reqwest::get(format!("{}/health", server.base)).await.ok()?;
        (r.status() == StatusCode::OK).then_some(())
    })
    .await;
    server
}

/// Moves the server's adjustable clock forward.
async fn advance_clock(admin: &Client, base: &str, seconds: u64) {
    let r = admin
        .post(format!("{base}/api/admin/clock"))
        .json(&json!({"advance_seconds": seconds}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "moving the clock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_bursts_of_bookings_loses_nothing_and_charges_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let created = Command::new(BIN)
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "users",
            "create-admin",
            "--email",
            ADMIN.0,
            "--password",
            ADMIN.1,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "create-admin: {}",
        String::from_utf8_lossy(&created.stderr)
    );

    // Arrange: shows and customers with money (two with very little, to get declines).
    let server = start(dir.path()).await;
    let admin = log_in(&server.base, ADMIN.0, ADMIN.1).await;
    let mut shows = Vec::new();
    for capacity in [12, 20, 40] {
        let body = json!({"title": format!("Show {capacity}"), "venue": "Hall", "starts_at": "2099-01-01T20:00:00Z",
                          "capacity": capacity, "price_cents": 700, "currency": "EUR"});
        let r = admin
            .post(format!("{}/api/shows", server.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        shows.push(r.json::<Value>().await.unwrap());
    }
    let mut customers = Vec::new();
    for i in 0..6 {
        let email = format!("crash{i}@example.com");
        let c = client();
        let r = c
            .post(format!("{}/api/users", server.base))
            .json(&json!({"email": email, "full_name": format!("Crash {i}"), "password": "correct horse"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let c = log_in(&server.base, &email, "correct horse").await;
        let deposited = if i < 2 { 1_000 } else { 20_000 };
        let r = c
            .post(format!("{}/api/wallet/deposits", server.base))
            .json(&json!({"amount_cents": deposited}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        customers.push(Customer { email, deposited });
    }
    // One booking whose card never answers, so the end has a deadline and a late capture to
    // settle whatever the bursts placed.
    let silent = log_in(&server.base, &customers[5].email, "correct horse").await;
    let r = silent
        .post(format!("{}/api/bookings", server.base))
        .json(
            &json!({"show_id": shows[2]["id"], "seats": 1, "payment": {"type": "card",
            "number": "4000000000003220", "exp_month": 12, "exp_year": 2031, "cvc": "123"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    drop(server);

    // Act: bursts killed at random points, five times over.
    let answered = Arc::new(AtomicU64::new(0));
    for round in 0..5u64 {
        let server = start(dir.path()).await;
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                tokio::spawn(burst(
                    vec![server.base.clone()],
                    c.email.clone(),
                    shows.clone(),
                    stop.clone(),
                    answered.clone(),
                    round * 100 + i as u64,
                ))
            })
            .collect();
        // Killed after a different number of answered requests each round: at a point of the
        // work, not of the clock.
        let target = answered.load(Ordering::SeqCst) + 100 + (round * 337) % 400;
        eventually(
            "the bursts to send more bookings",
            Duration::from_secs(60),
            || async { (answered.load(Ordering::SeqCst) >= target).then_some(()) },
        )
        .await;
        drop(server); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
    }

    // Assert, after a last restart and the clock moved past every deadline, then past every late
    // answer of the gateway, so that refunds play out.
    let server = start(dir.path()).await;
    let admin = log_in(&server.base, ADMIN.0, ADMIN.1).await;
    let base = server.base.clone();
    advance_clock(&admin, &base, 31).await;
    eventually(
        "every deadline to pass",
        Duration::from_secs(60),
        || async {
            let bookings = all_pages(&admin, &format!("{base}/api/bookings")).await;
            bookings
                .iter()
                .all(|b| b["status"] != "pending")
                .then_some(())
        },
    )
    .await;
    advance_clock(&admin, &base, 121).await;
    let bookings = settled_bookings(&admin, &base).await;
    assert!(
        bookings.len() >= 10,
        "the bursts placed too few bookings to prove anything: {}",
        bookings.len()
    );
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for b in &bookings {
        let key = format!(
            "{} {}",
            b["status"].as_str().unwrap(),
            b["cancel_reason"].as_str().unwrap_or("")
        );
        *by_status.entry(key).or_default() += 1;
    }
    eprintln!(
        "after 5 SIGKILLs: {} bookings {by_status:?}",
        bookings.len()
    );
    assert_invariants(&admin, &base, &bookings, &shows, &customers).await;
}
