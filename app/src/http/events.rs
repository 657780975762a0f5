//! The event log over HTTP (admins): the merged log, causation chains, the live stream
//! (server-sent events), subscriptions and dead letters.

use std::{sync::Arc, time::Duration};

use actix_web::web::Bytes;
use actix_web::{
    HttpResponse,
    http::header::{CacheControl, CacheDirective, ContentEncoding},
    web,
};
use kernel::{
    DeadLetterOutcome, Envelope, EventCursor, FieldErrors, Resolution, SubscriptionStatus,
};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::{
    auth::Admin,
    extract::Query,
    problem::{ApiError, Problem},
};
use crate::{
    events::{self, CausationChain, LogError, LogFilter},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/events", web::get().to(list))
        .route("/api/events/live", web::get().to(live))
        .route("/api/events/correlations/{id}", web::get().to(chain))
        .route("/api/admin/subscriptions", web::get().to(subscriptions))
        .route("/api/admin/dead-letters", web::get().to(dead_letters))
        .route(
            "/api/admin/dead-letters/{module}/{id}/retry",
            web::post().to(retry),
        )
        .route(
            "/api/admin/dead-letters/{module}/{id}/discard",
            web::post().to(discard),
        );
}

/// Filters of the event log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct EventsQuery {
    /// Only this module's stream (`users`, `bookings` or `payments`; reporting publishes none).
    #[param(pattern = "^(users|bookings|payments)$")]
    stream: Option<String>,
    /// Only this event type, e.g. `BookingPlaced`.
    #[serde(rename = "type")]
    #[param(rename = "type", max_length = 100)]
    event_type: Option<String>,
    /// Only events of this correlation (one request and everything it caused).
    #[param(format = Uuid)]
    correlation_id: Option<String>,
    /// Only events about this aggregate (a user, booking, wallet or payment id).
    #[param(max_length = 100)]
    aggregate_id: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

impl EventsQuery {
    /// The validated filter, cursor and limit.
    pub(crate) fn parse(&self) -> Result<(LogFilter, Option<EventCursor>, u32), ApiError> {
        let mut errors = FieldErrors::new();
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            errors.add("limit", "must be between 1 and 200");
        }
        let correlation_id = match self.correlation_id.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => match Uuid::parse_str(text) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.add("correlation_id", "must be a UUID");
                    None
                }
            },
        };
        let cursor = match self.cursor.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => {
                let parsed = EventCursor::decode(text);
                if parsed.is_none() {
                    errors.add("cursor", "is not a cursor returned by this list");
                }
                parsed
            }
        };
        let clean = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        for (name, value) in [
            ("type", &self.event_type),
            ("aggregate_id", &self.aggregate_id),
            ("stream", &self.stream),
        ] {
            if value.as_deref().is_some_and(|v| v.chars().count() > 100) {
                errors.add(name, "must be at most 100 characters");
            }
        }
        errors.into_result().map_err(ApiError::Validation)?;
        let filter = LogFilter {
            stream: clean(&self.stream),
            event_type: clean(&self.event_type),
            correlation_id,
            aggregate_id: clean(&self.aggregate_id),
        };
        Ok((filter, cursor, limit))
    }
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Storage(e) => e.into(),
            LogError::UnknownStream(s) => ApiError::Validation(FieldErrors::single(
                "stream",
                format!("names no module stream ({s})"),
            )),
        }
    }
}

/// A page of the merged event log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct EventList {
    /// Events, newest first: `{stream, seq, event_id, event_type, event_version, aggregate_id,
    /// payload, correlation_id, causation_id, occurred_at}`.
    #[schema(value_type = Vec<Object>)]
    items: Vec<Arc<Envelope>>,
    next_cursor: Option<String>,
}

/// The event log across every module, newest first.
#[utoipa::path(get, path = "/api/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = EventList), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    Query(q): Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, cursor, limit) = q.parse()?;
    let page = events::page(&state.modules, &filter, cursor, limit).await?;
    Ok(HttpResponse::Ok().json(EventList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// What one correlation caused, across modules, as a tree.
#[utoipa::path(get, path = "/api/events/correlations/{id}", tag = "events", params(("id" = Uuid, Path)),
    responses((status = 200, body = CausationChain), (status = 403, description = "not an admin", body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn chain(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let chain = events::chain(&state.modules, *id).await?;
    if chain.events == 0 {
        return Err(ApiError::NotFound("correlation"));
    }
    Ok(HttpResponse::Ok().json(chain))
}

/// Filters of the live stream.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct LiveQuery {
    /// Only this module's stream.
    #[param(pattern = "^(users|bookings|payments)$")]
    stream: Option<String>,
    /// Only this event type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
}

/// Committed events as they happen, as server-sent events (`event: <type>`, `id: <stream>:<seq>`,
/// `data: <envelope JSON>`). A lagging client gets an `event: lagged` telling how many it missed;
/// the log (`GET /api/events`) has them all.
#[utoipa::path(get, path = "/api/events/live", tag = "events", params(LiveQuery),
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream"),
              (status = 403, body = Problem)))]
pub(crate) async fn live(
    state: web::Data<AppState>,
    _admin: Admin,
    Query(q): Query<LiveQuery>,
) -> HttpResponse {
    let filter = move |e: &Envelope| {
        q.stream.as_deref().is_none_or(|s| s == e.stream)
            && q.event_type.as_deref().is_none_or(|t| t == e.event_type)
    };
    sse_response(&state, filter)
}

/// A server-sent-event stream of the bus, filtered; ends when the server shuts down.
pub(crate) fn sse_response(
    state: &AppState,
    filter: impl Fn(&Envelope) -> bool + 'static,
) -> HttpResponse {
    sse_mapped(state, true, move |e| {
        filter(e).then(|| {
            (
                e.event_type.clone(),
                serde_json::to_string(e).unwrap_or_default(),
            )
        })
    })
}

/// Server-sent events of what `map` makes of each committed event (its name and data), for the
/// events it maps at all: a public stream tells only what the public may know, so it leaves out
/// `positions` (the `id:` line naming the event's stream and sequence).
pub(crate) fn sse_mapped(
    state: &AppState,
    positions: bool,
    map: impl Fn(&Envelope) -> Option<(String, String)> + 'static,
) -> HttpResponse {
    let filter = map;
    let rx = state.modules.bus().subscribe();
    let shutdown = state.shutdown.clone();
    let heartbeat = tokio::time::interval(Duration::from_secs(15));
    let hello = futures_util::stream::once(async {
        Ok::<_, actix_web::Error>(Bytes::from_static(b"retry: 2000\n: connected\n\n"))
    });
    let body = futures_util::stream::unfold(
        (rx, heartbeat, shutdown, filter),
        move |(mut rx, mut heartbeat, shutdown, filter)| async move {
            loop {
                let chunk = tokio::select! {
                    () = shutdown.cancelled() => return None,
                    _ = heartbeat.tick() => Some(Bytes::from_static(b": keep-alive\n\n")),
                    received = rx.recv() => match received {
                        Ok(event) => filter(&event).map(|(name, data)| {
                            Bytes::from(if positions {
                                format!(
                                    "event: {name}\nid: {}:{}\ndata: {data}\n\n",
                                    event.stream, event.seq
                                )
                            } else {
                                format!("event: {name}\ndata: {data}\n\n")
                            })
                        }),
                        Err(RecvError::Lagged(missed)) => {
                            Some(Bytes::from(format!("event: lagged\ndata: {{\"missed\":{missed}}}\n\n")))
                        }
                        Err(RecvError::Closed) => return None,
                    },
                };
                if let Some(chunk) = chunk {
                    return Some((
                        Ok::<_, actix_web::Error>(chunk),
                        (rx, heartbeat, shutdown, filter),
                    ));
                }
            }
        },
    );
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .insert_header(ContentEncoding::Identity)
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::StreamExt::chain(hello, body))
}

/// Every subscription: checkpoint, producer head, lag, retries, parked dead letters, latency.
#[utoipa::path(get, path = "/api/admin/subscriptions", tag = "events",
    responses((status = 200, description = "subscription statuses", body = Vec<Object>), (status = 403, body = Problem)))]
pub(crate) async fn subscriptions(state: web::Data<AppState>, _admin: Admin) -> HttpResponse {
    let all: Vec<SubscriptionStatus> = events::subscriptions(&state.modules).await;
    HttpResponse::Ok().json(all)
}

/// Which dead letters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct DeadLetterQuery {
    /// Include retried and discarded ones.
    all: bool,
}

/// Dead letters (parked events), newest first.
#[utoipa::path(get, path = "/api/admin/dead-letters", tag = "events", params(DeadLetterQuery),
    responses((status = 200, description = "dead letters", body = Vec<Object>), (status = 403, body = Problem)))]
pub(crate) async fn dead_letters(
    state: web::Data<AppState>,
    _admin: Admin,
    Query(q): Query<DeadLetterQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(events::dead_letters(&state.modules, q.all).await?))
}

/// Retries a dead letter: applied exactly once if the handler now succeeds.
#[utoipa::path(post, path = "/api/admin/dead-letters/{module}/{id}/retry", tag = "events",
    params(("module" = String, Path, description = "the consumer module"), ("id" = i64, Path)),
    responses((status = 200, description = "`{outcome: applied}` or `{outcome: still_failing, error}`"),
              (status = 403, description = "not an admin", body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn retry(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    resolve(&state, &admin, &path.0, path.1, Resolution::Retry).await
}

/// Discards a dead letter: resolved without being applied.
#[utoipa::path(post, path = "/api/admin/dead-letters/{module}/{id}/discard", tag = "events",
    params(("module" = String, Path, description = "the consumer module"), ("id" = i64, Path)),
    responses((status = 200, description = "`{outcome: discarded}`"), (status = 403, description = "not an admin", body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn discard(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    resolve(&state, &admin, &path.0, path.1, Resolution::Discard).await
}

async fn resolve(
    state: &AppState,
    admin: &Admin,
    module: &str,
    id: i64,
    action: Resolution,
) -> Result<HttpResponse, ApiError> {
    let actor = format!("admin {}", admin.0.email);
    match events::resolve_dead_letter(&state.modules, module, id, action, &actor).await? {
        DeadLetterOutcome::NotFound => Err(ApiError::NotFound("parked dead letter")),
        outcome => Ok(HttpResponse::Ok().json(outcome)),
    }
}
