//! The event log, causation chains, and subscriptions with their dead letters, for admins.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use kernel::{DeadLetterOutcome, Envelope, Resolution, SubscriptionStatus, Zone};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Layout, PageError, format,
    guard::{AdminForm, AdminUser, CsrfOnly},
    page_for, see_other,
};
use crate::{
    events,
    http::{ApiError, EventsQuery},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/events").route(web::get().to(log_page)));
    cfg.service(web::resource("/admin/events/rows").route(web::get().to(log_rows)));
    cfg.service(web::resource("/admin/events/trace/{id}").route(web::get().to(trace_page)));
    cfg.service(web::resource("/admin/consumers").route(web::get().to(consumers_page)));
    cfg.service(web::resource("/admin/consumers/rows").route(web::get().to(consumer_rows)));
    cfg.service(
        web::resource("/admin/dead-letters/{module}/{id}/{action}").route(web::post().to(resolve)),
    );
}

struct EventRow {
    time: String,
    occurred_at: String,
    stream: String,
    seq: i64,
    event_type: String,
    version: u16,
    event_id: Uuid,
    causation_id: Uuid,
    aggregate_short: String,
    correlation_id: Uuid,
    correlation_short: String,
    payload: String,
}

fn event_row(e: &Envelope, zone: &Zone) -> EventRow {
    let correlation = e.correlation_id.to_string();
    EventRow {
        time: format::instant(e.occurred_at, zone),
        occurred_at: e.occurred_at.to_string(),
        stream: e.stream.clone(),
        seq: e.seq,
        event_type: e.event_type.clone(),
        version: e.event_version,
        event_id: e.event_id,
        causation_id: e.causation_id,
        aggregate_short: e.aggregate_id.chars().take(13).collect(),
        correlation_id: e.correlation_id,
        correlation_short: correlation.chars().take(13).collect(),
        payload: format::pretty_json(e.payload.get()),
    }
}

#[derive(Template)]
#[template(path = "admin_events.html")]
struct LogPage {
    layout: Layout,
    streams: Vec<String>,
    filter_stream: String,
    filter_type: String,
    filter_correlation: String,
    filtered: bool,
    query: String,
    error: Option<String>,
    rows: Vec<EventRow>,
    next_page: Option<String>,
}

#[derive(Template)]
#[template(path = "_event_rows.html")]
struct LogRows {
    rows: Vec<EventRow>,
    next_page: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RawFilter {
    stream: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    correlation_id: Option<String>,
    cursor: Option<String>,
}

async fn rows(
    state: &AppState,
    req: &HttpRequest,
    zone: &Zone,
) -> Result<(Vec<EventRow>, Option<String>), ApiError> {
    let query: EventsQuery = crate::http::parse_query(req.query_string())?;
    let (filter, cursor, limit) = query.parse()?;
    let page = events::page(&state.modules, &filter, cursor, limit).await?;
    let next_page = page.next_cursor.map(|cursor| {
        let raw: RawFilter = crate::http::parse_query(req.query_string()).unwrap_or_default();
        let params = [
            ("stream", raw.stream.unwrap_or_default()),
            ("type", raw.event_type.unwrap_or_default()),
            ("correlation_id", raw.correlation_id.unwrap_or_default()),
            ("cursor", cursor),
        ];
        let kept: Vec<_> = params.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        format!(
            "/admin/events?{}",
            serde_urlencoded::to_string(kept).unwrap_or_default()
        )
    });
    Ok((
        page.items.iter().map(|e| event_row(e, zone)).collect(),
        next_page,
    ))
}

async fn log_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let raw: RawFilter = crate::http::parse_query(req.query_string()).unwrap_or_default();
    let zone = format::zone_of(Some(&admin));
    let (rows, next_page, error, status) = match rows(&state, &req, &zone).await {
        Ok((rows, next)) => (rows, next, None, StatusCode::OK),
        Err(ApiError::Validation(errors)) => (
            Vec::new(),
            None,
            Some(errors.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e.into()),
    };
    let filter_stream = raw.stream.unwrap_or_default();
    let filter_type = raw.event_type.unwrap_or_default();
    let filter_correlation = raw.correlation_id.unwrap_or_default();
    let (layout, page) = page_for(&req, "admin-events", Some(admin));
    Ok(page.render(
        &LogPage {
            layout,
            streams: state
                .modules
                .event_logs()
                .iter()
                .map(|l| l.stream().to_owned())
                .collect(),
            filtered: !(filter_stream.is_empty()
                && filter_type.is_empty()
                && filter_correlation.is_empty()),
            filter_stream,
            filter_type,
            filter_correlation,
            query: req.query_string().to_owned(),
            error,
            rows,
            next_page,
        },
        status,
    ))
}

async fn log_rows(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let (rows, next_page) = rows(&state, &req, &format::zone_of(Some(&admin))).await?;
    let (_, page) = page_for(&req, "", None);
    Ok(page.render(&LogRows { rows, next_page }, StatusCode::OK))
}

struct TraceRow {
    depth: usize,
    cause: Uuid,
    stream: String,
    event_type: String,
    seq: i64,
    time: String,
    payload: String,
}

#[derive(Template)]
#[template(path = "admin_trace.html")]
struct TracePage {
    layout: Layout,
    correlation_id: Uuid,
    rows: Vec<TraceRow>,
}

fn flatten(node: &events::CauseNode, depth: usize, zone: &Zone, out: &mut Vec<TraceRow>) {
    let e = &node.event;
    out.push(TraceRow {
        depth: depth.min(9),
        cause: e.causation_id,
        stream: e.stream.clone(),
        event_type: e.event_type.clone(),
        seq: e.seq,
        time: format::instant(e.occurred_at, zone),
        payload: format::pretty_json(e.payload.get()),
    });
    for child in &node.caused {
        flatten(child, depth + 1, zone, out);
    }
}

async fn trace_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let chain = events::chain(&state.modules, *id)
        .await
        .map_err(ApiError::from)?;
    if chain.events == 0 {
        return Err(ApiError::NotFound("correlation").into());
    }
    let mut rows = Vec::new();
    let zone = format::zone_of(Some(&admin));
    for root in &chain.roots {
        flatten(root, 0, &zone, &mut rows);
    }
    let (layout, page) = page_for(&req, "admin-events", Some(admin));
    Ok(page.render(
        &TracePage {
            layout,
            correlation_id: *id,
            rows,
        },
        StatusCode::OK,
    ))
}

struct SubscriptionRow {
    name: String,
    event_types: String,
    checkpoint: i64,
    head: i64,
    lag: i64,
    handled: u64,
    retried: u64,
    parked: i64,
    latency: String,
    last_error: Option<String>,
}

fn subscription_row(s: SubscriptionStatus) -> SubscriptionRow {
    let latency = if s.propagation.count == 0 {
        "—".to_owned()
    } else {
        format!(
            "{} / {}",
            format::micros(s.propagation.p50_us),
            format::micros(s.propagation.p99_us)
        )
    };
    SubscriptionRow {
        name: s.name,
        event_types: s.event_types.join(", "),
        checkpoint: s.checkpoint,
        head: s.head,
        lag: s.lag,
        handled: s.handled,
        retried: s.retried,
        parked: s.parked,
        latency,
        last_error: s.last_error,
    }
}

struct DeadLetterRow {
    id: i64,
    module: String,
    subscription: String,
    event_type: String,
    seq: i64,
    payload: String,
    error: String,
    attempts: i64,
    parked: String,
    status: String,
    resolved_by: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_consumers.html")]
struct ConsumersPage {
    layout: Layout,
    subscriptions: Vec<SubscriptionRow>,
    dead_letters: Vec<DeadLetterRow>,
    /// Modules that could not answer: their subscriptions and dead letters are not shown.
    down: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "_consumer_rows.html")]
struct ConsumerRows {
    subscriptions: Vec<SubscriptionRow>,
}

async fn consumers_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let subscriptions = events::subscriptions(&state.modules)
        .await
        .into_iter()
        .map(subscription_row)
        .collect();
    let (dead_letters, down) = events::dead_letters_of_those_up(&state.modules, true).await;
    let zone = format::zone_of(Some(&admin));
    let dead_letters = dead_letters
        .into_iter()
        .map(|d| DeadLetterRow {
            id: d.id,
            module: d
                .subscription
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
            subscription: d.subscription,
            event_type: d.envelope.event_type.clone(),
            seq: d.envelope.seq,
            payload: format::pretty_json(d.envelope.payload.get()),
            error: d.error,
            attempts: d.attempts,
            parked: format::instant(d.parked_at, &zone),
            status: d.status,
            resolved_by: d.resolved_by,
        })
        .collect();
    let (layout, page) = page_for(&req, "admin-consumers", Some(admin));
    Ok(page.render(
        &ConsumersPage {
            layout,
            subscriptions,
            dead_letters,
            down,
        },
        StatusCode::OK,
    ))
}

async fn consumer_rows(
    req: HttpRequest,
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, PageError> {
    let subscriptions = events::subscriptions(&state.modules)
        .await
        .into_iter()
        .map(subscription_row)
        .collect();
    let (_, page) = page_for(&req, "", None);
    Ok(page.render(&ConsumerRows { subscriptions }, StatusCode::OK))
}

async fn resolve(
    state: web::Data<AppState>,
    path: web::Path<(String, i64, String)>,
    AdminForm(admin, _): AdminForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (module, id, action) = path.into_inner();
    let action = match action.as_str() {
        "retry" => Resolution::Retry,
        "discard" => Resolution::Discard,
        _ => return Err(ApiError::NotFound("action").into()),
    };
    let actor = format!("admin {}", admin.email);
    let done = match events::resolve_dead_letter(&state.modules, &module, id, action, &actor)
        .await?
    {
        DeadLetterOutcome::Applied => "dead-letter-applied",
        DeadLetterOutcome::StillFailing { .. } => "dead-letter-failing",
        DeadLetterOutcome::Discarded => "dead-letter-discarded",
        DeadLetterOutcome::NotFound => return Err(ApiError::NotFound("parked dead letter").into()),
    };
    Ok(see_other(&format!("/admin/consumers?done={done}")))
}
