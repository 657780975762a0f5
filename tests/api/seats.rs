//! Venues, seating plans, seats and tickets over HTTP: plans and their bad input, the seat map
//! and the quote before paying, customers racing for the same seats, every saga path holding
//! and releasing seats, tickets and the door.

use std::{collections::HashMap, time::Duration};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_problem, assert_status, error_fields, eventually, spawn_app, spawn_app_with,
};

const APPROVED: &str = "4242 4242 4242 4242";
const DECLINED: &str = "4000000000000002";
const SILENT: &str = "4000000000003220";

fn card(number: &str) -> Value {
    json!({"type": "card", "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"})
}

/// A plan: Stalls (40.00) rows A–C of `per_row` seats, Balcony (15.00) one row of four whose
/// seat 4 is not sold.
fn plan(per_row: i64) -> Value {
    json!([
        {"name": "Stalls", "price_cents": 4_000, "rows": [
            {"label": "A", "seats": per_row}, {"label": "B", "seats": per_row}, {"label": "C", "seats": per_row}]},
        {"name": "Balcony", "price_cents": 1_500, "rows": [
            {"label": "A", "seats": ["1", "2", "3", "4"], "unavailable": ["4"]}]}
    ])
}

impl TestApp {
    async fn venue(&self, admin: &Client, name: &str, per_row: i64) -> Value {
        let body = json!({"name": name, "time_zone": "Europe/Paris", "sections": plan(per_row)});
        assert_status(
            self.post_json(admin, "/api/venues", &body).await,
            StatusCode::CREATED,
        )
        .await
    }

    /// A show at a new seated venue (Paris time), starting 2099-06-01 20:30 local.
    async fn seated_show(&self, admin: &Client, per_row: i64) -> Value {
        let venue = self
            .venue(admin, &format!("Salle {}", kernel::new_id()), per_row)
            .await;
        let body = json!({"title": "Carmen", "venue_id": venue["id"],
                          "starts_at": "2099-06-01T18:30:00Z", "currency": "EUR"});
        assert_status(
            self.post_json(admin, "/api/shows", &body).await,
            StatusCode::CREATED,
        )
        .await
    }

    async fn seats_of(&self, show: &Value) -> Value {
        self.get_json(
            &crate::helpers::client(),
            &format!("/api/shows/{}/seats", show["id"].as_str().unwrap()),
        )
        .await
    }

    async fn choose(
        &self,
        client: &Client,
        show: &Value,
        seats: &[&str],
        payment: Value,
    ) -> reqwest::Response {
        self.post_json(
            client,
            "/api/bookings",
            &json!({"show_id": show["id"], "seat_ids": seats, "payment": payment}),
        )
        .await
    }
}

/// The id of `row``number` in `section` of a seat map.
fn seat<'a>(map: &'a Value, section: &str, row: &str, number: &str) -> &'a str {
    map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section"] == section && s["row"] == row && s["number"] == number)
        .unwrap_or_else(|| panic!("no seat {section} {row}{number}"))["seat_id"]
        .as_str()
        .unwrap()
}

/// Each seat's status, by id.
fn statuses(map: &Value) -> HashMap<String, String> {
    map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["seat_id"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn count(map: &Value, status: &str) -> usize {
    statuses(map).values().filter(|s| *s == status).count()
}

#[tokio::test]
async fn a_venue_opens_with_a_plan_and_every_bad_plan_is_refused_naming_its_field() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (customer, _) = app.customer().await;
    let venue = app.venue(&admin, "Opéra Garnier", 6).await;
    assert_eq!(
        (&venue["seating"], &venue["capacity"], &venue["time_zone"]),
        (&json!("reserved"), &json!(21), &json!("Europe/Paris"))
    );
    let venues = app.get_json(&admin, "/api/venues").await;
    assert_eq!(venues["items"].as_array().unwrap().len(), 1);

    // Only admins open venues; a name is unique in any letter case.
    let body = json!({"name": "Hall", "time_zone": "UTC", "capacity": 10});
    assert_problem(
        app.post_json(&customer, "/api/venues", &body).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let same = json!({"name": "OPÉRA GARNIER", "time_zone": "UTC", "capacity": 10});
    assert_problem(
        app.post_json(&admin, "/api/venues", &same).await,
        StatusCode::CONFLICT,
        "venue-name-taken",
    )
    .await;

    let bad = json!({
        "name": "", "time_zone": "Europe/Atlantis",
        "sections": [
            {"name": "Stalls", "price_cents": 9_223_372_036_854_775_807i64, "rows": [
                {"label": "A", "seats": ["1", "2", "1"]}]},
            {"name": "Empty", "price_cents": 100, "rows": []}
        ]
    });
    let problem = assert_problem(
        app.post_json(&admin, "/api/venues", &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(
        error_fields(&problem),
        ["name", "time_zone", "sections[0].price_cents"],
        "{problem}"
    );
    let duplicate = json!({"name": "Dup", "time_zone": "UTC", "sections": [
        {"name": "Stalls", "price_cents": 100, "rows": [{"label": "A", "seats": ["1", "2", "1"]}]},
        {"name": "Empty", "price_cents": 100, "rows": []}]});
    let problem = assert_problem(
        app.post_json(&admin, "/api/venues", &duplicate).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(
        error_fields(&problem),
        ["sections[0].rows[0].seats", "sections[1].rows"],
        "{problem}"
    );
    let nothing = json!({"name": "Nothing", "time_zone": "UTC", "sections": []});
    let problem = assert_problem(
        app.post_json(&admin, "/api/venues", &nothing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(error_fields(&problem), ["sections"]);
    let both = json!({"name": "Both", "time_zone": "UTC", "capacity": 10, "sections": plan(2)});
    assert_problem(
        app.post_json(&admin, "/api/venues", &both).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    // Nothing refused was opened.
    let venues = app.get_json(&admin, "/api/venues").await;
    assert_eq!(venues["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_show_at_a_venue_reads_in_its_zone_shows_every_seat_and_quotes_before_paying() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let show = app.seated_show(&admin, 6).await;
    assert_eq!(show["time_zone"], "Europe/Paris");
    assert_eq!(show["starts_at_local"], "2099-06-01T20:30:00+02:00");
    assert_eq!(
        (&show["capacity"], &show["price_cents"]),
        (&json!(21), &json!(1_500))
    );
    let map = app.seats_of(&show).await;
    assert_eq!(map["seats"].as_array().unwrap().len(), 22);
    assert_eq!(count(&map, "unavailable"), 1);
    assert_eq!(map["sections"][0]["price_cents"], 4_000);

    let id = show["id"].as_str().unwrap();
    let anyone = crate::helpers::client();
    let quote = app
        .get_json(&anyone, &format!("/api/shows/{id}/quote?seats=3"))
        .await;
    assert_eq!(
        (&quote["total_cents"], &quote["currency"]),
        (&json!(12_000), &json!("EUR"))
    );
    let numbers: Vec<_> = quote["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}{}",
                s["row"].as_str().unwrap(),
                s["number"].as_str().unwrap()
            )
        })
        .collect();
    // Of six seats, A2–A4 and A3–A5 are as near the middle: the first is taken.
    assert_eq!(
        numbers,
        ["A2", "A3", "A4"],
        "the best run, nearest the middle"
    );
    let (b1, balcony) = (
        seat(&map, "Stalls", "B", "1"),
        seat(&map, "Balcony", "A", "1"),
    );
    let quote = app
        .get_json(
            &anyone,
            &format!("/api/shows/{id}/quote?seat_ids={b1},{balcony}"),
        )
        .await;
    assert_eq!(quote["total_cents"], 5_500);
    assert_eq!(
        count(&app.seats_of(&show).await, "held"),
        0,
        "a quote holds nothing"
    );
    // A quote of a seat not for sale names it.
    let broken = seat(&map, "Balcony", "A", "4");
    let problem = assert_problem(
        app.get(&anyone, &format!("/api/shows/{id}/quote?seat_ids={broken}"))
            .await,
        StatusCode::CONFLICT,
        "seats-taken",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Balcony, row A, seat 4"),
        "{problem}"
    );
}

#[tokio::test]
async fn seats_that_do_not_exist_belong_to_another_show_or_come_twice_are_refused_and_nothing_is_held()
 {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    app.deposit(&ada, 100_000).await;
    let show = app.seated_show(&admin, 4).await;
    let other = app.seated_show(&admin, 4).await;
    let (map, other_map) = (app.seats_of(&show).await, app.seats_of(&other).await);
    let a1 = seat(&map, "Stalls", "A", "1");
    let elsewhere = seat(&other_map, "Stalls", "A", "1");
    let nowhere = "01900000-0000-7000-8000-000000000000";
    let wallet = json!({"type": "wallet"});
    for (seats, fragment) in [
        (vec![nowhere], "no seat has the id"),
        (vec![elsewhere], "a seat of another show"),
        (vec![a1, a1], "twice"),
        (vec!["not-an-id"], "UUIDs"),
    ] {
        let problem = assert_problem(
            app.choose(&ada, &show, &seats, wallet.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
        )
        .await;
        assert!(
            problem.to_string().contains(fragment),
            "{fragment}: {problem}"
        );
    }
    let both = json!({"show_id": show["id"], "seats": 1, "seat_ids": [a1], "payment": wallet});
    let problem = assert_problem(
        app.post_json(&ada, "/api/bookings", &both).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(error_fields(&problem), ["seat_ids"]);
    let general = app.show(&admin, 10, 1_000).await;
    assert_problem(
        app.choose(&ada, &general, &[a1], wallet.clone()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(count(&app.seats_of(&show).await, "held"), 0);
    assert_eq!(app.seats_of(&show).await["seats_available"], 15);
}

#[tokio::test]
async fn customers_racing_for_the_same_seats_and_the_best_available_never_share_a_seat() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let show = app.seated_show(&admin, 10).await;
    let map = app.seats_of(&show).await;
    // Nearly full: all of row A and row B but its middle four are sold first.
    let (filler, _) = app.customer().await;
    app.deposit(&filler, 1_000_000).await;
    let mut taken: Vec<String> = Vec::new();
    for row in ["A", "B"] {
        for n in 1..=10 {
            if row == "B" && (4..=7).contains(&n) {
                continue;
            }
            taken.push(seat(&map, "Stalls", row, &n.to_string()).to_owned());
        }
    }
    for chunk in taken.chunks(8) {
        let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let b = assert_status(
            app.choose(&filler, &show, &ids, json!({"type": "wallet"}))
                .await,
            StatusCode::ACCEPTED,
        )
        .await;
        app.settled(&filler, &b).await;
    }
    // 20 customers race: half for two of row B's four free seats (overlapping pairs), half for
    // the best 3 available. Cards approve or decline at random-ish.
    let b: Vec<String> = (4..=7)
        .map(|n| seat(&map, "Stalls", "B", &n.to_string()).to_owned())
        .collect();
    let mut racers = Vec::new();
    for _ in 0..20 {
        racers.push(app.customer().await.0);
    }
    let bodies: Vec<Value> = (0..racers.len())
        .map(|i| {
            let pay = card(if i % 3 == 0 { DECLINED } else { APPROVED });
            if i % 2 == 0 {
                json!({"show_id": show["id"], "seat_ids": [b[i % 3], b[i % 3 + 1]], "payment": pay})
            } else {
                json!({"show_id": show["id"], "seats": 3, "payment": pay})
            }
        })
        .collect();
    let requests = racers
        .iter()
        .zip(&bodies)
        .map(|(client, body)| app.post_json(client, "/api/bookings", body));
    let answers = futures_util::future::join_all(requests).await;
    let mut placed = Vec::new();
    for answer in answers {
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        match status {
            StatusCode::ACCEPTED => placed.push(body),
            StatusCode::CONFLICT => {
                let kind = body["type"].as_str().unwrap();
                assert!(
                    kind == "/problems/seats-taken" || kind == "/problems/not-enough-seats",
                    "{body}"
                );
                if kind == "/problems/seats-taken" {
                    assert!(
                        !error_fields(&body).is_empty(),
                        "a 409 names the seats: {body}"
                    );
                }
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(!placed.is_empty());
    // No seat is in two live bookings once every payment has settled. (Each answer is the
    // booking as it was placed, pending: a declined card's seats are rightly held again by a
    // later request, so the answers alone may name a seat twice.)
    let check = |bookings: &[Value]| {
        let mut owner: HashMap<String, String> = HashMap::new();
        for b in bookings.iter().filter(|b| b["status"] != "cancelled") {
            for s in b["booked_seats"].as_array().unwrap() {
                let previous = owner.insert(
                    s["seat_id"].as_str().unwrap().to_owned(),
                    b["id"].as_str().unwrap().to_owned(),
                );
                assert!(previous.is_none(), "seat {s} in two live bookings");
            }
        }
        owner.len()
    };
    let mut settled = Vec::new();
    for b in &placed {
        settled.push(app.settled(&admin, b).await);
    }
    let live = check(&settled);
    let map = app.seats_of(&show).await;
    // Holds of declined payments were released; the sold seats are exactly the live ones.
    assert_eq!(count(&map, "held"), 0);
    assert_eq!(count(&map, "sold"), taken.len() + live);
    assert_eq!(
        map["seats_available"].as_i64().unwrap() as usize,
        33 - taken.len() - live
    );
}

#[tokio::test]
async fn every_saga_path_holds_sells_and_releases_the_chosen_seats() {
    let app = spawn_app_with(|s| s.bookings.payment_timeout_secs = 30.0).await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    app.deposit(&ada, 100_000).await;
    let show = app.seated_show(&admin, 8).await;
    let map = app.seats_of(&show).await;
    let s = |row: &str, n: &str| seat(&map, "Stalls", row, n).to_owned();
    let status_of = |map: &Value, id: &str| statuses(map)[id].clone();

    // Wallet: held, then sold.
    let paid = assert_status(
        app.choose(
            &ada,
            &show,
            &[&s("A", "1"), &s("A", "2")],
            json!({"type": "wallet"}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(paid["amount_cents"], 8_000);
    assert_eq!(app.settled(&ada, &paid).await["status"], "confirmed");
    assert_eq!(status_of(&app.seats_of(&show).await, &s("A", "1")), "sold");

    // A declined card: released.
    let declined = assert_status(
        app.choose(&ada, &show, &[&s("A", "3")], card(DECLINED))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(app.settled(&ada, &declined).await["status"], "cancelled");
    assert_eq!(status_of(&app.seats_of(&show).await, &s("A", "3")), "free");

    // A card that never answers: held until the deadline, then released; the late capture is
    // refunded.
    let silent = assert_status(
        app.choose(&ada, &show, &[&s("B", "1")], card(SILENT)).await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.payment_requested(&ada, &silent).await;
    assert_eq!(status_of(&app.seats_of(&show).await, &s("B", "1")), "held");
    app.advance_clock(Duration::from_secs(31)).await;
    assert_eq!(
        app.settled(&ada, &silent).await["cancel_reason"],
        "payment_timeout"
    );
    assert_eq!(status_of(&app.seats_of(&show).await, &s("B", "1")), "free");
    app.advance_clock(Duration::from_secs(121)).await;
    app.saga_reaches(&ada, &silent, "refunded").await;

    // The customer cancels a paid booking: released and refunded.
    let id = paid["id"].as_str().unwrap();
    assert_status(
        app.post_json(&ada, &format!("/api/bookings/{id}/cancel"), &json!({}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(status_of(&app.seats_of(&show).await, &s("A", "1")), "free");
    app.saga_reaches(&ada, &paid, "refunded").await;

    // The show is cancelled: every seat it held or sold is released.
    let last = assert_status(
        app.choose(&ada, &show, &[&s("C", "1")], json!({"type": "wallet"}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    app.settled(&ada, &last).await;
    let sid = show["id"].as_str().unwrap();
    assert_status(
        app.post_json(&admin, &format!("/api/shows/{sid}/cancel"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let map = app.seats_of(&show).await;
    assert_eq!((count(&map, "held"), count(&map, "sold")), (0, 0));
    app.saga_reaches(&ada, &last, "refunded").await;
}

async fn tickets(app: &TestApp, client: &Client, booking: &Value) -> Vec<Value> {
    let id = booking["id"].as_str().unwrap();
    app.get_json(client, &format!("/api/bookings/{id}/tickets"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn check_in(code: &str, show: &Value) -> Value {
    json!({"code": code, "show_id": show["id"]})
}

#[tokio::test]
async fn each_ticket_admits_once_and_the_door_refuses_every_other_code_with_its_reason() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    app.deposit(&ada, 100_000).await;
    let show = app.seated_show(&admin, 6).await;
    let other = app.seated_show(&admin, 6).await;
    let booking = assert_status(
        app.post_json(
            &ada,
            "/api/bookings",
            &json!({"show_id": show["id"], "seats": 2, "payment": {"type": "wallet"}}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let id = booking["id"].as_str().unwrap();
    // No tickets before the payment confirms the booking.
    let first = app.get(&ada, &format!("/api/bookings/{id}/tickets")).await;
    if first.status() == StatusCode::CONFLICT {
        assert_problem(first, StatusCode::CONFLICT, "tickets-not-issued").await;
    }
    app.settled(&ada, &booking).await;
    let issued = tickets(&app, &ada, &booking).await;
    assert_eq!(issued.len(), 2);
    let code = issued[0]["code"].as_str().unwrap();

    // A customer cannot work the door; door staff can.
    assert_problem(
        app.post_json(&ada, "/api/checkins", &check_in(code, &show))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let (door, door_user) = app.customer().await;
    let uid = door_user["id"].as_str().unwrap();
    assert_status(
        app.post_json(
            &admin,
            &format!("/api/users/{uid}/role"),
            &json!({"role": "door"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        app.get(&door, "/api/dashboard").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let admitted = assert_status(
        app.post_json(&door, "/api/checkins", &check_in(code, &show))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(admitted["seat"], issued[0]["seat"]);
    let again = assert_problem(
        app.post_json(&door, "/api/checkins", &check_in(code, &show))
            .await,
        StatusCode::CONFLICT,
        "ticket-already-admitted",
    )
    .await;
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("already admitted at"),
        "{again}"
    );
    // Another show's door; a typed code in any case with dashes admits like the scanned one.
    let second = issued[1]["code_grouped"].as_str().unwrap().to_lowercase();
    assert_problem(
        app.post_json(&door, "/api/checkins", &check_in(&second, &other))
            .await,
        StatusCode::CONFLICT,
        "ticket-wrong-show",
    )
    .await;
    // Altered (one character changed, so the signature no longer matches) and truncated; a
    // forged signature on a real ticket id is the module test's.
    let mut altered: Vec<char> = code.chars().collect();
    altered[10] = if altered[10] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    assert_problem(
        app.post_json(&door, "/api/checkins", &check_in(&altered, &show))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ticket-invalid",
    )
    .await;
    let truncated = assert_problem(
        app.post_json(&door, "/api/checkins", &check_in(&code[..20], &show))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-error",
    )
    .await;
    assert_eq!(error_fields(&truncated), ["code"]);
    // A booking someone came in on is not cancelled (nor refunded).
    assert_problem(
        app.post_json(&ada, &format!("/api/bookings/{id}/cancel"), &json!({}))
            .await,
        StatusCode::CONFLICT,
        "booking-admitted",
    )
    .await;
    // A cancelled booking's tickets admit no one (410), and its tickets are gone.
    let later = app.booked(&ada, &show, 1, json!({"type": "wallet"})).await;
    app.settled(&ada, &later).await;
    let unused = tickets(&app, &ada, &later).await;
    let unused = unused[0]["code"].as_str().unwrap();
    let later = later["id"].as_str().unwrap();
    assert_status(
        app.post_json(&ada, &format!("/api/bookings/{later}/cancel"), &json!({}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_problem(
        app.post_json(&door, "/api/checkins", &check_in(unused, &show))
            .await,
        StatusCode::GONE,
        "ticket-cancelled",
    )
    .await;
    assert_problem(
        app.get(&ada, &format!("/api/bookings/{later}/tickets"))
            .await,
        StatusCode::GONE,
        "ticket-cancelled",
    )
    .await;
    // Attendance reaches the read model as an event.
    let sid = show["id"].as_str().unwrap().to_owned();
    eventually(
        "the admission in the read model",
        Duration::from_secs(10),
        || async {
            let sales = app.get_json(&admin, "/api/reports/shows").await;
            let row = sales
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["show_id"] == sid.as_str())
                .cloned()?;
            (row["admitted"] == 1).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn two_doors_scanning_the_same_ticket_at_once_admit_it_once() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (ada, _) = app.customer().await;
    app.deposit(&ada, 10_000).await;
    let show = app.show(&admin, 10, 1_000).await;
    let booking = app.booked(&ada, &show, 1, json!({"type": "wallet"})).await;
    app.settled(&ada, &booking).await;
    let code = tickets(&app, &ada, &booking).await[0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (second_admin, _) = app.admin().await;
    let doors = [&admin, &second_admin, &admin, &second_admin];
    let body = check_in(&code, &show);
    let scans = doors
        .iter()
        .map(|door| app.post_json(door, "/api/checkins", &body));
    let answers = futures_util::future::join_all(scans).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}
