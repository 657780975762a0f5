//! The split deployment under faults: one process of the real binary per module and a NATS
//! server of the test's own (so it can be stopped), driven through the public API.
//!
//! Fault rounds, each during a burst of bookings spread over every process: SIGKILL each
//! module's process and restart it; stop NATS for 10 s; stop a consumer's process for 30 s while
//! the producers keep writing. After each round every booking ends confirmed or cancelled with
//! its money matching, no payment is captured twice, seats add up per show, every subscription
//! catches up, and the read model equals what the source modules say. Beside them: a module
//! whose process is down, a stranger's message on a stream, a wrong service token, NATS away at
//! start.
//!
//! Needs `nats-server` (Debian's package, or `BOXOFFICE_NATS_SERVER`); without it these tests
//! say so loudly and end, and with `BOXOFFICE_REQUIRE_NATS=1` (set by `.ci/run`) they fail.

#[path = "../support/faults.rs"]
mod faults;
#[path = "../api/topology.rs"]
mod topology;

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use app::{ModuleName, Settings};
use faults::{
    Customer, all_pages, assert_invariants, assert_read_model_agrees, burst, client, get_json,
    log_in, settled_bookings,
};
use kernel_testkit::eventually;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use topology::Split;
use users_api::{NewUser, Registration};

const ADMIN: (&str, &str) = ("admin@split.test", "admin password");

/// A NATS server of the test's own, on its own port and storage folder.
struct NatsServer {
    binary: PathBuf,
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts one, or ends the test binary loudly when there is no `nats-server` to run.
    async fn start() -> NatsServer {
        let binary = std::env::var_os("BOXOFFICE_NATS_SERVER")
            .map(PathBuf::from)
            .or_else(|| {
                [
                    "/usr/sbin/nats-server",
                    "/usr/bin/nats-server",
                    "/usr/local/bin/nats-server",
                ]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
            });
        let Some(binary) = binary else {
            let required = std::env::var_os("BOXOFFICE_REQUIRE_NATS").is_some_and(|v| v != "0");
            assert!(
                !required,
                "BOXOFFICE_REQUIRE_NATS is set but there is no nats-server to run"
            );
            topology::skip_without_nats();
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = NatsServer {
            binary,
            port,
            store: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.resume().await;
        server
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again), on the same port and storage.
    async fn resume(&mut self) {
        let child = Command::new(&self.binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let port = self.port;
        eventually("NATS to listen", Duration::from_secs(20), || async {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        })
        .await;
    }

    /// Stops the server the way an operator would (SIGTERM), and waits until it is gone.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A split deployment on `nats`, with an admin, three large shows and six customers with money
/// (two with very little, so that some wallets decline).
struct World {
    split: Split,
    admin: Client,
    shows: Vec<Value>,
    customers: Vec<Customer>,
}

fn settings(dir: &std::path::Path) -> Settings {
    let mut s = Settings::for_tests(dir);
    s.bookings.payment_timeout_secs = 30.0;
    s.payments.gateway_late_answer_secs = 120.0;
    // A handler that meets a busy database retries rather than parking.
    s.events.max_attempts = 20;
    s
}

impl World {
    async fn new(nats_url: String) -> World {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        let split = Split::start_on(dir, settings, nats_url).await;
        split
            .create_admin(
                Registration::try_from(NewUser {
                    email: ADMIN.0.into(),
                    full_name: "Admin".into(),
                    password: ADMIN.1.into(),
                    ..NewUser::default()
                })
                .unwrap(),
            )
            .await;
        let base = split.url(ModuleName::Reporting);
        let admin = log_in(&base, ADMIN.0, ADMIN.1).await;
        // Large enough that the rounds book seats to the end instead of selling out.
        let mut shows = Vec::new();
        for capacity in [500, 1_000, 2_000] {
            let body = json!({"title": format!("Show {capacity}"), "venue": "Hall",
                "starts_at": "2099-01-01T20:00:00Z", "capacity": capacity, "price_cents": 700,
                "currency": "EUR"});
            let r = admin
                .post(format!("{base}/api/shows"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            shows.push(r.json::<Value>().await.unwrap());
        }
        let mut customers = Vec::new();
        for i in 0..6 {
            let email = format!("split{i}@example.com");
            let r = client()
                .post(format!("{base}/api/users"))
                .json(&json!({"email": email, "full_name": format!("Split {i}"), "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            let c = log_in(&base, &email, "correct horse").await;
            let deposited = if i < 2 { 1_000 } else { 10_000_000 };
            let r = c
                .post(format!("{base}/api/wallet/deposits"))
                .json(&json!({"amount_cents": deposited}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            customers.push(Customer { email, deposited });
        }
        World {
            split,
            admin,
            shows,
            customers,
        }
    }

    /// Starts bursts from every customer, spread over every process.
    fn start_bursts(&self, answered: &Arc<AtomicU64>, seed: u64) -> Bursts {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = self
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                tokio::spawn(burst(
                    self.split.urls(),
                    c.email.clone(),
                    self.shows.clone(),
                    stop.clone(),
                    answered.clone(),
                    seed * 100 + i as u64,
                ))
            })
            .collect();
        Bursts { stop, tasks }
    }

    /// Lets every deadline pass, then every late answer of the gateway, and checks everything
    /// that must hold; returns how many bookings there are.
    async fn settle_and_check(&self, round: &str) -> usize {
        let base = self.split.url(ModuleName::Users);
        self.split.advance_clock(Duration::from_secs(31)).await;
        eventually(
            &format!("{round}: every deadline to pass"),
            Duration::from_secs(90),
            || async {
                let bookings = all_pages(&self.admin, &format!("{base}/api/bookings")).await;
                bookings
                    .iter()
                    .all(|b| b["status"] != "pending")
                    .then_some(())
            },
        )
        .await;
        self.split.advance_clock(Duration::from_secs(121)).await;
        let bookings = settled_bookings(&self.admin, &base).await;
        assert_invariants(&self.admin, &base, &bookings, &self.shows, &self.customers).await;
        // Every subscription, in every process, has caught up with its producer.
        eventually(
            &format!("{round}: every subscription to catch up"),
            Duration::from_secs(60),
            || async {
                let subs = get_json(&self.admin, format!("{base}/api/admin/subscriptions")).await;
                let subs = subs.as_array().cloned().unwrap_or_default();
                (subs.len() == 6 && subs.iter().all(|s| s["lag"] == 0)).then_some(())
            },
        )
        .await;
        assert_read_model_agrees(&self.admin, &self.split.url(ModuleName::Bookings)).await;
        bookings.len()
    }
}

/// Bursts of bookings running until stopped.
struct Bursts {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Bursts {
    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Waits until `more` further booking requests were answered.
async fn answered_more(answered: &AtomicU64, more: u64) {
    let target = answered.load(Ordering::SeqCst) + more;
    eventually(
        "the bursts to send more bookings",
        Duration::from_secs(90),
        || async { (answered.load(Ordering::SeqCst) >= target).then_some(()) },
    )
    .await;
}

/// What a round does to the deployment.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// SIGKILL the module's process and start it again.
    Kill(ModuleName),
    /// Stop NATS for 10 s.
    NatsDown,
    /// Stop a consumer's process for 30 s while the others keep writing.
    ConsumerDown(ModuleName),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_every_fault_round_every_booking_settles_once_and_the_read_model_agrees() {
    let mut nats = NatsServer::start().await;
    let mut w = World::new(nats.url()).await;
    let mut rounds = Vec::new();
    for _ in 0..3 {
        for module in ModuleName::ALL {
            rounds.push(Fault::Kill(module));
        }
        rounds.push(Fault::NatsDown);
    }
    for module in [
        ModuleName::Payments,
        ModuleName::Reporting,
        ModuleName::Payments,
    ] {
        rounds.push(Fault::ConsumerDown(module));
    }
    let answered = Arc::new(AtomicU64::new(0));
    for (i, fault) in rounds.iter().enumerate() {
        let started = Instant::now();
        let bursts = w.start_bursts(&answered, i as u64);
        // The fault strikes after a different amount of work each round.
        answered_more(&answered, 40 + (i as u64 * 37) % 120).await;
        match *fault {
            Fault::Kill(module) => {
                w.split.kill(module);
                answered_more(&answered, 20).await;
                w.split.restart(module).await;
            }
            Fault::NatsDown => {
                nats.stop();
                tokio::time::sleep(Duration::from_secs(10)).await;
                nats.resume().await;
            }
            Fault::ConsumerDown(module) => {
                w.split.kill(module);
                tokio::time::sleep(Duration::from_secs(30)).await;
                w.split.restart(module).await;
            }
        }
        answered_more(&answered, 30).await;
        bursts.stop().await;
        let bookings = w.settle_and_check(&format!("{fault:?}")).await;
        eprintln!(
            "round {i} {fault:?}: {bookings} bookings in all, settled and checked in {:.1?}",
            started.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_payments_down_the_others_serve_details_are_partial_and_bookings_settle_on_its_return()
{
    let nats = NatsServer::start().await;
    let mut w = World::new(nats.url()).await;
    let base = w.split.url(ModuleName::Bookings);
    let ada = log_in(&base, &w.customers[3].email, "correct horse").await;
    w.split.kill(ModuleName::Payments);

    // Bookings are still taken (by wallet; a card needs payments to tokenize it).
    let mut placed = Vec::new();
    for _ in 0..3 {
        let r = ada
            .post(format!("{base}/api/bookings"))
            .json(&json!({"show_id": w.shows[1]["id"], "seats": 1, "payment": {"type": "wallet"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        placed.push(r.json::<Value>().await.unwrap());
    }
    // The others keep serving; what needs payments says so within its timeout.
    let users_base = w.split.url(ModuleName::Users);
    let started = Instant::now();
    let details = get_json(
        &ada,
        format!(
            "{users_base}/api/bookings/{}/details",
            placed[0]["id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(details["partial"], true, "{details}");
    assert_eq!(details["missing"], json!(["payment"]), "{details}");
    assert_eq!(details["booking"]["status"], "pending");
    let wallet = ada
        .get(format!("{users_base}/api/wallet"))
        .send()
        .await
        .unwrap();
    assert_eq!(wallet.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health = get_json(&client(), format!("{users_base}/health")).await;
    let payments = health["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "payments")
        .unwrap();
    assert_eq!(payments["status"], "unreachable", "{health}");
    assert_eq!(health["status"], "degraded");

    // Back: the commands waiting in bookings' outbox reach it, and the bookings settle.
    w.split.restart(ModuleName::Payments).await;
    for b in &placed {
        let url = format!("{base}/api/bookings/{}", b["id"].as_str().unwrap());
        eventually(
            "the booking to be confirmed",
            Duration::from_secs(30),
            || async {
                let b = get_json(&ada, url.clone()).await;
                (b["status"] == "confirmed").then_some(())
            },
        )
        .await;
    }
    w.settle_and_check("payments down").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_is_not_an_event_is_parked_as_a_dead_letter_and_the_stream_flows_on() {
    let nats = NatsServer::start().await;
    let w = World::new(nats.url()).await;
    let base = w.split.url(ModuleName::Payments);
    let stranger = kernel_nats::Nats::connect(
        kernel_nats::NatsConfig {
            url: nats.url(),
            prefix: w.split.prefix().to_owned(),
            client_name: "a stranger".into(),
        },
        kernel::Clock::system(),
    )
    .await
    .unwrap();
    eventually(
        "the stranger to connect",
        Duration::from_secs(10),
        || async { stranger.is_connected().then_some(()) },
    )
    .await;
    stranger
        .publish_foreign(
            "bookings",
            "BookingTeleported",
            b"{\"not\": \"an envelope\"}",
        )
        .await
        .unwrap();

    // Both consumers of the bookings stream park it, once each.
    let parked = eventually(
        "the message to be parked",
        Duration::from_secs(30),
        || async {
            let letters = get_json(&w.admin, format!("{base}/api/admin/dead-letters")).await;
            let letters = letters.as_array().cloned().unwrap_or_default();
            (letters.len() == 2).then_some(letters)
        },
    )
    .await;
    let mut by: Vec<&str> = parked
        .iter()
        .map(|d| d["subscription"].as_str().unwrap())
        .collect();
    by.sort_unstable();
    assert_eq!(by, ["payments/bookings", "reporting/bookings"]);
    assert!(
        parked
            .iter()
            .all(|d| d["envelope"]["event_type"] == "(unreadable message)"),
        "{parked:?}"
    );
    let health = get_json(&client(), format!("{base}/health")).await;
    let follower = health["deployment"]["nats"]["followers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["stream"] == "bookings")
        .unwrap()
        .clone();
    assert_eq!(follower["foreign_messages"], 1, "{health}");

    // The stream flows on: a booking placed after it is paid and confirmed.
    let ada = log_in(&base, &w.customers[3].email, "correct horse").await;
    let r = ada
        .post(format!("{base}/api/bookings"))
        .json(&json!({"show_id": w.shows[0]["id"], "seats": 1, "payment": {"type": "wallet"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let b: Value = r.json().await.unwrap();
    let url = format!("{base}/api/bookings/{}", b["id"].as_str().unwrap());
    eventually(
        "the booking to be confirmed",
        Duration::from_secs(30),
        || async { (get_json(&ada, url.clone()).await["status"] == "confirmed").then_some(()) },
    )
    .await;
    // Retrying cannot apply it; discarding resolves it.
    let id = parked[0]["id"].as_i64().unwrap();
    let module = parked[0]["subscription"]
        .as_str()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let retried = w
        .admin
        .post(format!("{base}/api/admin/dead-letters/{module}/{id}/retry"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let retried: Value = retried.json().await.unwrap();
    assert_eq!(retried["outcome"], "still_failing", "{retried}");
    let discarded = w
        .admin
        .post(format!(
            "{base}/api/admin/dead-letters/{module}/{id}/discard"
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(discarded.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_internal_api_refuses_a_caller_without_the_service_token() {
    let nats = NatsServer::start().await;
    let w = World::new(nats.url()).await;
    let users = w.split.url(ModuleName::Users);
    for token in [None, Some("not the token at all")] {
        let mut request = client()
            .post(format!("{users}/internal/users/count"))
            .json(&json!(null));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{token:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nats_away_at_start_bookings_wait_in_the_outbox_and_flow_once_it_comes() {
    let mut nats = NatsServer::start().await;
    nats.stop();
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let split = Split::start_on(dir, s, nats.url()).await;
    let base = split.url(ModuleName::Bookings);
    let health = get_json(&client(), format!("{base}/health")).await;
    assert_ne!(
        health["deployment"]["nats"]["status"], "connected",
        "{health}"
    );
    assert_eq!(health["status"], "degraded");

    // Users answers (a call, not an event): an account and a session work without NATS.
    split
        .create_admin(
            Registration::try_from(NewUser {
                email: ADMIN.0.into(),
                full_name: "Admin".into(),
                password: ADMIN.1.into(),
                ..NewUser::default()
            })
            .unwrap(),
        )
        .await;
    let admin = log_in(&base, ADMIN.0, ADMIN.1).await;
    let deposited = admin
        .post(format!("{base}/api/wallet/deposits"))
        .json(&json!({"amount_cents": 10_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(deposited.status(), StatusCode::CREATED);
    let show: Value = admin
        .post(format!("{base}/api/shows"))
        .json(
            &json!({"title": "Dark", "venue": "Hall", "starts_at": "2099-01-01T20:00:00Z",
            "capacity": 5, "price_cents": 700, "currency": "EUR"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = admin
        .post(format!("{base}/api/bookings"))
        .json(&json!({"show_id": show["id"], "seats": 1, "payment": {"type": "wallet"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let booking: Value = r.json().await.unwrap();
    eventually(
        "the relay to say what waits",
        Duration::from_secs(10),
        || async {
            let h = get_json(&client(), format!("{base}/health")).await;
            let relay = h["deployment"]["nats"]["relays"][0].clone();
            (relay["pending"].as_i64().unwrap_or(0) > 0 && relay["error"].is_string()).then_some(())
        },
    )
    .await;

    nats.resume().await;
    let url = format!("{base}/api/bookings/{}", booking["id"].as_str().unwrap());
    eventually(
        "the booking to be confirmed",
        Duration::from_secs(60),
        || async { (get_json(&admin, url.clone()).await["status"] == "confirmed").then_some(()) },
    )
    .await;
    let health = get_json(&client(), format!("{base}/health")).await;
    assert_eq!(
        health["deployment"]["nats"]["status"], "connected",
        "{health}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_deleted_under_a_running_deployment_is_refilled_from_the_outbox_and_nothing_is_lost()
 {
    let nats = NatsServer::start().await;
    let w = World::new(nats.url()).await;
    let answered = Arc::new(AtomicU64::new(0));
    let bursts = w.start_bursts(&answered, 77);
    answered_more(&answered, 40).await;
    // An operator's mistake: the bookings stream is deleted while bookings keep coming.
    let operator = kernel_nats::Nats::connect(
        kernel_nats::NatsConfig {
            url: nats.url(),
            prefix: w.split.prefix().to_owned(),
            client_name: "a careless operator".into(),
        },
        kernel::Clock::system(),
    )
    .await
    .unwrap();
    eventually(
        "the operator to connect",
        Duration::from_secs(10),
        || async { operator.is_connected().then_some(()) },
    )
    .await;
    operator.delete_streams(&["bookings"]).await;
    answered_more(&answered, 40).await;
    bursts.stop().await;
    // The relay found the stream gone, created it again and published the whole outbox; the
    // consumers skipped what they had applied and took the rest, once.
    let bookings = w.split.url(ModuleName::Bookings);
    eventually(
        "the bookings relay to refill the stream",
        Duration::from_secs(60),
        || async {
            let h = get_json(&client(), format!("{bookings}/health")).await;
            let relay = h["deployment"]["nats"]["relays"]
                .as_array()?
                .iter()
                .find(|r| r["stream"] == "bookings")?
                .clone();
            (relay["pending"] == 0 && relay["error"].is_null()).then_some(())
        },
    )
    .await;
    w.settle_and_check("after the stream was deleted").await;
}
