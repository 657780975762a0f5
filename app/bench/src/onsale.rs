//! `--scenario onsale`: a hot show opens and a crowd asks for its seats at once.
//!
//! One show at a venue with a seating plan of `--seats` seats goes on sale at one instant;
//! `--customers` simulated people, served by `--concurrency` clients at a time (each client takes
//! the next person in line as soon as it has an answer), ask for 1 to 6 seats each, some picking
//! them on the map and the others asking for the best available. The server lets
//! `--placing-width` of them place a booking at once and keeps the others in line, first come
//! first served, for at most `--placing-wait-ms`; one turned away (503 `busy`) waits the
//! `Retry-After` and asks again. Some pay with a card the gateway never answers, so their holds expire
//! after `--hold-secs` and the seats go back on sale. When everyone has had an answer and every
//! booking has settled, the run reads the show back and checks that no seat was sold twice, that
//! every accepted booking settled, and that the money adds up.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::future::try_join_all;
use rand::Rng;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use kernel::{Synchronous, Timestamp};

use crate::{
    BenchArgs, ProcessStats,
    client::{DEPOSIT_CENTS, Session},
    load::{self, Latency},
    workload::{self, CARD_DECLINED, CARD_OK, CUSTOMER_PASSWORD, card, say},
};

/// The card number the simulated gateway never answers (until its late answer, long after).
const CARD_SILENT: &str = "4000000000003220";
/// Everything an on-sale run measured and checked.
#[derive(Debug, Serialize)]
pub(crate) struct OnSaleFigures {
    pub(crate) target: String,
    /// Seats of the plan, every one for sale.
    pub(crate) seats: u64,
    /// People in line.
    pub(crate) customers: u64,
    /// Accounts the people book from (each person is one request stream, not one account).
    pub(crate) accounts: usize,
    /// People asking at once (each takes the next person in line when it has an answer).
    pub(crate) concurrency: usize,
    /// The server's line in front of placing bookings.
    pub(crate) placing: String,
    /// Share of people choosing their seats on the map (the rest ask for the best available).
    pub(crate) map_share: f64,
    /// Seconds a booking waits for its payment before its seats return to sale.
    pub(crate) hold_secs: f64,
    /// From the opening until the last person had an answer.
    pub(crate) seconds: f64,
    /// Booking requests answered (a person whose chosen seats were taken may ask again).
    pub(crate) answers: u64,
    pub(crate) answers_per_sec: f64,
    /// Answered 202: the seats held, the payment under way.
    pub(crate) held: u64,
    pub(crate) seats_held: u64,
    /// Answered 409 `seats-taken`: someone else holds a seat picked on the map.
    pub(crate) seats_taken: u64,
    /// Answered 409 otherwise: not as many seats left as asked for.
    pub(crate) sold_out: u64,
    /// Any other answer, or no answer, and what each was.
    pub(crate) errors: u64,
    pub(crate) error_kinds: std::collections::BTreeMap<String, u64>,
    /// Latency of every answer (held or refused), of the 202s and of the 409s.
    pub(crate) answer: Latency,
    pub(crate) answer_held: Latency,
    pub(crate) answer_refused: Latency,
    /// Answered 503 `busy` (the server's line was full; the person waited the `Retry-After`
    /// and asked again), and how long those answers took.
    pub(crate) busy: u64,
    pub(crate) answer_busy: Latency,
    /// From a person's first request to their final answer, waits after `busy` included.
    pub(crate) person: Latency,
    /// From the opening until the last seat was sold (confirmed), when every seat was.
    pub(crate) sold_out_after_secs: Option<f64>,
    /// The seat map at the end.
    pub(crate) seats_sold: u64,
    pub(crate) seats_free: u64,
    pub(crate) seats_still_held: u64,
    /// The accepted bookings at the end.
    pub(crate) confirmed: u64,
    pub(crate) cancelled_declined: u64,
    /// Holds that expired (payment timeout), their seats, and how many of those seats were
    /// sold again to someone else.
    pub(crate) expired: u64,
    pub(crate) expired_seats: u64,
    pub(crate) expired_seats_resold: u64,
    /// Seats released by a declined card and sold again.
    pub(crate) declined_seats_resold: u64,
    /// Sum of the confirmed bookings; what the sold seats cost on the map; what the read model
    /// counts as revenue less refunds; what left the wallets, and the confirmed wallet bookings.
    pub(crate) confirmed_cents: i64,
    pub(crate) sold_seats_cents: i64,
    pub(crate) read_model_net_cents: i64,
    pub(crate) wallets_spent_cents: i64,
    pub(crate) wallet_bookings_cents: i64,
    pub(crate) invariants: Invariants,
    pub(crate) server: Option<ProcessStats>,
}

/// What must hold at the end of an on-sale, each checked against what the server says.
#[derive(Debug, Serialize)]
pub(crate) struct Invariants {
    /// No seat in two confirmed bookings.
    pub(crate) no_seat_sold_twice: bool,
    /// The seats sold on the map are exactly the seats of the confirmed bookings.
    pub(crate) sold_seats_match_bookings: bool,
    /// Every booking answered 202 is confirmed or cancelled, none pending or missing.
    pub(crate) every_booking_settled: bool,
    /// Confirmed bookings = sold seats' prices = read model's net revenue; wallets spent =
    /// confirmed wallet bookings.
    pub(crate) money_adds_up: bool,
    /// What broke, if anything.
    pub(crate) broken: Vec<String>,
}

impl Invariants {
    pub(crate) fn hold(&self) -> bool {
        self.broken.is_empty()
    }
}

/// A seat of the map as the bench reads it.
#[derive(Clone, Debug, Deserialize)]
struct MapSeat {
    seat_id: Uuid,
    section: String,
    row: String,
    price_cents: i64,
    status: String,
}

#[derive(Debug, Deserialize)]
struct SeatMap {
    seats: Vec<MapSeat>,
}

/// A booking as the bench reads it back.
#[derive(Debug, Deserialize)]
struct BookingBack {
    id: Uuid,
    status: String,
    cancel_reason: Option<String>,
    payment_method: String,
    amount_cents: i64,
    booked_seats: Vec<BookedSeatBack>,
    updated_at: Timestamp,
}

#[derive(Debug, Deserialize)]
struct BookedSeatBack {
    seat_id: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
struct BookingsBack {
    items: Vec<BookingBack>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ShowSales {
    show_id: Uuid,
    revenue_cents: i64,
    refunds_cents: i64,
}

#[derive(Debug, Deserialize)]
struct WalletBack {
    balance_cents: i64,
}

/// What one person's request came to.
enum Answer {
    /// 202; the id is `None` when the answer's body could not be read.
    Held {
        id: Option<Uuid>,
        seats: u64,
    },
    SeatsTaken(Vec<Uuid>),
    SoldOut,
    /// 503 `busy`: the server's line was full; ask again after this long.
    Busy(Duration),
    /// Anything else, said as the report lists it.
    Error(String),
}

/// Times one person is told `busy` before the bench gives up on them (an error).
const MOST_BUSY_ANSWERS: u32 = 60;

/// A client's own picture of the map: loaded once, corrected by what it is told.
struct LocalMap {
    /// Seat ids in plan order, grouped by row.
    rows: Vec<Vec<Uuid>>,
    free: HashSet<Uuid>,
    loaded_at: Instant,
}

impl LocalMap {
    fn of(map: &SeatMap) -> LocalMap {
        let mut rows: Vec<Vec<Uuid>> = Vec::new();
        let mut last: Option<(&str, &str)> = None;
        for s in &map.seats {
            if last != Some((&s.section, &s.row)) {
                rows.push(Vec::new());
                last = Some((&s.section, &s.row));
            }
            if let Some(row) = rows.last_mut() {
                row.push(s.seat_id);
            }
        }
        LocalMap {
            rows,
            free: map
                .seats
                .iter()
                .filter(|s| s.status == "free")
                .map(|s| s.seat_id)
                .collect(),
            loaded_at: Instant::now(),
        }
    }

    /// `n` adjacent seats that look free, in a row picked at random (people look around the
    /// map, not only at its first row).
    fn pick(&self, n: usize, rng: &mut impl Rng) -> Option<Vec<Uuid>> {
        if self.free.len() < n || self.rows.is_empty() {
            return None;
        }
        let start = rng.random_range(0..self.rows.len());
        for k in 0..self.rows.len() {
            let row = &self.rows[(start + k) % self.rows.len()];
            let runs: Vec<&[Uuid]> = row
                .windows(n)
                .filter(|w| w.iter().all(|id| self.free.contains(id)))
                .collect();
            if !runs.is_empty() {
                return Some(runs[rng.random_range(0..runs.len())].to_vec());
            }
        }
        None
    }
}

/// Runs the on-sale scenario against a server of its own.
pub(super) async fn run(
    args: &BenchArgs,
    synchronous: Synchronous,
) -> anyhow::Result<OnSaleFigures> {
    let hold = format!("{}", args.hold_secs);
    let target = workload::start_target(args, synchronous, &["--payment-timeout", &hold]).await?;
    let result = measure(args, &target.urls[0], &target.admin).await;
    let server = target.children.first().and_then(|(_, c)| c.stats());
    for (_, child) in target.children {
        child.stop().await;
    }
    result.map(|mut f| {
        f.server = server.or(f.server);
        f
    })
}

async fn measure(args: &BenchArgs, base: &str, admin: &Session) -> anyhow::Result<OnSaleFigures> {
    let run_id = format!("{:08x}", rand::random::<u32>());
    say(
        args,
        &format!(
            "setting up {} accounts and a plan of {} seats",
            args.users, args.seats
        ),
    );
    let accounts: Vec<Session> = try_join_all((0..args.users).map(|i| {
        let email = format!("onsale-{run_id}-{i}@boxoffice.local");
        async move { Session::customer(base, &email, CUSTOMER_PASSWORD).await }
    }))
    .await?;
    let wallet: serde_json::Value = accounts[0].get_json("/api/wallet").await?;
    let currency = wallet["currency"].as_str().unwrap_or("EUR").to_owned();
    let venue = admin
        .open_venue(&format!("Bench Arena {run_id}"), args.seats)
        .await?;
    let show_id = admin
        .seated_show(&format!("On sale {run_id}"), venue, &currency)
        .await?;
    let map_path = format!("/api/shows/{show_id}/seats");
    let first_map: SeatMap = admin.get_json(&map_path).await?;
    let seats = first_map.seats.len() as u64;

    // Every client loads the map before the sale opens, as people wait on the page.
    let clients = args.concurrency;
    let mut maps = Vec::with_capacity(clients);
    for _ in 0..clients {
        maps.push(Mutex::new(LocalMap::of(&first_map)));
    }
    let maps = Arc::new(maps);
    let accounts = Arc::new(accounts);
    let next = Arc::new(AtomicU64::new(0));
    let held_ids = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let counters = Arc::new(Counters::default());
    say(
        args,
        &format!(
            "{} people ask for seats, {} at a time",
            args.customers, clients
        ),
    );
    let bar = (!args.json).then(|| progress(args.customers, counters.clone()));
    let opened_at = Timestamp::now();
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let (maps, accounts, next, held_ids, counters) = (
                maps.clone(),
                accounts.clone(),
                next.clone(),
                held_ids.clone(),
                counters.clone(),
            );
            let (customers, map_share, map_path) =
                (args.customers, args.map_share, map_path.clone());
            let (decline_rate, card_rate, silent_rate) =
                (args.decline_rate, args.card_rate, args.silent_rate);
            tokio::spawn(async move {
                let mut all = load::histogram();
                let mut held = load::histogram();
                let mut refused = load::histogram();
                let mut busy = load::histogram();
                let mut person = load::histogram();
                let session = &accounts[worker % accounts.len()];
                loop {
                    if next.fetch_add(1, Ordering::Relaxed) >= customers {
                        break;
                    }
                    let (n, by_map, payment) = {
                        let mut rng = rand::rng();
                        let roll: f64 = rng.random();
                        let payment = if roll < silent_rate {
                            card(CARD_SILENT)
                        } else if roll < silent_rate + decline_rate {
                            card(CARD_DECLINED)
                        } else if rng.random::<f64>() < card_rate {
                            card(CARD_OK)
                        } else {
                            json!({"type": "wallet"})
                        };
                        (
                            rng.random_range(1..=6usize),
                            rng.random::<f64>() < map_share,
                            payment,
                        )
                    };
                    // A person whose seats were taken looks at the map again and picks others,
                    // twice at most, then asks for the best available. One told the box office
                    // is busy waits the time it said and asks again.
                    let asked = Instant::now();
                    let (mut attempt, mut busy_answers) = (0, 0);
                    while attempt < 3 {
                        let chosen = if by_map && attempt < 2 {
                            refresh_if_stale(session, &map_path, &maps[worker], n).await;
                            let map = maps[worker].lock().unwrap_or_else(|e| e.into_inner());
                            map.pick(n, &mut rand::rng())
                        } else {
                            None
                        };
                        let body = match &chosen {
                            Some(ids) => {
                                json!({"show_id": show_id, "seat_ids": ids, "payment": payment})
                            }
                            None => json!({"show_id": show_id, "seats": n, "payment": payment}),
                        };
                        let t = Instant::now();
                        let answer = book(session, &body).await;
                        let us = micros(t.elapsed());
                        match answer {
                            Answer::Busy(after) if busy_answers < MOST_BUSY_ANSWERS => {
                                let _ = busy.record(us);
                                busy_answers += 1;
                                counters.busy.fetch_add(1, Ordering::Relaxed);
                                let jitter = rand::rng().random_range(0..250);
                                tokio::time::sleep(after + Duration::from_millis(jitter)).await;
                                continue;
                            }
                            Answer::Held { id, seats } => {
                                let _ = all.record(us);
                                let _ = held.record(us);
                                counters.held.fetch_add(1, Ordering::Relaxed);
                                counters.seats_held.fetch_add(seats, Ordering::Relaxed);
                                match id {
                                    Some(id) => {
                                        held_ids.lock().unwrap_or_else(|e| e.into_inner()).push(id)
                                    }
                                    None => {
                                        counters.unidentified.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                                if let Some(ids) = &chosen {
                                    let mut map =
                                        maps[worker].lock().unwrap_or_else(|e| e.into_inner());
                                    for id in ids {
                                        map.free.remove(id);
                                    }
                                }
                                break;
                            }
                            Answer::SeatsTaken(taken) => {
                                let _ = all.record(us);
                                let _ = refused.record(us);
                                counters.seats_taken.fetch_add(1, Ordering::Relaxed);
                                let mut map =
                                    maps[worker].lock().unwrap_or_else(|e| e.into_inner());
                                for id in &taken {
                                    map.free.remove(id);
                                }
                            }
                            Answer::SoldOut => {
                                let _ = all.record(us);
                                let _ = refused.record(us);
                                counters.sold_out.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Answer::Busy(_) => {
                                counters.error("told busy 60 times");
                                break;
                            }
                            Answer::Error(what) => {
                                counters.error(&what);
                                break;
                            }
                        }
                        attempt += 1;
                    }
                    let _ = person.record(micros(asked.elapsed()));
                    counters.served.fetch_add(1, Ordering::Relaxed);
                }
                (all, held, refused, busy, person)
            })
        })
        .collect();
    let (mut all, mut held, mut refused, mut busy, mut person) = (
        load::histogram(),
        load::histogram(),
        load::histogram(),
        load::histogram(),
        load::histogram(),
    );
    for w in workers {
        let (a, h, r, b, p) = w.await.context("an on-sale client")?;
        let _ = all.add(a);
        let _ = held.add(h);
        let _ = refused.add(r);
        let _ = busy.add(b);
        let _ = person.add(p);
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    say(args, "waiting for every hold to be paid or to expire");
    let deadline = Instant::now() + Duration::from_secs_f64(args.hold_secs + 60.0);
    loop {
        let pending: BookingsBack = admin
            .get_json(&format!(
                "/api/bookings?show_id={show_id}&status=pending&limit=1"
            ))
            .await?;
        if pending.items.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            // Left for the checks to report: a booking never settled breaks an invariant.
            say(
                args,
                "bookings still pending a minute after their holds' deadline",
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    workload::drain(admin).await?;

    say(args, "reading the show back");
    let end_map: SeatMap = admin.get_json(&map_path).await?;
    let bookings = all_bookings(admin, show_id).await?;
    let sales: Vec<ShowSales> = admin.get_json("/api/reports/shows").await?;
    let wallets: Vec<WalletBack> = try_join_all(
        accounts
            .iter()
            .map(|a| a.get_json::<WalletBack>("/api/wallet")),
    )
    .await?;
    let held_ids = held_ids.lock().unwrap_or_else(|e| e.into_inner()).clone();

    let mut f = OnSaleFigures {
        target: format!("embedded server ({base})"),
        seats,
        customers: args.customers,
        accounts: args.users,
        concurrency: clients,
        placing: args.placing(),
        map_share: args.map_share,
        hold_secs: args.hold_secs,
        seconds: elapsed,
        answers: all.len(),
        answers_per_sec: all.len() as f64 / elapsed.max(1e-9),
        held: counters.held.load(Ordering::Relaxed),
        seats_held: counters.seats_held.load(Ordering::Relaxed),
        seats_taken: counters.seats_taken.load(Ordering::Relaxed),
        sold_out: counters.sold_out.load(Ordering::Relaxed),
        errors: counters.errors.load(Ordering::Relaxed),
        error_kinds: counters
            .error_kinds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
        answer: Latency::of(&all),
        answer_held: Latency::of(&held),
        answer_refused: Latency::of(&refused),
        busy: counters.busy.load(Ordering::Relaxed),
        answer_busy: Latency::of(&busy),
        person: Latency::of(&person),
        sold_out_after_secs: None,
        seats_sold: 0,
        seats_free: 0,
        seats_still_held: 0,
        confirmed: 0,
        cancelled_declined: 0,
        expired: 0,
        expired_seats: 0,
        expired_seats_resold: 0,
        declined_seats_resold: 0,
        confirmed_cents: 0,
        sold_seats_cents: 0,
        read_model_net_cents: 0,
        wallets_spent_cents: 0,
        wallet_bookings_cents: 0,
        invariants: Invariants {
            no_seat_sold_twice: false,
            sold_seats_match_bookings: false,
            every_booking_settled: false,
            money_adds_up: false,
            broken: Vec::new(),
        },
        server: None,
    };
    let end = EndState {
        map: end_map,
        bookings,
        held_ids,
        unidentified: counters.unidentified.load(Ordering::Relaxed) as usize,
        sales,
        wallets,
    };
    check(&mut f, opened_at, show_id, &end);
    Ok(f)
}

/// What the server says once every booking has settled.
struct EndState {
    map: SeatMap,
    bookings: Vec<BookingBack>,
    /// The bookings answered 202, and how many 202s could not be read.
    held_ids: Vec<Uuid>,
    unidentified: usize,
    sales: Vec<ShowSales>,
    wallets: Vec<WalletBack>,
}

/// Reads the end state into `f` and checks the invariants.
fn check(f: &mut OnSaleFigures, opened_at: Timestamp, show_id: Uuid, end: &EndState) {
    let EndState {
        map,
        bookings,
        held_ids,
        unidentified,
        sales,
        wallets,
    } = end;
    let mut broken = Vec::new();
    let status_of = |s: &str| map.seats.iter().filter(|m| m.status == s).count() as u64;
    f.seats_sold = status_of("sold");
    f.seats_free = status_of("free");
    f.seats_still_held = status_of("held");
    let sold_on_map: HashSet<Uuid> = map
        .seats
        .iter()
        .filter(|m| m.status == "sold")
        .map(|m| m.seat_id)
        .collect();
    f.sold_seats_cents = map
        .seats
        .iter()
        .filter(|m| m.status == "sold")
        .map(|m| m.price_cents)
        .sum();

    let confirmed: Vec<&BookingBack> = bookings
        .iter()
        .filter(|b| b.status == "confirmed")
        .collect();
    f.confirmed = confirmed.len() as u64;
    let mut sold_to: HashMap<Uuid, u32> = HashMap::new();
    for b in &confirmed {
        for s in b.booked_seats.iter().filter_map(|s| s.seat_id) {
            *sold_to.entry(s).or_default() += 1;
        }
    }
    let twice = sold_to.values().filter(|&&n| n > 1).count();
    f.invariants.no_seat_sold_twice = twice == 0;
    if twice > 0 {
        broken.push(format!("{twice} seats are in two confirmed bookings"));
    }
    let booked: HashSet<Uuid> = sold_to.keys().copied().collect();
    f.invariants.sold_seats_match_bookings = booked == sold_on_map;
    if booked != sold_on_map {
        broken.push(format!(
            "{} seats sold on the map, {} in confirmed bookings ({} differ)",
            sold_on_map.len(),
            booked.len(),
            booked.symmetric_difference(&sold_on_map).count()
        ));
    }

    let by_id: HashMap<Uuid, &BookingBack> = bookings.iter().map(|b| (b.id, b)).collect();
    let missing = held_ids.iter().filter(|id| !by_id.contains_key(id)).count();
    let unsettled = bookings
        .iter()
        .filter(|b| b.status != "confirmed" && b.status != "cancelled")
        .count();
    f.invariants.every_booking_settled =
        missing == 0 && unsettled == 0 && bookings.len() == held_ids.len() + *unidentified;
    if !f.invariants.every_booking_settled {
        broken.push(format!(
            "{} accepted, {} read back, {missing} missing, {unsettled} not settled",
            held_ids.len() + *unidentified,
            bookings.len()
        ));
    }

    let seats_of = |reason: &str| -> (u64, HashSet<Uuid>) {
        let gone: Vec<&BookingBack> = bookings
            .iter()
            .filter(|b| b.cancel_reason.as_deref() == Some(reason))
            .collect();
        let seats = gone
            .iter()
            .flat_map(|b| b.booked_seats.iter().filter_map(|s| s.seat_id))
            .collect();
        (gone.len() as u64, seats)
    };
    let (expired, expired_seats) = seats_of("payment_timeout");
    let (declined, declined_seats) = seats_of("payment_declined");
    f.expired = expired;
    f.expired_seats = expired_seats.len() as u64;
    f.expired_seats_resold = expired_seats.intersection(&sold_on_map).count() as u64;
    f.cancelled_declined = declined;
    f.declined_seats_resold = declined_seats.intersection(&sold_on_map).count() as u64;

    if f.seats_sold == f.seats {
        f.sold_out_after_secs = confirmed
            .iter()
            .map(|b| b.updated_at)
            .max()
            .map(|last| last.duration_since(opened_at).as_secs_f64());
    }

    f.confirmed_cents = confirmed.iter().map(|b| b.amount_cents).sum();
    f.read_model_net_cents = sales
        .iter()
        .find(|s| s.show_id == show_id)
        .map_or(0, |s| s.revenue_cents - s.refunds_cents);
    f.wallets_spent_cents = wallets
        .iter()
        .map(|w| DEPOSIT_CENTS - w.balance_cents)
        .sum();
    f.wallet_bookings_cents = confirmed
        .iter()
        .filter(|b| b.payment_method == "wallet")
        .map(|b| b.amount_cents)
        .sum();
    f.invariants.money_adds_up = f.confirmed_cents == f.sold_seats_cents
        && f.confirmed_cents == f.read_model_net_cents
        && f.wallets_spent_cents == f.wallet_bookings_cents;
    if !f.invariants.money_adds_up {
        broken.push(format!(
            "confirmed {} ¢, sold seats {} ¢, read model {} ¢; wallets spent {} ¢ for {} ¢ of wallet bookings",
            f.confirmed_cents,
            f.sold_seats_cents,
            f.read_model_net_cents,
            f.wallets_spent_cents,
            f.wallet_bookings_cents
        ));
    }
    f.invariants.broken = broken;
}

/// Reloads a client's map when it no longer shows `n` adjacent free seats, at most once a
/// second (a person reloading the page).
async fn refresh_if_stale(session: &Session, path: &str, map: &Mutex<LocalMap>, n: usize) {
    {
        let m = map.lock().unwrap_or_else(|e| e.into_inner());
        if m.loaded_at.elapsed() < Duration::from_secs(1) || m.pick(n, &mut rand::rng()).is_some() {
            return;
        }
    }
    if let Ok(fresh) = session.get_json::<SeatMap>(path).await {
        *map.lock().unwrap_or_else(|e| e.into_inner()) = LocalMap::of(&fresh);
    }
}

async fn book(session: &Session, body: &serde_json::Value) -> Answer {
    let Ok(r) = session
        .http
        .post(format!("{}/api/bookings", session.base))
        .json(body)
        .send()
        .await
    else {
        return Answer::Error("no answer (connection)".into());
    };
    match r.status() {
        StatusCode::ACCEPTED => match r.json::<BookingBack>().await {
            Ok(b) => Answer::Held {
                id: Some(b.id),
                seats: b.booked_seats.len() as u64,
            },
            Err(_) => Answer::Held { id: None, seats: 0 },
        },
        StatusCode::SERVICE_UNAVAILABLE => {
            let after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .unwrap_or(1);
            let problem: serde_json::Value = r.json().await.unwrap_or_default();
            if problem["type"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/busy")
            {
                Answer::Busy(Duration::from_secs(after))
            } else {
                Answer::Error(format!("503 {}", problem["type"].as_str().unwrap_or("?")))
            }
        }
        StatusCode::CONFLICT => {
            let problem: serde_json::Value = r.json().await.unwrap_or_default();
            let kind = problem["type"].as_str().unwrap_or_default();
            if kind.ends_with("seats-taken") {
                let taken = problem["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["message"].as_str()?.split(' ').next()?.parse().ok())
                    .collect();
                Answer::SeatsTaken(taken)
            } else {
                Answer::SoldOut
            }
        }
        other => Answer::Error(other.to_string()),
    }
}

async fn all_bookings(admin: &Session, show_id: Uuid) -> anyhow::Result<Vec<BookingBack>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/bookings?show_id={show_id}&limit=200");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: BookingsBack = admin.get_json(&path).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    served: AtomicU64,
    /// 202s whose body could not be read: bookings the checks cannot name.
    unidentified: AtomicU64,
    held: AtomicU64,
    seats_held: AtomicU64,
    seats_taken: AtomicU64,
    sold_out: AtomicU64,
    busy: AtomicU64,
    errors: AtomicU64,
    /// What each error was, and how often.
    error_kinds: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Counters {
    fn error(&self, what: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        *self
            .error_kinds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(what.to_owned())
            .or_default() += 1;
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

fn progress(customers: u64, c: Arc<Counters>) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(customers);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} on sale    [{bar:30}] {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let ticker = bar.clone();
    tokio::spawn(async move {
        while !ticker.is_finished() {
            ticker.set_position(c.served.load(Ordering::Relaxed));
            ticker.set_message(format!(
                "{} held ({} seats), {} seats taken, {} sold out, {} errors",
                c.held.load(Ordering::Relaxed),
                c.seats_held.load(Ordering::Relaxed),
                c.seats_taken.load(Ordering::Relaxed),
                c.sold_out.load(Ordering::Relaxed),
                c.errors.load(Ordering::Relaxed),
            ));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_map_picks_only_adjacent_seats_it_believes_free() {
        let ids: Vec<Uuid> = (0..6).map(|_| kernel::new_id()).collect();
        let seat = |i: usize, status: &str| MapSeat {
            seat_id: ids[i],
            section: "S".into(),
            row: if i < 3 { "1".into() } else { "2".into() },
            price_cents: 100,
            status: status.into(),
        };
        let map = SeatMap {
            seats: vec![
                seat(0, "free"),
                seat(1, "sold"),
                seat(2, "free"),
                seat(3, "free"),
                seat(4, "free"),
                seat(5, "held"),
            ],
        };
        let local = LocalMap::of(&map);
        let mut rng = rand::rng();
        for _ in 0..20 {
            assert_eq!(local.pick(2, &mut rng), Some(vec![ids[3], ids[4]]));
        }
        assert_eq!(local.pick(3, &mut rng), None);
    }
}
