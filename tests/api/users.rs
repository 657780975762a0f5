//! The users part of the HTTP contract: sign-up, sessions, profiles, roles, and bad input.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    assert_problem, assert_status, client, error_fields, form_token, spawn_app, spawn_app_with,
    unique_email,
};

#[tokio::test]
async fn registering_returns_201_with_the_user_and_its_location() {
    let app = spawn_app().await;
    let email = unique_email("ada");
    let response = app.register(&client(), &email, "correct horse").await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let user = assert_status(response, StatusCode::CREATED).await;
    assert_eq!(user["email"], email);
    assert_eq!(user["role"], "customer");
    assert_eq!(
        location,
        format!("/api/users/{}", user["id"].as_str().unwrap())
    );
    assert!(
        user.get("password").is_none() && user.get("password_hash").is_none(),
        "{user}"
    );
}

#[tokio::test]
async fn registering_a_taken_email_in_another_letter_case_is_a_409_naming_the_field() {
    let app = spawn_app().await;
    let email = unique_email("ada");
    assert_status(
        app.register(&client(), &email, "correct horse").await,
        StatusCode::CREATED,
    )
    .await;
    let problem = assert_problem(
        app.register(&client(), &email.to_uppercase(), "other horse")
            .await,
        StatusCode::CONFLICT,
        "email-taken",
    )
    .await;
    assert_eq!(error_fields(&problem), ["email"]);
}

#[tokio::test]
async fn bad_sign_up_input_is_a_clear_4xx_and_never_a_500() {
    let app = spawn_app().await;
    let long = "x".repeat(300);
    let cases: Vec<(Value, StatusCode, &str, Vec<&str>)> = vec![
        (
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["email", "full_name", "password"],
        ),
        (
            json!({"email": "not-an-email", "full_name": "A", "password": "correct horse"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["email"],
        ),
        (
            json!({"email": "a@example.com", "full_name": long, "password": "correct horse"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["full_name"],
        ),
        (
            json!({"email": format!("{long}@example.com"), "full_name": "A", "password": "correct horse"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["email"],
        ),
        (
            json!({"email": "a@example.com", "full_name": "A", "password": "x".repeat(500)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "full_name": "A", "password": "short"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["password"],
        ),
        (
            json!({"email": 42, "full_name": "A", "password": "correct horse"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["email"],
        ),
        (
            json!({"email": "a@example.com", "full_name": ["A"], "password": "correct horse"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["full_name"],
        ),
        (
            json!(["a@example.com"]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["body"],
        ),
        (
            json!(null),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            vec!["body"],
        ),
    ];
    for (body, status, slug, fields) in cases {
        let problem = assert_problem(
            app.post_json(&client(), "/api/users", &body).await,
            status,
            slug,
        )
        .await;
        assert_eq!(error_fields(&problem), fields, "for body {body}");
    }
    for (content_type, body, status, slug) in [
        (
            "application/json",
            "{\"email\": ",
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "application/json",
            "",
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "application/json",
            "{\"email\":\"a@b.c\"} trailing",
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "text/plain",
            "{}",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "application/x-www-form-urlencoded",
            "email=a",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
    ] {
        assert_problem(
            app.post_raw(&client(), "/api/users", content_type, body)
                .await,
            status,
            slug,
        )
        .await;
    }
    let huge = format!("{{\"email\":\"{}\"}}", "x".repeat(70 * 1024));
    let response = client()
        .post(app.url("/api/users"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;

    // Nothing of the above was stored.
    let (admin, _) = app.admin().await;
    let users = app.get_json(&admin, "/api/users").await;
    assert_eq!(users["items"].as_array().unwrap().len(), 1, "{users}");
}

#[tokio::test]
async fn logging_in_sets_an_http_only_same_site_cookie_and_logging_out_ends_the_session() {
    let app = spawn_app().await;
    let browser = client();
    let email = unique_email("ada");
    assert_status(
        app.register(&browser, &email, "correct horse").await,
        StatusCode::CREATED,
    )
    .await;
    let response = app.log_in(&browser, &email, "correct horse").await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_status(response, StatusCode::NO_CONTENT).await;
    assert!(cookie.starts_with("bo_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "a plain-HTTP cookie must not be Secure: {cookie}"
    );

    let me = app.get_json(&browser, "/api/me").await;
    assert_eq!(me["email"], email);

    assert_status(
        browser
            .delete(app.url("/api/session"))
            .send()
            .await
            .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_problem(
        app.get(&browser, "/api/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn cookies_are_secure_behind_a_tls_proxy() {
    let app = spawn_app().await;
    let email = unique_email("ada");
    assert_status(
        app.register(&client(), &email, "correct horse").await,
        StatusCode::CREATED,
    )
    .await;
    let response = client()
        .post(app.url("/api/session"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": email, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_are_the_same_401() {
    let app = spawn_app().await;
    let email = unique_email("ada");
    assert_status(
        app.register(&client(), &email, "correct horse").await,
        StatusCode::CREATED,
    )
    .await;
    let wrong = assert_problem(
        app.log_in(&client(), &email, "wrong horse").await,
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
    )
    .await;
    let unknown = assert_problem(
        app.log_in(&client(), "nobody@example.com", "correct horse")
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
    )
    .await;
    assert_eq!(wrong, unknown);
    // Blanks are an address like any other no account has (the document asks only for a
    // non-empty string); a missing or empty field is the client's mistake.
    let blank = assert_problem(
        app.log_in(&client(), " \u{c}\t", "correct horse").await,
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
    )
    .await;
    assert_eq!(blank, unknown);
    for body in [
        json!({}),
        json!({"email": "", "password": "correct horse"}),
        json!({"email": email, "password": ""}),
    ] {
        assert_problem(
            app.post_json(&client(), "/api/session", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
    }
}

#[tokio::test]
async fn without_a_session_every_user_endpoint_is_401() {
    let app = spawn_app().await;
    let anonymous = client();
    let id = "01900000-0000-7000-8000-000000000000";
    assert_problem(
        app.get(&anonymous, "/api/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.get(&anonymous, "/api/users").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.get(&anonymous, &format!("/api/users/{id}")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.patch_json(&anonymous, &format!("/api/users/{id}"), &json!({}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        anonymous
            .delete(app.url("/api/session"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let forged = client()
        .get(app.url("/api/me"))
        .header("cookie", "bo_session=forged-token")
        .send()
        .await
        .unwrap();
    assert_problem(forged, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn a_customer_sees_only_themselves_and_an_admin_sees_everyone() {
    let app = spawn_app().await;
    let (ada, ada_user) = app.customer().await;
    let (_, bob_user) = app.customer().await;
    let bob_path = format!("/api/users/{}", bob_user["id"].as_str().unwrap());

    app.get_json(
        &ada,
        &format!("/api/users/{}", ada_user["id"].as_str().unwrap()),
    )
    .await;
    assert_problem(
        app.get(&ada, &bob_path).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.patch_json(&ada, &bob_path, &json!({"full_name": "Mallory"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&ada, "/api/users").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let (admin, _) = app.admin().await;
    assert_eq!(app.get_json(&admin, &bob_path).await["id"], bob_user["id"]);
    assert_problem(
        app.get(&admin, "/api/users/01900000-0000-7000-8000-000000000000")
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        app.get(&admin, "/api/users/not-a-uuid").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;

    let first = app.get_json(&admin, "/api/users?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let rest = app
        .get_json(&admin, &format!("/api/users?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    for bad in [
        "/api/users?limit=0",
        "/api/users?limit=500",
        "/api/users?limit=ten",
        "/api/users?cursor=nope",
    ] {
        assert_problem(
            app.get(&admin, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
    }
}

#[tokio::test]
async fn changing_the_email_works_once_and_a_taken_address_is_refused() {
    let app = spawn_app().await;
    let (ada, ada_user) = app.customer().await;
    let (_, bob_user) = app.customer().await;
    let path = format!("/api/users/{}", ada_user["id"].as_str().unwrap());
    let new_email = unique_email("ada-new");

    let updated = assert_status(
        app.patch_json(
            &ada,
            &path,
            &json!({"email": new_email, "full_name": "Ada King"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["email"], new_email);
    assert_eq!(updated["full_name"], "Ada King");
    assert_eq!(updated["email_version"], 2);

    let taken = app
        .patch_json(&ada, &path, &json!({"email": bob_user["email"]}))
        .await;
    let problem = assert_problem(taken, StatusCode::CONFLICT, "email-taken").await;
    assert_eq!(error_fields(&problem), ["email"]);
    let invalid = app
        .patch_json(&ada, &path, &json!({"email": "nope", "full_name": ""}))
        .await;
    let problem = assert_problem(
        invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(error_fields(&problem), ["email", "full_name"]);
    let me = app.get_json(&ada, "/api/me").await;
    assert_eq!(me["email"], new_email);
}

#[tokio::test]
async fn a_deactivated_user_is_logged_out_and_cannot_log_in() {
    let app = spawn_app().await;
    let (ada, ada_user) = app.customer().await;
    let (admin, _) = app.admin().await;
    let id = ada_user["id"].as_str().unwrap();
    let done = assert_status(
        app.post_json(&admin, &format!("/api/users/{id}/deactivate"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["active"], false);
    assert_problem(
        app.get(&ada, "/api/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let email = ada_user["email"].as_str().unwrap();
    assert_problem(
        app.log_in(&client(), email, "correct horse").await,
        StatusCode::FORBIDDEN,
        "account-deactivated",
    )
    .await;
}

#[tokio::test]
async fn html_forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let browser = client();
    let response = browser
        .post(app.url("/signup"))
        .form(&[
            ("email", "ada@example.com"),
            ("full_name", "Ada"),
            ("password", "correct horse"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // With the token from the page, the same form signs up and logs in.
    let page = browser
        .get(app.url("/signup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = form_token(&page);
    let response = browser
        .post(app.url("/signup"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "ada@example.com"),
            ("full_name", "Ada"),
            ("password", "correct horse"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let me = app.get_json(&browser, "/api/me").await;
    assert_eq!(me["email"], "ada@example.com");

    // A form with errors is shown again with the messages next to the fields.
    let response = browser
        .post(app.url("/account"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "nope"),
            ("full_name", "Ada"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("Email must be an email address"), "{html}");
}

#[tokio::test]
async fn a_write_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let response = client()
        .post(app.url("/api/users"))
        .header("origin", "https://evil.example")
        .json(&json!({"email": "a@example.com", "full_name": "A", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
}

/// `POST /api/session` `times` times with a wrong password, each a 401.
async fn fail_logins(app: &crate::helpers::TestApp, email: &str, times: usize) {
    for _ in 0..times {
        assert_problem(
            app.log_in(&client(), email, "wrong horse").await,
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
        )
        .await;
    }
}

/// The `Retry-After` of a 429 `too-many-logins` problem.
async fn throttled(response: reqwest::Response) -> u64 {
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too-many-logins").await;
    retry_after
}

#[tokio::test]
async fn failed_logins_lock_the_account_with_a_growing_retry_after_and_refuse_the_right_password_until_it_ends()
 {
    let app = spawn_app().await;
    let email = unique_email("ada");
    assert_status(
        app.register(&client(), &email, "correct horse").await,
        StatusCode::CREATED,
    )
    .await;
    // Five failures are allowed (the default); the fifth locks the account for 2 s.
    fail_logins(&app, &email, 5).await;
    assert_eq!(
        throttled(app.log_in(&client(), &email, "correct horse").await).await,
        2
    );
    // In another letter case it is the same account.
    let upper = email.to_uppercase();
    throttled(app.log_in(&client(), &upper, "correct horse").await).await;
    // After the lock, one more failure locks it twice as long.
    app.advance_clock(std::time::Duration::from_secs(3)).await;
    fail_logins(&app, &email, 1).await;
    assert_eq!(
        throttled(app.log_in(&client(), &email, "correct horse").await).await,
        4
    );
    // Once it ends the right password works, and clears the count.
    app.advance_clock(std::time::Duration::from_secs(5)).await;
    assert_status(
        app.log_in(&client(), &email, "correct horse").await,
        StatusCode::NO_CONTENT,
    )
    .await;
    fail_logins(&app, &email, 4).await;
    assert_status(
        app.log_in(&client(), &email, "correct horse").await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

#[tokio::test]
async fn an_address_no_account_has_is_throttled_exactly_like_an_account() {
    let app = spawn_app().await;
    let email = unique_email("ada");
    assert_status(
        app.register(&client(), &email, "correct horse").await,
        StatusCode::CREATED,
    )
    .await;
    let nobody = unique_email("nobody");
    fail_logins(&app, &email, 5).await;
    fail_logins(&app, &nobody, 5).await;
    let known = app.log_in(&client(), &email, "wrong horse").await;
    let unknown = app.log_in(&client(), &nobody, "wrong horse").await;
    assert_eq!(
        known.headers()["retry-after"],
        unknown.headers()["retry-after"]
    );
    let known = assert_problem(known, StatusCode::TOO_MANY_REQUESTS, "too-many-logins").await;
    let unknown = assert_problem(unknown, StatusCode::TOO_MANY_REQUESTS, "too-many-logins").await;
    assert_eq!(known, unknown);
}

#[tokio::test]
async fn many_failures_from_one_address_lock_it_for_every_account() {
    let app = spawn_app_with(|s| {
        s.users.login_account_failures = 0;
        s.users.login_address_failures = 8;
    })
    .await;
    let email = unique_email("ada");
    assert_status(
        app.register(&client(), &email, "correct horse").await,
        StatusCode::CREATED,
    )
    .await;
    for i in 0..8 {
        fail_logins(&app, &unique_email(&format!("guess{i}")), 1).await;
    }
    // The test's requests all come from 127.0.0.1: now even a right password from it waits.
    assert_eq!(
        throttled(app.log_in(&client(), &email, "correct horse").await).await,
        2
    );
    app.advance_clock(std::time::Duration::from_secs(3)).await;
    assert_status(
        app.log_in(&client(), &email, "correct horse").await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

#[tokio::test]
async fn logging_in_as_someone_else_in_the_same_browser_ends_the_previous_session() {
    let app = spawn_app().await;
    let browser = client();
    let (ada, bob) = (unique_email("ada"), unique_email("bob"));
    for email in [&ada, &bob] {
        assert_status(
            app.register(&client(), email, "correct horse").await,
            StatusCode::CREATED,
        )
        .await;
    }
    let first = app.log_in(&browser, &ada, "correct horse").await;
    let ada_cookie = first.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_status(first, StatusCode::NO_CONTENT).await;
    assert_status(
        app.log_in(&browser, &bob, "correct horse").await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let me = assert_status(app.get(&browser, "/api/me").await, StatusCode::OK).await;
    assert_eq!(me["email"], bob);
    // Ada's cookie, kept by someone, no longer opens anything.
    let stale = reqwest::Client::new()
        .get(app.url("/api/me"))
        .header("cookie", ada_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_customer_at_an_admin_route_is_refused_before_the_body_or_query_is_read() {
    let app = spawn_app().await;
    let (customer, _) = app.customer().await;
    assert_problem(
        app.post_json(&customer, "/api/shows", &json!({"title": ""}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&customer, "/api/users?limit=lots&cursor=%%").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn personal_answers_say_no_store() {
    let app = spawn_app().await;
    let (customer, _) = app.customer().await;
    for path in ["/api/me", "/api/wallet", "/api/bookings", "/api/me/summary"] {
        let r = app.get(&customer, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        assert!(
            r.headers()
                .get_all("vary")
                .iter()
                .any(|v| v.to_str().unwrap().contains("Cookie")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_oversized_body_of_any_content_type_is_a_413() {
    let app = spawn_app().await;
    let body = "a".repeat(100 * 1024);
    for path in ["/api/users", "/api/session", "/login", "/signup"] {
        for content_type in [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
        ] {
            let r = client()
                .post(app.url(path))
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "{content_type} to {path}"
            );
            // A problem from the API, the site's page from a page's address.
            let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
            let expected = if path.starts_with("/api/") {
                "application/problem+json"
            } else {
                "text/html"
            };
            assert!(
                kind.starts_with(expected),
                "{content_type} to {path}: {kind}"
            );
        }
    }
}

/// `POST /api/users` with the given fields.
async fn sign_up(
    app: &crate::helpers::TestApp,
    email: &str,
    full_name: &str,
    password: &str,
) -> reqwest::Response {
    app.post_json(
        &client(),
        "/api/users",
        &json!({"email": email, "full_name": full_name, "password": password}),
    )
    .await
}

#[tokio::test]
async fn look_alike_invisible_and_weak_identities_are_refused_on_their_field() {
    let app = spawn_app().await;
    for (email, name, password, field) in [
        // A Cyrillic а among Latin letters, before and after the @.
        ("p\u{430}ypal@example.com", "Ada", "correct horse", "email"),
        ("ada@ex\u{430}mple.com", "Ada", "correct horse", "email"),
        // Invisible and direction-changing characters.
        ("ada\u{200b}@example.com", "Ada", "correct horse", "email"),
        ("\u{202e}ada@example.com", "Ada", "correct horse", "email"),
        ("ada@example.com", "\u{200b}", "correct horse", "full_name"),
        (
            "ada@example.com",
            "Ada\u{202e}x",
            "correct horse",
            "full_name",
        ),
        // Passwords: control characters, and the easily guessed.
        ("ada@example.com", "Ada", "\0\0\0\0\0\0\0\0", "password"),
        ("ada@example.com", "Ada", "password1", "password"),
        ("ada@example.com", "Ada", "12345678", "password"),
    ] {
        let problem = assert_problem(
            sign_up(&app, email, name, password).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
        assert_eq!(
            error_fields(&problem),
            [field],
            "{email:?} {name:?} {password:?}: {problem}"
        );
    }
}

#[tokio::test]
async fn one_address_has_one_account_whatever_its_spelling() {
    let app = spawn_app().await;
    for (first, again, stored) in [
        // é composed, then decomposed.
        (
            "ren\u{e9}@example.com",
            "rene\u{301}@example.com",
            "ren\u{e9}@example.com",
        ),
        // An IDN domain, then its punycode.
        (
            "ada@b\u{fc}cher.de",
            "ada@xn--bcher-kva.de",
            "ada@xn--bcher-kva.de",
        ),
    ] {
        let user = assert_status(
            sign_up(&app, first, "Someone", "correct horse").await,
            StatusCode::CREATED,
        )
        .await;
        assert_problem(
            sign_up(&app, again, "Someone Else", "correct horse").await,
            StatusCode::CONFLICT,
            "email-taken",
        )
        .await;
        // Either spelling logs in to the one account.
        assert_status(
            app.log_in(&client(), again, "correct horse").await,
            StatusCode::NO_CONTENT,
        )
        .await;
        assert_eq!(user["email"], stored);
    }
}
