//! `spawn_app()` and typed request helpers shared by the API tests. Each test gets a new
//! application in the binary's topology (`crate::TOPOLOGY`, see `topology.rs`); requests go to
//! its processes in turn.

use std::{
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    time::Duration,
};

use app::Settings;
use kernel::Timestamp;
pub(crate) use kernel_testkit::eventually;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use users_api::NewUser;

use crate::topology::{self, Handle};

/// A running application and what a test needs to talk to it.
pub(crate) struct TestApp {
    addresses: Vec<String>,
    next: AtomicUsize,
    handle: Handle,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A unique email address for this test process.
pub(crate) fn unique_email(prefix: &str) -> String {
    format!(
        "{prefix}{}-{}@example.com",
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::process::id()
    )
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let running = topology::start(crate::TOPOLOGY, configure).await;
    TestApp {
        addresses: running.addresses,
        next: AtomicUsize::new(0),
        handle: running.handle,
    }
}

/// A client with its own cookie jar: one browser.
pub(crate) fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// `path` on the next process (the only one in the monolith).
    pub(crate) fn url(&self, path: &str) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.addresses.len();
        format!("{}{}", self.addresses[n], path)
    }

    /// `GET path` on every process of the application (one in the monolith), in turn.
    pub(crate) async fn get_on_every_process(&self, path: &str) -> Vec<Response> {
        let mut out = Vec::new();
        for address in &self.addresses {
            out.push(
                client()
                    .get(format!("{address}{path}"))
                    .send()
                    .await
                    .expect("request sent"),
            );
        }
        out
    }

    /// Moves the application's clock forward: deadlines and timers come at once instead of in
    /// real time.
    pub(crate) async fn advance_clock(&self, by: Duration) {
        self.handle.advance_clock(by).await;
    }

    /// The time on the application's clock.
    pub(crate) async fn now(&self) -> Timestamp {
        self.handle.now().await
    }

    pub(crate) async fn get(&self, client: &Client, path: &str) -> Response {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// `GET path`, asserting 200, and its JSON body.
    pub(crate) async fn get_json(&self, client: &Client, path: &str) -> Value {
        assert_status(self.get(client, path).await, StatusCode::OK).await
    }

    pub(crate) async fn post_json(&self, client: &Client, path: &str, body: &Value) -> Response {
        client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub(crate) async fn post_raw(
        &self,
        client: &Client,
        path: &str,
        content_type: &str,
        body: &'static str,
    ) -> Response {
        client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub(crate) async fn patch_json(&self, client: &Client, path: &str, body: &Value) -> Response {
        client
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub(crate) async fn register(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post_json(
            client,
            "/api/users",
            &json!({"email": email, "full_name": "Test Person", "password": password}),
        )
        .await
    }

    pub(crate) async fn log_in(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post_json(
            client,
            "/api/session",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// A new, logged-in customer: their client and their user document.
    pub(crate) async fn customer(&self) -> (Client, Value) {
        let client = client();
        let email = unique_email("customer");
        let user: Value = assert_status(
            self.register(&client, &email, "correct horse").await,
            StatusCode::CREATED,
        )
        .await;
        assert_status(
            self.log_in(&client, &email, "correct horse").await,
            StatusCode::NO_CONTENT,
        )
        .await;
        (client, user)
    }

    /// A new, logged-in admin (created the way `boxoffice users create-admin` does).
    pub(crate) async fn admin(&self) -> (Client, Value) {
        let email = unique_email("admin");
        let user = self
            .handle
            .create_admin(NewUser {
                email: email.clone(),
                full_name: "Test Admin".into(),
                password: "admin password".into(),
                ..NewUser::default()
            })
            .await;
        let client = client();
        assert_status(
            self.log_in(&client, &email, "admin password").await,
            StatusCode::NO_CONTENT,
        )
        .await;
        (client, user)
    }
}

/// Asserts the status and returns the JSON body (or `null` when there is none).
pub(crate) async fn assert_status(response: Response, expected: StatusCode) -> Value {
    let status = response.status();
    let url = response.url().clone();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, expected, "{url}: unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// Asserts a problem document with this status and `type`, and returns it.
pub(crate) async fn assert_problem(response: Response, expected: StatusCode, slug: &str) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = assert_status(response, expected).await;
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["type"], format!("/problems/{slug}"), "{body}");
    assert_eq!(body["status"], expected.as_u16(), "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

/// The fields named in a problem's `errors`.
pub(crate) fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map_or_else(Vec::new, |errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
}

/// The `csrf_token` a page's forms carry.
pub(crate) fn form_token(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form with a CSRF token")
        .to_owned()
}
