//! Tickets and the door in the JSON API (the bookings module): a confirmed booking's tickets with
//! their signed codes, the check-in that admits each once, and who was admitted at a show.

use actix_web::{HttpResponse, web};
use bookings_api::{Admission, CheckIn, CheckInRequest, Ticket};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    auth::{Authenticated, DoorStaff},
    context::RequestContext,
    extract::{Json, Query},
    problem::{ApiError, Problem},
};
use crate::state::AppState;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/bookings/{id}/tickets").route(web::get().to(tickets)))
        .service(web::resource("/api/checkins").route(web::post().to(check_in)))
        .service(web::resource("/api/shows/{id}/admissions").route(web::get().to(admissions)));
}

/// A confirmed booking's tickets (its customer's, or any for admins): one per seat, or per
/// admission, each with the code the server signed (`code` for a QR code, `code_grouped` to
/// read or type).
#[utoipa::path(get, path = "/api/bookings/{id}/tickets", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Ticket>), (status = 404, body = Problem),
              (status = 409, description = "the booking is not paid yet: no tickets", body = Problem),
              (status = 410, description = "the booking was cancelled: its tickets are void", body = Problem)))]
pub(crate) async fn tickets(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.bookings().tickets(&user.actor(), *id).await?))
}

/// Admit a ticket at the door (door staff and admins): 200 with the seat to show the way to.
/// Each ticket admits once; with `show_id`, a ticket of another show is refused.
#[utoipa::path(post, path = "/api/checkins", tag = "bookings", request_body = CheckInRequest,
    responses((status = 200, body = Admission), (status = 403, body = Problem),
              (status = 409, description = "already admitted (and when), another show's ticket, or a booking not paid yet", body = Problem),
              (status = 410, description = "the ticket's booking was cancelled", body = Problem),
              (status = 422, description = "not a ticket code, or one this box office did not sign", body = Problem)))]
pub(crate) async fn check_in(
    state: web::Data<AppState>,
    ctx: RequestContext,
    door: DoorStaff,
    Json(body): Json<CheckInRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = door.actor();
    let input = CheckIn::try_from(body).map_err(ApiError::Validation)?;
    Ok(HttpResponse::Ok().json(
        state
            .modules
            .bookings()
            .check_in(ctx.trace(), &actor, input)
            .await?,
    ))
}

/// How many admissions.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct AdmissionsQuery {
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// The tickets admitted at a show's door, latest first (door staff and admins).
#[utoipa::path(get, path = "/api/shows/{id}/admissions", tag = "bookings", params(("id" = Uuid, Path), AdmissionsQuery),
    responses((status = 200, body = Vec<Admission>), (status = 403, body = Problem),
              (status = 404, description = "the id is not a show's", body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn admissions(
    state: web::Data<AppState>,
    door: DoorStaff,
    id: web::Path<Uuid>,
    Query(q): Query<AdmissionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = match q.limit {
        None => 50,
        Some(n @ 1..=200) => n,
        Some(_) => {
            return Err(ApiError::Validation(kernel::FieldErrors::single(
                "limit",
                "must be between 1 and 200",
            )));
        }
    };
    Ok(HttpResponse::Ok().json(
        state
            .modules
            .bookings()
            .admissions(&door.actor(), *id, limit)
            .await?,
    ))
}
