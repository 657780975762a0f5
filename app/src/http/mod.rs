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
mod users;

use actix_web::{HttpRequest, ResponseError, error, web};

pub(crate) use auth::{
    Csrf, clear_session_cookie, client_address, csrf, current_user, end_previous_session,
    end_session, resolve_caller, session_cookie, verify_csrf,
};
pub(crate) use bookings::{BookingRequest, PaymentRequest, compose};
pub(crate) use context::{RequestContext, request_context};
pub(crate) use events::EventsQuery;
pub(crate) use extract::{limit_body, parse_query};
pub(crate) use metrics::HttpMetrics;
pub(crate) use openapi::undeclared_method;
pub(crate) use payments::LedgerQuery;
pub(crate) use problem::{ApiError, PROBLEM_TYPES};
pub(crate) use reporting::{FeedParams, read_your_writes};

/// Every API route.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    users::configure(cfg);
    bookings::configure(cfg);
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

/// Replaces actix's empty 405 responses (a path that exists, a method it does not take) with a
/// problem document for the API and the site's error page for pages, keeping the `Allow` header
/// actix computed from the resource's routes.
pub(crate) fn method_not_allowed<B: 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::{dev::ServiceResponse, http::header::ALLOW, middleware::ErrorHandlerResponse};
    let (req, response) = res.into_parts();
    // `HEAD` is served wherever `GET` is (see `undeclared_method`).
    let allow = response.headers().get(ALLOW).and_then(|a| {
        let methods = a.to_str().ok()?;
        let with_head = if methods.split(", ").any(|m| m == "GET") {
            format!("{methods}, HEAD")
        } else {
            methods.to_owned()
        };
        with_head
            .parse::<actix_web::http::header::HeaderValue>()
            .ok()
    });
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let mut response = if is_api(req.path()) {
            ApiError::MethodNotAllowed.error_response()
        } else {
            crate::pages::method_not_allowed(&req).await
        };
        if let Some(allow) = allow {
            response.headers_mut().insert(ALLOW, allow);
        }
        Ok(ServiceResponse::new(req, response).map_into_right_body())
    })))
}

/// True for the addresses a program reads (the API, the internal API, health and metrics), whose
/// errors are problem documents; every other address is a page.
pub(crate) fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/internal/")
        || path == "/health"
        || path == "/metrics"
}

/// Pages never answer a problem document: an error an extractor or a middleware answered as
/// one on a page's address (a malformed id, an unreadable query or form, a body too large)
/// becomes the site's error page with the same status. The API's answers pass unchanged.
pub(crate) fn page_errors<B: 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::{
        dev::ServiceResponse, http::header::CONTENT_TYPE, middleware::ErrorHandlerResponse,
    };
    let problem = res
        .response()
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !problem || is_api(res.request().path()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, response) = res.into_parts();
    let status = response.status();
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let mut page = crate::pages::error_status_page(&req, status).await;
        // What the answer said besides its body (`Retry-After`, `Allow`, a cookie, the
        // correlation id) still holds.
        for (name, value) in response.headers() {
            if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
                page.headers_mut().append(name.clone(), value.clone());
            }
        }
        Ok(ServiceResponse::new(req, page).map_into_right_body())
    })))
}

/// A 404 problem for unknown API paths.
pub(crate) fn api_not_found(req: &HttpRequest) -> actix_web::HttpResponse {
    let _ = req;
    ApiError::NotFound("resource").error_response()
}
