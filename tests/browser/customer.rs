//! The customer's way through the site, in a real browser: amounts as people type them, only
//! what can pay offered, the truth after submitting, live totals, and the pages' own manners
//! (one title each, a skip link, the focus on the first error, the site's 404 page).

use std::time::Duration;

use kernel_testkit::within;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    driver::{Browser, browser},
    helpers::{TestApp, assert_status, spawn_app},
};

async fn show(app: &TestApp, admin: &reqwest::Client, title: &str) -> Value {
    assert_status(
        app.post_json(
            admin,
            "/api/shows",
            &json!({"title": title, "venue": "Main Hall", "starts_at": "2099-04-04T20:00:00Z",
                    "capacity": 40, "price_cents": 1_250, "currency": "EUR"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn sign_up(b: &Browser, app: &TestApp, name: &str, email: &str) {
    b.goto(&app.url("/signup")).await;
    b.fill("input[name=full_name]", name).await;
    b.fill("input[name=email]", email).await;
    b.fill("input[name=password]", "analytical engines").await;
    b.click("form[action='/signup'] button[type=submit]").await;
    b.wait_for_text("Your account is ready").await;
}

/// Deposits `amount` through the wallet's form and returns the page that answered.
async fn deposit(b: &Browser, app: &TestApp, amount: &str) -> String {
    b.goto(&app.url("/wallet")).await;
    b.fill("input[name=amount]", amount).await;
    b.script("window.beforeTheAnswer = true; return null;")
        .await;
    b.click("form[action='/wallet/deposits'] button[type=submit]")
        .await;
    let answered = within(Duration::from_secs(15), || async {
        let loaded = b
            .script("return window.beforeTheAnswer === undefined && document.readyState === 'complete';")
            .await;
        (loaded == true).then_some(())
    })
    .await;
    assert!(
        answered.is_some(),
        "the deposit of {amount:?} got no answer"
    );
    b.find("body").await.text().await.unwrap()
}

async fn pay_by_card(b: &Browser, number: &str) {
    b.click("input[name=payment_type][value=card]").await;
    b.fill("input[name=number]", number).await;
    b.fill("input[name=exp_month]", "12").await;
    b.fill("input[name=exp_year]", "2031").await;
    b.fill("input[name=cvc]", "123").await;
    b.click("form[action$='/book'] button[type=submit]").await;
}

/// The "Your totals" card: bookings, spent, refunded.
async fn totals(b: &Browser) -> Vec<String> {
    let shown = b
        .script(
            "return Array.from(document.querySelectorAll('#totals dd'), (dd) => dd.textContent);",
        )
        .await;
    serde_json::from_value(shown).unwrap()
}

/// Waits (15 s at most) for the totals card to show `expected`, without a reload.
async fn totals_become(b: &Browser, expected: [&str; 3]) {
    let shown = within(Duration::from_secs(15), || async {
        let t = totals(b).await;
        (t == expected).then_some(t)
    })
    .await;
    if shown.is_none() {
        panic!("the totals show {:?}, never {expected:?}", totals(b).await);
    }
}

/// What a customer reads, with the "How this works" disclosures set aside, speaks no
/// architecture.
async fn assert_no_jargon(b: &Browser, path: &str) {
    let read = b
        .script(
            "const main = document.querySelector('main').cloneNode(true); \
             main.querySelectorAll('details.how').forEach((d) => d.remove()); \
             return main.textContent.toLowerCase();",
        )
        .await;
    let read = read.as_str().unwrap();
    for jargon in [
        "saga",
        "read model",
        "read-your-writes",
        "event-sourced",
        "replayed",
        "awaiting_payment",
        "composed",
        "module",
    ] {
        assert!(!read.contains(jargon), "{path} says {jargon:?}: {read}");
    }
}

async fn balance(b: &Browser) -> String {
    b.find(".balance").await.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_is_typed_as_people_write_it_only_what_can_pay_is_offered_and_the_booking_page_tells_the_truth()
 {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let show = show(&app, &admin, "Money Night").await;
    let show_page = app.url(&format!("/shows/{}", show["id"].as_str().unwrap()));
    sign_up(&b, &app, "Ada Lovelace", "ada@example.com").await;

    // An empty wallet is not offered at the checkout, and says why; the card is chosen instead.
    b.goto(&show_page).await;
    b.to_checkout().await;
    let page = b.wait_for_text("The wallet is not offered").await;
    assert!(page.contains("(not offered)"), "{page}");
    assert_eq!(
        b.script(
            "return document.querySelector('input[name=payment_type][value=wallet]').disabled;"
        )
        .await,
        true
    );
    assert_eq!(
        b.script("return document.querySelector('input[name=payment_type][value=card]').checked;")
            .await,
        true
    );

    // An amount that could be read two ways is refused on its field, which has the focus, and
    // nothing is deposited.
    let refused = deposit(&b, &app, "1,000").await;
    assert!(refused.contains("could be read two ways"), "{refused}");
    assert_eq!(b.focused_name().await, "amount");
    assert_eq!(balance(&b).await, "€0.00");
    for (typed, meant) in [("20,50", "€20.50"), (" 1.000,50 ", "€1,021.00")] {
        let done = deposit(&b, &app, typed).await;
        assert!(
            done.contains("Money added to your wallet"),
            "{typed}: {done}"
        );
        assert_eq!(balance(&b).await, meant, "after depositing {typed:?}");
    }
    for typed in ["-5", "1e3", "20,5,0", ""] {
        deposit(&b, &app, typed).await;
        b.find("input[name=amount][aria-invalid=true]").await;
        assert_eq!(balance(&b).await, "€1,021.00", "after {typed:?}");
    }

    // A declined card: the reason in words, and a way to try again.
    b.goto(&show_page).await;
    b.to_checkout().await;
    pay_by_card(&b, "4000 0000 0000 0002").await;
    let declined = b
        .wait_for_text("Not booked: the payment was declined (the card was declined)")
        .await;
    assert!(!declined.contains("card_declined"), "{declined}");
    assert!(!declined.contains("Booked!"), "{declined}");
    b.click("a.btn[href^='/shows/']").await;
    b.wait_for_text("Continue to payment").await;
    assert_eq!(
        b.path().await,
        format!("/shows/{}", show["id"].as_str().unwrap())
    );

    // The wallet, now offered, pays; the totals below the booking follow without a reload.
    b.fill("input[name=seats]", "2").await;
    b.to_checkout().await;
    b.click("input[name=payment_type][value=wallet]").await;
    b.click("form[action$='/book'] button[type=submit]").await;
    let confirmed = b.wait_for_text("Confirmed: the seats are yours.").await;
    assert!(confirmed.contains("€25.00"), "{confirmed}");
    assert_no_jargon(&b, "the booking's page").await;
    totals_become(&b, ["2 (1 confirmed)", "€25.00", "€0.00"]).await;
    b.script("window.stillTheSamePage = true; return null;")
        .await;
    let cancel = format!("/api/shows/{}/cancel", show["id"].as_str().unwrap());
    assert_status(
        app.post_json(&admin, &cancel, &json!({})).await,
        StatusCode::OK,
    )
    .await;
    let after = b.wait_for_text("The show was cancelled").await;
    assert!(after.contains("Your totals"), "{after}");
    totals_become(&b, ["2 (0 confirmed)", "€0.00", "€25.00"]).await;
    assert_eq!(
        b.find("#totals .badge").await.text().await.unwrap(),
        "up to date"
    );
    assert_eq!(
        b.script("return window.stillTheSamePage === true;").await,
        true,
        "the page was reloaded instead of updated"
    );

    // Looking back with the browser's own date-time value.
    b.goto(&app.url("/wallet")).await;
    b.script(
        "document.querySelector('input[name=as_of]').value = '2001-01-01T00:00'; return null;",
    )
    .await;
    b.click("#as-of button[type=submit]").await;
    let then = b.wait_for_text("Balance then").await;
    assert!(then.contains("Balance then: €0.00"), "{then}");
    assert!(!then.contains("RFC 3339"), "{then}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_its_own_title_a_skip_link_and_the_sites_404_for_a_bad_id() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (admin, admin_user) = app.admin().await;
    let show = show(&app, &admin, "Manners Night").await;
    let show_page = format!("/shows/{}", show["id"].as_str().unwrap());
    sign_up(&b, &app, "Grace Hopper", "grace@example.com").await;

    let mut titles = Vec::new();
    for path in ["/", "/bookings", "/wallet", "/account", &show_page] {
        b.goto(&app.url(path)).await;
        b.find("main").await;
        let title = b.script("return document.title;").await;
        assert!(
            !titles.contains(&title),
            "{path} has the title of another page: {title}"
        );
        titles.push(title);
        assert_no_jargon(&b, path).await;
        assert_eq!(
            b.script("return document.querySelectorAll('h1').length;")
                .await,
            1,
            "{path}"
        );
        // The first Tab reaches the skip link, and following it moves the focus to the page.
        b.script("document.activeElement && document.activeElement.blur(); return null;")
            .await;
        b.client
            .active_element()
            .await
            .unwrap()
            .send_keys("\u{e004}")
            .await
            .unwrap();
        assert_eq!(
            b.script("return document.activeElement.className;").await,
            "skip-link",
            "{path}"
        );
        b.client
            .active_element()
            .await
            .unwrap()
            .send_keys("\u{e007}")
            .await
            .unwrap();
        assert_eq!(b.script("return location.hash;").await, "#main", "{path}");
    }

    // Bad ids: the site's page, never a JSON document.
    for path in ["/shows/not-an-id", "/bookings/12345"] {
        b.goto(&app.url(path)).await;
        let text = b.wait_for_text("Page not found").await;
        assert!(!text.trim_start().starts_with('{'), "{path}: {text}");
        assert_eq!(
            b.script("return document.contentType;").await,
            "text/html",
            "{path}"
        );
    }

    // The admin's show form shows every error at once, with the focus on the first.
    b.switch_user(
        &app.url("/login"),
        admin_user["email"].as_str().unwrap(),
        "admin password",
    )
    .await;
    b.goto(&app.url("/admin/shows")).await;
    b.fill("input[name=title]", "").await;
    b.fill("input[name=capacity]", "ten").await;
    b.fill("input[name=price]", "12,5x").await;
    b.click("form[action='/admin/shows'] button[type=submit]")
        .await;
    b.find("[aria-invalid=true]").await;
    let errors = b
        .script("return document.querySelectorAll('[aria-invalid=true]').length;")
        .await;
    assert!(errors.as_i64().unwrap() >= 3, "{errors}");
    assert_eq!(b.focused_name().await, "title");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_module_down_the_pages_offer_a_way_forward_and_the_admin_can_bring_it_back() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (_, admin_user) = app.admin().await;
    b.goto(&app.url("/login")).await;
    b.fill("input[name=email]", admin_user["email"].as_str().unwrap())
        .await;
    b.fill("input[name=password]", "admin password").await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for_text("Log out").await;

    for module in ["bookings", "payments", "users"] {
        b.goto(&app.url("/admin/health")).await;
        b.click(&format!(
            "form[action='/admin/modules/{module}/availability'] button.btn-danger"
        ))
        .await;
        b.wait_for_text("Bring back online").await;
        if module == "bookings" {
            // The shows cannot be listed: the page says so, still signed in, and its ways
            // forward lead somewhere that works.
            b.goto(&app.url("/")).await;
            let down = b.wait_for_text("Try again").await;
            assert!(
                down.contains("Log out") && !down.contains("Sign up"),
                "{down}"
            );
            b.click("main a[href='/wallet']").await;
            b.wait_for_text("Your wallet").await;
        }
        // The pages used to diagnose and end the outage keep working.
        b.goto(&app.url("/admin/consumers")).await;
        if module != "users" {
            b.wait_for_text(&format!("Not answering now: {module}."))
                .await;
        }
        b.goto(&app.url("/admin/health")).await;
        b.click(&format!(
            "form[action='/admin/modules/{module}/availability'] button.btn-secondary"
        ))
        .await;
        // The answer to the click is the Health page offering to take the module offline again.
        b.find(&format!(
            "form[action='/admin/modules/{module}/availability'] button.btn-danger"
        ))
        .await;
        let health = app.get_json(&reqwest::Client::new(), "/health").await;
        assert_eq!(health["status"], "ok", "{module} is not back: {health}");
    }
}
