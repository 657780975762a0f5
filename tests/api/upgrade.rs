//! A data folder written by the previous release (`tests/upgrade/before-seats`, made by
//! `tests/upgrade/make_fixture.py` with the binary of commit 604ef6a: shows with a seat count,
//! count-only events, bookings in every state) opens with today's code, migrates in place, gives
//! its bookings their seats and tickets, replays its old events, and rebuilds its read model to
//! the same figures.

use std::{path::Path, time::Duration};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::{
    TOPOLOGY,
    helpers::{TestApp, assert_status, client, eventually, spawn_app_with},
    topology::Topology,
};

/// A copy of the previous release's data folder, and what that release's read model said.
fn fixture() -> (tempfile::TempDir, Value) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/upgrade/before-seats");
    let dir = tempfile::tempdir().unwrap();
    for module in ["users", "bookings", "payments", "reporting"] {
        let name = format!("{module}.db");
        std::fs::copy(source.join(&name), dir.path().join(&name)).unwrap();
    }
    let expected = std::fs::read_to_string(source.join("expected.json")).unwrap();
    (dir, serde_json::from_str(&expected).unwrap())
}

async fn logged_in(app: &TestApp, email: &str, password: &str) -> Client {
    let c = client();
    assert_status(
        app.log_in(&c, email, password).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    c
}

/// The read model's figures that a rebuild must reproduce.
async fn figures(app: &TestApp, admin: &Client) -> (Value, Value) {
    let d = app.get_json(admin, "/api/dashboard").await;
    let sales = app.get_json(admin, "/api/reports/shows").await;
    (
        json!({"bookings": d["bookings"], "seats_sold": d["seats_sold"], "money": d["money"],
               "top_shows": d["top_shows"], "timeline": d["timeline"]}),
        sales,
    )
}

async fn caught_up(app: &TestApp, admin: &Client) {
    eventually(
        "the read model to catch up",
        Duration::from_secs(20),
        || async {
            let d = app.get_json(admin, "/api/dashboard").await;
            d["lag"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["behind_events"] == 0)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_data_folder_from_before_seat_plans_upgrades_in_place_and_rebuilds_to_the_same_figures() {
    if TOPOLOGY != Topology::Monolith {
        return;
    }
    let (dir, expected) = fixture();
    let data = dir.path().to_path_buf();
    let app = spawn_app_with(move |s| s.database.data_dir = data).await;

    // Every module migrated in place.
    let health = app.get_json(&client(), "/health").await;
    let version = |module: &str| {
        health["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["module"] == module)
            .map(|m| m["schema_version"].clone())
            .unwrap()
    };
    assert_eq!(
        [version("users"), version("bookings"), version("reporting")],
        [json!(2), json!(4), json!(2)],
        "{health}"
    );

    // The accounts survived the rebuild of their table, sessions and all.
    let admin = logged_in(
        &app,
        expected["admin"]["email"].as_str().unwrap(),
        expected["admin"]["password"].as_str().unwrap(),
    )
    .await;
    let password = expected["customers"]["password"].as_str().unwrap();
    let ada = logged_in(
        &app,
        expected["customers"]["ada"].as_str().unwrap(),
        password,
    )
    .await;
    let me = app.get_json(&ada, "/api/me").await;
    assert_eq!(me["time_zone"], "UTC");

    // The pending booking's deadline passed long ago: it is cancelled now, and its card's late
    // charge refunded, as the saga always did.
    let pending = expected["bookings"]["pending"][0].as_str().unwrap();
    let late = app
        .saga_reaches(&admin, &json!({"id": pending}), "refunded")
        .await;
    assert_eq!(late["booking"]["cancel_reason"], "payment_timeout");

    // Every booking got its seats: general admissions sharing its amount.
    let confirmed = expected["bookings"]["confirmed"][0].as_str().unwrap();
    let booking = app
        .get_json(&ada, &format!("/api/bookings/{confirmed}"))
        .await;
    let seats = booking["booked_seats"].as_array().unwrap();
    assert_eq!(seats.len() as i64, booking["seats"].as_i64().unwrap());
    assert_eq!(
        seats
            .iter()
            .map(|s| s["price_cents"].as_i64().unwrap())
            .sum::<i64>(),
        booking["amount_cents"].as_i64().unwrap()
    );
    // Its tickets exist and open the door; a cancelled one's are void.
    let tickets = app
        .get_json(&ada, &format!("/api/bookings/{confirmed}/tickets"))
        .await;
    let code = tickets[0]["code"].as_str().unwrap();
    assert_status(
        app.post_json(
            &admin,
            "/api/checkins",
            &json!({"code": code, "show_id": booking["show_id"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let cancelled = expected["bookings"]["cancelled"][0].as_str().unwrap();
    assert_eq!(
        app.get(&admin, &format!("/api/bookings/{cancelled}/tickets"))
            .await
            .status(),
        StatusCode::GONE
    );

    // The shows from before venues read in UTC, with general admission.
    let night = expected["shows"]["night"].as_str().unwrap();
    let show = app
        .get_json(&client(), &format!("/api/shows/{night}"))
        .await;
    assert_eq!(
        (
            &show["time_zone"],
            &show["seating"],
            &show["starts_at_local"]
        ),
        (
            &json!("UTC"),
            &json!("general_admission"),
            &json!("2099-06-01T19:00:00+00:00")
        )
    );

    // The read model, kept up to date from old and new events alike, says what the old release
    // said, moved only by what happened since: the pending booking timed out and was refunded.
    caught_up(&app, &admin).await;
    let (live, live_sales) = figures(&app, &admin).await;
    let old = &expected["dashboard"];
    assert_eq!(live["bookings"]["total"], old["bookings"]["total"]);
    assert_eq!(live["bookings"]["confirmed"], old["bookings"]["confirmed"]);
    assert_eq!(
        live["bookings"]["cancelled"].as_i64().unwrap(),
        old["bookings"]["cancelled"].as_i64().unwrap() + 1
    );
    assert_eq!(live["bookings"]["pending"], 0);
    assert_eq!(live["seats_sold"], old["seats_sold"]);
    assert_eq!(
        live["money"][0]["revenue_cents"],
        old["money"][0]["revenue_cents"]
    );
    assert_eq!(
        live["money"][0]["refunds_cents"].as_i64().unwrap(),
        old["money"][0]["refunds_cents"].as_i64().unwrap() + 10_000,
        "the late charge of the pending booking (4 seats at 25.00) was refunded"
    );
    let admitted = live_sales
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["show_id"] == night)
        .map(|s| s["admitted"].clone());
    assert_eq!(admitted, Some(json!(1)));

    // A rebuild replays every log, the version-1 events included, to the very same figures.
    let events = app
        .get_json(&admin, "/api/events?stream=bookings&type=BookingPlaced")
        .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_version"] == 1),
        "the log keeps the events as they were written: {events}"
    );
    assert_status(
        app.post_json(&admin, "/api/admin/projections/rebuild", &json!({}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    eventually("the rebuild to finish", Duration::from_secs(30), || async {
        let s = app.get_json(&admin, "/api/admin/projections/rebuild").await;
        (s["running"] == false && s["finished_at"].is_string()).then_some(())
    })
    .await;
    caught_up(&app, &admin).await;
    let (rebuilt, rebuilt_sales) = figures(&app, &admin).await;
    assert_eq!(rebuilt, live);
    assert_eq!(rebuilt_sales, live_sales);
    assert!(
        app.get_json(&admin, "/api/admin/dead-letters").await["items"]
            .as_array()
            .is_none_or(|d| d.is_empty()),
        "no old event was parked"
    );
    drop(dir);
}
