//! The bookings part of the JSON API: shows, bookings, sagas, the composed booking details, and
//! the customer's own live stream.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, http::header::LOCATION, web};
use bookings_api::{
    Booking, BookingDraft, BookingFilter, BookingPage, BookingStatus, ChangeShow, NewShow,
    PlaceBooking, Saga, ScheduleShow, Show, ShowFilter, ShowPatch,
};
use kernel::{FieldErrors, PageRequest, Timestamp};
use payments_api::{CardDetails, PaymentSource, PaymentsError};
use serde::{Deserialize, Serialize};
use users_api::Actor;
use uuid::Uuid;

use super::{
    auth::{Admin, Authenticated},
    context::RequestContext,
    extract::{Json, Query},
    payments::PaymentView,
    problem::{ApiError, Problem},
};
use crate::state::AppState;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/shows")
            .route(web::post().to(create_show))
            .route(web::get().to(list_shows)),
    )
    .service(
        web::resource("/api/shows/{id}")
            .route(web::get().to(get_show))
            .route(web::patch().to(update_show)),
    )
    .service(web::resource("/api/shows/{id}/cancel").route(web::post().to(cancel_show)))
    .service(
        web::resource("/api/bookings")
            .route(web::post().to(place))
            .route(web::get().to(list)),
    )
    .service(web::resource("/api/bookings/{id}").route(web::get().to(get)))
    .service(web::resource("/api/bookings/{id}/cancel").route(web::post().to(cancel)))
    .service(web::resource("/api/bookings/{id}/saga").route(web::get().to(saga)))
    .service(web::resource("/api/bookings/{id}/details").route(web::get().to(details)))
    .service(web::resource("/api/me/live").route(web::get().to(my_live)));
}

/// Schedule a show (admins).
#[utoipa::path(post, path = "/api/shows", tag = "bookings", request_body = NewShow,
    responses((status = 201, body = Show), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_show(
    state: web::Data<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Json(body): Json<NewShow>,
) -> Result<HttpResponse, ApiError> {
    let input =
        ScheduleShow::try_from((body, state.modules.now())).map_err(ApiError::Validation)?;
    let show = state
        .modules
        .bookings()
        .create_show(ctx.trace(), &admin.actor(), input)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/shows/{}", show.id)))
        .json(show))
}

/// Which shows.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct ShowsQuery {
    /// Include past and cancelled shows.
    pub(crate) all: bool,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub(crate) limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub(crate) cursor: Option<String>,
    /// Words in the title or venue (the reporting module's full-text search, which follows the
    /// shows a moment behind; its best 100 matches, listed soonest first).
    #[param(max_length = 200)]
    pub(crate) q: Option<String>,
    /// Starting on or after: an RFC 3339 instant, or a day (`2099-03-01`, from its first
    /// moment, UTC).
    #[param(format = DateTime)]
    pub(crate) from: Option<String>,
    /// Starting before an RFC 3339 instant, or on or before a day (`2099-03-31`, to its last
    /// moment, UTC).
    #[param(format = DateTime)]
    pub(crate) until: Option<String>,
    /// Whose venue contains this text (ASCII letters in any case).
    #[param(max_length = 200)]
    pub(crate) venue: Option<String>,
}

/// A day (`2099-03-01`: its first moment in `zone`, or with `end` the first moment of the next
/// day) or an RFC 3339 instant.
fn day_or_instant(raw: &str, end: bool, zone: &kernel::Zone) -> Option<Timestamp> {
    let raw = raw.trim();
    if let Ok(t) = Timestamp::parse_rfc3339(raw) {
        return Some(t);
    }
    let day = time::Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    let day = if end { day.next_day()? } else { day };
    zone.day_start(&day.to_string())
}

impl ShowsQuery {
    /// True when words, dates or a venue narrow the list.
    pub(crate) fn narrows(&self) -> bool {
        [&self.q, &self.from, &self.until, &self.venue]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
    }

    /// The filter the query asks for, or every field in error; a search's words become the
    /// reporting module's matches.
    pub(crate) async fn resolve(&self, state: &AppState) -> Result<ShowFilter, ApiError> {
        self.resolve_in(state, &kernel::Zone::utc()).await
    }

    /// The same, with the days of `from` and `until` read in `zone` (a person's own).
    pub(crate) async fn resolve_in(
        &self,
        state: &AppState,
        zone: &kernel::Zone,
    ) -> Result<ShowFilter, ApiError> {
        let mut e = FieldErrors::new();
        let page = PageRequest::parse(self.limit, self.cursor.as_deref(), &mut e);
        let bounded = |field: &'static str, raw: &Option<String>, e: &mut FieldErrors| {
            let text = raw.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
            if text.chars().count() > 200 {
                e.add(field, "must be at most 200 characters");
                return None;
            }
            Some(text.to_owned())
        };
        let q = bounded("q", &self.q, &mut e);
        let venue = bounded("venue", &self.venue, &mut e);
        let mut day = |field: &'static str, raw: &Option<String>, end: bool| {
            let text = raw.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
            let t = day_or_instant(text, end, zone);
            if t.is_none() {
                e.add(field, "must be a day like 2099-03-01 or an RFC 3339 time");
            }
            t
        };
        let from = day("from", &self.from, false);
        let until = day("until", &self.until, true);
        e.into_result().map_err(ApiError::Validation)?;
        let only = match q {
            Some(q) => Some(
                state
                    .modules
                    .reporting()
                    .search_shows(&q)
                    .await?
                    .into_iter()
                    .map(|hit| hit.show_id)
                    .collect(),
            ),
            None => None,
        };
        Ok(ShowFilter {
            all: self.all,
            limit: page.limit,
            cursor: page.cursor,
            from,
            until,
            venue,
            only,
        })
    }
}

/// Shows soonest first, with the seats still available: searched by words, narrowed by dates
/// and venue.
#[utoipa::path(get, path = "/api/shows", tag = "bookings", params(ShowsQuery),
    responses((status = 200, body = bookings_api::ShowPage), (status = 422, body = Problem)))]
pub(crate) async fn list_shows(
    state: web::Data<AppState>,
    Query(q): Query<ShowsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .modules
        .bookings()
        .shows(q.resolve(&state).await?)
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One show.
#[utoipa::path(get, path = "/api/shows/{id}", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = Show), (status = 404, body = Problem)))]
pub(crate) async fn get_show(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.bookings().show(*id).await?))
}

/// Change a show (admins).
#[utoipa::path(patch, path = "/api/shows/{id}", tag = "bookings", params(("id" = Uuid, Path)), request_body = ShowPatch,
    responses((status = 200, body = Show), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn update_show(
    state: web::Data<AppState>,
    ctx: RequestContext,
    admin: Admin,
    id: web::Path<Uuid>,
    Json(patch): Json<ShowPatch>,
) -> Result<HttpResponse, ApiError> {
    let change =
        ChangeShow::try_from((patch, state.modules.now())).map_err(ApiError::Validation)?;
    Ok(HttpResponse::Ok().json(
        state
            .modules
            .bookings()
            .update_show(ctx.trace(), &admin.actor(), *id, change)
            .await?,
    ))
}

/// Cancel a show (admins): its bookings are cancelled and paid ones refunded.
#[utoipa::path(post, path = "/api/shows/{id}/cancel", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = Show), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn cancel_show(
    state: web::Data<AppState>,
    ctx: RequestContext,
    admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        state
            .modules
            .bookings()
            .cancel_show(ctx.trace(), &admin.actor(), *id)
            .await?,
    ))
}

/// How to pay for a booking.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum PaymentRequest {
    /// From the wallet.
    Wallet,
    /// By card: `{"type":"card","number":"4242 4242 4242 4242","exp_month":12,"exp_year":2030,"cvc":"123"}`.
    Card(CardDetails),
}

/// A booking request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct BookingRequest {
    /// The show.
    #[serde(default)]
    #[schema(required = true, format = Uuid)]
    show_id: String,
    /// A number of seats, 1 to 20: the best available (adjacent where possible, best section
    /// first), or admissions to a general-admission show. Not with `seat_ids`.
    #[serde(default, deserialize_with = "kernel::whole_number")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 20)]
    seats: Option<i64>,
    /// Or these seats (from `GET /api/shows/{id}/seats`), 1 to 20, none twice. Not with `seats`.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, min_items = 1, max_items = 20)]
    seat_ids: Option<Vec<String>>,
    /// `{"type":"wallet"}` or a card.
    #[serde(default)]
    #[schema(required = true, value_type = PaymentRequest)]
    payment: Option<PaymentRequest>,
}

impl BookingRequest {
    /// A request built from a form rather than a JSON body.
    pub(crate) fn new(
        show_id: String,
        seats: Option<i64>,
        seat_ids: Option<Vec<String>>,
        payment: Option<PaymentRequest>,
    ) -> BookingRequest {
        BookingRequest {
            show_id,
            seats,
            seat_ids,
            payment,
        }
    }
}

impl BookingRequest {
    /// The booking command of this request, validated once, every bad field at once: a card
    /// becomes a token here, through the payments module, so bookings never sees its number.
    pub(crate) async fn into_command(
        self,
        state: &AppState,
        idempotency_key: Option<String>,
    ) -> Result<PlaceBooking, ApiError> {
        let payment = match self.payment {
            None => None,
            Some(PaymentRequest::Wallet) => Some(Ok(PaymentSource::Wallet)),
            Some(PaymentRequest::Card(card)) => {
                match state.modules.payments().tokenize_card(&card).await {
                    Ok(token) => Some(Ok(PaymentSource::Card(token))),
                    Err(PaymentsError::Validation(fields)) => Some(Err(fields)),
                    Err(e) => return Err(e.into()),
                }
            }
        };
        PlaceBooking::try_from(BookingDraft {
            show_id: self.show_id,
            seats: self.seats,
            seat_ids: self.seat_ids,
            payment,
            idempotency_key,
        })
        .map_err(ApiError::Validation)
    }
}

/// Book seats. Returns 202: the booking is `pending` until its payment settles. With the same
/// `Idempotency-Key`, the same request returns the same booking (and a different one is 422).
#[utoipa::path(post, path = "/api/bookings", tag = "bookings", request_body = BookingRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$",
        description = "makes retries safe: 1 to 255 visible ASCII characters")),
    responses((status = 202, body = Booking), (status = 401, body = Problem), (status = 404, description = "unknown show", body = Problem),
              (status = 409, description = "seats taken (named), not enough seats, show cancelled or started, or a wallet that cannot pay (another currency, too little money): nothing was held", body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn place(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: Authenticated,
    Json(body): Json<BookingRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = match req.headers().get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::Validation(FieldErrors::single(
                        "Idempotency-Key",
                        "must be visible ASCII",
                    ))
                })?
                .to_owned(),
        ),
    };
    let command = body.into_command(&state, key).await?;
    let placed = state
        .modules
        .bookings()
        .place(ctx.trace(), &user.actor(), command)
        .await?;
    let mut response = HttpResponse::Accepted();
    response.insert_header((LOCATION, format!("/api/bookings/{}", placed.booking.id)));
    if !placed.created {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    if let Some(token) = &placed.token {
        response.insert_header(("X-Consistency-Token", token.to_string()));
    }
    Ok(response.json(placed.booking))
}

/// Filters of a booking list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct BookingsQuery {
    /// `pending`, `confirmed` or `cancelled`.
    #[param(pattern = "^(pending|confirmed|cancelled)$")]
    status: Option<String>,
    /// Only this customer's (admins; customers always see their own).
    #[param(format = Uuid)]
    user_id: Option<String>,
    /// Only this show's.
    #[param(format = Uuid)]
    show_id: Option<String>,
    /// Created at or after (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Created before (RFC 3339); a range that ends before it starts holds nothing.
    #[param(format = DateTime)]
    to: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

impl TryFrom<BookingsQuery> for BookingFilter {
    type Error = ApiError;

    fn try_from(q: BookingsQuery) -> Result<Self, ApiError> {
        let mut e = FieldErrors::new();
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let status = nonempty(q.status).and_then(|s| {
            let parsed = BookingStatus::parse(&s);
            if parsed.is_none() {
                e.add("status", "must be pending, confirmed or cancelled");
            }
            parsed
        });
        let mut uuid = |name: &str, value: Option<String>| {
            nonempty(value).and_then(|v| {
                Uuid::parse_str(&v)
                    .map_err(|_| e.add(name, "must be a UUID"))
                    .ok()
            })
        };
        let user_id = uuid("user_id", q.user_id);
        let show_id = uuid("show_id", q.show_id);
        let mut time = |name: &str, value: Option<String>| {
            nonempty(value).and_then(|v| {
                Timestamp::parse_rfc3339(&v)
                    .map_err(|_| e.add(name, "must be an RFC 3339 date-time"))
                    .ok()
            })
        };
        let from = time("from", q.from);
        let to = time("to", q.to);
        let page = PageRequest::parse(q.limit, q.cursor.as_deref(), &mut e);
        e.into_result().map_err(ApiError::Validation)?;
        Ok(BookingFilter {
            status,
            user_id,
            show_id,
            from,
            to,
            limit: page.limit,
            cursor: page.cursor,
        })
    }
}

/// Bookings, newest first: your own, or everyone's for admins.
#[utoipa::path(get, path = "/api/bookings", tag = "bookings", params(BookingsQuery),
    responses((status = 200, body = BookingPage), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: Authenticated,
    Query(q): Query<BookingsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .modules
        .bookings()
        .bookings(&user.actor(), q.try_into()?)
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One booking (its customer's, or any for admins).
#[utoipa::path(get, path = "/api/bookings/{id}", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = Booking), (status = 404, body = Problem)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.bookings().booking(&user.actor(), *id).await?))
}

/// Cancel a booking; a paid one is refunded by payments.
#[utoipa::path(post, path = "/api/bookings/{id}/cancel", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 202, body = Booking), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn cancel(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Accepted().json(
        state
            .modules
            .bookings()
            .cancel(ctx.trace(), &user.actor(), *id)
            .await?,
    ))
}

/// A booking's saga: state, deadline and timeline.
#[utoipa::path(get, path = "/api/bookings/{id}/saga", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = Saga), (status = 404, body = Problem)))]
pub(crate) async fn saga(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.bookings().saga(&user.actor(), *id).await?))
}

/// The customer as the users module tells it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CustomerPart {
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) full_name: String,
    pub(crate) active: bool,
}

/// A booking with its customer and payment, composed from three modules' APIs.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BookingDetails {
    pub(crate) booking: Booking,
    /// From the users module; null when it could not answer.
    pub(crate) user: Option<CustomerPart>,
    /// From the payments module; null when none was requested yet or it could not answer.
    pub(crate) payment: Option<PaymentView>,
    /// True when a part is missing because its module failed.
    pub(crate) partial: bool,
    /// Which parts are missing (`user`, `payment`).
    pub(crate) missing: Vec<&'static str>,
    /// Why, per missing part.
    pub(crate) errors: std::collections::BTreeMap<&'static str, String>,
}

/// How long each module may take to answer a composed request.
const PART_TIMEOUT: Duration = Duration::from_secs(2);

/// API composition: the booking (required), then the customer and the payment concurrently, each
/// bounded in time; a failing part is reported missing instead of failing the whole.
pub(crate) async fn compose(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<BookingDetails, ApiError> {
    let booking = state.modules.bookings().booking(actor, id).await?;
    Ok(compose_around(state, booking).await)
}

/// A booking already read, with its customer (users module) and its payment (payments module),
/// each asked for at once and missing from the answer when its module does not answer in time.
pub(crate) async fn compose_around(state: &AppState, booking: Booking) -> BookingDetails {
    let id = booking.id;
    let users = state.modules.users();
    let payments = state.modules.payments();
    let (user, payment) = tokio::join!(
        tokio::time::timeout(PART_TIMEOUT, users.find_user(booking.user_id)),
        tokio::time::timeout(PART_TIMEOUT, payments.payment_for_reference(id)),
    );
    let mut details = BookingDetails {
        booking,
        user: None,
        payment: None,
        partial: false,
        missing: Vec::new(),
        errors: Default::default(),
    };
    let missing = |part: &'static str, why: String, d: &mut BookingDetails| {
        d.partial = true;
        d.missing.push(part);
        d.errors.insert(part, why);
    };
    match user {
        Ok(Ok(Some(u))) => {
            details.user = Some(CustomerPart {
                id: u.id,
                email: u.email,
                full_name: u.full_name,
                active: u.active,
            })
        }
        Ok(Ok(None)) => missing(
            "user",
            "the users module does not know this user".into(),
            &mut details,
        ),
        Ok(Err(e)) => missing("user", e.to_string(), &mut details),
        Err(_) => missing(
            "user",
            "the users module did not answer in time".into(),
            &mut details,
        ),
    }
    match payment {
        Ok(Ok(p)) => details.payment = p.map(PaymentView::from),
        Ok(Err(e)) => missing("payment", e.to_string(), &mut details),
        Err(_) => missing(
            "payment",
            "the payments module did not answer in time".into(),
            &mut details,
        ),
    }
    details
}

/// The booking with its customer and payment (API composition). When the users or payments
/// module fails, the rest comes back with `partial: true` and the missing part named.
#[utoipa::path(get, path = "/api/bookings/{id}/details", tag = "bookings", params(("id" = Uuid, Path)),
    responses((status = 200, body = BookingDetails), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub(crate) async fn details(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(compose(&state, &user.actor(), *id).await?))
}

#[derive(Deserialize)]
struct Scoped {
    user_id: Option<Uuid>,
}

/// Your bookings' and payments' events as they happen (server-sent events), so pages update
/// without reloading.
#[utoipa::path(get, path = "/api/me/live", tag = "bookings",
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream"), (status = 401, body = Problem)))]
pub(crate) async fn my_live(state: web::Data<AppState>, user: Authenticated) -> HttpResponse {
    let me = user.0.id;
    super::events::sse_response(&state, move |e| {
        // Events only: the commands bookings sends payments are its own business.
        let command =
            e.is::<payments_api::RequestPayment>() || e.is::<payments_api::CancelPayment>();
        (e.stream == bookings_api::STREAM || e.stream == payments_api::STREAM)
            && !command
            && serde_json::from_str::<Scoped>(e.payload.get()).is_ok_and(|s| s.user_id == Some(me))
    })
}
