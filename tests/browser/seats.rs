//! Seats chosen on a show's map with the mouse and with the keyboard, the total before paying,
//! the tickets with their QR codes, and the door admitting one of them once.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    driver::browser,
    helpers::{assert_status, spawn_app},
};

/// The WebDriver key for the right arrow.
const RIGHT: &str = "\u{E014}";
/// The WebDriver key for the down arrow.
const DOWN: &str = "\u{E015}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_picks_seats_by_mouse_and_keyboard_pays_opens_the_tickets_and_the_door_admits_one()
 {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (admin, admin_user) = app.admin().await;
    let venue = assert_status(
        app.post_json(
            &admin,
            "/api/venues",
            &json!({"name": "Teatro", "time_zone": "Europe/Rome", "sections": [
                {"name": "Platea", "price_cents": 3_000, "rows": [{"label": "A", "seats": 8}, {"label": "B", "seats": 8}]},
                {"name": "Galleria", "price_cents": 1_500, "rows": [{"label": "A", "seats": 6}]}]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let show = assert_status(
        app.post_json(
            &admin,
            "/api/shows",
            &json!({"title": "Tosca", "venue_id": venue["id"], "starts_at": "2099-05-05T18:00:00Z",
                    "currency": "EUR"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let show_page = app.url(&format!("/shows/{}", show["id"].as_str().unwrap()));

    b.goto(&app.url("/signup")).await;
    b.fill("input[name=full_name]", "Floria Tosca").await;
    b.fill("input[name=email]", "floria@example.com").await;
    b.fill("input[name=password]", "vissi d'arte 1900").await;
    b.click("form[action='/signup'] button[type=submit]").await;
    b.wait_for_text("Your account is ready").await;

    // The show in its venue's time, the zone named.
    b.goto(&show_page).await;
    let page = b.wait_for_text("Choose your seats").await;
    assert!(
        page.contains("20:00 CEST (EUROPE/ROME)") || page.contains("20:00 CEST (Europe/Rome)"),
        "{page}"
    );

    // The mouse picks A4; the keyboard moves right to A5 and ticks it, then down to B5.
    b.click("input[data-seat='Platea A4']").await;
    b.wait_for_text("1 seat: Platea A4 · total €30.00").await;
    let a4 = b.find("input[data-seat='Platea A4']").await;
    a4.send_keys(RIGHT).await.unwrap();
    assert_eq!(
        b.script("return document.activeElement.getAttribute('data-seat');")
            .await,
        "Platea A5"
    );
    b.type_keys(" ").await;
    b.wait_for_text("2 seats: Platea A4, Platea A5 · total €60.00")
        .await;
    b.type_keys(DOWN).await;
    assert_eq!(
        b.script("return document.activeElement.getAttribute('data-seat');")
            .await,
        "Platea B5"
    );
    // The map has one Tab stop: the seat last moved to.
    let stops = b
        .script("return document.querySelectorAll('input[name=seat][tabindex=\"0\"]').length;")
        .await;
    assert_eq!(stops, 1);

    // The checkout shows every seat and the total before paying.
    b.to_checkout().await;
    let order = b.wait_for_text("Pay €60.00").await;
    assert!(
        order.contains("Platea, row A, seat 4")
            && order.contains("Platea, row A, seat 5")
            && order.contains("€60.00"),
        "{order}"
    );
    b.click("input[name=payment_type][value=card]").await;
    b.fill("input[name=number]", "4242 4242 4242 4242").await;
    b.fill("input[name=exp_month]", "12").await;
    b.fill("input[name=exp_year]", "2031").await;
    b.fill("input[name=cvc]", "123").await;
    b.click("form[action$='/book'] button[type=submit]").await;
    b.wait_for_text("Confirmed: the seats are yours.").await;

    // The tickets: one per seat, each with its QR code and its code to type.
    b.click("a.btn[href$='/tickets']").await;
    let tickets = b.wait_for_text("Your tickets").await;
    assert!(tickets.contains("Platea, row A, seat 4"), "{tickets}");
    let qr_codes = b
        .script("return document.querySelectorAll('.ticket svg.qr').length;")
        .await;
    assert_eq!(qr_codes, 2);
    let code = b
        .script("return document.querySelector('.ticket-qr').getAttribute('data-code');")
        .await
        .as_str()
        .unwrap()
        .to_owned();

    // The map now shows the two seats sold.
    b.goto(&show_page).await;
    b.wait_for_text("Choose your seats").await;
    let taken = b
        .script("return document.querySelectorAll('.seat-row .seat.sold').length;")
        .await;
    assert_eq!(taken, 2);

    // The door: the code admits once, then says when it came in.
    b.switch_user(
        &app.url("/login"),
        admin_user["email"].as_str().unwrap(),
        "admin password",
    )
    .await;
    b.goto(&app.url(&format!("/door?show_id={}", show["id"].as_str().unwrap())))
        .await;
    b.fill("input[name=code]", &code).await;
    b.click("form[data-door] button[type=submit]").await;
    let admitted = b.wait_for_text("Admitted").await;
    assert!(admitted.contains("Platea, row A, seat 4"), "{admitted}");
    assert_eq!(b.focused_name().await, "code", "ready for the next scan");
    b.fill("input[name=code]", &code).await;
    b.click("form[data-door] button[type=submit]").await;
    b.wait_for_text("Already admitted").await;
    b.fill("input[name=code]", "BO1-NOT-A-CODE").await;
    b.click("form[data-door] button[type=submit]").await;
    b.wait_for_text("Not a ticket").await;
}
