//! The bench's HTTP side: a logged-in session per account, and the few JSON shapes it reads.

use anyhow::{Context, bail};
use reqwest::{Client, StatusCode};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

/// Sends a request, again after the server's `Retry-After` while it answers 503 busy (a flood
/// of set-up logins and sign-ups past the server's password-hashing queue), a few times at most.
async fn with_retries(
    request: impl Fn() -> reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let mut tries = 0;
    loop {
        let r = request().send().await?;
        tries += 1;
        if r.status() != StatusCode::SERVICE_UNAVAILABLE || tries >= 20 {
            return Ok(r);
        }
        let wait = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<f64>().ok())
            .unwrap_or(1.0)
            .clamp(0.05, 5.0);
        tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
    }
}

/// What each bench customer's wallet is funded with.
pub(super) const DEPOSIT_CENTS: i64 = 100_000_000;

/// One logged-in account (its own cookie jar and connections).
#[derive(Clone)]
pub(super) struct Session {
    pub(super) http: Client,
    pub(super) base: String,
    /// Known when the bench registered the account itself.
    pub(super) user_id: Option<Uuid>,
}

impl Session {
    /// Logs `email` in on `base`.
    pub(super) async fn log_in(base: &str, email: &str, password: &str) -> anyhow::Result<Session> {
        let http = Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(64)
            .build()?;
        let body = json!({ "email": email, "password": password });
        let r = with_retries(|| http.post(format!("{base}/api/session")).json(&body))
            .await
            .with_context(|| format!("logging in to {base}"))?;
        if r.status() != StatusCode::NO_CONTENT {
            bail!(
                "logging in as {email}: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
        }
        Ok(Session {
            http,
            base: base.to_owned(),
            user_id: None,
        })
    }

    /// Registers a customer, logs them in and funds their wallet.
    pub(super) async fn customer(base: &str, email: &str, password: &str) -> anyhow::Result<Self> {
        let anonymous = Client::new();
        let body = json!({ "email": email, "full_name": "Bench Customer", "password": password });
        let r = with_retries(|| anonymous.post(format!("{base}/api/users")).json(&body)).await?;
        if r.status() != StatusCode::CREATED {
            bail!(
                "registering {email}: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
        }
        let registered: IdOnly = r.json().await?;
        let mut session = Session::log_in(base, email, password).await?;
        session.user_id = Some(registered.id);
        let r = session
            .http
            .post(format!("{base}/api/wallet/deposits"))
            .json(&json!({ "amount_cents": DEPOSIT_CENTS }))
            .send()
            .await?;
        if r.status() != StatusCode::CREATED {
            bail!("funding {email}'s wallet: {}", r.status());
        }
        Ok(session)
    }

    /// The server's count of SQLite queries from `/metrics`, when it keeps one
    /// (`--count-queries`).
    pub(super) async fn queries_counted(&self) -> anyhow::Result<Option<u64>> {
        let r = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await?;
        if r.status() != StatusCode::OK {
            bail!("GET /metrics: {}", r.status());
        }
        let text = r.text().await?;
        Ok(text
            .lines()
            .find_map(|l| l.strip_prefix("boxoffice_sqlite_queries_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|v| v as u64))
    }

    /// `GET path` as JSON, failing on any status but 200.
    pub(super) async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
    ) -> anyhow::Result<T> {
        let r = self.http.get(format!("{}{path}", self.base)).send().await?;
        if r.status() != StatusCode::OK {
            bail!("GET {path}: {}", r.status());
        }
        Ok(r.json().await?)
    }

    /// `POST path` with `body`, which must answer 201; answers the new resource's id. `what`
    /// names the request in errors.
    async fn create(
        &self,
        what: &str,
        path: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<Uuid> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await?;
        if r.status() != StatusCode::CREATED {
            bail!(
                "{what}: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
        }
        Ok(r.json::<IdOnly>().await?.id)
    }

    /// Creates a general-admission show thirty days from now, returning its id (admins).
    pub(super) async fn create_show(
        &self,
        title: &str,
        capacity: i64,
        currency: &str,
    ) -> anyhow::Result<Uuid> {
        let body = json!({
            "title": title, "venue": "Bench Hall", "starts_at": in_thirty_days(),
            "capacity": capacity, "price_cents": 1_500, "currency": currency,
        });
        self.create("creating a show", "/api/shows", body).await
    }

    /// Opens a venue with the generated plan of `seats` seats; answers its id (admins).
    pub(super) async fn open_venue(&self, name: &str, seats: usize) -> anyhow::Result<Uuid> {
        let body = json!({"name": name, "time_zone": "Europe/Paris", "sections": plan(seats)});
        self.create("opening a venue", "/api/venues", body).await
    }

    /// Schedules a show at `venue` thirty days from now; answers its id (admins).
    pub(super) async fn seated_show(
        &self,
        title: &str,
        venue: Uuid,
        currency: &str,
    ) -> anyhow::Result<Uuid> {
        let body = json!({"title": title, "venue_id": venue, "starts_at": in_thirty_days(),
                          "currency": currency});
        self.create("scheduling a show", "/api/shows", body).await
    }
}

/// Thirty days from now, as the API takes it.
fn in_thirty_days() -> String {
    kernel::Timestamp::now()
        .plus(std::time::Duration::from_secs(30 * 86_400))
        .to_string()
}

/// Any resource's id.
#[derive(Debug, Deserialize)]
pub(super) struct IdOnly {
    pub(super) id: Uuid,
}

/// What the bench reads of `/health`.
#[derive(Debug, Deserialize)]
pub(super) struct Health {
    #[serde(default)]
    pub(super) process: Option<crate::ProcessStats>,
}

/// What the bench reads of a subscription's status.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct SubscriptionStatus {
    pub(super) name: String,
    pub(super) consumer: String,
    pub(super) lag: i64,
    pub(super) lag_ms: i64,
    pub(super) handled: u64,
    pub(super) propagation: Propagation,
}

/// Append-to-handled latency of one subscription, microseconds.
#[derive(Clone, Copy, Debug, Deserialize)]
pub(super) struct Propagation {
    pub(super) count: u64,
    pub(super) p50_us: u64,
    pub(super) p99_us: u64,
    pub(super) max_us: u64,
}

/// A booking as listed.
#[derive(Debug, Deserialize)]
pub(super) struct BookingRow {
    pub(super) user_id: Uuid,
    pub(super) status: String,
    pub(super) created_at: kernel::Timestamp,
    pub(super) updated_at: kernel::Timestamp,
}

/// A page of bookings.
#[derive(Debug, Deserialize)]
pub(super) struct BookingPage {
    pub(super) items: Vec<BookingRow>,
    pub(super) next_cursor: Option<String>,
}

/// Sum of `head - checkpoint` over every subscription: events committed but not yet handled.
pub(super) fn backlog(statuses: &[SubscriptionStatus]) -> i64 {
    statuses.iter().map(|s| s.lag.max(0)).sum()
}

/// Seats per row of the generated plan.
const ROW_SEATS: usize = 50;
/// The sections of the generated plan, best first: name, price in cents, share of the seats.
const SECTIONS: [(&str, i64, f64); 4] = [
    ("Stalls", 6_000, 0.4),
    ("Circle", 4_500, 0.3),
    ("Balcony", 3_000, 0.2),
    ("Gallery", 1_500, 0.1),
];

/// The seating plan of `seats` seats: four sections, rows of up to fifty.
fn plan(seats: usize) -> serde_json::Value {
    let mut left = seats;
    let sections: Vec<serde_json::Value> = SECTIONS
        .iter()
        .enumerate()
        .filter_map(|(i, (name, price, share))| {
            let mut n = if i + 1 == SECTIONS.len() {
                left
            } else {
                ((seats as f64 * share).round() as usize).min(left)
            };
            left -= n;
            let mut rows = Vec::new();
            while n > 0 {
                let in_row = n.min(ROW_SEATS);
                rows.push(json!({"label": (rows.len() + 1).to_string(), "seats": in_row}));
                n -= in_row;
            }
            (!rows.is_empty()).then(|| json!({"name": name, "price_cents": price, "rows": rows}))
        })
        .collect();
    serde_json::Value::Array(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_plan_has_exactly_the_seats_asked_for_in_rows_of_fifty_at_most() {
        for seats in [1, 49, 50, 5_000, 5_001] {
            let plan = plan(seats);
            let mut total = 0;
            for section in plan.as_array().unwrap() {
                for row in section["rows"].as_array().unwrap() {
                    let n = row["seats"].as_u64().unwrap() as usize;
                    assert!((1..=ROW_SEATS).contains(&n), "{row}");
                    total += n;
                }
            }
            assert_eq!(total, seats, "{plan}");
        }
    }
}
