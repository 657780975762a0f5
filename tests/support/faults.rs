//! What the fault tests share: bursts of bookings sent while processes die, and what must hold
//! after any crash, restart or outage, checked through the public API only: every booking
//! settled consistently with its payment, at most one payment per booking, no seat leaked, no
//! wallet charged twice. Used by the crash test (one process) and the split fault rounds (one
//! process per module), and by the end-to-end suite's read-model checks.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// A customer of the test and what it put in its wallet.
pub(crate) struct Customer {
    pub(crate) email: String,
    pub(crate) deposited: i64,
}

/// A client with its own cookie jar and a timeout.
pub(crate) fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A logged-in client of `email`.
pub(crate) async fn log_in(base: &str, email: &str, password: &str) -> Client {
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

/// `GET url`, asserting 200, as JSON.
pub(crate) async fn get_json(c: &Client, url: String) -> Value {
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

/// Every item of a paged list.
pub(crate) async fn all_pages(c: &Client, url: &str) -> Vec<Value> {
    let sep = if url.contains('?') { "&" } else { "?" };
    let mut items = Vec::new();
    let mut next = format!("{url}{sep}limit=200");
    loop {
        let page = get_json(c, next.clone()).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{url}{sep}limit=200&cursor={cursor}"),
            None => return items,
        }
    }
}

/// Waits until no booking waits for its payment, no payment for the gateway, and every
/// cancelled booking's saga has ended; returns every booking. Says what is still open when it
/// gives up.
pub(crate) async fn settled_bookings(admin: &Client, base: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let bookings = all_pages(admin, &format!("{base}/api/bookings")).await;
        let payments = all_pages(admin, &format!("{base}/api/payments")).await;
        let mut open: Vec<String> = bookings
            .iter()
            .filter(|b| b["status"] == "pending")
            .map(|b| format!("booking {} pending", b["id"]))
            .chain(
                payments
                    .iter()
                    .filter(|p| p["status"] == "pending")
                    .map(|p| format!("payment {} pending", p["id"])),
            )
            .collect();
        if open.is_empty() {
            for b in bookings.iter().filter(|b| b["status"] == "cancelled") {
                let saga = get_json(
                    admin,
                    format!("{base}/api/bookings/{}/saga", b["id"].as_str().unwrap()),
                )
                .await;
                if !matches!(saga["state"].as_str(), Some("cancelled" | "refunded")) {
                    open.push(format!("saga {saga}"));
                    break;
                }
            }
        }
        if open.is_empty() {
            return bookings;
        }
        if std::time::Instant::now() > deadline {
            let subscriptions = get_json(admin, format!("{base}/api/admin/subscriptions")).await;
            panic!("bookings did not settle within 90 s: {open:?}\nsubscriptions: {subscriptions}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asserts the invariants over `bookings` (settled), `shows` and `customers`.
pub(crate) async fn assert_invariants(
    admin: &Client,
    base: &str,
    bookings: &[Value],
    shows: &[Value],
    customers: &[Customer],
) {
    let payments: Vec<Value> = all_pages(admin, &format!("{base}/api/payments")).await;
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
    for b in bookings {
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
    for show in shows {
        let id = show["id"].as_str().unwrap();
        let now = get_json(admin, format!("{base}/api/shows/{id}")).await;
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
    for customer in customers {
        let c = log_in(base, &customer.email, "correct horse").await;
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

/// Books, and now and then cancels, until told to stop, sending each request to one of `bases`
/// in turn and counting the booking requests answered in `answered`; failures are expected
/// (processes die).
pub(crate) async fn burst(
    bases: Vec<String>,
    email: String,
    shows: Vec<Value>,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
    seed: u64,
) {
    let c = client();
    for base in &bases {
        let logged_in = c
            .post(format!("{base}/api/session"))
            .json(&json!({"email": email, "password": "correct horse"}))
            .send()
            .await;
        if logged_in.is_ok_and(|r| r.status() == StatusCode::NO_CONTENT) {
            break;
        }
    }
    let mut n = seed;
    while !stop.load(Ordering::Relaxed) {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let base = &bases[(n >> 28) as usize % bases.len()];
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
        let Ok(r) = placed_now else {
            // A dead process refuses at once: do not spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        answered.fetch_add(1, Ordering::SeqCst);
        let refused = !r.status().is_success();
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
        } else if refused {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn sum(items: &[Value], field: &str) -> i64 {
    items.iter().map(|i| i[field].as_i64().unwrap()).sum()
}

/// Compares every figure of the read model (dashboard, sales per show, the feed) with what the
/// source modules' APIs say, once it has caught up.
pub(crate) async fn assert_read_model_agrees(admin: &Client, base: &str) {
    let bookings = all_pages(admin, &format!("{base}/api/bookings")).await;
    let payments = all_pages(admin, &format!("{base}/api/payments")).await;
    let d = get_json(admin, format!("{base}/api/dashboard")).await;
    let by = |s: &str| {
        bookings
            .iter()
            .filter(|b| b["status"] == s)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(d["bookings"]["total"], bookings.len() as i64, "{d}");
    for status in ["pending", "confirmed", "cancelled"] {
        assert_eq!(
            d["bookings"][status],
            by(status).len() as i64,
            "{status}: {d}"
        );
    }
    assert_eq!(d["seats_sold"], sum(&by("confirmed"), "seats"));
    let money = |s: &str| {
        payments
            .iter()
            .filter(|p| p["status"] == s)
            .map(|p| p["amount_cents"].as_i64().unwrap())
            .sum::<i64>()
    };
    let eur = d["money"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["currency"] == "EUR")
        .cloned()
        .unwrap_or(json!({"revenue_cents": 0, "refunds_cents": 0}));
    assert_eq!(eur["revenue_cents"], money("captured"), "revenue: {d}");
    assert_eq!(eur["refunds_cents"], money("refunded"), "refunds: {d}");

    let payment_of: HashMap<&str, &Value> = payments
        .iter()
        .map(|p| (p["booking_id"].as_str().unwrap(), p))
        .collect();
    let sales = get_json(admin, format!("{base}/api/reports/shows")).await;
    for s in sales.as_array().unwrap() {
        let of_show: Vec<&Value> = bookings
            .iter()
            .filter(|b| b["show_id"] == s["show_id"])
            .collect();
        let sold: i64 = of_show
            .iter()
            .filter(|b| b["status"] == "confirmed")
            .map(|b| b["seats"].as_i64().unwrap())
            .sum();
        let revenue: i64 = of_show
            .iter()
            .filter_map(|b| payment_of.get(b["id"].as_str().unwrap()))
            .filter(|p| p["status"] == "captured")
            .map(|p| p["amount_cents"].as_i64().unwrap())
            .sum();
        assert_eq!(s["seats_sold"], sold, "{s}");
        assert_eq!(s["bookings"], of_show.len() as i64, "{s}");
        assert_eq!(s["revenue_cents"], revenue, "{s}");
        let show = get_json(
            admin,
            format!("{base}/api/shows/{}", s["show_id"].as_str().unwrap()),
        )
        .await;
        assert_eq!(
            s["seats_sold"].as_i64().unwrap() + s["seats_held"].as_i64().unwrap(),
            show["seats_taken"].as_i64().unwrap(),
            "{s}"
        );
    }

    let feed: HashMap<String, Value> = all_pages(admin, &format!("{base}/api/feed"))
        .await
        .into_iter()
        .map(|r| (r["booking_id"].as_str().unwrap().to_owned(), r))
        .collect();
    assert_eq!(feed.len(), bookings.len());
    let mut emails: HashMap<String, String> = HashMap::new();
    for b in &bookings {
        let row = &feed[b["id"].as_str().unwrap()];
        assert_eq!(row["status"], b["status"], "{row}");
        assert_eq!(row["seats"], b["seats"]);
        assert_eq!(row["amount_cents"], b["amount_cents"]);
        let payment = payment_of.get(b["id"].as_str().unwrap());
        assert_eq!(
            row["payment_status"],
            payment.map_or(Value::Null, |p| p["status"].clone()),
            "{row}"
        );
        let user_id = b["user_id"].as_str().unwrap().to_owned();
        if !emails.contains_key(&user_id) {
            let user = get_json(admin, format!("{base}/api/users/{user_id}")).await;
            emails.insert(user_id.clone(), user["email"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            row["user_email"],
            emails[&user_id].as_str(),
            "the feed's copy of the email is current"
        );
    }
}
