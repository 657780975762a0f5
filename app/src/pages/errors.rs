//! The error handlers that keep pages answering pages: actix's bare 405s and the problem
//! documents extractors and middleware answer on a page's address become the site's error page
//! (the API's answers pass unchanged).

use actix_web::ResponseError;

use crate::http::{self, ApiError};

/// Replaces actix's empty 405 responses (a path that exists, a method it does not take) with a
/// problem document for the API and the site's error page for pages, keeping the `Allow` header
/// actix computed from the resource's routes.
pub(crate) fn answer_405<B: 'static>(
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
        let mut response = if http::is_api(req.path()) {
            ApiError::MethodNotAllowed.error_response()
        } else {
            super::method_not_allowed(&req).await
        };
        if let Some(allow) = allow {
            response.headers_mut().insert(ALLOW, allow);
        }
        Ok(ServiceResponse::new(req, response).map_into_right_body())
    })))
}

/// Pages never answer a problem document: an error an extractor or a middleware answered as
/// one on a page's address (a malformed id, an unreadable query or form, a body too large)
/// becomes the site's error page with the same status, and an error page a handler rendered
/// without knowing who asks is rendered again with the signed-in user's header (a 404 as the
/// site's one 404 page). The API's answers pass unchanged.
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
    let shown = res.response().extensions().get::<super::Shown>().cloned();
    if (!problem && shown.is_none()) || http::is_api(res.request().path()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, response) = res.into_parts();
    let status = response.status();
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let mut page = super::error_status_page(&req, status, shown).await;
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
