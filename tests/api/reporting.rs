//! The read model end to end: once caught up, every figure equals what the source modules say;
//! a rebuild during live traffic ends where a view that was never rebuilt would be; a customer
//! reads their own writes.

use std::{collections::HashMap, time::Duration};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_problem, assert_status, client, eventually, spawn_app_with, unique_email,
};

fn card(number: &str) -> Value {
    json!({"type": "card", "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"})
}

impl TestApp {
    /// Every item of a paged list (as `client`).
    pub(crate) async fn all(&self, client: &Client, path: &str) -> Vec<Value> {
        crate::faults::all_pages(client, &self.url(path)).await
    }

    pub(crate) async fn quiesce(&self, admin: &Client) {
        eventually("every saga to settle", Duration::from_secs(20), || async {
            let bookings = self.all(admin, "/api/bookings").await;
            let payments = self.all(admin, "/api/payments").await;
            let settled = bookings.iter().all(|b| b["status"] != "pending")
                && payments.iter().all(|p| p["status"] != "pending");
            settled.then_some(())
        })
        .await;
        // Refunds land after cancellations: wait for the sagas too.
        eventually(
            "every compensation to finish",
            Duration::from_secs(20),
            || async {
                for b in self.all(admin, "/api/bookings?status=cancelled").await {
                    let saga = self
                        .get_json(
                            admin,
                            &format!("/api/bookings/{}/saga", b["id"].as_str().unwrap()),
                        )
                        .await;
                    if saga["state"] == "refund_pending" {
                        return None;
                    }
                }
                Some(())
            },
        )
        .await;
        eventually(
            "the read model to catch up",
            Duration::from_secs(20),
            || async {
                let d = self.get_json(admin, "/api/dashboard").await;
                d["lag"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|l| l["behind_events"] == 0)
                    .then_some(())
            },
        )
        .await;
    }

    /// The feed by booking id.
    pub(crate) async fn feed_rows(&self, admin: &Client) -> HashMap<String, Value> {
        self.all(admin, "/api/feed")
            .await
            .into_iter()
            .map(|r| (r["booking_id"].as_str().unwrap().to_owned(), r))
            .collect()
    }
}

/// Compares every figure of the read model with what the source modules' APIs say.
async fn reconcile(app: &TestApp, admin: &Client) {
    crate::faults::assert_read_model_agrees(admin, &app.url("")).await;
}

struct Cast {
    admin: Client,
    customers: Vec<(Client, Value)>,
    shows: Vec<Value>,
}

async fn cast(app: &TestApp, customers: usize) -> Cast {
    let (admin, _) = app.admin().await;
    let mut shows = Vec::new();
    for (title, capacity) in [("Hamlet", 30), ("Swan Lake", 30), ("Jazz Night", 30)] {
        let body = json!({"title": title, "venue": "Main Hall", "starts_at": "2099-05-05T20:00:00Z", "capacity": capacity, "price_cents": 1_500, "currency": "EUR"});
        shows.push(
            assert_status(
                app.post_json(&admin, "/api/shows", &body).await,
                StatusCode::CREATED,
            )
            .await,
        );
    }
    let mut list = Vec::new();
    for i in 0..customers {
        let (c, user) = app.customer().await;
        app.deposit(&c, if i == 1 { 500 } else { 20_000 }).await;
        list.push((c, user));
    }
    Cast {
        admin,
        customers: list,
        shows,
    }
}

/// Every saga path: paid by wallet, declined for funds, card declined, never answered (timeout,
/// late capture refunded), cancelled by the customer (refund), show cancelled (refund), and an
/// email change.
async fn every_path(app: &TestApp, c: &Cast) {
    let (ada, bob, cyd, dee) = (
        &c.customers[0].0,
        &c.customers[1].0,
        &c.customers[2].0,
        &c.customers[3].0,
    );
    let (s1, s2, s3) = (&c.shows[0], &c.shows[1], &c.shows[2]);
    let answered = [
        (ada, app.booked(ada, s1, 2, json!({"type": "wallet"})).await),
        // Short of funds: a wallet this short is refused up front, a card's bank declines.
        (bob, app.booked(bob, s1, 1, card("4000000000009995")).await),
        (cyd, app.booked(cyd, s2, 1, card("4000000000000002")).await),
    ];
    let silent = app.booked(dee, s2, 2, card("4000000000003220")).await;
    let to_cancel = app.booked(ada, s2, 3, json!({"type": "wallet"})).await;
    let more = [
        (cyd, app.booked(cyd, s3, 2, card("4242424242424242")).await),
        (dee, app.booked(dee, s3, 1, json!({"type": "wallet"})).await),
    ];
    for (client, booking) in answered.iter().chain(&more) {
        app.settled(client, booking).await;
    }
    assert_eq!(app.settled(ada, &to_cancel).await["status"], "confirmed");
    // The silent card: its deadline passes, then the gateway's late answer comes, both on the
    // application's clock.
    app.payment_requested(dee, &silent).await;
    app.advance_clock(Duration::from_secs(31)).await;
    assert_eq!(
        app.settled(dee, &silent).await["cancel_reason"],
        "payment_timeout"
    );
    app.advance_clock(Duration::from_secs(120)).await;
    let path = format!("/api/bookings/{}/cancel", to_cancel["id"].as_str().unwrap());
    assert_status(
        app.post_json(ada, &path, &json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_status(
        app.post_json(
            &c.admin,
            &format!("/api/shows/{}/cancel", s3["id"].as_str().unwrap()),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let ada_id = c.customers[0].1["id"].as_str().unwrap();
    assert_status(
        app.patch_json(
            ada,
            &format!("/api/users/{ada_id}"),
            &json!({"email": unique_email("ada-renamed")}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// The defaults the clock is moved past: a 30 s payment deadline, a 2-minute late answer.
fn timeouts() -> impl FnOnce(&mut app::Settings) {
    |s| {
        s.bookings.payment_timeout_secs = 30.0;
        s.payments.gateway_late_answer_secs = 120.0;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_every_saga_path_the_read_model_agrees_with_the_source_modules() {
    let app = spawn_app_with(timeouts()).await;
    let c = cast(&app, 4).await;
    every_path(&app, &c).await;
    app.quiesce(&c.admin).await;
    reconcile(&app, &c.admin).await;
    // The mix really covered every outcome.
    let feed = app.feed_rows(&c.admin).await;
    let reasons: std::collections::BTreeSet<String> = feed
        .values()
        .filter_map(|r| r["cancel_reason"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        reasons.into_iter().collect::<Vec<_>>(),
        [
            "customer_cancelled",
            "payment_declined",
            "payment_timeout",
            "show_cancelled"
        ]
    );
    let d = assert_status(app.get(&c.admin, "/api/dashboard").await, StatusCode::OK).await;
    assert!(d["avg_confirm_ms"].as_f64().is_some(), "{d}");
    assert!(!d["timeline"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_during_live_traffic_ends_equal_to_the_view_that_was_never_rebuilt() {
    let app = spawn_app_with(timeouts()).await;
    let c = cast(&app, 6).await;
    every_path(&app, &c).await;
    app.quiesce(&c.admin).await;
    let before = app.feed_rows(&c.admin).await;

    // More bookings keep arriving while the read model is dropped and replayed.
    let placed = std::sync::atomic::AtomicUsize::new(0);
    let traffic = async {
        for round in 0..6 {
            for (i, (customer, _)) in c.customers.iter().enumerate().skip(4) {
                let payment = if (round + i) % 2 == 0 {
                    json!({"type": "wallet"})
                } else {
                    card("4242424242424242")
                };
                app.booked(customer, &c.shows[(round + i) % 2], 1, payment)
                    .await;
                placed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    };
    let rebuild = async {
        // The rebuild starts once the traffic has, so the two overlap.
        eventually("the traffic to start", Duration::from_secs(10), || async {
            (placed.load(std::sync::atomic::Ordering::SeqCst) >= 2).then_some(())
        })
        .await;
        assert_status(
            app.post_json(&c.admin, "/api/admin/projections/rebuild", &json!({}))
                .await,
            StatusCode::ACCEPTED,
        )
        .await;
        eventually("the rebuild to finish", Duration::from_secs(30), || async {
            let s = assert_status(
                app.get(&c.admin, "/api/admin/projections/rebuild").await,
                StatusCode::OK,
            )
            .await;
            (s["running"] == false).then_some(s)
        })
        .await
    };
    let ((), status) = tokio::join!(traffic, rebuild);
    assert!(status["error"].is_null(), "{status}");
    assert!(status["processed"].as_u64().unwrap() > 0);
    app.quiesce(&c.admin).await;

    let after = app.feed_rows(&c.admin).await;
    for (id, row) in &before {
        assert_eq!(after.get(id), Some(row), "the rebuild changed booking {id}");
    }
    assert_eq!(after.len(), before.len() + 12);
    reconcile(&app, &c.admin).await;

    // And a quiet rebuild changes nothing at all.
    assert_status(
        app.post_json(&c.admin, "/api/admin/projections/rebuild", &json!({}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    eventually("the second rebuild", Duration::from_secs(30), || async {
        let s = assert_status(
            app.get(&c.admin, "/api/admin/projections/rebuild").await,
            StatusCode::OK,
        )
        .await;
        (s["running"] == false).then_some(())
    })
    .await;
    assert_eq!(app.feed_rows(&c.admin).await, after);
}

#[tokio::test]
async fn a_customer_reads_their_own_write_through_the_consistency_token() {
    let app = spawn_app_with(|s| s.events.safety_net_ms = 60_000).await;
    let c = cast(&app, 1).await;
    let (ada, _) = &c.customers[0];
    let response = app
        .book(ada, &c.shows[0], 2, json!({"type": "wallet"}))
        .await;
    let token = response.headers()["x-consistency-token"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("bookings:"), "{token}");
    assert_status(response, StatusCode::ACCEPTED).await;

    let summary = ada
        .get(app.url(&format!("/api/me/summary?after={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(summary.headers()["x-read-model"], "consistent");
    let summary = assert_status(summary, StatusCode::OK).await;
    assert_eq!(summary["bookings"], 1, "{summary}");
    let feed = c
        .admin
        .get(app.url("/api/feed"))
        .header("x-consistency-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.headers()["x-read-model"], "consistent");
    assert_eq!(
        assert_status(feed, StatusCode::OK).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A token from the future cannot be satisfied: the answer comes anyway, marked stale.
    let stale = c
        .admin
        .get(app.url("/api/dashboard?after=bookings:999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.headers()["x-read-model"], "stale");
}

#[tokio::test]
async fn search_finds_shows_and_bookings_and_bad_reads_are_refused() {
    let app = spawn_app_with(timeouts()).await;
    let c = cast(&app, 1).await;
    let (ada, ada_user) = &c.customers[0];
    let b = app
        .booked(ada, &c.shows[1], 1, card("4242424242424242"))
        .await;
    app.quiesce(&c.admin).await;
    let hits = assert_status(
        app.get(&client(), "/api/search/shows?q=swan").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["title"], "Swan Lake");
    let email = ada_user["email"].as_str().unwrap();
    let found = assert_status(
        app.get(
            &c.admin,
            &format!("/api/feed?q={}", email.split('@').next().unwrap()),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["items"][0]["booking_id"], b["id"]);
    assert_eq!(found["items"][0]["card_last4"], "4242");

    for (query, field) in [
        ("status=lost", "status"),
        ("payment_status=maybe", "payment_status"),
        ("limit=0", "limit"),
        ("cursor=x", "cursor"),
        ("show_id=nope", "show_id"),
    ] {
        let problem = assert_problem(
            app.get(&c.admin, &format!("/api/feed?{query}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    assert_problem(
        app.get(&c.admin, "/api/dashboard?after=nonsense").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_problem(
        app.get(ada, "/api/dashboard").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(ada, "/api/feed").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_json(ada, "/api/admin/projections/rebuild", &json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&client(), "/api/me/summary").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
