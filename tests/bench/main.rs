//! `boxoffice bench` end to end: the real binary starts its own server and floor, drives a few
//! hundred bookings and reports them as JSON. Only the report's consistency is checked here, never
//! its timings (those belong in BENCHMARKS.md).

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_boxoffice");

/// Runs `boxoffice bench --json <args>`, which must succeed; answers its report.
fn bench_json(args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["bench", "--json"])
        .args(args)
        .output()
        .expect("run boxoffice bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed: {stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Runs `boxoffice bench <args>`, which must be refused; answers what it said.
fn bench_refused(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("bench")
        .args(args)
        .output()
        .expect("run boxoffice bench");
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_short_bench_reports_every_booking_and_both_floors_as_json() {
    let report = bench_json(&[
        "--duration",
        "2",
        "--bookings",
        "150",
        "--concurrency",
        "8",
        "--users",
        "4",
        "--decline-rate",
        "0.2",
        "--read-rate",
        "0.2",
        "--probe",
        "3",
        "--login-flood",
        "2",
        "--count-queries",
    ]);

    let b = &report["boxoffice"];
    let accepted = b["accepted"].as_u64().unwrap();
    assert!(accepted > 0, "{b}");
    assert_eq!(b["errors"], 0, "{b}");
    // Every accepted booking was read back, and the saga settled each one.
    let (confirmed, cancelled) = (
        b["confirmed"].as_u64().unwrap(),
        b["cancelled"].as_u64().unwrap(),
    );
    assert_eq!(confirmed + cancelled, accepted, "{b}");
    assert_eq!(b["still_pending"], 0, "{b}");
    // Declined cards were part of the mix, and mixed reads were made.
    assert!(cancelled > 0, "a 20% decline rate cancelled nothing: {b}");
    assert!(b["reads"].as_u64().unwrap() > 0, "{b}");
    assert_eq!(b["saga"]["count"].as_u64().unwrap(), confirmed);
    // Settled during the load can be at most what was accepted.
    let settled = b["settled_per_sec"].as_f64().unwrap() * b["seconds"].as_f64().unwrap();
    assert!(settled > 0.0 && settled <= accepted as f64 + 0.5, "{b}");
    assert!(b["backlog_trend_per_sec"].is_number(), "{b}");
    // The server's memory was sampled while the load ran.
    let rss = b["rss_samples_mb"].as_array().unwrap();
    assert!(
        !rss.is_empty() && rss.iter().all(|v| v.as_f64().unwrap() > 0.0),
        "{b}"
    );
    // Each consumer reported its propagation; the reporting one handled the bookings' events.
    let subscriptions: Vec<&str> = b["propagation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["subscription"].as_str().unwrap())
        .collect();
    for s in [
        "bookings/payments",
        "payments/bookings",
        "reporting/bookings",
    ] {
        assert!(subscriptions.contains(&s), "{s} missing: {subscriptions:?}");
    }
    assert!(b["read_probe"].as_array().unwrap().len() >= 8, "{b}");
    assert!(b["server"]["peak_rss_bytes"].as_u64().unwrap() > 0, "{b}");
    // Seated shows by default; what the server did per booking was counted (a booking is a
    // transaction of several queries in bookings alone, before payments and reporting).
    assert_eq!(report["seating"], "reserved");
    assert!(b["queries_per_booking"].as_f64().unwrap() > 5.0, "{b}");
    assert!(
        b["context_switches_per_booking"].as_f64().unwrap() > 0.0,
        "{b}"
    );
    // The login flood beside the load: every attempt answered and counted once, each login
    // with the right password accepted unless the hashing queue was full.
    let flood = &b["login_flood"];
    assert_eq!(flood["clients"], 2, "{flood}");
    let attempts = flood["attempts"].as_u64().unwrap();
    assert!(flood["logged_in"].as_u64().unwrap() > 0, "{flood}");
    assert_eq!(flood["errors"], 0, "{flood}");
    // Two clients never fill the 33 places for hashes: none is refused.
    assert_eq!(flood["refused"], 0, "{flood}");
    assert_eq!(
        flood["logged_in"].as_u64().unwrap() + flood["refused"].as_u64().unwrap(),
        attempts,
        "{flood}"
    );
    assert_eq!(
        flood["http"]["count"].as_u64().unwrap(),
        attempts,
        "{flood}"
    );
    assert_eq!(report["login_flood"], 2);

    let f = &report["floor"];
    assert!(f["sqlite_commits_per_sec"].as_f64().unwrap() > 0.0, "{f}");
    assert!(
        f["group_commit_rows_per_sec"].as_f64().unwrap() > 0.0,
        "{f}"
    );
    assert!(f["actix_insert_per_sec"].as_f64().unwrap() > 0.0, "{f}");
    assert_eq!(f["actix_errors"], 0, "{f}");
    assert!(report["ratios"]["intake_vs_actix_floor"].as_f64().unwrap() > 0.0);
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
}

#[test]
fn bad_options_are_refused_with_a_clear_message() {
    let stderr = bench_refused(&["--decline-rate", "1.5"]);
    assert!(
        stderr.contains("--decline-rate must be between 0 and 1"),
        "{stderr}"
    );
}

#[path = "../support/nats.rs"]
mod nats;

#[test]
fn a_split_bench_reports_each_process_and_its_ratio_to_the_monolith() {
    let Some(nats) = nats::nats_url() else {
        eprintln!(
            "\n*** SPLIT BENCH SKIPPED: no NATS server answers (start one: nats-server -js) ***\n"
        );
        return;
    };
    let report = bench_json(&[
        "--topology",
        "both",
        "--nats",
        &nats,
        "--duration",
        "2",
        "--bookings",
        "100",
        "--concurrency",
        "8",
        "--users",
        "4",
        "--decline-rate",
        "0.2",
        "--probe",
        "2",
        "--general-admission",
    ]);

    assert_eq!(report["seating"], "general");
    assert!(report["boxoffice"]["queries_per_booking"].is_null());
    let s = &report["split"];
    let accepted = s["accepted"].as_u64().unwrap();
    assert!(accepted > 0, "{s}");
    assert_eq!(s["errors"], 0, "{s}");
    // The saga crossed processes for every booking, and settled each one.
    let settled = s["confirmed"].as_u64().unwrap() + s["cancelled"].as_u64().unwrap();
    assert_eq!(settled, accepted, "{s}");
    assert_eq!(s["still_pending"], 0, "{s}");
    assert!(s["cancelled"].as_u64().unwrap() > 0, "{s}");
    // One process per module, each measured.
    let modules: Vec<&str> = s["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["module"].as_str().unwrap())
        .collect();
    assert_eq!(modules, ["users", "bookings", "payments", "reporting"]);
    for p in s["processes"].as_array().unwrap() {
        assert!(p["stats"]["peak_rss_bytes"].as_u64().unwrap() > 0, "{p}");
    }
    // Propagation is measured where each consumer runs, across NATS.
    let handled: u64 = s["propagation"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["subscription"] == "payments/bookings")
        .map(|p| p["handled"].as_u64().unwrap())
        .sum();
    assert!(
        handled >= accepted,
        "payments handled {handled} of {accepted}: {s}"
    );
    // The monolith ran in the same report, and the ratio is of the two.
    let m = &report["boxoffice"];
    let ratio = report["split_ratios"]["split_intake_vs_monolith"]
        .as_f64()
        .unwrap();
    let expected = s["intake_per_sec"].as_f64().unwrap() / m["intake_per_sec"].as_f64().unwrap();
    assert!((ratio - expected).abs() < 1e-6, "{ratio} vs {expected}");
}

#[test]
fn a_split_bench_refuses_a_preloaded_history() {
    let stderr = bench_refused(&["--topology", "split", "--preload", "10"]);
    assert!(stderr.contains("--preload fills the monolith"), "{stderr}");
}

#[test]
fn an_on_sale_sells_every_seat_once_and_the_money_adds_up() {
    // A small hall, a crowd three times its size, short holds and many silent cards (a quarter:
    // among some forty holds, none silent is a chance of about 1 in 100,000): holds
    // expire during the sale and their seats are sold again.
    let report = bench_json(&[
        "--scenario",
        "onsale",
        "--seats",
        "120",
        "--customers",
        "400",
        "--concurrency",
        "8",
        "--users",
        "4",
        "--silent-rate",
        "0.25",
        "--decline-rate",
        "0.1",
        "--hold-secs",
        "1",
    ]);
    assert!(report["floor"].is_null() && report["boxoffice"].is_null());
    let s = &report["onsale"];
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k} missing: {s}"));

    assert_eq!(s["invariants"]["broken"], serde_json::json!([]), "{s}");
    for check in [
        "no_seat_sold_twice",
        "sold_seats_match_bookings",
        "every_booking_settled",
        "money_adds_up",
    ] {
        assert_eq!(s["invariants"][check], true, "{check}: {s}");
    }
    assert_eq!(n("seats"), 120);
    assert_eq!(n("errors"), 0, "{s}");
    // Every answer is counted once, by kind and in the latency of any answer.
    assert_eq!(
        n("answers"),
        n("held") + n("seats_taken") + n("sold_out"),
        "{s}"
    );
    assert_eq!(s["answer"]["count"].as_u64().unwrap(), n("answers"), "{s}");
    // A 503 `busy` from the server's line is not an answer: the person waited and asked again,
    // and each person's time runs from the first request to the final answer.
    assert_eq!(
        s["answer_busy"]["count"].as_u64().unwrap(),
        n("busy"),
        "{s}"
    );
    assert_eq!(s["person"]["count"].as_u64().unwrap(), 400, "{s}");
    assert!(
        s["placing"]
            .as_str()
            .unwrap()
            .starts_with("the server's default (16) placed at once"),
        "{s}"
    );
    // Each person had at least one answer; only a person whose seats were taken asked again.
    assert!(
        n("answers") >= 400 && n("answers") <= 400 + n("seats_taken"),
        "{s}"
    );
    // Every hold was paid or given back: the map holds no seat at the end, and what is neither
    // sold nor free does not exist.
    assert_eq!(n("seats_still_held"), 0, "{s}");
    assert_eq!(n("seats_sold") + n("seats_free"), 120, "{s}");
    assert_eq!(
        n("held"),
        n("confirmed") + n("cancelled_declined") + n("expired"),
        "{s}"
    );
    // Silent cards at 25 % made holds expire; the seats they gave back went to others.
    assert!(n("expired") > 0, "{s}");
    assert!(n("expired_seats_resold") <= n("expired_seats"), "{s}");
    if n("seats_sold") == 120 {
        assert!(s["sold_out_after_secs"].as_f64().unwrap() > 0.0, "{s}");
    } else {
        assert!(s["sold_out_after_secs"].is_null(), "{s}");
    }
    assert_eq!(s["confirmed_cents"], s["sold_seats_cents"], "{s}");
}

#[test]
fn an_on_sale_refuses_a_plan_it_cannot_draw() {
    let stderr = bench_refused(&["--scenario", "onsale", "--seats", "0"]);
    assert!(
        stderr.contains("--seats must be between 1 and 40000"),
        "{stderr}"
    );
}
