//! The OpenAPI document against the server, from outside: schemathesis (PyPI) generates
//! requests from the document (every check on: no 5xx, only documented statuses, media types and
//! headers, response bodies that match their schemas, schema-valid data accepted, invalid data
//! refused, 405 with `Allow` for undeclared methods, authentication not ignored) as an anonymous
//! caller, as a customer and as an admin, each against a fresh server. Zero failures is the bar.
//!
//! And a client generated from the document by openapi-python-client signs up, deposits and
//! books.
//!
//! Without the tools installed (`pip install schemathesis==4.32.5 openapi-python-client==0.29.1`)
//! these tests say so loudly and pass; `BOXOFFICE_REQUIRE_TOOLS=1` (set by `.ci/run`, which
//! installs them) makes that a failure. The rules JSON Schema cannot state are listed, with their reasons, in
//! `tests/contract/schemathesis.toml`.

use std::{io::Write, path::Path, process::Stdio, time::Duration};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, assert_status, client, spawn_app};

/// Examples per operation and phase: enough to reach every rule, bounded for CI.
const MAX_EXAMPLES: &str = "30";
/// A run that takes longer than this is a failure (a run takes about a minute on two cores).
const TIME_LIMIT: Duration = Duration::from_secs(600);

/// Who schemathesis calls the API as.
enum Caller {
    Anonymous,
    Customer,
    Admin,
}

fn schemathesis_installed() -> bool {
    tool_installed(
        "schemathesis",
        "pip install schemathesis==4.32.5; the OpenAPI contract was NOT fuzzed",
    )
}

/// The `Cookie` header of a new session of `email`, from a browser of its own (so that the
/// session of the test's other clients stays valid).
async fn session_cookie(app: &TestApp, email: &str, password: &str) -> String {
    let response = client()
        .post(app.url("/api/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("log in");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    response
        .cookies()
        .find(|c| c.name() == "bo_session")
        .map(|c| format!("bo_session={}", c.value()))
        .expect("a session cookie")
}

async fn fuzz(caller: Caller) {
    if !schemathesis_installed() {
        return;
    }
    let app = spawn_app().await;
    // Something to find: a show on sale (an admin's), so that bookings reach their rules.
    let (admin, admin_user) = app.admin().await;
    assert_status(
        app.post_json(
            &admin,
            "/api/shows",
            &json!({"title": "Fuzzed", "venue": "Hall", "starts_at": "2099-01-01T20:00:00Z",
                    "capacity": 1000, "price_cents": 100, "currency": "EUR"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let (name, cookie) = match caller {
        Caller::Anonymous => ("anonymous", None),
        Caller::Customer => {
            let (_, user) = app.customer().await;
            let email = user["email"].as_str().unwrap().to_owned();
            (
                "customer",
                Some(session_cookie(&app, &email, "correct horse").await),
            )
        }
        Caller::Admin => {
            let email = admin_user["email"].as_str().unwrap().to_owned();
            (
                "admin",
                Some(session_cookie(&app, &email, "admin password").await),
            )
        }
    };
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/contract/schemathesis.toml");
    let work = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new("schemathesis");
    command
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(app.url("/api/openapi.json"))
        .args(["--checks", "all", "--max-examples", MAX_EXAMPLES])
        .args(["--no-color", "--generation-database", "none"])
        // Server-sent event streams never end; fault injection answers 503 on purpose.
        .args(["--exclude-path-regex", "/live$|/availability$"])
        .current_dir(work.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(cookie) = &cookie {
        // Each would end the session the run calls with: a logout, a deactivation (the run can
        // find its own user id), a role taken away, and the test clock moved past the session's
        // expiry.
        command
            .args(["-H", &format!("Cookie: {cookie}")])
            .args(["--exclude-name", "DELETE /api/session"])
            .args(["--exclude-name", "POST /api/users/{id}/deactivate"])
            // An admin giving itself another role (once another admin exists) ends its rights.
            .args(["--exclude-name", "POST /api/users/{id}/role"])
            .args(["--exclude-name", "POST /api/admin/clock"]);
    }
    let run = tokio::time::timeout(TIME_LIMIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ({name}) ran past {TIME_LIMIT:?}"))
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let summary: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" generated, ") || (l.starts_with("===") && l.contains(" in ")))
        .map(|l| l.trim_matches(|c| c == '=' || c == ' '))
        .collect();
    assert!(
        run.status.success() && !summary.is_empty(),
        "schemathesis as {name} found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // A run whose session stopped working would pass while testing little but 401s.
    if let Some(cookie) = &cookie {
        let me = reqwest::Client::new()
            .get(app.url("/api/me"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            me.status(),
            StatusCode::OK,
            "schemathesis as {name} ended its own session:\n{stdout}"
        );
    }
    // Straight to the terminal, past the test harness's capture: CI's log shows the summary.
    let _ = writeln!(
        std::io::stderr(),
        "schemathesis as {name}: {}",
        summary.join(" | ")
    );
}

#[tokio::test]
async fn schemathesis_finds_no_failure_as_an_anonymous_caller() {
    fuzz(Caller::Anonymous).await;
}

#[tokio::test]
async fn schemathesis_finds_no_failure_as_a_customer() {
    fuzz(Caller::Customer).await;
}

#[tokio::test]
async fn schemathesis_finds_no_failure_as_an_admin() {
    fuzz(Caller::Admin).await;
}

/// True when `program --version` runs; otherwise says so loudly (a failure when tools are
/// required).
fn tool_installed(program: &str, install: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("BOXOFFICE_REQUIRE_TOOLS").is_none(),
            "{program} is required here (BOXOFFICE_REQUIRE_TOOLS is set) but not installed"
        );
        eprintln!("\n*** SKIPPED: {program} is not installed ({install}) ***\n");
    }
    found
}

/// A client generated from the document alone, by openapi-python-client (PyPI), signs up, logs
/// in, deposits and books through its generated functions and models
/// (`tests/contract/journey.py`); the booking is then confirmed and paid as the server sees it.
#[tokio::test]
async fn a_client_generated_from_the_document_signs_up_deposits_and_books() {
    if !tool_installed(
        "openapi-python-client",
        "pip install openapi-python-client==0.29.1",
    ) {
        return;
    }
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let show = assert_status(
        app.post_json(
            &admin,
            "/api/shows",
            &json!({"title": "Generated", "venue": "Hall", "starts_at": "2099-01-01T20:00:00Z",
                    "capacity": 100, "price_cents": 1250, "currency": "EUR"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let work = tempfile::tempdir().unwrap();
    let document = app
        .get(&client(), "/api/openapi.json")
        .await
        .text()
        .await
        .unwrap();
    std::fs::write(work.path().join("openapi.json"), document).unwrap();
    let generate = tokio::process::Command::new("openapi-python-client")
        .args(["generate", "--path", "openapi.json", "--meta", "none"])
        .args(["--output-path", "boxoffice_client"])
        .current_dir(work.path())
        .output()
        .await
        .expect("openapi-python-client runs");
    let generated = String::from_utf8_lossy(&generate.stdout).into_owned()
        + &String::from_utf8_lossy(&generate.stderr);
    assert!(generate.status.success(), "generation failed:\n{generated}");
    for model in ["booking_request.py", "new_user.py", "deposit_request.py"] {
        assert!(
            work.path()
                .join("boxoffice_client/models")
                .join(model)
                .exists(),
            "the generated client has no {model}:\n{generated}"
        );
    }
    let journey = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/contract/journey.py");
    let email = crate::helpers::unique_email("generated");
    let run = tokio::process::Command::new("python3")
        .arg(&journey)
        .arg(app.url(""))
        .arg(&email)
        .arg(show["id"].as_str().unwrap())
        .env("PYTHONPATH", work.path())
        .output()
        .await
        .expect("python3 runs");
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "the generated client's journey failed:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // What the client did, as the server sees it.
    let booking_id = out
        .lines()
        .find_map(|l| l.strip_prefix("booking "))
        .expect("the journey names its booking");
    let booking = app
        .get_json(&admin, &format!("/api/bookings/{booking_id}"))
        .await;
    assert_eq!(booking["status"], "confirmed");
    assert_eq!(booking["user_email"], email.as_str());
    assert_eq!(booking["seats"], 2);
    assert_eq!(booking["amount_cents"], 2500);
}
