//! Signing up and logging in through the real pages.

use crate::{driver::browser, helpers::spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_signs_up_logs_out_and_logs_back_in_through_the_pages() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;

    b.goto(&app.url("/signup")).await;
    b.fill("input[name=full_name]", "Grace Hopper").await;
    b.fill("input[name=email]", "not-an-email").await;
    b.fill("input[name=password]", "compilers rule!").await;
    b.click("button[type=submit]").await;
    b.wait_for_text("Email must be an email address").await;
    // The first field to fix has the focus.
    assert_eq!(b.focused_name().await, "email");

    b.fill("input[name=email]", "grace@example.com").await;
    b.fill("input[name=password]", "compilers rule!").await;
    b.click("form[action='/signup'] button[type=submit]").await;
    let home = b.wait_for_text("Your account is ready").await;
    assert!(
        home.contains("Grace Hopper"),
        "the header should name the new user:\n{home}"
    );

    b.click("form[action='/logout'] button").await;
    b.wait_for_text("You are logged out").await;

    b.goto(&app.url("/login")).await;
    b.fill("input[name=email]", "grace@example.com").await;
    b.fill("input[name=password]", "wrong password").await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for_text("Email or password is wrong").await;

    b.fill("input[name=password]", "compilers rule!").await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for_text("Grace Hopper").await;
    assert_eq!(b.path().await, "/");

    b.goto(&app.url("/account")).await;
    b.wait_for_text("Your account").await;
    b.fill("input[name=full_name]", "Rear Admiral Grace Hopper")
        .await;
    b.click("form[action='/account'] button[type=submit]").await;
    b.wait_for_text("Your changes are saved").await;
    b.wait_for_text("Rear Admiral Grace Hopper").await;
}
