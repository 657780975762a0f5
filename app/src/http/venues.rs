//! Venues in the JSON API (the bookings module): where shows happen, in which time zone, and how
//! they are seated.

use actix_web::{HttpResponse, http::header::LOCATION, web};
use bookings_api::{ChangeVenue, NewVenue, OpenVenue, Venue, VenuePage, VenuePatch};
use kernel::{FieldErrors, PageRequest};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    auth::Admin,
    context::RequestContext,
    extract::{Json, Query},
    problem::{ApiError, Problem},
};
use crate::state::AppState;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/venues")
            .route(web::post().to(open_venue))
            .route(web::get().to(list_venues)),
    )
    .service(
        web::resource("/api/venues/{id}")
            .route(web::get().to(get_venue))
            .route(web::patch().to(change_venue)),
    );
}

/// Open a venue (admins): general admission with a `capacity`, or numbered seats in `sections`
/// (best first), each with its price and rows (front first) of seats (a count, or their labels;
/// `unavailable` names seats that exist but are not sold).
#[utoipa::path(post, path = "/api/venues", tag = "bookings", request_body = NewVenue,
    responses((status = 201, body = Venue), (status = 403, body = Problem),
              (status = 409, description = "another venue has this name", body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn open_venue(
    state: web::Data<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Json(body): Json<NewVenue>,
) -> Result<HttpResponse, ApiError> {
    let input = OpenVenue::try_from(body).map_err(ApiError::Validation)?;
    let venue = state
        .modules
        .bookings()
        .open_venue(ctx.trace(), &admin.actor(), input)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/venues/{}", venue.id)))
        .json(venue))
}

/// Which venues.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct VenuesQuery {
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

/// Venues, oldest first, each with its plan.
#[utoipa::path(get, path = "/api/venues", tag = "bookings", params(VenuesQuery),
    responses((status = 200, body = VenuePage), (status = 422, body = Problem)))]
pub(crate) async fn list_venues(
    state: web::Data<AppState>,
    Query(q): Query<VenuesQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut e = FieldErrors::new();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref(), &mut e);
    e.into_result().map_err(ApiError::Validation)?;
    Ok(HttpResponse::Ok().json(state.modules.bookings().venues(page).await?))
}

/// One venue with its plan.
#[utoipa::path(get, path = "/api/venues/{id}", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = Venue), (status = 404, body = Problem)))]
pub(crate) async fn get_venue(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.bookings().venue(*id).await?))
}

/// Change a venue (admins): its name, time zone, or seating (a `capacity`, or `sections`, which
/// replace the whole plan). Shows already scheduled keep the plan and zone they were scheduled
/// with.
#[utoipa::path(patch, path = "/api/venues/{id}", tag = "bookings", params(("id" = Uuid, Path)), request_body = VenuePatch,
    responses((status = 200, body = Venue), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "another venue has this name", body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn change_venue(
    state: web::Data<AppState>,
    ctx: RequestContext,
    admin: Admin,
    id: web::Path<Uuid>,
    Json(patch): Json<VenuePatch>,
) -> Result<HttpResponse, ApiError> {
    let change = ChangeVenue::try_from(patch).map_err(ApiError::Validation)?;
    Ok(HttpResponse::Ok().json(
        state
            .modules
            .bookings()
            .change_venue(ctx.trace(), &admin.actor(), *id, change)
            .await?,
    ))
}
