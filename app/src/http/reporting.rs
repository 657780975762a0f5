//! The reporting part of the JSON API: the dashboard, the booking feed, sales per show, customer
//! summaries, show search, and rebuilding the read model. Every read accepts a consistency token
//! (`after=bookings:42` or the `X-Consistency-Token` header) and waits, briefly, for the view to
//! include that event; the `X-Read-Model` header says whether it did.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use kernel::{ConsistencyToken, FieldErrors};
use reporting_api::{
    CustomerSummary, Dashboard, FeedFilter, FeedPage, FeedQuery, RebuildStatus, ShowHit, ShowSales,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    auth::{Admin, Authenticated},
    extract::Query,
    problem::{ApiError, Problem},
};
use crate::state::AppState;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/dashboard", web::get().to(dashboard))
        .route("/api/feed", web::get().to(feed))
        .route("/api/reports/shows", web::get().to(show_sales))
        .route("/api/me/summary", web::get().to(my_summary))
        .route("/api/search/shows", web::get().to(search_shows))
        .route("/api/admin/projections/rebuild", web::post().to(rebuild))
        .route(
            "/api/admin/projections/rebuild",
            web::get().to(rebuild_status),
        );
}

/// How long a read waits for the view to catch up with a consistency token.
pub(crate) const CONSISTENCY_WAIT: Duration = Duration::from_secs(2);

/// The consistency token of a request, from `after=` or `X-Consistency-Token`: none when absent,
/// a field error when it is not one.
fn consistency_token(
    req: &HttpRequest,
    after: Option<&str>,
) -> Result<Option<ConsistencyToken>, ApiError> {
    let text = after
        .or_else(|| {
            req.headers()
                .get("x-consistency-token")
                .and_then(|v| v.to_str().ok())
        })
        .filter(|t| !t.is_empty());
    text.map(|t| {
        ConsistencyToken::parse(t).ok_or_else(|| {
            ApiError::Validation(FieldErrors::single(
                "consistency_token",
                "must look like bookings:42",
            ))
        })
    })
    .transpose()
}

/// Waits for the view to include the request's consistency token (`after`, or the
/// `X-Consistency-Token` header); true when it does, or when there is none.
pub(crate) async fn read_your_writes(
    req: &HttpRequest,
    state: &AppState,
    after: Option<&str>,
) -> Result<bool, ApiError> {
    match consistency_token(req, after)? {
        None => Ok(true),
        Some(t) => Ok(state
            .modules
            .reporting()
            .wait_for(&t, CONSISTENCY_WAIT)
            .await?),
    }
}

fn with_consistency(caught_up: bool) -> HttpResponseBuilder {
    let mut r = HttpResponse::Ok();
    r.insert_header((
        "X-Read-Model",
        if caught_up { "consistent" } else { "stale" },
    ));
    r
}

/// Read-your-writes.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct AfterQuery {
    /// A consistency token (`bookings:42`) returned by a command: wait up to 2 s for the view to
    /// include it.
    #[param(pattern = "^(users|bookings|payments):[0-9]{1,18}$")]
    after: Option<String>,
}

/// The dashboard (admins): counts, money, top shows, bookings per hour, and the view's lag per
/// source stream.
#[utoipa::path(get, path = "/api/dashboard", tag = "reporting", params(AfterQuery),
    responses((status = 200, body = Dashboard), (status = 403, body = Problem)))]
pub(crate) async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    Query(q): Query<AfterQuery>,
) -> Result<HttpResponse, ApiError> {
    let caught_up = read_your_writes(&req, &state, q.after.as_deref()).await?;
    let d = state.modules.reporting().dashboard(&admin.actor()).await?;
    Ok(with_consistency(caught_up).json(d))
}

/// Filters of the feed.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct FeedParams {
    /// `pending`, `confirmed` or `cancelled`.
    #[param(pattern = "^(pending|confirmed|cancelled)$")]
    status: Option<String>,
    /// `captured`, `declined`, `refunded` or `voided`.
    #[param(pattern = "^(captured|declined|refunded|voided)$")]
    payment_status: Option<String>,
    /// Only this show's.
    show_id: Option<Uuid>,
    /// Only this customer's.
    user_id: Option<Uuid>,
    /// Full-text search over show title, customer name and email.
    #[param(max_length = 200)]
    q: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// A consistency token to wait for (`<stream>:<seq>`, from a write's response).
    #[param(pattern = "^(users|bookings|payments):[0-9]{1,18}$")]
    after: Option<String>,
}

impl FeedParams {
    /// The validated filter of these parameters.
    pub(crate) fn filter(&self) -> Result<FeedFilter, ApiError> {
        FeedFilter::try_from(FeedQuery {
            status: self.status.clone(),
            payment_status: self.payment_status.clone(),
            show_id: self.show_id,
            user_id: self.user_id,
            q: self.q.clone(),
            limit: self.limit,
            cursor: self.cursor.clone(),
        })
        .map_err(ApiError::Validation)
    }
}

/// The denormalized booking feed (admins): booking, show, customer and payment in one row,
/// newest first, with filters and full-text search.
#[utoipa::path(get, path = "/api/feed", tag = "reporting", params(FeedParams),
    responses((status = 200, body = FeedPage), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    Query(q): Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let caught_up = read_your_writes(&req, &state, q.after.as_deref()).await?;
    let page = state
        .modules
        .reporting()
        .feed(&admin.actor(), q.filter()?)
        .await?;
    Ok(with_consistency(caught_up).json(page))
}

/// Sales per show (admins): seats sold and held, revenue and refunds.
#[utoipa::path(get, path = "/api/reports/shows", tag = "reporting",
    responses((status = 200, body = Vec<ShowSales>), (status = 403, body = Problem)))]
pub(crate) async fn show_sales(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.reporting().show_sales(&admin.actor()).await?))
}

/// Your bookings, spending and refunds, from the read model.
#[utoipa::path(get, path = "/api/me/summary", tag = "reporting", params(AfterQuery),
    responses((status = 200, body = CustomerSummary), (status = 401, body = Problem)))]
pub(crate) async fn my_summary(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Authenticated,
    Query(q): Query<AfterQuery>,
) -> Result<HttpResponse, ApiError> {
    let caught_up = read_your_writes(&req, &state, q.after.as_deref()).await?;
    let summary = state
        .modules
        .reporting()
        .customer(&user.actor(), user.0.id)
        .await?;
    Ok(with_consistency(caught_up).json(summary))
}

/// Search words.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct SearchQuery {
    /// Words of a show's title or venue.
    #[param(max_length = 200)]
    q: String,
}

/// Shows whose title or venue match (full-text search in the read model): at most 100, soonest
/// first.
#[utoipa::path(get, path = "/api/search/shows", tag = "reporting", params(SearchQuery),
    responses((status = 200, body = Vec<ShowHit>), (status = 422, body = Problem)))]
pub(crate) async fn search_shows(
    state: web::Data<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    if q.q.chars().count() > 200 {
        return Err(ApiError::Validation(kernel::FieldErrors::single(
            "q",
            "must be at most 200 characters",
        )));
    }
    Ok(HttpResponse::Ok().json(state.modules.reporting().search_shows(&q.q).await?))
}

/// Rebuild the read model from every module's event log (admins): 202, then follow the progress
/// with `GET`; 409 while one runs. The application keeps serving the old view meanwhile.
#[utoipa::path(post, path = "/api/admin/projections/rebuild", tag = "reporting",
    responses((status = 202, body = RebuildStatus), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn rebuild(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, ApiError> {
    let status = state
        .modules
        .reporting()
        .start_rebuild(&admin.actor())
        .await?;
    tracing::warn!(admin = %admin.0.email, "read model rebuild started");
    Ok(HttpResponse::Accepted().json(status))
}

/// Where the last rebuild stands.
#[utoipa::path(get, path = "/api/admin/projections/rebuild", tag = "reporting",
    responses((status = 200, body = RebuildStatus), (status = 403, body = Problem)))]
pub(crate) async fn rebuild_status(
    state: web::Data<AppState>,
    _admin: Admin,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.reporting().rebuild_status().await?))
}
