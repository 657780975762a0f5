//! Booking a show through the real pages, and watching a booking change without reloading.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    driver::browser,
    helpers::{assert_status, spawn_app_with},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_books_a_show_by_card_sees_it_confirmed_and_watches_an_unpaid_one_cancel_itself()
{
    let Some(b) = browser().await else { return };
    let app = spawn_app_with(|s| s.bookings.payment_timeout_secs = 30.0).await;
    let (admin, _) = app.admin().await;
    let show = json!({"title": "Browser Night", "venue": "Chromium Hall", "starts_at": "2099-03-03T20:00:00Z",
                      "capacity": 50, "price_cents": 1_250, "currency": "EUR"});
    let show = assert_status(
        app.post_json(&admin, "/api/shows", &show).await,
        StatusCode::CREATED,
    )
    .await;
    let show_id = show["id"].as_str().unwrap();

    b.goto(&app.url("/signup")).await;
    b.fill("input[name=full_name]", "Grace Hopper").await;
    b.fill("input[name=email]", "grace@example.com").await;
    b.fill("input[name=password]", "compilers rule!").await;
    b.click("form[action='/signup'] button[type=submit]").await;
    b.wait_for_text("Your account is ready").await;
    b.wait_for_text("Browser Night").await;

    // Book two seats by card from the show's page.
    b.goto(&app.url(&format!("/shows/{show_id}"))).await;
    b.fill("input[name=seats]", "2").await;
    b.to_checkout().await;
    b.wait_for_text("€25.00").await;
    b.click("input[name=payment_type][value=card]").await;
    b.fill("input[name=number]", "4242 4242 4242 4242").await;
    b.fill("input[name=exp_month]", "12").await;
    b.fill("input[name=exp_year]", "2031").await;
    b.fill("input[name=cvc]", "123").await;
    b.click("form[action$='/book'] button[type=submit]").await;
    b.wait_for_text("We received your booking request").await;
    let page = b.wait_for_text("Confirmed: the seats are yours.").await;
    assert!(
        page.contains("visa •••• 4242") && page.contains("€25.00"),
        "{page}"
    );

    // A card that never answers: the page shows it pending, then cancelled, with no reload.
    b.goto(&app.url(&format!("/shows/{show_id}"))).await;
    b.fill("input[name=seats]", "1").await;
    b.to_checkout().await;
    b.click("input[name=payment_type][value=card]").await;
    b.fill("input[name=number]", "4000 0000 0000 3220").await;
    b.fill("input[name=exp_month]", "12").await;
    b.fill("input[name=exp_year]", "2031").await;
    b.fill("input[name=cvc]", "123").await;
    b.click("form[action$='/book'] button[type=submit]").await;
    let pending = b.wait_for_text("We received your booking request").await;
    assert!(
        pending.contains("pending")
            && pending.contains("Your seats are held while the payment settles"),
        "{pending}"
    );
    let url_before = b.path().await;
    // The deadline passes on the application's clock, while the page is open.
    app.advance_clock(Duration::from_secs(31)).await;
    let cancelled = b
        .wait_for_text("Not booked: the payment did not arrive in time")
        .await;
    assert!(
        cancelled.contains("payment timed out") && cancelled.contains("Try again"),
        "{cancelled}"
    );
    assert!(
        !cancelled.contains("Unpaid by"),
        "a settled booking still speaks of its deadline: {cancelled}"
    );
    assert_eq!(b.path().await, url_before);
    assert!(
        cancelled.contains("We received your booking request"),
        "the page was reloaded instead of updated"
    );

    // The list of bookings shows both.
    b.goto(&app.url("/bookings")).await;
    let list = b.wait_for_text("My bookings").await;
    assert!(
        list.contains("confirmed") && list.contains("cancelled"),
        "{list}"
    );
}
