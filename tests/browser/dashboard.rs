//! The admin dashboard in a real browser, following bookings as they happen.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    driver::browser,
    helpers::{assert_status, spawn_app},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_booking_made_a_moment_earlier_and_the_next_one_live() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (admin, admin_user) = app.admin().await;
    let show = json!({"title": "Dashboard Premiere", "venue": "Hall 9", "starts_at": "2099-09-09T19:00:00Z",
                      "capacity": 40, "price_cents": 3_000, "currency": "EUR"});
    let show = assert_status(
        app.post_json(&admin, "/api/shows", &show).await,
        StatusCode::CREATED,
    )
    .await;
    let (customer, _) = app.customer().await;
    let booking = json!({"show_id": show["id"], "seats": 3, "payment": {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}});
    assert_status(
        app.post_json(&customer, "/api/bookings", &booking).await,
        StatusCode::ACCEPTED,
    )
    .await;

    b.goto(&app.url("/login?next=/admin")).await;
    b.fill("input[name=email]", admin_user["email"].as_str().unwrap())
        .await;
    b.fill("input[name=password]", "admin password").await;
    b.click("form[action='/login'] button[type=submit]").await;
    let page = b.wait_for_text("Dashboard Premiere").await;
    assert!(
        page.contains("3 / 40"),
        "the sales chart shows the seats sold:\n{page}"
    );
    assert!(
        page.contains("€90.00"),
        "the revenue shows the booking:\n{page}"
    );

    // While the page is open, another booking arrives and shows up without a reload.
    let more = json!({"show_id": show["id"], "seats": 4, "payment": {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}});
    assert_status(
        app.post_json(&customer, "/api/bookings", &more).await,
        StatusCode::ACCEPTED,
    )
    .await;
    b.wait_for_text("7 / 40").await;
    assert_eq!(b.path().await, "/admin");
}
