//! The JSON API: one file per module with its own `configure`, composed here, plus the
//! cross-cutting pieces (request context, authentication, extractors, problem mapping).

mod auth;
mod bookings;
mod context;
mod events;
mod extract;
mod health;
mod internal;
mod metrics;
mod openapi;
mod payments;
mod problem;
mod reporting;
mod seats;
mod tickets;
mod users;
mod venues;

use actix_web::{HttpRequest, ResponseError, error, web};

pub(crate) use auth::{
    Csrf, clear_session_cookie, client_address, csrf, current_user, end_previous_session,
    end_session, resolve_caller, session_cookie, verify_csrf,
};
pub(crate) use bookings::{BookingRequest, PaymentRequest, ShowsQuery, compose_around};
pub(crate) use context::{RequestContext, request_context};
pub(crate) use events::EventsQuery;
pub(crate) use extract::{limit_body, parse_query};
pub(crate) use metrics::HttpMetrics;
pub(crate) use openapi::undeclared_method;
pub(crate) use payments::LedgerQuery;
pub(crate) use problem::{ApiError, PROBLEM_TYPES, wallet_shortfall};
pub(crate) use reporting::{FeedParams, read_your_writes};

/// Every API route.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    users::configure(cfg);
    venues::configure(cfg);
    bookings::configure(cfg);
    seats::configure(cfg);
    tickets::configure(cfg);
    payments::configure(cfg);
    reporting::configure(cfg);
    events::configure(cfg);
    health::configure(cfg);
    internal::configure(cfg);
    openapi::configure(cfg);
}

/// Problem documents instead of plain-text errors from actix's own extractors.
pub(crate) fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(|_, _| not_found_error("resource")))
        .app_data(web::PayloadConfig::new(extract::MAX_BODY))
        .app_data(
            web::FormConfig::default()
                .limit(extract::MAX_BODY)
                .error_handler(|e, _| match e {
                    error::UrlencodedError::Overflow { .. } => ApiError::PayloadTooLarge.into(),
                    e => ApiError::BadRequest(format!("the form could not be read: {e}")).into(),
                }),
        )
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::BadRequest(format!("the query string could not be read: {e}")).into()
        }));
}

fn not_found_error(what: &'static str) -> error::Error {
    ApiError::NotFound(what).into()
}

/// True for the addresses a program reads (the API, the internal API, health and metrics), whose
/// errors are problem documents; every other address is a page.
pub(crate) fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/internal/")
        || path == "/health"
        || path == "/metrics"
}

/// A 404 problem for unknown API paths.
pub(crate) fn api_not_found(req: &HttpRequest) -> actix_web::HttpResponse {
    let _ = req;
    ApiError::NotFound("resource").error_response()
}
