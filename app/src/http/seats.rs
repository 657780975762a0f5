//! A show's seats in the JSON API (the bookings module): every seat and where it stands, what a
//! choice of seats costs before paying, and the seats changing as they are held, sold and
//! released (a public stream: seat ids and their status, nothing about who booked).

use actix_web::{HttpResponse, web};
use bookings_api::{
    BookedSeat, BookingCancelled, BookingConfirmed, BookingPlaced, Quote, SeatMap, SeatRequest,
    SeatStatus,
};
use kernel::{Envelope, FieldErrors, Message};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    extract::Query,
    problem::{ApiError, Problem},
};
use crate::state::AppState;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/shows/{id}/seats").route(web::get().to(seats)))
        .service(web::resource("/api/shows/{id}/quote").route(web::get().to(quote)))
        .service(web::resource("/api/shows/{id}/live").route(web::get().to(live)));
}

/// Every seat of a show (plan order: sections best first, rows front first, seats left to
/// right) with its price and status, and each section's price and seats left. A
/// general-admission show has no seats, only `seats_available`.
#[utoipa::path(get, path = "/api/shows/{id}/seats", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = SeatMap), (status = 404, body = Problem)))]
pub(crate) async fn seats(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.bookings().seats(*id).await?))
}

/// A choice of seats, as a query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct QuoteQuery {
    /// A number of seats, 1 to 20: the best available (or admissions). Not with `seat_ids`.
    #[param(minimum = 1, maximum = 20)]
    seats: Option<i64>,
    /// Seat ids, comma-separated (1 to 20, none twice). Not with `seats`.
    #[param(max_length = 800)]
    seat_ids: Option<String>,
}

impl QuoteQuery {
    /// The seats asked for, or every field in error.
    pub(crate) fn request(&self) -> Result<SeatRequest, ApiError> {
        let mut e = FieldErrors::new();
        let ids: Option<Vec<String>> = self.seat_ids.as_deref().map(|s| {
            if s.len() > 800 {
                e.add("seat_ids", "must be at most 800 characters");
            }
            s.split(',').map(str::to_owned).collect()
        });
        if !e.is_empty() {
            return Err(ApiError::Validation(e));
        }
        let request = SeatRequest::of(self.seats, ids.as_deref(), &mut e);
        e.into_result().map_err(ApiError::Validation)?;
        request.ok_or_else(|| ApiError::Validation(FieldErrors::single("seats", "is required")))
    }
}

/// What a choice of seats costs now, before paying: the seats (best available resolved to the
/// seats it would take at this moment; nothing is held) and their total with its currency.
#[utoipa::path(get, path = "/api/shows/{id}/quote", tag = "bookings", params(("id" = Uuid, Path), QuoteQuery),
    responses((status = 200, body = Quote), (status = 404, body = Problem),
              (status = 409, description = "seats taken, not enough left, the show cancelled or started", body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn quote(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Query(q): Query<QuoteQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = q.request()?;
    Ok(HttpResponse::Ok().json(state.modules.bookings().quote(*id, request).await?))
}

/// One change of a show's seats, as the public stream tells it.
#[derive(Serialize)]
struct SeatChange {
    /// `held`, `sold` or `free`.
    status: SeatStatus,
    /// The seats that changed (none for general admission).
    seat_ids: Vec<Uuid>,
    /// How many seats (or admissions) changed.
    count: usize,
}

fn change(status: SeatStatus, seats: &[BookedSeat]) -> (String, String) {
    let change = SeatChange {
        status,
        seat_ids: seats.iter().filter_map(|s| s.seat_id).collect(),
        count: seats.len(),
    };
    (
        "seats".to_owned(),
        serde_json::to_string(&change).unwrap_or_default(),
    )
}

/// What the public may know of a bookings event about `show`: which seats changed, to what.
fn seat_change(show: Uuid, e: &Envelope) -> Option<(String, String)> {
    if e.stream != bookings_api::STREAM {
        return None;
    }
    match e.event_type.as_str() {
        BookingPlaced::TYPE => {
            let placed: BookingPlaced = e.decode().ok()?;
            (placed.show_id == show).then(|| change(SeatStatus::Held, &placed.seats))
        }
        BookingConfirmed::TYPE => {
            let confirmed: BookingConfirmed = e.decode().ok()?;
            (confirmed.show_id == show).then(|| change(SeatStatus::Sold, &confirmed.seats))
        }
        BookingCancelled::TYPE => {
            let cancelled: BookingCancelled = e.decode().ok()?;
            (cancelled.show_id == show).then(|| change(SeatStatus::Free, &cancelled.seats))
        }
        _ => None,
    }
}

/// A show's seats as they are held, sold and released (server-sent events named `seats`, data
/// `{status, seat_ids, count}`), for a seat map that follows without reloading. Nothing about
/// who booked is sent, nor where the event stands in the bookings stream. A client that lagged
/// (an event `lagged`) or reconnected reads `/seats` again.
#[utoipa::path(get, path = "/api/shows/{id}/live", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream"),
              (status = 404, body = Problem)))]
pub(crate) async fn live(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let show = state.modules.bookings().show(*id).await?.id;
    Ok(super::events::sse_mapped(&state, false, move |e| {
        seat_change(show, e)
    }))
}
