//! Crash safety of the whole binary: the real `boxoffice` process is killed with SIGKILL in the
//! middle of bursts of bookings, restarted, and checked through its API only. Whatever was in
//! flight, in the end every booking is confirmed or cancelled, no wallet is charged twice, no paid
//! booking is left unconfirmed, and no seat leaks.

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

fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn log_in(base: &str, email: &str, password: &str) -> Client {
    let c = client();
    let r = c
        .post(format!("{base}/api/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "login of {email}");
    c
}

async fn get_json(c: &Client, url: String) -> Value {
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
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

/// Every item of a paged list.
async fn all_pages(c: &Client, url: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = format!(
        "{url}{}limit=200",
        if url.contains('?') { "&" } else { "?" }
    );
    loop {
        let page = get_json(c, next.clone()).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                next = format!(
                    "{url}{}limit=200&cursor={cursor}",
                    if url.contains('?') { "&" } else { "?" }
                )
            }
            None => return items,
        }
    }
}

struct Customer {
    email: String,
    deposited: i64,
}

/// Books, and now and then cancels, until told to stop, counting the booking requests the server
/// answered in `answered`; failures are expected (the server dies).
async fn burst(
    base: String,
    email: String,
    shows: Vec<Value>,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
    seed: u64,
) {
    let c = client();
    let _ = c
        .post(format!("{base}/api/session"))
        .json(&json!({"email": email, "password": "correct horse"}))
        .send()
        .await;
    let mut n = seed;
    while !stop.load(Ordering::Relaxed) {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let show = &shows[(n >> 33) as usize % shows.len()];
        let payment = match (n >> 40) % 5 {
            0 | 1 => json!({"type": "wallet"}),
            2 => {
                json!({"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"})
            }
            3 => {
                json!({"type": "card", "number": "4000000000000002", "exp_month": 12, "exp_year": 2031, "cvc": "123"})
            }
            _ => {
                json!({"type": "card", "number": "4000000000003220", "exp_month": 12, "exp_year": 2031, "cvc": "123"})
            }
        };
        let seats = 1 + (n >> 50) % 3;
        let placed_now = c
            .post(format!("{base}/api/bookings"))
            .json(&json!({"show_id": show["id"], "seats": seats, "payment": payment}))
            .send()
            .await;
        let Ok(r) = placed_now else { continue };
        answered.fetch_add(1, Ordering::SeqCst);
        if r.status() == StatusCode::ACCEPTED
            && (n >> 20).is_multiple_of(7)
            && let Ok(b) = r.json::<Value>().await
        {
            // Read it back first (its saga may have moved on meanwhile), then cancel it.
            let url = format!(
                "{base}/api/bookings/{}",
                b["id"].as_str().unwrap_or_default()
            );
            let _ = c.get(&url).send().await;
            let _ = c.post(format!("{url}/cancel")).send().await;
        }
    }
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
                    server.base.clone(),
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
    let bookings = eventually(
        "bookings to settle after the crashes",
        Duration::from_secs(60),
        || async {
            let bookings = all_pages(&admin, &format!("{base}/api/bookings")).await;
            let payments = all_pages(&admin, &format!("{base}/api/payments")).await;
            // Settled: no booking waits for its payment, and no payment waits for the gateway.
            let mut settled = bookings.iter().all(|b| b["status"] != "pending")
                && payments.iter().all(|p| p["status"] != "pending");
            if settled {
                for b in bookings.iter().filter(|b| b["status"] == "cancelled") {
                    let saga = get_json(
                        &admin,
                        format!("{base}/api/bookings/{}/saga", b["id"].as_str().unwrap()),
                    )
                    .await;
                    if !matches!(saga["state"].as_str(), Some("cancelled" | "refunded")) {
                        settled = false;
                        break;
                    }
                }
            }
            settled.then_some(bookings)
        },
    )
    .await;
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
    let payments: Vec<Value> = all_pages(&admin, &format!("{base}/api/payments")).await;
    let mut payment_of: HashMap<String, Value> = HashMap::new();
    for p in &payments {
        let previous = payment_of.insert(p["booking_id"].as_str().unwrap().to_owned(), p.clone());
        assert!(
            previous.is_none(),
            "two payments for booking {}",
            p["booking_id"]
        );
    }

    // Every booking is settled consistently with its payment.
    for b in &bookings {
        let payment = payment_of.get(b["id"].as_str().unwrap());
        let payment_status = payment.map(|p| p["status"].as_str().unwrap());
        match b["status"].as_str().unwrap() {
            "confirmed" => assert_eq!(
                payment_status,
                Some("captured"),
                "a confirmed booking without captured money: {b}"
            ),
            "cancelled" => assert!(
                matches!(
                    payment_status,
                    None | Some("declined" | "refunded" | "voided")
                ),
                "a cancelled booking kept its money: {b} {payment:?}"
            ),
            other => panic!("booking still {other}: {b}"),
        }
    }
    // No seat leaked: each show holds exactly the seats of its confirmed bookings.
    for show in &shows {
        let id = show["id"].as_str().unwrap();
        let now = get_json(&admin, format!("{base}/api/shows/{id}")).await;
        let confirmed: i64 = bookings
            .iter()
            .filter(|b| b["show_id"] == show["id"] && b["status"] == "confirmed")
            .map(|b| b["seats"].as_i64().unwrap())
            .sum();
        assert_eq!(
            now["seats_taken"].as_i64().unwrap(),
            confirmed,
            "seats leaked on show {id}"
        );
    }
    // No wallet charged twice: each balance is its deposits minus its confirmed wallet bookings,
    // and the ledger folds to it.
    for customer in &customers {
        let c = log_in(&base, &customer.email, "correct horse").await;
        let wallet = get_json(&c, format!("{base}/api/wallet")).await;
        let ledger = get_json(&c, format!("{base}/api/wallet/ledger")).await;
        let mine = all_pages(&c, &format!("{base}/api/bookings")).await;
        let spent: i64 = mine
            .iter()
            .filter(|b| b["status"] == "confirmed" && b["payment_method"] == "wallet")
            .map(|b| b["amount_cents"].as_i64().unwrap())
            .sum();
        let balance = wallet["balance_cents"].as_i64().unwrap();
        assert_eq!(
            balance,
            customer.deposited - spent,
            "{}: wallet does not match its bookings",
            customer.email
        );
        let folded: i64 = ledger["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["amount_cents"].as_i64().unwrap())
            .sum();
        assert_eq!(folded, balance);
        let mut net: HashMap<String, i64> = HashMap::new();
        for e in ledger["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["booking_id"].is_string())
        {
            *net.entry(e["booking_id"].as_str().unwrap().to_owned())
                .or_default() += e["amount_cents"].as_i64().unwrap();
        }
        for (booking, amount) in net {
            let b = mine
                .iter()
                .find(|b| b["id"] == booking.as_str())
                .expect("a charged booking exists");
            let expected = if b["status"] == "confirmed" {
                -b["amount_cents"].as_i64().unwrap()
            } else {
                0
            };
            assert_eq!(amount, expected, "booking {booking} was charged {amount}");
        }
    }
}
