//! The booking saga end to end over HTTP: every path, the race for the last seats, email copies,
//! API composition, and bad input.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_problem, assert_status, client, error_fields, eventually, form_token,
    spawn_app, spawn_app_with, unique_email,
};

const APPROVED: &str = "4242 4242 4242 4242";
const DECLINED: &str = "4000000000000002";
const NO_FUNDS: &str = "4000000000009995";
const SILENT: &str = "4000000000003220";

fn card(number: &str) -> Value {
    json!({"type": "card", "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"})
}

fn wallet() -> Value {
    json!({"type": "wallet"})
}

impl TestApp {
    pub(crate) async fn show(&self, admin: &Client, capacity: i64, price_cents: i64) -> Value {
        let body = json!({
            "title": "The Tempest", "venue": "Old Vic", "starts_at": "2099-06-01T19:30:00Z",
            "capacity": capacity, "price_cents": price_cents, "currency": "EUR"
        });
        assert_status(
            self.post_json(admin, "/api/shows", &body).await,
            StatusCode::CREATED,
        )
        .await
    }

    pub(crate) async fn deposit(&self, client: &Client, amount_cents: i64) -> Value {
        assert_status(
            self.post_json(
                client,
                "/api/wallet/deposits",
                &json!({"amount_cents": amount_cents}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await
    }

    pub(crate) async fn book(
        &self,
        client: &Client,
        show: &Value,
        seats: i64,
        payment: Value,
    ) -> reqwest::Response {
        self.post_json(
            client,
            "/api/bookings",
            &json!({"show_id": show["id"], "seats": seats, "payment": payment}),
        )
        .await
    }

    pub(crate) async fn booked(
        &self,
        client: &Client,
        show: &Value,
        seats: i64,
        payment: Value,
    ) -> Value {
        assert_status(
            self.book(client, show, seats, payment).await,
            StatusCode::ACCEPTED,
        )
        .await
    }

    /// Waits until the booking is no longer pending and returns it.
    pub(crate) async fn settled(&self, client: &Client, booking: &Value) -> Value {
        let path = format!("/api/bookings/{}", booking["id"].as_str().unwrap());
        eventually("the booking to settle", Duration::from_secs(15), || async {
            let b = self.get_json(client, &path).await;
            (b["status"] != "pending").then_some(b)
        })
        .await
    }

    /// Waits until the payments module has handled the booking's payment request (its payment
    /// exists), so the next step can only come from the clock.
    pub(crate) async fn payment_requested(&self, client: &Client, booking: &Value) {
        let path = format!(
            "/api/payments?booking_id={}",
            booking["id"].as_str().unwrap()
        );
        eventually(
            "the payment to be requested",
            Duration::from_secs(15),
            || async {
                let page = self.get_json(client, &path).await;
                (page["items"].as_array().is_some_and(|i| !i.is_empty())).then_some(())
            },
        )
        .await;
    }

    /// Waits until the booking's saga reaches `state` and returns it.
    pub(crate) async fn saga_reaches(
        &self,
        client: &Client,
        booking: &Value,
        state: &str,
    ) -> Value {
        let path = format!("/api/bookings/{}/saga", booking["id"].as_str().unwrap());
        eventually(
            &format!("the saga to reach {state}"),
            Duration::from_secs(15),
            || async {
                let s = self.get_json(client, &path).await;
                (s["state"] == state).then_some(s)
            },
        )
        .await
    }

    pub(crate) async fn balance(&self, client: &Client) -> i64 {
        self.get_json(client, "/api/wallet").await["balance_cents"]
            .as_i64()
            .unwrap()
    }

    pub(crate) async fn seats_available(&self, show: &Value) -> i64 {
        let path = format!("/api/shows/{}", show["id"].as_str().unwrap());
        assert_status(self.get(&client(), &path).await, StatusCode::OK).await["seats_available"]
            .as_i64()
            .unwrap()
    }
}

fn actions(saga: &Value) -> Vec<String> {
    saga["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_booking_paid_from_the_wallet_is_confirmed_and_its_saga_and_details_show_it() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, ada_user) = app.customer().await;
    let show = app.show(&admin, 10, 2_500).await;
    app.deposit(&ada, 10_000).await;

    let response = app.book(&ada, &show, 2, wallet()).await;
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/api/bookings/")
    );
    let booking = assert_status(response, StatusCode::ACCEPTED).await;
    assert_eq!(booking["status"], "pending");
    assert_eq!(booking["amount_cents"], 5_000);
    assert_eq!(booking["user_email"], ada_user["email"]);
    for field in [
        "id",
        "user_id",
        "show_id",
        "seats",
        "currency",
        "cancel_reason",
        "created_at",
        "updated_at",
    ] {
        assert!(
            booking.get(field).is_some(),
            "{field} missing from {booking}"
        );
    }

    let done = app.settled(&ada, &booking).await;
    assert_eq!(done["status"], "confirmed");
    assert_eq!(app.balance(&ada).await, 5_000);
    assert_eq!(app.seats_available(&show).await, 8);
    let saga = app.saga_reaches(&ada, &booking, "confirmed").await;
    assert_eq!(
        actions(&saga),
        [
            "seats held; payment requested",
            "payment captured",
            "booking confirmed"
        ]
    );

    let details = app
        .get_json(
            &ada,
            &format!("/api/bookings/{}/details", booking["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(details["partial"], false);
    assert_eq!(details["user"]["email"], ada_user["email"]);
    assert_eq!(details["payment"]["status"], "captured");
    assert_eq!(details["payment"]["method"]["kind"], "wallet");
    // The payment and the wallet's ledger name the booking they paid for, by that name.
    assert_eq!(details["payment"]["booking_id"], booking["id"]);
    assert!(details["payment"].get("reference").is_none(), "{details}");
    let ledger = app.get_json(&ada, "/api/wallet/ledger").await;
    let charge = &ledger["entries"][1];
    assert_eq!(
        (charge["kind"].as_str(), &charge["booking_id"]),
        (Some("charge"), &booking["id"])
    );
    let payments = app
        .get_json(
            &ada,
            &format!(
                "/api/payments?booking_id={}",
                booking["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(payments["items"][0]["booking_id"], booking["id"]);
}

#[tokio::test]
async fn a_wallet_that_cannot_pay_is_refused_up_front_and_one_spent_meanwhile_is_declined_by_the_saga()
 {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 10, 2_500).await;
    app.deposit(&ada, 1_000).await;
    // The checkout does not offer the wallet, and says why.
    let page_path = format!("/shows/{}/checkout?seats=1", show["id"].as_str().unwrap());
    let page = app.get(&ada, &page_path).await.text().await.unwrap();
    assert!(
        page.contains(r#"value="wallet" disabled"#)
            && page.contains(
                "The wallet is not offered: your wallet holds €10.00, and a seat costs €25.00."
            ),
        "{page}"
    );
    // Too little money: refused before any seat is held, with the amounts in words.
    let refused = assert_problem(
        app.book(&ada, &show, 1, wallet()).await,
        StatusCode::CONFLICT,
        "wallet-cannot-pay",
    )
    .await;
    assert_eq!(
        refused["detail"],
        "Your wallet holds €10.00, and a seat costs €25.00: pay by card, or deposit and try again."
    );
    assert_eq!(error_fields(&refused), ["payment"]);
    let two = assert_problem(
        app.book(&ada, &show, 2, wallet()).await,
        StatusCode::CONFLICT,
        "wallet-cannot-pay",
    )
    .await;
    assert_eq!(
        two["errors"][0]["message"],
        "your wallet holds €10.00, and these 2 seats cost €50.00"
    );
    assert_eq!(app.seats_available(&show).await, 10);
    assert_eq!(
        app.get_json(&ada, "/api/bookings").await["items"],
        json!([])
    );
    // Enough for one of two bookings placed at once: whichever the check lets through, the
    // saga charges one and declines the other for funds, and its seats come back.
    app.deposit(&ada, 2_000).await; // 30.00
    let page = app.get(&ada, &page_path).await.text().await.unwrap();
    assert!(
        page.contains("(€30.00 in it)") && !page.contains(r#"value="wallet" disabled"#),
        "{page}"
    );
    let (a, b) = tokio::join!(
        app.book(&ada, &show, 1, wallet()),
        app.book(&ada, &show, 1, wallet())
    );
    let mut confirmed = 0;
    for response in [a, b] {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        if status == StatusCode::CONFLICT {
            assert_eq!(body["type"], "/problems/wallet-cannot-pay", "{body}");
            continue;
        }
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let done = app.settled(&ada, &body).await;
        if done["status"] == "confirmed" {
            confirmed += 1;
        } else {
            assert_eq!(done["cancel_reason"], "payment_declined", "{done}");
            let saga = app.saga_reaches(&ada, &body, "cancelled").await;
            assert_eq!(saga["steps"][1]["detail"], "insufficient_funds");
        }
    }
    assert_eq!(confirmed, 1);
    assert_eq!(app.seats_available(&show).await, 9);
    assert_eq!(app.balance(&ada).await, 500);
}

#[tokio::test]
async fn a_wallet_in_another_currency_than_the_show_is_refused_up_front() {
    let app = spawn_app_with(|s| s.payments.currency = "USD".into()).await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 10, 2_500).await; // in EUR
    app.deposit(&ada, 100_000).await;
    let refused = assert_problem(
        app.book(&ada, &show, 1, wallet()).await,
        StatusCode::CONFLICT,
        "wallet-cannot-pay",
    )
    .await;
    assert_eq!(
        refused["errors"][0]["message"],
        "your wallet holds USD, and this show is priced in EUR"
    );
    let page = app
        .get(
            &ada,
            &format!("/shows/{}/checkout?seats=1", show["id"].as_str().unwrap()),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(
            "The wallet is not offered: your wallet holds USD, and this show is priced in EUR."
        ),
        "{page}"
    );
    assert_eq!(app.seats_available(&show).await, 10);
    // A card pays in the show's currency.
    let paid = app.booked(&ada, &show, 1, card(APPROVED)).await;
    assert_eq!(app.settled(&ada, &paid).await["status"], "confirmed");
}

#[tokio::test]
async fn an_approved_card_confirms_and_declined_cards_cancel_with_their_reason() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 10, 1_000).await;
    let paid = app.booked(&ada, &show, 1, card(APPROVED)).await;
    assert_eq!(
        (paid["card_brand"].as_str(), paid["card_last4"].as_str()),
        (Some("visa"), Some("4242"))
    );
    let declined = app.booked(&ada, &show, 1, card(DECLINED)).await;
    let broke = app.booked(&ada, &show, 1, card(NO_FUNDS)).await;

    assert_eq!(app.settled(&ada, &paid).await["status"], "confirmed");
    for (b, reason) in [(&declined, "card_declined"), (&broke, "insufficient_funds")] {
        assert_eq!(
            app.settled(&ada, b).await["cancel_reason"],
            "payment_declined"
        );
        let payments = app
            .get_json(
                &ada,
                &format!("/api/payments?booking_id={}", b["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(payments["items"][0]["decline_reason"], reason);
    }
    assert_eq!(app.seats_available(&show).await, 9);
    // Only brand and last four digits are ever kept.
    let all = app.get_json(&ada, "/api/payments").await.to_string();
    assert!(
        !all.contains("4242424242424242") && !all.contains("tok_"),
        "{all}"
    );
}

#[tokio::test]
async fn a_card_that_never_answers_times_out_and_its_late_capture_is_refunded() {
    let app = spawn_app_with(|s| {
        s.bookings.payment_timeout_secs = 30.0;
        s.payments.gateway_late_answer_secs = 120.0;
    })
    .await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 10, 1_000).await;
    let booking = app.booked(&ada, &show, 3, card(SILENT)).await;
    // The payment is requested and left unanswered; only the deadline can move the saga.
    app.payment_requested(&ada, &booking).await;
    assert_eq!(
        app.get_json(
            &ada,
            &format!("/api/bookings/{}", booking["id"].as_str().unwrap())
        )
        .await["status"],
        "pending"
    );
    app.advance_clock(Duration::from_secs(31)).await;
    let done = app.settled(&ada, &booking).await;
    assert_eq!(done["cancel_reason"], "payment_timeout");
    assert_eq!(app.seats_available(&show).await, 10);

    // Two minutes later on the application's clock, the gateway captures after all.
    app.advance_clock(Duration::from_secs(120)).await;
    let saga = app.saga_reaches(&ada, &booking, "refunded").await;
    let steps = actions(&saga);
    assert!(
        steps.contains(&"deadline passed: booking cancelled, seats released".to_owned()),
        "{steps:?}"
    );
    assert!(
        steps.contains(
            &"payment captured after the booking was cancelled: refund follows".to_owned()
        ),
        "{steps:?}"
    );
    assert_eq!(steps.last().unwrap(), "payment refunded");
    let payment = app
        .get_json(
            &ada,
            &format!(
                "/api/payments?booking_id={}",
                booking["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(payment["items"][0]["status"], "refunded");
    assert_eq!(
        app.get(
            &ada,
            &format!("/api/bookings/{}", booking["id"].as_str().unwrap())
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["status"],
        "cancelled"
    );
}

#[tokio::test]
async fn a_customer_cancelling_a_confirmed_booking_gets_the_money_back() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 10, 2_000).await;
    app.deposit(&ada, 5_000).await;
    let booking = app.booked(&ada, &show, 2, wallet()).await;
    assert_eq!(app.settled(&ada, &booking).await["status"], "confirmed");
    assert_eq!(app.balance(&ada).await, 1_000);

    let path = format!("/api/bookings/{}/cancel", booking["id"].as_str().unwrap());
    let cancelled = assert_status(
        app.post_json(&ada, &path, &json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(cancelled["cancel_reason"], "customer_cancelled");
    assert_eq!(app.seats_available(&show).await, 10);
    app.saga_reaches(&ada, &booking, "refunded").await;
    assert_eq!(app.balance(&ada).await, 5_000);
    assert_problem(
        app.post_json(&ada, &path, &json!({})).await,
        StatusCode::CONFLICT,
        "already-cancelled",
    )
    .await;

    let ledger = app.get_json(&ada, "/api/wallet/ledger").await;
    let kinds: Vec<&str> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["deposit", "charge", "refund"]);
    let before_refund = app.get_json(&ada, "/api/wallet/ledger?version=2").await;
    assert_eq!(before_refund["balance_cents"], 1_000);
}

#[tokio::test]
async fn an_admin_cancelling_a_show_cancels_and_refunds_its_bookings() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let (bob, _) = app.customer().await;
    let show = app.show(&admin, 10, 1_500).await;
    app.deposit(&ada, 10_000).await;
    let a = app.booked(&ada, &show, 2, wallet()).await;
    let b = app.booked(&bob, &show, 1, card(APPROVED)).await;
    app.settled(&ada, &a).await;
    app.settled(&bob, &b).await;

    let path = format!("/api/shows/{}/cancel", show["id"].as_str().unwrap());
    assert_problem(
        app.post_json(&ada, &path, &json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let cancelled = assert_status(
        app.post_json(&admin, &path, &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    app.saga_reaches(&ada, &a, "refunded").await;
    app.saga_reaches(&bob, &b, "refunded").await;
    assert_eq!(app.balance(&ada).await, 10_000);
    let listed = app
        .get_json(
            &admin,
            &format!(
                "/api/bookings?show_id={}&status=cancelled",
                show["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_problem(
        app.book(&ada, &show, 1, wallet()).await,
        StatusCode::CONFLICT,
        "show-cancelled",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_racing_for_the_last_seats_never_oversell_and_every_wallet_folds_to_its_balance()
{
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let show = app.show(&admin, 5, 1_000).await;
    let mut customers = Vec::new();
    for _ in 0..16 {
        let (c, _) = app.customer().await;
        app.deposit(&c, 3_000).await;
        customers.push(c);
    }
    let attempts = customers.iter().map(|c| app.book(c, &show, 1, wallet()));
    let responses = futures_util::future::join_all(attempts).await;
    let mut accepted = Vec::new();
    for (response, customer) in responses.into_iter().zip(&customers) {
        match response.status() {
            StatusCode::ACCEPTED => {
                accepted.push((customer, response.json::<Value>().await.unwrap()))
            }
            StatusCode::CONFLICT => {
                let problem: Value = response.json().await.unwrap();
                assert_eq!(problem["type"], "/problems/not-enough-seats");
            }
            other => panic!("unclear answer {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(accepted.len(), 5, "exactly the capacity is sold");
    for (c, b) in &accepted {
        assert_eq!(app.settled(c, b).await["status"], "confirmed");
    }
    assert_eq!(app.seats_available(&show).await, 0);
    for c in &customers {
        let ledger = app.get_json(c, "/api/wallet/ledger").await;
        let folded: i64 = ledger["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["amount_cents"].as_i64().unwrap())
            .sum();
        assert_eq!(folded, app.balance(c).await);
    }
}

#[tokio::test]
async fn an_email_change_reaches_the_bookings_eventually() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, ada_user) = app.customer().await;
    let show = app.show(&admin, 10, 500).await;
    let booking = app.booked(&ada, &show, 1, card(APPROVED)).await;
    let new_email = unique_email("renamed");
    let path = format!("/api/users/{}", ada_user["id"].as_str().unwrap());
    assert_status(
        app.patch_json(&ada, &path, &json!({"email": new_email}))
            .await,
        StatusCode::OK,
    )
    .await;
    let booking_path = format!("/api/bookings/{}", booking["id"].as_str().unwrap());
    eventually(
        "the booking's copy of the email to follow",
        Duration::from_secs(10),
        || async {
            let b = app.get_json(&ada, &booking_path).await;
            (b["user_email"] == new_email).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn details_degrade_to_a_partial_answer_when_the_payments_module_is_down() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 10, 500).await;
    let booking = app.booked(&ada, &show, 1, card(APPROVED)).await;
    app.settled(&ada, &booking).await;
    let off = admin
        .put(app.url("/api/admin/modules/payments/availability"))
        .json(&json!({"online": false, "offline_seconds": 30}))
        .send()
        .await
        .unwrap();
    assert_status(off, StatusCode::OK).await;

    let details = app
        .get_json(
            &ada,
            &format!("/api/bookings/{}/details", booking["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(details["partial"], true);
    assert_eq!(details["missing"], json!(["payment"]));
    assert!(details["payment"].is_null());
    assert_eq!(details["booking"]["status"], "confirmed");
    assert!(details["user"]["email"].is_string());
    assert!(
        details["errors"]["payment"]
            .as_str()
            .unwrap()
            .contains("unavailable"),
        "{details}"
    );
    // The module that failed answers 503; the others keep serving.
    assert_problem(
        app.get(&ada, "/api/wallet").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "module-unavailable",
    )
    .await;
    app.get_json(&ada, "/api/shows").await;
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_booking_and_another_body_is_422() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 10, 500).await;
    let send = |seats: i64| {
        ada.post(app.url("/api/bookings"))
            .header("idempotency-key", "checkout-7")
            .json(&json!({"show_id": show["id"], "seats": seats, "payment": card(APPROVED)}))
            .send()
    };
    let first = assert_status(send(2).await.unwrap(), StatusCode::ACCEPTED).await;
    let retry = send(2).await.unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(
        assert_status(retry, StatusCode::ACCEPTED).await["id"],
        first["id"]
    );
    assert_problem(
        send(3).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    )
    .await;
    assert_eq!(app.seats_available(&show).await, 8);
}

#[tokio::test]
async fn bad_booking_and_payment_input_is_a_clear_4xx_and_changes_nothing() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 3, 500).await;
    let cases: Vec<(Value, &str, Vec<&str>)> = vec![
        (
            json!({"show_id": show["id"], "seats": 0, "payment": wallet()}),
            "validation-error",
            vec!["seats"],
        ),
        (
            json!({"show_id": show["id"], "seats": -2, "payment": wallet()}),
            "validation-error",
            vec!["seats"],
        ),
        (
            json!({"show_id": show["id"], "seats": 1}),
            "validation-error",
            vec!["payment"],
        ),
        (
            json!({"seats": 1, "payment": wallet()}),
            "validation-error",
            vec!["show_id"],
        ),
        (
            json!({"show_id": "nope", "seats": 1, "payment": wallet()}),
            "validation-error",
            vec!["show_id"],
        ),
        (
            json!({"show_id": show["id"], "seats": 1, "payment": {"type": "bitcoin"}}),
            "validation-error",
            vec!["payment.type"],
        ),
        (
            json!({"show_id": show["id"], "seats": 1, "payment": card("4242424242424241")}),
            "validation-error",
            vec!["payment.number"],
        ),
        (
            json!({"show_id": show["id"], "seats": 1, "payment": card("abcd")}),
            "validation-error",
            vec!["payment.number"],
        ),
        (
            json!({"show_id": show["id"], "seats": 1, "payment": {"type": "card", "number": APPROVED, "exp_month": 1, "exp_year": 2020, "cvc": "123"}}),
            "validation-error",
            vec!["payment.exp_year"],
        ),
        (
            json!({"show_id": show["id"], "seats": 1, "payment": {"type": "card", "number": APPROVED, "exp_month": 13, "exp_year": 2031, "cvc": "1"}}),
            "validation-error",
            vec!["payment.exp_month", "payment.cvc"],
        ),
    ];
    for (body, slug, fields) in cases {
        let problem = assert_problem(
            app.post_json(&ada, "/api/bookings", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            slug,
        )
        .await;
        assert_eq!(error_fields(&problem), fields, "for {body}");
    }
    let overflow = format!(
        r#"{{"show_id":"{}","seats":99999999999999999999,"payment":{{"type":"wallet"}}}}"#,
        show["id"].as_str().unwrap()
    );
    let response = ada
        .post(app.url("/api/bookings"))
        .header("content-type", "application/json")
        .body(overflow)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(error_fields(&problem), ["seats"]);
    let unknown =
        json!({"show_id": "01900000-0000-7000-8000-000000000000", "seats": 1, "payment": wallet()});
    assert_problem(
        app.post_json(&ada, "/api/bookings", &unknown).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let problem = assert_problem(
        app.book(&ada, &show, 4, wallet()).await,
        StatusCode::CONFLICT,
        "not-enough-seats",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("3 seat"),
        "{problem}"
    );
    assert_problem(
        app.book(&client(), &show, 1, wallet()).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_eq!(
        app.seats_available(&show).await,
        3,
        "a refused request held seats"
    );

    for (amount, status, slug) in [
        (
            json!(-100),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        ),
        (
            json!(0),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        ),
        (
            json!(1e30),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        ),
        (
            json!(9223372036854775807i64),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        ),
        (
            json!("100"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        ),
    ] {
        assert_problem(
            app.post_json(
                &ada,
                "/api/wallet/deposits",
                &json!({"amount_cents": amount}),
            )
            .await,
            status,
            slug,
        )
        .await;
    }
    assert_eq!(app.balance(&ada).await, 0);

    let (bob, _) = app.customer().await;
    let theirs = app.booked(&bob, &show, 1, card(APPROVED)).await;
    let foreign = format!("/api/bookings/{}", theirs["id"].as_str().unwrap());
    assert_problem(
        app.get(&ada, &foreign).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        app.get(&ada, &format!("{foreign}/saga")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        app.get(&ada, &format!("{foreign}/details")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        app.post_json(&ada, &format!("{foreign}/cancel"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;

    for (query, field) in [
        ("status=lost", "status"),
        ("from=yesterday", "from"),
        ("show_id=x", "show_id"),
        ("limit=0", "limit"),
        ("cursor=zzz", "cursor"),
    ] {
        let problem = assert_problem(
            app.get(&admin, &format!("/api/bookings?{query}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    assert_problem(
        app.get(&ada, "/api/wallet/ledger?as_of=someday").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_problem(
        app.get(&ada, "/api/wallet/ledger?version=-1").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    // No parser is more lenient than the document: no trimming, no second spelling.
    for (query, field) in [
        ("show_id=%2001a2373f-55db-77d3-99d2-f1e050f17a66", "show_id"),
        ("status=%20pending", "status"),
        ("cursor=12_01a2373f55db77d399d2f1e050f17a66", "cursor"),
        (
            "cursor=%2B12_01a2373f-55db-77d3-99d2-f1e050f17a66",
            "cursor",
        ),
    ] {
        let problem = assert_problem(
            app.get(&admin, &format!("/api/bookings?{query}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    // An empty parameter is an absent one, as the document says.
    assert_status(
        app.get(&admin, "/api/bookings?status=&show_id=&cursor=&limit=")
            .await,
        StatusCode::OK,
    )
    .await;
    // The wallet page's time-travel field sends the browser's datetime-local value.
    let minute = app.now().await.to_string()[..16].to_owned(); // YYYY-MM-DDTHH:MM
    let page = app.get(&ada, &format!("/wallet?as_of={minute}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(!page.contains("RFC 3339"), "the as-of value was refused");
    assert!(page.contains(&minute), "the as-of value was not kept");
}

#[tokio::test]
async fn a_show_that_has_started_takes_no_bookings_and_bad_shows_are_refused() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let soon = app.now().await.plus(Duration::from_secs(3600)).to_string();
    let body = json!({"title": "Matinee", "venue": "Hall", "starts_at": soon, "capacity": 5, "price_cents": 100, "currency": "EUR"});
    let show = assert_status(
        app.post_json(&admin, "/api/shows", &body).await,
        StatusCode::CREATED,
    )
    .await;
    app.advance_clock(Duration::from_secs(3601)).await;
    assert_problem(
        app.book(&ada, &show, 1, wallet()).await,
        StatusCode::CONFLICT,
        "show-started",
    )
    .await;
    let listed = assert_status(app.get(&client(), "/api/shows").await, StatusCode::OK).await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != show["id"]),
        "a started show is still on sale"
    );

    let bad = json!({"title": "", "venue": "Hall", "starts_at": "2001-01-01T00:00:00Z", "capacity": -1, "price_cents": 100, "currency": "EURO"});
    let problem = assert_problem(
        app.post_json(&admin, "/api/shows", &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(
        error_fields(&problem),
        ["title", "starts_at", "capacity", "currency"]
    );
    assert_problem(
        app.post_json(&ada, "/api/shows", &bad).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let shrink = app
        .patch_json(
            &admin,
            &format!("/api/shows/{}", show["id"].as_str().unwrap()),
            &json!({"capacity": 0}),
        )
        .await;
    assert_problem(shrink, StatusCode::UNPROCESSABLE_ENTITY, "validation-error").await;
}

#[tokio::test]
async fn the_deposit_form_reads_amounts_the_way_people_write_them_and_refuses_what_is_ambiguous() {
    let app = spawn_app().await;
    let (ada, _) = app.customer().await;
    let page = app.get(&ada, "/wallet").await.text().await.unwrap();
    assert!(
        page.contains("In EUR, up to €1,000,000.00 per deposit"),
        "{page}"
    );
    let token = form_token(&page);
    let deposit = |amount: &'static str| {
        let (ada, token, url) = (ada.clone(), token.clone(), app.url("/wallet/deposits"));
        async move {
            ada.post(url)
                .form(&[("csrf_token", token.as_str()), ("amount", amount)])
                .send()
                .await
                .unwrap()
        }
    };
    // Each is refused on its field, and nothing is deposited.
    for (typed, message) in [
        ("", "Amount is required"),
        (
            "1,000",
            "could be read two ways: write 1000 (no mark) for that many, or use two decimals, like 1.00.",
        ),
        (
            "20.505",
            "could be read two ways: write 20505 (no mark) for that many",
        ),
        ("20,5,0", "must be an amount like 20.50 or 20,50"),
        ("-5", "must be more than zero"),
        ("0,00", "must be more than zero"),
        ("1e3", "must be an amount like 20.50 or 20,50"),
        ("2000000", "must be at most €1,000,000.00 per deposit"),
    ] {
        let response = deposit(typed).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{typed:?}"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains(message),
            "{typed:?}: no {message:?} in {html}"
        );
        assert!(!html.contains("cents"), "{typed:?}: {html}");
    }
    assert_eq!(app.balance(&ada).await, 0);
    // Either mark as the decimal separator, the other grouping thousands.
    let mut expected = 0;
    for (typed, cents) in [
        ("20,50", 2_050),
        ("20.50", 2_050),
        (" 20 ", 2_000),
        ("1.000,50", 100_050),
        ("1,000.50", 100_050),
    ] {
        let response = deposit(typed).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{typed:?}");
        expected += cents;
        assert_eq!(app.balance(&ada).await, expected, "after {typed:?}");
    }
}

#[tokio::test]
async fn customer_pages_say_where_a_booking_stands_in_plain_words_and_agree_with_themselves() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    let show = app.show(&admin, 2, 2_000).await;
    let page_of = |b: &Value| format!("/bookings/{}", b["id"].as_str().unwrap());

    // A declined card: the reason in words, no deadline, and a way to try again.
    let declined = app.booked(&ada, &show, 1, card(DECLINED)).await;
    app.settled(&ada, &declined).await;
    let html = app
        .get(&ada, &page_of(&declined))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            "Not booked: the payment was declined (the card was declined). No money was taken"
        ) && html.contains(&format!(
            r#"href="/shows/{}">Try again"#,
            show["id"].as_str().unwrap()
        )),
        "{html}"
    );
    assert!(
        !html.contains("Unpaid by") && !html.contains("card_declined"),
        "{html}"
    );
    assert!(
        html.contains("<title>Booking for The Tempest, cancelled · Boxoffice</title>"),
        "{html}"
    );

    // Confirmed, then cancelled by its customer: "by you" to her, "by the customer" to the
    // box office.
    let paid = app.booked(&ada, &show, 2, card(APPROVED)).await;
    app.settled(&ada, &paid).await;
    let html = app.get(&ada, &page_of(&paid)).await.text().await.unwrap();
    assert!(html.contains("Confirmed: the seats are yours."), "{html}");
    assert!(!html.contains("Unpaid by"), "{html}");
    // Sold out: the show page says so, and does not also say "on sale".
    let show_page = format!("/shows/{}", show["id"].as_str().unwrap());
    let html = app.get(&ada, &show_page).await.text().await.unwrap();
    assert!(
        html.contains("sold out") && !html.contains(">on sale<"),
        "{html}"
    );
    let cancel = format!("/api/bookings/{}/cancel", paid["id"].as_str().unwrap());
    assert_status(
        app.post_json(&ada, &cancel, &json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let mine = app.get(&ada, "/bookings").await.text().await.unwrap();
    assert!(mine.contains("cancelled by you"), "{mine}");
    let theirs = app
        .get(&admin, "/admin/bookings")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        theirs.contains("cancelled by the customer") && !theirs.contains("cancelled by you"),
        "{theirs}"
    );

    // Every page has one main heading and a way past the navigation.
    for path in ["/wallet", "/bookings", &page_of(&paid), &show_page] {
        let html = app.get(&ada, path).await.text().await.unwrap();
        assert_eq!(html.matches("<h1").count(), 1, "{path}: {html}");
        assert!(
            html.contains(r##"<a class="skip-link" href="#main">"##),
            "{path}"
        );
        // Nothing in a customer's way speaks of the architecture outside "How this works".
        for jargon in ["modular monolith", "Time travel", ">Saga<", "Composed view"] {
            assert!(!html.contains(jargon), "{path} says {jargon:?}");
        }
    }
}

#[tokio::test]
async fn the_venue_form_says_every_error_at_once_and_a_mistyped_range_is_no_seat() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let page = app.get(&admin, "/admin/venues").await.text().await.unwrap();
    let token = form_token(&page);
    let response = admin
        .post(app.url("/admin/venues"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", ""),
            ("time_zone", "Mars/Olympus"),
            ("seating", "reserved"),
            ("capacity", ""),
            ("plan", "[Stalls] 45.00\nA: 1-x\nB 1-4"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    for said in [
        r#"<span class="error">Name "#,
        r#"<span class="error">Time zone "#,
        "line 2: 1-x is not a range of seat numbers",
        "line 3: a row line is a label",
    ] {
        assert!(html.contains(said), "{said} is not said: {html}");
    }
    let venues = app.get_json(&admin, "/api/venues").await;
    assert_eq!(venues["items"].as_array().unwrap().len(), 0, "{venues}");
}

#[tokio::test]
async fn the_admin_show_form_shows_every_error_at_once() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let page = app.get(&admin, "/admin/shows").await.text().await.unwrap();
    let token = form_token(&page);
    let response = admin
        .post(app.url("/admin/shows"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("title", ""),
            ("venue_id", ""),
            ("starts_at", "2001-01-01T20:00"),
            ("capacity", "ten"),
            ("price", "12,5x"),
            ("currency", "EUR"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    // What could not be read and what the module refused, in one answer.
    for field in [
        "Title",
        "Venue",
        "Starts at (local time at the venue)",
        "Capacity (general admission)",
        "Price per seat",
    ] {
        assert!(
            html.contains(&format!(r#"<span class="error">{field} "#)),
            "no error for {field}: {html}"
        );
    }
}

#[tokio::test]
async fn shows_are_found_by_words_narrowed_by_dates_and_venue_and_bad_filters_are_422() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    for (title, venue, starts_at) in [
        ("Jazz at Midnight", "Blue Note", "2099-03-05T23:00:00Z"),
        ("Morning Jazz", "Royal Albert Hall", "2099-04-10T10:00:00Z"),
        ("Swan Lake", "Royal Albert Hall", "2099-03-20T19:30:00Z"),
    ] {
        let body = json!({"title": title, "venue": venue, "starts_at": starts_at,
                          "capacity": 10, "price_cents": 1_000, "currency": "EUR"});
        assert_status(
            app.post_json(&admin, "/api/shows", &body).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let titles = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["title"].as_str().unwrap().to_owned())
            .collect()
    };
    // Words go through the read model's search, which follows the shows a moment behind.
    eventually(
        "the search to know the shows",
        Duration::from_secs(10),
        || async {
            let page = app.get_json(&client(), "/api/shows?q=jazz").await;
            (titles(&page).len() == 2).then_some(())
        },
    )
    .await;
    for (query, expected) in [
        ("q=jazz", &["Jazz at Midnight", "Morning Jazz"][..]),
        ("q=JAZZ&venue=royal", &["Morning Jazz"][..]),
        ("venue=albert", &["Swan Lake", "Morning Jazz"][..]),
        ("from=2099-03-06&until=2099-03-31", &["Swan Lake"][..]),
        // `until` is a whole day: a show that evening is in.
        ("until=2099-03-20", &["Jazz at Midnight", "Swan Lake"][..]),
        (
            "from=2099-03-20T19:30:00Z",
            &["Swan Lake", "Morning Jazz"][..],
        ),
        ("q=opera", &[][..]),
        // A range that ends before it starts holds nothing.
        ("from=2099-03-10&until=2099-03-01", &[][..]),
        ("q=%22%29%28*", &[][..]),
    ] {
        let page = app
            .get_json(&client(), &format!("/api/shows?{query}"))
            .await;
        assert_eq!(titles(&page), expected, "{query}");
    }
    // Pages of a narrowed list stay narrowed.
    let first = app
        .get_json(&client(), "/api/shows?venue=royal&limit=1")
        .await;
    assert_eq!(titles(&first), ["Swan Lake"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(
            &client(),
            &format!("/api/shows?venue=royal&limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(titles(&second), ["Morning Jazz"]);
    // A full page always names the next; past the last match there is nothing.
    let cursor = second["next_cursor"].as_str().unwrap();
    let third = app
        .get_json(
            &client(),
            &format!("/api/shows?venue=royal&limit=1&cursor={cursor}"),
        )
        .await;
    assert!(titles(&third).is_empty(), "{third}");

    let long = "x".repeat(201);
    for (query, field) in [
        ("from=2099-13-01", "from"),
        ("until=tomorrow", "until"),
        (&*format!("q={long}"), "q"),
        (&*format!("venue={long}"), "venue"),
    ] {
        let problem = assert_problem(
            app.get(&client(), &format!("/api/shows?{query}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{query}: {problem}");
    }

    // The home page: the same search in a form that keeps what was typed, and says so inline
    // when a date cannot be read.
    let html = app
        .get(&client(), "/?q=jazz&venue=blue")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Jazz at Midnight")
            && !html.contains("Morning Jazz")
            && html.contains(r#"name="q" type="search" value="jazz""#)
            && html.contains("1 show matches"),
        "{html}"
    );
    let r = app.get(&client(), "/?from=someday").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"<span class="error">From (day, UTC) must be a day like 2099-03-01"#),
        "{html}"
    );
    // A signed-in person's days are their own: 23:00 UTC on 5 March is already 6 March in
    // Berlin.
    let (berliner, user) = app.customer().await;
    assert_status(
        app.patch_json(
            &berliner,
            &format!("/api/users/{}", user["id"].as_str().unwrap()),
            &json!({"time_zone": "Europe/Berlin"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let day = "/?from=2099-03-06&until=2099-03-06";
    let html = app.get(&berliner, day).await.text().await.unwrap();
    assert!(
        html.contains("Jazz at Midnight") && html.contains("From (day, Europe/Berlin)"),
        "{html}"
    );
    let html = app.get(&client(), day).await.text().await.unwrap();
    assert!(html.contains("No show on sale matches."), "{html}");
    let html = app.get(&client(), "/?q=opera").await.text().await.unwrap();
    assert!(html.contains("No show on sale matches."), "{html}");
}

/// The value of the counter or gauge `name` summed over every process of the application.
async fn metric(app: &TestApp, name: &str) -> f64 {
    let mut sum = 0.0;
    for response in app.get_on_every_process("/metrics").await {
        let text = response.text().await.unwrap();
        sum += text
            .lines()
            .filter_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .sum::<f64>();
    }
    sum
}

/// An app placing one booking at a time with no wait in line (anyone arriving while one is
/// placed is turned away at once), a general-admission show of 10,000 seats and a customer.
async fn line_of_one() -> (TestApp, Value, Client) {
    let app = spawn_app_with(|s| {
        s.bookings.placing_width = 1;
        s.bookings.placing_wait_ms = 0;
    })
    .await;
    let (admin, _) = app.admin().await;
    let show = app.show(&admin, 10_000, 1_000).await;
    let (customer, _) = app.customer().await;
    (app, show, customer)
}

#[tokio::test]
async fn a_crowd_past_the_placing_line_is_told_busy_with_retry_after_and_nothing_is_held_for_it() {
    let (app, show, customer) = line_of_one().await;
    let (mut held, mut busy) = (0_i64, 0_u32);
    for _burst in 0..30 {
        let answers = futures_util::future::join_all(
            (0..16).map(|_| app.book(&customer, &show, 1, card(APPROVED))),
        )
        .await;
        for answer in answers {
            match answer.status() {
                StatusCode::ACCEPTED => held += 1,
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert_eq!(answer.headers()["retry-after"], "1");
                    let problem =
                        assert_problem(answer, StatusCode::SERVICE_UNAVAILABLE, "busy").await;
                    assert!(
                        problem["detail"].as_str().unwrap().contains("ask again"),
                        "{problem}"
                    );
                    busy += 1;
                }
                other => panic!("a booking in a crowd answered {other}"),
            }
        }
        if busy > 0 && held > 0 {
            break;
        }
    }
    assert!(
        busy > 0,
        "16 at once past a line of one were never turned away"
    );
    // Nothing was held for those turned away, and the line counted both.
    assert_eq!(app.seats_available(&show).await, 10_000 - held);
    assert_eq!(
        metric(&app, "boxoffice_bookings_placing_turned_away_total").await,
        f64::from(busy)
    );
    assert_eq!(
        metric(&app, "boxoffice_bookings_placing_admitted_total").await,
        held as f64
    );
    assert_eq!(
        metric(&app, "boxoffice_bookings_placing_waiting").await,
        0.0
    );
}

#[tokio::test]
async fn the_booking_form_told_busy_says_so_on_the_page_and_keeps_the_choice() {
    let (app, show, customer) = line_of_one().await;
    let page_path = format!("/shows/{}", show["id"].as_str().unwrap());
    let page = app.get(&customer, &page_path).await.text().await.unwrap();
    let token = form_token(&page);
    let book = || {
        let (customer, token) = (customer.clone(), token.clone());
        let url = app.url(&format!("{page_path}/book"));
        async move {
            customer
                .post(url)
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("idempotency_key", ""),
                    ("seat_ids", ""),
                    ("seats", "3"),
                    ("best", ""),
                    ("payment_type", "card"),
                    ("number", APPROVED),
                    ("exp_month", "12"),
                    ("exp_year", "2031"),
                    ("cvc", "123"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let (mut booked, mut busy) = (0_i64, 0_u32);
    for _burst in 0..30 {
        for answer in futures_util::future::join_all((0..16).map(|_| book())).await {
            match answer.status() {
                StatusCode::SEE_OTHER => booked += 1,
                StatusCode::SERVICE_UNAVAILABLE => {
                    let html = answer.text().await.unwrap();
                    assert!(
                        html.contains("the box office is busy placing other bookings"),
                        "{html}"
                    );
                    // The form again, with the customer's three seats still asked for.
                    assert!(html.contains(r#"value="3""#), "{html}");
                    busy += 1;
                }
                other => panic!("the booking form in a crowd answered {other}"),
            }
        }
        if busy > 0 && booked > 0 {
            break;
        }
    }
    assert!(
        busy > 0,
        "16 forms at once past a line of one were never turned away"
    );
    assert_eq!(app.seats_available(&show).await, 10_000 - 3 * booked);
}
