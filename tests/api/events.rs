//! The event log over HTTP: what one request caused, newest-first paging, the live stream,
//! subscriptions and dead letters.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, assert_status, client, spawn_app, unique_email};

#[tokio::test]
async fn a_request_and_the_event_it_caused_share_a_correlation_id_and_the_chain_names_the_request()
{
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let correlation = "01900000-0000-7000-8000-00000000c0de";
    let email = unique_email("traced");
    let response = client()
        .post(app.url("/api/users"))
        .header("x-correlation-id", correlation)
        .json(&json!({"email": email, "full_name": "Traced Person", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_status(response, StatusCode::CREATED).await;

    let log = app
        .get_json(&admin, &format!("/api/events?correlation_id={correlation}"))
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{log}");
    let event = &items[0];
    assert_eq!(event["stream"], "users");
    assert_eq!(event["event_type"], "UserRegistered");
    assert_eq!(event["payload"]["email"], email);
    assert_eq!(event["causation_id"], request_id);

    let chain = app
        .get_json(&admin, &format!("/api/events/correlations/{correlation}"))
        .await;
    assert_eq!(chain["events"], 1);
    assert_eq!(chain["started_by"], json!([request_id]));
    assert_eq!(chain["roots"][0]["event"]["event_type"], "UserRegistered");
    assert_problem(
        app.get(
            &admin,
            "/api/events/correlations/01900000-0000-7000-8000-000000000000",
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn the_log_pages_newest_first_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    for _ in 0..5 {
        app.customer().await;
    }
    let mut seen: Vec<Value> = Vec::new();
    let mut path = "/api/events?limit=2".to_owned();
    loop {
        let page = app.get_json(&admin, &path).await;
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/events?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "one admin and five customers registered");
    let seqs: Vec<i64> = seen.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [6, 5, 4, 3, 2, 1]);
    let only = app
        .get_json(
            &admin,
            "/api/events?stream=users&type=UserRegistered&limit=200",
        )
        .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 6);
    let none = app.get_json(&admin, "/api/events?type=NoSuchEvent").await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_filters_are_422_and_the_log_is_for_admins_only() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("correlation_id=nope", "correlation_id"),
        ("cursor=garbage", "cursor"),
        ("stream=nowhere", "stream"),
    ] {
        let problem = assert_problem(
            app.get(&admin, &format!("/api/events?{query}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let (customer, _) = app.customer().await;
    assert_problem(
        app.get(&customer, "/api/events").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&client(), "/api/events").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.get(&customer, "/api/events/live").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn the_live_stream_delivers_events_as_they_commit() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let response = admin
        .get(app.url("/api/events/live?stream=users"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = response.bytes_stream();
    // The stream is open once its greeting arrives; then cause an event.
    let first = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("connected"));
    let email = unique_email("live");
    assert_status(
        app.register(&client(), &email, "correct horse").await,
        StatusCode::CREATED,
    )
    .await;

    let mut received = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = body.next().await {
            received.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if received.contains(&email) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no event arrived; got {received:?}");
    assert!(
        received.contains("event: UserRegistered\nid: users:"),
        "{received}"
    );
}

#[tokio::test]
async fn subscriptions_and_dead_letters_are_visible_and_unknown_ones_are_404() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let subs = app.get_json(&admin, "/api/admin/subscriptions").await;
    assert!(subs.is_array(), "{subs}");
    for s in subs.as_array().unwrap() {
        assert!(
            s["checkpoint"].is_i64() && s["lag"].is_i64() && s["parked"].is_i64(),
            "{s}"
        );
    }
    let letters = app
        .get_json(&admin, "/api/admin/dead-letters?all=true")
        .await;
    assert_eq!(letters, json!([]));
    let retry = app
        .post_json(&admin, "/api/admin/dead-letters/users/42/retry", &json!({}))
        .await;
    assert_problem(retry, StatusCode::NOT_FOUND, "not-found").await;
    let (customer, _) = app.customer().await;
    assert_problem(
        app.get(&customer, "/api/admin/subscriptions").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
