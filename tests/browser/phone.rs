//! The main journeys on a phone's screen (390 CSS pixels): no page scrolls sideways, and the
//! columns a customer needs stay in view.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    driver::{Browser, phone},
    helpers::{assert_status, spawn_app},
};

/// The page's width beyond the screen's, in CSS pixels (0 when nothing scrolls sideways).
async fn overflow(b: &Browser) -> i64 {
    b.script("return document.documentElement.scrollWidth - window.innerWidth;")
        .await
        .as_i64()
        .unwrap()
}

/// The header cells of the page's first table that end past the screen's right edge.
async fn cut_off_columns(b: &Browser) -> Vec<String> {
    let cut = b
        .script(
            "return [...document.querySelectorAll('table th')]
                .filter(th => th.offsetParent !== null
                    && th.getBoundingClientRect().right > window.innerWidth + 0.5)
                .map(th => th.textContent.trim());",
        )
        .await;
    serde_json::from_value(cut).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_up_deposits_books_and_reads_every_page_on_a_phone() {
    let Some(b) = phone().await else { return };
    let app = spawn_app().await;
    let (admin, admin_user) = app.admin().await;
    assert_status(
        app.post_json(
            &admin,
            "/api/shows",
            &json!({"title": "A Rather Long Title for a Small Screen", "venue": "Phone Hall",
                    "starts_at": "2099-05-01T19:30:00Z", "capacity": 50, "price_cents": 1_800,
                    "currency": "EUR"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    b.goto(&app.url("/signup")).await;
    assert_eq!(overflow(&b).await, 0, "/signup");
    b.fill("input[name=full_name]", "Grace Hopper").await;
    b.fill("input[name=email]", "grace@example.com").await;
    b.fill("input[name=password]", "compilers rule!").await;
    b.click("form[action='/signup'] button[type=submit]").await;
    b.wait_for_text("Your account is ready").await;

    b.goto(&app.url("/wallet")).await;
    b.fill("input[name=amount]", "50,00").await;
    b.click("form[action='/wallet/deposits'] button[type=submit]")
        .await;
    b.wait_for_text("Money added to your wallet").await;

    b.goto(&app.url("/")).await;
    b.click("a[href^='/shows/']").await;
    b.wait_for_text("Continue to payment").await;
    assert_eq!(overflow(&b).await, 0, "the show's page");
    b.to_checkout().await;
    b.wait_for_text("€50.00 in it").await;
    assert_eq!(overflow(&b).await, 0, "the checkout");
    b.click("form[action$='/book'] button[type=submit]").await;
    b.wait_for_text("Confirmed: the seats are yours.").await;
    assert_eq!(overflow(&b).await, 0, "the booking's page");

    for (path, needed) in [
        ("/", &[][..]),
        ("/bookings", &["Show", "Amount", "Status"][..]),
        ("/wallet", &["What", "Amount", "Balance after"][..]),
        ("/account", &[][..]),
    ] {
        b.goto(&app.url(path)).await;
        b.find("main").await;
        assert_eq!(overflow(&b).await, 0, "{path} scrolls sideways");
        let cut = cut_off_columns(&b).await;
        assert!(cut.is_empty(), "{path}: columns past the screen: {cut:?}");
        let text = b.find("main").await.text().await.unwrap().to_uppercase();
        for column in needed {
            assert!(
                text.contains(&column.to_uppercase()),
                "{path}: no {column} column"
            );
        }
    }

    // And the box office's pages, on the same phone.
    b.switch_user(
        &app.url("/login"),
        admin_user["email"].as_str().unwrap(),
        "admin password",
    )
    .await;
    for path in crate::ADMIN_PAGES {
        b.goto(&app.url(path)).await;
        b.find("main").await;
        assert_eq!(overflow(&b).await, 0, "{path} scrolls sideways");
        assert_eq!(
            b.script("return window.innerWidth;").await,
            390,
            "{path} is laid out wider than the phone"
        );
    }
}
