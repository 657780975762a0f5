//! An automated accessibility audit of every page: axe-core (from the npm registry) runs in the
//! real page, and no serious or critical finding is the bar.
//!
//! axe-core is found at `BOXOFFICE_AXE_JS` (its `axe.min.js`; `.ci/run` installs it). Without
//! it this test says so loudly and passes; with `BOXOFFICE_REQUIRE_TOOLS` set it fails.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    ADMIN_PAGES,
    driver::{Browser, browser},
    helpers::{assert_status, spawn_app},
};

fn axe_source() -> Option<String> {
    let found = std::env::var_os("BOXOFFICE_AXE_JS").and_then(|p| std::fs::read_to_string(p).ok());
    if found.is_none() {
        assert!(
            std::env::var_os("BOXOFFICE_REQUIRE_TOOLS").is_none(),
            "BOXOFFICE_REQUIRE_TOOLS is set but BOXOFFICE_AXE_JS names no axe.min.js"
        );
        eprintln!(
            "\n*** SKIPPED: no axe-core (npm install axe-core@4.14.1, then BOXOFFICE_AXE_JS=.../axe.min.js); the pages were NOT audited ***\n"
        );
    }
    found
}

/// The serious and critical findings of axe on the page at `path`, one line each.
async fn findings(b: &Browser, axe: &str, url: &str) -> Vec<String> {
    b.goto(url).await;
    b.find("main").await;
    b.script(&format!("{axe}\nreturn true;")).await;
    let violations = b
        .script_async(
            "const done = arguments[arguments.length - 1];
             axe.run({ resultTypes: ['violations'] })
                .then(r => done(r.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => `${v.impact} ${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)))
                .catch(e => done([`axe failed: ${e}`]));",
        )
        .await;
    serde_json::from_value::<Vec<String>>(violations)
        .unwrap()
        .into_iter()
        .map(|f| format!("{url}: {f}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_has_a_serious_or_critical_accessibility_finding() {
    let Some(axe) = axe_source() else { return };
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (admin, admin_user) = app.admin().await;
    let show = assert_status(
        app.post_json(
            &admin,
            "/api/shows",
            &json!({"title": "Audited", "venue": "Hall", "starts_at": "2099-03-03T19:00:00Z",
                    "capacity": 10, "price_cents": 1_500, "currency": "EUR"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let show_page = format!("/shows/{}", show["id"].as_str().unwrap());
    // A seated show: its map, its checkout, and a paid booking's tickets.
    let venue = assert_status(
        app.post_json(
            &admin,
            "/api/venues",
            &json!({"name": "Audited Hall", "time_zone": "Europe/Paris", "sections": [
                {"name": "Stalls", "price_cents": 2_000, "rows": [{"label": "A", "seats": 8},
                    {"label": "B", "seats": 8, "unavailable": ["4"]}]}]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let seated = assert_status(
        app.post_json(
            &admin,
            "/api/shows",
            &json!({"title": "Audited Seats", "venue_id": venue["id"],
                    "starts_at": "2099-03-04T19:00:00Z", "currency": "EUR"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let seated_page = format!("/shows/{}", seated["id"].as_str().unwrap());
    let checkout = format!("{seated_page}/checkout?best=2");
    assert_status(
        app.post_json(
            &admin,
            "/api/wallet/deposits",
            &json!({"amount_cents": 10_000}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let paid = assert_status(
        app.post_json(
            &admin,
            "/api/bookings",
            &json!({"show_id": seated["id"], "seats": 2, "payment": {"type": "wallet"}}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let tickets_page = format!("/bookings/{}/tickets", paid["id"].as_str().unwrap());
    let mut found = Vec::new();

    for path in [
        "/",
        "/login",
        "/signup",
        "/problems",
        &show_page,
        &seated_page,
        "/nowhere",
    ] {
        found.extend(findings(&b, &axe, &app.url(path)).await);
    }

    // A customer, through the pages: a declined booking gives the booking page its most to say.
    b.goto(&app.url("/signup")).await;
    b.fill("input[name=full_name]", "Ada Lovelace").await;
    b.fill("input[name=email]", "ada@example.com").await;
    b.fill("input[name=password]", "analytical engines").await;
    b.click("form[action='/signup'] button[type=submit]").await;
    b.wait_for_text("Your account is ready").await;
    b.goto(&app.url(&show_page)).await;
    b.to_checkout().await;
    b.click("input[name=payment_type][value=card]").await;
    b.fill("input[name=number]", "4000 0000 0000 0002").await;
    b.fill("input[name=exp_month]", "12").await;
    b.fill("input[name=exp_year]", "2031").await;
    b.fill("input[name=cvc]", "123").await;
    b.click("form[action$='/book'] button[type=submit]").await;
    b.wait_for_text("Not booked").await;
    let booking_page = b.path().await;
    for path in [
        "/bookings",
        "/wallet",
        "/account",
        &show_page,
        &seated_page,
        &checkout,
        &booking_page,
    ] {
        found.extend(findings(&b, &axe, &app.url(path)).await);
    }

    // The box office's side.
    b.switch_user(
        &app.url("/login"),
        admin_user["email"].as_str().unwrap(),
        "admin password",
    )
    .await;
    let admin_show = format!("/admin/shows/{}", show["id"].as_str().unwrap());
    let admin_seated = format!("/admin/shows/{}", seated["id"].as_str().unwrap());
    let admin_venue = format!("/admin/venues/{}", venue["id"].as_str().unwrap());
    let admin_pages = ADMIN_PAGES.iter().copied().chain([
        &*admin_show,
        &*admin_seated,
        &*admin_venue,
        &*booking_page,
        &*tickets_page,
    ]);
    for path in admin_pages {
        found.extend(findings(&b, &axe, &app.url(path)).await);
    }
    assert!(
        found.is_empty(),
        "accessibility findings:\n{}",
        found.join("\n")
    );
}
